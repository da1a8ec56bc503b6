//! The error type chaincode functions return, and how it maps to a response
//! status.

use alloc::string::String;
use core::fmt;

/// Result alias for chaincode functions.
pub type Result<T, E = Error> = core::result::Result<T, E>;

/// Why a chaincode invocation failed. Client mistakes map to status 400,
/// refusals to 403, missing records to 404, everything else to 500.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Error {
    /// The function name is not one the chaincode serves.
    UnknownFunction {
        /// The requested function.
        function: String,
    },
    /// Fewer arguments than the function needs.
    MissingArgument {
        /// Zero-based index of the missing argument.
        index: usize,
    },
    /// An argument could not be parsed as the expected type.
    BadArgument {
        /// Zero-based index of the argument.
        index: usize,
        /// What was expected, e.g. `"u64"`.
        expected: &'static str,
    },
    /// A record the function needs does not exist.
    NotFound {
        /// What was looked up.
        what: String,
    },
    /// The caller is not allowed to do this.
    Forbidden {
        /// Why.
        reason: String,
    },
    /// The request is well-formed but violates a business rule.
    Invalid {
        /// Why.
        reason: String,
    },
    /// Stored or supplied JSON could not be (de)serialised.
    Json {
        /// serde_json's description.
        reason: String,
    },
    /// A key is empty, starts with `0x00` without being composite, or a
    /// composite key component contains `0x00`.
    InvalidKey,
    /// The host returned an error code (see `abi::ERR_*`).
    Host {
        /// The code.
        code: i64,
    },
}

impl Error {
    /// The response status this error produces.
    pub fn status(&self) -> u32 {
        match self {
            Error::UnknownFunction { .. }
            | Error::MissingArgument { .. }
            | Error::BadArgument { .. }
            | Error::Invalid { .. }
            | Error::InvalidKey
            | Error::Json { .. } => 400,
            Error::Forbidden { .. } => 403,
            Error::NotFound { .. } => 404,
            Error::Host { .. } => 500,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::UnknownFunction { function } => write!(f, "unknown function {function:?}"),
            Error::MissingArgument { index } => write!(f, "missing argument {index}"),
            Error::BadArgument { index, expected } => {
                write!(f, "argument {index} is not a valid {expected}")
            }
            Error::NotFound { what } => write!(f, "{what} not found"),
            Error::Forbidden { reason } => write!(f, "forbidden: {reason}"),
            Error::Invalid { reason } => write!(f, "invalid request: {reason}"),
            Error::Json { reason } => write!(f, "bad JSON: {reason}"),
            Error::InvalidKey => f.write_str("invalid key"),
            Error::Host { code } => write!(f, "host error {code}"),
        }
    }
}

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Self {
        Error::Json {
            reason: alloc::string::ToString::to_string(&e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses() {
        assert_eq!(Error::MissingArgument { index: 0 }.status(), 400);
        assert_eq!(Error::Forbidden { reason: "x".into() }.status(), 403);
        assert_eq!(Error::NotFound { what: "s".into() }.status(), 404);
        assert_eq!(Error::Host { code: -2 }.status(), 500);
        assert_eq!(
            alloc::string::ToString::to_string(&Error::BadArgument {
                index: 2,
                expected: "u64"
            }),
            "argument 2 is not a valid u64"
        );
    }
}
