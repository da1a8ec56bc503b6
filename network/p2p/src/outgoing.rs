//! Per-peer outgoing queues bounded by bytes, in front of a [`Transport`].
//!
//! [`Outgoing::send`] never waits: each peer has its own queue and sender
//! task, so a slow or dead peer holds up nobody else. A queue holds at most
//! `max_bytes` of messages. A message that would take its peer's queue past
//! that is **dropped** (the newest message, not the queued ones), counted in
//! [`Metrics::outgoing_dropped`] / [`Metrics::outgoing_dropped_bytes`], and
//! logged once per run of drops with the totals so far. This is meant for
//! traffic that recovers from loss by itself, such as PBFT messages (its
//! STATUS retransmission and view changes re-send what is missing); a
//! caller that cannot lose a message should use [`Transport::send`], which
//! waits instead.
//!
//! The bound counts a message from the moment it is queued until the
//! transport has accepted it (`Transport::send` returned), so with a bound
//! of B bytes per peer this layer holds at most about B bytes per peer
//! however fast the caller produces.

use crate::metrics::Metrics;
use crate::peer::PeerIndex;
use crate::transport::Transport;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::sync::mpsc;

/// One peer's queue.
struct PeerQueue {
    tx: mpsc::UnboundedSender<Vec<u8>>,
    /// Bytes queued and not yet accepted by the transport.
    queued: Arc<AtomicUsize>,
    /// Whether a run of drops is under way (one log line per run; a run
    /// ends when the queue has drained below half its bound).
    dropping: AtomicBool,
}

/// Byte-bounded, drop-newest outgoing queues, one per remote peer.
pub struct Outgoing {
    me: PeerIndex,
    max_bytes: usize,
    queues: Vec<Option<PeerQueue>>,
    metrics: Arc<Metrics>,
}

impl Outgoing {
    /// Starts one sender task per other peer of `transport` (needs a tokio
    /// runtime); each peer's queue holds at most `max_bytes` (a single
    /// message larger than that is always dropped).
    pub fn start(transport: Arc<dyn Transport>, max_bytes: usize) -> Outgoing {
        let me = transport.local_index();
        let metrics = transport.metrics();
        let mut queues = Vec::with_capacity(transport.peer_count());
        for i in 0..transport.peer_count() {
            let to = PeerIndex(u32::try_from(i).unwrap_or(u32::MAX));
            if to == me {
                queues.push(None);
                continue;
            }
            let (tx, mut rx) = mpsc::unbounded_channel::<Vec<u8>>();
            let queued = Arc::new(AtomicUsize::new(0));
            let (t, q) = (transport.clone(), queued.clone());
            tokio::spawn(async move {
                while let Some(bytes) = rx.recv().await {
                    let len = bytes.len();
                    if let Err(e) = t.send(to, bytes).await {
                        tracing::debug!(%to, error = %e, "send failed");
                    }
                    q.fetch_sub(len, Ordering::AcqRel);
                }
            });
            queues.push(Some(PeerQueue {
                tx,
                queued,
                dropping: AtomicBool::new(false),
            }));
        }
        Outgoing {
            me,
            max_bytes,
            queues,
            metrics,
        }
    }

    /// Queues `bytes` for peer `to`. Returns `false` if it was dropped: the
    /// queue is full (see the module docs), `to` is this peer or unknown,
    /// or the sender task has stopped.
    pub fn send(&self, to: PeerIndex, bytes: Vec<u8>) -> bool {
        let Some(Some(q)) = self.queues.get(to.as_usize()) else {
            return false;
        };
        let len = bytes.len();
        let before = q.queued.fetch_add(len, Ordering::AcqRel);
        if before + len > self.max_bytes {
            q.queued.fetch_sub(len, Ordering::AcqRel);
            Metrics::bump(&self.metrics.outgoing_dropped);
            self.metrics
                .outgoing_dropped_bytes
                .fetch_add(len as u64, Ordering::Relaxed);
            if !q.dropping.swap(true, Ordering::AcqRel) {
                tracing::warn!(
                    me = %self.me,
                    peer = %to,
                    queued = before,
                    limit = self.max_bytes,
                    len,
                    dropped_total = self.metrics.outgoing_dropped.load(Ordering::Relaxed),
                    "outgoing queue full: dropping messages to this peer until it drains"
                );
            }
            return false;
        }
        if before + len < self.max_bytes / 2 {
            // A run of drops ends once the queue has drained below half.
            q.dropping.store(false, Ordering::Release);
        }
        if q.tx.send(bytes).is_err() {
            q.queued.fetch_sub(len, Ordering::AcqRel);
            return false;
        }
        true
    }

