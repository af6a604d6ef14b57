//! The GraphQL schema, split by domain and merged here. The server and `rectrack schema` (the
//! SDL export) build it with the same function, so the two cannot drift apart.
//!
//! Resolvers are thin: they turn inputs into domain calls and domain models into API types.
//! Relations between types go through the DataLoaders in [`loaders`].

mod account;
mod audit;
pub mod bounds;
mod bulk;
mod bulletin;
pub mod catalogue;
mod caught;
mod cost;
mod department;
pub mod documents;
mod enums;
mod exchange;
mod finding;
mod inputs;
mod inspection;
mod introspection;
mod ledger;
pub mod limits;
mod lists;
mod live;
mod loaders;
mod look_back;
mod measure;
mod progress;
mod public_feedback;
mod regulation;
mod report;
pub mod scalars;
mod stage;
mod summary;
mod supervision;
mod system;
pub mod viewer;
mod warning;
mod webhook;
mod workflow;

use std::sync::Arc;

use async_graphql::dataloader::DataLoader;
use async_graphql::{
    BatchRequest, BatchResponse, Context, Data, Executor, ID, MergedObject, Request, Response,
    Schema, SchemaBuilder, ValidationMode,
};
use sea_orm::{DatabaseConnection, DatabaseTransaction};

use crate::auth::Caller;
use crate::auth::keys::Keys;
use crate::config::Config;
use crate::domain::Acting;
use crate::error::{AppError, AppResult};

#[derive(MergedObject, Default)]
pub struct Query(
    system::SystemQuery,
    account::AccountQuery,
    department::DepartmentQuery,
    inspection::InspectionQuery,
    finding::FindingQuery,
    measure::MeasureQuery,
    regulation::RegulationQuery,
    audit::AuditQuery,
    report::ReportQuery,
    webhook::WebhookQuery,
    supervision::SupervisionQuery,
    public_feedback::PublicFeedbackQuery,
    exchange::ExchangeQuery,
);

#[derive(MergedObject, Default)]
pub struct Mutation(
    account::AccountMutation,
    department::DepartmentMutation,
    inspection::InspectionMutation,
    finding::FindingMutation,
    measure::MeasureMutation,
    stage::StageMutation,
    regulation::RegulationMutation,
    progress::ProgressMutation,
    workflow::WorkflowMutation,
    look_back::LookBackMutation,
    supervision::SupervisionMutation,
    public_feedback::PublicFeedbackMutation,
    report::ReportMutation,
    bulletin::BulletinMutation,
    bulk::BulkMutation,
    ledger::LedgerMutation,
    webhook::WebhookMutation,
    exchange::ExchangeMutation,
);

pub type AppSchema = Schema<Query, Mutation, live::Subscription>;

/// The served schema, in two copies built from the one declaration. The checking copy carries
/// the [`limits::Limits`] extension (limits, strict validation, error codes) and stops before
/// execution; the running copy has no extension, so async-graphql resolves every field and
/// list item on its direct path (with any extension it builds a `ResolveInfo`, looks the field
/// up in the registry and boxes a future per field and per list item).
#[derive(Clone)]
pub struct Served {
    check: AppSchema,
    run: AppSchema,
    documents: Arc<documents::Documents>,
    bounds: bounds::Bounds,
    /// Who introspection is served to ([`introspection`]).
    introspection: crate::config::Introspection,
    /// Whether a misspelt name is answered with the names it may have meant ([`inputs`]).
    suggestions: bool,
    /// How long a query or mutation sent over a socket may take, checks included: the
    /// request timeout HTTP requests have (subscriptions live on; their checks do not).
    timeout: std::time::Duration,
    /// Operations counted and timed by name and type, errors by code.
    metrics: Arc<crate::metrics::Metrics>,
    /// Subscriptions running now (each stream holds one count until dropped).
    subscriptions: Arc<std::sync::atomic::AtomicUsize>,
}

