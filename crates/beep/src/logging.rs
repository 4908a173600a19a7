//! Structured logs: one JSON object per line with `level`, `timestamp`, `service`
//! (the role that logged), `container_id` (this node), `message` and the event's own
//! fields (access-log and audit-log fields among them).

use std::fmt;

use serde_json::{Map, Value};
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

/// Formats each event as one JSON line.
pub struct JsonLines {
    container_id: String,
}

/// The role a log line belongs to, from the crate that emitted it (an explicit
/// `service` field on the event wins).
fn service_of(target: &str) -> &'static str {
    let krate = target.split("::").next().unwrap_or_default();
    match krate {
        "beep_http" => "api",
        "beep_gateway" => "gateway",
        "beep_voice" => "voice",
        "beep_store" => "store",
        "beep_core" => "core",
        _ => "beep",
    }
}

struct Fields(Map<String, Value>);

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0.insert(
            field.name().to_string(),
            Value::String(format!("{value:?}")),
        );
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0
            .insert(field.name().to_string(), Value::String(value.to_string()));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(field.name().to_string(), Value::from(value));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().to_string(), Value::from(value));
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.0.insert(field.name().to_string(), Value::from(value));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(field.name().to_string(), Value::from(value));
    }
}

impl<S, N> FormatEvent<S, N> for JsonLines
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        _ctx: &FmtContext<'_, S, N>,
        mut w: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let meta = event.metadata();
        let mut fields = Fields(Map::new());
        event.record(&mut fields);
        let mut obj = Map::new();
        obj.insert(
            "level".into(),
            Value::from(meta.level().as_str().to_ascii_lowercase()),
        );
        obj.insert(
            "timestamp".into(),
            Value::from(chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)),
        );
        let service = fields
            .0
            .remove("service")
            .unwrap_or_else(|| Value::from(service_of(meta.target())));
        obj.insert("service".into(), service);
        obj.insert(
            "container_id".into(),
            Value::from(self.container_id.clone()),
        );
        obj.insert(
            "message".into(),
            fields.0.remove("message").unwrap_or(Value::from("")),
        );
        obj.insert("target".into(), Value::from(meta.target()));
        obj.extend(fields.0);
        let line = serde_json::to_string(&Value::Object(obj)).map_err(|_| fmt::Error)?;
        w.write_str(&line)?;
        w.write_char('\n')
    }
}

/// Handle on the trace exporter, flushed on shutdown.
pub struct Telemetry {
    provider: Option<opentelemetry_sdk::trace::SdkTracerProvider>,
}

impl Telemetry {
    /// Export the spans still buffered and stop the exporter.
    pub fn shutdown(self) {
        if let Some(p) = self.provider
            && let Err(e) = p.shutdown()
        {
            tracing::warn!(error = %e, "trace exporter did not shut down cleanly");
        }
    }
}

/// Build the OTLP/HTTP trace pipeline for `endpoint` (e.g. `http://collector:4318`).
fn otel_provider(
    endpoint: &str,
    container_id: &str,
) -> anyhow::Result<opentelemetry_sdk::trace::SdkTracerProvider> {
    use opentelemetry_otlp::{WithExportConfig, WithHttpConfig};
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_endpoint(format!("{}/v1/traces", endpoint.trim_end_matches('/')))
        .with_timeout(std::time::Duration::from_secs(5))
        .with_headers(Default::default())
        .build()?;
    let resource = opentelemetry_sdk::Resource::builder()
        .with_service_name("beep")
        .with_attribute(opentelemetry::KeyValue::new(
            "service.instance.id",
            container_id.to_string(),
        ))
        .with_attribute(opentelemetry::KeyValue::new(
            "service.version",
            env!("CARGO_PKG_VERSION"),
        ))
        .build();
    Ok(opentelemetry_sdk::trace::SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(resource)
        .build())
}

/// Install the global subscriber: JSON (or pretty) lines on stdout, and spans
/// exported over OTLP/HTTP when `otel_endpoint` is set.
pub fn init(
    level: &str,
    format: &str,
    container_id: &str,
    otel_endpoint: &str,
) -> anyhow::Result<Telemetry> {
    use opentelemetry::trace::TracerProvider as _;
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;

    let filter = EnvFilter::try_new(level)
        .map_err(|e| anyhow::anyhow!("invalid log.level `{level}`: {e}"))?;
    let provider = if otel_endpoint.is_empty() {
        None
    } else {
        Some(otel_provider(otel_endpoint, container_id)?)
    };
    let otel = provider
        .as_ref()
        .map(|p| tracing_opentelemetry::layer().with_tracer(p.tracer("beep")));
    let (json, pretty) = if format == "pretty" {
        (
            None,
            Some(tracing_subscriber::fmt::layer().with_writer(std::io::stdout)),
        )
    } else {
        let layer = tracing_subscriber::fmt::layer()
            .with_writer(std::io::stdout)
            .event_format(JsonLines {
                container_id: container_id.to_string(),
            });
        (Some(layer), None)
    };
    // A second init (tests start several servers in one process) keeps the first.
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(json)
        .with(pretty)
        .with(otel)
        .try_init();
    Ok(Telemetry { provider })
}

/// This node's name in logs: configured, else the host name, else `beep`.
pub fn container_id(configured: &str) -> String {
    if !configured.is_empty() {
        return configured.to_string();
    }
    std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| {
            std::fs::read_to_string("/etc/hostname")
                .ok()
                .map(|h| h.trim().to_string())
        })
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "beep".into())
}
