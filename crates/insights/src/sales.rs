//! The sales dashboard's figures, from the facts storage reads: win rate
//! and sales cycle by owner, lead source and stage, the weighted pipeline
//! forecast by expected close month (per currency: amounts in different
//! currencies are never added), and activity per staff member.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use rapport_domain::records::{ActivityKind, DealStatus};
use rapport_domain::sales::{DealFact, SalesFacts};
use rapport_domain::{PipelineId, StageId, UserId};
use serde::{Deserialize, Serialize};
use time::{Date, Month, OffsetDateTime};

use crate::scorecards::median;

/// How many months ahead the forecast shows one by one (this month first).
pub const FORECAST_MONTHS: u32 = 12;

/// What the rows without an owner or a source are called.
pub const NO_OWNER: &str = "(no owner)";
pub const NO_SOURCE: &str = "(none)";

/// Deals won and lost in the period, the win rate and the sales cycle.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ClosedGroup {
    /// The owner's id or the lead source; absent for the deals without one
    /// (and for the all-deals row).
    pub key: Option<String>,
    pub label: String,
    pub won: u64,
    pub lost: u64,
    /// won / (won + lost), 0 to 1; absent when no deal closed.
    pub win_rate: Option<f64>,
    /// Days from a deal's creation to its close, over the deals closed in the period.
    pub median_cycle_days: Option<f64>,
    pub mean_cycle_days: Option<f64>,
}

/// One stage, over the deals of its pipeline closed in the period.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StageFigures {
    pub stage_id: StageId,
    pub pipeline_id: PipelineId,
    pub pipeline: String,
    pub stage: String,
    /// Percent, 0–100, as the pipeline sets it.
    pub win_probability: i32,
    /// Closed deals that were in this stage at some time (their history, or their last stage).
    pub reached: u64,
    /// Of those, how many were won.
    pub reached_won: u64,
    /// reached_won / reached, 0 to 1; absent when no closed deal reached it.
    pub won_share: Option<f64>,
    /// Median days a deal spent in the stage (deals with a stage history).
    pub median_days_in_stage: Option<f64>,
    /// Deals won and lost from this stage (their last stage).
    pub won_here: u64,
    pub lost_here: u64,
}

/// When open deals are expected to close.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ForecastBucket {
    /// The expected close date has passed.
    Overdue,
    /// In `month`, from today on.
    Month,
    /// After the months shown.
    Later,
    /// No expected close date.
    NoDate,
}

/// Open deals expected to close in one bucket, in one currency.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ForecastRow {
    pub bucket: ForecastBucket,
    /// The month, `YYYY-MM`, for a month row.
    pub month: Option<String>,
    /// The first and last expected close dates the row counts (absent: open-ended, or no date).
    #[serde(with = "rapport_domain::time_input::date::option")]
    #[schema(value_type = Option<String>, format = Date)]
    pub first_day: Option<Date>,
    #[serde(with = "rapport_domain::time_input::date::option")]
    #[schema(value_type = Option<String>, format = Date)]
    pub last_day: Option<Date>,
    /// ISO 4217 code.
    pub currency: String,
    pub deals: u64,
    /// The deals' amounts, in minor units (cents).
    pub amount_minor: i64,
    /// Σ amount × its stage's win probability, in minor units.
    pub weighted_minor: i64,
}

/// What one staff member did in the period.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StaffActivity {
    /// Absent: activities and tasks nobody is named on.
    pub user_id: Option<UserId>,
    pub name: String,
    pub calls: u64,
    pub emails: u64,
    pub meetings: u64,
    pub notes: u64,
    pub messages: u64,
    pub tasks_done: u64,
    pub total: u64,
}

