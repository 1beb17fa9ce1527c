//! One CSV row into one kind's import values: every cell parsed into the
//! domain's types here, at the edge, so storage is handed parsed rows only.

use std::collections::BTreeMap;

use rapport_domain::custom_fields::CustomFieldInput;
use rapport_domain::custom_fields::CustomValues;
use rapport_domain::records::{
    ActivityKind, Birthday, CompanySize, DealStatus, Direction, Domain, Language, LifecycleStage, Phone, PostalAddress,
    PostalCode, TimeZone,
};
use rapport_domain::text::{LongText, Name, Tag};
use rapport_domain::tickets::{TicketChannel, TicketPriority, TicketStatus};
use rapport_domain::{Currency, Email, FieldErrors, Money};
use rapport_storage::{
    ActivityImport, AnswerImport, CompanyImport, CompanyRef, CustomerRef, DealImport, PersonImport, PurchaseImport,
    Rejection, TicketImport,
};
use time::{Date, OffsetDateTime};

use crate::mapping::{Plan, Target};

/// Parses rows of one file, with the custom field definitions of its kind.
pub(crate) struct RowParser {
    pub plan: Plan,
    pub custom: Vec<CustomFieldInput>,
}

/// Several values in one cell, split on `;` or `,` (neither can be part of an
/// address, a number or a tag).
fn items(cell: &str) -> impl Iterator<Item = &str> {
    cell.split([';', ',']).map(str::trim).filter(|item| !item.is_empty())
}

impl RowParser {
    /// The non-empty cells with what they fill; a row longer than the header is an error.
    fn cells<'a>(
        &'a self,
        record: &'a csv::StringRecord,
        errors: &mut FieldErrors,
    ) -> impl Iterator<Item = (&'a Target, &'a str)> + 'a {
        if record.len() > self.plan.headers.len() {
            errors.add("row", format!("has {} cells, the header {}", record.len(), self.plan.headers.len()));
        }
        record
            .iter()
            .zip(&self.plan.columns)
            .filter_map(|(cell, target)| Some((target.as_ref()?, cell.trim())))
            .filter(|(_, cell)| !cell.is_empty())
    }

    fn custom_value(&self, key: &str, cell: &str) -> Result<serde_json::Value, String> {
        let definition = self.custom.iter().find(|d| d.key.as_str() == key).ok_or("is not a custom field")?;
        definition.value_from_text(cell)
    }

    pub fn person(&self, line: u64, record: &csv::StringRecord) -> Result<PersonImport, Rejection> {
        let mut row = PersonImport { line, ..Default::default() };
        let mut address = PostalAddress::default();
        let mut errors = FieldErrors::new();
        for (target, cell) in self.cells(record, &mut errors) {
            if let Err(reason) = self.fill_person(&mut row, &mut address, target, cell) {
                errors.add(target.error_key(), reason);
            }
        }
        // The address columns make one address.
        if !address.is_empty() {
            row.addresses.push(address);
        }
        errors.into_result().map(|()| row).map_err(|errors| Rejection { line, errors })
    }

    fn fill_person(
        &self,
        row: &mut PersonImport,
        address: &mut PostalAddress,
        target: &Target,
        cell: &str,
    ) -> Result<(), String> {
        match target {
            Target::Field("birthday") => row.birthday = Some(Birthday::read(cell)?),
            Target::Field("street") => address.street = Some(Name::try_from(cell)?),
            Target::Field("city") => address.locality = Some(Name::try_from(cell)?),
            Target::Field("region") => address.region = Some(Name::try_from(cell)?),
            Target::Field("postal_code") => {
                address.postal_code = Some(PostalCode::try_from(cell.to_owned()).map_err(|e| format!("{cell:?} {e}"))?)
            }
            Target::Field("country") => address.country = Some(Name::try_from(cell)?),
            Target::Field("external_id") => row.external_id = Some(Name::try_from(cell)?),
            Target::Field("first_name") => row.first_name = Some(Name::try_from(cell)?),
            Target::Field("last_name") => row.last_name = Some(Name::try_from(cell)?),
            Target::Field("job_title") => row.job_title = Some(Name::try_from(cell)?),
            Target::Field("source") => row.source = Some(Name::try_from(cell)?),
            Target::Field("emails") => {
                for item in items(cell) {
                    row.emails.push(Email::parse(item).map_err(|e| format!("{item:?} {e}"))?);
                }
            }
            Target::Field("phones") => {
                for item in items(cell) {
                    row.phones.push(Phone::try_from(item.to_owned()).map_err(|e| format!("{item:?} is {e}"))?);
                }
            }
            Target::Field("tags") => {
                for item in items(cell) {
                    row.tags.push(Tag::try_from(item.to_owned())?);
                }
            }
            Target::Field("lifecycle_stage") => {
                row.lifecycle_stage = Some(LifecycleStage::parse(&cell.to_lowercase())?)
            }
            Target::Field("keep_in_touch_days") => {
                row.keep_in_touch_days = Some(cell.parse().map_err(|_| "must be a whole number of days".to_string())?)
            }
            Target::Field("language") => row.language = Some(Language::try_from(cell.to_owned())?),
            Target::Field("time_zone") => row.time_zone = Some(TimeZone::try_from(cell.to_owned())?),
            Target::Field("note") => row.note = Some(LongText::try_from(cell)?),
            Target::Field("company_name") => row.company_name = Some(Name::try_from(cell)?),
            Target::Custom(key) => {
                row.custom_fields.insert(key.clone(), self.custom_value(key, cell)?);
            }
            Target::Field(other) => return Err(format!("{other} is not a field of people")),
            Target::Question(_) => return Err(format!("{} is not a field of people", target.name())),
        }
        Ok(())
    }
}

