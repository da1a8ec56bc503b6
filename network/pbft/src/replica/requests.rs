//! Client requests and batching (TOCS §4.2, §5.1.4).
//!
//! A replica that receives a client request forwards it, signed, to every
//! replica, so that every backup starts its request timer and can suspect a
//! primary that ignores it. Requests are deduplicated by digest. The primary
//! cuts a batch when it reaches `max_batch_count` requests or
//! `max_batch_bytes`, or when the batch timer fires, and only within the
//! high watermark.

use super::Replica;
use crate::error::Error;
use crate::io::TimeoutKind;
use crate::message::{Message, PrePrepare, Request};
use crate::types::request_digest;
use cryptanet_types::block::data_hash;
use cryptanet_types::Digest;
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// Known, unexecuted requests; those proposed in the active view; and a
/// bounded memory of executed ones.
pub(super) struct Requests {
    pending: BTreeMap<Digest, Vec<u8>>,
    order: VecDeque<Digest>,
    in_flight: BTreeSet<Digest>,
    executed: BTreeSet<Digest>,
    executed_order: VecDeque<Digest>,
    executed_cap: usize,
}

impl Requests {
    pub fn new(executed_cap: usize) -> Requests {
        Requests {
            pending: BTreeMap::new(),
            order: VecDeque::new(),
            in_flight: BTreeSet::new(),
            executed: BTreeSet::new(),
            executed_order: VecDeque::new(),
            executed_cap,
        }
    }

    pub fn pending_len(&self) -> usize {
        self.pending.len()
    }

    /// Adds a request; false if it is already pending or executed.
    pub fn add(&mut self, payload: Vec<u8>) -> bool {
        let d = request_digest(&payload);
        if self.pending.contains_key(&d) || self.executed.contains(&d) {
            return false;
        }
        self.pending.insert(d, payload);
        self.order.push_back(d);
        true
    }

    pub fn mark_executed(&mut self, d: Digest) {
        self.pending.remove(&d);
        self.in_flight.remove(&d);
        if self.executed.insert(d) {
            self.executed_order.push_back(d);
            while self.executed_order.len() > self.executed_cap {
                if let Some(old) = self.executed_order.pop_front() {
                    self.executed.remove(&old);
                }
            }
        }
        while self
            .order
            .front()
            .is_some_and(|d| !self.pending.contains_key(d))
        {
            self.order.pop_front();
        }
    }

    pub fn set_in_flight(&mut self, digests: impl IntoIterator<Item = Digest>) {
        self.in_flight = digests.into_iter().collect();
    }

    /// The next batch of unproposed requests and whether it is full.
    pub fn next_batch(&self, max_count: usize, max_bytes: usize) -> (Vec<Vec<u8>>, bool) {
        let mut batch = Vec::new();
        let mut bytes = 0usize;
        for d in &self.order {
            if self.in_flight.contains(d) {
                continue;
            }
            let Some(p) = self.pending.get(d) else {
                continue;
            };
            if !batch.is_empty() && bytes + p.len() > max_bytes {
                return (batch, true);
            }
            bytes += p.len();
            batch.push(p.clone());
            if batch.len() == max_count {
                return (batch, true);
            }
        }
        (batch, false)
    }

    pub fn propose(&mut self, batch: &[Vec<u8>]) {
        for p in batch {
            self.in_flight.insert(request_digest(p));
        }
    }
}

impl Replica {
    pub(super) fn on_client_request(&mut self, payload: Vec<u8>) {
        if payload.len() > self.cfg.max_batch_bytes {
            self.metrics.requests_refused += 1;
            return;
        }
        let forward = Message::Request(Request {
            replica: self.cfg.id,
            payload: payload.clone(),
        });
        if self.on_request(payload, true) {
            self.broadcast(&forward);
        }
    }

    /// Records a request; returns whether it was new.
    pub(super) fn on_request(&mut self, payload: Vec<u8>, local: bool) -> bool {
        if payload.len() > self.cfg.max_batch_bytes {
            let e = Error::RequestSize {
                len: payload.len(),
                limit: self.cfg.max_batch_bytes,
            };
            self.metrics.dropped(&e);
            return false;
        }
        if !self.requests.add(payload) {
            if local {
                self.metrics.requests_duplicate += 1;
            }
            return false;
        }
        self.reset_request_timer(false);
        self.maybe_propose(false);
        true
    }

    /// The primary proposes full batches (or any batch when `force`) while
    /// the high watermark allows.
    pub(super) fn maybe_propose(&mut self, force: bool) {
        if !self.is_primary() || self.changing_to.is_some() {
            return;
        }
        loop {
            if self.next_seq > self.stable.seq + self.cfg.watermark_window {
                self.disarm(TimeoutKind::Batch);
                return;
            }
            let (batch, full) = self
                .requests
                .next_batch(self.cfg.max_batch_count, self.cfg.max_batch_bytes);
            if batch.is_empty() {
                self.disarm(TimeoutKind::Batch);
                return;
            }
            if !full && !force {
                if !self.timers.is_armed(TimeoutKind::Batch) {
                    self.arm(TimeoutKind::Batch, self.cfg.batch_timeout);
                }
                return;
            }
            self.propose(batch);
        }
    }

    fn propose(&mut self, batch: Vec<Vec<u8>>) {
        let pp = PrePrepare {
            view: self.view,
            seq: self.next_seq,
            digest: data_hash(&batch),
            batch,
            replica: self.cfg.id,
        };
        self.next_seq += 1;
        self.requests.propose(&pp.batch);
        let Ok(m) = self.sign(&Message::PrePrepare(pp.clone())) else {
            return;
        };
        // Persists the slot before the PRE-PREPARE leaves.
        self.accept_pre_prepare(m.clone(), pp);
        self.out.push(crate::io::Output::Broadcast(m));
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn batches_respect_count_bytes_and_dedup() {
        let mut r = Requests::new(2);
        assert!(r.add(vec![1; 10]));
        assert!(!r.add(vec![1; 10]));
        assert!(r.add(vec![2; 10]));
        assert!(r.add(vec![3; 10]));
        let cases = [(2, 100, 2, true), (5, 100, 3, false), (5, 25, 2, true)];
        for (count, bytes, len, full) in cases {
            let (b, f) = r.next_batch(count, bytes);
            assert_eq!((b.len(), f), (len, full), "count {count} bytes {bytes}");
        }
        let (b, _) = r.next_batch(1, 100);
        r.propose(&b);
        assert_eq!(r.next_batch(5, 100).0, vec![vec![2; 10], vec![3; 10]]);
        r.mark_executed(request_digest(&[1; 10]));
        assert!(!r.add(vec![1; 10]), "executed requests are remembered");
        r.mark_executed(request_digest(&[2; 10]));
        r.mark_executed(request_digest(&[3; 10]));
        assert!(r.add(vec![1; 10]), "memory of executed requests is bounded");
        assert_eq!(r.pending_len(), 1);
    }
}
