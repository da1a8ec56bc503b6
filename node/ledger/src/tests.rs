#![allow(clippy::unwrap_used)]

use crate::testkit::{self, Shape};
use crate::{Error, Ledger, LedgerOptions};
use cryptanet_types::{
    codec, tx::transient_hash, Block, Digest, Envelope, KvWrite, NsRwSet, Proposal,
    ProposalResponsePayload, Response, Signature, TxPayload, TxRwSet, ValidationCode, Version,
};

fn open(dir: &tempfile::TempDir) -> Ledger {
    Ledger::open_with(
        dir.path(),
        LedgerOptions {
            sync: false,
            ..Default::default()
        },
    )
    .unwrap()
}

/// An envelope with the given nonce writing `writes` into namespace "cc".
fn envelope(nonce: &[u8], writes: Vec<(&str, Option<&str>)>) -> Vec<u8> {
    let proposal = Proposal {
        chaincode: "cc".into(),
        function: "f".into(),
        args: vec![],
        creator: b"client".to_vec(),
        nonce: nonce.to_vec(),
        timestamp_ms: 0,
        transient_hash: transient_hash(&vec![]).unwrap(),
    };
    let proposal_bytes = codec::encode(&proposal).unwrap();
    let ns = NsRwSet {
        namespace: "cc".into(),
        writes: writes
            .into_iter()
            .map(|(k, v)| KvWrite {
                key: k.as_bytes().to_vec(),
                value: v.map(|v| v.as_bytes().to_vec()),
            })
            .collect(),
        ..Default::default()
    };
    let prp = ProposalResponsePayload {
        proposal_hash: Digest::of(&proposal_bytes),
        chaincode: "cc".into(),
        chaincode_sequence: 1,
        rwset: TxRwSet { ns: vec![ns] },
        response: Response::default(),
        event: None,
    };
    let payload = TxPayload {
        proposal_bytes,
        proposal_signature: Signature([0; 64]),
        response_bytes: codec::encode(&prp).unwrap(),
        endorsements: vec![],
    };
    Envelope {
        payload: codec::encode(&payload).unwrap(),
        signature: Signature([0; 64]),
    }
    .to_bytes()
    .unwrap()
}

fn block(l: &Ledger, envs: Vec<Vec<u8>>, codes: Vec<ValidationCode>) -> Block {
    let mut b = Block::new(l.height() + 1, l.last_hash(), envs);
    b.metadata.validation_codes = codes;
    b
}

#[test]
fn appends_chain_and_finds_blocks_by_number_and_hash() {
    let dir = tempfile::tempdir().unwrap();
    let mut l = open(&dir);
    assert_eq!((l.height(), l.last_hash()), (0, Digest::ZERO));
    let b1 = block(
        &l,
        vec![envelope(b"n1", vec![("a", Some("1"))])],
        vec![ValidationCode::Valid],
    );
    l.append(&b1).unwrap();
    let b2 = block(
        &l,
        vec![envelope(b"n2", vec![("b", Some("2"))])],
        vec![ValidationCode::Valid],
    );
    l.append(&b2).unwrap();
    assert_eq!(l.height(), 2);
    assert_eq!(l.block(1).unwrap().unwrap(), b1);
    assert_eq!(l.block_by_hash(&b2.hash()).unwrap().unwrap(), b2);
    assert_eq!(l.block(3).unwrap(), None);
    drop(l);
    let l = open(&dir);
    assert_eq!((l.height(), l.last_hash()), (2, b2.hash()));
}

