//! `cryptanet load`: submit signed transactions to a running network at a
//! fixed rate and measure submit-to-commit latency and throughput.
//!
//! Transactions are generated and signed before the clock starts
//! ([`crate::txgen`]). They are spread round-robin over the given peers'
//! gateways; commits are observed on one peer's filtered-block stream.
//! Endorsements are made with the peer keys found in `--crypto`, which only
//! the operator of a local development network has.

use crate::material::load_identity;
use crate::txgen::{blind_write, GeneratedTx};
use anyhow::{bail, Context as _};
use clap::Args;
use cryptanet_proto::client::PeerClient;
use cryptanet_proto::v1::{deliver_request::Start, DeliverRequest, SeekNewest, SubmitRequest};
use cryptanet_proto::Limits;
use cryptanet_types::ValidationCode;
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Options of `cryptanet load`.
#[derive(Debug, Args)]
pub struct LoadArgs {
    /// gRPC addresses of the peers to submit to (comma-separated).
    #[arg(
        long,
        default_value = "127.0.0.1:9051,127.0.0.1:9052,127.0.0.1:9053,127.0.0.1:9054",
        value_delimiter = ','
    )]
    pub peers: Vec<String>,
    /// Directory written by `cryptanet orgs generate --out`.
    #[arg(long, default_value = "run/network/crypto")]
    pub crypto: PathBuf,
    /// Number of transactions.
    #[arg(long, default_value_t = 1000)]
    pub count: usize,
    /// Offered rate in transactions per second (open loop).
    #[arg(long, default_value_t = 500)]
    pub rate: u64,
    /// Bytes of payload written by each transaction.
    #[arg(long, default_value_t = 512)]
    pub payload_bytes: usize,
    /// How many orgs endorse each transaction (the default policy needs a majority).
    #[arg(long)]
    pub endorsers: Option<usize>,
    /// Give up waiting for commits after this many seconds.
    #[arg(long, default_value_t = 120)]
    pub timeout_secs: u64,
    /// Also write the results as JSON to this file.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Seed for nonces and payloads (different runs need different seeds).
    #[arg(long)]
    pub seed: Option<u64>,
}

/// Runs the load.
pub fn run(args: LoadArgs, out: &mut impl std::io::Write) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(run_async(args, out))
}

fn org_dirs(crypto: &std::path::Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(crypto)
        .with_context(|| format!("reading {}", crypto.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("client").is_dir())
        .collect();
    dirs.sort();
    Ok(dirs)
}

/// Generates `count` transactions (before any timing).
pub fn generate(args: &LoadArgs) -> anyhow::Result<Vec<GeneratedTx>> {
    let orgs = org_dirs(&args.crypto)?;
    if orgs.is_empty() {
        bail!("no org material under {}", args.crypto.display());
    }
    let client = load_identity(&orgs[0].join("client"))?;
    let k = args.endorsers.unwrap_or(orgs.len() / 2 + 1).min(orgs.len());
    let peers = orgs
        .iter()
        .take(k)
        .map(|o| load_identity(&o.join("peer0")))
        .collect::<Result<Vec<_>, _>>()?;
    let endorsers: Vec<_> = peers.iter().collect();
    let seed = args.seed.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1)
    });
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_millis() as u64;
    let mut rng = crate::txgen_rng(seed);
    (0..args.count)
        .map(|i| {
            let mut nonce = [0u8; 16];
            nonce[..8].copy_from_slice(&rng().to_le_bytes());
            nonce[8..].copy_from_slice(&(i as u64).to_le_bytes());
            let payload: Vec<u8> = (0..args.payload_bytes)
                .map(|j| (rng() >> (j % 8 * 8)) as u8)
                .collect();
            Ok(blind_write(&client, &endorsers, nonce, payload, now_ms)?)
        })
        .collect()
}

/// Measured outcome of a load run.
#[derive(Debug, Default)]
pub struct LoadReport {
    /// Transactions submitted successfully.
    pub sent: usize,
    /// Submissions refused by the gateway.
    pub refused: usize,
    /// Committed transactions by validation code.
    pub by_code: BTreeMap<String, usize>,
    /// Committed per second, first submit to last commit.
    pub tps: f64,
    /// Latency percentiles in milliseconds: p50, p90, p99, max.
    pub latency_ms: [f64; 4],
}

