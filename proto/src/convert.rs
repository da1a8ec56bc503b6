//! Ledger blocks to the readable messages the peer streams: `Block`,
//! `FilteredBlock` and per-chaincode `ChaincodeEventsResponse`; and back,
//! from a received `Block` to a checked [`cryptanet_types::Block`].
//!
//! These are pure functions, so every peer renders the same block into the
//! same messages and clients can re-check what they were sent.

use crate::error::{Error, Result};
use crate::v1;
use cryptanet_types::{
    codec, Block, Digest, Envelope, Proposal, ProposalResponsePayload, ValidationCode,
};

/// A transaction id as it travels: 64 lower-case hex characters.
pub fn tx_id_to_wire(tx_id: &Digest) -> String {
    tx_id.to_hex()
}

/// Parses a transaction id received on the wire (64 hex characters).
pub fn tx_id_from_wire(tx_id: &str) -> Result<Digest> {
    Digest::from_hex(tx_id).ok_or_else(|| Error::BadTxId {
        tx_id: tx_id.chars().take(80).collect(),
    })
}

/// What a filtered view needs from one envelope.
struct TxView {
    tx_id: Option<Digest>,
    event: Option<v1::ChaincodeEvent>,
}

/// Decodes the parts of an envelope a filtered view shows. An envelope that
/// does not decode gives no tx id; a response that does not decode gives
/// no event. Signatures are not checked here: validation codes say that.
fn inspect(envelope: &[u8]) -> TxView {
    let Ok(payload) = Envelope::from_bytes(envelope).and_then(|e| e.decode_payload()) else {
        return TxView {
            tx_id: None,
            event: None,
        };
    };
    let tx_id = codec::decode::<Proposal>(&payload.proposal_bytes)
        .ok()
        .map(|p| p.tx_id());
    let event = match (
        tx_id,
        codec::decode::<ProposalResponsePayload>(&payload.response_bytes),
    ) {
        (Some(id), Ok(prp)) => prp.event.map(|e| v1::ChaincodeEvent {
            tx_id: tx_id_to_wire(&id),
            chaincode: prp.chaincode,
            event_name: e.name,
            payload: e.payload,
        }),
        _ => None,
    };
    TxView { tx_id, event }
}

/// Validation code of transaction `i`, `NotValidated` if metadata is short.
fn code_at(block: &Block, i: usize) -> ValidationCode {
    block
        .metadata
        .validation_codes
        .get(i)
        .copied()
        .unwrap_or(ValidationCode::NotValidated)
}

/// The full `Block` message: readable header and metadata fields plus the
/// canonical block bytes in `raw`.
pub fn block_message(block: &Block) -> Result<v1::Block> {
    Ok(v1::Block {
        number: block.header.number,
        previous_hash: block.header.previous_hash.0.to_vec(),
        data_hash: block.header.data_hash.0.to_vec(),
        merkle_root: block.header.merkle_root.0.to_vec(),
        hash: block.hash().0.to_vec(),
        data: block.data.clone(),
        validation_codes: block
            .metadata
            .validation_codes
            .iter()
            .map(|c| crate::validation::to_wire(*c))
            .collect(),
        commit_certificate: block.metadata.commit_certificate.clone(),
        raw: block.to_bytes()?,
    })
}

/// The `FilteredBlock` message: each transaction's id, validation code and
/// chaincode event.
pub fn filtered_block(block: &Block) -> v1::FilteredBlock {
    let txs = block
        .data
        .iter()
        .enumerate()
        .map(|(i, envelope)| {
            let view = inspect(envelope);
            v1::FilteredTransaction {
                tx_id: view.tx_id.map(|d| tx_id_to_wire(&d)).unwrap_or_default(),
                validation_code: crate::validation::to_wire(code_at(block, i)),
                chaincode_event: view.event,
            }
        })
        .collect();
    v1::FilteredBlock {
        number: block.header.number,
        hash: block.hash().0.to_vec(),
        txs,
    }
}

/// The events `chaincode` set in the block's valid transactions, in order.
/// The response has no events when there are none (the stream skips it).
pub fn chaincode_events(block: &Block, chaincode: &str) -> v1::ChaincodeEventsResponse {
    let events = block
        .data
        .iter()
        .enumerate()
        .filter(|(i, _)| code_at(block, *i).is_valid())
        .filter_map(|(_, envelope)| inspect(envelope).event)
        .filter(|e| e.chaincode == chaincode)
        .collect();
    v1::ChaincodeEventsResponse {
        block_number: block.header.number,
        events,
    }
}

