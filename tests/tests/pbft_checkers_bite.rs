//! The simulator's checkers must catch a broken protocol within the CI
//! seed budget. Each test injects one deliberate bug into every replica
//! (compiled in only with `cryptanet-pbft/test-bugs`) and asserts that a
//! seed fails, and which checker fired.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use cryptanet_pbft::{Bug, Config};
use cryptanet_tests::sim::checker::Violation;
use cryptanet_tests::sim::{run_seed, SimOptions};

/// The CI budget for n = 4 (see `pbft_sim.rs`).
const BUDGET: u64 = 1_000;

/// Runs seeds until one fails; returns its seed and violations.
fn first_failure(opts: &SimOptions) -> Option<(u64, Vec<Violation>)> {
    first_matching(opts, |_| true)
}

/// Runs seeds until one has a violation `wanted` accepts.
fn first_matching(
    opts: &SimOptions,
    wanted: impl Fn(&Violation) -> bool,
) -> Option<(u64, Vec<Violation>)> {
    (0..BUDGET).find_map(|seed| {
        let r = run_seed(seed, opts);
        r.violations
            .iter()
            .any(&wanted)
            .then_some((seed, r.violations))
    })
}

#[test]
fn commit_quorum_of_2f_is_caught() {
    fn hook(c: &mut Config) {
        c.inject_bug(Bug::CommitQuorum2f);
    }
    let mut opts = SimOptions::new(4);
    opts.config_hook = Some(hook);
    let (seed, violations) = first_failure(&opts).expect("bug not caught within the budget");
    println!("commit quorum 2f caught at seed {seed}: {}", violations[0]);
    // A 2f-commit certificate fails offline verification.
    assert!(violations
        .iter()
        .any(|v| matches!(v, Violation::Certificate { .. } | Violation::Safety { .. })));
}

#[test]
fn commit_quorum_of_2f_is_caught_by_safety_alone() {
    fn hook(c: &mut Config) {
        c.inject_bug(Bug::CommitQuorum2f);
    }
    let mut opts = SimOptions::new(4);
    opts.config_hook = Some(hook);
    opts.check_certificates = false;
    let (seed, violations) = first_matching(&opts, |v| matches!(v, Violation::Safety { .. }))
        .expect("no safety violation within the budget");
    println!("commit quorum 2f caught by safety at seed {seed}: {violations:?}");
}

#[test]
fn new_view_ignoring_prepared_certificates_is_caught_by_safety() {
    fn hook(c: &mut Config) {
        c.inject_bug(Bug::NewViewDropsPrepared);
    }
    let mut opts = SimOptions::new(4);
    opts.config_hook = Some(hook);
    let (seed, violations) = first_failure(&opts).expect("bug not caught within the budget");
    println!("new-view bug caught at seed {seed}: {}", violations[0]);
    assert!(
        violations
            .iter()
            .any(|v| matches!(v, Violation::Safety { .. } | Violation::Order { .. })),
        "{violations:?}"
    );
}

#[test]
fn the_same_seeds_pass_without_the_bug() {
    // Control: the seeds the bug tests scan are clean without the bug.
    let opts = SimOptions::new(4);
    for seed in 0..50 {
        let r = run_seed(seed, &opts);
        assert!(r.ok(), "seed {seed}: {:?}", r.violations);
    }
}
