//! A client-side helper: one connection to a peer, the three service
//! clients with [`Limits`] applied, and calls that take and return
//! `cryptanet-types` values instead of raw bytes.
//!
//! The update flow is Fabric's: [`PeerClient::endorse`] a signed proposal,
//! [`Endorsed::sign`] the prepared transaction bytes exactly as received,
//! [`PeerClient::submit`] the envelope, then wait with
//! [`PeerClient::commit_status`]. [`PeerClient::submit_and_wait`] does all four.

use crate::convert::{tx_id_from_wire, tx_id_to_wire};
use crate::error::{Error, Result};
use crate::limits::{Limits, WithLimits};
use crate::v1::{
    self, admin_client::AdminClient, deliver_client::DeliverClient, gateway_client::GatewayClient,
};
use cryptanet_types::crypto::{sign, SigningKey};
use cryptanet_types::{Digest, Envelope, Response, SignedProposal, ValidationCode};
use std::time::Duration;
use tonic::transport::{Channel, Endpoint};
use tonic::Streaming;

/// How long [`PeerClient::connect`] waits for the TCP and HTTP/2 handshake.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Clients for the Gateway, Deliver and Admin services of one peer, sharing
/// one HTTP/2 connection. Cloning is cheap.
#[derive(Clone, Debug)]
pub struct PeerClient {
    limits: Limits,
    gateway: GatewayClient<Channel>,
    deliver: DeliverClient<Channel>,
    admin: AdminClient<Channel>,
}

/// The result of a successful endorsement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endorsed {
    /// Canonical `TxPayload` bytes, to be signed exactly as they are.
    pub prepared_transaction: Vec<u8>,
    /// The transaction id.
    pub tx_id: Digest,
    /// The chaincode response the endorsers agreed on.
    pub result: Response,
    /// Who endorsed.
    pub endorsers: Vec<v1::EndorserInfo>,
}

impl Endorsed {
    /// Signs the prepared transaction bytes (never re-encoded) into an envelope.
    pub fn sign(&self, key: &SigningKey) -> Envelope {
        Envelope {
            payload: self.prepared_transaction.clone(),
            signature: sign(key, &self.prepared_transaction),
        }
    }
}

/// A committed transaction's outcome.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CommitStatus {
    /// How validation judged it.
    pub code: ValidationCode,
    /// The block that holds it.
    pub block_number: u64,
}

fn response_from_wire(r: Option<v1::Response>) -> Result<Response> {
    let r = r.ok_or(Error::MissingField { field: "result" })?;
    Ok(Response {
        status: r.status,
        message: r.message,
        payload: r.payload,
    })
}

/// Refuses a request over the limit before sending it. (A tonic client
/// sending one anyway resets the HTTP/2 stream and reports `INTERNAL`.)
fn check_size<M: prost::Message>(message: &M, limits: Limits) -> Result<()> {
    let len = message.encoded_len();
    if len > limits.max_request_bytes {
        return Err(Error::RequestTooLarge {
            len,
            limit: limits.max_request_bytes,
        });
    }
    Ok(())
}

impl PeerClient {
    /// Connects to `uri` (e.g. `http://127.0.0.1:7051`).
    pub async fn connect(uri: &str, limits: Limits) -> Result<Self> {
        let channel = Endpoint::from_shared(uri.to_owned())?
            .connect_timeout(CONNECT_TIMEOUT)
            .connect()
            .await?;
        Ok(Self::from_channel(channel, limits))
    }

    /// Wraps an existing channel (e.g. one configured with TLS).
    pub fn from_channel(channel: Channel, limits: Limits) -> Self {
        PeerClient {
            limits,
            gateway: GatewayClient::new(channel.clone()).with_limits(limits),
            deliver: DeliverClient::new(channel.clone()).with_limits(limits),
            admin: AdminClient::new(channel).with_limits(limits),
        }
    }

    /// The generated Gateway client.
    pub fn gateway(&self) -> GatewayClient<Channel> {
        self.gateway.clone()
    }

    /// The generated Deliver client.
    pub fn deliver(&self) -> DeliverClient<Channel> {
        self.deliver.clone()
    }

    /// The generated Admin client.
    pub fn admin(&self) -> AdminClient<Channel> {
        self.admin.clone()
    }

    /// Evaluates a proposal on the peer (a query: nothing is ordered).
    pub async fn evaluate(&self, proposal: &SignedProposal) -> Result<Response> {
        let request = v1::SignedProposal {
            signed_proposal: cryptanet_types::codec::encode(proposal)?,
        };
        check_size(&request, self.limits)?;
        let reply = self.gateway().evaluate(request).await?.into_inner();
        response_from_wire(reply.result)
    }

    /// Asks the gateway to collect endorsements (from `orgs`, or as the
    /// chaincode's policy needs when empty).
    pub async fn endorse(&self, proposal: &SignedProposal, orgs: &[String]) -> Result<Endorsed> {
        let request = v1::EndorseRequest {
            signed_proposal: Some(v1::SignedProposal {
                signed_proposal: cryptanet_types::codec::encode(proposal)?,
            }),
            endorsing_orgs: orgs.to_vec(),
        };
        check_size(&request, self.limits)?;
        let reply = self.gateway().endorse(request).await?.into_inner();
        Ok(Endorsed {
            tx_id: tx_id_from_wire(&reply.tx_id)?,
            result: response_from_wire(reply.result)?,
            prepared_transaction: reply.prepared_transaction,
            endorsers: reply.endorsers,
        })
    }

