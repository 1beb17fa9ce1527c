use rapport_domain::FieldErrors;
use rapport_domain::access::Denied;
use sea_orm::{DbErr, SqlErr};

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("invalid input: {0}")]
    Invalid(FieldErrors),
    /// A unique value is taken, or a record is still in use.
    #[error("{0}")]
    Conflict(String),
    /// A value that must be unique is another record's: `field` names it,
    /// `existing` is that record.
    #[error("{field}: {message}")]
    Taken { field: String, message: String, existing: Option<uuid::Uuid> },
    #[error("{0}")]
    Denied(#[from] Denied),
    /// One record of a change to several was refused, so none changed.
    #[error("{what} {id}: {source}")]
    Refused { what: &'static str, id: uuid::Uuid, source: Box<StorageError> },
    /// The client edited an older version than the one stored.
    #[error("the record is at version {current}, not {expected}")]
    VersionMismatch { expected: i64, current: i64 },
    #[error("{0}")]
    Config(String),
    /// Stored data that does not parse: a bug or a hand-edited database.
    #[error("corrupt stored data: {0}")]
    Corrupt(String),
    #[error("database error: {0}")]
    Database(DbErr),
}

impl StorageError {
    /// A refusal of what was asked (bad input, no access, a conflict), as
    /// opposed to a failure of the database itself.
    pub fn is_refusal(&self) -> bool {
        !matches!(self, StorageError::Database(_) | StorageError::Corrupt(_) | StorageError::Config(_))
    }
}

impl From<FieldErrors> for StorageError {
    fn from(errors: FieldErrors) -> Self {
        StorageError::Invalid(errors)
    }
}

impl From<DbErr> for StorageError {
    fn from(err: DbErr) -> Self {
        match err.sql_err() {
            // The unique indexes on external ids are named `<table>_external_id`,
            // which both databases mention: say which field it is.
            Some(SqlErr::UniqueConstraintViolation(detail)) if detail.contains("external_id") => {
                tracing::debug!(%detail, "unique external id violated");
                StorageError::Taken {
                    field: "external_id".into(),
                    message: "is already the external id of another record".into(),
                    existing: None,
                }
            }
            Some(SqlErr::UniqueConstraintViolation(detail)) => {
                tracing::debug!(%detail, "unique constraint violated");
                StorageError::Conflict("a record with this value already exists".into())
            }
            Some(SqlErr::ForeignKeyConstraintViolation(detail)) => {
                tracing::debug!(%detail, "foreign key constraint violated");
                StorageError::Conflict("a linked record does not exist, or this record is still in use".into())
            }
            _ if matches!(err, DbErr::RecordNotUpdated) => StorageError::Conflict(
                "someone else saved this record at the same moment: reload it and apply your change again".into(),
            ),
            // PostgreSQL broke a deadlock with another transaction (say, the
            // insights job rewriting the rows a delete cascades to) by rolling
            // this one back: nothing changed, and trying again will work.
            _ if err.to_string().contains("deadlock detected") => {
                tracing::warn!(error = %err, "deadlock: the change was rolled back");
                StorageError::Conflict("another change to the same records ran at the same moment: try again".into())
            }
            _ => StorageError::Database(err),
        }
    }
}
