//! Model activations: which installed detection model scores the readings
//! of a product class.
//!
//! Models follow the chaincode lifecycle's rules ([`super::rules`]): the
//! model bytes are installed on each endorsing peer (addressed by their
//! SHA3-256), each org approves a [`ModelDefinition`] (class, model hash,
//! sequence), and once a strict majority approved exactly it, anyone's admin
//! activates it with a `_lifecycle` transaction.
//!
//! Chaincode asks `detect(class, features)`. During an invocation,
//! [`ActiveModels`] resolves the class to the active model's hash by reading
//! `model/<class>` from `_lifecycle` — a recorded read, so a transaction
//! endorsed under one model and committed after another was activated fails
//! MVCC instead of carrying a stale verdict. A class with no activation
//! falls through to the detector unchanged (the built-in `cold-chain`
//! model, or a model named by hash).

use super::definition::is_valid_name;
use super::rules::{query_definition, read_committed, Definition};
use crate::detector::Detector;
use crate::error::{Error, Result};
use crate::simulator::TxSimulator;
use crate::state::StateView;
use serde::{Deserialize, Serialize};
use std::sync::{Arc, Mutex};

/// What orgs approve and activate: the model scoring a product class.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelDefinition {
    /// Product class (the name chaincode passes to `detect`).
    pub class: String,
    /// Lower-case hex SHA3-256 of the model's canonical bytes.
    pub model_hash: String,
    /// 1 for the first activation, +1 for every change.
    pub sequence: u64,
}

impl Definition for ModelDefinition {
    const COMMITTED: &'static str = "model";
    const APPROVAL: &'static str = "model-approval";
    const WHAT: &'static str = "model class";
    fn name(&self) -> &str {
        &self.class
    }
    fn sequence(&self) -> u64 {
        self.sequence
    }
    fn check(&self) -> Result<()> {
        if !is_valid_name(&self.class) {
            return Err(Error::InvalidDefinition {
                reason:
                    "product class must be alphanumeric runs joined by '-' or '_', at most 64 bytes",
            });
        }
        if !is_model_hash(&self.model_hash) {
            return Err(Error::InvalidDefinition {
                reason: "model hash must be 64 lower-case hex digits",
            });
        }
        if self.sequence == 0 {
            return Err(Error::InvalidDefinition {
                reason: "sequence starts at 1",
            });
        }
        Ok(())
    }
}

/// Whether `s` is a lower-case hex SHA3-256.
pub fn is_model_hash(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f'))
}

/// The active model of `class`, if one was activated.
pub fn query_active_model(view: &dyn StateView, class: &str) -> Result<Option<ModelDefinition>> {
    query_definition(view, class)
}

/// A [`Detector`] for one invocation that resolves product classes to their
/// active model, recording each `model/<class>` read in the invocation's
/// `_lifecycle` simulator.
pub(crate) struct ActiveModels<V> {
    lifecycle: Mutex<Option<TxSimulator<V>>>,
    inner: Arc<dyn Detector>,
}

impl<V: StateView> ActiveModels<V> {
    /// Wraps `inner`, recording reads in `lifecycle`.
    pub(crate) fn new(lifecycle: TxSimulator<V>, inner: Arc<dyn Detector>) -> Self {
        ActiveModels {
            lifecycle: Mutex::new(Some(lifecycle)),
            inner,
        }
    }

    /// Takes the simulator out (the detector is shared with the runtime).
    pub(crate) fn take_lifecycle(&self) -> Option<TxSimulator<V>> {
        self.lifecycle
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
    }
}

