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
    /// The customer who asked the ticket.
    pub ticket_requester_id: crate::ids::PersonId,
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

    /// Which of the timeline's filters shows the entry.
    pub fn kind(&self) -> TimelineKind {
        match self {
            TimelineEntry::Activity(_) => TimelineKind::Conversations,
            TimelineEntry::Task(_) => TimelineKind::Tasks,
            TimelineEntry::Deal(_) => TimelineKind::Deals,
            TimelineEntry::Purchase(_) => TimelineKind::Purchases,
            TimelineEntry::Ticket(_) | TimelineEntry::TicketMessage(_) => TimelineKind::Tickets,
            TimelineEntry::SurveyAnswer(_) => TimelineKind::Feedback,
        }
    }

    /// The customer the entry belongs to, when it names one: on a company's
    /// timeline, whose entry it is.
    pub fn person_id(&self) -> Option<crate::ids::PersonId> {
        match self {
            TimelineEntry::Activity(a) => a.fields.links.person_id,
            TimelineEntry::Task(t) => t.fields.links.person_id,
            TimelineEntry::Deal(d) => d.fields.person_id,
            TimelineEntry::Purchase(p) => Some(p.fields.person_id),
            TimelineEntry::Ticket(t) => Some(t.fields.requester_id),
            TimelineEntry::TicketMessage(m) => Some(m.ticket_requester_id),
            TimelineEntry::SurveyAnswer(a) => Some(a.answer.person_id),
        }
    }

    /// Where the next page of a timeline starts: just after this entry.
    pub fn cursor(&self) -> TimelineCursor {
        TimelineCursor { at: self.at(), id: self.id() }
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

/// What a timeline can be narrowed to: one filter per kind of entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TimelineKind {
    /// Notes, calls, emails, meetings and messages (activities).
    Conversations,
    Purchases,
    Deals,
    Tasks,
    /// Support tickets and their messages.
    Tickets,
    /// Survey answers.
    Feedback,
}

impl TimelineKind {
    pub const ALL: [TimelineKind; 6] = [
        TimelineKind::Conversations,
        TimelineKind::Purchases,
        TimelineKind::Deals,
        TimelineKind::Tasks,
        TimelineKind::Tickets,
        TimelineKind::Feedback,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TimelineKind::Conversations => "conversations",
            TimelineKind::Purchases => "purchases",
            TimelineKind::Deals => "deals",
            TimelineKind::Tasks => "tasks",
            TimelineKind::Tickets => "tickets",
            TimelineKind::Feedback => "feedback",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            TimelineKind::Conversations => "Conversations",
            TimelineKind::Purchases => "Purchases",
            TimelineKind::Deals => "Deals",
            TimelineKind::Tasks => "Tasks",
            TimelineKind::Tickets => "Tickets",
            TimelineKind::Feedback => "Feedback",
        }
    }

    /// `all` (or nothing) is every kind: `None`.
    pub fn parse(raw: &str) -> Result<Option<Self>, String> {
        let raw = raw.trim();
        if raw.is_empty() || raw == "all" {
            return Ok(None);
        }
        Self::ALL.into_iter().find(|kind| kind.as_str() == raw).map(Some).ok_or_else(|| {
            format!("must be all or one of {}", Self::ALL.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(", "))
        })
    }
}

/// A place in a timeline, newest first: the page after it starts with the
/// next older entry. Written as `<unix seconds>.<entry id>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimelineCursor {
    pub at: OffsetDateTime,
    pub id: Uuid,
}

impl TimelineCursor {
    pub fn encode(&self) -> String {
        format!("{}.{}", self.at.unix_timestamp(), self.id.simple())
    }

    pub fn parse(raw: &str) -> Result<Self, String> {
        let bad = || "is not a place in this timeline (use the link the page gave)".to_string();
        let (seconds, id) = raw.trim().split_once('.').ok_or_else(bad)?;
        let seconds: i64 = seconds.parse().map_err(|_| bad())?;
        let at = OffsetDateTime::from_unix_timestamp(seconds).map_err(|_| bad())?;
        let id = Uuid::try_parse(id).map_err(|_| bad())?;
        Ok(TimelineCursor { at, id })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_cursors_read_back() {
        assert_eq!(TimelineKind::parse("all"), Ok(None));
        assert_eq!(TimelineKind::parse(""), Ok(None));
        assert_eq!(TimelineKind::parse("purchases"), Ok(Some(TimelineKind::Purchases)));
        assert!(TimelineKind::parse("cats").unwrap_err().contains("conversations"));
        let cursor = TimelineCursor {
            at: OffsetDateTime::from_unix_timestamp(1_764_000_000).unwrap(),
            id: Uuid::from_u128(0x0193_0000_0000_7000_8000_0000_0000_0001),
        };
        assert_eq!(TimelineCursor::parse(&cursor.encode()), Ok(cursor));
        for bad in [
            "",
            "abc",
            "12",
            "12.xyz",
            "x.0193000000007000800000000000000f",
            "99999999999999999.0193000000007000800000000000000f",
        ] {
            assert!(TimelineCursor::parse(bad).is_err(), "{bad}");
        }
    }
}
