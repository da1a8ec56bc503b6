//! Supply-chain features from raw, integer readings.
//!
//! Inputs cross the wasm boundary as integers (milli-°C, milli-%RH, item
//! counts, micro-degrees, Unix seconds), so every peer starts from the same
//! bits; the arithmetic below is a fixed sequence of IEEE operations and
//! `libm` calls, so every peer also ends with the same bits.
//!
//! Temperatures and humidities are expressed relative to the product's spec
//! range (0 = centre, ±1 = edge), which lets one model serve every product.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

/// How many previous readings are looked at (older ones are ignored).
pub const HISTORY: usize = 16;
/// Kilometres per degree of latitude (mean Earth radius 6371.0088 km).
const KM_PER_DEG: f64 = 111.195_080_233_532_9;

/// Feature names, in vector order.
pub const FEATURE_NAMES: [&str; 9] = [
    "temperature",
    "temperature_delta",
    "humidity",
    "humidity_delta",
    "quantity_ratio",
    "route_deviation_km",
    "hour_of_day",
    "gap_ratio",
    "stuck_count",
];

/// Index of each feature in [`FEATURE_NAMES`].
pub mod idx {
    /// Position in spec range.
    pub const TEMPERATURE: usize = 0;
    /// Change since the previous reading, in spec half-widths.
    pub const TEMPERATURE_DELTA: usize = 1;
    /// Position in spec range.
    pub const HUMIDITY: usize = 2;
    /// Change since the previous reading, in spec half-widths.
    pub const HUMIDITY_DELTA: usize = 3;
    /// Observed / registered quantity.
    pub const QUANTITY_RATIO: usize = 4;
    /// Distance from the planned route.
    pub const ROUTE_DEVIATION: usize = 5;
    /// Local hour of day.
    pub const HOUR: usize = 6;
    /// Time since the previous reading over the registered reading interval.
    pub const GAP: usize = 7;
    /// Consecutive previous readings identical to this one.
    pub const STUCK: usize = 8;
}

/// A product's registered normal ranges.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductSpec {
    /// Product name.
    pub name: String,
    /// Lowest allowed temperature, milli-°C.
    pub temp_min_mc: i32,
    /// Highest allowed temperature, milli-°C.
    pub temp_max_mc: i32,
    /// Lowest allowed relative humidity, milli-%RH.
    pub hum_min_mpct: i32,
    /// Highest allowed relative humidity, milli-%RH.
    pub hum_max_mpct: i32,
    /// Smallest normal shipment quantity.
    pub qty_min: u32,
    /// Largest normal shipment quantity.
    pub qty_max: u32,
}

/// A point in micro-degrees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct GeoPoint {
    /// Latitude × 10⁶.
    pub lat_ue6: i32,
    /// Longitude × 10⁶.
    pub lon_ue6: i32,
}

/// What was registered for one shipment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShipmentSpec {
    /// The product and its ranges.
    pub product: ProductSpec,
    /// Quantity registered at dispatch.
    pub registered_quantity: u32,
    /// Planned route as a polyline (at least one point).
    pub route: Vec<GeoPoint>,
    /// Offset of local time from UTC, seconds.
    pub utc_offset_s: i32,
    /// Registered interval between readings, seconds (> 0).
    pub reading_interval_s: u32,
}

/// One sensor/scan reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reading {
    /// Unix time, seconds.
    pub timestamp_s: i64,
    /// Temperature, milli-°C.
    pub temperature_mc: i32,
    /// Relative humidity, milli-%RH.
    pub humidity_mpct: i32,
    /// Counted quantity.
    pub quantity: u32,
    /// Position.
    pub location: GeoPoint,
}

/// Raw inputs of one verdict: spec, recent history (oldest first), current reading.
#[derive(Debug, Clone, Copy)]
pub struct ReadingContext<'a> {
    /// The shipment's registration.
    pub spec: &'a ShipmentSpec,
    /// Earlier readings of the same shipment, oldest first.
    pub previous: &'a [Reading],
    /// The reading to judge.
    pub current: &'a Reading,
}

/// A feature vector in [`FEATURE_NAMES`] order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureVector {
    /// The values.
    pub values: Vec<f64>,
}