impl<V: StateView> Detector for ActiveModels<V> {
    fn detect(&self, model: &[u8], features: &[u8]) -> Result<Vec<u8>> {
        let class = std::str::from_utf8(model).ok().filter(|c| is_valid_name(c));
        let active = match class {
            Some(class) => {
                let mut guard = self.lifecycle.lock().unwrap_or_else(|e| e.into_inner());
                match guard.as_mut() {
                    Some(sim) => read_committed::<ModelDefinition, V>(sim, class)?,
                    None => None,
                }
            }
            None => None,
        };
        match active {
            Some(def) => self.inner.detect(def.model_hash.as_bytes(), features),
            None => self.inner.detect(model, features),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::lifecycle::rules::{approve_for_my_org, commit};
    use crate::lifecycle::LIFECYCLE_NS;
    use crate::state::MemoryState;
    use cryptanet_types::{Digest, TxRwSet, Version};

    /// Echoes the model name it was asked for.
    struct Echo;
    impl Detector for Echo {
        fn detect(&self, model: &[u8], _: &[u8]) -> Result<Vec<u8>> {
            Ok(model.to_vec())
        }
    }

    fn def(sequence: u64, hash_of: &[u8]) -> ModelDefinition {
        ModelDefinition {
            class: "cold-chain".into(),
            model_hash: Digest::of(hash_of).to_hex(),
            sequence,
        }
    }

    fn orgs() -> Vec<String> {
        ["Org1", "Org2", "Org3", "Org4"].map(String::from).to_vec()
    }

    fn apply(state: &mut MemoryState, ns: cryptanet_types::NsRwSet, block: u64) {
        state.apply(
            &TxRwSet { ns: vec![ns] },
            Version::new(block, 0),
            Digest::of(&block.to_le_bytes()),
        );
    }

    fn activate(state: &mut MemoryState, d: &ModelDefinition, block: &mut u64) {
        for org in ["Org1", "Org2", "Org3"] {
            *block += 1;
            let rw = approve_for_my_org(&*state, org, d).unwrap();
            apply(state, rw, *block);
        }
        *block += 1;
        let rw = commit(&*state, &orgs(), d).unwrap();
        apply(state, rw, *block);
    }

    #[test]
    fn activation_needs_a_majority_and_the_next_sequence() {
        let mut state = MemoryState::new();
        let d = def(1, b"m1");
        let rw = approve_for_my_org(&state, "Org1", &d).unwrap();
        assert_eq!(
            std::str::from_utf8(&rw.writes[0].key).unwrap(),
            "model-approval/cold-chain/00000000000000000001/Org1"
        );
        apply(&mut state, rw, 1);
        match commit(&state, &orgs(), &d) {
            Err(Error::NotEnoughApprovals {
                what: "model class",
                approved: 1,
                required: 3,
                ..
            }) => {}
            other => panic!("{other:?}"),
        }
        let mut block = 1;
        activate(&mut state, &d, &mut block);
        assert_eq!(query_active_model(&state, "cold-chain").unwrap(), Some(d));
        assert!(matches!(
            approve_for_my_org(&state, "Org1", &def(1, b"m2")),
            Err(Error::WrongSequence { expected: 2, .. })
        ));
    }

    #[test]
    fn malformed_definitions_are_refused() {
        let state = MemoryState::new();
        for bad in [
            ModelDefinition {
                class: "_lifecycle".into(),
                ..def(1, b"m")
            },
            ModelDefinition {
                model_hash: "ABC".into(),
                ..def(1, b"m")
            },
            ModelDefinition {
                model_hash: Digest::of(b"m").to_hex().to_uppercase(),
                ..def(1, b"m")
            },
            def(0, b"m"),
        ] {
            assert!(
                matches!(
                    approve_for_my_org(&state, "Org1", &bad),
                    Err(Error::InvalidDefinition { .. })
                ),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn detect_resolves_the_active_model_and_records_the_read() {
        let mut state = MemoryState::new();
        let view: Arc<dyn StateView> = Arc::new(state.clone());
        let models = ActiveModels::new(TxSimulator::new(view, LIFECYCLE_NS), Arc::new(Echo));
        // Nothing active: the class goes through unchanged, the absence is read.
        assert_eq!(models.detect(b"cold-chain", b"f").unwrap(), b"cold-chain");
        let rw = models.take_lifecycle().unwrap().into_rwset();
        assert_eq!(rw.reads.len(), 1);
        assert_eq!(rw.reads[0].key, b"model/cold-chain");
        assert_eq!(rw.reads[0].version, None);

        let d = def(1, b"m1");
        let mut block = 0;
        activate(&mut state, &d, &mut block);
        let view: Arc<dyn StateView> = Arc::new(state);
        let models = ActiveModels::new(TxSimulator::new(view, LIFECYCLE_NS), Arc::new(Echo));
        assert_eq!(
            models.detect(b"cold-chain", b"f").unwrap(),
            d.model_hash.as_bytes()
        );
        // Names that cannot be classes are passed on without a read.
        assert_eq!(models.detect(b"not a class", b"f").unwrap(), b"not a class");
        let rw = models.take_lifecycle().unwrap().into_rwset();
        assert_eq!(rw.reads.len(), 1);
        assert_eq!(rw.reads[0].version, Some(Version::new(block, 0)));
    }
}
