//! Bulk changes of the people, companies, deals and tasks lists: one action
//! (set the owner, add or remove a tag, set the stage, delete) over records
//! chosen by id or by the list's own query. Each record then changes by the
//! rules of a single update; this module only says what the change is.

use serde::{Deserialize, Serialize};
use utoipa::PartialSchema;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{
    AdditionalProperties, ArrayBuilder, KnownFormat, ObjectBuilder, OneOfBuilder, Schema, SchemaFormat, SchemaType,
    Type,
};

use crate::ids::{CompanyId, DealId, PersonId, StageId, TaskId, UserId};
use crate::records::{CompanyInput, DealInput, DealStatus, LifecycleStage, PersonInput, TaskInput};
use crate::text::Tag;
use crate::validation::FieldErrors;

/// How many records one bulk change may touch, ticked or matched by a filter.
pub const BULK_MAX: usize = 10_000;
/// The longest list query a bulk change takes as `filter`.
const FILTER_MAX: usize = 4_000;

text_enum!(
    /// What a bulk change of people does.
    PersonBulkAction { SetOwner => "set_owner", AddTag => "add_tag", RemoveTag => "remove_tag", SetStage => "set_stage", Delete => "delete" }
);
text_enum!(
    /// What a bulk change of companies does.
    CompanyBulkAction { SetOwner => "set_owner", AddTag => "add_tag", RemoveTag => "remove_tag", Delete => "delete" }
);
text_enum!(
    /// What a bulk change of deals does.
    DealBulkAction { SetOwner => "set_owner", AddTag => "add_tag", RemoveTag => "remove_tag", SetStage => "set_stage", Delete => "delete" }
);
text_enum!(
    /// What a bulk change of tasks does.
    TaskBulkAction { SetAssignee => "set_assignee", Delete => "delete" }
);

/// A field sent, even as `null`, told apart from one left out (`None`).
fn sent<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// A bulk change of people, as clients send it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PersonBulkInput {
    /// The people to change, 1 to 10,000; or leave out and send `filter`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ids: Option<Vec<PersonId>>,
    /// Every person the people list's query string matches (as
    /// `GET /api/v1/people` takes it, paging parameters aside), up to 10,000.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<String>,
    pub action: PersonBulkAction,
    /// For `set_owner`: the staff member, or `null` for nobody.
    #[serde(default, deserialize_with = "sent", skip_serializing_if = "Option::is_none")]
    pub owner_id: Option<Option<UserId>>,
    /// For `add_tag` and `remove_tag`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<Tag>,
    /// For `set_stage`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifecycle_stage: Option<LifecycleStage>,
}

/// A bulk change of companies, as clients send it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompanyBulkInput {
    /// The companies to change, 1 to 10,000; or leave out and send `filter`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ids: Option<Vec<CompanyId>>,
    /// Every company the companies list's query string matches (as
    /// `GET /api/v1/companies` takes it, paging parameters aside), up to 10,000.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<String>,
    pub action: CompanyBulkAction,
    /// For `set_owner`: the staff member, or `null` for nobody.
    #[serde(default, deserialize_with = "sent", skip_serializing_if = "Option::is_none")]
    pub owner_id: Option<Option<UserId>>,
    /// For `add_tag` and `remove_tag`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<Tag>,
}

/// A bulk change of deals, as clients send it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DealBulkInput {
    /// The deals to change, 1 to 10,000; or leave out and send `filter`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ids: Option<Vec<DealId>>,
    /// Every deal the deals list's query string matches (as
    /// `GET /api/v1/deals` takes it, paging parameters aside), up to 10,000.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<String>,
    pub action: DealBulkAction,
    /// For `set_owner`: the staff member, or `null` for nobody.
    #[serde(default, deserialize_with = "sent", skip_serializing_if = "Option::is_none")]
    pub owner_id: Option<Option<UserId>>,
    /// For `add_tag` and `remove_tag`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<Tag>,
    /// For `set_stage`: a stage of each deal's own pipeline (the deal
    /// becomes open there); or send `status` instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage_id: Option<StageId>,
    /// For `set_stage`: `won`, `lost` or `open`, in the deal's stage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<DealStatus>,
}

