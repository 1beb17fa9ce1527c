//! Background jobs through the API: every job, for admins (the jobs page's
//! list); one job, retry and cancel, for admins and whoever started the job.
//! Non-admins follow their imports through `/api/v1/imports`. Storage
//! decides who may see or change a job (others get 404) and which status
//! allows a retry or a cancel (otherwise 409).

use axum::Json;
use axum::extract::{Path, State};
use rapport_domain::JobId;
use rapport_domain::jobs::{Job, JobStatus};
use rapport_jobs::KINDS;
use rapport_storage::JobFilter;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::parse_id;
use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{Auth, Params};

const DEFAULT_LIMIT: u64 = 50;
const MAX_LIMIT: u64 = 200;

/// The query parameters of the job list.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct JobsQuery {
    /// Only jobs in this status: queued, running, done, failed or cancelled.
    #[param(value_type = Option<JobStatus>)]
    status: Option<String>,
    #[param(schema_with = kind_schema)]
    kind: Option<String>,
    /// Jobs per page (1–200, default 50).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<u64>,
    /// The `next_cursor` of the previous page: only jobs created before this job.
    #[param(pattern = "^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})?$")]
    before: Option<String>,
    /// `true` to also get `total`, how many jobs match (all pages together).
    count: Option<bool>,
}

/// A job kind, or empty for any.
fn kind_schema() -> utoipa::openapi::schema::Object {
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(std::iter::once("").chain(KINDS)))
        .description(Some("Only jobs of this kind."))
        .build()
}

/// One page of jobs, newest first.
#[derive(Serialize, utoipa::ToSchema)]
pub struct JobPage {
    pub items: Vec<Job>,
    /// Pass as `before` for the next page; null on the last page.
    pub next_cursor: Option<String>,
    /// With `count=true` only: how many jobs match the filters, all pages together.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total: Option<u64>,
}

/// What a list request asks for, checked. `Params` has refused any other
/// parameter, and serde a parameter given twice, naming it.
fn filter(query: JobsQuery) -> Result<JobFilter, ApiError> {
    let given = |value: Option<String>| value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
    let status =
        given(query.status).map(|s| JobStatus::parse(&s)).transpose().map_err(|e| ApiError::field("status", e))?;
    let kind = given(query.kind)
        .map(|kind| match KINDS.contains(&kind.as_str()) {
            true => Ok(kind),
            false => Err(ApiError::field("kind", format!("must be one of {}", KINDS.join(", ")))),
        })
        .transpose()?;
    let limit = match query.limit {
        None => DEFAULT_LIMIT,
        Some(limit) if (1..=MAX_LIMIT).contains(&limit) => limit,
        Some(_) => return Err(ApiError::field("limit", format!("must be between 1 and {MAX_LIMIT}"))),
    };
    let before = given(query.before)
        .map(|b| b.parse::<Uuid>().map(JobId).map_err(|_| ApiError::field("before", "is not a job id")))
        .transpose()?;
    Ok(JobFilter { status, kind, created_by: None, before, limit })
}

