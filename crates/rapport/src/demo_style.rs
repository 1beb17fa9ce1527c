//! The demo's staff styles: four staff members who work their customers in
//! ways the scorecards tell apart. Leo answers within the hour, by email
//! only, once, and customers rate him lukewarm; Sana takes a day to reply
//! but calls and meets on each customer's preferred channel, follows up,
//! drops some tasks, and customers love her; Ada reaches out before
//! customers write; Marta, their manager, sits in between. Sixty days of
//! touches, a month of tasks and their NPS answers.

use anyhow::{Context, Result};
use rand::Rng;
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rapport_domain::records::{ActivityInput, ActivityKind, Channel, Direction, Links, Person, TaskInput};
use rapport_domain::surveys::{AnswerSource, AnswerSubject, templates};
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
