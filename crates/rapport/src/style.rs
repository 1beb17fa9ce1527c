//! `rapport style scorecard`, `profile`, `questions`, `ask`, `goals` and
//! `review`: staff scorecards over a period (every active staff member, one
//! by email, or one team by name), profiles, feedback rounds, goals with
//! their forecast and the monthly review, as a table, JSON or CSV. The
//! command line sees everyone, as an admin does.

use anyhow::{Result, bail};
use clap::Subcommand;
use rapport_domain::style_feedback::FeedbackRoundInput;
use rapport_domain::{Actor, Email};
use rapport_insights::scorecards::Unit;
use rapport_reports::goals::goal_report;
use rapport_reports::review::{monthly_review, parse_month};
use rapport_reports::scorecards::{FigureRow, ScorecardReport, StyleScope, scorecard_report};
use rapport_reports::style_profile::style_profile;
use rapport_storage::Store;
use time::{Duration, OffsetDateTime};

use crate::report_output::{Format, Table, day, midnight};

#[derive(Subcommand)]
pub enum StyleCommand {
    /// What each staff member actually did with customers: responsiveness,
    /// follow-through, proactivity, personal touch and outcomes, each figure
    /// beside the team median, with its trend over the three periods before.
    Scorecard {
        /// One staff member, by email.
        #[arg(long, conflicts_with = "team")]
        user: Option<String>,
        /// One team, by name.
        #[arg(long)]
        team: Option<String>,
        /// The first day counted (YYYY-MM-DD, UTC; default: 30 days before --to).
        #[arg(long)]
        from: Option<String>,
        /// The last day counted (YYYY-MM-DD, UTC; default: today).
        #[arg(long)]
        to: Option<String>,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// One staff member's style profile: per dimension their own rating,
    /// their colleagues' and the measured score; findings; steps to take.
    Profile {
        /// The staff member, by email.
        #[arg(long)]
        user: String,
        /// The first day counted (YYYY-MM-DD, UTC; default: 30 days before --to).
        #[arg(long)]
        from: Option<String>,
        /// The last day counted (YYYY-MM-DD, UTC; default: today).
        #[arg(long)]
        to: Option<String>,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// The questions of self-assessments and colleague feedback.
    Questions {
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Asks at least three colleagues for feedback on a staff member.
    Ask {
        /// Whose style the colleagues are asked about, by email.
        #[arg(long)]
        subject: String,
        /// A colleague to ask, by email (at least three).
        #[arg(long = "colleague")]
        colleagues: Vec<String>,
        /// Days the round stays open (1 to 90).
        #[arg(long, default_value_t = rapport_domain::style_feedback::DEFAULT_ROUND_DAYS)]
        days: u16,
    },
    /// Every goal with its value now, the forecast on its due day and its status.
    Goals {
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// The business's monthly review: figures that improved and got worse,
    /// goals, customers won back and lost, feedback themes.
    Review {
        /// The month, YYYY-MM (default: last month).
        #[arg(long)]
        month: Option<String>,
        /// Customers silent this many days count as lost (the insights' churn window).
        #[arg(long, default_value_t = 90)]
        churn_days: u32,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
}

/// Runs a `rapport style` command and returns what it prints.
pub async fn run(store: &Store, command: StyleCommand) -> Result<String> {
    match command {
        StyleCommand::Scorecard { user, team, from, to, format } => {
            scorecards(store, user, team, from, to, format).await
        }
        StyleCommand::Profile { user, from, to, format } => profile(store, &user, from, to, format).await,
        StyleCommand::Questions { format } => questions(store, format).await,
        StyleCommand::Ask { subject, colleagues, days } => ask(store, &subject, &colleagues, days).await,
        StyleCommand::Goals { format } => goals(store, format).await,
        StyleCommand::Review { month, churn_days, format } => review(store, month.as_deref(), churn_days, format).await,
    }
}

async fn goals(store: &Store, format: Format) -> Result<String> {
    let report = goal_report(store, &Actor::system(), rapport_domain::records::now().date()).await?;
    if format == Format::Json {
        return Ok(serde_json::to_string_pretty(&report)? + "\n");
    }
    let mut table = Table::new(&["goal", "for", "now", "forecast", "progress", "status"]);
    for goal in &report {
        table.row(vec![
            goal.title.clone(),
            goal.goal.scope_name.clone(),
            goal.unit.format(goal.forecast.current),
            goal.unit.format(goal.forecast.forecast),
            goal.forecast.progress.map(|p| format!("{p:.0} %")).unwrap_or_else(|| "—".into()),
            goal.forecast.status.label().to_owned(),
        ]);
    }
    if format == Format::Csv { table.csv() } else { Ok(table.text()) }
}

async fn review(store: &Store, month: Option<&str>, churn_days: u32, format: Format) -> Result<String> {
    let today = rapport_domain::records::now().date();
    let first = parse_month(month, today).map_err(|e| anyhow::anyhow!("--month: {e}"))?;
    let review = monthly_review(store, &Actor::system(), first, today, churn_days).await?;
    match format {
        Format::Json => Ok(serde_json::to_string_pretty(&review)? + "\n"),
        Format::Table => Ok(rapport_jobs::review::review_email(&review).1),
        Format::Csv => bail!("--format: the review prints as a table or JSON"),
    }
}

/// The active staff member with the email `raw`, for `flag`.
async fn staff(store: &Store, raw: &str, flag: &str) -> Result<rapport_domain::UserId> {
    let Ok(email) = Email::parse(raw) else { bail!("{flag}: {raw:?} is not an email address") };
    match store.find_user_by_email(&email).await? {
        Some(user) if user.fields.active => Ok(user.id),
        Some(_) => bail!("{flag}: {email} is deactivated"),
        None => bail!("{flag}: no staff member has the email {email}"),
    }
}

fn rating(v: Option<f64>, digits: usize) -> String {
    v.map(|v| format!("{v:.digits$}")).unwrap_or_else(|| "—".into())
}

async fn profile(
    store: &Store,
    user: &str,
    from: Option<String>,
    to: Option<String>,
    format: Format,
) -> Result<String> {
    let user = staff(store, user, "--user").await?;
    let (from, to) = period(from.as_deref(), to.as_deref())?;
    let report = scorecard_report(store, &Actor::system(), StyleScope::User(user), from, to).await?;
    let profile = style_profile(store, &Actor::system(), report).await?;
    if format == Format::Json {
        return Ok(serde_json::to_string_pretty(&profile)? + "\n");
    }
    let mut out = format!(
        "Style profile of {} from {} to {}\n\n",
        profile.name,
        profile.from.date(),
        (profile.to - Duration::days(1)).date()
    );
    let mut table = Table::new(&["dimension", "self (1-5)", "colleagues (1-5)", "measured (0-100)"]);
    for d in &profile.dimensions {
        table.row(vec![
            d.label.to_owned(),
            rating(d.self_rating, 1),
            rating(d.colleague_rating, 1),
            rating(d.measured, 0),
        ]);
    }
    out.push_str(&table.text());
    out.push_str("\nFindings:\n");
    if profile.findings.is_empty() {
        out.push_str("  none yet\n");
    }
    for finding in &profile.findings {
        out.push_str(&format!("  - {}\n", finding.text));
    }
    out.push_str("\nSteps:\n");
    if profile.steps.is_empty() {
        out.push_str("  none suggested\n");
    }
    for step in &profile.steps {
        out.push_str(&format!("  - [{}] {}\n", step.dimension.label(), step.text));
    }
    if profile.rounds_waiting > 0 {
        out.push_str(&format!("\n{} feedback round(s) still waiting for three answers.\n", profile.rounds_waiting));
    }
    Ok(out)
}

async fn questions(store: &Store, format: Format) -> Result<String> {
    let questionnaire = store.style_questionnaire().await?;
    if format == Format::Json {
        return Ok(serde_json::to_string_pretty(&questionnaire)? + "\n");
    }
    let mut table = Table::new(&["key", "dimension", "question"]);
    for q in &questionnaire.questions {
        table.row(vec![q.key.as_str().to_owned(), q.dimension.label().to_owned(), q.text.to_string()]);
    }
    Ok(match format {
        Format::Csv => table.csv()?,
        _ => table.text(),
    })
}

async fn ask(store: &Store, subject: &str, colleagues: &[String], days: u16) -> Result<String> {
    let subject = staff(store, subject, "--subject").await?;
    let min = rapport_domain::style_feedback::MIN_COLLEAGUE_ANSWERS as usize;
    if colleagues.len() < min {
        bail!("--colleague: ask at least {min} colleagues (results show only from {min} answers)");
    }
    let mut ids = Vec::new();
    for colleague in colleagues {
        ids.push(staff(store, colleague, "--colleague").await?);
    }
    let input = FeedbackRoundInput { subject_id: subject, colleague_ids: ids, open_days: Some(days), note: None };
    let round = match store.create_feedback_round(&Actor::system(), input).await {
        Ok(round) => round,
        Err(err) => bail!("cannot ask for feedback: {err}"),
    };
    Ok(format!(
        "Asked {} colleagues about {} until {} (round {}).\n",
        round.asked,
        round.subject_name,
        round.closes_at.date(),
        round.id
    ))
}

async fn scorecards(
    store: &Store,
    user: Option<String>,
    team: Option<String>,
    from: Option<String>,
    to: Option<String>,
    format: Format,
) -> Result<String> {
    let scope = scope(store, user.as_deref(), team.as_deref()).await?;
    let (from, to) = period(from.as_deref(), to.as_deref())?;
    let report = scorecard_report(store, &Actor::system(), scope, from, to).await?;
    match format {
        Format::Json => Ok(serde_json::to_string_pretty(&report)? + "\n"),
        Format::Csv => csv(&report),
        Format::Table => Ok(text(&report)),
    }
}

async fn scope(store: &Store, user: Option<&str>, team: Option<&str>) -> Result<StyleScope> {
    if let Some(raw) = user {
        let Ok(email) = Email::parse(raw) else { bail!("--user: {raw:?} is not an email address") };
        return match store.find_user_by_email(&email).await? {
            Some(user) if user.fields.active => Ok(StyleScope::User(user.id)),
            Some(_) => bail!("--user: {email} is deactivated and has no scorecard"),
            None => bail!("--user: no staff member has the email {email}"),
        };
    }
    if let Some(name) = team {
        let teams = store.list_teams().await?;
        return match teams.iter().find(|t| t.fields.name.as_str().eq_ignore_ascii_case(name.trim())) {
            Some(team) => Ok(StyleScope::Team(team.id)),
            None => {
                let known: Vec<&str> = teams.iter().map(|t| t.fields.name.as_str()).collect();
                let known = if known.is_empty() { "there are no teams yet".to_owned() } else { known.join(", ") };
                bail!("--team: no team is called {name:?}: {known}")
            }
        };
    }
    Ok(StyleScope::Visible)
}

/// --from and --to (both days counted) as `[from, to)`, at most a year.
fn period(from: Option<&str>, to: Option<&str>) -> Result<(OffsetDateTime, OffsetDateTime)> {
    let today = OffsetDateTime::now_utc().date();
    let to = midnight(day(to, "--to")?.unwrap_or(today)) + Duration::days(1);
    let from = match day(from, "--from")? {
        Some(from) => midnight(from),
        None => to - Duration::days(30),
    };
    if from >= to {
        bail!("--from must not be after --to");
    }
    if to - from > Duration::days(366) {
        bail!("--from: a scorecard covers at most a year");
    }
    Ok((from, to))
}

/// A figure's value in its unit: "3.5 h", "12 d", "75%", "+20", "+0.42".
fn value(unit: Unit, value: Option<f64>) -> String {
    let Some(v) = value else { return "—".into() };
    match unit {
        Unit::Hours => format!("{v:.1} h"),
        Unit::Days => format!("{v:.1} d"),
        Unit::Percent => format!("{v:.0}%"),
        Unit::Count => format!("{v:.1}"),
        Unit::Nps => format!("{v:+.0}"),
        Unit::Sentiment => format!("{v:+.2}"),
    }
}

fn rank(row: &FigureRow) -> String {
    match (row.rank, row.enough) {
        (Some(rank), _) => format!("{rank:.0}"),
        (None, false) if row.cases > 0 => format!("too few cases ({})", row.cases),
        _ => "—".into(),
    }
}

fn text(report: &ScorecardReport) -> String {
    let mut out = format!(
        "Scorecards from {} to {} (ranks are percentiles in the team: 50 is the team median; a figure needs {} cases to be ranked)\n",
        report.from.date(),
        (report.to - Duration::days(1)).date(),
        report.min_cases
    );
    if report.scorecards.is_empty() {
        out.push_str("No active staff member in this scope.\n");
    }
    for card in &report.scorecards {
        let team = card.team.as_deref().unwrap_or("no team");
        out.push_str(&format!("\n{} <{}> · {team}\n", card.name, card.email));
        let scores: Vec<String> = card
            .dimensions
            .iter()
            .map(|d| format!("{} {}", d.label, d.score.map(|s| format!("{s:.0}")).unwrap_or_else(|| "—".into())))
            .collect();
        out.push_str(&format!("{}\n\n", scores.join(" · ")));
        let mut table =
            Table::new(&["figure", "value", "cases", "team median", "rank", "trend (3 periods before → now)"]);
        for row in &card.figures {
            let trend: Vec<String> = row.trend.iter().map(|v| value(row.unit, *v)).collect();
            table.row(vec![
                row.label.to_owned(),
                value(row.unit, row.value),
                row.cases.to_string(),
                value(row.unit, row.team_median),
                rank(row),
                trend.join(" → "),
            ]);
        }
        out.push_str(&table.text());
    }
    out
}

fn csv(report: &ScorecardReport) -> Result<String> {
    let mut table = Table::new(&[
        "email",
        "name",
        "team",
        "dimension",
        "figure",
        "value",
        "cases",
        "enough",
        "team_median",
        "rank",
        "period_minus_3",
        "period_minus_2",
        "period_minus_1",
    ]);
    let number = |v: Option<f64>| v.map(|v| format!("{v:.4}")).unwrap_or_default();
    for card in &report.scorecards {
        for row in &card.figures {
            let mut cells = vec![
                card.email.clone(),
                card.name.clone(),
                card.team.clone().unwrap_or_default(),
                row.dimension.as_str().to_owned(),
                row.figure.as_str().to_owned(),
                number(row.value),
                row.cases.to_string(),
                row.enough.to_string(),
                number(row.team_median),
                number(row.rank),
            ];
            cells.extend(row.trend.iter().take(row.trend.len().saturating_sub(1)).map(|v| number(*v)));
            table.row(cells);
        }
    }
    table.csv()
}
