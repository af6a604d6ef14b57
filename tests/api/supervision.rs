//! Supervision orders (督办单): the office issues, the unit's managers reply, the office returns
//! or accepts (办结); each move in the inbox, the findings' ledgers, the audit trail and the
//! outbox; refusals with their codes and nothing written; scope by the subject findings.

use chrono::{Days, Utc};
use serde_json::{Value, json};

use crate::helpers::{SECRET, TestApp, TestUser, count, error_code, spawn_app};
use crate::jwt;

/// A token with a name (what an inbox is addressed to).
pub fn named(name: &str, role: &str, dept: Option<&str>) -> String {
    let mut claims = json!({"sub": format!("user-{name}"), "name": name, "role": role, "exp": jwt::now() + 3600, "iat": jwt::now()});
    if let Some(dept) = dept {
        claims["dept"] = json!(dept);
    }
    jwt::hs256(SECRET.as_bytes(), &claims)
}

/// Today in the server's zone (Asia/Shanghai by default) plus `days`.
pub fn day(days: i64) -> String {
    let today = (Utc::now() + chrono::Duration::hours(8)).date_naive();
    if days >= 0 {
        today.checked_add_days(Days::new(days as u64)).unwrap()
    } else {
        today.checked_sub_days(Days::new((-days) as u64)).unwrap()
    }
    .to_string()
}

pub const ISSUE: &str = "mutation($i: IssueSupervisionOrderInput!) { issueSupervisionOrder(input: $i) { id level status replyDeadline overdue requirement version subjects { measureId finding { id } } } }";
pub const REPLY: &str = "mutation($id: ID!, $c: String!) { replyToSupervisionOrder(id: $id, input: {content: $c}) { id status version } }";
pub const ACCEPT: &str =
    "mutation($id: ID!) { acceptSupervisionReply(id: $id) { id status acceptedAt } }";
pub const RETURN: &str = "mutation($id: ID!, $r: String!, $d: Date!) { returnSupervisionReply(id: $id, reason: $r, newDeadline: $d) { id status replyDeadline } }";
pub const INBOX: &str = "{ notifications { totalCount nodes { role level title body finding { id } supervisionOrder { id status } } } }";

async fn issue(app: &TestApp, token: &str, findings: &[&str], deadline: &str) -> (u16, Value) {
    app.gql(
        Some(token),
        ISSUE,
        json!({"i": {"findingIds": findings, "level": "KEY", "requirement": "请于期限内报送整改情况及佐证材料", "replyDeadline": deadline}}),
    )
    .await
}

async fn rows(app: &TestApp, sql: &str) -> i64 {
    count(&app.db, sql).await
}

/// The manager account the inbox addresses (by its display name), and the unit's principal
/// leader.
pub async fn unit_people(app: &TestApp) {
    let (_, body) = app
        .gql(
            Some(&TestUser::admin()),
            "mutation($i: CreateAccountInput!) { createAccount(input: $i) { id } }",
            json!({"i": {"username": "wang.zr", "password": "correct horse battery", "displayName": "王主任", "role": "MANAGER", "departmentCode": "ZJTZB"}}),
        )
        .await;
    assert!(body["data"]["createAccount"]["id"].is_string(), "{body}");
}

