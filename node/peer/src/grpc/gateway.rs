//! `cryptanet.v1.Gateway`: submit signed envelopes for ordering and wait
//! for their commit status.

use super::Services;
use crate::endorser::Refusal;
use crate::run::unix_now;
use cryptanet_proto::convert::{tx_id_from_wire, tx_id_to_wire};
use cryptanet_proto::status::{error, reason as reasons, with_detail};
use cryptanet_proto::v1::{self, gateway_server};
use cryptanet_types::crypto::seen::verify_each_and_remember;
use cryptanet_types::{codec, Digest, Envelope, Proposal, PublicKey, Signature, TxPayload};
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

/// Most items in one EndorseBatch or SubmitBatch call.
pub const MAX_BATCH_ITEMS: usize = 1024;

/// Why one request failed: the gRPC code and the detail its status carries
/// (a unary call's status, or one item of a batch call).
struct Failed {
    code: Code,
    detail: v1::ErrorDetail,
}

impl Failed {
    fn new(code: Code, reason: &str, message: impl Into<String>) -> Failed {
        Failed {
            code,
            detail: v1::ErrorDetail {
                code: reason.to_owned(),
                message: message.into(),
                endorser: None,
            },
        }
    }

    fn status(&self) -> Status {
        with_detail(self.code, self.detail.message.clone(), &self.detail)
    }

    fn wire(self) -> v1::BatchItemError {
        v1::BatchItemError {
            grpc_code: self.code as i32,
            detail: Some(self.detail),
        }
    }
}

fn too_many(n: usize) -> Status {
    error(
        Code::InvalidArgument,
        reasons::INVALID_FIELD,
        format!("{n} items in one batch; at most {MAX_BATCH_ITEMS}"),
    )
}

/// An endorsement refusal: the code follows the reason; the detail carries
/// the reason and the endorser concerned.
fn refusal_failed(r: &Refusal, endorser: Option<String>) -> Failed {
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
    Failed {
        code,
        detail: v1::ErrorDetail {
            code: r.reason.clone(),
            message: r.message.clone(),
            endorser,
        },
    }
}

type EventStream = Pin<Box<dyn Stream<Item = Result<v1::ChaincodeEventsResponse, Status>> + Send>>;

/// An envelope as far as Submit checks it before ordering.
struct Admitted {
    bytes: Vec<u8>,
    envelope: Envelope,
    key: PublicKey,
    tx_id: Digest,
}

