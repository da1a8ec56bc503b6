//! The generator: make or keep each org's CA and identities, write the
//! public org definitions, then check everything with the real verifier.

use super::files::{private_dir, public_dir, restrict, write_private, write_public};
use super::issue::{self, Validity};
use super::plan::{self, IdentityPlan};
use crate::error::{Error, Result};
use crate::material::{self, CERT_FILE, KEY_FILE, ORG_FILE};
use cryptanet_types::identity::{
    parse_cert_pem, parse_signing_key_pem, CertInfo, LocalIdentity, OrgDefinition, PeerDef, Role,
    Verifier,
};
use rand_core::CryptoRngCore;
use rcgen::{Issuer, KeyPair};
use std::path::{Path, PathBuf};
use time::OffsetDateTime;

/// Seconds a new certificate is back-dated, to tolerate clock skew.
const BACKDATE_SECS: i64 = 300;
const DAY_SECS: i64 = 86_400;

/// What to generate, and where.
#[derive(Clone, Debug)]
pub struct GenerateOptions {
    /// Number of orgs (`Org1MSP` ..).
    pub orgs: u32,
    /// Peers per org.
    pub peers_per_org: u32,
    /// Directory for private material (CA keys, identity keys, certificates).
    pub out: PathBuf,
    /// Directory for the public org definitions.
    pub orgs_dir: PathBuf,
    /// Host the peers listen on.
    pub host: String,
    /// Port of the first peer of the first org.
    pub base_port: u16,
    /// Validity of peer, admin and client certificates, in days.
    pub days: u32,
    /// Validity of CA certificates, in days.
    pub ca_days: u32,
    /// Regenerate everything, even material that exists.
    pub force: bool,
}

impl GenerateOptions {
    /// A local network under `root`: private material in `root/crypto`,
    /// org definitions in `root/orgs`, one peer per org on 127.0.0.1 from
    /// `base_port`, certificates valid 30 days (CAs 60).
    pub fn local(root: &std::path::Path, orgs: u32, base_port: u16) -> GenerateOptions {
        GenerateOptions {
            orgs,
            peers_per_org: 1,
            out: root.join("crypto"),
            orgs_dir: root.join("orgs"),
            host: "127.0.0.1".into(),
            base_port,
            days: 30,
            ca_days: 60,
            force: false,
        }
    }
}

/// What happened to one org.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrgOutcome {
    /// The org's MSP id.
    pub msp_id: String,
    /// Identities (`ca`, `peer0`, ...) created in this run.
    pub created: Vec<String>,
    /// Identities kept from an earlier run.
    pub kept: Vec<String>,
    /// Where the public definition was written.
    pub definition: PathBuf,
}

/// What a run did, org by org.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GenerateReport {
    /// One entry per org, in order.
    pub orgs: Vec<OrgOutcome>,
}

/// An org's CA, ready to issue.
struct Ca {
    cert_pem: String,
    not_after: OffsetDateTime,
    issuer: Issuer<'static, KeyPair>,
    created: bool,
}

/// Generates (or keeps) the material of `opts.orgs` orgs at time `now`
/// (unix seconds), drawing keys and serial numbers from `rng`.
///
/// Errors: [`Error::InvalidArgument`] for bad counts, ports or durations,
/// [`Error::Io`] for file problems, [`Error::Inconsistent`] when kept
/// material does not fit together, [`Error::SelfCheck`] if a generated
/// identity fails verification.
pub fn generate(
    opts: &GenerateOptions,
    now: i64,
    rng: &mut impl CryptoRngCore,
) -> Result<GenerateReport> {
    plan::check_counts(opts.orgs, opts.peers_per_org)?;
    for (name, days) in [("days", opts.days), ("ca-days", opts.ca_days)] {
        if days == 0 {
            return Err(Error::InvalidArgument {
                name,
                reason: "must be at least 1",
            });
        }
    }
    plan::peer_port(
        opts.base_port,
        opts.peers_per_org,
        opts.orgs,
        opts.peers_per_org - 1,
    )?;

    private_dir(&opts.out)?;
    let ignore = opts.out.join(".gitignore");
    if !ignore.exists() {
        write_public(&ignore, b"# Private keys: never commit.\n*\n")?;
    }

    let mut report = GenerateReport { orgs: Vec::new() };
    let mut definitions = Vec::new();
    for k in 1..=opts.orgs {
        let (outcome, definition) = generate_org(opts, k, now, rng)?;
        report.orgs.push(outcome);
        definitions.push(definition);
    }
    self_check(opts, &definitions, &report, now)?;
    Ok(report)
}

