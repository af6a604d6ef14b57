//! The metrics rectrack serves at `/metrics` (Prometheus text format), through the `metrics`
//! facade and its Prometheus exporter. Every metric name is a constant here, described once in
//! [`Metrics::new`], and listed with its labels in the README (Metrics).
//!
//! The registry is per server, not process-wide: each [`Metrics`] holds its own
//! `PrometheusRecorder`, and everything is recorded through [`Metrics::record`]
//! (`metrics::with_local_recorder`). A global recorder would mix the counts of every server a
//! process runs (the tests run hundreds in one process and read each one's own counts), and
//! could be installed only once.
//!
//! Values that are states rather than events (pool connections, outbox lag, webhook queue,
//! open subscriptions, backup age) are sampled when `/metrics` is scraped
//! ([`crate::http::metrics`]), so nothing polls between scrapes.
//!
//! Other parts record through the server's handle (`state.metrics`, or the one handed to the
//! background work), e.g. `metrics.record(|| metrics::gauge!(BACKUP_AGE).set(age))`; the
//! named helpers below cover the common cases.

use std::collections::HashSet;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use metrics::{
    Unit, counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram,
};
use metrics_exporter_prometheus::{
    Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder,
};

/// SQL statements run by the request pool since start-up (counter, no labels).
pub const SQL_STATEMENTS: &str = "rectrack_sql_statements_total";
/// HTTP requests answered, by `route` (the matched path template), `method` and `status`.
pub const HTTP_REQUESTS: &str = "rectrack_http_requests_total";
/// HTTP request latency in seconds, by `route` and `method` (histogram).
pub const HTTP_DURATION: &str = "rectrack_http_request_duration_seconds";
/// SQL statements one HTTP request ran, by `route` (histogram).
pub const HTTP_SQL: &str = "rectrack_http_request_sql_statements";
/// GraphQL operations run, by `operation` (name) and `type` (query, mutation, subscription).
pub const GRAPHQL_OPERATIONS: &str = "rectrack_graphql_operations_total";
/// GraphQL operation latency in seconds, by `operation` and `type` (queries and mutations).
pub const GRAPHQL_DURATION: &str = "rectrack_graphql_operation_duration_seconds";
/// GraphQL errors answered, by `operation`, `type` and `code` (`extensions.code`).
pub const GRAPHQL_ERRORS: &str = "rectrack_graphql_errors_total";
/// Connections of a pool, by `pool` (`request`, `background`) and `state` (`in_use`, `idle`).
pub const DB_CONNECTIONS: &str = "rectrack_db_pool_connections";
/// How long requests waited for a connection of the request pool, in seconds, by `pool`
/// (histogram). Its sum's rate is the mean number of requests waiting (Little's law): sqlx
/// reports each checkout's wait when it ends, never how many are waiting at a given moment.
pub const DB_POOL_WAIT: &str = "rectrack_db_pool_wait_seconds";
/// The most connections a pool may open, by `pool`.
pub const DB_MAX_CONNECTIONS: &str = "rectrack_db_pool_max_connections";
/// Outbox events written but not yet delivered by the event pump (newest id minus the pump's).
pub const OUTBOX_LAG: &str = "rectrack_outbox_lag_events";
/// Webhook deliveries waiting to be sent, by `endpoint` (the endpoint's id).
pub const WEBHOOK_QUEUE: &str = "rectrack_webhook_queue_depth";
/// Webhook attempts that failed (refused or no answer), by `endpoint`.
pub const WEBHOOK_FAILURES: &str = "rectrack_webhook_failures_total";
/// GraphQL subscription sockets open.
pub const SUBSCRIPTIONS_OPEN: &str = "rectrack_subscriptions_open";
/// Early-warning sweeps' duration in seconds (histogram).
pub const SWEEP_DURATION: &str = "rectrack_warning_sweep_duration_seconds";
/// Early-warning crossings raised by the sweeps.
pub const SWEEP_CROSSINGS: &str = "rectrack_warning_sweep_crossings_total";
/// The finding id the running (or last) sweep has checked up to: its progress.
pub const SWEEP_PROGRESS: &str = "rectrack_warning_sweep_checked_up_to";
/// Seconds since the last successful backup; NaN until one happened in this server's life.
pub const BACKUP_AGE: &str = "rectrack_backup_age_seconds";

