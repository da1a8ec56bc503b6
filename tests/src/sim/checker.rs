//! The invariants every run must keep.
//!
//! - **Safety**: no two honest replicas commit different batches at the
//!   same sequence number (ledgers are compared as they grow, including
//!   batches installed by state transfer).
//! - **Order**: each honest replica delivers sequence numbers 1, 2, 3, …
//!   without gaps (a re-delivery after a crash must repeat the same batch).
//! - **Certificates**: every delivered batch carries a commit certificate
//!   that verifies offline against the replicas' keys, for that sequence
//!   number and for `data_hash(batch)`.
//! - **Liveness** (at the end): every submitted request is in every honest
//!   replica's ledger.

use super::memo::MemoCheck;
use super::node::{LedgerEntry, SimNode};
use cryptanet_pbft::{chain_state, request_digest, CommittedBatch, Seq, GENESIS_STATE};
use cryptanet_types::block::data_hash;
use cryptanet_types::{Digest, PublicKey};
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

/// A broken invariant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Violation {
    /// Two honest replicas committed different batches at `seq`.
    Safety {
        /// Sequence number.
        seq: Seq,
        /// The replica that committed first.
        first: u32,
        /// The replica that disagreed.
        second: u32,
    },
    /// A replica delivered `seq` when it expected `expected`, or re-delivered
    /// a different batch.
    Order {
        /// Replica.
        node: u32,
        /// Delivered sequence number.
        seq: Seq,
        /// Expected one.
        expected: Seq,
    },
    /// A delivered batch's certificate does not verify.
    Certificate {
        /// Replica.
        node: u32,
        /// Sequence number.
        seq: Seq,
        /// Why.
        reason: String,
    },
    /// A replica could not restart from its persisted state.
    Restart {
        /// Replica.
        node: u32,
        /// The error.
        reason: String,
    },
    /// The run itself failed (bad configuration, or a panic).
    Setup {
        /// What went wrong.
        reason: &'static str,
    },
    /// Some requests never reached some honest replica.
    Liveness {
        /// Replica.
        node: u32,
        /// Requests it is missing.
        missing: usize,
        /// Its ledger height.
        height: Seq,
    },
}

impl Violation {
    /// Short name of the checker that fired.
    pub fn checker(&self) -> &'static str {
        match self {
            Violation::Safety { .. } => "safety",
            Violation::Order { .. } => "order",
            Violation::Certificate { .. } => "certificate",
            Violation::Liveness { .. } => "liveness",
            Violation::Restart { .. } => "restart",
            Violation::Setup { .. } => "setup",
        }
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Violation::Safety { seq, first, second } => write!(
                f,
                "SAFETY: replicas {first} and {second} committed different batches at seq {seq}"
            ),
            Violation::Order {
                node,
                seq,
                expected,
            } => write!(
                f,
                "ORDER: replica {node} delivered seq {seq}, expected {expected}"
            ),
            Violation::Certificate { node, seq, reason } => {
                write!(f, "CERTIFICATE: replica {node} seq {seq}: {reason}")
            }
            Violation::Restart { node, reason } => {
                write!(f, "RESTART: replica {node} cannot restart: {reason}")
            }
            Violation::Setup { reason } => write!(f, "SETUP: {reason}"),
            Violation::Liveness {
                node,
                missing,
                height,
            } => write!(
                f,
                "LIVENESS: replica {node} is missing {missing} requests (ledger height {height})"
            ),
        }
    }
}

/// Watches every honest delivery.
pub struct Checker {
    keys: Vec<PublicKey>,
    f: usize,
    decided: BTreeMap<Seq, (Digest, u32)>,
    memo: Arc<MemoCheck>,
    check_certificates: bool,
    /// Violations found so far.
    pub violations: Vec<Violation>,
}

impl Checker {
    /// A checker for replicas with `keys`; signature checks are memoised in `memo`.
    pub fn new(keys: Vec<PublicKey>, memo: Arc<MemoCheck>, check_certificates: bool) -> Checker {
        let f = (keys.len() - 1) / 3;
        Checker {
            keys,
            f,
            decided: BTreeMap::new(),
            memo,
            check_certificates,
            violations: Vec::new(),
        }
    }

    /// An honest node delivered `c`.
    pub fn on_commit(&mut self, node: &mut SimNode, c: CommittedBatch) {
        let seq = c.seq;
        let digest = data_hash(&c.batch);
        if !self.check_certificates {
            // Safety and order only.
        } else if let Err(e) = c.certificate.verify_with(&self.keys, self.f, &*self.memo) {
            self.violations.push(Violation::Certificate {
                node: node.id,
                seq,
                reason: e.to_string(),
            });
        } else if c.certificate.seq != seq || c.certificate.digest != digest {
            self.violations.push(Violation::Certificate {
                node: node.id,
                seq,
                reason: "certificate is for another seq or digest".into(),
            });
        }
        let height = node.height();
        if seq <= height {
            // Re-delivery after a crash lost the Executed record: same batch.
            if node.ledger.get(&seq).map(|e| e.digest) != Some(digest) {
                self.violations.push(Violation::Order {
                    node: node.id,
                    seq,
                    expected: height + 1,
                });
            }
            return;
        }
        if seq != height + 1 {
            self.violations.push(Violation::Order {
                node: node.id,
                seq,
                expected: height + 1,
            });
        }
        self.append(node, seq, digest, c.batch);
    }

