//! What staff members and their colleagues think of a staff member's
//! relationship skills: the questionnaire (a shipped default that admins
//! edit), one person's ratings, the anonymous tally of a feedback round,
//! and the catalogue of development steps.
//!
//! A feedback round keeps no answer on its own: each answer is added to the
//! round's [`Tally`] (counts per question and rating, comments in sorted
//! order), so nothing stored can tell one colleague's ratings from another's
//! or from the order they came in.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::access::{Actor, Role};
use time::OffsetDateTime;

use crate::ids::{FeedbackRequestId, FeedbackRoundId, SelfAssessmentId, TeamId, UserId};
use crate::style::Dimension;
use crate::surveys::QuestionKey;
use crate::text::{LongText, Name};
use crate::validation::FieldErrors;

/// Ratings run from 1 (not at all) to this (always, fully).
pub const RATING_MAX: u8 = 5;

/// A round's colleague results are shown only from this many answers on, so
/// that no answer can be told apart.
pub const MIN_COLLEAGUE_ANSWERS: u32 = 3;

/// The most questions a questionnaire has, and the most steps a catalogue.
pub const MAX_QUESTIONS: usize = 30;
pub const MAX_STEPS: usize = 100;

/// Days a feedback round stays open unless asked otherwise, and at most.
pub const DEFAULT_ROUND_DAYS: u16 = 14;
pub const MAX_ROUND_DAYS: u16 = 90;

/// Whether `viewer` may see the style of a staff member (their scorecard,
/// self-assessments, feedback rounds and profile): their own; a manager
/// their team's; an admin everyone's.
pub fn may_view_style(viewer: &Actor, subject: UserId, subject_team: Option<TeamId>) -> bool {
    match viewer.role {
        Role::Admin => true,
        Role::Manager => subject == viewer.user_id || (viewer.team_id.is_some() && subject_team == viewer.team_id),
        Role::Agent | Role::Viewer => subject == viewer.user_id,
    }
}

/// One question about a relationship skill, rated 1 to [`RATING_MAX`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StyleQuestion {
    /// Stable across edits of the text: ratings are kept by key.
    pub key: QuestionKey,
    /// The side of the scorecard the skill shows in.
    pub dimension: Dimension,
    pub text: Name,
}

/// The questions of self-assessments and colleague feedback alike.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Questionnaire {
    #[schema(min_items = 1, max_items = 30)]
    pub questions: Vec<StyleQuestion>,
}

fn question(key: &str, dimension: Dimension, text: &str) -> StyleQuestion {
    StyleQuestion {
        key: QuestionKey::parse(key).expect("shipped keys are valid"),
        dimension,
        text: Name::try_from(text).expect("shipped text fits"),
    }
}

impl Default for Questionnaire {
    /// The shipped set: two or three skills for each side of the scorecard.
    fn default() -> Self {
        use Dimension::*;
        Questionnaire {
            questions: vec![
                question(
                    "responsiveness",
                    Responsiveness,
                    "Answers customers quickly, even when only to say when the full answer will come.",
                ),
                question(
                    "clarity",
                    Responsiveness,
                    "Writes and speaks clearly: customers know what happens next and when.",
                ),
                question(
                    "follow_through",
                    FollowThrough,
                    "Does what they promised customers, by when they promised it.",
                ),
                question(
                    "organisation",
                    FollowThrough,
                    "Keeps their tasks and customer notes up to date, so nothing falls through.",
                ),
                question(
                    "proactivity",
                    Proactivity,
                    "Gets in touch before the customer has to ask: with news, a check-in or a warning.",
                ),
                question(
                    "anticipation",
                    Proactivity,
                    "Spots a customer's problem or opportunity before it becomes urgent.",
                ),
                question(
                    "active_listening",
                    PersonalTouch,
                    "Listens fully and asks before answering; customers feel heard.",
                ),
                question("empathy", PersonalTouch, "Understands how a customer feels and shows it."),
                question(
                    "personal_attention",
                    PersonalTouch,
                    "Remembers each customer's situation and preferred way of being reached.",
                ),
                question(
                    "product_knowledge",
                    Outcomes,
                    "Knows the products well enough to give the right advice the first time.",
                ),
                question(
                    "customer_outcomes",
                    Outcomes,
                    "Leaves customers better off: problems solved, needs met, trust kept.",
                ),
            ],
        }
    }
}

