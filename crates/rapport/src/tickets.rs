//! `rapport tickets list` (the support queues) and `rapport tickets
//! sla-report` (targets met per agent, team, priority or month).

use anyhow::{Result, bail};
use clap::{Subcommand, ValueEnum};
use rapport_domain::sla_events::SlaGrouping;
use rapport_domain::tickets::{Ticket, TicketPriority, TicketStatus};
use rapport_storage::{ListQuery, Store, TicketFilter, TicketQueue};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

#[derive(Subcommand)]
pub enum TicketsCommand {
    /// Tickets, most recently changed first.
    List {
        /// mine, team, unassigned, due-soon or breached (as the user of --as).
        #[arg(long, value_enum)]
        queue: Option<Queue>,
        /// new, open, pending, solved or closed.
        #[arg(long)]
        status: Option<String>,
        /// low, normal, high or urgent.
        #[arg(long)]
        priority: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: u64,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
        /// See the tickets as this staff member sees them (default: the first admin).
        #[arg(long = "as")]
        as_user: Option<String>,
    },
    /// The share of response targets met in a period, per group.
    SlaReport {
        /// agent, team, priority or month.
        #[arg(long, default_value = "agent")]
        by: String,
        /// The first day counted (YYYY-MM-DD, UTC; default: 90 days ago).
        #[arg(long)]
        from: Option<String>,
        /// The last day counted (YYYY-MM-DD, UTC; default: today).
        #[arg(long)]
        to: Option<String>,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Queue {
    Mine,
    Team,
    Unassigned,
    DueSoon,
    Breached,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Json,
}

fn time(at: Option<OffsetDateTime>) -> String {
    at.and_then(|at| at.format(&Rfc3339).ok()).unwrap_or_else(|| "-".into())
}

/// The nearest target still to meet.
fn next_due(ticket: &Ticket) -> Option<OffsetDateTime> {
    let clocks = &ticket.clocks;
    let first = clocks.first_response_due.filter(|_| clocks.first_responded_at.is_none());
    [first, clocks.next_response_due, clocks.resolution_due.filter(|_| clocks.solved_at.is_none())]
        .into_iter()
        .flatten()
        .min()
}

/// Runs a `rapport tickets` command and returns what it prints.
pub async fn run(store: &Store, command: TicketsCommand) -> Result<String> {
    match command {
        TicketsCommand::List { queue, status, priority, limit, format, as_user } => {
            list(store, queue, status, priority, limit, format, as_user).await
        }
        TicketsCommand::SlaReport { by, from, to, format } => sla_report(store, &by, from, to, format).await,
    }
}

fn day(raw: Option<&str>, flag: &str) -> Result<Option<time::Date>> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    raw.map(|raw| {
        time::Date::parse(raw, format).map_err(|_| anyhow::anyhow!("{flag}: {raw:?} is not a date; use YYYY-MM-DD"))
    })
    .transpose()
}

async fn sla_report(
    store: &Store,
    by: &str,
    from: Option<String>,
    to: Option<String>,
    format: Format,
) -> Result<String> {
    let grouping = SlaGrouping::parse(by).map_err(|e| anyhow::anyhow!("--by {e}"))?;
    let today = OffsetDateTime::now_utc().date();
    let to = day(to.as_deref(), "--to")?.unwrap_or(today);
    let from = day(from.as_deref(), "--from")?.unwrap_or(to - time::Duration::days(89));
    if from > to {
        bail!("--from must not be after --to");
    }
    let start = from.with_time(time::Time::MIDNIGHT).assume_utc();
    let end = to.with_time(time::Time::MIDNIGHT).assume_utc() + time::Duration::days(1);
    let actor = crate::import::actor(store, None).await?;
    let rows = store.sla_report(&actor, grouping, start, end).await?;
    if format == Format::Json {
        return Ok(serde_json::to_string_pretty(&rows)? + "\n");
    }
    if rows.is_empty() {
        return Ok(format!("No targets were decided between {from} and {to}.\n"));
    }
    let mut out =
        format!("{:<30}  {:<15}  {:>5}  {:>6}  {:>6}\n", grouping.label(), "target", "met", "missed", "met %");
    for row in &rows {
        out.push_str(&format!(
            "{:<30}  {:<15}  {:>5}  {:>6}  {:>5.1}%\n",
            row.label,
            row.target.label(),
            row.met,
            row.missed,
            row.share_met * 100.0
        ));
    }
    Ok(out)
}

async fn list(
    store: &Store,
    queue: Option<Queue>,
    status: Option<String>,
    priority: Option<String>,
    limit: u64,
    format: Format,
    as_user: Option<String>,
) -> Result<String> {
    if !(1..=200).contains(&limit) {
        bail!("--limit must be between 1 and 200");
    }
    let status = status.as_deref().map(TicketStatus::parse).transpose().map_err(|e| anyhow::anyhow!("--status {e}"))?;
    let priority =
        priority.as_deref().map(TicketPriority::parse).transpose().map_err(|e| anyhow::anyhow!("--priority {e}"))?;
    let actor = crate::import::actor(store, as_user.as_deref()).await?;
    let filter = TicketFilter {
        queue: queue.map(|q| match q {
            Queue::Mine => TicketQueue::Mine,
            Queue::Team => TicketQueue::Team,
            Queue::Unassigned => TicketQueue::Unassigned,
            Queue::DueSoon => TicketQueue::DueSoon,
            Queue::Breached => TicketQueue::Breached,
        }),
        status,
        priority,
        ..TicketFilter::default()
    };
    let page = store.list_tickets(&actor, &ListQuery { limit: Some(limit), ..ListQuery::default() }, &filter).await?;
    if format == Format::Json {
        return Ok(serde_json::to_string_pretty(&page.items)? + "\n");
    }
    let mut out =
        format!("{:<36}  {:<8}  {:<7}  {:<20}  {:<20}  {}\n", "id", "status", "prio", "updated", "next due", "subject");
    for ticket in &page.items {
        out.push_str(&format!(
            "{:<36}  {:<8}  {:<7}  {:<20}  {:<20}  {}\n",
            ticket.id,
            ticket.fields.status.as_str(),
            ticket.fields.priority.as_str(),
            time(Some(ticket.meta.updated_at)),
            time(next_due(ticket)),
            ticket.fields.subject
        ));
    }
    if page.items.is_empty() {
        out = "No tickets.\n".into();
    }
    Ok(out)
}
