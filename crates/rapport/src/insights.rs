//! `rapport insights`: RFM segments, cohorts, churn, customer lifetime value
//! and referrals, computed by `rapport-insights` from purchases and people
//! streamed out of the database in batches. Output as an aligned table, JSON
//! (the report as is) or CSV.
//!
//! Insights work in one currency: the one with the most purchases, unless
//! `--currency` names another. Purchases in other currencies are left out and
//! counted (in the table; on stderr for JSON and CSV, which stay clean).

use std::collections::{HashMap, HashSet};

use anyhow::{Context, Result, anyhow, bail};
use clap::{Args, Subcommand, ValueEnum};
use rapport_domain::PersonId;
use rapport_insights::churn::{ChurnBuilder, ChurnDefinition};
use rapport_insights::clv::{self, ModelReport, Summary, TimeUnit, Transaction};
use rapport_insights::cohorts::CohortBuilder;
use rapport_insights::input::{InsightsError, currency_exponent, minor_to_major};
use rapport_insights::referrals::ReferralBuilder;
use rapport_insights::rfm::RfmBuilder;
use rapport_storage::{PurchaseRow, PurchaseSink, Store};
use serde::Serialize;
use time::Date;
use uuid::Uuid;

#[derive(Subcommand)]
pub enum InsightsCommand {
    /// RFM analysis: recency, frequency and monetary scores and segments.
    Rfm(AsOfArgs),
    /// Cohorts by month of first purchase: retention and revenue by month.
    Cohorts(AsOfArgs),
    /// Churn by month and survival of customer lifetime (Kaplan–Meier, by source).
    Churn {
        #[command(flatten)]
        args: AsOfArgs,
        /// A customer has churned after this many days without a purchase.
        #[arg(long, default_value_t = 180, value_parser = clap::value_parser!(u32).range(1..))]
        churn_days: u32,
    },
    /// Customer lifetime value: BG/NBD and Gamma-Gamma fitted on the purchases.
    Clv(ClvArgs),
    /// Referrals: who brought in whom and what referred customers are worth.
    Referrals(CommonArgs),
}

#[derive(Args)]
pub struct CommonArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// Currency to analyse (ISO 4217 code); default: the one with the most purchases.
    #[arg(long, value_parser = parse_currency)]
    currency: Option<String>,
}

#[derive(Args)]
pub struct AsOfArgs {
    #[command(flatten)]
    common: CommonArgs,
    /// Day of observation, YYYY-MM-DD (default today, UTC); later purchases are left out.
    #[arg(long, value_parser = parse_date)]
    as_of: Option<Date>,
}

#[derive(Args)]
pub struct ClvArgs {
    #[command(flatten)]
    common: CommonArgs,
    /// Time unit of recency, age and the horizon.
    #[arg(long, value_enum, default_value_t = Unit::Weeks)]
    unit: Unit,
    /// End of the calibration period, YYYY-MM-DD (default today, UTC); later purchases are left out.
    #[arg(long, value_parser = parse_date)]
    calibration_end: Option<Date>,
    /// How far ahead to predict, in the chosen unit.
    #[arg(long, default_value_t = 52, value_parser = clap::value_parser!(u32).range(1..))]
    horizon: u32,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Table,
    Json,
    Csv,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Unit {
    Days,
    Weeks,
}

impl From<Unit> for TimeUnit {
    fn from(unit: Unit) -> Self {
        match unit {
            Unit::Days => TimeUnit::Days,
            Unit::Weeks => TimeUnit::Weeks,
        }
    }
}

fn parse_date(raw: &str) -> Result<Date, String> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(raw.trim(), &format).map_err(|_| format!("not a date (expected YYYY-MM-DD): {raw:?}"))
}

fn parse_currency(raw: &str) -> Result<String, String> {
    rapport_domain::Currency::parse(raw.trim()).map(|c| c.as_str().to_owned())
}

fn today() -> Date {
    time::OffsetDateTime::now_utc().date()
}

/// The currency analysed and what was left out.
struct Scope {
    currency: String,
    others: Vec<(String, i64)>,
}

