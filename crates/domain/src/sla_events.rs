//! What happened to a ticket's response targets: a warning before a target
//! is due, a breach when it passes unmet, and the outcome (met or missed)
//! when the reply or the solve comes. The SLA report counts the outcomes.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::ids::{TeamId, TicketId, UserId};
use crate::tickets::TicketPriority;

text_enum!(
    /// The three targets a policy can set.
    SlaTarget {
        FirstResponse => "first_response" / "First response",
        NextResponse => "next_response" / "Next response",
        Resolution => "resolution" / "Resolution",
    }
);
text_enum!(
    /// `warning`: due soon (the assignee gets a task); `breach`: passed
    /// unmet; `met` and `missed`: the outcome once the reply or solve came.
    SlaEventKind { Warning => "warning" / "Due soon", Breach => "breach" / "Breached", Met => "met" / "Met", Missed => "missed" / "Missed" }
);
text_enum!(
    /// How the SLA report groups its outcomes.
    SlaGrouping { Agent => "agent" / "Agent", Team => "team" / "Team", Priority => "priority" / "Priority", Month => "month" / "Month" }
);

/// One event of a ticket's targets, with who and what it concerned then.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SlaEvent {
    pub ticket_id: TicketId,
    pub target: SlaTarget,
    pub kind: SlaEventKind,
    #[serde(with = "time::serde::rfc3339")]
    pub due_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub assignee_id: Option<UserId>,
    pub team_id: Option<TeamId>,
    pub priority: TicketPriority,
}

/// One group's outcomes in the SLA report.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SlaReportRow {
    /// The agent's or team's id, the priority, or the month (`2026-11`); absent: unassigned / no team.
    pub key: Option<String>,
    /// For people: the agent's or team's name, the priority's label, or the month.
    pub label: String,
    pub target: SlaTarget,
    pub met: i64,
    pub missed: i64,
    /// met / (met + missed), 0 to 1.
    pub share_met: f64,
}

impl SlaReportRow {
    pub fn new(key: Option<String>, label: String, target: SlaTarget, met: i64, missed: i64) -> Self {
        let decided = met + missed;
        let share_met = if decided == 0 { 0.0 } else { met as f64 / decided as f64 };
        SlaReportRow { key, label, target, met, missed, share_met }
    }
}
