//! Isolation forest (Liu, Ting & Zhou 2008), scored exactly as scikit-learn's
//! `IsolationForest.score_samples` (negated): `s(x) = 2^(-E[h(x)] / c(ψ))`,
//! where `h` is the depth of the leaf reached plus `c(n_leaf)`, `ψ` the
//! sub-sample size and `c(n) = 2 (ln(n-1) + γ) - 2 (n-1)/n` the average path
//! length of an unsuccessful binary-search-tree lookup.
//!
//! Training mirrors scikit-learn: each tree draws `ψ = min(256, n)` rows
//! without replacement, grows to depth `⌈log2 ψ⌉`, and at each node picks a
//! random non-constant feature and a threshold uniform in `[min, max)`;
//! rows with `x <= t` go left.
//!
//! Each tree is stored (and serialised) as a complete binary tree of that
//! depth. A leaf reached early is padded with sentinel splits (`t = +∞`,
//! always left), so scoring runs exactly `depth` branch-free steps per tree.
//! At load time [`IsolationForest::prepare`] derives the compact layout of
//! [`flat`] (quantised splits, depth-8 fixed-size trees, precomputed
//! explanation terms) that scoring uses; forests it does not fit (depth > 8,
//! more than 64 features) use the generic walk over the serialised arrays.
//! Both walks reach the same leaves and add the same `f64` values in the same
//! order (trees in index order), so batch, one-row and explanation scores
//! are bit-identical whichever runs (unit-tested against each other).

use crate::data::Matrix;
use crate::error::{Error, Result};
use crate::rng::Rng;
use flat::{Flat, Source, BLOCK};
use serde::{Deserialize, Serialize};

pub mod flat;
mod quantise;

const EULER_GAMMA: f64 = 0.577_215_664_901_532_9;
/// Largest supported sub-sample (depth 12).
pub const MAX_SAMPLES_LIMIT: usize = 4096;

/// Average path length `c(n)` of an unsuccessful search in a BST of `n` nodes.
pub fn avg_path_length(n: usize) -> f64 {
    match n {
        0 | 1 => 0.0,
        2 => 1.0,
        _ => {
            let n = n as f64;
            2.0 * (libm::log(n - 1.0) + EULER_GAMMA) - 2.0 * (n - 1.0) / n
        }
    }
}

/// Training parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IForestParams {
    /// Number of trees (≥ 1).
    pub n_trees: usize,
    /// Sub-sample size per tree (capped at the number of rows).
    pub max_samples: usize,
    /// Seed of the tree-growing stream.
    pub seed: u64,
}

impl Default for IForestParams {
    fn default() -> Self {
        IForestParams {
            n_trees: 100,
            max_samples: 256,
            seed: 0,
        }
    }
}

/// A trained isolation forest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IsolationForest {
    n_features: u32,
    depth: u32,
    n_trees: u32,
    psi: u32,
    /// Split feature per internal slot, tree-major.
    feat: Vec<u16>,
    /// Split threshold per internal slot (`+∞` for sentinels).
    thr: Vec<f64>,
    /// Training rows reaching each slot (internal then leaf slots), tree-major.
    count: Vec<u32>,
    /// Path length `depth + c(n)` per leaf slot, tree-major.
    leaf: Vec<f64>,
    /// Derived, not serialised: `ln(n_parent / n_child)` per child slot
    /// (0 at roots and sentinels), rebuilt by [`IsolationForest::prepare`].
    #[serde(skip)]
    split_w: Vec<f64>,
    /// Derived, not serialised: the compact quantised layout used for
    /// scoring when the forest fits it (see [`flat`]).
    #[serde(skip)]
    flat: Option<Flat>,
}

struct Grow<'a> {
    x: &'a Matrix,
    depth: usize,
    rng: Rng,
    feat: Vec<u16>,
    thr: Vec<f64>,
    count: Vec<u32>,
    leaf: Vec<f64>,
}

