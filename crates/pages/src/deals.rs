//! Deals: the list, the deal page, and the create and edit forms.

use std::collections::HashMap;

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, RawQuery, State};
use axum::response::Response;
use axum::routing::{get, post};
use rapport_domain::access::Action;
use rapport_domain::custom_fields::{CustomFieldDefinition, EntityType};
use rapport_domain::history::RecordKind;
use rapport_domain::records::{ActivityKind, Deal, DealInput, DealStatus, Pipeline, Stage};
use rapport_domain::text::{LongText, Name, Tag};
use rapport_domain::{CompanyId, Currency, DealId, FieldErrors, Money, PersonId, PipelineId, StageId, UserId};
use rapport_storage::{ActivityFilter, DealFilter, ListQuery, StorageError};
use serde::Deserialize;

use super::custom::{self, CustomInput, CustomShown};
use super::form::{Conflict, Fields, FormData, FormView};
use super::format::capitalize;
use super::history::{HistoryPanel, last_editor};
use super::inline_edit::{self, InlineField, Input, Place};
use super::list_bulk::{BulkBar, RowKey, stage_choices};
use super::lists::{Cell, Choice, Column, Filter, FilterField, ListRequest, ListSpec};
use super::lookup::{company_by_name, person_label};
use super::staff::Staff;
use super::timeline::deal_status;
use super::{Chrome, Signed, WebError, format, redirect_with_flash};
use rapport_api::AppState;

const COLUMNS: &[Column] = &[
    Column::new("name", "Name").sorts("name"),
    Column::new("amount", "Amount").sorts("amount").numeric(),
    Column::new("stage", "Stage"),
    Column::new("status", "Status"),
    Column::new("person", "Person"),
    Column::new("company", "Company"),
    Column::new("owner", "Owner"),
    Column::new("expected_close", "Expected close").sorts("expected_close"),
    Column::new("pipeline", "Pipeline").optional(),
    Column::new("tags", "Tags").optional(),
    Column::new("updated", "Updated").sorts("updated_at").optional(),
    Column::new("created", "Added").sorts("created_at").optional(),
];

const SPEC: ListSpec = ListSpec {
    path: "/deals",
    list: rapport_domain::views::ListKind::Deals,
    heading: "Deals",
    new_label: "New deal",
    search_label: "Deal name…",
    searchable: true,
    default_sort: "-created_at",
    empty_title: "No deals yet.",
    empty_hint: "Track an opportunity with “New deal”, then move it along the board.",
};

/// Currencies offered first on the deal form.
const CURRENCIES: &[&str] =
    &["EUR", "USD", "GBP", "CHF", "SEK", "NOK", "DKK", "PLN", "CZK", "CAD", "AUD", "JPY", "BRL", "INR"];

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/deals", get(list).post(create))
        .route("/deals/count", get(count))
        .route("/deals/new", get(new_form))
        .route("/deals/{id}", get(page).post(update))
        .route("/deals/{id}/edit", get(edit_form))
        .route("/deals/{id}/delete", post(delete))
}

/// Where each stage sits: its name and its pipeline's.
struct Stages {
    by_id: HashMap<StageId, (String, String, PipelineId)>,
}

impl Stages {
    fn new(pipelines: &[Pipeline]) -> Self {
        let by_id = pipelines
            .iter()
            .flat_map(|p| p.stages.iter().map(move |s| (s.id, (s.name.to_string(), p.name.to_string(), p.id))))
            .collect();
        Stages { by_id }
    }

    fn stage(&self, id: StageId) -> String {
        self.by_id.get(&id).map(|(stage, _, _)| stage.clone()).unwrap_or_default()
    }

    fn pipeline(&self, id: StageId) -> String {
        self.by_id.get(&id).map(|(_, pipeline, _)| pipeline.clone()).unwrap_or_default()
    }
}

fn status_choices() -> Vec<Choice> {
    DealStatus::ALL.iter().map(|s| Choice::new(s.as_str(), capitalize(s.as_str()))).collect()
}

