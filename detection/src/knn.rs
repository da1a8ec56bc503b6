//! Exact brute-force k-nearest-neighbour search with a fixed evaluation
//! order: distances are summed feature by feature in index order and ties
//! are broken by the lower reference index. This defines the neighbours a
//! verdict uses; verdicts find them faster with the exact k-d tree of
//! [`crate::kdtree`] (same list), and training uses `linfa-nn`'s k-d tree.
//!
//! [`Columns`] is a column-major copy of rows, made when a model is loaded,
//! for scans that need every distance (the OCSVM's kernel sum): the
//! distances of all rows to the query are accumulated one feature at a
//! time, which the compiler turns into straight-line (compile-time SSE2)
//! arithmetic over consecutive rows. Each row's distance is still
//! `Σ_f (r_f - q_f)²` added in feature order from 0, exactly as [`sq_dist`]
//! computes it, so the values are bit-identical; only the order in which
//! *rows* are visited changes, and no value is combined across rows.

use crate::data::Matrix;

/// Squared Euclidean distance, summed in index order.
pub fn sq_dist(a: &[f64], b: &[f64]) -> f64 {
    let mut s = 0.0;
    for (x, y) in a.iter().zip(b) {
        let d = x - y;
        s += d * d;
    }
    s
}

/// The `k` nearest rows of `reference` (row-major, `cols` wide) to `q`, as
/// `(index, squared distance)` in ascending distance order.
pub fn k_nearest(reference: &[f64], cols: usize, q: &[f64], k: usize) -> Vec<(usize, f64)> {
    let mut best: Vec<(usize, f64)> = Vec::with_capacity(k + 1);
    if cols == 0 || k == 0 {
        return best;
    }
    for (i, r) in reference.chunks_exact(cols).enumerate() {
        let d = sq_dist(r, q);
        if best.len() == k && d >= best[k - 1].1 {
            continue;
        }
        let pos = best.partition_point(|&(_, bd)| bd <= d);
        best.insert(pos, (i, d));
        best.truncate(k);
    }
    best
}

/// Rows stored column by column (derived, never serialised).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Columns {
    rows: usize,
    cols: usize,
    /// `data[f * rows + i]` is feature `f` of row `i`.
    data: Vec<f64>,
}

/// Rows whose distances are accumulated together.
const LANES: usize = 8;

impl Columns {
    /// The column-major copy of `m`.
    pub fn of(m: &Matrix) -> Columns {
        let (rows, cols) = (m.rows(), m.cols());
        let mut data = vec![0.0; rows * cols];
        for i in 0..rows {
            for (f, &v) in m.row(i).iter().enumerate() {
                data[f * rows + i] = v;
            }
        }
        Columns { rows, cols, data }
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// `out[i] = sq_dist(row i, q)`, bit for bit (`q.len()` must be `cols`).
    pub fn sq_dists(&self, q: &[f64], out: &mut Vec<f64>) {
        out.clear();
        out.resize(self.rows, 0.0);
        if self.rows == 0 || q.len() != self.cols {
            return;
        }
        let n = self.rows;
        let full = n - n % LANES;
        // Tiles of LANES rows: the partial sums stay in registers while
        // the features are added in order.
        for (t, tile) in out[..full].chunks_exact_mut(LANES).enumerate() {
            let mut acc = [0.0f64; LANES];
            for (f, &qf) in q.iter().enumerate() {
                let at = f * n + t * LANES;
                if let Some(c) = self.data.get(at..at + LANES) {
                    for (a, &v) in acc.iter_mut().zip(c) {
                        let d = v - qf;
                        *a += d * d;
                    }
                }
            }
            tile.copy_from_slice(&acc);
        }
        for (i, o) in out.iter_mut().enumerate().skip(full) {
            let mut a = 0.0;
            for (f, &qf) in q.iter().enumerate() {
                let d = self.data[f * n + i] - qf;
                a += d * d;
            }
            *o = a;
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    #[test]
    fn column_scan_is_bit_identical_to_the_row_scan() {
        let mut r = Rng::new(5);
        for (n, cols) in [(501, 9), (8, 3), (3, 2), (64, 1)] {
            let rows: Vec<Vec<f64>> = (0..n)
                .map(|_| (0..cols).map(|_| r.normal() * 1e3).collect())
                .collect();
            let m = Matrix::from_rows(&rows).unwrap();
            let c = Columns::of(&m);
            let mut d = Vec::new();
            for _ in 0..20 {
                let q: Vec<f64> = (0..cols).map(|_| r.normal() * 1e3).collect();
                c.sq_dists(&q, &mut d);
                for (i, row) in rows.iter().enumerate() {
                    assert_eq!(d[i].to_bits(), sq_dist(row, &q).to_bits());
                }
            }
        }
    }

    #[test]
    fn finds_nearest_in_order_with_index_tie_break() {
        let refs = [0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 5.0, 5.0];
        let nn = k_nearest(&refs, 2, &[0.1, 0.1], 3);
        assert_eq!(nn.iter().map(|p| p.0).collect::<Vec<_>>(), vec![0, 2, 1]);
        assert_eq!(nn[0].1, nn[1].1);
        assert!(k_nearest(&refs, 2, &[0.0, 0.0], 0).is_empty());
    }
}
