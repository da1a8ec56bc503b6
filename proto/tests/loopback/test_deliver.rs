//! The in-test Deliver, reading the test Gateway's blocks.

use cryptanet_proto::v1::deliver_request::Start;
use cryptanet_proto::v1::deliver_response::Content;
use cryptanet_proto::v1::deliver_server::Deliver;
use cryptanet_proto::{convert, v1};
use cryptanet_types::Block;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use tokio_stream::Stream;
use tonic::{Request, Response, Status};

/// A minimal Deliver over the same blocks: sends what is committed, up to
/// `stop`, then the SUCCESS status (a real peer would wait for new blocks).
#[derive(Clone)]
pub struct TestDeliver {
    pub blocks: Arc<Mutex<Vec<Block>>>,
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
