//! Sending prepared work: an open loop at a fixed offered rate, or a closed
//! loop of N clients that each start the next item when the previous one
//! ended. Each item's outcome and latency is measured here; a progress line
//! goes to stderr once a second.

use super::prepare::Item;
use super::stats::Outcome;
use super::tracker::Tracker;
use crate::client::Client;
use cryptanet_proto::convert::tx_id_to_wire;
use cryptanet_proto::v1::SubmitRequest;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Open-loop sends in flight at most; beyond it the sender waits (and the
/// report shows that it fell behind its schedule).
pub const MAX_IN_FLIGHT: usize = 20_000;

/// What the driver needs: one client per gateway (signing as that org's
/// client), the commit tracker and how long to wait for a commit.
pub struct Target {
    /// Clients by gateway index.
    pub clients: Vec<Client>,
    /// Commit events.
    pub tracker: Arc<Tracker>,
    /// Wait for a commit at most this long after submitting.
    pub commit_timeout: Duration,
}

/// Counters the progress line reads, and when the last success came.
#[derive(Debug)]
pub struct Progress {
    base: Instant,
    started: AtomicUsize,
    ok: AtomicUsize,
    failed: AtomicUsize,
    last_ok_us: AtomicU64,
}

impl Progress {
    fn new() -> Progress {
        Progress {
            base: Instant::now(),
            started: AtomicUsize::new(0),
            ok: AtomicUsize::new(0),
            failed: AtomicUsize::new(0),
            last_ok_us: AtomicU64::new(0),
        }
    }

    /// From `start` to the last success (or to now, if none).
    fn until_last_ok(&self, start: Instant) -> Duration {
        match self.last_ok_us.load(Relaxed) {
            0 => start.elapsed(),
            us => (self.base + Duration::from_micros(us)).saturating_duration_since(start),
        }
    }
}

/// The outcomes of a run, in item order, and its timing.
#[derive(Debug)]
pub struct Run {
    /// One per item.
    pub outcomes: Vec<Outcome>,
    /// From the first send to the last success (commit or answer).
    pub elapsed: Duration,
    /// How late the open-loop sender was at its last send (zero for
    /// closed loops): a large value means the client, not the network,
    /// limited the offered rate.
    pub sender_behind: Duration,
}

fn label(call: &str, e: &crate::Error) -> String {
    match e {
        crate::Error::Rpc(cryptanet_proto::Error::Rpc { code, .. }) => format!("{call}:{code:?}"),
        crate::Error::Rpc(cryptanet_proto::Error::Transport(_)) => format!("{call}:transport"),
        _ => format!("{call}:other"),
    }
}

/// Sends one item and waits for its end.
pub async fn run_one(item: Item, target: &Target) -> Outcome {
    let start = Instant::now();
    let committed = |rx: tokio::sync::oneshot::Receiver<_>| async {
        match tokio::time::timeout(target.commit_timeout, rx).await {
            Ok(Ok((at, code))) => Outcome::Committed {
                code,
                latency: Instant::saturating_duration_since(&at, start),
            },
            _ => Outcome::TimedOut,
        }
    };
    match item {
        Item::Submit {
            gateway,
            tx_id,
            envelope,
        } => {
            let wire = tx_id_to_wire(&tx_id);
            let rx = target.tracker.register(wire.clone());
            let mut gw = target.clients[gateway].peer().gateway();
            if let Err(status) = gw.submit(SubmitRequest { envelope }).await {
                target.tracker.forget(&wire);
                let e = crate::Error::Rpc(status.into());
                return Outcome::Rpc {
                    label: label("submit", &e),
                };
            }
            committed(rx).await
        }
        Item::Invoke {
            gateway,
            tx_id,
            proposal,
        } => {
            let client = &target.clients[gateway];
            let wire = tx_id_to_wire(&tx_id);
            let endorsed = match client.endorse(&proposal, &[]).await {
                Ok(e) => e,
                Err(e) => {
                    return Outcome::Rpc {
                        label: label("endorse", &e),
                    }
                }
            };
            let envelope = endorsed.sign(client.identity().signing_key());
            let rx = target.tracker.register(wire.clone());
            if let Err(e) = client.peer().submit(&envelope).await {
                target.tracker.forget(&wire);
                return Outcome::Rpc {
                    label: label("submit", &crate::Error::Rpc(e)),
                };
            }
            committed(rx).await
        }
        Item::Query { gateway, proposal } => {
            match target.clients[gateway].peer().evaluate(&proposal).await {
                Ok(_) => Outcome::Answered {
                    latency: start.elapsed(),
                },
                Err(e) => Outcome::Rpc {
                    label: label("evaluate", &crate::Error::Rpc(e)),
                },
            }
        }
    }
}

async fn run_counted(item: Item, target: &Target, progress: &Progress) -> Outcome {
    progress.started.fetch_add(1, Relaxed);
    let outcome = run_one(item, target).await;
    let ok = matches!(
        outcome,
        Outcome::Committed { code: "VALID", .. } | Outcome::Answered { .. }
    );
    if ok {
        progress.ok.fetch_add(1, Relaxed);
        let us = progress.base.elapsed().as_micros() as u64;
        progress.last_ok_us.fetch_max(us.max(1), Relaxed);
    } else {
        progress.failed.fetch_add(1, Relaxed);
    }
    outcome
}

/// Prints `label` and the counters to stderr every second until dropped.
fn progress_line(
    label: String,
    total: usize,
    progress: Arc<Progress>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let start = Instant::now();
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        tick.tick().await;
        let mut last_ok = 0;
        loop {
            tick.tick().await;
            let ok = progress.ok.load(Relaxed);
            let started = progress.started.load(Relaxed);
            let failed = progress.failed.load(Relaxed);
            eprintln!(
                "bench {label}: {:>5.1} s  started {started}/{total}  ok {ok}  failed {failed}  in flight {}  {} ok/s",
                start.elapsed().as_secs_f64(),
                started - ok - failed,
                ok - last_ok
            );
            last_ok = ok;
        }
    })
}

