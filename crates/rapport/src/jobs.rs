//! `rapport jobs`: the background jobs (imports, the insights refresh, the
//! hourly purges) as the database holds them: list them, retry a failed one,
//! cancel one. The command line acts as the operator, who may manage every job.

use anyhow::{Context, Result, bail};
use clap::{Subcommand, ValueEnum};
use rapport_domain::JobId;
use rapport_domain::jobs::{Job, JobStatus};
use rapport_storage::{JobFilter, StorageError, Store};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

#[derive(Subcommand)]
pub enum JobsCommand {
    /// Jobs, newest first.
    List {
        /// Only jobs in this state.
        #[arg(long, value_enum)]
        status: Option<Status>,
        /// Only jobs of this kind (import, insights.refresh, trash.purge, jobs.prune).
        #[arg(long)]
        kind: Option<String>,
        /// How many jobs.
        #[arg(long, default_value_t = 50)]
        limit: u64,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Run a failed or cancelled job again from the start, with all its attempts.
    Retry {
        /// The job's id (the first column of `rapport jobs list`).
        id: String,
    },
    /// Cancel a queued, running or failed job (a running one stops within a third of its lease).
    Cancel {
        /// The job's id (the first column of `rapport jobs list`).
        id: String,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Status {
    Queued,
    Running,
    Done,
    Failed,
    Cancelled,
}

impl From<Status> for JobStatus {
    fn from(status: Status) -> Self {
        match status {
            Status::Queued => JobStatus::Queued,
            Status::Running => JobStatus::Running,
            Status::Done => JobStatus::Done,
            Status::Failed => JobStatus::Failed,
            Status::Cancelled => JobStatus::Cancelled,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Json,
}

/// Runs a `jobs` command; returns what to print on stdout.
pub async fn run(store: &Store, command: JobsCommand) -> Result<String> {
    match command {
        JobsCommand::List { status, kind, limit, format } => {
            if !(1..=10_000).contains(&limit) {
                bail!("--limit must be between 1 and 10000");
            }
            let filter = JobFilter { status: status.map(JobStatus::from), kind, limit, ..JobFilter::default() };
            let jobs = store.list_jobs(None, &filter).await?;
            match format {
                Format::Json => {
                    let mut text = serde_json::to_string_pretty(&jobs).context("cannot write the jobs as JSON")?;
                    text.push('\n');
                    Ok(text)
                }
                Format::Table if jobs.is_empty() => Ok("No jobs.\n".to_owned()),
                Format::Table => Ok(table(&jobs)),
            }
        }
        JobsCommand::Retry { id } => {
            let job = store.retry_job(None, job_id(&id)?).await.map_err(|err| refusal(err, &id))?;
            Ok(format!("Job {} ({}) is queued again.\n", job.id, job.kind))
        }
        JobsCommand::Cancel { id } => {
            let job = store.cancel_job(None, job_id(&id)?).await.map_err(|err| refusal(err, &id))?;
            Ok(format!("Job {} ({}) is cancelled.\n", job.id, job.kind))
        }
    }
}

fn job_id(raw: &str) -> Result<JobId> {
    raw.trim().parse().with_context(|| format!("{raw:?} is not a job id"))
}

/// A storage refusal in the operator's words: an unknown id, or the job's
/// state (the storage's own message: "a done job cannot be retried").
fn refusal(err: StorageError, id: &str) -> anyhow::Error {
    match err {
        StorageError::NotFound(_) => anyhow::anyhow!("no job {}", id.trim()),
        err => err.into(),
    }
}

const HEADERS: [&str; 7] = ["id", "kind", "status", "attempts", "created", "finished", "last error"];

/// The longest last error a table shows, in characters.
const ERROR_WIDTH: usize = 60;

fn table(jobs: &[Job]) -> String {
    let rows: Vec<[String; 7]> = jobs
        .iter()
        .map(|job| {
            [
                job.id.to_string(),
                job.kind.clone(),
                job.status.to_string(),
                format!("{}/{}", job.attempts, job.max_attempts),
                time(job.created_at),
                job.finished_at.map(time).unwrap_or_else(|| "-".to_owned()),
                job.last_error.as_deref().map(shorten).unwrap_or_else(|| "-".to_owned()),
            ]
        })
        .collect();
    let mut widths = HEADERS.map(|h| h.chars().count());
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut text = String::new();
    let mut line = |cells: &[String]| {
        let mut out = String::new();
        for (i, (cell, width)) in cells.iter().zip(widths).enumerate() {
            if i > 0 {
                out.push_str("  ");
            }
            out.push_str(cell);
            out.extend(std::iter::repeat_n(' ', width.saturating_sub(cell.chars().count())));
        }
        text.push_str(out.trim_end());
        text.push('\n');
    };
    line(&HEADERS.map(str::to_owned));
    line(&widths.map(|w| "-".repeat(w)));
    for row in &rows {
        line(row);
    }
    text
}

fn time(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap_or_else(|_| at.to_string())
}

/// An error on one line, cut to [`ERROR_WIDTH`] characters.
fn shorten(error: &str) -> String {
    let flat = error.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= ERROR_WIDTH {
        return flat;
    }
    let mut cut: String = flat.chars().take(ERROR_WIDTH - 1).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_errors_are_cut_to_one_line() {
        assert_eq!(shorten("short"), "short");
        assert_eq!(shorten("two\n  lines"), "two lines");
        let long = "x".repeat(100);
        let cut = shorten(&long);
        assert_eq!(cut.chars().count(), ERROR_WIDTH);
        assert!(cut.ends_with('…'));
    }
}
