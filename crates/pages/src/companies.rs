//! Companies: the list, the customer page, and the create and edit forms.

use askama::Template;
use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::response::Response;
use axum::routing::{get, post};
use rapport_domain::access::Action;
use rapport_domain::custom_fields::{CustomFieldDefinition, EntityType};
use rapport_domain::history::RecordKind;
use rapport_domain::records::{Company, CompanyInput, CompanySize, Domain};
use rapport_domain::text::{Name, Tag};
use rapport_domain::{CompanyId, FieldErrors, UserId};
use rapport_storage::{CompanyFilter, DealFilter, ListQuery, PersonFilter, StorageError};

use super::custom::{self, CustomInput, CustomShown};
use super::form::{Conflict, Fields, FormData, FormView};
use super::history::{HistoryPanel, last_editor};
use super::inline_edit::{self, InlineField, Input, Place};
use super::list_bulk::{BulkBar, RowKey};
use super::lists::{Cell, Choice, Column, Filter, ListRequest, ListSpec};
use super::purchases::{self, PurchaseLine};
use super::staff::Staff;
use super::timeline::{self, DealLine, Subject};
use super::{Chrome, Signed, WebError, format, redirect_with_flash, render};
use rapport_api::AppState;

const COLUMNS: &[Column] = &[
    Column::new("name", "Name").sorts("name"),
    Column::new("domain", "Domain"),
    Column::new("industry", "Industry"),
    Column::new("size", "Size"),
    Column::new("owner", "Owner"),
    Column::new("tags", "Tags").optional(),
    Column::new("updated", "Updated").sorts("updated_at").optional(),
    Column::new("created", "Added").sorts("created_at").optional(),
];

const SPEC: ListSpec = ListSpec {
    path: "/companies",
    list: rapport_domain::views::ListKind::Companies,
    heading: "Companies",
    new_label: "New company",
    search_label: "Name or domain…",
    searchable: true,
    default_sort: "name",
    empty_title: "No companies yet.",
    empty_hint: "Add the organisations your customers work for with “New company”.",
};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/companies", get(list).post(create))
        .route("/companies/count", get(count))
        .route("/companies/new", get(new_form))
        .route("/companies/options", get(options))
        .route("/companies/{id}", get(page).post(update))
        .route("/companies/{id}/edit", get(edit_form))
        .route("/companies/{id}/delete", post(delete))
        .route("/companies/{id}/timeline", get(timeline::company_fragment).post(timeline::add_to_company))
}

fn size_label(size: CompanySize) -> String {
    format!("{} employees", size.as_str())
}

fn size_choices() -> Vec<Choice> {
    let mut choices = vec![Choice::new("", "Unknown")];
    choices.extend(CompanySize::ALL.iter().map(|s| Choice::new(s.as_str(), size_label(*s))));
    choices
}

/// The list's count, loaded after the page (`lists::CountSlot`).
async fn count(State(state): State<AppState>, signed: Signed, RawQuery(raw): RawQuery) -> Result<Response, WebError> {
    let request = ListRequest::<CompanyFilter>::parse_count(raw.as_deref())?;
    state.store.list_companies(&request.params.query, &request.params.filter).await?;
    SPEC.count(&signed, &request, true)
}

