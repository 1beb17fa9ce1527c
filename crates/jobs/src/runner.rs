//! The worker loop: claim, run under a renewed lease, record the outcome.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use rapport_domain::JobId;
use rapport_domain::jobs::{Job, backoff};
use rapport_domain::records::now;
use rapport_storage::{Claimed, Lease, NewJob, StorageError, Store};
use serde_json::Value;
use time::OffsetDateTime;
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

/// Why a job's attempt did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// Worth another attempt later (a database hiccup, a server not answering).
    #[error("{0}")]
    Retry(String),
    /// Will fail the same way every time (an unreadable file, a user who is gone).
    #[error("{0}")]
    Fatal(String),
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// The job was cancelled, or another node took it over: stop, record nothing.
    #[error("the job's lease was lost")]
    LeaseLost,
}

type HandlerFuture = Pin<Box<dyn Future<Output = Result<Option<Value>, JobError>> + Send>>;

/// What runs one kind of job: given the job, its result (stored on the job) or why it failed.
pub type Handler = Arc<dyn Fn(JobContext) -> HandlerFuture + Send + Sync>;

/// A handler from an async closure.
pub fn from_fn<F, Fut>(run: F) -> Handler
where
    F: Fn(JobContext) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Option<Value>, JobError>> + Send + 'static,
{
    Arc::new(move |ctx| Box::pin(run(ctx)))
}

/// The progress of the jobs running on this node, as they report it: what
/// the node's own pages show even while the database cannot take the write
/// (SQLite, during an all-or-nothing import holding the one write lock).
#[derive(Clone, Default)]
pub struct LiveProgress(Arc<Mutex<HashMap<JobId, Value>>>);

impl LiveProgress {
    fn lock(&self) -> MutexGuard<'_, HashMap<JobId, Value>> {
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The latest progress of a job running on this node.
    pub fn get(&self, id: JobId) -> Option<Value> {
        self.lock().get(&id).cloned()
    }
}

/// What a handler is given: the job, the store, and its lease.
#[derive(Clone)]
pub struct JobContext {
    pub store: Store,
    pub job: Job,
    lease: Lease,
    live: LiveProgress,
}

impl JobContext {
    /// Records how far the job got (on the job row, and at once for this node's pages).
    pub async fn progress(&self, progress: Value) -> Result<(), JobError> {
        self.live.lock().insert(self.job.id, progress.clone());
        if self.store.set_job_progress(&self.lease, progress).await? { Ok(()) } else { Err(JobError::LeaseLost) }
    }
}

/// How a node runs jobs.
#[derive(Clone, Debug)]
pub struct RunnerSettings {
    /// This node's name in leases: unique per process, so a restarted node
    /// takes over what it left behind once the lease runs out.
    pub node: String,
    /// Jobs run at once on this node.
    pub workers: usize,
    /// How long a claim holds without renewal; renewed every third of it.
    pub lease: Duration,
    /// How often an idle worker looks for due jobs.
    pub poll: Duration,
}

impl Default for RunnerSettings {
    fn default() -> Self {
        RunnerSettings { node: node_name(), workers: 2, lease: Duration::from_secs(30), poll: Duration::from_secs(1) }
    }
}

/// `host:pid:random`, unique per process.
pub fn node_name() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "node".to_owned());
    format!("{host}:{}:{:04x}", std::process::id(), rand::random::<u16>())
}

/// A recurring job: one per period, across every node.
#[derive(Clone, Debug)]
struct Schedule {
    kind: &'static str,
    every: time::Duration,
}

/// A node's job runner, before it starts.
pub struct Runner {
    store: Store,
    settings: RunnerSettings,
    handlers: HashMap<&'static str, Handler>,
    schedules: Vec<Schedule>,
    wake: Arc<Notify>,
    live: LiveProgress,
}

impl Runner {
    pub fn new(store: Store, settings: RunnerSettings) -> Self {
        Runner {
            store,
            settings,
            handlers: HashMap::new(),
            schedules: Vec::new(),
            wake: Arc::new(Notify::new()),
            live: LiveProgress::default(),
        }
    }

