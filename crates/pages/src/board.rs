//! The pipeline board: one column per stage of open deals, then the won and
//! the lost ones. Each column lists its 50 most recently updated deals, and
//! "Load more" the next 50 (a keyset cursor from `list_deals`: htmx appends
//! the cards to the column, the plain link opens the board with that column
//! further on).
//!
//! Cards move by drag and drop (SortableJS, in app.js) onto any column, Won
//! and Lost included, or, for keyboard and phone users, with the card's
//! "Move" link: app.js opens the board's one move dialog for it (one form for
//! the board rather than one per card keeps a card small), and without
//! JavaScript the link opens a page with the same form. Both post to
//! `/deals/{id}/move`. To htmx a move answers the moved card (taken from
//! wherever it is and put first in its new column: the newest updated) and
//! the counts and sums of the columns it touched, as out-of-band swaps; a
//! refused or overtaken move redraws the columns it touched instead, to show
//! the truth. A plain form is sent back to the board.

use std::collections::{BTreeMap, HashMap};

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use rapport_domain::access::Action;
use rapport_domain::records::{Deal, DealStatus, Pipeline};
use rapport_domain::text::LongText;
use rapport_domain::{CompanyId, Currency, DealId, PersonId, PipelineId, StageId};
use rapport_storage::{StageSum, StorageError};
use serde::Deserialize;

use super::form::{FormData, encode};
use super::format::initials;
use super::lists::Choice;
use super::numbers::filters;
use super::staff::Staff;
use super::{Chrome, Signed, WebError, is_htmx, redirect_with_flash, see_other, with_toast};
use rapport_api::AppState;

/// Deals per page of a column.
const PAGE: u64 = 50;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/board", get(first_board))
        .route("/pipelines/{id}/board", get(board))
        .route("/deals/{id}/move", get(move_page).post(move_deal))
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
    /// The board's move dialog, for those who may move deals.
    move_form: Option<MoveForm>,
}

/// The move form: in the board's dialog (app.js fills in the deal) or on
/// its own page without JavaScript.
pub struct MoveForm {
    pub action: String,
    pub csrf: String,
    pub version: String,
    /// The column the deal is in (its option is disabled), or "".
    pub from: String,
    pub targets: Vec<Choice>,
    /// The page's Cancel link; the dialog closes instead.
    pub back: Option<String>,
}

/// A deal's move form on its own page (the "Move" link without JavaScript).
#[derive(Template)]
#[template(path = "board_move.html")]
struct BoardMovePage {
    chrome: Chrome,
    name: String,
    now_in: String,
    pipeline: String,
    move_form: MoveForm,
}

pub struct CardView {
    pub id: DealId,
    pub version: i64,
    pub name: String,
    pub amount: String,
    pub who: String,
    pub owner: String,
    pub owner_initials: String,
    pub can_move: bool,
}

/// The next page of a column.
pub struct More {
    /// The plain link: the board with this column further on.
    pub href: String,
    /// What htmx asks for: the next cards alone.
    pub hx: String,
}

pub struct ColumnView {
    /// A stage id, "won" or "lost": the `data-stage-cards` value.
    pub key: String,
    pub name: String,
    /// "", "won" or "lost": styles the column.
    pub class: &'static str,
    pub count: i64,
    pub totals: Vec<String>,
    pub cards: Vec<CardView>,
    pub more: Option<More>,
    /// The column starts further on (a "Load more" link without htmx):
    /// the board's own address, to go back to its start.
    pub restart: Option<String>,
}

/// The `#board` element.
#[derive(Template)]
#[template(path = "board_columns.html")]
struct BoardColumns {
    can_write: bool,
    columns: Vec<ColumnView>,
    oob: bool,
}

/// The columns a refused or overtaken move touched, each redrawn whole as
/// an out-of-band swap.
#[derive(Template)]
#[template(path = "board_redrawn.html")]
struct BoardRedrawn {
    can_write: bool,
    columns: Vec<ColumnView>,
    oob: bool,
}

