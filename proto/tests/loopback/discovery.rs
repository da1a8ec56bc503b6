//! Server reflection lists and describes `cryptanet.v1.Gateway`; the health
//! service reports it SERVING.

use crate::server::{TestPeer, BOUND};
use cryptanet_proto::{service_names, Limits};
use tokio::time::timeout;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::HealthCheckRequest;
use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;
use tonic_reflection::pb::v1::ServerReflectionRequest;

async fn reflect(peer: &TestPeer, request: MessageRequest) -> MessageResponse {
    let mut client = ServerReflectionClient::new(peer.channel().await);
    let outbound = tokio_stream::once(ServerReflectionRequest {
        host: String::new(),
        message_request: Some(request),
    });
    let mut inbound = client
        .server_reflection_info(outbound)
        .await
        .unwrap()
        .into_inner();
    inbound
        .message()
        .await
        .unwrap()
        .unwrap()
        .message_response
        .unwrap()
}

#[tokio::test]
async fn reflection_lists_and_describes_the_gateway() {
    let peer = TestPeer::start(Limits::default()).await;

    let listed = timeout(
        BOUND,
        reflect(&peer, MessageRequest::ListServices(String::new())),
    )
    .await
    .unwrap();
    let MessageResponse::ListServicesResponse(list) = listed else {
        panic!("unexpected reflection answer {listed:?}");
    };
    let names: Vec<&str> = list.service.iter().map(|s| s.name.as_str()).collect();
    assert!(names.contains(&service_names::GATEWAY), "{names:?}");
    assert!(names.contains(&"grpc.health.v1.Health"), "{names:?}");

    // grpcurl needs the file with the service and everything it imports.
    let described = timeout(
        BOUND,
        reflect(
            &peer,
            MessageRequest::FileContainingSymbol(service_names::GATEWAY.into()),
        ),
    )
    .await
    .unwrap();
    let MessageResponse::FileDescriptorResponse(files) = described else {
        panic!("unexpected reflection answer {described:?}");
    };
    let contains = |needle: &str| {
        files
            .file_descriptor_proto
            .iter()
            .any(|f| f.windows(needle.len()).any(|w| w == needle.as_bytes()))
    };
    assert!(contains("cryptanet/v1/gateway.proto"));
    assert!(contains("cryptanet/v1/common.proto"));
    assert!(contains("CommitStatus"));

    peer.stop().await;
}

#[tokio::test]
async fn health_reports_serving() {
    let peer = TestPeer::start(Limits::default()).await;
    let mut health = HealthClient::new(timeout(BOUND, peer.channel()).await.unwrap());
    for service in ["", service_names::GATEWAY] {
        let reply = timeout(
            BOUND,
            health.check(HealthCheckRequest {
                service: service.into(),
            }),
        )
        .await
        .unwrap()
        .unwrap()
        .into_inner();
        assert_eq!(reply.status, ServingStatus::Serving as i32, "{service:?}");
    }
    let unknown = health
        .check(HealthCheckRequest {
            service: "cryptanet.v1.Nope".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), tonic::Code::NotFound);
    peer.stop().await;
}
