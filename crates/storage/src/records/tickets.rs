//! Support tickets and their conversations. Every write sets the ticket's
//! SLA policy (the first that matches) and due times in the same transaction.

use rapport_domain::custom_fields::{CheckedValue, EntityType};
use rapport_domain::records::now;
use rapport_domain::sla::{CalendarHours, ClockInput, DueTimes, due_times, policy_for};
use rapport_domain::tickets::{
    MessageInput, MessageKind, Ticket, TicketChannel, TicketClocks, TicketInput, TicketMessage, TicketPriority,
    TicketReach, TicketStatus, status_after,
};
use rapport_domain::{Actor, CompanyId, FieldErrors, MessageId, PersonId, Role, SlaPolicyId, TeamId, TicketId, UserId};
use sea_orm::prelude::*;
use sea_orm::sea_query::{CaseStatement, Expr, ExprTrait};
use sea_orm::{ActiveModelTrait, Condition, ConnectionTrait, QueryOrder, QuerySelect, Set};
use time::{Duration, OffsetDateTime};

use crate::common::*;
use crate::entities::{people, teams, ticket_messages, tickets, trash};
use crate::history;
use crate::listing::{SortField, SortKind, SortValue};
use crate::records::sla::{hours_of, policies};
use crate::trash::{Removal, move_to_trash};
use crate::{ListQuery, Page, Result, StorageError, Store};
use rapport_domain::access::Action;
use rapport_domain::history::{FieldChange, HistoryAction, HistoryEntry, RecordKind, TrashReason};

/// Which tickets a list shows (on top of who may see them).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TicketQueue {
    /// Assigned to the signed-in staff member, still active.
    Mine,
    /// In the signed-in staff member's team, still active.
    Team,
    /// Active and assigned to nobody.
    Unassigned,
    /// Active, with a target due within the next hour.
    DueSoon,
    /// Active, with a target already past.
    Breached,
}

#[derive(Clone, Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TicketFilter {
    pub queue: Option<TicketQueue>,
    pub status: Option<TicketStatus>,
    pub priority: Option<TicketPriority>,
    pub assignee_id: Option<UserId>,
    pub team_id: Option<TeamId>,
    pub requester_id: Option<PersonId>,
    pub company_id: Option<CompanyId>,
}

impl crate::listing::ListShape for TicketFilter {
    const SORTS: &'static [&'static str] = &["updated_at", "created_at"];
    const SEARCH_AND_TAGS: bool = false;
}

/// How soon a target counts as "due soon".
const DUE_SOON: Duration = Duration::hours(1);

const ACTIVE: [&str; 3] = ["new", "open", "pending"];

/// `ACTIVE` as a literal condition: the queues' partial indexes
/// (`m0015_ticket_queue_indexes`) serve only a query that holds their
/// condition with the values written in, not bound as parameters.
const ACTIVE_SQL: &str = "\"tickets\".\"status\" IN ('new', 'open', 'pending')";
/// The tickets whose targets run (pending pauses them), written in for the
/// due-soon and breached queues' partial index likewise.
const RUNNING_SQL: &str = "\"tickets\".\"status\" IN ('new', 'open')";

pub(crate) fn ticket_from(row: tickets::Model) -> Result<Ticket> {
    Ok(Ticket {
        id: TicketId(row.id),
        fields: TicketInput {
            requester_id: PersonId(row.requester_id),
            subject: parse(row.subject, "ticket subject")?,
            channel: parse_with(&row.channel, "ticket channel", TicketChannel::parse)?,
            status: parse_with(&row.status, "ticket status", TicketStatus::parse)?,
            priority: parse_with(&row.priority, "ticket priority", TicketPriority::parse)?,
            assignee_id: row.assignee_id.map(UserId),
            team_id: row.team_id.map(TeamId),
            tags: from_json(row.tags, "tags")?,
            external_id: parse_opt(row.external_id, "external id")?,
            custom_fields: from_json(row.custom_fields, "custom fields")?,
        },
        company_id: row.company_id.map(CompanyId),
        clocks: TicketClocks {
            sla_policy_id: row.sla_policy_id.map(SlaPolicyId),
            first_response_due: row.first_response_due,
            next_response_due: row.next_response_due,
            resolution_due: row.resolution_due,
            first_responded_at: row.first_responded_at,
            awaiting_reply_since: row.awaiting_reply_since,
            solved_at: row.solved_at,
            closed_at: row.closed_at,
        },
        message_count: row.message_count,
        meta: meta(row.created_at, row.updated_at, row.created_by, row.version),
    })
}

