//! Rate limiting with the generic cell rate algorithm (GCRA).
//!
//! A bucket is one number, its theoretical arrival time (TAT): the moment the
//! bucket would be empty again if no more requests came. A request costing one
//! moves it `interval` further; the request fits while `TAT - now` stays within
//! `burst × interval`. That gives Discord's headers directly: the limit is the
//! burst, the remaining count is how many intervals still fit, the bucket is full
//! again at TAT.
//!
//! The state lives in this process for a single node, or in the database
//! ([`RateLimitStore`](beep_store::RateLimitStore)) when several nodes must share
//! it; the arithmetic is the same, in [`decide`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use beep_store::DynStore;

use crate::error::{Error, Result};

/// How many requests a bucket takes: `burst` at once, then one more every
/// `interval`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    pub burst: u32,
    pub interval: Duration,
}

impl Quota {
    /// `n` requests per `period`, refilled evenly (one every `period / n`).
    pub fn per(n: u32, period: Duration) -> Quota {
        let n = n.max(1);
        Quota {
            burst: n,
            interval: period / n,
        }
    }

    /// At most `n` requests in any window shorter than `period`: a burst of `n`,
    /// then one more per `period`. Used where a strict ceiling matters more than
    /// quick recovery (failed logins).
    pub fn strict(n: u32, period: Duration) -> Quota {
        Quota {
            burst: n.max(1),
            interval: period,
        }
    }

    fn interval_ms(self) -> i64 {
        i64::try_from(self.interval.as_millis())
            .unwrap_or(i64::MAX)
            .max(1)
    }

    fn limit_ms(self) -> i64 {
        self.interval_ms().saturating_mul(i64::from(self.burst))
    }
}

/// Who a bucket counts, for `X-RateLimit-Scope`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Per user (or per bot token).
    User,
    /// Per client address.
    Ip,
    /// Per resource (an account being logged into, say), whoever asks.
    Shared,
}

impl Scope {
    /// The value of `X-RateLimit-Scope` (Discord knows `user`, `global`, `shared`).
    pub fn header(self) -> &'static str {
        match self {
            Scope::User | Scope::Ip => "user",
            Scope::Shared => "shared",
        }
    }
}

/// The verdict on one request, with everything the rate-limit headers carry.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    pub allowed: bool,
    /// `X-RateLimit-Limit`: the burst.
    pub limit: u32,
    /// `X-RateLimit-Remaining`.
    pub remaining: u32,
    /// `X-RateLimit-Reset-After`: seconds until the bucket is full again.
    pub reset_after: f64,
    /// Seconds until the next request fits (0 when allowed).
    pub retry_after: f64,
    /// `X-RateLimit-Reset`: Unix time (seconds) when the bucket is full again.
    pub reset_at: f64,
    /// `X-RateLimit-Bucket`: a stable name of the bucket (not of the key).
    pub bucket: String,
    pub scope: Scope,
}

impl Decision {
    /// Turn a refusal into the 429 error carrying this decision's headers.
    #[track_caller]
    pub fn into_error(self) -> Error {
        let mut e = Error::rate_limited(self.retry_after);
        e.rate_limit = Some(Box::new(self));
        e
    }
}

/// The verdict for a bucket whose TAT is `tat_ms` after the step, at `now_ms`.
pub fn decide(
    allowed: bool,
    tat_ms: i64,
    now_ms: i64,
    quota: Quota,
    bucket: &str,
    scope: Scope,
) -> Decision {
    let interval = quota.interval_ms();
    let ahead = (tat_ms - now_ms).max(0);
    let remaining = if allowed {
        ((quota.limit_ms() - ahead) / interval).clamp(0, i64::from(quota.burst)) as u32
    } else {
        0
    };
    let retry_after_ms = if allowed {
        0
    } else {
        (ahead + interval - quota.limit_ms()).max(1)
    };
    Decision {
        allowed,
        limit: quota.burst,
        remaining,
        reset_after: ahead as f64 / 1000.0,
        retry_after: retry_after_ms as f64 / 1000.0,
        reset_at: (now_ms + ahead) as f64 / 1000.0,
        bucket: bucket.to_owned(),
        scope,
    }
}

/// One GCRA step on an in-memory TAT: the new TAT and whether the request fits.
pub fn step(tat_ms: Option<i64>, now_ms: i64, quota: Quota, cost: u32) -> (bool, i64) {
    let current = tat_ms.unwrap_or(now_ms).max(now_ms);
    let next = current.saturating_add(quota.interval_ms().saturating_mul(i64::from(cost)));
    if next - now_ms <= quota.limit_ms() {
        (true, next)
    } else {
        (false, current)
    }
}

/// Where bucket state is kept.
#[derive(Clone)]
enum Backend {
    /// In this process: right for one node.
    Memory(Arc<Mutex<HashMap<String, i64>>>),
    /// In the database: shared by every node of a cluster.
    Store(DynStore),
    /// Everything is allowed (tests of other features, or an operator's choice).
    Off,
}

/// Buckets kept in memory before expired ones are swept.
const SWEEP_AT: usize = 10_000;

/// The rate limiter every service and the HTTP layer share.
#[derive(Clone)]
pub struct Limiter {
    backend: Backend,
}

impl Limiter {
    /// A limiter keeping its buckets in this process.
    pub fn memory() -> Limiter {
        Limiter {
            backend: Backend::Memory(Arc::default()),
        }
    }

    /// A limiter keeping its buckets in the database, shared by all nodes.
    pub fn shared(store: DynStore) -> Limiter {
        Limiter {
            backend: Backend::Store(store),
        }
    }

