//! People: the list, the customer page, and the create and edit forms.

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, RawQuery, State};
use axum::response::Response;
use axum::routing::{get, post};
use rapport_domain::access::Action;
use rapport_domain::custom_fields::{CustomFieldDefinition, EntityType};
use rapport_domain::history::RecordKind;
use rapport_domain::personal::MAX_ADDRESSES;
use rapport_domain::records::{
    Birthday, Channel, EmailEntry, Language, LifecycleStage, Person, PersonInput, Phone, PhoneEntry, PostalAddress,
    PostalCode, Preferences, TimeZone,
};
use rapport_domain::surveys::NpsGroup;
use rapport_domain::text::{LongText, Name, Tag};
use rapport_domain::{CompanyId, Email, FieldErrors, PersonId, Segment, UserId};
use rapport_storage::{DealFilter, ListQuery, PersonFilter, SharedEmail, StorageError, TaskFilter};
use serde::Deserialize;

use super::custom::{self, CustomInput, CustomShown};
use super::form::{Conflict, Fields, FormData, FormView};
use super::format::capitalize;
use super::history::{HistoryPanel, last_editor};
use super::inline_edit::{self, InlineField, Input, Place};
use super::insights::ValuePanel;
use super::list_bulk::{BulkBar, RowKey};
use super::lists::{Cell, Choice, Column, Filter, ListRequest, ListSpec};
use super::lookup::{company_by_name, person_by_label};
use super::purchases::{self, PurchaseLine};
use super::staff::Staff;
use super::timeline::{self, DealLine, Subject};
use super::{Chrome, Signed, WebError, format, redirect_with_flash, render};
use rapport_api::AppState;

const COLUMNS: &[Column] = &[
    Column::new("name", "Name").sorts("name"),
    Column::new("email", "Email"),
    Column::new("company", "Company"),
    Column::new("stage", "Stage").sorts("lifecycle_stage"),
    Column::new("owner", "Owner"),
    Column::new("last_contacted", "Last contacted").sorts("last_contacted_at"),
    Column::new("phone", "Phone").optional(),
    Column::new("job_title", "Job title").optional(),
    Column::new("tags", "Tags").optional(),
    Column::new("source", "Source").optional(),
    Column::new("updated", "Updated").sorts("updated_at").optional(),
    Column::new("created", "Added").sorts("created_at").optional(),
];

const SPEC: ListSpec = ListSpec {
    path: "/people",
    list: rapport_domain::views::ListKind::People,
    heading: "People",
    new_label: "New person",
    search_label: "Name, email, company, notes…",
    searchable: true,
    default_sort: "name",
    empty_title: "No people yet.",
    empty_hint: "Add your first customer with “New person”, or load sample data with `rapport demo`.",
};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/people", get(list).post(create))
        .route("/people/count", get(count))
        .route("/people/new", get(new_form))
        .route("/people/options", get(options))
        .route("/people/{id}", get(page).post(update))
        .route("/people/{id}/edit", get(edit_form))
        .route("/people/{id}/delete", post(delete))
        .route("/people/{id}/timeline", get(timeline::person_fragment).post(timeline::add_to_person))
}

pub fn lifecycle_choices() -> Vec<Choice> {
    LifecycleStage::ALL.iter().map(|s| Choice::new(s.as_str(), capitalize(s.as_str()))).collect()
}

pub fn stage_badge(stage: LifecycleStage) -> &'static str {
    match stage {
        LifecycleStage::Customer | LifecycleStage::Advocate => "ok",
        LifecycleStage::Churned => "danger",
        LifecycleStage::Prospect => "accent",
        LifecycleStage::Lead => "",
    }
}

/// The list's count, loaded after the page (`lists::CountSlot`).
async fn count(State(state): State<AppState>, signed: Signed, RawQuery(raw): RawQuery) -> Result<Response, WebError> {
    let request = ListRequest::<PersonFilter>::parse_count(raw.as_deref())?;
    state.store.list_people(&request.params.query, &request.params.filter).await?;
    SPEC.count(&signed, &request, true)
}

