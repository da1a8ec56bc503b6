//! §4.3 Garbage collection: checkpoints, stability, watermarks, and the
//! state-transfer hook for a replica left behind.

use super::*;
use crate::types::{chain_state, GENESIS_STATE};

/// Drives replica 1 through executing seqs 1 and 2 (K = 2).
fn executed_two(net: &Net, r: &mut Replica) -> Digest {
    let mut state = GENESIS_STATE;
    for seq in 1..=2u64 {
        let item = [seq as u8];
        let items: &[&[u8]] = &[&item];
        let d = digest(items);
        r.step(net.pre_prepare(0, seq, items));
        r.step(net.prepare(2, 0, seq, d));
        r.step(net.commit(2, 0, seq, d));
        r.step(net.commit(3, 0, seq, d));
        state = chain_state(&state, seq, &d);
    }
    assert_eq!(r.last_executed(), 2);
    state
}

#[test]
fn checkpoint_becomes_stable_and_log_is_collected_table() {
    let net = Net::new();
    let mut r = net.replica(1);
    let state = executed_two(&net, &mut r);
    assert_eq!(r.slot_count(), 2);
    let steps = vec![
        Step {
            name: "a checkpoint that is not a multiple of K is invalid",
            input: net.checkpoint(2, 3, state),
            expect: &[],
        },
        Step {
            name: "a mismatching claim does not count",
            input: net.checkpoint(2, 2, Digest::of(b"other")),
            expect: &[],
        },
        Step {
            name: "own + one matching claim: 2 < 2f + 1",
            input: net.checkpoint(3, 2, state),
            expect: &[],
        },
        Step {
            name: "2f + 1 matching claims (replica 2's real one too): stable",
            input: net.checkpoint(2, 2, state),
            expect: &["persist stable 2"],
        },
        Step {
            name: "below the new low watermark: ignored",
            input: net.pre_prepare(0, 2, &[b"late"]),
            expect: &[],
        },
        Step {
            name: "the window moved: h + L = 6 is accepted",
            input: net.pre_prepare(0, 6, &[b"six"]),
            expect: &["persist batch", "persist slot", "broadcast prepare"],
        },
    ];
    run(&mut r, steps);
    assert_eq!(r.stable_checkpoint(), 2);
    assert_eq!(r.slot_count(), 1, "slots 1 and 2 collected");
    assert_eq!(r.metrics().invalid_content, 1);
}

#[test]
fn replica_behind_a_stable_checkpoint_asks_for_state_table() {
    let net = Net::new();
    let mut lagging = net.replica(3);
    let s2 = chain_state(
        &chain_state(&GENESIS_STATE, 1, &digest(&[b"x"])),
        2,
        &digest(&[b"y"]),
    );
    let s4 = Digest::of(b"state at 4");
    let steps = vec![
        Step {
            name: "claim 1 for seq 2",
            input: net.checkpoint(0, 2, s2),
            expect: &[],
        },
        Step {
            name: "claim 2 for seq 2",
            input: net.checkpoint(1, 2, s2),
            expect: &[],
        },
        Step {
            name: "claim 3: stable beyond the log, ask the shell for state",
            input: net.checkpoint(2, 2, s2),
            expect: &["persist stable 2", "need-state 2"],
        },
        Step {
            name: "a higher stable checkpoint supersedes the request",
            input: net.checkpoint(0, 4, s4),
            expect: &[],
        },
        Step {
            name: "claim 2 for seq 4",
            input: net.checkpoint(1, 4, s4),
            expect: &[],
        },
        Step {
            name: "claim 3 for seq 4",
            input: net.checkpoint(2, 4, s4),
            expect: &["persist stable 4", "need-state 4"],
        },
        Step {
            name: "a transfer that does not match the request is refused",
            input: Input::StateTransferred {
                seq: 2,
                state: s2,
                requests: vec![],
            },
            expect: &[],
        },
        Step {
            name: "the requested transfer resumes the replica",
            input: Input::StateTransferred {
                seq: 4,
                state: s4,
                requests: vec![],
            },
            expect: &["persist executed 4"],
        },
    ];
    run(&mut lagging, steps);
    assert_eq!(lagging.last_executed(), 4);
    assert_eq!(lagging.metrics().bad_inputs, 1);
    assert_eq!(lagging.metrics().state_transfers, 2);
}

