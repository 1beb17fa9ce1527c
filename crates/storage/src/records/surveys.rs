//! Surveys, the installation's survey settings, and sending a survey to a
//! customer on a personal link. A link's token is random (256 bits) and
//! only its SHA-256 is stored; the link is handed out once, in the email
//! queued in the same transaction or to the staff member who made it.

use std::collections::HashSet;

use rapport_domain::records::{EmailEntry, Preferences, now};
use rapport_domain::surveys::{
    AnswerSubject, PublicUrl, SendInput, SendOutcome, SendStatus, SkipReason, Survey, SurveyInput, SurveySend,
    SurveySettings, SurveyTrigger,
};
use rapport_domain::{Actor, DealId, Email, OutboxId, PersonId, SurveyId, SurveySendId, TicketId, UserId};
use sea_orm::prelude::*;
use sea_orm::{ActiveModelTrait, QueryOrder, QuerySelect, QueryTrait, Set};
use time::{Duration, OffsetDateTime};

use crate::auth::{digest, random_secret};
use crate::common::*;
use crate::entities::{app_settings, deals, people, survey_sends, surveys, tickets};
use crate::mail::{OutgoingMail, mail_address, queue_outgoing};
use crate::{Result, StorageError, Store};

const SURVEY_SETTINGS: &str = "surveys";

pub(crate) fn survey_from(row: surveys::Model) -> Result<Survey> {
    Ok(Survey {
        id: SurveyId(row.id),
        fields: SurveyInput {
            name: parse(row.name, "survey name")?,
            questions: from_json(row.questions, "survey questions")?,
            intro: parse_opt(row.intro, "survey intro")?,
            thanks: parse_opt(row.thanks, "survey thanks")?,
            trigger: from_json(row.trigger, "survey trigger")?,
            reminder_days: row.reminder_days.map(|d| d as u16),
            expiry_days: row.expiry_days as u16,
            active: row.active,
        },
        meta: meta(row.created_at, row.updated_at, row.created_by, row.version),
    })
}

pub(crate) fn send_from(row: survey_sends::Model, at: OffsetDateTime) -> SurveySend {
    let status = match (row.answered_at, row.reminded_at) {
        (Some(_), _) => SendStatus::Answered,
        (None, _) if row.expires_at <= at => SendStatus::Expired,
        (None, Some(_)) => SendStatus::Reminded,
        (None, None) => SendStatus::Sent,
    };
    SurveySend {
        id: SurveySendId(row.id),
        survey_id: SurveyId(row.survey_id),
        person_id: PersonId(row.person_id),
        subject: AnswerSubject {
            ticket_id: row.ticket_id.map(TicketId),
            deal_id: row.deal_id.map(DealId),
            staff_id: row.staff_id.map(UserId),
        },
        status,
        emailed: row.outbox_id.is_some(),
        sent_at: row.sent_at,
        expires_at: row.expires_at,
        reminded_at: row.reminded_at,
        answered_at: row.answered_at,
    }
}

fn fill(active: &mut surveys::ActiveModel, input: &SurveyInput) {
    active.name = Set(input.name.to_string());
    active.questions = Set(to_json(&input.questions));
    active.intro = Set(input.intro.as_ref().map(|t| t.to_string()));
    active.thanks = Set(input.thanks.as_ref().map(|t| t.to_string()));
    active.trigger = Set(to_json(&input.trigger));
    active.reminder_days = Set(input.reminder_days.map(i32::from));
    active.expiry_days = Set(i32::from(input.expiry_days));
    active.active = Set(input.active);
}

/// Who a survey's email greets, and where it goes.
struct Recipient {
    first_name: String,
    owner: Option<Uuid>,
    address: Option<Email>,
    do_not_contact: bool,
}