/// The whole report.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SalesFigures {
    /// The period's first and last day (UTC).
    #[serde(with = "rapport_domain::time_input::date")]
    #[schema(value_type = String, format = Date)]
    pub from: Date,
    #[serde(with = "rapport_domain::time_input::date")]
    #[schema(value_type = String, format = Date)]
    pub to: Date,
    pub pipeline_id: Option<PipelineId>,
    /// The day the forecast counts from.
    #[serde(with = "rapport_domain::time_input::date")]
    #[schema(value_type = String, format = Date)]
    pub today: Date,
    /// Every deal closed in the period.
    pub overall: ClosedGroup,
    pub by_owner: Vec<ClosedGroup>,
    pub by_source: Vec<ClosedGroup>,
    pub by_stage: Vec<StageFigures>,
    pub forecast: Vec<ForecastRow>,
    pub activity: Vec<StaffActivity>,
}

fn days(from: OffsetDateTime, to: OffsetDateTime) -> f64 {
    (to - from).as_seconds_f64() / 86_400.0
}

fn closed_group<'a>(key: Option<String>, label: String, deals: impl IntoIterator<Item = &'a DealFact>) -> ClosedGroup {
    let (mut won, mut lost, mut cycles) = (0, 0, Vec::new());
    for deal in deals {
        match deal.status {
            DealStatus::Won => won += 1,
            DealStatus::Lost => lost += 1,
            DealStatus::Open => continue,
        }
        if let Some(closed) = deal.closed_at {
            cycles.push(days(deal.created_at, closed).max(0.0));
        }
    }
    let closed = won + lost;
    let mean_cycle_days = (!cycles.is_empty()).then(|| cycles.iter().sum::<f64>() / cycles.len() as f64);
    ClosedGroup {
        key,
        label,
        won,
        lost,
        win_rate: (closed > 0).then(|| won as f64 / closed as f64),
        median_cycle_days: median(cycles),
        mean_cycle_days,
    }
}

/// Groups closed deals by a key, labelled; the group without a key last.
fn closed_by<K: Ord + Clone>(
    closed: &[&DealFact],
    key: impl Fn(&DealFact) -> Option<K>,
    label: impl Fn(&K) -> String,
    text: impl Fn(&K) -> String,
    none: &str,
) -> Vec<ClosedGroup> {
    let mut groups: BTreeMap<Option<K>, Vec<&DealFact>> = BTreeMap::new();
    for deal in closed {
        groups.entry(key(deal)).or_default().push(deal);
    }
    let mut rows: Vec<ClosedGroup> = groups
        .into_iter()
        .map(|(k, deals)| match k {
            Some(k) => closed_group(Some(text(&k)), label(&k), deals),
            None => closed_group(None, none.to_owned(), deals),
        })
        .collect();
    // Named groups by name; the one without a key last.
    rows.sort_by_key(|row| (row.key.is_none(), row.label.to_lowercase()));
    rows
}

/// Each stage a closed deal was in, and the days it spent in each (when its history says).
struct Stays {
    reached: BTreeSet<StageId>,
    days: Vec<(StageId, f64)>,
}

fn stage_stays(deal: &DealFact) -> Stays {
    let mut reached: BTreeSet<StageId> = deal.stage_moves.iter().map(|(_, stage)| *stage).collect();
    reached.insert(deal.stage_id);
    let end = deal.closed_at.unwrap_or(deal.created_at);
    let mut stays: Vec<(StageId, f64)> = Vec::new();
    for (i, (entered, stage)) in deal.stage_moves.iter().enumerate() {
        let left = deal.stage_moves.get(i + 1).map_or(end, |(at, _)| *at);
        let spent = days(*entered, left).max(0.0);
        match stays.iter_mut().find(|(s, _)| s == stage) {
            Some((_, total)) => *total += spent,
            None => stays.push((*stage, spent)),
        }
    }
    Stays { reached, days: stays }
}

fn first_of(year: i32, month: Month) -> Date {
    Date::from_calendar_date(year, month, 1).expect("the first of a month is a date")
}

fn next_month(day: Date) -> Date {
    let (year, month) = if day.month() == Month::December {
        (day.year() + 1, Month::January)
    } else {
        (day.year(), day.month().next())
    };
    first_of(year, month)
}

