//! §4.4 View changes: the request timer, joining on f + 1, the view-change
//! timer with exponential backoff, NEW-VIEW construction (re-proposing
//! prepared batches, null batches in gaps) and its verification.

use super::*;
use crate::cert::{CheckpointCert, PreparedCert};
use crate::message::ViewChange;

fn prepared_cert(net: &Net, view: u64, seq: u64, items: &[&[u8]], signers: &[u32]) -> PreparedCert {
    let pp = pre_prepare(view, seq, items);
    PreparedCert {
        pre_prepare: net.signed(Message::PrePrepare(pp)),
        prepares: signers
            .iter()
            .map(|&r| {
                net.signed(Message::Prepare(Vote {
                    view,
                    seq,
                    digest: pp.digest,
                    replica: r,
                }))
            })
            .collect(),
    }
}

fn view_change(net: &Net, from: u32, new_view: u64, prepared: Vec<PreparedCert>) -> Input {
    net.input(Message::ViewChange(ViewChange {
        new_view,
        checkpoint: CheckpointCert::genesis(),
        prepared,
        replica: from,
    }))
}

fn timer(outs: &[Output], want: TimeoutKind) -> (u64, u64) {
    outs.iter()
        .rev()
        .find_map(|o| match o {
            Output::ScheduleTimeout {
                kind,
                generation,
                after,
            } if *kind == want => Some((*generation, *after)),
            _ => None,
        })
        .expect("timer scheduled")
}

#[test]
fn request_timer_relays_then_starts_a_view_change_table() {
    let net = Net::new();
    let mut r = net.replica(1);
    let outs = r.step(Input::ClientRequest(b"r".to_vec()));
    let got: Vec<String> = outs.iter().map(describe).collect();
    assert_eq!(
        got,
        ["timeout request", "send 0 request"],
        "forwarded to the primary only"
    );
    let (generation, after) = timer(&outs, TimeoutKind::Request);
    assert_eq!(after, 100);
    let steps = vec![
        Step {
            name: "stale generation",
            input: Input::TimeoutElapsed {
                kind: TimeoutKind::Request,
                generation: generation + 7,
            },
            expect: &[],
        },
        Step {
            name: "still unproposed: relay it to every replica, watch again",
            input: Input::TimeoutElapsed {
                kind: TimeoutKind::Request,
                generation,
            },
            expect: &["broadcast request", "timeout request"],
        },
    ];
    let outs = run(&mut r, steps);
    assert_eq!(r.metrics().requests_relayed, 1);
    let (generation, _) = timer(&outs, TimeoutKind::Request);
    let steps = vec![
        Step {
            name: "the primary ignored it again: persist, then VIEW-CHANGE(1)",
            input: Input::TimeoutElapsed {
                kind: TimeoutKind::Request,
                generation,
            },
            expect: &[
                "persist view",
                "timeout view-change",
                "broadcast view-change",
            ],
        },
        Step {
            name: "messages of the abandoned view are no longer accepted",
            input: net.pre_prepare(0, 1, &[b"r"]),
            expect: &[],
        },
    ];
    run(&mut r, steps);
    assert_eq!(r.changing_to(), Some(1));
    assert_eq!(r.view(), 0);
}

#[test]
fn a_proposed_request_is_not_relayed_the_timer_goes_straight_to_view_change() {
    let net = Net::new();
    let mut r = net.replica(1);
    let outs = r.step(Input::ClientRequest(b"r".to_vec()));
    let (generation, _) = timer(&outs, TimeoutKind::Request);
    // The primary proposed it (and then stalled): nothing to relay.
    let outs = r.step(net.pre_prepare(0, 1, &[b"r"]));
    let got: Vec<String> = outs.iter().map(describe).collect();
    assert_eq!(got, ["persist batch", "persist slot", "broadcast prepare"]);
    let outs = r.step(Input::TimeoutElapsed {
        kind: TimeoutKind::Request,
        generation,
    });
    let got: Vec<String> = outs.iter().map(describe).collect();
    assert_eq!(
        got,
        [
            "persist view",
            "timeout view-change",
            "broadcast view-change"
        ]
    );
    assert_eq!(r.metrics().requests_relayed, 0);
}

