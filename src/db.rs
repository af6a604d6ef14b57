//! Opening the database and running migrations; the write transaction's beginning and end,
//! and the news of its commit for whoever in this process follows the data ([`commits`]).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbErr,
    SqliteTransactionMode, Statement, TransactionOptions, TransactionTrait,
};

use tokio::sync::watch;

use crate::config::Config;
use crate::error::AppResult;

/// SQLite's page cache per connection, in KiB (SQLite's default is 2 MiB). At province scale
/// (100,000 findings, a 750 MB file) the indexes a page of random filters and orders walks do
/// not stay in 2 MiB: each read fetches them again from the operating system. 8 MiB served the
/// random filter/order draws 12–15 % faster, p99 under 100 ms (docs/BENCHMARKS.md); a cache is
/// filled only as pages are read, so a small database never holds more than its size. At most
/// the pool's connections times this (16 × 8 MiB by default). Memory-mapped I/O did a little
/// better still, but maps the file once per connection, and each mapping counts in the
/// process's resident size.
pub const SQLITE_CACHE_KIB: u32 = 8 * 1024;

/// Opens a pool on the configured database. SQLite gets WAL (readers never wait for the
/// writer), foreign keys (off by default in SQLite) and a busy timeout (a second writer waits
/// instead of failing at once).
pub async fn connect(config: &Config) -> Result<DatabaseConnection, DbErr> {
    open(config, config.db_max_connections, true).await
}

/// [`connect`] with a pool of at most `max` connections (the background work's own pool).
pub async fn connect_sized(config: &Config, max: u32) -> Result<DatabaseConnection, DbErr> {
    open(config, max, false).await
}

/// Opens a pool. With `timed`, sqlx reports every checkout's wait for a connection as a
/// `sqlx::pool::acquire` event with `acquired_after_secs` (its documented pool option), which
/// [`crate::telemetry`] turns into the requests' pool wait histogram; only the request pool
/// is timed, so that the background pools' waits are not counted as requests'.
async fn open(config: &Config, max: u32, timed: bool) -> Result<DatabaseConnection, DbErr> {
    // Off, sqlx emits nothing; on, both the usual and the slow checkouts carry the wait (the
    // slow ones at the "slow" level, which would otherwise be a warning nobody's filter shows).
    let acquire_level = if timed {
        log::LevelFilter::Trace
    } else {
        log::LevelFilter::Off
    };
    // PostgreSQL cancels a statement that outlives the request it serves.
    let statement_timeout = config.request_timeout.as_millis().max(1).to_string();
    let mut options = ConnectOptions::new(config.database_url.clone());
    options
        .max_connections(max)
        .min_connections(1)
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(30))
        .sqlx_logging(false)
        // sqlx pings a connection on every checkout by default: a round trip per statement.
        // Only a connection idle long enough to have been dropped by the server or a firewall
        // is worth testing; a broken busy one fails its statement and is replaced.
        .test_before_acquire_if_idle_for(Duration::from_secs(30))
        .map_sqlx_postgres_pool_opts(move |pool| {
            pool.acquire_time_level(acquire_level)
                .acquire_slow_level(acquire_level)
        })
        .map_sqlx_sqlite_pool_opts(move |pool| {
            pool.acquire_time_level(acquire_level)
                .acquire_slow_level(acquire_level)
        })
        .map_sqlx_postgres_opts(move |opts| {
            opts.options([("statement_timeout", statement_timeout.as_str())])
        })
        .map_sqlx_sqlite_opts(|opts| {
            opts.journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10))
                // Negative: KiB, not pages.
                .pragma("cache_size", format!("-{SQLITE_CACHE_KIB}"))
        });
    Database::connect(options).await
}

/// Counts the SQL statements a connection runs (for `/metrics` and the benchmarks' statements
/// per request). Set before the connection is cloned: clones share the callback.
pub fn count_statements(db: &mut DatabaseConnection) -> Arc<AtomicU64> {
    let counter = Arc::new(AtomicU64::new(0));
    let seen = counter.clone();
    let log = StatementLog::default();
    capture::register(&counter, log.clone());
    db.set_metric_callback(move |info| {
        seen.fetch_add(1, Ordering::Relaxed);
        crate::metrics::count_statement();
        log.record(info.statement);
        tracing::trace!(target: "rectrack::sql", elapsed = ?info.elapsed, failed = info.failed, sql = %info.statement.sql);
    });
    counter
}

/// The statements (texts and values) a connection ran while a capture was on: the plan test
/// runs each through `EXPLAIN`. Off, it costs one atomic load per statement.
#[derive(Clone, Default)]
pub struct StatementLog {
    on: Arc<AtomicBool>,
    seen: Arc<Mutex<Vec<Statement>>>,
}

impl StatementLog {
    /// The log of the connection whose statements `counter` counts (the app's
    /// `sql_statements`), if [`count_statements`] made it.
    pub fn of(counter: &Arc<AtomicU64>) -> Option<Self> {
        capture::find(counter)
    }