/// The forecast's buckets: overdue, this month from today, the next months, later.
fn bucket_of(expected: Option<Date>, today: Date, last_month_end: Date) -> (ForecastBucket, Option<Date>) {
    match expected {
        None => (ForecastBucket::NoDate, None),
        Some(day) if day < today => (ForecastBucket::Overdue, None),
        Some(day) if day > last_month_end => (ForecastBucket::Later, None),
        Some(day) => (ForecastBucket::Month, Some(first_of(day.year(), day.month()))),
    }
}

/// A forecast row's bucket, month start and currency.
type ForecastKey = (ForecastBucket, Option<Date>, String);
/// Its deals, their amount and the amount times each one's percent.
type ForecastSum = (u64, i128, i128);

fn forecast(facts: &SalesFacts) -> Vec<ForecastRow> {
    let today = facts.today;
    let month_starts: Vec<Date> =
        std::iter::successors(Some(first_of(today.year(), today.month())), |m| Some(next_month(*m)))
            .take(FORECAST_MONTHS as usize)
            .collect();
    let after_months = next_month(*month_starts.last().expect("at least one month"));
    let last_month_end = after_months.previous_day().expect("a day before");
    let probability: HashMap<StageId, i32> = facts.stages.iter().map(|s| (s.id, s.win_probability)).collect();
    let mut sums: BTreeMap<ForecastKey, ForecastSum> = BTreeMap::new();
    let mut currencies: BTreeSet<String> = BTreeSet::new();
    for deal in facts.deals.iter().filter(|d| d.status == DealStatus::Open) {
        let (bucket, month) = bucket_of(deal.expected_close, today, last_month_end);
        let currency = deal.amount.currency.as_str().to_owned();
        currencies.insert(currency.clone());
        let percent = probability.get(&deal.stage_id).copied().unwrap_or(0).clamp(0, 100);
        let sum = sums.entry((bucket, month, currency)).or_default();
        sum.0 += 1;
        sum.1 += i128::from(deal.amount.amount_minor);
        sum.2 += i128::from(deal.amount.amount_minor) * i128::from(percent);
    }
    // Every month shows for each currency with open deals, empty or not.
    for currency in &currencies {
        for start in &month_starts {
            sums.entry((ForecastBucket::Month, Some(*start), currency.clone())).or_default();
        }
    }
    let clamp = |v: i128| i64::try_from(v).unwrap_or(i64::MAX);
    sums.into_iter()
        .map(|((bucket, month, currency), (deals, amount, weighted))| {
            let (first_day, last_day) = match (bucket, month) {
                (ForecastBucket::Overdue, _) => (None, today.previous_day()),
                (ForecastBucket::Later, _) => (Some(after_months), None),
                (ForecastBucket::Month, Some(start)) => (Some(start.max(today)), next_month(start).previous_day()),
                _ => (None, None),
            };
            ForecastRow {
                bucket,
                month: month.map(|m| format!("{:04}-{:02}", m.year(), u8::from(m.month()))),
                first_day,
                last_day,
                currency,
                deals,
                amount_minor: clamp(amount),
                // Rounded to the nearest minor unit.
                weighted_minor: clamp((weighted + 50) / 100),
            }
        })
        .collect()
}

fn activity(facts: &SalesFacts, names: &HashMap<UserId, &str>) -> Vec<StaffActivity> {
    let mut rows: BTreeMap<Option<UserId>, StaffActivity> = BTreeMap::new();
    let fresh = |id: Option<UserId>| StaffActivity {
        user_id: id,
        name: id.map_or(NO_OWNER.to_owned(), |id| names.get(&id).map_or_else(|| id.to_string(), |n| n.to_string())),
        calls: 0,
        emails: 0,
        meetings: 0,
        notes: 0,
        messages: 0,
        tasks_done: 0,
        total: 0,
    };
    for activity in &facts.activities {
        let r = rows.entry(activity.staff_id).or_insert_with(|| fresh(activity.staff_id));
        match activity.kind {
            ActivityKind::Call => r.calls += 1,
            ActivityKind::Email => r.emails += 1,
            ActivityKind::Meeting => r.meetings += 1,
            ActivityKind::Note => r.notes += 1,
            ActivityKind::Message => r.messages += 1,
        }
        r.total += 1;
    }
    for assignee in &facts.tasks_done {
        let r = rows.entry(*assignee).or_insert_with(|| fresh(*assignee));
        r.tasks_done += 1;
        r.total += 1;
    }
    let mut rows: Vec<StaffActivity> = rows.into_values().collect();
    // Busiest first; ties by name.
    rows.sort_by(|a, b| b.total.cmp(&a.total).then_with(|| a.name.to_lowercase().cmp(&b.name.to_lowercase())));
    rows
}

