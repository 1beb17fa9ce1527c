//! Background jobs: work that outlives a request (imports, recomputing the
//! insights, purging the trash, later sending mail). A job is a row in the
//! database, so it survives a restart and runs once across several nodes.
//! This module holds what a job is and the rules of its life; claiming and
//! leases are in storage, running them in `rapport-jobs`.

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use crate::ids::{JobId, UserId};

/// Where a job is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum JobStatus {
    /// Waiting for its time (`run_at`) and a free worker.
    Queued,
    /// A worker holds its lease and runs it.
    Running,
    Done,
    /// Gave up after its last attempt; `last_error` says why. An admin may retry it.
    Failed,
    /// Stopped by a person before it was done.
    Cancelled,
}

impl JobStatus {
    pub const ALL: [JobStatus; 5] =
        [JobStatus::Queued, JobStatus::Running, JobStatus::Done, JobStatus::Failed, JobStatus::Cancelled];

    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Queued => "queued",
            JobStatus::Running => "running",
            JobStatus::Done => "done",
            JobStatus::Failed => "failed",
            JobStatus::Cancelled => "cancelled",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            JobStatus::Queued => "Queued",
            JobStatus::Running => "Running",
            JobStatus::Done => "Done",
            JobStatus::Failed => "Failed",
            JobStatus::Cancelled => "Cancelled",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|status| status.as_str() == raw)
            .ok_or_else(|| "must be one of queued, running, done, failed, cancelled".to_owned())
    }

    /// Whether nothing more will happen to the job unless someone retries it.
    pub fn is_finished(self) -> bool {
        matches!(self, JobStatus::Done | JobStatus::Failed | JobStatus::Cancelled)
    }

    /// Whether a person may cancel a job in this state.
    pub fn can_cancel(self) -> bool {
        matches!(self, JobStatus::Queued | JobStatus::Running | JobStatus::Failed)
    }

    /// Whether a person may run the job again from the start.
    pub fn can_retry(self) -> bool {
        matches!(self, JobStatus::Failed | JobStatus::Cancelled)
    }
}

impl std::fmt::Display for JobStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A job as the API, the pages and the CLI show it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Job {
    pub id: JobId,
    /// What the job does: `import`, `insights.refresh`, `trash.purge`, `jobs.prune`.
    pub kind: String,
    pub status: JobStatus,
    /// What the job works on; its shape depends on `kind`.
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
    /// When it may run (later than its creation after a failed attempt: the backoff).
    #[serde(with = "time::serde::rfc3339")]
    pub run_at: OffsetDateTime,
    /// Attempts started so far, the running one included.
    pub attempts: i32,
    /// Attempts allowed before it stays failed.
    pub max_attempts: i32,
    /// The error of the latest failed attempt.
    pub last_error: Option<String>,
    /// The node running it, while it runs.
    pub lease_owner: Option<String>,
    /// When the running node's lease ends unless renewed: past it, another node takes the job over.
    #[serde(with = "time::serde::rfc3339::option")]
    pub lease_expires_at: Option<OffsetDateTime>,
    /// How far it got, when the kind reports it.
    #[schema(value_type = Option<Object>)]
    pub progress: Option<serde_json::Value>,
    /// What it did, when done.
    #[schema(value_type = Option<Object>)]
    pub result: Option<serde_json::Value>,
    /// Who started it; none for scheduled jobs.
    pub created_by: Option<UserId>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub started_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub finished_at: Option<OffsetDateTime>,
}

/// How long to wait before attempt `attempts + 1`, after `attempts` failed:
/// 10 s, 20 s, 40 s ... doubling, at most an hour.
pub fn backoff(attempts: i32) -> Duration {
    let doublings = attempts.saturating_sub(1).clamp(0, 20) as u32;
    Duration::seconds((10i64 << doublings).min(3600))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_an_hour() {
        assert_eq!(backoff(1), Duration::seconds(10));
        assert_eq!(backoff(2), Duration::seconds(20));
        assert_eq!(backoff(3), Duration::seconds(40));
        assert_eq!(backoff(9), Duration::seconds(2560));
        assert_eq!(backoff(10), Duration::hours(1));
        assert_eq!(backoff(1000), Duration::hours(1));
        assert_eq!(backoff(0), Duration::seconds(10));
    }

    #[test]
    fn statuses_parse_back() {
        for status in JobStatus::ALL {
            assert_eq!(JobStatus::parse(status.as_str()), Ok(status));
        }
        assert!(JobStatus::parse("later").is_err());
        assert!(JobStatus::Failed.can_retry() && !JobStatus::Done.can_retry());
        assert!(JobStatus::Running.can_cancel() && !JobStatus::Done.can_cancel());
    }
}
