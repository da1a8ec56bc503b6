//! What one benchmark run measured, summarised: counts by outcome,
//! throughput and latency percentiles. Pure: the driver hands in outcomes
//! and times, nothing here reads a clock.

use std::collections::BTreeMap;
use std::time::Duration;

/// How one transaction (or query) of a run ended.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// A commit event arrived with this validation code (upper-snake name),
    /// `latency` after the client started the transaction.
    Committed {
        /// Validation code name, e.g. `VALID`, `MVCC_READ_CONFLICT`.
        code: &'static str,
        /// From the first request of the transaction to its commit event.
        latency: Duration,
    },
    /// A query answered, `latency` after it was sent.
    Answered {
        /// Request to response.
        latency: Duration,
    },
    /// A gRPC call (endorse, submit or evaluate) failed; `label` names the
    /// call and the status code, e.g. `endorse:Unavailable`.
    Rpc {
        /// Call and gRPC status code.
        label: String,
    },
    /// Submitted, but no commit event arrived within the run's timeout.
    TimedOut,
}

/// Latency percentiles in milliseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Percentiles {
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Largest.
    pub max: f64,
}

impl Percentiles {
    /// Nearest-rank percentiles of `samples` (milliseconds, any order);
    /// all zero when empty.
    pub fn of(mut samples: Vec<f64>) -> Percentiles {
        if samples.is_empty() {
            return Percentiles::default();
        }
        samples.sort_by(|a, b| a.total_cmp(b));
        let at = |p: f64| {
            let rank = (p * samples.len() as f64).ceil() as usize;
            samples[rank.clamp(1, samples.len()) - 1]
        };
        Percentiles {
            p50: at(0.50),
            p90: at(0.90),
            p99: at(0.99),
            max: samples[samples.len() - 1],
        }
    }
}

/// Counts and rates of one run.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Summary {
    /// Transactions (or queries) the client started.
    pub sent: usize,
    /// Committed `VALID` (for queries: answered).
    pub ok: usize,
    /// Commit events by validation code, `VALID` included.
    pub by_code: BTreeMap<String, usize>,
    /// Failed calls by call and gRPC code.
    pub by_rpc_error: BTreeMap<String, usize>,
    /// Submitted but never seen committed.
    pub timed_out: usize,
    /// `ok` per second of `elapsed`.
    pub ok_per_s: f64,
    /// Latency of the `ok` outcomes.
    pub latency_ms: Percentiles,
}

impl Summary {
    /// Summarises `outcomes` of a run that took `elapsed` (first request to
    /// last outcome).
    pub fn of(outcomes: &[Outcome], elapsed: Duration) -> Summary {
        let mut s = Summary {
            sent: outcomes.len(),
            ..Summary::default()
        };
        let mut lat = Vec::new();
        for o in outcomes {
            match o {
                Outcome::Committed { code, latency } => {
                    *s.by_code.entry((*code).to_owned()).or_default() += 1;
                    if *code == "VALID" {
                        s.ok += 1;
                        lat.push(latency.as_secs_f64() * 1e3);
                    }
                }
                Outcome::Answered { latency } => {
                    s.ok += 1;
                    lat.push(latency.as_secs_f64() * 1e3);
                }
                Outcome::Rpc { label } => *s.by_rpc_error.entry(label.clone()).or_default() += 1,
                Outcome::TimedOut => s.timed_out += 1,
            }
        }
        let secs = elapsed.as_secs_f64();
        s.ok_per_s = if secs > 0.0 { s.ok as f64 / secs } else { 0.0 };
        s.latency_ms = Percentiles::of(lat);
        s
    }

    /// Everything that did not end `ok`.
    pub fn failed(&self) -> usize {
        self.sent - self.ok
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let p = Percentiles::of((1..=100).rev().map(f64::from).collect());
        assert_eq!((p.p50, p.p90, p.p99, p.max), (50.0, 90.0, 99.0, 100.0));
        let one = Percentiles::of(vec![7.0]);
        assert_eq!((one.p50, one.p99, one.max), (7.0, 7.0, 7.0));
        assert_eq!(Percentiles::of(Vec::new()), Percentiles::default());
    }

    #[test]
    fn summary_counts_each_outcome_once_and_times_only_successes() {
        let ms = Duration::from_millis;
        let outcomes = vec![
            Outcome::Committed {
                code: "VALID",
                latency: ms(10),
            },
            Outcome::Committed {
                code: "VALID",
                latency: ms(30),
            },
            Outcome::Committed {
                code: "MVCC_READ_CONFLICT",
                latency: ms(900),
            },
            Outcome::Rpc {
                label: "endorse:Unavailable".into(),
            },
            Outcome::TimedOut,
        ];
        let s = Summary::of(&outcomes, Duration::from_secs(2));
        assert_eq!((s.sent, s.ok, s.timed_out, s.failed()), (5, 2, 1, 3));
        assert_eq!(s.by_code["VALID"], 2);
        assert_eq!(s.by_code["MVCC_READ_CONFLICT"], 1);
        assert_eq!(s.by_rpc_error["endorse:Unavailable"], 1);
        assert_eq!(s.ok_per_s, 1.0);
        assert_eq!(s.latency_ms.max, 30.0);
        assert_eq!(s.latency_ms.p50, 10.0);
    }

    #[test]
    fn queries_count_as_ok_when_answered() {
        let s = Summary::of(
            &[Outcome::Answered {
                latency: Duration::from_millis(4),
            }],
            Duration::from_millis(500),
        );
        assert_eq!((s.ok, s.ok_per_s, s.latency_ms.p99), (1, 2.0, 4.0));
    }
}
