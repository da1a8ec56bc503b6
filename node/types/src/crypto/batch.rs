//! Many signatures at once: one batch equation, bisected on failure.

use super::equation::verify_all;
use super::{PublicKey, Signature};
use crate::error::Result;

/// Verifies `(message, signature, key)` triples together, two to three
/// times as fast per signature as one by one for batches of dozens. `Ok`
/// exactly when [`PublicKey::verify`] accepts every triple (see
/// [`super::equation`] for the one caveat, a 2^-128 chance). On `Err`,
/// verify one by one (or use [`verify_groups`]) to find the culprit.
pub fn verify_batch(items: &[(&[u8], &Signature, &PublicKey)]) -> Result<()> {
    verify_all(items)
}

/// Which groups of signatures verify, in batches of about `batch`
/// signatures. `groups` are consecutive, non-overlapping ranges of `items`
/// (a transaction's signatures, say); a group counts as verified when a
/// batch holding it passes. A failing batch is split in halves by group and
/// each half verified again, so one bad group among n costs about
/// 2·log2(n) smaller batches rather than n one-by-one checks. A group is
/// `true` exactly when [`PublicKey::verify`] accepts each of its
/// signatures.
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
/// use: `identity_bench` on this project's 2-core EPYC VM gives the cost
/// per signature for each batch size.
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
    if verify_all(signatures).is_ok() {
        verified[span].fill(true);
    } else if span.len() > 1 {
        let mid = span.start + span.len() / 2;
        verify_span(items, groups, span.start..mid, verified);
        verify_span(items, groups, mid..span.end, verified);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::{sign, SigningKey};
    use rand::SeedableRng;

    /// The identity's encoding (a small-order key).
    const SMALL_ORDER_1: [u8; 32] = {
        let mut y = [0u8; 32];
        y[0] = 1;
        y
    };
    /// A point of order 8 (a small-order R).
    const ORDER_8_R: [u8; 32] = [
        0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4, 0x89, 0xf2, 0xef, 0x98,
        0xf0, 0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6, 0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53,
        0xfc, 0x05,
    ];

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
        weak[3].1 = PublicKey(SMALL_ORDER_1);
        assert!(check(&items(&weak)).is_err());
        let mut small_r = sigs.clone();
        small_r[3].0 .0[..32].copy_from_slice(&ORDER_8_R);
        assert!(check(&items(&small_r)).is_err());
        verify_batch(&[]).unwrap();
    }
}
