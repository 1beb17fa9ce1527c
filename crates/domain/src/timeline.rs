//! A person's or company's timeline: everything that happened with the
//! customer, of every record kind, newest first.

use serde::Serialize;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::records::{Activity, Deal, Purchase, Task};
use crate::surveys::Answer;
use crate::tickets::{Ticket, TicketMessage};

/// One entry of a person's or company's timeline, newest first.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum TimelineEntry {
    Activity(Activity),
    Task(Task),
    Deal(Deal),
    Purchase(Purchase),
    /// A support ticket, when it was opened.
    Ticket(Ticket),
    /// A message in one of the customer's tickets.
    TicketMessage(TimelineMessage),
    /// The customer's answer to a survey.
    SurveyAnswer(TimelineAnswer),
}

/// A survey answer with the survey's name, so the entry reads alone.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct TimelineAnswer {
    pub survey_name: String,
    #[serde(flatten)]
    pub answer: Answer,
}

/// A ticket's message with the ticket's subject, so the entry reads alone.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct TimelineMessage {
    pub ticket_subject: String,
    #[serde(flatten)]
    pub message: TicketMessage,
}

impl TimelineEntry {
    /// When the entry happened: an activity's time, a task's due (or creation) time,
    /// a deal's close (or creation) time, a purchase's time, a ticket's opening,
    /// a message's arrival, an answer's.
    pub fn at(&self) -> OffsetDateTime {
        match self {
            TimelineEntry::Activity(a) => a.fields.occurred_at.unwrap_or(a.meta.created_at),
            TimelineEntry::Task(t) => t.done_at.or(t.fields.due_at).unwrap_or(t.meta.created_at),
            TimelineEntry::Deal(d) => d.closed_at.unwrap_or(d.meta.created_at),
            TimelineEntry::Purchase(p) => p.fields.occurred_at,
            TimelineEntry::Ticket(t) => t.meta.created_at,
            TimelineEntry::TicketMessage(m) => m.message.created_at,
            TimelineEntry::SurveyAnswer(a) => a.answer.answered_at,
        }
    }

    /// The entry's record id. Ids grow with time, so among entries of the
    /// same second (times are kept to the second) the later one has the larger id.
    pub fn id(&self) -> Uuid {
        match self {
            TimelineEntry::Activity(a) => a.id.0,
            TimelineEntry::Task(t) => t.id.0,
            TimelineEntry::Deal(d) => d.id.0,
            TimelineEntry::Purchase(p) => p.id.0,
            TimelineEntry::Ticket(t) => t.id.0,
            TimelineEntry::TicketMessage(m) => m.message.id.0,
            TimelineEntry::SurveyAnswer(a) => a.answer.id.0,
        }
    }
}
