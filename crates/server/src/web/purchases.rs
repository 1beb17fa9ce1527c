//! A purchase as the customer and ticket pages list it.

use rapport_domain::records::Purchase;
use rapport_domain::timeline::TimelineEntry;

use super::format;

/// One purchase line: when, how much, and what (its description, else its reference).
pub struct PurchaseLine {
    pub at: String,
    pub amount: String,
    pub what: String,
}

impl From<&Purchase> for PurchaseLine {
    fn from(purchase: &Purchase) -> Self {
        let p = &purchase.fields;
        PurchaseLine {
            at: format::date(p.occurred_at.date()),
            amount: p.amount.display(),
            what: p
                .description
                .as_ref()
                .map(|d| d.to_string())
                .or_else(|| p.reference.as_ref().map(|r| r.to_string()))
                .unwrap_or_default(),
        }
    }
}

/// The latest `limit` purchases among timeline entries.
pub fn purchases(entries: &[TimelineEntry], limit: usize) -> Vec<PurchaseLine> {
    entries
        .iter()
        .filter_map(|e| match e {
            TimelineEntry::Purchase(p) => Some(PurchaseLine::from(p)),
            _ => None,
        })
        .take(limit)
        .collect()
}
