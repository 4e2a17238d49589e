/// Receives progress from long-running stages. The CLI draws a bar; tests and libraries pass
/// [`NoProgress`].
pub trait ProgressReporter: Sync {
    /// A stage begins with `total` items to do (if known).
    fn start(&self, stage: &str, total: Option<u64>);
    /// `n` more items are done.
    fn advance(&self, n: u64);
    /// The stage is over.
    fn finish(&self);
}

/// Reports nothing.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoProgress;

impl ProgressReporter for NoProgress {
    fn start(&self, _: &str, _: Option<u64>) {}
    fn advance(&self, _: u64) {}
    fn finish(&self) {}
}
