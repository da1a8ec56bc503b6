//! The Rust client library: an identity plus a connection to one gateway
//! peer. It builds and signs proposals, evaluates them, has them endorsed,
//! signs the prepared transaction, submits it and waits for its commit.
//! Events and blocks stream through [`Client::peer`].
//!
//! ```no_run
//! # async fn demo(identity: cryptanet_types::identity::LocalIdentity) -> cryptanet_cli::Result<()> {
//! use cryptanet_cli::client::Client;
//! let client = Client::connect("http://127.0.0.1:7051", identity).await?;
//! let shipment = client.evaluate("supply-chain", "GetShipment", &["S1"]).await?;
//! let done = client.invoke("supply-chain", "TransferCustody", &["S1", "Org2"]).await?;
//! println!("{} in block {}", done.tx_id, done.status.block_number);
//! # Ok(()) }
//! ```

use crate::error::{Error, Result};
use cryptanet_proto::client::{CommitStatus, Endorsed, PeerClient};
use cryptanet_proto::Limits;
use cryptanet_types::identity::LocalIdentity;
use cryptanet_types::{tx::transient_hash, Digest, Proposal, Response, SignedProposal};
use rand_core::{OsRng, RngCore};
use std::time::Duration;

/// How long [`Client::invoke`] waits for the commit by default.
pub const COMMIT_WAIT: Duration = Duration::from_secs(60);

/// A committed invocation.
#[derive(Clone, Debug)]
pub struct Committed {
    /// Transaction id.
    pub tx_id: Digest,
    /// Validation code and block.
    pub status: CommitStatus,
    /// The chaincode response the endorsers agreed on.
    pub response: Response,
}

/// A client identity connected to one gateway peer.
#[derive(Clone)]
pub struct Client {
    peer: PeerClient,
    identity: LocalIdentity,
}

impl Client {
    /// Connects to the peer at `uri` (e.g. `http://127.0.0.1:7051`) as
    /// `identity`.
    pub async fn connect(uri: &str, identity: LocalIdentity) -> Result<Client> {
        let peer = PeerClient::connect(uri, Limits::default()).await?;
        Ok(Client { peer, identity })
    }

    /// The same connection under another identity.
    pub fn with_identity(&self, identity: LocalIdentity) -> Client {
        Client {
            peer: self.peer.clone(),
            identity,
        }
    }

    /// The underlying gRPC clients (Deliver streams, Admin, raw calls).
    pub fn peer(&self) -> &PeerClient {
        &self.peer
    }

    /// The identity that signs.
    pub fn identity(&self) -> &LocalIdentity {
        &self.identity
    }

    /// A signed proposal for `function(args)` of `chaincode`, with a fresh
    /// random nonce (hence a fresh transaction id).
    pub fn proposal<A: AsRef<[u8]>>(
        &self,
        chaincode: &str,
        function: &str,
        args: &[A],
    ) -> Result<SignedProposal> {
        let mut nonce = [0u8; 24];
        OsRng.fill_bytes(&mut nonce);
        let timestamp_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        let proposal = Proposal {
            chaincode: chaincode.to_owned(),
            function: function.to_owned(),
            args: args.iter().map(|a| a.as_ref().to_vec()).collect(),
            creator: self.identity.cert_der().to_vec(),
            nonce: nonce.to_vec(),
            timestamp_ms,
            transient_hash: transient_hash(&Vec::new())?,
        };
        Ok(SignedProposal::new(
            &proposal,
            Vec::new(),
            self.identity.signing_key(),
        )?)
    }

    /// Runs a query on the gateway peer; nothing is ordered.
    pub async fn evaluate<A: AsRef<[u8]>>(
        &self,
        chaincode: &str,
        function: &str,
        args: &[A],
    ) -> Result<Response> {
        let proposal = self.proposal(chaincode, function, args)?;
        Ok(self.peer.evaluate(&proposal).await?)
    }

    /// Has a signed proposal endorsed (by `orgs`, or as the policy needs
    /// when empty).
    pub async fn endorse(&self, proposal: &SignedProposal, orgs: &[String]) -> Result<Endorsed> {
        Ok(self.peer.endorse(proposal, orgs).await?)
    }

    /// Signs an endorsed transaction, submits it and waits up to `wait` for
    /// its commit; any validation code is returned, VALID or not.
    pub async fn submit(&self, endorsed: &Endorsed, wait: Duration) -> Result<CommitStatus> {
        let envelope = endorsed.sign(self.identity.signing_key());
        let tx_id = self.peer.submit(&envelope).await?;
        Ok(self.peer.commit_status(&tx_id, wait).await?)
    }

    /// Endorses, submits and waits: succeeds only if the transaction
    /// commits VALID.
    pub async fn invoke<A: AsRef<[u8]>>(
        &self,
        chaincode: &str,
        function: &str,
        args: &[A],
    ) -> Result<Committed> {
        let proposal = self.proposal(chaincode, function, args)?;
        let endorsed = self.endorse(&proposal, &[]).await?;
        let status = self.submit(&endorsed, COMMIT_WAIT).await?;
        if !status.code.is_valid() {
            return Err(Error::NotValid {
                tx_id: endorsed.tx_id.to_hex(),
                code: status.code.name(),
            });
        }
        Ok(Committed {
            tx_id: endorsed.tx_id,
            status,
            response: endorsed.result,
        })
    }
}

/// A gateway URI from `host:port` (plain HTTP/2) or a full URI.
pub fn uri(addr: &str) -> String {
    if addr.contains("://") {
        addr.to_owned()
    } else {
        format!("http://{addr}")
    }
}
