//! The monthly style review: for a month, against the month before, which
//! scorecard figures improved and which got worse (for the whole business,
//! a manager's team or one staff member), the goals on and off track, the
//! customers won back and lost, and the most-mentioned feedback themes with
//! their trend. A page, a printable report and the managers' monthly email.

use std::collections::HashMap;

use rapport_domain::goals::GoalScope;
use rapport_domain::style::{Figure, Unit};
use rapport_domain::{Actor, PersonId, Role, TeamId, UserId};
use rapport_storage::{PurchaseRow, PurchaseSink, Store};
use serde::Serialize;
use time::{Date, Duration, Month, OffsetDateTime};

use crate::ReportError;
use crate::Scope;
use crate::goals::{GoalProgress, goal_report, measure};
use crate::scorecards::active_staff;

/// Customers named per list; the counts cover them all.
pub const NAMED_CUSTOMERS: usize = 10;
/// Themes shown, most mentioned first.
pub const REVIEW_THEMES: usize = 5;

/// One figure this month against last month.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct FigureChange {
    pub figure: Figure,
    pub label: &'static str,
    pub unit: Unit,
    pub before: f64,
    pub now: f64,
    /// `now − before`, in the figure's unit.
    pub change: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct NamedCustomer {
    pub person_id: PersonId,
    pub name: String,
}

/// Customers who bought again after a silence longer than the churn window
/// (won back), and customers whose silence passed it during the month (lost).
#[derive(Clone, Debug, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct CustomerMoves {
    pub churn_days: u32,
    pub won_back: u64,
    pub lost: u64,
    pub won_back_named: Vec<NamedCustomer>,
    pub lost_named: Vec<NamedCustomer>,
}

#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ThemeLine {
    pub name: String,
    pub mentions: u64,
    /// Share of the month's comments, 0..1, and the month before's.
    pub share: f64,
    pub previous_share: f64,
    /// `rising`, `falling` or `steady` (a two-proportion test), as the feedback dashboard says.
    pub trend: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct MonthlyReview {
    /// `YYYY-MM`.
    pub month: String,
    #[serde(with = "time::serde::rfc3339")]
    pub from: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub to: OffsetDateTime,
    /// Whose figures: the business, a team or a staff member.
    pub scope: GoalScope,
    pub scope_name: String,
    /// Figures that moved the better way, the biggest move first.
    pub improved: Vec<FigureChange>,
    pub worse: Vec<FigureChange>,
    pub goals: Vec<GoalProgress>,
    pub customers: CustomerMoves,
    pub themes: Vec<ThemeLine>,
}

impl MonthlyReview {
    /// Nothing to tell: no figure moved, no goal, no customer won back or
    /// lost, no theme (a new installation's first month, say).
    pub fn is_empty(&self) -> bool {
        self.improved.is_empty()
            && self.worse.is_empty()
            && self.goals.is_empty()
            && self.customers.won_back == 0
            && self.customers.lost == 0
            && self.themes.is_empty()
    }
}

/// The first day of the month `day` falls in.
pub fn month_start(day: Date) -> Date {
    day.replace_day(1).expect("every month has a first day")
}

/// The first day of the month before.
pub fn previous_month(first: Date) -> Date {
    month_start(first - Duration::days(1))
}

fn next_month(first: Date) -> Date {
    let (year, month) = if first.month() == Month::December {
        (first.year() + 1, Month::January)
    } else {
        (first.year(), first.month().next())
    };
    Date::from_calendar_date(year, month, 1).expect("a valid first day")
}

/// The first day of the month `raw` names (`YYYY-MM`); last month (before
/// `today`'s) without one. A month after today's is refused.
pub fn parse_month(raw: Option<&str>, today: Date) -> Result<Date, &'static str> {
    let this_month = month_start(today);
    let Some(raw) = raw.map(str::trim).filter(|r| !r.is_empty()) else { return Ok(previous_month(this_month)) };
    let parsed = raw
        .split_once('-')
        .and_then(|(year, month)| Some((year.parse::<i32>().ok()?, month.parse::<u8>().ok()?)))
        .and_then(|(year, month)| Date::from_calendar_date(year, Month::try_from(month).ok()?, 1).ok())
        .ok_or("expected a month such as 2026-11")?;
    if parsed > this_month {
        return Err("must not be after this month");
    }
    Ok(parsed)
}

/// Whose review `viewer` gets: admins the business's, a manager with a
/// team that team's, everyone else their own.
pub fn review_scope(viewer: &Actor) -> GoalScope {
    match (viewer.role, viewer.team_id) {
        (Role::Admin, _) => GoalScope::Business,
        (Role::Manager, Some(team_id)) => GoalScope::Team { team_id },
        _ => GoalScope::User { user_id: viewer.user_id },
    }
}

/// Won back and lost, from each customer's purchases in time order.
struct Moves {
    churn: Duration,
    from: Date,
    to: Date,
    person: Option<PersonId>,
    previous: Option<Date>,
    /// The last purchase before `to`.
    last_before_end: Option<Date>,
    won_back: Vec<PersonId>,
    lost: Vec<PersonId>,
}

