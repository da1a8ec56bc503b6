//! Ledger commit benchmark.
//!
//! Commits `--blocks` synthetic blocks of `--txs` transactions × `--writes`
//! writes each and prints blocks/s and state writes/s, for both WAL modes
//! (fsync per block, and no fsync) unless `--sync` or `--no-sync` is given.
//! Each mode runs twice on a fresh ledger: appending one block at a time
//! (`Ledger::append`, the baseline) and pipelined (`Ledger::append_all`,
//! which checks and plans block n + 1 on a second thread while block n is
//! written). Blocks are generated before the clock starts; the timed region
//! includes each block's integrity check, decoding, planning and write.
//!
//! ```text
//! ledger-bench [--blocks 10000] [--txs 100] [--writes 3] [--dir PATH] [--sync|--no-sync]
//!              [--sequential|--pipelined] [--write-buffer-mib 16]
//! ```
#![allow(clippy::print_stdout)]

use anyhow::{bail, Context, Result};
use cryptanet_ledger::testkit::{self, Shape};
use cryptanet_ledger::{Ledger, LedgerOptions};
use cryptanet_types::Block;
use std::time::Instant;

/// Blocks generated at a time.
const CHUNK: u64 = 500;

/// Issue 2's goal, printed beside the result.
const GOAL_WRITES_PER_SEC: f64 = 200_000.0;

struct Args {
    blocks: u64,
    shape: Shape,
    dir: Option<std::path::PathBuf>,
    modes: Vec<bool>,
    options: LedgerOptions,
    pipelines: Vec<bool>,
}

fn parse() -> Result<Args> {
    let mut a = Args {
        blocks: 10_000,
        shape: Shape::default(),
        dir: None,
        modes: vec![true, false],
        options: LedgerOptions::default(),
        pipelines: vec![false, true],
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut val = || it.next().with_context(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--blocks" => a.blocks = val()?.parse()?,
            "--txs" => a.shape.txs = val()?.parse()?,
            "--writes" => a.shape.writes_per_tx = val()?.parse()?,
            "--dir" => a.dir = Some(val()?.into()),
            "--write-buffer-mib" => a.options.write_buffer_bytes = val()?.parse::<usize>()? << 20,
            "--sequential" => a.pipelines = vec![false],
            "--pipelined" => a.pipelines = vec![true],
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
    let writes = (args.blocks as usize * args.shape.txs * args.shape.writes_per_tx) as f64;
    for sync in args.modes.clone() {
        for pipelined in args.pipelines.clone() {
            let tmp;
            let dir = match &args.dir {
                Some(d) => d.join(format!(
                    "{}-{}",
                    if sync { "sync" } else { "nosync" },
                    if pipelined { "pipelined" } else { "sequential" }
                )),
                None => {
                    tmp = tempfile::tempdir()?;
                    tmp.path().to_path_buf()
                }
            };
            let mut ledger = Ledger::open_with(
                &dir,
                LedgerOptions {
                    sync,
                    ..args.options.clone()
                },
            )?;
            let mut timed = std::time::Duration::ZERO;
            let mut left = args.blocks;
            while left > 0 {
                // Generated outside the timed region, a chunk at a time so
                // memory stays bounded (~100 kB per block).
                let n = left.min(CHUNK);
                let blocks = chain(&ledger, n, args.shape)?;
                let t0 = Instant::now();
                if pipelined {
                    ledger.append_all(blocks)?;
                } else {
                    for block in &blocks {
                        ledger.append(block)?;
                    }
                }
                timed += t0.elapsed();
                left -= n;
            }
            let secs = timed.as_secs_f64();
            let history = time_history_reads(&ledger, args.shape)?;
            let mode = match (pipelined, sync) {
                (false, true) => "append, WAL fsync per block",
                (false, false) => "append, no fsync",
                (true, true) => "append_all, WAL fsync per group of <=32 blocks",
                (true, false) => "append_all, no fsync",
            };
            println!(
                "  {mode:<47}: {:>6.0} blocks/s  {:>7.0} tx/s  {:>8.0} state writes/s  goal {:.0}: {}",
                args.blocks as f64 / secs,
                (args.blocks as usize * args.shape.txs) as f64 / secs,
                writes / secs,
                GOAL_WRITES_PER_SEC,
                if writes / secs >= GOAL_WRITES_PER_SEC { "met" } else { "NOT met" },
            );
            println!(
                "  {:<47}  history of one key, {HISTORY_READS} random keys right after the run: {:.1} µs each",
                "",
                history.as_secs_f64() * 1e6 / HISTORY_READS as f64
            );
        }
    }
    Ok(())
}

/// History reads timed after each run.
const HISTORY_READS: u64 = 200;

/// Time for [`HISTORY_READS`] history queries of random keys of the bench's
/// key space, against whatever the memtables hold at the end of a run.
fn time_history_reads(ledger: &Ledger, shape: Shape) -> Result<std::time::Duration> {
    let mut rng = testkit::SplitMix(3);
    let t0 = Instant::now();
    for _ in 0..HISTORY_READS {
        let k = rng.next_u64() % shape.key_space.max(1);
        let key = format!("key{k:012}");
        ledger.history(testkit::NAMESPACE, key.as_bytes(), 10)?;
    }
    Ok(t0.elapsed())
}

/// `count` synthetic blocks continuing `ledger`'s chain.
fn chain(ledger: &Ledger, count: u64, shape: Shape) -> Result<Vec<Block>> {
    let mut prev = ledger.last_hash();
    let start = ledger.height() + 1;
    (start..start + count)
        .map(|n| {
            let block = testkit::block(7, n, prev, shape)?;
            prev = block.hash();
            Ok(block)
        })
        .collect()
}
