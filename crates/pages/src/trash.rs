//! The trash: what was deleted, by whom and when, when it goes for good, and
//! a Restore button per entry (the same storage call as the API's restore,
//! so the same rules decide who may).

use askama::Template;
use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::response::Response;
use axum::routing::{get, post};
use rapport_domain::history::{RecordKind, TrashEntry, TrashReason};
use rapport_storage::StorageError;
use uuid::Uuid;

use super::format::capitalize;
use super::lists::Choice;
use super::{Chrome, Signed, WebError, format, redirect_with_flash, redirect_with_undo};
use rapport_api::AppState;

/// Entries per page.
const PAGE: u64 = 50;

pub fn routes() -> Router<AppState> {
    Router::new().route("/trash", get(list)).route("/trash/{id}/restore", post(restore))
}

/// One deleted record as the trash page shows it.
pub struct TrashLine {
    pub id: Uuid,
    pub label: String,
    /// "Person", "Deal"...
    pub kind: String,
    pub who: String,
    pub ago: String,
    pub at: String,
    pub iso: String,
    /// "in 29 days".
    pub purge_in: String,
    pub purge_at: String,
    /// "with 3 activities and purchases", or empty.
    pub attached: String,
    /// Merged into another record: only undoing the merge brings it back.
    pub merged: bool,
}

impl TrashLine {
    fn new(entry: &TrashEntry, now: time::OffsetDateTime) -> Self {
        TrashLine {
            id: entry.id,
            label: entry.label.clone(),
            kind: capitalize(entry.record_type.singular()),
            who: entry.deleted_by_name.clone().unwrap_or_else(|| "Rapport".into()),
            ago: format::relative(entry.deleted_at, now),
            at: format::datetime(entry.deleted_at),
            iso: format::iso(entry.deleted_at),
            purge_in: format::relative(entry.purge_after, now),
            purge_at: format::datetime(entry.purge_after),
            attached: match entry.attached {
                0 => String::new(),
                1 => "with 1 record attached".into(),
                n => format!("with {n} records attached"),
            },
            merged: entry.reason == TrashReason::Merged,
        }
    }
}

#[derive(Template)]
#[template(path = "trash.html")]
struct TrashPage {
    chrome: Chrome,
    lines: Vec<TrashLine>,
    kinds: Vec<Choice>,
    /// The type shown ("" for all).
    kind: String,
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
    let (mut kind, mut after) = (None, None);
    for (key, value) in form_urlencoded::parse(raw.as_deref().unwrap_or("").as_bytes()) {
        match (key.as_ref(), value.trim()) {
            (_, "") => {}
            ("type", value) => {
                kind = Some(RecordKind::parse(value).map_err(|m| WebError::BadRequest(format!("type {m}")))?)
            }
            ("after", value) => {
                after =
                    Some(value.parse::<Uuid>().map_err(|_| WebError::BadRequest("after is not a trash entry".into()))?)
            }
            _ => {}
        }
    }
    let entries = state.store.list_trash_for(&signed.actor, kind, state.config.trash_retention, after, PAGE).await?;
    let now = rapport_domain::records::now();
    let type_query = kind.map(|k| format!("type={k}&")).unwrap_or_default();
    let next_href = (entries.len() as u64 == PAGE)
        .then(|| entries.last().map(|last| format!("/trash?{type_query}after={}", last.id)))
        .flatten();
    let view = TrashPage {
        chrome: signed.chrome("trash", "Trash"),
        lines: entries.iter().map(|entry| TrashLine::new(entry, now)).collect(),
        kinds: RecordKind::ALL.iter().map(|k| Choice::new(k.as_str(), capitalize(k.as_str()))).collect(),
        kind: kind.map(|k| k.as_str().to_owned()).unwrap_or_default(),
        next_href,
        paged: after.is_some(),
    };
    signed.page(&view)
}

/// Where a restored record can be seen.
fn record_href(kind: RecordKind, id: Uuid) -> String {
    match kind {
        RecordKind::People | RecordKind::Companies | RecordKind::Deals | RecordKind::Tickets => format!("/{kind}/{id}"),
        RecordKind::Tasks => "/tasks".into(),
        RecordKind::Activities | RecordKind::Purchases => "/trash".into(),
    }
}

/// Restores one entry, then shows the record; a refusal goes back to the
/// trash with the reason.
pub async fn restore(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let id: Uuid = id.parse().map_err(|_| WebError::NotFound("trash entry"))?;
    match state.store.restore_from_trash(&signed.actor, id).await {
        Ok((kind, record)) => Ok(redirect_with_flash(
            &record_href(kind, record),
            &format!("The {} was restored from the trash.", kind.singular()),
        )),
        Err(StorageError::Denied(denied)) => Ok(redirect_with_flash("/trash", &format!("Not restored: {denied}."))),
        Err(StorageError::Conflict(message)) => Ok(redirect_with_flash("/trash", &format!("Not restored: {message}."))),
        Err(StorageError::Invalid(errors)) => Ok(redirect_with_flash("/trash", &format!("Not restored: {errors}."))),
        Err(StorageError::NotFound(_)) => Ok(redirect_with_flash(
            "/trash",
            "Not restored: it is no longer in the trash (restored or purged already).",
        )),
        Err(other) => Err(other.into()),
    }
}

/// The answer to a delete: to `target`, saying where the record went, with an
/// Undo button for `entry`, the trash entry the delete made.
pub fn deleted(entry: Uuid, target: &str, name: &str) -> Response {
    redirect_with_undo(target, &format!("{name} was moved to the trash."), entry)
}
