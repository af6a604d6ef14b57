//! Local login accounts, for deployments without single sign-on.

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use entity::account;
use entity::enums::Role;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    Set,
};
use serde_json::json;
use tokio::sync::OnceCell;

use crate::audit;
use crate::auth::keys::Keys;
use crate::auth::token::{self, NewToken};
use crate::auth::{Caller, Permission, password};
use crate::config::{JwtConfig, TimeZone};
use crate::domain::gate::login_throttle::{self, Scope, Throttle};
use crate::domain::records::change::{Record, audited};
use crate::domain::{Acting, records::department, records::text, write};
use crate::error::{AppError, AppResult};

pub struct NewAccount {
    pub username: String,
    pub password: String,
    pub display_name: Option<String>,
    pub role: Role,
    pub department_code: Option<String>,
}

/// An access token handed out by `login`.
pub struct Session {
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub account: account::Model,
}

/// Creates an account (admins only).
pub async fn create(
    db: &impl ConnectionTrait,
    who: &Acting,
    input: NewAccount,
) -> AppResult<account::Model> {
    who.require(Permission::ManageAccounts)?;
    let username = text::required("username", &input.username, 64)?;
    let display_name = text::maybe("displayName", input.display_name.as_deref(), 100)?;
    password::check_policy(&input.password)?;
    let hash = password::hash(input.password).await?;
    let department_id = match input.department_code.as_deref().map(str::trim) {
        Some(code) if !code.is_empty() => Some(
            department::active_by_code(db, "departmentCode", code)
                .await?
                .id,
        ),
        _ => None,
    };
    if department_id.is_none() && matches!(input.role, Role::Manager | Role::Officer) {
        return Err(AppError::bad_input(
            "departmentCode",
            t!("account-needs-department", role = input.role),
        ));
    }
    if account::Entity::find()
        .filter(account::Column::Username.eq(&username))
        .one(db)
        .await?
        .is_some()
    {
        return Err(AppError::Conflict(t!(
            "username-taken",
            username = &username
        )));
    }
    let now = Utc::now();
    let created = account::ActiveModel {
        username: Set(username),
        display_name: Set(display_name),
        password_hash: Set(hash),
        role: Set(input.role),
        department_id: Set(department_id),
        disabled: Set(false),
        failed_attempts: Set(0),
        token_version: Set(0),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    let record = Record {
        kind: "account",
        id: created.id,
        department_id: created.department_id,
    };
    audited(db, who, "account.create", record, None, Some(&created)).await?;
    Ok(created)
}

/// Disables or re-enables an account (admins only). Either way its earlier tokens stop working.
pub async fn set_disabled(
    db: &impl ConnectionTrait,
    who: &Acting,
    id: i32,
    disabled: bool,
) -> AppResult<account::Model> {
    who.require(Permission::ManageAccounts)?;
    let action = if disabled {
        "account.disable"
    } else {
        "account.enable"
    };
    change(db, who, id, action, move |active, current| {
        active.disabled = Set(disabled);
        active.token_version = Set(current.token_version + 1);
    })
    .await
}

/// The accounts, for admins: by id, optionally those whose username or display name holds
/// `search`.
pub async fn list(
    db: &impl ConnectionTrait,
    who: &Acting,
    search: Option<&str>,
    args: &crate::domain::reads::page::PageArgs,
) -> AppResult<crate::domain::reads::page::Page<account::Model>> {
    use crate::domain::reads::listing::{contains, search_text};
    use crate::domain::reads::page::{self, Key, Order};
    who.require(Permission::ManageAccounts)?;
    let mut select = account::Entity::find();
    if let Some(text) = search_text(search)? {
        select = select.filter(
            sea_orm::Condition::any()
                .add(contains(account::Column::Username, &text))
                .add(contains(account::Column::DisplayName, &text)),
        );
    }
    let order = Order {
        name: "account.id",
        exprs: vec![Expr::col(account::Column::Id)],
        keys: |a: &account::Model| vec![Key::I(a.id.into())],
        descending: false,
    };
    page::fetch(db, select, &order, args).await
}

/// Gives an account another role or department (admins only). The change is audited and the
/// account's earlier tokens stop working: they carry the old role and scope.
pub async fn set_role(
    db: &impl ConnectionTrait,
    who: &Acting,
    id: i32,
    role: Option<Role>,
    department_code: Option<Option<String>>,
) -> AppResult<account::Model> {
    who.require(Permission::ManageAccounts)?;
    let current = account::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("account", id))?;
    let department_id = match department_code {
        None => current.department_id,
        Some(None) => None,
        Some(Some(code)) => Some(
            department::active_by_code(db, "departmentCode", &code)
                .await?
                .id,
        ),
    };
    let role = role.unwrap_or(current.role);
    if department_id.is_none() && matches!(role, Role::Manager | Role::Officer) {
        return Err(AppError::bad_input(
            "departmentCode",
            t!("account-needs-department", role = role),
        ));
    }
    change(db, who, id, "account.set_role", move |active, current| {
        active.role = Set(role);
        active.department_id = Set(department_id);
        active.token_version = Set(current.token_version + 1);
    })
    .await
}

