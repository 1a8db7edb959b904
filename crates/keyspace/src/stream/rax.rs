//! The number of nodes Redis's radix tree would have for a set of stream node
//! keys (XINFO STREAM's `radix-tree-nodes`).
//!
//! Redis indexes stream nodes by their 16-byte big-endian master IDs in a
//! compressed radix tree. For a set of keys of equal length the compressed tree is
//! unique: a node at the root, a node at every branching prefix, one after every
//! branch edge, one at the end of every compressed run, and a leaf per key. An
//! empty tree is the root alone.

/// Node count of the compressed radix tree holding `keys` (sorted, distinct).
pub fn node_count(keys: &[[u8; 16]]) -> usize {
    if keys.is_empty() {
        return 1;
    }
    count(keys, 0)
}

/// Nodes of the subtree at depth `d` holding `keys` (non-empty, sorted, sharing
/// their first `d` bytes).
fn count(keys: &[[u8; 16]], d: usize) -> usize {
    if d == 16 {
        return 1;
    }
    let (first, last) = (&keys[0], &keys[keys.len() - 1]);
    let mut l = d;
    while l < 16 && first[l] == last[l] {
        l += 1;
    }
    if l > d {
        // A compressed run from d to l, then the node at l.
        return 1 + count(keys, l);
    }
    let mut total = 1;
    let mut i = 0;
    while i < keys.len() {
        let b = keys[i][d];
        let j = i + keys[i..].partition_point(|k| k[d] == b);
        total += count(&keys[i..j], d + 1);
        i = j;
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(ms: u64, seq: u64) -> [u8; 16] {
        super::super::StreamId::new(ms, seq).to_be_bytes()
    }

    #[test]
    fn small_trees() {
        assert_eq!(node_count(&[]), 1);
        assert_eq!(node_count(&[key(1, 1)]), 2);
        // Shared prefix of 15 bytes, then a branch with two leaves.
        assert_eq!(node_count(&[key(1, 1), key(1, 2)]), 4);
    }
}
