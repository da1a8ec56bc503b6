//! Message size limits: the server rejects an oversized request with a
//! status (no panic) and keeps serving; a client refuses to send one.

use crate::server::{TestPeer, BOUND};
use cryptanet_proto::client::PeerClient;
use cryptanet_proto::v1::gateway_client::GatewayClient;
use cryptanet_proto::{v1, Error, Limits, WithLimits};
use cryptanet_types::{Envelope, Signature};
use tokio::time::timeout;
use tonic::Code;

const SMALL: Limits = Limits {
    max_request_bytes: 64 * 1024,
    max_response_bytes: 64 * 1024,
};

/// tonic reports an over-limit message as OUT_OF_RANGE; other gRPC stacks
/// use RESOURCE_EXHAUSTED. Either means "too large".
fn too_large(code: Code) -> bool {
    matches!(code, Code::OutOfRange | Code::ResourceExhausted)
}

#[tokio::test]
async fn oversized_request_is_rejected_and_server_keeps_serving() {
    let peer = TestPeer::start(SMALL).await;
    let client = timeout(BOUND, peer.client()).await.unwrap();

    let big = v1::SubmitRequest {
        envelope: vec![7; 200 * 1024],
    };
    let status = timeout(BOUND, client.gateway().submit(big.clone()))
        .await
        .unwrap()
        .unwrap_err();
    assert!(too_large(status.code()), "got {status:?}");
    assert!(status.message().contains("too large"), "{status:?}");

    // The same connection still works for a request under the limit.
    let ok_sized = v1::SubmitRequest {
        envelope: vec![0xff; 1024],
    };
    let status = timeout(BOUND, client.gateway().submit(ok_sized))
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);

    // PeerClient refuses to send it, with a typed error.
    let small = PeerClient::from_channel(peer.channel().await, SMALL);
    let envelope = Envelope {
        payload: vec![7; 200 * 1024],
        signature: Signature([0; 64]),
    };
    let refused = timeout(BOUND, small.submit(&envelope)).await.unwrap();
    assert!(
        matches!(refused, Err(Error::RequestTooLarge { limit, len }) if limit == SMALL.max_request_bytes && len > limit),
        "{refused:?}"
    );

    // A bare generated client with a small request limit fails the call
    // without sending the message: tonic resets the stream (INTERNAL).
    let mut bare = GatewayClient::new(peer.channel().await).with_limits(SMALL);
    let status = timeout(BOUND, bare.submit(big)).await.unwrap().unwrap_err();
    assert_eq!(status.code(), Code::Internal, "{status:?}");

    peer.stop().await;
}
