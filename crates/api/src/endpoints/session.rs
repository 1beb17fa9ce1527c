//! Signing in and out, and API tokens.

use std::net::SocketAddr;

use axum::Json;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rapport_domain::TokenId;
use rapport_domain::records::{ApiToken, User};
use rapport_domain::text::Name;
use rapport_storage::{Credentials, LoginOutcome};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{Items, parse_id};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, Auth, NoParams, Params, session_cookie};
use crate::{AppState, SESSION_COOKIE, SESSION_LIFETIME};

#[derive(Deserialize, utoipa::ToSchema)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct SessionBody {
    pub user: User,
}

/// The client address, when the server was started with connection info.
pub struct ClientAddr(pub Option<std::net::IpAddr>);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientAddr(parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|info| info.0.ip())))
    }
}

pub(crate) fn session_set_cookie(secret: &str, secure: bool) -> HeaderValue {
    let mut cookie = format!(
        "{SESSION_COOKIE}={secret}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}",
        SESSION_LIFETIME.whole_seconds()
    );
    if secure {
        cookie.push_str("; Secure");
    }
    HeaderValue::from_str(&cookie).expect("session secrets are URL-safe")
}

/// Behind a TLS-terminating proxy the request arrives as http but was https.
pub(crate) fn is_https(headers: &HeaderMap, always: bool) -> bool {
    always || headers.get("x-forwarded-proto").and_then(|v| v.to_str().ok()) == Some("https")
}

/// Signs in with email and password; sets the session cookie.
#[utoipa::path(post, path = "/api/v1/session", tag = "session", request_body = LoginRequest,
    responses((status = 200, body = SessionBody), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 429, body = ErrorBody)))]
pub async fn login(
    State(state): State<AppState>,
    ClientAddr(addr): ClientAddr,
    headers: HeaderMap,
    ApiJson(request): ApiJson<LoginRequest>,
) -> Result<Response, ApiError> {
    let (user, cookie) = sign_in(&state, addr, &headers, request).await?;
    let mut response = Json(SessionBody { user }).into_response();
    response.headers_mut().insert(header::SET_COOKIE, cookie);
    Ok(response)
}

/// Checks email and password under the failed-login limit and opens a
/// session: the user and the `Set-Cookie` value. The API and the login page share it.
pub async fn sign_in(
    state: &AppState,
    addr: Option<std::net::IpAddr>,
    headers: &HeaderMap,
    request: LoginRequest,
) -> Result<(User, HeaderValue), ApiError> {
    let account = request.email.trim().to_lowercase();
    state.limiter.check(&account, addr).await?;
    let credentials = Credentials { email: request.email, password: request.password };
    match state.store.verify_login(&credentials).await? {
        LoginOutcome::Valid(user) => {
            state.limiter.succeeded(&account).await?;
            let secret = state.store.create_session(user.id, SESSION_LIFETIME).await?;
            Ok((user, session_set_cookie(&secret, is_https(headers, state.config.secure_cookies))))
        }
        LoginOutcome::Invalid => {
            let delay = state.limiter.failed(&account, addr).await?;
            tokio::time::sleep(delay).await;
            Err(ApiError::InvalidCredentials)
        }
    }
}

/// Ends the request's session, if any, and answers the cookie that clears it.
pub async fn sign_out(state: &AppState, parts: &Parts) -> Result<HeaderValue, ApiError> {
    if let Some(secret) = session_cookie(parts) {
        state.store.end_session(&secret).await?;
        state.auth_cache.clear();
    }
    let clear = format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0");
    Ok(HeaderValue::from_str(&clear).expect("a valid cookie"))
}

/// The signed-in user.
#[utoipa::path(get, path = "/api/v1/session", tag = "session",
    responses((status = 200, body = SessionBody), (status = 401, body = ErrorBody)))]
pub async fn current(auth: Auth) -> Json<SessionBody> {
    Json(SessionBody { user: auth.user })
}

/// Signs out: ends the session and clears the cookie.
#[utoipa::path(delete, path = "/api/v1/session", tag = "session", responses((status = 204)))]
pub async fn logout(State(state): State<AppState>, request: axum::extract::Request) -> Result<Response, ApiError> {
    let (parts, _) = request.into_parts();
    let clear = sign_out(&state, &parts).await?;
    let mut response = StatusCode::NO_CONTENT.into_response();
    response.headers_mut().insert(header::SET_COOKIE, clear);
    Ok(response)
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct TokenRequest {
    /// What the token is for, e.g. "nightly export".
    pub name: Name,
    /// Days until the token stops working; never, when absent.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 3650)]
    pub expires_in_days: Option<u32>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct NewTokenBody {
    /// The secret: shown this once, never again. Send it as `Authorization: Bearer ...`.
    pub token: String,
    pub api_token: ApiToken,
}

/// Creates an API token for the signed-in user.
#[utoipa::path(post, path = "/api/v1/tokens", tag = "tokens", request_body = TokenRequest,
    responses((status = 201, body = NewTokenBody), (status = 422, body = ErrorBody)))]
pub async fn create_token(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(request): ApiJson<TokenRequest>,
) -> Result<(StatusCode, Json<NewTokenBody>), ApiError> {
    if request.expires_in_days.is_some_and(|d| !(1..=3650).contains(&d)) {
        return Err(ApiError::field("expires_in_days", "must be between 1 and 3650"));
    }
    let created = state.store.create_token(auth.user.id, request.name, request.expires_in_days).await?;
    Ok((StatusCode::CREATED, Json(NewTokenBody { token: created.secret, api_token: created.token })))
}

/// The signed-in user's tokens (never their secrets).
#[utoipa::path(get, path = "/api/v1/tokens", tag = "tokens",
    responses((status = 200, body = Items<ApiToken>), (status = 422, body = ErrorBody)))]
pub async fn list_tokens(
    State(state): State<AppState>,
    auth: Auth,
    _params: Params<NoParams>,
) -> Result<Json<Items<ApiToken>>, ApiError> {
    Ok(Json(Items { items: state.store.list_tokens(Some(auth.user.id)).await? }))
}

/// Revokes a token at once.
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "tokens", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn revoke_token(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id: TokenId = parse_id(&id, "token")?;
    state.store.revoke_token(&auth.actor, id).await?;
    state.auth_cache.clear();
    Ok(StatusCode::NO_CONTENT)
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(login, current, logout))
        .routes(routes!(create_token, list_tokens))
        .routes(routes!(revoke_token))
}