#[test]
fn join_on_f_plus_one_and_back_off_exponentially_table() {
    let net = Net::new();
    let mut r = net.replica(3);
    let steps = vec![
        Step {
            name: "one VIEW-CHANGE for view 1 (f = 1): not yet",
            input: view_change(&net, 1, 1, vec![]),
            expect: &[],
        },
        Step {
            name: "f + 1 for higher views: join view 1, arming the view-change timer",
            input: view_change(&net, 2, 1, vec![]),
            expect: &[
                "persist view",
                "timeout view-change",
                "broadcast view-change",
            ],
        },
    ];
    let outs = run(&mut r, steps);
    let (generation, after) = timer(&outs, TimeoutKind::ViewChange);
    assert_eq!(after, 100);
    let steps = vec![
        Step {
            name: "no NEW-VIEW in time: move on to view 2 with a doubled timeout",
            input: Input::TimeoutElapsed {
                kind: TimeoutKind::ViewChange,
                generation,
            },
            expect: &[
                "persist view",
                "timeout view-change",
                "broadcast view-change",
            ],
        },
        Step {
            name: "VIEW-CHANGE(2) from replica 1",
            input: view_change(&net, 1, 2, vec![]),
            expect: &[],
        },
        Step {
            name: "2f + 1 for view 2 (we are not its primary): wait",
            input: view_change(&net, 0, 2, vec![]),
            expect: &[],
        },
    ];
    let outs = run(&mut r, steps);
    assert_eq!(timer(&outs, TimeoutKind::ViewChange).1, 200);
    assert_eq!(r.changing_to(), Some(2));
}

/// Replica 2 prepared seq 1 (batch A) and seq 3 (batch C) in view 0;
/// replica 3 prepared nothing. Returns the NEW-VIEW replica 1 sends.
fn new_view_from_primary(net: &Net) -> SignedMessage {
    let mut primary = net.replica(1);
    let certs = vec![
        prepared_cert(net, 0, 1, &[b"A"], &[1, 2]),
        prepared_cert(net, 0, 3, &[b"C"], &[2, 3]),
    ];
    let steps = vec![
        Step {
            name: "VIEW-CHANGE(1) with two prepared certificates",
            input: view_change(net, 2, 1, certs),
            expect: &[],
        },
        Step {
            name: "f + 1: join; 2f + 1 and we are the new primary: install, announce",
            input: view_change(net, 3, 1, vec![]),
            expect: &[
                "persist view",
                "timeout view-change",
                "broadcast view-change",
                "persist view",
                "persist slot",
                "fetch 1 from [2, 0, 3]",
                "persist slot",
                "persist slot",
                "fetch 3 from [2, 0, 3]",
                "broadcast new-view",
            ],
        },
    ];
    let outs = run(&mut primary, steps);
    assert_eq!((primary.view(), primary.changing_to()), (1, None));
    let (m, msg) = sent(&outs).pop().unwrap();
    let Message::NewView(nv) = msg else {
        panic!("expected a new-view");
    };
    let reproposed: Vec<(u64, Digest)> = nv
        .pre_prepares
        .iter()
        .map(|p| match p.open(&net.pk).unwrap() {
            Message::PrePrepare(pp) => (pp.seq, pp.digest),
            _ => panic!("not a pre-prepare"),
        })
        .collect();
    assert_eq!(
        reproposed,
        vec![(1, digest(&[b"A"])), (2, digest(&[])), (3, digest(&[b"C"]))],
        "prepared batches re-proposed, the gap filled with a null batch"
    );
    m
}

