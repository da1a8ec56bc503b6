//! The in-test peer: a minimal Gateway implementation over an in-memory
//! ledger (one block per submitted envelope), served with health and
//! reflection on an ephemeral loopback port.

use cryptanet_proto::status::{error, reason};
use cryptanet_proto::v1::deliver_request::Start;
use cryptanet_proto::v1::deliver_response::Content;
use cryptanet_proto::v1::deliver_server::{Deliver, DeliverServer};
use cryptanet_proto::v1::gateway_server::{Gateway, GatewayServer};
use cryptanet_proto::{client::PeerClient, convert, v1, Limits, WithLimits};
use cryptanet_types::tx::TxPayload;
use cryptanet_types::{
    codec, Block, Digest, Envelope, ProposalResponsePayload, SignedProposal, TxRwSet,
    ValidationCode,
};
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio_stream::Stream;
use tonic::{Code, Request, Response, Status};

/// Upper bound for any single wait in these tests.
pub const BOUND: Duration = Duration::from_secs(20);

/// The chaincode and event name the test gateway "runs".
pub const CHAINCODE: &str = "supply-chain";
pub const EVENT: &str = "ReadingRecorded";

#[derive(Clone, Default)]
pub struct TestGateway {
    blocks: Arc<Mutex<Vec<Block>>>,
}

fn malformed(what: &str, e: impl std::fmt::Display) -> Status {
    error(
        Code::InvalidArgument,
        reason::MALFORMED_BYTES,
        format!("{what}: {e}"),
    )
}

fn signed_proposal(bytes: &[u8]) -> Result<SignedProposal, Status> {
    codec::decode(bytes).map_err(|e| malformed("signed_proposal", e))
}

#[tonic::async_trait]
impl Gateway for TestGateway {
    async fn evaluate(
        &self,
        request: Request<v1::SignedProposal>,
    ) -> Result<Response<v1::EvaluateResponse>, Status> {
        let sp = signed_proposal(&request.get_ref().signed_proposal)?;
        let proposal = sp.proposal().map_err(|e| malformed("proposal", e))?;
        Ok(Response::new(v1::EvaluateResponse {
            result: Some(v1::Response {
                status: 200,
                message: String::new(),
                payload: proposal.function.into_bytes(),
            }),
        }))
    }

    async fn endorse(
        &self,
        request: Request<v1::EndorseRequest>,
    ) -> Result<Response<v1::EndorseResponse>, Status> {
        let bytes = request
            .into_inner()
            .signed_proposal
            .map(|p| p.signed_proposal)
            .unwrap_or_default();
        let sp = signed_proposal(&bytes)?;
        let proposal = sp.proposal().map_err(|e| malformed("proposal", e))?;
        let response = cryptanet_types::Response {
            status: 200,
            message: "ok".into(),
            payload: proposal.args.concat(),
        };
        let prp = ProposalResponsePayload {
            proposal_hash: Digest::of(&sp.proposal_bytes),
            chaincode: proposal.chaincode.clone(),
            chaincode_sequence: 1,
            rwset: TxRwSet::default(),
            response: response.clone(),
            event: Some(cryptanet_types::ChaincodeEvent {
                name: EVENT.into(),
                payload: proposal.args.concat(),
            }),
        };
        let payload = TxPayload {
            proposal_bytes: sp.proposal_bytes,
            proposal_signature: sp.signature,
            response_bytes: codec::encode(&prp).map_err(|e| Status::internal(e.to_string()))?,
            endorsements: vec![],
        };
        Ok(Response::new(v1::EndorseResponse {
            prepared_transaction: codec::encode(&payload)
                .map_err(|e| Status::internal(e.to_string()))?,
            endorsers: vec![v1::EndorserInfo {
                msp_id: "Org1MSP".into(),
                peer: "peer0.org1".into(),
                certificate: vec![],
            }],
            result: Some(v1::Response {
                status: response.status,
                message: response.message,
                payload: response.payload,
            }),
            tx_id: convert::tx_id_to_wire(&proposal.tx_id()),
        }))
    }

    async fn submit(
        &self,
        request: Request<v1::SubmitRequest>,
    ) -> Result<Response<v1::SubmitResponse>, Status> {
        let raw = request.into_inner().envelope;
        let envelope = Envelope::from_bytes(&raw).map_err(|e| malformed("envelope", e))?;
        let payload = envelope
            .decode_payload()
            .map_err(|e| malformed("payload", e))?;
        let proposal: cryptanet_types::Proposal =
            codec::decode(&payload.proposal_bytes).map_err(|e| malformed("proposal", e))?;
        let mut blocks = self.blocks.lock().unwrap();
        let previous = blocks.last().map(Block::hash).unwrap_or(Digest::ZERO);
        let mut block = Block::new(blocks.len() as u64 + 1, previous, vec![raw]);
        block.metadata.validation_codes = vec![ValidationCode::Valid];
        blocks.push(block);
        Ok(Response::new(v1::SubmitResponse {
            tx_id: convert::tx_id_to_wire(&proposal.tx_id()),
        }))
    }

