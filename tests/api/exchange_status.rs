//! The office's status summary and reports count a unit's findings as of its last bundle and
//! say how old that is (issue 43): two real servers, the unit's and the office's (the unit on
//! SQLite and the office on the engine under test, and the reverse); bundles written by the
//! unit's command line and imported at the office over REST. The office's figures are the
//! unit's as they stood when it wrote the bundle (a change not sent yet does not move them,
//! the next bundle does), every surface names the bundle, when it arrived and its age, a report
//! names the bundle received by its own date, and another unit's callers do not see the line.

use std::path::{Path, PathBuf};

use chrono::{DateTime, FixedOffset, Utc};
use serde_json::{Value, json};

use crate::exchange::{Dir, identity, register, succeeds};
use crate::helpers::{TestApp, TestDb, TestUser, count, spawn_app_on};

/// The demo unit's name, which the sentences name (the peer is registered as 市委统战部).
const UNIT: &str = "中共湛江市委统一战线工作部";
const SECRET_FLAGS: &[&str] = &["--jwt-secret", crate::helpers::SECRET];

/// The figures compared between the two instances.
const FIGURES: &str = "total notStarted inProgress pendingReview closed overdue measuresTotal measuresDone completionRate";

/// A unit and an office that have registered each other; answers their instance ids.
async fn pair(unit_on_sqlite: bool) -> (TestApp, TestApp, String) {
    let (unit_db, office_db) = if unit_on_sqlite {
        (TestDb::sqlite().await, TestDb::new().await)
    } else {
        (TestDb::new().await, TestDb::sqlite().await)
    };
    let unit = spawn_app_on(unit_db, SECRET_FLAGS).await;
    let office = spawn_app_on(office_db, SECRET_FLAGS).await;
    let office_id = register(&unit, &identity(&office.data_dir), "市委巡察办").await;
    register(&office, &identity(&unit.data_dir), "市委统战部").await;
    (unit, office, office_id)
}

/// Writes the unit's next bundle for the office (its command line) and imports it at the
/// office (REST, as an administrator); answers the import's answer.
async fn send(unit: &TestApp, office: &TestApp, office_id: &str, dir: &Dir, name: &str) -> Value {
    let file: PathBuf = dir.0.join(name);
    succeeds(
        &unit.test_db.url,
        &unit.data_dir,
        &[
            "exchange",
            "export",
            "--to",
            office_id,
            "-o",
            file.to_str().unwrap(),
        ],
    );
    import(office, &file).await
}

