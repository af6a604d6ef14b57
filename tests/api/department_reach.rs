//! Departments to the last relation: a department outside the caller's reach is named where a
//! readable record refers to it, nothing more (README, `domain::reads::scope::Seen`). The walk is
//! generated from the served schema: every object type reachable from the root, every relation
//! of each, and every department met on the way expanded through its parent, children and
//! ancestors to a bounded depth; for every role of every department of the demo, each
//! department object in each answer is either within the caller's reach or shows its id and
//! name only.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};

use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser, spawn_app};
use crate::sweep::{INTROSPECT, named, required};

/// The fields an out-of-reach department may show with a value.
const NAMED: [&str; 3] = ["__typename", "id", "name"];

/// How many relations below the root the walk reaches types by (the path to a type).
const PATH_DEPTH: usize = 4;

/// The schema's object types, each with its fields, and the root's fields.
struct Schema {
    types: HashMap<String, Vec<Value>>,
    root: String,
}

fn name(field: &Value) -> &str {
    field["name"].as_str().unwrap_or("")
}

/// How big the generated documents are: the page size of every list, and how many
/// department relations below a department are followed.
#[derive(Clone, Copy, Debug)]
struct Size {
    first: usize,
    departments: usize,
}

impl Schema {
    async fn load(app: &TestApp) -> Schema {
        let data = app.data(&TestUser::admin(), INTROSPECT, json!({})).await;
        let root = data["__schema"]["queryType"]["name"]
            .as_str()
            .unwrap()
            .to_owned();
        let types = data["__schema"]["types"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|t| t["kind"] == "OBJECT")
            .map(|t| {
                (
                    t["name"].as_str().unwrap().to_owned(),
                    t["fields"].as_array().cloned().unwrap_or_default(),
                )
            })
            .collect();
        Schema { types, root }
    }

    /// The fields of `ty` a document can ask for without inventing arguments.
    fn fields(&self, ty: &str) -> Vec<&Value> {
        self.types
            .get(ty)
            .map(|fs| {
                fs.iter()
                    .filter(|f| !name(f).starts_with("__"))
                    .filter(|f| f["args"].as_array().unwrap().iter().all(|a| !required(a)))
                    .collect()
            })
            .unwrap_or_default()
    }

    fn relations(&self, ty: &str) -> Vec<(&str, &str, bool)> {
        self.fields(ty)
            .into_iter()
            .filter(|f| named(&f["type"]).0 == "OBJECT")
            .map(|f| {
                let pages = f["args"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|a| a["name"] == "first");
                (name(f), named(&f["type"]).1, pages)
            })
            .collect()
    }

    fn scalars(&self, ty: &str) -> Vec<&str> {
        self.fields(ty)
            .into_iter()
            .filter(|f| named(&f["type"]).0 != "OBJECT")
            .map(name)
            .collect()
    }

    /// The node type of a connection, when `ty` is one.
    fn node_of(&self, ty: &str) -> Option<&str> {
        let edges = self.fields(ty).into_iter().find(|f| name(f) == "edges")?;
        let node = self
            .fields(named(&edges["type"]).1)
            .into_iter()
            .find(|f| name(f) == "node")?;
        Some(named(&node["type"]).1)
    }

    /// A field as asked for: with a page size where it pages.
    fn call(field: &str, pages: bool, size: Size) -> String {
        if pages {
            format!("{field}(first: {})", size.first)
        } else {
            field.to_owned()
        }
    }

    /// The selection of `ty`: `__typename`, its scalars, its relations `depth` levels down
    /// (records beyond that by `__typename` and `id`), and every department met expanded
    /// through its parent, children and ancestors `size.departments` levels down, whatever
    /// `depth` is left.
    fn selection(&self, ty: &str, depth: usize, size: Size) -> String {
        if let Some(node) = self.node_of(ty) {
            return format!(
                "edges {{ node {{ {} }} }}",
                self.selection(node, depth, size)
            );
        }
        let mut parts = vec!["__typename".to_owned()];
        parts.extend(self.scalars(ty).into_iter().map(str::to_owned));
        for (field, target, pages) in self.relations(ty) {
            let call = Self::call(field, pages, size);
            let node = self.node_of(target).unwrap_or(target);
            let inner = if node == "Department" && size.departments > 0 {
                let below = match ty {
                    "Department" => size.departments - 1,
                    _ => size.departments,
                };
                self.selection(
                    target,
                    0,
                    Size {
                        departments: below,
                        ..size
                    },
                )
            } else if depth > 0 {
                self.selection(target, depth - 1, size)
            } else {
                let leaf = match self.scalars(node).contains(&"id") {
                    true => "__typename id",
                    false => "__typename",
                };
                match self.node_of(target) {
                    Some(_) => format!("edges {{ node {{ {leaf} }} }}"),
                    None => leaf.to_owned(),
                }
            };
            parts.push(format!("{call} {{ {inner} }}"));
        }
        parts.join(" ")
    }