impl Grow<'_> {
    fn internal(&self) -> usize {
        (1 << self.depth) - 1
    }

    /// Marks the subtree at `slot` (depth `d`) as one leaf holding `n` rows.
    fn fill_leaf(&mut self, slot: usize, d: usize, n: usize) {
        let value = d as f64 + avg_path_length(n);
        let internal = self.internal();
        // Walk the subtree level by level: slots [lo, hi] at each depth.
        let (mut lo, mut hi) = (slot, slot);
        for _ in d..=self.depth {
            for s in lo..=hi {
                self.count[s] = n as u32;
                if s < internal {
                    self.feat[s] = 0;
                    self.thr[s] = f64::INFINITY;
                } else {
                    self.leaf[s - internal] = value;
                }
            }
            lo = 2 * lo + 1;
            hi = 2 * hi + 2;
        }
    }

    fn grow(&mut self, slot: usize, d: usize, idx: &mut [usize]) {
        let n = idx.len();
        if d >= self.depth || n <= 1 {
            self.fill_leaf(slot, d, n);
            return;
        }
        let mut candidates: Vec<usize> = (0..self.x.cols()).collect();
        while !candidates.is_empty() {
            let pick = self.rng.below(candidates.len());
            let f = candidates[pick];
            let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
            for &i in idx.iter() {
                let v = self.x.row(i)[f];
                lo = lo.min(v);
                hi = hi.max(v);
            }
            if hi <= lo + 1e-7 {
                candidates.swap_remove(pick);
                continue;
            }
            let mut t = lo + (hi - lo) * self.rng.f64();
            if t >= hi {
                t = lo;
            }
            // Partition: x <= t to the front.
            let mut split = 0;
            for k in 0..n {
                if self.x.row(idx[k])[f] <= t {
                    idx.swap(k, split);
                    split += 1;
                }
            }
            self.feat[slot] = f as u16;
            self.thr[slot] = t;
            self.count[slot] = n as u32;
            let (left, right) = idx.split_at_mut(split);
            self.grow(2 * slot + 1, d + 1, left);
            self.grow(2 * slot + 2, d + 1, right);
            return;
        }
        self.fill_leaf(slot, d, n);
    }
}

impl IsolationForest {
    /// Grows a forest on the rows of `x`.
    pub fn fit(x: &Matrix, params: IForestParams) -> Result<IsolationForest> {
        if x.rows() == 0 {
            return Err(Error::TooFewRows {
                what: "isolation forest",
                need: 1,
                got: 0,
            });
        }
        if params.n_trees == 0 {
            return Err(Error::InvalidParam {
                name: "n_trees",
                value: 0.0,
            });
        }
        if params.max_samples == 0 || params.max_samples > MAX_SAMPLES_LIMIT {
            return Err(Error::InvalidParam {
                name: "max_samples",
                value: params.max_samples as f64,
            });
        }
        if x.cols() > u16::MAX as usize {
            return Err(Error::InvalidParam {
                name: "n_features",
                value: x.cols() as f64,
            });
        }
        let psi = params.max_samples.min(x.rows());
        let depth = (usize::BITS - (psi.max(2) - 1).leading_zeros()) as usize; // ceil(log2 psi)
        let internal = (1usize << depth) - 1;
        let leaves = 1usize << depth;
        let mut g = Grow {
            x,
            depth,
            rng: Rng::new(params.seed),
            feat: vec![0; internal],
            thr: vec![0.0; internal],
            count: vec![0; internal + leaves],
            leaf: vec![0.0; leaves],
        };
        let mut forest = IsolationForest {
            n_features: x.cols() as u32,
            depth: depth as u32,
            n_trees: params.n_trees as u32,
            psi: psi as u32,
            feat: Vec::with_capacity(internal * params.n_trees),
            thr: Vec::with_capacity(internal * params.n_trees),
            count: Vec::with_capacity((internal + leaves) * params.n_trees),
            leaf: Vec::with_capacity(leaves * params.n_trees),
            split_w: Vec::new(),
            flat: None,
        };
        let mut all: Vec<usize> = (0..x.rows()).collect();
        for _ in 0..params.n_trees {
            // Partial Fisher–Yates: the first psi entries are the sample.
            for i in 0..psi {
                let j = i + g.rng.below(all.len() - i);
                all.swap(i, j);
            }
            let mut sample = all[..psi].to_vec();
            g.grow(0, 0, &mut sample);
            forest.feat.extend_from_slice(&g.feat);
            forest.thr.extend_from_slice(&g.thr);
            forest.count.extend_from_slice(&g.count);
            forest.leaf.extend_from_slice(&g.leaf);
        }
        forest.prepare();
        Ok(forest)
    }

    /// Rebuilds derived tables (call after decoding; `fit` already does).
    pub fn prepare(&mut self) {
        let internal = (1usize << self.depth) - 1;
        let slots = 2 * internal + 1;
        let mut w = vec![0.0; self.count.len()];
        for t in 0..self.n_trees as usize {
            let c = &self.count[t * slots..(t + 1) * slots];
            for child in 1..slots {
                let parent = (child - 1) / 2;
                let (cp, cc) = (c[parent], c[child]);
                if cc > 0 && cp > cc {
                    w[t * slots + child] = libm::log(cp as f64 / cc as f64);
                }
            }
        }
        self.split_w = w;
        self.flat = Flat::build(&Source {
            cols: self.n_features as usize,
            depth: self.depth as usize,
            n_trees: self.n_trees as usize,
            feat: &self.feat,
            thr: &self.thr,
            leaf: &self.leaf,
            split_w: &self.split_w,
            c_psi: avg_path_length(self.psi as usize),
        });
    }