    /// Sends `bytes` to every other peer (each copy subject to its peer's
    /// bound); returns how many copies were queued.
    pub fn broadcast(&self, bytes: &[u8]) -> usize {
        (0..self.queues.len())
            .filter(|i| {
                let to = PeerIndex(u32::try_from(*i).unwrap_or(u32::MAX));
                to != self.me && self.send(to, bytes.to_vec())
            })
            .count()
    }

    /// Bytes queued for `to` and not yet accepted by the transport.
    pub fn queued_bytes(&self, to: PeerIndex) -> usize {
        match self.queues.get(to.as_usize()) {
            Some(Some(q)) => q.queued.load(Ordering::Acquire),
            _ => 0,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::event::Event;
    use crate::memory::MemoryHub;

    #[tokio::test]
    async fn a_queue_holds_at_most_its_byte_bound_and_drops_the_newest() {
        let (_hub, mut ts) = MemoryHub::new(2, Config::default());
        let (_t1, mut in1) = ts.pop().unwrap();
        let (t0, _in0) = ts.pop().unwrap();
        let t0: Arc<dyn Transport> = Arc::new(t0);
        // A current-thread runtime: the sender task cannot run before the
        // first await, so the queue fills exactly as offered.
        let out = Outgoing::start(t0.clone(), 1000);
        assert!(out.send(PeerIndex(1), vec![1; 400]));
        assert!(out.send(PeerIndex(1), vec![2; 400]));
        assert_eq!(out.queued_bytes(PeerIndex(1)), 800);
        // 800 + 400 > 1000: dropped, counted, the queued ones kept.
        assert!(!out.send(PeerIndex(1), vec![3; 400]));
        // A small one still fits.
        assert!(out.send(PeerIndex(1), vec![4; 200]));
        assert!(!out.send(PeerIndex(1), vec![5; 1]));
        // A message larger than the bound never fits.
        assert!(!out.send(PeerIndex(1), vec![6; 1001]));
        // To self or to an unknown peer: refused.
        assert!(!out.send(PeerIndex(0), vec![7]));
        assert!(!out.send(PeerIndex(9), vec![7]));
        let m = t0.metrics().snapshot();
        assert_eq!(m.outgoing_dropped, 3);
        assert_eq!(m.outgoing_dropped_bytes, 400 + 1 + 1001);
        // The queued messages arrive in order, and the bound is released.
        let mut got = Vec::new();
        for _ in 0..3 {
            match in1.recv().await.unwrap() {
                Event::Consensus { bytes, .. } => got.push((bytes[0], bytes.len())),
                other => panic!("unexpected {other:?}"),
            }
        }
        assert_eq!(got, vec![(1, 400), (2, 400), (4, 200)]);
        for _ in 0..100 {
            if out.queued_bytes(PeerIndex(1)) == 0 {
                break;
            }
            tokio::task::yield_now().await;
        }
        assert_eq!(out.queued_bytes(PeerIndex(1)), 0);
        assert_eq!(out.broadcast(&[9; 10]), 1, "one copy, to the other peer");
        assert!(out.send(PeerIndex(1), vec![8; 990]), "room again");
        assert!(!out.send(PeerIndex(1), vec![8; 1]));
    }
}
