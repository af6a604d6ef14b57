//! The first early-warning sweep over an imported ledger: a historical import records the
//! crossings of deadlines long past as history (no inbox notification, no `warning.raised`
//! event, audited as `warning.record_historical`), so neither the per-change check nor the
//! sweep alerts anyone about them; an ordinary sweep raises one crossing per subject and level
//! however many days it runs, with its notifications, and the audit chain it appends to in
//! batches verifies.

use chrono::Days;
use clap::Parser;
use rectrack::domain::Acting;
use rectrack::domain::reads::audit_log::{Verdict, verify};
use rectrack::domain::workflow::alert;
use rectrack::domain::workflow::warning::Thresholds;
use serde_json::json;

use crate::helpers::{SECRET, TestApp, TestUser, count, spawn_app_with};

const IMPORT_HISTORICAL: &str = "mutation($i: ID!, $file: Upload!) { importLedger(inspectionId: $i, file: $file, historical: true) { applied findingsCreated measuresCreated problems { message } } }";

/// A unit's older ledger: three open findings, each with a measure, all due in 2020.
const LEDGER: &str = "序号,存在问题,整改措施,责任领导,责任部门,责任人,完成时限,整改情况,状态
1,宗教工作三级网络建设推进不力,下发三级网络建设通知,李副部长,ZJTZB-BGS,陈科长,2020-06-30,已下发通知,整改中
2,财务印章由一人管理,分开保管财务印章,王副部长,ZJTZB-BGS,林主任,2020-07-31,正在落实,整改中
3,党费收缴不规范,重新核定党费基数,王副部长,ZJTZB-BGS,林主任,2020-08-31,正在落实,整改中
";

async fn app() -> TestApp {
    spawn_app_with(&[
        "--jwt-secret",
        SECRET,
        "--warning-alerts",
        "true",
        "--events-poll",
        "100ms",
    ])
    .await
}

fn config(app: &TestApp) -> rectrack::config::Config {
    rectrack::cli::Cli::try_parse_from(["rectrack", "--database-url", app.test_db.url.as_str()])
        .unwrap()
        .config
}

async fn of_inspection(app: &TestApp, sql: &str, inspection: &str) -> i64 {
    count(
        &app.db,
        &sql.replace(
            "$FINDINGS",
            &format!("(SELECT id FROM finding WHERE inspection_id = {inspection})"),
        ),
    )
    .await
}

/// The findings and measures of the inspection that have a deadline: the subjects of warnings.
async fn with_deadlines(app: &TestApp, inspection: &str) -> i64 {
    of_inspection(
        app,
        &format!(
            "SELECT (SELECT COUNT(*) FROM finding WHERE inspection_id = {inspection} AND deadline IS NOT NULL) \
             + (SELECT COUNT(*) FROM measure WHERE finding_id IN $FINDINGS AND deadline IS NOT NULL)"
        ),
        inspection,
    )
    .await
}