impl Questionnaire {
    /// One to [`MAX_QUESTIONS`] questions with distinct keys.
    pub fn check(&self) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::new();
        if self.questions.is_empty() {
            errors.add("questions", "a questionnaire needs at least one question");
        }
        if self.questions.len() > MAX_QUESTIONS {
            errors.add("questions", format!("a questionnaire has at most {MAX_QUESTIONS} questions"));
        }
        let mut seen = BTreeSet::new();
        for (i, q) in self.questions.iter().enumerate() {
            if !seen.insert(q.key.as_str()) {
                errors.add(format!("questions[{i}].key"), "is used by another question");
            }
        }
        errors.into_result()
    }

    pub fn get(&self, key: &QuestionKey) -> Option<&StyleQuestion> {
        self.questions.iter().find(|q| &q.key == key)
    }

    /// Checks what a person sent: ratings of 1 to [`RATING_MAX`] for
    /// questions of this questionnaire (they may leave out what they cannot
    /// judge, but rate at least one), and an optional comment.
    pub fn check_ratings(&self, input: RatingsInput) -> Result<Ratings, FieldErrors> {
        let mut errors = FieldErrors::new();
        let mut scores = BTreeMap::new();
        for (key, rating) in input.scores {
            let Ok(parsed) = QuestionKey::parse(&key) else {
                errors.add(format!("scores.{key}"), "is not a question of the questionnaire");
                continue;
            };
            if self.get(&parsed).is_none() {
                errors.add(format!("scores.{key}"), "is not a question of the questionnaire");
            } else if !(1..=RATING_MAX).contains(&rating) {
                errors.add(format!("scores.{key}"), format!("must be a rating from 1 to {RATING_MAX}"));
            } else {
                scores.insert(parsed, rating);
            }
        }
        if errors.is_empty() && scores.is_empty() {
            errors.add("scores", "rate at least one question");
        }
        errors.into_result()?;
        Ok(Ratings { scores, comment: input.comment })
    }

    /// The mean rating per dimension (in [`Dimension::ALL`] order) of the
    /// given ratings, each question counted `weight` times; `None` where no
    /// question of the dimension was rated.
    pub fn dimension_means<'a>(
        &self,
        ratings: impl IntoIterator<Item = (&'a QuestionKey, u8, u32)>,
    ) -> [Option<f64>; 5] {
        let mut sums = [(0.0f64, 0u32); 5];
        for (key, rating, weight) in ratings {
            if let Some(q) = self.get(key) {
                let slot = &mut sums[Dimension::ALL.iter().position(|d| *d == q.dimension).expect("listed")];
                slot.0 += f64::from(rating) * f64::from(weight);
                slot.1 += weight;
            }
        }
        sums.map(|(sum, n)| (n > 0).then(|| sum / f64::from(n)))
    }
}

/// Ratings as a client sends them: question key to rating.
#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RatingsInput {
    /// Question key to a rating from 1 to 5; leave out what you cannot judge.
    #[schema(schema_with = ratings_schema)]
    pub scores: BTreeMap<String, u8>,
    pub comment: Option<LongText>,
}

/// At least one question key, each with a rating from 1 to [`RATING_MAX`].
fn ratings_schema() -> utoipa::openapi::schema::Object {
    use utoipa::openapi::schema::{AdditionalProperties, ObjectBuilder, Type};
    let rating = ObjectBuilder::new().schema_type(Type::Integer).minimum(Some(1)).maximum(Some(RATING_MAX)).build();
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .additional_properties(Some(AdditionalProperties::RefOr(rating.into())))
        .min_properties(Some(1))
        .description(Some("Question key to a rating from 1 to 5; leave out what you cannot judge."))
        .build()
}

/// Checked ratings: every key a question, every rating 1 to [`RATING_MAX`].
#[derive(Clone, Debug, PartialEq)]
pub struct Ratings {
    pub scores: BTreeMap<QuestionKey, u8>,
    pub comment: Option<LongText>,
}

/// A round's colleague answers, added up: how many answered, how many gave
/// each rating to each question, and their comments in sorted order.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Tally {
    pub answers: u32,
    /// Question key to the count of ratings 1..=5.
    pub counts: BTreeMap<QuestionKey, [u32; RATING_MAX as usize]>,
    pub comments: Vec<String>,
}

impl Tally {
    pub fn add(&mut self, ratings: &Ratings) {
        self.answers += 1;
        for (key, rating) in &ratings.scores {
            self.counts.entry(key.clone()).or_default()[usize::from(*rating) - 1] += 1;
        }
        if let Some(comment) = &ratings.comment {
            // Sorted, not appended: the order would tell who wrote which.
            let at = self.comments.partition_point(|c| c.as_str() <= comment.as_str());
            self.comments.insert(at, comment.to_string());
        }
    }

