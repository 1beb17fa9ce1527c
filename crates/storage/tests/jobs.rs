//! Jobs as rows, against a real database: what a claim takes, retries,
//! leases that run out, unique keys, concurrent workers on separate
//! connection pools, and what a person may do to a job. Every test runs
//! twice, as `sqlite::NAME` and `postgres::NAME` (the latter when
//! RAPPORT_TEST_POSTGRES is set).
//!
//! Timestamps are stored in whole seconds: a lease of one second has run
//! out for sure two seconds later, hence the sleeps of 2.1 s.

#[macro_use]
extern crate rapport_testing;

use std::collections::HashSet;

use rapport_domain::jobs::JobStatus;
use rapport_domain::records::{UserInput, now};
use rapport_domain::text::Name;
use rapport_domain::{Actor, Email, JobId, Role};
use rapport_storage::{JobFilter, NewJob, StorageError, Store};
use rapport_testing::{Backend, TestDatabase};
use serde_json::json;
use time::Duration;

backend_tests!(
    claims_take_due_jobs_oldest_first_of_the_kinds_asked,
    a_failed_attempt_waits_for_its_retry_time_or_stays_failed,
    an_expired_lease_is_taken_over_and_the_old_owner_changes_nothing,
    a_lease_running_out_on_the_last_attempt_fails_the_job,
    a_unique_key_adds_one_job_even_from_concurrent_tasks,
    two_workers_never_run_one_job,
    cancel_and_retry_follow_the_state_and_who_may_see_the_job,
    a_released_job_is_queued_again_without_counting_the_attempt,
    prune_removes_old_done_and_cancelled_jobs_and_keeps_failed_ones,
);

const LONG: Duration = Duration::seconds(30);
const SHORT: Duration = Duration::seconds(1);
const PAST_A_SHORT_LEASE: std::time::Duration = std::time::Duration::from_millis(2_100);

async fn open(backend: Backend) -> (TestDatabase, Store) {
    let db = TestDatabase::migrated(backend, Store::migrate_database).await;
    let store = Store::connect(&db.url).await.unwrap_or_else(|err| panic!("connect to {}: {err}", db.url));
    (db, store)
}

async fn user(store: &Store, user_name: &str, role: Role) -> Actor {
    let input = UserInput {
        name: Name::try_from(user_name).expect("a valid name"),
        email: Email::parse(&format!("{}@example.com", user_name.to_lowercase())).expect("an email"),
        role,
        team_id: None,
        active: true,
    };
    let user = store.create_user(input, None, None).await.expect("create a user");
    Actor { user_id: user.id, role: user.fields.role, team_id: user.fields.team_id }
}

/// A job of `kind` due `ago_seconds` ago (a negative number: later).
fn job(kind: &str, ago_seconds: i64) -> NewJob {
    let mut job = NewJob::new(kind, json!({ "n": ago_seconds }));
    job.run_at = now() - Duration::seconds(ago_seconds);
    job
}

async fn add(store: &Store, job: NewJob) -> JobId {
    store.enqueue_job(job).await.expect("enqueue").expect("a job without a key is always added").id
}

fn all() -> JobFilter {
    JobFilter { limit: 10_000, ..JobFilter::default() }
}

