//! What goes into and comes out of [`crate::Replica::step`].
//!
//! The shell must perform outputs **in order**. In particular every
//! [`Output::Persist`] must be durable before any later output of the same
//! vector is performed: persists are emitted before the sends they justify.

use crate::cert::{CheckpointCert, CommitCertificate};
use crate::message::SignedMessage;
use crate::persist::PersistOp;
use crate::types::{ReplicaId, Seq};
use cryptanet_types::Digest;

/// The timers a replica uses. Each has its own generation counter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TimeoutKind {
    /// The primary's partial-batch timer.
    Batch,
    /// A pending request has not executed: suspect the primary.
    Request,
    /// A view change has not completed: move to the next view.
    ViewChange,
    /// Periodic STATUS broadcast (retransmission).
    Status,
}

impl TimeoutKind {
    /// Every kind, in index order.
    pub const ALL: [TimeoutKind; 4] = [
        TimeoutKind::Batch,
        TimeoutKind::Request,
        TimeoutKind::ViewChange,
        TimeoutKind::Status,
    ];

    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

/// An event the shell feeds to the replica.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    /// A message received from the network (any sender; verified here).
    Message(SignedMessage),
    /// A client request submitted to this replica. A backup forwards it to
    /// the primary and watches it; see [`Input::ClientRequests`].
    ClientRequest(Vec<u8>),
    /// Client requests submitted to this replica, handled together: a
    /// backup forwards the new ones (and client retries of ones still
    /// unproposed) to the primary in one signed message, watches them with
    /// its request timer, and relays them to every replica if they are
    /// still unproposed when the timer fires.
    ClientRequests(Vec<Vec<u8>>),
    /// A timer scheduled by [`Output::ScheduleTimeout`] fired. Generations
    /// that are no longer current are ignored.
    TimeoutElapsed {
        /// Which timer.
        kind: TimeoutKind,
        /// The generation it was scheduled with.
        generation: u64,
    },
    /// The shell finished the state transfer asked for by
    /// [`Output::NeedState`]: its ledger now holds every batch up to `seq`.
    StateTransferred {
        /// The checkpoint reached.
        seq: Seq,
        /// Its state digest (must match the requested one).
        state: Digest,
        /// Digests ([`crate::types::request_digest`]) of the requests in the
        /// transferred batches, so they stop being pending here.
        requests: Vec<Digest>,
    },
    /// The bytes of a batch asked for by [`Output::FetchBatch`]. The replica
    /// checks that they hash to `digest`; anything else is counted in
    /// `bad_inputs` and fetched again later.
    BatchFetched {
        /// Sequence number it was asked for.
        seq: Seq,
        /// Digest it was asked for.
        digest: Digest,
        /// The batch.
        batch: Vec<Vec<u8>>,
    },
}

/// A batch decided at `seq`, delivered strictly in sequence order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommittedBatch {
    /// Sequence number: the block number.
    pub seq: Seq,
    /// The ordered requests (empty for a null batch).
    pub batch: Vec<Vec<u8>>,
    /// [`crate::request_digest`] of each request, in order: the block's
    /// Merkle leaves, hashed once by the core so the shell does not hash the
    /// requests again to build the block.
    pub digests: Vec<Digest>,
    /// Proof of the decision; `certificate.digest == data_hash(&batch)`.
    pub certificate: CommitCertificate,
}

/// An action the shell must perform.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Output {
    /// Send to one replica.
    Send {
        /// Destination.
        to: ReplicaId,
        /// The message.
        message: SignedMessage,
    },
    /// Send to every other replica.
    Broadcast(SignedMessage),
    /// Make this change to the replica's persisted state durable before
    /// performing any later output.
    Persist(PersistOp),
    /// Apply a decided batch (append the block). Delivered once per
    /// sequence number, in order; may be repeated after a crash that lost
    /// the following `Persist(Executed)`, so the shell skips seqs it has.
    Commit(CommittedBatch),
    /// Arm a timer: after `after` units, feed back
    /// [`Input::TimeoutElapsed`] with the same kind and generation.
    /// Scheduling a kind again supersedes the earlier generation.
    ScheduleTimeout {
        /// Which timer.
        kind: TimeoutKind,
        /// Its generation.
        generation: u64,
        /// Delay in abstract units.
        after: u64,
    },
    /// The replica is behind a stable checkpoint: fetch the batches up to
    /// `checkpoint.seq` (e.g. blocks with commit certificates from peers),
    /// check they chain to `checkpoint.state`, then feed
    /// [`Input::StateTransferred`].
    NeedState(CheckpointCert),
    /// The replica holds a PRE-PREPARE for `digest` at `seq` (from a
    /// NEW-VIEW, or persisted before a restart) without the batch: fetch the
    /// batch with that digest from one of `from` (replicas that prepared or
    /// proposed it first, then the others), check it hashes to `digest`, and
    /// feed [`Input::BatchFetched`]. Repeated on every status tick until the
    /// batch arrives; a failed attempt needs no report.
    FetchBatch {
        /// Sequence number.
        seq: Seq,
        /// `data_hash` of the batch wanted.
        digest: Digest,
        /// Replicas to ask, most likely holders first.
        from: Vec<ReplicaId>,
    },
}
