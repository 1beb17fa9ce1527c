//! Goals: a target on a scorecard figure ("NPS above 50 by June", "80 % of
//! tasks on time") for the whole business, a team or one staff member, by a
//! day. Progress and the forecast are computed from the figure's recent
//! periods (`rapport-insights::goals`).

use serde::{Deserialize, Serialize};
use time::{Date, Duration, OffsetDateTime};

use crate::access::{Actor, Role};
use crate::ids::{GoalId, TeamId, UserId};
use crate::style::{Figure, Unit};
use crate::style_feedback::may_view_style;
use crate::text::LongText;
use crate::validation::FieldErrors;

/// How far ahead a goal may be set.
pub const MAX_YEARS_AHEAD: i64 = 5;

/// Whether the figure must end up at least or at most the target.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Comparison {
    AtLeast,
    AtMost,
}

impl Comparison {
    /// The natural way round for a figure: at most for lower-is-better ones.
    pub fn natural(figure: Figure) -> Comparison {
        if figure.lower_is_better() { Comparison::AtMost } else { Comparison::AtLeast }
    }

    pub fn meets(self, value: f64, target: f64) -> bool {
        match self {
            Comparison::AtLeast => value >= target,
            Comparison::AtMost => value <= target,
        }
    }

    pub fn symbol(self) -> &'static str {
        match self {
            Comparison::AtLeast => "≥",
            Comparison::AtMost => "≤",
        }
    }
}

/// Whose figure a goal is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum GoalScope {
    Business,
    Team { team_id: TeamId },
    User { user_id: UserId },
}

/// The range a figure's values can take, for checking a target.
pub fn value_range(unit: Unit) -> (f64, f64) {
    match unit {
        Unit::Percent => (0.0, 100.0),
        Unit::Nps => (-100.0, 100.0),
        Unit::Sentiment => (-1.0, 1.0),
        Unit::Hours => (0.0, 24.0 * 365.0),
        Unit::Days => (0.0, 3650.0),
        Unit::Count => (0.0, 10_000.0),
    }
}

/// A goal as a client sends it.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GoalInput {
    pub figure: Figure,
    /// The business (default), a team or one staff member.
    #[serde(default = "business")]
    pub scope: GoalScope,
    /// `at_least` or `at_most`; by default the figure's better side
    /// (`at_most` for times, late or dropped tasks and churn).
    pub comparison: Option<Comparison>,
    /// In the figure's unit: percent 0–100, NPS −100–100, hours, days…
    pub target: f64,
    /// The day it should be reached, `YYYY-MM-DD`, after today.
    #[serde(with = "crate::time_input::date")]
    #[schema(value_type = String, format = Date)]
    pub due_on: Date,
    pub note: Option<LongText>,
}

fn business() -> GoalScope {
    GoalScope::Business
}

