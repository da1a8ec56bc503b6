//! Tunables: message size limits, queue capacities, timeouts and the redial
//! backoff. Defaults suit a LAN/WAN deployment of a handful of org peers.

use crate::error::{Error, MessageKind, Result};
use std::time::Duration;

/// One MiB.
const MIB: usize = 1024 * 1024;

/// Largest accepted message per kind, in bytes. Enforced on both ends: the
/// sender refuses to send a larger message, the receiver reads the length
/// prefix and drops the stream without reading the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// PBFT messages (default 4 MiB; a pre-prepare carries a whole batch).
    pub consensus: usize,
    /// Client envelopes forwarded to the primary (default 4 MiB).
    pub envelope: usize,
    /// Block-sync responses (default 16 MiB).
    pub sync_response: usize,
    /// Endorsement requests (signed proposals) and their answers
    /// (default 4 MiB each).
    pub endorse: usize,
    /// Answers to batch fetches: one encoded PBFT batch (default 16 MiB).
    pub batch_response: usize,
}

/// A sync request is two integers; anything longer is malformed.
pub const MAX_SYNC_REQUEST: usize = 64;

/// A batch request is a sequence number and a digest; anything longer is
/// malformed.
pub const MAX_BATCH_REQUEST: usize = 128;

impl Default for Limits {
    fn default() -> Self {
        Limits {
            consensus: 4 * MIB,
            envelope: 4 * MIB,
            sync_response: 16 * MIB,
            endorse: 4 * MIB,
            batch_response: 16 * MIB,
        }
    }
}

impl Limits {
    /// The limit for `kind`.
    pub fn of(&self, kind: MessageKind) -> usize {
        match kind {
            MessageKind::Consensus => self.consensus,
            MessageKind::Envelope => self.envelope,
            MessageKind::SyncRequest => MAX_SYNC_REQUEST,
            MessageKind::SyncResponse => self.sync_response,
            MessageKind::EndorseRequest | MessageKind::EndorseResponse => self.endorse,
            MessageKind::BatchRequest => MAX_BATCH_REQUEST,
            MessageKind::BatchResponse => self.batch_response,
        }
    }

    /// `Ok(())` if `len` fits the limit for `kind`, else
    /// [`Error::MessageTooLarge`].
    pub fn check(&self, kind: MessageKind, len: usize) -> Result<()> {
        let limit = self.of(kind);
        if len > limit {
            return Err(Error::MessageTooLarge { kind, len, limit });
        }
        Ok(())
    }
}

/// Redial schedule for a disconnected peer: `initial`, doubling up to `max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackoffConfig {
    /// First delay after a disconnect or failed dial.
    pub initial: Duration,
    /// Upper bound on the delay.
    pub max: Duration,
}

impl Default for BackoffConfig {
    fn default() -> Self {
        BackoffConfig {
            initial: Duration::from_millis(250),
            max: Duration::from_secs(10),
        }
    }
}

/// Transport configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Message size limits.
    pub limits: Limits,
    /// Capacity of the queue of received events waiting for the application.
    /// When it is full the network stops reading (libp2p) or drops (memory).
    pub event_queue: usize,
    /// Capacity of the queue of outgoing commands; a full queue makes
    /// `send` wait.
    pub command_queue: usize,
    /// One-way messages held per disconnected peer until a connection is
    /// up; beyond this the oldest is dropped (and counted as a send failure).
    pub pending_per_peer: usize,
    /// Bytes of one-way messages held per peer (waiting for a connection or
    /// for room in the in-flight window); beyond this the oldest are dropped
    /// and counted in `outgoing_dropped`. Default 32 MiB.
    pub pending_bytes_per_peer: usize,
    /// How long a request (including a consensus delivery ack) may take.
    pub request_timeout: Duration,
    /// Redial schedule for disconnected peers.
    pub backoff: BackoffConfig,
    /// How often the redial schedule is checked.
    pub redial_check: Duration,
    /// Close a connection after this long without any stream.
    pub idle_connection_timeout: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            limits: Limits::default(),
            event_queue: 1024,
            command_queue: 1024,
            pending_per_peer: 1024,
            pending_bytes_per_peer: 32 * MIB,
            request_timeout: Duration::from_secs(10),
            backoff: BackoffConfig::default(),
            redial_check: Duration::from_millis(100),
            idle_connection_timeout: Duration::from_secs(3600),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_are_inclusive() {
        let l = Limits {
            consensus: 10,
            envelope: 20,
            sync_response: 30,
            endorse: 40,
            batch_response: 50,
        };
        assert!(l.check(MessageKind::Consensus, 10).is_ok());
        assert!(matches!(
            l.check(MessageKind::Consensus, 11),
            Err(Error::MessageTooLarge {
                kind: MessageKind::Consensus,
                len: 11,
                limit: 10
            })
        ));
        assert!(l.check(MessageKind::Envelope, 20).is_ok());
        assert!(l.check(MessageKind::SyncResponse, 31).is_err());
        assert!(l
            .check(MessageKind::SyncRequest, MAX_SYNC_REQUEST + 1)
            .is_err());
    }
}
