//! Wire framing for the request-response protocols (and, through
//! [`read_body`], the one-way streams): a 4-byte big-endian
//! length, then that many opaque bytes.
//!
//! The reader checks the length against the protocol's limit before reading
//! the body, so an oversize message costs four bytes of reading, not an
//! allocation; it is dropped with a tracing line and counted. libp2p then
//! closes the stream and the sender sees a failed request.

use crate::error::MessageKind;
use crate::metrics::Metrics;
use futures::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use libp2p::request_response::Codec;
use libp2p::StreamProtocol;
use std::io;
use std::sync::Arc;

/// Length-prefixed `Vec<u8>` codec with per-direction size limits.
#[derive(Debug, Clone)]
pub(crate) struct FrameCodec {
    request_kind: MessageKind,
    max_request: usize,
    response_kind: MessageKind,
    max_response: usize,
    metrics: Arc<Metrics>,
}

impl FrameCodec {
    /// A codec for requests of `request_kind` (at most `max_request` bytes)
    /// answered by responses of at most `max_response` bytes.
    pub(crate) fn new(
        request_kind: MessageKind,
        max_request: usize,
        response_kind: MessageKind,
        max_response: usize,
        metrics: Arc<Metrics>,
    ) -> FrameCodec {
        FrameCodec {
            request_kind,
            max_request,
            response_kind,
            max_response,
            metrics,
        }
    }
}

/// Reads one frame. Truncation is counted as malformed only for inbound
/// requests: a failed response read is already a failed request for the
/// sender.
async fn read_frame<T>(
    io: &mut T,
    kind: MessageKind,
    limit: usize,
    metrics: &Metrics,
    count_malformed: bool,
) -> io::Result<Vec<u8>>
where
    T: AsyncRead + Unpin + Send,
{
    let mut prefix = [0u8; 4];
    if let Err(e) = io.read_exact(&mut prefix).await {
        if count_malformed {
            Metrics::bump(&metrics.malformed_dropped);
        }
        tracing::debug!(%kind, error = %e, "frame without a complete length prefix");
        return Err(e);
    }
    read_body(io, prefix, kind, limit, metrics, count_malformed).await
}

/// Reads the body of a frame whose length prefix is `prefix`, after checking
/// the length against `limit` (an oversize frame is counted and refused
/// without reading or allocating its body).
pub(crate) async fn read_body<T>(
    io: &mut T,
    prefix: [u8; 4],
    kind: MessageKind,
    limit: usize,
    metrics: &Metrics,
    count_malformed: bool,
) -> io::Result<Vec<u8>>
where
    T: AsyncRead + Unpin + Send,
{
    let len = usize::try_from(u32::from_be_bytes(prefix)).unwrap_or(usize::MAX);
    if len > limit {
        Metrics::bump(&metrics.oversize_dropped);
        tracing::warn!(%kind, len, limit, "inbound message over the size limit dropped");
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            crate::Error::MessageTooLarge { kind, len, limit },
        ));
    }
    let mut body = vec![0u8; len];
    if let Err(e) = io.read_exact(&mut body).await {
        if count_malformed {
            Metrics::bump(&metrics.malformed_dropped);
        }
        tracing::debug!(%kind, len, error = %e, "truncated frame dropped");
        return Err(e);
    }
    Ok(body)
}

async fn write_frame<T>(io: &mut T, kind: MessageKind, limit: usize, body: &[u8]) -> io::Result<()>
where
    T: AsyncWrite + Unpin + Send,
{
    let len = u32::try_from(body.len())
        .ok()
        .filter(|_| body.len() <= limit)
        .ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                crate::Error::MessageTooLarge {
                    kind,
                    len: body.len(),
                    limit,
                },
            )
        })?;
    io.write_all(&len.to_be_bytes()).await?;
    io.write_all(body).await?;
    io.flush().await
}

impl Codec for FrameCodec {
    type Protocol = StreamProtocol;
    type Request = Vec<u8>;
    type Response = Vec<u8>;

    async fn read_request<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<Vec<u8>>
    where
        T: AsyncRead + Unpin + Send,
    {
        read_frame(io, self.request_kind, self.max_request, &self.metrics, true).await
    }

    async fn read_response<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<Vec<u8>>
    where
        T: AsyncRead + Unpin + Send,
    {
        read_frame(
            io,
            self.response_kind,
            self.max_response,
            &self.metrics,
            false,
        )
        .await
    }

    async fn write_request<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        req: Vec<u8>,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        write_frame(io, self.request_kind, self.max_request, &req).await
    }

    async fn write_response<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        res: Vec<u8>,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        write_frame(io, self.response_kind, self.max_response, &res).await
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use futures::io::Cursor;

    const P: StreamProtocol = StreamProtocol::new("/test/1");

    fn codec(max: usize, metrics: &Arc<Metrics>) -> FrameCodec {
        FrameCodec::new(
            MessageKind::Consensus,
            max,
            MessageKind::Consensus,
            16,
            metrics.clone(),
        )
    }

    #[tokio::test]
    async fn frames_round_trip() {
        let m = Arc::new(Metrics::default());
        let mut c = codec(100, &m);
        let mut wire = Cursor::new(Vec::new());
        c.write_request(&P, &mut wire, b"pre-prepare".to_vec())
            .await
            .unwrap();
        c.write_response(&P, &mut wire, Vec::new()).await.unwrap();
        wire.set_position(0);
        assert_eq!(c.read_request(&P, &mut wire).await.unwrap(), b"pre-prepare");
        assert!(c.read_response(&P, &mut wire).await.unwrap().is_empty());
        assert_eq!(m.snapshot(), Default::default());
    }

    #[tokio::test]
    async fn oversize_prefix_is_refused_before_reading_the_body() {
        let m = Arc::new(Metrics::default());
        let mut c = codec(10, &m);
        // Claims 4 GiB but carries nothing: must not allocate or wait.
        let mut wire = Cursor::new(vec![0xff, 0xff, 0xff, 0xff]);
        let err = c.read_request(&P, &mut wire).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert_eq!(m.snapshot().oversize_dropped, 1);
        // The writer refuses too, and nothing reaches the wire.
        let mut out = Cursor::new(Vec::new());
        assert!(c.write_request(&P, &mut out, vec![0; 11]).await.is_err());
        assert!(out.into_inner().is_empty());
    }

    #[tokio::test]
    async fn truncated_frames_are_counted_as_malformed() {
        let m = Arc::new(Metrics::default());
        let mut c = codec(10, &m);
        let mut short_prefix = Cursor::new(vec![0, 0]);
        assert!(c.read_request(&P, &mut short_prefix).await.is_err());
        let mut short_body = Cursor::new(vec![0, 0, 0, 5, 1, 2]);
        assert!(c.read_request(&P, &mut short_body).await.is_err());
        assert_eq!(m.snapshot().malformed_dropped, 2);
    }
}
