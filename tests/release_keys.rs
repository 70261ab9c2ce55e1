//! End-to-end tests of GoReleaser's keys around the release: `checksum.ids` and
//! `extra_files`, `git` (tag order, ignored tags, prerelease suffix), `metadata.mod_timestamp`
//! and `report_sizes`. Builds are `builder: command`, so nothing here needs a toolchain.

mod common;

use common::{git, git_at, init_repo, rel, run, write};
use std::path::Path;

/// Two command builds, `a` and `b`, for one target, each in an archive of its own.
const BUILDS: &str = r#"version: 1
project_name: demo
builds:
  - id: a
    builder: command
    targets: [linux_amd64_v1]
    command: [sh, -c, "echo a {{ target }} > {{ output }}"]
  - id: b
    builder: command
    targets: [linux_amd64_v1]
    command: [sh, -c, "echo b {{ target }} > {{ output }}"]
archives:
  - id: arch-a
    builds: [a]
    name_template: "a_{{ version }}_{{ os }}_{{ arch }}"
    files: []
  - id: arch-b
    builds: [b]
    name_template: "b_{{ version }}_{{ os }}_{{ arch }}"
    files: []
"#;

/// A repository holding `files` in one commit.
fn repo(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), ".gitignore", "dist/\n");
    for (path, text) in files {
        write(dir.path(), path, text);
    }
    init_repo(dir.path());
    dir
}

fn ok(dir: &Path, args: &[&str]) -> (String, String) {
    let mut c = rel(dir);
    c.args(args);
    let (code, out, err) = run(c);
    assert_eq!(code, 0, "rel {args:?} failed:\n{out}\n{err}");
    (out, err)
}

fn metadata(dir: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(dir.join("dist/metadata.json")).unwrap()).unwrap()
}

/// A release without publishing: the tag and previous tag it found are in metadata.json.
fn release(dir: &Path, config: &str) -> serde_json::Value {
    ok(
        dir,
        &[
            "release", "--clean", "--skip", "publish", "--config", config,
        ],
    );
    metadata(dir)
}

fn commit(dir: &Path, msg: &str) {
    git(dir, &["commit", "-q", "--allow-empty", "-m", msg]);
}

#[test]
fn checksum_lists_extra_files_and_only_the_chosen_ids() {
    let config = format!(
        "{BUILDS}checksum:\n  ids: [arch-a]\n  extra_files:\n    - glob: \"src/*.tar.gz\"\n    - glob: NOTICE\n      name_template: \"{{{{ project_name }}}}-{{{{ filename }}}}.txt\"\n"
    );
    let dir = repo(&[
        (".release.yaml", &config),
        ("src/demo-src.tar.gz", "source\n"),
        ("NOTICE", "notice\n"),
    ]);
    ok(dir.path(), &["release", "--snapshot", "--clean"]);
    let version = metadata(dir.path())["version"]
        .as_str()
        .unwrap()
        .to_string();
    let sums = std::fs::read_to_string(
        dir.path()
            .join(format!("dist/demo_{version}_checksums.txt")),
    )
    .unwrap();
    let names: Vec<&str> = sums
        .lines()
        .map(|l| l.split_once("  ").unwrap().1)
        .collect();
    assert_eq!(
        names,
        [
            format!("a_{version}_linux_amd64.tar.gz").as_str(),
            "demo-NOTICE.txt",
            "demo-src.tar.gz"
        ],
        "arch-a's archive and the extra files, not arch-b's:\n{sums}"
    );
    // What is listed verifies.
    let sha = |p: &str| {
        let out = std::process::Command::new("sha256sum")
            .arg(dir.path().join(p))
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .next()
            .unwrap()
            .to_string()
    };
    assert!(
        sums.contains(&format!("{}  demo-NOTICE.txt", sha("NOTICE"))),
        "{sums}"
    );
    // Listed, not registered for upload.
    let arts = std::fs::read_to_string(dir.path().join("dist/artifacts.json")).unwrap();
    assert!(!arts.contains("demo-src.tar.gz"), "{arts}");
}

