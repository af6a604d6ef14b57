//! The office's import of a unit's bundles (issue 43): two real servers, the unit's and the
//! office's (the unit on SQLite, the office on the engine under test, and the reverse), bundles
//! written at the unit by its command line, carried as files and imported at the office over
//! REST and by its command line; the records arrive under their origin, complete, readable by
//! the unit's readers and written only by bundles; replays, gaps, wrong keys, changed bytes and
//! a changed history are refused by code with nothing merged.

use std::path::Path;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::exchange::{Dir, identity, rectrack, register, resigned, rewritten, succeeds};
use crate::helpers::{TestApp, TestDb, TestUser, count, error_code, spawn_app_on};

const PDF: &[u8] =
    b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";
const ADD: &str = "mutation($input: AddProgressEntryInput!) { addProgressEntry(input: $input) { id evidence { sha256 } } }";
const SECRET_FLAGS: &[&str] = &["--jwt-secret", crate::helpers::SECRET];

/// The tables a bundle carries, as counted in both databases.
const TABLES: &[&str] = &[
    "inspection",
    "category",
    "finding",
    "measure",
    "target",
    "stage",
    "regulation",
    "finding_regulation",
    "progress_entry",
    "evidence",
    "report",
];

async fn counts(app: &TestApp) -> Vec<i64> {
    let mut out = Vec::new();
    for table in TABLES {
        out.push(count(&app.db, &format!("SELECT COUNT(*) FROM {table}")).await);
    }
    out
}

/// Writes the unit's next bundle for the office; answers the file.
fn export(unit: &TestApp, office_id: &str, dir: &Dir, name: &str) -> std::path::PathBuf {
    let file = dir.0.join(name);
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
    file
}

/// POSTs a bundle to the office's import endpoint as `token`.
async fn post(office: &TestApp, token: &str, bytes: Vec<u8>) -> (u16, Value) {
    let response = office
        .client
        .post(office.url("/api/v1/exchange/bundles"))
        .bearer_auth(token)
        .header("content-type", "application/zip")
        .body(bytes)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn import(office: &TestApp, file: &Path) -> Value {
    let (status, body) = post(office, &TestUser::admin(), std::fs::read(file).unwrap()).await;
    assert_eq!(status, 200, "{body}");
    body
}

/// The code of the department a finding belongs to.
async fn department_code(app: &TestApp, finding: i64) -> String {
    app.rows(&format!(
        "SELECT d.code AS code FROM finding f JOIN department d ON d.id = f.department_id WHERE f.id = {finding}"
    ))
    .await[0]
        .try_get::<String>("", "code")
        .unwrap()
}

fn rest_code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or_default()
}

/// The office's id of the unit's record `origin_id` of `kind`.
async fn local(office: &TestApp, kind: &str, origin_id: i64) -> i64 {
    count(
        &office.db,
        &format!(
            "SELECT local_id FROM exchange_origin WHERE kind = '{kind}' AND origin_id = {origin_id}"
        ),
    )
    .await
}

/// A unit and an office that have registered each other; answers their instance ids.
async fn pair(unit_on_sqlite: bool) -> (TestApp, TestApp, String, String) {
    let (unit_db, office_db) = if unit_on_sqlite {
        (TestDb::sqlite().await, TestDb::new().await)
    } else {
        (TestDb::new().await, TestDb::sqlite().await)
    };
    let unit = spawn_app_on(unit_db, SECRET_FLAGS).await;
    let office = spawn_app_on(office_db, SECRET_FLAGS).await;
    let unit_identity = identity(&unit.data_dir);
    let office_identity = identity(&office.data_dir);
    let office_id = register(&unit, &office_identity, "市委巡察办").await;
    let unit_id = register(&office, &unit_identity, "市委统战部").await;
    (unit, office, unit_id, office_id)
}

