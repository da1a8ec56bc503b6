//! Blocks: header (chained by hash), data (envelope bytes) and metadata
//! (validation codes and the ordering commit certificate).
//!
//! The header hash covers number, previous hash, data hash and the Merkle
//! root of envelope hashes. Metadata is not covered by the header hash (as in
//! Fabric): validation codes are computed by each peer after ordering and the
//! commit certificate signs the header's data hash.

use crate::codec;
use crate::error::{Error, Result};
use crate::hash::Digest;
use crate::merkle;
use crate::validation::ValidationCode;
use serde::{Deserialize, Serialize};

/// Block header.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockHeader {
    /// Block number; the first block is 1.
    pub number: u64,
    /// Hash of the previous block's header ([`Digest::ZERO`] for block 1).
    pub previous_hash: Digest,
    /// Merkle root of the envelope hashes, in order.
    pub merkle_root: Digest,
    /// [`data_hash`] of the envelopes.
    pub data_hash: Digest,
}

impl BlockHeader {
    /// SHA3-256 of the canonical header encoding: the block's hash.
    pub fn hash(&self) -> Digest {
        // A header is four fixed-size fields; encoding cannot fail.
        Digest::of(&codec::encode(self).unwrap_or_default())
    }
}

/// Per-block metadata, filled in after ordering and validation.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockMetadata {
    /// Validation code of each envelope, same order as the data.
    pub validation_codes: Vec<ValidationCode>,
    /// Encoded ordering commit certificate (2f + 1 signed COMMITs), empty
    /// until the ordering service provides it.
    #[serde(with = "crate::wire_bytes::bytes")]
    pub commit_certificate: Vec<u8>,
}

/// A block.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Block {
    /// Header.
    pub header: BlockHeader,
    /// Envelope bytes exactly as ordered.
    #[serde(with = "crate::wire_bytes::byte_vecs")]
    pub data: Vec<Vec<u8>>,
    /// Metadata.
    pub metadata: BlockMetadata,
}

/// Hash of an ordered batch of envelopes: SHA3-256 of its canonical
/// encoding. This is also the digest PBFT orders and certifies.
pub fn data_hash(envelopes: &[Vec<u8>]) -> Digest {
    Digest::of(&codec::encode(&crate::wire_bytes::ByteVecs(envelopes)).unwrap_or_default())
}

/// Hash of one envelope's bytes (a Merkle leaf).
pub fn envelope_hash(envelope: &[u8]) -> Digest {
    Digest::of(envelope)
}

impl Block {
    /// Builds block `number` over `previous_hash` with the given envelopes;
    /// metadata starts with every transaction `NotValidated`.
    pub fn new(number: u64, previous_hash: Digest, data: Vec<Vec<u8>>) -> Block {
        let leaves: Vec<Digest> = data.iter().map(|e| envelope_hash(e)).collect();
        let header = BlockHeader {
            number,
            previous_hash,
            merkle_root: merkle::root(&leaves),
            data_hash: data_hash(&data),
        };
        let metadata = BlockMetadata {
            validation_codes: vec![ValidationCode::NotValidated; data.len()],
            commit_certificate: Vec::new(),
        };
        Block {
            header,
            data,
            metadata,
        }
    }

    /// The block's hash (its header hash).
    pub fn hash(&self) -> Digest {
        self.header.hash()
    }

    /// Checks that the header's data hash and Merkle root match the data and
    /// that metadata has one validation code per envelope.
    pub fn check_integrity(&self) -> Result<()> {
        let number = self.header.number;
        if data_hash(&self.data) != self.header.data_hash {
            return Err(Error::BadBlock {
                number,
                reason: "data hash mismatch",
            });
        }
        let leaves: Vec<Digest> = self.data.iter().map(|e| envelope_hash(e)).collect();
        if merkle::root(&leaves) != self.header.merkle_root {
            return Err(Error::BadBlock {
                number,
                reason: "merkle root mismatch",
            });
        }
        if self.metadata.validation_codes.len() != self.data.len() {
            return Err(Error::BadBlock {
                number,
                reason: "validation code count mismatch",
            });
        }
        Ok(())
    }

    /// Canonical encoding.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        codec::encode(self)
    }

    /// Decodes a block; does not check integrity.
    pub fn from_bytes(bytes: &[u8]) -> Result<Block> {
        codec::decode(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integrity_catches_any_bit_flip_in_data_and_header() {
        let b = Block::new(
            1,
            Digest::ZERO,
            vec![b"tx-a".to_vec(), b"tx-b".to_vec(), b"c".to_vec()],
        );
        b.check_integrity().unwrap();
        let bytes = b.to_bytes().unwrap();
        assert_eq!(Block::from_bytes(&bytes).unwrap(), b);
        for i in 0..b.data.len() {
            for bit in 0..b.data[i].len() * 8 {
                let mut c = b.clone();
                c.data[i][bit / 8] ^= 1 << (bit % 8);
                assert!(c.check_integrity().is_err());
            }
        }
        let h = b.hash();
        let hb = codec::encode(&b.header).unwrap();
        for bit in 0..hb.len() * 8 {
            let mut m = hb.clone();
            m[bit / 8] ^= 1 << (bit % 8);
            assert_ne!(Digest::of(&m), h);
        }
    }
}
