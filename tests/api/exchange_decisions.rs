//! The office's decisions carried back to the unit (issue 43, office → unit): two real
//! servers, the unit's and the office's (one on SQLite, the other on the engine under test,
//! and the reverse). The office reviews the close-out of findings merged from the unit; its
//! decisions travel in a signed, numbered bundle and are applied at the unit through the
//! unit's own close-out command, as the office; a decision the unit's records no longer fit is
//! a conflict kept for a person (JSON and XLSX, in Chinese), in both audit trails, never forced;
//! a bundle received twice, or decisions carried twice before they were answered, change
//! nothing twice.

use serde_json::{Value, json};

use crate::exchange::{Dir, identity, register, succeeds};
use crate::helpers::{TestApp, TestDb, TestUser, count, spawn_app_on};

const SECRET_FLAGS: &[&str] = &["--jwt-secret", crate::helpers::SECRET];

async fn pair(unit_on_sqlite: bool) -> (TestApp, TestApp, String, String) {
    let (unit_db, office_db) = if unit_on_sqlite {
        (TestDb::sqlite().await, TestDb::new().await)
    } else {
        (TestDb::new().await, TestDb::sqlite().await)
    };
    let unit = spawn_app_on(unit_db, SECRET_FLAGS).await;
    let office = spawn_app_on(office_db, SECRET_FLAGS).await;
    let unit_identity = identity(&unit.data_dir);
    let office_identity = identity(&office.data_dir);
    let office_id = register(&unit, &office_identity, "市委巡察办").await;
    let unit_id = register(&office, &unit_identity, "市委统战部").await;
    (unit, office, unit_id, office_id)
}

/// Writes `app`'s next bundle for `to` with its command line; answers the file's bytes.
fn export(app: &TestApp, to: &str, dir: &Dir, name: &str) -> Vec<u8> {
    let file = dir.0.join(name);
    succeeds(
        &app.test_db.url,
        &app.data_dir,
        &[
            "exchange",
            "export",
            "--to",
            to,
            "-o",
            file.to_str().unwrap(),
        ],
    );
    std::fs::read(file).unwrap()
}

/// Imports a bundle over REST as an administrator; answers the body.
async fn import(app: &TestApp, bytes: Vec<u8>) -> Value {
    let response = app
        .client
        .post(app.url("/api/v1/exchange/bundles"))
        .bearer_auth(TestUser::admin())
        .header("content-type", "application/octet-stream")
        .body(bytes)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, 200, "{body}");
    body
}

/// Records an acknowledgement with the command line.
fn ack(app: &TestApp, acknowledgement: &Value, dir: &Dir, name: &str) -> String {
    let file = dir.0.join(name);
    std::fs::write(&file, acknowledgement.to_string()).unwrap();
    succeeds(
        &app.test_db.url,
        &app.data_dir,
        &["exchange", "ack", file.to_str().unwrap()],
    )
}

/// A finding of the unit submitted for close-out: answers its id.
async fn submitted(unit: &TestApp, title: &str) -> i64 {
    let id = unit.create_finding(title, "ZJTZB-BGS").await;
    let manager = TestUser::manager("ZJTZB");
    unit.data(
        &TestUser::officer("ZJTZB-BGS"),
        "mutation($i: AddProgressEntryInput!) { addProgressEntry(input: $i) { id } }",
        json!({"i": {"findingId": id, "content": "已召开专题会议整改"}}),
    )
    .await;
    unit.data(
        &manager,
        "mutation($id: ID!) { submitForCloseOut(findingId: $id, summary: \"整改完成\", noEvidenceReason: \"会议纪要另行报送\") { status } }",
        json!({"id": id}),
    )
    .await;
    id.parse().unwrap()
}

async fn status(app: &TestApp, finding: i64) -> String {
    app.rows(&format!("SELECT status FROM finding WHERE id = {finding}"))
        .await[0]
        .try_get::<String>("", "status")
        .unwrap()
}