pub async fn list(
    State(state): State<AppState>,
    signed: Signed,
    RawQuery(raw): RawQuery,
) -> Result<Response, WebError> {
    let request = ListRequest::<CompanyFilter>::parse(raw.as_deref())?;
    let page = state.store.list_companies(&request.params.query, &request.params.filter).await?;
    let staff = Staff::load(&state).await?;
    let filters = vec![Filter {
        name: "owner_id",
        label: "Owner",
        choices: staff.choices(),
        selected: request.get("owner_id").to_owned(),
    }];
    let keys = page.items.iter().map(|c| RowKey::new(c.id, c.fields.name.to_string())).collect();
    let cx = inline_edit::Context { staff: &staff, extra: &() };
    let mut view = SPEC
        .build(&state, &signed, &request, COLUMNS, filters, page, |company: &Company, shown| {
            shown
                .iter()
                .map(|column| {
                    // The cells that edit in place come from the shared editor, with their Edit buttons.
                    inline_edit::list_cell(company, column.key, &cx, &signed.actor).unwrap_or_else(|| {
                        match column.key {
                            "updated" => Cell::text(format::date(company.meta.updated_at.date())),
                            _ => Cell::text(format::date(company.meta.created_at.date())),
                        }
                    })
                })
                .collect()
        })
        .await?;
    view.bulk = Some(BulkBar::companies(request.total(), staff.choices()));
    view.row_keys = keys;
    signed.page(&view)
}

/// Someone who works at the company, as its page lists them.
pub struct PersonLine {
    pub name: String,
    pub href: String,
    pub job_title: String,
}

#[derive(Template)]
#[template(path = "company.html")]
struct CompanyPage {
    chrome: Chrome,
    id: CompanyId,
    name: String,
    initials: String,
    industry: String,
    size: String,
    domain: String,
    owner: String,
    tags: Vec<String>,
    custom: Vec<CustomShown>,
    people: Vec<PersonLine>,
    more_people: bool,
    deals: Vec<DealLine>,
    purchases: Vec<PurchaseLine>,
    purchase_totals: Vec<String>,
    purchase_count: i64,
    /// "1 purchase", "94 purchases".
    purchase_count_text: String,
    can_edit: bool,
    can_delete: bool,
    /// Just merged into: the merge, for the "Undo merge" button.
    merged: Option<uuid::Uuid>,
    timeline_html: String,
    history: HistoryPanel,
}

pub async fn page(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
    axum::extract::RawQuery(raw): axum::extract::RawQuery,
) -> Result<Response, WebError> {
    let id: CompanyId = id.parse().map_err(|_| WebError::NotFound("company"))?;
    let company = state.store.get_company(id).await?;
    let staff = Staff::load(&state).await?;
    let c = &company.fields;
    let definitions = custom::definitions(&state, EntityType::Company).await?;
    let people_page = state
        .store
        .list_people(
            &ListQuery { limit: Some(50), sort: Some("name".into()), ..Default::default() },
            &PersonFilter { company_id: Some(id), ..Default::default() },
        )
        .await?;
    let people = people_page
        .items
        .iter()
        .map(|p| PersonLine {
            name: p.fields.full_name(),
            href: format!("/people/{}", p.id),
            job_title: p.fields.job_title.as_ref().map(|t| t.to_string()).unwrap_or_default(),
        })
        .collect();
    let deals = state
        .store
        .list_deals(
            &ListQuery { limit: Some(50), sort: Some("-updated_at".into()), ..Default::default() },
            &DealFilter { company_id: Some(id), ..Default::default() },
        )
        .await?
        .items;
    let subject = Subject::Company(id);
    let shown = timeline::Shown::parse(raw.as_deref())?;
    let page = subject.page(&state, &signed, &shown).await?;
    let latest_purchases = subject.latest_purchases(&state, &signed, 10).await?;
    let totals = state.store.purchase_totals(None, Some(id)).await?;
    let now = rapport_domain::records::now();
    let timeline_html =
        timeline::render_fragment(&state, &subject, &shown, &page, &staff, &signed, FormView::default(), now).await?;
    let view = CompanyPage {
        chrome: signed.chrome("companies", c.name.to_string()),
        id,
        name: c.name.to_string(),
        initials: format::initials(c.name.as_str()),
        industry: c.industry.as_ref().map(|i| i.to_string()).unwrap_or_default(),
        size: c.size.map(size_label).unwrap_or_default(),
        domain: c.domain.as_ref().map(|d| d.as_str().to_owned()).unwrap_or_default(),
        owner: staff.name(c.owner_id),
        tags: c.tags.iter().map(|t| t.as_str().to_owned()).collect(),
        custom: custom::shown(&definitions, &c.custom_fields),
        people,
        more_people: people_page.next_cursor.is_some(),
        deals: deals.iter().map(DealLine::from).collect(),
        purchases: purchases::purchases(&latest_purchases, 10),
        purchase_count: totals.iter().map(|t| t.count).sum(),
        purchase_count_text: purchases::count_text(totals.iter().map(|t| t.count).sum()),
        purchase_totals: totals.iter().map(|t| super::numbers::sum(&t.amount)).collect(),
        can_edit: staff.allows(&signed.actor, Action::Edit, c.owner_id, company.meta.created_by),
        can_delete: staff.allows(&signed.actor, Action::Delete, c.owner_id, company.meta.created_by),
        merged: super::merge::merged_param(raw.as_deref()),
        timeline_html,
        history: HistoryPanel::latest(&state, RecordKind::Companies, id.0, &staff).await?,
    };
    signed.page(&view)
}

