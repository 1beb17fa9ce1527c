//! Rapport's HTTP server: the JSON API (`rapport-api`) and the web pages
//! (`rapport-pages`) behind the layers every response passes through, health
//! checks, and this node's background jobs.

mod drain;

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use rapport_api::error::ApiError;
use rapport_api::imports::ImportJobs;
use rapport_api::{AppState, BODY_LIMIT, metrics};
use rapport_reports::Insights;
use rapport_storage::Store;
use tower_http::compression::CompressionLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

pub use rapport_api::{SESSION_COOKIE, ServerConfig, imports};

/// Liveness: answers 200 while the process serves requests, whatever the
/// database does (a restart would not bring the database back).
async fn healthz() -> impl IntoResponse {
    Json(serde_json::json!({"status": "ok"}))
}

/// Readiness: 200 when the database answers and its schema is this build's,
/// so a load balancer sends requests only to nodes that can serve them.
async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    let unavailable = |status: &str| (StatusCode::SERVICE_UNAVAILABLE, Json(serde_json::json!({"status": status})));
    match state.store.pending_migrations().await {
        Ok(0) => (StatusCode::OK, Json(serde_json::json!({"status": "ready"}))),
        Ok(pending) => {
            tracing::warn!(pending, "not ready: the database schema is behind this build");
            unavailable("migrations pending")
        }
        Err(err) => {
            tracing::error!(error = %err, "readiness check failed");
            unavailable("database unavailable")
        }
    }
}

/// Unknown API paths answer JSON; anything else is a page that does not exist.
async fn not_found(uri: axum::http::Uri) -> axum::response::Response {
    if uri.path().starts_with("/api/") {
        ApiError::NotFound("page").into_response()
    } else {
        rapport_pages::not_found()
    }
}

/// Tells the client how long the server worked on a response
/// (`Server-Timing: app;dur=1.234`, in milliseconds to the microsecond), for browsers' developer
/// tools and the page benchmark.
async fn server_timing(request: axum::extract::Request, next: axum::middleware::Next) -> axum::response::Response {
    let started = std::time::Instant::now();
    let mut response = next.run(request).await;
    let millis = started.elapsed().as_secs_f64() * 1000.0;
    if let Ok(value) = HeaderValue::from_str(&format!("app;dur={millis:.3}")) {
        response.headers_mut().insert(HeaderName::from_static("server-timing"), value);
    }
    response
}

/// Refuses unsafe requests sent by a page of another site: browsers name the
/// page's origin, and it must be this host. (Requests without `Origin`, from
/// API clients and the CLI, pass: they carry no ambient cookie risk.)
async fn refuse_cross_origin(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    if !request.method().is_safe()
        && let Some(origin) = request.headers().get(header::ORIGIN)
    {
        let origin_host = origin.to_str().ok().and_then(|o| o.split_once("://")).map(|(_, host)| host);
        let host = request.headers().get(header::HOST).and_then(|h| h.to_str().ok());
        if origin_host.is_none() || origin_host != host {
            return ApiError::Forbidden("this request came from another site".into()).into_response();
        }
    }
    next.run(request).await
}

/// How long a request may take before it is answered 503.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// File uploads take as long as the client needs to send the file, up to this.
const UPLOAD_TIMEOUT: Duration = Duration::from_secs(3600);
const UPLOAD_PATHS: &[&str] = &["/api/v1/imports", "/api/v1/imports/preview", "/import"];

async fn time_limit(request: axum::extract::Request, next: axum::middleware::Next) -> axum::response::Response {
    let limit = if request.method() == Method::POST && UPLOAD_PATHS.contains(&request.uri().path()) {
        UPLOAD_TIMEOUT
    } else {
        REQUEST_TIMEOUT
    };
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => StatusCode::SERVICE_UNAVAILABLE.into_response(),
    }
}

