//! The crate's single error type.

use thiserror::Error;

/// Everything that can go wrong in `cryptanet-detect`.
#[derive(Debug, Error)]
pub enum Error {
    /// A matrix or vector had the wrong number of columns.
    #[error("{what}: expected {expected} features, got {got}")]
    Dimension {
        /// Which input was wrong.
        what: &'static str,
        /// Expected width.
        expected: usize,
        /// Actual width.
        got: usize,
    },
    /// A value was NaN or infinite.
    #[error("{what}: non-finite value at row {row}, column {col}")]
    NonFinite {
        /// Which input was wrong.
        what: &'static str,
        /// Row index.
        row: usize,
        /// Column index.
        col: usize,
    },
    /// Not enough data to fit a detector.
    #[error("{what}: need at least {need} rows, got {got}")]
    TooFewRows {
        /// Which detector or step.
        what: &'static str,
        /// Minimum number of rows.
        need: usize,
        /// Rows given.
        got: usize,
    },
    /// A hyper-parameter was out of its valid range.
    #[error("invalid parameter {name}: {value}")]
    InvalidParam {
        /// Parameter name.
        name: &'static str,
        /// Offending value, rendered.
        value: f64,
    },
    /// A labelled input had no positive or no negative example.
    #[error("{what}: labels need both classes")]
    OneClassLabels {
        /// Which step.
        what: &'static str,
    },
    /// A reading or shipment spec was malformed.
    #[error("bad reading input: {field} = {value}")]
    BadReading {
        /// The offending field.
        field: &'static str,
        /// Its value.
        value: i64,
    },
    /// The model bytes decoded but describe an inconsistent model.
    #[error("inconsistent model: {what}")]
    InconsistentModel {
        /// What is inconsistent.
        what: &'static str,
    },
    /// A training-time library (linfa) failed.
    #[error("{detector} training failed")]
    Training {
        /// Which detector.
        detector: &'static str,
    },
    /// CSV parse failure.
    #[error("csv line {line}: {what}")]
    Csv {
        /// 1-based line number.
        line: usize,
        /// What was wrong.
        what: &'static str,
    },
    /// Canonical encoding or decoding failed.
    #[error(transparent)]
    Codec(#[from] cryptanet_types::Error),
}

/// Result alias for this crate.
pub type Result<T> = std::result::Result<T, Error>;
