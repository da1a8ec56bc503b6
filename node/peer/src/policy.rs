//! Which endorsements a transaction needs, judged at commit time.
//!
//! [`LifecyclePolicy`] is what peers run: a chaincode's transactions must
//! satisfy the endorsement policy of its committed definition (at the
//! sequence they ran under), and `_lifecycle` transactions follow the
//! lifecycle rules:
//!
//! * writing `approval/<name>/<seq>/<org>` needs an admin of `<org>` as
//!   creator and an endorsement by a peer of `<org>` (an org approves for
//!   itself only);
//! * writing `definition/<name>` needs an admin creator and endorsements
//!   from a strict majority of the member orgs (the endorsers checked that
//!   a majority approved exactly this definition; MVCC on those approval
//!   reads catches a change in between);
//! * `model-approval/<class>/<seq>/<org>` and `model/<class>` (model
//!   activations) follow the same two rules;
//! * any other `_lifecycle` write is an illegal write set.
//!
//! Every decision is a function of the transaction and committed state.

use crate::endorser::state::CommittedState;
use cryptanet_chaincode::lifecycle::{query_committed, LIFECYCLE_NS};
use cryptanet_chaincode::policy::{Policy, Signer};
use cryptanet_ledger::Ledger;
use cryptanet_types::identity::Role;
use cryptanet_types::{ProposalResponsePayload, ValidationCode};
use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;

/// What a policy judges: the endorsed response, who created the
/// transaction, and the distinct identities that validly endorsed it.
pub struct PolicyInput<'a> {
    /// The endorsed response payload.
    pub response: &'a ProposalResponsePayload,
    /// The creator's org and role.
    pub creator: &'a Signer,
    /// Valid endorsers, one entry per distinct certificate.
    pub endorsers: &'a [Signer],
}

/// Decides whether a transaction's endorsements suffice.
pub trait EndorsementPolicy: Send + Sync {
    /// `Ok` when the endorsements suffice; otherwise the code to record.
    fn check(&self, ledger: &Ledger, tx: &PolicyInput<'_>) -> Result<(), ValidationCode>;
}

fn distinct_orgs(signers: &[Signer]) -> usize {
    signers
        .iter()
        .filter(|s| s.role == Role::Peer)
        .map(|s| s.msp_id.as_str())
        .collect::<BTreeSet<_>>()
        .len()
}

/// A majority of the member orgs must endorse, whatever the chaincode (used
/// by tests that order transactions without deploying chaincode).
#[derive(Debug, Clone)]
pub struct MajorityOfOrgs {
    /// Number of member orgs.
    pub members: usize,
}

impl EndorsementPolicy for MajorityOfOrgs {
    fn check(&self, _: &Ledger, tx: &PolicyInput<'_>) -> Result<(), ValidationCode> {
        if distinct_orgs(tx.endorsers) > self.members / 2 {
            Ok(())
        } else {
            Err(ValidationCode::EndorsementPolicyFailure)
        }
    }
}

/// Policies from the chaincode definitions committed in `_lifecycle`.
pub struct LifecyclePolicy {
    members: usize,
    /// Parsed policies by (chaincode, sequence): definitions never change
    /// once committed at a sequence.
    parsed: Mutex<HashMap<(String, u64), Policy>>,
}

impl LifecyclePolicy {
    /// The policy for a network of `members` orgs.
    pub fn new(members: usize) -> LifecyclePolicy {
        LifecyclePolicy {
            members,
            parsed: Mutex::new(HashMap::new()),
        }
    }

    fn chaincode(&self, ledger: &Ledger, tx: &PolicyInput<'_>) -> Result<(), ValidationCode> {
        let name = &tx.response.chaincode;
        let sequence = tx.response.chaincode_sequence;
        let key = (name.clone(), sequence);
        let mut parsed = self.parsed.lock().unwrap_or_else(|e| e.into_inner());
        if !parsed.contains_key(&key) {
            let def = query_committed(&CommittedState(ledger), name)
                .ok()
                .flatten()
                .ok_or(ValidationCode::UnknownChaincode)?;
            if def.sequence != sequence {
                return Err(ValidationCode::UnknownChaincode);
            }
            let policy = def
                .validate()
                .map_err(|_| ValidationCode::EndorsementPolicyFailure)?;
            parsed.insert(key.clone(), policy);
        } else {
            // A later sequence may have been committed since: the
            // transaction must run under the current definition.
            let current = query_committed(&CommittedState(ledger), name)
                .ok()
                .flatten()
                .map(|d| d.sequence);
            if current != Some(sequence) {
                return Err(ValidationCode::UnknownChaincode);
            }
        }
        match parsed.get(&key) {
            Some(policy) if policy.is_satisfied_by(tx.endorsers) => Ok(()),
            _ => Err(ValidationCode::EndorsementPolicyFailure),
        }
    }

    fn lifecycle(&self, tx: &PolicyInput<'_>) -> Result<(), ValidationCode> {
        let endorsed_by = |org: &str| {
            tx.endorsers
                .iter()
                .any(|s| s.role == Role::Peer && s.msp_id == org)
        };
        let mut wrote = false;
        for ns in &tx.response.rwset.ns {
            for w in &ns.writes {
                wrote = true;
                if tx.creator.role != Role::Admin {
                    return Err(ValidationCode::EndorsementPolicyFailure);
                }
                let key =
                    std::str::from_utf8(&w.key).map_err(|_| ValidationCode::IllegalWriteset)?;
                if w.value.is_none() {
                    return Err(ValidationCode::IllegalWriteset);
                }
                let approval = key
                    .strip_prefix("approval/")
                    .or_else(|| key.strip_prefix("model-approval/"));
                if let Some(rest) = approval {
                    let org = rest.rsplit('/').next().unwrap_or_default();
                    if org != tx.creator.msp_id || !endorsed_by(org) {
                        return Err(ValidationCode::EndorsementPolicyFailure);
                    }
                } else if key.starts_with("definition/") || key.starts_with("model/") {
                    if distinct_orgs(tx.endorsers) <= self.members / 2 {
                        return Err(ValidationCode::EndorsementPolicyFailure);
                    }
                } else {
                    return Err(ValidationCode::IllegalWriteset);
                }
            }
        }
        if !wrote && tx.endorsers.is_empty() {
            return Err(ValidationCode::EndorsementPolicyFailure);
        }
        Ok(())
    }
}

impl EndorsementPolicy for LifecyclePolicy {
    fn check(&self, ledger: &Ledger, tx: &PolicyInput<'_>) -> Result<(), ValidationCode> {
        if tx.response.chaincode == LIFECYCLE_NS {
            self.lifecycle(tx)
        } else {
            self.chaincode(ledger, tx)
        }
    }
}
