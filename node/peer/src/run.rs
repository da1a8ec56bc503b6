//! Wiring: from a [`PeerConfig`] to a running peer.

use crate::config::PeerConfig;
use crate::endorser::gather::Gatherer;
use crate::endorser::Endorser;
use crate::engine::EndorseRequest;
use crate::engine::{Engine, EngineHandle, EngineInputs};
use crate::error::{Error, Result};
use crate::network::Network;
use crate::store::ConsensusStore;
use crate::validate::LifecyclePolicy;
use cryptanet_chaincode::lifecycle::InstallStore;
use cryptanet_chaincode::{ModelDetector, Runtime, RuntimeConfig};
use cryptanet_ledger::{Ledger, LedgerOptions};
use cryptanet_p2p::Libp2pTransport;
use cryptanet_pbft::Replica;
use cryptanet_types::identity::LocalIdentity;
use std::sync::Arc;
use std::sync::RwLock;
use tokio::sync::{mpsc, Semaphore};

/// Largest block-sync reply (bytes).
pub const MAX_SYNC_REPLY: usize = 12 << 20;

/// Seconds since the Unix epoch (for certificate validity at start-up).
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// A peer's ordering core, wired from its config: the engine (PBFT replica,
/// consensus store and ledger) on the libp2p transport, not yet running.
pub struct Core {
    /// This peer's identity.
    pub identity: LocalIdentity,
    /// The replica set.
    pub network: Arc<Network>,
    /// The engine; run it with `engine.run(inputs, shutdown)`.
    pub engine: Engine,
    /// The engine's input channels.
    pub inputs: EngineInputs,
    /// Submission, ledger, commit and status handles.
    pub handle: EngineHandle,
    /// The libp2p transport (shut it down after the engine stops).
    pub transport: Arc<Libp2pTransport>,
}

/// Opens the ledger and consensus store of `config`, restores the PBFT
/// replica and joins the libp2p network: everything a peer runs except the
/// endorser and gRPC. Also used by the raw ordering benchmark.
pub fn assemble(config: &PeerConfig) -> Result<Core> {
    let identity = cryptanet_cli::material::load_identity(&config.identity_dir)?;
    let network = Arc::new(Network::load(&config.orgs_dir, &identity, unix_now())?);
    let me = network.my_replica().clone();
    tracing::info!(index = me.index, msp_id = %me.msp_id, name = %me.name, n = network.replicas.len(), f = network.f, "starting peer");

    std::fs::create_dir_all(&config.data_dir).map_err(|source| Error::Io {
        path: config.data_dir.clone(),
        source,
    })?;
    let ledger = Ledger::open_with(
        config.data_dir.join("ledger"),
        LedgerOptions {
            sync: config.ledger_fsync,
            ..Default::default()
        },
    )?;
    let store = ConsensusStore::open(&config.data_dir.join("consensus"), true)?;
    let persisted = store.load()?;
    let pbft_config = config.pbft_config(network.replicas.len(), network.me)?;
    let replica = Replica::new(
        pbft_config,
        identity.signing_key().clone(),
        network.public_keys(),
        persisted,
    )?;

    let mut p2p_config = cryptanet_p2p::Config::default();
    // PBFT messages carry at most one batch (PROPOSAL, DECIDED) or a group
    // of forwarded requests no larger than a batch; view changes carry
    // digests only.
    p2p_config.limits.consensus = (config.pbft.max_batch_bytes + (1 << 20)).max(4 << 20);
    p2p_config.limits.batch_response = config.pbft.max_batch_bytes + (1 << 20);
    p2p_config.pending_bytes_per_peer = config.p2p.pending_queue_mib << 20;
    p2p_config.limits.sync_response = MAX_SYNC_REPLY + (1 << 20);
    let definition = network.p2p_definition(config.listen.as_deref())?;
    let (transport, incoming) =
        Libp2pTransport::start(identity.signing_key(), definition, p2p_config)?;
    let transport = Arc::new(transport);

    let policy = Arc::new(LifecyclePolicy::new(network.orgs.len()));
    let (mut engine, inputs, handle) = Engine::new(
        replica,
        ledger,
        store,
        network.clone(),
        transport.clone(),
        incoming,
        policy,
        MAX_SYNC_REPLY,
        config.p2p.outgoing_queue_mib << 20,
    )?;
    engine.set_max_pending(config.pbft.max_pending_requests);
    Ok(Core {
        identity,
        network,
        engine,
        inputs,
        handle,
        transport,
    })
}

