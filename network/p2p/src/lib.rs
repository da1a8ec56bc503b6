//! cryptanet-p2p (under construction).
