//! Keyset pagination for every list: opaque cursors that encode the sort keys of a row, so a
//! page boundary stays put when rows are inserted (an offset would shift).
//!
//! An order is a list of sort expressions, always ending with the row id so that keys are
//! unique; `after` becomes `(k1, k2, id) > (v1, v2, vid)` (row values, supported by SQLite and
//! PostgreSQL alike), `before` the opposite, and `last` reads the order backwards.
//!
//! A list nested under a page of parents (each inspection's findings, each finding's ledger)
//! is read for all the parents at once by [`fetch_each`]: one statement reads each parent's
//! page (a lateral join on PostgreSQL, a correlated subquery of each parent's page keys on
//! SQLite), and their `totalCount`s come from one grouped count, however many parents.

use std::collections::HashMap;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::{
    Alias, Asterisk, Expr, ExprTrait, JoinType, OverStatement, Query, SelectStatement,
    WindowStatement,
};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbBackend, DbErr, EntityTrait, FromQueryResult, Iterable,
    Order as Direction, PrimaryKeyToColumn, QueryFilter, QueryOrder, QueryResult, QuerySelect,
    QueryTrait, Select, Value,
};
use serde::{Deserialize, Serialize};

use crate::error::{AppError, AppResult};

pub const DEFAULT_SIZE: u64 = 20;
pub const MAX_SIZE: u64 = 100;

/// Relay arguments, as given.
#[derive(Debug, Default, Clone, PartialEq, Eq, Hash)]
pub struct PageArgs {
    pub first: Option<i32>,
    pub after: Option<String>,
    pub last: Option<i32>,
    pub before: Option<String>,
}

impl PageArgs {
    pub fn first(n: i32) -> Self {
        Self {
            first: Some(n),
            ..Default::default()
        }
    }

    /// The page size and whether the page is read backwards (`last`).
    fn size(&self) -> AppResult<(u64, bool)> {
        let check = |field: &str, n: i32| -> AppResult<u64> {
            match u64::try_from(n) {
                Ok(n) if n <= MAX_SIZE => Ok(n),
                _ => Err(AppError::bad_input(
                    field,
                    t!("page-size", field = field, max = MAX_SIZE),
                )),
            }
        };
        match (self.first, self.last) {
            (Some(_), Some(_)) => Err(AppError::bad_input("last", t!("page-first-and-last"))),
            (Some(n), None) => Ok((check("first", n)?, false)),
            (None, Some(n)) => Ok((check("last", n)?, true)),
            (None, None) => Ok((DEFAULT_SIZE, self.before.is_some() && self.after.is_none())),
        }
    }
}

/// One value of a sort key, typed so that it binds as the column's type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Key {
    I(i64),
    S(String),
    D(NaiveDate),
    T(DateTime<Utc>),
}

impl From<Key> for Value {
    fn from(key: Key) -> Value {
        match key {
            Key::I(v) => v.into(),
            Key::S(v) => v.into(),
            Key::D(v) => v.into(),
            Key::T(v) => v.into(),
        }
    }
}

/// How a list is ordered: sort expressions (the id last) and how to read them off a row.
pub struct Order<M> {
    /// Names the order inside cursors, so a cursor from another order is refused.
    pub name: &'static str,
    pub exprs: Vec<Expr>,
    pub keys: fn(&M) -> Vec<Key>,
    pub descending: bool,
}

/// One page of rows with their cursors.
#[derive(Clone)]
pub struct Page<M> {
    pub rows: Vec<(String, M)>,
    pub has_previous: bool,
    pub has_next: bool,
    /// Counts every row of the list (ignoring the page), when asked.
    pub count: CountQuery,
}

impl<M> Page<M> {
    /// The page with each row made into something else.
    pub fn map<N>(self, f: impl FnMut(M) -> N) -> Page<N> {
        let mut f = f;
        Page {
            rows: self.rows.into_iter().map(|(c, m)| (c, f(m))).collect(),
            has_previous: self.has_previous,
            has_next: self.has_next,
            count: self.count,
        }
    }

    /// Marks the list's count as [`CountQuery::audited`].
    pub fn audited(mut self) -> Self {
        self.count = self.count.audited();
        self
    }
}

