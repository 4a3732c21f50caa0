//! A progress bar on stderr (count of total) when stderr is a terminal; nothing otherwise.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

pub struct Progress(Option<ProgressBar>);

impl Progress {
    pub fn new(enabled: bool, what: &str) -> Self {
        Progress(enabled.then(|| {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            let style = ProgressStyle::with_template("{prefix:>12} [{bar:30}] {pos}/{len} ({per_sec})")
                .expect("the template is valid")
                .progress_chars("=> ");
            bar.set_style(style);
            bar.set_prefix(what.to_owned());
            bar
        }))
    }

    pub fn page(&self, read: u64, total: u64) {
        if let Some(bar) = &self.0 {
            bar.set_length(total.max(read));
            bar.set_position(read);
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.0 {
            bar.finish_and_clear();
        }
    }
}
