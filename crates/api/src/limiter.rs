//! Failed sign-ins are slowed and then refused, per account and per address,
//! so a password cannot be guessed by brute force; each address may open the
//! public survey pages only so often (`LinkLimiter`).
//!
//! The failures are rows in the database (`Store::record_login_failure`), so
//! the limit holds across every node behind a load balancer: guessing through
//! several nodes gets no more tries than guessing through one. Two attempts
//! checked at the same moment on two nodes may both pass the check; that lets
//! at most one extra try per node through, never an unbounded number.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use rapport_storage::{LoginFailures, Store};
use time::OffsetDateTime;

use crate::error::ApiError;

/// How long a failure counts.
pub const WINDOW: time::Duration = time::Duration::minutes(15);
const PER_ACCOUNT: u64 = 5;
const PER_ADDRESS: u64 = 20;
/// An account name is whatever a client typed: only this much of it is kept.
const MAX_ACCOUNT_CHARS: usize = 320;

pub struct LoginLimiter {
    store: Store,
}

fn account_key(account: &str) -> String {
    let account: String = account.chars().take(MAX_ACCOUNT_CHARS).collect();
    format!("account:{account}")
}

fn address_key(addr: Option<IpAddr>) -> Option<String> {
    addr.map(|a| format!("ip:{a}"))
}

/// Refuses when `failures` in the window reached `limit`, telling the client
/// when the oldest of them stops counting.
fn verdict(failures: LoginFailures, limit: u64, now: OffsetDateTime) -> Result<(), ApiError> {
    if failures.count < limit {
        return Ok(());
    }
    let wait = failures.oldest.map_or(WINDOW, |oldest| WINDOW - (now - oldest));
    let secs = u64::try_from(wait.whole_seconds()).unwrap_or(0);
    Err(ApiError::RateLimited { retry_after_secs: secs.max(1) })
}

/// How long to hold back the answer to an account's `count`th failure.
fn delay(count: u64) -> Duration {
    Duration::from_millis(100 * count.clamp(1, 10))
}

impl LoginLimiter {
    pub fn new(store: Store) -> Self {
        Self { store }
    }

    /// Refuses an attempt while the account or address is over its limit.
    pub async fn check(&self, account: &str, addr: Option<IpAddr>) -> Result<(), ApiError> {
        let now = OffsetDateTime::now_utc();
        let mut checks = vec![(account_key(account), PER_ACCOUNT)];
        checks.extend(address_key(addr).map(|k| (k, PER_ADDRESS)));
        for (key, limit) in checks {
            let failures = self.store.count_login_failures(&key, now - WINDOW).await?;
            verdict(failures, limit, now)?;
        }
        Ok(())
    }

    /// Records a failure; returns how long to hold the answer back.
    pub async fn failed(&self, account: &str, addr: Option<IpAddr>) -> Result<Duration, ApiError> {
        let now = OffsetDateTime::now_utc();
        let account_key = account_key(account);
        let mut keys = vec![account_key.as_str()];
        let address_key = address_key(addr);
        keys.extend(address_key.as_deref());
        self.store.record_login_failure(&keys, now).await?;
        let failures = self.store.count_login_failures(&account_key, now - WINDOW).await?;
        Ok(delay(failures.count))
    }

    /// A successful sign-in forgets the account's failures (not the address's).
    pub async fn succeeded(&self, account: &str) -> Result<(), ApiError> {
        self.store.clear_login_failures(&account_key(account)).await?;
        Ok(())
    }
}

/// Requests a minute one address may make to the survey pages.
const PER_MINUTE: u32 = 30;

/// Per-address limits of the survey pages (kept in this node's memory).
pub struct LinkLimiter(DefaultKeyedRateLimiter<IpAddr>);

impl Default for LinkLimiter {
    fn default() -> Self {
        LinkLimiter(RateLimiter::keyed(Quota::per_minute(NonZeroU32::new(PER_MINUTE).expect("not zero"))))
    }
}

impl LinkLimiter {
    /// Counts a request from `addr`; false once it has made too many this minute.
    pub fn allows(&self, addr: Option<IpAddr>) -> bool {
        // Without connection info (tests serving the router directly) there is no address to count.
        addr.is_none_or(|addr| {
            if self.0.len() > 100_000 {
                self.0.retain_recent();
            }
            self.0.check_key(&addr).is_ok()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_account_is_locked_after_five_failures() {
        let now = OffsetDateTime::now_utc();
        let oldest = Some(now - time::Duration::minutes(5));
        for count in 0..PER_ACCOUNT {
            assert!(verdict(LoginFailures { count, oldest }, PER_ACCOUNT, now).is_ok());
        }
        match verdict(LoginFailures { count: PER_ACCOUNT, oldest }, PER_ACCOUNT, now) {
            Err(ApiError::RateLimited { retry_after_secs }) => assert_eq!(retry_after_secs, 10 * 60),
            other => panic!("not refused: {other:?}"),
        }
    }

    #[test]
    fn failures_are_answered_slower_and_slower_up_to_a_second() {
        assert_eq!(delay(1), Duration::from_millis(100));
        assert_eq!(delay(5), Duration::from_millis(500));
        assert_eq!(delay(50), Duration::from_secs(1));
    }

    #[test]
    fn a_long_account_name_is_cut() {
        assert_eq!(account_key(&"a".repeat(1000)).len(), "account:".len() + MAX_ACCOUNT_CHARS);
    }
}
