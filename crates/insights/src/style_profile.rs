//! A staff member's style profile: how they rate themselves, how their
//! colleagues rate them and what they measurably did, side by side per
//! dimension; the clearest strengths and the widest gaps between the views,
//! each told with the figure behind it; and the dimensions to work on.
//!
//! Ratings (1 to 5) and dimension scores (percentile ranks, 0 to 100) meet
//! on one scale: a rating `r` counts as `(r − 1) × 25`.

use rapport_domain::style::Dimension;
use serde::Serialize;

use crate::scorecards::Figure;

/// Views this far apart (on the 0–100 scale, a rating point is 25) make a gap.
pub const GAP_POINTS: f64 = 25.0;
/// Evidence at least this high is a strength; below [`WEAK_BELOW`] a weakness.
pub const STRONG_FROM: f64 = 70.0;
pub const WEAK_BELOW: f64 = 40.0;

/// A rating of 1 to 5 on the 0–100 scale of dimension scores.
pub fn rating_points(rating: f64) -> f64 {
    (rating - 1.0) * 25.0
}

/// One figure of a dimension as the profile weighs it: its value and its
/// percentile rank in the team (present only with enough cases).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RankedFigure {
    pub figure: Figure,
    pub value: f64,
    pub rank: f64,
}

/// What the profile knows about one dimension.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DimensionEvidence {
    /// The latest self-assessment's mean rating, 1 to 5.
    pub self_rating: Option<f64>,
    /// The latest shown feedback round's mean rating, 1 to 5.
    pub colleague_rating: Option<f64>,
    /// The scorecard's dimension score, 0 to 100.
    pub measured: Option<f64>,
    /// The dimension's figures with enough cases to rank.
    pub figures: Vec<RankedFigure>,
}

impl DimensionEvidence {
    /// What others can see of the dimension: the measured score, else the
    /// colleagues' rating.
    fn evidence(&self) -> Option<f64> {
        self.measured.or(self.colleague_rating.map(rating_points))
    }

    fn worst(&self) -> Option<&RankedFigure> {
        self.figures.iter().min_by(|a, b| a.rank.total_cmp(&b.rank))
    }

    fn best(&self) -> Option<&RankedFigure> {
        self.figures.iter().max_by(|a, b| a.rank.total_cmp(&b.rank))
    }

