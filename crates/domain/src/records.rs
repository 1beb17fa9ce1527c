//! The records of a CRM, as clients send them (`*Input`) and as Rapport
//! returns them. Every output carries its input's fields unchanged, so a
//! partial update is "the current record, with these fields replaced".

use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

use crate::access::Role;
use crate::custom_fields::CustomValues;
use crate::email::Email;
use crate::ids::*;
use crate::money::Money;
pub use crate::personal::{Birthday, PostalAddress, PostalCode};
use crate::text::{LongText, Name, Tag};
use crate::validation::FieldErrors;

/// What every stored record carries besides its own fields.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Meta {
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    pub created_by: Option<UserId>,
    /// Raised by one on every change; also the record's ETag.
    pub version: i64,
}

/// Timestamps are kept in UTC to the whole second. SQLite keeps them as
/// RFC 3339 text, which sorts in time order only at a fixed width: no
/// fractions, always `Z`.
pub fn normalize_timestamp(at: OffsetDateTime) -> OffsetDateTime {
    at.to_offset(time::UtcOffset::UTC).replace_nanosecond(0).expect("zero nanoseconds are in range")
}

pub fn now() -> OffsetDateTime {
    normalize_timestamp(OffsetDateTime::now_utc())
}

text_enum!(
    /// Where a person stands with the business.
    #[derive(Default)]
    LifecycleStage { #[default] Lead => "lead", Prospect => "prospect", Customer => "customer", Advocate => "advocate", Churned => "churned" }
);
text_enum!(Channel { Email => "email", Phone => "phone", Sms => "sms", Whatsapp => "whatsapp", InPerson => "in_person", Post => "post" });
text_enum!(CompanySize { S1to10 => "1-10", S11to50 => "11-50", S51to200 => "51-200", S201to1000 => "201-1000", S1001to5000 => "1001-5000", S5001Plus => "5001+" });
text_enum!(DealStatus { Open => "open", Won => "won", Lost => "lost" });
text_enum!(ActivityKind { Note => "note", Call => "call", Email => "email", Meeting => "meeting", Message => "message" });
text_enum!(Direction { Inbound => "inbound", Outbound => "outbound", Internal => "internal" });

/// A phone number as typed, with at least five digits and only the usual punctuation.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Phone(String);

crate::schema::schema_from!(
    Phone,
    crate::schema::text(
        5,
        32,
        "^\\+?[ ().x-]*([0-9][ ().x-]*){5,20}$",
        "A phone number as typed, such as +44 20 7946 0958: 5 to 20 digits, an optional leading '+', and spaces, \
         '-', '(', ')', '.' or 'x' between them."
    )
);

impl Phone {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Digits only, for matching one number typed two ways.
    pub fn digits(&self) -> String {
        self.0.chars().filter(char::is_ascii_digit).collect()
    }
}

impl TryFrom<String> for Phone {
    type Error = String;
    fn try_from(raw: String) -> Result<Self, String> {
        let phone = raw.trim();
        let allowed = phone
            .chars()
            .enumerate()
            .all(|(i, c)| c.is_ascii_digit() || " -().".contains(c) || (c == '+' && i == 0) || c == 'x');
        let digits = phone.chars().filter(char::is_ascii_digit).count();
        if allowed && (5..=20).contains(&digits) && phone.len() <= 32 {
            Ok(Self(phone.to_owned()))
        } else {
            Err("not a phone number".into())
        }
    }
}

impl From<Phone> for String {
    fn from(phone: Phone) -> String {
        phone.0
    }
}

/// A web domain such as `example.com`, stored lower-case without scheme or `www.`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Domain(String);

crate::schema::schema_from!(
    Domain,
    crate::schema::text(
        3,
        253,
        "^(https?://)?(?!(www\\.)+[^.]+/?$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\\.)+[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?/?$",
        "A web domain such as example.com (a leading http(s):// or www. is dropped); kept in lower case."
    )
);

impl Domain {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Domain {
    type Error = String;
    fn try_from(raw: String) -> Result<Self, String> {
        let lower = raw.trim().to_lowercase();
        let bare = lower.trim_start_matches("https://").trim_start_matches("http://");
        let bare = bare.trim_start_matches("www.").trim_end_matches('/');
        let valid = bare.len() <= 253
            && bare.contains('.')
            && bare.split('.').all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && !label.starts_with('-')
                    && !label.ends_with('-')
                    && label.chars().all(|c| c.is_alphanumeric() || c == '-')
            });
        if valid { Ok(Self(bare.to_owned())) } else { Err("not a domain name".into()) }
    }
}

