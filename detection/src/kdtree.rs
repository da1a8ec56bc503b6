//! An exact k-nearest-neighbour index for the verdict path, built when a
//! model is loaded (never serialised): a k-d tree over the reference rows
//! with a bounding box per node.
//!
//! It returns exactly the list of [`crate::knn::k_nearest`]: the `k` rows
//! smallest under the order (squared distance, row index), each distance
//! computed by [`sq_dist`] (`Σ_f (r_f - q_f)²` in feature order), ascending.
//! A node is skipped only when the lower bound of its box is *strictly*
//! greater than the current k-th distance. The bound is computed with the
//! same operations on the box's nearest point: for each feature
//! `|fl(c - q)| ≤ |fl(r - q)|` when `c` lies between `q` and `r` (rounding is
//! monotone), and a sum of non-negative terms taken in the same order is
//! monotone in every term, so the bound never exceeds the distance of a row
//! in the box. A skipped row is therefore strictly farther than the k-th
//! kept one and could not have been selected, ties included. Queries with a
//! non-finite value are answered by the brute-force scan.
//!
//! The build is a pure function of the rows: split on the feature of widest
//! spread (lowest index on ties) at the median of (value, row index).

use crate::data::Matrix;
use crate::knn::{k_nearest, sq_dist};

/// Rows per leaf.
const LEAF: usize = 16;
const NO_CHILD: u32 = u32::MAX;

#[derive(Debug, Clone, PartialEq)]
struct Node {
    /// Range of permuted rows under this node.
    start: u32,
    end: u32,
    /// Children (both [`NO_CHILD`] for a leaf).
    left: u32,
    right: u32,
    /// Split feature, and the smallest value of the right child on it
    /// (only used to search the nearer child first).
    feat: u32,
    cut: f64,
}

/// The index (see the module docs).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct KdTree {
    cols: usize,
    /// The reference rows as given (for the brute-force fallback).
    rows: Vec<f64>,
    /// The rows in leaf order, row-major.
    data: Vec<f64>,
    /// Row index of each row of `data`.
    index: Vec<u32>,
    nodes: Vec<Node>,
    /// Box of each node: `lo[n * cols + f]`, `hi[n * cols + f]`.
    lo: Vec<f64>,
    hi: Vec<f64>,
}

impl KdTree {
    /// Builds the index over the rows of `m`.
    pub fn build(m: &Matrix) -> KdTree {
        let cols = m.cols();
        let mut t = KdTree {
            cols,
            rows: m.as_slice().to_vec(),
            ..KdTree::default()
        };
        if m.rows() == 0 || m.rows() >= NO_CHILD as usize {
            return t;
        }
        let mut perm: Vec<usize> = (0..m.rows()).collect();
        t.grow(m, &mut perm, 0);
        t.data = perm
            .iter()
            .flat_map(|&i| m.row(i).iter().copied())
            .collect();
        t.index = perm.iter().map(|&i| i as u32).collect();
        t
    }

    /// Number of indexed rows.
    pub fn rows(&self) -> usize {
        self.index.len()
    }

    /// Adds the node over `perm[..]` (rows `offset..`) and its subtree; returns its id.
    fn grow(&mut self, m: &Matrix, perm: &mut [usize], offset: usize) -> u32 {
        let id = self.nodes.len();
        let (mut lo, mut hi) = (
            vec![f64::INFINITY; self.cols],
            vec![f64::NEG_INFINITY; self.cols],
        );
        for &i in perm.iter() {
            for (f, &v) in m.row(i).iter().enumerate() {
                lo[f] = lo[f].min(v);
                hi[f] = hi[f].max(v);
            }
        }
        let split = self.split_feature(m, perm, &lo, &hi);
        self.lo.extend_from_slice(&lo);
        self.hi.extend_from_slice(&hi);
        self.nodes.push(Node {
            start: offset as u32,
            end: (offset + perm.len()) as u32,
            left: NO_CHILD,
            right: NO_CHILD,
            feat: 0,
            cut: 0.0,
        });
        if let Some(f) = split.filter(|_| perm.len() > LEAF) {
            perm.sort_by(|&a, &b| m.row(a)[f].total_cmp(&m.row(b)[f]).then(a.cmp(&b)));
            let mid = perm.len() / 2;
            self.nodes[id].feat = f as u32;
            self.nodes[id].cut = m.row(perm[mid])[f];
            let (l, r) = perm.split_at_mut(mid);
            let left = self.grow(m, l, offset);
            let right = self.grow(m, r, offset + mid);
            self.nodes[id].left = left;
            self.nodes[id].right = right;
        }
        id as u32
    }

    /// The feature to split `perm` on: the widest interquartile range (so
    /// a few outliers stretching a mostly constant feature do not win), else
    /// the widest range; lowest index on ties; `None` if all are constant.
    fn split_feature(&self, m: &Matrix, perm: &[usize], lo: &[f64], hi: &[f64]) -> Option<usize> {
        let mut best: Option<(usize, f64)> = None;
        let mut col: Vec<f64> = Vec::with_capacity(perm.len());
        for f in 0..self.cols {
            col.clear();
            col.extend(perm.iter().map(|&i| m.row(i)[f]));
            col.sort_by(f64::total_cmp);
            let iqr = col[col.len() * 3 / 4] - col[col.len() / 4];
            if iqr > 0.0 && best.is_none_or(|b| iqr > b.1) {
                best = Some((f, iqr));
            }
        }
        if best.is_none() {
            for f in 0..self.cols {
                let spread = hi[f] - lo[f];
                if spread > 0.0 && best.is_none_or(|b| spread > b.1) {
                    best = Some((f, spread));
                }
            }
        }
        best.map(|b| b.0)
    }

