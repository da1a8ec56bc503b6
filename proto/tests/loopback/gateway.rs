//! Submit, CommitStatus, Evaluate, the ChaincodeEvents and Deliver streams,
//! end to end over loopback, plus typed errors with `ErrorDetail`.

use crate::server::{TestPeer, BOUND};
use crate::test_gateway::{CHAINCODE, EVENT};
use cryptanet_proto::convert::decode_block;
use cryptanet_proto::status::{error_detail, reason};
use cryptanet_proto::v1::deliver_request::Start;
use cryptanet_proto::v1::deliver_response::Content;
use cryptanet_proto::{v1, Error, Limits};
use cryptanet_types::crypto::SigningKey;
use cryptanet_types::tx::transient_hash;
use cryptanet_types::{Proposal, SignedProposal, ValidationCode};
use tokio::time::timeout;
use tokio_stream::StreamExt;
use tonic::Code;

fn proposal(key: &SigningKey, nonce: u8, reading: &[u8]) -> (Proposal, SignedProposal) {
    let proposal = Proposal {
        chaincode: CHAINCODE.into(),
        function: "RecordReading".into(),
        args: vec![reading.to_vec()],
        creator: b"client-cert".to_vec(),
        nonce: vec![nonce; 24],
        timestamp_ms: 1_700_000_000_000,
        transient_hash: transient_hash(&vec![]).unwrap(),
    };
    let signed = SignedProposal::new(&proposal, vec![], key).unwrap();
    (proposal, signed)
}

#[tokio::test]
async fn submit_commit_status_and_event_stream() {
    let peer = TestPeer::start(Limits::default()).await;
    let client = timeout(BOUND, peer.client()).await.unwrap();
    let key = SigningKey::from_bytes(&[5; 32]);

    let (p1, sp1) = proposal(&key, 1, b"4.5C");
    let evaluated = timeout(BOUND, client.evaluate(&sp1))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(evaluated.status, 200);
    assert_eq!(evaluated.payload, b"RecordReading");

    // Step by step: endorse, sign the exact bytes, submit, commit status.
    let endorsed = timeout(BOUND, client.endorse(&sp1, &[]))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(endorsed.tx_id, p1.tx_id());
    assert_eq!(endorsed.endorsers[0].msp_id, "Org1MSP");
    let envelope = endorsed.sign(&key);
    assert_eq!(envelope.payload, endorsed.prepared_transaction);
    let tx_id = timeout(BOUND, client.submit(&envelope))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(tx_id, p1.tx_id());
    let status = timeout(BOUND, client.commit_status(&tx_id, BOUND))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(status.code, ValidationCode::Valid);
    assert_eq!(status.block_number, 1);

    // All in one.
    let (p2, sp2) = proposal(&key, 2, b"9.1C");
    let status = timeout(BOUND, client.submit_and_wait(&sp2, &key, BOUND))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (status.code, status.block_number),
        (ValidationCode::Valid, 2)
    );

    // Server stream from block 1: one response per block, in order.
    let stream = timeout(BOUND, client.chaincode_events(CHAINCODE, Some(1)))
        .await
        .unwrap()
        .unwrap();
    let got: Vec<v1::ChaincodeEventsResponse> = timeout(BOUND, stream.collect::<Result<_, _>>())
        .await
        .unwrap()
        .unwrap();
    let seen: Vec<(u64, String, &str, Vec<u8>)> = got
        .iter()
        .flat_map(|r| {
            r.events.iter().map(move |e| {
                (
                    r.block_number,
                    e.tx_id.clone(),
                    e.event_name.as_str(),
                    e.payload.clone(),
                )
            })
        })
        .collect();
    assert_eq!(
        seen,
        [
            (1, p1.tx_id().to_hex(), EVENT, b"4.5C".to_vec()),
            (2, p2.tx_id().to_hex(), EVENT, b"9.1C".to_vec()),
        ]
    );
    // From block 2 only the second event; another chaincode sees nothing.
    let from2: Vec<_> = client
        .chaincode_events(CHAINCODE, Some(2))
        .await
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap();
    assert_eq!(from2.len(), 1);
    assert_eq!(from2[0].block_number, 2);
    let other: Vec<_> = client
        .chaincode_events("other", Some(1))
        .await
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap();
    assert!(other.is_empty());

    // Deliver: full blocks 1..=2 then SUCCESS; each re-checks against `raw`.
    let request = v1::DeliverRequest {
        start: Some(Start::Oldest(v1::SeekOldest {})),
        stop: Some(2),
    };
    let stream = timeout(BOUND, client.deliver().blocks(request))
        .await
        .unwrap()
        .unwrap()
        .into_inner();
    let messages: Vec<v1::DeliverResponse> = timeout(BOUND, stream.collect::<Result<_, _>>())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(messages.len(), 3);
    let mut previous = cryptanet_types::Digest::ZERO;
    for (i, m) in messages[..2].iter().enumerate() {
        let Some(Content::Block(b)) = &m.content else {
            panic!("expected a block, got {m:?}");
        };
        let block = decode_block(b).unwrap();
        assert_eq!(block.header.number, i as u64 + 1);
        assert_eq!(block.header.previous_hash, previous);
        previous = block.hash();
    }
    assert_eq!(
        messages[2].content,
        Some(Content::Status(v1::DeliverStatus::Success as i32))
    );
    let filtered: Vec<v1::FilteredBlock> = client
        .deliver()
        .filtered_blocks(request)
        .await
        .unwrap()
        .into_inner()
        .collect::<Result<_, _>>()
        .await
        .unwrap();
    let ids: Vec<&str> = filtered.iter().map(|f| f.txs[0].tx_id.as_str()).collect();
    assert_eq!(ids, [p1.tx_id().to_hex(), p2.tx_id().to_hex()]);

    peer.stop().await;
}

