//! GoReleaser's other archive formats: `gz` (the binary alone, gzip-compressed), `tar`
//! (uncompressed) and `none` (no archive for a target), read back with gzip and tar.

mod common;
use common::*;
use std::path::Path;
use std::process::Command;

const CONFIG: &str = r#"version: 1
project_name: demo
builds:
  - builder: command
    targets: [linux_amd64_v1, darwin_arm64, windows_amd64_v1]
    command: [sh, -c, "echo 'binary of {{ target }}' > {{ output }}"]
archives:
  - id: gz
    formats: [gz]
    files: []
    format_overrides:
      - goos: windows
        formats: [none]
  - id: tar
    formats: [tar]
    name_template: "{{ project_name }}_{{ os }}_{{ arch }}"
    files: [README.md]
"#;

fn project(dir: &Path, config: &str) {
    write(dir, ".release.yaml", config);
    write(dir, ".gitignore", "dist/\n");
    write(dir, "README.md", "# demo\n");
    init_repo(dir);
}

fn sh_out(cmd: &mut Command) -> String {
    let o = cmd.output().unwrap();
    assert!(o.status.success(), "{cmd:?}: {}", output_text(&o));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn dist_files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir.join("dist"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .filter(|(n, _)| n.ends_with(".gz") || n.ends_with(".tar") || n.ends_with(".txt"))
        .collect();
    v.sort();
    v
}

#[test]
fn gz_tar_and_none_are_written_as_goreleaser_names_them_and_reproducibly() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path();
    project(dir, CONFIG);
    let (code, out, err) = rel_run(dir, &["release", "--snapshot"]);
    assert_eq!(code, 0, "{out}{err}");
    let first = dist_files(dir);
    let names: Vec<&str> = first.iter().map(|(n, _)| n.as_str()).collect();
    // gz: one per target but windows (`none`); tar: every target.
    for want in [
        "demo_0.0.0-SNAPSHOT",
        "demo_darwin_arm64.tar",
        "demo_linux_amd64.tar",
        "demo_windows_amd64.tar",
    ] {
        assert!(
            names.iter().any(|n| n.starts_with(want)),
            "{want}: {names:?}"
        );
    }
    let gz: Vec<&str> = names
        .iter()
        .copied()
        .filter(|n| n.ends_with(".gz"))
        .collect();
    assert_eq!(gz.len(), 2, "{names:?}");
    assert!(gz.iter().all(|n| !n.contains("windows")), "{gz:?}");

    // The gz file is the binary alone: gzip gives it back; its header has no name, no time.
    let linux_gz = gz.iter().find(|n| n.contains("linux")).unwrap();
    let bytes = &first.iter().find(|(n, _)| n == linux_gz).unwrap().1;
    assert_eq!(bytes[3] & 0x08, 0, "no file name in the gzip header");
    assert_eq!(&bytes[4..8], &[0, 0, 0, 0], "no time in the gzip header");
    let plain = sh_out(
        Command::new("gzip")
            .arg("-dc")
            .arg(dir.join("dist").join(linux_gz)),
    );
    assert_eq!(plain, "binary of linux_amd64_v1\n");

    // The tar is uncompressed and holds the binary and the README, owned by root.
    let listing = sh_out(
        Command::new("tar")
            .args(["--numeric-owner", "-tvf"])
            .arg(dir.join("dist/demo_linux_amd64.tar")),
    );
    assert!(
        listing.contains(" demo\n") || listing.contains(" demo"),
        "{listing}"
    );
    assert!(listing.contains("README.md"), "{listing}");
    assert!(listing.lines().all(|l| l.contains(" 0/0 ")), "{listing}");

    // The checksum file lists what was written, and nothing for `none`.
    let sums = &first
        .iter()
        .find(|(n, _)| n.ends_with("checksums.txt"))
        .unwrap()
        .1;
    let sums = String::from_utf8_lossy(sums);
    assert_eq!(
        sums.lines().filter(|l| l.ends_with(".gz")).count(),
        2,
        "{sums}"
    );
    assert!(
        !sums
            .lines()
            .any(|l| l.contains("windows") && l.ends_with(".gz")),
        "{sums}"
    );
    // `none` registers nothing: artifacts.json has no windows archive of the gz entry.
    let artifacts: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("dist/artifacts.json")).unwrap()).unwrap();
    let gz_entry: Vec<(String, String)> = artifacts
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["extra"]["id"] == "gz")
        .map(|a| {
            (
                a["os"].as_str().unwrap().to_string(),
                a["extra"]["format"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        gz_entry,
        [
            ("darwin".to_string(), "gz".to_string()),
            ("linux".into(), "gz".into())
        ],
        "{artifacts:#}"
    );

    // Another reader agrees that the tar is a plain, uncompressed tar.
    let listing = sh_out(
        Command::new("bsdtar")
            .args(["--numeric-owner", "-tvf"])
            .arg(dir.join("dist/demo_darwin_arm64.tar")),
    );
    assert_eq!(listing.lines().count(), 2, "{listing}");
    assert!(listing.lines().all(|l| l.contains(" 0 ")), "{listing}");
    assert_eq!(
        std::fs::read(dir.join("dist/demo_darwin_arm64.tar")).unwrap()[257..262],
        *b"ustar",
        "no compression around the tar"
    );

    // Byte for byte the same on a second run.
    let (code, out, err) = rel_run(dir, &["release", "--snapshot", "--clean"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(dist_files(dir) == first, "a second run wrote other bytes");
}

#[test]
fn gz_with_files_or_two_binaries_is_refused_before_anything_is_built() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path();
    project(
        dir,
        &CONFIG.replace(
            "    formats: [gz]\n    files: []",
            "    formats: [gz]\n    files: [README.md]",
        ),
    );
    // `rel check` and the run refuse it alike, pointing at the `files` line.
    for args in [&["check"][..], &["release", "--snapshot"]] {
        let (code, out, err) = rel_run(dir, args);
        assert_eq!(code, 2, "{args:?}: {out}{err}");
        assert!(
            err.contains("the gz format holds the binary alone"),
            "{err}"
        );
        assert!(err.contains(".release.yaml:10:5"), "{err}");
    }
    assert!(!dir.join("dist").exists(), "nothing was built");

    let t = tempfile::tempdir().unwrap();
    let dir = t.path();
    let two = r#"version: 1
project_name: demo
builds:
  - id: a
    builder: command
    targets: [linux_amd64_v1]
    command: [sh, -c, "echo a > {{ output }}"]
  - id: b
    builder: command
    targets: [linux_amd64_v1]
    command: [sh, -c, "echo b > {{ output }}"]
archives:
  - formats: [gz]
    files: []
"#;
    project(dir, two);
    // Two builds with one target: refused at the `formats` line that asks for gz.
    for args in [&["check"][..], &["release", "--snapshot"]] {
        let (code, out, err) = rel_run(dir, args);
        assert_eq!(code, 2, "{args:?}: {out}{err}");
        assert!(
            err.contains("the gz format holds one binary, but linux_amd64_v1 has 2 here (a, b)"),
            "{err}"
        );
        assert!(err.contains(".release.yaml:13:5"), "{err}");
    }
    assert!(!dir.join("dist").exists(), "nothing was built");

    // The same builds in a gz archive each: accepted, one gz per build.
    let each = two.replace(
        "  - formats: [gz]\n    files: []\n",
        "  - id: a\n    builds: [a]\n    formats: [gz]\n    name_template: a\n    files: []\n  - id: b\n    builds: [b]\n    formats: [gz]\n    name_template: b\n    files: []\n",
    );
    assert_ne!(each, two);
    std::fs::write(dir.join(".release.yaml"), each).unwrap();
    git(dir, &["commit", "-qam", "fix: one build per gz"]);
    let (code, out, err) = rel_run(dir, &["release", "--snapshot"]);
    assert_eq!(code, 0, "{out}{err}");
    for (name, want) in [("a.gz", "a\n"), ("b.gz", "b\n")] {
        let plain = sh_out(
            Command::new("gzip")
                .arg("-dc")
                .arg(dir.join("dist").join(name)),
        );
        assert_eq!(plain, want, "{name}");
    }
}

#[test]
fn builds_info_and_files_info_set_owner_group_mode_and_time() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path();
    let config = r#"version: 1
project_name: demo
builds:
  - builder: command
    targets: [linux_amd64_v1]
    command: [sh, -c, "echo bin > {{ output }}"]
archives:
  - formats: [tar.gz, zip, tar]
    name_template: "demo"
    builds_info:
      owner: app
      group: staff
      mode: 0700
      mtime: "2020-01-02T03:04:06Z"
    files:
      - src: README.md
        info:
          owner: docs
          group: wheel
          mode: "0640"
          mtime: "{{ commit_date }}"
"#;
    project(dir, config);
    let (code, out, err) = rel_run(dir, &["release", "--snapshot"]);
    assert_eq!(code, 0, "{out}{err}");
    let listing = sh_out(
        Command::new("tar")
            .args(["-tvf"])
            .arg(dir.join("dist/demo.tar.gz"))
            .env("TZ", "UTC"),
    );
    let line = |name: &str| {
        listing
            .lines()
            .find(|l| l.ends_with(&format!(" {name}")))
            .unwrap_or_else(|| panic!("{name}: {listing}"))
            .to_string()
    };
    let bin = line("demo");
    assert!(bin.starts_with("-rwx------ app/staff "), "{bin}");
    assert!(bin.contains("2020-01-02 03:04"), "{bin}");
    let readme = line("README.md");
    assert!(readme.starts_with("-rw-r----- docs/wheel "), "{readme}");
    // The commit time of `init_repo` (2024-01-02T03:04:05Z), rendered from the template.
    assert!(readme.contains("2024-01-02 03:04"), "{readme}");

    let z = sh_out(
        Command::new("unzip")
            .arg("-Z")
            .arg(dir.join("dist/demo.zip")),
    );
    let zbin = z
        .lines()
        .find(|l| l.ends_with(" demo"))
        .unwrap_or_else(|| panic!("{z}"));
    assert!(zbin.starts_with("-rwx------"), "{zbin}");
    assert!(zbin.contains("20-Jan-02 03:04"), "{zbin}");
    let zreadme = z
        .lines()
        .find(|l| l.ends_with(" README.md"))
        .unwrap_or_else(|| panic!("{z}"));
    assert!(zreadme.starts_with("-rw-r-----"), "{zreadme}");
    assert!(zreadme.contains("24-Jan-02 03:04"), "{zreadme}");

    // The uncompressed tar, read by bsdtar: names kept, ids still 0.
    let b = sh_out(
        Command::new("bsdtar")
            .args(["-tvf"])
            .arg(dir.join("dist/demo.tar"))
            .env("TZ", "UTC"),
    );
    let bbin = b
        .lines()
        .find(|l| l.ends_with(" demo"))
        .unwrap_or_else(|| panic!("{b}"));
    let fields: Vec<&str> = bbin.split_whitespace().collect();
    assert_eq!(&fields[..4], ["-rwx------", "0", "app", "staff"], "{bbin}");
    assert!(bbin.contains("Jan  2  2020"), "{bbin}");
    let n = sh_out(
        Command::new("bsdtar")
            .args(["--numeric-owner", "-tvf"])
            .arg(dir.join("dist/demo.tar")),
    );
    assert!(
        n.lines().all(|l| l.split_whitespace().nth(2) == Some("0")),
        "{n}"
    );

    // The same bytes on a second run.
    let read = |name: &str| std::fs::read(dir.join("dist").join(name)).unwrap();
    let first: Vec<Vec<u8>> = ["demo.tar.gz", "demo.zip", "demo.tar"]
        .iter()
        .map(|n| read(n))
        .collect();
    let (code, out, err) = rel_run(dir, &["release", "--snapshot", "--clean"]);
    assert_eq!(code, 0, "{out}{err}");
    for (name, bytes) in ["demo.tar.gz", "demo.zip", "demo.tar"].iter().zip(&first) {
        assert!(read(name) == *bytes, "{name} differs between two runs");
    }

    // A time that is not RFC 3339 is a config error naming the key.
    let bad = config.replace("\"2020-01-02T03:04:06Z\"", "yesterday");
    std::fs::write(dir.join(".release.yaml"), bad).unwrap();
    git(dir, &["commit", "-qam", "fix: time"]);
    std::fs::remove_dir_all(dir.join("dist")).unwrap();
    let (code, out, err) = rel_run(dir, &["release", "--snapshot"]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("archives[0].builds_info.mtime"), "{err}");
    assert!(!dir.join("dist").exists(), "nothing was built");
}
