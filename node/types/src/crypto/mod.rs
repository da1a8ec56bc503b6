//! ed25519 keys and signatures over exact bytes.
//!
//! Every signature in CryptaNet is checked with one rule, the cofactored
//! equation of [`equation`]: alone ([`PublicKey::verify`]), in batches
//! ([`verify_batch`], [`verify_groups`], [`verify_each`]) or by recalling
//! that this process already checked the same bytes ([`seen`]). All three
//! give the same answer, so a peer may use whichever is cheapest and still
//! agree with every other peer on a block's validation codes.

use crate::error::Result;
use ed25519_dalek::Signer as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

mod batch;
mod equation;
pub mod seen;

pub use batch::{verify_batch, verify_each, verify_groups, BATCH_SIGNATURES};
pub use ed25519_dalek::SigningKey;

/// A 64-byte ed25519 signature.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Signature(pub [u8; 64]);

/// A 32-byte ed25519 public key (not yet checked to be a valid point).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct PublicKey(pub [u8; 32]);

impl PublicKey {
    /// The public key of `key`.
    pub fn of(key: &SigningKey) -> PublicKey {
        PublicKey(key.verifying_key().to_bytes())
    }

    /// Verifies `sig` over exactly `msg` by the cofactored equation, with
    /// strict encodings: `Err(BadPublicKey)` if the key is not a point,
    /// `Err(BadSignature)` if it is of small order, if `s` is not canonical,
    /// if `R` is not canonical or of small order, or if the equation fails.
    pub fn verify(&self, msg: &[u8], sig: &Signature) -> Result<()> {
        equation::verify_one(msg, sig, self)
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", &hex::encode(self.0)[..16])
    }
}

/// Signs exactly `msg` with `key`.
pub fn sign(key: &SigningKey, msg: &[u8]) -> Signature {
    Signature(key.sign(msg).to_bytes())
}

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Signature({}…)", &hex::encode(&self.0[..8]))
    }
}

impl Serialize for Signature {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_bytes(&self.0)
    }
}

impl<'de> Deserialize<'de> for Signature {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Signature;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("64 signature bytes")
            }
            fn visit_bytes<E: serde::de::Error>(
                self,
                v: &[u8],
            ) -> std::result::Result<Signature, E> {
                let arr: [u8; 64] = v
                    .try_into()
                    .map_err(|_| E::invalid_length(v.len(), &self))?;
                Ok(Signature(arr))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> std::result::Result<Signature, A::Error> {
                let mut arr = [0u8; 64];
                for (i, b) in arr.iter_mut().enumerate() {
                    *b = seq
                        .next_element()?
                        .ok_or_else(|| serde::de::Error::invalid_length(i, &self))?;
                }
                Ok(Signature(arr))
            }
        }
        d.deserialize_bytes(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;
    use rand::SeedableRng;

    #[test]
    fn any_bit_flip_breaks_the_signature() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        let key = SigningKey::generate(&mut rng);
        let pk = PublicKey::of(&key);
        let msg = b"ship 40 pallets".to_vec();
        let sig = sign(&key, &msg);
        pk.verify(&msg, &sig).unwrap();
        for bit in 0..msg.len() * 8 {
            let mut m = msg.clone();
            m[bit / 8] ^= 1 << (bit % 8);
            assert_eq!(pk.verify(&m, &sig), Err(Error::BadSignature));
        }
        for bit in 0..512 {
            let mut s = sig;
            s.0[bit / 8] ^= 1 << (bit % 8);
            assert!(pk.verify(&msg, &s).is_err());
        }
        let bytes = crate::codec::encode(&sig).unwrap();
        assert_eq!(crate::codec::decode::<Signature>(&bytes).unwrap(), sig);
    }
}