    /// Whether enough colleagues answered for the results to be shown.
    pub fn is_shown(&self) -> bool {
        self.answers >= MIN_COLLEAGUE_ANSWERS
    }

    /// Every (question, rating, count) with a count.
    pub fn weighted(&self) -> impl Iterator<Item = (&QuestionKey, u8, u32)> {
        self.counts.iter().flat_map(|(key, counts)| {
            counts.iter().enumerate().filter(|(_, n)| **n > 0).map(move |(i, n)| (key, i as u8 + 1, *n))
        })
    }

    /// The mean rating of one question, if anyone rated it.
    pub fn mean(&self, key: &QuestionKey) -> Option<f64> {
        let counts = self.counts.get(key)?;
        let n: u32 = counts.iter().sum();
        (n > 0).then(|| {
            counts.iter().enumerate().map(|(i, c)| (i as f64 + 1.0) * f64::from(*c)).sum::<f64>() / f64::from(n)
        })
    }
}

impl Tally {
    /// What a round shows of its answers: nothing until
    /// [`MIN_COLLEAGUE_ANSWERS`] colleagues answered, then each question's
    /// and dimension's mean and spread, and the comments.
    pub fn results(&self, questions: &[StyleQuestion]) -> Option<RoundResults> {
        if !self.is_shown() {
            return None;
        }
        let questionnaire = Questionnaire { questions: questions.to_vec() };
        let means = questionnaire.dimension_means(self.weighted());
        Some(RoundResults {
            questions: questions
                .iter()
                .map(|q| {
                    let counts = self.counts.get(&q.key).copied().unwrap_or_default();
                    QuestionResult {
                        key: q.key.clone(),
                        dimension: q.dimension,
                        text: q.text.to_string(),
                        mean: self.mean(&q.key),
                        ratings: counts.iter().sum(),
                        counts,
                    }
                })
                .collect(),
            dimensions: Dimension::ALL
                .iter()
                .zip(means)
                .map(|(dimension, mean)| DimensionMean { dimension: *dimension, mean })
                .collect(),
            comments: self.comments.clone(),
        })
    }
}

/// One question's colleague ratings, added up.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct QuestionResult {
    pub key: QuestionKey,
    pub dimension: Dimension,
    pub text: String,
    /// Mean rating, 1 to 5; `null` when nobody rated the question.
    pub mean: Option<f64>,
    /// How many colleagues rated it.
    pub ratings: u32,
    /// How many gave each rating, 1 to 5.
    pub counts: [u32; RATING_MAX as usize],
}

/// A dimension's mean rating, 1 to 5, over its questions.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct DimensionMean {
    pub dimension: Dimension,
    pub mean: Option<f64>,
}

/// What colleagues said, once enough of them did.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct RoundResults {
    pub questions: Vec<QuestionResult>,
    pub dimensions: Vec<DimensionMean>,
    /// Comments in alphabetical order, never in the order they came.
    pub comments: Vec<String>,
}

/// A staff member's ratings of their own skills.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct SelfAssessment {
    pub id: SelfAssessmentId,
    pub user_id: UserId,
    /// Question key to rating, 1 to 5.
    #[schema(value_type = BTreeMap<String, u8>)]
    pub scores: BTreeMap<QuestionKey, u8>,
    pub comment: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// A feedback round as its subject, their manager or an admin see it.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct FeedbackRound {
    pub id: FeedbackRoundId,
    pub subject_id: UserId,
    pub subject_name: String,
    pub requested_by: Option<UserId>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub closes_at: OffsetDateTime,
    /// Still taking answers.
    pub open: bool,
    pub note: Option<String>,
    /// The questions as they were when the round was made.
    pub questions: Vec<StyleQuestion>,
    /// How many colleagues were asked, and how many answered.
    pub asked: u32,
    pub answered: u32,
    /// `null` until at least three colleagues answered.
    pub results: Option<RoundResults>,
}

/// A colleague's open request to give feedback.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct FeedbackRequest {
    pub id: FeedbackRequestId,
    pub round_id: FeedbackRoundId,
    pub subject_id: UserId,
    pub subject_name: String,
    #[serde(with = "time::serde::rfc3339")]
    pub closes_at: OffsetDateTime,
    pub note: Option<String>,
    pub questions: Vec<StyleQuestion>,
}

