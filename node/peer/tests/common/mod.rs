//! Harness for multi-process tests: generates org material in a temporary
//! directory, writes one config per peer, starts real `cryptanet-node`
//! processes on loopback ports, and talks to them over gRPC.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use cryptanet_cli::material::load_identity;
use cryptanet_cli::orgs::{generate, GenerateOptions};
use cryptanet_cli::txgen::{blind_write, GeneratedTx};
use cryptanet_proto::client::PeerClient;
use cryptanet_proto::v1::{DeliverRequest, SubmitRequest};
use cryptanet_proto::Limits;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A free TCP port range start: `count` consecutive ports that were free a
/// moment ago (good enough for tests on loopback).
pub fn free_ports(count: u16) -> u16 {
    for _ in 0..200 {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let base = l.local_addr().unwrap().port();
        drop(l);
        if base > 60000 {
            continue;
        }
        if (0..count).all(|i| std::net::TcpListener::bind(("127.0.0.1", base + i)).is_ok()) {
            return base;
        }
    }
    panic!("no free port range");
}

/// A local network of real peer processes.
pub struct Net {
    pub dir: tempfile::TempDir,
    pub n: usize,
    pub p2p_base: u16,
    pub grpc_base: u16,
    pub children: Vec<Option<Child>>,
    pub extra_config: String,
    /// When set, peer i runs inside network namespace i.
    pub netns: Option<Namespaces>,
}

/// Network namespaces joined by a bridge: one host per peer, so links
/// between peers can be cut (blackhole routes) and healed.
pub struct Namespaces {
    pub names: Vec<String>,
    pub bridge: String,
    pub subnet: u8,
}

