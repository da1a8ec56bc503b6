//! Exact ranks of feature values among a forest's split thresholds.
//!
//! For one feature with sorted distinct thresholds `c_0 < c_1 < …`, the rank
//! of `v` is `q(v) = #{j : c_j < v}`; a split at `c_j` sends `v` right
//! exactly when `q(v) > j`. NaN ranks 0 (it never goes right), +∞ ranks
//! above every finite threshold.
//!
//! A plain binary search over ~1,600 thresholds is 11 dependent loads per
//! value, which cost as much as half of the tree walks. Instead, each
//! feature has a bucket table: `b(v) = min(B - 1, (v - lo) · inv)` (as a
//! saturating integer cast) is non-decreasing in `v`, so every threshold in
//! an earlier bucket is below `v` and every threshold in a later bucket is
//! above it. The table stores how many thresholds precede each bucket, and
//! `B` is chosen so no bucket holds more than [`PROBE`] thresholds; the rank
//! is that count plus [`PROBE`] branch-free comparisons with the thresholds
//! from the bucket's start on (those that belong to later buckets are above
//! `v` and add nothing; the list is padded with +∞). Features the table
//! cannot serve (a −∞ threshold, or too many thresholds in a tiny interval)
//! keep the binary search. Both give the same integer for every `f64`.

/// Comparisons after the bucket lookup.
const PROBE: usize = 8;
/// Largest table, in buckets per threshold.
const MAX_BUCKETS_PER_CUT: usize = 16;

/// Rank lookup for one feature.
#[derive(Debug, Clone, PartialEq)]
struct Feature {
    /// Sorted distinct thresholds followed by [`PROBE`] copies of +∞.
    cuts: Vec<f64>,
    /// Number of real thresholds.
    len: usize,
    /// Bucket table, when one fits.
    table: Option<Table>,
}

#[derive(Debug, Clone, PartialEq)]
struct Table {
    lo: f64,
    inv: f64,
    /// Thresholds before each bucket.
    start: Vec<u16>,
}

impl Table {
    fn bucket(&self, v: f64) -> usize {
        // `as` saturates (NaN → 0), so this is monotone over all of f64.
        (((v - self.lo) * self.inv) as usize).min(self.start.len() - 1)
    }
}

/// Rank lookups for every feature of a forest.
#[derive(Debug, Clone, PartialEq)]
pub struct Quantiser {
    features: Vec<Feature>,
}

/// Number of entries of sorted `cuts` strictly below `v` (0 for NaN).
/// Branch-free: a fixed number of halvings for a given length.
fn binary_rank(cuts: &[f64], v: f64) -> usize {
    if cuts.is_empty() {
        return 0;
    }
    let mut lo = 0;
    let mut n = cuts.len();
    while n > 1 {
        let half = n / 2;
        lo += half * usize::from(cuts[lo + half - 1] < v);
        n -= half;
    }
    lo + usize::from(cuts[lo] < v)
}

/// A bucket table for sorted finite-or-+∞-free `cuts`, if one with at most
/// [`PROBE`] thresholds per bucket fits.
fn table_for(cuts: &[f64]) -> Option<Table> {
    let (&lo, &hi) = (cuts.first()?, cuts.last()?);
    if !(lo.is_finite() && hi.is_finite()) || cuts.len() >= u16::MAX as usize {
        return None;
    }
    let mut n_buckets = (2 * cuts.len()).next_power_of_two();
    while n_buckets <= MAX_BUCKETS_PER_CUT * cuts.len().next_power_of_two() {
        let span = hi - lo;
        let inv = if span > 0.0 {
            n_buckets as f64 / span
        } else {
            1.0
        };
        if !(inv.is_finite() && inv > 0.0) {
            return None;
        }
        let mut t = Table {
            lo,
            inv,
            start: vec![0; n_buckets],
        };
        let mut count = vec![0usize; n_buckets];
        for &c in cuts {
            count[t.bucket(c)] += 1;
        }
        if count.iter().all(|&k| k <= PROBE) {
            let mut before = 0usize;
            for (s, k) in t.start.iter_mut().zip(&count) {
                *s = before as u16;
                before += k;
            }
            return Some(t);
        }
        n_buckets *= 2;
    }
    None
}

