//! The filter builder above the lists of people, companies and deals: the
//! list's `where` conditions as removable chips, and "Add filter" (field →
//! operator → value). The conditions live in the query string, so a saved
//! view keeps them. Without JavaScript the builder is part of the plain GET
//! form (`where_field`, `where_op`, `where_value`, folded into one `where`
//! here); app.js builds the `where` itself and offers only the operators
//! and value inputs that fit the chosen field.

use rapport_domain::conditions::{self, FieldSpec, FieldType, Op, Subject, Where};
use rapport_domain::custom_fields::{CustomFieldInput, EntityType, FieldKind};
use rapport_domain::views::ListKind;
use rapport_domain::{CompanyId, UserId};

use super::WebError;
use super::lists::Choice;
use super::staff::Staff;
use rapport_api::AppState;

/// The builder's own fields in a plain (no-JavaScript) submit.
const BUILDER_KEYS: [&str; 3] = ["where_field", "where_op", "where_value"];

/// Turns a plain form's builder fields into one `where` pair (when a field
/// and an operator are chosen) and drops them.
pub fn fold_builder(pairs: &mut Vec<(String, String)>) {
    let get = |key: &str| pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.trim().to_owned()).unwrap_or_default();
    let (field, op, value) = (get("where_field"), get("where_op"), get("where_value"));
    pairs.retain(|(key, _)| !BUILDER_KEYS.contains(&key.as_str()));
    if field.is_empty() || op.is_empty() {
        return;
    }
    let text = if value.is_empty() { format!("{field}.{op}") } else { format!("{field}.{op}.{value}") };
    pairs.push(("where".to_owned(), text));
}

/// One condition shown as a chip.
pub struct Chip {
    /// The condition as written in the query string.
    pub text: String,
    /// "Stage is Customer".
    pub label: String,
    /// The list without this condition.
    pub remove_href: String,
}

/// A field the builder offers.
pub struct BuilderField {
    /// `first_name`, or `custom.customer_tier`.
    pub name: String,
    pub label: String,
    /// The field's operators as `op=label` pairs separated by `;`, for app.js.
    pub ops: String,
    /// `text`, `number`, `date`, `choice`, `boolean`, `tag`: which value input fits.
    pub input: &'static str,
    /// The values of a choice, owner or stage field.
    pub choices: Vec<Choice>,
}

pub struct BuilderOp {
    pub value: &'static str,
    pub label: &'static str,
}

/// What the list page shows of the builder.
pub struct FilterBuilder {
    pub chips: Vec<Chip>,
    pub record_fields: Vec<BuilderField>,
    pub custom_fields: Vec<BuilderField>,
    /// Every operator, for the plain form; app.js narrows them to the field's.
    pub ops: Vec<BuilderOp>,
}

impl FilterBuilder {
    /// Whether the list has a builder at all.
    pub fn offered(&self) -> bool {
        !self.record_fields.is_empty()
    }

    /// The builder of `list`, its chips from the query's `where` pairs.
    pub async fn load(
        state: &AppState,
        list: ListKind,
        path: &str,
        pairs: &[(String, String)],
    ) -> Result<FilterBuilder, WebError> {
        let fields = conditions::fields(list);
        let entity = match list {
            ListKind::People => EntityType::Person,
            ListKind::Companies => EntityType::Company,
            ListKind::Deals => EntityType::Deal,
            _ => {
                return Ok(FilterBuilder {
                    chips: Vec::new(),
                    record_fields: Vec::new(),
                    custom_fields: Vec::new(),
                    ops: Vec::new(),
                });
            }
        };
        let definitions: Vec<CustomFieldInput> =
            state.store.list_custom_fields(Some(entity)).await?.into_iter().map(|d| d.field).collect();
        let names = Names::load(state, list, pairs).await?;
        let record_fields = fields
            .iter()
            // Records by id have no picker here: the API and the record pages filter by them.
            .filter(|spec| !matches!(spec.ty, FieldType::Reference) || spec.name == "stage")
            .map(|spec| BuilderField {
                name: spec.name.to_owned(),
                label: spec.label.to_owned(),
                ops: ops_of(spec.ty),
                input: input_of(spec.ty),
                choices: names.choices(spec),
            })
            .collect();
        let custom_fields = definitions
            .iter()
            .map(|definition| {
                let ty = custom_type(definition.kind);
                BuilderField {
                    name: format!("custom.{}", definition.key.as_str()),
                    label: definition.label.to_string(),
                    ops: ops_of(ty),
                    input: input_of(ty),
                    choices: definition.choices.iter().map(|c| Choice::new(c.as_str(), c.as_str())).collect(),
                }
            })
            .collect();
        let chips = pairs
            .iter()
            .enumerate()
            .filter(|(_, (key, _))| key == "where")
            .map(|(index, (_, text))| Chip {
                text: text.clone(),
                label: chip_label(fields, &definitions, &names, text),
                remove_href: remove_href(path, pairs, index),
            })
            .collect();
        let ops = Op::ALL.iter().map(|op| BuilderOp { value: op.as_str(), label: plain_label(*op) }).collect();
        Ok(FilterBuilder { chips, record_fields, custom_fields, ops })
    }
}

