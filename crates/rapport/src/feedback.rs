//! `rapport feedback summary|themes|answers`: the survey figures (NPS,
//! CSAT and CES with their 95 % intervals, the response rate, grouped by
//! month, survey, team, staff member, segment or stage), the themes of what
//! customers wrote with their trend, and the answers themselves; as a
//! table, JSON or CSV.

use std::collections::HashMap;

use anyhow::{Result, anyhow, bail};
use clap::{Args, Subcommand};
use rapport_domain::surveys::Answer;
use rapport_domain::{PersonId, SurveyId};
use rapport_reports::feedback::{FeedbackSummary, Figures, Group, GroupBy, summary, themes};
use rapport_storage::{AnswerFilter, Store};
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

use crate::report_output::{Format, Table, day, midnight};

#[derive(Subcommand)]
pub enum FeedbackCommand {
    /// NPS, CSAT and CES with their 95 % intervals, the score distribution and the response rate.
    Summary {
        #[command(flatten)]
        scope: Scope,
        /// Rows by month, survey, team, staff, segment or stage.
        #[arg(long)]
        by: Option<String>,
    },
    /// The themes of the comments, with their trend against the period before
    /// (default: the last 90 days against the 90 before).
    Themes {
        #[command(flatten)]
        scope: Scope,
        /// Show themes with at least this many mentions in either period.
        #[arg(long, default_value_t = 3)]
        min_mentions: u64,
    },
    /// The answers, newest first.
    Answers {
        #[command(flatten)]
        scope: Scope,
        /// At most this many answers (1 to 10000).
        #[arg(long, default_value_t = 50)]
        limit: u64,
    },
}

/// What each feedback command covers, and how it prints.
#[derive(Args)]
pub struct Scope {
    /// One survey: its id, or its name.
    #[arg(long)]
    survey: Option<String>,
    /// The first day counted (YYYY-MM-DD, UTC).
    #[arg(long)]
    from: Option<String>,
    /// The last day counted (YYYY-MM-DD, UTC).
    #[arg(long)]
    to: Option<String>,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
}

/// The days a theme period lasts unless --from and --to say otherwise.
const THEME_DAYS: i64 = 90;

/// Runs a `rapport feedback` command and returns what it prints.
pub async fn run(store: &Store, command: FeedbackCommand) -> Result<String> {
    match command {
        FeedbackCommand::Summary { scope, by } => {
            let by = by.as_deref().map(GroupBy::parse).transpose().map_err(|e| anyhow!("--by {e}"))?;
            let (filter, period) = filter(store, &scope).await?;
            let figures = summary(store, &filter, by).await?;
            match scope.format {
                Format::Json => json(&figures),
                Format::Csv => summary_csv(&figures, by.is_some()),
                Format::Table => Ok(summary_table(&figures, by, &period)),
            }
        }
        FeedbackCommand::Themes { scope, min_mentions } => {
            let survey = survey(store, scope.survey.as_deref()).await?;
            let (from, to) = theme_period(&scope)?;
            let found = themes(store, survey, from, to, min_mentions).await?;
            let period = describe(Some(from), Some(to));
            match scope.format {
                Format::Json => json(&found),
                Format::Csv => {
                    let mut out = Table::new(&[
                        "key",
                        "name",
                        "mentions",
                        "share",
                        "previous_mentions",
                        "previous_share",
                        "change",
                        "p_value",
                        "trend",
                        "mean_sentiment",
                        "nps",
                        "nps_low",
                        "nps_high",
                        "nps_n",
                        "pinned",
                        "phrases",
                    ]);
                    for t in &found {
                        let nps = t.nps.map(|e| (e.value, e.low, e.high, e.n));
                        out.row(vec![
                            t.key.clone(),
                            t.name.clone(),
                            t.mentions.to_string(),
                            number(t.share, 4),
                            t.previous_mentions.to_string(),
                            number(t.previous_share, 4),
                            number(t.trend.change, 4),
                            number(t.trend.p_value, 4),
                            t.trend.direction.as_str().to_owned(),
                            number(t.mean_sentiment, 3),
                            opt(nps.map(|e| e.0), 1),
                            opt(nps.map(|e| e.1), 1),
                            opt(nps.map(|e| e.2), 1),
                            nps.map(|e| e.3.to_string()).unwrap_or_default(),
                            t.pinned.to_string(),
                            t.phrases.join("; "),
                        ]);
                    }
                    out.csv()
                }
                Format::Table => {
                    if found.is_empty() {
                        return Ok(format!(
                            "No themes with {min_mentions} or more mentions {period} (or in the {} days before).\n",
                            (to - from).whole_days()
                        ));
                    }
                    let mut out = Table::new(&["theme", "mentions", "share", "before", "trend", "sentiment", "NPS"]);
                    for t in &found {
                        let trend = format!("{} (p={:.3})", t.trend.direction.as_str(), t.trend.p_value);
                        out.row(vec![
                            format!("{}{}", t.name, if t.pinned { " *" } else { "" }),
                            t.mentions.to_string(),
                            percent(t.share),
                            format!("{} ({})", t.previous_mentions, percent(t.previous_share)),
                            trend,
                            signed(t.mean_sentiment),
                            t.nps.map(|e| nps_text(e.value, e.low, e.high, e.n)).unwrap_or_else(|| "-".into()),
                        ]);
                    }
                    Ok(format!(
                        "Themes {period}, against the {} days before\n\n{}",
                        (to - from).whole_days(),
                        out.text()
                    ))
                }
            }
        }
        FeedbackCommand::Answers { scope, limit } => {
            if !(1..=10_000).contains(&limit) {
                bail!("--limit must be between 1 and 10000");
            }
            let (filter, period) = filter(store, &scope).await?;
            let answers = store.list_answers(&filter, limit).await?;
            if scope.format == Format::Json {
                return json(&answers);
            }
            let names = Names::load(store, &answers).await?;
            if scope.format == Format::Csv {
                return answers_csv(&answers, &names);
            }
            if answers.is_empty() {
                return Ok(format!("No answers {period}.\n"));
            }
            let mut out = Table::new(&["answered", "survey", "customer", "score", "sentiment", "comment"]);
            for a in &answers {
                out.row(vec![
                    a.answered_at.date().to_string(),
                    names.survey(a),
                    names.person(a.person_id),
                    score(a),
                    match (a.sentiment, &a.sentiment_label) {
                        (Some(s), Some(label)) => format!("{label} {}", signed(s)),
                        _ => "-".into(),
                    },
                    a.comment.as_deref().map(|c| shorten(c, 60)).unwrap_or_default(),
                ]);
            }
            Ok(out.text())
        }
    }
}

