//! What the server tells about itself: one log line per request and the
//! Prometheus metrics at `GET /metrics` (requests by route and status,
//! latency histograms, the database pool, the job queue), which only a
//! scraper holding the metrics token may read.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use sha2::{Digest, Sha256};

use crate::AppState;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: String,
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatusLabels {
    status: String,
}

fn latency_histogram() -> Histogram {
    // 1 ms to about 16 s.
    Histogram::new(exponential_buckets(0.001, 2.0, 15))
}

/// The server's metrics, shared by every request.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram, fn() -> Histogram>,
    pool_size: Gauge,
    pool_idle: Gauge,
    jobs: Family<StatusLabels, Gauge>,
    outbox_backlog: Gauge,
    /// SHA-256 of the token a scraper must send; none: `/metrics` is off.
    token_hash: Option<[u8; 32]>,
}

impl Metrics {
    pub fn new(token: Option<&str>) -> Arc<Self> {
        let mut registry = Registry::with_prefix("rapport");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register("http_requests", "HTTP requests answered, by method, route and status", requests.clone());
        let latency = Family::<RouteLabels, Histogram, fn() -> Histogram>::new_with_constructor(latency_histogram);
        registry.register(
            "http_request_duration_seconds",
            "Time to answer a request, by method and route",
            latency.clone(),
        );
        let pool_size = Gauge::default();
        registry.register("db_pool_connections", "Open database connections in this node's pool", pool_size.clone());
        let pool_idle = Gauge::default();
        registry.register(
            "db_pool_idle_connections",
            "Idle database connections in this node's pool",
            pool_idle.clone(),
        );
        let jobs = Family::<StatusLabels, Gauge>::default();
        registry.register("jobs", "Background jobs queued, running and failed (all nodes)", jobs.clone());
        let outbox_backlog = Gauge::default();
        registry.register(
            "mail_outbox_backlog",
            "Outgoing messages waiting to be sent, retries included (all nodes)",
            outbox_backlog.clone(),
        );
        let token_hash = token.filter(|t| !t.is_empty()).map(|t| Sha256::digest(t.as_bytes()).into());
        Arc::new(Metrics { registry, requests, latency, pool_size, pool_idle, jobs, outbox_backlog, token_hash })
    }

    fn record(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let (method, route) = (method.to_owned(), route.to_owned());
        self.requests.get_or_create(&RequestLabels { method: method.clone(), route: route.clone(), status }).inc();
        self.latency.get_or_create(&RouteLabels { method, route }).observe(seconds);
    }

    /// Whether the request carries the metrics token (compared as hashes, in constant time).
    fn admits(&self, headers: &HeaderMap) -> bool {
        let Some(expected) = self.token_hash else { return false };
        let sent = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or("");
        let sent: [u8; 32] = Sha256::digest(sent.as_bytes()).into();
        sent.iter().zip(expected.iter()).fold(0u8, |diff, (a, b)| diff | (a ^ b)) == 0
    }
}

/// `GET /metrics`: the Prometheus text format, for a scraper with the token
/// (`Authorization: Bearer …`); 404 when no token is configured, 401 without it.
pub async fn serve(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let metrics = &state.metrics;
    if metrics.token_hash.is_none() {
        return crate::error::ApiError::NotFound("page").into_response();
    }
    if !metrics.admits(&headers) {
        return crate::error::ApiError::Unauthorized.into_response();
    }
    let (size, idle) = state.store.pool_status();
    metrics.pool_size.set(i64::from(size));
    metrics.pool_idle.set(i64::try_from(idle).unwrap_or(i64::MAX));
    match state.store.job_counts().await {
        Ok(counts) => {
            for (status, count) in [("queued", counts.queued), ("running", counts.running), ("failed", counts.failed)] {
                metrics
                    .jobs
                    .get_or_create(&StatusLabels { status: status.into() })
                    .set(i64::try_from(count).unwrap_or(i64::MAX));
            }
        }
        Err(err) => tracing::error!(error = %err, "counting jobs for the metrics failed"),
    }
    match state.store.outbox_backlog().await {
        Ok(backlog) => {
            metrics.outbox_backlog.set(i64::try_from(backlog).unwrap_or(i64::MAX));
        }
        Err(err) => tracing::error!(error = %err, "counting the outbox for the metrics failed"),
    }
    let mut body = String::new();
    if let Err(err) = prometheus_client::encoding::text::encode(&mut body, &metrics.registry) {
        tracing::error!(error = %err, "encoding the metrics failed");
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
        )],
        body,
    )
        .into_response()
}

/// The route a request matched (`/api/v1/people/{id}`), carried on its
/// response to the request log, which runs outside the router.
#[derive(Clone)]
struct MatchedRoute(String);

pub async fn remember_route(matched: Option<MatchedPath>, request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    if let Some(matched) = matched {
        response.extensions_mut().insert(MatchedRoute(matched.as_str().to_owned()));
    }
    response
}

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// One log line and one metrics observation per request: its id (the
/// client's `X-Request-Id` when it sent a sensible one, else a new one;
/// echoed back), method, route (not the path, which may carry ids), status
/// and time.
pub async fn observe(State(metrics): State<Arc<Metrics>>, request: Request, next: Next) -> Response {
    let id = request
        .headers()
        .get(&REQUEST_ID)
        .and_then(|value| value.to_str().ok())
        .filter(|value| !value.is_empty() && value.len() <= 128 && value.bytes().all(|b| b.is_ascii_graphic()))
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
    let method = request.method().clone();
    let started = Instant::now();
    let mut response = next.run(request).await;
    let seconds = started.elapsed().as_secs_f64();
    let route = response.extensions().get::<MatchedRoute>().map_or("(none)", |route| route.0.as_str()).to_owned();
    let status = response.status().as_u16();
    metrics.record(method.as_str(), &route, status, seconds);
    tracing::info!(
        target: "rapport::request",
        request_id = %id,
        %method,
        %route,
        status,
        ms = (seconds * 100_000.0).round() / 100.0,
        "request"
    );
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    response
}