/// Sets a new password for an account (admins only); earlier tokens stop working.
pub async fn reset_password(
    db: &impl ConnectionTrait,
    who: &Acting,
    id: i32,
    new_password: String,
) -> AppResult<account::Model> {
    who.require(Permission::ManageAccounts)?;
    password::check_policy(&new_password)?;
    let hash = password::hash(new_password).await?;
    change(
        db,
        who,
        id,
        "account.reset_password",
        move |active, current| {
            active.password_hash = Set(hash);
            active.token_version = Set(current.token_version + 1);
        },
    )
    .await
}

/// Changes the caller's own password, given the current one; earlier tokens stop working.
pub async fn change_own_password(
    db: &impl ConnectionTrait,
    who: &Acting,
    current_password: String,
    new_password: String,
) -> AppResult<account::Model> {
    let id = who
        .caller
        .identity()
        .and_then(|i| i.account_id)
        .ok_or_else(|| AppError::Unauthenticated(t!("password-change-local-only")))?;
    let existing = account::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("account", id))?;
    if !password::verify(current_password, existing.password_hash.clone()).await {
        return Err(AppError::bad_input("currentPassword", t!("password-wrong")));
    }
    password::check_policy(&new_password)?;
    let hash = password::hash(new_password).await?;
    change(
        db,
        who,
        id,
        "account.change_password",
        move |active, current| {
            active.password_hash = Set(hash);
            active.token_version = Set(current.token_version + 1);
        },
    )
    .await
}

/// Loads an account, applies `edit`, saves it and audits the change.
async fn change(
    db: &impl ConnectionTrait,
    who: &Acting,
    id: i32,
    action: &str,
    edit: impl FnOnce(&mut account::ActiveModel, &account::Model),
) -> AppResult<account::Model> {
    let current = account::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("account", id))?;
    let mut active: account::ActiveModel = current.clone().into();
    edit(&mut active, &current);
    active.updated_at = Set(Utc::now());
    let updated = active.update(db).await?;
    let record = Record {
        kind: "account",
        id,
        department_id: updated.department_id,
    };
    audited(db, who, action, record, Some(&current), Some(&updated)).await?;
    Ok(updated)
}

/// A hash to verify against when the username is unknown, so that unknown names take as long
/// as wrong passwords and cannot be told apart by timing.
async fn decoy_hash() -> &'static str {
    static DECOY: OnceCell<String> = OnceCell::const_new();
    DECOY
        .get_or_init(|| async {
            password::hash("decoy password never used".to_owned())
                .await
                .unwrap_or_default()
        })
        .await
}

/// One login attempt: what was typed, and where it came from.
pub struct Credentials {
    pub username: String,
    pub password: String,
    /// The client's address: attempts count against it, and the audit trail and the log say
    /// it.
    pub client: IpAddr,
    pub request_id: Option<String>,
}

