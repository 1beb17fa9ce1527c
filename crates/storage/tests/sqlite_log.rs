//! A server's SQLite store checkpoints its write-ahead log from a task of its
//! own rather than inside the commits that fill it (`Store::connect`). These
//! tests are about that SQLite mechanism, so they run on SQLite alone.

mod common;

use std::time::{Duration, Instant};

use rapport_domain::records::PersonInput;
use rapport_domain::text::Name;
use rapport_domain::{Actor, Email};
use rapport_storage::{SharedEmail, Store};
use rapport_testing::Backend;
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement};

fn lead(first: &str, email: &str) -> PersonInput {
    PersonInput::lead(Name::try_from(first).expect("a name"), None, Email::parse(email).expect("an email"), None)
}

/// The database file alone, without its write-ahead log: what a checkpoint
/// has moved into it (`immutable=1` makes SQLite read the file only).
async fn file_only(url: &str) -> DatabaseConnection {
    let path = url.strip_prefix("sqlite://").expect("a SQLite URL");
    Database::connect(format!("sqlite://{path}?mode=ro&immutable=1")).await.expect("open the file alone")
}

async fn people_in_file(url: &str) -> i64 {
    let file = file_only(url).await;
    let row = file
        .query_one_raw(Statement::from_string(file.get_database_backend(), "SELECT count(*) AS n FROM people"))
        .await
        .expect("count the file's people")
        .expect("a count");
    let count = row.try_get::<i64>("", "n").expect("a number");
    file.close().await.expect("close the file");
    count
}

async fn create(store: &Store, admin: &Actor, count: usize) {
    for i in 0..count {
        store
            .add_person(admin, lead(&format!("Logged {i}"), &format!("logged{i}@example.com")), SharedEmail::Refuse)
            .await
            .expect("create a person");
    }
}

#[tokio::test]
async fn the_log_reaches_the_database_file_without_a_commit_filling_it() {
    let (db, store, admin) = common::open(Backend::Sqlite).await;
    let before = people_in_file(&db.url).await;
    // Far fewer pages than the 1,000 at which a commit would checkpoint.
    create(&store, &admin, 3).await;

    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let now_in_file = people_in_file(&db.url).await;
        if now_in_file == before + 3 {
            break;
        }
        assert!(Instant::now() < deadline, "the file still holds {now_in_file} people, not {}", before + 3);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    store.close().await.expect("close the store");
}
