//! Exchange between instances (issue 43): the instance's identity, peers, and the signed
//! bundles a unit's instance writes for the office, checked here as the office would check
//! them (signature, member hashes, the chain segment's links and hashes, the records carried).

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;
use std::process::{Command, Output};

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::helpers::{TestUser, count, error_code, spawn_app};

const REGISTER: &str = "mutation($unit: String!, $id: String!, $key: String!, $name: String!) { registerExchangePeer(unitCode: $unit, instanceId: $id, publicKey: $key, name: $name) { id instanceId publicKey name sentSequence unit { code } } }";
const PEERS: &str = "query($first: Int, $after: String) { exchangePeers(first: $first, after: $after) { edges { node { instanceId name } } pageInfo { hasNextPage endCursor } } }";
const LOG: &str = "{ exchangeLog(first: 10) { edges { node { direction sequence result bundleSha256 actor } } } }";
const ADD: &str = "mutation($input: AddProgressEntryInput!) { addProgressEntry(input: $input) { id evidence { sha256 } } }";
const PDF: &[u8] =
    b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";

/// Runs the binary against `url` with `data` as its data directory, nothing else inherited.
pub(crate) fn rectrack(url: &str, data: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rectrack"))
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("RECTRACK_DATABASE_URL", url)
        .env("RECTRACK_DATA_DIR", data)
        .env("RUST_LOG", "error")
        .output()
        .unwrap()
}

