//! `totalCount`s: one list's count ([`CountQuery`]), the grouped count of the pages read
//! together ([`EachCount`]), and the counts kept until the data they read changes ([`Counts`]).

use std::collections::HashMap;
use std::sync::Arc;

use sea_orm::sea_query::{Alias, Expr, Query, SelectStatement};
use sea_orm::{ConnectionTrait, DatabaseConnection, EntityTrait, QueryTrait, Select, Statement};

use crate::domain::reads::kept::{Generation, Kept, Reads};
use crate::error::{AppError, AppResult};

/// The column that carries each row's parent in [`super::EachRead::fetch`]'s answer.
pub(super) const PARENT: &str = "rt_parent";

/// `SELECT COUNT(*)` over a list's query, run only when a client asks for `totalCount`.
#[derive(Clone)]
pub struct CountQuery {
    counter: Counter,
    /// Whether the count may be kept in [`Counts`] until the next change (see there).
    audited: bool,
}

#[derive(Clone)]
enum Counter {
    One(Box<SelectStatement>),
    /// One of the pages an [`super::EachRead`] read together, whose counts are read together.
    Each {
        counts: Arc<EachCount>,
        parent: i32,
    },
}

/// The counts of the pages read together: `SELECT parent, COUNT(*) ... GROUP BY parent`,
/// run by the first page asked and kept for the others.
pub(super) struct EachCount {
    query: SelectStatement,
    counts: tokio::sync::OnceCell<Arc<HashMap<i32, i64>>>,
}

impl EachCount {
    /// The grouped count of the rows of `listed` by their `parent`.
    pub(super) fn of<E: EntityTrait>(listed: Select<E>, parent: Expr) -> Self {
        let mut inner = listed.into_query();
        inner
            .clear_order_by()
            .clear_selects()
            .expr_as(parent, Alias::new(PARENT));
        // Built in place: `to_owned` on the builder would copy the whole statement.
        let mut query = Query::select();
        query
            .column(Alias::new(PARENT))
            .expr(Expr::cust("COUNT(*)"))
            .from_subquery(inner, Alias::new("counted"))
            .group_by_col(Alias::new(PARENT));
        Self {
            query,
            counts: tokio::sync::OnceCell::new(),
        }
    }

    async fn read(
        &self,
        db: &impl ConnectionTrait,
        kept: Option<&Counts>,
    ) -> AppResult<Arc<HashMap<i32, i64>>> {
        let count = |statement| async move {
            let mut counts = HashMap::new();
            for row in db.query_all_raw(statement).await? {
                counts.insert(
                    row.try_get_by_index::<i32>(0)?,
                    row.try_get_by_index::<i64>(1)?,
                );
            }
            Ok(Counted::Each(Arc::new(counts)))
        };
        match Counts::through(kept, db, &self.query, count).await? {
            Counted::Each(counts) => Ok(counts),
            Counted::One(_) => Err(AppError::internal("a grouped count kept as a single one")),
        }
    }
}

impl CountQuery {
    pub(super) fn of(mut inner: SelectStatement) -> Self {
        inner.clear_order_by();
        let mut count = Query::select();
        count
            .expr(Expr::cust("COUNT(*)"))
            .from_subquery(inner, Alias::new("counted"));
        Self {
            counter: Counter::One(Box::new(count)),
            audited: false,
        }
    }

    /// One of the pages of `counts`, that of `parent`.
    pub(super) fn each(counts: Arc<EachCount>, parent: i32, audited: bool) -> Self {
        Self {
            counter: Counter::Each { counts, parent },
            audited,
        }
    }

    /// Marks the count as one of rows whose every change writes an audit event, so that
    /// [`Counts`] may keep it until the next event.
    pub fn audited(mut self) -> Self {
        self.audited = true;
        self
    }

    /// The count, from `kept` when it holds it for the current state of the data. On the pool
    /// only: a transaction's own uncommitted changes are not in the kept counts' generation.
    pub async fn run(&self, db: &DatabaseConnection, kept: Option<&Counts>) -> AppResult<i64> {
        let kept = kept.filter(|_| self.audited);
        match &self.counter {
            Counter::One(query) => {
                let count = |statement| async move {
                    let row = db
                        .query_one_raw(statement)
                        .await?
                        .ok_or_else(|| AppError::internal("COUNT(*) returned no row"))?;
                    // COUNT is BIGINT on PostgreSQL and INTEGER on SQLite.
                    Ok(Counted::One(row.try_get_by_index::<i64>(0)?))
                };
                match Counts::through(kept, db, query.as_ref(), count).await? {
                    Counted::One(n) => Ok(n),
                    Counted::Each(_) => Err(AppError::internal("a count kept as a grouped one")),
                }
            }
            Counter::Each { counts, parent } => {
                let counts = counts
                    .counts
                    .get_or_try_init(|| counts.read(db, kept))
                    .await?;
                Ok(counts.get(parent).copied().unwrap_or(0))
            }
        }
    }
}

/// A count's answer, single or per parent.
#[derive(Clone)]
enum Counted {
    One(i64),
    Each(Arc<HashMap<i32, i64>>),
}

/// `totalCount`s kept until the data they count changes ([`crate::domain::reads::kept`]), keyed by
/// their statement (its text and bound values: the caller's scope, the filter, today's date
/// are all in it), and stale after an audited change of a kind that writes a table the
/// statement names ([`Reads::named_in`]): an account's or a webhook endpoint's change leaves
/// a count of findings kept.
///
/// Counting a long list is most of the work of a request that asks for it (41,000 findings
/// of one status: 4 ms from an index, on every poll of a dashboard). Only counts of rows whose
/// every change is audited are kept ([`CountQuery::audited`]); the check reads the audit
/// events since the last check (a few rows of the primary key), in place of the count when it
/// is kept and beside it when it is not.
pub struct Counts(Kept<Counted>);

impl Counts {
    pub fn new(generation: Arc<Generation>) -> Self {
        Self(Kept::new(generation, 4_096))
    }

    /// Runs `count` on `query`'s statement, or answers from `kept`, keyed by that statement
    /// (built once for both).
    async fn through<F>(
        kept: Option<&Counts>,
        db: &impl ConnectionTrait,
        query: &SelectStatement,
        count: impl FnOnce(Statement) -> F,
    ) -> AppResult<Counted>
    where
        F: std::future::Future<Output = AppResult<Counted>>,
    {
        let statement = db.get_database_backend().build(query);
        let Some(kept) = kept else {
            return count(statement).await;
        };
        let key = format!("{}\u{0}{:?}", statement.sql, statement.values);
        // Kept until a change of a kind that writes a table the statement reads.
        let reads = Reads::named_in(&statement.sql);
        kept.0.get_or_reading(key, &reads, count(statement)).await
    }
}