pub async fn list(
    State(state): State<AppState>,
    signed: Signed,
    RawQuery(raw): RawQuery,
) -> Result<Response, WebError> {
    let request = ListRequest::<PersonFilter>::parse(raw.as_deref())?;
    let page = state.store.list_people(&request.params.query, &request.params.filter).await?;
    let staff = Staff::load(&state).await?;
    let companies: Vec<CompanyId> = page.items.iter().filter_map(|p| p.fields.company_id).collect();
    let company_names = state.store.company_names(&companies).await?;
    let filters = vec![
        Filter {
            name: "lifecycle_stage",
            label: "Stage",
            choices: lifecycle_choices(),
            selected: request.get("lifecycle_stage").to_owned(),
        },
        Filter {
            name: "owner_id",
            label: "Owner",
            choices: staff.choices(),
            selected: request.get("owner_id").to_owned(),
        },
        Filter {
            name: "segment",
            label: "Segment",
            choices: Segment::ALL.iter().map(|s| Choice::new(s.as_str(), s.label())).collect(),
            selected: request.get("segment").to_owned(),
        },
        Filter {
            name: "nps_group",
            label: "NPS",
            choices: NpsGroup::ALL.iter().map(|g| Choice::new(g.as_str(), g.label())).collect(),
            selected: request.get("nps_group").to_owned(),
        },
    ];
    let keys = page.items.iter().map(|p| RowKey::new(p.id, p.fields.full_name())).collect();
    let cx = inline_edit::Context { staff: &staff, extra: &() };
    let mut view = SPEC
        .build(&state, &signed, &request, COLUMNS, filters, page, |person: &Person, shown| {
            let p = &person.fields;
            let person_cell = |key: &str| match key {
                "company" => match p.company_id {
                    Some(id) => {
                        Cell::link(company_names.get(&id).cloned().unwrap_or_default(), format!("/companies/{id}"))
                    }
                    None => Cell::default(),
                },
                "last_contacted" => {
                    Cell::text(person.last_contacted_at.map(|at| format::date(at.date())).unwrap_or_default())
                }
                "updated" => Cell::text(format::date(person.meta.updated_at.date())),
                _ => Cell::text(format::date(person.meta.created_at.date())),
            };
            shown
                .iter()
                .map(|column| {
                    // The cells that edit in place come from the shared editor, with their Edit buttons.
                    inline_edit::list_cell(person, column.key, &cx, &signed.actor)
                        .unwrap_or_else(|| person_cell(column.key))
                })
                .collect()
        })
        .await?;
    view.bulk = Some(BulkBar::people(request.total(), staff.choices()));
    view.row_keys = keys;
    signed.page(&view)
}

/// An open task as the customer page's "Next steps" lists it.
struct NextStep {
    title: String,
    href: String,
    due: String,
    overdue: bool,
}

/// A birthday as the customer page shows it: the day in words (app.js
/// writes it again in the reader's locale), and the age when the year is known.
struct BirthdayShown {
    /// `1985-04-15`, or `--04-15` without the year (the `<time>` element's value).
    iso: String,
    /// "15 April 1985", "15 April".
    text: String,
    /// "41 years old".
    age: Option<String>,
}

impl BirthdayShown {
    fn new(birthday: Birthday, today: time::Date) -> Self {
        let day = format!("{} {}", birthday.day(), birthday.month());
        BirthdayShown {
            iso: birthday.to_string(),
            text: match birthday.year() {
                Some(year) => format!("{day} {year}"),
                None => day,
            },
            age: birthday.age_on(today).map(|age| format!("{age} years old")),
        }
    }
}

/// The customer page's profile facts, edited in place.
const PROFILE: [&str; 7] = ["name", "job_title", "email", "phone", "stage", "owner", "source"];

/// How many of the latest purchases the customer page lists.
const LATEST_PURCHASES: u64 = 5;

