//! Merkle root over a list of digests (RFC 6962 style domain separation).
//!
//! Leaves are hashed as `H(0x00 ‖ leaf)` and inner nodes as `H(0x01 ‖ l ‖ r)`,
//! so a leaf can never be confused with an inner node. An odd node at the end
//! of a level is promoted unchanged. The root of an empty list is
//! `H("")`.

use crate::hash::Digest;

/// Merkle root of `leaves` (typically envelope hashes, in block order).
pub fn root(leaves: &[Digest]) -> Digest {
    if leaves.is_empty() {
        return Digest::of(&[]);
    }
    let mut level: Vec<Digest> = leaves
        .iter()
        .map(|l| Digest::of_parts(&[&[0u8], &l.0]))
        .collect();
    while level.len() > 1 {
        let mut next = Vec::with_capacity(level.len().div_ceil(2));
        for pair in level.chunks(2) {
            match pair {
                [l, r] => next.push(Digest::of_parts(&[&[1u8], &l.0, &r.0])),
                [single] => next.push(*single),
                _ => {}
            }
        }
        level = next;
    }
    level[0]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_depends_on_every_leaf_and_order() {
        let leaves: Vec<Digest> = (0u8..5).map(|i| Digest::of(&[i])).collect();
        let r = root(&leaves);
        for i in 0..leaves.len() {
            let mut changed = leaves.clone();
            changed[i].0[0] ^= 1;
            assert_ne!(root(&changed), r, "leaf {i}");
        }
        let mut swapped = leaves.clone();
        swapped.swap(0, 1);
        assert_ne!(root(&swapped), r);
        assert_ne!(root(&leaves[..4]), r);
        assert_eq!(root(&[]), Digest::of(&[]));
    }
}
