//! Imports through the server: a file uploaded through the API or the
//! import page arrives in a temporary file (counted against the upload
//! limit), is copied into the database, and an `import` job reads it there
//! on whichever node claims it (`rapport_jobs::imports`). The import page's
//! upload waits in the database too, between its preview and its start, so
//! any node can serve each step.

use std::collections::HashMap;
use std::io::Read;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::extract::multipart::{Field, Multipart, MultipartError};
use axum::http::StatusCode;
use rapport_domain::jobs::{Job, JobStatus};
use rapport_domain::{Actor, JobId, UploadId, UserId};
use rapport_import::{ImportError, ImportMode, Kind, Options};
use rapport_jobs::LiveProgress;
use rapport_jobs::imports::{JobProgress, JobReport};
use rapport_storage::{JobFilter, StorageError, Store, UPLOAD_CHUNK, Upload};
use serde::Serialize;
use tempfile::NamedTempFile;
use time::OffsetDateTime;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::Notify;

use crate::error::ApiError;

/// The largest upload accepted, unless changed with [`ImportJobs::set_upload_limit`].
pub const UPLOAD_LIMIT: u64 = 200 * 1024 * 1024;
/// The most of a file a preview reads: plenty for its first rows.
const PREVIEW_BYTES: u64 = 1024 * 1024;
/// How many of a user's imports the list shows.
const RECENT_IMPORTS: u64 = 50;
/// The most a form field other than the file may hold (a mapping of many columns fits).
const FIELD_LIMIT: usize = 64 * 1024;

/// An import job as the API shows it.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ImportJob {
    pub id: JobId,
    /// people, companies, deals, activities, purchases, tickets, answers or vcard.
    pub kind: String,
    /// dry-run, all-or-nothing or skip-invalid.
    pub mode: String,
    /// The user who started it.
    pub started_by: Option<UserId>,
    /// The uploaded file's name, as the client sent it.
    pub file_name: String,
    pub status: JobStatus,
    pub progress: JobProgress,
    /// When it is done.
    pub report: Option<JobReport>,
    /// Why it failed (or, while it waits for another attempt, why the last one did).
    pub error: Option<String>,
    /// Attempts started so far: more than one after a node stopped or a failure.
    pub attempts: i32,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub started_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub finished_at: Option<OffsetDateTime>,
}

impl ImportJob {
    pub fn is_finished(&self) -> bool {
        self.status.is_finished()
    }

