//! Static package repositories (`package_repositories`): the APT repository read by
//! `apt-get update`/`apt-get download` through a `file:` source with `signed-by`, the YUM
//! repository read by `dnf` with `repo_gpgcheck`, packages of an earlier release kept, the
//! bytes reproducible, a tampered signature refused by both.

mod common;
use common::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const PASS: &str = "repository pass";

/// An armored secret key protected by [`PASS`].
fn secret_key() -> String {
    gpg_key("Rel Repo <repo@rel.example>", "rsa2048", PASS).secret
}

const CONFIG: &str = r#"project_name: tool
builds:
  - builder: command
    targets: [linux_amd64_v1, linux_arm64]
    command: [sh, -c, "printf '#!/bin/sh\\necho tool\\n' > {{ output }}"]
nfpms:
  - id: tool
    formats: [deb, rpm]
    maintainer: "Acme <pkg@acme.example>"
    description: A tool.
    license: MIT
    rpm:
      signature:
        key_file: keys/secret.asc
package_repositories:
  - dir: repo
    suite: stable
    origin: Acme
    include: old
    signature:
      key_file: keys/secret.asc
"#;

fn release(dir: &Path) -> (i32, String, String) {
    release_with(dir, &["release", "--snapshot", "--clean"])
}

/// `rel ARGS` with the passphrases in the environment (a dry run loads the keys too).
fn release_with(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let mut c = rel(dir);
    c.args(args)
        .env("REL_REPOSITORY_PASSPHRASE", PASS)
        .env("REL_TOOL_PASSPHRASE", PASS);
    run(c)
}

/// `apt-get` confined to a temporary folder, reading only `line`.
fn apt(state: &Path, line: &str, args: &[&str]) -> Output {
    for d in [
        "state/lists/partial",
        "cache/archives/partial",
        "etc",
        "get",
    ] {
        std::fs::create_dir_all(state.join(d)).unwrap();
    }
    std::fs::write(state.join("etc/sources.list"), format!("{line}\n")).unwrap();
    let opt = |k: &str, v: &Path| format!("-o{k}={}", v.display());
    Command::new("apt-get")
        .current_dir(state.join("get"))
        .arg(opt("Dir::Etc::SourceList", &state.join("etc/sources.list")))
        .arg("-oDir::Etc::SourceParts=/dev/null")
        .arg(opt("Dir::State", &state.join("state")))
        .arg(opt("Dir::Cache", &state.join("cache")))
        .arg("-oDir::State::status=/dev/null")
        .arg("-oDir::Etc::Trusted=/dev/null")
        .arg("-oDir::Etc::TrustedParts=/dev/null")
        .arg("-oAPT::Architecture=amd64")
        .arg("-oAPT::Sandbox::User=root")
        .arg("-oDebug::NoLocking=1")
        .args(args)
        .output()
        .unwrap()
}

/// `dnf` confined to a temporary folder, reading only the repository at `yum`.
fn dnf(state: &Path, yum: &Path, key: &Path, args: &[&str]) -> Output {
    Command::new("dnf")
        .arg("-y")
        .arg("--setopt=reposdir=/dev/null")
        .arg(format!(
            "--setopt=cachedir={}",
            state.join("cache").display()
        ))
        .arg(format!(
            "--setopt=persistdir={}",
            state.join("persist").display()
        ))
        .arg(format!("--installroot={}", state.join("root").display()))
        .arg("--releasever=1")
        .arg("--forcearch=x86_64")
        .arg("--setopt=skip_if_unavailable=0")
        .arg(format!("--repofrompath=r,file://{}", yum.display()))
        .arg("--repo=r")
        .arg("--setopt=r.gpgcheck=1")
        .arg("--setopt=r.repo_gpgcheck=1")
        .arg(format!("--setopt=r.gpgkey=file://{}", key.display()))
        .args(args)
        .output()
        .unwrap()
}

