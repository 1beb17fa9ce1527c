//! Events of tickets' response targets: outcomes recorded as the reply or
//! solve comes (in its transaction), and warnings and breaches recorded by
//! the `sla.watch` job as due times approach and pass; the warning gives the
//! assignee a task. The SLA report counts the outcomes.

use std::collections::{BTreeMap, HashMap};

use rapport_domain::records::{Links, TaskInput, now};
use rapport_domain::sla_events::{
    MissedTarget, SlaEvent, SlaEventKind, SlaGroup, SlaGrouping, SlaReportRow, SlaTarget,
};
use rapport_domain::text::Name;
use rapport_domain::tickets::{TicketPriority, TicketStatus};
use rapport_domain::{Actor, PersonId, TeamId, TicketId, UserId};
use sea_orm::prelude::*;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ConnectionTrait, QueryOrder, QuerySelect, Set};
use time::{Duration, OffsetDateTime};

use crate::common::{ByKey, parse_with};
use crate::entities::{sla_events, teams, tickets, users};
use crate::records::tickets::visible;
use crate::{Result, StorageError, Store};

/// Records an event once: a second of the same kind for the same target
/// and due time is ignored. Returns whether it was new.
async fn record<C: ConnectionTrait>(
    conn: &C,
    ticket: &tickets::Model,
    target: SlaTarget,
    kind: SlaEventKind,
    due_at: OffsetDateTime,
    at: OffsetDateTime,
) -> Result<bool> {
    let event = sla_events::ActiveModel {
        id: Set(Uuid::now_v7()),
        ticket_id: Set(ticket.id),
        target: Set(target.as_str().to_owned()),
        kind: Set(kind.as_str().to_owned()),
        due_at: Set(due_at),
        at: Set(at),
        assignee_id: Set(ticket.assignee_id),
        team_id: Set(ticket.team_id),
        priority: Set(ticket.priority.clone()),
    };
    let conflict = OnConflict::columns([
        sla_events::Column::TicketId,
        sla_events::Column::Target,
        sla_events::Column::Kind,
        sla_events::Column::DueAt,
    ])
    .do_nothing()
    .to_owned();
    let inserted = sla_events::Entity::insert(event).on_conflict(conflict).exec_without_returning(conn).await?;
    Ok(inserted > 0)
}

/// The outcomes a change decides, from the ticket as it was: the first
/// reply decides the first response, a later reply the awaited next
/// response, solving decides the resolution.
pub(crate) async fn record_outcomes<C: ConnectionTrait>(
    conn: &C,
    before: &tickets::Model,
    reply: bool,
    solved: bool,
    at: OffsetDateTime,
) -> Result<()> {
    let outcome = |due: OffsetDateTime| if at <= due { SlaEventKind::Met } else { SlaEventKind::Missed };
    if reply {
        if before.first_responded_at.is_none() {
            if let Some(due) = before.first_response_due {
                record(conn, before, SlaTarget::FirstResponse, outcome(due), due, at).await?;
            }
        } else if let (Some(due), Some(_)) = (before.next_response_due, before.awaiting_reply_since) {
            record(conn, before, SlaTarget::NextResponse, outcome(due), due, at).await?;
        }
    }
    if solved
        && before.status != TicketStatus::Solved.as_str()
        && let Some(due) = before.resolution_due
    {
        record(conn, before, SlaTarget::Resolution, outcome(due), due, at).await?;
    }
    Ok(())
}

fn event_from(row: sla_events::Model) -> Result<SlaEvent> {
    Ok(SlaEvent {
        ticket_id: TicketId(row.ticket_id),
        target: parse_with(&row.target, "SLA target", SlaTarget::parse)?,
        kind: parse_with(&row.kind, "SLA event", SlaEventKind::parse)?,
        due_at: row.due_at,
        at: row.at,
        assignee_id: row.assignee_id.map(UserId),
        team_id: row.team_id.map(TeamId),
        priority: parse_with(&row.priority, "ticket priority", TicketPriority::parse)?,
    })
}

