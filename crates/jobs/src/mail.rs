//! Mail's jobs: sending one outbox message (retried with backoff, its
//! status kept on the outbox row the ticket shows), and fetching the IMAP
//! mailbox every minute.

use rapport_domain::OutboxId;
use rapport_domain::mail::OutboxStatus;
use rapport_mail::send::{SendError, send_outbox};
use rapport_storage::StorageError;
use rapport_storage::mail::{FETCH_JOB, SEND_JOB};

use crate::runner::{Handler, JobError, from_fn};

pub const SEND: &str = SEND_JOB;
pub const FETCH: &str = FETCH_JOB;

#[derive(serde::Deserialize)]
struct SendPayload {
    outbox_id: OutboxId,
}

/// Sends one outbox message. A refusal (5xx) fails it at once; an
/// unreachable server or a "try later" is retried until the job's last attempt.
pub fn send() -> Handler {
    from_fn(|ctx| async move {
        let payload: SendPayload = serde_json::from_value(ctx.job.payload.clone())
            .map_err(|e| JobError::Fatal(format!("the job's payload is not an outbox message: {e}")))?;
        let message = match ctx.store.outbox_message(payload.outbox_id).await {
            Ok(message) => message,
            // Its ticket was deleted: nothing to send (a restore queues it again).
            Err(StorageError::NotFound(_)) => return Ok(Some(serde_json::json!({ "gone": "the ticket was deleted" }))),
            Err(err) => return Err(err.into()),
        };
        if message.status != OutboxStatus::Queued {
            return Ok(Some(serde_json::json!({ "already": message.status })));
        }
        let Some(settings) = ctx.store.smtp_settings().await? else {
            let reason = "outgoing mail is not set up (Settings → Mail)";
            ctx.store.record_send_attempt(message.id, OutboxStatus::Failed, reason).await?;
            return Err(JobError::Fatal(reason.into()));
        };
        match send_outbox(&settings, &message).await {
            Ok(reply) => {
                ctx.store.record_send_attempt(message.id, OutboxStatus::Sent, &reply).await?;
                Ok(Some(serde_json::json!({ "to": message.to, "server_reply": reply })))
            }
            Err(err) => {
                let last = ctx.job.attempts >= ctx.job.max_attempts;
                let give_up = last || !err.is_transient();
                let status = if give_up { OutboxStatus::Failed } else { OutboxStatus::Queued };
                ctx.store.record_send_attempt(message.id, status, &err.to_string()).await?;
                Err(match err {
                    SendError::Unavailable(reason) => JobError::Retry(reason),
                    other => JobError::Fatal(other.to_string()),
                })
            }
        }
    })
}

/// Takes in the IMAP mailbox's new messages, when incoming mail is on.
pub fn fetch() -> Handler {
    from_fn(|ctx| async move {
        let Some(settings) = ctx.store.imap_settings().await?.filter(|s| s.enabled) else {
            return Ok(Some(serde_json::json!({ "skipped": "incoming mail is off" })));
        };
        let report = rapport_mail::fetch::fetch(&ctx.store, &settings).await.map_err(|e| match e {
            rapport_mail::fetch::FetchError::Storage(e) => JobError::Storage(e),
            other => JobError::Retry(other.to_string()),
        })?;
        if report.opened + report.joined > 0 {
            tracing::info!(opened = report.opened, joined = report.joined, "mail fetched");
        }
        Ok(Some(serde_json::to_value(report).expect("a report serialises")))
    })
}
