//! The insights job: the latest [`Snapshot`] is computed by one node (a
//! durable job, `insights.refresh`, run by whichever node claims it) and
//! stored in the database; every node keeps a copy of the stored one and
//! checks every few seconds whether a newer one was stored, or whether the
//! data version (any purchase written, by any node or the CLI) or the day
//! moved on, in which case it asks for a refresh. Pages and the API only read
//! what the node holds.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use rapport_insights::churn::{ChurnDefinition, ChurnReport};
use rapport_storage::{NewJob, NewSnapshot, Store};
use time::{Date, OffsetDateTime};
use tokio::task::JoinHandle;

use crate::{ChurnGrouping, Computed, ReportError, Scope, Settings, Snapshot, compute};

/// The job kind that recomputes the snapshot.
pub const REFRESH_JOB: &str = "insights.refresh";

/// Churn reports kept for definitions other than the default.
const CHURN_CACHE: usize = 8;

/// What the node holds right now.
#[derive(Clone, Debug, Default)]
pub struct InsightsState {
    /// The latest snapshot, if one was computed.
    pub snapshot: Option<Arc<Snapshot>>,
    /// The data version or day moved on since, and a new one is coming.
    pub stale: bool,
    /// The last attempt failed: why (the previous snapshot is still served).
    pub error: Option<String>,
}

type ChurnKey = (ChurnDefinition, ChurnGrouping);

#[derive(Default)]
struct Inner {
    state: InsightsState,
    /// Other churn definitions asked for, with the version they reflect.
    churn: HashMap<ChurnKey, (i64, Date, Arc<ChurnReport>)>,
}

/// The insights of one store, shared by every request of a node.
pub struct Insights {
    store: Store,
    settings: Settings,
    inner: Mutex<Inner>,
    /// One computation at a time on this node, whoever asks.
    running: tokio::sync::Mutex<()>,
}

fn today() -> Date {
    OffsetDateTime::now_utc().date()
}

