//! Progress: a bar when stderr is a terminal, plain log lines otherwise (CI logs).

use indicatif::{ProgressBar, ProgressStyle};
use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How often a CI log (no terminal) hears what is still running: `REL_HEARTBEAT_SECS`, else
/// 30 s.
fn heartbeat_every() -> Duration {
    std::env::var("REL_HEARTBEAT_SECS")
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
        .filter(|s| *s > 0.0)
        .map(Duration::from_secs_f64)
        .unwrap_or(Duration::from_secs(30))
}

static QUIET: AtomicBool = AtomicBool::new(false);

/// Turn bars off (`-q`).
pub fn set_quiet(q: bool) {
    QUIET.store(q, Ordering::Relaxed);
}

/// A unit of progress reporting for one stage.
pub struct Progress {
    bar: Option<ProgressBar>,
    what: String,
    /// What is running now, since when.
    running: Arc<Mutex<BTreeMap<String, Instant>>>,
    stop: Arc<AtomicBool>,
    heartbeat: Option<std::thread::JoinHandle<()>>,
}

impl Progress {
    /// A bar of `len` steps, or line logging when not on a terminal.
    pub fn new(len: u64, what: &str) -> Self {
        let bar = (std::io::stderr().is_terminal() && !QUIET.load(Ordering::Relaxed)).then(|| {
            let b = ProgressBar::new(len);
            b.set_style(
                ProgressStyle::with_template("{spinner} {msg} [{bar:30}] {pos}/{len} {elapsed}")
                    .expect("valid template")
                    .progress_chars("=> "),
            );
            b.set_message(what.to_string());
            b.enable_steady_tick(std::time::Duration::from_millis(120));
            b
        });
        let running: Arc<Mutex<BTreeMap<String, Instant>>> = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        // Without a terminal, a line every so often names what is still running, so a long
        // CI step never looks hung.
        let heartbeat = (bar.is_none() && !QUIET.load(Ordering::Relaxed)).then(|| {
            let (running, stop) = (running.clone(), stop.clone());
            let every = heartbeat_every();
            std::thread::spawn(move || {
                let mut last = Instant::now();
                while !stop.load(Ordering::Relaxed) {
                    std::thread::sleep(Duration::from_millis(100).min(every));
                    if last.elapsed() < every {
                        continue;
                    }
                    last = Instant::now();
                    let now: Vec<String> = running
                        .lock()
                        .expect("progress")
                        .iter()
                        .map(|(n, t)| format!("{n} ({}s)", t.elapsed().as_secs()))
                        .collect();
                    if !now.is_empty() {
                        tracing::info!("still running: {}", now.join(", "));
                    }
                }
            })
        });
        Progress {
            bar,
            what: what.to_string(),
            running,
            stop,
            heartbeat,
        }
    }

    /// `name` started: a line in a CI log, the bar's message in a terminal.
    pub fn started(&self, name: &str) {
        let names: Vec<String> = {
            let mut r = self.running.lock().expect("progress");
            r.insert(name.to_string(), Instant::now());
            r.keys().cloned().collect()
        };
        match &self.bar {
            Some(b) => b.set_message(format!("{} {}", self.what, names.join(", "))),
            None => tracing::info!("{} {name}", self.what),
        }
    }

    /// `name` ended (done or failed).
    pub fn ended(&self, name: &str) {
        let names: Vec<String> = {
            let mut r = self.running.lock().expect("progress");
            r.remove(name);
            r.keys().cloned().collect()
        };
        if let Some(b) = &self.bar {
            b.set_message(format!("{} {}", self.what, names.join(", ")));
        }
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

    /// Remove the bar and stop the heartbeat.
    pub fn finish(&mut self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.heartbeat.take() {
            let _ = h.join();
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}