/// The status-change entries of a finding's ledger that record an approval.
async fn approvals(app: &TestApp, finding: i64) -> Vec<(String, String)> {
    app.rows(&format!(
        "SELECT author_sub, author_name FROM progress_entry WHERE finding_id = {finding} \
         AND kind = 'status_change' AND content LIKE '审核通过%' ORDER BY id"
    ))
    .await
    .iter()
    .map(|r| {
        (
            r.try_get::<String>("", "author_sub").unwrap(),
            r.try_get::<Option<String>>("", "author_name")
                .unwrap()
                .unwrap_or_default(),
        )
    })
    .collect()
}

async fn local(office: &TestApp, origin_id: i64) -> i64 {
    count(
        &office.db,
        &format!(
            "SELECT local_id FROM exchange_origin WHERE kind = 'finding' AND origin_id = {origin_id}"
        ),
    )
    .await
}

async fn conflicts(app: &TestApp) -> Value {
    let response = app
        .client
        .get(app.url("/api/v1/exchange/conflicts"))
        .bearer_auth(TestUser::admin())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    response.json().await.unwrap()
}

async fn decisions_go_back(unit_on_sqlite: bool) {
    let (unit, office, unit_id, office_id) = pair(unit_on_sqlite).await;
    let dir = Dir::new("decisions");
    let approved = submitted(&unit, "会议纪要不规范").await;
    let returned = submitted(&unit, "台账登记不及时").await;

    // The unit's records reach the office; the office acknowledges them.
    let merged = import(&office, export(&unit, &office_id, &dir, "u1.zip")).await;
    assert_eq!(merged["result"], "merged");
    ack(&unit, &merged["acknowledgement"], &dir, "u1.ack.json");
    let (office_approved, office_returned) = (
        local(&office, approved).await,
        local(&office, returned).await,
    );
    assert_eq!(status(&office, office_approved).await, "pending_review");

    // The office reviews them: approval of one, return of the other.
    let inspector = TestUser::inspector();
    office
        .data(
            &inspector,
            "mutation($id: ID!) { approveCloseOut(findingId: $id, comment: \"同意销号\") { status } }",
            json!({"id": office_approved.to_string()}),
        )
        .await;
    office
        .data(
            &inspector,
            "mutation($id: ID!) { returnFinding(findingId: $id, reason: \"佐证材料不足\") { status } }",
            json!({"id": office_returned.to_string()}),
        )
        .await;
    // The office's view moves at once, but the ledger of a unit's finding is the unit's: no
    // entry is written at the office for the decision.
    assert_eq!(status(&office, office_approved).await, "closed");
    assert!(approvals(&office, office_approved).await.is_empty());
    // The unit's own procedure meanwhile closes the second finding (its reviewer approved it):
    // the office's return no longer fits.
    unit.data(
        &TestUser::inspector(),
        "mutation($id: ID!) { approveCloseOut(findingId: $id, comment: \"单位审核通过\") { status } }",
        json!({"id": returned.to_string()}),
    )
    .await;

    // The office's decisions travel in its bundle to the unit.
    let decisions = export(&office, &unit_id, &dir, "o1.zip");
    let applied = import(&unit, decisions.clone()).await;
    assert_eq!(applied["result"], "merged", "{applied}");
    assert_eq!(applied["sequence"], 1);
    assert_eq!(applied["counts"]["decision"], 2, "{applied}");
    assert_eq!(applied["counts"]["applied"], 1);
    assert_eq!(applied["counts"]["conflict"], 1);
    let outcomes = applied["acknowledgement"]["decisions"].as_array().unwrap();
    assert_eq!(outcomes.len(), 2, "{applied}");
    assert_eq!(outcomes[0]["result"], "applied");
    assert_eq!(outcomes[1]["result"], "conflict");
    assert_eq!(outcomes[1]["code"], "CONFLICT", "{applied}");
    let reason = outcomes[1]["message"].as_str().unwrap().to_owned();
    assert!(
        reason.contains("已销号"),
        "the reason names where the finding is: {reason}"
    );

    // Applied through the unit's own procedure, as the office.
    assert_eq!(status(&unit, approved).await, "closed");
    assert_eq!(status(&unit, returned).await, "closed");
    let by_office = approvals(&unit, approved).await;
    assert_eq!(
        by_office,
        vec![(
            format!("exchange:{office_id}"),
            "市委巡察办·Test inspector".to_owned()
        )]
    );
    let audited = count(
        &unit.db,
        &format!(
            "SELECT COUNT(*) FROM audit_event WHERE action = 'finding.approveCloseOut' \
             AND entity_id = '{approved}' AND actor_sub = 'exchange:{office_id}'"
        ),
    )
    .await;
    assert_eq!(audited, 1);
    let conflict_events =
        "SELECT COUNT(*) FROM audit_event WHERE action = 'exchange.decision.conflict'";
    assert_eq!(count(&unit.db, conflict_events).await, 1);

    // The conflict report at the unit, as JSON and as a workbook, in Chinese.
    let report = conflicts(&unit).await;
    assert_eq!(report["title"], "报送往来冲突报告");
    let lines = report["conflicts"].as_array().unwrap();
    assert_eq!(lines.len(), 1, "{report}");
    assert_eq!(lines[0]["side"], "unit");
    assert_eq!(lines[0]["sideLabel"], "收到的决定未能执行");
    assert_eq!(lines[0]["findingId"], returned);
    assert_eq!(lines[0]["findingTitle"], "台账登记不及时");
    assert_eq!(lines[0]["moveLabel"], "退回整改");
    assert_eq!(lines[0]["text"], "佐证材料不足");
    assert_eq!(lines[0]["reason"], reason.as_str());
    let response = unit
        .client
        .get(unit.url("/api/v1/exchange/conflicts?format=xlsx"))
        .bearer_auth(TestUser::admin())
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.headers()["content-type"],
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    let cells = sheet_text(&response.bytes().await.unwrap());
    for expected in [
        "报送往来冲突报告",
        "收到的决定未能执行",
        "台账登记不及时",
        "佐证材料不足",
        reason.as_str(),
        "市委巡察办",
    ] {
        assert!(
            cells.iter().any(|c| c == expected),
            "{expected} in {cells:?}"
        );
    }
    // A unit's manager without the right to the exchange of another unit sees nothing of it.
    let response = unit
        .client
        .get(unit.url("/api/v1/exchange/conflicts"))
        .bearer_auth(TestUser::manager("ZJSW-XCB"))
        .send()
        .await
        .unwrap();
    let other: Value = response.json().await.unwrap();
    assert_eq!(other["conflicts"], json!([]), "{other}");

    // The same bundle again: a no-op that answers the same outcomes.
    let again = import(&unit, decisions).await;
    assert_eq!(again["result"], "duplicate");
    assert_eq!(again["acknowledgement"]["decisions"], json!(outcomes));
    // The office writes its next bundle before the unit's answer reached it: the decisions
    // travel again and are not applied twice.
    let carried_again = import(&unit, export(&office, &unit_id, &dir, "o2.zip")).await;
    assert_eq!(carried_again["result"], "merged");
    assert_eq!(carried_again["counts"]["decision"], 2);
    assert_eq!(
        carried_again["acknowledgement"]["decisions"],
        json!(outcomes)
    );
    assert_eq!(approvals(&unit, approved).await.len(), 1);
    assert_eq!(count(&unit.db, conflict_events).await, 1);

    // The office records the unit's answers: in its audit trail and its conflict report.
    ack(
        &office,
        &carried_again["acknowledgement"],
        &dir,
        "o2.ack.json",
    );
    assert_eq!(
        count(
            &office.db,
            "SELECT COUNT(*) FROM exchange_decision WHERE outcome IS NULL"
        )
        .await,
        0
    );
    assert_eq!(
        count(
            &office.db,
            "SELECT COUNT(*) FROM audit_event WHERE action = 'exchange.decision.applied'"
        )
        .await,
        1
    );
    assert_eq!(count(&office.db, conflict_events).await, 1);
    let report = conflicts(&office).await;
    let lines = report["conflicts"].as_array().unwrap();
    assert_eq!(lines.len(), 1, "{report}");
    assert_eq!(lines[0]["side"], "office");
    assert_eq!(lines[0]["sideLabel"], "本级决定未被整改单位执行");
    assert_eq!(lines[0]["findingId"], office_returned);
    assert_eq!(lines[0]["reason"], reason.as_str());
    assert_eq!(lines[0]["peer"], "市委统战部");
    // Answered decisions are not carried again.
    let third = import(&unit, export(&office, &unit_id, &dir, "o3.zip")).await;
    assert_eq!(third["counts"]["decision"], 0, "{third}");

    // The unit's next bundle brings its records as they now are: both findings closed, the
    // approval in the ledger once, by the office's name.
    let merged = import(&office, export(&unit, &office_id, &dir, "u2.zip")).await;
    assert_eq!(merged["result"], "merged", "{merged}");
    assert_eq!(status(&office, office_approved).await, "closed");
    assert_eq!(status(&office, office_returned).await, "closed");
    let arrived = approvals(&office, office_approved).await;
    assert_eq!(arrived, by_office);
}

