//! schemathesis, the property-based API tester, against the served OpenAPI document: every
//! route with generated valid and invalid input, for a caller with a token and without, checking
//! status codes, response schemas and headers against the document. Needs `schemathesis` (on
//! PATH or at `$SCHEMATHESIS`); without it the test says so and passes, unless
//! `RECTRACK_SCHEMATHESIS=required` (as `.ci/run` sets after installing it).

use std::process::Command;

use crate::helpers::{TestUser, spawn_app};

#[tokio::test]
async fn schemathesis_finds_the_rest_api_as_its_document_says() {
    let binary = std::env::var("SCHEMATHESIS").unwrap_or_else(|_| "schemathesis".to_owned());
    let present = Command::new(&binary)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !present {
        assert!(
            std::env::var("RECTRACK_SCHEMATHESIS").as_deref() != Ok("required"),
            "schemathesis is required: pip install schemathesis"
        );
        eprintln!("note: schemathesis not found; its test is skipped");
        return;
    }
    let app = spawn_app().await;
    let config = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/schemathesis/schemathesis.toml"
    );
    let mut command = Command::new(&binary);
    command
        .args(["--config-file", config, "run"])
        .arg(app.url("/api/v1/openapi.json"))
        .args(["--checks", "all", "--max-examples", "40", "--seed", "1"])
        .arg("-H")
        .arg(format!("Authorization: Bearer {}", TestUser::admin()))
        .env("NO_COLOR", "1");
    let output = tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("passed"), "{stdout}");
}
