//! One road to CLOSED: every entry point that can change a finding is asked for every status,
//! and only `approveCloseOut` by someone other than the submitter closes one. A repeated
//! move by the same caller is a misuse (INVALID_TRANSITION), not a race.

use std::process::Command;

use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser, error_code, spawn_app};

const STATUSES: [(&str, &str); 4] = [
    ("未开始", "NOT_STARTED"),
    ("整改中", "IN_PROGRESS"),
    ("待审核销号", "PENDING_REVIEW"),
    ("已销号", "CLOSED"),
];
const IMPORT: &str = "mutation($i: ID!, $file: Upload!, $h: Boolean) { importLedger(inspectionId: $i, file: $file, historical: $h) {
    applied problems { row column code message } } }";

async fn status(app: &TestApp, id: &str) -> Value {
    app.data(
        &TestUser::admin(),
        "query($id: ID!) { finding(id: $id) { status title version } }",
        json!({"id": id}),
    )
    .await["finding"]
        .clone()
}

/// Marks every measure of a finding done.
async fn finish_measures(app: &TestApp, token: &str, id: &str) {
    let measures = app
        .data(
            token,
            "query($id: ID!) { finding(id: $id) { measures { id version status } } }",
            json!({"id": id}),
        )
        .await["finding"]["measures"]
        .clone();
    for m in measures.as_array().unwrap() {
        if m["status"] != "DONE" {
            app.data(
                token,
                "mutation($i: UpdateMeasureInput!) { updateMeasure(input: $i) { id } }",
                json!({"i": {"id": m["id"], "version": m["version"], "status": "DONE"}}),
            )
            .await;
        }
    }
}

/// A ledger of one row naming an existing finding by its id, with the status asked for.
fn one_row(id: &str, title: &str, status_text: &str) -> Vec<u8> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer
        .write_record(["问题ID", "序号", "问题", "状态"])
        .unwrap();
    writer.write_record([id, "", title, status_text]).unwrap();
    writer.into_inner().unwrap()
}

