//! What SQLite's planner statistics keep after `ANALYZE`. SQLite alone: the
//! samples (STAT4) are SQLite's.

mod common;

use rapport_domain::records::{LifecycleStage, PersonInput};
use rapport_domain::text::Name;
use rapport_domain::{Actor, Email};
use rapport_storage::{SharedEmail, Store};
use rapport_testing::Backend;
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement};

/// The indexes of `people` with samples in `sqlite_stat4`, by name.
async fn sampled_people_indexes(db: &DatabaseConnection) -> Vec<String> {
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT DISTINCT idx FROM sqlite_stat4 WHERE tbl = 'people' ORDER BY idx",
        ))
        .await
        .expect("read sqlite_stat4");
    rows.iter().map(|row| row.try_get_by_index::<String>(0).expect("an index name")).collect()
}

async fn add_people(store: &Store, admin: &Actor, count: usize) {
    for i in 0..count {
        let mut person = PersonInput::lead(
            Name::try_from(format!("Sampled {i}")).expect("a name"),
            None,
            Email::parse(&format!("sampled{i}@example.com")).expect("an email"),
            None,
        );
        person.lifecycle_stage = if i % 3 == 0 { LifecycleStage::Customer } else { LifecycleStage::Lead };
        store.add_person(admin, person, SharedEmail::Refuse).await.expect("create a person");
    }
}

#[tokio::test]
async fn analyze_keeps_samples_of_indexes_that_plan_by_value_but_not_of_unique_keys() {
    let (db, store, admin) = common::open(Backend::Sqlite).await;
    add_people(&store, &admin, 60).await;
    store.analyze().await.expect("analyze");

    let file = Database::connect(&db.url).await.expect("open the file");
    let sampled = sampled_people_indexes(&file).await;
    file.close().await.expect("close the file");
    assert!(
        !sampled.iter().any(|index| index == "sqlite_autoindex_people_1"),
        "after ANALYZE, the people's ids still have samples: {sampled:?}"
    );
    // The lifecycle stage's index plans by value: its samples stay.
    assert!(sampled.iter().any(|index| index == "people_lifecycle"), "after ANALYZE, {sampled:?}");
    store.close().await.expect("close the store");
}