#[test]
fn rejects_wrong_number_and_wrong_previous_hash_without_touching_state() {
    let dir = tempfile::tempdir().unwrap();
    let mut l = open(&dir);
    let b1 = block(
        &l,
        vec![envelope(b"n1", vec![("a", Some("1"))])],
        vec![ValidationCode::Valid],
    );
    l.append(&b1).unwrap();
    // Same block again: not the next number.
    assert!(matches!(
        l.append(&b1),
        Err(Error::NotNextBlock { height: 1, got: 1 })
    ));
    // Right number, wrong link.
    let mut bad = Block::new(
        2,
        Digest::of(b"elsewhere"),
        vec![envelope(b"n2", vec![("a", Some("X"))])],
    );
    bad.metadata.validation_codes = vec![ValidationCode::Valid];
    assert!(matches!(
        l.append(&bad),
        Err(Error::PreviousHashMismatch { number: 2, .. })
    ));
    // Tampered data: integrity check fails.
    let mut tampered = block(
        &l,
        vec![envelope(b"n3", vec![("a", Some("Y"))])],
        vec![ValidationCode::Valid],
    );
    tampered.data[0][5] ^= 1;
    assert!(matches!(l.append(&tampered), Err(Error::Types(_))));
    assert_eq!(l.height(), 1);
    assert_eq!(
        l.get_state("cc", b"a").unwrap(),
        Some((b"1".to_vec(), Version::new(1, 0)))
    );
}

#[test]
fn versions_deletes_history_and_invalid_transactions() {
    let dir = tempfile::tempdir().unwrap();
    let mut l = open(&dir);
    let b1 = block(
        &l,
        vec![
            envelope(b"t1", vec![("k", Some("v1"))]),
            envelope(b"t2", vec![("x", Some("x1"))]),
        ],
        vec![ValidationCode::Valid, ValidationCode::Valid],
    );
    l.append(&b1).unwrap();
    let b2 = block(
        &l,
        vec![
            envelope(b"t3", vec![("k", Some("v2"))]),
            envelope(b"t4", vec![("x", None)]),
            envelope(b"t5", vec![("k", Some("never"))]),
        ],
        vec![
            ValidationCode::Valid,
            ValidationCode::Valid,
            ValidationCode::MvccReadConflict,
        ],
    );
    l.append(&b2).unwrap();
    assert_eq!(
        l.get_state("cc", b"k").unwrap(),
        Some((b"v2".to_vec(), Version::new(2, 0)))
    );
    assert_eq!(l.get_state("cc", b"x").unwrap(), None);
    let h = l.history("cc", b"k", 10).unwrap();
    assert_eq!(
        h.iter().map(|e| e.version).collect::<Vec<_>>(),
        vec![Version::new(2, 0), Version::new(1, 0)]
    );
    assert_eq!(h[0].value.as_deref(), Some(&b"v2"[..]));
    let hx = l.history("cc", b"x", 10).unwrap();
    assert_eq!(hx.len(), 2);
    assert_eq!(hx[0].value, None);
    // The invalid transaction is indexed with its code, but wrote nothing.
    let t5 = cryptanet_types::tx::tx_id(b"t5", b"client");
    let loc = l.tx(&t5).unwrap().unwrap();
    assert_eq!(
        (loc.block, loc.index, loc.code),
        (2, 2, ValidationCode::MvccReadConflict)
    );
    assert!(l
        .contains_tx(&cryptanet_types::tx::tx_id(b"t1", b"client"))
        .unwrap());
    assert!(!l.contains_tx(&Digest::of(b"nope")).unwrap());
}

#[test]
fn replayed_tx_id_keeps_the_original_index_entry() {
    let dir = tempfile::tempdir().unwrap();
    let mut l = open(&dir);
    let e = envelope(b"same", vec![("k", Some("1"))]);
    let b1 = block(&l, vec![e.clone()], vec![ValidationCode::Valid]);
    l.append(&b1).unwrap();
    let b2 = block(&l, vec![e], vec![ValidationCode::DuplicateTxId]);
    l.append(&b2).unwrap();
    let loc = l
        .tx(&cryptanet_types::tx::tx_id(b"same", b"client"))
        .unwrap()
        .unwrap();
    assert_eq!((loc.block, loc.code), (1, ValidationCode::Valid));
}

