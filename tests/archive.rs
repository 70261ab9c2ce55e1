//! End-to-end archives and checksums: real releases read back by independent tools (GNU tar,
//! bsdtar, unzip, Python's tarfile/zipfile, sha256sum/sha512sum/b3sum), reproducibility across
//! folders and times, and the documented outcome of each bad input.

mod common;
use common::*;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

/// 2024-01-02T03:04:05Z, the date `common::git` gives every commit.
const COMMIT_TS: i64 = 1_704_164_645;

const PY_TAR: &str = r#"
import sys, tarfile, json
if sys.argv[1] == "-":
    f = tarfile.open(fileobj=sys.stdin.buffer, mode="r|")
else:
    f = tarfile.open(sys.argv[1], "r:*")
out = []
for m in f:
    out.append({"name": m.name, "mode": m.mode, "uid": m.uid, "gid": m.gid, "uname": m.uname,
                "gname": m.gname, "mtime": m.mtime, "type": m.type.decode(), "link": m.linkname, "size": m.size})
print(json.dumps(out))
"#;

const PY_ZIP: &str = r#"
import sys, zipfile, json
z = zipfile.ZipFile(sys.argv[1])
bad = z.testzip()
assert bad is None, bad
print(json.dumps([{"name": i.filename, "mode": i.external_attr >> 16, "date": list(i.date_time),
                   "system": i.create_system, "extra": len(i.extra), "size": i.file_size} for i in z.infolist()]))
"#;

fn sh(cmd: &mut Command) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e} (scripts/test.sh installs it)"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Entries of a tar.* archive as Python's tarfile sees them.
fn py_tar(path: &Path) -> Vec<Value> {
    let text = if path.to_string_lossy().ends_with(".zst") {
        let mut zstd = Command::new("zstd")
            .args(["-dc"])
            .arg(path)
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("zstd is installed");
        let out = Command::new("python3")
            .args(["-c", PY_TAR, "-"])
            .stdin(zstd.stdout.take().unwrap())
            .output()
            .unwrap();
        assert!(
            zstd.wait().unwrap().success(),
            "zstd -dc {}",
            path.display()
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    } else {
        sh(Command::new("python3").args(["-c", PY_TAR]).arg(path))
    };
    serde_json::from_str::<Vec<Value>>(&text).unwrap()
}

fn py_zip(path: &Path) -> Vec<Value> {
    serde_json::from_str(&sh(Command::new("python3").args(["-c", PY_ZIP]).arg(path))).unwrap()
}

fn names(entries: &[Value]) -> Vec<String> {
    entries
        .iter()
        .map(|e| e["name"].as_str().unwrap().to_string())
        .collect()
}

fn json(p: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
}

fn release(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let mut c = rel(dir);
    c.args(["release", "--skip", "publish"]).args(args);
    run(c)
}

/// Files in `dist/` (not folders), by name.
fn dist_files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut m = BTreeMap::new();
    let Ok(rd) = std::fs::read_dir(dir.join("dist")) else {
        return m;
    };
    for e in rd {
        let e = e.unwrap();
        if e.file_type().unwrap().is_file() {
            m.insert(
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            );
        }
    }
    m
}

fn archives_in(dir: &Path) -> Vec<String> {
    dist_files(dir)
        .into_keys()
        .filter(|n| {
            [".tar.gz", ".tar.xz", ".tar.zst", ".zip"]
                .iter()
                .any(|e| n.ends_with(e))
        })
        .collect()
}

