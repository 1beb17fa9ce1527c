//! Rapport's customer insights, computed from plain inputs (purchases,
//! customers, referrals) handed in by the storage layer. Nothing here touches
//! a database or the network, so every figure is tested on its own.
