//! Ranking and classification metrics: ROC-AUC, PR-AUC (average precision),
//! precision/recall/F1, and the best-F1 threshold.

/// ROC-AUC of `scores` (higher = more anomalous) against 0/1 `labels`, with
/// ties counted as one half (the Mann–Whitney statistic). `None` if a class is missing.
pub fn roc_auc(scores: &[f64], labels: &[u8]) -> Option<f64> {
    let mut idx: Vec<usize> = (0..scores.len()).collect();
    idx.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    let n_pos = labels.iter().filter(|&&l| l == 1).count();
    let n_neg = labels.len() - n_pos;
    if n_pos == 0 || n_neg == 0 {
        return None;
    }
    // Sum of (average) ranks of positives.
    let mut rank_sum = 0.0;
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && scores[idx[j + 1]] == scores[idx[i]] {
            j += 1;
        }
        let avg_rank = (i + j) as f64 / 2.0 + 1.0;
        for &k in &idx[i..=j] {
            if labels[k] == 1 {
                rank_sum += avg_rank;
            }
        }
        i = j + 1;
    }
    let np = n_pos as f64;
    Some((rank_sum - np * (np + 1.0) / 2.0) / (np * n_neg as f64))
}

/// Average precision (scikit-learn's `average_precision_score` definition:
/// step-wise sum of precision × recall increments over distinct thresholds).
pub fn pr_auc(scores: &[f64], labels: &[u8]) -> Option<f64> {
    let n_pos = labels.iter().filter(|&&l| l == 1).count();
    if n_pos == 0 {
        return None;
    }
    let mut idx: Vec<usize> = (0..scores.len()).collect();
    idx.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let (mut tp, mut fp) = (0usize, 0usize);
    let mut ap = 0.0;
    let mut prev_recall = 0.0;
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j < idx.len() && scores[idx[j]] == scores[idx[i]] {
            if labels[idx[j]] == 1 {
                tp += 1;
            } else {
                fp += 1;
            }
            j += 1;
        }
        let recall = tp as f64 / n_pos as f64;
        let precision = tp as f64 / (tp + fp) as f64;
        ap += (recall - prev_recall) * precision;
        prev_recall = recall;
        i = j;
    }
    Some(ap)
}

/// Confusion counts and derived rates at a threshold.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Prf {
    /// True positives.
    pub tp: usize,
    /// False positives.
    pub fp: usize,
    /// False negatives.
    pub fn_: usize,
    /// Precision (1 when nothing was flagged).
    pub precision: f64,
    /// Recall (1 when there were no positives).
    pub recall: f64,
    /// F1 score.
    pub f1: f64,
}

/// Precision/recall/F1 for predictions `flag` against `labels`.
pub fn prf(flag: &[bool], labels: &[u8]) -> Prf {
    let mut tp = 0;
    let mut fp = 0;
    let mut fn_ = 0;
    for (&f, &l) in flag.iter().zip(labels) {
        match (f, l == 1) {
            (true, true) => tp += 1,
            (true, false) => fp += 1,
            (false, true) => fn_ += 1,
            (false, false) => {}
        }
    }
    let precision = if tp + fp == 0 {
        1.0
    } else {
        tp as f64 / (tp + fp) as f64
    };
    let recall = if tp + fn_ == 0 {
        1.0
    } else {
        tp as f64 / (tp + fn_) as f64
    };
    let f1 = if precision + recall == 0.0 {
        0.0
    } else {
        2.0 * precision * recall / (precision + recall)
    };
    Prf {
        tp,
        fp,
        fn_,
        precision,
        recall,
        f1,
    }
}

/// The threshold `t` (a score value; flag when `score >= t`) maximising F1.
pub fn best_f1_threshold(scores: &[f64], labels: &[u8]) -> Option<(f64, f64)> {
    let n_pos = labels.iter().filter(|&&l| l == 1).count();
    if n_pos == 0 {
        return None;
    }
    let mut idx: Vec<usize> = (0..scores.len()).collect();
    idx.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let (mut tp, mut fp) = (0usize, 0usize);
    let mut best: Option<(f64, f64)> = None;
    let mut i = 0;
    while i < idx.len() {
        let t = scores[idx[i]];
        while i < idx.len() && scores[idx[i]] == t {
            if labels[idx[i]] == 1 {
                tp += 1;
            } else {
                fp += 1;
            }
            i += 1;
        }
        let p = tp as f64 / (tp + fp) as f64;
        let r = tp as f64 / n_pos as f64;
        let f1 = if p + r > 0.0 {
            2.0 * p * r / (p + r)
        } else {
            0.0
        };
        if best.is_none_or(|(_, b)| f1 > b) {
            best = Some((t, f1));
        }
    }
    best
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn auc_known_values() {
        let y = [0, 0, 1, 1];
        assert_eq!(roc_auc(&[0.1, 0.2, 0.8, 0.9], &y), Some(1.0));
        assert_eq!(roc_auc(&[0.9, 0.8, 0.2, 0.1], &y), Some(0.0));
        // sklearn: roc_auc_score([0,0,1,1],[0.1,0.4,0.35,0.8]) == 0.75
        assert_eq!(roc_auc(&[0.1, 0.4, 0.35, 0.8], &y), Some(0.75));
        // ties count one half
        assert_eq!(roc_auc(&[0.5, 0.5, 0.5, 0.5], &y), Some(0.5));
        assert_eq!(roc_auc(&[0.5], &[1]), None);
        // sklearn: average_precision_score([0,0,1,1],[0.1,0.4,0.35,0.8]) == 0.8333...
        let ap = pr_auc(&[0.1, 0.4, 0.35, 0.8], &y).unwrap();
        assert!((ap - 0.833_333_333_333_333_4).abs() < 1e-12);
    }

    #[test]
    fn f1_and_threshold() {
        let y = [0, 0, 1, 1];
        let p = prf(&[false, true, true, true], &y);
        assert_eq!((p.tp, p.fp, p.fn_), (2, 1, 0));
        assert!((p.f1 - 0.8).abs() < 1e-12);
        let (t, f1) = best_f1_threshold(&[0.1, 0.2, 0.8, 0.9], &y).unwrap();
        assert_eq!(t, 0.8);
        assert_eq!(f1, 1.0);
    }
}
