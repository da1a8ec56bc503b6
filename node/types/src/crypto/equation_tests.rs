use super::*;
use crate::crypto::{sign, SigningKey};
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

#[test]
fn the_small_order_list_holds_only_small_order_points() {
    for y in SMALL_ORDER_R.iter().take(3).chain(&SMALL_ORDER_R[5..]) {
        for sign in [0u8, 0x80] {
            let mut enc = *y;
            enc[31] |= sign;
            // Both x signs of each y that decodes are of small order.
            match CompressedEdwardsY(enc).decompress() {
                Some(p) => assert!(p.is_small_order(), "{enc:02x?}"),
                // Every listed y is on the curve.
                None => assert_eq!(sign, 0x80, "{enc:02x?} does not decode"),
            }
            assert!(!acceptable_r(&enc));
        }
    }
    assert!(!acceptable_r(&SMALL_ORDER_R[3]) && !acceptable_r(&SMALL_ORDER_R[4]));
}

#[test]
fn cached_keys_verify_exactly_as_fresh_ones_and_the_cache_stays_bounded() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let key = SigningKey::generate(&mut rng);
    let other = SigningKey::generate(&mut rng);
    let sig = sign(&key, b"m");
    // Twice each: the second call is answered from the cache.
    for _ in 0..2 {
        assert!(PublicKey::of(&key).verify(b"m", &sig).is_ok());
        assert!(PublicKey::of(&key).verify(b"n", &sig).is_err());
        assert!(PublicKey::of(&other).verify(b"m", &sig).is_err());
    }
    // An encoding that is not a point is refused every time, never cached;
    // a small-order key is refused as a bad signature.
    let mut not_a_point = [0u8; 32];
    not_a_point[0] = 2;
    assert!(CompressedEdwardsY(not_a_point).decompress().is_none());
    for _ in 0..2 {
        assert_eq!(
            PublicKey(not_a_point).verify(b"m", &sig),
            Err(Error::BadPublicKey)
        );
        assert_eq!(
            PublicKey(SMALL_ORDER_R[1]).verify(b"m", &sig),
            Err(Error::BadSignature)
        );
    }
    // More distinct keys than the capacity: still correct afterwards.
    for _ in 0..KEY_CACHE_CAPACITY + 10 {
        key_point(&PublicKey::of(&SigningKey::generate(&mut rng))).unwrap();
    }
    assert!(PublicKey::of(&key).verify(b"m", &sig).is_ok());
    assert!(PublicKey::of(&key).verify(b"n", &sig).is_err());
}

/// l, the order of the prime-order subgroup, little-endian.
const ORDER: [u8; 32] = [
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
];

/// ed25519-dalek's strict check, the rule before this one.
fn dalek_strict(msg: &[u8], sig: &Signature, key: &PublicKey) -> bool {
    let Ok(vk) = ed25519_dalek::VerifyingKey::from_bytes(&key.0) else {
        return false;
    };
    vk.verify_strict(msg, &ed25519_dalek::Signature::from_bytes(&sig.0))
        .is_ok()
}

/// ed25519-dalek's batch check, the rule before this one.
fn dalek_batch(items: &[(&[u8], &Signature, &PublicKey)]) -> bool {
    let msgs: Vec<&[u8]> = items.iter().map(|i| i.0).collect();
    let sigs: Vec<_> = items
        .iter()
        .map(|i| ed25519_dalek::Signature::from_bytes(&i.1 .0))
        .collect();
    let keys: Vec<_> = items
        .iter()
        .map(|i| ed25519_dalek::VerifyingKey::from_bytes(&i.2 .0).unwrap())
        .collect();
    ed25519_dalek::verify_batch(&msgs, &sigs, &keys).is_ok()
}

#[test]
fn without_torsion_the_rule_agrees_with_strict_verification() {
    let mut rng = ChaCha8Rng::seed_from_u64(21);
    let keys: Vec<SigningKey> = (0..3).map(|_| SigningKey::generate(&mut rng)).collect();
    for round in 0..200usize {
        let key = &keys[round % 3];
        let mut msg = vec![0u8; round % 50];
        rng.fill_bytes(&mut msg);
        let mut sig = sign(key, &msg);
        let mut pk = PublicKey::of(key);
        match round % 5 {
            0 => {}
            1 => sig.0[(rng.next_u32() % 64) as usize] ^= 1 << (rng.next_u32() % 8),
            2 if !msg.is_empty() => msg[0] ^= 0x20,
            3 => pk = PublicKey::of(&keys[(round + 1) % 3]),
            // s + l: the same value, not canonical.
            4 => {
                let s = Scalar::from_canonical_bytes(sig.0[32..].try_into().unwrap()).unwrap();
                let mut wide = [0u8; 33];
                let l = ORDER;
                let mut carry = 0u16;
                for i in 0..32 {
                    let v = s.as_bytes()[i] as u16 + l[i] as u16 + carry;
                    wide[i] = v as u8;
                    carry = v >> 8;
                }
                sig.0[32..].copy_from_slice(&wide[..32]);
            }
            _ => {}
        }
        let ours = verify_one(&msg, &sig, &pk).is_ok();
        assert_eq!(ours, dalek_strict(&msg, &sig, &pk), "round {round}");
        assert_eq!(ours, verify_all(&[(&msg, &sig, &pk)]).is_ok());
    }
}

/// An order-8 point.
fn torsion() -> EdwardsPoint {
    let t = CompressedEdwardsY(SMALL_ORDER_R[5]).decompress().unwrap();
    assert!(t.is_small_order() && !t.is_identity());
    t
}

