//! The command line: `rectrack [serve]`, `migrate`, `seed`, `schema`.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use migration::{Migrator, MigratorTrait};
use tracing_subscriber::EnvFilter;

use crate::auth::keys::Keys;
use crate::auth::token::{self, NewToken};
use crate::config::Config;
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
    },
    /// Print the REST API's OpenAPI document (equal to docs/openapi.json).
    Openapi,
    /// Development tools.
    Dev {
        #[command(subcommand)]
        action: DevAction,
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
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| EnvFilter::new("rectrack=info,tower_http=info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let config = cli.config;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
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
            config.validate()?;
            let conn = db::connect(&config).await?;
            match action {
                MigrateAction::Up => Migrator::up(&conn, None).await?,
                MigrateAction::Down { steps } => Migrator::down(&conn, Some(steps)).await?,
                MigrateAction::Fresh => Migrator::fresh(&conn).await?,
                MigrateAction::Status => {
                    for m in Migrator::get_applied_migrations(&conn).await? {
                        println!("applied  {}", m.name());
                    }
                    for m in Migrator::get_pending_migrations(&conn).await? {
                        println!("pending  {}", m.name());
                    }
                }
            }
        }
        Command::Seed { demo } => {
            anyhow::ensure!(demo, "say what to seed: `rectrack seed --demo`");
            config.validate()?;
            let conn = db::connect(&config).await?;
            db::migrate(&conn).await?;
            match seed::load_demo(&conn)
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
            config.validate()?;
            let conn = db::connect(&config).await?;
            let caller = operator("export");
            let rows = crate::domain::ledger_export::rows(&conn, &caller, inspection)
                .await
                .map_err(|e| anyhow::anyhow!("{}", e.message()))?;
            let bytes = match format.as_str() {
                "xlsx" => crate::domain::ledger_export::xlsx(&rows)
                    .map_err(|e| anyhow::anyhow!("{}", e.message()))?,
                "csv" => crate::domain::ledger_export::csv(&rows).into_bytes(),
                "json" => serde_json::to_vec_pretty(&crate::domain::ledger_export::json(&rows))?,
                other => anyhow::bail!("unknown format '{other}': xlsx, csv or json"),
            };
            std::fs::write(&output, bytes)?;
            println!("wrote {} rows to {}", rows.len() - 1, output.display());
        }
        Command::Import {
            file,
            inspection,
            dry_run,
            as_new,
        } => {
            config.validate()?;
            let conn = db::connect(&config).await?;
            db::migrate(&conn).await?;
            let bytes = std::fs::read(&file)?;
            let name = file
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let options = crate::domain::ledger_import::Options { dry_run, as_new };
            let report = crate::domain::ledger_import::import(
                &conn,
                &operator("import"),
                None,
                inspection,
                &name,
                &bytes,
                options,
            )
            .await
            .map_err(|e| anyhow::anyhow!("{}", e.message()))?;
            for p in &report.problems {
                println!("{} row {} {}: {}", p.sheet, p.row, p.column, p.message);
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
            config.validate()?;
            let conn = db::connect(&config).await?;
            db::migrate(&conn).await?;
            let started = std::time::Instant::now();
            let timings =
                crate::generate::generate(&conn, crate::generate::Scale { findings }).await?;
            for (table, rows, seconds) in timings {
                println!("{table:<20} {rows:>9} rows {seconds:>7.2} s");
            }
            println!("generated in {:.1} s", started.elapsed().as_secs_f64());
        }
        Command::Openapi => println!("{}", crate::http::rest::routes().1.to_pretty_json()?),
        Command::Audit {
            action: AuditAction::Verify,
        } => {
            config.validate()?;
            let conn = db::connect(&config).await?;
            let verdict = crate::domain::audit_log::verify(&conn)
                .await
                .map_err(|e| anyhow::anyhow!("{}", e.message()))?;
            match verdict {
                crate::domain::audit_log::Verdict::Intact { events } => {
                    println!("audit trail intact: {events} events, every hash and link verified");
                }
                crate::domain::audit_log::Verdict::Broken {
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
            config.validate()?;
            let keys = Keys::load(&config.jwt, config.environment)?;
            anyhow::ensure!(
                !keys.ephemeral,
                "no signing key configured: set RECTRACK_JWT_SECRET (or _FILE) or RECTRACK_JWT_PRIVATE_KEY_FILE"
            );
            let role = Role::parse(&role).ok_or_else(|| {
                anyhow::anyhow!(
                    "unknown role '{role}' (admin, inspector, manager, officer, viewer)"
                )
            })?;
            anyhow::ensure!(
                dept.is_some() || !matches!(role, Role::Manager | Role::Officer),
                "a {role} token needs --dept CODE"
            );
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
            .map_err(|e| anyhow::anyhow!("{}", e.message()))?;
            println!("{token}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The identity of an operator running a command on the server itself (an administrator with
/// database access), as the audit trail records it.
fn operator(what: &str) -> crate::auth::Caller {
    crate::auth::Caller::Authenticated(crate::auth::Identity {
        sub: format!("cli:{what}"),
        name: Some(format!("rectrack {what}")),
        role: Role::Admin,
        department: None,
        account_id: None,
    })
}

/// Prints one token per role, clearly marked as development-only.
fn print_dev_tokens(state: &crate::state::AppState) -> anyhow::Result<()> {
    let tokens = token::dev_tokens(&state.keys, &state.config.jwt)
        .map_err(|e| anyhow::anyhow!("{}", e.message()))?;
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
    println!();
    Ok(())
}