/// Runs the peer until `shutdown` resolves.
pub async fn run(
    config: PeerConfig,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<()> {
    let Core {
        identity,
        network,
        mut engine,
        inputs,
        handle,
        transport,
    } = assemble(&config)?;
    let endorser = Arc::new(start_endorser(
        &config,
        &identity,
        handle.ledger.clone(),
        network.clone(),
    )?);
    engine.set_endorser(serve_endorsements(endorser.clone()));
    let gatherer = Gatherer::new(endorser, transport.clone(), network.clone());
    let grpc = crate::grpc::serve(&config.grpc_listen, handle, network.clone(), gatherer).await?;
    let result = engine.run(inputs, shutdown).await;
    grpc.abort();
    transport.shutdown().await;
    tracing::info!("peer stopped");
    result
}

/// Endorsement requests from other peers waiting for a worker.
const ENDORSE_QUEUE: usize = 4096;
/// Proposals executed at once for other peers.
const ENDORSE_WORKERS: usize = 4;

/// The chaincode runtime, install store and endorser of this peer. Packages
/// and compiled modules live under `<data_dir>/chaincode`, detection models
/// under `<data_dir>/models`.
fn start_endorser(
    config: &PeerConfig,
    identity: &LocalIdentity,
    ledger: Arc<RwLock<Ledger>>,
    network: Arc<crate::network::Network>,
) -> Result<Endorser> {
    let dir = config.data_dir.join("chaincode");
    let chaincode_error = |e: cryptanet_chaincode::Error| Error::Config {
        path: dir.clone(),
        reason: e.to_string(),
    };
    let runtime = Runtime::new(RuntimeConfig {
        cache_dir: Some(dir.join("compiled")),
        ..RuntimeConfig::default()
    })
    .map_err(chaincode_error)?;
    let installed = InstallStore::open(&dir.join("packages")).map_err(chaincode_error)?;
    // The built-in cold-chain model plus models installed by admins
    // (`Admin.InstallModel`), one file per model hash.
    let detector =
        ModelDetector::with_store(&config.data_dir.join("models")).map_err(chaincode_error)?;
    Ok(Endorser::new(
        runtime,
        installed,
        Arc::new(detector),
        ledger,
        network,
        identity.clone(),
    ))
}

/// Answers endorsement requests from other peers on blocking threads, at
/// most [`ENDORSE_WORKERS`] at once; returns the queue the engine feeds.
fn serve_endorsements(endorser: Arc<Endorser>) -> mpsc::Sender<EndorseRequest> {
    let (tx, mut rx) = mpsc::channel::<EndorseRequest>(ENDORSE_QUEUE);
    let permits = Arc::new(Semaphore::new(ENDORSE_WORKERS));
    tokio::spawn(async move {
        while let Some(request) = rx.recv().await {
            let Ok(permit) = permits.clone().acquire_owned().await else {
                return;
            };
            let endorser = endorser.clone();
            tokio::task::spawn_blocking(move || {
                let answer = endorser.endorse_request(&request.proposal, unix_now());
                match cryptanet_types::codec::encode(&answer) {
                    Ok(bytes) => {
                        if let Err(e) = request.reply.send(bytes) {
                            tracing::debug!(to = %request.from, error = %e, "endorsement not sent");
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "cannot encode endorsement"),
                }
                drop(permit);
            });
        }
    });
    tx
}
