//! Background jobs as rows, the same on both backends. A worker claims a due
//! job under a lease (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so concurrent
//! workers pass over each other's rows; SQLite has one writer at a time) and
//! renews it while it works. A job whose worker died is claimed again once
//! its lease ran out. Every write a worker makes names its [`Lease`], the node
//! and the attempt, so a worker that lost its lease (taken over, or the job
//! cancelled) changes nothing.

use rapport_domain::jobs::{Job, JobStatus};
use rapport_domain::records::now;
use rapport_domain::{Actor, JobId, UploadId, UserId};
use sea_orm::prelude::*;
use sea_orm::sea_query::{Expr, ExprTrait, LockBehavior, LockType};
use sea_orm::{ActiveValue::Set, Condition, QueryOrder, QuerySelect, TryInsertResult};
use time::{Duration, OffsetDateTime};

use crate::common::{ByKey, parse_with};
use crate::entities::jobs;
use crate::{Result, StorageError, Store};

/// A job to add.
#[derive(Clone, Debug)]
pub struct NewJob {
    pub kind: String,
    pub payload: serde_json::Value,
    pub run_at: OffsetDateTime,
    pub max_attempts: i32,
    /// At most one job ever holds a key: a second with the same key is not added.
    pub unique_key: Option<String>,
    pub created_by: Option<UserId>,
    /// An upload the job reads: tied to it in the same transaction, and
    /// taken by no other job.
    pub upload: Option<UploadId>,
}

impl NewJob {
    /// A job of `kind` to run now, tried up to five times.
    pub fn new(kind: &str, payload: serde_json::Value) -> Self {
        NewJob {
            kind: kind.to_owned(),
            payload,
            run_at: now(),
            max_attempts: 5,
            unique_key: None,
            created_by: None,
            upload: None,
        }
    }
}

/// Which attempt of which job a worker holds: what every write of the
/// worker is checked against.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lease {
    pub job_id: JobId,
    pub owner: String,
    pub attempt: i32,
}

/// A claimed job and the lease to run it under.
#[derive(Clone, Debug)]
pub struct Claimed {
    pub job: Job,
    pub lease: Lease,
}

/// The jobs `by` may see (every job for an admin or no one) that `filter`'s
/// status, kind and starter select.
fn jobs_matching(by: Option<&Actor>, filter: &JobFilter) -> Select<jobs::Entity> {
    let mut query = jobs::Entity::find();
    if let Some(actor) = by.filter(|actor| !actor.is_admin()) {
        query = query.filter(jobs::Column::CreatedBy.eq(actor.user_id.0));
    }
    if let Some(status) = filter.status {
        query = query.filter(jobs::Column::Status.eq(status.as_str()));
    }
    if let Some(kind) = &filter.kind {
        query = query.filter(jobs::Column::Kind.eq(kind.as_str()));
    }
    if let Some(user) = filter.created_by {
        query = query.filter(jobs::Column::CreatedBy.eq(user.0));
    }
    query
}

/// One page of the jobs matching `filter`, newest first.
fn jobs_page(by: Option<&Actor>, filter: &JobFilter) -> Select<jobs::Entity> {
    let mut query = jobs_matching(by, filter);
    if let Some(before) = filter.before {
        query = query.filter(jobs::Column::Id.lt(before.0));
    }
    query.order_by_desc(jobs::Column::Id).limit(Ord::max(filter.limit, 1))
}

/// Which jobs to list.
#[derive(Clone, Debug, Default)]
pub struct JobFilter {
    pub status: Option<JobStatus>,
    pub kind: Option<String>,
    /// Only the jobs this person started.
    pub created_by: Option<UserId>,
    /// Jobs created before this one (the next page, newest first).
    pub before: Option<JobId>,
    pub limit: u64,
}

/// How many jobs wait and how many failed, for the jobs page and monitoring.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct JobCounts {
    pub queued: u64,
    pub running: u64,
    pub failed: u64,
}