#[test]
fn checksum_ids_and_extra_files_are_checked() {
    let config = format!(
        "{BUILDS}checksum:\n  ids: [arch_a]\n  extra_files:\n    - glob: \"../outside/*\"\n"
    );
    let dir = repo(&[(".release.yaml", &config)]);
    let mut c = rel(dir.path());
    c.arg("check");
    let (code, _, err) = run(c);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("`arch_a`") && err.contains("did you mean `arch-a`?") && err.contains(":22:9"),
        "{err}"
    );
    assert!(
        err.contains("leaves the project") && err.contains(":24:13"),
        "{err}"
    );
    // A glob that matches nothing stops the run.
    let config = format!("{BUILDS}checksum:\n  extra_files: [{{glob: \"nothing/*\"}}]\n");
    let dir = repo(&[(".release.yaml", &config)]);
    let mut c = rel(dir.path());
    c.args(["release", "--snapshot", "--clean"]);
    let (code, _, err) = run(c);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("checksum.extra_files[0]") && err.contains("matches no file"),
        "{err}"
    );
}

#[test]
fn tag_sort_by_creatordate_picks_the_newer_created_tag() {
    let dir = repo(&[
        (".release.yaml", BUILDS),
        (
            "creatordate.yaml",
            &format!("{BUILDS}git:\n  tag_sort: -version:creatordate\n"),
        ),
    ]);
    let p = dir.path();
    git_at(
        p,
        &["tag", "-a", "v1.1.0", "-m", "v1.1.0"],
        "2024-03-01T00:00:00Z",
    );
    git_at(
        p,
        &["tag", "-a", "v1.0.1", "-m", "v1.0.1"],
        "2024-04-01T00:00:00Z",
    );
    let meta = release(p, ".release.yaml");
    assert_eq!(meta["tag"], "v1.1.0", "by default the highest version wins");
    let meta = release(p, "creatordate.yaml");
    assert_eq!(meta["tag"], "v1.0.1", "the tag created last wins");
    assert_eq!(meta["version"], "1.0.1");
}

#[test]
fn prerelease_suffix_orders_a_release_above_its_candidate_on_one_commit() {
    let dir = repo(&[
        (
            "refname.yaml",
            &format!("{BUILDS}git:\n  tag_sort: -version:refname\n"),
        ),
        (
            "suffix.yaml",
            &format!("{BUILDS}git:\n  tag_sort: -version:refname\n  prerelease_suffix: \"-\"\n"),
        ),
    ]);
    let p = dir.path();
    git(p, &["tag", "v1.0.0-rc.1"]);
    git(p, &["tag", "v1.0.0"]);
    // git's version order puts the longer name first unless told about the suffix.
    assert_eq!(release(p, "refname.yaml")["tag"], "v1.0.0-rc.1");
    assert_eq!(release(p, "suffix.yaml")["tag"], "v1.0.0");
}

#[test]
fn ignore_tags_skips_a_nightly_tag_when_finding_the_previous_tag() {
    let dir = repo(&[
        (".release.yaml", BUILDS),
        (
            "ignore.yaml",
            &format!(
                "{BUILDS}git:\n  ignore_tags: [\"{{{{ env.REL_TEST_NIGHTLY }}}}\", \"*-nightly\"]\n"
            ),
        ),
        (
            "prefix.yaml",
            &format!("{BUILDS}git:\n  ignore_tag_prefixes: [v1.0.1-]\n"),
        ),
        (
            "describe.yaml",
            &format!(
                "{BUILDS}git:\n  tag_sort: -version:refname\n  ignore_tags: [\"*-nightly\"]\n"
            ),
        ),
    ]);
    let p = dir.path();
    git(p, &["tag", "v1.0.0"]);
    commit(p, "feat: more");
    git(p, &["tag", "v1.0.1-nightly"]);
    commit(p, "feat: even more");
    git(p, &["tag", "v1.1.0-rc.1"]);
    let meta = release(p, ".release.yaml");
    assert_eq!(meta["tag"], "v1.1.0-rc.1");
    assert_eq!(meta["previous_tag"], "v1.0.1-nightly", "counted by default");
    let mut c = rel(p);
    c.env("REL_TEST_NIGHTLY", "").args([
        "release",
        "--clean",
        "--skip",
        "publish",
        "--config",
        "ignore.yaml",
    ]);
    let (code, out, err) = run(c);
    assert_eq!(code, 0, "{out}\n{err}");
    assert_eq!(metadata(p)["previous_tag"], "v1.0.0", "a glob");
    assert_eq!(
        release(p, "prefix.yaml")["previous_tag"],
        "v1.0.0",
        "a prefix"
    );
    assert_eq!(
        release(p, "describe.yaml")["previous_tag"],
        "v1.0.0",
        "the nearest tagged ancestor that counts"
    );
    // A snapshot builds on the last tag that counts.
    git(p, &["tag", "v1.2.0-nightly"]);
    commit(p, "fix: after");
    let mut c = rel(p);
    c.env("REL_TEST_NIGHTLY", "").args([
        "release",
        "--snapshot",
        "--clean",
        "--config",
        "ignore.yaml",
    ]);
    let (code, out, err) = run(c);
    assert_eq!(code, 0, "{out}\n{err}");
    assert_eq!(metadata(p)["tag"], "v1.1.0-rc.1");
}

