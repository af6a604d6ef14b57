//! Keyset pagination for every list: opaque cursors that encode the sort keys of a row, so a
//! page boundary stays put when rows are inserted (an offset would shift).
//!
//! An order is a list of sort expressions, always ending with the row id so that keys are
//! unique; `after` becomes `(k1, k2, id) > (v1, v2, vid)` (row values, supported by SQLite and
//! PostgreSQL alike), `before` the opposite, and `last` reads the order backwards.
//!
//! A list nested under a page of parents (each inspection's findings, each finding's ledger)
//! is read for all the parents at once ([`EachRead`]): one statement reads each parent's page
//! (a lateral join on PostgreSQL, a correlated subquery of each parent's page keys on SQLite),
//! and their `totalCount`s come from one grouped count, however many parents. Under a page not
//! yet read, on PostgreSQL, the same lateral join reads it with the page ([`fetch_under`]).

use std::collections::HashMap;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, NaiveDate, Utc};
use entity::Positional;
use sea_orm::sea_query::{
    Alias, Asterisk, Expr, ExprTrait, IntoIden, JoinType, OverStatement, Query, SelectStatement,
    WindowStatement,
};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbBackend, DbErr, EntityTrait, IdenStatic, Iterable,
    ModelTrait, Order as Direction, PrimaryKeyToColumn, QueryFilter, QueryOrder, QueryResult,
    QuerySelect, QueryTrait, Select, Statement, Value,
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
    pub rows: Vec<(Cursor, M)>,
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

/// A row's place in its order, written out as the opaque text clients see only when it is
/// shown (most reads show no cursor, or only the last one of a page).
#[derive(Debug, Clone, PartialEq)]
pub struct Cursor {
    order: &'static str,
    keys: Vec<Key>,
}

impl std::fmt::Display for Cursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let json = serde_json::to_vec(&Encoded {
            o: self.order.into(),
            k: self.keys.as_slice().into(),
        })
        .unwrap_or_default();
        f.write_str(&URL_SAFE_NO_PAD.encode(json))
    }
}

/// A cursor's text, before base64.
#[derive(Serialize, Deserialize)]
struct Encoded<'a> {
    o: std::borrow::Cow<'a, str>,
    k: std::borrow::Cow<'a, [Key]>,
}

fn decode<M>(field: &str, cursor: &str, order: &Order<M>) -> AppResult<Vec<Key>> {
    let invalid = || AppError::bad_input(field, t!("page-cursor", field = field));
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| invalid())?;
    let cursor: Encoded = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
    if cursor.o != order.name || cursor.k.len() != order.exprs.len() {
        return Err(invalid());
    }
    Ok(cursor.k.into_owned())
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
    E::Model: Positional,
{
    fetch_with(db, select, order, args, None).await
}

/// [`fetch`], with the list `nested` under the page's rows read in the same statement
/// ([`fetch_under`]).
pub async fn fetch_with<E>(
    db: &impl ConnectionTrait,
    select: Select<E>,
    order: &Order<E::Model>,
    args: &PageArgs,
    nested: Option<&mut dyn Lateral>,
) -> AppResult<Page<E::Model>>
where
    E: EntityTrait,
    E::Model: Positional,
{
    let decode = |row: &QueryResult, at| E::Model::decode_at(row, at);
    fetch_under(db, select, order, args, decode, nested).await
}

/// The direction an order runs in SQL: ascending forward and ascending, or backward and
/// descending (a backward page is read from its end, then turned round).
fn sql_direction(descending: bool, backward: bool) -> Direction {
    if descending == backward {
        Direction::Asc
    } else {
        Direction::Desc
    }
}

/// How a page is read: its size, direction, and the select narrowed by its cursors.
struct Bounds<E: EntityTrait> {
    size: u64,
    backward: bool,
    /// The direction the order runs in SQL.
    direction: Direction,
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
        direction: sql_direction(order.descending, backward),
        select,
    })
}

impl<E: EntityTrait> Bounds<E> {
    fn direction(&self) -> Direction {
        self.direction.clone()
    }

    /// Turns up to `size + 1` rows read in SQL order into the page.
    fn page<M>(
        &self,
        rows: Vec<M>,
        order: &Order<M>,
        args: &PageArgs,
        count: CountQuery,
    ) -> Page<M> {
        paged(rows, self.size, self.backward, order, args, count)
    }
}

