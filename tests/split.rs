//! A release split across runners: three shares built in three folders, copied together and
//! merged, gives the same archives, checksum file, images and GitHub release as one run.

mod common;
mod support;
use common::*;
use std::collections::BTreeMap;
use std::path::Path;
use support::fake_github::{Fake, Options};
use support::registry::Registry;

const TOKEN: &str = "fake-token";

fn config(fake: &Fake, host: &str) -> String {
    format!(
        r#"project_name: hello
env: ["CGO_ENABLED=0"]
builds:
  - main: .
    goos: [linux, darwin, windows]
    goarch: [amd64, arm64]
    flags: ["-trimpath"]
    ldflags: ["-s -w -X main.version={{{{ version }}}}"]
archives:
  - formats: [tar.gz]
    format_overrides: [{{goos: windows, formats: [zip]}}]
images:
  - repository: "{host}/acme/hello"
    tags: ["{{{{ version }}}}", latest]
source:
  enabled: true
sboms:
  - id: archives
  - id: source
    artifacts: source
release:
  github: {{owner: acme, name: demo}}
  github_urls: {{api: "{}/", uploads: "{}/"}}
"#,
        fake.api(),
        fake.uploads()
    )
}

fn clone(src: &Path, to: &Path) {
    let out = std::process::Command::new("git")
        .arg("clone")
        .arg("-q")
        .arg(src)
        .arg(to)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn rel_ok(dir: &Path, args: &[&str]) -> String {
    let (code, _, err) = run({
        let mut c = rel(dir);
        c.args(args).env("GITHUB_TOKEN", TOKEN);
        c
    });
    assert_eq!(code, 0, "rel {args:?} in {}: {err}", dir.display());
    err
}

/// Every archive and checksum file below `dist`, by file name.
fn outputs(dist: &Path) -> BTreeMap<String, Vec<u8>> {
    walkdir::WalkDir::new(dist)
        .into_iter()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_file())
        .filter(|e| {
            let n = e.file_name().to_string_lossy();
            n.ends_with(".tar.gz")
                || n.ends_with(".zip")
                || n.ends_with("checksums.txt")
                || n.ends_with(".sbom.json")
        })
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

fn index_digests(dist: &Path) -> BTreeMap<String, String> {
    let arts: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dist.join("artifacts.json")).unwrap()).unwrap();
    arts.as_array()
        .unwrap()
        .iter()
        .filter(|a| a["kind"] == "image_index")
        .map(|a| {
            (
                a["name"].as_str().unwrap().to_string(),
                a["extra"]["digest"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn copy_dir(from: &Path, to: &Path) {
    for e in walkdir::WalkDir::new(from)
        .into_iter()
        .filter_map(|e| e.ok())
    {
        let dest = to.join(e.path().strip_prefix(from).unwrap());
        if e.file_type().is_dir() {
            std::fs::create_dir_all(&dest).unwrap();
        } else {
            std::fs::copy(e.path(), &dest).unwrap();
        }
    }
}

#[test]
fn three_shares_merged_equal_one_run() {
    require_go();
    let fake = Fake::start(Options::default());
    let registry = Registry::start();
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    go_project(&src, &config(&fake, &registry.host()));
    init_repo(&src);
    git(&src, &["tag", "v1.0.0"]);

    // (a) One run on one machine.
    let one = tmp.path().join("one");
    clone(&src, &one);
    rel_ok(&one, &["release"]);
    let want = outputs(&one.join("dist"));
    assert_eq!(
        want.len(),
        15,
        "6 archives and their SBOMs, the source archive and its SBOM, a checksum file: {:?}",
        want.keys()
    );
    let want_index = index_digests(&one.join("dist"));
    assert_eq!(want_index.len(), 2);
    let want_assets: Vec<String> = {
        let mut v: Vec<String> = fake.releases()[0]
            .assets
            .iter()
            .map(|a| a.name.clone())
            .collect();
        v.sort();
        v
    };
    fake.reset();

    // (b) Three shares in three folders (three runners), then a merge in a fourth.
    let merge = tmp.path().join("merge");
    clone(&src, &merge);
    for os in ["linux", "darwin", "windows"] {
        let runner = tmp.path().join(format!("runner-{os}"));
        clone(&src, &runner);
        rel_ok(&runner, &["release", "--split", "--partial-target", os]);
        assert!(runner.join(format!("dist/{os}/context.json")).is_file());
        assert!(fake.requests().is_empty(), "a share publishes nothing");
        // The CI system's artifact download: each share under its own folder name.
        copy_dir(
            &runner.join(format!("dist/{os}")),
            &merge.join(format!("dist/rel-share-{os}")),
        );
    }
    rel_ok(&merge, &["continue", "--merge"]);

    let got = outputs(&merge.join("dist"));
    assert_eq!(
        got.keys().collect::<Vec<_>>(),
        want.keys().collect::<Vec<_>>()
    );
    for (name, bytes) in &want {
        assert!(
            got[name] == *bytes,
            "{name} differs between one run and the merged shares"
        );
    }
    assert_eq!(
        index_digests(&merge.join("dist")),
        want_index,
        "same image index digests"
    );
    let index = registry.inspect_raw("acme/hello:1.0.0");
    assert_eq!(
        index["manifests"].as_array().unwrap().len(),
        2,
        "linux/amd64 and linux/arm64"
    );
    assert!(
        want_index
            .values()
            .all(|d| d.starts_with("sha256:") && d.len() == 71)
    );

    let releases = fake.releases();
    assert_eq!(releases.len(), 1, "one release");
    assert!(!releases[0].draft);
    let mut got_assets: Vec<String> = releases[0].assets.iter().map(|a| a.name.clone()).collect();
    got_assets.sort();
    assert_eq!(got_assets, want_assets);
    assert!(fake.violations().is_empty(), "{:?}", fake.violations());
    let checksums = String::from_utf8(want["hello_1.0.0_checksums.txt"].clone()).unwrap();
    assert_eq!(
        fake.download("v1.0.0", "hello_1.0.0_checksums.txt"),
        checksums.as_bytes()
    );
}

fn snapshot_project(dir: &Path) {
    write(
        dir,
        ".release.yaml",
        "project_name: tool\nbuilds:\n  - builder: command\n    goos: [linux, darwin]\n    goarch: [amd64]\n    command: [sh, -c, \"echo {{ target }} > {{ output }}\"]\n",
    );
    write(dir, ".gitignore", "dist/\n");
    init_repo(dir);
}

/// `rel release --snapshot --split --partial-target SHARE` (plus `extra`), which must pass.
fn snapshot_share(dir: &Path, share: &str, extra: &[&str]) {
    let mut args = vec![
        "release",
        "--snapshot",
        "--split",
        "--partial-target",
        share,
    ];
    args.extend_from_slice(extra);
    rel_ok(dir, &args);
}

fn merge_err(dir: &Path) -> String {
    let (code, _, err) = rel_run(dir, &["continue", "--merge"]);
    assert_eq!(code, 1, "{err}");
    err
}

#[test]
fn merge_refuses_mismatched_missing_or_doubled_shares() {
    let tmp = tempfile::tempdir().unwrap();
    let a = tmp.path().join("a");
    snapshot_project(&a);
    let b = tmp.path().join("b");
    clone(&a, &b);

    rel_ok(
        &a,
        &[
            "release",
            "--snapshot",
            "--split",
            "--partial-target",
            "linux",
        ],
    );
    // A missing share.
    let err = merge_err(&a);
    assert!(
        err.contains("shares are missing for: tool/darwin_amd64_v1"),
        "{err}"
    );

    // A share from another commit.
    write(&b, "more", "x");
    git(&b, &["add", "more"]);
    git(&b, &["commit", "-qm", "fix: more"]);
    rel_ok(
        &b,
        &[
            "release",
            "--snapshot",
            "--split",
            "--partial-target",
            "darwin",
        ],
    );
    copy_dir(&b.join("dist/darwin"), &a.join("dist/darwin"));
    let err = merge_err(&a);
    assert!(
        err.contains("share `darwin` was built from commit"),
        "{err}"
    );

    // The right share, but linux twice.
    std::fs::remove_dir_all(a.join("dist/darwin")).unwrap();
    let (code, _, err) = rel_run(
        &a,
        &[
            "release",
            "--snapshot",
            "--split",
            "--partial-target",
            "darwin",
        ],
    );
    assert_eq!(code, 0, "{err}");
    copy_dir(&a.join("dist/linux"), &a.join("dist/linux-again"));
    let err = merge_err(&a);
    assert!(
        err.contains("target tool/linux_amd64_v1 was built twice"),
        "{err}"
    );

    std::fs::remove_dir_all(a.join("dist/linux-again")).unwrap();
    let (code, _, err) = rel_run(&a, &["continue", "--merge"]);
    assert_eq!(code, 0, "{err}");
    let meta: serde_json::Value =
        serde_json::from_slice(&std::fs::read(a.join("dist/metadata.json")).unwrap()).unwrap();
    assert_eq!(meta["snapshot"], true);
    assert!(
        a.join(
            "dist/tool_0.0.0-SNAPSHOT-".to_string()
                + &git(&a, &["rev-parse", "--short", "HEAD"])
                + "_checksums.txt"
        )
        .is_file()
    );
}

#[test]
fn merge_trusts_what_shares_built_not_what_they_planned() {
    let tmp = tempfile::tempdir().unwrap();
    let a = tmp.path().join("a");
    snapshot_project(&a);
    snapshot_share(&a, "linux", &[]);
    // A darwin share run with --skip build claims nothing and has nothing.
    snapshot_share(&a, "darwin", &["--skip", "build"]);
    let ctx: serde_json::Value =
        serde_json::from_slice(&std::fs::read(a.join("dist/darwin/context.json")).unwrap())
            .unwrap();
    assert_eq!(ctx["targets"], serde_json::json!([]), "{ctx}");
    let err = merge_err(&a);
    assert!(
        err.contains("tool/darwin_amd64_v1: share `darwin` has no binary for it"),
        "{err}"
    );
    assert!(!a.join("dist/metadata.json").exists(), "nothing was merged");

    // A share that claims a target whose files were not copied along.
    std::fs::remove_dir_all(a.join("dist/darwin")).unwrap();
    snapshot_share(&a, "darwin", &[]);
    std::fs::remove_file(a.join("dist/darwin/tool_darwin_amd64_v1/tool")).unwrap();
    let err = merge_err(&a);
    assert!(
        err.contains("share `darwin` lists tool") && err.contains("copy the whole share folder"),
        "{err}"
    );

    // A share whose artifacts.json lacks the binary it claims.
    std::fs::remove_dir_all(a.join("dist/darwin")).unwrap();
    snapshot_share(&a, "darwin", &[]);
    let path = a.join("dist/darwin/artifacts.json");
    let mut arts: Vec<serde_json::Value> =
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    arts.retain(|x| x["kind"] != "binary");
    std::fs::write(&path, serde_json::to_vec(&arts).unwrap()).unwrap();
    let err = merge_err(&a);
    assert!(
        err.contains("share `darwin` claims tool/darwin_amd64_v1 but has no binary"),
        "{err}"
    );
}

#[test]
fn a_merge_publishes_notes_only_from_its_registry() {
    let fake = Fake::start(Options::default());
    let tmp = tempfile::tempdir().unwrap();
    let a = tmp.path().join("a");
    write(
        &a,
        ".release.yaml",
        &format!(
            "project_name: tool\nbuilds:\n  - builder: command\n    goos: [linux, darwin]\n    goarch: [amd64]\n    command: [sh, -c, \"echo {{{{ target }}}} > {{{{ output }}}}\"]\nrelease:\n  github: {{owner: acme, name: demo}}\n  github_urls: {{api: \"{}/\", uploads: \"{}/\"}}\n",
            fake.api(),
            fake.uploads()
        ),
    );
    write(&a, ".gitignore", "dist/\n");
    init_repo(&a);
    git(&a, &["tag", "v1.0.0"]);
    for share in ["linux", "darwin"] {
        rel_ok(&a, &["release", "--split", "--partial-target", share]);
    }
    // A notes file nobody registered (left over, or copied in by hand) is not the body.
    write(&a, "dist/release-notes.md", "STALE NOTES\n");
    rel_ok(&a, &["continue", "--merge", "--skip", "changelog"]);
    let releases = fake.releases();
    assert_eq!(releases.len(), 1);
    assert!(
        !releases[0].body.contains("STALE"),
        "{:?}",
        releases[0].body
    );
    assert!(fake.violations().is_empty(), "{:?}", fake.violations());
}
