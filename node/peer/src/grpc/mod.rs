//! The peer's gRPC server: `Gateway`, `Deliver` and `Admin` from
//! `cryptanet-proto`, plus the standard `grpc.health.v1` service and server
//! reflection. Request and response sizes are bounded by
//! [`cryptanet_proto::Limits`].

mod admin;
mod deliver;
mod gateway;

use crate::endorser::gather::Gatherer;
use crate::engine::EngineHandle;
use crate::error::{Error, Result};
use crate::network::Network;
use cryptanet_proto::v1::{
    admin_server::AdminServer, deliver_server::DeliverServer, gateway_server::GatewayServer,
};
use cryptanet_proto::{Limits, WithLimits};
use std::sync::Arc;
use tokio::task::JoinHandle;

/// Shared state of the services.
#[derive(Clone)]
pub(crate) struct Services {
    pub(crate) engine: EngineHandle,
    pub(crate) network: Arc<Network>,
    pub(crate) gatherer: Gatherer,
}

/// Binds `addr` and serves until the returned task is aborted.
pub async fn serve(
    addr: &str,
    engine: EngineHandle,
    network: Arc<Network>,
    gatherer: Gatherer,
) -> Result<JoinHandle<()>> {
    let addr: std::net::SocketAddr = addr
        .parse()
        .map_err(|_| Error::BadAddress(addr.to_owned()))?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| Error::Config {
            path: addr.to_string().into(),
            reason: format!("cannot bind gRPC address: {e}"),
        })?;
    let services = Services {
        engine,
        network,
        gatherer,
    };
    let limits = Limits::default();
    let (health_reporter, health) = tonic_health::server::health_reporter();
    health_reporter
        .set_serving::<GatewayServer<gateway::Gateway>>()
        .await;
    health_reporter
        .set_serving::<DeliverServer<deliver::Deliver>>()
        .await;
    health_reporter
        .set_serving::<AdminServer<admin::Admin>>()
        .await;
    let reflection = || {
        tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(cryptanet_proto::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
    };
    let bad = |e: tonic_reflection::server::Error| Error::Config {
        path: "reflection".into(),
        reason: e.to_string(),
    };
    // v1 for current tools, v1alpha for older clients (grpcio-reflection).
    let reflection_v1 = reflection().build_v1().map_err(bad)?;
    let reflection_v1alpha = reflection().build_v1alpha().map_err(bad)?;
    let router = tonic::transport::Server::builder()
        .add_service(health)
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha)
        .add_service(GatewayServer::new(gateway::Gateway(services.clone())).with_limits(limits))
        .add_service(DeliverServer::new(deliver::Deliver(services.clone())).with_limits(limits))
        .add_service(AdminServer::new(admin::Admin(services)).with_limits(limits));
    let incoming = nodelay_incoming(listener);
    tracing::info!(%addr, "gRPC listening");
    Ok(tokio::spawn(async move {
        if let Err(e) = router.serve_with_incoming(incoming).await {
            tracing::error!(error = %e, "gRPC server stopped");
        }
    }))
}

/// The accepted connections of `listener`, with `TCP_NODELAY` set.
/// `serve_with_incoming` ignores the builder's `tcp_nodelay`; without it a
/// small response written in pieces (headers, data, trailers) waits for
/// the client's delayed ACK, about 40 ms per call on Linux.
fn nodelay_incoming(
    listener: tokio::net::TcpListener,
) -> impl tokio_stream::Stream<Item = std::io::Result<tokio::net::TcpStream>> {
    use tokio_stream::StreamExt as _;
    tokio_stream::wrappers::TcpListenerStream::new(listener).map(|accepted| {
        let stream = accepted?;
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!(error = %e, "cannot set TCP_NODELAY");
        }
        Ok(stream)
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use tokio_stream::StreamExt as _;

    #[tokio::test]
    async fn accepted_connections_do_not_wait_for_delayed_acks() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let client = tokio::spawn(tokio::net::TcpStream::connect(addr));
        let mut incoming = Box::pin(super::nodelay_incoming(listener));
        let accepted = incoming.next().await.unwrap().unwrap();
        assert!(accepted.nodelay().unwrap());
        client.await.unwrap().unwrap();
    }
}
