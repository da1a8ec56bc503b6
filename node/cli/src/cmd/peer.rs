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
    /// Print the chain: one line per block (number, hash, previous hash,
    /// transactions by validation code, commit-certificate signers).
    Blocks {
        /// gRPC address of the peer, host:port.
        #[arg(long, default_value = "127.0.0.1:9051")]
        peer: String,
        /// Show the last N blocks.
        #[arg(long, default_value_t = 10)]
        last: u64,
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
        PeerCommand::Blocks { peer, last } => rt.block_on(async {
            let client = PeerClient::connect(&format!("http://{peer}"), Limits::default()).await?;
            let height = client
                .admin()
                .peer_info(cryptanet_proto::v1::PeerInfoRequest {})
                .await?
                .into_inner()
                .height;
            if height == 0 {
                writeln!(out, "no blocks yet")?;
                return Ok(());
            }
            let from = height.saturating_sub(last.saturating_sub(1)).max(1);
            let mut stream = client
                .deliver()
                .blocks(cryptanet_proto::v1::DeliverRequest {
                    start: Some(cryptanet_proto::v1::deliver_request::Start::Number(from)),
                    stop: Some(height),
                })
                .await?
                .into_inner();
            let mut seen = 0;
            while seen <= height - from {
                let Some(msg) = stream.message().await? else {
                    break;
                };
                let Some(cryptanet_proto::v1::deliver_response::Content::Block(b)) = msg.content
                else {
                    continue;
                };
                seen += 1;
                let block = cryptanet_proto::convert::decode_block(&b)?;
                let mut codes = std::collections::BTreeMap::<&str, usize>::new();
                for c in &block.metadata.validation_codes {
                    *codes.entry(c.name()).or_default() += 1;
                }
                let signers =
                    cryptanet_pbft::CommitCertificate::decode(&block.metadata.commit_certificate)
                        .map(|c| {
                            c.commits
                                .iter()
                                .map(|(r, _)| r.to_string())
                                .collect::<Vec<_>>()
                                .join(",")
                        })
                        .unwrap_or_else(|_| "-".into());
                writeln!(
                    out,
                    "block {:>6}  hash {}  prev {}  txs {:>4} {:?}  certified by replicas [{}]",
                    block.header.number,
                    &block.hash().to_hex()[..16],
                    &block.header.previous_hash.to_hex()[..16],
                    block.data.len(),
                    codes,
                    signers
                )?;
            }
            Ok(())
        }),
    }
}
