//! Row-major matrices, the min-max scaler and the stratified split of the
//! ADBench protocol. No I/O: callers hand in text or numbers.

use crate::error::{Error, Result};
use crate::rng::Rng;
use serde::{Deserialize, Serialize};

/// A dense row-major matrix of finite `f64`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Matrix {
    rows: usize,
    cols: usize,
    data: Vec<f64>,
}

impl Matrix {
    /// Wraps `data` (row-major) after checking its shape and that every value is finite.
    pub fn new(rows: usize, cols: usize, data: Vec<f64>) -> Result<Matrix> {
        if data.len() != rows * cols || cols == 0 {
            return Err(Error::Dimension {
                what: "matrix data",
                expected: rows * cols.max(1),
                got: data.len(),
            });
        }
        if let Some(i) = data.iter().position(|v| !v.is_finite()) {
            return Err(Error::NonFinite {
                what: "matrix",
                row: i / cols,
                col: i % cols,
            });
        }
        Ok(Matrix { rows, cols, data })
    }

    /// Builds a matrix from equally long rows.
    pub fn from_rows(rows: &[Vec<f64>]) -> Result<Matrix> {
        let cols = rows.first().map_or(0, Vec::len);
        let mut data = Vec::with_capacity(rows.len() * cols);
        for r in rows {
            if r.len() != cols {
                return Err(Error::Dimension {
                    what: "row",
                    expected: cols,
                    got: r.len(),
                });
            }
            data.extend_from_slice(r);
        }
        Matrix::new(rows.len(), cols, data)
    }

    /// True when the shape matches the buffer and every value is finite
    /// (decoded matrices bypass [`Matrix::new`], so models check this).
    pub fn is_consistent(&self) -> bool {
        self.cols > 0
            && self.rows.checked_mul(self.cols) == Some(self.data.len())
            && self.data.iter().all(|v| v.is_finite())
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Number of columns.
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// Row `i` (panics never: out-of-range gives an empty slice).
    pub fn row(&self, i: usize) -> &[f64] {
        self.data
            .get(i * self.cols..(i + 1) * self.cols)
            .unwrap_or(&[])
    }

    /// The backing row-major buffer.
    pub fn as_slice(&self) -> &[f64] {
        &self.data
    }

    /// A new matrix made of the given rows, in the given order.
    pub fn select(&self, idx: &[usize]) -> Matrix {
        let mut data = Vec::with_capacity(idx.len() * self.cols);
        for &i in idx {
            data.extend_from_slice(self.row(i));
        }
        Matrix {
            rows: idx.len(),
            cols: self.cols,
            data,
        }
    }

    /// Converts to an `ndarray` matrix (training-time helpers only).
    pub fn to_ndarray(&self) -> ndarray::Array2<f64> {
        ndarray::Array2::from_shape_vec((self.rows, self.cols), self.data.clone())
            .unwrap_or_else(|_| ndarray::Array2::zeros((0, self.cols)))
    }
}

/// Column-wise min-max scaling fitted on training rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MinMaxScaler {
    /// Column minima.
    pub min: Vec<f64>,
    /// Reciprocal column ranges (0 for constant columns).
    pub inv_range: Vec<f64>,
}

impl MinMaxScaler {
    /// Fits on `x`.
    pub fn fit(x: &Matrix) -> MinMaxScaler {
        let mut min = vec![f64::INFINITY; x.cols()];
        let mut max = vec![f64::NEG_INFINITY; x.cols()];
        for i in 0..x.rows() {
            for (j, &v) in x.row(i).iter().enumerate() {
                min[j] = min[j].min(v);
                max[j] = max[j].max(v);
            }
        }
        let inv_range = min
            .iter()
            .zip(&max)
            .map(|(lo, hi)| if hi > lo { 1.0 / (hi - lo) } else { 0.0 })
            .collect();
        MinMaxScaler { min, inv_range }
    }

