//! Staff: users and teams. Only admins change them (checked here), except
//! that users may change their own name and password.

use rapport_domain::records::{Password, Team, TeamInput, User, UserInput, now};
use rapport_domain::text::Name;
use rapport_domain::{Actor, Email, Role, TeamId, UserId};
use sea_orm::prelude::*;
use sea_orm::{ActiveModelTrait, QueryOrder, Set};

use super::pipelines::{insert_pipeline, starter_pipeline};
use crate::common::{ByKey, check_version, meta, parse, parse_with};
use crate::entities::{pipelines, teams, users};
use crate::listing::{SortField, SortKind, SortValue};
use crate::{ListQuery, Page, Result, StorageError, Store};

pub(crate) fn user_from(row: users::Model) -> Result<User> {
    Ok(User {
        id: UserId(row.id),
        fields: UserInput {
            name: parse(row.name, "user name")?,
            email: parse(row.email, "user email")?,
            role: parse_with(&row.role, "user role", Role::parse)?,
            team_id: row.team_id.map(TeamId),
            active: row.active,
        },
        meta: meta(row.created_at, row.updated_at, row.created_by, row.version),
    })
}

fn team_from(row: teams::Model) -> Result<Team> {
    Ok(Team {
        id: TeamId(row.id),
        fields: TeamInput { name: parse(row.name, "team name")? },
        meta: meta(row.created_at, row.updated_at, row.created_by, row.version),
    })
}

/// Narrows the list of users.
#[derive(Clone, Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserFilter {
    pub team_id: Option<TeamId>,
    pub role: Option<Role>,
    pub active: Option<bool>,
}

impl crate::listing::ListShape for UserFilter {
    const SORTS: &'static [&'static str] = &["name", "email", "created_at"];
    const SEARCH_AND_TAGS: bool = false;
}

impl Store {
    pub async fn count_users(&self) -> Result<u64> {
        Ok(users::Entity::find().count(self.conn()).await?)
    }

    /// Adds a staff member. Callers check who may: the API asks for an admin;
    /// the CLI is run by whoever holds the database.
    pub async fn create_user(
        &self,
        input: UserInput,
        password: Option<&Password>,
        created_by: Option<UserId>,
    ) -> Result<User> {
        let hash = match password {
            Some(p) => Some(crate::hash_password(p.expose()).await?),
            None => None,
        };
        let now = now();
        let w = self.begin_write().await?;
        if let Some(team) = input.team_id {
            crate::common::must_exist::<teams::Entity, _>(&*w, team.0, "team_id", "team").await?;
        }
        if users::Entity::find().filter(users::Column::Email.eq(input.email.as_str())).one(&*w).await?.is_some() {
            return Err(StorageError::Conflict("a user with this email already exists".into()));
        }
        let row = users::ActiveModel {
            id: Set(UserId::new().0),
            name: Set(input.name.to_string()),
            email: Set(input.email.to_string()),
            role: Set(input.role.as_str().to_owned()),
            team_id: Set(input.team_id.map(|t| t.0)),
            active: Set(input.active),
            password_hash: Set(hash),
            created_at: Set(now),
            updated_at: Set(now),
            created_by: Set(created_by.map(|u| u.0)),
            version: Set(1),
        }
        .insert(&*w)
        .await?;
        w.commit().await?;
        user_from(row)
    }

    /// Adds the first admin, from the setup page or `rapport user add`, with
    /// a starter pipeline when there is none (so the board and deals work from
    /// the first minute): both ways of starting end the same. Refused once
    /// any user exists, checked in the same transaction so two setups cannot
    /// both succeed.
    pub async fn create_first_admin(&self, name: Name, email: Email, password: &Password) -> Result<User> {
        let hash = crate::hash_password(password.expose()).await?;
        let now = now();
        let w = self.begin_write().await?;
        // SQLite writers already go one at a time; on PostgreSQL two setups
        // would both count no users, so the first one locks out the second.
        if self.backend() == sea_orm::DbBackend::Postgres {
            w.execute_unprepared("LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE").await?;
        }
        if users::Entity::find().count(&*w).await? > 0 {
            return Err(StorageError::Conflict("Rapport is already set up: sign in instead".into()));
        }
        let row = users::ActiveModel {
            id: Set(UserId::new().0),
            name: Set(name.to_string()),
            email: Set(email.to_string()),
            role: Set(Role::Admin.as_str().to_owned()),
            team_id: Set(None),
            active: Set(true),
            password_hash: Set(Some(hash)),
            created_at: Set(now),
            updated_at: Set(now),
            created_by: Set(None),
            version: Set(1),
        }
        .insert(&*w)
        .await?;
        if pipelines::Entity::find().count(&*w).await? == 0 {
            insert_pipeline(&*w, UserId(row.id), starter_pipeline()).await?;
        }
        w.commit().await?;
        user_from(row)
    }

