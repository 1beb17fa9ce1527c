//! Survey answers: given on a personal link, recorded by staff (a phone
//! call), or imported. Each answer's comment is scored for sentiment and
//! its key phrases kept, on save; an unhappy score opens a follow-up task
//! for the customer's owner in the same transaction.

use std::collections::{BTreeMap, HashMap};

use rapport_domain::records::{Links, Preferences, TaskInput, now};
use rapport_domain::surveys::{
    Answer, AnswerSource, AnswerSubject, CheckedAnswer, EDIT_WINDOW, NpsGroup, QuestionKind, Survey,
};
use rapport_domain::text::{LongText, Name};
use rapport_domain::{Actor, AnswerId, DealId, PersonId, SurveyId, SurveySendId, TaskId, TicketId, UserId};
use rapport_text::{CommentAnalysis, Language, pipeline};
use sea_orm::prelude::*;
use sea_orm::{ActiveModelTrait, Condition, QueryOrder, QuerySelect, QueryTrait, Set};
use time::OffsetDateTime;

use crate::auth::digest;
use crate::common::*;
use crate::entities::{customer_insight_rows, people, survey_answers, survey_sends, surveys, tasks, teams, users};
use crate::records::customer_insights::in_current_generation;
use crate::records::surveys::survey_from;
use crate::records::tasks::insert_task;
use crate::{Result, StorageError, Store};

/// What a personal link opens.
#[derive(Debug)]
pub enum LinkState {
    /// The survey to answer, with the answer already given when the
    /// customer comes back within the edit window.
    Open {
        survey: Box<Survey>,
        send: SurveySendId,
        answer: Option<Box<Answer>>,
    },
    Expired,
    /// Answered, and the edit window has closed.
    Used,
    Unknown,
}

/// Which answers a list or summary covers.
#[derive(Clone, Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AnswerFilter {
    pub survey_id: Option<SurveyId>,
    pub person_id: Option<PersonId>,
    pub staff_id: Option<UserId>,
    /// Answered on or after this instant.
    #[serde(default, with = "rapport_domain::time_input::option")]
    #[param(value_type = Option<String>)]
    pub from: Option<OffsetDateTime>,
    /// Answered before this instant.
    #[serde(default, with = "rapport_domain::time_input::option")]
    #[param(value_type = Option<String>)]
    pub to: Option<OffsetDateTime>,
    /// Only answers whose NPS falls in this group.
    pub nps_group: Option<NpsGroup>,
}

/// An answer recorded by staff or imported.
#[derive(Clone, Debug)]
pub struct RecordedAnswer {
    pub survey_id: SurveyId,
    pub person_id: PersonId,
    pub subject: AnswerSubject,
    pub given: BTreeMap<String, Vec<String>>,
    pub answered_at: Option<OffsetDateTime>,
    pub source: AnswerSource,
    /// The answer's id in the system it came from: an import finds it again by it.
    pub external_id: Option<Name>,
}

/// A detractor's follow-up: when they answered and when the task was done.
#[derive(Clone, Copy, Debug)]
pub struct FollowUpRow {
    pub answered_at: OffsetDateTime,
    pub done_at: Option<OffsetDateTime>,
}

/// An answer's facts for the summaries: who, when, and the headline score.
#[derive(Clone, Debug)]
pub struct FeedbackRow {
    pub survey_id: SurveyId,
    pub person_id: PersonId,
    pub staff_id: Option<UserId>,
    pub score_kind: Option<QuestionKind>,
    pub score: Option<u8>,
    pub sentiment: Option<f64>,
    pub phrases: Vec<String>,
    pub answered_at: OffsetDateTime,
}