pub fn sales_figures(facts: &SalesFacts) -> SalesFigures {
    let names: HashMap<UserId, &str> = facts.staff.iter().map(|(id, name)| (*id, name.as_str())).collect();
    let closed: Vec<&DealFact> = facts
        .deals
        .iter()
        .filter(|d| d.status != DealStatus::Open)
        .filter(|d| d.closed_at.is_some_and(|at| at >= facts.request.from && at < facts.request.to))
        .collect();
    let overall = closed_group(None, "All deals".to_owned(), closed.iter().copied());
    let by_owner = closed_by(
        &closed,
        |d| d.owner_id,
        |id| names.get(id).map_or_else(|| id.to_string(), |n| n.to_string()),
        |id| id.to_string(),
        NO_OWNER,
    );
    let by_source = closed_by(&closed, |d| d.source.clone(), String::clone, String::clone, NO_SOURCE);

    let stays: Vec<(&DealFact, Stays)> = closed.iter().map(|deal| (*deal, stage_stays(deal))).collect();
    let by_stage = facts
        .stages
        .iter()
        .map(|stage| {
            let reaching: Vec<_> = stays.iter().filter(|(_, stays)| stays.reached.contains(&stage.id)).collect();
            let reached = reaching.len() as u64;
            let reached_won = reaching.iter().filter(|(d, _)| d.status == DealStatus::Won).count() as u64;
            let spent: Vec<f64> = reaching
                .iter()
                .flat_map(|(_, stays)| stays.days.iter().filter(|(s, _)| *s == stage.id).map(|(_, days)| *days))
                .collect();
            let here = |status| closed.iter().filter(|d| d.stage_id == stage.id && d.status == status).count() as u64;
            StageFigures {
                stage_id: stage.id,
                pipeline_id: stage.pipeline_id,
                pipeline: stage.pipeline.clone(),
                stage: stage.name.clone(),
                win_probability: stage.win_probability,
                reached,
                reached_won,
                won_share: (reached > 0).then(|| reached_won as f64 / reached as f64),
                median_days_in_stage: median(spent),
                won_here: here(DealStatus::Won),
                lost_here: here(DealStatus::Lost),
            }
        })
        .collect();

    SalesFigures {
        from: facts.request.first_day(),
        to: facts.request.last_day(),
        pipeline_id: facts.request.pipeline_id,
        today: facts.today,
        overall,
        by_owner,
        by_source,
        by_stage,
        forecast: forecast(facts),
        activity: activity(facts, &names),
    }
}

#[cfg(test)]
mod tests {
    use rapport_domain::records::ActivityKind;
    use rapport_domain::sales::{ActivityFact, SalesReportRequest, SalesStage};
    use rapport_domain::{Currency, Money};
    use time::macros::{date, datetime};

    use super::*;

    struct World {
        pipeline: PipelineId,
        lead: StageId,
        proposal: StageId,
        ana: UserId,
        ben: UserId,
    }

    fn world() -> World {
        World {
            pipeline: PipelineId::new(),
            lead: StageId::new(),
            proposal: StageId::new(),
            ana: UserId::new(),
            ben: UserId::new(),
        }
    }