    /// A department's relations to departments followed `depth` levels down, each department
    /// by the fields that would tell most if shown.
    fn chain(depth: usize) -> String {
        let fields = "__typename id name code principalLeader";
        if depth == 0 {
            return fields.to_owned();
        }
        let below = Self::chain(depth - 1);
        format!("{fields} parent {{ {below} }} children {{ {below} }} ancestors {{ {below} }}")
    }

    /// Every object type reached from the root's argument-free fields, with the shortest
    /// path of (field, pages) to it.
    fn paths(&self) -> BTreeMap<String, Vec<(String, bool)>> {
        let mut found: BTreeMap<String, Vec<(String, bool)>> = BTreeMap::new();
        let mut queue = VecDeque::from([(self.root.clone(), Vec::new())]);
        while let Some((ty, path)) = queue.pop_front() {
            let ty = self.node_of(&ty).map(str::to_owned).unwrap_or(ty);
            if found.contains_key(&ty) {
                continue;
            }
            found.insert(ty.clone(), path.clone());
            if path.len() >= PATH_DEPTH {
                continue;
            }
            for (field, target, pages) in self.relations(&ty) {
                let mut next = path.clone();
                next.push((field.to_owned(), pages));
                queue.push_back((target.to_owned(), next));
            }
        }
        found.remove(&self.root);
        found
    }

    /// One document per relation of every reached type: the path to the type (its scalars
    /// asked at every step), then the relation's record with its scalars and its departments
    /// expanded; and, where the relation is to departments, their chain of relations.
    fn documents(&self, size: Size) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let paths = self.paths();
        let mut start = vec![(self.root.clone(), Vec::new())];
        start.extend(paths.iter().map(|(ty, path)| (ty.clone(), path.clone())));
        for (ty, path) in start {
            for (field, target, pages) in self.relations(&ty) {
                let call = Self::call(field, pages, size);
                let inner = format!(
                    "__typename {field}: {call} {{ {} }}",
                    self.selection(target, 0, size)
                );
                out.push((format!("{ty}.{field}"), self.wrap(&path, inner, size)));
                // Departments at every depth: the chain of their relations from here.
                if self.node_of(target).unwrap_or(target) == "Department" {
                    let chain = Self::chain(size.departments + 1);
                    let chain = match self.node_of(target) {
                        Some(_) => format!("edges {{ node {{ {chain} }} }}"),
                        None => chain,
                    };
                    let inner = format!("__typename {field}: {call} {{ {chain} }}");
                    out.push((format!("{ty}.{field} chain"), self.wrap(&path, inner, size)));
                }
            }
        }
        out
    }

    /// `inner` asked at the end of `path` from the root, each step's scalars asked too.
    fn wrap(&self, path: &[(String, bool)], inner: String, size: Size) -> String {
        // The types along the path, to ask for their scalars.
        let mut types = vec![self.root.clone()];
        for (field, _) in path {
            let here = types.last().unwrap().clone();
            let target = self
                .relations(&here)
                .into_iter()
                .find(|(f, _, _)| f == field)
                .map(|(_, t, _)| self.node_of(t).unwrap_or(t).to_owned())
                .unwrap();
            types.push(target);
        }
        let mut doc = inner;
        for (i, (field, pages)) in path.iter().enumerate().rev() {
            let here = &types[i + 1];
            let scalars = self.scalars(here).join(" ");
            let target = self
                .relations(&types[i])
                .into_iter()
                .find(|(f, _, _)| f == field)
                .map(|(_, t, _)| t)
                .unwrap();
            let body = format!("__typename {scalars} {doc}");
            let body = match self.node_of(target) {
                Some(_) => format!("edges {{ node {{ {body} }} }}"),
                None => body,
            };
            doc = format!("{} {{ {body} }}", Self::call(field, *pages, size));
        }
        format!("{{ {doc} }}")
    }
}

/// A caller of the walk, with the ids of the departments within its reach.
struct Who {
    label: String,
    token: String,
    reach: HashSet<String>,
}

