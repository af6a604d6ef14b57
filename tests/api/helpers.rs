//! Shared test fixtures: fresh databases, a spawned app, and an HTTP client.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Once;
use std::sync::atomic::{AtomicU32, Ordering};

use clap::Parser;
use rectrack::cli::Cli;
use rectrack::config::Config;
use rectrack::startup::Application;
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};

static COUNTER: AtomicU32 = AtomicU32::new(0);
static NOTICE: Once = Once::new();

/// A database that exists for one test and is removed when the test ends (even on panic).
pub struct TestDb {
    pub url: String,
    kind: Kind,
}

enum Kind {
    Sqlite(PathBuf),
    Postgres { admin_url: String, name: String },
}

impl TestDb {
    /// A fresh, empty database on the engine under test.
    pub async fn new() -> Self {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let unique = format!(
            "{}_{}_{}",
            std::process::id(),
            n,
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.subsec_nanos())
                .unwrap_or(0)
        );
        match std::env::var("TEST_DATABASE_URL") {
            Ok(admin_url) if !admin_url.is_empty() => {
                let name = format!("rectrack_test_{unique}");
                let admin = Database::connect(&admin_url)
                    .await
                    .expect("TEST_DATABASE_URL must reach a PostgreSQL server");
                admin
                    .execute_unprepared(&format!("CREATE DATABASE {name}"))
                    .await
                    .expect("create the test database");
                admin.close().await.ok();
                let base = admin_url
                    .rsplit_once('/')
                    .map(|(base, _)| base)
                    .expect("TEST_DATABASE_URL ends with /DATABASE");
                Self {
                    url: format!("{base}/{name}"),
                    kind: Kind::Postgres { admin_url, name },
                }
            }
            _ => {
                NOTICE.call_once(|| {
                    // Written past the test harness's capture so that it is seen.
                    let _ = writeln!(
                        std::io::stderr(),
                        "note: TEST_DATABASE_URL is not set: tests run on SQLite only; \
                         PostgreSQL is skipped (set TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test)"
                    );
                });
                let path = std::env::temp_dir().join(format!("rectrack_test_{unique}.db"));
                Self {
                    url: format!("sqlite://{}?mode=rwc", path.display()),
                    kind: Kind::Sqlite(path),
                }
            }
        }
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self.kind, Kind::Postgres { .. })
    }

    /// A separate connection for checking what the app wrote.
    pub async fn connect(&self) -> DatabaseConnection {
        Database::connect(&self.url)
            .await
            .expect("connect to the test database")
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        match &self.kind {
            Kind::Sqlite(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
            }
            Kind::Postgres { admin_url, name } => {
                let (admin_url, name) = (admin_url.clone(), name.clone());
                // Drop runs outside any runtime we may block; use a thread with its own.
                let _ = std::thread::spawn(move || {
                    let runtime = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .expect("runtime");
                    runtime.block_on(async {
                        if let Ok(admin) = Database::connect(&admin_url).await {
                            let _ = admin
                                .execute_unprepared(&format!(
                                    "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                                ))
                                .await;
                            admin.close().await.ok();
                        }
                    });
                })
                .join();
            }
        }
    }
}

/// Configuration for a test server on `db`, port 0, with extra flags.
pub fn config(db: &TestDb, extra: &[&str]) -> Config {
    let mut args = vec![
        "rectrack",
        "--database-url",
        &db.url,
        "--bind",
        "127.0.0.1:0",
        "--db-max-connections",
        "8",
    ];
    args.extend_from_slice(extra);
    Cli::try_parse_from(args).expect("valid test flags").config
}

/// A running app and what a test needs to talk to it.
pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    // Last, so the database outlives the connections above.
    pub test_db: TestDb,
}

/// Starts the real app on a fresh database (with the demo data) and returns once it listens.
pub async fn spawn_app() -> TestApp {
    let test_db = TestDb::new().await;
    let app = Application::build(config(&test_db, &[]))
        .await
        .expect("the app builds");
    let address = format!("http://{}", app.address());
    tokio::spawn(app.run_until_stopped());
    TestApp {
        address,
        client: reqwest::Client::new(),
        test_db,
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }
}

/// Runs `SELECT COUNT(*) ...` and returns the number.
pub async fn count(db: &DatabaseConnection, sql: &str) -> i64 {
    let row = db
        .query_one_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            sql,
        ))
        .await
        .expect("count query runs")
        .expect("count returns a row");
    row.try_get_by_index::<i64>(0).expect("count is a number")
}