/// A column header's figures: its deal count and sums.
pub struct Figures {
    pub key: String,
    pub count: i64,
    pub totals: Vec<String>,
}

/// A move's answer, as out-of-band swaps: the card out of wherever it is,
/// then first in the column `into`, and the touched columns' figures.
#[derive(Template)]
#[template(path = "board_moved.html")]
struct BoardMoved {
    card: CardView,
    into: String,
    figures: Vec<Figures>,
}

/// The next page of one column's cards (with its own "Load more").
#[derive(Template)]
#[template(path = "board_cards.html")]
struct BoardCards {
    column: ColumnView,
}

/// A column of the board.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Column {
    Stage(StageId),
    Won,
    Lost,
}

impl Column {
    /// The column a deal sits in.
    fn of(deal: &Deal) -> Self {
        match deal.fields.status {
            DealStatus::Won => Column::Won,
            DealStatus::Lost => Column::Lost,
            _ => Column::Stage(deal.fields.stage_id),
        }
    }

    /// A column of `pipeline` by its key: a stage id of the pipeline, "won" or "lost".
    fn parse(raw: &str, pipeline: &Pipeline) -> Option<Self> {
        match raw {
            "won" => Some(Column::Won),
            "lost" => Some(Column::Lost),
            raw => {
                raw.parse::<StageId>().ok().filter(|id| pipeline.stages.iter().any(|s| s.id == *id)).map(Column::Stage)
            }
        }
    }

    /// Every column of the board, in order.
    fn all(pipeline: &Pipeline) -> Vec<Self> {
        let mut columns: Vec<Column> = pipeline.stages.iter().map(|s| Column::Stage(s.id)).collect();
        columns.extend([Column::Won, Column::Lost]);
        columns
    }

    fn key(self) -> String {
        match self {
            Column::Stage(id) => id.to_string(),
            Column::Won => "won".into(),
            Column::Lost => "lost".into(),
        }
    }

    fn name(self, pipeline: &Pipeline) -> String {
        match self {
            Column::Stage(id) => {
                pipeline.stages.iter().find(|s| s.id == id).map(|s| s.name.to_string()).unwrap_or_default()
            }
            Column::Won => "Won".into(),
            Column::Lost => "Lost".into(),
        }
    }

    fn class(self) -> &'static str {
        match self {
            Column::Stage(_) => "",
            Column::Won => "won",
            Column::Lost => "lost",
        }
    }

    fn status(self) -> DealStatus {
        match self {
            Column::Stage(_) => DealStatus::Open,
            Column::Won => DealStatus::Won,
            Column::Lost => DealStatus::Lost,
        }
    }

    fn stage(self) -> Option<StageId> {
        match self {
            Column::Stage(id) => Some(id),
            _ => None,
        }
    }
}

/// One page of a column's deals, with its header figures.
struct Loaded {
    column: Column,
    deals: Vec<Deal>,
    next: Option<String>,
    count: i64,
    totals: Vec<String>,
    /// The page starts further on than the column's start.
    later: bool,
}

/// A column's deal count and sums per currency ("€12,500.00"), from
/// the sums of its stages.
fn header_figures<'a>(sums: impl IntoIterator<Item = &'a StageSum>) -> (i64, Vec<String>) {
    // i128: each sum is exact, and so is their sum across stages.
    let mut count = 0;
    let mut per_currency: BTreeMap<Currency, i128> = BTreeMap::new();
    for sum in sums {
        count += sum.count;
        *per_currency.entry(sum.amount.currency).or_default() += sum.amount.amount_minor;
    }
    (count, per_currency.into_iter().map(|(currency, minor)| super::numbers::money_minor(minor, currency)).collect())
}

/// The names cards show beside their deals: of people and of companies.
type Names = (HashMap<PersonId, String>, HashMap<CompanyId, String>);