    /// True when scoring uses the compact quantised layout of [`flat`].
    pub fn uses_flat_layout(&self) -> bool {
        self.flat.is_some()
    }

    /// Number of input features.
    pub fn n_features(&self) -> usize {
        self.n_features as usize
    }

    /// Checks internal consistency (used after decoding untrusted bytes).
    pub fn validate(&self) -> Result<()> {
        let bad = |what| Err(Error::InconsistentModel { what });
        if self.depth > 12 || self.n_trees == 0 || self.n_features == 0 {
            return bad("isolation forest shape");
        }
        let internal = (1usize << self.depth) - 1;
        let leaves = 1usize << self.depth;
        let t = self.n_trees as usize;
        if self.feat.len() != internal * t
            || self.thr.len() != internal * t
            || self.count.len() != (internal + leaves) * t
            || self.leaf.len() != leaves * t
        {
            return bad("isolation forest array lengths");
        }
        if self.feat.iter().any(|&f| f as u32 >= self.n_features) {
            return bad("isolation forest feature index");
        }
        if self.thr.iter().any(|v| v.is_nan()) || self.leaf.iter().any(|v| !v.is_finite()) {
            return bad("isolation forest values");
        }
        Ok(())
    }

    fn norm(&self) -> f64 {
        self.n_trees as f64 * avg_path_length(self.psi as usize)
    }

    /// Sums path lengths over all trees for each row of `block` (≤ BLOCK rows).
    fn path_sums(&self, block: &[f64], out: &mut [f64]) {
        match &self.flat {
            Some(flat) => flat.path_sums(block, out),
            None => self.path_sums_generic(block, out),
        }
    }

    /// [`Self::path_sums`] over the serialised arrays: the reference walk.
    fn path_sums_generic(&self, block: &[f64], out: &mut [f64]) {
        let cols = self.n_features as usize;
        let b = out.len();
        let internal = (1usize << self.depth) - 1;
        let leaves = internal + 1;
        let mut acc = [0.0f64; BLOCK];
        for t in 0..self.n_trees as usize {
            let feat = &self.feat[t * internal..(t + 1) * internal];
            let thr = &self.thr[t * internal..(t + 1) * internal];
            let leaf = &self.leaf[t * leaves..(t + 1) * leaves];
            let mut idx = [0usize; BLOCK];
            for _ in 0..self.depth {
                for r in 0..b {
                    let n = idx[r];
                    let v = block[r * cols + feat[n] as usize];
                    idx[r] = 2 * n + 1 + usize::from(v > thr[n]);
                }
            }
            for r in 0..b {
                acc[r] += leaf[idx[r] - internal];
            }
        }
        out.copy_from_slice(&acc[..b]);
    }

    fn to_score(&self, path_sum: f64) -> f64 {
        let norm = self.norm();
        if norm <= 0.0 {
            return 0.5;
        }
        libm::exp2(-path_sum / norm)
    }

    /// Anomaly scores in (0, 1] of every row (higher = more anomalous).
    pub fn score_batch(&self, x: &Matrix) -> Result<Vec<f64>> {
        self.check_width(x.cols())?;
        let cols = x.cols();
        let mut out = vec![0.0; x.rows()];
        for (block, o) in x.as_slice().chunks(BLOCK * cols).zip(out.chunks_mut(BLOCK)) {
            self.path_sums(block, o);
        }
        for v in &mut out {
            *v = self.to_score(*v);
        }
        Ok(out)
    }

    /// [`Self::score_batch`] through the generic walk over the serialised
    /// arrays, bypassing the flat layout: the reference that tests and the
    /// benchmark compare the fast path with.
    pub fn score_batch_reference(&self, x: &Matrix) -> Result<Vec<f64>> {
        self.check_width(x.cols())?;
        let cols = x.cols();
        let mut out = vec![0.0; x.rows()];
        for (block, o) in x.as_slice().chunks(BLOCK * cols).zip(out.chunks_mut(BLOCK)) {
            self.path_sums_generic(block, o);
        }
        for v in &mut out {
            *v = self.to_score(*v);
        }
        Ok(out)
    }

    /// Anomaly score of one row; bit-identical to the batch path.
    pub fn score_row(&self, row: &[f64]) -> Result<f64> {
        self.check_width(row.len())?;
        let mut s = [0.0];
        self.path_sums(row, &mut s);
        Ok(self.to_score(s[0]))
    }

