//! Behavioural tests of both transports over loopback / in memory.
//!
//! `exercise` is written once against the `Transport` trait and run on a
//! four-peer `MemoryHub` and on four libp2p peers on 127.0.0.1. The libp2p
//! tests then cover what only a real network has: strangers refused at the
//! connection, inbound size limits, and a restarted peer rejoining.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use cryptanet_p2p::{
    Config, Error, Event, Incoming, Libp2pTransport, Limits, MemoryHub, MessageKind, Multiaddr,
    NetworkDefinition, PeerIndex, PeerInfo, SyncRequest, Transport,
};
use cryptanet_types::crypto::{PublicKey, SigningKey};
use std::collections::BTreeSet;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::timeout;

const WAIT: Duration = Duration::from_secs(15);

fn init_tracing() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "cryptanet_p2p=info".into()),
        )
        .with_test_writer()
        .try_init();
}

fn key(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

/// A loopback address with a port that was free a moment ago.
fn free_addr() -> Multiaddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    format!("/ip4/127.0.0.1/tcp/{port}").parse().unwrap()
}

fn definition(keys: &[SigningKey], addrs: &[Multiaddr]) -> NetworkDefinition {
    NetworkDefinition::new(
        keys.iter()
            .zip(addrs)
            .map(|(k, a)| PeerInfo {
                public_key: PublicKey::of(k),
                addr: a.clone(),
            })
            .collect(),
    )
    .unwrap()
}

fn test_config() -> Config {
    Config {
        request_timeout: Duration::from_secs(5),
        ..Config::default()
    }
}

/// Starts libp2p peers for `keys` on fresh loopback ports.
fn start_libp2p(keys: &[SigningKey], config: &Config) -> Vec<(Libp2pTransport, Incoming)> {
    let addrs: Vec<_> = keys.iter().map(|_| free_addr()).collect();
    let def = definition(keys, &addrs);
    keys.iter()
        .map(|k| Libp2pTransport::start(k, def.clone(), config.clone()).unwrap())
        .collect()
}

/// What the stand-in application of peer `me` observed.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord, Clone)]
enum Seen {
    Consensus { at: u32, from: u32, bytes: Vec<u8> },
    Envelope { at: u32, from: u32, bytes: Vec<u8> },
}

/// The blocks a responder returns for a request: deterministic, so the
/// requester can check them.
fn fake_blocks(responder: u32, r: SyncRequest) -> Vec<u8> {
    format!("blocks {}+{} from {}", r.from_block, r.max_count, responder).into_bytes()
}

/// Runs a stand-in application on `incoming`: reports messages to `seen`
/// and answers sync requests with `fake_blocks`.
fn spawn_app(me: PeerIndex, mut incoming: Incoming, seen: mpsc::UnboundedSender<Seen>) {
    tokio::spawn(async move {
        while let Some(event) = incoming.recv().await {
            let report = match event {
                Event::Consensus { from, bytes } => Seen::Consensus {
                    at: me.0,
                    from: from.0,
                    bytes,
                },
                Event::Envelope { from, bytes } => Seen::Envelope {
                    at: me.0,
                    from: from.0,
                    bytes,
                },
                Event::SyncRequest { request, reply, .. } => {
                    reply.send(fake_blocks(me.0, request)).unwrap();
                    continue;
                }
                Event::EndorseRequest {
                    from,
                    proposal,
                    reply,
                    ..
                } => {
                    // Answer with who endorsed what for whom.
                    let mut answer = vec![me.0 as u8, from.0 as u8];
                    answer.extend(proposal);
                    reply.send(answer).unwrap();
                    continue;
                }
                Event::BatchRequest { request, reply, .. } => {
                    // Answer with who served which request.
                    let mut answer = vec![me.0 as u8];
                    answer.extend(request);
                    reply.send(answer).unwrap();
                    continue;
                }
            };
            if seen.send(report).is_err() {
                return;
            }
        }
    });
}

async fn collect(rx: &mut mpsc::UnboundedReceiver<Seen>, count: usize) -> BTreeSet<Seen> {
    let mut got = BTreeSet::new();
    while got.len() < count {
        let next = timeout(WAIT, rx.recv()).await;
        let item = next
            .unwrap_or_else(|_| panic!("timed out with {} of {count}: {got:?}", got.len()))
            .unwrap();
        got.insert(item);
    }
    got
}

