//! Lossless conversions between [`cryptanet_types::ValidationCode`] and the
//! wire enum [`crate::v1::ValidationCode`].
//!
//! Both enums have the same variants with the same numbers; the matches below
//! are exhaustive in both directions, so adding a code on either side without
//! the other fails to compile. Raw wire numbers go through
//! [`from_wire`], which rejects numbers neither side defines.

use crate::error::{Error, Result};
use crate::v1::ValidationCode as Wire;
use cryptanet_types::ValidationCode as Domain;

impl From<Domain> for Wire {
    fn from(code: Domain) -> Self {
        match code {
            Domain::Valid => Wire::Valid,
            Domain::BadPayload => Wire::BadPayload,
            Domain::BadCreatorSignature => Wire::BadCreatorSignature,
            Domain::CreatorNotMember => Wire::CreatorNotMember,
            Domain::BadEndorsement => Wire::BadEndorsement,
            Domain::EndorsementPolicyFailure => Wire::EndorsementPolicyFailure,
            Domain::DuplicateTxId => Wire::DuplicateTxid,
            Domain::MvccReadConflict => Wire::MvccReadConflict,
            Domain::PhantomReadConflict => Wire::PhantomReadConflict,
            Domain::UnknownChaincode => Wire::UnknownChaincode,
            Domain::BadTxId => Wire::BadTxid,
            Domain::IllegalWriteset => Wire::IllegalWriteset,
            Domain::EndorserNotMember => Wire::EndorserNotMember,
            Domain::NotValidated => Wire::NotValidated,
        }
    }
}

impl From<Wire> for Domain {
    fn from(code: Wire) -> Self {
        match code {
            Wire::Valid => Domain::Valid,
            Wire::BadPayload => Domain::BadPayload,
            Wire::BadCreatorSignature => Domain::BadCreatorSignature,
            Wire::CreatorNotMember => Domain::CreatorNotMember,
            Wire::BadEndorsement => Domain::BadEndorsement,
            Wire::EndorsementPolicyFailure => Domain::EndorsementPolicyFailure,
            Wire::DuplicateTxid => Domain::DuplicateTxId,
            Wire::MvccReadConflict => Domain::MvccReadConflict,
            Wire::PhantomReadConflict => Domain::PhantomReadConflict,
            Wire::UnknownChaincode => Domain::UnknownChaincode,
            Wire::BadTxid => Domain::BadTxId,
            Wire::IllegalWriteset => Domain::IllegalWriteset,
            Wire::EndorserNotMember => Domain::EndorserNotMember,
            Wire::NotValidated => Domain::NotValidated,
        }
    }
}

/// The wire number of a domain code (what an `i32` enum field carries).
pub fn to_wire(code: Domain) -> i32 {
    Wire::from(code) as i32
}

/// Reads a validation code from its wire number.
pub fn from_wire(value: i32) -> Result<Domain> {
    Wire::try_from(value)
        .map(Domain::from)
        .map_err(|_| Error::UnknownValidationCode { value })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// Every domain code. The exhaustive match makes this list fail to
    /// compile when a variant is added and not listed.
    const ALL: [Domain; 14] = [
        Domain::Valid,
        Domain::BadPayload,
        Domain::BadCreatorSignature,
        Domain::CreatorNotMember,
        Domain::BadEndorsement,
        Domain::EndorsementPolicyFailure,
        Domain::DuplicateTxId,
        Domain::MvccReadConflict,
        Domain::PhantomReadConflict,
        Domain::UnknownChaincode,
        Domain::BadTxId,
        Domain::IllegalWriteset,
        Domain::EndorserNotMember,
        Domain::NotValidated,
    ];

    fn listed(code: Domain) -> bool {
        match code {
            Domain::Valid
            | Domain::BadPayload
            | Domain::BadCreatorSignature
            | Domain::CreatorNotMember
            | Domain::BadEndorsement
            | Domain::EndorsementPolicyFailure
            | Domain::DuplicateTxId
            | Domain::MvccReadConflict
            | Domain::PhantomReadConflict
            | Domain::UnknownChaincode
            | Domain::BadTxId
            | Domain::IllegalWriteset
            | Domain::EndorserNotMember
            | Domain::NotValidated => ALL.contains(&code),
        }
    }

    #[test]
    fn domain_to_wire_keeps_number_and_name() {
        for code in ALL {
            assert!(listed(code));
            let wire = Wire::from(code);
            assert_eq!(wire as i32, code as u8 as i32, "{code:?}");
            assert_eq!(wire.as_str_name(), code.name(), "{code:?}");
            assert_eq!(Domain::from(wire), code);
            assert_eq!(from_wire(to_wire(code)).unwrap(), code);
        }
    }

    #[test]
    fn every_wire_number_maps_back_or_is_rejected() {
        let mut known = 0;
        for value in -1..=300 {
            match Wire::try_from(value) {
                Ok(wire) => {
                    known += 1;
                    let code = from_wire(value).unwrap();
                    assert_eq!(Wire::from(code), wire);
                    assert_eq!(Wire::from_str_name(code.name()), Some(wire));
                }
                Err(_) => assert!(matches!(
                    from_wire(value),
                    Err(Error::UnknownValidationCode { value: v }) if v == value
                )),
            }
        }
        assert_eq!(known, ALL.len());
    }
}