/// Turns up to `size + 1` rows read in SQL order into the page (reversed when read backward).
fn paged<M>(
    mut rows: Vec<M>,
    size: u64,
    backward: bool,
    order: &Order<M>,
    args: &PageArgs,
    count: CountQuery,
) -> Page<M> {
    let more = rows.len() as u64 > size;
    rows.truncate(size as usize);
    if backward {
        rows.reverse();
    }
    let (has_previous, has_next) = if backward {
        (more, args.before.is_some())
    } else {
        (args.after.is_some(), more)
    };
    let rows = rows
        .into_iter()
        .map(|row| {
            let keys = (order.keys)(&row);
            (
                Cursor {
                    order: order.name,
                    keys,
                },
                row,
            )
        })
        .collect();
    Page {
        rows,
        has_previous,
        has_next,
        count,
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
    let rows = query_limited(db, query.limit(bounds.size + 1).into_query()).await?;
    let rows = rows.iter().map(decode_row).collect::<Result<Vec<_>, _>>()?;
    Ok(bounds.page(rows, order, args, count))
}

/// Runs a page's statement, with its `LIMIT`s written into its text on PostgreSQL.
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
) -> AppResult<Vec<QueryResult>> {
    let backend = db.get_database_backend();
    let mut statement = backend.build(&query);
    if backend == DbBackend::Postgres {
        write_limits(&mut statement);
    }
    Ok(db.query_all_raw(statement).await?)
}

/// Writes each parameter that is a `LIMIT` (a whole number right after ` LIMIT `) into the
/// statement's text, numbering the other parameters anew (`$1`, `$2`, ... as PostgreSQL
/// reads them). Leaves the statement as it is if its parameters are not numbered in order.
fn write_limits(statement: &mut sea_orm::Statement) {
    let Some(values) = statement.values.as_mut() else {
        return;
    };
    let sql = &statement.sql;
    let bytes = sql.as_bytes();
    let mut text = String::with_capacity(sql.len());
    let mut kept = Vec::with_capacity(values.0.len());
    let (mut copied, mut next) = (0, 0);
    let (mut quoted, mut string) = (false, false);
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' if !string => quoted = !quoted,
            b'\'' if !quoted => string = !string,
            b'$' if !quoted && !string => {
                let end = i
                    + 1
                    + bytes[i + 1..]
                        .iter()
                        .take_while(|b| b.is_ascii_digit())
                        .count();
                if end > i + 1 {
                    // sea-query numbers its parameters in the order they appear.
                    next += 1;
                    if sql[i + 1..end].parse::<usize>().ok() != Some(next) {
                        return;
                    }
                    let Some(value) = values.0.get(next - 1) else {
                        return;
                    };
                    text.push_str(&sql[copied..i]);
                    match value {
                        Value::BigUnsigned(Some(limit)) if sql[..i].ends_with(" LIMIT ") => {
                            text.push_str(&limit.to_string());
                        }
                        _ => {
                            kept.push(value.clone());
                            text.push_str(&format!("${}", kept.len()));
                        }
                    }
                    copied = end;
                    i = end;
                    continue;
                }
            }
            _ => {}
        }
        i += 1;
    }
    if next != values.0.len() {
        return;
    }
    text.push_str(&sql[copied..]);
    statement.sql = text;
    values.0 = kept;
}

/// The column that carries each row's parent in [`EachRead::fetch`]'s answer.
const PARENT: &str = "rt_parent";
/// Marks a row of a nested page: null in the one row of a parent whose page is empty. (On
/// SQLite, numbers the rows of each parent's page.)
const ROW: &str = "rt_row";
/// Prefixes the columns that carry a nested page's sort keys, for the statement around it to
/// order by.
const KEY: &str = "rt_k";
/// Prefixes the columns that carry the parents' sort keys in [`fetch_under`]'s statement.
const PARENT_KEY: &str = "rt_pk";
/// Prefixes the names of a nested list's columns in the statements that read it, so that they
/// never meet its parents' (`id`, `title`, ...): a decoder by name reads them with it
/// (`from_query_result(row, NESTED)`).
pub const NESTED: &str = "rt_c_";

