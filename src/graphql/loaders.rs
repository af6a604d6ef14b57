//! DataLoaders: every relation between GraphQL types is loaded here, in batches (one query per
//! relation per batch, `WHERE key IN (...)`), so a page of N records costs a fixed number of
//! statements whatever N is.
//!
//! The loader is shared by all requests and caches nothing: values are never stale, and
//! nothing loaded for one caller is served to another. Scoping happens where the parent
//! records are read; a relation of a visible record is visible.

use std::collections::HashMap;

use async_graphql::dataloader::Loader as LoaderTrait;
use entity::{department, measure};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};

use crate::error::AppError;

pub struct Loader {
    db: DatabaseConnection,
}

impl Loader {
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

/// A failed batch; the cause is logged where it happened.
#[derive(Clone, Debug)]
pub struct LoadError;

impl From<LoadError> for AppError {
    fn from(_: LoadError) -> Self {
        AppError::Internal("internal server error".to_owned())
    }
}

impl From<LoadError> for async_graphql::Error {
    fn from(err: LoadError) -> Self {
        AppError::from(err).into()
    }
}

fn failed(err: sea_orm::DbErr) -> LoadError {
    tracing::error!(error = %err, "batch load failed");
    LoadError
}

/// A department by id.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct DepartmentById(pub i32);

/// The measures of a finding (not archived), by ordinal.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct MeasuresOfFinding(pub i32);

impl LoaderTrait<DepartmentById> for Loader {
    type Value = department::Model;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[DepartmentById],
    ) -> Result<HashMap<DepartmentById, Self::Value>, Self::Error> {
        let ids = keys.iter().map(|k| k.0);
        let rows = department::Entity::find()
            .filter(department::Column::Id.is_in(ids))
            .all(&self.db)
            .await
            .map_err(failed)?;
        Ok(rows
            .into_iter()
            .map(|d| (DepartmentById(d.id), d))
            .collect())
    }
}

impl LoaderTrait<MeasuresOfFinding> for Loader {
    type Value = Vec<measure::Model>;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[MeasuresOfFinding],
    ) -> Result<HashMap<MeasuresOfFinding, Self::Value>, Self::Error> {
        let ids = keys.iter().map(|k| k.0);
        let rows = measure::Entity::find()
            .filter(measure::Column::FindingId.is_in(ids))
            .filter(measure::Column::ArchivedAt.is_null())
            .order_by_asc(measure::Column::FindingId)
            .order_by_asc(measure::Column::Ordinal)
            .all(&self.db)
            .await
            .map_err(failed)?;
        let mut grouped: HashMap<MeasuresOfFinding, Vec<measure::Model>> =
            keys.iter().map(|k| (*k, Vec::new())).collect();
        for m in rows {
            grouped
                .entry(MeasuresOfFinding(m.finding_id))
                .or_default()
                .push(m);
        }
        Ok(grouped)
    }
}
