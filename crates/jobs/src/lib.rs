//! Rapport's background work. Jobs are rows (`rapport_storage::jobs`); this
//! crate runs them: each node starts a [`Runner`] whose workers claim due
//! jobs under a lease, renew it while the job runs, and record the outcome:
//! done, queued again after a backoff, or failed for good. A job whose node
//! died is taken over by another once its lease ran out. Recurring jobs are
//! scheduled by every node for the same period under one unique key, so
//! each runs once per period whatever the number of nodes.
//!
//! Each kind's handler lives in its own module ([`imports`], [`mail`], [`maintenance`], [`sla`], [`surveys`],
//! and the insights refresh in `rapport-reports`); [`standard`] registers them all.

pub mod imports;
pub mod mail;
pub mod maintenance;
pub mod review;
mod runner;
pub mod sla;
pub mod surveys;

pub use runner::{
    Handler, JobContext, JobError, LiveProgress, Runner, RunnerSettings, RunningJobs, from_fn, node_name,
};

use std::sync::Arc;

use rapport_reports::Insights;
use rapport_storage::Store;

/// What the standard job kinds need.
pub struct Standard {
    pub insights: Arc<Insights>,
    /// How long deleted records stay in the trash.
    pub trash_retention: time::Duration,
    /// How long a solved ticket waits for the customer before it is closed.
    pub close_solved_after: time::Duration,
}

/// Every kind of job Rapport runs: the kinds [`standard`] handles.
pub const KINDS: [&str; 13] = [
    imports::KIND,
    rapport_reports::REFRESH_JOB,
    maintenance::TRASH_PURGE,
    maintenance::PRUNE,
    maintenance::CLOSE_SOLVED,
    mail::SEND,
    mail::FETCH,
    sla::WATCH,
    surveys::SEND,
    surveys::TRIGGERS,
    surveys::REMIND,
    surveys::SCHEDULE,
    review::KIND,
];

/// A runner with every kind Rapport has, and the recurring ones scheduled.
pub fn standard(store: Store, settings: RunnerSettings, with: Standard) -> Runner {
    let insights = with.insights;
    let retention = with.trash_retention;
    let churn_days = insights.settings().churn_days;
    let runner = Runner::new(store, settings)
        .handle(imports::KIND, imports::handler())
        .handle(
            rapport_reports::REFRESH_JOB,
            runner::from_fn(move |_ctx| {
                let insights = Arc::clone(&insights);
                async move {
                    let computed = insights.refresh_if_changed().await.map_err(|e| JobError::Retry(e.to_string()))?;
                    Ok(Some(serde_json::json!({ "computed": computed })))
                }
            }),
        )
        .handle(maintenance::TRASH_PURGE, maintenance::purge_trash(retention))
        .handle(maintenance::PRUNE, maintenance::prune())
        .handle(maintenance::CLOSE_SOLVED, maintenance::close_solved(with.close_solved_after))
        .every(maintenance::CLOSE_SOLVED, time::Duration::hours(1))
        .handle(mail::SEND, mail::send())
        .handle(mail::FETCH, mail::fetch())
        .every(mail::FETCH, time::Duration::minutes(1))
        .handle(sla::WATCH, sla::watch())
        .every(sla::WATCH, time::Duration::minutes(1))
        .handle(surveys::SEND, surveys::send())
        .handle(surveys::TRIGGERS, surveys::triggers())
        .every(surveys::TRIGGERS, time::Duration::minutes(5))
        .handle(surveys::REMIND, surveys::remind())
        .every(surveys::REMIND, time::Duration::hours(1))
        .handle(surveys::SCHEDULE, surveys::schedule())
        .every(surveys::SCHEDULE, time::Duration::hours(6))
        .every(maintenance::TRASH_PURGE, time::Duration::hours(1))
        .every(maintenance::PRUNE, time::Duration::hours(1))
        .handle(review::KIND, review::send_reviews(churn_days))
        .every(review::KIND, time::Duration::hours(6));
    debug_assert!(
        runner.kinds().len() == KINDS.len() && KINDS.iter().all(|kind| runner.kinds().contains(kind)),
        "KINDS lists exactly the kinds the runner handles"
    );
    runner
}
