//! Customer feedback: surveys and their questions, the scales they are
//! scored on, and which answers count as unhappy.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::ids::{AnswerId, DealId, PersonId, SurveyId, SurveySendId, TeamId, ThemeNoteId, TicketId, UserId};
use crate::records::Meta;
use crate::text::{LongText, Name};
use crate::validation::FieldErrors;

text_enum!(
    /// What a question asks for. NPS, CSAT and CES are the scored ones a
    /// survey is summarised by.
    QuestionKind {
        Nps => "nps" / "Net Promoter Score (0–10)",
        Csat => "csat" / "Satisfaction (1–5)",
        Ces => "ces" / "Effort (1–7)",
        Rating => "rating" / "Rating (1–5)",
        SingleChoice => "single_choice" / "One choice",
        MultipleChoice => "multiple_choice" / "Several choices",
        FreeText => "free_text" / "Free text",
    }
);

text_enum!(
    /// Where an NPS answer falls: 9–10 promote, 7–8 are passive, 0–6
    /// detract.
    NpsGroup { Promoter => "promoter" / "Promoter", Passive => "passive" / "Passive", Detractor => "detractor" / "Detractor" }
);

impl NpsGroup {
    pub fn of(score: u8) -> NpsGroup {
        match score {
            9.. => NpsGroup::Promoter,
            7..=8 => NpsGroup::Passive,
            _ => NpsGroup::Detractor,
        }
    }

    /// The lowest and highest score in the group.
    pub fn scores(self) -> (u8, u8) {
        match self {
            NpsGroup::Promoter => (9, 10),
            NpsGroup::Passive => (7, 8),
            NpsGroup::Detractor => (0, 6),
        }
    }
}

impl QuestionKind {
    /// The lowest and highest score a scored question takes.
    pub fn scale(self) -> Option<(u8, u8)> {
        match self {
            QuestionKind::Nps => Some((0, 10)),
            QuestionKind::Csat | QuestionKind::Rating => Some((1, 5)),
            QuestionKind::Ces => Some((1, 7)),
            QuestionKind::SingleChoice | QuestionKind::MultipleChoice | QuestionKind::FreeText => None,
        }
    }

    /// The three measures a survey is summarised by.
    pub fn is_headline(self) -> bool {
        matches!(self, QuestionKind::Nps | QuestionKind::Csat | QuestionKind::Ces)
    }

    /// Whether a score marks an unhappy customer whose owner should follow
    /// up: NPS 0–6, CSAT 1–2, CES 1–3 (1 = very hard).
    pub fn is_detractor(self, score: u8) -> bool {
        match self {
            QuestionKind::Nps => NpsGroup::of(score) == NpsGroup::Detractor,
            QuestionKind::Csat => score <= 2,
            QuestionKind::Ces => score <= 3,
            _ => false,
        }
    }

    /// Whether a score counts as satisfied: CSAT 4–5, CES 5–7 (easy).
    pub fn is_satisfied(self, score: u8) -> bool {
        match self {
            QuestionKind::Csat | QuestionKind::Rating => score >= 4,
            QuestionKind::Ces => score >= 5,
            QuestionKind::Nps => score >= 9,
            _ => false,
        }
    }
}

/// One question of a survey. `key` names its answer in forms, the API and
/// CSV imports (`score`, `why`), so it is short and stays put.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Question {
    pub key: QuestionKey,
    pub kind: QuestionKind,
    pub text: Name,
    /// The options of a choice question (two or more).
    #[serde(default)]
    pub choices: Vec<Name>,
    #[serde(default)]
    pub required: bool,
}

/// A question's key: 1–32 lower-case letters, digits or `_`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct QuestionKey(String);

crate::schema::schema_from!(
    QuestionKey,
    crate::schema::text(1, 32, "^[a-z0-9_]+$", "1–32 lower-case letters, digits or _.")
);

