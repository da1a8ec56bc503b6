//! Tests of [`Verifier`]: one per accepted case and per typed error.

#![allow(clippy::unwrap_used)]

use super::*;
use crate::crypto::sign;
use crate::identity::testkit::{key_for, LeafSpec, TestCa, NOW};

const MSG: &[u8] = b"shipment 42: 4.1 C at 10:00";

/// Org1 and Org2 are members; Org9 is not.
struct Net {
    org1: TestCa,
    org2: TestCa,
    outsider: TestCa,
    verifier: Verifier,
}

fn net() -> Net {
    let org1 = TestCa::new(1, "Org1MSP");
    let org2 = TestCa::new(2, "Org2MSP");
    let outsider = TestCa::new(9, "Org9MSP");
    let verifier = Verifier::new(&[org1.definition(), org2.definition()]).unwrap();
    Net {
        org1,
        org2,
        outsider,
        verifier,
    }
}

#[test]
fn accepts_each_role_from_each_member_org() {
    let n = net();
    for ca in [&n.org1, &n.org2] {
        for role in [Role::Peer, Role::Admin, Role::Client] {
            let cn = format!("{}.{}", role.as_ou(), ca.msp_id);
            let (der, key) = ca.issue(&cn, Some(role.as_ou()));
            let sig = sign(&key, MSG);
            let id = n.verifier.verify(&der, Some(role), MSG, &sig, NOW).unwrap();
            assert_eq!(id.msp_id, ca.msp_id);
            assert_eq!(id.role, role);
            assert_eq!(id.common_name, cn);
            assert_eq!(id.public_key, PublicKey::of(&key));
            assert_eq!(id.cert_digest, Digest::of(&der));
            assert_eq!(id.cert_der, der);
            // Any role is fine when none is required.
            assert_eq!(n.verifier.verify(&der, None, MSG, &sig, NOW).unwrap(), id);
        }
    }
    assert_eq!(
        n.verifier.member_ids().collect::<Vec<_>>(),
        ["Org1MSP", "Org2MSP"]
    );
}

#[test]
fn unknown_org() {
    let n = net();
    let (der, key) = n.outsider.issue("peer0.org9", Some("peer"));
    assert_eq!(
        n.verifier
            .verify(&der, Some(Role::Peer), MSG, &sign(&key, MSG), NOW),
        Err(Error::UnknownOrg {
            msp_id: "Org9MSP".into()
        })
    );
}

#[test]
fn bad_chain_when_another_orgs_ca_issues_for_this_org() {
    let n = net();
    // Org2's CA issues a certificate claiming to belong to Org1.
    let spec = LeafSpec::new("peer0.org1", "Org1MSP", Some("peer"));
    let (der, _, key) = n.org2.issue_spec(&spec);
    assert_eq!(
        n.verifier
            .verify(&der, Some(Role::Peer), MSG, &sign(&key, MSG), NOW),
        Err(Error::BadChain {
            msp_id: "Org1MSP".into()
        })
    );
}

#[test]
fn bad_chain_when_an_impostor_ca_copies_the_org_ca_name() {
    let n = net();
    // Same subject name as Org1's CA, different key.
    let impostor = TestCa::new(77, "Org1MSP");
    let (der, key) = impostor.issue("peer0.org1", Some("peer"));
    assert_eq!(
        n.verifier
            .verify(&der, Some(Role::Peer), MSG, &sign(&key, MSG), NOW),
        Err(Error::BadChain {
            msp_id: "Org1MSP".into()
        })
    );
}

#[test]
fn expired_and_not_yet_valid() {
    let n = net();
    let (der, key) = n.org1.issue("client.org1", Some("client"));
    let sig = sign(&key, MSG);
    let fields = cert::parse(&der).unwrap();
    let (start, end) = (fields.not_before, fields.not_after);
    // Inclusive bounds.
    for t in [start, end] {
        n.verifier.verify(&der, None, MSG, &sig, t).unwrap();
    }
    for t in [start - 1, end + 1] {
        assert_eq!(
            n.verifier.verify(&der, None, MSG, &sig, t),
            Err(Error::Expired { at: t })
        );
    }

    // A certificate whose whole validity lies in the past.
    let mut spec = LeafSpec::new("old.org1", "Org1MSP", Some("client"));
    spec.not_before = NOW - 1000;
    spec.not_after = NOW - 10;
    let (old, _, old_key) = n.org1.issue_spec(&spec);
    assert_eq!(
        n.verifier
            .verify(&old, None, MSG, &sign(&old_key, MSG), NOW),
        Err(Error::Expired { at: NOW })
    );
}

