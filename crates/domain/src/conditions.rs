//! Filter-builder conditions on list queries: `where=<field>.<op>[.<value>]`,
//! e.g. `city.eq.Oslo`, `custom.plan.in.gold|silver`, `created_at.after.2026-01-01`
//! or `email.empty`. A condition is parsed against the fields of its list at
//! the edge; one on a custom field (`custom.<key>...`) is checked again
//! against the field's definition where the definitions are at hand.

use time::Date;
use uuid::Uuid;

use crate::custom_fields::{CustomFieldInput, FieldKey, FieldKind};
use crate::records::{CompanySize, DealStatus, LifecycleStage};
use crate::views::ListKind;

/// The most values `in` takes, and the most conditions a list takes.
pub const MAX_VALUES: usize = 50;
pub const MAX_CONDITIONS: usize = 20;
/// The longest `last` (within the last N days).
pub const MAX_DAYS: u32 = 36_600;

/// What kind of value a field holds, which decides its operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldType {
    Text,
    Number,
    /// An amount in the record's currency, given in major units (12.50).
    Money,
    /// A day.
    Date,
    /// A moment, filtered by the UTC day it falls on.
    Timestamp,
    /// One of a fixed set of values (`FieldSpec::choices`).
    Choice,
    /// A staff member's id.
    Owner,
    /// Another record's id (a company, a person, a pipeline stage).
    Reference,
    Tag,
    Boolean,
}

impl FieldType {
    /// The operators that fit the type, in the order the builder offers them.
    pub fn operators(self) -> &'static [Op] {
        use Op::*;
        match self {
            FieldType::Text => &[Eq, Ne, Contains, Starts, Empty, Set],
            FieldType::Number | FieldType::Money => &[Eq, Ne, Lt, Le, Gt, Ge, Empty, Set],
            FieldType::Date | FieldType::Timestamp => &[On, Before, After, Last, Empty, Set],
            FieldType::Choice | FieldType::Owner | FieldType::Reference => &[Eq, Ne, In, Empty, Set],
            FieldType::Tag => &[Has, HasNot],
            FieldType::Boolean => &[Eq, Empty, Set],
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            FieldType::Text => "text",
            FieldType::Number => "number",
            FieldType::Money => "money",
            FieldType::Date => "date",
            FieldType::Timestamp => "timestamp",
            FieldType::Choice => "choice",
            FieldType::Owner => "owner",
            FieldType::Reference => "reference",
            FieldType::Tag => "tag",
            FieldType::Boolean => "boolean",
        }
    }

    fn of_custom(kind: FieldKind) -> FieldType {
        match kind {
            FieldKind::Text => FieldType::Text,
            FieldKind::Number => FieldType::Number,
            FieldKind::Date => FieldType::Date,
            FieldKind::Boolean => FieldType::Boolean,
            FieldKind::Choice => FieldType::Choice,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Contains,
    Starts,
    Lt,
    Le,
    Gt,
    Ge,
    On,
    Before,
    After,
    Last,
    In,
    Has,
    HasNot,
    Empty,
    Set,
}

impl Op {
    pub const ALL: [Op; 17] = [
        Op::Eq,
        Op::Ne,
        Op::Contains,
        Op::Starts,
        Op::Lt,
        Op::Le,
        Op::Gt,
        Op::Ge,
        Op::On,
        Op::Before,
        Op::After,
        Op::Last,
        Op::In,
        Op::Has,
        Op::HasNot,
        Op::Empty,
        Op::Set,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Op::Eq => "eq",
            Op::Ne => "ne",
            Op::Contains => "contains",
            Op::Starts => "starts",
            Op::Lt => "lt",
            Op::Le => "le",
            Op::Gt => "gt",
            Op::Ge => "ge",
            Op::On => "on",
            Op::Before => "before",
            Op::After => "after",
            Op::Last => "last",
            Op::In => "in",
            Op::Has => "has",
            Op::HasNot => "hasnot",
            Op::Empty => "empty",
            Op::Set => "set",
        }
    }

    pub fn parse(raw: &str) -> Option<Op> {
        Op::ALL.into_iter().find(|op| op.as_str() == raw)
    }

    /// How the builder and the chips say it, for a field of type `ty`.
    pub fn label(self, ty: FieldType) -> &'static str {
        let numeric = matches!(ty, FieldType::Number | FieldType::Money);
        match self {
            Op::Eq if numeric => "=",
            Op::Ne if numeric => "≠",
            Op::Eq => "is",
            Op::Ne => "is not",
            Op::Contains => "contains",
            Op::Starts => "starts with",
            Op::Lt => "<",
            Op::Le => "≤",
            Op::Gt => ">",
            Op::Ge => "≥",
            Op::On => "is on",
            Op::Before => "is before",
            Op::After => "is after",
            Op::Last => "is within the last (days)",
            Op::In => "is any of",
            Op::Has => "has",
            Op::HasNot => "has not",
            Op::Empty => "is empty",
            Op::Set => "is set",
        }
    }

    /// Whether the operator takes a value after it.
    pub fn takes_value(self) -> bool {
        !matches!(self, Op::Empty | Op::Set)
    }
}