async fn claims_take_due_jobs_oldest_first_of_the_kinds_asked(backend: Backend) {
    let (_db, store) = open(backend).await;
    let newer = add(&store, job("work", 30)).await;
    let older = add(&store, job("work", 60)).await;
    let future = add(&store, job("work", -3600)).await;
    let other = add(&store, job("other", 120)).await;

    let before = now();
    let first = store.claim_job("node-a", &["work"], LONG).await.unwrap().expect("a due job");
    assert_eq!(first.job.id, older, "the oldest run_at first");
    assert_eq!(first.job.status, JobStatus::Running);
    assert_eq!(first.job.attempts, 1);
    assert_eq!((first.lease.job_id, first.lease.owner.as_str(), first.lease.attempt), (older, "node-a", 1));
    assert_eq!(first.job.lease_owner.as_deref(), Some("node-a"));
    let expires = first.job.lease_expires_at.expect("a lease end");
    assert!(expires >= before + LONG && expires <= now() + LONG, "{expires} is not about 30 s ahead");
    assert!(first.job.started_at.is_some());

    let second = store.claim_job("node-a", &["work"], LONG).await.unwrap().expect("the second due job");
    assert_eq!(second.job.id, newer);
    assert!(
        store.claim_job("node-a", &["work"], LONG).await.unwrap().is_none(),
        "a job due later and a job of another kind are not claimed"
    );
    assert!(store.claim_job("node-b", &["nothing-like-it"], LONG).await.unwrap().is_none());
    let taken = store.claim_job("node-b", &["work", "other"], LONG).await.unwrap().expect("the other kind");
    assert_eq!(taken.job.id, other);

    // Done, with what it did.
    assert!(store.finish_job(&first.lease, Some(json!({ "rows": 12 }))).await.unwrap());
    let done = store.job(None, older).await.unwrap();
    assert_eq!(done.status, JobStatus::Done);
    assert_eq!(done.result, Some(json!({ "rows": 12 })));
    assert_eq!((done.attempts, done.lease_owner.as_deref(), done.lease_expires_at), (1, None, None));
    assert!(done.finished_at.is_some());
    assert!(!store.finish_job(&first.lease, None).await.unwrap(), "a done job is not finished twice");
    assert_eq!(store.job(None, older).await.unwrap().result, Some(json!({ "rows": 12 })));

    // Attempts count up: a failed attempt due again at once is claimed as the second.
    assert!(store.fail_job(&second.lease, "boom", Some(now())).await.unwrap());
    let again = store.claim_job("node-a", &["work"], LONG).await.unwrap().expect("due again");
    assert_eq!((again.job.id, again.job.attempts, again.lease.attempt), (newer, 2, 2));
    assert_eq!(again.job.last_error.as_deref(), Some("boom"));
    assert_eq!(store.job(None, future).await.unwrap().status, JobStatus::Queued);
    store.close().await.unwrap();
}

async fn a_failed_attempt_waits_for_its_retry_time_or_stays_failed(backend: Backend) {
    let (_db, store) = open(backend).await;
    let id = add(&store, job("work", 0)).await;
    let claimed = store.claim_job("node-a", &["work"], LONG).await.unwrap().expect("due");
    let retry_at = now() + Duration::seconds(2);
    assert!(store.fail_job(&claimed.lease, "the server did not answer", Some(retry_at)).await.unwrap());
    let waiting = store.job(None, id).await.unwrap();
    assert_eq!(waiting.status, JobStatus::Queued);
    assert_eq!(waiting.run_at, retry_at);
    assert_eq!(waiting.last_error.as_deref(), Some("the server did not answer"));
    assert_eq!((waiting.attempts, waiting.lease_owner.as_deref(), waiting.finished_at), (1, None, None));
    assert!(store.has_waiting_job("work").await.unwrap());

    assert!(store.claim_job("node-a", &["work"], LONG).await.unwrap().is_none(), "not before its retry time");
    assert!(store.claim_job("node-b", &["work"], LONG).await.unwrap().is_none(), "by no node");
    tokio::time::sleep(PAST_A_SHORT_LEASE).await;
    let second = store.claim_job("node-b", &["work"], LONG).await.unwrap().expect("due after its retry time");
    assert_eq!((second.job.id, second.job.attempts), (id, 2));

    // Without a retry time: failed for good.
    assert!(store.fail_job(&second.lease, "the file is not a CSV", None).await.unwrap());
    let failed = store.job(None, id).await.unwrap();
    assert_eq!(failed.status, JobStatus::Failed);
    assert_eq!(failed.last_error.as_deref(), Some("the file is not a CSV"));
    assert_eq!((failed.attempts, failed.lease_owner.as_deref()), (2, None));
    assert!(failed.finished_at.is_some());
    assert!(store.claim_job("node-b", &["work"], LONG).await.unwrap().is_none(), "a failed job is not claimed");
    assert!(!store.has_waiting_job("work").await.unwrap());
    assert_eq!(store.job_counts().await.unwrap().failed, 1);
    store.close().await.unwrap();
}

