//! How the read path saves work without changing an answer: a finding's columns are read only
//! when a selection shows a field that reads them, and a list's `totalCount` is counted once
//! per change.

use std::collections::{HashMap, HashSet};

use serde_json::{Value, json};

use crate::helpers::{SECRET, TestApp, TestUser, count, spawn_app};
use crate::shapes::{FieldInfo, INTROSPECTION, Schema, is_leaf, spawn_unbounded};

/// Every finding's description, by id, as stored.
async fn stored_descriptions(app: &TestApp) -> Vec<(String, String)> {
    use sea_orm::{ConnectionTrait, Statement};
    let rows = app
        .db
        .query_all_raw(Statement::from_string(
            app.db.get_database_backend(),
            "SELECT id, description FROM finding ORDER BY id",
        ))
        .await
        .unwrap();
    rows.iter()
        .map(|r| {
            (
                r.try_get_by_index::<i32>(0).unwrap().to_string(),
                r.try_get_by_index::<String>(1).unwrap(),
            )
        })
        .collect()
}

fn pairs(nodes: &Value, field: &str) -> Vec<(String, String)> {
    nodes
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            (
                n["id"].as_str().unwrap().to_owned(),
                n[field].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_description_is_answered_however_the_selection_asks_for_it() {
    let app = spawn_app().await;
    let admin = TestUser::admin();
    // A description of its own for every finding, so that an empty one would show.
    app.sql("UPDATE finding SET description = '问题描述' || id")
        .await;
    let stored = stored_descriptions(&app).await;
    assert!(stored.len() >= 5, "the demo data has findings");

    let data = app
        .data(
            &admin,
            "query { plain: findings(first: 100) { nodes { id description } }
              aliased: findings(first: 100) { edges { node { id d: description } } }
              spread: findings(first: 100) { edges { node { ...F } } }
              inline: findings(first: 100) { nodes { id ... on Finding { description } } }
              without: findings(first: 100) { nodes { id title } } }
             fragment F on Finding { id description }",
            json!({}),
        )
        .await;
    assert_eq!(pairs(&data["plain"]["nodes"], "description"), stored);
    let aliased: Vec<Value> = data["aliased"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"].clone())
        .collect();
    assert_eq!(pairs(&json!(aliased), "d"), stored);
    let spread: Vec<Value> = data["spread"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"].clone())
        .collect();
    assert_eq!(pairs(&json!(spread), "description"), stored);
    assert_eq!(pairs(&data["inline"]["nodes"], "description"), stored);
    assert_eq!(
        data["without"]["nodes"].as_array().unwrap().len(),
        stored.len()
    );

    // Nested under inspections, and a measure's finding, with and without the description.
    let data = app
        .data(
            &admin,
            "{ inspections(first: 10) { nodes { findings(first: 100) { nodes { id description } } } }
               measures(first: 100) { nodes { finding { id description } brief: finding { id title } } } }",
            json!({}),
        )
        .await;
    let mut nested: Vec<(String, String)> = data["inspections"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|i| pairs(&i["findings"]["nodes"], "description"))
        .collect();
    nested.sort_by_key(|(id, _)| id.parse::<i64>().unwrap());
    assert_eq!(nested, stored);
    let measures = data["measures"]["nodes"].as_array().unwrap();
    assert!(!measures.is_empty());
    for m in measures {
        let id = m["finding"]["id"].as_str().unwrap();
        let want = &stored.iter().find(|(i, _)| i == id).unwrap().1;
        assert_eq!(m["finding"]["description"], json!(want), "{m}");
        assert_eq!(m["brief"]["id"], json!(id));
    }
}

const COUNTS: &str = "{ findings(filter: { status: [NOT_STARTED] }) { totalCount }
  inspections(first: 10) { nodes { id findings(filter: { status: [NOT_STARTED] }) { totalCount } } } }";

/// Runs an operation that must succeed on the instance at `address`; returns its `data`.
async fn post(app: &TestApp, address: &str, token: &str, query: &str, variables: Value) -> Value {
    let body: Value = app
        .client
        .post(format!("{address}/graphql"))
        .bearer_auth(token)
        .json(&json!({"query": query, "variables": variables}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(body.get("errors").is_none(), "{body}");
    body["data"].clone()
}

async fn counts(app: &TestApp, address: Option<&str>, token: &str) -> (i64, i64) {
    let body = match address {
        None => app.data(token, COUNTS, json!({})).await,
        Some(address) => post(app, address, token, COUNTS, json!({})).await,
    };
    let nested: i64 = body["inspections"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["findings"]["totalCount"].as_i64().unwrap())
        .sum();
    (body["findings"]["totalCount"].as_i64().unwrap(), nested)
}

#[tokio::test]
async fn a_total_count_is_counted_again_after_any_change_on_any_instance() {
    let app = spawn_app().await;
    let second = app.another(&["--jwt-secret", crate::helpers::SECRET]).await;
    let admin = TestUser::admin();
    // Findings not started yet, one in each of two offices of the unit.
    app.create_finding("科室甲尚未开始的问题", "ZJTZB-BGS")
        .await;
    app.create_finding("科室乙尚未开始的问题", "ZJTZB-GBK")
        .await;
    let stored = count(
        &app.db,
        "SELECT COUNT(*) FROM finding WHERE status = 'not_started' AND archived_at IS NULL",
    )
    .await;
    assert!(stored >= 2);
    assert_eq!(counts(&app, None, &admin).await, (stored, stored));
    // A manager's count is of its own reach, not the admin's kept one.
    let manager = TestUser::manager("ZJTZB-BGS");
    let reach = counts(&app, None, &manager).await;
    assert!(0 < reach.0 && reach.0 < stored, "{reach:?} of {stored}");
    assert_eq!(reach.0, reach.1);

    // Kept while nothing is audited: a row written behind the API's back is not counted yet
    // (this is what shows that the count is kept, not read on every request)...
    app.sql("UPDATE finding SET status = 'in_progress' WHERE title = '科室乙尚未开始的问题'")
        .await;
    assert_eq!(counts(&app, None, &admin).await, (stored, stored));
    // ...and the next audited change, here made through the other instance, shows both.
    post(
        &app,
        &second,
        &TestUser::manager("ZJTZB"),
        "mutation($i: CreateFindingInput!) { createFinding(input: $i) { id } }",
        json!({"i": {"inspectionId": "1", "title": "另一台服务器上新增的问题", "rectificationType": "IMMEDIATE", "departmentCode": "ZJTZB"}}),
    )
    .await;
    let now = count(
        &app.db,
        "SELECT COUNT(*) FROM finding WHERE status = 'not_started' AND archived_at IS NULL",
    )
    .await;
    assert_eq!(now, stored);
    assert_eq!(counts(&app, None, &admin).await, (now, now));
    assert_eq!(counts(&app, Some(&second), &admin).await, (now, now));
    assert_eq!(counts(&app, None, &manager).await, (reach.0, reach.1));

    // An archived finding leaves the count at once.
    let id = app.create_finding("随后归档的问题", "ZJTZB").await;
    assert_eq!(counts(&app, None, &admin).await, (now + 1, now + 1));
    app.data(
        &admin,
        "mutation($id: ID!, $v: Int!) { archiveFinding(id: $id, version: $v) { id } }",
        json!({"id": id, "v": app.finding_version(id.parse().unwrap()).await}),
    )
    .await;
    assert_eq!(counts(&app, None, &admin).await, (now, now));
}

/// Requests at once share reads of the change counter (one at a time), yet a count asked for
/// after a change was answered always includes it, whichever request read the counter.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_total_count_among_many_at_once_includes_every_change_answered_before_it() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicI64, Ordering};
    const TOTAL: &str = "{ findings(filter: {search: \"同时计数\"}) { totalCount } }";
    let app = Arc::new(spawn_app().await);
    let admin = TestUser::admin();
    // Changes answered so far, and changes begun: every count lies between the two.
    let answered = Arc::new(AtomicI64::new(0));
    let begun = Arc::new(AtomicI64::new(0));
    let (writers, each) = (4, 12);

    let mut tasks = Vec::new();
    for writer in 0..writers {
        let (app, answered, begun) = (app.clone(), answered.clone(), begun.clone());
        tasks.push(tokio::spawn(async move {
            for i in 0..each {
                begun.fetch_add(1, Ordering::SeqCst);
                app.create_finding(&format!("同时计数 {writer}-{i}"), "ZJTZB")
                    .await;
                answered.fetch_add(1, Ordering::SeqCst);
            }
            0
        }));
    }
    for _ in 0..12 {
        let (app, admin, answered, begun) =
            (app.clone(), admin.clone(), answered.clone(), begun.clone());
        tasks.push(tokio::spawn(async move {
            let mut asked = 0;
            loop {
                let before = answered.load(Ordering::SeqCst);
                let body = app.data(&admin, TOTAL, json!({})).await;
                let total = body["findings"]["totalCount"].as_i64().unwrap();
                let after = begun.load(Ordering::SeqCst);
                assert!(
                    before <= total && total <= after,
                    "a count of {total} asked after {before} changes were answered ({after} begun)"
                );
                asked += 1;
                if before == writers * each {
                    return asked;
                }
            }
        }));
    }
    let mut asked = 0;
    for task in tasks {
        asked += task.await.unwrap();
    }
    assert!(asked >= 12, "{asked} counts asked");
    assert_eq!(
        app.data(&admin, TOTAL, json!({})).await["findings"]["totalCount"],
        writers * each
    );
}

/// The selection a field is compared by: the field itself for a leaf; for a record, its own
/// leaves; for a page, its count and its first records' leaves.
fn probe(schema: &Schema, field: &FieldInfo) -> String {
    let leaves = |ty: &str| {
        let names: Vec<&str> = schema.fields[ty]
            .iter()
            .filter(|f| !f.needs_args && is_leaf(schema, &f.ty))
            .map(|f| f.name.as_str())
            .collect();
        if names.is_empty() {
            "__typename".to_owned()
        } else {
            names.join(" ")
        }
    };
    let name = &field.name;
    match schema.kinds[&field.ty].as_str() {
        "SCALAR" | "ENUM" => name.clone(),
        "INTERFACE" | "UNION" => format!("{name} {{ __typename }}"),
        _ => match schema.node_of(&field.ty) {
            Some(node) => format!(
                "{name}(first: 3) {{ totalCount edges {{ cursor node {{ {} }} }} }}",
                leaves(node)
            ),
            None => format!("{name} {{ {} }}", leaves(&field.ty)),
        },
    }
}

/// Every object of `answer` holding `key`, wherever it sits.
fn holding<'a>(answer: &'a Value, key: &str, out: &mut Vec<&'a Value>) {
    match answer {
        Value::Object(map) => {
            if map.contains_key(key) {
                out.push(answer);
            }
            map.values().for_each(|v| holding(v, key, out));
        }
        Value::Array(items) => items.iter().for_each(|v| holding(v, key, out)),
        _ => {}
    }
}

/// The read surfaces that answer records of type `record`, from introspection: each root field
/// answering one or a page of them (one by id: every id of `ids` aliased), and each relation
/// to them of a root list's records, as a query around `{SEL}` (the selection of each record).
fn surfaces(schema: &Schema, record: &str, ids: &[String]) -> Vec<String> {
    let answers = |ty: &str| ty == record || schema.node_of(ty) == Some(record);
    let args = |field: &FieldInfo| {
        if field.args.iter().any(|a| a == "first") {
            "(first: 50)"
        } else {
            ""
        }
    };
    let around = |field: &FieldInfo| {
        if field.ty == record {
            format!("{}{} {{ {{SEL}} }}", field.name, args(field))
        } else {
            format!("{}{} {{ nodes {{ {{SEL}} }} }}", field.name, args(field))
        }
    };
    let mut surfaces = Vec::new();
    for root in &schema.fields[&schema.query] {
        if root.ty == record && root.args == ["id"] {
            // Every finding by its id, aliased, in one operation.
            let each: Vec<String> = ids
                .iter()
                .enumerate()
                .map(|(i, id)| format!("f{i}: {}(id: \"{id}\") {{ {{SEL}} }}", root.name))
                .collect();
            surfaces.push(format!("{{ {} }}", each.join(" ")));
        } else if root.needs_args {
            continue;
        } else if answers(&root.ty) {
            surfaces.push(format!("{{ {} }}", around(root)));
        } else if let Some(node) = schema.node_of(&root.ty) {
            for field in &schema.fields[node] {
                if !field.needs_args && answers(&field.ty) {
                    surfaces.push(format!(
                        "{{ {}{} {{ nodes {{ {} }} }} }}",
                        root.name,
                        args(root),
                        around(field)
                    ));
                }
            }
        }
    }
    surfaces
}

/// Findings unlike one another in every field a finding shows, where the demo keeps them alike:
/// deadlines past and to come, people named or not, two inspections, archived and disclosed,
/// a relapse, a re-check to come and notifications in the admin's inbox.
async fn arrange_unlike(app: &TestApp) {
    let admin = TestUser::admin();
    // Dates and times are set from plain literals, one UPDATE per value: PostgreSQL casts a
    // literal to a timestamp column but not a text expression built from one.
    for day in 1..=9 {
        app.sql(&format!(
            "UPDATE finding SET updated_at = '2026-02-0{day}T08:00:00Z' WHERE id % 9 = {}",
            day - 1
        ))
        .await;
    }
    app.sql("UPDATE finding SET deadline = '2020-01-01' WHERE id % 3 = 0")
        .await;
    app.sql("UPDATE finding SET deadline = '2099-01-01' WHERE id % 3 = 1")
        .await;
    app.sql("UPDATE finding SET deadline = NULL WHERE id % 3 = 2")
        .await;
    app.sql(
        "UPDATE finding SET description = '问题描述' || id, version = 1 + id % 3, \
         responsible_leader = CASE WHEN id % 2 = 0 THEN '领导' || id END, \
         responsible_person = CASE WHEN id % 6 = 3 THEN 'Test admin' \
           WHEN id % 2 = 1 THEN '责任人' || id END",
    )
    .await;
    app.sql(
        "UPDATE finding SET disclosed = false, archived_at = '2026-03-01T00:00:00Z', \
         created_at = '2025-12-31T00:00:00Z' WHERE id = (SELECT MAX(id) FROM finding)",
    )
    .await;
    // A stage (阶段目标) on one long-term finding, the others none.
    app.sql(
        "INSERT INTO stage (finding_id, ordinal, content, target_on, version, created_at, updated_at) \
         VALUES ((SELECT MIN(id) FROM finding WHERE rectification_type = 'long_term'), 1, '第一阶段', \
         '2021-06-30', 1, '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')",
    )
    .await;
    let created = app
        .data(
            &admin,
            "mutation($i: CreateInspectionInput!) { createInspection(input: $i) { id } }",
            json!({"i": {"title": "第二轮巡察", "inspectionGroup": "市委第一巡察组", "unitCode": "ZJTZB", "startedOn": "2026-01-05"}}),
        )
        .await;
    let second = created["createInspection"]["id"].as_str().unwrap();
    app.sql(&format!(
        "UPDATE finding SET inspection_id = {second} WHERE id = (SELECT MIN(id) FROM finding)"
    ))
    .await;
    let closed = app
        .data(
            &admin,
            "{ findings(filter: {status: [CLOSED]}) { nodes { id inspection { id } } } }",
            json!({}),
        )
        .await;
    let closed = closed["findings"]["nodes"].as_array().unwrap().clone();
    assert!(closed.len() >= 2, "closed findings: {closed:?}");
    app.data(
        &admin,
        "mutation($id: ID!) { recordRecheck(findingId: $id, passed: false, note: \"整改不到位，问题反弹\") { kind } }",
        json!({"id": closed[0]["id"]}),
    )
    .await;
    app.data(
        &admin,
        "mutation($i: ScheduleRechecksInput!) { scheduleRechecks(input: $i) { dueOn } }",
        json!({"i": {"inspectionId": closed[1]["inspection"]["id"], "findingIds": [closed[1]["id"]], "dueOn": "2099-06-01", "assignee": "机关纪委"}}),
    )
    .await;
    // A supervision order about one finding.
    let issued = app
        .data(
            &admin,
            "mutation($i: IssueSupervisionOrderInput!) { issueSupervisionOrder(input: $i) { id } }",
            json!({"i": {"findingIds": [closed[1]["id"]], "level": "KEY", "requirement": "请报送整改情况", "replyDeadline": "2099-01-01"}}),
        )
        .await;
    assert!(
        issued["issueSupervisionOrder"]["id"].is_string(),
        "{issued}"
    );
    // The public's letter about a bulletin, linked to a finding by the unit's manager.
    let manager = TestUser::manager("ZJTZB");
    let bulletin = app.published_bulletin(&manager).await;
    crate::public_feedback::send(app, &bulletin, "整改进度请及时公开").await;
    let letters = app
        .data(
            &manager,
            "{ publicFeedback(first: 1) { nodes { id } } }",
            json!({}),
        )
        .await;
    let linked = app
        .data(
            &manager,
            "mutation($id: ID!, $f: ID!) { linkPublicFeedback(id: $id, findingId: $f) { finding { id } } }",
            json!({"id": letters["publicFeedback"]["nodes"][0]["id"], "f": closed[1]["id"]}),
        )
        .await;
    assert_eq!(
        linked["linkPublicFeedback"]["finding"]["id"], closed[1]["id"],
        "{linked}"
    );
    // The admin is the responsible person of overdue findings: a second instance's sweep at
    // start-up fills its inbox.
    app.another(&["--jwt-secret", SECRET, "--warning-alerts", "true"])
        .await;
    let started = std::time::Instant::now();
    while count(
        &app.db,
        "SELECT COUNT(*) FROM notification WHERE recipient = 'Test admin'",
    )
    .await
        == 0
    {
        assert!(
            started.elapsed().as_secs() < 30,
            "no notification for the admin"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// A read decodes only the columns its selection's fields read. For every field of a finding
/// (from introspection), on every surface that answers findings, and for every role, the field
/// asked for alone answers what it answers among every field of the record; and every field
/// takes two values or more across the records, so that a column a field forgot to declare
/// (read as a placeholder alike for every record) cannot pass unseen.
#[tokio::test]
async fn a_field_asked_for_alone_answers_as_it_does_among_every_field() {
    let app = spawn_unbounded().await;
    arrange_unlike(&app).await;
    let introspection = app.data(&TestUser::admin(), INTROSPECTION, json!({})).await;
    let schema = Schema::from(&introspection);
    let fields: Vec<&FieldInfo> = schema.fields["Finding"]
        .iter()
        .filter(|f| !f.needs_args)
        .collect();
    assert!(fields.len() >= 20, "{} fields", fields.len());
    let every: Vec<String> = fields.iter().map(|f| probe(&schema, f)).collect();

    let callers = [
        ("admin", TestUser::admin()),
        ("officer", TestUser::officer("ZJTZB-BGS")),
        ("viewer", TestUser::viewer(Some("ZJTZB"))),
    ];
    for (role, token) in &callers {
        // The record with every field, as the root list answers it (archived ones too).
        let full = app
            .data(
                token,
                &format!(
                    "{{ findings(first: 100, filter: {{includeArchived: true}}) {{ pageInfo {{ hasNextPage }} nodes {{ {} }} }} }}",
                    every.join(" ")
                ),
                json!({}),
            )
            .await;
        assert_eq!(full["findings"]["pageInfo"]["hasNextPage"], false);
        let nodes = full["findings"]["nodes"].as_array().unwrap();
        assert!(nodes.len() >= 3, "{role} reads {} findings", nodes.len());
        let reference: HashMap<&str, &Value> = nodes
            .iter()
            .map(|n| (n["id"].as_str().unwrap(), n))
            .collect();
        if *role == "admin" {
            let alike: Vec<(&str, String)> = fields
                .iter()
                .filter_map(|field| {
                    let values: HashSet<String> =
                        nodes.iter().map(|n| n[&field.name].to_string()).collect();
                    (values.len() < 2).then(|| (field.name.as_str(), format!("{values:?}")))
                })
                .collect();
            assert!(
                alike.is_empty(),
                "fields alike for every finding: {alike:?}"
            );
        }
        let ids: Vec<String> = reference.keys().map(|id| id.to_string()).collect();
        let surfaces = surfaces(&schema, "Finding", &ids);
        assert!(surfaces.len() >= 4, "{surfaces:?}");
        compare_alone(
            &app, token, role, &schema, "Finding", &fields, &reference, surfaces,
        )
        .await;
    }
}

/// On each surface (a query around `{SEL}`), each of `fields` of a `record` asked for alone as
/// `role` answers what `reference` (each record with every field, by id) holds; every surface
/// answers the admin some records.
#[allow(clippy::too_many_arguments)]
async fn compare_alone(
    app: &TestApp,
    token: &str,
    role: &str,
    schema: &Schema,
    record: &str,
    fields: &[&FieldInfo],
    reference: &HashMap<&str, &Value>,
    surfaces: Vec<String>,
) {
    for surface in surfaces {
        let mut compared = 0;
        for field in fields {
            let query = surface.replace("{SEL}", &format!("id probe: {}", probe(schema, field)));
            let (status, body) = app.gql(Some(token), &query, json!({})).await;
            assert_eq!(status, 200, "{query}\n{body}");
            assert!(body.get("errors").is_none(), "{role}: {query}\n{body}");
            let mut found = Vec::new();
            holding(&body["data"], "probe", &mut found);
            for node in &found {
                let id = node["id"].as_str().unwrap();
                let Some(want) = reference.get(id) else {
                    panic!("{role}: {record} {id} is not among every record\n{query}");
                };
                assert_eq!(
                    node["probe"], want[&field.name],
                    "{role}, {record} {id}, {}: {query}",
                    field.name
                );
                compared += 1;
            }
        }
        assert!(
            compared > 0 || role != "admin",
            "{role} finds no {record} on {surface}"
        );
    }
}

/// Ledger entries, measures and regulations unlike one another in every field they show: entries of
/// every kind, by two authors, with and without a measure, one correcting another, written on
/// different days; regulations with and without a document number, issuer or issue date, of
/// several fields and statuses, one archived, one changed.
async fn arrange_unlike_entries_and_regulations(app: &TestApp) {
    let admin = TestUser::admin();
    let finding = app
        .data(
            &admin,
            "{ findings(first: 1, filter: {status: [IN_PROGRESS]}) { nodes { id measures { id } } } }",
            json!({}),
        )
        .await;
    let finding = &finding["findings"]["nodes"][0];
    let id = finding["id"].as_str().unwrap();
    let measure = finding["measures"][0]["id"].as_str().unwrap();
    for (kind, measure, day) in [
        ("MEETING", Value::Null, "2026-01-05"),
        ("COMMENT", json!(measure), "2026-01-06"),
        ("PROGRESS", json!(measure), "2026-01-07"),
    ] {
        app.data(
            &TestUser::manager("ZJTZB"),
            "mutation($i: AddProgressEntryInput!) { addProgressEntry(input: $i) { id } }",
            json!({"i": {"findingId": id, "measureId": measure, "kind": kind,
                "entryDate": day, "content": format!("{kind} 台账记录"),
                "links": [{"title": format!("{kind} 佐证"), "url": "https://example.org/a.pdf"}]}}),
        )
        .await;
    }
    let entries = app
        .data(
            &admin,
            "query($id: ID!) { finding(id: $id) { progress(last: 1) { nodes { id } } } }",
            json!({"id": id}),
        )
        .await;
    let last = &entries["finding"]["progress"]["nodes"][0]["id"];
    app.data(
        &admin,
        "mutation($id: ID!) { correctProgressEntry(entryId: $id, content: \"更正：日期有误\") { id } }",
        json!({"id": last}),
    )
    .await;
    // Written on another day (the ledger refuses updates: the row is added as it was).
    app.sql(&format!(
        "INSERT INTO progress_entry (finding_id, entry_date, kind, content, author_sub, \
         author_name, created_at) VALUES ({id}, '2025-12-01', 'meeting', '专题会议', 'u-9', \
         NULL, '2025-12-01T09:00:00Z')"
    ))
    .await;
    // Measures: due past, to come (after their finding's deadline: a notice) and never; each
    // status; named or not; a section's or their finding's; changed at different times, one
    // archived.
    app.sql("UPDATE finding SET deadline = '2026-06-30'").await;
    // (Dates from plain literals, one UPDATE per value, as for findings above.)
    app.sql("UPDATE measure SET deadline = '2020-01-01', status = 'planned' WHERE id % 3 = 0")
        .await;
    app.sql("UPDATE measure SET deadline = '2099-12-31', status = 'in_progress' WHERE id % 3 = 1")
        .await;
    app.sql(
        "UPDATE measure SET deadline = NULL, status = 'done', completed_on = '2026-01-02' \
         WHERE id % 3 = 2",
    )
    .await;
    app.sql("UPDATE measure SET completed_on = NULL WHERE id % 3 <> 2")
        .await;
    app.sql(
        "UPDATE measure SET responsible_person = CASE WHEN id % 2 = 0 THEN '责任人' || id END, \
         department_id = CASE WHEN id % 4 = 0 THEN \
           (SELECT id FROM department WHERE code = 'ZJTZB-BGS') END, \
         version = 1 + id % 3",
    )
    .await;
    for day in 1..=9 {
        app.sql(&format!(
            "UPDATE measure SET updated_at = '2026-02-0{day}T08:00:00Z' WHERE id % 9 = {}",
            day - 1
        ))
        .await;
    }
    app.sql(
        "UPDATE measure SET archived_at = '2026-03-01T00:00:00Z' \
         WHERE id = (SELECT MAX(id) FROM measure)",
    )
    .await;
    for (title, number, domain, status, issuer) in [
        (
            "财务报销管理办法",
            Some("湛统发〔2026〕3号"),
            "FINANCE",
            "IN_FORCE",
            "ZJTZB-BGS",
        ),
        ("干部选拔任用工作规程", None, "PERSONNEL", "DRAFT", "ZJTZB"),
    ] {
        let made = app
            .data(
                &admin,
                "mutation($i: CreateRegulationInput!) { createRegulation(input: $i) { id version } }",
                json!({"i": {"title": title, "documentNumber": number, "domain": domain,
                    "status": status, "departmentCode": issuer,
                    "issuedOn": number.map(|_| "2026-02-01")}}),
            )
            .await;
        let made = &made["createRegulation"];
        app.data(
            &admin,
            "mutation($f: ID!, $r: ID!) { linkRegulation(findingId: $f, regulationId: $r) { id } }",
            json!({"f": id, "r": made["id"]}),
        )
        .await;
        if number.is_none() {
            app.data(
                &admin,
                "mutation($id: ID!, $v: Int!) { archiveRegulation(id: $id, version: $v) { id } }",
                json!({"id": made["id"], "v": made["version"]}),
            )
            .await;
        }
    }
}

/// What `reads.rs` asks of findings, for the other records read by their shown fields' columns
/// (ledger entries under their findings, regulations and measures): every field (from
/// introspection) asked for alone, on every surface that answers the record and for every
/// role, answers what it answers among every field of the record; every field takes two
/// values or more for the admin, so that a column left out cannot pass as a placeholder.
#[tokio::test]
async fn an_entry_measure_or_regulation_field_alone_answers_as_among_every_field() {
    let app = spawn_unbounded().await;
    arrange_unlike_entries_and_regulations(&app).await;
    let introspection = app.data(&TestUser::admin(), INTROSPECTION, json!({})).await;
    let schema = Schema::from(&introspection);
    // Each record type, and the query answering every record of it with `{EVERY}`.
    let types = [
        (
            "ProgressEntry",
            "{ findings(first: 100, filter: {includeArchived: true}) { nodes { progress(first: 100) { pageInfo { hasNextPage } nodes { all: __typename {EVERY} } } } } }",
        ),
        (
            "Regulation",
            "{ regulations(first: 100, filter: {includeArchived: true}) { pageInfo { hasNextPage } nodes { all: __typename {EVERY} } } }",
        ),
        (
            "Measure",
            "{ measures(first: 100, filter: {includeArchived: true}) { pageInfo { hasNextPage } nodes { all: __typename {EVERY} } } }",
        ),
    ];
    let callers = [
        ("admin", TestUser::admin()),
        ("officer", TestUser::officer("ZJTZB-BGS")),
    ];
    for (record, every_query) in types {
        let fields: Vec<&FieldInfo> = schema.fields[record]
            .iter()
            .filter(|f| !f.needs_args)
            .collect();
        let every: Vec<String> = fields.iter().map(|f| probe(&schema, f)).collect();
        for (role, token) in &callers {
            let full = app
                .data(
                    token,
                    &every_query.replace("{EVERY}", &every.join(" ")),
                    json!({}),
                )
                .await;
            let mut pages = Vec::new();
            holding(&full, "hasNextPage", &mut pages);
            assert!(pages.iter().all(|p| p["hasNextPage"] == false), "{record}");
            let mut nodes = Vec::new();
            holding(&full, "all", &mut nodes);
            assert!(
                nodes.len() >= 3 || *role != "admin",
                "{role} reads {} {record}",
                nodes.len()
            );
            let reference: HashMap<&str, &Value> = nodes
                .iter()
                .map(|n| (n["id"].as_str().unwrap(), *n))
                .collect();
            if *role == "admin" {
                let alike: Vec<&str> = fields
                    .iter()
                    .filter(|field| {
                        let values: HashSet<String> =
                            nodes.iter().map(|n| n[&field.name].to_string()).collect();
                        values.len() < 2
                    })
                    .map(|field| field.name.as_str())
                    .collect();
                assert!(alike.is_empty(), "{record} fields alike: {alike:?}");
            }
            // Forty by id in one operation (two aliases each: within the alias budget).
            let mut ids: Vec<String> = reference.keys().map(|id| id.to_string()).collect();
            ids.sort();
            ids.truncate(40);
            let surfaces = surfaces(&schema, record, &ids);
            assert!(!surfaces.is_empty(), "no surface answers {record}");
            compare_alone(
                &app, token, role, &schema, record, &fields, &reference, surfaces,
            )
            .await;
        }
    }
}