/// The deals list's other filters (those the sales page's figures link
/// with among them), so whoever arrives from a figure sees what narrows the
/// list and can clear it.
fn more_filters(request: &ListRequest<DealFilter>, pipelines: &[Pipeline]) -> Vec<FilterField> {
    vec![
        FilterField::select(request, "stage_id", "Stage", stage_choices(pipelines)),
        FilterField::select(request, "reached_stage_id", "Was ever in stage", stage_choices(pipelines)),
        FilterField::input(request, "closed_from", "Closed from", "date"),
        FilterField::input(request, "closed_to", "Closed to", "date"),
        FilterField::input(request, "expected_close_from", "Expected close from", "date"),
        FilterField::input(request, "expected_close_to", "Expected close to", "date"),
        FilterField::yes_no(request, "has_expected_close", "Has an expected close"),
        FilterField::yes_no(request, "has_owner", "Has an owner"),
        FilterField::input(request, "source", "Lead source", "text"),
        FilterField::yes_no(request, "has_source", "Has a lead source"),
        FilterField::input(request, "currency", "Currency", "text"),
    ]
}

/// The list's count, loaded after the page (`lists::CountSlot`).
async fn count(State(state): State<AppState>, signed: Signed, RawQuery(raw): RawQuery) -> Result<Response, WebError> {
    let request = ListRequest::<DealFilter>::parse_count(raw.as_deref())?;
    state.store.list_deals(&request.params.query, &request.params.filter).await?;
    SPEC.count(&signed, &request, true)
}

pub async fn list(
    State(state): State<AppState>,
    signed: Signed,
    RawQuery(raw): RawQuery,
) -> Result<Response, WebError> {
    let request = ListRequest::<DealFilter>::parse(raw.as_deref())?;
    let page = state.store.list_deals(&request.params.query, &request.params.filter).await?;
    let staff = Staff::load(&state).await?;
    let pipelines = state.store.list_pipelines().await?;
    let stages = Stages::new(&pipelines);
    let people: Vec<PersonId> = page.items.iter().filter_map(|d| d.fields.person_id).collect();
    let person_names = state.store.person_names(&people).await?;
    let companies: Vec<CompanyId> = page.items.iter().filter_map(|d| d.fields.company_id).collect();
    let company_names = state.store.company_names(&companies).await?;
    let filters = vec![
        Filter {
            name: "pipeline_id",
            label: "Pipeline",
            choices: pipelines.iter().map(|p| Choice::new(p.id.to_string(), p.name.to_string())).collect(),
            selected: request.get("pipeline_id").to_owned(),
        },
        Filter {
            name: "status",
            label: "Status",
            choices: status_choices(),
            selected: request.get("status").to_owned(),
        },
        Filter {
            name: "owner_id",
            label: "Owner",
            choices: staff.choices(),
            selected: request.get("owner_id").to_owned(),
        },
    ];
    let keys = page.items.iter().map(|d| RowKey::new(d.id, d.fields.name.to_string())).collect();
    let cx = inline_edit::Context { staff: &staff, extra: &pipelines };
    let mut view = SPEC
        .build(&state, &signed, &request, COLUMNS, filters, page, |deal: &Deal, shown| {
            let d = &deal.fields;
            let deal_cell = |key: &str| match key {
                "status" => {
                    let (text, class) = deal_status(d.status);
                    Cell::badge(text, class)
                }
                "person" => match d.person_id {
                    Some(id) => Cell::link(person_names.get(&id).cloned().unwrap_or_default(), format!("/people/{id}")),
                    None => Cell::default(),
                },
                "company" => match d.company_id {
                    Some(id) => {
                        Cell::link(company_names.get(&id).cloned().unwrap_or_default(), format!("/companies/{id}"))
                    }
                    None => Cell::default(),
                },
                "pipeline" => Cell::text(stages.pipeline(d.stage_id)),
                "updated" => Cell::text(format::date(deal.meta.updated_at.date())),
                _ => Cell::text(format::date(deal.meta.created_at.date())),
            };
            shown
                .iter()
                .map(|column| {
                    // The cells that edit in place come from the shared editor, with their Edit buttons.
                    inline_edit::list_cell(deal, column.key, &cx, &signed.actor)
                        .unwrap_or_else(|| deal_cell(column.key))
                })
                .collect()
        })
        .await?;
    view.more_filters = more_filters(&request, &pipelines);
    view.bulk = Some(BulkBar::deals(request.total(), staff.choices(), &pipelines));
    view.row_keys = keys;
    signed.page(&view)
}

