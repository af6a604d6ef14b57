//! `viewerCan` and `allowedTransitions` tell the truth: for every role and every demo record,
//! each flag equals what the corresponding mutation actually does (tried as a dry run, which
//! makes the change and undoes it, so that every flag is tried against the same state).

use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser, spawn_app};

/// A record with its update mutation, the input that mutation takes, and its archive mutation.
type Record = (Value, &'static str, fn(&Value) -> Value, &'static str);

fn simple(
    list: Vec<Value>,
    update: &'static str,
    input: fn(&Value) -> Value,
    archive: &'static str,
) -> Vec<Record> {
    list.into_iter()
        .map(|n| (n, update, input, archive))
        .collect()
}
const PAGE: &str = "{
  findings(first: 100, filter: {includeArchived: true}) { edges { node { id version title
    viewerCan { update archive start submit approve return reopen recheck addProgress addMeasure }
    allowedTransitions
    measures { id version viewerCan { update archive addProgress } }
    targets { id version viewerCan { update archive addProgress } } } } }
}";
const OTHERS: &str = "{
  reports(first: 100) { edges { node { id viewerCan { submit publish } } } }
  regulations(first: 100) { edges { node { id version viewerCan { update archive addProgress } } } }
  inspections(first: 100) { edges { node { id version viewerCan { update archive addProgress }
    categories { id version viewerCan { update archive addProgress } } } } }
  departments(first: 100) { edges { node { id version viewerCan { update archive addProgress } } } }
}";

/// Runs a mutation as a dry run; whether it would succeed.
async fn would(app: &TestApp, token: &str, query: &str, variables: Value) -> bool {
    let response = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(token)
        .header("Rectrack-Dry-Run", "true")
        .json(&json!({"query": query, "variables": variables}))
        .send()
        .await
        .unwrap();
    let body: Value = response.json().await.unwrap();
    if let Some(errors) = body["errors"].as_array() {
        let code = errors[0]["extensions"]["code"].as_str().unwrap_or("");
        assert_ne!(code, "INTERNAL_SERVER_ERROR", "{body}");
        false
    } else {
        true
    }
}

fn nodes(page: &Value, list: &str) -> Vec<Value> {
    page[list]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"].clone())
        .collect()
}

async fn arrange(app: &TestApp) {
    let admin = TestUser::admin();
    let manager = TestUser::manager("ZJTZB");
    // A finding not started, and one pending review (submitted by the unit's manager).
    app.data(&admin, "mutation { createFinding(input: {inspectionId: 1, title: \"新问题\", rectificationType: BY_DEADLINE, departmentCode: \"ZJTZB-BGS\"}) { id } }", json!({})).await;
    // Finding 3 is long-term: it may be submitted with measures still open.
    let f = app.finding_id(3).await.to_string();
    app.data(&manager, "mutation($f: ID!) { submitForCloseOut(findingId: $f, summary: \"已完成\", noEvidenceReason: \"纪要存档\") { status } }", json!({"f": f})).await;
    // A report and a bulletin, drafts.
    app.data(
        &manager,
        "mutation { generateReport(inspectionId: 1) { id } }",
        json!({}),
    )
    .await;
    app.data(
        &manager,
        "mutation { generateBulletin(inspectionId: 1) { id } }",
        json!({}),
    )
    .await;
}

