//! Hostile and careless use: signals during a build, two runs in one folder, a `dist` that
//! holds tracked files, a token with a control character, and a corpus of bad inputs that
//! must never make rel panic.

mod common;
use common::*;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A project whose two builds start, leave a marker, then take `secs` before writing.
fn slow_project(dir: &Path, secs: &str) {
    write(
        dir,
        ".release.yaml",
        &format!(
            "project_name: tool\nbuilds:\n  - builder: command\n    targets: [linux_amd64_v1, linux_arm64]\n    command: [sh, -c, \"touch started-{{{{ target }}}}; sleep {secs}; echo built > {{{{ output }}}}\"]\n"
        ),
    );
    write(dir, ".gitignore", "dist/\nstarted-*\ngate\n");
    init_repo(dir);
}

/// A project whose builds wait until the test creates `gate` (at most a minute), so a
/// test can act while they run however slow the machine is.
fn gated_project(dir: &Path) {
    write(dir, ".gitignore", "dist/\nstarted-*\ngate\n");
    write(
        dir,
        ".release.yaml",
        "project_name: tool\nbuilds:\n  - builder: command\n    targets: [linux_amd64_v1, linux_arm64]\n    command: [sh, -c, \"touch started-{{ target }}; i=0; while [ ! -e gate ] && [ $i -lt 1200 ]; do sleep 0.05; i=$((i+1)); done; echo built > {{ output }}\"]\n",
    );
    init_repo(dir);
}

fn spawn(dir: &Path, args: &[&str]) -> Child {
    let mut c = rel(dir);
    c.args(args).stdout(Stdio::piped()).stderr(Stdio::piped());
    c.spawn().unwrap()
}

fn wait_for(what: &str, cond: impl Fn() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "timed out: {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Processes whose command line contains `needle`.
fn processes_with(needle: &str) -> Vec<String> {
    let mut out = vec![];
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        if let Ok(cmd) = std::fs::read(e.path().join("cmdline")) {
            let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
            if cmd.contains(needle) {
                out.push(cmd);
            }
        }
    }
    out
}

fn started(dir: &Path) -> bool {
    dir.join("started-linux_amd64_v1").exists() && dir.join("started-linux_arm64").exists()
}

#[test]
fn a_signal_stops_every_build_and_says_what_is_left() {
    for (sig, code, secs) in [
        (libc::SIGTERM, 143, "31.07"),
        (libc::SIGINT, 130, "31.08"),
        (libc::SIGHUP, 129, "31.09"),
    ] {
        let d = tempfile::tempdir().unwrap();
        let dir = d.path();
        slow_project(dir, secs);
        let child = spawn(dir, &["release", "--snapshot", "--clean", "-p", "2"]);
        wait_for("both builds started", || started(dir));
        // SAFETY: sends a signal to the rel process this test started.
        unsafe {
            libc::kill(child.id() as i32, sig);
        }
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(code), "signal {sig}: {err}");
        assert!(
            err.contains("interrupted after")
                && err.contains("dist/ is incomplete; re-run with --clean"),
            "{err}"
        );
        assert!(!err.contains("panicked"), "{err}");
        // Every build process is gone: nothing can write into the next run's dist/.
        wait_for("the builds to be gone", || {
            processes_with(&format!("sleep {secs}")).is_empty()
        });
        assert!(!dir.join("dist/.rel.lock").exists(), "the lock is released");
        // And the next run works.
        write(
            dir,
            ".release.yaml",
            "project_name: tool\nbuilds:\n  - builder: command\n    targets: [linux_amd64_v1]\n    command: [sh, -c, \"echo built > {{ output }}\"]\n",
        );
        git(dir, &["commit", "-qam", "fix: fast"]);
        let (c, _, err) = rel_run(dir, &["release", "--snapshot", "--clean"]);
        assert_eq!(c, 0, "{err}");
    }
}

#[test]
fn children_die_with_a_killed_rel() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    slow_project(dir, "1.5");
    let mut child = spawn(dir, &["build", "--snapshot", "--clean", "-p", "2"]);
    wait_for("both builds started", || started(dir));
    child.kill().unwrap();
    child.wait().unwrap();
    std::thread::sleep(Duration::from_millis(2500));
    let built: Vec<_> = walkdir::WalkDir::new(dir.join("dist"))
        .into_iter()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name() == "tool")
        .map(|e| e.path().display().to_string())
        .collect();
    assert!(built.is_empty(), "an orphaned build wrote {built:?}");
}

