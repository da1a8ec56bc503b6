//! Hard domain rules, evaluated on the raw integer readings: out of the
//! product's spec range (by how much, for how long), quantity short of the
//! registered quantity, off the planned route, gaps between readings, unusual
//! hours, impossible values and stuck sensors. Units are the integer units of
//! the readings (milli-°C, milli-%RH, items, metres, seconds).

use crate::error::Result;
use crate::features::{
    local_second_of_day, recent, route_distance_km, stuck_count, Reading, ShipmentSpec,
};
use serde::{Deserialize, Serialize};

/// Which rule fired.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum RuleKind {
    /// Temperature above the product's maximum.
    TemperatureAboveSpec,
    /// Temperature below the product's minimum.
    TemperatureBelowSpec,
    /// Humidity above the product's maximum.
    HumidityAboveSpec,
    /// Humidity below the product's minimum.
    HumidityBelowSpec,
    /// Counted quantity short of the registered quantity.
    QuantityShortfall,
    /// Farther from the planned route than allowed.
    OffRoute,
    /// Longer than allowed since the previous reading.
    ReadingGap,
    /// Reading at an hour when the shipment should not be handled.
    UnusualHour,
    /// A physically impossible sensor value.
    ImpossibleValue,
    /// The sensor repeated exactly the same values too many times.
    SensorStuck,
}

/// One breached rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleBreach {
    /// The rule.
    pub kind: RuleKind,
    /// Feature / reading field concerned.
    pub feature: String,
    /// Observed value (integer unit of the field).
    pub observed: i64,
    /// The limit that was crossed.
    pub limit: i64,
    /// `|observed - limit|`.
    pub by_how_much: i64,
    /// How long the breach has lasted up to this reading, seconds (0 if it starts now).
    pub duration_s: i64,
}

/// Tunable limits, stored in (and hashed with) the model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleLimits {
    /// Allowed shortfall, parts per thousand of the registered quantity.
    pub quantity_tolerance_permille: u32,
    /// Allowed distance from the route, metres.
    pub max_route_deviation_m: i64,
    /// Allowed gap between readings, seconds.
    pub max_gap_s: i64,
    /// Handling forbidden from this local second of day …
    pub quiet_from_s: i64,
    /// … up to (excluding) this one.
    pub quiet_to_s: i64,
    /// Temperatures outside ±this (milli-°C) are impossible.
    pub impossible_temp_mc: i32,
    /// This many identical previous readings count as a stuck sensor.
    pub stuck_readings: u32,
}

impl Default for RuleLimits {
    fn default() -> Self {
        RuleLimits {
            quantity_tolerance_permille: 20,
            max_route_deviation_m: 2_000,
            max_gap_s: 1_800,
            quiet_from_s: 0,
            quiet_to_s: 5 * 3600,
            impossible_temp_mc: 90_000,
            stuck_readings: 4,
        }
    }
}

fn breach(kind: RuleKind, feature: &str, observed: i64, limit: i64, duration_s: i64) -> RuleBreach {
    RuleBreach {
        kind,
        feature: feature.to_string(),
        observed,
        limit,
        by_how_much: (observed - limit).abs(),
        duration_s,
    }
}

/// Seconds the condition has held continuously up to `current`, looking back
/// through `recent` (newest first); 0 if only `current` breaches.
fn run_duration(recent: &[Reading], current: &Reading, holds: impl Fn(&Reading) -> bool) -> i64 {
    let mut start = current.timestamp_s;
    for r in recent.iter().rev() {
        if !holds(r) {
            break;
        }
        start = r.timestamp_s;
    }
    current.timestamp_s.saturating_sub(start)
}