#[test]
fn expired_when_the_ca_has_expired() {
    let ca = TestCa::with_validity(5, "Org5MSP", NOW - 1000, NOW + 100);
    let verifier = Verifier::new(&[ca.definition()]).unwrap();
    // The leaf outlives its CA: the CA's end bounds it.
    let (der, key) = ca.issue("peer0.org5", Some("peer"));
    let sig = sign(&key, MSG);
    verifier.verify(&der, None, MSG, &sig, NOW).unwrap();
    assert_eq!(
        verifier.verify(&der, None, MSG, &sig, NOW + 101),
        Err(Error::Expired { at: NOW + 101 })
    );
}

#[test]
fn wrong_role() {
    let n = net();
    let (client, key) = n.org1.issue("client.org1", Some("client"));
    assert_eq!(
        n.verifier
            .verify(&client, Some(Role::Peer), MSG, &sign(&key, MSG), NOW),
        Err(Error::WrongRole {
            required: Role::Peer,
            actual: Some(Role::Client)
        })
    );
    let (no_role, key) = n.org1.issue("nobody.org1", None);
    let sig = sign(&key, MSG);
    assert_eq!(
        n.verifier
            .verify(&no_role, Some(Role::Admin), MSG, &sig, NOW),
        Err(Error::WrongRole {
            required: Role::Admin,
            actual: None
        })
    );
    assert!(matches!(
        n.verifier.verify(&no_role, None, MSG, &sig, NOW),
        Err(Error::BadCertificate { .. })
    ));
}

#[test]
fn bad_signature() {
    let n = net();
    let (der, key) = n.org1.issue("peer0.org1", Some("peer"));
    let sig = sign(&key, MSG);
    assert_eq!(
        n.verifier
            .verify(&der, Some(Role::Peer), b"another message", &sig, NOW),
        Err(Error::BadSignature)
    );
    // A valid signature by someone else's key.
    let stranger = sign(&key_for(1, "stranger"), MSG);
    assert_eq!(
        n.verifier
            .verify(&der, Some(Role::Peer), MSG, &stranger, NOW),
        Err(Error::BadSignature)
    );
}

#[test]
fn garbage_is_a_bad_certificate() {
    let n = net();
    let sig = Signature([0; 64]);
    let (der, _) = n.org1.issue("peer0.org1", Some("peer"));
    let mut trailing = der.clone();
    trailing.push(0);
    // Outer SEQUENCE tag 0x30 -> 0x10: the parser tolerates it, we do not.
    let mut primitive_tag = der.clone();
    primitive_tag[0] ^= 0x20;
    for bad in [
        primitive_tag,
        Vec::new(),
        b"not a certificate".to_vec(),
        der[..der.len() / 2].to_vec(),
        trailing,
    ] {
        assert!(
            matches!(
                n.verifier.verify(&bad, None, MSG, &sig, NOW),
                Err(Error::BadCertificate { .. })
            ),
            "{} bytes accepted",
            bad.len()
        );
    }
}

#[test]
fn a_ca_certificate_is_not_a_signing_identity() {
    let n = net();
    let mut spec = LeafSpec::new("sub-ca.org1", "Org1MSP", Some("peer"));
    spec.is_ca = true;
    let (der, _, key) = n.org1.issue_spec(&spec);
    assert!(matches!(
        n.verifier.verify(&der, None, MSG, &sign(&key, MSG), NOW),
        Err(Error::BadCertificate { .. })
    ));
    // Nor is the org's root CA certificate itself.
    let ca_key = key_for(1, "ca");
    assert!(matches!(
        n.verifier
            .verify(&n.org1.cert_der, None, MSG, &sign(&ca_key, MSG), NOW),
        Err(Error::BadCertificate { .. })
    ));
}

#[test]
fn every_single_bit_flip_of_the_certificate_is_rejected() {
    let n = net();
    let (der, key) = n.org1.issue("peer0.org1", Some("peer"));
    let sig = sign(&key, MSG);
    n.verifier
        .verify(&der, Some(Role::Peer), MSG, &sig, NOW)
        .unwrap();
    for bit in 0..der.len() * 8 {
        let mut flipped = der.clone();
        flipped[bit / 8] ^= 1 << (bit % 8);
        let result = n
            .verifier
            .verify(&flipped, Some(Role::Peer), MSG, &sig, NOW);
        assert!(result.is_err(), "flip of bit {bit} accepted");
    }
}

#[test]
fn cached_certificates_are_still_checked_for_time_role_and_signature() {
    let n = net();
    let (der, key) = n.org1.issue("peer0.org1", Some("peer"));
    let sig = sign(&key, MSG);
    assert_eq!(n.verifier.cached(), 0);
    n.verifier.verify(&der, None, MSG, &sig, NOW).unwrap();
    assert_eq!(n.verifier.cached(), 1);
    assert!(matches!(
        n.verifier.verify(&der, None, MSG, &sig, NOW + 400 * 86_400),
        Err(Error::Expired { .. })
    ));
    assert!(matches!(
        n.verifier.verify(&der, Some(Role::Admin), MSG, &sig, NOW),
        Err(Error::WrongRole { .. })
    ));
    assert_eq!(
        n.verifier.verify(&der, None, b"x", &sig, NOW),
        Err(Error::BadSignature)
    );
    // Failures of the chain are not cached.
    let (foreign, fkey) = n.outsider.issue("peer0.org9", Some("peer"));
    let fsig = sign(&fkey, MSG);
    for _ in 0..2 {
        assert!(n.verifier.verify(&foreign, None, MSG, &fsig, NOW).is_err());
    }
    assert_eq!(n.verifier.cached(), 1);
}

