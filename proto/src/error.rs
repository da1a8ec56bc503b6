//! The crate's error type.

use thiserror::Error;

/// Errors from conversions, status details and the client helper.
#[derive(Debug, Error)]
pub enum Error {
    /// A wire validation code number that `cryptanet.v1.ValidationCode` does not define.
    #[error("unknown validation code {value}")]
    UnknownValidationCode {
        /// The number received.
        value: i32,
    },
    /// A transaction id that is not 64 hex characters.
    #[error("malformed tx id {tx_id:?}: expected 64 hex characters")]
    BadTxId {
        /// The id received.
        tx_id: String,
    },
    /// A field the server must set was missing from a response.
    #[error("response field {field} is missing")]
    MissingField {
        /// Name of the field.
        field: &'static str,
    },
    /// A readable block field disagrees with the canonical block bytes.
    #[error("block {number}: field {field} disagrees with the raw block bytes")]
    BlockMismatch {
        /// Block number from the raw bytes.
        number: u64,
        /// The field that disagrees.
        field: &'static str,
    },
    /// `grpc-status-details-bin` bytes that are not a `google.rpc.Status`
    /// carrying a `cryptanet.v1.ErrorDetail`.
    #[error("malformed status details: {reason}")]
    BadStatusDetails {
        /// What was wrong.
        reason: &'static str,
    },
    /// A request message larger than the client's request limit; not sent.
    #[error("request of {len} bytes exceeds the limit of {limit} bytes")]
    RequestTooLarge {
        /// Encoded size of the request message.
        len: usize,
        /// The client's `max_request_bytes`.
        limit: usize,
    },
    /// Canonical encoding or decoding of a `cryptanet-types` value failed.
    #[error(transparent)]
    Types(#[from] cryptanet_types::Error),
    /// The endpoint URI could not be parsed or the connection failed.
    #[error("transport: {0}")]
    Transport(#[from] tonic::transport::Error),
    /// The server answered with a non-OK status.
    #[error("rpc failed with {code:?}: {message}")]
    Rpc {
        /// gRPC status code.
        code: tonic::Code,
        /// Status message.
        message: String,
        /// The `ErrorDetail` the server attached, if any.
        detail: Option<crate::v1::ErrorDetail>,
    },
}

impl From<tonic::Status> for Error {
    /// Keeps code, message and [`crate::v1::ErrorDetail`]. tonic reports an
    /// elapsed call deadline as `CANCELLED` ("Timeout expired", on either
    /// side); this is reported as `DEADLINE_EXCEEDED`, as other gRPC stacks do.
    fn from(status: tonic::Status) -> Self {
        let code = if status.code() == tonic::Code::Cancelled
            && status.message() == tonic::TimeoutExpired(()).to_string()
        {
            tonic::Code::DeadlineExceeded
        } else {
            status.code()
        };
        Error::Rpc {
            code,
            message: status.message().to_owned(),
            detail: crate::status::error_detail(&status).ok().flatten(),
        }
    }
}

/// Result alias for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;
    use tonic::{Code, Status};

    fn code_of(status: Status) -> Option<Code> {
        match Error::from(status) {
            Error::Rpc { code, .. } => Some(code),
            _ => None,
        }
    }

    #[test]
    fn elapsed_deadline_reads_as_deadline_exceeded_other_cancels_do_not() {
        let expired = Status::cancelled(tonic::TimeoutExpired(()).to_string());
        assert_eq!(code_of(expired), Some(Code::DeadlineExceeded));
        assert_eq!(
            code_of(Status::cancelled("client went away")),
            Some(Code::Cancelled)
        );
        assert_eq!(code_of(Status::not_found("x")), Some(Code::NotFound));
    }
}
