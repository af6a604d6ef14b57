//! Typed configuration: defaults, overridden by the configuration file (`rectrack.toml`, see
//! `config_file.rs`), overridden by `RECTRACK_*` environment variables, overridden by
//! command-line flags. Each setting is declared once, here: its doc comment is its
//! documentation, its field name its key in the file. Validated once at start-up; nothing else
//! in the code reads the environment.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, ValueEnum};
use entity::enums::Role;

/// Evidence media types accepted by default: documents, images, spreadsheets, OFD (the
/// Chinese fixed-layout standard) and archives of them.
const EVIDENCE_MEDIA_TYPES: &str = "application/pdf,image/jpeg,image/png,image/gif,image/webp,\
text/plain,text/csv,application/msword,\
application/vnd.openxmlformats-officedocument.wordprocessingml.document,\
application/vnd.ms-excel,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet,\
application/ofd,application/zip";

/// A secret value that never prints.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl std::str::FromStr for Secret {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Self(s.to_owned()))
    }
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Lines for people to read.
    Text,
    /// One JSON object a line, for a log collector.
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Environment {
    /// Demo data on an empty database, ephemeral signing key with printed tokens, GraphiQL.
    Development,
    /// Keys required, no demo data, no field suggestions in errors.
    Production,
}

/// A public base URL: http(s), a host, no user, query or fragment; kept without a trailing `/`.
fn parse_public_url(text: &str) -> Result<String, String> {
    let bad = || t!("config-public-url", url = text);
    let url = url::Url::parse(text.trim()).map_err(|_| bad())?;
    let shaped = matches!(url.scheme(), "http" | "https")
        && url.host_str().is_some_and(|h| !h.is_empty())
        && url.username().is_empty()
        && url.password().is_none()
        && url.query().is_none()
        && url.fragment().is_none();
    if !shaped {
        return Err(bad());
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

/// A peer of connected mode: its instance id and where it serves rectrack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExchangePeer {
    /// 32 hexadecimal digits, lower case.
    pub instance_id: String,
    /// `http(s)://host[:port][/path]`, without a trailing `/`.
    pub url: String,
}

/// `INSTANCE_ID=URL`: the id of 32 hexadecimal digits, the URL http or https with a host and
/// no user, query, fragment or trailing `/`.
fn parse_exchange_peer(text: &str) -> Result<ExchangePeer, String> {
    let bad = || t!("config-exchange-peer", peer = text.trim());
    let (id, address) = text.trim().split_once('=').ok_or_else(bad)?;
    let id = id.trim().to_ascii_lowercase();
    if id.len() != 32 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(bad());
    }
    let address = address.trim();
    let url = url::Url::parse(address).map_err(|_| bad())?;
    let shaped = matches!(url.scheme(), "http" | "https")
        && url.host_str().is_some_and(|h| !h.is_empty())
        && url.username().is_empty()
        && url.password().is_none()
        && url.query().is_none()
        && url.fragment().is_none()
        && !address.ends_with('/');
    if !shaped {
        return Err(bad());
    }
    Ok(ExchangePeer {
        instance_id: id,
        url: address.to_owned(),
    })
}

fn parse_duration(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text).map_err(|e| format!("{e} (examples: 90s, 15m, 12h, 30d)"))
}

