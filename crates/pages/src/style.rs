//! The staff scorecards: `/style` lists the scorecards the viewer may see
//! (their own; a manager their team's; an admin everyone's) with the five
//! dimension scores, and `/style/{user_id}` shows one person's radar chart
//! and every figure with its definition, cases, team median, rank and trend,
//! after their style profile: self view, colleagues' view and measured score
//! per dimension, the findings and the development steps to work on.
//! The charts are inline SVG with a mark per radar axis and per trend period
//! (value on hover and focus; an axis leads to its figures, a period to the
//! scorecard of its days), and also SVG files under
//! `/style/charts/{user_id}/`. Reads what
//! `GET /api/v1/style/scorecards` reads, with the same visibility.

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::get;
use rapport_domain::records::Team;
use rapport_domain::{Role, TeamId, UserId};
use rapport_insights::scorecards::Figure;
use rapport_insights::style_charts::{SparkPoint, radar_chart, sparkline};
use rapport_insights::style_profile::FindingKind;
use rapport_reports::scorecards::{
    DimensionRow, FigureRow, ScorecardReport, StaffScorecard, StyleScope, TREND_PERIODS,
};
use rapport_reports::style_profile::{StyleProfile, style_profile};
use serde::Deserialize;
use time::OffsetDateTime;

use super::settings::Stamp;
use super::svg::{chart_failed, svg};
use super::{Signed, WebError};
use rapport_api::AppState;
use rapport_api::endpoints::style::{ScorecardParams, style_period};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/style", get(list_page))
        .route("/style/{user_id}", get(person_page))
        .route("/style/charts/{user_id}/radar.svg", get(radar))
        .route("/style/charts/{user_id}/trend/{figure}", get(trend))
}

/// The period (and, on the list, the team) as the form sends them.
#[derive(Deserialize, Default)]
struct StyleQuery {
    from: Option<String>,
    to: Option<String>,
    team_id: Option<String>,
}

/// The days a scorecard covers.
struct Period {
    from: OffsetDateTime,
    /// The midnight after the last day shown.
    to: OffsetDateTime,
}

impl Period {
    /// Reads the form's days (the "to" day is the last one counted): bad
    /// days or a period the API refuses are 400; without days, the 30 days
    /// up to the end of today.
    fn parse(query: &StyleQuery) -> Result<Period, WebError> {
        let day = |raw: &Option<String>, field: &str| -> Result<Option<OffsetDateTime>, WebError> {
            match raw.as_deref().map(str::trim).filter(|r| !r.is_empty()) {
                Some(r) => rapport_domain::time_input::parse(r)
                    .map(Some)
                    .map_err(|err| WebError::BadRequest(format!("{field}: {err}"))),
                None => Ok(None),
            }
        };
        let last_day = day(&query.to, "to")?.map(|d| d + time::Duration::days(1));
        let (from, to) = style_period(day(&query.from, "from")?, last_day)?;
        Ok(Period { from, to })
    }

    fn last_day(&self) -> time::Date {
        (self.to - time::Duration::days(1)).date()
    }

    /// "2025-01-01 to 2025-01-30".
    fn describe(&self) -> String {
        format!("{} to {}", self.from.date(), self.last_day())
    }

    /// The period of the same length `back` periods before this one (the
    /// scorecard's trends are these).
    fn before(&self, back: usize) -> Period {
        let length = (self.to - self.from) * back as u32;
        Period { from: self.from - length, to: self.to - length }
    }

    /// The days as a query string, for links and chart addresses.
    fn query_string(&self) -> String {
        form_urlencoded::Serializer::new(String::new())
            .append_pair("from", &self.from.date().to_string())
            .append_pair("to", &self.last_day().to_string())
            .finish()
    }
}

