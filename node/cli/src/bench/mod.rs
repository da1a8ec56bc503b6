//! The Caliper-style load generator behind `cryptanet bench`.
//!
//! Work is prepared before the clock starts ([`prepare`]), sent in an open
//! or closed loop ([`drive`]), its commits observed on one peer's
//! filtered-block stream ([`tracker`]), summarised ([`stats`]) and reported
//! with each local peer's CPU use ([`cpu`], [`report`]).

pub mod cpu;
pub mod drive;
pub mod prepare;
pub mod report;
pub mod stats;
pub mod tracker;
