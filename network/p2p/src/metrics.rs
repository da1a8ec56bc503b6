//! Counters the transport keeps so operators (and tests) can see what was
//! dropped and why. Plain atomics: cheap to bump from the swarm task, readable
//! from anywhere.

use std::sync::atomic::{AtomicU64, Ordering};

/// Live counters, shared between the transport and its users.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Messages (consensus, envelopes, sync requests) handed to the network.
    pub sent: AtomicU64,
    /// Messages delivered to the application's event queue.
    pub delivered: AtomicU64,
    /// Messages dropped for exceeding a size limit (outbound or inbound).
    pub oversize_dropped: AtomicU64,
    /// Inbound messages dropped because they could not be read or decoded.
    pub malformed_dropped: AtomicU64,
    /// Connections refused because the remote is not in the allow-list.
    pub connections_denied: AtomicU64,
    /// Connections established with allowed peers.
    pub connections_established: AtomicU64,
    /// Outbound messages that were not acknowledged (dial failure, timeout,
    /// closed connection).
    pub send_failures: AtomicU64,
    /// Inbound messages dropped because the application queue was full or
    /// gone (in-memory transport; libp2p applies backpressure instead).
    pub queue_full_dropped: AtomicU64,
    /// Messages dropped on purpose by in-memory link controls.
    pub link_dropped: AtomicU64,
    /// Sync requests this peer answered.
    pub sync_served: AtomicU64,
    /// Endorsement requests this peer answered.
    pub endorse_served: AtomicU64,
    /// Batch requests this peer answered.
    pub batch_served: AtomicU64,
    /// Outgoing messages dropped because their peer's queue was over its
    /// byte bound (the newest message in [`crate::Outgoing`], the oldest
    /// waiting one in the libp2p swarm's per-peer queue).
    pub outgoing_dropped: AtomicU64,
    /// Bytes of those messages.
    pub outgoing_dropped_bytes: AtomicU64,
}

/// A point-in-time copy of [`Metrics`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct MetricsSnapshot {
    pub sent: u64,
    pub delivered: u64,
    pub oversize_dropped: u64,
    pub malformed_dropped: u64,
    pub connections_denied: u64,
    pub connections_established: u64,
    pub send_failures: u64,
    pub queue_full_dropped: u64,
    pub link_dropped: u64,
    pub sync_served: u64,
    pub endorse_served: u64,
    pub batch_served: u64,
    pub outgoing_dropped: u64,
    pub outgoing_dropped_bytes: u64,
}

impl Metrics {
    /// Adds one to `counter`.
    pub fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Reads every counter.
    pub fn snapshot(&self) -> MetricsSnapshot {
        let r = |c: &AtomicU64| c.load(Ordering::Relaxed);
        MetricsSnapshot {
            sent: r(&self.sent),
            delivered: r(&self.delivered),
            oversize_dropped: r(&self.oversize_dropped),
            malformed_dropped: r(&self.malformed_dropped),
            connections_denied: r(&self.connections_denied),
            connections_established: r(&self.connections_established),
            send_failures: r(&self.send_failures),
            queue_full_dropped: r(&self.queue_full_dropped),
            link_dropped: r(&self.link_dropped),
            sync_served: r(&self.sync_served),
            endorse_served: r(&self.endorse_served),
            batch_served: r(&self.batch_served),
            outgoing_dropped: r(&self.outgoing_dropped),
            outgoing_dropped_bytes: r(&self.outgoing_dropped_bytes),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_reads_each_counter() {
        let m = Metrics::default();
        Metrics::bump(&m.oversize_dropped);
        Metrics::bump(&m.oversize_dropped);
        Metrics::bump(&m.connections_denied);
        let s = m.snapshot();
        assert_eq!(s.oversize_dropped, 2);
        assert_eq!(s.connections_denied, 1);
        assert_eq!(s.sent, 0);
    }
}