/// An activity logged against the deal.
pub struct ActivityLine {
    pub kind: &'static str,
    pub label: &'static str,
    /// The letter in the entry's dot.
    pub mark: &'static str,
    pub title: String,
    pub body: String,
    pub at_iso: String,
    pub at_text: String,
    pub who: String,
}

fn kind_label(kind: ActivityKind) -> &'static str {
    match kind {
        ActivityKind::Note => "Note",
        ActivityKind::Call => "Call",
        ActivityKind::Email => "Email",
        ActivityKind::Meeting => "Meeting",
        ActivityKind::Message => "Message",
    }
}

#[derive(Template)]
#[template(path = "deal.html")]
struct DealPage {
    chrome: Chrome,
    id: DealId,
    name: String,
    amount: String,
    pipeline: String,
    board_href: String,
    stage: String,
    status: &'static str,
    status_class: &'static str,
    lost_reason: String,
    person: Option<(String, String)>,
    company: Option<(String, String)>,
    owner: String,
    expected_close: String,
    closed: String,
    created: String,
    tags: Vec<String>,
    custom: Vec<CustomShown>,
    activities: Vec<ActivityLine>,
    can_edit: bool,
    can_delete: bool,
    history: HistoryPanel,
}

pub async fn page(State(state): State<AppState>, signed: Signed, Path(id): Path<String>) -> Result<Response, WebError> {
    let id: DealId = id.parse().map_err(|_| WebError::NotFound("deal"))?;
    let deal = state.store.get_deal(id).await?;
    let staff = Staff::load(&state).await?;
    let d = &deal.fields;
    let definitions = custom::definitions(&state, EntityType::Deal).await?;
    let pipelines = state.store.list_pipelines().await?;
    let stages = Stages::new(&pipelines);
    let person = match d.person_id {
        Some(person) => {
            state.store.person_names(&[person]).await?.remove(&person).map(|name| (name, format!("/people/{person}")))
        }
        None => None,
    };
    let company = match d.company_id {
        Some(company) => state
            .store
            .company_names(&[company])
            .await?
            .remove(&company)
            .map(|name| (name, format!("/companies/{company}"))),
        None => None,
    };
    let activities = state
        .store
        .list_activities(
            &ListQuery { limit: Some(50), ..Default::default() },
            &ActivityFilter { deal_id: Some(id), ..Default::default() },
        )
        .await?
        .items
        .into_iter()
        .map(|a| {
            let at = a.fields.occurred_at.unwrap_or(a.meta.created_at);
            ActivityLine {
                kind: a.fields.kind.as_str(),
                label: kind_label(a.fields.kind),
                mark: &kind_label(a.fields.kind)[..1],
                title: a.fields.subject.as_ref().map(|s| s.to_string()).unwrap_or_default(),
                body: a.fields.body.as_ref().map(|b| b.to_string()).unwrap_or_default(),
                at_iso: format::iso(at),
                at_text: format::datetime(at),
                who: staff.name(a.fields.author_id),
            }
        })
        .collect();
    let (status, status_class) = deal_status(d.status);
    let view = DealPage {
        chrome: signed.chrome("deals", d.name.to_string()),
        id,
        name: d.name.to_string(),
        amount: super::numbers::money(&d.amount),
        pipeline: stages.pipeline(d.stage_id),
        board_href: format!("/pipelines/{}/board", d.pipeline_id),
        stage: stages.stage(d.stage_id),
        status,
        status_class,
        lost_reason: d.lost_reason.as_ref().map(|r| r.to_string()).unwrap_or_default(),
        person,
        company,
        owner: staff.name(d.owner_id),
        expected_close: d.expected_close.map(format::date).unwrap_or_default(),
        closed: deal.closed_at.map(|at| format::date(at.date())).unwrap_or_default(),
        created: format::date(deal.meta.created_at.date()),
        tags: d.tags.iter().map(|t| t.as_str().to_owned()).collect(),
        custom: custom::shown(&definitions, &d.custom_fields),
        activities,
        can_edit: staff.allows(&signed.actor, Action::Edit, d.owner_id, deal.meta.created_by),
        can_delete: staff.allows(&signed.actor, Action::Delete, d.owner_id, deal.meta.created_by),
        history: HistoryPanel::latest(&state, RecordKind::Deals, id.0, &staff).await?,
    };
    signed.page(&view)
}

