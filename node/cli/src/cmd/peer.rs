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
    /// Show one committed transaction: block, validation code, proposal,
    /// endorsers, read/write set and event.
    Tx {
        /// gRPC address of the peer, host:port.
        #[arg(long, default_value = "127.0.0.1:9051")]
        peer: String,
        /// Transaction id (64 hex characters).
        tx_id: String,
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
        PeerCommand::Tx { peer, tx_id } => rt.block_on(show_tx(&peer, &tx_id, out)),
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

fn text(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(t) if !t.chars().any(char::is_control) => format!("{t:?}"),
        _ => format!("0x{}", hex::encode(bytes)),
    }
}

fn org_of(cert: &[u8]) -> String {
    cryptanet_types::identity::CertInfo::from_der(cert)
        .map(|c| format!("{} ({})", c.common_name, c.msp_id.unwrap_or_default()))
        .unwrap_or_else(|_| "unparseable certificate".into())
}

async fn show_tx(peer: &str, tx_id: &str, out: &mut impl std::io::Write) -> anyhow::Result<()> {
    use cryptanet_types::{codec, Envelope, Proposal, ProposalResponsePayload, TxPayload};
    let client = PeerClient::connect(&format!("http://{peer}"), Limits::default()).await?;
    let id = cryptanet_proto::convert::tx_id_from_wire(tx_id)?;
    let status = client
        .commit_status(&id, std::time::Duration::from_secs(5))
        .await?;
    let mut stream = client
        .deliver()
        .blocks(cryptanet_proto::v1::DeliverRequest {
            start: Some(cryptanet_proto::v1::deliver_request::Start::Number(
                status.block_number,
            )),
            stop: Some(status.block_number),
        })
        .await?
        .into_inner();
    let Some(cryptanet_proto::v1::deliver_response::Content::Block(b)) =
        stream.message().await?.and_then(|m| m.content)
    else {
        anyhow::bail!("block {} not delivered", status.block_number);
    };
    let block = cryptanet_proto::convert::decode_block(&b)?;
    for (i, bytes) in block.data.iter().enumerate() {
        let Ok(env) = Envelope::from_bytes(bytes) else {
            continue;
        };
        let Ok(payload) = codec::decode::<TxPayload>(&env.payload) else {
            continue;
        };
        let Ok(proposal) = codec::decode::<Proposal>(&payload.proposal_bytes) else {
            continue;
        };
        if proposal.tx_id() != id {
            continue;
        }
        let code = block
            .metadata
            .validation_codes
            .get(i)
            .map_or("?", |c| c.name());
        writeln!(
            out,
            "tx {tx_id}\n  block {} index {i}: {code}",
            block.header.number
        )?;
        writeln!(out, "  creator  {}", org_of(&proposal.creator))?;
        let args: Vec<String> = proposal.args.iter().map(|a| text(a)).collect();
        writeln!(
            out,
            "  call     {}.{}({})",
            proposal.chaincode,
            proposal.function,
            args.join(", ")
        )?;
        for e in &payload.endorsements {
            writeln!(out, "  endorsed by {}", org_of(&e.endorser))?;
        }
        if let Ok(r) = codec::decode::<ProposalResponsePayload>(&payload.response_bytes) {
            writeln!(
                out,
                "  response {} {}",
                r.response.status,
                text(&r.response.payload)
            )?;
            for ns in &r.rwset.ns {
                for rd in &ns.reads {
                    writeln!(
                        out,
                        "  read     {}/{} @ {:?}",
                        ns.namespace,
                        text(&rd.key),
                        rd.version
                    )?;
                }
                for q in &ns.range_queries {
                    writeln!(
                        out,
                        "  range    {}/[{}, {}) {} keys",
                        ns.namespace,
                        text(&q.start),
                        text(&q.end),
                        q.reads.len()
                    )?;
                }
                for w in &ns.writes {
                    match &w.value {
                        Some(v) => writeln!(
                            out,
                            "  write    {}/{} = {}",
                            ns.namespace,
                            text(&w.key),
                            text(v)
                        )?,
                        None => writeln!(out, "  delete   {}/{}", ns.namespace, text(&w.key))?,
                    }
                }
            }
            if let Some(ev) = &r.event {
                writeln!(out, "  event    {} {}", ev.name, text(&ev.payload))?;
            }
        }
        return Ok(());
    }
    anyhow::bail!(
        "transaction {tx_id} not found in block {}",
        status.block_number
    )
}
