//! The feedback dashboard: NPS, CSAT and CES with their 95 % intervals,
//! the response rate, the figures by month and by staff member (or team,
//! segment, survey or lifecycle stage), the distribution of scores, the
//! themes with their trend, and the latest comments with their sentiment. Reads what `/api/v1/feedback/*` reads.
//! The charts above the tables are drawn by `feedback_charts`.

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::Uri;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use rapport_domain::SurveyId;
use rapport_domain::surveys::Answer;
use rapport_reports::feedback::{Answers, Figures, GroupBy};
use rapport_storage::AnswerFilter;
use rapport_text::Estimate;
use serde::Deserialize;

use super::feedback_charts::{Trend, distribution_chart, trend_chart};
use super::numbers::filters;
use super::{Chrome, Signed, WebError};
use rapport_api::AppState;
use rapport_api::error::ApiError;

pub fn routes() -> Router<AppState> {
    Router::new().route("/feedback", get(page))
}

#[derive(Deserialize, Default)]
struct PageQuery {
    by: Option<String>,
    #[serde(flatten)]
    period: PeriodQuery,
}

/// The survey and days the dashboard and its charts show, as the filter
/// form sends them.
#[derive(Deserialize, Default)]
pub(crate) struct PeriodQuery {
    survey_id: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

/// The answers a dashboard view covers: a survey (or all) and a period.
pub(crate) struct Period {
    pub survey_id: Option<SurveyId>,
    pub from: time::OffsetDateTime,
    /// The midnight after the last day shown.
    pub to: time::OffsetDateTime,
}

impl Period {
    /// Reads the query: bad days are 400, an unknown survey id 404; without
    /// days, the 90 days up to the end of today.
    pub(crate) fn parse(query: &PeriodQuery) -> Result<Period, WebError> {
        let day = |raw: &Option<String>, field: &str| -> Result<Option<time::OffsetDateTime>, WebError> {
            match raw.as_deref().map(str::trim).filter(|r| !r.is_empty()) {
                Some(r) => rapport_domain::time_input::parse(r)
                    .map(Some)
                    .map_err(|err| WebError::BadRequest(format!("{field}: {err}"))),
                None => Ok(None),
            }
        };
        let survey_id: Option<SurveyId> = match query.survey_id.as_deref().filter(|s| !s.is_empty()) {
            Some(raw) => Some(raw.parse().map_err(|_| WebError::NotFound("survey"))?),
            None => None,
        };
        // The form's "to" is the last day shown; the period ends at the next midnight.
        let last_day = day(&query.to, "to")?.map(|d| d + time::Duration::days(1));
        let (from, to) = rapport_api::endpoints::feedback::period(day(&query.from, "from")?, last_day)?;
        Ok(Period { survey_id, from, to })
    }

    pub(crate) fn filter(&self) -> AnswerFilter {
        AnswerFilter { survey_id: self.survey_id, from: Some(self.from), to: Some(self.to), ..Default::default() }
    }

    /// The last day shown.
    pub(crate) fn last_day(&self) -> time::Date {
        (self.to - time::Duration::days(1)).date()
    }