fn to_job(row: jobs::Model) -> Result<Job> {
    Ok(Job {
        id: JobId(row.id),
        status: parse_with(&row.status, "job status", JobStatus::parse)?,
        kind: row.kind,
        payload: row.payload,
        run_at: row.run_at,
        attempts: row.attempts,
        max_attempts: row.max_attempts,
        last_error: row.last_error,
        lease_owner: row.lease_owner,
        lease_expires_at: row.lease_expires_at,
        progress: row.progress,
        result: row.result,
        created_by: row.created_by.map(UserId),
        created_at: row.created_at,
        started_at: row.started_at,
        finished_at: row.finished_at,
    })
}

/// The rows a lease still holds: running, by this node, at this attempt.
fn held(lease: &Lease) -> Condition {
    Condition::all()
        .add(jobs::Column::Id.eq(lease.job_id.0))
        .add(jobs::Column::Status.eq(JobStatus::Running.as_str()))
        .add(jobs::Column::LeaseOwner.eq(lease.owner.as_str()))
        .add(jobs::Column::Attempts.eq(lease.attempt))
}

/// A person may see and manage the jobs they started; an admin, every job;
/// `None` is whoever runs the CLI on the database itself.
fn may_manage(by: Option<&Actor>, job: &jobs::Model) -> bool {
    by.is_none_or(|actor| actor.is_admin() || job.created_by == Some(actor.user_id.0))
}

impl Store {
    /// Adds a job. With a `unique_key` some job already holds, adds nothing
    /// and returns `None`: that is how every node may schedule a recurring
    /// job for the same period and it still runs once.
    pub async fn enqueue_job(&self, job: NewJob) -> Result<Option<Job>> {
        let w = self.begin_write().await?;
        let added = enqueue_in(&*w, job).await?;
        w.commit().await?;
        Ok(added)
    }

    /// Claims the next due job of one of `kinds`, or one whose worker's
    /// lease ran out, for `owner` until now + `lease`. A node never takes
    /// over its own jobs: it knows they still run (a restarted node has
    /// another name).
    pub async fn claim_job(&self, owner: &str, kinds: &[&str], lease: Duration) -> Result<Option<Claimed>> {
        let due = |at: OffsetDateTime| {
            Condition::all().add(jobs::Column::Kind.is_in(kinds.iter().copied())).add(
                Condition::any()
                    .add(
                        Condition::all()
                            .add(jobs::Column::Status.eq(JobStatus::Queued.as_str()))
                            .add(jobs::Column::RunAt.lte(at)),
                    )
                    .add(
                        Condition::all()
                            .add(jobs::Column::Status.eq(JobStatus::Running.as_str()))
                            .add(jobs::Column::LeaseExpiresAt.lt(at))
                            .add(jobs::Column::LeaseOwner.ne(owner)),
                    ),
            )
        };
        // A read first: an idle worker's poll takes no write lock.
        let anything = jobs::Entity::find()
            .select_only()
            .column(jobs::Column::Id)
            .filter(due(now()))
            .into_tuple::<Uuid>()
            .one(self.conn())
            .await?;
        if anything.is_none() {
            return Ok(None);
        }
        loop {
            let w = self.begin_write().await?;
            let at = now();
            let Some(row) = jobs::Entity::find()
                .filter(due(at))
                .order_by_asc(jobs::Column::RunAt)
                .order_by_asc(jobs::Column::Id)
                .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
                .one(&*w)
                .await?
            else {
                w.rollback().await?;
                return Ok(None);
            };
            // A job whose worker died on its last allowed attempt is not run a
            // time more: it fails, and the next due job is looked for.
            if row.status == JobStatus::Running.as_str() && row.attempts >= row.max_attempts {
                let error = format!(
                    "its worker ({}) stopped without finishing, {} attempts in all",
                    row.lease_owner.as_deref().unwrap_or("unknown"),
                    row.attempts
                );
                tracing::warn!(job = %row.id, kind = %row.kind, %error, "a job failed");
                let mut failed: jobs::ActiveModel = row.into();
                failed.status = Set(JobStatus::Failed.as_str().to_owned());
                failed.last_error = Set(Some(error));
                failed.lease_owner = Set(None);
                failed.lease_expires_at = Set(None);
                failed.finished_at = Set(Some(at));
                failed.update(&*w).await?;
                w.commit().await?;
                continue;
            }
            if row.status == JobStatus::Running.as_str() {
                tracing::warn!(
                    job = %row.id,
                    kind = %row.kind,
                    previous = row.lease_owner.as_deref().unwrap_or("unknown"),
                    "taking over a job whose lease ran out"
                );
            }
            let attempt = row.attempts + 1;
            let started_at = row.started_at.unwrap_or(at);
            let mut claimed: jobs::ActiveModel = row.into();
            claimed.status = Set(JobStatus::Running.as_str().to_owned());
            claimed.attempts = Set(attempt);
            claimed.lease_owner = Set(Some(owner.to_owned()));
            claimed.lease_expires_at = Set(Some(at + lease));
            claimed.started_at = Set(Some(started_at));
            let row = claimed.update(&*w).await?;
            w.commit().await?;
            let job = to_job(row)?;
            let lease = Lease { job_id: job.id, owner: owner.to_owned(), attempt };
            return Ok(Some(Claimed { job, lease }));
        }
    }

