//! One CSV row into one kind's import values: every cell parsed into the
//! domain's types here, at the edge, so storage is handed parsed rows only.

use rapport_domain::custom_fields::CustomFieldInput;
use rapport_domain::records::{CompanySize, Domain, LifecycleStage, Phone};
use rapport_domain::text::{LongText, Name, Tag};
use rapport_domain::{Currency, Email, FieldErrors, Money};
use rapport_storage::{CompanyImport, CustomerRef, PersonImport, PurchaseImport, Rejection};
use time::OffsetDateTime;

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
        let mut errors = FieldErrors::new();
        for (target, cell) in self.cells(record, &mut errors) {
            if let Err(reason) = self.fill_person(&mut row, target, cell) {
                errors.add(target.error_key(), reason);
            }
        }
        errors.into_result().map(|()| row).map_err(|errors| Rejection { line, errors })
    }

    fn fill_person(&self, row: &mut PersonImport, target: &Target, cell: &str) -> Result<(), String> {
        match target {
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
            Target::Custom(key) => {
                row.custom_fields.insert(key.clone(), self.custom_value(key, cell)?);
            }
            Target::Field(other) => return Err(format!("{other} is not a field of people")),
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
                    Target::Field("customer_email") => {
                        customer.email = Some(Email::parse(cell).map_err(|e| format!("{cell:?} {e}"))?)
                    }
                    Target::Field("customer_external_id") => customer.external_id = Some(Name::try_from(cell)?),
                    Target::Field("customer_first_name") => customer.first_name = Some(Name::try_from(cell)?),
                    Target::Field("customer_last_name") => customer.last_name = Some(Name::try_from(cell)?),
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
        let money = match (amount, currency) {
            (Some(amount), Some(currency)) => {
                Money::parse_major(amount, currency).map_err(|reason| errors.add("amount", reason)).ok()
            }
            (None, _) => {
                errors.add("amount", "is required");
                None
            }
            (Some(_), None) => {
                if errors.get("currency").is_none() {
                    errors.add("currency", "is required");
                }
                None
            }
        };
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