#[test]
fn new_view_reproposes_prepared_batches_and_fills_gaps_table() {
    let net = Net::new();
    let nv = new_view_from_primary(&net);
    let mut backup = net.replica(3);
    let steps = vec![Step {
        name: "a valid NEW-VIEW: install, prepare the null batch, fetch the others first",
        input: Input::Message(nv),
        expect: &[
            "persist view",
            "fetch 1 from [2, 0, 1]",
            "persist slot",
            "broadcast prepare",
            "fetch 3 from [2, 0, 1]",
        ],
    }];
    run(&mut backup, steps);
    assert_eq!(backup.view(), 1);
    assert_eq!(backup.slot_digest(2), Some(digest(&[])));
}

#[test]
fn a_reproposed_batch_is_prepared_only_once_fetched_bytes_match_table() {
    let net = Net::new();
    let nv = new_view_from_primary(&net);
    let mut backup = net.replica(3);
    backup.step(Input::Message(nv));
    let fetched = |seq, items: &[&[u8]], of: &[&[u8]]| Input::BatchFetched {
        seq,
        digest: digest(of),
        batch: batch(items),
    };
    let steps = vec![
        Step {
            name: "bytes that are not the batch: refused, nothing sent",
            input: fetched(1, &[b"not A"], &[b"A"]),
            expect: &[],
        },
        Step {
            name: "a batch nobody asked for at that seq: ignored",
            input: fetched(2, &[b"A"], &[b"A"]),
            expect: &[],
        },
        Step {
            name: "the batch of the re-proposed digest: persist it, then PREPARE",
            input: fetched(1, &[b"A"], &[b"A"]),
            expect: &["persist batch", "persist slot", "broadcast prepare"],
        },
        Step {
            name: "the same batch again: already held",
            input: fetched(1, &[b"A"], &[b"A"]),
            expect: &[],
        },
    ];
    run(&mut backup, steps);
    assert_eq!(backup.metrics().bad_inputs, 1);
    assert_eq!(backup.metrics().batches_fetched, 1);
    assert_eq!(backup.batch(1, &digest(&[b"A"])), Some(batch(&[b"A"])));
    assert_eq!(backup.batch(3, &digest(&[b"C"])), None);
    // The status tick asks again for what is still missing (seq 3 only).
    let status = Input::TimeoutElapsed {
        kind: TimeoutKind::Status,
        generation: 1,
    };
    let got: Vec<String> = backup.step(status).iter().map(describe).collect();
    assert_eq!(
        got,
        [
            "broadcast status",
            "fetch 3 from [2, 0, 1]",
            "timeout status"
        ]
    );
    // A relayed PROPOSAL of the same PRE-PREPARE also supplies the batch.
    let nv_pp = {
        let mut pp = pre_prepare(1, 3, &[b"C"]);
        pp.replica = 1;
        pp
    };
    let relayed = {
        let inner = net.signed(Message::PrePrepare(nv_pp));
        net.signed(Message::Proposal(Proposal {
            pre_prepare: inner,
            batch: batch(&[b"C"]),
            replica: 2,
        }))
    };
    let got: Vec<String> = backup
        .step(Input::Message(relayed))
        .iter()
        .map(describe)
        .collect();
    assert_eq!(got, ["persist batch", "persist slot", "broadcast prepare"]);
}

#[test]
fn a_replica_holding_the_batch_prepares_the_reproposal_without_fetching() {
    let net = Net::new();
    let nv = new_view_from_primary(&net);
    let mut backup = net.replica(3);
    // Replica 3 received seq 3's PROPOSAL in view 0 (and prepared it).
    backup.step(net.pre_prepare(0, 3, &[b"C"]));
    let got: Vec<String> = backup
        .step(Input::Message(nv))
        .iter()
        .map(describe)
        .collect();
    assert_eq!(
        got,
        [
            "persist view",
            "fetch 1 from [2, 0, 1]",
            "persist slot",
            "broadcast prepare",
            "persist slot",
            "broadcast prepare",
        ]
    );
}