pub(crate) fn answer_from(row: survey_answers::Model) -> Result<Answer> {
    Ok(Answer {
        id: AnswerId(row.id),
        survey_id: SurveyId(row.survey_id),
        send_id: row.send_id.map(SurveySendId),
        person_id: PersonId(row.person_id),
        subject: AnswerSubject {
            ticket_id: row.ticket_id.map(TicketId),
            deal_id: row.deal_id.map(DealId),
            staff_id: row.staff_id.map(UserId),
        },
        source: parse_with(&row.source, "answer source", AnswerSource::parse)?,
        score_kind: row.score_kind.as_deref().map(|k| parse_with(k, "score kind", QuestionKind::parse)).transpose()?,
        score: row.score.map(|s| s as u8),
        responses: from_json(row.responses, "responses")?,
        comment: row.comment,
        sentiment: row.sentiment,
        sentiment_label: row.sentiment_label,
        phrases: from_json(row.phrases, "phrases")?,
        external_id: parse_opt(row.external_id, "external id")?,
        follow_up_task_id: row.follow_up_task_id.map(TaskId),
        answered_at: row.answered_at,
        updated_at: row.updated_at,
    })
}

/// The comment's sentiment and key phrases. Worked out before the write
/// transaction and off the async threads: the text pipeline is the slowest
/// step of taking an answer, and SQLite has one writer.
pub(crate) async fn analyse(checked: &CheckedAnswer) -> Result<Option<CommentAnalysis>> {
    let Some(comment) = checked.comment.clone() else { return Ok(None) };
    tokio::task::spawn_blocking(move || pipeline(Language::English).analyse(&comment))
        .await
        .map(Some)
        .map_err(|e| StorageError::Config(format!("the comment's text analysis failed: {e}")))
}

/// Writes what was answered, with the comment's sentiment and phrases.
fn fill(active: &mut survey_answers::ActiveModel, checked: &CheckedAnswer, analysis: Option<CommentAnalysis>) {
    active.score_kind = Set(checked.headline.map(|(kind, _)| kind.as_str().to_owned()));
    active.score = Set(checked.headline.map(|(_, score)| i32::from(score)));
    active.responses = Set(to_json(&checked.responses));
    active.comment = Set(checked.comment.clone());
    active.sentiment = Set(analysis.as_ref().map(|a| a.sentiment.compound));
    active.sentiment_label = Set(analysis.as_ref().map(|a| a.sentiment.label.as_str().to_owned()));
    active.phrases = Set(to_json(&analysis.map(|a| a.phrases).unwrap_or_default()));
}

/// Opens a follow-up task for an unhappy answer that has none yet: for the
/// customer's owner, else the staff member it is about, else whoever made
/// the survey. Called before the answer is written, so it is written once
/// with its task.
async fn follow_up<C: ConnectionTrait>(
    conn: &C,
    survey: &Survey,
    answer: &survey_answers::ActiveModel,
    checked: &CheckedAnswer,
) -> Result<Option<Uuid>> {
    let existing = answer.follow_up_task_id.clone().unwrap();
    let unhappy = checked.headline.is_some_and(|(kind, score)| kind.is_detractor(score));
    if !unhappy || existing.is_some() {
        return Ok(existing);
    }
    let person_id = answer.person_id.clone().unwrap();
    let staff_id = answer.staff_id.clone().unwrap();
    let deal_id = answer.deal_id.clone().unwrap();
    let person = people::Entity::find_by_id(person_id).by_key(conn).await?.ok_or(StorageError::NotFound("person"))?;
    // The owner first, then whom the answer is about, then the survey's author:
    // the first still active, else the task waits unassigned for a manager.
    let candidates: Vec<Uuid> =
        [person.owner_id, staff_id, survey.meta.created_by.map(|u| u.0)].into_iter().flatten().collect();
    let active: Vec<Uuid> = users::Entity::find()
        .select_only()
        .column(users::Column::Id)
        .filter(users::Column::Id.is_in(candidates.clone()))
        .filter(users::Column::Active.eq(true))
        .into_tuple()
        .all(conn)
        .await?;
    let assignee = candidates.into_iter().find(|c| active.contains(c));
    let (kind, score) = checked.headline.expect("unhappy answers have a score");
    let mut notes = format!("{} answered \"{}\": {} {score}.", person.first_name, survey.fields.name, kind.as_str());
    if let Some(comment) = &checked.comment {
        notes.push_str(&format!("\n\nThey wrote:\n{comment}"));
    }
    let title = format!("Follow up: {} gave {} {score}", person.first_name, kind.as_str().to_uppercase());
    let input = TaskInput {
        title: Name::try_from(title.chars().take(Name::MAX_CHARS).collect::<String>())
            .map_err(StorageError::Corrupt)?,
        notes: Some(
            LongText::try_from(notes.chars().take(LongText::MAX_CHARS).collect::<String>())
                .map_err(StorageError::Corrupt)?,
        ),
        due_at: Some(now() + time::Duration::days(rapport_domain::surveys::FOLLOW_UP_DAYS)),
        assignee_id: assignee.map(UserId),
        done: false,
        links: Links { person_id: Some(PersonId(person_id)), company_id: None, deal_id: deal_id.map(DealId) },
    };
    let task = insert_task(conn, &Actor::system(), input).await?;
    Ok(Some(task.id.0))
}