/// A pipeline's stages, as one `<optgroup>` of the stage select.
pub struct StageGroup {
    pub name: String,
    pub stages: Vec<Choice>,
}

#[derive(Template)]
#[template(path = "deal_form.html")]
struct DealForm {
    chrome: Chrome,
    /// `None` for a new deal.
    id: Option<DealId>,
    version: i64,
    form: FormView,
    pipelines: Vec<StageGroup>,
    currencies: Vec<Choice>,
    statuses: Vec<Choice>,
    owners: Vec<Choice>,
    custom: Vec<CustomInput>,
}

impl DealForm {
    async fn new(
        state: &AppState,
        signed: &Signed,
        id: Option<DealId>,
        version: i64,
        form: FormView,
    ) -> Result<Self, WebError> {
        let staff = Staff::load(state).await?;
        let mut owners = vec![Choice::new("", "Nobody")];
        owners.extend(staff.choices());
        let pipelines = state
            .store
            .list_pipelines()
            .await?
            .into_iter()
            .map(|p| StageGroup {
                name: p.name.to_string(),
                stages: p.stages.iter().map(|s| Choice::new(s.id.to_string(), s.name.to_string())).collect(),
            })
            .collect();
        let mut currencies: Vec<Choice> = CURRENCIES.iter().map(|c| Choice::new(*c, *c)).collect();
        let current = form.value("currency").to_ascii_uppercase();
        if !current.is_empty() && !CURRENCIES.contains(&current.as_str()) {
            currencies.insert(0, Choice::new(current.clone(), current));
        }
        let title = if id.is_some() { "Edit deal" } else { "New deal" };
        Ok(DealForm {
            chrome: signed.chrome("deals", title),
            id,
            version,
            form,
            pipelines,
            currencies,
            statuses: status_choices(),
            owners,
            custom: custom::inputs(&custom::definitions(state, EntityType::Deal).await?),
        })
    }

    fn respond(&self, signed: &Signed) -> Result<Response, WebError> {
        signed.form_page(self, &self.form)
    }
}

#[derive(Deserialize)]
pub struct NewDealParams {
    person_id: Option<PersonId>,
    company_id: Option<CompanyId>,
    stage_id: Option<StageId>,
}

pub async fn new_form(
    State(state): State<AppState>,
    signed: Signed,
    Query(params): Query<NewDealParams>,
) -> Result<Response, WebError> {
    signed.ensure_can_create()?;
    let mut pairs =
        vec![("owner_id", signed.user.id.to_string()), ("status", "open".to_owned()), ("currency", "EUR".to_owned())];
    if let Some(stage) = params.stage_id {
        pairs.push(("stage", stage.to_string()));
    }
    if let Some(person) = params.person_id {
        let person = state.store.get_person(person).await?;
        pairs.push(("person", person_label(&person)));
        if params.company_id.is_none()
            && let Some(company) = person.fields.company_id
        {
            pairs.push(("company", state.store.get_company(company).await?.fields.name.to_string()));
        }
    }
    if let Some(company) = params.company_id {
        pairs.push(("company", state.store.get_company(company).await?.fields.name.to_string()));
    }
    DealForm::new(&state, &signed, None, 0, FormView::from_pairs(pairs)).await?.respond(&signed)
}

pub async fn edit_form(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let id: DealId = id.parse().map_err(|_| WebError::NotFound("deal"))?;
    let deal = state.store.get_deal(id).await?;
    Staff::load(&state).await?.ensure(&signed.actor, Action::Edit, deal.fields.owner_id, deal.meta.created_by)?;
    let stored = form_values(&state, &deal).await?;
    DealForm::new(&state, &signed, Some(id), deal.meta.version, FormView::editing(stored)).await?.respond(&signed)
}