#[test]
fn public_key_admits_exactly_what_identify_admits() {
    let n = net();
    let (der, key) = n.org1.issue("peer0.org1", Some("peer"));
    let (foreign, _) = n.outsider.issue("peer0.org9", Some("peer"));
    let cases = [
        (&der, None, NOW),
        (&der, Some(Role::Peer), NOW),
        (&der, Some(Role::Client), NOW),
        (&der, None, NOW + 400 * 86_400),
        (&foreign, None, NOW),
    ];
    for _ in 0..2 {
        // once uncached, once cached
        for (cert, role, at) in &cases {
            let by_identity = n.verifier.identify(cert, *role, *at).map(|i| i.public_key);
            assert_eq!(n.verifier.public_key(cert, *role, *at), by_identity);
        }
    }
    assert_eq!(
        n.verifier.public_key(&der, None, NOW),
        Ok(crate::crypto::PublicKey::of(&key))
    );
}

#[test]
fn the_cache_stays_within_its_limit() {
    let org1 = TestCa::new(1, "Org1MSP");
    let verifier = Verifier::new(&[org1.definition()])
        .unwrap()
        .with_cache_limit(3);
    for i in 0..10 {
        let (der, key) = org1.issue(&format!("client{i}.org1"), Some("client"));
        verifier
            .verify(&der, None, MSG, &sign(&key, MSG), NOW)
            .unwrap();
        assert!(verifier.cached() <= 3);
    }
    let unbounded = Verifier::new(&[org1.definition()])
        .unwrap()
        .with_cache_limit(0);
    let (der, key) = org1.issue("client.org1", Some("client"));
    unbounded
        .verify(&der, None, MSG, &sign(&key, MSG), NOW)
        .unwrap();
    assert_eq!(unbounded.cached(), 0);
}

#[test]
fn identify_checks_membership_without_a_message() {
    let n = net();
    let (der, _) = n.org2.issue("peer0.org2", Some("peer"));
    let id = n.verifier.identify(&der, Some(Role::Peer), NOW).unwrap();
    assert_eq!((id.msp_id.as_str(), id.role), ("Org2MSP", Role::Peer));
    assert!(matches!(
        n.verifier.identify(&der, Some(Role::Client), NOW),
        Err(Error::WrongRole { .. })
    ));
}

#[test]
fn bad_org_definitions_are_refused() {
    let org1 = TestCa::new(1, "Org1MSP");
    assert_eq!(
        Verifier::new(&[org1.definition(), org1.definition()]).unwrap_err(),
        Error::DuplicateOrg {
            msp_id: "Org1MSP".into()
        }
    );

    let mut renamed = org1.definition();
    renamed.msp_id = "Org2MSP".into();
    assert!(matches!(
        Verifier::new(&[renamed]),
        Err(Error::BadOrgDefinition { .. })
    ));

    // A leaf certificate posing as the CA.
    let (_, leaf_pem, _) = org1.issue_pem("peer0.org1", Some("peer"));
    let mut leaf_as_ca = org1.definition();
    leaf_as_ca.ca_cert_pem = leaf_pem;
    assert!(matches!(
        Verifier::new(&[leaf_as_ca]),
        Err(Error::BadCertificate { .. })
    ));

    // A CA certificate signed by another CA, not by itself.
    let mut spec = LeafSpec::new("ca.Org3MSP", "Org3MSP", None);
    spec.is_ca = true;
    let (_, cross_pem, _) = org1.issue_spec(&spec);
    let cross = OrgDefinition {
        msp_id: "Org3MSP".into(),
        ca_cert_pem: cross_pem,
        peers: vec![],
    };
    assert_eq!(
        Verifier::new(&[cross]).unwrap_err(),
        Error::BadChain {
            msp_id: "Org3MSP".into()
        }
    );

    let mut garbage = org1.definition();
    garbage.ca_cert_pem = "no pem here".into();
    assert!(matches!(
        Verifier::new(&[garbage]),
        Err(Error::BadCertificate { .. })
    ));
}

#[test]
fn verifier_is_shareable_across_threads() {
    fn assert_sync<T: Send + Sync>() {}
    assert_sync::<Verifier>();
    let n = net();
    let (der, key) = n.org1.issue("peer0.org1", Some("peer"));
    let sig = sign(&key, MSG);
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                for _ in 0..20 {
                    n.verifier.verify(&der, None, MSG, &sig, NOW).unwrap();
                }
            });
        }
    });
    assert_eq!(n.verifier.cached(), 1);
}
