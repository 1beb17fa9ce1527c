//! Support tickets: a customer's question and the conversation about it,
//! with the rules of its status and who may work it.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::access::{Actor, Ownership, Role};
use crate::custom_fields::CustomValues;
use crate::ids::{CompanyId, PersonId, TeamId, UserId};
use crate::records::Meta;
use crate::text::{LongText, Name, Tag};
use crate::validation::FieldErrors;

text_enum!(
    /// new → open → pending → solved → closed. A customer's message reopens
    /// a solved ticket; a closed one is final.
    TicketStatus {
        New => "new" / "New",
        Open => "open" / "Open",
        Pending => "pending" / "Pending",
        Solved => "solved" / "Solved",
        Closed => "closed" / "Closed",
    }
);
text_enum!(TicketPriority { Low => "low" / "Low", Normal => "normal" / "Normal", High => "high" / "High", Urgent => "urgent" / "Urgent" });
text_enum!(TicketChannel { Email => "email" / "Email", Web => "web" / "Web", Phone => "phone" / "Phone", Chat => "chat" / "Chat" });
text_enum!(
    /// Who speaks in a message: the customer, staff to the customer, or
    /// staff among themselves (never sent).
    MessageKind { Customer => "customer" / "Customer", Reply => "reply" / "Reply", Note => "note" / "Internal note" }
);

impl TicketStatus {
    /// Whether the customer still waits on the business.
    pub fn is_active(self) -> bool {
        matches!(self, TicketStatus::New | TicketStatus::Open | TicketStatus::Pending)
    }
}

fn default_channel() -> TicketChannel {
    TicketChannel::Web
}
fn default_status() -> TicketStatus {
    TicketStatus::New
}
fn default_priority() -> TicketPriority {
    TicketPriority::Normal
}

/// A ticket as clients send it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TicketInput {
    /// The customer who asked; the ticket's company is theirs.
    pub requester_id: PersonId,
    pub subject: Name,
    #[serde(default = "default_channel")]
    pub channel: TicketChannel,
    #[serde(default = "default_status")]
    pub status: TicketStatus,
    #[serde(default = "default_priority")]
    pub priority: TicketPriority,
    #[serde(default)]
    pub assignee_id: Option<UserId>,
    /// The team whose queue it is in; defaults to the assignee's team.
    #[serde(default)]
    pub team_id: Option<TeamId>,
    #[serde(default)]
    pub tags: Vec<Tag>,
    /// The ticket's id in the help desk it came from: unique; how an import finds it again.
    #[serde(default)]
    pub external_id: Option<Name>,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub custom_fields: CustomValues,
}

impl TicketInput {
    /// A new ticket with the defaults a client gets by leaving fields out.
    pub fn new(requester_id: PersonId, subject: Name, channel: TicketChannel) -> Self {
        TicketInput {
            requester_id,
            subject,
            channel,
            status: default_status(),
            priority: default_priority(),
            assignee_id: None,
            team_id: None,
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

/// The SLA clocks of a ticket: due times under its policy, and the moments they are measured by.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TicketClocks {
    /// The policy whose targets apply (the first that matched), if any.
    pub sla_policy_id: Option<crate::ids::SlaPolicyId>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub first_response_due: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub next_response_due: Option<OffsetDateTime>,
    /// Absent while pending: the resolution clock stands still.
    #[serde(with = "time::serde::rfc3339::option")]
    pub resolution_due: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub first_responded_at: Option<OffsetDateTime>,
    /// The customer message still waiting for a staff reply.
    #[serde(with = "time::serde::rfc3339::option")]
    pub awaiting_reply_since: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub solved_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub closed_at: Option<OffsetDateTime>,
}

/// A ticket as Rapport returns it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Ticket {
    pub id: crate::ids::TicketId,
    #[serde(flatten)]
    pub fields: TicketInput,
    /// The requester's company, when they have one.
    pub company_id: Option<CompanyId>,
    #[serde(flatten)]
    pub clocks: TicketClocks,
    /// Messages in the conversation.
    pub message_count: i64,
    #[serde(flatten)]
    pub meta: Meta,
}

/// A message as staff add it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MessageInput {
    /// `reply` goes to the customer, `note` stays inside; `customer` records
    /// what the customer said (on the phone, say).
    pub kind: MessageKind,
    pub body: LongText,
    /// The status the ticket moves to with this message (e.g. reply and set pending).
    #[serde(default)]
    pub status: Option<TicketStatus>,
    /// Files sent with the message: a reply emails them to the customer, a
    /// note keeps them inside. At most 10, each at most 10 MiB, 25 MiB in all.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schema(max_items = 10)]
    pub attachments: Vec<crate::mail::AttachmentInput>,
}