/// A stored deal as the edit form's values.
async fn form_values(state: &AppState, deal: &Deal) -> Result<Vec<(String, String)>, WebError> {
    let d = &deal.fields;
    let text = |value: Option<String>| value.unwrap_or_default();
    let mut pairs = vec![
        ("name".to_owned(), d.name.to_string()),
        ("amount".to_owned(), d.amount.input_text()),
        ("currency".to_owned(), d.amount.currency.as_str().to_owned()),
        ("stage".to_owned(), d.stage_id.to_string()),
        ("status".to_owned(), d.status.as_str().to_owned()),
        ("lost_reason".to_owned(), text(d.lost_reason.as_ref().map(|r| r.to_string()))),
        ("owner_id".to_owned(), text(d.owner_id.map(|o| o.to_string()))),
        ("expected_close".to_owned(), text(d.expected_close.map(format::date))),
        ("tags".to_owned(), d.tags.iter().map(Tag::as_str).collect::<Vec<_>>().join(", ")),
        ("external_id".to_owned(), text(d.external_id.as_ref().map(|e| e.to_string()))),
    ];
    if let Some(person) = d.person_id {
        pairs.push(("person".to_owned(), person_label(&state.store.get_person(person).await?)));
    }
    if let Some(company) = d.company_id {
        pairs.push(("company".to_owned(), state.store.get_company(company).await?.fields.name.to_string()));
    }
    pairs.extend(custom::form_pairs(&d.custom_fields));
    Ok(pairs)
}

fn parse_date(raw: &str) -> Result<time::Date, String> {
    time::Date::parse(raw, time::macros::format_description!("[year]-[month]-[day]"))
        .map_err(|_| "must be a date such as 2026-12-01".to_string())
}

/// Parses the deal form into the same input the API takes.
async fn parse(
    state: &AppState,
    form: &FormData,
    definitions: &[CustomFieldDefinition],
) -> Result<Result<DealInput, FieldErrors>, WebError> {
    let pipelines = state.store.list_pipelines().await?;
    let mut f = Fields::new(form);
    let name = f.required::<Name>("name");
    let euro = Currency::parse("EUR").expect("EUR is a currency");
    let currency = if f.raw("currency").is_empty() { Some(euro) } else { f.parse_with("currency", Currency::parse) };
    let amount = if f.raw("amount").is_empty() {
        Some(Money::new(0, currency.unwrap_or(euro)))
    } else {
        f.parse_with("amount", |raw| Money::parse_major(raw, currency.unwrap_or(euro)))
    };
    if amount.is_some_and(|a| a.amount_minor < 0) {
        f.fail("amount", "must not be negative");
    }
    let stage = f.parse_with("stage", |raw| {
        if raw.is_empty() {
            return Err("is required".to_string());
        }
        let id: StageId = raw.parse().map_err(|_| "is not a stage".to_string())?;
        pipelines
            .iter()
            .find_map(|p| p.stages.iter().find(|s| s.id == id).map(|s| (p.id, s.id)))
            .ok_or_else(|| "is not a stage of any pipeline (it may have been removed)".to_string())
    });
    let status = f.optional_with("status", DealStatus::parse).unwrap_or(DealStatus::Open);
    // Only a lost deal keeps a reason: reopening or winning it drops the old one.
    let lost_reason = if status == DealStatus::Lost { f.optional::<LongText>("lost_reason") } else { None };
    let person_id = super::lookup::person_by_label(state, &mut f, "person").await?;
    let company_id = company_by_name(state, &mut f, "company").await?;
    let owner_id = f.optional_with("owner_id", |raw| raw.parse::<UserId>().map_err(|_| "is not a staff member".into()));
    let expected_close = f.optional_with("expected_close", parse_date);
    let tags = f.list::<Tag>("tags");
    let external_id = f.optional::<Name>("external_id");
    let custom_fields = custom::from_form(definitions, form);
    Ok(match (name, amount, stage, f.finish()) {
        (Some(name), Some(amount), Some((pipeline_id, stage_id)), Ok(())) => Ok(DealInput {
            name,
            amount,
            pipeline_id,
            stage_id,
            person_id,
            company_id,
            owner_id,
            expected_close,
            status,
            lost_reason,
            tags,
            external_id,
            custom_fields,
        }),
        (_, _, _, Err(errors)) => Err(errors),
        _ => Err(FieldErrors::single("name", "is required")),
    })
}

