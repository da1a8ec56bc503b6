//! [`ErrorDetail`] inside a gRPC status, the `google.rpc.Status` way.
//!
//! gRPC carries rich errors in the `grpc-status-details-bin` trailer as an
//! encoded `google.rpc.Status { code, message, details: repeated Any }`. We
//! put one `Any` with type URL [`ERROR_DETAIL_TYPE_URL`] holding an encoded
//! [`ErrorDetail`], so clients in any language read it with their usual
//! rich-status helpers (e.g. `grpc_status.rpc_status.from_call` in Python).
//!
//! The two Google messages are declared here with `prost` derives (same field
//! numbers as `google/rpc/status.proto` and `google/protobuf/any.proto`)
//! rather than pulled in as another dependency.

use crate::error::{Error, Result};
use crate::v1::ErrorDetail;
use prost::Message;
use tonic::{Code, Status};

/// Type URL of a packed [`ErrorDetail`].
pub const ERROR_DETAIL_TYPE_URL: &str = "type.googleapis.com/cryptanet.v1.ErrorDetail";

/// Stable [`ErrorDetail::code`] reasons. Servers should use these; clients
/// should match on them rather than on messages.
pub mod reason {
    /// Bytes in a `bytes` field do not decode as the expected canonical value.
    pub const MALFORMED_BYTES: &str = "MALFORMED_BYTES";
    /// A request field is missing or out of range.
    pub const INVALID_FIELD: &str = "INVALID_FIELD";
    /// A signature does not verify.
    pub const BAD_SIGNATURE: &str = "BAD_SIGNATURE";
    /// The caller's certificate is not from a member organisation or has the wrong role.
    pub const NOT_A_MEMBER: &str = "NOT_A_MEMBER";
    /// The caller is a member but not an admin of its organisation.
    pub const NOT_AN_ADMIN: &str = "NOT_AN_ADMIN";
    /// The named chaincode, model, transaction or block does not exist.
    pub const NOT_FOUND: &str = "NOT_FOUND";
    /// Endorsers returned different results for the same proposal.
    pub const ENDORSEMENT_MISMATCH: &str = "ENDORSEMENT_MISMATCH";
    /// Not enough endorsers answered to satisfy the endorsement policy.
    pub const POLICY_UNSATISFIABLE: &str = "POLICY_UNSATISFIABLE";
    /// An endorser's chaincode returned an error response (status >= 400).
    pub const CHAINCODE_ERROR: &str = "CHAINCODE_ERROR";
    /// The lifecycle state does not allow the request (e.g. commit before enough approvals).
    pub const LIFECYCLE_STATE: &str = "LIFECYCLE_STATE";
    /// A transaction with this id was already submitted or committed.
    pub const DUPLICATE_TXID: &str = "DUPLICATE_TXID";
    /// The peer cannot reach the ordering service or enough peers right now.
    pub const PEER_UNAVAILABLE: &str = "PEER_UNAVAILABLE";
}

/// `google.rpc.Status`, field for field.
#[derive(Clone, PartialEq, Message)]
struct RpcStatus {
    #[prost(int32, tag = "1")]
    code: i32,
    #[prost(string, tag = "2")]
    message: String,
    #[prost(message, repeated, tag = "3")]
    details: Vec<Any>,
}

/// `google.protobuf.Any`, field for field.
#[derive(Clone, PartialEq, Message)]
struct Any {
    #[prost(string, tag = "1")]
    type_url: String,
    #[prost(bytes = "vec", tag = "2")]
    value: Vec<u8>,
}

/// Builds a status with `code`, `message` and `detail` packed into its details.
pub fn with_detail(code: Code, message: impl Into<String>, detail: &ErrorDetail) -> Status {
    let message = message.into();
    let rpc = RpcStatus {
        code: code as i32,
        message: message.clone(),
        details: vec![Any {
            type_url: ERROR_DETAIL_TYPE_URL.to_owned(),
            value: detail.encode_to_vec(),
        }],
    };
    Status::with_details(code, message, rpc.encode_to_vec().into())
}

/// Shorthand for [`with_detail`] with a detail built from `reason` and
/// `message` (no endorser).
pub fn error(code: Code, reason: &str, message: impl Into<String>) -> Status {
    let message = message.into();
    let detail = ErrorDetail {
        code: reason.to_owned(),
        message: message.clone(),
        endorser: None,
    };
    with_detail(code, message, &detail)
}

/// Reads the [`ErrorDetail`] of a status: `Ok(None)` when the status has no
/// details or none of type [`ERROR_DETAIL_TYPE_URL`], an error when the
/// details are not a well-formed `google.rpc.Status`.
pub fn error_detail(status: &Status) -> Result<Option<ErrorDetail>> {
    let bytes = status.details();
    if bytes.is_empty() {
        return Ok(None);
    }
    let rpc = RpcStatus::decode(bytes).map_err(|_| Error::BadStatusDetails {
        reason: "not a google.rpc.Status",
    })?;
    let Some(any) = rpc
        .details
        .into_iter()
        .find(|a| a.type_url == ERROR_DETAIL_TYPE_URL)
    else {
        return Ok(None);
    };
    ErrorDetail::decode(any.value.as_slice())
        .map(Some)
        .map_err(|_| Error::BadStatusDetails {
            reason: "Any value is not a cryptanet.v1.ErrorDetail",
        })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn detail_round_trips_through_status() {
        let detail = ErrorDetail {
            code: reason::ENDORSEMENT_MISMATCH.into(),
            message: "peer1.org2 returned a different write set".into(),
            endorser: Some("peer1.org2".into()),
        };
        let status = with_detail(Code::Aborted, "endorsements differ", &detail);
        assert_eq!(status.code(), Code::Aborted);
        assert_eq!(error_detail(&status).unwrap(), Some(detail));
        let rpc = RpcStatus::decode(status.details()).unwrap();
        assert_eq!(rpc.code, Code::Aborted as i32);
        assert_eq!(rpc.message, "endorsements differ");
    }

    #[test]
    fn missing_foreign_and_garbage_details() {
        assert_eq!(error_detail(&Status::not_found("x")).unwrap(), None);
        let foreign = RpcStatus {
            code: 5,
            message: "m".into(),
            details: vec![Any {
                type_url: "type.googleapis.com/google.rpc.ErrorInfo".into(),
                value: vec![1, 2, 3],
            }],
        };
        let s = Status::with_details(Code::NotFound, "m", foreign.encode_to_vec().into());
        assert_eq!(error_detail(&s).unwrap(), None);
        let s = Status::with_details(Code::Internal, "m", vec![0xff, 0xff, 0xff].into());
        assert!(matches!(
            error_detail(&s),
            Err(Error::BadStatusDetails { .. })
        ));
        let bad_any = RpcStatus {
            code: 13,
            message: String::new(),
            details: vec![Any {
                type_url: ERROR_DETAIL_TYPE_URL.into(),
                value: vec![0x0a, 0x7f],
            }],
        };
        let s = Status::with_details(Code::Internal, "m", bad_any.encode_to_vec().into());
        assert!(matches!(
            error_detail(&s),
            Err(Error::BadStatusDetails { .. })
        ));
        let s = error(Code::PermissionDenied, reason::BAD_SIGNATURE, "bad sig");
        let d = error_detail(&s).unwrap().unwrap();
        assert_eq!(d.code, "BAD_SIGNATURE");
        assert_eq!(d.endorser, None);
    }
}