#[derive(Template)]
#[template(path = "person.html")]
struct PersonPage {
    chrome: Chrome,
    id: PersonId,
    name: String,
    initials: String,
    subtitle: String,
    company: Option<(String, String)>,
    stage: String,
    stage_class: &'static str,
    tags: Vec<String>,
    /// The profile's facts edited in place: name, job title, primary email and phone, stage, owner, source.
    profile: Vec<inline_edit::Fact>,
    /// The other addresses and numbers, with their labels.
    emails: Vec<(String, String)>,
    phones: Vec<(String, String)>,
    birthday: Option<BirthdayShown>,
    /// Each address on one line, with its label; the primary one first.
    addresses: Vec<(String, String)>,
    keep_in_touch: String,
    last_contacted: String,
    contact_overdue: bool,
    preferences: Vec<(&'static str, String)>,
    do_not_contact: bool,
    custom: Vec<CustomShown>,
    referred_by: Option<(String, String)>,
    referrals: Vec<(String, String)>,
    deals: Vec<DealLine>,
    /// Open tasks about them, soonest due first.
    next_steps: Vec<NextStep>,
    more_next_steps: bool,
    tickets: Vec<super::tickets::TicketLine>,
    feedback: super::feedback::FeedbackPanel,
    /// The latest few purchases.
    purchases: Vec<PurchaseLine>,
    purchase_totals: Vec<String>,
    purchase_count: i64,
    /// "1 purchase", "94 purchases".
    purchase_count_text: String,
    /// The latest purchase's day, and how long ago.
    last_purchase: Option<(String, String)>,
    /// Value and loyalty, from the latest insights.
    value: ValuePanel,
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
    let id: PersonId = id.parse().map_err(|_| WebError::NotFound("person"))?;
    let person = state.store.get_person(id).await?;
    let staff = Staff::load(&state).await?;
    let p = &person.fields;
    let definitions = custom::definitions(&state, EntityType::Person).await?;
    let company = match p.company_id {
        Some(company) => {
            Some((state.store.get_company(company).await?.fields.name.to_string(), format!("/companies/{company}")))
        }
        None => None,
    };
    let referred_by = match p.referred_by_id {
        Some(referrer) => state
            .store
            .person_names(&[referrer])
            .await?
            .remove(&referrer)
            .map(|name| (name, format!("/people/{referrer}"))),
        None => None,
    };
    let referrals = state
        .store
        .list_people(
            &ListQuery { limit: Some(50), ..Default::default() },
            &PersonFilter { referred_by_id: Some(id), ..Default::default() },
        )
        .await?
        .items
        .into_iter()
        .map(|r| (r.fields.full_name(), format!("/people/{}", r.id)))
        .collect();
    let subject = Subject::Person(id);
    let shown = timeline::Shown::parse(raw.as_deref())?;
    let page = subject.page(&state, &signed, &shown).await?;
    let latest_purchases = subject.latest_purchases(&state, &signed, LATEST_PURCHASES).await?;
    let deals = state
        .store
        .list_deals(
            &ListQuery { limit: Some(50), sort: Some("-updated_at".into()), ..Default::default() },
            &DealFilter { person_id: Some(id), ..Default::default() },
        )
        .await?
        .items;
    let open_tasks = state
        .store
        .list_tasks(
            &ListQuery { limit: Some(5), sort: Some("due_at".into()), ..Default::default() },
            &TaskFilter { person_id: Some(id), open: Some(true), ..Default::default() },
        )
        .await?;
    let totals = state.store.purchase_totals(Some(id), None).await?;
    let purchase_count: i64 = totals.iter().map(|t| t.count).sum();
    let value = ValuePanel::load(&state, id, purchase_count).await?;
    let now = rapport_domain::records::now();
    let can_edit = staff.allows(&signed.actor, Action::Edit, p.owner_id, person.meta.created_by);
    let composer = FormView::from_pairs(shown.compose.map(|kind| ("kind", kind.to_owned())));
    let timeline_html =
        timeline::render_fragment(&state, &subject, &shown, &page, &staff, &signed, composer, now).await?;
    let last_purchase = latest_purchases.first().map(|entry| {
        let at = entry.at();
        (format::date(at.date()), format::relative(at, now))
    });
    let overdue = p.keep_in_touch_days.is_some_and(|days| {
        let since = person.last_contacted_at.unwrap_or(person.meta.created_at);
        now - since > time::Duration::days(days.into())
    });
    let mut preferences = Vec::new();
    if let Some(channel) = p.preferences.preferred_channel {
        preferences.push(("Preferred channel", capitalize(channel.as_str())));
    }
    if let Some(language) = &p.preferences.language {
        preferences.push(("Language", language.as_str().to_owned()));
    }
    if let Some(zone) = &p.preferences.time_zone {
        preferences.push(("Time zone", zone.as_str().to_owned()));
    }
    if !p.preferences.interests.is_empty() {
        preferences.push(("Interests", p.preferences.interests.iter().map(Tag::as_str).collect::<Vec<_>>().join(", ")));
    }
    if let Some(notes) = &p.preferences.notes {
        preferences.push(("Notes", notes.to_string()));
    }
    let view = PersonPage {
        chrome: signed.chrome("people", p.full_name()),
        id,
        name: p.full_name(),
        initials: format::initials(&p.full_name()),
        subtitle: p.job_title.as_ref().map(|t| t.to_string()).unwrap_or_default(),
        company,
        stage: capitalize(p.lifecycle_stage.as_str()),
        stage_class: stage_badge(p.lifecycle_stage),
        tags: p.tags.iter().map(|t| t.as_str().to_owned()).collect(),
        profile: inline_edit::facts(
            &person,
            &PROFILE,
            &inline_edit::Context { staff: &staff, extra: &() },
            &signed.actor,
        )?,
        emails: p
            .emails
            .iter()
            .filter(|e| !e.primary)
            .map(|e| (e.address.to_string(), e.label.as_ref().map(|l| l.to_string()).unwrap_or_default()))
            .collect(),
        phones: p
            .phones
            .iter()
            .filter(|e| !e.primary)
            .map(|e| (e.number.as_str().to_owned(), e.label.as_ref().map(|l| l.to_string()).unwrap_or_default()))
            .collect(),
        birthday: p.birthday.map(|b| BirthdayShown::new(b, now.date())),
        addresses: {
            let mut addresses: Vec<&PostalAddress> = p.addresses.iter().collect();
            addresses.sort_by_key(|a| !a.primary);
            addresses
                .into_iter()
                .map(|a| (a.one_line(), a.label.as_ref().map(Name::to_string).unwrap_or_default()))
                .collect()
        },
        keep_in_touch: p.keep_in_touch_days.map(|d| format!("every {d} days")).unwrap_or_default(),
        last_contacted: person.last_contacted_at.map(|at| format::relative(at, now)).unwrap_or_else(|| "never".into()),
        contact_overdue: overdue,
        preferences,
        do_not_contact: p.preferences.do_not_contact,
        custom: custom::shown(&definitions, &p.custom_fields),
        referred_by,
        referrals,
        deals: deals.iter().map(DealLine::from).collect(),
        next_steps: open_tasks
            .items
            .iter()
            .map(|task| NextStep {
                title: task.fields.title.to_string(),
                href: format!("/tasks/{}/edit", task.id),
                due: task.fields.due_at.map(|at| format::date(at.date())).unwrap_or_default(),
                overdue: task.fields.due_at.is_some_and(|due| due < now),
            })
            .collect(),
        more_next_steps: open_tasks.next_cursor.is_some(),
        tickets: super::tickets::person_tickets(&state, &signed.actor, id).await?,
        feedback: super::feedback::FeedbackPanel::load(&state, id).await?,
        purchases: purchases::purchases(&latest_purchases, LATEST_PURCHASES as usize),
        purchase_count,
        purchase_count_text: purchases::count_text(purchase_count),
        last_purchase,
        value,
        purchase_totals: totals.iter().map(|t| super::numbers::sum(&t.amount)).collect(),
        can_edit,
        can_delete: staff.allows(&signed.actor, Action::Delete, p.owner_id, person.meta.created_by),
        merged: super::merge::merged_param(raw.as_deref()),
        timeline_html,
        history: HistoryPanel::latest(&state, RecordKind::People, id.0, &staff).await?,
    };
    signed.page(&view)
}

#[derive(Template)]
#[template(path = "person_form.html")]
struct PersonForm {
    chrome: Chrome,
    /// `None` for a new person.
    id: Option<PersonId>,
    version: i64,
    form: FormView,
    stages: Vec<Choice>,
    owners: Vec<Choice>,
    channels: Vec<Choice>,
    custom: Vec<CustomInput>,
    /// The address groups shown: one per address, and an empty one.
    address_slots: Vec<usize>,
    /// The person who already has an address this new person was given.
    clash: Option<(PersonId, String)>,
}

impl PersonForm {
    async fn new(
        state: &AppState,
        signed: &Signed,
        id: Option<PersonId>,
        version: i64,
        form: FormView,
    ) -> Result<Self, WebError> {
        let staff = Staff::load(state).await?;
        let mut owners = vec![Choice::new("", "Nobody")];
        owners.extend(staff.choices());
        let mut channels = vec![Choice::new("", "No preference")];
        channels.extend(Channel::ALL.iter().map(|c| Choice::new(c.as_str(), capitalize(c.as_str()))));
        let title = if id.is_some() { "Edit person" } else { "New person" };
        Ok(PersonForm {
            chrome: signed.chrome("people", title),
            id,
            version,
            stages: lifecycle_choices(),
            owners,
            channels,
            custom: custom::inputs(&custom::definitions(state, EntityType::Person).await?),
            address_slots: address_slots(&form),
            form,
            clash: None,
        })
    }

