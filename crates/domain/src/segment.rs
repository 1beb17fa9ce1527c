//! RFM segments: the names customers are grouped under by their recency and
//! frequency scores (computed in `rapport-insights`, stored per customer by
//! the insights job, and used as a list filter). The grid of R and F scores:
//!
//! | R / F | 1              | 2              | 3              | 4         | 5         |
//! |-------|----------------|----------------|----------------|-----------|-----------|
//! | 5     | new            | potential loy. | potential loy. | champions | champions |
//! | 4     | promising      | potential loy. | potential loy. | loyal     | loyal     |
//! | 3     | about to sleep | about to sleep | need attention | loyal     | loyal     |
//! | 2     | hibernating    | hibernating    | at risk        | at risk   | can't lose|
//! | 1     | lost           | hibernating    | at risk        | at risk   | can't lose|

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A named RFM segment. Its [`Segment::as_str`] form (snake_case) is stable
/// and meant for URLs and list filters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Segment {
    /// Bought recently and often (R5 F4–5).
    Champions,
    /// Buy often, not necessarily lately (R3–4 F4–5).
    Loyal,
    /// Recent buyers with a few purchases (R4–5 F2–3).
    PotentialLoyalists,
    /// Bought for the first time very recently (R5 F1).
    New,
    /// Recent one-time buyers (R4 F1).
    Promising,
    /// Middling recency and frequency (R3 F3).
    NeedAttention,
    /// Middling recency, few purchases (R3 F1–2).
    AboutToSleep,
    /// Used to buy often, not lately (R1–2 F3–4).
    AtRisk,
    /// Among the most frequent buyers, gone quiet (R1–2 F5).
    CantLose,
    /// Long ago and rarely (R1–2 F1–2 except R1 F1).
    Hibernating,
    /// Longest ago and least often (R1 F1).
    Lost,
}

impl Segment {
    /// Every segment, best first (the order of reports and charts).
    pub const ALL: [Segment; 11] = [
        Segment::Champions,
        Segment::Loyal,
        Segment::PotentialLoyalists,
        Segment::New,
        Segment::Promising,
        Segment::NeedAttention,
        Segment::AboutToSleep,
        Segment::AtRisk,
        Segment::CantLose,
        Segment::Hibernating,
        Segment::Lost,
    ];

    /// The stable snake_case name, e.g. `cant_lose`.
    pub fn as_str(self) -> &'static str {
        match self {
            Segment::Champions => "champions",
            Segment::Loyal => "loyal",
            Segment::PotentialLoyalists => "potential_loyalists",
            Segment::New => "new",
            Segment::Promising => "promising",
            Segment::NeedAttention => "need_attention",
            Segment::AboutToSleep => "about_to_sleep",
            Segment::AtRisk => "at_risk",
            Segment::CantLose => "cant_lose",
            Segment::Hibernating => "hibernating",
            Segment::Lost => "lost",
        }
    }

    /// A label for people, e.g. `Can't lose`.
    pub fn label(self) -> &'static str {
        match self {
            Segment::Champions => "Champions",
            Segment::Loyal => "Loyal",
            Segment::PotentialLoyalists => "Potential loyalists",
            Segment::New => "New",
            Segment::Promising => "Promising",
            Segment::NeedAttention => "Need attention",
            Segment::AboutToSleep => "About to sleep",
            Segment::AtRisk => "At risk",
            Segment::CantLose => "Can't lose",
            Segment::Hibernating => "Hibernating",
            Segment::Lost => "Lost",
        }
    }

    /// Parses the [`Segment::as_str`] form (case-insensitive, `-` or `_`).
    pub fn parse(s: &str) -> Option<Segment> {
        let s = s.trim().to_ascii_lowercase().replace('-', "_");
        Segment::ALL.into_iter().find(|seg| seg.as_str() == s)
    }

    /// The segment for recency and frequency scores (each 1–5; values out of
    /// range are clamped). See the module documentation for the grid.
    pub fn from_scores(r: u8, f: u8) -> Segment {
        match (r.clamp(1, 5), f.clamp(1, 5)) {
            (1, 1) => Segment::Lost,
            (1..=2, 1..=2) => Segment::Hibernating,
            (1..=2, 3..=4) => Segment::AtRisk,
            (1..=2, _) => Segment::CantLose,
            (3, 1..=2) => Segment::AboutToSleep,
            (3, 3) => Segment::NeedAttention,
            (3, _) => Segment::Loyal,
            (4, 1) => Segment::Promising,
            (4 | 5, 2..=3) => Segment::PotentialLoyalists,
            (4, _) => Segment::Loyal,
            (5, 1) => Segment::New,
            _ => Segment::Champions,
        }
    }
}

impl fmt::Display for Segment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The text was not a segment name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown RFM segment: {0:?}")]
pub struct UnknownSegment(pub String);

impl FromStr for Segment {
    type Err = UnknownSegment;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Segment::parse(s).ok_or_else(|| UnknownSegment(s.to_owned()))
    }
}
