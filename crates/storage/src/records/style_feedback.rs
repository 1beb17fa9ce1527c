//! Self-assessments and anonymous colleague feedback rounds on a staff
//! member's relationship skills, the questionnaire they answer and the
//! catalogue of development steps (both installation settings that admins
//! edit, the shipped defaults until then).
//!
//! A colleague's answer is added to its round's tally in the transaction
//! that uses up their request; no row of an answer exists, and the request
//! keeps no time of use, so nothing stored ties an answer to its author.

use std::collections::{BTreeMap, HashMap};

use rapport_domain::records::{User, now};
use rapport_domain::style_feedback::{
    FeedbackRequest, FeedbackRound, FeedbackRoundInput, Questionnaire, RatingsInput, SelfAssessment, StepCatalogue,
    StyleQuestion, Tally, may_view_style,
};
use rapport_domain::surveys::QuestionKey;
use rapport_domain::{Actor, FeedbackRequestId, FeedbackRoundId, FieldErrors, Role, SelfAssessmentId, UserId};
use sea_orm::prelude::*;
use sea_orm::{ActiveModelTrait, ConnectionTrait, QueryOrder, QuerySelect, Set};
use serde::Serialize;
use serde::de::DeserializeOwned;
use time::Duration;

use crate::common::{ByKey, from_json, to_json};
use crate::entities::{app_settings, style_feedback_requests, style_feedback_rounds, style_self_assessments, users};
use crate::{Result, StorageError, Store};

const QUESTIONNAIRE: &str = "style_questions";
const STEP_CATALOGUE: &str = "style_steps";

/// The most rounds or self-assessments one listing returns, newest first.
pub const STYLE_LIST_LIMIT: u64 = 100;

fn denied(message: &'static str) -> StorageError {
    StorageError::from(rapport_domain::access::Denied(message))
}

fn ensure_admin(actor: &Actor) -> Result<()> {
    if actor.role == Role::Admin { Ok(()) } else { Err(denied("only admins edit the style questions and steps")) }
}

fn self_assessment_from(row: style_self_assessments::Model) -> Result<SelfAssessment> {
    Ok(SelfAssessment {
        id: SelfAssessmentId(row.id),
        user_id: UserId(row.user_id),
        scores: from_json::<BTreeMap<QuestionKey, u8>>(row.scores, "self-assessment scores")?,
        comment: row.comment,
        created_at: row.created_at,
    })
}

fn round_from(row: style_feedback_rounds::Model, subject_name: String) -> Result<FeedbackRound> {
    let questions: Vec<StyleQuestion> = from_json(row.questions, "feedback round questions")?;
    let tally: Tally = from_json(row.tally, "feedback round tally")?;
    Ok(FeedbackRound {
        id: FeedbackRoundId(row.id),
        subject_id: UserId(row.subject_id),
        subject_name,
        requested_by: row.requested_by.map(UserId),
        created_at: row.created_at,
        closes_at: row.closes_at,
        open: row.closes_at > now(),
        note: row.note,
        results: tally.results(&questions),
        questions,
        asked: u32::try_from(row.asked).unwrap_or_default(),
        answered: tally.answers,
    })
}

async fn setting<T: DeserializeOwned + Default>(store: &Store, name: &str) -> Result<T> {
    match app_settings::Entity::find_by_id(name).by_key(store.conn()).await? {
        Some(row) => from_json(row.value, name),
        None => Ok(T::default()),
    }
}

async fn set_setting<T: Serialize>(store: &Store, name: &str, value: &T) -> Result<()> {
    let w = store.begin_write().await?;
    let row =
        app_settings::ActiveModel { name: Set(name.to_owned()), value: Set(to_json(value)), updated_at: Set(now()) };
    if app_settings::Entity::find_by_id(name).by_key(&*w).await?.is_some() {
        row.update(&*w).await?;
    } else {
        row.insert(&*w).await?;
    }
    w.commit().await?;
    Ok(())
}

/// The names of these users, by id.
async fn names<C: ConnectionTrait>(conn: &C, ids: impl IntoIterator<Item = Uuid>) -> Result<HashMap<Uuid, String>> {
    let ids: Vec<Uuid> = ids.into_iter().collect();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(users::Entity::find()
        .filter(users::Column::Id.is_in(ids))
        .all(conn)
        .await?
        .into_iter()
        .map(|u| (u.id, u.name))
        .collect())
}

impl Store {
    pub async fn style_questionnaire(&self) -> Result<Questionnaire> {
        setting(self, QUESTIONNAIRE).await
    }

    /// Replaces the questionnaire (admins). Rounds already made keep the
    /// questions they were made with; self-assessments keep their ratings
    /// by key, so a question whose text changes keeps its history.
    pub async fn set_style_questionnaire(&self, actor: &Actor, questionnaire: Questionnaire) -> Result<Questionnaire> {
        ensure_admin(actor)?;
        questionnaire.check()?;
        set_setting(self, QUESTIONNAIRE, &questionnaire).await?;
        Ok(questionnaire)
    }

