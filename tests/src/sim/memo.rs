//! A memoising signature check shared by the replicas of one run.
//!
//! Every broadcast is verified by n - 1 replicas; in one process that is the
//! same computation repeated. [`MemoCheck`] calls `PublicKey::verify` (via
//! [`Strict`]) once per distinct (key, bytes, signature) triple and
//! remembers successes. Any forged or tampered message differs in bytes or
//! signature, so it is always checked for real.

use cryptanet_pbft::{SignatureCheck, Strict};
use cryptanet_types::{Digest, PublicKey, Signature};
use std::collections::HashSet;
use std::sync::Mutex;

/// Remembers verified (key, bytes, signature) triples.
#[derive(Default)]
pub struct MemoCheck {
    verified: Mutex<HashSet<Digest>>,
}

impl SignatureCheck for MemoCheck {
    fn check(&self, key: &PublicKey, bytes: &[u8], signature: &Signature) -> bool {
        let id = Digest::of_parts(&[&key.0, &signature.0, bytes]);
        if let Ok(seen) = self.verified.lock() {
            if seen.contains(&id) {
                return true;
            }
        }
        let ok = Strict.check(key, bytes, signature);
        if ok {
            if let Ok(mut seen) = self.verified.lock() {
                seen.insert(id);
            }
        }
        ok
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use cryptanet_types::crypto::{sign, SigningKey};
    use rand::SeedableRng;

    #[test]
    fn memo_agrees_with_strict_on_good_and_bad_signatures() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        let k = SigningKey::generate(&mut rng);
        let pk = PublicKey::of(&k);
        let sig = sign(&k, b"m");
        let memo = MemoCheck::default();
        for _ in 0..2 {
            assert!(memo.check(&pk, b"m", &sig));
            assert!(!memo.check(&pk, b"n", &sig));
            let mut bad = sig;
            bad.0[0] ^= 1;
            assert!(!memo.check(&pk, b"m", &bad));
        }
    }
}
