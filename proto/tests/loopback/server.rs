//! The in-test peer: the test Gateway and Deliver, served with health and
//! reflection on an ephemeral loopback port.

use crate::test_deliver::TestDeliver;
use crate::test_gateway::TestGateway;
use cryptanet_proto::v1::deliver_server::DeliverServer;
use cryptanet_proto::v1::gateway_server::GatewayServer;
use cryptanet_proto::{client::PeerClient, Limits, WithLimits};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Upper bound for any single wait in these tests.
pub const BOUND: Duration = Duration::from_secs(20);

/// A running test peer.
pub struct TestPeer {
    pub addr: SocketAddr,
    shutdown: oneshot::Sender<()>,
    task: JoinHandle<Result<(), tonic::transport::Error>>,
}

impl TestPeer {
    /// Serves Gateway (with `limits`), health and reflection on 127.0.0.1:0.
    pub async fn start(limits: Limits) -> TestPeer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (health_reporter, health) = tonic_health::server::health_reporter();
        health_reporter
            .set_serving::<GatewayServer<TestGateway>>()
            .await;
        let reflection = || {
            tonic_reflection::server::Builder::configure()
                .register_encoded_file_descriptor_set(cryptanet_proto::FILE_DESCRIPTOR_SET)
                .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        };
        // v1 for current tools, v1alpha for older clients (e.g. grpcio-reflection).
        let reflection_v1 = reflection().build_v1().unwrap();
        let reflection_v1alpha = reflection().build_v1alpha().unwrap();
        let ledger = TestGateway::default();
        let deliver = DeliverServer::new(TestDeliver {
            blocks: ledger.blocks.clone(),
        })
        .with_limits(limits);
        let gateway = GatewayServer::new(ledger).with_limits(limits);
        let (shutdown, stop) = oneshot::channel::<()>();
        let incoming = tokio_stream::wrappers::TcpListenerStream::new(listener);
        let task = tokio::spawn(
            tonic::transport::Server::builder()
                .add_service(health)
                .add_service(reflection_v1)
                .add_service(reflection_v1alpha)
                .add_service(gateway)
                .add_service(deliver)
                .serve_with_incoming_shutdown(incoming, async {
                    let _ = stop.await;
                }),
        );
        TestPeer {
            addr,
            shutdown,
            task,
        }
    }

    pub fn uri(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub async fn channel(&self) -> tonic::transport::Channel {
        tonic::transport::Endpoint::from_shared(self.uri())
            .unwrap()
            .connect()
            .await
            .unwrap()
    }

    pub async fn client(&self) -> PeerClient {
        PeerClient::connect(&self.uri(), Limits::default())
            .await
            .unwrap()
    }

    /// Shuts the server down and checks it exited cleanly.
    pub async fn stop(self) {
        let _ = self.shutdown.send(());
        tokio::time::timeout(BOUND, self.task)
            .await
            .expect("server did not stop in time")
            .unwrap()
            .unwrap();
    }
}