    fn deal(w: &World, status: DealStatus, created: OffsetDateTime, closed: Option<OffsetDateTime>) -> DealFact {
        DealFact {
            amount: Money::new(10_000, Currency::parse("EUR").unwrap()),
            pipeline_id: w.pipeline,
            stage_id: w.lead,
            owner_id: Some(w.ana),
            status,
            created_at: created,
            closed_at: closed,
            expected_close: None,
            source: None,
            stage_moves: vec![],
        }
    }

    fn facts(w: &World, deals: Vec<DealFact>) -> SalesFacts {
        SalesFacts {
            request: SalesReportRequest {
                from: datetime!(2026-11-01 0:00 UTC),
                to: datetime!(2026-12-01 0:00 UTC),
                pipeline_id: None,
            },
            today: date!(2026 - 11 - 20),
            stages: vec![
                SalesStage {
                    id: w.lead,
                    pipeline_id: w.pipeline,
                    pipeline: "Sales".into(),
                    name: "Lead".into(),
                    win_probability: 10,
                },
                SalesStage {
                    id: w.proposal,
                    pipeline_id: w.pipeline,
                    pipeline: "Sales".into(),
                    name: "Proposal".into(),
                    win_probability: 60,
                },
            ],
            staff: vec![(w.ana, "Ana".into()), (w.ben, "Ben".into())],
            deals,
            activities: vec![],
            tasks_done: vec![],
        }
    }

    #[test]
    fn an_empty_period_has_no_rates_and_no_nan() {
        let w = world();
        let figures = sales_figures(&facts(&w, vec![]));
        assert_eq!((figures.overall.won, figures.overall.lost), (0, 0));
        assert_eq!(figures.overall.win_rate, None, "no closed deals: no rate, not NaN");
        assert_eq!((figures.overall.median_cycle_days, figures.overall.mean_cycle_days), (None, None));
        assert!(figures.by_owner.is_empty() && figures.by_source.is_empty() && figures.activity.is_empty());
        assert!(figures.forecast.is_empty(), "no open deals: no forecast rows");
        let lead = &figures.by_stage[0];
        assert_eq!((lead.reached, lead.won_share, lead.median_days_in_stage), (0, None, None));
        assert_eq!((figures.from, figures.to), (date!(2026 - 11 - 01), date!(2026 - 11 - 30)));
    }

    #[test]
    fn win_rate_and_cycle_by_owner_and_source() {
        let w = world();
        let created = datetime!(2026-10-01 0:00 UTC);
        let mut won_ana = deal(&w, DealStatus::Won, created, Some(datetime!(2026-11-11 0:00 UTC))); // 41 days
        won_ana.source = Some("referral".into());
        let mut won_ana2 = deal(&w, DealStatus::Won, created, Some(datetime!(2026-11-02 0:00 UTC))); // 32 days
        won_ana2.source = Some("referral".into());
        let lost_ana = deal(&w, DealStatus::Lost, created, Some(datetime!(2026-11-21 0:00 UTC))); // 51 days
        let mut lost_ben = deal(&w, DealStatus::Lost, created, Some(datetime!(2026-11-05 0:00 UTC))); // 35 days
        lost_ben.owner_id = Some(w.ben);
        lost_ben.source = Some("Web".into());
        let mut unowned = deal(&w, DealStatus::Won, created, Some(datetime!(2026-11-03 0:00 UTC))); // 33 days
        unowned.owner_id = None;
        // Closed before the period: not counted.
        let earlier = deal(&w, DealStatus::Won, created, Some(datetime!(2026-10-31 23:59 UTC)));
        let figures = sales_figures(&facts(&w, vec![won_ana, won_ana2, lost_ana, lost_ben, unowned, earlier]));

        assert_eq!((figures.overall.won, figures.overall.lost), (3, 2));
        assert_eq!(figures.overall.win_rate, Some(0.6));
        // 32, 33, 35, 41, 51: median 35, mean 192 / 5 = 38.4
        assert_eq!(figures.overall.median_cycle_days, Some(35.0));
        assert!((figures.overall.mean_cycle_days.unwrap() - 38.4).abs() < 1e-9);

        let owners: Vec<(&str, u64, u64, Option<f64>)> =
            figures.by_owner.iter().map(|g| (g.label.as_str(), g.won, g.lost, g.win_rate)).collect();
        assert_eq!(owners, vec![("Ana", 2, 1, Some(2.0 / 3.0)), ("Ben", 0, 1, Some(0.0)), (NO_OWNER, 1, 0, Some(1.0))]);
        assert_eq!(figures.by_owner[0].key, Some(w.ana.to_string()));
        assert_eq!(figures.by_owner[0].median_cycle_days, Some(41.0), "32, 41, 51");
        assert_eq!(figures.by_owner[2].key, None);

        let sources: Vec<(&str, u64, u64)> =
            figures.by_source.iter().map(|g| (g.label.as_str(), g.won, g.lost)).collect();
        assert_eq!(sources, vec![("referral", 2, 0), ("Web", 0, 1), (NO_SOURCE, 1, 1)]);
        assert_eq!(figures.by_source[0].median_cycle_days, Some(36.5), "32 and 41");
    }