/// Settings shared by every subcommand. Each flag also reads the environment variable named
/// beside it.
#[derive(Debug, Clone, Args)]
pub struct Config {
    /// Database URL: `sqlite://FILE?mode=rwc` (embedded, the default) or `postgres://...`.
    #[arg(
        long,
        env = "RECTRACK_DATABASE_URL",
        default_value = "sqlite://rectrack.db?mode=rwc",
        global = true
    )]
    pub database_url: String,

    /// Address the HTTP server listens on; port 0 picks a free port.
    #[arg(
        long,
        env = "RECTRACK_BIND",
        default_value = "127.0.0.1:8080",
        global = true
    )]
    pub bind: SocketAddr,

    /// `development` or `production`.
    #[arg(
        long = "env",
        env = "RECTRACK_ENV",
        value_enum,
        default_value = "development",
        global = true
    )]
    pub environment: Environment,

    /// Load the demo data (the Zhanjiang bulletin) when the database is empty (development only).
    #[arg(long, env = "RECTRACK_DEMO", default_value_t = true, action = clap::ArgAction::Set, global = true)]
    pub demo: bool,

    /// Log lines on standard error: `text` or `json` (one object a line; a request's lines
    /// carry its `request_id` in their `spans`). `RUST_LOG` chooses what is logged.
    #[arg(
        long,
        env = "RECTRACK_LOG_FORMAT",
        value_enum,
        default_value = "text",
        global = true
    )]
    pub log_format: LogFormat,

    /// Bearer token `/metrics` asks for (`Authorization: Bearer ...`); unset, it is open.
    #[arg(
        long,
        env = "RECTRACK_METRICS_TOKEN",
        hide_env_values = true,
        global = true
    )]
    pub metrics_token: Option<Secret>,

    /// File holding the `/metrics` bearer token (instead of `RECTRACK_METRICS_TOKEN`).
    #[arg(long, env = "RECTRACK_METRICS_TOKEN_FILE", global = true)]
    pub metrics_token_file: Option<PathBuf>,

    /// An address of its own for `/metrics` (then not served on `RECTRACK_BIND`); port 0
    /// picks a free port.
    #[arg(long, env = "RECTRACK_METRICS_BIND", global = true)]
    pub metrics_bind: Option<SocketAddr>,

    /// OpenTelemetry collector to export traces to over OTLP/HTTP (`http://host:4318`); needs
    /// a build with the `otel` feature.
    #[arg(long, env = "RECTRACK_OTLP_ENDPOINT", global = true)]
    pub otlp_endpoint: Option<String>,

    /// Most database connections held open.
    #[arg(
        long,
        env = "RECTRACK_DB_MAX_CONNECTIONS",
        default_value_t = 16,
        global = true
    )]
    pub db_max_connections: u32,

    /// Time zone that decides what "today" is for deadlines: an IANA name of a zone without
    /// daylight saving (Asia/Shanghai, Asia/Hong_Kong, UTC, ...) or a fixed offset like +08:00.
    #[arg(long, env = "RECTRACK_TIMEZONE", default_value = "Asia/Shanghai", value_parser = parse_timezone, global = true)]
    pub timezone: TimeZone,

    /// A request running longer than this is ended with an error (its SQL is cancelled).
    #[arg(long, env = "RECTRACK_REQUEST_TIMEOUT", default_value = "30s", value_parser = parse_duration, global = true)]
    pub request_timeout: Duration,

    /// Where rectrack keeps files: uploaded evidence goes to `<dir>/evidence`, stored by the
    /// SHA-256 of its content.
    #[arg(long, env = "RECTRACK_DATA_DIR", default_value = "data", global = true)]
    pub data_dir: std::path::PathBuf,

    /// Directory the server writes scheduled backups to (`rectrack-<time>.zip`); unset, none.
    #[arg(long, env = "RECTRACK_BACKUP_DIR", global = true)]
    pub backup_dir: Option<std::path::PathBuf>,

    /// Time between scheduled backups (at least 1m).
    #[arg(long, env = "RECTRACK_BACKUP_EVERY", default_value = "24h", value_parser = parse_duration, global = true)]
    pub backup_every: Duration,

    /// Scheduled backups kept in the directory; older ones are removed.
    #[arg(long, env = "RECTRACK_BACKUP_KEEP", default_value_t = 7, global = true)]
    pub backup_keep: usize,

    /// Largest evidence upload, in bytes (default 20 MiB); also caps a multipart request.
    #[arg(long, env = "RECTRACK_EVIDENCE_MAX_SIZE", default_value_t = 20 * 1024 * 1024, global = true)]
    pub evidence_max_size: usize,

    /// Media types accepted as evidence, comma-separated.
    #[arg(
        long,
        env = "RECTRACK_EVIDENCE_MEDIA_TYPES",
        value_delimiter = ',',
        default_value = EVIDENCE_MEDIA_TYPES,
        global = true
    )]
    pub evidence_media_types: Vec<String>,

    /// How long an `Idempotency-Key` and its stored response are kept.
    #[arg(long, env = "RECTRACK_IDEMPOTENCY_TTL", default_value = "24h", value_parser = parse_duration, global = true)]
    pub idempotency_ttl: Duration,

    /// Days before a deadline at which the early warning (逾期预警) turns GREEN.
    #[arg(
        long,
        env = "RECTRACK_WARNING_GREEN_DAYS",
        default_value_t = 20,
        global = true
    )]
    pub warning_green_days: u32,

    /// Days before a deadline at which the early warning turns YELLOW (RED once overdue).
    #[arg(
        long,
        env = "RECTRACK_WARNING_YELLOW_DAYS",
        default_value_t = 10,
        global = true
    )]
    pub warning_yellow_days: u32,

    /// Origins (scheme://host[:port]) whose browser pages may call the API, comma-separated;
    /// none by default. `*` allows any origin (rectrack sends no cookies, so no credentials
    /// are ever allowed cross-origin).
    #[arg(
        long,
        env = "RECTRACK_CORS_ORIGINS",
        value_delimiter = ',',
        global = true
    )]
    pub cors_origins: Vec<String>,

    /// Proxies whose `X-Forwarded-For` is believed (their own address is not the client's),
    /// comma-separated IP addresses.
    #[arg(
        long,
        env = "RECTRACK_TRUSTED_PROXIES",
        value_delimiter = ',',
        global = true
    )]
    pub trusted_proxies: Vec<std::net::IpAddr>,

    /// Requests per minute one client address may make without a token to /graphql (login
    /// among them): slows password guessing and spraying across accounts.
    #[arg(
        long,
        env = "RECTRACK_RATE_ANONYMOUS_PER_MINUTE",
        default_value_t = 20,
        global = true
    )]
    pub rate_anonymous_per_minute: u32,

    /// How many such requests may come at once before the rate applies.
    #[arg(
        long,
        env = "RECTRACK_RATE_ANONYMOUS_BURST",
        default_value_t = 5,
        global = true
    )]
    pub rate_anonymous_burst: u32,

    /// Requests per minute one client address may make to the public bulletins.
    #[arg(
        long,
        env = "RECTRACK_RATE_PUBLIC_PER_MINUTE",
        default_value_t = 120,
        global = true
    )]
    pub rate_public_per_minute: u32,

    /// How many public requests may come at once before that rate applies.
    #[arg(
        long,
        env = "RECTRACK_RATE_PUBLIC_BURST",
        default_value_t = 30,
        global = true
    )]
    pub rate_public_burst: u32,

    /// The address the public reaches rectrack at (`https://zgtb.example.gov.cn`, a path
    /// allowed when a proxy serves it under one): a published bulletin's feedback link and its
    /// printed QR code (二维码) are built from it, never from a request's `Host` (which whoever
    /// sends the request chooses). Unset, the page's links stay relative and it prints no QR
    /// code, saying why.
    #[arg(long, env = "RECTRACK_PUBLIC_URL", value_parser = parse_public_url, global = true)]
    pub public_url: Option<String>,

    /// Who runs this rectrack, as the API document names its contact (the deploying unit).
    #[arg(long, env = "RECTRACK_CONTACT_NAME", global = true)]
    pub contact_name: Option<String>,

    /// The contact's e-mail address.
    #[arg(long, env = "RECTRACK_CONTACT_EMAIL", global = true)]
    pub contact_email: Option<String>,

    /// The contact's web address.
    #[arg(long, env = "RECTRACK_CONTACT_URL", global = true)]
    pub contact_url: Option<String>,

    /// Connected mode (docs/EXCHANGE.md): the exchange peers this instance pushes its bundles
    /// to and pulls theirs from over HTTP(S), comma-separated `INSTANCE_ID=URL` pairs
    /// (`0123…cdef=https://xcb.example.gov.cn`; the URL where the peer serves rectrack, no
    /// trailing `/`). Each must also be registered (`registerExchangePeer`). Unset, none: bundles
    /// travel as files.
    #[arg(
        long,
        env = "RECTRACK_EXCHANGE_PEERS",
        value_delimiter = ',',
        value_parser = parse_exchange_peer,
        global = true
    )]
    pub exchange_peers: Vec<ExchangePeer>,

    /// How often connected mode pushes and pulls each peer's bundles.
    #[arg(long, env = "RECTRACK_EXCHANGE_INTERVAL", default_value = "15m", value_parser = parse_duration, global = true)]
    pub exchange_interval: Duration,

    #[command(flatten)]
    pub graphql: GraphqlConfig,

    #[command(flatten)]
    pub jwt: JwtConfig,

    #[command(flatten)]
    pub live: LiveConfig,

    #[command(flatten)]
    pub import: ImportLimits,
}

