//! Failed sign-ins are slowed and then refused, per account and per address,
//! so a password cannot be guessed by brute force.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::error::ApiError;

const WINDOW: Duration = Duration::from_secs(15 * 60);
const PER_ACCOUNT: usize = 5;
const PER_ADDRESS: usize = 20;

#[derive(Default)]
pub struct LoginLimiter {
    failures: Mutex<HashMap<String, Vec<Instant>>>,
}

fn address_key(addr: Option<IpAddr>) -> Option<String> {
    addr.map(|a| format!("ip:{a}"))
}

impl LoginLimiter {
    fn recent(failures: &mut HashMap<String, Vec<Instant>>, key: &str, now: Instant) -> (usize, Option<Instant>) {
        let Some(times) = failures.get_mut(key) else { return (0, None) };
        times.retain(|t| now.duration_since(*t) < WINDOW);
        (times.len(), times.first().copied())
    }

    /// Refuses an attempt while the account or address is over its limit.
    pub fn check(&self, account: &str, addr: Option<IpAddr>) -> Result<(), ApiError> {
        let now = Instant::now();
        let mut failures = self.failures.lock().expect("limiter lock");
        let mut checks = vec![(format!("account:{account}"), PER_ACCOUNT)];
        checks.extend(address_key(addr).map(|k| (k, PER_ADDRESS)));
        for (key, limit) in checks {
            let (count, oldest) = Self::recent(&mut failures, &key, now);
            if count >= limit {
                let wait = oldest.map(|t| WINDOW.saturating_sub(now.duration_since(t))).unwrap_or(WINDOW);
                return Err(ApiError::RateLimited { retry_after_secs: wait.as_secs().max(1) });
            }
        }
        Ok(())
    }

    /// Records a failure; returns how long to hold the answer back.
    pub fn failed(&self, account: &str, addr: Option<IpAddr>) -> Duration {
        let now = Instant::now();
        let mut failures = self.failures.lock().expect("limiter lock");
        // Forget stale keys so the map cannot grow without bound.
        if failures.len() > 10_000 {
            failures.retain(|_, times| times.iter().any(|t| now.duration_since(*t) < WINDOW));
        }
        let account_key = format!("account:{account}");
        failures.entry(account_key.clone()).or_default().push(now);
        if let Some(key) = address_key(addr) {
            failures.entry(key).or_default().push(now);
        }
        let count = failures.get(&account_key).map_or(1, Vec::len) as u32;
        Duration::from_millis(100 * u64::from(count.min(10)))
    }

    pub fn succeeded(&self, account: &str) {
        self.failures.lock().expect("limiter lock").remove(&format!("account:{account}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_account_is_locked_after_five_failures() {
        let limiter = LoginLimiter::default();
        for _ in 0..PER_ACCOUNT {
            assert!(limiter.check("a@example.com", None).is_ok());
            limiter.failed("a@example.com", None);
        }
        assert!(matches!(limiter.check("a@example.com", None), Err(ApiError::RateLimited { .. })));
        assert!(limiter.check("b@example.com", None).is_ok());
    }
}