/// A message of a ticket's conversation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TicketMessage {
    pub id: crate::ids::MessageId,
    pub ticket_id: crate::ids::TicketId,
    pub kind: MessageKind,
    /// The staff member who wrote it (replies and notes, and customer messages staff recorded).
    pub author_id: Option<UserId>,
    /// The customer who wrote it.
    pub person_id: Option<PersonId>,
    /// Plain text.
    pub body: String,
    /// For email: the message's HTML, sanitised (no scripts, styles or remote content).
    pub html: Option<String>,
    /// For email: the address it came from.
    pub from_address: Option<String>,
    pub attachments: Vec<crate::mail::AttachmentInfo>,
    /// For a reply: how sending it by email went (absent when it was not emailed).
    pub delivery: Option<crate::mail::Delivery>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// What a ticket's visibility depends on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TicketReach {
    pub assignee_id: Option<UserId>,
    /// The ticket's team, or else its assignee's.
    pub team_id: Option<TeamId>,
}

impl Actor {
    /// Agents and viewers work their own tickets, their team's and the
    /// unassigned queue; managers and admins see every ticket.
    pub fn can_see_ticket(&self, reach: TicketReach) -> bool {
        match self.role {
            Role::Admin | Role::Manager => true,
            Role::Agent | Role::Viewer => {
                reach.assignee_id.is_none()
                    || reach.assignee_id == Some(self.user_id)
                    || (self.team_id.is_some() && reach.team_id == self.team_id)
            }
        }
    }
}

impl TicketReach {
    /// Who the ticket belongs to for the edit and delete rules
    /// (`Actor::ensure_can`): its assignee, counted in the ticket's team,
    /// and whoever opened it.
    pub fn ownership(self, created_by: Option<UserId>) -> Ownership {
        Ownership { owner_id: self.assignee_id, owner_team_id: self.team_id, created_by }
    }
}

impl Ticket {
    /// What the ticket's visibility depends on.
    pub fn reach(&self) -> TicketReach {
        TicketReach { assignee_id: self.fields.assignee_id, team_id: self.fields.team_id }
    }

    /// Who it belongs to, for who may delete it: agents their own (assigned
    /// to them or opened by them), managers their team's and unassigned ones,
    /// admins any.
    pub fn ownership(&self) -> Ownership {
        self.reach().ownership(self.meta.created_by)
    }
}

/// The status after a message of `kind`, unless the writer chose one: a
/// staff reply opens a new ticket, a customer message reopens a solved or
/// pending one.
pub fn status_after(current: TicketStatus, kind: MessageKind, chosen: Option<TicketStatus>) -> TicketStatus {
    if let Some(chosen) = chosen {
        return chosen;
    }
    match (kind, current) {
        (MessageKind::Reply, TicketStatus::New) => TicketStatus::Open,
        (MessageKind::Customer, TicketStatus::Solved | TicketStatus::Pending) => TicketStatus::Open,
        _ => current,
    }
}

/// How many tickets one bulk change may touch.
pub const BULK_MAX: usize = 500;

/// A change to several tickets at once, as clients send it: each field left
/// out stays as it is on every ticket.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TicketBulkInput {
    /// The tickets to change: 1 to 500.
    #[schema(min_items = 1, max_items = 500)]
    pub ids: Vec<crate::ids::TicketId>,
    /// The staff member to assign them to, or `null` for the unassigned
    /// queue; left out, each keeps its own.
    #[serde(default, deserialize_with = "sent", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = Uuid)]
    pub assignee_id: Option<Option<UserId>>,
    /// The status to move them to; left out (or `null`), each keeps its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<TicketStatus>,
}

/// A field sent, even as `null`, told apart from one left out (`None`).
fn sent<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// A bulk change that can be applied: 1 to [`BULK_MAX`] distinct tickets
/// and at least one field to change.
#[derive(Clone, Debug, PartialEq)]
pub struct TicketBulkChange {
    ids: Vec<crate::ids::TicketId>,
    assignee_id: Option<Option<UserId>>,
    status: Option<TicketStatus>,
}

impl TicketBulkChange {
    /// The tickets, each once, in the order sent.
    pub fn ids(&self) -> &[crate::ids::TicketId] {
        &self.ids
    }

    /// A ticket's fields with the change made, as a single update would send them.
    pub fn apply(&self, mut fields: TicketInput) -> TicketInput {
        if let Some(assignee) = self.assignee_id {
            fields.assignee_id = assignee;
        }
        if let Some(status) = self.status {
            fields.status = status;
        }
        fields
    }
}

impl TryFrom<TicketBulkInput> for TicketBulkChange {
    type Error = FieldErrors;

    fn try_from(input: TicketBulkInput) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::new();
        let mut ids = input.ids;
        // A ticket named twice is changed once.
        let mut seen = std::collections::HashSet::new();
        ids.retain(|id| seen.insert(*id));
        if ids.is_empty() {
            errors.add("ids", "name at least one ticket");
        } else if ids.len() > BULK_MAX {
            errors.add("ids", format!("at most {BULK_MAX} tickets at a time"));
        }
        if input.assignee_id.is_none() && input.status.is_none() {
            errors.add("assignee_id", "send assignee_id or status: there is nothing to change");
        }
        errors.into_result()?;
        Ok(TicketBulkChange { ids, assignee_id: input.assignee_id, status: input.status })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_move_the_status() {
        use MessageKind::*;
        use TicketStatus::*;
        assert_eq!(status_after(New, Reply, None), Open);
        assert_eq!(status_after(Solved, Customer, None), Open, "a customer reply reopens");
        assert_eq!(status_after(Pending, Customer, None), Open);
        assert_eq!(status_after(Open, Note, None), Open, "a note changes nothing");
        assert_eq!(status_after(Open, Reply, Some(Pending)), Pending, "the writer's choice wins");
    }

