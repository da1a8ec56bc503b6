//! Commit-time validation, run in block order by every peer.
//!
//! For each envelope, in order, the first failing check decides its code:
//!
//! 1. the envelope, payload, proposal and response decode (`BAD_PAYLOAD`);
//! 2. the response answers this proposal (`BAD_PAYLOAD`);
//! 3. the creator's certificate is a valid client or admin certificate of a
//!    member org at the proposal's timestamp (`CREATOR_NOT_MEMBER`), and it
//!    signed the envelope (`BAD_CREATOR_SIGNATURE`). The envelope signature
//!    covers the proposal bytes, so it authenticates the proposal too; the
//!    creator's separate proposal signature is what endorsers check before
//!    they execute, and it is not checked again here (as in Fabric, whose
//!    committers check the envelope and the endorsements only);
//! 4. the tx id was not committed before, nor earlier in this block
//!    (`DUPLICATE_TXID`);
//! 5. the transaction writes only its own chaincode's namespace
//!    (`ILLEGAL_WRITESET`); every endorsement is a valid peer's signature
//!    over the response bytes (`BAD_ENDORSEMENT`) by a valid peer certificate
//!    of a member org (`ENDORSER_NOT_MEMBER`); the chaincode is
//!    committed at the sequence the transaction ran under
//!    (`UNKNOWN_CHAINCODE`) and the distinct endorsers satisfy its policy
//!    (`ENDORSEMENT_POLICY_FAILURE`, see [`crate::policy`]);
//! 6. every read version is still current, counting writes of earlier valid
//!    transactions of the same block (`MVCC_READ_CONFLICT`), and every range
//!    query returns the same keys and versions (`PHANTOM_READ_CONFLICT`).
//!
//! Everything here is a function of the block, the committed ledger and the
//! org definitions: no clock (certificate validity is judged at the
//! proposal's signed timestamp), no randomness, so every peer computes the
//! same codes.

use cryptanet_chaincode::policy::Signer;
use cryptanet_ledger::effects::decode_envelope;
use cryptanet_ledger::keys::{check_key, check_namespace};
use cryptanet_ledger::{Ledger, TxEffect};
use cryptanet_types::identity::{Role, Verifier};
use cryptanet_types::{
    codec, Block, Digest, Envelope, Proposal, ProposalResponsePayload, TxPayload, ValidationCode,
};
use std::collections::{BTreeSet, HashMap, HashSet};

pub use crate::policy::{EndorsementPolicy, LifecyclePolicy, MajorityOfOrgs, PolicyInput};

/// A decoded transaction, as far as validation needs it.
pub(crate) struct Decoded {
    pub(crate) tx_id: Digest,
    pub(crate) proposal: Proposal,
    pub(crate) payload: TxPayload,
    pub(crate) envelope: Envelope,
    pub(crate) response: ProposalResponsePayload,
}

fn decode(bytes: &[u8]) -> Option<Decoded> {
    let envelope = Envelope::from_bytes(bytes).ok()?;
    let payload: TxPayload = codec::decode(&envelope.payload).ok()?;
    let proposal: Proposal = codec::decode(&payload.proposal_bytes).ok()?;
    let response: ProposalResponsePayload = codec::decode(&payload.response_bytes).ok()?;
    if response.proposal_hash != Digest::of(&payload.proposal_bytes)
        || response.chaincode != proposal.chaincode
    {
        return None;
    }
    Some(Decoded {
        tx_id: proposal.tx_id(),
        proposal,
        payload,
        envelope,
        response,
    })
}

/// Validates every envelope of `block` and returns, per envelope in order,
/// what the ledger applies: exactly [`block_effects`] of the block with
/// these codes, built from the envelopes validation has already decoded.
fn validate_with_effects(
    block: &Block,
    ledger: &Ledger,
    verifier: &Verifier,
    policy: &dyn EndorsementPolicy,
) -> Vec<TxEffect> {
    let mut effects = Vec::with_capacity(block.data.len());
    let mut seen: HashSet<Digest> = HashSet::new();
    // Keys written by earlier valid transactions of this block, per namespace.
    let mut written: HashMap<String, BTreeSet<Vec<u8>>> = HashMap::new();
    // Decoded once: signatures in batches, the checks and, when valid, its writes.
    let decoded: Vec<Option<Decoded>> = block.data.iter().map(|b| decode(b)).collect();
    let verified = crate::validate_sigs::preverify(&decoded, verifier);
    for (i, (d, sigs_verified)) in decoded.into_iter().zip(verified).enumerate() {
        let index = i as u32;
        let Some(d) = d else {
            // Rare: the ledger still indexes the id of an envelope that
            // decodes but does not hold together (as block_effects does).
            let tx_id = decode_envelope(&block.data[i]).ok().map(|(id, _)| id);
            effects.push(TxEffect {
                index,
                tx_id,
                code: ValidationCode::BadPayload,
                writes: Vec::new(),
            });
            continue;
        };
        let code = validate_one(
            &d,
            sigs_verified,
            ledger,
            verifier,
            policy,
            &mut seen,
            &written,
        );
        let mut writes = Vec::new();
        if code == ValidationCode::Valid {
            for ns in d.response.rwset.ns {
                let keys = written.entry(ns.namespace.clone()).or_default();
                for w in ns.writes {
                    keys.insert(w.key.clone());
                    writes.push((ns.namespace.clone(), w));
                }
            }
        }
        effects.push(TxEffect {
            index,
            tx_id: Some(d.tx_id),
            code,
            writes,
        });
    }
    effects
}