/// The pages of `columns` from their cursors (their starts without one) and
/// their header figures: the pages and their names in one query, the
/// figures in another, at once.
async fn load_columns(
    state: &AppState,
    pipeline: &Pipeline,
    columns: Vec<(Column, Option<String>)>,
) -> Result<(Vec<Loaded>, Names), WebError> {
    let pages: Vec<_> =
        columns.iter().map(|(column, cursor)| (column.status(), column.stage(), cursor.clone())).collect();
    let heads: Vec<_> = columns.iter().map(|(column, _)| (column.status(), column.stage())).collect();
    let ((pages, names), sums) = tokio::try_join!(
        state.store.board_columns(pipeline.id, &pages, PAGE),
        state.store.column_sums(pipeline.id, &heads),
    )?;
    let loaded = columns
        .into_iter()
        .zip(pages)
        .zip(sums)
        .map(|(((column, cursor), page), sums)| {
            let (count, totals) = header_figures(&sums);
            Loaded { column, deals: page.items, next: page.next_cursor, count, totals, later: cursor.is_some() }
        })
        .collect();
    Ok((loaded, names))
}

/// Turns loaded columns into what the templates show: names of people,
/// companies and owners, who may move which card, the next page's links.
struct Renderer<'a> {
    signed: &'a Signed,
    staff: Staff,
    pipeline: &'a Pipeline,
    person_names: HashMap<PersonId, String>,
    company_names: HashMap<CompanyId, String>,
}

impl<'a> Renderer<'a> {
    fn new(signed: &'a Signed, staff: Staff, pipeline: &'a Pipeline, (person_names, company_names): Names) -> Self {
        Renderer { signed, staff, pipeline, person_names, company_names }
    }

    fn can_write(&self) -> bool {
        self.signed.actor.ensure_can_create().is_ok()
    }

    fn board_href(&self) -> String {
        format!("/pipelines/{}/board", self.pipeline.id)
    }

    fn card(&self, deal: &Deal) -> CardView {
        let d = &deal.fields;
        let who: Vec<String> = [
            d.company_id.and_then(|id| self.company_names.get(&id).cloned()),
            d.person_id.and_then(|id| self.person_names.get(&id).cloned()),
        ]
        .into_iter()
        .flatten()
        .collect();
        let owner = self.staff.name(d.owner_id);
        CardView {
            id: deal.id,
            version: deal.meta.version,
            name: d.name.to_string(),
            amount: super::numbers::money(&d.amount),
            who: who.join(" · "),
            owner_initials: initials(&owner),
            owner,
            can_move: self.can_write()
                && self.staff.allows(&self.signed.actor, Action::Edit, d.owner_id, deal.meta.created_by),
        }
    }

    fn column(&self, loaded: Loaded) -> ColumnView {
        let key = loaded.column.key();
        let more = loaded.next.map(|cursor| {
            let query = format!("column={}&cursor={}", encode(&key), encode(&cursor));
            More {
                href: format!("{}?{query}#board-column-{key}", self.board_href()),
                hx: format!("{}?{query}", self.board_href()),
            }
        });
        ColumnView {
            name: loaded.column.name(self.pipeline),
            class: loaded.column.class(),
            count: loaded.count,
            totals: loaded.totals,
            cards: loaded.deals.iter().map(|d| self.card(d)).collect(),
            more,
            restart: loaded.later.then(|| format!("{}#board-column-{key}", self.board_href())),
            key,
        }
    }
}

/// Every column of `pipeline` as a move's choices.
fn targets(pipeline: &Pipeline) -> Vec<Choice> {
    Column::all(pipeline).into_iter().map(|c| Choice::new(c.key(), c.name(pipeline))).collect()
}

fn render(template: &impl Template) -> Result<String, WebError> {
    template.render().map_err(|err| {
        tracing::error!(error = %err, "rendering the board failed");
        WebError::Internal
    })
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
            move_form: None,
        }),
    }
}