    /// A limiter that allows everything.
    pub fn off() -> Limiter {
        Limiter {
            backend: Backend::Off,
        }
    }

    /// Count `cost` requests on `bucket` for `key` and say whether they fit.
    pub async fn acquire(
        &self,
        bucket: &str,
        key: &str,
        quota: Quota,
        scope: Scope,
        cost: u32,
    ) -> Result<Decision> {
        let now = now_ms();
        let full_key = format!("{bucket}:{key}");
        let (allowed, tat) = match &self.backend {
            Backend::Off => (true, now),
            Backend::Memory(map) => {
                let mut map = map.lock().unwrap_or_else(PoisonError::into_inner);
                if map.len() >= SWEEP_AT {
                    map.retain(|_, tat| *tat > now);
                }
                let (allowed, tat) = step(map.get(&full_key).copied(), now, quota, cost);
                if allowed {
                    map.insert(full_key, tat);
                }
                (allowed, tat)
            }
            Backend::Store(store) => {
                let s = store
                    .rate_limit_acquire(&full_key, now, quota.interval_ms(), quota.limit_ms(), cost)
                    .await?;
                (s.allowed, s.tat_ms)
            }
        };
        Ok(decide(allowed, tat, now, quota, bucket, scope))
    }

    /// Whether one more request would fit on `bucket` for `key`, without counting it.
    pub async fn peek(
        &self,
        bucket: &str,
        key: &str,
        quota: Quota,
        scope: Scope,
    ) -> Result<Decision> {
        let now = now_ms();
        let full_key = format!("{bucket}:{key}");
        let tat = match &self.backend {
            Backend::Off => None,
            Backend::Memory(map) => map
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .get(&full_key)
                .copied(),
            Backend::Store(store) => store.rate_limit_tat(&full_key).await?,
        };
        let (allowed, _) = step(tat, now, quota, 1);
        let tat = tat.unwrap_or(now).max(now);
        Ok(decide(allowed, tat, now, quota, bucket, scope))
    }

    /// Drop buckets that are full again (only the database needs this; memory
    /// sweeps itself).
    pub async fn purge(&self) -> Result<u64> {
        match &self.backend {
            Backend::Store(store) => Ok(store.purge_rate_limits(now_ms()).await?),
            Backend::Memory(map) => {
                let now = now_ms();
                let mut map = map.lock().unwrap_or_else(PoisonError::into_inner);
                let before = map.len();
                map.retain(|_, tat| *tat > now);
                Ok((before - map.len()) as u64)
            }
            Backend::Off => Ok(0),
        }
    }
}

/// Milliseconds since the Unix epoch.
fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: Duration = Duration::from_secs(60);

    #[test]
    fn burst_then_refill() {
        let q = Quota::per(5, 5 * MIN);
        let mut tat = None;
        for i in 0..5 {
            let (ok, t) = step(tat, 0, q, 1);
            assert!(ok, "request {i} fits in the burst");
            tat = Some(t);
        }
        let (ok, t) = step(tat, 0, q, 1);
        assert!(!ok, "the sixth does not");
        let d = decide(false, t, 0, q, "b", Scope::User);
        assert_eq!(d.remaining, 0);
        assert_eq!(d.retry_after, 60.0, "one interval later a slot is back");
        assert_eq!(d.reset_after, 300.0, "full again after five intervals");
        let (ok, _) = step(tat, 60_000, q, 1);
        assert!(ok, "after one interval one more fits");
    }

    #[test]
    fn strict_quota_never_allows_more_than_n_within_the_period() {
        let q = Quota::strict(5, 15 * MIN);
        let mut tat = None;
        let mut times = Vec::new();
        // Try every 10 seconds for an hour; keep what was allowed.
        for t in (0..3_600_000).step_by(10_000) {
            let (ok, next) = step(tat, t, q, 1);
            if ok {
                tat = Some(next);
                times.push(t);
            }
        }
        for (i, &start) in times.iter().enumerate() {
            let within = times[i..]
                .iter()
                .take_while(|&&t| t < start + 15 * 60_000)
                .count();
            assert!(within <= 5, "{within} allowed within 15 minutes of {start}");
        }
    }

    #[test]
    fn remaining_counts_down() {
        let q = Quota::per(3, MIN);
        let (_, t1) = step(None, 1_000, q, 1);
        assert_eq!(decide(true, t1, 1_000, q, "b", Scope::Ip).remaining, 2);
        let (_, t2) = step(Some(t1), 1_000, q, 1);
        assert_eq!(decide(true, t2, 1_000, q, "b", Scope::Ip).remaining, 1);
    }

    #[test]
    fn a_cost_above_the_burst_never_fits() {
        let q = Quota::per(2, MIN);
        assert!(!step(None, 0, q, 3).0);
    }

    #[tokio::test]
    async fn memory_limiter_counts_per_key() {
        let l = Limiter::memory();
        let q = Quota::per(2, MIN);
        for _ in 0..2 {
            assert!(
                l.acquire("t", "a", q, Scope::User, 1)
                    .await
                    .expect("acquire")
                    .allowed
            );
        }
        assert!(
            !l.peek("t", "a", q, Scope::User)
                .await
                .expect("peek")
                .allowed
        );
        assert!(
            !l.acquire("t", "a", q, Scope::User, 1)
                .await
                .expect("acquire")
                .allowed
        );
        assert!(
            l.acquire("t", "b", q, Scope::User, 1)
                .await
                .expect("acquire")
                .allowed
        );
    }
}
