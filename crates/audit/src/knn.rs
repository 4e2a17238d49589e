use candle_core::{Device, Tensor};
use crowdsift_core::ProgressReporter;
use crowdsift_learn::LearnError;
use serde::Serialize;

/// A neighbour of a photo: its row and cosine similarity.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Neighbour {
    pub row: u32,
    pub similarity: f32,
}

/// How neighbours are found.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct IndexParams {
    /// Up to this many photos, neighbours are exact (chunked matrix products, quadratic time);
    /// above it, an inverted-file index finds them approximately.
    pub exact_limit: usize,
    /// Lists of the index searched for each photo: the ones whose centroids are nearest to it
    /// (recall grows with it, and time linearly).
    pub probes: usize,
    /// The index works on the rows projected on this many principal directions; its candidates
    /// are re-ranked by the exact cosine of the full rows.
    pub dims: usize,
    /// Seed of the k-means initialisation.
    pub seed: u64,
}

impl Default for IndexParams {
    fn default() -> Self {
        IndexParams { exact_limit: 200_000, probes: 16, dims: 128, seed: 0 }
    }
}

/// The `k` most similar rows (cosine) of every row of `x` (`n × dim`), excluding itself and rows
/// in the same `group` (byte-identical copies), most similar first.
///
/// Exact for `n ≤ index.exact_limit`: rows are L2-normalised and multiplied in chunks of 1024
/// against all rows, so memory is `1024 × n` similarities at a time. Above it, an inverted-file
/// index ([`ivf`]): approximate, deterministic, and all matrix products.
pub fn neighbours(
    x: &[f32],
    n: usize,
    dim: usize,
    groups: &[u32],
    k: usize,
    index: &IndexParams,
    progress: &dyn ProgressReporter,
) -> Result<Vec<Vec<Neighbour>>, LearnError> {
    if n <= index.exact_limit {
        exact(x, n, dim, groups, k, progress)
    } else {
        ivf(x, n, dim, groups, k, index, progress)
    }
}

fn exact(
    x: &[f32],
    n: usize,
    dim: usize,
    groups: &[u32],
    k: usize,
    progress: &dyn ProgressReporter,
) -> Result<Vec<Vec<Neighbour>>, LearnError> {
    progress.start("neighbours (exact)", Some(n as u64));
    let mut unit = x[..n * dim].to_vec();
    normalise_rows(&mut unit, dim.max(1));
    let all = Tensor::from_vec(unit, (n, dim), &Device::Cpu)?;
    let all_t = all.t()?.contiguous()?;
    let mut out = Vec::new();
    out.reserve_exact(n);
    const CHUNK: usize = 1024;
    // One similarity buffer per chunk and one candidate buffer for all rows: per-row allocations
    // of `n` values fragment the heap into gigabytes.
    let mut cand = Vec::new();
    cand.reserve_exact(n);
    for start in (0..n).step_by(CHUNK) {
        let m = CHUNK.min(n - start);
        let sims = all.narrow(0, start, m)?.matmul(&all_t)?.flatten_all()?.to_vec1::<f32>()?;
        for (r, row) in sims.chunks(n).enumerate() {
            let i = start + r;
            cand.clear();
            cand.extend(
                row.iter()
                    .enumerate()
                    .filter(|&(j, _)| j != i && groups[j] != groups[i])
                    .map(|(j, &s)| Neighbour { row: j as u32, similarity: s }),
            );
            out.push(top_k(&mut cand, k));
        }
        progress.advance(m as u64);
    }
    progress.finish();
    Ok(out)
}

/// The `k` most similar of `cand` (reordered in place), most similar first (ties by row).
fn top_k(cand: &mut [Neighbour], k: usize) -> Vec<Neighbour> {
    let kk = k.min(cand.len());
    if kk > 0 && kk < cand.len() {
        cand.select_nth_unstable_by(kk - 1, |a, b| b.similarity.total_cmp(&a.similarity));
    }
    let mut top = cand[..kk].to_vec();
    top.sort_by(|a, b| b.similarity.total_cmp(&a.similarity).then(a.row.cmp(&b.row)));
    top
}

