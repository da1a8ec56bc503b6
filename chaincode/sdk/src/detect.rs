//! The byte formats of `detect(model, features) -> verdict`.
//!
//! Chaincode passes raw sensor values as integers (no floats cross the ABI)
//! together with the shipment's specification, so the detector can compute
//! its own features; the verdict comes back as a small fixed header the
//! chaincode can act on, followed by detector-specific explanation bytes.
//!
//! Features (version 1): the byte `1`, then nine little-endian `i64`s in this
//! order: temperature (m°C), relative humidity (‰), measured quantity,
//! expected quantity, spec min/max temperature (m°C), spec min/max humidity
//! (‰), reading timestamp (unix ms). 73 bytes.
//!
//! Verdict (version 1): the byte `1`, `is_anomaly` (0 or 1), score in parts
//! per million (`u32` LE), breached hard rules ([`rule`] bits, `u32` LE),
//! then optional explanation bytes.

use alloc::vec::Vec;

/// Format version of [`Features`] and [`Verdict`].
pub const FORMAT_V1: u8 = 1;
/// Encoded length of [`Features`].
pub const FEATURES_LEN: usize = 1 + 9 * 8;
/// Length of the fixed [`Verdict`] header.
pub const VERDICT_HEADER_LEN: usize = 10;

/// Hard-rule bits of [`Verdict::rules`].
pub mod rule {
    /// Temperature above the spec maximum.
    pub const TEMP_HIGH: u32 = 1;
    /// Temperature below the spec minimum.
    pub const TEMP_LOW: u32 = 1 << 1;
    /// Humidity above the spec maximum.
    pub const HUMIDITY_HIGH: u32 = 1 << 2;
    /// Humidity below the spec minimum.
    pub const HUMIDITY_LOW: u32 = 1 << 3;
    /// Measured quantity differs from the expected quantity.
    pub const QUANTITY_MISMATCH: u32 = 1 << 4;
}

/// What chaincode tells the detector about one reading.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Features {
    /// Temperature, milli-degrees Celsius.
    pub temp_mc: i64,
    /// Relative humidity, per mille.
    pub humidity_pm: i64,
    /// Measured quantity.
    pub quantity: i64,
    /// Quantity the shipment declared.
    pub expected_quantity: i64,
    /// Spec minimum temperature, m°C.
    pub temp_min_mc: i64,
    /// Spec maximum temperature, m°C.
    pub temp_max_mc: i64,
    /// Spec minimum humidity, ‰.
    pub humidity_min_pm: i64,
    /// Spec maximum humidity, ‰.
    pub humidity_max_pm: i64,
    /// Reading timestamp, unix ms.
    pub timestamp_ms: i64,
}

impl Features {
    /// Encodes in format version 1.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(FEATURES_LEN);
        out.push(FORMAT_V1);
        for v in self.fields() {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out
    }

    /// Decodes format version 1; `None` when malformed.
    pub fn decode(bytes: &[u8]) -> Option<Features> {
        let (&version, rest) = bytes.split_first()?;
        if version != FORMAT_V1 || rest.len() != 9 * 8 {
            return None;
        }
        let mut v = [0i64; 9];
        for (slot, chunk) in v.iter_mut().zip(rest.chunks_exact(8)) {
            let mut b = [0u8; 8];
            b.copy_from_slice(chunk);
            *slot = i64::from_le_bytes(b);
        }
        Some(Features::from_fields(v))
    }

    /// The nine fields in declaration (and wire) order.
    pub fn from_fields(v: [i64; 9]) -> Features {
        Features {
            temp_mc: v[0],
            humidity_pm: v[1],
            quantity: v[2],
            expected_quantity: v[3],
            temp_min_mc: v[4],
            temp_max_mc: v[5],
            humidity_min_pm: v[6],
            humidity_max_pm: v[7],
            timestamp_ms: v[8],
        }
    }

    /// The nine fields in declaration (and wire) order.
    pub fn fields(&self) -> [i64; 9] {
        [
            self.temp_mc,
            self.humidity_pm,
            self.quantity,
            self.expected_quantity,
            self.temp_min_mc,
            self.temp_max_mc,
            self.humidity_min_pm,
            self.humidity_max_pm,
            self.timestamp_ms,
        ]
    }
}

/// The fixed part of a detector's answer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Verdict {
    /// True when the reading is anomalous.
    pub is_anomaly: bool,
    /// Anomaly score, parts per million.
    pub score_ppm: u32,
    /// Breached hard rules, [`rule`] bits.
    pub rules: u32,
}

impl Verdict {
    /// Encodes the version-1 header (no explanation bytes).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(VERDICT_HEADER_LEN);
        out.push(FORMAT_V1);
        out.push(u8::from(self.is_anomaly));
        out.extend_from_slice(&self.score_ppm.to_le_bytes());
        out.extend_from_slice(&self.rules.to_le_bytes());
        out
    }

    /// Decodes the header of a version-1 verdict, ignoring explanation bytes.
    pub fn decode(bytes: &[u8]) -> Option<Verdict> {
        if bytes.len() < VERDICT_HEADER_LEN || bytes[0] != FORMAT_V1 || bytes[1] > 1 {
            return None;
        }
        let mut s = [0u8; 4];
        s.copy_from_slice(&bytes[2..6]);
        let mut r = [0u8; 4];
        r.copy_from_slice(&bytes[6..10]);
        Some(Verdict {
            is_anomaly: bytes[1] == 1,
            score_ppm: u32::from_le_bytes(s),
            rules: u32::from_le_bytes(r),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects() {
        let f = Features {
            temp_mc: -1500,
            humidity_pm: 420,
            quantity: 100,
            expected_quantity: 100,
            temp_min_mc: 2000,
            temp_max_mc: 8000,
            humidity_min_pm: 300,
            humidity_max_pm: 450,
            timestamp_ms: 1_700_000_000_000,
        };
        let b = f.encode();
        assert_eq!(b.len(), FEATURES_LEN);
        assert_eq!(Features::decode(&b), Some(f));
        assert_eq!(Features::decode(&b[..b.len() - 1]), None);
        let v = Verdict {
            is_anomaly: true,
            score_ppm: 999_000,
            rules: rule::TEMP_LOW,
        };
        let mut vb = v.encode();
        vb.extend_from_slice(b"explanation");
        assert_eq!(Verdict::decode(&vb), Some(v));
        vb[1] = 7;
        assert_eq!(Verdict::decode(&vb), None);
    }
}
