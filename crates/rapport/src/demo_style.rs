//! The demo's staff styles: four staff members who work their customers in
//! ways the scorecards tell apart. Leo answers within the hour, by email
//! only, once, and customers rate him lukewarm; Sana takes a day to reply
//! but calls and meets on each customer's preferred channel, follows up,
//! drops some tasks, and customers love her; Ada reaches out before
//! customers write; Marta, their manager, sits in between. Sixty days of
//! touches, a month of tasks and their NPS answers; each one's
//! self-assessment, and a feedback round the other three answered (Leo
//! rates his personal touch far above what colleagues see; Sana rates
//! herself below it).

use anyhow::{Context, Result};
use rand::Rng;
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rapport_domain::goals::{GoalInput, GoalScope};
use rapport_domain::records::{ActivityInput, ActivityKind, Channel, Direction, Links, Person, TaskInput};
use rapport_domain::style::Figure;
use rapport_domain::style_feedback::{FeedbackRoundInput, Questionnaire, RatingsInput};
use rapport_domain::surveys::{AnswerSource, AnswerSubject, templates};
use rapport_domain::text::LongText;
use rapport_domain::text::Name;
use rapport_domain::{Actor, UserId};
use rapport_storage::{RecordedAnswer, Store};
use time::{Duration, OffsetDateTime};