impl From<Domain> for String {
    fn from(domain: Domain) -> String {
        domain.0
    }
}

/// A language tag such as `en`, `pt-BR`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Language(String);

crate::schema::schema_from!(
    Language,
    crate::schema::text(
        2,
        100,
        "^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$",
        "A language tag such as en or pt-BR: a 2- or 3-letter language, then parts of 2 to 8 letters or digits."
    )
);

impl Language {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Language {
    type Error = String;
    fn try_from(raw: String) -> Result<Self, String> {
        let tag = raw.trim();
        let mut parts = tag.split('-');
        let primary_ok =
            parts.next().is_some_and(|p| (2..=3).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphabetic()));
        let rest_ok = parts.all(|p| (2..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric()));
        if primary_ok && rest_ok && tag.len() <= 100 {
            Ok(Self(tag.to_owned()))
        } else {
            Err("not a language tag such as en or pt-BR".into())
        }
    }
}

impl From<Language> for String {
    fn from(language: Language) -> String {
        language.0
    }
}

/// An IANA time zone name such as `Europe/Lisbon`, or `UTC`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TimeZone(String);

crate::schema::schema_from!(
    TimeZone,
    crate::schema::text(
        3,
        64,
        "^(UTC|[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z][A-Za-z0-9_+-]*)+)$",
        "A time zone name such as Europe/Lisbon, or UTC."
    )
);

