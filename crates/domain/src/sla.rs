//! Response targets (SLA) and the business-hours clock they run on: pure
//! time arithmetic over a calendar (a time zone, working periods per
//! weekday, holidays), tested with fixed instants rather than a real clock.

use std::collections::BTreeSet;

use jiff::civil;
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};
use time::{Date, Duration, OffsetDateTime};

use crate::ids::{CalendarId, SlaPolicyId, TeamId};
use crate::records::Meta;
use crate::text::{Name, Tag};
use crate::tickets::{TicketInput, TicketPriority};
use crate::validation::FieldErrors;

/// A day of the week, as calendars name them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Weekday {
    Monday,
    Tuesday,
    Wednesday,
    Thursday,
    Friday,
    Saturday,
    Sunday,
}

impl Weekday {
    pub const ALL: [Weekday; 7] = [
        Weekday::Monday,
        Weekday::Tuesday,
        Weekday::Wednesday,
        Weekday::Thursday,
        Weekday::Friday,
        Weekday::Saturday,
        Weekday::Sunday,
    ];

    fn of(date: civil::Date) -> Weekday {
        Weekday::ALL[usize::try_from(date.weekday().to_monday_zero_offset()).unwrap_or(0)]
    }

    pub fn label(self) -> &'static str {
        match self {
            Weekday::Monday => "Monday",
            Weekday::Tuesday => "Tuesday",
            Weekday::Wednesday => "Wednesday",
            Weekday::Thursday => "Thursday",
            Weekday::Friday => "Friday",
            Weekday::Saturday => "Saturday",
            Weekday::Sunday => "Sunday",
        }
    }
}

/// A time of day as `HH:MM`, from `00:00` to `24:00` (the end of a day).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TimeOfDay(u16);

crate::schema::schema_from!(
    TimeOfDay,
    crate::schema::text(
        5,
        5,
        "^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$",
        "A time of day as HH:MM, from 00:00 to 24:00 (the end of a day), e.g. 09:30."
    )
);

impl TimeOfDay {
    /// Minutes since midnight.
    pub fn minutes(self) -> u16 {
        self.0
    }
}

impl TryFrom<String> for TimeOfDay {
    type Error = String;
    fn try_from(raw: String) -> Result<Self, String> {
        let expected = || format!("{raw:?} is not a time of day: use HH:MM, from 00:00 to 24:00 (e.g. 09:30)");
        let (hours, minutes) = raw.trim().split_once(':').ok_or_else(expected)?;
        let (hours, minutes): (u16, u16) =
            (hours.parse().map_err(|_| expected())?, minutes.parse().map_err(|_| expected())?);
        if minutes >= 60 || hours > 24 || (hours == 24 && minutes > 0) || raw.trim().len() != 5 {
            return Err(expected());
        }
        Ok(TimeOfDay(hours * 60 + minutes))
    }
}

impl From<TimeOfDay> for String {
    fn from(time: TimeOfDay) -> String {
        format!("{:02}:{:02}", time.0 / 60, time.0 % 60)
    }
}

/// Working time on one weekday, e.g. Monday 09:00–12:30.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct WorkingPeriod {
    pub day: Weekday,
    pub start: TimeOfDay,
    pub end: TimeOfDay,
}

/// An IANA time zone name (`Europe/Berlin`), known to the bundled tz database.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TimeZoneName(String);

crate::schema::schema_from!(
    TimeZoneName,
    crate::schema::one_of(
        {
            let mut names: Vec<String> = jiff::tz::db().available().map(|name| name.to_string()).collect();
            names.sort();
            names
        },
        "An IANA time zone name known to the bundled tz database, e.g. Europe/Berlin or UTC."
    )
);

impl TimeZoneName {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn zone(&self) -> TimeZone {
        // Checked when parsed; UTC only if the bundled database changed under it.
        TimeZone::get(&self.0).unwrap_or(TimeZone::UTC)
    }
}

impl TryFrom<String> for TimeZoneName {
    type Error = String;
    fn try_from(raw: String) -> Result<Self, String> {
        let name = raw.trim();
        TimeZone::get(name)
            .map_err(|_| format!("{name:?} is not a known time zone: use a name such as Europe/Berlin or UTC"))?;
        Ok(TimeZoneName(name.to_owned()))
    }
}

impl From<TimeZoneName> for String {
    fn from(name: TimeZoneName) -> String {
        name.0
    }
}

