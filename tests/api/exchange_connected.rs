//! Connected mode (issue 43): a unit's instance on SQLite, configured with the office as its
//! peer (`--exchange-peers`, a 1 s interval), pushes its bundles to the office's instance (the
//! engine under test) and pulls the office's, with nobody running a command; a receiver that
//! is down for a while gets the one bundle that waited for it, the same file, then the later
//! changes; the peer endpoints refuse unsigned, wrongly signed and stale requests by code,
//! before reading any body.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rectrack::exchange::connected::{BUNDLE_PATH, BUNDLES_PATH, sign_request};
use rectrack::exchange::identity::Identity;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::exchange::register;
use crate::helpers::{SECRET, TestApp, TestDb, TestUser, count, spawn_app_in, spawn_app_on};

/// A data directory of the test's own, removed by the app that uses it.
fn data_dir(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!(
        "rectrack_connected_{name}_{}_{}",
        std::process::id(),
        chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default()
    ))
}

/// The identity of the instance whose data directory is `dir` (made if there is none yet),
/// as `rectrack exchange identity --json` prints it.
fn identity_of(dir: &Path) -> (Identity, Value) {
    let identity = Identity::load_or_create(dir).unwrap();
    let printed = json!({"instanceId": identity.instance_id, "publicKey": identity.public_key()});
    (identity, printed)
}