    /// Extends a lease to now + `lease`. `false`: the lease is lost (the job
    /// was cancelled, or taken over after the lease ran out), and the worker
    /// must stop.
    pub async fn renew_job_lease(&self, held_by: &Lease, lease: Duration) -> Result<bool> {
        self.update_held(held_by, |job| job.lease_expires_at = Set(Some(now() + lease))).await
    }

    /// Records how far the job got.
    pub async fn set_job_progress(&self, held_by: &Lease, progress: serde_json::Value) -> Result<bool> {
        self.update_held(held_by, |job| job.progress = Set(Some(progress))).await
    }

    /// Marks the job done with what it did.
    pub async fn finish_job(&self, held_by: &Lease, result: Option<serde_json::Value>) -> Result<bool> {
        self.update_held(held_by, |job| {
            job.status = Set(JobStatus::Done.as_str().to_owned());
            job.result = Set(result);
            job.last_error = Set(None);
            job.lease_owner = Set(None);
            job.lease_expires_at = Set(None);
            job.finished_at = Set(Some(now()));
        })
        .await
    }

    /// Records a failed attempt: queued again at `retry_at`, or, without
    /// one, failed for good.
    pub async fn fail_job(&self, held_by: &Lease, error: &str, retry_at: Option<OffsetDateTime>) -> Result<bool> {
        let error = error.to_owned();
        self.update_held(held_by, |job| {
            job.last_error = Set(Some(error));
            job.lease_owner = Set(None);
            job.lease_expires_at = Set(None);
            match retry_at {
                Some(at) => {
                    job.status = Set(JobStatus::Queued.as_str().to_owned());
                    job.run_at = Set(at);
                }
                None => {
                    job.status = Set(JobStatus::Failed.as_str().to_owned());
                    job.finished_at = Set(Some(now()));
                }
            }
        })
        .await
    }

    /// Gives a job back unfinished, when its node shuts down: queued again at
    /// once for another node, and the attempt it was on does not count.
    pub async fn release_job(&self, held_by: &Lease) -> Result<bool> {
        let attempt = held_by.attempt;
        self.update_held(held_by, |job| {
            job.status = Set(JobStatus::Queued.as_str().to_owned());
            job.attempts = Set(attempt - 1);
            job.lease_owner = Set(None);
            job.lease_expires_at = Set(None);
            job.run_at = Set(now());
        })
        .await
    }

    async fn update_held(&self, held_by: &Lease, change: impl FnOnce(&mut jobs::ActiveModel)) -> Result<bool> {
        let mut values = jobs::ActiveModel { ..Default::default() };
        change(&mut values);
        let w = self.begin_write().await?;
        let updated = jobs::Entity::update_many().set(values).filter(held(held_by)).exec(&*w).await?;
        w.commit().await?;
        Ok(updated.rows_affected == 1)
    }

