//! Lists nested under a page of parents (each inspection's findings, each finding's ledger),
//! read for all the parents at once ([`EachRead`]): one statement reads each parent's page (a
//! lateral join on PostgreSQL, a correlated subquery of each parent's page keys on SQLite),
//! and their `totalCount`s come from one grouped count, however many parents. Under a page not
//! yet read, on PostgreSQL, the same lateral join reads it with the page ([`fetch_under`]).

use std::collections::HashMap;
use std::sync::Arc;

use entity::Positional;
use sea_orm::sea_query::{
    Alias, Asterisk, Expr, ExprTrait, IntoIden, JoinType, OverStatement, Query, SelectStatement,
    WindowStatement,
};
use sea_orm::{
    ConnectionTrait, DbBackend, DbErr, EntityTrait, IdenStatic, Iterable, ModelTrait,
    Order as Direction, PrimaryKeyToColumn, QueryFilter, QueryOrder, QueryResult, QuerySelect,
    QueryTrait, Select, Value,
};

use super::count::{CountQuery, EachCount, PARENT};
use super::keyset::{Order, Page, PageArgs, bounds, decode, fetch_decoded, paged, sql_direction};
use super::sql::{padded, query_limited};
use crate::error::{AppError, AppResult};

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
            select.filter(self.parent.clone().is_in(padded(parents.iter().copied()))),
            self.parent.clone(),
        ));
        let mut rows = std::mem::take(&mut self.rows);
        for &parent in parents {
            let count = CountQuery::each(counts.clone(), parent, self.audited);
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
