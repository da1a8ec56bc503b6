//! The peer's configuration file (`peer.toml`).
//!
//! ```toml
//! identity_dir = "../crypto/Org1MSP/peer0"   # cert.pem + private.key
//! orgs_dir = "../orgs"                       # */org.toml of every member org
//! data_dir = "peer0.org1"                    # ledger/ and consensus/ live here
//! grpc_listen = "127.0.0.1:9051"
//! # listen = "/ip4/0.0.0.0/tcp/7051"         # default: this peer's address in its org.toml
//!
//! [pbft]
//! max_batch_count = 256
//! batch_timeout_ms = 10
//! max_pending_requests = 4096               # admission control: Submit waits beyond it
//!
//! # worker_threads = 1                       # async runtime threads; default one per core
//!
//! [p2p]
//! outgoing_queue_mib = 64   # per peer; newer messages are dropped beyond it
//! pending_queue_mib = 32    # per peer, inside libp2p; oldest dropped beyond it
//! ```
//!
//! Relative paths are resolved against the directory of the config file.

use crate::error::{Error, Result};
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// Ordering parameters. Every peer of a network must use the same values
/// for `checkpoint_interval` and `watermark_window`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PbftSettings {
    /// Requests per batch (block).
    pub max_batch_count: usize,
    /// Payload bytes per batch.
    pub max_batch_bytes: usize,
    /// The primary cuts a partial batch after this long.
    pub batch_timeout_ms: u64,
    /// A pending request older than this makes a replica suspect the primary.
    pub request_timeout_ms: u64,
    /// Base view-change timeout (doubles per failed attempt).
    pub view_change_timeout_ms: u64,
    /// Checkpoint every K blocks.
    pub checkpoint_interval: u64,
    /// Watermark window L (multiple of K, at least 2K).
    pub watermark_window: u64,
    /// STATUS (retransmission) period.
    pub status_interval_ms: u64,
    /// Admission control: while the replica holds this many unexecuted
    /// requests the peer takes no new submissions (`Submit` waits).
    pub max_pending_requests: usize,
}

impl Default for PbftSettings {
    fn default() -> Self {
        PbftSettings {
            max_batch_count: 512,
            max_batch_bytes: 2 << 20,
            batch_timeout_ms: 10,
            request_timeout_ms: 3_000,
            view_change_timeout_ms: 2_000,
            checkpoint_interval: 32,
            watermark_window: 128,
            status_interval_ms: 500,
            max_pending_requests: crate::engine::MAX_PENDING,
        }
    }
}

/// A peer's configuration.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeerConfig {
    /// Directory with this peer's `cert.pem` and `private.key`.
    pub identity_dir: PathBuf,
    /// Directory with `*/org.toml` for every member organisation.
    pub orgs_dir: PathBuf,
    /// Where the ledger and the consensus state are stored.
    pub data_dir: PathBuf,
    /// gRPC listen address (host:port).
    pub grpc_listen: String,
    /// libp2p listen multiaddr; defaults to this peer's address in its org definition.
    #[serde(default)]
    pub listen: Option<String>,
    /// fsync the ledger WAL on every block (default true).
    #[serde(default = "yes")]
    pub ledger_fsync: bool,
    /// Ordering parameters.
    #[serde(default)]
    pub pbft: PbftSettings,
    /// Transport parameters.
    #[serde(default)]
    pub p2p: P2pSettings,
    /// Threads of the async runtime that serves gRPC and libp2p (default:
    /// one per core). Several peers sharing a machine's cores do better
    /// with fewer each.
    #[serde(default)]
    pub worker_threads: Option<usize>,
}

/// Memory bounds of the peer-to-peer transport, per remote peer.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct P2pSettings {
    /// MiB of messages the engine queues for one peer before it drops new
    /// ones (default 64). Dropped PBFT messages are recovered by
    /// retransmission; drops are counted and logged.
    pub outgoing_queue_mib: usize,
    /// MiB of messages the libp2p swarm holds for one peer while it is
    /// disconnected or its in-flight window is full, before it drops the
    /// oldest (default 32).
    pub pending_queue_mib: usize,
}