#[tokio::test]
async fn an_order_goes_issue_reply_return_reply_accept_with_inbox_ledger_audit_and_events() {
    let app = spawn_app().await;
    unit_people(&app).await;
    let finding = app.create_finding("干部档案管理不规范", "ZJTZB-BGS").await;
    let inspector = named("赵督查", "inspector", Some("ZJSW-XCB"));
    let other_inspector = named("钱督查", "inspector", Some("ZJSW-XCB"));
    let manager = named("王主任", "manager", Some("ZJTZB"));

    let ledger = "query($id: ID!) { finding(id: $id) { progress { totalCount } } }";
    let entries = |v: Value| v["finding"]["progress"]["totalCount"].as_i64().unwrap();
    let before = entries(app.data(&manager, ledger, json!({"id": finding})).await);

    let (_, body) = issue(&app, &inspector, &[&finding], &day(7)).await;
    let order = body["data"]["issueSupervisionOrder"].clone();
    // The ledger's count is not kept past the order's note.
    let after = entries(app.data(&manager, ledger, json!({"id": finding})).await);
    assert_eq!(after, before + 1);
    assert_eq!(order["level"], "KEY", "{body}");
    assert_eq!(order["status"], "OPEN");
    assert_eq!(order["replyDeadline"], day(7));
    assert_eq!(order["overdue"], false);
    assert_eq!(
        order["subjects"],
        json!([{"measureId": null, "finding": {"id": finding}}])
    );
    let id = order["id"].as_str().unwrap().to_owned();

    // The unit's manager finds it in the inbox, in Chinese, and on the finding.
    let inbox = app.data(&manager, INBOX, json!({})).await["notifications"].clone();
    assert_eq!(inbox["totalCount"], 1, "{inbox}");
    let notice = &inbox["nodes"][0];
    assert_eq!(notice["role"], "MANAGER");
    assert_eq!(notice["level"], "YELLOW");
    assert_eq!(
        notice["title"],
        format!("【重点督办】巡察办下发督办单（第 {id} 号），请按期书面回复")
    );
    assert_eq!(notice["finding"]["id"], finding.as_str());
    assert_eq!(
        notice["supervisionOrder"],
        json!({"id": id, "status": "OPEN"})
    );
    let on_finding = app
        .data(
            &manager,
            "query($id: ID!) { finding(id: $id) { supervisionOrders { id viewerCan { reply accept return } } } }",
            json!({"id": finding}),
        )
        .await;
    assert_eq!(
        on_finding["finding"]["supervisionOrders"],
        json!([{"id": id, "viewerCan": {"reply": true, "accept": false, "return": false}}])
    );

    // Reply, return with a new deadline, reply again, accept.
    let replied = app
        .data(
            &manager,
            REPLY,
            json!({"id": id, "c": "已完成档案整理，附清单"}),
        )
        .await;
    assert_eq!(replied["replyToSupervisionOrder"]["status"], "REPLIED");
    let returned = app
        .data(
            &inspector,
            RETURN,
            json!({"id": id, "r": "清单不完整", "d": day(10)}),
        )
        .await;
    assert_eq!(
        returned["returnSupervisionReply"],
        json!({"id": id, "status": "OPEN", "replyDeadline": day(10)})
    );
    app.data(&manager, REPLY, json!({"id": id, "c": "已补齐清单"}))
        .await;
    let can = app
        .data(
            &other_inspector,
            "query($id: ID!) { supervisionOrder(id: $id) { viewerCan { reply accept return } } }",
            json!({"id": id}),
        )
        .await;
    assert_eq!(
        can["supervisionOrder"]["viewerCan"],
        json!({"reply": false, "accept": true, "return": true})
    );
    let accepted = app.data(&other_inspector, ACCEPT, json!({"id": id})).await;
    assert_eq!(accepted["acceptSupervisionReply"]["status"], "ACCEPTED");

    // The replies as written, the first one returned.
    let read = app
        .data(
            &inspector,
            "query($id: ID!) { supervisionOrder(id: $id) { status replies { content authorName returnReason newDeadline returnedAt } } }",
            json!({"id": id}),
        )
        .await;
    let replies = &read["supervisionOrder"]["replies"];
    assert_eq!(replies[0]["content"], "已完成档案整理，附清单");
    assert_eq!(replies[0]["authorName"], "王主任");
    assert_eq!(replies[0]["returnReason"], "清单不完整");
    assert_eq!(replies[0]["newDeadline"], day(10));
    assert_eq!(replies[1]["content"], "已补齐清单");
    assert!(replies[1]["returnedAt"].is_null());

    // Five moves: five notices for the manager, five ledger notes, five audit events, events.
    let inbox = app.data(&manager, INBOX, json!({})).await["notifications"].clone();
    assert_eq!(inbox["totalCount"], 5, "{inbox}");
    assert_eq!(
        inbox["nodes"][0]["title"],
        format!("【重点督办】督办单（第 {id} 号）已办结")
    );
    assert_eq!(
        rows(&app, &format!("SELECT COUNT(*) FROM progress_entry WHERE finding_id = {finding} AND content LIKE '督办%'")).await,
        5
    );
    for (action, n) in [
        ("supervision.issue", 1),
        ("supervision.reply", 2),
        ("supervision.return", 1),
        ("supervision.accept", 1),
    ] {
        assert_eq!(
            rows(&app, &format!("SELECT COUNT(*) FROM audit_event WHERE entity_type = 'supervision_order' AND entity_id = '{id}' AND action = '{action}'")).await,
            n,
            "{action}"
        );
    }
    for (kind, n) in [
        ("supervision.issued", 1),
        ("supervision.replied", 2),
        ("supervision.returned", 1),
        ("supervision.accepted", 1),
    ] {
        assert_eq!(
            rows(
                &app,
                &format!(
                    "SELECT COUNT(*) FROM event WHERE kind = '{kind}' AND finding_id = {finding}"
                )
            )
            .await,
            n,
            "{kind}"
        );
    }
}