/// Business hours: when the SLA clock runs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CalendarHours {
    pub time_zone: TimeZoneName,
    /// Working periods; a weekday without one is a day off. Periods of one
    /// day must not overlap.
    #[schema(min_items = 1)]
    pub periods: Vec<WorkingPeriod>,
    /// Days off whatever their weekday, in the calendar's time zone (`YYYY-MM-DD`).
    #[serde(default, with = "crate::time_input::date::list")]
    pub holidays: Vec<Date>,
}

/// How far ahead the clock looks for enough working time before it gives up
/// (a calendar whose only working day is a holiday every year, say).
const SEARCH_DAYS: i32 = 3 * 366;

impl CalendarHours {
    /// Every hour of every day, in UTC: the clock of tickets no calendar governs.
    pub fn always() -> CalendarHours {
        CalendarHours {
            time_zone: TimeZoneName("UTC".into()),
            periods: Weekday::ALL
                .iter()
                .map(|&day| WorkingPeriod { day, start: TimeOfDay(0), end: TimeOfDay(24 * 60) })
                .collect(),
            holidays: Vec::new(),
        }
    }

    /// Checks the periods: each starts before it ends, none overlaps another
    /// of its day, and some working time exists.
    pub fn check(&mut self) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::new();
        self.periods.sort_by_key(|p| (p.day, p.start));
        for (i, period) in self.periods.iter().enumerate() {
            if period.start >= period.end {
                errors.add(format!("periods[{i}]"), "must start before it ends");
            }
            if let Some(next) = self.periods.get(i + 1)
                && next.day == period.day
                && next.start < period.end
            {
                errors.add(format!("periods[{}]", i + 1), format!("overlaps another period on {}", period.day.label()));
            }
        }
        if self.periods.is_empty() {
            errors.add("periods", "must hold at least one working period");
        }
        let unique: BTreeSet<Date> = self.holidays.iter().copied().collect();
        self.holidays = unique.into_iter().collect();
        errors.into_result()
    }

    /// The working periods of one local day, as instants, in order.
    fn day_periods(&self, zone: &TimeZone, date: civil::Date) -> Vec<(jiff::Timestamp, jiff::Timestamp)> {
        if self.holidays.iter().any(|h| to_civil(*h) == Some(date)) {
            return Vec::new();
        }
        let weekday = Weekday::of(date);
        self.periods
            .iter()
            .filter(|p| p.day == weekday)
            .filter_map(|p| Some((local_instant(zone, date, p.start)?, local_instant(zone, date, p.end)?)))
            .filter(|(start, end)| start < end)
            .collect()
    }

    /// The moment `business` working time after `from` has passed (`from`
    /// itself for no time); `None` if the calendar has no such time within
    /// three years.
    pub fn add(&self, from: OffsetDateTime, business: Duration) -> Option<OffsetDateTime> {
        let zone = self.time_zone.zone();
        let start = to_timestamp(from)?;
        let mut remaining = business.whole_seconds().max(0);
        if remaining == 0 {
            return Some(from);
        }
        let mut date = zone.to_datetime(start).date();
        for _ in 0..SEARCH_DAYS {
            for (period_start, period_end) in self.day_periods(&zone, date) {
                let begin = period_start.max(start);
                if begin >= period_end {
                    continue;
                }
                let available = period_end.as_second() - begin.as_second();
                if remaining <= available {
                    return from_timestamp(begin.as_second() + remaining);
                }
                remaining -= available;
            }
            date = date.tomorrow().ok()?;
        }
        None
    }

    /// Working time between two moments (zero if `to` is not after `from`).
    pub fn between(&self, from: OffsetDateTime, to: OffsetDateTime) -> Duration {
        let zone = self.time_zone.zone();
        let (Some(start), Some(end)) = (to_timestamp(from), to_timestamp(to)) else { return Duration::ZERO };
        if end <= start {
            return Duration::ZERO;
        }
        let mut total = 0i64;
        let mut date = zone.to_datetime(start).date();
        let last = zone.to_datetime(end).date();
        while date <= last {
            for (period_start, period_end) in self.day_periods(&zone, date) {
                let begin = period_start.max(start);
                let finish = period_end.min(end);
                if begin < finish {
                    total += finish.as_second() - begin.as_second();
                }
            }
            let Ok(next) = date.tomorrow() else { break };
            date = next;
        }
        Duration::seconds(total)
    }
}

fn to_timestamp(at: OffsetDateTime) -> Option<jiff::Timestamp> {
    jiff::Timestamp::from_second(at.unix_timestamp()).ok()
}

