//! The command line: `rectrack [serve]`, `migrate`, `seed`, `schema`, `config check`, ...; the
//! configuration file read beneath it (`config_file.rs`) and the log format.
//!
//! Its messages are Chinese, English with `--lang en` (or `LANG=en_US.UTF-8`). A failing
//! command says what is missing in the terms of the setting to change, exits with 1, and
//! leaves no file it created: commands that only read a database (`token`, `export`,
//! `audit verify`, `migrate status|down`) never create one, and a SQLite file made by a command
//! that then failed is removed.

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use migration::{Migrator, MigratorTrait};

use crate::auth::keys::Keys;
use crate::auth::token::{self, NewToken};
use crate::config::Config;
use crate::config_file::{self, Layer};
use crate::domain::Acting;
use crate::report::render::{Document, Format, render};
use crate::startup::Application;
use crate::{db, graphql, seed};
use entity::enums::Role;

#[derive(Debug, Parser)]
#[command(
    name = "rectrack",
    version,
    about = "Tracks the rectification of inspection findings (巡察整改)"
)]
pub struct Cli {
    #[command(flatten)]
    pub config: Config,

    /// Language of the command's messages: zh (the default) or en; read from LANG when not
    /// given, so an English locale gets English.
    #[arg(long, global = true, env = "LANG", hide_env_values = true)]
    pub lang: Option<String>,

    /// The configuration file (TOML), read beneath the environment and the flags; without
    /// one, `rectrack.toml` in the working directory when there is one. Its keys are the flags'
    /// names with underscores (`db_max_connections`; `environment` for `--env`), as
    /// `rectrack config check` prints them; `key = { file = "PATH" }` reads a value (a secret)
    /// from a file.
    #[arg(
        long = "config",
        env = "RECTRACK_CONFIG",
        value_name = "FILE",
        global = true
    )]
    pub config_file: Option<std::path::PathBuf>,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Migrate, then serve GraphQL and REST (the default).
    Serve,
    /// Manage the database schema.
    Migrate {
        #[command(subcommand)]
        action: MigrateAction,
    },
    /// Load data into the database.
    Seed {
        /// The demo data: the Zhanjiang bulletin's inspection (idempotent).
        #[arg(long)]
        demo: bool,
    },
    /// Print the GraphQL schema (SDL).
    Schema,
    /// Write an inspection's ledger (整改台账) to a file: one row per finding and measure.
    Export {
        #[arg(long)]
        inspection: i32,
        /// xlsx, csv or json.
        #[arg(long, default_value = "xlsx")]
        format: String,
        /// The file to write.
        #[arg(short, long)]
        output: std::path::PathBuf,
    },
    /// Import a ledger spreadsheet (XLSX, CSV or JSON) into an inspection, all or nothing.
    Import {
        /// The file to read.
        file: std::path::PathBuf,
        #[arg(long)]
        inspection: i32,
        /// Check and report every problem; change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Ignore ids and versions: create every row anew.
        #[arg(long)]
        as_new: bool,
        /// A unit's older ledger: new findings keep the statuses it gives them, closed ones
        /// included, marked as historical in the ledger and the audit trail.
        #[arg(long)]
        historical: bool,
    },
    /// Print the REST API's OpenAPI document (equal to docs/openapi.json).
    Openapi,
    /// Write a consistent backup (database, evidence files, audit head) to one file while the
    /// server runs.
    Backup {
        /// The file to write (replaced only once the backup is complete).
        #[arg(short, long)]
        output: std::path::PathBuf,
    },
    /// Restore a backup into an empty database (SQLite or PostgreSQL, whichever it came from).
    Restore {
        /// The backup file.
        file: std::path::PathBuf,
    },
    /// Development tools.
    Dev {
        #[command(subcommand)]
        action: DevAction,
    },
    /// The configuration.
    Config {
        #[command(subcommand)]
        action: ConfigAction,
    },
    /// Exchange with other instances (报送 across networks): this instance's identity, and
    /// signed bundles of a unit's records for a registered peer.
    Exchange {
        #[command(subcommand)]
        action: ExchangeAction,
    },
    /// Check the audit trail.
    Audit {
        #[command(subcommand)]
        action: AuditAction,
    },
    /// Mint a token with the configured secret or private key, for scripts.
    Token {
        /// The token's subject (who the script acts as).
        #[arg(long)]
        sub: String,
        /// admin, inspector, manager, officer or viewer.
        #[arg(long)]
        role: String,
        /// Department code (required for manager and officer).
        #[arg(long)]
        dept: Option<String>,
        /// Display name.
        #[arg(long)]
        name: Option<String>,
        /// Lifetime, e.g. 12h or 30d (at most RECTRACK_JWT_MAX_LIFETIME).
        #[arg(long, default_value = "30d", value_parser = humantime::parse_duration)]
        ttl: std::time::Duration,
    },
}