/// A bulk change of tasks, as clients send it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskBulkInput {
    /// The tasks to change, 1 to 10,000; or leave out and send `filter`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ids: Option<Vec<TaskId>>,
    /// Every task the tasks list's query string matches (as
    /// `GET /api/v1/tasks` takes it, paging parameters aside), up to 10,000.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<String>,
    pub action: TaskBulkAction,
    /// For `set_assignee`: the staff member.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee_id: Option<UserId>,
}

/// One action as the OpenAPI document states it: its name and the fields it
/// needs besides the selection (a deal's `set_stage` has two such shapes).
struct ActionShape {
    action: &'static str,
    needs: &'static [NeededField],
}

/// A field an action needs, and its schema.
type NeededField = (&'static str, fn() -> RefOr<Schema>);

/// A staff member's id, or `null` for nobody.
fn owner_schema() -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid)))
        .description(Some("The staff member, or null for nobody."))
        .into()
}

const SET_OWNER: ActionShape = ActionShape { action: "set_owner", needs: &[("owner_id", owner_schema)] };
const ADD_TAG: ActionShape = ActionShape { action: "add_tag", needs: &[("tag", Tag::schema)] };
const REMOVE_TAG: ActionShape = ActionShape { action: "remove_tag", needs: &[("tag", Tag::schema)] };
const DELETE: ActionShape = ActionShape { action: "delete", needs: &[] };

/// What the server accepts, stated exactly: `ids` or `filter` (not both),
/// the action, and only the fields that action uses, so every combination
/// is one closed object of a `oneOf`.
fn bulk_schema<Id: PartialSchema>(records: &str, list_path: &str, actions: &[ActionShape]) -> Schema {
    let ids = || -> RefOr<Schema> {
        ArrayBuilder::new()
            .items(Id::schema())
            .min_items(Some(1))
            .max_items(Some(BULK_MAX))
            .description(Some(format!("The {records} to change, 1 to 10,000 (one named twice changes once).")))
            .into()
    };
    let filter = || -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .max_length(Some(FILTER_MAX))
            .pattern(Some("^[^\\u0000-\\u001F\\u007F-\\u009F]*$"))
            .description(Some(format!(
                "Every one of the {records} the list's query string matches (as `GET {list_path}` takes it, \
                 paging parameters aside), up to 10,000."
            )))
            .into()
    };
    let mut variants = OneOfBuilder::new().description(Some(format!(
        "A bulk change of {records}: `ids` or `filter`, the `action`, and the field that action needs."
    )));
    for shape in actions {
        for (by, selection) in [("ids", ids()), ("filter", filter())] {
            let mut object = ObjectBuilder::new()
                .title(Some(format!("{} by {by}", shape.action)))
                .property(by, selection)
                .required(by)
                .property("action", crate::schema::one_of([shape.action], "What to do."))
                .required("action")
                .additional_properties(Some(AdditionalProperties::<Schema>::FreeForm(false)));
            for (field, schema) in shape.needs {
                object = object.property(*field, schema()).required(*field);
            }
            variants = variants.item(object);
        }
    }
    variants.build().into()
}

crate::schema::schema_from!(PersonBulkInput, {
    const SET_STAGE: ActionShape =
        ActionShape { action: "set_stage", needs: &[("lifecycle_stage", LifecycleStage::schema)] };
    bulk_schema::<PersonId>("people", "/api/v1/people", &[SET_OWNER, ADD_TAG, REMOVE_TAG, SET_STAGE, DELETE])
});

crate::schema::schema_from!(CompanyBulkInput, {
    bulk_schema::<CompanyId>("companies", "/api/v1/companies", &[SET_OWNER, ADD_TAG, REMOVE_TAG, DELETE])
});