#[derive(Serialize, Deserialize)]
struct Cursor {
    o: String,
    k: Vec<Key>,
}

fn encode(order: &str, keys: Vec<Key>) -> String {
    let json = serde_json::to_vec(&Cursor {
        o: order.to_owned(),
        k: keys,
    })
    .unwrap_or_default();
    URL_SAFE_NO_PAD.encode(json)
}

fn decode<M>(field: &str, cursor: &str, order: &Order<M>) -> AppResult<Vec<Key>> {
    let invalid = || AppError::bad_input(field, t!("page-cursor", field = field));
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| invalid())?;
    let cursor: Cursor = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
    if cursor.o != order.name || cursor.k.len() != order.exprs.len() {
        return Err(invalid());
    }
    Ok(cursor.k)
}

/// `(exprs) > (keys)` or `<`.
fn beyond(exprs: &[Expr], keys: Vec<Key>, greater: bool) -> Expr {
    let left = Expr::tuple(exprs.iter().cloned());
    let right = Expr::tuple(keys.into_iter().map(|k| Expr::val(Value::from(k))));
    if greater {
        left.gt(right)
    } else {
        left.lt(right)
    }
}

/// Reads one page of `select` in `order`.
pub async fn fetch<E>(
    db: &impl ConnectionTrait,
    select: Select<E>,
    order: &Order<E::Model>,
    args: &PageArgs,
) -> AppResult<Page<E::Model>>
where
    E: EntityTrait,
{
    fetch_decoded(db, select, order, args, |row| {
        E::Model::from_query_result(row, "")
    })
    .await
}

/// How a page is read: its size, direction, and the select narrowed by its cursors.
struct Bounds<E: EntityTrait> {
    size: u64,
    backward: bool,
    /// The order runs ascending in SQL (forward and ascending, or backward and descending).
    ascending: bool,
    select: Select<E>,
}

fn bounds<E: EntityTrait>(
    select: Select<E>,
    order: &Order<E::Model>,
    args: &PageArgs,
) -> AppResult<Bounds<E>> {
    let (size, backward) = args.size()?;
    let mut select = select;
    let forward_is_greater = !order.descending;
    if let Some(after) = &args.after {
        let keys = decode("after", after, order)?;
        select = select.filter(beyond(&order.exprs, keys, forward_is_greater));
    }
    if let Some(before) = &args.before {
        let keys = decode("before", before, order)?;
        select = select.filter(beyond(&order.exprs, keys, !forward_is_greater));
    }
    Ok(Bounds {
        size,
        backward,
        ascending: order.descending == backward,
        select,
    })
}

impl<E: EntityTrait> Bounds<E> {
    fn direction(&self) -> Direction {
        if self.ascending {
            Direction::Asc
        } else {
            Direction::Desc
        }
    }

    /// Turns up to `size + 1` rows read in SQL order into the page.
    fn page<M>(
        &self,
        mut rows: Vec<M>,
        order: &Order<M>,
        args: &PageArgs,
        count: CountQuery,
    ) -> Page<M> {
        let more = rows.len() as u64 > self.size;
        rows.truncate(self.size as usize);
        if self.backward {
            rows.reverse();
        }
        let (has_previous, has_next) = if self.backward {
            (more, args.before.is_some())
        } else {
            (args.after.is_some(), more)
        };
        let rows = rows
            .into_iter()
            .map(|row| (encode(order.name, (order.keys)(&row)), row))
            .collect();
        Page {
            rows,
            has_previous,
            has_next,
            count,
        }
    }
}

/// [`fetch`] with rows decoded by `decode` (for selects of some columns only).
pub async fn fetch_decoded<E>(
    db: &impl ConnectionTrait,
    select: Select<E>,
    order: &Order<E::Model>,
    args: &PageArgs,
    decode_row: impl Fn(&QueryResult) -> Result<E::Model, DbErr>,
) -> AppResult<Page<E::Model>>
where
    E: EntityTrait,
{
    let count = CountQuery::of(select.as_query().clone());
    let bounds = bounds(select.clone(), order, args)?;
    let mut query = bounds.select.clone();
    for expr in &order.exprs {
        query = query.order_by(expr.clone(), bounds.direction());
    }
    let rows = query_limited(
        db,
        query.limit(bounds.size + 1).into_query(),
        bounds.size + 1,
    )
    .await?;
    let rows = rows.iter().map(decode_row).collect::<Result<Vec<_>, _>>()?;
    Ok(bounds.page(rows, order, args, count))
}

