//! The demo's customer feedback: the shipped NPS, CSAT and CES surveys,
//! nine months of answers taken by phone or imported, and a few personal
//! links still waiting for an answer. The comments tell stories the themes
//! find: complaints about late delivery rise over the last three months,
//! praise for friendly support stays steady, price comes up now and then;
//! each score fits its comment (whoever complains detracts), and each
//! answer is about the customer's owner, so the figures group by staff.
//! A survey built from nothing goes to the champions twice a year; price is
//! pinned as "Pricing", and late delivery has a "you said, we did" note.

use std::collections::BTreeMap;

use anyhow::{Context, Result};
use rand::Rng;
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rapport_domain::Actor;
use rapport_domain::records::Person;
use rapport_domain::surveys::{
    AnswerSource, AnswerSubject, PublicUrl, Question, QuestionKey, QuestionKind, SendInput, SendOutcome, SurveyInput,
    SurveySettings, SurveyTrigger, ThemeNoteInput, templates,
};
use rapport_domain::text::{LongText, Name};
use rapport_storage::{RecordedAnswer, Store};
use rapport_text::ThemeRule;
use time::{Duration, OffsetDateTime};

/// Where the demo's personal links point: `rapport serve`'s default address.
const PUBLIC_URL: &str = "http://127.0.0.1:8080";

/// How far back the answers go.
const HISTORY_DAYS: i64 = 270;

/// What a comment is about, which sets the score that comes with it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Story {
    LateDelivery,
    FriendlySupport,
    Price,
    Mixed,
    Praise,
    Silent,
}

const LATE_DELIVERY: &[&str] = &[
    "Late delivery again. Nobody told us the parcel was stuck.",
    "Another late delivery this month, very disappointing.",
    "The late delivery ruined our launch week.",
    "Late delivery for the second order in a row. Not good enough.",
    "We waited ten days: late delivery and no tracking updates.",
    "Late delivery, and the box arrived damaged.",
];

const FRIENDLY_SUPPORT: &[&str] = &[
    "Friendly support, they solved my problem in minutes.",
    "Really friendly support team, thank you!",
    "The friendly support staff made all the difference.",
    "Quick and friendly support as always.",
    "Friendly support and a great product. Happy customer!",
];

const PRICE: &[&str] = &[
    "Good product, but the price is too high for us.",
    "The price went up again; we are comparing offers.",
    "Fair price for what we get, nothing special.",
    "The price is a bit steep for a small team.",
];

const MIXED: &[&str] = &[
    "Friendly support, but the late delivery cost us a day.",
    "Great product, shame about the price.",
    "The app is great, yet the late delivery was annoying.",
];

const PRAISE: &[&str] = &[
    "Great product, easy to use.",
    "Everything works as promised. Love it.",
    "Reliable service, would recommend to anyone.",
];

/// What the demo made: answers recorded, links sent, links answered.
pub(crate) struct FeedbackMade {
    pub answers: usize,
    pub sent: usize,
    pub answered: usize,
}

/// The story of an answer `age` days old: late delivery comes up far more
/// in the last three months than before.
fn story(rng: &mut StdRng, age: i64) -> Story {
    let late = if age < 90 { 0.28 } else { 0.06 };
    let roll: f64 = rng.random();
    let cuts = [
        (late, Story::LateDelivery),
        (late + 0.22, Story::FriendlySupport),
        (late + 0.34, Story::Price),
        (late + 0.40, Story::Mixed),
        (late + 0.52, Story::Praise),
    ];
    cuts.iter().find(|(cut, _)| roll < *cut).map(|(_, s)| *s).unwrap_or(Story::Silent)
}

fn comment(rng: &mut StdRng, story: Story) -> Option<&'static str> {
    let list = match story {
        Story::LateDelivery => LATE_DELIVERY,
        Story::FriendlySupport => FRIENDLY_SUPPORT,
        Story::Price => PRICE,
        Story::Mixed => MIXED,
        Story::Praise => PRAISE,
        Story::Silent => return None,
    };
    list.choose(rng).copied()
}

/// A score on the question's scale that fits the story.
fn score(rng: &mut StdRng, kind: QuestionKind, story: Story) -> u8 {
    let (low, high): (u8, u8) = match (kind, story) {
        (QuestionKind::Nps, Story::LateDelivery) => (0, 6),
        (QuestionKind::Nps, Story::FriendlySupport) => (9, 10),
        (QuestionKind::Nps, Story::Price) => (6, 8),
        (QuestionKind::Nps, Story::Mixed) => (5, 8),
        (QuestionKind::Nps, Story::Praise) => (8, 10),
        (QuestionKind::Nps, Story::Silent) => *[(3, 6), (7, 8), (9, 10), (9, 10)].choose(rng).expect("ranges"),
        (QuestionKind::Csat, Story::LateDelivery) => (1, 2),
        (QuestionKind::Csat, Story::FriendlySupport) => (5, 5),
        (QuestionKind::Csat, Story::Price | Story::Mixed) => (3, 4),
        (QuestionKind::Csat, Story::Praise) => (4, 5),
        (QuestionKind::Csat, Story::Silent) => *[(2, 3), (4, 5), (4, 5)].choose(rng).expect("ranges"),
        (_, Story::LateDelivery) => (1, 3),
        (_, Story::FriendlySupport) => (6, 7),
        (_, Story::Price | Story::Mixed) => (4, 5),
        (_, Story::Praise | Story::Silent) => (5, 7),
    };
    rng.random_range(low..=high)
}

fn given(score: u8, comment: Option<&str>) -> BTreeMap<String, Vec<String>> {
    let mut given = BTreeMap::from([("score".to_owned(), vec![score.to_string()])]);
    if let Some(comment) = comment {
        given.insert("why".to_owned(), vec![comment.to_owned()]);
    }
    given
}

