//! Bulk changes for scripts: many items in one transaction, all or nothing, with the outcome of
//! each item reported. Each item runs in a savepoint so that one failure is reported as itself
//! (not as the aborted transaction it would leave on PostgreSQL), and then everything is rolled
//! back if any item failed.

use sea_orm::{DatabaseConnection, TransactionTrait};

use crate::auth::{Caller, Permission};
use crate::db;
use crate::domain::measure::{self, MeasurePatch};
use crate::domain::progress::{self, Checked};
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
            format!("send 1 to {MAX_ITEMS} items"),
        ));
    }
    Ok(())
}

/// Updates many measures at once.
pub async fn update_measures(
    db: &DatabaseConnection,
    caller: &Caller,
    request_id: Option<String>,
    items: Vec<(i32, i32, MeasurePatch)>,
) -> AppResult<Outcome<entity::measure::Model>> {
    caller.require(Permission::UpdateMeasures)?;
    check_size(items.len())?;
    let actor = caller.actor(request_id);
    let txn = db::begin_write(db).await?;
    let mut results = Vec::with_capacity(items.len());
    for (id, version, patch) in items {
        let savepoint = txn.begin().await?;
        match measure::update_in(&savepoint, caller, &actor, id, version, patch).await {
            Ok(model) => {
                savepoint.commit().await?;
                results.push(Ok(model));
            }
            Err(err) => {
                savepoint.rollback().await?;
                results.push(Err(err));
            }
        }
    }
    finish(txn, results).await
}

/// Adds many ledger entries at once.
pub async fn add_progress(
    db: &DatabaseConnection,
    caller: &Caller,
    request_id: Option<String>,
    items: Vec<AppResult<Checked>>,
) -> AppResult<Outcome<entity::progress_entry::Model>> {
    caller.require(Permission::AddProgress)?;
    check_size(items.len())?;
    let actor = caller.actor(request_id);
    let txn = db::begin_write(db).await?;
    let mut results = Vec::with_capacity(items.len());
    for item in items {
        let checked = match item {
            Ok(checked) => checked,
            Err(err) => {
                results.push(Err(err));
                continue;
            }
        };
        let savepoint = txn.begin().await?;
        match progress::append_in(&savepoint, caller, &actor, &checked).await {
            Ok(model) => {
                savepoint.commit().await?;
                results.push(Ok(model));
            }
            Err(err) => {
                savepoint.rollback().await?;
                results.push(Err(err));
            }
        }
    }
    finish(txn, results).await
}

async fn finish<T>(
    txn: sea_orm::DatabaseTransaction,
    items: Vec<AppResult<T>>,
) -> AppResult<Outcome<T>> {
    let applied = items.iter().all(Result::is_ok);
    if applied {
        txn.commit().await?;
    } else {
        txn.rollback().await?;
    }
    Ok(Outcome { applied, items })
}