    pub async fn get_user(&self, id: UserId) -> Result<User> {
        user_from(users::Entity::find_by_id(id.0).by_key(self.conn()).await?.ok_or(StorageError::NotFound("user"))?)
    }

    pub async fn find_user_by_email(&self, email: &rapport_domain::Email) -> Result<Option<User>> {
        users::Entity::find()
            .filter(users::Column::Email.eq(email.as_str()))
            .one(self.conn())
            .await?
            .map(user_from)
            .transpose()
    }

    pub async fn list_users(&self, query: &ListQuery, filter: &UserFilter) -> Result<Page<User>> {
        query.refuse_search_and_tags()?;
        let mut select = users::Entity::find();
        if let Some(team) = filter.team_id {
            select = select.filter(users::Column::TeamId.eq(team.0));
        }
        if let Some(role) = filter.role {
            select = select.filter(users::Column::Role.eq(role.as_str()));
        }
        if let Some(active) = filter.active {
            select = select.filter(users::Column::Active.eq(active));
        }
        if let Some(since) = query.updated_since {
            select = select.filter(users::Column::UpdatedAt.gte(rapport_domain::records::normalize_timestamp(since)));
        }
        let fields = vec![
            SortField::new("name", Expr::col((users::Entity, users::Column::Name)), SortKind::Text),
            SortField::new("email", Expr::col((users::Entity, users::Column::Email)), SortKind::Text),
            SortField::new("created_at", Expr::col((users::Entity, users::Column::CreatedAt)), SortKind::Time),
        ];
        let page = query
            .fetch(self, select, users::Column::Id, fields, "name", |u, field| {
                let value = match field {
                    "email" => SortValue::Text(u.email.clone()),
                    "created_at" => SortValue::Time(u.created_at),
                    _ => SortValue::Text(u.name.clone()),
                };
                (value, u.id)
            })
            .await?;
        page.try_map(user_from)
    }

    /// Admins change anything; users may change only their own name and password.
    pub async fn update_user(
        &self,
        actor: &Actor,
        id: UserId,
        input: UserInput,
        password: Option<&Password>,
        expected_version: Option<i64>,
    ) -> Result<User> {
        let hash = match password {
            Some(p) => Some(crate::hash_password(p.expose()).await?),
            None => None,
        };
        let w = self.begin_write().await?;
        let row = users::Entity::find_by_id(id.0).by_key(&*w).await?.ok_or(StorageError::NotFound("user"))?;
        check_version(expected_version, row.version)?;
        let current = user_from(row.clone())?;
        if !actor.is_admin() {
            let only_own_profile = actor.user_id == id
                && input.email == current.fields.email
                && input.role == current.fields.role
                && input.team_id == current.fields.team_id
                && input.active == current.fields.active;
            if !only_own_profile {
                actor.ensure_admin()?;
            }
        }
        if actor.user_id == id && (input.role != Role::Admin || !input.active) && current.fields.role == Role::Admin {
            self.ensure_another_admin(&*w, id).await?;
        }
        if let Some(team) = input.team_id {
            crate::common::must_exist::<teams::Entity, _>(&*w, team.0, "team_id", "team").await?;
        }
        if input.email != current.fields.email
            && users::Entity::find().filter(users::Column::Email.eq(input.email.as_str())).one(&*w).await?.is_some()
        {
            return Err(StorageError::Conflict("a user with this email already exists".into()));
        }
        let deactivated = current.fields.active && !input.active;
        let mut active: users::ActiveModel = row.clone().into();
        active.name = Set(input.name.to_string());
        active.email = Set(input.email.to_string());
        active.role = Set(input.role.as_str().to_owned());
        active.team_id = Set(input.team_id.map(|t| t.0));
        active.active = Set(input.active);
        if let Some(hash) = hash {
            active.password_hash = Set(Some(hash));
        }
        active.updated_at = Set(now());
        active.version = Set(row.version + 1);
        let updated = crate::common::save(&*w, active, users::Column::Version, row.version).await?;
        if deactivated {
            Store::sign_out_everywhere(&*w, id).await?;
        }
        w.commit().await?;
        user_from(updated)
    }

    /// Keeps at least one active admin, so nobody locks the business out.
    async fn ensure_another_admin<C: sea_orm::ConnectionTrait>(&self, conn: &C, leaving: UserId) -> Result<()> {
        let others = users::Entity::find()
            .filter(users::Column::Role.eq(Role::Admin.as_str()))
            .filter(users::Column::Active.eq(true))
            .filter(users::Column::Id.ne(leaving.0))
            .count(conn)
            .await?;
        if others == 0 { Err(StorageError::Conflict("this is the last active admin".into())) } else { Ok(()) }
    }

