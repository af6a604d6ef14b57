//! Search by words: spaces (half- or full-width) separate words, and every word must be found,
//! each in a finding's title, its description or one of its measures, in Chinese, Latin
//! letters and mixed text alike; the same rule for the finding and measure lists, in GraphQL
//! and REST.

use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser, error_code, spawn_app};

const FINDINGS: &str =
    "query($f: FindingFilterInput) { findings(filter: $f, first: 100) { nodes { id ordinal } } }";

async fn finding_ids(app: &TestApp, filter: Value) -> Vec<String> {
    let data = app
        .data(&TestUser::admin(), FINDINGS, json!({"f": filter}))
        .await;
    let mut ids: Vec<String> = data["findings"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["id"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids
}

async fn demo_ordinals(app: &TestApp, search: &str) -> Vec<i64> {
    let data = app
        .data(
            &TestUser::admin(),
            FINDINGS,
            json!({"f": {"inspectionId": "1", "search": search}}),
        )
        .await;
    data["findings"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["ordinal"].as_i64().unwrap())
        .collect()
}

/// A finding of `inspection` with a description and measures; its id and its measures' ids.
async fn finding(
    app: &TestApp,
    inspection: &str,
    title: &str,
    description: &str,
    measures: &[&str],
) -> (String, Vec<String>) {
    let manager = TestUser::manager("ZJTZB");
    let id = app
        .data(
            &manager,
            "mutation($i: CreateFindingInput!) { createFinding(input: $i) { id } }",
            json!({"i": {"inspectionId": inspection, "title": title, "description": description,
                "rectificationType": "IMMEDIATE", "departmentCode": "ZJTZB-BGS"}}),
        )
        .await["createFinding"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut measure_ids = Vec::new();
    for content in measures {
        let data = app
            .data(
                &manager,
                "mutation($i: CreateMeasureInput!) { createMeasure(input: $i) { id } }",
                json!({"i": {"findingId": id, "content": content}}),
            )
            .await;
        measure_ids.push(data["createMeasure"]["id"].as_str().unwrap().to_owned());
    }
    (id, measure_ids)
}

fn sorted(mut ids: Vec<String>) -> Vec<String> {
    ids.sort();
    ids
}

#[tokio::test]
async fn spaces_mean_every_word_in_the_title_the_description_or_a_measure() {
    let app = spawn_app().await;
    // The demo: 财务制度 is one word of finding 17; as two words it is found too.
    assert_eq!(demo_ordinals(&app, "财务制度").await, [17]);
    let two_words = demo_ordinals(&app, "财务 制度").await;
    assert!(two_words.contains(&17), "{two_words:?}");

    let inspection = app.create_inspection("分词搜索").await;
    // 财务 in the description, 制度 in a measure, ZJ in the description.
    let (a, a_measures) = finding(
        &app,
        &inspection,
        "采购管理不规范",
        "ZJ 公司报销手续不全，财务审核流于形式",
        &["修订采购制度"],
    )
    .await;
    // Both in the title.
    let (b, b_measures) = finding(
        &app,
        &inspection,
        "财务制度不健全",
        "",
        &["建立报销审批流程"],
    )
    .await;
    // 制度 only.
    let (c, c_measures) = finding(
        &app,
        &inspection,
        "制度落实不到位",
        "会议记录缺失",
        &["完善台账"],
    )
    .await;
    // 财务 only, in a measure.
    let (_, d_measures) = finding(&app, &inspection, "党建工作薄弱", "", &["推行财务公开"]).await;

    let search = |text: &str| json!({"inspectionId": inspection, "search": text});
    assert_eq!(finding_ids(&app, search("财务制度")).await, [b.as_str()]);
    let both = sorted(vec![a.clone(), b.clone()]);
    assert_eq!(finding_ids(&app, search("财务 制度")).await, both);
    // A full-width space, as Chinese input methods type it, and spaces around.
    assert_eq!(finding_ids(&app, search("财务\u{3000}制度")).await, both);
    assert_eq!(finding_ids(&app, search("  制度   财务 ")).await, both);
    // Mixed text; Latin letters in either case.
    assert_eq!(finding_ids(&app, search("ZJ 财务")).await, [a.as_str()]);
    assert_eq!(finding_ids(&app, search("zj 财务")).await, [a.as_str()]);
    assert_eq!(
        finding_ids(&app, search("ZJ 党建")).await,
        Vec::<String>::new()
    );
    assert_eq!(
        finding_ids(&app, search("制度")).await,
        sorted(vec![a.clone(), b.clone(), c.clone()])
    );

    // Measures: each word in the measure's own content or its finding's title or description.
    let mine: Vec<String> = [&a_measures, &b_measures, &c_measures, &d_measures]
        .into_iter()
        .flatten()
        .cloned()
        .collect();
    let data = app
        .data(
            &TestUser::admin(),
            "query($f: MeasureFilterInput) { measures(filter: $f, first: 100) { nodes { id } } }",
            json!({"f": {"search": "财务 制度"}}),
        )
        .await;
    let found: Vec<String> = data["measures"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["id"].as_str().unwrap().to_owned())
        .filter(|id| mine.contains(id))
        .collect();
    assert_eq!(
        sorted(found),
        sorted(vec![a_measures[0].clone(), b_measures[0].clone()])
    );

    // REST: the incremental pull takes the same search.
    let body: Value = app
        .client
        .get(app.url(&format!(
            "/api/v1/inspections/{inspection}/findings?search=%E8%B4%A2%E5%8A%A1+%E5%88%B6%E5%BA%A6"
        )))
        .bearer_auth(TestUser::admin())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let pulled: Vec<String> = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_i64().unwrap().to_string())
        .collect();
    assert_eq!(sorted(pulled), both, "{body}");

    // A search of more than ten words is refused, naming the search.
    let many = "一 二 三 四 五 六 七 八 九 十 十一";
    let (_, body) = app
        .gql(
            Some(&TestUser::admin()),
            FINDINGS,
            json!({"f": {"search": many}}),
        )
        .await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
    assert_eq!(body["errors"][0]["extensions"]["field"], "search", "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("最多 10 个词"),
        "{body}"
    );
}
