//! Keyset pages of one list: the page arguments, the order and its cursors, and the read of a
//! page (`after` becomes `(k1, k2, id) > (v1, v2, vid)`, `before` the opposite, and `last`
//! reads the order backwards).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, NaiveDate, Utc};
use entity::Positional;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ConnectionTrait, DbErr, EntityTrait, Order as Direction, QueryFilter, QueryOrder, QueryResult,
    QuerySelect, QueryTrait, Select, Value,
};
use serde::{Deserialize, Serialize};

use super::count::CountQuery;
use super::sql::query_limited;
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
    /// A field's Relay arguments, in the order the schema declares them.
    pub fn relay(
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Self {
        Self {
            first,
            after,
            last,
            before,
        }
    }

    pub fn first(n: i32) -> Self {
        Self {
            first: Some(n),
            ..Default::default()
        }
    }

    /// The page size and whether the page is read backwards (`last`).
    pub(super) fn size(&self) -> AppResult<(u64, bool)> {
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

pub(super) fn decode<M>(field: &str, cursor: &str, order: &Order<M>) -> AppResult<Vec<Key>> {
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
    fetch_decoded(db, select, order, args, |row| E::Model::decode_at(row, 0)).await
}

/// The direction an order runs in SQL: ascending forward and ascending, or backward and
/// descending (a backward page is read from its end, then turned round).
pub(super) fn sql_direction(descending: bool, backward: bool) -> Direction {
    if descending == backward {
        Direction::Asc
    } else {
        Direction::Desc
    }
}

/// How a page is read: its size, direction, and the select narrowed by its cursors.
pub(super) struct Bounds<E: EntityTrait> {
    pub(super) size: u64,
    backward: bool,
    /// The direction the order runs in SQL.
    direction: Direction,
    pub(super) select: Select<E>,
}

pub(super) fn bounds<E: EntityTrait>(
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
    pub(super) fn direction(&self) -> Direction {
        self.direction.clone()
    }

    /// Turns up to `size + 1` rows read in SQL order into the page.
    pub(super) fn page<M>(
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
pub(super) fn paged<M>(
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

#[cfg(test)]
mod tests {
    use entity::*;
    use sea_orm::{EntityTrait, IdenStatic, Iterable};

    use super::Positional;

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
}
