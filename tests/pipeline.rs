//! The pipelined release: archives and uploads start while other targets still build, the
//! output does not depend on the order tasks finish in, and the first failure stops the rest.
//! Real Go builds, real processes, the fake GitHub (OpenAPI-checked) on loopback.

mod common;
#[path = "support/mod.rs"]
mod support;

use common::{git, go_project, init_repo, rel, require_go, run};
use std::collections::BTreeMap;
use std::path::Path;
use support::fake_github::{Action, Fake, Fault, Options};

/// Every file under `dir`, relative path → bytes.
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let name = p.strip_prefix(dir).unwrap().display().to_string();
                out.insert(name, std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

const CONFIG: &str = r#"version: 1
project_name: demo
builds:
  - ldflags: ["-s -w -X main.version={{ version }}"]
    goos: [linux, darwin, windows]
    goarch: [amd64, arm64]
archives:
  - formats: [tar.gz]
    format_overrides:
      - goos: windows
        formats: [zip]
    files: [README.md, LICENSE]
  - id: bare
    formats: [binary]
    name_template: "{{ project_name }}-{{ os }}-{{ arch }}"
checksum:
  split: true
images:
  - id: img
    repository: localhost:5000/demo
    tags: ["{{ version }}"]
"#;

#[test]
fn the_output_is_the_same_with_one_worker_eight_workers_and_no_pipeline() {
    require_go();
    let dir = tempfile::tempdir().unwrap();
    go_project(dir.path(), CONFIG);
    init_repo(dir.path());
    git(dir.path(), &["tag", "v1.2.3"]);
    let mut outputs = vec![];
    for args in [
        &["-p", "1"][..],
        &["-p", "8"][..],
        &["-p", "2", "--no-pipeline"][..],
    ] {
        let mut c = rel(dir.path());
        c.args(["release", "--snapshot", "--clean"]).args(args);
        let (code, _, err) = run(c);
        assert_eq!(code, 0, "{args:?}: {err}");
        outputs.push((args, files(&dir.path().join("dist"))));
    }
    let (first_args, first) = &outputs[0];
    assert_eq!(
        first.keys().filter(|k| k.ends_with(".tar.gz")).count(),
        4,
        "{:?}",
        first.keys()
    );
    assert!(first.keys().any(|k| k.ends_with("_checksums.txt")));
    assert_eq!(first.keys().filter(|k| k.ends_with(".zip")).count(), 2);
    // The image layout: two platform layers, two configs, two manifests and the index.
    assert_eq!(
        first
            .keys()
            .filter(|k| k.starts_with("images/img/blobs/sha256/"))
            .count(),
        7,
        "{:?}",
        first.keys()
    );
    for (args, other) in &outputs[1..] {
        assert_eq!(
            first.keys().collect::<Vec<_>>(),
            other.keys().collect::<Vec<_>>(),
            "{first_args:?} vs {args:?}: other files"
        );
        for (name, bytes) in first {
            assert!(
                other[name] == *bytes,
                "{first_args:?} vs {args:?}: {name} differs"
            );
        }
    }
}

/// A build whose pre-hook runs for a minute on darwin (its pid written to `pids/`) and
/// `extra` on linux.
fn slow_darwin_project(linux_hook: &str, pids: &Path, release: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let config = format!(
        r#"version: 1
project_name: demo
builds:
  - goos: [linux, darwin]
    goarch: [amd64]
    hooks:
      pre:
        - "sh -c 'if [ {{{{ os }}}} = darwin ]; then echo $$ > {pids}/darwin; exec sleep 60; else {linux_hook}; fi'"
archives:
  - formats: [tar.gz]
{release}"#,
        pids = pids.display()
    );
    go_project(dir.path(), &config);
    init_repo(dir.path());
    git(dir.path(), &["tag", "v1.0.0"]);
    dir
}

fn alive(pid_file: &Path) -> bool {
    let pid = std::fs::read_to_string(pid_file).unwrap();
    Path::new(&format!("/proc/{}", pid.trim())).exists()
}

#[test]
fn the_first_failing_build_is_the_error_and_stops_the_builds_still_running() {
    require_go();
    let pids = tempfile::tempdir().unwrap();
    // The linux build fails once the darwin hook is running (at most 30 s later), so there
    // is always a build to stop, however slow the machine.
    let hook = format!(
        "i=0; while [ ! -s {}/darwin ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i+1)); done; exit 3",
        pids.path().display()
    );
    let dir = slow_darwin_project(&hook, pids.path(), "");
    let mut c = rel(dir.path());
    c.args(["release", "--snapshot", "--clean", "-p", "2"]);
    let (code, _, err) = run(c);
    assert_eq!(code, 1, "{err}");
    let error = err.lines().find(|l| l.starts_with("error:")).unwrap_or("");
    assert!(
        error.contains("linux") && !error.contains("cancelled"),
        "the error is the failed build, not a cancellation: {err}"
    );
    assert!(
        !alive(&pids.path().join("darwin")),
        "the darwin hook was killed"
    );
    assert!(!err.contains("built demo darwin"), "{err}");
}

#[test]
fn uploads_start_while_other_targets_build_and_a_failed_upload_stops_the_builds() {
    require_go();
    let fake = Fake::start(Options::default());
    let pids = tempfile::tempdir().unwrap();
    let release = format!(
        "release:\n  github: {{owner: acme, name: demo}}\n  github_urls: {{api: \"{}/\", uploads: \"{}/\"}}\n",
        fake.api(),
        fake.uploads()
    );
    let dir = slow_darwin_project("true", pids.path(), &release);

    // The dry run prints what waits for what.
    let mut c = rel(dir.path());
    c.args(["release", "--dry-run"])
        .env("GITHUB_TOKEN", "fake-token");
    let (code, out, err) = run(c);
    assert_eq!(code, 0, "{err}");
    for line in [
        "  archive demo_1.0.0_linux_amd64.tar.gz <- build demo linux_amd64_v1\n",
        "  upload demo_1.0.0_linux_amd64.tar.gz <- draft release v1.0.0, archive demo_1.0.0_linux_amd64.tar.gz\n",
        "  draft release v1.0.0 <- changelog\n",
    ] {
        assert!(out.contains(line), "missing {line:?} in:\n{out}");
    }

    fake.fault(Fault::once(
        "POST",
        "name=demo_1.0.0_linux_amd64.tar.gz",
        Action::Respond {
            status: 422,
            headers: vec![],
            body: r#"{"message":"Validation Failed","errors":[{"resource":"ReleaseAsset","code":"custom","message":"refused"}]}"#.into(),
        },
    ));
    let mut c = rel(dir.path());
    c.args(["release", "--clean", "-p", "2"])
        .env("GITHUB_TOKEN", "fake-token");
    let (code, _, err) = run(c);
    assert_eq!(code, 1, "{err}");
    let error = &err[err.find("error:").unwrap_or(0)..];
    assert!(
        error.contains("demo_1.0.0_linux_amd64.tar.gz") && error.contains("did not finish"),
        "the error is the refused upload: {err}"
    );
    assert!(
        !alive(&pids.path().join("darwin")),
        "the darwin build was stopped"
    );
    assert!(
        !err.contains("built demo darwin"),
        "the upload was tried while darwin was still building: {err}"
    );
    let releases = fake.releases();
    assert_eq!(releases.len(), 1);
    assert!(releases[0].draft, "nothing is published");
    assert!(fake.violations().is_empty(), "{:?}", fake.violations());
}

#[test]
fn a_targets_package_is_written_while_another_target_still_builds() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // The arm64 build waits (up to 20 s) for the amd64 package to appear, and records what
    // dist/ held when it did: the package cannot wait for every build.
    let cfg = r#"version: 1
project_name: demo
builds:
  - builder: command
    targets: [linux_amd64_v1, linux_arm64]
    command: [sh, -c, "if [ {{ target }} = linux_arm64 ]; then i=0; while [ $i -lt 200 ] && ! ls dist/*amd64.deb >/dev/null 2>&1; do sleep 0.1; i=$((i+1)); done; ls dist > seen.txt; fi; printf x > {{ output }}"]
nfpms:
  - maintainer: Dev <dev@example.com>
    description: demo
    formats: [deb]
"#;
    common::write(d, ".release.yaml", cfg);
    common::write(d, ".gitignore", "dist/\nseen.txt\n");
    init_repo(d);
    let mut c = rel(d);
    c.args(["release", "--snapshot", "-p", "2"]);
    let (code, out, err) = run(c);
    assert_eq!(code, 0, "{out}{err}");
    let seen = std::fs::read_to_string(d.join("seen.txt")).unwrap();
    assert!(
        seen.lines().any(|l| l.ends_with("amd64.deb")),
        "the amd64 package was not written while arm64 built: {seen}"
    );
    assert!(!seen.lines().any(|l| l.ends_with("arm64.deb")), "{seen}");
}