#[test]
fn new_view_that_drops_a_prepared_batch_is_rejected() {
    let net = Net::new();
    let nv = new_view_from_primary(&net);
    let Message::NewView(mut body) = nv.open(&net.pk).unwrap() else {
        panic!("expected a new-view");
    };
    let mut null = pre_prepare(1, 1, &[]);
    null.replica = 1;
    body.pre_prepares[0] = net.signed(Message::PrePrepare(null));
    let tampered = net.signed(Message::NewView(body.clone()));
    // Too few VIEW-CHANGEs.
    let mut short = body;
    short.view_changes.truncate(2);
    let short = net.signed(Message::NewView(short));
    let mut backup = net.replica(3);
    let steps = vec![
        Step {
            name: "seq 1 was prepared: a null batch there is a bad NEW-VIEW",
            input: Input::Message(tampered),
            expect: &[],
        },
        Step {
            name: "fewer than 2f + 1 VIEW-CHANGEs",
            input: Input::Message(short),
            expect: &[],
        },
    ];
    run(&mut backup, steps);
    assert_eq!(backup.view(), 0);
    assert_eq!(backup.metrics().invalid_content, 2);
}

#[test]
fn view_change_with_a_bad_prepared_certificate_is_dropped_table() {
    let net = Net::new();
    let mut r = net.replica(3);
    let mut mismatched = prepared_cert(&net, 0, 2, &[b"B"], &[1, 2]);
    mismatched.prepares[1] = prepared_cert(&net, 0, 2, &[b"Z"], &[2]).prepares[0].clone();
    let steps = vec![
        Step {
            name: "only f prepares",
            input: view_change(&net, 1, 1, vec![prepared_cert(&net, 0, 2, &[b"B"], &[1])]),
            expect: &[],
        },
        Step {
            name: "a prepare for another digest",
            input: view_change(&net, 1, 1, vec![mismatched]),
            expect: &[],
        },
        Step {
            name: "the primary's own prepare does not count",
            input: view_change(
                &net,
                1,
                1,
                vec![prepared_cert(&net, 0, 2, &[b"B"], &[0, 1])],
            ),
            expect: &[],
        },
        Step {
            name: "a certificate from a view not below the new view",
            input: view_change(
                &net,
                1,
                1,
                vec![prepared_cert(&net, 1, 2, &[b"B"], &[2, 3])],
            ),
            expect: &[],
        },
    ];
    run(&mut r, steps);
    assert_eq!(r.metrics().invalid_content, 4);
    // None of them counted towards joining.
    let out = r.step(view_change(&net, 2, 1, vec![]));
    assert!(out.is_empty());
}

#[test]
fn new_primary_proposes_pending_requests_after_the_re_proposals() {
    let net = Net::new();
    let mut primary = net.replica(1);
    primary.step(Input::ClientRequest(b"late".to_vec()));
    primary.step(view_change(
        &net,
        2,
        1,
        vec![prepared_cert(&net, 0, 1, &[b"A"], &[1, 2])],
    ));
    let outs = primary.step(view_change(&net, 3, 1, vec![]));
    let pps: Vec<(u64, Vec<Vec<u8>>)> = sent(&outs)
        .into_iter()
        .filter_map(|(_, m)| proposed(&m).map(|(pp, batch)| (pp.seq, batch)))
        .collect();
    // Seq 1 is the re-proposal (inside NEW-VIEW); the pending request needs
    // a batch timer before it goes out at seq 2.
    assert!(pps.is_empty());
    let (generation, _) = timer(&outs, TimeoutKind::Batch);
    let outs = primary.step(Input::TimeoutElapsed {
        kind: TimeoutKind::Batch,
        generation,
    });
    let pps: Vec<(u64, Vec<Vec<u8>>)> = sent(&outs)
        .into_iter()
        .filter_map(|(_, m)| proposed(&m).map(|(pp, batch)| (pp.seq, batch)))
        .collect();
    assert_eq!(pps, vec![(2, vec![b"late".to_vec()])]);
}

