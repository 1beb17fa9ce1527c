//! Import jobs: a file uploaded through the API or the import page is kept in
//! a temporary file and read from there by `rapport_import::run` on a
//! background task, one import at a time per server (the others queue).
//! Jobs, and uploads waiting on the import page for their mapping, live in
//! this process's memory only: they are gone when the server restarts.

use std::collections::HashMap;
use std::io::Read;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::extract::multipart::{Field, Multipart, MultipartError};
use axum::http::StatusCode;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rapport_domain::records::now;
use rapport_domain::{Actor, UserId};
use rapport_import::{ImportError, ImportMode, Kind, Options, Progress, Report};
use rapport_storage::Store;
use serde::Serialize;
use tempfile::NamedTempFile;
use time::OffsetDateTime;
use tokio::io::AsyncWriteExt;
use tokio::sync::Semaphore;
use uuid::Uuid;

use crate::error::ApiError;

/// The largest upload accepted, unless changed with [`ImportJobs::set_upload_limit`].
pub const UPLOAD_LIMIT: u64 = 200 * 1024 * 1024;
/// The most of a file a preview reads: plenty for its first rows.
const PREVIEW_BYTES: u64 = 1024 * 1024;
/// How long an upload waits on the import page for its mapping.
const UPLOAD_KEPT: Duration = Duration::from_secs(3600);
/// The most a form field other than the file may hold (a mapping of many columns fits).
const FIELD_LIMIT: usize = 64 * 1024;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum JobStatus {
    /// Waiting for the import before it to finish.
    Queued,
    Running,
    Done,
    Failed,
}

impl JobStatus {
    pub fn name(self) -> &'static str {
        match self {
            JobStatus::Queued => "queued",
            JobStatus::Running => "running",
            JobStatus::Done => "done",
            JobStatus::Failed => "failed",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            JobStatus::Queued => "Queued",
            JobStatus::Running => "Running",
            JobStatus::Done => "Done",
            JobStatus::Failed => "Failed",
        }
    }
}

/// How far a job has read its file.
#[derive(Clone, Debug, Default, Serialize, utoipa::ToSchema)]
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
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
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

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
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

/// An import job as the API shows it.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ImportJob {
    pub id: Uuid,
    /// people, companies, deals, activities, purchases or vcard.
    pub kind: String,
    /// dry-run, all-or-nothing or skip-invalid.
    pub mode: String,
    /// The user who started it.
    pub started_by: UserId,
    /// The uploaded file's name, as the client sent it.
    pub file_name: String,
    pub status: JobStatus,
    pub progress: JobProgress,
    /// When it is done.
    pub report: Option<JobReport>,
    /// Why it failed.
    pub error: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub started_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub finished_at: Option<OffsetDateTime>,
}

impl ImportJob {
    pub fn is_finished(&self) -> bool {
        matches!(self.status, JobStatus::Done | JobStatus::Failed)
    }
}

/// The names the API and the forms use for the modes.
pub fn mode_name(mode: ImportMode) -> &'static str {
    match mode {
        ImportMode::DryRun => "dry-run",
        ImportMode::AllOrNothing => "all-or-nothing",
        ImportMode::SkipInvalid => "skip-invalid",
    }
}

pub fn parse_mode(raw: &str) -> Result<ImportMode, String> {
    match raw {
        "dry-run" => Ok(ImportMode::DryRun),
        "all-or-nothing" => Ok(ImportMode::AllOrNothing),
        "skip-invalid" => Ok(ImportMode::SkipInvalid),
        _ => Err("must be dry-run, all-or-nothing or skip-invalid".into()),
    }
}

/// An import's error as the API answers it: each names the form field at fault.
pub fn import_error(err: ImportError) -> ApiError {
    match err {
        ImportError::Storage(err) => err.into(),
        err @ (ImportError::UnknownField { .. } | ImportError::SameField { .. }) => {
            ApiError::field("mapping", err.to_string())
        }
        err @ (ImportError::UnknownKind(_) | ImportError::Unsupported(_)) => ApiError::field("kind", err.to_string()),
        err => ApiError::field("file", err.to_string()),
    }
}

pub fn parse_kind(raw: &str) -> Result<Kind, String> {
    raw.parse::<Kind>().map_err(|_| "must be people, companies, deals, activities, purchases or vcard".into())
}

/// A delimiter: one ASCII punctuation character, or `tab`.
pub fn parse_delimiter(raw: &str) -> Result<Option<u8>, String> {
    match raw {
        "" => Ok(None),
        "tab" | "\t" | "\\t" => Ok(Some(b'\t')),
        one if one.len() == 1 && one.as_bytes()[0].is_ascii_punctuation() && one != "\"" => Ok(Some(one.as_bytes()[0])),
        _ => Err("must be one punctuation character such as , ; or |, or \"tab\"".into()),
    }
}

/// A file received in a request, kept in a temporary file until the import reads it.
pub struct ReceivedFile {
    pub temp: NamedTempFile,
    pub size: u64,
    pub name: String,
}