    /// The evidence in words: the deciding figure, else the colleagues.
    fn told(&self, figure: Option<&RankedFigure>) -> String {
        match (figure, self.colleague_rating) {
            (Some(f), _) => f.figure.fact(f.value),
            (None, Some(c)) => format!("your colleagues rate it {c:.1}/5"),
            (None, None) => String::new(),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    /// Others' evidence is high.
    Strength,
    /// The staff member rates themselves well above what others see.
    Gap,
    /// They rate themselves well below what others see.
    HiddenStrength,
}

/// One sentence of the profile, e.g. "You rate your follow-through 5/5;
/// 38 % of your tasks were done late."
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Finding {
    pub dimension: Dimension,
    pub kind: FindingKind,
    /// How far apart the views are, or how strong the strength, 0 to 100.
    pub weight: f64,
    pub text: String,
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

/// The findings over the five dimensions (in [`Dimension::ALL`] order):
/// gaps widest first, then hidden strengths, then strengths strongest first.
pub fn findings(evidence: &[DimensionEvidence; 5]) -> Vec<Finding> {
    let mut gaps = Vec::new();
    let mut strengths = Vec::new();
    for (dimension, dim) in Dimension::ALL.into_iter().zip(evidence) {
        let name = dimension.label().to_lowercase();
        let seen = dim.evidence();
        if let (Some(own), Some(seen)) = (dim.self_rating, seen) {
            let apart = rating_points(own) - seen;
            if apart >= GAP_POINTS {
                let text = format!("You rate your {name} {own:.1}/5; {}.", dim.told(dim.worst()));
                gaps.push(Finding { dimension, kind: FindingKind::Gap, weight: apart, text });
                continue;
            }
            if -apart >= GAP_POINTS {
                let text = format!("You rate your {name} {own:.1}/5, but {}.", dim.told(dim.best()));
                gaps.push(Finding { dimension, kind: FindingKind::HiddenStrength, weight: -apart, text });
                continue;
            }
        }
        if let Some(seen) = seen.filter(|s| *s >= STRONG_FROM) {
            let text = format!("{}: {}.", dimension.label(), dim.told(dim.best()));
            strengths.push(Finding { dimension, kind: FindingKind::Strength, weight: seen, text: capitalised(&text) });
        }
    }
    let by_weight = |a: &Finding, b: &Finding| b.weight.total_cmp(&a.weight);
    gaps.sort_by(|a, b| {
        (a.kind == FindingKind::HiddenStrength).cmp(&(b.kind == FindingKind::HiddenStrength)).then(by_weight(a, b))
    });
    strengths.sort_by(by_weight);
    gaps.extend(strengths);
    gaps
}

/// The dimensions to work on, most urgent first: those where others'
/// evidence is low, then those the staff member overrates.
pub fn weaknesses(evidence: &[DimensionEvidence; 5]) -> Vec<Dimension> {
    let mut weak: Vec<(Dimension, f64)> = Vec::new();
    for (dimension, dim) in Dimension::ALL.into_iter().zip(evidence) {
        let Some(seen) = dim.evidence() else { continue };
        let overrated = dim.self_rating.is_some_and(|own| rating_points(own) - seen >= GAP_POINTS);
        if seen < WEAK_BELOW || overrated {
            weak.push((dimension, seen));
        }
    }
    weak.sort_by(|a, b| a.1.total_cmp(&b.1));
    weak.into_iter().map(|(d, _)| d).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dim(
        self_rating: Option<f64>,
        colleagues: Option<f64>,
        measured: Option<f64>,
        figures: &[(Figure, f64, f64)],
    ) -> DimensionEvidence {
        DimensionEvidence {
            self_rating,
            colleague_rating: colleagues,
            measured,
            figures: figures.iter().map(|&(figure, value, rank)| RankedFigure { figure, value, rank }).collect(),
        }
    }

    #[test]
    fn an_overrated_dimension_is_a_gap_told_with_its_worst_figure() {
        let evidence = [
            // Responsiveness: self 3 (50) against 55 measured: no finding.
            dim(Some(3.0), None, Some(55.0), &[(Figure::SlaMet, 80.0, 55.0)]),
            // Follow-through: self 5 (100) against 20: a gap of 80.
            dim(
                Some(5.0),
                Some(3.0),
                Some(20.0),
                &[(Figure::TasksLate, 38.0, 10.0), (Figure::TasksOnTime, 60.0, 30.0)],
            ),
            // Proactivity: self 2 (25) against colleagues 4.5 (87.5): hidden strength of 62.5.
            dim(Some(2.0), Some(4.5), None, &[]),
            // Personal touch: no self-assessment, measured 90: a strength.
            dim(None, None, Some(90.0), &[(Figure::PreferredChannel, 95.0, 90.0)]),
            // Outcomes: nothing known.
            dim(None, None, None, &[]),
        ];
        let found = findings(&evidence);
        assert_eq!(found.len(), 3);
        assert_eq!(found[0].kind, FindingKind::Gap);
        assert_eq!(found[0].dimension, Dimension::FollowThrough);
        assert_eq!(found[0].weight, 80.0);
        assert_eq!(found[0].text, "You rate your follow-through 5.0/5; 38 % of your tasks were done late.");
        assert_eq!(found[1].kind, FindingKind::HiddenStrength);
        assert_eq!(found[1].text, "You rate your proactivity 2.0/5, but your colleagues rate it 4.5/5.");
        assert_eq!(found[1].weight, 62.5);
        assert_eq!(found[2].kind, FindingKind::Strength);
        assert_eq!(found[2].text, "Personal touch: 95 % of your touches used the customer's preferred channel.");
        // Follow-through is overrated and low; responsiveness is fine.
        assert_eq!(weaknesses(&evidence), vec![Dimension::FollowThrough]);
    }

    #[test]
    fn low_evidence_is_a_weakness_even_without_a_self_view() {
        let evidence = [
            dim(None, None, Some(30.0), &[]),
            dim(None, Some(1.5), None, &[]),
            dim(Some(4.0), None, Some(60.0), &[]),
            dim(None, None, None, &[]),
            dim(None, None, Some(39.9), &[]),
        ];
        // 1.5/5 is 12.5 points: weakest first.
        assert_eq!(
            weaknesses(&evidence),
            vec![Dimension::FollowThrough, Dimension::Responsiveness, Dimension::Outcomes]
        );
        assert!(findings(&evidence).is_empty());
    }
}
