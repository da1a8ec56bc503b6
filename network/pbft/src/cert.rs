//! Quorum certificates: commit (stored with each block), prepared (carried
//! by VIEW-CHANGE) and checkpoint (proof of a stable checkpoint).

use crate::error::{Error, Result};
use crate::message::{
    Checkpoint, Message, PrePrepare, SignatureCheck, SignedMessage, Strict, Vote,
};
use crate::types::{ReplicaId, Seq, View, GENESIS_STATE};
use cryptanet_types::{codec, Digest, PublicKey, Signature};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// 2f + 1 signed COMMITs for (`view`, `seq`, `digest`): proof that the batch
/// with that digest is decided at `seq`. Verifiable offline with the
/// replicas' public keys; its encoding goes into
/// `BlockMetadata::commit_certificate`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommitCertificate {
    /// View in which the batch committed.
    pub view: View,
    /// Sequence number (the block number).
    pub seq: Seq,
    /// Batch digest, equal to the block header's `data_hash`.
    pub digest: Digest,
    /// Each signer and its signature over the canonical encoding of
    /// `Message::Commit(Vote { view, seq, digest, replica })`.
    pub commits: Vec<(ReplicaId, Signature)>,
}

impl CommitCertificate {
    /// Canonical encoding.
    pub fn encode(&self) -> Result<Vec<u8>> {
        Ok(codec::encode(self)?)
    }

    /// Decodes a certificate (does not verify it).
    pub fn decode(bytes: &[u8]) -> Result<CommitCertificate> {
        Ok(codec::decode(bytes)?)
    }

    /// The exact bytes replica `replica` signed for this certificate.
    pub fn signed_bytes(&self, replica: ReplicaId) -> Result<Vec<u8>> {
        Ok(codec::encode(&Message::Commit(Vote {
            view: self.view,
            seq: self.seq,
            digest: self.digest,
            replica,
        }))?)
    }

    /// Checks that at least `2f + 1` distinct replicas of `keys` signed the
    /// COMMIT. Duplicate or unknown signers are errors, not ignored.
    pub fn verify(&self, keys: &[PublicKey], f: usize) -> Result<()> {
        self.verify_with(keys, f, &Strict)
    }

    /// [`CommitCertificate::verify`] with a chosen signature check.
    pub fn verify_with(
        &self,
        keys: &[PublicKey],
        f: usize,
        check: &dyn SignatureCheck,
    ) -> Result<()> {
        let mut seen = BTreeSet::new();
        for (replica, signature) in &self.commits {
            let key = keys.get(*replica as usize).ok_or(Error::UnknownReplica {
                replica: *replica,
                n: keys.len(),
            })?;
            if !seen.insert(*replica) {
                return Err(Error::Inconsistent {
                    what: "commit certificate (duplicate signer)",
                });
            }
            if !check.check(key, &self.signed_bytes(*replica)?, signature) {
                return Err(Error::BadSignature { replica: *replica });
            }
        }
        let need = 2 * f + 1;
        if seen.len() < need {
            return Err(Error::Quorum {
                what: "commit certificate",
                got: seen.len(),
                need,
            });
        }
        Ok(())
    }
}

/// A PRE-PREPARE and 2f matching PREPAREs from distinct backups.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreparedCert {
    /// The primary's signed PRE-PREPARE (certifies the batch digest).
    pub pre_prepare: SignedMessage,
    /// 2f signed PREPAREs matching it.
    pub prepares: Vec<SignedMessage>,
}

impl PreparedCert {
    /// Verifies signatures, digests and the quorum; returns the PRE-PREPARE.
    /// `primary_of` maps a view to its primary.
    pub fn verify(
        &self,
        keys: &[PublicKey],
        f: usize,
        primary_of: impl Fn(View) -> ReplicaId,
    ) -> Result<PrePrepare> {
        self.verify_with(keys, f, primary_of, &Strict)
    }

    /// [`PreparedCert::verify`] with a chosen signature check.
    pub fn verify_with(
        &self,
        keys: &[PublicKey],
        f: usize,
        primary_of: impl Fn(View) -> ReplicaId,
        check: &dyn SignatureCheck,
    ) -> Result<PrePrepare> {
        let pp = match self.pre_prepare.open_with(keys, check)? {
            Message::PrePrepare(pp) => pp,
            _ => {
                return Err(Error::Inconsistent {
                    what: "prepared certificate (not a pre-prepare)",
                })
            }
        };
        check_pre_prepare(&pp, &primary_of)?;
        let mut seen = BTreeSet::new();
        for m in &self.prepares {
            let vote = match m.open_with(keys, check)? {
                Message::Prepare(v) => v,
                _ => {
                    return Err(Error::Inconsistent {
                        what: "prepared certificate (not a prepare)",
                    })
                }
            };
            if vote.view != pp.view || vote.seq != pp.seq || vote.digest != pp.digest {
                return Err(Error::Inconsistent {
                    what: "prepared certificate",
                });
            }
            if vote.replica == pp.replica || !seen.insert(vote.replica) {
                return Err(Error::Inconsistent {
                    what: "prepared certificate (signer)",
                });
            }
        }
        if seen.len() < 2 * f {
            return Err(Error::Quorum {
                what: "prepared certificate",
                got: seen.len(),
                need: 2 * f,
            });
        }
        Ok(pp)
    }
}

/// Checks a PRE-PREPARE's sender (the batch, when present, is checked
/// against the digest where it arrives).
pub(crate) fn check_pre_prepare(
    pp: &PrePrepare,
    primary_of: &impl Fn(View) -> ReplicaId,
) -> Result<()> {
    if pp.replica != primary_of(pp.view) {
        return Err(Error::WrongSender {
            what: "pre-prepare",
            replica: pp.replica,
            view: pp.view,
        });
    }
    Ok(())
}

