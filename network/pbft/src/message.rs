//! Protocol messages and their signed wire form.
//!
//! Every message body names its sender. The wire form [`SignedMessage`]
//! carries the canonical encoding of the body (`cryptanet_types::codec`) and
//! the sender's ed25519 signature over exactly those bytes. Receivers decode,
//! check the bytes are canonical, and verify against the sender's configured
//! key. Because signatures cover the body and not the transport, any replica
//! may relay another's signed message (retransmission, certificates).
//!
//! A batch (the requests of a PROPOSAL or a DECIDED, the payloads of a
//! REQUEST) travels in the wire form's `attachment`, outside the signed
//! bytes: it is bound to the signed body by digests the body certifies (the
//! PRE-PREPARE's digest, the commit certificate's digest, a REQUEST's
//! per-payload digests), which the receiver checks. So signing and
//! verifying cost the same whatever the batch size, and the canonical-form
//! check re-encodes the small body only. (Until 2026-11-24 the signature
//! covered the batch: SHA-512 over every request once per signature, twice
//! at the signer, and a re-encoding of the whole batch per receipt.)

use crate::cert::{CheckpointCert, CommitCertificate, PreparedCert};
use crate::error::{Error, Result};
use crate::types::{ReplicaId, Seq, View};
use cryptanet_types::crypto::{sign, SigningKey};
use cryptanet_types::{codec, Digest, PublicKey, Signature};
use serde::{Deserialize, Serialize};

/// Client requests passed on by the replica that received them: to the
/// primary when they arrive, to every replica when the primary has not
/// proposed them in time. One signature covers the group's digests; the
/// payloads travel in the wire form's attachment and must hash to them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Request {
    /// Forwarding replica.
    pub replica: ReplicaId,
    /// [`crate::request_digest`] of each payload, in order.
    pub digests: Vec<Digest>,
    /// The opaque requests (encoded transaction envelopes). Travel in the
    /// attachment; [`SignedMessage::open`] checks them against `digests`.
    #[serde(skip)]
    pub payloads: Vec<Vec<u8>>,
}

/// The primary's proposal of the batch with digest `digest` at (`view`,
/// `seq`). It certifies the digest only; the batch itself travels beside it
/// in a [`Proposal`] or is fetched by digest, so prepared certificates,
/// VIEW-CHANGEs and NEW-VIEWs stay small whatever the batch size.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrePrepare {
    /// View.
    pub view: View,
    /// Sequence number.
    pub seq: Seq,
    /// `cryptanet_types::block::data_hash(&batch)`; the null batch is the
    /// empty batch.
    pub digest: Digest,
    /// The primary of `view`.
    pub replica: ReplicaId,
}

/// A signed PRE-PREPARE together with the batch it certifies, sent by
/// `replica`: the primary in the normal case, any replica when it relays a
/// PRE-PREPARE to a peer that missed it. Receivers check the inner
/// PRE-PREPARE's signature and that the batch hashes to its digest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Proposal {
    /// The primary's signed [`Message::PrePrepare`].
    pub pre_prepare: SignedMessage,
    /// The ordered requests; empty for a null batch. Travels in the wire
    /// form's attachment, bound by the PRE-PREPARE's digest.
    #[serde(skip)]
    pub batch: Vec<Vec<u8>>,
    /// Sender (signs this message).
    pub replica: ReplicaId,
}

/// A PREPARE or COMMIT vote for `digest` at (`view`, `seq`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Vote {
    /// View.
    pub view: View,
    /// Sequence number.
    pub seq: Seq,
    /// Batch digest.
    pub digest: Digest,
    /// Voter.
    pub replica: ReplicaId,
}

/// A claim that the state after executing `seq` is `state`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// Sequence number (a multiple of K).
    pub seq: Seq,
    /// Chained state digest at `seq` ([`crate::types::chain_state`]).
    pub state: Digest,
    /// Sender.
    pub replica: ReplicaId,
}