/// Runs a page's statement whose last parameter is its `LIMIT`, with the limit written into
/// the text on PostgreSQL.
///
/// PostgreSQL plans a prepared statement again on every execution when its generic plan (made
/// without the parameters' values) looks worse than the custom ones, and without the page size
/// a generic plan assumes a tenth of the table: a scoped page planned 0.2 ms for 0.1 ms of
/// work, every time. With the size in the text the generic plan is the custom one, kept after
/// five executions. Page sizes are few in practice (each is one text in the drivers'
/// statement cache). SQLite plans once when it prepares, whatever the parameters.
async fn query_limited(
    db: &impl ConnectionTrait,
    query: SelectStatement,
    limit: u64,
) -> AppResult<Vec<QueryResult>> {
    let backend = db.get_database_backend();
    let mut statement = backend.build(&query);
    if backend == DbBackend::Postgres {
        write_limit(&mut statement, limit);
    }
    Ok(db.query_all_raw(statement).await?)
}

/// Replaces the statement's last parameter by `limit` in its text, when that parameter is the
/// `LIMIT` and has that value (as the page statements build it); otherwise leaves it bound.
fn write_limit(statement: &mut sea_orm::Statement, limit: u64) {
    let Some(values) = statement.values.as_mut() else {
        return;
    };
    if values.0.last() != Some(&Value::BigUnsigned(Some(limit))) {
        return;
    }
    let placeholder = format!(" LIMIT ${}", values.0.len());
    let Some(at) = statement.sql.rfind(&placeholder) else {
        return;
    };
    let end = at + placeholder.len();
    if statement.sql[end..].starts_with(|c: char| c.is_ascii_digit()) {
        return;
    }
    statement
        .sql
        .replace_range(at..end, &format!(" LIMIT {limit}"));
    values.0.pop();
}

/// The column that carries each row's parent in [`fetch_each`]'s answer.
const PARENT: &str = "rt_parent";
const ROW: &str = "rt_row";