/// One report group's label, target, and outcomes met and missed.
type Tally = (String, SlaTarget, i64, i64);

/// What one look at the due times found.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct SlaWatch {
    pub warnings: u64,
    pub breaches: u64,
    /// Warning tasks given to assignees.
    pub tasks: u64,
}

/// The targets of an active ticket that still count: (target, due time).
fn open_targets(ticket: &tickets::Model) -> Vec<(SlaTarget, OffsetDateTime)> {
    let mut targets = Vec::new();
    if ticket.first_responded_at.is_none()
        && let Some(due) = ticket.first_response_due
    {
        targets.push((SlaTarget::FirstResponse, due));
    }
    if let Some(due) = ticket.next_response_due.filter(|_| ticket.awaiting_reply_since.is_some()) {
        targets.push((SlaTarget::NextResponse, due));
    }
    if let Some(due) = ticket.resolution_due {
        targets.push((SlaTarget::Resolution, due));
    }
    targets
}

impl Store {
    /// Records the warnings (targets due within `warn_within`) and breaches
    /// (targets passed unmet) of the new and open tickets not recorded yet,
    /// and gives each warned assignee a task due when the target is.
    pub async fn watch_sla(&self, warn_within: Duration) -> Result<SlaWatch> {
        let at = now();
        let horizon = at + warn_within;
        let w = self.begin_write().await?;
        let due_by = |column: tickets::Column| column.lte(horizon);
        let candidates = tickets::Entity::find()
            .filter(tickets::Column::Status.is_in([TicketStatus::New.as_str(), TicketStatus::Open.as_str()]))
            .filter(
                sea_orm::Condition::any()
                    .add(due_by(tickets::Column::FirstResponseDue))
                    .add(due_by(tickets::Column::NextResponseDue))
                    .add(due_by(tickets::Column::ResolutionDue)),
            )
            .all(&*w)
            .await?;
        let mut watch = SlaWatch::default();
        for ticket in candidates {
            for (target, due) in open_targets(&ticket) {
                if due <= at {
                    if record(&*w, &ticket, target, SlaEventKind::Breach, due, at).await? {
                        watch.breaches += 1;
                    }
                } else if due <= horizon && record(&*w, &ticket, target, SlaEventKind::Warning, due, at).await? {
                    watch.warnings += 1;
                    if let Some(assignee) = ticket.assignee_id {
                        let title = format!("{} due: {}", target.label(), ticket.subject);
                        let task = TaskInput {
                            title: Name::try_from(title.chars().take(Name::MAX_CHARS).collect::<String>())
                                .map_err(|e| StorageError::Corrupt(format!("a warning task's title {e}")))?,
                            notes: None,
                            due_at: Some(due),
                            assignee_id: Some(UserId(assignee)),
                            done: false,
                            links: Links { person_id: Some(PersonId(ticket.requester_id)), ..Links::default() },
                        };
                        crate::records::tasks::insert_task(&*w, &Actor::system(), task).await?;
                        watch.tasks += 1;
                    }
                }
            }
        }
        w.commit().await?;
        Ok(watch)
    }

    /// A ticket's target events, oldest first.
    pub async fn sla_events(&self, actor: &Actor, id: TicketId) -> Result<Vec<SlaEvent>> {
        let ticket =
            tickets::Entity::find_by_id(id.0).by_key(self.conn()).await?.ok_or(StorageError::NotFound("ticket"))?;
        visible(actor, ticket)?;
        let rows = sla_events::Entity::find()
            .filter(sla_events::Column::TicketId.eq(id.0))
            .order_by_asc(sla_events::Column::At)
            .order_by_asc(sla_events::Column::Id)
            .all(self.conn())
            .await?;
        rows.into_iter().map(event_from).collect()
    }

