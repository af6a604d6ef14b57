//! Evidence: files uploaded with the GraphQL multipart request spec, stored once per content,
//! served only to callers who may read the finding; corrections of ledger entries.

use serde_json::{Value, json};

use crate::helpers::{SECRET, TestUser, count, error_code, spawn_app, spawn_app_with};

const ADD: &str = "mutation($input: AddProgressEntryInput!) { addProgressEntry(input: $input) { id evidence { id title kind sha256 sizeBytes mediaType downloadUrl } } }";
const PDF: &[u8] =
    b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";

fn entry(finding: &str, title: &str) -> Value {
    json!({"input": {"findingId": finding, "content": "上传会议纪要", "files": [{"title": title, "file": null}]}})
}

#[tokio::test]
async fn uploads_are_stored_once_and_served_only_to_callers_in_scope() {
    let app = spawn_app().await;
    let officer = TestUser::officer("ZJTZB-BGS");
    let f1 = app.finding_id(1).await.to_string();
    let (status, body) = app
        .upload(
            &officer,
            ADD,
            entry(&f1, "部务会会议纪要"),
            &[(
                "variables.input.files.0.file",
                "纪要.pdf",
                "application/pdf",
                PDF,
            )],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let evidence = body["data"]["addProgressEntry"]["evidence"][0].clone();
    assert_eq!(evidence["kind"], "FILE");
    assert_eq!(evidence["mediaType"], "application/pdf");
    assert_eq!(evidence["sizeBytes"], PDF.len());
    let sha = evidence["sha256"].as_str().unwrap().to_owned();
    assert_eq!(sha.len(), 64);
    assert_eq!(app.stored_files(), 1);

    // The same content again: a second evidence row, the same stored file.
    let (_, again) = app
        .upload(
            &officer,
            ADD,
            entry(&f1, "同一份纪要"),
            &[(
                "variables.input.files.0.file",
                "copy.pdf",
                "application/pdf",
                PDF,
            )],
        )
        .await;
    assert_eq!(
        again["data"]["addProgressEntry"]["evidence"][0]["sha256"],
        sha.as_str()
    );
    assert_eq!(app.stored_files(), 1);
    assert_eq!(
        count(
            &app.db,
            &format!("SELECT COUNT(*) FROM evidence WHERE sha256 = '{sha}'")
        )
        .await,
        2
    );

    // Download: the manager of the unit gets the bytes with their media type.
    let url = app.url(evidence["downloadUrl"].as_str().unwrap());
    let response = app
        .client
        .get(&url)
        .bearer_auth(TestUser::manager("ZJTZB"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/pdf");
    assert_eq!(response.headers()["x-content-type-options"], "nosniff");
    assert_eq!(response.bytes().await.unwrap().as_ref(), PDF);
    // A sibling section and another unit cannot; without a token, 401.
    let response = app
        .client
        .get(&url)
        .bearer_auth(TestUser::officer("ZJTZB-ZJK"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "NOT_FOUND");
    let response = app.client.get(&url).send().await.unwrap();
    assert_eq!(response.status(), 401);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "UNAUTHENTICATED");
}

#[tokio::test]
async fn refused_uploads_leave_no_row_and_no_file() {
    let app = spawn_app_with(&["--jwt-secret", SECRET, "--evidence-max-size", "1024"]).await;
    let officer = TestUser::officer("ZJTZB-BGS");
    let f1 = app.finding_id(1).await.to_string();
    let entries = count(&app.db, "SELECT COUNT(*) FROM progress_entry").await;

    let big = [PDF, &vec![b'x'; 4096]].concat();
    let (status, body) = app
        .upload(
            &officer,
            ADD,
            entry(&f1, "过大的文件"),
            &[(
                "variables.input.files.0.file",
                "big.pdf",
                "application/pdf",
                &big,
            )],
        )
        .await;
    assert_eq!(status, 413, "{body}");
    assert_eq!(error_code(&body), Some("PAYLOAD_TOO_LARGE"));

    let (_, body) = app
        .upload(
            &officer,
            ADD,
            entry(&f1, "网页"),
            &[(
                "variables.input.files.0.file",
                "x.html",
                "text/html",
                b"<script>1</script>",
            )],
        )
        .await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
    let (_, body) = app
        .upload(
            &officer,
            ADD,
            entry(&f1, "伪装的PDF"),
            &[(
                "variables.input.files.0.file",
                "fake.pdf",
                "application/pdf",
                b"MZ\x90\x00 not a pdf",
            )],
        )
        .await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("文件内容不是 application/pdf")
    );

    // A good file on an entry the caller may not write: the file is stored, then removed.
    let sibling = app.finding_id(2).await.to_string();
    let (_, body) = app
        .upload(
            &officer,
            ADD,
            entry(&sibling, "越权上传"),
            &[(
                "variables.input.files.0.file",
                "ok.pdf",
                "application/pdf",
                PDF,
            )],
        )
        .await;
    assert_eq!(error_code(&body), Some("NOT_FOUND"), "{body}");

    assert_eq!(
        count(&app.db, "SELECT COUNT(*) FROM progress_entry").await,
        entries
    );
    assert_eq!(count(&app.db, "SELECT COUNT(*) FROM evidence").await, 0);
    assert_eq!(app.stored_files(), 0, "no file left behind");
}

#[tokio::test]
async fn a_mistake_is_corrected_by_a_new_entry_that_points_at_it() {
    let app = spawn_app().await;
    let officer = TestUser::officer("ZJTZB-BGS");
    let f1 = app.finding_id(1).await.to_string();
    let first = app
        .data(
            &officer,
            ADD,
            json!({"input": {"findingId": f1, "content": "已于5月10日召开专题会议"}}),
        )
        .await["addProgressEntry"]["id"]
        .clone();
    let correction = app
        .data(&officer, "mutation($id: ID!) { correctProgressEntry(entryId: $id, content: \"会议日期应为5月12日\") { kind content corrects { id content } } }", json!({"id": first}))
        .await;
    assert_eq!(
        correction["correctProgressEntry"],
        json!({"kind": "CORRECTION", "content": "会议日期应为5月12日", "corrects": {"id": first, "content": "已于5月10日召开专题会议"}})
    );
    // Nothing in the API edits or deletes an entry: there is no such mutation.
    let (_, body) = app
        .gql(
            Some(&TestUser::admin()),
            "mutation($id: ID!) { deleteProgressEntry(id: $id) }",
            json!({"id": first}),
        )
        .await;
    assert_eq!(error_code(&body), Some("GRAPHQL_VALIDATION_FAILED"));
    // A sibling section cannot correct another section's ledger.
    let (_, body) = app
        .gql(
            Some(&TestUser::officer("ZJTZB-ZJK")),
            "mutation($id: ID!) { correctProgressEntry(entryId: $id, content: \"x\") { id } }",
            json!({"id": first}),
        )
        .await;
    assert_eq!(error_code(&body), Some("NOT_FOUND"));
}
