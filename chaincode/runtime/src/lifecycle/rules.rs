//! The `_lifecycle` rules as pure functions over committed state.
//!
//! Two kinds of definition follow the same rules ([`Definition`]):
//! chaincode definitions and model activations. State layout in the
//! `_lifecycle` namespace:
//!
//! * `definition/<name>` — the committed [`ChaincodeDefinition`];
//! * `approval/<name>/<sequence, 20 digits>/<org>` — what `org` approved for
//!   that sequence;
//! * `model/<class>` — the active [`super::ModelDefinition`] of a product
//!   class;
//! * `model-approval/<class>/<sequence, 20 digits>/<org>` — likewise.
//!
//! Each transaction function returns the [`NsRwSet`] it produces; reads are
//! recorded, so a concurrent lifecycle transaction invalidates it at MVCC.

use super::definition::{is_valid_org, ChaincodeDefinition};
use super::LIFECYCLE_NS;
use crate::error::{Error, Result};
use crate::simulator::TxSimulator;
use crate::state::StateView;
use cryptanet_types::{codec, NsRwSet};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// Something orgs approve one by one and a majority commits, with a
/// sequence that advances by one per change.
pub trait Definition: Serialize + DeserializeOwned + PartialEq {
    /// Key prefix of the committed definition (`<prefix>/<name>`).
    const COMMITTED: &'static str;
    /// Key prefix of approvals (`<prefix>/<name>/<sequence>/<org>`).
    const APPROVAL: &'static str;
    /// What is defined, for messages ("chaincode", "model class").
    const WHAT: &'static str;
    /// The defined name (chaincode name, product class).
    fn name(&self) -> &str;
    /// 1 for the first definition, +1 for every change.
    fn sequence(&self) -> u64;
    /// Checks every field.
    fn check(&self) -> Result<()>;
}

impl Definition for ChaincodeDefinition {
    const COMMITTED: &'static str = "definition";
    const APPROVAL: &'static str = "approval";
    const WHAT: &'static str = "chaincode";
    fn name(&self) -> &str {
        &self.name
    }
    fn sequence(&self) -> u64 {
        self.sequence
    }
    fn check(&self) -> Result<()> {
        self.validate().map(|_| ())
    }
}

fn definition_key<D: Definition>(name: &str) -> Vec<u8> {
    format!("{}/{name}", D::COMMITTED).into_bytes()
}

fn approval_key<D: Definition>(name: &str, sequence: u64, org: &str) -> Vec<u8> {
    format!("{}/{name}/{sequence:020}/{org}", D::APPROVAL).into_bytes()
}

fn committed<D: Definition, V: StateView>(
    sim: &mut TxSimulator<V>,
    name: &str,
) -> Result<Option<D>> {
    match sim.get(&definition_key::<D>(name))? {
        Some(bytes) => Ok(Some(codec::decode(&bytes)?)),
        None => Ok(None),
    }
}

fn check_next_sequence<D: Definition, V: StateView>(
    sim: &mut TxSimulator<V>,
    def: &D,
) -> Result<()> {
    let current = committed::<D, V>(sim, def.name())?.map_or(0, |d| d.sequence());
    if def.sequence() != current + 1 {
        return Err(Error::WrongSequence {
            what: D::WHAT,
            name: def.name().to_owned(),
            expected: current + 1,
            got: def.sequence(),
        });
    }
    Ok(())
}

/// `org` approves `def` for the next sequence. Approving again before
/// commit replaces the org's earlier approval.
pub fn approve_for_my_org<D: Definition>(
    view: &dyn StateView,
    org: &str,
    def: &D,
) -> Result<NsRwSet> {
    def.check()?;
    if !is_valid_org(org) {
        return Err(Error::InvalidDefinition {
            reason: "bad org MSP id",
        });
    }
    let mut sim = TxSimulator::new(view, LIFECYCLE_NS);
    check_next_sequence(&mut sim, def)?;
    sim.put(
        &approval_key::<D>(def.name(), def.sequence(), org),
        &codec::encode(def)?,
    )?;
    Ok(sim.into_rwset())
}

