//! `cryptanet audit`: re-derive every committed anomaly verdict from a
//! ledger and compare it byte for byte.
//!
//! For each reading the supply-chain chaincode stored, the auditor
//!
//! 1. checks that the stored record is exactly the value the committing
//!    transaction wrote (its block, found through the key's history, holds
//!    the write set), so state cannot drift from the hash-chained blocks;
//! 2. runs the detector on the recorded feature bytes with the model that
//!    scored them (the hash named in the stored verdict's explanation: the
//!    class's active model at the time, or the built-in one), as the
//!    endorsers did, and compares the verdict bytes with the stored ones;
//!    the summary fields (`anomalous`, `score_ppm`, `rules`) must agree with
//!    the verdict header. Installed models come from a directory of model
//!    files (a peer's `<data_dir>/models`, or any org's copy: the file
//!    name is the hash, and the bytes are checked against it).
//!
//! It works on a ledger directory that no peer has open: a stopped peer's
//! `<data_dir>/ledger` or a copy of it.

use cryptanet_chaincode::{Detector, ModelDetector};
use cryptanet_ledger::Ledger;
use cryptanet_sdk_verdict::decode_header;
use cryptanet_types::{codec, Envelope, ProposalResponsePayload, TxPayload};
use std::path::Path;

/// One reading whose verdict did not check out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mismatch {
    /// The state key (printable form).
    pub key: String,
    /// What differs.
    pub reason: String,
}

/// What an audit found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AuditReport {
    /// Readings examined.
    pub readings: usize,
    /// Of those, verdicts reproduced byte for byte and matching their block.
    pub reproduced: usize,
    /// Anomalous readings among the reproduced ones.
    pub anomalies: usize,
    /// Everything that did not check out.
    pub mismatches: Vec<Mismatch>,
    /// Ledger height audited.
    pub height: u64,
}