/// What an imported ledger file may hold. Each is checked before the cost it bounds: the file's
/// size before it is read, the archive's inflated size before a part is parsed, sheets, rows,
/// columns, cells and text as they stream in, so a hostile file is refused having cost at most
/// the limits. The defaults hold any one inspection's ledger (a unit's has tens to hundreds of
/// rows).
#[derive(Debug, Clone, Args)]
pub struct ImportLimits {
    /// Largest ledger file, in bytes, as sent.
    #[arg(long, env = "RECTRACK_IMPORT_MAX_FILE_BYTES", default_value_t = 16 * 1024 * 1024, global = true)]
    pub import_max_file_bytes: usize,

    /// Largest total of an XLSX workbook's parts once inflated, in bytes (a zip bomb's measure).
    #[arg(long, env = "RECTRACK_IMPORT_MAX_INFLATED_BYTES", default_value_t = 64 * 1024 * 1024, global = true)]
    pub import_max_inflated_bytes: u64,

    /// Most sheets in a workbook.
    #[arg(
        long,
        env = "RECTRACK_IMPORT_MAX_SHEETS",
        default_value_t = 16,
        global = true
    )]
    pub import_max_sheets: usize,

    /// Most rows in a file, all sheets together, counted to the last row holding a value. An
    /// import is one transaction, so this bounds how long it holds the write lock: a thousand
    /// rows applied in 2.8 s on SQLite and 4.8 s on PostgreSQL (release build, 2026-12-06).
    #[arg(
        long,
        env = "RECTRACK_IMPORT_MAX_ROWS",
        default_value_t = 1_000,
        global = true
    )]
    pub import_max_rows: usize,

    /// Most columns in a row (a ledger has 21).
    #[arg(
        long,
        env = "RECTRACK_IMPORT_MAX_COLUMNS",
        default_value_t = 64,
        global = true
    )]
    pub import_max_columns: usize,

    /// Most cells holding a value, all sheets together.
    #[arg(
        long,
        env = "RECTRACK_IMPORT_MAX_CELLS",
        default_value_t = 200_000,
        global = true
    )]
    pub import_max_cells: usize,

    /// Longest text of one cell, in characters.
    #[arg(
        long,
        env = "RECTRACK_IMPORT_MAX_CELL_CHARS",
        default_value_t = 20_000,
        global = true
    )]
    pub import_max_cell_chars: usize,
}