/// The answer holding this external id.
pub(crate) async fn answer_by_external_id<C: ConnectionTrait>(
    conn: &C,
    external: &Name,
) -> Result<Option<survey_answers::Model>> {
    Ok(survey_answers::Entity::find()
        .filter(survey_answers::Column::ExternalId.eq(external.as_str()))
        .one(conn)
        .await?)
}

/// Records an answer given another way (`Store::record_answer`, an import)
/// on `conn`, a write transaction the caller commits: upserted by its
/// external id, with the comment's sentiment and key phrases, and a
/// follow-up task for a detractor. `checked` is `input.given` checked
/// against `survey`.
pub(crate) async fn record_answer_in<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    survey: &Survey,
    checked: &CheckedAnswer,
    analysis: Option<CommentAnalysis>,
    input: RecordedAnswer,
) -> Result<survey_answers::Model> {
    actor.ensure_can_create()?;
    must_exist::<people::Entity, _>(conn, input.person_id.0, "person_id", "person").await?;
    let at = now();
    let answered_at = input.answered_at.map(normalize).unwrap_or(at);
    let existing = match &input.external_id {
        Some(external) => answer_by_external_id(conn, external).await?,
        None => None,
    };
    let is_new = existing.is_none();
    let mut active = match existing {
        Some(row) => row.into(),
        None => survey_answers::ActiveModel {
            id: Set(AnswerId::new().0),
            send_id: Set(None),
            follow_up_task_id: Set(None),
            external_id: Set(input.external_id.as_ref().map(|e| e.to_string())),
            ..Default::default()
        },
    };
    active.survey_id = Set(survey.id.0);
    active.person_id = Set(input.person_id.0);
    active.ticket_id = Set(input.subject.ticket_id.map(|t| t.0));
    active.deal_id = Set(input.subject.deal_id.map(|d| d.0));
    active.staff_id = Set(input.subject.staff_id.map(|u| u.0));
    active.source = Set(input.source.as_str().to_owned());
    active.recorded_by = Set(Some(actor.user_id.0));
    active.answered_at = Set(answered_at);
    active.updated_at = Set(at);
    fill(&mut active, checked, analysis);
    active.follow_up_task_id = Set(follow_up(conn, survey, &active, checked).await?);
    Ok(if is_new { active.insert(conn).await? } else { active.update(conn).await? })
}

impl Store {
    /// What the personal link with this token opens.
    pub async fn open_survey_link(&self, token: &str) -> Result<LinkState> {
        let Some(send) = survey_sends::Entity::find()
            .filter(survey_sends::Column::TokenHash.eq(digest(token)))
            .one(self.conn())
            .await?
        else {
            return Ok(LinkState::Unknown);
        };
        let at = now();
        if let Some(answered) = send.answered_at {
            if at > answered + EDIT_WINDOW {
                return Ok(LinkState::Used);
            }
        } else if send.expires_at <= at {
            return Ok(LinkState::Expired);
        }
        let survey = survey_from(
            surveys::Entity::find_by_id(send.survey_id)
                .by_key(self.conn())
                .await?
                .ok_or(StorageError::NotFound("survey"))?,
        )?;
        let answer = survey_answers::Entity::find()
            .filter(survey_answers::Column::SendId.eq(send.id))
            .one(self.conn())
            .await?
            .map(answer_from)
            .transpose()?;
        Ok(LinkState::Open { survey: Box::new(survey), send: SurveySendId(send.id), answer: answer.map(Box::new) })
    }

