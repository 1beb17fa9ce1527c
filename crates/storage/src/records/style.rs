//! What staff members did with customers over a period: the facts their
//! scorecards are computed from (`rapport-insights::scorecards`). Only
//! reads; each query names the columns it needs.

use std::collections::{HashMap, HashSet};

use rapport_domain::records::{ActivityKind, Channel, DealStatus, Direction, LifecycleStage, Preferences, now};
use rapport_domain::sla_events::SlaEventKind;
use rapport_domain::style::{ANSWERED_WITHIN, AnswerFact, DealFact, Facts, TaskFact, TicketFact, TouchFact};
use rapport_domain::surveys::QuestionKind;
use rapport_domain::{PersonId, UserId};
use sea_orm::prelude::*;
use sea_orm::sea_query::ExprTrait;
use sea_orm::{Condition, QuerySelect};
use time::{Duration, OffsetDateTime};

use crate::common::{from_json, parse_with};
use crate::entities::{activities, deals, people, sla_events, survey_answers, tasks, tickets};
use crate::{Result, Store};

/// How far before the period touches are read: an outbound touch within
/// this long of the customer's own inbound one answered it.
const LOOK_BACK: Duration = ANSWERED_WITHIN;

/// A ticket row: assignee, arrival, first reply, solve, pending seconds.
type TicketRow = (Option<Uuid>, OffsetDateTime, Option<OffsetDateTime>, Option<OffsetDateTime>, i64);
/// A touch row: author, person, when, kind, direction.
type TouchRow = (Option<Uuid>, Option<Uuid>, OffsetDateTime, String, String);
/// An answer row: staff member, score kind, score, sentiment.
type AnswerRow = (Option<Uuid>, Option<String>, Option<i32>, Option<f64>);
/// Per owned customer, their owner and whether they churned; per cadence,
/// the owner and whether it held.
type OwnedFacts = (Vec<(UserId, bool)>, Vec<(UserId, bool)>);
/// A deal row: owner, status, created, closed.
type DealRow = (Option<Uuid>, String, OffsetDateTime, Option<OffsetDateTime>);

impl Store {
    /// The facts of every staff member's work in `[from, to)`; see each
    /// figure's definition in `rapport-insights::scorecards` for what counts.
    /// Its reads do not depend on each other, so they run at once (on
    /// SQLite, each on a connection of the pool).
    pub async fn style_facts(&self, from: OffsetDateTime, to: OffsetDateTime) -> Result<Facts<UserId, PersonId>> {
        let (tickets, sla, tasks, touches, (owned, cadences), answers, deals) = tokio::try_join!(
            self.ticket_facts(from, to),
            self.sla_facts(from, to),
            self.task_facts(from, to),
            self.touch_facts(from, to),
            self.owned_facts(to),
            self.answer_facts(from, to),
            self.deal_facts(from, to),
        )?;
        Ok(Facts { tickets, sla, tasks, touches, cadences, answers, deals, owned, from })
    }

    /// Tickets assigned to staff, opened or solved in the period.
    async fn ticket_facts(&self, from: OffsetDateTime, to: OffsetDateTime) -> Result<Vec<TicketFact<UserId>>> {
        let conn = self.conn();
        let rows: Vec<TicketRow> = tickets::Entity::find()
            .select_only()
            .columns([
                tickets::Column::AssigneeId,
                tickets::Column::CreatedAt,
                tickets::Column::FirstRespondedAt,
                tickets::Column::SolvedAt,
                tickets::Column::PendingSeconds,
            ])
            .filter(tickets::Column::AssigneeId.is_not_null())
            .filter(
                Condition::any()
                    .add(tickets::Column::CreatedAt.gte(from).and(tickets::Column::CreatedAt.lt(to)))
                    .add(tickets::Column::SolvedAt.gte(from).and(tickets::Column::SolvedAt.lt(to))),
            )
            .into_tuple()
            .all(conn)
            .await?;
        Ok(rows
            .into_iter()
            .filter_map(|(staff, created_at, first_responded_at, solved_at, pending_seconds)| {
                Some(TicketFact {
                    staff: UserId(staff?),
                    created_at,
                    first_responded_at,
                    // A solve after the period is not this period's.
                    solved_at: solved_at.filter(|at| *at < to),
                    pending_seconds,
                })
            })
            .collect())
    }