impl Scope {
    fn note(&self) -> Option<String> {
        if self.others.is_empty() {
            return None;
        }
        let count: i64 = self.others.iter().map(|(_, n)| n).sum();
        let names: Vec<&str> = self.others.iter().map(|(c, _)| c.as_str()).collect();
        Some(format!(
            "Amounts in {}; left out {count} purchase{} in {} other currenc{} ({}); pick one with --currency.",
            self.currency,
            if count == 1 { "" } else { "s" },
            names.len(),
            if names.len() == 1 { "y" } else { "ies" },
            names.join(", ")
        ))
    }
}

/// The currency to analyse, or `None` when there is no purchase at all.
async fn scope(store: &Store, requested: Option<String>) -> Result<Option<Scope>> {
    let totals = store.purchase_totals(None, None).await.context("cannot count the purchases")?;
    let counts: Vec<(String, i64)> =
        totals.into_iter().map(|t| (t.amount.currency.as_str().to_owned(), t.count)).filter(|t| t.1 > 0).collect();
    if counts.is_empty() {
        return Ok(None);
    }
    let currency = match requested {
        Some(currency) => {
            if !counts.iter().any(|(c, _)| *c == currency) {
                let held: Vec<String> = counts.iter().map(|(c, n)| format!("{c} ({n})")).collect();
                bail!("no purchase is in {currency}; purchases are in {}", held.join(", "));
            }
            currency
        }
        // Most purchases first; on a tie, the first code alphabetically.
        None => {
            counts.iter().max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0))).map(|(c, _)| c.clone()).unwrap_or_default()
        }
    };
    let others = counts.into_iter().filter(|(c, _)| *c != currency).collect();
    Ok(Some(Scope { currency, others }))
}

/// Runs one insights command and returns what to print on stdout.
pub async fn run(store: &Store, command: InsightsCommand) -> Result<String> {
    let common = match &command {
        InsightsCommand::Rfm(a) | InsightsCommand::Cohorts(a) | InsightsCommand::Churn { args: a, .. } => &a.common,
        InsightsCommand::Clv(a) => &a.common,
        InsightsCommand::Referrals(a) => a,
    };
    let format = common.format;
    let Some(scope) = scope(store, common.currency.clone()).await? else {
        return Ok("no purchases yet: record purchases (or run `rapport demo`) to see insights\n".to_owned());
    };
    if format != Format::Table
        && let Some(note) = scope.note()
    {
        eprintln!("{note}");
    }
    let mut out = Out { format, text: String::new() };
    match command {
        InsightsCommand::Rfm(a) => rfm(store, &scope, a.as_of.unwrap_or_else(today), &mut out).await?,
        InsightsCommand::Cohorts(a) => cohorts(store, &scope, a.as_of.unwrap_or_else(today), &mut out).await?,
        InsightsCommand::Churn { args, churn_days } => {
            churn(store, &scope, args.as_of.unwrap_or_else(today), churn_days, &mut out).await?
        }
        InsightsCommand::Clv(a) => {
            let end = a.calibration_end.unwrap_or_else(today);
            clv(store, &scope, end, a.unit.into(), a.horizon, &mut out).await?
        }
        InsightsCommand::Referrals(_) => referrals(store, &scope, &mut out).await?,
    }
    if format == Format::Table
        && let Some(note) = scope.note()
    {
        out.text.push_str(&note);
        out.text.push('\n');
    }
    Ok(out.text)
}

// ---------------------------------------------------------------- output

struct Out {
    format: Format,
    text: String,
}

impl Out {
    fn json<T: Serialize>(&mut self, value: &T) -> Result<()> {
        self.text = serde_json::to_string_pretty(value).context("cannot write the report as JSON")?;
        self.text.push('\n');
        Ok(())
    }

    fn line(&mut self, line: impl AsRef<str>) {
        self.text.push_str(line.as_ref());
        self.text.push('\n');
    }

    /// An aligned table: first column left-aligned, the others right-aligned.
    fn table(&mut self, headers: &[&str], rows: &[Vec<String>]) {
        let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
        for row in rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let mut put = |cells: &mut dyn Iterator<Item = &str>| {
            let mut line = String::new();
            for (i, (cell, &w)) in cells.zip(&widths).enumerate() {
                if i > 0 {
                    line.push_str("  ");
                }
                let pad = w.saturating_sub(cell.chars().count());
                if i == 0 {
                    line.push_str(cell);
                    line.extend(std::iter::repeat_n(' ', pad));
                } else {
                    line.extend(std::iter::repeat_n(' ', pad));
                    line.push_str(cell);
                }
            }
            self.text.push_str(line.trim_end());
            self.text.push('\n');
        };
        put(&mut headers.iter().copied());
        let rule: Vec<String> = widths.iter().map(|&w| "-".repeat(w)).collect();
        put(&mut rule.iter().map(String::as_str));
        for row in rows {
            put(&mut row.iter().map(String::as_str));
        }
    }

