//! cryptanet-sdk (under construction).
