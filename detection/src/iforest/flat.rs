//! A compact, quantised layout of an isolation forest, derived from the
//! serialised arrays when a model is loaded (never serialised itself).
//!
//! * **Quantised splits.** For each feature, the distinct split thresholds of
//!   the whole forest are sorted into `cuts`. A value `v` becomes its rank
//!   `q(v) = #{c ∈ cuts : c < v}`, and a node that splits at the `j`-th cut
//!   sends `v` right exactly when `q(v) > j` (for a sorted list, `c_j < v`
//!   holds precisely for the first `q(v)` entries). The comparison is exact,
//!   so the walk reaches the same leaf as comparing `f64`s, for every input,
//!   NaN and ±∞ included. A node is a `u8` feature and a `u16` rank instead
//!   of a `u16` and an `f64`, so a tree's splits take 768 bytes.
//! * **Depth 8, fixed-size arrays, 1-based.** Trees of depth ≤ 8 are padded
//!   to depth 8 with sentinel nodes (never right), so every walk is exactly 8
//!   branch-free steps over `[_; 256]` arrays with no bounds checks. Nodes
//!   are numbered from 1 (children of `n` are `2n` and `2n + 1`), so a step
//!   is `n = 2n + (rank[n] < q[feat[n]])` (three loads, a compare and four
//!   integer instructions, no branch), and the leaf reached is `n - 256`.
//! * **Blocks of rows.** Batch scoring quantises 32 rows, then walks them
//!   through one tree at a time in groups of 8 (the 8 positions live in
//!   registers, and the groups are independent chains for the CPU); the
//!   one-row paths walk 8 trees side by side the same way.
//! * **Precomputed explanations.** The attribution terms of a leaf depend only
//!   on the leaf: the path-length deficit `c(ψ) - h` times
//!   `ln(n_parent / n_child) / Σ ln(..)` for each split on its path. They are
//!   computed once with the same operations as the walk-time formula
//!   (`deficit * w / total`) and stored per leaf in path order, so a verdict
//!   adds the very same `f64` terms in the very same order.
//!
//! The forest falls back to its generic path (over the serialised arrays)
//! when a model does not fit this layout: depth > 8, more than
//! [`MAX_FEATURES`] features, or more than 65 534 distinct thresholds on one
//! feature.

use super::quantise::Quantiser;

/// Rows walked through one tree at a time by [`Flat::path_sums`].
pub const BLOCK: usize = 32;
/// Rows whose walk positions are kept in registers together.
const GROUP: usize = 8;
/// Trees walked before their leaves are read, on the one-row paths.
const CHUNK: usize = 64;
/// Widest input the quantised layout takes.
pub const MAX_FEATURES: usize = 64;
/// Rank of a node no value can pass to the right of (sentinels, `t = +∞`, NaN).
const NEVER: u16 = u16::MAX;
/// Depth every flat tree is padded to.
const DEPTH: usize = 8;
const LEAVES: usize = 1 << DEPTH;

/// One precomputed attribution term: `out[feat] += val`.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Step {
    val: f64,
    feat: u32,
}

/// One tree padded to depth 8, nodes numbered from 1 (index 0 unused).
#[derive(Debug, Clone, PartialEq)]
struct Tree {
    feat: [u8; LEAVES],
    rank: [u16; LEAVES],
    /// Path length `h` per leaf (`n - 256` for the node `n` reached).
    leaf: [f64; LEAVES],
}

impl Tree {
    /// One step of the walk from node `n` (1..=255) for ranks `q`.
    #[inline(always)]
    fn step(&self, n: usize, q: &[u16; MAX_FEATURES]) -> usize {
        let i = n % LEAVES;
        let v = q[self.feat[i] as usize % MAX_FEATURES];
        2 * n + usize::from(self.rank[i] < v)
    }
}

