//! Running child processes: no shell, output captured to a file, cancellable.
//!
//! Output goes to a temporary file rather than pipes so that a chatty build can never
//! deadlock on a full pipe and memory stays flat however much it prints; the file is read
//! back only when the command fails and its output must be shown.

use crate::error::{Error, Result};
use std::io::Read;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// A command to run.
#[derive(Debug, Clone, Default)]
pub struct Invocation {
    /// argv: program then arguments.
    pub argv: Vec<String>,
    /// The full environment of the child.
    pub env: Vec<(String, String)>,
    /// Working folder.
    pub dir: std::path::PathBuf,
    /// A file given to the command's standard input (none: an empty input).
    pub stdin: Option<std::path::PathBuf>,
}

/// Environment variables that decide what a build makes, shown before the command in `-v`
/// logs and failure messages so the line can be pasted into a shell.
const SHOWN_ENV: &[&str] = &[
    "GOOS",
    "GOARCH",
    "GOARM",
    "GOAMD64",
    "GOARM64",
    "GO386",
    "GOMIPS",
    "GOMIPS64",
    "GOPPC64",
    "GORISCV64",
    "GOEXPERIMENT",
    "GOFLAGS",
    "CGO_ENABLED",
    "CGO_CFLAGS",
    "CGO_LDFLAGS",
    "CC",
    "CXX",
    "RUSTFLAGS",
    "CARGO_BUILD_TARGET",
];

impl Invocation {
    /// The command line, quoted like a shell would need it (for messages and dry runs).
    pub fn display(&self) -> String {
        crate::redact::redact(&shell_words::join(&self.argv))
    }

    /// The command line with the build environment it runs in (`GOOS=linux GOARCH=arm64 go
    /// build …`), ready to paste into a shell.
    pub fn shell_line(&self) -> String {
        let mut parts: Vec<String> = self
            .env
            .iter()
            .filter(|(k, _)| SHOWN_ENV.contains(&k.as_str()))
            .filter(|(k, v)| std::env::var(k).ok().as_deref() != Some(v.as_str()))
            .map(|(k, v)| format!("{k}={}", shell_words::quote(v)))
            .collect();
        parts.sort();
        parts.push(shell_words::join(&self.argv));
        crate::redact::redact(&parts.join(" "))
    }
}

/// Split a hook command like a shell would, without running a shell.
pub fn split(cmd: &str) -> Result<Vec<String>> {
    let argv = shell_words::split(cmd)
        .map_err(|e| Error::Usage(format!("cannot split command `{cmd}`: {e}")))?;
    if argv.is_empty() {
        return Err(Error::Usage("empty command".into()));
    }
    Ok(argv)
}