fn sh(args: &[&str]) {
    let out = Command::new(args[0]).args(&args[1..]).output().unwrap();
    assert!(
        out.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

impl Namespaces {
    /// Creates `n` namespaces on a fresh bridge. Requires root (the tests
    /// that use it say so in their failure message).
    pub fn create(n: usize) -> Namespaces {
        assert!(
            Command::new("id")
                .arg("-u")
                .output()
                .map(|o| o.stdout == b"0\n")
                .unwrap_or(false),
            "the partition test needs root for `ip netns` (run the suite as root)"
        );
        let subnet = (std::process::id() % 200 + 20) as u8;
        let bridge = format!("cnbr{subnet}");
        let _ = Command::new("ip").args(["link", "del", &bridge]).output();
        sh(&["ip", "link", "add", &bridge, "type", "bridge"]);
        sh(&[
            "ip",
            "addr",
            "add",
            &format!("10.213.{subnet}.254/24"),
            "dev",
            &bridge,
        ]);
        sh(&["ip", "link", "set", &bridge, "up"]);
        let mut names = Vec::new();
        for i in 0..n {
            let ns = format!("cn{subnet}p{i}");
            let veth = format!("cnv{subnet}p{i}");
            let _ = Command::new("ip").args(["netns", "del", &ns]).output();
            sh(&["ip", "netns", "add", &ns]);
            sh(&[
                "ip", "link", "add", &veth, "type", "veth", "peer", "name", "eth0", "netns", &ns,
            ]);
            sh(&["ip", "link", "set", &veth, "master", &bridge]);
            sh(&["ip", "link", "set", &veth, "up"]);
            sh(&[
                "ip",
                "netns",
                "exec",
                &ns,
                "ip",
                "addr",
                "add",
                &format!("10.213.{subnet}.{}/24", i + 1),
                "dev",
                "eth0",
            ]);
            sh(&[
                "ip", "netns", "exec", &ns, "ip", "link", "set", "eth0", "up",
            ]);
            sh(&["ip", "netns", "exec", &ns, "ip", "link", "set", "lo", "up"]);
            names.push(ns);
        }
        Namespaces {
            names,
            bridge,
            subnet,
        }
    }

    pub fn ip(&self, i: usize) -> String {
        format!("10.213.{}.{}", self.subnet, i + 1)
    }

    /// Cuts every link between `a` and `b` (both directions).
    pub fn partition(&self, a: &[usize], b: &[usize]) {
        for (from, to) in a
            .iter()
            .flat_map(|x| b.iter().map(move |y| (*x, *y)))
            .chain(b.iter().flat_map(|y| a.iter().map(move |x| (*y, *x))))
        {
            sh(&[
                "ip",
                "netns",
                "exec",
                &self.names[from],
                "ip",
                "route",
                "add",
                "blackhole",
                &format!("{}/32", self.ip(to)),
            ]);
        }
    }

    /// Removes every blackhole route.
    pub fn heal(&self) {
        for (i, ns) in self.names.iter().enumerate() {
            for j in 0..self.names.len() {
                if i != j {
                    let _ = Command::new("ip")
                        .args([
                            "netns",
                            "exec",
                            ns,
                            "ip",
                            "route",
                            "del",
                            "blackhole",
                            &format!("{}/32", self.ip(j)),
                        ])
                        .output();
                }
            }
        }
    }
}

impl Drop for Namespaces {
    fn drop(&mut self) {
        for ns in &self.names {
            let _ = Command::new("ip").args(["netns", "del", ns]).output();
        }
        let _ = Command::new("ip")
            .args(["link", "del", &self.bridge])
            .output();
    }
}

impl Net {
    /// Generates material for `orgs` orgs (one peer each) and starts them.
    pub fn up(orgs: u32, extra_config: &str) -> Net {
        Self::up_in(orgs, extra_config, None)
    }

    /// As [`Net::up`], each peer in its own network namespace.
    pub fn up_in_namespaces(orgs: u32, extra_config: &str) -> Net {
        Self::up_in(orgs, extra_config, Some(Namespaces::create(orgs as usize)))
    }

    fn up_in(orgs: u32, extra_config: &str, netns: Option<Namespaces>) -> Net {
        let dir = tempfile::tempdir().unwrap();
        let (p2p_base, grpc_base) = if netns.is_some() {
            (7051, 9051)
        } else {
            (free_ports(orgs as u16), free_ports(orgs as u16))
        };
        let opts = GenerateOptions::local(dir.path(), orgs, p2p_base);
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        generate(&opts, now, &mut rand_core::OsRng).unwrap();
        if let Some(ns) = &netns {
            // One host per peer: rewrite each org's peer address.
            for i in 0..orgs as usize {
                let path = dir
                    .path()
                    .join("orgs")
                    .join(format!("Org{}MSP", i + 1))
                    .join("org.toml");
                let mut def = cryptanet_types::identity::OrgDefinition::from_toml(
                    &std::fs::read_to_string(&path).unwrap(),
                )
                .unwrap();
                def.peers[0].address = format!("/ip4/{}/tcp/{}", ns.ip(i), p2p_base + i as u16);
                std::fs::write(&path, def.to_toml().unwrap()).unwrap();
            }
        }
        let mut net = Net {
            dir,
            n: orgs as usize,
            p2p_base,
            grpc_base,
            children: Vec::new(),
            extra_config: extra_config.into(),
            netns,
        };
        for i in 0..net.n {
            net.write_config(i);
            net.children.push(None);
            net.start(i);
        }
        net
    }

    pub fn org(&self, i: usize) -> String {
        format!("Org{}MSP", i + 1)
    }

    pub fn peer_dir(&self, i: usize) -> PathBuf {
        self.dir.path().join(format!("peer{i}"))
    }

    pub fn grpc(&self, i: usize) -> String {
        match &self.netns {
            Some(ns) => format!("{}:{}", ns.ip(i), self.grpc_base + i as u16),
            None => format!("127.0.0.1:{}", self.grpc_base + i as u16),
        }
    }

    fn write_config(&self, i: usize) {
        let d = self.peer_dir(i);
        std::fs::create_dir_all(&d).unwrap();
        let cfg = format!(
            "identity_dir = \"{}\"\norgs_dir = \"{}\"\ndata_dir = \"{}\"\ngrpc_listen = \"{}\"\nledger_fsync = false\n{}",
            self.dir.path().join("crypto").join(self.org(i)).join("peer0").display(),
            self.dir.path().join("orgs").display(),
            d.join("data").display(),
            self.grpc(i),
            self.extra_config,
        );
        std::fs::write(d.join("peer.toml"), cfg).unwrap();
    }

    /// Starts peer `i` (appending to its log).
    pub fn start(&mut self, i: usize) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.peer_dir(i).join("peer.log"))
            .unwrap();
        let mut cmd = match &self.netns {
            Some(ns) => {
                let mut c = Command::new("ip");
                c.args([
                    "netns",
                    "exec",
                    &ns.names[i],
                    env!("CARGO_BIN_EXE_cryptanet-node"),
                ]);
                c
            }
            None => Command::new(env!("CARGO_BIN_EXE_cryptanet-node")),
        };
        let child = cmd
            .arg("--config")
            .arg(self.peer_dir(i).join("peer.toml"))
            .env(
                "RUST_LOG",
                std::env::var("CRYPTANET_TEST_LOG").unwrap_or_else(|_| "info,libp2p=warn".into()),
            )
            .env_remove("RUST_BACKTRACE")
            .stdout(Stdio::from(log.try_clone().unwrap()))
            .stderr(Stdio::from(log))
            .spawn()
            .unwrap();
        self.children[i] = Some(child);
    }

    /// Process id of peer `i`, if it is running.
    pub fn pid(&self, i: usize) -> Option<u32> {
        self.children[i].as_ref().map(|c| c.id())
    }

    /// SIGKILLs peer `i`.
    pub fn kill(&mut self, i: usize) {
        if let Some(mut c) = self.children[i].take() {
            c.kill().unwrap();
            c.wait().unwrap();
        }
    }

    /// SIGTERMs peer `i` and waits for it to exit.
    pub fn stop(&mut self, i: usize) -> std::process::ExitStatus {
        let mut c = self.children[i].take().expect("peer not running");
        Command::new("kill")
            .arg("-TERM")
            .arg(c.id().to_string())
            .status()
            .unwrap();
        let t = Instant::now();
        loop {
            if let Some(s) = c.try_wait().unwrap() {
                return s;
            }
            assert!(
                t.elapsed() < Duration::from_secs(20),
                "peer {i} ignored SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn log(&self, i: usize) -> String {
        std::fs::read_to_string(self.peer_dir(i).join("peer.log")).unwrap_or_default()
    }

    pub async fn client(&self, i: usize) -> PeerClient {
        let t = Instant::now();
        loop {
            if let Ok(c) =
                PeerClient::connect(&format!("http://{}", self.grpc(i)), Limits::default()).await
            {
                if c.admin()
                    .peer_info(cryptanet_proto::v1::PeerInfoRequest {})
                    .await
                    .is_ok()
                {
                    return c;
                }
            }
            assert!(
                t.elapsed() < Duration::from_secs(60),
                "peer {i} not answering gRPC; log:\n{}",
                self.log(i)
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn info(&self, i: usize) -> Option<cryptanet_proto::v1::PeerInfoResponse> {
        let c = PeerClient::connect(&format!("http://{}", self.grpc(i)), Limits::default())
            .await
            .ok()?;
        Some(
            c.admin()
                .peer_info(cryptanet_proto::v1::PeerInfoRequest {})
                .await
                .ok()?
                .into_inner(),
        )
    }

    /// Commits the definition the blind-write transactions run under,
    /// through `_lifecycle` (approvals by a majority of org admins, then
    /// the commit), as `cryptanet bench --workload blind-write` does.
    pub async fn deploy_load(&self) {
        let peers: Vec<String> = (0..self.n).map(|i| self.grpc(i)).collect();
        cryptanet_cli::lifecycle::deploy_blind_write(&self.dir.path().join("crypto"), &peers)
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "deploying the load definition: {e}\nlog tail:\n{}",
                    tail(&self.log(0))
                )
            });
    }

    /// A client of org `org` connected to peer `via`'s gateway, with the
    /// org's `role` identity (`client` or `admin`).
    pub async fn user(&self, org: usize, role: &str, via: usize) -> cryptanet_cli::client::Client {
        self.client(via).await; // waits until the peer serves gRPC
        let id = load_identity(
            &self
                .dir
                .path()
                .join("crypto")
                .join(self.org(org))
                .join(role),
        )
        .unwrap();
        cryptanet_cli::client::Client::connect(&format!("http://{}", self.grpc(via)), id)
            .await
            .unwrap()
    }

    /// Installs the supply-chain chaincode on every peer (each org's admin
    /// on its own peer) and commits its definition with `policy` through
    /// `_lifecycle`. Needs the wasm built by scripts/build-chaincode.sh.
    pub async fn deploy_supply_chain(&self, policy: &str) {
        let dir = std::env::var_os("CRYPTANET_WASM_OUT")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                PathBuf::from(std::env::var("HOME").unwrap()).join(".cache/cryptanet/wasm-out")
            });
        let path = dir.join("supply-chain.wasm");
        let wasm = std::fs::read(&path).unwrap_or_else(|e| {
            panic!(
                "{}: {e} (build it with scripts/build-chaincode.sh)",
                path.display()
            )
        });
        let package = cryptanet_chaincode::lifecycle::ChaincodePackage::new("supply-chain", wasm)
            .unwrap()
            .to_bytes()
            .unwrap();
        let mut package_id = String::new();
        for i in 0..self.n {
            let admin = self.user(i, "admin", i).await;
            package_id = cryptanet_cli::lifecycle::install(&admin, &package)
                .await
                .unwrap_or_else(|e| panic!("install on peer {i}: {e}"));
        }
        let def = cryptanet_chaincode::lifecycle::ChaincodeDefinition {
            name: "supply-chain".into(),
            version: "1".into(),
            sequence: 1,
            endorsement_policy: policy.into(),
            package_id,
        };
        let mut admins = Vec::new();
        for i in 0..self.n {
            admins.push(self.user(i, "admin", i).await);
        }
        cryptanet_cli::lifecycle::deploy_on(&admins[..self.n / 2 + 1], &admins, &def)
            .await
            .unwrap_or_else(|e| panic!("deploying supply-chain: {e}\n{}", tail(&self.log(0))));
        // Every peer has the definition now: an invoke through any of them
        // right after must find it (it once failed with "not committed"
        // through a peer a block behind the committing one).
        for (i, admin) in admins.iter().enumerate() {
            let committed = cryptanet_cli::lifecycle::committed(admin, "supply-chain")
                .await
                .unwrap();
            assert!(
                committed.is_some(),
                "peer {i} lacks the definition after deploy"
            );
        }
    }

    /// Signed blind-write transactions endorsed by a majority of orgs.
    pub fn transactions(&self, count: usize, payload: usize, seed: u64) -> Vec<GeneratedTx> {
        let crypto = self.dir.path().join("crypto");
        let client = load_identity(&crypto.join(self.org(0)).join("client")).unwrap();
        let peers: Vec<_> = (0..self.n / 2 + 1)
            .map(|i| load_identity(&crypto.join(self.org(i)).join("peer0")).unwrap())
            .collect();
        let endorsers: Vec<_> = peers.iter().collect();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64;
        let mut rng = cryptanet_cli::txgen_rng(seed);
        (0..count)
            .map(|i| {
                let mut nonce = [0u8; 16];
                nonce[..8].copy_from_slice(&rng().to_le_bytes());
                nonce[8..].copy_from_slice(&(i as u64).to_le_bytes());
                blind_write(
                    &client,
                    &endorsers,
                    nonce,
                    vec![(i % 251) as u8; payload],
                    now,
                )
                .unwrap()
            })
            .collect()
    }

    /// Submits through the live peers in turn (skipping ones that refuse).
    pub async fn submit_all(&self, txs: &[GeneratedTx], live: &[usize]) {
        let mut clients = Vec::new();
        for &i in live {
            clients.push(self.client(i).await);
        }
        for (k, tx) in txs.iter().enumerate() {
            let mut ok = false;
            for attempt in 0..clients.len() {
                let mut gw = clients[(k + attempt) % clients.len()].gateway();
                if gw
                    .submit(SubmitRequest {
                        envelope: tx.envelope.clone(),
                    })
                    .await
                    .is_ok()
                {
                    ok = true;
                    break;
                }
            }
            assert!(ok, "no live peer accepted transaction {k}");
        }
    }

    /// Waits until every peer in `peers` has committed all of `txs`
    /// (checked through CommitStatus) or the timeout passes.
    pub async fn wait_committed(&self, txs: &[GeneratedTx], peers: &[usize], timeout: Duration) {
        let t = Instant::now();
        for &i in peers {
            let c = self.client(i).await;
            for tx in txs {
                let left = timeout.saturating_sub(t.elapsed());
                assert!(
                    !left.is_zero(),
                    "peer {i}: timed out waiting for commits; log tail:\n{}",
                    tail(&self.log(i))
                );
                let s = c.commit_status(&tx.tx_id, left).await.unwrap_or_else(|e| {
                    panic!(
                        "peer {i} commit status: {e}\nlog tail:\n{}",
                        tail(&self.log(i))
                    )
                });
                assert!(s.code.is_valid(), "peer {i}: tx committed as {:?}", s.code);
            }
        }
    }

    /// Block hashes 1..=height of peer `i`, via Deliver.
    pub async fn block_hashes(&self, i: usize, height: u64) -> Vec<cryptanet_types::Block> {
        let c = self.client(i).await;
        let mut s = c
            .deliver()
            .blocks(DeliverRequest {
                start: Some(cryptanet_proto::v1::deliver_request::Start::Number(1)),
                stop: Some(height),
            })
            .await
            .unwrap()
            .into_inner();
        let mut out = Vec::new();
        while let Some(m) = s.message().await.unwrap() {
            if let Some(cryptanet_proto::v1::deliver_response::Content::Block(b)) = m.content {
                out.push(cryptanet_proto::convert::decode_block(&b).unwrap());
            }
            if out.len() as u64 == height {
                break;
            }
        }
        out
    }

    pub fn orgs_dir(&self) -> PathBuf {
        self.dir.path().join("orgs")
    }
}

