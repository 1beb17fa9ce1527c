//! `rapport sales report`: the sales dashboard's figures (win rate and
//! sales cycle by owner, source and stage, the weighted forecast, activity
//! per staff member) as tables, JSON or CSV. The command line sees every
//! deal, as every staff member does.

use anyhow::{Result, anyhow, bail};
use clap::Subcommand;
use rapport_domain::Currency;
use rapport_domain::money::display_sum;
use rapport_domain::sales::{SalesReportQuery, SalesReportRequest};
use rapport_insights::sales::{ClosedGroup, ForecastBucket, SalesFigures, sales_figures};
use rapport_storage::Store;
use time::OffsetDateTime;

use crate::report_output::{Format, Table};

#[derive(Subcommand)]
pub enum SalesCommand {
    /// Win rate and sales cycle by owner, lead source and stage for the deals
    /// closed in the period, the weighted forecast of open deals by expected
    /// close month, and activity per staff member.
    Report {
        /// The first day counted (YYYY-MM-DD, UTC; default: 89 days before --to).
        #[arg(long)]
        from: Option<String>,
        /// The last day counted (YYYY-MM-DD, UTC; default: today).
        #[arg(long)]
        to: Option<String>,
        /// Only this pipeline, by name (default: every pipeline).
        #[arg(long)]
        pipeline: Option<String>,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
}

pub async fn run(store: &Store, command: SalesCommand) -> Result<String> {
    let SalesCommand::Report { from, to, pipeline, format } = command;
    let pipeline_id = match pipeline {
        None => None,
        Some(name) => {
            let pipelines = store.list_pipelines().await?;
            let found = pipelines.iter().find(|p| p.name.as_str().eq_ignore_ascii_case(name.trim()));
            match found {
                Some(p) => Some(p.id.to_string()),
                None => {
                    let names: Vec<&str> = pipelines.iter().map(|p| p.name.as_str()).collect();
                    bail!("--pipeline: no pipeline is called {name:?} (there are: {})", names.join(", "))
                }
            }
        }
    };
    let today = OffsetDateTime::now_utc().date();
    let query = SalesReportQuery { from: from.as_deref(), to: to.as_deref(), pipeline_id: pipeline_id.as_deref() };
    let request = SalesReportRequest::parse(&query, today).map_err(|errors| {
        let named: Vec<String> = errors.iter().map(|(field, message)| format!("--{field}: {message}")).collect();
        anyhow!(named.join("; "))
    })?;
    let figures = sales_figures(&store.sales_facts(&request, today).await?);
    match format {
        Format::Json => Ok(serde_json::to_string_pretty(&figures)? + "\n"),
        Format::Table => Ok(text(&figures)),
        Format::Csv => csv(&figures),
    }
}

fn share(value: Option<f64>) -> String {
    value.map_or("no closed deals".to_owned(), |v| format!("{:.0}%", v * 100.0))
}

fn days(value: Option<f64>) -> String {
    value.map_or(String::new(), |d| format!("{d:.1}"))
}

fn money(amount_minor: i64, currency: &str) -> String {
    Currency::parse(currency).map_or_else(|_| amount_minor.to_string(), |c| display_sum(i128::from(amount_minor), c))
}

fn bucket(row: &rapport_insights::sales::ForecastRow) -> String {
    match row.bucket {
        ForecastBucket::Overdue => "overdue".into(),
        ForecastBucket::Month => row.month.clone().unwrap_or_default(),
        ForecastBucket::Later => "later".into(),
        ForecastBucket::NoDate => "no date".into(),
    }
}

/// One table per figure; CSV puts them in one with a `table` column.
fn tables(figures: &SalesFigures) -> Vec<(&'static str, Table)> {
    let closed = |groups: &[ClosedGroup], first: &str| {
        let mut table = Table::new(&[first, "won", "lost", "win rate", "median cycle days", "mean cycle days"]);
        for g in groups {
            table.row(vec![
                g.label.clone(),
                g.won.to_string(),
                g.lost.to_string(),
                share(g.win_rate),
                days(g.median_cycle_days),
                days(g.mean_cycle_days),
            ]);
        }
        table
    };
    let mut stages = Table::new(&[
        "stage",
        "probability",
        "reached",
        "won of those",
        "median days in stage",
        "won here",
        "lost here",
    ]);
    for s in &figures.by_stage {
        stages.row(vec![
            format!("{} · {}", s.pipeline, s.stage),
            format!("{}%", s.win_probability),
            s.reached.to_string(),
            share(s.won_share),
            days(s.median_days_in_stage),
            s.won_here.to_string(),
            s.lost_here.to_string(),
        ]);
    }
    let mut forecast = Table::new(&["expected close", "currency", "deals", "amount", "weighted"]);
    for r in figures.forecast.iter().filter(|r| r.deals > 0) {
        forecast.row(vec![
            bucket(r),
            r.currency.clone(),
            r.deals.to_string(),
            money(r.amount_minor, &r.currency),
            money(r.weighted_minor, &r.currency),
        ]);
    }
    let mut activity =
        Table::new(&["staff member", "calls", "emails", "meetings", "notes", "messages", "tasks done", "total"]);
    for a in &figures.activity {
        activity.row(vec![
            a.name.clone(),
            a.calls.to_string(),
            a.emails.to_string(),
            a.meetings.to_string(),
            a.notes.to_string(),
            a.messages.to_string(),
            a.tasks_done.to_string(),
            a.total.to_string(),
        ]);
    }
    vec![
        ("all deals", closed(std::slice::from_ref(&figures.overall), "deals")),
        ("by owner", closed(&figures.by_owner, "owner")),
        ("by source", closed(&figures.by_source, "source")),
        ("by stage", stages),
        ("forecast", forecast),
        ("activity", activity),
    ]
}

fn text(figures: &SalesFigures) -> String {
    let mut out = format!(
        "Sales from {} to {} (win rate: of the deals closed in the period, the share won; forecast: open deals' amounts times their stage's win probability)\n",
        figures.from, figures.to
    );
    for (title, table) in tables(figures) {
        out.push_str(&format!("\n{}\n{}", title[..1].to_uppercase() + &title[1..], table.text()));
    }
    out
}

fn csv(figures: &SalesFigures) -> Result<String> {
    let mut out = String::new();
    for (title, table) in tables(figures) {
        out.push_str(&format!("# {title}\n{}", table.csv()?));
    }
    Ok(out)
}
