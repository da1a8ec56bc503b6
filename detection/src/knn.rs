//! Exact brute-force k-nearest-neighbour search with a fixed evaluation
//! order: distances are summed feature by feature in index order and ties
//! are broken by the lower reference index. This is the deterministic path
//! used by verdicts; training uses `linfa-nn`'s k-d tree for speed.

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_nearest_in_order_with_index_tie_break() {
        let refs = [0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 5.0, 5.0];
        let nn = k_nearest(&refs, 2, &[0.1, 0.1], 3);
        assert_eq!(nn.iter().map(|p| p.0).collect::<Vec<_>>(), vec![0, 2, 1]);
        assert_eq!(nn[0].1, nn[1].1);
        assert!(k_nearest(&refs, 2, &[0.0, 0.0], 0).is_empty());
    }
}