fn json(value: &impl serde::Serialize) -> Result<String> {
    Ok(serde_json::to_string_pretty(value)? + "\n")
}

/// --from and --to as instants: from the first day's start to the end of the last day.
fn bounds(scope: &Scope) -> Result<(Option<OffsetDateTime>, Option<OffsetDateTime>)> {
    let from = day(scope.from.as_deref(), "--from")?;
    let to = day(scope.to.as_deref(), "--to")?;
    if let (Some(from), Some(to)) = (from, to)
        && from > to
    {
        bail!("--from must not be after --to");
    }
    Ok((from.map(midnight), to.map(|d| midnight(d) + Duration::days(1))))
}

/// The themes' period: --from to --to, or the last 90 days (ending today).
fn theme_period(scope: &Scope) -> Result<(OffsetDateTime, OffsetDateTime)> {
    let (from, to) = bounds(scope)?;
    let to = to.unwrap_or_else(|| midnight(OffsetDateTime::now_utc().date()) + Duration::days(1));
    let from = from.unwrap_or(to - Duration::days(THEME_DAYS));
    if from >= to {
        bail!("--from must be before --to");
    }
    Ok((from, to))
}

/// "from 2026-01-01 to 2026-03-31", "since …", "until …", or "of all time".
fn describe(from: Option<OffsetDateTime>, to: Option<OffsetDateTime>) -> String {
    let last = |to: OffsetDateTime| (to - Duration::days(1)).date();
    match (from, to) {
        (Some(from), Some(to)) => format!("from {} to {}", from.date(), last(to)),
        (Some(from), None) => format!("since {}", from.date()),
        (None, Some(to)) => format!("until {}", last(to)),
        (None, None) => "of all time".into(),
    }
}

/// The survey --survey names, by id or by name.
async fn survey(store: &Store, given: Option<&str>) -> Result<Option<SurveyId>> {
    let Some(given) = given.map(str::trim) else { return Ok(None) };
    let surveys = store.list_surveys().await?;
    if let Ok(id) = given.parse::<SurveyId>() {
        if surveys.iter().any(|s| s.id == id) {
            return Ok(Some(id));
        }
        bail!("--survey: no survey has the id {given}");
    }
    let named: Vec<_> = surveys.iter().filter(|s| s.fields.name.as_str().eq_ignore_ascii_case(given)).collect();
    match named.as_slice() {
        [one] => Ok(Some(one.id)),
        [] => {
            let known: Vec<String> = surveys.iter().map(|s| format!("{} ({})", s.fields.name, s.id)).collect();
            let known = if known.is_empty() { "there are no surveys yet".to_owned() } else { known.join(", ") };
            bail!("--survey: no survey is called {given:?}; give an id or a name: {known}")
        }
        _ => bail!("--survey: several surveys are called {given:?}; give its id"),
    }
}

