//! §4.2 Normal-case operation: requests, batching, pre-prepare, prepare,
//! commit, in-order delivery, and the checks on each message.

use super::*;
use crate::message::Request;

#[test]
fn backup_three_phases_table() {
    let net = Net::new();
    let mut r = net.replica(1);
    let a: &[&[u8]] = &[b"a1", b"a2"];
    let da = digest(a);
    let steps = vec![
        Step {
            name: "pre-prepare from the primary: persist, then prepare",
            input: net.pre_prepare(0, 1, a),
            expect: &["persist batch", "persist slot", "broadcast prepare"],
        },
        Step {
            name: "a prepare from the primary itself does not count",
            input: net.prepare(0, 0, 1, da),
            expect: &[],
        },
        Step {
            name: "2f matching prepares (own + replica 2): prepared, persist, commit",
            input: net.prepare(2, 0, 1, da),
            expect: &["persist slot", "broadcast commit"],
        },
        Step {
            name: "a late prepare changes nothing",
            input: net.prepare(3, 0, 1, da),
            expect: &[],
        },
        Step {
            name: "2f commits are not enough",
            input: net.commit(2, 0, 1, da),
            expect: &[],
        },
        Step {
            name: "2f + 1 commits: deliver, then record execution",
            input: net.commit(3, 0, 1, da),
            expect: &["commit 1", "persist executed 1"],
        },
        Step {
            name: "a duplicate commit is ignored",
            input: net.commit(3, 0, 1, da),
            expect: &[],
        },
    ];
    let outs = run(&mut r, steps);
    assert_eq!(r.metrics().invalid_content, 1, "the primary's prepare");
    assert_eq!(r.last_executed(), 1);
    let Some(Output::Commit(c)) = outs.iter().find(|o| matches!(o, Output::Commit(_))) else {
        panic!("no commit");
    };
    assert_eq!(c.batch, batch(a));
    assert_eq!(c.certificate.digest, data_hash(&c.batch));
    c.certificate.verify(&net.pk, 1).unwrap();
    let decoded = crate::CommitCertificate::decode(&c.certificate.encode().unwrap()).unwrap();
    assert_eq!(&decoded, &c.certificate);
}

#[test]
fn pre_prepare_acceptance_rules_table() {
    let net = Net::new();
    let mut r = net.replica(1);
    let forged = {
        let mut m = net.proposal(pre_prepare(0, 2, &[b"x"]), &[b"x"]);
        m.signature.0[5] ^= 1;
        Input::Message(m)
    };
    let wrong_digest = {
        let mut pp = pre_prepare(0, 3, &[b"x"]);
        pp.digest = digest(&[b"y"]);
        Input::Message(net.proposal(pp, &[b"x"]))
    };
    // The batch travels outside the signature: a relay that swaps it keeps
    // a valid signature, and the digest check refuses it.
    let swapped_batch = {
        let mut m = net.proposal(pre_prepare(0, 3, &[b"x"]), &[b"x"]);
        m.attachment = vec![b"y".to_vec()];
        Input::Message(m)
    };
    let not_primary = {
        let mut pp = pre_prepare(0, 2, &[b"x"]);
        pp.replica = 2;
        Input::Message(net.proposal(pp, &[b"x"]))
    };
    let steps = vec![
        Step {
            name: "accepted",
            input: net.pre_prepare(0, 1, &[b"a"]),
            expect: &["persist batch", "persist slot", "broadcast prepare"],
        },
        Step {
            name: "same (view, seq), other batch: equivocation, no second prepare",
            input: net.pre_prepare(0, 1, &[b"b"]),
            expect: &[],
        },
        Step {
            name: "forged signature",
            input: forged,
            expect: &[],
        },
        Step {
            name: "batch swapped in the attachment",
            input: swapped_batch,
            expect: &[],
        },
        Step {
            name: "digest does not match batch",
            input: wrong_digest,
            expect: &[],
        },
        Step {
            name: "sender is not the primary of the view",
            input: not_primary,
            expect: &[],
        },
        Step {
            name: "above the high watermark (h + L = 4)",
            input: net.pre_prepare(0, 5, &[b"c"]),
            expect: &[],
        },
        Step {
            name: "at the high watermark",
            input: net.pre_prepare(0, 4, &[b"c"]),
            expect: &["persist batch", "persist slot", "broadcast prepare"],
        },
        Step {
            name: "garbage bytes",
            input: Input::Message(SignedMessage {
                bytes: vec![0xff; 7],
                signature: cryptanet_types::Signature([0; 64]),
                attachment: Vec::new(),
            }),
            expect: &[],
        },
    ];
    run(&mut r, steps);
    let m = r.metrics();
    assert_eq!(m.equivocations_seen, 1);
    assert_eq!(m.invalid_signature_or_encoding, 2);
    // Digest mismatches (a swapped batch, a wrong digest) and a sender that
    // is not the primary.
    assert_eq!(m.invalid_content, 3);
    assert_eq!(r.slot_digest(1), Some(digest(&[b"a"])));
}

