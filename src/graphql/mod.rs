//! The GraphQL schema, split by domain and merged here. The server and `rectrack schema` (the
//! SDL export) build it with the same function, so the two cannot drift apart.
//!
//! Resolvers are thin: they turn inputs into domain calls and domain models into API types.
//! Relations between types go through the DataLoaders in [`loaders`].

mod account;
mod department;
mod enums;
mod finding;
mod inspection;
mod loaders;
mod system;

use std::sync::Arc;

use async_graphql::dataloader::DataLoader;
use async_graphql::{Context, EmptySubscription, ID, MergedObject, Schema, SchemaBuilder};
use sea_orm::DatabaseConnection;

use crate::auth::Caller;
use crate::auth::keys::Keys;
use crate::config::Config;
use crate::error::{AppError, AppResult};

#[derive(MergedObject, Default)]
pub struct Query(
    system::SystemQuery,
    account::AccountQuery,
    department::DepartmentQuery,
    finding::FindingQuery,
);

#[derive(MergedObject, Default)]
pub struct Mutation(
    account::AccountMutation,
    inspection::InspectionMutation,
    finding::FindingMutation,
);

pub type AppSchema = Schema<Query, Mutation, EmptySubscription>;

/// The request id of the HTTP request running the operation (for the audit trail).
#[derive(Clone)]
pub struct RequestId(pub String);

/// The one place the schema's types and limits are declared.
fn builder() -> SchemaBuilder<Query, Mutation, EmptySubscription> {
    Schema::build(Query::default(), Mutation::default(), EmptySubscription)
}

/// Builds the executable schema.
pub fn build_schema(db: DatabaseConnection, config: Arc<Config>, keys: Arc<Keys>) -> AppSchema {
    let loader = DataLoader::new(loaders::Loader::new(db.clone()), tokio::spawn);
    builder()
        .data(db)
        .data(config)
        .data(keys)
        .data(loader)
        .finish()
}

/// The SDL of the schema, as `rectrack schema` prints it and `schema.graphql` holds it.
pub fn sdl() -> String {
    builder().finish().sdl()
}

/// What resolvers need from the context.
pub trait ContextExt {
    fn db(&self) -> &DatabaseConnection;
    fn caller(&self) -> &Caller;
    fn request_id(&self) -> Option<String>;
    fn loader(&self) -> &DataLoader<loaders::Loader>;
}

impl ContextExt for Context<'_> {
    fn db(&self) -> &DatabaseConnection {
        self.data_unchecked::<DatabaseConnection>()
    }
    fn caller(&self) -> &Caller {
        // Absent only when the schema runs outside HTTP (e.g. in-process tools): anonymous.
        static ANONYMOUS: Caller = Caller::Anonymous;
        self.data_opt::<Caller>().unwrap_or(&ANONYMOUS)
    }
    fn request_id(&self) -> Option<String> {
        self.data_opt::<RequestId>().map(|r| r.0.clone())
    }
    fn loader(&self) -> &DataLoader<loaders::Loader> {
        self.data_unchecked::<DataLoader<loaders::Loader>>()
    }
}

/// Parses a GraphQL `ID` into a row id, or `BAD_USER_INPUT` naming the field.
pub fn parse_id(field: &str, id: &ID) -> AppResult<i32> {
    id.parse::<i32>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| AppError::bad_input(field, format!("'{}' is not a valid id", id.as_str())))
}
