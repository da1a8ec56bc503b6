//! Measures certificate-and-signature verification with the identity
//! verifier, cold (cache disabled) and warm (cached certificate), beside the
//! baseline of a bare ed25519 signature check on the same message, and
//! beside ed25519-dalek's own checks (the rule before the cofactored one).
//!
//! Usage: `identity_bench [ITERATIONS]` (default 20000). Generates a
//! throw-away org set under the system temp directory and removes it.

use anyhow::Context as _;
use cryptanet_cli::material::{load_identity, load_org_definitions};
use cryptanet_cli::orgs::{generate, GenerateOptions};
use cryptanet_types::identity::{Role, Verifier};
use std::hint::black_box;
use std::time::Instant;

/// One measured operation.
type Case<'a> = Box<dyn Fn() -> anyhow::Result<()> + 'a>;

/// Rounds the iterations are split into.
const ROUNDS: u32 = 20;

fn main() -> anyhow::Result<()> {
    let iterations: u32 = match std::env::args().nth(1) {
        Some(arg) => arg.parse().context("ITERATIONS must be a number")?,
        None => 20_000,
    };
    let root =
        std::env::temp_dir().join(format!("cryptanet-identity-bench-{}", std::process::id()));
    let result = run(&root, iterations);
    std::fs::remove_dir_all(&root).ok();
    result
}

