//! Client requests and batching (TOCS §4.2, §5.1.4).
//!
//! A backup that receives client requests forwards them to the primary only,
//! in one signed REQUEST per group, and watches them with its request timer.
//! If the timer fires while some of them are still unproposed, it relays
//! those to every replica (the paper's client retransmission to all) and
//! restarts the timer; every honest backup then watches them, so a primary
//! that censors them is suspected by enough replicas to change view. Only a
//! timeout with nothing left to relay starts a view change. Requests are
//! deduplicated by digest. The primary cuts a batch when it reaches
//! `max_batch_count` requests or `max_batch_bytes`, or when the batch timer
//! fires, and only within the high watermark.

use super::Replica;
use crate::error::Error;
use crate::io::TimeoutKind;
use crate::message::{Message, PrePrepare, Proposal, Request};
use crate::types::request_digest;
use cryptanet_types::block::data_hash_of_leaves;
use cryptanet_types::Digest;
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// Known, unexecuted requests; those proposed in the active view; those
/// this replica forwarded to a primary and never relayed to all; and a
/// bounded memory of executed ones.
///
/// The primary's next batch comes from `queue`, the pending requests not in
/// flight in arrival order, with their count and bytes kept as running
/// totals: deciding whether a full batch is waiting is O(1) and cutting one
/// is O(batch), however many requests are pending. (Until 2026-11-24 every
/// arriving request group rescanned all pending requests, which was most of
/// a busy primary's time.)
pub(super) struct Requests {
    pending: BTreeMap<Digest, Vec<u8>>,
    order: VecDeque<Digest>,
    in_flight: BTreeSet<Digest>,
    /// Pending and not in flight, in arrival order; may also hold digests
    /// executed or proposed since they were queued (skipped when met).
    queue: VecDeque<Digest>,
    /// Requests (and their bytes) that are pending and not in flight.
    queued_count: usize,
    queued_bytes: usize,
    unrelayed: BTreeSet<Digest>,
    relayed: BTreeSet<Digest>,
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
            queue: VecDeque::new(),
            queued_count: 0,
            queued_bytes: 0,
            unrelayed: BTreeSet::new(),
            relayed: BTreeSet::new(),
            executed: BTreeSet::new(),
            executed_order: VecDeque::new(),
            executed_cap,
        }
    }

    pub fn pending_len(&self) -> usize {
        self.pending.len()
    }

    /// Adds a request whose digest is `d`; false if it is already pending
    /// or executed.
    pub fn add(&mut self, d: Digest, payload: Vec<u8>) -> bool {
        if self.pending.contains_key(&d) || self.executed.contains(&d) {
            return false;
        }
        self.queued_count += 1;
        self.queued_bytes += payload.len();
        self.pending.insert(d, payload);
        self.order.push_back(d);
        self.queue.push_back(d);
        true
    }

    /// Pending and not in flight: a candidate for the next batch.
    fn is_queued(&self, d: &Digest) -> bool {
        self.pending.contains_key(d) && !self.in_flight.contains(d)
    }

    /// Whether `d` is pending and not in `proposed` (nor proposed by this
    /// replica as primary).
    pub fn is_unproposed(&self, d: &Digest, proposed: &BTreeSet<Digest>) -> bool {
        self.is_queued(d) && !proposed.contains(d)
    }

    /// Remembers that `d` was forwarded to a primary only (unless it was
    /// relayed to all before: then every replica already watches it, and
    /// relaying again would only postpone the view change).
    pub fn forwarded(&mut self, d: Digest) {
        if self.pending.contains_key(&d) && !self.relayed.contains(&d) {
            self.unrelayed.insert(d);
        }
    }

    /// Takes the forwarded requests that are still unproposed, in arrival
    /// order, and forgets them as unrelayed (the caller relays them).
    pub fn take_unrelayed(&mut self, proposed: &BTreeSet<Digest>) -> Vec<(Digest, Vec<u8>)> {
        let mut out = Vec::new();
        for d in &self.order {
            if self.unrelayed.contains(d) && self.is_unproposed(d, proposed) {
                if let Some(p) = self.pending.get(d) {
                    out.push((*d, p.clone()));
                    self.relayed.insert(*d);
                }
            }
        }
        self.unrelayed.clear();
        out
    }

    /// Every pending request not proposed in the active view, in arrival
    /// order.
    pub fn unproposed(&self, proposed: &BTreeSet<Digest>) -> Vec<(Digest, Vec<u8>)> {
        self.order
            .iter()
            .filter(|d| self.is_unproposed(d, proposed))
            .filter_map(|d| self.pending.get(d).map(|p| (*d, p.clone())))
            .collect()
    }

    pub fn mark_executed(&mut self, d: Digest) {
        if self.is_queued(&d) {
            self.queued_count -= 1;
            self.queued_bytes -= self.pending.get(&d).map_or(0, Vec::len);
        }
        self.pending.remove(&d);
        self.in_flight.remove(&d);
        self.unrelayed.remove(&d);
        self.relayed.remove(&d);
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
        self.drop_stale_front();
    }

    /// Sets the requests in flight (after a view change) and rebuilds the
    /// queue from the rest.
    pub fn set_in_flight(&mut self, digests: impl IntoIterator<Item = Digest>) {
        self.in_flight = digests.into_iter().collect();
        self.queue = self
            .order
            .iter()
            .filter(|d| self.is_queued(d))
            .copied()
            .collect();
        self.queued_count = self.queue.len();
        self.queued_bytes = self
            .queue
            .iter()
            .filter_map(|d| self.pending.get(d))
            .map(Vec::len)
            .sum();
    }

    /// Whether a full batch is waiting: `max_count` requests, or more bytes
    /// than fit in one batch.
    pub fn has_full_batch(&self, max_count: usize, max_bytes: usize) -> bool {
        self.queued_count >= max_count || self.queued_bytes > max_bytes
    }

    /// Whether any request is waiting for a batch.
    pub fn has_queued(&self) -> bool {
        self.queued_count > 0
    }

    /// The next batch of unproposed requests, oldest first: their digests
    /// and payloads, at most `max_count` of them and `max_bytes` (but at
    /// least one).
    pub fn next_batch(
        &mut self,
        max_count: usize,
        max_bytes: usize,
    ) -> (Vec<Digest>, Vec<Vec<u8>>) {
        self.drop_stale_front();
        let (mut digests, mut batch) = (Vec::new(), Vec::new());
        let mut bytes = 0usize;
        for d in &self.queue {
            if !self.is_queued(d) {
                continue;
            }
            let Some(p) = self.pending.get(d) else {
                continue;
            };
            if !batch.is_empty() && bytes + p.len() > max_bytes {
                break;
            }
            bytes += p.len();
            digests.push(*d);
            batch.push(p.clone());
            if batch.len() == max_count {
                break;
            }
        }
        (digests, batch)
    }

    /// Marks a batch from [`Requests::next_batch`] as proposed.
    pub fn propose(&mut self, digests: &[Digest]) {
        for d in digests {
            if self.is_queued(d) {
                self.queued_count -= 1;
                self.queued_bytes -= self.pending.get(d).map_or(0, Vec::len);
                self.in_flight.insert(*d);
            }
        }
        self.drop_stale_front();
    }

    /// Pops queue entries that are no longer candidates.
    fn drop_stale_front(&mut self) {
        while let Some(d) = self.queue.front() {
            if self.is_queued(d) {
                return;
            }
            self.queue.pop_front();
        }
    }
}