    fn csv(&mut self, headers: &[&str], rows: &[Vec<String>]) {
        self.line(headers.join(","));
        for row in rows {
            let cells: Vec<String> = row.iter().map(|c| csv_cell(c)).collect();
            self.line(cells.join(","));
        }
    }
}

fn csv_cell(cell: &str) -> String {
    if cell.contains([',', '"', '\n', '\r']) { format!("\"{}\"", cell.replace('"', "\"\"")) } else { cell.to_owned() }
}

fn money(minor: i64, currency: &str) -> String {
    let digits = currency_exponent(currency) as usize;
    format!("{:.digits$}", minor_to_major(minor, currency))
}

fn percent(share: f64) -> String {
    format!("{:.1}%", share * 100.0)
}

fn storage_error(err: rapport_storage::StorageError) -> anyhow::Error {
    anyhow!(err).context("cannot read the purchases")
}

/// A purchase sink that folds the rows into a state it owns.
struct Fold<T, F>(T, F);

impl<T: Send + 'static, F: FnMut(&mut T, PurchaseRow) + Send + 'static> PurchaseSink for Fold<T, F> {
    fn purchase(&mut self, row: PurchaseRow) {
        (self.1)(&mut self.0, row)
    }
}

/// Folds every purchase in `currency` into `state`, grouped by customer and in time order.
async fn fold_purchases<T, F>(store: &Store, currency: &str, state: T, each: F) -> Result<T>
where
    T: Send + 'static,
    F: FnMut(&mut T, PurchaseRow) + Send + 'static,
{
    let (Fold(state, _), _) = store.feed_purchases(currency, Fold(state, each)).await.map_err(storage_error)?;
    Ok(state)
}

// ---------------------------------------------------------------- rfm

async fn rfm(store: &Store, scope: &Scope, as_of: Date, out: &mut Out) -> Result<()> {
    let builder = RfmBuilder::<Uuid>::new(as_of, scope.currency.clone());
    let builder = fold_purchases(store, &scope.currency, builder, |builder, row| {
        builder.add(row.person_id.0, row.day, row.amount_minor)
    })
    .await?;
    let report = builder.finish();
    let cur = report.currency.as_str();
    let rows: Vec<Vec<String>> = report
        .segments
        .iter()
        .map(|s| match out.format {
            Format::Csv => vec![
                s.segment.as_str().to_owned(),
                s.segment.label().to_owned(),
                s.customers.to_string(),
                s.share_of_customers.to_string(),
                s.value_minor.to_string(),
                s.share_of_value.to_string(),
                s.average_value_minor.to_string(),
            ],
            _ => vec![
                s.segment.label().to_owned(),
                s.customers.to_string(),
                percent(s.share_of_customers),
                money(s.value_minor, cur),
                percent(s.share_of_value),
                money(s.average_value_minor, cur),
            ],
        })
        .collect();
    match out.format {
        Format::Json => out.json(&report)?,
        Format::Csv => out.csv(
            &[
                "segment",
                "label",
                "customers",
                "share_of_customers",
                "value_minor",
                "share_of_value",
                "average_value_minor",
            ],
            &rows,
        ),
        Format::Table => {
            out.line(format!(
                "RFM segments as of {as_of}: {} customers, {} {cur} in all",
                report.customers.len(),
                money(report.total_value_minor, cur)
            ));
            out.line("");
            out.table(&["Segment", "Customers", "Share", "Value", "Share of value", "Average"], &rows);
            if report.ignored_after_as_of > 0 {
                out.line(format!("Left out {} purchases dated after {as_of}.", report.ignored_after_as_of));
            }
        }
    }
    Ok(())
}

// ---------------------------------------------------------------- cohorts

/// Months of retention the table shows (JSON and CSV hold them all).
const TABLE_MONTHS: usize = 12;