    /// One job, for someone who may see it.
    pub async fn job(&self, by: Option<&Actor>, id: JobId) -> Result<Job> {
        let row = jobs::Entity::find_by_id(id.0).by_key(self.conn()).await?.ok_or(StorageError::NotFound("job"))?;
        if !may_manage(by, &row) {
            return Err(StorageError::NotFound("job"));
        }
        to_job(row)
    }

    /// Jobs newest first: every job for an admin (or the CLI), otherwise the
    /// ones this person started.
    pub async fn list_jobs(&self, by: Option<&Actor>, filter: &JobFilter) -> Result<Vec<Job>> {
        let rows = jobs_page(by, filter).all(self.conn()).await?;
        rows.into_iter().map(to_job).collect()
    }

    /// A page of [`Store::list_jobs`] and how many jobs it has over all its
    /// pages, read from one snapshot: jobs keep arriving, and a total counted
    /// a moment before the page could be smaller than the page.
    pub async fn list_jobs_counted(&self, by: Option<&Actor>, filter: &JobFilter) -> Result<(Vec<Job>, u64)> {
        let snapshot = self.read_snapshot().await?;
        let total = jobs_matching(by, filter).count(&snapshot).await?;
        let rows = jobs_page(by, filter).all(&snapshot).await?;
        snapshot.commit().await?;
        Ok((rows.into_iter().map(to_job).collect::<Result<_>>()?, total))
    }

    /// Whether a job of `kind` is queued and not yet started.
    pub async fn has_waiting_job(&self, kind: &str) -> Result<bool> {
        let waiting = jobs::Entity::find()
            .select_only()
            .column(jobs::Column::Id)
            .filter(jobs::Column::Kind.eq(kind))
            .filter(jobs::Column::Status.eq(JobStatus::Queued.as_str()))
            .into_tuple::<Uuid>()
            .one(self.conn())
            .await?;
        Ok(waiting.is_some())
    }

    /// How many jobs are queued (due or not), running, and failed.
    pub async fn job_counts(&self) -> Result<JobCounts> {
        let rows: Vec<(String, i64)> = jobs::Entity::find()
            .select_only()
            .column(jobs::Column::Status)
            .column_as(Expr::col(jobs::Column::Id).count(), "count")
            .filter(jobs::Column::Status.is_in([
                JobStatus::Queued.as_str(),
                JobStatus::Running.as_str(),
                JobStatus::Failed.as_str(),
            ]))
            .group_by(jobs::Column::Status)
            .into_tuple()
            .all(self.conn())
            .await?;
        let mut counts = JobCounts::default();
        for (status, count) in rows {
            let count = u64::try_from(count).unwrap_or(0);
            match JobStatus::parse(&status) {
                Ok(JobStatus::Queued) => counts.queued = count,
                Ok(JobStatus::Running) => counts.running = count,
                Ok(JobStatus::Failed) => counts.failed = count,
                _ => {}
            }
        }
        Ok(counts)
    }

    /// Cancels a queued, running or failed job. A running one stops when its
    /// worker next renews its lease (within a third of the lease).
    pub async fn cancel_job(&self, by: Option<&Actor>, id: JobId) -> Result<Job> {
        self.change_job(by, id, "cancelled", JobStatus::can_cancel, |job| {
            job.status = Set(JobStatus::Cancelled.as_str().to_owned());
            job.lease_owner = Set(None);
            job.lease_expires_at = Set(None);
            job.finished_at = Set(Some(now()));
        })
        .await
    }

    /// Runs a failed or cancelled job again from the start, with all its attempts.
    pub async fn retry_job(&self, by: Option<&Actor>, id: JobId) -> Result<Job> {
        self.change_job(by, id, "retried", JobStatus::can_retry, |job| {
            job.status = Set(JobStatus::Queued.as_str().to_owned());
            job.attempts = Set(0);
            job.run_at = Set(now());
            job.progress = Set(None);
            job.result = Set(None);
            job.started_at = Set(None);
            job.finished_at = Set(None);
        })
        .await
    }

