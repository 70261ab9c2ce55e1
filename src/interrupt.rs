//! SIGINT, SIGTERM and SIGHUP: stop every child process tree, say what is left, exit.
//!
//! Each command rel starts runs in a process group of its own (see `exec`), so a Ctrl-C in a
//! terminal reaches rel alone and rel decides: every registered group gets SIGTERM, then a
//! short grace period (so `go build` can remove its work folder), then SIGKILL. Only then
//! does rel print `interrupted after 12.3s: dist/ is incomplete; re-run with --clean` and
//! exit with 128 + the signal (130, 143, 129). No orphaned build can write into a later
//! run's `dist/`.
//!
//! On Linux every child also gets `PR_SET_PDEATHSIG`, so a rel killed with SIGKILL (which
//! it cannot catch) takes its direct children with it.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// The grace period between SIGTERM and SIGKILL.
const GRACE: Duration = Duration::from_secs(3);

static INTERRUPTED: AtomicBool = AtomicBool::new(false);
static GROUPS: Mutex<BTreeSet<i32>> = Mutex::new(BTreeSet::new());
static START: OnceLock<Instant> = OnceLock::new();

type Summary = Box<dyn Fn() -> String + Send>;
static SUMMARY: Mutex<Option<Summary>> = Mutex::new(None);

/// What to say about work in flight if the process is ended before it finishes (publishing
/// sets one: whether the release is still a draft, what was uploaded).
pub fn set_summary(f: Summary) {
    *SUMMARY.lock().unwrap_or_else(|e| e.into_inner()) = Some(f);
}

/// The work in flight finished.
pub fn clear_summary() {
    *SUMMARY.lock().unwrap_or_else(|e| e.into_inner()) = None;
}

/// The summary of the work in flight, if any, with secrets hidden.
pub fn summary() -> Option<String> {
    let guard = SUMMARY.lock().unwrap_or_else(|e| e.into_inner());
    guard.as_ref().map(|f| crate::redact::redact(&f()))
}

/// Whether a signal asked rel to stop: running work should give up (the handler exits).
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// Remember a child's process group, so an interrupt stops it.
pub fn register(pgid: i32) {
    GROUPS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(pgid);
}

/// Forget a child's process group once it has been waited for.
pub fn unregister(pgid: i32) {
    GROUPS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .remove(&pgid);
}

/// The registered process groups.
fn groups() -> Vec<i32> {
    GROUPS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .copied()
        .collect()
}

/// Send `sig` to every registered process group.
fn signal_groups(sig: i32) {
    for g in groups() {
        // SAFETY: killpg only sends a signal; a group that is gone yields ESRCH.
        unsafe {
            libc::killpg(g, sig);
        }
    }
}

/// Whether any registered group still has a process.
fn groups_alive() -> bool {
    let groups: Vec<i32> = GROUPS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .copied()
        .collect();
    // SAFETY: signal 0 only checks that the group exists.
    groups
        .into_iter()
        .any(|g| unsafe { libc::killpg(g, 0) } == 0)
}

/// Install the handlers (once, at start-up). A second signal during the grace period kills
/// at once.
pub fn install() {
    START.get_or_init(Instant::now);
    let signals = [
        signal_hook::consts::SIGINT,
        signal_hook::consts::SIGTERM,
        signal_hook::consts::SIGHUP,
    ];
    let Ok(mut sigs) = signal_hook::iterator::Signals::new(signals) else {
        return;
    };
    std::thread::spawn(move || {
        let mut first: Option<i32> = None;
        for sig in sigs.forever() {
            if first.is_some() {
                signal_groups(libc::SIGKILL);
                continue;
            }
            first = Some(sig);
            std::thread::spawn(move || stop(sig));
        }
    });
}

/// Stop every child, report, exit.
fn stop(sig: i32) {
    INTERRUPTED.store(true, Ordering::SeqCst);
    signal_groups(libc::SIGTERM);
    let until = Instant::now() + GRACE;
    while groups_alive() && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(20));
    }
    signal_groups(libc::SIGKILL);
    let elapsed = START.get().map(|s| s.elapsed()).unwrap_or_default();
    if let Some(s) = summary() {
        eprintln!("{s}");
    }
    eprintln!(
        "interrupted after {:.1}s: dist/ is incomplete; re-run with --clean",
        elapsed.as_secs_f64()
    );
    crate::dist::release_locks();
    std::process::exit(128 + sig);
}

/// For work that notices an interrupt: wait here until the handler exits the process, so
/// no error of the interrupted work is printed as if it were the cause.
pub fn park_if_interrupted() {
    if interrupted() {
        loop {
            std::thread::sleep(Duration::from_secs(1));
        }
    }
}
