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
use sha3::{Digest as _, Sha3_256};

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

/// Domain tag of [`data_hash`], versioned with the block format.
const DATA_HASH_DOMAIN: &[u8] = b"cryptanet.block-data.v2";

/// Hash of an ordered batch of envelopes, the digest PBFT orders and
/// certifies: SHA3-256 of a domain tag, the envelope count and each
/// envelope's hash in order. It is built from the same leaves as the Merkle
/// root, so one pass over the envelope bytes yields both.
pub fn data_hash(envelopes: &[Vec<u8>]) -> Digest {
    data_hash_of_leaves(&leaves(envelopes))
}

/// [`data_hash`] from envelope hashes already computed.
pub fn data_hash_of_leaves(leaves: &[Digest]) -> Digest {
    let mut h = Sha3_256::new();
    h.update(DATA_HASH_DOMAIN);
    h.update((leaves.len() as u64).to_be_bytes());
    for l in leaves {
        h.update(l.0);
    }
    Digest(h.finalize().into())
}

/// Hash of one envelope's bytes (a Merkle leaf).
pub fn envelope_hash(envelope: &[u8]) -> Digest {
    Digest::of(envelope)
}

/// The envelope hashes of a batch, in order.
pub fn leaves(envelopes: &[Vec<u8>]) -> Vec<Digest> {
    envelopes.iter().map(|e| envelope_hash(e)).collect()
}

impl Block {
    /// Builds block `number` over `previous_hash` with the given envelopes;
    /// metadata starts with every transaction `NotValidated`.
    pub fn new(number: u64, previous_hash: Digest, data: Vec<Vec<u8>>) -> Block {
        let leaves = leaves(&data);
        Block::from_leaves(number, previous_hash, data, &leaves)
    }

    /// [`Block::new`] with the envelope hashes already computed:
    /// `leaves[i]` must be [`envelope_hash`] of `data[i]` (a wrong leaf
    /// yields a header that fails [`Block::check_integrity`] and whose data
    /// hash matches no commit certificate).
    pub fn from_leaves(
        number: u64,
        previous_hash: Digest,
        data: Vec<Vec<u8>>,
        leaves: &[Digest],
    ) -> Block {
        debug_assert_eq!(leaves.len(), data.len());
        let header = BlockHeader {
            number,
            previous_hash,
            merkle_root: merkle::root(leaves),
            data_hash: data_hash_of_leaves(leaves),
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
    /// that metadata has one validation code per envelope. Hashes each
    /// envelope once.
    pub fn check_integrity(&self) -> Result<()> {
        let number = self.header.number;
        let leaves = leaves(&self.data);
        if data_hash_of_leaves(&leaves) != self.header.data_hash {
            return Err(Error::BadBlock {
                number,
                reason: "data hash mismatch",
            });
        }
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

    #[test]
    fn data_hash_separates_envelope_boundaries_order_and_count() {
        let v = |xs: &[&str]| xs.iter().map(|x| x.as_bytes().to_vec()).collect::<Vec<_>>();
        let base = data_hash(&v(&["ab", "c"]));
        assert_ne!(base, data_hash(&v(&["a", "bc"])));
        assert_ne!(base, data_hash(&v(&["c", "ab"])));
        assert_ne!(base, data_hash(&v(&["ab", "c", ""])));
        assert_ne!(base, data_hash(&v(&["abc"])));
        assert_ne!(data_hash(&[]), data_hash(&v(&[""])));
        assert_eq!(base, data_hash_of_leaves(&leaves(&v(&["ab", "c"]))));
    }
}