    /// Scales one row in place.
    pub fn apply_row(&self, row: &mut [f64]) {
        for ((v, lo), s) in row.iter_mut().zip(&self.min).zip(&self.inv_range) {
            *v = (*v - lo) * s;
        }
    }

    /// Scaled copy of `x`.
    pub fn transform(&self, x: &Matrix) -> Matrix {
        let mut out = x.clone();
        for chunk in out.data.chunks_mut(x.cols()) {
            self.apply_row(chunk);
        }
        out
    }
}

/// A labelled table: features plus 0/1 labels (1 = anomaly).
#[derive(Debug, Clone)]
pub struct Labelled {
    /// Feature rows.
    pub x: Matrix,
    /// One label per row.
    pub y: Vec<u8>,
}

impl Labelled {
    /// Parses CSV text with a header line whose last column is the label.
    pub fn parse_csv(text: &str) -> Result<Labelled> {
        let mut lines = text.lines();
        let header = lines.next().ok_or(Error::Csv {
            line: 1,
            what: "empty file",
        })?;
        let cols = header.split(',').count();
        if cols < 2 {
            return Err(Error::Csv {
                line: 1,
                what: "need features and a label",
            });
        }
        let mut data = Vec::new();
        let mut y = Vec::new();
        for (n, line) in lines.enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let mut count = 0;
            for (j, field) in line.split(',').enumerate() {
                let v: f64 = field.trim().parse().map_err(|_| Error::Csv {
                    line: n + 2,
                    what: "not a number",
                })?;
                if j + 1 == cols {
                    y.push(u8::from(v != 0.0));
                } else {
                    data.push(v);
                }
                count += 1;
            }
            if count != cols {
                return Err(Error::Csv {
                    line: n + 2,
                    what: "wrong field count",
                });
            }
        }
        let x = Matrix::new(y.len(), cols - 1, data)?;
        Ok(Labelled { x, y })
    }

    /// Rows `idx` as a new table.
    pub fn select(&self, idx: &[usize]) -> Labelled {
        Labelled {
            x: self.x.select(idx),
            y: idx.iter().map(|&i| self.y[i]).collect(),
        }
    }
}

/// Stratified split: returns (first, second) index lists, where `first`
/// holds `frac` of each class (rounded), shuffled with `seed`.
pub fn stratified_split(y: &[u8], frac: f64, seed: u64) -> (Vec<usize>, Vec<usize>) {
    let mut rng = Rng::new(seed);
    let mut first = Vec::new();
    let mut second = Vec::new();
    for class in [0u8, 1u8] {
        let mut idx: Vec<usize> = (0..y.len()).filter(|&i| y[i] == class).collect();
        rng.shuffle(&mut idx);
        let k = libm::round(idx.len() as f64 * frac) as usize;
        first.extend_from_slice(&idx[..k.min(idx.len())]);
        second.extend_from_slice(&idx[k.min(idx.len())..]);
    }
    first.sort_unstable();
    second.sort_unstable();
    (first, second)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn csv_parse_scale_and_split() {
        let t = Labelled::parse_csv("a,b,label\n1,10,0\n3,30,1\n2,20,0\n4,40,0\n").unwrap();
        assert_eq!(t.x.rows(), 4);
        assert_eq!(t.y, vec![0, 1, 0, 0]);
        let s = MinMaxScaler::fit(&t.x);
        let z = s.transform(&t.x);
        assert_eq!(z.row(0), &[0.0, 0.0]);
        assert_eq!(z.row(3), &[1.0, 1.0]);
        let (a, b) = stratified_split(&t.y, 0.5, 3);
        assert_eq!(a.len() + b.len(), 4);
        assert_eq!(a.iter().filter(|&&i| t.y[i] == 1).count(), 1);
        assert!(Labelled::parse_csv("a,label\nx,1\n").is_err());
        assert!(Matrix::new(1, 2, vec![1.0, f64::NAN]).is_err());
        assert!(z.is_consistent());
        let forged = Matrix {
            rows: 3,
            cols: 2,
            data: vec![0.0; 4],
        };
        assert!(!forged.is_consistent());
    }
}