/// Dot product with eight independent accumulators, so the compiler can keep it in vector
/// registers (a plain `zip().sum()` is a serial chain of float adds): the exact re-ranking of
/// millions of candidates of 1280 dimensions.
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let (ca, ra) = a.as_chunks::<8>();
    let (cb, rb) = b.as_chunks::<8>();
    let mut acc = [0f32; 8];
    for (x, y) in ca.iter().zip(cb) {
        for l in 0..8 {
            acc[l] += x[l] * y[l];
        }
    }
    acc.iter().sum::<f32>() + ra.iter().zip(rb).map(|(x, y)| x * y).sum::<f32>()
}

/// Rows of `x` (unit-normalised) projected on the top `r` principal directions of their
/// uncentred second moment, which preserve inner products best in `r` dimensions. Subspace
/// iteration on a sample of up to 65,536 rows: candle has matrix products but no eigensolver, and
/// the top directions of a 1280 × 1280 matrix need only a few products and a Gram–Schmidt.
fn pca_project(x: &[f32], n: usize, dim: usize, r: usize, seed: u64) -> Result<Vec<f32>, LearnError> {
    let dev = Device::Cpu;
    let unit_rows = |rows: std::ops::Range<usize>| -> Vec<f32> {
        let mut v = x[rows.start * dim..rows.end * dim].to_vec();
        normalise_rows(&mut v, dim);
        v
    };
    let stride = n.div_ceil(65_536).max(1);
    let sample: Vec<f32> = (0..n).step_by(stride).flat_map(|i| unit_rows(i..i + 1)).collect();
    let s = sample.len() / dim;
    let xs = Tensor::from_vec(sample, (s, dim), &dev)?;
    let m = xs.t()?.matmul(&xs)?; // dim × dim
    let mut state = seed ^ 0x5eed;
    let mut q: Vec<f32> = (0..dim * r).map(|_| crowdsift_core::rng::normal(&mut state) as f32).collect();
    for _ in 0..8 {
        orthonormalise_columns(&mut q, dim, r);
        q = m.matmul(&Tensor::from_vec(q, (dim, r), &dev)?)?.flatten_all()?.to_vec1::<f32>()?;
    }
    orthonormalise_columns(&mut q, dim, r);
    let basis = Tensor::from_vec(q, (dim, r), &dev)?;
    let mut out = Vec::new();
    out.reserve_exact(n * r);
    for start in (0..n).step_by(16_384) {
        let rows = start..(start + 16_384).min(n);
        let chunk = Tensor::from_vec(unit_rows(rows.clone()), (rows.len(), dim), &dev)?;
        out.extend(chunk.matmul(&basis)?.flatten_all()?.to_vec1::<f32>()?);
    }
    Ok(out)
}

/// Modified Gram–Schmidt on the `r` columns of the row-major `dim × r` matrix `q`.
fn orthonormalise_columns(q: &mut [f32], dim: usize, r: usize) {
    for c in 0..r {
        for prev in 0..c {
            let proj: f32 = (0..dim).map(|i| q[i * r + c] * q[i * r + prev]).sum();
            for i in 0..dim {
                q[i * r + c] -= proj * q[i * r + prev];
            }
        }
        let norm = (0..dim).map(|i| q[i * r + c] * q[i * r + c]).sum::<f32>().sqrt().max(1e-12);
        for i in 0..dim {
            q[i * r + c] /= norm;
        }
    }
}

/// Rows `rows` of the row-major `? × r` matrix `p`, gathered into one tensor.
fn gather(p: &[f32], r: usize, rows: &[u32]) -> Result<Tensor, LearnError> {
    let v: Vec<f32> = rows.iter().flat_map(|&i| p[i as usize * r..(i as usize + 1) * r].iter().copied()).collect();
    Ok(Tensor::from_vec(v, (rows.len(), r), &Device::Cpu)?)
}

