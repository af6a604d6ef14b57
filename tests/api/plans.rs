//! Every list the schema offers, with every filter and every order, is served by an index or a
//! bounded plan: never by reading a whole large table and sorting it. The lists, their filters
//! and orders are read from the served schema (introspection), so a list or a filter added
//! later is checked without anyone adding it here. Each combination is sent as a GraphQL request
//! to a server on data of the benchmark's shape (`dev generate` at a small scale, plus audit
//! events); the SQL it ran is captured (`db::StatementLog`) and put through the database's own
//! `EXPLAIN`.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use rectrack::db::StatementLog;
use rectrack::startup::Application;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};
use serde_json::{Value, json};

use crate::helpers::{SECRET, TestDb, TestUser, config, http_client};

/// Tables that grow with the province's work: a full read of one of them, sorted, is the cliff.
const LARGE: [&str; 4] = ["finding", "measure", "progress_entry", "audit_event"];

/// Findings generated: with 5 measures and 10 ledger entries each, and as many audit events as
/// ledger entries, enough for both planners to prefer an index where one serves.
const FINDINGS: u32 = 5_000;

/// A sort of this share of a large table or more counts as sorting the whole of it: a status
/// (a quarter of the findings or more) is a filter, not a bound.
const SHARE: f64 = 0.1;

/// Arguments that page rather than filter or order.
const PAGING: [&str; 4] = ["first", "after", "last", "before"];

