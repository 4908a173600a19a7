//! Snowflake IDs in Discord's layout, and the generator that makes them.
//!
//! Layout (most significant bit first): 42 bits of milliseconds since the Discord
//! epoch (2015-01-01T00:00:00Z), 10 bits of worker id, 12 bits of sequence. On the
//! wire a snowflake is a JSON string; JSON integers are accepted on input only while
//! they are exactly representable in an IEEE double (|n| ≤ 2^53), because JavaScript
//! clients would otherwise have silently rounded them.

use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Milliseconds between the Unix epoch and the Discord epoch (2015-01-01).
pub const DISCORD_EPOCH_MS: u64 = 1_420_070_400_000;
/// Largest worker id that fits the 10-bit worker field.
pub const MAX_WORKER_ID: u16 = 1023;
const SEQUENCE_BITS: u32 = 12;
const WORKER_BITS: u32 = 10;
const SEQUENCE_MASK: u64 = (1 << SEQUENCE_BITS) - 1;
/// Largest integer a JSON number may carry as an ID (2^53).
pub const MAX_SAFE_JSON_INTEGER: u64 = 1 << 53;

/// A 64-bit Discord-style ID. Ordering follows creation time.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Snowflake(pub u64);

/// Why a text could not be read as a snowflake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnowflakeParseError(pub String);

impl fmt::Display for SnowflakeParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Value \"{}\" is not snowflake.", self.0)
    }
}

impl std::error::Error for SnowflakeParseError {}

impl Snowflake {
    /// Milliseconds since the Unix epoch at which this ID was made.
    pub fn timestamp_ms(self) -> u64 {
        (self.0 >> (SEQUENCE_BITS + WORKER_BITS)) + DISCORD_EPOCH_MS
    }

    /// The worker field.
    pub fn worker(self) -> u16 {
        ((self.0 >> SEQUENCE_BITS) & u64::from(MAX_WORKER_ID)) as u16
    }

    /// The sequence field.
    pub fn sequence(self) -> u16 {
        (self.0 & SEQUENCE_MASK) as u16
    }

    /// The smallest snowflake made at `unix_ms`, for time-bounded range queries.
    pub fn from_timestamp_ms(unix_ms: u64) -> Snowflake {
        Snowflake(unix_ms.saturating_sub(DISCORD_EPOCH_MS) << (SEQUENCE_BITS + WORKER_BITS))
    }

    /// The value as the signed integer SQL databases store (BIGINT). IDs made by the
    /// generator never set the top bit, so the conversion is lossless for them.
    pub fn as_i64(self) -> i64 {
        self.0 as i64
    }

    /// Inverse of [`Snowflake::as_i64`].
    pub fn from_i64(v: i64) -> Snowflake {
        Snowflake(v as u64)
    }
}

impl fmt::Display for Snowflake {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl fmt::Debug for Snowflake {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl FromStr for Snowflake {
    type Err = SnowflakeParseError;

    /// Accepts only plain decimal digits (no sign, no whitespace) that fit 63 bits,
    /// so every stored ID round-trips through a signed BIGINT column.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let shown: String = s.chars().take(32).collect();
        if s.is_empty() || s.len() > 19 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(SnowflakeParseError(shown));
        }
        match s.parse::<u64>() {
            Ok(v) if v <= i64::MAX as u64 => Ok(Snowflake(v)),
            _ => Err(SnowflakeParseError(shown)),
        }
    }
}

