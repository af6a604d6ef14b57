//! Imported ledger files are read within budgets: each hostile file is refused with
//! BAD_USER_INPUT naming the limit it passes, by a server running under an address-space cap
//! (a regression makes the server fail to allocate and the test fail, instead of exhausting
//! the machine), whose memory stays within a stated bound; and a large valid import leaves
//! other callers' writes working.

use std::io::{BufRead, BufReader, Cursor, Write};
use std::process::{Child, Command, Stdio};

use rust_xlsxwriter::Workbook;
use serde_json::{Value, json};

use crate::helpers::{
    SECRET, TestDb, TestUser, error_code, http_client, spawn_app_with, upload_at,
};

const IMPORT: &str = "mutation($i: ID!, $file: Upload!) { importLedger(inspectionId: $i, file: $file, dryRun: true) { dryRun findingsCreated problems { row column message } } }";
const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// The address space the capped server may take: its threads' stacks and the allocator's
/// reservations come to about 0.8 GB idle; any of the refused files read whole would need
/// from 1 GB (the shared string) to 24 GB (the far cell).
const ADDRESS_SPACE_CAP: u64 = 2 * 1024 * 1024 * 1024;

/// The bound on the server's resident memory over the whole hostile run (docs/SECURITY.md).
const PEAK_RSS_BOUND_KB: u64 = 400 * 1024;

/// The binary, started under `prlimit --as`, on a fresh database with the demo data.
struct CappedServer {
    child: Child,
    address: String,
    _db: TestDb,
}

impl CappedServer {
    async fn start() -> Self {
        let db = TestDb::new().await;
        static STARTED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let data_dir = std::env::temp_dir().join(format!(
            "rectrack_capped_{}_{}",
            std::process::id(),
            STARTED.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
        ));
        let mut child = Command::new("prlimit")
            .arg(format!("--as={ADDRESS_SPACE_CAP}"))
            .arg(env!("CARGO_BIN_EXE_rectrack"))
            .env("RECTRACK_DATABASE_URL", &db.url)
            .env("RECTRACK_BIND", "127.0.0.1:0")
            .env("RECTRACK_JWT_SECRET", SECRET)
            .env("RECTRACK_DATA_DIR", &data_dir)
            .env("RECTRACK_WARNING_ALERTS", "false")
            .env("RUST_LOG", "error")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("prlimit starts the binary");
        let stdout = child.stdout.take().expect("stdout is piped");
        let mut lines = BufReader::new(stdout).lines();
        let address = loop {
            let line = lines
                .next()
                .expect("the server prints its address")
                .expect("stdout is text");
            if let Some(rest) = line.strip_prefix("rectrack listening on ") {
                break rest.trim().to_owned();
            }
        };
        // The rest of stdout (dev tokens) is drained so that the server never blocks on it.
        std::thread::spawn(move || for _ in lines {});
        Self {
            child,
            address,
            _db: db,
        }
    }

    /// The most resident memory the server has held, in kB (`VmHWM`).
    fn peak_rss_kb(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .expect("the server is alive");
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmHWM in /proc/PID/status")
    }

    fn alive(&mut self) -> bool {
        self.child.try_wait().expect("wait works").is_none()
    }

    async fn import(&self, name: &str, media: &str, bytes: &[u8]) -> Value {
        upload(&self.address, name, media, bytes).await
    }
}

impl Drop for CappedServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `importLedger` as the demo unit's manager, into the demo inspection, as a dry run.
async fn upload(address: &str, name: &str, media: &str, bytes: &[u8]) -> Value {
    let (_, body) = upload_at(
        address,
        &TestUser::manager("ZJTZB"),
        IMPORT,
        json!({"i": "1", "file": null}),
        &[("variables.file", name, media, bytes)],
    )
    .await;
    body
}

/// A valid workbook whose header is A1:D1, with `extra` cells written after it.
fn workbook(sheets: usize, extra: &[(u32, u16, &str)]) -> Vec<u8> {
    let mut workbook = Workbook::new();
    for s in 0..sheets {
        let sheet = workbook.add_worksheet();
        if s == 0 {
            for (c, h) in ["序号", "问题", "整改措施", "责任科室"].iter().enumerate() {
                sheet.write_string(0, c as u16, *h).unwrap();
            }
            for (row, column, text) in extra {
                if let Ok(number) = text.parse::<f64>() {
                    sheet.write_number(*row, *column, number).unwrap();
                } else {
                    sheet.write_string(*row, *column, *text).unwrap();
                }
            }
        }
    }
    workbook.save_to_buffer().unwrap()
}