fn custom_type(kind: FieldKind) -> FieldType {
    match kind {
        FieldKind::Text => FieldType::Text,
        FieldKind::Number => FieldType::Number,
        FieldKind::Date => FieldType::Date,
        FieldKind::Boolean => FieldType::Boolean,
        FieldKind::Choice => FieldType::Choice,
    }
}

fn ops_of(ty: FieldType) -> String {
    ty.operators().iter().map(|op| format!("{}={}", op.as_str(), op.label(ty))).collect::<Vec<_>>().join(";")
}

fn input_of(ty: FieldType) -> &'static str {
    match ty {
        FieldType::Text => "text",
        FieldType::Number | FieldType::Money => "number",
        FieldType::Date | FieldType::Timestamp => "date",
        FieldType::Choice | FieldType::Owner | FieldType::Reference => "choice",
        FieldType::Tag => "tag",
        FieldType::Boolean => "boolean",
    }
}

/// An operator's label in the plain form, where the field is not known yet.
fn plain_label(op: Op) -> &'static str {
    match op {
        Op::Eq => "is / =",
        Op::Ne => "is not / ≠",
        Op::Last => "within the last (days)",
        other => other.label(FieldType::Text),
    }
}

/// "customer" → "Customer": a record field's choice as the list's filters show it.
fn capitalized(label: &str) -> String {
    let mut chars = label.chars();
    chars.next().map(|first| first.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

/// The list without its `index`-th pair (and without a cursor).
fn remove_href(path: &str, pairs: &[(String, String)], index: usize) -> String {
    let kept = pairs.iter().enumerate().filter(|(i, (key, _))| *i != index && key != "cursor").map(|(_, pair)| pair);
    let query = form_urlencoded::Serializer::new(String::new()).extend_pairs(kept).finish();
    if query.is_empty() { path.to_owned() } else { format!("{path}?{query}") }
}

/// Names for the ids conditions can hold: staff, stages, companies.
struct Names {
    staff: Staff,
    stages: Vec<Choice>,
    companies: Vec<(CompanyId, String)>,
}

impl Names {
    async fn load(state: &AppState, list: ListKind, pairs: &[(String, String)]) -> Result<Names, WebError> {
        let staff = Staff::load(state).await?;
        let stages = if list == ListKind::Deals {
            let pipelines = state.store.list_pipelines().await?;
            let many = pipelines.len() > 1;
            pipelines
                .iter()
                .flat_map(|p| {
                    p.stages.iter().map(move |s| {
                        let label = if many { format!("{} – {}", p.name, s.name) } else { s.name.to_string() };
                        Choice::new(s.id.0.to_string(), label)
                    })
                })
                .collect()
        } else {
            Vec::new()
        };
        // Company chips name the company: the ids in this query's conditions.
        let ids: Vec<CompanyId> = pairs
            .iter()
            .filter(|(key, value)| key == "where" && value.starts_with("company."))
            .flat_map(|(_, value)| {
                value.rsplit('.').next().unwrap_or("").split('|').map(str::to_owned).collect::<Vec<_>>()
            })
            .filter_map(|id| id.parse().ok().map(CompanyId))
            .collect();
        let companies =
            if ids.is_empty() { Vec::new() } else { state.store.company_names(&ids).await?.into_iter().collect() };
        Ok(Names { staff, stages, companies })
    }

    fn choices(&self, spec: &FieldSpec) -> Vec<Choice> {
        match spec.ty {
            FieldType::Owner => self.staff.choices(),
            FieldType::Reference if spec.name == "stage" => {
                self.stages.iter().map(|c| Choice::new(c.value.clone(), c.label.clone())).collect()
            }
            FieldType::Choice => {
                (spec.choices)().into_iter().map(|(value, label)| Choice::new(value, capitalized(label))).collect()
            }
            _ => Vec::new(),
        }
    }

    /// What a chip calls a value of `spec`.
    fn value(&self, spec: Option<&FieldSpec>, raw: &str) -> String {
        let Some(spec) = spec else { return raw.to_owned() };
        match spec.ty {
            FieldType::Owner => {
                raw.parse().map(|id| self.staff.name(Some(UserId(id)))).unwrap_or_else(|_| raw.to_owned())
            }
            FieldType::Reference if spec.name == "stage" => {
                self.stages.iter().find(|c| c.value == raw).map_or_else(|| raw.to_owned(), |c| c.label.clone())
            }
            FieldType::Reference if spec.name == "company" => self
                .companies
                .iter()
                .find(|(id, _)| id.0.to_string() == raw)
                .map_or_else(|| raw.to_owned(), |(_, name)| name.clone()),
            FieldType::Choice => (spec.choices)()
                .into_iter()
                .find(|(value, _)| *value == raw)
                .map_or_else(|| raw.to_owned(), |(_, label)| capitalized(label)),
            _ => raw.to_owned(),
        }
    }
}

/// "Stage is Customer", "Customer tier is any of gold, silver", "Email is empty":
/// a condition as a person says it; as written when it does not parse.
fn chip_label(fields: &'static [FieldSpec], definitions: &[CustomFieldInput], names: &Names, text: &str) -> String {
    let (field, ty, spec, op) = match Where::parse(fields, text) {
        Ok(Where::Ready(condition)) => {
            let Subject::Field(spec) = condition.subject else { return text.to_owned() };
            let op = text.split('.').nth(1).and_then(Op::parse);
            (spec.label.to_owned(), spec.ty, Some(spec), op)
        }
        Ok(Where::Custom(custom)) => match definitions.iter().find(|d| d.key == custom.key) {
            Some(definition) => (definition.label.to_string(), custom_type(definition.kind), None, Some(custom.op)),
            None => return text.to_owned(),
        },
        Err(_) => return text.to_owned(),
    };
    let Some(op) = op else { return text.to_owned() };
    if !op.takes_value() {
        return format!("{field} {}", op.label(ty));
    }
    let raw = text.splitn(if text.starts_with("custom.") { 4 } else { 3 }, '.').last().unwrap_or("");
    let shown: Vec<String> = raw.split('|').map(|v| names.value(spec, v)).collect();
    let days = if op == Op::Last { " days" } else { "" };
    format!("{field} {} {}{days}", op.label(ty).trim_end_matches(" (days)"), shown.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plain_forms_builder_fields_become_one_condition() {
        let mut pairs: Vec<(String, String)> =
            [("q", "ana"), ("where_field", "city"), ("where_op", "eq"), ("where_value", " Oslo ")]
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
        fold_builder(&mut pairs);
        assert_eq!(pairs, vec![("q".into(), "ana".into()), ("where".into(), "city.eq.Oslo".into())]);
        let mut half: Vec<(String, String)> = vec![("where_field".into(), "email".into())];
        fold_builder(&mut half);
        assert!(half.is_empty(), "a field without an operator adds nothing");
    }

    #[test]
    fn removing_a_chip_keeps_the_rest() {
        let pairs: Vec<(String, String)> =
            vec![("where".into(), "a.set".into()), ("cursor".into(), "x".into()), ("where".into(), "b.empty".into())];
        assert_eq!(remove_href("/people", &pairs, 0), "/people?where=b.empty");
        assert_eq!(remove_href("/people", &pairs[..1], 0), "/people");
    }
}
