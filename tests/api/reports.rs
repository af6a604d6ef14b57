//! Status summaries, the reporting schedule, immutable reports in every rendering, and the
//! public bulletin, on the demo data with hand-counted expectations.

use chrono::{Datelike, Duration, FixedOffset, NaiveDate, Utc};
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser, error_code, spawn_app};

const SUMMARY: &str = "{ statusSummary { total notStarted inProgress pendingReview closed overdue measuresTotal measuresDone completionRate regulations
    counts { immediate byDeadline longTerm }
    byCategory { category { ordinal } counts { total closed } }
    byDepartment { department { name } counts { total closed } } } }";

fn today() -> NaiveDate {
    Utc::now()
        .with_timezone(&FixedOffset::east_opt(8 * 3600).unwrap())
        .date_naive()
}

#[tokio::test]
async fn the_summary_counts_what_the_bulletin_reports() {
    let app = spawn_app().await;
    let s = app.data(&TestUser::inspector(), SUMMARY, json!({})).await["statusSummary"].clone();
    // Closed: 2, 5, 10, 16-21; long-term: 3, 4, 7, 8, 9, 11, 12, 13, 15; immediate: 5, 16-21;
    // the 14 unpublished (22-35) are in progress, by a deadline, under no heading.
    assert_eq!(s["total"], 35);
    assert_eq!(s["closed"], 9);
    assert_eq!(s["inProgress"], 26);
    assert_eq!(s["notStarted"], 0);
    assert_eq!(s["pendingReview"], 0);
    assert_eq!(s["overdue"], 0, "the bulletin sets no deadlines");
    assert_eq!(
        s["counts"],
        json!({"immediate": 7, "byDeadline": 19, "longTerm": 9})
    );
    assert_eq!(s["completionRate"], 9.0 / 35.0);
    assert_eq!(s["regulations"], 54);
    assert_eq!(s["measuresTotal"], 64);
    assert_eq!(
        s["byCategory"],
        json!([
            {"category": {"ordinal": 1}, "counts": {"total": 13, "closed": 3}},
            {"category": {"ordinal": 2}, "counts": {"total": 6, "closed": 4}},
            {"category": {"ordinal": 3}, "counts": {"total": 2, "closed": 2}},
            {"category": null, "counts": {"total": 14, "closed": 0}},
        ])
    );
    let by_department: Vec<(String, i64)> = s["byDepartment"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["department"]["name"].as_str().unwrap().to_owned(),
                d["counts"]["total"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        by_department,
        [
            ("中共湛江市委统一战线工作部", 14),
            ("办公室", 10),
            ("侨务科", 2),
            ("宗教科", 4),
            ("干部科", 2),
            ("机关党委", 1),
            ("机关纪委", 2)
        ]
        .map(|(n, c)| (n.to_owned(), c))
    );
    // The counts follow every change at once (they are cached between changes).
    let f21 = app.finding_id(21).await.to_string();
    app.data(
        &TestUser::admin(),
        "mutation($id: ID!) { archiveFinding(id: $id, version: 1) { id } }",
        json!({"id": f21}),
    )
    .await;
    let after = app
        .data(
            &TestUser::inspector(),
            "{ statusSummary { total closed } }",
            json!({}),
        )
        .await;
    assert_eq!(after["statusSummary"], json!({"total": 34, "closed": 8}));
    // A department's summary covers its subtree; a section's only its own findings.
    let data = app.data(&TestUser::admin(), "{ unit: department(id: 3) { statusSummary { total } } office: department(id: 4) { statusSummary { total closed } } }", json!({})).await;
    assert_eq!(data["unit"]["statusSummary"]["total"], 34);
    assert_eq!(
        data["office"]["statusSummary"],
        json!({"total": 10, "closed": 5}),
        "办公室 closed 5, 16, 17, 18 and 19"
    );
}

async fn inspection_reporting_now(app: &TestApp) -> String {
    let t = today();
    let input = json!({"input": {"title": "2026年专项巡察", "inspectionGroup": "市委第二巡察组", "unitCode": "ZJTZB",
        "startedOn": (t - Duration::days(70)).to_string(), "endedOn": (t - Duration::days(50)).to_string(),
        "feedbackOn": (t - Duration::days(40)).to_string(), "dueOn": (t + Duration::days(40)).to_string()}});
    app.data(
        &TestUser::inspector(),
        "mutation($input: CreateInspectionInput!) { createInspection(input: $input) { id } }",
        input,
    )
    .await["createInspection"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn report(app: &TestApp, manager: &str, inspection: &str, period_end: NaiveDate) -> String {
    let generated = app
        .data(manager, "mutation($i: ID!, $p: Date) { generateReport(inspectionId: $i, periodEnd: $p) { id status } }", json!({"i": inspection, "p": period_end.to_string()}))
        .await;
    assert_eq!(generated["generateReport"]["status"], "DRAFT");
    let id = generated["generateReport"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let submitted = app
        .data(
            manager,
            "mutation($id: ID!) { submitReport(id: $id) { status submittedAt } }",
            json!({"id": id}),
        )
        .await;
    assert_eq!(submitted["submitReport"]["status"], "SUBMITTED");
    id
}

#[tokio::test]
async fn the_schedule_marks_each_reporting_day_submitted_late_missing_or_upcoming() {
    let app = spawn_app().await;
    let manager = TestUser::manager("ZJTZB");
    let inspection = inspection_reporting_now(&app).await;
    let schedule =
        "query($i: ID!) { reportSchedule(inspectionId: $i) { dueOn state report { id } } }";
    let days: Vec<Value> =
        app.data(&manager, schedule, json!({"i": inspection})).await["reportSchedule"]
            .as_array()
            .unwrap()
            .clone();
    // The 15th and the last day of each month, after feedback, up to the due date.
    let dates: Vec<NaiveDate> = days
        .iter()
        .map(|d| d["dueOn"].as_str().unwrap().parse().unwrap())
        .collect();
    assert!(dates.len() >= 4, "{dates:?}");
    for d in &dates {
        let last = d.succ_opt().unwrap().day() == 1;
        assert!(d.day() == 15 || last, "{d} is not a reporting day");
    }
    let past: Vec<NaiveDate> = dates.iter().copied().filter(|d| *d < today()).collect();
    let next = *dates.iter().find(|d| **d >= today()).unwrap();
    assert!(past.len() >= 2, "{past:?}");

    report(&app, &manager, &inspection, past[0]).await;
    let on_time = report(&app, &manager, &inspection, next).await;
    let days: Vec<Value> = app
        .data(&TestUser::inspector(), schedule, json!({"i": inspection}))
        .await["reportSchedule"]
        .as_array()
        .unwrap()
        .clone();
    let state_of = |date: NaiveDate| {
        days.iter()
            .find(|d| d["dueOn"] == date.to_string())
            .unwrap()["state"]
            .clone()
    };
    assert_eq!(state_of(past[0]), "LATE");
    assert_eq!(state_of(past[1]), "MISSING");
    assert_eq!(state_of(next), "SUBMITTED");
    assert_eq!(
        days.iter()
            .find(|d| d["dueOn"] == next.to_string())
            .unwrap()["report"]["id"],
        on_time.as_str()
    );
    if let Some(later) = dates.iter().find(|d| **d > next) {
        assert_eq!(state_of(*later), "UPCOMING");
    }
    // One submitted report per reporting day.
    let again = app
        .data(&manager, "mutation($i: ID!, $p: Date) { generateReport(inspectionId: $i, periodEnd: $p) { id } }", json!({"i": inspection, "p": next.to_string()}))
        .await["generateReport"]["id"]
        .clone();
    let (_, body) = app
        .gql(
            Some(&manager),
            "mutation($id: ID!) { submitReport(id: $id) { id } }",
            json!({"id": again}),
        )
        .await;
    assert_eq!(error_code(&body), Some("CONFLICT"));
    // Reports are the managers'; an officer or an inspector may not generate one.
    for token in [TestUser::officer("ZJTZB-BGS"), TestUser::inspector()] {
        let (_, body) = app
            .gql(
                Some(&token),
                "mutation($i: ID!) { generateReport(inspectionId: $i) { id } }",
                json!({"i": inspection}),
            )
            .await;
        assert_eq!(error_code(&body), Some("FORBIDDEN"));
    }
}

async fn download(app: &TestApp, token: &str, id: &str, format: &str) -> reqwest::Response {
    let response = app
        .client
        .get(app.url(&format!("/api/v1/reports/{id}?format={format}")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{format}");
    response
}

#[tokio::test]
async fn a_report_is_immutable_and_its_csv_and_xlsx_hold_the_same_rows() {
    let app = spawn_app().await;
    let manager = TestUser::manager("ZJTZB");
    let id = app
        .data(&manager, "mutation { generateReport(inspectionId: 1, periodEnd: \"2020-12-31\") { id periodStart } }", json!({}))
        .await["generateReport"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let f1 = app.finding_id(1).await.to_string();
    app.data(
        &manager,
        "mutation($i: UpdateFindingInput!) { updateFinding(input: $i) { id } }",
        json!({"i": {"id": f1, "version": 1, "title": "报告之后改的标题"}}),
    )
    .await;

    let snapshot: Value = download(&app, &manager, &id, "json")
        .await
        .json()
        .await
        .unwrap();
    let first = &snapshot["categories"][0]["findings"][0];
    assert_eq!(
        first["title"], "贯彻落实中央决策和上级部署不到位，履职担当不够",
        "the report keeps what was"
    );
    assert_eq!(snapshot["summary"]["total"], 35);
    // Progress entries of the period only: 2020-09-05 (feedback) to 2020-12-31.
    let dates: Vec<String> = snapshot["categories"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["findings"].as_array().unwrap().iter())
        .flat_map(|f| {
            f["progress"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["entry_date"].as_str().unwrap().to_owned())
        })
        .collect();
    assert!(!dates.is_empty());
    assert!(
        dates
            .iter()
            .all(|d| d.as_str() >= "2020-09-05" && d.as_str() <= "2020-12-31"),
        "{dates:?}"
    );

    let csv_text = download(&app, &manager, &id, "csv")
        .await
        .text()
        .await
        .unwrap();
    let csv_text = csv_text.trim_start_matches('\u{FEFF}');
    let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(
        header,
        [
            "序号",
            "问题",
            "整改措施",
            "责任领导",
            "责任科室",
            "责任人",
            "整改时限",
            "整改进展",
            "状态"
        ]
    );
    let csv_rows: Vec<Vec<String>> = reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect();
    assert_eq!(csv_rows.len(), 35);
    assert_eq!(
        csv_rows[0][1],
        "贯彻落实中央决策和上级部署不到位，履职担当不够"
    );
    assert_eq!(csv_rows[9][8], "已销号", "finding 10 is closed");

    let bytes = download(&app, &manager, &id, "xlsx")
        .await
        .bytes()
        .await
        .unwrap();
    use calamine::Reader;
    let mut workbook: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let ledger = workbook.worksheet_range("整改台账").unwrap();
    let xlsx_rows: Vec<Vec<String>> = ledger
        .rows()
        .map(|r| r.iter().map(|c| c.to_string()).collect())
        .collect();
    assert_eq!(xlsx_rows[0], header);
    assert_eq!(
        &xlsx_rows[1..],
        csv_rows.as_slice(),
        "the workbook's ledger equals the CSV"
    );
    let summary = workbook.worksheet_range("汇总").unwrap();
    let total = summary
        .rows()
        .find(|r| r[0] == calamine::Data::String("问题总数".to_owned()))
        .unwrap()[1]
        .to_string();
    assert_eq!(total, "35");

    let md = download(&app, &manager, &id, "md")
        .await
        .text()
        .await
        .unwrap();
    assert!(md.starts_with("# 中共湛江市委统一战线工作部巡察整改情况报告"));
    assert!(md.contains("| 问题总数 | 35 |"));
    let (_, body) = app
        .gql(Some(&manager), "{ report(id: 1) { csv } }", json!({}))
        .await;
    assert_eq!(
        body["data"]["report"]["csv"]
            .as_str()
            .unwrap()
            .trim_start_matches('\u{FEFF}'),
        csv_text
    );
    let response = app
        .client
        .get(app.url(&format!("/api/v1/reports/{id}?format=pdf")))
        .bearer_auth(&manager)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
}

#[tokio::test]
async fn the_bulletin_follows_the_seed_and_is_public_once_published() {
    let app = spawn_app().await;
    let manager = TestUser::manager("ZJTZB");
    let id = app
        .data(
            &manager,
            "mutation { generateBulletin(inspectionId: 1) { id } }",
            json!({}),
        )
        .await["generateBulletin"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // Not public until published; the inspection office does not see drafts either.
    let public = app.url(&format!("/public/bulletins/{id}"));
    assert_eq!(app.client.get(&public).send().await.unwrap().status(), 404);
    let (_, body) = app
        .gql(
            Some(&TestUser::inspector()),
            "query($id: ID!) { report(id: $id) { id } }",
            json!({"id": id}),
        )
        .await;
    assert_eq!(body["data"]["report"], Value::Null);

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
    assert!(md.starts_with("# 中共湛江市委统一战线工作部关于巡察整改阶段性进展情况的通报"));
    assert!(md.contains("根据市委统一部署，2020年3月19日至7月15日，市委第五巡察组对湛江市委统战部进行了巡察。2020年9月5日，市委第五巡察组向湛江市委统战部反馈了巡察意见。"), "{md}");
    assert!(md.contains("（一）加强巡察整改的组织领导。"));
    // The three headings of the seed, in order, and all 21 findings in order under them.
    let headings = [
        "### （一）对“贯彻落实党的路线方针政策和党的决策部署，围绕中心、服务大局工作仍有差距”方面问题的整改情况",
        "### (二)对落实“两个责任”不到位,党风廉政建设和反腐败工作不力,违规违纪行为时有发生方面问题的整改情况",
        "### （三）对“党的组织力欠缺，民主集中制落实不到位，选人用人违规违纪问题突出”方面问题的整改情况",
    ];
    let mut at = 0;
    for heading in headings {
        let found = md[at..]
            .find(heading)
            .unwrap_or_else(|| panic!("missing or out of order: {heading}"));
        at += found;
    }
    let mut at = 0;
    for n in 1..=21 {
        let found = md[at..]
            .find(&format!("\n{n}. "))
            .unwrap_or_else(|| panic!("finding {n} missing or out of order"));
        at += found + 1;
    }
    assert!(
        md.contains("一是立即改正错误,厉行节约管理使用公用经费"),
        "measures as 一是…"
    );
    assert!(md.contains("联系方式：电话：2220004；邮政地址：湛江市赤坎区体育北路15号商务大厦13楼；电子邮箱：hyt0823cy10129@163.com。"));

    let (_, body) = app
        .gql(
            Some(&manager),
            "query($id: ID!) { submitReport(id: $id) { id } }",
            json!({"id": id}),
        )
        .await;
    assert!(body.get("errors").is_some());
    let published = app
        .data(
            &manager,
            "mutation($id: ID!) { publishBulletin(id: $id) { status downloads { publicPage } } }",
            json!({"id": id}),
        )
        .await;
    assert_eq!(
        published["publishBulletin"]["downloads"]["publicPage"],
        format!("/public/bulletins/{id}")
    );
    let page = app.client.get(&public).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(
        page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = page.text().await.unwrap();
    assert!(html.contains("<h1>中共湛江市委统一战线工作部关于巡察整改阶段性进展情况的通报</h1>"));
    let md_public = app
        .client
        .get(format!("{public}?format=md"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(md_public, md);
    // A progress report is never public.
    let report = app
        .data(
            &manager,
            "mutation { generateReport(inspectionId: 1) { id } }",
            json!({}),
        )
        .await["generateReport"]["id"]
        .clone();
    let (_, body) = app
        .gql(
            Some(&manager),
            "mutation($id: ID!) { publishBulletin(id: $id) { id } }",
            json!({"id": report}),
        )
        .await;
    assert_eq!(error_code(&body), Some("INVALID_TRANSITION"));
}