/// A message without its attachments and delivery (see `crate::mail::with_mail`).
pub(crate) fn message_from(row: ticket_messages::Model) -> Result<TicketMessage> {
    Ok(TicketMessage {
        id: MessageId(row.id),
        ticket_id: TicketId(row.ticket_id),
        kind: parse_with(&row.kind, "message kind", MessageKind::parse)?,
        author_id: row.author_id.map(UserId),
        person_id: row.person_id.map(PersonId),
        body: row.body,
        html: row.html,
        from_address: row.from_address,
        attachments: Vec::new(),
        delivery: None,
        created_at: row.created_at,
    })
}

fn reach(row: &tickets::Model) -> TicketReach {
    TicketReach { assignee_id: row.assignee_id.map(UserId), team_id: row.team_id.map(TeamId) }
}

/// The ticket, if `actor` may see it; another team's ticket is "not found"
/// for an agent, so its existence does not leak.
pub(crate) fn visible(actor: &Actor, row: tickets::Model) -> Result<tickets::Model> {
    if actor.can_see_ticket(reach(&row)) { Ok(row) } else { Err(StorageError::NotFound("ticket")) }
}

/// The rows `Actor::can_see_ticket` allows, as a query condition: for
/// agents and viewers their own, their team's and the unassigned queue;
/// `None` (every ticket) for managers and admins.
pub(crate) fn reach_condition(actor: &Actor) -> Option<Condition> {
    if !matches!(actor.role, Role::Agent | Role::Viewer) {
        return None;
    }
    let mut reach = Condition::any()
        .add(tickets::Column::AssigneeId.is_null())
        .add(tickets::Column::AssigneeId.eq(actor.user_id.0));
    if let Some(team) = actor.team_id {
        reach = reach.add(tickets::Column::TeamId.eq(team.0));
    }
    Some(reach)
}

/// What the SLA clock reads and moves, apart from the ticket's fields.
struct ClockState {
    created_at: OffsetDateTime,
    first_responded_at: Option<OffsetDateTime>,
    awaiting_reply_since: Option<OffsetDateTime>,
    pending_since: Option<OffsetDateTime>,
    pending_seconds: i64,
    solved_at: Option<OffsetDateTime>,
    closed_at: Option<OffsetDateTime>,
}

impl ClockState {
    fn of(row: &tickets::Model) -> Self {
        ClockState {
            created_at: row.created_at,
            first_responded_at: row.first_responded_at,
            awaiting_reply_since: row.awaiting_reply_since,
            pending_since: row.pending_since,
            pending_seconds: row.pending_seconds,
            solved_at: row.solved_at,
            closed_at: row.closed_at,
        }
    }

    /// A status change at `at`: pending spells are counted in working time,
    /// solving and closing are stamped, reopening clears the solve.
    fn transition(&mut self, hours: &CalendarHours, from: TicketStatus, to: TicketStatus, at: OffsetDateTime) {
        if from == to {
            return;
        }
        if from == TicketStatus::Pending
            && let Some(since) = self.pending_since.take()
        {
            self.pending_seconds += hours.between(since, at).whole_seconds();
        }
        if to == TicketStatus::Pending {
            self.pending_since = Some(at);
        }
        match to {
            TicketStatus::Solved => self.solved_at = Some(at),
            TicketStatus::Closed => {
                self.solved_at = self.solved_at.or(Some(at));
                self.closed_at = Some(at);
            }
            _ => self.solved_at = None,
        }
    }

    fn due(&self, policy: Option<&rapport_domain::sla::SlaPolicy>, hours: &CalendarHours) -> DueTimes {
        let Some(policy) = policy else { return DueTimes::default() };
        let clock = ClockInput {
            created_at: self.created_at,
            first_responded_at: self.first_responded_at,
            awaiting_reply_since: self.awaiting_reply_since,
            pending_business: Duration::seconds(self.pending_seconds),
            pending_since: self.pending_since,
            solved_at: self.solved_at,
        };
        due_times(&policy.fields.targets, hours, &clock)
    }

