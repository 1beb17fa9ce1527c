//! The insights job: keeps the latest [`Snapshot`] and computes a new one in
//! the background when the data version moves on (any purchase written, by
//! this server, another node or the CLI) or a new day starts. Pages and the
//! API only read what it holds.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use rapport_insights::churn::{ChurnDefinition, ChurnReport};
use rapport_storage::Store;
use time::{Date, OffsetDateTime};
use tokio::task::JoinHandle;

use crate::{ChurnGrouping, ReportError, Scope, Settings, Snapshot, compute};

/// Churn reports kept for definitions other than the default.
const CHURN_CACHE: usize = 8;

/// What the job holds right now.
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

/// The insights of one store, shared by every request.
pub struct Insights {
    store: Store,
    settings: Settings,
    inner: Mutex<Inner>,
    /// One computation at a time, whoever asks.
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

    /// Computes a new snapshot if the data version or the day moved on since
    /// the last one. Returns whether it computed.
    pub async fn refresh_if_changed(&self) -> Result<bool, ReportError> {
        let _running = self.running.lock().await;
        let version = self.store.insights_data_version().await?;
        let as_of = today();
        let current = self.lock().state.snapshot.clone();
        if current.is_some_and(|s| s.version == version && s.as_of == as_of) {
            return Ok(false);
        }
        self.lock().state.stale = true;
        match Snapshot::compute(&self.store, self.settings, as_of, version).await {
            Ok(snapshot) => {
                tracing::info!(version, took_ms = snapshot.took_ms, "insights computed");
                let mut inner = self.lock();
                inner.state = InsightsState { snapshot: Some(Arc::new(snapshot)), stale: false, error: None };
                inner.churn.retain(|_, (v, day, _)| *v == version && *day == as_of);
                Ok(true)
            }
            Err(err) => {
                tracing::error!(error = %err, "computing the insights failed");
                let mut inner = self.lock();
                inner.state.stale = false;
                inner.state.error = Some(err.to_string());
                Err(err)
            }
        }
    }

    /// Starts the job: a first snapshot now, then a check of the data
    /// version every `poll`. Failures are logged and tried again.
    pub fn start(self: &Arc<Self>, poll: Duration) -> JoinHandle<()> {
        let this = Arc::clone(self);
        tokio::spawn(async move {
            loop {
                // Errors are logged inside; the next round tries again.
                let _ = this.refresh_if_changed().await;
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