impl RowParser {
    pub fn company(&self, line: u64, record: &csv::StringRecord) -> Result<CompanyImport, Rejection> {
        let mut row = CompanyImport { line, ..Default::default() };
        let mut errors = FieldErrors::new();
        for (target, cell) in self.cells(record, &mut errors) {
            let filled: Result<(), String> = (|| {
                match target {
                    Target::Field("external_id") => row.external_id = Some(Name::try_from(cell)?),
                    Target::Field("name") => row.name = Some(Name::try_from(cell)?),
                    Target::Field("domain") => row.domain = Some(Domain::try_from(cell.to_owned())?),
                    Target::Field("industry") => row.industry = Some(Name::try_from(cell)?),
                    Target::Field("size") => row.size = Some(CompanySize::parse(cell)?),
                    Target::Field("tags") => {
                        for item in items(cell) {
                            row.tags.push(Tag::try_from(item.to_owned())?);
                        }
                    }
                    Target::Custom(key) => {
                        row.custom_fields.insert(key.clone(), self.custom_value(key, cell)?);
                    }
                    Target::Field(other) => return Err(format!("{other} is not a field of companies")),
                    Target::Question(_) => return Err(format!("{} is not a field of companies", target.name())),
                }
                Ok(())
            })();
            if let Err(reason) = filled {
                errors.add(target.error_key(), reason);
            }
        }
        errors.into_result().map(|()| row).map_err(|errors| Rejection { line, errors })
    }