    fn write(&self, active: &mut tickets::ActiveModel, policy: Option<SlaPolicyId>, due: DueTimes) {
        active.sla_policy_id = Set(policy.map(|p| p.0));
        active.first_response_due = Set(due.first_response_due);
        active.next_response_due = Set(due.next_response_due);
        active.resolution_due = Set(due.resolution_due);
        active.first_responded_at = Set(self.first_responded_at);
        active.awaiting_reply_since = Set(self.awaiting_reply_since);
        active.pending_since = Set(self.pending_since);
        active.pending_seconds = Set(self.pending_seconds);
        active.solved_at = Set(self.solved_at);
        active.closed_at = Set(self.closed_at);
    }
}

/// What `prepare` found: the requester's company, and the custom values
/// to index.
struct Prepared {
    company: Option<Uuid>,
    custom: Vec<CheckedValue>,
}

/// Checks the ticket's links and custom values and fills in what follows
/// from them: the requester's company, and the assignee's team when no team
/// was given.
async fn prepare<C: ConnectionTrait>(conn: &C, input: &mut TicketInput) -> Result<Prepared> {
    input.check()?;
    let requester = must_exist::<people::Entity, _>(conn, input.requester_id.0, "requester_id", "person").await?;
    if let Some(team) = input.team_id {
        must_exist::<teams::Entity, _>(conn, team.0, "team_id", "team").await?;
    } else if let Some(assignee) = input.assignee_id {
        input.team_id = team_of(conn, Some(assignee.0)).await?;
    }
    let (custom, stored) = check_custom(conn, EntityType::Ticket, &input.custom_fields).await?;
    input.custom_fields = stored;
    Ok(Prepared { company: requester.company_id, custom })
}

/// Rewrites a ticket's custom-field index rows. (Tickets' tags are not
/// indexed: their list has no tag filter.)
async fn write_custom_index<C: ConnectionTrait>(conn: &C, id: Uuid, custom: &[CheckedValue]) -> Result<()> {
    write_index_rows(conn, EntityType::Ticket, id, &[], custom).await
}

fn fill(active: &mut tickets::ActiveModel, input: &TicketInput, company: Option<Uuid>) {
    active.requester_id = Set(input.requester_id.0);
    active.company_id = Set(company);
    active.subject = Set(input.subject.to_string());
    active.channel = Set(input.channel.as_str().to_owned());
    active.status = Set(input.status.as_str().to_owned());
    active.priority = Set(input.priority.as_str().to_owned());
    active.assignee_id = Set(input.assignee_id.map(|u| u.0));
    active.team_id = Set(input.team_id.map(|t| t.0));
    active.tags = Set(to_json(&input.tags));
    active.external_id = Set(input.external_id.as_ref().map(|e| e.to_string()));
    active.custom_fields = Set(to_json(&input.custom_fields));
}