/// Selects a page's sort expressions as the columns `{prefix}0`, `{prefix}1`, ..., so that the
/// statement around the page orders by them. (Numbering the rows instead costs a window in
/// every page: a third of a nested read's work in the database.)
fn select_keys(query: &mut SelectStatement, exprs: &[Expr], prefix: &str) {
    for (at, expr) in exprs.iter().enumerate() {
        query.expr_as(expr.clone(), Alias::new(format!("{prefix}{at}")));
    }
}

/// Orders `query` by the `count` key columns of `table` that [`select_keys`] named.
fn order_by_keys(
    query: &mut SelectStatement,
    table: &Alias,
    prefix: &str,
    count: usize,
    direction: Direction,
) {
    for at in 0..count {
        query.order_by(
            (table.clone(), Alias::new(format!("{prefix}{at}"))),
            direction.clone(),
        );
    }
}

/// Selects `columns` of `table` in order, each named with the [`NESTED`] prefix.
fn select_nested(query: &mut SelectStatement, table: impl IntoIden + Clone, columns: &[String]) {
    for name in columns {
        query.expr_as(
            Expr::col((table.clone(), Alias::new(name))),
            Alias::new(format!("{NESTED}{name}")),
        );
    }
}

/// How the rows of a nested list decode: from the columns it reads, which come first in the
/// row and in order, named with the [`NESTED`] prefix.
pub type Decode<E> =
    fn(&QueryResult, &[<E as EntityTrait>::Column]) -> Result<<E as EntityTrait>::Model, DbErr>;

/// A list nested under a page of parents, to be read: each parent's page of the rows of
/// `select` (which reads `columns` of `E`) whose `parent` expression is that parent, in one
/// order with the same page arguments. Every parent has a page (empty when it has no rows), and
/// their `totalCount`s are counted together when first asked. Read in one statement, for
/// parents already known ([`EachRead::fetch`]) or with the page of parents itself
/// ([`fetch_under`], through [`Lateral`]).
pub struct EachRead<E: EntityTrait> {
    /// Until the read is closed, when it becomes the statement of the pages' counts.
    select: Option<Select<E>>,
    parent: Expr,
    order: Order<E::Model>,
    args: PageArgs,
    columns: Vec<E::Column>,
    decode: Decode<E>,
    audited: bool,
    size: u64,
    backward: bool,
    rows: HashMap<i32, Vec<E::Model>>,
    pages: HashMap<i32, Page<E::Model>>,
}

impl<E: EntityTrait> EachRead<E> {
    /// The read of `select`'s pages; refuses page arguments no page can have.
    pub fn new(
        select: Select<E>,
        parent: Expr,
        order: Order<E::Model>,
        args: &PageArgs,
        columns: &[E::Column],
        decode: Decode<E>,
    ) -> AppResult<Self> {
        // Checks the size and the cursors now, so that a bad argument fails before any read.
        let (size, backward) = args.size()?;
        for (field, cursor) in [("after", &args.after), ("before", &args.before)] {
            if let Some(cursor) = cursor {
                self::decode(field, cursor, &order)?;
            }
        }
        Ok(Self {
            select: Some(select),
            parent,
            order,
            args: args.clone(),
            columns: columns.to_vec(),
            decode,
            audited: false,
            size,
            backward,
            rows: HashMap::new(),
            pages: HashMap::new(),
        })
    }

    /// Marks the pages' counts as [`CountQuery::audited`].
    pub fn audited(mut self) -> Self {
        self.audited = true;
        self
    }

    /// The pages of `parents`, read in one statement.
    pub async fn fetch(
        mut self,
        db: &impl ConnectionTrait,
        parents: &[i32],
    ) -> AppResult<HashMap<i32, Page<E::Model>>> {
        let query = self.for_parents(parents, db.get_database_backend())?;
        for row in query_limited(db, query).await? {
            let parent: i32 = row.try_get("", PARENT)?;
            self.take(parent, &row)?;
        }
        self.close(parents);
        Ok(self.into_pages())
    }

    /// The pages read, by parent (after [`Lateral::close`]).
    pub fn into_pages(self) -> HashMap<i32, Page<E::Model>> {
        self.pages
    }