impl Drop for Net {
    fn drop(&mut self) {
        for i in 0..self.children.len() {
            self.kill(i);
        }
        if std::thread::panicking() {
            // Keep the peers' logs of a failed test for inspection.
            let keep =
                std::env::temp_dir().join(format!("cryptanet-failed-{}", std::process::id()));
            let _ = std::fs::create_dir_all(&keep);
            for i in 0..self.n {
                let _ = std::fs::copy(
                    self.peer_dir(i).join("peer.log"),
                    keep.join(format!("peer{i}.log")),
                );
            }
            eprintln!("peer logs kept in {}", keep.display());
        }
        // Namespaces (if any) are removed after the processes are gone.
        self.netns.take();
    }
}

pub fn tail(s: &str) -> String {
    let lines: Vec<&str> = s.lines().collect();
    lines[lines.len().saturating_sub(40)..].join("\n")
}

/// Replica public keys in network order, from the org definitions.
pub fn replica_keys(orgs_dir: &Path) -> Vec<cryptanet_types::PublicKey> {
    let orgs = cryptanet_cli::material::load_org_definitions(orgs_dir).unwrap();
    let mut keys = Vec::new();
    for o in orgs {
        for p in o.peers {
            let der =
                cryptanet_types::identity::parse_cert_pem(p.cert_pem.as_deref().unwrap()).unwrap();
            keys.push(
                cryptanet_types::identity::CertInfo::from_der(&der)
                    .unwrap()
                    .public_key,
            );
        }
    }
    keys
}
