//! The engine: one task that owns the PBFT replica and the ledger's write
//! side, and turns inputs (network messages, client submissions, timer
//! fires, synced blocks) into outputs (persist, send, commit, timers, sync).
//!
//! Ordering rules the engine keeps:
//! * **persist before send**: consecutive `Persist` outputs are written as
//!   one fsynced batch before any later output of the same step is
//!   performed;
//! * **commit in order**: a decided batch becomes block `seq` only when the
//!   ledger is at `seq - 1`; a repeated delivery after a crash is skipped;
//! * **admission control**: no new submissions are taken while the replica
//!   holds `[pbft] max_pending_requests` (default [`MAX_PENDING`])
//!   unexecuted requests, so overload shows up as slower
//!   `Submit` calls, not as an unbounded backlog;
//! * outgoing messages go through one queue and sender task per peer
//!   (`cryptanet_p2p::Outgoing`), bounded by bytes (`[p2p]
//!   outgoing_queue_mib`), so the engine never blocks, a dead or slow peer
//!   never holds up messages to the others, and memory stays bounded under
//!   overload; a full queue drops the newest message, counted and logged
//!   (PBFT's STATUS retransmission recovers lost messages).

use crate::batch_fetch;
use crate::error::{Error, Result};
use crate::network::Network;
use crate::store::{ConsensusStore, Durability};
use crate::sync;
use crate::timers::{Fired, Timers};
use crate::validate::{prepare_block, EndorsementPolicy};
use cryptanet_ledger::Ledger;
use cryptanet_p2p::{Event, Incoming, Outgoing, PeerIndex, Transport};
use cryptanet_pbft::{
    chain_state, request_digest, CheckpointCert, CommittedBatch, Input, Output, PersistOp, Replica,
    SignedMessage, GENESIS_STATE,
};
use cryptanet_types::{Block, Digest};
use std::collections::BTreeSet;
use std::sync::{Arc, RwLock};
use tokio::sync::{broadcast, mpsc, watch};

/// What the engine announces after each committed block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Committed {
    /// Block number.
    pub number: u64,
    /// Block hash.
    pub hash: Digest,
    /// Transactions in the block.
    pub txs: usize,
}

/// Read-only status published by the engine.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Status {
    /// Ledger height.
    pub height: u64,
    /// Current view.
    pub view: u64,
    /// Primary of the current view.
    pub primary: u32,
    /// A view change is in progress.
    pub changing_view: bool,
    /// Last stable checkpoint.
    pub stable_checkpoint: u64,
}

/// Handles the rest of the peer uses to talk to the engine.
#[derive(Clone, Debug)]
pub struct EngineHandle {
    /// Submit a client request (an encoded envelope) for ordering.
    pub submit: mpsc::Sender<Vec<u8>>,
    /// The ledger (shared for reads; only the engine appends).
    pub ledger: Arc<RwLock<Ledger>>,
    /// Committed-block notifications.
    pub commits: broadcast::Sender<Committed>,
    /// Engine status.
    pub status: watch::Receiver<Status>,
}

/// Client submissions handed to the replica in one step at most.
const SUBMISSIONS_PER_STEP: usize = 1024;

/// Admission control: while the replica knows this many unexecuted
/// requests, the engine takes no new submissions; the submission queue
/// fills and `Gateway.Submit` waits, which slows clients down instead of
/// letting an overloaded network queue (and re-send) ever more work.
pub const MAX_PENDING: usize = 4096;

/// Submissions queued between the gateway and the engine.
const SUBMISSION_QUEUE: usize = 4096;

/// The engine state.
pub struct Engine {
    replica: Replica,
    ledger: Arc<RwLock<Ledger>>,
    store: ConsensusStore,
    network: Arc<Network>,
    transport: Arc<dyn Transport>,
    policy: Arc<dyn EndorsementPolicy>,
    timers: Timers,
    /// Chained PBFT state digest after each block: `chain[h]` is the state
    /// at height h (`chain[0]` is genesis).
    chain: Vec<Digest>,
    outgoing: Outgoing,
    commits: broadcast::Sender<Committed>,
    status: watch::Sender<Status>,
    sync_tx: mpsc::Sender<(CheckpointCert, Vec<Block>)>,
    syncing: bool,
    fetched_tx: mpsc::Sender<Fetched>,
    /// Batch fetches under way, so a repeated `FetchBatch` does not start
    /// a second one.
    fetching: BTreeSet<(u64, Digest)>,
    max_sync_bytes: usize,
    /// Where endorsement requests from other peers go (the endorser pool);
    /// `None` refuses them.
    endorse_requests: Option<mpsc::Sender<EndorseRequest>>,
    /// Admission control bound (unexecuted requests).
    max_pending: usize,
}

