//! End-to-end builds with the real Go toolchain, cargo, and the command/prebuilt builders.

mod common;
use common::*;
use std::path::Path;

const MATRIX: &str = r#"
version: 1
project_name: hello
env: ["CGO_ENABLED=0"]
builds:
  - id: hello
    main: .
    goos: [linux, darwin, windows]
    goarch: [amd64, arm64, arm, "386"]
    goarm: ["7"]
    ignore: [{goos: windows, goarch: "386"}]
    flags: ["-trimpath"]
    ldflags: ["-s -w -X main.version={{ version }} -X main.commit={{ short_commit }}"]
    mod_timestamp: "{{ commit_timestamp }}"
"#;

fn file_type(p: &Path) -> String {
    let out = std::process::Command::new("file")
        .arg("-b")
        .arg(p)
        .output()
        .expect("`file` is installed by scripts/test.sh");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn json(p: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
}

#[test]
fn go_matrix_builds_every_target_in_parallel() {
    require_go();
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    go_project(dir, MATRIX);
    init_repo(dir);
    git(dir, &["tag", "v1.2.3"]);
    let short = git(dir, &["rev-parse", "--short", "HEAD"]);
    let (code, _out, err) = rel_run(dir, &["build", "-p", "2"]);
    assert_eq!(code, 0, "{err}");

    let want = [
        (
            "linux_amd64_v1",
            "hello",
            "ELF 64-bit LSB executable, x86-64",
        ),
        (
            "linux_arm64",
            "hello",
            "ELF 64-bit LSB executable, ARM aarch64",
        ),
        (
            "linux_arm_7",
            "hello",
            "ELF 32-bit LSB executable, ARM, EABI5",
        ),
        (
            "linux_386",
            "hello",
            "ELF 32-bit LSB executable, Intel 80386",
        ),
        (
            "darwin_amd64_v1",
            "hello",
            "Mach-O 64-bit x86_64 executable",
        ),
        ("darwin_arm64", "hello", "Mach-O 64-bit arm64 executable"),
        (
            "windows_amd64_v1",
            "hello.exe",
            "PE32+ executable (console) x86-64",
        ),
        (
            "windows_arm64",
            "hello.exe",
            "PE32+ executable (console) Aarch64",
        ),
    ];
    for (target, bin, kind) in want {
        let p = dir.join("dist").join(format!("hello_{target}")).join(bin);
        assert!(p.is_file(), "missing {}", p.display());
        let t = file_type(&p);
        assert!(t.starts_with(kind), "{target}: `file` says {t}");
        // mod_timestamp: the commit time (2024-01-02T03:04:05Z).
        let mtime = std::fs::metadata(&p).unwrap().modified().unwrap();
        assert_eq!(
            mtime
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs(),
            1704164645
        );
    }
    let entries = std::fs::read_dir(dir.join("dist")).unwrap().count();
    assert_eq!(
        entries,
        8 + 3,
        "8 target folders, artifacts.json, metadata.json, config.yaml"
    );

    let out = std::process::Command::new(dir.join("dist/hello_linux_amd64_v1/hello"))
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("hello 1.2.3 {short}\n")
    );

    let arts = json(&dir.join("dist/artifacts.json"));
    let arts = arts.as_array().unwrap();
    assert_eq!(arts.len(), 8);
    for a in arts {
        assert_eq!(a["kind"], "binary");
        let path = dir.join(a["path"].as_str().unwrap());
        let (sha, size) = rel::dist::sha256_file(&path).unwrap();
        assert_eq!(a["sha256"], sha.as_str());
        assert_eq!(a["size"], size);
        assert_eq!(a["build_id"], "hello");
    }
    let meta = json(&dir.join("dist/metadata.json"));
    assert_eq!(meta["version"], "1.2.3");
    assert_eq!(meta["tag"], "v1.2.3");
    assert_eq!(meta["snapshot"], false);
    assert_eq!(meta["project_name"], "hello");
}

