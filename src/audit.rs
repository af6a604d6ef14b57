//! The audit trail: every change is written as one event, chained to the one before it by
//! SHA-256, so that editing or removing any event breaks the chain at that point.
//!
//! `hash = sha256(prev_hash || "\n" || canonical JSON of the event's fields)`, where canonical
//! JSON writes object keys sorted at every depth, so that an event encodes to the same bytes
//! however the database (PostgreSQL's jsonb reorders keys) hands its JSON back.

use chrono::{DateTime, SubsecRound, Utc};
use entity::{audit_event, audit_head};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ActiveValue::NotSet, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait,
    QueryFilter, QuerySelect, QueryTrait,
};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::error::{AppError, AppResult};

/// The `prev_hash` of the first event.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The role the server's own work is recorded under.
pub const SYSTEM_ROLE: &str = "system";

/// Who made a change, as the audit trail records it.
#[derive(Debug, Clone)]
pub struct Actor {
    pub sub: String,
    /// A role name, or `system`.
    pub role: String,
    pub request_id: Option<String>,
}

impl Actor {
    /// The server itself (seeding, maintenance commands).
    pub fn system(what: &str) -> Self {
        Self {
            sub: format!("system:{what}"),
            role: SYSTEM_ROLE.to_owned(),
            request_id: None,
        }
    }
}

/// What changed.
pub struct Change<'a> {
    pub action: &'a str,
    pub entity_type: &'a str,
    pub entity_id: String,
    /// The department the changed record belongs to.
    pub department_id: Option<i32>,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

/// Appends one event to the chain. Call it inside the transaction that makes the change, so
/// the change and its event commit or roll back together.
pub async fn record(db: &impl ConnectionTrait, actor: &Actor, change: Change<'_>) -> AppResult<()> {
    // Appends must be serialised, or two writers would chain onto the same predecessor. SQLite
    // write transactions are already serial (BEGIN IMMEDIATE). PostgreSQL locks the head row
    // (`FOR UPDATE`, held to commit, as the advisory lock it replaces was): taking the lock and
    // reading where the chain ends are one round trip, not two, and every audited write holds
    // the lock for each of its round trips until it commits. Under READ COMMITTED a writer that
    // waited reads the head as its predecessor left it.
    let mut find = audit_head::Entity::find_by_id(1);
    if db.get_database_backend() == DbBackend::Postgres {
        find = find.lock_exclusive();
    }
    // The head says where the chain ends; an event removed from its end is then a missing link.
    let head = find
        .one(db)
        .await?
        .ok_or_else(|| AppError::internal("the audit chain has no head row"))?;
    let prev_hash = head.last_hash.clone();
    // Microseconds are what both databases store; hashing a finer time would not verify.
    let mut event = audit_event::Model {
        id: 0,
        occurred_at: Utc::now().trunc_subsecs(6),
        actor_sub: actor.sub.clone(),
        actor_role: actor.role.clone(),
        action: change.action.to_owned(),
        entity_type: change.entity_type.to_owned(),
        entity_id: change.entity_id,
        before: change.before,
        after: change.after,
        request_id: actor.request_id.clone(),
        department_id: change.department_id,
        prev_hash,
        hash: String::new(),
    };
    event.hash = hash_of(&fields_of_model(&event));
    let mut active: audit_event::ActiveModel = event.into();
    active.id = NotSet;
    let inserted = active.insert(db).await?;
    // Under the chain's lock, so that events become visible in the order of their ids.
    crate::domain::integration::events::of_audit(db, &inserted).await?;
    let moved = audit_head::Entity::update_many()
        .col_expr(audit_head::Column::LastEventId, Expr::value(inserted.id))
        .col_expr(audit_head::Column::LastHash, Expr::value(inserted.hash))
        .col_expr(
            audit_head::Column::Events,
            Expr::col(audit_head::Column::Events).add(1),
        )
        .filter(audit_head::Column::Id.eq(1))
        .filter(audit_head::Column::LastHash.eq(head.last_hash))
        .exec(db)
        .await?;
    if moved.rows_affected != 1 {
        return Err(AppError::internal(
            "the audit chain's head moved during an append",
        ));
    }
    Ok(())
}

/// Events inserted per statement by [`record_many`] (13 values each: under both databases'
/// limits on bound values).
const EVENTS_PER_STATEMENT: usize = 500;