#[tokio::test]
async fn errors_carry_status_codes_and_error_details() {
    let peer = TestPeer::start(Limits::default()).await;
    let client = timeout(BOUND, peer.client()).await.unwrap();

    // Unknown transaction: NOT_FOUND with a typed detail.
    let unknown = cryptanet_types::Digest::of(b"never submitted");
    match timeout(BOUND, client.commit_status(&unknown, BOUND))
        .await
        .unwrap()
    {
        Err(Error::Rpc {
            code: Code::NotFound,
            detail: Some(d),
            ..
        }) => assert_eq!(d.code, reason::NOT_FOUND),
        other => panic!("expected NOT_FOUND with detail, got {other:?}"),
    }

    // Not committed before the deadline: DEADLINE_EXCEEDED, well within BOUND.
    let started = std::time::Instant::now();
    let waited = timeout(
        BOUND,
        client.commit_status(
            &cryptanet_types::Digest::ZERO,
            std::time::Duration::from_millis(300),
        ),
    )
    .await
    .unwrap();
    assert!(
        matches!(
            waited,
            Err(Error::Rpc {
                code: Code::DeadlineExceeded,
                ..
            })
        ),
        "{waited:?}"
    );
    assert!(started.elapsed() < BOUND / 2);

    // Malformed envelope bytes: INVALID_ARGUMENT, MALFORMED_BYTES.
    let status = timeout(
        BOUND,
        client.gateway().submit(v1::SubmitRequest {
            envelope: vec![0xff; 40],
        }),
    )
    .await
    .unwrap()
    .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    let detail = error_detail(&status).unwrap().unwrap();
    assert_eq!(detail.code, reason::MALFORMED_BYTES);

    // A tx id that is not hex: INVALID_ARGUMENT.
    let status = client
        .gateway()
        .commit_status(v1::CommitStatusRequest {
            tx_id: "xyz".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);

    // Services the test peer does not serve answer UNIMPLEMENTED.
    let status = client
        .admin()
        .peer_info(v1::PeerInfoRequest {})
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unimplemented);

    peer.stop().await;
}
