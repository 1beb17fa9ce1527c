//! Import jobs: a file uploaded through the API or the import page is kept
//! in the database (`rapport_storage::uploads`) and imported by whichever
//! node claims the job, with its progress and report stored on the job.
//! A job cut off by a crash runs again from the start on the next attempt:
//! every import kind is an upsert, so rows already written are found and
//! counted unchanged, and an all-or-nothing import had written nothing.

use std::io::Write;
use std::time::Duration;

use rapport_domain::jobs::Job;
use rapport_domain::{Actor, UploadId};
use rapport_import::{ImportError, Options, Progress, Report};
use rapport_storage::{NewJob, StorageError, Store, Upload};
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use crate::runner::{Handler, JobContext, JobError, from_fn};

pub const KIND: &str = "import";

/// How often a running import writes its progress to the database.
const PROGRESS_EVERY: Duration = Duration::from_millis(500);

/// What an import job reads: the upload and how to import it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ImportPayload {
    pub upload_id: UploadId,
    pub file_name: String,
    pub size: u64,
    pub options: Options,
}

/// How far a job has read its file.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct JobProgress {
    pub rows_read: u64,
    pub bytes_read: u64,
    pub total_bytes: Option<u64>,
    /// Bytes read of the whole file, 0 to 100.
    pub percent: Option<u8>,
}

impl From<&Progress> for JobProgress {
    fn from(progress: &Progress) -> Self {
        let percent = progress
            .total_bytes
            .filter(|total| *total > 0)
            .map(|total| (progress.bytes_read.min(total) * 100 / total) as u8);
        JobProgress {
            rows_read: progress.rows_read,
            bytes_read: progress.bytes_read,
            total_bytes: progress.total_bytes,
            percent,
        }
    }
}

/// What an import did.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct JobReport {
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    /// Every problem of the rows not imported (a row may have several), in file order.
    pub rejected: Vec<JobRejectedRow>,
    /// How many rows were rejected.
    pub rejected_rows: u64,
    /// Whether anything was committed (never, in a dry run).
    pub written: bool,
    /// Customers created because rows named them and `create_people` was on.
    pub people_created: u64,
    /// Data rows read.
    pub rows_read: u64,
    /// Columns that filled no field, and were left out.
    pub unmapped: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct JobRejectedRow {
    /// The row's line in the file.
    pub line: u64,
    /// The column at fault, when one is.
    pub column: Option<String>,
    pub reason: String,
}

impl From<Report> for JobReport {
    fn from(report: Report) -> Self {
        let rejected_rows = report.rejected_rows() as u64;
        JobReport {
            rejected_rows,
            rows_read: report.rows_read,
            people_created: report.people_created,
            unmapped: report.unmapped,
            created: report.created,
            updated: report.updated,
            unchanged: report.unchanged,
            rejected: report
                .rejected
                .into_iter()
                .map(|row| JobRejectedRow { line: row.line, column: row.column, reason: row.reason })
                .collect(),
            written: report.written,
        }
    }
}

/// Queues an import of `upload` as `actor`. The upload is tied to the job
/// in the same transaction, so no second job can take it.
pub async fn enqueue(store: &Store, actor: &Actor, upload: &Upload, options: Options) -> Result<Job, StorageError> {
    let payload =
        ImportPayload { upload_id: upload.id, file_name: upload.file_name.clone(), size: upload.size, options };
    let mut job = NewJob::new(
        KIND,
        serde_json::to_value(&payload).map_err(|e| StorageError::Corrupt(format!("import payload: {e}")))?,
    );
    // A file that fails to import fails the same way again; a retry is for a
    // node that died or a database that did not answer.
    job.max_attempts = 3;
    job.created_by = Some(actor.user_id);
    job.upload = Some(upload.id);
    store.enqueue_job(job).await?.ok_or_else(|| StorageError::Conflict("the import was queued twice".into()))
}

/// The payload of an import job.
pub fn payload(job: &Job) -> Result<ImportPayload, serde_json::Error> {
    serde_json::from_value(job.payload.clone())
}

/// Runs import jobs.
pub fn handler() -> Handler {
    from_fn(run)
}

