//! ed25519 keys and signatures over exact bytes.

use crate::error::{Error, Result};
use ed25519_dalek::{Signer as _, Verifier as _};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::HashMap;
use std::fmt;
use std::sync::{Mutex, OnceLock};

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

    /// Verifies `sig` over exactly `msg` (strict verification: rejects
    /// small-order keys and non-canonical signatures).
    pub fn verify(&self, msg: &[u8], sig: &Signature) -> Result<()> {
        let vk = verifying_key(&self.0)?;
        let sig = ed25519_dalek::Signature::from_bytes(&sig.0);
        vk.verify_strict(msg, &sig).map_err(|_| Error::BadSignature)
    }

    /// Non-strict verify as used by batch verification; kept for callers that
    /// pre-validate keys. Prefer [`PublicKey::verify`].
    pub fn verify_relaxed(&self, msg: &[u8], sig: &Signature) -> Result<()> {
        let vk = verifying_key(&self.0)?;
        let sig = ed25519_dalek::Signature::from_bytes(&sig.0);
        vk.verify(msg, &sig).map_err(|_| Error::BadSignature)
    }
}

/// Encodings (sign bit cleared) of the small-order points of edwards25519
/// and their non-canonical aliases: a signature whose `R` is one of them is
/// refused by [`PublicKey::verify`] (strict), so [`verify_batch`] refuses it
/// too (libsodium keeps the same list).
const SMALL_ORDER_R: [[u8; 32]; 7] = {
    let mut t = [[0u8; 32]; 7];
    // y = 0 (order 4)
    // y = 1 (the identity)
    t[1][0] = 1;
    // y = p - 1 (order 2), y = p (0 again), y = p + 1 (1 again)
    let mut i = 1;
    while i < 31 {
        t[2][i] = 0xff;
        t[3][i] = 0xff;
        t[4][i] = 0xff;
        i += 1;
    }
    t[2][0] = 0xec;
    t[3][0] = 0xed;
    t[4][0] = 0xee;
    t[2][31] = 0x7f;
    t[3][31] = 0x7f;
    t[4][31] = 0x7f;
    // The two y of the points of order 8.
    t[5] = [
        0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4, 0x89, 0xf2, 0xef, 0x98,
        0xf0, 0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6, 0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53,
        0xfc, 0x05,
    ];
    t[6] = [
        0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b, 0x76, 0x0d, 0x10, 0x67,
        0x0f, 0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39, 0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac,
        0x03, 0x7a,
    ];
    t
};

/// True if the 32-byte point encoding `r` is canonical (y < p) and not one
/// of [`SMALL_ORDER_R`].
fn acceptable_r(r: &[u8]) -> bool {
    let mut y = [0u8; 32];
    y.copy_from_slice(&r[..32]);
    y[31] &= 0x7f;
    // p = 2^255 - 19: y >= p iff the top 31 bytes are all ones (0x7f in the
    // last) and the first byte is at least 0xed.
    let non_canonical = y[31] == 0x7f && y[1..31].iter().all(|&b| b == 0xff) && y[0] >= 0xed;
    !non_canonical && !SMALL_ORDER_R.contains(&y)
}

/// Verifies `(message, signature, key)` triples together, about twice as
/// fast per signature as one by one for batches of dozens. `Ok` only if
/// every key is a valid, not small-order point, every signature's `R` is
/// canonical and not of small order, and the batch equation holds.
///
/// What it accepts, [`PublicKey::verify`] accepts for every triple, except
/// for crafted signatures whose `R` or key carries a torsion component
/// that the batch's coefficients happen to cancel. The coefficients are
/// derived from the batch itself (no randomness), so the answer is the
/// same on every peer for the same batch. On `Err`, verify one by one to
/// find the culprit.
pub fn verify_batch(items: &[(&[u8], &Signature, &PublicKey)]) -> Result<()> {
    let mut messages = Vec::with_capacity(items.len());
    let mut signatures = Vec::with_capacity(items.len());
    let mut keys = Vec::with_capacity(items.len());
    for (msg, sig, key) in items {
        let vk = verifying_key(&key.0)?;
        if vk.is_weak() || !acceptable_r(&sig.0[..32]) {
            return Err(Error::BadSignature);
        }
        messages.push(*msg);
        signatures.push(ed25519_dalek::Signature::from_bytes(&sig.0));
        keys.push(vk);
    }
    ed25519_dalek::verify_batch(&messages, &signatures, &keys).map_err(|_| Error::BadSignature)
}

