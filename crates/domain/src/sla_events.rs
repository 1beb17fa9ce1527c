//! What happened to a ticket's response targets: a warning before a target
//! is due, a breach when it passes unmet, and the outcome (met or missed)
//! when the reply or the solve comes. The SLA report counts the outcomes.

use serde::{Deserialize, Serialize};
use time::macros::format_description;
use time::{Date, OffsetDateTime};

use crate::ids::{TeamId, TicketId, UserId};
use crate::tickets::TicketPriority;
use crate::validation::FieldErrors;

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

impl SlaEvent {
    /// The report group the event counts in: the agent's or team's id, the
    /// priority, or the month (`2026-11`); `None` for unassigned / no team.
    pub fn group_key(&self, grouping: SlaGrouping) -> Option<String> {
        match grouping {
            SlaGrouping::Agent => self.assignee_id.map(|id| id.to_string()),
            SlaGrouping::Team => self.team_id.map(|id| id.to_string()),
            SlaGrouping::Priority => Some(self.priority.as_str().to_owned()),
            SlaGrouping::Month => Some(format!("{}-{:02}", self.at.year(), u8::from(self.at.month()))),
        }
    }
}

/// A missed target with its ticket's subject, as the report lists the misses.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MissedTarget {
    pub subject: String,
    #[serde(flatten)]
    pub event: SlaEvent,
}

/// One group of the SLA report, to list the misses behind its figures.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SlaGroup {
    pub grouping: SlaGrouping,
    /// As in `SlaReportRow::key`; `None` is the unassigned / no-team group.
    pub key: Option<String>,
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

/// What the SLA report is asked for, parsed from its query (the API's and
/// the report page's): the period `[from, to)` in UTC, the grouping, and
/// optionally one target and one group for the list of misses.
#[derive(Clone, Debug, PartialEq)]
pub struct SlaReportRequest {
    pub from: OffsetDateTime,
    pub to: OffsetDateTime,
    pub grouping: SlaGrouping,
    pub target: Option<SlaTarget>,
    pub group: Option<SlaGroup>,
}

/// The raw query of the SLA report, every field optional.
#[derive(Clone, Debug, Default)]
pub struct SlaReportQuery<'a> {
    pub group: Option<&'a str>,
    pub from: Option<&'a str>,
    pub to: Option<&'a str>,
    pub target: Option<&'a str>,
    pub key: Option<&'a str>,
}

impl SlaReportRequest {
    /// The period when none is given: the last 90 days.
    pub const DEFAULT_DAYS: i64 = 90;
    /// The `key` that names the group without one (unassigned, no team).
    pub const NO_KEY: &'static str = "none";

    /// Empty values count as absent (a form's blank field); `today` ends
    /// the default period.
    pub fn parse(query: &SlaReportQuery, today: Date) -> Result<Self, FieldErrors> {
        let present = |raw: Option<&str>| raw.map(str::trim).filter(|raw| !raw.is_empty()).map(str::to_owned);
        let mut errors = FieldErrors::new();
        let day = |field: &str, raw: Option<String>, errors: &mut FieldErrors| {
            let raw = raw?;
            Date::parse(&raw, format_description!("[year]-[month]-[day]"))
                .map_err(|_| errors.add(field, format!("{raw:?} is not a date: use YYYY-MM-DD, like 2026-11-30")))
                .ok()
        };
        let to = day("to", present(query.to), &mut errors);
        let from = day("from", present(query.from), &mut errors);
        let grouping = present(query.group).map_or(Ok(SlaGrouping::Agent), |g| SlaGrouping::parse(&g));
        let grouping = grouping.map_err(|e| errors.add("group", e)).unwrap_or(SlaGrouping::Agent);
        let target = present(query.target).map(|t| SlaTarget::parse(&t)).transpose();
        let target = target.map_err(|e| errors.add("target", e)).unwrap_or(None);
        let group = present(query.key).map(|key| SlaGroup { grouping, key: (key != Self::NO_KEY).then_some(key) });
        let last = to.unwrap_or(today);
        let first = from.unwrap_or(last - time::Duration::days(Self::DEFAULT_DAYS - 1));
        if first > last {
            errors.add("from", "must not be after to");
        }
        let end = last.next_day();
        if end.is_none() {
            errors.add("to", "is too far in the future");
        }
        errors.into_result()?;
        Ok(SlaReportRequest {
            from: first.midnight().assume_utc(),
            to: end.expect("checked above").midnight().assume_utc(),
            grouping,
            target,
            group,
        })
    }
}

#[cfg(test)]
mod tests {
    use time::macros::{date, datetime};

    use super::*;

    #[test]
    fn a_report_request_defaults_to_the_last_90_days_by_agent() {
        let request = SlaReportRequest::parse(&SlaReportQuery::default(), date!(2026 - 12 - 03)).unwrap();
        assert_eq!(request.from, datetime!(2026-09-05 0:00 UTC));
        assert_eq!(request.to, datetime!(2026-12-04 0:00 UTC));
        assert_eq!(request.grouping, SlaGrouping::Agent);
        assert_eq!((request.target, request.group), (None, None));
    }

    #[test]
    fn a_report_request_reads_its_fields_and_names_the_bad_ones() {
        let query = SlaReportQuery {
            group: Some("team"),
            from: Some("2026-11-01"),
            to: Some("2026-11-30"),
            target: Some("resolution"),
            key: Some("none"),
        };
        let request = SlaReportRequest::parse(&query, date!(2026 - 12 - 03)).unwrap();
        assert_eq!((request.from, request.to), (datetime!(2026-11-01 0:00 UTC), datetime!(2026-12-01 0:00 UTC)));
        assert_eq!(request.target, Some(SlaTarget::Resolution));
        assert_eq!(request.group, Some(SlaGroup { grouping: SlaGrouping::Team, key: None }));

        let blank = SlaReportQuery { group: Some(""), from: Some(" "), ..Default::default() };
        assert!(SlaReportRequest::parse(&blank, date!(2026 - 12 - 03)).is_ok(), "blank form fields are absent");

        let bad =
            SlaReportQuery { group: Some("colour"), from: Some("12/01/2026"), target: Some("x"), ..Default::default() };
        let errors = SlaReportRequest::parse(&bad, date!(2026 - 12 - 03)).unwrap_err();
        assert!(errors.get("group").is_some() && errors.get("from").is_some() && errors.get("target").is_some());
        let backwards = SlaReportQuery { from: Some("2026-12-02"), to: Some("2026-12-01"), ..Default::default() };
        let errors = SlaReportRequest::parse(&backwards, date!(2026 - 12 - 03)).unwrap_err();
        assert_eq!(errors.get("from"), Some("must not be after to"));
    }

    #[test]
    fn events_fall_in_the_groups_the_report_shows() {
        let event = SlaEvent {
            ticket_id: TicketId(uuid::Uuid::nil()),
            target: SlaTarget::FirstResponse,
            kind: SlaEventKind::Missed,
            due_at: datetime!(2026-11-30 9:00 UTC),
            at: datetime!(2026-11-30 10:00 UTC),
            assignee_id: None,
            team_id: None,
            priority: TicketPriority::High,
        };
        assert_eq!(event.group_key(SlaGrouping::Agent), None);
        assert_eq!(event.group_key(SlaGrouping::Priority).as_deref(), Some("high"));
        assert_eq!(event.group_key(SlaGrouping::Month).as_deref(), Some("2026-11"));
    }
}
