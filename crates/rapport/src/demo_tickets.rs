//! The demo's support desk: office hours, two response-target policies, and
//! three months of tickets with their conversations. Most are answered in
//! time; some late, and a few still open past their targets, so the queues
//! and clocks have something to show.

use anyhow::Result;
use rand::Rng;
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rapport_domain::mail::{InboundAttachment, InboundEmail, reply_subject};
use rapport_domain::records::Person;
use rapport_domain::sla::{
    CalendarHours, CalendarInput, SlaCondition, SlaPolicyInput, Targets, TimeOfDay, TimeZoneName, Weekday,
    WorkingPeriod,
};
use rapport_domain::text::{LongText, Name};
use rapport_domain::tickets::{MessageInput, MessageKind, TicketChannel, TicketInput, TicketPriority, TicketStatus};
use rapport_domain::{Actor, Email, TeamId, TicketId, UserId};
use rapport_storage::Store;
use time::{Duration, OffsetDateTime};

const QUESTIONS: &[(&str, &str)] = &[
    ("Cannot log in", "Since this morning I cannot log in: it says my password is wrong, but I have not changed it."),
    ("Invoice copy", "Could you send me a copy of last month's invoice? Our accountant needs it by Friday."),
    ("Delivery is late", "My order was due on Monday and the tracking has not moved for three days."),
    ("Wrong item received", "The box had the blue model in it; I ordered the green one. How do I swap it?"),
    ("Change of address", "We moved offices. Please send future deliveries to our new address."),
    ("Refund request", "I returned the parcel two weeks ago and have not seen the refund yet."),
    ("Export to CSV fails", "The export stops halfway with an error. I attached nothing, it is the same every time."),
    ("Question about pricing", "Is there a discount for a yearly plan, and can we add seats later?"),
];

const REPLIES: &[&str] = &[
    "Thank you for writing. I have looked into it and fixed it on our side; could you try again?",
    "Sorry for the trouble. I have sent it to you just now; let me know if anything is missing.",
    "Thanks for your patience. The carrier had a delay in the hub; your parcel is moving again today.",
    "I have arranged the exchange: a courier will collect the box tomorrow and bring the right one.",
];

const FOLLOW_UPS: &[&str] =
    &["Thanks, that worked!", "It still does not work, I am afraid.", "Perfect, thank you for the quick help."];

/// A customer's question as their mail program sent it, carrying the
/// ticket's token so it files under the ticket the demo opened.
fn emailed_question(ticket: TicketId, from: &Email, person: &Person, subject: &str, question: &str) -> InboundEmail {
    let attachments = if subject == "Export to CSV fails" {
        vec![InboundAttachment {
            filename: "export-error.txt".to_owned(),
            content_type: "text/plain".to_owned(),
            data: b"Export failed at row 1841: unexpected end of input\n".to_vec(),
        }]
    } else {
        Vec::new()
    };
    InboundEmail {
        key: format!("id:demo-{}@mail.example", ticket.0.simple()),
        message_id: Some(format!("demo-{}@mail.example", ticket.0.simple())),
        answers: Vec::new(),
        from: from.clone(),
        from_name: Some(person.fields.first_name.to_string()),
        to: vec!["support@rapport.example".to_owned()],
        subject: reply_subject(subject, ticket),
        text: question.to_owned(),
        html: Some(format!("<p>{question}</p><p>Best regards,<br>{}</p>", person.fields.first_name)),
        attachments,
        too_large: Vec::new(),
        automatic: None,
    }
}

fn text(raw: &str) -> LongText {
    LongText::try_from(raw).expect("valid demo text")
}

fn office_hours() -> CalendarInput {
    let time = |raw: &str| TimeOfDay::try_from(raw.to_owned()).expect("a valid time");
    let mut periods = Vec::new();
    for day in [Weekday::Monday, Weekday::Tuesday, Weekday::Wednesday, Weekday::Thursday, Weekday::Friday] {
        periods.push(WorkingPeriod { day, start: time("08:00"), end: time("12:30") });
        periods.push(WorkingPeriod { day, start: time("13:30"), end: time("18:00") });
    }
    CalendarInput {
        name: Name::try_from("Office hours").expect("a valid name"),
        hours: CalendarHours {
            time_zone: TimeZoneName::try_from("Europe/Berlin".to_owned()).expect("a known zone"),
            periods,
            holidays: Vec::new(),
        },
    }
}

/// Minutes until staff answer: mostly within the hour or two, sometimes a day later.
fn answer_delay(rng: &mut StdRng) -> Duration {
    if rng.random_bool(0.2) {
        Duration::minutes(rng.random_range(600..3_000))
    } else {
        Duration::minutes(rng.random_range(10..180))
    }
}

/// Who the support history is about and who works it.
pub(crate) struct SupportDesk<'a> {
    pub customers: &'a [&'a Person],
    pub agents: &'a [UserId],
    pub team: TeamId,
    /// How many tickets.
    pub count: usize,
}