impl Replica {
    /// Client requests submitted here: record them; a backup forwards the
    /// new ones, and client retries of ones still unproposed, to the primary.
    pub(super) fn on_client_requests(&mut self, payloads: Vec<Vec<u8>>) {
        let mut forward = Vec::new();
        let mut seen = BTreeSet::new();
        // Computed at the first client retry only: it hashes the requests of
        // the active view's undecided pre-prepares.
        let mut proposed: Option<BTreeSet<Digest>> = None;
        let mut any_new = false;
        for payload in payloads {
            if payload.len() > self.cfg.max_batch_bytes {
                self.metrics.requests_refused += 1;
                continue;
            }
            let d = request_digest(&payload);
            if !seen.insert(d) {
                self.metrics.requests_duplicate += 1;
                continue;
            }
            let new = self.record_request(d, payload.clone(), true);
            any_new |= new;
            if new
                || self
                    .requests
                    .is_unproposed(&d, proposed.get_or_insert_with(|| self.proposed_in_view()))
            {
                forward.push((d, payload));
            }
        }
        if any_new {
            self.requests_recorded();
        }
        if !self.is_primary() {
            for (d, _) in &forward {
                self.requests.forwarded(*d);
            }
            if self.changing_to.is_none() {
                self.forward_to_primary(forward);
            }
        }
    }

