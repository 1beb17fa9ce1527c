//! The pipeline board: one column per stage of open deals, plus the latest
//! won and lost ones. Cards move by drag and drop (SortableJS, in app.js) or,
//! for keyboard and phone users, with a select on each card; both post to
//! `/deals/{id}/move`, which answers the board as it now stands.

use std::collections::BTreeMap;

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use rapport_domain::access::Action;
use rapport_domain::records::{Deal, DealStatus, Pipeline};
use rapport_domain::{CompanyId, Currency, DealId, Money, MoneySum, PersonId, PipelineId, StageId};
use rapport_storage::{DealFilter, ListQuery, StorageError};

use super::form::FormData;
use super::lists::Choice;
use super::staff::Staff;
use super::{Chrome, Signed, WebError, is_htmx, redirect_with_flash, see_other, with_toast};
use crate::AppState;

/// Open deals shown per stage column.
const STAGE_LIMIT: u64 = 50;
/// Won and lost deals shown, the most recently updated first.
const CLOSED_LIMIT: u64 = 20;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/board", get(first_board))
        .route("/pipelines/{id}/board", get(board))
        .route("/deals/{id}/move", post(move_deal))
}

pub struct PipelineLink {
    pub name: String,
    pub href: String,
    pub current: bool,
}

#[derive(Template)]
#[template(path = "board.html")]
struct BoardPage {
    chrome: Chrome,
    /// `None` when there is no pipeline yet.
    pipeline: Option<PipelineId>,
    heading: String,
    pipelines: Vec<PipelineLink>,
    first_stage: String,
    board_html: String,
}

pub struct CardView {
    pub id: DealId,
    pub version: i64,
    pub name: String,
    pub amount: String,
    pub who: String,
    /// The column it sits in: a stage id, "won" or "lost".
    pub current: String,
    pub can_move: bool,
}

pub struct ColumnView {
    /// A stage id, "won" or "lost": the `data-stage-cards` value.
    pub key: String,
    pub name: String,
    /// "", "won" or "lost": styles the column.
    pub class: &'static str,
    pub count: i64,
    pub totals: Vec<String>,
    /// Shown when the column holds more deals than it lists.
    pub note: String,
    pub cards: Vec<CardView>,
}

#[derive(Template)]
#[template(path = "board_columns.html")]
struct BoardColumns {
    can_write: bool,
    csrf: String,
    columns: Vec<ColumnView>,
    targets: Vec<Choice>,
}

/// `/board`: the first pipeline's board.
pub async fn first_board(State(state): State<AppState>, signed: Signed) -> Result<Response, WebError> {
    let pipelines = state.store.list_pipelines().await?;
    match pipelines.first() {
        Some(pipeline) => Ok(see_other(&format!("/pipelines/{}/board", pipeline.id))),
        None => signed.page(&BoardPage {
            chrome: signed.chrome("board", "Board"),
            pipeline: None,
            heading: "Board".into(),
            pipelines: Vec::new(),
            first_stage: String::new(),
            board_html: String::new(),
        }),
    }
}

pub async fn board(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let id: PipelineId = id.parse().map_err(|_| WebError::NotFound("pipeline"))?;
    let pipeline = state.store.get_pipeline(id).await?;
    let pipelines = state.store.list_pipelines().await?;
    let staff = Staff::load(&state).await?;
    let board_html = render_columns(&state, &signed, &staff, &pipeline).await?;
    let view = BoardPage {
        chrome: signed.chrome("board", format!("{} board", pipeline.name)),
        pipeline: Some(id),
        heading: pipeline.name.to_string(),
        pipelines: pipelines
            .iter()
            .map(|p| PipelineLink {
                name: p.name.to_string(),
                href: format!("/pipelines/{}/board", p.id),
                current: p.id == id,
            })
            .collect(),
        first_stage: pipeline.stages.first().map(|s| s.id.to_string()).unwrap_or_default(),
        board_html,
    };
    signed.page(&view)
}

/// Sums per currency, as "12,500.00 EUR" lines.
fn totals(amounts: impl IntoIterator<Item = Money>) -> Vec<String> {
    // i128: each amount is bounded, their sum is not (an i64 `+=` panics in debug).
    let mut sums: BTreeMap<Currency, i128> = BTreeMap::new();
    for amount in amounts {
        *sums.entry(amount.currency).or_default() += i128::from(amount.amount_minor);
    }
    sums.into_iter().map(|(currency, minor)| MoneySum::new(minor, currency).display()).collect()
}

