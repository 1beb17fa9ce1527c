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

/// What a figure counts in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    Hours,
    Days,
    /// 0..100.
    Percent,
    Count,
    /// Net Promoter Score, −100..100.
    Nps,
    /// Mean compound sentiment, −1..1.
    Sentiment,
}

impl Unit {
    /// A value in this unit as pages and emails show it: "3.5 h", "12 d",
    /// "75 %", "+20", "+0.42", "2.0"; "—" for none.
    pub fn format(self, value: Option<f64>) -> String {
        let Some(v) = value.filter(|v| v.is_finite()) else { return "—".into() };
        match self {
            Unit::Hours => format!("{v:.1} h"),
            Unit::Days => format!("{v:.0} d"),
            Unit::Percent => format!("{v:.0} %"),
            Unit::Nps => format!("{v:+.0}"),
            Unit::Sentiment => format!("{v:+.2}"),
            Unit::Count => format!("{v:.1}"),
        }
    }
}

/// Every figure of a scorecard.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Figure {
    FirstResponseHours,
    ResolutionHours,
    SlaMet,
    InboundReplyHours,
    TasksOnTime,
    TasksLate,
    TasksDropped,
    CadenceKept,
    OutboundShare,
    ReachedOutFirst,
    TouchesPerCustomer,
    ChannelVariety,
    PreferredChannel,
    Nps,
    Csat,
    Sentiment,
    WinRate,
    SalesCycleDays,
    ChurnedShare,
}