crate::schema::schema_from!(DealBulkInput, {
    // A stage of each deal's own pipeline (the deal becomes open there), or a status in its stage.
    const TO_STAGE: ActionShape = ActionShape { action: "set_stage", needs: &[("stage_id", StageId::schema)] };
    const TO_STATUS: ActionShape = ActionShape { action: "set_stage", needs: &[("status", DealStatus::schema)] };
    bulk_schema::<DealId>("deals", "/api/v1/deals", &[SET_OWNER, ADD_TAG, REMOVE_TAG, TO_STAGE, TO_STATUS, DELETE])
});

crate::schema::schema_from!(TaskBulkInput, {
    const SET_ASSIGNEE: ActionShape = ActionShape { action: "set_assignee", needs: &[("assignee_id", UserId::schema)] };
    bulk_schema::<TaskId>("tasks", "/api/v1/tasks", &[SET_ASSIGNEE, DELETE])
});

/// Which records a bulk change is about.
#[derive(Clone, Debug, PartialEq)]
pub enum Selection<Id> {
    /// These records, each once, in the order sent.
    Ids(Vec<Id>),
    /// Every record the list's query string matches.
    Filter(String),
}

/// No stage to set: companies and tasks have none.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum NoStage {}

/// A deal's new place: a stage of its pipeline (open there), or a status.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum DealStage {
    Stage(StageId),
    Status(DealStatus),
}

/// The one change a bulk action makes to each record.
#[derive(Clone, Debug, PartialEq)]
pub enum BulkChange<S> {
    SetOwner(Option<UserId>),
    AddTag(Tag),
    RemoveTag(Tag),
    SetStage(S),
    Delete,
}

/// A bulk change that can be applied: which records, and what to do.
#[derive(Clone, Debug, PartialEq)]
pub struct Bulk<Id, S> {
    pub selection: Selection<Id>,
    pub change: BulkChange<S>,
}

fn selection<Id: Copy + Eq + std::hash::Hash>(
    errors: &mut FieldErrors,
    ids: Option<Vec<Id>>,
    filter: Option<String>,
) -> Option<Selection<Id>> {
    match (ids, filter) {
        (Some(_), Some(_)) => errors.add("filter", "send ids or filter, not both"),
        (None, None) => errors.add("ids", "send ids (the records to change) or filter (a list query)"),
        (Some(mut ids), None) => {
            // A record named twice is changed once.
            let mut seen = std::collections::HashSet::new();
            ids.retain(|id| seen.insert(*id));
            if ids.is_empty() {
                errors.add("ids", "name at least one record");
            } else if ids.len() > BULK_MAX {
                errors.add("ids", format!("at most {BULK_MAX} records at a time"));
            } else {
                return Some(Selection::Ids(ids));
            }
        }
        (None, Some(filter)) => {
            if filter.chars().count() > FILTER_MAX {
                errors.add("filter", format!("at most {FILTER_MAX} characters"));
            } else if filter.chars().any(char::is_control) {
                errors.add("filter", "must not contain control characters");
            } else {
                return Some(Selection::Filter(filter.trim_start_matches('?').to_owned()));
            }
        }
    }
    None
}

/// The field a change needs, or an error naming it.
fn needed<T>(errors: &mut FieldErrors, value: Option<T>, field: &str, action: &str) -> Option<T> {
    if value.is_none() {
        errors.add(field, format!("is needed for {action}"));
    }
    value
}

/// Refuses the fields the chosen action does not use, rather than ignore them.
fn unused(errors: &mut FieldErrors, sent: &[(&str, bool)], used: &[&str], action: &str) {
    for (field, present) in sent {
        if *present && !used.contains(field) {
            errors.add(*field, format!("is not used by {action}"));
        }
    }
}