#[test]
fn range_scan_is_start_inclusive_end_exclusive_and_namespace_scoped() {
    let dir = tempfile::tempdir().unwrap();
    let mut l = open(&dir);
    let b = block(
        &l,
        vec![envelope(
            b"r",
            vec![
                ("a", Some("1")),
                ("b", Some("2")),
                ("c", Some("3")),
                ("d", Some("4")),
            ],
        )],
        vec![ValidationCode::Valid],
    );
    l.append(&b).unwrap();
    let keys = |v: Vec<crate::StateEntry>| v.into_iter().map(|e| e.key).collect::<Vec<_>>();
    assert_eq!(
        keys(l.range("cc", b"b", b"d", 100).unwrap()),
        vec![b"b".to_vec(), b"c".to_vec()]
    );
    assert_eq!(keys(l.range("cc", b"b", b"", 100).unwrap()).len(), 3);
    assert_eq!(keys(l.range("cc", b"a", b"", 2).unwrap()).len(), 2);
    assert!(l.range("other", b"a", b"", 100).unwrap().is_empty());
    // "c" must not see keys of namespace "cc".
    assert!(l.range("c", b"", b"", 100).unwrap().is_empty());
}

#[test]
fn state_matches_in_memory_replay_over_many_blocks() {
    let dir = tempfile::tempdir().unwrap();
    let mut l = open(&dir);
    let shape = Shape {
        txs: 20,
        writes_per_tx: 3,
        key_space: 200,
        value_len: 16,
        delete_every: 7,
        invalid_every: 5,
    };
    let mut blocks = Vec::new();
    for n in 1..=60 {
        let b = testkit::block(42, n, l.last_hash(), shape).unwrap();
        l.append(&b).unwrap();
        blocks.push(b);
    }
    let expected = testkit::replay(&blocks).unwrap();
    let actual: Vec<_> = l
        .dump_state()
        .unwrap()
        .into_iter()
        .map(|(ns, e)| ((ns, e.key), (e.value, e.version)))
        .collect();
    assert_eq!(actual, expected.into_iter().collect::<Vec<_>>());
}

#[test]
fn rejects_bad_keys_in_writes() {
    let dir = tempfile::tempdir().unwrap();
    let mut l = open(&dir);
    let b = block(
        &l,
        vec![envelope(b"z", vec![("", Some("1"))])],
        vec![ValidationCode::Valid],
    );
    assert!(matches!(l.append(&b), Err(Error::BadKey)));
    assert_eq!(l.height(), 0);
}

#[test]
fn composite_keys_are_stored_and_scanned() {
    let dir = tempfile::tempdir().unwrap();
    let mut l = open(&dir);
    let b = block(
        &l,
        vec![envelope(
            b"y",
            vec![("\0reading\0S1\0", Some("1")), ("plain", Some("2"))],
        )],
        vec![ValidationCode::Valid],
    );
    l.append(&b).unwrap();
    assert!(l.get_state("cc", b"\0reading\0S1\0").unwrap().is_some());
    let all = l.range("cc", b"", b"", 10).unwrap();
    let keys: Vec<&[u8]> = all.iter().map(|e| e.key.as_slice()).collect();
    assert_eq!(keys, [&b"\0reading\0S1\0"[..], b"plain"]);
}

#[test]
fn history_and_tx_index_span_flushed_files_and_the_memtable() {
    let dir = tempfile::tempdir().unwrap();
    let mut ids = Vec::new();
    // Three sessions: reopening flushes the recovered memtables to files, so
    // "k"'s history ends up in two files and the live memtable. "kk" has
    // "k" as a byte prefix and must never show up in "k"'s history.
    for round in 0..3u8 {
        let mut l = open(&dir);
        let nonce = [b'n', round];
        let value = format!("v{round}");
        let b = block(
            &l,
            vec![
                envelope(&nonce, vec![("k", Some(&value))]),
                envelope(&[b'm', round], vec![("kk", Some("other"))]),
            ],
            vec![ValidationCode::Valid, ValidationCode::Valid],
        );
        l.append(&b).unwrap();
        ids.push(cryptanet_types::tx::tx_id(&nonce, b"client"));
    }
    let l = open(&dir);
    let h = l.history("cc", b"k", 10).unwrap();
    assert_eq!(
        h.iter()
            .map(|e| (e.version, e.value.clone().unwrap()))
            .collect::<Vec<_>>(),
        vec![
            (Version::new(3, 0), b"v2".to_vec()),
            (Version::new(2, 0), b"v1".to_vec()),
            (Version::new(1, 0), b"v0".to_vec()),
        ]
    );
    assert_eq!(h[0].tx_id, ids[2]);
    assert_eq!(l.history("cc", b"k", 2).unwrap().len(), 2);
    assert_eq!(l.history("cc", b"kk", 10).unwrap().len(), 3);
    assert!(l.history("cc", b"none", 10).unwrap().is_empty());
    for (n, id) in ids.iter().enumerate() {
        let loc = l.tx(id).unwrap().unwrap();
        assert_eq!((loc.block, loc.index), (n as u64 + 1, 0));
    }
}