/// For each row of `a` (`m × r`), the indices of its two most similar rows of `b` (`l × r`) by
/// dot product, most similar first (the second equals the first when `l` is 1), in chunks.
fn nearest_rows(a: &[f32], m: usize, b: &Tensor, r: usize) -> Result<Vec<[u32; 2]>, LearnError> {
    let bt = b.t()?.contiguous()?;
    let mut out = Vec::new();
    out.reserve_exact(m);
    for start in (0..m).step_by(16_384) {
        let rows = (start..(start + 16_384).min(m)).map(|i| i as u32).collect::<Vec<_>>();
        let sims = gather(a, r, &rows)?.matmul(&bt)?.to_vec2::<f32>()?;
        out.extend(sims.iter().map(|row| {
            let (mut first, mut second) = ((0u32, f32::MIN), (0u32, f32::MIN));
            for (j, &v) in row.iter().enumerate() {
                if v > first.1 {
                    second = first;
                    first = (j as u32, v);
                } else if v > second.1 {
                    second = (j as u32, v);
                }
            }
            [first.0, if second.1 == f32::MIN { first.0 } else { second.0 }]
        }));
    }
    Ok(out)
}

/// Unit-normalises the rows of the row-major `? × r` matrix `p` in place.
fn normalise_rows(p: &mut [f32], r: usize) {
    for row in p.chunks_mut(r) {
        let norm = dot(row, row).sqrt().max(1e-12);
        row.iter_mut().for_each(|v| *v /= norm);
    }
}

/// Spherical k-means (cosine) of `n` unit rows of `p` into `lists` centroids: initialised from
/// evenly spaced rows of a seeded permutation, refined for a few rounds on a sample of up to 64
/// rows per list. Returns the unit centroids (`lists × r`).
fn kmeans(p: &[f32], n: usize, r: usize, lists: usize, seed: u64) -> Result<Vec<f32>, LearnError> {
    let mut state = seed ^ 0x1f5;
    let mut order: Vec<u32> = (0..n as u32).collect();
    for i in (1..n).rev() {
        let j = (crowdsift_core::rng::splitmix(&mut state) % (i as u64 + 1)) as usize;
        order.swap(i, j);
    }
    let sample: Vec<u32> = order[..(64 * lists).min(n)].to_vec();
    let xs: Vec<f32> = sample.iter().flat_map(|&i| p[i as usize * r..(i as usize + 1) * r].iter().copied()).collect();
    let mut centroids: Vec<f32> =
        (0..lists).flat_map(|c| xs[(c * sample.len() / lists) * r..][..r].iter().copied()).collect();
    for _ in 0..8 {
        let ct = Tensor::from_vec(centroids.clone(), (lists, r), &Device::Cpu)?;
        let assign = nearest_rows(&xs, sample.len(), &ct, r)?;
        let mut sums = vec![0f32; lists * r];
        let mut counts = vec![0usize; lists];
        for (i, &[c, _]) in assign.iter().enumerate() {
            counts[c as usize] += 1;
            sums[c as usize * r..(c as usize + 1) * r]
                .iter_mut()
                .zip(&xs[i * r..(i + 1) * r])
                .for_each(|(s, v)| *s += v);
        }
        // An empty list keeps its centroid.
        for c in (0..lists).filter(|&c| counts[c] > 0) {
            centroids[c * r..(c + 1) * r].copy_from_slice(&sums[c * r..(c + 1) * r]);
        }
        normalise_rows(&mut centroids, r);
    }
    Ok(centroids)
}