#[derive(Debug, Subcommand)]
pub enum DevAction {
    /// Fill an empty database with synthetic data at province scale (for benchmarks).
    Generate {
        /// Findings to generate; departments stay 2,000, and there are 200 findings per
        /// inspection, 5 measures and 10 ledger entries per finding, a regulation per 20.
        #[arg(long, default_value_t = 100_000)]
        findings: u32,
    },
    /// Draw an inspection's road map (路线图) to a file: SVG, or PNG (by the file's extension)
    /// drawn in-process with the machine's Chinese font, as the plan's DOCX embeds it (the
    /// README's picture is the demo's).
    Roadmap {
        #[arg(long, default_value_t = 1)]
        inspection: i32,
        /// The file to write: .svg or .png.
        #[arg(short, long)]
        output: std::path::PathBuf,
        /// Draw the PNG with this headless Chromium instead (a browser's rendering, to compare).
        #[arg(long)]
        chromium: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ConfigAction {
    /// Check the settings (file, environment, flags) and print the effective configuration,
    /// secrets redacted, with where each value came from; a non-zero exit code naming the
    /// setting if one is wrong.
    Check,
}

#[derive(Debug, Subcommand)]
pub enum ExchangeAction {
    /// Print this instance's id and Ed25519 public key (made at first use, kept in
    /// RECTRACK_DATA_DIR/exchange/identity.json): what a peer registers.
    Identity {
        /// As JSON: {"instanceId": ..., "publicKey": ...}.
        #[arg(long)]
        json: bool,
    },
    /// Write the next signed bundle for a registered peer: what changed in its unit since the
    /// last bundle it acknowledged.
    Export {
        /// The peer's instance id.
        #[arg(long)]
        to: String,
        /// The file to write (created; never overwritten).
        #[arg(short, long)]
        output: std::path::PathBuf,
        /// Write bundle number N again (its file was lost before the peer had it; the peer's
        /// refusal names the number): any number the peer has not acknowledged. The bundles
        /// written after it are abandoned; nothing is lost, as each carries all that changed
        /// since the last acknowledged one.
        #[arg(long, value_name = "N")]
        reissue: Option<i32>,
    },
    /// Check a bundle as its addressee (this instance): size budgets, format version,
    /// addressee, the signature against the sender's registered key, every member's hash and
    /// the audit chain's links and hashes. Writes nothing.
    Check {
        /// The bundle file.
        file: std::path::PathBuf,
    },
    /// Import a bundle (at the office): the checks above, then its number (the next one, or
    /// the last one again: a no-op that says so), its audit chain's continuity with what was
    /// received from the peer, and the merge of its records under their origin, in one
    /// transaction. Writes the signed acknowledgement for the sender with --ack.
    Import {
        /// The bundle file.
        file: std::path::PathBuf,
        /// Where to write the acknowledgement (JSON) that the unit records with
        /// `rectrack exchange ack`.
        #[arg(long)]
        ack: Option<std::path::PathBuf>,
        /// Print the outcome as JSON (with the acknowledgement).
        #[arg(long)]
        json: bool,
    },
    /// Record an acknowledgement from the office (at the unit): the next bundle to it starts
    /// after the event it acknowledges. At the office, an acknowledgement of a decision bundle
    /// also records what the unit answered for each decision.
    Ack {
        /// The acknowledgement file (JSON, as `exchange import --ack` or the REST import wrote it).
        file: std::path::PathBuf,
    },
    /// The conflict report: the office's decisions that a unit's records no longer fitted, as
    /// this instance recorded them, newest first (printed as text, as JSON, or written as XLSX).
    Conflicts {
        /// As JSON.
        #[arg(long)]
        json: bool,
        /// Write the report as a workbook (XLSX) to this file.
        #[arg(short, long)]
        output: Option<std::path::PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditAction {
    /// Walk the hash chain and report the first event that does not match (exit code 1).
    Verify,
}

#[derive(Debug, Subcommand)]
pub enum MigrateAction {
    /// Apply every pending migration.
    Up,
    /// Roll back the last migration, or the last N.
    Down {
        #[arg(long, default_value_t = 1)]
        steps: u32,
    },
    /// List applied and pending migrations.
    Status,
    /// Drop every table and migrate from scratch (destroys all data).
    Fresh,
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    // The file's values become the settings' defaults: the environment and flags still win.
    let mut command = Cli::command();
    let layer = match config_file::locate(&args) {
        Some(path) => match config_file::load(&command, &path) {
            Ok(layer) => layer,
            Err(problem) => {
                let message = crate::i18n::message_in(
                    asked_language(),
                    "cli-error",
                    &[("message", problem.message(asked_language()).into())],
                );
                eprintln!("{message}");
                return ExitCode::from(2);
            }
        },
        None => Layer::default(),
    };
    command = layer.apply(command);
    let parsed = command
        .try_get_matches_from_mut(&args)
        .and_then(|matches| Ok((Cli::from_arg_matches(&matches)?, matches)));
    let (cli, matches) = match parsed {
        Ok(parsed) => parsed,
        Err(err) => return usage_error(err),
    };
    let language = match cli.lang.as_deref() {
        Some(lang) if lang.to_ascii_lowercase().starts_with("en") => crate::i18n::Language::English,
        _ => crate::i18n::Language::Chinese,
    };
    let report = matches!(cli.command, Some(Command::Config { .. }))
        // Listed in the order declared (the file's settings were moved to the end as their defaults
        // were set).
        .then(|| layer.report(&Cli::command(), &matches, language));
    let names = layer.names(&Cli::command(), &matches, language);
    // A SQLite file this command is about to create, to be removed if the command fails.
    let created = sqlite_file(&cli.config.database_url).filter(|file| !file.exists());
    // Held until the process ends: dropping it sends the traces still batched.
    let _telemetry =
        match crate::telemetry::init(cli.config.log_format, cli.config.otlp_endpoint.as_deref()) {
            Ok(guard) => guard,
            Err(err) => {
                eprintln!("{err:#}");
                return ExitCode::FAILURE;
            }
        };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            let message = crate::i18n::message_in(
                language,
                "cli-runtime",
                &[("detail", crate::i18n::Arg::from(err.to_string()))],
            );
            eprintln!("{message}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = runtime.block_on(crate::i18n::scope(language, async move {
        run(cli, report, names)
            .await
            .map_err(|err| t!("cli-error", message = format!("{err:#}")))
    }));
    // Pools close their connections as they drop: the runtime first, then the files.
    drop(runtime);
    let code = match outcome {
        Ok(code) => code,
        Err(message) => {
            eprintln!("{message}");
            ExitCode::FAILURE
        }
    };
    if code != ExitCode::SUCCESS
        && let Some(file) = created
    {
        remove_database(&file);
    }
    code
}

/// The file of a SQLite database URL (`sqlite://rectrack.db?mode=rwc` → `rectrack.db`);
/// none for PostgreSQL and in-memory databases.
fn sqlite_file(url: &str) -> Option<std::path::PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    (!path.is_empty() && !path.contains(":memory:")).then(|| std::path::PathBuf::from(path))
}

/// Removes a SQLite database and the files SQLite keeps beside it.
fn remove_database(file: &std::path::Path) {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut name = file.as_os_str().to_owned();
        name.push(suffix);
        let _ = std::fs::remove_file(std::path::PathBuf::from(name));
    }
}