    #[test]
    fn stages_count_the_deals_that_reached_them_and_the_days_spent() {
        let w = world();
        let created = datetime!(2026-10-01 0:00 UTC);
        // Lead 10 days, Proposal 21 days, won.
        let mut a = deal(&w, DealStatus::Won, created, Some(datetime!(2026-10-31 0:00 UTC) + time::Duration::days(1)));
        a.stage_id = w.proposal;
        a.stage_moves = vec![(created, w.lead), (datetime!(2026-10-11 0:00 UTC), w.proposal)];
        // Lead 4 days, lost there.
        let mut b = deal(&w, DealStatus::Lost, datetime!(2026-11-01 0:00 UTC), Some(datetime!(2026-11-05 0:00 UTC)));
        b.stage_moves = vec![(b.created_at, w.lead)];
        // Lead 6 days, Proposal 2 days, back to Lead 2 days (8 in Lead), lost.
        let mut c = deal(&w, DealStatus::Lost, datetime!(2026-11-01 0:00 UTC), Some(datetime!(2026-11-10 0:00 UTC)));
        c.stage_moves = vec![
            (datetime!(2026-11-01 0:00 UTC), w.lead),
            (datetime!(2026-11-07 0:00 UTC), w.proposal),
            (datetime!(2026-11-08 0:00 UTC), w.lead),
        ];
        // No history (imported): it reached its last stage, time unknown.
        let mut d = deal(&w, DealStatus::Won, created, Some(datetime!(2026-11-15 0:00 UTC)));
        d.stage_id = w.proposal;
        let figures = sales_figures(&facts(&w, vec![a, b, c, d]));

        let lead = &figures.by_stage[0];
        assert_eq!((lead.reached, lead.reached_won), (3, 1));
        assert_eq!(lead.won_share, Some(1.0 / 3.0));
        assert_eq!(lead.median_days_in_stage, Some(8.0), "10, 4 and 8 days");
        assert_eq!((lead.won_here, lead.lost_here), (0, 2));
        let proposal = &figures.by_stage[1];
        assert_eq!((proposal.reached, proposal.reached_won), (3, 2), "a, c (for a day) and d");
        assert_eq!(proposal.median_days_in_stage, Some(11.0), "21 days for a, 1 for c");
        assert_eq!((proposal.won_here, proposal.lost_here), (2, 0));
    }

