//! The feedback form's challenge (验证题): a small sum a person answers, checked without any
//! third-party service and without keeping state per form.
//!
//! The server shows `a + b` and hands out a token `expires.nonce.mac`, where `mac` is an
//! HMAC-SHA256 over the bulletin, the expiry, the nonce and the right answer, keyed by the
//! database's own secret (`public_feedback_key`, made once, shared by every instance). A post
//! carries the token and the sender's answer; the server recomputes the MAC with that answer,
//! so a wrong answer, another bulletin's token, an altered expiry or an expired token fail
//! alike. It is a speed bump for scripts, not a wall: the rate limit per address and the
//! folding of repeated texts do the rest.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use entity::public_feedback_key;
use hmac::{Hmac, Mac};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ConnectionTrait, EntityTrait, Set};
use sha2::Sha256;

use crate::error::{AppError, AppResult};

/// How long a form's challenge stays valid: time to read a bulletin and write.
pub const VALID_FOR: chrono::Duration = chrono::Duration::hours(2);
/// Longest token accepted (a token is about 70 characters).
const TOKEN_MAX: usize = 200;

/// A question to show and the token to send back with its answer.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Challenge {
    /// The question, in Chinese (`7 加 5 等于多少？`).
    pub question: String,
    /// Sent back unchanged as `challenge`, with the answer as `answer`.
    pub token: String,
    pub expires_at: DateTime<Utc>,
}

fn random<const N: usize>() -> AppResult<[u8; N]> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(AppError::internal)?;
    Ok(bytes)
}

/// The database's challenge secret, made by the first caller that needs it.
async fn secret(db: &impl ConnectionTrait) -> AppResult<Vec<u8>> {
    if let Some(row) = public_feedback_key::Entity::find_by_id(1).one(db).await? {
        return Ok(row.secret.into_bytes());
    }
    let made = URL_SAFE_NO_PAD.encode(random::<32>()?);
    // Two servers making it at once: the first row stays, and both read it.
    public_feedback_key::Entity::insert(public_feedback_key::ActiveModel {
        id: Set(1),
        secret: Set(made),
    })
    .on_conflict(
        OnConflict::column(public_feedback_key::Column::Id)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    public_feedback_key::Entity::find_by_id(1)
        .one(db)
        .await?
        .map(|row| row.secret.into_bytes())
        .ok_or_else(|| AppError::internal("public_feedback_key has no row"))
}

fn mac(
    key: &[u8],
    report_id: i32,
    expires: i64,
    nonce: &str,
    answer: i64,
) -> AppResult<Hmac<Sha256>> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).map_err(AppError::internal)?;
    mac.update(format!("feedback|{report_id}|{expires}|{nonce}|{answer}").as_bytes());
    Ok(mac)
}

/// A new challenge for the form of bulletin `report_id`.
pub async fn issue(
    db: &impl ConnectionTrait,
    report_id: i32,
    now: DateTime<Utc>,
) -> AppResult<Challenge> {
    let key = secret(db).await?;
    let [x, y] = random::<2>()?;
    let (a, b) = (i64::from(x % 20) + 1, i64::from(y % 20) + 1);
    let nonce = URL_SAFE_NO_PAD.encode(random::<12>()?);
    let expires_at = now + VALID_FOR;
    let expires = expires_at.timestamp();
    let sig = mac(&key, report_id, expires, &nonce, a + b)?
        .finalize()
        .into_bytes();
    Ok(Challenge {
        question: format!("{a} 加 {b} 等于多少？"),
        token: format!("{expires}.{nonce}.{}", URL_SAFE_NO_PAD.encode(sig)),
        expires_at,
    })
}

/// Checks a posted token and answer for bulletin `report_id`; `BAD_USER_INPUT` on the field at
/// fault otherwise (nothing is said of which part of the token failed).
pub async fn verify(
    db: &impl ConnectionTrait,
    report_id: i32,
    token: &str,
    answer: &str,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let wrong_token = || AppError::bad_input("challenge", t!("feedback-challenge-invalid"));
    if token.is_empty() {
        return Err(AppError::bad_input(
            "challenge",
            t!("feedback-challenge-missing"),
        ));
    }
    if token.len() > TOKEN_MAX {
        return Err(wrong_token());
    }
    let mut parts = token.split('.');
    let (Some(expires), Some(nonce), Some(sig), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(wrong_token());
    };
    let expires: i64 = expires.parse().map_err(|_| wrong_token())?;
    let sig = URL_SAFE_NO_PAD.decode(sig).map_err(|_| wrong_token())?;
    // Full-width digits are what a Chinese input method may type.
    let answer: String = answer
        .trim()
        .chars()
        .map(|c| match c {
            '０'..='９' => char::from(b'0' + (c as u32 - '０' as u32) as u8),
            c => c,
        })
        .collect();
    if answer.is_empty() {
        return Err(AppError::bad_input("answer", t!("feedback-answer-missing")));
    }
    let answer: i64 = match answer.parse() {
        Ok(n) if answer.len() <= 4 => n,
        _ => return Err(AppError::bad_input("answer", t!("feedback-answer-wrong"))),
    };
    if expires < now.timestamp() || expires > (now + VALID_FOR).timestamp() + 60 {
        return Err(AppError::bad_input(
            "challenge",
            t!("feedback-challenge-expired"),
        ));
    }
    let key = secret(db).await?;
    mac(&key, report_id, expires, nonce, answer)?
        .verify_slice(&sig)
        .map_err(|_| AppError::bad_input("answer", t!("feedback-answer-wrong")))
}