/// Recomputes the policy and due times of the active tickets (of the given
/// policies only, when named): after a policy or calendar changed.
pub(crate) async fn recompute_open<C: ConnectionTrait>(conn: &C, of_policies: Option<&[Uuid]>) -> Result<u64> {
    let all = policies(conn).await?;
    let mut select = tickets::Entity::find().filter(tickets::Column::Status.is_in(ACTIVE));
    if let Some(ids) = of_policies {
        select = select.filter(tickets::Column::SlaPolicyId.is_in(ids.iter().copied()));
    }
    let mut hours_cache: std::collections::HashMap<Option<SlaPolicyId>, CalendarHours> = Default::default();
    let mut changes = Vec::new();
    for row in select.all(conn).await? {
        let ticket = ticket_from(row.clone())?;
        let policy = policy_for(&all, &ticket.fields);
        let key = policy.map(|p| p.id);
        let hours = match hours_cache.entry(key) {
            std::collections::hash_map::Entry::Occupied(known) => known.into_mut(),
            std::collections::hash_map::Entry::Vacant(new) => new.insert(hours_of(conn, policy).await?),
        };
        let state = ClockState::of(&row);
        let due = state.due(policy, &*hours);
        let before = (row.sla_policy_id, row.first_response_due, row.next_response_due, row.resolution_due);
        if before == (key.map(|p| p.0), due.first_response_due, due.next_response_due, due.resolution_due) {
            continue;
        }
        changes.push(DueChange { id: row.id, policy: key, due });
    }
    // A statement per chunk, not per ticket: a calendar change can move tens of thousands.
    for chunk in changes.chunks(RECOMPUTE_CHUNK) {
        let case = |value: fn(&DueChange) -> sea_orm::Value| -> Expr {
            let when = chunk.iter().fold(CaseStatement::new(), |case, change| {
                case.case(tickets::Column::Id.eq(change.id), Expr::val(value(change)))
            });
            Expr::Case(Box::new(when))
        };
        tickets::Entity::update_many()
            .col_expr(tickets::Column::SlaPolicyId, case(|c| c.policy.map(|p| p.0).into()))
            .col_expr(tickets::Column::FirstResponseDue, case(|c| c.due.first_response_due.into()))
            .col_expr(tickets::Column::NextResponseDue, case(|c| c.due.next_response_due.into()))
            .col_expr(tickets::Column::ResolutionDue, case(|c| c.due.resolution_due.into()))
            .filter(tickets::Column::Id.is_in(chunk.iter().map(|change| change.id)))
            .exec(conn)
            .await?;
    }
    Ok(changes.len() as u64)
}

/// A ticket's policy and due times as a recompute found them.
struct DueChange {
    id: Uuid,
    policy: Option<SlaPolicyId>,
    due: DueTimes,
}

/// Tickets per UPDATE when due times are recomputed: 5 bound values each,
/// well under SQLite's and PostgreSQL's limits on one statement's.
const RECOMPUTE_CHUNK: usize = 500;

/// Inserts a ticket inside the caller's transaction (who may is the
/// caller's question) and records it in the ticket's history as `actor`'s
/// doing (`Actor::system()` for mail taken in: opened by nobody).
pub(crate) async fn insert_ticket<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    mut input: TicketInput,
    at: OffsetDateTime,
) -> Result<tickets::Model> {
    let created_by = Some(actor.user_id).filter(|user| !user.0.is_nil());
    let at = rapport_domain::records::normalize_timestamp(at);
    let prepared = prepare(conn, &mut input).await?;
    if input.status == TicketStatus::Closed {
        return Err(FieldErrors::single("status", "a new ticket cannot be closed").into());
    }
    let all = policies(conn).await?;
    let policy = policy_for(&all, &input);
    let hours = hours_of(conn, policy).await?;
    let mut state = ClockState {
        created_at: at,
        first_responded_at: None,
        awaiting_reply_since: Some(at),
        pending_since: None,
        pending_seconds: 0,
        solved_at: None,
        closed_at: None,
    };
    state.transition(&hours, TicketStatus::New, input.status, at);
    let id = TicketId::new();
    let mut active = tickets::ActiveModel {
        id: Set(id.0),
        created_at: Set(at),
        updated_at: Set(at),
        created_by: Set(created_by.map(|u| u.0)),
        version: Set(1),
        message_count: Set(0),
        mail_token: Set(Some(rapport_domain::mail::ticket_token(id))),
        ..Default::default()
    };
    fill(&mut active, &input, prepared.company);
    state.write(&mut active, policy.map(|p| p.id), state.due(policy, &hours));
    let row = active.insert(conn).await?;
    write_custom_index(conn, row.id, &prepared.custom).await?;
    history::created(conn, actor, ticket_from(row.clone())?).await?;
    Ok(row)
}

/// A message to add, with what email brings.
#[derive(Debug)]
pub(crate) struct NewMessage {
    pub kind: MessageKind,
    pub body: String,
    /// The status the writer chose, if any.
    pub status: Option<TicketStatus>,
    pub author_id: Option<Uuid>,
    pub person_id: Option<Uuid>,
    pub html: Option<String>,
    pub email_message_id: Option<String>,
    pub from_address: Option<String>,
}