async fn method_not_allowed() -> impl IntoResponse {
    let body =
        serde_json::json!({"error": {"code": "method_not_allowed", "message": "this method is not allowed here"}});
    (StatusCode::METHOD_NOT_ALLOWED, Json(body))
}

/// The application: its routes, and what its background jobs work on.
pub struct App {
    pub router: Router,
    pub insights: Arc<Insights>,
    pub imports: Arc<ImportJobs>,
    /// This node's job runner, until [`App::start_jobs`] starts it.
    runner: Option<rapport_jobs::Runner>,
}

/// The routes over `store`; no background job runs yet (see [`App::start_jobs`]).
pub fn app(store: Store, config: ServerConfig) -> App {
    let insights = Insights::new(store.clone(), config.insights);
    let runner = rapport_jobs::standard(
        store.clone(),
        config.jobs.clone(),
        rapport_jobs::Standard {
            insights: Arc::clone(&insights),
            trash_retention: config.trash_retention,
            close_solved_after: config.close_solved_after,
        },
    );
    let job_waker = runner.waker();
    let imports = ImportJobs::new(store.clone(), Arc::clone(&job_waker), runner.live_progress());
    let metrics = metrics::Metrics::new(config.metrics_token.as_deref());
    let state = AppState::new(
        store.clone(),
        config,
        Arc::clone(&insights),
        Arc::clone(&imports),
        job_waker,
        Arc::clone(&metrics),
    );
    let security_headers = [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        // Not "no-referrer": with it, browsers send `Origin: null` on form posts,
        // and the cross-origin check could not tell our own pages from others.
        (header::REFERRER_POLICY, "same-origin"),
        (HeaderName::from_static("cross-origin-opener-policy"), "same-origin"),
        (
            header::CONTENT_SECURITY_POLICY,
            // Only our own assets; Swagger UI sets some styles inline.
            "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'",
        ),
    ];
    let mut app = Router::new()
        .merge(rapport_api::routes())
        .merge(rapport_pages::routes(state.clone()))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics::serve))
        .route_layer(axum::middleware::from_fn(metrics::remember_route))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(axum::middleware::from_fn(refuse_cross_origin))
        .layer(axum::middleware::from_fn(server_timing))
        .layer(CompressionLayer::new())
        .layer(axum::middleware::from_fn(time_limit))
        .layer(TraceLayer::new_for_http())
        .layer(axum::middleware::from_fn_with_state(metrics, metrics::observe));
    for (name, value) in security_headers {
        app = app.layer(SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value)));
    }
    App { router: app, insights, imports, runner: Some(runner) }
}

/// The routes alone, without background jobs (benchmarks serve these).
pub fn router(store: Store, config: ServerConfig) -> Router {
    app(store, config).router
}

/// This node's background work: its job runner and its insights check.
/// Dropping it stops both at once; [`Jobs::shutdown`] gives running jobs back first.
pub struct Jobs {
    runner: Option<rapport_jobs::RunningJobs>,
    insights: tokio::task::JoinHandle<()>,
}

impl Jobs {
    /// Stops claiming jobs and gives the running ones back to the queue.
    pub async fn shutdown(mut self) {
        self.insights.abort();
        if let Some(runner) = self.runner.take() {
            runner.shutdown().await;
        }
    }
}

impl Drop for Jobs {
    fn drop(&mut self) {
        self.insights.abort();
    }
}

impl App {
    /// Starts this node's job workers (imports, the insights refresh, the
    /// hourly trash purge and pruning) and its check of the stored insights
    /// every `insights_poll`. Only the first call starts the workers.
    pub fn start_jobs(&mut self, insights_poll: Duration) -> Jobs {
        Jobs {
            runner: self.runner.take().map(rapport_jobs::Runner::start),
            insights: self.insights.start(insights_poll),
        }
    }
}