#[derive(Template)]
#[template(path = "company_form.html")]
struct CompanyForm {
    chrome: Chrome,
    /// `None` for a new company.
    id: Option<CompanyId>,
    version: i64,
    form: FormView,
    sizes: Vec<Choice>,
    owners: Vec<Choice>,
    custom: Vec<CustomInput>,
}

impl CompanyForm {
    async fn new(
        state: &AppState,
        signed: &Signed,
        id: Option<CompanyId>,
        version: i64,
        form: FormView,
    ) -> Result<Self, WebError> {
        let staff = Staff::load(state).await?;
        let mut owners = vec![Choice::new("", "Nobody")];
        owners.extend(staff.choices());
        let title = if id.is_some() { "Edit company" } else { "New company" };
        Ok(CompanyForm {
            chrome: signed.chrome("companies", title),
            id,
            version,
            form,
            sizes: size_choices(),
            owners,
            custom: custom::inputs(&custom::definitions(state, EntityType::Company).await?),
        })
    }

    fn respond(&self, signed: &Signed) -> Result<Response, WebError> {
        signed.form_page(self, &self.form)
    }
}

pub async fn new_form(State(state): State<AppState>, signed: Signed) -> Result<Response, WebError> {
    signed.ensure_can_create()?;
    let pairs = vec![("owner_id", signed.user.id.to_string())];
    CompanyForm::new(&state, &signed, None, 0, FormView::from_pairs(pairs)).await?.respond(&signed)
}

pub async fn edit_form(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let id: CompanyId = id.parse().map_err(|_| WebError::NotFound("company"))?;
    let company = state.store.get_company(id).await?;
    Staff::load(&state).await?.ensure(&signed.actor, Action::Edit, company.fields.owner_id, company.meta.created_by)?;
    CompanyForm::new(&state, &signed, Some(id), company.meta.version, FormView::editing(form_values(&company)))
        .await?
        .respond(&signed)
}

/// A stored company as the edit form's values.
fn form_values(company: &Company) -> Vec<(String, String)> {
    let c = &company.fields;
    let text = |value: Option<String>| value.unwrap_or_default();
    let mut pairs = vec![
        ("name".to_owned(), c.name.to_string()),
        ("domain".to_owned(), text(c.domain.as_ref().map(|d| d.as_str().to_owned()))),
        ("industry".to_owned(), text(c.industry.as_ref().map(|i| i.to_string()))),
        ("size".to_owned(), text(c.size.map(|s| s.as_str().to_owned()))),
        ("owner_id".to_owned(), text(c.owner_id.map(|o| o.to_string()))),
        ("tags".to_owned(), c.tags.iter().map(Tag::as_str).collect::<Vec<_>>().join(", ")),
        ("external_id".to_owned(), text(c.external_id.as_ref().map(|e| e.to_string()))),
    ];
    pairs.extend(custom::form_pairs(&c.custom_fields));
    pairs
}