#[tokio::test]
async fn only_a_second_persons_approval_closes_a_finding_whatever_road_is_taken() {
    let app = spawn_app().await;
    let id = app.finding_id(1).await.to_string();
    let start = status(&app, &id).await;
    assert_eq!(start["status"], "IN_PROGRESS");
    let title = start["title"].as_str().unwrap().to_owned();

    for (text, name) in STATUSES {
        // GraphQL's updateFinding takes no status at all.
        let (_, body) = app
            .gql(
                Some(&TestUser::admin()),
                "mutation($i: UpdateFindingInput!) { updateFinding(input: $i) { status } }",
                json!({"i": {"id": id, "version": 1, "status": name}}),
            )
            .await;
        assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
        // The import, as the unit's manager and as an admin, plain and historical.
        for (who, historical) in [
            (TestUser::manager("ZJTZB"), false),
            (TestUser::admin(), false),
            (TestUser::admin(), true),
        ] {
            let (_, body) = app
                .upload(
                    &who,
                    IMPORT,
                    json!({"i": "1", "file": null, "h": historical}),
                    &[(
                        "variables.file",
                        "ledger.csv",
                        "text/csv",
                        &one_row(&id, &title, text),
                    )],
                )
                .await;
            let report = &body["data"]["importLedger"];
            match name {
                // Staying where it is changes nothing.
                "IN_PROGRESS" => assert_eq!(report["applied"], true, "{body}"),
                // Submitting needs every measure done: the row says why not.
                "PENDING_REVIEW" => {
                    assert_eq!(report["applied"], false, "{body}");
                    assert_eq!(report["problems"][0]["code"], "BAD_USER_INPUT", "{body}");
                }
                _ => {
                    assert_eq!(report["applied"], false, "{body}");
                    assert_eq!(
                        report["problems"][0]["code"], "INVALID_TRANSITION",
                        "{body}"
                    );
                    assert_eq!(report["problems"][0]["column"], "状态");
                }
            }
            assert_eq!(
                status(&app, &id).await["status"],
                "IN_PROGRESS",
                "{name} by import"
            );
        }
        // The command line's import, as the server's operator.
        let file = std::env::temp_dir().join(format!("one_road_{}_{name}.csv", std::process::id()));
        std::fs::write(&file, one_row(&id, &title, text)).unwrap();
        let output = Command::new(env!("CARGO_BIN_EXE_rectrack"))
            .args(["import", file.to_str().unwrap(), "--inspection", "1"])
            .env("RECTRACK_DATABASE_URL", &app.test_db.url)
            .output()
            .unwrap();
        let _ = std::fs::remove_file(&file);
        let stdout = String::from_utf8_lossy(&output.stdout);
        if name == "CLOSED" || name == "NOT_STARTED" {
            assert!(!output.status.success(), "{stdout}");
            assert!(stdout.contains("[INVALID_TRANSITION]"), "{stdout}");
        }
        assert_eq!(
            status(&app, &id).await["status"],
            "IN_PROGRESS",
            "{name} by the CLI"
        );
    }

    // Bulk mutations finish every measure; the finding stays in progress.
    let measures = app
        .data(
            &TestUser::admin(),
            "query($id: ID!) { finding(id: $id) { measures { id version status } } }",
            json!({"id": id}),
        )
        .await["finding"]["measures"]
        .clone();
    let items: Vec<Value> = measures
        .as_array()
        .unwrap()
        .iter()
        .map(|m| json!({"id": m["id"], "version": m["version"], "status": "DONE"}))
        .collect();
    let outcome = app
        .data(
            &TestUser::officer("ZJTZB-BGS"),
            "mutation($items: [UpdateMeasureInput!]!) { bulkUpdateMeasures(items: $items) { applied } }",
            json!({"items": items}),
        )
        .await;
    assert_eq!(outcome["bulkUpdateMeasures"]["applied"], true);
    app.data(
        &TestUser::officer("ZJTZB-BGS"),
        "mutation($items: [BulkProgressInput!]!) { bulkAddProgress(items: $items) { applied } }",
        json!({"items": [{"findingId": id, "content": "全部完成"}]}),
    )
    .await;
    assert_eq!(status(&app, &id).await["status"], "IN_PROGRESS");
    // REST writes no record: its document has GET routes only, but for the exchange export,
    // which writes a bundle file for a peer (a sequence number and a log line, no record), and
    // the public's feedback on a bulletin (a letter for the unit, no finding or close-out), and
    // the exchange import, which merges a checked bundle through `exchange::import`, the road
    // the command line takes too (tests/api/exchange_import.rs), and connected mode's peer
    // endpoints, which take the same roads (`exchange::import`, `exchange::export` for the
    // peer's pull, `exchange::ack`) for a peer proven by its signature
    // (tests/api/exchange_connected.rs).
    let openapi: Value = app
        .client
        .get(app.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for (path, item) in openapi["paths"].as_object().unwrap() {
        if path == "/api/v1/exchange/export"
            || path == "/api/v1/exchange/bundles"
            || path == "/api/v1/exchange/peer/bundles"
            || path == "/api/v1/exchange/peer/acks"
            || path == "/public/bulletins/{id}/feedback"
        {
            continue;
        }
        let methods: Vec<&String> = item.as_object().unwrap().keys().collect();
        assert!(
            methods.iter().all(|m| *m == "get" || *m == "parameters"),
            "{path}: {methods:?}"
        );
    }

    // The one road: the manager submits; the manager may not approve it; an inspector does.
    let manager = TestUser::manager("ZJTZB");
    let submit = "mutation($id: ID!) { submitForCloseOut(findingId: $id, summary: \"已完成\", noEvidenceReason: \"会议纪要已存档\") { status } }";
    app.data(&manager, submit, json!({"id": id})).await;
    let approve = "mutation($id: ID!) { approveCloseOut(findingId: $id) { status } }";
    let (_, body) = app
        .gql(Some(&TestUser::admin()), approve, json!({"id": id}))
        .await;
    assert_eq!(status(&app, &id).await["status"], "CLOSED", "{body}");

    // An admin who submits may not approve the same close-out.
    let id2 = app.finding_id(3).await.to_string();
    let admin = TestUser::admin();
    finish_measures(&app, &admin, &id2).await;
    app.data(&admin, submit, json!({"id": id2})).await;
    let (_, body) = app.gql(Some(&admin), approve, json!({"id": id2})).await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"), "{body}");
    assert_eq!(status(&app, &id2).await["status"], "PENDING_REVIEW");
}

#[tokio::test]
async fn a_repeated_move_is_a_misuse_and_a_stale_version_a_conflict() {
    let app = spawn_app().await;
    let manager = TestUser::manager("ZJTZB");
    let id = app.finding_id(1).await.to_string();
    let submit = "mutation($id: ID!, $v: Int) { submitForCloseOut(findingId: $id, summary: \"已完成\", noEvidenceReason: \"会议纪要已存档\", version: $v) { status version } }";
    finish_measures(&app, &manager, &id).await;
    let version = status(&app, &id).await["version"].clone();
    let first = app
        .data(&manager, submit, json!({"id": id, "v": version}))
        .await;
    let now = first["submitForCloseOut"]["version"].clone();
    // The same caller asks again, with the version it has just been given.
    let (_, body) = app
        .gql(Some(&manager), submit, json!({"id": id, "v": now}))
        .await;
    assert_eq!(error_code(&body), Some("INVALID_TRANSITION"), "{body}");
    assert_eq!(
        body["errors"][0]["message"],
        "不能申请销号：该问题当前为“待审核”；可进行的操作：批准销号、退回整改"
    );
    // Without a version, the same caller's repeat is a misuse too.
    let (_, body) = app.gql(Some(&manager), submit, json!({"id": id})).await;
    assert_eq!(error_code(&body), Some("INVALID_TRANSITION"), "{body}");
    // A stale version is a conflict, and another caller's repeat of a move just made is a race.
    let (_, body) = app
        .gql(Some(&manager), submit, json!({"id": id, "v": version}))
        .await;
    assert_eq!(error_code(&body), Some("CONFLICT"), "{body}");
    let (_, body) = app
        .gql(Some(&TestUser::admin()), submit, json!({"id": id}))
        .await;
    assert_eq!(error_code(&body), Some("CONFLICT"), "{body}");
}
