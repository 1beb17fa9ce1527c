//! One staff member's style profile over a period: the scorecard's
//! measured dimensions beside their latest self-assessment and their latest
//! feedback round with enough answers to show, the findings
//! (`rapport-insights::style_profile`) and development steps for the
//! dimensions to work on.

use rapport_domain::style::Dimension;
use rapport_domain::style_feedback::{DevelopmentStep, FeedbackRound, SelfAssessment};
use rapport_domain::{Actor, FeedbackRoundId, UserId};
use rapport_insights::style_profile::{DimensionEvidence, Finding, RankedFigure, findings, weaknesses};
use rapport_storage::{StorageError, Store};
use serde::Serialize;
use time::OffsetDateTime;

use crate::scorecards::{ScorecardReport, StaffScorecard};

/// Steps suggested per dimension to work on.
pub const STEPS_PER_WEAKNESS: usize = 3;

/// One dimension seen three ways.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ProfileDimension {
    pub dimension: Dimension,
    pub label: &'static str,
    /// Their own mean rating, 1 to 5.
    pub self_rating: Option<f64>,
    /// Their colleagues' mean rating, 1 to 5 (only from a round with at
    /// least three answers).
    pub colleague_rating: Option<f64>,
    /// The scorecard's dimension score, 0 to 100 (a mean percentile rank).
    pub measured: Option<f64>,
}

/// A development step suggested for a dimension to work on.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct SuggestedStep {
    pub dimension: Dimension,
    pub text: String,
}

/// The round the colleagues' view comes from.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ColleagueSource {
    pub round_id: FeedbackRoundId,
    pub answered: u32,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct StyleProfile {
    pub user_id: UserId,
    pub name: String,
    #[serde(with = "time::serde::rfc3339")]
    pub from: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub to: OffsetDateTime,
    pub dimensions: Vec<ProfileDimension>,
    /// Gaps widest first, then hidden strengths, then strengths.
    pub findings: Vec<Finding>,
    /// The dimensions to work on, most urgent first.
    pub work_on: Vec<Dimension>,
    pub steps: Vec<SuggestedStep>,
    /// The self-assessment the self view comes from.
    pub self_assessment: Option<SelfAssessment>,
    pub colleagues: Option<ColleagueSource>,
    /// Feedback rounds still short of three answers, or without results yet.
    pub rounds_waiting: u32,
    pub scorecard: StaffScorecard,
}

/// A staff member's profile from `report`, their scorecard as `viewer`
/// may see it ([`StyleScope::User`](crate::scorecards::StyleScope::User)):
/// not found when it holds none.
pub async fn style_profile(
    store: &Store,
    viewer: &Actor,
    report: ScorecardReport,
) -> Result<StyleProfile, StorageError> {
    let (from, to) = (report.from, report.to);
    let scorecard = report.scorecards.into_iter().next().ok_or(StorageError::NotFound("staff member"))?;
    let user = scorecard.user_id;
    let questionnaire = store.style_questionnaire().await?;
    let self_assessment = store.self_assessments(viewer, user).await?.into_iter().next();
    let rounds = store.feedback_rounds(viewer, Some(user)).await?;
    let shown: Option<&FeedbackRound> = rounds.iter().find(|r| r.results.is_some());
    let rounds_waiting = rounds.iter().filter(|r| r.results.is_none()).count() as u32;

    let self_means = match &self_assessment {
        Some(a) => questionnaire.dimension_means(a.scores.iter().map(|(k, r)| (k, *r, 1))),
        None => [None; 5],
    };
    let colleague_means = |d: Dimension| {
        shown.and_then(|r| r.results.as_ref()).and_then(|res| res.dimensions.iter().find(|m| m.dimension == d)?.mean)
    };
    let evidence: [DimensionEvidence; 5] = std::array::from_fn(|i| {
        let dimension = Dimension::ALL[i];
        DimensionEvidence {
            self_rating: self_means[i],
            colleague_rating: colleague_means(dimension),
            measured: scorecard.dimensions.iter().find(|d| d.dimension == dimension).and_then(|d| d.score),
            figures: scorecard
                .figures
                .iter()
                .filter(|f| f.dimension == dimension)
                .filter_map(|f| Some(RankedFigure { figure: f.figure, value: f.value?, rank: f.rank? }))
                .collect(),
        }
    });
    let work_on = weaknesses(&evidence);
    let catalogue = store.style_step_catalogue().await?;
    let steps = work_on
        .iter()
        .flat_map(|d| catalogue.for_dimension(*d).take(STEPS_PER_WEAKNESS))
        .map(|s: &DevelopmentStep| SuggestedStep { dimension: s.dimension, text: s.text.to_string() })
        .collect();
    Ok(StyleProfile {
        user_id: user,
        name: scorecard.name.clone(),
        from,
        to,
        dimensions: Dimension::ALL
            .iter()
            .zip(&evidence)
            .map(|(d, e)| ProfileDimension {
                dimension: *d,
                label: d.label(),
                self_rating: e.self_rating,
                colleague_rating: e.colleague_rating,
                measured: e.measured,
            })
            .collect(),
        findings: findings(&evidence),
        work_on,
        steps,
        self_assessment,
        colleagues: shown.map(|r| ColleagueSource { round_id: r.id, answered: r.answered, created_at: r.created_at }),
        rounds_waiting,
        scorecard,
    })
}
