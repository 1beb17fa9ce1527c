//! The timeline of a person or a company: activities, tasks, deals,
//! purchases, survey answers, and the tickets the viewer may see with
//! their messages, newest first.

use crate::common::ByKey;
use std::collections::HashMap;

use rapport_domain::records::normalize_timestamp;
use rapport_domain::timeline::{TimelineAnswer, TimelineCursor, TimelineEntry, TimelineKind, TimelineMessage};
use rapport_domain::{Actor, CompanyId, FieldErrors, PersonId};
use sea_orm::prelude::*;
use sea_orm::sea_query::{ExprTrait, Func, IntoCondition, Query, SimpleExpr};
use sea_orm::{Condition, QueryOrder, QuerySelect};

use super::activities::activity_from;
use super::answers::answer_from;
use super::deals::deal_from;
use super::purchases::purchase_from;
use super::tasks::task_from;
use super::tickets::{reach_condition, ticket_from};
use crate::entities::{
    activities, companies, deals, people, purchases, survey_answers, surveys, tasks, ticket_messages, tickets,
};
use crate::mail::with_mail;
use crate::{Result, StorageError, Store};

/// How many of each kind the whole timeline (the API's) shows at most.
const PER_KIND: u64 = 200;

/// The most entries one page of a timeline takes.
pub const MAX_TIMELINE_PAGE: u64 = 200;

/// One page of a timeline, newest first.
#[derive(Clone, Debug)]
pub struct TimelinePage {
    pub entries: Vec<TimelineEntry>,
    /// Where the next (older) page starts, when there is one.
    pub next: Option<TimelineCursor>,
}

/// Which page of a timeline: of which kind (every kind when `None`),
/// starting after which entry, how many.
#[derive(Clone, Copy, Debug)]
pub struct TimelineQuery {
    pub kind: Option<TimelineKind>,
    pub before: Option<TimelineCursor>,
    pub limit: u64,
}

/// Which rows of each kind belong on one timeline.
struct Scope {
    activities: SimpleExpr,
    tasks: SimpleExpr,
    deals: SimpleExpr,
    purchases: SimpleExpr,
    tickets: SimpleExpr,
    answers: SimpleExpr,
}

impl Scope {
    fn person(id: PersonId) -> Self {
        Scope {
            activities: activities::Column::PersonId.eq(id.0),
            tasks: tasks::Column::PersonId.eq(id.0),
            deals: deals::Column::PersonId.eq(id.0),
            purchases: purchases::Column::PersonId.eq(id.0),
            tickets: tickets::Column::RequesterId.eq(id.0),
            answers: survey_answers::Column::PersonId.eq(id.0),
        }
    }

    /// A company's timeline includes the purchases, tickets and answers of its people.
    fn company(id: CompanyId) -> Self {
        let its_people = Query::select()
            .column(people::Column::Id)
            .from(people::Entity)
            .and_where(people::Column::CompanyId.eq(id.0))
            .to_owned();
        Scope {
            activities: activities::Column::CompanyId.eq(id.0),
            tasks: tasks::Column::CompanyId.eq(id.0),
            deals: deals::Column::CompanyId.eq(id.0),
            purchases: purchases::Column::PersonId.in_subquery(its_people.clone()),
            tickets: tickets::Column::CompanyId.eq(id.0),
            answers: survey_answers::Column::PersonId.in_subquery(its_people),
        }
    }
}

/// Entries older than the cursor, in the order `TimelineEntry::at` and `id` sort them.
fn before(key: SimpleExpr, id: SimpleExpr, cursor: Option<TimelineCursor>) -> Condition {
    match cursor {
        None => Condition::all(),
        Some(cursor) => {
            let at = sea_orm::Value::from(normalize_timestamp(cursor.at));
            Condition::any().add(key.clone().lt(at.clone())).add(key.eq(at).and(id.lt(cursor.id)))
        }
    }
}