/// A chain of `n` synthetic blocks with deletes and invalid transactions.
fn chain(seed: u64, n: u64) -> Vec<Block> {
    let mut blocks: Vec<Block> = Vec::new();
    for number in 1..=n {
        let prev = blocks.last().map_or(Digest::ZERO, Block::hash);
        blocks.push(testkit::block(seed, number, prev, testkit::crash_shape()).unwrap());
    }
    blocks
}

#[test]
fn append_all_gives_the_same_ledger_as_appending_one_by_one() {
    let blocks = chain(5, 40);
    let (d1, d2) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (mut one, mut all) = (open(&d1), open(&d2));
    for b in &blocks {
        one.append(b).unwrap();
    }
    assert_eq!(all.append_all(blocks.clone()).unwrap(), 40);
    assert_eq!(
        (all.height(), all.last_hash()),
        (one.height(), one.last_hash())
    );
    assert_eq!(all.dump_state().unwrap(), one.dump_state().unwrap());
    for b in &blocks {
        let n = b.header.number;
        assert_eq!(all.block_bytes(n).unwrap(), one.block_bytes(n).unwrap());
        for env in &b.data {
            let (id, prp) = crate::effects::decode_envelope(env).unwrap();
            assert_eq!(all.tx(&id).unwrap(), one.tx(&id).unwrap());
            for ns in &prp.rwset.ns {
                for w in &ns.writes {
                    assert_eq!(
                        all.history(&ns.namespace, &w.key, 100).unwrap(),
                        one.history(&ns.namespace, &w.key, 100).unwrap()
                    );
                }
            }
        }
    }
}

#[test]
fn append_all_keeps_the_first_index_entry_of_an_id_repeated_in_the_next_block() {
    // Block 2 is prepared while block 1 is still being written: the
    // "already indexed?" question must wait for block 1.
    let dir = tempfile::tempdir().unwrap();
    let mut l = open(&dir);
    let e = envelope(b"twice", vec![("k", Some("1"))]);
    let mut b1 = Block::new(1, Digest::ZERO, vec![e.clone()]);
    b1.metadata.validation_codes = vec![ValidationCode::MvccReadConflict];
    let mut b2 = Block::new(2, b1.hash(), vec![e]);
    b2.metadata.validation_codes = vec![ValidationCode::DuplicateTxId];
    assert_eq!(l.append_all([b1, b2]).unwrap(), 2);
    let loc = l
        .tx(&cryptanet_types::tx::tx_id(b"twice", b"client"))
        .unwrap()
        .unwrap();
    assert_eq!((loc.block, loc.code), (1, ValidationCode::MvccReadConflict));
    assert!(l.get_state("cc", b"k").unwrap().is_none());
}

#[test]
fn append_all_stops_at_the_first_bad_block_with_the_blocks_before_it_appended() {
    let dir = tempfile::tempdir().unwrap();
    let mut l = open(&dir);
    let mut blocks = chain(6, 6);
    blocks[3].header.previous_hash = Digest([7; 32]);
    let err = l.append_all(blocks.clone()).unwrap_err();
    assert!(
        matches!(err, Error::PreviousHashMismatch { number: 4, .. }),
        "{err}"
    );
    assert_eq!((l.height(), l.last_hash()), (3, blocks[2].hash()));
    // A block whose data does not match its header fails in preparation.
    let mut rest = chain(6, 6).split_off(3);
    rest[1].data[0][0] ^= 1;
    let err = l.append_all(rest).unwrap_err();
    assert!(matches!(err, Error::Types(_)), "{err}");
    assert_eq!(l.height(), 4);
}