impl Default for P2pSettings {
    fn default() -> Self {
        P2pSettings {
            outgoing_queue_mib: 64,
            pending_queue_mib: 32,
        }
    }
}

fn yes() -> bool {
    true
}

impl PeerConfig {
    /// Reads `path`, resolving relative paths against its directory.
    pub fn load(path: &Path) -> Result<PeerConfig> {
        let err = |reason: String| Error::Config {
            path: path.to_owned(),
            reason,
        };
        let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
        let mut cfg: PeerConfig = toml::from_str(&text).map_err(|e| err(e.to_string()))?;
        if cfg.worker_threads == Some(0) {
            return Err(err("worker_threads must be at least 1".into()));
        }
        if cfg.pbft.max_pending_requests == 0 {
            return Err(err(
                "[pbft] max_pending_requests must be at least 1 (0 would refuse every submission)"
                    .into(),
            ));
        }
        let base = path.parent().unwrap_or(Path::new("."));
        for p in [&mut cfg.identity_dir, &mut cfg.orgs_dir, &mut cfg.data_dir] {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        }
        Ok(cfg)
    }

    /// The multi-threaded tokio runtime the peer runs on, with
    /// `worker_threads` threads if set (one per core otherwise).
    pub fn runtime(&self) -> std::io::Result<tokio::runtime::Runtime> {
        let mut runtime = tokio::runtime::Builder::new_multi_thread();
        if let Some(n) = self.worker_threads {
            runtime.worker_threads(n);
        }
        runtime.enable_all().build()
    }

    /// The PBFT core configuration for replica `id` of `n`.
    pub fn pbft_config(&self, n: usize, id: u32) -> Result<cryptanet_pbft::Config> {
        let s = &self.pbft;
        let mut c = cryptanet_pbft::Config::new(n, id)?;
        c.max_batch_count = s.max_batch_count;
        c.max_batch_bytes = s.max_batch_bytes;
        c.batch_timeout = s.batch_timeout_ms;
        c.request_timeout = s.request_timeout_ms;
        c.view_change_timeout = s.view_change_timeout_ms;
        c.checkpoint_interval = s.checkpoint_interval;
        c.watermark_window = s.watermark_window;
        c.status_interval = s.status_interval_ms;
        c.validate()?;
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_resolves_relative_paths_and_rejects_unknown_fields() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("peer.toml");
        std::fs::write(
            &p,
            "identity_dir = \"id\"\norgs_dir = \"/abs/orgs\"\ndata_dir = \"d\"\ngrpc_listen = \"127.0.0.1:1\"\n[pbft]\nmax_batch_count = 7\n",
        )
        .unwrap();
        let c = PeerConfig::load(&p).unwrap();
        assert_eq!(c.identity_dir, dir.path().join("id"));
        assert_eq!(c.orgs_dir, PathBuf::from("/abs/orgs"));
        assert_eq!(c.pbft.max_batch_count, 7);
        assert!(c.ledger_fsync);
        assert_eq!(c.pbft_config(4, 1).unwrap().max_batch_count, 7);
        assert_eq!(c.worker_threads, None);
        std::fs::write(&p, "identity_dir = \"id\"\nbogus = 1\n").unwrap();
        assert!(matches!(PeerConfig::load(&p), Err(Error::Config { .. })));
        std::fs::write(
            &p,
            "identity_dir = \"id\"\norgs_dir = \"o\"\ndata_dir = \"d\"\ngrpc_listen = \"127.0.0.1:1\"\nworker_threads = 0\n",
        )
        .unwrap();
        let e = PeerConfig::load(&p).unwrap_err().to_string();
        assert!(e.contains("worker_threads"), "{e}");
        std::fs::write(
            &p,
            "identity_dir = \"id\"\norgs_dir = \"o\"\ndata_dir = \"d\"\ngrpc_listen = \"127.0.0.1:1\"\n[pbft]\nmax_pending_requests = 0\n",
        )
        .unwrap();
        let e = PeerConfig::load(&p).unwrap_err().to_string();
        assert!(e.contains("max_pending_requests"), "{e}");
    }
}