async fn add_entry(unit: &TestApp, finding: i64, content: &str, file: Option<&[u8]>) {
    let token = TestUser::officer("ZJTZB-BGS");
    let body = match file {
        Some(file) => {
            let (status, body) = unit
                .upload(
                    &token,
                    ADD,
                    json!({"input": {"findingId": finding.to_string(), "content": content, "files": [{"title": "纪要", "file": null}]}}),
                    &[("variables.input.files.0.file", "纪要.pdf", "application/pdf", file)],
                )
                .await;
            assert_eq!(status, 200, "{body}");
            body
        }
        None => {
            unit.gql(
                Some(&token),
                ADD,
                json!({"input": {"findingId": finding.to_string(), "content": content}}),
            )
            .await
            .1
        }
    };
    assert!(body.get("errors").is_none(), "{body}");
}

async fn round_trip(unit_on_sqlite: bool) {
    let (unit, office, unit_id, office_id) = pair(unit_on_sqlite).await;
    let out = Dir::new("import");

    // Evidence in the unit's ledger, so that a file travels.
    let first = unit.finding_id(1).await;
    add_entry(&unit, first, "上传会议纪要", Some(PDF)).await;

    let before = counts(&office).await;
    let unit_has = counts(&unit).await;
    let b1 = export(&unit, &office_id, &out, "b1.zip");
    let said = import(&office, &b1).await;
    assert_eq!(said["result"], "merged", "{said}");
    assert_eq!(said["sequence"], 1);
    assert_eq!(said["unit"], "ZJTZB");
    assert_eq!(said["peer"], "市委统战部");

    // The demo inspection arrived complete: every table grew by the unit's rows (only
    // submitted or published reports travel; the unit's regulations are its own or linked).
    let after = counts(&office).await;
    for (i, table) in TABLES.iter().enumerate() {
        let grew = after[i] - before[i];
        let sent = said["counts"][table].as_i64().unwrap();
        assert_eq!(
            grew, sent,
            "{table}: the office grew by what the bundle carried"
        );
        let origin = count(
            &office.db,
            &format!("SELECT COUNT(*) FROM exchange_origin WHERE kind = '{table}'"),
        )
        .await;
        if *table != "finding_regulation" {
            assert_eq!(
                origin, sent,
                "{table}: each merged row is kept under its origin"
            );
        }
        match *table {
            "regulation" | "report" | "finding_regulation" => {}
            _ => assert_eq!(sent, unit_has[i], "{table}: all of the unit's rows"),
        }
    }
    assert!(said["counts"]["finding"].as_i64().unwrap() >= 35);
    assert!(said["counts"]["measure"].as_i64().unwrap() > 0);
    assert!(said["counts"]["progress_entry"].as_i64().unwrap() > 0);
    assert!(said["evidenceFiles"].as_i64().unwrap() >= 1, "{said}");
    let reports_sent = count(
        &unit.db,
        "SELECT COUNT(*) FROM report WHERE status <> 'draft'",
    )
    .await;
    assert_eq!(said["counts"]["report"], reports_sent);

    // The foreign keys point at the office's rows: the unit's first finding is the office's
    // finding in the office's copy of the inspection, in the office's department of that code.
    let here = local(&office, "finding", first).await;
    let inspection = local(&office, "inspection", 1).await;
    assert_eq!(
        count(
            &office.db,
            &format!("SELECT inspection_id FROM finding WHERE id = {here}")
        )
        .await,
        inspection
    );
    assert_eq!(
        department_code(&office, here).await,
        department_code(&unit, first).await
    );
    let entries_here = count(
        &office.db,
        &format!("SELECT COUNT(*) FROM progress_entry WHERE finding_id = {here}"),
    )
    .await;
    let entries_there = count(
        &unit.db,
        &format!("SELECT COUNT(*) FROM progress_entry WHERE finding_id = {first}"),
    )
    .await;
    assert_eq!(entries_here, entries_there);
    // The evidence file is in the office's store, by its hash.
    let sha = {
        use sha2::Digest;
        format!("{:x}", sha2::Sha256::digest(PDF))
    };
    let stored = office.data_dir.join("evidence").join(&sha[..2]).join(&sha);
    assert_eq!(std::fs::read(&stored).unwrap(), PDF);

    // Readable at the office by those who may read the unit, as ordinary rows of its
    // departments; not by another unit's managers.
    let read = "query($id: ID!) { finding(id: $id) { title } }";
    let vars = json!({"id": here.to_string()});
    let mine = office
        .data(&TestUser::manager("ZJTZB"), read, vars.clone())
        .await;
    let title = unit
        .rows(&format!("SELECT title FROM finding WHERE id = {first}"))
        .await[0]
        .try_get::<String>("", "title")
        .unwrap();
    assert_eq!(mine["finding"]["title"], title.as_str());
    let (_, theirs) = office
        .gql(Some(&TestUser::manager("OTHER")), read, vars.clone())
        .await;
    assert!(
        theirs["data"]["finding"].is_null() || error_code(&theirs) == Some("NOT_FOUND"),
        "{theirs}"
    );

    // The office's edits of a merged record are refused by code, in Chinese; nothing changes.
    let version = office.finding_version(here).await;
    let (_, body) = office
        .gql(
            Some(&TestUser::admin()),
            "mutation($i: UpdateFindingInput!) { updateFinding(input: $i) { id } }",
            json!({"i": {"id": here.to_string(), "version": version, "title": "巡察办改的标题"}}),
        )
        .await;
    assert_eq!(error_code(&body), Some("KEPT_BY_ORIGIN"), "{body}");
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("市委统战部"), "{message}");
    assert!(message.contains("只能由该实例的报送包更新"), "{message}");
    let (_, body) = office
        .gql(
            Some(&TestUser::admin()),
            "mutation($id: ID!, $v: Int!) { archiveFinding(id: $id, version: $v) { id } }",
            json!({"id": here.to_string(), "v": version}),
        )
        .await;
    assert_eq!(error_code(&body), Some("KEPT_BY_ORIGIN"), "{body}");
    let (_, body) = office
        .gql(
            Some(&TestUser::admin()),
            ADD,
            json!({"input": {"findingId": here.to_string(), "content": "巡察办补记"}}),
        )
        .await;
    assert_eq!(error_code(&body), Some("KEPT_BY_ORIGIN"), "{body}");
    let measure_here = local(
        &office,
        "measure",
        count(&unit.db, "SELECT MIN(id) FROM measure").await,
    )
    .await;
    let measure_version = count(
        &office.db,
        &format!("SELECT version FROM measure WHERE id = {measure_here}"),
    )
    .await;
    let (_, body) = office
        .gql(
            Some(&TestUser::admin()),
            "mutation($i: UpdateMeasureInput!) { updateMeasure(input: $i) { id } }",
            json!({"i": {"id": measure_here.to_string(), "version": measure_version, "content": "改"}}),
        )
        .await;
    assert_eq!(error_code(&body), Some("KEPT_BY_ORIGIN"), "{body}");
    assert_eq!(
        counts(&office).await,
        after,
        "nothing was written by the refusals"
    );
    // And the flags a front end shows say so, for the finding and its measure.
    let flags = office
        .data(
            &TestUser::admin(),
            "query($f: ID!, $m: ID!) { finding(id: $f) { viewerCan { update archive addProgress addMeasure } } measure(id: $m) { viewerCan { update archive } } }",
            json!({"f": here.to_string(), "m": measure_here.to_string()}),
        )
        .await;
    assert_eq!(
        flags,
        json!({"finding": {"viewerCan": {"update": false, "archive": false, "addProgress": false, "addMeasure": false}},
               "measure": {"viewerCan": {"update": false, "archive": false}}})
    );
    // The office's own records stay its own to edit.
    let own = office.finding_id(1).await;
    office.retitle(&own.to_string(), "巡察办自己的问题").await;

    // The log line and the audit event of the import.
    assert_eq!(
        count(
            &office.db,
            "SELECT COUNT(*) FROM exchange_log WHERE direction = 'import' AND result = 'merged' AND sequence = 1"
        )
        .await,
        1
    );
    assert_eq!(
        count(
            &office.db,
            "SELECT COUNT(*) FROM audit_event WHERE action = 'exchange.import'"
        )
        .await
            + count(
                &office.db,
                "SELECT COUNT(*) FROM audit_pending WHERE action = 'exchange.import'"
            )
            .await,
        1
    );

    // The acknowledgement goes back to the unit; its next bundle starts after it.
    let ack_file = out.0.join("ack1.json");
    std::fs::write(&ack_file, said["acknowledgement"].to_string()).unwrap();
    let acked = succeeds(
        &unit.test_db.url,
        &unit.data_dir,
        &["exchange", "ack", ack_file.to_str().unwrap()],
    );
    assert!(acked.contains("已登记回执"), "{acked}");
    assert_eq!(
        count(&unit.db, "SELECT acked_sequence FROM exchange_peer").await,
        1
    );
    let acked_event = said["acknowledgement"]["lastEventId"].as_i64().unwrap();
    assert_eq!(
        count(&unit.db, "SELECT acked_event_id FROM exchange_peer").await,
        acked_event
    );
    // A forged acknowledgement (changed after signing) is refused.
    let mut forged = said["acknowledgement"].clone();
    forged["sequence"] = json!(2);
    let forged_file = out.0.join("forged.json");
    std::fs::write(&forged_file, forged.to_string()).unwrap();
    let refused = rectrack(
        &unit.test_db.url,
        &unit.data_dir,
        &["exchange", "ack", forged_file.to_str().unwrap()],
    );
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("BUNDLE_BAD_SIGNATURE"));

    // A second round: the unit renames a finding and adds to its ledger.
    unit.retitle(&first.to_string(), "第二轮改过的标题").await;
    add_entry(&unit, first, "第二轮进展", None).await;
    let b2 = export(&unit, &office_id, &out, "b2.zip");
    let said = import(&office, &b2).await;
    assert_eq!(said["result"], "merged", "{said}");
    assert_eq!(said["sequence"], 2);
    // Only what changed travelled: the changed finding, with its ledger (the notes the
    // procedure writes are recorded by the finding's events, so a changed finding's ledger
    // travels whole); the office keeps the entries it holds and adds the new one.
    assert_eq!(said["counts"]["finding"], 1, "{said}");
    let ledger = count(
        &unit.db,
        &format!("SELECT COUNT(*) FROM progress_entry WHERE finding_id = {first}"),
    )
    .await;
    assert_eq!(said["counts"]["progress_entry"], ledger, "{said}");
    let round2 = counts(&office).await;
    let at = |t: &str| TABLES.iter().position(|x| *x == t).unwrap();
    assert_eq!(round2[at("finding")], after[at("finding")]);
    assert_eq!(
        round2[at("progress_entry")],
        after[at("progress_entry")] + 1
    );
    let title = office
        .rows(&format!("SELECT title FROM finding WHERE id = {here}"))
        .await[0]
        .try_get::<String>("", "title")
        .unwrap();
    assert_eq!(title, "第二轮改过的标题");

    // The same bundle again: a no-op that says so (REST and the command line).
    let again = import(&office, &b2).await;
    assert_eq!(again["result"], "duplicate", "{again}");
    let cli = succeeds(
        &office.test_db.url,
        &office.data_dir,
        &["exchange", "import", b2.to_str().unwrap()],
    );
    assert!(cli.contains("此前已导入"), "{cli}");
    assert_eq!(counts(&office).await, round2);
    assert_eq!(
        count(
            &office.db,
            "SELECT COUNT(*) FROM exchange_log WHERE direction = 'import' AND result = 'duplicate'"
        )
        .await,
        2
    );

    // A gap: bundle 4 before bundle 3 is refused naming 3; then 3 and 4 in order.
    add_entry(&unit, first, "第三轮进展", None).await;
    let b3 = export(&unit, &office_id, &out, "b3.zip");
    add_entry(&unit, first, "第四轮进展", None).await;
    let b4 = export(&unit, &office_id, &out, "b4.zip");
    let (status, body) = post(&office, &TestUser::admin(), std::fs::read(&b4).unwrap()).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(rest_code(&body), "BUNDLE_OUT_OF_SEQUENCE");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("缺少第 3 号"),
        "{body}"
    );
    assert_eq!(counts(&office).await, round2, "nothing merged");
    assert_eq!(
        count(
            &office.db,
            "SELECT COUNT(*) FROM exchange_log WHERE result = 'refused' AND code = 'BUNDLE_OUT_OF_SEQUENCE'"
        )
        .await,
        1
    );
    // Without an acknowledgement of 2, bundles 3 and 4 repeat the chain after bundle 1's
    // acknowledgement: the repeated part agrees with what was received, so they merge.
    let cli = succeeds(
        &office.test_db.url,
        &office.data_dir,
        &["exchange", "import", b3.to_str().unwrap()],
    );
    assert!(cli.contains("已导入第 3 号报送包"), "{cli}");
    assert_eq!(import(&office, &b4).await["result"], "merged");
    assert_eq!(
        count(&office.db, "SELECT COUNT(*) FROM progress_entry").await,
        round2[at("progress_entry")] + 2
    );

    // Only administrators import.
    let (status, body) = post(
        &office,
        &TestUser::manager("ZJTZB"),
        std::fs::read(&b4).unwrap(),
    )
    .await;
    assert_eq!(status, 403, "{body}");
    let _ = unit_id;
}