async fn run_async(args: LoadArgs, out: &mut impl std::io::Write) -> anyhow::Result<()> {
    // The transactions run under the `load` chaincode definition: deploy it
    // through `_lifecycle` first (a no-op once committed).
    crate::lifecycle::deploy_blind_write(&args.crypto, &args.peers)
        .await
        .context("deploying the load chaincode definition")?;
    let txs = generate(&args)?;
    writeln!(
        out,
        "load: {} transactions of {} B generated and signed; offering {} tx/s to {} peers",
        txs.len(),
        args.payload_bytes,
        args.rate,
        args.peers.len()
    )?;
    let report = drive(&args, txs).await?;
    writeln!(
        out,
        "load: sent {} refused {} committed {:?}\nload: {:.0} committed tx/s; latency p50 {:.1} ms p90 {:.1} ms p99 {:.1} ms max {:.1} ms",
        report.sent, report.refused, report.by_code, report.tps, report.latency_ms[0], report.latency_ms[1], report.latency_ms[2], report.latency_ms[3]
    )?;
    if let Some(path) = &args.json {
        let json = format!(
            "{{\"sent\":{},\"refused\":{},\"committed\":{{{}}},\"tps\":{:.1},\"latency_ms\":{{\"p50\":{:.2},\"p90\":{:.2},\"p99\":{:.2},\"max\":{:.2}}},\"rate\":{},\"payload_bytes\":{}}}\n",
            report.sent,
            report.refused,
            report.by_code.iter().map(|(k, v)| format!("\"{k}\":{v}")).collect::<Vec<_>>().join(","),
            report.tps,
            report.latency_ms[0], report.latency_ms[1], report.latency_ms[2], report.latency_ms[3],
            args.rate,
            args.payload_bytes
        );
        std::fs::write(path, json)?;
    }
    Ok(())
}

/// Submits `txs` at the configured rate and waits for their commits.
pub async fn drive(args: &LoadArgs, txs: Vec<GeneratedTx>) -> anyhow::Result<LoadReport> {
    let mut clients = Vec::new();
    for p in &args.peers {
        clients.push(
            PeerClient::connect(&format!("http://{p}"), Limits::default())
                .await
                .with_context(|| format!("connecting to {p}"))?,
        );
    }
    let mut blocks = clients[0]
        .deliver()
        .filtered_blocks(DeliverRequest {
            start: Some(Start::Newest(SeekNewest {})),
            stop: None,
        })
        .await?
        .into_inner();
    let wanted: HashMap<String, usize> = txs
        .iter()
        .enumerate()
        .map(|(i, t)| (cryptanet_proto::convert::tx_id_to_wire(&t.tx_id), i))
        .collect();
    let n = txs.len();
    let start = Instant::now();
    let submitted_at: std::sync::Arc<std::sync::Mutex<Vec<Option<Instant>>>> =
        std::sync::Arc::new(std::sync::Mutex::new(vec![None; n]));
    let refused = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let interval = Duration::from_secs_f64(1.0 / args.rate.max(1) as f64);
    let sender = {
        let submitted_at = submitted_at.clone();
        let refused = refused.clone();
        tokio::spawn(async move {
            let limit = std::sync::Arc::new(tokio::sync::Semaphore::new(256));
            for (i, tx) in txs.into_iter().enumerate() {
                let due = start + interval.mul_f64(i as f64);
                tokio::time::sleep_until(due.into()).await;
                let permit = limit.clone().acquire_owned().await;
                let mut gw = clients[i % clients.len()].gateway();
                let submitted_at = submitted_at.clone();
                let refused = refused.clone();
                tokio::spawn(async move {
                    let _permit = permit;
                    let t = Instant::now();
                    match gw
                        .submit(SubmitRequest {
                            envelope: tx.envelope,
                        })
                        .await
                    {
                        Ok(_) => {
                            submitted_at.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(t)
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, "submit refused");
                            refused.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        }
                    }
                });
            }
        })
    };
    let mut committed_at: Vec<Option<(Instant, ValidationCode)>> = vec![None; n];
    let mut done = 0usize;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(args.timeout_secs);
    while done + refused.load(std::sync::atomic::Ordering::Relaxed) < n {
        let msg = match tokio::time::timeout_at(deadline, blocks.message()).await {
            Err(_) => break,
            Ok(m) => m?,
        };
        let Some(block) = msg else { break };
        let now = Instant::now();
        for t in block.txs {
            if let Some(&i) = wanted.get(&t.tx_id) {
                if committed_at[i].is_none() {
                    committed_at[i] = Some((
                        now,
                        cryptanet_proto::validation::from_wire(t.validation_code)?,
                    ));
                    done += 1;
                }
            }
        }
    }
    sender.abort();
    let submitted = submitted_at
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    let mut report = LoadReport {
        refused: refused.load(std::sync::atomic::Ordering::Relaxed),
        ..Default::default()
    };
    report.sent = submitted.iter().filter(|s| s.is_some()).count();
    let mut lat: Vec<f64> = Vec::new();
    let mut last = start;
    for (s, c) in submitted.iter().zip(&committed_at) {
        if let Some((ct, code)) = c {
            *report.by_code.entry(code.name().to_owned()).or_default() += 1;
            last = last.max(*ct);
            if let Some(st) = s {
                lat.push(ct.saturating_duration_since(*st).as_secs_f64() * 1000.0);
            }
        }
    }
    lat.sort_by(|a, b| a.total_cmp(b));
    let pct = |p: f64| {
        if lat.is_empty() {
            0.0
        } else {
            lat[((lat.len() - 1) as f64 * p).round() as usize]
        }
    };
    report.latency_ms = [pct(0.50), pct(0.90), pct(0.99), pct(1.0)];
    let secs = last.saturating_duration_since(start).as_secs_f64();
    report.tps = if secs > 0.0 { done as f64 / secs } else { 0.0 };
    Ok(report)
}