    fn respond(&self, signed: &Signed) -> Result<Response, WebError> {
        signed.form_page(self, &self.form)
    }

    /// The name of an address group's field, for the template.
    fn address_field(&self, slot: &usize, part: &str) -> String {
        address_field(*slot, part)
    }

    /// Whether the group in `slot` is the primary address: the one marked,
    /// or the first when none is.
    fn address_primary(&self, slot: &usize) -> bool {
        match self.form.value("address_primary").parse::<usize>() {
            Ok(marked) => marked == *slot,
            Err(_) => *slot == 0,
        }
    }
}

#[derive(Deserialize)]
pub struct NewPersonParams {
    company_id: Option<CompanyId>,
    referred_by_id: Option<PersonId>,
}

pub async fn new_form(
    State(state): State<AppState>,
    signed: Signed,
    Query(params): Query<NewPersonParams>,
) -> Result<Response, WebError> {
    signed.ensure_can_create()?;
    let mut pairs = vec![("owner_id", signed.user.id.to_string()), ("lifecycle_stage", "lead".to_owned())];
    if let Some(company) = params.company_id {
        pairs.push(("company", state.store.get_company(company).await?.fields.name.to_string()));
    }
    if let Some(referrer) = params.referred_by_id {
        let person = state.store.get_person(referrer).await?;
        if let Some(email) = person.fields.primary_email() {
            pairs.push(("referred_by", email.to_string()));
        }
    }
    PersonForm::new(&state, &signed, None, 0, FormView::from_pairs(pairs)).await?.respond(&signed)
}

pub async fn edit_form(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let id: PersonId = id.parse().map_err(|_| WebError::NotFound("person"))?;
    let person = state.store.get_person(id).await?;
    Staff::load(&state).await?.ensure(&signed.actor, Action::Edit, person.fields.owner_id, person.meta.created_by)?;
    let stored = form_values(&state, &person).await?;
    PersonForm::new(&state, &signed, Some(id), person.meta.version, FormView::editing(stored)).await?.respond(&signed)
}

/// A stored person as the edit form's values.
async fn form_values(state: &AppState, person: &Person) -> Result<Vec<(String, String)>, WebError> {
    let p = &person.fields;
    let text = |value: Option<String>| value.unwrap_or_default();
    let mut pairs = vec![
        ("first_name".to_owned(), p.first_name.to_string()),
        ("last_name".to_owned(), text(p.last_name.as_ref().map(|n| n.to_string()))),
        ("email".to_owned(), text(p.primary_email().map(|e| e.to_string()))),
        (
            "other_emails".to_owned(),
            p.emails.iter().filter(|e| !e.primary).map(|e| e.address.to_string()).collect::<Vec<_>>().join(", "),
        ),
        ("phone".to_owned(), text(p.phones.iter().find(|e| e.primary).map(|e| e.number.as_str().to_owned()))),
        (
            "other_phones".to_owned(),
            p.phones.iter().filter(|e| !e.primary).map(|e| e.number.as_str().to_owned()).collect::<Vec<_>>().join(", "),
        ),
        ("birthday".to_owned(), text(p.birthday.map(String::from))),
        ("job_title".to_owned(), text(p.job_title.as_ref().map(|t| t.to_string()))),
        ("owner_id".to_owned(), text(p.owner_id.map(|o| o.to_string()))),
        ("lifecycle_stage".to_owned(), p.lifecycle_stage.as_str().to_owned()),
        ("source".to_owned(), text(p.source.as_ref().map(|s| s.to_string()))),
        ("tags".to_owned(), p.tags.iter().map(Tag::as_str).collect::<Vec<_>>().join(", ")),
        ("keep_in_touch_days".to_owned(), text(p.keep_in_touch_days.map(|d| d.to_string()))),
        ("external_id".to_owned(), text(p.external_id.as_ref().map(|e| e.to_string()))),
        ("preferred_channel".to_owned(), text(p.preferences.preferred_channel.map(|c| c.as_str().to_owned()))),
        ("language".to_owned(), text(p.preferences.language.as_ref().map(|l| l.as_str().to_owned()))),
        ("time_zone".to_owned(), text(p.preferences.time_zone.as_ref().map(|z| z.as_str().to_owned()))),
        ("interests".to_owned(), p.preferences.interests.iter().map(Tag::as_str).collect::<Vec<_>>().join(", ")),
        ("preference_notes".to_owned(), text(p.preferences.notes.as_ref().map(|n| n.to_string()))),
    ];
    if p.preferences.do_not_contact {
        pairs.push(("do_not_contact".to_owned(), "true".to_owned()));
    }
    pairs.extend(address_pairs(&p.addresses));
    if let Some(company) = p.company_id {
        pairs.push(("company".to_owned(), state.store.get_company(company).await?.fields.name.to_string()));
    }
    if let Some(referrer) = p.referred_by_id {
        let referrer = state.store.get_person(referrer).await?;
        pairs.push(("referred_by".to_owned(), text(referrer.fields.primary_email().map(|e| e.to_string()))));
    }
    pairs.extend(custom::form_pairs(&p.custom_fields));
    Ok(pairs)
}

/// An address's parts as the form names them: `address0_street`, ...
const ADDRESS_PARTS: [&str; 6] = ["label", "street", "locality", "region", "postal_code", "country"];

fn address_field(slot: usize, part: &str) -> String {
    format!("address{slot}_{part}")
}

/// A person's addresses as the form's values: one group of fields each, and
/// `address_primary` naming the primary one's slot.
fn address_pairs(addresses: &[PostalAddress]) -> Vec<(String, String)> {
    let mut pairs = Vec::new();
    for (slot, a) in addresses.iter().enumerate() {
        let parts = [
            a.label.as_ref().map(Name::to_string),
            a.street.as_ref().map(Name::to_string),
            a.locality.as_ref().map(Name::to_string),
            a.region.as_ref().map(Name::to_string),
            a.postal_code.as_ref().map(|c| c.as_str().to_owned()),
            a.country.as_ref().map(Name::to_string),
        ];
        for (part, value) in ADDRESS_PARTS.iter().zip(parts) {
            if let Some(value) = value {
                pairs.push((address_field(slot, part), value));
            }
        }
    }
    // Always sent (the form ticks the first group when none is primary), so
    // an unchanged form's value matches its original.
    let primary = addresses.iter().position(|a| a.primary).unwrap_or(0);
    pairs.push(("address_primary".to_owned(), primary.to_string()));
    pairs
}

/// How many address groups the form shows: one per address it holds (the
/// highest slot filled in) and an empty one to add another, up to the most a
/// person may have.
fn address_slots(form: &FormView) -> Vec<usize> {
    let filled = (0..MAX_ADDRESSES)
        .filter(|slot| ADDRESS_PARTS.iter().any(|part| !form.value(&address_field(*slot, part)).is_empty()))
        .max()
        .map_or(0, |last| last + 1);
    (0..(filled + 1).min(MAX_ADDRESSES)).collect()
}

/// The form's address groups; an empty group is no address. A part that
/// does not parse is named by its own field (`address1_postal_code`).
fn parse_addresses(f: &mut Fields, form: &FormData) -> Vec<PostalAddress> {
    let primary = form.get("address_primary").parse::<usize>().ok();
    let mut addresses = Vec::new();
    for slot in 0..MAX_ADDRESSES {
        let address = PostalAddress {
            label: f.optional::<Name>(&address_field(slot, "label")),
            primary: primary == Some(slot),
            street: f.optional::<Name>(&address_field(slot, "street")),
            locality: f.optional::<Name>(&address_field(slot, "locality")),
            region: f.optional::<Name>(&address_field(slot, "region")),
            postal_code: f.optional::<PostalCode>(&address_field(slot, "postal_code")),
            country: f.optional::<Name>(&address_field(slot, "country")),
        };
        if !address.is_empty() {
            addresses.push(address);
        } else if address.label.is_some() {
            f.fail(&address_field(slot, "street"), "or another part of the address is needed with its label");
        }
    }
    // The marked group was left empty: the first address becomes primary.
    if !addresses.iter().any(|a| a.primary)
        && let Some(first) = addresses.first_mut()
    {
        first.primary = true;
    }
    addresses
}

/// Parses the person form into the same input the API takes.
async fn parse(
    state: &AppState,
    form: &FormData,
    definitions: &[CustomFieldDefinition],
    before: Option<&PersonInput>,
) -> Result<Result<PersonInput, FieldErrors>, WebError> {
    let mut f = Fields::new(form);
    let first_name = f.required::<Name>("first_name");
    let last_name = f.optional::<Name>("last_name");
    let label_of = |address: &Email| {
        before.and_then(|b| b.emails.iter().find(|e| &e.address == address)).and_then(|e| e.label.clone())
    };
    let mut emails: Vec<EmailEntry> = Vec::new();
    if let Some(address) = f.optional::<Email>("email") {
        emails.push(EmailEntry { label: label_of(&address), address, primary: true });
    }
    for address in f.list::<Email>("other_emails") {
        emails.push(EmailEntry { label: label_of(&address), address, primary: false });
    }
    let phone_label = |number: &Phone| {
        before.and_then(|b| b.phones.iter().find(|e| &e.number == number)).and_then(|e| e.label.clone())
    };
    let mut phones: Vec<PhoneEntry> = Vec::new();
    if let Some(number) = f.optional::<Phone>("phone") {
        phones.push(PhoneEntry { label: phone_label(&number), number, primary: true });
    }
    for number in f.list::<Phone>("other_phones") {
        phones.push(PhoneEntry { label: phone_label(&number), number, primary: false });
    }
    let birthday = f.optional_with("birthday", Birthday::read);
    let addresses = parse_addresses(&mut f, form);
    let company_id = company_by_name(state, &mut f, "company").await?;
    let referred_by_id = person_by_label(state, &mut f, "referred_by").await?;
    let job_title = f.optional::<Name>("job_title");
    let owner_id = f.optional_with("owner_id", |raw| raw.parse::<UserId>().map_err(|_| "is not a staff member".into()));
    let lifecycle_stage = f.parse_with("lifecycle_stage", LifecycleStage::parse).unwrap_or_default();
    let source = f.optional::<Name>("source");
    let tags = f.list::<Tag>("tags");
    let preferences = Preferences {
        preferred_channel: f.optional_with("preferred_channel", Channel::parse),
        language: f.optional::<Language>("language"),
        time_zone: f.optional::<TimeZone>("time_zone"),
        do_not_contact: form.checked("do_not_contact"),
        interests: f.list::<Tag>("interests"),
        notes: f.optional::<LongText>("preference_notes"),
    };
    let keep_in_touch_days = f.optional_with("keep_in_touch_days", |raw| {
        raw.parse::<i32>().map_err(|_| "must be a whole number of days".to_string())
    });
    let external_id = f.optional::<Name>("external_id");
    let custom_fields = custom::from_form(definitions, form);
    Ok(match (first_name, f.finish()) {
        (Some(first_name), Ok(())) => Ok(PersonInput {
            first_name,
            last_name,
            emails,
            phones,
            birthday,
            addresses,
            job_title,
            company_id,
            owner_id,
            lifecycle_stage,
            source,
            referred_by_id,
            tags,
            preferences,
            keep_in_touch_days,
            external_id,
            custom_fields,
        }),
        (_, Err(errors)) => Err(errors),
        (None, Ok(())) => Err(FieldErrors::single("first_name", "is required")),
    })
}

pub async fn create(State(state): State<AppState>, signed: Signed, form: FormData) -> Result<Response, WebError> {
    let definitions = custom::definitions(&state, EntityType::Person).await?;
    let input = match parse(&state, &form, &definitions, None).await? {
        Ok(input) => input,
        Err(errors) => {
            return PersonForm::new(&state, &signed, None, 0, FormView::rejected(&form, errors))
                .await?
                .respond(&signed);
        }
    };
    let shared = if form.checked("allow_duplicate") { SharedEmail::Allow } else { SharedEmail::Refuse };
    match state.store.add_person(&signed.actor, input, shared).await {
        Ok(person) => Ok(redirect_with_flash(
            &format!("/people/{}", person.id),
            &format!("{} was added.", person.fields.full_name()),
        )),
        Err(StorageError::Taken { field, existing: Some(existing), .. }) if field.starts_with("emails") => {
            // The address is someone's already: say whose, beside the field it was typed in.
            let existing = PersonId(existing);
            let name = state.store.get_person(existing).await?.fields.full_name();
            let address = taken_address(&form, &field);
            let errors = if field == "emails[0].address" && !form.get("email").trim().is_empty() {
                FieldErrors::single("email", format!("is already the address of {name}"))
            } else {
                FieldErrors::single("other_emails", format!("include {address}, already the address of {name}"))
            };
            let mut page = PersonForm::new(&state, &signed, None, 0, FormView::rejected(&form, errors)).await?;
            page.clash = Some((existing, name));
            page.respond(&signed)
        }
        Err(err) => PersonForm::new(&state, &signed, None, 0, FormView::refused(&form, err)?).await?.respond(&signed),
    }
}

/// The address the storage named (`emails[i].address`), as the form had it.
fn taken_address(form: &FormData, field: &str) -> String {
    let index: usize = field.trim_start_matches("emails[").split(']').next().and_then(|i| i.parse().ok()).unwrap_or(0);
    let primary = form.get("email").trim();
    let mut addresses: Vec<&str> = if primary.is_empty() { Vec::new() } else { vec![primary] };
    addresses.extend(form.get("other_emails").split(',').map(str::trim).filter(|a| !a.is_empty()));
    addresses.get(index).map(|a| a.to_lowercase()).unwrap_or_default()
}

pub async fn update(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
    form: FormData,
) -> Result<Response, WebError> {
    let id: PersonId = id.parse().map_err(|_| WebError::NotFound("person"))?;
    let before = state.store.get_person(id).await?;
    Staff::load(&state).await?.ensure(&signed.actor, Action::Edit, before.fields.owner_id, before.meta.created_by)?;
    let version = form.get("version").parse::<i64>().unwrap_or(before.meta.version);
    let definitions = custom::definitions(&state, EntityType::Person).await?;
    let input = match parse(&state, &form, &definitions, Some(&before.fields)).await? {
        Ok(input) => input,
        Err(errors) => {
            return PersonForm::new(&state, &signed, Some(id), version, FormView::rejected(&form, errors))
                .await?
                .respond(&signed);
        }
    };
    match state.store.update_person(&signed.actor, id, input, Some(version)).await {
        Ok(person) => {
            Ok(redirect_with_flash(&format!("/people/{id}"), &format!("{} was saved.", person.fields.full_name())))
        }
        Err(StorageError::VersionMismatch { .. }) => {
            let current = state.store.get_person(id).await?;
            let stored = form_values(&state, &current).await?;
            let who = last_editor(&state, RecordKind::People, id.0).await?;
            let conflict = Conflict::new(&current.meta, who, format!("/people/{id}"));
            let view = FormView::conflicted(&form, stored, conflict);
            PersonForm::new(&state, &signed, Some(id), current.meta.version, view).await?.respond(&signed)
        }
        Err(err) => {
            PersonForm::new(&state, &signed, Some(id), version, FormView::refused(&form, err)?).await?.respond(&signed)
        }
    }
}

pub async fn delete(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let id: PersonId = id.parse().map_err(|_| WebError::NotFound("person"))?;
    let person = state.store.get_person(id).await?;
    match state.store.delete_person(&signed.actor, id).await {
        Ok(entry) => Ok(super::trash::deleted(entry, "/people", &person.fields.full_name())),
        // Someone who asked tickets stays: say so on their page.
        Err(rapport_storage::StorageError::Conflict(message)) => {
            Ok(super::redirect_with_flash(&format!("/people/{id}"), &format!("Not deleted: {message}.")))
        }
        Err(err) => Err(err.into()),
    }
}

/// Suggestions for a field that names a person by email: people matching
/// what was typed (htmx sends the input under its own name, whatever it is).
pub async fn options(
    State(state): State<AppState>,
    _signed: Signed,
    RawQuery(raw): RawQuery,
) -> Result<Response, WebError> {
    let typed = super::form::typed(raw.as_deref());
    let mut choices = Vec::new();
    if typed.trim().chars().count() >= 2 {
        let query = ListQuery { q: Some(typed), limit: Some(10), ..Default::default() };
        for person in state.store.list_people(&query, &PersonFilter::default()).await?.items {
            if let Some(email) = person.fields.primary_email() {
                choices.push(Choice::new(email.to_string(), person.fields.full_name()));
            }
        }
    }
    render(&super::Options { choices })
}

/// A person's fields edited in place: the list's cells and the customer page's profile.
impl inline_edit::Editable for Person {
    const PATH: &'static str = "people";
    const NOUN: &'static str = "person";
    const FIELDS: &'static [InlineField] = &[
        InlineField::new("name", "Name", Input::Text),
        InlineField::new("job_title", "Job title", Input::Text),
        InlineField::new("email", "Email", Input::Text),
        InlineField::new("phone", "Phone", Input::Text),
        InlineField::new("stage", "Stage", Input::Choice),
        InlineField::new("owner", "Owner", Input::Choice),
        InlineField::new("source", "Source", Input::Text),
        InlineField::new("tags", "Tags", Input::Text),
    ];
    const PLACES: &'static [Place] = &[Place::Cell, Place::Fact];
    type Extra = ();
    type Input = PersonInput;