    /// The survey and days as a query string, for links and chart addresses.
    pub(crate) fn query_string(&self) -> String {
        form_urlencoded::Serializer::new(String::new())
            .append_pair("survey_id", &self.survey_id.map(|s| s.to_string()).unwrap_or_default())
            .append_pair("from", &self.from.date().to_string())
            .append_pair("to", &self.last_day().to_string())
            .finish()
    }
}

struct FiguresView {
    label: String,
    answers: u64,
    nps: String,
    csat: String,
    ces: String,
    sentiment: String,
}

struct ThemeView {
    key: String,
    /// Whether an admin's rule names or pins it.
    steered: bool,
    pinned: bool,
    name: String,
    mentions: u64,
    share: String,
    sentiment: String,
    nps: String,
    trend: &'static str,
    trend_class: &'static str,
    change: String,
}

pub struct CommentView {
    pub text: String,
    pub score: String,
    pub sentiment: String,
    pub sentiment_class: &'static str,
    pub answered: String,
    pub person_href: String,
}

#[derive(Template)]
#[template(path = "feedback.html")]
struct FeedbackPage {
    chrome: Chrome,
    surveys: Vec<(String, String, bool)>,
    from: String,
    to: String,
    total: FiguresView,
    response_rate: String,
    sent: u64,
    /// "5 of 7 done · 4 within 2 days · median 20 h", or why there is nothing to say.
    follow_ups: String,
    months: Vec<FiguresView>,
    /// The second table's grouping, and its rows.
    by: GroupBy,
    groupings: Vec<(&'static str, &'static str)>,
    groups: Vec<FiguresView>,
    /// The period and survey as a query string, for the grouping links and the charts.
    filters: String,
    charts: Charts,
    nps_distribution: Vec<(u8, u64)>,
    themes: Vec<ThemeView>,
    /// Every theme's name, to merge one into another.
    theme_names: Vec<String>,
    notes: Vec<NoteView>,
    comments: Vec<CommentView>,
    /// This dashboard with its filters: where the theme forms come back to.
    back: String,
    can_note: bool,
}

/// The charts that have something to draw, inline SVG (also served as
/// `/feedback/charts/...`).
struct Charts {
    nps_trend: Option<String>,
    csat_trend: Option<String>,
    ces_trend: Option<String>,
    nps_distribution: Option<String>,
}

/// A "you said, we did" note.
struct NoteView {
    id: String,
    theme: String,
    body: String,
    written: String,
    /// The signed-in user may remove it (its author or an admin).
    removable: bool,
}

/// "30 (2 to 58)", or "—" without answers.
fn estimate(e: &Option<Estimate>, digits: usize, unit: &str) -> String {
    match e {
        Some(e) => format!("{:.digits$}{unit} ({:.digits$} to {:.digits$})", e.value, e.low, e.high),
        None => "—".into(),
    }
}

fn figures_view(label: String, f: &Figures) -> FiguresView {
    FiguresView {
        label,
        answers: f.answers,
        nps: estimate(&f.nps, 0, ""),
        csat: estimate(&f.csat, 0, "%"),
        ces: estimate(&f.ces, 1, ""),
        sentiment: f.sentiment.map(|s| format!("{s:+.2}")).unwrap_or_else(|| "—".into()),
    }
}

fn comment_view(answer: Answer) -> Option<CommentView> {
    let text = answer.comment?;
    let sentiment = answer.sentiment.unwrap_or_default();
    Some(CommentView {
        text,
        score: match (answer.score_kind, answer.score) {
            (Some(kind), Some(score)) => format!("{} {score}", kind.as_str().to_uppercase()),
            _ => String::new(),
        },
        sentiment: format!("{sentiment:+.2}"),
        sentiment_class: match answer.sentiment_label.as_deref() {
            Some("positive") => "good",
            Some("negative") => "bad",
            _ => "neutral",
        },
        answered: answer.answered_at.date().to_string(),
        person_href: format!("/people/{}", answer.person_id),
    })
}

async fn page(
    State(state): State<AppState>,
    signed: Signed,
    Query(query): Query<PageQuery>,
    uri: Uri,
) -> Result<Response, WebError> {
    let period = Period::parse(&query.period)?;
    let Period { survey_id, from, to } = period;
    let filter = period.filter();
    // One read of the period's answers serves both tables.
    let period_answers = Answers::load(&state.store, &filter).await.map_err(ApiError::from)?;
    let by_month = period_answers.summary(&state.store, Some(GroupBy::Month)).await.map_err(ApiError::from)?;
    let by = match query.by.as_deref().filter(|b| !b.is_empty()) {
        Some(raw) => GroupBy::parse(raw).map_err(|e| WebError::BadRequest(format!("by: {e}")))?,
        None => GroupBy::Staff,
    };
    let grouped = period_answers.summary(&state.store, Some(by)).await.map_err(ApiError::from)?;
    let themes =
        rapport_reports::feedback::themes(&state.store, survey_id, from, to, 2).await.map_err(ApiError::from)?;
    let answers = state.store.list_answers(&filter, 60).await?;
    let rules = state.store.theme_rules().await?;
    let notes = state.store.theme_notes(None, 20).await?;
    let back = match uri.query() {
        Some(query) => format!("/feedback?{query}"),
        None => "/feedback".to_owned(),
    };
    let surveys = state.store.list_surveys().await?;
    let draw = |any: bool, trend: Trend| -> Result<Option<String>, WebError> {
        if any { trend_chart(trend, &by_month, &period).map(Some) } else { Ok(None) }
    };
    let view = FeedbackPage {
        chrome: signed.chrome("feedback", "Feedback"),
        surveys: surveys
            .iter()
            .map(|s| (s.id.to_string(), s.fields.name.to_string(), Some(s.id) == survey_id))
            .collect(),
        from: from.date().to_string(),
        to: period.last_day().to_string(),
        total: figures_view("All".into(), &by_month.total),
        response_rate: estimate(&by_month.response_rate.map(Estimate::percent), 0, "%"),
        sent: by_month.sent,
        follow_ups: by_month.follow_ups.describe(),
        months: by_month.groups.iter().map(|g| figures_view(g.label.clone(), &g.figures)).collect(),
        by,
        groupings: GroupBy::ALL.iter().filter(|g| **g != GroupBy::Month).map(|g| (g.as_str(), g.label())).collect(),
        groups: grouped.groups.iter().map(|g| figures_view(g.label.clone(), &g.figures)).collect(),
        filters: period.query_string(),
        charts: Charts {
            nps_trend: draw(by_month.groups.iter().any(|g| g.figures.nps.is_some()), Trend::Nps)?,
            csat_trend: draw(by_month.groups.iter().any(|g| g.figures.csat.is_some()), Trend::Csat)?,
            ces_trend: draw(by_month.groups.iter().any(|g| g.figures.ces.is_some()), Trend::Ces)?,
            nps_distribution: if by_month.distribution.nps.iter().any(|n| *n > 0) {
                Some(distribution_chart(&by_month, &period)?)
            } else {
                None
            },
        },
        nps_distribution: by_month.distribution.nps.iter().enumerate().map(|(i, n)| (i as u8, *n)).collect(),
        theme_names: themes.iter().map(|t| t.name.clone()).collect(),
        themes: themes
            .into_iter()
            .take(15)
            .map(|t| ThemeView {
                steered: rules.iter().any(|r| r.phrase == t.key),
                pinned: t.pinned,
                key: t.key,
                name: t.name,
                mentions: t.mentions,
                share: format!("{:.0}%", t.share * 100.0),
                sentiment: format!("{:+.2}", t.mean_sentiment),
                nps: t.nps.map(|e| format!("{:.0}", e.value)).unwrap_or_else(|| "—".into()),
                trend: t.trend.direction.label(),
                trend_class: t.trend.direction.as_str(),
                change: format!("{:+.0} pts (p = {:.3})", t.trend.change * 100.0, t.trend.p_value),
            })
            .collect(),
        comments: answers.into_iter().filter_map(comment_view).take(20).collect(),
        notes: notes
            .into_iter()
            .map(|n| NoteView {
                id: n.id.to_string(),
                removable: signed.actor.is_admin() || n.author_id == Some(signed.actor.user_id),
                theme: n.theme,
                body: n.body,
                written: n.created_at.date().to_string(),
            })
            .collect(),
        back,
        can_note: signed.actor.ensure_can_see_everyone().is_ok(),
    };
    Ok(Html(view.render().map_err(|_| WebError::Internal)?).into_response())
}

/// A customer's feedback on their page: latest scores and comments, and how
/// the sentiment of what they wrote moved (oldest to newest).
pub struct FeedbackPanel {
    pub answers: Vec<CommentView>,
    pub scores: Vec<String>,
    /// "−0.40 → +0.62" over their comments, when there are two or more.
    pub sentiment_trend: Option<String>,
}

impl FeedbackPanel {
    pub async fn load(state: &AppState, person: rapport_domain::PersonId) -> Result<FeedbackPanel, WebError> {
        let filter = AnswerFilter { person_id: Some(person), ..Default::default() };
        let answers = state.store.list_answers(&filter, 20).await?;
        let scores = answers
            .iter()
            .filter_map(|a| {
                Some(format!("{} {} ({})", a.score_kind?.as_str().to_uppercase(), a.score?, a.answered_at.date()))
            })
            .take(5)
            .collect();
        let sentiments: Vec<f64> = answers.iter().rev().filter_map(|a| a.sentiment).collect();
        let sentiment_trend = match sentiments.as_slice() {
            [first, .., last] => Some(format!("{first:+.2} → {last:+.2}")),
            _ => None,
        };
        Ok(FeedbackPanel {
            answers: answers.into_iter().filter_map(comment_view).take(5).collect(),
            scores,
            sentiment_trend,
        })
    }
}
