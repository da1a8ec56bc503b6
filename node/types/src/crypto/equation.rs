//! The verification equation, for one signature and for a batch.
//!
//! A signature `(R, s)` by key `A` over message `M` is valid when
//!
//! ```text
//! [8]([s]B - R - [k]A) = 0,   k = SHA-512(R || A || M) mod l
//! ```
//!
//! with `s` canonical (`s < l`), `R` canonically encoded and not of small
//! order, and `A` a point not of small order. This is the cofactored
//! equation of ZIP-215 with RFC 8032's strict encodings.
//!
//! Why cofactored: a batch check multiplies each signature's equation by a
//! coefficient `z_i` and adds them up. Under the cofactorless equation
//! (`[s]B = R + [k]A`, what `verify_strict` checks) a signature whose `R`
//! carries a torsion component fails alone, yet passes in any batch whose
//! `z_i` is a multiple of that component's order: one batch in eight. Its
//! verdict would then depend on which batch it was checked in, and two
//! peers that checked it in different batches (one at its gateway, one at
//! commit) would disagree on a validation code. Under the cofactored
//! equation the torsion drops out of both checks: a batch passes exactly
//! when every signature in it would pass alone, except with probability
//! about 2^-128 for a batch holding a failing signature (its coefficients
//! are 128-bit values derived from the whole batch, so they cannot be
//! chosen). Every signature an honest ed25519 signer makes satisfies both
//! equations.

use super::{PublicKey, Signature};
use crate::error::{Error, Result};
use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::{IsIdentity, VartimeMultiscalarMul};
use sha2::{Digest as _, Sha512};
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

/// Verifies one signature (see the module documentation).
pub(super) fn verify_one(msg: &[u8], sig: &Signature, key: &PublicKey) -> Result<()> {
    let a = key_point(key)?;
    let p = parts(msg, sig, key)?;
    // [s]B - [k]A - R
    let residue = EdwardsPoint::vartime_double_scalar_mul_basepoint(&p.k, &-a, &p.s) - p.r;
    if residue.mul_by_cofactor().is_identity() {
        Ok(())
    } else {
        Err(Error::BadSignature)
    }
}

/// Verifies `(message, signature, key)` triples together: `Ok` exactly
/// when [`verify_one`] would accept each of them (but for the 2^-128
/// chance in the module documentation). Signatures by the same key share
/// one term of the multiscalar multiplication, so a batch of n signatures
/// by a few keys costs about n + 1 point multiplications, not 2n + 1.
pub(super) fn verify_all(items: &[(&[u8], &Signature, &PublicKey)]) -> Result<()> {
    match items {
        [] => return Ok(()),
        // Alone, the basepoint's precomputed table makes the single check
        // cheaper (`identity_bench`: 50.4 µs as a batch of one, 42.6 µs).
        [(msg, sig, key)] => return verify_one(msg, sig, key),
        _ => {}
    }
    let mut all = Vec::with_capacity(items.len());
    let mut transcript = Sha512::new_with_prefix(b"cryptanet ed25519 batch v1");
    transcript.update((items.len() as u64).to_le_bytes());
    for (msg, sig, key) in items {
        let a = key_point(key)?;
        let p = parts(msg, sig, key)?;
        // The coefficients depend on every signature, key and message
        // (through k) of the batch.
        transcript.update(sig.0);
        transcript.update(key.0);
        transcript.update(p.k.as_bytes());
        all.push((p, a, key.0));
    }
    let seed: [u8; 64] = transcript.finalize().into();

    // [-sum z_i s_i]B + sum [z_i]R_i + sum over keys [sum z_i k_i]A
    let mut b_coefficient = Scalar::ZERO;
    let mut scalars = Vec::with_capacity(all.len() + 8);
    let mut points = Vec::with_capacity(all.len() + 8);
    let mut key_terms: HashMap<[u8; 32], usize> = HashMap::new();
    let mut key_scalars: Vec<Scalar> = Vec::new();
    let mut key_points: Vec<EdwardsPoint> = Vec::new();
    for ((p, a, key), z) in all.iter().zip(coefficients(&seed, all.len())) {
        b_coefficient -= z * p.s;
        scalars.push(z);
        points.push(p.r);
        let term = *key_terms.entry(*key).or_insert_with(|| {
            key_scalars.push(Scalar::ZERO);
            key_points.push(*a);
            key_points.len() - 1
        });
        key_scalars[term] += z * p.k;
    }
    scalars.push(b_coefficient);
    points.push(curve25519_dalek::constants::ED25519_BASEPOINT_POINT);
    scalars.extend(key_scalars);
    points.extend(key_points);
    let sum = EdwardsPoint::vartime_multiscalar_mul(&scalars, &points);
    if sum.mul_by_cofactor().is_identity() {
        Ok(())
    } else {
        Err(Error::BadSignature)
    }
}