#[test]
fn delivery_is_in_sequence_order() {
    let net = Net::new();
    let mut r = net.replica(1);
    let a: &[&[u8]] = &[b"a"];
    let b: &[&[u8]] = &[b"b"];
    let (da, db) = (digest(a), digest(b));
    let steps = vec![
        Step {
            name: "seq 2 proposed first",
            input: net.pre_prepare(0, 2, b),
            expect: &["persist batch", "persist slot", "broadcast prepare"],
        },
        Step {
            name: "seq 2 prepared",
            input: net.prepare(3, 0, 2, db),
            expect: &["persist slot", "broadcast commit"],
        },
        Step {
            name: "commit 2 from replica 2",
            input: net.commit(2, 0, 2, db),
            expect: &[],
        },
        Step {
            name: "seq 2 decided but seq 1 is missing: nothing delivered",
            input: net.commit(3, 0, 2, db),
            expect: &[],
        },
        Step {
            name: "commits for seq 1 may precede its pre-prepare",
            input: net.commit(2, 0, 1, da),
            expect: &[],
        },
        Step {
            name: "commit 1 from replica 3",
            input: net.commit(3, 0, 1, da),
            expect: &[],
        },
        Step {
            name: "pre-prepare 1",
            input: net.pre_prepare(0, 1, a),
            expect: &["persist batch", "persist slot", "broadcast prepare"],
        },
        Step {
            name: "seq 1 prepared and decided: 1 then 2 delivered; checkpoint at K = 2",
            input: net.prepare(3, 0, 1, da),
            expect: &[
                "persist slot",
                "broadcast commit",
                "commit 1",
                "persist executed 1",
                "commit 2",
                "persist executed 2",
                "broadcast checkpoint",
            ],
        },
    ];
    run(&mut r, steps);
}

