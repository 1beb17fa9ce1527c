//! What happened to a record (its history) and what was deleted (the trash):
//! the record types that keep both, and the entries clients see.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::custom_fields::EntityType;
use crate::ids::UserId;

/// The record types with history, trash and CSV export.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RecordKind {
    People,
    Companies,
    Deals,
    Activities,
    Tasks,
    Purchases,
    Tickets,
}

impl RecordKind {
    pub const ALL: [RecordKind; 7] = [
        RecordKind::People,
        RecordKind::Companies,
        RecordKind::Deals,
        RecordKind::Activities,
        RecordKind::Tasks,
        RecordKind::Purchases,
        RecordKind::Tickets,
    ];

    /// The collection's name, as in `/api/v1/people`.
    pub fn as_str(self) -> &'static str {
        match self {
            RecordKind::People => "people",
            RecordKind::Companies => "companies",
            RecordKind::Deals => "deals",
            RecordKind::Activities => "activities",
            RecordKind::Tasks => "tasks",
            RecordKind::Purchases => "purchases",
            RecordKind::Tickets => "tickets",
        }
    }

    /// One record's name, for messages: "person", "company", ...
    pub fn singular(self) -> &'static str {
        match self {
            RecordKind::People => "person",
            RecordKind::Companies => "company",
            RecordKind::Deals => "deal",
            RecordKind::Activities => "activity",
            RecordKind::Tasks => "task",
            RecordKind::Purchases => "purchase",
            RecordKind::Tickets => "ticket",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|kind| kind.as_str() == raw)
            .ok_or_else(|| "must be one of people, companies, deals, activities, tasks, purchases, tickets".to_string())
    }

    /// The custom fields' name for this type, when it has custom fields.
    pub fn custom_fields(self) -> Option<EntityType> {
        match self {
            RecordKind::People => Some(EntityType::Person),
            RecordKind::Companies => Some(EntityType::Company),
            RecordKind::Deals => Some(EntityType::Deal),
            RecordKind::Tickets => Some(EntityType::Ticket),
            _ => None,
        }
    }
}

impl fmt::Display for RecordKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum HistoryAction {
    Create,
    Update,
    Delete,
    /// Brought back from the trash.
    Restore,
    /// Another record was merged into this one (`related_id`), or this one into another.
    Merge,
    /// A merge was undone.
    Unmerge,
}

impl HistoryAction {
    pub const ALL: [HistoryAction; 6] = [
        HistoryAction::Create,
        HistoryAction::Update,
        HistoryAction::Delete,
        HistoryAction::Restore,
        HistoryAction::Merge,
        HistoryAction::Unmerge,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            HistoryAction::Create => "create",
            HistoryAction::Update => "update",
            HistoryAction::Delete => "delete",
            HistoryAction::Restore => "restore",
            HistoryAction::Merge => "merge",
            HistoryAction::Unmerge => "unmerge",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|action| action.as_str() == raw)
    }
}

/// One field's value before and after, as the API shows the record (null: absent).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FieldChange {
    pub field: String,
    #[schema(value_type = Value)]
    pub old: Json,
    #[schema(value_type = Value)]
    pub new: Json,
}

/// The fields that differ between two versions of a record's fields (its
/// `*Input` part, serialized as the API shows it). `None`
/// stands for "no record": a create has no before, a delete no after.
/// Empty lists, empty objects and nulls count as absent, so a create lists
/// only the fields it filled.
pub fn diff<T: Serialize>(before: Option<&T>, after: Option<&T>) -> Vec<FieldChange> {
    let fields = |record: Option<&T>| -> Map<String, Json> {
        match record.map(serde_json::to_value) {
            Some(Ok(Json::Object(map))) => map,
            _ => Map::new(),
        }
    };
    let (mut before, after) = (fields(before), fields(after));
    // Both maps are owned: their names and values move into the changes,
    // so a bulk load's history clones nothing.
    let absent = |value: Option<Json>| -> Json {
        match value {
            Some(Json::Array(items)) if items.is_empty() => Json::Null,
            Some(Json::Object(map)) if map.is_empty() => Json::Null,
            Some(value) => value,
            None => Json::Null,
        }
    };
    let mut changes = Vec::new();
    for (name, new) in after {
        let (old, new) = (absent(before.remove(&name)), absent(Some(new)));
        if old != new {
            changes.push(FieldChange { field: name, old, new });
        }
    }
    for (name, old) in before {
        let old = absent(Some(old));
        if old != Json::Null {
            changes.push(FieldChange { field: name, old, new: Json::Null });
        }
    }
    changes
}