#[tokio::test]
async fn a_unit_on_sqlite_sends_its_ledger_to_the_office_round_after_round() {
    round_trip(true).await;
}

#[tokio::test]
async fn a_unit_on_the_engine_under_test_sends_to_an_office_on_sqlite() {
    round_trip(false).await;
}

/// Rewrites the unit's audit chain from the first event about a finding on, as a unit that
/// edited its history and re-hashed the rest would (consistent links, signed by its own key).
async fn rewrite_history(unit: &TestApp) -> i64 {
    // The database's own guard against such edits goes first (SQLite's trigger).
    unit.sql("DROP TRIGGER audit_event_no_update").await;
    let rows = unit
        .rows("SELECT id, occurred_at, actor_sub, actor_role, action, entity_type, entity_id, CAST(before AS TEXT) AS b, CAST(after AS TEXT) AS a, request_id, department_id, prev_hash, hash FROM audit_event ORDER BY id")
        .await;
    let victim = rows
        .iter()
        .find(|r| r.try_get::<String>("", "entity_type").unwrap() == "finding")
        .unwrap()
        .try_get::<i32>("", "id")
        .unwrap();
    let mut prev: Option<String> = None;
    let mut last = (0, String::new());
    for row in &rows {
        let id: i32 = row.try_get("", "id").unwrap();
        let stored: String = row.try_get("", "hash").unwrap();
        if id < victim {
            last = (id, stored);
            continue;
        }
        let prev_hash = prev
            .clone()
            .unwrap_or_else(|| row.try_get::<String>("", "prev_hash").unwrap());
        let at: DateTime<Utc> = row.try_get("", "occurred_at").unwrap();
        let text = |k: &str| row.try_get::<String>("", k).unwrap();
        let json = |k: &str| {
            row.try_get::<Option<String>>("", k)
                .unwrap()
                .map(|t| serde_json::from_str::<Value>(&t).unwrap())
        };
        let actor = if id == victim {
            "someone-else".to_owned()
        } else {
            text("actor_sub")
        };
        let (before, after) = (json("b"), json("a"));
        let request: Option<String> = row.try_get("", "request_id").unwrap();
        let department: Option<i32> = row.try_get("", "department_id").unwrap();
        let hash = rectrack::audit::hash_of(&rectrack::audit::Fields {
            occurred_at: &at,
            actor_sub: &actor,
            actor_role: &text("actor_role"),
            action: &text("action"),
            entity_type: &text("entity_type"),
            entity_id: &text("entity_id"),
            before: before.as_ref(),
            after: after.as_ref(),
            request_id: request.as_deref(),
            department_id: department,
            prev_hash: &prev_hash,
        });
        unit.sql(&format!(
            "UPDATE audit_event SET actor_sub = '{actor}', prev_hash = '{prev_hash}', hash = '{hash}' WHERE id = {id}"
        ))
        .await;
        prev = Some(hash.clone());
        last = (id, hash);
    }
    unit.sql(&format!(
        "UPDATE audit_head SET last_hash = '{}' WHERE id = 1",
        last.1
    ))
    .await;
    victim as i64
}