impl Moves {
    fn close_person(&mut self) {
        if let (Some(person), Some(last)) = (self.person, self.last_before_end) {
            let silent_from = last + self.churn;
            if silent_from >= self.from && silent_from < self.to {
                self.lost.push(person);
            }
        }
        self.previous = None;
        self.last_before_end = None;
    }
}

impl PurchaseSink for Moves {
    fn purchase(&mut self, row: PurchaseRow) {
        if self.person != Some(row.person_id) {
            self.close_person();
            self.person = Some(row.person_id);
        }
        if row.day >= self.from
            && row.day < self.to
            && self.previous.is_some_and(|p| row.day - p > self.churn)
            && self.won_back.last() != Some(&row.person_id)
        {
            self.won_back.push(row.person_id);
        }
        if row.day < self.to {
            self.last_before_end = Some(row.day);
        }
        self.previous = Some(row.day);
    }
}

async fn named(store: &Store, ids: &[PersonId]) -> Result<Vec<NamedCustomer>, ReportError> {
    let mut named = Vec::new();
    for id in ids.iter().take(NAMED_CUSTOMERS) {
        let person = store.get_person(*id).await?;
        let name = format!(
            "{} {}",
            person.fields.first_name,
            person.fields.last_name.as_ref().map(|n| n.as_str()).unwrap_or("")
        );
        named.push(NamedCustomer { person_id: *id, name: name.trim().to_owned() });
    }
    Ok(named)
}

async fn customer_moves(store: &Store, from: Date, to: Date, churn_days: u32) -> Result<CustomerMoves, ReportError> {
    let Some(scope) = Scope::pick(store, None).await? else {
        return Ok(CustomerMoves { churn_days, ..Default::default() });
    };
    let sink = Moves {
        churn: Duration::days(i64::from(churn_days)),
        from,
        to,
        person: None,
        previous: None,
        last_before_end: None,
        won_back: Vec::new(),
        lost: Vec::new(),
    };
    let (mut moves, _) = store.feed_purchases(&scope.currency, sink).await?;
    moves.close_person();
    Ok(CustomerMoves {
        churn_days,
        won_back: moves.won_back.len() as u64,
        lost: moves.lost.len() as u64,
        won_back_named: named(store, &moves.won_back).await?,
        lost_named: named(store, &moves.lost).await?,
    })
}

/// The review of the month starting `first` for `viewer` ([`review_scope`]),
/// with goals as of `today`.
pub async fn monthly_review(
    store: &Store,
    viewer: &Actor,
    first: Date,
    today: Date,
    churn_days: u32,
) -> Result<MonthlyReview, ReportError> {
    let first = month_start(first);
    let end = next_month(first);
    let before = previous_month(first);
    let at = |day: Date| day.midnight().assume_utc();
    let scope = review_scope(viewer);
    let staff = active_staff(store).await?;
    let teams: HashMap<UserId, Option<TeamId>> = staff.iter().map(|u| (u.id, u.fields.team_id)).collect();
    let scope_name = match scope {
        GoalScope::Business => "The business".to_owned(),
        GoalScope::Team { team_id } => store
            .list_teams()
            .await?
            .into_iter()
            .find(|t| t.id == team_id)
            .map(|t| t.fields.name.to_string())
            .unwrap_or_default(),
        GoalScope::User { user_id } => store.get_user(user_id).await?.fields.name.to_string(),
    };
    let this_month = store.style_facts(at(first), at(end)).await?;
    let last_month = store.style_facts(at(before), at(first)).await?;
    let (mut improved, mut worse) = (Vec::new(), Vec::new());
    for figure in Figure::ALL {
        let (Some(was), Some(is)) =
            (measure(&last_month, &teams, scope, figure), measure(&this_month, &teams, scope, figure))
        else {
            continue;
        };
        let change =
            FigureChange { figure, label: figure.label(), unit: figure.unit(), before: was, now: is, change: is - was };
        let better = if figure.lower_is_better() { is < was } else { is > was };
        if is == was {
            continue;
        } else if better {
            improved.push(change);
        } else {
            worse.push(change);
        }
    }
    // Biggest moves first, relative to where they started so units compare.
    let size = |c: &FigureChange| (c.change / c.before.abs().max(1.0)).abs();
    improved.sort_by(|a, b| size(b).total_cmp(&size(a)));
    worse.sort_by(|a, b| size(b).total_cmp(&size(a)));

    let mut themes = crate::feedback::themes(store, None, at(first), at(end), 2).await?;
    themes.sort_by_key(|t| std::cmp::Reverse(t.mentions));
    Ok(MonthlyReview {
        month: format!("{}-{:02}", first.year(), u8::from(first.month())),
        from: at(first),
        to: at(end),
        scope,
        scope_name,
        improved,
        worse,
        goals: goal_report(store, viewer, today).await?,
        customers: customer_moves(store, first, end, churn_days).await?,
        themes: themes
            .into_iter()
            .take(REVIEW_THEMES)
            .map(|t| ThemeLine {
                name: t.name,
                mentions: t.mentions,
                share: t.share,
                previous_share: t.previous_share,
                trend: t.trend.direction.as_str().to_owned(),
            })
            .collect(),
    })
}
