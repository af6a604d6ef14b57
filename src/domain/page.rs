//! Keyset pagination for every list: opaque cursors that encode the sort keys of a row, so a
//! page boundary stays put when rows are inserted (an offset would shift).
//!
//! An order is a list of sort expressions, always ending with the row id so that keys are
//! unique; `after` becomes `(k1, k2, id) > (v1, v2, vid)` (row values, supported by SQLite and
//! PostgreSQL alike), `before` the opposite, and `last` reads the order backwards.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query, SelectStatement};
use sea_orm::{
    ConnectionTrait, DbErr, EntityTrait, FromQueryResult, Order as Direction, QueryFilter,
    QueryOrder, QueryResult, QuerySelect, QueryTrait, Select, Value,
};
use serde::{Deserialize, Serialize};

use crate::error::{AppError, AppResult};

pub const DEFAULT_SIZE: u64 = 20;
pub const MAX_SIZE: u64 = 100;

/// Relay arguments, as given.
#[derive(Debug, Default, Clone)]
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
pub struct Page<M> {
    pub rows: Vec<(String, M)>,
    pub has_previous: bool,
    pub has_next: bool,
    /// Counts every row of the list (ignoring the page), when asked.
    pub count: CountQuery,
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
    let (size, backward) = args.size()?;
    let count = CountQuery::of(select.as_query().clone());
    let mut query = select;
    let forward_is_greater = !order.descending;
    if let Some(after) = &args.after {
        let keys = decode("after", after, order)?;
        query = query.filter(beyond(&order.exprs, keys, forward_is_greater));
    }
    if let Some(before) = &args.before {
        let keys = decode("before", before, order)?;
        query = query.filter(beyond(&order.exprs, keys, !forward_is_greater));
    }
    let ascending = order.descending == backward;
    for expr in &order.exprs {
        query = query.order_by(
            expr.clone(),
            if ascending {
                Direction::Asc
            } else {
                Direction::Desc
            },
        );
    }
    let rows = db.query_all(&query.limit(size + 1).into_query()).await?;
    let mut rows = rows.iter().map(decode_row).collect::<Result<Vec<_>, _>>()?;
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
        .map(|row| (encode(order.name, (order.keys)(&row)), row))
        .collect();
    Ok(Page {
        rows,
        has_previous,
        has_next,
        count,
    })
}

/// `SELECT COUNT(*)` over a list's query, run only when a client asks for `totalCount`.
#[derive(Clone)]
pub struct CountQuery(SelectStatement);

impl CountQuery {
    fn of(mut inner: SelectStatement) -> Self {
        inner.clear_order_by();
        Self(
            Query::select()
                .expr(Expr::cust("COUNT(*)"))
                .from_subquery(inner, Alias::new("counted"))
                .to_owned(),
        )
    }

    pub async fn run(&self, db: &impl ConnectionTrait) -> AppResult<i64> {
        let row = db
            .query_one(&self.0)
            .await?
            .ok_or_else(|| AppError::internal("COUNT(*) returned no row"))?;
        // COUNT is BIGINT on PostgreSQL and INTEGER on SQLite.
        Ok(row.try_get_by_index::<i64>(0)?)
    }
}