/// Adds a message inside the caller's transaction and moves the ticket's
/// status and clocks with it; a status the message moved is recorded in the
/// ticket's history as `actor`'s change.
pub(crate) async fn append_message<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    row: tickets::Model,
    message: NewMessage,
    at: OffsetDateTime,
) -> Result<(tickets::Model, ticket_messages::Model)> {
    let at = rapport_domain::records::normalize_timestamp(at);
    let current = parse_with(&row.status, "ticket status", TicketStatus::parse)?;
    if current == TicketStatus::Closed {
        return Err(StorageError::Conflict("a closed ticket is final: open a new one".into()));
    }
    let next = status_after(current, message.kind, message.status);
    if next == TicketStatus::New && current != TicketStatus::New {
        return Err(FieldErrors::single("status", "a ticket cannot go back to new").into());
    }
    if at < row.updated_at {
        return Err(StorageError::Conflict("a message cannot be older than the ticket's last change".into()));
    }
    let ticket = ticket_from(row.clone())?;
    let mut fields = ticket.fields.clone();
    fields.status = next;
    let all = policies(conn).await?;
    let policy = policy_for(&all, &fields);
    let hours = hours_of(conn, policy).await?;
    let mut state = ClockState::of(&row);
    match message.kind {
        MessageKind::Reply => {
            state.first_responded_at = state.first_responded_at.or(Some(at));
            state.awaiting_reply_since = None;
        }
        MessageKind::Customer => state.awaiting_reply_since = state.awaiting_reply_since.or(Some(at)),
        MessageKind::Note => {}
    }
    state.transition(&hours, current, next, at);
    let reply = message.kind == MessageKind::Reply;
    crate::records::sla_events::record_outcomes(conn, &row, reply, next == TicketStatus::Solved, at).await?;
    let inserted = ticket_messages::ActiveModel {
        id: Set(MessageId::new().0),
        ticket_id: Set(row.id),
        kind: Set(message.kind.as_str().to_owned()),
        author_id: Set(message.author_id),
        person_id: Set(message.person_id),
        body: Set(message.body),
        created_at: Set(at),
        html: Set(message.html),
        email_message_id: Set(message.email_message_id),
        from_address: Set(message.from_address),
    }
    .insert(conn)
    .await?;
    let version = row.version;
    let count = row.message_count;
    let mut active: tickets::ActiveModel = row.into();
    active.status = Set(next.as_str().to_owned());
    state.write(&mut active, policy.map(|p| p.id), state.due(policy, &hours));
    active.message_count = Set(count + 1);
    active.updated_at = Set(at);
    active.version = Set(version + 1);
    let row = save(conn, active, tickets::Column::Version, version).await?;
    history::updated(conn, actor, &ticket, ticket_from(row.clone())?).await?;
    Ok((row, inserted))
}

/// Replaces a stored ticket's fields inside the caller's transaction: the
/// one path every change of them takes (an update, a bulk change), with the
/// access and version checks, a closed ticket final, and the SLA clocks and
/// outcomes moved with the status.
pub(crate) async fn replace_ticket<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    row: tickets::Model,
    mut input: TicketInput,
    expected_version: Option<i64>,
) -> Result<Ticket> {
    let row = visible(actor, row)?;
    check_version(expected_version, row.version)?;
    let previous = ticket_from(row.clone())?;
    let current = parse_with(&row.status, "ticket status", TicketStatus::parse)?;
    if current == TicketStatus::Closed {
        return Err(StorageError::Conflict("a closed ticket is final: open a new one".into()));
    }
    let prepared = prepare(conn, &mut input).await?;
    check_assignment(conn, actor, input.assignee_id, row.assignee_id, "assignee_id").await?;
    let at = now();
    let all = policies(conn).await?;
    let policy = policy_for(&all, &input);
    let hours = hours_of(conn, policy).await?;
    let mut state = ClockState::of(&row);
    state.transition(&hours, current, input.status, at);
    let solved = input.status == TicketStatus::Solved;
    crate::records::sla_events::record_outcomes(conn, &row, false, solved, at).await?;
    let version = row.version;
    let mut active: tickets::ActiveModel = row.into();
    fill(&mut active, &input, prepared.company);
    state.write(&mut active, policy.map(|p| p.id), state.due(policy, &hours));
    active.updated_at = Set(at);
    active.version = Set(version + 1);
    let row = save(conn, active, tickets::Column::Version, version).await?;
    write_custom_index(conn, row.id, &prepared.custom).await?;
    history::updated(conn, actor, &previous, ticket_from(row)?).await
}

