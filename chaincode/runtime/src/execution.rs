//! What goes into one chaincode execution and what comes out.

use cryptanet_sdk::abi::TxContext;
use cryptanet_types::{
    ChaincodeEvent, Digest, Proposal, ProposalResponsePayload, Response, TxRwSet,
};

/// The transaction context of one invocation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invocation {
    /// Transaction id.
    pub tx_id: Digest,
    /// Client timestamp, unix ms (informational).
    pub timestamp_ms: u64,
    /// MSP id of the creator (from its verified certificate).
    pub creator_msp_id: String,
    /// Creator certificate, DER.
    pub creator_cert: Vec<u8>,
    /// Function to run.
    pub function: String,
    /// Arguments.
    pub args: Vec<Vec<u8>>,
    /// Transient data.
    pub transient: Vec<(String, Vec<u8>)>,
}

impl Invocation {
    /// The invocation a verified proposal asks for; `creator_msp_id` comes
    /// from the identity check of `proposal.creator`.
    pub fn from_proposal(
        proposal: &Proposal,
        creator_msp_id: String,
        transient: Vec<(String, Vec<u8>)>,
    ) -> Invocation {
        Invocation {
            tx_id: proposal.tx_id(),
            timestamp_ms: proposal.timestamp_ms,
            creator_msp_id,
            creator_cert: proposal.creator.clone(),
            function: proposal.function.clone(),
            args: proposal.args.clone(),
            transient,
        }
    }

    /// The ABI encoding handed to the guest.
    pub(crate) fn encode(&self) -> Vec<u8> {
        TxContext {
            tx_id: self.tx_id.0,
            timestamp_ms: self.timestamp_ms,
            creator_msp_id: self.creator_msp_id.clone(),
            creator_cert: self.creator_cert.clone(),
            function: self.function.clone(),
            args: self.args.clone(),
            transient: self.transient.clone(),
        }
        .encode()
    }
}

/// The outcome of one execution. Deterministic: the same code, invocation
/// and committed state give byte-identical values on every peer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Execution {
    /// Chaincode name (its namespace).
    pub chaincode: String,
    /// Reads and writes, namespaces sorted, each in canonical form.
    pub rwset: TxRwSet,
    /// The chaincode's response. Endorsers must not sign responses with
    /// status >= 400 (the chaincode refused the request).
    pub response: Response,
    /// The event, if the chaincode set one.
    pub event: Option<ChaincodeEvent>,
    /// Fuel consumed, host charges included.
    pub fuel_used: u64,
}

impl Execution {
    /// True for status 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.response.status)
    }

    /// The payload endorsers sign; the caller supplies the proposal hash
    /// and the sequence of the chaincode definition that ran.
    pub fn into_payload(
        self,
        proposal_hash: Digest,
        chaincode_sequence: u64,
    ) -> ProposalResponsePayload {
        ProposalResponsePayload {
            proposal_hash,
            chaincode: self.chaincode,
            chaincode_sequence,
            rwset: self.rwset,
            response: self.response,
            event: self.event,
        }
    }
}