#[derive(Deserialize)]
pub struct BoardParams {
    /// A column further on: its key, and where it starts.
    column: Option<String>,
    cursor: Option<String>,
}

/// A pipeline's board. With `column` and `cursor`, that column starts at
/// the cursor: to htmx ("Load more") only its next cards are answered.
pub async fn board(
    State(state): State<AppState>,
    signed: Signed,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(params): Query<BoardParams>,
) -> Result<Response, WebError> {
    let id: PipelineId = id.parse().map_err(|_| WebError::NotFound("pipeline"))?;
    // The pipeline from the list the page shows, and the staff its cards name, at once.
    let (pipelines, staff) =
        tokio::try_join!(async { Ok::<_, WebError>(state.store.list_pipelines().await?) }, Staff::load(&state))?;
    let pipeline = pipelines.iter().find(|p| p.id == id).ok_or(WebError::NotFound("pipeline"))?;
    let further = match (params.column.as_deref(), params.cursor.filter(|c| !c.is_empty())) {
        (None | Some(""), None) => None,
        (None | Some(""), Some(_)) => {
            return Err(WebError::BadRequest("A cursor needs the column it belongs to (column=…).".into()));
        }
        (Some(raw), cursor) => {
            let column = Column::parse(raw, pipeline).ok_or_else(|| {
                WebError::BadRequest(format!(
                    "The {} board has no column “{raw}”: a column is one of its stages, “won” or “lost”.",
                    pipeline.name
                ))
            })?;
            Some((column, cursor))
        }
    };

    if let (true, Some((column, Some(cursor)))) = (is_htmx(&headers), &further) {
        let (mut loaded, names) = load_columns(&state, pipeline, vec![(*column, Some(cursor.clone()))]).await?;
        let loaded = loaded.pop().ok_or(WebError::Internal)?;
        let renderer = Renderer::new(&signed, staff, pipeline, names);
        let fragment = BoardCards { column: renderer.column(loaded) };
        return Ok(Html(render(&fragment)?).into_response());
    }

    let columns = Column::all(pipeline)
        .into_iter()
        .map(|column| {
            let cursor = further.as_ref().filter(|(c, _)| *c == column).and_then(|(_, cursor)| cursor.clone());
            (column, cursor)
        })
        .collect();
    let (loaded, names) = load_columns(&state, pipeline, columns).await?;
    let renderer = Renderer::new(&signed, staff, pipeline, names);
    let can_write = renderer.can_write();
    let board_html = render(&BoardColumns {
        can_write,
        columns: loaded.into_iter().map(|l| renderer.column(l)).collect(),
        oob: false,
    })?;

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
        move_form: can_write.then(|| MoveForm {
            action: String::new(),
            csrf: signed.csrf.clone(),
            version: String::new(),
            from: String::new(),
            targets: targets(pipeline),
            back: None,
        }),
    };
    signed.page(&view)
}

/// `GET /deals/{id}/move`: the "Move" link's page without JavaScript, the
/// move form for that deal.
pub async fn move_page(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let id: DealId = id.parse().map_err(|_| WebError::NotFound("deal"))?;
    let deal = state.store.get_deal(id).await?;
    let (pipeline, staff) = tokio::try_join!(
        async { Ok::<_, WebError>(state.store.get_pipeline(deal.fields.pipeline_id).await?) },
        Staff::load(&state),
    )?;
    staff.ensure(&signed.actor, Action::Edit, deal.fields.owner_id, deal.meta.created_by)?;
    let column = Column::of(&deal);
    let board = format!("/pipelines/{}/board", pipeline.id);
    signed.page(&BoardMovePage {
        chrome: signed.chrome("board", format!("Move {}", deal.fields.name)),
        name: deal.fields.name.to_string(),
        now_in: column.name(&pipeline),
        pipeline: pipeline.name.to_string(),
        move_form: MoveForm {
            action: format!("/deals/{id}/move"),
            csrf: signed.csrf.clone(),
            version: deal.meta.version.to_string(),
            from: column.key(),
            targets: targets(&pipeline),
            back: Some(board),
        },
    })
}

