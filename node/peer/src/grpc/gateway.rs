//! `cryptanet.v1.Gateway`: submit signed envelopes for ordering and wait
//! for their commit status.

use super::Services;
use crate::endorser::Refusal;
use crate::run::unix_now;
use cryptanet_proto::convert::{tx_id_from_wire, tx_id_to_wire};
use cryptanet_proto::status::{error, reason as reasons, with_detail};
use cryptanet_proto::v1::{self, gateway_server};
use cryptanet_types::{codec, Envelope, Proposal, TxPayload};
use std::pin::Pin;
use std::time::Duration;
use tokio_stream::Stream;
use tonic::{Code, Request, Response, Status};

/// How long CommitStatus waits for a transaction that is not committed yet.
const COMMIT_WAIT: Duration = Duration::from_secs(60);

pub(crate) struct Gateway(pub(crate) Services);

fn wire_response(r: cryptanet_types::Response) -> v1::Response {
    v1::Response {
        status: r.status,
        message: r.message,
        payload: r.payload,
    }
}

/// The gRPC status for an endorsement refusal: the code follows the
/// reason; the detail carries the reason and the endorser concerned.
fn refusal_status(r: &Refusal, endorser: Option<String>) -> Status {
    let code = match r.reason.as_str() {
        reasons::MALFORMED_BYTES | reasons::INVALID_FIELD => Code::InvalidArgument,
        reasons::BAD_SIGNATURE | reasons::NOT_A_MEMBER | reasons::NOT_AN_ADMIN => {
            Code::PermissionDenied
        }
        reasons::NOT_FOUND => Code::NotFound,
        reasons::DUPLICATE_TXID => Code::AlreadyExists,
        reasons::PEER_UNAVAILABLE | reasons::POLICY_UNSATISFIABLE => Code::Unavailable,
        reasons::ENDORSEMENT_MISMATCH | reasons::CHAINCODE_ERROR => Code::Aborted,
        reasons::LIFECYCLE_STATE => Code::FailedPrecondition,
        _ => Code::Unknown,
    };
    with_detail(
        code,
        r.message.clone(),
        &v1::ErrorDetail {
            code: r.reason.clone(),
            message: r.message.clone(),
            endorser,
        },
    )
}

type EventStream = Pin<Box<dyn Stream<Item = Result<v1::ChaincodeEventsResponse, Status>> + Send>>;

#[tonic::async_trait]
impl gateway_server::Gateway for Gateway {
    async fn evaluate(
        &self,
        request: Request<v1::SignedProposal>,
    ) -> Result<Response<v1::EvaluateResponse>, Status> {
        let bytes = request.into_inner().signed_proposal;
        let response = self
            .0
            .gatherer
            .evaluate(bytes)
            .await
            .map_err(|r| refusal_status(&r, None))?;
        Ok(Response::new(v1::EvaluateResponse {
            result: Some(wire_response(response)),
        }))
    }

    async fn endorse(
        &self,
        request: Request<v1::EndorseRequest>,
    ) -> Result<Response<v1::EndorseResponse>, Status> {
        let req = request.into_inner();
        let bytes = req
            .signed_proposal
            .ok_or_else(|| {
                error(
                    Code::InvalidArgument,
                    reasons::INVALID_FIELD,
                    "signed_proposal is required",
                )
            })?
            .signed_proposal;
        let gathered = self
            .0
            .gatherer
            .endorse(bytes, &req.endorsing_orgs)
            .await
            .map_err(|f| refusal_status(&f.refusal, f.endorser))?;
        Ok(Response::new(v1::EndorseResponse {
            prepared_transaction: gathered.prepared,
            endorsers: gathered
                .endorsers
                .into_iter()
                .map(|r| v1::EndorserInfo {
                    msp_id: r.msp_id,
                    peer: r.name,
                    certificate: r.cert_der,
                })
                .collect(),
            result: Some(wire_response(gathered.response)),
            tx_id: tx_id_to_wire(&gathered.tx_id),
        }))
    }

