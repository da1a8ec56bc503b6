//! CI run of the PBFT simulator: 1,000 seeds at n = 4 (f = 1) and 1,000 at
//! n = 7 (f = 2), all with faults. Every seed must keep safety, order and
//! certificate validity, and reach liveness after the faults stop.
//!
//! Long mode: `pbft-sim --n 4 --seeds 100000` (and `--n 7`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use cryptanet_tests::sim::{run_seeds, SimOptions};

/// Seeds per replica count in CI.
const CI_SEEDS: u64 = 1_000;

fn run(n: usize) {
    let opts = SimOptions::new(n);
    let s = run_seeds(0, CI_SEEDS, &opts, 1);
    println!(
        "n={n}: {} seeds in {:.1}s ({:.0} seeds/min on one thread), {} batches, {} view changes, {} invalid messages dropped, {} seeds with Byzantine replicas, {} batches fetched, {} fetched answers refused",
        s.seeds,
        s.elapsed.as_secs_f64(),
        s.seeds_per_minute(),
        s.batches,
        s.view_changes,
        s.invalid_dropped,
        s.byzantine_seeds,
        s.batches_fetched,
        s.fetches_refused
    );
    let mut report = String::new();
    for f in &s.failures {
        report.push_str(&format!("seed {} (byzantine {:?}):\n", f.seed, f.byzantine));
        for v in &f.violations {
            report.push_str(&format!("  {v}\n"));
        }
        report.push_str(&format!("  replay: {}\n", f.replay_command()));
    }
    assert_eq!(s.seeds, CI_SEEDS);
    assert!(
        s.failures.is_empty(),
        "{} seeds failed:\n{report}",
        s.failures.len()
    );
    // The runs must actually exercise the protocol's hard paths.
    assert!(
        s.view_changes > CI_SEEDS,
        "too few view changes to be meaningful"
    );
    assert!(s.invalid_dropped > 0, "forgeries were never sent");
    assert!(s.byzantine_seeds > CI_SEEDS / 4);
    // Re-proposed batches were fetched, and wrong bytes were refused.
    assert!(s.batches_fetched > 0, "no batch was ever fetched");
    assert!(s.fetches_refused > 0, "no wrong fetch answer was refused");
}

#[test]
fn pbft_sim_n4_faults() {
    run(4);
}

#[test]
fn pbft_sim_n7_faults() {
    run(7);
}

#[test]
fn a_seed_replays_exactly() {
    use cryptanet_tests::sim::run_seed;
    for n in [4, 7] {
        let opts = SimOptions::new(n);
        for seed in [3, 1340] {
            let a = run_seed(seed, &opts);
            let b = run_seed(seed, &opts);
            assert_eq!(
                (
                    a.sim_time,
                    a.delivered,
                    a.height,
                    a.view_changes,
                    &a.final_states
                ),
                (
                    b.sim_time,
                    b.delivered,
                    b.height,
                    b.view_changes,
                    &b.final_states
                ),
                "n {n} seed {seed}"
            );
            assert!(a.delivered > 0 && a.height > 0);
        }
    }
}