pub(crate) fn succeeds(url: &str, data: &Path, args: &[&str]) -> String {
    let out = rectrack(url, data, args);
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    assert!(
        out.status.success(),
        "{args:?} failed: {}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

/// The identity of the instance whose data directory is `data`.
pub(crate) fn identity(data: &Path) -> Value {
    let printed = succeeds("sqlite::memory:", data, &["exchange", "identity", "--json"]);
    serde_json::from_str(printed.trim()).unwrap()
}

/// A directory removed when the test ends.
pub(crate) struct Dir(pub(crate) std::path::PathBuf);

impl Dir {
    pub(crate) fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "rectrack_exchange_{name}_{}_{}",
            std::process::id(),
            Utc::now().timestamp_nanos_opt().unwrap_or_default()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A bundle as read back: its manifest, and its members by name.
struct Bundle {
    manifest_bytes: Vec<u8>,
    manifest: Value,
    members: HashMap<String, Vec<u8>>,
}

impl Bundle {
    fn read(bytes: &[u8]) -> Self {
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
        let mut members = HashMap::new();
        for i in 0..archive.len() {
            let mut file = archive.by_index(i).unwrap();
            let mut content = Vec::new();
            file.read_to_end(&mut content).unwrap();
            members.insert(file.name().unwrap().to_string(), content);
        }
        let manifest_bytes = members["manifest.json"].clone();
        let manifest = serde_json::from_slice(&manifest_bytes).unwrap();
        Self {
            manifest_bytes,
            manifest,
            members,
        }
    }

    fn lines(&self, name: &str) -> Vec<Value> {
        String::from_utf8(self.members[name].clone())
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// Checks everything the office checks before it reads a record: the signature by
    /// `public_key`, every member against the manifest, nothing unlisted, the chain's links
    /// and every unredacted event's hash.
    fn check(&self, public_key: &str) {
        let key = rectrack::domain::integration::signature::public_key(public_key).unwrap();
        let signature = String::from_utf8(self.members["manifest.sig"].clone()).unwrap();
        assert!(rectrack::domain::integration::signature::verify(
            &key,
            &self.manifest_bytes,
            &signature
        ));
        // The manifest is canonical JSON: what is signed is what any reader re-encodes.
        assert_eq!(
            rectrack::audit::canonical(&self.manifest).as_bytes(),
            &self.manifest_bytes[..]
        );
        let listed = self.manifest["members"].as_array().unwrap();
        assert_eq!(listed.len() + 2, self.members.len(), "unlisted members");
        for member in listed {
            let content = &self.members[member["name"].as_str().unwrap()];
            assert_eq!(member["bytes"], content.len());
            assert_eq!(member["sha256"], hex(&Sha256::digest(content)));
            if member["name"].as_str().unwrap().starts_with("blobs/") {
                assert_eq!(
                    member["name"].as_str().unwrap(),
                    format!("blobs/{}", hex(&Sha256::digest(content)))
                );
            } else {
                let rows = content.iter().filter(|b| **b == b'\n').count();
                assert_eq!(member["rows"], rows);
            }
        }
        let chain = &self.manifest["chain"];
        let mut prev = chain["afterHash"].as_str().unwrap().to_owned();
        let events = self.lines("audit/chain.jsonl");
        assert_eq!(chain["events"], events.len());
        for event in &events {
            assert_eq!(event["prevHash"], prev.as_str(), "a broken link at {event}");
            if event["redacted"] != true {
                let at: DateTime<Utc> = event["occurredAt"].as_str().unwrap().parse().unwrap();
                let fields = rectrack::audit::Fields {
                    occurred_at: &at,
                    actor_sub: event["actorSub"].as_str().unwrap(),
                    actor_role: event["actorRole"].as_str().unwrap(),
                    action: event["action"].as_str().unwrap(),
                    entity_type: event["entityType"].as_str().unwrap(),
                    entity_id: event["entityId"].as_str().unwrap(),
                    before: Some(&event["before"]).filter(|v| !v.is_null()),
                    after: Some(&event["after"]).filter(|v| !v.is_null()),
                    request_id: event["requestId"].as_str(),
                    department_id: event["departmentId"].as_i64().map(|d| d as i32),
                    prev_hash: &prev,
                };
                assert_eq!(
                    rectrack::audit::hash_of(&fields),
                    event["hash"].as_str().unwrap()
                );
            }
            prev = event["hash"].as_str().unwrap().to_owned();
        }
        assert_eq!(chain["lastHash"], prev.as_str());
    }

    fn rows(&self, table: &str) -> usize {
        self.lines(&format!("records/{table}.jsonl")).len()
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Registers `peer` (an identity) as the exchange peer for the demo unit; returns its id.
pub(crate) async fn register(app: &crate::helpers::TestApp, peer: &Value, name: &str) -> String {
    let data = app
        .data(
            &TestUser::admin(),
            REGISTER,
            json!({"unit": "ZJTZB", "id": peer["instanceId"], "key": peer["publicKey"], "name": name}),
        )
        .await;
    assert_eq!(data["registerExchangePeer"]["unit"]["code"], "ZJTZB");
    assert_eq!(data["registerExchangePeer"]["sentSequence"], 0);
    peer["instanceId"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn an_instance_makes_its_identity_at_first_start_and_keeps_it_beside_the_data() {
    let app = spawn_app().await;
    let file = app.data_dir.join("exchange").join("identity.json");
    assert!(file.exists(), "the server made its identity at start");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "only its owner reads the key");
    }
    let first = identity(&app.data_dir);
    assert_eq!(first["instanceId"].as_str().unwrap().len(), 32);
    assert!(
        rectrack::domain::integration::signature::public_key(first["publicKey"].as_str().unwrap())
            .is_some()
    );
    // Printed again, it is the same identity: made once.
    assert_eq!(identity(&app.data_dir), first);
    let text = succeeds("sqlite::memory:", &app.data_dir, &["exchange", "identity"]);
    assert!(
        text.contains(&format!(
            "实例标识：{}",
            first["instanceId"].as_str().unwrap()
        )),
        "{text}"
    );
    // Nothing of the key is in the database.
    let secret: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    let key = secret["secretKey"].as_str().unwrap();
    let mentions = count(
        &app.db,
        &format!(
            "SELECT COUNT(*) FROM audit_event WHERE CAST(after AS TEXT) LIKE '%{key}%' \
             OR CAST(before AS TEXT) LIKE '%{key}%'"
        ),
    )
    .await;
    assert_eq!(mentions, 0);
    // A different data directory is a different instance.
    let other = Dir::new("other");
    assert_ne!(identity(&other.0)["instanceId"], first["instanceId"]);
}

#[tokio::test]
async fn administrators_register_peers_which_are_listed_by_page() {
    let app = spawn_app().await;
    let a = Dir::new("a");
    let b = Dir::new("b");
    let (peer_a, peer_b) = (identity(&a.0), identity(&b.0));
    register(&app, &peer_a, "市委巡察办").await;
    register(&app, &peer_b, "市委巡察办（备用）").await;

    // The same instance again is a conflict; bad ids and keys are named, in Chinese.
    let vars =
        |id: &Value, key: &Value| json!({"unit": "ZJTZB", "id": id, "key": key, "name": "x"});
    let (_, body) = app
        .gql(
            Some(&TestUser::admin()),
            REGISTER,
            vars(&peer_a["instanceId"], &peer_a["publicKey"]),
        )
        .await;
    assert_eq!(error_code(&body), Some("CONFLICT"), "{body}");
    assert_eq!(body["errors"][0]["message"], "该实例已登记为交换对端");
    let (_, body) = app
        .gql(
            Some(&TestUser::admin()),
            REGISTER,
            vars(&json!("not-an-id"), &peer_a["publicKey"]),
        )
        .await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
    let (_, body) = app
        .gql(
            Some(&TestUser::admin()),
            REGISTER,
            vars(&json!("0123456789abcdef0123456789abcdef"), &json!("AAAA")),
        )
        .await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("Ed25519")
    );
    let (_, body) = app
        .gql(
            Some(&TestUser::admin()),
            REGISTER,
            json!({"unit": "NOPE", "id": "0123456789abcdef0123456789abcdef", "key": peer_a["publicKey"], "name": "x"}),
        )
        .await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");

    // Only administrators register and list them.
    for token in [TestUser::manager("ZJTZB"), TestUser::inspector()] {
        let (_, body) = app
            .gql(
                Some(&token),
                REGISTER,
                vars(
                    &json!("0123456789abcdef0123456789abcdef"),
                    &peer_a["publicKey"],
                ),
            )
            .await;
        assert_eq!(error_code(&body), Some("FORBIDDEN"), "{body}");
        let (_, body) = app.gql(Some(&token), PEERS, json!({"first": 1})).await;
        assert_eq!(error_code(&body), Some("FORBIDDEN"), "{body}");
    }
    assert_eq!(
        count(&app.db, "SELECT COUNT(*) FROM exchange_peer").await,
        2
    );

    // Newest first, a page at a time.
    let page = app
        .data(&TestUser::admin(), PEERS, json!({"first": 1}))
        .await;
    let edges = page["exchangePeers"]["edges"].as_array().unwrap();
    assert_eq!(edges.len(), 1);
    assert_eq!(edges[0]["node"]["instanceId"], peer_b["instanceId"]);
    assert_eq!(page["exchangePeers"]["pageInfo"]["hasNextPage"], true);
    let cursor = page["exchangePeers"]["pageInfo"]["endCursor"].clone();
    let next = app
        .data(
            &TestUser::admin(),
            PEERS,
            json!({"first": 1, "after": cursor}),
        )
        .await;
    assert_eq!(
        next["exchangePeers"]["edges"][0]["node"]["instanceId"],
        peer_a["instanceId"]
    );
    assert_eq!(next["exchangePeers"]["pageInfo"]["hasNextPage"], false);
    // The registration is audited.
    assert_eq!(
        count(
            &app.db,
            "SELECT COUNT(*) FROM audit_event WHERE action = 'exchange_peer.register'"
        )
        .await,
        2
    );
}

#[tokio::test]
async fn a_bundle_carries_the_unit_records_and_its_chain_signed_and_numbered() {
    let app = spawn_app().await;
    let office = Dir::new("office");
    let office_id = register(&app, &identity(&office.0), "市委巡察办").await;
    let unit = identity(&app.data_dir);

    // Evidence in the ledger, so that a blob travels.
    let finding = app.finding_id(1).await.to_string();
    let (status, body) = app
        .upload(
            &TestUser::officer("ZJTZB-BGS"),
            ADD,
            json!({"input": {"findingId": finding, "content": "上传会议纪要", "files": [{"title": "纪要", "file": null}]}}),
            &[("variables.input.files.0.file", "纪要.pdf", "application/pdf", PDF)],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let sha = body["data"]["addProgressEntry"]["evidence"][0]["sha256"]
        .as_str()
        .unwrap()
        .to_owned();

    // Written by the command line, as an operator on the unit's server would.
    let out = Dir::new("out");
    let file = out.0.join("bundle-1.zip");
    let said = succeeds(
        &app.test_db.url,
        &app.data_dir,
        &[
            "exchange",
            "export",
            "--to",
            &office_id,
            "-o",
            file.to_str().unwrap(),
        ],
    );
    assert!(said.contains("已生成第 1 号报送包"), "{said}");
    let bundle = Bundle::read(&std::fs::read(&file).unwrap());
    bundle.check(unit["publicKey"].as_str().unwrap());
    let m = &bundle.manifest;
    assert_eq!(m["format"], "rectrack-exchange");
    assert_eq!(m["version"], 1);
    assert_eq!(m["sequence"], 1);
    assert_eq!(m["to"], office_id.as_str());
    assert_eq!(m["from"]["instanceId"], unit["instanceId"]);
    assert_eq!(m["unit"]["code"], "ZJTZB");
    assert_eq!(m["chain"]["afterEventId"], 0);
    assert_eq!(m["chain"]["afterHash"], rectrack::audit::GENESIS);

    // The first bundle: the demo inspection whole, as the database holds it.
    let n = |sql: &str| {
        let sql = sql.to_owned();
        let db = &app.db;
        async move { count(db, &sql).await as usize }
    };
    assert_eq!(
        bundle.rows("inspection"),
        n("SELECT COUNT(*) FROM inspection").await
    );
    assert_eq!(
        bundle.rows("category"),
        n("SELECT COUNT(*) FROM category").await
    );
    assert_eq!(
        bundle.rows("finding"),
        n("SELECT COUNT(*) FROM finding").await
    );
    assert!(bundle.rows("finding") >= 35);
    assert_eq!(
        bundle.rows("measure"),
        n("SELECT COUNT(*) FROM measure").await
    );
    assert_eq!(
        bundle.rows("target"),
        n("SELECT COUNT(*) FROM target").await
    );
    assert_eq!(
        bundle.rows("regulation"),
        n("SELECT COUNT(*) FROM regulation").await
    );
    assert_eq!(
        bundle.rows("finding_regulation"),
        n("SELECT COUNT(*) FROM finding_regulation").await
    );
    assert_eq!(
        bundle.rows("progress_entry"),
        n("SELECT COUNT(*) FROM progress_entry").await
    );
    assert_eq!(
        bundle.rows("evidence"),
        n("SELECT COUNT(*) FROM evidence").await
    );
    assert_eq!(
        bundle.rows("report"),
        n("SELECT COUNT(*) FROM report WHERE status <> 'draft'").await
    );
    assert_eq!(bundle.members[&format!("blobs/{sha}")], PDF);
    // The chain: every event up to the export's start, the unit's in full.
    let events = bundle.lines("audit/chain.jsonl");
    let before = n("SELECT COUNT(*) FROM audit_event WHERE action <> 'exchange.export'").await;
    assert_eq!(events.len(), before);
    assert!(
        events
            .iter()
            .any(|e| e["action"] == "progress_entry.add" || e["entityType"] == "progress_entry")
    );

    // Again, through REST, by the unit's manager: the next number, and one more log line.
    let response = app
        .client
        .post(app.url(&format!("/api/v1/exchange/export?to={office_id}")))
        .bearer_auth(TestUser::manager("ZJTZB"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/zip");
    let second = Bundle::read(&response.bytes().await.unwrap());
    second.check(unit["publicKey"].as_str().unwrap());
    assert_eq!(second.manifest["sequence"], 2);
    // Nothing was acknowledged yet: it starts where the first did and reaches past it.
    assert_eq!(second.manifest["chain"]["afterEventId"], 0);
    let last = |b: &Bundle| b.manifest["chain"]["lastEventId"].as_i64().unwrap();
    assert!(last(&second) > last(&bundle));

    let log = app.data(&TestUser::admin(), LOG, json!({})).await;
    let lines = log["exchangeLog"]["edges"].as_array().unwrap();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["node"]["sequence"], 2);
    assert_eq!(lines[0]["node"]["direction"], "export");
    assert_eq!(lines[0]["node"]["result"], "written");
    assert_eq!(lines[0]["node"]["actor"], "test-manager");
    assert_eq!(lines[1]["node"]["actor"], "cli:exchange");
    let file_sha = hex(&Sha256::digest(std::fs::read(&file).unwrap()));
    assert_eq!(lines[1]["node"]["bundleSha256"], file_sha.as_str());
    // The unit's manager sees the unit's log too.
    let theirs = app.data(&TestUser::manager("ZJTZB"), LOG, json!({})).await;
    assert_eq!(theirs["exchangeLog"]["edges"].as_array().unwrap().len(), 2);
    assert_eq!(
        count(
            &app.db,
            "SELECT COUNT(*) FROM audit_event WHERE action = 'exchange.export'"
        )
        .await,
        2
    );
}

#[tokio::test]
async fn bundles_are_made_only_for_callers_who_may_send_the_unit_records() {
    let app = spawn_app().await;
    let office = Dir::new("office2");
    let office_id = register(&app, &identity(&office.0), "市委巡察办").await;
    let post = |token: String, to: String| {
        let request = app
            .client
            .post(app.url(&format!("/api/v1/exchange/export?to={to}")))
            .bearer_auth(token);
        async move {
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            (
                status,
                response.json::<Value>().await.unwrap_or(Value::Null),
            )
        }
    };
    // Another unit's manager: no such peer within reach.
    let (status, body) = post(TestUser::manager("ZJSW-XCB"), office_id.clone()).await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["error"]["code"], "NOT_FOUND");
    // Sections and viewers make no bundles.
    let (status, body) = post(TestUser::officer("ZJTZB-BGS"), office_id.clone()).await;
    assert_eq!(status, 403, "{body}");
    let (status, _) = post(TestUser::viewer(None), office_id.clone()).await;
    assert_eq!(status, 403);
    // An unknown peer.
    let (status, body) = post(TestUser::admin(), "0".repeat(32)).await;
    assert_eq!(status, 404, "{body}");
    // A peer of the unit is unknown on the command line too, with nothing written.
    let out = Dir::new("out2");
    let file = out.0.join("b.zip");
    let refused = rectrack(
        &app.test_db.url,
        &app.data_dir,
        &[
            "exchange",
            "export",
            "--to",
            &"f".repeat(32),
            "-o",
            file.to_str().unwrap(),
        ],
    );
    assert_eq!(refused.status.code(), Some(1));
    assert!(!file.exists());
    assert!(!out.0.join("b.zip.partial").exists());
    // None of it took a number or wrote a line.
    assert_eq!(count(&app.db, "SELECT COUNT(*) FROM exchange_log").await, 0);
    assert_eq!(
        count(&app.db, "SELECT sent_sequence FROM exchange_peer").await,
        0
    );
}

/// The bundle with members replaced (`change` answers the new content, or `None` to keep it).
pub(crate) fn rewritten(bytes: &[u8], change: impl Fn(&str, &[u8]) -> Option<Vec<u8>>) -> Vec<u8> {
    use std::io::Write;
    let read = Bundle::read(bytes);
    let mut names: Vec<&String> = read.members.keys().collect();
    names.sort();
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for name in names {
        let content = &read.members[name];
        out.start_file(name.as_str(), options).unwrap();
        out.write_all(&change(name, content).unwrap_or_else(|| content.clone()))
            .unwrap();
    }
    out.finish().unwrap().into_inner()
}

/// The manifest re-made over changed members and signed with `seed` (an Ed25519 key).
pub(crate) fn resigned(
    bytes: &[u8],
    seed: &[u8; 32],
    change: impl Fn(&str, &[u8]) -> Option<Vec<u8>>,
) -> Vec<u8> {
    use ed25519_dalek::Signer;
    let changed = rewritten(bytes, &change);
    let read = Bundle::read(&changed);
    let mut manifest = read.manifest.clone();
    for member in manifest["members"].as_array_mut().unwrap() {
        let content = &read.members[member["name"].as_str().unwrap()];
        member["sha256"] = json!(hex(&Sha256::digest(content)));
        member["bytes"] = json!(content.len());
    }
    if let Some(chain) = read.members.get("audit/chain.jsonl") {
        let last = String::from_utf8(chain.clone()).unwrap();
        let last: Value = serde_json::from_str(last.lines().last().unwrap()).unwrap();
        manifest["chain"]["lastHash"] = last["hash"].clone();
    }
    let text = rectrack::audit::canonical(&manifest);
    let key = ed25519_dalek::SigningKey::from_bytes(seed);
    use base64::Engine;
    let signature =
        base64::engine::general_purpose::STANDARD.encode(key.sign(text.as_bytes()).to_bytes());
    rewritten(&changed, |name, _| match name {
        "manifest.json" => Some(text.as_bytes().to_vec()),
        "manifest.sig" => Some(signature.as_bytes().to_vec()),
        _ => None,
    })
}

#[tokio::test]
async fn the_office_checks_a_bundle_and_refuses_tampered_foreign_and_hostile_ones_by_code() {
    let unit = spawn_app().await;
    let office = spawn_app().await;
    let unit_id = identity(&unit.data_dir);
    let office_id = identity(&office.data_dir);
    // Each registers the other.
    register(&unit, &office_id, "市委巡察办").await;
    register(&office, &unit_id, "市委统战部").await;
    let out = Dir::new("check");
    let file = out.0.join("b1.zip");
    succeeds(
        &unit.test_db.url,
        &unit.data_dir,
        &[
            "exchange",
            "export",
            "--to",
            office_id["instanceId"].as_str().unwrap(),
            "-o",
            file.to_str().unwrap(),
        ],
    );
    let bytes = std::fs::read(&file).unwrap();
    let check = |bytes: &[u8], at: &crate::helpers::TestApp| {
        let path = out.0.join(format!(
            "c{}.zip",
            Utc::now().timestamp_nanos_opt().unwrap_or_default()
        ));
        std::fs::write(&path, bytes).unwrap();
        rectrack(
            &at.test_db.url,
            &at.data_dir,
            &["exchange", "check", path.to_str().unwrap()],
        )
    };
    let refused_with = |output: Output, code: &str| {
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        assert_eq!(output.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains(code), "{code} expected: {stderr}");
        assert!(stderr.contains("未作任何处理"), "{stderr}");
        stderr
    };
    let fine = check(&bytes, &office);
    assert!(
        fine.status.success(),
        "{}",
        String::from_utf8_lossy(&fine.stderr)
    );
    assert!(
        String::from_utf8_lossy(&fine.stdout).contains("报送包检查通过：第 1 号，来自“市委统战部”")
    );

    // One byte changed in a record.
    let edited = rewritten(&bytes, |name, content| {
        (name == "records/finding.jsonl").then(|| {
            let mut c = content.to_vec();
            let at = c.iter().position(|b| *b == b'1').unwrap();
            c[at] = b'2';
            c
        })
    });
    refused_with(check(&edited, &office), "BUNDLE_TAMPERED");
    // A member added that the manifest does not list.
    let added = {
        let mut with = rewritten(&bytes, |_, _| None);
        with = {
            use std::io::Write;
            let mut w = zip::ZipWriter::new_append(std::io::Cursor::new(with)).unwrap();
            w.start_file(
                "records/extra.jsonl",
                zip::write::SimpleFileOptions::default(),
            )
            .unwrap();
            w.write_all(b"{}\n").unwrap();
            w.finish().unwrap().into_inner()
        };
        with
    };
    refused_with(check(&added, &office), "BUNDLE_TAMPERED");
    // Signed by a key that is not the registered one.
    let stranger = resigned(&bytes, &[7u8; 32], |_, _| None);
    refused_with(check(&stranger, &office), "BUNDLE_BAD_SIGNATURE");
    // For another office: checked at the unit itself.
    refused_with(check(&bytes, &unit), "BUNDLE_MISADDRESSED");
    // A version this build does not read.
    let future = rewritten(&bytes, |name, content| {
        (name == "manifest.json").then(|| {
            let mut m: Value = serde_json::from_slice(content).unwrap();
            m["version"] = json!(2);
            serde_json::to_vec(&m).unwrap()
        })
    });
    refused_with(check(&future, &office), "BUNDLE_UNSUPPORTED");
    // Truncated.
    refused_with(
        check(&bytes[..bytes.len() / 2], &office),
        "BUNDLE_UNREADABLE",
    );
    // A zip bomb: 64 MiB of zeros in a few kilobytes.
    let bomb = {
        use std::io::Write;
        let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        w.start_file(
            "records/finding.jsonl",
            zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Deflated),
        )
        .unwrap();
        let zeros = vec![0u8; 1 << 20];
        for _ in 0..64 {
            w.write_all(&zeros).unwrap();
        }
        w.finish().unwrap().into_inner()
    };
    refused_with(check(&bomb, &office), "PAYLOAD_TOO_LARGE");
    // The unit edits its own history and signs the result with its own key: the chain says so.
    let secret: Value = serde_json::from_slice(
        &std::fs::read(unit.data_dir.join("exchange").join("identity.json")).unwrap(),
    )
    .unwrap();
    use base64::Engine;
    let seed: [u8; 32] = base64::engine::general_purpose::STANDARD
        .decode(secret["secretKey"].as_str().unwrap())
        .unwrap()
        .try_into()
        .unwrap();
    let history = resigned(&bytes, &seed, |name, content| {
        (name == "audit/chain.jsonl").then(|| {
            let text = String::from_utf8(content.to_vec()).unwrap();
            let mut lines: Vec<Value> = text
                .lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect();
            let victim = lines
                .iter_mut()
                .find(|e| e["entityType"] == "finding")
                .unwrap();
            victim["actorSub"] = json!("someone-else");
            let mut out = String::new();
            for l in lines {
                out.push_str(&l.to_string());
                out.push('\n');
            }
            out.into_bytes()
        })
    });
    let said = refused_with(check(&history, &office), "BUNDLE_CHAIN_BROKEN");
    assert!(said.contains("审计记录链在第"), "{said}");
    // Nothing of any of it was written at the office.
    assert_eq!(
        count(&office.db, "SELECT COUNT(*) FROM exchange_log").await,
        0
    );
}