impl Serialize for Snowflake {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Snowflake {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Snowflake;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a snowflake as a string of digits")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Snowflake, E> {
                v.parse().map_err(|e: SnowflakeParseError| E::custom(e))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Snowflake, E> {
                if v > MAX_SAFE_JSON_INTEGER {
                    return Err(E::custom(format!(
                        "Value \"{v}\" is not snowflake: integers above 2^53 must be sent as strings."
                    )));
                }
                Ok(Snowflake(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Snowflake, E> {
                if v < 0 {
                    return Err(E::custom(format!("Value \"{v}\" is not snowflake.")));
                }
                self.visit_u64(v as u64)
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Snowflake, E> {
                Err(E::custom(format!("Value \"{v}\" is not snowflake.")))
            }
        }
        d.deserialize_any(V)
    }
}

/// Makes unique, time-ordered snowflakes for one worker without locking.
///
/// The state word packs the last used millisecond (relative to the Discord epoch)
/// and sequence. When the sequence of a millisecond is exhausted, or the clock goes
/// backwards, the generator borrows the next millisecond instead of blocking or
/// repeating, so IDs stay unique and strictly increasing per worker.
#[derive(Debug)]
pub struct SnowflakeGenerator {
    worker: u64,
    state: AtomicU64,
}

impl SnowflakeGenerator {
    /// A generator for `worker` (0..=1023). Returns `None` for a larger worker id.
    pub fn new(worker: u16) -> Option<Self> {
        (worker <= MAX_WORKER_ID).then(|| SnowflakeGenerator {
            worker: u64::from(worker),
            state: AtomicU64::new(0),
        })
    }

    /// The worker id this generator stamps into its IDs.
    pub fn worker(&self) -> u16 {
        self.worker as u16
    }

    /// A new ID, strictly greater than every ID this generator returned before.
    pub fn next(&self) -> Snowflake {
        let now = now_ms().saturating_sub(DISCORD_EPOCH_MS);
        let mut prev = self.state.load(Ordering::Relaxed);
        loop {
            let prev_ms = prev >> SEQUENCE_BITS;
            let next = if now > prev_ms {
                now << SEQUENCE_BITS
            } else {
                // Same millisecond (or clock went back): take the next sequence; an
                // overflow carries into the millisecond field, borrowing from the future.
                prev + 1
            };
            match self
                .state
                .compare_exchange_weak(prev, next, Ordering::Relaxed, Ordering::Relaxed)
            {
                Ok(_) => {
                    let ms = next >> SEQUENCE_BITS;
                    let seq = next & SEQUENCE_MASK;
                    return Snowflake(
                        (ms << (SEQUENCE_BITS + WORKER_BITS))
                            | (self.worker << SEQUENCE_BITS)
                            | seq,
                    );
                }
                Err(actual) => prev = actual,
            }
        }
    }
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn layout_matches_discord_example() {
        // The example from Discord's reference documentation.
        let id: Snowflake = "175928847299117063".parse().expect("valid");
        assert_eq!(id.timestamp_ms(), 1_462_015_105_796);
        assert_eq!(id.worker(), 1 << 5); // internal worker 1, process 0
        assert_eq!(id.sequence(), 7);
    }

    #[test]
    fn generator_is_unique_and_increasing_across_threads() {
        let g = std::sync::Arc::new(SnowflakeGenerator::new(513).expect("worker"));
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let g = g.clone();
                std::thread::spawn(move || (0..20_000).map(|_| g.next()).collect::<Vec<_>>())
            })
            .collect();
        let mut all = HashSet::new();
        for h in handles {
            let ids = h.join().expect("thread");
            assert!(ids.windows(2).all(|w| w[0] < w[1]), "per-thread order");
            for id in ids {
                assert_eq!(id.worker(), 513);
                assert!(all.insert(id), "duplicate {id}");
            }
        }
        assert_eq!(all.len(), 80_000);
        let now = now_ms();
        let first = *all.iter().min().expect("ids");
        assert!(first.timestamp_ms() <= now + 1000 && first.timestamp_ms() + 60_000 > now);
    }

    #[test]
    fn worker_out_of_range_is_refused() {
        assert!(SnowflakeGenerator::new(1024).is_none());
        assert!(SnowflakeGenerator::new(1023).is_some());
    }

    #[test]
    fn parsing_refuses_overflow_signs_and_junk() {
        for bad in [
            "",
            "-1",
            "+1",
            " 1",
            "1.0",
            "abc",
            "18446744073709551616",
            "9223372036854775808",
            "00000000000000000000001",
        ] {
            assert!(bad.parse::<Snowflake>().is_err(), "{bad:?} accepted");
        }
        assert_eq!(
            "9223372036854775807".parse::<Snowflake>().expect("max").0,
            i64::MAX as u64
        );
    }

    #[test]
    fn json_strings_and_safe_integers_only() {
        let s: Snowflake = serde_json::from_str("\"12345\"").expect("string");
        assert_eq!(s.0, 12345);
        let s: Snowflake = serde_json::from_str("9007199254740992").expect("2^53");
        assert_eq!(s.0, 1 << 53);
        for bad in [
            "9007199254740993",
            "-5",
            "1e3",
            "18446744073709551616",
            "true",
            "null",
        ] {
            assert!(
                serde_json::from_str::<Snowflake>(bad).is_err(),
                "{bad} accepted"
            );
        }
        assert_eq!(
            serde_json::to_string(&Snowflake(42)).expect("ser"),
            "\"42\""
        );
    }
}
