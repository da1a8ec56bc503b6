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
    /// Directory of installed model files (`<hash>.model`, e.g. a peer's
    /// `data_dir/models`); default: `models/` beside the ledger directory,
    /// when there is one. The built-in model is always available.
    #[arg(long)]
    pub models: Option<PathBuf>,
    /// The chaincode whose readings to audit.
    #[arg(long, default_value = "supply-chain")]
    pub chaincode: String,
}

/// Runs the audit; fails (non-zero exit) on any mismatch.
pub fn run(args: AuditArgs, out: &mut impl std::io::Write) -> anyhow::Result<()> {
    let models = args.models.clone().or_else(|| {
        let beside = args.ledger.parent()?.join("models");
        beside.is_dir().then_some(beside)
    });
    let r = crate::audit::audit(&args.ledger, &args.chaincode, models.as_deref())?;
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
