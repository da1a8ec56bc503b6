//! The `_lifecycle` system chaincode, run natively by every peer: approving
//! and committing chaincode definitions, and reading them back.
//!
//! | function | argument | who may call |
//! |---|---|---|
//! | `ApproveChaincodeDefinitionForMyOrg` | encoded `ChaincodeDefinition` | an admin of the endorsing peer's org |
//! | `CommitChaincodeDefinition` | encoded `ChaincodeDefinition` | an admin of any member org |
//! | `QueryChaincodeDefinition` | chaincode name (UTF-8) | any member |
//! | `CheckCommitReadiness` | encoded `ChaincodeDefinition` | any member |
//! | `ApproveModelForMyOrg` | encoded `ModelDefinition` | an admin of the endorsing peer's org |
//! | `ActivateModel` | encoded `ModelDefinition` | an admin of any member org |
//! | `QueryActiveModel` | product class (UTF-8) | any member |
//! | `CheckModelReadiness` | encoded `ModelDefinition` | any member |
//!
//! The rules themselves are pure functions in `cryptanet_chaincode::lifecycle`;
//! which endorsements a `_lifecycle` transaction needs at commit time is
//! decided by [`crate::validate::LifecyclePolicy`].

use super::Refusal;
use cryptanet_chaincode::lifecycle::{
    self, ChaincodeDefinition, Definition, ModelDefinition, LIFECYCLE_NS,
};
use cryptanet_chaincode::{Execution, StateView};
use cryptanet_proto::status::reason;
use cryptanet_types::identity::{Identity, Role};
use cryptanet_types::{codec, NsRwSet, Proposal, Response, TxRwSet};

/// Approve a definition for the endorsing peer's org.
pub const APPROVE: &str = "ApproveChaincodeDefinitionForMyOrg";
/// Commit a definition approved by a majority of orgs.
pub const COMMIT: &str = "CommitChaincodeDefinition";
/// Read a committed definition.
pub const QUERY: &str = "QueryChaincodeDefinition";
/// Which orgs approved a definition.
pub const READINESS: &str = "CheckCommitReadiness";
/// Approve a model for a product class for the endorsing peer's org.
pub const APPROVE_MODEL: &str = "ApproveModelForMyOrg";
/// Activate a model approved by a majority of orgs.
pub const ACTIVATE_MODEL: &str = "ActivateModel";
/// Read the active model of a product class.
pub const QUERY_MODEL: &str = "QueryActiveModel";
/// Which orgs approved a model definition.
pub const MODEL_READINESS: &str = "CheckModelReadiness";

/// Runs `proposal` against `_lifecycle` on a peer of org `my_org`, for a
/// verified `creator`; `orgs` are the network's member orgs.
pub fn execute(
    state: &dyn StateView,
    my_org: &str,
    orgs: &[String],
    creator: &Identity,
    proposal: &Proposal,
) -> Result<Execution, Refusal> {
    let admin = || {
        if creator.role == Role::Admin {
            Ok(())
        } else {
            Err(Refusal::new(
                reason::NOT_AN_ADMIN,
                format!("{} needs an admin certificate", proposal.function),
            ))
        }
    };
    let (rwset, payload) = match proposal.function.as_str() {
        APPROVE => {
            admin()?;
            approve::<ChaincodeDefinition>(state, my_org, creator, proposal)?
        }
        APPROVE_MODEL => {
            admin()?;
            approve::<ModelDefinition>(state, my_org, creator, proposal)?
        }
        COMMIT => {
            admin()?;
            commit::<ChaincodeDefinition>(state, orgs, proposal)?
        }
        ACTIVATE_MODEL => {
            admin()?;
            commit::<ModelDefinition>(state, orgs, proposal)?
        }
        QUERY => query::<ChaincodeDefinition>(state, proposal)?,
        QUERY_MODEL => query::<ModelDefinition>(state, proposal)?,
        READINESS => readiness::<ChaincodeDefinition>(state, orgs, proposal)?,
        MODEL_READINESS => readiness::<ModelDefinition>(state, orgs, proposal)?,
        other => {
            return Err(Refusal::new(
                reason::INVALID_FIELD,
                format!("_lifecycle has no function {other:?}"),
            ))
        }
    };
    Ok(Execution {
        chaincode: LIFECYCLE_NS.to_owned(),
        rwset: TxRwSet { ns: vec![rwset] },
        response: Response {
            status: 200,
            message: String::new(),
            payload,
        },
        event: None,
        fuel_used: 0,
    })
}

