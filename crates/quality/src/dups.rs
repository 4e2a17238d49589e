//! Exact and near-duplicate groups over a whole collection.
//!
//! Exact duplicates share a key (file SHA-256, or the digest of the decoded pixels). Near
//! duplicates are photos whose 64-bit perceptual hashes differ in at most `d` bits from their
//! cluster's leader. Comparing all pairs is O(n²) — 5·10¹¹ comparisons for a million photos — so
//! candidates come from a multi-index hash (Norouzi et al., 2012): the hash is cut into 4 chunks of
//! 16 bits, and two hashes within distance `d` agree within ⌊d/4⌋ bits on at least one chunk
//! (pigeonhole). Each photo probes the few buckets near its own chunks. No crate offers this over
//! plain `u64`s, so it is written here.

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

/// Candidate index over 64-bit hashes: 4 tables keyed by 16-bit chunks.
#[derive(Default)]
struct MultiIndex {
    tables: [HashMap<u16, Vec<u32>>; 4],
}

impl MultiIndex {
    fn insert(&mut self, i: u32, h: u64) {
        for (c, t) in self.tables.iter_mut().enumerate() {
            t.entry((h >> (16 * c)) as u16).or_default().push(i);
        }
    }

    /// Calls `f(j)` for every indexed `j` that may lie within `max_distance` of `h` (a superset;
    /// `j` may repeat).
    fn candidates(&self, h: u64, max_distance: u32, mut f: impl FnMut(u32)) {
        for (c, t) in self.tables.iter().enumerate() {
            for probe in neighbours((h >> (16 * c)) as u16, max_distance / 4) {
                for &j in t.get(&probe).map(Vec::as_slice).unwrap_or_default() {
                    f(j);
                }
            }
        }
    }
}

/// Leader clustering of near-identical hashes. Photos are visited in `order` (callers put the
/// photo to keep first: the largest); each joins the closest leader within `max_distance`
/// (ties: the earlier leader) or becomes a leader itself. Unlike linking every close pair, this
/// cannot chain two different photos together through a series of small steps: every member is
/// within `max_distance` of its leader. Returns, per cluster of two or more, the leader and its
/// members with their distances, in `order`. `max_distance` up to 11 is supported.
pub fn near_clusters(hashes: &[u64], order: &[u32], max_distance: u32) -> Vec<(u32, Vec<(u32, u32)>)> {
    let max_distance = max_distance.min(11);
    let mut index = MultiIndex::default();
    let mut leader_of: HashMap<u32, usize> = HashMap::new(); // leader index -> cluster slot
    let mut clusters: Vec<(u32, Vec<(u32, u32)>)> = Vec::new();
    for &i in order {
        let h = hashes[i as usize];
        let mut best: Option<(u32, u32)> = None; // (distance, leader)
        index.candidates(h, max_distance, |j| {
            let d = (h ^ hashes[j as usize]).count_ones();
            if d <= max_distance && best.is_none_or(|(bd, bj)| (d, leader_of[&j]) < (bd, leader_of[&bj])) {
                best = Some((d, j));
            }
        });
        match best {
            Some((d, j)) => clusters[leader_of[&j]].1.push((i, d)),
            None => {
                leader_of.insert(i, clusters.len());
                clusters.push((i, Vec::new()));
                index.insert(i, h);
            }
        }
    }
    clusters.retain(|c| !c.1.is_empty());
    clusters
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

    /// The same leader clustering, comparing every photo with every leader.
    fn brute(hashes: &[u64], order: &[u32], d: u32) -> Vec<(u32, Vec<(u32, u32)>)> {
        let mut clusters: Vec<(u32, Vec<(u32, u32)>)> = Vec::new();
        for &i in order {
            let best = clusters
                .iter()
                .enumerate()
                .map(|(slot, c)| ((hashes[i as usize] ^ hashes[c.0 as usize]).count_ones(), slot))
                .filter(|&(dist, _)| dist <= d)
                .min();
            match best {
                Some((dist, slot)) => clusters[slot].1.push((i, dist)),
                None => clusters.push((i, Vec::new())),
            }
        }
        clusters.retain(|c| !c.1.is_empty());
        clusters
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
        let order: Vec<u32> = (0..hashes.len() as u32).rev().collect();
        for d in [0, 3, 6, 8, 11] {
            assert_eq!(near_clusters(&hashes, &order, d), brute(&hashes, &order, d), "distance {d}");
        }
        assert!(!near_clusters(&hashes, &order, 6).is_empty());
    }

    #[test]
    fn no_chaining_through_small_steps() {
        // 0 -> a (4 bits) -> b (8 bits from 0, 4 from a): linking pairs would join all three.
        let (h0, ha, hb) = (0u64, 0xF, 0xFF);
        let c = near_clusters(&[h0, ha, hb], &[0, 1, 2], 6);
        assert_eq!(c, vec![(0, vec![(1, 4)])], "b is 8 bits from the leader: not its copy");
    }

    #[test]
    fn exact_groups_by_key() {
        let keys = ["a", "b", "a", "c", "b", "a"];
        assert_eq!(exact_groups(&keys), vec![vec![0, 2, 5], vec![1, 4]]);
        assert!(exact_groups::<&str>(&[]).is_empty());
        assert_eq!(merge_groups(6, &[vec![0, 2], vec![2, 5], vec![1, 4]]), vec![vec![0, 2, 5], vec![1, 4]]);
    }
}
