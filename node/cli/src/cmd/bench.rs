//! `cryptanet bench` (alias `load`): a Caliper-style benchmark against a
//! running network. Workloads: `record-reading` (the supply-chain
//! chaincode's RecordReading through the gateway's Endorse and Submit),
//! `blind-write` (envelopes endorsed with the peer keys found in
//! `--crypto`, submitted directly) and `query` (Evaluate of GetShipment).
//! Modes: an open loop at `--rate`, a closed loop of `--concurrency`
//! clients, or `--find-max`, which doubles the clients until throughput
//! stops rising or p99 passes `--p99-bound-ms`.

use crate::bench::cpu::{self, Meter};
use crate::bench::drive::{self, Target};
use crate::bench::prepare::{self, Item, Shipment, SUPPLY_CHAIN};
use crate::bench::report::{keep_stepping, RunReport};
use crate::bench::stats::Summary;
use crate::bench::tracker::Tracker;
use crate::client::Client;
use crate::material::load_identity;
use anyhow::{bail, Context as _};
use clap::{Args, ValueEnum};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// What each transaction does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Workload {
    /// RecordReading with the detector, endorsed through the gateway.
    RecordReading,
    /// A blind write, pre-endorsed with peer keys, submitted as an envelope.
    BlindWrite,
    /// Evaluate GetShipment (read-only; request to response).
    Query,
}

impl Workload {
    fn name(self) -> &'static str {
        match self {
            Workload::RecordReading => "record-reading",
            Workload::BlindWrite => "blind-write",
            Workload::Query => "query",
        }
    }
}

/// Options of `cryptanet bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Gateways, one per org in sorted org order (comma-separated).
    #[arg(
        long,
        default_value = "127.0.0.1:9051,127.0.0.1:9052,127.0.0.1:9053,127.0.0.1:9054",
        value_delimiter = ','
    )]
    pub peers: Vec<String>,
    /// Directory written by `cryptanet orgs generate --out`.
    #[arg(long, default_value = "run/network/crypto")]
    pub crypto: PathBuf,
    /// Run directory of `scripts/network.sh` (its `pids/peerK.pid` give
    /// the CPU per peer); default: the parent of `--crypto`.
    #[arg(long)]
    pub run_dir: Option<PathBuf>,
    /// What each transaction does.
    #[arg(long, value_enum, default_value_t = Workload::BlindWrite)]
    pub workload: Workload,
    /// Transactions per run (per step with `--find-max`).
    #[arg(long, default_value_t = 1000)]
    pub count: usize,
    /// Offered rate in transactions per second (open loop).
    #[arg(long, default_value_t = 500)]
    pub rate: u64,
    /// Closed loop with this many clients instead of an open loop (with
    /// `--find-max`: the first step).
    #[arg(long)]
    pub concurrency: Option<usize>,
    /// Closed loop that doubles the clients until committed tx/s rises by
    /// less than 5 % or p99 exceeds `--p99-bound-ms`.
    #[arg(long)]
    pub find_max: bool,
    /// Largest concurrency `--find-max` tries.
    #[arg(long, default_value_t = 1024)]
    pub max_concurrency: usize,
    /// p99 latency bound of `--find-max`, in milliseconds.
    #[arg(long, default_value_t = 1000.0)]
    pub p99_bound_ms: f64,
    /// Send transactions in groups of this many with the batch calls
    /// (`EndorseBatch`, `SubmitBatch`; record-reading and blind-write).
    /// Each transaction is still its own proposal, envelope and commit;
    /// latency runs from its group's first call. 1: the unary calls.
    #[arg(long, default_value_t = 1)]
    pub batch: usize,
    /// Blind-write: bytes written by each transaction.
    #[arg(long, default_value_t = 512)]
    pub payload_bytes: usize,
    /// Blind-write: how many orgs' peer keys endorse (default: a majority).
    #[arg(long)]
    pub endorsers: Option<usize>,
    /// Record-reading and query: shipments registered per org.
    #[arg(long, default_value_t = 4)]
    pub shipments_per_org: usize,
    /// Give up waiting for a commit this many seconds after submitting.
    #[arg(long, default_value_t = 120)]
    pub timeout_secs: u64,
    /// Also write the results as JSON to this file.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Seed for nonces, payloads and shipment ids (default: the clock).
    #[arg(long)]
    pub seed: Option<u64>,
}