fn from_timestamp(seconds: i64) -> Option<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp(seconds).ok()
}

fn to_civil(date: Date) -> Option<civil::Date> {
    civil::Date::new(i16::try_from(date.year()).ok()?, u8::from(date.month()) as i8, date.day() as i8).ok()
}

/// A local time of a local day as an instant. `24:00` is the next day's
/// start; a time skipped by a daylight-saving change moves forward with it.
fn local_instant(zone: &TimeZone, date: civil::Date, time: TimeOfDay) -> Option<jiff::Timestamp> {
    let (date, minutes) = if time.0 == 24 * 60 { (date.tomorrow().ok()?, 0) } else { (date, time.0) };
    let civil = date.at((minutes / 60) as i8, (minutes % 60) as i8, 0, 0);
    zone.to_ambiguous_timestamp(civil).compatible().ok()
}

/// Minutes of working time a policy allows for each target.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Targets {
    /// From the ticket's creation to the first staff reply.
    #[schema(minimum = 1, maximum = 525_600)]
    pub first_response_minutes: Option<u32>,
    /// From a customer message to the staff reply after it.
    #[schema(minimum = 1, maximum = 525_600)]
    pub next_response_minutes: Option<u32>,
    /// From creation to solved, time pending not counted.
    #[schema(minimum = 1, maximum = 525_600)]
    pub resolution_minutes: Option<u32>,
}

impl Targets {
    pub fn check(&self, errors: &mut FieldErrors) {
        for (field, value) in [
            ("first_response_minutes", self.first_response_minutes),
            ("next_response_minutes", self.next_response_minutes),
            ("resolution_minutes", self.resolution_minutes),
        ] {
            if value.is_some_and(|minutes| minutes == 0 || minutes > 365 * 24 * 60) {
                errors.add(field, "must be between 1 minute and a year (525600 minutes)");
            }
        }
        if self.first_response_minutes.is_none()
            && self.next_response_minutes.is_none()
            && self.resolution_minutes.is_none()
        {
            errors.add("first_response_minutes", "a policy needs at least one target");
        }
    }
}

/// A business-hours calendar as clients send it.
// No `deny_unknown_fields`: serde does not support it beside `flatten`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CalendarInput {
    pub name: Name,
    #[serde(flatten)]
    pub hours: CalendarHours,
}

/// A stored calendar.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Calendar {
    pub id: CalendarId,
    #[serde(flatten)]
    pub fields: CalendarInput,
    #[serde(flatten)]
    pub meta: Meta,
}

/// Which tickets a policy governs: all that match every condition given.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SlaCondition {
    /// Any of these priorities (none: any priority).
    #[serde(default)]
    pub priorities: Vec<TicketPriority>,
    /// Tickets in this team's queue.
    #[serde(default)]
    pub team_id: Option<TeamId>,
    /// Tickets with this tag.
    #[serde(default)]
    pub tag: Option<Tag>,
}

impl SlaCondition {
    pub fn matches(&self, ticket: &TicketInput) -> bool {
        (self.priorities.is_empty() || self.priorities.contains(&ticket.priority))
            && self.team_id.is_none_or(|team| ticket.team_id == Some(team))
            && self.tag.as_ref().is_none_or(|tag| ticket.tags.contains(tag))
    }
}

/// A response-target policy as clients send it.
// No `deny_unknown_fields`: serde does not support it beside `flatten`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SlaPolicyInput {
    pub name: Name,
    /// Policies are tried in this order (lowest first); the first that matches applies.
    #[serde(default)]
    pub position: i32,
    #[serde(default)]
    pub condition: SlaCondition,
    #[serde(flatten)]
    pub targets: Targets,
    /// The business hours the targets count in; none: around the clock.
    #[serde(default)]
    pub calendar_id: Option<CalendarId>,
    #[serde(default = "active")]
    pub active: bool,
}

fn active() -> bool {
    true
}

impl SlaPolicyInput {
    pub fn check(&mut self) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::new();
        self.targets.check(&mut errors);
        self.condition.priorities.sort_by_key(|p| p.as_str());
        self.condition.priorities.dedup();
        errors.into_result()
    }
}

/// A stored policy.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SlaPolicy {
    pub id: SlaPolicyId,
    #[serde(flatten)]
    pub fields: SlaPolicyInput,
    #[serde(flatten)]
    pub meta: Meta,
}