/// The owner/tag part every kind with tags shares.
fn owner_or_tag<S>(
    errors: &mut FieldErrors,
    action: &str,
    owner_id: Option<Option<UserId>>,
    tag: Option<Tag>,
) -> Option<BulkChange<S>> {
    match action {
        "set_owner" => needed(errors, owner_id, "owner_id", action).map(BulkChange::SetOwner),
        "add_tag" => needed(errors, tag, "tag", action).map(BulkChange::AddTag),
        "remove_tag" => needed(errors, tag, "tag", action).map(BulkChange::RemoveTag),
        _ => Some(BulkChange::Delete),
    }
}

/// A bulk change from what a client sent: the selection, the fields sent
/// (refused when the action does not use them) and the change the action
/// makes, every error named at once.
fn parse<Id: Copy + Eq + std::hash::Hash, S>(
    ids: Option<Vec<Id>>,
    filter: Option<String>,
    action: &str,
    sent: &[(&str, bool)],
    change: impl FnOnce(&mut FieldErrors) -> Option<BulkChange<S>>,
) -> Result<Bulk<Id, S>, FieldErrors> {
    let mut errors = FieldErrors::new();
    let selection = selection(&mut errors, ids, filter);
    unused(&mut errors, sent, used_fields(action), action);
    let change = change(&mut errors);
    errors.into_result()?;
    match (selection, change) {
        (Some(selection), Some(change)) => Ok(Bulk { selection, change }),
        _ => Err(FieldErrors::single("action", "cannot be applied")),
    }
}

fn used_fields(action: &str) -> &'static [&'static str] {
    match action {
        "set_owner" => &["owner_id"],
        "add_tag" | "remove_tag" => &["tag"],
        "set_stage" => &["lifecycle_stage", "stage_id", "status"],
        "set_assignee" => &["assignee_id"],
        _ => &[],
    }
}

impl TryFrom<PersonBulkInput> for Bulk<PersonId, LifecycleStage> {
    type Error = FieldErrors;

    fn try_from(input: PersonBulkInput) -> Result<Self, FieldErrors> {
        let action = input.action.as_str();
        let sent = [
            ("owner_id", input.owner_id.is_some()),
            ("tag", input.tag.is_some()),
            ("lifecycle_stage", input.lifecycle_stage.is_some()),
        ];
        parse(input.ids, input.filter, action, &sent, |errors| match input.action {
            PersonBulkAction::SetStage => {
                needed(errors, input.lifecycle_stage, "lifecycle_stage", action).map(BulkChange::SetStage)
            }
            _ => owner_or_tag(errors, action, input.owner_id, input.tag),
        })
    }
}

impl TryFrom<CompanyBulkInput> for Bulk<CompanyId, NoStage> {
    type Error = FieldErrors;

    fn try_from(input: CompanyBulkInput) -> Result<Self, FieldErrors> {
        let action = input.action.as_str();
        let sent = [("owner_id", input.owner_id.is_some()), ("tag", input.tag.is_some())];
        parse(input.ids, input.filter, action, &sent, |errors| owner_or_tag(errors, action, input.owner_id, input.tag))
    }
}

impl TryFrom<DealBulkInput> for Bulk<DealId, DealStage> {
    type Error = FieldErrors;

    fn try_from(input: DealBulkInput) -> Result<Self, FieldErrors> {
        let action = input.action.as_str();
        let sent = [
            ("owner_id", input.owner_id.is_some()),
            ("tag", input.tag.is_some()),
            ("stage_id", input.stage_id.is_some()),
            ("status", input.status.is_some()),
        ];
        parse(input.ids, input.filter, action, &sent, |errors| match input.action {
            DealBulkAction::SetStage => match (input.stage_id, input.status) {
                (Some(stage), None) => Some(BulkChange::SetStage(DealStage::Stage(stage))),
                (None, Some(status)) => Some(BulkChange::SetStage(DealStage::Status(status))),
                (Some(_), Some(_)) => {
                    errors.add("status", "send stage_id or status, not both");
                    None
                }
                (None, None) => {
                    errors.add("stage_id", "send stage_id or status for set_stage");
                    None
                }
            },
            _ => owner_or_tag(errors, action, input.owner_id, input.tag),
        })
    }
}

