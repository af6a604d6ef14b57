//! Random selection sets over the served schema: for every role, each record of a page reads
//! exactly as the same record asked for alone. The executor reads a page a level at a time
//! (one statement per relation for all its rows, nested pages by a window); the record alone
//! is a level of one. Nothing here names a type or a field: the pairs of a list and its
//! one-record field, and every shape, are drawn from introspection, so a type or field added
//! later is drawn too. `SHAPES_SEED` replays a run; `SHAPES_ROUNDS` draws more.

use std::collections::{BTreeSet, HashMap};

use serde_json::{Value, json};

use crate::batching::grow;
use crate::helpers::{SECRET, TestApp, TestUser, spawn_app_with};

pub(crate) const INTROSPECTION: &str = "{ __schema { queryType { name } types { name kind
  fields { name type { ...T } args { name defaultValue type { ...T } } } } } }
fragment T on __Type { kind name ofType { kind name ofType { kind name ofType { kind name } } } }";

/// Records per page: enough to batch, few enough to ask for each alone.
const PAGE: usize = 8;
/// How deep a shape goes below the records of the page.
const DEPTH: usize = 3;

/// A field as introspection shows it.
pub(crate) struct FieldInfo {
    pub name: String,
    /// The named type under any list and non-null wrappers.
    pub ty: String,
    /// Whether it takes an argument that must be given.
    pub needs_args: bool,
    /// Its arguments' names.
    pub args: Vec<String>,
}

pub(crate) struct Schema {
    pub kinds: HashMap<String, String>,
    pub fields: HashMap<String, Vec<FieldInfo>>,
    pub query: String,
}

fn named(ty: &Value) -> String {
    match ty["name"].as_str() {
        Some(name) => name.to_owned(),
        None => named(&ty["ofType"]),
    }
}

impl Schema {
    pub fn from(introspection: &Value) -> Self {
        let mut kinds = HashMap::new();
        let mut fields = HashMap::new();
        for ty in introspection["__schema"]["types"].as_array().unwrap() {
            let name = ty["name"].as_str().unwrap().to_owned();
            kinds.insert(name.clone(), ty["kind"].as_str().unwrap().to_owned());
            let list = ty["fields"].as_array().map_or_else(Vec::new, |list| {
                list.iter()
                    .map(|f| {
                        let args = f["args"].as_array().unwrap();
                        FieldInfo {
                            name: f["name"].as_str().unwrap().to_owned(),
                            ty: named(&f["type"]),
                            needs_args: args.iter().any(|a| {
                                a["type"]["kind"] == "NON_NULL" && a["defaultValue"].is_null()
                            }),
                            args: args
                                .iter()
                                .map(|a| a["name"].as_str().unwrap().to_owned())
                                .collect(),
                        }
                    })
                    .collect()
            });
            fields.insert(name, list);
        }
        let query = introspection["__schema"]["queryType"]["name"]
            .as_str()
            .unwrap()
            .to_owned();
        Self {
            kinds,
            fields,
            query,
        }
    }

    fn field(&self, ty: &str, name: &str) -> Option<&FieldInfo> {
        self.fields.get(ty)?.iter().find(|f| f.name == name)
    }

    /// The record type of a connection (`{ edges { node } nodes pageInfo }`), if `ty` is one.
    pub fn node_of(&self, ty: &str) -> Option<&str> {
        self.field(ty, "pageInfo")?;
        Some(&self.field(ty, "nodes")?.ty)
    }

    /// The root lists that have a one-record field by `id` answering their record type:
    /// (list, one-record field, record type).
    fn pairs(&self) -> Vec<(String, String, String)> {
        let roots = &self.fields[&self.query];
        roots
            .iter()
            .filter_map(|list| {
                let node = self.node_of(&list.ty)?;
                let one = roots
                    .iter()
                    .find(|one| one.ty == node && one.args == ["id"])?;
                Some((list.name.clone(), one.name.clone(), node.to_owned()))
            })
            .collect()
    }
}

/// SplitMix64: a seeded generator, so that a failing draw can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

/// Draws a selection of `ty`: some of its fields (at least one), objects and pages below it
/// down to `DEPTH`, now and then under an alias.
fn draw(schema: &Schema, ty: &str, depth: usize, rng: &mut Rng) -> String {
    let mut chosen = Vec::new();
    let usable: Vec<&FieldInfo> = schema.fields[ty]
        .iter()
        .filter(|f| !f.needs_args)
        .filter(|f| depth < DEPTH || is_leaf(schema, &f.ty))
        .collect();
    if usable.is_empty() {
        return "__typename".to_owned();
    }
    for field in &usable {
        if rng.chance(35) {
            chosen.push(*field);
        }
    }
    if chosen.is_empty() {
        chosen.push(usable[rng.below(usable.len())]);
    }
    if rng.chance(10) {
        chosen.push(usable[rng.below(usable.len())]);
    }
    let mut parts = Vec::new();
    for (i, field) in chosen.into_iter().enumerate() {
        // A field asked twice must be aliased; aliases are drawn now and then anyway.
        let name = if i > 0
            && (rng.chance(10) || parts.iter().any(|p: &String| p.starts_with(&field.name)))
        {
            format!("a{i}: {}", field.name)
        } else {
            field.name.clone()
        };
        parts.push(select(schema, field, name, depth, rng));
    }
    parts.join(" ")
}