/// Checks a shipment spec.
pub fn check_spec(spec: &ShipmentSpec) -> Result<()> {
    let p = &spec.product;
    if p.temp_max_mc <= p.temp_min_mc {
        return Err(Error::BadReading {
            field: "temp_max_mc",
            value: p.temp_max_mc as i64,
        });
    }
    if p.hum_max_mpct <= p.hum_min_mpct {
        return Err(Error::BadReading {
            field: "hum_max_mpct",
            value: p.hum_max_mpct as i64,
        });
    }
    if spec.registered_quantity == 0 {
        return Err(Error::BadReading {
            field: "registered_quantity",
            value: 0,
        });
    }
    if spec.reading_interval_s == 0 {
        return Err(Error::BadReading {
            field: "reading_interval_s",
            value: 0,
        });
    }
    if spec.route.is_empty() {
        return Err(Error::BadReading {
            field: "route",
            value: 0,
        });
    }
    Ok(())
}

/// The last `HISTORY` previous readings, checked to be in time order and not after `current`.
pub fn recent<'a>(previous: &'a [Reading], current: &Reading) -> Result<&'a [Reading]> {
    let start = previous.len().saturating_sub(HISTORY);
    let recent = &previous[start..];
    let mut t = i64::MIN;
    for r in recent {
        if r.timestamp_s < t || r.timestamp_s > current.timestamp_s {
            return Err(Error::BadReading {
                field: "timestamp_s",
                value: r.timestamp_s,
            });
        }
        t = r.timestamp_s;
    }
    Ok(recent)
}

/// Distance in km from `p` to the polyline `route` (equirectangular
/// projection around `p`'s latitude; accurate to well under 1 % at route scale).
pub fn route_distance_km(route: &[GeoPoint], p: GeoPoint) -> f64 {
    let lat0 = p.lat_ue6 as f64 * 1e-6;
    let kx = libm::cos(lat0.to_radians()) * KM_PER_DEG;
    let proj = |g: GeoPoint| {
        (
            (g.lon_ue6 as f64 - p.lon_ue6 as f64) * 1e-6 * kx,
            (g.lat_ue6 as f64 - p.lat_ue6 as f64) * 1e-6 * KM_PER_DEG,
        )
    };
    let mut best = f64::INFINITY;
    let mut prev: Option<(f64, f64)> = None;
    for &g in route {
        let b = proj(g);
        let d = match prev {
            None => libm::sqrt(b.0 * b.0 + b.1 * b.1),
            Some(a) => {
                // Point (origin) to segment a-b.
                let (vx, vy) = (b.0 - a.0, b.1 - a.1);
                let len2 = vx * vx + vy * vy;
                let t = if len2 > 0.0 {
                    (-(a.0 * vx + a.1 * vy) / len2).clamp(0.0, 1.0)
                } else {
                    0.0
                };
                let (cx, cy) = (a.0 + t * vx, a.1 + t * vy);
                libm::sqrt(cx * cx + cy * cy)
            }
        };
        best = best.min(d);
        prev = Some(b);
    }
    if best.is_finite() {
        best
    } else {
        0.0
    }
}

/// Seconds since local midnight.
pub fn local_second_of_day(timestamp_s: i64, utc_offset_s: i32) -> i64 {
    timestamp_s
        .saturating_add(utc_offset_s as i64)
        .rem_euclid(86_400)
}

/// Number of consecutive previous readings (newest first) with exactly the
/// current temperature and humidity.
pub fn stuck_count(recent: &[Reading], current: &Reading) -> usize {
    recent
        .iter()
        .rev()
        .take_while(|r| {
            r.temperature_mc == current.temperature_mc && r.humidity_mpct == current.humidity_mpct
        })
        .count()
}

/// Builds the feature vector of `current` given the shipment and its history.
pub fn from_readings(
    spec: &ShipmentSpec,
    previous: &[Reading],
    current: &Reading,
) -> Result<FeatureVector> {
    check_spec(spec)?;
    let recent = recent(previous, current)?;
    let p = &spec.product;
    let t_mid = (p.temp_min_mc as f64 + p.temp_max_mc as f64) / 2.0;
    let t_half = (p.temp_max_mc as f64 - p.temp_min_mc as f64) / 2.0;
    let h_mid = (p.hum_min_mpct as f64 + p.hum_max_mpct as f64) / 2.0;
    let h_half = (p.hum_max_mpct as f64 - p.hum_min_mpct as f64) / 2.0;
    let c = current;
    let last = recent.last();
    let t_delta = last.map_or(0.0, |l| {
        (c.temperature_mc as f64 - l.temperature_mc as f64) / t_half
    });
    let h_delta = last.map_or(0.0, |l| {
        (c.humidity_mpct as f64 - l.humidity_mpct as f64) / h_half
    });
    // The first reading has no gap: it is taken as exactly on schedule.
    let gap_ratio = last.map_or(1.0, |l| {
        c.timestamp_s.saturating_sub(l.timestamp_s) as f64 / spec.reading_interval_s as f64
    });
    let values = vec![
        (c.temperature_mc as f64 - t_mid) / t_half,
        t_delta,
        (c.humidity_mpct as f64 - h_mid) / h_half,
        h_delta,
        c.quantity as f64 / spec.registered_quantity as f64,
        route_distance_km(&spec.route, c.location),
        local_second_of_day(c.timestamp_s, spec.utc_offset_s) as f64 / 3600.0,
        gap_ratio,
        stuck_count(recent, c) as f64,
    ];
    Ok(FeatureVector { values })
}