/// Walks [`GROUP`] rows through `tree`; returns the leaf nodes reached. Not
/// inlined: as its own function the rows' positions and the block's base
/// address all fit in registers.
#[inline(never)]
fn walk_group(tree: &Tree, qg: &[[u16; MAX_FEATURES]; GROUP]) -> [usize; GROUP] {
    let mut n = [1usize; GROUP];
    for _ in 0..DEPTH {
        for (n, qr) in n.iter_mut().zip(qg) {
            *n = tree.step(*n, qr);
        }
    }
    n
}

/// Walks one row through [`GROUP`] trees side by side; returns the leaf
/// nodes reached. Not inlined, for the same reason as [`walk_group`].
#[inline(never)]
fn walk_trees(group: &[Tree; GROUP], q: &[u16; MAX_FEATURES]) -> [usize; GROUP] {
    let mut n = [1usize; GROUP];
    for _ in 0..DEPTH {
        for (n, tree) in n.iter_mut().zip(group) {
            *n = tree.step(*n, q);
        }
    }
    n
}

/// Ranks of one block of rows, fixed stride so the walk needs no bounds checks.
type QBlock = [[u16; MAX_FEATURES]; BLOCK];

/// The derived layout (see the module docs).
#[derive(Debug, Clone, PartialEq)]
pub struct Flat {
    cols: usize,
    /// Rank lookups per feature.
    quantiser: Quantiser,
    trees: Vec<Tree>,
    /// Start of each leaf's terms in `steps` (`trees · 256 + 1` entries).
    step_start: Vec<u32>,
    steps: Vec<Step>,
}

/// The serialised arrays of a forest that [`Flat::build`] reads.
pub struct Source<'a> {
    /// Number of input features.
    pub cols: usize,
    /// Tree depth of the serialised arrays.
    pub depth: usize,
    /// Number of trees.
    pub n_trees: usize,
    /// Split feature per internal slot, tree-major.
    pub feat: &'a [u16],
    /// Split threshold per internal slot, tree-major.
    pub thr: &'a [f64],
    /// Path length per leaf slot, tree-major.
    pub leaf: &'a [f64],
    /// `ln(n_parent / n_child)` per slot (internal then leaves), tree-major.
    pub split_w: &'a [f64],
    /// `c(ψ)`.
    pub c_psi: f64,
}

/// True when no value goes right at a node with threshold `t`.
fn never_right(t: f64) -> bool {
    t.is_nan() || t == f64::INFINITY
}