async fn filter(store: &Store, scope: &Scope) -> Result<(AnswerFilter, String)> {
    let survey_id = survey(store, scope.survey.as_deref()).await?;
    let (from, to) = bounds(scope)?;
    Ok((AnswerFilter { survey_id, from, to, ..Default::default() }, describe(from, to)))
}

fn number(value: f64, decimals: usize) -> String {
    format!("{value:.decimals$}")
}

fn opt(value: Option<f64>, decimals: usize) -> String {
    value.map(|v| number(v, decimals)).unwrap_or_default()
}

fn percent(share: f64) -> String {
    format!("{:.0}%", share * 100.0)
}

fn signed(value: f64) -> String {
    format!("{value:+.2}")
}

fn nps_text(value: f64, low: f64, high: f64, n: u64) -> String {
    format!("NPS {value:.0} (95% CI {low:.0} to {high:.0}), n={n}")
}

fn shorten(text: &str, max: usize) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= max { flat } else { flat.chars().take(max - 1).collect::<String>() + "…" }
}

fn score(answer: &Answer) -> String {
    match (answer.score_kind, answer.score) {
        (Some(kind), Some(score)) => format!("{} {score}", kind.as_str().to_uppercase()),
        _ => "-".into(),
    }
}

/// The headline lines of a set of figures.
fn figure_lines(f: &Figures) -> Vec<String> {
    let mut lines = Vec::new();
    if let Some(e) = f.nps {
        lines.push(format!(
            "{}: {} promoters, {} passives, {} detractors",
            nps_text(e.value, e.low, e.high, e.n),
            f.promoters,
            f.passives,
            f.detractors
        ));
    }
    if let Some(e) = f.csat {
        lines.push(format!("CSAT {:.0}% satisfied (95% CI {:.0}% to {:.0}%), n={}", e.value, e.low, e.high, e.n));
    }
    if let Some(e) = f.ces {
        lines.push(format!("CES {:.1} of 7 (95% CI {:.1} to {:.1}), n={}", e.value, e.low, e.high, e.n));
    }
    if let Some(s) = f.sentiment {
        lines.push(format!("Sentiment {} (mean of {} comments, −1 to +1)", signed(s), f.comments));
    }
    lines
}

fn summary_table(s: &FeedbackSummary, by: Option<GroupBy>, period: &str) -> String {
    let mut out = format!("Feedback {period}: {} answers\n", s.total.answers);
    if s.total.answers == 0 {
        out.push_str("No answers yet in this period.\n");
    }
    for line in figure_lines(&s.total) {
        out.push_str(&format!("  {line}\n"));
    }
    match s.response_rate {
        Some(e) => out.push_str(&format!(
            "  Response rate {:.0}% (95% CI {:.0}% to {:.0}%): {} of {} links sent answered\n",
            e.value * 100.0,
            e.low * 100.0,
            e.high * 100.0,
            s.answered,
            s.sent
        )),
        None => out.push_str("  Response rate: no links sent in this period\n"),
    }
    out.push_str(&format!("  Unhappy customers followed up: {}\n", s.follow_ups.describe()));
    let scores = |counts: &[u64], low: usize| {
        counts.iter().enumerate().map(|(i, c)| format!("{}:{c}", i + low)).collect::<Vec<_>>().join(" ")
    };
    if s.total.nps.is_some() {
        out.push_str(&format!("  NPS scores   {}\n", scores(&s.distribution.nps, 0)));
    }
    if s.total.csat.is_some() {
        out.push_str(&format!("  CSAT scores  {}\n", scores(&s.distribution.csat, 1)));
    }
    if s.total.ces.is_some() {
        out.push_str(&format!("  CES scores   {}\n", scores(&s.distribution.ces, 1)));
    }
    if let Some(by) = by {
        out.push_str(&format!("\nBy {}:\n\n", by.label()));
        if s.groups.is_empty() {
            out.push_str("(no answers)\n");
            return out;
        }
        let mut table = Table::new(&[by.label(), "answers", "NPS", "95% CI", "CSAT", "CES", "sentiment"]);
        for g in &s.groups {
            let f = &g.figures;
            table.row(vec![
                g.label.clone(),
                f.answers.to_string(),
                f.nps.map(|e| format!("{:.0}", e.value)).unwrap_or_else(|| "-".into()),
                f.nps.map(|e| format!("{:.0} to {:.0}", e.low, e.high)).unwrap_or_else(|| "-".into()),
                f.csat.map(|e| format!("{:.0}%", e.value)).unwrap_or_else(|| "-".into()),
                f.ces.map(|e| format!("{:.1}", e.value)).unwrap_or_else(|| "-".into()),
                f.sentiment.map(signed).unwrap_or_else(|| "-".into()),
            ]);
        }
        out.push_str(&table.text());
    }
    out
}