impl Insights {
    pub fn new(store: Store, settings: Settings) -> Arc<Self> {
        Arc::new(Insights { store, settings, inner: Mutex::default(), running: tokio::sync::Mutex::new(()) })
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves plain data behind: keep serving it.
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The latest snapshot and whether a newer one is on its way.
    pub fn state(&self) -> InsightsState {
        self.lock().state.clone()
    }

    /// Computes and stores a new snapshot if the data version or the day
    /// moved on since the stored one (another node may have stored it
    /// already: then it is only read). Returns whether it computed. This is
    /// what the `insights.refresh` job runs; tests call it to be up to date at once.
    pub async fn refresh_if_changed(&self) -> Result<bool, ReportError> {
        let _running = self.running.lock().await;
        let version = self.store.insights_data_version().await?;
        let as_of = today();
        let stamp = self.store.insights_snapshot_stamp().await?;
        if stamp.is_some_and(|s| s.version == version && s.as_of == as_of) {
            self.load_stored().await?;
            return Ok(false);
        }
        self.lock().state.stale = true;
        let computed = match Snapshot::compute(&self.store, self.settings, as_of, version).await {
            Ok(computed) => computed.snapshot.to_stored_json().map(|json| (computed, json)),
            Err(err) => Err(err),
        };
        match computed {
            Ok((Computed { snapshot, insights }, body)) => {
                let stored = NewSnapshot { version, as_of, computed_at: snapshot.computed_at, body };
                let written = self.store.publish_insights(insights, stored).await?;
                tracing::info!(
                    version,
                    took_ms = snapshot.took_ms,
                    customers = written.rows,
                    longest_write_ms = written.longest_transaction.as_millis() as u64,
                    published = written.published,
                    "insights computed"
                );
                if written.published {
                    self.hold(snapshot, false, None);
                } else {
                    // A run that started later stored its snapshot first: serve that one.
                    self.load_stored().await?;
                }
                Ok(true)
            }
            Err(err) => {
                tracing::error!(error = %err, "computing the insights failed");
                self.store.save_insights_error(&err.to_string()).await?;
                let mut inner = self.lock();
                inner.state.stale = false;
                inner.state.error = Some(err.to_string());
                Err(err)
            }
        }
    }

    fn hold(&self, snapshot: Snapshot, stale: bool, error: Option<String>) {
        let (version, as_of) = (snapshot.version, snapshot.as_of);
        let mut inner = self.lock();
        inner.state = InsightsState { snapshot: Some(Arc::new(snapshot)), stale, error };
        inner.churn.retain(|_, (v, day, _)| *v == version && *day == as_of);
    }

    /// Reads the stored snapshot into this node's copy, unless it holds it already.
    async fn load_stored(&self) -> Result<(), ReportError> {
        let Some(stored) = self.store.insights_snapshot().await? else { return Ok(()) };
        let held = self.lock().state.snapshot.as_ref().map(|s| (s.version, s.as_of, s.computed_at));
        let stamp = &stored.stamp;
        match stored.body {
            Some(body) if held != Some((stamp.version, stamp.as_of, stamp.computed_at)) => {
                let snapshot = Snapshot::from_stored_json(&body)?;
                let stale = self.lock().state.stale;
                self.hold(snapshot, stale, stamp.error.clone());
            }
            _ => self.lock().state.error = stamp.error.clone(),
        }
        Ok(())
    }

    /// Brings this node's copy up to date with the stored snapshot, and,
    /// when the data or the day moved on since it, asks for a refresh (one
    /// job for every node: a second request while one waits adds nothing).
    pub async fn sync(&self) -> Result<(), ReportError> {
        let stamp = self.store.insights_snapshot_stamp().await?;
        let held = self.lock().state.snapshot.as_ref().map(|s| (s.version, s.as_of, s.computed_at));
        match &stamp {
            Some(s) if held != Some((s.version, s.as_of, s.computed_at)) => self.load_stored().await?,
            Some(s) => self.lock().state.error = s.error.clone(),
            None => {}
        }
        let version = self.store.insights_data_version().await?;
        let as_of = today();
        let current = stamp.is_some_and(|s| s.version == version && s.as_of == as_of);
        {
            // Judged by the snapshot held now, not the stamp read above: a
            // refresh may have finished in between, and must not be marked stale.
            let mut inner = self.lock();
            let held_current = inner.state.snapshot.as_ref().is_some_and(|s| s.version == version && s.as_of == as_of);
            inner.state.stale = !held_current;
        }
        if !current && !self.store.has_waiting_job(REFRESH_JOB).await? {
            let mut job = NewJob::new(REFRESH_JOB, serde_json::json!({}));
            job.unique_key = Some(format!("{REFRESH_JOB}@{version}@{as_of}"));
            job.max_attempts = 3;
            self.store.enqueue_job(job).await?;
        }
        Ok(())
    }

    /// Starts this node's check: the stored snapshot read now, then every
    /// `poll`. Failures are logged and tried again.
    pub fn start(self: &Arc<Self>, poll: Duration) -> JoinHandle<()> {
        let this = Arc::clone(self);
        tokio::spawn(async move {
            loop {
                if let Err(err) = this.sync().await {
                    tracing::error!(error = %err, "checking the stored insights failed");
                }
                tokio::time::sleep(poll).await;
            }
        })
    }

    /// Churn under another definition or grouping than the snapshot's:
    /// computed once per data version and kept.
    pub async fn churn(
        &self,
        definition: ChurnDefinition,
        grouping: ChurnGrouping,
    ) -> Result<Option<Arc<ChurnReport>>, ReportError> {
        let version = self.store.insights_data_version().await?;
        let as_of = today();
        let key = (definition, grouping);
        if let Some((v, day, report)) = self.lock().churn.get(&key)
            && *v == version
            && *day == as_of
        {
            return Ok(Some(Arc::clone(report)));
        }
        let Some(scope) = Scope::pick(&self.store, None).await? else { return Ok(None) };
        let report = Arc::new(compute::churn(&self.store, &scope, as_of, definition, grouping).await?);
        let mut inner = self.lock();
        if inner.churn.len() >= CHURN_CACHE {
            inner.churn.clear();
        }
        inner.churn.insert(key, (version, as_of, Arc::clone(&report)));
        Ok(Some(report))
    }
}
