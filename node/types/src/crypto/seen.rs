//! Signatures this process has already verified, or made, remembered until
//! it meets them again.
//!
//! A transaction's signatures pass through a peer twice: its gateway checks
//! the endorsements it gathers and the envelope it is handed, and an
//! endorsing peer makes its own endorsement; then each of them checks the
//! same signatures again when the block commits. [`remember`] records a
//! signature after the first check; [`recall`] at commit answers from the
//! record, by comparing the exact message, signature and key bytes (no
//! hash that could collide), and forgets it.
//!
//! This changes no verdict: every check in [`super`] applies one rule, so
//! a remembered signature is one that [`super::PublicKey::verify`] accepts.
//! Memory is bounded: two generations of at most [`GENERATION`] entries;
//! when the newer fills, the older is dropped. A signature forgotten that
//! way is simply verified again.

use super::{PublicKey, Signature};
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

/// Entries per generation. A peer remembers about one signature per
/// transaction it submits or endorses and recalls it about a second later;
/// 8,192 covers several seconds at thousands of transactions per second,
/// in at most about 2 × 8,192 × 3.5 kB of messages.
pub const GENERATION: usize = 8192;

struct Entry {
    key: PublicKey,
    msg: Box<[u8]>,
}

/// A bounded memory of verified signatures; the process has one
/// ([`remember`], [`recall`]).
pub struct Seen {
    generation: usize,
    memory: Mutex<Generations>,
}

#[derive(Default)]
struct Generations {
    newer: HashMap<[u8; 64], Entry>,
    older: HashMap<[u8; 64], Entry>,
}

impl Seen {
    /// An empty memory of two generations of `generation` entries.
    pub fn new(generation: usize) -> Seen {
        Seen {
            generation: generation.max(1),
            memory: Mutex::default(),
        }
    }

    /// Records that `sig` by `key` over exactly `msg` verifies.
    pub fn remember(&self, msg: &[u8], sig: &Signature, key: &PublicKey) {
        let Ok(mut m) = self.memory.lock() else {
            return;
        };
        if m.newer.len() >= self.generation {
            m.older = std::mem::take(&mut m.newer);
        }
        let entry = Entry {
            key: *key,
            msg: msg.into(),
        };
        m.newer.insert(sig.0, entry);
    }

    /// True if `sig` by `key` over exactly `msg` is remembered; the record
    /// is then forgotten.
    pub fn recall(&self, msg: &[u8], sig: &Signature, key: &PublicKey) -> bool {
        let Ok(mut m) = self.memory.lock() else {
            return false;
        };
        let matches = |e: &Entry| e.key == *key && *e.msg == *msg;
        let m = &mut *m;
        for generation in [&mut m.newer, &mut m.older] {
            if generation.get(&sig.0).is_some_and(matches) {
                generation.remove(&sig.0);
                return true;
            }
        }
        false
    }

    /// Entries held (at most twice the generation).
    pub fn len(&self) -> usize {
        self.memory
            .lock()
            .map_or(0, |m| m.newer.len() + m.older.len())
    }

    /// True if nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn process() -> &'static Seen {
    static SEEN: OnceLock<Seen> = OnceLock::new();
    SEEN.get_or_init(|| Seen::new(GENERATION))
}

/// Records in the process's memory that `sig` by `key` over exactly `msg`
/// verifies. Call it only after [`super::PublicKey::verify`] (or a batch
/// check) accepted it, or for a signature this process made.
pub fn remember(msg: &[u8], sig: &Signature, key: &PublicKey) {
    process().remember(msg, sig, key);
}

/// True if the process remembers `sig` by `key` over exactly `msg` (see
/// [`Seen::recall`]).
pub fn recall(msg: &[u8], sig: &Signature, key: &PublicKey) -> bool {
    process().recall(msg, sig, key)
}

/// [`super::verify_each`], remembering every signature that verifies.
pub fn verify_each_and_remember(items: &[(&[u8], &Signature, &PublicKey)]) -> Vec<bool> {
    let ok = super::verify_each(items);
    for ((msg, sig, key), ok) in items.iter().zip(&ok) {
        if *ok {
            remember(msg, sig, key);
        }
    }
    ok
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::{sign, SigningKey};
    use rand::SeedableRng;

    #[test]
    fn only_the_exact_bytes_are_recalled_and_only_once() {
        let seen = Seen::new(16);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(4);
        let key = SigningKey::generate(&mut rng);
        let other = PublicKey::of(&SigningKey::generate(&mut rng));
        let pk = PublicKey::of(&key);
        let sig = sign(&key, b"seen once");
        seen.remember(b"seen once", &sig, &pk);
        // Another message or key with the same signature bytes: no.
        assert!(!seen.recall(b"seen twice", &sig, &pk));
        assert!(!seen.recall(b"seen once", &sig, &other));
        assert!(!seen.recall(b"seen onc", &sig, &pk));
        let mut flipped = sig;
        flipped.0[63] ^= 1;
        assert!(!seen.recall(b"seen once", &flipped, &pk));
        // The exact triple: yes, once.
        assert!(seen.recall(b"seen once", &sig, &pk));
        assert!(!seen.recall(b"seen once", &sig, &pk));
        assert!(seen.is_empty());
    }

    #[test]
    fn verify_each_remembers_only_what_verifies() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(6);
        let key = SigningKey::generate(&mut rng);
        let pk = PublicKey::of(&key);
        let good = sign(&key, b"good");
        let mut bad = sign(&key, b"bad");
        bad.0[40] ^= 1;
        let ok = verify_each_and_remember(&[(b"good", &good, &pk), (b"bad", &bad, &pk)]);
        assert_eq!(ok, [true, false]);
        assert!(!recall(b"bad", &bad, &pk));
        assert!(recall(b"good", &good, &pk));
    }

    #[test]
    fn memory_stays_within_two_generations() {
        let seen = Seen::new(4);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let key = SigningKey::generate(&mut rng);
        let pk = PublicKey::of(&key);
        let sigs: Vec<Signature> = (0..9u8).map(|i| sign(&key, &[i])).collect();
        for (i, sig) in sigs.iter().enumerate() {
            seen.remember(&[i as u8], sig, &pk);
            assert!(seen.len() <= 8);
        }
        // The first generation is gone (its signatures would simply be
        // verified again); the last two are held.
        assert!(!seen.recall(&[0], &sigs[0], &pk));
        assert!(!seen.recall(&[3], &sigs[3], &pk));
        for i in 4..9u8 {
            assert!(seen.recall(&[i], &sigs[i as usize], &pk), "{i}");
        }
    }
}
