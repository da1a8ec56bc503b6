//! Invoking chaincode through the lifecycle: only a committed definition
//! runs, with the package it names, and the definition read is recorded in
//! the `_lifecycle` namespace so an upgrade committed in the meantime
//! invalidates the transaction (as in Fabric).

use super::install::InstallStore;
use super::model::ActiveModels;
use super::rules::require_committed;
use super::LIFECYCLE_NS;
use crate::detector::Detector;
use crate::error::Result;
use crate::execution::{Execution, Invocation};
use crate::runtime::Runtime;
use crate::simulator::TxSimulator;
use crate::state::StateView;
use std::sync::Arc;

/// Runs `invocation` on the committed definition of `name`. Returns the
/// execution and the definition's sequence (for `ProposalResponsePayload`).
pub fn invoke_committed(
    runtime: &Runtime,
    installed: &InstallStore,
    state: Arc<dyn StateView>,
    detector: Arc<dyn Detector>,
    name: &str,
    invocation: &Invocation,
) -> Result<(Execution, u64)> {
    let mut lifecycle = TxSimulator::new(state.clone(), LIFECYCLE_NS);
    let definition = require_committed(&mut lifecycle, name)?;
    let code = installed.chaincode(runtime, &definition.package_id)?;
    // `detect(class, ..)` reads the class's active model in `_lifecycle`.
    let models = Arc::new(ActiveModels::new(lifecycle, detector));
    let mut execution = runtime.execute(&code, name, invocation, state, models.clone())?;
    let lifecycle = models
        .take_lifecycle()
        .ok_or(crate::error::Error::InvalidDefinition {
            reason: "lifecycle reads taken twice",
        })?;
    execution.rwset.ns.push(lifecycle.into_rwset());
    execution
        .rwset
        .ns
        .sort_by(|a, b| a.namespace.cmp(&b.namespace));
    Ok((execution, definition.sequence))
}