/// mimalloc.h's `mi_option_purge_delay`, which libmimalloc-sys has no
/// constant for: milliseconds before freed pages are purged, 0 at once.
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Has mimalloc, the global allocator of the binaries that serve, give freed
/// memory back to the kernel at once rather than a second later. Its delayed
/// returns run only when the allocator is called again after the delay, so
/// a server going idle after a burst (the first insights run, a load) kept
/// what the burst freed: 27 MB of anonymous memory idle with 100,000
/// people, 11 MB with this (docs/PERFORMANCE.md, "Freed memory returned at
/// once"). Call it once, early; it does nothing where mimalloc is linked but
/// not the global allocator.
pub fn return_freed_memory_at_once() {
    // SAFETY: sets one of mimalloc's options, which it reads each time it
    // purges; no memory is touched.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 0) };
}

/// Serves until the process is asked to stop (Ctrl-C or SIGTERM).
pub async fn serve(
    listener: tokio::net::TcpListener,
    store: Store,
    config: ServerConfig,
    shutdown: ShutdownSignal,
) -> std::io::Result<()> {
    tokio::spawn(refresh_statistics_hourly(store.clone()));
    let poll = config.insights_poll;
    let mut app = app(store, config);
    let jobs = app.start_jobs(poll);
    // See `drain`: refuse new connections, close each open one after its next
    // response, then shut down what is left.
    let drain = drain::Drain::new();
    let router = app.router.layer(axum::middleware::from_fn_with_state(drain.clone(), drain::close_when_draining));
    // `tap_io` (doing nothing) only lends the wrapped listener axum's
    // `Connected` impl for `SocketAddr`, which the client-address extractor needs.
    let listener = axum::serve::ListenerExt::tap_io(drain.listener(listener), |_| {});
    let served = axum::serve(listener, router.into_make_service_with_connect_info::<std::net::SocketAddr>())
        .with_graceful_shutdown(async move {
            shutdown.received().await;
            drain.start();
            drain.closed(drain::DRAIN_GRACE).await;
        })
        .await;
    // Jobs running here go back to the queue for another node, or for this one's next start.
    jobs.shutdown().await;
    served
}

/// Keeps SQLite's planner statistics current as the data grows.
async fn refresh_statistics_hourly(store: Store) {
    let mut hourly = tokio::time::interval(Duration::from_secs(3600));
    hourly.tick().await;
    loop {
        hourly.tick().await;
        if let Err(err) = store.refresh_statistics().await {
            tracing::error!(error = %err, "refreshing planner statistics failed");
        }
    }
}

/// Ctrl-C and SIGTERM, listened for from the moment this is made.
///
/// Made before the node says it is listening: until a handler is installed,
/// SIGTERM kills the process outright, jobs and requests and all.
pub struct ShutdownSignal {
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
}

impl ShutdownSignal {
    /// Installs the handlers; needs a Tokio runtime.
    pub fn listen() -> std::io::Result<ShutdownSignal> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(ShutdownSignal {
                terminate: signal(SignalKind::terminate())?,
                interrupt: signal(SignalKind::interrupt())?,
            })
        }
        #[cfg(not(unix))]
        Ok(ShutdownSignal {})
    }

    async fn received(mut self) {
        #[cfg(unix)]
        tokio::select! {
            _ = self.terminate.recv() => {},
            _ = self.interrupt.recv() => {},
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
        tracing::info!("shutting down");
    }
}

#[cfg(test)]
mod tests {
    /// The option number is mimalloc's purge delay, whose default is 1,000 ms
    /// (the options beside it default to 1 and 0), and setting it takes.
    #[test]
    fn freed_memory_is_returned_at_once() {
        // SAFETY: reads one of mimalloc's options.
        let purge_delay = || unsafe { libmimalloc_sys::mi_option_get(super::MI_OPTION_PURGE_DELAY) };
        assert_eq!(purge_delay(), 1000);
        super::return_freed_memory_at_once();
        assert_eq!(purge_delay(), 0);
    }
}