/// The behaviour every transport must show, written once over the trait.
async fn exercise<T: Transport>(endpoints: Vec<(T, Incoming)>, limits: Limits) {
    let n = u32::try_from(endpoints.len()).unwrap();
    let (seen_tx, mut seen) = mpsc::unbounded_channel();
    let mut transports = Vec::new();
    for (t, incoming) in endpoints {
        assert_eq!(t.peer_count(), n as usize);
        spawn_app(t.local_index(), incoming, seen_tx.clone());
        transports.push(t);
    }
    assert_eq!(
        transports
            .iter()
            .map(|t| t.local_index().0)
            .collect::<Vec<_>>(),
        (0..n).collect::<Vec<_>>()
    );

    // Every peer sends a distinct consensus message to every other peer,
    // and peer 1 broadcasts one more.
    let mut expected = BTreeSet::new();
    for from in 0..n {
        for at in (0..n).filter(|at| *at != from) {
            let bytes = vec![from as u8, at as u8, 0xC0];
            transports[from as usize]
                .send(PeerIndex(at), bytes.clone())
                .await
                .unwrap();
            expected.insert(Seen::Consensus { at, from, bytes });
        }
    }
    transports[1]
        .broadcast(b"view-change".to_vec())
        .await
        .unwrap();
    for at in (0..n).filter(|at| *at != 1) {
        expected.insert(Seen::Consensus {
            at,
            from: 1,
            bytes: b"view-change".to_vec(),
        });
    }
    // Every backup forwards a client envelope to the primary, peer 0.
    for from in 1..n {
        let bytes = format!("envelope from {from}").into_bytes();
        transports[from as usize]
            .forward_envelope(PeerIndex(0), bytes.clone())
            .await
            .unwrap();
        expected.insert(Seen::Envelope { at: 0, from, bytes });
    }
    let got = collect(&mut seen, expected.len()).await;
    assert_eq!(got, expected);

    // Block sync: the last peer catches up from peer 0.
    let req = SyncRequest {
        from_block: 10,
        max_count: 5,
    };
    let blocks = timeout(
        WAIT,
        transports[n as usize - 1].request_blocks(PeerIndex(0), req),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(blocks, fake_blocks(0, req));
    assert_eq!(transports[0].metrics().snapshot().sync_served, 1);

    // Endorsement: peer 1 (a gateway) asks peer 2; the answer comes back
    // on the same request.
    let answer = timeout(
        WAIT,
        transports[1].request_endorsement(PeerIndex(2), b"proposal".to_vec()),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(answer, [&[2u8, 1][..], b"proposal"].concat());
    assert_eq!(transports[2].metrics().snapshot().endorse_served, 1);

    // Batch fetch: peer 3 asks peer 1 for a batch by (seq, digest).
    let answer = timeout(
        WAIT,
        transports[3].request_batch(PeerIndex(1), b"seq+digest".to_vec()),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(answer, [&[1u8][..], b"seq+digest"].concat());
    assert_eq!(transports[1].metrics().snapshot().batch_served, 1);

    // Bad input is a typed error, counted where relevant, never a panic.
    let oversize = vec![0u8; limits.consensus + 1];
    let err = transports[2]
        .send(PeerIndex(3), oversize)
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        Error::MessageTooLarge {
            kind: MessageKind::Consensus,
            ..
        }
    ));
    assert_eq!(transports[2].metrics().snapshot().oversize_dropped, 1);
    assert!(matches!(
        transports[2].send(PeerIndex(2), vec![1]).await,
        Err(Error::SendToSelf { .. })
    ));
    assert!(matches!(
        transports[2].send(PeerIndex(n), vec![1]).await,
        Err(Error::UnknownPeer { .. })
    ));
    // Nothing else arrived: the oversize message was not delivered.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(seen.try_recv().is_err());
}

#[tokio::test]
async fn memory_transport_passes_the_behaviour_test() {
    init_tracing();
    let config = test_config();
    let (_hub, endpoints) = MemoryHub::new(4, config.clone());
    exercise(endpoints, config.limits).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn libp2p_transport_passes_the_behaviour_test() {
    init_tracing();
    let config = test_config();
    let keys: Vec<_> = (1..=4).map(key).collect();
    let endpoints = start_libp2p(&keys, &config);
    exercise(endpoints, config.limits).await;
}

/// Polls `cond` until it holds or `WAIT` passes.
async fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while !cond() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stranger_is_refused_and_nothing_it_sends_is_delivered() {
    init_tracing();
    let config = Config {
        request_timeout: Duration::from_secs(2),
        ..test_config()
    };
    let keys: Vec<_> = (11..=14).chain([99]).map(key).collect();
    let addrs: Vec<_> = keys.iter().map(|_| free_addr()).collect();
    let members_def = definition(&keys[..4], &addrs[..4]);
    // The stranger believes it is peer 4 of a five-peer network.
    let stranger_def = definition(&keys, &addrs);

    let (seen_tx, mut seen) = mpsc::unbounded_channel();
    let mut members = Vec::new();
    for k in &keys[..4] {
        let (t, incoming) = Libp2pTransport::start(k, members_def.clone(), config.clone()).unwrap();
        spawn_app(t.local_index(), incoming, seen_tx.clone());
        members.push(t);
    }
    let (stranger, _stranger_in) =
        Libp2pTransport::start(&keys[4], stranger_def, config.clone()).unwrap();
    assert_eq!(stranger.local_index(), PeerIndex(4));

    for to in 0..4 {
        stranger
            .send(PeerIndex(to), b"forged vote".to_vec())
            .await
            .unwrap();
    }
    stranger
        .forward_envelope(PeerIndex(0), b"forged envelope".to_vec())
        .await
        .unwrap();
    let sync = stranger
        .request_blocks(
            PeerIndex(0),
            SyncRequest {
                from_block: 0,
                max_count: 10,
            },
        )
        .await;
    assert!(
        matches!(
            sync,
            Err(Error::RequestFailed {
                peer: PeerIndex(0),
                ..
            })
        ),
        "{sync:?}"
    );

    // Every member refused (and counted) the stranger. Its one-way
    // messages never leave its own bounded queues: a stream opens only on
    // an established connection, and the request above already failed.
    eventually("every member to refuse the stranger", || {
        members
            .iter()
            .all(|m| m.metrics().snapshot().connections_denied >= 1)
    })
    .await;

    // Members still talk to each other, and the first thing any member's
    // application sees is that message: nothing from the stranger got in.
    members[1]
        .send(PeerIndex(0), b"still fine".to_vec())
        .await
        .unwrap();
    let first = timeout(WAIT, seen.recv()).await.unwrap().unwrap();
    assert_eq!(
        first,
        Seen::Consensus {
            at: 0,
            from: 1,
            bytes: b"still fine".to_vec()
        }
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(seen.try_recv().is_err());
    for m in &members {
        assert_eq!(m.metrics().snapshot().sync_served, 0);
    }
    stranger.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inbound_oversize_is_dropped_and_counted_and_the_link_survives() {
    init_tracing();
    let keys: Vec<_> = (21..=22).map(key).collect();
    let addrs: Vec<_> = keys.iter().map(|_| free_addr()).collect();
    let def = definition(&keys, &addrs);
    // Peer 0 accepts consensus messages of at most 1 KiB; peer 1 would send
    // up to the default 4 MiB.
    let strict = Config {
        limits: Limits {
            consensus: 1024,
            ..Limits::default()
        },
        ..test_config()
    };
    let (p0, in0) = Libp2pTransport::start(&keys[0], def.clone(), strict).unwrap();
    let (p1, _in1) = Libp2pTransport::start(&keys[1], def, test_config()).unwrap();
    let (seen_tx, mut seen) = mpsc::unbounded_channel();
    spawn_app(PeerIndex(0), in0, seen_tx);

    p1.send(PeerIndex(0), vec![7; 4096]).await.unwrap();
    eventually("the receiver to drop the oversize message", || {
        p0.metrics().snapshot().oversize_dropped == 1
    })
    .await;
    eventually("the sender to see the failure", || {
        p1.metrics().snapshot().send_failures >= 1
    })
    .await;

    p1.send(PeerIndex(0), vec![1, 2, 3]).await.unwrap();
    let first = timeout(WAIT, seen.recv()).await.unwrap().unwrap();
    assert_eq!(
        first,
        Seen::Consensus {
            at: 0,
            from: 1,
            bytes: vec![1, 2, 3]
        }
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restarted_peer_rejoins() {
    init_tracing();
    let config = Config {
        backoff: cryptanet_p2p::BackoffConfig {
            initial: Duration::from_millis(100),
            max: Duration::from_millis(800),
        },
        request_timeout: Duration::from_secs(2),
        ..test_config()
    };
    let keys: Vec<_> = (31..=32).map(key).collect();
    let addrs: Vec<_> = keys.iter().map(|_| free_addr()).collect();
    let def = definition(&keys, &addrs);
    let (p0, _in0) = Libp2pTransport::start(&keys[0], def.clone(), config.clone()).unwrap();
    let (p1, in1) = Libp2pTransport::start(&keys[1], def.clone(), config.clone()).unwrap();
    let (seen_tx, mut seen) = mpsc::unbounded_channel();
    spawn_app(PeerIndex(1), in1, seen_tx);
    p0.send(PeerIndex(1), b"before".to_vec()).await.unwrap();
    let got = timeout(WAIT, seen.recv()).await.unwrap().unwrap();
    assert!(matches!(got, Seen::Consensus { ref bytes, .. } if bytes == b"before"));

    p1.shutdown().await;
    assert!(matches!(
        p1.send(PeerIndex(0), vec![1]).await,
        Err(Error::Closed)
    ));
    let established_before = p0.metrics().snapshot().connections_established;

    // Same key, same port: the peer comes back.
    let (p1, in1) = Libp2pTransport::start(&keys[1], def, config).unwrap();
    let (seen_tx, mut seen) = mpsc::unbounded_channel();
    spawn_app(PeerIndex(1), in1, seen_tx);
    eventually("peer 0 to reconnect", || {
        p0.metrics().snapshot().connections_established > established_before
    })
    .await;
    // A message sent while the old connection was being torn down may be
    // lost (best effort); keep sending until one arrives.
    let delivered = timeout(WAIT, async {
        loop {
            p0.send(PeerIndex(1), b"after".to_vec()).await.unwrap();
            if let Ok(Some(s)) = timeout(Duration::from_millis(500), seen.recv()).await {
                return s;
            }
        }
    })
    .await
    .unwrap();
    assert_eq!(
        delivered,
        Seen::Consensus {
            at: 1,
            from: 0,
            bytes: b"after".to_vec()
        }
    );
    p1.shutdown().await;
    p0.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_to_a_peer_that_is_down_are_held_until_it_comes_up() {
    init_tracing();
    let config = Config {
        backoff: cryptanet_p2p::BackoffConfig {
            initial: Duration::from_millis(50),
            max: Duration::from_millis(400),
        },
        ..test_config()
    };
    let keys: Vec<_> = (41..=42).map(key).collect();
    let addrs: Vec<_> = keys.iter().map(|_| free_addr()).collect();
    let def = definition(&keys, &addrs);
    let (p0, _in0) = Libp2pTransport::start(&keys[0], def.clone(), config.clone()).unwrap();
    p0.send(PeerIndex(1), b"early".to_vec()).await.unwrap();
    p0.forward_envelope(PeerIndex(1), b"early envelope".to_vec())
        .await
        .unwrap();
    // Peer 1 is down for a while: several dials fail meanwhile.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(p0.metrics().snapshot().connections_established, 0);

    let (_p1, in1) = Libp2pTransport::start(&keys[1], def, config).unwrap();
    let (seen_tx, mut seen) = mpsc::unbounded_channel();
    spawn_app(PeerIndex(1), in1, seen_tx);
    let got = collect(&mut seen, 2).await;
    let expected = BTreeSet::from([
        Seen::Consensus {
            at: 1,
            from: 0,
            bytes: b"early".to_vec(),
        },
        Seen::Envelope {
            at: 1,
            from: 0,
            bytes: b"early envelope".to_vec(),
        },
    ]);
    assert_eq!(got, expected);
    assert_eq!(p0.metrics().snapshot().send_failures, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_larger_than_the_stream_cap_is_delivered_in_full() {
    init_tracing();
    let keys: Vec<_> = (51..=52).map(key).collect();
    let endpoints = start_libp2p(&keys, &test_config());
    let mut endpoints = endpoints.into_iter();
    let (p0, _in0) = endpoints.next().unwrap();
    let (_p1, in1) = endpoints.next().unwrap();
    let (seen_tx, mut seen) = mpsc::unbounded_channel();
    spawn_app(PeerIndex(1), in1, seen_tx);
    // request-response accepts a bounded number of concurrent streams per
    // connection; the per-peer window must keep a burst under it.
    let burst: u16 = 600;
    for i in 0..burst {
        p0.send(PeerIndex(1), i.to_be_bytes().to_vec())
            .await
            .unwrap();
    }
    let got = collect(&mut seen, usize::from(burst)).await;
    assert_eq!(got.len(), usize::from(burst));
    assert_eq!(p0.metrics().snapshot().send_failures, 0);
}