fn summary_csv(s: &FeedbackSummary, grouped: bool) -> Result<String> {
    let mut out = Table::new(&[
        "key",
        "label",
        "answers",
        "nps",
        "nps_low",
        "nps_high",
        "promoters",
        "passives",
        "detractors",
        "csat",
        "csat_low",
        "csat_high",
        "csat_n",
        "ces",
        "ces_low",
        "ces_high",
        "ces_n",
        "sentiment",
        "comments",
    ]);
    let total = Group { key: "all".into(), label: "All answers".into(), figures: s.total.clone() };
    let rows = if grouped { s.groups.iter().collect::<Vec<_>>() } else { vec![&total] };
    for g in rows {
        let f = &g.figures;
        out.row(vec![
            g.key.clone(),
            g.label.clone(),
            f.answers.to_string(),
            opt(f.nps.map(|e| e.value), 2),
            opt(f.nps.map(|e| e.low), 2),
            opt(f.nps.map(|e| e.high), 2),
            f.promoters.to_string(),
            f.passives.to_string(),
            f.detractors.to_string(),
            opt(f.csat.map(|e| e.value), 2),
            opt(f.csat.map(|e| e.low), 2),
            opt(f.csat.map(|e| e.high), 2),
            f.csat.map(|e| e.n.to_string()).unwrap_or_default(),
            opt(f.ces.map(|e| e.value), 3),
            opt(f.ces.map(|e| e.low), 3),
            opt(f.ces.map(|e| e.high), 3),
            f.ces.map(|e| e.n.to_string()).unwrap_or_default(),
            opt(f.sentiment, 3),
            f.comments.to_string(),
        ]);
    }
    out.csv()
}

/// The survey and customer names the answers list shows.
struct Names {
    surveys: HashMap<SurveyId, String>,
    people: HashMap<PersonId, String>,
}

impl Names {
    async fn load(store: &Store, answers: &[Answer]) -> Result<Names> {
        let surveys = store.list_surveys().await?.into_iter().map(|s| (s.id, s.fields.name.to_string())).collect();
        let mut people = HashMap::new();
        for a in answers {
            if people.contains_key(&a.person_id) {
                continue;
            }
            let name = match store.get_person(a.person_id).await {
                Ok(p) => match &p.fields.last_name {
                    Some(last) => format!("{} {last}", p.fields.first_name),
                    None => p.fields.first_name.to_string(),
                },
                Err(_) => a.person_id.to_string(),
            };
            people.insert(a.person_id, name);
        }
        Ok(Names { surveys, people })
    }

    fn survey(&self, a: &Answer) -> String {
        self.surveys.get(&a.survey_id).cloned().unwrap_or_else(|| a.survey_id.to_string())
    }

    fn person(&self, id: PersonId) -> String {
        self.people.get(&id).cloned().unwrap_or_else(|| id.to_string())
    }
}

fn answers_csv(answers: &[Answer], names: &Names) -> Result<String> {
    let mut out = Table::new(&[
        "id",
        "answered_at",
        "survey_id",
        "survey",
        "person_id",
        "person",
        "staff_id",
        "ticket_id",
        "deal_id",
        "source",
        "score_kind",
        "score",
        "nps_group",
        "sentiment",
        "sentiment_label",
        "phrases",
        "comment",
        "external_id",
    ]);
    for a in answers {
        out.row(vec![
            a.id.to_string(),
            a.answered_at.format(&Rfc3339).unwrap_or_default(),
            a.survey_id.to_string(),
            names.survey(a),
            a.person_id.to_string(),
            names.person(a.person_id),
            a.subject.staff_id.map(|u| u.to_string()).unwrap_or_default(),
            a.subject.ticket_id.map(|t| t.to_string()).unwrap_or_default(),
            a.subject.deal_id.map(|d| d.to_string()).unwrap_or_default(),
            a.source.as_str().to_owned(),
            a.score_kind.map(|k| k.as_str().to_owned()).unwrap_or_default(),
            a.score.map(|s| s.to_string()).unwrap_or_default(),
            a.nps_group().map(|g| g.as_str().to_owned()).unwrap_or_default(),
            opt(a.sentiment, 4),
            a.sentiment_label.clone().unwrap_or_default(),
            a.phrases.join("; "),
            a.comment.clone().unwrap_or_default(),
            a.external_id.as_ref().map(|e| e.to_string()).unwrap_or_default(),
        ]);
    }
    out.csv()
}
