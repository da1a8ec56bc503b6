//! # cryptanet-detect
//!
//! Deterministic anomaly detection for supply-chain readings. Every endorsing
//! peer runs [`Model::verdict_for`] on the same model bytes and the same
//! integer readings and must produce byte-identical [`Verdict`]s, so the
//! verdict path is plain Rust with a fixed evaluation order: no threads, no
//! runtime-dispatched SIMD kernels, `libm` for `exp`/`log`/`cos`, results in
//! parts per million.
//!
//! * Detectors: [`iforest`] (own, scikit-learn-compatible score), [`lof`]
//!   (own, novelty mode; `linfa-nn` k-d tree at training time), [`ocsvm`]
//!   (trained by `linfa-svm`, evaluated by our code), [`density`] (DBSCAN from
//!   `linfa-clustering`), [`robust`] (median/MAD z-scores).
//! * [`ensemble`]: normalised, weighted members chosen on a validation split.
//! * [`model`]: the canonical, hashed, deployable model and its verdicts;
//!   [`verdict`]: the verdict type; [`rules`]: hard domain rules.
//! * [`features`]: supply-chain features from integer readings;
//!   [`sim`]: the seeded, labelled reading simulator;
//!   [`default_model`]: the seeded default model.
//! * [`data`], [`metrics`], [`rng`], [`knn`], [`kdtree`], [`normalise`]: support.
//!
//! Nothing here does I/O, reads a clock or draws unseeded randomness.
#![forbid(unsafe_code)]

pub mod data;
pub mod default_model;
pub mod density;
pub mod detector;
pub mod ensemble;
pub mod error;
pub mod features;
pub mod iforest;
pub mod kdtree;
pub mod knn;
pub mod lof;
pub mod metrics;
pub mod model;
pub mod normalise;
pub mod ocsvm;
pub mod rng;
pub mod robust;
pub mod rules;
pub mod sim;
pub mod verdict;

pub use error::{Error, Result};
pub use features::{FeatureVector, ReadingContext};
pub use model::Model;
pub use verdict::{Contribution, Verdict};
