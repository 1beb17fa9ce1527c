//! Insights work in one currency: the one with the most purchases, unless
//! the caller names another. Purchases in other currencies are left out and
//! counted, so every report can say so.

use rapport_domain::Currency;
use rapport_storage::Store;
use serde::{Deserialize, Serialize};

use crate::ReportError;

/// Purchases held in one currency.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CurrencyCount {
    pub currency: String,
    pub purchases: i64,
}

/// The currency analysed and what was left out.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Scope {
    pub currency: String,
    /// Purchases in other currencies, left out.
    pub left_out: Vec<CurrencyCount>,
}

impl Scope {
    /// The currency to analyse, or `None` when there is no purchase at all.
    /// With one currency (the common case) nothing needs counting: the
    /// currencies are found by index seeks, not a scan.
    pub async fn pick(store: &Store, requested: Option<Currency>) -> Result<Option<Scope>, ReportError> {
        let currencies = store.purchase_currencies().await?;
        if let Some(requested) = requested
            && !currencies.iter().any(|c| c == requested.as_str())
        {
            let held = if currencies.is_empty() { "none".to_owned() } else { currencies.join(", ") };
            return Err(ReportError::NoPurchasesIn { requested: requested.as_str().to_owned(), held });
        }
        match currencies.as_slice() {
            [] => return Ok(None),
            [only] => return Ok(Some(Scope { currency: only.clone(), left_out: Vec::new() })),
            _ => {}
        }
        let counts: Vec<CurrencyCount> = store
            .purchase_totals(None, None)
            .await?
            .into_iter()
            .filter(|t| t.count > 0)
            .map(|t| CurrencyCount { currency: t.amount.currency.as_str().to_owned(), purchases: t.count })
            .collect();
        let currency = match requested {
            Some(requested) => requested.as_str().to_owned(),
            // Most purchases first; on a tie, the first code alphabetically.
            None => counts
                .iter()
                .max_by(|a, b| a.purchases.cmp(&b.purchases).then(b.currency.cmp(&a.currency)))
                .map(|c| c.currency.clone())
                .unwrap_or_default(),
        };
        let left_out = counts.into_iter().filter(|c| c.currency != currency).collect();
        Ok(Some(Scope { currency, left_out }))
    }

    /// A sentence on what was left out, if anything was.
    pub fn note(&self) -> Option<String> {
        if self.left_out.is_empty() {
            return None;
        }
        let count: i64 = self.left_out.iter().map(|c| c.purchases).sum();
        let names: Vec<&str> = self.left_out.iter().map(|c| c.currency.as_str()).collect();
        Some(format!(
            "Amounts in {}; left out {count} purchase{} in {} other currenc{} ({}).",
            self.currency,
            if count == 1 { "" } else { "s" },
            names.len(),
            if names.len() == 1 { "y" } else { "ies" },
            names.join(", ")
        ))
    }
}
