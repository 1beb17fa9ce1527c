//! Feedback figures over the store: NPS, CSAT and CES with their 95 %
//! intervals, the distribution of scores and the response rate, overall and
//! by month, survey, team, staff member, segment or lifecycle stage; and the
//! themes of what customers wrote, this period against the one before.
//! `rapport-text` computes; this module reads the answers and groups them.

use std::collections::BTreeMap;

use rapport_domain::surveys::{FOLLOW_UP_DAYS, NpsGroup, QuestionKind};
use rapport_storage::{AnswerFilter, FeedbackGroups, FeedbackRow, FollowUpRow, Store};
use rapport_text::stats::{mean, nps, proportion};
use rapport_text::{Estimate, Period, Theme, ThemeComment};
use serde::Serialize;
use time::OffsetDateTime;

use crate::ReportError;

/// What the summary's rows are.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum GroupBy {
    Month,
    Survey,
    Team,
    Staff,
    Segment,
    Stage,
}

impl GroupBy {
    pub const ALL: [GroupBy; 6] =
        [GroupBy::Month, GroupBy::Survey, GroupBy::Team, GroupBy::Staff, GroupBy::Segment, GroupBy::Stage];

    pub fn as_str(self) -> &'static str {
        match self {
            GroupBy::Month => "month",
            GroupBy::Survey => "survey",
            GroupBy::Team => "team",
            GroupBy::Staff => "staff",
            GroupBy::Segment => "segment",
            GroupBy::Stage => "stage",
        }
    }

    /// What a group is, in words: "By staff member".
    pub fn label(self) -> &'static str {
        match self {
            GroupBy::Month => "month",
            GroupBy::Survey => "survey",
            GroupBy::Team => "team",
            GroupBy::Staff => "staff member",
            GroupBy::Segment => "segment",
            GroupBy::Stage => "lifecycle stage",
        }
    }

    pub fn parse(raw: &str) -> Result<GroupBy, String> {
        serde_json::from_value(serde_json::Value::String(raw.to_owned()))
            .map_err(|_| "must be one of month, survey, team, staff, segment, stage".to_owned())
    }
}

/// The figures of one set of answers.
#[derive(Clone, Debug, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Figures {
    pub answers: u64,
    /// Net Promoter Score, −100..100.
    pub nps: Option<Estimate>,
    pub promoters: u64,
    pub passives: u64,
    pub detractors: u64,
    /// Share of CSAT answers that are 4 or 5, in percent.
    pub csat: Option<Estimate>,
    /// Mean customer effort score, 1 (very hard) to 7 (very easy).
    pub ces: Option<Estimate>,
    /// Mean sentiment of the comments, −1..1.
    pub sentiment: Option<f64>,
    pub comments: u64,
}

/// One row of a grouped summary.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Group {
    pub key: String,
    pub label: String,
    #[serde(flatten)]
    pub figures: Figures,
}

/// How many of each score: index = score − the scale's lowest.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Distribution {
    pub nps: Vec<u64>,
    pub csat: Vec<u64>,
    pub ces: Vec<u64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct FeedbackSummary {
    #[serde(flatten)]
    pub total: Figures,
    /// Links sent in the period, and how many of those were answered.
    pub sent: u64,
    pub answered: u64,
    /// Answered ÷ sent, with its interval (0..1).
    pub response_rate: Option<Estimate>,
    pub distribution: Distribution,
    pub follow_ups: FollowUps,
    pub groups: Vec<Group>,
}

/// Closing the loop: the follow-up tasks unhappy answers opened in the
/// period, how many are done, and how fast.
#[derive(Clone, Debug, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct FollowUps {
    pub opened: u64,
    pub done: u64,
    /// Done within [`FOLLOW_UP_DAYS`] of the answer, when the task falls due.
    pub done_in_time: u64,
    /// The median hours from an answer to its task being done, over those done.
    pub median_hours: Option<f64>,
}

impl FollowUps {
    /// "5 of 7 done · 4 within 2 days · median 20 h", or "none needed".
    pub fn describe(&self) -> String {
        if self.opened == 0 {
            return "none needed".into();
        }
        let mut text = format!("{} of {} done", self.done, self.opened);
        if let Some(hours) = self.median_hours {
            text.push_str(&format!(" · {} within {FOLLOW_UP_DAYS} days · median {hours:.0} h", self.done_in_time));
        }
        text
    }
}

