//! The audit trail: every change is written as one event, chained to the one before it by
//! SHA-256, so that editing or removing any event breaks the chain at that point.
//!
//! `hash = sha256(prev_hash || "\n" || canonical JSON of the event's fields)`, where canonical
//! JSON writes object keys sorted at every depth, so that an event encodes to the same bytes
//! however the database (PostgreSQL's jsonb reorders keys) hands its JSON back.

use chrono::{DateTime, SubsecRound, Utc};
use entity::{audit_event, audit_head, audit_pending};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::{NotSet, Set},
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, QueryTrait, TransactionTrait,
};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex as StdMutex, PoisonError, Weak};

use sea_orm::sqlx::postgres::PgConnectOptions;

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

/// Appends one event to the trail. Call it inside the transaction that makes the change, so
/// the change and its event commit or roll back together.
///
/// On SQLite (writes are serial) the event is chained here. On PostgreSQL it is written
/// unchained ([`audit_pending`]) and chained after the commit by [`chain_pending`], which
/// [`crate::db::commit`] runs before the change is answered: no lock is held across the
/// change's commit, so concurrent writers commit (and flush) together instead of one by one.
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
    if db.get_database_backend() == DbBackend::Postgres {
        let pending = audit_pending::ActiveModel {
            id: NotSet,
            occurred_at: Set(event.occurred_at),
            actor_sub: Set(event.actor_sub),
            actor_role: Set(event.actor_role),
            action: Set(event.action),
            entity_type: Set(event.entity_type),
            entity_id: Set(event.entity_id),
            before: Set(event.before),
            after: Set(event.after),
            request_id: Set(event.request_id),
            department_id: Set(event.department_id),
        };
        audit_pending::Entity::insert(pending)
            .exec_without_returning(db)
            .await?;
        return Ok(());
    }
    // The outbox row is written with the event, in the same serial transaction, so that
    // events become visible in the order of their ids.
    let outbox = crate::domain::integration::events::of_audit(&event);
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

/// Events inserted per statement when appending many (13 values each: under both databases'
/// limits on bound values).
const EVENTS_PER_STATEMENT: usize = 500;

/// Pending events chained per transaction by [`chain_pending`].
const CHAINED_PER_PASS: u64 = 2000;

/// The PostgreSQL advisory lock that makes [`chain_pending`] one at a time across every
/// process sharing the database ("rectrack" in ASCII). It is taken before the head row's lock
/// so that a pass that finds nothing to chain writes nothing: its commit has no transaction
/// id to flush, and the many writers that find their events already chained by another's
/// pass cost no disk flush each.
const CHAINER_LOCK: i64 = 0x7265_6374_7261_636b;

/// Chains every event waiting on PostgreSQL ([`audit_pending`]), oldest first, in batches:
/// each batch one transaction that takes the chain's head, appends the events to the chain
/// (the ids of `audit_event` are taken under the head's lock, so they commit in chain order,
/// which is what the trail's readers, the outbox's pumps and `kept::Generation` follow), writes
/// their outbox rows, removes them from the waiting table and moves the head. Returns how
/// many it chained. On SQLite nothing waits (events are chained as they are recorded).
///
/// A writer that committed its change calls this before answering: when it returns, every
/// event committed before the call is on the chain (chained by this pass, or by another that
/// held the lock first), so nothing acknowledged is left unchained. Events of a process that
/// died between its commit and its pass are chained by the next pass of any process: the
/// server's start and its periodic pass ([`start_chainer`]).
pub async fn chain_pending(pool: &DatabaseConnection) -> AppResult<u64> {
    if pool.get_database_backend() != DbBackend::Postgres {
        return Ok(0);
    }
    // A cheap look first: with nothing waiting (the usual case for the periodic pass), no
    // transaction at all.
    let waiting = audit_pending::Entity::find()
        .select_only()
        .column(audit_pending::Column::Id)
        .limit(1)
        .into_tuple::<i32>()
        .one(pool)
        .await?;
    if waiting.is_none() {
        return Ok(0);
    }
    chain_committed(pool).await
}

/// [`chain_pending`] without the look, for a writer that has just committed: nearly every
/// committed change records events, which then wait, so the look would find them (a statement
/// per write saved; a commit that recorded none costs an empty pass).
pub async fn chain_committed(pool: &DatabaseConnection) -> AppResult<u64> {
    if pool.get_database_backend() != DbBackend::Postgres {
        return Ok(0);
    }
    // The writers of this process share passes: a writer needs a pass that began after it
    // arrived (its commit is then visible to it), and the writers arriving while one runs
    // share the next, run by one of them, instead of each queueing on the database's lock
    // with a connection of the pool held (which starved the requests of connections).
    let flight = flight_of(pool);
    let need = flight.begun.load(Ordering::SeqCst) + 1;
    let _turn = flight.turn.lock().await;
    if flight.done.load(Ordering::SeqCst) >= need {
        return Ok(0);
    }
    let number = flight.begun.fetch_add(1, Ordering::SeqCst) + 1;
    let chained = chain_pass(pool).await?;
    flight.done.store(number, Ordering::SeqCst);
    Ok(chained)
}