async fn an_expired_lease_is_taken_over_and_the_old_owner_changes_nothing(backend: Backend) {
    let (_db, store) = open(backend).await;
    let id = add(&store, job("work", 0)).await;
    let old = store.claim_job("node-a", &["work"], SHORT).await.unwrap().expect("due");
    assert!(store.claim_job("node-b", &["work"], SHORT).await.unwrap().is_none(), "the lease still holds");
    assert!(store.set_job_progress(&old.lease, json!({ "rows": 1 })).await.unwrap());

    tokio::time::sleep(PAST_A_SHORT_LEASE).await;
    assert!(store.claim_job("node-a", &["work"], LONG).await.unwrap().is_none(), "a node never takes over its own job");
    let new = store.claim_job("node-b", &["work"], LONG).await.unwrap().expect("taken over");
    assert_eq!((new.job.id, new.job.attempts, new.lease.attempt), (id, 2, 2));
    assert_eq!(new.job.lease_owner.as_deref(), Some("node-b"));

    // The old owner wakes up: every write of its lease is refused.
    assert!(!store.renew_job_lease(&old.lease, LONG).await.unwrap());
    assert!(!store.set_job_progress(&old.lease, json!({ "rows": 99 })).await.unwrap());
    assert!(!store.finish_job(&old.lease, Some(json!("stale"))).await.unwrap());
    assert!(!store.fail_job(&old.lease, "stale", None).await.unwrap());
    assert!(!store.fail_job(&old.lease, "stale", Some(now())).await.unwrap());
    assert!(!store.release_job(&old.lease).await.unwrap());
    let running = store.job(None, id).await.unwrap();
    assert_eq!(running.status, JobStatus::Running);
    assert_eq!((running.attempts, running.lease_owner.as_deref()), (2, Some("node-b")));
    assert_eq!(running.lease_expires_at, new.job.lease_expires_at, "the old owner did not renew it");
    assert_eq!((running.result, running.last_error), (None, None));
    assert_eq!(running.progress, Some(json!({ "rows": 1 })));

    // The same node name at another attempt is not the same lease either.
    let mut stale = new.lease.clone();
    stale.attempt = 1;
    assert!(!store.finish_job(&stale, None).await.unwrap());
    assert!(store.renew_job_lease(&new.lease, LONG).await.unwrap());
    assert!(store.finish_job(&new.lease, Some(json!("fresh"))).await.unwrap());
    let done = store.job(None, id).await.unwrap();
    assert_eq!((done.status, done.result), (JobStatus::Done, Some(json!("fresh"))));
    store.close().await.unwrap();
}

async fn a_lease_running_out_on_the_last_attempt_fails_the_job(backend: Backend) {
    let (_db, store) = open(backend).await;
    let mut last = job("work", 10);
    last.max_attempts = 1;
    let last = add(&store, last).await;
    let claimed = store.claim_job("node-a", &["work"], SHORT).await.unwrap().expect("due");
    assert_eq!(claimed.job.id, last);
    let next = add(&store, job("work", 0)).await;

    tokio::time::sleep(PAST_A_SHORT_LEASE).await;
    let taken = store.claim_job("node-b", &["work"], LONG).await.unwrap().expect("the next due job");
    assert_eq!(taken.job.id, next, "the job out of attempts is not run again");
    let failed = store.job(None, last).await.unwrap();
    assert_eq!(failed.status, JobStatus::Failed);
    assert_eq!((failed.attempts, failed.lease_owner.as_deref(), failed.lease_expires_at), (1, None, None));
    let error = failed.last_error.expect("why it failed");
    assert!(error.contains("node-a") && error.contains("stopped without finishing"), "{error}");
    assert!(failed.finished_at.is_some());
    assert!(!store.finish_job(&claimed.lease, None).await.unwrap(), "its old worker changes nothing");
    assert_eq!(store.job(None, last).await.unwrap().status, JobStatus::Failed);
    assert!(store.claim_job("node-c", &["work"], LONG).await.unwrap().is_none());
    store.close().await.unwrap();
}

