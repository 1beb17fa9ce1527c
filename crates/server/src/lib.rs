//! Rapport's HTTP server: the JSON API under /api/v1 with its OpenAPI
//! document, the web pages, health checks, and the layers every response
//! passes through.

pub mod api;
mod auth_cache;
mod download;
mod drain;
pub mod error;
pub mod extract;
pub mod imports;
mod limiter;
pub mod metrics;
mod openapi_doc;
pub mod shape;
mod survey_links;
pub mod web;

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use rapport_reports::Insights;
use rapport_storage::Store;
use tower_http::compression::CompressionLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_swagger_ui::SwaggerUi;

use crate::auth_cache::AuthCache;
use crate::error::ApiError;
use crate::imports::ImportJobs;
use crate::limiter::LoginLimiter;

/// Requests larger than this are refused with 413.
pub const BODY_LIMIT: usize = 1024 * 1024;
pub const SESSION_COOKIE: &str = "rapport_session";
pub const SESSION_LIFETIME: time::Duration = time::Duration::days(14);

#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// Mark cookies `Secure` even without `X-Forwarded-Proto: https`.
    pub secure_cookies: bool,
    /// What the insights are computed with.
    pub insights: rapport_reports::Settings,
    /// How often the insights job checks whether the data changed.
    pub insights_poll: Duration,
    /// How long deleted records stay in the trash before the purge job removes them.
    pub trash_retention: time::Duration,
    /// How long a solved ticket waits for the customer before it is closed.
    pub close_solved_after: time::Duration,
    /// How this node runs background jobs.
    pub jobs: rapport_jobs::RunnerSettings,
    /// The bearer token `GET /metrics` asks for; without one, `/metrics` is off.
    pub metrics_token: Option<String>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            secure_cookies: false,
            insights: rapport_reports::Settings::default(),
            insights_poll: Duration::from_secs(5),
            trash_retention: time::Duration::days(30),
            close_solved_after: time::Duration::days(7),
            jobs: rapport_jobs::RunnerSettings::default(),
            metrics_token: None,
        }
    }
}

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub config: Arc<ServerConfig>,
    pub limiter: Arc<LoginLimiter>,
    pub auth_cache: Arc<AuthCache>,
    /// The latest insights, kept current by the insights job.
    pub insights: Arc<Insights>,
    /// Uploads and import jobs.
    pub imports: Arc<ImportJobs>,
    /// Wakes this node's job workers when a request adds a job.
    pub job_waker: Arc<tokio::sync::Notify>,
    pub metrics: Arc<metrics::Metrics>,
    /// Per-address limits of the public survey pages.
    pub link_limiter: Arc<survey_links::LinkLimiter>,
    /// Staff scorecards computed lately, kept a few minutes.
    pub scorecards: Arc<rapport_reports::scorecards::ScorecardCache>,
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Rapport API",
        description = "The JSON API of Rapport, a self-hosted CRM. Authenticate with the session cookie from POST /api/v1/session, or `Authorization: Bearer <token>`."
    ),
    // Enums that only query parameters name: no body pulls them in, so they
    // are listed here for the parameters' references to resolve.
    components(schemas(
        error::ErrorBody,
        rapport_domain::surveys::NpsGroup,
        api::insights::ChurnKind,
        rapport_reports::ChurnGrouping,
        rapport_storage::TicketQueue,
        rapport_domain::time_input::DateOrDateTime,
        rapport_domain::time_input::DateOrEmpty,
        rapport_domain::IdOrEmpty
    ))
)]
struct ApiDoc;

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
        // The fallback runs outside the pages' router and its CSP layer.
        let mut response = web::WebError::NotFound("page").into_response();
        response.headers_mut().insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(web::PAGE_CSP));
        response
    }
}

/// Tells the client how long the server worked on a response
/// (`Server-Timing: app;dur=1.23`, in milliseconds), for browsers' developer
/// tools and the page benchmark.
async fn server_timing(request: axum::extract::Request, next: axum::middleware::Next) -> axum::response::Response {
    let started = std::time::Instant::now();
    let mut response = next.run(request).await;
    let millis = started.elapsed().as_secs_f64() * 1000.0;
    if let Ok(value) = HeaderValue::from_str(&format!("app;dur={millis:.2}")) {
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

fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(api::session::routes())
        .merge(api::records::routes())
        .merge(api::admin::routes())
        .merge(api::views::routes())
        .merge(api::insights::routes())
        .merge(api::export::routes())
        .merge(api::duplicates::routes())
        .merge(api::merge::routes())
        .merge(api::trash::routes())
        .merge(api::imports::routes())
        .merge(api::tickets::routes())
        .merge(api::ticket_bulk::routes())
        .merge(api::bulk::routes())
        .merge(api::mail::routes())
        .merge(api::sla_report::routes())
        .merge(api::sales::routes())
        .merge(api::jobs::routes())
        .merge(api::surveys::routes())
        .merge(api::feedback::routes())
        .merge(api::style::routes())
        .merge(api::style_goals::routes())
        .merge(api::style_feedback::routes())
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
    let state = AppState {
        metrics: Arc::clone(&metrics),
        imports: Arc::clone(&imports),
        job_waker,
        store: store.clone(),
        config: Arc::new(config),
        limiter: Arc::new(LoginLimiter::new(store.clone())),
        auth_cache: Arc::new(AuthCache::default()),
        insights: Arc::clone(&insights),
        link_limiter: Arc::default(),
        scorecards: Arc::default(),
    };
    let (api, spec) = api_router().split_for_parts();
    // Kept as the JSON text it is only ever sent as, not as a tree of values.
    let document = axum::body::Bytes::from(
        serde_json::to_vec(&openapi_doc::finish(&spec)).expect("the OpenAPI document serializes"),
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
    let pages = web::routes().merge(survey_links::routes(state.clone())).layer(SetResponseHeaderLayer::overriding(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(web::PAGE_CSP),
    ));
    let mut app = Router::new()
        .merge(api)
        .merge(pages)
        .route(
            "/api/v1/openapi.json",
            get(move || std::future::ready(([(header::CONTENT_TYPE, "application/json")], document.clone()))),
        )
        .merge(SwaggerUi::new("/api/docs").config(utoipa_swagger_ui::Config::from("/api/v1/openapi.json")))
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

/// Serves until the process is asked to stop (Ctrl-C or SIGTERM).
pub async fn serve(listener: tokio::net::TcpListener, store: Store, config: ServerConfig) -> std::io::Result<()> {
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
            shutdown_signal().await;
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
            Err(err) => {
                tracing::warn!(error = %err, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
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