    pub async fn style_step_catalogue(&self) -> Result<StepCatalogue> {
        setting(self, STEP_CATALOGUE).await
    }

    pub async fn set_style_step_catalogue(&self, actor: &Actor, catalogue: StepCatalogue) -> Result<StepCatalogue> {
        ensure_admin(actor)?;
        catalogue.check()?;
        set_setting(self, STEP_CATALOGUE, &catalogue).await?;
        Ok(catalogue)
    }

    /// The staff member `id` if `viewer` may see their style.
    async fn visible_staff(&self, viewer: &Actor, id: UserId) -> Result<User> {
        let user = self.get_user(id).await?;
        if may_view_style(viewer, user.id, user.fields.team_id) {
            Ok(user)
        } else {
            // Not found rather than denied: who works here is not the viewer's to learn.
            Err(StorageError::NotFound("user"))
        }
    }

    /// The actor rates their own skills on the current questionnaire.
    pub async fn add_self_assessment(&self, actor: &Actor, input: RatingsInput) -> Result<SelfAssessment> {
        let ratings = self.style_questionnaire().await?.check_ratings(input)?;
        let row = style_self_assessments::ActiveModel {
            id: Set(SelfAssessmentId::new().0),
            user_id: Set(actor.user_id.0),
            scores: Set(to_json(&ratings.scores)),
            comment: Set(ratings.comment.map(String::from)),
            created_at: Set(now()),
        };
        let w = self.begin_write().await?;
        let row = row.insert(&*w).await?;
        w.commit().await?;
        self_assessment_from(row)
    }

    /// `user`'s self-assessments, newest first.
    pub async fn self_assessments(&self, viewer: &Actor, user: UserId) -> Result<Vec<SelfAssessment>> {
        self.visible_staff(viewer, user).await?;
        style_self_assessments::Entity::find()
            .filter(style_self_assessments::Column::UserId.eq(user.0))
            .order_by_desc(style_self_assessments::Column::CreatedAt)
            .order_by_desc(style_self_assessments::Column::Id)
            .limit(STYLE_LIST_LIMIT)
            .all(self.conn())
            .await?
            .into_iter()
            .map(self_assessment_from)
            .collect()
    }

    /// Asks colleagues for feedback on a staff member: the subject
    /// themselves, their manager or an admin may ask. Each colleague gets
    /// one request for one answer on the current questions.
    pub async fn create_feedback_round(&self, actor: &Actor, input: FeedbackRoundInput) -> Result<FeedbackRound> {
        let (colleagues, days) = input.check()?;
        let subject = self.visible_staff(actor, input.subject_id).await?;
        if !subject.fields.active {
            return Err(FieldErrors::single("subject_id", "is not an active staff member").into());
        }
        let found: HashMap<Uuid, bool> = users::Entity::find()
            .filter(users::Column::Id.is_in(colleagues.iter().map(|c| c.0)))
            .all(self.conn())
            .await?
            .into_iter()
            .map(|u| (u.id, u.active))
            .collect();
        if let Some(missing) = colleagues.iter().find(|c| found.get(&c.0) != Some(&true)) {
            return Err(FieldErrors::single("colleague_ids", format!("{missing} is not an active staff member")).into());
        }
        let questions = self.style_questionnaire().await?.questions;
        let at = now();
        let round = style_feedback_rounds::ActiveModel {
            id: Set(FeedbackRoundId::new().0),
            subject_id: Set(subject.id.0),
            requested_by: Set((actor.user_id != Actor::system().user_id).then_some(actor.user_id.0)),
            created_at: Set(at),
            closes_at: Set(at + Duration::days(i64::from(days))),
            questions: Set(to_json(&questions)),
            note: Set(input.note.map(String::from)),
            asked: Set(i32::try_from(colleagues.len()).expect("at most 50 colleagues")),
            tally: Set(to_json(&Tally::default())),
        };
        let w = self.begin_write().await?;
        let round = round.insert(&*w).await?;
        for colleague in &colleagues {
            style_feedback_requests::ActiveModel {
                id: Set(FeedbackRequestId::new().0),
                round_id: Set(round.id),
                colleague_id: Set(colleague.0),
                used: Set(false),
            }
            .insert(&*w)
            .await?;
        }
        w.commit().await?;
        round_from(round, subject.fields.name.to_string())
    }

    /// The feedback rounds `viewer` may see (about themselves, their team
    /// as a manager, anyone as an admin), newest first; only about
    /// `subject` when given.
    pub async fn feedback_rounds(&self, viewer: &Actor, subject: Option<UserId>) -> Result<Vec<FeedbackRound>> {
        // Ids are time-ordered: they break ties within a second.
        let mut query = style_feedback_rounds::Entity::find()
            .order_by_desc(style_feedback_rounds::Column::CreatedAt)
            .order_by_desc(style_feedback_rounds::Column::Id);
        if let Some(subject) = subject {
            self.visible_staff(viewer, subject).await?;
            query = query.filter(style_feedback_rounds::Column::SubjectId.eq(subject.0));
        } else if viewer.role != Role::Admin {
            let visible: Vec<Uuid> = users::Entity::find()
                .all(self.conn())
                .await?
                .into_iter()
                .filter(|u| may_view_style(viewer, UserId(u.id), u.team_id.map(rapport_domain::TeamId)))
                .map(|u| u.id)
                .collect();
            query = query.filter(style_feedback_rounds::Column::SubjectId.is_in(visible));
        }
        let rows = query.limit(STYLE_LIST_LIMIT).all(self.conn()).await?;
        let names = names(self.conn(), rows.iter().map(|r| r.subject_id)).await?;
        rows.into_iter()
            .map(|row| {
                let name = names.get(&row.subject_id).cloned().unwrap_or_default();
                round_from(row, name)
            })
            .collect()
    }

