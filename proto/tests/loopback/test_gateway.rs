//! The in-test Gateway: an in-memory ledger with one block per submitted
//! envelope, no real endorsement or validation.

use cryptanet_proto::status::{error, reason};
use cryptanet_proto::v1::gateway_server::Gateway;
use cryptanet_proto::{convert, v1};
use cryptanet_types::tx::TxPayload;
use cryptanet_types::{
    codec, Block, Digest, Envelope, ProposalResponsePayload, SignedProposal, TxRwSet,
    ValidationCode,
};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use tokio_stream::Stream;
use tonic::{Code, Request, Response, Status};

/// The chaincode and event name the test gateway "runs".
pub const CHAINCODE: &str = "supply-chain";
pub const EVENT: &str = "ReadingRecorded";

#[derive(Clone, Default)]
pub struct TestGateway {
    pub blocks: Arc<Mutex<Vec<Block>>>,
}

fn malformed(what: &str, e: impl std::fmt::Display) -> Status {
    error(
        Code::InvalidArgument,
        reason::MALFORMED_BYTES,
        format!("{what}: {e}"),
    )
}

/// One batch item's error, as the unary call's status carries it.
fn item_error(status: &Status) -> v1::BatchItemError {
    v1::BatchItemError {
        grpc_code: status.code() as i32,
        detail: cryptanet_proto::status::error_detail(status).ok().flatten(),
    }
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

    async fn endorse_batch(
        &self,
        request: Request<v1::EndorseBatchRequest>,
    ) -> Result<Response<v1::EndorseBatchResponse>, Status> {
        let mut results = Vec::new();
        for r in request.into_inner().requests {
            let result = match self.endorse(Request::new(r)).await {
                Ok(e) => v1::endorse_result::Result::Endorsed(e.into_inner()),
                Err(s) => v1::endorse_result::Result::Error(item_error(&s)),
            };
            results.push(v1::EndorseResult {
                result: Some(result),
            });
        }
        Ok(Response::new(v1::EndorseBatchResponse { results }))
    }

    async fn submit_batch(
        &self,
        request: Request<v1::SubmitBatchRequest>,
    ) -> Result<Response<v1::SubmitBatchResponse>, Status> {
        let mut results = Vec::new();
        for envelope in request.into_inner().envelopes {
            let result = match self
                .submit(Request::new(v1::SubmitRequest { envelope }))
                .await
            {
                Ok(r) => v1::submit_result::Result::TxId(r.into_inner().tx_id),
                Err(s) => v1::submit_result::Result::Error(item_error(&s)),
            };
            results.push(v1::SubmitResult {
                result: Some(result),
            });
        }
        Ok(Response::new(v1::SubmitBatchResponse { results }))
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
