//! `/style/review`: the monthly style review the viewer gets (an admin the
//! business's, a manager their team's, anyone else their own): what improved
//! and what got worse against the month before, the goals, the customers won
//! back and lost, and the feedback themes. Printable (the print stylesheet
//! leaves the content alone); the same review is mailed to managers monthly.

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::get;
use rapport_domain::records::now;
use rapport_reports::review::{FigureChange, MonthlyReview, month_start, monthly_review, parse_month, previous_month};
use serde::Deserialize;

use super::{Signed, WebError};
use rapport_api::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/style/review", get(review_page))
}

#[derive(Deserialize, Default)]
struct ReviewQuery {
    month: Option<String>,
}

struct ChangeView {
    label: &'static str,
    before: String,
    now: String,
}

fn change_views(list: &[FigureChange]) -> Vec<ChangeView> {
    list.iter()
        .map(|c| ChangeView { label: c.label, before: c.unit.format(Some(c.before)), now: c.unit.format(Some(c.now)) })
        .collect()
}

struct GoalLine {
    title: String,
    scope_name: String,
    current: String,
    status: String,
}

#[derive(Template)]
#[template(path = "style_review.html")]
struct ReviewPage {
    chrome: super::Chrome,
    review: MonthlyReview,
    improved: Vec<ChangeView>,
    worse: Vec<ChangeView>,
    goals: Vec<GoalLine>,
    /// The month before and after, for the links (`YYYY-MM`).
    earlier: String,
    later: Option<String>,
}

async fn review_page(
    State(state): State<AppState>,
    signed: Signed,
    Query(query): Query<ReviewQuery>,
) -> Result<Response, WebError> {
    let today = now().date();
    let first = parse_month(query.month.as_deref(), today).map_err(|e| WebError::BadRequest(format!("month: {e}")))?;
    let churn_days = state.insights.settings().churn_days;
    let review = monthly_review(&state.store, &signed.actor, first, today, churn_days)
        .await
        .map_err(rapport_api::error::ApiError::from)?;
    let label = |day: time::Date| format!("{}-{:02}", day.year(), u8::from(day.month()));
    let next = month_start(first + time::Duration::days(31));
    let page = ReviewPage {
        chrome: signed.chrome("style", format!("Review {}", review.month)),
        improved: change_views(&review.improved),
        worse: change_views(&review.worse),
        goals: review
            .goals
            .iter()
            .map(|g| GoalLine {
                title: g.title.clone(),
                scope_name: g.goal.scope_name.clone(),
                current: g.unit.format(g.forecast.current),
                status: g.forecast.status.label().to_lowercase(),
            })
            .collect(),
        earlier: label(previous_month(first)),
        later: (next <= month_start(today)).then(|| label(next)),
        review,
    };
    signed.page(&page)
}