#[test]
fn new_view_carries_a_stable_checkpoint_to_replicas_behind_it_table() {
    let net = Net::new();
    let state = Digest::of(b"state at 2");
    let proof = (1..4)
        .map(|r| {
            net.signed(Message::Checkpoint(Checkpoint {
                seq: 2,
                state,
                replica: r,
            }))
        })
        .collect();
    let checkpoint = CheckpointCert {
        seq: 2,
        state,
        proof,
    };
    let vc = |from: u32| {
        net.input(Message::ViewChange(ViewChange {
            new_view: 1,
            checkpoint: checkpoint.clone(),
            prepared: vec![prepared_cert(&net, 0, 3, &[b"C"], &[2, 3])],
            replica: from,
        }))
    };
    let mut primary = net.replica(1);
    primary.step(vc(2));
    let outs = primary.step(vc(3));
    let got: Vec<String> = outs.iter().map(describe).collect();
    assert_eq!(
        got,
        [
            "persist view",
            "timeout view-change",
            "broadcast view-change",
            "persist view",
            "persist stable 2",
            "need-state 2",
            "persist slot",
            "fetch 3 from [2, 3, 0]",
            "broadcast new-view",
        ],
        "min-s = 2 is adopted (state requested), seq 3 re-proposed"
    );
    let (nv, _) = sent(&outs).pop().unwrap();
    let mut backup = net.replica(0);
    let steps = vec![Step {
        name: "the backup adopts the checkpoint, asks for state, prepares seq 3",
        input: Input::Message(nv),
        expect: &[
            "persist view",
            "persist stable 2",
            "need-state 2",
            "fetch 3 from [2, 3, 1]",
        ],
    }];
    run(&mut backup, steps);
    assert_eq!(backup.stable_checkpoint(), 2);
    assert_eq!(backup.slot_digest(3), Some(digest(&[b"C"])));
}

#[test]
fn a_batch_known_only_as_decided_is_not_fetched_again() {
    // Found by the simulator (n = 7, seed 329): a replica that learned seq
    // 1 from a DECIDED relay kept asking for its batch after every view
    // change and never PREPAREd the re-proposal.
    let net = Net::new();
    let nv = new_view_from_primary(&net);
    let mut backup = net.replica(3);
    let mut certificate = crate::CommitCertificate {
        view: 0,
        seq: 1,
        digest: digest(&[b"A"]),
        commits: vec![],
    };
    for r in 0..3u32 {
        let bytes = certificate.signed_bytes(r).unwrap();
        let sig = cryptanet_types::crypto::sign(&net.sk[r as usize], &bytes);
        certificate.commits.push((r, sig));
    }
    let decided = net.input(Message::Decided(crate::message::Decided {
        batch: batch(&[b"A"]),
        certificate,
        replica: 2,
    }));
    let got: Vec<String> = backup.step(decided).iter().map(describe).collect();
    assert_eq!(got, ["commit 1", "persist executed 1"]);
    let got: Vec<String> = backup
        .step(Input::Message(nv))
        .iter()
        .map(describe)
        .collect();
    assert_eq!(
        got,
        [
            "persist view",
            "persist slot",
            "broadcast prepare",
            "persist slot",
            "broadcast prepare",
            "fetch 3 from [2, 0, 1]",
        ]
    );
}

#[test]
fn the_request_timer_doubles_in_a_view_installed_without_progress() {
    let net = Net::new();
    let nv = new_view_from_primary(&net);
    let mut backup = net.replica(3);
    let outs = backup.step(Input::ClientRequest(b"waiting".to_vec()));
    assert_eq!(timer(&outs, TimeoutKind::Request).1, 100);
    let outs = backup.step(Input::Message(nv));
    assert_eq!(
        timer(&outs, TimeoutKind::Request).1,
        200,
        "one view installed since anything executed: 2 × request_timeout"
    );
}