/// The first active policy, in order, whose condition the ticket meets.
pub fn policy_for<'a>(policies: &'a [SlaPolicy], ticket: &TicketInput) -> Option<&'a SlaPolicy> {
    let mut ordered: Vec<&SlaPolicy> = policies.iter().filter(|p| p.fields.active).collect();
    ordered.sort_by_key(|p| (p.fields.position, p.id));
    ordered.into_iter().find(|p| p.fields.condition.matches(ticket))
}

/// What the SLA clock of one ticket needs to know, at one moment.
#[derive(Clone, Debug, PartialEq)]
pub struct ClockInput {
    pub created_at: OffsetDateTime,
    /// The first staff reply, once there is one.
    pub first_responded_at: Option<OffsetDateTime>,
    /// The customer message still waiting for a staff reply, if any.
    pub awaiting_reply_since: Option<OffsetDateTime>,
    /// Working time spent pending so far (closed pending spells).
    pub pending_business: Duration,
    /// The moment the current pending spell began, when pending now.
    pub pending_since: Option<OffsetDateTime>,
    /// When it was solved, when it is.
    pub solved_at: Option<OffsetDateTime>,
}

/// The due times of a ticket's targets. A resolution due time is absent
/// while the ticket is pending: the clock stands still.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DueTimes {
    pub first_response_due: Option<OffsetDateTime>,
    pub next_response_due: Option<OffsetDateTime>,
    pub resolution_due: Option<OffsetDateTime>,
}

/// The due times under `targets` and `calendar`.
pub fn due_times(targets: &Targets, calendar: &CalendarHours, clock: &ClockInput) -> DueTimes {
    let minutes = |m: u32| Duration::minutes(i64::from(m));
    let first_response_due = targets.first_response_minutes.and_then(|m| calendar.add(clock.created_at, minutes(m)));
    let next_response_due = match (targets.next_response_minutes, clock.awaiting_reply_since) {
        // The first reply is measured by the first response target.
        (Some(m), Some(since)) if clock.first_responded_at.is_some() => calendar.add(since, minutes(m)),
        _ => None,
    };
    let resolution_due = match (targets.resolution_minutes, clock.pending_since) {
        (Some(m), None) => calendar.add(clock.created_at, minutes(m) + clock.pending_business),
        _ => None,
    };
    DueTimes { first_response_due, next_response_due, resolution_due }
}

#[cfg(test)]
mod tests {
    use time::macros::{date, datetime};

    use super::*;

    fn office() -> CalendarHours {
        let t = |raw: &str| TimeOfDay::try_from(raw.to_owned()).unwrap();
        let mut periods = Vec::new();
        for day in [Weekday::Monday, Weekday::Tuesday, Weekday::Wednesday, Weekday::Thursday, Weekday::Friday] {
            periods.push(WorkingPeriod { day, start: t("09:00"), end: t("12:00") });
            periods.push(WorkingPeriod { day, start: t("13:00"), end: t("17:00") });
        }
        let mut calendar = CalendarHours {
            time_zone: TimeZoneName::try_from("Europe/Berlin".to_owned()).unwrap(),
            periods,
            holidays: vec![date!(2026 - 12 - 25)],
        };
        calendar.check().unwrap();
        calendar
    }

    #[test]
    fn times_of_day_parse_and_print() {
        assert_eq!(String::from(TimeOfDay::try_from("09:30".to_owned()).unwrap()), "09:30");
        assert_eq!(TimeOfDay::try_from("24:00".to_owned()).unwrap().minutes(), 1440);
        for bad in ["9:30", "24:01", "12:60", "noon", "12-30", ""] {
            assert!(TimeOfDay::try_from(bad.to_owned()).is_err(), "{bad}");
        }
        assert!(TimeZoneName::try_from("Mars/Olympus".to_owned()).is_err());
    }