    /// Takes the answer given on a personal link (or changes it within the
    /// edit window). `None` when the link does not open (any more).
    pub async fn answer_survey_link(
        &self,
        token: &str,
        given: &BTreeMap<String, Vec<String>>,
    ) -> Result<Option<(Survey, Answer)>> {
        let LinkState::Open { survey, send, .. } = self.open_survey_link(token).await? else { return Ok(None) };
        let checked = survey.fields.check_answer(given)?;
        let analysis = analyse(&checked).await?;
        let w = self.begin_write().await?;
        let send = survey_sends::Entity::find_by_id(send.0).by_key(&*w).await?.ok_or(StorageError::NotFound("link"))?;
        let at = now();
        let existing =
            survey_answers::Entity::find().filter(survey_answers::Column::SendId.eq(send.id)).one(&*w).await?;
        let is_new = existing.is_none();
        let mut active = match existing {
            Some(row) => {
                let mut active: survey_answers::ActiveModel = row.into();
                active.updated_at = Set(at);
                active
            }
            None => survey_answers::ActiveModel {
                id: Set(AnswerId::new().0),
                survey_id: Set(send.survey_id),
                send_id: Set(Some(send.id)),
                person_id: Set(send.person_id),
                ticket_id: Set(send.ticket_id),
                deal_id: Set(send.deal_id),
                staff_id: Set(send.staff_id),
                source: Set(AnswerSource::Link.as_str().to_owned()),
                external_id: Set(None),
                follow_up_task_id: Set(None),
                recorded_by: Set(None),
                answered_at: Set(at),
                updated_at: Set(at),
                ..Default::default()
            },
        };
        fill(&mut active, &checked, analysis);
        active.follow_up_task_id = Set(follow_up(&*w, &survey, &active, &checked).await?);
        // `save` would update a new row too, since its id is set: insert it.
        let row = if is_new { active.insert(&*w).await? } else { active.update(&*w).await? };
        if send.answered_at.is_none() {
            let mut answered: survey_sends::ActiveModel = send.into();
            answered.answered_at = Set(Some(at));
            answered.update(&*w).await?;
        }
        w.commit().await?;
        Ok(Some((*survey, answer_from(row)?)))
    }

    /// The unsubscribe on a personal link: the customer is not contacted
    /// again. True when the link was known.
    pub async fn unsubscribe_survey_link(&self, token: &str) -> Result<bool> {
        let w = self.begin_write().await?;
        let Some(send) =
            survey_sends::Entity::find().filter(survey_sends::Column::TokenHash.eq(digest(token))).one(&*w).await?
        else {
            return Ok(false);
        };
        let person =
            people::Entity::find_by_id(send.person_id).by_key(&*w).await?.ok_or(StorageError::NotFound("person"))?;
        let mut preferences: Preferences = from_json(person.preferences.clone(), "preferences")?;
        if !preferences.do_not_contact {
            preferences.do_not_contact = true;
            let version = person.version;
            let mut active: people::ActiveModel = person.into();
            active.preferences = Set(to_json(&preferences));
            active.version = Set(version + 1);
            active.updated_at = Set(now());
            active.update(&*w).await?;
        }
        w.commit().await?;
        Ok(true)
    }

    /// An answer given another way: by phone to a staff member, or from an
    /// import (upserted by its external id).
    pub async fn record_answer(&self, actor: &Actor, input: RecordedAnswer) -> Result<Answer> {
        actor.ensure_can_create()?;
        let survey = self.get_survey(input.survey_id).await?;
        let checked = survey.fields.check_answer(&input.given)?;
        let analysis = analyse(&checked).await?;
        let w = self.begin_write().await?;
        let row = record_answer_in(&*w, actor, &survey, &checked, analysis, input).await?;
        w.commit().await?;
        answer_from(row)
    }

