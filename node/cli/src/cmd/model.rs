//! `cryptanet model`: train a detection model, install it on peers by hash,
//! approve and activate it for a product class, as org admins do for
//! chaincode. Once active, every endorser scores that class's readings with
//! it (see `cryptanet_chaincode::lifecycle::model`).

use crate::cmd::chaincode::{AllOrgs, Identity};
use crate::lifecycle;
use crate::train::{self, Records};
use anyhow::{bail, Context as _};
use clap::{Args, Subcommand};
use cryptanet_chaincode::lifecycle::ModelDefinition;
use cryptanet_chaincode::model_detector::check_model;
use cryptanet_proto::v1;
use std::path::PathBuf;

/// `cryptanet model ...`
#[derive(Debug, Args)]
pub struct ModelArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: ModelCommand,
}

/// Model lifecycle commands.
#[derive(Debug, Subcommand)]
pub enum ModelCommand {
    /// Write simulated, labelled readings as a training CSV.
    Sample {
        /// Shipments to simulate.
        #[arg(long, default_value_t = 300)]
        shipments: usize,
        /// Share of shipments with an injected anomaly.
        #[arg(long, default_value_t = 0.3)]
        anomaly_rate: f64,
        /// Simulator seed.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Where to write the CSV.
        #[arg(long)]
        out: PathBuf,
    },
    /// Train a model from a CSV or from a ledger's reading history.
    Train {
        /// Training CSV (see `cryptanet model sample` for the columns).
        #[arg(long, conflicts_with = "ledger", required_unless_present = "ledger")]
        csv: Option<PathBuf>,
        /// A ledger directory no peer has open (a stopped peer's
        /// `data_dir/ledger`, or a copy): trains on its recorded readings.
        #[arg(long)]
        ledger: Option<PathBuf>,
        /// Chaincode whose readings to use with `--ledger`.
        #[arg(long, default_value = "supply-chain")]
        chaincode: String,
        /// Without labels: the share of readings the threshold flags.
        #[arg(long, default_value_t = 0.02)]
        contamination: f64,
        /// Training seed.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Where to write the model bytes.
        #[arg(long)]
        out: PathBuf,
    },
    /// Install a model file on `--peer` (as an admin of `--org`).
    Install {
        /// Who acts, and through which peer.
        #[command(flatten)]
        who: Identity,
        /// The model file.
        model: PathBuf,
    },
    /// Approve a model for a product class for `--org` (through a peer of it).
    Approve {
        /// Who acts, and through which peer.
        #[command(flatten)]
        who: Identity,
        /// The activation.
        #[command(flatten)]
        def: Activation,
    },
    /// Activate a model approved by a majority of orgs.
    Activate {
        /// Who acts, and through which peer.
        #[command(flatten)]
        who: Identity,
        /// The activation.
        #[command(flatten)]
        def: Activation,
    },
    /// Install on every peer, approve for a majority of orgs and activate:
    /// `--peers` lists one gateway per org, in org order.
    Deploy {
        /// The orgs and their gateways.
        #[command(flatten)]
        orgs: AllOrgs,
        /// The model file.
        #[arg(long)]
        model: PathBuf,
        /// Product class.
        #[arg(long, default_value = "cold-chain")]
        class: String,
    },
    /// Show the active model of a product class.
    Show {
        /// Who acts, and through which peer.
        #[command(flatten)]
        who: Identity,
        /// Product class.
        #[arg(long, default_value = "cold-chain")]
        class: String,
    },
    /// List the models a peer can score with.
    List {
        /// Who acts, and through which peer.
        #[command(flatten)]
        who: Identity,
    },
}

/// A model activation on the command line.
#[derive(Debug, Args, Clone)]
pub struct Activation {
    /// Product class (what chaincode passes to `detect`).
    #[arg(long, default_value = "cold-chain")]
    pub class: String,
    /// Hex SHA3-256 printed by `install`.
    #[arg(long)]
    pub hash: String,
    /// Sequence (1 for the class's first activation).
    #[arg(long, default_value_t = 1)]
    pub sequence: u64,
}

impl From<Activation> for ModelDefinition {
    fn from(a: Activation) -> Self {
        ModelDefinition {
            class: a.class,
            model_hash: a.hash,
            sequence: a.sequence,
        }
    }
}

/// Runs a `model` command.
pub fn run(args: ModelArgs, out: &mut impl std::io::Write) -> anyhow::Result<()> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(run_async(args, out))
}

fn read(path: &PathBuf) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("reading {}", path.display()))
}

