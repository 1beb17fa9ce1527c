//! Goals with their progress and forecast: each goal's figure over the last
//! [`GOAL_PERIODS`] periods of 30 days, for its scope (the whole business,
//! a team's members together, or one staff member), read from one pass of
//! the style facts per period whatever the number of goals.

use std::collections::HashMap;

use rapport_domain::goals::{Goal, GoalScope, value_range};
use rapport_domain::style::Figure;
use rapport_domain::{Actor, TeamId, UserId};
use rapport_insights::goals::{GoalForecast, GoalPoint, forecast};
use rapport_insights::scorecards::scorecards;
use rapport_storage::{StorageError, Store};
use serde::Serialize;
use time::{Date, Duration, OffsetDateTime};

use crate::scorecards::active_staff;

/// How many 30-day periods up to today a goal's trend is drawn from.
pub const GOAL_PERIODS: i64 = 6;
const PERIOD_DAYS: i64 = 30;

#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct GoalProgress {
    pub goal: Goal,
    /// "NPS of customers served ≥ 50 by 2027-06-30".
    pub title: String,
    pub unit: rapport_domain::style::Unit,
    /// Days from today to the due day (negative once past).
    pub days_left: i64,
    /// The figure per period, oldest first; periods with too few cases are left out.
    pub points: Vec<GoalPoint>,
    pub forecast: GoalForecast,
}

/// The figure of `scope` in one period's facts, if it has enough cases.
pub(crate) fn measure(
    facts: &rapport_domain::style::Facts<UserId, rapport_domain::PersonId>,
    teams: &HashMap<UserId, Option<TeamId>>,
    scope: GoalScope,
    figure: Figure,
) -> Option<f64> {
    let pooled = facts.regroup(|staff| match scope {
        GoalScope::Business => Some(()),
        GoalScope::Team { team_id } => (teams.get(staff).copied().flatten() == Some(team_id)).then_some(()),
        GoalScope::User { user_id } => (*staff == user_id).then_some(()),
    });
    let card = scorecards(&pooled, &[()]).pop()?;
    let measured = card.measure(figure);
    measured.is_enough().then_some(measured.value).flatten()
}

/// The goals `viewer` may see, each with its progress and forecast as of `today`.
pub async fn goal_report(store: &Store, viewer: &Actor, today: Date) -> Result<Vec<GoalProgress>, StorageError> {
    let goals = store.goals(viewer).await?;
    if goals.is_empty() {
        return Ok(Vec::new());
    }
    let teams: HashMap<UserId, Option<TeamId>> =
        active_staff(store).await?.into_iter().map(|u| (u.id, u.fields.team_id)).collect();
    let end = (today + Duration::days(1)).midnight().assume_utc();
    let mut series: Vec<Vec<GoalPoint>> = vec![Vec::new(); goals.len()];
    for back in (0..GOAL_PERIODS).rev() {
        let to: OffsetDateTime = end - Duration::days(PERIOD_DAYS * back);
        let facts = store.style_facts(to - Duration::days(PERIOD_DAYS), to).await?;
        for (goal, points) in goals.iter().zip(&mut series) {
            if let Some(value) = measure(&facts, &teams, goal.scope, goal.figure) {
                points.push(GoalPoint { day: -(PERIOD_DAYS * back) as f64, value });
            }
        }
    }
    Ok(goals
        .into_iter()
        .zip(series)
        .map(|(goal, points)| {
            let days_left = (goal.due_on - today).whole_days();
            let range = value_range(goal.figure.unit());
            GoalProgress {
                title: goal.title(),
                unit: goal.figure.unit(),
                days_left,
                forecast: forecast(&points, goal.comparison, goal.target, days_left as f64, range),
                points,
                goal,
            }
        })
        .collect())
}