/// The passes of one pool: begun so far, the newest done, and the turn to run one.
#[derive(Default)]
struct Flight {
    begun: AtomicU64,
    done: AtomicU64,
    turn: tokio::sync::Mutex<()>,
}

/// The passes of the PostgreSQL pool `pool` belongs to (its clones share them), found by the
/// pool's connect options, which the pool holds for its life.
fn flight_of(pool: &DatabaseConnection) -> Arc<Flight> {
    type Pools = Vec<(Weak<PgConnectOptions>, Arc<Flight>)>;
    static FLIGHTS: StdMutex<Pools> = StdMutex::new(Vec::new());
    let options = pool.get_postgres_connection_pool().connect_options();
    let mut flights = FLIGHTS.lock().unwrap_or_else(PoisonError::into_inner);
    // Servers come and go in the tests: forget the pools gone.
    flights.retain(|(o, _)| o.strong_count() > 0);
    if let Some((_, flight)) = flights
        .iter()
        .find(|(o, _)| std::ptr::eq(o.as_ptr(), Arc::as_ptr(&options)))
    {
        return flight.clone();
    }
    let flight = Arc::new(Flight::default());
    flights.push((Arc::downgrade(&options), flight.clone()));
    flight
}

/// Chains what waits, a batch per transaction, one pass at a time across every process
/// sharing the database (the advisory lock).
async fn chain_pass(pool: &DatabaseConnection) -> AppResult<u64> {
    let mut chained = 0;
    loop {
        let txn = pool.begin().await?;
        txn.execute_raw(sea_orm::Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT pg_advisory_xact_lock($1)",
            [CHAINER_LOCK.into()],
        ))
        .await?;
        let pending = audit_pending::Entity::find()
            .order_by_asc(audit_pending::Column::Id)
            .limit(CHAINED_PER_PASS)
            .all(&txn)
            .await?;
        let count = pending.len() as u64;
        if pending.is_empty() {
            txn.commit().await?;
            return Ok(chained);
        }
        let ids: Vec<i32> = pending.iter().map(|p| p.id).collect();
        let events = pending.into_iter().map(unchained).collect();
        append(&txn, events).await?;
        let removed = audit_pending::Entity::delete_many()
            .filter(audit_pending::Column::Id.is_in(ids))
            .exec(&txn)
            .await?;
        if removed.rows_affected != count {
            return Err(AppError::internal(
                "the audit chain's waiting events changed during a pass",
            ));
        }
        txn.commit().await?;
        chained += count;
        if count < CHAINED_PER_PASS {
            return Ok(chained);
        }
    }
}

/// Keeps the chain complete on PostgreSQL without a writer's help: one pass now (the events
/// of a process that died between a commit and its pass), then one every second.
pub fn start_chainer(pool: DatabaseConnection) {
    if pool.get_database_backend() != DbBackend::Postgres {
        return;
    }
    tokio::spawn(async move {
        loop {
            match chain_pending(&pool).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(events = n, "audit events chained by the periodic pass"),
                Err(err) => tracing::warn!(code = err.code(), "chaining audit events failed"),
            }
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        }
    });
}

/// How many events of committed changes wait for their place on the chain (PostgreSQL: a
/// process stopped between a commit and its pass; the next pass chains them).
pub async fn waiting(db: &impl ConnectionTrait) -> AppResult<u64> {
    Ok(audit_pending::Entity::find().count(db).await?)
}

/// Where the trail stood at one moment, as [`recorded_since`] takes it.
#[derive(Debug, Clone, Copy)]
pub struct Mark {
    chained: i32,
    waiting: i32,
}

/// The trail's end now, chained and waiting, as `db` sees it.
pub async fn mark(db: &impl ConnectionTrait) -> AppResult<Mark> {
    let chained = audit_event::Entity::find()
        .select_only()
        .column_as(audit_event::Column::Id.max(), "id")
        .into_tuple::<Option<i32>>()
        .one(db)
        .await?
        .flatten()
        .unwrap_or(0);
    let waiting = audit_pending::Entity::find()
        .select_only()
        .column_as(audit_pending::Column::Id.max(), "id")
        .into_tuple::<Option<i32>>()
        .one(db)
        .await?
        .flatten()
        .unwrap_or(0);
    Ok(Mark { chained, waiting })
}