    pub fn purchase(&self, line: u64, record: &csv::StringRecord) -> Result<PurchaseImport, Rejection> {
        let mut errors = FieldErrors::new();
        let mut customer = CustomerRef::default();
        let (mut occurred_at, mut amount, mut currency, mut reference, mut description) =
            (None, None, None, None, None);
        for (target, cell) in self.cells(record, &mut errors) {
            let filled: Result<(), String> = (|| {
                match target {
                    Target::Field(field) if fill_customer(&mut customer, field, cell)? => {}
                    Target::Field("occurred_at") => occurred_at = Some(parse_time(cell)?),
                    Target::Field("amount") => amount = Some(cell),
                    Target::Field("currency") => currency = Some(Currency::parse(cell)?),
                    Target::Field("reference") => reference = Some(Name::try_from(cell)?),
                    Target::Field("description") => description = Some(LongText::try_from(cell)?),
                    other => return Err(format!("{} is not a field of purchases", other.name())),
                }
                Ok(())
            })();
            if let Err(reason) = filled {
                errors.add(target.error_key(), reason);
            }
        }
        let money = money(amount, currency, &mut errors);
        if amount.is_none() {
            errors.add("amount", "is required");
        }
        if customer.email.is_none() && customer.external_id.is_none() && errors.is_empty() {
            errors.add("customer_email", "name the customer by email or external id");
        }
        if occurred_at.is_none() && errors.get("occurred_at").is_none() {
            errors.add("occurred_at", "is required");
        }
        if reference.is_none() && errors.get("reference").is_none() {
            errors.add("reference", "is required: it is how a second import finds the purchase");
        }
        match (errors.into_result(), occurred_at, money, reference) {
            (Ok(()), Some(occurred_at), Some(amount), Some(reference)) => {
                Ok(PurchaseImport { line, customer, occurred_at, amount, reference, description })
            }
            (Err(errors), ..) => Err(Rejection { line, errors }),
            (Ok(()), ..) => Err(Rejection { line, errors: FieldErrors::single("row", "is incomplete") }),
        }
    }
}

/// A time as RFC 3339 (`2024-05-01T10:00:00Z`), `YYYY-MM-DD HH:MM[:SS]` in
/// UTC, or a date (midnight UTC).
pub(crate) fn parse_time(cell: &str) -> Result<OffsetDateTime, String> {
    use time::format_description::well_known::Rfc3339;
    use time::macros::format_description;
    if let Ok(at) = OffsetDateTime::parse(cell, &Rfc3339) {
        return Ok(at);
    }
    let cell = cell.replace('T', " ");
    let formats = [
        format_description!("[year]-[month]-[day] [hour]:[minute]:[second]"),
        format_description!("[year]-[month]-[day] [hour]:[minute]"),
    ];
    for format in formats {
        if let Ok(at) = time::PrimitiveDateTime::parse(&cell, &format) {
            return Ok(at.assume_utc());
        }
    }
    time::Date::parse(&cell, &format_description!("[year]-[month]-[day]"))
        .map(|date| date.midnight().assume_utc())
        .map_err(|_| "must be a date (YYYY-MM-DD) or a time (RFC 3339, or YYYY-MM-DD HH:MM)".to_string())
}

/// Fills a customer reference's field; false when `field` is not one.
fn fill_customer(customer: &mut CustomerRef, field: &str, cell: &str) -> Result<bool, String> {
    match field {
        "customer_email" => customer.email = Some(Email::parse(cell).map_err(|e| format!("{cell:?} {e}"))?),
        "customer_external_id" => customer.external_id = Some(Name::try_from(cell)?),
        "customer_first_name" => customer.first_name = Some(Name::try_from(cell)?),
        "customer_last_name" => customer.last_name = Some(Name::try_from(cell)?),
        _ => return Ok(false),
    }
    Ok(true)
}

/// Fills a company reference's field; false when `field` is not one.
fn fill_company(company: &mut CompanyRef, field: &str, cell: &str) -> Result<bool, String> {
    match field {
        "company_external_id" => company.external_id = Some(Name::try_from(cell)?),
        "company_name" => company.name = Some(Name::try_from(cell)?),
        _ => return Ok(false),
    }
    Ok(true)
}