/// A stable checkpoint: 2f + 1 matching signed CHECKPOINTs, or the genesis
/// checkpoint (seq 0, [`GENESIS_STATE`], no proof).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckpointCert {
    /// Sequence number.
    pub seq: Seq,
    /// State digest at `seq`.
    pub state: Digest,
    /// The CHECKPOINT messages.
    pub proof: Vec<SignedMessage>,
}

impl CheckpointCert {
    /// The checkpoint before anything was ordered.
    pub fn genesis() -> CheckpointCert {
        CheckpointCert {
            seq: 0,
            state: GENESIS_STATE,
            proof: Vec::new(),
        }
    }

    /// Verifies the proof.
    pub fn verify(&self, keys: &[PublicKey], f: usize) -> Result<()> {
        self.verify_with(keys, f, &Strict)
    }

    /// [`CheckpointCert::verify`] with a chosen signature check.
    pub fn verify_with(
        &self,
        keys: &[PublicKey],
        f: usize,
        check: &dyn SignatureCheck,
    ) -> Result<()> {
        if self.seq == 0 {
            return if self.state == GENESIS_STATE && self.proof.is_empty() {
                Ok(())
            } else {
                Err(Error::Inconsistent {
                    what: "genesis checkpoint",
                })
            };
        }
        let mut seen = BTreeSet::new();
        for m in &self.proof {
            match m.open_with(keys, check)? {
                Message::Checkpoint(Checkpoint {
                    seq,
                    state,
                    replica,
                }) if seq == self.seq && state == self.state => {
                    if !seen.insert(replica) {
                        return Err(Error::Inconsistent {
                            what: "checkpoint certificate (duplicate signer)",
                        });
                    }
                }
                _ => {
                    return Err(Error::Inconsistent {
                        what: "checkpoint certificate",
                    })
                }
            }
        }
        if seen.len() < 2 * f + 1 {
            return Err(Error::Quorum {
                what: "checkpoint certificate",
                got: seen.len(),
                need: 2 * f + 1,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use cryptanet_types::block::data_hash;
    use cryptanet_types::crypto::{sign, SigningKey};
    use rand::SeedableRng;

    fn keys(n: usize) -> (Vec<SigningKey>, Vec<PublicKey>) {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let sk: Vec<SigningKey> = (0..n).map(|_| SigningKey::generate(&mut rng)).collect();
        let pk = sk.iter().map(PublicKey::of).collect();
        (sk, pk)
    }

    fn commit_cert(sk: &[SigningKey], signers: &[u32]) -> CommitCertificate {
        let mut c = CommitCertificate {
            view: 2,
            seq: 5,
            digest: data_hash(&[b"tx".to_vec()]),
            commits: vec![],
        };
        for &r in signers {
            let sig = sign(&sk[r as usize], &c.signed_bytes(r).unwrap());
            c.commits.push((r, sig));
        }
        c
    }

    #[test]
    fn commit_certificate_table() {
        let (sk, pk) = keys(4);
        let good = commit_cert(&sk, &[0, 2, 3]);
        let round = CommitCertificate::decode(&good.encode().unwrap()).unwrap();
        assert_eq!(round, good);
        good.verify(&pk, 1).unwrap();

        let mut tampered_digest = good.clone();
        tampered_digest.digest = Digest::of(b"other");
        let mut dup = commit_cert(&sk, &[0, 2]);
        dup.commits.push(dup.commits[0]);
        let mut wrong_key = good.clone();
        wrong_key.commits[1].0 = 1;
        let mut alien = good.clone();
        alien.commits[0].0 = 9;
        let cases: Vec<(&str, CommitCertificate, Error)> = vec![
            (
                "too few",
                commit_cert(&sk, &[0, 1]),
                Error::Quorum {
                    what: "commit certificate",
                    got: 2,
                    need: 3,
                },
            ),
            (
                "other digest",
                tampered_digest,
                Error::BadSignature { replica: 0 },
            ),
            (
                "duplicate signer",
                dup,
                Error::Inconsistent {
                    what: "commit certificate (duplicate signer)",
                },
            ),
            (
                "signature of another",
                wrong_key,
                Error::BadSignature { replica: 1 },
            ),
            ("unknown", alien, Error::UnknownReplica { replica: 9, n: 4 }),
        ];
        for (name, cert, want) in cases {
            assert_eq!(cert.verify(&pk, 1), Err(want), "{name}");
        }
        assert!(CommitCertificate::decode(&[1, 2, 3]).is_err());
    }

    #[test]
    fn checkpoint_certificate_needs_quorum_of_matching_claims() {
        let (sk, pk) = keys(4);
        CheckpointCert::genesis().verify(&pk, 1).unwrap();
        let state = Digest::of(b"s");
        let claim = |r: u32, state: Digest| {
            SignedMessage::sign(
                &sk[r as usize],
                &Message::Checkpoint(Checkpoint {
                    seq: 8,
                    state,
                    replica: r,
                }),
            )
            .unwrap()
        };
        let mut cert = CheckpointCert {
            seq: 8,
            state,
            proof: vec![claim(0, state), claim(1, state)],
        };
        assert!(matches!(
            cert.verify(&pk, 1),
            Err(Error::Quorum { got: 2, .. })
        ));
        cert.proof.push(claim(3, Digest::ZERO));
        assert!(matches!(
            cert.verify(&pk, 1),
            Err(Error::Inconsistent { .. })
        ));
        cert.proof.pop();
        cert.proof.push(claim(3, state));
        cert.verify(&pk, 1).unwrap();
        let fake_genesis = CheckpointCert {
            seq: 0,
            state,
            proof: vec![],
        };
        assert!(fake_genesis.verify(&pk, 1).is_err());
    }
}
