//! Recording readings (with a detector verdict) and resolving anomalies.

use crate::keys;
use crate::model::{AnomalyEvent, Reading, Recorded, Shipment};
use crate::shipment::require_custodian;
use cryptanet_sdk::detect::{Features, Verdict, VERDICT_HEADER_LEN};
use cryptanet_sdk::{abi, Context, Error, Result};
use serde_json::value::RawValue;

/// Detection model this chaincode asks for.
pub const MODEL: &[u8] = b"cold-chain";
/// Name of the event emitted for anomalous readings.
pub const ANOMALY_EVENT: &str = "AnomalyDetected";

/// `RecordReading(id, timestamp_ms, temp_mc, humidity_pm, quantity, location)`.
pub fn record(ctx: &mut Context) -> Result<Vec<u8>> {
    let id: String = ctx.arg(0)?;
    let timestamp_ms: u64 = ctx.arg(1)?;
    let temp_mc: i64 = ctx.arg(2)?;
    let humidity_pm: i64 = ctx.arg(3)?;
    let quantity: u64 = ctx.arg(4)?;
    let location: String = ctx.arg(5)?;

    let shipment: Shipment = ctx.must_get_json(&keys::shipment(&id)?, "shipment")?;
    require_custodian(ctx, &shipment)?;
    let key = keys::reading(&id, timestamp_ms)?;
    if ctx.get_state(&key)?.is_some() {
        return Err(Error::Invalid {
            reason: format!("reading of {id} at {timestamp_ms} already recorded"),
        });
    }

    let features = Features {
        temp_mc,
        humidity_pm,
        quantity: clamp(quantity),
        expected_quantity: clamp(shipment.quantity),
        temp_min_mc: shipment.spec.temp_min_mc,
        temp_max_mc: shipment.spec.temp_max_mc,
        humidity_min_pm: shipment.spec.humidity_min_pm,
        humidity_max_pm: shipment.spec.humidity_max_pm,
        timestamp_ms: clamp(timestamp_ms),
    };
    let features = features.encode();
    let raw = ctx.detect(MODEL, &features)?;
    let verdict = Verdict::decode(&raw).ok_or(Error::Host {
        code: abi::ERR_DETECT,
    })?;
    // After the fixed header the detector explains itself in JSON, kept
    // byte for byte (an auditor re-derives exactly these bytes).
    let (header, tail) = raw.split_at(VERDICT_HEADER_LEN.min(raw.len()));
    let compact = core::str::from_utf8(tail)
        .ok()
        // An object with no surrounding whitespace: stored verbatim, it
        // reads back as exactly the same text.
        .filter(|t| t.starts_with('{') && t.ends_with('}'))
        .and_then(|t| RawValue::from_string(t.into()).ok());
    let (verdict_header_hex, verdict_hex, explanation) = match compact {
        Some(explanation) => (Some(hex(header)), None, explanation),
        None => (None, Some(hex(&raw)), RawValue::from_string("null".into())?),
    };

    let reading = Reading {
        shipment: id.clone(),
        timestamp_ms,
        temp_mc,
        humidity_pm,
        quantity,
        location,
        recorded_by: ctx.creator_msp_id().into(),
        anomalous: verdict.is_anomaly,
        score_ppm: verdict.score_ppm,
        rules: verdict.rules,
        model: String::from_utf8_lossy(MODEL).into_owned(),
        features_hex: hex(&features),
        verdict_header_hex,
        verdict_hex,
        explanation,
    };
    ctx.put_json(&key, &reading)?;
    let recorded = Recorded {
        shipment: id.clone(),
        timestamp_ms,
        anomalous: verdict.is_anomaly,
        score_ppm: verdict.score_ppm,
        rules: verdict.rules,
        explanation: reading.explanation,
    };
    if verdict.is_anomaly {
        let event = AnomalyEvent {
            shipment: id,
            timestamp_ms,
            score_ppm: verdict.score_ppm,
            rules: verdict.rules,
            explanation: recorded.explanation.clone(),
        };
        let payload = serde_json::to_vec(&event)?;
        ctx.put_state(&keys::anomaly(&recorded.shipment, timestamp_ms)?, &payload)?;
        ctx.set_event(ANOMALY_EVENT, &payload)?;
    }
    Ok(serde_json::to_vec(&recorded)?)
}

/// `ResolveAnomaly(id, timestamp_ms)`: the custodian closes an open anomaly.
pub fn resolve(ctx: &mut Context) -> Result<Vec<u8>> {
    let id: String = ctx.arg(0)?;
    let timestamp_ms: u64 = ctx.arg(1)?;
    let shipment: Shipment = ctx.must_get_json(&keys::shipment(&id)?, "shipment")?;
    require_custodian(ctx, &shipment)?;
    let key = keys::anomaly(&id, timestamp_ms)?;
    if ctx.get_state(&key)?.is_none() {
        return Err(Error::NotFound {
            what: "open anomaly".into(),
        });
    }
    ctx.del_state(&key)?;
    Ok(Vec::new())
}

fn clamp(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 15)] as char);
    }
    s
}
