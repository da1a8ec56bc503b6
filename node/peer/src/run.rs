//! Wiring: from a [`PeerConfig`] to a running peer.

use crate::config::PeerConfig;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::network::Network;
use crate::store::ConsensusStore;
use crate::validate::MajorityOfOrgs;
use cryptanet_ledger::{Ledger, LedgerOptions};
use cryptanet_p2p::{Libp2pTransport, Transport as _};
use cryptanet_pbft::Replica;
use std::sync::Arc;

/// Largest block-sync reply (bytes).
pub const MAX_SYNC_REPLY: usize = 12 << 20;

/// Seconds since the Unix epoch (for certificate validity at start-up).
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Runs the peer until `shutdown` resolves.
pub async fn run(
    config: PeerConfig,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<()> {
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
    p2p_config.limits.consensus = 64 << 20;
    p2p_config.limits.sync_response = MAX_SYNC_REPLY + (1 << 20);
    let definition = network.p2p_definition(config.listen.as_deref())?;
    let (transport, incoming) =
        Libp2pTransport::start(identity.signing_key(), definition, p2p_config)?;
    let transport = Arc::new(transport);

    let policy = Arc::new(MajorityOfOrgs {
        members: network.orgs.len(),
    });
    let (engine, inputs, handle) = Engine::new(
        replica,
        ledger,
        store,
        network.clone(),
        transport.clone(),
        incoming,
        policy,
        MAX_SYNC_REPLY,
    )?;
    let grpc = crate::grpc::serve(
        &config.grpc_listen,
        handle,
        network.clone(),
        transport.metrics(),
    )
    .await?;
    let result = engine.run(inputs, shutdown).await;
    grpc.abort();
    transport.shutdown().await;
    tracing::info!("peer stopped");
    result
}