impl Served {
    /// Runs a request or a batch (in order, as async-graphql does).
    pub async fn execute_batch(&self, batch: BatchRequest) -> BatchResponse {
        match batch {
            BatchRequest::Single(request) => BatchResponse::Single(self.execute(request).await),
            BatchRequest::Batch(requests) => {
                let mut answers = Vec::with_capacity(requests.len());
                for request in requests {
                    answers.push(self.execute(request).await);
                }
                BatchResponse::Batch(answers)
            }
        }
    }

    /// Parses once, checks on the checking copy, and runs on the other.
    pub async fn execute(&self, request: Request) -> Response {
        let started = std::time::Instant::now();
        let asked = request.operation_name.clone();
        let identified = introspection::identified(&request.data);
        let mut request = match self.checked(request, identified).await {
            Ok(request) => request,
            Err(refused) => {
                // Refused before it ran: its type is not known (it may not even parse).
                self.observe(asked, "unknown", started, &refused);
                return refused;
            }
        };
        let (name, kind) = operation_of(&mut request);
        // The request's span (its log lines and its trace) names the operation.
        if let Some(name) = &name {
            tracing::Span::current().record("operation", name.as_str());
        }
        let mut response = caught::answer(self.run.execute(request)).await;
        limits::code_errors(&mut response);
        self.observe(name, kind, started, &response);
        response
    }

    /// Subscriptions running now (sampled at `/metrics`).
    pub fn subscriptions_open(&self) -> usize {
        self.subscriptions
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    fn observe(
        &self,
        name: Option<String>,
        kind: &'static str,
        started: std::time::Instant,
        response: &Response,
    ) {
        let label = self.metrics.operation_label(name.as_deref());
        self.metrics.graphql_operation(
            &label,
            kind,
            Some(started.elapsed()),
            response.errors.iter().map(error_code),
        );
    }

    /// Finds the document (a text, or one named by id), parses it once and checks it on the
    /// checking copy once per text and variables ([`documents`]); the request comes back
    /// parsed, ready to run, or the refusal. Introspection is refused to a caller it is not
    /// served to before any check or cached pass (`identified`: the caller has a token).
    async fn checked(&self, mut request: Request, identified: bool) -> Result<Request, Response> {
        self.documents
            .resolve(&mut request)
            .map_err(|refused| Response::from_errors(vec![*refused]))?;
        // Scanned and parsed once per text, measured before anything of the library walks it.
        let document = documents::parsed(&self.documents, &self.bounds, &request.query)
            .await
            .map_err(|refused| Response::from_errors(vec![refused]))?;
        if let Some(refused) = introspection::refused(self.introspection, identified, &document) {
            return Err(refused);
        }
        if let documents::Seen::New(key) = self.documents.seen(&request) {
            // The values, each refused with its own message before the library's validation
            // (which would refuse them in English). Once per text, name and variables, as the
            // other checks: what passed once passes again, whoever sends it.
            let refusals = inputs::check(
                &document,
                request.operation_name.as_deref(),
                &request.variables,
                self.suggestions,
            );
            if !refusals.is_empty() {
                return Err(Response::from_errors(refusals));
            }
            let shape = bounds::measure(&document, &self.bounds)
                .map_err(|refused| Response::from_errors(vec![refused]))?;
            let mut probe = Request::new(String::new())
                .variables(request.variables.clone())
                .data(Arc::new(shape));
            probe.operation_name = request.operation_name.clone();
            probe.set_parsed_query((*document).clone());
            let checked = self.check.execute(probe).await;
            if checked.is_err() {
                return Err(checked);
            }
            if let Some(key) = key {
                self.documents.pass(key);
            }
        }
        request.set_parsed_query((*document).clone());
        Ok(request)
    }
}

/// Operations over a socket (graphql-transport-ws): subscriptions, and queries and mutations
/// sent that way, pass the same checks as over HTTP.
impl Executor for Served {
    async fn execute(&self, request: Request) -> Response {
        Served::execute(self, request).await
    }

