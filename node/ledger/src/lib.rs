//! cryptanet-ledger (under construction).
