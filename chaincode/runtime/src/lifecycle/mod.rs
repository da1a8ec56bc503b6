//! The chaincode lifecycle, as in Fabric:
//!
//! 1. **package** wasm plus metadata ([`package`]); the package id is
//!    `label:SHA3-256(package bytes)`;
//! 2. **install** the package on each endorsing peer ([`install`]), a local
//!    act that compiles and stores it;
//! 3. **approve** a definition (name, version, sequence, endorsement policy,
//!    package id) once per org, a transaction in the `_lifecycle` namespace;
//! 4. **commit** the definition once a majority of the channel's orgs
//!    approved exactly it; upgrades repeat 3–4 with the next sequence.
//!
//! Steps 3–4 are pure functions over committed state producing an
//! [`cryptanet_types::NsRwSet`] ([`rules`]), so every peer applies them
//! identically; [`invoke`] runs only committed definitions.

pub mod definition;
pub mod install;
pub mod invoke;
pub mod model;
pub mod package;
pub mod rules;

pub use definition::ChaincodeDefinition;
pub use install::InstallStore;
pub use invoke::invoke_committed;
pub use model::{is_model_hash, query_active_model, ModelDefinition};
pub use package::{ChaincodePackage, PackageMetadata};
pub use rules::{
    approve_for_my_org, check_commit_readiness, commit, query_committed, query_definition,
    Definition,
};

/// The system namespace holding lifecycle state.
pub const LIFECYCLE_NS: &str = "_lifecycle";