async fn a_unique_key_adds_one_job_even_from_concurrent_tasks(backend: Backend) {
    let (db, store) = open(backend).await;
    let keyed = |key: &str| {
        let mut job = job("trash.purge", 0);
        job.unique_key = Some(key.to_owned());
        job
    };
    let first = store.enqueue_job(keyed("purge@1")).await.unwrap().expect("the first with a key is added");
    assert!(store.enqueue_job(keyed("purge@1")).await.unwrap().is_none(), "the second is not");
    assert!(store.enqueue_job(keyed("purge@2")).await.unwrap().is_some(), "another key is");
    let jobs = store.list_jobs(None, &all()).await.unwrap();
    assert_eq!(jobs.len(), 2);
    assert!(jobs.iter().any(|j| j.id == first.id));

    // Two nodes schedule the same periods at once, each with its own pool.
    let other = Store::connect(&db.url).await.unwrap();
    for period in 0..20 {
        let key = format!("race@{period}");
        let (a, b) = tokio::join!(
            tokio::spawn({
                let (store, job) = (store.clone(), keyed(&key));
                async move { store.enqueue_job(job).await }
            }),
            tokio::spawn({
                let (store, job) = (other.clone(), keyed(&key));
                async move { store.enqueue_job(job).await }
            }),
        );
        let (a, b) = (a.unwrap().expect("no error"), b.unwrap().expect("no error"));
        assert!(a.is_some() != b.is_some(), "{key}: exactly one is added ({a:?}, {b:?})");
    }
    assert_eq!(store.list_jobs(None, &all()).await.unwrap().len(), 22);
    other.close().await.unwrap();
    store.close().await.unwrap();
}

async fn two_workers_never_run_one_job(backend: Backend) {
    const JOBS: usize = 200;
    const WORKERS: usize = 8;
    let (db, store) = open(backend).await;
    let mut enqueued = HashSet::new();
    for n in 0..JOBS {
        let mut job = NewJob::new("work", json!({ "n": n }));
        // A few share one run_at: the order among them is the id's.
        job.run_at = now() - Duration::seconds((n / 4) as i64);
        enqueued.insert(add(&store, job).await);
    }

    // Each worker on a thread and a runtime of its own, with its own pool:
    // as separate as processes, short of being ones.
    let workers: Vec<_> = (0..WORKERS)
        .map(|w| {
            let url = db.url.clone();
            std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
                runtime.block_on(async move {
                    let store = Store::connect(&url).await.expect("connect a worker");
                    let owner = format!("worker-{w}");
                    let mut ran = Vec::new();
                    loop {
                        match store.claim_job(&owner, &["work"], LONG).await.expect("claim") {
                            Some(claimed) => {
                                assert_eq!(claimed.job.attempts, 1, "{owner} claimed a job already claimed");
                                tokio::task::yield_now().await;
                                let done = store.finish_job(&claimed.lease, Some(json!({ "by": owner }))).await;
                                assert!(done.expect("finish"), "{owner} lost the lease of {}", claimed.job.id);
                                ran.push(claimed.job.id);
                            }
                            // Rows another worker holds locked are skipped: none
                            // for me is not none left until nothing is queued.
                            None if store.job_counts().await.expect("counts").queued == 0 => break,
                            None => tokio::time::sleep(std::time::Duration::from_millis(5)).await,
                        }
                    }
                    store.close().await.unwrap();
                    ran
                })
            })
        })
        .collect();
    let mut ran = Vec::new();
    let mut busy = 0;
    for worker in workers {
        let own = worker.join().expect("a worker panicked");
        busy += usize::from(!own.is_empty());
        ran.extend(own);
    }
    let distinct: HashSet<JobId> = ran.iter().copied().collect();
    assert_eq!(ran.len(), JOBS, "every job was run once, none twice");
    assert_eq!(distinct, enqueued);
    assert!(busy > 1, "the workers ran side by side");

    let jobs = store.list_jobs(None, &all()).await.unwrap();
    assert_eq!(jobs.len(), JOBS);
    for job in &jobs {
        assert_eq!((job.status, job.attempts), (JobStatus::Done, 1), "{job:?}");
        let by = job.result.as_ref().and_then(|r| r["by"].as_str()).expect("who ran it");
        assert!(by.starts_with("worker-"), "{job:?}");
    }
    assert_eq!(store.job_counts().await.unwrap(), Default::default());
    store.close().await.unwrap();
}

