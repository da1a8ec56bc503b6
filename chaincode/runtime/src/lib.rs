//! cryptanet-chaincode (under construction).