#[test]
fn a_platforms_image_layer_is_written_while_another_target_still_builds() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // The arm64 build waits (up to 20 s) for a blob to appear in the image layout, and
    // records how many there were: the amd64 layer cannot wait for every build (nothing else
    // writes a blob before the layers: configs and manifests come after).
    let cfg = r#"version: 1
project_name: demo
builds:
  - builder: command
    targets: [linux_amd64_v1, linux_arm64]
    command: [sh, -c, "if [ {{ target }} = linux_arm64 ]; then i=0; while [ $i -lt 200 ] && [ -z \"$(ls dist/images/hello/blobs/sha256 2>/dev/null)\" ]; do sleep 0.1; i=$((i+1)); done; ls dist/images/hello/blobs/sha256 | wc -l > seen.txt; fi; printf x > {{ output }}"]
images:
  - id: hello
    repository: localhost:5000/demo
    tags: ["{{ version }}"]
"#;
    common::write(d, ".release.yaml", cfg);
    common::write(d, ".gitignore", "dist/\nseen.txt\n");
    init_repo(d);
    let mut c = rel(d);
    c.args(["release", "--snapshot", "-p", "2"]);
    let (code, out, err) = run(c);
    assert_eq!(code, 0, "{out}{err}");
    let seen: usize = std::fs::read_to_string(d.join("seen.txt"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert_eq!(seen, 1, "the amd64 layer alone was there while arm64 built");
    // And the image is whole: one index with both platforms.
    let index: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(d.join("dist/images/hello/index.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(index["manifests"].as_array().unwrap().len(), 1, "{index}");
}