/// Starts item `i` at `i / rate` seconds after the first, whatever is in
/// flight (up to [`MAX_IN_FLIGHT`]), and waits for all of them.
pub async fn open_loop(items: Vec<Item>, rate: f64, target: Arc<Target>, label: String) -> Run {
    let n = items.len();
    let progress = Arc::new(Progress::new());
    let printer = progress_line(label, n, progress.clone());
    let limit = Arc::new(tokio::sync::Semaphore::new(MAX_IN_FLIGHT));
    let interval = Duration::from_secs_f64(1.0 / rate.max(0.001));
    let start = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    let mut behind = Duration::ZERO;
    for (i, item) in items.into_iter().enumerate() {
        let due = start + interval.mul_f64(i as f64);
        tokio::time::sleep_until(due.into()).await;
        let Ok(permit) = limit.clone().acquire_owned().await else {
            break;
        };
        behind = Instant::now().saturating_duration_since(due);
        let (target, progress) = (target.clone(), progress.clone());
        tasks.spawn(async move {
            let _permit = permit;
            (i, run_counted(item, &target, &progress).await)
        });
    }
    let mut outcomes = vec![Outcome::TimedOut; n];
    while let Some(done) = tasks.join_next().await {
        if let Ok((i, o)) = done {
            outcomes[i] = o;
        }
    }
    let elapsed = progress.until_last_ok(start);
    printer.abort();
    Run {
        outcomes,
        elapsed,
        sender_behind: behind,
    }
}

/// `concurrency` clients each take the next item as soon as their previous
/// one ended, until the items run out.
pub async fn closed_loop(
    items: Vec<Item>,
    concurrency: usize,
    target: Arc<Target>,
    label: String,
) -> Run {
    let n = items.len();
    let progress = Arc::new(Progress::new());
    let printer = progress_line(label, n, progress.clone());
    let queue = Arc::new(std::sync::Mutex::new(items.into_iter().enumerate()));
    let start = Instant::now();
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..concurrency.max(1) {
        let (queue, target, progress) = (queue.clone(), target.clone(), progress.clone());
        workers.spawn(async move {
            let mut mine = Vec::new();
            loop {
                let next = queue.lock().unwrap_or_else(|e| e.into_inner()).next();
                let Some((i, item)) = next else { break };
                mine.push((i, run_counted(item, &target, &progress).await));
            }
            mine
        });
    }
    let mut outcomes = vec![Outcome::TimedOut; n];
    while let Some(done) = workers.join_next().await {
        for (i, o) in done.unwrap_or_default() {
            outcomes[i] = o;
        }
    }
    let elapsed = progress.until_last_ok(start);
    printer.abort();
    Run {
        outcomes,
        elapsed,
        sender_behind: Duration::ZERO,
    }
}
