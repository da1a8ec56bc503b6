//! `cryptanet chaincode`: package, install, approve, commit, deploy and
//! inspect chaincode, as org admins do; `cryptanet invoke` / `query` run
//! functions as a client.
//!
//! Identities come from `--crypto DIR/<Org>/{admin,client}`; the gateway is
//! `--peer host:port` (for admin commands, a peer of the admin's org).

use crate::client::Client;
use crate::lifecycle;
use anyhow::{bail, Context as _};
use clap::{Args, Subcommand};
use cryptanet_chaincode::lifecycle::{ChaincodeDefinition, ChaincodePackage};
use std::path::PathBuf;

/// Who signs and which gateway to use.
#[derive(Debug, Args, Clone)]
pub struct Identity {
    /// Org material directory (from `cryptanet orgs generate`).
    #[arg(long, default_value = "run/network/crypto")]
    pub crypto: PathBuf,
    /// MSP id of the org to act for.
    #[arg(long, default_value = "Org1MSP")]
    pub org: String,
    /// Gateway peer, host:port or URI.
    #[arg(long, default_value = "127.0.0.1:9051")]
    pub peer: String,
}

impl Identity {
    /// Connects as this org's `role` identity (`admin` or `client`).
    pub async fn connect(&self, role: &str) -> anyhow::Result<Client> {
        let dir = self.crypto.join(&self.org).join(role);
        let id = crate::material::load_identity(&dir)?;
        Ok(Client::connect(&crate::client::uri(&self.peer), id).await?)
    }
}

/// `cryptanet chaincode ...`
#[derive(Debug, Args)]
pub struct ChaincodeArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: ChaincodeCommand,
}

/// Chaincode lifecycle commands.
#[derive(Debug, Subcommand)]
pub enum ChaincodeCommand {
    /// Wrap a wasm module into a package file.
    Package {
        /// The wasm module.
        #[arg(long)]
        wasm: PathBuf,
        /// Package label, e.g. `supply-chain`.
        #[arg(long)]
        label: String,
        /// Where to write the package.
        #[arg(long)]
        out: PathBuf,
    },
    /// Install a package on `--peer` (as an admin of `--org`).
    Install {
        /// Who acts, and through which peer.
        #[command(flatten)]
        who: Identity,
        /// The package file.
        package: PathBuf,
    },
    /// Approve a definition for `--org` (through `--peer`, a peer of that org).
    Approve {
        /// Who acts, and through which peer.
        #[command(flatten)]
        who: Identity,
        /// The definition.
        #[command(flatten)]
        def: Definition,
    },
    /// Commit a definition approved by a majority of orgs.
    Commit {
        /// Who acts, and through which peer.
        #[command(flatten)]
        who: Identity,
        /// The definition.
        #[command(flatten)]
        def: Definition,
    },
    /// Install on every peer, approve for a majority of orgs and commit:
    /// `--peers` lists one gateway per org, in org order.
    Deploy {
        /// The orgs and their gateways.
        #[command(flatten)]
        orgs: AllOrgs,
        /// The wasm module.
        #[arg(long)]
        wasm: PathBuf,
        /// Chaincode name (also the package label).
        #[arg(long)]
        name: String,
        /// Endorsement policy; default: a majority of the orgs.
        #[arg(long)]
        policy: Option<String>,
        /// Definition sequence (default: 1 for a new chaincode; the next
        /// sequence, an upgrade, when another definition is committed).
        #[arg(long)]
        sequence: Option<u64>,
    },
    /// Show the committed definition of a chaincode.
    Show {
        /// Who acts, and through which peer.
        #[command(flatten)]
        who: Identity,
        /// Chaincode name.
        name: String,
    },
}

/// Every org's admin, each through its own org's gateway.
#[derive(Debug, Args, Clone)]
pub struct AllOrgs {
    /// Org material directory.
    #[arg(long, default_value = "run/network/crypto")]
    pub crypto: PathBuf,
    /// Gateways, one per org in sorted org order (comma-separated).
    #[arg(long, value_delimiter = ',', required = true)]
    pub peers: Vec<String>,
}

/// A chaincode definition on the command line.
#[derive(Debug, Args, Clone)]
pub struct Definition {
    /// Chaincode name.
    #[arg(long)]
    pub name: String,
    /// Version label.
    #[arg(long, default_value = "1")]
    pub version: String,
    /// Sequence (1 for the first definition).
    #[arg(long, default_value_t = 1)]
    pub sequence: u64,
    /// Endorsement policy, e.g. "OutOf(2, 'Org1MSP.peer', 'Org2MSP.peer')".
    #[arg(long)]
    pub policy: String,
    /// Package id printed by `install`.
    #[arg(long)]
    pub package_id: String,
}

impl From<Definition> for ChaincodeDefinition {
    fn from(d: Definition) -> Self {
        ChaincodeDefinition {
            name: d.name,
            version: d.version,
            sequence: d.sequence,
            endorsement_policy: d.policy,
            package_id: d.package_id,
        }
    }
}