async fn import(office: &TestApp, file: &Path) -> Value {
    let response = office
        .client
        .post(office.url("/api/v1/exchange/bundles"))
        .bearer_auth(TestUser::admin())
        .header("content-type", "application/zip")
        .body(std::fs::read(file).unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let said: Value = response.json().await.unwrap();
    assert_eq!(said["result"], "merged", "{said}");
    said
}

/// A second unit at the office, outside the demo unit's tree.
async fn other_unit(app: &TestApp) {
    let now = "'2026-01-01T00:00:00Z'";
    app.sql(&format!(
        "INSERT INTO department (code, name, kind, parent_id, path, created_at, updated_at) \
         VALUES ('OTHER', '另一单位', 'unit', 1, '', {now}, {now})"
    ))
    .await;
    app.sql("UPDATE department SET path = '/1/' || CAST(id AS TEXT) || '/' WHERE code = 'OTHER'")
        .await;
}

/// The office's id of the unit's inspection 1.
async fn merged_inspection(office: &TestApp) -> i64 {
    count(
        &office.db,
        "SELECT local_id FROM exchange_origin WHERE kind = 'inspection' AND origin_id = 1",
    )
    .await
}

/// An inspection's status summary as `token` reads it: the figures and the exchange lines.
async fn summary(app: &TestApp, token: &str, inspection: i64) -> Value {
    let query = format!(
        "query($id: ID!) {{ inspection(id: $id) {{ statusSummary {{ {FIGURES} exchangedUnits {{ unit {{ code name }} peer sequence receivedAt ageHours ageDays label }} }} }} }}"
    );
    app.data(token, &query, json!({"id": inspection.to_string()}))
        .await["inspection"]["statusSummary"]
        .clone()
}

/// The figures alone (the exchange lines left out).
fn figures(summary: &Value) -> Value {
    let mut figures = summary.clone();
    figures.as_object_mut().unwrap().remove("exchangedUnits");
    figures
}

/// The overall summary's exchange lines as `token` reads them.
async fn overall_lines(app: &TestApp, token: &str) -> Value {
    app.data(
        token,
        "{ statusSummary { exchangedUnits { unit { code } peer sequence ageHours label } } }",
        json!({}),
    )
    .await["statusSummary"]["exchangedUnits"]
        .clone()
}

/// The merge time of bundle `sequence` as the office logged it.
async fn merged_at(office: &TestApp, sequence: i64) -> DateTime<Utc> {
    let lines = office
        .rows(&format!(
            "SELECT created_at FROM exchange_log WHERE direction = 'import' AND result = 'merged' AND sequence = {sequence}"
        ))
        .await;
    assert_eq!(lines.len(), 1);
    lines[0].try_get::<DateTime<Utc>>("", "created_at").unwrap()
}

/// The sentence the summary shows for bundle `sequence` merged at `at`, less than an hour ago.
fn sentence(sequence: i64, at: DateTime<Utc>, of: &str) -> String {
    let zone = FixedOffset::east_opt(8 * 3600).unwrap();
    format!(
        "{UNIT}的数据截至其第 {sequence} 次报送（{} 收到，{of} 0 小时）",
        at.with_timezone(&zone).format("%Y-%m-%d %H:%M")
    )
}

async fn counted_as_of_the_last_bundle(unit_on_sqlite: bool) {
    let (unit, office, office_id) = pair(unit_on_sqlite).await;
    let dir = Dir::new("status");
    let admin = TestUser::admin();

    // Registered, nothing received yet: the office says so.
    assert_eq!(
        overall_lines(&office, &admin).await,
        json!([{"unit": {"code": "ZJTZB"}, "peer": "市委统战部", "sequence": null, "ageHours": null,
                "label": format!("{UNIT}：尚未收到报送")}])
    );

    let said = send(&unit, &office, &office_id, &dir, "b1.zip").await;
    assert_eq!(said["sequence"], 1);
    let inspection = merged_inspection(&office).await;
    let at_unit = summary(&unit, &admin, 1).await;
    let at_office = summary(&office, &admin, inspection).await;
    // The exact figures of the unit's findings.
    assert!(at_unit["total"].as_i64().unwrap() >= 35, "{at_unit}");
    assert_eq!(figures(&at_office), figures(&at_unit));
    // And what they stand on: bundle 1, when it was merged, how old.
    let first = merged_at(&office, 1).await;
    let line = &at_office["exchangedUnits"][0];
    assert_eq!(at_office["exchangedUnits"].as_array().unwrap().len(), 1);
    assert_eq!(line["unit"], json!({"code": "ZJTZB", "name": UNIT}));
    assert_eq!(line["peer"], "市委统战部");
    assert_eq!(line["sequence"], 1);
    let received: DateTime<Utc> = line["receivedAt"].as_str().unwrap().parse().unwrap();
    assert_eq!(received, first);
    assert_eq!(line["ageHours"], 0);
    assert_eq!(line["ageDays"], 0);
    assert_eq!(line["label"], sentence(1, first, "距今").as_str());
    // The unit keeps its own ledger: no line there (it writes bundles, it is not fed by them).
    assert_eq!(at_unit["exchangedUnits"], json!([]));

    // A change at the unit that is not sent yet does not move the office's figures.
    let gone = unit.finding_id(1).await;
    let version = unit.finding_version(gone).await;
    unit.data(
        &admin,
        "mutation($id: ID!, $v: Int!) { archiveFinding(id: $id, version: $v) { id } }",
        json!({"id": gone.to_string(), "v": version}),
    )
    .await;
    let changed = summary(&unit, &admin, 1).await;
    assert_eq!(
        changed["total"].as_i64().unwrap(),
        at_unit["total"].as_i64().unwrap() - 1
    );
    let still = summary(&office, &admin, inspection).await;
    assert_eq!(figures(&still), figures(&at_office));
    assert_eq!(still["exchangedUnits"][0]["sequence"], 1);

    // After the next bundle they are the unit's again, and say bundle 2.
    let said = send(&unit, &office, &office_id, &dir, "b2.zip").await;
    assert_eq!(said["sequence"], 2);
    let second = merged_at(&office, 2).await;
    let now = summary(&office, &admin, inspection).await;
    assert_eq!(figures(&now), figures(&changed));
    assert_eq!(now["exchangedUnits"][0]["sequence"], 2);
    assert_eq!(
        now["exchangedUnits"][0]["label"],
        sentence(2, second, "距今").as_str()
    );

    // The REST status says the same.
    let status: Value = office
        .client
        .get(office.url("/api/v1/status"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let lines = status["exchangedUnits"].as_array().unwrap();
    assert_eq!(lines.len(), 1, "{status}");
    assert_eq!(lines[0]["unitCode"], "ZJTZB");
    assert_eq!(lines[0]["unitName"], UNIT);
    assert_eq!(lines[0]["peer"], "市委统战部");
    assert_eq!(lines[0]["sequence"], 2);
    assert_eq!(lines[0]["ageHours"], 0);
    assert_eq!(
        lines[0]["receivedAt"]
            .as_str()
            .unwrap()
            .parse::<DateTime<Utc>>()
            .unwrap(),
        second
    );

    // A report at the office names the bundle it stands on, with its date; the report as of
    // yesterday stands on none (both bundles arrived today).
    let today = office
        .data(
            &admin,
            "mutation($i: ID!) { generateReport(inspectionId: $i) { id snapshot } }",
            json!({"i": inspection.to_string()}),
        )
        .await["generateReport"]
        .clone();
    let markdown = office.markdown(&admin, today["id"].as_str().unwrap()).await;
    let expected = sentence(2, second, "距报告截止");
    assert!(markdown.contains(&expected), "{expected} in {markdown}");
    let facts = &today["snapshot"]["exchanged"][0];
    assert_eq!(facts["unit_code"], "ZJTZB", "{facts}");
    assert_eq!(facts["sequence"], 2);
    let yesterday = (Utc::now().with_timezone(&FixedOffset::east_opt(8 * 3600).unwrap())
        - chrono::TimeDelta::days(1))
    .date_naive();
    let before = office
        .data(
            &admin,
            "mutation($i: ID!, $d: Date!) { generateReport(inspectionId: $i, periodEnd: $d) { id } }",
            json!({"i": inspection.to_string(), "d": yesterday.to_string()}),
        )
        .await["generateReport"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let markdown = office.markdown(&admin, &before).await;
    assert!(
        markdown.contains(&format!("{UNIT}：尚未收到报送")),
        "as of yesterday, no bundle: {markdown}"
    );
    assert!(!markdown.contains("次报送（"), "{markdown}");
    // The DOCX says it too.
    let docx = office
        .client
        .get(office.url(&format!(
            "/api/v1/reports/{}?format=docx",
            today["id"].as_str().unwrap()
        )))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(docx.to_vec())).unwrap();
    let mut xml = String::new();
    std::io::Read::read_to_string(&mut zip.by_name("word/document.xml").unwrap(), &mut xml)
        .unwrap();
    assert!(
        xml.contains(&format!("{expected}。")),
        "{expected} in the DOCX"
    );

    // A department's summary shows the unit it lies in: the unit's and a section's, read by
    // the section's officer too (its findings stand on the same bundle; the unit above it is
    // named only, its code withheld, as everywhere); the department above them shows it as
    // one of its units.
    let department = "query($id: ID!) { department(id: $id) { statusSummary { exchangedUnits { unit { code name } sequence } } } }";
    for (code, token, seen) in [
        ("ZJTZB", admin.clone(), json!("ZJTZB")),
        ("ZJTZB-BGS", TestUser::officer("ZJTZB-BGS"), Value::Null),
        ("ZJSW", admin.clone(), json!("ZJTZB")),
    ] {
        let id = count(
            &office.db,
            &format!("SELECT id FROM department WHERE code = '{code}'"),
        )
        .await;
        let lines = office
            .data(&token, department, json!({"id": id.to_string()}))
            .await["department"]["statusSummary"]["exchangedUnits"]
            .clone();
        assert_eq!(
            lines,
            json!([{"unit": {"code": seen, "name": UNIT}, "sequence": 2}]),
            "{code}"
        );
    }

    // The unit's own managers at the office see the line; another unit's managers do not.
    other_unit(&office).await;
    let mine = overall_lines(&office, &TestUser::manager("ZJTZB")).await;
    assert_eq!(mine[0]["sequence"], 2, "{mine}");
    assert_eq!(
        overall_lines(&office, &TestUser::manager("OTHER")).await,
        json!([])
    );
    let theirs: Value = office
        .client
        .get(office.url("/api/v1/status"))
        .bearer_auth(TestUser::manager("OTHER"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(theirs["exchangedUnits"], json!([]), "{theirs}");
}

#[tokio::test]
async fn the_office_counts_a_unit_as_of_its_last_bundle_unit_on_sqlite() {
    counted_as_of_the_last_bundle(true).await;
}

#[tokio::test]
async fn the_office_counts_a_unit_as_of_its_last_bundle_unit_on_the_other_engine() {
    counted_as_of_the_last_bundle(false).await;
}