/// Whose scorecards: the list's team choice, or one user; parsed as the API
/// parses its parameters.
fn scope(user_id: Option<UserId>, team_id: Option<TeamId>) -> Result<StyleScope, WebError> {
    Ok(ScorecardParams { user_id, team_id, from: None, to: None }.scope()?)
}

fn team_choice(query: &StyleQuery) -> Result<Option<TeamId>, WebError> {
    match query.team_id.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        Some(raw) => raw.parse().map(Some).map_err(|_| WebError::BadRequest("team_id: not a team".into())),
        None => Ok(None),
    }
}

fn user_in_path(raw: &str) -> Result<UserId, WebError> {
    raw.parse().map_err(|_| WebError::NotFound("scorecard"))
}

/// One person's scorecard, or 404 when they are unknown, inactive or not
/// the viewer's to see.
async fn one_scorecard(
    state: &AppState,
    signed: &Signed,
    user: UserId,
    period: &Period,
) -> Result<(ScorecardReport, StaffScorecard), WebError> {
    let mut report =
        state.scorecards.report(&state.store, &signed.actor, scope(Some(user), None)?, period.from, period.to).await?;
    let card = report.scorecards.pop().ok_or(WebError::NotFound("scorecard"))?;
    Ok((report, card))
}

fn format_score(score: Option<f64>) -> Option<String> {
    score.filter(|s| s.is_finite()).map(|s| format!("{s:.0}"))
}

/// One dimension score in a table cell or a list: the score, or why not.
struct ScoreView {
    label: &'static str,
    /// `None`: too few cases.
    score: Option<String>,
}

fn score_views(dimensions: &[DimensionRow]) -> Vec<ScoreView> {
    dimensions.iter().map(|d| ScoreView { label: d.label, score: format_score(d.score) }).collect()
}

struct RowView {
    href: String,
    name: String,
    team: String,
    scores: Vec<ScoreView>,
}

#[derive(Template)]
#[template(path = "style.html")]
struct ListPage {
    chrome: super::Chrome,
    from: String,
    to: String,
    /// Admins and managers choose a team: (id, name, chosen).
    teams: Option<Vec<(String, String, bool)>>,
    period: String,
    labels: Vec<&'static str>,
    rows: Vec<RowView>,
    min_cases: u64,
    /// When the figures were computed (they are kept a few minutes).
    computed: Stamp,
    /// Feedback requests waiting for the viewer's answer.
    open_requests: usize,
    me: String,
}

/// `/style`: the scorecards the viewer may see, one row each.
async fn list_page(
    State(state): State<AppState>,
    signed: Signed,
    Query(query): Query<StyleQuery>,
) -> Result<Response, WebError> {
    let period = Period::parse(&query)?;
    let team = team_choice(&query)?;
    let report =
        state.scorecards.report(&state.store, &signed.actor, scope(None, team)?, period.from, period.to).await?;
    let teams = match signed.actor.role {
        Role::Admin | Role::Manager => {
            let all: Vec<Team> = state.store.list_teams().await?;
            Some(
                all.into_iter()
                    .filter(|t| signed.actor.role == Role::Admin || Some(t.id) == signed.actor.team_id)
                    .map(|t| (t.id.to_string(), t.fields.name.to_string(), Some(t.id) == team))
                    .collect(),
            )
        }
        Role::Agent | Role::Viewer => None,
    };
    let filters = period.query_string();
    let view = ListPage {
        chrome: signed.chrome("style", "Style"),
        from: period.from.date().to_string(),
        to: period.last_day().to_string(),
        teams,
        period: period.describe(),
        labels: rapport_insights::scorecards::Dimension::ALL.iter().map(|d| d.label()).collect(),
        rows: report
            .scorecards
            .iter()
            .map(|card| RowView {
                href: format!("/style/{}?{filters}", card.user_id),
                name: card.name.clone(),
                team: card.team.clone().unwrap_or_else(|| "No team".into()),
                scores: score_views(&card.dimensions),
            })
            .collect(),
        min_cases: report.min_cases,
        computed: Stamp::new(report.computed_at),
        open_requests: super::style_feedback::open_requests(&state.store, &signed).await?,
        me: signed.actor.user_id.to_string(),
    };
    signed.page(&view)
}

