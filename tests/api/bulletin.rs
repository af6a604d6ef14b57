//! The public bulletin (通报) from the data: its prose entered through the API, its figures
//! counted, its Chinese well formed for any inspection, and the demo's read as the seed does.

use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser, count, error_code, spawn_app};

async fn bulletin_markdown(app: &TestApp, token: &str, inspection: &str) -> String {
    let id = app.generate_bulletin(token, inspection).await;
    app.markdown(token, &id).await
}

/// The headings (## and ###) and numbered items (（一）title。) of a bulletin, in order.
fn outline(md: &str) -> Vec<String> {
    md.lines()
        .filter_map(|line| {
            if let Some(h) = line
                .strip_prefix("## ")
                .or_else(|| line.strip_prefix("### "))
            {
                Some(h.to_owned())
            } else if line.starts_with('（') {
                line.split_once('。').map(|(title, _)| title.to_owned())
            } else {
                None
            }
        })
        .collect()
}

/// The number written between `before` and `after` in `md`.
fn figure(md: &str, before: &str, after: &str) -> i64 {
    let start = md
        .find(before)
        .unwrap_or_else(|| panic!("no “{before}” in {md}"))
        + before.len();
    let end = md[start..].find(after).unwrap() + start;
    md[start..end].trim().parse().unwrap()
}

#[tokio::test]
async fn the_demo_bulletin_reads_as_the_seed_heading_by_heading_with_its_figures_counted() {
    let app = spawn_app().await;
    let manager = TestUser::manager("ZJTZB");
    let md = bulletin_markdown(&app, &manager, "1").await;

    // The seed's outline (000_698ec5e3c0a01303.txt), heading by heading and item by item.
    let seed = [
        "一、以政治建设为统领，把巡察整改作为重大政治任务抓紧抓实",
        "（一）加强巡察整改的组织领导",
        "（二）围绕反馈意见认真研究推进巡察整改工作",
        "（三）层层压实整改责任",
        "（四）做好整改台账资料和报送工作",
        "（五）建章立制，强化规范化管理",
        "二、对巡察反馈意见所指出问题的整改落实情况",
        "（一）对“贯彻落实党的路线方针政策和党的决策部署，围绕中心、服务大局工作仍有差距”方面问题的整改情况",
        // As the seed prints it: its own number, its own punctuation, no quotes.
        "(二)对落实“两个责任”不到位,党风廉政建设和反腐败工作不力,违规违纪行为时有发生方面问题的整改情况",
        "（三）对“党的组织力欠缺，民主集中制落实不到位，选人用人违规违纪问题突出”方面问题的整改情况",
        "三、突出巡察引领，持之以恒巩固和转化巡察整改成果",
        "（一）坚定不移把政治建设摆在首位，全面落实“两个坚决维护”",
        "（二）坚持不懈推进巡察整改落实，建立健全巩固提升长效机制",
        "（三）不折不扣落实管党治党主体责任，不断推进全面从严治党向纵深发展",
        "（四）真抓实干推动整改成果转化，有效促进湛江统战工作健康发展",
    ];
    assert_eq!(outline(&md), seed);
    assert!(md.contains("\n市委统战部坚持以习近平新时代中国特色社会主义思想为指导"));
    assert!(md.contains("\n3个月来，市委统战部针对市委第五巡察组反馈的问题"));
    let mut at = 0;
    for n in 1..=21 {
        at += md[at..]
            .find(&format!("\n{n}. "))
            .unwrap_or_else(|| panic!("finding {n} missing or out of order"))
            + 1;
    }
    assert!(md.ends_with("<p align=\"right\">中共湛江市委统一战线工作部</p>\n\n<p align=\"right\">2021年4月13日</p>\n\n"));

    // Every figure the prose states is the seed's, and the data's: 35 problems (the 14 the unit
    // does not publish counted, not printed), 6 meetings since feedback (one meeting noted in
    // several ledgers once), 54 regulations.
    assert_eq!(figure(&md, "将反馈意见分解为", "个具体问题"), 35);
    assert_eq!(figure(&md, "相继召开", "次会议"), 6);
    assert_eq!(figure(&md, "规章制度", "项"), 54);
    assert!(md.contains("成立了落实市委第五巡察组反馈意见整改工作领导小组"));
    assert!(md.contains("整改落实组、宣传资料组、联络协调组3个专职小组"));
    assert!(!md.contains("22. "), "21 problems printed");
    assert!(!md.contains("未公开"), "no unpublished problem printed");
    let summary = app
        .data(
            &manager,
            "{ inspection(id: \"1\") { statusSummary { total regulations } } }",
            json!({}),
        )
        .await["inspection"]["statusSummary"]
        .clone();
    let meetings = count(
        &app.db,
        "SELECT COUNT(*) FROM (SELECT DISTINCT p.entry_date, p.content FROM progress_entry p JOIN finding f ON f.id = p.finding_id WHERE f.inspection_id = 1 AND p.kind = 'meeting' AND p.entry_date >= '2020-09-05') AS m",
    )
    .await;
    assert_eq!(
        figure(&md, "将反馈意见分解为", "个具体问题"),
        summary["total"].as_i64().unwrap()
    );
    assert_eq!(figure(&md, "相继召开", "次会议"), meetings);
    assert_eq!(
        figure(&md, "规章制度", "项"),
        summary["regulations"].as_i64().unwrap()
    );
    assert!(!md.contains('{'), "no figure left unfilled");

    // They follow the data: a new finding and a meeting recorded count at the next bulletin.
    app.data(
        &manager,
        "mutation($i: CreateFindingInput!) { createFinding(input: $i) { id } }",
        json!({"i": {"inspectionId": "1", "title": "整改台账归档不及时", "rectificationType": "IMMEDIATE", "departmentCode": "ZJTZB-BGS"}}),
    )
    .await;
    app.data(
        &manager,
        "mutation($i: AddProgressEntryInput!) { addProgressEntry(input: $i) { id } }",
        json!({"i": {"findingId": app.finding_id(1).await.to_string(), "kind": "MEETING", "content": "召开部务会会议，专题研究巡察整改工作"}}),
    )
    .await;
    let later = bulletin_markdown(&app, &manager, "1").await;
    assert_eq!(
        figure(&later, "将反馈意见分解为", "个具体问题"),
        summary["total"].as_i64().unwrap() + 1
    );
    assert_eq!(figure(&later, "相继召开", "次会议"), meetings + 1);
}

