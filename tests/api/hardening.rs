//! The edges a deployment meets: pages that load only from rectrack's own origin, CORS by an
//! allow-list, anonymous endpoints rate-limited per client address, an API document naming
//! its owner, identity providers' role lists, and admins changing an account's role.

use serde_json::{Value, json};

use crate::helpers::{SECRET, TestUser, error_code, spawn_app, spawn_app_with};
use crate::jwt;

const LOGIN: &str =
    "mutation($u: String!) { login(username: $u, password: \"nothing right\") { accessToken } }";

#[tokio::test]
async fn pages_load_only_from_their_own_origin_and_may_not_be_framed() {
    let app = spawn_app().await;
    let manager = TestUser::manager("ZJTZB");
    let id = app.published_bulletin(&manager).await;
    for path in [
        "/graphql",
        "/api/v1/docs",
        &format!("/public/bulletins/{id}"),
    ] {
        let response = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        let h = response.headers();
        assert!(
            h["content-type"].to_str().unwrap().starts_with("text/html"),
            "{path}"
        );
        let policy = h["content-security-policy"].to_str().unwrap();
        assert!(policy.contains("default-src 'self'"), "{path}: {policy}");
        assert!(policy.contains("script-src 'self';"), "{path}: {policy}");
        assert!(
            policy.contains("frame-ancestors 'none'"),
            "{path}: {policy}"
        );
        assert_eq!(h["x-frame-options"], "DENY", "{path}");
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        // And nothing on the page comes from elsewhere.
        let page = response.text().await.unwrap();
        assert!(
            !page.contains("https://") || !page.contains("src=\"https://"),
            "{path}"
        );
        assert!(!page.contains("unpkg") && !page.contains("cdn"), "{path}");
    }
    // Data answers are never sniffed either.
    let response = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(response.headers()["x-content-type-options"], "nosniff");
}