#[tokio::test]
async fn every_list_the_schema_offers_is_served_without_sorting_a_whole_large_table() {
    let db = TestDb::new().await;
    let app = Application::build(config(&db, &["--jwt-secret", SECRET, "--demo", "false"]))
        .await
        .expect("the app builds");
    let log = StatementLog::of(&app.state().sql_statements).expect("the app's statements log");
    let address = format!("http://{}", app.address());
    tokio::spawn(app.run_until_stopped());
    let conn = db.connect().await;
    fill(&conn).await;

    let client = http_client();
    let admin = TestUser::admin();
    let post = |query: String| {
        let client = client.clone();
        let address = address.clone();
        let admin = admin.clone();
        async move {
            client
                .post(format!("{address}/graphql"))
                .bearer_auth(admin)
                .json(&json!({ "query": query }))
                .send()
                .await
                .expect("the server answers")
                .json::<Value>()
                .await
                .expect("a JSON body")
        }
    };
    let schema = post(INTROSPECTION.to_owned()).await;
    let types = Types::new(&schema["data"]["__schema"]["types"]);
    let requests = types.requests();
    assert!(
        requests.len() > 300,
        "the schema's lists give {} requests",
        requests.len()
    );
    for list in [
        "Query.findings",
        "Query.measures",
        "Inspection.findings",
        "Finding.progress",
    ] {
        assert!(
            requests.iter().any(|r| r.list == list),
            "{list} is among the lists checked"
        );
    }

    let stats = Stats::read(&conn).await;
    let mut failures = Vec::new();
    let mut explained = BTreeSet::new();
    for request in &requests {
        log.start();
        let body = post(request.query.clone()).await;
        let statements = log.take();
        if let Some(errors) = body.get("errors") {
            failures.push(format!("{}: the request failed: {errors}", request.name()));
            continue;
        }
        for statement in statements {
            if !is_read(&statement.sql) || !explained.insert(key(&statement)) {
                continue;
            }
            if let Some(why) = whole_table_sorted(&conn, &stats, &statement).await {
                failures.push(format!("{}: {why}\n    {}", request.name(), statement.sql));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} lists, filters and orders read a whole large table and sort it:\n{}",
        failures.len(),
        requests.len(),
        failures.join("\n")
    );
}

/// The benchmark's data at a small scale, and audit events as many as ledger entries (the
/// generator writes none), with fresh planner statistics.
async fn fill(conn: &DatabaseConnection) {
    rectrack::generate::generate(
        conn,
        rectrack::generate::Scale { findings: FINDINGS },
        rectrack::config::TimeZone(chrono::FixedOffset::east_opt(8 * 3600).expect("an offset")),
    )
    .await
    .expect("the data generates");
    let backend = conn.get_database_backend();
    let events = FINDINGS * 10;
    let sql = format!(
        "WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < {events}) \
         INSERT INTO audit_event (id, occurred_at, actor_sub, actor_role, action, entity_type, entity_id, \
           request_id, prev_hash, hash, department_id) \
         SELECT i, $1, 'generator', 'admin', CASE i % 3 WHEN 0 THEN 'finding.update' ELSE 'progress.add' END, \
           CASE i % 3 WHEN 0 THEN 'finding' ELSE 'progress_entry' END, CAST(1 + i % {FINDINGS} AS TEXT), NULL, \
           '{zero}', substr('{zero}' || CAST(i AS TEXT), length(CAST(i AS TEXT)) + 1, 64), 201 + i % 1800 FROM seq",
        zero = "0".repeat(64)
    );
    let sql = match backend {
        DbBackend::Postgres => sql,
        _ => sql.replace('$', "?"),
    };
    conn.execute_raw(Statement::from_sql_and_values(
        backend,
        sql,
        [chrono::Utc::now().into()],
    ))
    .await
    .expect("audit events insert");
    let analyze = match backend {
        DbBackend::Postgres => "VACUUM ANALYZE",
        _ => "ANALYZE",
    };
    conn.execute_unprepared(analyze).await.expect("ANALYZE");
}

fn is_read(sql: &str) -> bool {
    let head = sql.trim_start().get(..6).unwrap_or("").to_ascii_uppercase();
    head == "SELECT" || head.starts_with("WITH")
}

fn key(statement: &Statement) -> String {
    format!("{}|{:?}", statement.sql, statement.values)
}

/// What the planner knows of the large tables: their rows, and on SQLite each index's rows per
/// key prefix (`sqlite_stat1`: the rows, then the average rows per value of the first column,
/// of the first two, ...).
struct Stats {
    rows: BTreeMap<String, f64>,
    prefixes: BTreeMap<String, Vec<f64>>,
}

impl Stats {
    async fn read(conn: &DatabaseConnection) -> Self {
        let backend = conn.get_database_backend();
        let mut rows = BTreeMap::new();
        let mut prefixes = BTreeMap::new();
        if backend == DbBackend::Postgres {
            for table in LARGE {
                let sql =
                    format!("SELECT reltuples::float8 FROM pg_class WHERE relname = '{table}'");
                let row = conn
                    .query_one_raw(Statement::from_string(backend, sql))
                    .await
                    .expect("pg_class answers")
                    .expect("the table exists");
                rows.insert(
                    table.to_owned(),
                    row.try_get_by_index::<f64>(0).unwrap_or(0.0),
                );
            }
        } else {
            let stat = Statement::from_string(backend, "SELECT tbl, idx, stat FROM sqlite_stat1");
            for row in conn.query_all_raw(stat).await.expect("sqlite_stat1 reads") {
                let table: String = row.try_get_by_index(0).unwrap_or_default();
                let index: Option<String> = row.try_get_by_index(1).unwrap_or_default();
                let stat: String = row.try_get_by_index(2).unwrap_or_default();
                let numbers: Vec<f64> = stat
                    .split_whitespace()
                    .map_while(|n| n.parse().ok())
                    .collect();
                if let Some(&total) = numbers.first() {
                    rows.insert(table, total);
                }
                if let Some(index) = index {
                    prefixes.insert(index, numbers);
                }
            }
        }
        for table in LARGE {
            assert!(
                rows.get(table).is_some_and(|&n| n >= f64::from(FINDINGS)),
                "the planner knows {table}'s rows: {rows:?}"
            );
        }
        Self { rows, prefixes }
    }

    /// The share of its table a SQLite `SEARCH … USING INDEX i (a=? AND b=? AND c>?)` reads:
    /// the average rows per value of its leading equalities.
    fn sqlite_share(&self, detail: &str) -> f64 {
        let Some((_, rest)) = detail.split_once(" INDEX ") else {
            return 0.0;
        };
        let Some((index, terms)) = rest.split_once(" (") else {
            return 0.0;
        };
        let equal = terms
            .trim_end_matches(')')
            .split(" AND ")
            .take_while(|term| {
                term.strip_suffix("=?")
                    .is_some_and(|column| column.chars().all(|c| c.is_alphanumeric() || c == '_'))
            })
            .count();
        match self.prefixes.get(index) {
            Some(numbers) if equal >= 1 && equal < numbers.len() && numbers[0] > 0.0 => {
                numbers[equal] / numbers[0]
            }
            _ => 0.0,
        }
    }
}

/// Why this statement's plan reads a whole large table (or a large share of it) and sorts it,
/// if it does.
async fn whole_table_sorted(
    conn: &DatabaseConnection,
    stats: &Stats,
    statement: &Statement,
) -> Option<String> {
    let backend = conn.get_database_backend();
    let values = statement.values.clone().map(|v| v.0).unwrap_or_default();
    match backend {
        DbBackend::Postgres => {
            let explain = Statement::from_sql_and_values(
                backend,
                format!("EXPLAIN (FORMAT JSON) {}", statement.sql),
                values,
            );
            let row = conn
                .query_one_raw(explain)
                .await
                .expect("EXPLAIN runs")
                .expect("EXPLAIN answers");
            let plan: Value = row
                .try_get_by_index::<Value>(0)
                .or_else(|_| {
                    row.try_get_by_index::<String>(0)
                        .map(|text| serde_json::from_str(&text).unwrap_or(Value::Null))
                })
                .expect("a JSON plan");
            let mut found = None;
            postgres_sorts(&plan[0]["Plan"], false, stats, &mut found);
            found
        }
        _ => {
            let explain = Statement::from_sql_and_values(
                backend,
                format!("EXPLAIN QUERY PLAN {}", statement.sql),
                values,
            );
            let rows = conn.query_all_raw(explain).await.expect("EXPLAIN runs");
            let details: Vec<String> = rows
                .iter()
                .filter_map(|row| row.try_get_by_index::<String>(3).ok())
                .collect();
            sqlite_sorts(&statement.sql, &details, stats)
        }
    }
}

/// SQLite: a `SCAN` of a large table (every row, unless from a covering index), or a `SEARCH`
/// of a large share of one, in a plan that also builds a temporary B-tree for its `ORDER BY`.
fn sqlite_sorts(sql: &str, details: &[String], stats: &Stats) -> Option<String> {
    let sorted = details
        .iter()
        .any(|d| d.contains("TEMP B-TREE FOR ORDER BY"));
    if !sorted {
        return None;
    }
    let aliases = aliases(sql);
    details.iter().find_map(|detail| {
        let (scan, rest) = match detail.strip_prefix("SCAN ") {
            Some(rest) => (true, rest),
            None => (false, detail.strip_prefix("SEARCH ")?),
        };
        let name = rest.split_whitespace().next()?.trim_matches('"');
        let table = aliases.get(name).map(String::as_str).unwrap_or(name);
        if !LARGE.contains(&table) {
            return None;
        }
        let whole = if scan {
            !rest.contains("COVERING INDEX") && !rest.contains("USING INTEGER PRIMARY KEY")
        } else {
            stats.sqlite_share(detail) >= SHARE
        };
        whole.then(|| format!("`{detail}` then `USE TEMP B-TREE FOR ORDER BY`"))
    })
}

/// The names a statement gives its tables: `FROM "finding" AS "f"` or `JOIN finding f`.
fn aliases(sql: &str) -> BTreeMap<String, String> {
    let words: Vec<&str> = sql
        .split(|c: char| c.is_whitespace() || c == ',' || c == '(' || c == ')')
        .filter(|w| !w.is_empty())
        .collect();
    let mut map = BTreeMap::new();
    for i in 0..words.len() {
        let w = words[i].to_ascii_uppercase();
        if w != "FROM" && w != "JOIN" {
            continue;
        }
        let Some(table) = words.get(i + 1).map(|t| t.trim_matches('"')) else {
            continue;
        };
        let mut next = i + 2;
        if words
            .get(next)
            .is_some_and(|w| w.eq_ignore_ascii_case("AS"))
        {
            next += 1;
        }
        if let Some(alias) = words.get(next).map(|a| a.trim_matches('"'))
            && alias.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            map.insert(alias.to_owned(), table.to_owned());
        }
    }
    map
}