/// The events recorded after `mark`, as `db` sees them (inside a transaction, its own events
/// too, which on PostgreSQL wait for the chain until after its commit): chained ones in chain
/// order, then waiting ones in the order they were recorded. Their links and hashes are not
/// read (a waiting event has none yet).
pub async fn recorded_since(
    db: &impl ConnectionTrait,
    mark: &Mark,
) -> AppResult<Vec<audit_event::Model>> {
    let mut events = audit_event::Entity::find()
        .filter(audit_event::Column::Id.gt(mark.chained))
        .order_by_asc(audit_event::Column::Id)
        .all(db)
        .await?;
    let waiting = audit_pending::Entity::find()
        .filter(audit_pending::Column::Id.gt(mark.waiting))
        .order_by_asc(audit_pending::Column::Id)
        .all(db)
        .await?;
    events.extend(waiting.into_iter().map(unchained));
    Ok(events)
}

/// A waiting event as an event without its place on the chain (no id, link or hash yet).
fn unchained(p: audit_pending::Model) -> audit_event::Model {
    audit_event::Model {
        id: 0,
        occurred_at: p.occurred_at,
        actor_sub: p.actor_sub,
        actor_role: p.actor_role,
        action: p.action,
        entity_type: p.entity_type,
        entity_id: p.entity_id,
        before: p.before,
        after: p.after,
        request_id: p.request_id,
        department_id: p.department_id,
        prev_hash: String::new(),
        hash: String::new(),
    }
}

/// Appends several events at once (a sweep's crossings) inside the caller's transaction: the
/// chain is the one `record` would make event by event (the same fields, hashes and links),
/// for a handful of statements instead of several per event.
pub async fn record_many(
    db: &impl ConnectionTrait,
    actor: &Actor,
    changes: Vec<Change<'_>>,
) -> AppResult<()> {
    if changes.is_empty() {
        return Ok(());
    }
    let occurred_at = Utc::now().trunc_subsecs(6);
    let events = changes
        .into_iter()
        .map(|change| audit_event::Model {
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
            prev_hash: String::new(),
            hash: String::new(),
        })
        .collect();
    append(db, events).await
}

/// Appends `events` (their links and hashes computed here) to the end of the chain: the head
/// locked and read once (PostgreSQL: `FOR UPDATE`, held to the caller's commit; SQLite's write
/// transactions are serial), the events chained in memory and inserted a few hundred per
/// statement, their outbox events likewise, the head moved once.
async fn append(db: &impl ConnectionTrait, mut events: Vec<audit_event::Model>) -> AppResult<()> {
    let mut find = audit_head::Entity::find_by_id(1);
    if db.get_database_backend() == DbBackend::Postgres {
        find = find.lock_exclusive();
    }
    let head = find
        .one(db)
        .await?
        .ok_or_else(|| AppError::internal("the audit chain has no head row"))?;
    let mut prev_hash = head.last_hash.clone();
    for event in &mut events {
        event.prev_hash = prev_hash;
        event.hash = hash_of(&fields_of_model(event));
        prev_hash = event.hash.clone();
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

/// Whether `hash` is event `id`'s on this chain as it is (id 0: the chain's start, whose hash
/// is [`GENESIS`]): what a peer's acknowledgement of a segment must name.
pub async fn holds(db: &impl ConnectionTrait, id: i32, hash: &str) -> AppResult<bool> {
    if id == 0 {
        return Ok(hash == GENESIS);
    }
    Ok(audit_event::Entity::find_by_id(id)
        .one(db)
        .await?
        .is_some_and(|event| event.hash == hash))
}

/// Whether an event of the chain after `after_id`, up to and including `through_id`, was
/// recorded in one of `departments` (a subquery of ids) by anything but `excluded_action`
/// (an SQL `LIKE` pattern): one row read at most.
pub async fn any_in_segment(
    db: &impl ConnectionTrait,
    after_id: i32,
    through_id: i32,
    departments: sea_orm::sea_query::SelectStatement,
    excluded_action: &str,
) -> AppResult<bool> {
    Ok(audit_event::Entity::find()
        .select_only()
        .column(audit_event::Column::Id)
        .filter(audit_event::Column::Id.gt(after_id))
        .filter(audit_event::Column::Id.lte(through_id))
        .filter(audit_event::Column::Action.not_like(excluded_action))
        .filter(audit_event::Column::DepartmentId.in_subquery(departments))
        .into_tuple::<i32>()
        .one(db)
        .await?
        .is_some())
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