async fn cohorts(store: &Store, scope: &Scope, as_of: Date, out: &mut Out) -> Result<()> {
    let builder = CohortBuilder::<Uuid>::new(as_of, scope.currency.clone());
    let failed: Option<InsightsError> = None;
    let (builder, failed) = fold_purchases(store, &scope.currency, (builder, failed), |(builder, failed), row| {
        if failed.is_none()
            && let Err(err) = builder.add(row.person_id.0, row.day, row.amount_minor)
        {
            *failed = Some(err);
        }
    })
    .await?;
    if let Some(err) = failed {
        bail!("cannot build the cohorts: {err}");
    }
    let report = builder.finish();
    let cur = report.currency.as_str();
    match out.format {
        Format::Json => out.json(&report)?,
        Format::Csv => {
            let mut rows = Vec::new();
            for c in &report.cohorts {
                for (k, (&active, &retention)) in c.active.iter().zip(&c.retention).enumerate() {
                    rows.push(vec![
                        c.month.to_string(),
                        k.to_string(),
                        c.size.to_string(),
                        active.to_string(),
                        retention.to_string(),
                        c.revenue_by_month_minor[k].to_string(),
                    ]);
                }
            }
            out.csv(&["cohort", "month", "size", "active", "retention", "revenue_minor"], &rows);
        }
        Format::Table => {
            out.line(format!(
                "Cohorts by month of first purchase, as of {as_of}: {} customers, {} repeat buyers, {} {cur}",
                report.customers,
                percent(report.repeat_purchase_rate),
                money(report.revenue_minor, cur)
            ));
            out.line("Retention: share of each cohort buying in month 0, 1, 2, ... after its first purchase.");
            out.line("");
            let months = (report.max_offset + 1).min(TABLE_MONTHS);
            let mut headers: Vec<String> = ["Cohort", "Size", "Repeat", "Revenue"].map(String::from).to_vec();
            headers.extend((0..months).map(|k| format!("M{k}")));
            let rows: Vec<Vec<String>> = report
                .cohorts
                .iter()
                .map(|c| {
                    let mut row = vec![
                        c.month.to_string(),
                        c.size.to_string(),
                        percent(c.repeat_purchase_rate),
                        money(c.revenue_minor, cur),
                    ];
                    row.extend(
                        (0..months)
                            .map(|k| c.retention.get(k).map(|&r| format!("{:.0}%", r * 100.0)).unwrap_or_default()),
                    );
                    row
                })
                .collect();
            let headers: Vec<&str> = headers.iter().map(String::as_str).collect();
            out.table(&headers, &rows);
            if report.max_offset + 1 > TABLE_MONTHS {
                out.line(format!("(first {TABLE_MONTHS} months shown; --format json or csv has them all)"));
            }
            if report.ignored_after_as_of > 0 {
                out.line(format!("Left out {} purchases dated after {as_of}.", report.ignored_after_as_of));
            }
        }
    }
    Ok(())
}

// ---------------------------------------------------------------- churn

/// Months of churn the table shows, the latest (JSON and CSV hold them all).
const TABLE_CHURN_MONTHS: usize = 24;