/// `cryptanet invoke` / `cryptanet query`.
#[derive(Debug, Args)]
pub struct CallArgs {
    #[command(flatten)]
    who: Identity,
    /// Chaincode name.
    chaincode: String,
    /// Function name.
    function: String,
    /// Arguments (UTF-8).
    args: Vec<String>,
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
}

/// Runs a `chaincode` command.
pub fn run(args: ChaincodeArgs, out: &mut impl std::io::Write) -> anyhow::Result<()> {
    runtime()?.block_on(run_async(args, out))
}

async fn run_async(args: ChaincodeArgs, out: &mut impl std::io::Write) -> anyhow::Result<()> {
    match args.command {
        ChaincodeCommand::Package {
            wasm,
            label,
            out: path,
        } => {
            let bytes =
                std::fs::read(&wasm).with_context(|| format!("reading {}", wasm.display()))?;
            let package = ChaincodePackage::new(&label, bytes)?.to_bytes()?;
            std::fs::write(&path, &package)
                .with_context(|| format!("writing {}", path.display()))?;
            writeln!(out, "{}", path.display())?;
        }
        ChaincodeCommand::Install { who, package } => {
            let bytes = std::fs::read(&package)
                .with_context(|| format!("reading {}", package.display()))?;
            let admin = who.connect("admin").await?;
            writeln!(out, "{}", lifecycle::install(&admin, &bytes).await?)?;
        }
        ChaincodeCommand::Approve { who, def } => {
            let def: ChaincodeDefinition = def.into();
            let block = lifecycle::step(&who.connect("admin").await?, true, &def).await?;
            writeln!(out, "approved by {} in block {block}", who.org)?;
        }
        ChaincodeCommand::Commit { who, def } => {
            let def: ChaincodeDefinition = def.into();
            let block = lifecycle::step(&who.connect("admin").await?, false, &def).await?;
            writeln!(
                out,
                "committed {} sequence {} in block {block}",
                def.name, def.sequence
            )?;
        }
        ChaincodeCommand::Deploy {
            orgs: AllOrgs { crypto, peers },
            wasm,
            name,
            policy,
            sequence,
        } => {
            let bytes =
                std::fs::read(&wasm).with_context(|| format!("reading {}", wasm.display()))?;
            let package = ChaincodePackage::new(&name, bytes)?.to_bytes()?;
            let orgs = lifecycle::org_names(&crypto)?;
            let admins = lifecycle::org_admins(&crypto, &orgs, &peers).await?;
            let mut package_id = String::new();
            for (admin, peer) in admins.iter().zip(&peers) {
                package_id = lifecycle::install(admin, &package).await?;
                writeln!(out, "installed {package_id} on {peer}")?;
            }
            let policy = policy.unwrap_or_else(|| lifecycle::majority_policy(&orgs));
            let current = lifecycle::committed(&admins[0], &name).await?;
            if let Some(c) = &current {
                if c.package_id == package_id
                    && c.endorsement_policy == policy
                    && sequence.is_none()
                {
                    writeln!(
                        out,
                        "{name} sequence {} already runs this package with this policy",
                        c.sequence
                    )?;
                    return Ok(());
                }
            }
            let sequence = sequence.unwrap_or_else(|| current.map_or(1, |c| c.sequence + 1));
            let def = ChaincodeDefinition {
                name: name.clone(),
                version: sequence.to_string(),
                sequence,
                endorsement_policy: policy,
                package_id,
            };
            // A majority approves; every given peer has it when we return.
            let majority = orgs.len() / 2 + 1;
            let approvers = &admins[..majority.min(admins.len())];
            lifecycle::deploy_on(approvers, &admins, &def).await?;
            writeln!(
                out,
                "committed {name} sequence {sequence} with policy {}",
                def.endorsement_policy
            )?;
        }
        ChaincodeCommand::Show { who, name } => {
            let client = who.connect("client").await?;
            match lifecycle::committed(&client, &name).await? {
                Some(d) => writeln!(
                    out,
                    "{} sequence {} version {}\n  package  {}\n  policy   {}",
                    d.name, d.sequence, d.version, d.package_id, d.endorsement_policy
                )?,
                None => bail!("chaincode {name} is not committed"),
            }
        }
    }
    Ok(())
}

/// Runs `invoke` (endorse, submit, wait) or `query` (evaluate).
pub fn call(args: CallArgs, submit: bool, out: &mut impl std::io::Write) -> anyhow::Result<()> {
    runtime()?.block_on(async {
        let client = args.who.connect("client").await?;
        if submit {
            let done = client
                .invoke(&args.chaincode, &args.function, &args.args)
                .await?;
            writeln!(
                out,
                "tx {} VALID in block {}",
                done.tx_id, done.status.block_number
            )?;
            out.write_all(&done.response.payload)?;
        } else {
            let r = client
                .evaluate(&args.chaincode, &args.function, &args.args)
                .await?;
            out.write_all(&r.payload)?;
        }
        writeln!(out)?;
        Ok(())
    })
}
