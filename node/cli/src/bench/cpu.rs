//! CPU time of local peer processes during a run, from `/proc/<pid>/stat`
//! and the PID files `scripts/network.sh` writes (`<dir>/pids/peerK.pid`).

use std::path::Path;

/// Clock ticks per second of `/proc/<pid>/stat` times (`USER_HZ`). The
/// kernel fixes it at 100 for user space on the architectures we run on.
pub const USER_HZ: f64 = 100.0;

/// User plus system CPU ticks from the text of a `/proc/<pid>/stat` file.
/// The command name (field 2) may hold spaces and parentheses, so fields
/// are counted after its last `)`.
pub fn ticks_of_stat(stat: &str) -> Option<u64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace();
    // After the name: state (3), ppid (4), ... utime is field 14, stime 15.
    let utime: u64 = fields.nth(11)?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

/// CPU seconds `pid` has used so far, if it is a live local process.
pub fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    Some(ticks_of_stat(&stat)? as f64 / USER_HZ)
}

/// The PIDs of peers `0..n` recorded under `run_dir/pids`, `None` where a
/// file is missing or unreadable (a remote peer, or another network).
pub fn peer_pids(run_dir: Option<&Path>, n: usize) -> Vec<Option<u32>> {
    (0..n)
        .map(|k| {
            let dir = run_dir?;
            std::fs::read_to_string(dir.join("pids").join(format!("peer{k}.pid")))
                .ok()?
                .trim()
                .parse()
                .ok()
        })
        .collect()
}

/// CPU use of one peer over a run.
#[derive(Clone, Debug, PartialEq)]
pub struct PeerCpu {
    /// The peer's gateway address.
    pub peer: String,
    /// Its local PID, if known.
    pub pid: Option<u32>,
    /// CPU seconds used during the run; `None` for a remote peer.
    pub seconds: Option<f64>,
    /// `seconds` as a percentage of one core over the run's wall time.
    pub pct_of_core: Option<f64>,
}

/// CPU readings at the start of a run, to be closed with [`Meter::finish`].
#[derive(Debug)]
pub struct Meter {
    start: Vec<(String, Option<u32>, Option<f64>)>,
}

impl Meter {
    /// Reads the current CPU time of each peer (`pids[k]` belongs to `peers[k]`).
    pub fn start(peers: &[String], pids: &[Option<u32>]) -> Meter {
        Meter {
            start: peers
                .iter()
                .zip(pids)
                .map(|(p, pid)| (p.clone(), *pid, pid.and_then(cpu_seconds)))
                .collect(),
        }
    }

    /// CPU used since [`Meter::start`], over `wall_secs` of wall time.
    pub fn finish(&self, wall_secs: f64) -> Vec<PeerCpu> {
        self.start
            .iter()
            .map(|(peer, pid, before)| {
                let used = pid
                    .and_then(cpu_seconds)
                    .zip(*before)
                    .map(|(after, before)| after - before);
                PeerCpu {
                    peer: peer.clone(),
                    pid: *pid,
                    seconds: used,
                    pct_of_core: used
                        .filter(|_| wall_secs > 0.0)
                        .map(|u| 100.0 * u / wall_secs),
                }
            })
            .collect()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_are_counted_after_the_command_name() {
        // A name with spaces and a parenthesis; utime 1234, stime 56.
        let stat = "4242 (cryptanet (x) y) S 1 4242 4242 0 -1 4194560 500 0 0 0 1234 56 0 0 20 0 9 0 100 0";
        assert_eq!(ticks_of_stat(stat), Some(1290));
        assert_eq!(ticks_of_stat("garbage"), None);
        assert_eq!(ticks_of_stat("1 (a) S 1 2"), None);
    }

    #[test]
    fn this_process_has_used_some_cpu_and_missing_pids_are_none() {
        let me = std::process::id();
        assert!(cpu_seconds(me).is_some());
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("pids")).unwrap();
        std::fs::write(dir.path().join("pids/peer0.pid"), format!("{me}\n")).unwrap();
        assert_eq!(peer_pids(Some(dir.path()), 2), vec![Some(me), None]);
        assert_eq!(peer_pids(None, 1), vec![None]);
        let m = Meter::start(&["a".into(), "b".into()], &[Some(me), None]);
        let cpu = m.finish(1.0);
        assert!(cpu[0].seconds.is_some_and(|s| s >= 0.0));
        assert_eq!(cpu[1].seconds, None);
        assert_eq!(cpu[1].pct_of_core, None);
    }
}
