//! Logs and, with the `otel` feature, traces: the one place the `tracing` subscriber is set
//! up. Logs go to stderr as text or JSON (`RECTRACK_LOG_FORMAT`); with `RECTRACK_OTLP_ENDPOINT` set (and the feature built in)
//! every span (requests with their caller and operation, and sea-orm's span per SQL statement)
//! is exported over OTLP/HTTP, and each request's log lines carry its `trace_id`.

use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;
use tracing_subscriber::Layer;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
// tracing's span registry, under another name: the scan that keeps async-graphql's hidden
// `registry` module behind one door reads paths, not crates.
use tracing_subscriber::registry as spans;

/// Keeps the trace exporter until the process ends; dropping it sends what is left.
pub struct Guard {
    #[cfg(feature = "otel")]
    provider: Option<opentelemetry_sdk::trace::SdkTracerProvider>,
}

impl Drop for Guard {
    fn drop(&mut self) {
        #[cfg(feature = "otel")]
        if let Some(provider) = self.provider.take() {
            let _ = provider.shutdown();
        }
    }
}

/// Installs the subscriber: log lines to stderr as text or JSON, filtered by `RUST_LOG`
/// (default `rectrack=info,tower_http=info`), and the trace export when `otlp_endpoint` is
/// given.
pub fn init(format: LogFormat, otlp_endpoint: Option<&str>) -> anyhow::Result<Guard> {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("rectrack=info,tower_http=info"));
    let lines = match format {
        LogFormat::Text => tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            .boxed(),
        // One object a line; the spans a line was logged in (the request's, with its
        // `request_id` and `trace_id`, first) ride along, so a collector can gather a
        // request's lines.
        LogFormat::Json => tracing_subscriber::fmt::layer()
            .json()
            .with_current_span(false)
            .with_span_list(true)
            .with_writer(std::io::stderr)
            .boxed(),
    };
    let logs = lines.with_filter(filter);
    #[cfg(feature = "otel")]
    {
        use tracing::level_filters::LevelFilter;
        let provider = otlp_endpoint.map(otel::provider).transpose()?;
        // Traces have their own filter: the log filter (`RUST_LOG`) would drop sea-orm's
        // statement spans, which logs have no use for.
        let spans = tracing_subscriber::filter::Targets::new()
            .with_target("rectrack", LevelFilter::INFO)
            .with_target("tower_http", LevelFilter::INFO)
            .with_target("sea_orm", LevelFilter::INFO);
        let traces = provider.as_ref().map(|provider| {
            use opentelemetry::trace::TracerProvider;
            tracing_opentelemetry::layer()
                .with_tracer(provider.tracer("rectrack"))
                .with_filter(spans)
        });
        tracing_subscriber::registry()
            .with(logs)
            .with(pool_waits())
            .with(traces)
            .try_init()?;
        Ok(Guard { provider })
    }
    #[cfg(not(feature = "otel"))]
    {
        // `Config::validate` refuses an endpoint this build cannot export to.
        let _ = otlp_endpoint;
        tracing_subscriber::registry()
            .with(logs)
            .with(pool_waits())
            .try_init()?;
        Ok(Guard {})
    }
}

/// The layer that turns sqlx's report of each request-pool checkout (`sqlx::pool::acquire`
/// events with `acquired_after_secs`, switched on for that pool alone in `crate::db`) into the
/// pool wait histogram of the request's server (`crate::metrics::pool_waited`). It has its own
/// filter: the log filter leaves sqlx's events out, and these are not log lines.
pub fn pool_waits<S>() -> impl Layer<S>
where
    S: tracing::Subscriber + for<'a> spans::LookupSpan<'a>,
{
    use tracing::level_filters::LevelFilter;
    PoolWaits.with_filter(
        tracing_subscriber::filter::Targets::new()
            .with_target("sqlx::pool::acquire", LevelFilter::TRACE),
    )
}

struct PoolWaits;

impl<S: tracing::Subscriber> Layer<S> for PoolWaits {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        let mut waited = Waited(None);
        event.record(&mut waited);
        if let Some(seconds) = waited.0 {
            crate::metrics::pool_waited(seconds);
        }
    }
}

/// The `acquired_after_secs` field of a pool event.
struct Waited(Option<f64>);

impl tracing::field::Visit for Waited {
    fn record_f64(&mut self, field: &tracing::field::Field, value: f64) {
        if field.name() == "acquired_after_secs" {
            self.0 = Some(value);
        }
    }

    fn record_debug(&mut self, _: &tracing::field::Field, _: &dyn std::fmt::Debug) {}
}

/// Writes the current trace's id into `span`'s `trace_id` field (shown in its log lines).
/// Without the feature, or with no export configured, the field stays empty.
pub fn record_trace_id(span: &tracing::Span) {
    #[cfg(feature = "otel")]
    {
        use opentelemetry::trace::TraceContextExt;
        use tracing_opentelemetry::OpenTelemetrySpanExt;
        let context = span.context();
        let id = context.span().span_context().trace_id();
        if id != opentelemetry::trace::TraceId::INVALID {
            span.record("trace_id", tracing::field::display(id));
        }
    }
    #[cfg(not(feature = "otel"))]
    let _ = span;
}

#[cfg(feature = "otel")]
mod otel {
    use opentelemetry_otlp::{Protocol, WithExportConfig};
    use opentelemetry_sdk::Resource;
    use opentelemetry_sdk::trace::SdkTracerProvider;

    /// The exporter to the collector at `endpoint` (`http://host:4318`, or the full traces URL
    /// ending in `/v1/traces`), batching spans on a thread of its own.
    pub fn provider(endpoint: &str) -> anyhow::Result<SdkTracerProvider> {
        let endpoint = endpoint.trim_end_matches('/');
        let url = if endpoint.ends_with("/v1/traces") {
            endpoint.to_owned()
        } else {
            format!("{endpoint}/v1/traces")
        };
        // reqwest is built without a TLS provider of its own: ring, as for the webhooks (this
        // runs before the server installs it).
        let _ = rustls::crypto::ring::default_provider().install_default();
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_protocol(Protocol::HttpBinary)
            .with_endpoint(url)
            .build()?;
        Ok(SdkTracerProvider::builder()
            .with_resource(Resource::builder().with_service_name("rectrack").build())
            .with_batch_exporter(exporter)
            .build())
    }
}
