//! The timeline of a person or a company: activities, tasks, deals,
//! purchases, survey answers, and the tickets the viewer may see with
//! their messages, newest first.

use std::collections::HashMap;

use rapport_domain::timeline::{TimelineAnswer, TimelineEntry, TimelineMessage};
use rapport_domain::{Actor, CompanyId, PersonId};
use sea_orm::prelude::*;
use sea_orm::sea_query::{Query, SimpleExpr};
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

/// How many of each kind a timeline shows at most.
const PER_KIND: u64 = 200;

/// Which rows of each kind belong on one timeline.
struct Scope {
    activities: SimpleExpr,
    tasks: SimpleExpr,
    deals: SimpleExpr,
    purchases: SimpleExpr,
    tickets: SimpleExpr,
    answers: SimpleExpr,
}

impl Store {
    /// `actor` decides which tickets show: an agent sees the ones they may open.
    pub async fn person_timeline(&self, actor: &Actor, id: PersonId) -> Result<Vec<TimelineEntry>> {
        people::Entity::find_by_id(id.0).one(self.conn()).await?.ok_or(StorageError::NotFound("person"))?;
        self.timeline(
            Scope {
                activities: activities::Column::PersonId.eq(id.0),
                tasks: tasks::Column::PersonId.eq(id.0),
                deals: deals::Column::PersonId.eq(id.0),
                purchases: purchases::Column::PersonId.eq(id.0),
                tickets: tickets::Column::RequesterId.eq(id.0),
                answers: survey_answers::Column::PersonId.eq(id.0),
            },
            actor,
        )
        .await
    }

    /// A company's timeline includes the purchases and tickets of its people.
    pub async fn company_timeline(&self, actor: &Actor, id: CompanyId) -> Result<Vec<TimelineEntry>> {
        companies::Entity::find_by_id(id.0).one(self.conn()).await?.ok_or(StorageError::NotFound("company"))?;
        let its_people = Query::select()
            .column(people::Column::Id)
            .from(people::Entity)
            .and_where(people::Column::CompanyId.eq(id.0))
            .to_owned();
        self.timeline(
            Scope {
                activities: activities::Column::CompanyId.eq(id.0),
                tasks: tasks::Column::CompanyId.eq(id.0),
                deals: deals::Column::CompanyId.eq(id.0),
                purchases: purchases::Column::PersonId.in_subquery(its_people.clone()),
                tickets: tickets::Column::CompanyId.eq(id.0),
                answers: survey_answers::Column::PersonId.in_subquery(its_people),
            },
            actor,
        )
        .await
    }

    async fn timeline(&self, scope: Scope, actor: &Actor) -> Result<Vec<TimelineEntry>> {
        let db = self.conn();
        let mut entries = Vec::new();
        let found = activities::Entity::find()
            .filter(scope.activities)
            .order_by_desc(activities::Column::OccurredAt)
            .limit(PER_KIND)
            .all(db)
            .await?;
        for row in found {
            entries.push(TimelineEntry::Activity(activity_from(row)?));
        }
        let found = tasks::Entity::find()
            .filter(scope.tasks)
            .order_by_desc(tasks::Column::CreatedAt)
            .limit(PER_KIND)
            .all(db)
            .await?;
        for row in found {
            entries.push(TimelineEntry::Task(task_from(row)?));
        }
        let found = deals::Entity::find()
            .filter(scope.deals)
            .order_by_desc(deals::Column::CreatedAt)
            .limit(PER_KIND)
            .all(db)
            .await?;
        for row in found {
            entries.push(TimelineEntry::Deal(deal_from(row)?));
        }
        let found = purchases::Entity::find()
            .filter(scope.purchases)
            .order_by_desc(purchases::Column::OccurredAt)
            .limit(PER_KIND)
            .all(db)
            .await?;
        for row in found {
            entries.push(TimelineEntry::Purchase(purchase_from(row)?));
        }
        let mut its_tickets = Condition::all().add(scope.tickets);
        if let Some(reach) = reach_condition(actor) {
            its_tickets = its_tickets.add(reach);
        }
        let found = tickets::Entity::find()
            .filter(its_tickets)
            .order_by_desc(tickets::Column::CreatedAt)
            .limit(PER_KIND)
            .all(db)
            .await?;
        let subjects: HashMap<Uuid, String> = found.iter().map(|t| (t.id, t.subject.clone())).collect();
        for row in found {
            entries.push(TimelineEntry::Ticket(ticket_from(row)?));
        }
        // Only messages of the tickets listed, so each names its ticket.
        let listed: Vec<Uuid> = subjects.keys().copied().collect();
        let found = ticket_messages::Entity::find()
            .filter(ticket_messages::Column::TicketId.is_in(listed))
            .order_by_desc(ticket_messages::Column::CreatedAt)
            .limit(PER_KIND)
            .all(db)
            .await?;
        for message in with_mail(db, found).await? {
            let ticket_subject = subjects.get(&message.ticket_id.0).cloned().unwrap_or_default();
            entries.push(TimelineEntry::TicketMessage(TimelineMessage { ticket_subject, message }));
        }
        let found = survey_answers::Entity::find()
            .filter(scope.answers)
            .order_by_desc(survey_answers::Column::AnsweredAt)
            .limit(PER_KIND)
            .all(db)
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
        entries.sort_by_key(|e| std::cmp::Reverse((e.at(), e.id())));
        Ok(entries)
    }
}