impl Flat {
    /// Builds the layout, or `None` when the forest does not fit it.
    pub fn build(src: &Source<'_>) -> Option<Flat> {
        if src.depth > DEPTH || src.cols == 0 || src.cols > MAX_FEATURES {
            return None;
        }
        let internal = (1usize << src.depth) - 1;
        let leaves = 1usize << src.depth;
        let slots = internal + leaves;
        // Sorted distinct thresholds per feature.
        let mut per_feat: Vec<Vec<f64>> = vec![Vec::new(); src.cols];
        for (&f, &t) in src.feat.iter().zip(src.thr) {
            if !never_right(t) {
                per_feat.get_mut(f as usize)?.push(t);
            }
        }
        for v in &mut per_feat {
            v.sort_by(f64::total_cmp);
            v.dedup_by(|a, b| a == b);
            if v.len() >= NEVER as usize {
                return None;
            }
        }
        let mut flat = Flat {
            cols: src.cols,
            quantiser: Quantiser::new(per_feat),
            trees: Vec::with_capacity(src.n_trees),
            step_start: Vec::with_capacity(src.n_trees * LEAVES + 1),
            steps: Vec::new(),
        };
        flat.step_start.push(0);
        for t in 0..src.n_trees {
            let feat = &src.feat[t * internal..(t + 1) * internal];
            let thr = &src.thr[t * internal..(t + 1) * internal];
            let leaf = &src.leaf[t * leaves..(t + 1) * leaves];
            let sw = &src.split_w[t * slots..(t + 1) * slots];
            // Level-order numbering is shared by both depths: source slot s
            // is node s + 1; deeper levels stay sentinels.
            let mut tree = Tree {
                feat: [0; LEAVES],
                rank: [NEVER; LEAVES],
                leaf: [0.0; LEAVES],
            };
            for n in 0..internal {
                tree.feat[n + 1] = u8::try_from(feat[n]).ok()?;
                if !never_right(thr[n]) {
                    let cuts = flat.quantiser.cuts(feat[n] as usize);
                    let r = cuts.partition_point(|&c| c < thr[n]);
                    tree.rank[n + 1] = r as u16;
                }
            }
            // A leaf at position p of the source depth is reached at position
            // p << (8 - depth) of depth 8 (the padding always goes left).
            let shift = DEPTH - src.depth;
            let mut terms: Vec<Vec<Step>> = vec![Vec::new(); LEAVES];
            for p in 0..leaves {
                tree.leaf[p << shift] = leaf[p];
                if reachable(thr, internal + p) {
                    terms[p << shift] = leaf_terms(feat, sw, internal + p, src.c_psi - leaf[p]);
                }
            }
            // Unreachable padding leaves repeat their left neighbour's `h`.
            for l in 1..LEAVES {
                if l % (1 << shift) != 0 {
                    tree.leaf[l] = tree.leaf[l - 1];
                }
            }
            for tl in terms {
                flat.steps.extend_from_slice(&tl);
                flat.step_start.push(u32::try_from(flat.steps.len()).ok()?);
            }
            flat.trees.push(tree);
        }
        Some(flat)
    }

    /// Ranks of `row` into `q` (row width must be `cols`).
    fn quantise(&self, row: &[f64], q: &mut [u16; MAX_FEATURES]) {
        for (f, (&v, out)) in row.iter().zip(q.iter_mut()).enumerate() {
            *out = self.quantiser.rank(f, v);
        }
    }

    /// Sums path lengths over all trees, in tree order, for each row of
    /// `block` (row-major, at most [`BLOCK`] rows of `cols` values).
    pub fn path_sums(&self, block: &[f64], out: &mut [f64]) {
        if let ([o], Some(row)) = (&mut *out, block.get(..self.cols)) {
            *o = self.path_sum(row);
            return;
        }
        let b = out.len().min(BLOCK);
        // Rows past `b` stay at rank 0: walked, never read.
        let mut q: QBlock = [[0; MAX_FEATURES]; BLOCK];
        for (row, qr) in block.chunks_exact(self.cols).zip(q.iter_mut()).take(b) {
            self.quantise(row, qr);
        }
        let mut acc = [0.0f64; BLOCK];
        for tree in &self.trees {
            for (qg, ag) in q.chunks_exact(GROUP).zip(acc.chunks_exact_mut(GROUP)) {
                if let Ok(qg) = <&[[u16; MAX_FEATURES]; GROUP]>::try_from(qg) {
                    let n = walk_group(tree, qg);
                    for (a, n) in ag.iter_mut().zip(&n) {
                        *a += tree.leaf[n % LEAVES];
                    }
                }
            }
        }
        out[..b].copy_from_slice(&acc[..b]);
    }

    /// The leaf each tree of `trees` sends `q` to, into `leaves`. Trees are
    /// walked [`GROUP`] at a time (a fixed count, so the positions stay in
    /// registers and the CPU has independent chains).
    fn walk_one(trees: &[Tree], q: &[u16; MAX_FEATURES], leaves: &mut [usize]) {
        let full = trees.len() - trees.len() % GROUP;
        let (head, tail) = trees.split_at(full);
        for (group, out) in head.chunks_exact(GROUP).zip(leaves.chunks_exact_mut(GROUP)) {
            if let Ok(group) = <&[Tree; GROUP]>::try_from(group) {
                let n = walk_trees(group, q);
                for (o, n) in out.iter_mut().zip(&n) {
                    *o = n % LEAVES;
                }
            }
        }
        for (tree, o) in tail.iter().zip(leaves.iter_mut().skip(full)) {
            let mut n = 1;
            for _ in 0..DEPTH {
                n = tree.step(n, q);
            }
            *o = n % LEAVES;
        }
    }

