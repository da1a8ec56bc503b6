//! `cryptanet-node --config peer.toml`: runs one CryptaNet peer.
//!
//! Loads the peer's identity and the org definitions, opens the ledger and
//! the consensus store, joins the libp2p network, serves gRPC, and orders,
//! validates and commits blocks until SIGTERM or SIGINT.

use anyhow::{Context, Result};
use clap::Parser;
use cryptanet_node::config::PeerConfig;
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(name = "cryptanet-node", version, about = "Run a CryptaNet peer")]
struct Args {
    /// Path to the peer's TOML configuration.
    #[arg(long)]
    config: PathBuf,
    /// Log format: "text" or "json".
    #[arg(long, default_value = "text")]
    log_format: String,
}

fn main() -> Result<()> {
    let args = Args::parse();
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,libp2p=warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    if args.log_format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
    let config = PeerConfig::load(&args.config)
        .with_context(|| format!("loading {}", args.config.display()))?;
    let runtime = config.runtime()?;
    Ok(runtime.block_on(cryptanet_node::run::run(config, shutdown_signal()))?)
}

async fn shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        // Without signal handlers, run until killed.
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term.recv() => tracing::info!("SIGTERM received"),
        _ = int.recv() => tracing::info!("SIGINT received"),
    }
}