/// Waits until `check` holds, at most `seconds`; `what` says what was awaited.
async fn until<F: AsyncFnMut() -> bool>(what: &str, seconds: u64, mut check: F) {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    while !check().await {
        assert!(Instant::now() < deadline, "waited {seconds} s for: {what}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn number(app: &TestApp, sql: &str) -> i64 {
    count(&app.db, sql).await
}

/// The unit's peer row for the office: (sent, acked) sequence.
async fn sequences(unit: &TestApp) -> (i64, i64) {
    (
        number(unit, "SELECT sent_sequence FROM exchange_peer").await,
        number(unit, "SELECT acked_sequence FROM exchange_peer").await,
    )
}

/// The sequence the office has merged from the unit (0 before any).
async fn received(office: &TestApp) -> i64 {
    number(
        office,
        "SELECT COALESCE(MAX(sequence), 0) FROM exchange_received",
    )
    .await
}

/// The office's title of the unit's finding `origin_id`, once merged.
async fn title_at_office(office: &TestApp, origin_id: i64) -> Option<String> {
    let rows = office
        .rows(&format!(
            "SELECT f.title AS title FROM finding f JOIN exchange_origin o ON o.local_id = f.id \
             WHERE o.kind = 'finding' AND o.origin_id = {origin_id}"
        ))
        .await;
    rows.first()
        .map(|r| r.try_get::<String>("", "title").unwrap())
}

/// The queued bundle files for `peer` in `unit`'s data directory.
fn queued(unit: &TestApp, peer: &str) -> Vec<PathBuf> {
    let dir = unit.data_dir.join("exchange").join("outgoing").join(peer);
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    files.sort();
    files
}

/// The unit on SQLite, configured with `office_id` at `office_url` and a 1 s interval.
async fn unit_for(office_id: &str, office_url: &str) -> TestApp {
    let peers = format!("{office_id}={office_url}");
    spawn_app_on(
        TestDb::sqlite().await,
        &[
            "--jwt-secret",
            SECRET,
            "--exchange-peers",
            &peers,
            "--exchange-interval",
            "1s",
        ],
    )
    .await
}

/// A signed request from `me` to the instance `to` at `app`.
async fn signed_get(app: &TestApp, me: &Identity, to: &str, path: &str) -> reqwest::Response {
    let mut request = app.client.get(app.url(path));
    for (name, value) in sign_request(me, "GET", path, to, chrono::Utc::now()) {
        request = request.header(name, value);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn a_unit_pushes_its_bundles_to_the_office_by_itself_round_after_round() {
    let office = spawn_app_on(TestDb::new().await, &["--jwt-secret", SECRET]).await;
    let (office_identity, office_printed) = identity_of(&office.data_dir);
    let unit = unit_for(&office_identity.instance_id, &office.address).await;
    let (unit_identity, unit_printed) = identity_of(&unit.data_dir);
    // The office knows the unit first; the unit's rounds start once it knows the office.
    register(&office, &unit_printed, "市委统战部").await;
    register(&unit, &office_printed, "市委巡察办").await;

    // The unit's records arrive at the office without anyone running a command.
    until(
        "the unit's first bundle merged at the office",
        60,
        async || received(&office).await >= 1 && sequences(&unit).await.1 >= 1,
    )
    .await;
    let findings = number(
        &office,
        "SELECT COUNT(*) FROM exchange_origin WHERE kind = 'finding'",
    )
    .await;
    assert!(findings >= 35, "the demo ledger arrived: {findings}");
    let first = unit.finding_id(1).await;
    let before = title_at_office(&office, first).await.unwrap();

    // Once delivered, no bundle is written about the last bundle: the unit stays quiet.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (sent, acked) = sequences(&unit).await;
    assert_eq!(sent, acked, "every bundle written was acknowledged");
    assert_eq!(received(&office).await, acked);
    assert!(queued(&unit, &office_identity.instance_id).is_empty());

    // The office has nothing for the unit: a pull answers 204 (the unit's rounds pull too).
    let pulled = signed_get(
        &office,
        &unit_identity,
        &office_identity.instance_id,
        BUNDLE_PATH,
    )
    .await;
    assert_eq!(pulled.status(), 204);

    // A change at the unit arrives in a later round, in the next bundle.
    unit.retitle(&first.to_string(), "联网报送后改过的标题")
        .await;
    until("the change arrived at the office", 60, async || {
        title_at_office(&office, first).await.as_deref() == Some("联网报送后改过的标题")
    })
    .await;
    assert_ne!(before, "联网报送后改过的标题");
    until(
        "the unit recorded the office's acknowledgement",
        30,
        async || {
            let (sent_now, acked_now) = sequences(&unit).await;
            sent_now == acked_now && acked_now > acked
        },
    )
    .await;
    let (sent_now, acked_now) = sequences(&unit).await;
    assert!(
        acked_now > acked,
        "acked_sequence advanced: {acked} → {acked_now}"
    );
    assert_eq!(sent_now, acked_now);
    assert_eq!(received(&office).await, acked_now);

    // Both exchange logs show it: at the unit, each bundle written and delivered, no failure;
    // at the office, each merged, by the unit's instance.
    let unit_lines = |direction: &str, result: &str| {
        format!(
            "SELECT COUNT(*) FROM exchange_log WHERE direction = '{direction}' AND result = '{result}'"
        )
    };
    assert_eq!(
        number(&unit, &unit_lines("export", "written")).await,
        sent_now
    );
    // The push's line is written once its acknowledgement is recorded.
    until("the unit logged every delivery", 30, async || {
        number(&unit, &unit_lines("push", "delivered")).await >= sent_now
    })
    .await;
    assert_eq!(
        number(&unit, &unit_lines("push", "delivered")).await,
        sent_now
    );
    assert_eq!(
        number(
            &unit,
            "SELECT COUNT(*) FROM exchange_log WHERE result = 'failed'"
        )
        .await,
        0
    );
    let by_unit = format!("exchange:{}", unit_identity.instance_id);
    assert_eq!(
        number(
            &office,
            &format!(
                "SELECT COUNT(*) FROM exchange_log WHERE direction = 'import' AND result = 'merged' \
                 AND actor_sub = '{by_unit}'"
            )
        )
        .await,
        sent_now
    );
    let delivered = unit
        .rows("SELECT detail, sequence FROM exchange_log WHERE direction = 'push' ORDER BY id")
        .await;
    let detail: String = delivered[0].try_get("", "detail").unwrap();
    assert!(detail.contains("已联网送达第 1 号报送包"), "{detail}");
}

#[tokio::test]
async fn a_bundle_waits_for_a_receiver_that_is_down_and_arrives_as_the_same_file() {
    // The office's address and identity exist before it runs.
    let port = {
        let reserved = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        reserved.local_addr().unwrap().port()
    };
    let office_dir = data_dir("office");
    let (office_identity, office_printed) = identity_of(&office_dir);
    let office_id = office_identity.instance_id.clone();
    let unit = unit_for(&office_id, &format!("http://127.0.0.1:{port}")).await;
    let (unit_identity, _) = identity_of(&unit.data_dir);
    register(&unit, &office_printed, "市委巡察办").await;

    // The office is down: the attempts fail and are logged, and one bundle waits, its number
    // taken once however often it is tried.
    let failed_pushes = "SELECT COUNT(*) FROM exchange_log WHERE direction = 'push' \
                         AND result = 'failed' AND code = 'PEER_UNREACHABLE' AND sequence = 1";
    until("three failed attempts", 60, async || {
        number(&unit, failed_pushes).await >= 3
    })
    .await;
    assert_eq!(
        sequences(&unit).await,
        (1, 0),
        "one number taken, none acknowledged"
    );
    let waiting = queued(&unit, &office_id);
    assert_eq!(waiting.len(), 1, "{waiting:?}");
    assert!(waiting[0].ends_with("1.zip"), "{waiting:?}");
    let sha = format!("{:x}", Sha256::digest(std::fs::read(&waiting[0]).unwrap()));
    let detail: String = unit
        .rows("SELECT detail FROM exchange_log WHERE result = 'failed' ORDER BY id")
        .await[0]
        .try_get("", "detail")
        .unwrap();
    assert!(detail.contains("未能联系上对端“市委巡察办”"), "{detail}");
    assert_eq!(
        number(
            &unit,
            "SELECT COUNT(*) FROM exchange_log WHERE direction = 'pull'"
        )
        .await,
        0,
        "nothing is pulled while the unit's own bundle waits"
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(sequences(&unit).await, (1, 0), "still one number taken");
    assert_eq!(
        number(
            &unit,
            "SELECT COUNT(*) FROM exchange_log WHERE direction = 'export'"
        )
        .await,
        1
    );

    // The office comes up on that address, knowing the unit.
    let bind = format!("127.0.0.1:{port}");
    let unit_key = unit_identity.public_key();
    let unit_id = unit_identity.instance_id.clone();
    let office = spawn_app_in(
        TestDb::new().await,
        office_dir,
        &["--jwt-secret", SECRET, "--bind", &bind],
        async |db| {
            let who = rectrack::domain::Acting::operator(
                "test",
                rectrack::config::TimeZone(chrono::FixedOffset::east_opt(8 * 3600).unwrap()),
            );
            rectrack::domain::integration::exchange::register(
                db,
                &who,
                rectrack::domain::integration::exchange::NewPeer {
                    unit_code: "ZJTZB".to_owned(),
                    instance_id: unit_id.clone(),
                    public_key: unit_key.clone(),
                    name: "市委统战部".to_owned(),
                },
            )
            .await
            .unwrap();
        },
    )
    .await;

    // The waiting bundle arrives: number 1, the very file that waited.
    until("the waiting bundle merged", 60, async || {
        received(&office).await >= 1
    })
    .await;
    let merged = office
        .rows("SELECT sequence, bundle_sha256 FROM exchange_log WHERE direction = 'import' AND result = 'merged' ORDER BY id")
        .await;
    assert_eq!(merged[0].try_get::<i32>("", "sequence").unwrap(), 1);
    assert_eq!(
        merged[0].try_get::<String>("", "bundle_sha256").unwrap(),
        sha,
        "the file written while the office was down, not a new one"
    );
    until(
        "the acknowledgement recorded and the file gone",
        30,
        async || sequences(&unit).await.1 >= 1 && queued(&unit, &office_id).is_empty(),
    )
    .await;

    // Then the later changes.
    let first = unit.finding_id(1).await;
    unit.retitle(&first.to_string(), "恢复联网后改过的标题")
        .await;
    until("the later change arrived", 60, async || {
        title_at_office(&office, first).await.as_deref() == Some("恢复联网后改过的标题")
    })
    .await;
    until("the unit recorded it", 30, async || {
        let (sent, acked) = sequences(&unit).await;
        sent == acked && acked >= 2
    })
    .await;
    assert_eq!(received(&office).await, sequences(&unit).await.1);
    assert!(
        number(
            &unit,
            "SELECT COUNT(*) FROM exchange_log WHERE direction = 'push' AND result = 'delivered' AND sequence = 1"
        )
        .await
            == 1
    );
}

/// Sends a request's head (with a body announced but never sent) over a plain socket and
/// reads the answer: a server that read the body would wait for it.
async fn head_only(
    app: &TestApp,
    method: &str,
    path: &str,
    headers: &[(&str, String)],
) -> (u16, Value) {
    let address = app.address.trim_start_matches("http://").to_owned();
    let mut socket = tokio::net::TcpStream::connect(&address).await.unwrap();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/zip\r\nContent-Length: 1000000000\r\n"
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    socket.write_all(head.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(20), async {
        let mut buffer = [0u8; 4096];
        loop {
            let n = socket.read(&mut buffer).await.unwrap_or(0);
            if n == 0 {
                break;
            }
            answer.extend_from_slice(&buffer[..n]);
            let text = String::from_utf8_lossy(&answer).into_owned();
            if let Some((head, body)) = text.split_once("\r\n\r\n") {
                let length = head
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase()
                            .strip_prefix("content-length:")
                            .map(|v| v.trim().parse::<usize>().unwrap())
                    })
                    .unwrap_or(0);
                if body.len() >= length {
                    break;
                }
            }
        }
    })
    .await;
    assert!(read.is_ok(), "the answer came without the body being sent");
    let text = String::from_utf8_lossy(&answer).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

#[tokio::test]
async fn the_peer_endpoints_refuse_unsigned_wrongly_signed_and_stale_requests_unread() {
    let office = spawn_app_on(TestDb::new().await, &["--jwt-secret", SECRET]).await;
    let (office_identity, _) = identity_of(&office.data_dir);
    let to = office_identity.instance_id.clone();
    let unit_dir = data_dir("unit");
    let (unit, unit_printed) = identity_of(&unit_dir);
    register(&office, &unit_printed, "市委统战部").await;
    let stranger_dir = data_dir("stranger");
    let (stranger, _) = identity_of(&stranger_dir);
    let now = chrono::Utc::now();
    let code = |body: &Value| {
        body["error"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };

    // No signature at all.
    let (status, body) = head_only(&office, "POST", BUNDLES_PATH, &[]).await;
    assert_eq!(
        (status, code(&body).as_str()),
        (401, "PEER_UNSIGNED"),
        "{body}"
    );
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("未签名")
    );

    // The unit's id, signed with another key.
    let mut wrong: Vec<(&str, String)> =
        sign_request(&stranger, "POST", BUNDLES_PATH, &to, now).into();
    wrong[0].1 = unit.instance_id.clone();
    let (status, body) = head_only(&office, "POST", BUNDLES_PATH, &wrong).await;
    assert_eq!(
        (status, code(&body).as_str()),
        (401, "PEER_BAD_SIGNATURE"),
        "{body}"
    );
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("市委统战部")
    );

    // The right key, ten minutes ago.
    let stale = sign_request(
        &unit,
        "POST",
        BUNDLES_PATH,
        &to,
        now - chrono::Duration::minutes(10),
    );
    let (status, body) = head_only(&office, "POST", BUNDLES_PATH, &stale).await;
    assert_eq!(
        (status, code(&body).as_str()),
        (401, "PEER_STALE_DATE"),
        "{body}"
    );

    // An instance that is not registered, signing with its own key.
    let unknown = sign_request(&stranger, "POST", BUNDLES_PATH, &to, now);
    let (status, body) = head_only(&office, "POST", BUNDLES_PATH, &unknown).await;
    assert_eq!(
        (status, code(&body).as_str()),
        (401, "PEER_UNKNOWN"),
        "{body}"
    );

    // A signature for another path, or for another addressee, is no signature here.
    let elsewhere = sign_request(&unit, "POST", "/api/v1/exchange/peer/acks", &to, now);
    let (status, body) = head_only(&office, "POST", BUNDLES_PATH, &elsewhere).await;
    assert_eq!(
        (status, code(&body).as_str()),
        (401, "PEER_BAD_SIGNATURE"),
        "{body}"
    );
    let other = sign_request(&unit, "POST", BUNDLES_PATH, &stranger.instance_id, now);
    let (status, body) = head_only(&office, "POST", BUNDLES_PATH, &other).await;
    assert_eq!(
        (status, code(&body).as_str()),
        (401, "PEER_BAD_SIGNATURE"),
        "{body}"
    );

    // The acknowledgements and the pull the same way.
    let (status, body) = head_only(&office, "POST", "/api/v1/exchange/peer/acks", &[]).await;
    assert_eq!(
        (status, code(&body).as_str()),
        (401, "PEER_UNSIGNED"),
        "{body}"
    );
    let pulled = signed_get(&office, &stranger, &to, BUNDLE_PATH).await;
    assert_eq!(pulled.status(), 401);
    let body: Value = pulled.json().await.unwrap();
    assert_eq!(code(&body), "PEER_UNKNOWN");
    let unsigned = office
        .client
        .get(office.url(BUNDLE_PATH))
        .send()
        .await
        .unwrap();
    assert_eq!(unsigned.status(), 401);

    // Nothing was received or written.
    let incoming = office.data_dir.join("exchange").join("incoming");
    let files = std::fs::read_dir(&incoming).map(|d| d.count()).unwrap_or(0);
    assert_eq!(files, 0);
    assert_eq!(
        number(&office, "SELECT COUNT(*) FROM exchange_log").await,
        0
    );
    assert_eq!(
        number(&office, "SELECT sent_sequence FROM exchange_peer").await,
        0
    );
    let _ = std::fs::remove_dir_all(unit_dir);
    let _ = std::fs::remove_dir_all(stranger_dir);
}

#[tokio::test]
async fn the_office_pulls_the_units_bundles_when_only_it_can_reach_the_other() {
    // The unit serves (it runs no rounds of its own) and knows the office.
    let unit = spawn_app_on(TestDb::sqlite().await, &["--jwt-secret", SECRET]).await;
    let (unit_identity, _) = identity_of(&unit.data_dir);
    let office_dir = data_dir("puller");
    let (office_identity, office_printed) = identity_of(&office_dir);
    register(&unit, &office_printed, "市委巡察办").await;

    // The office runs the rounds against the unit. It has nothing of its own for the unit:
    // the unit's peer row there starts acknowledged up to the end of the office's chain
    // (arranged before the office serves; until then past any event, so that no round finds
    // anything to push meanwhile).
    let peers = format!("{}={}", unit_identity.instance_id, unit.address);
    let (unit_id, unit_key) = (
        unit_identity.instance_id.clone(),
        unit_identity.public_key(),
    );
    let office = spawn_app_in(
        TestDb::new().await,
        office_dir,
        &[
            "--jwt-secret",
            SECRET,
            "--exchange-peers",
            &peers,
            "--exchange-interval",
            "1s",
        ],
        async |db| {
            use sea_orm::{ConnectionTrait, TransactionTrait};
            let who = rectrack::domain::Acting::operator(
                "test",
                rectrack::config::TimeZone(chrono::FixedOffset::east_opt(8 * 3600).unwrap()),
            );
            let txn = db.begin().await.unwrap();
            rectrack::domain::integration::exchange::register(
                &txn,
                &who,
                rectrack::domain::integration::exchange::NewPeer {
                    unit_code: "ZJTZB".to_owned(),
                    instance_id: unit_id.clone(),
                    public_key: unit_key.clone(),
                    name: "市委统战部".to_owned(),
                },
            )
            .await
            .unwrap();
            txn.execute_unprepared("UPDATE exchange_peer SET acked_event_id = 2147483647")
                .await
                .unwrap();
            txn.commit().await.unwrap();
            rectrack::audit::chain_pending(db).await.unwrap();
            db.execute_unprepared(
                "UPDATE exchange_peer SET acked_event_id = (SELECT last_event_id FROM audit_head)",
            )
            .await
            .unwrap();
        },
    )
    .await;

    // The office takes the unit's bundle, imports it and sends the acknowledgement back.
    until("the unit's bundle pulled and merged", 60, async || {
        received(&office).await >= 1
    })
    .await;
    until("the unit recorded the acknowledgement", 30, async || {
        sequences(&unit).await == (1, 1)
    })
    .await;
    // The file goes just after the acknowledgement is recorded, in the same round.
    until("the acknowledged file removed, not kept", 10, async || {
        queued(&unit, &office_identity.instance_id).is_empty()
    })
    .await;
    // The office logs the pull once the unit has answered its acknowledgement.
    let pull_lines = "SELECT COUNT(*) FROM exchange_log WHERE direction = 'pull'";
    until("the office logged the pull", 30, async || {
        number(&office, pull_lines).await >= 1
    })
    .await;
    let pulled = office
        .rows("SELECT sequence, actor_sub FROM exchange_log WHERE direction = 'pull' AND result = 'delivered'")
        .await;
    assert_eq!(pulled.len(), 1);
    assert_eq!(pulled[0].try_get::<i32>("", "sequence").unwrap(), 1);
    assert_eq!(
        number(
            &office,
            "SELECT COUNT(*) FROM exchange_log WHERE result = 'failed'"
        )
        .await,
        0
    );
    let written_by: String = unit
        .rows("SELECT actor_sub FROM exchange_log WHERE direction = 'export'")
        .await[0]
        .try_get("", "actor_sub")
        .unwrap();
    assert_eq!(
        written_by,
        format!("exchange:{}", office_identity.instance_id)
    );
    assert_eq!(
        number(&office, "SELECT sent_sequence FROM exchange_peer").await,
        0,
        "the office wrote nothing for the unit"
    );

    // A change at the unit is pulled in a later round.
    let first = unit.finding_id(1).await;
    unit.retitle(&first.to_string(), "巡察办取回的新标题").await;
    until("the change pulled", 60, async || {
        title_at_office(&office, first).await.as_deref() == Some("巡察办取回的新标题")
    })
    .await;
    until("acknowledged", 30, async || {
        sequences(&unit).await == (2, 2)
    })
    .await;
    assert_eq!(received(&office).await, 2);
}

#[tokio::test]
async fn a_refused_bundle_is_kept_for_a_person_and_sent_again_until_taken() {
    let office = spawn_app_on(TestDb::new().await, &["--jwt-secret", SECRET]).await;
    let (office_identity, office_printed) = identity_of(&office.data_dir);
    let office_id = office_identity.instance_id.clone();
    let unit = unit_for(&office_id, &office.address).await;
    let (_, unit_printed) = identity_of(&unit.data_dir);
    // The unit knows the office; the office does not know the unit yet.
    register(&unit, &office_printed, "市委巡察办").await;
    let refused = "SELECT COUNT(*) FROM exchange_log WHERE direction = 'push' \
                   AND result = 'failed' AND code = 'PEER_UNKNOWN' AND sequence = 1";
    until("two refusals", 60, async || {
        number(&unit, refused).await >= 2
    })
    .await;
    assert_eq!(sequences(&unit).await, (1, 0), "refused, not written anew");
    assert_eq!(queued(&unit, &office_id).len(), 1);
    let detail: String = unit
        .rows("SELECT detail FROM exchange_log WHERE code = 'PEER_UNKNOWN' ORDER BY id")
        .await[0]
        .try_get("", "detail")
        .unwrap();
    assert!(
        detail.contains("拒收第 1 号报送包") && detail.contains("需人工查看处理"),
        "{detail}"
    );
    assert_eq!(received(&office).await, 0);

    // A person registers the unit at the office: the kept bundle is taken in a later round.
    register(&office, &unit_printed, "市委统战部").await;
    until("the kept bundle taken", 60, async || {
        received(&office).await == 1 && sequences(&unit).await == (1, 1)
    })
    .await;
    // The file goes just after the acknowledgement is recorded, in the same round.
    until("the taken file removed from the queue", 10, async || {
        queued(&unit, &office_id).is_empty()
    })
    .await;
}

/// A finding of the unit submitted for close-out; answers its id.
async fn submitted(unit: &TestApp, title: &str) -> i64 {
    let id = unit.create_finding(title, "ZJTZB-BGS").await;
    unit.data(
        &TestUser::officer("ZJTZB-BGS"),
        "mutation($i: AddProgressEntryInput!) { addProgressEntry(input: $i) { id } }",
        json!({"i": {"findingId": id, "content": "已召开专题会议整改"}}),
    )
    .await;
    unit.data(
        &TestUser::manager("ZJTZB"),
        "mutation($id: ID!) { submitForCloseOut(findingId: $id, summary: \"整改完成\", noEvidenceReason: \"会议纪要另行报送\") { status } }",
        json!({"id": id}),
    )
    .await;
    id.parse().unwrap()
}

#[tokio::test]
async fn the_offices_decision_reaches_a_connected_unit_and_its_answer_comes_back() {
    let office = spawn_app_on(TestDb::new().await, &["--jwt-secret", SECRET]).await;
    let (office_identity, office_printed) = identity_of(&office.data_dir);
    let unit = unit_for(&office_identity.instance_id, &office.address).await;
    let (_, unit_printed) = identity_of(&unit.data_dir);
    register(&office, &unit_printed, "市委统战部").await;
    register(&unit, &office_printed, "市委巡察办").await;
    let finding = submitted(&unit, "联络工作台账不全").await;
    let status_at_office = async || {
        office
            .rows(&format!(
                "SELECT f.status AS status FROM finding f JOIN exchange_origin o ON o.local_id = f.id \
                 WHERE o.kind = 'finding' AND o.origin_id = {finding}"
            ))
            .await
            .first()
            .map(|r| r.try_get::<String>("", "status").unwrap())
    };
    until("the submitted finding at the office", 60, async || {
        status_at_office().await.as_deref() == Some("pending_review")
    })
    .await;
    let here = number(
        &office,
        &format!(
            "SELECT local_id FROM exchange_origin WHERE kind = 'finding' AND origin_id = {finding}"
        ),
    )
    .await;

    // The office approves; nobody runs a command: the unit pulls the decision, applies it,
    // answers it, and its next bundle brings the finding closed with the approval in its ledger.
    office
        .data(
            &TestUser::inspector(),
            "mutation($id: ID!) { approveCloseOut(findingId: $id, comment: \"同意销号\") { status } }",
            json!({"id": here.to_string()}),
        )
        .await;
    until("the decision applied at the unit", 60, async || {
        number(
            &unit,
            &format!("SELECT COUNT(*) FROM finding WHERE id = {finding} AND status = 'closed'"),
        )
        .await
            == 1
    })
    .await;
    until("the unit's answer recorded at the office", 60, async || {
        number(
            &office,
            "SELECT COUNT(*) FROM exchange_decision WHERE outcome = 'applied'",
        )
        .await
            == 1
    })
    .await;
    let by_office = format!("exchange:{}", office_identity.instance_id);
    until(
        "the approval in the office's copy of the ledger",
        60,
        async || {
            number(
                &office,
                &format!(
                    "SELECT COUNT(*) FROM progress_entry WHERE finding_id = {here} \
                 AND author_sub = '{by_office}'"
                ),
            )
            .await
                == 1
        },
    )
    .await;
    assert_eq!(status_at_office().await.as_deref(), Some("closed"));
    // Nothing more is pending either way: the decision is answered, the unit acknowledged.
    let pulls = number(
        &unit,
        "SELECT COUNT(*) FROM exchange_log WHERE direction = 'pull' AND result = 'delivered'",
    )
    .await;
    assert_eq!(pulls, 1, "one decision bundle pulled");
    assert_eq!(
        number(
            &unit,
            "SELECT COUNT(*) FROM exchange_applied WHERE result = 'applied'"
        )
        .await,
        1
    );
}