impl RowParser {
    pub fn deal(&self, line: u64, record: &csv::StringRecord) -> Result<DealImport, Rejection> {
        let mut errors = FieldErrors::new();
        let (mut person, mut company) = (CustomerRef::default(), CompanyRef::default());
        let (mut external_id, mut name, mut amount, mut currency) = (None, None, None, None);
        let (mut pipeline, mut stage, mut expected_close, mut status, mut lost_reason) = (None, None, None, None, None);
        let (mut tags, mut custom_fields) = (Vec::new(), CustomValues::new());
        for (target, cell) in self.cells(record, &mut errors) {
            let filled: Result<(), String> = (|| {
                match target {
                    Target::Field(field) if fill_customer(&mut person, field, cell)? => {}
                    Target::Field(field) if fill_company(&mut company, field, cell)? => {}
                    Target::Field("external_id") => external_id = Some(Name::try_from(cell)?),
                    Target::Field("name") => name = Some(Name::try_from(cell)?),
                    Target::Field("amount") => amount = Some(cell),
                    Target::Field("currency") => currency = Some(Currency::parse(cell)?),
                    Target::Field("pipeline") => pipeline = Some(Name::try_from(cell)?),
                    Target::Field("stage") => stage = Some(Name::try_from(cell)?),
                    Target::Field("expected_close") => expected_close = Some(parse_date(cell)?),
                    Target::Field("status") => status = Some(DealStatus::parse(&cell.to_lowercase())?),
                    Target::Field("lost_reason") => lost_reason = Some(LongText::try_from(cell)?),
                    Target::Field("tags") => {
                        for item in items(cell) {
                            tags.push(Tag::try_from(item.to_owned())?);
                        }
                    }
                    Target::Custom(key) => {
                        custom_fields.insert(key.clone(), self.custom_value(key, cell)?);
                    }
                    other => return Err(format!("{} is not a field of deals", other.name())),
                }
                Ok(())
            })();
            if let Err(reason) = filled {
                errors.add(target.error_key(), reason);
            }
        }
        let amount = money(amount, currency, &mut errors);
        if external_id.is_none() && errors.get("external_id").is_none() {
            errors.add("external_id", "is required: it is how a second import finds the deal");
        }
        match (errors.into_result(), external_id) {
            (Ok(()), Some(external_id)) => Ok(DealImport {
                line,
                external_id,
                name,
                amount,
                pipeline,
                stage,
                person,
                company,
                expected_close,
                status,
                lost_reason,
                tags,
                custom_fields,
            }),
            (Err(errors), _) => Err(Rejection { line, errors }),
            (Ok(()), None) => Err(Rejection { line, errors: FieldErrors::single("external_id", "is required") }),
        }
    }

    pub fn activity(&self, line: u64, record: &csv::StringRecord) -> Result<ActivityImport, Rejection> {
        let mut errors = FieldErrors::new();
        let (mut customer, mut company) = (CustomerRef::default(), CompanyRef::default());
        let (mut external_id, mut kind, mut direction, mut occurred_at) = (None, None, None, None);
        let (mut subject, mut body, mut deal_external_id) = (None, None, None);
        for (target, cell) in self.cells(record, &mut errors) {
            let filled: Result<(), String> = (|| {
                match target {
                    Target::Field(field) if fill_customer(&mut customer, field, cell)? => {}
                    Target::Field(field) if fill_company(&mut company, field, cell)? => {}
                    Target::Field("external_id") => external_id = Some(Name::try_from(cell)?),
                    Target::Field("kind") => kind = Some(ActivityKind::parse(&cell.to_lowercase())?),
                    Target::Field("direction") => direction = Some(Direction::parse(&cell.to_lowercase())?),
                    Target::Field("occurred_at") => occurred_at = Some(parse_time(cell)?),
                    Target::Field("subject") => subject = Some(Name::try_from(cell)?),
                    Target::Field("body") => body = Some(LongText::try_from(cell)?),
                    Target::Field("deal_external_id") => deal_external_id = Some(Name::try_from(cell)?),
                    other => return Err(format!("{} is not a field of activities", other.name())),
                }
                Ok(())
            })();
            if let Err(reason) = filled {
                errors.add(target.error_key(), reason);
            }
        }
        if external_id.is_none() && errors.get("external_id").is_none() {
            errors.add("external_id", "is required: it is how a second import finds the activity");
        }
        match (errors.into_result(), external_id) {
            (Ok(()), Some(external_id)) => Ok(ActivityImport {
                line,
                external_id,
                kind,
                direction,
                occurred_at,
                subject,
                body,
                customer,
                company,
                deal_external_id,
            }),
            (Err(errors), _) => Err(Rejection { line, errors }),
            (Ok(()), None) => Err(Rejection { line, errors: FieldErrors::single("external_id", "is required") }),
        }
    }
}