impl Gateway {
    /// Endorse, for one request.
    async fn endorse_one(&self, req: v1::EndorseRequest) -> Result<v1::EndorseResponse, Failed> {
        let bytes = req
            .signed_proposal
            .ok_or_else(|| {
                Failed::new(
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
            .map_err(|f| refusal_failed(&f.refusal, f.endorser))?;
        Ok(v1::EndorseResponse {
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
        })
    }

    /// Submit, for each of `envelopes`: refuses what validation would
    /// certainly reject (malformed bytes, strangers, bad signatures, ids
    /// already committed) before it costs ordering, then hands the rest to
    /// the ordering service. The creators' signatures are checked in
    /// batches (a bad one is found by bisection and refused alone).
    async fn submit_many(&self, envelopes: Vec<Vec<u8>>) -> Vec<Result<Digest, Failed>> {
        let now = unix_now();
        let admitted: Vec<Result<Admitted, Failed>> =
            envelopes.into_iter().map(|b| self.admit(b, now)).collect();
        let items: Vec<(&[u8], &Signature, &PublicKey)> = admitted
            .iter()
            .flatten()
            .map(|a| (a.envelope.payload.as_slice(), &a.envelope.signature, &a.key))
            .collect();
        // Remembered: this peer will not verify them again at commit.
        let mut signed = verify_each_and_remember(&items).into_iter();
        let mut out = Vec::with_capacity(admitted.len());
        for a in admitted {
            let outcome = match a {
                Err(f) => Err(f),
                Ok(a) if signed.next() == Some(true) => self.order(a).await,
                Ok(_) => Err(Failed::new(
                    Code::PermissionDenied,
                    reasons::BAD_SIGNATURE,
                    "envelope signature: signature does not verify",
                )),
            };
            out.push(outcome);
        }
        out
    }

    /// Decodes an envelope and identifies its creator.
    fn admit(&self, bytes: Vec<u8>, now: i64) -> Result<Admitted, Failed> {
        let malformed = |what: &str| {
            Failed::new(
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
        let key = self
            .0
            .network
            .verifier
            .public_key(&proposal.creator, None, now)
            .map_err(|e| {
                Failed::new(
                    Code::PermissionDenied,
                    reasons::BAD_SIGNATURE,
                    format!("envelope signature: {e}"),
                )
            })?;
        Ok(Admitted {
            tx_id: proposal.tx_id(),
            bytes,
            envelope,
            key,
        })
    }

    /// Hands a checked envelope to ordering unless its id is committed.
    async fn order(&self, a: Admitted) -> Result<Digest, Failed> {
        let committed = {
            let ledger = self
                .0
                .engine
                .ledger
                .read()
                .unwrap_or_else(|e| e.into_inner());
            ledger.contains_tx(&a.tx_id).map_err(|e| {
                Failed::new(Code::Internal, reasons::PEER_UNAVAILABLE, e.to_string())
            })?
        };
        if committed {
            return Err(Failed::new(
                Code::AlreadyExists,
                reasons::DUPLICATE_TXID,
                format!("transaction {} is already committed", a.tx_id),
            ));
        }
        self.0.engine.submit.send(a.bytes).await.map_err(|_| {
            Failed::new(
                Code::Unavailable,
                reasons::PEER_UNAVAILABLE,
                "peer is shutting down",
            )
        })?;
        Ok(a.tx_id)
    }
}

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
            .map_err(|r| refusal_failed(&r, None).status())?;
        Ok(Response::new(v1::EvaluateResponse {
            result: Some(wire_response(response)),
        }))
    }

    async fn endorse(
        &self,
        request: Request<v1::EndorseRequest>,
    ) -> Result<Response<v1::EndorseResponse>, Status> {
        self.endorse_one(request.into_inner())
            .await
            .map(Response::new)
            .map_err(|f| f.status())
    }

    async fn endorse_batch(
        &self,
        request: Request<v1::EndorseBatchRequest>,
    ) -> Result<Response<v1::EndorseBatchResponse>, Status> {
        let requests = request.into_inner().requests;
        if requests.len() > MAX_BATCH_ITEMS {
            return Err(too_many(requests.len()));
        }
        // Concurrently: the asks for each endorsing peer group themselves.
        let outcomes =
            futures::future::join_all(requests.into_iter().map(|r| self.endorse_one(r))).await;
        let results = outcomes
            .into_iter()
            .map(|o| v1::EndorseResult {
                result: Some(match o {
                    Ok(endorsed) => v1::endorse_result::Result::Endorsed(endorsed),
                    Err(f) => v1::endorse_result::Result::Error(f.wire()),
                }),
            })
            .collect();
        Ok(Response::new(v1::EndorseBatchResponse { results }))
    }

    async fn submit(
        &self,
        request: Request<v1::SubmitRequest>,
    ) -> Result<Response<v1::SubmitResponse>, Status> {
        let bytes = request.into_inner().envelope;
        match self.submit_many(vec![bytes]).await.pop() {
            Some(Ok(tx_id)) => Ok(Response::new(v1::SubmitResponse {
                tx_id: tx_id_to_wire(&tx_id),
            })),
            Some(Err(f)) => Err(f.status()),
            None => Err(Status::internal("no outcome")),
        }
    }

    async fn submit_batch(
        &self,
        request: Request<v1::SubmitBatchRequest>,
    ) -> Result<Response<v1::SubmitBatchResponse>, Status> {
        let envelopes = request.into_inner().envelopes;
        if envelopes.len() > MAX_BATCH_ITEMS {
            return Err(too_many(envelopes.len()));
        }
        let results = self
            .submit_many(envelopes)
            .await
            .into_iter()
            .map(|o| v1::SubmitResult {
                result: Some(match o {
                    Ok(tx_id) => v1::submit_result::Result::TxId(tx_id_to_wire(&tx_id)),
                    Err(f) => v1::submit_result::Result::Error(f.wire()),
                }),
            })
            .collect();
        Ok(Response::new(v1::SubmitBatchResponse { results }))
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
