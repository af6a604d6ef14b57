//! The look-back (回头看) that remembers relapses, reports as of their period's end, and
//! targets that judge themselves: through GraphQL and the report downloads, on the demo data.

use chrono::{Days, FixedOffset, NaiveDate, Utc};
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser, count, error_code, spawn_app};

/// Today in the server's default zone (Asia/Shanghai).
fn today() -> NaiveDate {
    Utc::now()
        .with_timezone(&FixedOffset::east_opt(8 * 3600).unwrap())
        .date_naive()
}

const SCHEDULE: &str = "mutation($i: ScheduleRechecksInput!) { scheduleRechecks(input: $i) { dueOn assignee finding { ordinal } } }";
const RECHECK: &str = "mutation($id: ID!, $p: Boolean!) { recordRecheck(findingId: $id, passed: $p, note: \"对照整改台账逐项复核\") { kind content } }";
const REOPEN: &str = "mutation($id: ID!) { reopenFinding(findingId: $id, reason: \"回头看发现问题反弹\") { status } }";

async fn ordinals(app: &TestApp, token: &str, filter: Value) -> Vec<i64> {
    let body = app
        .data(
            token,
            "query($f: FindingFilterInput) { findings(filter: $f, first: 100) { totalCount nodes { ordinal } } }",
            json!({"f": filter}),
        )
        .await;
    let nodes: Vec<i64> = body["findings"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["ordinal"].as_i64().unwrap())
        .collect();
    assert_eq!(body["findings"]["totalCount"], nodes.len());
    nodes
}

