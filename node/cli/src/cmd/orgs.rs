//! `cryptanet orgs …`: organisation crypto material.

use crate::orgs::{generate, GenerateOptions};
use anyhow::Context as _;
use clap::{Args, Subcommand};
use std::path::PathBuf;

/// Arguments of the `orgs` group.
#[derive(Debug, Args)]
pub struct OrgsArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: OrgsCommand,
}

/// Commands of the `orgs` group.
#[derive(Debug, Subcommand)]
pub enum OrgsCommand {
    /// Generate each org's CA, peer/admin/client certificates and keys, and
    /// its public org definition. Existing material is kept unless --force.
    Generate(GenerateArgs),
}

/// Options of `cryptanet orgs generate`.
#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Number of organisations (Org1MSP, Org2MSP, ...).
    #[arg(long, default_value_t = 4)]
    pub orgs: u32,
    /// Peers per organisation.
    #[arg(long, default_value_t = 1)]
    pub peers_per_org: u32,
    /// Directory for private keys and certificates (never commit it).
    #[arg(long, default_value = "crypto")]
    pub out: PathBuf,
    /// Directory for the public org definitions (<MspId>/org.toml).
    #[arg(long, default_value = "orgs")]
    pub orgs_dir: PathBuf,
    /// Host the peers listen on (an IP address or a DNS name).
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
    /// TCP port of the first peer; peers are numbered on from here.
    #[arg(long, default_value_t = 7051)]
    pub base_port: u16,
    /// Validity of peer, admin and client certificates, in days.
    #[arg(long, default_value_t = 365)]
    pub days: u32,
    /// Validity of CA certificates, in days.
    #[arg(long, default_value_t = 3650)]
    pub ca_days: u32,
    /// Regenerate all material, replacing what exists.
    #[arg(long)]
    pub force: bool,
}

/// Runs an `orgs` command.
///
/// Errors: the generator's errors, with context.
pub fn run(args: OrgsArgs, out: &mut impl std::io::Write) -> anyhow::Result<()> {
    match args.command {
        OrgsCommand::Generate(g) => run_generate(g, out),
    }
}

fn run_generate(g: GenerateArgs, out: &mut impl std::io::Write) -> anyhow::Result<()> {
    let opts = GenerateOptions {
        orgs: g.orgs,
        peers_per_org: g.peers_per_org,
        out: g.out,
        orgs_dir: g.orgs_dir,
        host: g.host,
        base_port: g.base_port,
        days: g.days,
        ca_days: g.ca_days,
        force: g.force,
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .context("system clock is before 1970")?;
    let now = i64::try_from(now.as_secs()).context("system clock out of range")?;
    let report = generate(&opts, now, &mut rand_core::OsRng).context("orgs generate failed")?;
    for org in &report.orgs {
        writeln!(
            out,
            "{}: created [{}] kept [{}] -> {}",
            org.msp_id,
            org.created.join(" "),
            org.kept.join(" "),
            org.definition.display()
        )?;
    }
    writeln!(
        out,
        "private material in {} (keys 0600; do not commit)",
        opts.out.display()
    )?;
    Ok(())
}