async fn run_async(args: ModelArgs, out: &mut impl std::io::Write) -> anyhow::Result<()> {
    let approve = matches!(args.command, ModelCommand::Approve { .. });
    match args.command {
        ModelCommand::Sample {
            shipments,
            anomaly_rate,
            seed,
            out: path,
        } => {
            let r = train::simulated(seed, shipments, anomaly_rate);
            std::fs::write(&path, train::to_csv(&r))
                .with_context(|| format!("writing {}", path.display()))?;
            writeln!(
                out,
                "{} readings written to {}",
                r.features.len(),
                path.display()
            )?;
        }
        ModelCommand::Train {
            csv,
            ledger,
            chaincode,
            contamination,
            seed,
            out: path,
        } => {
            let records: Records = match (&csv, &ledger) {
                (Some(csv), _) => train::parse_csv(&String::from_utf8(read(csv)?)?)
                    .with_context(|| csv.display().to_string())?,
                (None, Some(dir)) => train::from_ledger(dir, &chaincode)?,
                (None, None) => bail!("give --csv or --ledger"),
            };
            let t = train::train(&records, contamination, seed)?;
            std::fs::write(&path, t.model.to_bytes()?)
                .with_context(|| format!("writing {}", path.display()))?;
            let members: Vec<String> = t
                .members
                .iter()
                .filter(|(_, w)| *w > 0)
                .map(|(n, w)| format!("{n}×{w}"))
                .collect();
            writeln!(
                out,
                "trained on {} readings ({}): members {}, threshold {} ppm\nmodel {} written to {}",
                t.rows,
                if let Some(ap) = t.validation_ap {
                    format!("labelled: members and threshold chosen on a validation split, average precision {ap:.3}")
                } else {
                    format!("unlabelled: contamination {contamination}")
                },
                members.join(" "),
                t.model.body().threshold_ppm,
                t.model.hash().to_hex(),
                path.display()
            )?;
        }
        ModelCommand::Install { who, model } => {
            let bytes = read(&model)?;
            // Refuse locally what every peer would refuse.
            check_model(&bytes)?;
            let admin = who.connect("admin").await?;
            writeln!(out, "{}", lifecycle::install_model(&admin, &bytes).await?)?;
        }
        ModelCommand::Approve { who, def } | ModelCommand::Activate { who, def } => {
            let def: ModelDefinition = def.into();
            let block = lifecycle::step(&who.connect("admin").await?, approve, &def).await?;
            let did = if approve {
                format!("{} approved", who.org)
            } else {
                "activated".to_owned()
            };
            writeln!(
                out,
                "{did} model {} for {} (sequence {}) in block {block}",
                def.model_hash, def.class, def.sequence
            )?;
        }
        ModelCommand::Deploy {
            orgs: AllOrgs { crypto, peers },
            model,
            class,
        } => {
            let bytes = read(&model)?;
            let model_hash = check_model(&bytes)?.hash().to_hex();
            let orgs = lifecycle::org_names(&crypto)?;
            let admins = lifecycle::org_admins(&crypto, &orgs, &peers).await?;
            for (admin, peer) in admins.iter().zip(&peers) {
                lifecycle::install_model(admin, &bytes).await?;
                writeln!(out, "installed model {model_hash} on {peer}")?;
            }
            let current: Option<ModelDefinition> = lifecycle::current(&admins[0], &class).await?;
            if let Some(c) = &current {
                if c.model_hash == model_hash {
                    writeln!(
                        out,
                        "model {model_hash} is already active for {class} (sequence {})",
                        c.sequence
                    )?;
                    return Ok(());
                }
            }
            let def = ModelDefinition {
                class: class.clone(),
                model_hash,
                sequence: current.map_or(1, |c| c.sequence + 1),
            };
            // A majority approves; every given peer has it when we return.
            let majority = orgs.len() / 2 + 1;
            let approvers = &admins[..majority.min(admins.len())];
            lifecycle::deploy_on(approvers, &admins, &def).await?;
            writeln!(
                out,
                "model {} active for {class} (sequence {}), approved by {}",
                def.model_hash,
                def.sequence,
                orgs[..approvers.len()].join(", ")
            )?;
        }
        ModelCommand::Show { who, class } => {
            let client = who.connect("client").await?;
            let d = client
                .peer()
                .admin()
                .query_active_model(v1::QueryActiveModelRequest {
                    class: class.clone(),
                })
                .await
                .map_err(cryptanet_proto::Error::from)?
                .into_inner();
            writeln!(
                out,
                "{} sequence {}\n  model        {}\n  approved by  {}\n  installed on {}: {}",
                d.class,
                d.sequence,
                d.model_hash,
                d.approved_orgs.join(", "),
                who.peer,
                if d.installed_here { "yes" } else { "no" }
            )?;
        }
        ModelCommand::List { who } => {
            let client = who.connect("client").await?;
            let list = client
                .peer()
                .admin()
                .list_installed_models(v1::ListInstalledModelsRequest {})
                .await
                .map_err(cryptanet_proto::Error::from)?
                .into_inner();
            for h in list.model_hashes {
                writeln!(out, "{h}")?;
            }
        }
    }
    Ok(())
}
