//! One-way messages (PBFT messages, envelopes forwarded to the primary) on
//! long-lived streams.
//!
//! Each peer keeps one outbound stream per remote peer and kind, opened when
//! a connection is up and reopened when it fails. A writer task per (peer,
//! kind) drains that peer's queue into the stream: the frames of every
//! message waiting (a 4-byte big-endian length, then the bytes) go out in
//! one write and one flush, so a burst costs one trip through noise and the
//! socket instead of a stream, a protocol negotiation and an
//! acknowledgement per message (which the request-response protocols cost
//! until 2026-11-24). Messages to one peer arrive in the order they were
//! sent.
//!
//! Loss is as before: a message is best effort. While a peer is
//! disconnected its messages wait (bounded; the oldest are dropped beyond
//! `pending_per_peer` / `pending_bytes_per_peer`). While it is connected, a
//! sender whose message does not fit waits for the writer to make room
//! (backpressure). Messages written to a
//! stream that then breaks are lost and counted in `send_failures`; PBFT's
//! retransmission recovers them.
//!
//! A new stream carries nothing until the remote's reader has written one
//! ready byte back: libp2p drops an inbound stream that its acceptor has no
//! room for, and what was written into it would be lost.
//!
//! Inbound, a reader task per stream checks each frame's length against the
//! kind's limit before reading its body. An oversize or truncated frame is
//! counted and the stream dropped (the sender notices and opens a new one);
//! a stream from a peer that is not in the network definition is never
//! read (the allow-list refuses such connections before any stream).
//! Readers wait for room in the application's event queue, so a slow
//! application stops the reading and yamux flow control pushes back on the
//! sender.

use super::codec::read_body;
use crate::error::MessageKind;
use crate::event::Event;
use crate::metrics::Metrics;
use crate::peer::PeerIndex;
use futures::{AsyncReadExt, AsyncWriteExt, StreamExt};
use libp2p::{PeerId, Stream, StreamProtocol};
use libp2p_stream::{Control, IncomingStreams};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, watch, Notify};

/// Bytes of queued messages written with one flush, at most (a single
/// larger message is written alone).
const WRITE_CHUNK: usize = 1 << 20;

/// Wait before trying again to open a stream that failed to open.
const REOPEN_DELAY: Duration = Duration::from_millis(200);

/// The byte a reader writes once when it takes a stream; the writer waits
/// for it before writing anything.
const READY: u8 = 1;

/// How long a writer waits for [`READY`].
const READY_TIMEOUT: Duration = Duration::from_secs(5);

/// Messages held for one peer and kind.
#[derive(Default)]
struct Held {
    msgs: VecDeque<Vec<u8>>,
    bytes: usize,
    /// A run of drops is under way (one log line per run).
    dropping: bool,
}

/// What [`SendQueue::push`] had to drop to make room.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Dropped {
    /// Messages dropped (the oldest held).
    pub(crate) count: usize,
    /// Their bytes.
    pub(crate) bytes: usize,
    /// This push started a run of drops (log it).
    pub(crate) first: bool,
    /// Messages held after the push.
    pub(crate) held: usize,
    /// Bytes held after the push.
    pub(crate) held_bytes: usize,
}

/// One peer's queue of one kind of one-way message, bounded by count and
/// bytes, dropping the oldest beyond the bounds.
pub(crate) struct SendQueue {
    held: Mutex<Held>,
    ready: Notify,
    /// Signalled when the writer takes messages (room for waiting senders).
    room: Notify,
    max_count: usize,
    max_bytes: usize,
}