/// Every text cell of the first sheet.
fn sheet_text(bytes: &[u8]) -> Vec<String> {
    use calamine::{Data, Reader};
    let mut book: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let sheet = book.worksheet_range_at(0).unwrap().unwrap();
    sheet
        .rows()
        .flat_map(|r| r.iter())
        .filter_map(|c| match c {
            Data::String(s) => Some(s.clone()),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn the_offices_decisions_reach_a_unit_on_sqlite_and_one_that_no_longer_fits_is_a_conflict() {
    decisions_go_back(true).await;
}

#[tokio::test]
async fn the_offices_decisions_reach_a_unit_on_the_engine_under_test() {
    decisions_go_back(false).await;
}

#[tokio::test]
async fn the_office_cannot_make_the_units_own_moves_on_its_findings() {
    let (unit, office, _unit_id, office_id) = pair(true).await;
    let dir = Dir::new("decisions_own");
    let id = unit.create_finding("整改方案未细化", "ZJTZB-BGS").await;
    unit.data(
        &TestUser::officer("ZJTZB-BGS"),
        "mutation($i: AddProgressEntryInput!) { addProgressEntry(input: $i) { id } }",
        json!({"i": {"findingId": id, "content": "已制定整改方案"}}),
    )
    .await;
    import(&office, export(&unit, &office_id, &dir, "u1.zip")).await;
    let here = local(&office, id.parse().unwrap()).await;
    // What a front end shows agrees with what the command does: the unit's moves are not
    // offered at the office.
    let flags = office
        .data(
            &TestUser::manager("ZJTZB"),
            "query($id: ID!) { finding(id: $id) { viewerCan { start submit } allowedTransitions } }",
            json!({"id": here.to_string()}),
        )
        .await;
    assert_eq!(
        flags["finding"],
        json!({"viewerCan": {"start": false, "submit": false}, "allowedTransitions": []}),
        "{flags}"
    );
    let (_, body) = office
        .gql(
            Some(&TestUser::manager("ZJTZB")),
            "mutation($id: ID!) { submitForCloseOut(findingId: $id, summary: \"完成\", noEvidenceReason: \"无\") { status } }",
            json!({"id": here.to_string()}),
        )
        .await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "KEPT_BY_ORIGIN",
        "{body}"
    );
    assert_eq!(status(&office, here).await, "in_progress");
    assert_eq!(
        count(&office.db, "SELECT COUNT(*) FROM exchange_decision").await,
        0
    );
}