/// Parses the company form into the same input the API takes.
fn parse(form: &FormData, definitions: &[CustomFieldDefinition]) -> Result<CompanyInput, FieldErrors> {
    let mut f = Fields::new(form);
    let name = f.required::<Name>("name");
    let domain = f.optional::<Domain>("domain");
    let industry = f.optional::<Name>("industry");
    let size = f.optional_with("size", CompanySize::parse);
    let owner_id = f.optional_with("owner_id", |raw| raw.parse::<UserId>().map_err(|_| "is not a staff member".into()));
    let tags = f.list::<Tag>("tags");
    let external_id = f.optional::<Name>("external_id");
    let custom_fields = custom::from_form(definitions, form);
    match (name, f.finish()) {
        (Some(name), Ok(())) => {
            Ok(CompanyInput { name, domain, industry, size, owner_id, tags, external_id, custom_fields })
        }
        (_, Err(errors)) => Err(errors),
        (None, Ok(())) => Err(FieldErrors::single("name", "is required")),
    }
}

pub async fn create(State(state): State<AppState>, signed: Signed, form: FormData) -> Result<Response, WebError> {
    let definitions = custom::definitions(&state, EntityType::Company).await?;
    let input = match parse(&form, &definitions) {
        Ok(input) => input,
        Err(errors) => {
            return CompanyForm::new(&state, &signed, None, 0, FormView::rejected(&form, errors))
                .await?
                .respond(&signed);
        }
    };
    match state.store.create_company(&signed.actor, input).await {
        Ok(company) => Ok(redirect_with_flash(
            &format!("/companies/{}", company.id),
            &format!("{} was added.", company.fields.name),
        )),
        Err(err) => CompanyForm::new(&state, &signed, None, 0, FormView::refused(&form, err)?).await?.respond(&signed),
    }
}

pub async fn update(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
    form: FormData,
) -> Result<Response, WebError> {
    let id: CompanyId = id.parse().map_err(|_| WebError::NotFound("company"))?;
    let before = state.store.get_company(id).await?;
    Staff::load(&state).await?.ensure(&signed.actor, Action::Edit, before.fields.owner_id, before.meta.created_by)?;
    let version = form.get("version").parse::<i64>().unwrap_or(before.meta.version);
    let definitions = custom::definitions(&state, EntityType::Company).await?;
    let input = match parse(&form, &definitions) {
        Ok(input) => input,
        Err(errors) => {
            return CompanyForm::new(&state, &signed, Some(id), version, FormView::rejected(&form, errors))
                .await?
                .respond(&signed);
        }
    };
    match state.store.update_company(&signed.actor, id, input, Some(version)).await {
        Ok(company) => {
            Ok(redirect_with_flash(&format!("/companies/{id}"), &format!("{} was saved.", company.fields.name)))
        }
        Err(StorageError::VersionMismatch { .. }) => {
            let current = state.store.get_company(id).await?;
            let who = last_editor(&state, RecordKind::Companies, id.0).await?;
            let conflict = Conflict::new(&current.meta, who, format!("/companies/{id}"));
            let view = FormView::conflicted(&form, form_values(&current), conflict);
            CompanyForm::new(&state, &signed, Some(id), current.meta.version, view).await?.respond(&signed)
        }
        Err(err) => {
            CompanyForm::new(&state, &signed, Some(id), version, FormView::refused(&form, err)?).await?.respond(&signed)
        }
    }
}

pub async fn delete(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let id: CompanyId = id.parse().map_err(|_| WebError::NotFound("company"))?;
    let company = state.store.get_company(id).await?;
    let entry = state.store.delete_company(&signed.actor, id).await?;
    Ok(super::trash::deleted(entry, "/companies", company.fields.name.as_str()))
}