/// Where a move sends a deal: its stage and status, or why not.
fn destination(
    target: Option<Column>,
    raw: &str,
    deal: &Deal,
    pipeline: &Pipeline,
) -> Result<(StageId, DealStatus), String> {
    match target {
        Some(Column::Stage(stage)) => Ok((stage, DealStatus::Open)),
        Some(Column::Won) => Ok((deal.fields.stage_id, DealStatus::Won)),
        Some(Column::Lost) => Ok((deal.fields.stage_id, DealStatus::Lost)),
        None if raw.is_empty() => Err("Pick a column to move the deal to.".into()),
        None => {
            Err(format!("{} was not moved: that stage is not in the {} pipeline.", deal.fields.name, pipeline.name))
        }
    }
}

/// Moves a deal to another stage, or marks it won or lost (with the lost
/// reason, if the form gives one). To htmx it answers the moved card and the
/// touched columns' figures; a move not made (refused, overtaken, already
/// there) redraws the columns it touched as they now stand, with the reason.
pub async fn move_deal(
    State(state): State<AppState>,
    signed: Signed,
    headers: HeaderMap,
    Path(id): Path<String>,
    form: FormData,
) -> Result<Response, WebError> {
    let id: DealId = id.parse().map_err(|_| WebError::NotFound("deal"))?;
    let htmx = is_htmx(&headers);
    // The deal, the pipelines (its own among them) and, for htmx's answer,
    // the staff its card names: three reads at once.
    let (deal, pipelines, staff) = tokio::try_join!(
        async { Ok::<_, WebError>(state.store.get_deal(id).await?) },
        async { Ok::<_, WebError>(state.store.list_pipelines().await?) },
        async { if htmx { Staff::load(&state).await.map(Some) } else { Ok(None) } },
    )?;
    let pipeline =
        pipelines.into_iter().find(|p| p.id == deal.fields.pipeline_id).ok_or(WebError::NotFound("pipeline"))?;
    let name = deal.fields.name.to_string();
    let version = form.get("version").parse::<i64>().ok();
    let raw_target = form.get("target");
    let target = Column::parse(raw_target, &pipeline);
    let before = Column::of(&deal);
    let mut after = before;
    // The deal as stored after a move made here.
    let mut moved = None;
    // Bad input is refused (400) with the reason: as a toast to htmx.
    let refuse = |message: String| -> Result<Response, WebError> {
        if htmx {
            Ok(with_toast((StatusCode::BAD_REQUEST, message.clone()).into_response(), &message))
        } else {
            Err(WebError::BadRequest(message))
        }
    };
    let message = match destination(target, raw_target, &deal, &pipeline) {
        Err(message) => return refuse(message),
        Ok(_) if target == Some(before) => format!("{name} is already in {}.", before.name(&pipeline)),
        Ok((stage_id, status)) => {
            let label = target.map(|t| t.name(&pipeline)).unwrap_or_default();
            let mut input = deal.fields.clone();
            input.stage_id = stage_id;
            input.status = status;
            let reason = form.get("lost_reason").trim();
            input.lost_reason = match status {
                DealStatus::Lost if reason.is_empty() => None,
                DealStatus::Lost => match LongText::try_from(reason.to_owned()) {
                    Ok(reason) => Some(reason),
                    Err(problem) => return refuse(format!("{name} was not moved: the lost reason {problem}.")),
                },
                _ => None,
            };
            match state.store.update_deal(&signed.actor, id, input, version).await {
                Ok(updated) => {
                    after = Column::of(&updated);
                    moved = Some(updated);
                    format!("Moved {name} to {label}.")
                }
                Err(StorageError::VersionMismatch { .. }) => {
                    // Where someone else put it meanwhile.
                    if let Ok(now) = state.store.get_deal(id).await {
                        after = Column::of(&now);
                    }
                    format!("{name} was changed by someone else meanwhile: the board now shows the latest.")
                }
                Err(StorageError::Denied(denied)) => format!("{name} was not moved: {denied}."),
                Err(StorageError::Invalid(errors)) => format!("{name} was not moved: {errors}."),
                Err(StorageError::Conflict(message)) => format!("{name} was not moved: {message}."),
                Err(other) => return Err(other.into()),
            }
        }
    };
    let Some(staff) = staff else {
        return Ok(redirect_with_flash(&format!("/pipelines/{}/board", pipeline.id), &message));
    };

    // The columns touched, in board order: where the page showed the card,
    // where it was stored, where it was dropped, where it is now.
    let from = Column::parse(form.get("from"), &pipeline);
    let touched: Vec<Column> = Column::all(&pipeline)
        .into_iter()
        .filter(|c| [from, Some(before), target, Some(after)].contains(&Some(*c)))
        .collect();
    let html = match moved {
        Some(deal) => moved_answer(&state, &signed, staff, &pipeline, deal.id, touched).await?,
        None => {
            let (loaded, names) =
                load_columns(&state, &pipeline, touched.into_iter().map(|column| (column, None)).collect()).await?;
            let renderer = Renderer::new(&signed, staff, &pipeline, names);
            render(&BoardRedrawn {
                can_write: renderer.can_write(),
                columns: loaded.into_iter().map(|l| renderer.column(l)).collect(),
                oob: true,
            })?
        }
    };
    Ok(with_toast(Html(html).into_response(), &message))
}

