//! `cryptanet audit --ledger DIR`: re-derive every committed verdict.

use clap::Args;
use std::path::PathBuf;

/// Arguments of `cryptanet audit`.
#[derive(Debug, Args)]
pub struct AuditArgs {
    /// A ledger directory no peer has open (a stopped peer's
    /// `data_dir/ledger`, or a copy).
    #[arg(long)]
    pub ledger: PathBuf,
    /// The chaincode whose readings to audit.
    #[arg(long, default_value = "supply-chain")]
    pub chaincode: String,
}

/// Runs the audit; fails (non-zero exit) on any mismatch.
pub fn run(args: AuditArgs, out: &mut impl std::io::Write) -> anyhow::Result<()> {
    let r = crate::audit::audit(&args.ledger, &args.chaincode)?;
    for m in &r.mismatches {
        writeln!(out, "MISMATCH {}: {}", m.key, m.reason)?;
    }
    writeln!(
        out,
        "audit of {} at height {}: {} readings, {} verdicts reproduced byte for byte ({} anomalies), {} mismatches",
        args.ledger.display(),
        r.height,
        r.readings,
        r.reproduced,
        r.anomalies,
        r.mismatches.len()
    )?;
    if !r.mismatches.is_empty() {
        anyhow::bail!("{} verdicts did not check out", r.mismatches.len());
    }
    Ok(())
}