struct FigureView {
    key: &'static str,
    label: &'static str,
    definition: &'static str,
    value: String,
    cases: u64,
    enough: bool,
    team_median: String,
    /// The rank in the team, when there are enough cases and a rank.
    rank: Option<String>,
    /// The sparkline (inline SVG), when the trend has a value.
    sparkline: Option<String>,
    /// The rank in plain words.
    rank_meaning: Option<String>,
    /// The trend in words: "12.0 h, —, 3.5 h, 4.0 h (this period)".
    trend: String,
    lower_is_better: bool,
}

struct DimensionView {
    key: &'static str,
    label: &'static str,
    score: Option<String>,
    /// The score in plain words.
    score_meaning: Option<String>,
    /// The score in the periods before and this one, in words.
    trend: String,
    figures: Vec<FigureView>,
}

#[derive(Template)]
#[template(path = "style_person.html")]
struct PersonPage {
    chrome: super::Chrome,
    name: String,
    team: String,
    from: String,
    to: String,
    period: String,
    filters: String,
    user_id: String,
    radar_alt: String,
    /// The radar (inline SVG).
    radar: String,
    dimensions: Vec<DimensionView>,
    min_cases: u64,
    periods: usize,
    computed: Stamp,
    profile: ProfileView,
}

/// One dimension seen three ways.
struct ProfileRow {
    key: &'static str,
    label: &'static str,
    self_view: Option<String>,
    colleague_view: Option<String>,
    measured: Option<String>,
}

struct FindingView {
    kind: &'static str,
    text: String,
}

struct WorkOnView {
    label: &'static str,
    steps: Vec<String>,
}

/// The style profile section of a person's page.
struct ProfileView {
    /// The viewer's own page: they may assess themselves from it.
    own: bool,
    rows: Vec<ProfileRow>,
    findings: Vec<FindingView>,
    work_on: Vec<WorkOnView>,
    self_assessed: Option<Stamp>,
    /// The round the colleagues' view comes from: its page, when, how many answered.
    colleagues: Option<(String, Stamp, u32)>,
    rounds_waiting: u32,
    ask_href: String,
}

fn rating_text(rating: Option<f64>) -> Option<String> {
    rating.filter(|r| r.is_finite()).map(|r| format!("{r:.1}/5"))
}

fn profile_view(profile: &StyleProfile, signed: &Signed) -> ProfileView {
    ProfileView {
        own: profile.user_id == signed.actor.user_id,
        rows: profile
            .dimensions
            .iter()
            .map(|d| ProfileRow {
                key: d.dimension.as_str(),
                label: d.label,
                self_view: rating_text(d.self_rating),
                colleague_view: rating_text(d.colleague_rating),
                measured: format_score(d.measured),
            })
            .collect(),
        findings: profile
            .findings
            .iter()
            .map(|f| FindingView {
                kind: match f.kind {
                    FindingKind::Gap => "Gap",
                    FindingKind::HiddenStrength => "Hidden strength",
                    FindingKind::Strength => "Strength",
                },
                text: f.text.clone(),
            })
            .collect(),
        work_on: profile
            .work_on
            .iter()
            .map(|d| WorkOnView {
                label: d.label(),
                steps: profile.steps.iter().filter(|s| s.dimension == *d).map(|s| s.text.clone()).collect(),
            })
            .collect(),
        self_assessed: profile.self_assessment.as_ref().map(|a| Stamp::day(a.created_at)),
        colleagues: profile
            .colleagues
            .as_ref()
            .map(|c| (format!("/style/feedback/rounds/{}", c.round_id), Stamp::day(c.created_at), c.answered)),
        rounds_waiting: profile.rounds_waiting,
        ask_href: format!("/style/feedback?subject={}#ask", profile.user_id),
    }
}