async fn cancel_and_retry_follow_the_state_and_who_may_see_the_job(backend: Backend) {
    let (_db, store) = open(backend).await;
    let admin = user(&store, "Admin", Role::Admin).await;
    let starter = user(&store, "Starter", Role::Agent).await;
    let stranger = user(&store, "Stranger", Role::Agent).await;
    let mut mine = job("import", 0);
    mine.created_by = Some(starter.user_id);
    let id = add(&store, mine).await;

    // Only its starter and admins see it; to anyone else it does not exist.
    assert_eq!(store.job(Some(&starter), id).await.unwrap().id, id);
    assert_eq!(store.job(Some(&admin), id).await.unwrap().id, id);
    assert!(matches!(store.job(Some(&stranger), id).await, Err(StorageError::NotFound(_))));
    assert!(matches!(store.cancel_job(Some(&stranger), id).await, Err(StorageError::NotFound(_))));
    assert!(matches!(store.retry_job(Some(&stranger), id).await, Err(StorageError::NotFound(_))));
    assert!(store.list_jobs(Some(&stranger), &all()).await.unwrap().is_empty());
    assert_eq!(store.list_jobs(Some(&starter), &all()).await.unwrap().len(), 1);
    assert_eq!(store.list_jobs(Some(&admin), &all()).await.unwrap().len(), 1);
    assert!(matches!(store.job(None, JobId::new()).await, Err(StorageError::NotFound(_))));
    assert!(matches!(store.cancel_job(None, JobId::new()).await, Err(StorageError::NotFound(_))));
    assert_eq!(store.job(None, id).await.unwrap().status, JobStatus::Queued, "the stranger changed nothing");

    // A queued job cannot be retried; cancelled, it is not claimed; retried, it is, from its first attempt.
    let conflict = |outcome: Result<_, StorageError>| match outcome {
        Err(StorageError::Conflict(message)) => message,
        other => panic!("expected a conflict, got {other:?}"),
    };
    assert_eq!(conflict(store.retry_job(None, id).await), "a queued job cannot be retried");
    let cancelled = store.cancel_job(Some(&starter), id).await.unwrap();
    assert_eq!(cancelled.status, JobStatus::Cancelled);
    assert!(cancelled.finished_at.is_some());
    assert!(store.claim_job("node-a", &["import"], LONG).await.unwrap().is_none(), "a cancelled job is not run");
    let retried = store.retry_job(Some(&admin), id).await.unwrap();
    assert_eq!((retried.status, retried.attempts, retried.finished_at), (JobStatus::Queued, 0, None));
    let claimed = store.claim_job("node-a", &["import"], LONG).await.unwrap().expect("runs again");
    assert_eq!(claimed.job.attempts, 1);

    // A running job cancelled: its worker's lease is gone.
    let cancelled = store.cancel_job(None, id).await.unwrap();
    assert_eq!((cancelled.status, cancelled.lease_owner), (JobStatus::Cancelled, None));
    assert!(!store.renew_job_lease(&claimed.lease, LONG).await.unwrap());
    assert!(!store.finish_job(&claimed.lease, Some(json!("late"))).await.unwrap());
    let still = store.job(None, id).await.unwrap();
    assert_eq!((still.status, still.result), (JobStatus::Cancelled, None));

    // Failed: may be retried, with all its attempts again.
    store.retry_job(None, id).await.unwrap();
    let claimed = store.claim_job("node-a", &["import"], LONG).await.unwrap().expect("runs again");
    assert!(store.fail_job(&claimed.lease, "bad file", None).await.unwrap());
    let retried = store.retry_job(Some(&starter), id).await.unwrap();
    assert_eq!((retried.status, retried.attempts), (JobStatus::Queued, 0));
    assert!(retried.run_at <= now());

    // Done: neither cancelled nor retried.
    let claimed = store.claim_job("node-a", &["import"], LONG).await.unwrap().expect("runs again");
    assert!(store.finish_job(&claimed.lease, None).await.unwrap());
    assert_eq!(conflict(store.cancel_job(None, id).await), "a done job cannot be cancelled");
    assert_eq!(conflict(store.retry_job(Some(&admin), id).await), "a done job cannot be retried");
    assert_eq!(store.job(None, id).await.unwrap().status, JobStatus::Done);
    store.close().await.unwrap();
}

