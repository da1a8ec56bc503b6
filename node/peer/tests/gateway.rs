//! The endorse → order → validate flow over the public gRPC API, with real
//! peer processes running the supply-chain chaincode (wasm) under a 2-of-4
//! endorsement policy committed through `_lifecycle`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::Net;
use cryptanet_cli::client::Client;
use cryptanet_proto::v1::{deliver_request::Start, DeliverRequest, SeekNewest};
use cryptanet_types::{codec, Digest, Endorsement, Envelope, TxPayload, ValidationCode as V};
use std::time::Duration;

const FAST: &str = "[pbft]\nbatch_timeout_ms = 20\nrequest_timeout_ms = 2000\nview_change_timeout_ms = 1000\nstatus_interval_ms = 200\n";
const TWO_OF_FOUR: &str =
    "OutOf(2, 'Org1MSP.peer', 'Org2MSP.peer', 'Org3MSP.peer', 'Org4MSP.peer')";
const WAIT: Duration = Duration::from_secs(30);

/// `RegisterShipment` arguments for shipment `id`, custodian Org1MSP,
/// 2–8 °C and 30–45 %RH.
fn shipment(id: &str) -> Vec<String> {
    [
        id, "vaccines", "100", "Basel", "Oslo", "Org1MSP", "2000", "8000", "300", "450",
    ]
    .map(String::from)
    .to_vec()
}

async fn custodian(c: &Client, id: &str) -> String {
    let r = c
        .evaluate("supply-chain", "GetShipment", &[id])
        .await
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&r.payload).unwrap();
    v["custodian"].as_str().unwrap().to_owned()
}

/// What `cryptanet peer tx` prints for `tx_id`, asking peer `i`.
async fn peer_tx(net: &Net, i: usize, tx_id: &Digest) -> String {
    let (addr, id) = (net.grpc(i), tx_id.to_hex());
    tokio::task::spawn_blocking(move || {
        use clap::Parser as _;
        let cli =
            cryptanet_cli::cmd::Cli::parse_from(["cryptanet", "peer", "tx", "--peer", &addr, &id]);
        let mut out = Vec::new();
        cli.run(&mut out).map(|()| String::from_utf8(out).unwrap())
    })
    .await
    .unwrap()
    .unwrap()
}