/// Locks the person's row, so that two sends to one customer at once (a
/// scheduled job on two nodes, say) take turns and the second sees the first
/// in the quiet-period check.
async fn recipient<C: ConnectionTrait>(conn: &C, person: PersonId) -> Result<Recipient> {
    let row = people::Entity::find_by_id(person.0)
        .lock_exclusive()
        .by_key(conn)
        .await?
        .ok_or(StorageError::NotFound("person"))?;
    let emails: Vec<EmailEntry> = from_json(row.emails, "emails")?;
    let preferences: Preferences = from_json(row.preferences, "preferences")?;
    Ok(Recipient {
        first_name: row.first_name,
        owner: row.owner_id,
        address: mail_address(&emails),
        do_not_contact: preferences.do_not_contact,
    })
}

/// The email that carries a personal link.
fn invitation(survey: &Survey, first_name: &str, link: &str, expires_at: OffsetDateTime, reminder: bool) -> String {
    let ask = survey.fields.headline().map(|q| q.text.as_str()).unwrap_or("We would like to hear what you think.");
    let opening = if reminder { "A short reminder: we would still like to hear from you." } else { "" };
    let intro = survey.fields.intro.as_ref().map(|t| format!("{t}\n\n")).unwrap_or_default();
    let until = expires_at.date();
    format!(
        "Hello {first_name},\n\n{opening}{sep}{intro}{ask}\n\nAnswer here (it takes a minute):\n{link}\n\n\
         This link is yours alone and stays open until {until}.\n\n\
         To receive no more surveys from us: {link}/unsubscribe\n",
        sep = if reminder { "\n\n" } else { "" },
    )
}

/// Queues one survey email in the caller's transaction.
async fn queue_invitation<C: ConnectionTrait>(
    conn: &C,
    from_domain: &str,
    to: Email,
    subject: String,
    body: String,
) -> Result<OutboxId> {
    let mail = OutgoingMail {
        ticket_id: None,
        message_id: None,
        to,
        subject,
        body,
        email_message_id: format!("{}@{from_domain}", Uuid::now_v7().simple()),
        in_reply_to: None,
        references: None,
    };
    queue_outgoing(conn, mail).await
}

impl Store {
    pub async fn survey_settings(&self) -> Result<SurveySettings> {
        match app_settings::Entity::find_by_id(SURVEY_SETTINGS).by_key(self.conn()).await? {
            Some(row) => from_json(row.value, "survey settings"),
            None => Ok(SurveySettings::default()),
        }
    }

    pub async fn set_survey_settings(&self, actor: &Actor, settings: SurveySettings) -> Result<SurveySettings> {
        ensure_admin(actor)?;
        let w = self.begin_write().await?;
        let row = app_settings::ActiveModel {
            name: Set(SURVEY_SETTINGS.to_owned()),
            value: Set(to_json(&settings)),
            updated_at: Set(now()),
        };
        if app_settings::Entity::find_by_id(SURVEY_SETTINGS).by_key(&*w).await?.is_some() {
            row.update(&*w).await?;
        } else {
            row.insert(&*w).await?;
        }
        w.commit().await?;
        Ok(settings)
    }

    /// A new survey (admins build surveys).
    pub async fn create_survey(&self, actor: &Actor, input: SurveyInput) -> Result<Survey> {
        ensure_admin(actor)?;
        input.check()?;
        let at = now();
        let mut active = surveys::ActiveModel {
            id: Set(SurveyId::new().0),
            created_at: Set(at),
            updated_at: Set(at),
            created_by: Set((actor.user_id != Actor::system().user_id).then_some(actor.user_id.0)),
            version: Set(1),
            ..Default::default()
        };
        fill(&mut active, &input);
        let w = self.begin_write().await?;
        let row = active.insert(&*w).await?;
        w.commit().await?;
        survey_from(row)
    }

    pub async fn update_survey(
        &self,
        actor: &Actor,
        id: SurveyId,
        input: SurveyInput,
        expected_version: Option<i64>,
    ) -> Result<Survey> {
        ensure_admin(actor)?;
        input.check()?;
        let w = self.begin_write().await?;
        let row = surveys::Entity::find_by_id(id.0).by_key(&*w).await?.ok_or(StorageError::NotFound("survey"))?;
        check_version(expected_version, row.version)?;
        let version = row.version;
        let mut active: surveys::ActiveModel = row.into();
        fill(&mut active, &input);
        active.updated_at = Set(now());
        active.version = Set(version + 1);
        let row = active.update(&*w).await?;
        w.commit().await?;
        survey_from(row)
    }