impl GoalInput {
    /// The comparison to use; refuses a target out of the figure's range or
    /// a day not ahead of `today` (or too far ahead).
    pub fn check(&self, today: Date) -> Result<Comparison, FieldErrors> {
        let mut errors = FieldErrors::new();
        let (low, high) = value_range(self.figure.unit());
        if !self.target.is_finite() || self.target < low || self.target > high {
            errors.add("target", format!("must be between {low} and {high} for {}", self.figure.label()));
        }
        if self.due_on <= today {
            errors.add("due_on", "must be a day after today");
        } else if self.due_on > today + Duration::days(365 * MAX_YEARS_AHEAD) {
            errors.add("due_on", format!("must be within {MAX_YEARS_AHEAD} years"));
        }
        errors.into_result()?;
        Ok(self.comparison.unwrap_or(Comparison::natural(self.figure)))
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Goal {
    pub id: GoalId,
    pub scope: GoalScope,
    /// The business, the team's or the staff member's name.
    pub scope_name: String,
    pub figure: Figure,
    pub comparison: Comparison,
    pub target: f64,
    #[serde(with = "crate::time_input::date")]
    #[schema(value_type = String, format = Date)]
    pub due_on: Date,
    pub note: Option<String>,
    pub created_by: Option<UserId>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

impl Goal {
    /// "NPS of customers served ≥ 50 by 2027-06-30".
    pub fn title(&self) -> String {
        format!("{} {} {} by {}", self.figure.label(), self.comparison.symbol(), self.target, self.due_on)
    }
}

/// Who may set or remove a goal: admins any; a manager their team's and
/// its members'; a staff member their own.
pub fn may_manage_goal(actor: &Actor, scope: GoalScope, subject_team: Option<TeamId>) -> bool {
    match scope {
        GoalScope::Business => actor.role == Role::Admin,
        GoalScope::Team { team_id } => {
            actor.role == Role::Admin || (actor.role == Role::Manager && actor.team_id == Some(team_id))
        }
        GoalScope::User { user_id } => actor.role != Role::Viewer && may_view_style(actor, user_id, subject_team),
    }
}

/// Who sees a goal: everyone the business's; a team's its members and
/// admins; a person's whoever may see their style.
pub fn may_see_goal(viewer: &Actor, scope: GoalScope, subject_team: Option<TeamId>) -> bool {
    match scope {
        GoalScope::Business => true,
        GoalScope::Team { team_id } => viewer.role == Role::Admin || viewer.team_id == Some(team_id),
        GoalScope::User { user_id } => may_view_style(viewer, user_id, subject_team),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn input(figure: Figure, target: f64, due_on: Date) -> GoalInput {
        GoalInput { figure, scope: GoalScope::Business, comparison: None, target, due_on, note: None }
    }

    #[test]
    fn a_goal_checks_its_target_and_day() {
        let today = date!(2026 - 12 - 04);
        assert_eq!(input(Figure::Nps, 50.0, date!(2027 - 06 - 30)).check(today), Ok(Comparison::AtLeast));
        assert_eq!(input(Figure::FirstResponseHours, 4.0, date!(2027 - 01 - 01)).check(today), Ok(Comparison::AtMost));
        let errors = input(Figure::TasksOnTime, 120.0, today).check(today).unwrap_err();
        assert_eq!(errors.get("target"), Some("must be between 0 and 100 for Tasks done on time"));
        assert_eq!(errors.get("due_on"), Some("must be a day after today"));
        assert!(input(Figure::Nps, f64::NAN, date!(2027 - 01 - 01)).check(today).is_err());
        assert!(input(Figure::Nps, 10.0, date!(2040 - 01 - 01)).check(today).is_err());
    }

    #[test]
    fn who_may_set_and_see_a_goal() {
        let (north, south) = (TeamId::new(), TeamId::new());
        let me = UserId::new();
        let other = UserId::new();
        let agent = Actor { user_id: me, role: Role::Agent, team_id: Some(north) };
        let manager = Actor { user_id: UserId::new(), role: Role::Manager, team_id: Some(north) };
        let admin = Actor { user_id: UserId::new(), role: Role::Admin, team_id: None };
        let team = |team_id| GoalScope::Team { team_id };
        assert!(!may_manage_goal(&agent, GoalScope::Business, None));
        assert!(may_manage_goal(&admin, GoalScope::Business, None));
        assert!(may_manage_goal(&manager, team(north), None));
        assert!(!may_manage_goal(&manager, team(south), None));
        assert!(may_manage_goal(&agent, GoalScope::User { user_id: me }, Some(north)));
        assert!(!may_manage_goal(&agent, GoalScope::User { user_id: other }, Some(north)));
        assert!(may_manage_goal(&manager, GoalScope::User { user_id: other }, Some(north)));
        assert!(may_see_goal(&agent, GoalScope::Business, None));
        assert!(may_see_goal(&agent, team(north), None));
        assert!(!may_see_goal(&agent, team(south), None));
        assert!(!may_see_goal(&agent, GoalScope::User { user_id: other }, Some(north)));
    }
}
