//! A seeded, labelled, streaming simulator of supply-chain readings.
//!
//! Each shipment carries one of nine products with its registered ranges, a
//! registered quantity, a planned route (four waypoints), and a day trip
//! starting between 06:00 and 12:00 local with a reading every 10 min ± 90 s.
//! Temperature and humidity follow a set-point inside the spec plus AR(1)
//! noise. With probability `anomaly_rate` one anomaly of a uniformly chosen
//! [`AnomalyKind`] is injected; every affected reading carries that label.

use crate::features::{GeoPoint, ProductSpec, Reading, ShipmentSpec};
use crate::rng::Rng;
use serde::{Deserialize, Serialize};

/// Injected anomaly types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum AnomalyKind {
    /// One reading +5 to +25 °C.
    TemperatureSpike,
    /// Gradual drift towards a warm ambient over several readings.
    CoolingFailure,
    /// Humidity 10–25 %RH outside the range for 1–3 readings.
    HumidityExcursion,
    /// Quantity ×0.05–0.7 from some reading on.
    QuantityShrinkage,
    /// 1–4 readings 5–50 km off the planned route.
    OffRoute,
    /// A 1–6 h gap, or a final scan in the small hours of the next day.
    Timing,
    /// Stuck values (labelled from the 3rd repeat) or an impossible value.
    SensorFault,
}

impl AnomalyKind {
    /// All kinds in order.
    pub const ALL: [AnomalyKind; 7] = [
        AnomalyKind::TemperatureSpike,
        AnomalyKind::CoolingFailure,
        AnomalyKind::HumidityExcursion,
        AnomalyKind::QuantityShrinkage,
        AnomalyKind::OffRoute,
        AnomalyKind::Timing,
        AnomalyKind::SensorFault,
    ];

    /// Short name.
    pub fn name(self) -> &'static str {
        match self {
            AnomalyKind::TemperatureSpike => "temperature_spike",
            AnomalyKind::CoolingFailure => "cooling_failure",
            AnomalyKind::HumidityExcursion => "humidity_excursion",
            AnomalyKind::QuantityShrinkage => "quantity_shrinkage",
            AnomalyKind::OffRoute => "off_route",
            AnomalyKind::Timing => "timing",
            AnomalyKind::SensorFault => "sensor_fault",
        }
    }

    /// Feature indices that carry this anomaly when it is a single-feature
    /// anomaly (`None` for sensor faults, which move several at once).
    pub fn injected_features(self) -> Option<&'static [usize]> {
        use crate::features::idx::*;
        match self {
            AnomalyKind::TemperatureSpike | AnomalyKind::CoolingFailure => {
                Some(&[TEMPERATURE, TEMPERATURE_DELTA])
            }
            AnomalyKind::HumidityExcursion => Some(&[HUMIDITY, HUMIDITY_DELTA]),
            AnomalyKind::QuantityShrinkage => Some(&[QUANTITY_RATIO]),
            AnomalyKind::OffRoute => Some(&[ROUTE_DEVIATION]),
            AnomalyKind::Timing => Some(&[HOUR, GAP]),
            AnomalyKind::SensorFault => None,
        }
    }
}

/// Products and their registered ranges (quantity, °C, %RH) from the issue.
pub fn products() -> Vec<ProductSpec> {
    let p = |name: &str, q: (u32, u32), t: (i32, i32), h: (i32, i32)| ProductSpec {
        name: name.to_string(),
        temp_min_mc: t.0 * 1000,
        temp_max_mc: t.1 * 1000,
        hum_min_mpct: h.0 * 1000,
        hum_max_mpct: h.1 * 1000,
        qty_min: q.0,
        qty_max: q.1,
    };
    vec![
        p("Premium Coffee Beans", (500, 2000), (18, 25), (45, 65)),
        p("Frozen Food", (200, 800), (-18, -12), (40, 60)),
        p("Fresh Produce", (300, 1200), (2, 8), (85, 95)),
        p("Sensitive Electronics", (50, 300), (18, 24), (30, 50)),
        p("Pharmaceuticals", (100, 600), (15, 25), (30, 50)),
        p(
            "Temperature-Sensitive Medicine",
            (50, 200),
            (2, 8),
            (30, 45),
        ),
        p("Industrial Components", (200, 1000), (10, 35), (40, 70)),
        p("Clothing", (800, 3000), (18, 28), (45, 65)),
        p("Automotive Parts", (100, 800), (15, 30), (40, 65)),
    ]
}

/// A reading with its ground truth.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LabelledReading {
    /// The reading.
    pub reading: Reading,
    /// The injected anomaly affecting it, if any.
    pub label: Option<AnomalyKind>,
}

/// One simulated shipment.
#[derive(Debug, Clone, PartialEq)]
pub struct Shipment {
    /// Sequence number in the stream.
    pub id: u64,
    /// Registration.
    pub spec: ShipmentSpec,
    /// Readings in time order.
    pub readings: Vec<LabelledReading>,
}