/// Real time: subscriptions, the event outbox, webhooks and the early-warning sweep.
#[derive(Debug, Clone, Args)]
pub struct LiveConfig {
    /// How long events are kept for subscribers that resume after a disconnect.
    #[arg(long, env = "RECTRACK_EVENTS_RETENTION", default_value = "7d", value_parser = parse_duration, global = true)]
    pub events_retention: Duration,

    /// How often the outbox is read when no notification woke the reader.
    #[arg(long, env = "RECTRACK_EVENTS_POLL", default_value = "1s", value_parser = parse_duration, global = true)]
    pub events_poll: Duration,

    /// Most sockets one caller (token subject) may hold open on one instance.
    #[arg(
        long,
        env = "RECTRACK_WS_MAX_SOCKETS",
        default_value_t = 8,
        global = true
    )]
    pub ws_max_sockets: usize,

    /// Most subscriptions running on one socket.
    #[arg(
        long,
        env = "RECTRACK_WS_MAX_SUBSCRIPTIONS",
        default_value_t = 20,
        global = true
    )]
    pub ws_max_subscriptions: usize,

    /// A socket that has not sent `connection_init` within this time is closed (4408).
    #[arg(long, env = "RECTRACK_WS_INIT_TIMEOUT", default_value = "10s", value_parser = parse_duration, global = true)]
    pub ws_init_timeout: Duration,

    /// How long a webhook receiver may take to answer one delivery.
    #[arg(long, env = "RECTRACK_WEBHOOK_TIMEOUT", default_value = "10s", value_parser = parse_duration, global = true)]
    pub webhook_timeout: Duration,

    /// Receivers on the unit's intranet that webhooks may reach, comma-separated: address
    /// ranges (`10.20.0.0/16`), addresses (`10.20.1.5`), host names (`hooks.unit.internal`)
    /// and every name under a domain (`*.unit.internal`). None by default: loopback, private,
    /// link-local, unique-local and reserved addresses are refused; metadata services always.
    #[arg(
        long,
        env = "RECTRACK_WEBHOOK_ALLOW",
        default_value = "",
        hide_default_value = true,
        global = true
    )]
    pub webhook_allow: crate::domain::integration::webhook_target::AllowList,

    /// The wait before a failed delivery's first retry; it doubles with each attempt.
    #[arg(long, env = "RECTRACK_WEBHOOK_BACKOFF", default_value = "5s", value_parser = parse_duration, global = true)]
    pub webhook_backoff: Duration,

    /// The longest wait between retries.
    #[arg(long, env = "RECTRACK_WEBHOOK_BACKOFF_MAX", default_value = "1h", value_parser = parse_duration, global = true)]
    pub webhook_backoff_max: Duration,

    /// Attempts after which a delivery is given up (marked failed; it can be replayed).
    #[arg(
        long,
        env = "RECTRACK_WEBHOOK_MAX_ATTEMPTS",
        default_value_t = 12,
        global = true
    )]
    pub webhook_max_attempts: i32,

    /// How long an endpoint must fail continuously, with no delivery in between, before it
    /// is disabled (and that is audited and told to the administrators). A time, not a count
    /// of attempts: a receiver down during a burst of changes fails many attempts in seconds.
    #[arg(long, env = "RECTRACK_WEBHOOK_DISABLE_AFTER", default_value = "5d", value_parser = parse_duration, global = true)]
    pub webhook_disable_after: Duration,

    /// Raise early warnings: the daily sweep and the check of every changed finding, with
    /// their notifications and `warning.raised` events.
    #[arg(long, env = "RECTRACK_WARNING_ALERTS", default_value_t = true, action = clap::ArgAction::Set, global = true)]
    pub warning_alerts: bool,

    /// How often the sweep checks whether today's early-warning sweep has run.
    #[arg(long, env = "RECTRACK_WARNING_SWEEP_CHECK", default_value = "1m", value_parser = parse_duration, global = true)]
    pub warning_sweep_check: Duration,
}

