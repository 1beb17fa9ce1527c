//! One CSV row into one kind's import values: every cell parsed into the
//! domain's types here, at the edge, so storage is handed parsed rows only.

use rapport_domain::custom_fields::CustomFieldInput;
use rapport_domain::records::{LifecycleStage, Phone};
use rapport_domain::text::{Name, Tag};
use rapport_domain::{Email, FieldErrors};
use rapport_storage::{PersonImport, Rejection};

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
