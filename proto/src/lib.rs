//! cryptanet-proto (under construction).
