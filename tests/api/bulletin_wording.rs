//! Bulletins as people write them: the demo's published bulletin holds every sentence of the
//! bulletin it was taken from, and any inspection's bulletin keeps the unit's wording, ends its
//! paragraphs, nests its quotes and prints the ledger's numbers, none of them twice.

use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser, error_code, spawn_app};

/// The bulletin the demo data was taken from (2021-04-13), as published.
const SEED: &str = include_str!("../../src/seed/bulletin_2021-04-13.txt");

/// Text without whitespace (the published text spaces digits and breaks pages mid-sentence).
fn squeezed(text: &str) -> String {
    text.chars().filter(|c| !c.is_whitespace()).collect()
}

/// The seed's sentences: split at its paragraph ends and after 。！？.
fn seed_sentences() -> Vec<String> {
    let mut sentences = Vec::new();
    for paragraph in SEED.split("\n\n") {
        let mut sentence = String::new();
        for c in squeezed(paragraph).chars() {
            sentence.push(c);
            if "。！？".contains(c) {
                sentences.push(std::mem::take(&mut sentence));
            }
        }
        if !sentence.is_empty() {
            sentences.push(sentence);
        }
    }
    sentences
}

/// The paragraphs (h1, h2, h3, p) of a public bulletin page, as text, whitespace removed.
fn page_paragraphs(html: &str) -> Vec<String> {
    let body = &html[html.find("<body>").expect("a page")..];
    let mut out = Vec::new();
    let mut rest = body;
    while let Some(open) = rest.find(['<']) {
        let after = &rest[open + 1..];
        let name: String = after
            .chars()
            .take_while(char::is_ascii_alphanumeric)
            .collect();
        let Some(start) = after.find('>') else { break };
        rest = &after[start + 1..];
        if ["h1", "h2", "h3", "p"].contains(&name.as_str()) {
            let end = rest.find(&format!("</{name}>")).expect("closed");
            let text = rest[..end]
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&quot;", "\"")
                .replace("&#39;", "'")
                .replace("&amp;", "&");
            out.push(squeezed(&text));
            rest = &rest[end..];
        }
    }
    out
}

