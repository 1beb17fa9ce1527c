//! Settings → Jobs (admins only): the background jobs newest first, by
//! status (with how many are queued, running and failed) and kind, each
//! with its attempts, times, who started it and its last error in full, and
//! Retry / Cancel buttons where the job's status allows them. The buttons
//! call the same storage methods as the API's retry and cancel.

use std::collections::HashMap;

use askama::Template;
use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::response::Response;
use axum::routing::{get, post};
use rapport_domain::jobs::{Job, JobStatus};
use rapport_domain::records::now;
use rapport_domain::{JobId, UserId};
use rapport_storage::{JobFilter, StorageError};
use time::OffsetDateTime;
use uuid::Uuid;

use super::form::FormData;
use super::lists::Choice;
use super::numbers::filters;
use super::settings::{Stamp, Tab, tabs};
use super::{Chrome, Signed, WebError, format, redirect_with_flash};
use rapport_api::AppState;
use rapport_jobs::KINDS;

/// Jobs per page.
const PAGE: u64 = 50;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/jobs", get(list))
        .route("/jobs/{id}/retry", post(retry))
        .route("/jobs/{id}/cancel", post(cancel))
}

/// A kind as people read it.
fn kind_label(kind: &str) -> String {
    match kind {
        "import" => "Import".into(),
        "insights.refresh" => "Insights refresh".into(),
        "trash.purge" => "Trash purge".into(),
        "jobs.prune" => "Job cleanup".into(),
        other => other.to_owned(),
    }
}

fn ensure_admin(signed: &Signed) -> Result<(), WebError> {
    signed
        .actor
        .ensure_admin()
        .map_err(|_| WebError::Forbidden("Only an admin can see and manage the background jobs.".into()))
}

/// Which jobs the page shows: its query string, checked.
#[derive(Clone, Debug, Default)]
struct Shown {
    status: Option<JobStatus>,
    kind: Option<&'static str>,
    before: Option<Uuid>,
}

impl Shown {
    fn parse(raw: &str) -> Result<Shown, String> {
        let mut shown = Shown::default();
        for (key, value) in form_urlencoded::parse(raw.as_bytes()) {
            match (key.as_ref(), value.trim()) {
                (_, "") => {}
                ("status", value) => shown.status = Some(JobStatus::parse(value).map_err(|m| format!("status {m}"))?),
                ("kind", value) => {
                    shown.kind = Some(
                        KINDS
                            .into_iter()
                            .find(|kind| *kind == value)
                            .ok_or_else(|| format!("kind must be one of {}", KINDS.join(", ")))?,
                    )
                }
                ("before", value) => {
                    shown.before = Some(value.parse().map_err(|_| "before is not a job id".to_owned())?)
                }
                _ => {}
            }
        }
        Ok(shown)
    }

    /// The page's address with this status and kind (and `before`, when asked).
    fn href(&self, status: Option<JobStatus>, before: Option<Uuid>) -> String {
        let mut query = form_urlencoded::Serializer::new(String::new());
        if let Some(status) = status {
            query.append_pair("status", status.as_str());
        }
        if let Some(kind) = self.kind {
            query.append_pair("kind", kind);
        }
        if let Some(before) = before {
            query.append_pair("before", &before.to_string());
        }
        match query.finish() {
            query if query.is_empty() => "/jobs".into(),
            query => format!("/jobs?{query}"),
        }
    }

    /// This very page's address.
    fn here(&self) -> String {
        self.href(self.status, self.before)
    }
}

/// One status tab above the table.
pub struct StatusTab {
    pub href: String,
    pub label: &'static str,
    /// Queued, running and failed show how many there are.
    pub count: Option<u64>,
    pub current: bool,
}

/// One job as the table shows it.
pub struct JobLine {
    pub id: Uuid,
    pub kind: String,
    pub kind_label: String,
    /// An import's page, where its progress and report are.
    pub href: Option<String>,
    /// The imported file's name, or what a finished job did.
    pub detail: String,
    pub status: JobStatus,
    pub badge: &'static str,
    pub attempts: i32,
    pub max_attempts: i32,
    pub created: Stamp,
    pub created_ago: String,
    pub started: Option<Stamp>,
    pub finished: Option<Stamp>,
    /// A queued job waiting for a later time (a retry's backoff).
    pub waits_until: Option<Stamp>,
    /// The node running it.
    pub node: Option<String>,
    pub who: String,
    /// The last error, line by line.
    pub error: Vec<String>,
    pub can_retry: bool,
    pub can_cancel: bool,
}