    /// The page of the parent whose key is `parent` (PostgreSQL), each row marked as [`ROW`]
    /// and its sort keys as [`KEY`] columns.
    fn page_of(&self, parent: Expr) -> AppResult<SelectStatement> {
        // Each parent's page by its own index scan that stops at the page's end. (A window
        // over all parents reads every row of every parent before it keeps a page of each:
        // thirty times slower for inspections of two hundred findings.)
        let bounds = bounds(
            self.select()?.filter(self.parent.clone().eq(parent)),
            &self.order,
            &self.args,
        )?;
        let mut page = bounds.select.clone();
        for expr in &self.order.exprs {
            page = page.order_by(expr.clone(), bounds.direction());
        }
        let mut page = page.limit(bounds.size + 1).into_query();
        page.expr_as(Expr::cust("TRUE"), Alias::new(ROW));
        select_keys(&mut page, &self.order.exprs, KEY);
        Ok(page)
    }

    /// How the statement around [`EachRead::page_of`] orders a parent's rows: by its [`KEY`]
    /// columns, as the page itself.
    fn order_rows(&self, query: &mut SelectStatement, table: &Alias) {
        let direction = sql_direction(self.order.descending, self.backward);
        order_by_keys(query, table, KEY, self.order.exprs.len(), direction);
    }

    /// The rows of every parent (before the read is closed).
    fn select(&self) -> AppResult<Select<E>> {
        self.select
            .clone()
            .ok_or_else(|| AppError::internal("a nested list read after it was closed"))
    }

    /// The names of the columns read, in order.
    fn names(&self) -> Vec<String> {
        self.columns.iter().map(|c| c.as_str().to_owned()).collect()
    }

    /// The statement of the pages of `parents` given as values, each row with its parent in
    /// [`PARENT`].
    fn for_parents(&self, parents: &[i32], backend: DbBackend) -> AppResult<SelectStatement> {
        let parents_table = Alias::new("rt_parents");
        let parent_key = Expr::col((parents_table.clone(), Alias::new("column1")));
        if backend == DbBackend::Postgres {
            let mut query = Query::select();
            select_nested(&mut query, Alias::new("paged"), &self.names());
            query
                .expr_as(parent_key, Alias::new(PARENT))
                .from_values(parents.iter().copied(), parents_table)
                .join_lateral(
                    JoinType::InnerJoin,
                    self.page_of(parent_key_of(&Alias::new("rt_parents"), "column1"))?,
                    Alias::new("paged"),
                    Expr::cust("TRUE"),
                )
                .order_by(Alias::new(PARENT), Direction::Asc);
            self.order_rows(&mut query, &Alias::new("paged"));
            return Ok(query);
        }
        // SQLite has no lateral joins, but the same walk per parent: each parent's page keys by
        // a correlated subquery that stops at the page's end (its index scan, as on
        // PostgreSQL), the rows fetched by key, then numbered within each parent. (A window
        // over every row of the parents read all their rows first: ten inspections of two
        // hundred findings, 11 ms against 1.3 ms.)
        let bounds = bounds(
            self.select()?
                .filter(self.parent.clone().eq(parent_key.clone())),
            &self.order,
            &self.args,
        )?;
        let id = E::PrimaryKey::iter()
            .next()
            .ok_or_else(|| AppError::internal("an entity without a primary key"))?
            .into_column();
        let id = Expr::col((E::default(), id));
        let mut keys = bounds.select.clone();
        for expr in &self.order.exprs {
            keys = keys.order_by(expr.clone(), bounds.direction());
        }
        let mut keys = keys.limit(bounds.size + 1).into_query();
        keys.clear_selects().expr(id.clone());
        let mut window = WindowStatement::new();
        window.add_partition_by(parent_key.clone());
        for expr in &self.order.exprs {
            window.order_by_expr(expr.clone(), bounds.direction());
        }
        // The rows' `columns` (those `select` reads), outside any join `select` has: the
        // parent comes from the list of parents.
        let mut query = Query::select();
        select_nested(&mut query, E::default(), &self.names());
        query
            .expr_as(parent_key, Alias::new(PARENT))
            .expr_window_as(Expr::cust("ROW_NUMBER()"), window, Alias::new(ROW))
            .from_clear()
            .from_values(parents.iter().copied(), parents_table)
            .cross_join(E::default())
            .and_where(id.in_subquery(keys))
            .order_by(Alias::new(PARENT), Direction::Asc)
            .order_by(Alias::new(ROW), Direction::Asc);
        Ok(query)
    }
}