impl QuestionKey {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let ok = (1..=32).contains(&raw.len())
            && raw.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if ok { Ok(QuestionKey(raw.to_owned())) } else { Err("must be 1–32 lower-case letters, digits or _".into()) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for QuestionKey {
    type Error = String;
    fn try_from(raw: String) -> Result<Self, String> {
        QuestionKey::parse(&raw)
    }
}

impl From<QuestionKey> for String {
    fn from(key: QuestionKey) -> String {
        key.0
    }
}

/// When a survey goes out by itself, besides being sent by hand.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "on", rename_all = "snake_case", deny_unknown_fields)]
pub enum SurveyTrigger {
    /// Only when staff send it.
    #[default]
    Manual,
    /// When a ticket is solved (only a team's tickets, if one is named).
    TicketSolved {
        #[serde(default)]
        team_id: Option<TeamId>,
    },
    /// When a deal is won.
    DealWon,
    /// When a deal is lost.
    DealLost,
    /// Again and again, as a relationship survey: everyone in the audience
    /// is asked once every `months` months.
    Every {
        #[schema(minimum = 1, maximum = 60)]
        months: u16,
        /// A people-list query string choosing who is asked (such as
        /// `segment=champions`); none asks every customer.
        #[serde(default)]
        audience: Option<String>,
    },
}

impl SurveyTrigger {
    /// The longest gap a scheduled survey may have: five years.
    pub const MAX_MONTHS: u16 = 60;

    /// How the survey goes out, in words.
    pub fn label(&self) -> String {
        match self {
            SurveyTrigger::Manual => "Sent by hand".into(),
            SurveyTrigger::TicketSolved { .. } => "After a ticket is solved".into(),
            SurveyTrigger::DealWon => "After a deal is won".into(),
            SurveyTrigger::DealLost => "After a deal is lost".into(),
            SurveyTrigger::Every { months: 1, .. } => "Every month".into(),
            SurveyTrigger::Every { months, .. } => format!("Every {months} months"),
        }
    }

    /// How long a scheduled survey leaves someone it asked before asking
    /// again; none for the other triggers. A month counts as 30 days: close
    /// enough that "every 6 months" comes round at the same time of year.
    pub fn repeat_after(&self) -> Option<time::Duration> {
        match self {
            SurveyTrigger::Every { months, .. } => Some(time::Duration::days(i64::from(*months) * 30)),
            _ => None,
        }
    }
}

/// Days a detractor's follow-up task is given: it falls due this long after the answer.
pub const FOLLOW_UP_DAYS: i64 = 2;

/// A survey as clients send it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SurveyInput {
    pub name: Name,
    #[schema(min_items = 1, max_items = 50)]
    pub questions: Vec<Question>,
    /// Shown above the questions.
    #[serde(default)]
    pub intro: Option<LongText>,
    /// Shown once the customer has answered.
    #[serde(default)]
    pub thanks: Option<LongText>,
    #[serde(default)]
    pub trigger: SurveyTrigger,
    /// Days after which a customer who has not answered is reminded once; none, never.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 364)]
    pub reminder_days: Option<u16>,
    /// Days a personal link stays open.
    #[serde(default = "default_expiry_days")]
    #[schema(minimum = 1, maximum = 365)]
    pub expiry_days: u16,
    #[serde(default = "default_true")]
    pub active: bool,
}

fn default_expiry_days() -> u16 {
    30
}

fn default_true() -> bool {
    true
}

impl SurveyInput {
    /// The rules a survey's questions keep: at least one, unique keys, two
    /// or more options on each choice question, none on others.
    pub fn check(&self) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::new();
        if self.questions.is_empty() {
            errors.add("questions", "a survey needs at least one question");
        }
        if self.questions.len() > 50 {
            errors.add("questions", "a survey has at most 50 questions");
        }
        let mut seen = std::collections::BTreeSet::new();
        for (i, q) in self.questions.iter().enumerate() {
            if !seen.insert(q.key.as_str()) {
                errors.add(format!("questions[{i}].key"), "is used by another question");
            }
            let is_choice = matches!(q.kind, QuestionKind::SingleChoice | QuestionKind::MultipleChoice);
            if is_choice && q.choices.len() < 2 {
                errors.add(format!("questions[{i}].choices"), "a choice question needs at least two options");
            }
            if !is_choice && !q.choices.is_empty() {
                errors.add(format!("questions[{i}].choices"), "only choice questions have options");
            }
        }
        if !(1..=365).contains(&self.expiry_days) {
            errors.add("expiry_days", "must be between 1 and 365");
        }
        if let SurveyTrigger::Every { months, .. } = self.trigger
            && !(1..=SurveyTrigger::MAX_MONTHS).contains(&months)
        {
            errors.add("trigger.months", format!("must be between 1 and {}", SurveyTrigger::MAX_MONTHS));
        }
        if self.reminder_days.is_some_and(|d| d == 0 || d >= self.expiry_days) {
            errors.add("reminder_days", "must be at least 1 and fewer than the days the link stays open");
        }
        errors.into_result()
    }

