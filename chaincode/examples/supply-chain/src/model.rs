//! Records stored as JSON in world state.

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// Allowed environmental ranges of a shipment, integers only.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Spec {
    /// Minimum temperature, m°C (e.g. 2000 for 2 °C).
    pub temp_min_mc: i64,
    /// Maximum temperature, m°C.
    pub temp_max_mc: i64,
    /// Minimum relative humidity, ‰ (e.g. 300 for 30 %RH).
    pub humidity_min_pm: i64,
    /// Maximum relative humidity, ‰.
    pub humidity_max_pm: i64,
}

/// A registered shipment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shipment {
    /// Shipment id.
    pub id: String,
    /// Product description.
    pub product: String,
    /// Declared quantity.
    pub quantity: u64,
    /// Origin.
    pub origin: String,
    /// Destination.
    pub destination: String,
    /// MSP id of the org currently holding the goods.
    pub custodian: String,
    /// MSP id of the org that registered the shipment.
    pub registered_by: String,
    /// Environmental spec.
    pub spec: Spec,
}

/// One sensor reading and the endorsed verdict about it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Reading {
    /// Shipment id.
    pub shipment: String,
    /// Sensor timestamp, unix ms.
    pub timestamp_ms: u64,
    /// Temperature, m°C.
    pub temp_mc: i64,
    /// Relative humidity, ‰.
    pub humidity_pm: i64,
    /// Measured quantity.
    pub quantity: u64,
    /// Free-text location.
    pub location: String,
    /// MSP id of the recording custodian.
    pub recorded_by: String,
    /// True when the detector flagged the reading.
    pub anomalous: bool,
    /// Anomaly score, ppm.
    pub score_ppm: u32,
    /// Breached hard rules (SDK `detect::rule` bits).
    pub rules: u32,
    /// Model the detector was asked for (alias or hash).
    pub model: String,
    /// The exact feature bytes sent to the detector, hex (what an auditor
    /// re-scores).
    pub features_hex: String,
    /// The verdict's fixed header (SDK `detect::VERDICT_HEADER_LEN` bytes:
    /// version, is_anomaly, score, rules), hex. With [`Self::explanation`]
    /// it is the detector's whole verdict: header bytes, then the
    /// explanation's bytes exactly as stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verdict_header_hex: Option<String>,
    /// The detector's whole verdict, hex: only when its explanation is not
    /// a JSON object (and in records written before `verdict_header_hex`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verdict_hex: Option<String>,
    /// The explanation part of the verdict (model hash, score, threshold,
    /// top features, breached rules): the detector's JSON bytes verbatim,
    /// or `null` when `verdict_hex` holds the verdict.
    pub explanation: Box<RawValue>,
}

/// What `RecordReading` returns: the verdict on the reading. The full
/// reading (features and verdict bytes for audits) is in the write set.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Recorded {
    /// Shipment id.
    pub shipment: String,
    /// Reading timestamp, unix ms.
    pub timestamp_ms: u64,
    /// True when the detector flagged the reading.
    pub anomalous: bool,
    /// Anomaly score, ppm.
    pub score_ppm: u32,
    /// Breached hard rules (SDK `detect::rule` bits).
    pub rules: u32,
    /// The explanation part of the verdict (see [`Reading::explanation`]).
    pub explanation: Box<RawValue>,
}

/// Payload of the `AnomalyDetected` event.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AnomalyEvent {
    /// Shipment id.
    pub shipment: String,
    /// Reading timestamp, unix ms.
    pub timestamp_ms: u64,
    /// Anomaly score, ppm.
    pub score_ppm: u32,
    /// Breached hard rules.
    pub rules: u32,
    /// Why: the detector's explanation (see [`Reading::explanation`]).
    pub explanation: Box<RawValue>,
}