/// A request to move to `new_view`, carrying what the sender knows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ViewChange {
    /// The view being asked for.
    pub new_view: View,
    /// The sender's last stable checkpoint with its proof.
    pub checkpoint: CheckpointCert,
    /// For each sequence number above the checkpoint that the sender
    /// prepared, the prepared certificate of the highest view.
    pub prepared: Vec<PreparedCert>,
    /// Sender.
    pub replica: ReplicaId,
}

/// The new primary's announcement of `view`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewView {
    /// The view installed.
    pub view: View,
    /// 2f + 1 signed VIEW-CHANGEs for `view` from distinct replicas.
    pub view_changes: Vec<SignedMessage>,
    /// Signed PRE-PREPAREs for `view` recomputed from `view_changes`,
    /// ascending by sequence number.
    pub pre_prepares: Vec<SignedMessage>,
    /// The primary of `view`.
    pub replica: ReplicaId,
}

/// Periodic progress report; peers answer with what the sender misses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    /// The sender's active view.
    pub view: View,
    /// The view it is changing to, if it is in a view change.
    pub changing_to: Option<View>,
    /// Last sequence number it executed.
    pub last_executed: Seq,
    /// Its last stable checkpoint.
    pub stable: Seq,
    /// Sender.
    pub replica: ReplicaId,
}

/// A decided batch with its commit certificate, relayed to a replica that
/// missed it. Self-certifying: valid whatever view the receiver is in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decided {
    /// The batch. Travels in the wire form's attachment, bound by the
    /// certificate's digest.
    #[serde(skip)]
    pub batch: Vec<Vec<u8>>,
    /// 2f + 1 COMMITs for its digest.
    pub certificate: CommitCertificate,
    /// The relaying replica.
    pub replica: ReplicaId,
}

/// Every protocol message (the signed body).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Message {
    /// Client requests forwarded to the primary or relayed to all.
    Request(Request),
    /// Phase 1: the primary proposes.
    PrePrepare(PrePrepare),
    /// Phase 2: a backup accepts the proposal.
    Prepare(Vote),
    /// Phase 3: a prepared replica votes to commit.
    Commit(Vote),
    /// Checkpoint claim.
    Checkpoint(Checkpoint),
    /// View change request.
    ViewChange(ViewChange),
    /// New view announcement.
    NewView(NewView),
    /// Progress report driving retransmission.
    Status(Status),
    /// A decided batch relayed to a lagging replica.
    Decided(Decided),
    /// A PRE-PREPARE with its batch (the normal-case proposal).
    Proposal(Proposal),
}

impl Message {
    /// The replica that signs this message.
    pub fn sender(&self) -> ReplicaId {
        match self {
            Message::Request(m) => m.replica,
            Message::PrePrepare(m) => m.replica,
            Message::Prepare(m) | Message::Commit(m) => m.replica,
            Message::Checkpoint(m) => m.replica,
            Message::ViewChange(m) => m.replica,
            Message::NewView(m) => m.replica,
            Message::Status(m) => m.replica,
            Message::Decided(m) => m.replica,
            Message::Proposal(m) => m.replica,
        }
    }

    /// Short name for logs and metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            Message::Request(_) => "request",
            Message::PrePrepare(_) => "pre-prepare",
            Message::Prepare(_) => "prepare",
            Message::Commit(_) => "commit",
            Message::Checkpoint(_) => "checkpoint",
            Message::ViewChange(_) => "view-change",
            Message::NewView(_) => "new-view",
            Message::Status(_) => "status",
            Message::Decided(_) => "decided",
            Message::Proposal(_) => "proposal",
        }
    }
}

/// How signatures are checked. [`Strict`] (the default everywhere) calls
/// `PublicKey::verify`. A simulator running many replicas in one process may
/// install a memoising check that calls `PublicKey::verify` once per distinct
/// (key, bytes, signature) triple; the result of verification is a pure
/// function of that triple, so memoising cannot change any decision.
pub trait SignatureCheck: Send + Sync {
    /// Whether `signature` is `key`'s valid signature over exactly `bytes`.
    fn check(&self, key: &PublicKey, bytes: &[u8], signature: &Signature) -> bool;
}

/// `PublicKey::verify` on every call.
#[derive(Clone, Copy, Debug, Default)]
pub struct Strict;