/// Where a field of a list lives in its record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// A column of the record's table.
    Column(&'static str),
    /// Any of a person's email addresses.
    Emails,
    /// The record's tags.
    Tags,
}

/// A field of a list that conditions can test.
#[derive(Clone, Copy, Debug)]
pub struct FieldSpec {
    pub name: &'static str,
    pub label: &'static str,
    pub ty: FieldType,
    pub source: Source,
    /// The values of a `Choice` field: (value, label).
    pub choices: fn() -> Vec<(&'static str, &'static str)>,
}

/// Two specs are the same field when they have the same name and source.
impl PartialEq for FieldSpec {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && self.source == other.source
    }
}

fn no_choices() -> Vec<(&'static str, &'static str)> {
    Vec::new()
}

const fn field(name: &'static str, label: &'static str, ty: FieldType) -> FieldSpec {
    FieldSpec { name, label, ty, source: Source::Column(name), choices: no_choices }
}

const fn column(name: &'static str, label: &'static str, ty: FieldType, column: &'static str) -> FieldSpec {
    FieldSpec { name, label, ty, source: Source::Column(column), choices: no_choices }
}

const fn choice(
    name: &'static str,
    label: &'static str,
    choices: fn() -> Vec<(&'static str, &'static str)>,
) -> FieldSpec {
    FieldSpec { name, label, ty: FieldType::Choice, source: Source::Column(name), choices }
}

const TAG: FieldSpec =
    FieldSpec { name: "tag", label: "Tag", ty: FieldType::Tag, source: Source::Tags, choices: no_choices };

pub const PEOPLE: &[FieldSpec] = &[
    field("first_name", "First name", FieldType::Text),
    field("last_name", "Last name", FieldType::Text),
    FieldSpec { name: "email", label: "Email", ty: FieldType::Text, source: Source::Emails, choices: no_choices },
    field("job_title", "Job title", FieldType::Text),
    field("source", "Source", FieldType::Text),
    choice("lifecycle_stage", "Stage", || LifecycleStage::ALL.iter().map(|s| (s.as_str(), s.label())).collect()),
    column("owner", "Owner", FieldType::Owner, "owner_id"),
    column("company", "Company", FieldType::Reference, "company_id"),
    TAG,
    field("keep_in_touch_days", "Keep in touch (days)", FieldType::Number),
    field("last_contacted_at", "Last contacted", FieldType::Timestamp),
    field("created_at", "Created", FieldType::Timestamp),
    field("updated_at", "Updated", FieldType::Timestamp),
    field("external_id", "External id", FieldType::Text),
];

pub const COMPANIES: &[FieldSpec] = &[
    field("name", "Name", FieldType::Text),
    field("domain", "Domain", FieldType::Text),
    field("industry", "Industry", FieldType::Text),
    choice("size", "Size", || CompanySize::ALL.iter().map(|s| (s.as_str(), s.label())).collect()),
    column("owner", "Owner", FieldType::Owner, "owner_id"),
    TAG,
    field("created_at", "Created", FieldType::Timestamp),
    field("updated_at", "Updated", FieldType::Timestamp),
    field("external_id", "External id", FieldType::Text),
];

