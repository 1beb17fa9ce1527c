//! Settings → Pipelines: each sales pipeline's ordered stages and how likely
//! a deal in each stage is to be won.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use rapport_domain::records::{Pipeline, PipelineInput, StageInput};
use rapport_domain::text::Name;
use rapport_domain::{FieldErrors, PipelineId, StageId};
use rapport_storage::StorageError;

use super::{Tab, require_admin, respond, sentence, tabs};
use crate::form::{Fields, FormData, FormView};
use crate::{Chrome, Signed, WebError, redirect_with_flash};
use rapport_api::AppState;

/// Empty rows offered on the edit page for new stages.
const BLANK_ROWS: usize = 3;
/// The most rows an edit form is read for.
const MAX_ROWS: usize = 100;

pub struct PipelineView {
    pub id: PipelineId,
    pub name: String,
    pub stages: Vec<(String, i32)>,
}

#[derive(Template)]
#[template(path = "settings_pipelines.html")]
struct PipelinesPage {
    chrome: Chrome,
    tabs: Vec<Tab>,
    pipelines: Vec<PipelineView>,
    form: FormView,
    /// Why a delete was refused.
    problem: Option<String>,
}

/// One row of the edit form's stage table.
pub struct StageRow {
    pub index: usize,
    pub id: String,
    pub name: String,
    pub probability: String,
    /// Where the stage goes: rows are sorted by this number when saved.
    pub order: String,
    pub name_error: Option<String>,
    pub probability_error: Option<String>,
    pub order_error: Option<String>,
}

#[derive(Template)]
#[template(path = "settings_pipeline.html")]
struct PipelineEdit {
    chrome: Chrome,
    tabs: Vec<Tab>,
    id: PipelineId,
    version: i64,
    name: String,
    form: FormView,
    rows: Vec<StageRow>,
}

async fn pipelines_page(
    state: &AppState,
    signed: &Signed,
    form: FormView,
    problem: Option<String>,
    status: StatusCode,
) -> Result<Response, WebError> {
    let pipelines = state
        .store
        .list_pipelines()
        .await?
        .into_iter()
        .map(|p| PipelineView {
            id: p.id,
            name: p.name.to_string(),
            stages: p.stages.iter().map(|s| (s.name.to_string(), s.win_probability)).collect(),
        })
        .collect();
    let page = PipelinesPage {
        chrome: signed.chrome("settings", "Pipelines"),
        tabs: tabs(signed, "/settings/pipelines"),
        pipelines,
        form,
        problem,
    };
    respond(signed, &page, status)
}

pub async fn page(State(state): State<AppState>, signed: Signed) -> Result<Response, WebError> {
    require_admin(&signed)?;
    pipelines_page(&state, &signed, FormView::default(), None, StatusCode::OK).await
}

/// "30", "30%" or "30 %": a whole number of percent (its range is the domain's to check).
fn probability(raw: &str) -> Result<i32, String> {
    raw.trim()
        .trim_end_matches('%')
        .trim()
        .parse::<i32>()
        .map_err(|_| "must be a whole number of percent, from 0 to 100".to_string())
}

/// Moves errors about `stages[i].…` to where the form shows them.
fn place_errors(errors: FieldErrors, place: impl Fn(usize, &str, &str) -> (String, String)) -> FieldErrors {
    let mut placed = FieldErrors::new();
    for (key, message) in errors.iter() {
        let indexed = key
            .strip_prefix("stages[")
            .and_then(|rest| rest.split_once(']'))
            .and_then(|(index, field)| Some((index.parse::<usize>().ok()?, field.trim_start_matches('.'))));
        match indexed {
            Some((index, field)) => {
                let (key, message) = place(index, field, message);
                placed.add(key, message);
            }
            None => placed.add(key.clone(), message.clone()),
        }
    }
    placed
}

/// The add form's textarea: one stage per line, "Name, probability%".
fn parse_lines(f: &mut Fields<'_>) -> (Vec<StageInput>, Vec<usize>) {
    let mut stages = Vec::new();
    let mut lines = Vec::new();
    let mut problems = Vec::new();
    for (number, line) in f.raw("stages").lines().enumerate().map(|(i, l)| (i + 1, l.trim())) {
        if line.is_empty() {
            continue;
        }
        let Some((name, chance)) = line.rsplit_once(',') else {
            problems.push(format!("line {number}: put the win probability after a comma, as in “{line}, 20%”"));
            continue;
        };
        let name = match Name::try_from(name.trim().to_owned()) {
            Ok(name) => name,
            Err(message) => {
                problems.push(format!("line {number}: the stage name {message}"));
                continue;
            }
        };
        match probability(chance) {
            Ok(win_probability) => {
                stages.push(StageInput { id: None, name, win_probability });
                lines.push(number);
            }
            Err(message) => problems.push(format!("line {number}: the win probability {message}")),
        }
    }
    if !problems.is_empty() {
        f.fail("stages", problems.join("; "));
    }
    (stages, lines)
}

