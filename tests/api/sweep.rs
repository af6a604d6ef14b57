//! The scope sweep: for every role and every department of the demo, every read surface is
//! asked for everything it serves, and no record outside the caller's reach may appear in any
//! answer. The surfaces are generated from what the server itself publishes: the GraphQL
//! schema by introspection (every root field, each of its relations two levels down, every
//! lookup for every id) and the REST route table by its OpenAPI document (every GET route,
//! every id, every format). A surface added later is swept without editing this test.
//!
//! Departments: one outside the caller's reach shows its id and name only, wherever a record
//! refers to it (GraphQL), and REST names no department outside reach by its code; a
//! department looked up by id is found within reach only. `department_reach.rs` walks
//! departments deeper, through every relation of every type.
//!
//! What the caller may read is computed here from the rule as DOMAIN.md states it (a token's
//! department reaches it and everything below it; a section also sees the findings it works
//! on), straight from the tables, not through the server's code.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser, count, spawn_app};

/// The introspection the schema-generated sweeps walk (also `department_reach`).
pub(crate) const INTROSPECT: &str = "{ __schema { queryType { name } types { name kind fields { name
    args { name defaultValue type { kind name ofType { kind name ofType { kind name ofType { kind name } } } } }
    type { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } } }";

/// A caller of the sweep.
struct Who {
    label: String,
    role: &'static str,
    token: String,
    /// The materialised path its reads reach, or None for everything.
    reach: Option<String>,
}

/// The records a caller may read, by GraphQL type name, and the texts it may not see.
struct Allowed {
    ids: HashMap<&'static str, HashSet<String>>,
    forbidden_texts: Vec<String>,
    findings: usize,
    measures: usize,
    /// The departments within reach (shown whole) and their codes; any other department is
    /// named where a readable record refers to it, nothing more.
    departments: HashSet<String>,
    department_codes: HashSet<String>,
}

/// The fields a department outside the caller's reach may show with a value.
const NAMED: [&str; 3] = ["__typename", "id", "name"];

/// The first column of a query's rows, as text.
async fn column(app: &TestApp, sql: &str) -> Vec<String> {
    let rows = app.rows(sql).await;
    rows.iter()
        .map(|r| {
            r.try_get_by_index::<String>(0)
                .or_else(|_| r.try_get_by_index::<i32>(0).map(|v| v.to_string()))
                .or_else(|_| r.try_get_by_index::<i64>(0).map(|v| v.to_string()))
                .expect("a text or an id")
        })
        .collect()
}

async fn ids(app: &TestApp, sql: &str) -> HashSet<String> {
    column(app, sql).await.into_iter().collect()
}

async fn texts(app: &TestApp, sql: &str) -> Vec<String> {
    column(app, sql).await
}