impl SignatureCheck for Strict {
    fn check(&self, key: &PublicKey, bytes: &[u8], signature: &Signature) -> bool {
        key.verify(bytes, signature).is_ok()
    }
}

/// A message on the wire: canonical body bytes, the sender's signature,
/// and the batch of a PROPOSAL or DECIDED or the payloads of a REQUEST
/// (empty for every other kind).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedMessage {
    /// `codec::encode(&Message)` (a batch is not part of it).
    #[serde(with = "crate::wire_bytes::bytes")]
    pub bytes: Vec<u8>,
    /// Sender's signature over `bytes`.
    pub signature: Signature,
    /// The batch of a PROPOSAL or DECIDED, or a REQUEST's payloads: not
    /// covered by the signature; checked against the digests the body
    /// certifies (a REQUEST's here, on open; a batch by the replica).
    #[serde(with = "crate::wire_bytes::byte_vecs")]
    pub attachment: Vec<Vec<u8>>,
}

/// The batch a message carries beside its signed body, if its kind has one.
fn batch_of(message: &mut Message) -> Option<&mut Vec<Vec<u8>>> {
    match message {
        Message::Request(r) => Some(&mut r.payloads),
        Message::Proposal(p) => Some(&mut p.batch),
        Message::Decided(d) => Some(&mut d.batch),
        _ => None,
    }
}

impl SignedMessage {
    /// Encodes and signs `message` with `key` (its batch, if any, is copied
    /// into the attachment).
    pub fn sign(key: &SigningKey, message: &Message) -> Result<SignedMessage> {
        let attachment = match message {
            Message::Request(r) => r.payloads.clone(),
            Message::Proposal(p) => p.batch.clone(),
            Message::Decided(d) => d.batch.clone(),
            _ => Vec::new(),
        };
        Self::sign_with(key, message, attachment)
    }

    /// [`SignedMessage::sign`] taking the message, so its batch moves into
    /// the attachment instead of being copied.
    pub fn sign_owned(key: &SigningKey, mut message: Message) -> Result<SignedMessage> {
        let attachment = batch_of(&mut message)
            .map(std::mem::take)
            .unwrap_or_default();
        Self::sign_with(key, &message, attachment)
    }

    /// The body is encoded without its batch (a skipped field), so taking
    /// the batch out first does not change the signed bytes.
    fn sign_with(
        key: &SigningKey,
        message: &Message,
        attachment: Vec<Vec<u8>>,
    ) -> Result<SignedMessage> {
        let bytes = codec::encode(message)?;
        let signature = sign(key, &bytes);
        Ok(SignedMessage {
            bytes,
            signature,
            attachment,
        })
    }

    /// Decodes the body, checks it is canonical and that its sender's key
    /// (from `keys`, indexed by replica) signed it. Nested certificates are
    /// not checked here.
    pub fn open(&self, keys: &[PublicKey]) -> Result<Message> {
        self.open_with(keys, &Strict)
    }

    /// [`SignedMessage::open`] with a chosen signature check.
    pub fn open_with(&self, keys: &[PublicKey], check: &dyn SignatureCheck) -> Result<Message> {
        self.open_parts(keys, check, self.attachment.clone())
    }

    /// [`SignedMessage::open_with`] that moves the attachment into the
    /// opened message instead of copying it (`self.attachment` is left
    /// empty).
    pub fn open_taking(
        &mut self,
        keys: &[PublicKey],
        check: &dyn SignatureCheck,
    ) -> Result<Message> {
        let attachment = std::mem::take(&mut self.attachment);
        self.open_parts(keys, check, attachment)
    }

