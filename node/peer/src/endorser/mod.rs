//! Endorsement: executing a client's signed proposal against this peer's
//! committed state and signing the result.
//!
//! * [`Endorser`] runs one proposal (WASM chaincode through the lifecycle,
//!   or the native `_lifecycle` system chaincode) and either returns the
//!   chaincode's response (evaluate) or signs the response payload
//!   (endorse);
//! * [`gather`] is the gateway's side: pick peers whose endorsements satisfy
//!   the chaincode's policy, ask them over p2p, check they agree byte for
//!   byte, and assemble the transaction for the client to sign;
//! * [`state`] is the ledger as chaincode sees it; [`system`] is
//!   `_lifecycle`.

pub mod asks;
pub mod gather;
pub mod state;
pub mod system;

use crate::network::Network;
use cryptanet_chaincode::lifecycle::{invoke_committed, InstallStore, LIFECYCLE_NS};
use cryptanet_chaincode::{Execution, Invocation, ModelDetector, Runtime, StateView};
use cryptanet_ledger::Ledger;
use cryptanet_proto::status::reason;
use cryptanet_types::crypto::{seen, verify_each};
use cryptanet_types::identity::{Identity, LocalIdentity, Role};
use cryptanet_types::{
    codec, tx::transient_hash, Digest, Endorsement, Proposal, PublicKey, Response, Signature,
    SignedProposal,
};
use serde::{Deserialize, Serialize};
use state::LedgerState;
use std::sync::{Arc, RwLock};

/// Why a peer would not execute or endorse a proposal. Travels between
/// peers, so it is plain data: a stable reason (one of
/// `cryptanet_proto::status::reason`) and a message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refusal {
    /// Stable upper-snake reason.
    pub reason: String,
    /// Human-readable explanation.
    pub message: String,
}

impl Refusal {
    /// A refusal for `reason`.
    pub fn new(reason: &str, message: impl Into<String>) -> Refusal {
        Refusal {
            reason: reason.to_owned(),
            message: message.into(),
        }
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.reason, self.message)
    }
}

/// An endorsement request as it travels over p2p: the proposals a gateway
/// has gathered for this peer since its previous request (one or many).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndorseRequest {
    /// The gateway's ledger height: the endorser first waits (briefly) until
    /// it has committed as much, so both simulate against the same state.
    pub min_height: u64,
    /// Encoded `SignedProposal`s.
    #[serde(with = "cryptanet_types::wire_bytes::byte_vecs")]
    pub signed_proposals: Vec<Vec<u8>>,
}

/// Most proposals in one [`EndorseRequest`].
pub const MAX_PROPOSALS_PER_REQUEST: usize = 256;

/// How long an endorser waits to reach the gateway's height.
pub const CATCH_UP_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// An endorser's answer to an endorsement request, as it travels over p2p.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum EndorseAnswer {
    /// The canonical `ProposalResponsePayload` and the peer's signature
    /// over exactly those bytes.
    Endorsed {
        /// Encoded `ProposalResponsePayload`.
        #[serde(with = "cryptanet_types::wire_bytes::bytes")]
        response_bytes: Vec<u8>,
        /// The endorsement.
        endorsement: Endorsement,
    },
    /// The peer refused.
    Refused(Refusal),
}

/// A proposal this peer executed: the response payload bytes and the
/// chaincode's response.
#[derive(Clone, Debug)]
pub struct Simulated {
    /// Encoded `ProposalResponsePayload` (what endorsers sign).
    pub response_bytes: Vec<u8>,
    /// The chaincode's response.
    pub response: Response,
}

/// A decoded proposal whose creator is a member client or admin (its
/// signature not checked yet).
struct Admitted {
    sp: SignedProposal,
    proposal: Proposal,
    creator: Identity,
}

/// Executes proposals on this peer.
pub struct Endorser {
    runtime: Runtime,
    installed: InstallStore,
    detector: Arc<ModelDetector>,
    state: Arc<LedgerState>,
    ledger: Arc<RwLock<Ledger>>,
    network: Arc<Network>,
    identity: LocalIdentity,
}

impl Endorser {
    /// An endorser over `ledger`, running chaincode installed in
    /// `installed` with `runtime`, scoring readings with `detector`.
    pub fn new(
        runtime: Runtime,
        installed: InstallStore,
        detector: Arc<ModelDetector>,
        ledger: Arc<RwLock<Ledger>>,
        network: Arc<Network>,
        identity: LocalIdentity,
    ) -> Endorser {
        Endorser {
            runtime,
            installed,
            detector,
            state: Arc::new(LedgerState::new(ledger.clone())),
            ledger,
            network,
            identity,
        }
    }

