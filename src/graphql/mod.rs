//! The GraphQL schema, split by domain and merged here. The server and `rectrack schema` (the
//! SDL export) build it with the same function, so the two cannot drift apart.

mod system;

use std::sync::Arc;

use async_graphql::{EmptyMutation, EmptySubscription, MergedObject, Schema, SchemaBuilder};
use sea_orm::DatabaseConnection;

use crate::config::Config;

#[derive(MergedObject, Default)]
pub struct Query(system::SystemQuery);

pub type AppSchema = Schema<Query, EmptyMutation, EmptySubscription>;

/// The one place the schema's types and limits are declared.
fn builder() -> SchemaBuilder<Query, EmptyMutation, EmptySubscription> {
    Schema::build(Query::default(), EmptyMutation, EmptySubscription)
}

/// Builds the executable schema.
pub fn build_schema(db: DatabaseConnection, config: Arc<Config>) -> AppSchema {
    builder().data(db).data(config).finish()
}

/// The SDL of the schema, as `rectrack schema` prints it and `schema.graphql` holds it.
pub fn sdl() -> String {
    builder().finish().sdl()
}
