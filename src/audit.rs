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
    // Microseconds are what both databases store; hashing a finer time would not verify.
    let event = audit_event::Model {
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
        prev_hash: String::new(),
        hash: String::new(),
    };
    // The outbox row is written with the event, under the chain's lock, so that events become
    // visible in the order of their ids.
    let outbox = crate::domain::integration::events::of_audit(&event);
    if db.get_database_backend() == DbBackend::Postgres {
        return append_postgres(db, event, outbox).await;
    }
    // SQLite write transactions are serial (BEGIN IMMEDIATE): the head read here is the end of
    // the chain until this transaction commits.
    let head = audit_head::Entity::find_by_id(1)
        .one(db)
        .await?
        .ok_or_else(|| AppError::internal("the audit chain has no head row"))?;
    let mut event = event;
    event.prev_hash = head.last_hash.clone();
    event.hash = hash_of(&fields_of_model(&event));
    let mut active: audit_event::ActiveModel = event.into();
    active.id = NotSet;
    let inserted = active.insert(db).await?;
    if let Some(row) = outbox {
        crate::domain::integration::events::write(db, row).await?;
    }
    // The head says where the chain ends; an event removed from its end is then a missing link.
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

/// The append on PostgreSQL, in one statement: lock the head row (`FOR UPDATE`, held to commit,
/// so that two writers never chain onto the same predecessor and ids commit in order), insert
/// the event hashed onto the head's hash (`sha256(prev_hash || "\n" || canonical)`, computed by
/// the database from the canonical text computed here: the same bytes [`hash_of`] hashes), its
/// outbox row and `NOTIFY` (delivered at commit), and move the head. Every audited write holds
/// the lock from this statement to its commit: one round trip and the commit, where reading
/// the head, inserting, publishing and moving the head one by one took five, and the lock's
/// holding time is what bounds audited writes per second.
///
/// Each step reads the one before (the event from the locked head, the outbox row from the
/// event, the head's move and the notification from them), which orders their execution.
async fn append_postgres(
    db: &impl ConnectionTrait,
    event: audit_event::Model,
    outbox: Option<entity::event::Model>,
) -> AppResult<()> {
    use sea_orm::{Statement, Value as V};
    let canonical = canonical_of(&fields_of_model(&event));
    let mut values: Vec<V> = vec![
        event.occurred_at.into(),
        event.actor_sub.into(),
        event.actor_role.into(),
        event.action.into(),
        event.entity_type.into(),
        event.entity_id.into(),
        event.before.into(),
        event.after.into(),
        event.request_id.into(),
        event.department_id.into(),
        canonical.into(),
    ];
    let (publish, notified) = match outbox {
        Some(row) => {
            values.extend([
                row.kind.into(),
                row.finding_id.into(),
                row.payload.into(),
                crate::domain::integration::events::CHANNEL.into(),
            ]);
            (
                ", published AS (INSERT INTO event (kind, action, entity_type, entity_id, \
                 finding_id, department_id, payload, occurred_at) \
                 SELECT $12, e.action, e.entity_type, e.entity_id::integer, $13, e.department_id, \
                 $14, e.occurred_at FROM appended e RETURNING id), \
                 woken AS (SELECT pg_notify($15, id::text) FROM published)",
                "(SELECT COUNT(*) FROM woken)",
            )
        }
        None => ("", "0"),
    };
    let sql = format!(
        "WITH head AS (SELECT last_hash FROM audit_head WHERE id = 1 FOR UPDATE), \
         appended AS (INSERT INTO audit_event (occurred_at, actor_sub, actor_role, action, \
         entity_type, entity_id, before, after, request_id, department_id, prev_hash, hash) \
         SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, h.last_hash, \
         encode(sha256(convert_to(h.last_hash || chr(10) || $11, 'UTF8')), 'hex') FROM head h \
         RETURNING id, hash, action, entity_type, entity_id, department_id, occurred_at), \
         moved AS (UPDATE audit_head SET last_event_id = a.id, last_hash = a.hash, \
         events = audit_head.events + 1 FROM appended a WHERE audit_head.id = 1 RETURNING 1){publish} \
         SELECT (SELECT COUNT(*) FROM appended) AS appended, (SELECT COUNT(*) FROM moved) AS moved, \
         {notified} AS woken"
    );
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            sql,
            values,
        ))
        .await?
        .ok_or_else(|| AppError::internal("the audit chain's append answered nothing"))?;
    let appended: i64 = row.try_get("", "appended")?;
    let moved: i64 = row.try_get("", "moved")?;
    if appended != 1 || moved != 1 {
        return Err(AppError::internal("the audit chain has no head row"));
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

/// The chain's events after event `after_id` up to and including `through_id`, in chain
/// order, at most `limit` of them: a segment read page by page (the next page starts after
/// the last event of this one). Every reader of a segment of the chain (exchange bundles) goes
/// through here, so that how the chain's order is stored is known in this one place.
pub async fn segment(
    db: &impl ConnectionTrait,
    after_id: i32,
    through_id: i32,
    limit: u64,
) -> AppResult<Vec<audit_event::Model>> {
    use sea_orm::QueryOrder;
    Ok(audit_event::Entity::find()
        .filter(audit_event::Column::Id.gt(after_id))
        .filter(audit_event::Column::Id.lte(through_id))
        .order_by_asc(audit_event::Column::Id)
        .limit(limit)
        .all(db)
        .await?)
}

/// Where the chain ends: the last event's id and hash (0 and [`GENESIS`] before any).
pub async fn end(db: &impl ConnectionTrait) -> AppResult<(i32, String)> {
    let head = audit_head::Entity::find_by_id(1)
        .one(db)
        .await?
        .ok_or_else(|| AppError::internal("the audit chain has no head row"))?;
    Ok((head.last_event_id, head.last_hash))
}

/// A JSON value as canonical text: compact, object keys sorted at every depth (what
/// [`digest`] hashes, and what an exchange bundle's manifest is signed as).
pub fn canonical(value: &Value) -> String {
    let mut text = String::new();
    write_canonical(value, &mut text);
    text
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

/// The hash of an event's fields, chained to `fields.prev_hash`:
/// `sha256(prev_hash || "\n" || canonical)`.
pub fn hash_of(fields: &Fields<'_>) -> String {
    let mut hasher = Sha256::new();
    hasher.update(fields.prev_hash.as_bytes());
    hasher.update(b"\n");
    hasher.update(canonical_of(fields).as_bytes());
    hex(&hasher.finalize())
}

/// The hashed text of an event: its fields but the predecessor's hash, as canonical JSON.
fn canonical_of(fields: &Fields<'_>) -> String {
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
    let mut text = String::new();
    write_canonical(&canonical, &mut text);
    text
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