fn generate_org(
    opts: &GenerateOptions,
    k: u32,
    now: i64,
    rng: &mut impl CryptoRngCore,
) -> Result<(OrgOutcome, OrgDefinition)> {
    let msp_id = plan::msp_id(k);
    let org_dir = opts.out.join(&msp_id);
    private_dir(&org_dir)?;
    let mut outcome = OrgOutcome {
        msp_id: msp_id.clone(),
        created: Vec::new(),
        kept: Vec::new(),
        definition: opts.orgs_dir.join(&msp_id).join(ORG_FILE),
    };

    let ca_dir = org_dir.join("ca");
    let ca = match (opts.force, complete(&ca_dir)) {
        (false, true) => load_ca(&ca_dir, &msp_id, k)?,
        _ => create_ca(&ca_dir, &msp_id, k, validity(now, opts.ca_days, None)?, rng)?,
    };
    let name = "ca".to_owned();
    if ca.created {
        outcome.created.push(name);
    } else {
        outcome.kept.push(name);
    }

    let leaf_validity = validity(now, opts.days, Some(ca.not_after))?;
    let mut peers = Vec::new();
    let mut peer_index = 0;
    for id in plan::identities(k, opts.peers_per_org) {
        let dir = org_dir.join(&id.dir);
        let cert_pem = if !opts.force && !ca.created && complete(&dir) {
            restrict(&dir.join(KEY_FILE))?;
            outcome.kept.push(id.dir.clone());
            material::read_text(&dir.join(CERT_FILE))?
        } else {
            outcome.created.push(id.dir.clone());
            issue_identity(&dir, &msp_id, &id, leaf_validity, &ca, rng)?
        };
        if id.role == Role::Peer {
            let port = plan::peer_port(opts.base_port, opts.peers_per_org, k, peer_index)?;
            peer_index += 1;
            peers.push(PeerDef {
                name: id.common_name.clone(),
                address: plan::peer_address(&opts.host, port),
                cert_pem: Some(cert_pem),
            });
        }
    }

    let definition = OrgDefinition {
        msp_id,
        ca_cert_pem: ca.cert_pem,
        peers,
    };
    let text = definition.to_toml().map_err(|source| Error::Identity {
        path: outcome.definition.clone(),
        source,
    })?;
    if let Some(parent) = outcome.definition.parent() {
        public_dir(parent)?;
    }
    write_public(&outcome.definition, text.as_bytes())?;
    Ok((outcome, definition))
}

/// Whether an identity directory holds both its certificate and its key.
fn complete(dir: &Path) -> bool {
    dir.join(CERT_FILE).is_file() && dir.join(KEY_FILE).is_file()
}

/// `[now - skew, now + days]`, capped at `cap` (the CA's end).
fn validity(now: i64, days: u32, cap: Option<OffsetDateTime>) -> Result<Validity> {
    let at = |t: i64| {
        OffsetDateTime::from_unix_timestamp(t).map_err(|_| Error::InvalidArgument {
            name: "days",
            reason: "validity ends beyond the representable range",
        })
    };
    let not_before = at(now - BACKDATE_SECS)?;
    let mut not_after = at(now + i64::from(days) * DAY_SECS)?;
    if let Some(cap) = cap {
        not_after = not_after.min(cap);
    }
    Ok(Validity {
        not_before,
        not_after,
    })
}

fn create_ca(
    dir: &Path,
    msp_id: &str,
    k: u32,
    validity: Validity,
    rng: &mut impl CryptoRngCore,
) -> Result<Ca> {
    let subject = issue::ca_common_name(k);
    let key = issue::new_key(rng, &subject)?;
    let params = issue::ca_params(msp_id, k, validity);
    let cert = issue::self_signed(params.clone(), &key, rng, &subject)?;
    private_dir(dir)?;
    write_private(&dir.join(KEY_FILE), key.serialize_pem().as_bytes())?;
    write_public(&dir.join(CERT_FILE), cert.pem().as_bytes())?;
    tracing::info!(msp_id, "created CA");
    Ok(Ca {
        cert_pem: cert.pem(),
        not_after: validity.not_after,
        issuer: Issuer::new(params, key),
        created: true,
    })
}

