//! The gateway's side of endorsement: choose peers whose endorsements
//! satisfy the chaincode's policy, ask them (this peer directly, the others
//! over p2p), check that every answer is byte-identical, and assemble the
//! `TxPayload` the client signs.
//!
//! Choice of endorsers: this peer first, then the others in network order,
//! adding a peer only if its org helps satisfy the policy, until the policy
//! would be satisfied if all of them endorse. Peers that fail or refuse for
//! their own reasons (unreachable, package not installed) are replaced by
//! the next candidates; a refusal that is the client's fault (bad
//! signature, chaincode error, duplicate transaction) ends the call at once.

use super::asks::Asks;
use super::system;
use super::{Endorser, Refusal};
use crate::network::{Network, ReplicaInfo};
use crate::run::unix_now;
use cryptanet_chaincode::lifecycle::{query_committed, LIFECYCLE_NS};
use cryptanet_chaincode::policy::{Policy, Principal, PrincipalRole, Signer};
use cryptanet_p2p::Transport;
use cryptanet_proto::status::reason;
use cryptanet_types::identity::Role;
use cryptanet_types::{
    codec, Digest, Endorsement, Proposal, ProposalResponsePayload, Response, SignedProposal,
    TxPayload,
};
use std::sync::Arc;

/// A failed endorsement call: why, and which endorser it concerns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// What went wrong.
    pub refusal: Refusal,
    /// The endorsing peer concerned, when there is one.
    pub endorser: Option<String>,
}

impl From<Refusal> for Failure {
    fn from(refusal: Refusal) -> Self {
        Failure {
            refusal,
            endorser: None,
        }
    }
}

/// A prepared transaction, ready for the client's signature.
#[derive(Clone, Debug)]
pub struct Gathered {
    /// Encoded `TxPayload`: what the client signs.
    pub prepared: Vec<u8>,
    /// The peers whose endorsements are in it.
    pub endorsers: Vec<ReplicaInfo>,
    /// The agreed chaincode response.
    pub response: Response,
    /// Transaction id.
    pub tx_id: Digest,
}

/// What the gateway needs to collect endorsements.
#[derive(Clone)]
pub struct Gatherer {
    /// This peer's endorser.
    pub endorser: Arc<Endorser>,
    /// The network's peers and orgs.
    pub network: Arc<Network>,
    /// The asks waiting for each endorsing peer.
    asks: Arc<Asks>,
}

/// Extra attempts after byte-different endorsements.
const MISMATCH_RETRIES: u32 = 3;

/// Reasons that are the client's fault: asking another peer cannot help.
const FINAL: [&str; 8] = [
    reason::MALFORMED_BYTES,
    reason::INVALID_FIELD,
    reason::BAD_SIGNATURE,
    reason::NOT_A_MEMBER,
    reason::NOT_AN_ADMIN,
    reason::DUPLICATE_TXID,
    reason::CHAINCODE_ERROR,
    reason::LIFECYCLE_STATE,
];

impl Gatherer {
    /// A gatherer asking this peer's `endorser` and, over `transport`, the
    /// other peers of `network` (starts the per-peer ask workers, see
    /// [`super::asks`]; needs a tokio runtime).
    pub fn new(
        endorser: Arc<Endorser>,
        transport: Arc<dyn Transport>,
        network: Arc<Network>,
    ) -> Gatherer {
        let asks = Arc::new(Asks::start(endorser.clone(), transport, network.clone()));
        Gatherer {
            endorser,
            network,
            asks,
        }
    }

    /// Runs a proposal on this peer only and returns the chaincode response.
    pub async fn evaluate(&self, signed_proposal: Vec<u8>) -> Result<Response, Refusal> {
        let endorser = self.endorser.clone();
        tokio::task::spawn_blocking(move || endorser.simulate(&signed_proposal, unix_now(), false))
            .await
            .map_err(|e| Refusal::new(reason::PEER_UNAVAILABLE, e.to_string()))?
            .map(|s| s.response)
    }