    /// Endorses several proposals in one call (`EndorseBatch`, at most
    /// 1024): one outcome per proposal, in order, each what
    /// [`PeerClient::endorse`] would have returned for it. The outer
    /// `Result` is the call's own failure.
    pub async fn endorse_batch(
        &self,
        proposals: &[SignedProposal],
        orgs: &[String],
    ) -> Result<Vec<Result<Endorsed>>> {
        let requests = proposals
            .iter()
            .map(|p| {
                Ok(v1::EndorseRequest {
                    signed_proposal: Some(v1::SignedProposal {
                        signed_proposal: cryptanet_types::codec::encode(p)?,
                    }),
                    endorsing_orgs: orgs.to_vec(),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let request = v1::EndorseBatchRequest { requests };
        check_size(&request, self.limits)?;
        let reply = self.gateway().endorse_batch(request).await?.into_inner();
        if reply.results.len() != proposals.len() {
            return Err(Error::MissingField {
                field: "EndorseBatchResponse.results (one per request)",
            });
        }
        Ok(reply
            .results
            .into_iter()
            .map(|r| match r.result {
                Some(v1::endorse_result::Result::Endorsed(e)) => Ok(Endorsed {
                    tx_id: tx_id_from_wire(&e.tx_id)?,
                    result: response_from_wire(e.result)?,
                    prepared_transaction: e.prepared_transaction,
                    endorsers: e.endorsers,
                }),
                Some(v1::endorse_result::Result::Error(e)) => Err(item_error(e)),
                None => Err(Error::MissingField {
                    field: "EndorseResult.result",
                }),
            })
            .collect())
    }

    /// Submits several signed envelopes in one call (`SubmitBatch`, at
    /// most 1024): one outcome per envelope, in order, each what
    /// [`PeerClient::submit`] would have returned for it.
    pub async fn submit_batch(&self, envelopes: &[Envelope]) -> Result<Vec<Result<Digest>>> {
        let request = v1::SubmitBatchRequest {
            envelopes: envelopes
                .iter()
                .map(Envelope::to_bytes)
                .collect::<std::result::Result<_, _>>()?,
        };
        check_size(&request, self.limits)?;
        let reply = self.gateway().submit_batch(request).await?.into_inner();
        if reply.results.len() != envelopes.len() {
            return Err(Error::MissingField {
                field: "SubmitBatchResponse.results (one per envelope)",
            });
        }
        Ok(reply
            .results
            .into_iter()
            .map(|r| match r.result {
                Some(v1::submit_result::Result::TxId(id)) => tx_id_from_wire(&id),
                Some(v1::submit_result::Result::Error(e)) => Err(item_error(e)),
                None => Err(Error::MissingField {
                    field: "SubmitResult.result",
                }),
            })
            .collect())
    }

    /// Submits a signed envelope for ordering; returns its tx id.
    pub async fn submit(&self, envelope: &Envelope) -> Result<Digest> {
        let request = v1::SubmitRequest {
            envelope: envelope.to_bytes()?,
        };
        check_size(&request, self.limits)?;
        let reply = self.gateway().submit(request).await?.into_inner();
        tx_id_from_wire(&reply.tx_id)
    }

    /// Waits up to `wait` for the transaction to commit (sent as the call
    /// deadline). A transaction not committed in time gives `Error::Rpc`
    /// with `DeadlineExceeded`.
    pub async fn commit_status(&self, tx_id: &Digest, wait: Duration) -> Result<CommitStatus> {
        let mut request = tonic::Request::new(v1::CommitStatusRequest {
            tx_id: tx_id_to_wire(tx_id),
        });
        request.set_timeout(wait);
        let reply = self.gateway().commit_status(request).await?.into_inner();
        Ok(CommitStatus {
            code: crate::validation::from_wire(reply.validation_code)?,
            block_number: reply.block_number,
        })
    }

    /// Endorses, signs, submits and waits for the commit.
    pub async fn submit_and_wait(
        &self,
        proposal: &SignedProposal,
        key: &SigningKey,
        wait: Duration,
    ) -> Result<CommitStatus> {
        let endorsed = self.endorse(proposal, &[]).await?;
        let tx_id = self.submit(&endorsed.sign(key)).await?;
        self.commit_status(&tx_id, wait).await
    }

    /// Streams the events of `chaincode` from `start_block` (or from the
    /// next block) on. The stream stays open until dropped.
    pub async fn chaincode_events(
        &self,
        chaincode: &str,
        start_block: Option<u64>,
    ) -> Result<Streaming<v1::ChaincodeEventsResponse>> {
        let request = v1::ChaincodeEventsRequest {
            chaincode: chaincode.to_owned(),
            start_block,
        };
        Ok(self.gateway().chaincode_events(request).await?.into_inner())
    }
}

/// A batch item's error, shaped as the unary call's would be.
fn item_error(e: v1::BatchItemError) -> Error {
    Error::Rpc {
        code: tonic::Code::from(e.grpc_code),
        message: e
            .detail
            .as_ref()
            .map(|d| d.message.clone())
            .unwrap_or_default(),
        detail: e.detail,
    }
}