async fn churn(store: &Store, scope: &Scope, as_of: Date, days: u32, out: &mut Out) -> Result<()> {
    let builder = ChurnBuilder::<Uuid>::new(as_of, ChurnDefinition::NoPurchaseFor { days });
    let buyers: HashSet<Uuid> = HashSet::new();
    let (mut builder, buyers) =
        fold_purchases(store, &scope.currency, (builder, buyers), move |(builder, buyers), row| {
            if row.day <= as_of {
                buyers.insert(row.person_id.0);
            }
            builder.add_purchase(row.person_id.0, row.day)
        })
        .await?;
    // Survival curves by source, over the customers only.
    store
        .for_each_person(|person| {
            if buyers.contains(&person.id.0)
                && let Some(source) = &person.source
            {
                builder.set_group(person.id.0, source);
            }
        })
        .await
        .context("cannot read the people")?;
    let report = builder.finish();
    let rate = |r: Option<f64>| r.map(|r| r.to_string()).unwrap_or_default();
    match out.format {
        Format::Json => out.json(&report)?,
        Format::Csv => {
            let rows: Vec<Vec<String>> = report
                .monthly
                .iter()
                .map(|m| {
                    vec![
                        m.month.to_string(),
                        m.active_at_start.to_string(),
                        m.new_customers.to_string(),
                        m.churned.to_string(),
                        m.churned_of_active.to_string(),
                        rate(m.churn_rate),
                        m.partial.to_string(),
                    ]
                })
                .collect();
            out.csv(
                &["month", "active_at_start", "new_customers", "churned", "churned_of_active", "churn_rate", "partial"],
                &rows,
            );
        }
        Format::Table => {
            out.line(format!(
                "Churn as of {as_of} (churned = no purchase for {days} days): {} of {} customers churned ({})",
                report.churned,
                report.customers,
                percent(report.churned_share)
            ));
            out.line("");
            let skip = report.monthly.len().saturating_sub(TABLE_CHURN_MONTHS);
            let rows: Vec<Vec<String>> = report.monthly[skip..]
                .iter()
                .map(|m| {
                    vec![
                        format!("{}{}", m.month, if m.partial { " (so far)" } else { "" }),
                        m.active_at_start.to_string(),
                        m.new_customers.to_string(),
                        m.churned.to_string(),
                        m.churn_rate.map(percent).unwrap_or_else(|| "-".into()),
                    ]
                })
                .collect();
            out.table(&["Month", "Active at start", "New", "Churned", "Churn rate"], &rows);
            if skip > 0 {
                out.line(format!("(last {TABLE_CHURN_MONTHS} months shown; --format json or csv has them all)"));
            }
            out.line("");
            out.line("Survival of customer lifetime (Kaplan–Meier; days from first purchase), by source:");
            let rows: Vec<Vec<String>> = report
                .survival
                .iter()
                .map(|c| {
                    let mut row = vec![
                        c.group.clone(),
                        c.subjects.to_string(),
                        c.events.to_string(),
                        c.median.map(|m| m.to_string()).unwrap_or_else(|| "-".into()),
                    ];
                    row.extend([90, 180, 365, 730].map(|t| percent(c.at(t).0)));
                    row
                })
                .collect();
            out.table(&["Group", "Customers", "Churned", "Median days", "S(90)", "S(180)", "S(365)", "S(730)"], &rows);
        }
    }
    Ok(())
}

// ---------------------------------------------------------------- clv

/// One customer's summary and predictions.
#[derive(Serialize)]
struct CustomerClv {
    customer: Uuid,
    #[serde(flatten)]
    summary: Summary,
    probability_alive: f64,
    /// Purchases expected over the horizon.
    expected_purchases: f64,
    /// Expected average spend per purchase, major units (without a Gamma-Gamma fit: absent).
    expected_average_spend: Option<f64>,
    /// `expected_purchases × expected_average_spend`, undiscounted, major units.
    expected_value: Option<f64>,
}

#[derive(Serialize)]
struct ClvReport {
    currency: String,
    calibration_end: Date,
    time_unit: TimeUnit,
    /// Prediction horizon, in `time_unit`.
    horizon: u32,
    model: ModelReport,
    /// Every customer with a purchase up to `calibration_end`, in key order.
    customers: Vec<CustomerClv>,
}

/// Customers the table lists (by expected value); JSON and CSV list them all.
const TABLE_CUSTOMERS: usize = 20;