    /// Collects endorsements for `signed_proposal` from peers of
    /// `requested_orgs` (one peer each), or, when empty, from peers that
    /// satisfy the chaincode's endorsement policy. Different results from
    /// peers at different heights are retried a few times (each endorser
    /// first catches up with the gateway's height, but another peer may be
    /// a block ahead of the gateway).
    pub async fn endorse(
        &self,
        signed_proposal: Vec<u8>,
        requested_orgs: &[String],
    ) -> Result<Gathered, Failure> {
        let mut attempt = 0;
        loop {
            match self
                .endorse_once(signed_proposal.clone(), requested_orgs)
                .await
            {
                Err(f)
                    if f.refusal.reason == reason::ENDORSEMENT_MISMATCH
                        && attempt < MISMATCH_RETRIES =>
                {
                    attempt += 1;
                    tracing::debug!(attempt, refusal = %f.refusal, "endorsements differ; retrying");
                    tokio::time::sleep(std::time::Duration::from_millis(20 * attempt as u64)).await;
                }
                other => return other,
            }
        }
    }

    async fn endorse_once(
        &self,
        signed_proposal: Vec<u8>,
        requested_orgs: &[String],
    ) -> Result<Gathered, Failure> {
        let sp: SignedProposal = codec::decode(&signed_proposal)
            .map_err(|e| Refusal::new(reason::MALFORMED_BYTES, format!("signed proposal: {e}")))?;
        let proposal: Proposal = sp
            .proposal()
            .map_err(|e| Refusal::new(reason::MALFORMED_BYTES, format!("proposal: {e}")))?;
        let policy = self.policy_for(&proposal)?;
        let candidates = self.candidates(requested_orgs)?;
        let bytes = Arc::new(signed_proposal);

        let mut endorsed: Vec<(ReplicaInfo, Vec<u8>, Endorsement)> = Vec::new();
        let mut tried = vec![false; candidates.len()];
        let mut refusals: Vec<Failure> = Vec::new();
        loop {
            let signers: Vec<Signer> = endorsed.iter().map(|(r, ..)| peer_signer(r)).collect();
            let satisfied = if requested_orgs.is_empty() {
                policy.is_satisfied_by(&signers)
            } else {
                endorsed.len() == candidates.len()
            };
            if satisfied {
                break;
            }
            let batch = next_batch(
                &policy,
                &candidates,
                &mut tried,
                signers,
                !requested_orgs.is_empty(),
            );
            if batch.is_empty() {
                return Err(refusals.into_iter().next().unwrap_or_else(|| {
                    Refusal::new(
                        reason::POLICY_UNSATISFIABLE,
                        format!(
                            "no set of reachable peers satisfies the endorsement policy {policy} of {}",
                            proposal.chaincode
                        ),
                    )
                    .into()
                }));
            }
            let answers =
                futures_join(batch.iter().map(|r| self.ask(r.clone(), bytes.clone()))).await;
            for (replica, answer) in batch.into_iter().zip(answers) {
                match answer {
                    Ok((response_bytes, endorsement)) => {
                        endorsed.push((replica, response_bytes, endorsement))
                    }
                    Err(refusal) => {
                        tracing::debug!(peer = %replica.name, %refusal, "endorsement refused");
                        let failure = Failure {
                            refusal,
                            endorser: Some(replica.name.clone()),
                        };
                        if FINAL.contains(&failure.refusal.reason.as_str()) {
                            return Err(failure);
                        }
                        refusals.push(failure);
                    }
                }
            }
        }

        // Every endorser must have signed exactly the same bytes.
        let first = endorsed[0].1.clone();
        let odd = first_disagreement(endorsed.iter().map(|(_, b, _)| b.as_slice()));
        if let Some((r, ..)) = odd.and_then(|i| endorsed.get(i)) {
            return Err(Failure {
                refusal: Refusal::new(
                    reason::ENDORSEMENT_MISMATCH,
                    format!(
                        "{} returned a different result from {} (different state or nondeterministic chaincode)",
                        r.name, endorsed[0].0.name
                    ),
                ),
                endorser: Some(r.name.clone()),
            });
        }
        let payload: ProposalResponsePayload = codec::decode(&first)
            .map_err(|e| Refusal::new(reason::MALFORMED_BYTES, format!("response payload: {e}")))?;
        let tx = TxPayload {
            proposal_bytes: sp.proposal_bytes,
            proposal_signature: sp.signature,
            response_bytes: first,
            endorsements: endorsed.iter().map(|(_, _, e)| e.clone()).collect(),
        };
        let prepared =
            codec::encode(&tx).map_err(|e| Refusal::new(reason::MALFORMED_BYTES, e.to_string()))?;
        Ok(Gathered {
            prepared,
            endorsers: endorsed.into_iter().map(|(r, ..)| r).collect(),
            response: payload.response,
            tx_id: proposal.tx_id(),
        })
    }