    pub async fn get_answer(&self, id: AnswerId) -> Result<Answer> {
        let row = survey_answers::Entity::find_by_id(id.0)
            .by_key(self.conn())
            .await?
            .ok_or(StorageError::NotFound("answer"))?;
        answer_from(row)
    }

    /// Answers, newest first, at most `limit`.
    pub async fn list_answers(&self, filter: &AnswerFilter, limit: u64) -> Result<Vec<Answer>> {
        survey_answers::Entity::find()
            .filter(condition(filter))
            .order_by_desc(survey_answers::Column::AnsweredAt)
            .order_by_desc(survey_answers::Column::Id)
            .limit(limit)
            .all(self.conn())
            .await?
            .into_iter()
            .map(answer_from)
            .collect()
    }

    /// The follow-up tasks the filter's unhappy answers opened: when each
    /// customer answered, and when their task was done (if it was).
    pub async fn follow_up_rows(&self, filter: &AnswerFilter) -> Result<Vec<FollowUpRow>> {
        let opened: Vec<(Uuid, OffsetDateTime)> = survey_answers::Entity::find()
            .select_only()
            .column(survey_answers::Column::FollowUpTaskId)
            .column(survey_answers::Column::AnsweredAt)
            .filter(condition(filter))
            .filter(survey_answers::Column::FollowUpTaskId.is_not_null())
            .into_tuple()
            .all(self.conn())
            .await?;
        let mut done: HashMap<Uuid, Option<OffsetDateTime>> = HashMap::new();
        for chunk in opened.chunks(500) {
            let ids: Vec<Uuid> = chunk.iter().map(|(task, _)| *task).collect();
            let rows: Vec<(Uuid, Option<OffsetDateTime>)> = tasks::Entity::find()
                .select_only()
                .column(tasks::Column::Id)
                .column(tasks::Column::DoneAt)
                .filter(tasks::Column::Id.is_in(ids))
                .into_tuple()
                .all(self.conn())
                .await?;
            done.extend(rows);
        }
        // A task deleted since counts as never done.
        Ok(opened
            .into_iter()
            .map(|(task, answered_at)| FollowUpRow { answered_at, done_at: done.get(&task).copied().flatten() })
            .collect())
    }

    /// The facts of every answer the filter covers, for summaries and themes.
    pub async fn feedback_rows(&self, filter: &AnswerFilter) -> Result<Vec<FeedbackRow>> {
        type Row = (Uuid, Uuid, Option<Uuid>, Option<String>, Option<i32>, Option<f64>, Json, OffsetDateTime);
        let rows: Vec<Row> = survey_answers::Entity::find()
            .select_only()
            .column(survey_answers::Column::SurveyId)
            .column(survey_answers::Column::PersonId)
            .column(survey_answers::Column::StaffId)
            .column(survey_answers::Column::ScoreKind)
            .column(survey_answers::Column::Score)
            .column(survey_answers::Column::Sentiment)
            .column(survey_answers::Column::Phrases)
            .column(survey_answers::Column::AnsweredAt)
            .filter(condition(filter))
            .into_tuple()
            .all(self.conn())
            .await?;
        rows.into_iter()
            .map(|(survey, person, staff, kind, score, sentiment, phrases, answered_at)| {
                Ok(FeedbackRow {
                    survey_id: SurveyId(survey),
                    person_id: PersonId(person),
                    staff_id: staff.map(UserId),
                    score_kind: kind
                        .as_deref()
                        .map(|k| parse_with(k, "score kind", QuestionKind::parse))
                        .transpose()?,
                    score: score.map(|s| s as u8),
                    sentiment,
                    phrases: from_json(phrases, "phrases")?,
                    answered_at,
                })
            })
            .collect()
    }