/// Which of `orgs` approved exactly `def`, in sorted org order.
pub fn check_commit_readiness<D: Definition>(
    view: &dyn StateView,
    orgs: &[String],
    def: &D,
) -> Result<Vec<(String, bool)>> {
    let mut sim = TxSimulator::new(view, LIFECYCLE_NS);
    readiness(&mut sim, orgs, def)
}

fn readiness<D: Definition, V: StateView>(
    sim: &mut TxSimulator<V>,
    orgs: &[String],
    def: &D,
) -> Result<Vec<(String, bool)>> {
    let mut orgs: Vec<&String> = orgs.iter().collect();
    orgs.sort();
    orgs.dedup();
    orgs.into_iter()
        .map(|org| {
            let approved = match sim.get(&approval_key::<D>(def.name(), def.sequence(), org))? {
                Some(bytes) => codec::decode::<D>(&bytes).ok().as_ref() == Some(def),
                None => false,
            };
            Ok((org.clone(), approved))
        })
        .collect()
}

/// Commits `def` when a strict majority of the channel's `orgs` approved
/// exactly it for the next sequence.
pub fn commit<D: Definition>(view: &dyn StateView, orgs: &[String], def: &D) -> Result<NsRwSet> {
    def.check()?;
    if orgs.is_empty() || !orgs.iter().all(|o| is_valid_org(o)) {
        return Err(Error::InvalidDefinition {
            reason: "channel orgs must be valid MSP ids",
        });
    }
    let mut sim = TxSimulator::new(view, LIFECYCLE_NS);
    check_next_sequence(&mut sim, def)?;
    let status = readiness(&mut sim, orgs, def)?;
    let approved = status.iter().filter(|(_, ok)| *ok).count();
    let required = status.len() / 2 + 1;
    if approved < required {
        return Err(Error::NotEnoughApprovals {
            what: D::WHAT,
            name: def.name().to_owned(),
            approved,
            orgs: status.len(),
            required,
        });
    }
    sim.put(&definition_key::<D>(def.name()), &codec::encode(def)?)?;
    Ok(sim.into_rwset())
}

/// The committed definition named `name`, if any.
pub fn query_definition<D: Definition>(view: &dyn StateView, name: &str) -> Result<Option<D>> {
    let mut sim = TxSimulator::new(view, LIFECYCLE_NS);
    committed(&mut sim, name)
}

/// The committed chaincode definition of `name`, if any.
pub fn query_committed(view: &dyn StateView, name: &str) -> Result<Option<ChaincodeDefinition>> {
    query_definition(view, name)
}

/// Reads the committed definition `name` through `sim`, recording the read
/// (used by invocations so a change invalidates in-flight transactions).
pub(crate) fn read_committed<D: Definition, V: StateView>(
    sim: &mut TxSimulator<V>,
    name: &str,
) -> Result<Option<D>> {
    committed(sim, name)
}