impl TimeZone {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for TimeZone {
    type Error = String;
    fn try_from(raw: String) -> Result<Self, String> {
        let zone = raw.trim();
        let valid = zone == "UTC"
            || (zone.len() <= 64
                && zone.contains('/')
                && zone.split('/').all(|part| {
                    part.starts_with(|c: char| c.is_ascii_alphabetic())
                        && part.chars().all(|c| c.is_ascii_alphanumeric() || "_+-".contains(c))
                }));
        if valid { Ok(Self(zone.to_owned())) } else { Err("not a time zone name such as Europe/Lisbon".into()) }
    }
}

impl From<TimeZone> for String {
    fn from(zone: TimeZone) -> String {
        zone.0
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct EmailEntry {
    pub address: Email,
    #[serde(default)]
    pub label: Option<Name>,
    #[serde(default)]
    pub primary: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PhoneEntry {
    pub number: Phone,
    #[serde(default)]
    pub label: Option<Name>,
    #[serde(default)]
    pub primary: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Preferences {
    #[serde(default)]
    pub preferred_channel: Option<Channel>,
    #[serde(default)]
    pub language: Option<Language>,
    #[serde(default)]
    pub time_zone: Option<TimeZone>,
    #[serde(default)]
    pub do_not_contact: bool,
    #[serde(default)]
    pub interests: Vec<Tag>,
    /// What they like, how they like to be treated.
    #[serde(default)]
    pub notes: Option<LongText>,
}

/// Exactly one primary among several entries: the one marked, or else the first.
fn settle_primary<T>(entries: &mut [T], primary: impl Fn(&mut T) -> &mut bool, field: &str, errors: &mut FieldErrors) {
    let marked = entries.iter_mut().map(|e| *primary(e)).filter(|marked| *marked).count();
    if marked > 1 {
        errors.add(field, "only one entry may be primary");
    } else if marked == 0
        && let Some(first) = entries.first_mut()
    {
        *primary(first) = true;
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PersonInput {
    pub first_name: Name,
    #[serde(default)]
    pub last_name: Option<Name>,
    #[serde(default)]
    pub emails: Vec<EmailEntry>,
    #[serde(default)]
    pub phones: Vec<PhoneEntry>,
    /// Their day of birth; the year may be unknown (`--04-15`).
    #[serde(default)]
    pub birthday: Option<Birthday>,
    /// Postal addresses, one of them primary (the first unless one is marked).
    #[serde(default)]
    #[schema(max_items = 10)]
    pub addresses: Vec<PostalAddress>,
    #[serde(default)]
    pub job_title: Option<Name>,
    #[serde(default)]
    pub company_id: Option<CompanyId>,
    #[serde(default)]
    pub owner_id: Option<UserId>,
    #[serde(default)]
    pub lifecycle_stage: LifecycleStage,
    /// Where they came from: "website", "event", "referral"...
    #[serde(default)]
    pub source: Option<Name>,
    /// The person who recommended them: word of mouth, tracked.
    #[serde(default)]
    pub referred_by_id: Option<PersonId>,
    #[serde(default)]
    pub tags: Vec<Tag>,
    #[serde(default)]
    pub preferences: Preferences,
    /// Raise a task when nobody has been in touch for this many days.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 3650)]
    pub keep_in_touch_days: Option<i32>,
    /// The record's id in another system: the one it was imported from, or an
    /// integration's own key. Unique among people; an import finds the record by
    /// it. Set it on create or update; `PUT` without it (or with `null`) clears it.
    #[serde(default)]
    pub external_id: Option<Name>,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub custom_fields: CustomValues,
}

impl PersonInput {
    /// Someone known only by name and address so far: a lead.
    pub fn lead(first_name: Name, last_name: Option<Name>, email: Email, source: Option<Name>) -> Self {
        PersonInput {
            first_name,
            last_name,
            emails: vec![EmailEntry { address: email, label: None, primary: true }],
            phones: Vec::new(),
            birthday: None,
            addresses: Vec::new(),
            job_title: None,
            company_id: None,
            owner_id: None,
            lifecycle_stage: LifecycleStage::Lead,
            source,
            referred_by_id: None,
            tags: Vec::new(),
            preferences: Preferences::default(),
            keep_in_touch_days: None,
            external_id: None,
            custom_fields: CustomValues::default(),
        }
    }

    /// Rules across fields; normalizes primaries and tags.
    pub fn check(&mut self) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::new();
        settle_primary(&mut self.emails, |e| &mut e.primary, "emails", &mut errors);
        settle_primary(&mut self.phones, |p| &mut p.primary, "phones", &mut errors);
        let mut seen = std::collections::HashSet::new();
        if !self.emails.iter().all(|e| seen.insert(e.address.as_str().to_owned())) {
            errors.add("emails", "the same address is listed twice");
        }
        if self.emails.len() > 20 {
            errors.add("emails", "at most 20 addresses");
        }
        if self.phones.len() > 20 {
            errors.add("phones", "at most 20 numbers");
        }
        settle_primary(&mut self.addresses, |a| &mut a.primary, "addresses", &mut errors);
        if self.addresses.len() > crate::personal::MAX_ADDRESSES {
            errors.add("addresses", format!("at most {} addresses", crate::personal::MAX_ADDRESSES));
        }
        for (i, address) in self.addresses.iter().enumerate() {
            if address.is_empty() {
                errors.add(
                    format!("addresses[{i}]"),
                    "needs at least one of street, locality, region, postal_code and country",
                );
            }
        }
        if let Some(days) = self.keep_in_touch_days
            && !(1..=3650).contains(&days)
        {
            errors.add("keep_in_touch_days", "must be between 1 and 3650 days");
        }
        self.tags = crate::text::normalize_tags(std::mem::take(&mut self.tags));
        errors.into_result()
    }

    pub fn full_name(&self) -> String {
        match &self.last_name {
            Some(last) => format!("{} {}", self.first_name, last),
            None => self.first_name.to_string(),
        }
    }

    pub fn primary_email(&self) -> Option<&Email> {
        self.emails.iter().find(|e| e.primary).map(|e| &e.address)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Person {
    pub id: PersonId,
    #[serde(flatten)]
    pub fields: PersonInput,
    /// The last inbound or outbound call, email, meeting or message (RFC 3339, or a date for midnight UTC).
    #[serde(with = "crate::time_input::option")]
    pub last_contacted_at: Option<OffsetDateTime>,
    #[serde(flatten)]
    pub meta: Meta,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CompanyInput {
    pub name: Name,
    #[serde(default)]
    pub domain: Option<Domain>,
    #[serde(default)]
    pub industry: Option<Name>,
    #[serde(default)]
    pub size: Option<CompanySize>,
    #[serde(default)]
    pub owner_id: Option<UserId>,
    #[serde(default)]
    pub tags: Vec<Tag>,
    /// The record's id in another system: the one it was imported from, or an
    /// integration's own key. Unique among companies; an import finds the record by
    /// it. Set it on create or update; `PUT` without it (or with `null`) clears it.
    #[serde(default)]
    pub external_id: Option<Name>,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub custom_fields: CustomValues,
}

impl CompanyInput {
    /// A company known only by its name (what an import makes of a
    /// company name it does not find).
    pub fn named(name: Name) -> Self {
        CompanyInput {
            name,
            domain: None,
            industry: None,
            size: None,
            owner_id: None,
            tags: Vec::new(),
            external_id: None,
            custom_fields: CustomValues::default(),
        }
    }

    pub fn check(&mut self) -> Result<(), FieldErrors> {
        self.tags = crate::text::normalize_tags(std::mem::take(&mut self.tags));
        Ok(())
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Company {
    pub id: CompanyId,
    #[serde(flatten)]
    pub fields: CompanyInput,
    #[serde(flatten)]
    pub meta: Meta,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StageInput {
    /// Present to keep an existing stage (its deals stay on it); absent for a new one.
    #[serde(default)]
    pub id: Option<StageId>,
    pub name: Name,
    /// Chance, in percent, that a deal in this stage is won.
    #[schema(minimum = 0, maximum = 100)]
    pub win_probability: i32,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PipelineInput {
    pub name: Name,
    /// Stages in board order, with names unique regardless of case.
    #[schema(min_items = 1, max_items = 50)]
    pub stages: Vec<StageInput>,
}

impl PipelineInput {
    pub fn check(&self) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::new();
        if self.stages.is_empty() {
            errors.add("stages", "a pipeline needs at least one stage");
        }
        if self.stages.len() > 50 {
            errors.add("stages", "at most 50 stages");
        }
        for (i, stage) in self.stages.iter().enumerate() {
            if !(0..=100).contains(&stage.win_probability) {
                errors.add(format!("stages[{i}].win_probability"), "must be between 0 and 100");
            }
        }
        let mut names = std::collections::HashSet::new();
        if !self.stages.iter().all(|s| names.insert(s.name.as_str().to_lowercase())) {
            errors.add("stages", "stage names must be unique");
        }
        let mut ids = std::collections::HashSet::new();
        if !self.stages.iter().filter_map(|s| s.id).all(|id| ids.insert(id)) {
            errors.add("stages", "a stage id is listed twice");
        }
        errors.into_result()
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Stage {
    pub id: StageId,
    pub name: Name,
    pub win_probability: i32,
    pub position: i32,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Pipeline {
    pub id: PipelineId,
    pub name: Name,
    pub stages: Vec<Stage>,
    #[serde(flatten)]
    pub meta: Meta,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DealInput {
    pub name: Name,
    #[schema(schema_with = crate::money::non_negative_schema)]
    pub amount: Money,
    pub pipeline_id: PipelineId,
    pub stage_id: StageId,
    #[serde(default)]
    pub person_id: Option<PersonId>,
    #[serde(default)]
    pub company_id: Option<CompanyId>,
    #[serde(default)]
    pub owner_id: Option<UserId>,
    /// A date, `YYYY-MM-DD`.
    #[serde(default, with = "crate::time_input::date::option")]
    pub expected_close: Option<Date>,
    #[serde(default = "open")]
    pub status: DealStatus,
    #[serde(default)]
    pub lost_reason: Option<LongText>,
    #[serde(default)]
    pub tags: Vec<Tag>,
    /// The record's id in another system: the one it was imported from, or an
    /// integration's own key. Unique among deals; an import finds the record by
    /// it. Set it on create or update; `PUT` without it (or with `null`) clears it.
    #[serde(default)]
    pub external_id: Option<Name>,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub custom_fields: CustomValues,
}

fn open() -> DealStatus {
    DealStatus::Open
}

impl DealInput {
    pub fn check(&mut self) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::new();
        if self.amount.amount_minor < 0 {
            errors.add("amount.amount_minor", "must not be negative");
        }
        if self.lost_reason.is_some() && self.status != DealStatus::Lost {
            errors.add("lost_reason", "only a lost deal has a lost reason");
        }
        self.tags = crate::text::normalize_tags(std::mem::take(&mut self.tags));
        errors.into_result()
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Deal {
    pub id: DealId,
    #[serde(flatten)]
    pub fields: DealInput,
    /// When the deal was won or lost (RFC 3339, or a date for midnight UTC).
    #[serde(with = "crate::time_input::option")]
    pub closed_at: Option<OffsetDateTime>,
    #[serde(flatten)]
    pub meta: Meta,
}

/// What an activity or task is about: a person, a company and/or a deal.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Links {
    #[serde(default)]
    pub person_id: Option<PersonId>,
    #[serde(default)]
    pub company_id: Option<CompanyId>,
    #[serde(default)]
    pub deal_id: Option<DealId>,
}

impl Links {
    pub fn is_empty(&self) -> bool {
        self.person_id.is_none() && self.company_id.is_none() && self.deal_id.is_none()
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ActivityInput {
    pub kind: ActivityKind,
    /// Defaults to internal for notes and outbound for everything else.
    #[serde(default)]
    pub direction: Option<Direction>,
    /// Defaults to now. RFC 3339, or a date for midnight UTC.
    #[serde(default, with = "crate::time_input::option")]
    pub occurred_at: Option<OffsetDateTime>,
    #[serde(default)]
    pub subject: Option<Name>,
    #[serde(default)]
    pub body: Option<LongText>,
    /// Defaults to the signed-in user.
    #[serde(default)]
    pub author_id: Option<UserId>,
    #[serde(flatten)]
    pub links: Links,
}

impl ActivityInput {
    pub fn check(&mut self) -> Result<(), FieldErrors> {
        if self.links.is_empty() {
            return Err(FieldErrors::single("person_id", "an activity is about a person, a company or a deal"));
        }
        if self.subject.is_none() && self.body.is_none() {
            return Err(FieldErrors::single("body", "write a subject or a body"));
        }
        self.direction.get_or_insert(match self.kind {
            ActivityKind::Note => Direction::Internal,
            _ => Direction::Outbound,
        });
        self.occurred_at = Some(normalize_timestamp(self.occurred_at.unwrap_or_else(now)));
        Ok(())
    }

    /// Whether this activity was real contact with the customer.
    pub fn is_contact(&self) -> bool {
        self.kind != ActivityKind::Note && self.direction != Some(Direction::Internal)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Activity {
    pub id: ActivityId,
    #[serde(flatten)]
    pub fields: ActivityInput,
    /// The record's id in the system it was imported from: unique, and how a new import finds it.
    #[serde(default)]
    pub external_id: Option<Name>,
    #[serde(flatten)]
    pub meta: Meta,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TaskInput {
    pub title: Name,
    #[serde(default)]
    pub notes: Option<LongText>,
    /// RFC 3339, or a date for midnight UTC.
    #[serde(default, with = "crate::time_input::option")]
    pub due_at: Option<OffsetDateTime>,
    /// Defaults to the signed-in user.
    #[serde(default)]
    pub assignee_id: Option<UserId>,
    #[serde(default)]
    pub done: bool,
    #[serde(flatten)]
    pub links: Links,
}

impl TaskInput {
    pub fn check(&mut self) -> Result<(), FieldErrors> {
        self.due_at = self.due_at.map(normalize_timestamp);
        Ok(())
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Task {
    pub id: TaskId,
    #[serde(flatten)]
    pub fields: TaskInput,
    #[serde(with = "time::serde::rfc3339::option")]
    pub done_at: Option<OffsetDateTime>,
    #[serde(flatten)]
    pub meta: Meta,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PurchaseInput {
    pub person_id: PersonId,
    /// RFC 3339, or a date for midnight UTC.
    #[serde(with = "crate::time_input")]
    pub occurred_at: OffsetDateTime,
    #[schema(schema_with = crate::money::non_negative_schema)]
    pub amount: Money,
    /// The order number; unique per person, so an import never counts one twice.
    #[serde(default)]
    pub reference: Option<Name>,
    #[serde(default)]
    pub description: Option<LongText>,
}

impl PurchaseInput {
    pub fn check(&mut self) -> Result<(), FieldErrors> {
        self.occurred_at = normalize_timestamp(self.occurred_at);
        if self.amount.amount_minor < 0 {
            return Err(FieldErrors::single("amount.amount_minor", "must not be negative"));
        }
        Ok(())
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Purchase {
    pub id: PurchaseId,
    #[serde(flatten)]
    pub fields: PurchaseInput,
    #[serde(flatten)]
    pub meta: Meta,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TeamInput {
    pub name: Name,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Team {
    pub id: TeamId,
    #[serde(flatten)]
    pub fields: TeamInput,
    #[serde(flatten)]
    pub meta: Meta,
}

/// A password as typed: 10 to 200 characters. Never serialized.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct Password(String);

crate::schema::schema_from!(Password, {
    let mut schema = crate::schema::text(10, 200, "^[\\s\\S]*$", "A password of 10 to 200 characters.");
    schema.format = Some(utoipa::openapi::SchemaFormat::KnownFormat(utoipa::openapi::KnownFormat::Password));
    schema
});

impl Password {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(..)")
    }
}

impl TryFrom<String> for Password {
    type Error = String;
    fn try_from(raw: String) -> Result<Self, String> {
        match raw.chars().count() {
            0..10 => Err("must be at least 10 characters".into()),
            10..=200 => Ok(Self(raw)),
            _ => Err("must be at most 200 characters".into()),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct UserInput {
    pub name: Name,
    pub email: Email,
    pub role: Role,
    #[serde(default)]
    pub team_id: Option<TeamId>,
    #[serde(default = "yes")]
    pub active: bool,
}

fn yes() -> bool {
    true
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct User {
    pub id: UserId,
    #[serde(flatten)]
    pub fields: UserInput,
    #[serde(flatten)]
    pub meta: Meta,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ApiToken {
    pub id: TokenId,
    pub user_id: UserId,
    pub name: Name,
    #[serde(with = "time::serde::rfc3339::option")]
    pub expires_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub revoked_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_used_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enums_speak_their_labels_in_json() {
        assert_eq!(serde_json::to_value(CompanySize::S51to200).unwrap(), "51-200");
        assert_eq!(serde_json::from_value::<CompanySize>("5001+".into()).unwrap(), CompanySize::S5001Plus);
        assert_eq!(serde_json::to_value(Channel::InPerson).unwrap(), "in_person");
        assert!(serde_json::from_value::<LifecycleStage>("customers".into()).is_err());
    }

    #[test]
    fn one_entry_becomes_primary() {
        let mut person: PersonInput = serde_json::from_value(serde_json::json!({
            "first_name": "Ana",
            "emails": [{"address": "a@example.com"}, {"address": "b@example.com"}],
            "tags": ["VIP", "vip", "new"]
        }))
        .unwrap();
        person.check().unwrap();
        assert!(person.emails[0].primary && !person.emails[1].primary);
        assert_eq!(person.tags.iter().map(Tag::as_str).collect::<Vec<_>>(), ["new", "vip"]);
    }
}