impl RowParser {
    pub fn ticket(&self, line: u64, record: &csv::StringRecord) -> Result<TicketImport, Rejection> {
        let mut errors = FieldErrors::new();
        let mut customer = CustomerRef::default();
        let (mut external_id, mut subject, mut status, mut priority, mut channel) = (None, None, None, None, None);
        let (mut assignee_email, mut team, mut tags, mut created_at) = (None, None, Vec::new(), None);
        let mut custom_fields = CustomValues::new();
        for (target, cell) in self.cells(record, &mut errors) {
            let filled: Result<(), String> = (|| {
                match target {
                    Target::Field(field) if fill_customer(&mut customer, field, cell)? => {}
                    Target::Field("external_id") => external_id = Some(Name::try_from(cell)?),
                    Target::Field("subject") => subject = Some(Name::try_from(cell)?),
                    Target::Field("status") => status = Some(ticket_status(cell)?),
                    Target::Field("priority") => priority = Some(ticket_priority(cell)?),
                    Target::Field("channel") => channel = Some(ticket_channel(cell)?),
                    Target::Field("assignee_email") => {
                        assignee_email = Some(Email::parse(cell).map_err(|e| format!("{cell:?} {e}"))?)
                    }
                    Target::Field("team") => team = Some(Name::try_from(cell)?),
                    Target::Field("tags") => {
                        for item in items(cell) {
                            tags.push(Tag::try_from(item.to_owned())?);
                        }
                    }
                    Target::Field("created_at") => created_at = Some(parse_time(cell)?),
                    Target::Custom(key) => {
                        custom_fields.insert(key.clone(), self.custom_value(key, cell)?);
                    }
                    other => return Err(format!("{} is not a field of tickets", other.name())),
                }
                Ok(())
            })();
            if let Err(reason) = filled {
                errors.add(target.error_key(), reason);
            }
        }
        if external_id.is_none() && errors.get("external_id").is_none() {
            errors.add("external_id", "is required: it is how a second import finds the ticket");
        }
        match (errors.into_result(), external_id) {
            (Ok(()), Some(external_id)) => Ok(TicketImport {
                line,
                external_id,
                subject,
                status,
                priority,
                channel,
                customer,
                assignee_email,
                team,
                tags,
                created_at,
                custom_fields,
            }),
            (Err(errors), _) => Err(Rejection { line, errors }),
            (Ok(()), None) => Err(Rejection { line, errors: FieldErrors::single("external_id", "is required") }),
        }
    }
}