/// Which groups of signatures verify, in batches of about `batch`
/// signatures. `groups` are consecutive, non-overlapping ranges of `items`
/// (a transaction's signatures, say); a group counts as verified when a
/// batch holding it passes. A failing batch is split in halves by group and
/// each half verified again, so one bad group among n costs about
/// 2·log2(n) smaller batches rather than n one-by-one checks. A group that
/// fails on its own is `false`; for a group of one signature that is also
/// what [`PublicKey::verify`] says, since a signature the strict check
/// accepts satisfies the batch equation.
pub fn verify_groups(
    items: &[(&[u8], &Signature, &PublicKey)],
    groups: &[std::ops::Range<usize>],
    batch: usize,
) -> Vec<bool> {
    let mut verified = vec![false; groups.len()];
    let mut start = 0;
    while start < groups.len() {
        // Whole groups up to about `batch` signatures (at least one group).
        let mut end = start + 1;
        while end < groups.len() && groups[end].end - groups[start].start <= batch.max(1) {
            end += 1;
        }
        verify_span(items, groups, start..end, &mut verified);
        start = end;
    }
    verified
}

/// Signatures per batch that [`verify_each`] (and commit-time validation)
/// use: `identity_bench` on this project's 2-core EPYC VM gives 20.9 µs
/// per signature in batches of 64 and 16.9 µs in batches of 256.
pub const BATCH_SIGNATURES: usize = 256;

/// Which of `items` verify, each on its own: [`verify_groups`] with one
/// signature per group, in batches of [`BATCH_SIGNATURES`]. `false` is
/// also what [`PublicKey::verify`] says for that signature.
pub fn verify_each(items: &[(&[u8], &Signature, &PublicKey)]) -> Vec<bool> {
    let singles: Vec<std::ops::Range<usize>> = (0..items.len()).map(|i| i..i + 1).collect();
    verify_groups(items, &singles, BATCH_SIGNATURES)
}

fn verify_span(
    items: &[(&[u8], &Signature, &PublicKey)],
    groups: &[std::ops::Range<usize>],
    span: std::ops::Range<usize>,
    verified: &mut [bool],
) {
    if span.is_empty() {
        return;
    }
    let signatures = &items[groups[span.start].start..groups[span.end - 1].end];
    if verify_batch(signatures).is_ok() {
        verified[span].fill(true);
    } else if span.len() > 1 {
        let mid = span.start + span.len() / 2;
        verify_span(items, groups, span.start..mid, verified);
        verify_span(items, groups, mid..span.end, verified);
    }
}

/// Keys kept decompressed by [`verifying_key`]; beyond this many distinct
/// keys the cache starts over (a network has a few dozen).
const KEY_CACHE_CAPACITY: usize = 4096;