/// One page per parent of the rows of `select` whose `parent` expression is one of `parents`,
/// with the same order and page arguments for every parent, in one statement. `select` reads
/// `columns` of `E`, in that order, and `decode_row` decodes them. Every parent
/// asked for has a page (empty when it has no rows); each page's `totalCount` is counted,
/// when first asked, for all of them at once.
#[allow(clippy::too_many_arguments)]
pub async fn fetch_each<E>(
    db: &impl ConnectionTrait,
    select: Select<E>,
    parent: Expr,
    parents: &[i32],
    order: &Order<E::Model>,
    args: &PageArgs,
    columns: &[E::Column],
    decode_row: impl Fn(&QueryResult) -> Result<E::Model, DbErr>,
) -> AppResult<HashMap<i32, Page<E::Model>>>
where
    E: EntityTrait,
{
    let listed = select.clone().filter(
        parent
            .clone()
            .is_in(crate::domain::relations::padded(parents.iter().copied())),
    );
    let counts = Arc::new(EachCount {
        select: listed.as_query().clone(),
        parent: parent.clone(),
        counts: tokio::sync::OnceCell::new(),
    });
    let (bounds, query) = if db.get_database_backend() == DbBackend::Postgres {
        // Each parent's page by its own index scan that stops at the page's end. (A window
        // over all parents reads every row of every parent before it keeps a page of each:
        // thirty times slower for inspections of two hundred findings.)
        let parents_table = Alias::new("rt_parents");
        let bounds = bounds(
            select.filter(parent.eq(Expr::col((parents_table.clone(), Alias::new("column1"))))),
            order,
            args,
        )?;
        let mut window = WindowStatement::new();
        for expr in &order.exprs {
            window.order_by_expr(expr.clone(), bounds.direction());
        }
        let mut page = bounds.select.clone();
        for expr in &order.exprs {
            page = page.order_by(expr.clone(), bounds.direction());
        }
        let mut page = page.limit(bounds.size + 1).into_query();
        page.expr_window_as(Expr::cust("ROW_NUMBER()"), window, Alias::new(ROW));
        let query = Query::select()
            .column((Alias::new("paged"), Asterisk))
            .expr_as(
                Expr::col((parents_table.clone(), Alias::new("column1"))),
                Alias::new(PARENT),
            )
            .from_values(parents.iter().copied(), parents_table)
            .join_lateral(
                JoinType::InnerJoin,
                page,
                Alias::new("paged"),
                Expr::cust("TRUE"),
            )
            .order_by(Alias::new(PARENT), Direction::Asc)
            .order_by((Alias::new("paged"), Alias::new(ROW)), Direction::Asc)
            .to_owned();
        (bounds, query)
    } else {
        // SQLite has no lateral joins, but the same walk per parent: each parent's page keys by
        // a correlated subquery that stops at the page's end (its index scan, as on
        // PostgreSQL), the rows fetched by key, then numbered within each parent. (A window
        // over every row of the parents read all their rows first: ten inspections of two
        // hundred findings, 11 ms against 1.3 ms.)
        let parents_table = Alias::new("rt_parents");
        let parent_key = Expr::col((parents_table.clone(), Alias::new("column1")));
        let bounds = bounds(select.filter(parent.eq(parent_key.clone())), order, args)?;
        let id = E::PrimaryKey::iter()
            .next()
            .ok_or_else(|| AppError::internal("an entity without a primary key"))?
            .into_column();
        let id = Expr::col((E::default(), id));
        let mut keys = bounds.select.clone();
        for expr in &order.exprs {
            keys = keys.order_by(expr.clone(), bounds.direction());
        }
        let mut keys = keys.limit(bounds.size + 1).into_query();
        keys.clear_selects().expr(id.clone());
        let mut window = WindowStatement::new();
        window.add_partition_by(parent_key.clone());
        for expr in &order.exprs {
            window.order_by_expr(expr.clone(), bounds.direction());
        }
        // The rows' `columns` (those `select` reads), outside any join `select` has: the
        // parent comes from the list of parents.
        let mut query = E::find()
            .select_only()
            .columns(columns.iter().copied())
            .into_query();
        query
            .expr_as(parent_key, Alias::new(PARENT))
            .expr_window_as(Expr::cust("ROW_NUMBER()"), window, Alias::new(ROW))
            .from_clear()
            .from_values(parents.iter().copied(), parents_table)
            .cross_join(E::default())
            .and_where(id.in_subquery(keys))
            .order_by(Alias::new(PARENT), Direction::Asc)
            .order_by(Alias::new(ROW), Direction::Asc);
        (bounds, query)
    };
    let mut rows: HashMap<i32, Vec<E::Model>> = parents.iter().map(|p| (*p, Vec::new())).collect();
    for row in query_limited(db, query, bounds.size + 1).await? {
        let parent: i32 = row.try_get("", PARENT)?;
        rows.entry(parent).or_default().push(decode_row(&row)?);
    }
    Ok(rows
        .into_iter()
        .map(|(parent, rows)| {
            let count = CountQuery {
                counter: Counter::Each {
                    counts: counts.clone(),
                    parent,
                },
                audited: false,
            };
            (parent, bounds.page(rows, order, args, count))
        })
        .collect())
}

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
    /// One of the pages [`fetch_each`] read together, whose counts are read together.
    Each {
        counts: Arc<EachCount>,
        parent: i32,
    },
}

/// The counts of the pages read together: `SELECT parent, COUNT(*) ... GROUP BY parent`,
/// run by the first page asked and kept for the others.
struct EachCount {
    select: SelectStatement,
    parent: Expr,
    counts: tokio::sync::OnceCell<Arc<HashMap<i32, i64>>>,
}

