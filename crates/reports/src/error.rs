use rapport_insights::clv::ClvError;
use rapport_insights::input::InsightsError;
use rapport_storage::StorageError;

use crate::compute::{MIN_CUSTOMERS, MIN_REPEAT_BUYERS};

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// The caller asked for a currency no purchase is in.
    #[error("no purchase is in {requested}; purchases are in {held}")]
    NoPurchasesIn { requested: String, held: String },
    #[error("cannot compute the insights: {0}")]
    Insights(#[from] InsightsError),
    #[error("cannot fit the lifetime value models: {0}")]
    Model(#[from] ClvError),
    /// Too few customers for the lifetime value models to mean anything.
    #[error(
        "too little data to fit the lifetime value models: {customers} customers, {repeat_buyers} repeat buyers \
         (at least {MIN_CUSTOMERS} and {MIN_REPEAT_BUYERS} are needed)"
    )]
    TooLittleData { customers: usize, repeat_buyers: usize },
    /// The model fit did not settle on a maximum.
    #[error("the lifetime value models did not converge on this data (customers may show no sign of dropping out yet)")]
    NotConverged,
    /// The computing thread stopped (a panic in a computation).
    #[error("the insights computation stopped: {0}")]
    Stopped(String),
}