/// Counts the follow-ups and times the done ones.
pub fn follow_ups(rows: &[FollowUpRow]) -> FollowUps {
    let mut hours: Vec<f64> = rows
        .iter()
        .filter_map(|r| r.done_at.map(|done| (done - r.answered_at).as_seconds_f64().max(0.0) / 3600.0))
        .collect();
    hours.sort_by(f64::total_cmp);
    let median_hours = match hours.len() {
        0 => None,
        n if n % 2 == 1 => Some(hours[n / 2]),
        n => Some((hours[n / 2 - 1] + hours[n / 2]) / 2.0),
    };
    FollowUps {
        opened: rows.len() as u64,
        done: hours.len() as u64,
        done_in_time: hours.iter().filter(|h| **h <= (FOLLOW_UP_DAYS * 24) as f64).count() as u64,
        median_hours,
    }
}

/// Adds up one set of answers.
pub fn figures<'a>(rows: impl IntoIterator<Item = &'a FeedbackRow>) -> Figures {
    let mut f = Figures::default();
    let (mut csat_yes, mut csat_n) = (0, 0);
    let mut ces = Vec::new();
    let mut sentiments = Vec::new();
    for row in rows {
        f.answers += 1;
        if let Some(s) = row.sentiment {
            sentiments.push(s);
        }
        match (row.score_kind, row.score) {
            (Some(QuestionKind::Nps), Some(score)) => match NpsGroup::of(score) {
                NpsGroup::Promoter => f.promoters += 1,
                NpsGroup::Passive => f.passives += 1,
                NpsGroup::Detractor => f.detractors += 1,
            },
            (Some(QuestionKind::Csat), Some(score)) => {
                csat_n += 1;
                csat_yes += u64::from(QuestionKind::Csat.is_satisfied(score));
            }
            (Some(QuestionKind::Ces), Some(score)) => ces.push(f64::from(score)),
            _ => {}
        }
    }
    f.nps = nps(f.promoters, f.passives, f.detractors);
    f.csat = proportion(csat_yes, csat_n).map(Estimate::percent);
    f.ces = mean(&ces);
    f.comments = sentiments.len() as u64;
    f.sentiment = (!sentiments.is_empty()).then(|| sentiments.iter().sum::<f64>() / sentiments.len() as f64);
    f
}

fn distribution(rows: &[FeedbackRow]) -> Distribution {
    let mut d = Distribution { nps: vec![0; 11], csat: vec![0; 5], ces: vec![0; 7] };
    for row in rows {
        let (Some(kind), Some(score)) = (row.score_kind, row.score) else { continue };
        let Some((low, _)) = kind.scale() else { continue };
        let bucket = match kind {
            QuestionKind::Nps => &mut d.nps,
            QuestionKind::Csat => &mut d.csat,
            QuestionKind::Ces => &mut d.ces,
            _ => continue,
        };
        if let Some(slot) = bucket.get_mut(usize::from(score - low)) {
            *slot += 1;
        }
    }
    d
}

/// The group key and label a row falls in.
fn group_of(
    row: &FeedbackRow,
    by: GroupBy,
    groups: &FeedbackGroups,
    surveys: &BTreeMap<String, String>,
) -> (String, String) {
    let none = || ("none".to_owned(), "(none)".to_owned());
    match by {
        GroupBy::Month => {
            let month = format!("{}-{:02}", row.answered_at.year(), u8::from(row.answered_at.month()));
            (month.clone(), month)
        }
        GroupBy::Survey => {
            let key = row.survey_id.to_string();
            let label = surveys.get(&key).cloned().unwrap_or_else(|| key.clone());
            (key, label)
        }
        GroupBy::Staff => match row.staff_id {
            Some(staff) => {
                let name = groups.staff.get(&staff).map(|(name, _)| name.clone()).unwrap_or_else(|| staff.to_string());
                (staff.to_string(), name)
            }
            None => none(),
        },
        GroupBy::Team => match row.staff_id.and_then(|s| groups.staff.get(&s)).and_then(|(_, team)| team.clone()) {
            Some(team) => (team.clone(), team),
            None => none(),
        },
        GroupBy::Segment => match groups.people.get(&row.person_id).and_then(|(_, segment)| segment.clone()) {
            Some(segment) => (segment.clone(), segment),
            None => none(),
        },
        GroupBy::Stage => match groups.people.get(&row.person_id) {
            Some((stage, _)) => (stage.clone(), stage.clone()),
            None => none(),
        },
    }
}