impl Figure {
    pub const ALL: [Figure; 19] = [
        Figure::FirstResponseHours,
        Figure::ResolutionHours,
        Figure::SlaMet,
        Figure::InboundReplyHours,
        Figure::TasksOnTime,
        Figure::TasksLate,
        Figure::TasksDropped,
        Figure::CadenceKept,
        Figure::OutboundShare,
        Figure::ReachedOutFirst,
        Figure::TouchesPerCustomer,
        Figure::ChannelVariety,
        Figure::PreferredChannel,
        Figure::Nps,
        Figure::Csat,
        Figure::Sentiment,
        Figure::WinRate,
        Figure::SalesCycleDays,
        Figure::ChurnedShare,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Figure::FirstResponseHours => "first_response_hours",
            Figure::ResolutionHours => "resolution_hours",
            Figure::SlaMet => "sla_met",
            Figure::InboundReplyHours => "inbound_reply_hours",
            Figure::TasksOnTime => "tasks_on_time",
            Figure::TasksLate => "tasks_late",
            Figure::TasksDropped => "tasks_dropped",
            Figure::CadenceKept => "cadence_kept",
            Figure::OutboundShare => "outbound_share",
            Figure::ReachedOutFirst => "reached_out_first",
            Figure::TouchesPerCustomer => "touches_per_customer",
            Figure::ChannelVariety => "channel_variety",
            Figure::PreferredChannel => "preferred_channel",
            Figure::Nps => "nps",
            Figure::Csat => "csat",
            Figure::Sentiment => "sentiment",
            Figure::WinRate => "win_rate",
            Figure::SalesCycleDays => "sales_cycle_days",
            Figure::ChurnedShare => "churned_share",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Figure::FirstResponseHours => "First response",
            Figure::ResolutionHours => "Resolution",
            Figure::SlaMet => "Response targets met",
            Figure::InboundReplyHours => "Reply to customers' messages",
            Figure::TasksOnTime => "Tasks done on time",
            Figure::TasksLate => "Tasks done late",
            Figure::TasksDropped => "Tasks dropped",
            Figure::CadenceKept => "Keep-in-touch cadences kept",
            Figure::OutboundShare => "Outbound touches",
            Figure::ReachedOutFirst => "Reached out first",
            Figure::TouchesPerCustomer => "Touches per customer",
            Figure::ChannelVariety => "Channels used",
            Figure::PreferredChannel => "On the customer's preferred channel",
            Figure::Nps => "NPS of customers served",
            Figure::Csat => "CSAT of customers served",
            Figure::Sentiment => "Sentiment of customers' comments",
            Figure::WinRate => "Win rate",
            Figure::SalesCycleDays => "Sales cycle",
            Figure::ChurnedShare => "Own customers churned",
        }
    }

    /// What the figure counts, in a sentence a staff member can check.
    pub fn definition(self) -> &'static str {
        match self {
            Figure::FirstResponseHours => {
                "Median hours from a ticket's arrival to its first reply, over the tickets assigned to them that arrived in the period and were answered."
            }
            Figure::ResolutionHours => {
                "Median hours from a ticket's arrival to its solution, time waiting on the customer (pending) left out, over their tickets solved in the period."
            }
            Figure::SlaMet => {
                "Share of response targets (first response, next response, resolution) met, of those met or breached on their tickets in the period."
            }
            Figure::InboundReplyHours => {
                "Median hours from a customer's inbound email, call or message they logged to their next outbound touch with that customer."
            }
            Figure::TasksOnTime => {
                "Share of their tasks due in the period that were done by the time they were due (an open task counts once it falls due)."
            }
            Figure::TasksLate => "Share of their tasks due in the period that were done, but after they were due.",
            Figure::TasksDropped => "Share of their tasks due in the period that fell due and are still not done.",
            Figure::CadenceKept => {
                "Share of the customers they own with a keep-in-touch cadence who were contacted within it, as of the period's end."
            }
            Figure::OutboundShare => "Outbound touches as a share of their inbound and outbound touches in the period.",
            Figure::ReachedOutFirst => {
                "Share of their outbound touches that did not answer an inbound touch from that customer in the 7 days before: the staff member reached out first."
            }
            Figure::TouchesPerCustomer => {
                "Calls, emails, meetings and messages in the period, divided by the number of customers they touched."
            }
            Figure::ChannelVariety => {
                "How many of the four kinds of touch (call, email, meeting, message) they used in the period, over the customers they touched."
            }
            Figure::PreferredChannel => {
                "Share of their touches with customers who have a preferred channel that used it (call for phone, email for email, meeting for in person, message for SMS or WhatsApp)."
            }
            Figure::Nps => {
                "Net Promoter Score of the NPS answers about them in the period: promoters (9–10) minus detractors (0–6), in points."
            }
            Figure::Csat => "Share of 4s and 5s among the CSAT answers about them in the period.",
            Figure::Sentiment => "Mean sentiment (−1 to 1) of the comments in answers about them in the period.",
            Figure::WinRate => "Share of their deals closed in the period that were won.",
            Figure::SalesCycleDays => {
                "Median days from a deal's creation to its win, over their deals won in the period."
            }
            Figure::ChurnedShare => {
                "Share of the customers they own (leads left out) whose lifecycle stage is churned."
            }
        }
    }

    pub fn dimension(self) -> Dimension {
        match self {
            Figure::FirstResponseHours | Figure::ResolutionHours | Figure::SlaMet | Figure::InboundReplyHours => {
                Dimension::Responsiveness
            }
            Figure::TasksOnTime | Figure::TasksLate | Figure::TasksDropped | Figure::CadenceKept => {
                Dimension::FollowThrough
            }
            Figure::OutboundShare | Figure::ReachedOutFirst => Dimension::Proactivity,
            Figure::TouchesPerCustomer | Figure::ChannelVariety | Figure::PreferredChannel => Dimension::PersonalTouch,
            Figure::Nps
            | Figure::Csat
            | Figure::Sentiment
            | Figure::WinRate
            | Figure::SalesCycleDays
            | Figure::ChurnedShare => Dimension::Outcomes,
        }
    }

    pub fn unit(self) -> Unit {
        match self {
            Figure::FirstResponseHours | Figure::ResolutionHours | Figure::InboundReplyHours => Unit::Hours,
            Figure::SalesCycleDays => Unit::Days,
            Figure::TouchesPerCustomer | Figure::ChannelVariety => Unit::Count,
            Figure::Nps => Unit::Nps,
            Figure::Sentiment => Unit::Sentiment,
            _ => Unit::Percent,
        }
    }

    /// Whether a lower value is the better one.
    pub fn lower_is_better(self) -> bool {
        matches!(
            self,
            Figure::FirstResponseHours
                | Figure::ResolutionHours
                | Figure::InboundReplyHours
                | Figure::TasksLate
                | Figure::TasksDropped
                | Figure::SalesCycleDays
                | Figure::ChurnedShare
        )
    }

    pub fn parse(raw: &str) -> Option<Figure> {
        Figure::ALL.into_iter().find(|f| f.as_str() == raw)
    }

    /// The figure's value as a plain statement to the staff member it is
    /// about, e.g. "38 % of your tasks were done late".
    pub fn fact(self, value: f64) -> String {
        match self {
            Figure::FirstResponseHours => format!("your first replies to tickets took a median {value:.1} hours"),
            Figure::ResolutionHours => format!("your tickets took a median {value:.1} hours to solve"),
            Figure::SlaMet => format!("you met {value:.0} % of your response targets"),
            Figure::InboundReplyHours => format!("you answered customers' messages in a median {value:.1} hours"),
            Figure::TasksOnTime => format!("{value:.0} % of your tasks were done on time"),
            Figure::TasksLate => format!("{value:.0} % of your tasks were done late"),
            Figure::TasksDropped => format!("{value:.0} % of your tasks that fell due are still not done"),
            Figure::CadenceKept => format!("you kept {value:.0} % of your keep-in-touch cadences"),
            Figure::OutboundShare => format!("{value:.0} % of your touches were outbound"),
            Figure::ReachedOutFirst => format!("you reached out first in {value:.0} % of your outbound touches"),
            Figure::TouchesPerCustomer => format!("you had {value:.1} touches per customer"),
            Figure::ChannelVariety => format!("you used {value:.0} of the four channels"),
            Figure::PreferredChannel => format!("{value:.0} % of your touches used the customer's preferred channel"),
            Figure::Nps => format!("your customers' NPS was {value:+.0}"),
            Figure::Csat => format!("{value:.0} % of your customers' CSAT answers were satisfied"),
            Figure::Sentiment => format!("your customers' comments averaged a sentiment of {value:+.2}"),
            Figure::WinRate => format!("you won {value:.0} % of your closed deals"),
            Figure::SalesCycleDays => format!("your won deals took a median {value:.0} days"),
            Figure::ChurnedShare => format!("{value:.0} % of your customers churned"),
        }
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

    /// The same facts under another key (a team, the whole business): each
    /// fact goes to `key(staff)`, or is left out when that is `None`.
    pub fn regroup<T: Copy>(&self, key: impl Fn(&S) -> Option<T>) -> Facts<T, C>
    where
        C: Copy,
    {
        Facts {
            tickets: self
                .tickets
                .iter()
                .filter_map(|t| {
                    Some(TicketFact {
                        staff: key(&t.staff)?,
                        created_at: t.created_at,
                        first_responded_at: t.first_responded_at,
                        solved_at: t.solved_at,
                        pending_seconds: t.pending_seconds,
                    })
                })
                .collect(),
            sla: self.sla.iter().filter_map(|(s, met)| Some((key(s)?, *met))).collect(),
            tasks: self
                .tasks
                .iter()
                .filter_map(|t| Some(TaskFact { staff: key(&t.staff)?, due_at: t.due_at, done_at: t.done_at }))
                .collect(),
            touches: self
                .touches
                .iter()
                .filter_map(|t| {
                    Some(TouchFact {
                        staff: key(&t.staff)?,
                        customer: t.customer,
                        at: t.at,
                        kind: t.kind,
                        direction: t.direction,
                        preferred: t.preferred,
                    })
                })
                .collect(),
            cadences: self.cadences.iter().filter_map(|(s, kept)| Some((key(s)?, *kept))).collect(),
            answers: self
                .answers
                .iter()
                .filter_map(|a| {
                    Some(AnswerFact { staff: key(&a.staff)?, kind: a.kind, score: a.score, sentiment: a.sentiment })
                })
                .collect(),
            deals: self
                .deals
                .iter()
                .filter_map(|d| Some(DealFact { staff: key(&d.staff)?, won: d.won, days_open: d.days_open }))
                .collect(),
            owned: self.owned.iter().filter_map(|(s, churned)| Some((key(s)?, *churned))).collect(),
            from: self.from,
        }
    }
}