/// "a, b, c, d (this period)".
fn trend_words(values: &[Option<f64>], format: impl Fn(Option<f64>) -> String) -> String {
    let words: Vec<String> = values.iter().map(|v| format(*v)).collect();
    format!("{} (this period)", words.join(", "))
}

/// A percentile rank in words: "ahead of 62 % of the team".
fn rank_words(rank: f64) -> String {
    format!("ahead of {rank:.0} % of the team (ties count half)")
}

/// A figure's sparkline: each period a mark with its days and value, leading
/// to the scorecard of those days at the figure's row.
fn sparkline_svg(row: &FigureRow, user: UserId, period: &Period) -> Result<String, WebError> {
    let periods = row.trend.len();
    let points: Vec<SparkPoint> = row
        .trend
        .iter()
        .enumerate()
        .map(|(i, value)| {
            let days = period.before(periods - 1 - i);
            let this = if i + 1 == periods { " (this period)" } else { "" };
            let shown = if value.is_some_and(f64::is_finite) { row.unit.format(*value) } else { "no value".into() };
            SparkPoint {
                value: *value,
                title: format!("{}, {}{this}: {shown}", row.label, days.describe()),
                href: Some(format!("/style/{user}?{}#figure-{}", days.query_string(), row.figure.as_str())),
            }
        })
        .collect();
    sparkline(&points, row.lower_is_better).map_err(chart_failed)
}

/// The radar of a card's dimension scores, each axis leading to its
/// dimension's figures on the person's page.
fn radar_svg(card: &StaffScorecard, period: &Period) -> Result<String, WebError> {
    let axes: Vec<(&str, Option<f64>)> = card.dimensions.iter().map(|d| (d.label, d.score)).collect();
    let title = format!("{}, {}", card.name, period.describe());
    let filters = period.query_string();
    radar_chart(&title, &axes, |i| {
        card.dimensions
            .get(i)
            .map(|d| format!("/style/{}?{filters}#style-{}-heading", card.user_id, d.dimension.as_str()))
    })
    .map_err(chart_failed)
}

fn figure_view(row: &FigureRow, user: UserId, period: &Period) -> Result<FigureView, WebError> {
    let unit = row.unit;
    let rank = if row.enough { row.rank.filter(|r| r.is_finite()) } else { None };
    Ok(FigureView {
        key: row.figure.as_str(),
        label: row.label,
        definition: row.definition,
        value: unit.format(row.value),
        cases: row.cases,
        enough: row.enough,
        team_median: unit.format(row.team_median),
        rank: format_score(rank),
        rank_meaning: rank.map(rank_words),
        sparkline: match row.trend.iter().any(|v| v.is_some()) {
            true => Some(sparkline_svg(row, user, period)?),
            false => None,
        },
        trend: trend_words(&row.trend, |v| unit.format(v)),
        lower_is_better: row.lower_is_better,
    })
}

