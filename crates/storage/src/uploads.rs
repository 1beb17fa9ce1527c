//! Uploaded files kept in the database, in chunks, for a job to read on
//! whichever node runs it (and for the import page between its preview and
//! its start). A file is written chunk by chunk and read chunk by chunk, so
//! no side holds a whole file in memory.

use crate::common::ByKey;
use rapport_domain::jobs::JobStatus;
use rapport_domain::records::now;
use rapport_domain::{JobId, UploadId, UserId};
use sea_orm::ActiveValue::Set;
use sea_orm::prelude::*;
use sea_orm::sea_query::Expr;
use sea_orm::{QueryOrder, QuerySelect};
use time::OffsetDateTime;

use crate::entities::{jobs, upload_chunks, uploads};
use crate::{Result, StorageError, Store};

/// The most one chunk holds.
pub const UPLOAD_CHUNK: usize = 1024 * 1024;

/// An upload's description.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Upload {
    pub id: UploadId,
    pub user_id: UserId,
    pub file_name: String,
    /// What it is for: an import's kind, say.
    pub purpose: String,
    pub size: u64,
    /// The job reading it, once one was started on it.
    pub job_id: Option<JobId>,
    pub created_at: OffsetDateTime,
}

fn to_upload(row: uploads::Model) -> Upload {
    Upload {
        id: UploadId(row.id),
        user_id: UserId(row.user_id),
        file_name: row.file_name,
        purpose: row.purpose,
        size: u64::try_from(row.size).unwrap_or(0),
        job_id: row.job_id.map(JobId),
        created_at: row.created_at,
    }
}

/// An upload being written; [`Store::finish_upload`] makes it readable.
pub struct UploadWriter {
    id: UploadId,
    next: i32,
    size: u64,
}

impl UploadWriter {
    pub fn id(&self) -> UploadId {
        self.id
    }
}

impl Store {
    /// Starts an upload of `user_id`'s. Its id is random (not time-ordered):
    /// the import page hands it back to its uploader as the upload's token.
    pub async fn begin_upload(&self, user_id: UserId, file_name: &str, purpose: &str) -> Result<UploadWriter> {
        let id = UploadId(uuid::Builder::from_random_bytes(rand::random()).into_uuid());
        let w = self.begin_write().await?;
        uploads::ActiveModel {
            id: Set(id.0),
            user_id: Set(user_id.0),
            file_name: Set(file_name.to_owned()),
            purpose: Set(purpose.to_owned()),
            size: Set(0),
            complete: Set(false),
            job_id: Set(None),
            created_at: Set(now()),
        }
        .insert(&*w)
        .await?;
        w.commit().await?;
        Ok(UploadWriter { id, next: 0, size: 0 })
    }

    /// Appends the next piece of the file (at most [`UPLOAD_CHUNK`] bytes).
    pub async fn write_upload(&self, writer: &mut UploadWriter, bytes: &[u8]) -> Result<()> {
        if bytes.is_empty() {
            return Ok(());
        }
        let w = self.begin_write().await?;
        upload_chunks::ActiveModel { upload_id: Set(writer.id.0), seq: Set(writer.next), data: Set(bytes.to_vec()) }
            .insert(&*w)
            .await?;
        w.commit().await?;
        writer.next += 1;
        writer.size += bytes.len() as u64;
        Ok(())
    }

    /// Marks the upload whole.
    pub async fn finish_upload(&self, writer: UploadWriter) -> Result<Upload> {
        let w = self.begin_write().await?;
        let row =
            uploads::Entity::find_by_id(writer.id.0).by_key(&*w).await?.ok_or(StorageError::NotFound("upload"))?;
        let mut row: uploads::ActiveModel = row.into();
        row.size = Set(i64::try_from(writer.size).unwrap_or(i64::MAX));
        row.complete = Set(true);
        let row = row.update(&*w).await?;
        w.commit().await?;
        Ok(to_upload(row))
    }

    /// A whole upload, for its uploader (or, with `None`, for a job).
    pub async fn upload(&self, user_id: Option<UserId>, id: UploadId) -> Result<Upload> {
        let row = uploads::Entity::find_by_id(id.0)
            .filter(uploads::Column::Complete.eq(true))
            .by_key(self.conn())
            .await?
            .filter(|row| user_id.is_none_or(|user| row.user_id == user.0))
            .ok_or(StorageError::NotFound("upload"))?;
        Ok(to_upload(row))
    }

    /// Piece `seq` of an upload (from 0); `None` past its end.
    pub async fn upload_chunk(&self, id: UploadId, seq: i32) -> Result<Option<Vec<u8>>> {
        let data: Option<Vec<u8>> = upload_chunks::Entity::find()
            .select_only()
            .column(upload_chunks::Column::Data)
            .filter(upload_chunks::Column::UploadId.eq(id.0))
            .filter(upload_chunks::Column::Seq.eq(seq))
            .order_by_asc(upload_chunks::Column::Seq)
            .into_tuple()
            .one(self.conn())
            .await?;
        Ok(data)
    }

    /// Removes an upload and its chunks.
    pub async fn delete_upload(&self, id: UploadId) -> Result<()> {
        let w = self.begin_write().await?;
        upload_chunks::Entity::delete_many().filter(upload_chunks::Column::UploadId.eq(id.0)).exec(&*w).await?;
        uploads::Entity::delete_by_id(id.0).exec(&*w).await?;
        w.commit().await?;
        Ok(())
    }

    /// Removes uploads made before `before` that no job will read again:
    /// never started (abandoned on the import page, or cut off while
    /// arriving), or whose job is done, cancelled or gone. A failed job keeps
    /// its file, for a retry.
    pub async fn prune_uploads(&self, before: OffsetDateTime) -> Result<u64> {
        let old: Vec<(Uuid, Option<Uuid>)> = uploads::Entity::find()
            .select_only()
            .column(uploads::Column::Id)
            .column(uploads::Column::JobId)
            .filter(uploads::Column::CreatedAt.lt(before))
            .into_tuple()
            .all(self.conn())
            .await?;
        let mut pruned = 0;
        for (id, job_id) in old {
            let still_read = match job_id {
                None => false,
                Some(job_id) => jobs::Entity::find_by_id(job_id)
                    .filter(jobs::Column::Status.is_in([
                        JobStatus::Queued.as_str(),
                        JobStatus::Running.as_str(),
                        JobStatus::Failed.as_str(),
                    ]))
                    .by_key(self.conn())
                    .await?
                    .is_some(),
            };
            if !still_read {
                self.delete_upload(UploadId(id)).await?;
                pruned += 1;
            }
        }
        Ok(pruned)
    }
}

/// Ties an upload to the job that reads it, in the job's transaction.
pub(crate) async fn attach<C: ConnectionTrait>(db: &C, upload: UploadId, job: JobId) -> Result<()> {
    let updated = uploads::Entity::update_many()
        .col_expr(uploads::Column::JobId, Expr::value(job.0))
        .filter(uploads::Column::Id.eq(upload.0))
        .filter(uploads::Column::Complete.eq(true))
        .filter(uploads::Column::JobId.is_null())
        .exec(db)
        .await?;
    if updated.rows_affected == 1 { Ok(()) } else { Err(StorageError::NotFound("upload")) }
}