    /// Users are never deleted (their records keep their name): they are deactivated.
    /// Changes nothing but `active`, read and written in one transaction: a
    /// team deleted meanwhile must not turn a deactivation into a complaint
    /// about the team.
    pub async fn deactivate_user(&self, actor: &Actor, id: UserId) -> Result<User> {
        actor.ensure_admin()?;
        let w = self.begin_write().await?;
        let row = users::Entity::find_by_id(id.0).by_key(&*w).await?.ok_or(StorageError::NotFound("user"))?;
        if !row.active {
            w.commit().await?;
            return user_from(row);
        }
        if row.role == Role::Admin.as_str() {
            self.ensure_another_admin(&*w, id).await?;
        }
        let version = row.version;
        let mut active: users::ActiveModel = row.into();
        active.active = Set(false);
        active.updated_at = Set(now());
        active.version = Set(version + 1);
        let updated = crate::common::save(&*w, active, users::Column::Version, version).await?;
        Store::sign_out_everywhere(&*w, id).await?;
        w.commit().await?;
        user_from(updated)
    }

    /// Sets a password from the CLI.
    pub async fn set_password(&self, id: UserId, password: &Password) -> Result<()> {
        let hash = crate::hash_password(password.expose()).await?;
        let w = self.begin_write().await?;
        let row = users::Entity::find_by_id(id.0).by_key(&*w).await?.ok_or(StorageError::NotFound("user"))?;
        let version = row.version;
        let mut active: users::ActiveModel = row.into();
        active.password_hash = Set(Some(hash));
        active.updated_at = Set(now());
        active.version = Set(version + 1);
        crate::common::save(&*w, active, users::Column::Version, version).await?;
        w.commit().await
    }

    /// Sets a role from the CLI.
    pub async fn set_role(&self, id: UserId, role: Role) -> Result<User> {
        let w = self.begin_write().await?;
        let row = users::Entity::find_by_id(id.0).by_key(&*w).await?.ok_or(StorageError::NotFound("user"))?;
        if row.role == Role::Admin.as_str() && role != Role::Admin {
            self.ensure_another_admin(&*w, id).await?;
        }
        let version = row.version;
        let mut active: users::ActiveModel = row.into();
        active.role = Set(role.as_str().to_owned());
        active.updated_at = Set(now());
        active.version = Set(version + 1);
        let row = crate::common::save(&*w, active, users::Column::Version, version).await?;
        w.commit().await?;
        user_from(row)
    }

    pub async fn create_team(&self, actor: &Actor, input: TeamInput) -> Result<Team> {
        actor.ensure_admin()?;
        let now = now();
        let w = self.begin_write().await?;
        let row = teams::ActiveModel {
            id: Set(TeamId::new().0),
            name: Set(input.name.to_string()),
            created_at: Set(now),
            updated_at: Set(now),
            created_by: Set(Some(actor.user_id.0)),
            version: Set(1),
        }
        .insert(&*w)
        .await?;
        w.commit().await?;
        team_from(row)
    }

    pub async fn get_team(&self, id: TeamId) -> Result<Team> {
        team_from(teams::Entity::find_by_id(id.0).by_key(self.conn()).await?.ok_or(StorageError::NotFound("team"))?)
    }

    pub async fn list_teams(&self) -> Result<Vec<Team>> {
        teams::Entity::find()
            .order_by_asc(teams::Column::Name)
            .all(self.conn())
            .await?
            .into_iter()
            .map(team_from)
            .collect()
    }

    pub async fn update_team(
        &self,
        actor: &Actor,
        id: TeamId,
        input: TeamInput,
        expected_version: Option<i64>,
    ) -> Result<Team> {
        actor.ensure_admin()?;
        let w = self.begin_write().await?;
        let row = teams::Entity::find_by_id(id.0).by_key(&*w).await?.ok_or(StorageError::NotFound("team"))?;
        check_version(expected_version, row.version)?;
        let version = row.version;
        let mut active: teams::ActiveModel = row.into();
        active.name = Set(input.name.to_string());
        active.updated_at = Set(now());
        active.version = Set(version + 1);
        let row = crate::common::save(&*w, active, teams::Column::Version, version).await?;
        w.commit().await?;
        team_from(row)
    }

    /// Deletes a team; its members stay, without a team.
    pub async fn delete_team(&self, actor: &Actor, id: TeamId) -> Result<()> {
        actor.ensure_admin()?;
        let w = self.begin_write().await?;
        let deleted = teams::Entity::delete_by_id(id.0).exec(&*w).await?;
        if deleted.rows_affected == 0 {
            return Err(StorageError::NotFound("team"));
        }
        w.commit().await
    }
}