/// Errors that stop an audit before it can judge anything.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// The directory is not a ledger (or the models directory is missing).
    #[error(
        "no ledger or model directory at {0} (give a stopped peer's data_dir/ledger, or a copy)"
    )]
    Missing(std::path::PathBuf),
    /// The ledger could not be read (e.g. a running peer holds its lock).
    #[error("ledger: {0}")]
    Ledger(#[from] cryptanet_ledger::Error),
    /// The detector could not be built.
    #[error("detector: {0}")]
    Detector(#[from] cryptanet_chaincode::Error),
}

fn printable(key: &[u8]) -> String {
    key.iter()
        .map(|&b| if b == 0 { '/' } else { b as char })
        .collect()
}

/// Opens a ledger directory no peer has open.
pub fn open_ledger(path: &Path) -> Result<Ledger, AuditError> {
    if !path.join("CURRENT").is_file() {
        return Err(AuditError::Missing(path.to_owned()));
    }
    Ok(Ledger::open(path)?)
}

/// The model hash a stored verdict names in its explanation, if any.
fn scoring_model(verdict: &[u8]) -> Option<String> {
    let json = verdict.get(cryptanet_sdk::detect::VERDICT_HEADER_LEN..)?;
    let v: serde_json::Value = serde_json::from_slice(json).ok()?;
    v["model"].as_str().map(str::to_owned)
}

/// Audits the readings of chaincode `chaincode` in the ledger at `path`,
/// with installed models from `models` (plus the built-in one).
pub fn audit(
    path: &Path,
    chaincode: &str,
    models: Option<&Path>,
) -> Result<AuditReport, AuditError> {
    let ledger = open_ledger(path)?;
    let detector = match models {
        Some(dir) if dir.is_dir() => ModelDetector::with_store(dir)?,
        Some(dir) => return Err(AuditError::Missing(dir.to_owned())),
        None => ModelDetector::with_builtin()?,
    };
    let mut report = AuditReport {
        height: ledger.height(),
        ..AuditReport::default()
    };
    for entry in ledger.range(chaincode, b"", b"", usize::MAX)? {
        let Ok(record) = serde_json::from_slice::<serde_json::Value>(&entry.value) else {
            continue;
        };
        let (Some(features), Some(model)) =
            (record["features_hex"].as_str(), record["model"].as_str())
        else {
            continue; // not a reading
        };
        let verdict = stored_verdict(&record, &entry.value);
        report.readings += 1;
        let key = printable(&entry.key);
        let mut fail = |reason: String| {
            report.mismatches.push(Mismatch {
                key: key.clone(),
                reason,
            })
        };
        match written_by_block(&ledger, chaincode, &entry.key) {
            Ok(Some(value)) if value == entry.value => {}
            Ok(Some(_)) => {
                fail(format!(
                    "stored value differs from the write in block {}",
                    entry.version.block
                ));
                continue;
            }
            Ok(None) => {
                fail(format!(
                    "block {} has no write of this key",
                    entry.version.block
                ));
                continue;
            }
            Err(e) => {
                fail(format!("block {}: {e}", entry.version.block));
                continue;
            }
        }
        let Ok(features) = hex::decode(features) else {
            fail("features_hex is not hex".into());
            continue;
        };
        let stored = match verdict {
            Ok(v) => v,
            Err(reason) => {
                fail(reason);
                continue;
            }
        };
        // Score with the model that scored it; the class name only for
        // verdicts without an explanation.
        let model = scoring_model(&stored).unwrap_or_else(|| model.to_owned());
        if detector.model(&model).is_none() {
            fail(format!(
                "model {model} is not available to the auditor (give --models with its file)"
            ));
            continue;
        }
        let derived = match detector.detect(model.as_bytes(), &features) {
            Ok(v) => v,
            Err(e) => {
                fail(format!("detector refused the recorded input: {e}"));
                continue;
            }
        };
        if derived != stored {
            fail(format!(
                "verdict differs: stored {} bytes, re-derived {} bytes (first difference at byte {})",
                stored.len(),
                derived.len(),
                stored
                    .iter()
                    .zip(&derived)
                    .position(|(a, b)| a != b)
                    .unwrap_or(stored.len().min(derived.len()))
            ));
            continue;
        }
        let Some((is_anomaly, score, rules)) = decode_header(&derived) else {
            fail("verdict header does not decode".into());
            continue;
        };
        if record["anomalous"].as_bool() != Some(is_anomaly)
            || record["score_ppm"].as_u64() != Some(u64::from(score))
            || record["rules"].as_u64() != Some(u64::from(rules))
        {
            fail("summary fields disagree with the verdict".into());
            continue;
        }
        report.reproduced += 1;
        report.anomalies += usize::from(is_anomaly);
    }
    Ok(report)
}

/// The value the last committed transaction that wrote `key` put there,
/// read from its block.
fn written_by_block(
    ledger: &Ledger,
    ns: &str,
    key: &[u8],
) -> Result<Option<Vec<u8>>, Box<dyn std::error::Error>> {
    let Some(last) = ledger.history(ns, key, 1)?.into_iter().next() else {
        return Ok(None);
    };
    let block = ledger.block(last.version.block)?.ok_or("block missing")?;
    block.check_integrity()?;
    let bytes = block
        .data
        .get(last.version.tx as usize)
        .ok_or("transaction missing from its block")?;
    let envelope = Envelope::from_bytes(bytes)?;
    let payload: TxPayload = codec::decode(&envelope.payload)?;
    let response: ProposalResponsePayload = codec::decode(&payload.response_bytes)?;
    Ok(response
        .rwset
        .ns
        .iter()
        .filter(|n| n.namespace == ns)
        .flat_map(|n| n.writes.iter())
        .find(|w| w.key == key)
        .and_then(|w| w.value.clone()))
}

/// Decoding of the SDK verdict header.
mod cryptanet_sdk_verdict {
    /// `(is_anomaly, score_ppm, rules)` from a verdict's fixed header.
    pub fn decode_header(bytes: &[u8]) -> Option<(bool, u32, u32)> {
        let v = cryptanet_sdk::detect::Verdict::decode(bytes)?;
        Some((v.is_anomaly, v.score_ppm, v.rules))
    }
}

/// The verdict bytes a reading record holds: `verdict_hex` when present
/// (records whose explanation is not a JSON object, and records written
/// before the compact form), else the `verdict_header_hex` bytes followed
/// by the explanation's JSON text exactly as stored.
fn stored_verdict(record: &serde_json::Value, raw: &[u8]) -> Result<Vec<u8>, String> {
    if let Some(verdict) = record["verdict_hex"].as_str() {
        return hex::decode(verdict).map_err(|_| "verdict_hex is not hex".to_owned());
    }
    let Some(header) = record["verdict_header_hex"].as_str() else {
        return Err("the record holds neither verdict_hex nor verdict_header_hex".into());
    };
    let mut verdict =
        hex::decode(header).map_err(|_| "verdict_header_hex is not hex".to_owned())?;
    let fields: std::collections::HashMap<String, &serde_json::value::RawValue> =
        serde_json::from_slice(raw).map_err(|e| format!("explanation: {e}"))?;
    let explanation = fields
        .get("explanation")
        .ok_or_else(|| "the record has no explanation".to_owned())?;
    verdict.extend_from_slice(explanation.get().as_bytes());
    Ok(verdict)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::stored_verdict;

    fn verdict(json: &str) -> Result<Vec<u8>, String> {
        let record: serde_json::Value = serde_json::from_str(json).unwrap();
        stored_verdict(&record, json.as_bytes())
    }

    #[test]
    fn the_verdict_is_rebuilt_byte_for_byte_from_either_form() {
        // Compact: header hex, then the explanation's exact text (key
        // order and spacing kept, not re-serialized).
        let compact = r#"{"verdict_header_hex":"0101","explanation":{"z": 1,"a":[2]}}"#;
        assert_eq!(verdict(compact).unwrap(), b"\x01\x01{\"z\": 1,\"a\":[2]}");
        // The whole verdict in hex: older records, non-JSON explanations.
        let whole = r#"{"verdict_hex":"01007b7d","explanation":null}"#;
        assert_eq!(verdict(whole).unwrap(), b"\x01\x00{}");
        assert!(verdict(r#"{"explanation":{}}"#).is_err());
        assert!(verdict(r#"{"verdict_header_hex":"0x","explanation":{}}"#).is_err());
    }
}