async fn column(app: &TestApp, sql: &str) -> Vec<(String, String)> {
    let rows = app.rows(sql).await;
    rows.iter()
        .map(|r| {
            let id: i32 = r.try_get_by_index(0).expect("an id");
            let text: String = r.try_get_by_index(1).expect("a text");
            (id.to_string(), text)
        })
        .collect()
}

/// Every role the demo's tokens take, with each department for the roles that have one; the
/// reach from the tables (a department and everything below it), not through the server.
async fn callers(app: &TestApp) -> Vec<Who> {
    let departments = column(app, "SELECT id, path FROM department ORDER BY id").await;
    let codes = column(app, "SELECT id, code FROM department ORDER BY id").await;
    let all: HashSet<String> = departments.iter().map(|(id, _)| id.clone()).collect();
    let mut out = vec![
        Who {
            label: "admin".into(),
            token: TestUser::admin(),
            reach: all.clone(),
        },
        Who {
            label: "inspector".into(),
            token: TestUser::inspector(),
            reach: all.clone(),
        },
        Who {
            label: "viewer (no department)".into(),
            token: TestUser::viewer(None),
            reach: all,
        },
    ];
    for ((_, path), (_, code)) in departments.iter().zip(&codes) {
        let reach: HashSet<String> = departments
            .iter()
            .filter(|(_, p)| p.starts_with(path.as_str()))
            .map(|(id, _)| id.clone())
            .collect();
        for role in ["manager", "officer", "viewer"] {
            out.push(Who {
                label: format!("{role} of {code}"),
                token: TestUser::token(role, Some(code)),
                reach: reach.clone(),
            });
        }
    }
    out
}

/// What a walk of one caller saw: departments shown whole, and named only.
#[derive(Default, Debug)]
struct Seen {
    whole: usize,
    named: usize,
}

/// Every department object in `value` that shows the caller more than the rule allows.
fn overshown(value: &Value, who: &Who, seen: &mut Seen, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            if map.get("__typename") == Some(&json!("Department")) {
                let id = map["id"].as_str().unwrap_or("").to_owned();
                if who.reach.contains(&id) {
                    seen.whole += 1;
                } else {
                    seen.named += 1;
                    for (key, shown) in map {
                        let empty = shown.is_null() || shown == &json!([]);
                        if !NAMED.contains(&key.as_str()) && !empty {
                            out.push(format!("department {id}: {key} = {shown}"));
                        }
                    }
                }
            }
            map.values().for_each(|v| overshown(v, who, seen, out));
        }
        Value::Array(items) => items.iter().for_each(|v| overshown(v, who, seen, out)),
        _ => {}
    }
}

/// The sizes a document is tried at, largest first, until the limits let it through.
const SIZES: [Size; 6] = [
    Size {
        first: 10,
        departments: 3,
    },
    Size {
        first: 10,
        departments: 2,
    },
    Size {
        first: 3,
        departments: 2,
    },
    Size {
        first: 1,
        departments: 2,
    },
    Size {
        first: 1,
        departments: 1,
    },
    Size {
        first: 1,
        departments: 0,
    },
];