#[test]
fn requests_are_forwarded_batched_and_deduplicated_table() {
    let net = Net::new();
    let mut primary = net.replica(0);
    let forwarded = net.input(Message::Request(Request {
        replica: 2,
        digests: vec![crate::request_digest(b"r2")],
        payloads: vec![b"r2".to_vec()],
    }));
    let steps = vec![
        Step {
            name: "first request: watch it, wait for a fuller batch (the primary forwards nothing)",
            input: Input::ClientRequest(b"r1".to_vec()),
            expect: &["timeout request", "timeout batch"],
        },
        Step {
            name: "same request again: duplicate",
            input: Input::ClientRequest(b"r1".to_vec()),
            expect: &[],
        },
        Step {
            name: "a forwarded request fills the batch (count 2): persist, pre-prepare",
            input: forwarded,
            expect: &["persist batch", "persist slot", "broadcast proposal"],
        },
        Step {
            name: "a request larger than a batch may be is refused",
            input: Input::ClientRequest(vec![0; 2 << 20]),
            expect: &[],
        },
        Step {
            name: "third request: partial batch waits",
            input: Input::ClientRequest(b"r3".to_vec()),
            expect: &["timeout batch"],
        },
        Step {
            name: "a stale batch timer generation is ignored",
            input: Input::TimeoutElapsed {
                kind: TimeoutKind::Batch,
                generation: 1,
            },
            expect: &[],
        },
    ];
    let outs = run(&mut primary, steps);
    assert_eq!(primary.metrics().requests_duplicate, 1);
    assert_eq!(primary.metrics().requests_refused, 1);
    let Some(Output::ScheduleTimeout { generation, .. }) = outs.iter().rev().find(|o| {
        matches!(
            o,
            Output::ScheduleTimeout {
                kind: TimeoutKind::Batch,
                ..
            }
        )
    }) else {
        panic!("no batch timer");
    };
    let out = primary.step(Input::TimeoutElapsed {
        kind: TimeoutKind::Batch,
        generation: *generation,
    });
    let got: Vec<String> = out.iter().map(describe).collect();
    assert_eq!(
        got,
        ["persist batch", "persist slot", "broadcast proposal"],
        "batch timer cuts"
    );
    let pps: Vec<_> = sent(&out);
    let Some((pp, batch)) = proposed(&pps[0].1) else {
        panic!("not a proposal");
    };
    assert_eq!((pp.seq, batch), (2, vec![b"r3".to_vec()]));

    // A backup watches and forwards to the primary only, but does not
    // propose; a group of submissions leaves as one signed message.
    let mut backup = net.replica(1);
    let out = backup.step(Input::ClientRequests(vec![
        b"r9".to_vec(),
        b"r10".to_vec(),
        b"r9".to_vec(),
    ]));
    let got: Vec<String> = out.iter().map(describe).collect();
    assert_eq!(got, ["timeout request", "send 0 request"]);
    let forwarded: Vec<_> = sent(&out);
    let Message::Request(req) = &forwarded[0].1 else {
        panic!("not a request");
    };
    assert_eq!(req.payloads, vec![b"r9".to_vec(), b"r10".to_vec()]);

    // A client retry of a request the primary has not proposed is forwarded
    // again (the first forward may have been lost); once proposed, it is not.
    let out = backup.step(Input::ClientRequest(b"r9".to_vec()));
    let got: Vec<String> = out.iter().map(describe).collect();
    assert_eq!(got, ["send 0 request"]);
    backup.step(net.pre_prepare(0, 1, &[b"r9", b"r10"]));
    let out = backup.step(Input::ClientRequest(b"r9".to_vec()));
    assert!(
        out.is_empty(),
        "{:?}",
        out.iter().map(describe).collect::<Vec<_>>()
    );
    assert_eq!(backup.metrics().requests_duplicate, 3);
}

#[test]
fn a_whole_cluster_commits_identical_certified_batches() {
    let mut c = Cluster::new();
    for i in 0..5u8 {
        c.inject(
            u32::from(i % 4),
            Input::ClientRequest(vec![i; 3]),
            &keep_all,
        );
    }
    // Requests 0..3 filled two batches; the fifth waits for the batch timer.
    assert!(c.commits.iter().all(|v| v.len() == 2));
    for r in 0..4 {
        for (a, b) in c.commits[0].iter().zip(&c.commits[r]) {
            assert_eq!((a.seq, &a.batch), (b.seq, &b.batch));
            b.certificate.verify(&c.net.pk, 1).unwrap();
            // The digests the shell builds the block from are its leaves.
            assert_eq!(b.digests, cryptanet_types::block::leaves(&b.batch));
            assert_eq!(
                cryptanet_types::block::data_hash_of_leaves(&b.digests),
                b.certificate.digest
            );
        }
    }
}
