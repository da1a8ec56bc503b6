//! cryptanet-detect (under construction).
