//! Deploying chaincode definitions and model activations through
//! `_lifecycle`, as org admins do: install the package (or model) on each
//! org's peer, approve the definition for a majority of orgs, then commit
//! (activate) it.

use crate::client::Client;
use crate::error::{Error, Result};
use cryptanet_chaincode::lifecycle::{
    ChaincodeDefinition, Definition, ModelDefinition, LIFECYCLE_NS,
};
use cryptanet_proto::v1;
use cryptanet_types::{codec, crypto::sign};

/// `_lifecycle` function names (see the peer's `endorser::system`).
pub const APPROVE: &str = "ApproveChaincodeDefinitionForMyOrg";
/// Commits an approved definition.
pub const COMMIT: &str = "CommitChaincodeDefinition";
/// Reads a committed definition.
pub const QUERY: &str = "QueryChaincodeDefinition";
/// Approves a model activation for the admin's org.
pub const APPROVE_MODEL: &str = "ApproveModelForMyOrg";
/// Activates an approved model for its product class.
pub const ACTIVATE_MODEL: &str = "ActivateModel";
/// Reads the active model of a product class.
pub const QUERY_MODEL: &str = "QueryActiveModel";

/// The `_lifecycle` functions that govern one kind of definition.
pub trait Governed: Definition {
    /// Approve for the admin's own org.
    const APPROVE: &'static str;
    /// Commit (activate) once a majority approved.
    const COMMIT: &'static str;
    /// Read the committed definition by name.
    const QUERY: &'static str;
}

impl Governed for ChaincodeDefinition {
    const APPROVE: &'static str = APPROVE;
    const COMMIT: &'static str = COMMIT;
    const QUERY: &'static str = QUERY;
}

impl Governed for ModelDefinition {
    const APPROVE: &'static str = APPROVE_MODEL;
    const COMMIT: &'static str = ACTIVATE_MODEL;
    const QUERY: &'static str = QUERY_MODEL;
}

/// What an admin's install request carries besides the bytes: the admin's
/// certificate and signature over them.
fn admin_signed(admin: &Client, bytes: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let id = admin.identity();
    (
        id.cert_der().to_vec(),
        sign(id.signing_key(), bytes).0.to_vec(),
    )
}

/// Installs model bytes on the peer `admin` is connected to (the admin must
/// belong to that peer's org); returns the model hash.
pub async fn install_model(admin: &Client, model: &[u8]) -> Result<String> {
    let (admin_certificate, signature) = admin_signed(admin, model);
    let request = v1::InstallModelRequest {
        model: model.to_vec(),
        admin_certificate,
        signature,
    };
    let mut api = admin.peer().admin();
    let reply = api.install_model(request).await;
    Ok(reply
        .map_err(cryptanet_proto::Error::from)?
        .into_inner()
        .model_hash)
}

/// Installs package bytes on the peer `admin` is connected to (the admin
/// must belong to that peer's org); returns the package id.
pub async fn install(admin: &Client, package: &[u8]) -> Result<String> {
    let (admin_certificate, signature) = admin_signed(admin, package);
    let request = v1::InstallChaincodeRequest {
        package: package.to_vec(),
        admin_certificate,
        signature,
    };
    let mut api = admin.peer().admin();
    let reply = api.install_chaincode(request).await;
    Ok(reply
        .map_err(cryptanet_proto::Error::from)?
        .into_inner()
        .package_id)
}

/// Runs one `_lifecycle` step (`D::APPROVE` when `approve`, else
/// `D::COMMIT`) for `def` as `admin`; returns the block it committed in.
pub async fn step<D: Governed>(admin: &Client, approve: bool, def: &D) -> Result<u64> {
    let function = if approve { D::APPROVE } else { D::COMMIT };
    Ok(definition_tx(admin, function, def)
        .await?
        .status
        .block_number)
}

/// The committed chaincode definition of `name`, if any.
pub async fn committed(client: &Client, name: &str) -> Result<Option<ChaincodeDefinition>> {
    current(client, name).await
}