/// Distinct operation names kept as labels; later ones are counted as [`OTHER`].
const MAX_OPERATION_NAMES: usize = 100;
/// Longest operation name kept as a label; longer ones are counted as [`OTHER`].
const MAX_OPERATION_NAME_LEN: usize = 64;
/// The label of operation names past the caps.
pub const OTHER: &str = "other";
/// The label of an operation sent without a name.
pub const ANONYMOUS: &str = "anonymous";

/// Latency buckets (seconds): from a cached read to the request timeout.
const SECONDS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];
/// Statement-count buckets: a read is a handful, a bulk import hundreds.
const STATEMENTS: &[f64] = &[0.0, 1.0, 2.0, 3.0, 5.0, 10.0, 20.0, 50.0, 100.0, 500.0];
/// Pool wait buckets (seconds): a free connection is handed out in microseconds; a wait as
/// long as the acquire time-out (30 s) is a pool far too small for its load.
const WAIT_SECONDS: &[f64] = &[
    0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0, 30.0,
];
/// Sweep buckets (seconds): a few findings to a six-figure imported ledger.
const SWEEP_SECONDS: &[f64] = &[0.1, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 900.0];

/// One server's metrics registry.
pub struct Metrics {
    recorder: PrometheusRecorder,
    handle: PrometheusHandle,
    /// Operation names seen so far (clients choose them: the label set is capped).
    names: Mutex<HashSet<String>>,
    /// When the last backup finished (Unix seconds as f64 bits; NaN: none yet).
    backup_at: AtomicU64,
    /// Endpoints the last scrape saw deliveries waiting for (set to 0 once emptied).
    queued_endpoints: Mutex<HashSet<i32>>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let builder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_duration_seconds".into()), SECONDS)
            .and_then(|b| b.set_buckets_for_metric(Matcher::Full(HTTP_SQL.into()), STATEMENTS))
            .and_then(|b| {
                b.set_buckets_for_metric(Matcher::Full(SWEEP_DURATION.into()), SWEEP_SECONDS)
            })
            .and_then(|b| {
                b.set_buckets_for_metric(Matcher::Full(DB_POOL_WAIT.into()), WAIT_SECONDS)
            })
            .expect("bucket lists are non-empty constants");
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        let this = Self {
            recorder,
            handle,
            names: Mutex::new(HashSet::new()),
            backup_at: AtomicU64::new(f64::NAN.to_bits()),
            queued_endpoints: Mutex::new(HashSet::new()),
        };
        this.record(describe);
        this
    }

    /// Runs `f` with this server's registry as the recorder the `metrics` macros write to.
    pub fn record<T>(&self, f: impl FnOnce() -> T) -> T {
        metrics::with_local_recorder(&self.recorder, f)
    }

    /// The registry in the Prometheus text format.
    pub fn render(&self) -> String {
        self.handle.render()
    }

    /// One HTTP request answered.
    pub fn http_request(
        &self,
        route: &str,
        method: &str,
        status: u16,
        elapsed: Duration,
        statements: u32,
    ) {
        let (route, method) = (route.to_owned(), method.to_owned());
        self.record(|| {
            counter!(HTTP_REQUESTS, "route" => route.clone(), "method" => method.clone(), "status" => status.to_string())
                .increment(1);
            histogram!(HTTP_DURATION, "route" => route.clone(), "method" => method)
                .record(elapsed.as_secs_f64());
            histogram!(HTTP_SQL, "route" => route).record(f64::from(statements));
        });
    }

    /// The label for a client-chosen operation name: itself while the caps allow, else
    /// [`OTHER`].
    pub fn operation_label(&self, name: Option<&str>) -> String {
        let Some(name) = name else {
            return ANONYMOUS.to_owned();
        };
        if name.len() > MAX_OPERATION_NAME_LEN {
            return OTHER.to_owned();
        }
        let mut names = self.names.lock().unwrap_or_else(|e| e.into_inner());
        if names.contains(name) {
            return name.to_owned();
        }
        if names.len() < MAX_OPERATION_NAMES {
            names.insert(name.to_owned());
            return name.to_owned();
        }
        OTHER.to_owned()
    }

    /// One GraphQL operation answered (`elapsed` for queries and mutations, not for a
    /// subscription's start), with the codes of its errors.
    pub fn graphql_operation<'a>(
        &self,
        operation: &str,
        kind: &'static str,
        elapsed: Option<Duration>,
        codes: impl IntoIterator<Item = &'a str>,
    ) {
        let operation = operation.to_owned();
        self.record(|| {
            counter!(GRAPHQL_OPERATIONS, "operation" => operation.clone(), "type" => kind)
                .increment(1);
            if let Some(elapsed) = elapsed {
                histogram!(GRAPHQL_DURATION, "operation" => operation.clone(), "type" => kind)
                    .record(elapsed.as_secs_f64());
            }
            for code in codes {
                self.graphql_error(&operation, kind, code);
            }
        });
    }

    /// One error of a GraphQL operation (a subscription's events report theirs one by one).
    pub fn graphql_error(&self, operation: &str, kind: &'static str, code: &str) {
        let (operation, code) = (operation.to_owned(), code.to_owned());
        self.record(|| {
            counter!(GRAPHQL_ERRORS, "operation" => operation, "type" => kind, "code" => code)
                .increment(1);
        });
    }

    /// One webhook attempt failed.
    pub fn webhook_failed(&self, endpoint: i32) {
        self.record(|| counter!(WEBHOOK_FAILURES, "endpoint" => endpoint.to_string()).increment(1));
    }

    /// The webhook deliveries waiting per endpoint, as sampled; an endpoint no longer listed
    /// has none waiting.
    pub fn webhook_queue(&self, queued: &[(i32, i64)]) {
        let mut seen = self
            .queued_endpoints
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let now: HashSet<i32> = queued.iter().map(|(endpoint, _)| *endpoint).collect();
        for gone in seen.difference(&now) {
            self.set(WEBHOOK_QUEUE, &[("endpoint", gone.to_string())], 0.0);
        }
        for (endpoint, count) in queued {
            self.set(
                WEBHOOK_QUEUE,
                &[("endpoint", endpoint.to_string())],
                *count as f64,
            );
        }
        seen.extend(now);
    }

    /// One early-warning sweep finished.
    pub fn sweep_finished(&self, elapsed: Duration) {
        self.record(|| histogram!(SWEEP_DURATION).record(elapsed.as_secs_f64()));
    }

    /// Crossings raised beside the pages (supervision orders' reminders and escalations).
    pub fn record_crossings(&self, raised: usize) {
        self.record(|| counter!(SWEEP_CROSSINGS).increment(raised as u64));
    }

    /// A sweep's page is done: `raised` crossings more, findings checked up to `checked`
    /// (so a long first sweep shows its progress while it runs).
    pub fn sweep_page(&self, raised: usize, checked: i32) {
        self.record(|| {
            counter!(SWEEP_CROSSINGS).increment(raised as u64);
            gauge!(SWEEP_PROGRESS).set(f64::from(checked));
        });
    }

    /// A backup finished at `at` (the backup's own clock): [`BACKUP_AGE`] counts from it.
    pub fn backup_finished(&self, at: SystemTime) {
        let secs = at
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs_f64();
        self.backup_at.store(secs.to_bits(), Ordering::Relaxed);
    }

    /// Seconds since the last backup (NaN when none happened).
    pub fn backup_age(&self) -> f64 {
        let at = f64::from_bits(self.backup_at.load(Ordering::Relaxed));
        if at.is_nan() {
            return f64::NAN;
        }
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs_f64();
        (now - at).max(0.0)
    }

    /// Sets a sampled gauge.
    pub fn set(&self, name: &'static str, labels: &[(&'static str, String)], value: f64) {
        let labels: Vec<metrics::Label> = labels
            .iter()
            .map(|(k, v)| metrics::Label::new(*k, v.clone()))
            .collect();
        self.record(|| gauge!(name, labels).set(value));
    }
}