/// Approximate neighbours by an inverted-file index, with nothing but matrix products so that
/// memory is read in order (a graph index such as HNSW reads a random row for every distance,
/// which on a million 1280-d photos makes it tens of times slower on two cores):
/// 1. rows are projected on their top `index.dims` principal directions and normalised;
/// 2. spherical k-means puts them into √n lists, each photo stored in its two nearest;
/// 3. each photo is compared with the photos of its `index.probes` nearest lists, computed list
///    by list (one matrix product per list and chunk of the photos probing it);
/// 4. the best `4k` candidates of each photo are re-ranked by the exact cosine of the full rows.
///
/// Deterministic for a given seed.
pub fn ivf(
    x: &[f32],
    n: usize,
    dim: usize,
    groups: &[u32],
    k: usize,
    index: &IndexParams,
    progress: &dyn ProgressReporter,
) -> Result<Vec<Vec<Neighbour>>, LearnError> {
    let r = index.dims.clamp(1, dim.max(1));
    progress.start("neighbours (projection, lists)", None);
    let mut p = if r < dim { pca_project(x, n, dim, r, index.seed)? } else { x[..n * dim].to_vec() };
    normalise_rows(&mut p, r);
    let lists = ((n as f64).sqrt().round() as usize).clamp(1, n.max(1));
    let centroids = kmeans(&p, n, r, lists, index.seed)?;
    let ct = Tensor::from_vec(centroids.clone(), (lists, r), &Device::Cpu)?;
    // Each photo is stored in its two nearest lists, so that photos near the border of two lists
    // are found from both sides.
    let list_of = nearest_rows(&p, n, &ct, r)?;
    let mut stored: Vec<Vec<u32>> = vec![Vec::new(); lists];
    for (i, &[first, second]) in list_of.iter().enumerate() {
        stored[first as usize].push(i as u32);
        if second != first {
            stored[second as usize].push(i as u32);
        }
    }
    drop(list_of);
    // Each photo probes its own nearest lists; inverted, each list knows the photos probing it.
    let probes = index.probes.clamp(1, lists);
    let mut probers: Vec<Vec<u32>> = vec![Vec::new(); lists];
    let ctt = ct.t()?.contiguous()?;
    for start in (0..n).step_by(16_384) {
        let rows: Vec<u32> = (start..(start + 16_384).min(n)).map(|i| i as u32).collect();
        let sims = gather(&p, r, &rows)?.matmul(&ctt)?.to_vec2::<f32>()?;
        for (&i, row) in rows.iter().zip(&sims) {
            let mut near: Vec<(f32, usize)> = row.iter().copied().zip(0..lists).collect();
            if probes < lists {
                near.select_nth_unstable_by(probes - 1, |a, b| b.0.total_cmp(&a.0));
            }
            for &(_, l) in &near[..probes] {
                probers[l].push(i);
            }
        }
    }
    progress.finish();

    // Every list's stored photos against the photos probing it, one matrix product per chunk; each
    // photo keeps its best `rerank` candidates, re-ranked at the end by the exact cosine.
    let rerank = (4 * k).max(16);
    let mut best: Vec<Vec<Neighbour>> = vec![Vec::new(); n];
    progress.start("neighbours (index search)", Some((n * probes) as u64));
    for (l, queries) in probers.iter().enumerate() {
        if queries.is_empty() || stored[l].is_empty() {
            progress.advance(queries.len() as u64);
            continue;
        }
        let cand = &stored[l];
        let cand_t = gather(&p, r, cand)?.t()?.contiguous()?;
        for chunk in queries.chunks(1024) {
            let sims = gather(&p, r, chunk)?.matmul(&cand_t)?.flatten_all()?.to_vec1::<f32>()?;
            for (&q, row) in chunk.iter().zip(sims.chunks(cand.len())) {
                let i = q as usize;
                let kept = &mut best[i];
                // Only candidates above the current worst of a full list can enter it.
                let floor = if kept.len() >= rerank {
                    kept.iter().map(|nb| nb.similarity).fold(f32::MAX, f32::min)
                } else {
                    f32::MIN
                };
                kept.extend(
                    row.iter()
                        .zip(cand)
                        .filter(|&(&s, &j)| s > floor && j != q && groups[j as usize] != groups[i])
                        .map(|(&s, &j)| Neighbour { row: j, similarity: s }),
                );
                if kept.len() > 2 * rerank {
                    dedup_rows(kept);
                    *kept = top_k(kept, rerank);
                }
            }
            progress.advance(chunk.len() as u64);
        }
    }
    progress.finish();
    drop(p);
    let unit_norm: Vec<f32> = x[..n * dim].chunks(dim.max(1)).map(|v| 1.0 / dot(v, v).sqrt().max(1e-12)).collect();
    let full = |i: usize| &x[i * dim..(i + 1) * dim];
    Ok(best
        .into_iter()
        .enumerate()
        .map(|(i, mut kept)| {
            dedup_rows(&mut kept);
            let mut top = top_k(&mut kept, rerank);
            for nb in &mut top {
                let j = nb.row as usize;
                nb.similarity = dot(full(i), full(j)) * unit_norm[i] * unit_norm[j];
            }
            top_k(&mut top, k)
        })
        .collect())
}