/// Loads a kept CA and rebuilds its issuer parameters.
fn load_ca(dir: &Path, msp_id: &str, k: u32) -> Result<Ca> {
    let cert_path = dir.join(CERT_FILE);
    let key_path = dir.join(KEY_FILE);
    let cert_pem = material::read_text(&cert_path)?;
    let key_pem = material::read_text(&key_path)?;
    let identity = |path: &Path| {
        let path = path.to_owned();
        move |source| Error::Identity { path, source }
    };
    // Checks that the key is the certificate's.
    LocalIdentity::from_pem(&cert_pem, &key_pem).map_err(identity(dir))?;
    let der = parse_cert_pem(&cert_pem).map_err(identity(&cert_path))?;
    let info = CertInfo::from_der(&der).map_err(identity(&cert_path))?;
    let expected_cn = issue::ca_common_name(k);
    if !info.is_ca || info.msp_id.as_deref() != Some(msp_id) || info.common_name != expected_cn {
        return Err(Error::Inconsistent {
            path: cert_path,
            reason: "not the CA certificate this org expects",
        });
    }
    let time = |t: i64| {
        OffsetDateTime::from_unix_timestamp(t).map_err(|_| Error::Inconsistent {
            path: cert_path.clone(),
            reason: "validity out of range",
        })
    };
    let validity = Validity {
        not_before: time(info.not_before)?,
        not_after: time(info.not_after)?,
    };
    let signing = parse_signing_key_pem(&key_pem).map_err(identity(&key_path))?;
    let key = issue::key_pair(&signing, &expected_cn)?;
    restrict(&key_path)?;
    Ok(Ca {
        cert_pem,
        not_after: validity.not_after,
        issuer: Issuer::new(issue::ca_params(msp_id, k, validity), key),
        created: false,
    })
}

/// Issues one identity into `dir`; returns its certificate PEM.
fn issue_identity(
    dir: &Path,
    msp_id: &str,
    id: &IdentityPlan,
    validity: Validity,
    ca: &Ca,
    rng: &mut impl CryptoRngCore,
) -> Result<String> {
    let key = issue::new_key(rng, &id.common_name)?;
    let cert = issue::issue_leaf(msp_id, id, validity, &key, &ca.issuer, rng)?;
    private_dir(dir)?;
    write_private(&dir.join(KEY_FILE), key.serialize_pem().as_bytes())?;
    write_public(&dir.join(CERT_FILE), cert.pem().as_bytes())?;
    tracing::info!(msp_id, identity = %id.common_name, "issued certificate");
    Ok(cert.pem())
}

/// Loads every identity back from disk and verifies a signature by each
/// with the verifier the peers use.
fn self_check(
    opts: &GenerateOptions,
    definitions: &[OrgDefinition],
    report: &GenerateReport,
    now: i64,
) -> Result<()> {
    let verifier = Verifier::new(definitions).map_err(|source| Error::Identity {
        path: opts.orgs_dir.clone(),
        source,
    })?;
    for (k, outcome) in (1..).zip(&report.orgs) {
        for id in plan::identities(k, opts.peers_per_org) {
            let dir = opts.out.join(&outcome.msp_id).join(&id.dir);
            let me = material::load_identity(&dir)?;
            let msg = b"cryptanet orgs generate self-check";
            let sig = me.sign(msg);
            let verified = verifier.verify(me.cert_der(), Some(id.role), msg, &sig, now);
            match verified {
                Ok(_) => {}
                Err(source) if outcome.kept.contains(&id.dir) => {
                    tracing::error!(path = %dir.display(), %source, "kept identity does not verify");
                    return Err(Error::Inconsistent {
                        path: dir,
                        reason: "kept certificate is not valid under its org's CA now",
                    });
                }
                Err(source) => {
                    return Err(Error::SelfCheck {
                        subject: id.common_name,
                        source,
                    })
                }
            }
        }
    }
    Ok(())
}
