//! What staff members did with customers over a period, as plain facts:
//! the storage layer reads them, `rapport-insights::scorecards` turns them
//! into figures. Generic over the staff key `S` and the customer key `C`,
//! so the figures are tested with small numbers as keys.

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use crate::records::{ActivityKind, Channel, Direction};
use crate::surveys::QuestionKind;

/// An outbound touch within this long after the customer's own inbound touch
/// answers them; later (or with none), the staff member reached out first.
/// Touches are read from this long before a period for that reason.
pub const ANSWERED_WITHIN: Duration = Duration::days(7);

/// The five sides of a relationship style.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Dimension {
    Responsiveness,
    FollowThrough,
    Proactivity,
    PersonalTouch,
    Outcomes,
}

impl Dimension {
    pub const ALL: [Dimension; 5] = [
        Dimension::Responsiveness,
        Dimension::FollowThrough,
        Dimension::Proactivity,
        Dimension::PersonalTouch,
        Dimension::Outcomes,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Dimension::Responsiveness => "responsiveness",
            Dimension::FollowThrough => "follow_through",
            Dimension::Proactivity => "proactivity",
            Dimension::PersonalTouch => "personal_touch",
            Dimension::Outcomes => "outcomes",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Dimension::Responsiveness => "Responsiveness",
            Dimension::FollowThrough => "Follow-through",
            Dimension::Proactivity => "Proactivity",
            Dimension::PersonalTouch => "Personal touch",
            Dimension::Outcomes => "Outcomes",
        }
    }

    pub fn parse(raw: &str) -> Option<Dimension> {
        Dimension::ALL.into_iter().find(|d| d.as_str() == raw)
    }
}

/// A ticket assigned to a staff member, as the period saw it.
#[derive(Clone, Debug)]
pub struct TicketFact<S> {
    pub staff: S,
    pub created_at: OffsetDateTime,
    pub first_responded_at: Option<OffsetDateTime>,
    pub solved_at: Option<OffsetDateTime>,
    /// Seconds spent pending (waiting on the customer), left out of resolution.
    pub pending_seconds: i64,
}

/// A task assigned to a staff member that fell due in the period.
#[derive(Clone, Debug)]
pub struct TaskFact<S> {
    pub staff: S,
    pub due_at: OffsetDateTime,
    pub done_at: Option<OffsetDateTime>,
}

/// A call, email, meeting or message a staff member logged with a customer.
#[derive(Clone, Debug)]
pub struct TouchFact<S, C> {
    pub staff: S,
    pub customer: C,
    pub at: OffsetDateTime,
    pub kind: ActivityKind,
    pub direction: Direction,
    /// The customer's preferred channel, if they have one.
    pub preferred: Option<Channel>,
}

/// A survey answer about a staff member.
#[derive(Clone, Debug)]
pub struct AnswerFact<S> {
    pub staff: S,
    pub kind: Option<QuestionKind>,
    pub score: Option<u8>,
    pub sentiment: Option<f64>,
}

/// A deal a staff member owns, closed in the period.
#[derive(Clone, Debug)]
pub struct DealFact<S> {
    pub staff: S,
    pub won: bool,
    pub days_open: f64,
}

/// One period's facts. Which facts belong to the period is the caller's
/// choice, as each [`Figure::definition`] says; `cadences` and `owned` hold
/// one entry per customer a staff member owns.
#[derive(Clone, Debug)]
pub struct Facts<S, C> {
    pub tickets: Vec<TicketFact<S>>,
    /// Each response target met (`true`) or breached on a staff member's ticket.
    pub sla: Vec<(S, bool)>,
    pub tasks: Vec<TaskFact<S>>,
    /// Touches in the period, and the 7 days before it (to see whom they answered).
    pub touches: Vec<TouchFact<S, C>>,
    /// Owned customers with a cadence: whether it was kept at the period's end.
    pub cadences: Vec<(S, bool)>,
    pub answers: Vec<AnswerFact<S>>,
    pub deals: Vec<DealFact<S>>,
    /// Owned customers (leads left out): whether they churned.
    pub owned: Vec<(S, bool)>,
    /// The period's start: touches before it only tell whom later ones answered.
    pub from: OffsetDateTime,
}

impl<S, C> Facts<S, C> {
    pub fn new(from: OffsetDateTime) -> Self {
        Facts {
            tickets: Vec::new(),
            sla: Vec::new(),
            tasks: Vec::new(),
            touches: Vec::new(),
            cadences: Vec::new(),
            answers: Vec::new(),
            deals: Vec::new(),
            owned: Vec::new(),
            from,
        }
    }
}