    pub async fn get_survey(&self, id: SurveyId) -> Result<Survey> {
        let row =
            surveys::Entity::find_by_id(id.0).by_key(self.conn()).await?.ok_or(StorageError::NotFound("survey"))?;
        survey_from(row)
    }

    /// Every survey, by name.
    pub async fn list_surveys(&self) -> Result<Vec<Survey>> {
        surveys::Entity::find()
            .order_by_asc(surveys::Column::Name)
            .order_by_asc(surveys::Column::Id)
            .all(self.conn())
            .await?
            .into_iter()
            .map(survey_from)
            .collect()
    }

    /// Sends a survey to one customer: a personal link, emailed through the
    /// outbox unless `input.email` is false. Nobody who asked not to be
    /// contacted, or was sent a survey within the quiet period, is asked.
    pub async fn send_survey(&self, actor: &Actor, survey_id: SurveyId, input: SendInput) -> Result<SendOutcome> {
        actor.ensure_can_create()?;
        let survey = self.get_survey(survey_id).await?;
        if !survey.fields.active {
            return Err(StorageError::Conflict("this survey is switched off: switch it on to send it".into()));
        }
        let settings = self.survey_settings().await?;
        let Some(public_url) = settings.public_url else {
            return Err(StorageError::Conflict(
                "set the public address for survey links first (Settings → Surveys)".into(),
            ));
        };
        let smtp = if input.email { self.smtp_settings().await? } else { None };
        let w = self.begin_write().await?;
        let person = recipient(&*w, input.person_id).await?;
        if let Some(ticket) = input.subject.ticket_id {
            must_exist::<crate::entities::tickets::Entity, _>(&*w, ticket.0, "ticket_id", "ticket").await?;
        }
        if let Some(deal) = input.subject.deal_id {
            must_exist::<crate::entities::deals::Entity, _>(&*w, deal.0, "deal_id", "deal").await?;
        }
        if let Some(staff) = input.subject.staff_id {
            must_exist::<crate::entities::users::Entity, _>(&*w, staff.0, "staff_id", "user").await?;
        }
        let at = now();
        let skip = if person.do_not_contact {
            Some(SkipReason::DoNotContact)
        } else if input.email && person.address.is_none() {
            Some(SkipReason::NoEmail)
        } else if input.email && smtp.is_none() {
            Some(SkipReason::MailNotSetUp)
        } else if asked_since(&*w, input.person_id, None, at - Duration::days(i64::from(settings.quiet_days))).await? {
            Some(SkipReason::QuietPeriod)
        } else if let Some(period) = survey.fields.trigger.repeat_after()
            && asked_since(&*w, input.person_id, Some(survey.id), at - period).await?
        {
            // Checked here, under the person's lock, as two runs of the schedule may overlap.
            Some(SkipReason::NotDue)
        } else {
            None
        };
        if let Some(reason) = skip {
            return Ok(SendOutcome::Skipped { reason });
        }
        let token = random_secret();
        let link = public_url.survey_link(&token);
        let expires_at = at + Duration::days(i64::from(survey.fields.expiry_days));
        let outbox_id = match (&smtp, &person.address) {
            (Some(smtp), Some(to)) => Some(
                queue_invitation(
                    &*w,
                    smtp.from_address.domain(),
                    to.clone(),
                    survey.fields.name.to_string(),
                    invitation(&survey, &person.first_name, &link, expires_at, false),
                )
                .await?,
            ),
            _ => None,
        };
        let row = survey_sends::ActiveModel {
            id: Set(SurveySendId::new().0),
            survey_id: Set(survey.id.0),
            person_id: Set(input.person_id.0),
            ticket_id: Set(input.subject.ticket_id.map(|t| t.0)),
            deal_id: Set(input.subject.deal_id.map(|d| d.0)),
            // The answer is about the customer's owner unless the send names someone.
            staff_id: Set(input.subject.staff_id.map(|u| u.0).or(person.owner)),
            token_hash: Set(digest(&token)),
            outbox_id: Set(outbox_id.map(|o| o.0)),
            sent_at: Set(at),
            expires_at: Set(expires_at),
            reminded_at: Set(None),
            answered_at: Set(None),
            created_by: Set((actor.user_id != Actor::system().user_id).then_some(actor.user_id.0)),
        }
        .insert(&*w)
        .await?;
        w.commit().await?;
        Ok(SendOutcome::Sent { send: send_from(row, at), link })
    }