/// The rule, from the tables: findings of departments within reach, and findings with a
/// measure of a department within reach; their measures, ledger, targets and evidence.
async fn allowed(app: &TestApp, who: &Who) -> Allowed {
    let within = |column: &str| match &who.reach {
        None => "1 = 1".to_owned(),
        Some(prefix) => {
            format!("{column} IN (SELECT id FROM department WHERE path LIKE '{prefix}%')")
        }
    };
    let findings_sql = format!(
        "SELECT id FROM finding WHERE {} OR id IN (SELECT finding_id FROM measure WHERE {})",
        within("department_id"),
        within("department_id")
    );
    let findings = ids(app, &findings_sql).await;
    let measures = ids(
        app,
        &format!("SELECT id FROM measure WHERE finding_id IN ({findings_sql})"),
    )
    .await;
    let entries = ids(
        app,
        &format!("SELECT id FROM progress_entry WHERE finding_id IN ({findings_sql})"),
    )
    .await;
    let targets = ids(
        app,
        &format!("SELECT id FROM target WHERE finding_id IN ({findings_sql})"),
    )
    .await;
    let evidence = ids(
        app,
        &format!(
            "SELECT id FROM evidence WHERE progress_entry_id IN \
             (SELECT id FROM progress_entry WHERE finding_id IN ({findings_sql}))"
        ),
    )
    .await;
    let drafts = if matches!(who.role, "admin" | "manager") {
        "1 = 1"
    } else {
        "status <> 'draft'"
    };
    let reports = ids(
        app,
        &format!(
            "SELECT id FROM report WHERE {drafts} AND inspection_id IN \
             (SELECT id FROM inspection WHERE {})",
            within("unit_id")
        ),
    )
    .await;
    let regulations = ids(
        app,
        &format!(
            "SELECT id FROM regulation WHERE {} OR id IN (SELECT regulation_id FROM \
             finding_regulation WHERE unlinked_at IS NULL AND finding_id IN ({findings_sql}))",
            match &who.reach {
                None => "1 = 1".to_owned(),
                Some(_) => within("department_id"),
            }
        ),
    )
    .await;
    let orders = ids(
        app,
        &format!(
            "SELECT order_id FROM supervision_order_subject WHERE finding_id IN ({findings_sql})"
        ),
    )
    .await;
    let audit = match who.role {
        "admin" | "inspector" => ids(app, "SELECT id FROM audit_event").await,
        "manager" => {
            ids(
                app,
                &format!(
                    "SELECT id FROM audit_event WHERE {}",
                    within("department_id")
                ),
            )
            .await
        }
        _ => HashSet::new(),
    };
    let mut forbidden_texts = texts(
        app,
        &format!("SELECT title FROM finding WHERE id NOT IN ({findings_sql})"),
    )
    .await;
    forbidden_texts.extend(
        texts(
            app,
            &format!("SELECT content FROM measure WHERE finding_id NOT IN ({findings_sql})"),
        )
        .await,
    );
    forbidden_texts.extend(
        texts(
            app,
            &format!(
                "SELECT requirement FROM supervision_order WHERE id NOT IN \
                 (SELECT order_id FROM supervision_order_subject WHERE finding_id IN ({findings_sql}))"
            ),
        )
        .await,
    );
    // Public feedback: read with the unit's reports; its sender's contact and name by those
    // who manage it (admins, the unit's managers) and nobody else.
    let feedback = ids(
        app,
        &format!("SELECT id FROM public_feedback WHERE {}", within("unit_id")),
    )
    .await;
    if !(who.role == "admin" || who.role == "manager" && !feedback.is_empty()) {
        forbidden_texts.push(crate::public_feedback::CONTACT.to_owned());
        forbidden_texts.push(crate::public_feedback::NAME.to_owned());
    }
    let (n_findings, n_measures) = (findings.len(), measures.len());
    let departments = ids(
        app,
        &format!("SELECT id FROM department WHERE {}", within("id")),
    )
    .await;
    let department_codes = ids(
        app,
        &format!("SELECT code FROM department WHERE {}", within("id")),
    )
    .await;
    Allowed {
        ids: HashMap::from([
            ("Finding", findings),
            ("Measure", measures),
            ("ProgressEntry", entries),
            ("Target", targets),
            ("Evidence", evidence),
            ("Report", reports),
            ("Regulation", regulations),
            ("AuditEvent", audit),
            ("SupervisionOrder", orders),
            ("PublicFeedback", feedback),
        ]),
        forbidden_texts,
        findings: n_findings,
        measures: n_measures,
        departments,
        department_codes,
    }
}

