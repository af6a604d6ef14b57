//! Supervision orders (督办单) on every surface: the full cycle (issue → reminder (催办) →
//! overdue escalation (逾期未复) → reply with evidence → return → reply → accept (办结)) seen at
//! each step in the inbox, the event outbox, a webhook and a subscription; the overdue order
//! red on its finding, in the lists and in the counts (status summary, `/api/v1/status`, the
//! report's figures); the close-out review's notice; REST reads within reach; reply evidence
//! within the ledger's budgets; role and scope denials for every mutation.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser, count, error_code, spawn_app, spawn_app_with};
use crate::supervision::{ACCEPT, INBOX, ISSUE, REPLY, RETURN, day, named, unit_people};
use crate::webhooks::{Receiver, fast, register};
use crate::ws_client::Ws;

const CHANGED: &str =
    "subscription { supervisionChanged { eventId kind order { id status level } } }";
const REPLY_WITH: &str = "mutation($id: ID!, $i: ReplyToSupervisionOrderInput!) { replyToSupervisionOrder(id: $id, input: $i) { id status replies { content evidence { title kind downloadUrl } } } }";
const PDF: &[u8] = b"%PDF-1.4\n% supervision reply evidence\n";

async fn rows(app: &TestApp, sql: &str) -> i64 {
    count(&app.db, sql).await
}