    /// A survey's sends, newest first.
    pub async fn survey_sends(&self, survey_id: SurveyId, limit: u64) -> Result<Vec<SurveySend>> {
        let at = now();
        Ok(survey_sends::Entity::find()
            .filter(survey_sends::Column::SurveyId.eq(survey_id.0))
            .order_by_desc(survey_sends::Column::SentAt)
            .order_by_desc(survey_sends::Column::Id)
            .limit(limit)
            .all(self.conn())
            .await?
            .into_iter()
            .map(|row| send_from(row, at))
            .collect())
    }

    /// Reminds, once, each customer who has not answered a survey with
    /// reminders within its reminder days (and whose link is still open).
    /// Each reminder carries a fresh link; the old one stops working.
    pub async fn remind_unanswered(&self, at: OffsetDateTime) -> Result<u64> {
        let Some(public_url) = self.survey_settings().await?.public_url else { return Ok(0) };
        let Some(smtp) = self.smtp_settings().await? else { return Ok(0) };
        let mut reminded = 0;
        for survey in self.list_surveys().await? {
            let Some(days) = survey.fields.reminder_days.filter(|_| survey.fields.active) else { continue };
            let waiting = survey_sends::Entity::find()
                .filter(survey_sends::Column::SurveyId.eq(survey.id.0))
                .filter(survey_sends::Column::AnsweredAt.is_null())
                .filter(survey_sends::Column::RemindedAt.is_null())
                .filter(survey_sends::Column::OutboxId.is_not_null())
                .filter(survey_sends::Column::SentAt.lte(at - Duration::days(i64::from(days))))
                .filter(survey_sends::Column::ExpiresAt.gt(at))
                .all(self.conn())
                .await?;
            for send in waiting {
                reminded += u64::from(self.remind(&survey, &public_url, smtp.from_address.domain(), send, at).await?);
            }
        }
        Ok(reminded)
    }

    async fn remind(
        &self,
        survey: &Survey,
        public_url: &PublicUrl,
        from_domain: &str,
        send: survey_sends::Model,
        at: OffsetDateTime,
    ) -> Result<bool> {
        let w = self.begin_write().await?;
        // Another node may have reminded or the customer answered meanwhile.
        let Some(send) = survey_sends::Entity::find_by_id(send.id)
            .filter(survey_sends::Column::AnsweredAt.is_null())
            .filter(survey_sends::Column::RemindedAt.is_null())
            .by_key(&*w)
            .await?
        else {
            return Ok(false);
        };
        let person = recipient(&*w, PersonId(send.person_id)).await?;
        let (false, Some(to)) = (person.do_not_contact, person.address) else { return Ok(false) };
        let token = random_secret();
        let link = public_url.survey_link(&token);
        let body = invitation(survey, &person.first_name, &link, send.expires_at, true);
        let subject = format!("Reminder: {}", survey.fields.name);
        queue_invitation(&*w, from_domain, to, subject, body).await?;
        let mut active: survey_sends::ActiveModel = send.into();
        active.token_hash = Set(digest(&token));
        active.reminded_at = Set(Some(at));
        active.update(&*w).await?;
        w.commit().await?;
        Ok(true)
    }
}

