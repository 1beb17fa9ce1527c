//! Response targets: business-hours calendars and SLA policies (admins
//! keep them; every ticket write reads them to set its due times).

use rapport_domain::records::now;
use rapport_domain::sla::{Calendar, CalendarHours, CalendarInput, SlaCondition, SlaPolicy, SlaPolicyInput, Targets};
use rapport_domain::{Actor, CalendarId, SlaPolicyId};
use sea_orm::prelude::*;
use sea_orm::{ConnectionTrait, QueryOrder, Set};

use crate::common::*;
use crate::entities::{business_calendars, sla_policies, tickets};
use crate::{Result, StorageError, Store};

fn calendar_from(row: business_calendars::Model) -> Result<Calendar> {
    Ok(Calendar {
        id: CalendarId(row.id),
        fields: CalendarInput {
            name: parse(row.name, "calendar name")?,
            hours: from_json(row.hours, "calendar hours")?,
        },
        meta: meta(row.created_at, row.updated_at, row.created_by, row.version),
    })
}

fn minutes(raw: Option<i32>) -> Option<u32> {
    raw.and_then(|m| u32::try_from(m).ok())
}

fn stored_minutes(minutes: Option<u32>) -> Option<i32> {
    minutes.and_then(|m| i32::try_from(m).ok())
}

pub(crate) fn policy_from(row: sla_policies::Model) -> Result<SlaPolicy> {
    Ok(SlaPolicy {
        id: SlaPolicyId(row.id),
        fields: SlaPolicyInput {
            name: parse(row.name, "policy name")?,
            position: row.position,
            condition: from_json::<SlaCondition>(row.condition, "policy condition")?,
            targets: Targets {
                first_response_minutes: minutes(row.first_response_minutes),
                next_response_minutes: minutes(row.next_response_minutes),
                resolution_minutes: minutes(row.resolution_minutes),
            },
            calendar_id: row.calendar_id.map(CalendarId),
            active: row.active,
        },
        meta: meta(row.created_at, row.updated_at, row.created_by, row.version),
    })
}

/// Every policy, in the order they are tried.
pub(crate) async fn policies<C: ConnectionTrait>(conn: &C) -> Result<Vec<SlaPolicy>> {
    let rows = sla_policies::Entity::find()
        .order_by_asc(sla_policies::Column::Position)
        .order_by_asc(sla_policies::Column::Id)
        .all(conn)
        .await?;
    rows.into_iter().map(policy_from).collect()
}

/// The hours a policy counts in: its calendar's, or around the clock.
pub(crate) async fn hours_of<C: ConnectionTrait>(conn: &C, policy: Option<&SlaPolicy>) -> Result<CalendarHours> {
    match policy.and_then(|p| p.fields.calendar_id) {
        Some(id) => {
            let row = business_calendars::Entity::find_by_id(id.0)
                .by_key(conn)
                .await?
                .ok_or(StorageError::Corrupt(format!("the policy's calendar {id} is gone")))?;
            from_json(row.hours, "calendar hours")
        }
        None => Ok(CalendarHours::always()),
    }
}

impl Store {
    pub async fn create_calendar(&self, actor: &Actor, mut input: CalendarInput) -> Result<Calendar> {
        actor.ensure_admin()?;
        input.hours.check()?;
        let w = self.begin_write().await?;
        let at = now();
        let row = business_calendars::ActiveModel {
            id: Set(CalendarId::new().0),
            created_at: Set(at),
            updated_at: Set(at),
            created_by: Set(Some(actor.user_id.0)),
            version: Set(1),
            name: Set(input.name.to_string()),
            hours: Set(to_json(&input.hours)),
        }
        .insert(&*w)
        .await?;
        w.commit().await?;
        calendar_from(row)
    }

    pub async fn get_calendar(&self, id: CalendarId) -> Result<Calendar> {
        calendar_from(
            business_calendars::Entity::find_by_id(id.0)
                .by_key(self.conn())
                .await?
                .ok_or(StorageError::NotFound("calendar"))?,
        )
    }

    pub async fn list_calendars(&self) -> Result<Vec<Calendar>> {
        let rows =
            business_calendars::Entity::find().order_by_asc(business_calendars::Column::Name).all(self.conn()).await?;
        rows.into_iter().map(calendar_from).collect()
    }

    /// Changes a calendar, and with it the due times of every open ticket
    /// under a policy that counts in it, in the same transaction.
    pub async fn update_calendar(
        &self,
        actor: &Actor,
        id: CalendarId,
        mut input: CalendarInput,
        expected_version: Option<i64>,
    ) -> Result<Calendar> {
        actor.ensure_admin()?;
        input.hours.check()?;
        let w = self.begin_write().await?;
        let row = business_calendars::Entity::find_by_id(id.0)
            .by_key(&*w)
            .await?
            .ok_or(StorageError::NotFound("calendar"))?;
        check_version(expected_version, row.version)?;
        let version = row.version;
        let mut active: business_calendars::ActiveModel = row.into();
        active.name = Set(input.name.to_string());
        active.hours = Set(to_json(&input.hours));
        active.updated_at = Set(now());
        active.version = Set(version + 1);
        let row = save(&*w, active, business_calendars::Column::Version, version).await?;
        let governed: Vec<Uuid> = sla_policies::Entity::find()
            .filter(sla_policies::Column::CalendarId.eq(id.0))
            .all(&*w)
            .await?
            .into_iter()
            .map(|p| p.id)
            .collect();
        if !governed.is_empty() {
            crate::records::tickets::recompute_open(&*w, Some(&governed)).await?;
        }
        w.commit().await?;
        calendar_from(row)
    }