/// `sigs_verified`: every signature of `d` already verified in a batch, so
/// only its signers' certificates are checked here.
fn validate_one(
    d: &Decoded,
    sigs_verified: bool,
    ledger: &Ledger,
    verifier: &Verifier,
    policy: &dyn EndorsementPolicy,
    seen: &mut HashSet<Digest>,
    written: &HashMap<String, BTreeSet<Vec<u8>>>,
) -> ValidationCode {
    let now = (d.proposal.timestamp_ms / 1000) as i64;
    let check = |cert: &[u8], role: Option<Role>, msg: &[u8], sig| {
        if sigs_verified {
            verifier.identify(cert, role, now)
        } else {
            verifier.verify(cert, role, msg, sig, now)
        }
    };

    // 3. Creator: membership and role, then the envelope signature.
    let creator = &d.proposal.creator;
    let (creator_org, role) = match verifier.identify(creator, None, now) {
        Ok(id) => (id.msp_id, id.role),
        Err(_) => return ValidationCode::CreatorNotMember,
    };
    if !matches!(role, Role::Client | Role::Admin) {
        return ValidationCode::CreatorNotMember;
    }
    if check(
        creator,
        Some(role),
        &d.envelope.payload,
        &d.envelope.signature,
    )
    .is_err()
    {
        return ValidationCode::BadCreatorSignature;
    }

    // 4. Replays.
    if !seen.insert(d.tx_id) || ledger.contains_tx(&d.tx_id).unwrap_or(true) {
        return ValidationCode::DuplicateTxId;
    }

    // 5. Write set, endorsements and policy.
    let foreign_write = d
        .response
        .rwset
        .ns
        .iter()
        .any(|ns| !ns.writes.is_empty() && ns.namespace != d.response.chaincode);
    if foreign_write {
        return ValidationCode::IllegalWriteset;
    }
    // Only what the ledger can store: a write it would refuse must not
    // reach it (it would stop the commit of the whole block).
    let storable = d.response.rwset.ns.iter().all(|ns| {
        ns.writes.is_empty()
            || (check_namespace(&ns.namespace).is_ok()
                && ns.writes.iter().all(|w| check_key(&w.key).is_ok()))
    });
    if !storable {
        return ValidationCode::BadPayload;
    }
    let mut endorsers: Vec<Signer> = Vec::with_capacity(d.payload.endorsements.len());
    let mut distinct: HashSet<Digest> = HashSet::new();
    for e in &d.payload.endorsements {
        match check(
            &e.endorser,
            Some(Role::Peer),
            &d.payload.response_bytes,
            &e.signature,
        ) {
            // The same peer endorsing twice counts once.
            Ok(id) if distinct.insert(id.cert_digest) => endorsers.push(Signer {
                msp_id: id.msp_id,
                role: id.role,
            }),
            Ok(_) => {}
            Err(cryptanet_types::Error::BadSignature) => return ValidationCode::BadEndorsement,
            Err(_) => return ValidationCode::EndorserNotMember,
        }
    }
    let creator = Signer {
        msp_id: creator_org,
        role,
    };
    let input = PolicyInput {
        response: &d.response,
        creator: &creator,
        endorsers: &endorsers,
    };
    if let Err(code) = policy.check(ledger, &input) {
        return code;
    }

    // 6. MVCC and phantoms.
    for ns in &d.response.rwset.ns {
        let dirty = written.get(&ns.namespace);
        for r in &ns.reads {
            if dirty.is_some_and(|w| w.contains(&r.key)) {
                return ValidationCode::MvccReadConflict;
            }
            let current = match ledger.get_state(&ns.namespace, &r.key) {
                Ok(v) => v.map(|(_, version)| version),
                Err(_) => return ValidationCode::MvccReadConflict,
            };
            if current != r.version {
                return ValidationCode::MvccReadConflict;
            }
        }
        for q in &ns.range_queries {
            if let Some(w) = dirty {
                let in_range = |k: &Vec<u8>| {
                    k.as_slice() >= q.start.as_slice()
                        && (q.end.is_empty() || k.as_slice() < q.end.as_slice())
                };
                if w.iter().any(in_range) {
                    return ValidationCode::PhantomReadConflict;
                }
            }
            // Re-execute: the query must return exactly what it returned then
            // (for a query stopped early, the same prefix).
            let limit = if q.exhausted {
                usize::MAX
            } else {
                q.reads.len()
            };
            let now_reads = match ledger.range(&ns.namespace, &q.start, &q.end, limit) {
                Ok(v) => v,
                Err(_) => return ValidationCode::PhantomReadConflict,
            };
            let same = now_reads.len() == q.reads.len()
                && now_reads
                    .iter()
                    .zip(&q.reads)
                    .all(|(a, b)| a.key == b.key && Some(a.version) == b.version);
            if !same {
                return ValidationCode::PhantomReadConflict;
            }
        }
    }
    ValidationCode::Valid
}

/// Validates `block` (filling its validation codes) and returns the
/// effects the ledger will apply. The block's integrity is the caller's
/// to establish: the engine builds it from a batch whose digest the commit
/// certificate names, and block sync checks fetched blocks before they get
/// here; so its envelopes are neither hashed nor decoded again.
pub fn prepare_block(
    block: &mut Block,
    ledger: &Ledger,
    verifier: &Verifier,
    policy: &dyn EndorsementPolicy,
) -> Vec<TxEffect> {
    let effects = validate_with_effects(block, ledger, verifier, policy);
    block.metadata.validation_codes = effects.iter().map(|e| e.code).collect();
    effects
}

#[cfg(test)]
#[path = "validate_tests.rs"]
mod tests;