/// `/style/{user_id}`: one person's scorecard; 404 unless the viewer may see it.
async fn person_page(
    State(state): State<AppState>,
    signed: Signed,
    Path(user): Path<String>,
    Query(query): Query<StyleQuery>,
) -> Result<Response, WebError> {
    let user = user_in_path(&user)?;
    let period = Period::parse(&query)?;
    // The profile holds the scorecard: computed once for both.
    let report =
        state.scorecards.report(&state.store, &signed.actor, scope(Some(user), None)?, period.from, period.to).await?;
    let computed = Stamp::new(report.computed_at);
    let profile = style_profile(&state.store, &signed.actor, report).await.map_err(|err| match err {
        rapport_storage::StorageError::NotFound(_) => WebError::NotFound("scorecard"),
        other => other.into(),
    })?;
    let card = &profile.scorecard;
    let filters = period.query_string();
    let scores = score_views(&card.dimensions);
    let radar_alt = format!(
        "Radar chart of {}'s five dimension scores, each a percentile rank in their team from 0 to 100 (50 is the team median): {}.",
        card.name,
        scores
            .iter()
            .map(|s| format!("{} {}", s.label, s.score.as_deref().unwrap_or("too few cases")))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let mut dimensions = Vec::with_capacity(card.dimensions.len());
    for d in &card.dimensions {
        let score = d.score.filter(|s| s.is_finite());
        dimensions.push(DimensionView {
            key: d.dimension.as_str(),
            label: d.label,
            score: format_score(score),
            score_meaning: score
                .map(|s| format!("On average {}, over the figures below with enough cases.", rank_words(s))),
            trend: trend_words(&d.trend, |v| format_score(v).unwrap_or_else(|| "—".into())),
            figures: card
                .figures
                .iter()
                .filter(|f| f.dimension == d.dimension)
                .map(|f| figure_view(f, card.user_id, &period))
                .collect::<Result<_, _>>()?,
        });
    }
    let view = PersonPage {
        chrome: signed.chrome("style", format!("{} · Style", card.name)),
        name: card.name.clone(),
        team: card.team.clone().unwrap_or_else(|| "No team".into()),
        from: period.from.date().to_string(),
        to: period.last_day().to_string(),
        period: period.describe(),
        user_id: card.user_id.to_string(),
        radar_alt,
        radar: radar_svg(card, &period)?,
        dimensions,
        min_cases: rapport_insights::scorecards::MIN_CASES,
        computed,
        periods: TREND_PERIODS + 1,
        filters,
        profile: profile_view(&profile, &signed),
    };
    signed.page(&view)
}

/// `/style/charts/{user_id}/radar.svg`: the five dimension scores.
async fn radar(
    State(state): State<AppState>,
    signed: Signed,
    Path(user): Path<String>,
    Query(query): Query<StyleQuery>,
) -> Result<Response, WebError> {
    let user = user_in_path(&user)?;
    let period = Period::parse(&query)?;
    let (_, card) = one_scorecard(&state, &signed, user, &period).await?;
    Ok(svg(radar_svg(&card, &period)?, None))
}

/// `/style/charts/{user_id}/trend/{figure}.svg`: one figure over the periods
/// before and this one.
async fn trend(
    State(state): State<AppState>,
    signed: Signed,
    Path((user, figure)): Path<(String, String)>,
    Query(query): Query<StyleQuery>,
) -> Result<Response, WebError> {
    let user = user_in_path(&user)?;
    let figure = figure.strip_suffix(".svg").and_then(Figure::parse).ok_or(WebError::NotFound("chart"))?;
    let period = Period::parse(&query)?;
    let (_, card) = one_scorecard(&state, &signed, user, &period).await?;
    let row = card.figures.iter().find(|f| f.figure == figure).ok_or(WebError::NotFound("chart"))?;
    Ok(svg(sparkline_svg(row, user, &period)?, None))
}

#[cfg(test)]
mod tests {
    use rapport_insights::scorecards::Unit;

    #[test]
    fn values_are_written_in_their_unit() {
        assert_eq!(Unit::Hours.format(Some(3.46)), "3.5 h");
        assert_eq!(Unit::Days.format(Some(12.2)), "12 d");
        assert_eq!(Unit::Percent.format(Some(75.0)), "75 %");
        assert_eq!(Unit::Nps.format(Some(20.0)), "+20");
        assert_eq!(Unit::Nps.format(Some(-5.0)), "-5");
        assert_eq!(Unit::Sentiment.format(Some(0.421)), "+0.42");
        assert_eq!(Unit::Count.format(Some(2.0)), "2.0");
        assert_eq!(Unit::Count.format(None), "—");
        assert_eq!(Unit::Hours.format(Some(f64::NAN)), "—");
    }
}