    /// Per-feature attribution for one row: each tree's path-length deficit
    /// `c(ψ) - h` is shared among the splits on its path in proportion to
    /// `ln(n_parent / n_child)` (how much each split narrowed the cell), then
    /// summed per feature and divided by `T·c(ψ)`. The attributions add up to
    /// `1 + log2(score)`: positive for rows isolated faster than average.
    pub fn attribution(&self, row: &[f64]) -> Result<Vec<f64>> {
        Ok(self.score_explain(row)?.1)
    }

    /// Score and attribution from one walk of the trees. The path lengths are
    /// summed in tree order from 0, exactly as in [`Self::score_row`], so the
    /// score is bit-identical to it.
    pub fn score_explain(&self, row: &[f64]) -> Result<(f64, Vec<f64>)> {
        self.check_width(row.len())?;
        let Some(flat) = &self.flat else {
            return Ok(self.score_explain_generic(row));
        };
        let mut out = vec![0.0; self.n_features as usize];
        let path_sum = flat.explain(row, &mut out);
        self.normalise_attribution(&mut out);
        Ok((self.to_score(path_sum), out))
    }

    /// [`Self::score_explain`] over the serialised arrays, bypassing the flat
    /// layout: the reference walk.
    pub fn score_explain_reference(&self, row: &[f64]) -> Result<(f64, Vec<f64>)> {
        self.check_width(row.len())?;
        Ok(self.score_explain_generic(row))
    }

    fn normalise_attribution(&self, out: &mut [f64]) {
        let norm = self.norm();
        if norm > 0.0 {
            for v in out {
                *v /= norm;
            }
        }
    }

    fn score_explain_generic(&self, row: &[f64]) -> (f64, Vec<f64>) {
        let mut path_sum = 0.0;
        let internal = (1usize << self.depth) - 1;
        let slots = 2 * internal + 1;
        let c_psi = avg_path_length(self.psi as usize);
        let mut out = vec![0.0; self.n_features as usize];
        let mut path = [(0usize, 0.0f64); 12];
        for t in 0..self.n_trees as usize {
            let feat = &self.feat[t * internal..(t + 1) * internal];
            let thr = &self.thr[t * internal..(t + 1) * internal];
            let count = &self.count[t * slots..(t + 1) * slots];
            let pre = self.split_w.get(t * slots..(t + 1) * slots);
            let mut len = 0;
            let mut n = 0usize;
            let mut total = 0.0;
            while n < internal {
                let f = feat[n] as usize;
                let child = 2 * n + 1 + usize::from(row[f] > thr[n]);
                let w = match pre {
                    Some(p) => p[child],
                    None => {
                        let (cp, cc) = (count[n], count[child]);
                        if cc > 0 && cp > cc {
                            libm::log(cp as f64 / cc as f64)
                        } else {
                            0.0
                        }
                    }
                };
                if w > 0.0 && len < path.len() {
                    path[len] = (f, w);
                    len += 1;
                    total += w;
                }
                n = child;
            }
            let h = self.leaf[t * (internal + 1) + n - internal];
            path_sum += h;
            let deficit = c_psi - h;
            if total > 0.0 {
                for &(f, w) in &path[..len] {
                    out[f] += deficit * w / total;
                }
            }
        }
        self.normalise_attribution(&mut out);
        (self.to_score(path_sum), out)
    }

