//! One-way message throughput and block-sync round-trip time, libp2p over
//! loopback beside the in-memory hub as the baseline (the cost of the trait
//! and queues alone).
//!
//! Run: `cargo bench -p cryptanet-p2p --bench throughput -- [messages] [size]`
//! (defaults 20000 messages of 256 bytes).

use anyhow::{anyhow, Context};
use cryptanet_p2p::{
    Config, Event, Incoming, Libp2pTransport, MemoryHub, NetworkDefinition, PeerIndex, PeerInfo,
    SyncRequest, Transport,
};
use cryptanet_types::crypto::{PublicKey, SigningKey};
use std::time::{Duration, Instant};

const SYNC_BYTES: usize = 1 << 20;
const SYNC_ROUNDS: u32 = 20;

struct Figures {
    msgs_per_sec: f64,
    sync_rtt: Duration,
}

/// Answers sync requests with `SYNC_BYTES` bytes and counts one-way messages.
fn spawn_receiver(mut incoming: Incoming, expect: usize) -> tokio::sync::oneshot::Receiver<()> {
    let (done_tx, done_rx) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        let mut done_tx = Some(done_tx);
        let mut got = 0usize;
        while let Some(event) = incoming.recv().await {
            match event {
                Event::Consensus { .. } | Event::Envelope { .. } => {
                    got += 1;
                    if got == expect {
                        if let Some(tx) = done_tx.take() {
                            let _ = tx.send(());
                        }
                    }
                }
                Event::SyncRequest { reply, .. } => {
                    let _ = reply.send(vec![7u8; SYNC_BYTES]);
                }
                Event::EndorseRequest { reply, .. } | Event::BatchRequest { reply, .. } => {
                    let _ = reply.send(Vec::new());
                }
            }
        }
    });
    done_rx
}

async fn measure<T: Transport>(
    sender: &T,
    incoming: Incoming,
    messages: usize,
    size: usize,
) -> anyhow::Result<Figures> {
    let done = spawn_receiver(incoming, messages);
    // Warm-up: one sync round trip establishes the connection.
    let req = SyncRequest {
        from_block: 0,
        max_count: 1,
    };
    sender.request_blocks(PeerIndex(1), req).await?;
    let start = Instant::now();
    for _ in 0..messages {
        sender.send(PeerIndex(1), vec![0xAB; size]).await?;
    }
    tokio::time::timeout(Duration::from_secs(120), done)
        .await
        .context("messages not all delivered in 120 s")??;
    let msgs_per_sec = messages as f64 / start.elapsed().as_secs_f64();
    let start = Instant::now();
    for _ in 0..SYNC_ROUNDS {
        let blocks = sender.request_blocks(PeerIndex(1), req).await?;
        if blocks.len() != SYNC_BYTES {
            return Err(anyhow!("short sync answer: {} bytes", blocks.len()));
        }
    }
    Ok(Figures {
        msgs_per_sec,
        sync_rtt: start.elapsed() / SYNC_ROUNDS,
    })
}

fn free_addr() -> anyhow::Result<cryptanet_p2p::Multiaddr> {
    let l = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(format!("/ip4/127.0.0.1/tcp/{}", l.local_addr()?.port()).parse()?)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let messages: usize = args
        .first()
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(20_000);
    let size: usize = args.get(1).map(|s| s.parse()).transpose()?.unwrap_or(256);
    // Queues large enough that the burst is measured, not dropped.
    let config = Config {
        event_queue: messages + 16,
        pending_per_peer: messages + 16,
        ..Config::default()
    };

    let (_hub, mut eps) = MemoryHub::new(2, config.clone());
    let (mem0, _) = eps.remove(0);
    let (_mem1, mem_in) = eps.remove(0);
    let memory = measure(&mem0, mem_in, messages, size).await?;

    let keys = [
        SigningKey::from_bytes(&[1; 32]),
        SigningKey::from_bytes(&[2; 32]),
    ];
    let peers = keys
        .iter()
        .map(|k| {
            Ok(PeerInfo {
                public_key: PublicKey::of(k),
                addr: free_addr()?,
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let def = NetworkDefinition::new(peers)?;
    let (p0, _in0) = Libp2pTransport::start(&keys[0], def.clone(), config.clone())?;
    let (_p1, in1) = Libp2pTransport::start(&keys[1], def, config.clone())?;
    let net = measure(&p0, in1, messages, size).await?;

    println!("cryptanet-p2p throughput: {messages} one-way messages of {size} B, then {SYNC_ROUNDS} sync round trips of {SYNC_BYTES} B");
    println!(
        "{:<28} {:>14} {:>16}",
        "transport", "msgs/s", "sync RTT (ms)"
    );
    for (name, f) in [
        ("in-memory hub (baseline)", &memory),
        ("libp2p tcp+noise+yamux", &net),
    ] {
        println!(
            "{:<28} {:>14.0} {:>16.2}",
            name,
            f.msgs_per_sec,
            f.sync_rtt.as_secs_f64() * 1e3
        );
    }
    p0.shutdown().await;
    Ok(())
}
