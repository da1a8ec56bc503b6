//! `cryptanet.v1.Deliver`: stream blocks (or filtered blocks) from a start
//! position, waiting for new blocks once caught up.

use super::Services;
use crate::engine::EngineHandle;
use cryptanet_proto::v1::{self, deliver_request::Start, deliver_server};
use cryptanet_types::Block;
use std::pin::Pin;
use tokio_stream::Stream;
use tonic::{Request, Response, Status};

pub(crate) struct Deliver(pub(crate) Services);

type BoxStream<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send>>;

/// Streams `map(block)` for blocks `start..=stop` (forever without `stop`),
/// skipping blocks for which `map` returns None, then `done` (if any) once
/// `stop` is reached.
pub(crate) fn follow<T: Send + 'static>(
    engine: EngineHandle,
    start: u64,
    stop: Option<u64>,
    map: impl Fn(&Block) -> Option<T> + Send + 'static,
    done: Option<T>,
) -> impl Stream<Item = Result<T, Status>> + Send {
    let (tx, rx) = tokio::sync::mpsc::channel(16);
    tokio::spawn(async move {
        let mut commits = engine.commits.subscribe();
        let mut next = start.max(1);
        loop {
            if stop.is_some_and(|s| next > s) {
                if let Some(d) = done {
                    let _ = tx.send(Ok(d)).await;
                }
                return;
            }
            let block = {
                let ledger = engine.ledger.read().unwrap_or_else(|e| e.into_inner());
                ledger.block(next)
            };
            match block {
                Ok(Some(b)) => {
                    next += 1;
                    if let Some(item) = map(&b) {
                        if tx.send(Ok(item)).await.is_err() {
                            return; // client went away
                        }
                    }
                }
                Ok(None) => match commits.recv().await {
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                    _ => continue,
                },
                Err(e) => {
                    let _ = tx.send(Err(Status::internal(e.to_string()))).await;
                    return;
                }
            }
        }
    });
    tokio_stream::wrappers::ReceiverStream::new(rx)
}

fn start_of(engine: &EngineHandle, req: &v1::DeliverRequest) -> u64 {
    let height = engine
        .ledger
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .height();
    match req.start {
        None | Some(Start::Oldest(_)) => 1,
        Some(Start::Newest(_)) => height.max(1),
        Some(Start::Number(n)) => n.max(1),
    }
}

#[tonic::async_trait]
impl deliver_server::Deliver for Deliver {
    type BlocksStream = BoxStream<v1::DeliverResponse>;
    type FilteredBlocksStream = BoxStream<v1::FilteredBlock>;

    async fn blocks(
        &self,
        request: Request<v1::DeliverRequest>,
    ) -> Result<Response<Self::BlocksStream>, Status> {
        let req = request.into_inner();
        let start = start_of(&self.0.engine, &req);
        let done = v1::DeliverResponse {
            content: Some(v1::deliver_response::Content::Status(
                v1::DeliverStatus::Success as i32,
            )),
        };
        let stream = follow(
            self.0.engine.clone(),
            start,
            req.stop,
            |b| {
                cryptanet_proto::convert::block_message(b)
                    .ok()
                    .map(|m| v1::DeliverResponse {
                        content: Some(v1::deliver_response::Content::Block(m)),
                    })
            },
            Some(done),
        );
        Ok(Response::new(Box::pin(stream)))
    }

    async fn filtered_blocks(
        &self,
        request: Request<v1::DeliverRequest>,
    ) -> Result<Response<Self::FilteredBlocksStream>, Status> {
        let req = request.into_inner();
        let start = start_of(&self.0.engine, &req);
        let stream = follow(
            self.0.engine.clone(),
            start,
            req.stop,
            |b| Some(cryptanet_proto::convert::filtered_block(b)),
            None,
        );
        Ok(Response::new(Box::pin(stream)))
    }
}