impl TryFrom<TaskBulkInput> for Bulk<TaskId, NoStage> {
    type Error = FieldErrors;

    fn try_from(input: TaskBulkInput) -> Result<Self, FieldErrors> {
        let action = input.action.as_str();
        let sent = [("assignee_id", input.assignee_id.is_some())];
        parse(input.ids, input.filter, action, &sent, |errors| match input.action {
            TaskBulkAction::SetAssignee => {
                needed(errors, input.assignee_id, "assignee_id", action).map(|id| BulkChange::SetOwner(Some(id)))
            }
            TaskBulkAction::Delete => Some(BulkChange::Delete),
        })
    }
}

/// Adds or removes a tag in a record's tags.
fn retag(tags: &mut Vec<Tag>, change: &BulkChange<impl Sized>) {
    match change {
        BulkChange::AddTag(tag) if !tags.contains(tag) => tags.push(tag.clone()),
        BulkChange::RemoveTag(tag) => tags.retain(|t| t != tag),
        _ => {}
    }
}

impl BulkChange<LifecycleStage> {
    /// A person's fields with the change made, as a single update would send them.
    pub fn apply_to_person(&self, mut fields: PersonInput) -> PersonInput {
        match self {
            BulkChange::SetOwner(owner) => fields.owner_id = *owner,
            BulkChange::SetStage(stage) => fields.lifecycle_stage = *stage,
            change => retag(&mut fields.tags, change),
        }
        fields
    }
}

impl BulkChange<NoStage> {
    /// A company's fields with the change made, as a single update would send them.
    pub fn apply_to_company(&self, mut fields: CompanyInput) -> CompanyInput {
        match self {
            BulkChange::SetOwner(owner) => fields.owner_id = *owner,
            change => retag(&mut fields.tags, change),
        }
        fields
    }

    /// A task's fields with the change made: the owner is its assignee.
    pub fn apply_to_task(&self, mut fields: TaskInput) -> TaskInput {
        if let BulkChange::SetOwner(assignee) = self {
            fields.assignee_id = *assignee;
        }
        fields
    }
}

