//! `cryptanet.v1.Admin`: peer information, installation of chaincode
//! packages and detection models, committed definitions and active models.
//! Approving and committing definitions (and activating models) are
//! `_lifecycle` transactions through the Gateway.

use super::Services;
use crate::run::unix_now;
use cryptanet_chaincode::lifecycle::{
    check_commit_readiness, query_active_model, query_committed, Definition,
};
use cryptanet_proto::status::{error, reason};
use cryptanet_proto::v1::{self, admin_server};
use cryptanet_types::identity::{Identity, Role};
use cryptanet_types::Signature;
use tonic::{Code, Request, Response, Status};

pub(crate) struct Admin(pub(crate) Services);

impl Admin {
    /// The admin of this peer's org who signed `signed`, or why not.
    fn my_admin(
        &self,
        signed: &[u8],
        certificate: &[u8],
        signature: &[u8],
    ) -> Result<Identity, Status> {
        let signature = <[u8; 64]>::try_from(signature)
            .map(Signature)
            .map_err(|_| {
                error(
                    Code::InvalidArgument,
                    reason::INVALID_FIELD,
                    "signature must be 64 bytes",
                )
            })?;
        let admin = self
            .0
            .network
            .verifier
            .verify(
                certificate,
                Some(Role::Admin),
                signed,
                &signature,
                unix_now(),
            )
            .map_err(|e| error(Code::PermissionDenied, reason::NOT_AN_ADMIN, format!("{e}")))?;
        let my_org = &self.0.network.my_replica().msp_id;
        if &admin.msp_id != my_org {
            return Err(error(
                Code::PermissionDenied,
                reason::NOT_AN_ADMIN,
                format!(
                    "only an admin of {my_org} may install on this peer, not one of {}",
                    admin.msp_id
                ),
            ));
        }
        Ok(admin)
    }

    /// Member orgs whose approval of exactly `def` is on the ledger.
    fn approved_orgs<D: Definition>(
        &self,
        state: &dyn cryptanet_chaincode::StateView,
        def: &D,
    ) -> Result<Vec<String>, Status> {
        let orgs: Vec<String> = self
            .0
            .network
            .orgs
            .iter()
            .map(|o| o.msp_id.clone())
            .collect();
        Ok(check_commit_readiness(state, &orgs, def)
            .map_err(|e| Status::internal(e.to_string()))?
            .into_iter()
            .filter_map(|(org, ok)| ok.then_some(org))
            .collect())
    }
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
        request: Request<v1::InstallChaincodeRequest>,
    ) -> Result<Response<v1::InstallChaincodeResponse>, Status> {
        let req = request.into_inner();
        let admin = self.my_admin(&req.package, &req.admin_certificate, &req.signature)?;
        let endorser = self.0.gatherer.endorser.clone();
        let installed = tokio::task::spawn_blocking(move || {
            endorser
                .installed()
                .install(endorser.runtime(), &req.package)
        })
        .await
        .map_err(|e| Status::internal(e.to_string()))?;
        let package_id = installed.map_err(|e| {
            error(
                Code::InvalidArgument,
                reason::MALFORMED_BYTES,
                format!("package: {e}"),
            )
        })?;
        tracing::info!(%package_id, admin = %admin.common_name, "chaincode installed");
        Ok(Response::new(v1::InstallChaincodeResponse { package_id }))
    }

    async fn list_installed_chaincodes(
        &self,
        _: Request<v1::ListInstalledChaincodesRequest>,
    ) -> Result<Response<v1::ListInstalledChaincodesResponse>, Status> {
        let mut package_ids = self
            .0
            .gatherer
            .endorser
            .installed()
            .installed()
            .map_err(|e| Status::internal(e.to_string()))?;
        package_ids.sort();
        Ok(Response::new(v1::ListInstalledChaincodesResponse {
            package_ids,
        }))
    }

    async fn query_committed_chaincode(
        &self,
        request: Request<v1::QueryCommittedChaincodeRequest>,
    ) -> Result<Response<v1::ChaincodeDefinition>, Status> {
        let name = request.into_inner().name;
        let state = self.0.gatherer.endorser.state();
        let def = query_committed(state.as_ref(), &name)
            .map_err(|e| Status::internal(e.to_string()))?
            .ok_or_else(|| {
                error(
                    Code::NotFound,
                    reason::NOT_FOUND,
                    format!("chaincode {name} is not committed"),
                )
            })?;
        let approved_orgs = self.approved_orgs(state.as_ref(), &def)?;
        Ok(Response::new(v1::ChaincodeDefinition {
            name: def.name,
            sequence: def.sequence,
            package_id: def.package_id,
            endorsement_policy: def.endorsement_policy,
            approved_orgs,
            version: def.version,
        }))
    }

    async fn install_model(
        &self,
        request: Request<v1::InstallModelRequest>,
    ) -> Result<Response<v1::InstallModelResponse>, Status> {
        let req = request.into_inner();
        let admin = self.my_admin(&req.model, &req.admin_certificate, &req.signature)?;
        let endorser = self.0.gatherer.endorser.clone();
        let installed = tokio::task::spawn_blocking(move || endorser.models().install(&req.model))
            .await
            .map_err(|e| Status::internal(e.to_string()))?;
        let model_hash = installed.map_err(|e| {
            error(
                Code::InvalidArgument,
                reason::MALFORMED_BYTES,
                format!("model: {e}"),
            )
        })?;
        tracing::info!(model = %model_hash, admin = %admin.common_name, "model installed");
        Ok(Response::new(v1::InstallModelResponse { model_hash }))
    }

    async fn list_installed_models(
        &self,
        _: Request<v1::ListInstalledModelsRequest>,
    ) -> Result<Response<v1::ListInstalledModelsResponse>, Status> {
        let model_hashes = self
            .0
            .gatherer
            .endorser
            .models()
            .installed()
            .map_err(|e| Status::internal(e.to_string()))?;
        Ok(Response::new(v1::ListInstalledModelsResponse {
            model_hashes,
        }))
    }

    async fn query_active_model(
        &self,
        request: Request<v1::QueryActiveModelRequest>,
    ) -> Result<Response<v1::ModelDefinition>, Status> {
        let class = request.into_inner().class;
        let state = self.0.gatherer.endorser.state();
        let def = query_active_model(state.as_ref(), &class)
            .map_err(|e| Status::internal(e.to_string()))?
            .ok_or_else(|| {
                error(
                    Code::NotFound,
                    reason::NOT_FOUND,
                    format!("no model is active for product class {class}"),
                )
            })?;
        let approved_orgs = self.approved_orgs(state.as_ref(), &def)?;
        let installed_here = self
            .0
            .gatherer
            .endorser
            .models()
            .model(&def.model_hash)
            .is_some();
        Ok(Response::new(v1::ModelDefinition {
            class: def.class,
            model_hash: def.model_hash,
            sequence: def.sequence,
            approved_orgs,
            installed_here,
        }))
    }
}