    pub async fn feedback_round(&self, viewer: &Actor, id: FeedbackRoundId) -> Result<FeedbackRound> {
        let row = style_feedback_rounds::Entity::find_by_id(id.0)
            .by_key(self.conn())
            .await?
            .ok_or(StorageError::NotFound("feedback round"))?;
        let subject = self
            .visible_staff(viewer, UserId(row.subject_id))
            .await
            .map_err(|_| StorageError::NotFound("feedback round"))?;
        round_from(row, subject.fields.name.to_string())
    }

    /// The actor's requests still waiting for their answer, in open rounds.
    pub async fn pending_feedback_requests(&self, actor: &Actor) -> Result<Vec<FeedbackRequest>> {
        let requests = style_feedback_requests::Entity::find()
            .filter(style_feedback_requests::Column::ColleagueId.eq(actor.user_id.0))
            .filter(style_feedback_requests::Column::Used.eq(false))
            .all(self.conn())
            .await?;
        let rounds: HashMap<Uuid, style_feedback_rounds::Model> = style_feedback_rounds::Entity::find()
            .filter(style_feedback_rounds::Column::Id.is_in(requests.iter().map(|r| r.round_id)))
            .filter(style_feedback_rounds::Column::ClosesAt.gt(now()))
            .all(self.conn())
            .await?
            .into_iter()
            .map(|r| (r.id, r))
            .collect();
        let names = names(self.conn(), rounds.values().map(|r| r.subject_id)).await?;
        let mut pending = Vec::new();
        for request in requests {
            let Some(round) = rounds.get(&request.round_id) else { continue };
            pending.push(FeedbackRequest {
                id: FeedbackRequestId(request.id),
                round_id: FeedbackRoundId(round.id),
                subject_id: UserId(round.subject_id),
                subject_name: names.get(&round.subject_id).cloned().unwrap_or_default(),
                closes_at: round.closes_at,
                note: round.note.clone(),
                questions: from_json(round.questions.clone(), "feedback round questions")?,
            });
        }
        pending.sort_by_key(|r| r.closes_at);
        Ok(pending)
    }

    /// One of the actor's open requests.
    pub async fn feedback_request(&self, actor: &Actor, id: FeedbackRequestId) -> Result<FeedbackRequest> {
        self.pending_feedback_requests(actor)
            .await?
            .into_iter()
            .find(|r| r.id == id)
            .ok_or(StorageError::NotFound("open feedback request"))
    }

    /// The actor answers a request: in one transaction the request is used
    /// up and the ratings are added to the round's tally. A used request,
    /// someone else's, or one of a closed round is not found.
    pub async fn answer_feedback_request(
        &self,
        actor: &Actor,
        id: FeedbackRequestId,
        input: RatingsInput,
    ) -> Result<()> {
        let not_found = || StorageError::NotFound("open feedback request");
        let w = self.begin_write().await?;
        let request = style_feedback_requests::Entity::find_by_id(id.0)
            .filter(style_feedback_requests::Column::ColleagueId.eq(actor.user_id.0))
            .filter(style_feedback_requests::Column::Used.eq(false))
            .by_key(&*w)
            .await?
            .ok_or_else(not_found)?;
        // Locked so that colleagues answering at once each add to the tally.
        let round = style_feedback_rounds::Entity::find_by_id(request.round_id)
            .lock_exclusive()
            .by_key(&*w)
            .await?
            .ok_or_else(not_found)?;
        if round.closes_at <= now() {
            return Err(not_found());
        }
        let questions: Vec<StyleQuestion> = from_json(round.questions.clone(), "feedback round questions")?;
        let ratings = Questionnaire { questions }.check_ratings(input)?;
        let used = style_feedback_requests::Entity::update_many()
            .col_expr(style_feedback_requests::Column::Used, Expr::value(true))
            .filter(style_feedback_requests::Column::Id.eq(request.id))
            .filter(style_feedback_requests::Column::Used.eq(false))
            .exec(&*w)
            .await?;
        if used.rows_affected != 1 {
            return Err(not_found());
        }
        let mut tally: Tally = from_json(round.tally.clone(), "feedback round tally")?;
        tally.add(&ratings);
        let mut round: style_feedback_rounds::ActiveModel = round.into();
        round.tally = Set(to_json(&tally));
        round.update(&*w).await?;
        w.commit().await?;
        Ok(())
    }
}