    async fn extra(_state: &AppState) -> Result<(), WebError> {
        Ok(())
    }

    async fn load(state: &AppState, id: &str) -> Result<Self, WebError> {
        let id: PersonId = id.parse().map_err(|_| WebError::NotFound("person"))?;
        Ok(state.store.get_person(id).await?)
    }

    fn id(&self) -> String {
        self.id.to_string()
    }

    fn name(&self) -> String {
        self.fields.full_name()
    }

    fn meta(&self) -> &rapport_domain::records::Meta {
        &self.meta
    }

    fn owner(&self) -> Option<UserId> {
        self.fields.owner_id
    }

    fn shown(&self, field: &str, place: Place, cx: &inline_edit::Context<'_, ()>) -> Cell {
        let p = &self.fields;
        let text = self.value(field);
        match (field, place) {
            ("name", Place::Cell) => Cell::link(text, format!("/people/{}", self.id)),
            ("email", Place::Fact) if !text.is_empty() => Cell::link(text.clone(), format!("mailto:{text}")),
            ("phone", Place::Fact) if !text.is_empty() => Cell::link(text.clone(), format!("tel:{text}")),
            ("stage", _) => Cell::badge(capitalize(&text), stage_badge(p.lifecycle_stage)),
            ("owner", _) => Cell::text(cx.staff.name(p.owner_id)),
            _ => Cell::text(text),
        }
    }