    /// The question a survey is summarised by: its first NPS, CSAT or CES.
    pub fn headline(&self) -> Option<&Question> {
        self.questions.iter().find(|q| q.kind.is_headline())
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Survey {
    pub id: SurveyId,
    #[serde(flatten)]
    pub fields: SurveyInput,
    #[serde(flatten)]
    pub meta: Meta,
}

/// The surveys Rapport ships: NPS, CSAT and CES, each asking why.
pub fn templates() -> Vec<SurveyInput> {
    let question = |key: &str, kind, text: &str, required| Question {
        key: QuestionKey(key.to_owned()),
        kind,
        text: Name::try_from(text).expect("template text fits"),
        choices: Vec::new(),
        required,
    };
    let survey = |name: &str, kind, ask: &str, trigger| SurveyInput {
        name: Name::try_from(name).expect("template name fits"),
        questions: vec![
            question("score", kind, ask, true),
            question("why", QuestionKind::FreeText, "What is the main reason for your answer?", false),
        ],
        intro: None,
        thanks: Some(LongText::try_from("Thank you — we read every answer.").expect("fits")),
        trigger,
        reminder_days: Some(3),
        expiry_days: 14,
        active: true,
    };
    vec![
        survey(
            "Net Promoter Score",
            QuestionKind::Nps,
            "How likely are you to recommend us to a friend or colleague?",
            SurveyTrigger::Manual,
        ),
        survey(
            "Support satisfaction",
            QuestionKind::Csat,
            "How satisfied were you with the help you got?",
            SurveyTrigger::TicketSolved { team_id: None },
        ),
        survey(
            "Customer effort",
            QuestionKind::Ces,
            "How easy was it to get what you needed? (1 = very hard, 7 = very easy)",
            SurveyTrigger::Manual,
        ),
    ]
}

/// One question's answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum Response {
    Score(u8),
    Text(String),
    Choices(Vec<String>),
}

/// An answer as checked against its survey: each question's response, the
/// headline score, and what the customer wrote.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CheckedAnswer {
    pub responses: BTreeMap<QuestionKey, Response>,
    pub headline: Option<(QuestionKind, u8)>,
    /// The free-text answers, joined: what sentiment and themes read.
    pub comment: Option<String>,
}

/// The longest free-text answer taken.
pub const MAX_COMMENT: usize = 5_000;

impl SurveyInput {
    /// Checks answers given as text (a form's fields, or a CSV's cells) by
    /// question key; a multiple choice may come as several values.
    pub fn check_answer(&self, given: &BTreeMap<String, Vec<String>>) -> Result<CheckedAnswer, FieldErrors> {
        let mut errors = FieldErrors::new();
        let mut responses = BTreeMap::new();
        let mut texts = Vec::new();
        for key in given.keys() {
            if !self.questions.iter().any(|q| q.key.as_str() == key) {
                errors.add(key.clone(), "is not a question of this survey");
            }
        }
        for q in &self.questions {
            let values: Vec<&str> = given
                .get(q.key.as_str())
                .map(|v| v.iter().map(|s| s.trim()).filter(|s| !s.is_empty()).collect())
                .unwrap_or_default();
            if values.is_empty() {
                if q.required {
                    errors.add(q.key.as_str(), "please answer this question");
                }
                continue;
            }
            let response = match q.kind.scale() {
                Some((low, high)) => match values.as_slice() {
                    [one] => match one.parse::<u8>() {
                        Ok(score) if (low..=high).contains(&score) => Response::Score(score),
                        _ => {
                            errors.add(q.key.as_str(), format!("must be a whole number from {low} to {high}"));
                            continue;
                        }
                    },
                    _ => {
                        errors.add(q.key.as_str(), "takes one score");
                        continue;
                    }
                },
                None if q.kind == QuestionKind::FreeText => {
                    let text = values.join("\n");
                    if text.chars().count() > MAX_COMMENT {
                        errors.add(q.key.as_str(), format!("must be at most {MAX_COMMENT} characters"));
                        continue;
                    }
                    texts.push(text.clone());
                    Response::Text(text)
                }
                None => {
                    if q.kind == QuestionKind::SingleChoice && values.len() > 1 {
                        errors.add(q.key.as_str(), "takes one choice");
                        continue;
                    }
                    if let Some(bad) = values.iter().find(|v| !q.choices.iter().any(|c| c.as_str() == **v)) {
                        errors.add(q.key.as_str(), format!("\"{bad}\" is not one of the options"));
                        continue;
                    }
                    Response::Choices(values.iter().map(|v| v.to_string()).collect())
                }
            };
            responses.insert(q.key.clone(), response);
        }
        errors.into_result()?;
        let headline = self.headline().and_then(|q| match responses.get(&q.key) {
            Some(Response::Score(score)) => Some((q.kind, *score)),
            _ => None,
        });
        let comment = (!texts.is_empty()).then(|| texts.join("\n\n"));
        Ok(CheckedAnswer { responses, headline, comment })
    }
}