    async fn change_job(
        &self,
        by: Option<&Actor>,
        id: JobId,
        verb: &str,
        allowed: fn(JobStatus) -> bool,
        change: impl FnOnce(&mut jobs::ActiveModel),
    ) -> Result<Job> {
        let w = self.begin_write().await?;
        let row =
            jobs::Entity::find_by_id(id.0).lock_with_behavior(LockType::Update, LockBehavior::Nowait).by_key(&*w).await;
        // NOWAIT: a worker holds the row for a moment only; say so rather than wait.
        let row = match row {
            Err(err) if self.backend() == sea_orm::DbBackend::Postgres && err.to_string().contains("lock") => {
                return Err(StorageError::Conflict("the job is being updated right now: try again".into()));
            }
            other => other?.ok_or(StorageError::NotFound("job"))?,
        };
        let refused = match parse_with(&row.status, "job status", JobStatus::parse) {
            _ if !may_manage(by, &row) => Some(StorageError::NotFound("job")),
            Ok(status) if !allowed(status) => Some(StorageError::Conflict(format!("a {status} job cannot be {verb}"))),
            Ok(_) => None,
            Err(err) => Some(err),
        };
        if let Some(err) = refused {
            // Ended here, not dropped: a dropped transaction keeps the row
            // locked until its connection is used again (workers skip the
            // job, the next change finds it "being updated").
            w.rollback().await?;
            return Err(err);
        }
        let mut job: jobs::ActiveModel = row.into();
        change(&mut job);
        let row = job.update(&*w).await?;
        w.commit().await?;
        tracing::info!(job = %id, status = %row.status, "a job was {verb}");
        to_job(row)
    }

    /// Removes jobs that finished (done or cancelled) before `before`;
    /// failed jobs stay until someone retries or cancels them.
    pub async fn prune_jobs(&self, before: OffsetDateTime) -> Result<u64> {
        let w = self.begin_write().await?;
        let pruned = jobs::Entity::delete_many()
            .filter(jobs::Column::Status.is_in([JobStatus::Done.as_str(), JobStatus::Cancelled.as_str()]))
            .filter(jobs::Column::FinishedAt.lt(before))
            .exec(&*w)
            .await?;
        w.commit().await?;
        Ok(pruned.rows_affected)
    }
}

/// Adds a job inside a transaction of the caller's, so the job and what it
/// works on are written together.
pub(crate) async fn enqueue_in<C: ConnectionTrait>(db: &C, job: NewJob) -> Result<Option<Job>> {
    let id = JobId::new();
    if let Some(upload) = job.upload {
        crate::uploads::attach(db, upload, id).await?;
    }
    let row = jobs::ActiveModel {
        id: Set(id.0),
        kind: Set(job.kind),
        status: Set(JobStatus::Queued.as_str().to_owned()),
        payload: Set(job.payload),
        run_at: Set(rapport_domain::records::normalize_timestamp(job.run_at)),
        attempts: Set(0),
        max_attempts: Set(Ord::max(job.max_attempts, 1)),
        last_error: Set(None),
        lease_owner: Set(None),
        lease_expires_at: Set(None),
        progress: Set(None),
        result: Set(None),
        unique_key: Set(job.unique_key),
        created_by: Set(job.created_by.map(|u| u.0)),
        created_at: Set(now()),
        started_at: Set(None),
        finished_at: Set(None),
    };
    // Two nodes may schedule the same key at once: the unique index lets one
    // in, and the other's insert does nothing (no error that would abort a
    // PostgreSQL transaction). It returns no row then: `exec_with_returning`
    // would take that for an error (RecordNotFound), the `_many` form gives
    // an empty list.
    let inserted =
        jobs::Entity::insert(row).on_conflict_do_nothing_on([jobs::Column::UniqueKey]).exec_with_returning_many(db);
    match inserted.await? {
        TryInsertResult::Inserted(rows) => rows.into_iter().next().map(to_job).transpose(),
        TryInsertResult::Conflicted | TryInsertResult::Empty => Ok(None),
    }
}