/// Suggestions for a field that names a company: companies matching what was typed.
pub async fn options(
    State(state): State<AppState>,
    _signed: Signed,
    RawQuery(raw): RawQuery,
) -> Result<Response, WebError> {
    let typed = super::form::typed(raw.as_deref());
    let mut choices = Vec::new();
    if typed.trim().chars().count() >= 2 {
        let query = ListQuery { q: Some(typed), limit: Some(10), ..Default::default() };
        for company in state.store.list_companies(&query, &CompanyFilter::default()).await?.items {
            let label = company.fields.domain.as_ref().map(|d| d.as_str().to_owned()).unwrap_or_default();
            choices.push(Choice::new(company.fields.name.to_string(), label));
        }
    }
    render(&super::Options { choices })
}

/// A company's list cells edited in place.
impl inline_edit::Editable for Company {
    const PATH: &'static str = "companies";
    const NOUN: &'static str = "company";
    const FIELDS: &'static [InlineField] = &[
        InlineField::new("name", "Name", Input::Text),
        InlineField::new("domain", "Domain", Input::Text),
        InlineField::new("industry", "Industry", Input::Text),
        InlineField::new("size", "Size", Input::Choice),
        InlineField::new("owner", "Owner", Input::Choice),
        InlineField::new("tags", "Tags", Input::Text),
    ];
    const PLACES: &'static [Place] = &[Place::Cell];
    type Extra = ();
    type Input = CompanyInput;

    async fn extra(_state: &AppState) -> Result<(), WebError> {
        Ok(())
    }

    async fn load(state: &AppState, id: &str) -> Result<Self, WebError> {
        let id: CompanyId = id.parse().map_err(|_| WebError::NotFound("company"))?;
        Ok(state.store.get_company(id).await?)
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

    fn shown(&self, field: &str, _place: Place, cx: &inline_edit::Context<'_, ()>) -> Cell {
        match field {
            "name" => Cell::link(self.value(field), format!("/companies/{}", self.id)),
            "owner" => Cell::text(cx.staff.name(self.fields.owner_id)),
            _ => Cell::text(self.value(field)),
        }
    }

    fn value(&self, field: &str) -> String {
        let c = &self.fields;
        match field {
            "name" => c.name.to_string(),
            "domain" => c.domain.as_ref().map(|d| d.as_str().to_owned()).unwrap_or_default(),
            "industry" => c.industry.as_ref().map(|i| i.to_string()).unwrap_or_default(),
            "size" => c.size.map(|s| s.as_str().to_owned()).unwrap_or_default(),
            "owner" => c.owner_id.map(|id| id.to_string()).unwrap_or_default(),
            _ => c.tags.iter().map(Tag::as_str).collect::<Vec<_>>().join(", "),
        }
    }

    fn choices(&self, field: &str, cx: &inline_edit::Context<'_, ()>) -> Vec<Choice> {
        match field {
            "size" => size_choices(),
            _ => inline_edit::owner_choices(cx.staff),
        }
    }

    fn changed(&self, field: &str, typed: &str, _cx: &inline_edit::Context<'_, ()>) -> Result<CompanyInput, String> {
        let mut fields = self.fields.clone();
        match field {
            "name" => fields.name = inline_edit::required(typed, "name")?,
            "domain" => fields.domain = inline_edit::optional(typed, "domain")?,
            "industry" => fields.industry = inline_edit::optional(typed, "industry")?,
            "size" => {
                fields.size = match typed {
                    "" => None,
                    typed => Some(CompanySize::parse(typed).map_err(|m| inline_edit::refusal("size", &m))?),
                }
            }
            "owner" => fields.owner_id = inline_edit::owner(typed)?,
            _ => fields.tags = inline_edit::tags(typed)?,
        }
        Ok(fields)
    }

    async fn update(
        &self,
        state: &AppState,
        actor: &rapport_domain::Actor,
        input: CompanyInput,
        version: i64,
    ) -> Result<Self, StorageError> {
        state.store.update_company(actor, self.id, input, Some(version)).await
    }
}