    #[test]
    fn agents_see_their_own_their_team_and_the_queue() {
        let team = TeamId::new();
        let agent = Actor { user_id: UserId::new(), role: Role::Agent, team_id: Some(team) };
        assert!(agent.can_see_ticket(TicketReach::default()), "unassigned");
        assert!(agent.can_see_ticket(TicketReach { assignee_id: Some(agent.user_id), team_id: None }));
        assert!(agent.can_see_ticket(TicketReach { assignee_id: Some(UserId::new()), team_id: Some(team) }));
        assert!(!agent.can_see_ticket(TicketReach { assignee_id: Some(UserId::new()), team_id: Some(TeamId::new()) }));
        let manager = Actor { role: Role::Manager, ..agent };
        assert!(manager.can_see_ticket(TicketReach { assignee_id: Some(UserId::new()), team_id: Some(TeamId::new()) }));
    }

    #[test]
    fn agents_delete_their_own_tickets_managers_their_teams() {
        use crate::access::Action::Delete;
        let team = TeamId::new();
        let agent = Actor { user_id: UserId::new(), role: Role::Agent, team_id: Some(team) };
        let manager = Actor { user_id: UserId::new(), role: Role::Manager, team_id: Some(team) };
        let own = TicketReach { assignee_id: Some(agent.user_id), team_id: Some(team) };
        let teammates = TicketReach { assignee_id: Some(manager.user_id), team_id: Some(team) };
        let others = TicketReach { assignee_id: Some(UserId::new()), team_id: Some(TeamId::new()) };
        let queue = TicketReach::default();
        assert!(agent.ensure_can(Delete, &own.ownership(None)).is_ok());
        assert!(agent.ensure_can(Delete, &teammates.ownership(None)).is_err());
        assert!(agent.ensure_can(Delete, &queue.ownership(None)).is_err());
        assert!(agent.ensure_can(Delete, &queue.ownership(Some(agent.user_id))).is_ok(), "one they opened");
        assert!(manager.ensure_can(Delete, &teammates.ownership(None)).is_ok());
        assert!(manager.ensure_can(Delete, &queue.ownership(None)).is_ok());
        assert!(manager.ensure_can(Delete, &others.ownership(None)).is_err());
        let viewer = Actor { role: Role::Viewer, ..agent };
        assert!(viewer.ensure_can(Delete, &own.ownership(None)).is_err());
    }

    #[test]
    fn unknown_fields_are_refused() {
        let body = r#"{"requester_id":"01890000-0000-7000-8000-000000000000","subject":"Help","sender":"x"}"#;
        assert!(serde_json::from_str::<TicketInput>(body).is_err());
    }

    #[test]
    fn a_bulk_change_names_tickets_and_something_to_change() {
        let id = crate::ids::TicketId::new();
        let parse = |body: &str| serde_json::from_str::<TicketBulkInput>(body).map_err(|e| e.to_string());
        let unassign = parse(&format!(r#"{{"ids":["{id}","{id}"],"assignee_id":null}}"#)).unwrap();
        assert_eq!(unassign.assignee_id, Some(None), "null unassigns");
        let change = TicketBulkChange::try_from(unassign).unwrap();
        assert_eq!(change.ids(), &[id], "a ticket named twice is changed once");
        let mut fields = TicketInput::new(PersonId::new(), Name::try_from("Help").unwrap(), TicketChannel::Web);
        fields.assignee_id = Some(UserId::new());
        let changed = change.apply(fields.clone());
        assert_eq!((changed.assignee_id, changed.status), (None, TicketStatus::New), "the status stays");

        let left_out = parse(&format!(r#"{{"ids":["{id}"],"status":"solved"}}"#)).unwrap();
        assert_eq!(left_out.assignee_id, None, "left out, the assignee stays");
        let changed = TicketBulkChange::try_from(left_out).unwrap().apply(fields.clone());
        assert_eq!((changed.assignee_id, changed.status), (fields.assignee_id, TicketStatus::Solved));

        let nothing = TicketBulkChange::try_from(parse(r#"{"ids":[]}"#).unwrap()).unwrap_err();
        assert!(nothing.get("ids").is_some() && nothing.get("assignee_id").is_some(), "{nothing}");
        let too_many = TicketBulkInput {
            ids: (0..=BULK_MAX).map(|_| crate::ids::TicketId::new()).collect(),
            assignee_id: None,
            status: Some(TicketStatus::Open),
        };
        assert!(TicketBulkChange::try_from(too_many).unwrap_err().get("ids").is_some());
        assert!(parse(&format!(r#"{{"ids":["{id}"],"status":"open","team_id":null}}"#)).is_err(), "unknown field");
    }
}
