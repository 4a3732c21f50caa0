//! A progress bar on stderr (count of total) when stderr is a terminal; nothing otherwise.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::log::Logger;

pub struct Progress {
    bar: Option<ProgressBar>,
    log: Logger,
}

impl Progress {
    /// A bar labelled `what`, if `enabled`; log lines are written around it meanwhile.
    pub fn new(enabled: bool, what: &str, log: &Logger) -> Self {
        let bar = enabled.then(|| {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            let style = ProgressStyle::with_template("{prefix:>12} [{bar:30}] {human_pos}/{human_len} (eta {eta})")
                .expect("the template is valid")
                .progress_chars("=> ");
            bar.set_style(style);
            bar.set_prefix(what.to_owned());
            log.set_progress(bar.clone());
            bar
        });
        Progress { bar, log: log.clone() }
    }

    pub fn page(&self, read: u64, total: u64) {
        if let Some(bar) = &self.bar {
            bar.set_length(total.max(read));
            bar.set_position(read);
        }
    }
}

/// Clears the bar however the import ends, so an error message is not drawn over.
impl Drop for Progress {
    fn drop(&mut self) {
        if let Some(bar) = &self.bar {
            self.log.clear_progress();
            bar.finish_and_clear();
        }
    }
}
