//! Surveys that go out by themselves: to an audience (every customer a
//! people-list query selects, such as a saved view or a segment), after a
//! ticket is solved or a deal won or lost, every few months to an audience,
//! and the one reminder to those who have not answered. Each send is its own transaction, so a job cut off
//! half way picks up where it stopped: the quiet period skips whoever it
//! already asked.

use std::collections::{BTreeMap, HashSet};

use rapport_domain::records::now;
use rapport_domain::surveys::{AnswerSubject, SendInput, SendOutcome, SurveyTrigger};
use rapport_domain::{Actor, PersonId, SurveyId};
use rapport_storage::{ListQuery, PersonFilter};
use serde::{Deserialize, Serialize};

use crate::runner::{Handler, JobContext, JobError, from_fn};

pub const SEND: &str = "surveys.send";
pub const TRIGGERS: &str = "surveys.triggers";
pub const REMIND: &str = "surveys.remind";
pub const SCHEDULE: &str = "surveys.schedule";

/// How far back a solved ticket or closed deal still gets its survey.
const TRIGGER_LOOKBACK: time::Duration = time::Duration::days(2);
/// People read per page of an audience.
const AUDIENCE_PAGE: u64 = 200;

/// A `surveys.send` job: one survey to everyone a people-list query selects.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AudienceSend {
    pub survey_id: SurveyId,
    /// The people list's query string (`segment=champions&lifecycle_stage=customer`, `q=…`, `tag=…`).
    pub query: String,
}

#[derive(Deserialize, Default)]
struct ListWords {
    q: Option<String>,
    tag: Option<String>,
}

/// Where each customer's send went: sent, or skipped and why.
#[derive(Debug, Default, Serialize)]
pub struct SendTally {
    pub sent: u64,
    pub skipped: BTreeMap<String, u64>,
}

impl SendTally {
    fn add(&mut self, outcome: &SendOutcome) {
        match outcome {
            SendOutcome::Sent { .. } => self.sent += 1,
            SendOutcome::Skipped { reason } => *self.skipped.entry(reason.as_str().to_owned()).or_default() += 1,
        }
    }
}

/// Parses an audience's query the way the people list does.
pub fn audience_filter(query: &str) -> Result<(ListQuery, PersonFilter), String> {
    let filter: PersonFilter = serde_urlencoded::from_str(query).map_err(|e| format!("the audience query: {e}"))?;
    let words: ListWords = serde_urlencoded::from_str(query).map_err(|e| format!("the audience query: {e}"))?;
    let list = ListQuery { limit: Some(AUDIENCE_PAGE), q: words.q, tag: words.tag, ..Default::default() };
    Ok((list, filter))
}

/// Sends a survey to everyone the query selects but those in `skip`,
/// adding to the tally page by page.
async fn send_to_audience(
    ctx: &JobContext,
    survey_id: SurveyId,
    query: &str,
    skip: &HashSet<PersonId>,
    tally: &mut SendTally,
) -> Result<(), JobError> {
    let (mut list, filter) = audience_filter(query).map_err(JobError::Fatal)?;
    loop {
        let page = ctx.store.list_people(&list, &filter).await?;
        for person in page.items.iter().filter(|p| !skip.contains(&p.id)) {
            let input = SendInput { person_id: person.id, subject: AnswerSubject::default(), email: true };
            tally.add(&ctx.store.send_survey(&Actor::system(), survey_id, input).await?);
        }
        ctx.progress(serde_json::to_value(&*tally).expect("a tally serialises")).await?;
        match page.next_cursor {
            Some(cursor) => list.cursor = Some(cursor),
            None => return Ok(()),
        }
    }
}

pub fn send() -> Handler {
    from_fn(|ctx| async move {
        let job: AudienceSend =
            serde_json::from_value(ctx.job.payload.clone()).map_err(|e| JobError::Fatal(format!("payload: {e}")))?;
        let mut tally = SendTally::default();
        send_to_audience(&ctx, job.survey_id, &job.query, &HashSet::new(), &mut tally).await?;
        Ok(Some(serde_json::to_value(tally).expect("a tally serialises")))
    })
}

/// Sends the surveys owed for tickets solved and deals won or lost lately.
pub fn triggers() -> Handler {
    from_fn(|ctx| async move {
        let mut tally = SendTally::default();
        let since = now() - TRIGGER_LOOKBACK;
        // `survey_due` knows each trigger (and a survey sent by hand is owed to nobody).
        for survey in ctx.store.list_surveys().await?.into_iter().filter(|s| s.fields.active) {
            for input in ctx.store.survey_due(&survey, since).await? {
                tally.add(&ctx.store.send_survey(&Actor::system(), survey.id, input).await?);
            }
        }
        Ok(Some(serde_json::to_value(tally).expect("a tally serialises")))
    })
}

/// Sends the scheduled (relationship) surveys to those in their audience
/// whose turn has come: nobody asked by the same survey within its months.
pub fn schedule() -> Handler {
    from_fn(|ctx| async move {
        let mut tally = SendTally::default();
        for survey in ctx.store.list_surveys().await?.into_iter().filter(|s| s.fields.active) {
            let (SurveyTrigger::Every { audience, .. }, Some(period)) =
                (&survey.fields.trigger, survey.fields.trigger.repeat_after())
            else {
                continue;
            };
            let since = now() - period;
            let asked = ctx.store.asked_since(survey.id, since).await?;
            send_to_audience(&ctx, survey.id, audience.as_deref().unwrap_or(""), &asked, &mut tally).await?;
        }
        Ok(Some(serde_json::to_value(tally).expect("a tally serialises")))
    })
}

pub fn remind() -> Handler {
    from_fn(|ctx| async move {
        let reminded = ctx.store.remind_unanswered(now()).await?;
        Ok(Some(serde_json::json!({ "reminded": reminded })))
    })
}