pub const DEALS: &[FieldSpec] = &[
    field("name", "Name", FieldType::Text),
    column("amount", "Amount", FieldType::Money, "amount_minor"),
    field("currency", "Currency", FieldType::Text),
    choice("status", "Status", || DealStatus::ALL.iter().map(|s| (s.as_str(), s.label())).collect()),
    column("stage", "Stage", FieldType::Reference, "stage_id"),
    column("owner", "Owner", FieldType::Owner, "owner_id"),
    column("person", "Person", FieldType::Reference, "person_id"),
    column("company", "Company", FieldType::Reference, "company_id"),
    field("expected_close", "Expected close", FieldType::Date),
    field("closed_at", "Closed", FieldType::Timestamp),
    field("lost_reason", "Lost reason", FieldType::Text),
    TAG,
    field("created_at", "Created", FieldType::Timestamp),
    field("updated_at", "Updated", FieldType::Timestamp),
    field("external_id", "External id", FieldType::Text),
];

/// The record fields a list's conditions can test (none: the list takes no `where`).
pub fn fields(list: ListKind) -> &'static [FieldSpec] {
    match list {
        ListKind::People => PEOPLE,
        ListKind::Companies => COMPANIES,
        ListKind::Deals => DEALS,
        _ => &[],
    }
}

/// What a condition tests, its value parsed for the field's type.
#[derive(Clone, Debug, PartialEq)]
pub enum Test {
    Empty,
    Set,
    /// Text equal to this, ignoring case (`negated`: not equal, or empty).
    TextIs {
        value: String,
        negated: bool,
    },
    /// Text containing this, ignoring case.
    Contains(String),
    StartsWith(String),
    Compare(Comparison, f64),
    /// Not equal to the number, or empty.
    NumberIsNot(f64),
    On(Date),
    Before(Date),
    After(Date),
    /// On one of the last N days, today included.
    WithinDays(u32),
    /// One of the values (`negated`: none of them, or empty).
    OneOf {
        values: Vec<String>,
        negated: bool,
    },
    /// One of the ids (`negated`: none of them, or empty).
    OneOfIds {
        ids: Vec<Uuid>,
        negated: bool,
    },
    HasTag(String),
    HasNotTag(String),
    Is(bool),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Comparison {
    Eq,
    Lt,
    Le,
    Gt,
    Ge,
}

/// What a condition is about.
#[derive(Clone, Debug, PartialEq)]
pub enum Subject {
    Field(&'static FieldSpec),
    Custom { key: FieldKey, kind: FieldKind },
}

/// A parsed condition, `text` as it was written.
#[derive(Clone, Debug, PartialEq)]
pub struct Condition {
    pub text: String,
    pub subject: Subject,
    pub test: Test,
}

/// A condition on a custom field, before its definition is known.
#[derive(Clone, Debug, PartialEq)]
pub struct CustomCondition {
    pub text: String,
    pub key: FieldKey,
    pub op: Op,
    pub value: Option<String>,
}

/// A condition as parsed at the edge.
#[derive(Clone, Debug, PartialEq)]
pub enum Where {
    Ready(Condition),
    Custom(CustomCondition),
}

impl Where {
    pub fn text(&self) -> &str {
        match self {
            Where::Ready(condition) => &condition.text,
            Where::Custom(custom) => &custom.text,
        }
    }