#[test]
fn a_failing_target_names_itself_and_stops_the_others() {
    require_go();
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    go_project(dir, MATRIX);
    write(
        dir,
        "broken_windows.go",
        "//go:build windows\n\npackage main\n\nfunc broken() { this is not go }\n",
    );
    init_repo(dir);
    let (code, _, err) = rel_run(dir, &["build", "--snapshot"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("build `hello` for windows_"), "{err}");
    assert!(
        err.contains("go build -trimpath"),
        "the command line is shown: {err}"
    );
    assert!(
        err.contains("broken_windows.go"),
        "the compiler output is shown: {err}"
    );
    assert!(
        !dir.join("dist/metadata.json").exists(),
        "no metadata for a failed build"
    );
}

#[test]
fn release_refuses_untagged_or_dirty_trees() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    go_project(dir, MATRIX);
    init_repo(dir);
    let (code, _, err) = rel_run(dir, &["build"]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("HEAD is not tagged")
            && err.contains("git tag v0.1.0")
            && err.contains("--snapshot"),
        "{err}"
    );
    git(dir, &["tag", "v0.1.0"]);
    write(dir, "main.go", "package main\nfunc main() {}\n");
    let (code, _, err) = rel_run(dir, &["release", "--dry-run"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("dirty") && err.contains("main.go"), "{err}");
    assert!(!dir.join("dist").exists());
    let (code, _, err) = rel_run(dir, &["release", "--dry-run", "--skip", "validate,publish"]);
    assert_eq!(code, 0, "--skip validate releases a dirty tree: {err}");
}

#[test]
fn dry_run_prints_the_plan_and_touches_nothing() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    go_project(dir, MATRIX);
    init_repo(dir);
    git(dir, &["tag", "v2.0.0"]);
    let (code, out, err) = rel_run(dir, &["release", "--dry-run", "--skip", "publish"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("version: 2.0.0"), "{out}");
    assert!(out.contains("builds (8):"), "{out}");
    assert!(
        out.contains("hello linux_arm_7 -> dist/hello_linux_arm_7/hello"),
        "{out}"
    );
    assert!(
        out.contains("-ldflags=-s -w -X main.version=2.0.0"),
        "{out}"
    );
    assert!(!dir.join("dist").exists(), "a dry run writes nothing");
}

#[test]
fn dist_must_be_empty_unless_clean() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    let cfg = r#"
builds:
  - id: tool
    builder: command
    goos: [linux]
    goarch: [amd64]
    command: [sh, -c, "printf '#!/bin/sh\necho tool {{ version }}\n' > {{ output }} && chmod +x {{ output }}"]
"#;
    write(dir, ".release.yaml", cfg);
    write(dir, ".gitignore", "dist/\n");
    init_repo(dir);
    write(dir, "dist/stale", "x");
    let build = |clean: bool| {
        let mut c = rel(dir);
        c.args(["build", "--snapshot"]);
        if clean {
            c.arg("--clean");
        }
        run(c)
    };
    let (code, _, err) = build(false);
    assert_eq!(code, 1);
    assert!(
        err.contains("not empty") && err.contains("--clean"),
        "{err}"
    );
    let (code, _, err) = build(true);
    assert_eq!(code, 0, "{err}");
    assert!(!dir.join("dist/stale").exists());
    let out = std::process::Command::new(dir.join("dist/tool_linux_amd64_v1/tool"))
        .output()
        .unwrap();
    let short = git(dir, &["rev-parse", "--short", "HEAD"]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("tool 0.0.0-SNAPSHOT-{short}\n")
    );
}

#[test]
fn hooks_env_prebuilt_and_snapshot_versions() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    let cfg = r#"
project_name: demo
env: ["GREETING=hi-{{ version }}"]
before:
  hooks: ["sh -c 'echo before > before.txt'"]
builds:
  - id: pre
    builder: prebuilt
    goos: [linux, darwin]
    goarch: [arm64]
    binary: demo
    path: "prebuilt/{{ os }}_{{ arch }}/demo"
    hooks:
      pre: ["sh -c 'echo {{ target }} >> pre.txt'"]
      post: ["sh -c 'test -f {{ output }} && echo $GREETING >> post.txt'"]
"#;
    write(dir, ".release.yaml", cfg);
    write(dir, ".gitignore", "dist/\n*.txt\n");
    write(dir, "prebuilt/linux_arm64/demo", "linux-bin");
    write(dir, "prebuilt/darwin_arm64/demo", "darwin-bin");
    init_repo(dir);
    git(dir, &["tag", "v1.4.0"]);
    write(dir, "extra", "x");
    git(dir, &["add", "extra"]);
    git(dir, &["commit", "-qm", "fix: later"]);
    let (code, _, err) = rel_run(dir, &["build", "--snapshot", "-p", "1"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        std::fs::read_to_string(dir.join("before.txt")).unwrap(),
        "before\n"
    );
    let mut pre: Vec<String> = std::fs::read_to_string(dir.join("pre.txt"))
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    pre.sort();
    assert_eq!(pre, ["darwin_arm64", "linux_arm64"]);
    let short = git(dir, &["rev-parse", "--short", "HEAD"]);
    let post = std::fs::read_to_string(dir.join("post.txt")).unwrap();
    assert_eq!(
        post,
        format!("hi-1.4.0-SNAPSHOT-{short}\n").repeat(2),
        "global env is templated with the base version"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("dist/pre_darwin_arm64/demo")).unwrap(),
        "darwin-bin"
    );
    let meta = json(&dir.join("dist/metadata.json"));
    assert_eq!(meta["version"], format!("1.4.0-SNAPSHOT-{short}"));
    assert_eq!(meta["snapshot"], true);

    // A prebuilt binary that does not exist is a clear error.
    std::fs::remove_file(dir.join("prebuilt/darwin_arm64/demo")).unwrap();
    let (code, _, err) = rel_run(dir, &["build", "--snapshot", "--clean"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("prebuilt binary")
            && err.contains("prebuilt/darwin_arm64/demo")
            && err.contains("does not exist"),
        "{err}"
    );
}