/// The newest `limit` rows of one kind matching `scope`, older than `after`,
/// by `key` (the entry's time, as `TimelineEntry::at`) and then id.
async fn newest<E: EntityTrait, C: ConnectionTrait>(
    db: &C,
    scope: impl IntoCondition,
    key: SimpleExpr,
    id: E::Column,
    after: Option<TimelineCursor>,
    limit: u64,
) -> Result<Vec<E::Model>> {
    let id = Expr::col((E::default(), id));
    Ok(E::find()
        .filter(scope)
        .filter(before(key.clone(), id.clone(), after))
        .order_by_desc(key)
        .order_by_desc(id)
        .limit(limit)
        .all(db)
        .await?)
}

impl Store {
    /// `actor` decides which tickets show: an agent sees the ones they may open.
    /// Up to 200 entries of each kind.
    pub async fn person_timeline(&self, actor: &Actor, id: PersonId) -> Result<Vec<TimelineEntry>> {
        people::Entity::find_by_id(id.0).by_key(self.conn()).await?.ok_or(StorageError::NotFound("person"))?;
        self.timeline(Scope::person(id), actor, None, None, PER_KIND).await
    }

    /// A company's timeline includes the purchases and tickets of its people.
    pub async fn company_timeline(&self, actor: &Actor, id: CompanyId) -> Result<Vec<TimelineEntry>> {
        companies::Entity::find_by_id(id.0).by_key(self.conn()).await?.ok_or(StorageError::NotFound("company"))?;
        self.timeline(Scope::company(id), actor, None, None, PER_KIND).await
    }

    /// One page of a person's timeline, of one kind or all.
    pub async fn person_timeline_page(
        &self,
        actor: &Actor,
        id: PersonId,
        query: &TimelineQuery,
    ) -> Result<TimelinePage> {
        people::Entity::find_by_id(id.0).by_key(self.conn()).await?.ok_or(StorageError::NotFound("person"))?;
        self.timeline_page(Scope::person(id), actor, query).await
    }

    /// One page of a company's timeline, of one kind or all.
    pub async fn company_timeline_page(
        &self,
        actor: &Actor,
        id: CompanyId,
        query: &TimelineQuery,
    ) -> Result<TimelinePage> {
        companies::Entity::find_by_id(id.0).by_key(self.conn()).await?.ok_or(StorageError::NotFound("company"))?;
        self.timeline_page(Scope::company(id), actor, query).await
    }

    async fn timeline_page(&self, scope: Scope, actor: &Actor, query: &TimelineQuery) -> Result<TimelinePage> {
        if !(1..=MAX_TIMELINE_PAGE).contains(&query.limit) {
            return Err(FieldErrors::single("limit", "must be between 1 and 200").into());
        }
        // One more than the page of each kind: whether an older page exists.
        let mut entries = self.timeline(scope, actor, query.kind, query.before, query.limit + 1).await?;
        let next = if entries.len() as u64 > query.limit {
            entries.truncate(query.limit as usize);
            entries.last().map(TimelineEntry::cursor)
        } else {
            None
        };
        Ok(TimelinePage { entries, next })
    }

