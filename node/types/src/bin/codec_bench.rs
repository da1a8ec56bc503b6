//! `codec-bench [COUNT]`: decodes COUNT block-sized batches of realistic
//! transaction bytes (envelope, payload with two endorsements, a 2 KB
//! response) twice over the same bytes: with the domain types, whose byte
//! fields are read as byte strings, and, as the baseline, with tuples of
//! plain `Vec<u8>` fields that serde reads element by element (the wire
//! form is identical; this is how the types decoded before). Prints both.

use cryptanet_types::{codec, Envelope, Signature, TxPayload};
use std::time::Instant;

type PlainPayload = (Vec<u8>, Signature, Vec<u8>, Vec<(Vec<u8>, Signature)>);

fn sample(i: usize) -> cryptanet_types::Result<Vec<u8>> {
    let fill = |n: usize, s: usize| -> Vec<u8> { (0..n).map(|j| (j * 31 + s + i) as u8).collect() };
    let sig = Signature([7; 64]);
    let e = cryptanet_types::Endorsement {
        endorser: fill(520, 1),
        signature: sig,
    };
    let payload = TxPayload {
        proposal_bytes: fill(700, 2),
        proposal_signature: sig,
        response_bytes: fill(2000, 3),
        endorsements: vec![e.clone(), e],
    };
    let env = Envelope {
        payload: codec::encode(&payload)?,
        signature: sig,
    };
    env.to_bytes()
}

fn main() -> cryptanet_types::Result<()> {
    let count: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(200);
    let block = (0..512)
        .map(sample)
        .collect::<cryptanet_types::Result<Vec<_>>>()?;
    let mb = block.iter().map(Vec::len).sum::<usize>() as f64 * count as f64 / 1e6;
    let mut check = 0usize;
    let t = Instant::now();
    for _ in 0..count {
        for b in &block {
            let (payload, _sig): (Vec<u8>, Signature) = codec::decode(b)?;
            let p: PlainPayload = codec::decode(&payload)?;
            check += p.2.len();
        }
    }
    let plain = t.elapsed().as_secs_f64();
    let t = Instant::now();
    for _ in 0..count {
        for b in &block {
            let env = Envelope::from_bytes(b)?;
            let p: TxPayload = codec::decode(&env.payload)?;
            check -= p.response_bytes.len();
        }
    }
    let fast = t.elapsed().as_secs_f64();
    let n = (count * block.len()) as f64;
    println!(
        "codec-bench: {count} blocks x 512 transactions ({mb:.0} MB), decode envelope + payload"
    );
    println!(
        "  baseline, element-wise Vec<u8>: {:>8.2} µs/tx  {:>7.0} MB/s",
        plain / n * 1e6,
        mb / plain
    );
    println!(
        "  byte strings (wire_bytes):      {:>8.2} µs/tx  {:>7.0} MB/s  ({:.1}x)",
        fast / n * 1e6,
        mb / fast,
        plain / fast
    );
    println!(
        "  load average: {}",
        std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .trim()
    );
    assert_eq!(check, 0, "both decodings must read the same bytes");
    Ok(())
}
