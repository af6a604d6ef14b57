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
use serde_json::{Value, json};

use crate::jwt;

static COUNTER: AtomicU32 = AtomicU32::new(0);
static NOTICE: Once = Once::new();

/// An HTTP client for talking to a server. reqwest's TLS has no crypto provider of its own here
/// (as in the server, ring is installed at start-up): a test that talks to a server run as a
/// child process, before any app was built in this process, would find none.
pub fn http_client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

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
        Self::on(false).await
    }

    /// A fresh, empty SQLite database, whatever the engine under test (a restore from or
    /// into PostgreSQL needs one of each).
    pub async fn sqlite() -> Self {
        Self::on(true).await
    }

    async fn on(sqlite: bool) -> Self {
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
            Ok(admin_url) if !admin_url.is_empty() && !sqlite => {
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
            found => {
                // SQLite asked for by name is no sign that PostgreSQL is skipped.
                let asked = sqlite && found.is_ok_and(|url| !url.is_empty());
                (!asked).then(|| NOTICE.call_once(|| {
                    // Written past the test harness's capture so that it is seen.
                    let _ = writeln!(
                        std::io::stderr(),
                        "note: TEST_DATABASE_URL is not set: tests run on SQLite only; \
                         PostgreSQL is skipped (set TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test)"
                    );
                }));
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
    let mut args = vec!["rectrack", "--database-url", &db.url];
    // Port 0, unless the test chooses the address itself.
    if !extra.contains(&"--bind") {
        args.extend_from_slice(&["--bind", "127.0.0.1:0"]);
    }
    // Eight connections, unless the test sizes the pool itself.
    if !extra.contains(&"--db-max-connections") {
        args.extend_from_slice(&["--db-max-connections", "8"]);
    }
    // Tests make many anonymous requests from one address; the rate limits have their own
    // test, which passes its own flags.
    if !extra.iter().any(|a| a.starts_with("--rate-")) {
        args.extend_from_slice(&[
            "--rate-anonymous-burst",
            "100000",
            "--rate-public-burst",
            "100000",
        ]);
    }
    // Early warnings write notifications and audit events of their own as soon as a server
    // starts; the tests of them turn them on.
    if !extra.iter().any(|a| a.starts_with("--warning-alerts")) {
        args.extend_from_slice(&["--warning-alerts", "false"]);
    }
    args.extend_from_slice(extra);
    Cli::try_parse_from(args).expect("valid test flags").config
}

/// The HS256 secret test servers verify with (tests sign with it through OpenSSL).
pub const SECRET: &str = "rectrack-test-secret-0123456789-abcdefghij";

/// A running app and what a test needs to talk to it.
pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    /// A separate connection for arranging and checking rows directly.
    pub db: DatabaseConnection,
    /// The app's own data directory (evidence files), removed afterwards.
    pub data_dir: PathBuf,
    // Last, so the database outlives the connections above.
    pub test_db: TestDb,
}

/// Starts the real app on a fresh database (with the demo data) and the test secret.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(&["--jwt-secret", SECRET]).await
}

/// Starts the real app with these flags (and no others of the auth kind).
pub async fn spawn_app_with(extra: &[&str]) -> TestApp {
    spawn_app_on(TestDb::new().await, extra).await
}

