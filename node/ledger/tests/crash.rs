//! Crash safety: a separate writer process appends blocks (one at a time,
//! or pipelined in every other round); we SIGKILL it
//! at random moments (at least 20 times) and, after every reopen, check
//! that the ledger is consistent: the height is some committed height, the
//! blocks 1..=h chain by hash and pass their integrity checks, every block
//! equals the deterministic block the writer would have produced, and the
//! world state equals an in-memory replay of blocks 1..=h.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use cryptanet_ledger::testkit::{self, Shape};
use cryptanet_ledger::{Ledger, LedgerOptions};
use cryptanet_types::Digest;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const SEED: u64 = 99;
const KILLS: usize = 24;

fn shape() -> Shape {
    testkit::crash_shape()
}

#[test]
fn sigkill_at_random_moments_never_leaves_an_inconsistent_ledger() {
    let dir = tempfile::tempdir().unwrap();
    let exe = env!("CARGO_BIN_EXE_ledger-crash-writer");
    let mut rng = testkit::SplitMix(0xC0FFEE);
    let mut last_height = 0u64;
    for round in 0..KILLS {
        // Every other round appends with the pipelined `append_all`.
        let pipelined = if round % 2 == 1 { "--pipelined" } else { "" };
        let mut child = Command::new(exe)
            .args([
                "--dir",
                dir.path().to_str().unwrap(),
                "--seed",
                &SEED.to_string(),
            ])
            .args((!pipelined.is_empty()).then_some(pipelined))
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        // Wait until it has committed at least one block (so we know it is in
        // its append loop), then a random 0..40 ms more, then SIGKILL.
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let first: u64 = lines
            .next()
            .expect("writer exited early")
            .unwrap()
            .parse()
            .unwrap();
        assert!(
            first > last_height,
            "round {round}: writer started below the previous height"
        );
        let wait = Duration::from_micros(rng.next_u64() % 40_000);
        let t = Instant::now();
        while t.elapsed() < wait {
            std::hint::spin_loop();
        }
        child.kill().unwrap(); // SIGKILL on Unix
        child.wait().unwrap();

        let ledger = Ledger::open_with(
            dir.path(),
            LedgerOptions {
                sync: false,
                ..Default::default()
            },
        )
        .unwrap();
        let h = ledger.height();
        assert!(
            h >= first,
            "round {round}: height {h} below acknowledged {first}"
        );
        check_consistent(&ledger, h);
        last_height = h;
    }
    assert!(
        last_height > KILLS as u64,
        "writer made too little progress: {last_height}"
    );
}

fn check_consistent(ledger: &Ledger, h: u64) {
    let mut prev = Digest::ZERO;
    let mut blocks = Vec::with_capacity(h as usize);
    for n in 1..=h {
        let b = ledger
            .block(n)
            .unwrap()
            .unwrap_or_else(|| panic!("block {n} of {h} missing"));
        b.check_integrity().unwrap();
        assert_eq!(b.header.previous_hash, prev, "block {n} does not chain");
        let expected = testkit::block(SEED, n, prev, shape()).unwrap();
        assert_eq!(
            b, expected,
            "block {n} differs from what the writer produced"
        );
        assert_eq!(ledger.block_by_hash(&b.hash()).unwrap().as_ref(), Some(&b));
        prev = b.hash();
        blocks.push(b);
    }
    assert_eq!(ledger.last_hash(), prev);
    assert!(
        ledger.block(h + 1).unwrap().is_none(),
        "a block beyond the height is stored"
    );
    let expected = testkit::replay(&blocks).unwrap();
    let actual: Vec<_> = ledger
        .dump_state()
        .unwrap()
        .into_iter()
        .map(|(ns, e)| ((ns, e.key), (e.value, e.version)))
        .collect();
    assert_eq!(
        actual,
        expected.into_iter().collect::<Vec<_>>(),
        "state differs from replay at height {h}"
    );
}
