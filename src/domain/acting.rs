//! Who acts in a command, and the one way a command's change is committed.
//!
//! Every domain command takes the connection it runs on (`&impl ConnectionTrait`, usually the
//! caller's transaction) and an [`Acting`]: the caller whose permissions and reach it checks,
//! the actor the ledger and the audit trail record, and the time zone that says what "today"
//! is. Adapters (GraphQL, REST, bulk, import, CLI) build one `Acting` per request and run the
//! command inside [`write`], so that a change, its ledger entries and its audit events commit
//! together or not at all; a caller that runs several commands (bulk, import) passes the same
//! transaction to each.

use chrono::{DateTime, NaiveDate, Utc};
use entity::enums::Role;
use sea_orm::{DatabaseConnection, DatabaseTransaction};

use crate::audit::Actor;
use crate::auth::{Caller, Identity, Permission};
use crate::config::TimeZone;
use crate::db;
use crate::error::AppResult;

/// The caller of a command, as the rules and the records see it.
#[derive(Debug, Clone)]
pub struct Acting {
    pub caller: Caller,
    /// What the audit trail and the ledger record as the author.
    pub actor: Actor,
    /// The configured zone: "today" for deadlines, default entry dates and warnings.
    pub zone: TimeZone,
    /// Make the change and undo it: the answer says what would happen (`Rectrack-Dry-Run`).
    pub dry_run: bool,
}

impl Acting {
    pub fn new(caller: &Caller, request_id: Option<String>, zone: TimeZone) -> Self {
        Self {
            actor: caller.actor(request_id),
            caller: caller.clone(),
            zone,
            dry_run: false,
        }
    }

    /// The server's own background work (the early-warning sweep, webhook upkeep), recorded
    /// under the `system` role.
    pub fn system(what: &str, zone: TimeZone) -> Self {
        let mut who = Self::operator(what, zone);
        who.actor = Actor::system(what);
        who
    }

    /// Another instance calling a connected-mode endpoint, proven by its signature
    /// (`exchange::connected`): not a person; recorded as `exchange:<its instance id>` under
    /// the `system` role. It may do only what those endpoints do with it (import its bundle,
    /// take the bundle written for it, record its acknowledgement), each checked again by the
    /// bundle's or the acknowledgement's own signature.
    pub fn peer(instance_id: &str, zone: TimeZone) -> Self {
        let caller = Caller::Authenticated(Identity {
            sub: format!("exchange:{instance_id}"),
            name: Some(format!("exchange peer {instance_id}")),
            role: Role::Admin,
            department: None,
            account_id: None,
        });
        let mut who = Self::new(&caller, None, zone);
        who.actor = Actor {
            sub: format!("exchange:{instance_id}"),
            role: crate::audit::SYSTEM_ROLE.to_owned(),
            request_id: None,
        };
        who
    }

    /// An operator running a command on the server itself (an administrator with access to
    /// the database and the configuration), as the audit trail records it.
    pub fn operator(what: &str, zone: TimeZone) -> Self {
        let caller = Caller::Authenticated(Identity {
            sub: format!("cli:{what}"),
            name: Some(format!("rectrack {what}")),
            role: Role::Admin,
            department: None,
            account_id: None,
        });
        Self::new(&caller, None, zone)
    }

    /// `UNAUTHENTICATED` or `FORBIDDEN` unless the caller's role has `permission`.
    pub fn require(&self, permission: Permission) -> AppResult<()> {
        self.caller.require(permission)
    }

    pub fn can(&self, permission: Permission) -> bool {
        self.caller.can(permission)
    }

    /// Today's date in the configured zone.
    pub fn today(&self) -> NaiveDate {
        self.zone.today()
    }

    /// The time of the change.
    pub fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }

    /// The time now on the configured zone's clock.
    pub fn local_now(&self) -> DateTime<chrono::FixedOffset> {
        Utc::now().with_timezone(&self.zone.0)
    }

    /// The display name the ledger shows for entries this caller writes.
    pub fn author_name(&self) -> Option<String> {
        self.caller.identity().and_then(|i| i.name.clone())
    }

    /// The caller's subject, as recorded.
    pub fn sub(&self) -> &str {
        &self.actor.sub
    }
}

/// Runs `change` in one write transaction and commits it when it succeeds; on an error the
/// transaction is rolled back and nothing of the change remains. For a dry run it is rolled
/// back either way, and the answer says what the change would have been.
pub async fn write<T>(
    db: &DatabaseConnection,
    who: &Acting,
    change: impl AsyncFnOnce(&DatabaseTransaction) -> AppResult<T>,
) -> AppResult<T> {
    let txn = db::begin_write(db).await?;
    let out = change(&txn).await?;
    finish(db, txn, who).await?;
    Ok(out)
}

/// Commits `txn` (begun on `db`), or rolls it back for a dry run.
pub async fn finish(
    db: &DatabaseConnection,
    txn: DatabaseTransaction,
    who: &Acting,
) -> AppResult<()> {
    if who.dry_run {
        txn.rollback().await?;
    } else {
        db::commit(db, txn).await?;
    }
    Ok(())
}