/// Limits on GraphQL operations. The defaults leave room for every operation the front ends
/// send (the largest, a findings page of 100 with measures, departments, regulations and
/// targets, has depth 7, about 60 fields and complexity under 8,000).
#[derive(Debug, Clone, Args)]
pub struct GraphqlConfig {
    /// Deepest nesting of selections.
    #[arg(
        long,
        env = "RECTRACK_GRAPHQL_MAX_DEPTH",
        default_value_t = 12,
        global = true
    )]
    pub graphql_max_depth: usize,

    /// Highest complexity: each field costs 1, a list costs its page size times its content.
    #[arg(
        long,
        env = "RECTRACK_GRAPHQL_MAX_COMPLEXITY",
        default_value_t = 20_000,
        global = true
    )]
    pub graphql_max_complexity: usize,

    /// Most field selections in one document (counting fragments each time they are spread);
    /// stops alias floods such as 500 copies of one field.
    #[arg(
        long,
        env = "RECTRACK_GRAPHQL_MAX_FIELDS",
        default_value_t = 300,
        global = true
    )]
    pub graphql_max_fields: usize,

    /// Most aliases in one document (counting fragments each time they are spread).
    #[arg(
        long,
        env = "RECTRACK_GRAPHQL_MAX_ALIASES",
        default_value_t = 100,
        global = true
    )]
    pub graphql_max_aliases: usize,

    /// Most tokens in one document's text (names, values, punctuation; comments and white
    /// space are free), counted before it is parsed.
    #[arg(
        long,
        env = "RECTRACK_GRAPHQL_MAX_TOKENS",
        default_value_t = 5000,
        global = true
    )]
    pub graphql_max_tokens: usize,

    /// Most directives on one field, fragment spread, inline fragment or definition.
    #[arg(
        long,
        env = "RECTRACK_GRAPHQL_MAX_DIRECTIVES",
        default_value_t = 4,
        global = true
    )]
    pub graphql_max_directives: usize,

    /// Most operations in one batched request.
    #[arg(
        long,
        env = "RECTRACK_GRAPHQL_MAX_BATCH",
        default_value_t = 10,
        global = true
    )]
    pub graphql_max_batch: usize,

    /// Largest request body on /graphql, in bytes.
    #[arg(long, env = "RECTRACK_GRAPHQL_MAX_BODY", default_value_t = 128 * 1024, global = true)]
    pub graphql_max_body: usize,

    /// How long a DataLoader waits to gather keys into one batch. Longer windows batch more
    /// reliably on a busy machine and add that much latency per level of nesting.
    #[arg(long, env = "RECTRACK_DATALOADER_DELAY", default_value = "1ms", value_parser = parse_duration, global = true)]
    pub dataloader_delay: Duration,

    /// Deepest nesting of an introspection query, counted apart from data queries: the full
    /// introspection query of graphql-js and graphql-core nests its type references 13 deep.
    #[arg(
        long,
        env = "RECTRACK_GRAPHQL_MAX_INTROSPECTION_DEPTH",
        default_value_t = 16,
        global = true
    )]
    pub graphql_max_introspection_depth: usize,

    /// A manifest of trusted documents (`{"id": "document"}`, as graphql-codegen and Relay emit
    /// it, or Apollo's persisted query manifest): parsed at start-up, run by id (`documentId`).
    #[arg(long, env = "RECTRACK_GRAPHQL_DOCUMENTS", global = true)]
    pub graphql_documents: Option<std::path::PathBuf>,

    /// Run only the trusted documents (an allow-list): any other text is refused.
    #[arg(long, env = "RECTRACK_GRAPHQL_TRUSTED_ONLY", default_value_t = false, action = clap::ArgAction::Set, global = true)]
    pub graphql_trusted_only: bool,

    /// Who introspection is served to: `everyone`, `identified` (callers with a token) or
    /// `off`; by default `identified` in production and `everyone` in development (`true` and
    /// `false` say `everyone` and `off`).
    #[arg(
        long,
        env = "RECTRACK_GRAPHQL_INTROSPECTION",
        value_enum,
        global = true
    )]
    pub graphql_introspection: Option<Introspection>,
}

/// Who may introspect the schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Introspection {
    /// Every caller, anonymous ones included.
    #[value(alias = "true")]
    Everyone,
    /// Callers with a token only: an anonymous caller is refused as if introspection were off.
    Identified,
    /// Nobody.
    #[value(alias = "false")]
    Off,
}

/// A fixed offset from UTC, named as configured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeZone(pub chrono::FixedOffset);