async fn run(ctx: JobContext) -> Result<Option<serde_json::Value>, JobError> {
    let payload = payload(&ctx.job).map_err(|e| JobError::Fatal(format!("the job's payload is not an import: {e}")))?;
    let actor = starter(&ctx).await?;
    let file = copy_upload(&ctx.store, payload.upload_id).await?;
    let source = file.reopen().map_err(|e| JobError::Retry(format!("the uploaded file could not be read: {e}")))?;

    // The import reports progress from its reader thread; a task writes the
    // latest to the job every half second.
    let (progress_tx, mut progress_rx) =
        watch::channel(JobProgress { total_bytes: Some(payload.size), percent: Some(0), ..JobProgress::default() });
    let writer_ctx = ctx.clone();
    let writer = tokio::spawn(async move {
        while progress_rx.changed().await.is_ok() {
            let latest = progress_rx.borrow_and_update().clone();
            match serde_json::to_value(&latest) {
                Ok(value) => {
                    if let Err(err) = writer_ctx.progress(value).await {
                        tracing::warn!(job = %writer_ctx.job.id, error = %err, "recording an import's progress failed");
                    }
                }
                Err(err) => tracing::error!(error = %err, "an import's progress does not serialize"),
            }
            tokio::time::sleep(PROGRESS_EVERY).await;
        }
    });
    let on_progress = move |progress: &Progress| {
        // The receiver lives until the import ends.
        let _ = progress_tx.send(JobProgress::from(progress));
    };
    let outcome =
        rapport_import::run(&ctx.store, &actor, source, Some(payload.size), payload.options, on_progress).await;
    // The import dropped its callback, and with it the sender: the writer ends.
    if let Err(err) = writer.await {
        tracing::error!(error = %err, "an import's progress writer stopped");
    }
    let report = outcome.map_err(|err| match err {
        ImportError::Storage(err) => JobError::Storage(err),
        err => JobError::Fatal(err.to_string()),
    })?;
    let total = payload.size;
    let done =
        JobProgress { rows_read: report.rows_read, bytes_read: total, total_bytes: Some(total), percent: Some(100) };
    ctx.progress(serde_json::to_value(&done).map_err(|e| JobError::Fatal(e.to_string()))?).await?;
    ctx.store.delete_upload(payload.upload_id).await?;
    let report = JobReport::from(report);
    Ok(Some(serde_json::to_value(&report).map_err(|e| JobError::Fatal(e.to_string()))?))
}

/// The staff member who started the import, as they are now: a deactivated
/// one's import does not run.
async fn starter(ctx: &JobContext) -> Result<Actor, JobError> {
    let user_id = ctx.job.created_by.ok_or_else(|| JobError::Fatal("the import names no user".into()))?;
    let user = match ctx.store.get_user(user_id).await {
        Ok(user) => user,
        Err(StorageError::NotFound(_)) => {
            return Err(JobError::Fatal("the user who started it no longer exists".into()));
        }
        Err(err) => return Err(err.into()),
    };
    if !user.fields.active {
        return Err(JobError::Fatal(format!("{} was deactivated", user.fields.email)));
    }
    Ok(Actor { user_id: user.id, role: user.fields.role, team_id: user.fields.team_id })
}

/// The upload, copied chunk by chunk from the database into a local
/// temporary file for the import's reader thread.
async fn copy_upload(store: &Store, id: UploadId) -> Result<tempfile::NamedTempFile, JobError> {
    let io = |e: std::io::Error| JobError::Retry(format!("the upload could not be copied to a temporary file: {e}"));
    let mut file = tempfile::NamedTempFile::new().map_err(io)?;
    let mut seq = 0;
    let mut any = false;
    while let Some(chunk) = store.upload_chunk(id, seq).await? {
        file.write_all(&chunk).map_err(io)?;
        seq += 1;
        any = true;
    }
    if !any {
        // An empty file has no chunks; a removed one has no row either.
        match store.upload(None, id).await {
            Ok(_) => {}
            Err(StorageError::NotFound(_)) => return Err(JobError::Fatal("the uploaded file is gone".into())),
            Err(err) => return Err(err.into()),
        }
    }
    file.flush().map_err(io)?;
    Ok(file)
}
