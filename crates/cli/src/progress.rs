use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Progress bar on stderr (rate and ETA); hidden when quiet or when stderr is not a terminal.
pub struct Bar {
    bar: ProgressBar,
}

impl Bar {
    pub fn new(quiet: bool) -> Self {
        let bar = ProgressBar::hidden();
        if !quiet {
            bar.set_draw_target(ProgressDrawTarget::stderr());
        }
        Self { bar }
    }
}

impl crowdsift_pipeline::ProgressReporter for Bar {
    fn start(&self, stage: &str, total: Option<u64>) {
        self.bar.reset();
        if let Some(t) = total {
            self.bar.set_length(t);
        }
        let style =
            ProgressStyle::with_template("{prefix:>6} [{elapsed_precise}] {wide_bar} {pos}/{len} {per_sec} ETA {eta}")
                .unwrap_or_else(|_| ProgressStyle::default_bar());
        self.bar.set_style(style);
        self.bar.set_prefix(stage.to_owned());
    }

    fn advance(&self, n: u64) {
        self.bar.inc(n);
    }

    fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