pub(crate) fn is_leaf(schema: &Schema, ty: &str) -> bool {
    matches!(schema.kinds[ty].as_str(), "SCALAR" | "ENUM")
}

fn select(schema: &Schema, field: &FieldInfo, name: String, depth: usize, rng: &mut Rng) -> String {
    match schema.kinds[&field.ty].as_str() {
        "SCALAR" | "ENUM" => name,
        "INTERFACE" | "UNION" => format!("{name} {{ __typename }}"),
        _ => {
            if let Some(node) = schema.node_of(&field.ty) {
                let args = if field.args.iter().any(|a| a == "first") {
                    format!("(first: {})", 1 + rng.below(4))
                } else {
                    String::new()
                };
                let mut inner = Vec::new();
                if rng.chance(40) {
                    inner.push("totalCount".to_owned());
                }
                if rng.chance(30) {
                    inner.push(
                        "pageInfo { hasNextPage hasPreviousPage startCursor endCursor }".to_owned(),
                    );
                }
                let nodes = draw(schema, node, depth + 1, rng);
                if rng.chance(50) {
                    inner.push(format!("edges {{ cursor node {{ {nodes} }} }}"));
                } else {
                    inner.push(format!("nodes {{ {nodes} }}"));
                }
                format!("{name}{args} {{ {} }}", inner.join(" "))
            } else {
                format!("{name} {{ {} }}", draw(schema, &field.ty, depth + 1, rng))
            }
        }
    }
}

/// The (path below the record, code) of each error the answer reports at or under `prefix`.
fn errors_under(body: &Value, prefix: &[Value]) -> BTreeSet<(String, String)> {
    body["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .filter_map(|e| {
                    let path = e["path"].as_array()?;
                    (path.len() >= prefix.len() && path[..prefix.len()] == *prefix).then(|| {
                        (
                            Value::from(path[prefix.len()..].to_vec()).to_string(),
                            e["extensions"]["code"].as_str().unwrap_or("").to_owned(),
                        )
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}

async fn post(app: &TestApp, token: &str, query: &str, variables: Value) -> Value {
    let (status, body) = app.gql(Some(token), query, variables).await;
    assert_eq!(status, 200, "{query}\n{body}");
    for error in body["errors"].as_array().into_iter().flatten() {
        assert_ne!(
            error["extensions"]["code"], "INTERNAL_SERVER_ERROR",
            "{query}\n{body}"
        );
        assert!(
            error["path"].as_array().is_some_and(|p| p.len() > 1),
            "an error for the whole field, not for a record: {query}\n{body}"
        );
    }
    body
}

/// The app with query limits that let any selection drawn from the schema through, and the
/// secret [`TestUser`]'s tokens are signed with.
pub async fn spawn_unbounded() -> TestApp {
    spawn_app_with(&[
        "--jwt-secret",
        SECRET,
        "--graphql-max-complexity",
        "10000000",
        "--graphql-max-depth",
        "64",
        "--graphql-max-fields",
        "100000",
    ])
    .await
}

#[tokio::test]
async fn random_shapes_read_the_same_for_a_record_in_a_page_and_for_it_alone() {
    let app = spawn_unbounded().await;
    grow(&app, 30).await;
    let introspection = app.data(&TestUser::admin(), INTROSPECTION, json!({})).await;
    let schema = Schema::from(&introspection);
    let pairs = schema.pairs();
    assert!(
        pairs.len() >= 5,
        "root lists with a one-record field: {pairs:?}"
    );
    let seed = std::env::var("SHAPES_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        });
    let rounds: usize = std::env::var("SHAPES_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(4);
    let mut rng = Rng(seed);
    let callers = [
        ("admin", TestUser::admin()),
        ("inspector", TestUser::inspector()),
        ("manager", TestUser::manager("ZJTZB")),
        ("officer", TestUser::officer("ZJTZB-BGS")),
        ("viewer", TestUser::viewer(Some("ZJTZB"))),
    ];
    for (role, token) in &callers {
        let mut compared = 0;
        for _ in 0..rounds {
            for (list, one, record) in &pairs {
                let shape = draw(&schema, record, 0, &mut rng);
                let page = format!(
                    "{{ page: {list}(first: {PAGE}) {{ edges {{ node {{ id {shape} }} }} }} }}"
                );
                let alone = format!("query($id: ID!) {{ one: {one}(id: $id) {{ id {shape} }} }}");
                let body = post(&app, token, &page, json!({})).await;
                let edges = body["data"]["page"]["edges"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
                for (i, edge) in edges.iter().enumerate() {
                    let node = &edge["node"];
                    let single = post(&app, token, &alone, json!({"id": node["id"]})).await;
                    let context = format!("seed {seed}, {role}, {list} record {i}:\n{page}");
                    assert_eq!(&single["data"]["one"], node, "{context}");
                    assert_eq!(
                        errors_under(&single, &[json!("one")]),
                        errors_under(
                            &body,
                            &[json!("page"), json!("edges"), json!(i), json!("node")]
                        ),
                        "{context}"
                    );
                    compared += 1;
                }
            }
        }
        // Every caller reads some records of every round (none reads nothing at all).
        assert!(
            compared >= rounds * 8,
            "seed {seed}: {role} compared {compared} records"
        );
    }
}