fn badge(status: JobStatus) -> &'static str {
    match status {
        JobStatus::Queued => "",
        JobStatus::Running => "accent",
        JobStatus::Done => "ok",
        JobStatus::Failed => "danger",
        JobStatus::Cancelled => "warn",
    }
}

/// "purged: 3, uploads: 0": a small result's plain values.
fn summary(result: Option<&serde_json::Value>) -> String {
    let Some(serde_json::Value::Object(fields)) = result else { return String::new() };
    fields
        .iter()
        .filter(|(_, value)| value.is_number() || value.is_boolean() || value.is_string())
        .map(|(key, value)| match value {
            serde_json::Value::String(text) => format!("{key}: {text}"),
            other => format!("{key}: {other}"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

impl JobLine {
    fn new(job: &Job, names: &HashMap<UserId, String>, now: OffsetDateTime) -> Self {
        let import = job.kind == rapport_jobs::imports::KIND;
        let detail = if import {
            job.payload.get("file_name").and_then(|name| name.as_str()).unwrap_or_default().to_owned()
        } else if job.status == JobStatus::Done {
            summary(job.result.as_ref())
        } else {
            String::new()
        };
        JobLine {
            id: job.id.0,
            kind: job.kind.clone(),
            kind_label: kind_label(&job.kind),
            href: import.then(|| format!("/import/jobs/{}", job.id)),
            detail,
            status: job.status,
            badge: badge(job.status),
            attempts: job.attempts,
            max_attempts: job.max_attempts,
            created: Stamp::new(job.created_at),
            created_ago: format::relative(job.created_at, now),
            started: job.started_at.map(Stamp::new),
            finished: job.finished_at.map(Stamp::new),
            waits_until: (job.status == JobStatus::Queued && job.run_at > now).then(|| Stamp::new(job.run_at)),
            node: job.lease_owner.clone().filter(|_| job.status == JobStatus::Running),
            who: match job.created_by {
                None => "Rapport".into(),
                Some(user) => names.get(&user).cloned().unwrap_or_else(|| "A former user".into()),
            },
            error: job.last_error.as_deref().map(|e| e.lines().map(str::to_owned).collect()).unwrap_or_default(),
            can_retry: job.status.can_retry(),
            can_cancel: job.status.can_cancel(),
        }
    }
}

#[derive(Template)]
#[template(path = "jobs.html")]
struct JobsPage {
    chrome: Chrome,
    tabs: Vec<Tab>,
    statuses: Vec<StatusTab>,
    kinds: Vec<Choice>,
    /// The kind shown ("" for all).
    kind: String,
    /// The status shown ("" for all).
    status: String,
    lines: Vec<JobLine>,
    /// This page's address, where the buttons come back to.
    here: String,
    /// The first page of this status and kind.
    first_href: String,
    /// The next page's address, when there is one.
    next_href: Option<String>,
    /// Whether this is a later page (offers "First page").
    paged: bool,
}

pub async fn list(
    State(state): State<AppState>,
    signed: Signed,
    RawQuery(raw): RawQuery,
) -> Result<Response, WebError> {
    ensure_admin(&signed)?;
    let shown = Shown::parse(raw.as_deref().unwrap_or("")).map_err(WebError::BadRequest)?;
    let filter = JobFilter {
        status: shown.status,
        kind: shown.kind.map(str::to_owned),
        created_by: None,
        before: shown.before.map(JobId),
        // One more than shown: whether there is a next page.
        limit: PAGE + 1,
    };
    let mut jobs = state.store.list_jobs(Some(&signed.actor), &filter).await?;
    let more = jobs.len() as u64 > PAGE;
    jobs.truncate(PAGE as usize);
    let counts = state.store.job_counts().await?;

    let mut names: HashMap<UserId, String> = HashMap::new();
    for user in jobs.iter().filter_map(|job| job.created_by) {
        if names.contains_key(&user) {
            continue;
        }
        match state.store.get_user(user).await {
            Ok(found) => {
                names.insert(user, found.fields.name.to_string());
            }
            Err(StorageError::NotFound(_)) => {}
            Err(other) => return Err(other.into()),
        }
    }

    let count_of = |status: JobStatus| match status {
        JobStatus::Queued => Some(counts.queued),
        JobStatus::Running => Some(counts.running),
        JobStatus::Failed => Some(counts.failed),
        JobStatus::Done | JobStatus::Cancelled => None,
    };
    let mut statuses =
        vec![StatusTab { href: shown.href(None, None), label: "All", count: None, current: shown.status.is_none() }];
    statuses.extend(JobStatus::ALL.into_iter().map(|status| StatusTab {
        href: shown.href(Some(status), None),
        label: status.label(),
        count: count_of(status),
        current: shown.status == Some(status),
    }));
    let now = now();
    let next_href = more.then(|| jobs.last().map(|last| shown.href(shown.status, Some(last.id.0)))).flatten();
    let page = JobsPage {
        chrome: signed.chrome("settings", "Jobs"),
        tabs: tabs(&signed, "/jobs"),
        statuses,
        kinds: KINDS.iter().map(|kind| Choice::new(*kind, kind_label(kind))).collect(),
        kind: shown.kind.unwrap_or_default().to_owned(),
        status: shown.status.map(|s| s.as_str().to_owned()).unwrap_or_default(),
        lines: jobs.iter().map(|job| JobLine::new(job, &names, now)).collect(),
        here: shown.here(),
        first_href: shown.href(shown.status, None),
        next_href,
        paged: shown.before.is_some(),
    };
    signed.page(&page)
}

/// Where a button comes back to: the page it was pressed on, read again
/// from its query (anything else goes to the first page of every job).
fn back(raw: &str) -> String {
    match raw.strip_prefix("/jobs") {
        Some("") => "/jobs".into(),
        Some(query) => match query.strip_prefix('?').map(Shown::parse) {
            Some(Ok(shown)) => shown.here(),
            _ => "/jobs".into(),
        },
        None => "/jobs".into(),
    }
}

/// A job's name in a confirmation: "The import of people.csv", "The trash purge job".
fn named(job: &Job) -> String {
    match job.payload.get("file_name").and_then(|name| name.as_str()) {
        Some(file) if job.kind == rapport_jobs::imports::KIND => format!("The import of {file}"),
        _ => format!("The {} job", kind_label(&job.kind).to_lowercase()),
    }
}

/// The answer to a refused retry or cancel: back, with the reason.
fn refused(target: &str, verb: &str, err: StorageError) -> Result<Response, WebError> {
    match err {
        StorageError::Conflict(message) => Ok(redirect_with_flash(target, &format!("Not {verb}: {message}."))),
        StorageError::NotFound(_) => Ok(redirect_with_flash(
            target,
            &format!("Not {verb}: the job no longer exists (finished jobs are removed after a week)."),
        )),
        StorageError::Denied(denied) => Ok(redirect_with_flash(target, &format!("Not {verb}: {denied}."))),
        other => Err(other.into()),
    }
}

fn job_id(raw: &str) -> Result<JobId, WebError> {
    raw.parse::<Uuid>().map(JobId).map_err(|_| WebError::NotFound("job"))
}

/// Runs a failed or cancelled job again from the start, and wakes this node's workers.
pub async fn retry(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
    form: FormData,
) -> Result<Response, WebError> {
    ensure_admin(&signed)?;
    let target = back(form.get("back"));
    match state.store.retry_job(Some(&signed.actor), job_id(&id)?).await {
        Ok(job) => {
            state.job_waker.notify_one();
            Ok(redirect_with_flash(&target, &format!("{} was queued again.", named(&job))))
        }
        Err(err) => refused(&target, "retried", err),
    }
}

/// Cancels a queued, running or failed job.
pub async fn cancel(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
    form: FormData,
) -> Result<Response, WebError> {
    ensure_admin(&signed)?;
    let target = back(form.get("back"));
    match state.store.cancel_job(Some(&signed.actor), job_id(&id)?).await {
        Ok(job) => Ok(redirect_with_flash(&target, &format!("{} was cancelled.", named(&job)))),
        Err(err) => refused(&target, "cancelled", err),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_address_is_rebuilt_from_what_was_checked() {
        let shown = Shown::parse("status=failed&kind=import&junk=1").unwrap();
        assert_eq!(shown.here(), "/jobs?status=failed&kind=import");
        assert_eq!(shown.href(None, None), "/jobs?kind=import");
        assert!(Shown::parse("status=later").is_err());
        assert!(Shown::parse("kind=mail").is_err());
        assert!(Shown::parse("before=x").is_err());
        assert_eq!(back("/jobs?status=queued"), "/jobs?status=queued");
        assert_eq!(back("/jobs"), "/jobs");
        assert_eq!(back("https://elsewhere.example/"), "/jobs");
        assert_eq!(back("/jobs?status=bogus"), "/jobs");
        assert_eq!(back("/jobsx"), "/jobs");
    }

    #[test]
    fn small_results_read_as_plain_values() {
        assert_eq!(summary(Some(&serde_json::json!({"purged": 3, "list": [1]}))), "purged: 3");
        assert_eq!(summary(Some(&serde_json::json!({"note": "ok"}))), "note: ok");
        assert_eq!(summary(None), "");
    }
}
