//! `cryptanet simulate`: the supply-chain simulator as a client. Registers
//! simulated shipments (each org the custodian of some) and records their
//! sensor readings as transactions at a fixed rate through all gateways,
//! with a progress line; injected anomalies are counted against what the
//! network flagged.

use anyhow::Context as _;
use clap::Args;
use cryptanet_detect::sim::{SimConfig, Simulator};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Arguments of `cryptanet simulate`.
#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// Org material directory.
    #[arg(long, default_value = "run/network/crypto")]
    pub crypto: PathBuf,
    /// Gateways, one per org in sorted org order (comma-separated).
    #[arg(long, value_delimiter = ',', required = true)]
    pub peers: Vec<String>,
    /// Shipments to simulate (24 to 60 readings each).
    #[arg(long, default_value_t = 8)]
    pub shipments: usize,
    /// Readings submitted per second.
    #[arg(long, default_value_t = 50)]
    pub rate: u64,
    /// Share of shipments with an injected anomaly.
    #[arg(long, default_value_t = 0.3)]
    pub anomaly_rate: f64,
    /// Simulator seed (default: from the clock).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Chaincode to invoke.
    #[arg(long, default_value = "supply-chain")]
    pub chaincode: String,
}

#[derive(Default)]
struct Counters {
    done: AtomicUsize,
    flagged: AtomicUsize,
    labelled: AtomicUsize,
    both: AtomicUsize,
    failed: AtomicUsize,
    /// Last decile printed + 1 (0: none), for non-terminal output.
    printed: AtomicUsize,
}

/// Runs the simulation.
pub fn run(args: SimulateArgs, out: &mut impl std::io::Write) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(run_async(args, out))
}

async fn run_async(args: SimulateArgs, out: &mut impl std::io::Write) -> anyhow::Result<()> {
    let orgs = crate::lifecycle::org_names(&args.crypto)?;
    let clients = crate::lifecycle::org_clients(&args.crypto, &orgs, &args.peers, "client")
        .await
        .context("connecting to the gateways")?;
    let seed = args.seed.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(1)
    });
    let sim = Simulator::new(
        seed,
        SimConfig {
            anomaly_rate: args.anomaly_rate,
            only: None,
        },
    );
    let shipments: Vec<_> = sim.take(args.shipments).collect();

    // Register: shipment i belongs to org i mod n, through its own gateway.
    let mut readings = Vec::new();
    for (i, s) in shipments.iter().enumerate() {
        let org = i % orgs.len();
        let id = format!("SIM-{seed}-{}", s.id);
        let p = &s.spec.product;
        let reg = [
            id.clone(),
            p.name.clone(),
            s.spec.registered_quantity.to_string(),
            "origin".into(),
            "destination".into(),
            orgs[org].clone(),
            p.temp_min_mc.to_string(),
            p.temp_max_mc.to_string(),
            (p.hum_min_mpct / 100).to_string(),
            (p.hum_max_mpct / 100).to_string(),
        ];
        clients[org]
            .invoke(&args.chaincode, "RegisterShipment", &reg)
            .await
            .with_context(|| format!("registering {id}"))?;
        for r in &s.readings {
            readings.push((org, id.clone(), *r));
        }
    }
    // Interleave shipments, keeping each shipment's readings in time order.
    readings.sort_by_key(|(_, id, r)| (r.reading.timestamp_s, id.clone()));
    writeln!(
        out,
        "simulate: seed {seed}, {} shipments registered, {} readings at {} /s",
        shipments.len(),
        readings.len(),
        args.rate
    )?;

    let counters = Arc::new(Counters::default());
    let total = readings.len();
    let started = Instant::now();
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / args.rate.max(1) as f64));
    let in_flight = Arc::new(tokio::sync::Semaphore::new(256));
    let mut tasks = tokio::task::JoinSet::new();
    for (org, id, r) in readings {
        tick.tick().await;
        let permit = in_flight.clone().acquire_owned().await?;
        let client = clients[org].clone();
        let shared = counters.clone();
        let chaincode = args.chaincode.clone();
        tasks.spawn(async move {
            let counters = shared;
            let reading = r.reading;
            let args = [
                id,
                (reading.timestamp_s * 1000).to_string(),
                reading.temperature_mc.to_string(),
                (reading.humidity_mpct / 100).to_string(),
                reading.quantity.to_string(),
                format!(
                    "{:.6},{:.6}",
                    reading.location.lat_ue6 as f64 / 1e6,
                    reading.location.lon_ue6 as f64 / 1e6
                ),
            ];
            let labelled = r.label.is_some();
            match client.invoke(&chaincode, "RecordReading", &args).await {
                Ok(done) => {
                    let flagged =
                        serde_json::from_slice::<serde_json::Value>(&done.response.payload)
                            .ok()
                            .and_then(|v| v["anomalous"].as_bool())
                            .unwrap_or(false);
                    counters.flagged.fetch_add(usize::from(flagged), Relaxed);
                    counters.labelled.fetch_add(usize::from(labelled), Relaxed);
                    counters
                        .both
                        .fetch_add(usize::from(flagged && labelled), Relaxed);
                }
                Err(e) => {
                    tracing::warn!(error = %e, "reading not recorded");
                    counters.failed.fetch_add(1, Relaxed);
                }
            }
            counters.done.fetch_add(1, Relaxed);
            drop(permit);
        });
        progress(&counters, total);
    }
    while !tasks.is_empty() {
        tokio::select! {
            _ = tasks.join_next() => {}
            _ = tokio::time::sleep(Duration::from_millis(250)) => {}
        }
        progress(&counters, total);
    }
    eprintln!();
    let secs = started.elapsed().as_secs_f64();
    let c = &counters;
    writeln!(
        out,
        "simulate: {} readings in {:.1} s ({:.0}/s): {} flagged anomalous by the network, {} with an injected anomaly, {} both, {} failed",
        c.done.load(Relaxed),
        secs,
        c.done.load(Relaxed) as f64 / secs.max(1e-9),
        c.flagged.load(Relaxed),
        c.labelled.load(Relaxed),
        c.both.load(Relaxed),
        c.failed.load(Relaxed),
    )?;
    anyhow::ensure!(
        c.failed.load(Relaxed) == 0,
        "{} readings failed",
        c.failed.load(Relaxed)
    );
    Ok(())
}

fn progress(c: &Counters, total: usize) {
    use std::io::IsTerminal as _;
    let done = c.done.load(Relaxed);
    let width = 30;
    let filled = done * width / total.max(1);
    // On a terminal the bar redraws in place; in a log, one line per 10 %.
    let tty = std::io::stderr().is_terminal();
    let decile = done * 10 / total.max(1);
    if !tty && c.printed.swap(decile + 1, Relaxed) == decile + 1 {
        return;
    }
    eprint!(
        "{}[{}{}] {done}/{total} readings, {} flagged, {} failed {}",
        if tty { "\r" } else { "" },
        "#".repeat(filled),
        ".".repeat(width - filled),
        c.flagged.load(Relaxed),
        c.failed.load(Relaxed),
        if tty { "" } else { "\n" }
    );
}