    /// Response targets met or breached in the period, per assignee.
    async fn sla_facts(&self, from: OffsetDateTime, to: OffsetDateTime) -> Result<Vec<(UserId, bool)>> {
        let conn = self.conn();
        let rows: Vec<(Option<Uuid>, String)> = sla_events::Entity::find()
            .select_only()
            .columns([sla_events::Column::AssigneeId, sla_events::Column::Kind])
            .filter(sla_events::Column::AssigneeId.is_not_null())
            .filter(sla_events::Column::Kind.is_in([SlaEventKind::Met.as_str(), SlaEventKind::Missed.as_str()]))
            .filter(sla_events::Column::At.gte(from))
            .filter(sla_events::Column::At.lt(to))
            .into_tuple()
            .all(conn)
            .await?;
        Ok(rows
            .into_iter()
            .filter_map(|(staff, kind)| Some((UserId(staff?), kind == SlaEventKind::Met.as_str())))
            .collect())
    }

    /// Tasks that fell due in the period.
    async fn task_facts(&self, from: OffsetDateTime, to: OffsetDateTime) -> Result<Vec<TaskFact<UserId>>> {
        let conn = self.conn();
        let rows: Vec<(Option<Uuid>, Option<OffsetDateTime>, Option<OffsetDateTime>)> = tasks::Entity::find()
            .select_only()
            .columns([tasks::Column::AssigneeId, tasks::Column::DueAt, tasks::Column::DoneAt])
            .filter(tasks::Column::AssigneeId.is_not_null())
            .filter(tasks::Column::DueAt.gte(from))
            .filter(tasks::Column::DueAt.lt(to))
            // An open task not yet due is neither late nor dropped yet.
            .filter(Condition::any().add(tasks::Column::DoneAt.is_not_null()).add(tasks::Column::DueAt.lt(now())))
            .into_tuple()
            .all(conn)
            .await?;
        Ok(rows
            .into_iter()
            .filter_map(|(staff, due_at, done_at)| Some(TaskFact { staff: UserId(staff?), due_at: due_at?, done_at }))
            .collect())
    }

    /// Deals won or lost in the period.
    async fn deal_facts(&self, from: OffsetDateTime, to: OffsetDateTime) -> Result<Vec<DealFact<UserId>>> {
        let conn = self.conn();
        let rows: Vec<DealRow> = deals::Entity::find()
            .select_only()
            .columns([deals::Column::OwnerId, deals::Column::Status, deals::Column::CreatedAt, deals::Column::ClosedAt])
            .filter(deals::Column::OwnerId.is_not_null())
            .filter(deals::Column::Status.ne(DealStatus::Open.as_str()))
            .filter(deals::Column::ClosedAt.gte(from))
            .filter(deals::Column::ClosedAt.lt(to))
            .into_tuple()
            .all(conn)
            .await?;
        Ok(rows
            .into_iter()
            .filter_map(|(staff, status, created_at, closed_at)| {
                Some(DealFact {
                    staff: UserId(staff?),
                    won: status == DealStatus::Won.as_str(),
                    days_open: (closed_at? - created_at).as_seconds_f64() / 86_400.0,
                })
            })
            .collect())
    }

    /// Calls, emails, meetings and messages by staff with a person in the
    /// period and the look-back before it, with the person's preferred channel.
    async fn touch_facts(&self, from: OffsetDateTime, to: OffsetDateTime) -> Result<Vec<TouchFact<UserId, PersonId>>> {
        let conn = self.conn();
        let rows: Vec<TouchRow> = activities::Entity::find()
            .select_only()
            .columns([
                activities::Column::AuthorId,
                activities::Column::PersonId,
                activities::Column::OccurredAt,
                activities::Column::Kind,
                activities::Column::Direction,
            ])
            .filter(activities::Column::AuthorId.is_not_null())
            .filter(activities::Column::PersonId.is_not_null())
            .filter(activities::Column::Kind.ne(ActivityKind::Note.as_str()))
            .filter(activities::Column::OccurredAt.gte(from - LOOK_BACK))
            .filter(activities::Column::OccurredAt.lt(to))
            .into_tuple()
            .all(conn)
            .await?;
        let touched: HashSet<Uuid> = rows.iter().filter_map(|r| r.1).collect();
        let preferred = self.preferred_channels(&touched).await?;
        let mut touches = Vec::with_capacity(rows.len());
        for (staff, person, at, kind, direction) in rows {
            let (Some(staff), Some(person)) = (staff, person) else { continue };
            touches.push(TouchFact {
                staff: UserId(staff),
                customer: PersonId(person),
                at,
                kind: parse_with(&kind, "activity kind", ActivityKind::parse)?,
                direction: parse_with(&direction, "activity direction", Direction::parse)?,
                preferred: preferred.get(&person).copied(),
            });
        }
        Ok(touches)
    }

