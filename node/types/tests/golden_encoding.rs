//! Pins the canonical encoding to the vectors in
//! `clients/python/tests/golden.json`, which the Python client's unit test
//! checks its own encoder against: both sides agree with one file.
//!
//! The file holds the inputs (a proposal, a transient map, a signing seed,
//! fixed signature bytes, an envelope payload) and the expected lower-case
//! hex of each encoding, hash and ed25519 signature.
#![allow(clippy::unwrap_used, clippy::panic)]

use cryptanet_types::crypto::{sign, SigningKey};
use cryptanet_types::tx::{transient_hash, Transient};
use cryptanet_types::{codec, Envelope, Proposal, Signature, SignedProposal};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// The JSON subset the golden file uses: objects, arrays and strings.
#[derive(Debug)]
enum Json {
    Str(String),
    Arr(Vec<Json>),
    Obj(BTreeMap<String, Json>),
}

impl Json {
    fn get(&self, key: &str) -> &Json {
        match self {
            Json::Obj(m) => m.get(key).unwrap_or_else(|| panic!("missing key {key}")),
            _ => panic!("not an object where {key} was expected"),
        }
    }
    fn str(&self) -> &str {
        match self {
            Json::Str(s) => s,
            other => panic!("expected a string, found {other:?}"),
        }
    }
    fn arr(&self) -> &[Json] {
        match self {
            Json::Arr(v) => v,
            other => panic!("expected an array, found {other:?}"),
        }
    }
    fn hex(&self) -> Vec<u8> {
        hex::decode(self.str()).unwrap()
    }
}

/// A recursive-descent reader for [`Json`]; panics on anything else.
struct Reader<'a> {
    s: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn skip_ws(&mut self) {
        while self.pos < self.s.len() && self.s[self.pos].is_ascii_whitespace() {
            self.pos += 1;
        }
    }
    fn eat(&mut self, c: u8) -> bool {
        self.skip_ws();
        if self.s.get(self.pos) == Some(&c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }
    fn expect(&mut self, c: u8) {
        assert!(self.eat(c), "expected {:?} at byte {}", c as char, self.pos);
    }
    fn value(&mut self) -> Json {
        self.skip_ws();
        match self.s[self.pos] {
            b'"' => Json::Str(self.string()),
            b'[' => {
                self.pos += 1;
                let mut items = Vec::new();
                if !self.eat(b']') {
                    loop {
                        items.push(self.value());
                        if self.eat(b']') {
                            break;
                        }
                        self.expect(b',');
                    }
                }
                Json::Arr(items)
            }
            b'{' => {
                self.pos += 1;
                let mut map = BTreeMap::new();
                if !self.eat(b'}') {
                    loop {
                        self.skip_ws();
                        let key = self.string();
                        self.expect(b':');
                        map.insert(key, self.value());
                        if self.eat(b'}') {
                            break;
                        }
                        self.expect(b',');
                    }
                }
                Json::Obj(map)
            }
            c => panic!("unsupported JSON at byte {}: {:?}", self.pos, c as char),
        }
    }
    fn string(&mut self) -> String {
        self.expect(b'"');
        let start = self.pos;
        while self.s[self.pos] != b'"' {
            assert_ne!(
                self.s[self.pos], b'\\',
                "escapes are not used in the golden file"
            );
            self.pos += 1;
        }
        let out = std::str::from_utf8(&self.s[start..self.pos])
            .unwrap()
            .to_owned();
        self.pos += 1;
        out
    }
}

fn golden() -> Json {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../clients/python/tests/golden.json");
    let text = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut reader = Reader { s: &text, pos: 0 };
    let value = reader.value();
    reader.skip_ws();
    assert_eq!(reader.pos, text.len(), "trailing data in golden.json");
    value
}