/// How one staff member works.
pub struct Style {
    pub email: &'static str,
    /// How long a reply to a customer's message takes, in hours (from, to).
    reply_hours: (f64, f64),
    /// Touches after each reply (follow-ups).
    follow_ups: u32,
    /// The kinds of touch they use.
    kinds: &'static [ActivityKind],
    /// Whether they use the customer's preferred channel when there is one.
    uses_preferred: bool,
    /// The chance of reaching a customer before they write.
    reaches_first: f64,
    /// The share of their tasks they drop.
    drops: f64,
    /// The NPS scores their customers give.
    nps: &'static [u8],
    /// How they rate themselves, and how colleagues rate them, per
    /// dimension (responsiveness, follow-through, proactivity, personal
    /// touch, outcomes), 1 to 5.
    self_view: [u8; 5],
    colleague_view: [u8; 5],
    /// What colleagues write about them.
    comments: [&'static str; 3],
}

pub const STYLES: [Style; 4] = [
    Style {
        email: "leo.brandt@example.com",
        reply_hours: (0.2, 1.5),
        follow_ups: 0,
        kinds: &[ActivityKind::Email],
        uses_preferred: false,
        reaches_first: 0.05,
        drops: 0.05,
        nps: &[6, 7, 7, 8, 5, 9, 6, 8],
        self_view: [5, 5, 4, 5, 4],
        colleague_view: [5, 4, 2, 2, 3],
        comments: [
            "Answers before you have finished asking.",
            "Could take more time with customers; his emails are very short.",
            "Never lets a ticket sit.",
        ],
    },
    Style {
        email: "sana.iqbal@example.com",
        reply_hours: (18.0, 40.0),
        follow_ups: 2,
        kinds: &[ActivityKind::Call, ActivityKind::Meeting, ActivityKind::Email, ActivityKind::Message],
        uses_preferred: true,
        reaches_first: 0.5,
        drops: 0.35,
        nps: &[10, 10, 9, 9, 8, 10, 10, 9],
        self_view: [2, 3, 4, 3, 4],
        colleague_view: [2, 3, 4, 5, 5],
        comments: [
            "Customers ask for her by name.",
            "Slow to reply, but the reply is always worth it.",
            "Remembers everything about every customer.",
        ],
    },
    Style {
        email: "ada.mwangi@example.com",
        reply_hours: (2.0, 6.0),
        follow_ups: 1,
        kinds: &[ActivityKind::Call, ActivityKind::Email, ActivityKind::Message],
        uses_preferred: true,
        reaches_first: 0.85,
        drops: 0.1,
        nps: &[9, 8, 10, 7, 9, 9, 8],
        self_view: [4, 4, 5, 4, 4],
        colleague_view: [4, 4, 5, 4, 4],
        comments: [
            "Calls customers before they notice a problem.",
            "Reliable and clear.",
            "Shares what she learns with the team.",
        ],
    },
    Style {
        email: "marta.quinn@example.com",
        reply_hours: (4.0, 10.0),
        follow_ups: 1,
        kinds: &[ActivityKind::Email, ActivityKind::Call],
        uses_preferred: false,
        reaches_first: 0.4,
        drops: 0.15,
        nps: &[8, 9, 7, 9, 6, 8, 9],
        self_view: [4, 5, 3, 4, 4],
        colleague_view: [3, 3, 3, 3, 4],
        comments: [
            "A calm manager in a crisis.",
            "Could delegate more and follow up less by email.",
            "Good with difficult customers.",
        ],
    },
];

/// The kind of touch that uses a preferred channel.
fn kind_for(channel: Channel) -> Option<ActivityKind> {
    match channel {
        Channel::Phone => Some(ActivityKind::Call),
        Channel::Email => Some(ActivityKind::Email),
        Channel::InPerson => Some(ActivityKind::Meeting),
        Channel::Sms | Channel::Whatsapp => Some(ActivityKind::Message),
        Channel::Post => None,
    }
}

fn touch(
    staff: UserId,
    person: &Person,
    kind: ActivityKind,
    direction: Direction,
    at: OffsetDateTime,
) -> ActivityInput {
    let subject = match direction {
        Direction::Inbound => "Question from the customer",
        _ => "Following up",
    };
    ActivityInput {
        kind,
        direction: Some(direction),
        occurred_at: Some(at.replace_nanosecond(0).expect("whole seconds")),
        subject: Some(Name::try_from(subject.to_owned()).expect("a short subject")),
        body: None,
        author_id: Some(staff),
        links: Links { person_id: Some(person.id), company_id: person.fields.company_id, deal_id: None },
    }
}

/// Writes each style's touches, tasks and answers for `staff` (the user
/// id of each [`STYLES`] entry, in order) with `customers`; returns how
/// many touches it wrote.
pub async fn staff_styles(
    store: &Store,
    actor: &Actor,
    rng: &mut StdRng,
    now: OffsetDateTime,
    staff: &[UserId],
    customers: &[&Person],
) -> Result<usize> {
    if customers.is_empty() {
        return Ok(0);
    }
    let nps_name = templates()[0].name.clone();
    let surveys = store.list_surveys().await?;
    let nps = surveys.iter().find(|s| s.fields.name == nps_name).context("the demo's NPS survey")?;
    let mut written = 0;
    for (style, &user) in STYLES.iter().zip(staff) {
        let mut touches = Vec::new();
        for person in customers.choose_multiple(rng, 30) {
            let preferred = person.fields.preferences.preferred_channel.and_then(kind_for);
            let pick = |rng: &mut StdRng| match preferred.filter(|_| style.uses_preferred) {
                Some(kind) => kind,
                None => *style.kinds.choose(rng).expect("kinds"),
            };
            let mut at = now - Duration::days(60) + Duration::hours(rng.random_range(0..24 * 40));
            if rng.random_bool(style.reaches_first) {
                touches.push(touch(user, person, pick(rng), Direction::Outbound, at));
                at += Duration::days(rng.random_range(8..12));
            }
            touches.push(touch(user, person, ActivityKind::Email, Direction::Inbound, at));
            let (low, high) = style.reply_hours;
            at += Duration::seconds((rng.random_range(low..high) * 3600.0) as i64);
            touches.push(touch(user, person, pick(rng), Direction::Outbound, at));
            for _ in 0..style.follow_ups {
                at += Duration::days(rng.random_range(8..15));
                touches.push(touch(user, person, pick(rng), Direction::Outbound, at));
            }
        }
        touches.retain(|t| t.occurred_at.is_some_and(|at| at < now));
        written += touches.len();
        store.create_activities(actor, touches).await?;

        // A month of tasks: those done were done now, after they fell due.
        let tasks: Vec<TaskInput> = (0..12)
            .map(|i| {
                let person = customers.choose(rng).expect("customers");
                TaskInput {
                    title: Name::try_from(format!("Check in with {}", person.fields.first_name))
                        .expect("a short title"),
                    notes: None,
                    due_at: Some((now - Duration::days(2 + i * 2)).replace_nanosecond(0).expect("whole seconds")),
                    assignee_id: Some(user),
                    done: !rng.random_bool(style.drops),
                    links: Links { person_id: Some(person.id), company_id: None, deal_id: None },
                }
            })
            .collect();
        store.create_tasks(actor, tasks).await?;

        for (i, score) in style.nps.iter().enumerate() {
            let person = customers.choose(rng).expect("customers");
            let comment =
                if *score >= 9 { "Always takes the time to listen." } else { "Quick answers, but short ones." };
            let answer = RecordedAnswer {
                survey_id: nps.id,
                person_id: person.id,
                subject: AnswerSubject { staff_id: Some(user), ..Default::default() },
                given: [("score".to_owned(), vec![score.to_string()]), ("why".to_owned(), vec![comment.to_owned()])]
                    .into(),
                answered_at: Some(now - Duration::days(3 + 6 * i as i64)),
                source: AnswerSource::Phone,
                external_id: None,
            };
            store.record_answer(actor, answer).await.context("recording a demo answer about a staff member")?;
        }
    }
    Ok(written)
}

/// Ratings for every question of `questionnaire` from a view per
/// dimension, each moved by up to one point when `jitter` is given.
fn ratings_for(
    questionnaire: &Questionnaire,
    view: [u8; 5],
    jitter: Option<&mut StdRng>,
    comment: Option<&str>,
) -> RatingsInput {
    let mut rng = jitter;
    let scores = questionnaire
        .questions
        .iter()
        .map(|q| {
            let base =
                view[rapport_domain::style::Dimension::ALL.iter().position(|d| *d == q.dimension).expect("listed")];
            let moved = match rng.as_deref_mut() {
                Some(rng) => base as i8 + rng.random_range(-1i8..=1),
                None => base as i8,
            };
            (q.key.as_str().to_owned(), moved.clamp(1, 5) as u8)
        })
        .collect();
    RatingsInput { scores, comment: comment.map(|c| LongText::try_from(c).expect("a short comment")) }
}

/// Each style's self-assessment, and a feedback round about each that the
/// other three answered, so every profile shows all three views.
pub async fn staff_reviews(store: &Store, actor: &Actor, rng: &mut StdRng, staff: &[UserId]) -> Result<()> {
    let questionnaire = store.style_questionnaire().await?;
    let mut actors = Vec::new();
    for &id in staff {
        let user = store.get_user(id).await?;
        actors.push(Actor { user_id: user.id, role: user.fields.role, team_id: user.fields.team_id });
    }
    for (style, me) in STYLES.iter().zip(&actors) {
        store.add_self_assessment(me, ratings_for(&questionnaire, style.self_view, None, None)).await?;
        let colleagues: Vec<&Actor> = actors.iter().filter(|a| a.user_id != me.user_id).collect();
        let round = FeedbackRoundInput {
            subject_id: me.user_id,
            colleague_ids: colleagues.iter().map(|a| a.user_id).collect(),
            open_days: Some(14),
            note: Some(LongText::try_from("How do I come across with customers?").expect("a short note")),
        };
        let round = store.create_feedback_round(actor, round).await.context("a demo feedback round")?;
        for (colleague, comment) in colleagues.into_iter().zip(style.comments) {
            let request = store
                .pending_feedback_requests(colleague)
                .await?
                .into_iter()
                .find(|r| r.round_id == round.id)
                .context("the colleague's request")?;
            let answer = ratings_for(&questionnaire, style.colleague_view, Some(rng), Some(comment));
            store.answer_feedback_request(colleague, request.id, answer).await?;
        }
    }
    Ok(())
}

/// Goals to follow: the business's NPS, the sales team's tasks on time, and
/// Leo's use of each customer's preferred channel (his widest gap).
pub async fn staff_goals(
    store: &Store,
    actor: &Actor,
    now: OffsetDateTime,
    sales: rapport_domain::TeamId,
    leo: UserId,
) -> Result<()> {
    let goals = [
        (Figure::Nps, GoalScope::Business, 50.0, 90, "Ask every detractor back within a week."),
        (
            Figure::TasksOnTime,
            GoalScope::Team { team_id: sales },
            80.0,
            60,
            "Every promise made on a call gets a task.",
        ),
        (
            Figure::PreferredChannel,
            GoalScope::User { user_id: leo },
            60.0,
            45,
            "Call the customers who prefer the phone.",
        ),
    ];
    for (figure, scope, target, days, note) in goals {
        let input = GoalInput {
            figure,
            scope,
            comparison: None,
            target,
            due_on: (now + Duration::days(days)).date(),
            note: Some(LongText::try_from(note).expect("a short note")),
        };
        store.create_goal(actor, input).await.context("a demo goal")?;
    }
    Ok(())
}