    /// The policy an endorsement of `proposal` must satisfy.
    fn policy_for(&self, proposal: &Proposal) -> Result<Policy, Refusal> {
        let peer_of = |msp_id: &str| {
            Policy::Signed(Principal {
                msp_id: msp_id.to_owned(),
                role: PrincipalRole::Peer,
            })
        };
        if proposal.chaincode == LIFECYCLE_NS {
            return Ok(match proposal.function.as_str() {
                system::APPROVE | system::APPROVE_MODEL => {
                    let creator = self
                        .network
                        .verifier
                        .identify(&proposal.creator, None, unix_now())
                        .map_err(|e| Refusal::new(reason::NOT_A_MEMBER, format!("creator: {e}")))?;
                    peer_of(&creator.msp_id)
                }
                system::COMMIT | system::ACTIVATE_MODEL => Policy::OutOf {
                    n: self.network.orgs.len() / 2 + 1,
                    rules: self
                        .network
                        .orgs
                        .iter()
                        .map(|o| peer_of(&o.msp_id))
                        .collect(),
                },
                _ => peer_of(&self.network.my_replica().msp_id),
            });
        }
        let state = self.endorser.state();
        let def = query_committed(state.as_ref(), &proposal.chaincode)
            .map_err(|e| Refusal::new(reason::PEER_UNAVAILABLE, e.to_string()))?
            .ok_or_else(|| {
                Refusal::new(
                    reason::NOT_FOUND,
                    format!("chaincode {} is not committed", proposal.chaincode),
                )
            })?;
        def.validate()
            .map_err(|e| Refusal::new(reason::LIFECYCLE_STATE, e.to_string()))
    }

    /// Candidate endorsers in preference order: this peer, then the others
    /// in network order; restricted to one peer per requested org.
    fn candidates(&self, requested_orgs: &[String]) -> Result<Vec<ReplicaInfo>, Refusal> {
        let me = self.network.me as usize;
        let mut all: Vec<ReplicaInfo> = Vec::with_capacity(self.network.replicas.len());
        all.extend(self.network.replicas.get(me).cloned());
        all.extend(
            self.network
                .replicas
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != me)
                .map(|(_, r)| r.clone()),
        );
        if requested_orgs.is_empty() {
            return Ok(all);
        }
        let mut out = Vec::new();
        for org in requested_orgs {
            let peer = all.iter().find(|r| &r.msp_id == org).ok_or_else(|| {
                Refusal::new(
                    reason::INVALID_FIELD,
                    format!("endorsing_orgs: no peer of org {org:?} in the network"),
                )
            })?;
            if !out.iter().any(|r: &ReplicaInfo| r.index == peer.index) {
                out.push(peer.clone());
            }
        }
        Ok(out)
    }

    /// Asks one peer for its endorsement (grouped with other asks to the
    /// same peer, see [`super::asks`]); another peer's signature is checked.
    async fn ask(
        &self,
        replica: ReplicaInfo,
        signed_proposal: Arc<Vec<u8>>,
    ) -> Result<(Vec<u8>, Endorsement), Refusal> {
        self.asks.ask(&replica, signed_proposal).await
    }
}