/// The answers a filter covers and the links sent in its period, read once
/// so that a page can summarise them several ways.
pub struct Answers {
    rows: Vec<FeedbackRow>,
    follow_ups: Vec<FollowUpRow>,
    sent: u64,
    answered: u64,
}

impl Answers {
    pub async fn load(store: &Store, filter: &AnswerFilter) -> Result<Answers, ReportError> {
        let rows = store.feedback_rows(filter).await?;
        let follow_ups = store.follow_up_rows(filter).await?;
        let (sent, answered) = store.sends_count(filter.survey_id, filter.from, filter.to).await?;
        Ok(Answers { rows, follow_ups, sent, answered })
    }

    /// Their summary, grouped when asked (the groups' names read from `store`).
    pub async fn summary(&self, store: &Store, by: Option<GroupBy>) -> Result<FeedbackSummary, ReportError> {
        let rows = &self.rows;
        let mut groups = Vec::new();
        if let Some(by) = by {
            let people = if matches!(by, GroupBy::Staff | GroupBy::Team | GroupBy::Segment | GroupBy::Stage) {
                store.feedback_groups().await?
            } else {
                FeedbackGroups::default()
            };
            let surveys: BTreeMap<String, String> = if by == GroupBy::Survey {
                store.list_surveys().await?.into_iter().map(|s| (s.id.to_string(), s.fields.name.to_string())).collect()
            } else {
                BTreeMap::new()
            };
            let mut grouped: BTreeMap<(String, String), Vec<&FeedbackRow>> = BTreeMap::new();
            for row in rows {
                grouped.entry(group_of(row, by, &people, &surveys)).or_default().push(row);
            }
            groups =
                grouped.into_iter().map(|((key, label), rows)| Group { key, label, figures: figures(rows) }).collect();
            if by != GroupBy::Month {
                groups.sort_by(|a, b| b.figures.answers.cmp(&a.figures.answers).then(a.label.cmp(&b.label)));
            }
        }
        Ok(FeedbackSummary {
            total: figures(rows),
            sent: self.sent,
            answered: self.answered,
            response_rate: proportion(self.answered, self.sent),
            distribution: distribution(rows),
            follow_ups: follow_ups(&self.follow_ups),
            groups,
        })
    }
}

/// The summary of the answers the filter covers, grouped when asked.
pub async fn summary(
    store: &Store,
    filter: &AnswerFilter,
    by: Option<GroupBy>,
) -> Result<FeedbackSummary, ReportError> {
    Answers::load(store, filter).await?.summary(store, by).await
}

/// The themes of the comments answered in `[from, to)`, with their trend
/// against the period of the same length just before.
pub async fn themes(
    store: &Store,
    survey: Option<rapport_domain::SurveyId>,
    from: OffsetDateTime,
    to: OffsetDateTime,
    min_mentions: u64,
) -> Result<Vec<Theme>, ReportError> {
    let before = from - (to - from);
    let filter = AnswerFilter { survey_id: survey, from: Some(before), to: Some(to), ..Default::default() };
    let rows = store.feedback_rows(&filter).await?;
    let rules = store.theme_rules().await?;
    let comments = rows.iter().filter(|r| r.sentiment.is_some()).map(|r| ThemeComment {
        phrases: &r.phrases,
        sentiment: r.sentiment.unwrap_or_default(),
        nps: (r.score_kind == Some(QuestionKind::Nps)).then_some(r.score).flatten(),
        period: if r.answered_at >= from { Period::Current } else { Period::Previous },
    });
    Ok(rapport_text::themes::themes(comments, &rules, min_mentions))
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn follow_ups_count_the_done_and_time_them() {
        let at = datetime!(2026-11-02 09:00 UTC);
        let row =
            |hours: Option<i64>| FollowUpRow { answered_at: at, done_at: hours.map(|h| at + time::Duration::hours(h)) };
        let figures = follow_ups(&[row(Some(4)), row(None), row(Some(60)), row(Some(20)), row(Some(30))]);
        // Done after 4, 20, 30 and 60 hours: the median is (20 + 30) / 2; three within 48 hours.
        assert_eq!(figures, FollowUps { opened: 5, done: 4, done_in_time: 3, median_hours: Some(25.0) });
        assert_eq!(follow_ups(&[row(None)]).median_hours, None);
    }
}