    #[test]
    fn the_clock_skips_lunch_nights_and_weekends() {
        let calendar = office();
        // Friday 11 December 2026, 16:00 in Berlin (15:00 UTC): one hour left that day.
        let friday = datetime!(2026-12-11 15:00 UTC);
        assert_eq!(calendar.add(friday, Duration::minutes(30)), Some(datetime!(2026-12-11 15:30 UTC)));
        // Two hours: one on Friday, the next on Monday from 09:00 Berlin (08:00 UTC).
        assert_eq!(calendar.add(friday, Duration::hours(2)), Some(datetime!(2026-12-14 09:00 UTC)));
        // Monday 11:30 Berlin + 1 h: half an hour before lunch, half after.
        assert_eq!(
            calendar.add(datetime!(2026-12-14 10:30 UTC), Duration::hours(1)),
            Some(datetime!(2026-12-14 12:30 UTC))
        );
        // Started on a Saturday: the clock starts Monday morning.
        assert_eq!(
            calendar.add(datetime!(2026-12-12 10:00 UTC), Duration::minutes(1)),
            Some(datetime!(2026-12-14 08:01 UTC))
        );
        assert_eq!(calendar.between(friday, datetime!(2026-12-14 09:00 UTC)), Duration::hours(2));
        assert_eq!(calendar.between(datetime!(2026-12-12 00:00 UTC), datetime!(2026-12-13 23:00 UTC)), Duration::ZERO);
    }

    #[test]
    fn holidays_are_days_off() {
        let calendar = office();
        // Thursday 24 December, 16:30 Berlin: half an hour, then Christmas (a
        // Friday holiday), the weekend, and Monday 28th.
        let christmas_eve = datetime!(2026-12-24 15:30 UTC);
        assert_eq!(calendar.add(christmas_eve, Duration::hours(1)), Some(datetime!(2026-12-28 08:30 UTC)));
        assert_eq!(calendar.between(christmas_eve, datetime!(2026-12-28 08:30 UTC)), Duration::hours(1));
    }

    #[test]
    fn daylight_saving_changes_keep_local_hours() {
        let calendar = office();
        // Berlin moves to summer time on Sunday 29 March 2026: Monday opens at 07:00 UTC.
        assert_eq!(
            calendar.add(datetime!(2026-03-27 15:30 UTC), Duration::hours(1)),
            Some(datetime!(2026-03-30 07:30 UTC))
        );
    }

    #[test]
    fn a_calendar_without_working_time_is_refused_and_never_due() {
        let mut empty = CalendarHours { periods: Vec::new(), ..office() };
        assert!(empty.check().is_err());
        assert_eq!(empty.add(datetime!(2026-12-11 15:00 UTC), Duration::hours(1)), None);
        let t = |raw: &str| TimeOfDay::try_from(raw.to_owned()).unwrap();
        let mut overlapping = office();
        overlapping.periods.push(WorkingPeriod { day: Weekday::Monday, start: t("11:00"), end: t("14:00") });
        assert!(overlapping.check().is_err());
        let mut backwards = office();
        backwards.periods = vec![WorkingPeriod { day: Weekday::Monday, start: t("17:00"), end: t("09:00") }];
        assert!(backwards.check().is_err());
    }

    #[test]
    fn pending_time_stops_the_resolution_clock() {
        let calendar = office();
        let targets = Targets {
            first_response_minutes: Some(60),
            next_response_minutes: Some(120),
            resolution_minutes: Some(8 * 60),
        };
        let created = datetime!(2026-12-14 08:00 UTC); // Monday 09:00 Berlin
        let mut clock = ClockInput {
            created_at: created,
            first_responded_at: None,
            awaiting_reply_since: Some(created),
            pending_business: Duration::ZERO,
            pending_since: None,
            solved_at: None,
        };
        let due = due_times(&targets, &calendar, &clock);
        assert_eq!(due.first_response_due, Some(datetime!(2026-12-14 09:00 UTC)));
        assert_eq!(due.next_response_due, None, "the first reply is the first response target's");
        // Eight working hours from Monday 09:00 Berlin, with lunch: Monday 17:00? No: 7 h on Monday, 1 h on Tuesday.
        assert_eq!(due.resolution_due, Some(datetime!(2026-12-15 09:00 UTC)));

        clock.first_responded_at = Some(datetime!(2026-12-14 08:30 UTC));
        clock.awaiting_reply_since = Some(datetime!(2026-12-14 10:00 UTC));
        clock.pending_since = Some(datetime!(2026-12-14 09:00 UTC));
        let due = due_times(&targets, &calendar, &clock);
        assert_eq!(due.next_response_due, Some(datetime!(2026-12-14 13:00 UTC)), "11:00 Berlin + 2 h, over lunch");
        assert_eq!(due.resolution_due, None, "pending: the clock stands still");

        // Two working hours pending move the resolution due time two working hours on.
        clock.pending_since = None;
        clock.pending_business = Duration::hours(2);
        let due = due_times(&targets, &calendar, &clock);
        assert_eq!(due.resolution_due, Some(datetime!(2026-12-15 11:00 UTC)));
    }
}