/// Run `inv` to completion. Its output (stdout and stderr interleaved) is returned; a
/// failure becomes an error that names `what`, the command and its output. When `cancel`
/// turns true or `deadline` passes, the child is killed.
pub fn run(
    what: &str,
    inv: &Invocation,
    cancel: &AtomicBool,
    deadline: Option<Instant>,
) -> Result<String> {
    let log = tempfile::tempfile()
        .map_err(|e| Error::Failed(format!("cannot create a temporary file: {e}")))?;
    let log2 = log
        .try_clone()
        .map_err(|e| Error::Failed(format!("cannot create a temporary file: {e}")))?;
    let (program, args) = inv
        .argv
        .split_first()
        .ok_or_else(|| Error::Usage(format!("{what}: empty command")))?;
    let parent = std::process::id() as i32;
    let mut cmd = Command::new(program);
    // A process group of its own: an interrupt or a cancellation stops the command and
    // everything it started (background helpers included) with one killpg, and a Ctrl-C in
    // the terminal reaches rel, which decides, rather than each build at once.
    cmd.process_group(0);
    #[cfg(target_os = "linux")]
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            // Die with rel, even when rel is SIGKILLed; if rel is already gone, give up.
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 || libc::getppid() != parent
            {
                return Err(std::io::Error::other("rel exited"));
            }
            Ok(())
        });
    }
    if crate::interrupt::interrupted() {
        return Err(Error::Cancelled(format!("{what}: interrupted")));
    }
    let mut child =
        cmd.args(args)
            .env_clear()
            .envs(inv.env.iter().map(|(k, v)| (k, v)))
            .current_dir(&inv.dir)
            .stdin(match &inv.stdin {
                Some(p) => Stdio::from(std::fs::File::open(p).map_err(|e| {
                    Error::Failed(format!("{what}: cannot read {}: {e}", p.display()))
                })?),
                None => Stdio::null(),
            })
            .stdout(Stdio::from(log))
            .stderr(Stdio::from(
                log2.try_clone().map_err(|e| Error::Failed(e.to_string()))?,
            ))
            .spawn()
            .map_err(|e| {
                Error::Build(format!(
                    "{what}: cannot start `{}` in {}: {e}",
                    inv.display(),
                    display_dir(&inv.dir)
                ))
            })?;
    let pgid = child.id() as i32;
    crate::interrupt::register(pgid);
    let status = wait_child(&mut child, cancel, deadline);
    crate::interrupt::unregister(pgid);
    let status = match status {
        Waited::Exited(s) => s,
        Waited::Failed(e) => return Err(Error::Build(format!("{what}: {e}"))),
        Waited::Interrupted => return Err(Error::Cancelled(format!("{what}: interrupted"))),
        Waited::Stopped { timed_out } => {
            return Err(if timed_out {
                Error::Build(format!(
                    "{what}: killed after --timeout: `{}`",
                    inv.display()
                ))
            } else {
                Error::Cancelled(format!("{what}: cancelled because another task failed"))
            });
        }
    };
    let mut output = String::new();
    let mut log = log2;
    use std::io::Seek;
    let _ = log.seek(std::io::SeekFrom::Start(0));
    let _ = log.read_to_string(&mut output);
    if status.success() {
        return Ok(output);
    }
    let why = match (status.code(), status.signal()) {
        (Some(c), _) => format!("exited with status {c}"),
        (None, Some(9)) => "was killed by signal 9 (SIGKILL; the out-of-memory killer does this: try a lower --parallelism)".into(),
        (None, Some(s)) => format!("was killed by signal {s}"),
        _ => "failed".into(),
    };
    Err(Error::Build(format!(
        "{what} failed: the command {why}\n  command: {}\n  in: {}\n{}",
        inv.shell_line(),
        display_dir(&inv.dir),
        indent(&crate::redact::redact(output.trim_end()))
    )))
}

/// How waiting for a child ended.
enum Waited {
    Exited(std::process::ExitStatus),
    Failed(std::io::Error),
    /// Killed for a cancellation or `--timeout`.
    Stopped {
        timed_out: bool,
    },
    /// An interrupt: the signal handler stops the group and exits.
    Interrupted,
}

/// Wait for `child`, polling for cancellation, the deadline and an interrupt.
fn wait_child(
    child: &mut std::process::Child,
    cancel: &AtomicBool,
    deadline: Option<Instant>,
) -> Waited {
    let mut wait = Duration::from_millis(1);
    loop {
        match child.try_wait() {
            Ok(Some(status)) if crate::interrupt::interrupted() && !status.success() => {
                return Waited::Interrupted;
            }
            Ok(Some(status)) => return Waited::Exited(status),
            Ok(None) => {}
            Err(e) => return Waited::Failed(e),
        }
        let timed_out = deadline.is_some_and(|d| Instant::now() >= d);
        if cancel.load(Ordering::Relaxed) || timed_out {
            kill_tree(child.id());
            // SAFETY: killpg only sends a signal to the child's own group.
            unsafe {
                libc::killpg(child.id() as i32, libc::SIGKILL);
            }
            let _ = child.kill();
            let _ = child.wait();
            return Waited::Stopped { timed_out };
        }
        std::thread::sleep(wait);
        wait = (wait * 2).min(Duration::from_millis(20));
    }
}