    /// Parses `<field>.<op>[.<value>]` (or `custom.<key>.<op>[.<value>]`)
    /// against the record fields of a list.
    pub fn parse(fields: &'static [FieldSpec], raw: &str) -> Result<Where, String> {
        let text = raw.to_owned();
        let (custom, rest) = match raw.strip_prefix("custom.") {
            Some(rest) => (true, rest),
            None => (false, raw),
        };
        let (name, rest) = rest.split_once('.').ok_or("must be <field>.<operator>[.<value>]")?;
        let (op_text, value) = match rest.split_once('.') {
            Some((op, value)) => (op, Some(value.to_owned())),
            None => (rest, None),
        };
        let op = Op::parse(op_text).ok_or_else(|| format!("{op_text} is not an operator"))?;
        if custom {
            let key = FieldKey::try_from(name.to_owned()).map_err(|_| format!("no such custom field: {name}"))?;
            return Ok(Where::Custom(CustomCondition { text, key, op, value }));
        }
        let spec = fields.iter().find(|f| f.name == name).ok_or_else(|| format!("no such field: {name}"))?;
        let choices: Vec<&str> = (spec.choices)().into_iter().map(|(value, _)| value).collect();
        let test = test_for(spec.ty, &choices, op, value.as_deref())?;
        Ok(Where::Ready(Condition { text, subject: Subject::Field(spec), test }))
    }
}

impl CustomCondition {
    /// Types the condition by its field's definition.
    pub fn resolve(&self, definition: &CustomFieldInput) -> Result<Condition, String> {
        let ty = FieldType::of_custom(definition.kind);
        let choices: Vec<&str> = definition.choices.iter().map(|c| c.as_str()).collect();
        let test = test_for(ty, &choices, self.op, self.value.as_deref())?;
        Ok(Condition {
            text: self.text.clone(),
            subject: Subject::Custom { key: self.key.clone(), kind: definition.kind },
            test,
        })
    }
}

fn test_for(ty: FieldType, choices: &[&str], op: Op, value: Option<&str>) -> Result<Test, String> {
    if !ty.operators().contains(&op) {
        let fits: Vec<&str> = ty.operators().iter().map(|op| op.as_str()).collect();
        return Err(format!("{} does not fit a {} field; use {}", op.as_str(), ty.as_str(), fits.join(", ")));
    }
    let value = match (op.takes_value(), value) {
        (false, None) => return Ok(if op == Op::Empty { Test::Empty } else { Test::Set }),
        (false, Some(_)) => return Err(format!("{} takes no value", op.as_str())),
        (true, None) => return Err(format!("{} needs a value after it", op.as_str())),
        (true, Some(value)) => value,
    };
    // An `in` list holds up to 50 values of up to 200 characters each.
    let mut values = if op == Op::In { value.split('|').collect() } else { vec![value] }.into_iter();
    if value.is_empty() || values.any(|value| value.chars().count() > 200) {
        return Err("a value must be 1 to 200 characters".into());
    }
    Ok(match (ty, op) {
        (FieldType::Text, Op::Eq | Op::Ne) => Test::TextIs { value: value.to_owned(), negated: op == Op::Ne },
        (FieldType::Text, Op::Contains) => Test::Contains(value.to_owned()),
        (FieldType::Text, _) => Test::StartsWith(value.to_owned()),
        (FieldType::Number | FieldType::Money, Op::Ne) => Test::NumberIsNot(number(value)?),
        (FieldType::Number | FieldType::Money, _) => {
            let comparison = match op {
                Op::Lt => Comparison::Lt,
                Op::Le => Comparison::Le,
                Op::Gt => Comparison::Gt,
                Op::Ge => Comparison::Ge,
                _ => Comparison::Eq,
            };
            Test::Compare(comparison, number(value)?)
        }
        (FieldType::Date | FieldType::Timestamp, Op::Last) => Test::WithinDays(days(value)?),
        (FieldType::Date | FieldType::Timestamp, Op::Before) => Test::Before(day(value)?),
        (FieldType::Date | FieldType::Timestamp, Op::After) => Test::After(day(value)?),
        (FieldType::Date | FieldType::Timestamp, _) => Test::On(day(value)?),
        (FieldType::Choice, _) => {
            let values = list(op, value)?;
            if let Some(unknown) = values.iter().find(|v| !choices.contains(&v.as_str())) {
                return Err(format!("{unknown} is not one of {}", choices.join(", ")));
            }
            Test::OneOf { values, negated: op == Op::Ne }
        }
        (FieldType::Owner | FieldType::Reference, _) => {
            let ids = list(op, value)?
                .iter()
                .map(|v| Uuid::parse_str(v).map_err(|_| format!("{v} is not an id")))
                .collect::<Result<Vec<_>, _>>()?;
            Test::OneOfIds { ids, negated: op == Op::Ne }
        }
        (FieldType::Tag, Op::Has) => Test::HasTag(value.trim().to_lowercase()),
        (FieldType::Tag, _) => Test::HasNotTag(value.trim().to_lowercase()),
        (FieldType::Boolean, _) => Test::Is(value.parse::<bool>().map_err(|_| "the value must be true or false")?),
    })
}

/// `in` takes values separated by `|`; the other operators one value.
fn list(op: Op, value: &str) -> Result<Vec<String>, String> {
    if op != Op::In {
        return Ok(vec![value.to_owned()]);
    }
    let values: Vec<String> = value.split('|').map(str::to_owned).collect();
    if values.len() > MAX_VALUES || values.iter().any(String::is_empty) {
        return Err(format!("in takes 1 to {MAX_VALUES} values separated by |"));
    }
    Ok(values)
}

fn number(raw: &str) -> Result<f64, String> {
    raw.parse::<f64>().ok().filter(|n| n.is_finite() && n.abs() < 1e15).ok_or_else(|| format!("{raw} is not a number"))
}

fn day(raw: &str) -> Result<Date, String> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(raw, &format).map_err(|_| format!("{raw} is not a day of the calendar as YYYY-MM-DD"))
}

fn days(raw: &str) -> Result<u32, String> {
    raw.parse::<u32>()
        .ok()
        .filter(|n| (1..=MAX_DAYS).contains(n))
        .ok_or_else(|| format!("the number of days must be a whole number from 1 to {MAX_DAYS}"))
}

/// The pattern of a list's `where` values, for its OpenAPI document: each
/// field with the operators and value syntax of its type (custom fields
/// with any operator: their types are data).
pub fn pattern(fields: &[FieldSpec]) -> String {
    let text = r"[^\u0000-\u001F\u007F-\u009F]{1,200}";
    let number = r"-?[0-9]{1,12}(\.[0-9]{1,6})?";
    let date = r"[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])";
    let days = r"[1-9][0-9]{0,3}";
    let uuid = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}";
    let ids = format!("{uuid}(\\|{uuid}){{0,49}}");
    let mut branches = Vec::new();
    for spec in fields {
        let name = spec.name;
        let mut add = |ops: &str, value: &str| branches.push(format!("{name}\\.({ops})\\.{value}"));
        match spec.ty {
            FieldType::Text => add("eq|ne|contains|starts", text),
            FieldType::Number | FieldType::Money => add("eq|ne|lt|le|gt|ge", number),
            FieldType::Date | FieldType::Timestamp => {
                add("on|before|after", date);
                add("last", days);
            }
            FieldType::Choice => {
                let one = format!(
                    "({})",
                    (spec.choices)().iter().map(|(v, _)| regex_escape(v)).collect::<Vec<_>>().join("|")
                );
                add("eq|ne", &one);
                add("in", &format!("{one}(\\|{one}){{0,49}}"));
            }
            FieldType::Owner | FieldType::Reference => {
                add("eq|ne", uuid);
                add("in", &ids);
            }
            FieldType::Tag => add("has|hasnot", text),
            FieldType::Boolean => add("eq", "(true|false)"),
        }
        if !matches!(spec.ty, FieldType::Tag) {
            branches.push(format!("{name}\\.(empty|set)"));
        }
    }
    branches.push(format!(
        "custom\\.[a-z][a-z0-9_]{{0,49}}\\.((eq|ne|contains|starts|lt|le|gt|ge|on|before|after|last|in)\\.{text}|empty|set)"
    ));
    format!("^({})$", branches.join("|"))
}