#[test]
fn a_second_run_in_the_same_dist_stops_and_names_the_first() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    gated_project(dir);
    let first = spawn(dir, &["release", "--snapshot", "--clean", "-p", "2"]);
    wait_for("the first run's builds", || started(dir));
    let (code, _, err) = rel_run(dir, &["release", "--snapshot", "--clean", "-p", "2"]);
    write(dir, "gate", "");
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("in use by another rel run") && err.contains(&format!("pid {}", first.id())),
        "{err}"
    );
    let out = first.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let listed: Vec<String> = std::fs::read_dir(dir.join("dist"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let checksum = listed
        .iter()
        .find(|n| n.ends_with("checksums.txt"))
        .unwrap();
    let ok = Command::new("sha256sum")
        .args(["-c", checksum])
        .current_dir(dir.join("dist"))
        .output()
        .unwrap();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stdout)
    );
    assert!(!listed.contains(&".rel.lock".to_string()), "{listed:?}");
}

#[test]
fn a_dist_holding_tracked_files_is_refused() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    write(
        dir,
        ".release.yaml",
        "project_name: tool\ndist: docs\nbuilds:\n  - builder: command\n    targets: [linux_amd64_v1]\n    command: [sh, -c, \"echo x > {{ output }}\"]\n",
    );
    write(dir, "docs/guide.md", "# guide\n");
    init_repo(dir);
    for args in [&["check"][..], &["release", "--snapshot", "--clean"][..]] {
        let (code, _, err) = rel_run(dir, args);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(
            err.contains("docs/guide.md") && err.contains("git tracks"),
            "{err}"
        );
    }
    assert!(dir.join("docs/guide.md").is_file(), "nothing was deleted");
}

#[test]
fn a_token_with_a_control_character_is_a_clear_error() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    write(
        dir,
        ".release.yaml",
        "project_name: tool\nbuilds:\n  - builder: command\n    targets: [linux_amd64_v1]\n    command: [sh, -c, \"echo x > {{ output }}\"]\nrelease:\n  github: {owner: acme, name: tool}\n  github_urls: {api: \"http://127.0.0.1:9/\", uploads: \"http://127.0.0.1:9/\"}\n",
    );
    write(dir, ".gitignore", "dist/\n");
    init_repo(dir);
    git(dir, &["tag", "v1.0.0"]);
    for args in [&["release", "--dry-run"][..], &["release", "--clean"][..]] {
        let mut c = rel(dir);
        c.args(args).env("GITHUB_TOKEN", "ghp_abc\u{1}def");
        let (code, out, err) = run(c);
        assert_eq!(code, 2, "{args:?}: {out}{err}");
        assert!(err.contains("holds a character"), "{err}");
        assert!(!err.contains("ghp_abc"), "the token is never shown: {err}");
        assert!(!dir.join("dist").exists(), "nothing was built");
    }
}

/// Bad inputs of every kind; each is a whole `.release.yaml` (or `None`: no file).
fn corpus() -> Vec<(&'static str, String)> {
    let base = "project_name: tool\nbuilds:\n  - builder: command\n    targets: [linux_amd64_v1]\n    command: [sh, -c, \"echo x > {{ output }}\"]\n";
    let mut v: Vec<(&str, String)> = vec![
        ("empty", String::new()),
        ("null", "~\n".into()),
        ("a list", "- a\n- b\n".into()),
        ("a scalar", "hello\n".into()),
        ("tabs", "\tversion: 1\n".into()),
        (
            "binary",
            String::from_utf8_lossy(&[0xff, 0xfe, 0, 1, 2, 3]).into_owned(),
        ),
        (
            "deep",
            format!("x: {}{}\n", "[".repeat(500), "]".repeat(500)),
        ),
        ("huge version", "version: 99999999999999999999999\n".into()),
        (
            "negative parallel",
            format!("{base}release:\n  upload_concurrency: -1\n"),
        ),
        ("wrong types", "builds: 3\narchives: {a: 1}\n".into()),
        (
            "bad target",
            format!("{base}  - builder: go\n    targets: [linux_amd64_v9, x_y_z, \"\"]\n"),
        ),
        (
            "bad template",
            format!("{base}archives:\n  - name_template: \"{{{{ }}\"\n"),
        ),
        (
            "div zero",
            format!("{base}archives:\n  - name_template: \"{{{{ 1 // 0 }}}}\"\n"),
        ),
        (
            "go syntax",
            format!("{base}snapshot:\n  version_template: \"{{{{ incpatch .Version }}}}\"\n"),
        ),
        (
            "huge number template",
            format!(
                "{base}archives:\n  - name_template: \"{{{{ 99999999999999999999 * 99999999999999999999 }}}}\"\n"
            ),
        ),
        (
            "recursion",
            format!(
                "{base}archives:\n  - name_template: \"{{% macro f() %}}{{{{ f() }}}}{{% endmacro %}}{{{{ f() }}}}\"\n"
            ),
        ),
        (
            "unicode names",
            format!("{base}archives:\n  - name_template: \"\u{202e}\u{0}x\"\n"),
        ),
        ("dist dot", format!("dist: .\n{base}")),
        ("dist git", format!("dist: .git/x\n{base}")),
        ("dist abs", format!("dist: /tmp\n{base}")),
        (
            "mod_timestamp",
            format!("{base}    mod_timestamp: \"not a number\"\n"),
        ),
        (
            "huge mod_timestamp",
            format!("{base}    mod_timestamp: \"99999999999999999999\"\n"),
        ),
        ("empty hook", format!("before:\n  hooks: [\"\"]\n{base}")),
        (
            "unclosed quote",
            format!("before:\n  hooks: [\"echo 'x\"]\n{base}"),
        ),
        (
            "bad regex",
            format!("{base}changelog:\n  filters:\n    exclude: [\"(\"]\n"),
        ),
        (
            "bad glob",
            format!("{base}release:\n  extra_files:\n    - glob: \"a[\"\n"),
        ),
        (
            "bad image",
            format!(
                "{base}images:\n  - repository: \"ghcr.io/A..b/\"\n    platforms: [linux/what]\n"
            ),
        ),
        (
            "bad url",
            format!("{base}release:\n  github_urls: {{api: \"not a url\"}}\n"),
        ),
        ("anchors", "a: &a [*a]\n".into()),
        (
            "bomb",
            format!(
                "a: &a [x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b]\nd: [*c,*c,*c,*c,*c,*c,*c,*c]\n{base}"
            ),
        ),
        (
            "long line",
            format!("{base}project_name: \"{}\n", "x".repeat(200_000)),
        ),
    ];
    v.push(("base", base.to_string()));
    v
}

