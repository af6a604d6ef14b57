//! Bulk changes for scripts: many items in one transaction, all or nothing, with the outcome of
//! each item reported. Each item is the same domain command a single mutation runs, in a
//! savepoint so that one failure is reported as itself (not as the aborted transaction it
//! would leave on PostgreSQL); then everything is rolled back if any item failed.

use sea_orm::{DatabaseConnection, DatabaseTransaction, TransactionTrait};

use crate::auth::Permission;
use crate::db;
use crate::domain::Acting;
use crate::domain::records::measure::{self, MeasurePatch};
use crate::domain::records::progress::{self, Checked};
use crate::error::{AppError, AppResult};

/// Items one bulk request may carry.
pub const MAX_ITEMS: usize = 100;

/// What happened to a bulk request: whether it was applied, and each item's outcome (had it
/// been applied, for the items that succeeded when another failed).
pub struct Outcome<T> {
    pub applied: bool,
    pub items: Vec<Result<T, AppError>>,
}

fn check_size(n: usize) -> AppResult<()> {
    if n == 0 || n > MAX_ITEMS {
        return Err(AppError::bad_input(
            "items",
            t!("bulk-size", max = MAX_ITEMS),
        ));
    }
    Ok(())
}

/// Runs `item` in a savepoint of `txn`: kept when it succeeds, undone when it fails.
pub async fn in_savepoint<T>(
    txn: &DatabaseTransaction,
    item: impl AsyncFnOnce(&DatabaseTransaction) -> AppResult<T>,
) -> AppResult<AppResult<T>> {
    let savepoint = txn.begin().await?;
    match item(&savepoint).await {
        Ok(value) => {
            savepoint.commit().await?;
            Ok(Ok(value))
        }
        Err(err) => {
            savepoint.rollback().await?;
            Ok(Err(err))
        }
    }
}

/// Updates many measures at once.
pub async fn update_measures(
    db: &DatabaseConnection,
    who: &Acting,
    items: Vec<(i32, i32, MeasurePatch)>,
) -> AppResult<Outcome<entity::measure::Model>> {
    who.require(Permission::UpdateMeasures)?;
    check_size(items.len())?;
    let txn = db::begin_write(db).await?;
    let mut results = Vec::with_capacity(items.len());
    for (id, version, patch) in items {
        let result = in_savepoint(&txn, async |sp| {
            measure::update(sp, who, id, version, patch).await
        })
        .await?;
        results.push(result);
    }
    finish(db, txn, who, results).await
}

/// Adds many ledger entries at once.
pub async fn add_progress(
    db: &DatabaseConnection,
    who: &Acting,
    items: Vec<AppResult<Checked>>,
) -> AppResult<Outcome<entity::progress_entry::Model>> {
    who.require(Permission::AddProgress)?;
    check_size(items.len())?;
    let txn = db::begin_write(db).await?;
    let mut results = Vec::with_capacity(items.len());
    for item in items {
        let result = match item {
            Ok(checked) => {
                in_savepoint(&txn, async |sp| progress::append(sp, who, &checked).await).await?
            }
            Err(err) => Err(err),
        };
        results.push(result);
    }
    finish(db, txn, who, results).await
}

async fn finish<T>(
    db: &DatabaseConnection,
    txn: DatabaseTransaction,
    who: &Acting,
    items: Vec<AppResult<T>>,
) -> AppResult<Outcome<T>> {
    let applied = items.iter().all(Result::is_ok) && !who.dry_run;
    if applied {
        crate::db::commit(db, txn).await?;
    } else {
        txn.rollback().await?;
    }
    Ok(Outcome { applied, items })
}