/// [`from_readings`] on a [`ReadingContext`].
pub fn from_context(ctx: &ReadingContext<'_>) -> Result<FeatureVector> {
    from_readings(ctx.spec, ctx.previous, ctx.current)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn vaccine_spec() -> ShipmentSpec {
        ShipmentSpec {
            product: ProductSpec {
                name: "Temperature-Sensitive Medicine".into(),
                temp_min_mc: 2_000,
                temp_max_mc: 8_000,
                hum_min_mpct: 30_000,
                hum_max_mpct: 45_000,
                qty_min: 50,
                qty_max: 200,
            },
            registered_quantity: 100,
            route: vec![
                GeoPoint {
                    lat_ue6: 50_000_000,
                    lon_ue6: 4_000_000,
                },
                GeoPoint {
                    lat_ue6: 50_000_000,
                    lon_ue6: 5_000_000,
                },
            ],
            utc_offset_s: 3600,
            reading_interval_s: 600,
        }
    }

    pub(crate) fn reading(ts: i64, t: i32, h: i32, q: u32, lat: i32, lon: i32) -> Reading {
        Reading {
            timestamp_s: ts,
            temperature_mc: t,
            humidity_mpct: h,
            quantity: q,
            location: GeoPoint {
                lat_ue6: lat,
                lon_ue6: lon,
            },
        }
    }

    #[test]
    fn features_have_the_documented_meaning() {
        let spec = vaccine_spec();
        let prev = [reading(36_000, 5_000, 37_500, 100, 50_000_000, 4_500_000)];
        // 10 min later, 14 °C, 0.1° north of the route (≈ 11.1 km), 60 units.
        let cur = reading(36_600, 14_000, 37_500, 60, 50_100_000, 4_500_000);
        let f = from_readings(&spec, &prev, &cur).unwrap().values;
        assert_eq!(f.len(), FEATURE_NAMES.len());
        assert!((f[idx::TEMPERATURE] - 3.0).abs() < 1e-12); // (14-5)/3
        assert!((f[idx::TEMPERATURE_DELTA] - 3.0).abs() < 1e-12);
        assert_eq!(f[idx::HUMIDITY], 0.0);
        assert!((f[idx::QUANTITY_RATIO] - 0.6).abs() < 1e-12);
        assert!((f[idx::ROUTE_DEVIATION] - 11.1195).abs() < 1e-3);
        assert!((f[idx::HOUR] - (11.0 + 10.0 / 60.0)).abs() < 1e-12); // 10:10 UTC + 1 h
        assert!((f[idx::GAP] - 1.0).abs() < 1e-12);
        let first = from_readings(&spec, &[], &cur).unwrap().values;
        assert_eq!(first[idx::GAP], 1.0);
        assert_eq!(f[idx::STUCK], 0.0);
    }

    #[test]
    fn bad_inputs_are_typed_errors() {
        let spec = vaccine_spec();
        let cur = reading(100, 5_000, 37_500, 100, 50_000_000, 4_500_000);
        let later = reading(200, 5_000, 37_500, 100, 50_000_000, 4_500_000);
        assert!(matches!(
            from_readings(&spec, &[later], &cur),
            Err(Error::BadReading {
                field: "timestamp_s",
                ..
            })
        ));
        let mut bad = spec.clone();
        bad.route.clear();
        assert!(from_readings(&bad, &[], &cur).is_err());
        let mut bad = spec;
        bad.product.temp_max_mc = bad.product.temp_min_mc;
        assert!(from_readings(&bad, &[], &cur).is_err());
    }
}