#[tokio::test]
async fn the_office_refuses_wrong_keys_changed_bytes_and_a_changed_history_merging_nothing() {
    let (unit, office, _, office_id) = pair(true).await;
    let out = Dir::new("refusals");
    let b1 = export(&unit, &office_id, &out, "b1.zip");
    let bytes = std::fs::read(&b1).unwrap();
    let before = counts(&office).await;
    let refused = |status: u16, body: &Value, code: &str| {
        assert_eq!(rest_code(body), code, "{body}");
        assert!(status == 400 || status == 409, "{status} {body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("未作任何处理"),
            "{body}"
        );
    };

    // Signed by a key that is not the one registered for the unit.
    let stranger = resigned(&bytes, &[9u8; 32], |_, _| None);
    let (status, body) = post(&office, &TestUser::admin(), stranger).await;
    refused(status, &body, "BUNDLE_BAD_SIGNATURE");
    // One byte changed.
    let edited = rewritten(&bytes, |name, content| {
        (name == "records/finding.jsonl").then(|| {
            let mut c = content.to_vec();
            let at = c.iter().position(|b| *b == b'1').unwrap();
            c[at] = b'2';
            c
        })
    });
    let (status, body) = post(&office, &TestUser::admin(), edited).await;
    refused(status, &body, "BUNDLE_TAMPERED");
    // Nothing merged, every refusal logged.
    assert_eq!(counts(&office).await, before);
    assert_eq!(
        count(&office.db, "SELECT COUNT(*) FROM exchange_origin").await,
        0
    );
    assert_eq!(
        count(
            &office.db,
            "SELECT COUNT(*) FROM exchange_log WHERE result = 'refused'"
        )
        .await,
        2
    );

    // A sub-department the office does not hold (by code, within the unit) is named.
    office
        .sql("UPDATE department SET code = 'ZJTZB-BGS-OLD' WHERE code = 'ZJTZB-BGS'")
        .await;
    let (status, body) = post(&office, &TestUser::admin(), bytes.clone()).await;
    refused(status, &body, "BUNDLE_UNKNOWN_DEPARTMENT");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("“ZJTZB-BGS”"),
        "{body}"
    );
    assert_eq!(counts(&office).await, before);
    office
        .sql("UPDATE department SET code = 'ZJTZB-BGS' WHERE code = 'ZJTZB-BGS-OLD'")
        .await;
    // The exchange log shows each refusal with its code, newest first.
    let log = office
        .data(
            &TestUser::admin(),
            "{ exchangeLog(first: 3) { edges { node { direction result code detail } } } }",
            json!({}),
        )
        .await;
    let codes: Vec<&str> = log["exchangeLog"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            assert_eq!(e["node"]["direction"], "import");
            assert_eq!(e["node"]["result"], "refused");
            e["node"]["code"].as_str().unwrap()
        })
        .collect();
    assert_eq!(
        codes,
        [
            "BUNDLE_UNKNOWN_DEPARTMENT",
            "BUNDLE_TAMPERED",
            "BUNDLE_BAD_SIGNATURE"
        ]
    );

    // The real one merges.
    let said = import(&office, &b1).await;
    assert_eq!(said["result"], "merged");
    let merged = counts(&office).await;

    // The unit then edits its history (and re-hashes the rest) and sends everything again: the
    // office names the first event that differs from what it received.
    let victim = rewrite_history(&unit).await;
    let b2 = export(&unit, &office_id, &out, "b2.zip");
    let (status, body) = post(&office, &TestUser::admin(), std::fs::read(&b2).unwrap()).await;
    refused(status, &body, "BUNDLE_HISTORY_CHANGED");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains(&format!("自第 {victim} 条起不同")),
        "{body}"
    );
    assert_eq!(counts(&office).await, merged, "nothing merged");
    // The same number with other content is not a replay.
    let other = renumbered(&unit, &office_id, &out).await;
    let (status, body) = post(&office, &TestUser::admin(), other).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(rest_code(&body), "BUNDLE_OUT_OF_SEQUENCE");
}