/// PostgreSQL: under a `Sort` (a bounded top-N sort too: it still reads every row it sorts),
/// with no `Limit` between them, a `Seq Scan` of a large table, or any scan that keeps a large
/// share of one.
fn postgres_sorts(node: &Value, under_sort: bool, stats: &Stats, found: &mut Option<String>) {
    if found.is_some() {
        return;
    }
    let kind = node["Node Type"].as_str().unwrap_or("");
    // A sort that feeds a grouping (a count per parent) orders groups, not a list.
    let grouping = matches!(kind, "Aggregate" | "Unique" | "SetOp");
    if grouping {
        if let Some(children) = node["Plans"].as_array() {
            for child in children {
                let skip = child["Node Type"] == "Sort";
                let next = child["Plans"].as_array().filter(|_| skip);
                match next {
                    Some(grandchildren) => {
                        for g in grandchildren {
                            postgres_sorts(g, under_sort, stats, found);
                        }
                    }
                    None => postgres_sorts(child, under_sort, stats, found),
                }
            }
        }
        return;
    }
    // A `Limit` bounds what passes it: a sort above it sorts at most the limit's rows, however
    // large the scan's estimate below (which stops once the limit is met, unless a sort below
    // the limit reads it whole: that sort is found on its own).
    let under_sort = kind != "Limit" && (under_sort || kind == "Sort");
    if under_sort
        && let Some(table) = node["Relation Name"].as_str()
        && LARGE.contains(&table)
    {
        let rows = node["Plan Rows"].as_f64().unwrap_or(0.0);
        let total = stats.rows.get(table).copied().unwrap_or(f64::MAX);
        // A word search (`LIKE`, `~~` in a plan) reads every row whichever way it goes; a
        // scan for it is whole-table only when what it keeps for the sort is.
        let search = node["Filter"].as_str().is_some_and(|f| f.contains("~~"));
        if (kind == "Seq Scan" && !search) || rows >= SHARE * total {
            *found = Some(format!(
                "`{kind} on {table}` ({rows} of {total} rows) under a `Sort`"
            ));
            return;
        }
    }
    if let Some(children) = node["Plans"].as_array() {
        for child in children {
            postgres_sorts(child, under_sort, stats, found);
        }
    }
}

