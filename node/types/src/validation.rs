//! Per-transaction validation codes recorded in block metadata.

use serde::{Deserialize, Serialize};

/// Outcome of validating one transaction at commit time. Only `Valid`
/// transactions have their writes applied; all stay in the block.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[repr(u8)]
pub enum ValidationCode {
    /// Valid: writes applied.
    Valid = 0,
    /// Envelope bytes could not be decoded.
    BadPayload = 1,
    /// Creator's signature over the payload does not verify.
    BadCreatorSignature = 2,
    /// Creator certificate is not from a member org, bad chain, expired or wrong role.
    CreatorNotMember = 3,
    /// An endorsement signature does not verify.
    BadEndorsement = 4,
    /// Valid endorsements do not satisfy the chaincode's endorsement policy.
    EndorsementPolicyFailure = 5,
    /// A transaction with this id was already committed (replay), or appears twice in the block.
    DuplicateTxId = 6,
    /// A read version is no longer current.
    MvccReadConflict = 7,
    /// A range query would now return different results.
    PhantomReadConflict = 8,
    /// The chaincode is not defined (committed) or the envelope names a different definition.
    UnknownChaincode = 9,
    /// The tx id does not match the proposal's nonce and creator.
    BadTxId = 10,
    /// The transaction writes a namespace its chaincode may not write
    /// (another chaincode's, or `_lifecycle` keys outside the lifecycle rules).
    IllegalWriteset = 11,
    /// An endorser's certificate is not a valid peer certificate of a member
    /// org (unknown org, bad chain, expired, wrong role).
    EndorserNotMember = 12,
    /// Not validated (e.g. block metadata before validation).
    NotValidated = 255,
}

impl ValidationCode {
    /// True only for `Valid`.
    pub fn is_valid(self) -> bool {
        self == ValidationCode::Valid
    }

    /// Stable upper-snake name as used in the gRPC API and logs.
    pub fn name(self) -> &'static str {
        match self {
            ValidationCode::Valid => "VALID",
            ValidationCode::BadPayload => "BAD_PAYLOAD",
            ValidationCode::BadCreatorSignature => "BAD_CREATOR_SIGNATURE",
            ValidationCode::CreatorNotMember => "CREATOR_NOT_MEMBER",
            ValidationCode::BadEndorsement => "BAD_ENDORSEMENT",
            ValidationCode::EndorsementPolicyFailure => "ENDORSEMENT_POLICY_FAILURE",
            ValidationCode::DuplicateTxId => "DUPLICATE_TXID",
            ValidationCode::MvccReadConflict => "MVCC_READ_CONFLICT",
            ValidationCode::PhantomReadConflict => "PHANTOM_READ_CONFLICT",
            ValidationCode::UnknownChaincode => "UNKNOWN_CHAINCODE",
            ValidationCode::BadTxId => "BAD_TXID",
            ValidationCode::IllegalWriteset => "ILLEGAL_WRITESET",
            ValidationCode::EndorserNotMember => "ENDORSER_NOT_MEMBER",
            ValidationCode::NotValidated => "NOT_VALIDATED",
        }
    }
}