fn files(root: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> = walkdir::WalkDir::new(root)
        .sort_by_file_name()
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            (
                e.path().strip_prefix(root).unwrap().display().to_string(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn apt_and_dnf_install_from_the_signed_repositories() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    write(dir, ".release.yaml", CONFIG);
    write(dir, "keys/secret.asc", &secret_key());
    write(dir, "old/.keep", "");
    write(dir, ".gitignore", "dist/\n");
    init_repo(dir);
    // A first release; its packages become the "earlier release" kept in old/.
    let (code, _, err) = release(dir);
    assert_eq!(code, 0, "{err}");
    let first = git(dir, &["rev-parse", "--short", "HEAD"]);
    for e in std::fs::read_dir(dir.join("dist")).unwrap() {
        let p = e.unwrap().path();
        let n = p.file_name().unwrap().to_string_lossy().into_owned();
        if n.ends_with(".deb") || n.ends_with(".rpm") {
            std::fs::copy(&p, dir.join("old").join(&n)).unwrap();
        }
    }
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-qm", "chore: keep the first packages"]);
    let second = git(dir, &["rev-parse", "--short", "HEAD"]);
    let (code, out, err) = release_with(dir, &["release", "--snapshot", "--dry-run"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("repository default: dist/repo/ (apt, yum; 4 packages of this release)"),
        "{out}"
    );
    let (code, out, err) = release(dir);
    assert_eq!(code, 0, "{err}");
    assert!(!format!("{out}{err}").contains(PASS));
    let repo = dir.join("dist/repo");
    let key = repo.join("key.asc");
    assert!(
        std::fs::read_to_string(&key)
            .unwrap()
            .contains("BEGIN PGP PUBLIC KEY BLOCK")
    );

    // APT: update verifies InRelease with the key given by signed-by; both versions listed,
    // the newest downloaded.
    let state = tempfile::tempdir().unwrap();
    let line = format!(
        "deb [signed-by={}] file:{} stable main",
        key.display(),
        repo.join("apt").display()
    );
    let o = apt(state.path(), &line, &["update"]);
    assert!(o.status.success(), "{}", output_text(&o));
    let o = apt(state.path(), &line, &["download", "tool"]);
    assert!(o.status.success(), "{}", output_text(&o));
    let got: Vec<PathBuf> = std::fs::read_dir(state.path().join("get"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(got.len(), 1, "{got:?}");
    let name = got[0].file_name().unwrap().to_string_lossy().into_owned();
    let packages =
        std::fs::read_to_string(repo.join("apt/dists/stable/main/binary-amd64/Packages")).unwrap();
    assert!(
        packages.contains(&format!("SNAPSHOT.{first}")),
        "{packages}"
    );
    assert!(
        packages.contains(&format!("SNAPSHOT.{second}")),
        "{packages}"
    );
    assert!(name.ends_with("_amd64.deb"), "{name}");
    let release_text = std::fs::read_to_string(repo.join("apt/dists/stable/Release")).unwrap();
    assert!(release_text.contains("Origin: Acme\n"), "{release_text}");
    assert!(
        release_text.contains("Architectures: amd64 arm64\n"),
        "{release_text}"
    );

    // YUM: dnf verifies repomd.xml.asc and the package signatures, lists both versions and
    // downloads the package.
    let state = tempfile::tempdir().unwrap();
    let yum = repo.join("yum");
    let o = dnf(
        state.path(),
        &yum,
        &key,
        &["repoquery", "--show-duplicates", "tool"],
    );
    let text = output_text(&o);
    assert!(o.status.success(), "{text}");
    for v in [&first, &second] {
        assert!(
            text.contains(&format!("SNAPSHOT.{v}-1.x86_64")),
            "{v}: {text}"
        );
    }
    let dl = state.path().join("dl");
    let o = dnf(
        state.path(),
        &yum,
        &key,
        &[
            "install",
            "--downloadonly",
            &format!("--downloaddir={}", dl.display()),
            "tool",
        ],
    );
    assert!(o.status.success(), "{}", output_text(&o));
    assert_eq!(std::fs::read_dir(&dl).unwrap().count(), 1);

    // Two runs from two folders give the same repository bytes.
    let clone = tempfile::tempdir().unwrap();
    let other = clone.path().join("p");
    sh(Command::new("git")
        .args(["clone", "-q"])
        .arg(dir)
        .arg(&other));
    write(
        &other,
        "keys/secret.asc",
        &std::fs::read_to_string(dir.join("keys/secret.asc")).unwrap(),
    );
    let (code, _, err) = release(&other);
    assert_eq!(code, 0, "{err}");
    assert_eq!(files(&repo), files(&other.join("dist/repo")));

    // Tampered metadata is refused by both tools.
    let inrelease = repo.join("apt/dists/stable/InRelease");
    let t = std::fs::read_to_string(&inrelease).unwrap();
    std::fs::write(&inrelease, t.replace("Origin: Acme", "Origin: Evil")).unwrap();
    let state = tempfile::tempdir().unwrap();
    let o = apt(state.path(), &line, &["update"]);
    let text = output_text(&o);
    assert!(
        text.contains("BADSIG") || text.contains("not signed") || !o.status.success(),
        "{text}"
    );
    assert!(
        text.contains("is not signed") || text.contains("BADSIG"),
        "{text}"
    );
    let md = yum.join("repodata/repomd.xml");
    let t = std::fs::read_to_string(&md).unwrap();
    std::fs::write(&md, t.replace("<revision>", "<revision>9")).unwrap();
    let state = tempfile::tempdir().unwrap();
    let o = dnf(state.path(), &yum, &key, &["repoquery", "tool"]);
    let text = output_text(&o);
    assert!(!o.status.success(), "{text}");
    assert!(text.contains("Bad GPG signature"), "{text}");
}

#[test]
fn bad_repository_configs_stop_before_anything_is_built() {
    for (name, repo, want) in [
        ("unknown id", "  - ids: [nope]\n", "unknown nfpms id `nope`"),
        (
            "escaping dir",
            "  - dir: ../out\n",
            "must be a folder name inside dist/",
        ),
        (
            "unknown format",
            "  - formats: [zypper]\n",
            "unknown repository format `zypper`",
        ),
        (
            "missing include",
            "  - include: nothing-here\n",
            "nothing-here is not a folder",
        ),
        (
            "missing key",
            "  - signature:\n      key_file: keys/none.asc\n",
            "cannot read the key file keys/none.asc",
        ),
    ] {
        let d = tempfile::tempdir().unwrap();
        let dir = d.path();
        let cfg = format!(
            "project_name: tool\nbuilds:\n  - builder: command\n    targets: [linux_amd64_v1]\n    command: [sh, -c, \"touch built; echo x > {{{{ output }}}}\"]\nnfpms:\n  - formats: [deb]\npackage_repositories:\n{repo}"
        );
        write(dir, ".release.yaml", &cfg);
        write(dir, ".gitignore", "dist/\n");
        init_repo(dir);
        let (code, _, err) = rel_run(dir, &["release", "--snapshot", "--clean"]);
        assert_eq!(code, 2, "{name}: {err}");
        assert!(err.contains(want), "{name}: {want}\n{err}");
        assert!(!dir.join("built").exists(), "{name}");
    }
}