text_enum!(
    /// How an answer reached Rapport.
    AnswerSource { Link => "link" / "Personal link", Phone => "phone" / "Recorded by staff", Import => "import" / "Imported" }
);

/// What an answer is about: the customer, and the ticket or deal and the
/// staff member it was sent for.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AnswerSubject {
    #[serde(default)]
    pub ticket_id: Option<TicketId>,
    #[serde(default)]
    pub deal_id: Option<DealId>,
    /// The staff member the answer is about: the assignee or owner when it was sent.
    #[serde(default)]
    pub staff_id: Option<UserId>,
}

/// A customer's answer, as Rapport returns it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Answer {
    pub id: AnswerId,
    pub survey_id: SurveyId,
    pub send_id: Option<SurveySendId>,
    pub person_id: PersonId,
    #[serde(flatten)]
    pub subject: AnswerSubject,
    pub source: AnswerSource,
    /// The headline question's kind and score.
    pub score_kind: Option<QuestionKind>,
    pub score: Option<u8>,
    #[schema(value_type = Object)]
    pub responses: BTreeMap<QuestionKey, Response>,
    pub comment: Option<String>,
    /// VADER compound score of the comment, −1 to 1.
    pub sentiment: Option<f64>,
    pub sentiment_label: Option<String>,
    /// The key phrases found in the comment.
    pub phrases: Vec<String>,
    pub external_id: Option<Name>,
    /// The follow-up task a detractor's answer opened.
    pub follow_up_task_id: Option<crate::ids::TaskId>,
    #[serde(with = "time::serde::rfc3339")]
    pub answered_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

impl Answer {
    pub fn nps_group(&self) -> Option<NpsGroup> {
        match (self.score_kind, self.score) {
            (Some(QuestionKind::Nps), Some(score)) => Some(NpsGroup::of(score)),
            _ => None,
        }
    }
}

text_enum!(
    /// Where a personal link stands.
    SendStatus {
        Sent => "sent" / "Sent",
        Reminded => "reminded" / "Reminded",
        Answered => "answered" / "Answered",
        Expired => "expired" / "Expired",
    }
);

/// One survey sent to one customer on a personal link.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SurveySend {
    pub id: SurveySendId,
    pub survey_id: SurveyId,
    pub person_id: PersonId,
    #[serde(flatten)]
    pub subject: AnswerSubject,
    pub status: SendStatus,
    /// Whether the link went out by email (through the outbox) or is to be copied.
    pub emailed: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub sent_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub reminded_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub answered_at: Option<OffsetDateTime>,
}

/// How long after the first answer the same link may change it.
pub const EDIT_WINDOW: time::Duration = time::Duration::hours(24);

/// The installation's survey settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SurveySettings {
    /// The address customers reach Rapport at (`https://crm.example.com`):
    /// personal links start with it. Unset, no survey can be sent.
    #[serde(default)]
    pub public_url: Option<PublicUrl>,
    /// Days in which a customer is not asked again after a survey was sent.
    #[serde(default = "default_quiet_days")]
    #[schema(maximum = 65_535)]
    pub quiet_days: u16,
}

fn default_quiet_days() -> u16 {
    30
}

impl Default for SurveySettings {
    fn default() -> Self {
        SurveySettings { public_url: None, quiet_days: default_quiet_days() }
    }
}

/// An http(s) address without a trailing slash, query or fragment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PublicUrl(String);

crate::schema::schema_from!(
    PublicUrl,
    crate::schema::text(
        8,
        207,
        "^https?://[^?#\\s\"<>/][^?#\\s\"<>]{0,198}$",
        "An http:// or https:// address without a query or fragment, such as https://crm.example.com."
    )
);

