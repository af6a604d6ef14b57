//! `rectrack dev generate`: synthetic data at province scale for benchmarks — by default 2,000
//! departments in a three-level tree, 500 inspections, 100,000 findings with descriptions of
//! about 200 Chinese characters, 500,000 measures, 1,000,000 ledger entries, 5,000
//! regulations and their links. Each table is filled by one `INSERT … SELECT` over a counting
//! query, so the database does the work in bulk (well under a minute on PostgreSQL); the same
//! statements run on SQLite for small scales (the tests use them). Rows start from the
//! defaults every new row of their kind starts from (`domain::<kind>::new_row`, bound as
//! values), so that generated data is data the commands could have made.

use std::time::Instant;

use anyhow::Context;
use chrono::{Days, Utc};
use sea_orm::{ActiveValue, ConnectionTrait, DatabaseConnection, DbBackend, Statement, Value};

use crate::domain;

/// How much to generate.
#[derive(Debug, Clone, Copy)]
pub struct Scale {
    pub findings: u32,
}

impl Scale {
    fn inspections(&self) -> u32 {
        self.findings.div_ceil(200).max(1)
    }
}

/// Ideographs to cut text from, cycled; deterministic, so every run generates the same data.
fn pool() -> String {
    const SEED: &str = "贯彻落实党的路线方针政策和决策部署围绕中心服务大局履职担当推进整改责任领导科室干部\
        财务管理制度规范会议纪要专项经费审核监督检查廉政风险选人用人民主集中制组织生活意识形态\
        网络舆情宗教工作统一战线侨务资源乡村振兴脱贫攻坚基层党建换届选举台账资料报送销号回头看";
    let chars: Vec<char> = SEED.chars().collect();
    (0..5000)
        .map(|i| match i {
            i if i % 23 == 0 => '，',
            i if i % 61 == 0 => '。',
            i => chars[(i * 7919 + i / 13) % chars.len()],
        })
        .collect()
}

/// Statements in PostgreSQL's `$n` style; SQLite reads the same numbers as `?n`.
fn statement(backend: DbBackend, sql: &str, values: Vec<Value>) -> Statement {
    let sql = match backend {
        DbBackend::Postgres => sql.to_owned(),
        _ => sql.replace('$', "?"),
    };
    Statement::from_sql_and_values(backend, sql, values)
}

/// One default of a kind's new row, as a bound value.
fn default<V: Into<Value>>(value: ActiveValue<V>) -> anyhow::Result<Value> {
    value
        .into_value()
        .context("a new row's default the generator binds is not set")
}

/// `WITH RECURSIVE seq(i)` counting 1..n, understood by both databases.
fn seq(n: u32) -> String {
    format!("WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < {n})")
}