/// A storage refusal on the deal form, with the API's field names turned
/// into the form's, so each message lands beside its input.
fn refused(form: &FormData, err: StorageError) -> Result<FormView, WebError> {
    FormView::refused_renamed(form, err, |field| match field {
        "stage_id" | "pipeline_id" => Some("stage"),
        "person_id" => Some("person"),
        "company_id" => Some("company"),
        "amount" | "amount.amount_minor" | "amount.currency" => Some("amount"),
        _ => None,
    })
}

pub async fn create(State(state): State<AppState>, signed: Signed, form: FormData) -> Result<Response, WebError> {
    let definitions = custom::definitions(&state, EntityType::Deal).await?;
    let input = match parse(&state, &form, &definitions).await? {
        Ok(input) => input,
        Err(errors) => {
            return DealForm::new(&state, &signed, None, 0, FormView::rejected(&form, errors)).await?.respond(&signed);
        }
    };
    match state.store.create_deal(&signed.actor, input).await {
        Ok(deal) => {
            Ok(redirect_with_flash(&format!("/deals/{}", deal.id), &format!("{} was added.", deal.fields.name)))
        }
        Err(err) => DealForm::new(&state, &signed, None, 0, refused(&form, err)?).await?.respond(&signed),
    }
}

pub async fn update(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
    form: FormData,
) -> Result<Response, WebError> {
    let id: DealId = id.parse().map_err(|_| WebError::NotFound("deal"))?;
    let before = state.store.get_deal(id).await?;
    Staff::load(&state).await?.ensure(&signed.actor, Action::Edit, before.fields.owner_id, before.meta.created_by)?;
    let version = form.get("version").parse::<i64>().unwrap_or(before.meta.version);
    let definitions = custom::definitions(&state, EntityType::Deal).await?;
    let input = match parse(&state, &form, &definitions).await? {
        Ok(input) => input,
        Err(errors) => {
            return DealForm::new(&state, &signed, Some(id), version, FormView::rejected(&form, errors))
                .await?
                .respond(&signed);
        }
    };
    match state.store.update_deal(&signed.actor, id, input, Some(version)).await {
        Ok(deal) => Ok(redirect_with_flash(&format!("/deals/{id}"), &format!("{} was saved.", deal.fields.name))),
        Err(StorageError::VersionMismatch { .. }) => {
            let current = state.store.get_deal(id).await?;
            let stored = form_values(&state, &current).await?;
            let who = last_editor(&state, RecordKind::Deals, id.0).await?;
            let conflict = Conflict::new(&current.meta, who, format!("/deals/{id}"));
            let view = FormView::conflicted(&form, stored, conflict);
            DealForm::new(&state, &signed, Some(id), current.meta.version, view).await?.respond(&signed)
        }
        Err(err) => DealForm::new(&state, &signed, Some(id), version, refused(&form, err)?).await?.respond(&signed),
    }
}

pub async fn delete(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let id: DealId = id.parse().map_err(|_| WebError::NotFound("deal"))?;
    let deal = state.store.get_deal(id).await?;
    let entry = state.store.delete_deal(&signed.actor, id).await?;
    Ok(super::trash::deleted(entry, "/deals", deal.fields.name.as_str()))
}

/// The stages of the pipeline `id`, in board order.
fn pipeline_stages(pipelines: &[Pipeline], id: PipelineId) -> &[Stage] {
    pipelines.iter().find(|p| p.id == id).map(|p| &p.stages[..]).unwrap_or_default()
}