/// The decompressed key of `bytes`, remembered. Decompressing a point is a
/// field square root, about a third of a batched verification's cost per
/// signature, and peers verify signatures of the same few member keys over
/// and over. Only valid points are cached; memory stays bounded.
fn verifying_key(bytes: &[u8; 32]) -> Result<ed25519_dalek::VerifyingKey> {
    static CACHE: OnceLock<Mutex<HashMap<[u8; 32], ed25519_dalek::VerifyingKey>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Mutex::default);
    if let Some(vk) = cache.lock().ok().and_then(|c| c.get(bytes).copied()) {
        return Ok(vk);
    }
    let vk = ed25519_dalek::VerifyingKey::from_bytes(bytes).map_err(|_| Error::BadPublicKey)?;
    if let Ok(mut c) = cache.lock() {
        if c.len() >= KEY_CACHE_CAPACITY {
            c.clear();
        }
        c.insert(*bytes, vk);
    }
    Ok(vk)
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
    use rand::SeedableRng;

    #[test]
    fn the_small_order_list_holds_only_small_order_points() {
        for y in SMALL_ORDER_R.iter().take(3).chain(&SMALL_ORDER_R[5..]) {
            for sign in [0u8, 0x80] {
                let mut enc = *y;
                enc[31] |= sign;
                // Both x signs of each y that decodes are of small order.
                match ed25519_dalek::VerifyingKey::from_bytes(&enc) {
                    Ok(p) => assert!(p.is_weak(), "{enc:02x?}"),
                    // Every listed y is on the curve.
                    Err(_) => assert_eq!(sign, 0x80, "{enc:02x?} does not decode"),
                }
                assert!(!acceptable_r(&enc));
            }
        }
        assert!(!acceptable_r(&SMALL_ORDER_R[3]) && !acceptable_r(&SMALL_ORDER_R[4]));
    }

    #[test]
    fn cached_keys_verify_exactly_as_fresh_ones_and_the_cache_stays_bounded() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        let key = SigningKey::generate(&mut rng);
        let other = SigningKey::generate(&mut rng);
        let sig = sign(&key, b"m");
        // Twice each: the second call is answered from the cache.
        for _ in 0..2 {
            assert!(PublicKey::of(&key).verify(b"m", &sig).is_ok());
            assert!(PublicKey::of(&key).verify(b"n", &sig).is_err());
            assert!(PublicKey::of(&other).verify(b"m", &sig).is_err());
        }
        // An encoding that is not a point is refused every time, never cached.
        let mut not_a_point = [0u8; 32];
        not_a_point[0] = 2;
        assert!(ed25519_dalek::VerifyingKey::from_bytes(&not_a_point).is_err());
        for _ in 0..2 {
            assert!(matches!(
                PublicKey(not_a_point).verify(b"m", &sig),
                Err(Error::BadPublicKey)
            ));
        }
        // More distinct keys than the capacity: still correct afterwards.
        for _ in 0..KEY_CACHE_CAPACITY + 10 {
            let k = SigningKey::generate(&mut rng);
            verifying_key(&k.verifying_key().to_bytes()).unwrap();
        }
        assert!(PublicKey::of(&key).verify(b"m", &sig).is_ok());
        assert!(PublicKey::of(&key).verify(b"n", &sig).is_err());
    }

    #[test]
    fn groups_are_verified_together_and_only_failing_groups_are_false() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        let keys: Vec<SigningKey> = (0..3).map(|_| SigningKey::generate(&mut rng)).collect();
        let msgs: Vec<Vec<u8>> = (0..90u8).map(|i| vec![i; 20]).collect();
        let mut sigs: Vec<(Signature, PublicKey)> = msgs
            .iter()
            .enumerate()
            .map(|(i, m)| (sign(&keys[i % 3], m), PublicKey::of(&keys[i % 3])))
            .collect();
        // 30 groups of 3; forgeries in groups 4 and 29, a wrong key in 17.
        sigs[13].0 .0[40] ^= 1;
        sigs[88].0 .0[3] ^= 1;
        sigs[52].1 = PublicKey::of(&keys[0]);
        let items: Vec<(&[u8], &Signature, &PublicKey)> = msgs
            .iter()
            .zip(&sigs)
            .map(|(m, (s, k))| (m.as_slice(), s, k))
            .collect();
        let groups: Vec<std::ops::Range<usize>> = (0..30).map(|g| g * 3..g * 3 + 3).collect();
        for batch in [1, 4, 16, 64, 1000] {
            let ok = verify_groups(&items, &groups, batch);
            let bad: Vec<usize> = (0..30).filter(|g| !ok[*g]).collect();
            assert_eq!(bad, [4, 17, 29], "batch {batch}");
        }
        // One signature per group: the same verdicts as one by one.
        let ok = verify_each(&items);
        for (i, (m, s, k)) in items.iter().enumerate() {
            assert_eq!(ok[i], k.verify(m, s).is_ok(), "signature {i}");
        }
        assert!(verify_groups(&items, &[], 64).is_empty());
    }

    #[test]
    fn a_batch_passes_only_if_every_signature_would() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(9);
        let keys: Vec<SigningKey> = (0..5).map(|_| SigningKey::generate(&mut rng)).collect();
        let msgs: Vec<Vec<u8>> = (0..40u8).map(|i| vec![i; 10 + i as usize]).collect();
        let sigs: Vec<(Signature, PublicKey)> = msgs
            .iter()
            .enumerate()
            .map(|(i, m)| (sign(&keys[i % 5], m), PublicKey::of(&keys[i % 5])))
            .collect();
        let items = |sigs: &[(Signature, PublicKey)]| -> Vec<(Vec<u8>, Signature, PublicKey)> {
            msgs.iter()
                .zip(sigs)
                .map(|(m, (s, k))| (m.clone(), *s, *k))
                .collect()
        };
        let check = |v: &[(Vec<u8>, Signature, PublicKey)]| {
            let refs: Vec<(&[u8], &Signature, &PublicKey)> =
                v.iter().map(|(m, s, k)| (m.as_slice(), s, k)).collect();
            verify_batch(&refs)
        };
        check(&items(&sigs)).unwrap();
        for i in [0, 17, 39] {
            let mut bad = sigs.clone();
            bad[i].0 .0[40] ^= 1;
            assert!(check(&items(&bad)).is_err(), "flipped s of {i}");
            let mut wrong_key = sigs.clone();
            wrong_key[i].1 = PublicKey::of(&keys[(i + 1) % 5]);
            assert!(check(&items(&wrong_key)).is_err(), "wrong key at {i}");
        }
        // A small-order key, or a small-order R, is refused as strict
        // verification refuses it.
        let mut weak = sigs.clone();
        weak[3].1 = PublicKey(SMALL_ORDER_R[1]);
        assert!(check(&items(&weak)).is_err());
        let mut small_r = sigs.clone();
        small_r[3].0 .0[..32].copy_from_slice(&SMALL_ORDER_R[5]);
        assert!(check(&items(&small_r)).is_err());
        verify_batch(&[]).unwrap();
    }

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
