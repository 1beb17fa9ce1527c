//! Creating records: one in its own transaction, or many in one transaction
//! (all of them or none), as demo data and bulk loads need.

use rapport_domain::Actor;
use rapport_domain::records::*;

use super::activities::insert_activity;
use super::companies::insert_company;
use super::deals::insert_deal;
use super::people::{insert_people, insert_person};
use super::purchases::insert_purchase;
use super::tasks::insert_task;
use crate::{Result, Store};

impl Store {
    pub async fn create_person(&self, actor: &Actor, input: PersonInput) -> Result<Person> {
        let w = self.begin_write().await?;
        let created = insert_person(&*w, actor, input).await?;
        w.commit().await?;
        Ok(created)
    }

    /// People are many in every load (demo data, benchmarks): they are
    /// checked together and written with a few multi-row statements.
    pub async fn create_people(&self, actor: &Actor, inputs: Vec<PersonInput>) -> Result<Vec<Person>> {
        let w = self.begin_write().await?;
        let created = insert_people(&*w, actor, inputs).await?.into_iter().collect::<Result<Vec<_>>>()?;
        w.commit().await?;
        Ok(created)
    }
}

macro_rules! creators {
    ($($one:ident, $method:ident($input:ty) -> $output:ty = $insert:path;)*) => {
        impl Store {
            $(
                pub async fn $one(&self, actor: &Actor, input: $input) -> Result<$output> {
                    let w = self.begin_write().await?;
                    let created = $insert(&*w, actor, input).await?;
                    w.commit().await?;
                    Ok(created)
                }

                pub async fn $method(&self, actor: &Actor, inputs: Vec<$input>) -> Result<Vec<$output>> {
                    let w = self.begin_write().await?;
                    let mut created = Vec::with_capacity(inputs.len());
                    for input in inputs {
                        created.push($insert(&*w, actor, input).await?);
                    }
                    w.commit().await?;
                    Ok(created)
                }
            )*
        }
    };
}

creators! {
    create_company, create_companies(CompanyInput) -> Company = insert_company;
    create_deal, create_deals(DealInput) -> Deal = insert_deal;
    create_activity, create_activities(ActivityInput) -> Activity = insert_activity;
    create_task, create_tasks(TaskInput) -> Task = insert_task;
    create_purchase, create_purchases(PurchaseInput) -> Purchase = insert_purchase;
}
