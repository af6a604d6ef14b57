//! Facts about the server itself.

use async_graphql::Context;

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

impl catalogue::Root for SystemQuery {
    const NAME: &'static str = "SystemQuery";

    fn fields(f: &mut catalogue::Roots) {
        f.field(
            "serverInfo",
            "The server's version and database engine.",
            (),
            |ctx, ()| Box::pin(async move { Ok(Self::server_info(ctx).await) }),
        );
    }
}

crate::root!(SystemQuery);

impl SystemQuery {
    async fn server_info(ctx: &Context<'_>) -> ServerInfo {
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
