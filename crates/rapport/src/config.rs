//! Settings: flags over environment (RAPPORT_*) over rapport.toml over defaults.

use std::time::Duration;

use anyhow::{Context, Result, bail};
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use rapport_insights::clv::TimeUnit;
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, Deserialize)]
pub struct Config {
    pub bind: String,
    pub database_url: String,
    /// Mark session cookies Secure (set when serving over https).
    pub secure_cookies: bool,
    /// Insights: a customer has churned after this many days without a purchase.
    pub insights_churn_days: u32,
    /// Insights: lifetime value looks this many months ahead.
    pub insights_horizon_months: u32,
    /// Insights: yearly discount rate of lifetime value (0.1 = 10 %).
    pub insights_discount_rate: f64,
    /// Insights: time unit of the lifetime value models, `weeks` or `days`.
    pub insights_unit: String,
    /// Insights: months held out to check the lifetime value models.
    pub insights_holdout_months: u32,
    /// Insights: seconds between the job's checks for changed data.
    pub insights_poll_seconds: u64,
    /// Days a deleted record stays in the trash before it is purged for good.
    pub trash_days: u32,
    /// Days a solved ticket waits for the customer before it is closed for good.
    pub ticket_close_days: u32,
    /// Background jobs this node runs at once.
    pub job_workers: usize,
    /// Seconds a node holds a job without renewing its claim: after a node
    /// dies, another takes its jobs over this long after its last renewal.
    pub job_lease_seconds: u64,
    /// The bearer token `GET /metrics` asks for; unset, `/metrics` is off.
    pub metrics_token: Option<String>,
}

const KEYS: [&str; 14] = [
    "bind",
    "database_url",
    "secure_cookies",
    "insights_churn_days",
    "insights_horizon_months",
    "insights_discount_rate",
    "insights_unit",
    "insights_holdout_months",
    "insights_poll_seconds",
    "trash_days",
    "ticket_close_days",
    "job_workers",
    "job_lease_seconds",
    "metrics_token",
];

impl Default for Config {
    fn default() -> Self {
        let insights = rapport_reports::Settings::default();
        Self {
            bind: "127.0.0.1:8080".into(),
            database_url: "sqlite://rapport.db".into(),
            secure_cookies: false,
            insights_churn_days: insights.churn_days,
            insights_horizon_months: insights.horizon_months,
            insights_discount_rate: insights.annual_discount_rate,
            insights_unit: "weeks".into(),
            insights_holdout_months: insights.holdout_months,
            insights_poll_seconds: 5,
            trash_days: 30,
            ticket_close_days: 7,
            job_workers: 2,
            job_lease_seconds: 30,
            metrics_token: None,
        }
    }
}

impl Config {
    pub fn load(database_url: Option<String>, bind: Option<String>) -> Result<Self> {
        let mut config: Config = Figment::from(Serialized::defaults(Config::default()))
            .merge(Toml::file("rapport.toml"))
            .merge(Env::prefixed("RAPPORT_").only(&KEYS))
            .extract()
            .context("cannot read the settings (rapport.toml or RAPPORT_* variables)")?;
        if let Some(url) = database_url {
            config.database_url = url;
        }
        if let Some(bind) = bind {
            config.bind = bind;
        }
        Ok(config)
    }