    #[test]
    fn the_forecast_weighs_open_deals_by_month_and_currency() {
        let w = world();
        let created = datetime!(2026-10-01 0:00 UTC);
        let open = |stage: StageId, minor: i64, currency: &str, expected: Option<Date>| DealFact {
            amount: Money::new(minor, Currency::parse(currency).unwrap()),
            stage_id: stage,
            expected_close: expected,
            ..deal(&w, DealStatus::Open, created, None)
        };
        let deals = vec![
            open(w.lead, 100_000, "EUR", Some(date!(2026 - 11 - 20))), // this month, 10% = 100.00
            open(w.proposal, 200_000, "EUR", Some(date!(2026 - 11 - 30))), // this month, 60% = 1,200.00
            open(w.proposal, 50_000, "USD", Some(date!(2026 - 11 - 25))), // this month, USD: 300.00
            open(w.proposal, 333, "EUR", Some(date!(2026 - 11 - 19))), // overdue: 3.33 × 60% = 2.00 (rounded)
            open(w.lead, 70_000, "EUR", None),                         // no date: 70.00
            open(w.lead, 90_000, "EUR", Some(date!(2027 - 12 - 01))),  // after Oct 2027: later
            open(w.proposal, 10_000, "EUR", Some(date!(2027 - 10 - 31))), // the 12th month: 60.00
        ];
        let figures = sales_figures(&facts(&w, deals));
        type Row<'a> = (ForecastBucket, Option<&'a str>, &'a str, u64, i64, i64);
        let rows: Vec<Row> = figures
            .forecast
            .iter()
            .filter(|r| r.deals > 0)
            .map(|r| (r.bucket, r.month.as_deref(), r.currency.as_str(), r.deals, r.amount_minor, r.weighted_minor))
            .collect();
        assert_eq!(
            rows,
            vec![
                (ForecastBucket::Overdue, None, "EUR", 1, 333, 200),
                (ForecastBucket::Month, Some("2026-11"), "EUR", 2, 300_000, 130_000),
                (ForecastBucket::Month, Some("2026-11"), "USD", 1, 50_000, 30_000),
                (ForecastBucket::Month, Some("2027-10"), "EUR", 1, 10_000, 6_000),
                (ForecastBucket::Later, None, "EUR", 1, 90_000, 9_000),
                (ForecastBucket::NoDate, None, "EUR", 1, 70_000, 7_000),
            ]
        );
        // Twelve months per currency, empty ones included.
        let months =
            |c: &str| figures.forecast.iter().filter(|r| r.bucket == ForecastBucket::Month && r.currency == c).count();
        assert_eq!((months("EUR"), months("USD")), (12, 12));
        let this_month = figures.forecast.iter().find(|r| r.month.as_deref() == Some("2026-11")).unwrap();
        assert_eq!(
            (this_month.first_day, this_month.last_day),
            (Some(date!(2026 - 11 - 20)), Some(date!(2026 - 11 - 30)))
        );
        let overdue = &figures.forecast[0];
        assert_eq!((overdue.first_day, overdue.last_day), (None, Some(date!(2026 - 11 - 19))));
        let later = figures.forecast.iter().find(|r| r.bucket == ForecastBucket::Later).unwrap();
        assert_eq!(later.first_day, Some(date!(2027 - 11 - 01)));
        assert_eq!(figures.overall.win_rate, None, "open deals are not closed ones");
    }

    #[test]
    fn activity_counts_each_kind_and_tasks_done_per_staff_member() {
        let w = world();
        let at = datetime!(2026-11-03 9:00 UTC);
        let mut world_facts = facts(&w, vec![]);
        world_facts.activities = [
            (ActivityKind::Call, Some(w.ana)),
            (ActivityKind::Call, Some(w.ana)),
            (ActivityKind::Email, Some(w.ana)),
            (ActivityKind::Meeting, Some(w.ben)),
            (ActivityKind::Note, None),
        ]
        .into_iter()
        .map(|(kind, staff_id)| ActivityFact { kind, staff_id, at })
        .collect();
        world_facts.tasks_done = vec![Some(w.ben), Some(w.ben), Some(w.ben)];
        let figures = sales_figures(&world_facts);
        let rows: Vec<(&str, u64, u64, u64, u64, u64, u64)> = figures
            .activity
            .iter()
            .map(|r| (r.name.as_str(), r.calls, r.emails, r.meetings, r.notes, r.tasks_done, r.total))
            .collect();
        assert_eq!(rows, vec![("Ben", 0, 0, 1, 0, 3, 4), ("Ana", 2, 1, 0, 0, 0, 3), (NO_OWNER, 0, 0, 0, 1, 0, 1)]);
    }
}
