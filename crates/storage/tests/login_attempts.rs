//! Failed sign-ins kept in the database, so the login limit holds across
//! nodes: recorded per key, counted since a time, cleared, pruned. Runs as
//! `sqlite::NAME` and `postgres::NAME` (the latter when RAPPORT_TEST_POSTGRES
//! is set).

#[macro_use]
extern crate rapport_testing;

use rapport_storage::{LoginFailures, Store};
use rapport_testing::{Backend, TestDatabase};
use time::{Duration, OffsetDateTime};

backend_tests!(failures_are_counted_per_key_cleared_and_pruned);

async fn failures_are_counted_per_key_cleared_and_pruned(backend: Backend) {
    let db = TestDatabase::migrated(backend, Store::migrate_database).await;
    let store = Store::connect(&db.url).await.unwrap_or_else(|err| panic!("connect to {}: {err}", db.url));
    let now = OffsetDateTime::now_utc().replace_nanosecond(0).unwrap();
    let (account, address) = ("account:a@example.com", "ip:127.0.0.1");

    assert_eq!(store.count_login_failures(account, now - Duration::hours(1)).await.unwrap(), LoginFailures::default());
    store.record_login_failure(&[account, address], now - Duration::minutes(20)).await.unwrap();
    store.record_login_failure(&[account, address], now - Duration::minutes(10)).await.unwrap();
    store.record_login_failure(&[account], now).await.unwrap();

    // Counted since a time, the oldest of those given.
    let recent = store.count_login_failures(account, now - Duration::minutes(15)).await.unwrap();
    assert_eq!(recent, LoginFailures { count: 2, oldest: Some(now - Duration::minutes(10)) });
    let all = store.count_login_failures(account, now - Duration::hours(1)).await.unwrap();
    assert_eq!(all, LoginFailures { count: 3, oldest: Some(now - Duration::minutes(20)) });
    assert_eq!(store.count_login_failures(address, now - Duration::hours(1)).await.unwrap().count, 2);
    assert_eq!(store.count_login_failures("account:b@example.com", now - Duration::hours(1)).await.unwrap().count, 0);

    // Pruning removes only what is older than the cut, of every key.
    assert_eq!(store.prune_login_attempts(now - Duration::minutes(15)).await.unwrap(), 2);
    assert_eq!(store.count_login_failures(account, now - Duration::hours(1)).await.unwrap().count, 2);
    assert_eq!(store.count_login_failures(address, now - Duration::hours(1)).await.unwrap().count, 1);

    // A success clears the account, not the address.
    assert_eq!(store.clear_login_failures(account).await.unwrap(), 2);
    assert_eq!(store.count_login_failures(account, now - Duration::hours(1)).await.unwrap(), LoginFailures::default());
    assert_eq!(store.count_login_failures(address, now - Duration::hours(1)).await.unwrap().count, 1);
    store.close().await.unwrap();
}