    /// The API's view of an import job; `live` is this node's latest
    /// progress of it, when it runs here.
    fn from_job(job: Job, live: Option<serde_json::Value>) -> Result<ImportJob, ApiError> {
        let payload = rapport_jobs::imports::payload(&job).map_err(|err| {
            tracing::error!(job = %job.id, error = %err, "an import job's payload does not read");
            ApiError::Internal
        })?;
        let read = |value: Option<serde_json::Value>| value.and_then(|v| serde_json::from_value::<JobProgress>(v).ok());
        let progress = read(live).or_else(|| read(job.progress.clone())).unwrap_or(JobProgress {
            total_bytes: Some(payload.size),
            percent: Some(0),
            ..JobProgress::default()
        });
        let report = match job.result.clone() {
            Some(result) => Some(serde_json::from_value::<JobReport>(result).map_err(|err| {
                tracing::error!(job = %job.id, error = %err, "an import job's report does not read");
                ApiError::Internal
            })?),
            None => None,
        };
        Ok(ImportJob {
            id: job.id,
            kind: payload.options.kind.to_string(),
            mode: mode_name(payload.options.mode).to_owned(),
            started_by: job.created_by,
            file_name: payload.file_name,
            status: job.status,
            progress,
            report,
            error: job.last_error,
            attempts: job.attempts,
            created_at: job.created_at,
            started_at: job.started_at,
            finished_at: job.finished_at,
        })
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
    raw.parse::<Kind>()
        .map_err(|_| "must be people, companies, deals, activities, purchases, tickets, answers or vcard".into())
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
        Ok(whole_lines(bytes, self.size))
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

    /// The names of the text fields sent.
    pub fn field_names(&self) -> impl Iterator<Item = &str> {
        self.fields.keys().map(String::as_str)
    }
}

/// Receives uploads and starts import jobs.
pub struct ImportJobs {
    store: Store,
    upload_limit: AtomicU64,
    /// Wakes this node's job workers when a job is added.
    wake: Arc<Notify>,
    live: LiveProgress,
}

impl ImportJobs {
    pub fn new(store: Store, wake: Arc<Notify>, live: LiveProgress) -> Arc<Self> {
        Arc::new(ImportJobs { store, upload_limit: AtomicU64::new(UPLOAD_LIMIT), wake, live })
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

    /// Copies a received file into the database, chunk by chunk.
    async fn save(&self, user_id: UserId, purpose: &str, file: &ReceivedFile) -> Result<Upload, ApiError> {
        let mut source = tokio::fs::File::from_std(file.temp.reopen().map_err(internal)?);
        let mut writer = self.store.begin_upload(user_id, &file.name, purpose).await?;
        let mut chunk = vec![0u8; UPLOAD_CHUNK];
        loop {
            let mut filled = 0;
            while filled < chunk.len() {
                let read = source.read(&mut chunk[filled..]).await.map_err(internal)?;
                if read == 0 {
                    break;
                }
                filled += read;
            }
            if filled == 0 {
                break;
            }
            self.store.write_upload(&mut writer, &chunk[..filled]).await?;
        }
        Ok(self.store.finish_upload(writer).await?)
    }

    /// Queues an import of a received file as `actor`.
    pub async fn start(&self, actor: &Actor, file: ReceivedFile, options: Options) -> Result<ImportJob, ApiError> {
        let upload = self.save(actor.user_id, &options.kind.to_string(), &file).await?;
        self.enqueue(actor, &upload, options).await
    }

    /// Queues an import of an upload kept for the import page.
    pub async fn start_kept(&self, actor: &Actor, upload: &Upload, options: Options) -> Result<ImportJob, ApiError> {
        self.enqueue(actor, upload, options).await
    }

    async fn enqueue(&self, actor: &Actor, upload: &Upload, options: Options) -> Result<ImportJob, ApiError> {
        let job = rapport_jobs::imports::enqueue(&self.store, actor, upload, options).await?;
        self.wake.notify_one();
        ImportJob::from_job(job, None)
    }

    /// An import job, if `actor` started it or is an admin.
    pub async fn get(&self, actor: &Actor, id: JobId) -> Result<ImportJob, ApiError> {
        let job = match self.store.job(Some(actor), id).await {
            Err(StorageError::NotFound(_)) => return Err(ApiError::NotFound("import job")),
            other => other?,
        };
        if job.kind != rapport_jobs::imports::KIND {
            return Err(ApiError::NotFound("import job"));
        }
        let live = self.live.get(job.id);
        ImportJob::from_job(job, live)
    }

    /// The latest import jobs `actor` started, newest first.
    pub async fn list(&self, actor: &Actor) -> Result<Vec<ImportJob>, ApiError> {
        let filter = JobFilter {
            kind: Some(rapport_jobs::imports::KIND.to_owned()),
            created_by: Some(actor.user_id),
            limit: RECENT_IMPORTS,
            ..JobFilter::default()
        };
        let jobs = self.store.list_jobs(Some(actor), &filter).await?;
        jobs.into_iter()
            .map(|job| {
                let live = self.live.get(job.id);
                ImportJob::from_job(job, live)
            })
            .collect()
    }

    /// Keeps an upload for its owner's next step; returns the token that
    /// finds it again (its random id). Uploads no import started are removed
    /// after an hour by the hourly `jobs.prune` job.
    pub async fn keep_upload(&self, user_id: UserId, kind: Kind, file: ReceivedFile) -> Result<String, ApiError> {
        Ok(self.save(user_id, &kind.to_string(), &file).await?.id.to_string())
    }

    /// A kept upload of `user_id`'s, not yet imported.
    pub async fn kept_upload(&self, user_id: UserId, token: &str) -> Result<(Kind, Upload), ApiError> {
        let id: UploadId = token.parse().map_err(|_| ApiError::NotFound("upload"))?;
        let upload = match self.store.upload(Some(user_id), id).await {
            Err(StorageError::NotFound(_)) => return Err(ApiError::NotFound("upload")),
            other => other?,
        };
        if upload.job_id.is_some() {
            return Err(ApiError::NotFound("upload"));
        }
        let kind = upload.purpose.parse::<Kind>().map_err(|_| ApiError::NotFound("upload"))?;
        Ok((kind, upload))
    }

    /// What a kept upload holds, its name and its first bytes (whole lines
    /// only, unless the file is shorter), for its uploader only.
    pub async fn upload_head(&self, user_id: UserId, token: &str) -> Result<(Kind, String, Vec<u8>), ApiError> {
        let (kind, upload) = self.kept_upload(user_id, token).await?;
        let mut head = Vec::new();
        let mut seq = 0;
        while (head.len() as u64) < PREVIEW_BYTES {
            match self.store.upload_chunk(upload.id, seq).await? {
                Some(chunk) => head.extend_from_slice(&chunk),
                None => break,
            }
            seq += 1;
        }
        Ok((kind, upload.file_name, whole_lines(head, upload.size)))
    }
}

/// The start of a file, cut to a preview's length at a line's end, unless it
/// is the whole file.
fn whole_lines(mut bytes: Vec<u8>, size: u64) -> Vec<u8> {
    bytes.truncate(PREVIEW_BYTES as usize);
    if (bytes.len() as u64) < size
        && let Some(end) = bytes.iter().rposition(|b| *b == b'\n')
    {
        bytes.truncate(end + 1);
    }
    bytes
}

fn internal(err: std::io::Error) -> ApiError {
    tracing::error!(error = %err, "keeping an upload failed");
    ApiError::Internal
}