/// Simulator settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SimConfig {
    /// Probability that a shipment gets an anomaly.
    pub anomaly_rate: f64,
    /// Only inject this kind (`None` = uniform over all kinds).
    pub only: Option<AnomalyKind>,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            anomaly_rate: 0.3,
            only: None,
        }
    }
}

/// An endless, seeded stream of shipments.
#[derive(Debug, Clone)]
pub struct Simulator {
    rng: Rng,
    cfg: SimConfig,
    next_id: u64,
    products: Vec<ProductSpec>,
}

const DAY0: i64 = 1_704_067_200; // 2024-01-01T00:00:00Z

fn lerp(a: GeoPoint, b: GeoPoint, t: f64) -> (f64, f64) {
    (
        a.lat_ue6 as f64 + (b.lat_ue6 as f64 - a.lat_ue6 as f64) * t,
        a.lon_ue6 as f64 + (b.lon_ue6 as f64 - a.lon_ue6 as f64) * t,
    )
}

impl Simulator {
    /// A stream determined entirely by `seed` and `cfg`.
    pub fn new(seed: u64, cfg: SimConfig) -> Simulator {
        Simulator {
            rng: Rng::new(seed),
            cfg,
            next_id: 0,
            products: products(),
        }
    }

    fn shipment(&mut self) -> Shipment {
        let r = &mut self.rng;
        let id = self.next_id;
        self.next_id += 1;
        let product = self.products[r.below(self.products.len())].clone();
        let qty =
            product.qty_min + r.below((product.qty_max - product.qty_min + 1) as usize) as u32;
        // Route: origin in western/central Europe, 1–4° away, 2 bent waypoints.
        let o = (r.range_f64(45.0, 55.0), r.range_f64(0.0, 20.0));
        let (dlat, dlon) = (r.range_f64(-2.0, 2.0), r.range_f64(1.0, 4.0));
        let mut route = Vec::new();
        for k in 0..4 {
            let t = k as f64 / 3.0;
            let bend = if k == 0 || k == 3 {
                0.0
            } else {
                r.range_f64(-0.1, 0.1)
            };
            route.push(GeoPoint {
                lat_ue6: ((o.0 + dlat * t + bend) * 1e6) as i32,
                lon_ue6: ((o.1 + dlon * t) * 1e6) as i32,
            });
        }
        let utc_offset_s = 3600 * (r.below(3) as i32);
        let spec = ShipmentSpec {
            product,
            registered_quantity: qty,
            route,
            utc_offset_s,
            reading_interval_s: 600,
        };
        let n = 24 + r.below(37);
        let day = r.below(365) as i64;
        let start_local = 6 * 3600 + r.below(6 * 3600) as i64;
        let mut ts = DAY0 + day * 86_400 + start_local - utc_offset_s as i64;
        let p = &spec.product;
        let t_lo = p.temp_min_mc as f64;
        let t_w = (p.temp_max_mc - p.temp_min_mc) as f64;
        let h_lo = p.hum_min_mpct as f64;
        let h_w = (p.hum_max_mpct - p.hum_min_mpct) as f64;
        let t_set = t_lo + t_w * r.range_f64(0.3, 0.7);
        let h_set = h_lo + h_w * r.range_f64(0.3, 0.7);
        let (mut et, mut eh) = (0.0, 0.0);
        let mut readings = Vec::with_capacity(n);
        for i in 0..n {
            if i > 0 {
                ts += 600 + r.below(181) as i64 - 90;
            }
            et = 0.8 * et + 0.6 * 0.06 * t_w * r.normal();
            eh = 0.8 * eh + 0.6 * 0.05 * h_w * r.normal();
            // Position along the 3-segment route plus ~50 m GPS noise.
            let f = i as f64 / (n - 1) as f64 * 3.0;
            let seg = (f as usize).min(2);
            let (lat, lon) = lerp(spec.route[seg], spec.route[seg + 1], f - seg as f64);
            readings.push(LabelledReading {
                reading: Reading {
                    timestamp_s: ts,
                    temperature_mc: libm::round(t_set + et) as i32,
                    humidity_mpct: libm::round(h_set + eh) as i32,
                    quantity: qty,
                    location: GeoPoint {
                        lat_ue6: (lat + 450.0 * r.normal()) as i32,
                        lon_ue6: (lon + 700.0 * r.normal()) as i32,
                    },
                },
                label: None,
            });
        }
        let mut s = Shipment { id, spec, readings };
        if self.rng.chance(self.cfg.anomaly_rate) {
            let kind = self
                .cfg
                .only
                .unwrap_or(AnomalyKind::ALL[self.rng.below(AnomalyKind::ALL.len())]);
            inject(&mut self.rng, &mut s, kind);
        }
        s
    }
}