    fn execute_stream(
        &self,
        request: Request,
        session_data: Option<Arc<Data>>,
    ) -> futures_util::stream::BoxStream<'static, Response> {
        use futures_util::StreamExt;
        use futures_util::stream;
        let this = self.clone();
        let deadline = tokio::time::Instant::now() + self.timeout;
        stream::once(async move {
            let name = request.operation_name.clone();
            let identified = introspection::identified(&request.data)
                || session_data
                    .as_deref()
                    .is_some_and(introspection::identified);
            let Ok(checked) =
                tokio::time::timeout_at(deadline, this.checked(request, identified)).await
            else {
                return stream::once(async { refusal(timed_out()) }).boxed();
            };
            match checked {
                Ok(mut request) => {
                    let subscription = request.parsed_query().is_ok_and(|document| {
                        document.operations.iter().any(|(op_name, op)| {
                            op.node.ty == async_graphql::parser::types::OperationType::Subscription
                                && (name.is_none()
                                    || op_name.map(|n| n.as_str()) == name.as_deref())
                        })
                    });
                    let mut first = subscription;
                    // Counted as running from here until the stream is dropped; its events'
                    // errors are counted by code as they come.
                    let watch = subscription.then(|| {
                        let (name, kind) = operation_of(&mut request);
                        let label = this.metrics.operation_label(name.as_deref());
                        this.metrics
                            .graphql_operation(&label, kind, None, std::iter::empty());
                        Running::start(&this, label)
                    });
                    let answers = caught::answers(this.run.execute_stream_with_session_data(
                        request,
                        session_data.unwrap_or_default(),
                    ))
                    .map(move |mut response| {
                        limits::code_errors(&mut response);
                        if let Some(watch) = &watch {
                            for error in &response.errors {
                                watch.metrics.graphql_error(
                                    &watch.label,
                                    "subscription",
                                    error_code(error),
                                );
                            }
                        }
                        // A subscription that fails as it starts (an argument refused, no
                        // caller) never ran: the protocol's `error`, not a result.
                        if std::mem::take(&mut first)
                            && response.data == async_graphql::Value::Null
                            && !response.errors.is_empty()
                        {
                            return refusal(response);
                        }
                        response
                    })
                    .boxed();
                    if subscription {
                        return answers;
                    }
                    // A query or mutation answers once, by the deadline.
                    let mut answers = answers;
                    stream::once(async move {
                        match tokio::time::timeout_at(deadline, answers.next()).await {
                            Ok(Some(response)) => response,
                            Ok(None) => Response::new(async_graphql::Value::Null),
                            Err(_) => timed_out(),
                        }
                    })
                    .boxed()
                }
                Err(refused) => stream::once(async move { refusal(refused) }).boxed(),
            }
        })
        .flatten()
        .boxed()
    }
}

/// The operation a parsed request runs: its name (the one asked for, or the document's only
/// operation's) and type. Parsing is done already (`checked`), so this reads, never parses.
fn operation_of(request: &mut Request) -> (Option<String>, &'static str) {
    use async_graphql::parser::types::OperationType;
    let asked = request.operation_name.clone();
    let Ok(document) = request.parsed_query() else {
        return (asked, "unknown");
    };
    let found = document
        .operations
        .iter()
        .find(|(name, _)| asked.is_none() || name.map(|n| n.as_str()) == asked.as_deref());
    let Some((name, op)) = found else {
        return (asked, "unknown");
    };
    let kind = match op.node.ty {
        OperationType::Query => "query",
        OperationType::Mutation => "mutation",
        OperationType::Subscription => "subscription",
    };
    (name.map(|n| n.to_string()), kind)
}

/// An error's `extensions.code` (every answered error has one: `limits::code_errors`).
fn error_code(error: &async_graphql::ServerError) -> &str {
    match error.extensions.as_ref().and_then(|e| e.get("code")) {
        Some(async_graphql::Value::String(code)) => code,
        _ => "UNKNOWN",
    }
}

/// One subscription running, counted in [`Served::subscriptions_open`] until dropped.
struct Running {
    metrics: Arc<crate::metrics::Metrics>,
    label: String,
    count: Arc<std::sync::atomic::AtomicUsize>,
}