impl Store {
    /// Opens a ticket; the customer now waits for a first response.
    pub async fn create_ticket(&self, actor: &Actor, input: TicketInput) -> Result<Ticket> {
        self.create_ticket_at(actor, input, now()).await
    }

    /// Opens a ticket as it was opened at `at` (a help desk's history
    /// brought over, or the demo's); the clocks run from then.
    pub async fn create_ticket_at(&self, actor: &Actor, input: TicketInput, at: OffsetDateTime) -> Result<Ticket> {
        actor.ensure_can_create()?;
        let w = self.begin_write().await?;
        check_assignment(&*w, actor, input.assignee_id, None, "assignee_id").await?;
        let row = insert_ticket(&*w, actor, input, at).await?;
        w.commit().await?;
        ticket_from(row)
    }

    pub async fn get_ticket(&self, actor: &Actor, id: TicketId) -> Result<Ticket> {
        let row =
            tickets::Entity::find_by_id(id.0).by_key(self.conn()).await?.ok_or(StorageError::NotFound("ticket"))?;
        ticket_from(visible(actor, row)?)
    }

    /// Changes a ticket's fields (status included); a closed ticket is final.
    pub async fn update_ticket(
        &self,
        actor: &Actor,
        id: TicketId,
        input: TicketInput,
        expected_version: Option<i64>,
    ) -> Result<Ticket> {
        actor.ensure_can_create()?;
        let w = self.begin_write().await?;
        let row = tickets::Entity::find_by_id(id.0).by_key(&*w).await?.ok_or(StorageError::NotFound("ticket"))?;
        let ticket = replace_ticket(&*w, actor, row, input, expected_version).await?;
        w.commit().await?;
        Ok(ticket)
    }

    /// Adds a message to the conversation: a reply answers the customer
    /// (the first one stops the first-response clock) and is emailed to
    /// them when outgoing mail is set up, a customer message starts the
    /// next-response clock and reopens a solved ticket, a note changes no clock.
    /// Its files (checked first: nothing is written if one is refused) are
    /// kept with it, and go out with a reply's email.
    pub async fn add_ticket_message(
        &self,
        actor: &Actor,
        id: TicketId,
        input: MessageInput,
    ) -> Result<(Ticket, TicketMessage)> {
        self.add_message(actor, id, input, now(), true).await
    }

    /// Adds a message as it was written at `at` (no earlier than the
    /// ticket's last change), sending nothing: for history brought over, and the demo.
    pub async fn add_ticket_message_at(
        &self,
        actor: &Actor,
        id: TicketId,
        input: MessageInput,
        at: OffsetDateTime,
    ) -> Result<(Ticket, TicketMessage)> {
        self.add_message(actor, id, input, at, false).await
    }

    async fn add_message(
        &self,
        actor: &Actor,
        id: TicketId,
        input: MessageInput,
        at: OffsetDateTime,
        send: bool,
    ) -> Result<(Ticket, TicketMessage)> {
        actor.ensure_can_create()?;
        rapport_domain::mail::AttachmentInput::check_all(&input.attachments)?;
        let w = self.begin_write().await?;
        let row = tickets::Entity::find_by_id(id.0).by_key(&*w).await?.ok_or(StorageError::NotFound("ticket"))?;
        let row = visible(actor, row)?;
        let customer = input.kind == MessageKind::Customer;
        let message = NewMessage {
            kind: input.kind,
            body: input.body.to_string(),
            status: input.status,
            author_id: Some(actor.user_id.0),
            person_id: customer.then_some(row.requester_id),
            html: None,
            email_message_id: None,
            from_address: None,
        };
        let (row, message) = append_message(&*w, actor, row, message, at).await?;
        for file in input.attachments {
            crate::mail::insert_attachment(&*w, &message, &file.filename, &file.content_type, file.data).await?;
        }
        if send && message.kind == MessageKind::Reply.as_str() {
            crate::mail::queue_reply(&*w, &row, &message).await?;
        }
        let message = crate::mail::with_mail(&*w, vec![message]).await?.pop().expect("one message in, one out");
        w.commit().await?;
        Ok((ticket_from(row)?, message))
    }

