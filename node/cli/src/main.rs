//! The `cryptanet` binary: parses the command line and runs it.

use clap::Parser as _;
use cryptanet_cli::cmd::Cli;
use tracing_subscriber::EnvFilter;

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    Cli::parse().run(&mut std::io::stdout().lock())
}
