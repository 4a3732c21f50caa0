//! A map kept in key order that also reaches its n-th entry quickly, so a page at any offset is
//! cut out in O(log n + page) instead of walking every entry before it.
//!
//! Entries live in sorted blocks of at most [`MAX_BLOCK`] entries; `starts` holds each block's
//! first rank. A lookup by key or by rank is a binary search over the blocks and then one within
//! a block; an insert or a removal shifts one block and the `starts` after it.

/// A block is split in two when it grows past this many entries.
const MAX_BLOCK: usize = 512;

/// An ordered map with lookup by rank.
pub(crate) struct RankedMap<K, V> {
    blocks: Vec<Vec<(K, V)>>,
    /// `starts[i]` is the number of entries in the blocks before block `i`.
    starts: Vec<usize>,
    len: usize,
}

impl<K: Ord, V> RankedMap<K, V> {
    pub(crate) fn new() -> Self {
        RankedMap { blocks: Vec::new(), starts: Vec::new(), len: 0 }
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The block where `key` is or would go: the first whose last key is not below it, else the
    /// last block.
    fn block_for(&self, key: &K) -> usize {
        let i = self.blocks.partition_point(|block| block.last().is_some_and(|(last, _)| last < key));
        i.min(self.blocks.len().saturating_sub(1))
    }

    /// Where `key` is (`Ok`) or would be inserted (`Err`), as block and position in it.
    fn locate(&self, key: &K) -> (usize, Result<usize, usize>) {
        let b = self.block_for(key);
        let at = self.blocks.get(b).map_or(Err(0), |block| block.binary_search_by(|(k, _)| k.cmp(key)));
        (b, at)
    }

    pub(crate) fn get(&self, key: &K) -> Option<&V> {
        match self.locate(key) {
            (b, Ok(i)) => Some(&self.blocks[b][i].1),
            _ => None,
        }
    }

    pub(crate) fn get_mut(&mut self, key: &K) -> Option<&mut V> {
        match self.locate(key) {
            (b, Ok(i)) => Some(&mut self.blocks[b][i].1),
            _ => None,
        }
    }

    /// Inserts or replaces the value at `key`.
    pub(crate) fn insert(&mut self, key: K, value: V) {
        let (b, at) = self.locate(&key);
        let i = match at {
            Ok(i) => {
                self.blocks[b][i].1 = value;
                return;
            }
            Err(i) => i,
        };
        if self.blocks.is_empty() {
            self.blocks.push(Vec::new());
            self.starts.push(0);
        }
        self.blocks[b].insert(i, (key, value));
        self.len += 1;
        if self.blocks[b].len() > MAX_BLOCK {
            let upper = self.blocks[b].split_off(MAX_BLOCK / 2);
            self.blocks.insert(b + 1, upper);
            self.starts.insert(b + 1, 0);
        }
        self.recount_from(b);
    }

    /// Removes the entry at `key` and returns its value.
    pub(crate) fn remove(&mut self, key: &K) -> Option<V> {
        let (b, Ok(i)) = self.locate(key) else { return None };
        let (_, value) = self.blocks[b].remove(i);
        self.len -= 1;
        if self.blocks[b].is_empty() {
            self.blocks.remove(b);
            self.starts.remove(b);
        }
        self.recount_from(b);
        Some(value)
    }

    /// Brings `starts` up to date for the blocks from `b` on.
    fn recount_from(&mut self, b: usize) {
        for i in b..self.blocks.len() {
            self.starts[i] = if i == 0 { 0 } else { self.starts[i - 1] + self.blocks[i - 1].len() };
        }
    }

    /// Every value, in key order.
    pub(crate) fn values(&self) -> impl ExactSizeIterator<Item = &V> + '_ {
        Counted { inner: self.blocks.iter().flatten().map(|(_, v)| v), left: self.len }
    }

    pub(crate) fn values_mut(&mut self) -> impl Iterator<Item = &mut V> + '_ {
        self.blocks.iter_mut().flatten().map(|(_, v)| v)
    }

    /// Up to `size` values from rank `offset` on, in key order.
    pub(crate) fn window(&self, offset: usize, size: usize) -> impl Iterator<Item = &V> + '_ {
        let b = self.starts.partition_point(|start| *start <= offset).saturating_sub(1);
        let within = offset - self.starts.get(b).copied().unwrap_or(0);
        let first = self.blocks.get(b).and_then(|block| block.get(within..)).unwrap_or_default();
        let rest = self.blocks.get(b + 1..).unwrap_or_default();
        first.iter().chain(rest.iter().flatten()).take(size).map(|(_, v)| v)
    }
}

/// An iterator whose length is known up front (a flattened one's is not, to the type system).
struct Counted<I> {
    inner: I,
    left: usize,
}

impl<I: Iterator> Iterator for Counted<I> {
    type Item = I::Item;

    fn next(&mut self) -> Option<I::Item> {
        let item = self.inner.next()?;
        self.left -= 1;
        Some(item)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl<I: Iterator> ExactSizeIterator for Counted<I> {}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::seq::SliceRandom;
    use rand::{Rng, SeedableRng};
    use std::collections::BTreeMap;

    /// Random inserts, replacements and removals, checked against a `BTreeMap` after each step,
    /// across enough entries to split blocks many times.
    #[test]
    fn behaves_as_an_ordered_map_with_windows_at_any_offset() {
        let mut rng = StdRng::seed_from_u64(9);
        let mut ranked = RankedMap::new();
        let mut model = BTreeMap::new();
        let mut keys: Vec<u32> = (0..5000).collect();
        keys.shuffle(&mut rng);
        for (step, key) in keys.iter().copied().enumerate() {
            ranked.insert(key, step);
            model.insert(key, step);
            if rng.random_bool(0.3) {
                let gone = keys[rng.random_range(0..=step)];
                assert_eq!(ranked.remove(&gone), model.remove(&gone), "removing {gone}");
            }
            if rng.random_bool(0.1) {
                ranked.insert(key, step + 1);
                model.insert(key, step + 1);
            }
        }
        assert!(ranked.blocks.len() > 4, "blocks were split");
        assert_eq!(ranked.len(), model.len());
        let all: Vec<usize> = model.values().copied().collect();
        assert_eq!(ranked.values().copied().collect::<Vec<_>>(), all);
        assert_eq!(ranked.values().len(), all.len());
        for offset in [0, 1, 255, 256, 511, 512, 513, 1000, all.len() - 1, all.len(), all.len() + 7] {
            let window: Vec<usize> = ranked.window(offset, 300).copied().collect();
            let expected: Vec<usize> = all.iter().skip(offset).take(300).copied().collect();
            assert_eq!(window, expected, "offset {offset}");
        }
        for key in [0, 17, 4999, 5000] {
            assert_eq!(ranked.get(&key), model.get(&key), "{key}");
        }
        if let Some(value) = ranked.get_mut(&17) {
            *value = 0;
        }
        for value in ranked.values_mut() {
            *value += 1;
        }
        assert!(ranked.get(&17).is_none_or(|v| *v == 1));
    }

    #[test]
    fn an_empty_map_has_empty_windows() {
        let mut ranked: RankedMap<u8, u8> = RankedMap::new();
        assert_eq!(ranked.window(0, 10).count(), 0);
        assert_eq!(ranked.remove(&1), None);
        ranked.insert(1, 1);
        assert_eq!(ranked.remove(&1), Some(1));
        assert_eq!((ranked.len(), ranked.values().count(), ranked.window(0, 1).count()), (0, 0, 0));
    }
}