impl SendQueue {
    /// A queue holding at most `max_count` messages and `max_bytes` bytes
    /// (a single larger message is held alone).
    pub(crate) fn new(max_count: usize, max_bytes: usize) -> SendQueue {
        SendQueue {
            held: Mutex::new(Held::default()),
            ready: Notify::new(),
            room: Notify::new(),
            max_count: max_count.max(1),
            max_bytes,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Held> {
        self.held.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether `len` more bytes fit without dropping anything.
    fn fits(&self, len: usize) -> bool {
        let h = self.lock();
        h.msgs.is_empty() || (h.msgs.len() < self.max_count && h.bytes + len <= self.max_bytes)
    }

    /// Queues `bytes`, waiting for room while `connected` says the peer is
    /// connected (its writer is draining the queue: backpressure); while it
    /// is not, the oldest held messages make room instead.
    pub(crate) async fn push_or_wait(
        &self,
        bytes: Vec<u8>,
        connected: &mut watch::Receiver<bool>,
    ) -> Dropped {
        loop {
            let room = self.room.notified();
            tokio::pin!(room);
            room.as_mut().enable();
            if self.fits(bytes.len()) || !*connected.borrow_and_update() {
                return self.push(bytes);
            }
            tokio::select! {
                _ = room => {}
                changed = connected.changed() => {
                    if changed.is_err() {
                        return self.push(bytes);
                    }
                }
            }
        }
    }

    /// Queues `bytes` for the writer, first dropping the oldest held
    /// messages until it fits.
    pub(crate) fn push(&self, bytes: Vec<u8>) -> Dropped {
        let mut h = self.lock();
        let mut dropped = Dropped::default();
        while h.msgs.len() >= self.max_count
            || (!h.msgs.is_empty() && h.bytes + bytes.len() > self.max_bytes)
        {
            let Some(old) = h.msgs.pop_front() else { break };
            h.bytes -= old.len();
            dropped.count += 1;
            dropped.bytes += old.len();
        }
        if dropped.count > 0 {
            dropped.first = !h.dropping;
            h.dropping = true;
        } else if h.msgs.len() < self.max_count / 2 && h.bytes < self.max_bytes / 2 {
            h.dropping = false;
        }
        h.bytes += bytes.len();
        h.msgs.push_back(bytes);
        dropped.held = h.msgs.len();
        dropped.held_bytes = h.bytes;
        drop(h);
        self.ready.notify_one();
        dropped
    }

    /// Takes the oldest held messages, at least one and otherwise at most
    /// `max_bytes` of them, waiting until there is one. Cancel-safe: nothing
    /// is taken unless it is returned.
    async fn take(&self, max_bytes: usize) -> Vec<Vec<u8>> {
        loop {
            {
                let mut h = self.lock();
                if !h.msgs.is_empty() {
                    let mut out = Vec::new();
                    let mut bytes = 0;
                    while let Some(m) = h.msgs.front() {
                        if !out.is_empty() && bytes + m.len() > max_bytes {
                            break;
                        }
                        bytes += m.len();
                        if let Some(m) = h.msgs.pop_front() {
                            out.push(m);
                        }
                    }
                    h.bytes -= bytes;
                    drop(h);
                    self.room.notify_waiters();
                    return out;
                }
            }
            self.ready.notified().await;
        }
    }
}

/// Appends the frame of each message to `buf`.
fn encode_frames(buf: &mut Vec<u8>, msgs: &[Vec<u8>]) {
    for m in msgs {
        // Every message passed the sender's limit check, far below 4 GiB.
        let len = u32::try_from(m.len()).unwrap_or(u32::MAX);
        buf.extend_from_slice(&len.to_be_bytes());
        buf.extend_from_slice(m);
    }
}

/// The writer of one (peer, kind): opens the stream when the peer is
/// connected and drains the queue into it.
pub(crate) struct Writer {
    pub(crate) me: PeerIndex,
    pub(crate) to: PeerIndex,
    pub(crate) peer_id: PeerId,
    pub(crate) kind: MessageKind,
    pub(crate) protocol: StreamProtocol,
    pub(crate) queue: Arc<SendQueue>,
    pub(crate) control: Control,
    /// Whether the swarm has a connection to the peer; closed when the
    /// swarm stops, which stops the writer.
    pub(crate) connected: watch::Receiver<bool>,
    pub(crate) metrics: Arc<Metrics>,
}

impl Writer {
    /// Runs until the swarm stops.
    pub(crate) async fn run(mut self) {
        loop {
            if self.connected.wait_for(|up| *up).await.is_err() {
                return;
            }
            match self
                .control
                .open_stream(self.peer_id, self.protocol.clone())
                .await
            {
                Ok(stream) => self.pump(stream).await,
                Err(e) => {
                    tracing::debug!(me = %self.me, peer = %self.to, kind = %self.kind, error = %e, "stream not opened; retrying");
                    tokio::time::sleep(REOPEN_DELAY).await;
                }
            }
        }
    }

    /// Writes queued messages into `stream` until it fails.
    async fn pump(&mut self, stream: Stream) {
        let (mut rd, mut wr) = stream.split();
        let mut probe = [0u8; 1];
        // Nothing is written before the remote's reader says it took the
        // stream: libp2p drops an inbound stream its acceptor has no room
        // for, and messages written into it would be lost.
        match tokio::time::timeout(READY_TIMEOUT, rd.read_exact(&mut probe)).await {
            Ok(Ok(())) if probe[0] == READY => {}
            outcome => {
                tracing::debug!(me = %self.me, peer = %self.to, kind = %self.kind, ?outcome, "stream not taken by the remote; reopening");
                tokio::time::sleep(REOPEN_DELAY).await;
                return;
            }
        }
        let mut buf = Vec::new();
        loop {
            let msgs = tokio::select! {
                msgs = self.queue.take(WRITE_CHUNK) => msgs,
                // The remote never writes on this stream: end of stream or an
                // error means it dropped the stream (for example over an
                // oversize frame) or the connection is gone.
                _ = rd.read(&mut probe) => {
                    Metrics::bump(&self.metrics.send_failures);
                    tracing::debug!(me = %self.me, peer = %self.to, kind = %self.kind, "stream closed by the remote; reopening");
                    return;
                }
            };
            buf.clear();
            encode_frames(&mut buf, &msgs);
            let written = async {
                wr.write_all(&buf).await?;
                wr.flush().await
            }
            .await;
            if let Err(e) = written {
                for _ in &msgs {
                    Metrics::bump(&self.metrics.send_failures);
                }
                tracing::debug!(me = %self.me, peer = %self.to, kind = %self.kind, lost = msgs.len(), error = %e, "stream write failed; reopening");
                return;
            }
        }
    }
}

/// Accepts inbound streams of `kind` and starts a reader for each stream
/// from a listed peer.
pub(crate) async fn accept(
    mut incoming: IncomingStreams,
    kind: MessageKind,
    limit: usize,
    index: HashMap<PeerId, PeerIndex>,
    events: mpsc::Sender<Event>,
    metrics: Arc<Metrics>,
) {
    while let Some((peer, stream)) = incoming.next().await {
        let Some(from) = index.get(&peer).copied() else {
            tracing::warn!(%peer, %kind, "stream from unlisted peer dropped");
            continue;
        };
        tokio::spawn(read_stream(
            stream,
            from,
            kind,
            limit,
            events.clone(),
            metrics.clone(),
        ));
    }
}

/// Reads frames from `stream` and hands them to the application until the
/// stream ends or breaks a rule (oversize or truncated frame).
async fn read_stream(
    mut stream: Stream,
    from: PeerIndex,
    kind: MessageKind,
    limit: usize,
    events: mpsc::Sender<Event>,
    metrics: Arc<Metrics>,
) {
    if let Err(e) = async {
        stream.write_all(&[READY]).await?;
        stream.flush().await
    }
    .await
    {
        tracing::debug!(%from, %kind, error = %e, "inbound stream gone before it was ready");
        return;
    }
    loop {
        let Ok(Some(bytes)) = next_frame(&mut stream, kind, limit, &metrics).await else {
            return;
        };
        let event = match kind {
            MessageKind::Envelope => Event::Envelope { from, bytes },
            _ => Event::Consensus { from, bytes },
        };
        if events.send(event).await.is_err() {
            return;
        }
        Metrics::bump(&metrics.delivered);
    }
}

/// The next frame, or `None` at a clean end of stream (between frames).
async fn next_frame<T>(
    io: &mut T,
    kind: MessageKind,
    limit: usize,
    metrics: &Metrics,
) -> std::io::Result<Option<Vec<u8>>>
where
    T: futures::AsyncRead + Unpin + Send,
{
    let mut prefix = [0u8; 4];
    if io.read(&mut prefix[..1]).await? == 0 {
        return Ok(None);
    }
    if let Err(e) = io.read_exact(&mut prefix[1..]).await {
        Metrics::bump(&metrics.malformed_dropped);
        tracing::debug!(%kind, error = %e, "frame without a complete length prefix");
        return Err(e);
    }
    read_body(io, prefix, kind, limit, metrics, true)
        .await
        .map(Some)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use futures::io::Cursor;

    #[test]
    fn held_messages_are_bounded_by_count_and_bytes_dropping_the_oldest() {
        let q = SendQueue::new(3, 1000);
        let push = |len: usize| {
            let d = q.push(vec![len as u8; len]);
            (d.count, d.bytes)
        };
        assert_eq!(push(400), (0, 0));
        assert_eq!(push(300), (0, 0));
        // 700 + 400 > 1000: the oldest (400) goes.
        assert_eq!(push(400), (1, 400));
        assert_eq!(q.lock().bytes, 700);
        // Count bound: 3 held at most.
        assert_eq!(push(1), (0, 0));
        assert_eq!(push(1), (1, 300));
        // A message larger than the bound empties the queue but is held
        // alone (it cannot be sent in pieces).
        assert_eq!(push(2000), (3, 402));
        let h = q.lock();
        assert_eq!((h.msgs.len(), h.bytes), (1, 2000));
    }

    #[test]
    fn a_run_of_drops_is_reported_once() {
        let q = SendQueue::new(2, 1 << 20);
        assert!(!q.push(vec![1]).first);
        assert!(!q.push(vec![2]).first);
        let d = q.push(vec![3]);
        assert!(d.first && d.count == 1 && d.held == 2);
        assert!(!q.push(vec![4]).first, "same run");
    }

    #[tokio::test]
    async fn take_returns_at_most_a_chunk_but_always_one_message() {
        let q = SendQueue::new(100, 1 << 20);
        for len in [10, 10, 10, 50] {
            q.push(vec![0; len]);
        }
        assert_eq!(q.take(25).await.len(), 2);
        assert_eq!(q.take(25).await.len(), 1);
        // Larger than the chunk: still taken, alone.
        assert_eq!(q.take(25).await, vec![vec![0; 50]]);
        assert_eq!(q.lock().bytes, 0);
        // Waits for the next push.
        let q = Arc::new(q);
        let waiter = tokio::spawn({
            let q = q.clone();
            async move { q.take(25).await }
        });
        tokio::task::yield_now().await;
        q.push(b"late".to_vec());
        assert_eq!(waiter.await.unwrap(), vec![b"late".to_vec()]);
    }

    #[tokio::test]
    async fn a_full_queue_makes_senders_wait_while_connected_and_drop_while_not() {
        let q = Arc::new(SendQueue::new(2, 1 << 20));
        let (up, mut connected) = watch::channel(true);
        q.push(vec![1]);
        q.push(vec![2]);
        // Connected and full: the third waits until the writer takes.
        let waiting = tokio::spawn({
            let (q, mut c) = (q.clone(), connected.clone());
            async move { q.push_or_wait(vec![3], &mut c).await }
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!waiting.is_finished());
        assert_eq!(q.take(1).await, vec![vec![1]]);
        assert_eq!(waiting.await.unwrap().count, 0, "nothing dropped");
        // Disconnected: no waiting, the oldest goes.
        up.send_replace(false);
        let d = q.push_or_wait(vec![4], &mut connected).await;
        assert_eq!(d.count, 1);
        assert_eq!(q.take(10).await, vec![vec![3], vec![4]]);
        // A disconnect while waiting releases the sender.
        up.send_replace(true);
        q.push(vec![5]);
        q.push(vec![6]);
        let waiting = tokio::spawn({
            let (q, mut c) = (q.clone(), connected.clone());
            async move { q.push_or_wait(vec![7], &mut c).await }
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        up.send_replace(false);
        assert_eq!(waiting.await.unwrap().count, 1);
    }

    #[tokio::test]
    async fn frames_round_trip_and_a_clean_end_is_not_malformed() {
        let m = Metrics::default();
        let mut wire = Vec::new();
        encode_frames(
            &mut wire,
            &[b"prepare".to_vec(), Vec::new(), b"commit".to_vec()],
        );
        let mut io = Cursor::new(wire);
        let k = MessageKind::Consensus;
        assert_eq!(
            next_frame(&mut io, k, 100, &m).await.unwrap().unwrap(),
            b"prepare"
        );
        assert_eq!(next_frame(&mut io, k, 100, &m).await.unwrap().unwrap(), b"");
        assert_eq!(
            next_frame(&mut io, k, 100, &m).await.unwrap().unwrap(),
            b"commit"
        );
        assert_eq!(next_frame(&mut io, k, 100, &m).await.unwrap(), None);
        assert_eq!(m.snapshot(), Default::default());
    }

    #[tokio::test]
    async fn oversize_and_truncated_frames_are_counted_and_end_the_stream() {
        let m = Metrics::default();
        let k = MessageKind::Consensus;
        // Claims 4 GiB but carries nothing: refused before any allocation.
        let mut huge = Cursor::new(vec![0xff, 0xff, 0xff, 0xff]);
        assert!(next_frame(&mut huge, k, 10, &m).await.is_err());
        assert_eq!(m.snapshot().oversize_dropped, 1);
        let mut short_prefix = Cursor::new(vec![0, 0]);
        assert!(next_frame(&mut short_prefix, k, 10, &m).await.is_err());
        let mut short_body = Cursor::new(vec![0, 0, 0, 5, 1, 2]);
        assert!(next_frame(&mut short_body, k, 10, &m).await.is_err());
        assert_eq!(m.snapshot().malformed_dropped, 2);
    }
}
