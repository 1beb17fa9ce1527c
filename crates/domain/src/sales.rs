//! The sales dashboard's inputs: the period and pipeline asked for, and the
//! plain facts storage reads for them (deals with their stage moves,
//! activities and tasks done), which rapport-insights turns into figures.

use time::macros::format_description;
use time::{Date, OffsetDateTime};

use crate::records::{ActivityKind, DealStatus};
use crate::{FieldErrors, Money, PipelineId, StageId, UserId};

/// The raw query of the sales report (API, page and CLI), every field optional.
#[derive(Clone, Debug, Default)]
pub struct SalesReportQuery<'a> {
    pub from: Option<&'a str>,
    pub to: Option<&'a str>,
    pub pipeline_id: Option<&'a str>,
}

/// A checked sales report request: the period `[from, to)` in UTC (whole
/// days) and optionally one pipeline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SalesReportRequest {
    pub from: OffsetDateTime,
    pub to: OffsetDateTime,
    pub pipeline_id: Option<PipelineId>,
}

impl SalesReportRequest {
    /// The period when none is given: the last 90 days.
    pub const DEFAULT_DAYS: i64 = 90;

    /// Empty values count as absent (a form's blank field); `today` ends the
    /// default period. Whether the pipeline exists is storage's to say.
    pub fn parse(query: &SalesReportQuery, today: Date) -> Result<Self, FieldErrors> {
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
        let pipeline_id = present(query.pipeline_id).and_then(|raw| {
            raw.parse::<PipelineId>()
                .map_err(|_| errors.add("pipeline_id", format!("{raw:?} is not a pipeline id")))
                .ok()
        });
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
        Ok(SalesReportRequest {
            from: first.midnight().assume_utc(),
            to: end.expect("checked above").midnight().assume_utc(),
            pipeline_id,
        })
    }

    /// The period as the last `days` days up to and including `today`.
    pub fn last_days(days: i64, today: Date, pipeline_id: Option<PipelineId>) -> Self {
        SalesReportRequest {
            from: (today - time::Duration::days(days - 1)).midnight().assume_utc(),
            to: (today + time::Duration::days(1)).midnight().assume_utc(),
            pipeline_id,
        }
    }

    pub fn first_day(&self) -> Date {
        self.from.date()
    }

    /// The period's last day (its end is the midnight after it).
    pub fn last_day(&self) -> Date {
        self.to.date().previous_day().unwrap_or(self.to.date())
    }
}

/// A stage of a pipeline in the report, in pipeline and stage order.
#[derive(Clone, Debug, PartialEq)]
pub struct SalesStage {
    pub id: StageId,
    pub pipeline_id: PipelineId,
    pub pipeline: String,
    pub name: String,
    /// Percent, 0–100.
    pub win_probability: i32,
}

/// A deal as the report needs it.
#[derive(Clone, Debug, PartialEq)]
pub struct DealFact {
    pub amount: Money,
    pub pipeline_id: PipelineId,
    /// Its stage now; for a closed deal, the stage it was won or lost from.
    pub stage_id: StageId,
    pub owner_id: Option<UserId>,
    pub status: DealStatus,
    pub created_at: OffsetDateTime,
    pub closed_at: Option<OffsetDateTime>,
    pub expected_close: Option<Date>,
    /// The lead source of the deal's person, when it has one.
    pub source: Option<String>,
    /// Each stage the deal entered and when, oldest first, from its history
    /// (its first stage at its creation). Empty when it has no history.
    pub stage_moves: Vec<(OffsetDateTime, StageId)>,
}

/// An activity in the period: who did it (its author, else who logged it).
#[derive(Clone, Debug, PartialEq)]
pub struct ActivityFact {
    pub kind: ActivityKind,
    pub staff_id: Option<UserId>,
    pub at: OffsetDateTime,
}

/// Everything the sales figures are computed from.
#[derive(Clone, Debug, PartialEq)]
pub struct SalesFacts {
    pub request: SalesReportRequest,
    /// The day the forecast counts from (its "overdue" is before it).
    pub today: Date,
    pub stages: Vec<SalesStage>,
    /// Every staff member's name, by id.
    pub staff: Vec<(UserId, String)>,
    /// Deals closed in the period and every open deal.
    pub deals: Vec<DealFact>,
    pub activities: Vec<ActivityFact>,
    /// The assignee of each task done in the period.
    pub tasks_done: Vec<Option<UserId>>,
}

#[cfg(test)]
mod tests {
    use time::macros::{date, datetime};

    use super::*;

    #[test]
    fn a_sales_request_defaults_to_the_last_90_days_of_every_pipeline() {
        let request = SalesReportRequest::parse(&SalesReportQuery::default(), date!(2026 - 12 - 03)).unwrap();
        assert_eq!(request.from, datetime!(2026-09-05 0:00 UTC));
        assert_eq!(request.to, datetime!(2026-12-04 0:00 UTC));
        assert_eq!((request.first_day(), request.last_day()), (date!(2026 - 09 - 05), date!(2026 - 12 - 03)));
        assert_eq!(request.pipeline_id, None);
        assert_eq!(SalesReportRequest::last_days(90, date!(2026 - 12 - 03), None), request);
    }

    #[test]
    fn a_sales_request_names_its_bad_fields() {
        let bad = SalesReportQuery { from: Some("12/01/2026"), pipeline_id: Some("sales"), ..Default::default() };
        let errors = SalesReportRequest::parse(&bad, date!(2026 - 12 - 03)).unwrap_err();
        assert!(errors.get("from").is_some() && errors.get("pipeline_id").is_some());
        let backwards = SalesReportQuery { from: Some("2026-12-02"), to: Some("2026-12-01"), ..Default::default() };
        let errors = SalesReportRequest::parse(&backwards, date!(2026 - 12 - 03)).unwrap_err();
        assert_eq!(errors.get("from"), Some("must not be after to"));
        let blank = SalesReportQuery { from: Some(" "), to: Some(""), pipeline_id: Some("") };
        assert!(SalesReportRequest::parse(&blank, date!(2026 - 12 - 03)).is_ok(), "blank form fields are absent");
    }
}