fn regex_escape(raw: &str) -> String {
    raw.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' { c.to_string() } else { format!("\\{c}") }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::Name;

    fn parse(raw: &str) -> Result<Condition, String> {
        match Where::parse(PEOPLE, raw)? {
            Where::Ready(condition) => Ok(condition),
            Where::Custom(_) => panic!("{raw} is not a record field"),
        }
    }

    fn custom(kind: FieldKind, choices: &[&str], raw: &str) -> Result<Test, String> {
        let Where::Custom(condition) = Where::parse(PEOPLE, raw)? else { panic!("{raw} is a record field") };
        let definition = CustomFieldInput {
            entity_type: crate::custom_fields::EntityType::Person,
            key: condition.key.clone(),
            label: Name::try_from("Plan").unwrap(),
            kind,
            choices: choices.iter().map(|c| Name::try_from(*c).unwrap()).collect(),
            required: false,
        };
        condition.resolve(&definition).map(|c| c.test)
    }

    #[test]
    fn each_type_takes_its_operators_and_values() {
        assert_eq!(parse("first_name.eq.Ana").unwrap().test, Test::TextIs { value: "Ana".into(), negated: false });
        assert_eq!(parse("email.contains.example.com").unwrap().test, Test::Contains("example.com".into()));
        assert_eq!(parse("email.empty").unwrap().test, Test::Empty);
        assert_eq!(parse("keep_in_touch_days.ge.30").unwrap().test, Test::Compare(Comparison::Ge, 30.0));
        assert_eq!(parse("keep_in_touch_days.ne.2.5").unwrap().test, Test::NumberIsNot(2.5));
        assert_eq!(
            parse("created_at.after.2026-01-01").unwrap().test,
            Test::After(Date::from_calendar_date(2026, time::Month::January, 1).unwrap())
        );
        assert_eq!(parse("last_contacted_at.last.30").unwrap().test, Test::WithinDays(30));
        assert_eq!(
            parse("lifecycle_stage.in.lead|customer").unwrap().test,
            Test::OneOf { values: vec!["lead".into(), "customer".into()], negated: false }
        );
        let id = Uuid::nil();
        assert_eq!(parse(&format!("owner.ne.{id}")).unwrap().test, Test::OneOfIds { ids: vec![id], negated: true });
        assert_eq!(parse("tag.hasnot.VIP").unwrap().test, Test::HasNotTag("vip".into()));
    }

    #[test]
    fn what_does_not_fit_is_refused_with_a_reason() {
        assert_eq!(parse("city.eq.Oslo").unwrap_err(), "no such field: city");
        assert!(parse("first_name.lt.5").unwrap_err().starts_with("lt does not fit a text field"));
        assert_eq!(parse("first_name.like.x").unwrap_err(), "like is not an operator");
        assert_eq!(parse("first_name.eq").unwrap_err(), "eq needs a value after it");
        assert_eq!(parse("email.empty.x").unwrap_err(), "empty takes no value");
        assert!(parse("keep_in_touch_days.gt.many").unwrap_err().contains("not a number"));
        assert!(parse("created_at.on.2026-02-30").unwrap_err().contains("not a day"));
        assert!(parse("created_at.last.0").is_err());
        assert!(parse("lifecycle_stage.eq.king").unwrap_err().starts_with("king is not one of lead"));
        assert!(parse("owner.eq.me").unwrap_err().contains("not an id"));
        assert!(parse("first_name").is_err());
        assert!(Where::parse(COMPANIES, "size.in.1-10|11-50").is_ok());
        assert!(Where::parse(DEALS, "amount.gt.1000").is_ok());
    }

    #[test]
    fn custom_conditions_are_typed_by_their_definition() {
        assert_eq!(
            custom(FieldKind::Choice, &["gold", "silver"], "custom.plan.in.gold|silver").unwrap(),
            Test::OneOf { values: vec!["gold".into(), "silver".into()], negated: false }
        );
        assert!(custom(FieldKind::Choice, &["gold"], "custom.plan.eq.bronze").is_err());
        assert_eq!(custom(FieldKind::Number, &[], "custom.plan.lt.3").unwrap(), Test::Compare(Comparison::Lt, 3.0));
        assert!(custom(FieldKind::Text, &[], "custom.plan.lt.3").is_err());
        assert_eq!(custom(FieldKind::Boolean, &[], "custom.plan.eq.true").unwrap(), Test::Is(true));
        assert_eq!(custom(FieldKind::Date, &[], "custom.plan.set").unwrap(), Test::Set);
        assert!(Where::parse(PEOPLE, "custom.Bad-Key.eq.1").unwrap_err().starts_with("no such custom field"));
    }

    #[test]
    fn the_documented_pattern_matches_what_parses() {
        let pattern = pattern(PEOPLE);
        assert!(pattern.contains("lifecycle_stage\\.(eq|ne)\\.(lead|prospect|customer|advocate|churned)"));
        assert!(pattern.contains("email\\.(empty|set)"));
        assert!(!pattern.contains("tag\\.(empty|set)"));
        for list in [ListKind::People, ListKind::Companies, ListKind::Deals] {
            for spec in fields(list) {
                for op in spec.ty.operators() {
                    assert!(pattern_names(list, spec.name, op.as_str()), "{} {}", spec.name, op.as_str());
                }
            }
        }
    }

    #[test]
    fn an_in_list_may_be_longer_than_one_value() {
        let ids: Vec<String> = (0..50u128).map(|n| Uuid::from_u128(n + 1).to_string()).collect();
        let condition = parse(&format!("company.in.{}", ids.join("|"))).expect("50 ids");
        assert!(matches!(condition.test, Test::OneOfIds { ids, .. } if ids.len() == 50));
        let long = "x".repeat(201);
        assert!(parse(&format!("first_name.eq.{long}")).unwrap_err().contains("1 to 200 characters"));
        assert!(parse(&format!("lifecycle_stage.in.lead|{long}")).unwrap_err().contains("1 to 200 characters"));
    }

    fn pattern_names(list: ListKind, field: &str, op: &str) -> bool {
        let pattern = pattern(fields(list));
        pattern.split(&format!("{field}\\.(")).skip(1).any(|rest| {
            let ops = rest.split(')').next().unwrap_or("");
            ops.split('|').any(|o| o == op)
        })
    }
}
