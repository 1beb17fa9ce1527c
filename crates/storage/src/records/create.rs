//! Creating records: one in its own transaction, or many in one transaction
//! (all of them or none), as demo data and bulk loads need.

use rapport_domain::Actor;
use rapport_domain::records::*;

use super::activities::{insert_activities, insert_activity};
use super::companies::{insert_companies, insert_company};
use super::deals::{insert_deal, insert_deals};
use super::people::{insert_people, insert_person};
use super::purchases::{insert_purchase, insert_purchases};
use super::tasks::insert_task;
use crate::{Result, Store};

/// One record in its own transaction.
macro_rules! create_one {
    ($($one:ident($input:ty) -> $output:ty = $insert:path;)*) => {
        impl Store {
            $(
                pub async fn $one(&self, actor: &Actor, input: $input) -> Result<$output> {
                    let w = self.begin_write().await?;
                    let created = $insert(&*w, actor, input).await?;
                    w.commit().await?;
                    Ok(created)
                }
            )*
        }
    };
}

/// Many records in one transaction, inserted one after another.
macro_rules! create_many_one_by_one {
    ($($many:ident($input:ty) -> $output:ty = $insert:path;)*) => {
        impl Store {
            $(
                pub async fn $many(&self, actor: &Actor, inputs: Vec<$input>) -> Result<Vec<$output>> {
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

/// Many records in one transaction, checked together and written with a
/// few multi-row statements: the kinds that come by the thousand.
macro_rules! create_many_together {
    ($($many:ident($input:ty) -> $output:ty = $insert_all:path;)*) => {
        impl Store {
            $(
                pub async fn $many(&self, actor: &Actor, inputs: Vec<$input>) -> Result<Vec<$output>> {
                    let w = self.begin_write().await?;
                    let created = $insert_all(&*w, actor, inputs).await?.into_iter().collect::<Result<Vec<_>>>()?;
                    w.commit().await?;
                    Ok(created)
                }
            )*
        }
    };
}

create_one! {
    create_person(PersonInput) -> Person = insert_person;
    create_company(CompanyInput) -> Company = insert_company;
    create_deal(DealInput) -> Deal = insert_deal;
    create_activity(ActivityInput) -> Activity = insert_activity;
    create_task(TaskInput) -> Task = insert_task;
    create_purchase(PurchaseInput) -> Purchase = insert_purchase;
}

create_many_one_by_one! {
    create_tasks(TaskInput) -> Task = insert_task;
}

create_many_together! {
    create_people(PersonInput) -> Person = insert_people;
    create_companies(CompanyInput) -> Company = insert_companies;
    create_purchases(PurchaseInput) -> Purchase = insert_purchases;
    create_activities(ActivityInput) -> Activity = insert_activities;
    create_deals(DealInput) -> Deal = insert_deals;
}