impl TimeZone {
    /// Today's date in this zone.
    pub fn today(&self) -> chrono::NaiveDate {
        chrono::Utc::now().with_timezone(&self.0).date_naive()
    }
}

/// Zones without daylight saving that rectrack's users are in, by IANA name; anything else is
/// given as an offset.
const ZONES: [(&str, i32); 9] = [
    ("Asia/Shanghai", 8 * 3600),
    ("Asia/Chongqing", 8 * 3600),
    ("Asia/Harbin", 8 * 3600),
    ("Asia/Hong_Kong", 8 * 3600),
    ("Asia/Macau", 8 * 3600),
    ("Asia/Taipei", 8 * 3600),
    ("Asia/Urumqi", 6 * 3600),
    ("UTC", 0),
    ("Etc/UTC", 0),
];

fn parse_timezone(text: &str) -> Result<TimeZone, String> {
    if let Some((_, seconds)) = ZONES.iter().find(|(name, _)| *name == text) {
        return chrono::FixedOffset::east_opt(*seconds)
            .map(TimeZone)
            .ok_or_else(|| "bad offset".to_owned());
    }
    text.parse::<chrono::FixedOffset>()
        .map(TimeZone)
        .map_err(|_| format!("'{text}' is neither a known zone (Asia/Shanghai, UTC, ...) nor an offset like +08:00"))
}

fn parse_role_mapping(text: &str) -> Result<(String, Role), String> {
    let (theirs, ours) = text
        .split_once('=')
        .ok_or_else(|| format!("'{text}' is not their-name=role"))?;
    let role = Role::parse(ours.trim()).ok_or_else(|| {
        format!("'{ours}' is not a rectrack role (admin, inspector, manager, officer, viewer)")
    })?;
    Ok((theirs.trim().to_owned(), role))
}

impl JwtConfig {
    /// The rectrack role a token's role name stands for: mapped, or rectrack's own name.
    pub fn role_of(&self, name: &str) -> Option<Role> {
        self.jwt_role_map
            .iter()
            .find(|(theirs, _)| theirs == name)
            .map(|(_, role)| *role)
            .or_else(|| Role::parse(name))
    }
}

/// How tokens are verified and issued.
#[derive(Debug, Clone, Args)]
pub struct JwtConfig {
    /// HS256 shared secret (at least 32 bytes).
    #[arg(
        long,
        env = "RECTRACK_JWT_SECRET",
        hide_env_values = true,
        global = true
    )]
    pub jwt_secret: Option<Secret>,

    /// File holding the HS256 shared secret.
    #[arg(long, env = "RECTRACK_JWT_SECRET_FILE", global = true)]
    pub jwt_secret_file: Option<PathBuf>,

    /// Comma-separated PEM public keys (RSA, EC P-256 or Ed25519); each key's `kid` is its file
    /// name without extension.
    #[arg(
        long,
        env = "RECTRACK_JWT_PUBLIC_KEY_FILES",
        value_delimiter = ',',
        global = true
    )]
    pub jwt_public_key_files: Vec<PathBuf>,

    /// A JWKS file (`{"keys": [...]}`) of public keys, chosen by `kid`.
    #[arg(long, env = "RECTRACK_JWT_JWKS_FILE", global = true)]
    pub jwt_jwks_file: Option<PathBuf>,

    /// PEM private key used to sign the tokens rectrack issues (instead of the HS256 secret).
    #[arg(long, env = "RECTRACK_JWT_PRIVATE_KEY_FILE", global = true)]
    pub jwt_private_key_file: Option<PathBuf>,

    /// `kid` written into tokens signed with the private key.
    #[arg(long, env = "RECTRACK_JWT_PRIVATE_KEY_ID", global = true)]
    pub jwt_private_key_id: Option<String>,

    /// Required `iss` claim.
    #[arg(long, env = "RECTRACK_JWT_ISSUER", global = true)]
    pub jwt_issuer: Option<String>,

    /// Required `aud` claim.
    #[arg(long, env = "RECTRACK_JWT_AUDIENCE", global = true)]
    pub jwt_audience: Option<String>,

    /// Clock skew allowed on `exp` and `nbf` (at most 60s).
    #[arg(long, env = "RECTRACK_JWT_LEEWAY", default_value = "30s", value_parser = parse_duration, global = true)]
    pub jwt_leeway: Duration,

    /// Tokens whose `exp` lies further ahead than this are refused.
    #[arg(long, env = "RECTRACK_JWT_MAX_LIFETIME", default_value = "90d", value_parser = parse_duration, global = true)]
    pub jwt_max_lifetime: Duration,

    /// Claim holding the role; a dotted path reaches into nested objects (`realm.role`).
    #[arg(
        long,
        env = "RECTRACK_JWT_ROLE_CLAIM",
        default_value = "role",
        global = true
    )]
    pub jwt_role_claim: String,

    /// How the identity provider's role names map to rectrack's, comma-separated
    /// `their-name=role` pairs (`realm-admin=admin,xcb-staff=inspector`); rectrack's own names
    /// are always understood.
    #[arg(
        long,
        env = "RECTRACK_JWT_ROLE_MAP",
        value_delimiter = ',',
        value_parser = parse_role_mapping,
        global = true
    )]
    pub jwt_role_map: Vec<(String, Role)>,

    /// Claim holding the department code; a dotted path reaches into nested objects.
    #[arg(
        long,
        env = "RECTRACK_JWT_DEPT_CLAIM",
        default_value = "dept",
        global = true
    )]
    pub jwt_dept_claim: String,

    /// Lifetime of the access tokens that `login` returns.
    #[arg(long, env = "RECTRACK_ACCESS_TOKEN_TTL", default_value = "1h", value_parser = parse_duration, global = true)]
    pub access_token_ttl: Duration,

    /// Failed logins of one account name from one client address after which that name is
    /// throttled from that address (RATE_LIMITED with Retry-After).
    #[arg(
        long,
        env = "RECTRACK_LOGIN_MAX_FAILURES",
        default_value_t = 5,
        global = true
    )]
    pub login_max_failures: u32,

    /// Failed logins from one client address, whatever the names, after which the address is
    /// throttled (password spraying).
    #[arg(
        long,
        env = "RECTRACK_LOGIN_ADDRESS_MAX_FAILURES",
        default_value_t = 20,
        global = true
    )]
    pub login_address_max_failures: u32,

    /// Failed logins of one account name from every address after which the name is
    /// throttled from everywhere (guessing spread over many addresses).
    #[arg(
        long,
        env = "RECTRACK_LOGIN_ACCOUNT_MAX_FAILURES",
        default_value_t = 50,
        global = true
    )]
    pub login_account_max_failures: u32,

    /// The longest a throttle lasts: the first lasts a minute (or this, if shorter) and each
    /// further failure doubles it up to this; failures are forgotten after twice this.
    #[arg(long, env = "RECTRACK_LOGIN_LOCKOUT", default_value = "15m", value_parser = parse_duration, global = true)]
    pub login_lockout: Duration,
}