impl BulkChange<DealStage> {
    /// A deal's fields with the change made, as a single update would send them.
    pub fn apply_to_deal(&self, mut fields: DealInput) -> DealInput {
        match self {
            BulkChange::SetOwner(owner) => fields.owner_id = *owner,
            BulkChange::SetStage(DealStage::Stage(stage)) => {
                fields.stage_id = *stage;
                fields.status = DealStatus::Open;
                fields.lost_reason = None;
            }
            BulkChange::SetStage(DealStage::Status(status)) => {
                fields.status = *status;
                if *status != DealStatus::Lost {
                    fields.lost_reason = None;
                }
            }
            change => retag(&mut fields.tags, change),
        }
        fields
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn people(body: &str) -> Result<Bulk<PersonId, LifecycleStage>, FieldErrors> {
        Bulk::try_from(serde_json::from_str::<PersonBulkInput>(body).expect("parses"))
    }

    /// A body with each field of a documented combination filled in.
    fn example_of(variant: &utoipa::openapi::schema::Object) -> serde_json::Value {
        let id = serde_json::json!("01a244d9-f2ab-71c0-af75-c3f636c96113");
        let fields = variant.required.iter().map(|field| {
            let value = match field.as_str() {
                "ids" => serde_json::json!([id]),
                "filter" => serde_json::json!("tag=vip"),
                "action" => match &variant.properties["action"] {
                    RefOr::T(Schema::Object(action)) => action.enum_values.as_ref().expect("one action")[0].clone(),
                    _ => panic!("action is an enum of one"),
                },
                "owner_id" => serde_json::Value::Null,
                "tag" => serde_json::json!("vip"),
                "lifecycle_stage" => serde_json::json!("customer"),
                "status" => serde_json::json!("won"),
                "stage_id" | "assignee_id" => id.clone(),
                other => panic!("no example for {other}"),
            };
            (field.clone(), value)
        });
        serde_json::Value::Object(fields.collect())
    }

    /// Every closed combination of the document's `oneOf`.
    fn variants<T: PartialSchema>() -> Vec<utoipa::openapi::schema::Object> {
        let RefOr::T(Schema::OneOf(one_of)) = T::schema() else { panic!("a oneOf") };
        one_of
            .items
            .into_iter()
            .map(|item| match item {
                RefOr::T(Schema::Object(object)) => object,
                _ => panic!("each combination is an object"),
            })
            .collect()
    }

    fn accepts<T, B>(expected: usize)
    where
        T: PartialSchema + serde::de::DeserializeOwned,
        B: TryFrom<T, Error = FieldErrors>,
    {
        let variants = variants::<T>();
        assert_eq!(variants.len(), expected);
        for variant in variants {
            let body = example_of(&variant);
            let input: T = serde_json::from_value(body.clone()).unwrap_or_else(|e| panic!("{body}: {e}"));
            if let Err(errors) = B::try_from(input) {
                panic!("{body} is documented but refused: {errors:?}");
            }
        }
    }

    #[test]
    fn every_combination_the_document_states_is_accepted() {
        accepts::<PersonBulkInput, Bulk<PersonId, LifecycleStage>>(10);
        accepts::<CompanyBulkInput, Bulk<CompanyId, NoStage>>(8);
        accepts::<DealBulkInput, Bulk<DealId, DealStage>>(12);
        accepts::<TaskBulkInput, Bulk<TaskId, NoStage>>(4);
    }

    #[test]
    fn a_bulk_change_names_its_records_once_and_what_it_needs() {
        let id = PersonId::new();
        let bulk = people(&format!(r#"{{"ids":["{id}","{id}"],"action":"set_owner","owner_id":null}}"#)).unwrap();
        assert_eq!(bulk.selection, Selection::Ids(vec![id]));
        assert_eq!(bulk.change, BulkChange::SetOwner(None));
        let by_filter = people(r#"{"filter":"?lifecycle_stage=lead","action":"delete"}"#).unwrap();
        assert_eq!(by_filter.selection, Selection::Filter("lifecycle_stage=lead".into()));

        assert!(people(r#"{"action":"delete"}"#).unwrap_err().get("ids").is_some());
        assert!(
            people(&format!(r#"{{"ids":["{id}"],"filter":"","action":"delete"}}"#))
                .unwrap_err()
                .get("filter")
                .is_some()
        );
        assert!(people(&format!(r#"{{"ids":["{id}"],"action":"add_tag"}}"#)).unwrap_err().get("tag").is_some());
        assert!(people(&format!(r#"{{"ids":["{id}"],"action":"set_owner"}}"#)).unwrap_err().get("owner_id").is_some());
        let stray = people(&format!(r#"{{"ids":["{id}"],"action":"delete","tag":"vip"}}"#)).unwrap_err();
        assert!(stray.get("tag").is_some(), "a field the action does not use is refused");
        assert!(serde_json::from_str::<PersonBulkInput>(r#"{"filter":"","action":"delete","x":1}"#).is_err());
    }

    #[test]
    fn tags_are_added_once_and_removed() {
        let vip = Tag::try_from("vip".to_owned()).unwrap();
        let name = crate::text::Name::try_from("Rosa".to_owned()).unwrap();
        let email = crate::Email::parse("rosa@example.com").unwrap();
        let mut fields = PersonInput::lead(name, None, email, None);
        let add = BulkChange::<LifecycleStage>::AddTag(vip.clone());
        fields = add.apply_to_person(add.apply_to_person(fields));
        assert_eq!(fields.tags, vec![vip.clone()]);
        fields = BulkChange::RemoveTag(vip).apply_to_person(fields);
        assert!(fields.tags.is_empty());
        let staged = BulkChange::SetStage(LifecycleStage::Customer).apply_to_person(fields);
        assert_eq!(staged.lifecycle_stage, LifecycleStage::Customer);
    }
}