/// Runs the benchmark.
pub fn run(args: BenchArgs, out: &mut impl std::io::Write) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(run_async(args, out))
}

/// The loaded network: org names, one client per org on its own gateway.
struct Network {
    orgs: Vec<String>,
    clients: Vec<Client>,
}

async fn connect(args: &BenchArgs) -> anyhow::Result<Network> {
    let orgs = crate::lifecycle::org_names(&args.crypto)?;
    let clients = crate::lifecycle::org_clients(&args.crypto, &orgs, &args.peers, "client")
        .await
        .context("connecting to the gateways")?;
    Ok(Network { orgs, clients })
}

/// Prepares `count` items of the workload (all signing happens here).
fn prepare_items(
    args: &BenchArgs,
    net: &Network,
    shipments: &[Shipment],
    count: usize,
    seed: u64,
) -> anyhow::Result<Vec<Item>> {
    Ok(match args.workload {
        Workload::BlindWrite => {
            let client = load_identity(&args.crypto.join(&net.orgs[0]).join("client"))?;
            let k = args
                .endorsers
                .unwrap_or(net.orgs.len() / 2 + 1)
                .min(net.orgs.len());
            let peers = net.orgs[..k]
                .iter()
                .map(|o| load_identity(&args.crypto.join(o).join("peer0")))
                .collect::<Result<Vec<_>, _>>()?;
            let endorsers: Vec<_> = peers.iter().collect();
            prepare::blind_writes(
                &client,
                &endorsers,
                count,
                args.payload_bytes,
                net.clients.len(),
                seed,
            )?
        }
        // Timestamps a run apart never collide: the seed moves them.
        Workload::RecordReading => prepare::readings(
            &net.clients,
            shipments,
            count,
            prepare::unix_ms() + seed % 1_000_000_000,
        )?,
        Workload::Query => prepare::queries(&net.clients, shipments, count)?,
    })
}