    /// Digests of the requests in this view's pre-prepares above the last
    /// executed sequence number.
    pub(super) fn proposed_in_view(&self) -> BTreeSet<Digest> {
        self.slots
            .range(self.last_executed + 1..)
            .filter(|(_, s)| s.view == self.view)
            .filter_map(|(_, s)| {
                let (_, pp) = s.pre_prepare.as_ref()?;
                s.batches.get(&pp.digest)
            })
            .flat_map(|batch| batch.iter().map(|p| request_digest(p)))
            .collect()
    }

    /// Sends `requests` (digest, payload) to the primary of the active view,
    /// in signed groups of at most `max_batch_bytes`.
    fn forward_to_primary(&mut self, requests: Vec<(Digest, Vec<u8>)>) {
        let primary = self.cfg.primary(self.view);
        for msg in self.request_groups(requests) {
            match crate::message::SignedMessage::sign_owned(&self.key, msg) {
                Ok(m) => self.send(primary, m),
                Err(e) => self.metrics.dropped(&e),
            }
        }
    }

    /// Relays `requests` (digest, payload) to every replica, in signed
    /// groups.
    pub(super) fn relay_to_all(&mut self, requests: Vec<(Digest, Vec<u8>)>) {
        for msg in self.request_groups(requests) {
            self.broadcast(&msg);
        }
    }

    /// REQUEST messages of at most `max_batch_bytes` of payloads each (each
    /// payload is at most that large).
    fn request_groups(&self, requests: Vec<(Digest, Vec<u8>)>) -> Vec<Message> {
        let mut groups: Vec<Request> = Vec::new();
        let mut bytes = 0usize;
        for (d, p) in requests {
            match groups.last_mut() {
                Some(g) if bytes + p.len() <= self.cfg.max_batch_bytes => {
                    bytes += p.len();
                    g.digests.push(d);
                    g.payloads.push(p);
                }
                _ => {
                    bytes = p.len();
                    groups.push(Request {
                        replica: self.cfg.id,
                        digests: vec![d],
                        payloads: vec![p],
                    });
                }
            }
        }
        groups.into_iter().map(Message::Request).collect()
    }

    /// After a view is installed, a backup forwards what is still
    /// unproposed to the new primary (the old one may never have seen it).
    pub(super) fn forward_unproposed(&mut self) {
        if self.is_primary() {
            return;
        }
        let unproposed = self.requests.unproposed(&self.proposed_in_view());
        for (d, _) in &unproposed {
            self.requests.forwarded(*d);
        }
        self.forward_to_primary(unproposed);
    }

    /// Records a request; returns whether it was new. The caller then calls
    /// [`Replica::requests_recorded`] once for the whole group (proposing
    /// after each request of a large group made the primary rescan its
    /// pending requests once per request).
    pub(super) fn record_request(&mut self, d: Digest, payload: Vec<u8>, local: bool) -> bool {
        if payload.len() > self.cfg.max_batch_bytes {
            let e = Error::RequestSize {
                len: payload.len(),
                limit: self.cfg.max_batch_bytes,
            };
            self.metrics.dropped(&e);
            return false;
        }
        if !self.requests.add(d, payload) {
            if local {
                self.metrics.requests_duplicate += 1;
            }
            return false;
        }
        true
    }