/// A `prebuilt` project: fake binaries for the given targets (`os_arch`), committed.
fn prebuilt_project(dir: &Path, config: &str, targets: &[&str]) {
    use std::os::unix::fs::PermissionsExt;
    for t in targets {
        let ext = if t.starts_with("windows") { ".exe" } else { "" };
        let p = dir.join(format!("prebuilt/{t}/hello{ext}"));
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        let body: Vec<u8> = (0..50_000u32)
            .flat_map(|i| (i / 3 + t.len() as u32).to_le_bytes())
            .collect();
        std::fs::write(&p, body).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    write(dir, "README.md", "# hello\n");
    write(dir, "LICENSE", "MIT\n");
    write(dir, ".gitignore", "dist/\n");
    write(dir, ".release.yaml", config);
    init_repo(dir);
}

const PREBUILT: &str = r#"
version: 1
project_name: hello
snapshot: {version_template: "{{ version }}-next"}
builds:
  - id: hello
    builder: prebuilt
    targets: [linux_amd64_v1, windows_amd64_v1]
    path: "prebuilt/{{ os }}_{{ arch }}/hello{{ ext }}"
archives:
  - formats: [tar.gz, tar.zst, tar.xz]
    format_overrides: [{goos: windows, formats: [zip]}]
"#;

const GO_CONFIG: &str = r#"
version: 1
project_name: hello
env: ["CGO_ENABLED=0"]
builds:
  - id: hello
    main: .
    targets: [linux_amd64_v1, darwin_arm64, windows_amd64_v1]
    flags: ["-trimpath"]
    ldflags: ["-s -w -X main.version={{ version }} -X main.commit={{ short_commit }}"]
archives:
  - formats: [tar.gz, tar.xz, tar.zst]
    format_overrides: [{goos: windows, formats: [zip]}]
    wrap_in_directory: "{{ project_name }}-{{ version }}"
    files: ["README*", "LICENSE*", {src: "docs/**/*.md", dst: manual}, "scripts/*.sh", "docs/link.md"]
"#;

fn go_fixture(dir: &Path) {
    use std::os::unix::fs::PermissionsExt;
    go_project(dir, GO_CONFIG);
    write(dir, "docs/guide.md", "guide\n");
    write(dir, "docs/deep/more.md", "more\n");
    write(dir, "scripts/install.sh", "#!/bin/sh\necho install\n");
    std::fs::set_permissions(
        dir.join("scripts/install.sh"),
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    std::os::unix::fs::symlink("guide.md", dir.join("docs/link.md")).unwrap();
}

#[test]
fn go_release_every_format_read_by_independent_tools() {
    require_go();
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    go_fixture(dir);
    init_repo(dir);
    git(dir, &["tag", "v1.2.3"]);
    let short = git(dir, &["rev-parse", "--short", "HEAD"]);
    let (code, _, err) = release(dir, &["-p", "2"]);
    assert_eq!(code, 0, "{err}");

    let wrap = "hello-1.2.3";
    let want_tar = vec![
        format!("{wrap}"),
        format!("{wrap}/LICENSE"),
        format!("{wrap}/README.md"),
        format!("{wrap}/docs"),
        format!("{wrap}/docs/link.md"),
        format!("{wrap}/hello"),
        format!("{wrap}/manual"),
        format!("{wrap}/manual/deep"),
        format!("{wrap}/manual/deep/more.md"),
        format!("{wrap}/manual/guide.md"),
        format!("{wrap}/manual/link.md"),
        format!("{wrap}/scripts"),
        format!("{wrap}/scripts/install.sh"),
    ];
    let dist = dir.join("dist");
    let mut expected_archives = vec![];
    for (target, bin) in [("linux_amd64", "hello"), ("darwin_arm64", "hello")] {
        for ext in ["tar.gz", "tar.xz", "tar.zst"] {
            let name = format!("hello_1.2.3_{target}.{ext}");
            expected_archives.push(name.clone());
            let path = dist.join(&name);
            let entries = py_tar(&path);
            let want: Vec<String> = want_tar
                .iter()
                .map(|n| n.replace("/hello", &format!("/{bin}")))
                .collect();
            assert_eq!(
                names(&entries),
                want,
                "{name}: sorted entries with their folders"
            );
            for e in &entries {
                let n = e["name"].as_str().unwrap();
                assert_eq!(
                    (e["uid"].as_i64(), e["gid"].as_i64()),
                    (Some(0), Some(0)),
                    "{name} {n}"
                );
                assert_eq!(
                    (e["uname"].as_str(), e["gname"].as_str()),
                    (Some(""), Some("")),
                    "{name} {n}"
                );
                assert_eq!(
                    e["mtime"].as_i64(),
                    Some(COMMIT_TS),
                    "{name} {n}: the commit's time"
                );
                let (mode, ty) = (e["mode"].as_i64().unwrap(), e["type"].as_str().unwrap());
                let want_mode = if n.ends_with("/hello") || n.ends_with(".sh") || ty == "5" {
                    0o755
                } else if ty == "2" {
                    0o777
                } else {
                    0o644
                };
                assert_eq!(mode, want_mode, "{name} {n}: mode {mode:o}");
                if n.ends_with("docs/link.md") || n.ends_with("manual/link.md") {
                    assert_eq!(
                        (ty, e["link"].as_str()),
                        ("2", Some("guide.md")),
                        "{name} {n}: stored as a symlink"
                    );
                }
            }
            // Independent readers: GNU tar and bsdtar list the same names.
            let flag = match ext {
                "tar.gz" => "-z",
                "tar.xz" => "-J",
                _ => "--zstd",
            };
            let gnu: Vec<String> = sh(Command::new("tar").args(["-t", flag, "-f"]).arg(&path))
                .lines()
                .map(|l| l.trim_end_matches('/').to_string())
                .collect();
            assert_eq!(gnu, want, "GNU tar on {name}");
            let bsd: Vec<String> = sh(Command::new("bsdtar").args(["-tf"]).arg(&path))
                .lines()
                .map(|l| l.trim_end_matches('/').to_string())
                .collect();
            assert_eq!(bsd, want, "bsdtar on {name}");
            let long = sh(Command::new("bsdtar").args(["-tvf"]).arg(&path));
            for l in long.lines() {
                let f: Vec<&str> = l.split_whitespace().collect();
                assert_eq!(
                    (f[2], f[3]),
                    ("0", "0"),
                    "bsdtar shows owner 0:0 without names: {l}"
                );
            }
        }
    }
    // The linux binary extracted by GNU tar runs and carries the version.
    let x = tempfile::tempdir().unwrap();
    sh(Command::new("tar")
        .args(["-xzf"])
        .arg(dist.join("hello_1.2.3_linux_amd64.tar.gz"))
        .arg("-C")
        .arg(x.path()));
    let out = sh(&mut Command::new(x.path().join(wrap).join("hello")));
    assert_eq!(out.trim(), format!("hello 1.2.3 {short}"));
    assert_eq!(
        std::fs::read_to_string(x.path().join(wrap).join("manual/deep/more.md")).unwrap(),
        "more\n"
    );

    // zip for windows: unzip -t, then Python's zipfile for modes and times.
    let zip = dist.join("hello_1.2.3_windows_amd64.zip");
    expected_archives.push("hello_1.2.3_windows_amd64.zip".into());
    let t = sh(Command::new("unzip").arg("-t").arg(&zip));
    assert!(t.contains("No errors detected"), "{t}");
    let entries = py_zip(&zip);
    let want_zip: Vec<String> = want_tar
        .iter()
        .map(|n| {
            let n = n.replace("/hello", "/hello.exe");
            if n == wrap
                || n.ends_with("/docs")
                || n.ends_with("/manual")
                || n.ends_with("/deep")
                || n.ends_with("/scripts")
            {
                format!("{n}/")
            } else {
                n
            }
        })
        .collect();
    assert_eq!(names(&entries), want_zip);
    for e in &entries {
        let n = e["name"].as_str().unwrap();
        assert_eq!(
            e["system"].as_i64(),
            Some(3),
            "{n}: made on unix, so permissions are read"
        );
        assert_eq!(
            e["date"],
            serde_json::json!([2024, 1, 2, 3, 4, 4]),
            "{n}: the commit's time (two-second DOS resolution)"
        );
        assert_eq!(e["extra"].as_i64(), Some(0), "{n}: no extra time fields");
        let mode = e["mode"].as_i64().unwrap();
        let want = if n.ends_with('/') {
            0o040755
        } else if n.ends_with("hello.exe") || n.ends_with(".sh") {
            0o100755
        } else if n.ends_with("link.md") {
            0o120777
        } else {
            0o100644
        };
        assert_eq!(mode, want, "{n}: mode {mode:o}");
    }

    // The checksum file covers every archive, sorted, and sha256sum -c agrees.
    let sums = std::fs::read_to_string(dist.join("hello_1.2.3_checksums.txt")).unwrap();
    let listed: Vec<&str> = sums
        .lines()
        .map(|l| l.split_once("  ").unwrap().1)
        .collect();
    expected_archives.sort();
    assert_eq!(listed, expected_archives);
    let ok = sh(Command::new("sha256sum")
        .args(["-c", "hello_1.2.3_checksums.txt"])
        .current_dir(&dist));
    assert_eq!(ok.matches(": OK").count(), 7, "{ok}");

    // artifacts.json: every archive and the checksum file, with size and sha256.
    let arts = json(&dist.join("artifacts.json"));
    let arts = arts.as_array().unwrap();
    for name in expected_archives
        .iter()
        .chain(std::iter::once(&"hello_1.2.3_checksums.txt".to_string()))
    {
        let a = arts
            .iter()
            .find(|a| a["name"] == name.as_str())
            .unwrap_or_else(|| panic!("{name} in artifacts.json"));
        let bytes = std::fs::read(dist.join(name)).unwrap();
        assert_eq!(a["size"].as_u64(), Some(bytes.len() as u64), "{name}");
        let sha = sh(Command::new("sha256sum").arg(dist.join(name)));
        assert_eq!(
            a["sha256"].as_str(),
            sha.split_whitespace().next(),
            "{name}"
        );
        let kind = if name.ends_with("checksums.txt") {
            "checksum"
        } else {
            "archive"
        };
        assert_eq!(a["kind"], kind, "{name}");
    }
    let linux = arts
        .iter()
        .find(|a| a["name"] == "hello_1.2.3_linux_amd64.tar.gz")
        .unwrap();
    assert_eq!(
        (
            linux["os"].as_str(),
            linux["arch"].as_str(),
            linux["target"].as_str()
        ),
        (Some("linux"), Some("amd64"), Some("linux_amd64_v1"))
    );
    assert_eq!(linux["extra"]["format"], "tar.gz");
}

/// Write the Go fixture's files in a given order, with given mtimes and a given umask-like
/// mode for non-executable files, so two folders differ in everything but content.
fn go_fixture_variant(dir: &Path, reverse: bool, odd_modes: bool) {
    use std::os::unix::fs::PermissionsExt;
    let mut files: Vec<(&str, String)> = vec![
        ("go.mod", "module example.com/hello\n\ngo 1.21\n".into()),
        (
            "main.go",
            "package main\n\nimport \"fmt\"\n\nvar (\n\tversion = \"dev\"\n\tcommit  = \"none\"\n)\n\nfunc main() {\n\tfmt.Printf(\"hello %s %s\\n\", version, commit)\n}\n".into(),
        ),
        (".gitignore", "dist/\n".into()),
        ("README.md", "# hello\n".into()),
        ("LICENSE", "MIT\n".into()),
        (".release.yaml", GO_CONFIG.into()),
        ("docs/guide.md", "guide\n".into()),
        ("docs/deep/more.md", "more\n".into()),
        ("scripts/install.sh", "#!/bin/sh\necho install\n".into()),
    ];
    if reverse {
        files.reverse();
    }
    for (name, text) in &files {
        write(dir, name, text);
        if odd_modes && !name.ends_with(".sh") {
            std::fs::set_permissions(dir.join(name), std::fs::Permissions::from_mode(0o600))
                .unwrap();
        }
        if odd_modes {
            // A different modification time for every file.
            let f = std::fs::File::options()
                .write(true)
                .open(dir.join(name))
                .unwrap();
            f.set_modified(
                std::time::SystemTime::now() + std::time::Duration::from_secs(86_400 * 40),
            )
            .unwrap();
        }
    }
    std::fs::set_permissions(
        dir.join("scripts/install.sh"),
        std::fs::Permissions::from_mode(if odd_modes { 0o700 } else { 0o755 }),
    )
    .unwrap();
    std::os::unix::fs::symlink("guide.md", dir.join("docs/link.md")).unwrap();
}

#[test]
fn same_commit_in_two_folders_at_two_times_gives_identical_bytes() {
    require_go();
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let b_dir = b.path().join("a/much/deeper/folder");
    std::fs::create_dir_all(&b_dir).unwrap();
    go_fixture_variant(a.path(), false, false);
    go_fixture_variant(&b_dir, true, true);
    init_repo(a.path());
    init_repo(&b_dir);
    let head_a = git(a.path(), &["rev-parse", "HEAD"]);
    assert_eq!(
        head_a,
        git(&b_dir, &["rev-parse", "HEAD"]),
        "the fixture is the same commit in both folders"
    );

    let (code, _, err) = release(a.path(), &["--snapshot", "-p", "2"]);
    assert_eq!(code, 0, "{err}");
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let (code, _, err) = release(&b_dir, &["--snapshot", "-p", "1"]);
    assert_eq!(code, 0, "{err}");

    let fa = dist_files(a.path());
    let fb = dist_files(&b_dir);
    let outputs: Vec<&String> = fa
        .keys()
        .filter(|n| n.contains(".tar.") || n.ends_with(".zip") || n.ends_with("checksums.txt"))
        .collect();
    assert_eq!(
        outputs.len(),
        8,
        "7 archives and the checksum file: {outputs:?}"
    );
    for name in outputs {
        assert!(
            fa[name] == fb[name],
            "{name} differs between the two folders"
        );
    }
}

#[test]
fn commit_time_and_source_date_epoch_set_every_timestamp() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    prebuilt_project(dir, PREBUILT, &["linux_amd64", "windows_amd64"]);
    let (code, _, err) = release(dir, &["--snapshot"]);
    assert_eq!(code, 0, "{err}");
    let first = dist_files(dir);
    let tgz = dir.join("dist/hello_0.0.0-next_linux_amd64.tar.gz");
    assert!(
        py_tar(&tgz)
            .iter()
            .all(|e| e["mtime"].as_i64() == Some(COMMIT_TS))
    );

    // The same tree committed one day later: same names, new bytes, new times.
    git_at(
        dir,
        &[
            "commit",
            "-q",
            "--amend",
            "--no-edit",
            "--date",
            "2024-01-03T03:04:05Z",
        ],
        "2024-01-03T03:04:05Z",
    );
    let (code, _, err) = release(dir, &["--snapshot", "--clean"]);
    assert_eq!(code, 0, "{err}");
    let second = dist_files(dir);
    let archives: Vec<&String> = first
        .keys()
        .filter(|n| n.contains(".tar.") || n.ends_with(".zip") || n.ends_with("checksums.txt"))
        .collect();
    assert_eq!(archives.len(), 5, "{archives:?}");
    for n in &archives {
        assert!(second.contains_key(*n), "{n} keeps its name");
        assert!(first[*n] != second[*n], "{n} changes with the commit time");
    }
    assert!(
        py_tar(&tgz)
            .iter()
            .all(|e| e["mtime"].as_i64() == Some(COMMIT_TS + 86_400))
    );

    // SOURCE_DATE_EPOCH wins over the commit time, in tar and zip alike.
    let mut c = rel(dir);
    c.args(["release", "--snapshot", "--clean"])
        .env("SOURCE_DATE_EPOCH", "1600000000");
    let (code, _, err) = run(c);
    assert_eq!(code, 0, "{err}");
    assert!(
        py_tar(&tgz)
            .iter()
            .all(|e| e["mtime"].as_i64() == Some(1_600_000_000))
    );
    let zip = py_zip(&dir.join("dist/hello_0.0.0-next_windows_amd64.zip"));
    assert!(
        zip.iter()
            .all(|e| e["date"] == serde_json::json!([2020, 9, 13, 12, 26, 40])),
        "{zip:?}"
    );
}

#[test]
fn files_outside_the_project_are_refused() {
    for (glob, code_want, msg) in [
        ("../outside.txt", 2, "goes outside the project"),
        ("/etc/hostname", 2, "absolute path"),
        ("docs/../../outside.txt", 2, "goes outside the project"),
    ] {
        let d = tempfile::tempdir().unwrap();
        let dir = d.path().join("p");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(d.path().join("outside.txt"), "secret").unwrap();
        let cfg = format!("{PREBUILT}    files: [\"{glob}\"]\n");
        prebuilt_project(&dir, &cfg, &["linux_amd64", "windows_amd64"]);
        let (code, _, err) = release(&dir, &["--snapshot"]);
        assert_eq!(code, code_want, "{glob}: {err}");
        assert!(
            err.contains(msg) && err.contains(".release.yaml:"),
            "{glob}: the error names the problem and its line: {err}"
        );
        assert!(
            !dir.join("dist").exists(),
            "{glob}: refused before any work"
        );
    }

    // A symlink inside the project pointing out of it is found when files are resolved.
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().join("p");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(d.path().join("outside.txt"), "secret").unwrap();
    std::fs::create_dir_all(dir.join("docs")).unwrap();
    std::os::unix::fs::symlink("../../outside.txt", dir.join("docs/escape.md")).unwrap();
    let cfg = format!("{PREBUILT}    files: [\"docs/*\"]\n");
    prebuilt_project(&dir, &cfg, &["linux_amd64", "windows_amd64"]);
    let (code, _, err) = release(&dir, &["--snapshot"]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("docs/escape.md") && err.contains("points outside the project"),
        "{err}"
    );
    assert!(
        archives_in(&dir).is_empty(),
        "no archive written: {:?}",
        archives_in(&dir)
    );

    // A folder reached through a symlink that leaves the project.
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().join("p");
    std::fs::create_dir_all(d.path().join("elsewhere")).unwrap();
    std::fs::write(d.path().join("elsewhere/x.md"), "x").unwrap();
    std::fs::create_dir_all(&dir).unwrap();
    std::os::unix::fs::symlink("../elsewhere", dir.join("docs")).unwrap();
    let cfg = format!("{PREBUILT}    files: [\"docs/*.md\"]\n");
    prebuilt_project(&dir, &cfg, &["linux_amd64", "windows_amd64"]);
    let (code, _, err) = release(&dir, &["--snapshot"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("outside the project"), "{err}");
    assert!(archives_in(&dir).is_empty());
}

#[test]
fn dangling_symlink_is_an_error() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    std::fs::create_dir_all(dir.join("docs")).unwrap();
    std::fs::write(dir.join("docs/a.md"), "a").unwrap();
    std::os::unix::fs::symlink("gone.md", dir.join("docs/broken.md")).unwrap();
    let cfg = format!("{PREBUILT}    files: [\"docs/*.md\"]\n");
    prebuilt_project(dir, &cfg, &["linux_amd64", "windows_amd64"]);
    let (code, _, err) = release(dir, &["--snapshot"]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("docs/broken.md")
            && err.contains("dangling")
            && err.contains("archives[0].files[0]"),
        "{err}"
    );
    assert!(archives_in(dir).is_empty());
}

#[test]
fn a_files_glob_that_matches_nothing_is_an_error_defaults_are_optional() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    let cfg = format!("{PREBUILT}    files: [README.md, \"docs/*.md\"]\n");
    prebuilt_project(dir, &cfg, &["linux_amd64", "windows_amd64"]);
    let (code, _, err) = release(dir, &["--snapshot"]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("archives[0].files[1]") && err.contains("`docs/*.md` matches no file"),
        "{err}"
    );
    assert!(archives_in(dir).is_empty());

    // No README/LICENSE/CHANGELOG and no `files`: the archive holds the binary alone.
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    prebuilt_project(dir, PREBUILT, &["linux_amd64", "windows_amd64"]);
    git(dir, &["rm", "-q", "README.md", "LICENSE"]);
    git(dir, &["commit", "-q", "-m", "chore: no docs"]);
    let (code, _, err) = release(dir, &["--snapshot"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        names(&py_tar(
            &dir.join("dist/hello_0.0.0-next_linux_amd64.tar.gz")
        )),
        ["hello"]
    );
}

#[test]
fn an_archive_with_no_binaries_writes_nothing_and_says_so() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    let cfg = r#"
version: 1
project_name: hello
snapshot: {version_template: "{{ version }}-next"}
builds:
  - id: hello
    builder: prebuilt
    targets: [linux_amd64_v1]
    path: "prebuilt/{{ os }}_{{ arch }}/hello"
  - id: later
    builder: prebuilt
    skip: true
    targets: [linux_amd64_v1]
    path: "prebuilt/{{ os }}_{{ arch }}/hello"
archives:
  - id: main
    builds: [hello]
  - id: extras
    builds: [later]
    name_template: "extras_{{ os }}"
"#;
    prebuilt_project(dir, cfg, &["linux_amd64"]);
    let (code, _, err) = release(dir, &["--snapshot"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(archives_in(dir), ["hello_0.0.0-next_linux_amd64.tar.gz"]);
    assert!(
        err.contains("archive `extras`") && err.contains("nothing written"),
        "{err}"
    );
}

#[test]
fn several_builds_share_an_archive_and_a_missing_target_is_left_out() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    let cfg = r#"
version: 1
project_name: hello
snapshot: {version_template: "{{ version }}-next"}
builds:
  - id: hello
    builder: prebuilt
    targets: [linux_amd64_v1, darwin_arm64]
    path: "prebuilt/{{ os }}_{{ arch }}/hello"
  - id: helper
    builder: prebuilt
    binary: hello-helper
    targets: [linux_amd64_v1]
    path: "prebuilt/{{ os }}_{{ arch }}/hello"
archives:
  - formats: [tar.gz, binary]
    name_template: "{{ binary }}-{{ os }}-{{ arch }}"
"#;
    prebuilt_project(dir, cfg, &["linux_amd64", "darwin_arm64"]);
    let (code, out, err) = release(dir, &["--snapshot", "--dry-run"]);
    assert_eq!(code, 0, "{err}");
    for n in [
        "dist/hello-linux-amd64.tar.gz",
        "dist/hello-darwin-arm64.tar.gz",
        "dist/hello-linux-amd64 ",
        "dist/hello-helper-linux-amd64 ",
        "dist/hello-darwin-arm64 ",
    ] {
        assert!(out.contains(n), "dry run lists {n}:\n{out}");
    }
    assert!(
        out.contains("checksum: dist/hello_0.0.0-next_checksums.txt (sha256)"),
        "{out}"
    );
    assert!(!dir.join("dist").exists(), "a dry run writes nothing");

    let (code, _, err) = release(dir, &["--snapshot"]);
    assert_eq!(code, 0, "{err}");
    let dist = dir.join("dist");
    assert_eq!(
        names(&py_tar(&dist.join("hello-linux-amd64.tar.gz"))),
        ["LICENSE", "README.md", "hello", "hello-helper"]
    );
    assert_eq!(
        names(&py_tar(&dist.join("hello-darwin-arm64.tar.gz"))),
        ["LICENSE", "README.md", "hello"]
    );
    // `binary` copies each binary, renamed, executable.
    use std::os::unix::fs::PermissionsExt;
    for n in [
        "hello-linux-amd64",
        "hello-helper-linux-amd64",
        "hello-darwin-arm64",
    ] {
        let m = std::fs::metadata(dist.join(n)).unwrap();
        assert_eq!(m.permissions().mode() & 0o777, 0o755, "{n}");
    }
    assert_eq!(
        std::fs::read(dist.join("hello-darwin-arm64")).unwrap(),
        std::fs::read(dir.join("prebuilt/darwin_arm64/hello")).unwrap()
    );
    let ok = sh(Command::new("sha256sum")
        .args(["-c", "hello_0.0.0-next_checksums.txt"])
        .current_dir(&dist));
    assert_eq!(ok.matches(": OK").count(), 5, "{ok}");
    let arts = json(&dist.join("artifacts.json"));
    let bins: Vec<&Value> = arts
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["kind"] == "uploadable_binary")
        .collect();
    assert_eq!(bins.len(), 3);

    // A prebuilt binary missing for one platform stops the release before any archive.
    std::fs::remove_file(dir.join("prebuilt/darwin_arm64/hello")).unwrap();
    let (code, _, err) = release(dir, &["--snapshot", "--clean"]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("prebuilt/darwin_arm64/hello") && err.contains("does not exist"),
        "{err}"
    );
    assert!(archives_in(dir).is_empty());
}