    /// The insights settings, checked: a bad value stops the start with its name.
    pub fn insights(&self) -> Result<(rapport_reports::Settings, Duration)> {
        let unit = match self.insights_unit.trim().to_ascii_lowercase().as_str() {
            "weeks" => TimeUnit::Weeks,
            "days" => TimeUnit::Days,
            other => bail!("insights_unit must be weeks or days, not {other:?}"),
        };
        if !(1..=3650).contains(&self.insights_churn_days) {
            bail!("insights_churn_days must be between 1 and 3650");
        }
        if !(1..=120).contains(&self.insights_horizon_months) {
            bail!("insights_horizon_months must be between 1 and 120");
        }
        if !(0.0..1.0).contains(&self.insights_discount_rate) {
            bail!("insights_discount_rate must be at least 0 and below 1 (0.1 is 10 % a year)");
        }
        if !(1..=60).contains(&self.insights_holdout_months) {
            bail!("insights_holdout_months must be between 1 and 60");
        }
        if !(1..=3600).contains(&self.insights_poll_seconds) {
            bail!("insights_poll_seconds must be between 1 and 3600");
        }
        let settings = rapport_reports::Settings {
            churn_days: self.insights_churn_days,
            unit,
            horizon_months: self.insights_horizon_months,
            annual_discount_rate: self.insights_discount_rate,
            holdout_months: self.insights_holdout_months,
        };
        Ok((settings, Duration::from_secs(self.insights_poll_seconds)))
    }

    /// How this node runs background jobs, checked.
    pub fn jobs(&self) -> Result<rapport_jobs::RunnerSettings> {
        if !(1..=32).contains(&self.job_workers) {
            bail!("job_workers must be between 1 and 32");
        }
        if !(3..=3600).contains(&self.job_lease_seconds) {
            bail!("job_lease_seconds must be between 3 and 3600");
        }
        Ok(rapport_jobs::RunnerSettings {
            workers: self.job_workers,
            lease: Duration::from_secs(self.job_lease_seconds),
            ..rapport_jobs::RunnerSettings::default()
        })
    }

    /// How long the trash keeps deleted records, checked.
    pub fn trash_retention(&self) -> Result<time::Duration> {
        if !(1..=3650).contains(&self.trash_days) {
            bail!("trash_days must be between 1 and 3650");
        }
        Ok(time::Duration::days(self.trash_days.into()))
    }

    /// How long a solved ticket stays open to the customer's answer, checked.
    pub fn ticket_close_after(&self) -> Result<time::Duration> {
        if !(1..=365).contains(&self.ticket_close_days) {
            bail!("ticket_close_days must be between 1 and 365");
        }
        Ok(time::Duration::days(self.ticket_close_days.into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insights_settings_are_checked() {
        let config = Config::default();
        let (settings, poll) = config.insights().expect("the defaults are valid");
        assert_eq!(settings, rapport_reports::Settings::default());
        assert_eq!(poll, Duration::from_secs(5));
        let bad = |change: fn(&mut Config), name: &str| {
            let mut config = Config::default();
            change(&mut config);
            let err = config.insights().expect_err("refused").to_string();
            assert!(err.contains(name), "{err} names {name}");
        };
        bad(|c| c.insights_unit = "months".into(), "insights_unit");
        bad(|c| c.insights_churn_days = 0, "insights_churn_days");
        bad(|c| c.insights_horizon_months = 121, "insights_horizon_months");
        bad(|c| c.insights_discount_rate = 1.0, "insights_discount_rate");
        bad(|c| c.insights_discount_rate = -0.1, "insights_discount_rate");
        bad(|c| c.insights_holdout_months = 0, "insights_holdout_months");
        bad(|c| c.insights_poll_seconds = 0, "insights_poll_seconds");
    }

    #[test]
    fn trash_retention_is_checked() {
        assert_eq!(Config::default().trash_retention().expect("the default is valid"), time::Duration::days(30));
        let config = Config { job_workers: 0, ..Config::default() };
        assert!(config.jobs().expect_err("refused").to_string().contains("job_workers"));
        let config = Config { job_lease_seconds: 1, ..Config::default() };
        assert!(config.jobs().expect_err("refused").to_string().contains("job_lease_seconds"));
        let config = Config { trash_days: 0, ..Config::default() };
        assert!(config.trash_retention().expect_err("refused").to_string().contains("trash_days"));
        assert_eq!(Config::default().ticket_close_after().expect("the default is valid"), time::Duration::days(7));
        let config = Config { ticket_close_days: 0, ..Config::default() };
        assert!(config.ticket_close_after().expect_err("refused").to_string().contains("ticket_close_days"));
    }
}