impl EachCount {
    async fn read(
        &self,
        db: &impl ConnectionTrait,
        kept: Option<&Counts>,
    ) -> AppResult<Arc<HashMap<i32, i64>>> {
        let mut inner = self.select.clone();
        inner
            .clear_order_by()
            .clear_selects()
            .expr_as(self.parent.clone(), Alias::new(PARENT));
        let query = Query::select()
            .column(Alias::new(PARENT))
            .expr(Expr::cust("COUNT(*)"))
            .from_subquery(inner, Alias::new("counted"))
            .group_by_col(Alias::new(PARENT))
            .to_owned();
        let count = async {
            let mut counts = HashMap::new();
            for row in db.query_all(&query).await? {
                counts.insert(
                    row.try_get_by_index::<i32>(0)?,
                    row.try_get_by_index::<i64>(1)?,
                );
            }
            Ok(Counted::Each(Arc::new(counts)))
        };
        match Counts::through(kept, db, &query, count).await? {
            Counted::Each(counts) => Ok(counts),
            Counted::One(_) => Err(AppError::internal("a grouped count kept as a single one")),
        }
    }
}

impl CountQuery {
    fn of(mut inner: SelectStatement) -> Self {
        inner.clear_order_by();
        Self {
            counter: Counter::One(Box::new(
                Query::select()
                    .expr(Expr::cust("COUNT(*)"))
                    .from_subquery(inner, Alias::new("counted"))
                    .to_owned(),
            )),
            audited: false,
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
                let count = async {
                    let row = db
                        .query_one(query.as_ref())
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

/// `totalCount`s kept until the data changes ([`super::kept`]), keyed by their statement (its
/// text and bound values: the caller's scope, the filter, today's date are all in it).
///
/// Counting a long list is most of the work of a request that asks for it (41,000 findings
/// of one status: 4 ms from an index, on every poll of a dashboard). Only counts of rows whose
/// every change is audited are kept ([`CountQuery::audited`]); the check reads one id, in
/// place of the count when it is kept and beside it when it is not.
pub struct Counts(super::kept::Kept<Counted>);

impl Counts {
    pub fn new(generation: Arc<super::kept::Generation>) -> Self {
        Self(super::kept::Kept::new(generation, 4_096))
    }

    async fn through(
        kept: Option<&Counts>,
        db: &impl ConnectionTrait,
        query: &SelectStatement,
        count: impl std::future::Future<Output = AppResult<Counted>>,
    ) -> AppResult<Counted> {
        let Some(kept) = kept else {
            return count.await;
        };
        let statement = db.get_database_backend().build(query);
        let key = format!("{}\u{0}{:?}", statement.sql, statement.values);
        kept.0.get_or(key, count).await
    }
}

#[cfg(test)]
mod tests {
    use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
    use sea_orm::{DbBackend, Value};

    use super::write_limit;

    fn page(limit: u64, more: usize) -> sea_orm::Statement {
        let mut query = Query::select();
        query.column(Alias::new("id")).from(Alias::new("finding"));
        for i in 0..more {
            query.and_where(Expr::col(Alias::new("id")).ne(i as i32));
        }
        DbBackend::Postgres.build(query.limit(limit))
    }

    /// The page size goes into the text and out of the parameters, whatever their number.
    #[test]
    fn a_page_statement_carries_its_size_in_its_text() {
        for more in [0, 1, 11] {
            let mut statement = page(51, more);
            write_limit(&mut statement, 51);
            assert!(statement.sql.ends_with(" LIMIT 51"), "{}", statement.sql);
            assert!(
                !statement.sql.contains(&format!("${}", more + 1)),
                "{}",
                statement.sql
            );
            assert_eq!(statement.values.unwrap().0.len(), more);
        }
    }

    /// A statement whose last parameter is not that limit is left as it was.
    #[test]
    fn a_statement_not_built_as_a_page_is_left_bound() {
        let mut statement = page(51, 2);
        write_limit(&mut statement, 50);
        assert!(statement.sql.ends_with(" LIMIT $3"), "{}", statement.sql);
        assert_eq!(
            statement.values.unwrap().0.last(),
            Some(&Value::BigUnsigned(Some(51)))
        );
    }
}