    /// The committed state as chaincode sees it.
    pub fn state(&self) -> Arc<LedgerState> {
        self.state.clone()
    }

    /// The install store (packages installed on this peer).
    pub fn installed(&self) -> &InstallStore {
        &self.installed
    }

    /// The detection models installed on this peer.
    pub fn models(&self) -> &ModelDetector {
        &self.detector
    }

    /// The chaincode runtime.
    pub fn runtime(&self) -> &Runtime {
        &self.runtime
    }

    /// Checks and runs an encoded signed proposal. `now` (unix seconds)
    /// judges certificate validity. `for_endorsement` additionally refuses
    /// transaction ids that are already committed.
    pub fn simulate(
        &self,
        signed_proposal: &[u8],
        now: i64,
        for_endorsement: bool,
    ) -> Result<Simulated, Refusal> {
        let admitted = self.admit(signed_proposal, now)?;
        admitted
            .creator
            .public_key
            .verify(&admitted.sp.proposal_bytes, &admitted.sp.signature)
            .map_err(|e| Refusal::new(reason::BAD_SIGNATURE, format!("proposal: {e}")))?;
        self.run(&admitted, for_endorsement)
    }

    /// Decodes a signed proposal and checks its creator, all but the
    /// signature itself (which callers check one by one or in a batch).
    fn admit(&self, signed_proposal: &[u8], now: i64) -> Result<Admitted, Refusal> {
        let sp: SignedProposal = codec::decode(signed_proposal)
            .map_err(|e| Refusal::new(reason::MALFORMED_BYTES, format!("signed proposal: {e}")))?;
        let proposal: Proposal = sp
            .proposal()
            .map_err(|e| Refusal::new(reason::MALFORMED_BYTES, format!("proposal: {e}")))?;
        let creator = self.check_creator(&sp, &proposal, now)?;
        Ok(Admitted {
            sp,
            proposal,
            creator,
        })
    }

    /// Runs an admitted proposal whose signature has been checked.
    fn run(&self, a: &Admitted, for_endorsement: bool) -> Result<Simulated, Refusal> {
        let (sp, proposal) = (&a.sp, &a.proposal);
        let tx_id = proposal.tx_id();
        if for_endorsement {
            let committed = self
                .ledger
                .read()
                .unwrap_or_else(|e| e.into_inner())
                .contains_tx(&tx_id)
                .map_err(|e| Refusal::new(reason::PEER_UNAVAILABLE, e.to_string()))?;
            if committed {
                return Err(Refusal::new(
                    reason::DUPLICATE_TXID,
                    format!("transaction {tx_id} is already committed"),
                ));
            }
        }
        let (execution, sequence) = self.execute(sp, proposal, &a.creator)?;
        if !execution.is_success() {
            return Err(Refusal::new(
                reason::CHAINCODE_ERROR,
                format!(
                    "chaincode {} returned status {}: {}",
                    proposal.chaincode, execution.response.status, execution.response.message
                ),
            ));
        }
        let response = execution.response.clone();
        let payload = execution.into_payload(Digest::of(&sp.proposal_bytes), sequence);
        let response_bytes = codec::encode(&payload)
            .map_err(|e| Refusal::new(reason::CHAINCODE_ERROR, e.to_string()))?;
        tracing::debug!(%tx_id, chaincode = %proposal.chaincode, function = %proposal.function, "simulated");
        Ok(Simulated {
            response_bytes,
            response,
        })
    }

