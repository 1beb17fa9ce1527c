//! The response targets' watcher: every minute, warnings for targets due
//! within half an hour (with a task for the assignee) and breaches for
//! targets passed unmet, each recorded once.

use crate::runner::{Handler, from_fn};

pub const WATCH: &str = "sla.watch";

/// How long before a target its assignee is warned.
const WARN_WITHIN: time::Duration = time::Duration::minutes(30);

pub fn watch() -> Handler {
    from_fn(|ctx| async move {
        let watch = ctx.store.watch_sla(WARN_WITHIN).await?;
        if watch.breaches > 0 {
            tracing::info!(breaches = watch.breaches, warnings = watch.warnings, "response targets breached");
        }
        Ok(Some(serde_json::to_value(watch).expect("a report serialises")))
    })
}
