use candle_core::{Device, Tensor};
use crowdsift_learn::LearnError;

/// A neighbour of a photo: its row and cosine similarity.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Neighbour {
    pub row: u32,
    pub similarity: f32,
}

/// The `k` most similar rows (cosine) of every row of `x` (`n × dim`), excluding itself and rows
/// in the same `group` (byte-identical copies), most similar first.
///
/// Exact: rows are L2-normalised and multiplied in chunks of 1024 against all rows, so memory is
/// `1024 × n` similarities at a time. Quadratic in `n`: meant for up to a few hundred thousand
/// photos.
pub fn neighbours(
    x: &[f32],
    n: usize,
    dim: usize,
    groups: &[u32],
    k: usize,
) -> Result<Vec<Vec<Neighbour>>, LearnError> {
    let mut unit = x.to_vec();
    for row in unit.chunks_mut(dim.max(1)) {
        let norm = row.iter().map(|v| v * v).sum::<f32>().sqrt().max(1e-12);
        row.iter_mut().for_each(|v| *v /= norm);
    }
    let all = Tensor::from_vec(unit, (n, dim), &Device::Cpu)?;
    let all_t = all.t()?.contiguous()?;
    let mut out = Vec::new();
    out.reserve_exact(n);
    const CHUNK: usize = 1024;
    for start in (0..n).step_by(CHUNK) {
        let m = CHUNK.min(n - start);
        let sims = all.narrow(0, start, m)?.matmul(&all_t)?.to_vec2::<f32>()?;
        for (r, row) in sims.into_iter().enumerate() {
            let i = start + r;
            let mut cand: Vec<Neighbour> = row
                .into_iter()
                .enumerate()
                .filter(|&(j, _)| j != i && groups[j] != groups[i])
                .map(|(j, s)| Neighbour { row: j as u32, similarity: s })
                .collect();
            let kk = k.min(cand.len());
            if kk > 0 && kk < cand.len() {
                cand.select_nth_unstable_by(kk - 1, |a, b| b.similarity.total_cmp(&a.similarity));
                cand.truncate(kk);
            }
            cand.sort_by(|a, b| b.similarity.total_cmp(&a.similarity).then(a.row.cmp(&b.row)));
            out.push(cand);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_by_cosine_skipping_self_and_copies() {
        // Rows 0 and 1 are copies (one group); row 2 is close to row 0; row 3 is far.
        let x = [1.0, 0.0, 1.0, 0.0, 0.9, 0.1, 0.0, 1.0];
        let nn = neighbours(&x, 4, 2, &[0, 0, 1, 2], 2).unwrap();
        assert_eq!(nn[0].iter().map(|n| n.row).collect::<Vec<_>>(), [2, 3]);
        assert_eq!(nn[2][0].row, 0);
        assert!((nn[3][0].similarity - 0.1 / (0.82f32).sqrt()).abs() < 1e-5);
    }
}