/// Starts the real app on `test_db` (e.g. [`TestDb::sqlite`] beside an app on PostgreSQL).
pub async fn spawn_app_on(test_db: TestDb, extra: &[&str]) -> TestApp {
    let data_dir = std::env::temp_dir().join(format!(
        "rectrack_data_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    ));
    spawn_app_in(test_db, data_dir, extra, async |_| {}).await
}

/// [`spawn_app_on`] with a data directory of the test's choosing (which may already hold
/// files, such as the instance's exchange identity), running `before` on the built app's
/// database before it serves.
pub async fn spawn_app_in(
    test_db: TestDb,
    data_dir: PathBuf,
    extra: &[&str],
    before: impl AsyncFnOnce(&DatabaseConnection),
) -> TestApp {
    // Server logs go to the test's output, shown when it fails (RUST_LOG picks the level).
    // The pool wait layer too, as the binary installs it (`rectrack_db_pool_wait_seconds`).
    {
        use tracing_subscriber::Layer;
        use tracing_subscriber::layer::SubscriberExt;
        use tracing_subscriber::util::SubscriberInitExt;
        let logs = tracing_subscriber::fmt::layer()
            .with_test_writer()
            .with_filter(
                tracing_subscriber::EnvFilter::try_from_default_env()
                    .unwrap_or_else(|_| "rectrack=error".into()),
            );
        let _ = tracing_subscriber::registry()
            .with(logs)
            .with(rectrack::telemetry::pool_waits())
            .try_init();
    }
    let data_flag = data_dir.to_string_lossy().into_owned();
    let mut flags = vec!["--data-dir", data_flag.as_str()];
    flags.extend_from_slice(extra);
    let app = Application::build(config(&test_db, &flags))
        .await
        .expect("the app builds");
    let address = format!("http://{}", app.address());
    let db = test_db.connect().await;
    before(&db).await;
    tokio::spawn(app.run_until_stopped());
    TestApp {
        address,
        client: http_client(),
        db,
        data_dir,
        test_db,
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.data_dir);
    }
}

impl TestApp {
    /// Creates a finding of the demo inspection in `department`, as the unit's manager.
    pub async fn create_finding(&self, title: &str, department: &str) -> String {
        self.data(
            &TestUser::manager("ZJTZB"),
            "mutation($i: CreateFindingInput!) { createFinding(input: $i) { id } }",
            json!({"i": {"inspectionId": "1", "title": title, "rectificationType": "IMMEDIATE", "departmentCode": department}}),
        )
        .await["createFinding"]["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Renames a finding at its current version, as the unit's manager.
    pub async fn retitle(&self, id: &str, title: &str) {
        let version = self.finding_version(id.parse().unwrap()).await;
        self.data(
            &TestUser::manager("ZJTZB"),
            "mutation($i: UpdateFindingInput!) { updateFinding(input: $i) { id } }",
            json!({"i": {"id": id, "version": version, "title": title}}),
        )
        .await;
    }

    /// Starts another instance of the app on this app's database (as a second server behind
    /// a load balancer would be); returns its address.
    pub async fn another(&self, extra: &[&str]) -> String {
        let data_flag = self.data_dir.to_string_lossy().into_owned();
        let mut flags = vec!["--data-dir", data_flag.as_str()];
        flags.extend_from_slice(extra);
        let app = Application::build(config(&self.test_db, &flags))
            .await
            .expect("the second instance builds");
        let address = format!("http://{}", app.address());
        tokio::spawn(app.run_until_stopped());
        address
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// POSTs a GraphQL operation with an optional bearer token; returns status and body.
    pub async fn gql(&self, token: Option<&str>, query: &str, variables: Value) -> (u16, Value) {
        self.post_graphql(token, json!({"query": query, "variables": variables}))
            .await
    }

    /// [`Self::gql`] with an `Accept-Language` header.
    pub async fn gql_in(
        &self,
        language: &str,
        token: Option<&str>,
        query: &str,
        variables: Value,
    ) -> (u16, Value) {
        let mut request = self
            .client
            .post(self.url("/graphql"))
            .header("accept-language", language)
            .json(&json!({"query": query, "variables": variables}));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.expect("the server answers");
        let status = response.status().as_u16();
        (status, response.json().await.expect("a JSON body"))
    }

    /// [`Self::gql`] for one named operation of a document.
    pub async fn gql_op(
        &self,
        token: Option<&str>,
        document: &str,
        operation: &str,
        variables: Value,
    ) -> (u16, Value) {
        let body = json!({"query": document, "operationName": operation, "variables": variables});
        self.post_graphql(token, body).await
    }

    async fn post_graphql(&self, token: Option<&str>, body: Value) -> (u16, Value) {
        let mut request = self.client.post(self.url("/graphql")).json(&body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.expect("the server answers");
        let status = response.status().as_u16();
        (status, response.json().await.expect("a JSON body"))
    }

    /// Runs an operation that must succeed and returns its `data`.
    pub async fn data(&self, token: &str, query: &str, variables: Value) -> Value {
        let (status, body) = self.gql(Some(token), query, variables).await;
        assert_eq!(status, 200, "{body}");
        assert!(body.get("errors").is_none(), "unexpected errors: {body}");
        body["data"].clone()
    }

    /// The SQL statements the app has run so far (from `/metrics`).
    pub async fn sql_statements(&self) -> u64 {
        self.metric("rectrack_sql_statements_total").await
    }

    /// A counter served at `/metrics`.
    pub async fn metric(&self, name: &str) -> u64 {
        let text = self
            .client
            .get(self.url("/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
            .and_then(|n| n.trim().parse().ok())
            .expect("the metric is served")
    }

    /// The rows of a query run directly against the app's database (the tests' oracles).
    pub async fn rows(&self, sql: &str) -> Vec<sea_orm::QueryResult> {
        self.db
            .query_all_raw(sea_orm::Statement::from_string(
                self.db.get_database_backend(),
                sql,
            ))
            .await
            .expect("the oracle's query runs")
    }

    /// Runs SQL directly against the app's database (arranging data no API creates yet).
    pub async fn sql(&self, sql: &str) {
        self.db.execute_unprepared(sql).await.expect("SQL runs");
    }

    /// Sends a GraphQL multipart request (uploads): `files` are (variable path, file name,
    /// media type, content).
    pub async fn upload(
        &self,
        token: &str,
        query: &str,
        variables: Value,
        files: &[(&str, &str, &str, &[u8])],
    ) -> (u16, Value) {
        upload_at(&self.address, token, query, variables, files).await
    }

    /// Creates an empty inspection of the demo unit, as the inspection office.
    pub async fn create_inspection(&self, title: &str) -> String {
        let input = json!({"input": {"title": title, "inspectionGroup": "市委第三巡察组", "unitCode": "ZJTZB", "startedOn": "2020-03-19", "feedbackOn": "2020-09-05"}});
        self.data(
            &TestUser::inspector(),
            "mutation($input: CreateInspectionInput!) { createInspection(input: $input) { id } }",
            input,
        )
        .await["createInspection"]["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Files stored under the app's evidence directory.
    pub fn stored_files(&self) -> usize {
        fn walk(dir: &std::path::Path) -> usize {
            std::fs::read_dir(dir)
                .map(|entries| {
                    entries
                        .flatten()
                        .map(|e| {
                            if e.path().is_dir() {
                                walk(&e.path())
                            } else {
                                1
                            }
                        })
                        .sum()
                })
                .unwrap_or(0)
        }
        walk(&self.data_dir.join("evidence"))
    }

    /// The current version of a finding.
    pub async fn finding_version(&self, id: i64) -> i64 {
        count(
            &self.db,
            &format!("SELECT version FROM finding WHERE id = {id}"),
        )
        .await
    }

    /// Generates the demo inspection's bulletin as `token`; its id.
    pub async fn bulletin(&self, token: &str) -> String {
        self.data(
            token,
            "mutation { generateBulletin(inspectionId: 1) { id } }",
            json!({}),
        )
        .await["generateBulletin"]["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// A progress report of the demo inspection, generated by `token`; its id.
    pub async fn report(&self, token: &str) -> String {
        self.data(
            token,
            "mutation { generateReport(inspectionId: 1) { id } }",
            json!({}),
        )
        .await["generateReport"]["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// [`Self::bulletin`], published; its id.
    pub async fn published_bulletin(&self, token: &str) -> String {
        let id = self.bulletin(token).await;
        self.data(
            token,
            "mutation($id: ID!) { publishBulletin(id: $id) { id } }",
            json!({"id": id}),
        )
        .await;
        id
    }

    /// Generates `inspection`'s progress report (with its ledger table) as `token`; its id.
    pub async fn generate_report(&self, token: &str, inspection: &str) -> String {
        self.generated(token, "generateReport", inspection).await
    }

    /// Generates `inspection`'s public bulletin as `token`; its id.
    pub async fn generate_bulletin(&self, token: &str, inspection: &str) -> String {
        self.generated(token, "generateBulletin", inspection).await
    }

    async fn generated(&self, token: &str, mutation: &str, inspection: &str) -> String {
        let query = format!("mutation($i: ID!) {{ {mutation}(inspectionId: $i) {{ id }} }}");
        self.data(token, &query, serde_json::json!({"i": inspection}))
            .await[mutation]["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// A report's (or bulletin's) Markdown, as `token` reads it.
    pub async fn markdown(&self, token: &str, report: &str) -> String {
        self.data(
            token,
            "query($id: ID!) { report(id: $id) { markdown } }",
            json!({"id": report}),
        )
        .await["report"]["markdown"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// The id of the demo finding with this ordinal.
    pub async fn finding_id(&self, ordinal: i32) -> i64 {
        count(
            &self.db,
            &format!("SELECT id FROM finding WHERE ordinal = {ordinal} AND inspection_id = 1"),
        )
        .await
    }
}

/// A GraphQL multipart request (uploads) to the server at `address` (a test app, or a binary
/// the test started): `files` are (variable path, file name, media type, content).
pub async fn upload_at(
    address: &str,
    token: &str,
    query: &str,
    variables: Value,
    files: &[(&str, &str, &str, &[u8])],
) -> (u16, Value) {
    let boundary = "rectrack-test-boundary-7b1f";
    let mut map = serde_json::Map::new();
    for (i, (path, ..)) in files.iter().enumerate() {
        map.insert(i.to_string(), json!([path]));
    }
    let mut body = Vec::new();
    let mut part = |headers: String, content: &[u8]| {
        body.extend_from_slice(format!("--{boundary}\r\n{headers}\r\n\r\n").as_bytes());
        body.extend_from_slice(content);
        body.extend_from_slice(b"\r\n");
    };
    let operations = json!({"query": query, "variables": variables}).to_string();
    part(
        "Content-Disposition: form-data; name=\"operations\"".to_owned(),
        operations.as_bytes(),
    );
    part(
        "Content-Disposition: form-data; name=\"map\"".to_owned(),
        Value::Object(map).to_string().as_bytes(),
    );
    for (i, (_, name, media_type, content)) in files.iter().enumerate() {
        part(
            format!(
                "Content-Disposition: form-data; name=\"{i}\"; filename=\"{name}\"\r\nContent-Type: {media_type}"
            ),
            content,
        );
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    let response = http_client()
        .post(format!("{address}/graphql"))
        .bearer_auth(token)
        .header(
            "Content-Type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await
        .expect("the server answers");
    let status = response.status().as_u16();
    (status, response.json().await.expect("a JSON body"))
}

/// A caller for tests: a role and department, minted as an HS256 token with [`SECRET`].
pub struct TestUser;

impl TestUser {
    pub fn token(role: &str, dept: Option<&str>) -> String {
        let mut claims = json!({
            "sub": format!("test-{role}"),
            "name": format!("Test {role}"),
            "role": role,
            "exp": jwt::now() + 3600,
            "iat": jwt::now(),
        });
        if let Some(dept) = dept {
            claims["dept"] = json!(dept);
        }
        jwt::hs256(SECRET.as_bytes(), &claims)
    }
    pub fn admin() -> String {
        Self::token("admin", None)
    }
    pub fn inspector() -> String {
        Self::token("inspector", Some("ZJSW-XCB"))
    }
    pub fn manager(dept: &str) -> String {
        Self::token("manager", Some(dept))
    }
    pub fn officer(dept: &str) -> String {
        Self::token("officer", Some(dept))
    }
    pub fn viewer(dept: Option<&str>) -> String {
        Self::token("viewer", dept)
    }
}

/// The `extensions.code` of the first error, if any.
pub fn error_code(body: &Value) -> Option<&str> {
    body["errors"][0]["extensions"]["code"].as_str()
}

/// Runs a query returning one number (`SELECT COUNT(*) ...`, `SELECT id ...`) and returns it.
pub async fn count(db: &DatabaseConnection, sql: &str) -> i64 {
    let row = db
        .query_one_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            sql,
        ))
        .await
        .expect("count query runs")
        .expect("count returns a row");
    // COUNT(*) is a BIGINT; ids are INTEGER on PostgreSQL.
    row.try_get_by_index::<i64>(0)
        .or_else(|_| row.try_get_by_index::<i32>(0).map(i64::from))
        .expect("a number")
}