const SET: &str = "mutation($i: ID!, $v: Int!, $c: BulletinContentInput!) { setBulletinContent(inspectionId: $i, version: $v, content: $c) { version bulletinContent { leadHeading organisationalMeasures { title } contact { phone email } } } }";

#[tokio::test]
async fn any_inspection_gets_its_prose_through_the_api_and_reads_as_well_formed_chinese() {
    let app = spawn_app().await;
    let (inspector, manager) = (TestUser::inspector(), TestUser::manager("ZJTZB"));
    let created = app
        .data(
            &inspector,
            "mutation($i: CreateInspectionInput!) { createInspection(input: $i) { id version } }",
            json!({"i": {"title": "市委第二巡察组对市委统战部的巡察", "inspectionGroup": "市委第二巡察组", "unitCode": "ZJTZB", "startedOn": "2024-03-01", "endedOn": "2024-04-30", "feedbackOn": "2024-06-01"}}),
        )
        .await["createInspection"]
        .clone();
    let inspection = created["id"].as_str().unwrap().to_owned();
    let version = created["version"].as_i64().unwrap();
    let category = app
        .data(
            &manager,
            "mutation($i: ID!) { createCategory(inspectionId: $i, title: \"政治建设方面\") { id } }",
            json!({"i": inspection}),
        )
        .await["createCategory"]["id"]
        .clone();
    let finding = app
        .data(
            &manager,
            "mutation($i: CreateFindingInput!) { createFinding(input: $i) { id } }",
            json!({"i": {"inspectionId": inspection, "categoryId": category, "title": "学习贯彻不深入。", "description": "理论学习流于形式。", "rectificationType": "BY_DEADLINE", "departmentCode": "ZJTZB-BGS"}}),
        )
        .await["createFinding"]["id"]
        .clone();
    for content in ["一是召开专题会议", "二是完善制度。", "健全学习台账；"] {
        app.data(
            &manager,
            "mutation($i: CreateMeasureInput!) { createMeasure(input: $i) { id } }",
            json!({"i": {"findingId": finding, "content": content}}),
        )
        .await;
    }

    // Who may, what is checked.
    let content = json!({
        "issuer": "中共湛江市委统一战线工作部",
        "deployedBy": "市委",
        "unitShortName": "市委统战部",
        "leadHeading": "加强组织领导，压实整改责任",
        "organisationalMeasures": [{"title": "压实整改责任。", "content": "将反馈意见分解为{问题数}个具体问题，逐项明确整改措施。"}],
        "closingHeading": "巩固整改成果",
        "closingCommitments": [{"title": "持续开展回头看", "content": "对已完成的{已销号数}个问题组织回头看。"}],
        "contact": {"phone": "2220004", "email": "tzb@example.cn"}
    });
    let vars = |v: i64, c: &Value| json!({"i": inspection, "v": v, "c": c});
    let (_, body) = app
        .gql(
            Some(&TestUser::officer("ZJTZB-BGS")),
            SET,
            vars(version, &content),
        )
        .await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"));
    let mut unknown = content.clone();
    unknown["lead"] = json!("共梳理{问题总数}个问题");
    let (_, body) = app.gql(Some(&manager), SET, vars(version, &unknown)).await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"));
    assert_eq!(body["errors"][0]["extensions"]["field"], "lead");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("问题总数")
    );
    let (_, body) = app
        .gql(Some(&manager), SET, vars(version + 5, &content))
        .await;
    assert_eq!(error_code(&body), Some("CONFLICT"));

    let set = app.data(&manager, SET, vars(version, &content)).await;
    assert_eq!(
        set["setBulletinContent"],
        json!({"version": version + 1, "bulletinContent": {"leadHeading": "加强组织领导，压实整改责任", "organisationalMeasures": [{"title": "压实整改责任。"}], "contact": {"phone": "2220004", "email": "tzb@example.cn"}}})
    );
    assert_eq!(
        count(&app.db, &format!("SELECT COUNT(*) FROM audit_event WHERE action = 'inspection.bulletin_content' AND entity_id = '{inspection}'")).await,
        1
    );

    let md = bulletin_markdown(&app, &manager, &inspection).await;
    assert!(md.contains("根据市委统一部署，2024年3月1日至4月30日，市委第二巡察组对市委统战部进行了巡察。2024年6月1日，市委第二巡察组向市委统战部反馈了巡察意见。"), "{md}");
    assert_eq!(
        outline(&md),
        [
            "一、加强组织领导，压实整改责任",
            "（一）压实整改责任",
            "二、对巡察反馈意见所指出问题的整改落实情况",
            "（一）对“政治建设”方面问题的整改情况",
            "三、巩固整改成果",
            "（一）持续开展回头看",
        ]
    );
    assert!(md.contains("\n（一）压实整改责任。将反馈意见分解为1个具体问题，逐项明确整改措施。\n"));
    assert!(md.contains("\n（一）持续开展回头看。对已完成的0个问题组织回头看。\n"));
    assert!(
        md.contains("\n1. 学习贯彻不深入。理论学习流于形式。\n"),
        "{md}"
    );
    assert!(
        // The unit's sentences as it wrote them, each closed, not re-joined or renumbered.
        md.contains("\n一是召开专题会议。二是完善制度。健全学习台账。\n"),
        "{md}"
    );
    assert!(!md.contains("一是一是") && !md.contains("二是二是") && !md.contains("方面”方面"));
    assert!(md.contains("联系方式：电话：2220004；电子邮箱：tzb@example.cn。"));
}