    async fn submit(
        &self,
        request: Request<v1::SubmitRequest>,
    ) -> Result<Response<v1::SubmitResponse>, Status> {
        let bytes = request.into_inner().envelope;
        let malformed = |what: &str| {
            error(
                Code::InvalidArgument,
                reasons::MALFORMED_BYTES,
                format!("malformed {what}"),
            )
        };
        let envelope = Envelope::from_bytes(&bytes).map_err(|_| malformed("envelope"))?;
        let payload: TxPayload =
            codec::decode(&envelope.payload).map_err(|_| malformed("transaction payload"))?;
        let proposal: Proposal =
            codec::decode(&payload.proposal_bytes).map_err(|_| malformed("proposal"))?;
        // Refuse what validation would certainly reject, before it costs
        // ordering: strangers and bad signatures.
        self.0
            .network
            .verifier
            .verify(
                &proposal.creator,
                None,
                &envelope.payload,
                &envelope.signature,
                unix_now(),
            )
            .map_err(|e| {
                error(
                    Code::PermissionDenied,
                    reasons::BAD_SIGNATURE,
                    format!("envelope signature: {e}"),
                )
            })?;
        let tx_id = proposal.tx_id();
        let committed = {
            let ledger = self
                .0
                .engine
                .ledger
                .read()
                .unwrap_or_else(|e| e.into_inner());
            ledger
                .contains_tx(&tx_id)
                .map_err(|e| Status::internal(e.to_string()))?
        };
        if committed {
            return Err(error(
                Code::AlreadyExists,
                reasons::DUPLICATE_TXID,
                format!("transaction {tx_id} is already committed"),
            ));
        }
        self.0.engine.submit.send(bytes).await.map_err(|_| {
            error(
                Code::Unavailable,
                reasons::PEER_UNAVAILABLE,
                "peer is shutting down",
            )
        })?;
        Ok(Response::new(v1::SubmitResponse {
            tx_id: tx_id_to_wire(&tx_id),
        }))
    }

    async fn commit_status(
        &self,
        request: Request<v1::CommitStatusRequest>,
    ) -> Result<Response<v1::CommitStatusResponse>, Status> {
        let tx_id = tx_id_from_wire(&request.get_ref().tx_id).map_err(|e| {
            error(
                Code::InvalidArgument,
                reasons::INVALID_FIELD,
                format!("tx_id: {e}"),
            )
        })?;
        // Subscribe before looking, so a commit between the two is not missed.
        let mut commits = self.0.engine.commits.subscribe();
        let deadline = tokio::time::Instant::now() + COMMIT_WAIT;
        loop {
            let found = {
                let ledger = self
                    .0
                    .engine
                    .ledger
                    .read()
                    .unwrap_or_else(|e| e.into_inner());
                ledger
                    .tx(&tx_id)
                    .map_err(|e| Status::internal(e.to_string()))?
            };
            if let Some(loc) = found {
                return Ok(Response::new(v1::CommitStatusResponse {
                    validation_code: cryptanet_proto::validation::to_wire(loc.code),
                    block_number: loc.block,
                }));
            }
            match tokio::time::timeout_at(deadline, commits.recv()).await {
                Err(_) => {
                    return Err(Status::deadline_exceeded(format!(
                        "transaction {tx_id} not committed within {COMMIT_WAIT:?}"
                    )))
                }
                Ok(Err(tokio::sync::broadcast::error::RecvError::Closed)) => {
                    return Err(error(
                        Code::Unavailable,
                        reasons::PEER_UNAVAILABLE,
                        "peer is shutting down",
                    ))
                }
                Ok(_) => {} // a block committed (or we lagged): look again
            }
        }
    }

    type ChaincodeEventsStream = EventStream;

    async fn chaincode_events(
        &self,
        request: Request<v1::ChaincodeEventsRequest>,
    ) -> Result<Response<Self::ChaincodeEventsStream>, Status> {
        let req = request.into_inner();
        let start = match req.start_block {
            Some(n) => n.max(1),
            None => {
                self.0
                    .engine
                    .ledger
                    .read()
                    .unwrap_or_else(|e| e.into_inner())
                    .height()
                    + 1
            }
        };
        let chaincode = req.chaincode;
        let stream = super::deliver::follow(
            self.0.engine.clone(),
            start,
            None,
            move |block| {
                let events = cryptanet_proto::convert::chaincode_events(block, &chaincode);
                (!events.events.is_empty()).then_some(events)
            },
            None,
        );
        Ok(Response::new(Box::pin(stream)))
    }
}