/// `"table"."column"`, the key of a parent in a lateral page.
fn parent_key_of(table: &Alias, column: &str) -> Expr {
    Expr::col((table.clone(), Alias::new(column)))
}

/// A nested list read in the statement of its parents' page ([`fetch_under`]), whatever its
/// type: what the page of parents asks of it.
pub trait Lateral: Send {
    /// The page of the parent whose key is `parent` (PostgreSQL): the list's columns in order,
    /// then [`ROW`] and the rows' sort keys.
    fn page_for(&self, parent: Expr) -> AppResult<SelectStatement>;
    /// Orders the statement around [`Lateral::page_for`] (named `table` there) by the rows'
    /// sort keys, after the parents' own.
    fn order_rows(&self, query: &mut SelectStatement, table: &Alias);
    /// The names of the list's columns, in [`Lateral::page_for`]'s order.
    fn names(&self) -> Vec<String>;
    /// The statement of the pages of parents already read, each row with its parent as
    /// [`PARENT`] (SQLite, where there are no lateral joins and no round trips to save).
    fn for_parents(&self, parents: &[i32], backend: DbBackend) -> AppResult<SelectStatement>;
    /// One row of `parent`'s page, its columns first, in order.
    fn take(&mut self, parent: i32, row: &QueryResult) -> AppResult<()>;
    /// Ends the read: each of `parents` has its page, empty when no row was taken for it.
    fn close(&mut self, parents: &[i32]);
}

impl<E: EntityTrait> Lateral for EachRead<E> {
    fn page_for(&self, parent: Expr) -> AppResult<SelectStatement> {
        self.page_of(parent)
    }

    fn order_rows(&self, query: &mut SelectStatement, table: &Alias) {
        EachRead::order_rows(self, query, table)
    }

    fn names(&self) -> Vec<String> {
        EachRead::names(self)
    }

    fn for_parents(&self, parents: &[i32], backend: DbBackend) -> AppResult<SelectStatement> {
        EachRead::for_parents(self, parents, backend)
    }

    fn take(&mut self, parent: i32, row: &QueryResult) -> AppResult<()> {
        let model = (self.decode)(row, &self.columns)?;
        self.rows.entry(parent).or_default().push(model);
        Ok(())
    }

    fn close(&mut self, parents: &[i32]) {
        // The read is over: its statement becomes the count's (no copy of it is made). Once
        // only: the pages of a second close would be those of the first.
        let Some(select) = self.select.take() else {
            return;
        };
        let counts = Arc::new(EachCount::of(
            select.filter(
                self.parent
                    .clone()
                    .is_in(crate::domain::reads::relations::padded(
                        parents.iter().copied(),
                    )),
            ),
            self.parent.clone(),
        ));
        let mut rows = std::mem::take(&mut self.rows);
        for &parent in parents {
            let count = CountQuery {
                counter: Counter::Each {
                    counts: counts.clone(),
                    parent,
                },
                audited: self.audited,
            };
            let page = paged(
                rows.remove(&parent).unwrap_or_default(),
                self.size,
                self.backward,
                &self.order,
                &self.args,
                count,
            );
            self.pages.insert(parent, page);
        }
    }
}

