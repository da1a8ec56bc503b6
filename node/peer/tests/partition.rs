//! A 2|2 partition stalls commits without a fork; healing resumes them and
//! every ledger converges. Peers run in their own network namespaces (one
//! host each, joined by a bridge); the partition is a set of blackhole
//! routes. Needs root, as `ip netns` does.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::Net;
use std::time::{Duration, Instant};

const FAST: &str = "[pbft]\nmax_batch_count = 64\nbatch_timeout_ms = 5\nrequest_timeout_ms = 1500\nview_change_timeout_ms = 1500\ncheckpoint_interval = 8\nwatermark_window = 32\nstatus_interval_ms = 200\n";

async fn heights(net: &Net) -> Vec<u64> {
    let mut out = Vec::new();
    for i in 0..net.n {
        out.push(net.info(i).await.map(|x| x.height).unwrap_or(0));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_two_partition_stalls_without_fork_and_heals() {
    let net = Net::up_in_namespaces(4, FAST);
    net.deploy_load().await;
    let before = net.transactions(40, 128, 10);
    net.submit_all(&before, &[0, 1, 2, 3]).await;
    net.wait_committed(&before, &[0, 1, 2, 3], Duration::from_secs(60))
        .await;
    let h0 = heights(&net).await;

    net.netns.as_ref().unwrap().partition(&[0, 1], &[2, 3]);
    let during = net.transactions(40, 128, 11);
    net.submit_all(&during, &[0, 1, 2, 3]).await;
    tokio::time::sleep(Duration::from_secs(6)).await;
    let h1 = heights(&net).await;
    // Neither side has a quorum (2f + 1 = 3): nothing new commits.
    let max0 = *h0.iter().max().unwrap();
    assert!(
        h1.iter().all(|h| *h <= max0),
        "commits during a 2|2 partition: {h0:?} -> {h1:?}"
    );

    net.netns.as_ref().unwrap().heal();
    let healed = Instant::now();
    net.wait_committed(&during, &[0, 1, 2, 3], Duration::from_secs(120))
        .await;
    eprintln!(
        "partition healed -> all stalled transactions committed on all peers in {:?}",
        healed.elapsed()
    );
    // Converge, then compare whole chains (no fork).
    let t = Instant::now();
    let h = loop {
        let h = heights(&net).await;
        if h.iter().all(|x| *x == h[0]) {
            break h[0];
        }
        assert!(
            t.elapsed() < Duration::from_secs(60),
            "no convergence: {h:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let reference: Vec<_> = net
        .block_hashes(0, h)
        .await
        .iter()
        .map(|b| b.hash())
        .collect();
    for i in 1..4 {
        let other: Vec<_> = net
            .block_hashes(i, h)
            .await
            .iter()
            .map(|b| b.hash())
            .collect();
        assert_eq!(reference, other, "peer {i} forked");
    }
}