impl Config {
    pub fn is_production(&self) -> bool {
        self.environment == Environment::Production
    }

    /// Who introspection is served to: as configured, else identified callers only in
    /// production (the schema maps the API for an attacker) and everyone in development.
    pub fn introspection(&self) -> Introspection {
        self.graphql
            .graphql_introspection
            .unwrap_or(if self.is_production() {
                Introspection::Identified
            } else {
                Introspection::Everyone
            })
    }

    pub fn is_sqlite(&self) -> bool {
        self.database_url.starts_with("sqlite:")
    }

    /// The `/metrics` bearer token, from the setting or its file (trailing newline dropped).
    pub fn metrics_token(&self) -> anyhow::Result<Option<Secret>> {
        if let Some(path) = &self.metrics_token_file {
            let text = std::fs::read_to_string(path).map_err(|e| {
                anyhow::anyhow!(
                    "{}",
                    t!(
                        "config-metrics-token-file",
                        path = path.display().to_string(),
                        error = e.to_string()
                    )
                )
            })?;
            let token = text.trim_end_matches(['\r', '\n']);
            anyhow::ensure!(!token.is_empty(), t!("config-metrics-token-empty"));
            return Ok(Some(Secret::new(token)));
        }
        if let Some(token) = &self.metrics_token {
            anyhow::ensure!(!token.expose().is_empty(), t!("config-metrics-token-empty"));
        }
        Ok(self.metrics_token.clone())
    }

    /// Checks what clap cannot: relations between settings. The messages name the setting
    /// (an operator's word) in a sentence of the current language.
    pub fn validate(&self) -> anyhow::Result<()> {
        self.validate_naming(&|id| format!("RECTRACK_{}", id.to_ascii_uppercase()))
    }