/// Checks a username and password and returns a short-lived access token.
///
/// Every attempt, however it arrives (aliases, batches, sockets), is counted here by the
/// [`login_throttle`] before its password is checked: per account name and client address,
/// per address and per name, whether or not an account has the name. A throttled attempt is
/// refused with `RATE_LIMITED` and when to retry, unchecked; any wrong name or password is
/// `UNAUTHENTICATED` with one message, after one Argon2 verification either way (an unknown
/// name is checked against a decoy hash), so neither answer nor timing says which names
/// exist. Failures, and the budgets they spend, are audited and logged with the address.
pub async fn login(
    db: &DatabaseConnection,
    keys: &Keys,
    config: &JwtConfig,
    zone: TimeZone,
    throttle: &Throttle,
    attempt: Credentials,
) -> AppResult<Session> {
    text::refuse_nul("username", &attempt.username)?;
    let name = attempt.username.trim();
    // What the trail and the log keep of it: no longer than any account's name.
    let shown = login_throttle::name_key(name);
    let counted = match throttle.begin(name, attempt.client) {
        Ok(counted) => counted,
        Err(refused) => {
            tracing::warn!(
                address = %attempt.client,
                username = ?shown,
                scope = refused.scope.as_str(),
                "login refused: too many failed attempts"
            );
            let seconds = refused.retry_after.as_secs_f64().ceil().max(1.0) as u64;
            return Err(AppError::RateLimited {
                message: t!("login-throttled", seconds = seconds),
                retry_after: seconds,
            });
        }
    };
    let found = account::Entity::find()
        .filter(account::Column::Username.eq(name))
        .one(db)
        .await?;
    let hash = match &found {
        Some(account) => account.password_hash.clone(),
        None => decoy_hash().await.to_owned(),
    };
    let matches = password::verify(attempt.password, hash).await;
    let account = match found {
        Some(account) if matches => account,
        found => {
            // The answer is the same whatever becomes of the trail's write (a busy database
            // must not turn a wrong password into a different answer); its failure is logged.
            if let Err(error) = failed(
                db,
                zone,
                &attempt.client,
                attempt.request_id,
                &shown,
                found.as_ref(),
                &counted.spent,
            )
            .await
            {
                tracing::error!(?error, "a failed login could not be audited");
            }
            return Err(AppError::Unauthenticated(t!("login-failed")));
        }
    };
    throttle.succeeded(counted);
    let now = Utc::now();
    if account.disabled {
        return Err(AppError::Unauthenticated(t!("account-disabled")));
    }
    let dept_code = match account.department_id {
        Some(id) => entity::department::Entity::find_by_id(id)
            .one(db)
            .await?
            .map(|d| d.code),
        None => None,
    };
    let sub = format!("account:{}", account.username);
    let before = account.clone();
    let mut active: account::ActiveModel = account.into();
    active.last_login_at = Set(Some(now));
    // A login is a change to the account, and who logged in when is worth keeping.
    let who = Acting {
        caller: Caller::Anonymous,
        actor: crate::audit::Actor {
            sub: sub.clone(),
            role: before.role.as_str().to_owned(),
            request_id: None,
        },
        zone,
        dry_run: false,
    };
    let account = write(db, &who, async |txn| {
        let account = active.update(txn).await?;
        let record = Record {
            kind: "account",
            id: account.id,
            department_id: account.department_id,
        };
        audited(
            txn,
            &who,
            "account.login",
            record,
            Some(&before),
            Some(&account),
        )
        .await?;
        Ok(account)
    })
    .await?;
    let token = token::issue(
        keys,
        config,
        NewToken {
            sub: &sub,
            name: account
                .display_name
                .as_deref()
                .or(Some(account.username.as_str())),
            role: account.role,
            dept: dept_code.as_deref(),
            account: Some((account.id, account.token_version)),
            ttl: config.access_token_ttl,
        },
    )?;
    let expires_at = now
        + chrono::Duration::from_std(config.access_token_ttl).unwrap_or(chrono::Duration::hours(1));
    Ok(Session {
        token,
        expires_at,
        account,
    })
}

/// The connection type is generic for the functions that run inside callers' transactions.
pub async fn find(db: &impl ConnectionTrait, id: i32) -> AppResult<Option<account::Model>> {
    Ok(account::Entity::find_by_id(id).one(db).await?)
}

/// Records a failed login in the audit trail, in its own transaction (committed although the
/// login fails), and in the log: the name tried, the address, the account when one has the
/// name (never creating one), and the budgets this failure spent.
async fn failed(
    db: &DatabaseConnection,
    zone: TimeZone,
    client: &IpAddr,
    request_id: Option<String>,
    name: &str,
    account: Option<&account::Model>,
    spent: &[Scope],
) -> AppResult<()> {
    tracing::warn!(address = %client, username = ?name, "login failed");
    for scope in spent {
        tracing::warn!(
            address = %client,
            username = ?name,
            scope = scope.as_str(),
            "login throttled: too many failed attempts"
        );
    }
    let who = Acting::new(&Caller::Anonymous, request_id, zone);
    let tried = json!({
        "username": name,
        "address": client.to_string(),
        "accountId": account.map(|a| a.id),
    });
    let department_id = account.and_then(|a| a.department_id);
    write(db, &who, async |txn| {
        let mut events = vec![("login.failed", tried.clone())];
        for scope in spent {
            let mut throttled = tried.clone();
            throttled["scope"] = json!(scope.as_str());
            events.push(("login.throttled", throttled));
        }
        for (action, after) in events {
            audit::record(
                txn,
                &who.actor,
                audit::Change {
                    action,
                    entity_type: "login",
                    entity_id: name.to_owned(),
                    department_id,
                    before: None,
                    after: Some(after),
                },
            )
            .await?;
        }
        Ok(())
    })
    .await
}