/// A connection to a database that must already exist and be migrated, for a command that
/// only reads it (`need` says what for, in the message): a missing SQLite file is reported,
/// never created empty.
async fn existing(config: &Config, need: String) -> anyhow::Result<sea_orm::DatabaseConnection> {
    if let Some(file) = sqlite_file(&config.database_url)
        && !file.exists()
    {
        anyhow::bail!(t!(
            "cli-no-database",
            need = need,
            file = file.display().to_string()
        ));
    }
    let conn = connect(config).await?;
    let pending = Migrator::get_pending_migrations(&conn)
        .await
        .map_err(database_failed)?;
    anyhow::ensure!(
        pending.is_empty(),
        t!("cli-database-not-ready", need = need)
    );
    Ok(conn)
}

/// A connection, or a message naming the setting to check.
async fn connect(config: &Config) -> anyhow::Result<sea_orm::DatabaseConnection> {
    db::connect(config)
        .await
        .map_err(|err| anyhow::anyhow!(t!("cli-database-unreachable", detail = err.to_string())))
}

/// A database error met by a command.
fn database_failed(err: sea_orm::DbErr) -> anyhow::Error {
    anyhow::anyhow!(t!("cli-database-failed", detail = err.to_string()))
}

async fn run(
    cli: Cli,
    report: Option<String>,
    names: std::collections::BTreeMap<String, String>,
) -> anyhow::Result<ExitCode> {
    let config = cli.config;
    // Settings that do not fit together are named where each came from.
    let validate = |config: &Config| {
        config.validate_naming(&|id| names.get(id).cloned().unwrap_or_else(|| id.to_owned()))
    };
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            validate(&config)?;
            let app = Application::build(config).await?;
            println!("rectrack listening on http://{}", app.address());
            println!("GraphiQL: http://{}/graphql", app.address());
            let state = app.state();
            if state.keys.ephemeral {
                print_dev_tokens(state)?;
            }
            app.run_until_stopped().await?;
        }
        Command::Migrate { action } => {
            validate(&config)?;
            // Only `up` and `fresh` make a database; the others read one that exists.
            let conn = match action {
                MigrateAction::Up | MigrateAction::Fresh => connect(&config).await?,
                MigrateAction::Down { .. } | MigrateAction::Status => {
                    if let Some(file) = sqlite_file(&config.database_url)
                        && !file.exists()
                    {
                        anyhow::bail!(t!(
                            "cli-no-database",
                            need = t!("cli-need-migrate"),
                            file = file.display().to_string()
                        ));
                    }
                    connect(&config).await?
                }
            };
            match action {
                MigrateAction::Up => Migrator::up(&conn, None).await.map_err(database_failed)?,
                MigrateAction::Down { steps } => Migrator::down(&conn, Some(steps))
                    .await
                    .map_err(database_failed)?,
                MigrateAction::Fresh => db::fresh(&config).await?,
                MigrateAction::Status => {
                    for m in Migrator::get_applied_migrations(&conn)
                        .await
                        .map_err(database_failed)?
                    {
                        println!("applied  {}", m.name());
                    }
                    for m in Migrator::get_pending_migrations(&conn)
                        .await
                        .map_err(database_failed)?
                    {
                        println!("pending  {}", m.name());
                    }
                }
            }
        }
        Command::Seed { demo } => {
            anyhow::ensure!(demo, t!("cli-seed-what"));
            validate(&config)?;
            let conn = connect(&config).await?;
            db::migrate(&conn).await?;
            match seed::load_demo(&conn, config.timezone)
                .await
                .map_err(|e| anyhow::anyhow!("{}", e.message()))?
            {
                seed::Outcome::Loaded { inspection_id } => {
                    println!("demo data loaded (inspection {inspection_id})");
                }
                seed::Outcome::AlreadyPresent { inspection_id } => {
                    println!("demo data already present (inspection {inspection_id})");
                }
            }
        }
        Command::Schema => print!("{}", graphql::sdl()),
        Command::Export {
            inspection,
            format,
            output,
        } => {
            validate(&config)?;
            let conn = existing(&config, t!("cli-need-export")).await?;
            let who = Acting::operator("export", config.timezone);
            let snapshot =
                crate::domain::documents::report::current_ledger(&conn, &who, inspection)
                    .await
                    .map_err(failed)?;
            let document = Document::Ledger(&snapshot);
            let format = Format::choose(Some(&format), document.formats()).map_err(failed)?;
            let bytes = render(document, format).map_err(failed)?;
            std::fs::write(&output, bytes).map_err(|err| {
                // A half-written file is no ledger: none is left behind.
                let _ = std::fs::remove_file(&output);
                anyhow::anyhow!(t!(
                    "cli-file-write",
                    file = output.display().to_string(),
                    detail = err.to_string()
                ))
            })?;
            let findings = snapshot.findings().count();
            println!(
                "wrote the ledger of {findings} findings to {}",
                output.display()
            );
        }
        Command::Import {
            file,
            inspection,
            dry_run,
            as_new,
            historical,
        } => {
            validate(&config)?;
            let unreadable = |err: std::io::Error| {
                anyhow::anyhow!(t!(
                    "cli-file-read",
                    file = file.display().to_string(),
                    detail = err.to_string()
                ))
            };
            // The file first: a missing one makes no database.
            let size = std::fs::metadata(&file).map_err(unreadable)?.len();
            let conn = connect(&config).await?;
            db::migrate(&conn).await?;
            crate::ledger_file::Budget::new(&config.import)
                .file(usize::try_from(size).unwrap_or(usize::MAX))
                .map_err(failed)?;
            let bytes = std::fs::read(&file).map_err(unreadable)?;
            let name = file
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let options = crate::domain::documents::ledger_import::Options {
                dry_run,
                as_new,
                historical,
                warnings: Some(crate::domain::workflow::warning::Thresholds::from_config(
                    &config,
                )),
            };
            let who = Acting::operator("import", config.timezone);
            let report = crate::domain::documents::ledger_import::import(
                &conn,
                &who,
                inspection,
                &name,
                bytes,
                options,
                &config.import,
            )
            .await
            .map_err(failed)?;
            for (kind, p) in report
                .problems
                .iter()
                .map(|p| ("problem", p))
                .chain(report.warnings.iter().map(|p| ("warning", p)))
            {
                println!(
                    "{kind}: {} row {} {}: [{}] {}",
                    p.sheet, p.row, p.column, p.code, p.message
                );
            }
            println!(
                "{}: {} findings created, {} updated; {} measures created, {} updated; {} ledger entries added",
                if report.applied {
                    "imported"
                } else if report.problems.is_empty() {
                    "dry run, nothing changed"
                } else {
                    "NOT imported, nothing changed"
                },
                report.findings_created,
                report.findings_updated,
                report.measures_created,
                report.measures_updated,
                report.entries_added
            );
            if !report.problems.is_empty() {
                return Ok(ExitCode::FAILURE);
            }
        }
        Command::Dev {
            action: DevAction::Generate { findings },
        } => {
            validate(&config)?;
            // Filling a database takes longer than any request may: no statement time-out.
            let mut config = config.clone();
            config.request_timeout = std::time::Duration::from_secs(24 * 3600);
            let conn = connect(&config).await?;
            db::migrate(&conn).await?;
            let started = std::time::Instant::now();
            let timings = crate::generate::generate(
                &conn,
                crate::generate::Scale { findings },
                config.timezone,
            )
            .await?;
            for (table, rows, seconds) in timings {
                println!("{table:<20} {rows:>9} rows {seconds:>7.2} s");
            }
            println!("generated in {:.1} s", started.elapsed().as_secs_f64());
        }
        Command::Dev {
            action:
                DevAction::Roadmap {
                    inspection,
                    output,
                    chromium,
                },
        } => {
            validate(&config)?;
            let conn = existing(&config, t!("cli-need-roadmap")).await?;
            let who = Acting::operator("roadmap", config.timezone);
            let thresholds = crate::domain::workflow::warning::Thresholds::from_config(&config);
            let plan =
                crate::domain::reads::lists::Plan::load(&conn, &who.caller, inspection, thresholds)
                    .await
                    .map_err(failed)?;
            let map = crate::domain::reads::lists::roadmap::build(&plan);
            let svg = crate::report::roadmap::svg(&map, &plan.inspection.title);
            let write_failed = |err: std::io::Error| {
                anyhow::anyhow!(t!(
                    "cli-file-write",
                    file = output.display().to_string(),
                    detail = err.to_string()
                ))
            };
            if output
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("png"))
            {
                match &chromium {
                    Some(chromium) => {
                        crate::report::roadmap::chromium_png(&svg, &output, chromium)?
                    }
                    None => {
                        anyhow::ensure!(
                            crate::report::roadmap::raster::chinese_font().is_some(),
                            "{}",
                            t!("cli-roadmap-no-font")
                        );
                        let picture =
                            crate::report::roadmap::raster::png(&svg, 1.0).map_err(failed)?;
                        std::fs::write(&output, picture.png).map_err(write_failed)?;
                    }
                }
            } else {
                std::fs::write(&output, svg).map_err(write_failed)?;
            }
            println!(
                "drew the road map of {} findings to {}",
                map.rows.len(),
                output.display()
            );
        }
        Command::Backup { output } => {
            validate(&config)?;
            let mut config = config.clone();
            // One snapshot is read table by table, each in one statement: no statement time-out.
            config.request_timeout = std::time::Duration::from_secs(24 * 3600);
            let conn = existing(&config, t!("cli-need-backup")).await?;
            let started = std::time::Instant::now();
            let manifest = crate::backup::take::take(&conn, &config.data_dir, &output).await?;
            let rows: u64 = manifest.tables.iter().map(|t| t.rows).sum();
            println!(
                "{}",
                t!(
                    "backup-done",
                    file = output.display().to_string(),
                    rows = rows.to_string(),
                    files = manifest.evidence.len().to_string(),
                    event = manifest.audit_head.last_event_id.to_string(),
                    seconds = format!("{:.1}", started.elapsed().as_secs_f64())
                )
            );
        }
        Command::Restore { file } => {
            validate(&config)?;
            let mut config = config.clone();
            config.request_timeout = std::time::Duration::from_secs(24 * 3600);
            // The whole file is checked before any database is touched.
            let checked = crate::backup::restore::check(&file)?;
            let conn = connect(&config).await?;
            db::migrate(&conn).await?;
            let manifest =
                crate::backup::restore::restore(&conn, &config.data_dir, checked).await?;
            let rows: u64 = manifest.tables.iter().map(|t| t.rows).sum();
            println!(
                "{}",
                t!(
                    "restore-done",
                    file = file.display().to_string(),
                    database = manifest.database.as_str(),
                    created = manifest.created_at.as_str(),
                    rows = rows.to_string(),
                    files = manifest.evidence.len().to_string()
                )
            );
        }
        Command::Openapi => println!("{}", crate::http::rest::routes(&config).1.to_pretty_json()?),
        Command::Config {
            action: ConfigAction::Check,
        } => {
            // What clap and the file could not check: relations between settings.
            validate(&config)?;
            print!("{}", report.unwrap_or_default());
        }
        Command::Exchange {
            action: ExchangeAction::Identity { json },
        } => {
            config.validate()?;
            let identity = crate::exchange::identity::Identity::load_or_create(&config.data_dir)?;
            if json {
                println!(
                    "{}",
                    serde_json::json!({
                        "instanceId": identity.instance_id,
                        "publicKey": identity.public_key(),
                    })
                );
            } else {
                println!(
                    "{}",
                    t!(
                        "exchange-identity-text",
                        instance = identity.instance_id.as_str(),
                        key = identity.public_key()
                    )
                );
            }
        }
        Command::Exchange {
            action:
                ExchangeAction::Export {
                    to,
                    output,
                    reissue,
                },
        } => {
            config.validate()?;
            let mut config = config.clone();
            // A bundle is read in one snapshot: no statement time-out.
            config.request_timeout = std::time::Duration::from_secs(24 * 3600);
            let conn = existing(&config, t!("cli-need-exchange")).await?;
            let identity = crate::exchange::identity::Identity::load_or_create(&config.data_dir)?;
            let store = crate::evidence::Store::new(&config.data_dir, 0, &[]);
            let who = Acting::operator("exchange", config.timezone);
            let exported = if let Some(n) = reissue {
                crate::exchange::export::reissue(&conn, &who, &identity, &store, &to, &output, n)
                    .await
            } else {
                crate::exchange::export::export(&conn, &who, &identity, &store, &to, &output).await
            }
            .map_err(failed)?;
            let m = &exported.manifest;
            let records: u64 = m
                .members
                .iter()
                .filter(|x| x.name.starts_with("records/"))
                .map(|x| x.rows)
                .sum();
            let blobs = m
                .members
                .iter()
                .filter(|x| x.name.starts_with("blobs/"))
                .count();
            println!(
                "{}",
                t!(
                    "exchange-exported",
                    sequence = m.sequence.to_string(),
                    file = output.display().to_string(),
                    peer = m.to.as_str(),
                    records = records.to_string(),
                    blobs = blobs.to_string(),
                    events = m.chain.events.to_string(),
                    last = m.chain.last_event_id.to_string(),
                    sha = exported.sha256.as_str()
                )
            );
        }
        Command::Exchange {
            action: ExchangeAction::Check { file },
        } => {
            config.validate()?;
            let conn = existing(&config, t!("cli-need-exchange-check")).await?;
            let identity = crate::exchange::identity::Identity::load_or_create(&config.data_dir)?;
            let checked = crate::exchange::check::check(
                &conn,
                &identity,
                &file,
                crate::exchange::check::Budgets::default(),
            )
            .await
            .map_err(failed)?;
            let m = &checked.manifest;
            let records: u64 = m
                .members
                .iter()
                .filter(|x| x.name.starts_with("records/"))
                .map(|x| x.rows)
                .sum();
            println!(
                "{}",
                t!(
                    "exchange-bundle-checked",
                    sequence = m.sequence.to_string(),
                    from = checked.sender.name.as_str(),
                    unit = m.unit.code.as_str(),
                    records = records.to_string(),
                    events = m.chain.events.to_string(),
                    last = m.chain.last_event_id.to_string()
                )
            );
        }
        Command::Exchange {
            action: ExchangeAction::Import { file, ack, json },
        } => {
            config.validate()?;
            let mut config = config.clone();
            // A bundle is merged in one transaction: no statement time-out.
            config.request_timeout = std::time::Duration::from_secs(24 * 3600);
            let conn = existing(&config, t!("cli-need-exchange-import")).await?;
            let identity = crate::exchange::identity::Identity::load_or_create(&config.data_dir)?;
            let store = crate::evidence::Store::new(&config.data_dir, 0, &[]);
            let who = Acting::operator("exchange", config.timezone);
            let imported = crate::exchange::import::import(&conn, &who, &identity, &store, &file)
                .await
                .map_err(failed)?;
            if let Some(path) = &ack {
                let text = serde_json::to_string_pretty(&imported.acknowledgement)
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                std::fs::write(path, text + "\n")
                    .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
            }
            if json {
                println!(
                    "{}",
                    serde_json::to_string(&imported).map_err(|e| anyhow::anyhow!("{e}"))?
                );
            } else if imported.result == "duplicate" {
                println!(
                    "{}",
                    t!(
                        "exchange-imported-duplicate",
                        sequence = imported.sequence.to_string(),
                        peer = imported.peer.as_str()
                    )
                );
            } else if imported.counts.contains_key("decision") {
                let n = |k: &str| imported.counts.get(k).copied().unwrap_or(0).to_string();
                println!(
                    "{}",
                    t!(
                        "exchange-decisions-imported",
                        sequence = imported.sequence.to_string(),
                        peer = imported.peer.as_str(),
                        decisions = n("decision"),
                        applied = n("applied"),
                        conflicts = n("conflict")
                    )
                );
            } else {
                let records: u64 = imported
                    .counts
                    .iter()
                    .filter(|(k, _)| k.as_str() != "department")
                    .map(|(_, v)| v)
                    .sum();
                println!(
                    "{}",
                    t!(
                        "exchange-imported",
                        sequence = imported.sequence.to_string(),
                        peer = imported.peer.as_str(),
                        unit = imported.unit.as_str(),
                        records = records.to_string(),
                        blobs = imported.evidence_files.to_string(),
                        events = imported.events.to_string()
                    )
                );
            }
        }
        Command::Exchange {
            action: ExchangeAction::Conflicts { json, output },
        } => {
            config.validate()?;
            let conn = existing(&config, t!("cli-need-exchange")).await?;
            let who = Acting::operator("exchange", config.timezone);
            let rows = crate::domain::integration::decisions::conflicts(&conn, &who)
                .await
                .map_err(failed)?;
            if let Some(path) = &output {
                let table = crate::exchange::conflicts::table(&rows, config.timezone);
                let bytes =
                    crate::report::lists::xlsx(&table).map_err(|e| anyhow::anyhow!("{e}"))?;
                std::fs::write(path, bytes)
                    .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
            }
            if json {
                let report = crate::exchange::conflicts::report(&rows);
                println!(
                    "{}",
                    serde_json::to_string(&report).map_err(|e| anyhow::anyhow!("{e}"))?
                );
            } else if output.is_none() {
                if rows.is_empty() {
                    println!("{}", t!("exchange-conflicts-none"));
                }
                for c in &rows {
                    println!(
                        "{}\t{}\t{} #{}\t{}\t{}",
                        c.recorded_at.to_rfc3339(),
                        c.peer,
                        c.move_label,
                        c.finding_id,
                        c.finding_title.clone().unwrap_or_default(),
                        c.reason.clone().unwrap_or_default()
                    );
                }
            }
        }
        Command::Exchange {
            action: ExchangeAction::Ack { file },
        } => {
            config.validate()?;
            let conn = existing(&config, t!("cli-need-exchange-ack")).await?;
            let identity = crate::exchange::identity::Identity::load_or_create(&config.data_dir)?;
            let mut text = Vec::new();
            {
                use std::io::Read;
                std::fs::File::open(&file)
                    .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?
                    .take(64 * 1024)
                    .read_to_end(&mut text)
                    .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
            }
            let ack: crate::exchange::import::Acknowledgement = serde_json::from_slice(&text)
                .map_err(|e| {
                    anyhow::anyhow!(
                        "{}",
                        t!("exchange-bundle-unreadable", detail = e.to_string())
                    )
                })?;
            let who = Acting::operator("exchange", config.timezone);
            let moved = crate::exchange::ack::record(&conn, &who, &identity, &ack)
                .await
                .map_err(failed)?;
            let (sequence, event) = (ack.sequence.to_string(), ack.last_event_id.to_string());
            if moved {
                println!(
                    "{}",
                    t!("exchange-acked", sequence = sequence, event = event)
                );
            } else {
                println!("{}", t!("exchange-acked-already", sequence = sequence));
            }
        }
        Command::Audit {
            action: AuditAction::Verify,
        } => {
            validate(&config)?;
            let conn = existing(&config, t!("cli-need-audit")).await?;
            let verdict = crate::domain::reads::audit_log::verify(&conn)
                .await
                .map_err(failed)?;
            match verdict {
                crate::domain::reads::audit_log::Verdict::Intact { events, reports } => {
                    println!(
                        "audit trail intact: {events} events, every hash and link verified, the chain ends at its head; {reports} report snapshots match their recorded hashes"
                    );
                    // Read-only: events of committed changes a stopped process left unchained
                    // are not a break; the server chains them when it starts.
                    let waiting = crate::audit::waiting(&conn).await.map_err(failed)?;
                    if waiting > 0 {
                        println!(
                            "{waiting} events of committed changes wait for their place on the chain (the server chains them when it starts)"
                        );
                    }
                }
                crate::domain::reads::audit_log::Verdict::Broken {
                    event_id,
                    reason,
                    checked,
                } => {
                    println!(
                        "audit trail BROKEN at event {event_id}: {reason} ({checked} events before it verified)"
                    );
                    return Ok(ExitCode::FAILURE);
                }
            }
        }
        Command::Token {
            sub,
            role,
            dept,
            name,
            ttl,
        } => {
            validate(&config)?;
            let keys = Keys::load(&config.jwt, config.environment)?;
            anyhow::ensure!(!keys.ephemeral, t!("cli-no-signing-key"));
            let role = Role::parse(&role)
                .ok_or_else(|| anyhow::anyhow!(t!("cli-unknown-role", role = role.as_str())))?;
            anyhow::ensure!(
                dept.is_some() || !matches!(role, Role::Manager | Role::Officer),
                t!("cli-token-needs-dept", role = role)
            );
            if let Some(code) = &dept {
                // A token for a department that does not exist would be refused at every use.
                let conn = existing(&config, t!("cli-need-token-dept")).await?;
                match crate::domain::records::department::active_by_code(&conn, "dept", code).await
                {
                    Ok(_) => {}
                    Err(crate::error::AppError::BadUserInput { .. }) => {
                        anyhow::bail!(t!("cli-no-department", code = code.as_str()))
                    }
                    Err(err) => return Err(failed(err)),
                }
            }
            let token = token::issue(
                &keys,
                &config.jwt,
                NewToken {
                    sub: &sub,
                    name: name.as_deref(),
                    role,
                    dept: dept.as_deref(),
                    account: None,
                    ttl,
                },
            )
            .map_err(failed)?;
            println!("{token}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// A domain error as the command line reports it.
fn failed(err: crate::error::AppError) -> anyhow::Error {
    anyhow::anyhow!(t!("cli-failed", message = err.message(), code = err.code()))
}

/// Prints one token per role, clearly marked as development-only.
fn print_dev_tokens(state: &crate::http::state::AppState) -> anyhow::Result<()> {
    let tokens = state.dev_tokens.iter().cloned();
    println!();
    println!(
        "DEVELOPMENT TOKENS: signed with a key made up at start-up; valid until this process stops."
    );
    println!(
        "Never use them in production (RECTRACK_ENV=production refuses to start without keys)."
    );
    for (role, dept, token) in tokens {
        println!(
            "  {role:<9} {:<10} Authorization: Bearer {token}",
            dept.unwrap_or("(all)")
        );
    }
    println!("GraphiQL's headers are filled in with the admin token.");
    println!();
    Ok(())
}

/// The language asked for by --lang or LANG, read by hand: for errors met before clap has
/// read the command line, or when it could not.
fn asked_language() -> crate::i18n::Language {
    let args: Vec<String> = std::env::args_os()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let asked = args
        .iter()
        .position(|a| a == "--lang")
        .and_then(|i| args.get(i + 1).cloned())
        .or_else(|| {
            args.iter()
                .find_map(|a| a.strip_prefix("--lang=").map(str::to_owned))
        })
        .or_else(|| std::env::var("LANG").ok());
    match asked {
        Some(lang) if lang.to_ascii_lowercase().starts_with("en") => crate::i18n::Language::English,
        _ => crate::i18n::Language::Chinese,
    }
}

/// A command line clap could not read, said in the command's language from the error's kind
/// and context (never from clap's English text); help and version are printed as clap prints
/// them. Exits with 2, as clap does.
fn usage_error(err: clap::Error) -> ExitCode {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    if matches!(
        err.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        let _ = err.print();
        return ExitCode::from(if err.use_stderr() { 2 } else { 0 });
    }
    let language = asked_language();
    let text = |kind: ContextKind| match err.get(kind) {
        Some(ContextValue::String(s)) => s.clone(),
        Some(ContextValue::Strings(list)) => list.join(", "),
        _ => String::new(),
    };
    let say =
        |id: &str, args: &[(&str, crate::i18n::Arg)]| crate::i18n::message_in(language, id, args);
    let detail = match err.kind() {
        ErrorKind::UnknownArgument => say(
            "cli-usage-unknown-argument",
            &[("argument", text(ContextKind::InvalidArg).into())],
        ),
        ErrorKind::InvalidSubcommand => say(
            "cli-usage-unknown-command",
            &[("command", text(ContextKind::InvalidSubcommand).into())],
        ),
        ErrorKind::InvalidValue | ErrorKind::ValueValidation => say(
            "cli-usage-invalid-value",
            &[
                ("argument", text(ContextKind::InvalidArg).into()),
                ("value", text(ContextKind::InvalidValue).into()),
                (
                    "valid",
                    {
                        let valid = text(ContextKind::ValidValue);
                        if valid.is_empty() {
                            "none".to_owned()
                        } else {
                            valid
                        }
                    }
                    .into(),
                ),
            ],
        ),
        ErrorKind::MissingRequiredArgument => say(
            "cli-usage-missing",
            &[("argument", text(ContextKind::InvalidArg).into())],
        ),
        ErrorKind::NoEquals
        | ErrorKind::TooManyValues
        | ErrorKind::TooFewValues
        | ErrorKind::WrongNumberOfValues => say(
            "cli-usage-values",
            &[("argument", text(ContextKind::InvalidArg).into())],
        ),
        ErrorKind::ArgumentConflict => say(
            "cli-usage-conflict",
            &[
                ("argument", text(ContextKind::InvalidArg).into()),
                ("other", text(ContextKind::PriorArg).into()),
            ],
        ),
        _ => say("cli-usage-other", &[]),
    };
    let message = say("cli-error", &[("message", detail.into())]);
    eprintln!("{message}");
    ExitCode::from(2)
}