/// Help texts (read by whoever looks at the scrape or builds a dashboard).
fn describe() {
    describe_counter!(SQL_STATEMENTS, "请求连接池自启动以来执行的 SQL 语句数");
    describe_counter!(
        HTTP_REQUESTS,
        "已应答的 HTTP 请求数，按路由模板、方法和状态码"
    );
    describe_histogram!(
        HTTP_DURATION,
        Unit::Seconds,
        "HTTP 请求耗时（秒），按路由模板和方法"
    );
    describe_histogram!(HTTP_SQL, "单个 HTTP 请求执行的 SQL 语句数，按路由模板");
    describe_counter!(GRAPHQL_OPERATIONS, "GraphQL 操作数，按操作名和类型");
    describe_histogram!(
        GRAPHQL_DURATION,
        Unit::Seconds,
        "GraphQL 查询和变更的耗时（秒），按操作名和类型"
    );
    describe_counter!(
        GRAPHQL_ERRORS,
        "GraphQL 错误数，按操作名、类型和错误码（extensions.code）"
    );
    describe_gauge!(
        DB_CONNECTIONS,
        "数据库连接池的连接数，按连接池和状态（in_use 使用中、idle 空闲）"
    );
    describe_histogram!(
        DB_POOL_WAIT,
        Unit::Seconds,
        "请求等待数据库连接的时间（秒），按连接池；其总和的增长率即平均等待中的请求数"
    );
    describe_gauge!(DB_MAX_CONNECTIONS, "数据库连接池的连接上限，按连接池");
    describe_gauge!(OUTBOX_LAG, "事件发件箱中已写入但尚未被事件泵分发的事件数");
    describe_gauge!(WEBHOOK_QUEUE, "等待发送的 Webhook 投递数，按端点编号");
    describe_counter!(WEBHOOK_FAILURES, "失败的 Webhook 投递尝试数，按端点编号");
    describe_gauge!(SUBSCRIPTIONS_OPEN, "当前打开的 GraphQL 订阅连接数");
    describe_histogram!(SWEEP_DURATION, Unit::Seconds, "预警扫描耗时（秒）");
    describe_counter!(SWEEP_CROSSINGS, "预警扫描产生的预警越线数");
    describe_gauge!(SWEEP_PROGRESS, "预警扫描已检查到的问题编号（扫描进度）");
    describe_gauge!(
        BACKUP_AGE,
        Unit::Seconds,
        "距上次成功备份的秒数；本次启动后尚无备份时为 NaN"
    );
}

