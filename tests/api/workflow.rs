//! The close-out procedure through HTTP: the happy path with a manager, an officer and an
//! inspector; every refused move with its code; self-approval; concurrent moves; measures
//! moving back; re-checks and reopening; early warnings.

use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser, count, error_code, spawn_app};

const FINDING: &str = "query($id: ID!) { finding(id: $id) { status version closedAt measures { id status version } } }";
const SUBMIT: &str = "mutation($id: ID!, $s: String!, $r: String, $v: Int) { submitForCloseOut(findingId: $id, summary: $s, noEvidenceReason: $r, version: $v) { status version } }";
const APPROVE: &str = "mutation($id: ID!, $v: Int) { approveCloseOut(findingId: $id, comment: \"整改到位\", version: $v) { status closedAt version } }";
const RETURN: &str =
    "mutation($id: ID!, $r: String!) { returnFinding(findingId: $id, reason: $r) { status } }";
const REOPEN: &str = "mutation($id: ID!, $r: String!) { reopenFinding(findingId: $id, reason: $r) { status closedAt } }";
const UPDATE_MEASURE: &str = "mutation($input: UpdateMeasureInput!) { updateMeasure(input: $input) { status completedOn version } }";
const ADD: &str = "mutation($input: AddProgressEntryInput!) { addProgressEntry(input: $input) { id evidence { kind url } } }";

async fn finding(app: &TestApp, token: &str, id: i64) -> Value {
    app.data(token, FINDING, json!({"id": id.to_string()}))
        .await["finding"]
        .clone()
}

/// Marks every open measure of a finding done, each with a link as evidence.
async fn finish_measures(app: &TestApp, officer: &str, id: i64) {
    let measures = finding(app, officer, id).await["measures"]
        .as_array()
        .unwrap()
        .clone();
    for m in measures {
        if m["status"] != "DONE" {
            let input = json!({"input": {"id": m["id"], "version": m["version"], "status": "DONE", "completedOn": "2021-05-10"}});
            app.data(officer, UPDATE_MEASURE, input).await;
        }
        let input = json!({"input": {"findingId": id.to_string(), "measureId": m["id"], "content": "整改材料已归档",
            "links": [{"title": "整改报告", "url": "https://oa.example.gov/docs/1"}]}});
        app.data(officer, ADD, input).await;
    }
}