    fn open_parts(
        &self,
        keys: &[PublicKey],
        check: &dyn SignatureCheck,
        attachment: Vec<Vec<u8>>,
    ) -> Result<Message> {
        let mut message: Message = codec::decode(&self.bytes)?;
        if codec::encode(&message)? != self.bytes {
            return Err(Error::NonCanonical);
        }
        if let Message::Request(r) = &message {
            // The signature covers the digests: the payloads must match.
            let matches = r.digests.len() == attachment.len()
                && r.digests
                    .iter()
                    .zip(&attachment)
                    .all(|(d, p)| *d == crate::types::request_digest(p));
            if !matches {
                return Err(Error::RequestDigestMismatch { replica: r.replica });
            }
        }
        match batch_of(&mut message) {
            Some(batch) => *batch = attachment,
            None if !attachment.is_empty() => {
                return Err(Error::UnexpectedAttachment {
                    kind: message.kind(),
                })
            }
            None => {}
        }
        let replica = message.sender();
        let key = keys.get(replica as usize).ok_or(Error::UnknownReplica {
            replica,
            n: keys.len(),
        })?;
        if !check.check(key, &self.bytes, &self.signature) {
            return Err(Error::BadSignature { replica });
        }
        Ok(message)
    }

    /// The body with its batch (from the attachment), decoded without any
    /// check of form or signature: for inspection (tests, logs), never for
    /// acting on a message.
    pub fn decode_unverified(&self) -> Result<Message> {
        let mut message: Message = codec::decode(&self.bytes)?;
        if let Some(batch) = batch_of(&mut message) {
            batch.clone_from(&self.attachment);
        }
        Ok(message)
    }

    /// Wire encoding of the signed message.
    pub fn encode(&self) -> Result<Vec<u8>> {
        Ok(codec::encode(self)?)
    }

    /// Decodes a signed message from the wire (does not verify it).
    pub fn decode(bytes: &[u8]) -> Result<SignedMessage> {
        Ok(codec::decode(bytes)?)
    }