#[test]
fn timeouts_and_signals_are_reported() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    let cfg = r#"
builds:
  - id: slow
    builder: command
    goos: [linux]
    goarch: [amd64]
    command: [sleep, "30"]
  - id: killed
    builder: command
    goos: [linux]
    goarch: [arm64]
    command: [sh, -c, "kill -9 $$"]
"#;
    write(dir, ".release.yaml", cfg);
    init_repo(dir);
    let start = std::time::Instant::now();
    let (code, _, err) = rel_run(
        dir,
        &["build", "--snapshot", "--id", "slow", "--timeout", "1s"],
    );
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("--timeout"), "{err}");
    assert!(start.elapsed() < std::time::Duration::from_secs(20));
    let (code, _, err) = rel_run(dir, &["build", "--snapshot", "--clean", "--id", "killed"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("killed by signal 9"), "{err}");
}

#[test]
fn cargo_builder_builds_a_crate_for_the_host() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    write(
        dir,
        "Cargo.toml",
        "[package]\nname = \"tiny\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[workspace]\n",
    );
    write(
        dir,
        "src/main.rs",
        "fn main() { println!(\"tiny {}\", env!(\"TINY_VERSION\")); }\n",
    );
    write(dir, ".gitignore", "dist/\ntarget/\nCargo.lock\n");
    write(
        dir,
        ".release.yaml",
        "project_name: tiny\nbuilds:\n  - builder: cargo\n    main: tiny\n    env: [\"TINY_VERSION={{ version }}\"]\n",
    );
    init_repo(dir);
    git(dir, &["tag", "v0.3.1"]);
    let (code, _, err) = run({
        let mut c = rel(dir);
        c.arg("build");
        c.env_remove("CARGO_TARGET_DIR");
        c
    });
    assert_eq!(code, 0, "{err}");
    let triple = rel::target::host_triple();
    let bin = dir.join(format!("dist/tiny_{triple}/tiny"));
    let out = std::process::Command::new(&bin).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "tiny 0.3.1\n");
    let arts = json(&dir.join("dist/artifacts.json"));
    assert_eq!(arts[0]["target"], triple.as_str());
    assert_eq!(arts[0]["os"], "linux");
}

#[test]
fn secrets_in_templated_commands_are_hidden() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    let cfg = r#"
before:
  hooks: ["sh -c 'echo token is {{ env.DEPLOY_TOKEN }}; exit 3'"]
builds:
  - builder: command
    goos: [linux]
    goarch: [amd64]
    command: [touch, "{{ output }}"]
"#;
    write(dir, ".release.yaml", cfg);
    init_repo(dir);
    let secret = "s3cr3t-value-0123456789";
    let (code, out, err) = run({
        let mut c = rel(dir);
        c.args(["build", "--snapshot", "-v"])
            .env("DEPLOY_TOKEN", secret);
        c
    });
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("echo token is ***") && err.contains("| token is ***"),
        "{err}"
    );
    assert!(
        !err.contains(secret) && !out.contains(secret),
        "the token leaked: {err}"
    );
}

#[test]
fn a_checksum_file_named_like_rels_own_files_is_refused_before_building() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    let cfg = "project_name: demo\nbuilds:\n  - builder: command\n    goos: [linux]\n    goarch: [amd64]\n    command: [touch, \"{{ output }}\"]\nchecksum:\n  name_template: metadata.json\n";
    write(dir, ".release.yaml", cfg);
    init_repo(dir);
    let (code, _, err) = rel_run(dir, &["release", "--snapshot"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("dist/metadata.json") && err.contains("checksum.name_template"),
        "{err}"
    );
    assert!(!dir.join("dist").exists(), "nothing written");
}

#[test]
fn an_image_repository_that_renders_invalid_stops_before_building() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    let cfg = "project_name: demo\nbuilds:\n  - builder: command\n    goos: [linux]\n    goarch: [amd64]\n    command: [touch, \"{{ output }}\"]\nimages:\n  - repository: \"ghcr.io/{{ env.REPO }}\"\n";
    write(dir, ".release.yaml", cfg);
    write(dir, ".gitignore", "dist/\n");
    init_repo(dir);
    git(dir, &["tag", "v1.0.0"]);
    let (code, _, err) = run({
        let mut c = rel(dir);
        c.args(["release", "--skip", "publish"])
            .env("REPO", "Acme/Hello");
        c
    });
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("images[0].repository") && err.contains("lowercase"),
        "{err}"
    );
    assert!(!dir.join("dist").exists(), "nothing was built");
}