#[test]
fn colliding_names_stop_the_release_before_building() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    let cfg = r#"
version: 1
project_name: hello
builds:
  - id: hello
    builder: command
    targets: [linux_amd64_v1, linux_arm64]
    command: ["sh", "-c", "touch built-marker; cp prebuilt/linux_amd64/hello {{ output }}"]
archives:
  - name_template: "{{ project_name }}_{{ os }}"
"#;
    prebuilt_project(dir, cfg, &["linux_amd64"]);
    for args in [&["--snapshot"][..], &["--snapshot", "--dry-run"][..]] {
        let (code, _, err) = release(dir, args);
        assert_eq!(code, 2, "{err}");
        assert!(
            err.contains("two outputs would be written to dist/hello_linux.tar.gz")
                && err.contains("name_template"),
            "{err}"
        );
    }
    assert!(!dir.join("built-marker").exists(), "nothing was built");
    assert!(!dir.join("dist").exists());

    // An archive named like the checksum file collides too.
    let cfg = PREBUILT.replace(
        "format_overrides: [{goos: windows, formats: [zip]}]",
        "name_template: \"sums{{ os }}\"",
    ) + "checksum: {name_template: sumslinux.tar.gz}\n";
    let d = tempfile::tempdir().unwrap();
    prebuilt_project(d.path(), &cfg, &["linux_amd64", "windows_amd64"]);
    let (code, _, err) = release(d.path(), &["--snapshot"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("dist/sumslinux.tar.gz") && err.contains("checksum file"),
        "{err}"
    );
}