    /// [`Message::kind`] of the body, read from its variant tag alone (no
    /// decoding, no verification); "garbage" for an unknown tag. For logs.
    pub fn kind(&self) -> &'static str {
        const KINDS: [&str; 10] = [
            "request",
            "pre-prepare",
            "prepare",
            "commit",
            "checkpoint",
            "view-change",
            "new-view",
            "status",
            "decided",
            "proposal",
        ];
        self.bytes
            .first()
            .and_then(|t| KINDS.get(*t as usize))
            .copied()
            .unwrap_or("garbage")
    }

    /// A digest of body and signature, identifying this exact message.
    pub fn id(&self) -> Digest {
        Digest::of_parts(&[&self.bytes, &self.signature.0])
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn keys(n: usize) -> (Vec<SigningKey>, Vec<PublicKey>) {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(9);
        let sk: Vec<SigningKey> = (0..n).map(|_| SigningKey::generate(&mut rng)).collect();
        let pk = sk.iter().map(PublicKey::of).collect();
        (sk, pk)
    }

    #[test]
    fn a_batch_travels_beside_the_signed_body_and_only_where_it_belongs() {
        let (sk, pk) = keys(4);
        let pp = SignedMessage::sign(
            &sk[0],
            &Message::PrePrepare(PrePrepare {
                view: 0,
                seq: 1,
                digest: Digest::of(b"d"),
                replica: 0,
            }),
        )
        .unwrap();
        let proposal = |batch: Vec<Vec<u8>>| {
            Message::Proposal(Proposal {
                pre_prepare: pp.clone(),
                batch,
                replica: 1,
            })
        };
        let small = SignedMessage::sign(&sk[1], &proposal(vec![b"a".to_vec()])).unwrap();
        let large = SignedMessage::sign_owned(&sk[1], proposal(vec![vec![7; 4096]; 64])).unwrap();
        // The signed bytes do not grow with the batch: the same body, the
        // same signature.
        assert_eq!(small.bytes, large.bytes);
        assert_eq!(small.signature, large.signature);
        assert_eq!(large.attachment.len(), 64);
        assert_eq!(large.open(&pk).unwrap(), proposal(vec![vec![7; 4096]; 64]));
        // Round trip through the wire form, taking the attachment.
        let mut wire = SignedMessage::decode(&large.encode().unwrap()).unwrap();
        assert_eq!(
            wire.open_taking(&pk, &Strict).unwrap(),
            proposal(vec![vec![7; 4096]; 64])
        );
        assert!(wire.attachment.is_empty());
        // Another batch opens too: binding it to the digest is the
        // receiver's check (`on_proposal`, `on_decided`), not the signature's.
        let mut swapped = small.clone();
        swapped.attachment = vec![b"b".to_vec()];
        assert_eq!(swapped.open(&pk).unwrap(), proposal(vec![b"b".to_vec()]));
        // Kinds without a batch refuse an attachment.
        let vote = Vote {
            view: 0,
            seq: 1,
            digest: Digest::of(b"d"),
            replica: 2,
        };
        let mut prepare = SignedMessage::sign(&sk[2], &Message::Prepare(vote)).unwrap();
        assert!(prepare.attachment.is_empty());
        prepare.attachment = vec![b"x".to_vec()];
        assert_eq!(
            prepare.open(&pk),
            Err(Error::UnexpectedAttachment { kind: "prepare" })
        );
    }

    #[test]
    fn open_checks_signer_canonical_form_and_range() {
        let (sk, pk) = keys(4);
        let vote = Vote {
            view: 3,
            seq: 9,
            digest: Digest::of(b"b"),
            replica: 2,
        };
        let m = SignedMessage::sign(&sk[2], &Message::Prepare(vote)).unwrap();
        assert_eq!(m.open(&pk).unwrap(), Message::Prepare(vote));
        assert_eq!(m.kind(), "prepare");
        let status = Message::Status(Status {
            view: 1,
            changing_to: None,
            last_executed: 0,
            stable: 0,
            replica: 2,
        });
        let request = Message::Request(Request {
            replica: 2,
            digests: vec![crate::types::request_digest(&[1; 300])],
            payloads: vec![vec![1; 300]],
        });
        for msg in [status, request.clone()] {
            let m = SignedMessage::sign(&sk[2], &msg).unwrap();
            assert_eq!(m.kind(), msg.kind());
            assert_eq!(m.open(&pk).unwrap(), msg);
        }
        // A REQUEST's payloads must hash to its signed digests.
        let mut swapped = SignedMessage::sign(&sk[2], &request).unwrap();
        swapped.attachment = vec![vec![2; 300]];
        assert_eq!(
            swapped.open(&pk),
            Err(Error::RequestDigestMismatch { replica: 2 })
        );
        swapped.attachment = Vec::new();
        assert_eq!(
            swapped.open(&pk),
            Err(Error::RequestDigestMismatch { replica: 2 })
        );
        let wire = SignedMessage::decode(&m.encode().unwrap()).unwrap();
        assert_eq!(wire, m);

        // Signed by the wrong key.
        let forged = SignedMessage::sign(&sk[1], &Message::Prepare(vote)).unwrap();
        assert_eq!(forged.open(&pk), Err(Error::BadSignature { replica: 2 }));

        // Unknown sender.
        let alien = Vote { replica: 7, ..vote };
        let m = SignedMessage::sign(&sk[0], &Message::Commit(alien)).unwrap();
        assert_eq!(m.open(&pk), Err(Error::UnknownReplica { replica: 7, n: 4 }));

        // Garbage bytes are a typed error.
        let junk = SignedMessage {
            bytes: vec![200, 1, 2],
            signature: m.signature,
            attachment: Vec::new(),
        };
        assert!(matches!(junk.open(&pk), Err(Error::Codec(_))));
    }

    #[test]
    fn non_canonical_varint_is_rejected() {
        let (sk, pk) = keys(4);
        let vote = Vote {
            view: 3,
            seq: 9,
            digest: Digest::ZERO,
            replica: 1,
        };
        let canonical = codec::encode(&Message::Prepare(vote)).unwrap();
        // bincode varint: the variant tag (2) written with the u16 marker.
        let mut padded = vec![251, canonical[0], 0];
        padded.extend_from_slice(&canonical[1..]);
        if codec::decode::<Message>(&padded).is_ok() {
            let signature = sign(&sk[1], &padded);
            let m = SignedMessage {
                bytes: padded,
                signature,
                attachment: Vec::new(),
            };
            assert_eq!(m.open(&pk), Err(Error::NonCanonical));
        } else {
            // The decoder itself refuses the padded form: also fine.
            assert!(codec::decode::<Message>(&padded).is_err());
        }
    }
}