/// A move's answer: the moved card, first in its new column (the newest
/// updated, as the column is sorted), and the figures of every column the
/// move touched, read afresh: the card with its names and the figures, two
/// reads at once.
async fn moved_answer(
    state: &AppState,
    signed: &Signed,
    staff: Staff,
    pipeline: &Pipeline,
    deal: DealId,
    touched: Vec<Column>,
) -> Result<String, WebError> {
    let heads: Vec<_> = touched.iter().map(|column| (column.status(), column.stage())).collect();
    let ((deal, names), sums) =
        tokio::try_join!(state.store.deal_card(deal), state.store.column_sums(pipeline.id, &heads))?;
    let renderer = Renderer::new(signed, staff, pipeline, names);
    let figures = touched
        .iter()
        .zip(sums)
        .map(|(column, sums)| {
            let (count, totals) = header_figures(&sums);
            Figures { key: column.key(), count, totals }
        })
        .collect();
    render(&BoardMoved { card: renderer.card(&deal), into: Column::of(&deal).key(), figures })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sum(stage: StageId, count: i64, minor: i128, currency: &str) -> StageSum {
        StageSum {
            stage_id: stage,
            count,
            amount: rapport_domain::MoneySum::new(minor, Currency::parse(currency).unwrap()),
        }
    }

    #[test]
    fn header_figures_add_up_per_currency_across_stages() {
        let (a, b) = (StageId::new(), StageId::new());
        let (count, lines) = header_figures(&[sum(a, 2, 1000, "EUR"), sum(a, 1, 250, "USD"), sum(b, 3, 50, "EUR")]);
        assert_eq!(count, 6);
        assert_eq!(lines, vec!["€10.50".to_string(), "$2.50".to_string()]);
    }

    #[test]
    fn header_figures_beyond_i64_are_exact() {
        let max = i128::from(rapport_domain::money::MAX_AMOUNT_MINOR) * 10_000;
        let stage = StageId::new();
        let (_, lines) = header_figures(&[sum(stage, 10_000, max, "EUR"), sum(StageId::new(), 1, 0, "EUR")]);
        assert_eq!(lines, vec!["€100,000,000,000,000,000.00".to_string()]);
    }

    #[test]
    fn no_figures_without_deals() {
        assert_eq!(header_figures(&[]), (0, Vec::new()));
    }
}