/// [`fetch_decoded`] (`decode_row` reads the page's columns from the index it is given), with
/// the list `nested` under the page's rows read in the same statement
/// on PostgreSQL: each row of the page is a parent, keyed by its primary key. (One statement
/// for both levels saves a round trip, its connection's release, and a statement's work in
/// the database: a tenth of a nested page's cost at twenty parents.) On SQLite, where a
/// statement costs no round trip, the list is read after the page.
pub async fn fetch_under<E>(
    db: &impl ConnectionTrait,
    select: Select<E>,
    order: &Order<E::Model>,
    args: &PageArgs,
    decode_row: impl Fn(&QueryResult, usize) -> Result<E::Model, DbErr>,
    nested: Option<&mut dyn Lateral>,
) -> AppResult<Page<E::Model>>
where
    E: EntityTrait,
{
    let at_start = |row: &QueryResult| decode_row(row, 0);
    let Some(nested) = nested else {
        return fetch_decoded(db, select, order, args, at_start).await;
    };
    let id = E::PrimaryKey::iter()
        .next()
        .ok_or_else(|| AppError::internal("an entity without a primary key"))?
        .into_column();
    let id_of = |model: &E::Model| -> AppResult<i32> {
        match model.get(id) {
            Value::Int(Some(id)) => Ok(id),
            _ => Err(AppError::internal("a parent without an integer id")),
        }
    };
    let backend = db.get_database_backend();
    if backend != DbBackend::Postgres {
        let page = fetch_decoded(db, select, order, args, at_start).await?;
        let parents = page
            .rows
            .iter()
            .map(|(_, row)| id_of(row))
            .collect::<AppResult<Vec<_>>>()?;
        if !parents.is_empty() {
            for row in query_limited(db, nested.for_parents(&parents, backend)?).await? {
                nested.take(row.try_get("", PARENT)?, &row)?;
            }
        }
        nested.close(&parents);
        return Ok(page);
    }
    let count = CountQuery::of(select.as_query().clone());
    let bounds = bounds(select, order, args)?;
    let mut parents = bounds.select.clone();
    for expr in &order.exprs {
        parents = parents.order_by(expr.clone(), bounds.direction());
    }
    let mut parents = parents.limit(bounds.size + 1).into_query();
    // After the parents' own columns, which are read by position.
    select_keys(&mut parents, &order.exprs, PARENT_KEY);
    let (table, paged) = (Alias::new("rt_parents"), Alias::new("paged"));
    // The list's columns first, named as in a read of its own, then the parents' own.
    let names = nested.names();
    let mut query = Query::select();
    select_nested(&mut query, paged.clone(), &names);
    query
        .column((paged.clone(), Alias::new(ROW)))
        .column((table.clone(), Asterisk))
        .from_subquery(parents, table.clone())
        .join_lateral(
            JoinType::LeftJoin,
            nested.page_for(parent_key_of(&table, id.as_str()))?,
            paged.clone(),
            Expr::cust("TRUE"),
        );
    // The sort keys end with the id: each parent's rows come together, in their page's order.
    order_by_keys(
        &mut query,
        &table,
        PARENT_KEY,
        order.exprs.len(),
        bounds.direction(),
    );
    nested.order_rows(&mut query, &paged);
    let mut rows = Vec::new();
    let mut parents: Vec<i32> = Vec::new();
    for row in query_limited(db, query).await? {
        let parent: i32 = row.try_get("", id.as_str())?;
        if parents.last() != Some(&parent) {
            // The parents' columns follow the list's and its marker.
            parents.push(parent);
            rows.push(decode_row(&row, names.len() + 1)?);
        }
        // A parent without rows in the list comes once, with the list's columns null.
        if row.try_get::<Option<bool>>("", ROW)?.is_some() {
            nested.take(parents[parents.len() - 1], &row)?;
        }
    }
    // The row read past the page's end only tells that there is more.
    parents.truncate(bounds.size as usize);
    nested.close(&parents);
    Ok(bounds.page(rows, order, args, count))
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
    /// One of the pages an [`EachRead`] read together, whose counts are read together.
    Each {
        counts: Arc<EachCount>,
        parent: i32,
    },
}

/// The counts of the pages read together: `SELECT parent, COUNT(*) ... GROUP BY parent`,
/// run by the first page asked and kept for the others.
struct EachCount {
    query: SelectStatement,
    counts: tokio::sync::OnceCell<Arc<HashMap<i32, i64>>>,
}