/// Every (typename, id) in an answer that the caller may not read, and every forbidden text.
fn leaks(body: &str, value: &Value, allowed: &Allowed) -> Vec<String> {
    fn walk(value: &Value, allowed: &Allowed, out: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                if let (Some(Value::String(kind)), Some(Value::String(id))) =
                    (map.get("__typename"), map.get("id"))
                    && let Some(set) = allowed.ids.get(kind.as_str())
                    && !set.contains(id)
                {
                    out.push(format!("{kind} {id}"));
                }
                // A department outside reach: its id and name, nothing more.
                if let (Some(Value::String(kind)), Some(Value::String(id))) =
                    (map.get("__typename"), map.get("id"))
                    && kind == "Department"
                    && !allowed.departments.contains(id)
                {
                    for (key, shown) in map {
                        if !NAMED.contains(&key.as_str()) && !shown.is_null() && shown != &json!([])
                        {
                            out.push(format!("Department {id} {key}"));
                        }
                    }
                }
                // REST names departments by code: only codes within reach.
                for key in ["unitCode", "departmentCode"] {
                    if let Some(Value::String(code)) = map.get(key)
                        && !allowed.department_codes.contains(code)
                    {
                        out.push(format!("{key} {code}"));
                    }
                }
                map.values().for_each(|v| walk(v, allowed, out));
            }
            Value::Array(items) => items.iter().for_each(|v| walk(v, allowed, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(value, allowed, &mut out);
    for text in &allowed.forbidden_texts {
        // Long texts are cut in some renderings; their opening is enough to tell.
        let probe: String = text.chars().take(24).collect();
        if body.contains(&probe) {
            out.push(format!("text '{probe}'"));
        }
    }
    out
}

/// The schema as introspection tells it: object types, their fields, and the root fields.
struct Schema {
    types: HashMap<String, Vec<Value>>,
    query: Vec<Value>,
}

/// The named type under lists and non-nulls: (kind, name).
pub(crate) fn named(ty: &Value) -> (&str, &str) {
    let mut t = ty;
    while t["ofType"].is_object() {
        t = &t["ofType"];
    }
    (
        t["kind"].as_str().unwrap_or(""),
        t["name"].as_str().unwrap_or(""),
    )
}

pub(crate) fn required(arg: &Value) -> bool {
    arg["type"]["kind"] == "NON_NULL" && arg["defaultValue"].is_null()
}

impl Schema {
    async fn load(app: &TestApp) -> Schema {
        let data = app.data(&TestUser::admin(), INTROSPECT, json!({})).await;
        let root = data["__schema"]["queryType"]["name"]
            .as_str()
            .unwrap()
            .to_owned();
        let mut types = HashMap::new();
        for t in data["__schema"]["types"].as_array().unwrap() {
            if t["kind"] == "OBJECT" {
                types.insert(
                    t["name"].as_str().unwrap().to_owned(),
                    t["fields"].as_array().cloned().unwrap_or_default(),
                );
            }
        }
        let query = types[&root].clone();
        Schema { types, query }
    }

    /// Fields of `ty` that take no required arguments.
    fn fields(&self, ty: &str) -> Vec<&Value> {
        self.types
            .get(ty)
            .map(|fs| {
                fs.iter()
                    .filter(|f| !f["name"].as_str().unwrap_or("").starts_with("__"))
                    .filter(|f| f["args"].as_array().unwrap().iter().all(|a| !required(a)))
                    .collect()
            })
            .unwrap_or_default()
    }

    fn has_id(&self, ty: &str) -> bool {
        self.fields(ty).iter().any(|f| f["name"] == "id")
    }

    /// The node type of a connection, when `ty` is one.
    fn node_of(&self, ty: &str) -> Option<String> {
        let edges = self.fields(ty).into_iter().find(|f| f["name"] == "edges")?;
        let (_, edge) = named(&edges["type"]);
        let node = self
            .fields(edge)
            .into_iter()
            .find(|f| f["name"] == "node")?;
        Some(named(&node["type"]).1.to_owned())
    }

    /// The selection of `ty`: its scalars, and with `depth > 0` its relations, each with its
    /// own selection one level less deep. Connections are selected through to their nodes.
    fn selection(&self, ty: &str, depth: usize) -> String {
        if let Some(node) = self.node_of(ty) {
            return format!(
                "totalCount edges {{ node {{ {} }} }}",
                self.selection(&node, depth)
            );
        }
        let mut parts = vec!["__typename".to_owned()];
        for f in self.fields(ty) {
            let name = f["name"].as_str().unwrap();
            let (kind, target) = named(&f["type"]);
            match kind {
                "OBJECT" if depth > 0 => parts.push(format!(
                    "{name} {{ {} }}",
                    self.selection(target, depth - 1)
                )),
                "OBJECT" => {
                    if self.has_id(target) && self.node_of(target).is_none() {
                        parts.push(format!("{name} {{ __typename id }}"));
                    }
                }
                _ => parts.push(name.to_owned()),
            }
        }
        parts.join(" ")
    }

    /// One document per relation of a root field's type (so that no document is too large),
    /// each two levels down, and one with the scalars alone.
    fn branches(&self, ty: &str) -> Vec<String> {
        let (base, relations): (&str, Vec<&Value>) = match self.node_of(ty) {
            Some(node) => {
                let node = self.types.get_key_value(&node).map(|(k, _)| k.as_str());
                (node.unwrap_or(ty), self.fields(node.unwrap_or(ty)))
            }
            None => (ty, self.fields(ty)),
        };
        let wrap = |inner: String| match self.node_of(ty) {
            Some(_) => format!("totalCount edges {{ node {{ {inner} }} }}"),
            None => inner,
        };
        let mut out = vec![wrap(self.selection(base, 0))];
        let scalars: String = self
            .fields(base)
            .into_iter()
            .filter(|f| named(&f["type"]).0 != "OBJECT")
            .map(|f| f["name"].as_str().unwrap().to_owned())
            .chain(["__typename".to_owned()])
            .collect::<Vec<_>>()
            .join(" ");
        for f in relations {
            let (kind, target) = named(&f["type"]);
            if kind == "OBJECT" {
                let name = f["name"].as_str().unwrap();
                out.push(wrap(format!(
                    "{scalars} {name} {{ {} }}",
                    self.selection(target, 1)
                )));
            }
        }
        out
    }
}

/// The table that holds the records of a GraphQL type (`ProgressEntry` → `progress_entry`).
fn table_of(ty: &str) -> String {
    let mut out = String::new();
    for (i, c) in ty.chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            out.push('_');
        }
        out.extend(c.to_lowercase());
    }
    out
}

