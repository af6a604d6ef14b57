//! Facts about the server itself.

use async_graphql::{Context, Object};

use super::catalogue::{self, Fields};
use sea_orm::{DatabaseConnection, DbBackend};

#[derive(Default)]
pub struct SystemQuery;

/// What this server is (服务器信息).
pub struct ServerInfo {
    /// rectrack's version.
    pub version: String,
    /// The database engine in use: `SQLITE` or `POSTGRESQL`.
    pub database: String,
}

impl catalogue::Object for ServerInfo {
    const NAME: &'static str = "ServerInfo";
    const DOC: &'static str = "What this server is (服务器信息).";

    fn fields(f: &mut Fields<Self>) {
        f.value("version", "rectrack's version.", |r, _| r.version.clone());
        f.value(
            "database",
            "The database engine in use: `SQLITE` or `POSTGRESQL`.",
            |r, _| r.database.clone(),
        );
    }
}

crate::object!(ServerInfo);

#[Object]
impl SystemQuery {
    /// The server's version and database engine.
    async fn server_info(&self, ctx: &Context<'_>) -> ServerInfo {
        let database = match ctx
            .data_unchecked::<DatabaseConnection>()
            .get_database_backend()
        {
            DbBackend::Postgres => "POSTGRESQL",
            _ => "SQLITE",
        };
        ServerInfo {
            version: env!("CARGO_PKG_VERSION").to_owned(),
            database: database.to_owned(),
        }
    }
}