tokio::task_local! {
    /// The request running on this task: its server's registry and the SQL statements it has
    /// run (see [`count_statement`] and [`pool_waited`]).
    static REQUEST: Running;
}

struct Running {
    metrics: std::sync::Arc<Metrics>,
    statements: std::cell::Cell<u32>,
}

/// Runs `f` (a request of the server whose registry is `metrics`) counting the SQL statements
/// run on its task; returns the count too. Statements of tasks it spawns (none on the request
/// path today) are not counted.
pub async fn counting_statements<F: std::future::Future>(
    metrics: std::sync::Arc<Metrics>,
    f: F,
) -> (F::Output, u32) {
    let running = Running {
        metrics,
        statements: std::cell::Cell::new(0),
    };
    REQUEST
        .scope(running, async {
            let out = f.await;
            (out, REQUEST.with(|r| r.statements.get()))
        })
        .await
}

/// Counts one statement against the request running on this task, if any (the pool's
/// statement callback runs on the task that ran the statement).
pub fn count_statement() {
    let _ = REQUEST.try_with(|r| r.statements.set(r.statements.get().saturating_add(1)));
}

/// The request running on this task waited `seconds` for a connection of the request pool
/// (reported by sqlx on the task that waited: see `crate::telemetry::pool_waits`). A wait
/// outside a request (background work, the command line) has no server to count it.
pub fn pool_waited(seconds: f64) {
    let _ = REQUEST.try_with(|r| {
        r.metrics
            .record(|| histogram!(DB_POOL_WAIT, "pool" => "request").record(seconds))
    });
}