/// Waits until `sql` counts at least `n`.
async fn until(app: &TestApp, sql: &str, n: i64) {
    let started = Instant::now();
    while rows(app, sql).await < n {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "waited for {sql}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The webhook bodies received, by type.
fn hooks(receiver: &Receiver, kind: &str) -> Vec<Value> {
    let mut seen: Vec<(String, Value)> = receiver
        .received()
        .into_iter()
        .map(|r| {
            (
                r.id.clone(),
                serde_json::from_str::<Value>(&r.body).unwrap(),
            )
        })
        .filter(|(_, b)| b["type"] == kind)
        .collect();
    seen.sort_by(|a, b| a.0.cmp(&b.0));
    seen.dedup_by(|a, b| a.0 == b.0);
    seen.into_iter().map(|(_, b)| b).collect()
}

/// Waits for the `n`th webhook of `kind`.
async fn hooked(receiver: &Receiver, kind: &str, n: usize) -> Value {
    let started = Instant::now();
    loop {
        let got = hooks(receiver, kind);
        if got.len() >= n {
            return got[n - 1].clone();
        }
        assert!(
            started.elapsed() < Duration::from_secs(40),
            "no webhook {kind} #{n}: {:?}",
            receiver.received()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

struct Watcher {
    app: TestApp,
    receiver: Receiver,
    ws: Ws,
    manager: String,
    order: String,
}

impl Watcher {
    /// One step seen everywhere: the `n`th event and webhook of `kind`, the subscription's
    /// next delivery, and the manager's newest notice titled `title` (the `notices`th).
    async fn saw(&mut self, kind: &str, n: i64, title: &str, notices: i64, status: &str) {
        let id = &self.order;
        until(
            &self.app,
            &format!("SELECT COUNT(*) FROM event WHERE kind = '{kind}' AND entity_id = {id}"),
            n,
        )
        .await;
        assert_eq!(
            rows(
                &self.app,
                &format!("SELECT COUNT(*) FROM event WHERE kind = '{kind}' AND entity_id = {id}")
            )
            .await,
            n,
            "{kind}"
        );
        let hook = hooked(&self.receiver, kind, n as usize).await;
        assert_eq!(
            hook["data"]["supervisionOrder"]["id"],
            id.as_str(),
            "{hook}"
        );
        assert_eq!(
            hook["data"]["supervisionOrder"]["status"],
            status.to_lowercase(),
            "{hook}"
        );
        let pushed = self.ws.data("s").await["supervisionChanged"].clone();
        assert_eq!(pushed["kind"], kind, "{pushed}");
        assert_eq!(pushed["order"]["id"], id.as_str());
        let inbox = self.app.data(&self.manager, INBOX, json!({})).await["notifications"].clone();
        assert_eq!(inbox["totalCount"], notices, "{kind}: {inbox}");
        assert_eq!(inbox["nodes"][0]["title"], title, "{kind}: {inbox}");
        assert_eq!(inbox["nodes"][0]["supervisionOrder"]["status"], status);
    }
}

async fn get(app: &TestApp, token: &str, path: &str) -> (u16, Value) {
    let response = app
        .client
        .get(app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

#[tokio::test]
async fn the_full_cycle_is_told_by_inbox_event_webhook_and_subscription_at_each_step() {
    let mut flags = fast();
    flags.extend(["--warning-alerts", "true"]);
    let app = spawn_app_with(&flags).await;
    unit_people(&app).await;
    app.sql("UPDATE department SET principal_leader = '周书记' WHERE code = 'ZJTZB'")
        .await;
    let receiver = Receiver::default();
    let url = receiver.start().await;
    register(&app, json!({"url": url})).await;
    let inspector = named("赵督查", "inspector", Some("ZJSW-XCB"));
    let other_inspector = named("钱督查", "inspector", Some("ZJSW-XCB"));
    let manager = named("王主任", "manager", Some("ZJTZB"));
    let finding = app.create_finding("档案移交不及时", "ZJTZB-BGS").await;
    let mut ws = Ws::as_caller(&app.address, &TestUser::manager("ZJTZB")).await;
    ws.subscribe("s", CHANGED, json!({})).await;
    ws.send(json!({"type": "ping"})).await;
    assert_eq!(ws.next().await.unwrap()["type"], "pong");

    // 下发: a general order due tomorrow.
    let issued = app
        .data(
            &inspector,
            ISSUE,
            json!({"i": {"findingIds": [finding], "level": "GENERAL", "requirement": "请报送档案移交情况", "replyDeadline": day(1)}}),
        )
        .await;
    let order = issued["issueSupervisionOrder"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut w = Watcher {
        app,
        receiver,
        ws,
        manager,
        order: order.clone(),
    };
    let title = |text: &str| text.replace("{id}", &order);
    w.saw(
        "supervision.issued",
        1,
        &title("【一般督办】巡察办下发督办单（第 {id} 号），请按期书面回复"),
        1,
        "OPEN",
    )
    .await;

    // 催办: another instance's start-up sweep finds it due within two days.
    w.app.another(&flags).await;
    w.saw(
        "supervision.reminded",
        1,
        &title("【一般督办】催办：督办单（第 {id} 号）即将到期，请按期回复"),
        2,
        "OPEN",
    )
    .await;

    // 逾期未复: its deadline passed unanswered (set back, as time would); the next sweep
    // raises it a level and tells the principal leader.
    w.app
        .sql(&format!(
            "UPDATE supervision_order SET reply_deadline = '{}' WHERE id = {order}",
            day(-1)
        ))
        .await;
    w.app.another(&flags).await;
    w.saw(
        "supervision.overdue",
        1,
        &title("【重点督办】督办单（第 {id} 号）逾期未复，已提级督办"),
        3,
        "OPEN",
    )
    .await;
    let leader = named("周书记", "viewer", Some("ZJTZB"));
    let told = w.app.data(&leader, INBOX, json!({})).await["notifications"].clone();
    assert!(
        told["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["title"] == title("【重点督办】督办单（第 {id} 号）逾期未复，已提级督办")),
        "{told}"
    );

    // Red wherever warnings show: the finding's warning, the list's RED filter, the counts.
    let seen = w
        .app
        .data(
            &inspector,
            "query($id: ID!) { finding(id: $id) { warning { level overdueSupervisionOrders alert { role } } notices { code } } }",
            json!({"id": finding}),
        )
        .await;
    assert_eq!(seen["finding"]["warning"]["level"], "RED", "{seen}");
    assert_eq!(seen["finding"]["warning"]["overdueSupervisionOrders"], 1);
    assert!(
        seen["finding"]["notices"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["code"] == "FINDING_OPEN_SUPERVISION"),
        "{seen}"
    );
    let red = w
        .app
        .data(
            &inspector,
            "{ findings(first: 50, filter: {warningLevel: [RED]}) { nodes { id } } }",
            json!({}),
        )
        .await;
    assert!(
        red["findings"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["id"] == finding.as_str()),
        "{red}"
    );
    let none = w
        .app
        .data(
            &inspector,
            "{ findings(first: 50, filter: {warningLevel: [NONE, GREEN, YELLOW]}) { nodes { id } } }",
            json!({}),
        )
        .await;
    assert!(
        !none["findings"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["id"] == finding.as_str()),
        "{none}"
    );
    let summary = w
        .app
        .data(
            &inspector,
            "{ statusSummary { supervision { issued open replied accepted overdue repliedOnTime onTimeRate } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        summary["statusSummary"]["supervision"],
        json!({"issued": 1, "open": 1, "replied": 0, "accepted": 0, "overdue": 1, "repliedOnTime": 0, "onTimeRate": 0.0})
    );
    let (status, pulled) = get(&w.app, &inspector, "/api/v1/status").await;
    assert_eq!(status, 200, "{pulled}");
    assert_eq!(pulled["supervision"]["issued"], 1, "{pulled}");
    assert_eq!(pulled["supervision"]["overdue"], 1, "{pulled}");
    let (_, listed) = get(
        &w.app,
        &inspector,
        "/api/v1/supervision-orders?overdue=true",
    )
    .await;
    assert_eq!(
        listed["items"][0]["id"],
        order.parse::<i64>().unwrap(),
        "{listed}"
    );
    assert_eq!(listed["items"][0]["level"], "KEY");
    assert_eq!(listed["items"][0]["overdue"], true);

    // 书面回复 with a file and a link as evidence.
    let (_, body) = w
        .app
        .upload(
            &w.manager,
            REPLY_WITH,
            json!({"id": order, "i": {"content": "已完成档案移交，附移交清单", "links": [{"title": "移交通知", "url": "https://example.gov.cn/notice/1"}], "files": [{"title": "档案移交清单", "file": null}]}}),
            &[("variables.i.files.0.file", "清单.pdf", "application/pdf", PDF)],
        )
        .await;
    let replied = &body["data"]["replyToSupervisionOrder"];
    assert_eq!(replied["status"], "REPLIED", "{body}");
    let evidence = &replied["replies"][0]["evidence"];
    assert_eq!(evidence[0]["title"], "移交通知", "{body}");
    assert_eq!(evidence[0]["kind"], "LINK");
    assert_eq!(evidence[1]["title"], "档案移交清单");
    assert_eq!(evidence[1]["kind"], "FILE");
    let download = evidence[1]["downloadUrl"].as_str().unwrap().to_owned();
    w.saw(
        "supervision.replied",
        1,
        &title("【重点督办】督办单（第 {id} 号）已书面回复，待巡察办审核"),
        4,
        "REPLIED",
    )
    .await;
    // The section the finding belongs to downloads the file, as the ledger note shows it.
    let response = w
        .app
        .client
        .get(w.app.url(&download))
        .bearer_auth(TestUser::officer("ZJTZB-BGS"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(response.bytes().await.unwrap().as_ref(), PDF);
    assert_eq!(
        rows(&w.app, &format!("SELECT COUNT(*) FROM evidence WHERE progress_entry_id IN (SELECT id FROM progress_entry WHERE finding_id = {finding} AND content LIKE '督办回复%')")).await,
        2
    );

    // 退回, reply again, 办结 by another inspector.
    w.app
        .data(
            &inspector,
            RETURN,
            json!({"id": order, "r": "清单缺少签收页", "d": day(5)}),
        )
        .await;
    w.saw(
        "supervision.returned",
        1,
        &title("【重点督办】督办单（第 {id} 号）的回复被退回，请重新回复"),
        5,
        "OPEN",
    )
    .await;
    w.app
        .data(
            &w.manager.clone(),
            REPLY,
            json!({"id": order, "c": "已补充签收页"}),
        )
        .await;
    w.saw(
        "supervision.replied",
        2,
        &title("【重点督办】督办单（第 {id} 号）已书面回复，待巡察办审核"),
        6,
        "REPLIED",
    )
    .await;
    w.app
        .data(&other_inspector, ACCEPT, json!({"id": order}))
        .await;
    w.saw(
        "supervision.accepted",
        1,
        &title("【重点督办】督办单（第 {id} 号）已办结"),
        7,
        "ACCEPTED",
    )
    .await;

    // Accepted: no longer red nor in the close-out review's notice; counted late (it went
    // unanswered past its deadline once).
    let seen = w
        .app
        .data(
            &inspector,
            "query($id: ID!) { finding(id: $id) { warning { overdueSupervisionOrders } notices { code } } }",
            json!({"id": finding}),
        )
        .await;
    assert_eq!(seen["finding"]["warning"]["overdueSupervisionOrders"], 0);
    assert!(
        !seen["finding"]["notices"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["code"] == "FINDING_OPEN_SUPERVISION")
    );
    let summary = w
        .app
        .data(
            &inspector,
            "{ statusSummary { supervision { issued accepted overdue onTimeRate } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        summary["statusSummary"]["supervision"],
        json!({"issued": 1, "accepted": 1, "overdue": 0, "onTimeRate": 0.0})
    );
}

#[tokio::test]
async fn counts_name_orders_in_reports_and_the_bulletin_and_the_rest_surface_keeps_to_reach() {
    let app = spawn_app().await;
    let inspector = named("赵督查", "inspector", Some("ZJSW-XCB"));
    let bgs = app.create_finding("办公室问题", "ZJTZB-BGS").await;
    let qwk = app.create_finding("侨务科问题", "ZJTZB-QWK").await;
    let mut ids = Vec::new();
    for f in [&bgs, &qwk, &bgs] {
        let issued = app
            .data(
                &inspector,
                ISSUE,
                json!({"i": {"findingIds": [f], "level": "KEY", "requirement": "请报送整改情况", "replyDeadline": day(3)}}),
            )
            .await;
        ids.push(
            issued["issueSupervisionOrder"]["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    // One replied in time and accepted; one open past its deadline; one open, not yet due.
    app.data(
        &TestUser::manager("ZJTZB"),
        REPLY,
        json!({"id": ids[0], "c": "已整改"}),
    )
    .await;
    app.data(&inspector, ACCEPT, json!({"id": ids[0]})).await;
    app.sql(&format!(
        "UPDATE supervision_order SET reply_deadline = '{}' WHERE id = {}",
        day(-2),
        ids[1]
    ))
    .await;

    let summary = app
        .data(
            &inspector,
            "{ statusSummary { supervision { issued open replied accepted overdue repliedOnTime onTimeRate } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        summary["statusSummary"]["supervision"],
        json!({"issued": 3, "open": 2, "replied": 0, "accepted": 1, "overdue": 1, "repliedOnTime": 1, "onTimeRate": 0.5})
    );
    // A section counts the orders about findings it works on.
    let section = app
        .data(
            &TestUser::officer("ZJTZB-QWK"),
            "{ statusSummary { supervision { issued overdue } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        section["statusSummary"]["supervision"],
        json!({"issued": 1, "overdue": 1})
    );

    // The bulletin's prose names the figures; a report states them.
    let inspection = app
        .data(
            &inspector,
            "query($id: ID!) { finding(id: $id) { inspection { id } } }",
            json!({"id": bgs}),
        )
        .await["finding"]["inspection"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let version = app
        .data(
            &inspector,
            "query($id: ID!) { inspection(id: $id) { version } }",
            json!({"id": inspection}),
        )
        .await["inspection"]["version"]
        .as_i64()
        .unwrap();
    let (_, body) = app
        .gql(
            Some(&TestUser::manager("ZJTZB")),
            "mutation($id: ID!, $v: Int!, $c: BulletinContentInput!) { setBulletinContent(inspectionId: $id, version: $v, content: $c) { version } }",
            json!({"id": inspection, "v": version, "c": {"lead": "巡察办督办{督办件数}件，逾期未复{逾期未复数}件，按期回复率{按期回复率}。"}}),
        )
        .await;
    assert!(body["errors"].is_null(), "{body}");
    let report = app
        .generate_bulletin(&TestUser::manager("ZJTZB"), &inspection)
        .await;
    let md = app.markdown(&TestUser::manager("ZJTZB"), &report).await;
    assert!(
        md.contains("巡察办督办3件，逾期未复1件，按期回复率50%。"),
        "{md}"
    );
    let report = app
        .generate_report(&TestUser::manager("ZJTZB"), &inspection)
        .await;
    let md = app.markdown(&TestUser::manager("ZJTZB"), &report).await;
    assert!(md.contains("| 督办件数 | 3 |"), "{md}");
    assert!(md.contains("| 逾期未复 | 1 |"), "{md}");
    assert!(md.contains("| 按期回复率 | 50.0% |"), "{md}");

    // REST: the office reads all, a section those about its findings, others none.
    let list = |items: &Value| -> Vec<String> {
        items["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["id"].to_string())
            .collect()
    };
    let (status, office) = get(&app, &inspector, "/api/v1/supervision-orders").await;
    assert_eq!(status, 200, "{office}");
    assert_eq!(
        list(&office),
        vec![ids[2].clone(), ids[1].clone(), ids[0].clone()]
    );
    assert_eq!(office["items"][2]["replies"][0]["content"], "已整改");
    assert_eq!(
        office["items"][2]["subjects"],
        json!([{"findingId": bgs.parse::<i64>().unwrap(), "measureId": null}])
    );
    let (_, section) = get(
        &app,
        &TestUser::officer("ZJTZB-QWK"),
        "/api/v1/supervision-orders",
    )
    .await;
    assert_eq!(list(&section), vec![ids[1].clone()]);
    let (status, _) = get(
        &app,
        &TestUser::officer("ZJTZB-QWK"),
        &format!("/api/v1/supervision-orders/{}", ids[0]),
    )
    .await;
    assert_eq!(status, 404);
    let (status, one) = get(
        &app,
        &TestUser::manager("ZJTZB"),
        &format!("/api/v1/supervision-orders/{}", ids[1]),
    )
    .await;
    assert_eq!(status, 200, "{one}");
    assert_eq!(one["overdue"], true);
    let (_, paged) = get(&app, &inspector, "/api/v1/supervision-orders?limit=2").await;
    assert_eq!(list(&paged), vec![ids[2].clone(), ids[1].clone()]);
    let cursor = paged["nextCursor"].as_str().unwrap().to_owned();
    let (_, rest) = get(
        &app,
        &inspector,
        &format!("/api/v1/supervision-orders?limit=2&cursor={cursor}"),
    )
    .await;
    assert_eq!(list(&rest), vec![ids[0].clone()]);
    assert!(rest["nextCursor"].is_null());
    for bad in ["overdue=maybe", "status=DONE", "limit=0", "findingId=x"] {
        let (status, body) = get(
            &app,
            &inspector,
            &format!("/api/v1/supervision-orders?{bad}"),
        )
        .await;
        assert_eq!(status, 400, "{bad}: {body}");
        assert_eq!(body["error"]["code"], "BAD_USER_INPUT", "{bad}: {body}");
    }
    let (status, _) = get(&app, "not-a-token", "/api/v1/supervision-orders").await;
    assert_eq!(status, 401);
}

/// The Markdown of a progress report of the demo inspection for the period ending `end`.
pub(crate) async fn report_on(app: &TestApp, end: &str) -> String {
    let manager = TestUser::manager("ZJTZB");
    let id = app
        .data(
            &manager,
            "mutation($p: Date) { generateReport(inspectionId: 1, periodEnd: $p) { id } }",
            json!({"p": end}),
        )
        .await["generateReport"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.markdown(&manager, &id).await
}

#[tokio::test]
async fn a_reports_order_figures_are_those_of_its_date_however_late_it_is_generated() {
    let app = spawn_app().await;
    let inspector = named("赵督查", "inspector", Some("ZJSW-XCB"));
    let finding = app.create_finding("档案管理不规范", "ZJTZB-BGS").await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        let issued = app
            .data(
                &inspector,
                ISSUE,
                json!({"i": {"findingIds": [finding], "level": "GENERAL", "requirement": "请报送整改情况", "replyDeadline": day(3)}}),
            )
            .await;
        ids.push(
            issued["issueSupervisionOrder"]["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    // A and B were issued three days ago (as time would have it), A due the day before
    // yesterday; C is issued today. A is answered and accepted today.
    let three_days_ago = format!("{}T00:00:00Z", day(-3));
    app.sql(&format!(
        "UPDATE supervision_order SET created_at = '{three_days_ago}' WHERE id IN ({}, {})",
        ids[0], ids[1]
    ))
    .await;
    app.sql(&format!(
        "UPDATE supervision_order SET reply_deadline = '{}' WHERE id = {}",
        day(-2),
        ids[0]
    ))
    .await;
    app.data(
        &TestUser::manager("ZJTZB"),
        REPLY,
        json!({"id": ids[0], "c": "已整改"}),
    )
    .await;
    app.data(&inspector, ACCEPT, json!({"id": ids[0]})).await;

    // Yesterday A and B had been issued, and A stood unanswered past its deadline: none
    // answered in time out of one due.
    let md = report_on(&app, &day(-1)).await;
    assert!(md.contains("| 督办件数 | 2 |"), "{md}");
    assert!(md.contains("| 逾期未复 | 1 |"), "{md}");
    assert!(md.contains("| 按期回复率 | 0.0% |"), "{md}");
    // Today: three issued, A accepted (the sweep never found it overdue), none overdue.
    let md = report_on(&app, &day(0)).await;
    assert!(md.contains("| 督办件数 | 3 |"), "{md}");
    assert!(md.contains("| 逾期未复 | 0 |"), "{md}");
    assert!(md.contains("| 按期回复率 | 100.0% |"), "{md}");
    // Four days ago none had been issued: no figure is due.
    let md = report_on(&app, &day(-4)).await;
    assert!(md.contains("| 督办件数 | 0 |"), "{md}");
    assert!(md.contains("| 按期回复率 | — |"), "{md}");
}

#[tokio::test]
async fn an_order_takes_twenty_replies_and_every_read_shows_them_all() {
    let app = spawn_app().await;
    let inspector = named("赵督查", "inspector", Some("ZJSW-XCB"));
    let manager = TestUser::manager("ZJTZB");
    let finding = app.create_finding("台账不完整", "ZJTZB-BGS").await;
    let order = app
        .data(
            &inspector,
            ISSUE,
            json!({"i": {"findingIds": [finding], "level": "GENERAL", "requirement": "请补齐台账", "replyDeadline": day(3)}}),
        )
        .await["issueSupervisionOrder"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for n in 1..=20 {
        app.data(
            &manager,
            REPLY,
            json!({"id": order, "c": format!("第{n}次回复")}),
        )
        .await;
        if n < 20 {
            app.data(
                &inspector,
                RETURN,
                json!({"id": order, "r": format!("第{n}次退回"), "d": day(3)}),
            )
            .await;
        }
    }
    // The twentieth reply is the last: a return is refused, nothing written.
    let events = "SELECT COUNT(*) FROM audit_event WHERE entity_type = 'supervision_order'";
    let before = rows(&app, events).await;
    let (_, body) = app
        .gql(
            Some(&inspector),
            RETURN,
            json!({"id": order, "r": "再退回", "d": day(3)}),
        )
        .await;
    assert_eq!(error_code(&body), Some("INVALID_TRANSITION"), "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("已有 20 次回复"),
        "{body}"
    );
    assert_eq!(rows(&app, events).await, before);
    // GraphQL and REST show all twenty, oldest first.
    let shown = app
        .data(
            &inspector,
            "query($id: ID!) { supervisionOrder(id: $id) { status replies { content } } }",
            json!({"id": order}),
        )
        .await;
    let replies = shown["supervisionOrder"]["replies"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(replies.len(), 20, "{shown}");
    assert_eq!(replies[0]["content"], "第1次回复");
    assert_eq!(replies[19]["content"], "第20次回复");
    let (_, rest) = get(
        &app,
        &inspector,
        &format!("/api/v1/supervision-orders/{order}"),
    )
    .await;
    assert_eq!(rest["replies"].as_array().unwrap().len(), 20, "{rest}");
    // The office accepts it.
    let accepted = app.data(&inspector, ACCEPT, json!({"id": order})).await;
    assert_eq!(accepted["acceptSupervisionReply"]["status"], "ACCEPTED");
}

#[tokio::test]
async fn a_finding_lists_its_newest_twenty_orders_and_counts_them_all() {
    let app = spawn_app().await;
    let inspector = named("赵督查", "inspector", Some("ZJSW-XCB"));
    let finding = app.create_finding("制度执行不到位", "ZJTZB-BGS").await;
    let mut last = String::new();
    for _ in 0..21 {
        last = app
            .data(
                &inspector,
                ISSUE,
                json!({"i": {"findingIds": [finding], "level": "GENERAL", "requirement": "请报送整改情况", "replyDeadline": day(3)}}),
            )
            .await["issueSupervisionOrder"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
    }
    let seen = app
        .data(
            &TestUser::manager("ZJTZB"),
            "query($id: ID!) { finding(id: $id) { supervisionOrderCount supervisionOrders { id } } }",
            json!({"id": finding}),
        )
        .await;
    assert_eq!(seen["finding"]["supervisionOrderCount"], 21, "{seen}");
    let listed = seen["finding"]["supervisionOrders"].as_array().unwrap();
    assert_eq!(listed.len(), 20);
    assert_eq!(listed[0]["id"], last.as_str());
    let all = app
        .data(
            &TestUser::manager("ZJTZB"),
            "query($id: ID!) { supervisionOrders(filter: {findingId: $id}, first: 50) { totalCount } }",
            json!({"id": finding}),
        )
        .await;
    assert_eq!(all["supervisionOrders"]["totalCount"], 21, "{all}");
}

#[tokio::test]
async fn an_inbox_page_reads_its_notices_orders_in_one_batch() {
    // A window wide enough for a loaded machine to gather a level's keys in one batch.
    let app = spawn_app_with(&[
        "--jwt-secret",
        crate::helpers::SECRET,
        "--dataloader-delay",
        "400ms",
    ])
    .await;
    unit_people(&app).await;
    let inspector = named("赵督查", "inspector", Some("ZJSW-XCB"));
    let manager = named("王主任", "manager", Some("ZJTZB"));
    let finding = app.create_finding("公务接待不规范", "ZJTZB-BGS").await;
    for _ in 0..12 {
        app.data(
            &inspector,
            ISSUE,
            json!({"i": {"findingIds": [finding], "level": "GENERAL", "requirement": "请报送整改情况", "replyDeadline": day(3)}}),
        )
        .await;
    }
    let page = "query($n: Int!) { notifications(first: $n) { nodes { title supervisionOrder { id status replies { content } } } } }";
    let statements = async |n: i32| {
        let before = app.sql_statements().await;
        let data = app.data(&manager, page, json!({"n": n})).await;
        let nodes = data["notifications"]["nodes"].as_array().unwrap().clone();
        assert_eq!(nodes.len(), n as usize, "{data}");
        assert!(
            nodes
                .iter()
                .all(|n| n["supervisionOrder"]["status"] == "OPEN"),
            "{data}"
        );
        app.sql_statements().await - before
    };
    statements(12).await;
    // Background readers (the event outbox after the writes above) may run a statement
    // during a measurement: measured again, a page that costs more with size never matches.
    let mut seen = Vec::new();
    for _ in 0..3 {
        let small = statements(2).await;
        let large = statements(12).await;
        seen.push((small, large));
        if small == large {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    }
    assert!(
        seen.iter().any(|(small, large)| small == large),
        "statements must not grow with the page size: {seen:?}"
    );
}

#[tokio::test]
async fn reply_evidence_keeps_the_ledgers_budgets_and_nothing_stays_of_a_refused_reply() {
    let app = spawn_app().await;
    let inspector = named("赵督查", "inspector", Some("ZJSW-XCB"));
    let manager = TestUser::manager("ZJTZB");
    let finding = app.create_finding("经费使用不规范", "ZJTZB-BGS").await;
    let order = app
        .data(
            &inspector,
            ISSUE,
            json!({"i": {"findingIds": [finding], "level": "GENERAL", "requirement": "请说明经费使用情况", "replyDeadline": day(3)}}),
        )
        .await["issueSupervisionOrder"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let stored = app.stored_files();
    // 21 pieces of evidence: over the budget, nothing written or stored.
    let links: Vec<Value> = (0..20)
        .map(|n| json!({"title": format!("链接{n}"), "url": format!("https://example.gov.cn/{n}")}))
        .collect();
    let (_, body) = app
        .upload(
            &manager,
            REPLY_WITH,
            json!({"id": order, "i": {"content": "说明", "links": links, "files": [{"title": "凭证", "file": null}]}}),
            &[("variables.i.files.0.file", "a.pdf", "application/pdf", PDF)],
        )
        .await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
    // A file that is not what it claims; a link that is not an address.
    let (_, body) = app
        .upload(
            &manager,
            REPLY_WITH,
            json!({"id": order, "i": {"content": "说明", "files": [{"title": "凭证", "file": null}]}}),
            &[("variables.i.files.0.file", "a.pdf", "application/pdf", b"MZ not a pdf")],
        )
        .await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
    let (_, body) = app
        .gql(
            Some(&manager),
            REPLY_WITH,
            json!({"id": order, "i": {"content": "说明", "links": [{"title": "x", "url": "javascript:alert(1)"}]}}),
        )
        .await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
    // An officer may not reply: the file is stored only after the role is checked.
    let (_, body) = app
        .upload(
            &TestUser::officer("ZJTZB-BGS"),
            REPLY_WITH,
            json!({"id": order, "i": {"content": "说明", "files": [{"title": "凭证", "file": null}]}}),
            &[("variables.i.files.0.file", "b.pdf", "application/pdf", b"%PDF-1.4 officer")],
        )
        .await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"), "{body}");
    assert_eq!(app.stored_files(), stored);
    assert_eq!(
        rows(&app, "SELECT COUNT(*) FROM supervision_reply").await,
        0
    );

    // Accepted, the order takes no reply: the file brought is removed again.
    app.data(&manager, REPLY, json!({"id": order, "c": "已说明"}))
        .await;
    app.data(&inspector, ACCEPT, json!({"id": order})).await;
    let (_, body) = app
        .upload(
            &manager,
            REPLY_WITH,
            json!({"id": order, "i": {"content": "补充", "files": [{"title": "凭证", "file": null}]}}),
            &[("variables.i.files.0.file", "c.pdf", "application/pdf", b"%PDF-1.4 late")],
        )
        .await;
    assert_eq!(error_code(&body), Some("INVALID_TRANSITION"), "{body}");
    assert_eq!(app.stored_files(), stored);
    assert_eq!(
        rows(&app, "SELECT COUNT(*) FROM supervision_reply_evidence").await,
        0
    );
}

#[tokio::test]
async fn every_mutation_is_refused_to_roles_and_units_it_is_not_for() {
    let app = spawn_app().await;
    let inspector = named("赵督查", "inspector", Some("ZJSW-XCB"));
    let finding = app.create_finding("会议记录不规范", "ZJTZB-BGS").await;
    let issue_vars = json!({"i": {"findingIds": [finding], "level": "GENERAL", "requirement": "请整改", "replyDeadline": day(3)}});
    let order =
        app.data(&inspector, ISSUE, issue_vars.clone()).await["issueSupervisionOrder"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
    // Another unit's manager, for scope.
    app.data(
        &TestUser::admin(),
        "mutation { createDepartment(input: {code: \"ZJSJ\", name: \"市审计局\", kind: UNIT, parentCode: \"ZJSW\"}) { id } }",
        json!({}),
    )
    .await;
    let stranger = TestUser::manager("ZJSJ");
    let snapshot = || async {
        (
            rows(&app, "SELECT COUNT(*) FROM supervision_order").await,
            rows(&app, "SELECT COUNT(*) FROM supervision_reply").await,
            rows(&app, "SELECT COUNT(*) FROM notification").await,
            rows(
                &app,
                "SELECT COUNT(*) FROM audit_event WHERE entity_type = 'supervision_order'",
            )
            .await,
        )
    };
    let before = snapshot().await;
    let reply = json!({"id": order, "c": "已整改"});
    let decide = json!({"id": order});
    let send_back = json!({"id": order, "r": "不完整", "d": day(4)});
    let cases: Vec<(&str, &str, Value, Option<String>, &str)> = vec![
        // Issue: the office only.
        ("issue", ISSUE, issue_vars.clone(), None, "UNAUTHENTICATED"),
        (
            "issue",
            ISSUE,
            issue_vars.clone(),
            Some(TestUser::manager("ZJTZB")),
            "FORBIDDEN",
        ),
        (
            "issue",
            ISSUE,
            issue_vars.clone(),
            Some(TestUser::officer("ZJTZB-BGS")),
            "FORBIDDEN",
        ),
        (
            "issue",
            ISSUE,
            issue_vars.clone(),
            Some(TestUser::viewer(None)),
            "FORBIDDEN",
        ),
        // Reply: the unit's managers only, to its own orders.
        ("reply", REPLY, reply.clone(), None, "UNAUTHENTICATED"),
        (
            "reply",
            REPLY,
            reply.clone(),
            Some(TestUser::officer("ZJTZB-BGS")),
            "FORBIDDEN",
        ),
        (
            "reply",
            REPLY,
            reply.clone(),
            Some(TestUser::viewer(Some("ZJTZB"))),
            "FORBIDDEN",
        ),
        (
            "reply",
            REPLY,
            reply.clone(),
            Some(inspector.clone()),
            "FORBIDDEN",
        ),
        (
            "reply",
            REPLY,
            reply.clone(),
            Some(stranger.clone()),
            "NOT_FOUND",
        ),
        // Accept and return: the office only.
        ("accept", ACCEPT, decide.clone(), None, "UNAUTHENTICATED"),
        (
            "accept",
            ACCEPT,
            decide.clone(),
            Some(TestUser::manager("ZJTZB")),
            "FORBIDDEN",
        ),
        (
            "accept",
            ACCEPT,
            decide.clone(),
            Some(TestUser::officer("ZJTZB-BGS")),
            "FORBIDDEN",
        ),
        (
            "accept",
            ACCEPT,
            decide.clone(),
            Some(stranger.clone()),
            "FORBIDDEN",
        ),
        ("return", RETURN, send_back.clone(), None, "UNAUTHENTICATED"),
        (
            "return",
            RETURN,
            send_back.clone(),
            Some(TestUser::manager("ZJTZB")),
            "FORBIDDEN",
        ),
        (
            "return",
            RETURN,
            send_back.clone(),
            Some(TestUser::viewer(None)),
            "FORBIDDEN",
        ),
        (
            "return",
            RETURN,
            send_back.clone(),
            Some(stranger.clone()),
            "FORBIDDEN",
        ),
    ];
    for (what, query, variables, token, code) in cases {
        let (_, body) = app.gql(token.as_deref(), query, variables).await;
        assert_eq!(error_code(&body), Some(code), "{what} as {token:?}: {body}");
    }
    assert_eq!(snapshot().await, before);
    // Nor can a reply be written to an order after the office accepted it, nor an order be
    // returned that has no reply.
    let (_, body) = app.gql(Some(&inspector), RETURN, send_back).await;
    assert_eq!(error_code(&body), Some("INVALID_TRANSITION"), "{body}");
    assert_eq!(snapshot().await, before);
}

#[tokio::test]
async fn a_page_of_findings_with_their_orders_subjects_replies_evidence_and_viewer_can_costs_the_same_at_any_size()
 {
    // A wide window: on a loaded machine (CI's two cores run many servers) the keys of one
    // level of 30 findings may take longer than 50 ms to gather, and a batch split in two
    // would count as a statement more.
    let app = crate::helpers::spawn_app_with(&[
        "--jwt-secret",
        crate::helpers::SECRET,
        "--dataloader-delay",
        "400ms",
    ])
    .await;
    let inspector = named("赵督查", "inspector", Some("ZJSW-XCB"));
    let manager = TestUser::manager("ZJTZB");
    let first: Vec<String> = app
        .data(
            &inspector,
            "{ findings(first: 30) { nodes { id } } }",
            json!({}),
        )
        .await["findings"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["id"].as_str().unwrap().to_owned())
        .collect();
    for (n, finding) in first.iter().enumerate() {
        let order = app
            .data(
                &inspector,
                ISSUE,
                json!({"i": {"findingIds": [finding], "level": "GENERAL", "requirement": "请报送整改情况", "replyDeadline": day(3)}}),
            )
            .await["issueSupervisionOrder"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        if n % 2 == 0 {
            app.data(&manager, REPLY, json!({"id": order, "c": "已整改"}))
                .await;
        }
    }
    let page = "query($n: Int!) { findings(first: $n) { nodes { id
        warning { level overdueSupervisionOrders } notices { code } supervisionOrderCount
        supervisionOrders { id level viewerCan { reply accept return }
          subjects { measureId finding { id title } }
          replies { content evidence { title } } } } } }";
    let statements = async |n: i32| {
        let before = app.sql_statements().await;
        let data = app.data(&inspector, page, json!({"n": n})).await;
        let nodes = data["findings"]["nodes"].as_array().unwrap().clone();
        assert_eq!(nodes.len(), n as usize);
        assert!(
            nodes
                .iter()
                .all(|f| f["supervisionOrders"].as_array().unwrap().len() == 1),
            "{data}"
        );
        app.sql_statements().await - before
    };
    // Once first: what a caller's first read costs besides (its token, the kept counts) is
    // not the page's.
    statements(30).await;
    let small = statements(5).await;
    let large = statements(30).await;
    assert_eq!(small, large, "statements must not grow with the page size");
}