/// `base` with the part `name` replaced by what `write` streams into it (compressed as it is
/// written, so that a part inflating to a gigabyte never exists whole in the test either).
fn with_part(base: &[u8], name: &str, write: impl FnOnce(&mut dyn Write)) -> Vec<u8> {
    let mut source = zip::ZipArchive::new(Cursor::new(base)).unwrap();
    let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(1))
        .large_file(true);
    for i in 0..source.len() {
        let part = source.by_index_raw(i).unwrap();
        if part.name().unwrap() != name {
            out.raw_copy_file(part).unwrap();
        }
    }
    out.start_file(name, options).unwrap();
    write(&mut out);
    out.finish().unwrap().into_inner()
}

/// Writes `count` copies of `chunk`.
fn repeat(out: &mut dyn Write, chunk: &[u8], count: usize) {
    for _ in 0..count {
        out.write_all(chunk).unwrap();
    }
}

/// One shared string of 1 GiB beside the header's: a file of about a megabyte.
fn gigabyte_shared_string() -> Vec<u8> {
    with_part(&workbook(1, &[]), "xl/sharedStrings.xml", |out| {
        out.write_all(r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="5" uniqueCount="5"><si><t>序号</t></si><si><t>问题</t></si><si><t>整改措施</t></si><si><t>责任科室</t></si><si><t>"#.as_bytes()).unwrap();
        repeat(out, &[b'a'; 1 << 20], 1024);
        out.write_all(b"</t></si></sst>").unwrap();
    })
}

/// A sheet of rows that inflates to about 672 MB.
fn inflating_sheet(rows: usize, row_text: &str) -> Vec<u8> {
    with_part(&workbook(1, &[]), "xl/worksheets/sheet1.xml", |out| {
        out.write_all(br#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>"#).unwrap();
        for r in 1..=rows {
            write!(out, r#"<row r="{r}">{row_text}</row>"#).unwrap();
        }
        out.write_all(b"</sheetData></worksheet>").unwrap();
    })
}

fn assert_refused(body: &Value, limit: &str, what: &str) {
    assert_eq!(error_code(body), Some("BAD_USER_INPUT"), "{what}: {body}");
    let message = body["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains(limit),
        "{what}: the refusal names the limit {limit}: {message}"
    );
    assert_eq!(body["errors"][0]["extensions"]["field"], "file", "{what}");
}

#[tokio::test]
async fn hostile_files_are_refused_naming_their_limit_within_a_memory_bound() {
    let mut server = CappedServer::start().await;
    let inline = r#"<c t="inlineStr"><is><t>整改措施整改措施整改措施整改措施整改措施整改措施整改措施整改措施</t></is></c>"#
        .repeat(4);
    let mut csv_rows = String::from("序号,问题,整改措施,责任科室\n");
    csv_rows.push_str(&"1\n".repeat(1_000_000));
    let cases: Vec<(&str, &str, &str, Vec<u8>, &str)> = vec![
        (
            "one number at XFD1048576",
            "far.xlsx",
            XLSX,
            workbook(1, &[(1_048_575, 16_383, "1")]),
            "行数",
        ),
        (
            "one number at XFD20000",
            "far.xlsx",
            XLSX,
            workbook(1, &[(19_999, 16_383, "1")]),
            "行数",
        ),
        (
            "one shared string of 1 GiB",
            "string.xlsx",
            XLSX,
            gigabyte_shared_string(),
            "解压后大小",
        ),
        (
            "a workbook inflating to 672 MB",
            "bomb.xlsx",
            XLSX,
            inflating_sheet(672 * 1024 * 1024 / (inline.len() + 20), &inline),
            "解压后大小",
        ),
        (
            "a million rows of one number",
            "rows.xlsx",
            XLSX,
            inflating_sheet(1_000_000, "<c><v>1</v></c>"),
            "行数",
        ),
        (
            "a million rows of CSV",
            "rows.csv",
            "text/csv",
            csv_rows.into_bytes(),
            "行数",
        ),
        (
            "a million JSON objects",
            "rows.json",
            "application/json",
            format!("[{}{{}}]", "{},".repeat(1_000_000)).into_bytes(),
            "行数",
        ),
        (
            "a CSV line of eight million commas",
            "wide.csv",
            "text/csv",
            format!("序号,问题\n{}\n", ",".repeat(8_000_000)).into_bytes(),
            "列数",
        ),
        (
            "a JSON object of a million keys",
            "wide.json",
            "application/json",
            format!(
                "[{{{}\"last\": 1}}]",
                (0..1_000_000)
                    .map(|k| format!("\"k{k}\": 1, "))
                    .collect::<String>()
            )
            .into_bytes(),
            "列数",
        ),
        (
            "seventeen sheets",
            "sheets.xlsx",
            XLSX,
            workbook(17, &[]),
            "工作表数",
        ),
        (
            "a value in column 70",
            "wide.xlsx",
            XLSX,
            workbook(1, &[(1, 69, "宽")]),
            "列数",
        ),
        (
            "a cell of 20,001 characters",
            "long.xlsx",
            XLSX,
            workbook(1, &[(1, 1, &"长".repeat(20_001))]),
            "单元格字数",
        ),
        (
            "a CSV of 17 MB",
            "big.csv",
            "text/csv",
            format!("序号,问题\n1,{}\n", "a".repeat(17 * 1024 * 1024)).into_bytes(),
            "文件大小",
        ),
    ];
    for (what, name, media, bytes, limit) in &cases {
        let body = server.import(name, media, bytes).await;
        assert!(server.alive(), "the server survived {what}");
        assert_refused(&body, limit, what);
    }
    // Still serving, and within the bound.
    let health = http_client()
        .get(format!("{}/healthz", server.address))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    let peak = server.peak_rss_kb();
    eprintln!("the capped server's peak resident memory: {peak} kB");
    assert!(
        peak < PEAK_RSS_BOUND_KB,
        "peak resident memory {peak} kB, bound {PEAK_RSS_BOUND_KB} kB"
    );
    // A valid file still imports on the same server.
    let body = server
        .import(
            "ok.xlsx",
            XLSX,
            &workbook(
                1,
                &[
                    (1, 0, "1"),
                    (1, 1, "一个问题"),
                    (1, 2, "一项措施"),
                    (1, 3, "宗教科"),
                ],
            ),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body}");
    assert_eq!(body["data"]["importLedger"]["dryRun"], true, "{body}");
}

#[tokio::test]
async fn the_import_limits_are_settings() {
    let app = spawn_app_with(&[
        "--jwt-secret",
        crate::helpers::SECRET,
        "--import-max-rows",
        "3",
        "--import-max-cell-chars",
        "10",
    ])
    .await;
    let csv = |rows: usize, text: &str| {
        let mut csv = String::from("序号,问题,整改措施,责任科室\n");
        for r in 1..=rows {
            csv.push_str(&format!("{},{text}{r},措施,宗教科\n", 900 + r));
        }
        csv.into_bytes()
    };
    // The heading and two rows are three rows: within the limit.
    let body = upload(&app.address, "ok.csv", "text/csv", &csv(2, "问题")).await;
    assert!(body.get("errors").is_none(), "{body}");
    assert_eq!(body["data"]["importLedger"]["findingsCreated"], 2, "{body}");
    let body = upload(&app.address, "rows.csv", "text/csv", &csv(3, "问题")).await;
    assert_refused(&body, "行数", "four rows");
    let body = upload(
        &app.address,
        "long.csv",
        "text/csv",
        &csv(1, "十一个字的问题标题啊"),
    )
    .await;
    assert_refused(&body, "单元格字数", "eleven characters");
}

/// A ledger of `rows` findings with one measure each.
fn large_ledger(rows: usize) -> Vec<u8> {
    let mut csv = String::from("序号,问题,整改措施,责任科室,整改时限\n");
    for r in 1..=rows {
        csv.push_str(&format!(
            "{r},导入的问题{r},导入的措施{r},宗教科,2030-12-31\n"
        ));
    }
    csv.into_bytes()
}

#[tokio::test]
async fn other_callers_write_while_an_import_of_hundreds_of_findings_runs() {
    let app = crate::helpers::spawn_app().await;
    let inspection = app.create_inspection("大台账导入").await;
    let ledger = large_ledger(300);
    let importing = {
        let address = app.address.clone();
        let inspection = inspection.clone();
        tokio::spawn(async move { import_for_real(&address, &inspection, &ledger).await })
    };
    // Another manager's writes while the import runs, one every 100 ms.
    let mut written = 0;
    while !importing.is_finished() {
        // Panics (failing the test) unless the finding is created.
        app.create_finding(&format!("导入期间的写入 {written}"), "ZJTZB")
            .await;
        written += 1;
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let report = importing.await.unwrap();
    assert_eq!(report["applied"], true, "{report}");
    assert_eq!(report["findingsCreated"], 300, "{report}");
    assert!(written > 0);
}

async fn import_for_real(address: &str, inspection: &str, csv: &[u8]) -> Value {
    let (status, body) = upload_at(
        address,
        &TestUser::manager("ZJTZB"),
        "mutation($i: ID!, $file: Upload!) { importLedger(inspectionId: $i, file: $file) { applied findingsCreated problems { row column message } } }",
        json!({"i": inspection, "file": null}),
        &[("variables.file", "ledger.csv", "text/csv", csv)],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(body.get("errors").is_none(), "{body}");
    body["data"]["importLedger"].clone()
}
