//! `ordering-bench --config peer.toml --rate R --secs S --start-at MS --out F`:
//! one replica of the raw ordering benchmark (`scripts/bench-ordering.sh
//! --raw` starts one per peer and sums their reports).
//!
//! It runs the peer's ordering core exactly as `cryptanet-node` does (PBFT
//! over libp2p, the fsynced consensus store, blocks with their commit
//! certificates appended to the RocksDB ledger) without the endorser and
//! gRPC, and feeds it opaque payloads at a fixed rate through the engine's
//! submission queue, where the gateway hands over the envelopes it accepted.
//! Validation marks every payload `BAD_PAYLOAD` (they are not envelopes), so
//! what is measured is ordering and block storage.
//!
//! Each payload carries its origin replica, a sequence number and the time
//! it was due (open loop: a late submission counts from when it was due,
//! so a stalled pipeline shows up in the latency, not as a slower rate).
//! The origin records the latency when the block that holds the payload
//! commits on its own ledger. All replicas start at the same wall-clock
//! instant (`--start-at`, Unix milliseconds).

use anyhow::{bail, Context, Result};
use clap::Parser;
use cryptanet_node::config::PeerConfig;
use cryptanet_node::run::{assemble, Core};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::broadcast::error::RecvError;

/// Marks a benchmark payload (first 8 bytes).
const MAGIC: &[u8; 8] = b"CNRAWORD";
/// Header: magic, origin (u32), sequence (u64), due time (u64 µs).
const HEADER: usize = 8 + 4 + 8 + 8;
/// A replica whose own payloads are all committed stops after this long
/// without a commit (µs).
const QUIET_US: u64 = 2_000_000;

#[derive(Parser, Debug)]
#[command(
    name = "ordering-bench",
    about = "One replica of the raw ordering benchmark"
)]
struct Args {
    /// Path to the peer's TOML configuration.
    #[arg(long)]
    config: PathBuf,
    /// Payloads per second this replica submits.
    #[arg(long)]
    rate: u64,
    /// Seconds of load.
    #[arg(long, default_value_t = 10)]
    secs: u64,
    /// Bytes per payload (at least 28).
    #[arg(long, default_value_t = 512)]
    payload_bytes: usize,
    /// When the load starts, in Unix milliseconds (the same for every replica).
    #[arg(long)]
    start_at: u64,
    /// Seconds to wait for the last payloads after the load stops.
    #[arg(long, default_value_t = 30)]
    drain_secs: u64,
    /// Where the JSON report goes.
    #[arg(long)]
    out: PathBuf,
}

/// What one replica measured.
#[derive(serde::Serialize)]
struct Report {
    replica: u32,
    rate: u64,
    secs: u64,
    payload_bytes: usize,
    /// Payloads this replica submitted within the load window (an open
    /// loop that falls behind submits fewer than `rate × secs`).
    sent: u64,
    /// Of those, committed before the drain deadline.
    committed: u64,
    /// Payloads of any origin in blocks committed here during the load window.
    committed_in_window_all_origins: u64,
    /// Blocks committed here during the load window.
    blocks_in_window: u64,
    /// Submit-to-commit latency of each committed payload of this origin, µs, sorted.
    latencies_us: Vec<u64>,
    /// CPU seconds (user + system) this process used from start to end of the load window.
    cpu_secs_in_window: f64,
    /// Ledger height at the end.
    height: u64,
}

fn main() -> Result<()> {
    let args = Args::parse();
    if args.payload_bytes < HEADER {
        bail!("--payload-bytes must be at least {HEADER}");
    }
    if args.rate == 0 || args.secs == 0 {
        bail!("--rate and --secs must be positive");
    }
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt().with_env_filter(filter).init();
    let config = PeerConfig::load(&args.config)
        .with_context(|| format!("loading {}", args.config.display()))?;
    let runtime = config.runtime()?;
    let report = runtime.block_on(bench(config, &args))?;
    let json = serde_json::to_string(&report)?;
    std::fs::write(&args.out, json).with_context(|| format!("writing {}", args.out.display()))?;
    Ok(())
}

