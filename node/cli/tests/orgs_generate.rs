//! End to end: run the `cryptanet orgs generate` binary into a temporary
//! directory and check what it wrote with the peers' verifier.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use cryptanet_cli::material::{load_identity, load_org_definitions, CERT_FILE, KEY_FILE};
use cryptanet_types::identity::{Role, Verifier};
use cryptanet_types::Error as IdError;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// Runs `cryptanet orgs generate` into `root/crypto` and `root/orgs`.
fn generate(root: &Path, extra: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_cryptanet"))
        .args(["orgs", "generate", "--orgs", "4", "--base-port", "9100"])
        .arg("--out")
        .arg(root.join("crypto"))
        .arg("--orgs-dir")
        .arg(root.join("orgs"))
        .args(extra)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn files_under(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(files_under(&path));
        } else {
            found.push(path);
        }
    }
    found.sort();
    found
}

#[test]
fn generate_writes_private_keys_0600_and_verifiable_identities() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let summary = generate(root, &[]);
    assert_eq!(
        summary.matches("created [ca peer0 admin client]").count(),
        4
    );

    // Every private key, and nothing else, is owner-only.
    let keys: Vec<_> = files_under(&root.join("crypto"))
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "key"))
        .collect();
    assert_eq!(keys.len(), 4 * 4, "ca, peer0, admin, client per org");
    for key in &keys {
        assert_eq!(mode(key), 0o600, "{}", key.display());
        assert_eq!(mode(key.parent().unwrap()), 0o700, "{}", key.display());
    }
    let ignore = std::fs::read_to_string(root.join("crypto/.gitignore")).unwrap();
    assert!(ignore.lines().any(|l| l == "*"));

    // The public definitions hold no private material.
    let defs = load_org_definitions(&root.join("orgs")).unwrap();
    let ids: Vec<_> = defs.iter().map(|d| d.msp_id.as_str()).collect();
    assert_eq!(ids, ["Org1MSP", "Org2MSP", "Org3MSP", "Org4MSP"]);
    for file in files_under(&root.join("orgs")) {
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(!text.contains("PRIVATE KEY"), "{}", file.display());
    }
    let addresses: Vec<_> = defs.iter().map(|d| d.peers[0].address.as_str()).collect();
    assert_eq!(
        addresses,
        [
            "/ip4/127.0.0.1/tcp/9100",
            "/ip4/127.0.0.1/tcp/9101",
            "/ip4/127.0.0.1/tcp/9102",
            "/ip4/127.0.0.1/tcp/9103"
        ]
    );

    // A client signature made with the generated key verifies; the same
    // certificate is refused where a peer is required.
    let verifier = Verifier::new(&defs).unwrap();
    let client = load_identity(&root.join("crypto/Org3MSP/client")).unwrap();
    let msg = b"proposal: record reading 5.0 C";
    let sig = client.sign(msg);
    let who = verifier
        .verify(client.cert_der(), Some(Role::Client), msg, &sig, now())
        .unwrap();
    assert_eq!((who.msp_id.as_str(), who.role), ("Org3MSP", Role::Client));
    assert_eq!(who.common_name, "client.org3");
    assert_eq!(
        verifier.verify(client.cert_der(), Some(Role::Peer), msg, &sig, now()),
        Err(IdError::WrongRole {
            required: Role::Peer,
            actual: Some(Role::Client)
        })
    );

    // The peer certificate published in org.toml is the one on disk.
    let peer = load_identity(&root.join("crypto/Org2MSP/peer0")).unwrap();
    let published = defs[1].peers[0].cert_pem.as_deref().unwrap();
    assert_eq!(
        cryptanet_types::identity::parse_cert_pem(published).unwrap(),
        peer.cert_der()
    );
    verifier
        .identify(peer.cert_der(), Some(Role::Peer), now())
        .unwrap();

    // Without the org in the network, the same signature is refused.
    let without_org3 = Verifier::new(&[defs[0].clone(), defs[1].clone()]).unwrap();
    assert_eq!(
        without_org3.verify(client.cert_der(), None, msg, &sig, now()),
        Err(IdError::UnknownOrg {
            msp_id: "Org3MSP".into()
        })
    );
}

#[test]
fn generate_is_idempotent_and_force_regenerates() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    generate(root, &[]);
    let snapshot = |root: &Path| -> Vec<(std::path::PathBuf, Vec<u8>)> {
        files_under(root)
            .into_iter()
            .map(|p| (p.clone(), std::fs::read(&p).unwrap()))
            .collect()
    };
    let first = snapshot(root);

    // A second run keeps every byte.
    let summary = generate(root, &[]);
    assert_eq!(summary.matches("kept [ca peer0 admin client]").count(), 4);
    assert_eq!(snapshot(root), first);

    // A lost identity is reissued alone, by the kept CA; a widened key mode
    // is tightened again.
    let admin = root.join("crypto/Org2MSP/admin");
    std::fs::remove_file(admin.join(KEY_FILE)).unwrap();
    let peer_key = root.join("crypto/Org1MSP/peer0").join(KEY_FILE);
    std::fs::set_permissions(&peer_key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let summary = generate(root, &[]);
    assert!(summary.contains("Org2MSP: created [admin] kept [ca peer0 client]"));
    assert_eq!(mode(&peer_key), 0o600);
    let defs = load_org_definitions(&root.join("orgs")).unwrap();
    let verifier = Verifier::new(&defs).unwrap();
    let me = load_identity(&admin).unwrap();
    let sig = me.sign(b"approve");
    verifier
        .verify(me.cert_der(), Some(Role::Admin), b"approve", &sig, now())
        .unwrap();

    // --force replaces all material: old certificates no longer verify.
    let old_client = load_identity(&root.join("crypto/Org1MSP/client")).unwrap();
    let summary = generate(root, &["--force"]);
    assert_eq!(
        summary.matches("created [ca peer0 admin client]").count(),
        4
    );
    let defs = load_org_definitions(&root.join("orgs")).unwrap();
    let verifier = Verifier::new(&defs).unwrap();
    let sig = old_client.sign(b"x");
    assert_eq!(
        verifier.verify(old_client.cert_der(), None, b"x", &sig, now()),
        Err(IdError::BadChain {
            msp_id: "Org1MSP".into()
        })
    );
    assert!(root.join("crypto/Org1MSP/client").join(CERT_FILE).is_file());
}

#[test]
fn bad_arguments_fail_without_writing() {
    let tmp = tempfile::tempdir().unwrap();
    for args in [
        &["--orgs", "0"][..],
        &["--orgs", "100"],
        &["--peers-per-org", "0"],
        &["--base-port", "65534"],
        &["--days", "0"],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_cryptanet"))
            .args(["orgs", "generate"])
            .args(args)
            .arg("--out")
            .arg(tmp.path().join("crypto"))
            .arg("--orgs-dir")
            .arg(tmp.path().join("orgs"))
            .output()
            .unwrap();
        assert!(!out.status.success(), "{args:?} accepted");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("invalid --"), "{args:?}: {stderr}");
        assert!(!tmp.path().join("crypto").exists(), "{args:?} wrote files");
    }
}
