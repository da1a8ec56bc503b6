//! A test peer for manual cross-language checks (Python, grpcurl). Ignored:
//! run with
//! `CRYPTANET_PROTO_SERVE_SECS=60 cargo nextest run --release -p cryptanet-proto --run-ignored only serve_for_manual_checks --no-capture`.
//! It prints its address and serves Gateway, Deliver, health and
//! reflection for that many seconds (default 30).

use crate::server::TestPeer;
use cryptanet_proto::Limits;
use std::time::Duration;

#[tokio::test]
#[ignore = "serves for a while for manual checks"]
async fn serve_for_manual_checks() {
    let secs = std::env::var("CRYPTANET_PROTO_SERVE_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(30);
    let peer = TestPeer::start(Limits::default()).await;
    println!("serving on {} for {secs} s", peer.addr);
    if let Ok(path) = std::env::var("CRYPTANET_PROTO_ADDR_FILE") {
        std::fs::write(path, peer.addr.to_string()).unwrap();
    }
    tokio::time::sleep(Duration::from_secs(secs)).await;
    peer.stop().await;
}