/// The `#board` element of a pipeline, as HTML.
async fn render_columns(
    state: &AppState,
    signed: &Signed,
    staff: &Staff,
    pipeline: &Pipeline,
) -> Result<String, WebError> {
    let open_totals = state.store.open_deal_sums(pipeline.id).await?;
    let newest = |limit| ListQuery { limit: Some(limit), sort: Some("-updated_at".into()), ..Default::default() };
    let mut stage_deals: Vec<(StageId, Vec<Deal>)> = Vec::new();
    for stage in &pipeline.stages {
        let filter = DealFilter {
            pipeline_id: Some(pipeline.id),
            stage_id: Some(stage.id),
            status: Some(DealStatus::Open),
            ..Default::default()
        };
        stage_deals.push((stage.id, state.store.list_deals(&newest(STAGE_LIMIT), &filter).await?.items));
    }
    let mut closed = Vec::new();
    for status in [DealStatus::Won, DealStatus::Lost] {
        let filter = DealFilter { pipeline_id: Some(pipeline.id), status: Some(status), ..Default::default() };
        let page = state.store.list_deals(&newest(CLOSED_LIMIT), &filter).await?;
        closed.push((status, page.items, page.next_cursor.is_some()));
    }

    let all = stage_deals.iter().flat_map(|(_, d)| d).chain(closed.iter().flat_map(|(_, d, _)| d));
    let (people, companies): (Vec<Option<PersonId>>, Vec<Option<CompanyId>>) =
        all.map(|d| (d.fields.person_id, d.fields.company_id)).unzip();
    let people: Vec<PersonId> = people.into_iter().flatten().collect();
    let companies: Vec<CompanyId> = companies.into_iter().flatten().collect();
    let person_names = state.store.person_names(&people).await?;
    let company_names = state.store.company_names(&companies).await?;

    let can_write = signed.actor.ensure_can_create().is_ok();
    let card = |deal: &Deal, current: String| {
        let d = &deal.fields;
        let who: Vec<String> = [
            d.person_id.and_then(|id| person_names.get(&id).cloned()),
            d.company_id.and_then(|id| company_names.get(&id).cloned()),
        ]
        .into_iter()
        .flatten()
        .collect();
        CardView {
            id: deal.id,
            version: deal.meta.version,
            name: d.name.to_string(),
            amount: d.amount.display(),
            who: who.join(" · "),
            current,
            can_move: can_write && staff.allows(&signed.actor, Action::Edit, d.owner_id, deal.meta.created_by),
        }
    };

    let mut columns = Vec::new();
    for (stage, (stage_id, deals)) in pipeline.stages.iter().zip(&stage_deals) {
        let in_stage: Vec<_> = open_totals.iter().filter(|t| t.stage_id == *stage_id).collect();
        let count: i64 = in_stage.iter().map(|t| t.count).sum();
        let shown = deals.len() as i64;
        columns.push(ColumnView {
            key: stage.id.to_string(),
            name: stage.name.to_string(),
            class: "",
            count,
            totals: in_stage.iter().map(|t| t.amount.display()).collect(),
            note: if count > shown { format!("Showing the {shown} latest of {count}.") } else { String::new() },
            cards: deals.iter().map(|d| card(d, stage.id.to_string())).collect(),
        });
    }
    for (status, deals, more) in &closed {
        let (key, name) = match status {
            DealStatus::Won => ("won", "Won"),
            _ => ("lost", "Lost"),
        };
        columns.push(ColumnView {
            key: key.to_owned(),
            name: name.to_owned(),
            class: key,
            count: deals.len() as i64,
            totals: totals(deals.iter().map(|d| d.fields.amount)),
            note: if *more {
                format!("The {} most recently updated; see all in Deals.", deals.len())
            } else {
                String::new()
            },
            cards: deals.iter().map(|d| card(d, key.to_owned())).collect(),
        });
    }

    let mut targets: Vec<Choice> =
        pipeline.stages.iter().map(|s| Choice::new(s.id.to_string(), s.name.to_string())).collect();
    targets.push(Choice::new("won", "Won"));
    targets.push(Choice::new("lost", "Lost"));
    let fragment = BoardColumns { can_write, csrf: signed.csrf.clone(), columns, targets };
    fragment.render().map_err(|err| {
        tracing::error!(error = %err, "rendering the board failed");
        WebError::Internal
    })
}