    /// The newest `per_kind` entries of each kind shown (older than `after`), merged newest first.
    async fn timeline(
        &self,
        scope: Scope,
        actor: &Actor,
        kind: Option<TimelineKind>,
        after: Option<TimelineCursor>,
        per_kind: u64,
    ) -> Result<Vec<TimelineEntry>> {
        let db = self.conn();
        let shows = |k: TimelineKind| kind.is_none_or(|only| only == k);
        let mut entries = Vec::new();
        if shows(TimelineKind::Conversations) {
            let key = Expr::col((activities::Entity, activities::Column::OccurredAt));
            let found =
                newest::<activities::Entity, _>(db, scope.activities, key, activities::Column::Id, after, per_kind)
                    .await?;
            for row in found {
                entries.push(TimelineEntry::Activity(activity_from(row)?));
            }
        }
        if shows(TimelineKind::Tasks) {
            // As `TimelineEntry::at`: done, else due, else created.
            let key: SimpleExpr = Func::coalesce([
                Expr::col((tasks::Entity, tasks::Column::DoneAt)),
                Expr::col((tasks::Entity, tasks::Column::DueAt)),
                Expr::col((tasks::Entity, tasks::Column::CreatedAt)),
            ])
            .into();
            let found = newest::<tasks::Entity, _>(db, scope.tasks, key, tasks::Column::Id, after, per_kind).await?;
            for row in found {
                entries.push(TimelineEntry::Task(task_from(row)?));
            }
        }
        if shows(TimelineKind::Deals) {
            // As `TimelineEntry::at`: closed, else created.
            let key: SimpleExpr = Func::coalesce([
                Expr::col((deals::Entity, deals::Column::ClosedAt)),
                Expr::col((deals::Entity, deals::Column::CreatedAt)),
            ])
            .into();
            let found = newest::<deals::Entity, _>(db, scope.deals, key, deals::Column::Id, after, per_kind).await?;
            for row in found {
                entries.push(TimelineEntry::Deal(deal_from(row)?));
            }
        }
        if shows(TimelineKind::Purchases) {
            let key = Expr::col((purchases::Entity, purchases::Column::OccurredAt));
            let found =
                newest::<purchases::Entity, _>(db, scope.purchases, key, purchases::Column::Id, after, per_kind)
                    .await?;
            for row in found {
                entries.push(TimelineEntry::Purchase(purchase_from(row)?));
            }
        }
        if shows(TimelineKind::Tickets) {
            let mut its_tickets = Condition::all().add(scope.tickets);
            if let Some(reach) = reach_condition(actor) {
                its_tickets = its_tickets.add(reach);
            }
            let key = Expr::col((tickets::Entity, tickets::Column::CreatedAt));
            let found =
                newest::<tickets::Entity, _>(db, its_tickets.clone(), key, tickets::Column::Id, after, per_kind)
                    .await?;
            for row in found {
                entries.push(TimelineEntry::Ticket(ticket_from(row)?));
            }
            // The messages of every ticket the viewer may see on this timeline.
            let visible = Query::select()
                .column((tickets::Entity, tickets::Column::Id))
                .from(tickets::Entity)
                .cond_where(its_tickets)
                .to_owned();
            let key = Expr::col((ticket_messages::Entity, ticket_messages::Column::CreatedAt));
            let found = newest::<ticket_messages::Entity, _>(
                db,
                ticket_messages::Column::TicketId.in_subquery(visible),
                key,
                ticket_messages::Column::Id,
                after,
                per_kind,
            )
            .await?;
            // Each message names its ticket and whose ticket it is.
            let ticket_ids: Vec<Uuid> = found.iter().map(|m| m.ticket_id).collect();
            let their_tickets: HashMap<Uuid, (String, Uuid)> = tickets::Entity::find()
                .filter(tickets::Column::Id.is_in(ticket_ids))
                .all(db)
                .await?
                .into_iter()
                .map(|t| (t.id, (t.subject, t.requester_id)))
                .collect();
            for message in with_mail(db, found).await? {
                let Some((ticket_subject, requester)) = their_tickets.get(&message.ticket_id.0).cloned() else {
                    continue;
                };
                entries.push(TimelineEntry::TicketMessage(TimelineMessage {
                    ticket_subject,
                    ticket_requester_id: PersonId(requester),
                    message,
                }));
            }
        }
        if shows(TimelineKind::Feedback) {
            let key = Expr::col((survey_answers::Entity, survey_answers::Column::AnsweredAt));
            let found = newest::<survey_answers::Entity, _>(
                db,
                scope.answers,
                key,
                survey_answers::Column::Id,
                after,
                per_kind,
            )
            .await?;
            let survey_ids: Vec<Uuid> = found.iter().map(|a| a.survey_id).collect();
            let names: HashMap<Uuid, String> = surveys::Entity::find()
                .filter(surveys::Column::Id.is_in(survey_ids))
                .all(db)
                .await?
                .into_iter()
                .map(|s| (s.id, s.name))
                .collect();
            for row in found {
                let survey_name = names.get(&row.survey_id).cloned().unwrap_or_default();
                entries.push(TimelineEntry::SurveyAnswer(TimelineAnswer { survey_name, answer: answer_from(row)? }));
            }
        }
        entries.sort_by_key(|e| std::cmp::Reverse((e.at(), e.id())));
        Ok(entries)
    }
}
