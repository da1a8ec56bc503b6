//! `cryptanet.v1.Admin`: peer information. Lifecycle RPCs arrive with the
//! gRPC transaction flow (issue 7).

use super::Services;
use cryptanet_proto::v1::{self, admin_server};
use tonic::{Request, Response, Status};

pub(crate) struct Admin(pub(crate) Services);

fn later<T>(what: &str) -> Result<Response<T>, Status> {
    Err(Status::unimplemented(format!(
        "{what} is not served by this peer version yet (lifecycle over gRPC: issue 7)"
    )))
}

#[tonic::async_trait]
impl admin_server::Admin for Admin {
    async fn peer_info(
        &self,
        _: Request<v1::PeerInfoRequest>,
    ) -> Result<Response<v1::PeerInfoResponse>, Status> {
        let (height, hash) = {
            let l = self
                .0
                .engine
                .ledger
                .read()
                .unwrap_or_else(|e| e.into_inner());
            (l.height(), l.last_hash())
        };
        let status = self.0.engine.status.borrow().clone();
        let me = self.0.network.my_replica();
        let primary = self
            .0
            .network
            .replicas
            .get(status.primary as usize)
            .map(|r| r.name.clone())
            .unwrap_or_default();
        Ok(Response::new(v1::PeerInfoResponse {
            msp_id: me.msp_id.clone(),
            peer_name: me.name.clone(),
            height,
            last_block_hash: hash.0.to_vec(),
            view: status.view,
            primary,
            connected_peers: Vec::new(),
        }))
    }

    async fn install_chaincode(
        &self,
        _: Request<v1::InstallChaincodeRequest>,
    ) -> Result<Response<v1::InstallChaincodeResponse>, Status> {
        later("InstallChaincode")
    }
    async fn approve_chaincode(
        &self,
        _: Request<v1::ApproveChaincodeRequest>,
    ) -> Result<Response<v1::LifecycleTxResponse>, Status> {
        later("ApproveChaincode")
    }
    async fn commit_chaincode(
        &self,
        _: Request<v1::CommitChaincodeRequest>,
    ) -> Result<Response<v1::LifecycleTxResponse>, Status> {
        later("CommitChaincode")
    }
    async fn query_committed_chaincode(
        &self,
        _: Request<v1::QueryCommittedChaincodeRequest>,
    ) -> Result<Response<v1::ChaincodeDefinition>, Status> {
        later("QueryCommittedChaincode")
    }
    async fn install_model(
        &self,
        _: Request<v1::InstallModelRequest>,
    ) -> Result<Response<v1::InstallModelResponse>, Status> {
        later("InstallModel")
    }
    async fn approve_model(
        &self,
        _: Request<v1::ApproveModelRequest>,
    ) -> Result<Response<v1::LifecycleTxResponse>, Status> {
        later("ApproveModel")
    }
    async fn activate_model(
        &self,
        _: Request<v1::ActivateModelRequest>,
    ) -> Result<Response<v1::LifecycleTxResponse>, Status> {
        later("ActivateModel")
    }
    async fn query_model(
        &self,
        _: Request<v1::QueryModelRequest>,
    ) -> Result<Response<v1::ModelInfo>, Status> {
        later("QueryModel")
    }
}