/// Installs the surveys and records `count` answers from `customers`, then
/// sends links to a few more; `now` is the demo's fixed "now".
pub(crate) async fn feedback_history(
    store: &Store,
    actor: &Actor,
    rng: &mut StdRng,
    now: OffsetDateTime,
    customers: &[&Person],
    count: usize,
) -> Result<FeedbackMade> {
    let public_url = PublicUrl::parse(PUBLIC_URL).map_err(|e| anyhow::anyhow!("the demo's public address {e}"))?;
    let settings = SurveySettings { public_url: Some(public_url), ..SurveySettings::default() };
    store.set_survey_settings(actor, settings).await?;
    let mut surveys = Vec::new();
    for template in templates() {
        surveys.push(store.create_survey(actor, template).await?);
    }
    let [nps, csat, ces] = surveys.as_slice() else { anyhow::bail!("the demo expects three survey templates") };
    if customers.is_empty() {
        return Ok(FeedbackMade { answers: 0, sent: 0, answered: 0 });
    }

    for i in 0..count {
        let person = customers.choose(rng).expect("customers");
        let age = rng.random_range(0..HISTORY_DAYS);
        let answered_at = now - Duration::days(age) - Duration::seconds(rng.random_range(0..86_400));
        let (survey, kind) = match rng.random_range(0..100) {
            0..60 => (nps, QuestionKind::Nps),
            60..92 => (csat, QuestionKind::Csat),
            _ => (ces, QuestionKind::Ces),
        };
        let story = story(rng, age);
        let score = score(rng, kind, story);
        let imported = rng.random_bool(0.3);
        let answer = RecordedAnswer {
            survey_id: survey.id,
            person_id: person.id,
            subject: AnswerSubject { staff_id: person.fields.owner_id, ..Default::default() },
            given: given(score, comment(rng, story)),
            answered_at: Some(answered_at),
            source: if imported { AnswerSource::Import } else { AnswerSource::Phone },
            external_id: imported
                .then(|| Name::try_from(format!("demo-survey-{}", i + 1)).expect("a short external id")),
        };
        store.record_answer(actor, answer).await.context("recording a demo answer")?;
    }

    // Links sent this week: a third answered at once, the rest still open.
    let wanted = (count / 10).clamp(3, 30);
    let (mut sent, mut answered) = (0, 0);
    for person in customers.iter().filter(|p| !p.fields.preferences.do_not_contact).take(wanted) {
        let input = SendInput {
            person_id: person.id,
            subject: AnswerSubject { staff_id: person.fields.owner_id, ..Default::default() },
            email: false,
        };
        let SendOutcome::Sent { link, .. } = store.send_survey(actor, nps.id, input).await? else { continue };
        sent += 1;
        if sent % 3 == 0 {
            let token = link.rsplit_once("/s/").map(|(_, token)| token).context("a personal link")?;
            let story = story(rng, 0);
            let score = score(rng, QuestionKind::Nps, story);
            store.answer_survey_link(token, &given(score, comment(rng, story))).await?;
            answered += 1;
        }
    }
    steer_themes(store, actor).await?;
    Ok(FeedbackMade { answers: count + answered, sent, answered })
}

/// A survey built from nothing that goes to the champions twice a year.
fn relationship_survey() -> Result<SurveyInput> {
    let question = |key: &str, kind, text: &str, choices: &[&str], required| -> Result<Question> {
        Ok(Question {
            key: QuestionKey::parse(key).map_err(|e| anyhow::anyhow!("demo question key {e}"))?,
            kind,
            text: Name::try_from(text).map_err(|e| anyhow::anyhow!("demo question {e}"))?,
            choices: choices
                .iter()
                .map(|c| Name::try_from(*c))
                .collect::<Result<_, _>>()
                .map_err(anyhow::Error::msg)?,
            required,
        })
    };
    Ok(SurveyInput {
        name: Name::try_from("Twice-yearly check-in").map_err(anyhow::Error::msg)?,
        questions: vec![
            question("score", QuestionKind::Nps, "How likely are you to recommend us to a colleague?", &[], true)?,
            question("rating", QuestionKind::Rating, "How well do we know what you need?", &[], false)?,
            question(
                "contact",
                QuestionKind::SingleChoice,
                "How would you like to hear from us?",
                &["Email", "Phone", "A visit"],
                false,
            )?,
            question("why", QuestionKind::FreeText, "What should we do better?", &[], false)?,
        ],
        intro: Some(
            LongText::try_from("Two minutes, twice a year: it tells us what to fix first.")
                .map_err(anyhow::Error::msg)?,
        ),
        thanks: None,
        trigger: SurveyTrigger::Every { months: 6, audience: Some("segment=champions".into()) },
        reminder_days: Some(5),
        expiry_days: 21,
        active: true,
    })
}

/// The admin's touch on the themes: price is pinned as "Pricing", and the
/// late deliveries got a "you said, we did" note.
async fn steer_themes(store: &Store, actor: &Actor) -> Result<()> {
    store.create_survey(actor, relationship_survey()?).await?;
    let pricing = ThemeRule { phrase: "price".into(), theme: "Pricing".into(), pinned: true };
    store.set_theme_rules(actor, vec![pricing]).await?;
    let note = ThemeNoteInput {
        theme: Name::try_from("late delivery").map_err(anyhow::Error::msg)?,
        body: LongText::try_from(
            "We moved to a faster courier in November, and every order now carries a tracking link.",
        )
        .map_err(anyhow::Error::msg)?,
    };
    store.add_theme_note(actor, note).await?;
    Ok(())
}
