//! cryptanet-tests (under construction).