#[tokio::test]
async fn refusals_are_coded_and_write_nothing() {
    let app = spawn_app().await;
    let finding = app.create_finding("会议记录不规范", "ZJTZB-BGS").await;
    let inspector = named("赵督查", "inspector", Some("ZJSW-XCB"));
    let manager = named("王主任", "manager", Some("ZJTZB"));
    let orders = || rows(&app, "SELECT COUNT(*) FROM supervision_order");

    // An officer cannot issue; nor can a manager.
    for token in [TestUser::officer("ZJTZB-BGS"), manager.clone()] {
        let (_, body) = issue(&app, &token, &[&finding], &day(3)).await;
        assert_eq!(error_code(&body), Some("FORBIDDEN"), "{body}");
    }
    // A deadline in the past; an empty requirement; a NUL in it; no subject; an unknown finding.
    let (_, body) = issue(&app, &inspector, &[&finding], &day(-1)).await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("回复期限不能早于今天"),
        "{body}"
    );
    for requirement in ["   ", "要求\u{0}"] {
        let (_, body) = app
            .gql(
                Some(&inspector),
                ISSUE,
                json!({"i": {"findingIds": [finding], "level": "GENERAL", "requirement": requirement, "replyDeadline": day(3)}}),
            )
            .await;
        assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
    }
    let (_, body) = issue(&app, &inspector, &[], &day(3)).await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
    let (_, body) = issue(&app, &inspector, &["999999"], &day(3)).await;
    assert_eq!(error_code(&body), Some("NOT_FOUND"), "{body}");
    assert_eq!(orders().await, 0);
    assert_eq!(rows(&app, "SELECT COUNT(*) FROM notification").await, 0);

    // An open order: the office cannot accept before a reply; an officer cannot reply; an empty
    // reply is refused; the replier cannot accept (an admin who replied); an accepted order
    // takes no reply.
    let (_, body) = issue(&app, &inspector, &[&finding], &day(3)).await;
    let id = body["data"]["issueSupervisionOrder"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, body) = app.gql(Some(&inspector), ACCEPT, json!({"id": id})).await;
    assert_eq!(error_code(&body), Some("INVALID_TRANSITION"), "{body}");
    let (_, body) = app
        .gql(
            Some(&TestUser::officer("ZJTZB-BGS")),
            REPLY,
            json!({"id": id, "c": "已整改"}),
        )
        .await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"), "{body}");
    let (_, body) = app
        .gql(Some(&manager), REPLY, json!({"id": id, "c": " "}))
        .await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
    assert_eq!(
        rows(&app, "SELECT COUNT(*) FROM supervision_reply").await,
        0
    );
    let admin = named("系统管理员", "admin", None);
    app.data(&admin, REPLY, json!({"id": id, "c": "已整改"}))
        .await;
    let (_, body) = app.gql(Some(&admin), ACCEPT, json!({"id": id})).await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"), "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("不能办结自己提交的督办回复")
    );
    let (_, body) = app
        .gql(
            Some(&inspector),
            RETURN,
            json!({"id": id, "r": "不完整", "d": day(-2)}),
        )
        .await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
    app.data(&inspector, ACCEPT, json!({"id": id})).await;
    let (_, body) = app
        .gql(Some(&manager), REPLY, json!({"id": id, "c": "再次回复"}))
        .await;
    assert_eq!(error_code(&body), Some("INVALID_TRANSITION"), "{body}");
    assert_eq!(
        rows(&app, "SELECT COUNT(*) FROM supervision_reply").await,
        1
    );

    // In English on request.
    let (_, body) = app
        .gql_in("en", Some(&inspector), ISSUE, json!({"i": {"findingIds": [finding], "level": "KEY", "requirement": "x", "replyDeadline": day(-1)}}))
        .await;
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("cannot be before today"),
        "{body}"
    );
}