/// The batch coefficients, 128 bits each: coefficient `i` is 16 bytes of
/// SHA-512(seed || i / 4), so one hash yields four of them.
fn coefficients(seed: &[u8; 64], n: usize) -> Vec<Scalar> {
    let mut out = Vec::with_capacity(n);
    for block in 0..n.div_ceil(4) {
        let hash = Sha512::new()
            .chain_update(seed)
            .chain_update((block as u64).to_le_bytes())
            .finalize();
        for chunk in hash.chunks_exact(16).take(n - out.len()) {
            let mut z = [0u8; 32];
            z[..16].copy_from_slice(chunk);
            out.push(Scalar::from_bytes_mod_order(z));
        }
    }
    out
}

/// A signature's `R` and `s`, checked for encoding, and its `k`.
struct Parts {
    r: EdwardsPoint,
    s: Scalar,
    k: Scalar,
}

fn parts(msg: &[u8], sig: &Signature, key: &PublicKey) -> Result<Parts> {
    let mut r_bytes = [0u8; 32];
    r_bytes.copy_from_slice(&sig.0[..32]);
    let mut s_bytes = [0u8; 32];
    s_bytes.copy_from_slice(&sig.0[32..]);
    if !acceptable_r(&r_bytes) {
        return Err(Error::BadSignature);
    }
    let r = CompressedEdwardsY(r_bytes)
        .decompress()
        .ok_or(Error::BadSignature)?;
    let s =
        Option::<Scalar>::from(Scalar::from_canonical_bytes(s_bytes)).ok_or(Error::BadSignature)?;
    let hash: [u8; 64] = Sha512::new()
        .chain_update(r_bytes)
        .chain_update(key.0)
        .chain_update(msg)
        .finalize()
        .into();
    let k = Scalar::from_bytes_mod_order_wide(&hash);
    Ok(Parts { r, s, k })
}

/// Encodings (sign bit cleared) of the small-order points of edwards25519
/// and their non-canonical aliases: a signature whose `R` is one of them is
/// refused (libsodium keeps the same list).
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
fn acceptable_r(r: &[u8; 32]) -> bool {
    let mut y = *r;
    y[31] &= 0x7f;
    // p = 2^255 - 19: y >= p iff the top 31 bytes are all ones (0x7f in the
    // last) and the first byte is at least 0xed.
    let non_canonical = y[31] == 0x7f && y[1..31].iter().all(|&b| b == 0xff) && y[0] >= 0xed;
    !non_canonical && !SMALL_ORDER_R.contains(&y)
}

/// Keys kept decompressed by [`key_point`]; beyond this many distinct
/// keys the cache starts over (a network has a few dozen).
const KEY_CACHE_CAPACITY: usize = 4096;

/// The point of `key`, remembered: `Err(BadPublicKey)` if it is not a
/// point, `Err(BadSignature)` if it is of small order. Decompressing a
/// point is a field square root, about a third of a batched verification's
/// cost per signature, and peers verify signatures of the same few member
/// keys over and over. Only valid points are cached; memory stays bounded.
fn key_point(key: &PublicKey) -> Result<EdwardsPoint> {
    static CACHE: OnceLock<Mutex<HashMap<[u8; 32], EdwardsPoint>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Mutex::default);
    if let Some(a) = cache.lock().ok().and_then(|c| c.get(&key.0).copied()) {
        return Ok(a);
    }
    let a = CompressedEdwardsY(key.0)
        .decompress()
        .ok_or(Error::BadPublicKey)?;
    if a.is_small_order() {
        return Err(Error::BadSignature);
    }
    if let Ok(mut c) = cache.lock() {
        if c.len() >= KEY_CACHE_CAPACITY {
            c.clear();
        }
        c.insert(key.0, a);
    }
    Ok(a)
}

#[cfg(test)]
#[path = "equation_tests.rs"]
mod tests;
