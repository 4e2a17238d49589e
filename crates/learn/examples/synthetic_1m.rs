//! Benchmark: training time of a transfer head on synthetic embeddings (issue target: 1,000,000
//! 1280-d embeddings in under 60 s on 2 cores).
//!
//!     cargo run --release -p crowdsift-learn --example synthetic_1m -- [N] [EPOCHS] [BATCH] [CLASSES]
//!
//! Embeddings are drawn around per-class centres (seeded) with unit Gaussian noise, so the task has
//! a known, non-trivial Bayes accuracy; the run reports the time per epoch and validation accuracy.

use std::time::Instant;

use crowdsift_learn::synthetic::Clusters;
use crowdsift_learn::{Head, HeadMeta, TrainParams, standardisation, stratified_split, train};

#[allow(clippy::print_stdout)] // a benchmark binary reports on stdout
fn main() {
    let arg = |i: usize, d: usize| std::env::args().nth(i).and_then(|a| a.parse().ok()).unwrap_or(d);
    let (n, epochs, batch, classes, dim) = (arg(1, 1_000_000), arg(2, 3), arg(3, 1024), arg(4, 69), 1280);
    let t0 = Instant::now();
    // Class centres at distance ~0.12·√dim: overlapping enough that accuracy is not trivially 100%.
    let shape = Clusters { classes, dim, spread: 0.12, latent: 0, noise: 1.0, seed: 7 };
    let ds = crowdsift_learn::synthetic::clustered(n, &shape);
    let generated = t0.elapsed().as_secs_f64();
    let t1 = Instant::now();
    let split = stratified_split(&ds, 0.2, 42);
    let (mean, std) = standardisation(&ds, &split.train);
    let meta = HeadMeta::new(ds.classes.clone(), dim, "synthetic", "none");
    let mut head = Head::init(meta, mean, std, 42).expect("head");
    let params = TrainParams { epochs, batch, lr: 1e-3, patience: 0, ..Default::default() };
    let dir = tempfile::tempdir().expect("tempdir");
    let prep = t1.elapsed().as_secs_f64();
    let t2 = Instant::now();
    let report = train(&mut head, &ds, &split, &params, dir.path(), None, &mut |m| {
        eprintln!(
            "epoch {}: train loss {:.4} val loss {:.4} top-1 {:.2}% ({:.1} s)",
            m.epoch,
            m.train_loss,
            m.val_loss,
            100.0 * m.val_top1,
            m.seconds
        )
    })
    .expect("train");
    let training = t2.elapsed().as_secs_f64();
    let last = report.epochs.last().expect("an epoch");
    println!(
        "{n} embeddings × {dim}, {classes} classes, batch {batch}, {epochs} epochs: training {training:.1} s \
         (split + standardisation {prep:.1} s; data generation {generated:.1} s, not counted); \
         last epoch val top-1 {:.2}%, {} train / {} val",
        100.0 * last.val_top1,
        split.train.len(),
        split.val.len()
    );
}
