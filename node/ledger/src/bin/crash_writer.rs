//! Crash-test writer: opens the ledger at `--dir` and appends synthetic
//! blocks of chain `--seed` forever (or up to `--until`), printing each
//! committed height on stdout. The crash test kills it with SIGKILL at
//! random moments and checks the ledger after every reopen.
#![allow(clippy::print_stdout)]

use anyhow::{Context, Result};
use cryptanet_ledger::testkit;
use cryptanet_ledger::{Ledger, LedgerOptions};
use std::io::Write;

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let (mut dir, mut seed, mut until, mut sync) = (None, 1u64, u64::MAX, false);
    while let Some(flag) = args.next() {
        match flag.as_str() {
            "--dir" => dir = args.next(),
            "--seed" => seed = args.next().context("--seed value")?.parse()?,
            "--until" => until = args.next().context("--until value")?.parse()?,
            "--sync" => sync = true,
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
        let b = testkit::block(
            seed,
            ledger.height() + 1,
            ledger.last_hash(),
            testkit::crash_shape(),
        )?;
        ledger.append(&b)?;
        writeln!(out, "{}", ledger.height())?;
        out.flush()?;
    }
    Ok(())
}