impl Quantiser {
    /// Builds the lookups from each feature's sorted distinct thresholds
    /// (no NaN, no +∞).
    pub fn new(per_feature: Vec<Vec<f64>>) -> Quantiser {
        let features = per_feature
            .into_iter()
            .map(|c| {
                let table = table_for(&c);
                let len = c.len();
                let mut cuts = c;
                cuts.extend([f64::INFINITY; PROBE]);
                Feature { cuts, len, table }
            })
            .collect();
        Quantiser { features }
    }

    /// The sorted distinct thresholds of feature `f`.
    pub fn cuts(&self, f: usize) -> &[f64] {
        let ft = &self.features[f];
        &ft.cuts[..ft.len]
    }

    /// `#{thresholds of feature f below v}`; the same integer as a count.
    #[inline]
    pub fn rank(&self, f: usize, v: f64) -> u16 {
        let ft = &self.features[f];
        match &ft.table {
            Some(t) => {
                let s = t.start[t.bucket(v)] as usize;
                let mut r = s;
                if let Some(probe) = ft.cuts.get(s..s + PROBE) {
                    for &c in probe {
                        r += usize::from(c < v);
                    }
                }
                r as u16
            }
            None => binary_rank(&ft.cuts[..ft.len], v) as u16,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    fn count_below(c: &[f64], v: f64) -> u16 {
        c.iter().filter(|&&x| x < v).count() as u16
    }

    #[test]
    fn binary_rank_counts_cuts_strictly_below() {
        let cuts = [-1.0, 0.0, 0.5, 2.0, 3.0, 7.5, 9.0];
        for len in 0..=cuts.len() {
            let c = &cuts[..len];
            for v in [-5.0, -1.0, -0.5, 0.0, -0.0, 0.5, 1.0, 3.0, 8.0, 9.0, 10.0] {
                assert_eq!(binary_rank(c, v), count_below(c, v) as usize);
            }
            assert_eq!(binary_rank(c, f64::NAN), 0);
            assert_eq!(binary_rank(c, f64::INFINITY), len);
            assert_eq!(binary_rank(c, f64::NEG_INFINITY), 0);
        }
    }

    #[test]
    fn table_and_binary_search_agree_with_counting_everywhere() {
        let mut r = Rng::new(11);
        let uniform: Vec<f64> = (0..1600).map(|_| r.f64()).collect();
        // Clustered: most thresholds in a tiny interval, a few far away.
        let mut clustered: Vec<f64> = (0..500).map(|i| 1.0 + i as f64 * 1e-12).collect();
        clustered.extend([-1e6, 5e6, 0.0]);
        let sets = vec![
            uniform,
            clustered,
            vec![0.25],
            vec![],
            vec![f64::NEG_INFINITY, 0.0, 1.0],
            vec![-0.0, 1e-300, 1e300],
        ];
        for mut s in sets {
            s.sort_by(f64::total_cmp);
            s.dedup_by(|a, b| a == b);
            let q = Quantiser::new(vec![s.clone()]);
            let mut probes: Vec<f64> = s.clone();
            for &c in &s {
                probes.extend([
                    f64::from_bits(c.to_bits().wrapping_add(1)),
                    f64::from_bits(c.to_bits().wrapping_sub(1)),
                ]);
            }
            probes.extend((0..2000).map(|_| r.f64() * 3.0 - 1.0));
            probes.extend([
                f64::NAN,
                f64::INFINITY,
                f64::NEG_INFINITY,
                0.0,
                -0.0,
                1e308,
                -1e308,
            ]);
            for v in probes {
                assert_eq!(q.rank(0, v), count_below(&s, v), "{v} in {} cuts", s.len());
            }
        }
    }
}