impl PublicUrl {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let trimmed = raw.trim().trim_end_matches('/');
        let rest = trimmed.strip_prefix("https://").or_else(|| trimmed.strip_prefix("http://"));
        match rest {
            Some(host)
                if !host.is_empty()
                    && host.chars().count() < 200
                    && !host.contains(['?', '#', '"', '<', '>'])
                    && !host.contains(char::is_whitespace) =>
            {
                Ok(PublicUrl(trimmed.to_owned()))
            }
            _ => Err("must be an http:// or https:// address, such as https://crm.example.com".into()),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The personal link of a token.
    pub fn survey_link(&self, token: &str) -> String {
        format!("{}/s/{token}", self.0)
    }
}

/// `text` with the token of every personal survey link in it hidden (`/s/…`):
/// an invitation kept in the outbox once it went out must not open the
/// customer's survey for whoever reads the outbox. Tokens are 43 URL-safe
/// characters; shorter runs after `/s/` are left alone.
pub fn hide_survey_tokens(text: &str) -> String {
    const TOKEN_CHARS: usize = 32;
    let mut hidden = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("/s/") {
        let (before, after) = rest.split_at(at + "/s/".len());
        hidden.push_str(before);
        let token = after.find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_')).unwrap_or(after.len());
        hidden.push_str(if token >= TOKEN_CHARS { "…" } else { &after[..token] });
        rest = &after[token..];
    }
    hidden.push_str(rest);
    hidden
}

impl TryFrom<String> for PublicUrl {
    type Error = String;
    fn try_from(raw: String) -> Result<Self, String> {
        PublicUrl::parse(&raw)
    }
}

impl From<PublicUrl> for String {
    fn from(url: PublicUrl) -> String {
        url.0
    }
}

text_enum!(
    /// Why a customer was not sent a survey.
    SkipReason {
        DoNotContact => "do_not_contact" / "Asked not to be contacted",
        QuietPeriod => "quiet_period" / "Asked recently",
        NotDue => "not_due" / "Asked by this survey within its period",
        NoEmail => "no_email" / "No email address",
        MailNotSetUp => "mail_not_set_up" / "Outgoing mail is not set up",
    }
);

/// Sending a survey to one customer. Read through [`SendWire`], since a
/// flattened struct lets unknown fields through.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(from = "SendWire")]
pub struct SendInput {
    pub person_id: PersonId,
    #[serde(flatten)]
    pub subject: AnswerSubject,
    /// Email the link (through the outbox); false only makes the link, to copy into another channel.
    #[serde(default = "default_true")]
    pub email: bool,
}

/// [`SendInput`] as clients send it: every field named, so that an unknown
/// one is refused.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SendWire {
    person_id: PersonId,
    #[serde(default)]
    ticket_id: Option<TicketId>,
    #[serde(default)]
    deal_id: Option<DealId>,
    #[serde(default)]
    staff_id: Option<UserId>,
    #[serde(default = "default_true")]
    email: bool,
}

impl From<SendWire> for SendInput {
    fn from(wire: SendWire) -> SendInput {
        SendInput {
            person_id: wire.person_id,
            subject: AnswerSubject { ticket_id: wire.ticket_id, deal_id: wire.deal_id, staff_id: wire.staff_id },
            email: wire.email,
        }
    }
}

/// What sending to one customer did.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum SendOutcome {
    /// The personal link: shown this once, since only its hash is kept.
    Sent {
        send: SurveySend,
        link: String,
    },
    Skipped {
        reason: SkipReason,
    },
}

#[cfg(test)]
mod tests {
    #[test]
    fn sent_invitations_hide_their_tokens() {
        let url = PublicUrl::parse("https://crm.example.com").unwrap();
        let token = "a".repeat(20) + "-_" + &"Z9".repeat(10) + "x";
        let body = format!(
            "Hi Ann,\n{}\nor {}.\nSee /s/help and https://x.example/s/",
            url.survey_link(&token),
            url.survey_link(&token)
        );
        let hidden = hide_survey_tokens(&body);
        assert!(!hidden.contains(&token), "{hidden}");
        assert_eq!(
            hidden,
            "Hi Ann,\nhttps://crm.example.com/s/…\nor https://crm.example.com/s/….\nSee /s/help and https://x.example/s/"
        );
        assert_eq!(hide_survey_tokens("no link"), "no link");
        assert_eq!(hide_survey_tokens("ünïcode /s/"), "ünïcode /s/");
    }

    use super::*;