#[test]
fn mod_timestamp_sets_the_metadata_files_mtime() {
    let dir = repo(&[(
        ".release.yaml",
        &format!("{BUILDS}metadata:\n  mod_timestamp: \"{{{{ commit_timestamp }}}}\"\n"),
    )]);
    let p = dir.path();
    ok(p, &["release", "--snapshot", "--clean"]);
    // The commit time of common::git: 2024-01-02T03:04:05Z.
    let want = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_704_164_645);
    for f in ["metadata.json", "artifacts.json"] {
        let m = std::fs::metadata(p.join("dist").join(f)).unwrap();
        assert_eq!(m.modified().unwrap(), want, "{f}");
    }
    // Not unix seconds: exit 2 before anything is written.
    write(
        p,
        ".release.yaml",
        &format!("{BUILDS}metadata:\n  mod_timestamp: \"{{{{ commit_date }}}}\"\n"),
    );
    std::fs::remove_dir_all(p.join("dist")).unwrap();
    let mut c = rel(p);
    c.args(["release", "--snapshot", "--clean"]);
    let (code, _, err) = run(c);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("metadata.mod_timestamp") && err.contains("not unix seconds"),
        "{err}"
    );
    assert!(!p.join("dist").exists());
}

#[test]
fn report_sizes_prints_a_size_table() {
    let dir = repo(&[(".release.yaml", &format!("{BUILDS}report_sizes: true\n"))]);
    let p = dir.path();
    let (_, err) = ok(p, &["release", "--snapshot", "--clean"]);
    let table = &err[err
        .find("sizes:")
        .unwrap_or_else(|| panic!("no size table:\n{err}"))..];
    // Each binary is `a linux_amd64_v1` and a line break.
    for want in [
        "binary",
        "17 B",
        "dist/a_linux_amd64_v1/a",
        "dist/b_linux_amd64_v1/b",
        "archive",
    ] {
        assert!(table.contains(want), "{want}:\n{table}");
    }
    assert!(table.contains("_linux_amd64.tar.gz"), "{table}");
    // The JSON summary has them too, and artifacts.json records every size.
    let (out, _) = ok(p, &["release", "--snapshot", "--clean", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let sizes = v["sizes"].as_array().unwrap();
    assert_eq!(sizes.len(), 4, "two binaries, two archives: {sizes:?}");
    assert!(
        sizes.iter().all(|s| s["size"].as_u64().is_some()),
        "{sizes:?}"
    );
    // Without the key, no table.
    write(p, ".release.yaml", BUILDS);
    let (_, err) = ok(p, &["release", "--snapshot", "--clean"]);
    assert!(!err.contains("sizes:"), "{err}");
}

#[test]
fn goreleasers_runtime_summary_and_nightly_variables() {
    let config = r#"version: 1
project_name: demo
builds:
  - builder: command
    targets: [linux_amd64_v1]
    command: [sh, -c, "echo x > {{ output }}"]
archives:
  - name_template: "d_{{ runtime.goos }}_{{ runtime.goarch }}_{{ summary }}{% if is_nightly %}_nightly{% endif %}"
    files: []
git:
  ignore_tags: ["{% if not is_nightly %}nightly{% endif %}"]
"#;
    let dir = repo(&[(".release.yaml", config)]);
    let d = dir.path();
    git(d, &["tag", "v1.0.0"]);
    git(d, &["tag", "nightly"]);
    let (host_os, host_arch) = match (std::env::consts::OS, std::env::consts::ARCH) {
        (o, "x86_64") => (o, "amd64"),
        (o, "aarch64") => (o, "arm64"),
        (o, a) => (o, a),
    };
    // On the tag, `summary` is the tag; in a snapshot one commit later, git describe's.
    let (out, _) = ok(d, &["release", "--dry-run", "--skip", "publish"]);
    assert!(
        out.contains(&format!("dist/d_{host_os}_{host_arch}_v1.0.0.tar.gz")),
        "{out}"
    );
    commit(d, "fix: one more");
    let short = git(d, &["rev-parse", "--short", "HEAD"]);
    let (out, _) = ok(d, &["release", "--snapshot", "--dry-run"]);
    assert!(out.contains(&format!("_v1.0.0-1-g{short}.tar.gz")), "{out}");
}