    /// Runs jobs of `kind` with `handler`.
    /// The kinds this runner handles.
    pub fn kinds(&self) -> Vec<&'static str> {
        self.handlers.keys().copied().collect()
    }

    pub fn handle(mut self, kind: &'static str, handler: Handler) -> Self {
        self.handlers.insert(kind, handler);
        self
    }

    /// Schedules a job of `kind` once every `every` (from the Unix epoch:
    /// hourly jobs run on the hour).
    pub fn every(mut self, kind: &'static str, every: time::Duration) -> Self {
        self.schedules.push(Schedule { kind, every });
        self
    }

    /// Wakes an idle worker at once: call after adding a job on this node.
    pub fn waker(&self) -> Arc<Notify> {
        Arc::clone(&self.wake)
    }

    /// The progress of jobs running on this node.
    pub fn live_progress(&self) -> LiveProgress {
        self.live.clone()
    }

    /// Starts the workers and the schedule.
    pub fn start(self) -> RunningJobs {
        let (stop, stopped) = watch::channel(false);
        let shared = Arc::new(Shared {
            kinds: self.handlers.keys().copied().collect(),
            store: self.store,
            settings: self.settings,
            handlers: self.handlers,
            wake: self.wake,
            live: self.live,
        });
        tracing::info!(node = %shared.settings.node, workers = shared.settings.workers, "job runner started");
        let mut tasks: Vec<JoinHandle<()>> = (0..shared.settings.workers.max(1))
            .map(|_| tokio::spawn(work(Arc::clone(&shared), stopped.clone())))
            .collect();
        if !self.schedules.is_empty() {
            tasks.push(tokio::spawn(schedule(Arc::clone(&shared), self.schedules, stopped)));
        }
        RunningJobs { stop, tasks }
    }
}

struct Shared {
    store: Store,
    settings: RunnerSettings,
    handlers: HashMap<&'static str, Handler>,
    kinds: Vec<&'static str>,
    wake: Arc<Notify>,
    live: LiveProgress,
}