    /// Each owned customer (leads left out): whether they churned, and, for
    /// those with a keep-in-touch cadence, whether it held at `to`.
    async fn owned_facts(&self, to: OffsetDateTime) -> Result<OwnedFacts> {
        let conn = self.conn();
        let owned: Vec<(Uuid, Option<Uuid>, String, Option<i32>)> = people::Entity::find()
            .select_only()
            .columns([
                people::Column::Id,
                people::Column::OwnerId,
                people::Column::LifecycleStage,
                people::Column::KeepInTouchDays,
            ])
            .filter(people::Column::OwnerId.is_not_null())
            .filter(people::Column::LifecycleStage.ne(LifecycleStage::Lead.as_str()))
            .into_tuple()
            .all(conn)
            .await?;
        // Only the longest cadence's span before the period's end can keep one.
        // (Clamped as people's checks clamp it, so the subtraction cannot overflow.)
        let longest = owned.iter().filter_map(|o| o.3).max().map(|days| days.clamp(1, 3650));
        let last_touch = match longest {
            Some(days) => self.last_touches(to - Duration::days(i64::from(days)), to).await?,
            None => HashMap::new(),
        };
        let (mut churned, mut cadences) = (Vec::with_capacity(owned.len()), Vec::new());
        for (person, owner, stage, cadence) in owned {
            let Some(owner) = owner.map(UserId) else { continue };
            churned.push((owner, stage == LifecycleStage::Churned.as_str()));
            if let Some(days) = cadence {
                let kept = last_touch.get(&person).is_some_and(|at| *at + Duration::days(i64::from(days)) >= to);
                cadences.push((owner, kept));
            }
        }
        Ok((churned, cadences))
    }

    /// Survey answers about staff, given in the period.
    async fn answer_facts(&self, from: OffsetDateTime, to: OffsetDateTime) -> Result<Vec<AnswerFact<UserId>>> {
        let conn = self.conn();
        let rows: Vec<AnswerRow> = survey_answers::Entity::find()
            .select_only()
            .columns([
                survey_answers::Column::StaffId,
                survey_answers::Column::ScoreKind,
                survey_answers::Column::Score,
                survey_answers::Column::Sentiment,
            ])
            .filter(survey_answers::Column::StaffId.is_not_null())
            .filter(survey_answers::Column::AnsweredAt.gte(from))
            .filter(survey_answers::Column::AnsweredAt.lt(to))
            .into_tuple()
            .all(conn)
            .await?;
        let mut answers = Vec::with_capacity(rows.len());
        for (staff, kind, score, sentiment) in rows {
            let Some(staff) = staff else { continue };
            answers.push(AnswerFact {
                staff: UserId(staff),
                kind: kind.map(|k| parse_with(&k, "score kind", QuestionKind::parse)).transpose()?,
                score: score.and_then(|s| u8::try_from(s).ok()),
                sentiment,
            });
        }
        Ok(answers)
    }

    /// The preferred channel of each of these people who has one.
    async fn preferred_channels(&self, people_ids: &HashSet<Uuid>) -> Result<HashMap<Uuid, Channel>> {
        let mut channels = HashMap::new();
        let ids: Vec<Uuid> = people_ids.iter().copied().collect();
        // In slices: a statement takes a bounded number of parameters.
        for chunk in ids.chunks(500) {
            let rows: Vec<(Uuid, Json)> = people::Entity::find()
                .select_only()
                .columns([people::Column::Id, people::Column::Preferences])
                .filter(people::Column::Id.is_in(chunk.iter().copied()))
                .into_tuple()
                .all(self.conn())
                .await?;
            for (id, preferences) in rows {
                let preferences: Preferences = from_json(preferences, "person preferences")?;
                if let Some(channel) = preferences.preferred_channel {
                    channels.insert(id, channel);
                }
            }
        }
        Ok(channels)
    }

    /// Each person's latest call, email, meeting or message in `[since, to)`.
    async fn last_touches(&self, since: OffsetDateTime, to: OffsetDateTime) -> Result<HashMap<Uuid, OffsetDateTime>> {
        let rows: Vec<(Option<Uuid>, Option<OffsetDateTime>)> = activities::Entity::find()
            .select_only()
            .column(activities::Column::PersonId)
            .column_as(activities::Column::OccurredAt.max(), "last")
            .filter(activities::Column::PersonId.is_not_null())
            .filter(activities::Column::Kind.ne(ActivityKind::Note.as_str()))
            .filter(activities::Column::OccurredAt.gte(since))
            .filter(activities::Column::OccurredAt.lt(to))
            .group_by(activities::Column::PersonId)
            .into_tuple()
            .all(self.conn())
            .await?;
        Ok(rows.into_iter().filter_map(|(person, last)| Some((person?, last?))).collect())
    }
}