fn random_scalar(rng: &mut ChaCha8Rng) -> Scalar {
    let mut wide = [0u8; 64];
    rng.fill_bytes(&mut wide);
    Scalar::from_bytes_mod_order_wide(&wide)
}

/// Signs with secret scalar `a` under the (possibly torsioned) key
/// `a_point`, adding `t` to R: what a hostile signer can make.
fn sign_raw(
    a: &Scalar,
    a_point: &EdwardsPoint,
    t: &EdwardsPoint,
    msg: &[u8],
    rng: &mut ChaCha8Rng,
) -> (Signature, PublicKey) {
    let r = random_scalar(rng);
    let big_r = (EdwardsPoint::mul_base(&r) + t).compress().to_bytes();
    let key = a_point.compress().to_bytes();
    let hash: [u8; 64] = Sha512::new()
        .chain_update(big_r)
        .chain_update(key)
        .chain_update(msg)
        .finalize()
        .into();
    let s = r + Scalar::from_bytes_mod_order_wide(&hash) * a;
    let mut sig = [0u8; 64];
    sig[..32].copy_from_slice(&big_r);
    sig[32..].copy_from_slice(s.as_bytes());
    (Signature(sig), PublicKey(key))
}

#[test]
fn torsion_in_r_or_in_the_key_gets_one_verdict_alone_and_in_every_batch() {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let t = torsion();
    let a = random_scalar(&mut rng);
    let honest_key = EdwardsPoint::mul_base(&a);
    let identity = EdwardsPoint::mul_base(&Scalar::ZERO);
    // R with a torsion component; a key with one; both.
    let kinds = [
        (honest_key, t, b"r".as_slice()),
        (honest_key + t, identity, b"a"),
        (honest_key + t, t + t, b"ra"),
    ];
    for (signer, r_torsion, msg) in kinds {
        // The cofactorless rule refuses such a signature unless k happens
        // to cancel the torsion (one in eight): take one it refuses.
        let (sig, key) = (0..64)
            .map(|_| sign_raw(&a, &signer, &r_torsion, msg, &mut rng))
            .find(|(sig, key)| !dalek_strict(msg, sig, key))
            .unwrap();
        let (sig, key) = (&sig, &key);
        // This rule accepts it, alone...
        verify_one(msg, sig, key).unwrap();
        // ...and in every batch, whatever its coefficients.
        let honest: Vec<(Vec<u8>, Signature, PublicKey)> = (0..40u8)
            .map(|i| {
                let k = SigningKey::generate(&mut rng);
                let m = vec![i; 9];
                (m.clone(), sign(&k, &m), PublicKey::of(&k))
            })
            .collect();
        let mut old_rule_accepts = 0;
        for n in 0..honest.len() {
            let mut items: Vec<(&[u8], &Signature, &PublicKey)> = honest[..n]
                .iter()
                .map(|(m, s, k)| (m.as_slice(), s, k))
                .collect();
            items.insert(n / 2, (msg, sig, key));
            verify_all(&items).unwrap();
            old_rule_accepts += usize::from(dalek_batch(&items));
        }
        // The bug this rule fixes: under the cofactorless batch check the
        // same signature passed in some batches and failed in others.
        assert!(
            old_rule_accepts > 0 && old_rule_accepts < honest.len(),
            "{old_rule_accepts} of {}",
            honest.len()
        );
    }
    // Moving R by a torsion point after signing breaks k: refused alone
    // and in batches.
    let (mut sig, key) = sign_raw(&a, &honest_key, &identity, b"m", &mut rng);
    let r = CompressedEdwardsY(sig.0[..32].try_into().unwrap())
        .decompress()
        .unwrap();
    sig.0[..32].copy_from_slice((r + t).compress().as_bytes());
    assert!(verify_one(b"m", &sig, &key).is_err());
    assert!(verify_all(&[(b"m", &sig, &key)]).is_err());
}

#[test]
fn a_batch_with_one_bad_signature_fails_whatever_its_size() {
    let mut rng = ChaCha8Rng::seed_from_u64(8);
    let keys: Vec<SigningKey> = (0..4).map(|_| SigningKey::generate(&mut rng)).collect();
    let signed: Vec<(Vec<u8>, Signature, PublicKey)> = (0..300u32)
        .map(|i| {
            let k = &keys[i as usize % 4];
            let m = i.to_le_bytes().to_vec();
            (m.clone(), sign(k, &m), PublicKey::of(k))
        })
        .collect();
    for n in [1usize, 2, 7, 64, 300] {
        let items: Vec<(&[u8], &Signature, &PublicKey)> = signed[..n]
            .iter()
            .map(|(m, s, k)| (m.as_slice(), s, k))
            .collect();
        verify_all(&items).unwrap();
        for bad in [0, n / 2, n - 1] {
            let other = signed[(bad + 1) % n].1;
            let mut forged = items.clone();
            forged[bad].1 = &other;
            if n > 1 {
                assert!(verify_all(&forged).is_err(), "n {n}, bad {bad}");
            }
        }
    }
    verify_all(&[]).unwrap();
}

#[test]
fn coefficients_are_four_per_hash_and_do_not_depend_on_the_count() {
    let seed = [7u8; 64];
    let five = coefficients(&seed, 5);
    assert_eq!(five.len(), 5);
    assert_eq!(coefficients(&seed, 3), five[..3]);
    assert!(coefficients(&seed, 0).is_empty());
    // The fifth comes from the second hash: 16 bytes of SHA-512(seed || 1).
    let hash = Sha512::new()
        .chain_update(seed)
        .chain_update(1u64.to_le_bytes())
        .finalize();
    let mut z = [0u8; 32];
    z[..16].copy_from_slice(&hash[..16]);
    assert_eq!(five[4], Scalar::from_bytes_mod_order(z));
}
