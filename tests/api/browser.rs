//! Real browsers: Debian's Chromium, headless and cut off from the network, driven by
//! Playwright (`tests/browser/`). GraphiQL loads from rectrack alone and answers a query; a
//! page of an allowed origin may call the API and one of another origin is refused by the
//! browser. Without Chromium or the driver these tests say so and pass, unless
//! `RECTRACK_BROWSER_TESTS=required` (as `.ci/run` sets after installing both).

use std::path::PathBuf;
use std::process::Command;

use crate::helpers::{SECRET, TestUser, spawn_app_with};

fn chromium() -> String {
    std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".to_owned())
}

fn browser_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/browser")
}

/// Whether the browser and its driver are here; a refusal to run when they are required.
fn ready() -> bool {
    let present = std::path::Path::new(&chromium()).exists()
        && browser_dir().join("node_modules/playwright-core").exists();
    if !present {
        assert!(
            std::env::var("RECTRACK_BROWSER_TESTS").as_deref() != Ok("required"),
            "browser tests are required: install chromium and run `npm ci` in tests/browser"
        );
        eprintln!(
            "note: browser tests skipped (install chromium and run `npm ci` in tests/browser)"
        );
    }
    present
}

/// Runs a check script; its JSON report. (On a blocking thread: the server under test runs on
/// this test's own runtime and must keep answering.)
async fn run(script: &str, args: &[&str]) -> serde_json::Value {
    let mut command = Command::new("node");
    command
        .arg(browser_dir().join(script))
        .args(args)
        .env("CHROMIUM", chromium());
    let output = tokio::task::spawn_blocking(move || command.output().expect("node runs"))
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let report: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap_or_else(|_| {
        panic!(
            "{script}: {stdout}\n{}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    assert!(output.status.success(), "{script}: {report}");
    report
}

/// Where screenshots are kept (CI keeps the folder as the run's artifacts).
pub fn artifact(name: &str) -> String {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("browser-artifacts");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name).display().to_string()
}

/// Serves a blank page on a loopback port of its own; its origin.
async fn portal_page() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    let app = axum::Router::new()
        .fallback(|| async { axum::response::Html("<!doctype html><title>单位门户</title>") });
    tokio::spawn(async move { axum::serve(listener, app).await });
    origin
}

#[tokio::test]
async fn graphiql_runs_a_query_in_a_browser_with_no_network() {
    if !ready() {
        return;
    }
    // A development server: its own key, and GraphiQL's headers hold the admin's token.
    let app = spawn_app_with(&[]).await;
    let shot = artifact("graphiql.png");
    let report = run("graphiql.mjs", &[&app.address, &shot]).await;
    assert!(
        report["answer"].as_str().unwrap().contains("ADMIN"),
        "{report}"
    );
    assert_eq!(report["blocked"], serde_json::json!([]), "{report}");
    assert!(
        std::fs::metadata(&shot).unwrap().len() > 10_000,
        "a screenshot at {shot}"
    );
}

#[tokio::test]
async fn a_browser_lets_an_allowed_origin_call_the_api_and_refuses_another() {
    if !ready() {
        return;
    }
    // Two portal pages on loopback: other ports are other origins.
    let portal = portal_page().await;
    let elsewhere = portal_page().await;
    let app = spawn_app_with(&["--jwt-secret", SECRET, "--cors-origins", &portal]).await;
    let token = TestUser::admin();
    let report = run("cors.mjs", &[&app.address, &portal, &elsewhere, &token]).await;
    assert_eq!(report["allowed"]["status"], 200, "{report}");
    assert!(report["other"]["refused"].is_string(), "{report}");
}

#[tokio::test]
async fn a_published_bulletin_is_listed_read_and_printed_in_a_browser_with_no_network() {
    if !ready() {
        return;
    }
    let app = spawn_app_with(&["--jwt-secret", SECRET]).await;
    let id = app.published_bulletin(&TestUser::manager("ZJTZB")).await;
    let shot = artifact("bulletin.png");
    let report = run("bulletin.mjs", &[&app.address, &id, &shot]).await;
    assert_eq!(
        report["screen"]["title"], "中共湛江市委统一战线工作部关于巡察整改阶段性进展情况的通报",
        "{report}"
    );
    assert_eq!(
        report["screen"]["sections"],
        serde_json::json!([
            "一、以政治建设为统领，把巡察整改作为重大政治任务抓紧抓实",
            "二、对巡察反馈意见所指出问题的整改落实情况",
            "三、突出巡察引领，持之以恒巩固和转化巡察整改成果"
        ]),
        "{report}"
    );
    assert_eq!(report["print"]["nav"], "none", "{report}");
    assert!(
        std::fs::metadata(&shot).unwrap().len() > 10_000,
        "a screenshot at {shot}"
    );
}

#[tokio::test]
async fn the_feedback_form_is_posted_without_javascript_and_answers_with_a_receipt_code() {
    if !ready() {
        return;
    }
    let app = spawn_app_with(&[
        "--jwt-secret",
        SECRET,
        "--public-url",
        crate::public_feedback::PUBLIC_URL,
    ])
    .await;
    let manager = TestUser::manager("ZJTZB");
    let id = app.published_bulletin(&manager).await;
    let text = "表单提交：第一个问题<script>alert(1)</script>整改不到位";
    let report = run(
        "feedback.mjs",
        &[&app.address, &id, text, crate::public_feedback::CONTACT],
    )
    .await;
    assert_eq!(report["qr"], 1, "{report}");
    assert_eq!(report["posted"]["heading"], "反馈已收到", "{report}");
    assert_eq!(report["receipt"]["status"], "已受理，待答复", "{report}");
    let code = report["posted"]["code"].as_str().unwrap();
    // Stored as typed (as text), with the problem chosen and the contact, under that code.
    let rows = app
        .rows(&format!(
            "SELECT content, problem_no, contact, name FROM public_feedback WHERE receipt_code = '{code}'"
        ))
        .await;
    assert_eq!(rows.len(), 1, "{report}");
    let content: String = rows[0].try_get_by_index(0).unwrap();
    let problem: i32 = rows[0].try_get_by_index(1).unwrap();
    let contact: String = rows[0].try_get_by_index(2).unwrap();
    let name: String = rows[0].try_get_by_index(3).unwrap();
    assert_eq!(content, text);
    assert_eq!(problem, 1);
    assert_eq!(contact, crate::public_feedback::CONTACT);
    assert_eq!(name, "张三");
}

/// Screenshots an SVG drawing in headless Chromium (the picture itself, as people see it) into
/// the artifacts as `name`, and checks a PNG of the drawing's size came out. Without Chromium
/// this says so and passes, unless browser tests are required (as in CI).
pub async fn screenshot_svg(name: &str, svg: &str) {
    if !std::path::Path::new(&chromium()).exists() {
        assert!(
            std::env::var("RECTRACK_BROWSER_TESTS").as_deref() != Ok("required"),
            "browser tests are required: install chromium"
        );
        eprintln!("note: screenshot of {name} skipped (install chromium)");
        return;
    }
    let height: u32 = svg
        .split("height=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .and_then(|h| h.parse::<f64>().ok())
        .map_or(800, |h| h.ceil() as u32);
    let source = artifact(&format!("{name}.svg"));
    std::fs::write(&source, svg).unwrap();
    let target = artifact(name);
    let _ = std::fs::remove_file(&target);
    let mut command = Command::new(chromium());
    command.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--hide-scrollbars",
        &format!("--screenshot={target}"),
        &format!("--window-size=1200,{height}"),
        &format!("file://{source}"),
    ]);
    let output = tokio::task::spawn_blocking(move || command.output().expect("chromium runs"))
        .await
        .unwrap();
    let png = std::fs::read(&target)
        .unwrap_or_else(|_| panic!("no screenshot: {}", String::from_utf8_lossy(&output.stderr)));
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "a PNG");
    // The width and height stored in the PNG's header: the drawing's own size.
    let width = u32::from_be_bytes([png[16], png[17], png[18], png[19]]);
    assert_eq!(width, 1200);
}