/// Appends several events at once (a sweep's crossings): the head locked and read once, the
/// events chained in memory and inserted a few hundred per statement, their outbox events
/// likewise, the head moved once. The chain is the one `record` would make event by event
/// (the same fields, hashes and links), for a handful of statements instead of four or five
/// per event.
pub async fn record_many(
    db: &impl ConnectionTrait,
    actor: &Actor,
    changes: Vec<Change<'_>>,
) -> AppResult<()> {
    if changes.is_empty() {
        return Ok(());
    }
    let mut find = audit_head::Entity::find_by_id(1);
    if db.get_database_backend() == DbBackend::Postgres {
        find = find.lock_exclusive();
    }
    let head = find
        .one(db)
        .await?
        .ok_or_else(|| AppError::internal("the audit chain has no head row"))?;
    let occurred_at = Utc::now().trunc_subsecs(6);
    let mut prev_hash = head.last_hash.clone();
    let mut events = Vec::with_capacity(changes.len());
    for change in changes {
        let mut event = audit_event::Model {
            id: 0,
            occurred_at,
            actor_sub: actor.sub.clone(),
            actor_role: actor.role.clone(),
            action: change.action.to_owned(),
            entity_type: change.entity_type.to_owned(),
            entity_id: change.entity_id,
            before: change.before,
            after: change.after,
            request_id: actor.request_id.clone(),
            department_id: change.department_id,
            prev_hash: prev_hash.clone(),
            hash: String::new(),
        };
        event.hash = hash_of(&fields_of_model(&event));
        prev_hash = event.hash.clone();
        events.push(event);
    }
    let mut last_id = head.last_event_id;
    for chunk in events.chunks_mut(EVENTS_PER_STATEMENT) {
        let rows = chunk.iter().cloned().map(|event| {
            let mut active: audit_event::ActiveModel = event.into();
            active.id = NotSet;
            active
        });
        let mut insert = audit_event::Entity::insert_many(rows).into_query();
        insert.returning_col(audit_event::Column::Id);
        let ids = db.query_all(&insert).await?;
        if ids.len() != chunk.len() {
            return Err(AppError::internal("the audit events were not all inserted"));
        }
        for (event, row) in chunk.iter_mut().zip(ids) {
            event.id = row.try_get_by_index::<i32>(0)?;
            // The chain is walked by id: each event's id must follow its predecessor's.
            if event.id <= last_id {
                return Err(AppError::internal("audit events inserted out of order"));
            }
            last_id = event.id;
        }
    }
    crate::domain::integration::events::of_audits(db, &events).await?;
    let moved = audit_head::Entity::update_many()
        .col_expr(audit_head::Column::LastEventId, Expr::value(last_id))
        .col_expr(audit_head::Column::LastHash, Expr::value(prev_hash))
        .col_expr(
            audit_head::Column::Events,
            Expr::col(audit_head::Column::Events)
                .add(i32::try_from(events.len()).unwrap_or(i32::MAX)),
        )
        .filter(audit_head::Column::Id.eq(1))
        .filter(audit_head::Column::LastHash.eq(head.last_hash))
        .exec(db)
        .await?;
    if moved.rows_affected != 1 {
        return Err(AppError::internal(
            "the audit chain's head moved during an append",
        ));
    }
    Ok(())
}

/// The SHA-256 of a JSON value's canonical form (keys sorted at every depth), so that the
/// same content hashes the same however a database hands its JSON back.
pub fn digest(value: &Value) -> String {
    let mut text = String::new();
    write_canonical(value, &mut text);
    hex(&Sha256::digest(text.as_bytes()))
}

/// The hashed content of an event (everything but its id and own hash).
pub struct Fields<'a> {
    pub occurred_at: &'a DateTime<Utc>,
    pub actor_sub: &'a str,
    pub actor_role: &'a str,
    pub action: &'a str,
    pub entity_type: &'a str,
    pub entity_id: &'a str,
    pub before: Option<&'a Value>,
    pub after: Option<&'a Value>,
    pub request_id: Option<&'a str>,
    pub department_id: Option<i32>,
    pub prev_hash: &'a str,
}

/// The fields of a stored event, for verification.
pub fn fields_of_model(event: &audit_event::Model) -> Fields<'_> {
    Fields {
        occurred_at: &event.occurred_at,
        actor_sub: &event.actor_sub,
        actor_role: &event.actor_role,
        action: &event.action,
        entity_type: &event.entity_type,
        entity_id: &event.entity_id,
        before: event.before.as_ref(),
        after: event.after.as_ref(),
        request_id: event.request_id.as_deref(),
        department_id: event.department_id,
        prev_hash: &event.prev_hash,
    }
}

/// The hash of an event's fields, chained to `fields.prev_hash`.
pub fn hash_of(fields: &Fields<'_>) -> String {
    let canonical = json!({
        "occurred_at": fields.occurred_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        "actor_sub": fields.actor_sub,
        "actor_role": fields.actor_role,
        "action": fields.action,
        "entity_type": fields.entity_type,
        "entity_id": fields.entity_id,
        "before": fields.before,
        "after": fields.after,
        "request_id": fields.request_id,
        "department_id": fields.department_id,
    });
    let mut hasher = Sha256::new();
    hasher.update(fields.prev_hash.as_bytes());
    hasher.update(b"\n");
    let mut text = String::new();
    write_canonical(&canonical, &mut text);
    hasher.update(text.as_bytes());
    hex(&hasher.finalize())
}

/// Writes `value` as compact JSON with object keys sorted.
fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                write_canonical(&map[key], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
