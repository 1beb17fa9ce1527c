//! Data out, for admins: one record type as CSV, or the whole database as the
//! JSON archive `rapport import archive` reads. Both stream: the export runs
//! in a task of its own, writing into a pipe the response body reads from.

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use rapport_storage::{ArchiveError, RecordKind};
use tokio::io::DuplexStream;
use tokio::sync::oneshot;
use tokio_util::io::ReaderStream;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::Auth;

/// Bytes in flight between the export and the response.
const PIPE: usize = 64 * 1024;

/// Every record of one type as CSV: a header row, one row per record, lists
/// joined with "; ", money in major units with a currency column, one
/// `cf.<key>` column per custom field.
#[utoipa::path(get, path = "/api/v1/export/{type}", tag = "export",
    params(("type" = RecordKind, Path, description = "people, companies, deals, activities, tasks, purchases or tickets")),
    responses((status = 200, content_type = "text/csv; charset=utf-8", body = String),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn export_csv(
    State(state): State<AppState>,
    auth: Auth,
    Path(kind): Path<String>,
) -> Result<Response, ApiError> {
    auth.actor.ensure_admin().map_err(|d| ApiError::Forbidden(d.to_string()))?;
    let kind = RecordKind::parse(&kind).map_err(|e| ApiError::field("type", e))?;
    let store = state.store.clone();
    let body = stream(move |pipe| async move { store.export_csv(kind, pipe).await.map(|_| ()) });
    let disposition = format!("attachment; filename=\"rapport-{kind}.csv\"");
    Ok(([(CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()), (CONTENT_DISPOSITION, disposition)], body)
        .into_response())
}

/// The whole database as a JSON archive (`{"format": "rapport-archive", ...}`).
#[utoipa::path(get, path = "/api/v1/export", tag = "export",
    responses((status = 200, content_type = "application/json", body = Object),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn export_archive(State(state): State<AppState>, auth: Auth) -> Result<Response, ApiError> {
    auth.actor.ensure_admin().map_err(|d| ApiError::Forbidden(d.to_string()))?;
    let store = state.store.clone();
    let body = stream(move |pipe| async move { store.export_archive(pipe).await });
    let disposition = "attachment; filename=\"rapport-archive.json\"";
    Ok(([(CONTENT_TYPE, "application/json"), (CONTENT_DISPOSITION, disposition)], body).into_response())
}

/// A body fed by `export` as it writes. If the export fails half way, the
/// body ends in an error, so the client sees a broken download rather than
/// a short file that looks whole.
fn stream<F, Fut>(export: F) -> Body
where
    F: FnOnce(DuplexStream) -> Fut,
    Fut: Future<Output = Result<(), ArchiveError>> + Send + 'static,
{
    let (writer, reader) = tokio::io::duplex(PIPE);
    let (done, outcome) = oneshot::channel();
    let running = export(writer);
    tokio::spawn(async move {
        let result = running.await;
        match &result {
            // The pipe closed: the client went away.
            Err(ArchiveError::Io(err)) => tracing::info!(error = %err, "export stopped"),
            Err(err) => tracing::error!(error = %err, "export failed"),
            Ok(()) => {}
        }
        // The client may have gone: nobody is left to tell.
        let _ = done.send(result.is_ok());
    });
    let failed = futures::stream::once(async move {
        match outcome.await {
            Ok(true) => None,
            _ => Some(Err::<Bytes, _>(std::io::Error::other("the export failed"))),
        }
    })
    .filter_map(std::future::ready);
    Body::from_stream(ReaderStream::new(reader).chain(failed))
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(export_csv)).routes(routes!(export_archive))
}