async fn run_async(args: BenchArgs, out: &mut impl std::io::Write) -> anyhow::Result<()> {
    if args.batch == 0 || (args.batch > 1 && matches!(args.workload, Workload::Query)) {
        anyhow::bail!(
            "--batch {}: batches are 1 or more transactions, for record-reading and blind-write (Evaluate has no batch call)",
            args.batch
        );
    }
    let seed = args.seed.unwrap_or_else(prepare::unix_ms);
    let net = connect(&args).await?;
    let mut shipments = Vec::new();
    match args.workload {
        Workload::BlindWrite => crate::lifecycle::deploy_blind_write(&args.crypto, &args.peers)
            .await
            .context("deploying the blind-write chaincode definition")?,
        Workload::RecordReading | Workload::Query => {
            if crate::lifecycle::committed(&net.clients[0], SUPPLY_CHAIN)
                .await?
                .is_none()
            {
                bail!("{SUPPLY_CHAIN} is not deployed: run `cryptanet chaincode deploy` first (scripts/bench.sh does)");
            }
            shipments =
                prepare::register_shipments(&net.clients, &net.orgs, args.shipments_per_org, seed)
                    .await
                    .context("registering shipments")?;
        }
    }
    let tracker = Tracker::start(net.clients[0].peer()).await?;
    let run_dir = args
        .run_dir
        .clone()
        .or_else(|| args.crypto.parent().map(PathBuf::from));
    let pids = cpu::peer_pids(run_dir.as_deref(), args.peers.len());
    let mut metered = args.peers.clone();
    metered.push("bench client".into());
    let mut pids = pids;
    pids.push(Some(std::process::id()));
    let target = Arc::new(Target {
        clients: net.clients.clone(),
        tracker,
        commit_timeout: Duration::from_secs(args.timeout_secs),
    });
    let load_before = load_average();
    let mut reports: Vec<RunReport> = Vec::new();
    let mut step = 0u64;
    loop {
        let concurrency = match (args.find_max, args.concurrency) {
            (true, c) => Some(c.unwrap_or(4).max(1) << step),
            (false, c) => c,
        };
        let items = prepare_items(
            &args,
            &net,
            &shipments,
            args.count,
            seed.wrapping_add(step << 40),
        )?;
        let mut label = match concurrency {
            Some(c) => format!("{} closed {c}", args.workload.name()),
            None => format!("{} open {}/s", args.workload.name(), args.rate),
        };
        if args.batch > 1 {
            label.push_str(&format!(" batch {}", args.batch));
        }
        writeln!(out, "bench: {label}: {} prepared and signed", items.len())?;
        let meter = Meter::start(&metered, &pids);
        let groups = drive::group(items, args.batch);
        let run = match concurrency {
            Some(c) => drive::closed_loop(groups, c, target.clone(), label).await,
            None => drive::open_loop(groups, args.rate as f64, target.clone(), label).await,
        };
        let wall = run.elapsed.as_secs_f64();
        let report = RunReport {
            workload: args.workload.name().into(),
            mode: if concurrency.is_some() {
                "closed"
            } else {
                "open"
            },
            offered_rate: concurrency.is_none().then_some(args.rate as f64),
            concurrency,
            batch: args.batch,
            summary: Summary::of(&run.outcomes, run.elapsed),
            elapsed_s: wall,
            sender_behind_s: run.sender_behind.as_secs_f64(),
            cpu: meter.finish(wall),
        };
        writeln!(out, "{}", report.table_row())?;
        reports.push(report);
        let steps: Vec<(f64, f64)> = reports
            .iter()
            .map(|r| (r.summary.ok_per_s, r.summary.latency_ms.p99))
            .collect();
        step += 1;
        let next = concurrency.unwrap_or(usize::MAX).saturating_mul(2);
        if !args.find_max
            || next > args.max_concurrency
            || !keep_stepping(&steps, args.p99_bound_ms)
        {
            break;
        }
    }
    writeln!(out, "\n{}", RunReport::TABLE_HEADER)?;
    for r in &reports {
        writeln!(out, "{}", r.table_row())?;
    }
    writeln!(
        out,
        "CPU columns: {} (n/a: no local PID)",
        metered.join(" / ")
    )?;
    if args.find_max {
        if let Some(best) = reports
            .iter()
            .filter(|r| r.summary.latency_ms.p99 <= args.p99_bound_ms)
            .max_by(|a, b| a.summary.ok_per_s.total_cmp(&b.summary.ok_per_s))
        {
            writeln!(
                out,
                "bench: maximum {:.0} ok/s at {} clients (p99 {:.0} ms ≤ {:.0} ms)",
                best.summary.ok_per_s,
                best.concurrency.unwrap_or(0),
                best.summary.latency_ms.p99,
                args.p99_bound_ms
            )?;
        }
    }
    if let Some(path) = &args.json {
        let json = serde_json::json!({
            "nproc": std::thread::available_parallelism().map_or(0, |n| n.get()),
            "load_average_before": load_before,
            "load_average_after": load_average(),
            "seed": seed,
            "runs": reports.iter().map(RunReport::to_json).collect::<Vec<_>>(),
        });
        std::fs::write(path, serde_json::to_string_pretty(&json)? + "\n")
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

/// The first three fields of `/proc/loadavg`, if readable.
fn load_average() -> Option<String> {
    let text = std::fs::read_to_string("/proc/loadavg").ok()?;
    Some(
        text.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" "),
    )
}
