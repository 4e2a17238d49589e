//! Exact and near-duplicate groups over a whole collection.
//!
//! Exact duplicates share a key (file SHA-256, or the digest of the decoded pixels). Near
//! duplicates are photos whose 64-bit perceptual hashes differ in at most `d` bits. Comparing all
//! pairs is O(n²) — 5·10¹¹ comparisons for a million photos — so candidates come from a
//! multi-index hash (Norouzi et al., 2012): the hash is cut into 4 chunks of 16 bits, and two
//! hashes within distance `d` agree within ⌊d/4⌋ bits on at least one chunk (pigeonhole). Each
//! photo probes the few buckets near its own chunks. No crate offers this over plain `u64`s with
//! union-find clustering, so it is written here.

use std::collections::HashMap;

/// Union-find over `0..n` with path halving.
struct DisjointSets {
    parent: Vec<u32>,
}

impl DisjointSets {
    fn new(n: usize) -> Self {
        Self { parent: (0..n as u32).collect() }
    }
    fn find(&mut self, mut x: u32) -> u32 {
        while self.parent[x as usize] != x {
            let p = self.parent[x as usize];
            self.parent[x as usize] = self.parent[p as usize];
            x = self.parent[x as usize];
        }
        x
    }
    fn union(&mut self, a: u32, b: u32) {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra != rb {
            let (lo, hi) = if ra < rb { (ra, rb) } else { (rb, ra) };
            self.parent[hi as usize] = lo;
        }
    }
    /// Groups with more than one member, each sorted, ordered by first member.
    fn groups(mut self) -> Vec<Vec<u32>> {
        let n = self.parent.len();
        let mut by_root: HashMap<u32, Vec<u32>> = HashMap::new();
        for i in 0..n as u32 {
            let r = self.find(i);
            by_root.entry(r).or_default().push(i);
        }
        let mut out: Vec<Vec<u32>> = by_root.into_values().filter(|g| g.len() > 1).collect();
        out.sort_unstable_by_key(|g| g[0]);
        out
    }
}

/// Groups indices whose keys are equal. Returns groups of two or more, ordered.
pub fn exact_groups<K: std::hash::Hash + Eq>(keys: &[K]) -> Vec<Vec<u32>> {
    let mut first: HashMap<&K, u32> = HashMap::new();
    let mut sets = DisjointSets::new(keys.len());
    for (i, k) in keys.iter().enumerate() {
        match first.get(k) {
            Some(&j) => sets.union(j, i as u32),
            None => {
                first.insert(k, i as u32);
            }
        }
    }
    sets.groups()
}

/// Merges overlapping groups of indices below `n` (for example byte-identical and
/// pixel-identical groups) into connected groups.
pub fn merge_groups(n: usize, groups: &[Vec<u32>]) -> Vec<Vec<u32>> {
    let mut sets = DisjointSets::new(n);
    for g in groups {
        for w in g.windows(2) {
            sets.union(w[0], w[1]);
        }
    }
    sets.groups()
}

/// All 16-bit values within Hamming distance `r` of `v` (r ≤ 2 in practice).
fn neighbours(v: u16, r: u32) -> Vec<u16> {
    let mut out = vec![v];
    if r >= 1 {
        for i in 0..16 {
            out.push(v ^ (1 << i));
        }
    }
    if r >= 2 {
        for i in 0..16 {
            for j in i + 1..16 {
                out.push(v ^ (1 << i) ^ (1 << j));
            }
        }
    }
    out
}

/// Clusters of hashes linked by Hamming distance ≤ `max_distance` (transitively), in
/// O(n · probes · bucket size) instead of O(n²). `max_distance` up to 11 is supported.
pub fn near_groups(hashes: &[u64], max_distance: u32) -> Vec<Vec<u32>> {
    let max_distance = max_distance.min(11);
    let radius = max_distance / 4;
    let mut tables: [HashMap<u16, Vec<u32>>; 4] = Default::default();
    for (i, &h) in hashes.iter().enumerate() {
        for (c, t) in tables.iter_mut().enumerate() {
            t.entry((h >> (16 * c)) as u16).or_default().push(i as u32);
        }
    }
    let mut sets = DisjointSets::new(hashes.len());
    for (i, &h) in hashes.iter().enumerate() {
        for (c, t) in tables.iter().enumerate() {
            for probe in neighbours((h >> (16 * c)) as u16, radius) {
                for &j in t.get(&probe).map(Vec::as_slice).unwrap_or_default() {
                    if j as usize > i && (h ^ hashes[j as usize]).count_ones() <= max_distance {
                        sets.union(i as u32, j);
                    }
                }
            }
        }
    }
    sets.groups()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic pseudo-random u64s (splitmix64).
    fn rand64(seed: &mut u64) -> u64 {
        *seed = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = *seed;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn brute(hashes: &[u64], d: u32) -> Vec<Vec<u32>> {
        let mut sets = DisjointSets::new(hashes.len());
        for i in 0..hashes.len() {
            for j in i + 1..hashes.len() {
                if (hashes[i] ^ hashes[j]).count_ones() <= d {
                    sets.union(i as u32, j as u32);
                }
            }
        }
        sets.groups()
    }

    #[test]
    fn multi_index_equals_brute_force() {
        let mut seed = 7;
        let mut hashes: Vec<u64> = (0..3000).map(|_| rand64(&mut seed)).collect();
        // Plant near copies at distances 0..=9 from random originals.
        for k in 0..400u64 {
            let base = hashes[(rand64(&mut seed) % 3000) as usize];
            let mut h = base;
            for _ in 0..(k % 10) {
                h ^= 1 << (rand64(&mut seed) % 64);
            }
            hashes.push(h);
        }
        for d in [0, 3, 6, 8, 11] {
            assert_eq!(near_groups(&hashes, d), brute(&hashes, d), "distance {d}");
        }
        assert!(!near_groups(&hashes, 6).is_empty());
    }

    #[test]
    fn exact_groups_by_key() {
        let keys = ["a", "b", "a", "c", "b", "a"];
        assert_eq!(exact_groups(&keys), vec![vec![0, 2, 5], vec![1, 4]]);
        assert!(exact_groups::<&str>(&[]).is_empty());
        assert_eq!(merge_groups(6, &[vec![0, 2], vec![2, 5], vec![1, 4]]), vec![vec![0, 2, 5], vec![1, 4]]);
    }
}
