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
    net.deploy_load().await;
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
    net.deploy_load().await;
    let first = net.transactions(300, 256, 2);
    // Load goes to the peers that stay up: a transaction accepted by the
    // victim's gateway but not yet forwarded dies with it (clients resubmit
    // on a CommitStatus timeout, as with any orderer).
    net.submit_all(&first[..100], &[0, 1, 3]).await;
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
async fn a_peer_restarted_with_an_empty_data_directory_rebuilds_the_chain_from_the_others() {
    // What an operator does with a data directory in another on-disk
    // format: move it aside and start the peer empty.
    let mut net = Net::up(4, FAST);
    net.deploy_load().await;
    let first = net.transactions(200, 256, 5);
    net.submit_all(&first, &[0, 1, 2, 3]).await;
    net.wait_committed(&first, &[0, 1, 2, 3], Duration::from_secs(120))
        .await;
    assert!(net.stop(2).success());
    let data = net.peer_dir(2).join("data");
    std::fs::rename(&data, net.peer_dir(2).join("data.old")).unwrap();
    net.start(2);
    let more = net.transactions(100, 256, 6);
    net.submit_all(&more, &[0, 1, 3]).await;
    net.wait_committed(&more, &[0, 1, 3], Duration::from_secs(120))
        .await;
    let h = converge(&net, &[0, 1, 2, 3], 1, Duration::from_secs(90)).await;
    net.wait_committed(&first, &[2], Duration::from_secs(30))
        .await;
    check_identical_and_certified(&net, &[0, 1, 2, 3], h).await;
    assert!(data.join("ledger").exists(), "the peer wrote a new ledger");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_primary_triggers_a_view_change_and_commits_resume() {
    let mut net = Net::up(4, FAST);
    net.deploy_load().await;
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

/// Batches of up to 512 transactions, a checkpoint every 32 batches.
const BIG_BATCHES: &str = "[pbft]\nmax_batch_count = 512\nbatch_timeout_ms = 20\nrequest_timeout_ms = 1500\nview_change_timeout_ms = 1500\ncheckpoint_interval = 32\nwatermark_window = 128\nstatus_interval_ms = 200\n";

/// Sizes (bytes) of the VIEW-CHANGE and NEW-VIEW messages a peer logged.
fn view_change_sizes(log: &str) -> Vec<usize> {
    // Drop ANSI colour sequences (ESC [ ... m) around field names.
    let mut plain = String::with_capacity(log.len());
    let mut in_escape = false;
    for c in log.chars() {
        match (in_escape, c) {
            (false, '\u{1b}') => in_escape = true,
            (true, 'm') => in_escape = false,
            (true, _) => {}
            (false, c) => plain.push(c),
        }
    }
    plain
        .lines()
        .filter(|l| l.contains("view change message sent"))
        .filter_map(|l| l.split("bytes=").nth(1))
        .filter_map(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
        .filter_map(|n| n.parse().ok())
        .collect()
}

/// The primary is SIGKILLed while clients keep submitting 1 KiB
/// transactions that fill 512-transaction batches (~0.8 MB each). Before
/// PRE-PREPAREs certified digests, each VIEW-CHANGE carried every prepared
/// batch above the stable checkpoint, several of these, past the 4 MiB
/// consensus-message limit the peer now runs with; now it carries digests.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn view_change_completes_under_sustained_load_with_large_batches() {
    let mut net = Net::up(4, BIG_BATCHES);
    net.deploy_load().await;
    let txs = net.transactions(6000, 1024, 6);
    let start = net.info(1).await.unwrap().height;
    let victim = net.pid(0).unwrap();
    let killed = std::sync::Mutex::new(None);
    let killer = async {
        // Kill once a few large blocks are through, while load continues.
        loop {
            let h = net.info(1).await.map(|x| x.height).unwrap_or(0);
            if h >= start + 4 {
                std::process::Command::new("kill")
                    .args(["-KILL", &victim.to_string()])
                    .status()
                    .unwrap();
                *killed.lock().unwrap() = Some((Instant::now(), h));
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    tokio::join!(net.submit_all(&txs, &[1, 2, 3]), killer);
    net.kill(0);
    net.wait_committed(&txs, &[1, 2, 3], Duration::from_secs(240))
        .await;
    let (at, height_at_kill) = killed.lock().unwrap().unwrap();
    let info = net.info(1).await.unwrap();
    assert!(info.view >= 1, "no view change happened");
    let h = converge(&net, &[1, 2, 3], 1, Duration::from_secs(30)).await;
    check_identical_and_certified(&net, &[1, 2, 3], h).await;
    let blocks = net.block_hashes(1, h).await;
    let sizes: Vec<usize> = blocks
        .iter()
        .map(|b| b.data.iter().map(Vec::len).sum())
        .collect();
    let largest = sizes.iter().copied().max().unwrap_or(0);
    let vc: Vec<usize> = (1..4)
        .flat_map(|i| view_change_sizes(&net.log(i)))
        .collect();
    eprintln!(
        "killed at height {height_at_kill}; all {} transactions committed {:?} after the kill; view {}; \
         largest block {largest} B; view-change/new-view messages: {} sent, largest {} B",
        txs.len(),
        at.elapsed(),
        info.view,
        vc.len(),
        vc.iter().max().unwrap_or(&0)
    );
    assert!(largest > 512 << 10, "batches were not large: {largest} B");
    assert!(!vc.is_empty(), "no view change message was logged");
    assert!(
        vc.iter().all(|b| *b < 64 << 10),
        "view change messages carry digests, not batches: {vc:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_shuts_down_cleanly_and_restart_keeps_the_ledger() {
    let mut net = Net::up(4, FAST);
    net.deploy_load().await;
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_certified_by_a_foreign_ca_cannot_connect_or_be_heard() {
    let net = Net::up(4, FAST);
    net.deploy_load().await;
    // A stranger: same MSP name as Org4, but its own CA, so its peer key is
    // in nobody's allow-list. It believes in an org set where its CA
    // replaces Org4's.
    let other = tempfile::tempdir().unwrap();
    let port = common::free_ports(2);
    let opts = cryptanet_cli::orgs::GenerateOptions::local(other.path(), 4, port);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    cryptanet_cli::orgs::generate(&opts, now, &mut rand_core::OsRng).unwrap();
    let mixed = other.path().join("mixed-orgs");
    for i in 1..=4 {
        let from = if i == 4 {
            other.path().join("orgs")
        } else {
            net.orgs_dir()
        };
        let name = format!("Org{i}MSP");
        std::fs::create_dir_all(mixed.join(&name)).unwrap();
        let mut def = cryptanet_types::identity::OrgDefinition::from_toml(
            &std::fs::read_to_string(from.join(&name).join("org.toml")).unwrap(),
        )
        .unwrap();
        if i == 4 {
            def.peers[0].address = format!("/ip4/127.0.0.1/tcp/{port}");
        }
        std::fs::write(mixed.join(&name).join("org.toml"), def.to_toml().unwrap()).unwrap();
    }
    std::fs::write(
        other.path().join("peer.toml"),
        format!(
            "identity_dir = \"{}\"\norgs_dir = \"{}\"\ndata_dir = \"{}\"\ngrpc_listen = \"127.0.0.1:{}\"\nledger_fsync = false\n{FAST}",
            other.path().join("crypto/Org4MSP/peer0").display(),
            mixed.display(),
            other.path().join("data").display(),
            port + 1
        ),
    )
    .unwrap();
    let log = std::fs::File::create(other.path().join("stranger.log")).unwrap();
    let mut stranger = std::process::Command::new(env!("CARGO_BIN_EXE_cryptanet-node"))
        .arg("--config")
        .arg(other.path().join("peer.toml"))
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap();

    let txs = net.transactions(30, 64, 6);
    net.submit_all(&txs, &[0, 1, 2, 3]).await;
    net.wait_committed(&txs, &[0, 1, 2, 3], Duration::from_secs(60))
        .await;
    // Give the stranger time to dial everyone (redial backoff).
    tokio::time::sleep(Duration::from_secs(3)).await;
    let refused = (0..3)
        .filter(|&i| {
            net.log(i)
                .contains("refused connection: peer not in the network definition")
        })
        .count();
    let stranger_height = {
        let c = cryptanet_proto::client::PeerClient::connect(
            &format!("http://127.0.0.1:{}", port + 1),
            cryptanet_proto::Limits::default(),
        )
        .await
        .unwrap();
        c.admin()
            .peer_info(cryptanet_proto::v1::PeerInfoRequest {})
            .await
            .unwrap()
            .into_inner()
            .height
    };
    stranger.kill().unwrap();
    stranger.wait().unwrap();
    assert!(refused >= 1, "no honest peer logged refusing the stranger");
    assert_eq!(stranger_height, 0, "the stranger received blocks");
    // The honest network is unaffected.
    let h = converge(&net, &[0, 1, 2, 3], 1, Duration::from_secs(30)).await;
    check_identical_and_certified(&net, &[0, 1, 2, 3], h).await;
}