/// One request: the list it checks (`Type.field`), the arguments tried and the document.
struct Request {
    list: String,
    arguments: String,
    query: String,
}

impl Request {
    fn name(&self) -> String {
        format!("{}({})", self.list, self.arguments)
    }
}

/// The served schema's types, by name.
struct Types<'a>(BTreeMap<&'a str, &'a Value>);

/// A type reference without its NON_NULL and LIST wrappers, and whether a LIST was among them.
fn named(reference: &Value) -> (&str, bool) {
    let mut reference = reference;
    let mut list = false;
    while reference["name"].is_null() {
        list |= reference["kind"] == "LIST";
        reference = &reference["ofType"];
    }
    (reference["name"].as_str().unwrap_or(""), list)
}

fn optional(argument: &Value) -> bool {
    argument["type"]["kind"] != "NON_NULL" || !argument["defaultValue"].is_null()
}

impl<'a> Types<'a> {
    fn new(types: &'a Value) -> Self {
        let types = types.as_array().expect("the schema's types");
        Self(
            types
                .iter()
                .filter_map(|t| Some((t["name"].as_str()?, t)))
                .collect(),
        )
    }

    fn kind(&self, name: &str) -> &str {
        self.0
            .get(name)
            .and_then(|t| t["kind"].as_str())
            .unwrap_or("")
    }