/// Where a move sends a deal: its stage, its status, and the column's name.
fn destination(target: &str, deal: &Deal, pipeline: &Pipeline) -> Result<(StageId, DealStatus, String), String> {
    match target {
        "won" => Ok((deal.fields.stage_id, DealStatus::Won, "Won".into())),
        "lost" => Ok((deal.fields.stage_id, DealStatus::Lost, "Lost".into())),
        "" => Err("Pick a stage to move the deal to.".into()),
        raw => {
            let stage = raw
                .parse::<StageId>()
                .ok()
                .and_then(|id| pipeline.stages.iter().find(|s| s.id == id))
                .ok_or_else(|| {
                    format!("{} was not moved: that stage is not in the {} pipeline.", deal.fields.name, pipeline.name)
                })?;
            Ok((stage.id, DealStatus::Open, stage.name.to_string()))
        }
    }
}

/// Moves a deal to another stage, or marks it won or lost, then answers the
/// board as it now stands (a refused move shows the truth, with the reason).
pub async fn move_deal(
    State(state): State<AppState>,
    signed: Signed,
    headers: HeaderMap,
    Path(id): Path<String>,
    form: FormData,
) -> Result<Response, WebError> {
    let id: DealId = id.parse().map_err(|_| WebError::NotFound("deal"))?;
    let deal = state.store.get_deal(id).await?;
    let pipeline = state.store.get_pipeline(deal.fields.pipeline_id).await?;
    let name = deal.fields.name.to_string();
    let version = form.get("version").parse::<i64>().ok();
    let message = match destination(form.get("target"), &deal, &pipeline) {
        Err(message) => message,
        Ok((stage_id, status, label)) if stage_id == deal.fields.stage_id && status == deal.fields.status => {
            format!("{name} is already in {label}.")
        }
        Ok((stage_id, status, label)) => {
            let mut input = deal.fields.clone();
            input.stage_id = stage_id;
            input.status = status;
            if status != DealStatus::Lost {
                input.lost_reason = None;
            }
            match state.store.update_deal(&signed.actor, id, input, version).await {
                Ok(_) => format!("Moved {name} to {label}."),
                Err(StorageError::VersionMismatch { .. }) => {
                    format!("{name} was changed by someone else meanwhile: the board now shows the latest.")
                }
                Err(StorageError::Denied(denied)) => format!("{name} was not moved: {denied}."),
                Err(StorageError::Invalid(errors)) => format!("{name} was not moved: {errors}."),
                Err(StorageError::Conflict(message)) => format!("{name} was not moved: {message}."),
                Err(other) => return Err(other.into()),
            }
        }
    };
    if !is_htmx(&headers) {
        return Ok(redirect_with_flash(&format!("/pipelines/{}/board", pipeline.id), &message));
    }
    let staff = Staff::load(&state).await?;
    let html = render_columns(&state, &signed, &staff, &pipeline).await?;
    Ok(with_toast(Html(html).into_response(), &message))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totals_sum_per_currency() {
        let eur = Currency::parse("EUR").unwrap();
        let usd = Currency::parse("USD").unwrap();
        let lines = totals([Money::new(1000, eur), Money::new(250, usd), Money::new(50, eur)]);
        assert_eq!(lines, vec!["10.50 EUR".to_string(), "2.50 USD".to_string()]);
    }

    #[test]
    fn totals_beyond_i64_are_exact() {
        let eur = Currency::parse("EUR").unwrap();
        let max = rapport_domain::money::MAX_AMOUNT_MINOR;
        let lines = totals(std::iter::repeat_n(Money::new(max, eur), 10_000));
        assert_eq!(lines, vec!["100,000,000,000,000,000.00 EUR".to_string()]);
    }

    #[test]
    fn no_totals_without_deals() {
        assert!(totals(std::iter::empty()).is_empty());
    }
}