/// A request for colleague feedback on one staff member.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FeedbackRoundInput {
    /// Whose relationship style the colleagues are asked about.
    pub subject_id: UserId,
    /// At least three colleagues (not the subject), each asked once.
    #[schema(min_items = 3, max_items = 50)]
    pub colleague_ids: Vec<UserId>,
    /// Days the round stays open: 1 to 90, 14 when left out.
    #[schema(minimum = 1, maximum = 90)]
    pub open_days: Option<u16>,
    /// A line for the colleagues, e.g. what the subject wants to learn.
    pub note: Option<LongText>,
}

impl FeedbackRoundInput {
    /// The colleagues, each once, and the days the round stays open.
    pub fn check(&self) -> Result<(Vec<UserId>, u16), FieldErrors> {
        let mut errors = FieldErrors::new();
        let mut colleagues = Vec::new();
        for id in &self.colleague_ids {
            if *id == self.subject_id {
                errors.add("colleague_ids", "the subject cannot give colleague feedback on themselves");
            } else if !colleagues.contains(id) {
                colleagues.push(*id);
            }
        }
        if colleagues.len() < MIN_COLLEAGUE_ANSWERS as usize {
            errors.add(
                "colleague_ids",
                format!("ask at least {MIN_COLLEAGUE_ANSWERS} colleagues: results show only from {MIN_COLLEAGUE_ANSWERS} answers"),
            );
        }
        if colleagues.len() > 50 {
            errors.add("colleague_ids", "ask at most 50 colleagues");
        }
        let days = self.open_days.unwrap_or(DEFAULT_ROUND_DAYS);
        if !(1..=MAX_ROUND_DAYS).contains(&days) {
            errors.add("open_days", format!("must be between 1 and {MAX_ROUND_DAYS}"));
        }
        errors.into_result()?;
        Ok((colleagues, days))
    }
}

/// One suggested step to grow in a dimension.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DevelopmentStep {
    pub dimension: Dimension,
    pub text: Name,
}

/// The steps the style profile suggests for a weakness, editable by admins.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StepCatalogue {
    pub steps: Vec<DevelopmentStep>,
}

fn step(dimension: Dimension, text: &str) -> DevelopmentStep {
    DevelopmentStep { dimension, text: Name::try_from(text).expect("shipped text fits") }
}

impl Default for StepCatalogue {
    fn default() -> Self {
        use Dimension::*;
        StepCatalogue {
            steps: vec![
                step(Responsiveness, "Block two fixed times a day to clear the inbox and the ticket queue."),
                step(
                    Responsiveness,
                    "Send a short first reply with a time for the full answer rather than waiting until you have it.",
                ),
                step(Responsiveness, "Turn on the due-soon queue and work it first each morning."),
                step(FollowThrough, "Make a task with a due date for every promise, during the call."),
                step(
                    FollowThrough,
                    "Review tomorrow's tasks at the end of each day and move what cannot be done, telling the customer.",
                ),
                step(
                    FollowThrough,
                    "Set keep-in-touch cadences for your key customers and clear the overdue list weekly.",
                ),
                step(Proactivity, "Each week, reach out to three customers who have not heard from you in a month."),
                step(Proactivity, "Share one useful piece of news or advice with a customer before they ask."),
                step(Proactivity, "Read the churn-risk list every Monday and call the top names."),
                step(PersonalTouch, "Note one personal detail after each conversation and use it next time."),
                step(
                    PersonalTouch,
                    "Use each customer's preferred channel; check it on their page before reaching out.",
                ),
                step(PersonalTouch, "Mix channels: follow an email thread that stalls with a call."),
                step(
                    Outcomes,
                    "Ask unhappy customers for a call and close the loop on their feedback within two days.",
                ),
                step(Outcomes, "Shadow a colleague with high satisfaction scores for an afternoon."),
                step(Outcomes, "Review lost deals monthly with your manager and name one thing to change."),
            ],
        }
    }
}