/// Every background job, newest first: imports, the insights refresh, the
/// hourly trash purge and job pruning. Admins only (403 for anyone else;
/// everyone sees their own imports at `/api/v1/imports`). Jobs that finished
/// (done or cancelled) more than a week ago are pruned; failed jobs stay
/// until retried or cancelled. An unknown parameter or a bad value answers
/// 422 naming it.
#[utoipa::path(get, path = "/api/v1/jobs", tag = "jobs", params(JobsQuery),
    responses((status = 200, body = JobPage), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn list_jobs(
    State(state): State<AppState>,
    auth: Auth,
    Params(query): Params<JobsQuery>,
) -> Result<Json<JobPage>, ApiError> {
    auth.actor.ensure_admin().map_err(|_| {
        ApiError::Forbidden("only an admin may list every job; your imports are at /api/v1/imports".into())
    })?;
    let count = query.count.unwrap_or(false);
    let mut filter = filter(query)?;
    let limit = filter.limit;
    // One more than asked: whether there is a next page.
    filter.limit = limit + 1;
    let (mut items, total) = match count {
        true => {
            let (items, total) = state.store.list_jobs_counted(Some(&auth.actor), &filter).await?;
            (items, Some(total))
        }
        false => (state.store.list_jobs(Some(&auth.actor), &filter).await?, None),
    };
    let more = items.len() as u64 > limit;
    items.truncate(limit as usize);
    let next_cursor = more.then(|| items.last().map(|job| job.id.to_string())).flatten();
    Ok(Json(JobPage { items, next_cursor, total }))
}

/// One job, with its payload, progress, result and last error. Only an
/// admin or whoever started the job sees it (404 for anyone else).
#[utoipa::path(get, path = "/api/v1/jobs/{id}", tag = "jobs", params(("id" = String, Path)),
    responses((status = 200, body = Job), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_job(State(state): State<AppState>, auth: Auth, Path(id): Path<String>) -> Result<Json<Job>, ApiError> {
    let id: Uuid = parse_id(&id, "job")?;
    Ok(Json(state.store.job(Some(&auth.actor), JobId(id)).await?))
}

/// Runs a failed or cancelled job again from the start, with all its
/// attempts: it is queued at once and a worker picks it up. An admin or
/// whoever started the job may; 409 for a job in another status (queued,
/// running or done), 404 for a job the caller may not see.
#[utoipa::path(post, path = "/api/v1/jobs/{id}/retry", tag = "jobs", params(("id" = String, Path)),
    responses((status = 200, body = Job), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
pub async fn retry_job(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Job>, ApiError> {
    let id: Uuid = parse_id(&id, "job")?;
    let job = state.store.retry_job(Some(&auth.actor), JobId(id)).await?;
    state.job_waker.notify_one();
    Ok(Json(job))
}

/// Cancels a queued, running or failed job. A running job stops when its
/// worker next renews its lease (within a third of `job_lease_seconds`). An
/// admin or whoever started the job may; 409 for a job that is done or
/// cancelled already, 404 for a job the caller may not see.
#[utoipa::path(post, path = "/api/v1/jobs/{id}/cancel", tag = "jobs", params(("id" = String, Path)),
    responses((status = 200, body = Job), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
pub async fn cancel_job(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Job>, ApiError> {
    let id: Uuid = parse_id(&id, "job")?;
    Ok(Json(state.store.cancel_job(Some(&auth.actor), JobId(id)).await?))
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_jobs))
        .routes(routes!(get_job))
        .routes(routes!(retry_job))
        .routes(routes!(cancel_job))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A query string checked as the list's extractor and `filter` check it.
    fn filter(raw: &str) -> Result<JobFilter, ApiError> {
        super::filter(Params::<JobsQuery>::parse(raw)?.0)
    }

    fn field_of(raw: &str) -> String {
        match filter(raw) {
            Err(ApiError::Validation(fields)) => serde_json::to_value(&fields).unwrap().to_string(),
            other => panic!("{raw}: not a validation error: {other:?}"),
        }
    }

    #[test]
    fn parameters_are_checked_and_named() {
        let all = filter("").unwrap();
        assert_eq!((all.status, all.kind, all.limit, all.before), (None, None, DEFAULT_LIMIT, None));
        let some = filter("status=failed&kind=import&limit=7").unwrap();
        assert_eq!((some.status, some.kind.as_deref(), some.limit), (Some(JobStatus::Failed), Some("import"), 7));
        assert!(filter("status=&kind=").unwrap().status.is_none(), "empty values are left out");
        assert!(field_of("status=bogus").contains("status"));
        assert!(field_of("kind=mail").contains("kind"));
        assert!(field_of("limit=0").contains("limit"));
        assert!(field_of("limit=201").contains("limit"));
        assert!(field_of("limit=ten").contains("limit"));
        assert!(field_of("before=nope").contains("before"));
        assert!(field_of("statuss=failed").contains("statuss"));
        assert!(field_of("kind=import&kind=jobs.prune").contains("kind"));
    }
}
