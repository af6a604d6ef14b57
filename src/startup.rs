//! Building and running the server: one place that opens the database, migrates, loads demo
//! data in development, binds the listener and serves until Ctrl-C or SIGTERM.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use tokio::net::TcpListener;

use crate::auth::keys::Keys;
use crate::config::Config;
use crate::http::state::AppState;
use crate::{db, evidence, graphql, http, live, seed};

pub struct Application {
    listener: TcpListener,
    /// `/metrics` on an address of its own (`RECTRACK_METRICS_BIND`), when set.
    metrics: Option<(TcpListener, axum::Router)>,
    router: axum::Router,
    address: SocketAddr,
    state: AppState,
    /// Connected mode's rounds (`RECTRACK_EXCHANGE_PEERS`), stopped with the server.
    connected: Option<crate::exchange::connected::Running>,
}

impl Application {
    /// Opens the database, applies migrations, loads the demo data when the database is empty
    /// (development only) and binds the listener (port 0 picks a free port).
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        config.validate()?;
        let mut db = db::connect(&config)
            .await
            .with_context(|| "cannot open the database (RECTRACK_DATABASE_URL)")?;
        let sql_statements = db::count_statements(&mut db);
        db::migrate(&db).await.context("migrating the database")?;
        if !config.is_production() && config.demo {
            match seed::load_demo(&db, config.timezone).await {
                Ok(seed::Outcome::Loaded { inspection_id }) => {
                    tracing::info!(inspection_id, "demo data loaded");
                }
                Ok(seed::Outcome::AlreadyPresent { .. }) => {}
                Err(err) => anyhow::bail!("loading demo data failed: {}", err.message()),
            }
        }
        let keys = Arc::new(Keys::load(&config.jwt, config.environment)?);
        // Made at first start, kept beside the data (never in the database).
        let exchange = Arc::new(crate::exchange::identity::Identity::load_or_create(
            &config.data_dir,
        )?);
        let metrics_token = config.metrics_token()?;
        // One registry per server (see crate::metrics).
        let metrics = Arc::new(crate::metrics::Metrics::new());
        let config = Arc::new(config);
        let evidence = evidence::Store::new(
            &config.data_dir,
            config.evidence_max_size,
            &config.evidence_media_types,
        );
        let (rest_routes, openapi) = http::rest::routes(&config);
        let dev_tokens = if keys.ephemeral {
            crate::auth::token::dev_tokens(&keys, &config.jwt)
                .map_err(|e| anyhow::anyhow!("{}", e.message()))?
        } else {
            Vec::new()
        };
        // Webhook deliveries over https use rustls with ring, as the database driver does.
        let _ = rustls::crypto::ring::default_provider().install_default();
        // Background work (the event pump, webhooks, warnings) has a small pool of its own:
        // it never takes a connection a request is waiting for, and its statements are not
        // counted as requests' (the statements-per-request figures).
        // At least two: on PostgreSQL the event listener keeps one for its `LISTEN`, and a
        // pool of one (`--db-max-connections 1`) left the pump and the webhooks none.
        let background = db::connect_sized(&config, config.db_max_connections.clamp(2, 4))
            .await
            .context("opening the background pool")?;
        let bus = live::Bus::start(background.clone(), config.live.events_poll)
            .await
            .map_err(|e| anyhow::anyhow!("reading the event outbox: {}", e.message()))?;
        // Audited writes on PostgreSQL are chained after their commit; what a stopped process
        // left unchained is chained now and every second after.
        if let Err(err) = crate::audit::chain_pending(&background).await {
            tracing::warn!(
                code = err.code(),
                "chaining audit events left waiting failed"
            );
        }
        crate::audit::start_chainer(background.clone());
        live::start(background, config.clone(), &bus, metrics.clone())?;
        if config.backup_dir.is_some() {
            // Its own connection, without the requests' statement time-out: a backup reads
            // each table in one statement, inside one snapshot.
            let mut long = (*config).clone();
            long.request_timeout = std::time::Duration::from_secs(24 * 3600);
            let db = db::connect_sized(&long, 2)
                .await
                .context("opening the backup connection")?;
            crate::backup::schedule::start(db, &config, metrics.clone());
        }
        let documents = graphql::documents::Documents::load(
            config.graphql.graphql_documents.as_deref(),
            config.graphql.graphql_trusted_only,
            &graphql::bounds::Bounds::new(&config.graphql),
        )?;
        if documents.trusted() > 0 {
            tracing::info!(
                trusted = documents.trusted(),
                "trusted GraphQL documents registered"
            );
        }
        let schema = graphql::build_schema(
            db.clone(),
            config.clone(),
            keys.clone(),
            evidence.clone(),
            bus.clone(),
            documents,
            metrics.clone(),
        );
        let state = AppState::new(crate::http::state::State {
            db,
            config: config.clone(),
            keys,
            evidence,
            openapi: Arc::new(openapi),
            sql_statements,
            metrics,
            metrics_token,
            bus,
            schema,
            limits: http::guard::Limits::new(&config),
            sockets: Default::default(),
            departments: Default::default(),
            dev_tokens: Arc::new(dev_tokens),
            exchange,
        });
        // Connected mode: its own connections, without the requests' statement time-out (a
        // bundle is read in one snapshot and merged in one transaction, as on the command
        // line).
        let connected = if config.exchange_peers.is_empty() {
            None
        } else {
            let mut long = (*config).clone();
            long.request_timeout = std::time::Duration::from_secs(24 * 3600);
            let db = db::connect_sized(&long, 2)
                .await
                .context("opening the connected exchange's connection")?;
            crate::exchange::connected::start(
                db,
                &config,
                state.exchange.clone(),
                state.evidence.clone(),
            )?
        };
        let listener = TcpListener::bind(config.bind)
            .await
            .with_context(|| format!("cannot listen on {}", config.bind))?;
        let address = listener.local_addr()?;
        let router = http::router(state.clone(), rest_routes);
        let metrics = match config.metrics_bind {
            Some(bind) => Some((
                TcpListener::bind(bind)
                    .await
                    .with_context(|| format!("cannot listen on {bind} (RECTRACK_METRICS_BIND)"))?,
                http::metrics_router(state.clone()),
            )),
            None => None,
        };
        Ok(Self {
            listener,
            metrics,
            router,
            address,
            state,
            connected,
        })
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }

    pub fn port(&self) -> u16 {
        self.address.port()
    }

    /// Where `/metrics` is served when it has an address of its own.
    pub fn metrics_address(&self) -> Option<SocketAddr> {
        self.metrics
            .as_ref()
            .and_then(|(listener, _)| listener.local_addr().ok())
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until Ctrl-C or SIGTERM, then lets requests in flight finish.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        if let Some((listener, router)) = self.metrics {
            // Ends with the process; a scrape in flight at shutdown may be cut.
            tokio::spawn(async move {
                if let Err(err) = axum::serve(listener, router).await {
                    tracing::error!(error = %err, "the metrics listener stopped");
                }
            });
        }
        // Connected mode's rounds end when serving does.
        let connected = self.connected;
        // The client's address is known to the rate limits.
        let service = self
            .router
            .into_make_service_with_connect_info::<SocketAddr>();
        let served = axum::serve(self.listener, service)
            .with_graceful_shutdown(shutdown_signal())
            .await;
        drop(connected);
        served
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
