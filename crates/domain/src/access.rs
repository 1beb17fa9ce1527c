//! Who may do what. Every write in Rapport asks this module, whichever door
//! (API, web page, CLI) it came through.

use serde::{Deserialize, Serialize};

use crate::ids::{TeamId, UserId};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Edits everything, including users, teams, pipelines and custom fields.
    Admin,
    /// Edits and deletes everything owned within its team, and unowned records.
    Manager,
    /// Creates records; edits its own, its team's and unowned ones; deletes its own.
    Agent,
    /// Reads everything, writes nothing.
    Viewer,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Admin, Role::Manager, Role::Agent, Role::Viewer];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Manager => "manager",
            Role::Agent => "agent",
            Role::Viewer => "viewer",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, String> {
        Role::ALL
            .into_iter()
            .find(|role| role.as_str() == raw.trim().to_ascii_lowercase())
            .ok_or_else(|| "must be one of admin, manager, agent, viewer".to_string())
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The signed-in staff member a request acts for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Actor {
    pub user_id: UserId,
    pub role: Role,
    pub team_id: Option<TeamId>,
}

/// Who a record belongs to, as far as permissions are concerned.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Ownership {
    pub owner_id: Option<UserId>,
    /// The owner's team, looked up when the ownership is read.
    pub owner_team_id: Option<TeamId>,
    pub created_by: Option<UserId>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Edit,
    Delete,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Denied(pub &'static str);

impl Actor {
    /// Work no staff member did, such as taking in mail that arrived:
    /// recorded under the nil user id, which the pages show as "Rapport".
    pub fn system() -> Actor {
        Actor { user_id: UserId(uuid::Uuid::nil()), role: Role::Admin, team_id: None }
    }

    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    fn in_team(&self, team: Option<TeamId>) -> bool {
        self.team_id.is_some() && self.team_id == team
    }

    /// Creating records is open to everyone but viewers.
    pub fn ensure_can_create(&self) -> Result<(), Denied> {
        if self.role == Role::Viewer { Err(Denied("viewers cannot change records")) } else { Ok(()) }
    }

    /// Reports across every agent (the SLA report) are for managers and admins.
    pub fn ensure_can_see_everyone(&self) -> Result<(), Denied> {
        if matches!(self.role, Role::Admin | Role::Manager) {
            Ok(())
        } else {
            Err(Denied("only a manager or an admin may see every agent's figures"))
        }
    }

    /// Users, teams, pipelines and custom fields are for admins only.
    pub fn ensure_admin(&self) -> Result<(), Denied> {
        if self.is_admin() { Ok(()) } else { Err(Denied("only an admin may do this")) }
    }

    pub fn ensure_can(&self, action: Action, record: &Ownership) -> Result<(), Denied> {
        let mine = record.owner_id == Some(self.user_id) || record.created_by == Some(self.user_id);
        let unowned = record.owner_id.is_none();
        let team = self.in_team(record.owner_team_id);
        let allowed = match (self.role, action) {
            (Role::Admin, _) => true,
            (Role::Viewer, _) => false,
            (Role::Manager, _) => mine || unowned || team,
            (Role::Agent, Action::Edit) => mine || unowned || team,
            (Role::Agent, Action::Delete) => mine,
        };
        if allowed {
            Ok(())
        } else if self.role == Role::Viewer {
            Err(Denied("viewers cannot change records"))
        } else {
            Err(Denied("this record belongs to someone outside your reach"))
        }
    }

    /// Whom a record may be handed to: admins give it to anyone; others to
    /// themselves, a teammate, or nobody.
    pub fn ensure_can_assign(&self, owner: Option<UserId>, owner_team: Option<TeamId>) -> Result<(), Denied> {
        match owner {
            None => Ok(()),
            Some(_) if self.is_admin() => Ok(()),
            Some(id) if id == self.user_id || self.in_team(owner_team) => Ok(()),
            Some(_) => Err(Denied("you may assign records only to yourself or your team")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(role: Role, team: Option<TeamId>) -> Actor {
        Actor { user_id: UserId::new(), role, team_id: team }
    }

    #[test]
    fn the_role_matrix_holds() {
        let team_a = TeamId::new();
        let team_b = TeamId::new();
        let stranger = Ownership { owner_id: Some(UserId::new()), owner_team_id: Some(team_b), created_by: None };
        let teammate = Ownership { owner_id: Some(UserId::new()), owner_team_id: Some(team_a), created_by: None };
        let unowned = Ownership::default();

        let admin = actor(Role::Admin, None);
        let manager = actor(Role::Manager, Some(team_a));
        let agent = actor(Role::Agent, Some(team_a));
        let viewer = actor(Role::Viewer, Some(team_a));
        let own = Ownership { owner_id: Some(agent.user_id), owner_team_id: Some(team_a), created_by: None };

        for action in [Action::Edit, Action::Delete] {
            assert!(admin.ensure_can(action, &stranger).is_ok());
            assert!(viewer.ensure_can(action, &unowned).is_err());
            assert!(manager.ensure_can(action, &teammate).is_ok());
            assert!(manager.ensure_can(action, &stranger).is_err());
            assert!(agent.ensure_can(action, &own).is_ok());
            assert!(agent.ensure_can(action, &stranger).is_err());
        }
        assert!(agent.ensure_can(Action::Edit, &teammate).is_ok());
        assert!(agent.ensure_can(Action::Delete, &teammate).is_err());
        assert!(agent.ensure_can(Action::Edit, &unowned).is_ok());
        assert!(agent.ensure_can(Action::Delete, &unowned).is_err());
        assert!(viewer.ensure_can_create().is_err());
        assert!(agent.ensure_admin().is_err());
    }
}