#[tokio::test]
async fn a_finding_goes_from_progress_to_close_out_and_the_ledger_tells_the_story() {
    let app = spawn_app().await;
    let (manager, officer, inspector) = (
        TestUser::manager("ZJTZB"),
        TestUser::officer("ZJTZB-BGS"),
        TestUser::inspector(),
    );
    let id = app.finding_id(1).await;
    finish_measures(&app, &officer, id).await;

    let submitted = app
        .data(
            &manager,
            SUBMIT,
            json!({"id": id.to_string(), "s": "三项措施均已完成"}),
        )
        .await;
    assert_eq!(submitted["submitForCloseOut"]["status"], "PENDING_REVIEW");
    let approved = app
        .data(&inspector, APPROVE, json!({"id": id.to_string()}))
        .await;
    assert_eq!(approved["approveCloseOut"]["status"], "CLOSED");
    assert!(approved["approveCloseOut"]["closedAt"].is_string());

    let ledger = app
        .data(&inspector, "query($id: ID!) { finding(id: $id) { progress(last: 2) { edges { node { kind content author } } } } }", json!({"id": id.to_string()}))
        .await;
    let entries: Vec<Value> = ledger["finding"]["progress"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"].clone())
        .collect();
    assert_eq!(
        entries[0],
        json!({"kind": "STATUS_CHANGE", "content": "申请销号：三项措施均已完成", "author": "Test manager"})
    );
    assert_eq!(
        entries[1],
        json!({"kind": "STATUS_CHANGE", "content": "审核通过，予以销号：整改到位", "author": "Test inspector"})
    );
    // The status changes record before and after.
    let details = count(&app.db, &format!(
        "SELECT COUNT(*) FROM progress_entry WHERE finding_id = {id} AND kind = 'status_change' AND details IS NOT NULL"
    )).await;
    assert!(details >= 2);
    // Closed findings are never overdue, and keep their ledger open to nobody's edits.
    let closed = finding(&app, &manager, id).await;
    assert_eq!(closed["status"], "CLOSED");
}

#[tokio::test]
async fn moves_outside_the_procedure_are_refused_with_their_codes() {
    let app = spawn_app().await;
    let (manager, officer, inspector, admin) = (
        TestUser::manager("ZJTZB"),
        TestUser::officer("ZJTZB-BGS"),
        TestUser::inspector(),
        TestUser::admin(),
    );
    let f1 = app.finding_id(1).await.to_string();
    let f10 = app.finding_id(10).await.to_string();

    // Approve an IN_PROGRESS finding: not allowed, and the message says what is.
    let (_, body) = app.gql(Some(&inspector), APPROVE, json!({"id": f1})).await;
    assert_eq!(error_code(&body), Some("INVALID_TRANSITION"), "{body}");
    assert_eq!(
        body["errors"][0]["message"],
        "不能批准销号：该问题当前为“整改中”；可进行的操作：申请销号"
    );
    // Reopen an IN_PROGRESS finding, return a CLOSED one.
    let (_, body) = app
        .gql(Some(&inspector), REOPEN, json!({"id": f1, "r": "复查"}))
        .await;
    assert_eq!(error_code(&body), Some("INVALID_TRANSITION"));
    let (_, body) = app
        .gql(Some(&inspector), RETURN, json!({"id": f10, "r": "复查"}))
        .await;
    assert_eq!(error_code(&body), Some("INVALID_TRANSITION"));
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .ends_with("可进行的操作：重新整改")
    );
    // Submit with measures still open (finding 1 is not long-term).
    let (_, body) = app
        .gql(Some(&manager), SUBMIT, json!({"id": f1, "s": "提前申请"}))
        .await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("尚未完成")
    );
    // Roles: an officer may not submit, a manager may not approve.
    let (_, body) = app
        .gql(Some(&officer), SUBMIT, json!({"id": f1, "s": "x"}))
        .await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"));
    // Done measures without evidence: a reason is needed, and is kept.
    let measures = finding(&app, &admin, f1.parse().unwrap()).await["measures"]
        .as_array()
        .unwrap()
        .clone();
    for m in measures.iter().filter(|m| m["status"] != "DONE") {
        app.data(
            &officer,
            UPDATE_MEASURE,
            json!({"input": {"id": m["id"], "version": m["version"], "status": "DONE"}}),
        )
        .await;
    }
    let (_, body) = app
        .gql(Some(&manager), SUBMIT, json!({"id": f1, "s": "已完成"}))
        .await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"));
    assert_eq!(body["errors"][0]["extensions"]["field"], "noEvidenceReason");
    app.data(
        &manager,
        SUBMIT,
        json!({"id": f1, "s": "已完成", "r": "会议决定类措施，无书面材料"}),
    )
    .await;
    let reason = count(&app.db, "SELECT COUNT(*) FROM progress_entry WHERE kind = 'status_change' AND content LIKE '申请销号%' AND CAST(details AS TEXT) LIKE '%会议决定类措施%'").await;
    assert_eq!(reason, 1, "the reason is kept in the ledger");
    let (_, body) = app.gql(Some(&manager), APPROVE, json!({"id": f1})).await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"));
    // Return needs a reason.
    let (_, body) = app
        .gql(Some(&inspector), RETURN, json!({"id": f1, "r": "  "}))
        .await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"));
    assert_eq!(body["errors"][0]["extensions"]["field"], "reason");
    let returned = app
        .data(&inspector, RETURN, json!({"id": f1, "r": "佐证材料不足"}))
        .await;
    assert_eq!(returned["returnFinding"]["status"], "IN_PROGRESS");
}

#[tokio::test]
async fn long_term_findings_close_with_measures_ongoing_and_keep_taking_progress() {
    let app = spawn_app().await;
    let (manager, officer, inspector) = (
        TestUser::manager("ZJTZB"),
        TestUser::officer("ZJTZB-GBK"),
        TestUser::inspector(),
    );
    let f3 = app.finding_id(3).await.to_string();
    app.data(
        &manager,
        SUBMIT,
        json!({"id": f3, "s": "长效机制已建立", "r": "联席会议制度已印发，见制度库"}),
    )
    .await;
    app.data(&inspector, APPROVE, json!({"id": f3})).await;
    let input = json!({"input": {"findingId": f3, "content": "2021年换届新安排党外干部2名"}});
    app.data(&officer, ADD, input).await;
    assert_eq!(
        finding(&app, &manager, f3.parse().unwrap()).await["status"],
        "CLOSED"
    );
}

