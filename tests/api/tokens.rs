//! Token verification: valid tokens from an independent implementation are accepted; every
//! kind of bad token is refused with 401 and a reason, never downgraded to anonymous.

use serde_json::{Value, json};

use crate::helpers::{SECRET, TestApp, TestUser, error_code, spawn_app, spawn_app_with};
use crate::jwt::{self, hs256, hs256_with_header, keypair, path_str, signed};

const ME: &str = "{ me { sub role department { code } } }";

fn claims(role: &str, dept: Option<&str>) -> Value {
    let mut c =
        json!({"sub": "script-1", "role": role, "exp": jwt::now() + 600, "iat": jwt::now()});
    if let Some(dept) = dept {
        c["dept"] = json!(dept);
    }
    c
}

/// Asserts the token is refused with 401, UNAUTHENTICATED and a message containing `reason`
/// (in English, which the request asks for).
async fn refused(app: &TestApp, token: &str, reason: &str) {
    let (status, body) = app.gql_in("en", Some(token), ME, json!({})).await;
    assert_eq!(status, 401, "expected 401 for {reason}: {body}");
    assert_eq!(error_code(&body), Some("UNAUTHENTICATED"), "{body}");
    let message = body["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains(reason),
        "message {message:?} should say {reason:?}"
    );
    assert!(body.get("data").is_none(), "nothing runs: {body}");
}

async fn accepted(app: &TestApp, token: &str) -> Value {
    let (status, body) = app.gql(Some(token), ME, json!({})).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.get("errors").is_none(), "{body}");
    body["data"]["me"].clone()
}

#[tokio::test]
async fn hs256_tokens_signed_by_openssl_are_accepted() {
    let app = spawn_app().await;
    let me = accepted(
        &app,
        &hs256(SECRET.as_bytes(), &claims("manager", Some("ZJTZB"))),
    )
    .await;
    assert_eq!(
        me,
        json!({"sub": "script-1", "role": "MANAGER", "department": {"code": "ZJTZB"}})
    );
}