/// Signs `payload` as the client and submits it through `c`, returning the
/// validation code.
async fn submit_payload(c: &Client, payload: &TxPayload) -> V {
    let bytes = codec::encode(payload).unwrap();
    let envelope = Envelope {
        signature: c.identity().sign(&bytes),
        payload: bytes,
    };
    let tx_id = c.peer().submit(&envelope).await.unwrap();
    c.peer().commit_status(&tx_id, WAIT).await.unwrap().code
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invoke_through_any_peer_commits_on_all_four_and_streams() {
    let net = Net::up(4, FAST);
    net.deploy_supply_chain(TWO_OF_FOUR).await;

    // A subscriber on peer 3 waits for new blocks.
    let watcher = net.client(3).await;
    let mut blocks = watcher
        .deliver()
        .filtered_blocks(DeliverRequest {
            start: Some(Start::Newest(SeekNewest {})),
            stop: None,
        })
        .await
        .unwrap()
        .into_inner();

    // Invoke through peer 2 (not the primary).
    let client = net.user(0, "client", 2).await;
    let done = client
        .invoke("supply-chain", "RegisterShipment", &shipment("S1"))
        .await
        .unwrap();
    assert_eq!(done.response.status, 200);
    assert_eq!(done.status.code, V::Valid);

    // Committed VALID, in the same block, on every peer.
    for i in 0..4 {
        let s = net
            .client(i)
            .await
            .commit_status(&done.tx_id, WAIT)
            .await
            .unwrap();
        assert_eq!(
            (s.code, s.block_number),
            (V::Valid, done.status.block_number)
        );
    }
    // The subscriber saw the block with the transaction, VALID.
    let wire_id = cryptanet_proto::convert::tx_id_to_wire(&done.tx_id);
    let seen = tokio::time::timeout(WAIT, async {
        loop {
            let b = blocks.message().await.unwrap().unwrap();
            if let Some(t) = b.txs.iter().find(|t| t.tx_id == wire_id) {
                return (b.number, t.validation_code);
            }
        }
    })
    .await
    .unwrap();
    assert_eq!(
        seen,
        (
            done.status.block_number,
            cryptanet_proto::validation::to_wire(V::Valid)
        )
    );
    // The CLI shows the committed transaction from any peer.
    let shown = peer_tx(&net, 3, &done.tx_id).await;
    assert!(shown.contains(": VALID"), "{shown}");
    assert!(
        shown.contains("supply-chain.RegisterShipment(\"S1\""),
        "{shown}"
    );
    assert_eq!(shown.matches("endorsed by").count(), 2, "{shown}");
    // Every peer now answers the query from its own state.
    for i in 0..4 {
        let reader = net.user(1, "client", i).await;
        assert_eq!(custodian(&reader, "S1").await, "Org1MSP");
    }
    // The committed definition is visible through Admin.
    let def = net
        .client(1)
        .await
        .admin()
        .query_committed_chaincode(cryptanet_proto::v1::QueryCommittedChaincodeRequest {
            name: "supply-chain".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (def.sequence, def.endorsement_policy.as_str()),
        (1, TWO_OF_FOUR)
    );
    assert_eq!(def.approved_orgs, ["Org1MSP", "Org2MSP", "Org3MSP"]);
    // Chaincode events of valid transactions reach subscribers: an
    // out-of-spec reading raises AnomalyDetected, a normal one nothing.
    let mut events = net
        .client(1)
        .await
        .chaincode_events("supply-chain", None)
        .await
        .unwrap();
    let normal = client
        .invoke(
            "supply-chain",
            "RecordReading",
            &["S1", "1700049600000", "5000", "400", "100", "47.0,8.0"],
        )
        .await
        .unwrap();
    let hot = client
        .invoke(
            "supply-chain",
            "RecordReading",
            &["S1", "1700049660000", "14000", "400", "100", "47.0,8.0"],
        )
        .await
        .unwrap();
    let got = tokio::time::timeout(WAIT, events.message())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(
        got.block_number, hot.status.block_number,
        "the normal reading raised an event"
    );
    assert!(normal.status.block_number <= hot.status.block_number);
    assert_eq!(got.events.len(), 1);
    assert_eq!(got.events[0].event_name, "AnomalyDetected");
    assert_eq!(
        got.events[0].tx_id,
        cryptanet_proto::convert::tx_id_to_wire(&hot.tx_id)
    );
    // A chaincode error is reported, not endorsed.
    let err = client
        .invoke(
            "supply-chain",
            "TransferCustody",
            &["no-such-shipment", "Org2MSP"],
        )
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("CHAINCODE_ERROR") || err.to_string().contains("not"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_updates_conflict_and_range_reads_catch_phantoms() {
    let net = Net::up(4, FAST);
    net.deploy_supply_chain(TWO_OF_FOUR).await;
    let c0 = net.user(0, "client", 0).await;
    let c1 = net.user(0, "client", 1).await;
    let reg = c0
        .invoke("supply-chain", "RegisterShipment", &shipment("S2"))
        .await
        .unwrap();
    // Peer 1 (c1's gateway) must have the shipment before it endorses.
    c1.peer().commit_status(&reg.tx_id, WAIT).await.unwrap();

    // Two transfers of the same shipment, endorsed against the same state.
    let a = c0
        .proposal("supply-chain", "TransferCustody", &["S2", "Org2MSP"])
        .unwrap();
    let b = c1
        .proposal("supply-chain", "TransferCustody", &["S2", "Org3MSP"])
        .unwrap();
    let ea = c0.endorse(&a, &[]).await.unwrap();
    let eb = c1.endorse(&b, &[]).await.unwrap();
    let (sa, sb) = tokio::join!(c0.submit(&ea, WAIT), c1.submit(&eb, WAIT));
    let mut codes = [sa.unwrap().code, sb.unwrap().code];
    codes.sort_by_key(|c| *c as u8);
    assert_eq!(codes, [V::Valid, V::MvccReadConflict]);
    let winner = custodian(&c0, "S2").await;
    assert!(winner == "Org2MSP" || winner == "Org3MSP", "{winner}");

    // A phantom: a range read of S3's readings, endorsed before a reading
    // is inserted in that range, is stale at commit.
    let reg = c0
        .invoke("supply-chain", "RegisterShipment", &shipment("S3"))
        .await
        .unwrap();
    c1.peer().commit_status(&reg.tx_id, WAIT).await.unwrap();
    let query = c0
        .proposal(
            "supply-chain",
            "GetReadings",
            &["S3", "0", "99999999999999"],
        )
        .unwrap();
    let endorsed_query = c0.endorse(&query, &[]).await.unwrap();
    c1.invoke(
        "supply-chain",
        "RecordReading",
        &["S3", "1700049600000", "5000", "400", "100", "47.0,8.0"],
    )
    .await
    .unwrap();
    let s = c0.submit(&endorsed_query, WAIT).await.unwrap();
    assert_eq!(s.code, V::PhantomReadConflict);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_foreign_unsatisfied_and_replayed_transactions_get_their_own_codes() {
    let net = Net::up(4, FAST);
    net.deploy_supply_chain(TWO_OF_FOUR).await;
    let c = net.user(0, "client", 0).await;
    c.invoke("supply-chain", "RegisterShipment", &shipment("S4"))
        .await
        .unwrap();
    let transfer = |to: &'static str| {
        c.proposal("supply-chain", "TransferCustody", &["S4", to])
            .unwrap()
    };
    let prepared = |e: &cryptanet_proto::client::Endorsed| -> TxPayload {
        codec::decode(&e.prepared_transaction).unwrap()
    };

    // Forged: one endorsement signature altered.
    let mut forged = prepared(&c.endorse(&transfer("Org2MSP"), &[]).await.unwrap());
    forged.endorsements[0].signature.0[7] ^= 0x40;
    assert_eq!(submit_payload(&c, &forged).await, V::BadEndorsement);

    // Non-member: an extra endorsement by a peer of an org outside the
    // network (its own CA), signing the same response bytes.
    let other = tempfile::tempdir().unwrap();
    let opts = cryptanet_cli::orgs::GenerateOptions::local(other.path(), 4, common::free_ports(8));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    cryptanet_cli::orgs::generate(&opts, now, &mut rand_core::OsRng).unwrap();
    let stranger =
        cryptanet_cli::material::load_identity(&other.path().join("crypto/Org2MSP/peer0")).unwrap();
    let mut foreign = prepared(&c.endorse(&transfer("Org3MSP"), &[]).await.unwrap());
    foreign.endorsements.push(Endorsement {
        endorser: stranger.cert_der().to_vec(),
        signature: stranger.sign(&foreign.response_bytes),
    });
    assert_eq!(submit_payload(&c, &foreign).await, V::EndorserNotMember);

    // Unsatisfied: endorsed by one org only, where the policy needs two.
    let one = c
        .endorse(&transfer("Org4MSP"), &["Org1MSP".to_owned()])
        .await
        .unwrap();
    assert_eq!(one.endorsers.len(), 1);
    assert_eq!(
        c.submit(&one, WAIT).await.unwrap().code,
        V::EndorsementPolicyFailure
    );

    // Nothing above touched the state.
    assert_eq!(custodian(&c, "S4").await, "Org1MSP");

    // Replay: the same transaction (same tx id) submitted as two envelopes
    // through two peers at once: one commits, the other is a duplicate.
    let good = c.endorse(&transfer("Org2MSP"), &[]).await.unwrap();
    let mut twin = prepared(&good);
    twin.endorsements.reverse(); // different bytes, same transaction id
    let c2 = net.user(0, "client", 2).await;
    let twin_bytes = codec::encode(&twin).unwrap();
    let twin_env = Envelope {
        signature: c.identity().sign(&twin_bytes),
        payload: twin_bytes,
    };
    let good_env = good.sign(c.identity().signing_key());
    let (a, b) = tokio::join!(c.peer().submit(&good_env), c2.peer().submit(&twin_env));
    a.unwrap();
    b.unwrap();
    let status = c.peer().commit_status(&good.tx_id, WAIT).await.unwrap();
    assert_eq!(status.code, V::Valid);
    let codes = codes_of(&net, &good.tx_id, status.block_number).await;
    assert_eq!(codes, [V::Valid, V::DuplicateTxId]);
    assert_eq!(custodian(&c, "S4").await, "Org2MSP");
    // And once committed, the gateway refuses the replay outright.
    let again = c2.peer().submit(&twin_env).await.unwrap_err();
    assert!(again.to_string().contains("AlreadyExists"), "{again}");

    // Concurrent endorsements through one gateway travel to each endorser
    // in groups (one p2p request, signatures checked in a batch), yet each
    // proposal gets its own answer: two with a bad creator signature are
    // refused, every other one is endorsed by two orgs and commits.
    let proposals: Vec<_> = (0..24)
        .map(|i| {
            let mut p = c
                .proposal(
                    "supply-chain",
                    "RegisterShipment",
                    &shipment(&format!("G{i}")),
                )
                .unwrap();
            if i == 5 || i == 17 {
                p.signature.0[9] ^= 0x10;
            }
            p
        })
        .collect();
    let answers = futures::future::join_all(proposals.iter().map(|p| c.endorse(p, &[]))).await;
    let mut envelopes = Vec::new();
    for (i, answer) in answers.into_iter().enumerate() {
        match answer {
            Err(e) => {
                assert!([5, 17].contains(&i), "proposal {i} refused: {e}");
                assert!(e.to_string().contains("PermissionDenied"), "{e}");
            }
            Ok(e) => {
                assert!(
                    ![5, 17].contains(&i),
                    "proposal {i} with a bad signature endorsed"
                );
                assert_eq!(e.endorsers.len(), 2, "proposal {i}");
                envelopes.push((e.tx_id, e.sign(c.identity().signing_key())));
            }
        }
    }
    assert_eq!(envelopes.len(), 22);
    for (_, env) in &envelopes {
        c.peer().submit(env).await.unwrap();
    }
    for (tx_id, _) in &envelopes {
        let status = c.peer().commit_status(tx_id, WAIT).await.unwrap();
        assert_eq!(status.code, V::Valid);
    }

    // The same through the batch calls: EndorseBatch answers each proposal
    // as Endorse would (a bad signature refused alone), and SubmitBatch
    // each envelope as Submit would (a forged envelope signature and an
    // already committed transaction refused alone, in place).
    let proposals: Vec<_> = (0..6)
        .map(|i| {
            let mut p = c
                .proposal(
                    "supply-chain",
                    "RegisterShipment",
                    &shipment(&format!("B{i}")),
                )
                .unwrap();
            if i == 2 {
                p.signature.0[1] ^= 0x01;
            }
            p
        })
        .collect();
    let endorsed = c.peer().endorse_batch(&proposals, &[]).await.unwrap();
    assert_eq!(endorsed.len(), 6);
    let refused = endorsed[2].as_ref().unwrap_err().to_string();
    assert!(refused.contains("PermissionDenied"), "{refused}");
    let mut batch: Vec<Envelope> = endorsed
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != 2)
        .map(|(i, e)| {
            let e = e.as_ref().unwrap_or_else(|e| panic!("proposal {i}: {e}"));
            assert_eq!(e.endorsers.len(), 2);
            e.sign(c.identity().signing_key())
        })
        .collect();
    batch[1].signature.0[5] ^= 0x02;
    batch.push(envelopes[0].1.clone()); // committed above
    let submitted = c.peer().submit_batch(&batch).await.unwrap();
    assert_eq!(submitted.len(), 6);
    for (i, outcome) in submitted.iter().enumerate() {
        match i {
            1 => {
                let e = outcome.as_ref().unwrap_err().to_string();
                assert!(e.contains("PermissionDenied"), "{e}");
            }
            5 => {
                let e = outcome.as_ref().unwrap_err().to_string();
                assert!(e.contains("AlreadyExists"), "{e}");
            }
            _ => {
                let tx_id = outcome.as_ref().unwrap();
                let status = c.peer().commit_status(tx_id, WAIT).await.unwrap();
                assert_eq!(status.code, V::Valid, "envelope {i}");
            }
        }
    }
}

/// Validation codes of every envelope with transaction id `tx_id` in the
/// blocks from `from` to the current height of peer 1.
async fn codes_of(net: &Net, tx_id: &Digest, from: u64) -> Vec<V> {
    // The duplicate may land in a later block: wait a little for it.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let height = net.info(1).await.unwrap().height;
    let wire_id = cryptanet_proto::convert::tx_id_to_wire(tx_id);
    let mut stream = net
        .client(1)
        .await
        .deliver()
        .filtered_blocks(DeliverRequest {
            start: Some(Start::Number(from)),
            stop: Some(height),
        })
        .await
        .unwrap()
        .into_inner();
    let mut codes = Vec::new();
    while let Some(b) = stream.message().await.unwrap() {
        for t in b.txs.iter().filter(|t| t.tx_id == wire_id) {
            codes.push(cryptanet_proto::validation::from_wire(t.validation_code).unwrap());
        }
    }
    codes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reflection_describes_the_api_and_health_reports_serving() {
    use tonic_health::pb::health_check_response::ServingStatus;
    use tonic_health::pb::{health_client::HealthClient, HealthCheckRequest};
    use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
    use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
    use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;
    use tonic_reflection::pb::v1::ServerReflectionRequest;

    let net = Net::up(4, FAST);
    net.client(0).await; // waits until the gRPC server answers
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{}", net.grpc(0)))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut reflection = ServerReflectionClient::new(channel.clone());
    let ask = |request: MessageRequest| {
        tokio_stream::once(ServerReflectionRequest {
            host: String::new(),
            message_request: Some(request),
        })
    };
    let mut answers = reflection
        .server_reflection_info(ask(MessageRequest::ListServices(String::new())))
        .await
        .unwrap()
        .into_inner();
    let Some(MessageResponse::ListServicesResponse(list)) =
        answers.message().await.unwrap().unwrap().message_response
    else {
        panic!("no service list");
    };
    let names: Vec<&str> = list.service.iter().map(|s| s.name.as_str()).collect();
    for wanted in [
        "cryptanet.v1.Gateway",
        "cryptanet.v1.Deliver",
        "cryptanet.v1.Admin",
        "grpc.health.v1.Health",
    ] {
        assert!(names.contains(&wanted), "{wanted} missing from {names:?}");
    }
    // grpcurl's next step: the file that defines a method.
    let mut answers = reflection
        .server_reflection_info(ask(MessageRequest::FileContainingSymbol(
            "cryptanet.v1.Gateway.Endorse".into(),
        )))
        .await
        .unwrap()
        .into_inner();
    let Some(MessageResponse::FileDescriptorResponse(files)) =
        answers.message().await.unwrap().unwrap().message_response
    else {
        panic!("no file descriptor");
    };
    assert!(!files.file_descriptor_proto.is_empty());

    let mut health = HealthClient::new(channel);
    for service in ["", "cryptanet.v1.Gateway"] {
        let s = health
            .check(HealthCheckRequest {
                service: service.into(),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(s.status, ServingStatus::Serving as i32, "{service:?}");
    }
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_file() {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_reproduces_committed_verdicts_and_catches_an_altered_copy() {
    let mut net = Net::up(4, FAST);
    net.deploy_supply_chain(TWO_OF_FOUR).await;
    let c = net.user(0, "client", 1).await;
    c.invoke("supply-chain", "RegisterShipment", &shipment("S6"))
        .await
        .unwrap();
    for (ts, temp) in [("1700049600000", "5000"), ("1700049660000", "14000")] {
        c.invoke(
            "supply-chain",
            "RecordReading",
            &["S6", ts, temp, "400", "100", "47.0,8.0"],
        )
        .await
        .unwrap();
    }
    // Peer 3 has committed everything (the 2-of-4 commits wait for nobody,
    // so ask it), then stops; the auditor works on a copy of its ledger.
    let height = net.info(1).await.unwrap().height;
    while net.info(3).await.unwrap().height < height {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(net.stop(3).success());
    let copy = tempfile::tempdir().unwrap();
    copy_dir(&net.peer_dir(3).join("data/ledger"), copy.path());

    let r = cryptanet_cli::audit::audit(copy.path(), "supply-chain", None).unwrap();
    assert_eq!((r.readings, r.reproduced, r.anomalies), (2, 2, 1), "{r:?}");
    assert!(r.mismatches.is_empty());

    // Alter the stored verdict of the hot reading in the copy: clear its
    // is_anomaly byte ("0101..." → "0100...").
    {
        let opts = rocksdb::Options::default();
        let cfs = rocksdb::DB::list_cf(&opts, copy.path()).unwrap();
        let db = rocksdb::DB::open_cf(&opts, copy.path(), &cfs).unwrap();
        let state = db.cf_handle("state").unwrap();
        let mut altered = 0;
        for item in db.iterator_cf(state, rocksdb::IteratorMode::Start) {
            let (k, v) = item.unwrap();
            let find = |needle: &[u8]| v.windows(needle.len()).position(|w| w == needle);
            if find(b"\"temp_mc\":14000").is_some() {
                let pattern = b"\"verdict_header_hex\":\"0101";
                let offset = find(pattern).unwrap() + pattern.len() - 1;
                let mut bytes = v.to_vec();
                assert_eq!(bytes[offset], b'1');
                bytes[offset] = b'0';
                db.put_cf(state, &k, &bytes).unwrap();
                altered += 1;
            }
        }
        assert_eq!(altered, 1);
    }
    let r = cryptanet_cli::audit::audit(copy.path(), "supply-chain", None).unwrap();
    assert_eq!((r.readings, r.reproduced), (2, 1), "{r:?}");
    assert_eq!(r.mismatches.len(), 1);
    assert!(
        r.mismatches[0].reason.contains("differs"),
        "{:?}",
        r.mismatches
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_model_activated_by_a_majority_scores_readings_and_is_audited() {
    use cryptanet_chaincode::lifecycle::ModelDefinition;
    use cryptanet_cli::{lifecycle, train};
    let mut net = Net::up(4, FAST);
    net.deploy_supply_chain(TWO_OF_FOUR).await;
    let trained = train::train(&train::simulated(5, 40, 0.3), 0.05, 1).unwrap();
    let bytes = trained.model.to_bytes().unwrap();
    let hash = trained.model.hash().to_hex();
    let mut admins = Vec::new();
    for i in 0..3 {
        admins.push(net.user(i, "admin", i).await);
    }

    // Installing takes an admin of the peer's org and real model bytes.
    let client = net.user(0, "client", 0).await;
    let err = lifecycle::install_model(&client, &bytes).await.unwrap_err();
    assert!(err.to_string().to_lowercase().contains("admin"), "{err}");
    let err = lifecycle::install_model(&admins[0], b"not a model")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("model"), "{err}");
    // Only Org1's and Org2's peers get the model.
    for a in &admins[..2] {
        assert_eq!(lifecycle::install_model(a, &bytes).await.unwrap(), hash);
    }

    // One approval is not a majority.
    let def = ModelDefinition {
        class: "cold-chain".into(),
        model_hash: hash.clone(),
        sequence: 1,
    };
    lifecycle::definition_tx(&admins[0], lifecycle::APPROVE_MODEL, &def)
        .await
        .unwrap();
    let err = lifecycle::definition_tx(&admins[0], lifecycle::ACTIVATE_MODEL, &def)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("1 of 4 orgs approved"), "{err}");
    lifecycle::deploy(&admins, &def).await.unwrap();
    let shown = net
        .client(0)
        .await
        .admin()
        .query_active_model(cryptanet_proto::v1::QueryActiveModelRequest {
            class: "cold-chain".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (shown.model_hash.as_str(), shown.sequence),
        (hash.as_str(), 1)
    );
    assert_eq!(shown.approved_orgs, ["Org1MSP", "Org2MSP", "Org3MSP"]);
    assert!(shown.installed_here);

    // A reading through Org3's gateway, whose peer lacks the model: it
    // refuses for its own reason and the peers that have the model endorse.
    let c = net.user(0, "client", 2).await;
    let reg = c
        .invoke("supply-chain", "RegisterShipment", &shipment("S7"))
        .await
        .unwrap();
    c.peer().commit_status(&reg.tx_id, WAIT).await.unwrap();
    let hot = c
        .invoke(
            "supply-chain",
            "RecordReading",
            &["S7", "1700049600000", "14000", "400", "100", "47.0,8.0"],
        )
        .await
        .unwrap();
    let record: serde_json::Value = serde_json::from_slice(&hot.response.payload).unwrap();
    assert_eq!(record["anomalous"], true, "{record}");
    assert_eq!(record["explanation"]["model"], hash.as_str(), "{record}");
    assert_eq!(
        record["explanation"]["breaches"][0]["kind"],
        "TemperatureAboveSpec"
    );
    let shown = peer_tx(&net, 2, &hot.tx_id).await;
    let endorsers: Vec<&str> = shown
        .lines()
        .filter(|l| l.contains("endorsed by"))
        .collect();
    assert_eq!(endorsers.len(), 2, "{shown}");
    assert!(
        endorsers
            .iter()
            .all(|l| l.contains("Org1MSP") || l.contains("Org2MSP")),
        "{shown}"
    );

    // The active-model read is in the read set: a reading endorsed under
    // model 1 and committed after the class moved on is an MVCC conflict.
    let late = c
        .proposal(
            "supply-chain",
            "RecordReading",
            &["S7", "1700049660000", "5000", "400", "100", "47.0,8.0"],
        )
        .unwrap();
    let endorsed = c.endorse(&late, &[]).await.unwrap();
    let builtin = cryptanet_chaincode::ModelDetector::with_builtin()
        .unwrap()
        .model(cryptanet_chaincode::model_detector::COLD_CHAIN)
        .unwrap()
        .hash()
        .to_hex();
    let next = ModelDefinition {
        class: "cold-chain".into(),
        model_hash: builtin.clone(),
        sequence: 2,
    };
    lifecycle::deploy(&admins, &next).await.unwrap();
    let s = c.submit(&endorsed, WAIT).await.unwrap();
    assert_eq!(s.code, V::MvccReadConflict);
    let again = c
        .invoke(
            "supply-chain",
            "RecordReading",
            &["S7", "1700049660000", "5000", "400", "100", "47.0,8.0"],
        )
        .await
        .unwrap();
    let record: serde_json::Value = serde_json::from_slice(&again.response.payload).unwrap();
    assert_eq!(record["explanation"]["model"], builtin.as_str());

    // The auditor re-derives both verdicts with the models that scored them.
    let height = net.info(0).await.unwrap().height;
    while net.info(1).await.unwrap().height < height {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(net.stop(1).success());
    let copy = tempfile::tempdir().unwrap();
    copy_dir(&net.peer_dir(1).join("data/ledger"), copy.path());
    let models = net.peer_dir(1).join("data/models");
    let r = cryptanet_cli::audit::audit(copy.path(), "supply-chain", Some(&models)).unwrap();
    assert_eq!((r.readings, r.reproduced, r.anomalies), (2, 2, 1), "{r:?}");
    // Without the installed model, the first verdict cannot be re-derived.
    let r = cryptanet_cli::audit::audit(copy.path(), "supply-chain", None).unwrap();
    assert_eq!((r.readings, r.reproduced), (2, 1), "{r:?}");
    assert!(r.mismatches[0].reason.contains("not available"), "{r:?}");
}