    #[test]
    fn nps_groups_follow_the_published_cut_offs() {
        let groups: Vec<NpsGroup> = (0..=10).map(NpsGroup::of).collect();
        assert_eq!(groups[..7], [NpsGroup::Detractor; 7]);
        assert_eq!(groups[7..9], [NpsGroup::Passive; 2]);
        assert_eq!(groups[9..], [NpsGroup::Promoter; 2]);
        for group in NpsGroup::ALL {
            let (low, high) = group.scores();
            assert!((low..=high).all(|s| NpsGroup::of(s) == *group));
        }
    }

    #[test]
    fn detractors_are_the_hard_side_of_each_scale() {
        assert!(QuestionKind::Csat.is_detractor(2) && !QuestionKind::Csat.is_detractor(3));
        assert!(QuestionKind::Ces.is_detractor(3) && !QuestionKind::Ces.is_detractor(4));
        assert!(QuestionKind::Nps.is_detractor(6) && !QuestionKind::Nps.is_detractor(7));
        assert!(!QuestionKind::FreeText.is_detractor(0));
    }

    fn given(pairs: &[(&str, &str)]) -> BTreeMap<String, Vec<String>> {
        let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (k, v) in pairs {
            map.entry(k.to_string()).or_default().push(v.to_string());
        }
        map
    }

    #[test]
    fn the_templates_are_valid_and_ask_why() {
        for t in templates() {
            t.check().unwrap();
            assert!(t.headline().is_some());
            assert!(t.questions.iter().any(|q| q.kind == QuestionKind::FreeText));
        }
    }

    #[test]
    fn an_answer_is_checked_against_its_questions() {
        let nps = &templates()[0];
        let ok = nps.check_answer(&given(&[("score", "3"), ("why", "  Late delivery again ")])).unwrap();
        assert_eq!(ok.headline, Some((QuestionKind::Nps, 3)));
        assert_eq!(ok.comment.as_deref(), Some("Late delivery again"));

        let errors = nps.check_answer(&given(&[("score", "11"), ("other", "x")])).unwrap_err();
        assert!(errors.get("score").unwrap().contains("0 to 10"));
        assert!(errors.get("other").is_some());
        let errors = nps.check_answer(&given(&[("why", "no score")])).unwrap_err();
        assert_eq!(errors.get("score"), Some("please answer this question"));
    }

    #[test]
    fn choices_must_be_offered_ones() {
        let mut survey = templates()[0].clone();
        survey.questions.push(Question {
            key: QuestionKey::parse("channel").unwrap(),
            kind: QuestionKind::MultipleChoice,
            text: Name::try_from("Where did you hear of us?").unwrap(),
            choices: vec![Name::try_from("Web").unwrap(), Name::try_from("Friend").unwrap()],
            required: false,
        });
        survey.check().unwrap();
        let ok = survey.check_answer(&given(&[("score", "9"), ("channel", "Web"), ("channel", "Friend")])).unwrap();
        assert_eq!(
            ok.responses[&QuestionKey::parse("channel").unwrap()],
            Response::Choices(vec!["Web".into(), "Friend".into()])
        );
        assert!(survey.check_answer(&given(&[("score", "9"), ("channel", "TV")])).is_err());
    }

    #[test]
    fn public_urls_are_plain_http_addresses() {
        let url = PublicUrl::parse(" https://crm.example.com/ ").unwrap();
        assert_eq!(url.survey_link("abc"), "https://crm.example.com/s/abc");
        for bad in ["crm.example.com", "ftp://x", "https://", "https://x.com/?a=1", "javascript:alert(1)"] {
            assert!(PublicUrl::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_survey_without_questions_or_with_twin_keys_is_refused() {
        let mut survey = templates()[0].clone();
        survey.questions[1].key = survey.questions[0].key.clone();
        assert!(survey.check().unwrap_err().get("questions[1].key").is_some());
        survey.questions.clear();
        assert!(survey.check().unwrap_err().get("questions").is_some());
    }
}

/// "You said, we did": what the business did about a theme customers
/// raise, as a manager or admin writes it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ThemeNoteInput {
    /// The theme's name as the themes list shows it (compared without case).
    pub theme: Name,
    pub body: LongText,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ThemeNote {
    pub id: ThemeNoteId,
    pub theme: String,
    pub body: String,
    pub author_id: Option<UserId>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

impl ThemeNoteInput {
    /// The key a theme's notes are filed under: its name in lower case, so a
    /// theme renamed only in case keeps them.
    pub fn theme_key(name: &str) -> String {
        name.trim().to_lowercase()
    }
}