impl StepCatalogue {
    pub fn check(&self) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::new();
        if self.steps.len() > MAX_STEPS {
            errors.add("steps", format!("a catalogue has at most {MAX_STEPS} steps"));
        }
        errors.into_result()
    }

    pub fn for_dimension(&self, dimension: Dimension) -> impl Iterator<Item = &DevelopmentStep> {
        self.steps.iter().filter(move |s| s.dimension == dimension)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ratings(pairs: &[(&str, u8)], comment: Option<&str>) -> RatingsInput {
        RatingsInput {
            scores: pairs.iter().map(|(k, r)| ((*k).to_owned(), *r)).collect(),
            comment: comment.map(|c| LongText::try_from(c).unwrap()),
        }
    }

    #[test]
    fn the_shipped_sets_are_valid_and_cover_every_dimension() {
        let questionnaire = Questionnaire::default();
        questionnaire.check().unwrap();
        let catalogue = StepCatalogue::default();
        catalogue.check().unwrap();
        for dimension in Dimension::ALL {
            assert!(questionnaire.questions.iter().any(|q| q.dimension == dimension), "{dimension:?}");
            assert!(catalogue.for_dimension(dimension).count() >= 2, "{dimension:?}");
        }
    }

    #[test]
    fn ratings_name_the_bad_key_or_value() {
        let q = Questionnaire::default();
        let errors = q.check_ratings(ratings(&[("empathy", 6), ("charm", 3), ("Bad Key", 2)], None)).unwrap_err();
        assert_eq!(errors.get("scores.empathy"), Some("must be a rating from 1 to 5"));
        assert_eq!(errors.get("scores.charm"), Some("is not a question of the questionnaire"));
        assert_eq!(errors.get("scores.Bad Key"), Some("is not a question of the questionnaire"));
        assert!(q.check_ratings(ratings(&[("empathy", 0)], None)).is_err());
        let errors = q.check_ratings(ratings(&[], Some("nice"))).unwrap_err();
        assert_eq!(errors.get("scores"), Some("rate at least one question"));
        let ok = q.check_ratings(ratings(&[("empathy", 5), ("clarity", 1)], None)).unwrap();
        assert_eq!(ok.scores.len(), 2);
    }

    #[test]
    fn a_tally_adds_up_without_keeping_order() {
        let q = Questionnaire::default();
        let mut tally = Tally::default();
        for (rating, comment) in [(5, "zealous"), (2, "always late"), (4, "kind")] {
            tally.add(&q.check_ratings(ratings(&[("empathy", rating), ("clarity", 3)], Some(comment))).unwrap());
            assert_eq!(tally.is_shown(), tally.answers >= 3);
        }
        let empathy = QuestionKey::parse("empathy").unwrap();
        assert_eq!(tally.counts[&empathy], [0, 1, 0, 1, 1]);
        assert_eq!(tally.mean(&empathy), Some(11.0 / 3.0));
        assert_eq!(tally.comments, ["always late", "kind", "zealous"]);
        assert!(tally.is_shown());
        // Personal touch: empathy 5, 2, 4; responsiveness: clarity 3, 3, 3.
        let means = q.dimension_means(tally.weighted());
        assert_eq!(means[0], Some(3.0));
        assert_eq!(means[3], Some(11.0 / 3.0));
        assert_eq!(means[1], None);
    }

    #[test]
    fn a_round_asks_three_distinct_colleagues_other_than_the_subject() {
        let subject = UserId::new();
        let (a, b) = (UserId::new(), UserId::new());
        let input = |ids: Vec<UserId>, days| FeedbackRoundInput {
            subject_id: subject,
            colleague_ids: ids,
            open_days: days,
            note: None,
        };
        let errors = input(vec![a, b, a, subject], None).check().unwrap_err();
        assert!(errors.get("colleague_ids").is_some());
        let c = UserId::new();
        assert_eq!(input(vec![a, b, c, a], None).check().unwrap(), (vec![a, b, c], DEFAULT_ROUND_DAYS));
        assert_eq!(
            input(vec![a, b, c], Some(0)).check().unwrap_err().get("open_days"),
            Some("must be between 1 and 90")
        );
    }

    #[test]
    fn who_may_view_a_style() {
        let team = TeamId::new();
        let other_team = TeamId::new();
        let me = UserId::new();
        let them = UserId::new();
        let actor = |role, team_id| Actor { user_id: me, role, team_id };
        assert!(may_view_style(&actor(Role::Agent, Some(team)), me, Some(team)));
        assert!(!may_view_style(&actor(Role::Agent, Some(team)), them, Some(team)));
        assert!(may_view_style(&actor(Role::Manager, Some(team)), them, Some(team)));
        assert!(!may_view_style(&actor(Role::Manager, Some(team)), them, Some(other_team)));
        assert!(!may_view_style(&actor(Role::Manager, None), them, None));
        assert!(may_view_style(&actor(Role::Admin, None), them, Some(other_team)));
    }
}