#[test]
fn checksum_algorithms_split_sidecars_skip_and_disable() {
    for (algo, tool) in [("sha512", "sha512sum"), ("blake3", "b3sum")] {
        let d = tempfile::tempdir().unwrap();
        let dir = d.path();
        let cfg = format!("{PREBUILT}checksum: {{algorithm: {algo}, split: true}}\n");
        prebuilt_project(dir, &cfg, &["linux_amd64", "windows_amd64"]);
        let (code, _, err) = release(dir, &["--snapshot"]);
        assert_eq!(code, 0, "{err}");
        let dist = dir.join("dist");
        let ok = sh(Command::new(tool)
            .args(["-c", "hello_0.0.0-next_checksums.txt"])
            .current_dir(&dist));
        assert_eq!(ok.matches(": OK").count(), 4, "{tool}: {ok}");
        for a in archives_in(dir) {
            let side = format!("{a}.{algo}");
            let ok = sh(Command::new(tool).args(["-c", &side]).current_dir(&dist));
            assert!(ok.contains(&format!("{a}: OK")), "{side}: {ok}");
        }
        let arts = json(&dist.join("artifacts.json"));
        let kinds: Vec<&str> = arts
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["kind"].as_str().unwrap())
            .collect();
        assert_eq!(
            kinds.iter().filter(|k| **k == "checksum_sidecar").count(),
            4
        );
        assert_eq!(kinds.iter().filter(|k| **k == "checksum").count(), 1);
    }

    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    prebuilt_project(
        dir,
        &format!("{PREBUILT}checksum: {{disable: true}}\n"),
        &["linux_amd64", "windows_amd64"],
    );
    let (code, _, err) = release(dir, &["--snapshot"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(archives_in(dir).len(), 4);
    assert!(
        !dist_files(dir).keys().any(|n| n.contains("checksums")),
        "checksum.disable"
    );

    let (code, _, err) = release(dir, &["--snapshot", "--clean", "--skip", "archive"]);
    assert_eq!(code, 0, "{err}");
    assert!(archives_in(dir).is_empty(), "--skip archive");
    assert!(err.contains("archive: skipped (--skip)"), "{err}");

    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    prebuilt_project(dir, PREBUILT, &["linux_amd64", "windows_amd64"]);
    let (code, _, err) = release(dir, &["--snapshot", "--skip", "checksum"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(archives_in(dir).len(), 4);
    assert!(
        !dist_files(dir).keys().any(|n| n.contains("checksums")),
        "--skip checksum"
    );
}

#[test]
fn the_dry_run_names_exactly_what_the_run_writes() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    let cfg = PREBUILT.replace(
        "format_overrides: [{goos: windows, formats: [zip]}]",
        "format_overrides: [{goos: windows, formats: [zip, binary]}]\n    name_template: \"{{ project_name }}-{{ os }}-{{ arch }}\"",
    ) + "checksum: {name_template: \"SUMS-{{ version }}\", split: true}\n";
    prebuilt_project(dir, &cfg, &["linux_amd64", "windows_amd64"]);
    let (code, out, err) = release(dir, &["--snapshot", "--dry-run"]);
    assert_eq!(code, 0, "{err}");
    assert!(!dir.join("dist").exists(), "a dry run writes nothing");
    // Every dist/ path the dry run names, in its archive and checksum lines.
    let mut planned: Vec<String> = out
        .lines()
        .filter(|l| l.starts_with("  dist/") || l.starts_with("checksum: dist/"))
        .filter_map(|l| l.split_whitespace().find(|w| w.starts_with("dist/")))
        .map(|w| w.trim_start_matches("dist/").to_string())
        .collect();
    planned.sort();
    assert_eq!(planned.len(), 6, "{out}");
    let (code, _, err) = release(dir, &["--snapshot"]);
    assert_eq!(code, 0, "{err}");
    let arts: Vec<serde_json::Value> =
        serde_json::from_slice(&std::fs::read(dir.join("dist/artifacts.json")).unwrap()).unwrap();
    let mut written: Vec<String> = arts
        .iter()
        .filter(|a| {
            ["archive", "uploadable_binary", "checksum"].contains(&a["kind"].as_str().unwrap())
        })
        .map(|a| a["name"].as_str().unwrap().to_string())
        .collect();
    written.sort();
    assert_eq!(planned, written);
    for name in &written {
        assert!(dir.join("dist").join(name).is_file(), "{name}");
    }
}