impl ReceivedFile {
    /// The start of the file, enough for a preview: whole lines only, unless the file is shorter.
    pub fn head(&self) -> std::io::Result<Vec<u8>> {
        let mut bytes = Vec::new();
        self.temp.reopen()?.take(PREVIEW_BYTES).read_to_end(&mut bytes)?;
        if (bytes.len() as u64) < self.size
            && let Some(end) = bytes.iter().rposition(|b| *b == b'\n')
        {
            bytes.truncate(end + 1);
        }
        Ok(bytes)
    }
}

/// A multipart form: its one `file`, and its other fields as text.
pub struct Received {
    pub file: Option<ReceivedFile>,
    fields: HashMap<String, String>,
}

impl Received {
    /// A text field, trimmed; "" when absent.
    pub fn get(&self, name: &str) -> &str {
        self.fields.get(name).map(|v| v.trim()).unwrap_or("")
    }
}

/// An upload waiting on the import page for its mapping.
struct Upload {
    user_id: UserId,
    kind: Kind,
    file: ReceivedFile,
    received: Instant,
}

/// Every import job of this server, and the uploads waiting for a mapping.
pub struct ImportJobs {
    store: Store,
    jobs: Mutex<HashMap<Uuid, ImportJob>>,
    one_at_a_time: Semaphore,
    upload_limit: AtomicU64,
    uploads: Mutex<HashMap<String, Upload>>,
}

