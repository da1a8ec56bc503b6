//! cryptanet-cli (under construction).
