//! `cryptanet peer …`: ask a running peer about itself.

use clap::{Args, Subcommand};
use cryptanet_proto::client::PeerClient;
use cryptanet_proto::Limits;

/// Arguments of the `peer` group.
#[derive(Debug, Args)]
pub struct PeerArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: PeerCommand,
}

/// Commands of the `peer` group.
#[derive(Debug, Subcommand)]
pub enum PeerCommand {
    /// Print the peer's org, height, view and primary (exit 1 if unreachable).
    Info {
        /// gRPC address of the peer, host:port.
        #[arg(long, default_value = "127.0.0.1:9051")]
        peer: String,
    },
}

/// Runs a `peer` command.
pub fn run(args: PeerArgs, out: &mut impl std::io::Write) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    match args.command {
        PeerCommand::Info { peer } => rt.block_on(async {
            let client = PeerClient::connect(&format!("http://{peer}"), Limits::default()).await?;
            let info = client
                .admin()
                .peer_info(cryptanet_proto::v1::PeerInfoRequest {})
                .await?
                .into_inner();
            let hash: String = info
                .last_block_hash
                .iter()
                .take(8)
                .map(|b| format!("{b:02x}"))
                .collect();
            writeln!(
                out,
                "{} ({}) height {} last {} view {} primary {}",
                info.peer_name, info.msp_id, info.height, hash, info.view, info.primary
            )?;
            Ok(())
        }),
    }
}
