//! Housekeeping that runs hourly on one node: the trash purge, closing
//! tickets solved long enough ago, and pruning old finished jobs, abandoned
//! uploads and failed sign-ins that no longer count.

use rapport_domain::records::now;

use crate::runner::{Handler, from_fn};

pub const TRASH_PURGE: &str = "trash.purge";
pub const PRUNE: &str = "jobs.prune";
pub const CLOSE_SOLVED: &str = "tickets.close_solved";

/// Finished jobs are listed this long, then removed.
const KEEP_FINISHED_JOBS: time::Duration = time::Duration::days(7);
/// An upload no job reads is kept this long (the import page's wait for a mapping).
const KEEP_UNUSED_UPLOADS: time::Duration = time::Duration::hours(1);
/// A failed sign-in counts for 15 minutes (the server's login limiter); kept
/// an hour, well past that.
const KEEP_LOGIN_ATTEMPTS: time::Duration = time::Duration::hours(1);

/// Removes for good what has been in the trash longer than `retention`.
pub fn purge_trash(retention: time::Duration) -> Handler {
    from_fn(move |ctx| async move {
        let purged = ctx.store.purge_trash(now() - retention).await?;
        if purged > 0 {
            tracing::info!(purged, "purged old trash entries");
        }
        Ok(Some(serde_json::json!({ "purged": purged })))
    })
}

/// Removes jobs finished a week ago, uploads nothing reads any more, and
/// failed sign-ins too old to count.
pub fn prune() -> Handler {
    from_fn(|ctx| async move {
        let jobs = ctx.store.prune_jobs(now() - KEEP_FINISHED_JOBS).await?;
        let uploads = ctx.store.prune_uploads(now() - KEEP_UNUSED_UPLOADS).await?;
        let login_attempts = ctx.store.prune_login_attempts(now() - KEEP_LOGIN_ATTEMPTS).await?;
        Ok(Some(serde_json::json!({ "jobs": jobs, "uploads": uploads, "login_attempts": login_attempts })))
    })
}

/// Closes tickets solved more than `after` ago: the customer did not come
/// back, and a closed ticket is final.
pub fn close_solved(after: time::Duration) -> Handler {
    from_fn(move |ctx| async move {
        let closed = ctx.store.close_solved_tickets(now() - after).await?;
        if closed > 0 {
            tracing::info!(closed, "closed tickets solved long ago");
        }
        Ok(Some(serde_json::json!({ "closed": closed })))
    })
}