/// Reads the committed definition of chaincode `name` through `sim`,
/// recording the read (used by invocations so an upgrade invalidates
/// in-flight ones).
pub(crate) fn require_committed<V: StateView>(
    sim: &mut TxSimulator<V>,
    name: &str,
) -> Result<ChaincodeDefinition> {
    committed(sim, name)?.ok_or_else(|| Error::NotCommitted {
        name: name.to_owned(),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::state::MemoryState;
    use cryptanet_types::{Digest, TxRwSet, Version};

    fn def(sequence: u64) -> ChaincodeDefinition {
        ChaincodeDefinition {
            name: "supply-chain".into(),
            version: format!("1.{sequence}"),
            sequence,
            endorsement_policy: "OutOf(2, 'Org1.peer', 'Org2.peer', 'Org3.peer')".into(),
            package_id: format!("sc:{}", Digest::of(b"pkg").to_hex()),
        }
    }

    fn orgs() -> Vec<String> {
        ["Org1", "Org2", "Org3", "Org4"].map(String::from).to_vec()
    }

    fn apply(state: &mut MemoryState, ns: NsRwSet, block: u64) {
        state.apply(
            &TxRwSet { ns: vec![ns] },
            Version::new(block, 0),
            Digest::of(&block.to_le_bytes()),
        );
    }

    #[test]
    fn commit_needs_a_strict_majority_of_identical_approvals() {
        let mut state = MemoryState::new();
        let d = def(1);
        let rw = approve_for_my_org(&state, "Org1", &d).unwrap();
        apply(&mut state, rw, 1);
        let rw = approve_for_my_org(&state, "Org2", &d).unwrap();
        apply(&mut state, rw, 2);
        // Org3 approves a different package: does not count.
        let mut other = d.clone();
        other.package_id = format!("sc:{}", Digest::of(b"other").to_hex());
        let rw = approve_for_my_org(&state, "Org3", &other).unwrap();
        apply(&mut state, rw, 3);
        match commit(&state, &orgs(), &d) {
            Err(Error::NotEnoughApprovals {
                approved: 2,
                required: 3,
                orgs: 4,
                ..
            }) => {}
            other => panic!("{other:?}"),
        }
        let ready = check_commit_readiness(&state, &orgs(), &d).unwrap();
        assert_eq!(ready.iter().filter(|(_, ok)| *ok).count(), 2);
        // Org3 re-approves the right definition: 3 of 4.
        let rw = approve_for_my_org(&state, "Org3", &d).unwrap();
        apply(&mut state, rw, 4);
        let rw = commit(&state, &orgs(), &d).unwrap();
        assert_eq!(rw.namespace, LIFECYCLE_NS);
        assert_eq!(rw.writes.len(), 1);
        // Reads: the definition key and four approvals.
        assert_eq!(rw.reads.len(), 5);
        apply(&mut state, rw, 5);
        assert_eq!(
            query_committed(&state, "supply-chain").unwrap(),
            Some(d.clone())
        );
    }

    #[test]
    fn sequences_must_advance_by_one() {
        let mut state = MemoryState::new();
        assert!(matches!(
            approve_for_my_org(&state, "Org1", &def(2)),
            Err(Error::WrongSequence {
                expected: 1,
                got: 2,
                ..
            })
        ));
        for (i, org) in ["Org1", "Org2", "Org3"].into_iter().enumerate() {
            let rw = approve_for_my_org(&state, org, &def(1)).unwrap();
            apply(&mut state, rw, i as u64 + 1);
        }
        let rw = commit(&state, &orgs(), &def(1)).unwrap();
        apply(&mut state, rw, 10);
        // Re-committing sequence 1 is refused; the upgrade is sequence 2.
        assert!(matches!(
            commit(&state, &orgs(), &def(1)),
            Err(Error::WrongSequence {
                expected: 2,
                got: 1,
                ..
            })
        ));
        assert!(approve_for_my_org(&state, "Org1", &def(2)).is_ok());
    }

    #[test]
    fn invalid_definitions_are_refused() {
        let state = MemoryState::new();
        let mut d = def(1);
        d.endorsement_policy = "AND(".into();
        assert!(matches!(
            approve_for_my_org(&state, "Org1", &d),
            Err(Error::PolicySyntax { .. })
        ));
        let mut d = def(1);
        d.name = "_lifecycle".into();
        assert!(matches!(
            approve_for_my_org(&state, "Org1", &d),
            Err(Error::InvalidDefinition { .. })
        ));
        let mut d = def(1);
        d.package_id = "nohash".into();
        assert!(matches!(
            approve_for_my_org(&state, "Org1", &d),
            Err(Error::BadPackageId { .. })
        ));
        assert!(approve_for_my_org(&state, "Org/1", &def(1)).is_err());
    }
}