    /// Sum of path lengths of one row over all trees, in tree order.
    pub fn path_sum(&self, row: &[f64]) -> f64 {
        let mut q = [0u16; MAX_FEATURES];
        self.quantise(row, &mut q);
        let mut leaves = [0usize; CHUNK];
        let mut path_sum = 0.0;
        for trees in self.trees.chunks(CHUNK) {
            Self::walk_one(trees, &q, &mut leaves);
            for (tree, &l) in trees.iter().zip(&leaves) {
                path_sum += tree.leaf[l];
            }
        }
        path_sum
    }

    /// Path-length sum and unnormalised attribution of one row: per tree, in
    /// tree order, `h` is added to the sum and the leaf's precomputed terms
    /// to `out` (length `cols`, zeroed by the caller).
    pub fn explain(&self, row: &[f64], out: &mut [f64]) -> f64 {
        let mut q = [0u16; MAX_FEATURES];
        self.quantise(row, &mut q);
        let mut acc = [0.0f64; MAX_FEATURES];
        let mut leaves = [0usize; CHUNK];
        let mut path_sum = 0.0;
        for (c, trees) in self.trees.chunks(CHUNK).enumerate() {
            // First every walk, then the leaves in tree order: the loads of
            // the terms no longer wait behind the walks.
            Self::walk_one(trees, &q, &mut leaves);
            for (k, (tree, &l)) in trees.iter().zip(&leaves).enumerate() {
                path_sum += tree.leaf[l];
                let slot = (c * CHUNK + k) * LEAVES + l;
                let (s, e) = (self.step_start[slot], self.step_start[slot + 1]);
                for st in &self.steps[s as usize..e as usize] {
                    acc[st.feat as usize % MAX_FEATURES] += st.val;
                }
            }
        }
        for (o, a) in out.iter_mut().zip(&acc) {
            *o = *a;
        }
        path_sum
    }
}

/// True when leaf slot `slot` can be reached: no ancestor sends it right
/// across a never-right split.
fn reachable(thr: &[f64], slot: usize) -> bool {
    let mut c = slot;
    while c > 0 {
        let parent = (c - 1) / 2;
        if c == 2 * parent + 2 && never_right(thr[parent]) {
            return false;
        }
        c = parent;
    }
    true
}

/// The attribution terms of the leaf at `slot`, root first: each split with
/// `w = ln(n_parent / n_child) > 0` gets `deficit * w / Σw` (the same
/// expression, with the same operands, as the walk-time formula).
fn leaf_terms(feat: &[u16], split_w: &[f64], slot: usize, deficit: f64) -> Vec<Step> {
    let mut path = Vec::new();
    let mut c = slot;
    while c > 0 {
        let parent = (c - 1) / 2;
        path.push((feat[parent] as u32, split_w[c]));
        c = parent;
    }
    path.reverse();
    let mut total = 0.0;
    let mut kept = Vec::with_capacity(path.len());
    for (f, w) in path {
        if w > 0.0 {
            kept.push((f, w));
            total += w;
        }
    }
    if total > 0.0 {
        kept.into_iter()
            .map(|(f, w)| Step {
                val: deficit * w / total,
                feat: f,
            })
            .collect()
    } else {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reachability_follows_never_right_splits() {
        // depth 2: root splits, left child is a sentinel, right child splits.
        let thr = [0.5, f64::INFINITY, 0.7];
        assert!(reachable(&thr, 3));
        assert!(!reachable(&thr, 4));
        assert!(reachable(&thr, 5) && reachable(&thr, 6));
    }
}
