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
use cryptanet_types::{Digest, Envelope, SignedProposal};
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

/// Waits up to `timeout` for a commit event; latency from `start`.
async fn committed(
    rx: tokio::sync::oneshot::Receiver<super::tracker::Commit>,
    timeout: Duration,
    start: Instant,
) -> Outcome {
    match tokio::time::timeout(timeout, rx).await {
        Ok(Ok((at, code))) => Outcome::Committed {
            code,
            latency: Instant::saturating_duration_since(&at, start),
        },
        _ => Outcome::TimedOut,
    }
}

/// Sends one item and waits for its end.
pub async fn run_one(item: Item, target: &Target) -> Outcome {
    let start = Instant::now();
    let committed = |rx| committed(rx, target.commit_timeout, start);
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

/// Sends a batch of items of one kind on one gateway with the batch calls
/// (`EndorseBatch`, then `SubmitBatch`), each item measured from the
/// batch's first call to its own commit. Queries have no batch call: a
/// query in a batch fails (`evaluate:not batched`); `cryptanet bench`
/// refuses `--batch` with the query workload.
pub async fn run_batch(items: Vec<Item>, target: &Target) -> Vec<Outcome> {
    let start = Instant::now();
    let committed = |rx| committed(rx, target.commit_timeout, start);
    let n = items.len();
    let Some(gateway) = items.first().map(Item::gateway) else {
        return Vec::new();
    };
    let client = &target.clients[gateway];
    let rpc_failed = |call: &str, e: &crate::Error| Outcome::Rpc {
        label: label(call, e),
    };
    // Envelopes to submit, each with its tx id; items that failed before
    // (endorsement) already have their outcome.
    let mut outcomes: Vec<Option<Outcome>> = vec![None; n];
    let mut envelopes: Vec<(usize, Digest, Envelope)> = Vec::with_capacity(n);
    let proposals: Vec<(usize, Digest, SignedProposal)> = items
        .into_iter()
        .enumerate()
        .filter_map(|(i, item)| match item {
            Item::Submit {
                tx_id, envelope, ..
            } => {
                match Envelope::from_bytes(&envelope) {
                    Ok(e) => envelopes.push((i, tx_id, e)),
                    Err(e) => outcomes[i] = Some(rpc_failed("submit", &crate::Error::Types(e))),
                }
                None
            }
            Item::Invoke {
                tx_id, proposal, ..
            } => Some((i, tx_id, proposal)),
            Item::Query { .. } => {
                outcomes[i] = Some(Outcome::Rpc {
                    label: "evaluate:not batched".into(),
                });
                None
            }
        })
        .collect();
    if !proposals.is_empty() {
        let signed: Vec<SignedProposal> = proposals.iter().map(|(_, _, p)| p.clone()).collect();
        match client.peer().endorse_batch(&signed, &[]).await {
            Err(e) => {
                let e = crate::Error::Rpc(e);
                for (i, ..) in &proposals {
                    outcomes[*i] = Some(rpc_failed("endorse", &e));
                }
            }
            Ok(answers) => {
                for ((i, tx_id, _), answer) in proposals.into_iter().zip(answers) {
                    match answer {
                        Ok(endorsed) => envelopes.push((
                            i,
                            tx_id,
                            endorsed.sign(client.identity().signing_key()),
                        )),
                        Err(e) => outcomes[i] = Some(rpc_failed("endorse", &crate::Error::Rpc(e))),
                    }
                }
            }
        }
    }
    let waits: Vec<(usize, String, _)> = envelopes
        .iter()
        .map(|(i, tx_id, _)| {
            let wire = tx_id_to_wire(tx_id);
            let rx = target.tracker.register(wire.clone());
            (*i, wire, rx)
        })
        .collect();
    let batch: Vec<Envelope> = envelopes.into_iter().map(|(.., e)| e).collect();
    let submitted = if batch.is_empty() {
        Ok(Vec::new())
    } else {
        client.peer().submit_batch(&batch).await
    };
    let mut pending = Vec::new();
    match submitted {
        Err(e) => {
            let e = crate::Error::Rpc(e);
            for (i, wire, _) in waits {
                target.tracker.forget(&wire);
                outcomes[i] = Some(rpc_failed("submit", &e));
            }
        }
        Ok(results) => {
            for ((i, wire, rx), result) in waits.into_iter().zip(results) {
                match result {
                    Ok(_) => pending.push((i, rx)),
                    Err(e) => {
                        target.tracker.forget(&wire);
                        outcomes[i] = Some(rpc_failed("submit", &crate::Error::Rpc(e)));
                    }
                }
            }
        }
    }
    let done = futures::future::join_all(
        pending
            .into_iter()
            .map(|(i, rx)| async move { (i, committed(rx).await) }),
    )
    .await;
    for (i, o) in done {
        outcomes[i] = Some(o);
    }
    outcomes
        .into_iter()
        .map(|o| o.unwrap_or(Outcome::TimedOut))
        .collect()
}

/// Runs a group (one item: the unary calls; more: the batch calls) and
/// counts its outcomes.
async fn run_counted(
    group: Vec<(usize, Item)>,
    target: &Target,
    progress: &Progress,
) -> Vec<(usize, Outcome)> {
    progress.started.fetch_add(group.len(), Relaxed);
    let (indices, items): (Vec<usize>, Vec<Item>) = group.into_iter().unzip();
    let outcomes = if items.len() == 1 {
        let item = items.into_iter().next().map(|i| run_one(i, target));
        match item {
            Some(f) => vec![f.await],
            None => Vec::new(),
        }
    } else {
        run_batch(items, target).await
    };
    for outcome in &outcomes {
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
    }
    indices.into_iter().zip(outcomes).collect()
}

/// Splits numbered items into groups of at most `size` items that share a
/// gateway (and so can go in one batch call), in order of their first item.
pub fn group(items: Vec<Item>, size: usize) -> Vec<Vec<(usize, Item)>> {
    let size = size.max(1);
    let mut open: std::collections::BTreeMap<usize, Vec<(usize, Item)>> = Default::default();
    let mut groups: Vec<Vec<(usize, Item)>> = Vec::new();
    for (i, item) in items.into_iter().enumerate() {
        let gateway = item.gateway();
        let g = open.entry(gateway).or_default();
        g.push((i, item));
        if g.len() >= size {
            groups.extend(open.remove(&gateway));
        }
    }
    groups.extend(open.into_values().filter(|g| !g.is_empty()));
    groups.sort_by_key(|g| g.first().map_or(usize::MAX, |(i, _)| *i));
    groups
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

/// Starts the group holding item `i` at `i / rate` seconds after the
/// first, whatever is in flight (up to [`MAX_IN_FLIGHT`] groups), and waits
/// for all of them. Groups of one item use the unary calls.
pub async fn open_loop(
    groups: Vec<Vec<(usize, Item)>>,
    rate: f64,
    target: Arc<Target>,
    label: String,
) -> Run {
    let n = groups.iter().map(Vec::len).sum();
    let progress = Arc::new(Progress::new());
    let printer = progress_line(label, n, progress.clone());
    let limit = Arc::new(tokio::sync::Semaphore::new(MAX_IN_FLIGHT));
    let interval = Duration::from_secs_f64(1.0 / rate.max(0.001));
    let start = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    let mut behind = Duration::ZERO;
    for group in groups {
        let first = group.first().map_or(0, |(i, _)| *i);
        let due = start + interval.mul_f64(first as f64);
        tokio::time::sleep_until(due.into()).await;
        let Ok(permit) = limit.clone().acquire_owned().await else {
            break;
        };
        behind = Instant::now().saturating_duration_since(due);
        let (target, progress) = (target.clone(), progress.clone());
        tasks.spawn(async move {
            let _permit = permit;
            run_counted(group, &target, &progress).await
        });
    }
    let mut outcomes = vec![Outcome::TimedOut; n];
    while let Some(done) = tasks.join_next().await {
        for (i, o) in done.unwrap_or_default() {
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

/// `concurrency` clients each take the next group as soon as their previous
/// one ended, until the groups run out.
pub async fn closed_loop(
    groups: Vec<Vec<(usize, Item)>>,
    concurrency: usize,
    target: Arc<Target>,
    label: String,
) -> Run {
    let n = groups.iter().map(Vec::len).sum();
    let progress = Arc::new(Progress::new());
    let printer = progress_line(label, n, progress.clone());
    let queue = Arc::new(std::sync::Mutex::new(groups.into_iter()));
    let start = Instant::now();
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..concurrency.max(1) {
        let (queue, target, progress) = (queue.clone(), target.clone(), progress.clone());
        workers.spawn(async move {
            let mut mine = Vec::new();
            loop {
                let next = queue.lock().unwrap_or_else(|e| e.into_inner()).next();
                let Some(group) = next else { break };
                mine.extend(run_counted(group, &target, &progress).await);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_share_a_gateway_hold_at_most_size_items_and_keep_order() {
        let gateways = [0, 1, 0, 0, 1, 2, 0, 0];
        let items = || {
            gateways
                .iter()
                .map(|&gateway| Item::Submit {
                    gateway,
                    tx_id: Digest::ZERO,
                    envelope: Vec::new(),
                })
                .collect::<Vec<_>>()
        };
        let shape = |groups: Vec<Vec<(usize, Item)>>| -> Vec<Vec<usize>> {
            groups
                .into_iter()
                .map(|g| g.into_iter().map(|(i, _)| i).collect())
                .collect()
        };
        assert_eq!(
            shape(group(items(), 2)),
            [vec![0, 2], vec![1, 4], vec![3, 6], vec![5], vec![7]]
        );
        let ones = shape(group(items(), 1));
        assert_eq!(ones, (0..8).map(|i| vec![i]).collect::<Vec<_>>());
        assert_eq!(
            shape(group(items(), 100)),
            [vec![0, 2, 3, 6, 7], vec![1, 4], vec![5]]
        );
    }
}