async fn clv(store: &Store, scope: &Scope, end: Date, unit: TimeUnit, horizon: u32, out: &mut Out) -> Result<()> {
    let currency = scope.currency.clone();
    let summaries: Vec<(Uuid, Summary)> = Vec::new();
    let current: Vec<Transaction<Uuid>> = Vec::new();
    // One customer's purchases at a time: the feed is grouped by customer.
    let flush = move |current: &mut Vec<Transaction<Uuid>>, summaries: &mut Vec<(Uuid, Summary)>| {
        summaries.extend(clv::summarize(current, end, unit));
        current.clear();
    };
    let feed_currency = currency.clone();
    let (mut current, mut summaries) =
        fold_purchases(store, &currency, (current, summaries), move |(current, summaries), row| {
            if current.first().is_some_and(|t| t.customer != row.person_id.0) {
                flush(current, summaries);
            }
            current.push(Transaction {
                customer: row.person_id.0,
                date: row.day,
                amount: minor_to_major(row.amount_minor, &feed_currency),
            });
        })
        .await?;
    flush(&mut current, &mut summaries);
    if summaries.is_empty() {
        out.line(format!("no purchases up to {end} in {currency}: nothing to fit"));
        return Ok(());
    }
    let only: Vec<Summary> = summaries.iter().map(|(_, s)| *s).collect();
    let model =
        ModelReport::from_summaries(unit, &only).map_err(|e| anyhow!("cannot fit the lifetime value models: {e}"))?;
    let bg = model.bgnbd.params;
    let gg = model.gamma_gamma.map(|f| f.params);
    let customers: Vec<CustomerClv> = summaries
        .into_iter()
        .map(|(customer, s)| {
            let expected_purchases = bg.conditional_expected_purchases(f64::from(horizon), &s);
            let spend = gg.map(|g| g.conditional_expected_average_spend(s.frequency, s.monetary_value));
            CustomerClv {
                customer,
                summary: s,
                probability_alive: bg.probability_alive(&s),
                expected_purchases,
                expected_average_spend: spend,
                expected_value: spend.map(|v| v * expected_purchases),
            }
        })
        .collect();
    let report = ClvReport { currency, calibration_end: end, time_unit: unit, horizon, model, customers };
    let unit_name = match unit {
        TimeUnit::Days => "days",
        TimeUnit::Weeks => "weeks",
    };
    let opt = |v: Option<f64>| v.map(|v| format!("{v:.2}")).unwrap_or_default();
    match out.format {
        Format::Json => out.json(&report)?,
        Format::Csv => {
            let rows: Vec<Vec<String>> = report
                .customers
                .iter()
                .map(|c| {
                    vec![
                        c.customer.to_string(),
                        c.summary.frequency.to_string(),
                        c.summary.recency.to_string(),
                        c.summary.age.to_string(),
                        c.summary.monetary_value.to_string(),
                        c.probability_alive.to_string(),
                        c.expected_purchases.to_string(),
                        c.expected_average_spend.map(|v| v.to_string()).unwrap_or_default(),
                        c.expected_value.map(|v| v.to_string()).unwrap_or_default(),
                    ]
                })
                .collect();
            out.csv(
                &[
                    "customer",
                    "frequency",
                    "recency",
                    "age",
                    "monetary_value",
                    "probability_alive",
                    "expected_purchases",
                    "expected_average_spend",
                    "expected_value",
                ],
                &rows,
            );
        }
        Format::Table => {
            let m = &report.model;
            out.line(format!(
                "Customer lifetime value: {} customers, calibration to {end}, horizon {horizon} {unit_name}, amounts in {}",
                m.n_customers, report.currency
            ));
            out.line("");
            let converged = |c: bool| if c { "converged" } else { "NOT converged" };
            out.line(format!(
                "BG/NBD       r = {:.4}  alpha = {:.4}  a = {:.4}  b = {:.4}  (log-likelihood {:.1}, {})",
                bg.r,
                bg.alpha,
                bg.a,
                bg.b,
                m.bgnbd.log_likelihood,
                converged(m.bgnbd.converged)
            ));
            match &m.gamma_gamma {
                Some(f) => out.line(format!(
                    "Gamma-Gamma  p = {:.4}  q = {:.4}  gamma = {:.4}  (log-likelihood {:.1}, {} repeat buyers, {})",
                    f.params.p,
                    f.params.q,
                    f.params.gamma,
                    f.log_likelihood,
                    f.n_customers,
                    converged(f.converged)
                )),
                None => out.line("Gamma-Gamma  not fitted: no repeat buyers with a positive spend"),
            }
            let total: f64 = report.customers.iter().filter_map(|c| c.expected_value).sum();
            let purchases: f64 = report.customers.iter().map(|c| c.expected_purchases).sum();
            let alive: f64 = report.customers.iter().map(|c| c.probability_alive).sum();
            out.line(format!(
                "Expected over the horizon: {purchases:.0} purchases, {total:.2} {} (undiscounted); {alive:.0} customers likely alive",
                report.currency
            ));
            out.line("");
            let mut top: Vec<&CustomerClv> = report.customers.iter().collect();
            top.sort_by(|a, b| {
                let key = |c: &CustomerClv| c.expected_value.unwrap_or(c.expected_purchases);
                key(b).total_cmp(&key(a)).then(a.customer.cmp(&b.customer))
            });
            top.truncate(TABLE_CUSTOMERS);
            let ids: Vec<PersonId> = top.iter().map(|c| PersonId(c.customer)).collect();
            let names = store.person_names(&ids).await.context("cannot read the customers' names")?;
            let rows: Vec<Vec<String>> = top
                .iter()
                .map(|c| {
                    vec![
                        names.get(&PersonId(c.customer)).cloned().unwrap_or_else(|| c.customer.to_string()),
                        c.summary.frequency.to_string(),
                        percent(c.probability_alive),
                        format!("{:.2}", c.expected_purchases),
                        opt(c.expected_average_spend),
                        opt(c.expected_value),
                    ]
                })
                .collect();
            out.line(format!("Top {} customers by expected value:", rows.len()));
            out.table(&["Customer", "Repeats", "P(alive)", "Exp. purchases", "Avg spend", "Exp. value"], &rows);
        }
    }
    Ok(())
}