    pub async fn delete_calendar(&self, actor: &Actor, id: CalendarId) -> Result<()> {
        actor.ensure_admin()?;
        let w = self.begin_write().await?;
        let used = sla_policies::Entity::find().filter(sla_policies::Column::CalendarId.eq(id.0)).one(&*w).await?;
        if let Some(policy) = used {
            return Err(StorageError::Conflict(format!("the policy {:?} counts in this calendar", policy.name)));
        }
        let deleted = business_calendars::Entity::delete_by_id(id.0).exec(&*w).await?;
        if deleted.rows_affected == 0 {
            return Err(StorageError::NotFound("calendar"));
        }
        w.commit().await
    }

    pub async fn create_sla_policy(&self, actor: &Actor, mut input: SlaPolicyInput) -> Result<SlaPolicy> {
        actor.ensure_admin()?;
        input.check()?;
        let w = self.begin_write().await?;
        if let Some(calendar) = input.calendar_id {
            must_exist::<business_calendars::Entity, _>(&*w, calendar.0, "calendar_id", "calendar").await?;
        }
        let at = now();
        let mut active = sla_policies::ActiveModel {
            id: Set(SlaPolicyId::new().0),
            created_at: Set(at),
            updated_at: Set(at),
            created_by: Set(Some(actor.user_id.0)),
            version: Set(1),
            ..Default::default()
        };
        fill_policy(&mut active, &input);
        let row = active.insert(&*w).await?;
        crate::records::tickets::recompute_open(&*w, None).await?;
        w.commit().await?;
        policy_from(row)
    }

    pub async fn get_sla_policy(&self, id: SlaPolicyId) -> Result<SlaPolicy> {
        policy_from(
            sla_policies::Entity::find_by_id(id.0)
                .by_key(self.conn())
                .await?
                .ok_or(StorageError::NotFound("SLA policy"))?,
        )
    }

    pub async fn list_sla_policies(&self) -> Result<Vec<SlaPolicy>> {
        policies(self.conn()).await
    }

    /// Changes a policy; every open ticket's policy and due times are
    /// recomputed in the same transaction (another policy may match now).
    pub async fn update_sla_policy(
        &self,
        actor: &Actor,
        id: SlaPolicyId,
        mut input: SlaPolicyInput,
        expected_version: Option<i64>,
    ) -> Result<SlaPolicy> {
        actor.ensure_admin()?;
        input.check()?;
        let w = self.begin_write().await?;
        let row =
            sla_policies::Entity::find_by_id(id.0).by_key(&*w).await?.ok_or(StorageError::NotFound("SLA policy"))?;
        check_version(expected_version, row.version)?;
        if let Some(calendar) = input.calendar_id {
            must_exist::<business_calendars::Entity, _>(&*w, calendar.0, "calendar_id", "calendar").await?;
        }
        let version = row.version;
        let mut active: sla_policies::ActiveModel = row.into();
        fill_policy(&mut active, &input);
        active.updated_at = Set(now());
        active.version = Set(version + 1);
        let row = save(&*w, active, sla_policies::Column::Version, version).await?;
        crate::records::tickets::recompute_open(&*w, None).await?;
        w.commit().await?;
        policy_from(row)
    }

    pub async fn delete_sla_policy(&self, actor: &Actor, id: SlaPolicyId) -> Result<()> {
        actor.ensure_admin()?;
        let w = self.begin_write().await?;
        // Closed tickets keep the name of the policy they were measured by only as its id: clear it.
        tickets::Entity::update_many()
            .col_expr(tickets::Column::SlaPolicyId, sea_orm::sea_query::Expr::value(Option::<Uuid>::None))
            .filter(tickets::Column::SlaPolicyId.eq(id.0))
            .exec(&*w)
            .await?;
        let deleted = sla_policies::Entity::delete_by_id(id.0).exec(&*w).await?;
        if deleted.rows_affected == 0 {
            return Err(StorageError::NotFound("SLA policy"));
        }
        crate::records::tickets::recompute_open(&*w, None).await?;
        w.commit().await
    }
}

fn fill_policy(active: &mut sla_policies::ActiveModel, input: &SlaPolicyInput) {
    active.name = Set(input.name.to_string());
    active.position = Set(input.position);
    active.condition = Set(to_json(&input.condition));
    active.first_response_minutes = Set(stored_minutes(input.targets.first_response_minutes));
    active.next_response_minutes = Set(stored_minutes(input.targets.next_response_minutes));
    active.resolution_minutes = Set(stored_minutes(input.targets.resolution_minutes));
    active.calendar_id = Set(input.calendar_id.map(|c| c.0));
    active.active = Set(input.active);
}