    /// After new requests were recorded: watch them, and propose (primary).
    pub(super) fn requests_recorded(&mut self) {
        self.reset_request_timer(false);
        self.maybe_propose(false);
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
            let (count, bytes) = (self.cfg.max_batch_count, self.cfg.max_batch_bytes);
            if !self.requests.has_queued() {
                self.disarm(TimeoutKind::Batch);
                return;
            }
            if !force && !self.requests.has_full_batch(count, bytes) {
                if !self.timers.is_armed(TimeoutKind::Batch) {
                    self.arm(TimeoutKind::Batch, self.cfg.batch_timeout);
                }
                return;
            }
            let (digests, batch) = self.requests.next_batch(count, bytes);
            self.propose(&digests, batch);
        }
    }

    /// Proposes `batch` (whose request digests are `digests`, the leaves of
    /// its data hash) at the next sequence number.
    fn propose(&mut self, digests: &[Digest], batch: Vec<Vec<u8>>) {
        let pp = PrePrepare {
            view: self.view,
            seq: self.next_seq,
            digest: data_hash_of_leaves(digests),
            replica: self.cfg.id,
        };
        self.leaves.insert((pp.seq, pp.digest), digests.to_vec());
        self.next_seq += 1;
        self.requests.propose(digests);
        let Ok(m) = self.sign(&Message::PrePrepare(pp)) else {
            return;
        };
        let proposal = Message::Proposal(Proposal {
            pre_prepare: m.clone(),
            batch: batch.clone(),
            replica: self.cfg.id,
        });
        let Ok(out) = crate::message::SignedMessage::sign_owned(&self.key, proposal) else {
            return;
        };
        // Persists the slot (with the batch) before the proposal leaves.
        self.accept_pre_prepare(m, pp, Some(batch), Vec::new());
        self.out.push(crate::io::Output::Broadcast(out));
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn batches_respect_count_bytes_and_dedup() {
        let mut r = Requests::new(2);
        let add = |r: &mut Requests, p: Vec<u8>| r.add(request_digest(&p), p);
        assert!(add(&mut r, vec![1; 10]));
        assert!(!add(&mut r, vec![1; 10]));
        assert!(add(&mut r, vec![2; 10]));
        assert!(add(&mut r, vec![3; 10]));
        // (count, bytes) -> (batch length, full)
        let cases = [
            (2, 100, 2, true),
            (5, 100, 3, false),
            (5, 25, 2, true),
            (3, 30, 3, true),
        ];
        for (count, bytes, len, full) in cases {
            assert_eq!(
                r.next_batch(count, bytes).1.len(),
                len,
                "count {count} bytes {bytes}"
            );
            assert_eq!(
                r.has_full_batch(count, bytes),
                full,
                "count {count} bytes {bytes}"
            );
        }
        let (d, b) = r.next_batch(1, 100);
        assert_eq!(d, vec![request_digest(&b[0])]);
        r.propose(&d);
        assert_eq!(r.next_batch(5, 100).1, vec![vec![2; 10], vec![3; 10]]);
        assert!(!r.has_full_batch(3, 100));
        r.mark_executed(request_digest(&[1; 10]));
        assert!(
            !add(&mut r, vec![1; 10]),
            "executed requests are remembered"
        );
        r.mark_executed(request_digest(&[2; 10]));
        r.mark_executed(request_digest(&[3; 10]));
        assert!(!r.has_queued());
        assert!(
            add(&mut r, vec![1; 10]),
            "memory of executed requests is bounded"
        );
        assert_eq!(r.pending_len(), 1);
        assert!(r.has_queued());
    }

    #[test]
    fn totals_follow_proposals_executions_and_view_changes() {
        let mut r = Requests::new(100);
        let ps: Vec<Vec<u8>> = (0u8..6).map(|i| vec![i; 10 + usize::from(i)]).collect();
        let ds: Vec<Digest> = ps.iter().map(|p| request_digest(p)).collect();
        for (d, p) in ds.iter().zip(&ps) {
            assert!(r.add(*d, p.clone()));
        }
        let total = |r: &Requests| (r.queued_count, r.queued_bytes);
        assert_eq!(total(&r), (6, 75));
        let (d, _) = r.next_batch(2, 1000);
        r.propose(&d);
        assert_eq!(total(&r), (4, 75 - 21));
        // A queued request executed through another primary's batch leaves
        // the totals and is skipped by the next batch.
        r.mark_executed(ds[3]);
        assert_eq!(total(&r), (3, 75 - 21 - 13));
        assert_eq!(r.next_batch(10, 1000).0, vec![ds[2], ds[4], ds[5]]);
        // A view change: only request 4 is still in flight; 0 and 1 come back.
        r.set_in_flight([ds[4]]);
        assert_eq!(r.next_batch(10, 1000).0, vec![ds[0], ds[1], ds[2], ds[5]]);
        assert_eq!(total(&r), (4, 10 + 11 + 12 + 15));
        // Executing an in-flight request does not touch the totals.
        r.mark_executed(ds[4]);
        assert_eq!(total(&r), (4, 48));
    }
}
