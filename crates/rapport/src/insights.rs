//! `rapport insights`: RFM segments, cohorts, churn, customer lifetime value
//! and referrals, computed by `rapport-reports` (which streams the purchases
//! and people out of the database into `rapport-insights`). Output as an
//! aligned table, JSON (the report as is) or CSV.
//!
//! Insights work in one currency: the one with the most purchases, unless
//! `--currency` names another. Purchases in other currencies are left out and
//! counted (in the table; on stderr for JSON and CSV, which stay clean).

use anyhow::{Context, Result, anyhow};
use clap::{Args, Subcommand, ValueEnum};
use rapport_domain::Currency;
use rapport_insights::churn::ChurnDefinition;
use rapport_insights::clv::TimeUnit;
use rapport_insights::input::{currency_exponent, minor_to_major};
use rapport_reports::compute::{self, CustomerClv};
use rapport_reports::{ChurnGrouping, ReportError, Scope};
use rapport_storage::Store;
use serde::Serialize;
use time::Date;

#[derive(Subcommand)]
pub enum InsightsCommand {
    /// RFM analysis: recency, frequency and monetary scores and segments.
    Rfm(AsOfArgs),
    /// Cohorts by month of first purchase: retention and revenue by month.
    Cohorts(AsOfArgs),
    /// Churn by month and survival of customer lifetime (Kaplan–Meier, by source or RFM segment).
    Churn {
        #[command(flatten)]
        args: AsOfArgs,
        /// When a customer has churned: after --churn-days without a purchase, or when their
        /// lifecycle stage is "churned".
        #[arg(long, value_enum, default_value_t = Definition::NoPurchase)]
        definition: Definition,
        /// A customer has churned after this many days without a purchase (with --definition no-purchase).
        #[arg(long, default_value_t = 180, value_parser = clap::value_parser!(u32).range(1..))]
        churn_days: u32,
        /// How the survival curves are split: by the person's source or by RFM segment.
        #[arg(long, value_enum, default_value_t = GroupBy::Source)]
        group_by: GroupBy,
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
    currency: Option<Currency>,
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
    /// Yearly discount rate of the lifetime value, at least 0 and below 1 (0.10 = 10 % a year).
    #[arg(long, default_value_t = 0.10, value_parser = parse_discount_rate, allow_negative_numbers = true)]
    discount_rate: f64,
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

/// When a customer counts as churned.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Definition {
    /// No purchase for --churn-days days after the last one.
    NoPurchase,
    /// The lifecycle stage is "churned".
    Lifecycle,
}

/// How the survival curves are split.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum GroupBy {
    /// By the person's source (website, event, referral, ...).
    Source,
    /// By RFM segment.
    Segment,
}

impl From<GroupBy> for ChurnGrouping {
    fn from(group_by: GroupBy) -> Self {
        match group_by {
            GroupBy::Source => ChurnGrouping::Source,
            GroupBy::Segment => ChurnGrouping::Segment,
        }
    }
}

fn churn_definition(definition: Definition, churn_days: u32) -> ChurnDefinition {
    match definition {
        Definition::NoPurchase => ChurnDefinition::NoPurchaseFor { days: churn_days },
        Definition::Lifecycle => ChurnDefinition::LifecycleChurned,
    }
}

fn parse_date(raw: &str) -> Result<Date, String> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(raw.trim(), &format).map_err(|_| format!("not a date (expected YYYY-MM-DD): {raw:?}"))
}

fn parse_currency(raw: &str) -> Result<Currency, String> {
    Currency::parse(raw.trim())
}

fn parse_discount_rate(raw: &str) -> Result<f64, String> {
    let rate: f64 = raw.trim().parse().map_err(|_| format!("not a number: {raw:?} (e.g. 0.10 for 10 % a year)"))?;
    if !(0.0..1.0).contains(&rate) {
        return Err(format!(
            "the yearly discount rate must be at least 0 and below 1 (0.10 = 10 % a year), not {rate}"
        ));
    }
    Ok(rate)
}

fn today() -> Date {
    time::OffsetDateTime::now_utc().date()
}

/// What the reports could not compute, with the storage failures said plainly.
fn report_error(err: ReportError) -> anyhow::Error {
    match err {
        ReportError::Storage(_) => anyhow!(err).context("cannot read the purchases and people"),
        other => anyhow!(other),
    }
}

/// The sentence on left-out currencies, with how to pick another.
fn scope_note(scope: &Scope) -> Option<String> {
    scope.note().map(|note| format!("{note} Pick one with --currency."))
}

