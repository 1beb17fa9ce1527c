//! The timeline of a person or a company: activities, tasks, deals and
//! purchases, newest first.

use rapport_domain::records::TimelineEntry;
use rapport_domain::{CompanyId, PersonId};
use sea_orm::prelude::*;
use sea_orm::sea_query::{Query, SimpleExpr};
use sea_orm::{QueryOrder, QuerySelect};

use super::activities::activity_from;
use super::deals::deal_from;
use super::purchases::purchase_from;
use super::tasks::task_from;
use crate::entities::{activities, companies, deals, people, purchases, tasks};
use crate::{Result, StorageError, Store};

/// How many of each kind a timeline shows at most.
const PER_KIND: u64 = 200;

/// Which rows of each kind belong on one timeline.
struct Scope {
    activities: SimpleExpr,
    tasks: SimpleExpr,
    deals: SimpleExpr,
    purchases: SimpleExpr,
}

impl Store {
    pub async fn person_timeline(&self, id: PersonId) -> Result<Vec<TimelineEntry>> {
        people::Entity::find_by_id(id.0).one(self.conn()).await?.ok_or(StorageError::NotFound("person"))?;
        self.timeline(Scope {
            activities: activities::Column::PersonId.eq(id.0),
            tasks: tasks::Column::PersonId.eq(id.0),
            deals: deals::Column::PersonId.eq(id.0),
            purchases: purchases::Column::PersonId.eq(id.0),
        })
        .await
    }

    /// A company's timeline includes the purchases of its people.
    pub async fn company_timeline(&self, id: CompanyId) -> Result<Vec<TimelineEntry>> {
        companies::Entity::find_by_id(id.0).one(self.conn()).await?.ok_or(StorageError::NotFound("company"))?;
        let its_people = Query::select()
            .column(people::Column::Id)
            .from(people::Entity)
            .and_where(people::Column::CompanyId.eq(id.0))
            .to_owned();
        self.timeline(Scope {
            activities: activities::Column::CompanyId.eq(id.0),
            tasks: tasks::Column::CompanyId.eq(id.0),
            deals: deals::Column::CompanyId.eq(id.0),
            purchases: purchases::Column::PersonId.in_subquery(its_people),
        })
        .await
    }

    async fn timeline(&self, scope: Scope) -> Result<Vec<TimelineEntry>> {
        let db = self.conn();
        let mut entries = Vec::new();
        let found = activities::Entity::find()
            .filter(scope.activities)
            .order_by_desc(activities::Column::OccurredAt)
            .limit(PER_KIND)
            .all(db)
            .await?;
        for row in found {
            entries.push(TimelineEntry::Activity(activity_from(row)?));
        }
        let found = tasks::Entity::find()
            .filter(scope.tasks)
            .order_by_desc(tasks::Column::CreatedAt)
            .limit(PER_KIND)
            .all(db)
            .await?;
        for row in found {
            entries.push(TimelineEntry::Task(task_from(row)?));
        }
        let found = deals::Entity::find()
            .filter(scope.deals)
            .order_by_desc(deals::Column::CreatedAt)
            .limit(PER_KIND)
            .all(db)
            .await?;
        for row in found {
            entries.push(TimelineEntry::Deal(deal_from(row)?));
        }
        let found = purchases::Entity::find()
            .filter(scope.purchases)
            .order_by_desc(purchases::Column::OccurredAt)
            .limit(PER_KIND)
            .all(db)
            .await?;
        for row in found {
            entries.push(TimelineEntry::Purchase(purchase_from(row)?));
        }
        entries.sort_by_key(|e| std::cmp::Reverse(e.at()));
        Ok(entries)
    }
}