    /// Closes every ticket solved before `solved_before`, each change in
    /// its history as the system's; returns how many.
    pub async fn close_solved_tickets(&self, solved_before: OffsetDateTime) -> Result<u64> {
        let w = self.begin_write().await?;
        let at = now();
        let ids: Vec<Uuid> = tickets::Entity::find()
            .select_only()
            .column(tickets::Column::Id)
            .filter(tickets::Column::Status.eq(TicketStatus::Solved.as_str()))
            .filter(tickets::Column::SolvedAt.lt(solved_before))
            .into_tuple()
            .all(&*w)
            .await?;
        let mut closed = 0;
        for chunk in ids.chunks(500) {
            closed += tickets::Entity::update_many()
                .col_expr(tickets::Column::Status, Expr::value(TicketStatus::Closed.as_str()))
                .col_expr(tickets::Column::ClosedAt, Expr::value(at))
                .col_expr(tickets::Column::UpdatedAt, Expr::value(at))
                .col_expr(tickets::Column::Version, Expr::col(tickets::Column::Version).add(1))
                .filter(tickets::Column::Id.is_in(chunk.iter().copied()))
                .filter(tickets::Column::Status.eq(TicketStatus::Solved.as_str()))
                .exec(&*w)
                .await?
                .rows_affected;
        }
        for id in ids {
            let change = FieldChange {
                field: "status".into(),
                old: TicketStatus::Solved.as_str().into(),
                new: TicketStatus::Closed.as_str().into(),
            };
            history::record(&*w, None, RecordKind::Tickets, id, HistoryAction::Update, vec![change], None).await?;
        }
        w.commit().await?;
        Ok(closed)
    }

    /// A ticket's conversation, oldest first.
    pub async fn ticket_messages(&self, actor: &Actor, id: TicketId) -> Result<Vec<TicketMessage>> {
        let row =
            tickets::Entity::find_by_id(id.0).by_key(self.conn()).await?.ok_or(StorageError::NotFound("ticket"))?;
        visible(actor, row)?;
        let rows = ticket_messages::Entity::find()
            .filter(ticket_messages::Column::TicketId.eq(id.0))
            .order_by_asc(ticket_messages::Column::CreatedAt)
            .order_by_asc(ticket_messages::Column::Id)
            .all(self.conn())
            .await?;
        crate::mail::with_mail(self.conn(), rows).await
    }