    fn value(&self, field: &str) -> String {
        let p = &self.fields;
        let text = |t: &Option<Name>| t.as_ref().map(|t| t.to_string()).unwrap_or_default();
        match field {
            "name" => p.full_name(),
            "job_title" => text(&p.job_title),
            "email" => p.primary_email().map(|e| e.to_string()).unwrap_or_default(),
            "phone" => p.phones.iter().find(|e| e.primary).map(|e| e.number.as_str().to_owned()).unwrap_or_default(),
            "stage" => p.lifecycle_stage.as_str().to_owned(),
            "owner" => p.owner_id.map(|id| id.to_string()).unwrap_or_default(),
            "source" => text(&p.source),
            _ => p.tags.iter().map(Tag::as_str).collect::<Vec<_>>().join(", "),
        }
    }

    fn choices(&self, field: &str, cx: &inline_edit::Context<'_, ()>) -> Vec<Choice> {
        match field {
            "stage" => lifecycle_choices(),
            _ => inline_edit::owner_choices(cx.staff),
        }
    }

    fn changed(&self, field: &str, typed: &str, _cx: &inline_edit::Context<'_, ()>) -> Result<PersonInput, String> {
        let mut fields = self.fields.clone();
        match field {
            "name" => {
                let (first, last) = match typed.split_once(char::is_whitespace) {
                    Some((first, last)) => (first, last.trim()),
                    None => (typed, ""),
                };
                fields.first_name = inline_edit::required(first, "name")?;
                fields.last_name = inline_edit::optional(last, "last name")?;
            }
            "job_title" => fields.job_title = inline_edit::optional(typed, "job title")?,
            "email" => {
                fields.emails.retain(|e| !e.primary);
                if let Some(address) = inline_edit::optional::<Email>(typed, "email")? {
                    fields.emails.retain(|e| e.address != address);
                    fields.emails.insert(0, EmailEntry { address, label: None, primary: true });
                }
            }
            "phone" => {
                fields.phones.retain(|e| !e.primary);
                if let Some(number) = inline_edit::optional::<Phone>(typed, "phone")? {
                    fields.phones.insert(0, PhoneEntry { number, label: None, primary: true });
                }
            }
            "stage" => {
                fields.lifecycle_stage = LifecycleStage::parse(typed).map_err(|m| inline_edit::refusal("stage", &m))?
            }
            "owner" => fields.owner_id = inline_edit::owner(typed)?,
            "source" => fields.source = inline_edit::optional(typed, "source")?,
            _ => fields.tags = inline_edit::tags(typed)?,
        }
        Ok(fields)
    }

    async fn update(
        &self,
        state: &AppState,
        actor: &rapport_domain::Actor,
        input: PersonInput,
        version: i64,
    ) -> Result<Self, StorageError> {
        state.store.update_person(actor, self.id, input, Some(version)).await
    }
}