    /// The outcomes decided in `[from, to)`, as shares met per group and
    /// target (managers and admins: it covers every agent).
    pub async fn sla_report(
        &self,
        actor: &Actor,
        grouping: SlaGrouping,
        from: OffsetDateTime,
        to: OffsetDateTime,
    ) -> Result<Vec<SlaReportRow>> {
        actor.ensure_can_see_everyone()?;
        let rows = sla_events::Entity::find()
            .filter(sla_events::Column::Kind.is_in([SlaEventKind::Met.as_str(), SlaEventKind::Missed.as_str()]))
            .filter(sla_events::Column::At.gte(from))
            .filter(sla_events::Column::At.lt(to))
            .all(self.conn())
            .await?;
        let names = |rows: Vec<(Uuid, String)>| rows.into_iter().collect::<HashMap<_, _>>();
        let users = names(
            users::Entity::find()
                .select_only()
                .columns([users::Column::Id, users::Column::Name])
                .into_tuple()
                .all(self.conn())
                .await?,
        );
        let teams = names(
            teams::Entity::find()
                .select_only()
                .columns([teams::Column::Id, teams::Column::Name])
                .into_tuple()
                .all(self.conn())
                .await?,
        );
        // (group key, target) → (label, target, met, missed), in a stable order.
        let mut groups: BTreeMap<(Option<String>, &'static str), Tally> = BTreeMap::new();
        for row in rows {
            let event = event_from(row)?;
            let key = event.group_key(grouping);
            let label = match grouping {
                SlaGrouping::Agent => match event.assignee_id {
                    Some(id) => users.get(&id.0).cloned().unwrap_or_else(|| "(removed)".into()),
                    None => "Unassigned".into(),
                },
                SlaGrouping::Team => match event.team_id {
                    Some(id) => teams.get(&id.0).cloned().unwrap_or_else(|| "(removed)".into()),
                    None => "No team".into(),
                },
                SlaGrouping::Priority => event.priority.label().to_owned(),
                SlaGrouping::Month => key.clone().unwrap_or_default(),
            };
            let entry = groups.entry((key, event.target.as_str())).or_insert((label, event.target, 0, 0));
            if event.kind == SlaEventKind::Met {
                entry.2 += 1;
            } else {
                entry.3 += 1;
            }
        }
        Ok(groups
            .into_iter()
            .map(|((key, _), (label, target, met, missed))| SlaReportRow::new(key, label, target, met, missed))
            .collect())
    }

    /// The tickets whose target `target` was missed in `[from, to)` (the
    /// report's "breached tickets one click away"), most recent first; with
    /// `group`, only the misses counted in that row of the report.
    pub async fn missed_tickets(
        &self,
        actor: &Actor,
        target: Option<SlaTarget>,
        group: Option<&SlaGroup>,
        from: OffsetDateTime,
        to: OffsetDateTime,
    ) -> Result<Vec<MissedTarget>> {
        actor.ensure_can_see_everyone()?;
        let mut select = sla_events::Entity::find()
            .filter(sla_events::Column::Kind.eq(SlaEventKind::Missed.as_str()))
            .filter(sla_events::Column::At.gte(from))
            .filter(sla_events::Column::At.lt(to));
        if let Some(target) = target {
            select = select.filter(sla_events::Column::Target.eq(target.as_str()));
        }
        let rows = select.order_by_desc(sla_events::Column::At).all(self.conn()).await?;
        let mut events = rows.into_iter().map(event_from).collect::<Result<Vec<_>>>()?;
        // Grouped as the report groups, so the list matches the figure it explains.
        if let Some(group) = group {
            events.retain(|event| event.group_key(group.grouping) == group.key);
        }
        let ids: Vec<Uuid> = events.iter().map(|event| event.ticket_id.0).collect();
        let subjects: HashMap<Uuid, String> = tickets::Entity::find()
            .select_only()
            .columns([tickets::Column::Id, tickets::Column::Subject])
            .filter(tickets::Column::Id.is_in(ids))
            .into_tuple()
            .all(self.conn())
            .await?
            .into_iter()
            .collect();
        Ok(events
            .into_iter()
            .map(|event| MissedTarget { subject: subjects.get(&event.ticket_id.0).cloned().unwrap_or_default(), event })
            .collect())
    }
}