    /// [`Config::validate`], naming each setting by `name` (its id, as the file's key is
    /// written): the command line names each where its value came from (the flag, the
    /// environment variable, the file's key or the default: `Layer::namer`).
    pub fn validate_naming(&self, name: &dyn Fn(&str) -> String) -> anyhow::Result<()> {
        anyhow::ensure!(
            self.is_sqlite() || self.database_url.starts_with("postgres"),
            t!("config-database-url", name = name("database_url"))
        );
        anyhow::ensure!(
            self.jwt.jwt_leeway <= Duration::from_secs(60),
            t!("config-jwt-leeway", name = name("jwt_leeway"))
        );
        anyhow::ensure!(
            self.jwt.jwt_secret.is_none() || self.jwt.jwt_secret_file.is_none(),
            t!(
                "config-set-twice",
                one = name("jwt_secret"),
                other = name("jwt_secret_file")
            )
        );
        anyhow::ensure!(
            cfg!(feature = "otel") || self.otlp_endpoint.is_none(),
            t!("config-otlp-not-built")
        );
        anyhow::ensure!(
            self.metrics_token.is_none() || self.metrics_token_file.is_none(),
            t!(
                "config-set-twice",
                one = name("metrics_token"),
                other = name("metrics_token_file")
            )
        );
        anyhow::ensure!(
            self.warning_yellow_days <= self.warning_green_days,
            t!(
                "config-warning-days",
                yellow = name("warning_yellow_days"),
                green = name("warning_green_days")
            )
        );
        for (i, peer) in self.exchange_peers.iter().enumerate() {
            anyhow::ensure!(
                !self.exchange_peers[..i]
                    .iter()
                    .any(|p| p.instance_id == peer.instance_id),
                t!(
                    "config-exchange-peer-twice",
                    name = name("exchange_peers"),
                    peer = peer.instance_id.as_str()
                )
            );
        }
        for origin in &self.cors_origins {
            let shaped = origin == "*"
                || ((origin.starts_with("http://") || origin.starts_with("https://"))
                    && !origin.ends_with('/')
                    && origin.matches('/').count() == 2);
            anyhow::ensure!(
                shaped,
                t!(
                    "config-cors-origin",
                    name = name("cors_origins"),
                    origin = origin.as_str()
                )
            );
        }
        let counts = [
            ("db_max_connections", u64::from(self.db_max_connections)),
            (
                "rate_anonymous_per_minute",
                u64::from(self.rate_anonymous_per_minute),
            ),
            ("rate_anonymous_burst", u64::from(self.rate_anonymous_burst)),
            (
                "rate_public_per_minute",
                u64::from(self.rate_public_per_minute),
            ),
            ("rate_public_burst", u64::from(self.rate_public_burst)),
            ("login_max_failures", u64::from(self.jwt.login_max_failures)),
            (
                "login_address_max_failures",
                u64::from(self.jwt.login_address_max_failures),
            ),
            (
                "login_account_max_failures",
                u64::from(self.jwt.login_account_max_failures),
            ),
            ("login_lockout", self.jwt.login_lockout.as_secs()),
            ("exchange_interval", self.exchange_interval.as_secs()),
        ];
        for (id, value) in counts {
            anyhow::ensure!(value > 0, t!("config-positive", name = name(id)));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::{parse_exchange_peer, parse_public_url};

    #[test]
    fn an_exchange_peer_is_an_instance_id_and_an_http_address() {
        let peer = parse_exchange_peer(
            "0123456789ABCDEF0123456789abcdef=https://xcb.example.gov.cn/rectrack",
        )
        .unwrap();
        assert_eq!(peer.instance_id, "0123456789abcdef0123456789abcdef");
        assert_eq!(peer.url, "https://xcb.example.gov.cn/rectrack");
        assert_eq!(
            parse_exchange_peer("0123456789abcdef0123456789abcdef=http://10.1.2.3:8080")
                .unwrap()
                .url,
            "http://10.1.2.3:8080"
        );
        for bad in [
            "https://xcb.example.gov.cn",
            "0123=https://xcb.example.gov.cn",
            "0123456789abcdef0123456789abcdeg=https://xcb.example.gov.cn",
            "0123456789abcdef0123456789abcdef=https://xcb.example.gov.cn/",
            "0123456789abcdef0123456789abcdef=ftp://xcb.example.gov.cn",
            "0123456789abcdef0123456789abcdef=https://u:p@xcb.example.gov.cn",
            "0123456789abcdef0123456789abcdef=https://xcb.example.gov.cn?a=1",
            "0123456789abcdef0123456789abcdef=xcb.example.gov.cn",
        ] {
            let refused = parse_exchange_peer(bad).unwrap_err();
            assert!(refused.contains(bad.trim()), "{bad}: {refused}");
        }
    }

    #[test]
    fn a_public_url_is_an_http_address_kept_without_its_trailing_slash() {
        assert_eq!(
            parse_public_url("https://zgtb.example.gov.cn/").as_deref(),
            Ok("https://zgtb.example.gov.cn")
        );
        assert_eq!(
            parse_public_url("http://10.1.2.3:8080/rectrack/").as_deref(),
            Ok("http://10.1.2.3:8080/rectrack")
        );
        for bad in [
            "zgtb.example.gov.cn",
            "javascript:alert(1)",
            "ftp://zgtb.example.gov.cn",
            "https://user:pw@zgtb.example.gov.cn",
            "https://zgtb.example.gov.cn/?a=1",
            "https://zgtb.example.gov.cn/#x",
        ] {
            assert!(parse_public_url(bad).is_err(), "{bad}");
        }
    }
}