impl RowParser {
    pub fn answer(&self, line: u64, record: &csv::StringRecord) -> Result<AnswerImport, Rejection> {
        let mut errors = FieldErrors::new();
        let mut customer = CustomerRef::default();
        let (mut external_id, mut survey, mut answered_at, mut staff_email) = (None, None, None, None);
        let (mut score, mut comment, mut questions) = (None, None, BTreeMap::new());
        for (target, cell) in self.cells(record, &mut errors) {
            let filled: Result<(), String> = (|| {
                match target {
                    Target::Field(field) if fill_customer(&mut customer, field, cell)? => {}
                    Target::Field("external_id") => external_id = Some(Name::try_from(cell)?),
                    Target::Field("survey") => survey = Some(Name::try_from(cell)?),
                    Target::Field("answered_at") => answered_at = Some(parse_time(cell)?),
                    // Read against the survey's questions when it is stored.
                    Target::Field("score") => score = Some(cell.to_owned()),
                    Target::Field("comment") => comment = Some(cell.to_owned()),
                    Target::Field("staff_email") => {
                        staff_email = Some(Email::parse(cell).map_err(|e| format!("{cell:?} {e}"))?)
                    }
                    Target::Question(key) => {
                        questions.insert(key.clone(), cell.to_owned());
                    }
                    other => return Err(format!("{} is not a field of answers", other.name())),
                }
                Ok(())
            })();
            if let Err(reason) = filled {
                errors.add(target.error_key(), reason);
            }
        }
        if external_id.is_none() && errors.get("external_id").is_none() {
            errors.add("external_id", "is required: it is how a second import finds the answer");
        }
        if survey.is_none() && errors.get("survey").is_none() {
            errors.add("survey", "is required: the survey's name or id");
        }
        if customer.email.is_none() && errors.get("customer_email").is_none() {
            errors.add("customer_email", "is required: the email of the customer who answered");
        }
        match (errors.into_result(), external_id, survey) {
            (Ok(()), Some(external_id), Some(survey)) => Ok(AnswerImport {
                line,
                external_id,
                survey,
                customer,
                answered_at,
                score,
                comment,
                questions,
                staff_email,
            }),
            (Err(errors), ..) => Err(Rejection { line, errors }),
            (Ok(()), ..) => Err(Rejection { line, errors: FieldErrors::single("row", "is incomplete") }),
        }
    }
}

/// A status as help desks write it: Rapport's own, or "on hold" (pending) and "resolved" (solved).
fn ticket_status(cell: &str) -> Result<TicketStatus, String> {
    match cell.to_lowercase().as_str() {
        "hold" | "on hold" | "on-hold" | "waiting" => Ok(TicketStatus::Pending),
        "resolved" => Ok(TicketStatus::Solved),
        other => TicketStatus::parse(other),
    }
}

/// A priority as help desks write it: Rapport's own, or "medium" (normal).
fn ticket_priority(cell: &str) -> Result<TicketPriority, String> {
    match cell.to_lowercase().as_str() {
        "medium" => Ok(TicketPriority::Normal),
        other => TicketPriority::parse(other),
    }
}

/// A channel as help desks write it: Rapport's own, or a common name for one.
fn ticket_channel(cell: &str) -> Result<TicketChannel, String> {
    match cell.to_lowercase().as_str() {
        "mail" | "e-mail" => Ok(TicketChannel::Email),
        "web form" | "webform" | "form" | "portal" => Ok(TicketChannel::Web),
        "voice" | "call" => Ok(TicketChannel::Phone),
        "messaging" | "sms" | "whatsapp" => Ok(TicketChannel::Chat),
        other => TicketChannel::parse(other),
    }
}

/// An amount in major units with its currency; both or neither.
fn money(amount: Option<&str>, currency: Option<Currency>, errors: &mut FieldErrors) -> Option<Money> {
    match (amount, currency) {
        (Some(amount), Some(currency)) => {
            Money::parse_major(amount, currency).map_err(|e| errors.add("amount", e)).ok()
        }
        (Some(_), None) => {
            if errors.get("currency").is_none() {
                errors.add("currency", "is required with an amount");
            }
            None
        }
        (None, _) => None,
    }
}

fn parse_date(cell: &str) -> Result<Date, String> {
    Date::parse(cell, &time::macros::format_description!("[year]-[month]-[day]"))
        .map_err(|_| "must be a date as YYYY-MM-DD".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_read_in_the_usual_forms() {
        let noon = time::macros::datetime!(2024-05-01 12:30 UTC);
        assert_eq!(parse_time("2024-05-01T12:30:00Z").unwrap(), noon);
        assert_eq!(parse_time("2024-05-01T14:30:00+02:00").unwrap(), noon);
        assert_eq!(parse_time("2024-05-01 12:30").unwrap(), noon);
        assert_eq!(parse_time("2024-05-01").unwrap(), time::macros::datetime!(2024-05-01 0:00 UTC));
        assert!(parse_time("01/05/2024").is_err());
    }
}
