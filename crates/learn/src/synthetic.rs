//! Seeded synthetic embeddings for benchmarks at scales no photo collection on this machine
//! reaches (a million photos): Gaussian clusters around per-class centres, so the task has a known,
//! non-trivial difficulty.

use crowdsift_core::rng::normal;

use crate::Dataset;

/// The shape of [`clustered`] data.
#[derive(Debug, Clone, Copy)]
pub struct Clusters {
    pub classes: usize,
    pub dim: usize,
    /// Standard deviation of the class centres' coordinates.
    pub spread: f32,
    /// Within-class variation lies in a random subspace of this many dimensions, as in real
    /// embeddings, whose intrinsic dimension is low; 0 spreads it over all dimensions.
    pub latent: usize,
    /// Standard deviation of the within-class variation per dimension.
    pub noise: f32,
    pub seed: u64,
}

/// `n` rows in `shape.classes` classes (row `i` is class `i % classes`) around seeded class
/// centres. Ids and groups are the row numbers.
pub fn clustered(n: usize, shape: &Clusters) -> Dataset {
    let Clusters { classes, dim, spread, latent, noise, seed } = *shape;
    let mut s = seed;
    let mut draw = || normal(&mut s) as f32;
    let centres: Vec<f32> = (0..classes * dim).map(|_| spread * draw()).collect();
    // Rows of the projection have unit expected norm, so a latent draw adds `noise` per dimension.
    let basis: Vec<f32> = (0..latent * dim).map(|_| draw() / (latent as f32).sqrt()).collect();
    let mut ds = Dataset {
        dim,
        views: 1,
        classes: (0..classes).map(|c| format!("class{c:03}")).collect(),
        ..Default::default()
    };
    ds.x.reserve_exact(n * dim);
    let mut row = vec![0f32; dim];
    for i in 0..n {
        let c = i % classes;
        row.copy_from_slice(&centres[c * dim..(c + 1) * dim]);
        if latent == 0 {
            row.iter_mut().for_each(|v| *v += noise * draw());
        } else {
            for b in basis.chunks(dim) {
                let z = noise * draw();
                row.iter_mut().zip(b).for_each(|(v, &w)| *v += z * w);
            }
        }
        ds.y.push(c as u32);
        ds.ids.push(i.to_string());
        ds.groups.push(i.to_string());
        ds.x.extend_from_slice(&row);
    }
    ds
}
