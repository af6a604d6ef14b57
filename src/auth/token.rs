//! Verifying bearer tokens and issuing rectrack's own.

use std::time::Duration;

use entity::enums::Role;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Header, Validation, decode, decode_header, encode};
use serde_json::{Map, Value, json};

use super::keys::Keys;
use crate::config::JwtConfig;
use crate::error::{AppError, AppResult};

/// The claims rectrack acts on, read from a token whose signature and times are valid. The
/// department is still a code here; `http::auth` resolves it against the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedClaims {
    pub sub: String,
    pub name: Option<String>,
    pub role: Role,
    pub dept: Option<String>,
    /// For tokens issued to a local account: its id and the token version it was issued under.
    pub account: Option<(i32, i32)>,
    /// When it expires (seconds since the epoch): a socket opened with it closes then.
    pub exp: u64,
}

fn now_secs() -> u64 {
    jsonwebtoken::get_current_timestamp()
}

/// Reads a claim by a dotted path (`role`, or `realm_access.role` for nested claims).
fn claim_at<'a>(claims: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.')
        .try_fold(claims, |value, key| value.get(key))
}

/// Writes a claim at a dotted path, creating the objects on the way.
fn set_claim(claims: &mut Map<String, Value>, path: &str, value: Value) {
    match path.split_once('.') {
        None => {
            claims.insert(path.to_owned(), value);
        }
        Some((head, rest)) => {
            let entry = claims
                .entry(head.to_owned())
                .or_insert_with(|| Value::Object(Map::new()));
            if !entry.is_object() {
                *entry = Value::Object(Map::new());
            }
            if let Value::Object(inner) = entry {
                set_claim(inner, rest, value);
            }
        }
    }
}

/// Checks a token's signature, algorithm, times, issuer and audience, and reads its claims.
/// The error is the reason, for the 401 answer.
pub fn verify(keys: &Keys, config: &JwtConfig, token: &str) -> Result<VerifiedClaims, String> {
    let header = decode_header(token).map_err(|err| match err.kind() {
        ErrorKind::InvalidAlgorithmName | ErrorKind::Json(_) => {
            t!("token-header-invalid")
        }
        _ => t!("token-malformed"),
    })?;

    let mut validation = Validation::new(header.alg);
    validation.leeway = config.jwt_leeway.as_secs();
    validation.validate_exp = true;
    // jsonwebtoken leaves `nbf` unchecked unless asked.
    validation.validate_nbf = true;
    let mut required = vec!["exp", "sub"];
    match &config.jwt_issuer {
        Some(issuer) => {
            validation.set_issuer(&[issuer]);
            required.push("iss");
        }
        None => validation.iss = None,
    }
    match &config.jwt_audience {
        Some(audience) => {
            validation.set_audience(&[audience]);
            required.push("aud");
        }
        None => validation.validate_aud = false,
    }
    validation.set_required_spec_claims(&required);

    let mut last_error = None;
    let mut data = None;
    for key in keys.candidates(header.alg, header.kid.as_deref()) {
        match decode::<Value>(token, &key.key, &validation) {
            Ok(decoded) => {
                data = Some(decoded);
                break;
            }
            Err(err) => last_error = Some(err),
        }
    }
    let claims = match (data, last_error) {
        (Some(data), _) => data.claims,
        (None, Some(err)) => return Err(reason(err.kind())),
        (None, None) => {
            return Err(match &header.kid {
                Some(kid) => t!(
                    "token-no-key-for-kid",
                    kid = kid,
                    alg = format!("{:?}", header.alg)
                ),
                None => t!("token-no-key-for-alg", alg = format!("{:?}", header.alg)),
            });
        }
    };

    // Validation guarantees `exp` is a number; refuse tokens that live too long.
    let exp = claims
        .get("exp")
        .and_then(Value::as_u64)
        .ok_or_else(|| t!("claim-exp-number"))?;
    let max = config.jwt_max_lifetime.as_secs() + config.jwt_leeway.as_secs();
    if exp.saturating_sub(now_secs()) > max {
        return Err(t!(
            "claim-exp-too-far",
            max = lifetime(config.jwt_max_lifetime)
        ));
    }

    let sub = match claims.get("sub") {
        Some(Value::String(sub)) if !sub.trim().is_empty() => sub.clone(),
        _ => return Err(t!("claim-sub")),
    };
    let role_claim = &config.jwt_role_claim;
    let role = match claim_at(&claims, role_claim) {
        Some(Value::String(role)) => config
            .role_of(role)
            .ok_or_else(|| t!("claim-role-unknown", role = role))?,
        // An identity provider's list of roles (Keycloak's realm_access.roles): the one of
        // them with the most rights that rectrack knows, the others ignored.
        Some(Value::Array(names)) => names
            .iter()
            .filter_map(Value::as_str)
            .filter_map(|name| config.role_of(name))
            .min_by_key(|role| Role::ALL.iter().position(|r| r == role))
            .ok_or_else(|| t!("claim-roles-unknown", claim = role_claim))?,
        Some(_) => return Err(t!("claim-role-shape", claim = role_claim)),
        None => return Err(t!("claim-role-missing", claim = role_claim)),
    };
    let dept_claim = &config.jwt_dept_claim;
    let dept = match claim_at(&claims, dept_claim) {
        Some(Value::String(code)) if !code.trim().is_empty() => Some(code.trim().to_owned()),
        None | Some(Value::Null) => None,
        Some(_) => return Err(t!("claim-dept-shape", claim = dept_claim)),
    };
    if dept.is_none() && matches!(role, Role::Manager | Role::Officer) {
        return Err(t!("claim-dept-missing", claim = dept_claim, role = role));
    }
    let name = claims
        .get("name")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let account = match (claims.get("acct"), claims.get("tv")) {
        (Some(acct), Some(tv)) => Some((
            acct.as_i64()
                .and_then(|v| i32::try_from(v).ok())
                .ok_or_else(|| t!("claim-acct"))?,
            tv.as_i64()
                .and_then(|v| i32::try_from(v).ok())
                .ok_or_else(|| t!("claim-tv"))?,
        )),
        (None, None) => None,
        _ => return Err(t!("claim-acct-tv")),
    };
    Ok(VerifiedClaims {
        sub,
        name,
        role,
        dept,
        account,
        exp,
    })
}