pub async fn create(State(state): State<AppState>, signed: Signed, form: FormData) -> Result<Response, WebError> {
    require_admin(&signed)?;
    let mut f = Fields::new(&form);
    let name = f.required::<Name>("name");
    let (stages, lines) = parse_lines(&mut f);
    let place = |index: usize, field: &str, message: &str| {
        let line = lines.get(index).copied().unwrap_or(index + 1);
        let field = if field == "win_probability" { "the win probability" } else { field };
        ("stages".to_owned(), format!("line {line}: {field} {message}"))
    };
    let errors = f.errors.clone();
    let input = match (name, errors.is_empty()) {
        (Some(name), true) => PipelineInput { name, stages },
        _ => {
            let view = FormView::rejected(&form, errors);
            return pipelines_page(&state, &signed, view, None, StatusCode::UNPROCESSABLE_ENTITY).await;
        }
    };
    if let Err(errors) = input.check() {
        let view = FormView::rejected(&form, place_errors(errors, place));
        return pipelines_page(&state, &signed, view, None, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    match state.store.create_pipeline(&signed.actor, input).await {
        Ok(pipeline) => Ok(redirect_with_flash(
            "/settings/pipelines",
            &format!("Pipeline “{}” was added with {} stages.", pipeline.name, pipeline.stages.len()),
        )),
        Err(StorageError::Invalid(errors)) => {
            let view = FormView::rejected(&form, place_errors(errors, place));
            pipelines_page(&state, &signed, view, None, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(err) => {
            let mut view = FormView::refused(&form, err)?;
            view.problem = view.problem.as_deref().map(sentence);
            pipelines_page(&state, &signed, view, None, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

fn pipeline_id(raw: &str) -> Result<PipelineId, WebError> {
    raw.parse().map_err(|_| WebError::NotFound("pipeline"))
}

fn blank_rows(from: usize) -> impl Iterator<Item = StageRow> {
    (from..from + BLANK_ROWS).map(|index| StageRow {
        index,
        id: String::new(),
        name: String::new(),
        probability: String::new(),
        order: (index + 1).to_string(),
        name_error: None,
        probability_error: None,
        order_error: None,
    })
}

/// The stored stages as rows, and empty rows to add more.
fn stored_rows(pipeline: &Pipeline) -> Vec<StageRow> {
    let mut rows: Vec<StageRow> = pipeline
        .stages
        .iter()
        .enumerate()
        .map(|(index, stage)| StageRow {
            index,
            id: stage.id.to_string(),
            name: stage.name.to_string(),
            probability: stage.win_probability.to_string(),
            order: (index + 1).to_string(),
            name_error: None,
            probability_error: None,
            order_error: None,
        })
        .collect();
    rows.extend(blank_rows(rows.len()));
    rows
}

fn row_count(form: &FormData) -> usize {
    form.get("rows").parse::<usize>().unwrap_or(0).min(MAX_ROWS)
}

/// The rows as submitted, with their errors.
fn submitted_rows(form: &FormData, errors: &FieldErrors) -> Vec<StageRow> {
    let mut rows: Vec<StageRow> = (0..row_count(form))
        .map(|index| StageRow {
            index,
            id: form.get(&format!("stage_{index}_id")).to_owned(),
            name: form.get(&format!("stage_{index}_name")).to_owned(),
            probability: form.get(&format!("stage_{index}_probability")).to_owned(),
            order: form.get(&format!("stage_{index}_order")).to_owned(),
            name_error: errors.get(&format!("stage_{index}_name")).map(str::to_owned),
            probability_error: errors.get(&format!("stage_{index}_probability")).map(str::to_owned),
            order_error: errors.get(&format!("stage_{index}_order")).map(str::to_owned),
        })
        .collect();
    if rows.iter().all(|r| !r.name.is_empty()) {
        rows.extend(blank_rows(rows.len()));
    }
    rows
}

async fn edit(
    signed: &Signed,
    pipeline: &Pipeline,
    version: i64,
    form: FormView,
    rows: Vec<StageRow>,
    status: StatusCode,
) -> Result<Response, WebError> {
    let page = PipelineEdit {
        chrome: signed.chrome("settings", format!("Edit {}", pipeline.name)),
        tabs: tabs(signed, "/settings/pipelines"),
        id: pipeline.id,
        version,
        name: pipeline.name.to_string(),
        form,
        rows,
    };
    respond(signed, &page, status)
}

pub async fn edit_page(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    require_admin(&signed)?;
    let pipeline = state.store.get_pipeline(pipeline_id(&id)?).await?;
    let form = FormView::from_pairs([("name", pipeline.name.to_string())]);
    edit(&signed, &pipeline, pipeline.meta.version, form, stored_rows(&pipeline), StatusCode::OK).await
}

/// The edit form's rows: a row with a name is a stage (with its id, if it
/// was stored); a row left empty is skipped, which removes a stored stage.
/// Stages go in the order of their "order" numbers; ties keep the rows' order.
fn parse_rows(f: &mut Fields<'_>, form: &FormData) -> (Vec<StageInput>, Vec<usize>) {
    let mut parsed = Vec::new();
    for index in 0..row_count(form) {
        let name_key = format!("stage_{index}_name");
        let probability_key = format!("stage_{index}_probability");
        let order_key = format!("stage_{index}_order");
        if form.get(&name_key).is_empty() {
            continue;
        }
        let name = f.required::<Name>(&name_key);
        let id = match form.get(&format!("stage_{index}_id")) {
            "" => None,
            raw => match raw.parse::<StageId>() {
                Ok(id) => Some(id),
                Err(_) => {
                    f.fail(&name_key, "is not a stage of this pipeline: reload the page");
                    None
                }
            },
        };
        let chance = if form.get(&probability_key).is_empty() {
            f.fail(&probability_key, "is required");
            None
        } else {
            f.parse_with(&probability_key, probability)
        };
        let order = f
            .optional_with(&order_key, |raw| raw.parse::<i64>().map_err(|_| "must be a whole number".to_string()))
            .unwrap_or(index as i64 + 1);
        if let (Some(name), Some(win_probability)) = (name, chance) {
            parsed.push((order, index, StageInput { id, name, win_probability }));
        }
    }
    parsed.sort_by_key(|(order, index, _)| (*order, *index));
    parsed.into_iter().map(|(_, index, stage)| (stage, index)).unzip()
}

pub async fn update(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
    form: FormData,
) -> Result<Response, WebError> {
    require_admin(&signed)?;
    let id = pipeline_id(&id)?;
    let before = state.store.get_pipeline(id).await?;
    let version = form.get("version").parse::<i64>().unwrap_or(before.meta.version);
    let mut f = Fields::new(&form);
    let name = f.required::<Name>("name");
    let (stages, rows) = parse_rows(&mut f, &form);
    let place = |index: usize, field: &str, message: &str| match (rows.get(index), field) {
        (Some(row), "win_probability") => (format!("stage_{row}_probability"), message.to_owned()),
        (Some(row), _) => (format!("stage_{row}_name"), message.to_owned()),
        (None, _) => ("stages".to_owned(), message.to_owned()),
    };
    let refuse = |errors: FieldErrors| {
        let rows = submitted_rows(&form, &errors);
        (FormView::rejected(&form, errors), rows)
    };
    let errors = f.errors.clone();
    let input = match (name, errors.is_empty()) {
        (Some(name), true) => PipelineInput { name, stages },
        _ => {
            let (view, rows) = refuse(errors);
            return edit(&signed, &before, version, view, rows, StatusCode::UNPROCESSABLE_ENTITY).await;
        }
    };
    if let Err(errors) = input.check() {
        let (view, rows) = refuse(place_errors(errors, place));
        return edit(&signed, &before, version, view, rows, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    match state.store.update_pipeline(&signed.actor, id, input, Some(version)).await {
        Ok(pipeline) => {
            Ok(redirect_with_flash("/settings/pipelines", &format!("Pipeline “{}” was saved.", pipeline.name)))
        }
        Err(StorageError::Invalid(errors)) => {
            let (view, rows) = refuse(place_errors(errors, place));
            edit(&signed, &before, version, view, rows, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(err) => {
            let mut view = FormView::refused(&form, err)?;
            view.problem = view.problem.as_deref().map(sentence);
            let rows = submitted_rows(&form, &view.errors);
            edit(&signed, &before, version, view, rows, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

pub async fn delete(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    require_admin(&signed)?;
    let id = pipeline_id(&id)?;
    let pipeline = state.store.get_pipeline(id).await?;
    match state.store.delete_pipeline(&signed.actor, id).await {
        Ok(()) => Ok(redirect_with_flash("/settings/pipelines", &format!("Pipeline “{}” was deleted.", pipeline.name))),
        Err(StorageError::Conflict(message)) => {
            let problem = format!(
                "Pipeline “{}” was not deleted: {message}. Move its deals to another pipeline, or delete them, first.",
                pipeline.name
            );
            pipelines_page(&state, &signed, FormView::default(), Some(problem), StatusCode::CONFLICT).await
        }
        Err(other) => Err(other.into()),
    }
}