/// All rules `current` breaches, in [`RuleKind`] order.
pub fn evaluate(
    spec: &ShipmentSpec,
    previous: &[Reading],
    current: &Reading,
    limits: &RuleLimits,
) -> Result<Vec<RuleBreach>> {
    crate::features::check_spec(spec)?;
    let recent = recent(previous, current)?;
    let p = &spec.product;
    let c = current;
    let mut out = Vec::new();
    let (t, h) = (c.temperature_mc, c.humidity_mpct);
    let impossible_t = t.unsigned_abs() > limits.impossible_temp_mc.unsigned_abs();
    let impossible_h = !(0..=100_000).contains(&h);
    if !impossible_t && t > p.temp_max_mc {
        let d = run_duration(recent, c, |r| r.temperature_mc > p.temp_max_mc);
        out.push(breach(
            RuleKind::TemperatureAboveSpec,
            "temperature",
            t as i64,
            p.temp_max_mc as i64,
            d,
        ));
    }
    if !impossible_t && t < p.temp_min_mc {
        let d = run_duration(recent, c, |r| r.temperature_mc < p.temp_min_mc);
        out.push(breach(
            RuleKind::TemperatureBelowSpec,
            "temperature",
            t as i64,
            p.temp_min_mc as i64,
            d,
        ));
    }
    if !impossible_h && h > p.hum_max_mpct {
        let d = run_duration(recent, c, |r| r.humidity_mpct > p.hum_max_mpct);
        out.push(breach(
            RuleKind::HumidityAboveSpec,
            "humidity",
            h as i64,
            p.hum_max_mpct as i64,
            d,
        ));
    }
    if !impossible_h && h < p.hum_min_mpct {
        let d = run_duration(recent, c, |r| r.humidity_mpct < p.hum_min_mpct);
        out.push(breach(
            RuleKind::HumidityBelowSpec,
            "humidity",
            h as i64,
            p.hum_min_mpct as i64,
            d,
        ));
    }
    let reg = spec.registered_quantity as i64;
    let min_qty = reg - reg.saturating_mul(limits.quantity_tolerance_permille as i64) / 1000;
    if (c.quantity as i64) < min_qty {
        let d = run_duration(recent, c, |r| (r.quantity as i64) < min_qty);
        out.push(breach(
            RuleKind::QuantityShortfall,
            "quantity_ratio",
            c.quantity as i64,
            reg,
            d,
        ));
    }
    let dev_m = libm::round(route_distance_km(&spec.route, c.location) * 1000.0) as i64;
    if dev_m > limits.max_route_deviation_m {
        let lim = limits.max_route_deviation_m as f64 / 1000.0;
        let d = run_duration(recent, c, |r| {
            route_distance_km(&spec.route, r.location) > lim
        });
        out.push(breach(
            RuleKind::OffRoute,
            "route_deviation_km",
            dev_m,
            limits.max_route_deviation_m,
            d,
        ));
    }
    if let Some(last) = recent.last() {
        let gap = c.timestamp_s.saturating_sub(last.timestamp_s);
        if gap > limits.max_gap_s {
            out.push(breach(
                RuleKind::ReadingGap,
                "gap_ratio",
                gap,
                limits.max_gap_s,
                gap,
            ));
        }
    }
    let sod = local_second_of_day(c.timestamp_s, spec.utc_offset_s);
    if sod >= limits.quiet_from_s && sod < limits.quiet_to_s {
        out.push(breach(
            RuleKind::UnusualHour,
            "hour_of_day",
            sod,
            limits.quiet_to_s,
            0,
        ));
    }
    if impossible_t {
        let lim = limits.impossible_temp_mc.unsigned_abs() as i64 * (t.signum() as i64);
        out.push(breach(
            RuleKind::ImpossibleValue,
            "temperature",
            t as i64,
            lim,
            0,
        ));
    }
    if impossible_h {
        let lim = if h < 0 { 0 } else { 100_000 };
        out.push(breach(
            RuleKind::ImpossibleValue,
            "humidity",
            h as i64,
            lim,
            0,
        ));
    }
    let stuck = stuck_count(recent, c);
    if stuck > 0 && stuck >= limits.stuck_readings as usize {
        let first = recent.len() - stuck;
        let d = c.timestamp_s.saturating_sub(recent[first].timestamp_s);
        out.push(breach(
            RuleKind::SensorStuck,
            "stuck_count",
            stuck as i64,
            limits.stuck_readings as i64,
            d,
        ));
    }
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::features::tests::{reading, vaccine_spec};

    #[test]
    fn vaccine_at_14c_for_40_minutes() {
        let spec = vaccine_spec();
        let lat = 50_000_000;
        let mut prev = vec![reading(36_000, 5_000, 37_000, 100, lat, 4_100_000)];
        for i in 1..=4 {
            prev.push(reading(
                36_000 + 600 * i,
                14_000 + i as i32,
                37_000,
                100,
                lat,
                4_100_000,
            ));
        }
        let cur = reading(36_000 + 600 * 5, 14_200, 37_000, 100, lat, 4_100_000);
        let b = evaluate(&spec, &prev, &cur, &RuleLimits::default()).unwrap();
        assert_eq!(b.len(), 1, "{b:?}");
        assert_eq!(b[0].kind, RuleKind::TemperatureAboveSpec);
        assert_eq!(b[0].observed, 14_200);
        assert_eq!(b[0].limit, 8_000);
        assert_eq!(b[0].by_how_much, 6_200);
        assert_eq!(b[0].duration_s, 2_400); // 40 minutes
    }

    #[test]
    fn quantity_route_gap_hour_impossible_stuck() {
        let spec = vaccine_spec();
        let lat = 50_000_000;
        let prev: Vec<Reading> = (0..5)
            .map(|i| reading(36_000 + 600 * i, 5_000, 37_000, 100, lat, 4_100_000))
            .collect();
        // 2 h later, 80 units, 0.05° off route, same T/H as before (stuck).
        let cur = reading(
            36_000 + 600 * 4 + 7_200,
            5_000,
            37_000,
            80,
            lat + 50_000,
            4_100_000,
        );
        let b = evaluate(&spec, &prev, &cur, &RuleLimits::default()).unwrap();
        let kinds: Vec<RuleKind> = b.iter().map(|x| x.kind).collect();
        assert_eq!(
            kinds,
            vec![
                RuleKind::QuantityShortfall,
                RuleKind::OffRoute,
                RuleKind::ReadingGap,
                RuleKind::SensorStuck
            ]
        );
        assert_eq!(b[0].by_how_much, 20);
        assert!((b[1].observed - 5_560).abs() < 5);
        assert_eq!(b[2].observed, 7_200);
        // 02:00 local, impossible temperature.
        let night = reading(86_400 + 3_600, -273_150, 120_000, 100, lat, 4_100_000);
        let b = evaluate(&spec, &[], &night, &RuleLimits::default()).unwrap();
        let kinds: Vec<RuleKind> = b.iter().map(|x| x.kind).collect();
        assert_eq!(
            kinds,
            vec![
                RuleKind::UnusualHour,
                RuleKind::ImpossibleValue,
                RuleKind::ImpossibleValue
            ]
        );
        assert_eq!(b[1].limit, -90_000);
    }
}