fn run(root: &std::path::Path, iterations: u32) -> anyhow::Result<()> {
    let now = i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .as_secs(),
    )?;
    let opts = GenerateOptions {
        orgs: 4,
        peers_per_org: 1,
        out: root.join("crypto"),
        orgs_dir: root.join("orgs"),
        host: "127.0.0.1".into(),
        base_port: 7051,
        days: 365,
        ca_days: 3650,
        force: false,
    };
    generate(&opts, now, &mut rand_core::OsRng)?;
    let defs = load_org_definitions(&opts.orgs_dir)?;
    let me = load_identity(&opts.out.join("Org2MSP/peer0"))?;
    let msg = [7u8; 512];
    let sig = me.sign(&msg);
    let key = me.public_key();

    let cold = Verifier::new(&defs)?.with_cache_limit(0);
    let warm = Verifier::new(&defs)?;
    // 64 signers' signatures over distinct messages, as a block brings them.
    let signers: Vec<_> = ["Org1MSP", "Org2MSP", "Org3MSP", "Org4MSP"]
        .iter()
        .map(|o| load_identity(&opts.out.join(o).join("peer0")))
        .collect::<Result<_, _>>()?;
    let batch: Vec<(
        Vec<u8>,
        cryptanet_types::Signature,
        cryptanet_types::PublicKey,
    )> = (0..1024u32)
        .map(|i| {
            let s = &signers[i as usize % signers.len()];
            let m = [i.to_le_bytes().as_slice(), &[7u8; 508]].concat();
            let sig = s.sign(&m);
            (m, sig, s.public_key())
        })
        .collect();
    let batch_refs: Vec<(
        &[u8],
        &cryptanet_types::Signature,
        &cryptanet_types::PublicKey,
    )> = batch.iter().map(|(m, s, k)| (m.as_slice(), s, k)).collect();
    let batch_of = |n: usize| -> Case<'_> {
        let refs = &batch_refs[..n];
        Box::new(move || {
            Ok(black_box(cryptanet_types::crypto::verify_batch(
                black_box(refs),
            ))?)
        })
    };
    // The rule before the cofactored one: ed25519-dalek's own checks.
    let dalek_key = ed25519_dalek::VerifyingKey::from_bytes(&key.0)?;
    let dalek_sig = ed25519_dalek::Signature::from_bytes(&sig.0);
    let dalek_batch: Vec<_> = batch[..256]
        .iter()
        .map(|(m, s, k)| {
            let vk = ed25519_dalek::VerifyingKey::from_bytes(&k.0)?;
            Ok((m.as_slice(), ed25519_dalek::Signature::from_bytes(&s.0), vk))
        })
        .collect::<anyhow::Result<_>>()?;
    let (dalek_msgs, dalek_sigs, dalek_keys): (Vec<&[u8]>, Vec<_>, Vec<_>) = (
        dalek_batch.iter().map(|b| b.0).collect(),
        dalek_batch.iter().map(|b| b.1).collect(),
        dalek_batch.iter().map(|b| b.2).collect(),
    );
    let cases: [(&str, Case<'_>); 10] = [
        (
            "baseline: one signature (PublicKey::verify)",
            Box::new(|| Ok(black_box(key.verify(black_box(&msg), &sig))?)),
        ),
        (
            "verify, cache off (parse + CA sig + sig)",
            Box::new(|| {
                black_box(cold.verify(me.cert_der(), Some(Role::Peer), &msg, &sig, now)?);
                Ok(())
            }),
        ),
        (
            "verify, certificate cached",
            Box::new(|| {
                black_box(warm.verify(me.cert_der(), Some(Role::Peer), &msg, &sig, now)?);
                Ok(())
            }),
        ),
        ("verify_batch of 16 signatures (per batch)", batch_of(16)),
        ("verify_batch of 64 signatures (per batch)", batch_of(64)),
        ("verify_batch of 256 signatures (per batch)", batch_of(256)),
        (
            "verify_batch of 1024 signatures (per batch)",
            batch_of(1024),
        ),
        (
            "previous rule: dalek verify_strict",
            Box::new(|| {
                Ok(black_box(
                    dalek_key.verify_strict(black_box(&msg), &dalek_sig),
                )?)
            }),
        ),
        (
            "previous rule: dalek verify_batch of 256",
            Box::new(|| {
                Ok(black_box(ed25519_dalek::verify_batch(
                    black_box(&dalek_msgs),
                    &dalek_sigs,
                    &dalek_keys,
                ))?)
            }),
        ),
        ("verify_batch of 1 signature", batch_of(1)),
    ];
    // Interleave the cases in rounds and report each one's median round, so
    // load from other processes hits all cases alike.
    let per_round = (iterations / ROUNDS).max(1);
    let mut samples = vec![Vec::new(); cases.len()];
    for _ in 0..ROUNDS {
        for ((_, f), out) in cases.iter().zip(&mut samples) {
            f()?;
            let start = Instant::now();
            for _ in 0..per_round {
                f()?;
            }
            out.push(start.elapsed().as_secs_f64() * 1e6 / f64::from(per_round));
        }
    }
    println!(
        "identity_bench: {ROUNDS} rounds x {per_round} iterations, 512-byte message, {} cores visible",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    let mut medians = Vec::new();
    for ((label, _), mut xs) in cases.iter().zip(samples) {
        xs.sort_by(f64::total_cmp);
        let median = xs[xs.len() / 2];
        println!("{label:<44} {median:>8.2} us/op (median round)");
        medians.push(median);
    }
    println!(
        "cached / baseline = {:.2}x, uncached / baseline = {:.2}x",
        medians[2] / medians[0],
        medians[1] / medians[0]
    );
    for (i, n) in [16.0, 64.0, 256.0, 1024.0].into_iter().enumerate() {
        println!(
            "verify_batch of {n:>4}: {:.2} us per signature = {:.2}x the baseline's cost",
            medians[3 + i] / n,
            medians[3 + i] / n / medians[0]
        );
    }
    println!(
        "previous rule (ed25519-dalek): one signature {:.2} us (now {:.2}); batch of 256 {:.2} us per signature (now {:.2})",
        medians[7],
        medians[0],
        medians[8] / 256.0,
        medians[5] / 256.0
    );
    println!(
        "verify_batch of one signature {:.2} us against {:.2} us for PublicKey::verify",
        medians[9], medians[0]
    );
    Ok(())
}