/// One thing that happened to a record.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct HistoryEntry {
    pub id: Uuid,
    pub record_type: RecordKind,
    pub record_id: Uuid,
    pub action: HistoryAction,
    /// Who did it; null for the system (an import without a user, the purge job).
    pub actor_id: Option<UserId>,
    /// Their name now; null when nobody or a user since removed.
    pub actor_name: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub changes: Vec<FieldChange>,
    /// For a merge or its undo: the other record.
    pub related_id: Option<Uuid>,
}

/// Why a record is in the trash.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TrashReason {
    Deleted,
    /// Merged into `merged_into`; only undoing the merge brings it back.
    Merged,
}

impl TrashReason {
    pub fn as_str(self) -> &'static str {
        match self {
            TrashReason::Deleted => "deleted",
            TrashReason::Merged => "merged",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [TrashReason::Deleted, TrashReason::Merged].into_iter().find(|reason| reason.as_str() == raw)
    }
}

/// A deleted record, restorable until it is purged.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TrashEntry {
    pub id: Uuid,
    pub record_type: RecordKind,
    pub record_id: Uuid,
    /// What the record was called: a name, a title, a subject.
    pub label: String,
    pub reason: TrashReason,
    pub merged_into: Option<Uuid>,
    pub deleted_by: Option<UserId>,
    pub deleted_by_name: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub deleted_at: OffsetDateTime,
    /// When the purge job removes it for good.
    #[serde(with = "time::serde::rfc3339")]
    pub purge_after: OffsetDateTime,
    /// Rows deleted with it (activities, purchases, contact points...).
    pub attached: u64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Serialize)]
    struct Fields {
        name: String,
        tags: Vec<String>,
        owner: Option<u32>,
    }

    #[test]
    fn a_create_lists_only_filled_fields() {
        let after = Fields { name: "Ada".into(), tags: vec![], owner: None };
        assert_eq!(
            diff(None, Some(&after)),
            vec![FieldChange { field: "name".into(), old: Json::Null, new: json!("Ada") }]
        );
    }

    #[test]
    fn an_update_lists_each_changed_field_old_to_new() {
        let before = Fields { name: "Ada".into(), tags: vec!["vip".into()], owner: Some(1) };
        let after = Fields { name: "Ada".into(), tags: vec![], owner: Some(2) };
        let mut changes = diff(Some(&before), Some(&after));
        changes.sort_by(|a, b| a.field.cmp(&b.field));
        assert_eq!(
            changes,
            vec![
                FieldChange { field: "owner".into(), old: json!(1), new: json!(2) },
                FieldChange { field: "tags".into(), old: json!(["vip"]), new: Json::Null },
            ]
        );
        assert!(diff(Some(&before), Some(&before)).is_empty());
    }

    /// A change's values are whatever the field holds: text, a number, a list, null.
    #[test]
    fn a_changes_values_may_be_any_json() {
        let schema = serde_json::to_value(<FieldChange as utoipa::PartialSchema>::schema()).unwrap();
        for side in ["old", "new"] {
            let value = &schema["properties"][side];
            assert!(value.get("type").is_none(), "{side} is typed: {value}");
        }
    }
}