#[tokio::test]
async fn a_historical_import_of_long_past_deadlines_alerts_nobody() {
    let app = app().await;
    let inspection = app.create_inspection("2020年巡察").await;
    let (status, body) = app
        .upload(
            &TestUser::admin(),
            IMPORT_HISTORICAL,
            json!({"i": inspection, "file": null}),
            &[(
                "variables.file",
                "历史台账.csv",
                "text/csv",
                LEDGER.as_bytes(),
            )],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["importLedger"]["applied"], true, "{body}");
    assert_eq!(body["data"]["importLedger"]["findingsCreated"], 3, "{body}");
    let subjects = with_deadlines(&app, &inspection).await;
    assert!(subjects >= 3);

    // The crossings are there, RED, one per finding and measure, recorded as history.
    let crossings = "SELECT COUNT(*) FROM warning_crossing WHERE finding_id IN $FINDINGS";
    assert_eq!(of_inspection(&app, crossings, &inspection).await, subjects);
    assert_eq!(
        of_inspection(
            &app,
            "SELECT COUNT(*) FROM warning_crossing WHERE finding_id IN $FINDINGS AND level = 'red'",
            &inspection
        )
        .await,
        subjects
    );
    assert_eq!(
        count(
            &app.db,
            "SELECT COUNT(*) FROM audit_event WHERE action = 'warning.record_historical'"
        )
        .await,
        subjects
    );

    // A sweep now (as every day) finds them recorded: nobody is alerted, now or later.
    let config = config(&app);
    rectrack::live::sweep::sweep(&app.db, &config, None)
        .await
        .unwrap();
    assert_eq!(of_inspection(&app, crossings, &inspection).await, subjects);
    assert_eq!(
        of_inspection(
            &app,
            "SELECT COUNT(*) FROM notification WHERE finding_id IN $FINDINGS",
            &inspection
        )
        .await,
        0
    );
    assert_eq!(
        of_inspection(
            &app,
            "SELECT COUNT(*) FROM event WHERE kind = 'warning.raised' AND finding_id IN $FINDINGS",
            &inspection
        )
        .await,
        0
    );
    assert!(matches!(
        verify(&app.db).await.unwrap(),
        Verdict::Intact { .. }
    ));
}

#[tokio::test]
async fn a_sweep_raises_one_crossing_per_subject_and_level_however_many_days_it_runs() {
    let app = app().await;
    let inspection = app.create_inspection("本轮巡察").await;
    // The same ledger, imported as an ordinary one: its deadlines alert.
    let (status, body) = app
        .upload(
            &TestUser::manager("ZJTZB"),
            "mutation($i: ID!, $file: Upload!) { importLedger(inspectionId: $i, file: $file) { applied findingsCreated measuresCreated } }",
            json!({"i": inspection, "file": null}),
            &[("variables.file", "台账.csv", "text/csv", LEDGER.as_bytes())],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["importLedger"]["applied"], true, "{body}");
    let subjects = with_deadlines(&app, &inspection).await;
    assert!(subjects >= 3);
    let config = config(&app);
    let who = Acting::system("warning-sweep", config.timezone);
    let today = config.timezone.today();
    // Ten days of sweeps over the same overdue work (and the server's own sweep and checks
    // running meanwhile): one crossing each.
    for day in 0..10 {
        let thresholds = Thresholds {
            today: today.checked_add_days(Days::new(day)).unwrap(),
            green_days: config.warning_green_days,
            yellow_days: config.warning_yellow_days,
        };
        let mut after = 0;
        loop {
            let (due, next, _) = alert::due_subjects(&app.db, &thresholds, after, 200)
                .await
                .unwrap();
            let txn = rectrack::db::begin_write(&app.db).await.unwrap();
            alert::raise(&txn, &who, &thresholds, &due).await.unwrap();
            rectrack::db::commit(&app.db, txn).await.unwrap();
            match next {
                Some(id) => after = id,
                None => break,
            }
        }
    }
    let crossings = "SELECT COUNT(*) FROM warning_crossing WHERE finding_id IN $FINDINGS";
    assert_eq!(of_inspection(&app, crossings, &inspection).await, subjects);
    assert_eq!(
        count(
            &app.db,
            "SELECT COUNT(*) FROM (SELECT subject_type, subject_id, level FROM warning_crossing \
             GROUP BY subject_type, subject_id, level HAVING COUNT(*) > 1) AS twice"
        )
        .await,
        0
    );
    // RED alerts the responsible person, the responsible leader and the unit's principal
    // leader: three notifications per crossing, and one event each.
    assert_eq!(
        of_inspection(
            &app,
            "SELECT COUNT(*) FROM notification WHERE finding_id IN $FINDINGS",
            &inspection
        )
        .await,
        3 * subjects
    );
    assert_eq!(
        of_inspection(
            &app,
            "SELECT COUNT(*) FROM event WHERE kind = 'warning.raised' AND finding_id IN $FINDINGS",
            &inspection
        )
        .await,
        subjects
    );
    assert!(matches!(
        verify(&app.db).await.unwrap(),
        Verdict::Intact { .. }
    ));
}