async fn arrange(app: &TestApp) {
    let admin = TestUser::admin();
    let manager = TestUser::manager("ZJTZB");
    // A second unit with its own inspection, finding, measure and regulation.
    app.data(&admin, "mutation { createDepartment(input: {code: \"OTHER\", name: \"另一单位\", kind: UNIT, parentCode: \"ZJSW\"}) { id } }", json!({})).await;
    let inspection = app.data(&TestUser::inspector(), "mutation { createInspection(input: {title: \"另一巡察\", inspectionGroup: \"市委第一巡察组\", unitCode: \"OTHER\", startedOn: \"2021-01-01\"}) { id } }", json!({})).await["createInspection"]["id"].clone();
    let finding = app.data(&admin, "mutation($i: ID!) { createFinding(input: {inspectionId: $i, title: \"别处单位的问题甲乙丙\", rectificationType: BY_DEADLINE, departmentCode: \"OTHER\"}) { id } }", json!({"i": inspection})).await["createFinding"]["id"].clone();
    app.data(&admin, "mutation($f: ID!) { createMeasure(input: {findingId: $f, content: \"别处单位的措施丁戊己\"}) { id } }", json!({"f": finding})).await;
    // Supervision orders: one about the other unit's finding, one about a section's.
    let order =
        "mutation($i: IssueSupervisionOrderInput!) { issueSupervisionOrder(input: $i) { id } }";
    let deadline = (chrono::Utc::now() + chrono::Duration::days(30))
        .date_naive()
        .to_string();
    let ours = app.finding_id(2).await.to_string();
    for (subject, requirement) in [
        (finding.clone(), "别处单位的督办要求庚辛壬"),
        (json!(ours), "本单位的督办要求"),
    ] {
        let issued = app.data(&TestUser::inspector(), order, json!({"i": {"findingIds": [subject], "level": "LISTED", "requirement": requirement, "replyDeadline": deadline}})).await;
        assert!(
            issued["issueSupervisionOrder"]["id"].is_string(),
            "{issued}"
        );
    }
    app.data(&admin, "mutation { createRegulation(input: {title: \"别处单位的制度\", domain: ADMINISTRATION, departmentCode: \"OTHER\", status: IN_FORCE}) { id } }", json!({})).await;
    // Reports: a submitted one, a draft, and a bulletin draft and a published one.
    for query in [
        "mutation { generateReport(inspectionId: 1) { id } }",
        "mutation { generateBulletin(inspectionId: 1) { id } }",
        "mutation { generateBulletin(inspectionId: 1) { id } }",
    ] {
        app.data(&manager, query, json!({})).await;
    }
    app.data(
        &manager,
        "mutation { submitReport(id: 1) { id } }",
        json!({}),
    )
    .await;
    app.data(
        &manager,
        "mutation { publishBulletin(id: 3) { id } }",
        json!({}),
    )
    .await;
    app.data(
        &manager,
        "mutation { generateReport(inspectionId: 1, periodEnd: \"2021-03-31\") { id } }",
        json!({}),
    )
    .await;
    // A published bulletin: public, so every caller is shown it as the public is. Public
    // feedback on it, with a contact only the unit's managers and admins may see, answered.
    let bulletin = app.published_bulletin(&manager).await;
    crate::public_feedback::send(app, &bulletin, "公众反馈的内容").await;
    app.data(
        &manager,
        "mutation { answerPublicFeedback(id: 1, reply: \"已答复\", publish: true) { id } }",
        json!({}),
    )
    .await;
    // Evidence on a section's finding.
    let f = app.finding_id(2).await.to_string();
    let (status, body) = app
        .upload(
            &manager,
            "mutation($input: AddProgressEntryInput!) { addProgressEntry(input: $input) { id } }",
            json!({"input": {"findingId": f, "content": "佐证材料已归档", "files": [{"title": "会议纪要", "file": null}]}}),
            &[("variables.input.files.0.file", "纪要.pdf", "application/pdf", b"%PDF-1.4 sweep")],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(body.get("errors").is_none(), "{body}");
}

async fn callers(app: &TestApp) -> Vec<Who> {
    let mut out = vec![
        Who {
            label: "admin".into(),
            role: "admin",
            token: TestUser::admin(),
            reach: None,
        },
        Who {
            label: "inspector".into(),
            role: "inspector",
            token: TestUser::inspector(),
            reach: None,
        },
        Who {
            label: "viewer (no department)".into(),
            role: "viewer",
            token: TestUser::viewer(None),
            reach: None,
        },
    ];
    let rows = app
        .rows("SELECT code, path FROM department ORDER BY id")
        .await;
    for row in rows {
        let code: String = row.try_get_by_index(0).unwrap();
        let path: String = row.try_get_by_index(1).unwrap();
        for role in ["manager", "officer", "viewer"] {
            out.push(Who {
                label: format!("{role} of {code}"),
                role,
                token: TestUser::token(role, Some(&code)),
                reach: Some(path.clone()),
            });
        }
    }
    out
}

/// The GraphQL side: every root field, relations two levels down, and every lookup by id.
/// What the public (no token) is answered, per query text: the same for every caller.
type PublicAnswers = std::collections::HashMap<String, Value>;

async fn sweep_graphql(
    app: &TestApp,
    schema: &Schema,
    who: &Who,
    allowed: &Allowed,
    public_answers: &mut PublicAnswers,
) -> usize {
    let mut asked = 0;
    let check = |body: Value, what: &str| {
        let text = body.to_string();
        for e in body["errors"].as_array().into_iter().flatten() {
            let code = e["extensions"]["code"].as_str().unwrap_or("");
            assert!(
                matches!(code, "FORBIDDEN" | "UNAUTHENTICATED" | "NOT_FOUND"),
                "{}: {e}\n  asking {what}",
                who.label
            );
        }
        let found = leaks(&text, &body, allowed);
        assert!(
            found.is_empty(),
            "{} reads {found:?} through {what}",
            who.label
        );
        body
    };
    for field in &schema.query {
        let name = field["name"].as_str().unwrap();
        let (_, ty) = named(&field["type"]);
        let args: Vec<&Value> = field["args"].as_array().unwrap().iter().collect();
        let required_args: Vec<&str> = args
            .iter()
            .filter(|a| required(a))
            .map(|a| a["name"].as_str().unwrap())
            .collect();
        let takes_first = args.iter().any(|a| a["name"] == "first");
        // Lookups: every id of the table, in one document of aliases.
        if required_args == ["id"] {
            let all = ids(app, &format!("SELECT id FROM {}", table_of(ty))).await;
            let lookups: Vec<String> = all
                .iter()
                .map(|id| format!("l{id}: {name}(id: \"{id}\") {{ __typename id }}"))
                .collect();
            for chunk in lookups.chunks(60) {
                let (_, body) = app
                    .gql(
                        Some(&who.token),
                        &format!("{{ {} }}", chunk.join(" ")),
                        json!({}),
                    )
                    .await;
                let body = check(body, &format!("{name}(id)"));
                asked += chunk.len();
                // Whatever is readable is found; the rest is null.
                let set = match ty {
                    "Department" => Some(&allowed.departments),
                    _ => allowed.ids.get(ty),
                };
                if let Some(set) = set {
                    for (key, value) in body["data"].as_object().into_iter().flatten() {
                        let id = &key[1..];
                        assert_eq!(
                            value.is_object(),
                            set.contains(id),
                            "{}: {name}(id: {id})",
                            who.label
                        );
                    }
                }
            }
            // Each record's relations are those the lists below serve through the same
            // resolvers, and are swept there.
            continue;
        }
        // Fields that need another record's id: every id of that kind.
        let targets: Vec<String> = match required_args.as_slice() {
            [] => vec![String::new()],
            [arg] if arg.ends_with("Id") => {
                let table = table_of(arg.trim_end_matches("Id"));
                ids(app, &format!("SELECT id FROM {table}"))
                    .await
                    .into_iter()
                    .map(|id| format!("{arg}: \"{id}\""))
                    .collect()
            }
            other => panic!("the sweep cannot fill the arguments {other:?} of {name}"),
        };
        let connection = schema.node_of(ty).is_some();
        for target in targets {
            let branches = if named(&field["type"]).0 == "OBJECT" {
                schema.branches(ty)
            } else {
                vec![String::new()]
            };
            for selection in branches {
                // Pages as large as the complexity limit allows, followed to the end.
                let mut first = 100;
                let mut after: Option<String> = None;
                loop {
                    let mut args: Vec<String> = vec![target.clone()];
                    if takes_first {
                        args.push(format!("first: {first}"));
                    }
                    if let Some(cursor) = &after {
                        args.push(format!("after: \"{cursor}\""));
                    }
                    args.retain(|a| !a.is_empty());
                    let call = if args.is_empty() {
                        name.to_owned()
                    } else {
                        format!("{name}({})", args.join(", "))
                    };
                    let paging = if connection {
                        " pageInfo { hasNextPage endCursor }"
                    } else {
                        ""
                    };
                    let query = if selection.is_empty() {
                        format!("{{ {call} }}")
                    } else {
                        format!("{{ {call} {{ {selection}{paging} }} }}")
                    };
                    let (_, body) = app.gql(Some(&who.token), &query, json!({})).await;
                    asked += 1;
                    if body["errors"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX" && first > 1 {
                        first = (first / 4).max(1);
                        continue;
                    }
                    // A field the public reads (published bulletins, as /public/ on REST) is
                    // for everyone: a caller is shown exactly what the public is, no more.
                    if !public_answers.contains_key(&query) {
                        let (_, answer) = app.gql(None, &query, json!({})).await;
                        public_answers.insert(query.clone(), answer);
                    }
                    let public = &public_answers[&query];
                    let body = if public.get("errors").is_none() && !public["data"][name].is_null()
                    {
                        assert_eq!(
                            &body, public,
                            "{}: {query} differs from the public's",
                            who.label
                        );
                        body
                    } else {
                        check(body, &query)
                    };
                    let page = &body["data"][name]["pageInfo"];
                    if connection && page["hasNextPage"] == true {
                        after = page["endCursor"].as_str().map(str::to_owned);
                        continue;
                    }
                    break;
                }
            }
        }
    }
    // Counts agree with the lists.
    let data = app
        .gql(
            Some(&who.token),
            "{ findings(first: 1) { totalCount } measures(first: 1) { totalCount } statusSummary { total measuresTotal } }",
            json!({}),
        )
        .await
        .1;
    assert_eq!(
        (
            data["data"]["findings"]["totalCount"].as_u64(),
            data["data"]["measures"]["totalCount"].as_u64(),
            data["data"]["statusSummary"]["total"].as_u64(),
            data["data"]["statusSummary"]["measuresTotal"].as_u64(),
        ),
        (
            Some(allowed.findings as u64),
            Some(allowed.measures as u64),
            Some(allowed.findings as u64),
            Some(allowed.measures as u64)
        ),
        "{}: counts",
        who.label
    );
    asked
}

/// A REST answer as text: workbooks read cell by cell.
fn body_text(content_type: &str, bytes: &[u8]) -> String {
    if content_type.contains("spreadsheetml") {
        use calamine::Reader;
        let mut book: calamine::Xlsx<_> =
            calamine::Xlsx::new(std::io::Cursor::new(bytes.to_vec())).expect("a workbook");
        let mut out = String::new();
        for name in book.sheet_names() {
            let range = book.worksheet_range(&name).expect("a sheet");
            for row in range.rows() {
                for cell in row {
                    out.push_str(&cell.to_string());
                    out.push('\t');
                }
                out.push('\n');
            }
        }
        out
    } else {
        String::from_utf8_lossy(bytes).into_owned()
    }
}

/// The REST side: every GET route of the OpenAPI document, every id, every format.
async fn sweep_rest(
    app: &TestApp,
    routes: &BTreeMap<String, Value>,
    who: &Who,
    allowed: &Allowed,
) -> usize {
    let mut asked = 0;
    for (path, item) in routes {
        let Some(get) = item.get("get") else { continue };
        let formats: Vec<&str> = if get["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|p| p["name"] == "format")
        {
            vec!["", "json", "csv", "xlsx", "md", "html"]
        } else {
            vec![""]
        };
        let urls: Vec<(String, Option<(&str, String)>)> = if path.ends_with("/{code}") {
            // Public feedback by its receipt code: public, so shown to all as to the public.
            ids(app, "SELECT receipt_code FROM public_feedback")
                .await
                .into_iter()
                .map(|code| (path.replace("{code}", &code), None))
                .collect()
        } else if let Some(at) = path.find("/{id}") {
            let kind = path[..at].rsplit('/').next().unwrap();
            let table = match kind {
                "inspections" => "inspection",
                "reports" | "bulletins" => "report",
                "evidence" => "evidence",
                "supervision-orders" => "supervision_order",
                other => panic!("the sweep does not know the records of /{other}/{{id}}"),
            };
            let type_name = match table {
                "report" => "Report",
                "evidence" => "Evidence",
                "supervision_order" => "SupervisionOrder",
                _ => "",
            };
            ids(app, &format!("SELECT id FROM {table}"))
                .await
                .into_iter()
                .map(|id| (path.replace("{id}", &id), Some((type_name, id))))
                .collect()
        } else {
            vec![(path.clone(), None)]
        };
        for (url, record) in urls {
            for format in &formats {
                let url = if format.is_empty() {
                    url.clone()
                } else {
                    format!("{url}?format={format}")
                };
                let public = url.starts_with("/public/");
                let mut request = app.client.get(app.url(&url));
                if !public {
                    request = request.bearer_auth(&who.token);
                }
                let response = request.send().await.unwrap();
                let status = response.status().as_u16();
                let content_type = response
                    .headers()
                    .get("content-type")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_owned();
                let bytes = response.bytes().await.unwrap();
                asked += 1;
                assert!(status < 500, "{}: {url}: {status}", who.label);
                if status != 200 {
                    continue;
                }
                // A record served whole must be one the caller may read (public bulletins
                // are for everyone).
                if let Some((kind, id)) = &record
                    && !public
                    && let Some(set) = allowed.ids.get(kind)
                {
                    assert!(
                        set.contains(id),
                        "{} downloads {kind} {id} at {url}",
                        who.label
                    );
                }
                if public {
                    continue;
                }
                let text = body_text(&content_type, &bytes);
                let value: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
                // The incremental pull's items are findings; the supervision list's, orders.
                let mut typed = value.clone();
                if let Some(items) = typed.get_mut("items").and_then(Value::as_array_mut) {
                    for item in items.iter_mut() {
                        if item.get("inspectionId").is_some() {
                            let kind = if item.get("requirement").is_some() {
                                "SupervisionOrder"
                            } else {
                                "Finding"
                            };
                            item["__typename"] = json!(kind);
                            item["id"] = json!(item["id"].to_string());
                        }
                    }
                }
                let found = leaks(&text, &typed, allowed);
                assert!(found.is_empty(), "{} reads {found:?} at {url}", who.label);
            }
        }
    }
    asked
}

#[tokio::test]
async fn no_surface_shows_a_caller_anything_outside_its_reach() {
    let app = spawn_app().await;
    arrange(&app).await;
    let schema = Schema::load(&app).await;
    let openapi: Value = app
        .client
        .get(app.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let routes: BTreeMap<String, Value> = openapi["paths"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    assert!(routes.len() >= 7, "the route table is read");
    let mut restricted = 0;
    let mut public_answers = PublicAnswers::new();
    for who in callers(&app).await {
        let allowed = allowed(&app, &who).await;
        if !allowed.forbidden_texts.is_empty() {
            restricted += 1;
        }
        let graphql = sweep_graphql(&app, &schema, &who, &allowed, &mut public_answers).await;
        let rest = sweep_rest(&app, &routes, &who, &allowed).await;
        assert!(graphql > 50 && rest > 10, "{}: {graphql} {rest}", who.label);
    }
    // The sweep is not vacuous: most callers have something they must not see.
    assert!(restricted >= 20, "{restricted}");
    // And a section's officer does see its own findings (the positive control).
    let officer = TestUser::officer("ZJTZB-ZJK");
    let titles = app
        .data(
            &officer,
            "{ findings(first: 100) { edges { node { title } } } }",
            json!({}),
        )
        .await;
    let seen = titles["findings"]["edges"].as_array().unwrap().len();
    let expected = count(
        &app.db,
        "SELECT COUNT(*) FROM finding WHERE department_id = (SELECT id FROM department WHERE code = 'ZJTZB-ZJK') \
         OR id IN (SELECT finding_id FROM measure WHERE department_id = (SELECT id FROM department WHERE code = 'ZJTZB-ZJK'))",
    )
    .await;
    assert!(seen > 0 && seen as i64 == expected, "{seen} {expected}");
    // And it does not read its sibling sections through its own unit (the hole this closed).
    let siblings = app
        .data(
            &officer,
            "{ me { department { parent { children { code principalLeader } } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        siblings,
        json!({"me": {"department": {"parent": {"children": []}}}})
    );
}
