//! A run's report: the JSON written by `--json` and the markdown table
//! printed at the end.

use super::cpu::PeerCpu;
use super::stats::Summary;
use serde_json::{json, Value};

/// Everything measured in one run (one rate, or one concurrency step).
#[derive(Clone, Debug)]
pub struct RunReport {
    /// `record-reading`, `blind-write` or `query`.
    pub workload: String,
    /// `open` (fixed rate) or `closed` (fixed concurrency).
    pub mode: &'static str,
    /// Offered rate of an open loop.
    pub offered_rate: Option<f64>,
    /// Clients of a closed loop.
    pub concurrency: Option<usize>,
    /// Transactions per batch call (1: the unary calls).
    pub batch: usize,
    /// Counts, rate, latency.
    pub summary: Summary,
    /// Seconds from the first send to the last success.
    pub elapsed_s: f64,
    /// How late the open-loop sender was at its last send, in seconds.
    pub sender_behind_s: f64,
    /// CPU per peer during the run.
    pub cpu: Vec<PeerCpu>,
}

fn round(x: f64, digits: i32) -> f64 {
    let f = 10f64.powi(digits);
    (x * f).round() / f
}

impl RunReport {
    /// The JSON form (one object per run).
    pub fn to_json(&self) -> Value {
        let s = &self.summary;
        let l = s.latency_ms;
        json!({
            "workload": self.workload,
            "mode": self.mode,
            "offered_rate": self.offered_rate,
            "concurrency": self.concurrency,
            "batch": self.batch,
            "sent": s.sent,
            "committed_valid": s.ok,
            "failed": s.failed(),
            "by_validation_code": s.by_code,
            "by_grpc_error": s.by_rpc_error,
            "timed_out": s.timed_out,
            "ok_per_s": round(s.ok_per_s, 1),
            "elapsed_s": round(self.elapsed_s, 3),
            "sender_behind_s": round(self.sender_behind_s, 3),
            "latency_ms": {
                "p50": round(l.p50, 2), "p90": round(l.p90, 2),
                "p99": round(l.p99, 2), "max": round(l.max, 2),
            },
            "cpu_per_peer": self.cpu.iter().map(|c| json!({
                "peer": c.peer,
                "pid": c.pid,
                "cpu_s": c.seconds.map(|x| round(x, 2)),
                "pct_of_core": c.pct_of_core.map(|x| round(x, 1)),
            })).collect::<Vec<_>>(),
        })
    }

    /// Header of [`RunReport::table_row`].
    pub const TABLE_HEADER: &'static str = "| workload | mode | offered | sent | ok | failed | ok/s | p50 ms | p90 ms | p99 ms | max ms | CPU per peer (% of a core) |\n|---|---|---|---|---|---|---|---|---|---|---|---|";

    /// One markdown table row.
    pub fn table_row(&self) -> String {
        let s = &self.summary;
        let l = s.latency_ms;
        let offered = match (self.offered_rate, self.concurrency) {
            (Some(r), _) => format!("{r:.0}/s"),
            (None, Some(c)) => format!("{c} clients"),
            _ => "-".into(),
        };
        let mode = match self.batch {
            0 | 1 => self.mode.to_owned(),
            b => format!("{}, batch {b}", self.mode),
        };
        let mut failed = s.failed().to_string();
        let reasons: Vec<String> = s
            .by_code
            .iter()
            .filter(|(k, _)| k.as_str() != "VALID")
            .chain(s.by_rpc_error.iter())
            .map(|(k, v)| format!("{k} {v}"))
            .chain((s.timed_out > 0).then(|| format!("timed out {}", s.timed_out)))
            .collect();
        if !reasons.is_empty() {
            failed = format!("{failed} ({})", reasons.join(", "));
        }
        let cpu: Vec<String> = self
            .cpu
            .iter()
            .map(|c| c.pct_of_core.map_or("n/a".into(), |p| format!("{p:.0}")))
            .collect();
        format!(
            "| {} | {mode} | {offered} | {} | {} | {failed} | {:.0} | {:.0} | {:.0} | {:.0} | {:.0} | {} |",
            self.workload,
            s.sent,
            s.ok,
            s.ok_per_s,
            l.p50,
            l.p90,
            l.p99,
            l.max,
            cpu.join(" / ")
        )
    }
}

/// Whether a closed-loop search should try the next, larger concurrency
/// after steps with `(ok_per_s, p99_ms)` so far: not once p99 exceeded
/// `p99_bound_ms`, nor once throughput rose by less than 5 % over the best
/// earlier step.
pub fn keep_stepping(steps: &[(f64, f64)], p99_bound_ms: f64) -> bool {
    let Some((&(last_tps, last_p99), earlier)) = steps.split_last() else {
        return true;
    };
    if last_p99 > p99_bound_ms {
        return false;
    }
    let best_before = earlier.iter().map(|s| s.0).fold(0.0, f64::max);
    earlier.is_empty() || last_tps >= best_before * 1.05
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_search_stops_when_throughput_flattens_or_latency_breaks_the_bound() {
        assert!(keep_stepping(&[], 500.0));
        assert!(keep_stepping(&[(100.0, 50.0)], 500.0));
        assert!(keep_stepping(&[(100.0, 50.0), (180.0, 90.0)], 500.0));
        assert!(!keep_stepping(
            &[(100.0, 50.0), (180.0, 90.0), (185.0, 200.0)],
            500.0
        ));
        assert!(!keep_stepping(&[(100.0, 50.0), (300.0, 600.0)], 500.0));
        assert!(!keep_stepping(&[(100.0, 900.0)], 500.0));
    }

    #[test]
    fn json_and_row_name_failures_and_remote_peers() {
        let mut summary = Summary::of(
            &[
                super::super::stats::Outcome::Committed {
                    code: "VALID",
                    latency: std::time::Duration::from_millis(20),
                },
                super::super::stats::Outcome::Committed {
                    code: "MVCC_READ_CONFLICT",
                    latency: std::time::Duration::from_millis(20),
                },
            ],
            std::time::Duration::from_secs(1),
        );
        summary.timed_out = 0;
        let r = RunReport {
            workload: "blind-write".into(),
            mode: "open",
            offered_rate: Some(100.0),
            concurrency: None,
            batch: 1,
            summary,
            elapsed_s: 1.0,
            sender_behind_s: 0.0,
            cpu: vec![
                PeerCpu {
                    peer: "a".into(),
                    pid: Some(1),
                    seconds: Some(0.5),
                    pct_of_core: Some(50.0),
                },
                PeerCpu {
                    peer: "b".into(),
                    pid: None,
                    seconds: None,
                    pct_of_core: None,
                },
            ],
        };
        let j = r.to_json();
        assert_eq!(j["committed_valid"], 1);
        assert_eq!(j["failed"], 1);
        assert_eq!(j["by_validation_code"]["MVCC_READ_CONFLICT"], 1);
        assert_eq!(j["cpu_per_peer"][1]["cpu_s"], Value::Null);
        let row = r.table_row();
        assert!(row.contains("1 (MVCC_READ_CONFLICT 1)"), "{row}");
        assert!(row.ends_with("| 50 / n/a |"), "{row}");
    }
}
