//! Crash-test writer: opens the ledger at `--dir` and appends synthetic
//! blocks of chain `--seed` forever (or up to `--until`), printing each
//! committed height on stdout. With `--pipelined` it appends chunks of 8
//! blocks with `Ledger::append_all` and prints the height after each chunk.
//! The crash test kills it with SIGKILL at random moments and checks the
//! ledger after every reopen.
#![allow(clippy::print_stdout)]

use anyhow::{Context, Result};
use cryptanet_ledger::testkit;
use cryptanet_ledger::{Ledger, LedgerOptions};
use std::io::Write;

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let (mut dir, mut seed, mut until, mut sync) = (None, 1u64, u64::MAX, false);
    let mut pipelined = false;
    while let Some(flag) = args.next() {
        match flag.as_str() {
            "--dir" => dir = args.next(),
            "--seed" => seed = args.next().context("--seed value")?.parse()?,
            "--until" => until = args.next().context("--until value")?.parse()?,
            "--sync" => sync = true,
            "--pipelined" => pipelined = true,
            other => anyhow::bail!("unknown flag {other}"),
        }
    }
    let dir = dir.context("--dir is required")?;
    let mut ledger = Ledger::open_with(
        &dir,
        LedgerOptions {
            sync,
            ..Default::default()
        },
    )?;
    let mut out = std::io::stdout().lock();
    while ledger.height() < until {
        let chunk = if pipelined { 8 } else { 1 };
        let mut blocks = Vec::with_capacity(chunk);
        let mut prev = ledger.last_hash();
        for n in ledger.height() + 1..=(ledger.height() + chunk as u64).min(until) {
            let b = testkit::block(seed, n, prev, testkit::crash_shape())?;
            prev = b.hash();
            blocks.push(b);
        }
        if pipelined {
            ledger.append_all(blocks)?;
        } else {
            for b in &blocks {
                ledger.append(b)?;
            }
        }
        writeln!(out, "{}", ledger.height())?;
        out.flush()?;
    }
    Ok(())
}
