//! Backup and restore through the command line: a backup taken while writers run holds every
//! write acknowledged before it began, restores into an empty database of either kind (SQLite
//! to PostgreSQL and back when TEST_DATABASE_URL is set) with the same row counts and an audit
//! chain that verifies; a truncated or altered file, a database that is not empty and an
//! output path that cannot be written are each refused, naming the problem, exit code 1,
//! nothing written.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

use crate::helpers::{TestDb, TestUser, count, spawn_app};

const PDF: &[u8] =
    b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";

/// An empty folder of its own, removed afterwards.
struct Folder(PathBuf);

impl Folder {
    fn new(name: &str) -> Self {
        let path = std::env::temp_dir().join(format!(
            "rectrack_backup_{name}_{}_{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.subsec_nanos())
                .unwrap_or(0)
        ));
        std::fs::create_dir_all(&path).unwrap();
        Self(path)
    }

    fn file(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    fn files(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&self.0)
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }
}

impl Drop for Folder {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs the binary against `url` with `data` as its data directory, nothing else inherited.
fn rectrack(url: &str, data: &Path, args: &[&str]) -> Output {
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

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Runs a command that must succeed; its standard output.
fn succeeds(url: &str, data: &Path, args: &[&str]) -> String {
    let out = rectrack(url, data, args);
    assert!(
        out.status.success(),
        "{args:?} failed: {}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

/// Runs a command that must be refused with exit code 1; its standard error.
fn refused(url: &str, data: &Path, args: &[&str]) -> String {
    let out = rectrack(url, data, args);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{args:?} was not refused: {}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stderr)
}

fn manifest(file: &Path) -> Value {
    let mut archive = zip::ZipArchive::new(std::fs::File::open(file).unwrap()).unwrap();
    serde_json::from_reader(archive.by_name("manifest.json").unwrap()).unwrap()
}

/// Restores `file` into `target`, then checks its audit chain and that every table holds the
/// manifest's row count.
async fn restore_and_check(file: &Path, target: &TestDb, data: &Path) -> Value {
    let said = succeeds(&target.url, data, &["restore", file.to_str().unwrap()]);
    assert!(said.contains("已从"), "{said}");
    let verdict = succeeds(&target.url, data, &["audit", "verify"]);
    assert!(verdict.contains("audit trail intact"), "{verdict}");
    let manifest = manifest(file);
    let db = target.connect().await;
    for table in manifest["tables"].as_array().unwrap() {
        let name = table["name"].as_str().unwrap();
        let rows = count(&db, &format!("SELECT COUNT(*) FROM \"{name}\"")).await;
        assert_eq!(rows, table["rows"].as_i64().unwrap(), "rows of {name}");
    }
    let head = count(&db, "SELECT last_event_id FROM audit_head").await;
    assert_eq!(
        head,
        manifest["audit_head"]["last_event_id"].as_i64().unwrap()
    );
    assert!(head > 0);
    db.close().await.ok();
    manifest
}

#[tokio::test]
async fn a_backup_under_load_holds_every_write_acknowledged_before_it_and_restores_whole() {
    let app = spawn_app().await;
    let f1 = app.finding_id(1).await.to_string();
    let (status, body) = app
        .upload(
            &TestUser::officer("ZJTZB-BGS"),
            "mutation($input: AddProgressEntryInput!) { addProgressEntry(input: $input) { evidence { sha256 } } }",
            json!({"input": {"findingId": f1, "content": "上传会议纪要", "files": [{"title": "纪要", "file": null}]}}),
            &[("variables.input.files.0.file", "纪要.pdf", "application/pdf", PDF)],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let sha = body["data"]["addProgressEntry"]["evidence"][0]["sha256"]
        .as_str()
        .unwrap()
        .to_owned();
    // Writers create findings until told to stop; each id is noted once acknowledged.
    let app = Arc::new(app);
    let acknowledged = Arc::new(Mutex::new(Vec::<String>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..3)
        .map(|w| {
            let (app, acknowledged, stop) = (app.clone(), acknowledged.clone(), stop.clone());
            tokio::spawn(async move {
                let mut n = 0;
                while !stop.load(Ordering::SeqCst) {
                    let id = app
                        .create_finding(&format!("备份期间写入 {w}-{n}"), "ZJTZB-BGS")
                        .await;
                    acknowledged.lock().unwrap().push(id);
                    n += 1;
                }
                n
            })
        })
        .collect();
    while acknowledged.lock().unwrap().len() < 10 {
        tokio::task::yield_now().await;
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let folder = Folder::new("load");
    let file = folder.file("under-load.zip");
    let before: Vec<String> = acknowledged.lock().unwrap().clone();
    let (url, data, target) = (app.test_db.url.clone(), app.data_dir.clone(), file.clone());
    let backup = tokio::task::spawn_blocking(move || {
        rectrack(&url, &data, &["backup", "-o", target.to_str().unwrap()])
    });
    let out = backup.await.unwrap();
    stop.store(true, Ordering::SeqCst);
    let mut written = 0;
    for writer in writers {
        written += writer.await.unwrap();
    }
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("已备份到"),
        "{}",
        text(&out.stdout)
    );
    assert!(
        written > before.len(),
        "writers kept writing during the backup"
    );
    assert_eq!(
        folder.files(),
        vec!["under-load.zip"],
        "no temporary file left"
    );

    let target = TestDb::new().await;
    let restored_data = Folder::new("load-data");
    let manifest = restore_and_check(&file, &target, &restored_data.0).await;
    assert_eq!(
        manifest["database"],
        if app.test_db.is_postgres() {
            "postgres"
        } else {
            "sqlite"
        }
    );
    let db = target.connect().await;
    for id in &before {
        assert_eq!(
            count(
                &db,
                &format!("SELECT COUNT(*) FROM finding WHERE id = {id}")
            )
            .await,
            1,
            "finding {id}, acknowledged before the backup began, is in it"
        );
    }
    // The evidence file came with the rows that name it, under the same digest.
    let mut restored = Vec::new();
    std::fs::File::open(restored_data.0.join("evidence").join(&sha[..2]).join(&sha))
        .expect("the evidence file is restored")
        .read_to_end(&mut restored)
        .unwrap();
    assert_eq!(restored, PDF);
    // The restored database goes on: new rows take ids after the restored ones.
    let after = count(&db, "SELECT MAX(id) FROM finding").await;
    db.close().await.ok();
    let config = crate::helpers::config(&target, &["--jwt-secret", crate::helpers::SECRET]);
    let restored_app = rectrack::startup::Application::build(config).await.unwrap();
    let address = format!("http://{}", restored_app.address());
    tokio::spawn(restored_app.run_until_stopped());
    let (status, body) = crate::helpers::http_client()
        .post(format!("{address}/graphql"))
        .bearer_auth(TestUser::manager("ZJTZB"))
        .json(&json!({"query": "mutation($i: CreateFindingInput!) { createFinding(input: $i) { id } }", "variables": {"i": {"inspectionId": "1", "title": "恢复后新增", "rectificationType": "IMMEDIATE", "departmentCode": "ZJTZB-BGS"}}}))
        .send()
        .await
        .map(|r| (r.status().as_u16(), r))
        .unwrap();
    let body: Value = body.json().await.unwrap();
    assert_eq!(status, 200, "{body}");
    let new_id: i64 = body["data"]["createFinding"]["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(new_id, after + 1, "{body}");
}

#[tokio::test]
async fn a_sqlite_backup_restores_into_the_database_under_test_and_back() {
    let folder = Folder::new("across");
    let data = Folder::new("across-data");
    let source = TestDb::sqlite().await;
    succeeds(&source.url, &data.0, &["seed", "--demo"]);
    let first = folder.file("from-sqlite.zip");
    succeeds(
        &source.url,
        &data.0,
        &["backup", "-o", first.to_str().unwrap()],
    );
    assert_eq!(manifest(&first)["database"], "sqlite");

    // Into the database under test: PostgreSQL when TEST_DATABASE_URL is set.
    let middle = TestDb::new().await;
    let one = restore_and_check(&first, &middle, &data.0).await;
    let second = folder.file("from-middle.zip");
    succeeds(
        &middle.url,
        &data.0,
        &["backup", "-o", second.to_str().unwrap()],
    );

    // And back into SQLite.
    let back = TestDb::sqlite().await;
    let two = restore_and_check(&second, &back, &data.0).await;
    assert_eq!(one["audit_head"], two["audit_head"]);
    let rows = |m: &Value| -> Vec<(String, i64)> {
        m["tables"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| {
                (
                    t["name"].as_str().unwrap().to_owned(),
                    t["rows"].as_i64().unwrap(),
                )
            })
            .collect()
    };
    assert_eq!(rows(&one), rows(&two));
}

/// `file` rewritten with `member`'s content changed by `change` (the manifest kept as it was).
fn rewritten(file: &Path, out: &Path, member: &str, change: impl Fn(String) -> String) {
    let mut archive = zip::ZipArchive::new(std::fs::File::open(file).unwrap()).unwrap();
    let mut writer = zip::ZipWriter::new(std::fs::File::create(out).unwrap());
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).unwrap();
        let name = entry.name().unwrap().into_owned();
        let mut content = String::new();
        entry.read_to_string(&mut content).unwrap();
        if name == member {
            content = change(content);
        }
        writer
            .start_file(name, zip::write::SimpleFileOptions::default())
            .unwrap();
        writer.write_all(content.as_bytes()).unwrap();
    }
    writer.finish().unwrap();
}

/// Nothing was written to `target`: no SQLite file, no table on PostgreSQL.
async fn untouched(target: &TestDb) {
    if target.is_postgres() {
        let db = target.connect().await;
        let tables = count(
            &db,
            "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'public'",
        )
        .await;
        assert_eq!(tables, 0, "no table was made");
        db.close().await.ok();
    } else {
        let file = target
            .url
            .trim_start_matches("sqlite://")
            .split('?')
            .next()
            .unwrap()
            .to_owned();
        assert!(!Path::new(&file).exists(), "no database file was made");
    }
}

#[tokio::test]
async fn damaged_files_full_databases_and_unwritable_paths_are_refused_with_nothing_written() {
    let app = spawn_app().await;
    let folder = Folder::new("refusals");
    let good = folder.file("good.zip");
    succeeds(
        &app.test_db.url,
        &app.data_dir,
        &["backup", "-o", good.to_str().unwrap()],
    );
    let bytes = std::fs::read(&good).unwrap();

    // Truncated: the ZIP's directory at its end is gone.
    let truncated = folder.file("truncated.zip");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let target = TestDb::new().await;
    let data = Folder::new("refusals-data");
    let said = refused(
        &target.url,
        &data.0,
        &["restore", truncated.to_str().unwrap()],
    );
    assert!(
        said.contains("拒绝恢复") && said.contains("不是完整的备份文件"),
        "{said}"
    );
    untouched(&target).await;

    // A row altered, its member otherwise sound: the manifest's hash names it.
    let altered = folder.file("altered.zip");
    rewritten(&good, &altered, "tables/finding.jsonl", |content| {
        content.replacen("贯彻落实", "贯彻落寔", 1)
    });
    let said = refused(
        &target.url,
        &data.0,
        &["restore", altered.to_str().unwrap()],
    );
    assert!(
        said.contains("tables/finding.jsonl") && said.contains("SHA-256 与清单不符"),
        "{said}"
    );
    untouched(&target).await;

    // A line removed: the row count names it.
    let shorter = folder.file("shorter.zip");
    rewritten(&good, &shorter, "tables/measure.jsonl", |content| {
        content.split_once('\n').unwrap().1.to_owned()
    });
    let said = refused(
        &target.url,
        &data.0,
        &["restore", shorter.to_str().unwrap()],
    );
    assert!(said.contains("tables/measure.jsonl"), "{said}");
    untouched(&target).await;

    // A byte flipped anywhere in the file.
    let flipped = folder.file("flipped.zip");
    let mut damaged = bytes.clone();
    damaged[bytes.len() / 3] ^= 0x55;
    std::fs::write(&flipped, &damaged).unwrap();
    let said = refused(
        &target.url,
        &data.0,
        &["restore", flipped.to_str().unwrap()],
    );
    assert!(said.contains("拒绝恢复"), "{said}");
    untouched(&target).await;
    assert_eq!(
        std::fs::read_dir(&data.0).unwrap().count(),
        0,
        "no evidence file written"
    );

    // A database that holds data: refused, and unchanged.
    let findings = count(&app.db, "SELECT COUNT(*) FROM finding").await;
    let said = refused(
        &app.test_db.url,
        &app.data_dir,
        &["restore", good.to_str().unwrap()],
    );
    assert!(said.contains("目标数据库不是空的"), "{said}");
    assert_eq!(
        count(&app.db, "SELECT COUNT(*) FROM finding").await,
        findings
    );
    let out = rectrack(
        &app.test_db.url,
        &app.data_dir,
        &["--lang", "en", "restore", good.to_str().unwrap()],
    );
    assert!(
        text(&out.stderr).contains("the target database is not empty"),
        "{}",
        text(&out.stderr)
    );

    // Output paths that cannot be written: nothing is left behind.
    let before = folder.files();
    let missing = folder.file("no-such-folder").join("backup.zip");
    let said = refused(
        &app.test_db.url,
        &app.data_dir,
        &["backup", "-o", missing.to_str().unwrap()],
    );
    assert!(said.contains("无法写入备份文件"), "{said}");
    std::fs::create_dir(folder.file("a-folder")).unwrap();
    let said = refused(
        &app.test_db.url,
        &app.data_dir,
        &["backup", "-o", folder.file("a-folder").to_str().unwrap()],
    );
    assert!(said.contains("无法写入备份文件"), "{said}");
    let mut expected = before.clone();
    expected.push("a-folder".to_owned());
    expected.sort();
    assert_eq!(folder.files(), expected, "no partial file left");
    assert_eq!(
        std::fs::read_dir(folder.file("a-folder")).unwrap().count(),
        0
    );
}

#[tokio::test]
async fn the_server_takes_scheduled_backups_and_keeps_the_newest() {
    let folder = Folder::new("schedule");
    // Three older backups, the newest a week old: one is due at once, and two are kept.
    let week = std::time::Duration::from_secs(7 * 24 * 3600);
    for (i, name) in [
        "rectrack-20261101T000000Z.zip",
        "rectrack-20261102T000000Z.zip",
        "rectrack-20261103T000000Z.zip",
    ]
    .iter()
    .enumerate()
    {
        let file = std::fs::File::create(folder.file(name)).unwrap();
        file.set_modified(std::time::SystemTime::now() - week * (3 - i as u32))
            .unwrap();
    }
    std::fs::write(folder.file("notes.txt"), "not a backup").unwrap();
    let dir = folder.0.to_str().unwrap().to_owned();
    let app = crate::helpers::spawn_app_with(&[
        "--jwt-secret",
        crate::helpers::SECRET,
        "--backup-dir",
        &dir,
        "--backup-every",
        "1h",
        "--backup-keep",
        "2",
    ])
    .await;
    let taken = loop {
        let files = folder.files();
        if files.len() == 3 && !files.iter().any(|f| f.starts_with('.')) {
            break files;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    assert_eq!(taken[0], "notes.txt");
    assert_eq!(taken[1], "rectrack-20261103T000000Z.zip");
    assert!(
        taken[2].starts_with("rectrack-20") && taken[2] > taken[1],
        "{taken:?}"
    );
    // The new one is a whole backup of the running server.
    let target = TestDb::new().await;
    let data = Folder::new("schedule-data");
    restore_and_check(&folder.file(&taken[2]), &target, &data.0).await;
    drop(app);
}

/// A backup onto a disk that fills up: refused with exit code 1, the disk's state named, and
/// nothing left on it. The disk is a 64 KiB tmpfs mounted in a mount namespace of the command's
/// own (`unshare`, as an unprivileged user through a user namespace), gone when it ends; the
/// folder's listing is taken inside it.
#[tokio::test]
async fn a_backup_onto_a_full_disk_is_refused_and_leaves_nothing() {
    let app = spawn_app().await;
    let folder = Folder::new("full-disk");
    let disk = folder.file("disk");
    std::fs::create_dir(&disk).unwrap();
    let script = r#"mount -t tmpfs -o size=64k tmpfs "$DISK" || exit 99
"$BIN" backup -o "$DISK/backup.zip"
code=$?
echo "left:[$(ls -A "$DISK")]"
exit $code"#;
    let out = Command::new("unshare")
        .args(["--user", "--map-root-user", "--mount", "sh", "-c", script])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("BIN", env!("CARGO_BIN_EXE_rectrack"))
        .env("DISK", &disk)
        .env("RECTRACK_DATABASE_URL", &app.test_db.url)
        .env("RECTRACK_DATA_DIR", &app.data_dir)
        .env("RUST_LOG", "error")
        .output()
        .expect("unshare (util-linux) runs");
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_ne!(
        out.status.code(),
        Some(99),
        "no tmpfs could be mounted: {stderr}"
    );
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert!(stderr.contains("无法写入备份文件"), "{stderr}");
    assert!(
        stderr.contains("磁盘已满"),
        "the full disk is named: {stderr}"
    );
    assert!(
        stdout.contains("left:[]"),
        "nothing left on the disk: {stdout}"
    );
}
