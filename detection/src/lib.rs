//! # cryptanet-detect
//!
//! Deterministic anomaly detection for CryptaNet (placeholder header, see below).
#![forbid(unsafe_code)]

pub mod data;
pub mod density;
pub mod detector;
pub mod error;
pub mod iforest;
pub mod knn;
pub mod lof;
pub mod metrics;
pub mod normalise;
pub mod ocsvm;
pub mod rng;
pub mod robust;

pub use error::{Error, Result};
