//! Exchange between instances (报送 across networks): the peers this instance trades signed
//! bundles with, and the exchange log. The rules are `domain::integration::exchange`'s.

use async_graphql::{Context, Result};
use entity::{exchange_log, exchange_peer};

use super::catalogue::{self, Conn, Fields};
use super::loaders::DepartmentById;
use super::scalars::Time;
use super::{ContextExt, VERSION, id, write};
use crate::domain::integration::exchange::{self as rules, NewPeer};
use crate::domain::reads::page::PageArgs;

/// Another rectrack instance this one exchanges signed bundles with, for one unit: at the
/// office, a unit's own instance; at a unit, the office's.
#[derive(Clone)]
pub struct ExchangePeer(pub exchange_peer::Model);

impl From<exchange_peer::Model> for ExchangePeer {
    fn from(p: exchange_peer::Model) -> Self {
        Self(p)
    }
}

impl catalogue::Object for ExchangePeer {
    const NAME: &'static str = "ExchangePeer";
    const DOC: &'static str = "Another rectrack instance this one exchanges signed bundles with, for one unit: at the\noffice, a unit's own instance; at a unit, the office's.";

    fn fields(f: &mut Fields<Self>) {
        f.value("id", "Opaque identifier.", |p, _| id(p.0.id));
        f.value(
            "instanceId",
            "The peer's instance id (`rectrack exchange identity` there).",
            |p, _| p.0.instance_id.clone(),
        );
        f.value(
            "publicKey",
            "The peer's Ed25519 public key (base64): bundles from it are checked against it.",
            |p, _| p.0.public_key.clone(),
        );
        f.value("name", "What people call it.", |p, _| p.0.name.clone());
        f.one(
            "unit",
            "The unit whose records are exchanged with it.",
            |p, _, _| Some(DepartmentById(p.0.department_id)),
        );
        f.value(
            "sentSequence",
            "The number of the last bundle written for it (0: none yet).",
            |p, _| p.0.sent_sequence,
        );
        f.value(
            "ackedSequence",
            "The number of the last bundle it acknowledged (0: none yet).",
            |p, _| p.0.acked_sequence,
        );
        f.value("createdAt", "When it was registered.", |p, _| {
            Time(p.0.created_at)
        });
        f.value("version", VERSION, |p, _| p.0.version);
    }
}

crate::object!(ExchangePeer);

/// One bundle written or read: what, when, by whom, with what result.
#[derive(Clone)]
pub struct ExchangeLogEntry(pub exchange_log::Model);

impl From<exchange_log::Model> for ExchangeLogEntry {
    fn from(l: exchange_log::Model) -> Self {
        Self(l)
    }
}

impl catalogue::Object for ExchangeLogEntry {
    const NAME: &'static str = "ExchangeLogEntry";
    const DOC: &'static str = "One bundle written or read: what, when, by whom, with what result.";

    fn fields(f: &mut Fields<Self>) {
        f.value("id", "Opaque identifier.", |l, _| id(l.0.id));
        f.value("peerId", "The peer's id, when known.", |l, _| {
            l.0.peer_id.map(id)
        });
        f.value(
            "direction",
            "`export` (written here) or `import` (read here); in connected mode `push` (an attempt to deliver a bundle to the peer) or `pull` (an attempt to take one from it).",
            |l, _| l.0.direction.clone(),
        );
        f.value("sequence", "The bundle's number.", |l, _| l.0.sequence);
        f.value("bundleSha256", "The SHA-256 of the bundle file.", |l, _| {
            l.0.bundle_sha256.clone()
        });
        f.value(
            "result",
            "`written`, `merged`, `duplicate` or `refused`; for `push` and `pull`, `delivered` or `failed`.",
            |l, _| l.0.result.clone(),
        );
        f.value(
            "code",
            "The error code of a refusal or a failed attempt.",
            |l, _| l.0.code.clone(),
        );
        f.value(
            "detail",
            "What was refused or what happened, in words.",
            |l, _| l.0.detail.clone(),
        );
        f.value("actor", "Who did it (token subject).", |l, _| {
            l.0.actor_sub.clone()
        });
        f.value("createdAt", "When.", |l, _| Time(l.0.created_at));
    }
}

crate::object!(ExchangeLogEntry);

#[derive(Default)]
pub struct ExchangeQuery;

impl catalogue::Root for ExchangeQuery {
    const NAME: &'static str = "ExchangeQuery";

    fn fields(f: &mut catalogue::Roots) {
        f.field(
            "exchangePeers",
            "The registered exchange peers, newest first (administrators).",
            catalogue::Pages,
            |ctx, pages| Box::pin(Self::exchange_peers(ctx, pages)),
        )
        .cost(catalogue::page_cost);
        f.field(
            "exchangeLog",
            "What was exchanged, when, by whom, with what result, newest first: administrators all\n\
            of it, a unit's managers their unit's.",
            catalogue::Pages,
            |ctx, pages| {
                Box::pin(Self::exchange_log(ctx, pages))
            },
        )
        .cost(catalogue::page_cost);
    }
}

crate::root!(ExchangeQuery);

impl ExchangeQuery {
    async fn exchange_peers(ctx: &Context<'_>, pages: PageArgs) -> Result<Conn<ExchangePeer>> {
        let page = rules::list(ctx.db(), &ctx.acting(), &pages).await?;
        Ok(Conn::of(page))
    }

    async fn exchange_log(ctx: &Context<'_>, pages: PageArgs) -> Result<Conn<ExchangeLogEntry>> {
        let page = rules::log_page(ctx.db(), &ctx.acting(), &pages).await?;
        Ok(Conn::of(page))
    }
}

#[derive(Default)]
pub struct ExchangeMutation;

impl catalogue::Root for ExchangeMutation {
    const NAME: &'static str = "ExchangeMutation";

    fn fields(f: &mut catalogue::Roots) {
        use catalogue::param;
        f.field(
            "registerExchangePeer",
            "Registers another instance as an exchange peer for a unit (administrators): its\n\
            instance id and public key as `rectrack exchange identity` prints them there.",
            (
                param::<String>("unitCode"),
                param::<String>("instanceId"),
                param::<String>("publicKey"),
                param::<String>("name"),
            ),
            |ctx, (unit_code, instance_id, public_key, name)| {
                Box::pin(Self::register_exchange_peer(
                    ctx,
                    unit_code,
                    instance_id,
                    public_key,
                    name,
                ))
            },
        );
    }
}

crate::root!(ExchangeMutation);

impl ExchangeMutation {
    async fn register_exchange_peer(
        ctx: &Context<'_>,
        unit_code: String,
        instance_id: String,
        public_key: String,
        name: String,
    ) -> Result<ExchangePeer> {
        let new = NewPeer {
            unit_code,
            instance_id,
            public_key,
            name,
        };
        let peer = write(ctx, async |txn, who| rules::register(txn, who, new).await).await?;
        Ok(peer.into())
    }
}