    /// How many links were sent in a period (of one survey), for the response rate.
    pub async fn sends_count(
        &self,
        survey: Option<SurveyId>,
        from: Option<OffsetDateTime>,
        to: Option<OffsetDateTime>,
    ) -> Result<(u64, u64)> {
        let mut select = survey_sends::Entity::find();
        if let Some(survey) = survey {
            select = select.filter(survey_sends::Column::SurveyId.eq(survey.0));
        }
        if let Some(from) = from {
            select = select.filter(survey_sends::Column::SentAt.gte(from));
        }
        if let Some(to) = to {
            select = select.filter(survey_sends::Column::SentAt.lt(to));
        }
        let sent = select.clone().count(self.conn()).await?;
        let answered = select.filter(survey_sends::Column::AnsweredAt.is_not_null()).count(self.conn()).await?;
        Ok((sent, answered))
    }
}

/// What the summaries group answers by, besides time and survey.
#[derive(Clone, Debug, Default)]
pub struct FeedbackGroups {
    /// Each staff member's name and team's name.
    pub staff: HashMap<UserId, (String, Option<String>)>,
    /// Each answering customer's lifecycle stage and RFM segment.
    pub people: HashMap<PersonId, (String, Option<String>)>,
}

impl Store {
    /// The names and groups the answers' people and staff fall in.
    pub async fn feedback_groups(&self) -> Result<FeedbackGroups> {
        let teams: HashMap<Uuid, String> =
            teams::Entity::find().all(self.conn()).await?.into_iter().map(|t| (t.id, t.name)).collect();
        let staff = users::Entity::find()
            .all(self.conn())
            .await?
            .into_iter()
            .map(|u| (UserId(u.id), (u.name, u.team_id.and_then(|t| teams.get(&t).cloned()))))
            .collect();
        let answering =
            survey_answers::Entity::find().select_only().column(survey_answers::Column::PersonId).into_query();
        let stages: Vec<(Uuid, String)> = people::Entity::find()
            .select_only()
            .column(people::Column::Id)
            .column(people::Column::LifecycleStage)
            .filter(people::Column::Id.in_subquery(answering.clone()))
            .into_tuple()
            .all(self.conn())
            .await?;
        let segments: HashMap<Uuid, String> = customer_insight_rows::Entity::find()
            .select_only()
            .column(customer_insight_rows::Column::PersonId)
            .column(customer_insight_rows::Column::Segment)
            .filter(in_current_generation())
            .filter(customer_insight_rows::Column::PersonId.in_subquery(answering))
            .into_tuple::<(Uuid, String)>()
            .all(self.conn())
            .await?
            .into_iter()
            .collect();
        let people =
            stages.into_iter().map(|(id, stage)| (PersonId(id), (stage, segments.get(&id).cloned()))).collect();
        Ok(FeedbackGroups { staff, people })
    }
}

fn normalize(at: OffsetDateTime) -> OffsetDateTime {
    rapport_domain::records::normalize_timestamp(at)
}

fn condition(filter: &AnswerFilter) -> Condition {
    let mut condition = Condition::all();
    if let Some(survey) = filter.survey_id {
        condition = condition.add(survey_answers::Column::SurveyId.eq(survey.0));
    }
    if let Some(person) = filter.person_id {
        condition = condition.add(survey_answers::Column::PersonId.eq(person.0));
    }
    if let Some(staff) = filter.staff_id {
        condition = condition.add(survey_answers::Column::StaffId.eq(staff.0));
    }
    if let Some(from) = filter.from {
        condition = condition.add(survey_answers::Column::AnsweredAt.gte(from));
    }
    if let Some(to) = filter.to {
        condition = condition.add(survey_answers::Column::AnsweredAt.lt(to));
    }
    if let Some(group) = filter.nps_group {
        let (low, high) = group.scores();
        condition = condition
            .add(survey_answers::Column::ScoreKind.eq(QuestionKind::Nps.as_str()))
            .add(survey_answers::Column::Score.between(i32::from(low), i32::from(high)));
    }
    condition
}