/// Runs one insights command and returns what to print on stdout.
pub async fn run(store: &Store, command: InsightsCommand) -> Result<String> {
    let common = match &command {
        InsightsCommand::Rfm(a) | InsightsCommand::Cohorts(a) | InsightsCommand::Churn { args: a, .. } => &a.common,
        InsightsCommand::Clv(a) => &a.common,
        InsightsCommand::Referrals(a) => a,
    };
    let format = common.format;
    let Some(scope) = Scope::pick(store, common.currency).await.map_err(report_error)? else {
        return Ok("no purchases yet: record purchases (or run `rapport demo`) to see insights\n".to_owned());
    };
    if format != Format::Table
        && let Some(note) = scope_note(&scope)
    {
        eprintln!("{note}");
    }
    let mut out = Out { format, text: String::new() };
    match command {
        InsightsCommand::Rfm(a) => rfm(store, &scope, a.as_of.unwrap_or_else(today), &mut out).await?,
        InsightsCommand::Cohorts(a) => cohorts(store, &scope, a.as_of.unwrap_or_else(today), &mut out).await?,
        InsightsCommand::Churn { args, definition, churn_days, group_by } => {
            let definition = churn_definition(definition, churn_days);
            churn(store, &scope, args.as_of.unwrap_or_else(today), definition, group_by.into(), &mut out).await?
        }
        InsightsCommand::Clv(a) => {
            let end = a.calibration_end.unwrap_or_else(today);
            clv(store, &scope, end, a.unit.into(), a.horizon, a.discount_rate, &mut out).await?
        }
        InsightsCommand::Referrals(_) => referrals(store, &scope, today(), &mut out).await?,
    }
    if format == Format::Table
        && let Some(note) = scope_note(&scope)
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

fn money(minor: impl Into<i128>, currency: &str) -> String {
    let minor = minor.into();
    match rapport_domain::Currency::parse(currency) {
        // Exact, also for sums beyond i64 (a float would round them).
        Ok(code) => rapport_domain::money::major_text(minor, code).replace(',', ""),
        Err(_) => {
            let digits = currency_exponent(currency) as usize;
            format!("{:.digits$}", minor_to_major(minor, currency))
        }
    }
}

fn percent(share: f64) -> String {
    format!("{:.1}%", share * 100.0)
}

/// A rate as a percentage without needless decimals: 10%, 7.5%.
fn rate_percent(rate: f64) -> String {
    let text = format!("{:.2}", rate * 100.0);
    format!("{}%", text.trim_end_matches('0').trim_end_matches('.'))
}

// ---------------------------------------------------------------- rfm

async fn rfm(store: &Store, scope: &Scope, as_of: Date, out: &mut Out) -> Result<()> {
    let report = compute::rfm(store, scope, as_of).await.map_err(report_error)?;
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
    let report = compute::cohorts(store, scope, as_of).await.map_err(report_error)?;
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

async fn churn(
    store: &Store,
    scope: &Scope,
    as_of: Date,
    definition: ChurnDefinition,
    grouping: ChurnGrouping,
    out: &mut Out,
) -> Result<()> {
    let report = compute::churn(store, scope, as_of, definition, grouping).await.map_err(report_error)?;
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
            let churned = match definition {
                ChurnDefinition::NoPurchaseFor { days } => format!("no purchase for {days} days"),
                ChurnDefinition::LifecycleChurned => "lifecycle stage \"churned\"".to_owned(),
            };
            out.line(format!(
                "Churn as of {as_of} (churned = {churned}): {} of {} customers churned ({})",
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
            let by = match grouping {
                ChurnGrouping::Source => "source",
                ChurnGrouping::Segment => "RFM segment",
            };
            out.line(format!("Survival of customer lifetime (Kaplan–Meier; days from first purchase), by {by}:"));
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

/// Customers the table lists (by lifetime value); JSON and CSV list them all.
const TABLE_CUSTOMERS: usize = 20;

async fn clv(
    store: &Store,
    scope: &Scope,
    end: Date,
    unit: TimeUnit,
    horizon: u32,
    discount_rate: f64,
    out: &mut Out,
) -> Result<()> {
    let report =
        compute::clv(store, scope, end, unit, f64::from(horizon), discount_rate).await.map_err(report_error)?;
    let Some(report) = report else {
        out.line(format!("no purchases up to {end} in {}: nothing to fit", scope.currency));
        return Ok(());
    };
    let bg = report.model.bgnbd.params;
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
                        c.lifetime_value.map(|v| v.to_string()).unwrap_or_default(),
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
                    "lifetime_value",
                ],
                &rows,
            );
        }
        Format::Table => {
            let m = &report.model;
            out.line(format!(
                "Customer lifetime value: {} customers, calibration to {end}, horizon {horizon} {unit_name}, \
                 discounted at {} a year, amounts in {}",
                m.n_customers,
                rate_percent(discount_rate),
                report.currency
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
            let total: f64 = report.customers.iter().filter_map(|c| c.lifetime_value).sum();
            let purchases: f64 = report.customers.iter().map(|c| c.expected_purchases).sum();
            let alive: f64 = report.customers.iter().map(|c| c.probability_alive).sum();
            out.line(format!(
                "Expected over the horizon: {purchases:.0} purchases, {total:.2} {} (discounted); {alive:.0} customers likely alive",
                report.currency
            ));
            out.line("");
            let mut top: Vec<&CustomerClv> = report.customers.iter().collect();
            top.sort_by(|a, b| {
                let key = |c: &CustomerClv| c.lifetime_value.unwrap_or(c.expected_purchases);
                key(b).total_cmp(&key(a)).then(a.customer.cmp(&b.customer))
            });
            top.truncate(TABLE_CUSTOMERS);
            let names = compute::names(store, top.iter().map(|c| c.customer)).await.map_err(report_error)?;
            let rows: Vec<Vec<String>> = top
                .iter()
                .map(|c| {
                    vec![
                        names.get(&c.customer).cloned().unwrap_or_else(|| c.customer.to_string()),
                        c.summary.frequency.to_string(),
                        percent(c.probability_alive),
                        format!("{:.2}", c.expected_purchases),
                        opt(c.expected_average_spend),
                        opt(c.lifetime_value),
                    ]
                })
                .collect();
            out.line(format!("Top {} customers by lifetime value:", rows.len()));
            out.table(&["Customer", "Repeats", "P(alive)", "Exp. purchases", "Avg spend", "Lifetime value"], &rows);
        }
    }
    Ok(())
}

// ---------------------------------------------------------------- referrals

/// Referrers the report ranks.
const TOP_REFERRERS: usize = 10;

async fn referrals(store: &Store, scope: &Scope, as_of: Date, out: &mut Out) -> Result<()> {
    // The customers are the people with a purchase; their value is what they spent.
    let report = compute::referrals(store, scope, as_of, TOP_REFERRERS).await.map_err(report_error)?;
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
                let ids = report.top_referrers.iter().map(|r| r.referrer);
                let names = compute::names(store, ids).await.map_err(report_error)?;
                let rows: Vec<Vec<String>> = report
                    .top_referrers
                    .iter()
                    .map(|r| {
                        vec![
                            names.get(&r.referrer).cloned().unwrap_or_else(|| r.referrer.to_string()),
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

    #[test]
    fn discount_rates_lie_in_zero_to_one() {
        assert_eq!(parse_discount_rate("0.10"), Ok(0.10));
        assert_eq!(parse_discount_rate("0"), Ok(0.0));
        assert_eq!(parse_discount_rate(" 0.999 "), Ok(0.999));
        for bad in ["1", "1.5", "-0.1", "ten", "NaN", "inf", ""] {
            assert!(parse_discount_rate(bad).is_err(), "{bad:?} is refused");
        }
        assert_eq!(rate_percent(0.1), "10%");
        assert_eq!(rate_percent(0.075), "7.5%");
        assert_eq!(rate_percent(0.0), "0%");
    }

    #[test]
    fn churn_flags_pick_the_definition_and_grouping() {
        use clap::Parser;

        #[derive(Parser)]
        struct Cli {
            #[command(subcommand)]
            command: InsightsCommand,
        }
        let parse = |args: &[&str]| Cli::try_parse_from(std::iter::once("insights").chain(args.iter().copied()));
        let Ok(Cli { command: InsightsCommand::Churn { definition, churn_days, group_by, .. } }) = parse(&["churn"])
        else {
            panic!("churn parses");
        };
        assert_eq!(churn_definition(definition, churn_days), ChurnDefinition::NoPurchaseFor { days: 180 });
        assert_eq!(ChurnGrouping::from(group_by), ChurnGrouping::Source);
        let Ok(Cli { command: InsightsCommand::Churn { definition, churn_days, group_by, .. } }) =
            parse(&["churn", "--definition", "lifecycle", "--group-by", "segment"])
        else {
            panic!("churn with flags parses");
        };
        assert_eq!(churn_definition(definition, churn_days), ChurnDefinition::LifecycleChurned);
        assert_eq!(ChurnGrouping::from(group_by), ChurnGrouping::Segment);
        assert!(parse(&["churn", "--definition", "never"]).is_err());
        assert!(parse(&["churn", "--group-by", "owner"]).is_err());
        assert!(parse(&["clv", "--discount-rate", "1"]).is_err());
        assert!(parse(&["clv", "--discount-rate", "-0.1"]).is_err_and(|e| e.to_string().contains("at least 0")));
        let Ok(Cli { command: InsightsCommand::Clv(clv) }) = parse(&["clv"]) else { panic!("clv parses") };
        assert_eq!(clv.discount_rate, 0.10);
    }
}