/// Kill the descendants of `pid` (compilers and linkers under `go build` or `cargo`), found
/// through `/proc`, children first seen last: the ones that left the command's process group
/// are reached too. This is for cancellation and `--timeout`.
fn kill_tree(pid: u32) {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return;
    };
    let mut parent_of: Vec<(u32, u32)> = vec![];
    for e in entries.flatten() {
        let Some(p) = e.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else {
            continue;
        };
        // /proc/PID/stat: "pid (comm) state ppid ..."; comm may hold spaces, so split after ')'.
        if let Ok(stat) = std::fs::read_to_string(format!("/proc/{p}/stat"))
            && let Some(rest) = stat.rsplit_once(')').map(|x| x.1)
            && let Some(ppid) = rest.split_whitespace().nth(1).and_then(|x| x.parse().ok())
        {
            parent_of.push((p, ppid));
        }
    }
    let mut tree = vec![pid];
    let mut i = 0;
    while i < tree.len() {
        let parent = tree[i];
        tree.extend(
            parent_of
                .iter()
                .filter(|(_, pp)| *pp == parent)
                .map(|(p, _)| *p),
        );
        i += 1;
    }
    for p in tree.into_iter().skip(1) {
        let _ = Command::new("kill")
            .args(["-9", &p.to_string()])
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

fn display_dir(p: &Path) -> String {
    p.display().to_string()
}

fn indent(s: &str) -> String {
    if s.is_empty() {
        return "  (no output)".into();
    }
    s.lines()
        .map(|l| format!("  | {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inv(argv: &[&str]) -> Invocation {
        Invocation {
            stdin: None,
            argv: argv.iter().map(|s| s.to_string()).collect(),
            env: std::env::vars().collect(),
            dir: std::env::temp_dir(),
        }
    }

    #[test]
    fn captures_output_and_failure() {
        let ok = run(
            "t",
            &inv(&["sh", "-c", "echo hi; echo err >&2"]),
            &AtomicBool::new(false),
            None,
        )
        .unwrap();
        assert!(ok.contains("hi") && ok.contains("err"));
        let e = run(
            "build x",
            &inv(&["sh", "-c", "echo boom; exit 3"]),
            &AtomicBool::new(false),
            None,
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("build x failed: the command exited with status 3"),
            "{e}"
        );
        assert!(e.contains("| boom"), "{e}");
    }

    #[test]
    fn reports_signals() {
        let e = run(
            "t",
            &inv(&["sh", "-c", "kill -9 $$"]),
            &AtomicBool::new(false),
            None,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("signal 9"), "{e}");
    }

    #[test]
    fn cancel_kills_the_child() {
        let cancel = AtomicBool::new(true);
        let start = Instant::now();
        let e = run("t", &inv(&["sleep", "5"]), &cancel, None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("cancelled"), "{e}");
        assert!(start.elapsed() < Duration::from_secs(4));
    }

    #[test]
    fn cancel_kills_grandchildren_too() {
        let dir = tempfile::tempdir().unwrap();
        let pidfile = dir.path().join("pid");
        let script = format!("sleep 30 & echo $! > {}; wait", pidfile.display());
        let cancel = std::sync::Arc::new(AtomicBool::new(false));
        let c2 = cancel.clone();
        let p2 = pidfile.clone();
        std::thread::spawn(move || {
            while !p2.exists() {
                std::thread::sleep(Duration::from_millis(10));
            }
            c2.store(true, Ordering::Relaxed);
        });
        assert!(run("t", &inv(&["sh", "-c", &script]), &cancel, None).is_err());
        let pid = std::fs::read_to_string(&pidfile)
            .unwrap()
            .trim()
            .to_string();
        let start = Instant::now();
        // Killed, then reaped by init: its /proc entry goes away (or shows a zombie briefly).
        loop {
            let state = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            let alive = state
                .rsplit_once(')')
                .is_some_and(|(_, r)| !r.trim_start().starts_with('Z'));
            if !alive {
                break;
            }
            assert!(
                start.elapsed() < Duration::from_secs(5),
                "grandchild {pid} still runs"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    #[test]
    fn splits_like_a_shell() {
        assert_eq!(split("echo 'a b' c").unwrap(), ["echo", "a b", "c"]);
        assert!(split("echo 'a").is_err());
    }
}
