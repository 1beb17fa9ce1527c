//! The staff as pages need them: names beside records, owner choices, and
//! the ownership facts that decide whether to show edit controls.

use std::collections::HashMap;

use rapport_domain::access::{Action, Ownership};
use rapport_domain::records::User;
use rapport_domain::{Actor, TeamId, UserId};
use rapport_storage::{ListQuery, UserFilter};

use super::WebError;
use super::lists::Choice;
use rapport_api::AppState;

pub struct Staff {
    users: HashMap<UserId, User>,
    ordered: Vec<UserId>,
}

impl Staff {
    pub async fn load(state: &AppState) -> Result<Self, WebError> {
        let mut users = HashMap::new();
        let mut ordered = Vec::new();
        let mut query = ListQuery { limit: Some(200), sort: Some("name".into()), ..Default::default() };
        loop {
            let page = state.store.list_users(&query, &UserFilter::default()).await?;
            for user in page.items {
                ordered.push(user.id);
                users.insert(user.id, user);
            }
            match page.next_cursor {
                Some(cursor) => query.cursor = Some(cursor),
                None => break,
            }
        }
        Ok(Staff { users, ordered })
    }

    pub fn name(&self, id: Option<UserId>) -> String {
        id.and_then(|id| self.users.get(&id)).map(|u| u.fields.name.to_string()).unwrap_or_default()
    }

    pub fn team(&self, id: Option<UserId>) -> Option<TeamId> {
        id.and_then(|id| self.users.get(&id)).and_then(|u| u.fields.team_id)
    }

    /// Active staff, by name, as choices for an owner or assignee field.
    pub fn choices(&self) -> Vec<Choice> {
        self.ordered
            .iter()
            .filter_map(|id| self.users.get(id))
            .filter(|u| u.fields.active)
            .map(|u| Choice::new(u.id.to_string(), u.fields.name.to_string()))
            .collect()
    }

    /// Everyone in `team`, or just `me` without a team.
    pub fn teammates(&self, me: UserId, team: Option<TeamId>) -> Vec<UserId> {
        match team {
            Some(team) => self.users.values().filter(|u| u.fields.team_id == Some(team)).map(|u| u.id).collect(),
            None => vec![me],
        }
    }

    /// Whether `actor` may do `action` to a record with this owner and creator:
    /// the same rule storage enforces, asked early to hide controls.
    pub fn allows(&self, actor: &Actor, action: Action, owner: Option<UserId>, created_by: Option<UserId>) -> bool {
        self.ensure(actor, action, owner, created_by).is_ok()
    }

    /// Like `allows`, as the 403 page an edit form or a save answers when not.
    pub fn ensure(
        &self,
        actor: &Actor,
        action: Action,
        owner: Option<UserId>,
        created_by: Option<UserId>,
    ) -> Result<(), WebError> {
        let ownership = Ownership { owner_id: owner, owner_team_id: self.team(owner), created_by };
        actor.ensure_can(action, &ownership).map_err(|denied| WebError::Forbidden(denied.to_string()))
    }
}