/// A deal's list cells edited in place.
impl inline_edit::Editable for Deal {
    const PATH: &'static str = "deals";
    const NOUN: &'static str = "deal";
    const FIELDS: &'static [InlineField] = &[
        InlineField::new("name", "Name", Input::Text),
        InlineField::new("amount", "Amount", Input::Amount),
        InlineField::new("stage", "Stage", Input::Choice),
        InlineField::new("owner", "Owner", Input::Choice),
        InlineField::new("expected_close", "Expected close", Input::Date),
        InlineField::new("tags", "Tags", Input::Text),
    ];
    const PLACES: &'static [Place] = &[Place::Cell];
    /// The pipelines, for the stages' names and the stage drop-down.
    type Extra = Vec<Pipeline>;
    type Input = DealInput;

    async fn extra(state: &AppState) -> Result<Vec<Pipeline>, WebError> {
        Ok(state.store.list_pipelines().await?)
    }

    async fn load(state: &AppState, id: &str) -> Result<Self, WebError> {
        let id: DealId = id.parse().map_err(|_| WebError::NotFound("deal"))?;
        Ok(state.store.get_deal(id).await?)
    }

    fn id(&self) -> String {
        self.id.to_string()
    }

    fn name(&self) -> String {
        self.fields.name.to_string()
    }

    fn meta(&self) -> &rapport_domain::records::Meta {
        &self.meta
    }

    fn owner(&self) -> Option<UserId> {
        self.fields.owner_id
    }

    /// A won or lost deal has left its stages: reopening it (its edit form) comes first.
    fn open(&self, field: &str) -> bool {
        field != "stage" || self.fields.status == DealStatus::Open
    }

    fn shown(&self, field: &str, _place: Place, cx: &inline_edit::Context<'_, Vec<Pipeline>>) -> Cell {
        let d = &self.fields;
        match field {
            "name" => Cell::link(self.value(field), format!("/deals/{}", self.id)),
            "amount" => Cell::text(super::numbers::money(&d.amount)),
            // A closed deal sits in the board's Won or Lost column, not in its last stage.
            "stage" => match d.status {
                DealStatus::Open => Cell::text(
                    pipeline_stages(cx.extra, d.pipeline_id)
                        .iter()
                        .find(|s| s.id == d.stage_id)
                        .map(|s| s.name.to_string())
                        .unwrap_or_default(),
                ),
                closed => Cell::text(deal_status(closed).0),
            },
            "owner" => Cell::text(cx.staff.name(d.owner_id)),
            _ => Cell::text(self.value(field)),
        }
    }

    fn value(&self, field: &str) -> String {
        let d = &self.fields;
        match field {
            "name" => d.name.to_string(),
            "amount" => d.amount.input_text(),
            "stage" => d.stage_id.to_string(),
            "owner" => d.owner_id.map(|id| id.to_string()).unwrap_or_default(),
            "expected_close" => d.expected_close.map(format::date).unwrap_or_default(),
            _ => d.tags.iter().map(Tag::as_str).collect::<Vec<_>>().join(", "),
        }
    }

    fn choices(&self, field: &str, cx: &inline_edit::Context<'_, Vec<Pipeline>>) -> Vec<Choice> {
        match field {
            "stage" => pipeline_stages(cx.extra, self.fields.pipeline_id)
                .iter()
                .map(|s| Choice::new(s.id.to_string(), s.name.to_string()))
                .collect(),
            _ => inline_edit::owner_choices(cx.staff),
        }
    }

    fn changed(
        &self,
        field: &str,
        typed: &str,
        cx: &inline_edit::Context<'_, Vec<Pipeline>>,
    ) -> Result<DealInput, String> {
        let mut fields = self.fields.clone();
        match field {
            "name" => fields.name = inline_edit::required(typed, "name")?,
            "amount" => {
                // Typed in the deal's currency; empty is nothing, as on the edit form.
                let currency = fields.amount.currency;
                let amount =
                    if typed.is_empty() { Ok(Money::new(0, currency)) } else { Money::parse_major(typed, currency) };
                fields.amount = amount.map_err(|m| inline_edit::refusal("amount", &m))?;
                if fields.amount.amount_minor < 0 {
                    return Err("The amount must not be negative.".to_owned());
                }
            }
            "stage" => {
                let stages = pipeline_stages(cx.extra, fields.pipeline_id);
                fields.stage_id = typed
                    .parse::<StageId>()
                    .ok()
                    .filter(|id| stages.iter().any(|s| s.id == *id))
                    .ok_or("Choose a stage of this deal’s pipeline.")?;
            }
            "owner" => fields.owner_id = inline_edit::owner(typed)?,
            "expected_close" => {
                fields.expected_close = match typed {
                    "" => None,
                    typed => Some(parse_date(typed).map_err(|m| inline_edit::refusal("expected close", &m))?),
                }
            }
            _ => fields.tags = inline_edit::tags(typed)?,
        }
        Ok(fields)
    }

    async fn update(
        &self,
        state: &AppState,
        actor: &rapport_domain::Actor,
        input: DealInput,
        version: i64,
    ) -> Result<Self, StorageError> {
        state.store.update_deal(actor, self.id, input, Some(version)).await
    }
}
