//! cryptanet-node (under construction).