/// Index of the first response that differs from the first one.
fn first_disagreement<'a>(mut responses: impl Iterator<Item = &'a [u8]>) -> Option<usize> {
    let first = responses.next()?;
    responses.position(|r| r != first).map(|i| i + 1)
}

fn peer_signer(r: &ReplicaInfo) -> Signer {
    Signer {
        msp_id: r.msp_id.clone(),
        role: Role::Peer,
    }
}

/// Picks untried candidates until `policy` would be satisfied if they all
/// endorse (or, with explicitly requested orgs, every untried candidate).
fn next_batch(
    policy: &Policy,
    candidates: &[ReplicaInfo],
    tried: &mut [bool],
    mut hypothetical: Vec<Signer>,
    all: bool,
) -> Vec<ReplicaInfo> {
    let named: Vec<Principal> = policy.principals();
    let mut batch = Vec::new();
    for (i, r) in candidates.iter().enumerate() {
        if tried[i] {
            continue;
        }
        if !all {
            if policy.is_satisfied_by(&hypothetical) {
                break;
            }
            let helps = named.iter().any(|p| p.msp_id == r.msp_id)
                && !hypothetical.iter().any(|s| s.msp_id == r.msp_id);
            if !helps {
                continue;
            }
        }
        tried[i] = true;
        hypothetical.push(peer_signer(r));
        batch.push(r.clone());
    }
    batch
}

/// Awaits every future, in order.
async fn futures_join<F: std::future::Future>(futures: impl Iterator<Item = F>) -> Vec<F::Output> {
    futures::future::join_all(futures).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn replica(index: u32, msp: &str) -> ReplicaInfo {
        ReplicaInfo::for_tests(index, msp)
    }

    #[test]
    fn batches_add_only_peers_that_help_the_policy() {
        let policy = Policy::parse("OutOf(2, 'Org1.peer', 'Org2.peer', 'Org3.peer')").unwrap();
        let c = vec![
            replica(3, "Org4"),
            replica(0, "Org1"),
            replica(1, "Org2"),
            replica(2, "Org3"),
        ];
        let mut tried = vec![false; 4];
        let b = next_batch(&policy, &c, &mut tried, vec![], false);
        let names: Vec<_> = b.iter().map(|r| r.msp_id.as_str()).collect();
        assert_eq!(names, ["Org1", "Org2"]);
        // Org2 failed: the next batch brings Org3 only.
        let b = next_batch(&policy, &c, &mut tried, vec![peer_signer(&c[1])], false);
        let names: Vec<_> = b.iter().map(|r| r.msp_id.as_str()).collect();
        assert_eq!(names, ["Org3"]);
        // Nothing left.
        assert!(next_batch(&policy, &c, &mut tried, vec![peer_signer(&c[1])], false).is_empty());
    }

    #[test]
    fn the_odd_endorsement_is_named() {
        let same: [&[u8]; 3] = [b"a", b"a", b"a"];
        assert_eq!(first_disagreement(same.into_iter()), None);
        let odd: [&[u8]; 3] = [b"a", b"a", b"b"];
        assert_eq!(first_disagreement(odd.into_iter()), Some(2));
        let first_differs: [&[u8]; 2] = [b"x", b"a"];
        assert_eq!(first_disagreement(first_differs.into_iter()), Some(1));
        assert_eq!(first_disagreement(std::iter::empty()), None);
    }

    #[test]
    fn and_policies_take_every_named_org() {
        let policy = Policy::parse("AND('Org2.peer', 'Org4.peer')").unwrap();
        let c = vec![
            replica(0, "Org1"),
            replica(1, "Org2"),
            replica(2, "Org3"),
            replica(3, "Org4"),
        ];
        let mut tried = vec![false; 4];
        let b = next_batch(&policy, &c, &mut tried, vec![], false);
        let names: Vec<_> = b.iter().map(|r| r.msp_id.as_str()).collect();
        assert_eq!(names, ["Org2", "Org4"]);
    }
}