    /// The tickets `actor` may see that match the filter.
    pub async fn list_tickets(&self, actor: &Actor, query: &ListQuery, filter: &TicketFilter) -> Result<Page<Ticket>> {
        query.refuse_search_and_tag_filter()?;
        let mut select = tickets::Entity::find();
        if let Some(reach) = reach_condition(actor) {
            select = select.filter(reach);
        }
        let at = now();
        match filter.queue {
            Some(TicketQueue::Mine) => {
                select = select.filter(tickets::Column::AssigneeId.eq(actor.user_id.0)).filter(Expr::cust(ACTIVE_SQL));
            }
            Some(TicketQueue::Team) => {
                let team = actor.team_id.ok_or_else(|| FieldErrors::single("queue", "you are in no team"))?;
                select = select.filter(tickets::Column::TeamId.eq(team.0)).filter(Expr::cust(ACTIVE_SQL));
            }
            Some(TicketQueue::Unassigned) => {
                select = select.filter(tickets::Column::AssigneeId.is_null()).filter(Expr::cust(ACTIVE_SQL));
            }
            Some(queue @ (TicketQueue::DueSoon | TicketQueue::Breached)) => {
                let (from, to) = if queue == TicketQueue::Breached { (None, at) } else { (Some(at), at + DUE_SOON) };
                let due_in = |column: tickets::Column| {
                    let mut window = Condition::all().add(column.lte(to));
                    if let Some(from) = from {
                        window = window.add(column.gt(from));
                    }
                    window
                };
                // First response counts until answered; the others are cleared when met.
                let first = Condition::all()
                    .add(tickets::Column::FirstRespondedAt.is_null())
                    .add(due_in(tickets::Column::FirstResponseDue));
                select = select.filter(Expr::cust(RUNNING_SQL)).filter(
                    Condition::any()
                        .add(first)
                        .add(due_in(tickets::Column::NextResponseDue))
                        .add(due_in(tickets::Column::ResolutionDue)),
                );
            }
            None => {}
        }
        if let Some(status) = filter.status {
            select = select.filter(tickets::Column::Status.eq(status.as_str()));
        }
        if let Some(priority) = filter.priority {
            select = select.filter(tickets::Column::Priority.eq(priority.as_str()));
        }
        if let Some(id) = filter.assignee_id {
            select = select.filter(tickets::Column::AssigneeId.eq(id.0));
        }
        if let Some(id) = filter.team_id {
            select = select.filter(tickets::Column::TeamId.eq(id.0));
        }
        if let Some(id) = filter.requester_id {
            select = select.filter(tickets::Column::RequesterId.eq(id.0));
        }
        if let Some(id) = filter.company_id {
            select = select.filter(tickets::Column::CompanyId.eq(id.0));
        }
        if let Some(since) = query.updated_since {
            select = select.filter(tickets::Column::UpdatedAt.gte(since));
        }
        let select = query.filter_custom(self.conn(), select, EntityType::Ticket, tickets::Column::Id).await?;
        let fields = vec![
            SortField::new("updated_at", Expr::col((tickets::Entity, tickets::Column::UpdatedAt)), SortKind::Time),
            SortField::new("created_at", Expr::col((tickets::Entity, tickets::Column::CreatedAt)), SortKind::Time),
        ];
        let page = query
            .fetch(self, select, tickets::Column::Id, fields, "-updated_at", |t, field| {
                let value = match field {
                    "created_at" => SortValue::Time(t.created_at),
                    _ => SortValue::Time(t.updated_at),
                };
                (value, t.id)
            })
            .await?;
        Ok(Page {
            items: page.items.into_iter().map(ticket_from).collect::<Result<_>>()?,
            next_cursor: page.next_cursor,
        })
    }
}

impl Store {
    /// Moves a ticket, with its conversation, attachments, outgoing mail and
    /// SLA events, to the trash. Who may: agents their own tickets (assigned
    /// to them or opened by them), managers their team's and unassigned ones,
    /// admins any; a ticket the actor may not see is not found.
    pub async fn delete_ticket(&self, actor: &Actor, id: TicketId) -> Result<Uuid> {
        let w = self.begin_write().await?;
        let row = tickets::Entity::find_by_id(id.0).by_key(&*w).await?.ok_or(StorageError::NotFound("ticket"))?;
        let row = visible(actor, row)?;
        actor.ensure_can(Action::Delete, &reach(&row).ownership(row.created_by.map(UserId)))?;
        let removal = Removal { label: row.subject, reason: TrashReason::Deleted, merged_into: None, detail: None };
        let entry = move_to_trash(&*w, actor, RecordKind::Tickets, id.0, removal).await?;
        w.commit().await?;
        Ok(entry)
    }

    /// A ticket's history, newest first, for who may see the ticket: while
    /// it lives or lies in the trash, as it was assigned then; once purged,
    /// for managers and admins only.
    pub async fn ticket_history(&self, actor: &Actor, id: TicketId) -> Result<Vec<HistoryEntry>> {
        let live = tickets::Entity::find_by_id(id.0).by_key(self.conn()).await?;
        let is_live = live.is_some();
        if let Some(row) = live {
            visible(actor, row)?;
        } else if let Some(entry) = trash::Entity::find()
            .filter(trash::Column::RecordType.eq(RecordKind::Tickets.as_str()))
            .filter(trash::Column::RecordId.eq(id.0))
            .one(self.conn())
            .await?
        {
            if !actor.can_see_ticket(crate::trash::trashed_ticket_reach(&entry)?) {
                return Err(StorageError::NotFound("ticket"));
            }
        } else if actor.ensure_can_see_everyone().is_err() {
            return Err(StorageError::NotFound("ticket"));
        }
        let entries = self.history(RecordKind::Tickets, id.0).await?;
        // A live ticket from before history was kept has none yet.
        if entries.is_empty() && !is_live {
            return Err(StorageError::NotFound("ticket"));
        }
        Ok(entries)
    }
}
