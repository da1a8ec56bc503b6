//! The `_lifecycle` system chaincode, run natively by every peer: approving
//! and committing chaincode definitions, and reading them back.
//!
//! | function | argument | who may call |
//! |---|---|---|
//! | `ApproveChaincodeDefinitionForMyOrg` | encoded `ChaincodeDefinition` | an admin of the endorsing peer's org |
//! | `CommitChaincodeDefinition` | encoded `ChaincodeDefinition` | an admin of any member org |
//! | `QueryChaincodeDefinition` | chaincode name (UTF-8) | any member |
//! | `CheckCommitReadiness` | encoded `ChaincodeDefinition` | any member |
//!
//! The rules themselves are pure functions in `cryptanet_chaincode::lifecycle`;
//! which endorsements a `_lifecycle` transaction needs at commit time is
//! decided by [`crate::validate::LifecyclePolicy`].

use super::Refusal;
use cryptanet_chaincode::lifecycle::{self, ChaincodeDefinition, LIFECYCLE_NS};
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
            if creator.msp_id != my_org {
                return Err(Refusal::new(
                    reason::NOT_AN_ADMIN,
                    format!(
                        "an admin of {} cannot approve for {my_org}: send the proposal to a peer of {}",
                        creator.msp_id, creator.msp_id
                    ),
                ));
            }
            let def = definition_arg(proposal)?;
            (
                lifecycle::approve_for_my_org(state, my_org, &def).map_err(lifecycle_refusal)?,
                Vec::new(),
            )
        }
        COMMIT => {
            admin()?;
            let def = definition_arg(proposal)?;
            (
                lifecycle::commit(state, orgs, &def).map_err(lifecycle_refusal)?,
                Vec::new(),
            )
        }
        QUERY => {
            let name = std::str::from_utf8(arg(proposal, 0)?)
                .map_err(|_| Refusal::new(reason::INVALID_FIELD, "chaincode name is not UTF-8"))?;
            match lifecycle::query_committed(state, name).map_err(lifecycle_refusal)? {
                Some(def) => (read_only(), encode(&def)?),
                None => {
                    return Err(Refusal::new(
                        reason::NOT_FOUND,
                        format!("chaincode {name} is not committed"),
                    ))
                }
            }
        }
        READINESS => {
            let def = definition_arg(proposal)?;
            let status =
                lifecycle::check_commit_readiness(state, orgs, &def).map_err(lifecycle_refusal)?;
            (read_only(), encode(&status)?)
        }
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

fn definition_arg(proposal: &Proposal) -> Result<ChaincodeDefinition, Refusal> {
    codec::decode(arg(proposal, 0)?).map_err(|e| {
        Refusal::new(
            reason::MALFORMED_BYTES,
            format!("argument 0 is not a chaincode definition: {e}"),
        )
    })
}

fn encode<T: serde::Serialize>(value: &T) -> Result<Vec<u8>, Refusal> {
    codec::encode(value).map_err(|e| Refusal::new(reason::CHAINCODE_ERROR, e.to_string()))
}

fn lifecycle_refusal(e: cryptanet_chaincode::Error) -> Refusal {
    Refusal::new(reason::LIFECYCLE_STATE, e.to_string())
}