/// Fills an empty database; refuses one that holds findings already.
pub async fn generate(
    db: &DatabaseConnection,
    scale: Scale,
    zone: crate::config::TimeZone,
) -> anyhow::Result<Vec<(String, u64, f64)>> {
    let backend = db.get_database_backend();
    let existing = db
        .query_one_raw(Statement::from_string(
            backend,
            "SELECT COUNT(*) FROM finding",
        ))
        .await?
        .and_then(|row| row.try_get_by_index::<i64>(0).ok())
        .unwrap_or(0);
    anyhow::ensure!(
        existing == 0,
        "the database already holds {existing} findings; generate into an empty one"
    );

    let now = Utc::now();
    let today = now.date_naive();
    let past = today.checked_sub_days(Days::new(30)).unwrap_or(today);
    let soon = today.checked_add_days(Days::new(7)).unwrap_or(today);
    let later = today.checked_add_days(Days::new(120)).unwrap_or(today);
    let findings = scale.findings;
    let inspections = scale.inspections();
    let measures = findings * 5;
    let entries = findings * 10;
    let regulations = (findings / 20).max(1);
    // Department ids: 1-20 roots, 21-200 units (the inspected), 201-2000 their sections.
    let status = "CASE WHEN {f} % 20 < 8 THEN 'in_progress' WHEN {f} % 20 < 14 THEN 'closed' \
                  WHEN {f} % 20 < 17 THEN 'not_started' ELSE 'pending_review' END";
    let finding_status = status.replace("{f}", "i");
    let inspection = domain::records::inspection::new_row(now);
    let category = domain::records::category::new_row(now);
    let department = domain::records::department::new_row(now);
    // Ledger entries are written as the server's own work, as the seed's are.
    let entry = domain::records::ledger::new_row(&domain::Acting::system("generate", zone));
    let finding = domain::records::finding::new_row(now);
    let measure = domain::records::measure::new_row(now);
    let regulation = domain::records::regulation::new_row(now);
    let measure_finding_status = status.replace("{f}", "(1 + (i - 1) / 5)");
    let steps: Vec<(&str, String, Vec<Value>)> = vec![
        (
            "department",
            format!(
                "{} INSERT INTO department (id, code, name, kind, parent_id, path, version, created_at, updated_at) \
                 SELECT i, 'D' || CAST(i AS TEXT), \
                   CASE WHEN i <= 200 THEN '单位' ELSE '科室' END || CAST(i AS TEXT), \
                   CASE WHEN i <= 200 THEN 'unit' ELSE 'section' END, \
                   CASE WHEN i <= 20 THEN NULL WHEN i <= 200 THEN 1 + (i - 21) % 20 ELSE 21 + (i - 201) % 180 END, \
                   CASE WHEN i <= 20 THEN '/' || CAST(i AS TEXT) || '/' \
                        WHEN i <= 200 THEN '/' || CAST(1 + (i - 21) % 20 AS TEXT) || '/' || CAST(i AS TEXT) || '/' \
                        ELSE '/' || CAST(1 + (20 + (i - 201) % 180) % 20 AS TEXT) || '/' || CAST(21 + (i - 201) % 180 AS TEXT) || '/' || CAST(i AS TEXT) || '/' END, \
                   $1, $2, $3 FROM seq",
                seq(2000)
            ),
            vec![
                default(department.version)?,
                default(department.created_at)?,
                default(department.updated_at)?,
            ],
        ),
        (
            "inspection",
            format!(
                "{} INSERT INTO inspection (id, title, inspection_group, unit_id, started_on, ended_on, feedback_on, due_on, version, created_at, updated_at) \
                 SELECT i, '第' || CAST(i AS TEXT) || '轮专项巡察', '第' || CAST(1 + i % 12 AS TEXT) || '巡察组', 21 + (i - 1) % 180, \
                   $2, $3, $3, $4, $5, $6, $7 FROM seq",
                seq(inspections)
            ),
            vec![
                now.into(),
                past.checked_sub_days(Days::new(90)).unwrap_or(past).into(),
                past.into(),
                later.into(),
                default(inspection.version)?,
                default(inspection.created_at)?,
                default(inspection.updated_at)?,
            ],
        ),
        (
            "category",
            format!(
                "{} INSERT INTO category (id, inspection_id, ordinal, title, version, created_at, updated_at) \
                 SELECT i, 1 + (i - 1) / 3, 1 + (i - 1) % 3, \
                   CASE (i - 1) % 3 WHEN 0 THEN '政治建设方面' WHEN 1 THEN '党风廉政建设方面' ELSE '组织建设方面' END, $1, $2, $3 FROM seq",
                seq(inspections * 3)
            ),
            vec![
                default(category.version)?,
                default(category.created_at)?,
                default(category.updated_at)?,
            ],
        ),
        (
            "finding",
            format!(
                "{} INSERT INTO finding (id, inspection_id, category_id, ordinal, title, description, rectification_type, status, deadline, \
                   responsible_leader, department_id, responsible_person, created_at, updated_at, closed_at, version, disclosed) \
                 SELECT i, 1 + (i - 1) / 200, 3 * ((i - 1) / 200) + 1 + i % 3, 1 + (i - 1) % 200, \
                   '问题' || CAST(i AS TEXT) || '：' || substr($2, 1 + (i * 13) % 4000, 20), substr($2, 1 + (i * 37) % 4700, 200), \
                   CASE i % 3 WHEN 0 THEN 'immediate' WHEN 1 THEN 'by_deadline' ELSE 'long_term' END, {finding_status}, \
                   CASE i % 4 WHEN 0 THEN NULL WHEN 1 THEN $3 WHEN 2 THEN $4 ELSE $5 END, \
                   '副部长' || CAST(i % 7 AS TEXT), 201 + ((1 + (i - 1) / 200 - 1) % 180) + 180 * (i % 10), '科长' || CAST(i % 11 AS TEXT), \
                   $6, $7, CASE WHEN i % 20 >= 8 AND i % 20 < 14 THEN $1 END, $8, $9 FROM seq",
                seq(findings)
            ),
            vec![
                now.into(),
                pool().into(),
                past.into(),
                soon.into(),
                later.into(),
                default(finding.created_at)?,
                default(finding.updated_at)?,
                default(finding.version)?,
                default(finding.disclosed)?,
            ],
        ),
        (
            "measure",
            format!(
                "{} INSERT INTO measure (id, finding_id, ordinal, content, department_id, deadline, status, completed_on, version, created_at, updated_at) \
                 SELECT i, 1 + (i - 1) / 5, 1 + (i - 1) % 5, '措施' || CAST(1 + (i - 1) % 5 AS TEXT) || '：' || substr($2, 1 + (i * 17) % 4900, 60), \
                   NULL, CASE i % 3 WHEN 0 THEN $3 ELSE NULL END, \
                   CASE WHEN {measure_finding_status} IN ('closed', 'pending_review') THEN 'done' WHEN i % 2 = 0 THEN 'in_progress' ELSE 'planned' END, \
                   CASE WHEN {measure_finding_status} IN ('closed', 'pending_review') THEN $4 END, $5, $6, $7 FROM seq",
                seq(measures)
            ),
            vec![
                now.into(),
                pool().into(),
                soon.into(),
                past.into(),
                default(measure.version)?,
                default(measure.created_at)?,
                default(measure.updated_at)?,
            ],
        ),
        (
            "progress_entry",
            format!(
                "{} INSERT INTO progress_entry (id, finding_id, measure_id, entry_date, kind, content, author_sub, author_name, author_role, created_at) \
                 SELECT i, 1 + (i - 1) / 10, CASE WHEN i % 2 = 0 THEN 5 * ((i - 1) / 10) + 1 + (i % 5) END, $2, \
                   CASE i % 5 WHEN 0 THEN 'meeting' ELSE 'progress' END, substr($3, 1 + (i * 29) % 4900, 50), $4, $5, $6, $1 FROM seq",
                seq(entries)
            ),
            vec![
                default(entry.created_at)?,
                past.into(),
                pool().into(),
                default(entry.author_sub)?,
                default(entry.author_name)?,
                default(entry.author_role)?,
            ],
        ),
        (
            "regulation",
            format!(
                "{} INSERT INTO regulation (id, title, document_number, domain, department_id, issued_on, status, version, created_at, updated_at) \
                 SELECT i, '关于' || substr($2, 1 + (i * 11) % 4900, 12) || '的规定', '文号〔2021〕' || CAST(i AS TEXT) || '号', \
                   CASE i % 7 WHEN 0 THEN 'party_building' WHEN 1 THEN 'clean_government' WHEN 2 THEN 'finance' WHEN 3 THEN 'personnel' \
                   WHEN 4 THEN 'administration' WHEN 5 THEN 'ideology' ELSE 'other' END, 21 + i % 180, $3, $4, $5, $6, $7 FROM seq",
                seq(regulations)
            ),
            vec![
                now.into(),
                pool().into(),
                past.into(),
                default(regulation.status)?,
                default(regulation.version)?,
                default(regulation.created_at)?,
                default(regulation.updated_at)?,
            ],
        ),
        (
            "finding_regulation",
            format!(
                "{} INSERT INTO finding_regulation (finding_id, regulation_id, linked_at, linked_by) \
                 SELECT 20 * i - 19, i, $1, 'generator' FROM seq",
                seq(regulations)
            ),
            vec![now.into()],
        ),
    ];
    let mut timings = Vec::new();
    for (table, sql, values) in steps {
        let started = Instant::now();
        let result = db.execute_raw(statement(backend, &sql, values)).await?;
        timings.push((
            table.to_owned(),
            result.rows_affected(),
            started.elapsed().as_secs_f64(),
        ));
    }
    if backend == DbBackend::Postgres {
        // Ids were given explicitly: move the identity sequences past them.
        for table in [
            "department",
            "inspection",
            "category",
            "finding",
            "measure",
            "progress_entry",
            "regulation",
        ] {
            db.execute_unprepared(&format!(
                "SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))"
            ))
            .await?;
        }
        // What autovacuum would do in a while, now: statistics for the planner, and the
        // visibility map that lets counts be answered from indexes alone.
        db.execute_unprepared("VACUUM ANALYZE").await?;
    } else {
        // SQLite's planner has no statistics until ANALYZE: without them it may sort a whole
        // status instead of walking the list's order index.
        db.execute_unprepared("ANALYZE").await?;
    }
    Ok(timings)
}