impl Store {
    /// Who a survey that goes out by itself is owed to: the requesters of
    /// tickets solved since `since` (of its team, if it names one), or the
    /// people of deals won or lost since then, that it was not yet sent for.
    /// Everyone a survey was sent to since a moment: a scheduled survey
    /// skips them until their turn comes round again.
    pub async fn asked_since(&self, survey: SurveyId, since: OffsetDateTime) -> Result<HashSet<PersonId>> {
        let people: Vec<Uuid> = survey_sends::Entity::find()
            .select_only()
            .column(survey_sends::Column::PersonId)
            .distinct()
            .filter(survey_sends::Column::SurveyId.eq(survey.0))
            .filter(survey_sends::Column::SentAt.gte(since))
            .into_tuple()
            .all(self.conn())
            .await?;
        Ok(people.into_iter().map(PersonId).collect())
    }

    pub async fn survey_due(&self, survey: &Survey, since: OffsetDateTime) -> Result<Vec<SendInput>> {
        let since = since.max(survey.meta.created_at);
        let subject = |ticket: Option<Uuid>, deal: Option<Uuid>, staff: Option<Uuid>| AnswerSubject {
            ticket_id: ticket.map(TicketId),
            deal_id: deal.map(DealId),
            staff_id: staff.map(UserId),
        };
        let sent = |column: survey_sends::Column| {
            survey_sends::Entity::find()
                .select_only()
                .column(column)
                .filter(survey_sends::Column::SurveyId.eq(survey.id.0))
                .filter(column.is_not_null())
                .into_query()
        };
        match &survey.fields.trigger {
            // A scheduled survey goes to an audience (the `surveys.schedule` job, with `asked_since`).
            SurveyTrigger::Manual | SurveyTrigger::Every { .. } => Ok(Vec::new()),
            SurveyTrigger::TicketSolved { team_id } => {
                let mut select = tickets::Entity::find()
                    .filter(tickets::Column::SolvedAt.gte(since))
                    .filter(tickets::Column::Status.is_in(["solved", "closed"]))
                    .filter(tickets::Column::Id.not_in_subquery(sent(survey_sends::Column::TicketId)));
                if let Some(team) = team_id {
                    select = select.filter(tickets::Column::TeamId.eq(team.0));
                }
                Ok(select
                    .all(self.conn())
                    .await?
                    .into_iter()
                    .map(|t| SendInput {
                        person_id: PersonId(t.requester_id),
                        subject: subject(Some(t.id), None, t.assignee_id),
                        email: true,
                    })
                    .collect())
            }
            SurveyTrigger::DealWon | SurveyTrigger::DealLost => {
                let status = if survey.fields.trigger == SurveyTrigger::DealWon { "won" } else { "lost" };
                Ok(deals::Entity::find()
                    .filter(deals::Column::Status.eq(status))
                    .filter(deals::Column::ClosedAt.gte(since))
                    .filter(deals::Column::PersonId.is_not_null())
                    .filter(deals::Column::Id.not_in_subquery(sent(survey_sends::Column::DealId)))
                    .all(self.conn())
                    .await?
                    .into_iter()
                    .filter_map(|d| {
                        Some(SendInput {
                            person_id: PersonId(d.person_id?),
                            subject: subject(None, Some(d.id), d.owner_id),
                            email: true,
                        })
                    })
                    .collect())
            }
        }
    }
}

fn ensure_admin(actor: &Actor) -> Result<()> {
    if actor.is_admin() {
        Ok(())
    } else {
        Err(rapport_domain::access::Denied("only admins build surveys and change their settings").into())
    }
}

/// Whether the person was sent a survey (any, or the one named) since `since`.
async fn asked_since<C: ConnectionTrait>(
    conn: &C,
    person: PersonId,
    survey: Option<SurveyId>,
    since: OffsetDateTime,
) -> Result<bool> {
    let mut sends = survey_sends::Entity::find()
        .filter(survey_sends::Column::PersonId.eq(person.0))
        .filter(survey_sends::Column::SentAt.gt(since));
    if let Some(survey) = survey {
        sends = sends.filter(survey_sends::Column::SurveyId.eq(survey.0));
    }
    let latest = sends.count(conn).await?;
    Ok(latest > 0)
}