/// A bundle numbered 1 again with other content: the unit's peer is re-registered under a
/// fresh sequence (the unit restored an old database, say).
async fn renumbered(unit: &TestApp, office_id: &str, out: &Dir) -> Vec<u8> {
    unit.sql("UPDATE exchange_peer SET sent_sequence = 0, acked_sequence = 0, acked_event_id = 0")
        .await;
    std::fs::read(export(unit, office_id, out, "again1.zip")).unwrap()
}

/// The merged state at the office: records kept under their origin, findings, and the
/// bundles received.
async fn merged_state(office: &TestApp) -> (i64, i64, i64) {
    (
        count(&office.db, "SELECT COUNT(*) FROM exchange_origin").await,
        count(&office.db, "SELECT COUNT(*) FROM finding").await,
        count(&office.db, "SELECT COUNT(*) FROM exchange_received").await,
    )
}

#[tokio::test]
async fn an_import_killed_midway_leaves_nothing_half_merged() {
    let (unit, office, _, office_id) = pair(true).await;
    let out = Dir::new("crash");
    let b1 = export(&unit, &office_id, &out, "b1.zip");
    let empty = merged_state(&office).await;
    assert_eq!(empty.0, 0);
    let spawn = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_rectrack"))
            .args(["exchange", "import", b1.to_str().unwrap()])
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("RECTRACK_DATABASE_URL", &office.test_db.url)
            .env("RECTRACK_DATA_DIR", &office.data_dir)
            .env("RUST_LOG", "error")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap()
    };
    if office.test_db.is_postgres() {
        // On PostgreSQL the moment is seen: the import's transaction has written (it has a
        // transaction id) and is inserting measures, after the inspection and its findings.
        let mut child = spawn();
        let started = std::time::Instant::now();
        loop {
            assert!(
                child.try_wait().unwrap().is_none(),
                "killed before the merge"
            );
            let inside = count(
                &office.db,
                "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() \
                 AND pid <> pg_backend_pid() AND backend_xid IS NOT NULL \
                 AND query LIKE 'INSERT INTO \"measure\"%'",
            )
            .await;
            if inside > 0 {
                child.kill().unwrap();
                break;
            }
            assert!(started.elapsed().as_secs() < 60, "the merge began");
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
        child.wait().unwrap();
        assert_eq!(
            merged_state(&office).await,
            empty,
            "killed while merging measures: the findings it had inserted are gone"
        );
    }
    let mut whole = None;
    // Killed (SIGKILL) at growing delays until one run finishes first: after each kill the
    // office holds all of the bundle or none of it.
    for delay_ms in [
        30u64, 80, 150, 250, 400, 600, 900, 1400, 2000, 3000, 5000, 8000,
    ] {
        let mut child = spawn();
        tokio::time::sleep(std::time::Duration::from_millis(delay_ms)).await;
        let finished = child.try_wait().unwrap();
        if finished.is_none() {
            child.kill().unwrap();
        }
        let status = child.wait().unwrap();
        let state = merged_state(&office).await;
        if state.2 == 0 {
            assert_eq!(state, empty, "killed after {delay_ms} ms: nothing merged");
        } else {
            assert!(state.0 > 0, "killed after {delay_ms} ms: {state:?}");
            whole = Some((state, status));
            break;
        }
    }
    let (state, _) = whole.expect("an import ran to its end");
    // All of it: the office's findings grew by the bundle's, each kept under its origin.
    let findings = count(&unit.db, "SELECT COUNT(*) FROM finding").await;
    assert_eq!(state.1, empty.1 + findings);
    assert_eq!(
        count(
            &office.db,
            "SELECT COUNT(*) FROM exchange_origin WHERE kind = 'finding'"
        )
        .await,
        findings
    );
    // And once only: the same bundle again is the no-op.
    let again = import(&office, &b1).await;
    assert_eq!(again["result"], "duplicate");
}

