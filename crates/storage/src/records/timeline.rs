//! The timeline of a person or a company: activities, tasks, deals and
//! purchases, newest first.

use rapport_domain::records::TimelineEntry;
use rapport_domain::{CompanyId, PersonId};
use sea_orm::prelude::*;
use sea_orm::sea_query::Query;
use sea_orm::{QueryOrder, QuerySelect};

use super::activities::activity_from;
use super::deals::deal_from;
use super::purchases::purchase_from;
use super::tasks::task_from;
use crate::entities::{activities, companies, deals, people, purchases, tasks};
use crate::{Result, Store, StorageError};

/// How many of each kind a timeline shows at most.
const PER_KIND: u64 = 200;

impl Store {
    pub async fn person_timeline(&self, id: PersonId) -> Result<Vec<TimelineEntry>> {
        people::Entity::find_by_id(id.0).one(self.conn()).await?.ok_or(StorageError::NotFound("person"))?;
        let db = self.conn();
        let mut entries = Vec::new();
        for row in activities::Entity::find()
            .filter(activities::Column::PersonId.eq(id.0))
            .order_by_desc(activities::Column::OccurredAt)
            .limit(PER_KIND)
            .all(db)
            .await?
        {
            entries.push(TimelineEntry::Activity(activity_from(row)?));
        }
        for row in tasks::Entity::find().filter(tasks::Column::PersonId.eq(id.0)).limit(PER_KIND).all(db).await? {
            entries.push(TimelineEntry::Task(task_from(row)?));
        }
        for row in deals::Entity::find().filter(deals::Column::PersonId.eq(id.0)).limit(PER_KIND).all(db).await? {
            entries.push(TimelineEntry::Deal(deal_from(row)?));
        }
        for row in purchases::Entity::find()
            .filter(purchases::Column::PersonId.eq(id.0))
            .order_by_desc(purchases::Column::OccurredAt)
            .limit(PER_KIND)
            .all(db)
            .await?
        {
            entries.push(TimelineEntry::Purchase(purchase_from(row)?));
        }
        Ok(newest_first(entries))
    }

    /// A company's timeline includes the purchases of its people.
    pub async fn company_timeline(&self, id: CompanyId) -> Result<Vec<TimelineEntry>> {
        companies::Entity::find_by_id(id.0).one(self.conn()).await?.ok_or(StorageError::NotFound("company"))?;
        let db = self.conn();
        let mut entries = Vec::new();
        for row in activities::Entity::find()
            .filter(activities::Column::CompanyId.eq(id.0))
            .order_by_desc(activities::Column::OccurredAt)
            .limit(PER_KIND)
            .all(db)
            .await?
        {
            entries.push(TimelineEntry::Activity(activity_from(row)?));
        }
        for row in tasks::Entity::find().filter(tasks::Column::CompanyId.eq(id.0)).limit(PER_KIND).all(db).await? {
            entries.push(TimelineEntry::Task(task_from(row)?));
        }
        for row in deals::Entity::find().filter(deals::Column::CompanyId.eq(id.0)).limit(PER_KIND).all(db).await? {
            entries.push(TimelineEntry::Deal(deal_from(row)?));
        }
        let staff = Query::select()
            .column(people::Column::Id)
            .from(people::Entity)
            .and_where(people::Column::CompanyId.eq(id.0))
            .to_owned();
        for row in purchases::Entity::find()
            .filter(purchases::Column::PersonId.in_subquery(staff))
            .order_by_desc(purchases::Column::OccurredAt)
            .limit(PER_KIND)
            .all(db)
            .await?
        {
            entries.push(TimelineEntry::Purchase(purchase_from(row)?));
        }
        Ok(newest_first(entries))
    }
}

fn newest_first(mut entries: Vec<TimelineEntry>) -> Vec<TimelineEntry> {
    entries.sort_by_key(|e| std::cmp::Reverse(e.at()));
    entries
}