#[tokio::test]
async fn a_unit_sees_its_orders_and_a_section_those_about_findings_it_works_on() {
    let app = spawn_app().await;
    let inspector = named("赵督查", "inspector", Some("ZJSW-XCB"));
    let bgs = app.create_finding("办公室问题", "ZJTZB-BGS").await;
    let qwk = app.create_finding("侨务科问题", "ZJTZB-QWK").await;
    let (_, a) = issue(&app, &inspector, &[&bgs], &day(5)).await;
    let a = a["data"]["issueSupervisionOrder"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, b) = issue(&app, &inspector, &[&qwk], &day(5)).await;
    let b = b["data"]["issueSupervisionOrder"]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // Another unit with its own inspection and finding.
    let admin = TestUser::admin();
    app.data(
        &admin,
        "mutation { createDepartment(input: {code: \"ZJSJ\", name: \"市审计局\", kind: UNIT, parentCode: \"ZJSW\"}) { id } }",
        json!({}),
    )
    .await;
    let inspection = app
        .data(
            &inspector,
            "mutation($i: CreateInspectionInput!) { createInspection(input: $i) { id } }",
            json!({"i": {"title": "审计局巡察", "inspectionGroup": "市委第一巡察组", "unitCode": "ZJSJ", "startedOn": "2020-03-19", "feedbackOn": "2020-09-05"}}),
        )
        .await["createInspection"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let elsewhere = app
        .data(
            &TestUser::manager("ZJSJ"),
            "mutation($i: CreateFindingInput!) { createFinding(input: $i) { id } }",
            json!({"i": {"inspectionId": inspection, "title": "审计问题", "rectificationType": "IMMEDIATE", "departmentCode": "ZJSJ"}}),
        )
        .await["createFinding"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, c) = issue(&app, &inspector, &[&elsewhere], &day(5)).await;
    let c = c["data"]["issueSupervisionOrder"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // One order cannot span two inspections.
    let (_, body) = issue(&app, &inspector, &[&bgs, &elsewhere], &day(5)).await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");

    let list = "{ supervisionOrders(first: 10) { totalCount nodes { id } } }";
    let ids = |v: &Value| -> Vec<String> {
        v["supervisionOrders"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let office = app.data(&inspector, list, json!({})).await;
    assert_eq!(ids(&office), vec![c.clone(), b.clone(), a.clone()]);
    let unit = app.data(&TestUser::manager("ZJTZB"), list, json!({})).await;
    assert_eq!(ids(&unit), vec![b.clone(), a.clone()]);
    let section = app
        .data(&TestUser::officer("ZJTZB-BGS"), list, json!({}))
        .await;
    assert_eq!(ids(&section), vec![a.clone()]);
    let other = app.data(&TestUser::manager("ZJSJ"), list, json!({})).await;
    assert_eq!(ids(&other), vec![c.clone()]);

    // Another unit's order is not found: not read, not replied to.
    let (_, body) = app
        .gql(
            Some(&TestUser::manager("ZJTZB")),
            "query($id: ID!) { supervisionOrder(id: $id) { id } }",
            json!({"id": c}),
        )
        .await;
    assert_eq!(error_code(&body), Some("NOT_FOUND"), "{body}");
    let (_, body) = app
        .gql(
            Some(&TestUser::manager("ZJTZB")),
            REPLY,
            json!({"id": c, "c": "回复"}),
        )
        .await;
    assert_eq!(error_code(&body), Some("NOT_FOUND"), "{body}");
    assert_eq!(
        rows(&app, "SELECT COUNT(*) FROM supervision_reply").await,
        0
    );

    // Filters: status and overdue.
    app.data(
        &TestUser::manager("ZJTZB"),
        REPLY,
        json!({"id": a, "c": "已整改"}),
    )
    .await;
    let open = app
        .data(
            &inspector,
            "{ supervisionOrders(filter: {status: OPEN}) { nodes { id } } }",
            json!({}),
        )
        .await;
    assert_eq!(ids(&open), vec![c.clone(), b.clone()]);
    let overdue = app
        .data(
            &inspector,
            "{ supervisionOrders(filter: {overdue: true}) { nodes { id } } }",
            json!({}),
        )
        .await;
    assert_eq!(ids(&overdue), Vec::<String>::new());
}

#[tokio::test]
async fn of_two_inspectors_accepting_at_once_one_wins() {
    let app = spawn_app().await;
    let finding = app.create_finding("经费使用不规范", "ZJTZB-BGS").await;
    let first = named("赵督查", "inspector", Some("ZJSW-XCB"));
    let second = named("钱督查", "inspector", Some("ZJSW-XCB"));
    let (_, body) = issue(&app, &first, &[&finding], &day(3)).await;
    let id = body["data"]["issueSupervisionOrder"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.data(
        &TestUser::manager("ZJTZB"),
        REPLY,
        json!({"id": id, "c": "已整改"}),
    )
    .await;
    let (a, b) = tokio::join!(
        app.gql(Some(&first), ACCEPT, json!({"id": id})),
        app.gql(Some(&second), ACCEPT, json!({"id": id})),
    );
    let outcomes = [&a.1, &b.1];
    let won = outcomes.iter().filter(|o| o["errors"].is_null()).count();
    assert_eq!(won, 1, "{outcomes:?}");
    let lost = outcomes.iter().find(|o| !o["errors"].is_null()).unwrap();
    assert_eq!(error_code(lost), Some("CONFLICT"), "{lost}");
    assert_eq!(
        rows(&app, &format!("SELECT COUNT(*) FROM audit_event WHERE action = 'supervision.accept' AND entity_id = '{id}'")).await,
        1
    );
}

#[tokio::test]
async fn the_sweep_reminds_before_the_deadline_and_escalates_an_unanswered_order_once() {
    let app = spawn_app().await;
    unit_people(&app).await;
    app.sql("UPDATE department SET principal_leader = '周书记' WHERE code = 'ZJTZB'")
        .await;
    let inspector = named("赵督查", "inspector", Some("ZJSW-XCB"));
    let finding = app.create_finding("档案移交不及时", "ZJTZB-BGS").await;
    let general = |deadline: String| json!({"i": {"findingIds": [finding], "level": "GENERAL", "requirement": "请报送整改情况", "replyDeadline": deadline}});
    let soon = app.data(&inspector, ISSUE, general(day(1))).await["issueSupervisionOrder"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let late = app.data(&inspector, ISSUE, general(day(5))).await["issueSupervisionOrder"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let far = app.data(&inspector, ISSUE, general(day(9))).await["issueSupervisionOrder"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // Issued with a deadline that has passed since (an order cannot be issued so).
    app.sql(&format!(
        "UPDATE supervision_order SET reply_deadline = '{}' WHERE id = {late}",
        day(-1)
    ))
    .await;

    // Another instance's start-up sweep.
    app.another(&["--jwt-secret", SECRET, "--warning-alerts", "true"])
        .await;
    let started = std::time::Instant::now();
    while rows(
        &app,
        "SELECT COUNT(*) FROM event WHERE kind IN ('supervision.overdue', 'supervision.reminded')",
    )
    .await
        < 2
    {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "the sweep ran"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let read = "query($id: ID!) { supervisionOrder(id: $id) { level overdue status } }";
    let late_now = app.data(&inspector, read, json!({"id": late})).await;
    assert_eq!(
        late_now["supervisionOrder"],
        json!({"level": "KEY", "overdue": true, "status": "OPEN"})
    );
    let soon_now = app.data(&inspector, read, json!({"id": soon})).await;
    assert_eq!(
        soon_now["supervisionOrder"],
        json!({"level": "GENERAL", "overdue": false, "status": "OPEN"})
    );
    // The principal leader is told of the escalation; the manager of both.
    let leader = named("周书记", "viewer", Some("ZJTZB"));
    let inbox = app.data(&leader, INBOX, json!({})).await["notifications"].clone();
    let titles: Vec<&str> = inbox["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["title"].as_str().unwrap())
        .collect();
    assert!(
        titles
            .contains(&format!("【重点督办】督办单（第 {late} 号）逾期未复，已提级督办").as_str()),
        "{titles:?}"
    );
    let manager = named("王主任", "manager", Some("ZJTZB"));
    let inbox = app.data(&manager, INBOX, json!({})).await["notifications"].clone();
    let titles: Vec<String> = inbox["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["title"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        titles.contains(&format!(
            "【一般督办】催办：督办单（第 {soon} 号）即将到期，请按期回复"
        )),
        "{titles:?}"
    );
    assert!(
        !titles
            .iter()
            .any(|t| t.contains(&format!("第 {far} 号）即将")))
    );
    assert_eq!(
        rows(&app, &format!("SELECT COUNT(*) FROM progress_entry WHERE finding_id = {finding} AND content LIKE '督办单逾期未复%'")).await,
        1
    );
}