impl Running {
    fn start(served: &Served, label: String) -> Self {
        served
            .subscriptions
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Self {
            metrics: served.metrics.clone(),
            label,
            count: served.subscriptions.clone(),
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.count
            .fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
    }
}

/// An operation stopped by the request timeout (the same answer HTTP gives).
fn timed_out() -> Response {
    let error = async_graphql::ServerError::new(t!("timeout"), None);
    Response::from_errors(vec![crate::error::coded(
        error,
        crate::error::codes::TIMEOUT,
    )])
}

/// The response extension that marks an operation refused before it ran; the socket layer
/// sends it as graphql-transport-ws's `error` message (and strips the mark).
pub const REFUSED: &str = "rectrackRefused";

fn refusal(mut response: Response) -> Response {
    response
        .extensions
        .insert(REFUSED.to_owned(), async_graphql::Value::Boolean(true));
    response
}

/// The request asks for a dry run (`Rectrack-Dry-Run: true`): mutations are made and undone.
#[derive(Clone, Copy)]
pub struct DryRun;

/// The request id of the HTTP request running the operation (for the audit trail).
#[derive(Clone)]
pub struct RequestId(pub String);

/// The one place the schema's types and limits are declared.
fn builder() -> SchemaBuilder<Query, Mutation, live::Subscription> {
    Schema::build(Query::default(), Mutation::default(), live::Subscription)
}

/// Builds the served schema with the configured limits.
pub fn build_schema(
    db: DatabaseConnection,
    config: Arc<Config>,
    keys: Arc<Keys>,
    evidence: crate::evidence::Store,
    bus: crate::live::Bus,
    documents: documents::Documents,
    metrics: Arc<crate::metrics::Metrics>,
) -> Served {
    let limits = &config.graphql;
    let bounds = bounds::Bounds::new(limits);
    let check = configured(builder(), &config)
        .extension(limits::Limits::new(limits::Rules {
            bounds,
            max_complexity: limits.graphql_max_complexity,
            introspection: config.introspection() != crate::config::Introspection::Off,
        }))
        .finish();
    let loader = DataLoader::new(loaders::Loader::new(db.clone()), tokio::spawn)
        .delay(limits.dataloader_delay);
    let generation = Arc::new(crate::domain::reads::kept::Generation::new(db.clone()));
    // Every operation it runs has passed the strict rules on the checking copy.
    let run = configured(builder(), &config)
        .validation_mode(ValidationMode::Fast)
        .data(db)
        .data(config.clone())
        .data(keys)
        .data(loader)
        .data(evidence)
        .data(bus)
        .data(Arc::new(live::SharedReads::new(1024)))
        .data(Arc::new(
            crate::domain::gate::login_throttle::Throttle::new(
                crate::domain::gate::login_throttle::Budgets::from_config(&config.jwt),
            ),
        ))
        .data(Arc::new(crate::domain::reads::summary::Cache::new(
            generation.clone(),
        )))
        .data(Arc::new(crate::domain::reads::page::Counts::new(
            generation,
        )))
        .finish();
    Served {
        check,
        run,
        documents: Arc::new(documents),
        bounds,
        introspection: config.introspection(),
        suggestions: !config.is_production(),
        timeout: config.request_timeout,
        metrics,
        subscriptions: Default::default(),
    }
}

/// What both copies share: recursion limit, suggestions and introspection.
fn configured(
    mut builder: SchemaBuilder<Query, Mutation, live::Subscription>,
    config: &Config,
) -> SchemaBuilder<Query, Mutation, live::Subscription> {
    // Rectrack's own pass refuses anything deeper first (`bounds`), so the library's check,
    // which walks every spread again, never decides and never walks a deep document.
    builder = builder.limit_recursive_depth(bounds::Bounds::new(&config.graphql).nesting());
    if config.is_production() {
        // "Did you mean ...?" helps attackers map a schema they may not introspect.
        builder = builder.disable_suggestions();
    }
    if config.introspection() == crate::config::Introspection::Off {
        builder = builder.disable_introspection();
    }
    builder
}

/// The SDL of the schema, as `rectrack schema` prints it and `schema.graphql` holds it.
pub fn sdl() -> String {
    builder()
        .finish()
        .sdl_with_options(async_graphql::SDLExportOptions::new().include_specified_by())
}

/// Runs a domain command for the caller in one write transaction: the change, its ledger
/// entries and audit events commit together, or nothing does.
pub async fn write<T>(
    ctx: &Context<'_>,
    change: impl AsyncFnOnce(&DatabaseTransaction, &Acting) -> AppResult<T>,
) -> AppResult<T> {
    let who = ctx.acting();
    crate::domain::write(ctx.db(), &who, async |txn| change(txn, &who).await).await
}

/// What resolvers need from the context.
pub trait ContextExt {
    fn db(&self) -> &DatabaseConnection;
    fn caller(&self) -> &Caller;
    fn request_id(&self) -> Option<String>;
    /// The caller as domain commands take it.
    fn acting(&self) -> Acting;
    fn loader(&self) -> &DataLoader<loaders::Loader>;
    /// Today's date in the configured time zone (deadlines and overdue flags).
    fn today(&self) -> chrono::NaiveDate;
    /// Today and the early-warning thresholds.
    fn thresholds(&self) -> crate::domain::workflow::warning::Thresholds;
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
    fn acting(&self) -> Acting {
        let zone = self.data_unchecked::<Arc<Config>>().timezone;
        let mut who = Acting::new(self.caller(), self.request_id(), zone);
        who.dry_run = self.data_opt::<DryRun>().is_some();
        who
    }
    fn loader(&self) -> &DataLoader<loaders::Loader> {
        self.data_unchecked::<DataLoader<loaders::Loader>>()
    }
    fn today(&self) -> chrono::NaiveDate {
        self.data_unchecked::<Arc<Config>>().timezone.today()
    }
    fn thresholds(&self) -> crate::domain::workflow::warning::Thresholds {
        crate::domain::workflow::warning::Thresholds::from_config(
            self.data_unchecked::<Arc<Config>>(),
        )
    }
}

/// Parses an optional `ID`.
pub fn parse_opt_id(field: &str, id: Option<&ID>) -> AppResult<Option<i32>> {
    id.map(|id| parse_id(field, id)).transpose()
}

/// A list argument's values as the domain's (none given: none).
pub fn converted<T, U: From<T>>(values: Option<Vec<T>>) -> Vec<U> {
    values
        .unwrap_or_default()
        .into_iter()
        .map(Into::into)
        .collect()
}

/// `MaybeUndefined` as the domain's patch value: absent, cleared, or set.
pub fn patch<T, U: From<T>>(value: async_graphql::MaybeUndefined<T>) -> Option<Option<U>> {
    match value {
        async_graphql::MaybeUndefined::Undefined => None,
        async_graphql::MaybeUndefined::Null => Some(None),
        async_graphql::MaybeUndefined::Value(v) => Some(Some(v.into())),
    }
}

pub use crate::domain::reads::finding_list::overdue_days;

/// The `ID` of a row.
pub fn id(row: i32) -> ID {
    ID(row.to_string())
}

/// What every versioned record says of its `version`.
pub const VERSION: &str = "Version for optimistic locking: pass it back with an update or archive; a stale version fails with CONFLICT.";

/// The row id behind an `ID` the server itself handed out.
pub fn row(id: &ID) -> i32 {
    id.parse().unwrap_or_default()
}

/// Parses a GraphQL `ID` into a row id, or `BAD_USER_INPUT` naming the field.
pub fn parse_id(field: &str, id: &ID) -> AppResult<i32> {
    id.parse::<i32>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| AppError::bad_input(field, t!("id-invalid", id = id.as_str())))
}

/// A lookup's answer: the record, or null when it does not exist or lies outside the caller's
/// reach (the two are indistinguishable); other errors pass through.
pub fn found<M, T: From<M>>(result: AppResult<M>) -> async_graphql::Result<Option<T>> {
    match result {
        Ok(model) => Ok(Some(model.into())),
        Err(AppError::NotFound(_)) => Ok(None),
        Err(err) => Err(err.into()),
    }
}