    /// Appends to `node`'s ledger and checks agreement with other honest nodes.
    pub fn append(&mut self, node: &mut SimNode, seq: Seq, digest: Digest, batch: Vec<Vec<u8>>) {
        let prev = node
            .ledger
            .get(&(seq.saturating_sub(1)))
            .map_or(GENESIS_STATE, |e| e.state);
        for p in &batch {
            node.executed.insert(request_digest(p));
        }
        node.ledger.insert(
            seq,
            LedgerEntry {
                digest,
                state: chain_state(&prev, seq, &digest),
                batch,
            },
        );
        match self.decided.get(&seq) {
            Some((d, first)) if *d != digest => self.violations.push(Violation::Safety {
                seq,
                first: *first,
                second: node.id,
            }),
            Some(_) => {}
            None => {
                self.decided.insert(seq, (digest, node.id));
            }
        }
    }

    /// Final check: every request is in every honest ledger.
    pub fn liveness(&mut self, nodes: &[SimNode], requests: &[Digest]) {
        for node in nodes.iter().filter(|n| n.honest()) {
            let missing = requests
                .iter()
                .filter(|d| !node.executed.contains(d))
                .count();
            if missing > 0 {
                self.violations.push(Violation::Liveness {
                    node: node.id,
                    missing,
                    height: node.height(),
                });
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use cryptanet_pbft::{CommitCertificate, Config, PersistedState};
    use cryptanet_types::crypto::{sign, SigningKey};
    use rand::SeedableRng;
    use std::collections::BTreeSet;

    fn node(id: u32, key: SigningKey) -> SimNode {
        SimNode {
            id,
            config: Config::new(4, id).unwrap(),
            key,
            replica: None,
            disk: PersistedState::default(),
            ledger: BTreeMap::new(),
            executed: BTreeSet::new(),
            epoch: 0,
            crash_pending: false,
            byzantine: None,
        }
    }

    fn committed(sk: &[SigningKey], seq: u64, item: &[u8], signers: &[u32]) -> CommittedBatch {
        let batch = vec![item.to_vec()];
        let mut certificate = CommitCertificate {
            view: 0,
            seq,
            digest: data_hash(&batch),
            commits: vec![],
        };
        for &r in signers {
            let sig = sign(&sk[r as usize], &certificate.signed_bytes(r).unwrap());
            certificate.commits.push((r, sig));
        }
        CommittedBatch {
            seq,
            digests: batch
                .iter()
                .map(|p| cryptanet_pbft::request_digest(p))
                .collect(),
            batch,
            certificate,
        }
    }

    #[test]
    fn each_checker_fires_on_its_violation() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        let sk: Vec<SigningKey> = (0..4).map(|_| SigningKey::generate(&mut rng)).collect();
        let pk: Vec<PublicKey> = sk.iter().map(PublicKey::of).collect();
        let mut c = Checker::new(pk, Arc::new(MemoCheck::default()), true);
        let mut a = node(0, sk[0].clone());
        let mut b = node(1, sk[1].clone());

        c.on_commit(&mut a, committed(&sk, 1, b"x", &[0, 1, 2]));
        c.on_commit(&mut b, committed(&sk, 1, b"x", &[1, 2, 3]));
        assert!(c.violations.is_empty(), "agreeing commits are fine");

        c.on_commit(&mut b, committed(&sk, 1, b"x", &[1, 2, 3]));
        assert!(
            c.violations.is_empty(),
            "re-delivering the same batch is fine"
        );

        c.on_commit(&mut a, committed(&sk, 2, b"y", &[0, 1, 2]));
        c.on_commit(&mut b, committed(&sk, 2, b"z", &[0, 1, 2]));
        assert_eq!(
            c.violations.pop(),
            Some(Violation::Safety {
                seq: 2,
                first: 0,
                second: 1
            })
        );

        c.on_commit(&mut a, committed(&sk, 4, b"w", &[0, 1, 2]));
        assert_eq!(
            c.violations.pop(),
            Some(Violation::Order {
                node: 0,
                seq: 4,
                expected: 3
            })
        );

        c.on_commit(&mut a, committed(&sk, 5, b"v", &[0, 1]));
        assert!(matches!(
            c.violations.pop(),
            Some(Violation::Certificate { seq: 5, .. })
        ));

        let wanted = [cryptanet_pbft::request_digest(b"x"), Digest::of(b"never")];
        c.liveness(&[a, b], &wanted);
        assert_eq!(c.violations.len(), 2);
        assert!(c.violations.iter().all(|v| v.checker() == "liveness"));
    }
}
