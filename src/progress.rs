//! Progress: a bar when stderr is a terminal, plain log lines otherwise (CI logs).

use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};

static QUIET: AtomicBool = AtomicBool::new(false);

/// Turn bars off (`-q`).
pub fn set_quiet(q: bool) {
    QUIET.store(q, Ordering::Relaxed);
}

/// A unit of progress reporting for one stage.
pub struct Progress {
    bar: Option<ProgressBar>,
}

impl Progress {
    /// A bar of `len` steps, or line logging when not on a terminal.
    pub fn new(len: u64, what: &str) -> Self {
        let bar = (std::io::stderr().is_terminal() && !QUIET.load(Ordering::Relaxed)).then(|| {
            let b = ProgressBar::new(len);
            b.set_style(ProgressStyle::with_template("{spinner} {msg} [{bar:30}] {pos}/{len} {elapsed}").expect("valid template").progress_chars("=> "));
            b.set_message(what.to_string());
            b.enable_steady_tick(std::time::Duration::from_millis(120));
            b
        });
        Progress { bar }
    }

    /// One step done.
    pub fn done(&self, line: &str) {
        match &self.bar {
            Some(b) => {
                b.println(format!("  {line}"));
                b.inc(1);
            }
            None => tracing::info!("{line}"),
        }
    }

    /// Remove the bar.
    pub fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}