#[test]
fn status_relays_what_a_peer_is_missing() {
    let net = Net::new();
    let mut ahead = net.replica(1);
    let state = executed_two(&net, &mut ahead);
    let status = |last_executed, stable| {
        net.input(Message::Status(crate::message::Status {
            view: 0,
            changing_to: None,
            last_executed,
            stable,
            replica: 3,
        }))
    };
    // A first report of being behind is not answered: the batches may be
    // on their way.
    assert!(ahead.step(status(0, 0)).is_empty());
    // No progress since: decided batches are relayed with certificates.
    let out = ahead.step(status(0, 0));
    let got: Vec<String> = out.iter().map(describe).collect();
    assert_eq!(got, ["send 3 decided", "send 3 decided"]);
    // Progress since the previous report: nothing is re-sent.
    assert!(ahead.step(status(1, 0)).is_empty());

    // The relayed batches let a lagging replica catch up without any vote.
    let mut behind = net.replica(3);
    let mut delivered = Vec::new();
    for (m, _) in sent(&out) {
        delivered.extend(behind.step(Input::Message(m)));
    }
    let got: Vec<String> = delivered.iter().map(describe).collect();
    assert_eq!(
        got,
        [
            "commit 1",
            "persist executed 1",
            "commit 2",
            "persist executed 2",
            "broadcast checkpoint"
        ]
    );

    // After a stable checkpoint: the proof is relayed instead.
    ahead.step(net.checkpoint(2, 2, state));
    ahead.step(net.checkpoint(3, 2, state));
    assert_eq!(ahead.stable_checkpoint(), 2);
    let got: Vec<String> = ahead.step(status(0, 0)).iter().map(describe).collect();
    assert_eq!(got, ["send 3 checkpoint"; 3]);
}

#[test]
fn an_unstable_own_checkpoint_is_sent_again_with_each_status() {
    // Found by the simulator (n = 4, seed 843): every CHECKPOINT for 16 was
    // lost, so the low watermark stayed at 8 and the primary, at the high
    // watermark, could propose nothing more.
    let net = Net::new();
    let mut r = net.replica(1);
    let decided = |seq: u64, items: &[&[u8]]| {
        let mut certificate = crate::CommitCertificate {
            view: 0,
            seq,
            digest: digest(items),
            commits: vec![],
        };
        for s in 0..3u32 {
            let bytes = certificate.signed_bytes(s).unwrap();
            let sig = cryptanet_types::crypto::sign(&net.sk[s as usize], &bytes);
            certificate.commits.push((s, sig));
        }
        net.input(Message::Decided(crate::message::Decided {
            batch: batch(items),
            certificate,
            replica: 0,
        }))
    };
    r.step(decided(1, &[b"a"]));
    let got: Vec<String> = r.step(decided(2, &[b"b"])).iter().map(describe).collect();
    assert_eq!(
        got,
        ["commit 2", "persist executed 2", "broadcast checkpoint"]
    );
    let status = |generation| Input::TimeoutElapsed {
        kind: TimeoutKind::Status,
        generation,
    };
    let got: Vec<String> = r.step(status(1)).iter().map(describe).collect();
    assert_eq!(
        got,
        ["broadcast status", "broadcast checkpoint", "timeout status"]
    );
    // Once it is stable, it is not repeated.
    let s1 = crate::chain_state(&crate::GENESIS_STATE, 1, &digest(&[b"a"]));
    let state = crate::chain_state(&s1, 2, &digest(&[b"b"]));
    r.step(net.checkpoint(0, 2, state));
    r.step(net.checkpoint(2, 2, state));
    assert_eq!(r.stable_checkpoint(), 2);
    let got: Vec<String> = r.step(status(2)).iter().map(describe).collect();
    assert_eq!(got, ["broadcast status", "timeout status"]);
}