#[tokio::test]
async fn anonymous_requests_are_rate_limited_per_client_address() {
    let app = spawn_app_with(&[
        "--jwt-secret",
        SECRET,
        "--rate-anonymous-burst",
        "5",
        "--rate-anonymous-per-minute",
        "20",
        "--trusted-proxies",
        "127.0.0.1",
    ])
    .await;
    // Eight rapid logins for eight different (unknown) names: password spraying.
    let mut codes = Vec::new();
    let mut retry_after = None;
    for n in 0..8 {
        let response = app
            .client
            .post(app.url("/graphql"))
            .header("X-Forwarded-For", "203.0.113.7")
            .json(&json!({"query": LOGIN, "variables": {"u": format!("user{n}")}}))
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        if status == 429 {
            retry_after = response
                .headers()
                .get("retry-after")
                .map(|v| v.to_str().unwrap().to_owned());
        }
        let body: Value = response.json().await.unwrap();
        codes.push((status, error_code(&body).unwrap_or("").to_owned()));
    }
    assert_eq!(
        codes[..5].iter().filter(|(s, _)| *s == 200).count(),
        5,
        "{codes:?}"
    );
    assert!(
        codes[5..]
            .iter()
            .all(|(s, c)| *s == 429 && c == "RATE_LIMITED"),
        "{codes:?}"
    );
    assert!(retry_after.is_some_and(|s| s.parse::<u64>().unwrap() >= 1));
    // Another client address behind the same trusted proxy has its own budget.
    let response = app
        .client
        .post(app.url("/graphql"))
        .header("X-Forwarded-For", "203.0.113.8")
        .json(&json!({"query": LOGIN, "variables": {"u": "someone"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    // Callers with a token are not held back.
    for _ in 0..10 {
        let (status, _) = app
            .gql(Some(&TestUser::admin()), "{ me { role } }", json!({}))
            .await;
        assert_eq!(status, 200);
    }
}

#[tokio::test]
async fn an_untrusted_peer_cannot_choose_its_address() {
    let app = spawn_app_with(&["--jwt-secret", SECRET, "--rate-anonymous-burst", "2"]).await;
    let mut statuses = Vec::new();
    for n in 0..4 {
        // Each claims another address; without a trusted proxy the peer's own counts.
        let response = app
            .client
            .post(app.url("/graphql"))
            .header("X-Forwarded-For", format!("198.51.100.{n}"))
            .json(&json!({"query": LOGIN, "variables": {"u": "x"}}))
            .send()
            .await
            .unwrap();
        statuses.push(response.status().as_u16());
    }
    assert_eq!(statuses, [200, 200, 429, 429]);
}

#[tokio::test]
async fn cross_origin_calls_need_an_allowed_origin() {
    let closed = spawn_app().await;
    let preflight = |app: &crate::helpers::TestApp, origin: &'static str| {
        app.client
            .request(reqwest::Method::OPTIONS, app.url("/graphql"))
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "POST")
            .header(
                "Access-Control-Request-Headers",
                "authorization,content-type",
            )
            .send()
    };
    let response = preflight(&closed, "http://localhost:5173").await.unwrap();
    assert!(
        response
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
    let open = spawn_app_with(&[
        "--jwt-secret",
        SECRET,
        "--cors-origins",
        "http://localhost:5173,https://portal.example.gov",
    ])
    .await;
    let response = preflight(&open, "http://localhost:5173").await.unwrap();
    assert_eq!(response.status(), 200);
    let h = response.headers();
    assert_eq!(h["access-control-allow-origin"], "http://localhost:5173");
    let allowed = h["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_lowercase();
    assert!(allowed.contains("authorization") && allowed.contains("content-type"));
    assert!(h.get("access-control-allow-credentials").is_none());
    let response = preflight(&open, "https://evil.example.com").await.unwrap();
    assert!(
        response
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
    // REST too.
    let response = open
        .client
        .get(open.url("/api/v1/status"))
        .header("Origin", "https://portal.example.gov")
        .bearer_auth(TestUser::admin())
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.headers()["access-control-allow-origin"],
        "https://portal.example.gov"
    );
    // A malformed origin is refused at start-up.
    let bad = crate::helpers::config(
        &crate::helpers::TestDb::new().await,
        &["--cors-origins", "portal.example.gov"],
    );
    assert!(bad.validate().is_err());
}

#[tokio::test]
async fn the_api_document_names_the_deploying_unit() {
    let app = spawn_app().await;
    let doc: Value = app
        .client
        .get(app.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["info"]["contact"], json!({"name": "rectrack"}));
    let text = doc.to_string();
    assert!(
        !text.contains("Kukkonen"),
        "a library's author is not the contact"
    );
    let app = spawn_app_with(&[
        "--jwt-secret",
        SECRET,
        "--contact-name",
        "湛江市委巡察办",
        "--contact-email",
        "xcb@example.gov.cn",
    ])
    .await;
    let doc: Value = app
        .client
        .get(app.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        doc["info"]["contact"],
        json!({"name": "湛江市委巡察办", "email": "xcb@example.gov.cn"})
    );
}

#[tokio::test]
async fn an_identity_providers_role_list_maps_to_rectracks_roles() {
    let app = spawn_app_with(&[
        "--jwt-secret",
        SECRET,
        "--jwt-role-claim",
        "realm_access.roles",
        "--jwt-role-map",
        "xcb-staff=inspector,tzb-office=manager",
    ])
    .await;
    let token = |roles: Value, dept: Option<&str>| {
        let mut claims =
            json!({"sub": "kc-user", "exp": jwt::now() + 600, "realm_access": {"roles": roles}});
        if let Some(d) = dept {
            claims["dept"] = json!(d);
        }
        jwt::hs256(SECRET.as_bytes(), &claims)
    };
    let me = "{ me { role } }";
    // The mapped role with the most rights wins; names rectrack does not know are ignored.
    let (_, body) = app
        .gql(
            Some(&token(
                json!(["offline_access", "tzb-office", "xcb-staff"]),
                Some("ZJSW-XCB"),
            )),
            me,
            json!({}),
        )
        .await;
    assert_eq!(body["data"]["me"]["role"], "INSPECTOR", "{body}");
    let (_, body) = app
        .gql(
            Some(&token(json!(["viewer", "offline_access"]), None)),
            me,
            json!({}),
        )
        .await;
    assert_eq!(body["data"]["me"]["role"], "VIEWER", "{body}");
    let (status, body) = app
        .gql(Some(&token(json!(["offline_access"]), None)), me, json!({}))
        .await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(error_code(&body), Some("UNAUTHENTICATED"));
}

#[tokio::test]
async fn admins_list_accounts_and_change_a_role_which_revokes_earlier_tokens() {
    let app = spawn_app().await;
    let admin = TestUser::admin();
    let create = "mutation($input: CreateAccountInput!) { createAccount(input: $input) { id } }";
    let id = app
        .data(&admin, create, json!({"input": {"username": "chen.liu", "password": "correct horse battery", "role": "OFFICER", "departmentCode": "ZJTZB-BGS"}}))
        .await["createAccount"]["id"]
        .clone();
    let login = "mutation { login(username: \"chen.liu\", password: \"correct horse battery\") { accessToken } }";
    let token = app.gql(None, login, json!({})).await.1["data"]["login"]["accessToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let list = "{ accounts(search: \"chen\") { totalCount edges { node { username role department { code } } } } }";
    assert_eq!(
        app.data(&admin, list, json!({})).await["accounts"]["edges"][0]["node"],
        json!({"username": "chen.liu", "role": "OFFICER", "department": {"code": "ZJTZB-BGS"}})
    );
    let (_, body) = app.gql(Some(&token), list, json!({})).await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"));
    let update = "mutation($i: UpdateAccountInput!) { updateAccount(input: $i) { role department { code } } }";
    let (_, body) = app
        .gql(
            Some(&admin),
            update,
            json!({"i": {"id": id, "role": "MANAGER", "departmentCode": null}}),
        )
        .await;
    assert_eq!(
        error_code(&body),
        Some("BAD_USER_INPUT"),
        "a manager needs a department"
    );
    let changed = app
        .data(
            &admin,
            update,
            json!({"i": {"id": id, "role": "MANAGER", "departmentCode": "ZJTZB"}}),
        )
        .await;
    assert_eq!(
        changed["updateAccount"],
        json!({"role": "MANAGER", "department": {"code": "ZJTZB"}})
    );
    let (status, _) = app.gql(Some(&token), "{ me { role } }", json!({})).await;
    assert_eq!(status, 401, "the officer's token is revoked");
    let audited = crate::helpers::count(
        &app.db,
        "SELECT COUNT(*) FROM audit_event WHERE action = 'account.set_role'",
    )
    .await;
    assert_eq!(audited, 1);
}
