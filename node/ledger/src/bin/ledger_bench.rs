//! Ledger commit benchmark.
//!
//! Commits `--blocks` synthetic blocks of `--txs` transactions × `--writes`
//! writes each and prints blocks/s and state writes/s, for both WAL modes
//! (fsync per block, and no fsync) unless `--sync` or `--no-sync` is given.
//! Block generation happens outside the timed region.
//!
//! ```text
//! ledger-bench [--blocks 10000] [--txs 100] [--writes 3] [--dir PATH] [--sync|--no-sync]
//! ```
#![allow(clippy::print_stdout)]

use anyhow::{bail, Context, Result};
use cryptanet_ledger::testkit::{self, Shape};
use cryptanet_ledger::{block_effects, Ledger, LedgerOptions};
use std::time::{Duration, Instant};

/// Issue 2's goal, printed beside the result.
const GOAL_WRITES_PER_SEC: f64 = 200_000.0;

struct Args {
    blocks: u64,
    shape: Shape,
    dir: Option<std::path::PathBuf>,
    modes: Vec<bool>,
}

fn parse() -> Result<Args> {
    let mut a = Args {
        blocks: 10_000,
        shape: Shape::default(),
        dir: None,
        modes: vec![true, false],
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut val = || it.next().with_context(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--blocks" => a.blocks = val()?.parse()?,
            "--txs" => a.shape.txs = val()?.parse()?,
            "--writes" => a.shape.writes_per_tx = val()?.parse()?,
            "--dir" => a.dir = Some(val()?.into()),
            "--sync" => a.modes = vec![true],
            "--no-sync" => a.modes = vec![false],
            other => bail!("unknown flag {other}"),
        }
    }
    Ok(a)
}

fn main() -> Result<()> {
    let args = parse()?;
    println!(
        "ledger-bench: {} blocks x {} txs x {} writes, {}-byte values, {} CPUs",
        args.blocks,
        args.shape.txs,
        args.shape.writes_per_tx,
        args.shape.value_len,
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    );
    for sync in args.modes.clone() {
        let tmp;
        let dir = match &args.dir {
            Some(d) => d.join(if sync { "sync" } else { "nosync" }),
            None => {
                tmp = tempfile::tempdir()?;
                tmp.path().to_path_buf()
            }
        };
        let mut ledger = Ledger::open_with(
            &dir,
            LedgerOptions {
                sync,
                ..Default::default()
            },
        )?;
        let (mut append_time, mut total_time) = (Duration::ZERO, Duration::ZERO);
        let start = ledger.height() + 1;
        for n in start..start + args.blocks {
            let block = testkit::block(7, n, ledger.last_hash(), args.shape)?;
            let t0 = Instant::now();
            let effects = block_effects(&block)?;
            let t1 = Instant::now();
            ledger.append_with_effects(&block, &effects)?;
            let t2 = Instant::now();
            append_time += t2 - t1;
            total_time += t2 - t0;
        }
        let writes = (args.blocks as usize * args.shape.txs * args.shape.writes_per_tx) as f64;
        let secs = total_time.as_secs_f64();
        println!(
            "  wal fsync per block = {sync:5}: {:>9.0} blocks/s  {:>10.0} tx/s  {:>10.0} state writes/s  (append only: {:.0} writes/s)  goal {:.0} writes/s: {}",
            args.blocks as f64 / secs,
            (args.blocks as usize * args.shape.txs) as f64 / secs,
            writes / secs,
            writes / append_time.as_secs_f64(),
            GOAL_WRITES_PER_SEC,
            if writes / secs >= GOAL_WRITES_PER_SEC { "met" } else { "NOT met" },
        );
    }
    Ok(())
}