/// Drops repeated rows (a photo stored in two lists can be met twice), keeping the first.
fn dedup_rows(v: &mut Vec<Neighbour>) {
    v.sort_by_key(|nb| nb.row);
    v.dedup_by_key(|nb| nb.row);
}

#[cfg(test)]
mod tests {
    use crowdsift_core::NoProgress;
    use crowdsift_learn::synthetic::{Clusters, clustered};

    use super::*;

    #[test]
    fn nearest_by_cosine_skipping_self_and_copies() {
        // Rows 0 and 1 are copies (one group); row 2 is close to row 0; row 3 is far.
        let x = [1.0, 0.0, 1.0, 0.0, 0.9, 0.1, 0.0, 1.0];
        for limit in [usize::MAX, 0] {
            let index = IndexParams { exact_limit: limit, ..Default::default() };
            let nn = neighbours(&x, 4, 2, &[0, 0, 1, 2], 2, &index, &NoProgress).unwrap();
            assert_eq!(nn[0].iter().map(|n| n.row).collect::<Vec<_>>(), [2, 3], "exact_limit {limit}");
            assert_eq!(nn[2][0].row, 0);
            assert!((nn[3][0].similarity - 0.1 / (0.82f32).sqrt()).abs() < 1e-5);
        }
    }

    #[test]
    fn dot_matches_a_plain_sum_for_any_length() {
        for len in [0, 1, 7, 8, 9, 1280, 1283] {
            let a: Vec<f32> = (0..len).map(|i| (i as f32 * 0.37).sin()).collect();
            let b: Vec<f32> = (0..len).map(|i| (i as f32 * 0.11).cos()).collect();
            let plain: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
            assert!((dot(&a, &b) - plain).abs() < 1e-3, "len {len}");
        }
    }

    /// The inverted-file index finds nearly all of the exact neighbours on clustered 64-d data.
    #[test]
    fn index_recall_against_exact() {
        let (n, dim, k) = (2000, 64, 10);
        let shape = Clusters { classes: 30, dim, spread: 1.0, latent: 0, noise: 0.8, seed: 7 };
        let x = clustered(n, &shape).x;
        let groups: Vec<u32> = (0..n as u32).map(|i| i / 2).collect(); // pairs of "copies"
        let exact = neighbours(&x, n, dim, &groups, k, &IndexParams::default(), &NoProgress).unwrap();
        let approx =
            neighbours(&x, n, dim, &groups, k, &IndexParams { exact_limit: 0, ..Default::default() }, &NoProgress)
                .unwrap();
        let mut hits = 0;
        for i in 0..n {
            assert!(approx[i].iter().all(|nb| groups[nb.row as usize] != groups[i]));
            hits += approx[i].iter().filter(|a| exact[i].iter().any(|e| e.row == a.row)).count();
        }
        let recall = hits as f64 / (n * k) as f64;
        assert!(recall > 0.95, "index recall@{k} {recall:.3}");
    }
}