/// Injects `kind` into `s`, labelling affected readings.
fn inject(r: &mut Rng, s: &mut Shipment, kind: AnomalyKind) {
    let n = s.readings.len();
    let at = n / 4 + r.below(n / 2);
    let p = s.spec.product.clone();
    let rd = &mut s.readings;
    match kind {
        AnomalyKind::TemperatureSpike => {
            rd[at].reading.temperature_mc += (r.range_f64(5.0, 25.0) * 1000.0) as i32;
            rd[at].label = Some(kind);
        }
        AnomalyKind::CoolingFailure => {
            let ambient = p.temp_max_mc as f64 + r.range_f64(8_000.0, 15_000.0);
            let len = 6 + r.below(7);
            let half = (p.temp_max_mc - p.temp_min_mc) as f64 / 2.0;
            for k in 1..=len.min(n - at - 1) {
                let x = &mut rd[at + k];
                let t = x.reading.temperature_mc as f64;
                let drift = (ambient - t) * (1.0 - libm::exp(-(k as f64) / 4.0));
                x.reading.temperature_mc = libm::round(t + drift) as i32;
                if drift >= (0.5 * half).max(1_500.0) {
                    x.label = Some(kind);
                }
            }
        }
        AnomalyKind::HumidityExcursion => {
            let len = 1 + r.below(3);
            let up = r.chance(0.5);
            let by = r.range_f64(10_000.0, 25_000.0);
            for x in rd.iter_mut().skip(at).take(len) {
                let v = if up {
                    p.hum_max_mpct as f64 + by
                } else {
                    p.hum_min_mpct as f64 - by
                };
                x.reading.humidity_mpct = libm::round(v.clamp(1_000.0, 100_000.0)) as i32;
                x.label = Some(kind);
            }
        }
        AnomalyKind::QuantityShrinkage => {
            let factor = r.range_f64(0.05, 0.7);
            for x in rd.iter_mut().skip(at) {
                x.reading.quantity =
                    libm::round(x.reading.quantity as f64 * factor).max(1.0) as u32;
                x.label = Some(kind);
            }
        }
        AnomalyKind::OffRoute => {
            let len = 1 + r.below(4);
            let km = r.range_f64(5.0, 50.0);
            let sign = if r.chance(0.5) { 1.0 } else { -1.0 };
            for x in rd.iter_mut().skip(at).take(len) {
                x.reading.location.lat_ue6 += (sign * km / 111.195 * 1e6) as i32;
                x.label = Some(kind);
            }
        }
        AnomalyKind::Timing => {
            if r.chance(0.5) {
                let gap = (r.range_f64(1.0, 6.0) * 3600.0) as i64;
                for x in rd.iter_mut().skip(at) {
                    x.reading.timestamp_s += gap;
                }
                rd[at].label = Some(kind);
            } else {
                // Final scan at 01:00–04:30 local the next day.
                let last = n - 1;
                let off = s.spec.utc_offset_s as i64;
                let local = rd[last].reading.timestamp_s + off;
                let next_midnight = (local.div_euclid(86_400) + 1) * 86_400;
                let when = next_midnight + 3600 + r.below(12_600) as i64;
                rd[last].reading.timestamp_s = when - off;
                rd[last].label = Some(kind);
            }
        }
        AnomalyKind::SensorFault => {
            if r.chance(0.5) {
                let len = 6 + r.below(5);
                let (t, h) = (rd[at].reading.temperature_mc, rd[at].reading.humidity_mpct);
                for (k, x) in rd.iter_mut().skip(at + 1).take(len).enumerate() {
                    x.reading.temperature_mc = t;
                    x.reading.humidity_mpct = h;
                    if k + 1 >= 3 {
                        x.label = Some(kind);
                    }
                }
            } else {
                let x = &mut rd[at];
                match r.below(3) {
                    0 => x.reading.temperature_mc = -273_150,
                    1 => x.reading.temperature_mc = 150_000,
                    _ => x.reading.humidity_mpct = 0,
                }
                x.label = Some(kind);
            }
        }
    }
}

impl Iterator for Simulator {
    type Item = Shipment;

    fn next(&mut self) -> Option<Shipment> {
        Some(self.shipment())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_is_seeded_ordered_and_labelled() {
        let a: Vec<Shipment> = Simulator::new(5, SimConfig::default()).take(50).collect();
        let b: Vec<Shipment> = Simulator::new(5, SimConfig::default()).take(50).collect();
        assert_eq!(a, b);
        let mut seen = std::collections::BTreeSet::new();
        for s in &a {
            assert!(s
                .readings
                .windows(2)
                .all(|w| w[0].reading.timestamp_s <= w[1].reading.timestamp_s));
            for r in &s.readings {
                if let Some(k) = r.label {
                    seen.insert(k);
                }
            }
        }
        assert!(seen.len() >= 4, "{seen:?}");
        // Only-one-kind streams label only that kind.
        let cfg = SimConfig {
            anomaly_rate: 1.0,
            only: Some(AnomalyKind::TemperatureSpike),
        };
        let s: Vec<Shipment> = Simulator::new(1, cfg).take(10).collect();
        for sh in &s {
            let spikes = sh.readings.iter().filter(|r| r.label.is_some()).count();
            assert_eq!(spikes, 1);
        }
    }
}