    async fn commit_status(
        &self,
        request: Request<v1::CommitStatusRequest>,
    ) -> Result<Response<v1::CommitStatusResponse>, Status> {
        let wanted = convert::tx_id_from_wire(&request.get_ref().tx_id)
            .map_err(|e| error(Code::InvalidArgument, reason::INVALID_FIELD, e.to_string()))?;
        if wanted == Digest::ZERO {
            // Never committed: wait until the call deadline cancels us.
            std::future::pending::<()>().await;
        }
        let blocks = self.blocks.lock().unwrap();
        for block in blocks.iter() {
            let filtered = convert::filtered_block(block);
            if let Some(tx) = filtered
                .txs
                .iter()
                .find(|t| t.tx_id == convert::tx_id_to_wire(&wanted))
            {
                return Ok(Response::new(v1::CommitStatusResponse {
                    validation_code: tx.validation_code,
                    block_number: block.header.number,
                }));
            }
        }
        Err(error(
            Code::NotFound,
            reason::NOT_FOUND,
            format!("transaction {wanted} is not committed"),
        ))
    }

    type ChaincodeEventsStream =
        Pin<Box<dyn Stream<Item = Result<v1::ChaincodeEventsResponse, Status>> + Send>>;

    /// Streams the blocks committed so far and ends (a real peer would
    /// then wait for new blocks).
    async fn chaincode_events(
        &self,
        request: Request<v1::ChaincodeEventsRequest>,
    ) -> Result<Response<Self::ChaincodeEventsStream>, Status> {
        let request = request.into_inner();
        let start = request.start_block.unwrap_or(1);
        let responses: Vec<_> = self
            .blocks
            .lock()
            .unwrap()
            .iter()
            .filter(|b| b.header.number >= start)
            .map(|b| convert::chaincode_events(b, &request.chaincode))
            .filter(|r| !r.events.is_empty())
            .map(Ok)
            .collect();
        Ok(Response::new(Box::pin(tokio_stream::iter(responses))))
    }
}

/// A minimal Deliver over the same blocks: sends what is committed, up to
/// `stop`, then the SUCCESS status (a real peer would wait for new blocks).
#[derive(Clone)]
pub struct TestDeliver {
    blocks: Arc<Mutex<Vec<Block>>>,
}

impl TestDeliver {
    fn selected(&self, request: &v1::DeliverRequest) -> Vec<Block> {
        let blocks = self.blocks.lock().unwrap();
        let height = blocks.len() as u64;
        let start = match request.start {
            Some(Start::Oldest(_)) => 1,
            Some(Start::Number(n)) => n,
            Some(Start::Newest(_)) | None => height.max(1),
        };
        let stop = request.stop.unwrap_or(height);
        blocks
            .iter()
            .filter(|b| (start..=stop).contains(&b.header.number))
            .cloned()
            .collect()
    }
}

type BoxStream<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send>>;

#[tonic::async_trait]
impl Deliver for TestDeliver {
    type BlocksStream = BoxStream<v1::DeliverResponse>;

    async fn blocks(
        &self,
        request: Request<v1::DeliverRequest>,
    ) -> Result<Response<Self::BlocksStream>, Status> {
        let mut out = Vec::new();
        for block in self.selected(request.get_ref()) {
            let message =
                convert::block_message(&block).map_err(|e| Status::internal(e.to_string()))?;
            out.push(Ok(v1::DeliverResponse {
                content: Some(Content::Block(message)),
            }));
        }
        out.push(Ok(v1::DeliverResponse {
            content: Some(Content::Status(v1::DeliverStatus::Success as i32)),
        }));
        Ok(Response::new(Box::pin(tokio_stream::iter(out))))
    }

    type FilteredBlocksStream = BoxStream<v1::FilteredBlock>;

    async fn filtered_blocks(
        &self,
        request: Request<v1::DeliverRequest>,
    ) -> Result<Response<Self::FilteredBlocksStream>, Status> {
        let out: Vec<_> = self
            .selected(request.get_ref())
            .iter()
            .map(|b| Ok(convert::filtered_block(b)))
            .collect();
        Ok(Response::new(Box::pin(tokio_stream::iter(out))))
    }
}

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