#[test]
fn a_ledger_in_another_format_is_refused_on_open() {
    use crate::keys::{CFS, CF_META, META_FORMAT, META_HEIGHT};
    let raw_db = |dir: &tempfile::TempDir| {
        let mut o = rocksdb::Options::default();
        o.create_missing_column_families(true);
        rocksdb::DB::open_cf(&o, dir.path(), CFS).unwrap()
    };
    let dir = tempfile::tempdir().unwrap();
    {
        let mut l = open(&dir);
        l.append(&chain(1, 1)[0]).unwrap();
    }
    open(&dir); // its own format opens
    {
        let db = raw_db(&dir);
        db.put_cf(
            db.cf_handle(CF_META).unwrap(),
            META_FORMAT,
            1u32.to_be_bytes(),
        )
        .unwrap();
    }
    let err = Ledger::open(dir.path()).unwrap_err();
    assert!(
        matches!(&err, Error::Format { found } if found == "1"),
        "{err}"
    );
    assert!(err.to_string().contains("re-fetch"), "{err}");
    {
        let db = raw_db(&dir);
        db.delete_cf(db.cf_handle(CF_META).unwrap(), META_FORMAT)
            .unwrap();
        assert!(db
            .get_cf(db.cf_handle(CF_META).unwrap(), META_HEIGHT)
            .unwrap()
            .is_some());
    }
    let err = Ledger::open(dir.path()).unwrap_err();
    assert!(
        matches!(&err, Error::Format { found } if found.starts_with("1 (no format")),
        "{err}"
    );
}

#[test]
fn append_all_with_fsync_groups_gives_the_same_ledger_and_survives_reopen() {
    let blocks = chain(8, crate::GROUP_COMMIT_BLOCKS as u64 * 2 + 5);
    let (d1, d2) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let mut one = open(&d1);
    for b in &blocks {
        one.append(b).unwrap();
    }
    {
        let mut all = Ledger::open(d2.path()).unwrap(); // sync: true
        assert_eq!(all.append_all(blocks.clone()).unwrap(), blocks.len() as u64);
    }
    let all = Ledger::open(d2.path()).unwrap();
    assert_eq!(
        (all.height(), all.last_hash()),
        (one.height(), one.last_hash())
    );
    assert_eq!(all.dump_state().unwrap(), one.dump_state().unwrap());
}

/// Write-ahead log files are deleted once the log passes `max_wal_bytes`,
/// even though the small column families (`meta`, `block_hash`) never fill
/// a memtable of their own.
#[test]
fn write_ahead_log_stays_bounded() {
    let wal_bytes = |dir: &std::path::Path| -> u64 {
        std::fs::read_dir(dir)
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.path().extension().is_some_and(|x| x == "log"))
            .map(|e| e.metadata().unwrap().len())
            .sum()
    };
    let shape = Shape {
        txs: 50,
        writes_per_tx: 2,
        key_space: 100_000,
        value_len: 1000,
        delete_every: 0,
        invalid_every: 0,
    };
    let append_blocks = |opts: LedgerOptions| -> u64 {
        let dir = tempfile::tempdir().unwrap();
        let mut l = Ledger::open_with(dir.path(), opts).unwrap();
        // About 100 kB of state values and ~110 kB of block per block: 12 MB.
        for n in 1..=60 {
            let b = testkit::block(7, n, l.last_hash(), shape).unwrap();
            l.append(&b).unwrap();
        }
        wal_bytes(dir.path())
    };
    let small = LedgerOptions {
        sync: false,
        write_buffer_bytes: 4 << 20,
        max_wal_bytes: 2 << 20,
        ..Default::default()
    };
    let unbounded = LedgerOptions {
        max_wal_bytes: 0, // RocksDB's own rule: 4 x the write buffers
        ..small.clone()
    };
    let bounded = append_blocks(small);
    let before = append_blocks(unbounded);
    assert!(bounded < 10 << 20, "{bounded} bytes of WAL kept");
    assert!(before > bounded, "unbounded {before}, bounded {bounded}");
}