#[tokio::test]
async fn no_token_is_anonymous_and_a_bad_scheme_is_refused() {
    let app = spawn_app().await;
    let (status, body) = app.gql(None, ME, json!({})).await;
    assert_eq!(status, 200);
    assert_eq!(body["data"]["me"], Value::Null);

    let response = app
        .client
        .post(app.url("/graphql"))
        .header("Authorization", "Basic dXNlcjpwYXNz")
        .json(&json!({"query": ME}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(
        response.headers()["www-authenticate"],
        "Bearer error=\"invalid_token\""
    );
}

#[tokio::test]
async fn forged_and_invalid_tokens_are_refused_with_a_reason() {
    let app = spawn_app_with(&["--jwt-secret", SECRET, "--jwt-max-lifetime", "30d"]).await;
    let secret = SECRET.as_bytes();
    let now = jwt::now();

    // alg none, in any casing, with or without a signature.
    for alg in ["none", "None", "NONE", "nOnE"] {
        let header = json!({"alg": alg, "typ": "JWT"});
        let unsigned = format!("{}.", jwt::signing_input(&header, &claims("admin", None)));
        refused(&app, &unsigned, "algorithm \"none\" is never accepted").await;
    }

    // The payload edited after signing: an officer makes itself admin.
    let token = hs256(secret, &claims("officer", Some("ZJTZB-BGS")));
    let parts: Vec<&str> = token.split('.').collect();
    let forged_payload = jwt::b64url(claims("admin", None).to_string().as_bytes());
    refused(
        &app,
        &format!("{}.{}.{}", parts[0], forged_payload, parts[2]),
        "bad signature",
    )
    .await;

    // Signed with another secret.
    refused(
        &app,
        &hs256(
            b"another-secret-another-secret-123456",
            &claims("admin", None),
        ),
        "bad signature",
    )
    .await;

    // Times.
    let mut expired = claims("admin", None);
    expired["exp"] = json!(now - 3600);
    refused(&app, &hs256(secret, &expired), "expired").await;
    let mut early = claims("admin", None);
    early["nbf"] = json!(now + 3600);
    refused(&app, &hs256(secret, &early), "not valid yet").await;
    let mut no_exp = claims("admin", None);
    no_exp.as_object_mut().unwrap().remove("exp");
    refused(&app, &hs256(secret, &no_exp), "missing claim exp").await;
    let mut text_exp = claims("admin", None);
    text_exp["exp"] = json!((now + 600).to_string());
    refused(&app, &hs256(secret, &text_exp), "exp").await;
    let mut forever = claims("admin", None);
    forever["exp"] = json!(now + 400 * 24 * 3600);
    refused(&app, &hs256(secret, &forever), "expires too far ahead").await;

    // Claims.
    refused(
        &app,
        &hs256(secret, &claims("superuser", None)),
        "unknown role 'superuser'",
    )
    .await;
    refused(
        &app,
        &hs256(secret, &claims("officer", None)),
        "must name its department",
    )
    .await;
    refused(
        &app,
        &hs256(secret, &claims("manager", None)),
        "must name its department",
    )
    .await;
    refused(
        &app,
        &hs256(secret, &claims("manager", Some("NO-SUCH-DEPT"))),
        "unknown department 'NO-SUCH-DEPT'",
    )
    .await;
    let mut no_sub = claims("admin", None);
    no_sub.as_object_mut().unwrap().remove("sub");
    refused(&app, &hs256(secret, &no_sub), "missing claim sub").await;

    // Garbage.
    refused(&app, "not-a-token", "malformed token").await;
    refused(
        &app,
        &hs256_with_header(secret, &json!({"alg": "HS512"}), &claims("admin", None)),
        "not accepted",
    )
    .await;
}

#[tokio::test]
async fn issuer_and_audience_must_be_present_and_equal_when_configured() {
    let app = spawn_app_with(&[
        "--jwt-secret",
        SECRET,
        "--jwt-issuer",
        "https://sso.example.gov",
        "--jwt-audience",
        "rectrack",
    ])
    .await;
    let secret = SECRET.as_bytes();
    let mut good = claims("viewer", None);
    good["iss"] = json!("https://sso.example.gov");
    good["aud"] = json!("rectrack");
    accepted(&app, &hs256(secret, &good)).await;

    let mut wrong_aud = good.clone();
    wrong_aud["aud"] = json!("someone-else");
    refused(&app, &hs256(secret, &wrong_aud), "wrong audience").await;
    let mut wrong_iss = good.clone();
    wrong_iss["iss"] = json!("https://evil.example");
    refused(&app, &hs256(secret, &wrong_iss), "wrong issuer").await;
    let mut no_iss = good.clone();
    no_iss.as_object_mut().unwrap().remove("iss");
    refused(&app, &hs256(secret, &no_iss), "missing claim iss").await;
    let mut no_aud = good.clone();
    no_aud.as_object_mut().unwrap().remove("aud");
    refused(&app, &hs256(secret, &no_aud), "missing claim aud").await;
}

#[tokio::test]
async fn public_keys_verify_rs256_es256_and_eddsa_and_refuse_hs256_made_with_the_public_key() {
    let rsa = keypair("rsa", "rsa-key");
    let ec = keypair("ec", "ec-key");
    let ed = keypair("ed25519", "ed-key");
    let keys = format!(
        "{},{},{}",
        path_str(&rsa.public),
        path_str(&ec.public),
        path_str(&ed.public)
    );
    let app = spawn_app_with(&["--jwt-public-key-files", &keys]).await;

    for pair in [&rsa, &ec, &ed] {
        let me = accepted(&app, &signed(pair, None, &claims("inspector", None))).await;
        assert_eq!(me["role"], "INSPECTOR", "{}", pair.alg);
    }
    // With the right kid, and with a kid nobody has.
    accepted(
        &app,
        &signed(&rsa, Some("rsa-key"), &claims("viewer", None)),
    )
    .await;
    refused(
        &app,
        &signed(&rsa, Some("unknown-kid"), &claims("viewer", None)),
        "no key with id 'unknown-kid'",
    )
    .await;
    // A token signed with the EC key but claiming RS256 for it: the EC key accepts only ES256.
    let lying = jwt::sign(
        &ec,
        &json!({"alg": "RS256", "kid": "ec-key"}),
        &claims("admin", None),
    );
    refused(
        &app,
        &lying,
        "no key with id 'ec-key' accepts algorithm RS256",
    )
    .await;

    // The classic confusion: HS256 with the RSA public key (PEM bytes) as the HMAC secret.
    let public_pem = std::fs::read(&rsa.public).unwrap();
    refused(
        &app,
        &hs256(&public_pem, &claims("admin", None)),
        "algorithm HS256 is not accepted",
    )
    .await;
}

#[tokio::test]
async fn a_jwks_file_supplies_keys_chosen_by_kid() {
    let first = keypair("rsa", "first");
    let second = keypair("rsa", "second");
    let jwks = json!({"keys": [jwt::rsa_jwk(&first, "k1"), jwt::rsa_jwk(&second, "k2")]});
    let path = first.dir.join("jwks.json");
    std::fs::write(&path, jwks.to_string()).unwrap();
    let app = spawn_app_with(&["--jwt-jwks-file", &path_str(&path)]).await;

    accepted(&app, &signed(&second, Some("k2"), &claims("viewer", None))).await;
    accepted(&app, &signed(&first, Some("k1"), &claims("viewer", None))).await;
    // Signed by the second key but naming the first: the first key does not verify it.
    refused(
        &app,
        &signed(&second, Some("k1"), &claims("viewer", None)),
        "bad signature",
    )
    .await;
}

#[tokio::test]
async fn a_jwks_key_meant_for_encryption_or_for_another_algorithm_verifies_no_rs256_signature() {
    let signing = keypair("rsa", "sig");
    let encryption = keypair("rsa", "enc");
    let oaep = keypair("rsa", "oaep");
    let pss = keypair("rsa", "pss");
    let only_encrypt = keypair("rsa", "ops");
    let ecdh = keypair("rsa", "ecdh");
    let mut enc = jwt::rsa_jwk(&encryption, "k-enc");
    enc["use"] = json!("enc");
    enc.as_object_mut().unwrap().remove("alg");
    let mut oaep_jwk = jwt::rsa_jwk(&oaep, "k-oaep");
    oaep_jwk.as_object_mut().unwrap().remove("use");
    oaep_jwk["alg"] = json!("RSA-OAEP-256");
    let mut pss_jwk = jwt::rsa_jwk(&pss, "k-pss");
    pss_jwk["alg"] = json!("PS256");
    let mut ops = jwt::rsa_jwk(&only_encrypt, "k-ops");
    ops.as_object_mut().unwrap().remove("use");
    ops["key_ops"] = json!(["encrypt", "wrapKey"]);
    // An algorithm jsonwebtoken does not know (and no signature's) marks a key for something
    // else too: it is left out, not fatal.
    let mut ecdh_jwk = jwt::rsa_jwk(&ecdh, "k-ecdh");
    ecdh_jwk.as_object_mut().unwrap().remove("use");
    ecdh_jwk["alg"] = json!("ECDH-ES");
    let jwks =
        json!({"keys": [jwt::rsa_jwk(&signing, "k-sig"), enc, oaep_jwk, pss_jwk, ops, ecdh_jwk]});
    let path = signing.dir.join("jwks.json");
    std::fs::write(&path, jwks.to_string()).unwrap();
    let app = spawn_app_with(&["--jwt-jwks-file", &path_str(&path)]).await;

    accepted(
        &app,
        &signed(&signing, Some("k-sig"), &claims("viewer", None)),
    )
    .await;
    for (pair, kid) in [
        (&encryption, "k-enc"),
        (&oaep, "k-oaep"),
        (&pss, "k-pss"),
        (&only_encrypt, "k-ops"),
        (&ecdh, "k-ecdh"),
    ] {
        refused(
            &app,
            &signed(pair, Some(kid), &claims("admin", None)),
            &format!("no key with id '{kid}' accepts algorithm RS256"),
        )
        .await;
        // Without a `kid` the token is tried on the signature keys only, and none verifies it.
        refused(
            &app,
            &signed(pair, None, &claims("admin", None)),
            "bad signature",
        )
        .await;
    }
}

#[tokio::test]
async fn a_jwks_key_whose_alg_its_type_cannot_sign_with_stops_the_start() {
    let db = crate::helpers::TestDb::new().await;
    let pair = keypair("rsa", "mismatch");
    for alg in ["ES256", "HS256", "EdDSA"] {
        let mut jwk = jwt::rsa_jwk(&pair, "k-bad");
        jwk["alg"] = json!(alg);
        let path = pair.dir.join("jwks.json");
        std::fs::write(&path, json!({"keys": [jwk]}).to_string()).unwrap();
        let built = rectrack::startup::Application::build(crate::helpers::config(
            &db,
            &["--jwt-jwks-file", &path_str(&path)],
        ))
        .await;
        let err = built
            .err()
            .unwrap_or_else(|| panic!("alg {alg} on an RSA key stops the start"));
        assert!(err.to_string().contains("k-bad"), "{alg}: {err:#}");
    }
}

#[tokio::test]
async fn role_and_department_claims_can_be_remapped_to_nested_paths() {
    let app = spawn_app_with(&[
        "--jwt-secret",
        SECRET,
        "--jwt-role-claim",
        "realm_access.rectrack_role",
        "--jwt-dept-claim",
        "org.code",
    ])
    .await;
    let token = hs256(
        SECRET.as_bytes(),
        &json!({
            "sub": "sso-user-7",
            "exp": jwt::now() + 600,
            "realm_access": {"rectrack_role": "officer"},
            "org": {"code": "ZJTZB-BGS"},
        }),
    );
    let me = accepted(&app, &token).await;
    assert_eq!(
        me,
        json!({"sub": "sso-user-7", "role": "OFFICER", "department": {"code": "ZJTZB-BGS"}})
    );
    // The flat names mean nothing under this mapping.
    refused(
        &app,
        &TestUser::admin(),
        "missing claim realm_access.rectrack_role",
    )
    .await;
}

#[tokio::test]
async fn the_shared_secret_can_come_from_a_file() {
    let path = std::env::temp_dir().join(format!(
        "rectrack_secret_{}_{}",
        std::process::id(),
        jwt::now()
    ));
    std::fs::write(&path, format!("{SECRET}\n")).unwrap();
    let app = spawn_app_with(&["--jwt-secret-file", &path_str(&path)]).await;
    // The trailing newline of the file is not part of the secret.
    accepted(&app, &TestUser::viewer(None)).await;
    refused(
        &app,
        &hs256(format!("{SECRET}\n").as_bytes(), &claims("viewer", None)),
        "bad signature",
    )
    .await;
    std::fs::remove_file(&path).unwrap();
}

#[tokio::test]
async fn a_token_stops_working_the_moment_its_department_is_archived() {
    let app = spawn_app().await;
    let admin = TestUser::admin();
    let created = app
        .data(
            &admin,
            "mutation { createDepartment(input: {code: \"ZJTZB-LS\", name: \"临时专班\", kind: SECTION, parentCode: \"ZJTZB\"}) { id version } }",
            json!({}),
        )
        .await["createDepartment"]
        .clone();
    let officer = TestUser::officer("ZJTZB-LS");
    // Read twice, so that the second is answered from what the first read of the department.
    for _ in 0..2 {
        let (status, body) = app.gql(Some(&officer), ME, json!({})).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["data"]["me"]["department"]["code"], "ZJTZB-LS");
    }
    app.data(
        &admin,
        "mutation($id: ID!, $v: Int!) { archiveDepartment(id: $id, version: $v) { archived } }",
        json!({"id": created["id"], "v": created["version"]}),
    )
    .await;
    refused(&app, &officer, "unknown department 'ZJTZB-LS'").await;
}
