//! `pbft-sim`: runs the seeded PBFT fault simulator over a range of seeds.
//!
//! ```text
//! pbft-sim --n 4 --start 0 --seeds 1000          # CI-sized run
//! pbft-sim --n 7 --seeds 100000                  # long mode
//! pbft-sim --n 4 --start 1234 --seeds 1 --verbose  # replay one seed
//! pbft-sim --n 7 --seeds 1000 --baseline         # seeds/min beside a no-fault run
//! ```

use anyhow::{bail, Result};
use clap::Parser;
use cryptanet_tests::sim::{run_seed, run_seeds, SimOptions};

#[derive(Parser)]
#[command(about = "Seeded PBFT fault simulator")]
struct Args {
    /// Number of seeds to run.
    #[arg(long, default_value_t = 1000)]
    seeds: u64,
    /// First seed.
    #[arg(long, default_value_t = 0)]
    start: u64,
    /// Replicas: 4 (f = 1) or 7 (f = 2).
    #[arg(long, default_value_t = 4)]
    n: usize,
    /// Client requests per seed (default depends on n).
    #[arg(long)]
    requests: Option<usize>,
    /// Run without faults.
    #[arg(long)]
    no_faults: bool,
    /// Also run the same seeds without faults first and print that
    /// baseline beside the result.
    #[arg(long)]
    baseline: bool,
    /// Worker threads (default: available parallelism).
    #[arg(long)]
    threads: Option<usize>,
    /// Print one line per seed.
    #[arg(long)]
    verbose: bool,
}

fn main() -> Result<()> {
    let args = Args::parse();
    if args.n == 0 || args.n % 3 != 1 {
        bail!("--n must be 3f + 1 (4, 7, 10, ...)");
    }
    let mut opts = SimOptions::new(args.n);
    if let Some(r) = args.requests {
        opts.requests = r;
    }
    opts.faults = !args.no_faults;
    if args.verbose {
        for seed in args.start..args.start + args.seeds {
            let r = run_seed(seed, &opts);
            println!(
                "seed {seed}: {} byzantine={:?} height={} view_changes={} invalid_dropped={} delivered={} sim_time={}",
                if r.ok() { "ok" } else { "FAILED" },
                r.byzantine,
                r.height,
                r.view_changes,
                r.invalid_dropped,
                r.delivered,
                r.sim_time
            );
            for v in &r.violations {
                println!("  {v}");
            }
            if !r.ok() {
                for line in &r.final_states {
                    println!("  {line}");
                }
            }
        }
        return Ok(());
    }
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |p| p.get()));
    if args.baseline {
        let mut calm = opts.clone();
        calm.faults = false;
        let b = run_seeds(args.start, args.seeds, &calm, threads);
        println!(
            "baseline (no faults): n={} seeds={} threads={} elapsed={:.1}s seeds/min={:.0} batches={} failures={}",
            args.n,
            b.seeds,
            threads,
            b.elapsed.as_secs_f64(),
            b.seeds_per_minute(),
            b.batches,
            b.failures.len()
        );
    }
    let s = run_seeds(args.start, args.seeds, &opts, threads);
    println!(
        "n={} seeds={} faults={} threads={} elapsed={:.1}s seeds/min={:.0} batches={} view_changes={} invalid_dropped={} byzantine_seeds={} batches_fetched={} fetches_refused={} failures={}",
        args.n,
        s.seeds,
        opts.faults,
        threads,
        s.elapsed.as_secs_f64(),
        s.seeds_per_minute(),
        s.batches,
        s.view_changes,
        s.invalid_dropped,
        s.byzantine_seeds,
        s.batches_fetched,
        s.fetches_refused,
        s.failures.len()
    );
    for f in &s.failures {
        println!("seed {} FAILED (byzantine {:?}):", f.seed, f.byzantine);
        for v in &f.violations {
            println!("  {v}");
        }
        println!("  replay: {}", f.replay_command());
    }
    if !s.failures.is_empty() {
        eprintln!("{} of {} seeds failed", s.failures.len(), s.seeds);
        std::process::exit(1);
    }
    Ok(())
}
