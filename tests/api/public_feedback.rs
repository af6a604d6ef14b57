//! Public supervision (公众监督): the public sends feedback about a published bulletin (behind
//! an arithmetic check, a size bound and a rate limit), gets a receipt code (查询码), and finds
//! the unit's published answer by it and on the bulletin's page; the unit's managers read,
//! link, answer and close it. Senders' contacts reach the unit's managers and admins only.

use serde_json::{Value, json};

use crate::helpers::{SECRET, TestApp, TestUser, count, error_code, spawn_app, spawn_app_with};

/// The sender's contact and name the tests look for everywhere they must not be.
pub(crate) const CONTACT: &str = "13900001111";
pub(crate) const NAME: &str = "举报人甲乙";

/// The public address the tests configure (`RECTRACK_PUBLIC_URL`), with a path.
pub(crate) const PUBLIC_URL: &str = "https://zgtb.example.gov.cn/rectrack/";

/// A fresh challenge for bulletin `id`, answered: (token, answer).
pub(crate) async fn solved(app: &TestApp, id: &str) -> (String, i64) {
    let challenge: Value = app
        .client
        .get(app.url(&format!("/public/bulletins/{id}/feedback/challenge")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let question = challenge["question"].as_str().unwrap();
    let numbers: Vec<i64> = question
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().unwrap())
        .collect();
    assert_eq!(numbers.len(), 2, "{question}");
    (
        challenge["token"].as_str().unwrap().to_owned(),
        numbers[0] + numbers[1],
    )
}

/// Posts feedback as JSON with a solved challenge and `fields`; status and body.
pub(crate) async fn post(app: &TestApp, id: &str, fields: Value) -> (u16, Value) {
    post_from(app, id, fields, None).await
}

/// [`post`] from a client address a trusted proxy forwards (each its own rate quota).
async fn post_from(app: &TestApp, id: &str, fields: Value, from: Option<&str>) -> (u16, Value) {
    let (token, answer) = solved(app, id).await;
    let mut body = json!({"challenge": token, "answer": answer.to_string()});
    for (k, v) in fields.as_object().unwrap() {
        body[k] = v.clone();
    }
    let mut request = app
        .client
        .post(app.url(&format!("/public/bulletins/{id}/feedback")))
        .json(&body);
    if let Some(from) = from {
        request = request.header("x-forwarded-for", from);
    }
    let response = request.send().await.unwrap();
    (
        response.status().as_u16(),
        response.json().await.unwrap_or(Value::Null),
    )
}

/// Sends feedback with the test contact and name; its receipt code.
pub(crate) async fn send(app: &TestApp, id: &str, content: &str) -> String {
    let (status, body) = post(
        app,
        id,
        json!({"content": content, "contact": CONTACT, "senderName": NAME}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    body["code"].as_str().unwrap().to_owned()
}

async fn get_text(app: &TestApp, path: &str) -> (u16, String) {
    let response = app.client.get(app.url(path)).send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

const LIST: &str = "query($f: PublicFeedbackFilterInput) { publicFeedback(filter: $f) { totalCount nodes { id bulletinId problemNo content senderName contact status duplicates version viewerCanHandle finding { id } replies { content published } } } }";
const ANSWER: &str = "mutation($id: ID!, $r: String!, $p: Boolean!) { answerPublicFeedback(id: $id, reply: $r, publish: $p) { id status answeredAt } }";
const LINK: &str = "mutation($id: ID!, $f: ID!) { linkPublicFeedback(id: $id, findingId: $f) { id finding { id } } }";
const OPEN: &str = "mutation($id: ID!) { openFindingFromPublicFeedback(id: $id, input: {title: \"群众反映的问题\", departmentCode: \"ZJTZB-BGS\", rectificationType: BY_DEADLINE}) { id finding { id title description } } }";
const CLOSE: &str = "mutation($id: ID!) { closePublicFeedback(id: $id) { id status closedAt } }";

async fn receipt(app: &TestApp, code: &str) -> Value {
    app.client
        .get(app.url(&format!("/public/feedback/{code}?format=json")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn feedback_goes_received_answered_linked_closed_and_the_public_reads_the_published_answer() {
    let app = spawn_app_with(&["--jwt-secret", SECRET, "--public-url", PUBLIC_URL]).await;
    let manager = TestUser::manager("ZJTZB");
    let bulletin = app.published_bulletin(&manager).await;
    let (status, body) = post(
        &app,
        &bulletin,
        json!({"content": "第一个问题的整改<b>没有</b>落实到位", "problemNo": 1, "contact": CONTACT, "senderName": NAME}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["folded"], false);
    let code = body["code"].as_str().unwrap().to_owned();
    assert_eq!(code.len(), 20);
    assert_eq!(body["url"], format!("/public/feedback/{code}"));

    let shown = receipt(&app, &code).await;
    assert_eq!(shown["status"], "received", "{shown}");
    assert_eq!(shown["replies"], json!([]));
    assert_eq!(shown["bulletinId"].to_string(), bulletin);

    // The unit's managers read it with the contact; the office reads it without.
    let list = app.data(&manager, LIST, json!({})).await["publicFeedback"].clone();
    assert_eq!(list["totalCount"], 1, "{list}");
    let node = list["nodes"][0].clone();
    assert_eq!(node["contact"], CONTACT);
    assert_eq!(node["senderName"], NAME);
    assert_eq!(node["problemNo"], 1);
    assert_eq!(node["content"], "第一个问题的整改<b>没有</b>落实到位");
    assert_eq!(node["viewerCanHandle"], true);
    let id = node["id"].as_str().unwrap().to_owned();
    for token in [TestUser::inspector(), TestUser::viewer(Some("ZJTZB"))] {
        let seen = app.data(&token, LIST, json!({})).await["publicFeedback"].clone();
        assert_eq!(seen["totalCount"], 1, "{seen}");
        assert_eq!(seen["nodes"][0]["contact"], Value::Null);
        assert_eq!(seen["nodes"][0]["senderName"], Value::Null);
        assert_eq!(seen["nodes"][0]["viewerCanHandle"], false);
    }
    // A section's officer does not read the unit's feedback.
    let officer = app
        .data(&TestUser::officer("ZJTZB-BGS"), LIST, json!({}))
        .await;
    assert_eq!(officer["publicFeedback"]["totalCount"], 0);

    // An answer kept internal is not shown; a published one is, by receipt and on the page.
    app.data(
        &manager,
        ANSWER,
        json!({"id": id, "r": "内部记录：已转办公室核实", "p": false}),
    )
    .await;
    assert_eq!(receipt(&app, &code).await["replies"], json!([]));
    let answered = app
        .data(
            &manager,
            ANSWER,
            json!({"id": id, "r": "经核实，已于本月完成整改<i>公开</i>", "p": true}),
        )
        .await;
    assert_eq!(answered["answerPublicFeedback"]["status"], "ANSWERED");
    let shown = receipt(&app, &code).await;
    assert_eq!(shown["status"], "answered");
    assert_eq!(shown["replies"].as_array().unwrap().len(), 1, "{shown}");
    assert_eq!(
        shown["replies"][0]["content"],
        "经核实，已于本月完成整改<i>公开</i>"
    );
    let (status, page) = get_text(&app, &format!("/public/feedback/{code}")).await;
    assert_eq!(status, 200);
    assert!(
        page.contains("经核实，已于本月完成整改&lt;i&gt;公开&lt;/i&gt;"),
        "{page}"
    );
    assert!(!page.contains("内部记录"));
    let (_, page) = get_text(&app, &format!("/public/bulletins/{bulletin}")).await;
    assert!(page.contains("经核实，已于本月完成整改&lt;i&gt;公开&lt;/i&gt;"));
    assert!(page.contains("第一个问题的整改&lt;b&gt;没有&lt;/b&gt;落实到位"));
    assert!(!page.contains("<b>没有</b>") && !page.contains("内部记录"));
    // The page's form, with its check question, and the QR code of its link.
    assert!(page.contains(&format!("action=\"/public/bulletins/{bulletin}/feedback\"")));
    assert!(page.contains("name=\"challenge\"") && page.contains("加"));
    assert!(page.contains("<svg") && page.contains("扫码反馈意见建议"));
    assert!(page.contains(&format!(
        "扫码反馈意见建议：https://zgtb.example.gov.cn/rectrack/public/bulletins/{bulletin}#feedback"
    )));

    // Linked to a finding of the inspection: the finding's ledger notes it.
    let finding = app.finding_id(1).await.to_string();
    let linked = app
        .data(&manager, LINK, json!({"id": id, "f": finding}))
        .await;
    assert_eq!(linked["linkPublicFeedback"]["finding"]["id"], finding);
    assert_eq!(
        count(
            &app.db,
            &format!(
                "SELECT COUNT(*) FROM progress_entry WHERE finding_id = {finding} AND content LIKE '关联公众监督反馈%'"
            )
        )
        .await,
        1
    );
    // The counts: the status summary, GraphQL and a report generated now.
    let status_json: Value = app
        .client
        .get(app.url("/api/v1/status"))
        .bearer_auth(&manager)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        status_json["publicFeedback"],
        json!({"received": 1, "answered": 1, "linked": 1})
    );
    let counts = app
        .data(
            &TestUser::inspector(),
            "{ publicFeedbackCounts { received answered linked } }",
            json!({}),
        )
        .await;
    assert_eq!(
        counts["publicFeedbackCounts"],
        json!({"received": 1, "answered": 1, "linked": 1})
    );
    let report = app.report(&manager).await;
    let md = app.markdown(&manager, &report).await;
    assert!(
        md.contains("| 公众反馈（收到/已答复/已关联问题） | 1/1/1 |"),
        "{md}"
    );

    // Closed: nothing more is done with it.
    let closed = app.data(&manager, CLOSE, json!({"id": id})).await;
    assert_eq!(closed["closePublicFeedback"]["status"], "CLOSED");
    assert_eq!(receipt(&app, &code).await["status"], "closed");
    let (_, again) = app
        .gql(
            Some(&manager),
            ANSWER,
            json!({"id": id, "r": "再答复", "p": true}),
        )
        .await;
    assert_eq!(error_code(&again), Some("INVALID_TRANSITION"), "{again}");
    assert_eq!(
        count(&app.db, "SELECT COUNT(*) FROM public_feedback_reply").await,
        2
    );
    // Every move audited.
    assert_eq!(
        count(
            &app.db,
            "SELECT COUNT(*) FROM audit_event WHERE entity_type = 'public_feedback'"
        )
        .await,
        5
    );
}

#[tokio::test]
async fn a_finding_is_opened_from_feedback_and_linked_to_it() {
    let app = spawn_app().await;
    let manager = TestUser::manager("ZJTZB");
    let bulletin = app.published_bulletin(&manager).await;
    send(&app, &bulletin, "食堂采购没有公开招标").await;
    let id = app.data(&manager, LIST, json!({})).await["publicFeedback"]["nodes"][0]["id"].clone();
    let opened = app.data(&manager, OPEN, json!({"id": id})).await;
    let finding = &opened["openFindingFromPublicFeedback"]["finding"];
    assert_eq!(finding["title"], "群众反映的问题", "{opened}");
    assert_eq!(finding["description"], "食堂采购没有公开招标");
    let linked = app
        .data(&manager, LIST, json!({"f": {"linked": true}}))
        .await;
    assert_eq!(linked["publicFeedback"]["totalCount"], 1);
}

#[tokio::test]
async fn bad_feedback_is_refused_with_a_code_and_nothing_is_written() {
    // Many posts: each from an address of its own, as a trusted proxy forwards them.
    let app = spawn_app_with(&["--jwt-secret", SECRET, "--trusted-proxies", "127.0.0.1"]).await;
    let mut n = 0;
    let mut from = || {
        n += 1;
        format!("10.0.0.{n}")
    };
    let bulletin = app.published_bulletin(&TestUser::manager("ZJTZB")).await;
    let url = app.url(&format!("/public/bulletins/{bulletin}/feedback"));
    for (fields, code, field) in [
        (json!({"content": "   "}), "BAD_USER_INPUT", "content"),
        (json!({"content": "有\u{0}字"}), "BAD_USER_INPUT", "content"),
        (
            json!({"content": "太长".repeat(1_001)}),
            "BAD_USER_INPUT",
            "content",
        ),
        (
            json!({"content": "好", "problemNo": 999}),
            "BAD_USER_INPUT",
            "problemNo",
        ),
        (
            json!({"content": "好", "contact": "<script>"}),
            "BAD_USER_INPUT",
            "contact",
        ),
    ] {
        let (status, body) = post_from(&app, &bulletin, fields.clone(), Some(&from())).await;
        assert_eq!(status, 400, "{fields}: {body}");
        assert_eq!(body["error"]["code"], code, "{body}");
        assert_eq!(body["error"]["field"], field, "{body}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(
            message
                .chars()
                .any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
            "{message}"
        );
    }
    // A wrong answer, no challenge, another bulletin's challenge, a forged token.
    let (token, answer) = solved(&app, &bulletin).await;
    for (body, field) in [
        (
            json!({"content": "好", "challenge": token, "answer": (answer + 1).to_string()}),
            "answer",
        ),
        (json!({"content": "好"}), "challenge"),
        (
            json!({"content": "好", "challenge": "1.2.3", "answer": "3"}),
            "challenge",
        ),
        (
            json!({"content": "好", "challenge": format!("{token}x"), "answer": answer.to_string()}),
            "answer",
        ),
    ] {
        let response = app
            .client
            .post(&url)
            .header("x-forwarded-for", from())
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400, "{body}");
        let got: Value = response.json().await.unwrap();
        assert_eq!(got["error"]["field"], field, "{got}");
    }
    // 1 MB is refused before it is read; neither JSON nor a form is refused.
    let response = app
        .client
        .post(&url)
        .header("x-forwarded-for", from())
        .header("content-type", "application/json")
        .body(vec![b' '; 1 << 20])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
    let got: Value = response.json().await.unwrap();
    assert_eq!(got["error"]["code"], "PAYLOAD_TOO_LARGE");
    let response = app
        .client
        .post(&url)
        .header("x-forwarded-for", from())
        .header("content-type", "text/plain")
        .body("好")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 415);
    // No such published bulletin.
    let (status, _) = post_from(&app, &bulletin, json!({"content": "好"}), Some(&from())).await;
    assert_eq!(status, 201);
    let response = app
        .client
        .post(app.url("/public/bulletins/99999/feedback"))
        .header("x-forwarded-for", from())
        .json(&json!({"content": "好"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    // Only the one good post was written; an unknown receipt code is not found.
    assert_eq!(
        count(&app.db, "SELECT COUNT(*) FROM public_feedback").await,
        1
    );
    let (status, _) = get_text(&app, "/public/feedback/0000000000000000000Z").await;
    assert_eq!(status, 404);
    let (status, _) = get_text(&app, "/public/feedback/%3Cscript%3E").await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn the_same_text_again_is_folded_into_the_first_with_its_code() {
    let app = spawn_app().await;
    let bulletin = app.published_bulletin(&TestUser::manager("ZJTZB")).await;
    let first = send(&app, &bulletin, "办公用房超标问题\n没有整改").await;
    let (status, body) = post(
        &app,
        &bulletin,
        json!({"content": "  办公用房超标问题 没有整改 "}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["code"], first);
    assert_eq!(body["folded"], true);
    assert_eq!(
        count(&app.db, "SELECT COUNT(*) FROM public_feedback").await,
        1
    );
    assert_eq!(
        count(&app.db, "SELECT duplicates FROM public_feedback").await,
        1
    );
}

#[tokio::test]
async fn a_flood_of_posts_from_one_address_gets_429_and_reading_goes_on() {
    let app = spawn_app().await;
    let bulletin = app.published_bulletin(&TestUser::manager("ZJTZB")).await;
    let url = app.url(&format!("/public/bulletins/{bulletin}/feedback"));
    let mut statuses = Vec::new();
    for n in 0..10 {
        let response = app
            .client
            .post(&url)
            .json(&json!({"content": format!("第{n}条")}))
            .send()
            .await
            .unwrap();
        statuses.push(response.status().as_u16());
        if response.status() == 429 {
            assert!(response.headers().contains_key("retry-after"));
            let body: Value = response.json().await.unwrap();
            assert_eq!(body["error"]["code"], "RATE_LIMITED", "{body}");
        }
    }
    // The quota (6 at once) is spent on refused posts too: a flood gets nothing written.
    assert_eq!(statuses[..6], [400; 6], "{statuses:?}");
    assert_eq!(statuses[6..], [429; 4], "{statuses:?}");
    let (status, _) = get_text(&app, &format!("/public/bulletins/{bulletin}")).await;
    assert_eq!(status, 200);
    let (status, _) = get_text(&app, "/healthz").await;
    assert_eq!(status, 200);
    assert_eq!(
        count(&app.db, "SELECT COUNT(*) FROM public_feedback").await,
        0
    );
}

#[tokio::test]
async fn every_feedback_mutation_is_refused_to_callers_who_may_not_handle_it() {
    let app = spawn_app().await;
    let manager = TestUser::manager("ZJTZB");
    let bulletin = app.published_bulletin(&manager).await;
    send(&app, &bulletin, "请公开整改进展").await;
    let id = app.data(&manager, LIST, json!({})).await["publicFeedback"]["nodes"][0]["id"].clone();
    let finding = app.finding_id(1).await.to_string();
    let mutations = [
        (ANSWER, json!({"id": id, "r": "答复", "p": true})),
        (LINK, json!({"id": id, "f": finding})),
        (OPEN, json!({"id": id})),
        (CLOSE, json!({"id": id})),
    ];
    let callers = [
        (None, "UNAUTHENTICATED"),
        (Some(TestUser::inspector()), "FORBIDDEN"),
        (Some(TestUser::officer("ZJTZB-BGS")), "FORBIDDEN"),
        (Some(TestUser::viewer(Some("ZJTZB"))), "FORBIDDEN"),
        (Some(TestUser::viewer(None)), "FORBIDDEN"),
        // Another unit's manager does not find it.
        (Some(TestUser::manager("ZJSW-XCB")), "NOT_FOUND"),
    ];
    for (query, variables) in &mutations {
        for (token, code) in &callers {
            let (_, body) = app.gql(token.as_deref(), query, variables.clone()).await;
            assert_eq!(error_code(&body), Some(*code), "{query} {token:?}: {body}");
        }
    }
    assert_eq!(
        count(&app.db, "SELECT COUNT(*) FROM public_feedback_reply").await,
        0
    );
    assert_eq!(
        count(&app.db, "SELECT COUNT(*) FROM public_feedback WHERE status <> 'received' OR finding_id IS NOT NULL").await,
        0
    );
    assert_eq!(
        count(
            &app.db,
            "SELECT COUNT(*) FROM audit_event WHERE entity_type = 'public_feedback'"
        )
        .await,
        1
    );
}

#[tokio::test]
async fn the_senders_contact_is_on_no_surface_but_the_unit_managers_and_admins() {
    let app = spawn_app().await;
    let manager = TestUser::manager("ZJTZB");
    let bulletin = app.published_bulletin(&manager).await;
    let code = send(&app, &bulletin, "反映干部作风问题").await;
    let id = app.data(&manager, LIST, json!({})).await["publicFeedback"]["nodes"][0]["id"].clone();
    app.data(
        &manager,
        ANSWER,
        json!({"id": id, "r": "已核实处理", "p": true}),
    )
    .await;
    app.data(
        &manager,
        LINK,
        json!({"id": id, "f": app.finding_id(1).await.to_string()}),
    )
    .await;
    let report = app.report(&manager).await;
    let later = app.published_bulletin(&manager).await;
    // Stored: in the feedback row alone (not the audit trail, the outbox, the ledger, reports).
    for table_sql in [
        "SELECT COUNT(*) FROM audit_event WHERE COALESCE(CAST(before AS TEXT), '') || COALESCE(CAST(after AS TEXT), '') LIKE '%{x}%'",
        "SELECT COUNT(*) FROM event WHERE COALESCE(CAST(payload AS TEXT), '') LIKE '%{x}%'",
        "SELECT COUNT(*) FROM progress_entry WHERE content || COALESCE(CAST(details AS TEXT), '') LIKE '%{x}%'",
        "SELECT COUNT(*) FROM report WHERE CAST(snapshot AS TEXT) LIKE '%{x}%'",
        "SELECT COUNT(*) FROM notification WHERE title || body LIKE '%{x}%'",
    ] {
        for x in [CONTACT, NAME] {
            let sql = table_sql.replace("{x}", x);
            assert_eq!(count(&app.db, &sql).await, 0, "{sql}");
        }
    }
    // Served: public pages, the receipt, report downloads, the ledger export, the status.
    let mut surfaces = vec![
        (None, format!("/public/bulletins/{bulletin}")),
        (None, format!("/public/bulletins/{later}")),
        (None, format!("/public/bulletins/{later}?format=md")),
        (None, "/public/bulletins?format=json".to_owned()),
        (None, format!("/public/feedback/{code}")),
        (None, format!("/public/feedback/{code}?format=json")),
        (Some(manager.clone()), "/api/v1/status".to_owned()),
        (
            Some(manager.clone()),
            "/api/v1/inspections/1/ledger?format=csv".to_owned(),
        ),
        (
            Some(manager.clone()),
            "/api/v1/inspections/1/ledger?format=json".to_owned(),
        ),
    ];
    for format in ["json", "md", "csv"] {
        surfaces.push((
            Some(manager.clone()),
            format!("/api/v1/reports/{report}?format={format}"),
        ));
    }
    for (token, path) in surfaces {
        let mut request = app.client.get(app.url(&path));
        if let Some(token) = &token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        let text = response.text().await.unwrap();
        assert!(
            !text.contains(CONTACT) && !text.contains(NAME),
            "{path}: {text}"
        );
    }
    // GraphQL: the audit trail as its readers see it, and the feedback to every other role.
    let audit = app
        .data(
            &TestUser::admin(),
            "{ auditLog(first: 100) { nodes { action before after } } }",
            json!({}),
        )
        .await
        .to_string();
    assert!(audit.contains("public_feedback.answer"), "{audit}");
    assert!(!audit.contains(CONTACT) && !audit.contains(NAME));
    for token in [
        TestUser::inspector(),
        TestUser::viewer(None),
        TestUser::viewer(Some("ZJTZB")),
        TestUser::officer("ZJTZB-BGS"),
    ] {
        let seen = app.data(&token, LIST, json!({})).await.to_string();
        assert!(!seen.contains(CONTACT) && !seen.contains(NAME), "{seen}");
    }
    for token in [manager.clone(), TestUser::admin()] {
        let seen = app.data(&token, LIST, json!({})).await.to_string();
        assert!(seen.contains(CONTACT) && seen.contains(NAME), "{seen}");
    }
}

/// The page of bulletin `id` asked for with a `Host` (and a forwarded scheme) of the caller's
/// choosing.
async fn page_as(app: &TestApp, id: &str, host: Option<&str>) -> String {
    let mut request = app.client.get(app.url(&format!("/public/bulletins/{id}")));
    if let Some(host) = host {
        request = request
            .header("host", host)
            .header("x-forwarded-proto", "https")
            .header("x-forwarded-host", host);
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), 200);
    response.text().await.unwrap()
}

/// The QR code's SVG element of a page.
fn qr_of(page: &str) -> Option<&str> {
    let start = page.find("<svg")?;
    let end = page[start..].find("</svg>")? + start;
    Some(&page[start..end])
}

#[tokio::test]
async fn the_qr_code_holds_the_configured_public_address_whatever_host_a_request_names() {
    let app = spawn_app_with(&["--jwt-secret", SECRET, "--public-url", PUBLIC_URL]).await;
    let bulletin = app.published_bulletin(&TestUser::manager("ZJTZB")).await;
    let link = format!("https://zgtb.example.gov.cn/rectrack/public/bulletins/{bulletin}#feedback");
    let honest = page_as(&app, &bulletin, None).await;
    assert!(
        honest.contains(&format!("扫码反馈意见建议：{link}")),
        "{honest}"
    );
    let code = qr_of(&honest).expect("a QR code").to_owned();
    for forged in [
        "evil.example",
        "evil.example:8443",
        "zgtb.example.gov.cn.evil.example",
    ] {
        let page = page_as(&app, &bulletin, Some(forged)).await;
        assert!(!page.contains("evil.example"), "{forged}: {page}");
        assert!(
            page.contains(&format!("扫码反馈意见建议：{link}")),
            "{forged}"
        );
        assert_eq!(
            qr_of(&page),
            Some(code.as_str()),
            "{forged}: another QR code"
        );
    }

    // Unset: no QR code (the page says why, on screen only) and only relative links; a forged
    // Host is not printed either.
    let plain = spawn_app().await;
    let bulletin = plain.published_bulletin(&TestUser::manager("ZJTZB")).await;
    let page = page_as(&plain, &bulletin, Some("evil.example")).await;
    assert_eq!(qr_of(&page), None, "{page}");
    assert!(page.contains("RECTRACK_PUBLIC_URL"), "{page}");
    assert!(
        !page.contains("evil.example") && !page.contains("扫码反馈意见建议"),
        "{page}"
    );
    assert!(page.contains(&format!("action=\"/public/bulletins/{bulletin}/feedback\"")));
}

#[tokio::test]
async fn a_reports_feedback_figures_are_those_of_its_date() {
    let app = spawn_app().await;
    let manager = TestUser::manager("ZJTZB");
    let bulletin = app.published_bulletin(&manager).await;
    send(&app, &bulletin, "甲：第一个问题没有整改到位").await;
    send(&app, &bulletin, "乙：第二个问题整改情况没有公开").await;
    let nodes = app.data(&manager, LIST, json!({})).await["publicFeedback"]["nodes"].clone();
    let second = nodes[0]["id"].as_str().unwrap().to_owned();
    let first = nodes[1]["id"].as_str().unwrap().to_owned();
    let one = app.finding_id(1).await.to_string();
    let two = app.finding_id(2).await.to_string();
    for id in [&first, &second] {
        app.data(
            &manager,
            ANSWER,
            json!({"id": id, "r": "已核实", "p": false}),
        )
        .await;
        app.data(&manager, LINK, json!({"id": id, "f": one})).await;
    }
    // 甲 was received, answered and linked three days ago; 乙 received then, handled today.
    let then = format!("{}T00:00:00Z", crate::supervision::day(-3));
    app.sql(&format!(
        "UPDATE public_feedback SET created_at = '{then}', answered_at = '{then}', linked_at = '{then}' WHERE id = {first}"
    ))
    .await;
    app.sql(&format!(
        "UPDATE public_feedback SET created_at = '{then}' WHERE id = {second}"
    ))
    .await;
    // Linked to another finding today, 甲 was still linked yesterday.
    app.data(&manager, LINK, json!({"id": first, "f": two}))
        .await;
    send(&app, &bulletin, "丙：今天收到的反馈").await;

    let row = |md: &str, value: &str| {
        assert!(
            md.contains(&format!("| 公众反馈（收到/已答复/已关联问题） | {value} |")),
            "{value}: {md}"
        );
    };
    row(
        &crate::supervision_cycle::report_on(&app, &crate::supervision::day(-1)).await,
        "2/1/1",
    );
    row(
        &crate::supervision_cycle::report_on(&app, &crate::supervision::day(0)).await,
        "3/2/2",
    );
}

#[tokio::test]
async fn feedback_takes_twenty_replies_read_for_a_page_at_once() {
    let app = spawn_app_with(&["--jwt-secret", SECRET, "--dataloader-delay", "400ms"]).await;
    let manager = TestUser::manager("ZJTZB");
    let bulletin = app.published_bulletin(&manager).await;
    // Five: within the posts one address may make at once.
    for n in 0..5 {
        send(&app, &bulletin, &format!("第{n}条意见")).await;
    }
    let nodes = app.data(&manager, LIST, json!({})).await["publicFeedback"]["nodes"].clone();
    let ids: Vec<Value> = nodes
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["id"].clone())
        .collect();
    for id in &ids[1..] {
        app.data(
            &manager,
            ANSWER,
            json!({"id": id, "r": "已收到", "p": false}),
        )
        .await;
    }
    // Twenty answers, then no more; every one is read back.
    for n in 1..=20 {
        app.data(
            &manager,
            ANSWER,
            json!({"id": ids[0], "r": format!("第{n}次答复"), "p": n == 20}),
        )
        .await;
    }
    let (_, body) = app
        .gql(
            Some(&manager),
            ANSWER,
            json!({"id": ids[0], "r": "再答复", "p": true}),
        )
        .await;
    assert_eq!(error_code(&body), Some("INVALID_TRANSITION"), "{body}");
    assert_eq!(
        count(
            &app.db,
            &format!(
                "SELECT COUNT(*) FROM public_feedback_reply WHERE feedback_id = {}",
                ids[0].as_str().unwrap()
            )
        )
        .await,
        20
    );
    let page = "query($n: Int!) { publicFeedback(first: $n) { nodes { id replies { content } } } }";
    let statements = async |n: i32| {
        let before = app.sql_statements().await;
        let data = app.data(&manager, page, json!({"n": n})).await;
        let nodes = data["publicFeedback"]["nodes"].as_array().unwrap().clone();
        assert_eq!(nodes.len(), n as usize);
        assert_eq!(nodes[0]["replies"].as_array().unwrap().len(), 20, "{data}");
        assert_eq!(nodes[0]["replies"][19]["content"], "第20次答复");
        assert!(
            nodes[1..]
                .iter()
                .all(|f| f["replies"].as_array().unwrap().len() == 1),
            "{data}"
        );
        app.sql_statements().await - before
    };
    statements(5).await;
    // Background work (the event outbox after the writes above, the audit chain's periodic
    // pass on PostgreSQL) may run a statement during a measurement: it only ever adds, so the
    // fewest seen over a few measurements is the page's own count, and a page that costs more
    // with size never matches.
    let mut seen = Vec::new();
    let (mut small, mut large) = (u64::MAX, u64::MAX);
    for _ in 0..6 {
        let pair = (statements(2).await, statements(5).await);
        seen.push(pair);
        small = small.min(pair.0);
        large = large.min(pair.1);
        if small == large {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(700)).await;
    }
    assert_eq!(
        small, large,
        "statements must not grow with the page size: {seen:?}"
    );
}

#[tokio::test]
async fn the_units_managers_are_told_of_new_feedback_and_the_notice_names_no_sender() {
    let app = spawn_app_with(&crate::webhooks::fast()).await;
    let receiver = crate::webhooks::Receiver::default();
    let url = receiver.start().await;
    crate::webhooks::register(&app, json!({"url": url})).await;
    crate::supervision::unit_people(&app).await;
    let manager = crate::supervision::named("王主任", "manager", Some("ZJTZB"));
    let bulletin = app.published_bulletin(&TestUser::manager("ZJTZB")).await;
    let text = format!("第一个问题没有整改，请联系{NAME}，电话{CONTACT}");
    let (status, body) = post(
        &app,
        &bulletin,
        json!({"content": text, "problemNo": 1, "contact": CONTACT, "senderName": NAME}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    // The same text again is folded: nobody is told twice.
    let (status, _) = post(&app, &bulletin, json!({"content": text})).await;
    assert_eq!(status, 201);
    let id = app.data(&manager, LIST, json!({})).await["publicFeedback"]["nodes"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    const NOTICES: &str = "{ notifications { totalCount nodes { id role level title body finding { id } supervisionOrder { id } publicFeedback { id problemNo contact } } } }";
    let inbox = app.data(&manager, NOTICES, json!({})).await["notifications"].clone();
    assert_eq!(inbox["totalCount"], 1, "{inbox}");
    let notice = &inbox["nodes"][0];
    assert_eq!(notice["role"], "MANAGER");
    assert_eq!(
        notice["title"],
        format!("【公众监督】收到群众对整改通报的意见建议（第 {id} 号），请及时办理")
    );
    assert_eq!(
        notice["body"],
        format!("关于通报（第 {bulletin} 号）第 1 个问题。请在“公众监督”中查看、关联问题并答复。")
    );
    assert_eq!(notice["finding"], Value::Null);
    assert_eq!(notice["supervisionOrder"], Value::Null);
    assert_eq!(notice["publicFeedback"]["id"], id.as_str());
    assert_eq!(notice["publicFeedback"]["problemNo"], 1);
    // The manager reads the contact on the feedback itself, as everywhere; the notice, the
    // outbox and the audit trail carry none of the sender's words.
    assert_eq!(notice["publicFeedback"]["contact"], CONTACT);
    for x in [CONTACT, NAME] {
        for sql in [
            format!("SELECT COUNT(*) FROM notification WHERE title || body LIKE '%{x}%'"),
            format!(
                "SELECT COUNT(*) FROM event WHERE COALESCE(CAST(payload AS TEXT), '') LIKE '%{x}%'"
            ),
            format!(
                "SELECT COUNT(*) FROM audit_event WHERE COALESCE(CAST(after AS TEXT), '') LIKE '%{x}%'"
            ),
        ] {
            assert_eq!(count(&app.db, &sql).await, 0, "{sql}");
        }
    }
    // One event and one webhook (the folded resend is none), naming the feedback only.
    assert_eq!(
        count(
            &app.db,
            "SELECT COUNT(*) FROM event WHERE kind = 'feedback.received'"
        )
        .await,
        1
    );
    let started = std::time::Instant::now();
    let hooks = loop {
        let hooks: Vec<String> = receiver
            .received()
            .into_iter()
            .map(|r| r.body)
            .filter(|b| b.contains("\"feedback.received\""))
            .collect();
        if !hooks.is_empty() {
            break hooks;
        }
        assert!(
            started.elapsed().as_secs() < 30,
            "no feedback.received webhook"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    let hook: Value = serde_json::from_str(&hooks[0]).unwrap();
    assert_eq!(hook["type"], "feedback.received", "{hook}");
    assert_eq!(hook["data"]["publicFeedback"]["id"], id.as_str(), "{hook}");
    assert_eq!(
        hook["data"]["publicFeedback"]["bulletinId"],
        bulletin.as_str()
    );
    assert_eq!(hook["data"]["publicFeedback"]["problemNo"], 1);
    for hook in &hooks {
        assert!(
            !hook.contains(CONTACT) && !hook.contains(NAME) && !hook.contains("请联系"),
            "{hook}"
        );
    }
    // Another unit's manager of the same name does not see it; the addressee marks it read.
    let elsewhere = crate::supervision::named("王主任", "manager", Some("ZJSW-XCB"));
    let theirs = app.data(&elsewhere, NOTICES, json!({})).await;
    assert_eq!(theirs["notifications"]["totalCount"], 0, "{theirs}");
    let notice_id = notice["id"].clone();
    let (_, body) = app
        .gql(
            Some(&elsewhere),
            "mutation($ids: [ID!]!) { markNotificationsRead(ids: $ids) { id } }",
            json!({"ids": [notice_id]}),
        )
        .await;
    assert_eq!(error_code(&body), Some("NOT_FOUND"), "{body}");
    let read = app
        .data(
            &manager,
            "mutation($ids: [ID!]!) { markNotificationsRead(ids: $ids) { id readAt } }",
            json!({"ids": [notice_id]}),
        )
        .await;
    assert!(
        read["markNotificationsRead"][0]["readAt"].is_string(),
        "{read}"
    );
}
