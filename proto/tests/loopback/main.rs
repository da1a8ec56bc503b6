//! Loopback tests: a tiny in-test Gateway served by tonic on 127.0.0.1
//! with the health and reflection services, called through the generated
//! clients and `PeerClient`. Every wait is bounded.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod discovery;
mod gateway;
mod limits;
mod manual;
mod server;
mod test_deliver;
mod test_gateway;