#[tokio::test]
async fn the_submitter_may_not_approve_its_own_close_out() {
    let app = spawn_app().await;
    let admin = TestUser::admin();
    let f3 = app.finding_id(3).await.to_string();
    app.data(
        &admin,
        SUBMIT,
        json!({"id": f3, "s": "长效机制已建立", "r": "无书面材料"}),
    )
    .await;
    let (_, body) = app.gql(Some(&admin), APPROVE, json!({"id": f3})).await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"), "{body}");
    assert_eq!(
        body["errors"][0]["message"],
        "申请销号的人不能审核自己的申请"
    );
    // Another person (a different subject) may.
    let claims = json!({"sub": "second-admin", "role": "admin", "exp": crate::jwt::now() + 600});
    let second = crate::jwt::hs256(crate::helpers::SECRET.as_bytes(), &claims);
    assert_eq!(
        app.data(&second, APPROVE, json!({"id": f3})).await["approveCloseOut"]["status"],
        "CLOSED"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn of_two_concurrent_moves_on_one_finding_exactly_one_wins() {
    let app = std::sync::Arc::new(spawn_app().await);
    let manager = TestUser::manager("ZJTZB");
    let f3 = app.finding_id(3).await;
    app.data(
        &manager,
        SUBMIT,
        json!({"id": f3.to_string(), "s": "长效机制已建立", "r": "无书面材料"}),
    )
    .await;
    let version = app.finding_version(f3).await;
    for (with_version, round) in [(true, 0), (false, 1)] {
        if round == 1 {
            // Back to PENDING_REVIEW for the second round.
            let inspector = TestUser::inspector();
            app.data(
                &inspector,
                REOPEN,
                json!({"id": f3.to_string(), "r": "回头看发现反弹"}),
            )
            .await;
            app.data(
                &manager,
                SUBMIT,
                json!({"id": f3.to_string(), "s": "再次整改", "r": "无书面材料"}),
            )
            .await;
        }
        let v = if with_version {
            json!(version)
        } else {
            Value::Null
        };
        let tasks: Vec<_> = ["inspector-a", "inspector-b"]
            .into_iter()
            .map(|sub| {
                let app = app.clone();
                let v = v.clone();
                tokio::spawn(async move {
                    let claims =
                        json!({"sub": sub, "role": "inspector", "exp": crate::jwt::now() + 600});
                    let token = crate::jwt::hs256(crate::helpers::SECRET.as_bytes(), &claims);
                    app.gql(Some(&token), APPROVE, json!({"id": f3.to_string(), "v": v}))
                        .await
                        .1
                })
            })
            .collect();
        let mut outcomes = Vec::new();
        for task in tasks {
            let body = task.await.unwrap();
            outcomes.push(match error_code(&body) {
                None => "won".to_owned(),
                Some(code) => code.to_owned(),
            });
        }
        outcomes.sort();
        assert_eq!(outcomes, ["CONFLICT", "won"], "round {round}");
    }
    assert_eq!(
        count(&app.db, &format!("SELECT COUNT(*) FROM progress_entry WHERE finding_id = {f3} AND content LIKE '审核通过%'")).await,
        2,
        "one approval per round reached the ledger"
    );
}

#[tokio::test]
async fn measures_move_back_from_done_only_with_a_reason_and_rechecks_are_recorded() {
    let app = spawn_app().await;
    let (officer, inspector) = (TestUser::officer("ZJTZB-BGS"), TestUser::inspector());
    let m = count(&app.db, "SELECT MIN(m.id) FROM measure m JOIN finding f ON f.id = m.finding_id WHERE f.ordinal = 16").await;
    let (_, body) = app
        .gql(
            Some(&officer),
            UPDATE_MEASURE,
            json!({"input": {"id": m.to_string(), "version": 1, "status": "IN_PROGRESS"}}),
        )
        .await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"));
    assert_eq!(body["errors"][0]["extensions"]["field"], "reason");
    let back = app
        .data(&officer, UPDATE_MEASURE, json!({"input": {"id": m.to_string(), "version": 1, "status": "IN_PROGRESS", "reason": "审计发现仍有挪用"}}))
        .await;
    assert_eq!(
        back["updateMeasure"],
        json!({"status": "IN_PROGRESS", "completedOn": null, "version": 2})
    );
    assert_eq!(count(&app.db, "SELECT COUNT(*) FROM progress_entry WHERE kind = 'status_change' AND content LIKE '%审计发现仍有挪用%'").await, 1);

    // A look-back re-check of a closed finding, failed; then the finding is reopened.
    let f10 = app.finding_id(10).await.to_string();
    let recheck = "mutation($id: ID!) { recordRecheck(findingId: $id, passed: false, note: \"侨务局牌子未按要求悬挂\") { kind content } }";
    let entry = app.data(&inspector, recheck, json!({"id": f10})).await;
    assert_eq!(
        entry["recordRecheck"],
        json!({"kind": "RECHECK", "content": "回头看未通过：侨务局牌子未按要求悬挂"})
    );
    let reopened = app
        .data(
            &inspector,
            REOPEN,
            json!({"id": f10, "r": "回头看发现问题反弹"}),
        )
        .await;
    assert_eq!(
        reopened["reopenFinding"],
        json!({"status": "IN_PROGRESS", "closedAt": null})
    );
}

#[tokio::test]
async fn early_warnings_escalate_as_deadlines_approach_and_pass() {
    let app = spawn_app().await;
    let admin = TestUser::admin();
    let today = chrono::Utc::now()
        .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).unwrap())
        .date_naive();
    let set = |ordinal: i32, days: i64, leader: Option<&'static str>| {
        let app = &app;
        let admin = &admin;
        async move {
            let id = app.finding_id(ordinal).await;
            let version = app.finding_version(id).await;
            let deadline = (today + chrono::Duration::days(days)).to_string();
            let input = json!({"input": {"id": id.to_string(), "version": version, "deadline": deadline,
                "responsiblePerson": "张科长", "responsibleLeader": leader}});
            app.data(
                admin,
                "mutation($input: UpdateFindingInput!) { updateFinding(input: $input) { id } }",
                input,
            )
            .await;
        }
    };
    set(1, -1, Some("李副部长")).await;
    set(4, 5, Some("李副部长")).await;
    set(6, 15, None).await;
    set(7, 30, None).await;
    app.data(&admin, "mutation { updateDepartment(input: {id: \"3\", version: 1, principalLeader: \"王部长\"}) { id } }", json!({})).await;

    let query = "query($l: [WarningLevel!]) { findings(filter: {warningLevel: $l}) { edges { node { ordinal warning { level daysLeft alert { role name } } } } } }";
    let red = app.data(&admin, query, json!({"l": ["RED"]})).await;
    assert_eq!(
        red["findings"]["edges"][0]["node"],
        json!({"ordinal": 1, "warning": {"level": "RED", "daysLeft": -1, "alert": [
            {"role": "RESPONSIBLE_PERSON", "name": "张科长"},
            {"role": "RESPONSIBLE_LEADER", "name": "李副部长"},
            {"role": "PRINCIPAL_LEADER", "name": "王部长"}]}})
    );
    let yellow = app.data(&admin, query, json!({"l": ["YELLOW"]})).await;
    assert_eq!(yellow["findings"]["edges"].as_array().unwrap().len(), 1);
    assert_eq!(
        yellow["findings"]["edges"][0]["node"]["warning"]["alert"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let green = app.data(&admin, query, json!({"l": ["GREEN"]})).await;
    assert_eq!(green["findings"]["edges"][0]["node"]["ordinal"], 6);
    assert_eq!(
        green["findings"]["edges"][0]["node"]["warning"]["alert"],
        json!([{"role": "RESPONSIBLE_PERSON", "name": "张科长"}])
    );
    let none = app
        .data(
            &admin,
            "{ findings(filter: {warningLevel: [NONE]}, first: 100) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(none["findings"]["totalCount"], 32);
}