impl EachCount {
    /// The grouped count of the rows of `listed` by their `parent`.
    fn of<E: EntityTrait>(listed: Select<E>, parent: Expr) -> Self {
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
    fn of(mut inner: SelectStatement) -> Self {
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

/// `totalCount`s kept until the data changes ([`crate::domain::reads::kept`]), keyed by their statement (its
/// text and bound values: the caller's scope, the filter, today's date are all in it).
///
/// Counting a long list is most of the work of a request that asks for it (41,000 findings
/// of one status: 4 ms from an index, on every poll of a dashboard). Only counts of rows whose
/// every change is audited are kept ([`CountQuery::audited`]); the check reads one id, in
/// place of the count when it is kept and beside it when it is not.
pub struct Counts(crate::domain::reads::kept::Kept<Counted>);

impl Counts {
    pub fn new(generation: Arc<crate::domain::reads::kept::Generation>) -> Self {
        Self(crate::domain::reads::kept::Kept::new(generation, 4_096))
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
        kept.0.get_or(key, count(statement)).await
    }
}

#[cfg(test)]
mod tests {
    use entity::*;
    use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
    use sea_orm::{DbBackend, EntityTrait, IdenStatic, Iterable, Value};

    use super::{Positional, write_limits};

    /// A page's statement selects `E`'s columns in their enum's order; its decoder must read
    /// them in that order, or two columns of one type would swap without an error.
    fn in_column_order<E: EntityTrait>()
    where
        E::Model: Positional,
    {
        let columns: Vec<&str> = E::Column::iter().map(|c| c.as_str()).collect();
        assert_eq!(
            <E::Model as Positional>::FIELDS,
            columns.as_slice(),
            "{}",
            std::any::type_name::<E>()
        );
    }

    #[test]
    fn every_positional_decoder_reads_its_columns_in_select_order() {
        in_column_order::<account::Entity>();
        in_column_order::<audit_event::Entity>();
        in_column_order::<category::Entity>();
        in_column_order::<department::Entity>();
        in_column_order::<inspection::Entity>();
        in_column_order::<measure::Entity>();
        in_column_order::<notification::Entity>();
        in_column_order::<progress_entry::Entity>();
        in_column_order::<recheck::Entity>();
        in_column_order::<regulation::Entity>();
        in_column_order::<report::Entity>();
        in_column_order::<warning_crossing::Entity>();
        in_column_order::<webhook_delivery::Entity>();
        in_column_order::<webhook_endpoint::Entity>();
    }

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
            write_limits(&mut statement);
            assert!(statement.sql.ends_with(" LIMIT 51"), "{}", statement.sql);
            assert!(
                !statement.sql.contains(&format!("${}", more + 1)),
                "{}",
                statement.sql
            );
            assert_eq!(statement.values.unwrap().0.len(), more);
        }
    }

    /// A page of parents with each parent's page: both sizes go into the text, and the
    /// parameters after the first limit are numbered anew.
    #[test]
    fn every_limit_of_a_statement_goes_into_its_text() {
        let mut inner = Query::select();
        inner
            .column(Alias::new("id"))
            .from(Alias::new("finding"))
            .and_where(Expr::col(Alias::new("status")).eq("OPEN"))
            .limit(6);
        let mut outer = Query::select();
        outer
            .column(Alias::new("id"))
            .from(Alias::new("regulation"))
            .and_where(Expr::col(Alias::new("title")).ne("it's $2"))
            .limit(21);
        let mut query = Query::select();
        query
            .column(Alias::new("id"))
            .from_subquery(outer.to_owned(), Alias::new("a"))
            .and_where(Expr::col(Alias::new("id")).in_subquery(inner.to_owned()));
        let mut statement = DbBackend::Postgres.build(&query);
        assert_eq!(statement.values.as_ref().unwrap().0.len(), 4);
        write_limits(&mut statement);
        assert!(statement.sql.contains(" LIMIT 21)"), "{}", statement.sql);
        assert!(statement.sql.contains(" LIMIT 6)"), "{}", statement.sql);
        assert!(
            statement.sql.contains(r#""status" = $2"#),
            "{}",
            statement.sql
        );
        assert!(!statement.sql.contains("$3"), "{}", statement.sql);
        assert_eq!(
            statement.values.unwrap().0,
            vec![
                Value::String(Some("it's $2".to_owned())),
                Value::String(Some("OPEN".to_owned()))
            ]
        );
    }

    /// A parameter that follows ` LIMIT ` but is not a whole number stays bound.
    #[test]
    fn a_limit_that_is_not_a_size_stays_bound() {
        let mut statement = page(51, 2);
        statement.values.as_mut().unwrap().0[2] = Value::BigInt(Some(51));
        write_limits(&mut statement);
        assert!(statement.sql.ends_with(" LIMIT $3"), "{}", statement.sql);
        assert_eq!(statement.values.unwrap().0.len(), 3);
    }
}