#[tokio::test]
async fn a_lost_bundle_is_written_again_under_its_number_and_nothing_is_lost() {
    let (unit, office, _unit_id, office_id) = pair(true).await;
    let out = Dir::new("reissue");
    // Bundle 1 is written and lost on its way; bundle 2 is refused, naming the missing one.
    let _lost = export(&unit, &office_id, &out, "b1.zip");
    let finding: i64 = unit
        .create_finding("第一号包丢失后新增的问题", "ZJTZB-BGS")
        .await
        .parse()
        .unwrap();
    let b2 = export(&unit, &office_id, &out, "b2.zip");
    let (status, body) = post(&office, &TestUser::admin(), std::fs::read(&b2).unwrap()).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(rest_code(&body), "BUNDLE_OUT_OF_SEQUENCE");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("第 1 号"),
        "{body}"
    );

    // Written again under number 1: it carries everything, the finding added since included.
    let again = out.0.join("b1-again.zip");
    succeeds(
        &unit.test_db.url,
        &unit.data_dir,
        &[
            "exchange",
            "export",
            "--to",
            &office_id,
            "--reissue",
            "1",
            "-o",
            again.to_str().unwrap(),
        ],
    );
    let said = import(&office, &again).await;
    assert_eq!(said["result"], "merged", "{said}");
    assert_eq!(said["sequence"], 1);
    assert!(local(&office, "finding", finding).await > 0);
    assert_eq!(
        count(
            &unit.db,
            "SELECT COUNT(*) FROM exchange_log WHERE result = 'written' AND sequence = 1 AND detail LIKE '%重发%'"
        )
        .await,
        1
    );
    // The bundle written after it is abandoned: the next one is number 2 again.
    let ack = out.0.join("ack1.json");
    std::fs::write(&ack, said["acknowledgement"].to_string()).unwrap();
    succeeds(
        &unit.test_db.url,
        &unit.data_dir,
        &["exchange", "ack", ack.to_str().unwrap()],
    );
    unit.retitle(&finding.to_string(), "重发后又改过的标题")
        .await;
    let next = export(&unit, &office_id, &out, "b2-new.zip");
    let said = import(&office, &next).await;
    assert_eq!(said["sequence"], 2, "{said}");
    let here = local(&office, "finding", finding).await;
    let title = office
        .rows(&format!("SELECT title FROM finding WHERE id = {here}"))
        .await[0]
        .try_get::<String>("", "title")
        .unwrap();
    assert_eq!(title, "重发后又改过的标题");

    // A number the office acknowledged, or one never written, is not written again.
    for n in ["1", "9"] {
        let refused = rectrack(
            &unit.test_db.url,
            &unit.data_dir,
            &[
                "exchange",
                "export",
                "--to",
                &office_id,
                "--reissue",
                n,
                "-o",
                out.0.join(format!("no-{n}.zip")).to_str().unwrap(),
            ],
        );
        assert!(!refused.status.success());
        let stderr = String::from_utf8_lossy(&refused.stderr);
        assert!(stderr.contains(&format!("不能重发第 {n} 号")), "{stderr}");
    }
}