/// An endorsement request from another peer, for the endorser pool.
pub struct EndorseRequest {
    /// The requesting (gateway) peer.
    pub from: PeerIndex,
    /// Encoded `endorser::EndorseRequest`.
    pub proposal: Vec<u8>,
    /// Where the encoded answer goes.
    pub reply: cryptanet_p2p::Reply,
}

/// Channels the engine's loop reads.
pub struct EngineInputs {
    incoming: Incoming,
    submissions: mpsc::Receiver<Vec<u8>>,
    fired: mpsc::UnboundedReceiver<Fired>,
    synced: mpsc::Receiver<(CheckpointCert, Vec<Block>)>,
    fetched: mpsc::Receiver<Fetched>,
}

/// The outcome of one batch fetch: sequence number, digest, and the batch
/// if some peer had it.
type Fetched = (u64, Digest, Option<Vec<Vec<u8>>>);

impl Engine {
    /// Builds the engine. `replica` must have been created from `store`'s
    /// persisted state.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        replica: Replica,
        ledger: Ledger,
        store: ConsensusStore,
        network: Arc<Network>,
        transport: Arc<dyn Transport>,
        incoming: Incoming,
        policy: Arc<dyn EndorsementPolicy>,
        max_sync_bytes: usize,
        outgoing_bytes_per_peer: usize,
    ) -> Result<(Engine, EngineInputs, EngineHandle)> {
        let chain = chain_from_ledger(&ledger)?;
        let ledger = Arc::new(RwLock::new(ledger));
        let (timers, fired) = Timers::new();
        let (submit, submissions) = mpsc::channel(SUBMISSION_QUEUE);
        let (commits, _) = broadcast::channel(4096);
        let (status_tx, status_rx) = watch::channel(Status::default());
        let (sync_tx, synced) = mpsc::channel(4);
        let (fetched_tx, fetched) = mpsc::channel(64);
        // One sender task and byte-bounded queue per peer: a dead or slow
        // peer never holds up messages to the others, and a full queue drops
        // (PBFT recovers dropped messages through STATUS retransmission).
        let outgoing = Outgoing::start(transport.clone(), outgoing_bytes_per_peer);
        let engine = Engine {
            replica,
            ledger: ledger.clone(),
            store,
            network,
            transport,
            policy,
            timers,
            chain,
            outgoing,
            commits: commits.clone(),
            status: status_tx,
            sync_tx,
            syncing: false,
            fetched_tx,
            fetching: BTreeSet::new(),
            max_sync_bytes,
            endorse_requests: None,
            max_pending: MAX_PENDING,
        };
        let inputs = EngineInputs {
            incoming,
            submissions,
            fired,
            synced,
            fetched,
        };
        let handle = EngineHandle {
            submit,
            ledger,
            commits,
            status: status_rx,
        };
        Ok((engine, inputs, handle))
    }

    /// Runs until `shutdown` resolves or the network closes.
    pub async fn run(
        mut self,
        mut inputs: EngineInputs,
        shutdown: impl std::future::Future<Output = ()>,
    ) -> Result<()> {
        let outs = self.replica.start();
        self.perform(outs)?;
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                biased;
                _ = &mut shutdown => {
                    tracing::info!("engine stopping");
                    return Ok(());
                }
                Some((cert, blocks)) = inputs.synced.recv() => self.on_synced(cert, blocks)?,
                Some((seq, digest, batch)) = inputs.fetched.recv() => {
                    self.fetching.remove(&(seq, digest));
                    if let Some(batch) = batch {
                        let outs = self.replica.step(Input::BatchFetched { seq, digest, batch });
                        self.perform(outs)?;
                    }
                }
                Some((kind, generation)) = inputs.fired.recv() => {
                    let outs = self.replica.step(Input::TimeoutElapsed { kind, generation });
                    self.perform(outs)?;
                }
                event = inputs.incoming.recv() => match event {
                    Some(e) => self.on_event(e)?,
                    None => return Err(Error::ShuttingDown),
                },
                Some(req) = inputs.submissions.recv(), if self.replica.pending_requests() < self.max_pending => {
                    // Take what else is queued as one input: a backup
                    // forwards the group to the primary under one signature.
                    let mut reqs = vec![req];
                    while reqs.len() < SUBMISSIONS_PER_STEP {
                        let Ok(req) = inputs.submissions.try_recv() else { break };
                        reqs.push(req);
                    }
                    let outs = self.replica.step(Input::ClientRequests(reqs));
                    self.perform(outs)?;
                }
            }
        }
    }

    /// Sets the admission-control bound: no submissions are taken while the
    /// replica holds `max` unexecuted requests (at least 1).
    pub fn set_max_pending(&mut self, max: usize) {
        self.max_pending = max.max(1);
    }

    /// Sends endorsement requests from other peers to `requests` (the
    /// engine never executes chaincode itself).
    pub fn set_endorser(&mut self, requests: mpsc::Sender<EndorseRequest>) {
        self.endorse_requests = Some(requests);
    }

    fn on_event(&mut self, event: Event) -> Result<()> {
        match event {
            Event::EndorseRequest {
                from,
                proposal,
                reply,
            } => {
                let request = EndorseRequest {
                    from,
                    proposal,
                    reply,
                };
                // A full pool refuses by dropping the reply: the gateway
                // sees "no answer" and asks another peer.
                match &self.endorse_requests {
                    Some(tx) => {
                        if tx.try_send(request).is_err() {
                            tracing::warn!(%from, "endorser busy; endorsement request dropped");
                        }
                    }
                    None => tracing::debug!(%from, "no endorser; endorsement request dropped"),
                }
            }
            Event::Consensus { from, bytes } => match SignedMessage::decode(&bytes) {
                Ok(m) => {
                    tracing::trace!(%from, kind = m.kind(), bytes = bytes.len(), "consensus message in");
                    let outs = self.replica.step(Input::Message(m));
                    self.perform(outs)?;
                }
                Err(e) => {
                    tracing::warn!(from = %from, error = %e, "undecodable consensus message dropped")
                }
            },
            Event::Envelope { bytes, .. } => {
                let outs = self.replica.step(Input::ClientRequest(bytes));
                self.perform(outs)?;
            }
            Event::BatchRequest {
                from,
                request,
                reply,
            } => self.serve_batch(from, &request, reply)?,
            Event::SyncRequest {
                from,
                request,
                reply,
            } => {
                let ledger = self.ledger.clone();
                let reply_bytes = sync::serve(
                    |n| Ok(read(&ledger).block_bytes(n)?),
                    request,
                    self.max_sync_bytes,
                );
                match reply_bytes {
                    Ok(b) => {
                        if let Err(e) = reply.send(b) {
                            tracing::debug!(to = %from, error = %e, "sync reply not sent");
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "cannot serve block sync"),
                }
            }
        }
        Ok(())
    }

    /// Performs outputs in order. Persisted records reach the disk (fsync)
    /// before any message, or a commit, that follows them leaves; records
    /// that nothing has acted on yet are written without an fsync, and the
    /// next durable write covers them (RocksDB syncs its log up to that
    /// write, so a crash keeps a prefix that includes everything acted on).
    fn perform(&mut self, outs: Vec<Output>) -> Result<()> {
        let mut persist: Vec<PersistOp> = Vec::new();
        for out in outs {
            if let Output::Persist(op) = out {
                persist.push(op);
                continue;
            }
            let acts_on_state = matches!(
                out,
                Output::Send { .. } | Output::Broadcast(_) | Output::Commit(_)
            );
            if acts_on_state && !persist.is_empty() {
                self.store.persist(&persist, Durability::Synced)?;
                persist.clear();
            }
            match out {
                Output::Persist(_) => {}
                Output::Send { to, message } => {
                    self.outgoing.send(PeerIndex(to), message.encode()?);
                }
                Output::Broadcast(message) => {
                    let bytes = message.encode()?;
                    let kind = message.kind();
                    if matches!(kind, "view-change" | "new-view") {
                        tracing::info!(kind, bytes = bytes.len(), "view change message sent");
                    }
                    self.outgoing.broadcast(&bytes);
                }
                Output::Commit(batch) => self.commit(batch)?,
                Output::ScheduleTimeout {
                    kind,
                    generation,
                    after,
                } => self.timers.schedule(kind, generation, after),
                Output::NeedState(cert) => self.need_state(cert)?,
                Output::FetchBatch { seq, digest, from } => self.fetch_batch(seq, digest, from),
            }
        }
        self.store.persist(&persist, Durability::Deferred)?;
        self.publish_status();
        Ok(())
    }

    fn commit(&mut self, decided: CommittedBatch) -> Result<()> {
        let height = read(&self.ledger).height();
        if decided.seq <= height {
            return Ok(()); // re-delivery after a restart
        }
        if decided.seq != height + 1 {
            tracing::warn!(
                seq = decided.seq,
                height,
                "decided batch beyond the ledger; waiting for state transfer"
            );
            return Ok(());
        }
        let last_hash = read(&self.ledger).last_hash();
        // The core hashed each request once (its digest is the Merkle leaf).
        let mut block = Block::from_leaves(decided.seq, last_hash, decided.batch, &decided.digests);
        if block.header.data_hash != decided.certificate.digest {
            return Err(Error::Pbft(cryptanet_pbft::Error::Inconsistent {
                what: "certificate digest vs batch",
            }));
        }
        block.metadata.commit_certificate = decided.certificate.encode()?;
        self.apply_block(block)
    }

    /// Validates and appends `block` (the next block), extending the chain
    /// state and notifying subscribers.
    fn apply_block(&mut self, mut block: Block) -> Result<()> {
        let mut ledger = write(&self.ledger);
        let effects = prepare_block(
            &mut block,
            &ledger,
            &self.network.verifier,
            self.policy.as_ref(),
        );
        ledger.append_with_effects(&block, &effects)?;
        drop(ledger);
        let number = block.header.number;
        let prev = self.chain.last().copied().unwrap_or(GENESIS_STATE);
        self.chain
            .push(chain_state(&prev, number, &block.header.data_hash));
        let valid = block
            .metadata
            .validation_codes
            .iter()
            .filter(|c| c.is_valid())
            .count();
        tracing::debug!(number, txs = block.data.len(), valid, "block committed");
        let _ = self.commits.send(Committed {
            number,
            hash: block.hash(),
            txs: block.data.len(),
        });
        Ok(())
    }

    /// Starts fetching the batch of `digest` at `seq` unless a fetch of it
    /// is already under way; the result comes back through `fetched`.
    fn fetch_batch(&mut self, seq: u64, digest: Digest, from: Vec<u32>) {
        if !self.fetching.insert((seq, digest)) {
            return;
        }
        tracing::info!(seq, ?from, "fetching a batch the replica lacks");
        let (transport, tx) = (self.transport.clone(), self.fetched_tx.clone());
        tokio::spawn(async move {
            let request = batch_fetch::BatchRequest { seq, digest };
            let batch = batch_fetch::fetch(transport, from, request).await;
            let _ = tx.send((seq, digest, batch)).await;
        });
    }

    /// Answers another replica's batch fetch from the replica or, for an
    /// executed batch, from the ledger; no answer if neither has it.
    fn serve_batch(
        &mut self,
        from: PeerIndex,
        request: &[u8],
        reply: cryptanet_p2p::Reply,
    ) -> Result<()> {
        let Ok(req) = batch_fetch::decode_request(request) else {
            tracing::warn!(%from, "undecodable batch request dropped");
            return Ok(());
        };
        let batch = match self.replica.batch(req.seq, &req.digest) {
            Some(b) => Some(b),
            None => read(&self.ledger)
                .block(req.seq)?
                .filter(|b| b.header.data_hash == req.digest)
                .map(|b| b.data),
        };
        let Some(batch) = batch else {
            tracing::debug!(%from, seq = req.seq, "asked for a batch we do not hold");
            return Ok(());
        };
        if let Err(e) = reply.send(batch_fetch::encode_batch(batch)?) {
            tracing::debug!(to = %from, error = %e, "batch reply not sent");
        }
        Ok(())
    }

    fn need_state(&mut self, cert: CheckpointCert) -> Result<()> {
        let height = read(&self.ledger).height();
        if height >= cert.seq {
            // Already have the blocks (e.g. restarted with a full ledger).
            return self.state_transferred(cert);
        }
        if self.syncing {
            return Ok(());
        }
        self.syncing = true;
        let (last_hash, transport, tx) = (
            read(&self.ledger).last_hash(),
            self.transport.clone(),
            self.sync_tx.clone(),
        );
        let (me, n, keys, f) = (
            self.network.me,
            self.network.replicas.len(),
            self.network.public_keys(),
            self.network.f,
        );
        tracing::info!(
            from = height + 1,
            to = cert.seq,
            "state transfer: fetching blocks"
        );
        tokio::spawn(async move {
            let blocks = sync::fetch(transport, me, n, keys, f, height, last_hash, cert.seq).await;
            let _ = tx.send((cert, blocks)).await;
        });
        Ok(())
    }

    fn on_synced(&mut self, cert: CheckpointCert, blocks: Vec<Block>) -> Result<()> {
        self.syncing = false;
        for block in blocks {
            let height = read(&self.ledger).height();
            if block.header.number != height + 1 {
                continue;
            }
            // Verified against its certificate in sync::fetch; validation
            // codes are recomputed here against our own ledger.
            self.apply_block(block)?;
        }
        if read(&self.ledger).height() >= cert.seq {
            self.state_transferred(cert)
        } else {
            tracing::warn!(
                target = cert.seq,
                "state transfer incomplete; will retry on the next request"
            );
            Ok(())
        }
    }

    fn state_transferred(&mut self, cert: CheckpointCert) -> Result<()> {
        let seq = cert.seq;
        let Some(state) = self.chain.get(seq as usize).copied() else {
            return Ok(());
        };
        let from = self.replica.last_executed() + 1;
        let mut requests = Vec::new();
        {
            let ledger = read(&self.ledger);
            for n in from..=seq {
                if let Some(b) = ledger.block(n)? {
                    requests.extend(b.data.iter().map(|p| request_digest(p)));
                }
            }
        }
        tracing::info!(seq, "state transfer complete");
        let outs = self.replica.step(Input::StateTransferred {
            seq,
            state,
            requests,
        });
        self.perform(outs)
    }

    fn publish_status(&self) {
        let n = self.network.replicas.len() as u64;
        let view = self.replica.view();
        let s = Status {
            height: read(&self.ledger).height(),
            view,
            primary: (view % n) as u32,
            changing_view: self.replica.changing_to().is_some(),
            stable_checkpoint: self.replica.stable_checkpoint(),
        };
        let metrics = self.replica.metrics();
        self.status.send_if_modified(|old| {
            if old.view != s.view || old.changing_view != s.changing_view {
                tracing::info!(
                    view = s.view,
                    primary = s.primary,
                    changing = s.changing_view,
                    height = s.height,
                    pending = self.replica.pending_requests(),
                    ?metrics,
                    "view status"
                );
            }
            let changed = *old != s;
            *old = s.clone();
            changed
        });
    }
}

/// Recomputes the chained state digest for every stored block.
fn chain_from_ledger(ledger: &Ledger) -> Result<Vec<Digest>> {
    let mut chain = vec![GENESIS_STATE];
    for n in 1..=ledger.height() {
        let b = ledger
            .block(n)?
            .ok_or(Error::Ledger(cryptanet_ledger::Error::Corrupt {
                what: "missing block",
            }))?;
        let prev = chain[chain.len() - 1];
        chain.push(chain_state(&prev, n, &b.header.data_hash));
    }
    Ok(chain)
}

fn read(l: &RwLock<Ledger>) -> std::sync::RwLockReadGuard<'_, Ledger> {
    l.read().unwrap_or_else(|e| e.into_inner())
}

fn write(l: &RwLock<Ledger>) -> std::sync::RwLockWriteGuard<'_, Ledger> {
    l.write().unwrap_or_else(|e| e.into_inner())
}