    fn fields(&self, name: &str) -> &'a [Value] {
        self.0
            .get(name)
            .and_then(|t| t["fields"].as_array())
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// The type a Relay connection's nodes have (`XConnection.edges.node`).
    fn node_of(&self, connection: &str) -> Option<&'a str> {
        let edges = self
            .fields(connection)
            .iter()
            .find(|f| f["name"] == "edges")?;
        let (edge, _) = named(&edges["type"]);
        let node = self.fields(edge).iter().find(|f| f["name"] == "node")?;
        Some(named(&node["type"]).0)
    }

    /// For every object type reachable from `Query` through fields without required
    /// arguments: the shortest document reaching it, with `{}` where its selection goes.
    fn paths(&self) -> BTreeMap<&'a str, String> {
        let mut paths = BTreeMap::new();
        let mut queue = VecDeque::from([("Query", "{ {} }".to_owned())]);
        while let Some((name, path)) = queue.pop_front() {
            if paths.contains_key(name) {
                continue;
            }
            paths.insert(name, path.clone());
            for field in self.fields(name) {
                let args = field["args"].as_array().map(Vec::as_slice).unwrap_or(&[]);
                if !args.iter().all(optional) {
                    continue;
                }
                let (target, _) = named(&field["type"]);
                if self.kind(target) != "OBJECT" || paths.contains_key(target) {
                    continue;
                }
                let fname = field["name"].as_str().unwrap_or("");
                let inner = match self.node_of(target) {
                    Some(node) => (
                        node,
                        format!("{fname}(first: 2) {{ edges {{ node {{ {{}} }} }} }}"),
                    ),
                    None if args.iter().any(|a| a["name"] == "first") => {
                        (target, format!("{fname}(first: 2) {{ {{}} }}"))
                    }
                    None => (target, format!("{fname} {{ {{}} }}")),
                };
                if self.kind(inner.0) == "OBJECT" && !paths.contains_key(inner.0) {
                    queue.push_back((inner.0, path.replacen("{}", &inner.1, 1)));
                }
            }
        }
        paths
    }

    /// A value of an input type the schema accepts, for a filter field of this name.
    fn value(&self, reference: &Value, field: &str) -> Option<String> {
        let (name, list) = named(reference);
        let one = match self.kind(name) {
            "ENUM" => self.0[name]["enumValues"][0]["name"].as_str()?.to_owned(),
            "SCALAR" => match name {
                "ID" => "\"1\"".to_owned(),
                "Int" => "1".to_owned(),
                "Boolean" => "true".to_owned(),
                "Date" => "\"2026-01-01\"".to_owned(),
                "DateTime" => "\"2026-01-01T00:00:00Z\"".to_owned(),
                "String" if field == "search" => "\"整改\"".to_owned(),
                "String" => "\"finding\"".to_owned(),
                _ => return None,
            },
            _ => return None,
        };
        Some(if list { format!("[{one}]") } else { one })
    }

    /// The arguments to try on a list field: none; each filter alone; each order alone; and
    /// each filter with each order.
    fn arguments(&self, args: &[Value]) -> Vec<String> {
        let mut filters = Vec::new();
        let mut orders = Vec::new();
        for arg in args {
            let name = arg["name"].as_str().unwrap_or("");
            if PAGING.contains(&name) {
                continue;
            }
            let (input, _) = named(&arg["type"]);
            let is_order = name == "orderBy" || name == "direction";
            if self.kind(input) == "INPUT_OBJECT" {
                let fields = self.0[input]["inputFields"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
                if is_order {
                    // Every combination of the order's enumerations (field × direction).
                    let mut combos = vec![String::new()];
                    for f in &fields {
                        let (e, _) = named(&f["type"]);
                        let values: Vec<&str> = self.0[e]["enumValues"]
                            .as_array()
                            .map(|v| v.iter().filter_map(|v| v["name"].as_str()).collect())
                            .unwrap_or_default();
                        let fname = f["name"].as_str().unwrap_or("");
                        combos = combos
                            .iter()
                            .flat_map(|c| values.iter().map(move |v| format!("{c} {fname}: {v}")))
                            .collect();
                    }
                    orders.extend(combos.into_iter().map(|c| format!("{name}: {{{c} }}")));
                } else {
                    for f in &fields {
                        let fname = f["name"].as_str().unwrap_or("");
                        if let Some(value) = self.value(&f["type"], fname) {
                            filters.push(format!("{name}: {{ {fname}: {value} }}"));
                        }
                    }
                }
            } else if is_order {
                for v in self.0[input]["enumValues"].as_array().into_iter().flatten() {
                    orders.push(format!("{name}: {}", v["name"].as_str().unwrap_or("")));
                }
            } else if let Some(value) = self.value(&arg["type"], name) {
                filters.push(format!("{name}: {value}"));
            }
        }
        let mut all = vec![String::new()];
        all.extend(filters.iter().cloned());
        all.extend(orders.iter().cloned());
        for f in &filters {
            for o in &orders {
                all.push(format!("{f}, {o}"));
            }
        }
        all
    }

    /// One request per list field of every reachable type and per arguments to try.
    fn requests(&self) -> Vec<Request> {
        let mut requests = Vec::new();
        for (owner, path) in self.paths() {
            for field in self.fields(owner) {
                let (target, list) = named(&field["type"]);
                let node = self.node_of(target);
                let element = match node {
                    Some(node) => node,
                    None if list => target,
                    None => continue,
                };
                let fname = field["name"].as_str().unwrap_or("");
                let args = field["args"].as_array().map(Vec::as_slice).unwrap_or(&[]);
                if !args.iter().all(optional) {
                    continue;
                }
                let leaf = match self.kind(element) {
                    "OBJECT" if self.fields(element).iter().any(|f| f["name"] == "id") => "id",
                    "OBJECT" => "__typename",
                    _ => "",
                };
                let pages = args.iter().any(|a| a["name"] == "first");
                for arguments in self.arguments(args) {
                    let mut all: Vec<String> = Vec::new();
                    if pages {
                        all.push("first: 20".to_owned());
                    }
                    if !arguments.is_empty() {
                        all.push(arguments.clone());
                    }
                    let call = if all.is_empty() {
                        fname.to_owned()
                    } else {
                        format!("{fname}({})", all.join(", "))
                    };
                    let selection = match (node, leaf) {
                        (Some(_), leaf) => {
                            let counted = if self
                                .fields(target)
                                .iter()
                                .any(|f| f["name"] == "totalCount")
                            {
                                "totalCount "
                            } else {
                                ""
                            };
                            format!("{call} {{ {counted}edges {{ node {{ {leaf} }} }} }}")
                        }
                        (None, "") => call,
                        (None, leaf) => format!("{call} {{ {leaf} }}"),
                    };
                    requests.push(Request {
                        list: format!("{owner}.{fname}"),
                        arguments,
                        query: path.replacen("{}", &selection, 1),
                    });
                }
            }
        }
        requests
    }
}

const INTROSPECTION: &str = "{ __schema { types { name kind \
    fields { name args { name defaultValue type { ...T } } type { ...T } } \
    inputFields { name defaultValue type { ...T } } enumValues { name } } } } \
    fragment T on __Type { kind name ofType { kind name ofType { kind name ofType { kind name } } } }";