#[tokio::test]
async fn the_public_finds_published_bulletins_in_an_index_and_anonymous_graphql() {
    let app = spawn_app().await;
    let manager = TestUser::manager("ZJTZB");
    let mut published = Vec::new();
    for _ in 0..3 {
        published.push(app.published_bulletin(&manager).await);
    }
    // A draft is not listed.
    app.bulletin(&manager).await;
    published.reverse();

    let get = |path: String| {
        let client = app.client.clone();
        let url = app.url(&path);
        async move { client.get(url).send().await.unwrap() }
    };
    let first: Value = get("/public/bulletins?format=json&limit=2".into())
        .await
        .json()
        .await
        .unwrap();
    let ids: Vec<String> = first["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].to_string())
        .collect();
    assert_eq!(ids, published[..2]);
    assert_eq!(
        first["items"][0]["title"],
        "中共湛江市委统一战线工作部关于巡察整改阶段性进展情况的通报"
    );
    assert_eq!(first["items"][0]["issuedOn"], "2021-04-13");
    assert_eq!(
        first["items"][0]["url"],
        format!("/public/bulletins/{}", published[0])
    );
    let cursor = first["nextCursor"].as_str().unwrap();
    let second: Value = get(format!(
        "/public/bulletins?format=json&limit=2&cursor={cursor}"
    ))
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(second["items"].as_array().unwrap().len(), 1);
    assert_eq!(second["items"][0]["id"].to_string(), published[2]);
    assert_eq!(second["nextCursor"], Value::Null);

    let html = get("/public/bulletins?limit=2".into()).await;
    assert_eq!(html.status(), 200);
    assert!(
        html.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = html.text().await.unwrap();
    assert!(html.contains(&format!("<a href=\"/public/bulletins/{}\">", published[0])));
    assert!(html.contains("rel=\"next\""));
    assert!(html.contains("@media print") && html.contains("@page{size:A4"));
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "no external assets"
    );
    let bad = get("/public/bulletins?limit=0".into()).await;
    assert_eq!(bad.status(), 400);
    let body: Value = bad.json().await.unwrap();
    assert_eq!(body["error"]["code"], "BAD_USER_INPUT", "{body}");

    // Anonymous GraphQL lists the same bulletins and nothing else.
    let (_, body) = app
        .gql(
            None,
            "{ publishedBulletins(first: 5) { totalCount nodes { id title issuedOn url markdown } } }",
            json!({}),
        )
        .await;
    let list = &body["data"]["publishedBulletins"];
    assert_eq!(list["totalCount"], 3, "{body}");
    assert_eq!(list["nodes"][0]["id"], published[0]);
    assert!(
        list["nodes"][0]["markdown"]
            .as_str()
            .unwrap()
            .starts_with("# 中共湛江市委")
    );
    let (_, body) = app
        .gql(None, "{ reports(first: 5) { totalCount } }", json!({}))
        .await;
    assert_eq!(error_code(&body), Some("UNAUTHENTICATED"));
}

#[tokio::test]
async fn a_problem_the_unit_does_not_publish_is_counted_but_never_printed_to_the_public() {
    let app = spawn_app().await;
    let manager = TestUser::manager("ZJTZB");
    let f3 = app.finding_id(3).await.to_string();
    let hidden = "推动党外干部实职安排工作与中央和省要求差距大";
    let updated = app
        .data(
            &manager,
            "mutation($i: UpdateFindingInput!) { updateFinding(input: $i) { disclosed version } }",
            json!({"i": {"id": f3, "version": 1, "disclosed": false}}),
        )
        .await;
    assert_eq!(
        updated["updateFinding"],
        json!({"disclosed": false, "version": 2})
    );
    // An officer may not choose what the public reads.
    let (_, refused) = app
        .gql(
            Some(&TestUser::officer("ZJTZB-GBK")),
            "mutation($i: UpdateFindingInput!) { updateFinding(input: $i) { id } }",
            json!({"i": {"id": f3, "version": 2, "disclosed": true}}),
        )
        .await;
    assert_eq!(error_code(&refused), Some("FORBIDDEN"), "{refused}");

    let id = app.published_bulletin(&manager).await;
    let md = app.markdown(&manager, &id).await;
    assert!(!md.contains(hidden), "{md}");
    // Still counted; the printed problems keep their 序号 in the ledger, 3 left out.
    assert_eq!(figure(&md, "将反馈意见分解为", "个具体问题"), 35);
    let mut at = 0;
    for n in (1..=21).filter(|n| *n != 3) {
        at += md[at..]
            .find(&format!("\n{n}. "))
            .unwrap_or_else(|| panic!("problem {n} missing or out of order"))
            + 1;
    }
    assert!(!md.contains("\n3. ") && !md.contains("\n22. "), "{md}");
    assert!(md.contains("\n2. 落实《中共中央、国务院关于加强和改进新形势下宗教工作的意见》"));
    assert!(md.contains("\n4. 落实党的意识形态工作的决策部署不够重视"));

    // Nothing the public can reach carries it: the page, its Markdown, the anonymous GraphQL.
    for path in [
        format!("/public/bulletins/{id}"),
        format!("/public/bulletins/{id}?format=md"),
        "/public/bulletins?format=json".to_owned(),
    ] {
        let body = app
            .client
            .get(app.url(&path))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(!body.contains(hidden), "{path}");
        assert!(!body.contains("未公开"), "{path}");
    }
    let (_, anonymous) = app
        .gql(
            None,
            "{ publishedBulletins(first: 5) { nodes { markdown } } }",
            json!({}),
        )
        .await;
    assert!(!anonymous.to_string().contains(hidden), "{anonymous}");

    // The report to the inspection office holds every problem, this one with its flag.
    let report = app.report(&manager).await;
    let office = app.markdown(&manager, &report).await;
    assert!(office.contains(hidden));
    let snapshot: Value = app
        .client
        .get(app.url(&format!("/api/v1/reports/{report}?format=json")))
        .bearer_auth(&manager)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let disclosed: Vec<bool> = snapshot["categories"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["findings"].as_array().unwrap().iter())
        .map(|f| f["disclosed"].as_bool().unwrap())
        .collect();
    assert_eq!(disclosed.len(), 35);
    assert_eq!(disclosed.iter().filter(|d| !**d).count(), 15);
}