// ---------------------------------------------------------------- referrals

/// Referrers the report ranks.
const TOP_REFERRERS: usize = 10;

async fn referrals(store: &Store, scope: &Scope, out: &mut Out) -> Result<()> {
    let spent = fold_purchases(store, &scope.currency, HashMap::<Uuid, i64>::new(), |spent, row| {
        let total = spent.entry(row.person_id.0).or_insert(0);
        *total = total.saturating_add(row.amount_minor);
    })
    .await?;
    // The customers are the people with a purchase; their value is what they spent.
    let mut builder = ReferralBuilder::<Uuid>::new(scope.currency.clone());
    store
        .for_each_person(|person| {
            if let Some(&value) = spent.get(&person.id.0) {
                builder.add(person.id.0, person.referred_by_id.map(|r| r.0), value);
            }
        })
        .await
        .context("cannot read the people")?;
    let report = builder.finish(TOP_REFERRERS);
    let cur = report.currency.as_str();
    match out.format {
        Format::Json => out.json(&report)?,
        Format::Csv => {
            let rows: Vec<Vec<String>> = report
                .referrals
                .iter()
                .map(|r| vec![r.referrer.to_string(), r.customer.to_string(), r.value_minor.to_string()])
                .collect();
            out.csv(&["referrer", "customer", "value_minor"], &rows);
        }
        Format::Table => {
            out.line(format!(
                "Referrals: {} of {} customers were referred ({}) by {} referrers",
                report.referred_customers,
                report.customers,
                percent(report.share_referred),
                report.referrers
            ));
            out.line("");
            let rows = vec![
                vec![
                    "Referred".to_owned(),
                    report.referred_customers.to_string(),
                    money(report.referred_value_minor, cur),
                    money(report.average_referred_value_minor, cur),
                ],
                vec![
                    "Not referred".to_owned(),
                    (report.customers - report.referred_customers).to_string(),
                    money(report.other_value_minor, cur),
                    money(report.average_other_value_minor, cur),
                ],
            ];
            out.table(&["Customers", "Count", &format!("Value ({cur})"), "Average"], &rows);
            if !report.top_referrers.is_empty() {
                let ids: Vec<PersonId> = report.top_referrers.iter().map(|r| PersonId(r.referrer)).collect();
                let names = store.person_names(&ids).await.context("cannot read the referrers' names")?;
                let rows: Vec<Vec<String>> = report
                    .top_referrers
                    .iter()
                    .map(|r| {
                        vec![
                            names.get(&PersonId(r.referrer)).cloned().unwrap_or_else(|| r.referrer.to_string()),
                            r.referrals.to_string(),
                            money(r.referred_value_minor, cur),
                            if r.is_customer { "yes" } else { "no" }.to_owned(),
                        ]
                    })
                    .collect();
                out.line("");
                out.line(format!("Top {} referrers:", rows.len()));
                out.table(&["Referrer", "Referrals", "Value referred", "Customer"], &rows);
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_align_and_csv_quotes() {
        let mut out = Out { format: Format::Table, text: String::new() };
        out.table(&["Name", "N"], &[vec!["a".into(), "10".into()], vec!["bbb".into(), "2".into()]]);
        assert_eq!(out.text, "Name   N\n----  --\na     10\nbbb    2\n");
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(money(12345, "EUR"), "123.45");
        assert_eq!(money(12345, "JPY"), "12345");
        assert!(parse_date("2024-02-30").is_err());
        assert_eq!(parse_date("2024-02-29").map(|d| d.to_string()), Ok("2024-02-29".to_owned()));
    }
}
