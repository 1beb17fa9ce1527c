//! A goal's progress and forecast from its figure's recent periods: the
//! latest value, how far it moved from the first period toward the target,
//! and where a least-squares line through the periods reaches by the due day.

use rapport_domain::goals::Comparison;
use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum GoalStatus {
    /// No period had enough cases to measure the figure.
    NoData,
    /// The trend reaches the target by the due day.
    OnTrack,
    /// The trend does not reach it.
    OffTrack,
    /// The due day passed with the target met.
    Met,
    /// The due day passed without it.
    Missed,
}

impl GoalStatus {
    /// How pages, emails and the command line say it.
    pub fn label(self) -> &'static str {
        match self {
            GoalStatus::NoData => "Not enough data yet",
            GoalStatus::OnTrack => "On track",
            GoalStatus::OffTrack => "Off track",
            GoalStatus::Met => "Met",
            GoalStatus::Missed => "Missed",
        }
    }
}

/// One period's value: `day` is the period's end in days from today
/// (0 today, negative before).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct GoalPoint {
    pub day: f64,
    pub value: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct GoalForecast {
    /// The latest period's value.
    pub current: Option<f64>,
    /// Where the trend line is on the due day (the latest value with a
    /// single period), kept within the figure's range.
    pub forecast: Option<f64>,
    /// The trend's change per 30 days.
    pub per_month: Option<f64>,
    /// 0 at the first period's value, 100 at the target (or met).
    pub progress: Option<f64>,
    pub status: GoalStatus,
}

/// The least-squares slope and intercept through the points (two or more
/// at distinct days).
fn trend(points: &[GoalPoint]) -> Option<(f64, f64)> {
    let n = points.len() as f64;
    let mean_x = points.iter().map(|p| p.day).sum::<f64>() / n;
    let mean_y = points.iter().map(|p| p.value).sum::<f64>() / n;
    let sxx: f64 = points.iter().map(|p| (p.day - mean_x).powi(2)).sum();
    if points.len() < 2 || sxx == 0.0 {
        return None;
    }
    let sxy: f64 = points.iter().map(|p| (p.day - mean_x) * (p.value - mean_y)).sum();
    let slope = sxy / sxx;
    Some((slope, mean_y - slope * mean_x))
}

/// The forecast of a goal `comparison target` due in `days_left` days (0 or
/// fewer: due), from its figure's periods oldest first; `range` bounds the
/// forecast.
pub fn forecast(
    points: &[GoalPoint],
    comparison: Comparison,
    target: f64,
    days_left: f64,
    range: (f64, f64),
) -> GoalForecast {
    let (Some(first), Some(last)) = (points.first(), points.last()) else {
        return GoalForecast {
            current: None,
            forecast: None,
            per_month: None,
            progress: None,
            status: GoalStatus::NoData,
        };
    };
    let current = last.value;
    let line = trend(points);
    let ahead = match line {
        Some((slope, intercept)) => intercept + slope * days_left.max(0.0),
        None => current,
    }
    .clamp(range.0, range.1);
    let progress = if comparison.meets(first.value, target) || comparison.meets(current, target) {
        100.0
    } else {
        ((current - first.value) / (target - first.value) * 100.0).clamp(0.0, 100.0)
    };
    let status = match (days_left <= 0.0, comparison.meets(current, target), comparison.meets(ahead, target)) {
        (true, true, _) => GoalStatus::Met,
        (true, false, _) => GoalStatus::Missed,
        (false, _, true) => GoalStatus::OnTrack,
        (false, _, false) => GoalStatus::OffTrack,
    };
    GoalForecast {
        current: Some(current),
        forecast: Some(ahead),
        per_month: line.map(|(slope, _)| slope * 30.0),
        progress: Some(progress),
        status,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn points(values: &[(f64, f64)]) -> Vec<GoalPoint> {
        values.iter().map(|&(day, value)| GoalPoint { day, value }).collect()
    }

    #[test]
    fn a_rising_figure_is_on_track_when_its_line_reaches_the_target() {
        // NPS 20, 30, 40 a month apart: +10 a month; 60 days on it is 60.
        let p = points(&[(-60.0, 20.0), (-30.0, 30.0), (0.0, 40.0)]);
        let f = forecast(&p, Comparison::AtLeast, 50.0, 60.0, (-100.0, 100.0));
        assert_eq!(f.current, Some(40.0));
        assert!((f.forecast.unwrap() - 60.0).abs() < 1e-9);
        assert!((f.per_month.unwrap() - 10.0).abs() < 1e-9);
        assert!((f.progress.unwrap() - 2.0 / 3.0 * 100.0).abs() < 1e-9);
        assert_eq!(f.status, GoalStatus::OnTrack);
        // Only 20 days left: 46.7 by then, off track.
        let f = forecast(&p, Comparison::AtLeast, 50.0, 20.0, (-100.0, 100.0));
        assert!((f.forecast.unwrap() - (40.0 + 20.0 / 3.0)).abs() < 1e-9);
        assert_eq!(f.status, GoalStatus::OffTrack);
    }

    #[test]
    fn a_lower_is_better_goal_and_the_due_day() {
        // First response 10, 8, 6 hours: −2 a month; target ≤ 4 in 30 days.
        let p = points(&[(-60.0, 10.0), (-30.0, 8.0), (0.0, 6.0)]);
        let f = forecast(&p, Comparison::AtMost, 4.0, 30.0, (0.0, 8760.0));
        assert!((f.forecast.unwrap() - 4.0).abs() < 1e-9);
        assert_eq!(f.status, GoalStatus::OnTrack);
        assert!((f.progress.unwrap() - 200.0 / 3.0).abs() < 1e-9);
        assert_eq!(forecast(&p, Comparison::AtMost, 4.0, 0.0, (0.0, 8760.0)).status, GoalStatus::Missed);
        assert_eq!(forecast(&p, Comparison::AtMost, 6.0, -3.0, (0.0, 8760.0)).status, GoalStatus::Met);
        // Falling fast: the line is kept within the range.
        let f = forecast(&p, Comparison::AtMost, 4.0, 3000.0, (0.0, 8760.0));
        assert_eq!(f.forecast, Some(0.0));
    }

    #[test]
    fn one_period_forecasts_itself_and_none_is_no_data() {
        let f = forecast(&points(&[(0.0, 70.0)]), Comparison::AtLeast, 80.0, 90.0, (0.0, 100.0));
        assert_eq!((f.forecast, f.per_month, f.status), (Some(70.0), None, GoalStatus::OffTrack));
        assert_eq!(f.progress, Some(0.0));
        assert_eq!(forecast(&[], Comparison::AtLeast, 80.0, 90.0, (0.0, 100.0)).status, GoalStatus::NoData);
    }
}
