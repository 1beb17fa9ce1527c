//! Goals on scorecard figures for the business, a team or a staff member.

use crate::common::ByKey;
use std::collections::HashMap;

use rapport_domain::goals::{Comparison, Goal, GoalInput, GoalScope, may_manage_goal, may_see_goal};
use rapport_domain::records::now;
use rapport_domain::style::Figure;
use rapport_domain::{Actor, GoalId, TeamId, UserId};
use sea_orm::prelude::*;
use sea_orm::{ActiveModelTrait, QueryOrder, Set};

use crate::entities::{goals, teams, users};
use crate::{Result, StorageError, Store};

fn denied() -> StorageError {
    StorageError::from(rapport_domain::access::Denied(
        "admins set the business's goals, managers their team's, and each staff member their own",
    ))
}

fn comparison_str(comparison: Comparison) -> &'static str {
    match comparison {
        Comparison::AtLeast => "at_least",
        Comparison::AtMost => "at_most",
    }
}

/// Names of the business, teams and staff members goals are about.
struct Names {
    teams: HashMap<Uuid, String>,
    users: HashMap<Uuid, (String, Option<TeamId>)>,
}

impl Names {
    async fn load(store: &Store) -> Result<Names> {
        let teams = teams::Entity::find().all(store.conn()).await?.into_iter().map(|t| (t.id, t.name)).collect();
        let users = users::Entity::find()
            .all(store.conn())
            .await?
            .into_iter()
            .map(|u| (u.id, (u.name, u.team_id.map(TeamId))))
            .collect();
        Ok(Names { teams, users })
    }

    /// The scope's name, and the team of a staff member's goal.
    fn of(&self, scope: GoalScope) -> (String, Option<TeamId>) {
        match scope {
            GoalScope::Business => ("The business".to_owned(), None),
            GoalScope::Team { team_id } => (self.teams.get(&team_id.0).cloned().unwrap_or_default(), None),
            GoalScope::User { user_id } => self.users.get(&user_id.0).cloned().unwrap_or_default(),
        }
    }
}

fn goal_from(row: goals::Model, names: &Names) -> Result<Goal> {
    let scope = match (row.scope.as_str(), row.team_id, row.user_id) {
        ("business", _, _) => GoalScope::Business,
        ("team", Some(team), _) => GoalScope::Team { team_id: TeamId(team) },
        ("user", _, Some(user)) => GoalScope::User { user_id: UserId(user) },
        (other, _, _) => return Err(StorageError::Corrupt(format!("goal {}: scope {other:?}", row.id))),
    };
    let figure = Figure::parse(&row.figure)
        .ok_or_else(|| StorageError::Corrupt(format!("goal {}: figure {:?}", row.id, row.figure)))?;
    let comparison = match row.comparison.as_str() {
        "at_least" => Comparison::AtLeast,
        "at_most" => Comparison::AtMost,
        other => return Err(StorageError::Corrupt(format!("goal {}: comparison {other:?}", row.id))),
    };
    Ok(Goal {
        id: GoalId(row.id),
        scope,
        scope_name: names.of(scope).0,
        figure,
        comparison,
        target: row.target,
        due_on: row.due_on,
        note: row.note,
        created_by: row.created_by.map(UserId),
        created_at: row.created_at,
    })
}

impl Store {
    /// Sets a goal, if the actor may set one for that scope.
    pub async fn create_goal(&self, actor: &Actor, input: GoalInput) -> Result<Goal> {
        let comparison = input.check(now().date())?;
        let names = Names::load(self).await?;
        let (team_id, user_id, scope) = match input.scope {
            GoalScope::Business => (None, None, "business"),
            GoalScope::Team { team_id } => {
                if !names.teams.contains_key(&team_id.0) {
                    return Err(rapport_domain::FieldErrors::single("scope.team_id", "is not a team").into());
                }
                (Some(team_id.0), None, "team")
            }
            GoalScope::User { user_id } => {
                if !names.users.contains_key(&user_id.0) {
                    return Err(rapport_domain::FieldErrors::single("scope.user_id", "is not a staff member").into());
                }
                (None, Some(user_id.0), "user")
            }
        };
        if !may_manage_goal(actor, input.scope, names.of(input.scope).1) {
            return Err(denied());
        }
        let row = goals::ActiveModel {
            id: Set(GoalId::new().0),
            scope: Set(scope.to_owned()),
            team_id: Set(team_id),
            user_id: Set(user_id),
            figure: Set(input.figure.as_str().to_owned()),
            comparison: Set(comparison_str(comparison).to_owned()),
            target: Set(input.target),
            due_on: Set(input.due_on),
            note: Set(input.note.map(String::from)),
            created_by: Set((actor.user_id != Actor::system().user_id).then_some(actor.user_id.0)),
            created_at: Set(now()),
        };
        let w = self.begin_write().await?;
        let row = row.insert(&*w).await?;
        w.commit().await?;
        goal_from(row, &names)
    }

    /// The goals `viewer` may see, soonest due first.
    pub async fn goals(&self, viewer: &Actor) -> Result<Vec<Goal>> {
        let names = Names::load(self).await?;
        let rows = goals::Entity::find()
            .order_by_asc(goals::Column::DueOn)
            .order_by_asc(goals::Column::Id)
            .all(self.conn())
            .await?;
        let mut shown = Vec::new();
        for row in rows {
            let goal = goal_from(row, &names)?;
            if may_see_goal(viewer, goal.scope, names.of(goal.scope).1) {
                shown.push(goal);
            }
        }
        Ok(shown)
    }

    /// Removes a goal the actor may manage; one they may not see is not found.
    pub async fn delete_goal(&self, actor: &Actor, id: GoalId) -> Result<()> {
        let names = Names::load(self).await?;
        let row = goals::Entity::find_by_id(id.0).by_key(self.conn()).await?.ok_or(StorageError::NotFound("goal"))?;
        let goal = goal_from(row, &names)?;
        let team = names.of(goal.scope).1;
        if !may_see_goal(actor, goal.scope, team) {
            return Err(StorageError::NotFound("goal"));
        }
        if !may_manage_goal(actor, goal.scope, team) {
            return Err(denied());
        }
        let w = self.begin_write().await?;
        goals::Entity::delete_by_id(id.0).exec(&*w).await?;
        w.commit().await?;
        Ok(())
    }
}