#[tokio::test]
async fn every_flag_equals_what_its_mutation_does_for_every_role_and_record() {
    let app = spawn_app().await;
    arrange(&app).await;
    let callers = [
        TestUser::admin(),
        TestUser::inspector(),
        TestUser::viewer(None),
        TestUser::manager("ZJTZB"),
        TestUser::manager("ZJTZB-BGS"),
        TestUser::officer("ZJTZB-BGS"),
        TestUser::officer("ZJTZB-ZJK"),
        TestUser::viewer(Some("ZJTZB")),
    ];
    let mut checked = 0;
    let mut true_flags = 0;
    for token in &callers {
        let mut page = app.data(token, PAGE, json!({})).await;
        let others = app.data(token, OTHERS, json!({})).await;
        for (k, v) in others.as_object().unwrap() {
            page[k] = v.clone();
        }
        let mut expect = |flag: bool, actual: bool, what: String| {
            assert_eq!(flag, actual, "{what}");
            checked += 1;
            if flag {
                true_flags += 1;
            }
        };
        for f in nodes(&page, "findings") {
            let (id, v) = (f["id"].clone(), f["version"].clone());
            let can = &f["viewerCan"];
            let tries: [(&str, &str, Value); 10] = [
                (
                    "update",
                    "mutation($i: UpdateFindingInput!) { updateFinding(input: $i) { id } }",
                    json!({"i": {"id": id, "version": v, "title": format!("{}（改）", f["title"].as_str().unwrap())}}),
                ),
                (
                    "archive",
                    "mutation($id: ID!, $v: Int!) { archiveFinding(id: $id, version: $v) { id } }",
                    json!({"id": id, "v": v}),
                ),
                (
                    "start",
                    "mutation($id: ID!, $v: Int) { startFinding(findingId: $id, version: $v) { id } }",
                    json!({"id": id, "v": v}),
                ),
                (
                    "submit",
                    "mutation($id: ID!, $v: Int) { submitForCloseOut(findingId: $id, summary: \"完成\", noEvidenceReason: \"纪要存档\", version: $v) { id } }",
                    json!({"id": id, "v": v}),
                ),
                (
                    "approve",
                    "mutation($id: ID!, $v: Int) { approveCloseOut(findingId: $id, version: $v) { id } }",
                    json!({"id": id, "v": v}),
                ),
                (
                    "return",
                    "mutation($id: ID!, $v: Int) { returnFinding(findingId: $id, reason: \"再改\", version: $v) { id } }",
                    json!({"id": id, "v": v}),
                ),
                (
                    "reopen",
                    "mutation($id: ID!, $v: Int) { reopenFinding(findingId: $id, reason: \"反弹\", version: $v) { id } }",
                    json!({"id": id, "v": v}),
                ),
                (
                    "recheck",
                    "mutation($id: ID!) { recordRecheck(findingId: $id, passed: true, note: \"未反弹\") { id } }",
                    json!({"id": id}),
                ),
                (
                    "addProgress",
                    "mutation($id: ID!) { addProgressEntry(input: {findingId: $id, content: \"推进中\"}) { id } }",
                    json!({"id": id}),
                ),
                (
                    "addMeasure",
                    "mutation($id: ID!) { createMeasure(input: {findingId: $id, content: \"新措施\"}) { id } }",
                    json!({"id": id}),
                ),
            ];
            let mut moves = Vec::new();
            for (flag, query, variables) in tries {
                let did = would(&app, token, query, variables).await;
                if did && ["start", "submit", "approve", "return", "reopen"].contains(&flag) {
                    moves.push(match flag {
                        "return" => "RETURN".to_owned(),
                        other => other.to_uppercase(),
                    });
                }
                expect(
                    can[flag].as_bool().unwrap(),
                    did,
                    format!("finding {id} {flag} for {token}"),
                );
            }
            let allowed: Vec<String> = f["allowedTransitions"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m.as_str().unwrap().to_owned())
                .collect();
            assert_eq!(allowed, moves, "finding {id} transitions");
            for m in f["measures"].as_array().unwrap() {
                let (mid, mv) = (m["id"].clone(), m["version"].clone());
                let c = &m["viewerCan"];
                let tries = [
                    (
                        "update",
                        "mutation($i: UpdateMeasureInput!) { updateMeasure(input: $i) { id } }",
                        json!({"i": {"id": mid, "version": mv, "content": "措施（改）"}}),
                    ),
                    (
                        "archive",
                        "mutation($id: ID!, $v: Int!) { archiveMeasure(id: $id, version: $v) { id } }",
                        json!({"id": mid, "v": mv}),
                    ),
                    (
                        "addProgress",
                        "mutation($f: ID!, $m: ID!) { addProgressEntry(input: {findingId: $f, measureId: $m, content: \"措施推进\"}) { id } }",
                        json!({"f": id, "m": mid}),
                    ),
                ];
                for (flag, query, variables) in tries {
                    let did = would(&app, token, query, variables).await;
                    expect(
                        c[flag].as_bool().unwrap(),
                        did,
                        format!("measure {mid} {flag}"),
                    );
                }
            }
            for t in f["targets"].as_array().unwrap() {
                let (tid, tv) = (t["id"].clone(), t["version"].clone());
                let c = &t["viewerCan"];
                let did = would(
                    &app,
                    token,
                    "mutation($i: UpdateTargetInput!) { updateTarget(input: $i) { id } }",
                    json!({"i": {"id": tid, "version": tv, "name": "目标（改）"}}),
                )
                .await;
                expect(
                    c["update"].as_bool().unwrap(),
                    did,
                    format!("target {tid} update"),
                );
                let did = would(
                    &app,
                    token,
                    "mutation($id: ID!, $v: Int!) { archiveTarget(id: $id, version: $v) { id } }",
                    json!({"id": tid, "v": tv}),
                )
                .await;
                expect(
                    c["archive"].as_bool().unwrap(),
                    did,
                    format!("target {tid} archive"),
                );
            }
        }
        for r in nodes(&page, "reports") {
            let c = &r["viewerCan"];
            let did = would(
                &app,
                token,
                "mutation($id: ID!) { submitReport(id: $id) { id } }",
                json!({"id": r["id"]}),
            )
            .await;
            expect(
                c["submit"].as_bool().unwrap(),
                did,
                format!("report {} submit", r["id"]),
            );
            let did = would(
                &app,
                token,
                "mutation($id: ID!) { publishBulletin(id: $id) { id } }",
                json!({"id": r["id"]}),
            )
            .await;
            expect(
                c["publish"].as_bool().unwrap(),
                did,
                format!("report {} publish", r["id"]),
            );
        }
        let mut records: Vec<Record> = Vec::new();
        records.extend(simple(
            nodes(&page, "regulations"),
            "mutation($i: UpdateRegulationInput!) { updateRegulation(input: $i) { id } }",
            |n| json!({"i": {"id": n["id"], "version": n["version"], "title": "制度（改）"}}),
            "archiveRegulation",
        ));
        records.extend(simple(
            nodes(&page, "departments"),
            "mutation($i: UpdateDepartmentInput!) { updateDepartment(input: $i) { id } }",
            |n| json!({"i": {"id": n["id"], "version": n["version"], "name": "部门（改）"}}),
            "archiveDepartment",
        ));
        for i in nodes(&page, "inspections") {
            for c in i["categories"].as_array().unwrap() {
                records.extend(simple(vec![c.clone()], "mutation($id: ID!, $v: Int!) { updateCategory(id: $id, version: $v, title: \"方面（改）\") { id } }", |n| json!({"id": n["id"], "v": n["version"]}), "archiveCategory"));
            }
            records.extend(simple(
                vec![i],
                "mutation($i: UpdateInspectionInput!) { updateInspection(input: $i) { id } }",
                |n| json!({"i": {"id": n["id"], "version": n["version"], "title": "巡察（改）"}}),
                "archiveInspection",
            ));
        }
        for (n, update, input, archive) in records {
            let c = &n["viewerCan"];
            let did = would(&app, token, update, input(&n)).await;
            expect(
                c["update"].as_bool().unwrap(),
                did,
                format!("{update} {}", n["id"]),
            );
            let query = format!(
                "mutation($id: ID!, $v: Int!) {{ {archive}(id: $id, version: $v) {{ id }} }}"
            );
            let did = would(
                &app,
                token,
                &query,
                json!({"id": n["id"], "v": n["version"]}),
            )
            .await;
            expect(
                c["archive"].as_bool().unwrap(),
                did,
                format!("{archive} {}", n["id"]),
            );
            assert_eq!(c["addProgress"], false);
        }
    }
    // Both answers occur: the flags are not all one way.
    assert!(
        checked > 1_000 && true_flags > 100 && true_flags < checked,
        "{checked} {true_flags}"
    );
    // And nothing was changed by the dry runs.
    let (_, body) = app
        .gql(
            Some(&TestUser::admin()),
            "{ findings(first: 1) { edges { node { title version } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        body["data"]["findings"]["edges"][0]["node"]["version"], 1,
        "{body}"
    );
}