/// Writes the support desk's settings and history, up to `now`; returns how many tickets.
pub(crate) async fn support_history(
    store: &Store,
    actor: &Actor,
    rng: &mut StdRng,
    now: OffsetDateTime,
    desk: SupportDesk<'_>,
) -> Result<usize> {
    let SupportDesk { customers, agents, team, count } = desk;
    let calendar = store.create_calendar(actor, office_hours()).await?;
    for (policy, priorities, first, next, resolution) in [
        ("Urgent and high", vec![TicketPriority::Urgent, TicketPriority::High], 60, 120, 8 * 60),
        ("Standard", vec![], 4 * 60, 8 * 60, 3 * 9 * 60),
    ] {
        let input = SlaPolicyInput {
            name: Name::try_from(policy).expect("a valid name"),
            position: if priorities.is_empty() { 2 } else { 1 },
            condition: SlaCondition { priorities, ..SlaCondition::default() },
            targets: Targets {
                first_response_minutes: Some(first),
                next_response_minutes: Some(next),
                resolution_minutes: Some(resolution),
            },
            calendar_id: Some(calendar.id),
            active: true,
        };
        store.create_sla_policy(actor, input).await?;
    }
    if customers.is_empty() {
        return Ok(0);
    }
    let mut made = 0;
    for _ in 0..count {
        let person = customers.choose(rng).expect("customers");
        let (subject, question) = *QUESTIONS.choose(rng).expect("questions");
        let opened = now - Duration::minutes(rng.random_range(30..90 * 24 * 60));
        let priority = match rng.random_range(0..100) {
            0..8 => TicketPriority::Urgent,
            8..25 => TicketPriority::High,
            25..85 => TicketPriority::Normal,
            _ => TicketPriority::Low,
        };
        let input = TicketInput {
            requester_id: person.id,
            subject: Name::try_from(subject).expect("a valid subject"),
            channel: *[TicketChannel::Email, TicketChannel::Email, TicketChannel::Web, TicketChannel::Phone]
                .choose(rng)
                .expect("channels"),
            status: TicketStatus::New,
            priority,
            assignee_id: if rng.random_bool(0.85) { agents.choose(rng).copied() } else { None },
            team_id: Some(team),
            tags: Vec::new(),
            external_id: None,
            custom_fields: Default::default(),
        };
        let by_email = input.channel == TicketChannel::Email;
        let ticket = store.create_ticket_at(actor, input, opened).await?;
        match person.fields.emails.first().filter(|_| by_email) {
            // Through the mail intake, as the mailbox would bring it: the
            // sender's address, the HTML and any attachment are kept.
            Some(address) => {
                let mail = emailed_question(ticket.id, &address.address, person, subject, question);
                store.receive_email_at(mail, opened).await?;
            }
            None => {
                let ask = MessageInput {
                    kind: MessageKind::Customer,
                    body: text(question),
                    status: None,
                    attachments: Vec::new(),
                };
                store.add_ticket_message_at(actor, ticket.id, ask, opened).await?;
            }
        }
        made += 1;

        // The conversation, as far as it got by now; a few were forgotten
        // and wait past their targets.
        let answered = opened + answer_delay(rng);
        if answered > now || rng.random_bool(0.06) {
            continue;
        }
        if rng.random_bool(0.15) {
            let note = MessageInput {
                kind: MessageKind::Note,
                body: text("Checked the account: nothing unusual."),
                status: None,
                attachments: Vec::new(),
            };
            store.add_ticket_message_at(actor, ticket.id, note, answered).await?;
        }
        let waits = rng.random_bool(0.4);
        let reply = MessageInput {
            kind: MessageKind::Reply,
            body: text(REPLIES.choose(rng).expect("replies")),
            status: Some(if waits { TicketStatus::Pending } else { TicketStatus::Solved }),
            attachments: Vec::new(),
        };
        store.add_ticket_message_at(actor, ticket.id, reply, answered).await?;
        if !waits {
            continue;
        }
        let came_back = answered + Duration::hours(rng.random_range(2..48));
        if came_back > now {
            continue;
        }
        let follow_up = MessageInput {
            kind: MessageKind::Customer,
            body: text(FOLLOW_UPS.choose(rng).expect("follow-ups")),
            status: None,
            attachments: Vec::new(),
        };
        store.add_ticket_message_at(actor, ticket.id, follow_up, came_back).await?;
        let closed = came_back + answer_delay(rng);
        if closed > now {
            continue;
        }
        let last = MessageInput {
            kind: MessageKind::Reply,
            body: text("Glad to help. I am closing this ticket now."),
            status: Some(TicketStatus::Solved),
            attachments: Vec::new(),
        };
        store.add_ticket_message_at(actor, ticket.id, last, closed).await?;
    }
    Ok(made)
}
