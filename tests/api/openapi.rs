//! The REST contract as tools read it: `/api/v1/openapi.json` is a valid OpenAPI 3.1 document
//! (every `$ref` resolves, the error body says what the API sends), and client generators make
//! a client with every route from it. The external tools (openapi-spec-validator and
//! openapi-python-client, found on PATH or at `$OPENAPI_TOOLS_BIN`) are run when present;
//! `RECTRACK_OPENAPI_TOOLS=required` (as `.ci/run` sets after installing them) makes them
//! required.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::helpers::{TestApp, TestUser, spawn_app};

async fn document(app: &TestApp) -> Value {
    let response = app
        .client
        .get(app.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

/// Every `$ref` in `value`, with the JSON pointer where it stands.
fn refs(value: &Value, at: &str, out: &mut Vec<(String, String)>) {
    match value {
        Value::Object(map) => {
            for (key, item) in map {
                if key == "$ref"
                    && let Some(target) = item.as_str()
                {
                    out.push((at.to_owned(), target.to_owned()));
                }
                refs(item, &format!("{at}/{key}"), out);
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                refs(item, &format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

#[tokio::test]
async fn every_reference_of_the_openapi_document_resolves() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    let mut found = Vec::new();
    refs(&doc, "", &mut found);
    assert!(found.len() > 20, "{found:?}");
    let unresolved: Vec<_> = found
        .iter()
        .filter(|(_, target)| {
            target
                .strip_prefix('#')
                .and_then(|pointer| doc.pointer(pointer))
                .is_none()
        })
        .collect();
    assert!(
        unresolved.is_empty(),
        "references to nothing: {unresolved:?}"
    );
    // The parameters' enumerations are named schemas a client generates as enums.
    for (name, values) in [
        ("LedgerFormat", vec!["xlsx", "csv", "json"]),
        ("LedgerLayout", vec!["machine", "printed"]),
        (
            "ReportFormat",
            vec!["json", "csv", "xlsx", "md", "html", "docx"],
        ),
        ("PlanFormat", vec!["docx"]),
        ("PageFormat", vec!["html", "md"]),
        ("IndexFormat", vec!["html", "json"]),
    ] {
        assert_eq!(
            doc["components"]["schemas"][name]["enum"],
            serde_json::json!(values),
            "{name}"
        );
    }
}

#[tokio::test]
async fn the_documented_error_body_holds_every_key_the_api_sends() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    let detail = &doc["components"]["schemas"]["ErrorDetail"];
    let properties = detail["properties"].as_object().unwrap();
    // A refused parameter names itself in `field`.
    let response = app
        .client
        .get(app.url("/api/v1/inspections?limit=0"))
        .bearer_auth(TestUser::admin())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["field"], "limit", "{body}");
    for key in body["error"].as_object().unwrap().keys() {
        assert!(properties.contains_key(key), "ErrorDetail lacks {key}");
    }
    assert_eq!(properties["field"]["type"], "string");
    let required: Vec<&str> = detail["required"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(required, ["code", "message"]);
}

/// A tool of the OpenAPI ecosystem: `$OPENAPI_TOOLS_BIN/name`, or `name` on PATH; `None` (and
/// a note) when it is absent and not required.
fn tool(name: &str) -> Option<PathBuf> {
    let path = match std::env::var("OPENAPI_TOOLS_BIN") {
        Ok(dir) if !dir.is_empty() => Path::new(&dir).join(name),
        _ => PathBuf::from(name),
    };
    let present = Command::new(&path)
        .arg("--help")
        .output()
        .is_ok_and(|o| o.status.success());
    if !present {
        assert!(
            std::env::var("RECTRACK_OPENAPI_TOOLS").as_deref() != Ok("required"),
            "{name} is required: pip install openapi-spec-validator openapi-python-client"
        );
        eprintln!("note: {name} not found; its check is skipped");
        return None;
    }
    Some(path)
}

/// Runs a command on a blocking thread; its output.
async fn run(mut command: Command) -> std::process::Output {
    tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap()
}

#[tokio::test]
async fn openapi_tools_validate_the_document_and_generate_a_client_with_every_download() {
    let validator = tool("openapi-spec-validator");
    let generator = tool("openapi-python-client");
    if validator.is_none() && generator.is_none() {
        return;
    }
    let app = spawn_app().await;
    let doc = document(&app).await;
    let dir = std::env::temp_dir().join(format!("rectrack_openapi_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("openapi.json");
    std::fs::write(&file, serde_json::to_vec_pretty(&doc).unwrap()).unwrap();

    if let Some(validator) = validator {
        let mut command = Command::new(validator);
        command.arg(&file);
        let output = run(command).await;
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success() && stdout.contains("OK"),
            "{stdout}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }

    if let Some(generator) = generator {
        let out = dir.join("client");
        let _ = std::fs::remove_dir_all(&out);
        let mut command = Command::new(&generator);
        command
            .args(["generate", "--meta", "none", "--path"])
            .arg(&file)
            .arg("--output-path")
            .arg(&out);
        // The generator formats with ruff, installed beside it.
        if let Some(bin) = generator.parent().filter(|p| !p.as_os_str().is_empty()) {
            let path = std::env::var("PATH").unwrap_or_default();
            command.env("PATH", format!("{}:{path}", bin.display()));
        }
        let output = run(command).await;
        let said = format!(
            "{}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(output.status.success(), "{said}");
        // It skips what it cannot read with a warning; nothing may be skipped.
        assert!(!said.contains("will not be generated"), "{said}");
        // One module per operation, the downloads included.
        for operation in doc["paths"]
            .as_object()
            .unwrap()
            .values()
            .flat_map(|item| item.as_object().unwrap().values())
        {
            let tag = operation["tags"][0].as_str().unwrap();
            let id = operation["operationId"].as_str().unwrap();
            let module = out.join("api").join(tag).join(format!("{id}.py"));
            assert!(
                module.exists(),
                "{} is not generated\n{said}",
                module.display()
            );
        }
        for (tag, id) in [
            ("ledger", "ledger_file"),
            ("reports", "report_file"),
            ("public", "public_bulletin"),
            ("public", "public_bulletins"),
        ] {
            assert!(
                out.join("api").join(tag).join(format!("{id}.py")).exists(),
                "{id}"
            );
        }
    }
    std::fs::remove_dir_all(&dir).ok();
}