#[tokio::test]
async fn rechecks_are_of_closed_findings_scheduled_and_relapses_counted_once_per_closing() {
    let app = spawn_app().await;
    let (inspector, manager) = (TestUser::inspector(), TestUser::manager("ZJTZB"));
    let (f1, f10) = (app.finding_id(1).await, app.finding_id(10).await);
    let closed = [2, 5, 10, 16, 17, 18, 19, 20, 21];

    // A finding still being rectified has nothing to look back on.
    let (_, body) = app
        .gql(
            Some(&inspector),
            RECHECK,
            json!({"id": f1.to_string(), "p": true}),
        )
        .await;
    assert_eq!(error_code(&body), Some("INVALID_TRANSITION"), "{body}");
    let can = app
        .data(
            &inspector,
            "query($a: ID!, $b: ID!) { a: finding(id: $a) { viewerCan { recheck } } b: finding(id: $b) { viewerCan { recheck } } }",
            json!({"a": f1.to_string(), "b": f10.to_string()}),
        )
        .await;
    assert_eq!(
        can,
        json!({"a": {"viewerCan": {"recheck": false}}, "b": {"viewerCan": {"recheck": true}}})
    );
    assert_eq!(
        count(
            &app.db,
            &format!(
                "SELECT COUNT(*) FROM progress_entry WHERE finding_id = {f1} AND kind = 'recheck'"
            )
        )
        .await,
        0,
        "the refused re-check left no ledger line"
    );

    // Scheduling: named findings must be closed; the whole inspection takes every closed one.
    let due = today().to_string();
    let named = |id: i64| json!({"i": {"inspectionId": "1", "findingIds": [id.to_string()], "dueOn": due, "assignee": "机关纪委"}});
    let (_, body) = app.gql(Some(&manager), SCHEDULE, named(f1)).await;
    assert_eq!(error_code(&body), Some("INVALID_TRANSITION"), "{body}");
    let past = json!({"i": {"inspectionId": "1", "dueOn": "2020-01-01", "assignee": "机关纪委"}});
    let (_, body) = app.gql(Some(&manager), SCHEDULE, past).await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"));
    assert_eq!(body["errors"][0]["extensions"]["field"], "dueOn");
    let (_, body) = app
        .gql(Some(&TestUser::officer("ZJTZB-BGS")), SCHEDULE, named(f10))
        .await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"));

    let all = json!({"i": {"inspectionId": "1", "dueOn": due, "assignee": "机关纪委"}});
    let created = app.data(&manager, SCHEDULE, all.clone()).await;
    let scheduled: Vec<i64> = created["scheduleRechecks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["finding"]["ordinal"].as_i64().unwrap())
        .collect();
    assert_eq!(scheduled, closed);
    assert_eq!(created["scheduleRechecks"][0]["assignee"], "机关纪委");
    let again = app.data(&manager, SCHEDULE, all).await;
    assert_eq!(
        again["scheduleRechecks"],
        json!([]),
        "nothing scheduled twice"
    );
    let (_, body) = app.gql(Some(&manager), SCHEDULE, named(f10)).await;
    assert_eq!(error_code(&body), Some("CONFLICT"));
    assert_eq!(
        ordinals(&app, &manager, json!({"recheckDue": true})).await,
        closed
    );

    // A section's officer sees the schedule of its own section's findings only.
    let schedule = "query($open: Boolean) { inspection(id: \"1\") { rechecks(filter: {open: $open}, first: 50) { totalCount nodes { passed finding { ordinal } } } } }";
    let bgs = app
        .data(&TestUser::officer("ZJTZB-BGS"), schedule, json!({}))
        .await;
    let seen: Vec<i64> = bgs["inspection"]["rechecks"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["finding"]["ordinal"].as_i64().unwrap())
        .collect();
    assert_eq!(seen, [5, 16, 17, 18, 19]);

    // A failed re-check is a relapse; the reopen it leads to is the same relapse.
    let entry = app
        .data(
            &inspector,
            RECHECK,
            json!({"id": f10.to_string(), "p": false}),
        )
        .await;
    assert_eq!(
        entry["recordRecheck"]["content"],
        "回头看未通过：对照整改台账逐项复核"
    );
    let reopened = app
        .data(&inspector, REOPEN, json!({"id": f10.to_string()}))
        .await;
    assert_eq!(reopened["reopenFinding"]["status"], "IN_PROGRESS");
    let f = app
        .data(
            &manager,
            "query($id: ID!) { finding(id: $id) { relapseCount lastRelapsedOn nextRecheck { dueOn } } }",
            json!({"id": f10.to_string()}),
        )
        .await;
    assert_eq!(
        f["finding"],
        json!({"relapseCount": 1, "lastRelapsedOn": due, "nextRecheck": null})
    );
    assert_eq!(
        ordinals(&app, &manager, json!({"relapsed": true})).await,
        [10]
    );
    let not_relapsed = ordinals(&app, &manager, json!({"relapsed": false})).await;
    assert_eq!(not_relapsed.len(), 34);
    assert_eq!(
        ordinals(&app, &manager, json!({"recheckDue": true})).await,
        [2, 5, 16, 17, 18, 19, 20, 21]
    );
    let done = app.data(&manager, schedule, json!({"open": false})).await;
    assert_eq!(
        done["inspection"]["rechecks"],
        json!({"totalCount": 1, "nodes": [{"passed": false, "finding": {"ordinal": 10}}]})
    );
    let summary = app
        .data(
            &manager,
            "{ inspection(id: \"1\") { statusSummary { relapsed relapses } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        summary["inspection"]["statusSummary"],
        json!({"relapsed": 1, "relapses": 1})
    );

    // A reopen without a failed re-check first is a relapse of its own.
    let f2 = app.finding_id(2).await.to_string();
    app.data(&inspector, REOPEN, json!({"id": f2})).await;
    assert_eq!(
        ordinals(&app, &manager, json!({"relapsed": true})).await,
        [2, 10]
    );
    // Reopened, it is rectified again before any re-check: no longer due.
    assert_eq!(
        ordinals(&app, &manager, json!({"recheckDue": true})).await,
        [5, 16, 17, 18, 19, 20, 21]
    );
    assert_eq!(
        count(
            &app.db,
            "SELECT COUNT(*) FROM audit_event WHERE action = 'recheck.complete'"
        )
        .await,
        1,
        "the schedule's completion is audited"
    );
    // A re-check is recorded by recordRecheck alone, never as a plain ledger entry.
    let (_, body) = app
        .gql(
            Some(&manager),
            "mutation($i: AddProgressEntryInput!) { addProgressEntry(input: $i) { id } }",
            json!({"i": {"findingId": app.finding_id(5).await.to_string(), "kind": "RECHECK", "content": "自行记的回头看"}}),
        )
        .await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"));
    assert_eq!(body["errors"][0]["extensions"]["field"], "kind");
    assert_eq!(
        count(
            &app.db,
            "SELECT COUNT(*) FROM audit_event WHERE action = 'finding.relapse'"
        )
        .await,
        2,
        "each relapse is audited"
    );

    // The bulletin and the report count them.
    let bulletin = app.bulletin(&manager).await;
    let md = app.markdown(&manager, &bulletin).await;
    assert!(md.contains("回头看发现2个已销号问题出现反弹。"), "{md}");
    let report = app.report(&manager).await;
    let md = app.markdown(&manager, &report).await;
    assert!(md.contains("| 问题反弹 | 2 |"), "{md}");
}

#[tokio::test]
async fn targets_know_which_way_is_better_and_summaries_count_those_met() {
    let app = spawn_app().await;
    let manager = TestUser::manager("ZJTZB");
    let targets = "{ findings(first: 30) { nodes { ordinal targets { id version better met currentValue requiredValue } } } }";
    let body = app.data(&manager, targets, json!({})).await;
    let mut seen = Vec::new();
    let mut funds = None;
    for f in body["findings"]["nodes"].as_array().unwrap() {
        for t in f["targets"].as_array().unwrap() {
            seen.push((
                f["ordinal"].as_i64().unwrap(),
                t["better"].clone(),
                t["met"].clone(),
            ));
            if f["ordinal"] == 16 {
                funds = Some((
                    t["id"].as_str().unwrap().to_owned(),
                    t["version"].as_i64().unwrap(),
                ));
            }
        }
    }
    assert_eq!(
        seen,
        [
            (3, json!("HIGHER"), json!(false)),
            (16, json!("LOWER"), Value::Null),
            (20, json!("HIGHER"), json!(true)),
            (21, json!("HIGHER"), Value::Null),
        ]
    );
    let summary = "{ inspection(id: \"1\") { statusSummary { targetsTotal targetsMet } } }";
    assert_eq!(
        app.data(&manager, summary, json!({})).await["inspection"]["statusSummary"],
        json!({"targetsTotal": 4, "targetsMet": 1})
    );

    // The misused funds returned in full: a lower-is-better target at its required 0 is met.
    let (id, version) = funds.unwrap();
    let updated = app
        .data(
            &manager,
            "mutation($i: UpdateTargetInput!) { updateTarget(input: $i) { met better } }",
            json!({"i": {"id": id, "version": version, "currentValue": 0}}),
        )
        .await;
    assert_eq!(
        updated["updateTarget"],
        json!({"met": true, "better": "LOWER"})
    );
    let created = app
        .data(
            &manager,
            "mutation($i: CreateTargetInput!) { createTarget(input: $i) { better met } }",
            json!({"i": {"findingId": app.finding_id(7).await.to_string(), "name": "积压信访件数", "unit": "件", "requiredValue": 5, "currentValue": 9, "better": "LOWER"}}),
        )
        .await;
    assert_eq!(
        created["createTarget"],
        json!({"better": "LOWER", "met": false})
    );
    assert_eq!(
        app.data(&manager, summary, json!({})).await["inspection"]["statusSummary"],
        json!({"targetsTotal": 5, "targetsMet": 2})
    );
}

async fn report(app: &TestApp, token: &str, period_end: NaiveDate) -> Value {
    let id = app
        .data(
            token,
            "mutation($i: ID!, $d: Date) { generateReport(inspectionId: $i, periodEnd: $d) { id } }",
            json!({"i": "1", "d": period_end.to_string()}),
        )
        .await["generateReport"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.client
        .get(app.url(&format!("/api/v1/reports/{id}?format=json")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

fn finding(snapshot: &Value, ordinal: i64) -> &Value {
    snapshot["categories"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["findings"].as_array().unwrap())
        .find(|f| f["ordinal"] == ordinal)
        .unwrap()
}

#[tokio::test]
async fn a_report_shows_its_period_end_however_late_it_is_generated() {
    let app = spawn_app().await;
    let (manager, inspector) = (TestUser::manager("ZJTZB"), TestUser::inspector());
    let yesterday = today().checked_sub_days(Days::new(1)).unwrap();
    let before = report(&app, &manager, yesterday).await;

    // Today, after the period's end, a good deal changes.
    let f1 = app.finding_id(1).await.to_string();
    app.data(
        &manager,
        "mutation($i: UpdateFindingInput!) { updateFinding(input: $i) { id } }",
        json!({"i": {"id": f1, "version": app.finding_version(1).await, "title": "期末之后改的标题"}}),
    )
    .await;
    let m = count(
        &app.db,
        &format!("SELECT MIN(id) FROM measure WHERE finding_id = {f1} AND status = 'in_progress'"),
    )
    .await;
    app.data(
        &TestUser::officer("ZJTZB-BGS"),
        "mutation($i: UpdateMeasureInput!) { updateMeasure(input: $i) { status } }",
        json!({"i": {"id": m.to_string(), "version": 1, "status": "DONE"}}),
    )
    .await;
    let m4 = count(
        &app.db,
        &format!(
            "SELECT MAX(id) FROM measure WHERE finding_id = {}",
            app.finding_id(4).await
        ),
    )
    .await;
    app.data(
        &manager,
        "mutation($id: ID!) { archiveMeasure(id: $id, version: 1) { id } }",
        json!({"id": m4.to_string()}),
    )
    .await;
    let t3 = count(
        &app.db,
        &format!(
            "SELECT id FROM target WHERE finding_id = {}",
            app.finding_id(3).await
        ),
    )
    .await;
    app.data(
        &manager,
        "mutation($i: UpdateTargetInput!) { updateTarget(input: $i) { id } }",
        json!({"i": {"id": t3.to_string(), "version": 1, "currentValue": 26}}),
    )
    .await;
    app.data(
        &manager,
        "mutation($i: AddProgressEntryInput!) { addProgressEntry(input: $i) { id } }",
        json!({"i": {"findingId": f1, "entryDate": yesterday.to_string(), "content": "补记的昨日进展"}}),
    )
    .await;
    app.data(
        &manager,
        "mutation($f: ID!) { linkRegulation(findingId: $f, regulationId: \"9\") { id } }",
        json!({"f": f1}),
    )
    .await;
    app.data(
        &inspector,
        REOPEN,
        json!({"id": app.finding_id(10).await.to_string()}),
    )
    .await;
    app.data(
        &manager,
        "mutation($i: CreateFindingInput!) { createFinding(input: $i) { id } }",
        json!({"i": {"inspectionId": "1", "title": "期末之后新增的问题", "rectificationType": "BY_DEADLINE", "departmentCode": "ZJTZB-BGS"}}),
    )
    .await;

    // Generated after all that, the report for the same period reads as the first one.
    let after = report(&app, &manager, yesterday).await;
    assert_eq!(after["categories"], before["categories"]);
    assert_eq!(after["summary"], before["summary"]);
    assert_eq!(finding(&after, 10)["status"], "closed");
    assert_eq!(after["summary"]["total"], 35);

    // The report for today shows every change.
    let now = report(&app, &manager, today()).await;
    assert_eq!(now["summary"]["total"], 36);
    assert_eq!(finding(&now, 1)["title"], "期末之后改的标题");
    assert_eq!(finding(&now, 10)["status"], "in_progress");
    assert_eq!(
        now["summary"]["measures_done"].as_i64().unwrap(),
        before["summary"]["measures_done"].as_i64().unwrap() + 1
    );
    assert_eq!(
        now["summary"]["measures_total"].as_i64().unwrap(),
        before["summary"]["measures_total"].as_i64().unwrap() - 1
    );
    assert_eq!(finding(&now, 3)["targets"][0]["current_value"], 26.0);
    assert_eq!(finding(&now, 3)["targets"][0]["met"], true);
    assert_eq!(finding(&before, 3)["targets"][0]["met"], false);
    assert_eq!(now["summary"]["relapsed"], 1);
    assert_eq!(before["summary"]["relapsed"], 0);
    let contents = |s: &Value| -> Vec<String> {
        finding(s, 1)["progress"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["content"].as_str().unwrap().to_owned())
            .collect()
    };
    // Dated within the period but written after it: not in the period's report.
    assert!(!contents(&after).contains(&"补记的昨日进展".to_owned()));
    assert_eq!(contents(&after), contents(&before));
}
