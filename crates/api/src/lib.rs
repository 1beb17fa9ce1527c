//! Rapport's JSON API under /api/v1 and its OpenAPI document, and what
//! every door into the server shares: the application state, sign-in
//! (sessions and tokens), request extractors, and the one mapping of errors
//! to HTTP. The pages (`rapport-pages`) use these too; `rapport-server`
//! puts both behind the layers every response passes through.

mod auth_cache;
pub mod download;
pub mod endpoints;
pub mod error;
pub mod extract;
pub mod imports;
pub mod limiter;
pub mod metrics;
mod openapi_doc;
pub mod shape;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::header;
use axum::routing::get;
use rapport_reports::Insights;
use rapport_storage::Store;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_swagger_ui::SwaggerUi;

use crate::auth_cache::AuthCache;
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
    pub link_limiter: Arc<limiter::LinkLimiter>,
    /// Staff scorecards computed lately, kept a few minutes.
    pub scorecards: Arc<rapport_reports::scorecards::ScorecardCache>,
}

impl AppState {
    /// What every request sees; `insights`, `imports`, `job_waker` and
    /// `metrics` are shared with this node's background jobs.
    pub fn new(
        store: Store,
        config: ServerConfig,
        insights: Arc<Insights>,
        imports: Arc<ImportJobs>,
        job_waker: Arc<tokio::sync::Notify>,
        metrics: Arc<metrics::Metrics>,
    ) -> Self {
        AppState {
            limiter: Arc::new(LoginLimiter::new(store.clone())),
            store,
            config: Arc::new(config),
            auth_cache: Arc::new(AuthCache::default()),
            insights,
            imports,
            job_waker,
            metrics,
            link_limiter: Arc::default(),
            scorecards: Arc::default(),
        }
    }
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
        endpoints::insights::ChurnKind,
        rapport_reports::ChurnGrouping,
        rapport_storage::TicketQueue,
        rapport_domain::time_input::DateOrDateTime,
        rapport_domain::time_input::DateOrEmpty,
        rapport_domain::IdOrEmpty
    ))
)]
struct ApiDoc;

/// The JSON API, its OpenAPI document at `/api/v1/openapi.json`, and
/// Swagger UI over it at `/api/docs`.
pub fn routes() -> Router<AppState> {
    let (api, spec) = api_router().split_for_parts();
    // Kept as the JSON text it is only ever sent as, not as a tree of values.
    let document = axum::body::Bytes::from(
        serde_json::to_vec(&openapi_doc::finish(&spec)).expect("the OpenAPI document serializes"),
    );
    api.route(
        "/api/v1/openapi.json",
        get(move || std::future::ready(([(header::CONTENT_TYPE, "application/json")], document.clone()))),
    )
    .merge(SwaggerUi::new("/api/docs").config(utoipa_swagger_ui::Config::from("/api/v1/openapi.json")))
}

fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(endpoints::session::routes())
        .merge(endpoints::records::routes())
        .merge(endpoints::admin::routes())
        .merge(endpoints::views::routes())
        .merge(endpoints::insights::routes())
        .merge(endpoints::export::routes())
        .merge(endpoints::duplicates::routes())
        .merge(endpoints::merge::routes())
        .merge(endpoints::trash::routes())
        .merge(endpoints::imports::routes())
        .merge(endpoints::tickets::routes())
        .merge(endpoints::ticket_bulk::routes())
        .merge(endpoints::bulk::routes())
        .merge(endpoints::mail::routes())
        .merge(endpoints::sla_report::routes())
        .merge(endpoints::sales::routes())
        .merge(endpoints::jobs::routes())
        .merge(endpoints::surveys::routes())
        .merge(endpoints::feedback::routes())
        .merge(endpoints::style::routes())
        .merge(endpoints::style_goals::routes())
        .merge(endpoints::style_feedback::routes())
}
