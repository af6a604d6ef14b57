//! Numbering under a parent (findings and categories within an inspection, measures within a
//! finding): a number given must be positive and free; none given means the next one.

use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QuerySelect, Statement,
};

use crate::error::{AppError, AppResult};

/// Where a kind of record is numbered.
pub struct Numbering<C> {
    /// The parent's kind in messages, e.g. "inspection".
    pub parent: &'static str,
    /// The numbered record's kind in messages, e.g. "finding".
    pub child: &'static str,
    pub parent_column: C,
    pub ordinal_column: C,
}

/// The ordinal a new child of `parent_id` gets: `requested` if it is positive and free,
/// else `BAD_USER_INPUT` / `CONFLICT`; with none requested, one past the highest in use.
pub async fn assign<E>(
    db: &impl ConnectionTrait,
    numbering: Numbering<E::Column>,
    parent_id: i32,
    requested: Option<i32>,
) -> AppResult<i32>
where
    E: EntityTrait,
    E::Column: ColumnTrait,
{
    serialize_numbering(db, numbering.child, parent_id).await?;
    let siblings = || E::find().filter(numbering.parent_column.eq(parent_id));
    let ordinal = match requested {
        Some(n) if n > 0 => n,
        Some(_) => return Err(AppError::bad_input("ordinal", t!("ordinal-positive"))),
        None => {
            let max: Option<i32> = siblings()
                .select_only()
                .column_as(numbering.ordinal_column.max(), "max")
                .into_tuple()
                .one(db)
                .await?
                .flatten();
            return Ok(max.unwrap_or(0) + 1);
        }
    };
    let taken = siblings()
        .filter(numbering.ordinal_column.eq(ordinal))
        .one(db)
        .await?;
    if taken.is_some() {
        return Err(AppError::Conflict(t!(
            "ordinal-taken",
            parent = crate::i18n::kind_name(numbering.parent),
            id = parent_id,
            child = crate::i18n::kind_name(numbering.child),
            ordinal = ordinal
        )));
    }
    Ok(ordinal)
}

/// Makes numberings under one parent take turns until the caller's transaction ends.
///
/// Two transactions that both read "one past the highest" on PostgreSQL would give the same
/// number, and the second would fail on the unique index (scripts creating findings of one
/// inspection at once got `CONFLICT`). SQLite runs one writer at a time already.
async fn serialize_numbering(
    db: &impl ConnectionTrait,
    child: &'static str,
    parent_id: i32,
) -> AppResult<()> {
    if db.get_database_backend() == DbBackend::Postgres {
        db.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT pg_advisory_xact_lock(hashtext($1), $2)",
            [child.into(), parent_id.into()],
        ))
        .await?;
    }
    Ok(())
}