    /// Answers an encoded [`EndorseRequest`] from another peer: waits up to
    /// [`CATCH_UP_WAIT`] for this peer to reach the gateway's height, then
    /// endorses each proposal ([`Endorser::endorse_many`]); one answer per
    /// proposal, in order. Runs on a blocking thread.
    pub fn endorse_request(&self, request: &[u8], now: i64) -> Vec<EndorseAnswer> {
        let refuse_all =
            |n: usize, refusal: Refusal| vec![EndorseAnswer::Refused(refusal); n.max(1)];
        let request: EndorseRequest = match codec::decode(request) {
            Ok(r) => r,
            Err(e) => {
                return refuse_all(
                    1,
                    Refusal::new(reason::MALFORMED_BYTES, format!("endorse request: {e}")),
                )
            }
        };
        let n = request.signed_proposals.len();
        if n > MAX_PROPOSALS_PER_REQUEST {
            return refuse_all(
                n,
                Refusal::new(
                    reason::INVALID_FIELD,
                    format!("{n} proposals in one request; at most {MAX_PROPOSALS_PER_REQUEST}"),
                ),
            );
        }
        let deadline = std::time::Instant::now() + CATCH_UP_WAIT;
        loop {
            let height = self.height();
            if height >= request.min_height {
                break;
            }
            if std::time::Instant::now() >= deadline {
                return refuse_all(
                    n,
                    Refusal::new(
                        reason::PEER_UNAVAILABLE,
                        format!(
                            "at height {height}, behind the gateway's {}",
                            request.min_height
                        ),
                    ),
                );
            }
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        let proposals: Vec<&[u8]> = request.signed_proposals.iter().map(Vec::as_slice).collect();
        self.endorse_many(&proposals, now)
    }

    /// The committed ledger height.
    pub fn height(&self) -> u64 {
        self.ledger
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .height()
    }

    /// Endorses each of `proposals` independently (simulates and signs, or
    /// refuses), exactly as one by one, except that the creators'
    /// signatures are verified together in batches
    /// ([`cryptanet_types::crypto::verify_each`]: about half the cost per
    /// signature; a bad one is found by bisection and refused alone).
    pub fn endorse_many(&self, proposals: &[&[u8]], now: i64) -> Vec<EndorseAnswer> {
        let admitted: Vec<Result<Admitted, Refusal>> =
            proposals.iter().map(|p| self.admit(p, now)).collect();
        let items: Vec<(&[u8], &Signature, &PublicKey)> = admitted
            .iter()
            .flatten()
            .map(|a| {
                (
                    a.sp.proposal_bytes.as_slice(),
                    &a.sp.signature,
                    &a.creator.public_key,
                )
            })
            .collect();
        let mut signed = verify_each(&items).into_iter();
        admitted
            .into_iter()
            .map(|a| {
                let simulated = a.and_then(|a| {
                    if signed.next() != Some(true) {
                        return Err(Refusal::new(
                            reason::BAD_SIGNATURE,
                            "proposal: signature does not verify",
                        ));
                    }
                    self.run(&a, true)
                });
                match simulated {
                    Ok(s) => {
                        let signature = self.identity.sign(&s.response_bytes);
                        // This peer will meet its own signature again at commit.
                        seen::remember(&s.response_bytes, &signature, &self.identity.public_key());
                        EndorseAnswer::Endorsed {
                            endorsement: Endorsement {
                                endorser: self.identity.cert_der().to_vec(),
                                signature,
                            },
                            response_bytes: s.response_bytes,
                        }
                    }
                    Err(refusal) => EndorseAnswer::Refused(refusal),
                }
            })
            .collect()
    }

    fn check_creator(
        &self,
        sp: &SignedProposal,
        proposal: &Proposal,
        now: i64,
    ) -> Result<Identity, Refusal> {
        let hash = transient_hash(&sp.transient)
            .map_err(|e| Refusal::new(reason::MALFORMED_BYTES, e.to_string()))?;
        if hash != proposal.transient_hash {
            return Err(Refusal::new(
                reason::INVALID_FIELD,
                "transient data does not match the proposal's transient hash",
            ));
        }
        let verifier = &self.network.verifier;
        let identity = verifier
            .identify(&proposal.creator, None, now)
            .map_err(|e| Refusal::new(reason::NOT_A_MEMBER, format!("creator: {e}")))?;
        if !matches!(identity.role, Role::Client | Role::Admin) {
            return Err(Refusal::new(
                reason::NOT_A_MEMBER,
                "creator must hold a client or admin certificate",
            ));
        }
        Ok(identity)
    }

    fn execute(
        &self,
        sp: &SignedProposal,
        proposal: &Proposal,
        creator: &Identity,
    ) -> Result<(Execution, u64), Refusal> {
        if proposal.chaincode == LIFECYCLE_NS {
            let orgs: Vec<String> = self.network.orgs.iter().map(|o| o.msp_id.clone()).collect();
            let my_org = &self.network.my_replica().msp_id;
            let state: &dyn StateView = self.state.as_ref();
            return system::execute(state, my_org, &orgs, creator, proposal).map(|e| (e, 0));
        }
        let transient = sp
            .transient
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let invocation = Invocation::from_proposal(proposal, creator.msp_id.clone(), transient);
        let state: Arc<dyn StateView> = self.state.clone();
        invoke_committed(
            &self.runtime,
            &self.installed,
            state,
            self.detector.clone(),
            &proposal.chaincode,
            &invocation,
        )
        .map_err(|e| {
            use cryptanet_chaincode::Error as E;
            let why = match &e {
                E::NotCommitted { .. } | E::NotInstalled { .. } | E::ModelNotInstalled { .. } => {
                    reason::NOT_FOUND
                }
                _ => reason::CHAINCODE_ERROR,
            };
            Refusal::new(why, e.to_string())
        })
    }
}