/// The committed definition of kind `D` named `name`, if any.
pub async fn current<D: Governed>(client: &Client, name: &str) -> Result<Option<D>> {
    match client.evaluate(LIFECYCLE_NS, D::QUERY, &[name]).await {
        Ok(r) => Ok(Some(codec::decode(&r.payload)?)),
        Err(Error::Rpc(cryptanet_proto::Error::Rpc {
            code: tonic::Code::NotFound,
            ..
        })) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Runs `_lifecycle` `function` (e.g. `APPROVE` or `COMMIT`) on `def` as
/// the admin `admin`, waiting for a VALID commit.
pub async fn definition_tx<D: Definition>(
    admin: &Client,
    function: &str,
    def: &D,
) -> Result<crate::client::Committed> {
    admin
        .invoke(LIFECYCLE_NS, function, &[codec::encode(def)?])
        .await
}

/// Makes `def` the committed definition: each admin in `approvers` (one per
/// org, each connected to a peer of its own org) approves it, then the
/// first commits it, and each approver's peer has committed it when this
/// returns. Does nothing if exactly `def` is already committed; fails if
/// another definition holds the same name and sequence.
pub async fn deploy<D: Governed>(approvers: &[Client], def: &D) -> Result<()> {
    deploy_on(approvers, approvers, def).await
}

/// [`deploy`], then waits until the peer of every client in `watchers` has
/// committed the definition too, so that an invoke through any of them
/// right after finds it (a peer's ledger can be a block or two behind the
/// committing peer's).
pub async fn deploy_on<D: Governed>(
    approvers: &[Client],
    watchers: &[Client],
    def: &D,
) -> Result<()> {
    let first = approvers
        .first()
        .ok_or_else(|| Error::Lifecycle("no approving admins given".into()))?;
    if let Some(now) = current::<D>(first, def.name()).await? {
        if &now == def {
            return Ok(());
        }
        if now.sequence() >= def.sequence() {
            return Err(Error::Lifecycle(format!(
                "{} {} sequence {} is already committed with a different definition",
                D::WHAT,
                def.name(),
                now.sequence()
            )));
        }
    }
    for admin in approvers {
        let done = definition_tx(admin, D::APPROVE, def).await?;
        // The committing gateway must have seen every approval before it
        // (and the endorsers it waits for) judge readiness.
        first
            .peer()
            .commit_status(&done.tx_id, crate::client::COMMIT_WAIT)
            .await?;
        tracing::info!(what = D::WHAT, name = %def.name(), sequence = def.sequence(), "approved");
    }
    let done = definition_tx(first, D::COMMIT, def).await?;
    for watcher in watchers {
        watcher
            .peer()
            .commit_status(&done.tx_id, crate::client::COMMIT_WAIT)
            .await?;
    }
    tracing::info!(what = D::WHAT, name = %def.name(), sequence = def.sequence(), "committed");
    Ok(())
}

/// The definition the blind-write load generator ([`crate::txgen`]) runs
/// under: chaincode `load`, sequence 1, endorsed by a majority of `orgs`.
/// No package of that id exists: the generator signs endorsements itself,
/// so only validation ever reads this definition.
pub fn blind_write_definition(orgs: &[String]) -> ChaincodeDefinition {
    ChaincodeDefinition {
        name: crate::txgen::NAMESPACE.to_owned(),
        version: "1".to_owned(),
        sequence: 1,
        endorsement_policy: majority_policy(orgs),
        package_id: format!(
            "load:{}",
            cryptanet_types::Digest::of(b"cryptanet blind-write load generator").to_hex()
        ),
    }
}

/// A majority of `orgs`' peers: `OutOf(n/2+1, 'Org1.peer', ...)`.
pub fn majority_policy(orgs: &[String]) -> String {
    let principals: Vec<String> = orgs.iter().map(|o| format!("'{o}.peer'")).collect();
    format!("OutOf({}, {})", orgs.len() / 2 + 1, principals.join(", "))
}

/// The org names under `crypto/` (directories), sorted.
pub fn org_names(crypto: &std::path::Path) -> Result<Vec<String>> {
    let mut orgs: Vec<String> = std::fs::read_dir(crypto)
        .map_err(|source| Error::Io {
            op: "read",
            path: crypto.to_owned(),
            source,
        })?
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    orgs.sort();
    Ok(orgs)
}

/// Deploys [`blind_write_definition`] on a network whose org material is
/// under `crypto/<Org>/` (orgs in sorted order) and whose org `i` has its
/// peer's gateway at `peers[i]`; the admins of the first majority of orgs
/// approve it.
pub async fn deploy_blind_write(crypto: &std::path::Path, peers: &[String]) -> Result<()> {
    let orgs = org_names(crypto)?;
    if orgs.len() != peers.len() {
        return Err(Error::Lifecycle(format!(
            "{} orgs under {} but {} peer addresses: give one gateway per org, in org order",
            orgs.len(),
            crypto.display(),
            peers.len()
        )));
    }
    let def = blind_write_definition(&orgs);
    // Peers that just started may not serve gRPC or be connected to each
    // other yet (endorsement travels over p2p): retry, a bounded number of
    // times.
    let mut attempt = 0;
    loop {
        match connect_and_deploy(crypto, &orgs, peers, &def).await {
            Ok(()) => return Ok(()),
            Err(e) if attempt < DEPLOY_ATTEMPTS => {
                attempt += 1;
                tracing::info!(error = %e, attempt, "load definition not deployed yet; retrying");
                tokio::time::sleep(std::time::Duration::from_millis(500)).await;
            }
            Err(e) => return Err(e),
        }
    }
}

async fn connect_and_deploy(
    crypto: &std::path::Path,
    orgs: &[String],
    peers: &[String],
    def: &ChaincodeDefinition,
) -> Result<()> {
    let majority = orgs.len() / 2 + 1;
    let approvers = org_admins(crypto, &orgs[..majority], &peers[..majority]).await?;
    deploy(&approvers, def).await
}

/// Connects as the admin of each of `orgs` (material under
/// `crypto/<Org>/admin`) to that org's gateway in `peers` (same order).
pub async fn org_admins(
    crypto: &std::path::Path,
    orgs: &[String],
    peers: &[String],
) -> Result<Vec<Client>> {
    org_clients(crypto, orgs, peers, "admin").await
}

/// Connects as the `role` identity (`admin`, `client`) of each of `orgs`
/// (material under `crypto/<Org>/<role>`) to that org's gateway in `peers`
/// (same order, one per org).
pub async fn org_clients(
    crypto: &std::path::Path,
    orgs: &[String],
    peers: &[String],
    role: &str,
) -> Result<Vec<Client>> {
    if orgs.is_empty() || orgs.len() != peers.len() {
        return Err(Error::Lifecycle(format!(
            "{} orgs under {} but {} peer addresses: give one gateway per org, in org order",
            orgs.len(),
            crypto.display(),
            peers.len()
        )));
    }
    let mut clients = Vec::new();
    for (org, addr) in orgs.iter().zip(peers) {
        let id = crate::material::load_identity(&crypto.join(org).join(role))?;
        clients.push(Client::connect(&crate::client::uri(addr), id).await?);
    }
    Ok(clients)
}

/// Attempts of [`deploy_blind_write`] before it gives up (about 20 s).
const DEPLOY_ATTEMPTS: u32 = 40;