/// Locks `mutex`; a panic elsewhere while holding it leaves plain data behind, still usable.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl ImportJobs {
    pub fn new(store: Store) -> Arc<Self> {
        Arc::new(ImportJobs {
            store,
            jobs: Mutex::new(HashMap::new()),
            one_at_a_time: Semaphore::new(1),
            upload_limit: AtomicU64::new(UPLOAD_LIMIT),
            uploads: Mutex::new(HashMap::new()),
        })
    }

    pub fn upload_limit(&self) -> u64 {
        self.upload_limit.load(Ordering::Relaxed)
    }

    /// Changes the largest upload accepted (in bytes).
    pub fn set_upload_limit(&self, bytes: u64) {
        self.upload_limit.store(bytes, Ordering::Relaxed);
    }

    fn too_large(&self) -> ApiError {
        ApiError::PayloadTooLarge(usize::try_from(self.upload_limit()).unwrap_or(usize::MAX))
    }

    /// Reads a multipart form, streaming its `file` into a temporary file;
    /// more than the upload limit in all is refused with 413.
    pub async fn receive(&self, content_length: Option<u64>, mut multipart: Multipart) -> Result<Received, ApiError> {
        let limit = self.upload_limit();
        if content_length.is_some_and(|length| length > limit) {
            return Err(self.too_large());
        }
        let mut total = 0u64;
        let mut file = None;
        let mut fields = HashMap::new();
        while let Some(mut field) = multipart.next_field().await.map_err(|e| self.multipart_error(e))? {
            let name = field.name().unwrap_or_default().to_owned();
            if name == "file" {
                if file.is_some() {
                    return Err(ApiError::field("file", "send one file only"));
                }
                let received = self.receive_file(&mut field, &mut total, limit).await?;
                file = Some(received);
            } else {
                let mut value = Vec::new();
                while let Some(chunk) = field.chunk().await.map_err(|e| self.multipart_error(e))? {
                    total += chunk.len() as u64;
                    if total > limit {
                        return Err(self.too_large());
                    }
                    if value.len() + chunk.len() > FIELD_LIMIT {
                        return Err(ApiError::field(name, format!("must be at most {FIELD_LIMIT} bytes")));
                    }
                    value.extend_from_slice(&chunk);
                }
                let value = String::from_utf8(value).map_err(|_| ApiError::field(&name, "must be UTF-8 text"))?;
                fields.entry(name).or_insert(value);
            }
        }
        Ok(Received { file, fields })
    }

    async fn receive_file(&self, field: &mut Field<'_>, total: &mut u64, limit: u64) -> Result<ReceivedFile, ApiError> {
        let name = field.file_name().unwrap_or("upload").to_owned();
        let temp = NamedTempFile::new().map_err(internal)?;
        let mut writer = tokio::fs::File::from_std(temp.reopen().map_err(internal)?);
        let mut size = 0u64;
        while let Some(chunk) = field.chunk().await.map_err(|e| self.multipart_error(e))? {
            size += chunk.len() as u64;
            *total += chunk.len() as u64;
            if *total > limit {
                return Err(self.too_large());
            }
            writer.write_all(&chunk).await.map_err(internal)?;
        }
        writer.flush().await.map_err(internal)?;
        Ok(ReceivedFile { temp, size, name })
    }

    fn multipart_error(&self, err: MultipartError) -> ApiError {
        if err.status() == StatusCode::PAYLOAD_TOO_LARGE {
            self.too_large()
        } else {
            ApiError::field("body", format!("is not a readable multipart form: {}", err.body_text()))
        }
    }

    /// Queues an import of `file` as `actor`; it starts when the one before it ends.
    pub fn start(self: &Arc<Self>, actor: Actor, file: ReceivedFile, options: Options) -> ImportJob {
        let job = ImportJob {
            id: Uuid::now_v7(),
            kind: options.kind.to_string(),
            mode: mode_name(options.mode).to_owned(),
            started_by: actor.user_id,
            file_name: file.name.clone(),
            status: JobStatus::Queued,
            progress: JobProgress { total_bytes: Some(file.size), percent: Some(0), ..JobProgress::default() },
            report: None,
            error: None,
            created_at: now(),
            started_at: None,
            finished_at: None,
        };
        lock(&self.jobs).insert(job.id, job.clone());
        tokio::spawn(Arc::clone(self).run(job.id, actor, file, options));
        job
    }

    async fn run(self: Arc<Self>, id: Uuid, actor: Actor, file: ReceivedFile, options: Options) {
        // The semaphore is never closed, so this only waits.
        let Ok(_turn) = self.one_at_a_time.acquire().await else { return };
        self.update(id, |job| {
            job.status = JobStatus::Running;
            job.started_at = Some(now());
        });
        let source = match file.temp.reopen() {
            Ok(source) => source,
            Err(err) => return self.finish(id, Err(format!("the uploaded file could not be read: {err}"))),
        };
        // Its own task, so that a panic in the import fails the job instead of leaving it running.
        let jobs = Arc::clone(&self);
        let import = tokio::spawn(async move {
            let store = jobs.store.clone();
            let progress = move |progress: &Progress| jobs.update(id, |job| job.progress = progress.into());
            rapport_import::run(&store, &actor, source, Some(file.size), options, progress).await
        });
        let outcome = match import.await {
            Ok(Ok(report)) => Ok(report),
            Ok(Err(err)) => {
                tracing::warn!(job = %id, error = %err, "an import failed");
                Err(err.to_string())
            }
            Err(err) => {
                tracing::error!(job = %id, error = %err, "an import stopped");
                Err("the import stopped unexpectedly; it has been logged".into())
            }
        };
        self.finish(id, outcome);
        // The temporary file is removed here, when `file` is dropped.
    }

    fn finish(&self, id: Uuid, outcome: Result<Report, String>) {
        self.update(id, |job| {
            job.finished_at = Some(now());
            match outcome {
                Ok(report) => {
                    if let Some(total) = job.progress.total_bytes {
                        job.progress.bytes_read = total;
                        job.progress.percent = Some(100);
                    }
                    job.status = JobStatus::Done;
                    job.report = Some(report.into());
                }
                Err(message) => {
                    job.status = JobStatus::Failed;
                    job.error = Some(message);
                }
            }
        });
    }

    fn update(&self, id: Uuid, change: impl FnOnce(&mut ImportJob)) {
        if let Some(job) = lock(&self.jobs).get_mut(&id) {
            change(job);
        }
    }

    /// A job, if `actor` started it or is an admin.
    pub fn get(&self, actor: &Actor, id: Uuid) -> Option<ImportJob> {
        lock(&self.jobs).get(&id).filter(|job| job.started_by == actor.user_id || actor.is_admin()).cloned()
    }

    /// The jobs `actor` started, newest first.
    pub fn list(&self, actor: &Actor) -> Vec<ImportJob> {
        let mut jobs: Vec<ImportJob> =
            lock(&self.jobs).values().filter(|job| job.started_by == actor.user_id).cloned().collect();
        jobs.sort_by_key(|job| std::cmp::Reverse(job.id));
        jobs
    }

    /// Keeps an upload for its owner's next step; returns the token that finds it again.
    /// Uploads left waiting longer than an hour are dropped (and their files removed).
    pub fn keep_upload(&self, user_id: UserId, kind: Kind, file: ReceivedFile) -> String {
        let token = URL_SAFE_NO_PAD.encode(rand::random::<[u8; 24]>());
        let mut uploads = lock(&self.uploads);
        uploads.retain(|_, upload| upload.received.elapsed() < UPLOAD_KEPT);
        uploads.insert(token.clone(), Upload { user_id, kind, file, received: Instant::now() });
        token
    }

    /// What a kept upload holds, its name and its first bytes, for `user_id` only.
    pub fn upload_head(&self, user_id: UserId, token: &str) -> Option<std::io::Result<(Kind, String, Vec<u8>)>> {
        let uploads = lock(&self.uploads);
        let upload = uploads.get(token).filter(|upload| upload.user_id == user_id)?;
        Some(upload.file.head().map(|head| (upload.kind, upload.file.name.clone(), head)))
    }

    /// Takes a kept upload out, to import it.
    pub fn take_upload(&self, user_id: UserId, token: &str) -> Option<ReceivedFile> {
        let mut uploads = lock(&self.uploads);
        if uploads.get(token)?.user_id != user_id {
            return None;
        }
        uploads.remove(token).map(|upload| upload.file)
    }
}

fn internal(err: std::io::Error) -> ApiError {
    tracing::error!(error = %err, "keeping an upload failed");
    ApiError::Internal
}