/// A token's lifetime as people say it: "90 天", "2 天 3 小时" (never "2months 29days").
pub fn lifetime(duration: Duration) -> String {
    let total = duration.as_secs();
    let parts = [
        (total / 86_400, t!("duration-days", n = total / 86_400)),
        (
            total / 3_600 % 24,
            t!("duration-hours", n = total / 3_600 % 24),
        ),
        (total / 60 % 60, t!("duration-minutes", n = total / 60 % 60)),
        (total % 60, t!("duration-seconds", n = total % 60)),
    ];
    let said: Vec<String> = parts
        .into_iter()
        .filter(|(n, _)| *n > 0)
        .map(|(_, text)| text)
        .collect();
    if said.is_empty() {
        t!("duration-seconds", n = 0)
    } else {
        said.join(" ")
    }
}

fn reason(kind: &ErrorKind) -> String {
    match kind {
        ErrorKind::ExpiredSignature => t!("token-expired"),
        ErrorKind::ImmatureSignature => t!("token-not-yet-valid"),
        ErrorKind::InvalidSignature => t!("token-bad-signature"),
        ErrorKind::InvalidAudience => t!("token-wrong-audience"),
        ErrorKind::InvalidIssuer => t!("token-wrong-issuer"),
        ErrorKind::MissingRequiredClaim(claim) => t!("claim-missing", claim = claim),
        ErrorKind::InvalidClaimFormat(claim) => t!("claim-wrong-type", claim = claim),
        ErrorKind::InvalidAlgorithm => t!("token-algorithm-not-allowed"),
        _ => t!("token-malformed"),
    }
}

/// What a token rectrack issues says.
pub struct NewToken<'a> {
    pub sub: &'a str,
    pub name: Option<&'a str>,
    pub role: Role,
    pub dept: Option<&'a str>,
    pub account: Option<(i32, i32)>,
    pub ttl: Duration,
}

/// Signs a token with the configured signing key, using the configured claim names so that
/// rectrack accepts what it issues.
pub fn issue(keys: &Keys, config: &JwtConfig, token: NewToken<'_>) -> AppResult<String> {
    let signing = keys.signing.as_ref().ok_or_else(|| {
        AppError::internal(
            "no signing key: set RECTRACK_JWT_SECRET or RECTRACK_JWT_PRIVATE_KEY_FILE",
        )
    })?;
    if token.ttl > config.jwt_max_lifetime {
        return Err(AppError::bad_input(
            "ttl",
            t!("token-lifetime", max = lifetime(config.jwt_max_lifetime)),
        ));
    }
    let now = now_secs();
    let mut claims = Map::new();
    claims.insert("sub".into(), json!(token.sub));
    claims.insert("iat".into(), json!(now));
    claims.insert("nbf".into(), json!(now));
    claims.insert("exp".into(), json!(now + token.ttl.as_secs()));
    if let Some(issuer) = &config.jwt_issuer {
        claims.insert("iss".into(), json!(issuer));
    }
    if let Some(audience) = &config.jwt_audience {
        claims.insert("aud".into(), json!(audience));
    }
    if let Some(name) = token.name {
        claims.insert("name".into(), json!(name));
    }
    set_claim(
        &mut claims,
        &config.jwt_role_claim,
        json!(token.role.as_str()),
    );
    if let Some(dept) = token.dept {
        set_claim(&mut claims, &config.jwt_dept_claim, json!(dept));
    }
    if let Some((account, version)) = token.account {
        claims.insert("acct".into(), json!(account));
        claims.insert("tv".into(), json!(version));
    }
    let mut header = Header::new(signing.algorithm);
    header.kid = signing.kid.clone();
    encode(&header, &Value::Object(claims), &signing.key).map_err(AppError::internal)
}

/// One ready token per role for the demo departments, for development servers whose signing
/// key was made up at start-up (they die with the process).
pub fn dev_tokens(
    keys: &Keys,
    config: &JwtConfig,
) -> AppResult<Vec<(Role, Option<&'static str>, String)>> {
    let roles: [(Role, Option<&'static str>); 5] = [
        (Role::Admin, None),
        (Role::Inspector, Some("ZJSW-XCB")),
        (Role::Manager, Some("ZJTZB")),
        (Role::Officer, Some("ZJTZB-BGS")),
        (Role::Viewer, Some("ZJTZB")),
    ];
    let ttl = Duration::from_secs(12 * 3600).min(config.jwt_max_lifetime);
    roles
        .into_iter()
        .map(|(role, dept)| {
            let sub = format!("dev-{role}");
            let token = issue(
                keys,
                config,
                NewToken {
                    sub: &sub,
                    name: Some(&sub),
                    role,
                    dept,
                    account: None,
                    ttl,
                },
            )?;
            Ok((role, dept, token))
        })
        .collect()
}