/// The error codes of an answer.
fn codes(body: &Value) -> Vec<&str> {
    body["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| e["extensions"]["code"].as_str().unwrap_or(""))
        .collect()
}

/// Of `documents` (one per size, largest first), the first the server's limits accept: the
/// limits depend on the text alone, so one caller settles it for all.
async fn settle(app: &TestApp, what: &str, documents: &[String]) -> String {
    let mut refused = Value::Null;
    for query in documents {
        let (status, body) = app.gql(Some(&TestUser::admin()), query, json!({})).await;
        assert_eq!(status, 200, "{what}: {body}");
        if !codes(&body).contains(&"QUERY_TOO_COMPLEX") {
            return query.clone();
        }
        refused = body;
    }
    panic!("{what} is too large at every size: {refused}");
}

/// `query`'s answer for `who`, refused only where a caller may be refused.
async fn ask(app: &TestApp, who: &Who, what: &str, query: &str) -> Value {
    let (status, body) = app.gql(Some(&who.token), query, json!({})).await;
    assert_eq!(status, 200, "{}: {what}: {body}", who.label);
    for code in codes(&body) {
        assert!(
            matches!(code, "FORBIDDEN" | "UNAUTHENTICATED" | "NOT_FOUND"),
            "{}: {what}: {body}\n  asking {query}",
            who.label
        );
    }
    body
}

#[tokio::test]
async fn a_department_outside_reach_is_named_and_nothing_more_at_every_depth() {
    let app = spawn_app().await;
    let schema = Schema::load(&app).await;
    let paths = schema.paths();
    // The walk reaches the types that refer to departments (not vacuous).
    for ty in [
        "Department",
        "Finding",
        "Measure",
        "Inspection",
        "Me",
        "StatusSummary",
    ] {
        assert!(
            paths.contains_key(ty),
            "{ty} is reached: {:?}",
            paths.keys()
        );
    }
    let by_size: Vec<Vec<(String, String)>> =
        SIZES.iter().map(|size| schema.documents(*size)).collect();
    assert!(by_size[0].len() > 50, "{}", by_size[0].len());
    let ids: Vec<String> = column(&app, "SELECT id, code FROM department ORDER BY id")
        .await
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    let lookups: Vec<String> = SIZES
        .iter()
        .map(|size| {
            let each: Vec<String> = ids
                .iter()
                .map(|id| {
                    format!(
                        "d{id}: department(id: \"{id}\") {{ {} }}",
                        schema.selection("Department", 0, *size)
                    )
                })
                .collect();
            format!("{{ {} }}", each.join(" "))
        })
        .collect();
    let mut documents = Vec::new();
    for (i, (what, _)) in by_size[0].iter().enumerate() {
        let texts: Vec<String> = by_size.iter().map(|docs| docs[i].1.clone()).collect();
        documents.push((what.clone(), settle(&app, what, &texts).await));
    }
    let lookup = settle(&app, "department(id)", &lookups).await;
    let mut named_somewhere = 0;
    for who in callers(&app).await {
        let mut seen = Seen::default();
        let mut out = Vec::new();
        for (what, query) in &documents {
            let body = ask(&app, &who, what, query).await;
            let before = out.len();
            overshown(&body["data"], &who, &mut seen, &mut out);
            assert!(
                out.len() == before,
                "{} is shown more than a department's name through {what}: {:?}",
                who.label,
                &out[before..]
            );
        }
        // A department looked up by id is found within reach and only there.
        let body = ask(&app, &who, "department(id)", &lookup).await;
        for id in &ids {
            assert_eq!(
                body["data"][format!("d{id}")].is_object(),
                who.reach.contains(id),
                "{}: department(id: {id})",
                who.label
            );
        }
        overshown(&body["data"], &who, &mut seen, &mut out);
        assert!(out.is_empty(), "{}: {out:?}", who.label);
        assert!(seen.whole > 0, "{}: {seen:?}", who.label);
        if seen.named > 0 {
            named_somewhere += 1;
        }
    }
    // Most callers of a section or a unit below the root meet departments they only see named.
    assert!(named_somewhere >= 20, "{named_somewhere}");
}

#[tokio::test]
async fn a_section_officer_does_not_read_its_sibling_sections_through_its_unit() {
    let app = spawn_app().await;
    let officer = TestUser::officer("ZJTZB-ZJK");
    let data = app
        .data(
            &officer,
            "{ me { department { parent { children { code principalLeader } } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        data,
        json!({"me": {"department": {"parent": {"children": []}}}})
    );
    // The unit above is named, nothing more: its code, leader, place and summary withheld.
    let data = app
        .data(
            &officer,
            "{ me { department { code parent { id name code kind principalLeader archived version \
             viewerCan { update } statusSummary { total } parent { id } ancestors { id } } } } }",
            json!({}),
        )
        .await;
    let unit = count_id(&app, "ZJTZB").await;
    assert_eq!(
        data,
        json!({"me": {"department": {"code": "ZJTZB-ZJK", "parent": {
            "id": unit, "name": "中共湛江市委统一战线工作部", "code": null, "kind": null,
            "principalLeader": null, "archived": null, "version": null, "viewerCan": null,
            "statusSummary": null, "parent": null, "ancestors": []
        }}}})
    );
    // The unit's manager reads the same sections whole (the rule is reach, not depth).
    let data = app
        .data(
            &TestUser::manager("ZJTZB"),
            "{ me { department { children { code } } } }",
            json!({}),
        )
        .await;
    let codes: Vec<&str> = data["me"]["department"]["children"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["code"].as_str().unwrap())
        .collect();
    assert_eq!(
        codes,
        [
            "ZJTZB-BGS",
            "ZJTZB-QWK",
            "ZJTZB-ZJK",
            "ZJTZB-GBK",
            "ZJTZB-JGDW",
            "ZJTZB-JGJW"
        ]
    );
}

/// The GraphQL id of the department with this code.
async fn count_id(app: &TestApp, code: &str) -> String {
    crate::helpers::count(
        &app.db,
        &format!("SELECT id FROM department WHERE code = '{code}'"),
    )
    .await
    .to_string()
}