#[test]
fn no_bad_input_makes_rel_panic() {
    let commands: Vec<Vec<&str>> = vec![
        vec!["check"],
        vec!["release", "--snapshot", "--dry-run"],
        vec!["release", "--snapshot", "--clean"],
        vec!["build", "--snapshot", "--clean", "--single-target"],
        vec!["plan", "--json"],
        vec!["ci", "github", "--output", "-"],
        vec!["changelog"],
        vec!["next-version"],
        vec!["continue", "--merge"],
        vec!["release", "--dry-run"],
    ];
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    write(dir, "README.md", "x\n");
    write(dir, ".gitignore", "dist/\n");
    init_repo(dir);
    git(dir, &["tag", "v1.0.0"]);
    let mut failures = vec![];
    let mut runs = 0;
    for (name, text) in corpus() {
        write(dir, ".release.yaml", &text);
        for args in &commands {
            let mut c = rel(dir);
            c.args(args)
                .env("GITHUB_TOKEN", "tok\u{7f}en")
                .env("SOURCE_DATE_EPOCH", "");
            let (code, out, err) = run(c);
            runs += 1;
            if code == 101 || err.contains("panicked at") || out.contains("panicked at") {
                failures.push(format!(
                    "{name}: rel {}: exit {code}\n{err}",
                    args.join(" ")
                ));
            }
            assert!(
                err.len() < 20_000,
                "{name}: rel {args:?} printed {} bytes",
                err.len()
            );
        }
    }
    // Flags and environments that are wrong on their own.
    for (args, env) in [
        (vec!["release", "--snapshot", "-p", "0"], vec![]),
        (
            vec!["release", "--snapshot", "-p", "99999999999999999999"],
            vec![],
        ),
        (
            vec!["release", "--snapshot", "--timeout", "99999999999999y"],
            vec![],
        ),
        (vec!["release", "--snapshot", "--timeout", "-1s"], vec![]),
        (vec!["release", "--snapshot", "--skip", ",,,"], vec![]),
        (
            vec!["release", "--snapshot", "--dry-run"],
            vec![("SOURCE_DATE_EPOCH", "99999999999999999")],
        ),
        (
            vec!["release", "--snapshot", "--dry-run"],
            vec![("SOURCE_DATE_EPOCH", "-99999999999")],
        ),
        (vec!["check", "--config", "/dev/null"], vec![]),
        (vec!["check", "--config", "/"], vec![]),
        (
            vec![
                "release",
                "--split",
                "--partial-target",
                "../../x",
                "--snapshot",
            ],
            vec![],
        ),
        (vec!["next-version", "--tag-prefix", "\u{1}"], vec![]),
    ] {
        write(dir, ".release.yaml", &corpus().last().unwrap().1);
        let mut c = rel(dir);
        c.args(&args).envs(env);
        let (code, out, err) = run(c);
        runs += 1;
        if code == 101 || err.contains("panicked at") || out.contains("panicked at") {
            failures.push(format!("rel {}: exit {code}\n{err}", args.join(" ")));
        }
    }
    assert!(runs > 300, "{runs}");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