/// Asserts `actual` equals the hex under `expected.<name>`, printing the
/// actual hex on mismatch so a deliberate change can update the file.
fn check(g: &Json, name: &str, actual: &[u8]) {
    let want = g.get("expected").get(name).str();
    assert_eq!(hex::encode(actual), want, "golden vector {name}");
}

fn signature(bytes: &[u8]) -> Signature {
    Signature(bytes.try_into().unwrap())
}

fn proposal(g: &Json) -> Proposal {
    let p = g.get("proposal");
    Proposal {
        chaincode: p.get("chaincode").str().into(),
        function: p.get("function").str().into(),
        args: p
            .get("args")
            .arr()
            .iter()
            .map(|a| a.str().as_bytes().to_vec())
            .collect(),
        creator: p.get("creator").hex(),
        nonce: p.get("nonce").hex(),
        timestamp_ms: p.get("timestamp_ms").str().parse().unwrap(),
        transient_hash: transient_hash(&Vec::new()).unwrap(),
    }
}

fn transient(g: &Json) -> Transient {
    g.get("transient")
        .arr()
        .iter()
        .map(|pair| {
            let pair = pair.arr();
            (pair[0].str().to_owned(), pair[1].hex())
        })
        .collect()
}

fn key(g: &Json) -> SigningKey {
    SigningKey::from_bytes(&g.get("signing_seed").hex().try_into().unwrap())
}

#[test]
fn varints_match() {
    let g = golden();
    let cases = g.get("varints").arr();
    assert!(cases.len() >= 8);
    for case in cases {
        let case = case.arr();
        let n: u64 = case[0].str().parse().unwrap();
        assert_eq!(
            hex::encode(codec::encode(&n).unwrap()),
            case[1].str(),
            "varint {n}"
        );
    }
}

#[test]
fn transient_hashes_match() {
    let g = golden();
    check(
        &g,
        "transient_hash_empty",
        transient_hash(&Vec::new()).unwrap().as_bytes(),
    );
    check(
        &g,
        "transient_hash",
        transient_hash(&transient(&g)).unwrap().as_bytes(),
    );
}

#[test]
fn proposal_bytes_tx_id_and_signature_match() {
    let g = golden();
    let p = proposal(&g);
    let bytes = codec::encode(&p).unwrap();
    check(&g, "proposal_bytes", &bytes);
    assert_eq!(p.tx_id().to_hex(), g.get("expected").get("tx_id").str());
    assert_eq!(codec::decode::<Proposal>(&bytes).unwrap(), p);
    let sp = SignedProposal::new(&p, Vec::new(), &key(&g)).unwrap();
    assert_eq!(sp.proposal_bytes, bytes);
    check(&g, "proposal_signature", &sp.signature.0);
    check(&g, "signed_proposal", &codec::encode(&sp).unwrap());
}

#[test]
fn signed_proposal_with_transient_matches() {
    let g = golden();
    let sp = SignedProposal {
        proposal_bytes: codec::encode(&proposal(&g)).unwrap(),
        signature: signature(&g.get("fixed_signature").hex()),
        transient: transient(&g),
    };
    let bytes = codec::encode(&sp).unwrap();
    check(&g, "signed_proposal_fixed_signature_with_transient", &bytes);
    assert_eq!(codec::decode::<SignedProposal>(&bytes).unwrap(), sp);
}

#[test]
fn envelopes_match() {
    let g = golden();
    let payload = g.get("envelope_payload").hex();
    let fixed = Envelope {
        payload: payload.clone(),
        signature: signature(&g.get("fixed_signature").hex()),
    };
    check(&g, "envelope_fixed_signature", &fixed.to_bytes().unwrap());
    let signed = Envelope {
        signature: sign(&key(&g), &payload),
        payload,
    };
    check(&g, "envelope_signature", &signed.signature.0);
    let bytes = signed.to_bytes().unwrap();
    check(&g, "envelope", &bytes);
    assert_eq!(Envelope::from_bytes(&bytes).unwrap(), signed);
}