async fn bench(config: PeerConfig, args: &Args) -> Result<Report> {
    let Core {
        network,
        engine,
        inputs,
        handle,
        transport,
        ..
    } = assemble(&config)?;
    let me = network.me;
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let engine_task = tokio::spawn(engine.run(inputs, async {
        let _ = stop_rx.await;
    }));
    let mut commits = handle.commits.subscribe();

    let start_us = args.start_at * 1000;
    let end_us = start_us + args.secs * 1_000_000;
    let total = args.rate * args.secs;
    let (payload_bytes, rate) = (args.payload_bytes, args.rate);
    let submit = handle.submit.clone();
    let sent = Arc::new(AtomicU64::new(0));
    let sent_by_loader = sent.clone();
    let loader = tokio::spawn(async move {
        sleep_until_unix_us(start_us).await;
        let mut next = 0u64;
        // What is not submitted by the end of the window is not sent.
        while next < total && now_us() < end_us {
            // Everything due by now, stamped with when it was due.
            let due_now = ((now_us().saturating_sub(start_us)) * rate / 1_000_000 + 1).min(total);
            while next < due_now {
                let due = start_us + next * 1_000_000 / rate;
                if submit
                    .send(payload(me, next, due, payload_bytes))
                    .await
                    .is_err()
                {
                    return;
                }
                next += 1;
                sent_by_loader.store(next, Ordering::Relaxed);
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    });

    sleep_until_unix_us(start_us).await;
    let cpu_start = cpu_secs();
    let mut cpu_end = None;
    let mut latencies = Vec::with_capacity(total as usize);
    let (mut in_window_all, mut blocks_in_window) = (0u64, 0u64);
    // Every replica runs until the load has ended everywhere, its own
    // payloads are committed and no block has committed for a while (the
    // others are done too), or until the deadline: one that left early
    // would take its votes with it.
    let deadline = end_us + args.drain_secs * 1_000_000;
    let mut last_commit = now_us();
    loop {
        let now = now_us();
        if now >= deadline {
            break;
        }
        let own_done = now >= end_us && latencies.len() as u64 >= sent.load(Ordering::Relaxed);
        if own_done && now.saturating_sub(last_commit) >= QUIET_US {
            break;
        }
        if cpu_end.is_none() && now >= end_us {
            cpu_end = Some(cpu_secs());
        }
        let committed = match tokio::time::timeout(Duration::from_millis(200), commits.recv()).await
        {
            Ok(Ok(c)) => c,
            Ok(Err(RecvError::Lagged(n))) => bail!("fell {n} commit notices behind"),
            Ok(Err(RecvError::Closed)) => bail!("engine stopped"),
            Err(_) => continue,
        };
        let at = now_us();
        last_commit = at;
        if (start_us..end_us).contains(&at) {
            in_window_all += committed.txs as u64;
            blocks_in_window += 1;
        }
        // The stored block's bytes hold each payload verbatim: find ours
        // there instead of decoding the block (this runs beside the peer it
        // measures, so it must be cheap).
        let bytes = handle
            .ledger
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .block_bytes(committed.number)?
            .context("committed block missing")?;
        for (origin, _seq, due) in payloads_in(&bytes) {
            if origin == me {
                latencies.push(at.saturating_sub(due));
            }
        }
    }
    loader.abort();
    let sent = sent.load(Ordering::Relaxed);
    let cpu_end = cpu_end.unwrap_or_else(cpu_secs);
    let height = handle
        .ledger
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .height();
    let _ = stop_tx.send(());
    engine_task.await??;
    transport.shutdown().await;
    latencies.sort_unstable();
    Ok(Report {
        replica: me,
        rate: args.rate,
        secs: args.secs,
        payload_bytes: args.payload_bytes,
        sent,
        committed: latencies.len() as u64,
        committed_in_window_all_origins: in_window_all,
        blocks_in_window,
        latencies_us: latencies,
        cpu_secs_in_window: cpu_end - cpu_start,
        height,
    })
}

/// A payload: header, then filler up to `len` bytes.
fn payload(origin: u32, seq: u64, due_us: u64, len: usize) -> Vec<u8> {
    let mut p = Vec::with_capacity(len);
    p.extend_from_slice(MAGIC);
    p.extend_from_slice(&origin.to_le_bytes());
    p.extend_from_slice(&seq.to_le_bytes());
    p.extend_from_slice(&due_us.to_le_bytes());
    let fill = (seq as u8) ^ (origin as u8);
    p.resize(len, fill);
    p
}

/// Origin, sequence and due time of every benchmark payload in `bytes`
/// (an encoded block, whose envelopes are stored verbatim).
fn payloads_in(bytes: &[u8]) -> Vec<(u32, u64, u64)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i + HEADER <= bytes.len() {
        match bytes[i..].iter().position(|b| *b == MAGIC[0]) {
            None => break,
            Some(k) => i += k,
        }
        match parse(&bytes[i..]) {
            Some(p) => {
                out.push(p);
                i += HEADER;
            }
            None => i += 1,
        }
    }
    out
}

/// Origin, sequence and due time of a benchmark payload.
fn parse(p: &[u8]) -> Option<(u32, u64, u64)> {
    if p.len() < HEADER || &p[..8] != MAGIC {
        return None;
    }
    let u32_at = |i: usize| u32::from_le_bytes(p[i..i + 4].try_into().unwrap_or_default());
    let u64_at = |i: usize| u64::from_le_bytes(p[i..i + 8].try_into().unwrap_or_default());
    Some((u32_at(8), u64_at(12), u64_at(20)))
}

fn now_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or(0)
}

async fn sleep_until_unix_us(t: u64) {
    let now = now_us();
    if t > now {
        tokio::time::sleep(Duration::from_micros(t - now)).await;
    }
}

/// User + system CPU seconds of this process (Linux `/proc/self/stat`).
fn cpu_secs() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // Fields after the command name (which may hold spaces) close with ')'.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // utime and stime are fields 14 and 15 of stat(5): 12 and 13 after ')'.
    (ticks(11) + ticks(12)) / 100.0
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn payloads_round_trip_and_others_are_ignored() {
        let p = payload(3, 77, 1_234_567, 512);
        assert_eq!(p.len(), 512);
        assert_eq!(parse(&p), Some((3, 77, 1_234_567)));
        assert_eq!(parse(&p[..HEADER - 1]), None);
        let mut other = p.clone();
        other[0] ^= 1;
        assert_eq!(parse(&other), None);
        // Distinct sequence numbers give distinct payloads (PBFT deduplicates by digest).
        assert_ne!(payload(3, 1, 0, 64), payload(3, 2, 0, 64));
        // Found in an encoded block, between other bytes.
        let block = cryptanet_types::Block::new(
            1,
            cryptanet_types::Digest([0; 32]),
            vec![
                payload(1, 5, 9, 300),
                b"CNRAW".to_vec(),
                payload(2, 6, 10, 40),
            ],
        );
        let bytes = cryptanet_types::codec::encode(&block).unwrap();
        assert_eq!(payloads_in(&bytes), vec![(1, 5, 9), (2, 6, 10)]);
    }

    #[test]
    fn cpu_time_is_read() {
        let spin = std::time::Instant::now();
        let mut x = 0u64;
        while spin.elapsed() < Duration::from_millis(30) {
            x = x.wrapping_add(std::hint::black_box(1));
        }
        assert!(x > 0);
        assert!(cpu_secs() > 0.0);
    }
}