    /// Lower bound of the squared distance from `q` to any row in node `n`.
    fn bound(&self, n: usize, q: &[f64]) -> f64 {
        let lo = &self.lo[n * self.cols..(n + 1) * self.cols];
        let hi = &self.hi[n * self.cols..(n + 1) * self.cols];
        let mut s = 0.0;
        for ((&l, &h), &v) in lo.iter().zip(hi).zip(q) {
            // The box point nearest to v (v itself when inside).
            let c = if v < l {
                l
            } else if v > h {
                h
            } else {
                v
            };
            let d = c - v;
            s += d * d;
        }
        s
    }

    /// The `k` nearest rows to `q` as `(row index, squared distance)`,
    /// ascending by (distance, index): the list of [`k_nearest`].
    pub fn k_nearest(&self, q: &[f64], k: usize) -> Vec<(usize, f64)> {
        if k == 0 || self.nodes.is_empty() || q.len() != self.cols {
            return k_nearest(&self.rows, self.cols, q, k);
        }
        if q.iter().any(|v| !v.is_finite()) {
            return k_nearest(&self.rows, self.cols, q, k);
        }
        let k = k.min(self.index.len());
        let mut best: Vec<(f64, u32)> = Vec::with_capacity(k);
        // (node, lower bound, whether the node's own box bound is still to
        // be computed: a child inherits its parent's bound, which is never
        // larger since the child's box lies inside the parent's).
        let mut stack: Vec<(u32, f64, bool)> = Vec::with_capacity(32);
        stack.push((0, 0.0, false));
        while let Some((n, mut lb, refine)) = stack.pop() {
            if best.len() == k && lb > best[k - 1].0 {
                continue;
            }
            if refine {
                lb = self.bound(n as usize, q);
                if best.len() == k && lb > best[k - 1].0 {
                    continue;
                }
            }
            let node = &self.nodes[n as usize];
            if node.left == NO_CHILD {
                let (s, e) = (node.start as usize, node.end as usize);
                for (r, &i) in self.data[s * self.cols..e * self.cols]
                    .chunks_exact(self.cols)
                    .zip(&self.index[s..e])
                {
                    insert(&mut best, k, (sq_dist(r, q), i));
                }
                continue;
            }
            let go_left = q[node.feat as usize] < node.cut;
            let (near, far) = if go_left {
                (node.left, node.right)
            } else {
                (node.right, node.left)
            };
            // Far child below the near one: the near one is searched first.
            stack.push((far, lb, true));
            stack.push((near, lb, false));
        }
        best.into_iter().map(|(d, i)| (i as usize, d)).collect()
    }
}

/// `a` before `b` in the order (distance, index); distances are not NaN.
fn before(a: (f64, u32), b: (f64, u32)) -> bool {
    a.0 < b.0 || (a.0 == b.0 && a.1 < b.1)
}

/// Keeps `best` the (at most `k`) smallest entries seen, sorted.
fn insert(best: &mut Vec<(f64, u32)>, k: usize, e: (f64, u32)) {
    if best.len() == k {
        if !before(e, best[k - 1]) {
            return;
        }
        best.pop();
    }
    let mut j = best.len();
    best.push(e);
    while j > 0 && before(e, best[j - 1]) {
        best[j] = best[j - 1];
        j -= 1;
    }
    best[j] = e;
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    #[test]
    fn same_neighbours_as_the_brute_force_scan() {
        let mut r = Rng::new(3);
        // Continuous rows, and a coarse grid with many exact ties and duplicates.
        let sets: Vec<Vec<Vec<f64>>> = vec![
            (0..500)
                .map(|_| (0..9).map(|_| r.normal()).collect())
                .collect(),
            (0..300)
                .map(|_| (0..3).map(|_| r.below(4) as f64).collect())
                .collect(),
            (0..5).map(|i| vec![i as f64, 0.0]).collect(),
            vec![vec![1.0, 1.0]; 40],
        ];
        for rows in sets {
            let m = Matrix::from_rows(&rows).unwrap();
            let t = KdTree::build(&m);
            let cols = m.cols();
            for _ in 0..200 {
                let q: Vec<f64> = (0..cols).map(|_| r.normal() * 3.0).collect();
                let qi: Vec<f64> = (0..cols)
                    .map(|_| r.below(5) as f64 - 0.5 * r.below(2) as f64)
                    .collect();
                for q in [q, qi] {
                    for k in [1, 2, 20, 1000] {
                        assert_eq!(t.k_nearest(&q, k), k_nearest(m.as_slice(), cols, &q, k));
                    }
                }
            }
            let inf = vec![f64::INFINITY; cols];
            assert_eq!(t.k_nearest(&inf, 3), k_nearest(m.as_slice(), cols, &inf, 3));
        }
    }
}