/// A started runner. [`RunningJobs::shutdown`] gives running jobs back;
/// dropping it stops everything at once (their leases then run out).
pub struct RunningJobs {
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl RunningJobs {
    /// Stops claiming, stops the running jobs and gives them back to the
    /// queue for another node (or this one's next start), then returns.
    pub async fn shutdown(mut self) {
        // Receivers live as long as the tasks; sending can only fail once they are gone.
        let _ = self.stop.send(true);
        for task in std::mem::take(&mut self.tasks) {
            if let Err(err) = task.await
                && err.is_panic()
            {
                tracing::error!(error = %err, "a job worker panicked");
            }
        }
    }
}

impl Drop for RunningJobs {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

async fn work(shared: Arc<Shared>, mut stopped: watch::Receiver<bool>) {
    loop {
        if *stopped.borrow() {
            return;
        }
        let lease = time::Duration::try_from(shared.settings.lease).unwrap_or(time::Duration::seconds(30));
        match shared.store.claim_job(&shared.settings.node, &shared.kinds, lease).await {
            Ok(Some(claimed)) => run(&shared, claimed, &mut stopped).await,
            Ok(None) => {
                tokio::select! {
                    () = tokio::time::sleep(shared.settings.poll) => {}
                    () = shared.wake.notified() => {}
                    _ = stopped.changed() => {}
                }
            }
            Err(err) => {
                tracing::error!(error = %err, "claiming a job failed");
                tokio::select! {
                    () = tokio::time::sleep(shared.settings.poll) => {}
                    _ = stopped.changed() => {}
                }
            }
        }
    }
}

/// Runs one claimed job to its end, renewing its lease meanwhile.
async fn run(shared: &Shared, claimed: Claimed, stopped: &mut watch::Receiver<bool>) {
    let Claimed { job, lease } = claimed;
    let Some(handler) = shared.handlers.get(job.kind.as_str()).cloned() else {
        // `claim_job` only returns the kinds this runner has.
        tracing::error!(job = %job.id, kind = %job.kind, "claimed a job of a kind without a handler");
        return;
    };
    let (id, kind, attempt, max_attempts) = (job.id, job.kind.clone(), lease.attempt, job.max_attempts);
    tracing::info!(job = %id, %kind, attempt, "job started");
    let started = std::time::Instant::now();
    let ctx = JobContext { store: shared.store.clone(), job, lease: lease.clone(), live: shared.live.clone() };
    // Its own task, so that a panic fails the attempt instead of the worker.
    let mut task = tokio::spawn(handler(ctx));
    let lease_length = time::Duration::try_from(shared.settings.lease).unwrap_or(time::Duration::seconds(30));
    let mut renew = tokio::time::interval(shared.settings.lease / 3);
    renew.tick().await;
    let outcome = loop {
        tokio::select! {
            outcome = &mut task => break outcome,
            _ = renew.tick() => match shared.store.renew_job_lease(&lease, lease_length).await {
                Ok(true) => {}
                Ok(false) => {
                    tracing::warn!(job = %id, %kind, "the job was cancelled or taken over: stopping it");
                    task.abort();
                    shared.live.lock().remove(&id);
                    return;
                }
                // The lease still holds for a while: try again at the next tick.
                Err(err) => tracing::error!(job = %id, error = %err, "renewing a job's lease failed"),
            },
            _ = stopped.changed() => {
                task.abort();
                // An aborted task ends at its next await; its result no longer matters.
                let _ = (&mut task).await;
                shared.live.lock().remove(&id);
                match shared.store.release_job(&lease).await {
                    Ok(_) => tracing::info!(job = %id, %kind, "job given back at shutdown"),
                    Err(err) => tracing::error!(job = %id, error = %err, "giving a job back failed; its lease will run out"),
                }
                return;
            }
        }
    };
    shared.live.lock().remove(&id);
    let took_ms = started.elapsed().as_millis() as u64;
    let outcome = match outcome {
        Ok(outcome) => outcome,
        Err(err) => Err(JobError::Retry(format!("the job stopped unexpectedly: {err}"))),
    };
    let recorded = match outcome {
        Ok(result) => {
            tracing::info!(job = %id, %kind, took_ms, "job done");
            shared.store.finish_job(&lease, result).await
        }
        Err(JobError::LeaseLost) => {
            tracing::warn!(job = %id, %kind, "the job was cancelled or taken over");
            return;
        }
        Err(JobError::Fatal(error)) => {
            tracing::error!(job = %id, %kind, %error, "job failed");
            shared.store.fail_job(&lease, &error, None).await
        }
        Err(err) => {
            let error = err.to_string();
            let retry_at = (attempt < max_attempts).then(|| now() + backoff(attempt));
            match retry_at {
                Some(at) => tracing::warn!(job = %id, %kind, %error, attempt, retry_at = %at, "job attempt failed"),
                None => tracing::error!(job = %id, %kind, %error, attempt, "job failed after its last attempt"),
            }
            shared.store.fail_job(&lease, &error, retry_at).await
        }
    };
    match recorded {
        Ok(true) => {}
        Ok(false) => tracing::warn!(job = %id, %kind, "the job ended after it was cancelled or taken over"),
        Err(err) => {
            tracing::error!(job = %id, error = %err, "recording a job's outcome failed; its lease will run out")
        }
    }
}

/// The start of the period of length `every` that `at` falls in.
fn period_start(at: OffsetDateTime, every: time::Duration) -> OffsetDateTime {
    let every = every.whole_seconds().max(1);
    let start = at.unix_timestamp().div_euclid(every) * every;
    OffsetDateTime::from_unix_timestamp(start).unwrap_or(at)
}

/// Adds each recurring job for its current period, on every node: the
/// period's unique key lets one row in.
async fn schedule(shared: Arc<Shared>, schedules: Vec<Schedule>, mut stopped: watch::Receiver<bool>) {
    let mut scheduled: HashMap<&'static str, OffsetDateTime> = HashMap::new();
    loop {
        for item in &schedules {
            let period = period_start(now(), item.every);
            if scheduled.get(item.kind) == Some(&period) {
                continue;
            }
            let mut job = NewJob::new(item.kind, serde_json::json!({}));
            job.run_at = period;
            job.max_attempts = 3;
            job.unique_key = Some(format!("{}@{}", item.kind, period.unix_timestamp()));
            match shared.store.enqueue_job(job).await {
                Ok(added) => {
                    if added.is_some() {
                        shared.wake.notify_one();
                    }
                    scheduled.insert(item.kind, period);
                }
                Err(err) => tracing::error!(kind = item.kind, error = %err, "scheduling a recurring job failed"),
            }
        }
        tokio::select! {
            () = tokio::time::sleep(Duration::from_secs(5)) => {}
            _ = stopped.changed() => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_start_on_the_hour() {
        let at = time::macros::datetime!(2026-12-03 05:47:12 UTC);
        assert_eq!(period_start(at, time::Duration::hours(1)), time::macros::datetime!(2026-12-03 05:00:00 UTC));
        assert_eq!(period_start(at, time::Duration::minutes(15)), time::macros::datetime!(2026-12-03 05:45:00 UTC));
    }
}