async fn a_released_job_is_queued_again_without_counting_the_attempt(backend: Backend) {
    let (_db, store) = open(backend).await;
    let id = add(&store, job("work", 5)).await;
    let first = store.claim_job("node-a", &["work"], LONG).await.unwrap().expect("due");
    assert!(store.release_job(&first.lease).await.unwrap());
    let released = store.job(None, id).await.unwrap();
    assert_eq!(released.status, JobStatus::Queued);
    assert_eq!((released.attempts, released.lease_owner.as_deref(), released.lease_expires_at), (0, None, None));
    assert!(released.run_at <= now());
    assert!(!store.release_job(&first.lease).await.unwrap(), "released once only");

    let next = store.claim_job("node-b", &["work"], LONG).await.unwrap().expect("at once, for another node");
    assert_eq!((next.job.id, next.job.attempts, next.lease.attempt), (id, 1, 1));
    assert!(!store.finish_job(&first.lease, None).await.unwrap(), "the node that gave it back changes nothing");
    assert!(store.finish_job(&next.lease, None).await.unwrap());
    store.close().await.unwrap();
}

async fn prune_removes_old_done_and_cancelled_jobs_and_keeps_failed_ones(backend: Backend) {
    let (_db, store) = open(backend).await;
    let done = add(&store, job("work", 30)).await;
    let failed = add(&store, job("work", 20)).await;
    let cancelled = add(&store, job("work", 10)).await;
    let claimed = store.claim_job("node-a", &["work"], LONG).await.unwrap().unwrap();
    assert_eq!(claimed.job.id, done);
    assert!(store.finish_job(&claimed.lease, None).await.unwrap());
    let claimed = store.claim_job("node-a", &["work"], LONG).await.unwrap().unwrap();
    assert_eq!(claimed.job.id, failed);
    assert!(store.fail_job(&claimed.lease, "no", None).await.unwrap());
    store.cancel_job(None, cancelled).await.unwrap();
    let queued = add(&store, job("work", -3600)).await;
    let running = add(&store, job("work", 0)).await;
    assert_eq!(store.claim_job("node-a", &["work"], LONG).await.unwrap().unwrap().job.id, running);
    let counts = store.job_counts().await.unwrap();
    assert_eq!((counts.queued, counts.running, counts.failed), (1, 1, 1));

    assert_eq!(store.prune_jobs(now() - Duration::days(7)).await.unwrap(), 0, "nothing finished a week ago");
    assert_eq!(store.prune_jobs(now() + Duration::seconds(5)).await.unwrap(), 2);
    let mut left: Vec<JobId> = store.list_jobs(None, &all()).await.unwrap().into_iter().map(|j| j.id).collect();
    left.sort();
    let mut kept = vec![failed, queued, running];
    kept.sort();
    assert_eq!(left, kept, "failed, queued and running jobs stay");
    assert!(matches!(store.job(None, done).await, Err(StorageError::NotFound(_))));
    store.close().await.unwrap();
}