type Produced = (NsRwSet, Vec<u8>);

fn approve<D: Definition>(
    state: &dyn StateView,
    my_org: &str,
    creator: &Identity,
    proposal: &Proposal,
) -> Result<Produced, Refusal> {
    if creator.msp_id != my_org {
        return Err(Refusal::new(
            reason::NOT_AN_ADMIN,
            format!(
                "an admin of {} cannot approve for {my_org}: send the proposal to a peer of {}",
                creator.msp_id, creator.msp_id
            ),
        ));
    }
    let def: D = definition_arg(proposal)?;
    let rwset = lifecycle::approve_for_my_org(state, my_org, &def).map_err(lifecycle_refusal)?;
    Ok((rwset, Vec::new()))
}

fn commit<D: Definition>(
    state: &dyn StateView,
    orgs: &[String],
    proposal: &Proposal,
) -> Result<Produced, Refusal> {
    let def: D = definition_arg(proposal)?;
    let rwset = lifecycle::commit(state, orgs, &def).map_err(lifecycle_refusal)?;
    Ok((rwset, Vec::new()))
}

fn query<D: Definition>(state: &dyn StateView, proposal: &Proposal) -> Result<Produced, Refusal> {
    let name = std::str::from_utf8(arg(proposal, 0)?).map_err(|_| {
        Refusal::new(
            reason::INVALID_FIELD,
            format!("{} name is not UTF-8", D::WHAT),
        )
    })?;
    match lifecycle::query_definition::<D>(state, name).map_err(lifecycle_refusal)? {
        Some(def) => Ok((read_only(), encode(&def)?)),
        None => Err(Refusal::new(
            reason::NOT_FOUND,
            format!("{} {name} has no committed definition", D::WHAT),
        )),
    }
}

fn readiness<D: Definition>(
    state: &dyn StateView,
    orgs: &[String],
    proposal: &Proposal,
) -> Result<Produced, Refusal> {
    let def: D = definition_arg(proposal)?;
    let status = lifecycle::check_commit_readiness(state, orgs, &def).map_err(lifecycle_refusal)?;
    Ok((read_only(), encode(&status)?))
}

/// Queries record no reads: their results are answers, not transactions.
fn read_only() -> NsRwSet {
    NsRwSet {
        namespace: LIFECYCLE_NS.to_owned(),
        reads: Vec::new(),
        range_queries: Vec::new(),
        writes: Vec::new(),
    }
}

fn arg(proposal: &Proposal, i: usize) -> Result<&[u8], Refusal> {
    proposal.args.get(i).map(Vec::as_slice).ok_or_else(|| {
        Refusal::new(
            reason::INVALID_FIELD,
            format!("{} needs argument {i}", proposal.function),
        )
    })
}

fn definition_arg<D: Definition>(proposal: &Proposal) -> Result<D, Refusal> {
    codec::decode(arg(proposal, 0)?).map_err(|e| {
        Refusal::new(
            reason::MALFORMED_BYTES,
            format!("argument 0 is not a {} definition: {e}", D::WHAT),
        )
    })
}

fn encode<T: serde::Serialize>(value: &T) -> Result<Vec<u8>, Refusal> {
    codec::encode(value).map_err(|e| Refusal::new(reason::CHAINCODE_ERROR, e.to_string()))
}

fn lifecycle_refusal(e: cryptanet_chaincode::Error) -> Refusal {
    Refusal::new(reason::LIFECYCLE_STATE, e.to_string())
}