/// Decodes `raw`, checks the block's integrity (data hash, Merkle root, one
/// code per envelope) and that every readable field agrees with it.
pub fn decode_block(message: &v1::Block) -> Result<Block> {
    let block = Block::from_bytes(&message.raw)?;
    block.check_integrity()?;
    let number = block.header.number;
    let mismatch = |field| Error::BlockMismatch { number, field };
    let codes: Vec<i32> = block
        .metadata
        .validation_codes
        .iter()
        .map(|c| crate::validation::to_wire(*c))
        .collect();
    let checks: [(&'static str, bool); 8] = [
        ("number", message.number == number),
        (
            "previous_hash",
            message.previous_hash == block.header.previous_hash.0,
        ),
        ("data_hash", message.data_hash == block.header.data_hash.0),
        (
            "merkle_root",
            message.merkle_root == block.header.merkle_root.0,
        ),
        ("hash", message.hash == block.hash().0),
        ("data", message.data == block.data),
        ("validation_codes", message.validation_codes == codes),
        (
            "commit_certificate",
            message.commit_certificate == block.metadata.commit_certificate,
        ),
    ];
    match checks.iter().find(|(_, ok)| !ok) {
        Some((field, _)) => Err(mismatch(*field)),
        None => Ok(block),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use cryptanet_types::crypto::SigningKey;
    use cryptanet_types::tx::{transient_hash, ChaincodeEvent, TxPayload};
    use cryptanet_types::{Response, SignedProposal, TxRwSet};

    fn envelope(key: &SigningKey, nonce: u8, chaincode: &str, event: Option<&str>) -> Vec<u8> {
        let proposal = Proposal {
            chaincode: chaincode.into(),
            function: "RecordReading".into(),
            args: vec![b"SHP-1".to_vec()],
            creator: b"cert".to_vec(),
            nonce: vec![nonce; 24],
            timestamp_ms: 1,
            transient_hash: transient_hash(&vec![]).unwrap(),
        };
        let sp = SignedProposal::new(&proposal, vec![], key).unwrap();
        let prp = ProposalResponsePayload {
            proposal_hash: Digest::of(&sp.proposal_bytes),
            chaincode: chaincode.into(),
            chaincode_sequence: 1,
            rwset: TxRwSet::default(),
            response: Response::default(),
            event: event.map(|name| ChaincodeEvent {
                name: name.into(),
                payload: vec![nonce],
            }),
        };
        let payload = TxPayload {
            proposal_bytes: sp.proposal_bytes,
            proposal_signature: sp.signature,
            response_bytes: codec::encode(&prp).unwrap(),
            endorsements: vec![],
        };
        Envelope::new(&payload, key).unwrap().to_bytes().unwrap()
    }

    fn tx_id(nonce: u8) -> String {
        cryptanet_types::tx::tx_id(&[nonce; 24], b"cert").to_hex()
    }

    fn sample() -> Block {
        let key = SigningKey::from_bytes(&[9; 32]);
        let mut block = Block::new(
            7,
            Digest::of(b"prev"),
            vec![
                envelope(&key, 1, "supply-chain", Some("AnomalyDetected")),
                b"not an envelope".to_vec(),
                envelope(&key, 2, "supply-chain", Some("ShipmentCreated")),
                envelope(&key, 3, "other", Some("Other")),
                envelope(&key, 4, "supply-chain", None),
            ],
        );
        block.metadata.validation_codes = vec![
            ValidationCode::Valid,
            ValidationCode::BadPayload,
            ValidationCode::MvccReadConflict,
            ValidationCode::Valid,
            ValidationCode::Valid,
        ];
        block.metadata.commit_certificate = vec![1, 2, 3];
        block
    }

    #[test]
    fn tx_ids_round_trip_and_malformed_ones_are_rejected() {
        let d = Digest::of(b"t");
        assert_eq!(tx_id_from_wire(&tx_id_to_wire(&d)).unwrap(), d);
        assert_eq!(tx_id_to_wire(&d).len(), 64);
        for bad in ["", "zz", &"a".repeat(63), &"g".repeat(64), &"a".repeat(66)] {
            assert!(matches!(tx_id_from_wire(bad), Err(Error::BadTxId { .. })));
        }
    }

    #[test]
    fn filtered_block_shows_ids_codes_and_events() {
        let block = sample();
        let f = filtered_block(&block);
        assert_eq!(f.number, 7);
        assert_eq!(f.hash, block.hash().0);
        let ids: Vec<&str> = f.txs.iter().map(|t| t.tx_id.as_str()).collect();
        assert_eq!(ids, [tx_id(1), String::new(), tx_id(2), tx_id(3), tx_id(4)]);
        let codes: Vec<i32> = f.txs.iter().map(|t| t.validation_code).collect();
        assert_eq!(codes, [0, 1, 7, 0, 0]);
        let ev = f.txs[0].chaincode_event.as_ref().unwrap();
        assert_eq!(
            (
                ev.chaincode.as_str(),
                ev.event_name.as_str(),
                ev.tx_id.as_str()
            ),
            ("supply-chain", "AnomalyDetected", tx_id(1).as_str())
        );
        assert_eq!(ev.payload, [1]);
        assert!(f.txs[1].chaincode_event.is_none());
        assert!(f.txs[4].chaincode_event.is_none());
    }

    #[test]
    fn chaincode_events_keep_only_valid_transactions_of_that_chaincode() {
        let r = chaincode_events(&sample(), "supply-chain");
        assert_eq!(r.block_number, 7);
        let names: Vec<&str> = r.events.iter().map(|e| e.event_name.as_str()).collect();
        assert_eq!(names, ["AnomalyDetected"]);
        assert!(chaincode_events(&sample(), "absent").events.is_empty());
    }

    #[test]
    fn block_message_round_trips_and_tampering_is_caught() {
        let block = sample();
        let m = block_message(&block).unwrap();
        assert_eq!(m.validation_codes, [0, 1, 7, 0, 0]);
        assert_eq!(decode_block(&m).unwrap(), block);

        let mut t = m.clone();
        t.validation_codes[2] = 0;
        assert!(matches!(
            decode_block(&t),
            Err(Error::BlockMismatch {
                field: "validation_codes",
                ..
            })
        ));
        let mut t = m.clone();
        t.hash[0] ^= 1;
        assert!(matches!(
            decode_block(&t),
            Err(Error::BlockMismatch { field: "hash", .. })
        ));
        let mut t = m.clone();
        t.data.pop();
        assert!(matches!(
            decode_block(&t),
            Err(Error::BlockMismatch { field: "data", .. })
        ));
        let mut t = m;
        t.raw.truncate(10);
        assert!(matches!(decode_block(&t), Err(Error::Types(_))));
    }
}