    fn check_width(&self, got: usize) -> Result<()> {
        if got != self.n_features as usize {
            return Err(Error::Dimension {
                what: "isolation forest input",
                expected: self.n_features as usize,
                got,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn blob(n: usize, seed: u64) -> Matrix {
        let mut r = Rng::new(seed);
        let rows: Vec<Vec<f64>> = (0..n).map(|_| vec![r.normal(), r.normal()]).collect();
        Matrix::from_rows(&rows).unwrap()
    }

    #[test]
    fn c_of_n_matches_scikit_learn() {
        // scikit-learn 1.9.1: _average_path_length([256]) = 10.244770920119917, ([50]) = 6.978071926024319
        assert!((avg_path_length(256) - 10.244_770_920_119_917).abs() < 1e-12);
        assert!((avg_path_length(50) - 6.978_071_926_024_319).abs() < 1e-12);
        assert_eq!(avg_path_length(1), 0.0);
        assert_eq!(avg_path_length(2), 1.0);
    }

    #[test]
    fn outlier_scores_higher_and_batch_equals_row() {
        let x = blob(1000, 3);
        let f = IsolationForest::fit(&x, IForestParams::default()).unwrap();
        f.validate().unwrap();
        let test = Matrix::from_rows(&[vec![0.0, 0.0], vec![6.0, -6.0]]).unwrap();
        let s = f.score_batch(&test).unwrap();
        assert!(s[1] > 0.65 && s[0] < 0.5, "{s:?}");
        let all = f.score_batch(&x).unwrap();
        for (i, s) in all.iter().enumerate() {
            assert_eq!(s.to_bits(), f.score_row(x.row(i)).unwrap().to_bits());
        }
        assert!(f.score_row(&[1.0]).is_err());
    }

    #[test]
    fn attribution_sums_to_log_score_and_names_the_moved_feature() {
        let x = blob(1000, 4);
        let f = IsolationForest::fit(&x, IForestParams::default()).unwrap();
        let row = [0.1, 7.0];
        let a = f.attribution(&row).unwrap();
        let s = f.score_row(&row).unwrap();
        let (s2, a2) = f.score_explain(&row).unwrap();
        assert_eq!((s.to_bits(), &a), (s2.to_bits(), &a2));
        assert!((a.iter().sum::<f64>() - (1.0 + libm::log2(s))).abs() < 1e-9);
        assert!(a[1] > a[0] && a[1] > 0.0, "{a:?}");
    }

    /// The flat layout against the generic walk over the serialised arrays,
    /// bit for bit: random rows, rows sitting exactly on split thresholds,
    /// values outside the training range, and a shallow forest (ψ = 40,
    /// padded to depth 8).
    #[test]
    fn flat_layout_is_bit_identical_to_the_generic_walk() {
        for (n, psi, seed) in [(1000, 256, 6), (40, 256, 7), (300, 100, 8)] {
            let x = blob(n, seed);
            let f = IsolationForest::fit(
                &x,
                IForestParams {
                    max_samples: psi,
                    seed,
                    ..Default::default()
                },
            )
            .unwrap();
            assert!(f.uses_flat_layout());
            let mut rows: Vec<Vec<f64>> = (0..x.rows()).map(|i| x.row(i).to_vec()).collect();
            // Exactly on thresholds, and just either side of them.
            for (i, &t) in f
                .thr
                .iter()
                .enumerate()
                .filter(|p| p.1.is_finite())
                .take(300)
            {
                let mut r = vec![0.0, 0.0];
                r[f.feat[i] as usize] = t;
                rows.push(r.clone());
                r[f.feat[i] as usize] = f64::from_bits(t.to_bits() + 1);
                rows.push(r.clone());
                r[f.feat[i] as usize] = f64::from_bits(t.to_bits() - 1);
                rows.push(r);
            }
            rows.extend([vec![-1e300, 1e300], vec![0.0, -0.0], vec![50.0, -50.0]]);
            let m = Matrix::from_rows(&rows).unwrap();
            let fast = f.score_batch(&m).unwrap();
            let slow = f.score_batch_reference(&m).unwrap();
            for (i, r) in rows.iter().enumerate() {
                assert_eq!(fast[i].to_bits(), slow[i].to_bits(), "row {r:?}");
                let (s1, a1) = f.score_explain(r).unwrap();
                let (s2, a2) = f.score_explain_reference(r).unwrap();
                assert_eq!(s1.to_bits(), s2.to_bits());
                assert_eq!(s1.to_bits(), fast[i].to_bits());
                let bits = |a: &[f64]| a.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&a1), bits(&a2), "row {r:?}");
            }
            // Non-finite inputs take the same path too (score_row skips Matrix checks).
            for r in [[f64::NAN, 0.0], [f64::INFINITY, f64::NEG_INFINITY]] {
                let (s1, a1) = f.score_explain(&r).unwrap();
                let (s2, a2) = f.score_explain_reference(&r).unwrap();
                assert_eq!((s1.to_bits(), a1.len()), (s2.to_bits(), a2.len()));
            }
        }
    }

    #[test]
    fn seeded_fit_is_reproducible_and_constant_data_is_fine() {
        let x = blob(300, 5);
        let p = IForestParams {
            seed: 9,
            ..Default::default()
        };
        assert_eq!(
            IsolationForest::fit(&x, p).unwrap(),
            IsolationForest::fit(&x, p).unwrap()
        );
        let c = Matrix::from_rows(&vec![vec![1.0, 1.0]; 50]).unwrap();
        let f = IsolationForest::fit(&c, p).unwrap();
        // All rows identical: every tree is a single leaf of 50 rows.
        let s = f.score_row(&[1.0, 1.0]).unwrap();
        let expect = libm::exp2(-avg_path_length(50) / avg_path_length(50));
        assert!((s - expect).abs() < 1e-12);
    }
}