    /// Starts keeping statements, forgetting any kept before.
    pub fn start(&self) {
        self.seen.lock().unwrap_or_else(|e| e.into_inner()).clear();
        self.on.store(true, Ordering::SeqCst);
    }

    /// Stops keeping statements and hands over those kept.
    pub fn take(&self) -> Vec<Statement> {
        self.on.store(false, Ordering::SeqCst);
        std::mem::take(&mut *self.seen.lock().unwrap_or_else(|e| e.into_inner()))
    }

    fn record(&self, statement: &Statement) {
        if self.on.load(Ordering::Relaxed) {
            self.seen
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(statement.clone());
        }
    }
}

/// Which log belongs to which counter. The state holds only the counter; a registry here keeps
/// the log reachable from it without another field in the state every server carries.
mod capture {
    use std::sync::atomic::AtomicU64;
    use std::sync::{Arc, Mutex, Weak};

    use super::StatementLog;

    static LOGS: Mutex<Vec<(Weak<AtomicU64>, StatementLog)>> = Mutex::new(Vec::new());

    pub(super) fn register(counter: &Arc<AtomicU64>, log: StatementLog) {
        let mut logs = LOGS.lock().unwrap_or_else(|e| e.into_inner());
        // Servers come and go in the tests: forget the logs of counters gone.
        logs.retain(|(counter, _)| counter.strong_count() > 0);
        logs.push((Arc::downgrade(counter), log));
    }

    pub(super) fn find(counter: &Arc<AtomicU64>) -> Option<StatementLog> {
        let logs = LOGS.lock().unwrap_or_else(|e| e.into_inner());
        logs.iter()
            .find(|(c, _)| std::ptr::eq(c.as_ptr(), Arc::as_ptr(counter)))
            .map(|(_, log)| log.clone())
    }
}

/// Drops every table and migrates from scratch (destroys all data). SQLite refuses to drop a
/// table that others refer to while foreign keys are enforced, so there the tables are dropped
/// on one connection with enforcement off (it is back on for every later connection).
pub async fn fresh(config: &Config) -> Result<(), DbErr> {
    if !config.is_sqlite() {
        let db = connect(config).await?;
        return Migrator::fresh(&db).await;
    }
    let mut options = ConnectOptions::new(config.database_url.clone());
    options
        .max_connections(1)
        .min_connections(1)
        .sqlx_logging(false)
        .map_sqlx_sqlite_opts(|opts| opts.foreign_keys(false));
    let db = Database::connect(options).await?;
    Migrator::fresh(&db).await?;
    db.close().await
}

/// Applies every pending migration.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    Migrator::up(db, None).await
}

/// Begins a transaction that will write. On SQLite it takes the write lock up front
/// (`BEGIN IMMEDIATE`), so two writers queue on the busy timeout instead of one failing with
/// "database is locked" when it upgrades from reading to writing.
pub async fn begin_write(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..Default::default()
    })
    .await
}

/// Counts this process's committed write transactions. Whoever follows the data here (the
/// event pump, caches of reads) watches it: a watch never misses a change, however many
/// watchers and commits there are. The database layer owns it, so that the commands that
/// write need not know who listens.
static COMMITS: LazyLock<watch::Sender<u64>> = LazyLock::new(|| watch::channel(0).0);

/// Commits a transaction begun by [`begin_write`] on `pool`, puts the audit events it wrote
/// on the chain (PostgreSQL chains them after the commit: [`crate::audit::chain_pending`]), and
/// then tells this process's watchers ([`watch_commits`]), so that the outbox is read now
/// rather than at the next poll. When it returns, the change is committed and its events are
/// on the chain (or, if chaining failed, durably waiting for the periodic pass): the change
/// may be answered.
pub async fn commit(pool: &DatabaseConnection, txn: DatabaseTransaction) -> AppResult<()> {
    txn.commit().await?;
    // The change and its events are committed together (on PostgreSQL the events wait in
    // `audit_pending`, durable): a chaining pass that fails here is no reason to answer a
    // committed change as failed (a client would retry it). The periodic pass chains them.
    if let Err(err) = crate::audit::chain_committed(pool).await {
        tracing::warn!(
            code = err.code(),
            "chaining committed audit events failed; the periodic pass will chain them"
        );
    }
    COMMITS.send_modify(|n| *n = n.wrapping_add(1));
    Ok(())
}

/// How many write transactions this process has committed through [`commit`] (what a cache
/// of reads compares to know that nothing has changed here since it read).
pub fn commits() -> u64 {
    *COMMITS.borrow()
}

/// Wakes on every [`commit`] of this process from now on.
pub fn watch_commits() -> watch::Receiver<u64> {
    COMMITS.subscribe()
}

/// True when the database answers a trivial query.
pub async fn ping(db: &impl ConnectionTrait) -> bool {
    db.execute_unprepared("SELECT 1").await.is_ok()
}