async fn public_page(app: &TestApp, id: &str) -> String {
    app.client
        .get(app.url(&format!("/public/bulletins/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

#[tokio::test]
async fn every_sentence_of_the_seed_bulletin_is_in_the_demo_bulletin_as_published() {
    let app = spawn_app().await;
    let manager = TestUser::manager("ZJTZB");
    let id = app.published_bulletin(&manager).await;
    let paragraphs = page_paragraphs(&public_page(&app, &id).await);

    let sentences = seed_sentences();
    assert!(sentences.len() > 150, "{}", sentences.len());
    let missing: Vec<&String> = sentences
        .iter()
        .filter(|s| !paragraphs.iter().any(|p| p.contains(s.as_str())))
        .collect();
    assert!(
        missing.is_empty(),
        "{} of {} sentences differ: {missing:#?}",
        missing.len(),
        sentences.len()
    );

    // Paragraph by paragraph where the unit wrote them so: item 9's three accounts, item 21's
    // account opening its measures, item 4's title with its suffix, measures closed as written.
    let at = |start: &str| {
        paragraphs
            .iter()
            .position(|p| p.starts_with(start))
            .unwrap_or_else(|| panic!("no paragraph “{start}”"))
    };
    let nine = at("9.机构改革后，侨务科联系推动侨资参加我市经济建设没有项目落地。");
    for (k, ordinal) in ["一是", "二是", "三是"].iter().enumerate() {
        assert!(
            paragraphs[nine + 1 + k].starts_with(ordinal),
            "{}",
            paragraphs[nine + 1 + k]
        );
    }
    assert!(paragraphs[nine + 4].starts_with("10."));
    let twenty_one = at("21.");
    assert!(paragraphs[twenty_one + 1].starts_with("2018年，共发生4次该项问题"));
    assert!(
        paragraphs[twenty_one + 1]
            .contains("但不符合规章制度。对此我们作了如下整改：一是组织干部科")
    );
    assert_eq!(
        paragraphs[at("4.")],
        "4.落实党的意识形态工作的决策部署不够重视，工作不扎实的整改情况。"
    );
    assert!(paragraphs[at("1.") + 1].contains("进行了调整。二是落实领导小组"));
    assert!(
        paragraphs
            .iter()
            .all(|p| !p.contains("。；") && !p.contains("一是一是"))
    );
}

const SET: &str = "mutation($i: ID!, $v: Int!, $c: BulletinContentInput!) { setBulletinContent(inspectionId: $i, version: $v, content: $c) { version bulletinContent { headings { category text } problems { findingId title intro measuresApart } } } }";

async fn create(app: &TestApp, token: &str, mutation: &str, input: Value) -> String {
    let data = app
        .data(
            token,
            &format!(
                "mutation($i: {mutation}Input!) {{ {m}(input: $i) {{ id }} }}",
                m = lower(mutation)
            ),
            json!({"i": input}),
        )
        .await;
    data[lower(mutation)]["id"].as_str().unwrap().to_owned()
}

fn lower(name: &str) -> String {
    let mut c = name.chars();
    c.next().unwrap().to_lowercase().chain(c).collect()
}

async fn markdown_of_new_bulletin(app: &TestApp, token: &str, inspection: &str) -> String {
    let id = app.generate_bulletin(token, inspection).await;
    app.markdown(token, &id).await
}

#[tokio::test]
async fn a_new_inspections_bulletin_is_publishable_as_typed_and_keeps_the_units_wording() {
    let app = spawn_app().await;
    let (inspector, manager) = (TestUser::inspector(), TestUser::manager("ZJTZB"));
    let inspection = app
        .data(
            &inspector,
            "mutation($i: CreateInspectionInput!) { createInspection(input: $i) { id } }",
            json!({"i": {"title": "市委第二巡察组对市委统战部的巡察", "inspectionGroup": "市委第二巡察组", "unitCode": "ZJTZB", "startedOn": "2024-03-01", "endedOn": "2024-04-30", "feedbackOn": "2024-06-01"}}),
        )
        .await["createInspection"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let category = |title: &'static str| {
        let (app, manager, inspection) = (&app, &manager, &inspection);
        async move {
            app.data(
                manager,
                "mutation($i: ID!, $t: String!) { createCategory(inspectionId: $i, title: $t) { id } }",
                json!({"i": inspection, "t": title}),
            )
            .await["createCategory"]["id"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    let first = category("政治建设方面").await;
    let second = category("落实“两个责任”不到位").await;
    // 序号 1 is filed under the second heading, 序号 2 under the first.
    let one = create(&app, &manager, "CreateFinding", json!({"inspectionId": inspection, "categoryId": second, "title": "党风廉政建设责任落实不到位", "description": "2023年以来没有专题研究", "rectificationType": "BY_DEADLINE", "departmentCode": "ZJTZB-BGS"})).await;
    let two = create(&app, &manager, "CreateFinding", json!({"inspectionId": inspection, "categoryId": first, "title": "学习贯彻不深入", "description": "理论学习流于形式", "rectificationType": "BY_DEADLINE", "departmentCode": "ZJTZB-BGS"})).await;
    for content in ["一是召开专题会议", "二是完善制度。"] {
        create(
            &app,
            &manager,
            "CreateMeasure",
            json!({"findingId": two, "content": content}),
        )
        .await;
    }
    create(
        &app,
        &manager,
        "CreateMeasure",
        json!({"findingId": one, "content": "开展专题研究"}),
    )
    .await;

    let md = markdown_of_new_bulletin(&app, &manager, &inspection).await;
    // The ledger's numbers, under the headings in their order; paragraphs closed; quotes nested.
    let two_at = md
        .find("\n2. 学习贯彻不深入。理论学习流于形式。\n")
        .unwrap_or_else(|| panic!("{md}"));
    let one_at = md
        .find("\n1. 党风廉政建设责任落实不到位。2023年以来没有专题研究。\n")
        .unwrap_or_else(|| panic!("{md}"));
    assert!(two_at < one_at, "{md}");
    assert!(
        md.contains("\n### （二）对“落实‘两个责任’不到位”方面问题的整改情况\n"),
        "{md}"
    );
    assert!(md.contains("\n一是召开专题会议。二是完善制度。\n"), "{md}");
    assert!(md.contains("\n开展专题研究。\n"), "{md}");

    // The printed ledger numbers a measure once.
    let report = app.generate_report(&manager, &inspection).await;
    let csv = app
        .client
        .get(app.url(&format!("/api/v1/reports/{report}?format=csv")))
        .bearer_auth(&manager)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        csv.contains("\"一是召开专题会议\n二是完善制度。\""),
        "{csv}"
    );
    assert!(csv.contains("1. 开展专题研究"), "{csv}");
    assert!(!csv.contains(". 一是"), "{csv}");

    // The unit words its headings and problems as it writes them, through the API.
    let version = app
        .data(
            &manager,
            "query($i: ID!) { inspection(id: $i) { version } }",
            json!({"i": inspection}),
        )
        .await["inspection"]["version"]
        .as_i64()
        .unwrap();
    let content = json!({
        "headings": [{"category": 2, "text": "(二)对落实“两个责任”不到位,违规违纪行为时有发生方面问题的整改情况"}],
        "problems": [
            {"findingId": two, "title": "学习贯彻不深入的整改情况，", "intro": "对此我们作了如下整改：", "measuresApart": true},
            {"findingId": one, "intro": "2023年共发生2次"}
        ]
    });
    let vars = |v: i64, c: &Value| json!({"i": inspection, "v": v, "c": c});
    let mut foreign = content.clone();
    foreign["problems"][1]["findingId"] = json!(app.finding_id(1).await.to_string());
    let (_, body) = app.gql(Some(&manager), SET, vars(version, &foreign)).await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
    let mut twice = content.clone();
    twice["headings"]
        .as_array_mut()
        .unwrap()
        .push(json!({"category": 2, "text": "又一个"}));
    let (_, body) = app.gql(Some(&manager), SET, vars(version, &twice)).await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");

    let set = app.data(&manager, SET, vars(version, &content)).await;
    assert_eq!(
        set["setBulletinContent"]["bulletinContent"],
        json!({
            "headings": [{"category": 2, "text": "(二)对落实“两个责任”不到位,违规违纪行为时有发生方面问题的整改情况"}],
            "problems": [
                {"findingId": two, "title": "学习贯彻不深入的整改情况，", "intro": "对此我们作了如下整改：", "measuresApart": true},
                {"findingId": one, "title": null, "intro": "2023年共发生2次", "measuresApart": false}
            ]
        })
    );
    let md = markdown_of_new_bulletin(&app, &manager, &inspection).await;
    assert!(
        md.contains("\n### (二)对落实“两个责任”不到位,违规违纪行为时有发生方面问题的整改情况\n"),
        "{md}"
    );
    assert!(!md.contains("（二）(二)"), "{md}");
    assert!(
        md.contains("\n2. 学习贯彻不深入的整改情况，理论学习流于形式。\n"),
        "{md}"
    );
    assert!(
        md.contains("\n对此我们作了如下整改：一是召开专题会议。\n\n二是完善制度。\n"),
        "{md}"
    );
    assert!(md.contains("\n2023年共发生2次：开展专题研究。\n"), "{md}");
}
