//! Command-line grammar: one file per command group.
//!
//! To add a group, add a file here with its `Args` type and a `run`
//! function, and one variant to [`Command`].

use clap::{Parser, Subcommand};

pub mod audit;
pub mod bench;
pub mod chaincode;
pub mod model;
pub mod orgs;
pub mod peer;
pub mod simulate;
pub mod watch;

/// The `cryptanet` command line.
#[derive(Debug, Parser)]
#[command(name = "cryptanet", version, about = "CryptaNet client and admin tool")]
pub struct Cli {
    /// The command group to run.
    #[command(subcommand)]
    pub command: Command,
}

/// Top-level command groups.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Organisation identities: CAs, certificates, org definitions.
    Orgs(orgs::OrgsArgs),
    /// Ask a running peer about itself.
    Peer(peer::PeerArgs),
    /// Benchmark a running network (workloads record-reading, blind-write,
    /// query; open or closed loop); `load` is the same command.
    #[command(alias = "load")]
    Bench(bench::BenchArgs),
    /// Chaincode lifecycle: package, install, approve, commit, deploy, show.
    Chaincode(chaincode::ChaincodeArgs),
    /// Detection models: train, install, approve, activate per product class.
    Model(model::ModelArgs),
    /// Run a chaincode function as a transaction (endorse, order, commit).
    Invoke(chaincode::CallArgs),
    /// Run a chaincode function as a query on one peer (nothing is ordered).
    Query(chaincode::CallArgs),
    /// Re-derive every committed anomaly verdict from a ledger, byte for byte.
    Audit(audit::AuditArgs),
    /// Follow anomaly alerts with their explanations.
    Watch(watch::WatchArgs),
    /// Run the supply-chain simulator as a client against a network.
    Simulate(simulate::SimulateArgs),
}

impl Cli {
    /// Runs the parsed command, writing its summary to `out`.
    ///
    /// Errors: whatever the command group returns.
    pub fn run(self, out: &mut impl std::io::Write) -> anyhow::Result<()> {
        match self.command {
            Command::Orgs(args) => orgs::run(args, out),
            Command::Peer(args) => peer::run(args, out),
            Command::Bench(args) => bench::run(args, out),
            Command::Chaincode(args) => chaincode::run(args, out),
            Command::Model(args) => model::run(args, out),
            Command::Invoke(args) => chaincode::call(args, true, out),
            Command::Query(args) => chaincode::call(args, false, out),
            Command::Audit(args) => audit::run(args, out),
            Command::Watch(args) => watch::run(args, out),
            Command::Simulate(args) => simulate::run(args, out),
        }
    }
}
