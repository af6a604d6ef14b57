//! Tokens rectrack issues: local accounts with login and revocation (their throttling is in
//! `logins`); `rectrack token` for scripts; development tokens; and production's refusal to
//! run without keys.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use serde_json::{Value, json};

use crate::helpers::{SECRET, TestApp, TestDb, TestUser, error_code, spawn_app_with};

const LOGIN: &str = "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { accessToken account { username role department { name code } } } }";
const ME: &str = "{ me { sub role department { code } } }";

async fn login(app: &TestApp, username: &str, password: &str) -> Value {
    app.gql(None, LOGIN, json!({"u": username, "p": password}))
        .await
        .1
}

async fn create_account(
    app: &TestApp,
    admin: &str,
    username: &str,
    role: &str,
    dept: Option<&str>,
) -> String {
    let query = "mutation($input: CreateAccountInput!) { createAccount(input: $input) { id username role } }";
    let input = json!({"input": {"username": username, "password": "correct horse battery", "role": role.to_uppercase(), "departmentCode": dept}});
    let (_, body) = app.gql(Some(admin), query, input).await;
    assert_eq!(
        body["data"]["createAccount"]["username"], username,
        "{body}"
    );
    body["data"]["createAccount"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn a_local_account_logs_in_and_its_token_acts_for_it() {
    let app = spawn_app_with(&["--jwt-secret", SECRET]).await;
    let admin = TestUser::admin();
    create_account(&app, &admin, "zhang.san", "manager", Some("ZJTZB")).await;

    let body = login(&app, "zhang.san", "correct horse battery").await;
    let account = &body["data"]["login"]["account"];
    // The login is answered to its request's caller, who is nobody yet: the account's own
    // department is named, nothing more (the rule of departments outside reach); the token acts
    // for the account from the next request on.
    assert_eq!(account["username"], "zhang.san");
    assert_eq!(account["role"], "MANAGER");
    assert_eq!(account["department"]["code"], Value::Null, "{account}");
    assert!(
        account["department"]["name"]
            .as_str()
            .is_some_and(|n| !n.is_empty()),
        "{account}"
    );
    let token = body["data"]["login"]["accessToken"].as_str().unwrap();
    let (status, me) = app.gql(Some(token), ME, json!({})).await;
    assert_eq!(status, 200);
    assert_eq!(
        me["data"]["me"],
        json!({"sub": "account:zhang.san", "role": "MANAGER", "department": {"code": "ZJTZB"}})
    );

    // Only admins manage accounts.
    let query = "mutation($input: CreateAccountInput!) { createAccount(input: $input) { id } }";
    let input = json!({"input": {"username": "li.si", "password": "correct horse battery", "role": "ADMIN"}});
    let (_, denied) = app.gql(Some(token), query, input.clone()).await;
    assert_eq!(error_code(&denied), Some("FORBIDDEN"), "{denied}");
    // Bad input: short password, a manager without a department, a taken name.
    let short = json!({"input": {"username": "li.si", "password": "short", "role": "VIEWER"}});
    let (_, body) = app.gql(Some(&admin), query, short).await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"));
    assert_eq!(body["errors"][0]["extensions"]["field"], "password");
    let homeless = json!({"input": {"username": "li.si", "password": "correct horse battery", "role": "OFFICER"}});
    let (_, body) = app.gql(Some(&admin), query, homeless).await;
    assert_eq!(
        body["errors"][0]["extensions"]["field"], "departmentCode",
        "{body}"
    );
    let taken = json!({"input": {"username": "zhang.san", "password": "correct horse battery", "role": "VIEWER"}});
    let (_, body) = app.gql(Some(&admin), query, taken).await;
    assert_eq!(error_code(&body), Some("CONFLICT"), "{body}");
}

#[tokio::test]
async fn disabling_an_account_or_changing_its_password_revokes_its_tokens() {
    let app = spawn_app_with(&["--jwt-secret", SECRET]).await;
    let admin = TestUser::admin();
    let id = create_account(&app, &admin, "zhao.liu", "viewer", None).await;
    let first =
        login(&app, "zhao.liu", "correct horse battery").await["data"]["login"]["accessToken"]
            .as_str()
            .unwrap()
            .to_owned();

    let change = "mutation { changePassword(currentPassword: \"correct horse battery\", newPassword: \"an even better one\") { username } }";
    let (_, body) = app.gql(Some(&first), change, json!({})).await;
    assert_eq!(
        body["data"]["changePassword"]["username"], "zhao.liu",
        "{body}"
    );
    let (status, body) = app.gql(Some(&first), ME, json!({})).await;
    assert_eq!(status, 401);
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("令牌已被撤销"),
        "{body}"
    );

    let second =
        login(&app, "zhao.liu", "an even better one").await["data"]["login"]["accessToken"]
            .as_str()
            .unwrap()
            .to_owned();
    assert_eq!(app.gql(Some(&second), ME, json!({})).await.0, 200);
    let disable = "mutation($id: ID!) { disableAccount(id: $id) { disabled } }";
    let (_, body) = app.gql(Some(&admin), disable, json!({"id": id})).await;
    assert_eq!(body["data"]["disableAccount"]["disabled"], true);
    let (status, body) = app.gql(Some(&second), ME, json!({})).await;
    assert_eq!(status, 401, "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("账号已停用"),
        "{body}"
    );
    let body = login(&app, "zhao.liu", "an even better one").await;
    assert_eq!(
        error_code(&body),
        Some("UNAUTHENTICATED"),
        "a disabled account cannot log in"
    );
    // Every change to the account is audited, without the password hash: its creation, the
    // two logins, the password change and the disabling.
    let audited = "SELECT COUNT(*) FROM audit_event WHERE entity_type = 'account'";
    assert_eq!(crate::helpers::count(&app.db, audited).await, 5);
    let logins = "SELECT COUNT(*) FROM audit_event WHERE action = 'account.login' AND actor_sub = 'account:zhao.liu'";
    assert_eq!(crate::helpers::count(&app.db, logins).await, 2);
    let hashes = "SELECT COUNT(*) FROM audit_event WHERE CAST(after AS TEXT) LIKE '%argon2%'";
    assert_eq!(crate::helpers::count(&app.db, hashes).await, 0);
}

#[tokio::test]
async fn rectrack_token_mints_tokens_the_server_accepts() {
    let app = spawn_app_with(&["--jwt-secret", SECRET]).await;
    let mint = |extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_rectrack"))
            .arg("token")
            .args(extra)
            .env("RECTRACK_JWT_SECRET", SECRET)
            .env("RECTRACK_DATABASE_URL", &app.test_db.url)
            // The command line's messages are Chinese unless the locale is English.
            .env_remove("LANG")
            .output()
            .expect("the binary runs")
    };
    let output = mint(&[
        "--sub",
        "sync-script",
        "--role",
        "officer",
        "--dept",
        "ZJTZB-QWK",
        "--ttl",
        "7d",
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let token = String::from_utf8(output.stdout).unwrap().trim().to_owned();
    let (_, body) = app.gql(Some(&token), ME, json!({})).await;
    assert_eq!(
        body["data"]["me"],
        json!({"sub": "sync-script", "role": "OFFICER", "department": {"code": "ZJTZB-QWK"}})
    );

    let too_long = mint(&["--sub", "s", "--role", "admin", "--ttl", "400d"]);
    assert!(!too_long.status.success());
    assert!(String::from_utf8_lossy(&too_long.stderr).contains("最长"));
    let no_dept = mint(&["--sub", "s", "--role", "manager"]);
    assert!(!no_dept.status.success());
    let unknown = mint(&["--sub", "s", "--role", "boss"]);
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("没有“boss”这一角色"));
    // A token for a department that does not exist would be refused at every use.
    let nope = mint(&["--sub", "s", "--role", "officer", "--dept", "NOPE"]);
    assert!(!nope.status.success());
    assert!(
        String::from_utf8_lossy(&nope.stderr).contains("没有代码为“NOPE”的在用部门"),
        "{}",
        String::from_utf8_lossy(&nope.stderr)
    );
    assert!(nope.stdout.is_empty(), "no token is printed");
}

#[tokio::test]
async fn development_prints_a_working_token_per_role_and_production_refuses_to_start_without_keys()
{
    let db = TestDb::new().await;
    let mut child = Command::new(env!("CARGO_BIN_EXE_rectrack"))
        .env("RECTRACK_DATABASE_URL", &db.url)
        .env("RECTRACK_BIND", "127.0.0.1:0")
        .env("RUST_LOG", "warn")
        .env_remove("RECTRACK_JWT_SECRET")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut address = String::new();
    let mut tokens = Vec::new();
    while let Some(Ok(line)) = lines.next() {
        if let Some(rest) = line.strip_prefix("rectrack listening on ") {
            address = rest.to_owned();
        }
        let done = line.is_empty() && !tokens.is_empty();
        if line.contains("Authorization: Bearer ") {
            tokens.push(line);
        }
        if done {
            break;
        }
    }
    let roles: Vec<&str> = tokens
        .iter()
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    assert_eq!(
        roles,
        ["admin", "inspector", "manager", "officer", "viewer"]
    );
    let officer = tokens[3].rsplit(' ').next().unwrap();
    let body: Value = crate::helpers::http_client()
        .post(format!("{address}/graphql"))
        .bearer_auth(officer)
        .json(&json!({"query": ME}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        body["data"]["me"],
        json!({"sub": "dev-officer", "role": "OFFICER", "department": {"code": "ZJTZB-BGS"}})
    );
    let _ = child.kill();
    let _ = child.wait();

    let production = Command::new(env!("CARGO_BIN_EXE_rectrack"))
        .env("RECTRACK_DATABASE_URL", &db.url)
        .env("RECTRACK_BIND", "127.0.0.1:0")
        .env("RECTRACK_ENV", "production")
        .env_remove("RECTRACK_JWT_SECRET")
        .output()
        .unwrap();
    assert!(!production.status.success());
    assert!(String::from_utf8_lossy(&production.stderr).contains("no token keys configured"));
}
