//! Issue 4's acceptance tests: real `cryptanet-node` processes on loopback.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{replica_keys, Net};
use cryptanet_pbft::CommitCertificate;
use std::time::{Duration, Instant};

/// Small batches and short timeouts so faults show quickly.
const FAST: &str = "[pbft]\nmax_batch_count = 64\nbatch_timeout_ms = 5\nrequest_timeout_ms = 1500\nview_change_timeout_ms = 1500\ncheckpoint_interval = 8\nwatermark_window = 32\nstatus_interval_ms = 200\n";

async fn heights(net: &Net, peers: &[usize]) -> Vec<u64> {
    let mut out = Vec::new();
    for &i in peers {
        out.push(net.info(i).await.map(|x| x.height).unwrap_or(0));
    }
    out
}

/// Waits until all `peers` report the same height ≥ `min`, returns it.
async fn converge(net: &Net, peers: &[usize], min: u64, timeout: Duration) -> u64 {
    let t = Instant::now();
    loop {
        let h = heights(net, peers).await;
        if h.iter().all(|x| *x == h[0]) && h[0] >= min {
            return h[0];
        }
        assert!(
            t.elapsed() < timeout,
            "peers did not converge: heights {h:?}\n{}",
            common::tail(&net.log(peers[0]))
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// All peers' blocks 1..=h are identical, chain, and carry commit
/// certificates that verify against the replica keys from the org
/// definitions.
async fn check_identical_and_certified(net: &Net, peers: &[usize], h: u64) {
    let keys = replica_keys(&net.orgs_dir());
    let f = (keys.len() - 1) / 3;
    let reference = net.block_hashes(peers[0], h).await;
    assert_eq!(reference.len() as u64, h);
    let mut prev = cryptanet_types::Digest::ZERO;
    for b in &reference {
        assert_eq!(b.header.previous_hash, prev);
        prev = b.hash();
        let cert = CommitCertificate::decode(&b.metadata.commit_certificate).unwrap();
        assert_eq!(
            (cert.seq, cert.digest),
            (b.header.number, b.header.data_hash)
        );
        cert.verify(&keys, f).unwrap();
    }
    for &i in &peers[1..] {
        let other = net.block_hashes(i, h).await;
        let a: Vec<_> = reference.iter().map(|b| b.hash()).collect();
        let b: Vec<_> = other.iter().map(|b| b.hash()).collect();
        assert_eq!(a, b, "peer {i} has a different chain");
        // Validation codes are computed independently and must agree too.
        for (x, y) in reference.iter().zip(&other) {
            assert_eq!(x.metadata.validation_codes, y.metadata.validation_codes);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_peers_commit_1000_payloads_into_identical_certified_ledgers() {
    let net = Net::up(4, FAST);
    let txs = net.transactions(1000, 512, 1);
    net.submit_all(&txs, &[0, 1, 2, 3]).await;
    net.wait_committed(&txs, &[0, 1, 2, 3], Duration::from_secs(120))
        .await;
    let h = converge(&net, &[0, 1, 2, 3], 1, Duration::from_secs(30)).await;
    check_identical_and_certified(&net, &[0, 1, 2, 3], h).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_non_primary_catches_up_after_restart() {
    let mut net = Net::up(4, FAST);
    let first = net.transactions(300, 256, 2);
    net.submit_all(&first[..100], &[0, 1, 2, 3]).await;
    // View 0's primary is replica 0; kill replica 2 under load.
    net.kill(2);
    net.submit_all(&first[100..], &[0, 1, 3]).await;
    net.wait_committed(&first, &[0, 1, 3], Duration::from_secs(120))
        .await;
    net.start(2);
    let more = net.transactions(100, 256, 3);
    net.submit_all(&more, &[0, 1, 3]).await;
    net.wait_committed(&more, &[0, 1, 3], Duration::from_secs(120))
        .await;
    let h = converge(&net, &[0, 1, 2, 3], 1, Duration::from_secs(90)).await;
    net.wait_committed(&first, &[2], Duration::from_secs(30))
        .await;
    check_identical_and_certified(&net, &[0, 1, 2, 3], h).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_primary_triggers_a_view_change_and_commits_resume() {
    let mut net = Net::up(4, FAST);
    let txs = net.transactions(200, 256, 4);
    net.submit_all(&txs[..50], &[0, 1, 2, 3]).await;
    net.wait_committed(&txs[..50], &[1], Duration::from_secs(60))
        .await;
    assert_eq!(net.info(1).await.unwrap().view, 0);
    net.kill(0);
    let killed = Instant::now();
    net.submit_all(&txs[50..], &[1, 2, 3]).await;
    net.wait_committed(&txs[50..], &[1, 2, 3], Duration::from_secs(120))
        .await;
    let resumed = killed.elapsed();
    let info = net.info(1).await.unwrap();
    assert!(info.view >= 1, "no view change happened");
    eprintln!(
        "view change: primary killed -> commits resumed in {resumed:?} (view now {})",
        info.view
    );
    let h = converge(&net, &[1, 2, 3], 1, Duration::from_secs(30)).await;
    check_identical_and_certified(&net, &[1, 2, 3], h).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_shuts_down_cleanly_and_restart_keeps_the_ledger() {
    let mut net = Net::up(4, FAST);
    let txs = net.transactions(50, 64, 5);
    net.submit_all(&txs, &[0, 1, 2, 3]).await;
    net.wait_committed(&txs, &[0, 1, 2, 3], Duration::from_secs(60))
        .await;
    let before = net.info(3).await.unwrap().height;
    let status = net.stop(3);
    assert!(status.success(), "exit status {status:?}");
    assert!(net.log(3).contains("peer stopped"));
    net.start(3);
    net.client(3).await;
    assert!(net.info(3).await.unwrap().height >= before);
}
