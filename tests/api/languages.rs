//! Messages in Simplified Chinese by default and in English when `Accept-Language` prefers it,
//! with the same codes; ledger texts and documents in Chinese whoever asks; one configured time
//! zone for "today" and for the times documents show.

use chrono::{Duration, Utc};
use serde_json::{Value, json};

use crate::helpers::{SECRET, TestApp, TestUser, error_code, spawn_app, spawn_app_with};

const APPROVE: &str =
    "mutation($id: ID!) { approveCloseOut(findingId: $id, comment: \"同意\") { id } }";

async fn rest(app: &TestApp, path: &str, language: Option<&str>) -> (u16, Value, String) {
    let mut request = app.client.get(app.url(path)).bearer_auth(TestUser::admin());
    if let Some(language) = language {
        request = request.header("accept-language", language);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let content_language = response
        .headers()
        .get("content-language")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(
        response
            .headers()
            .get_all("vary")
            .iter()
            .any(|v| v.to_str().unwrap_or_default().contains("accept-language")),
        "answers that differ by language say so to caches"
    );
    (status, response.json().await.unwrap(), content_language)
}

#[tokio::test]
async fn messages_are_chinese_unless_english_is_preferred_and_codes_stay_the_same() {
    let app = spawn_app().await;
    let f1 = app.finding_id(1).await;
    let inspector = TestUser::inspector();

    // GraphQL: the same refusal in both languages, one code.
    let (_, zh) = app.gql(Some(&inspector), APPROVE, json!({"id": f1})).await;
    let (_, en) = app
        .gql_in(
            "en-US,en;q=0.9",
            Some(&inspector),
            APPROVE,
            json!({"id": f1}),
        )
        .await;
    let (_, zh_first) = app
        .gql_in(
            "zh-CN,zh;q=0.9,en;q=0.8",
            Some(&inspector),
            APPROVE,
            json!({"id": f1}),
        )
        .await;
    assert_eq!(error_code(&zh), Some("INVALID_TRANSITION"), "{zh}");
    assert_eq!(error_code(&en), Some("INVALID_TRANSITION"), "{en}");
    assert_eq!(zh["errors"][0]["message"], zh_first["errors"][0]["message"]);
    let zh_message = zh["errors"][0]["message"].as_str().unwrap();
    let en_message = en["errors"][0]["message"].as_str().unwrap();
    assert!(
        zh_message.starts_with("不能批准销号：该问题当前为“"),
        "{zh_message}"
    );
    assert!(
        en_message.starts_with("cannot approve the close-out: the finding is "),
        "{en_message}"
    );

    // REST: the error body follows the same rule and says its language.
    let (status, body, language) = rest(&app, "/api/v1/inspections/999", None).await;
    assert_eq!((status, language.as_str()), (404, "zh-CN"), "{body}");
    assert_eq!(body["error"]["code"], "NOT_FOUND");
    assert_eq!(
        body["error"]["message"],
        "巡察 999 不存在，或不在您的权限范围内"
    );
    let (status, body, language) = rest(&app, "/api/v1/inspections/999", Some("en")).await;
    assert_eq!((status, language.as_str()), (404, "en"), "{body}");
    assert_eq!(body["error"]["code"], "NOT_FOUND");
    assert_eq!(body["error"]["message"], "inspection 999 not found");

    // Input errors too, field names kept as the API spells them.
    let create = "mutation { createDepartment(input: {code: \"X1\", name: \"  \", kind: SECTION, parentCode: \"ZJTZB\"}) { id } }";
    let (_, zh) = app.gql(Some(&TestUser::admin()), create, json!({})).await;
    let (_, en) = app
        .gql_in("en", Some(&TestUser::admin()), create, json!({}))
        .await;
    assert_eq!(zh["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
    assert_eq!(en["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
    assert_eq!(zh["errors"][0]["extensions"]["field"], "name");
    assert_eq!(en["errors"][0]["extensions"]["field"], "name");
    assert_eq!(zh["errors"][0]["message"], "名称不能为空");
    assert_eq!(en["errors"][0]["message"], "name may not be empty");
}

/// Ledger texts are the unit's record: written in the domain's Chinese terms even when the
/// person who made the change reads English.
#[tokio::test]
async fn ledger_texts_use_the_chinese_terms_whatever_the_caller_reads() {
    let app = spawn_app().await;
    let f1 = app.finding_id(1).await;
    let officer = TestUser::officer("ZJTZB-BGS");
    let finding = app
        .data(
            &officer,
            "query($id: ID!) { finding(id: $id) { measures { id ordinal status version } } }",
            json!({"id": f1}),
        )
        .await;
    let measure = finding["finding"]["measures"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["status"] != "DONE")
        .cloned()
        .expect("finding 1 has a measure still open");
    let from = match measure["status"].as_str().unwrap() {
        "PLANNED" => "计划",
        _ => "进行中",
    };
    let update =
        "mutation($input: UpdateMeasureInput!) { updateMeasure(input: $input) { status } }";
    let (_, body) = app
        .gql_in(
            "en",
            Some(&officer),
            update,
            json!({"input": {"id": measure["id"], "version": measure["version"], "status": "DONE", "completedOn": "2021-04-30"}}),
        )
        .await;
    assert_eq!(body["data"]["updateMeasure"]["status"], "DONE", "{body}");
    let ledger = app
        .data(
            &officer,
            "query($id: ID!) { finding(id: $id) { progress(last: 1) { nodes { kind content } } } }",
            json!({"id": f1}),
        )
        .await;
    assert_eq!(
        ledger["finding"]["progress"]["nodes"][0],
        json!({"kind": "STATUS_CHANGE", "content": format!("措施{}：{from} → 已完成", measure["ordinal"])})
    );
}

/// "Today" is the configured zone's: an entry without a date gets that zone's date, and a
/// report shows when it was made on that zone's clock.
#[tokio::test]
async fn today_and_report_times_follow_the_configured_zone() {
    // +14:00 and -12:00 disagree with UTC about the date for most of every day: whichever the
    // server used shows.
    for (zone, hours) in [("+14:00", 14), ("-12:00", -12)] {
        let flag = format!("--timezone={zone}");
        let app = spawn_app_with(&["--jwt-secret", SECRET, &flag]).await;
        let f1 = app.finding_id(1).await;
        let officer = TestUser::officer("ZJTZB-BGS");
        let before = (Utc::now() + Duration::hours(hours)).date_naive();
        let body = app
            .data(
                &officer,
                "mutation($id: ID!) { addProgressEntry(input: {findingId: $id, content: \"召开专题会议\"}) { entryDate } }",
                json!({"id": f1}),
            )
            .await;
        let after = (Utc::now() + Duration::hours(hours)).date_naive();
        let entry_date = body["addProgressEntry"]["entryDate"].as_str().unwrap();
        assert!(
            [before.to_string(), after.to_string()].contains(&entry_date.to_owned()),
            "{zone}: entry dated {entry_date}, the zone's today is {before}"
        );

        let manager = TestUser::manager("ZJTZB");
        let id = app
            .data(
                &manager,
                "mutation { generateReport(inspectionId: 1, periodEnd: \"2021-05-15\") { id } }",
                json!({}),
            )
            .await["generateReport"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let md = app
            .data(
                &manager,
                "query($id: ID!) { report(id: $id) { markdown } }",
                json!({"id": id}),
            )
            .await["report"]["markdown"]
            .as_str()
            .unwrap()
            .to_owned();
        let line = md
            .lines()
            .find_map(|l| l.strip_prefix("- 生成时间："))
            .unwrap_or_else(|| panic!("{md}"));
        let made = line
            .strip_suffix(&format!("（UTC{zone}）"))
            .unwrap_or_else(|| panic!("{zone}: {line}"));
        let now = (Utc::now() + Duration::hours(hours)).naive_utc();
        let made = chrono::NaiveDateTime::parse_from_str(made, "%Y-%m-%d %H:%M").unwrap();
        assert!(
            (now - made).num_minutes().abs() <= 2,
            "{zone}: made {made}, now {now}"
        );
    }
}
