//! Rapport's customer insights, computed from plain inputs (purchases,
//! customers, referrals) handed in by the storage layer. Nothing here touches
//! a database or the network, so every figure is tested on its own.

pub mod charts;
pub mod churn;
pub mod clv;
pub mod cohorts;
pub mod feedback_charts;
pub mod float;
pub mod goals;
pub mod input;
pub mod referrals;
pub mod rfm;
pub mod sales;
pub mod scorecards;
pub mod style_charts;
pub mod style_profile;
