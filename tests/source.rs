//! End-to-end source archives (`source`): real git repositories and releases, read back by
//! independent tools (GNU tar, unzip, Python's tarfile/zipfile), vendored Go modules and
//! Rust crates built offline from the unpacked archives, byte-reproducibility across two
//! checkouts, and config errors with their locations.

mod common;
use common::*;
use serde_json::Value;
use std::collections::BTreeSet;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

/// 2024-01-02T03:04:05Z, the date `common::git` gives every commit.
const COMMIT_TS: i64 = 1_704_164_645;

const PY_TAR: &str = r#"
import sys, tarfile, json
out = []
for m in tarfile.open(sys.argv[1], "r:*"):
    out.append({"name": m.name, "mode": m.mode, "uid": m.uid, "gid": m.gid, "uname": m.uname,
                "gname": m.gname, "mtime": m.mtime, "type": m.type.decode(), "link": m.linkname})
print(json.dumps(out))
"#;

const PY_ZIP: &str = r#"
import sys, zipfile, json
z = zipfile.ZipFile(sys.argv[1])
assert z.testzip() is None
print(json.dumps([{"name": i.filename, "mode": (i.external_attr >> 16) & 0o7777} for i in z.infolist()]))
"#;

fn py(script: &str, path: &Path) -> Vec<Value> {
    serde_json::from_str(&sh(Command::new("python3").args(["-c", script]).arg(path))).unwrap()
}

fn release(dir: &Path, skip: &str, env: &[(&str, String)]) -> (i32, String, String) {
    let mut c = rel(dir);
    c.args(["release", "--skip", skip]);
    for (k, v) in env {
        c.env(k, v);
    }
    run(c)
}

fn sha256(p: &Path) -> String {
    sh(Command::new("sha256sum").arg(p))
        .split_whitespace()
        .next()
        .unwrap()
        .to_string()
}

/// `git ls-files -s` of `dir`: each tracked path with its git mode.
fn tracked(dir: &Path) -> Vec<(String, String)> {
    git(dir, &["ls-files", "-s"])
        .lines()
        .map(|l| {
            let (meta, path) = l.split_once('\t').unwrap();
            (
                path.to_string(),
                meta.split(' ').next().unwrap().to_string(),
            )
        })
        .collect()
}

/// A Go project tagged v1.2.3 with an executable script, a symlink, ignored files and a
/// generated file that is not in git.
fn go_fixture(dir: &Path, source: &str) {
    go_project(
        dir,
        &format!(
            "version: 1\nproject_name: hello\nenv: [\"CGO_ENABLED=0\"]\nbuilds:\n  - id: hello\n    main: .\n    targets: [linux_amd64_v1]\n{source}"
        ),
    );
    write(dir, ".gitignore", "dist/\ngen/\nscratch.txt\n");
    write(dir, "docs/guide.md", "guide\n");
    write(dir, "scripts/run.sh", "#!/bin/sh\necho run\n");
    std::fs::set_permissions(
        dir.join("scripts/run.sh"),
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    std::os::unix::fs::symlink("guide.md", dir.join("docs/link.md")).unwrap();
    // Left out as `git archive` leaves them out: a folder and a pattern.
    write(
        dir,
        ".gitattributes",
        "internal export-ignore\n*.secret export-ignore\n",
    );
    write(dir, "internal/notes.md", "notes\n");
    write(dir, "keys.secret", "k\n");
    init_repo(dir);
    git(dir, &["tag", "v1.2.3"]);
    // Not in git: never in the archive, unless `files` takes it.
    write(dir, "scratch.txt", "scratch\n");
    write(dir, "gen/version.txt", "1.2.3\n");
}

#[test]
fn a_go_projects_source_archive_is_the_tagged_commit_plus_files() {
    require_go();
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    go_fixture(
        dir,
        r#"source:
  enabled: true
  prefix_template: "{{ project_name }}-{{ version }}/"
  files:
    - src: gen/version.txt
      dst: generated
      info: {owner: builder, group: staff, mode: 0600, mtime: "2020-01-01T00:00:00Z"}
"#,
    );
    let (code, out, err) = rel_run(dir, &["release", "--dry-run", "--skip", "publish"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("source archives (1):\n  dist/hello-1.2.3.tar.gz (commit "),
        "{out}"
    );
    assert!(out.contains(", in hello-1.2.3/)"), "{out}");

    // The whole release: the source archive is made beside the build and checksummed.
    let (code, _, err) = release(dir, "publish", &[]);
    assert_eq!(code, 0, "{err}");
    let archive = dir.join("dist/hello-1.2.3.tar.gz");
    let entries = py(PY_TAR, &archive);
    let files: BTreeSet<String> = entries
        .iter()
        .filter(|e| e["type"] != "5")
        .map(|e| e["name"].as_str().unwrap().to_string())
        .collect();
    // git's own archive of the tag is the oracle for which files are in it.
    let git_archive = sh(Command::new("sh")
        .arg("-c")
        .arg("git archive --prefix=hello-1.2.3/ v1.2.3 | tar -t")
        .current_dir(dir));
    let mut want: BTreeSet<String> = git_archive
        .lines()
        .filter(|l| !l.ends_with('/'))
        .map(String::from)
        .collect();
    assert!(want.contains("hello-1.2.3/main.go") && !want.contains("hello-1.2.3/keys.secret"));
    want.insert("hello-1.2.3/generated/version.txt".into());
    assert_eq!(files, want);
    assert!(
        !files
            .iter()
            .any(|f| f.contains("internal/") || f.ends_with(".secret"))
    );
    assert!(!files.iter().any(|f| f.ends_with("scratch.txt")));
    // Sorted by path bytes, each folder before what it holds.
    let names: Vec<&str> = entries
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);
    assert_eq!(names[0], "hello-1.2.3");
    for (path, mode) in tracked(dir) {
        let Some(e) = entries
            .iter()
            .find(|e| e["name"] == format!("hello-1.2.3/{path}"))
        else {
            assert!(
                path == "keys.secret" || path.starts_with("internal/"),
                "{path}"
            );
            continue;
        };
        let (want_type, want_mode) = match mode.as_str() {
            "100755" => ("0", 0o755),
            "120000" => ("2", 0o777),
            _ => ("0", 0o644),
        };
        assert_eq!(
            (e["type"].as_str().unwrap(), e["mode"].as_u64().unwrap()),
            (want_type, want_mode),
            "{path}"
        );
        assert_eq!(e["mtime"], COMMIT_TS, "{path}");
        assert_eq!((e["uid"].as_u64(), e["gid"].as_u64()), (Some(0), Some(0)));
        assert_eq!(
            (e["uname"].as_str(), e["gname"].as_str()),
            (Some(""), Some(""))
        );
    }
    let link = entries
        .iter()
        .find(|e| e["name"] == "hello-1.2.3/docs/link.md")
        .unwrap();
    assert_eq!(link["link"], "guide.md");
    let generated = entries
        .iter()
        .find(|e| e["name"] == "hello-1.2.3/generated/version.txt")
        .unwrap();
    assert_eq!(
        (
            generated["mode"].as_u64().unwrap(),
            generated["uname"].as_str().unwrap(),
            generated["gname"].as_str().unwrap(),
            generated["mtime"].as_i64().unwrap()
        ),
        (0o600, "builder", "staff", 1_577_836_800)
    );

    // GNU tar agrees, and the bytes are the committed ones.
    let listing = sh(Command::new("tar").arg("-tzvf").arg(&archive));
    assert!(
        listing.contains("-rwxr-xr-x 0/0") && listing.contains("hello-1.2.3/scripts/run.sh"),
        "{listing}"
    );
    let readme = sh(Command::new("tar")
        .arg("-xzOf")
        .arg(&archive)
        .arg("hello-1.2.3/README.md"));
    assert_eq!(readme, "# hello\n");

    // Registered: in artifacts.json with GoReleaser's type, and in the checksum file.
    let arts: Value =
        serde_json::from_slice(&std::fs::read(dir.join("dist/artifacts.json")).unwrap()).unwrap();
    let a = arts
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "hello-1.2.3.tar.gz")
        .expect("the source archive is registered");
    assert_eq!(a["type"], "Source");
    assert_eq!(a["extra"]["format"], "tar.gz");
    assert_eq!(a["extra"]["prefix"], "hello-1.2.3");
    assert_eq!(a["sha256"], sha256(&archive));
    let sums = std::fs::read_to_string(dir.join("dist/hello_1.2.3_checksums.txt")).unwrap();
    assert!(
        sums.contains(&format!("{}  hello-1.2.3.tar.gz", sha256(&archive))),
        "{sums}"
    );
    // The build ran too, in the same release.
    assert!(dir.join("dist/hello_linux_amd64_v1/hello").is_file());
}

#[test]
fn a_zip_source_archive_reads_back_with_unzip() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    go_fixture(
        dir,
        "source:\n  enabled: true\n  format: zip\n  files: [\"gen/*.txt\"]\n",
    );
    let (code, _, err) = release(dir, "build,archive,publish", &[]);
    assert_eq!(code, 0, "{err}");
    let zip = dir.join("dist/hello-1.2.3.zip");
    let listing = sh(Command::new("unzip").arg("-l").arg(&zip));
    let names: BTreeSet<String> = listing
        .lines()
        .filter_map(|l| {
            let cols: Vec<&str> = l.split_whitespace().collect();
            (cols.len() == 4 && cols[0].parse::<u64>().is_ok()).then(|| cols[3].to_string())
        })
        .filter(|n| !n.ends_with('/'))
        .collect();
    let mut want: BTreeSet<String> = tracked(dir)
        .into_iter()
        .map(|(p, _)| p)
        .filter(|p| p != "keys.secret" && !p.starts_with("internal/"))
        .collect();
    want.insert("gen/version.txt".into());
    assert_eq!(names, want, "{listing}");
    let modes = py(PY_ZIP, &zip);
    let mode = |n: &str| {
        modes.iter().find(|e| e["name"] == n).unwrap()["mode"]
            .as_u64()
            .unwrap()
    };
    assert_eq!(mode("scripts/run.sh"), 0o755);
    assert_eq!(mode("main.go"), 0o644);
    assert_eq!(mode("docs/"), 0o755);
}

/// A module `example.com/greet` v1.0.0 in a `file://` proxy folder (as benches/sign.sh
/// makes one), and a Go program using it, tagged v1.2.3, with `go.sum` committed.
fn go_vendor_fixture(dir: &Path, proxy: &Path, gopath: &Path) -> Vec<(&'static str, String)> {
    let go = require_go();
    sh(Command::new("python3").arg("-c").arg(
        r#"
import os, sys, zipfile
proxy = sys.argv[1]
path, ver = "example.com/greet", "v1.0.0"
d = os.path.join(proxy, path, "@v"); os.makedirs(d, exist_ok=True)
gomod = f"module {path}\n\ngo 1.21\n"
open(os.path.join(d, "list"), "w").write(ver + "\n")
open(os.path.join(d, ver + ".info"), "w").write('{"Version":"%s","Time":"2024-01-01T00:00:00Z"}' % ver)
open(os.path.join(d, ver + ".mod"), "w").write(gomod)
with zipfile.ZipFile(os.path.join(d, ver + ".zip"), "w") as z:
    z.writestr(f"{path}@{ver}/go.mod", gomod)
    z.writestr(f"{path}@{ver}/greet.go", "package greet\n\nfunc Hello() string { return \"hello from greet\" }\n")
"#,
    ).arg(proxy));
    write(
        dir,
        "go.mod",
        "module example.com/hello\n\ngo 1.21\n\nrequire example.com/greet v1.0.0\n",
    );
    write(
        dir,
        "main.go",
        "package main\n\nimport (\n\t\"fmt\"\n\n\t\"example.com/greet\"\n)\n\nfunc main() { fmt.Println(greet.Hello()) }\n",
    );
    write(dir, ".gitignore", "dist/\n");
    write(
        dir,
        ".release.yaml",
        "project_name: hello\nbuilds:\n  - main: .\n    targets: [linux_amd64_v1]\nsource:\n  enabled: true\n  vendor: true\n  prefix_template: \"{{ project_name }}-{{ version }}\"\n",
    );
    let env = vec![
        ("GOPROXY", format!("file://{}", proxy.display())),
        ("GOSUMDB", "off".to_string()),
        ("GOFLAGS", "-mod=mod".to_string()),
        ("GOPATH", gopath.display().to_string()),
        ("GOTOOLCHAIN", "local".to_string()),
    ];
    let mut tidy = Command::new(&go);
    tidy.args(["mod", "tidy"])
        .current_dir(dir)
        .envs(env.iter().map(|(k, v)| (k, v)));
    sh(&mut tidy);
    assert!(dir.join("go.sum").is_file());
    init_repo(dir);
    git(dir, &["tag", "v1.2.3"]);
    env
}

/// Unpack `archives` (tar.*) into a fresh folder; the folder.
fn unpack(archives: &[&Path]) -> tempfile::TempDir {
    let out = tempfile::tempdir().unwrap();
    for a in archives {
        sh(Command::new("tar")
            .arg("-xf")
            .arg(a)
            .arg("-C")
            .arg(out.path()));
    }
    out
}

/// `go build` with no network and an empty module cache: only a vendor/ folder can help.
fn go_build_offline(src: &Path) -> std::process::Output {
    let empty = tempfile::tempdir().unwrap();
    Command::new(require_go())
        .args(["build", "-mod=vendor", "-o", "hello-bin", "."])
        .current_dir(src)
        .env("GOPROXY", "off")
        .env("GOFLAGS", "-mod=vendor")
        .env("GOPATH", empty.path())
        .env("GOTOOLCHAIN", "local")
        .env("GOTELEMETRY", "off")
        .env(
            "GOCACHE",
            Path::new(env!("CARGO_TARGET_TMPDIR")).join("go-cache/build"),
        )
        .output()
        .unwrap()
}

#[test]
fn go_modules_vendored_beside_the_source_build_offline() {
    let d = tempfile::tempdir().unwrap();
    let (dir, proxy, gopath) = (
        d.path().join("p"),
        d.path().join("proxy"),
        d.path().join("gopath"),
    );
    std::fs::create_dir_all(&dir).unwrap();
    let env = go_vendor_fixture(&dir, &proxy, &gopath);
    let (code, _, err) = release(&dir, "build,archive,publish", &env);
    assert_eq!(code, 0, "{err}");
    let source = dir.join("dist/hello-1.2.3.tar.gz");
    let vendor = dir.join("dist/hello-1.2.3-vendor.tar.gz");
    assert!(
        !dir.join("vendor").exists(),
        "the checkout is never vendored in"
    );

    let listing = sh(Command::new("tar").arg("-tzf").arg(&vendor));
    let names: BTreeSet<&str> = listing.lines().collect();
    assert!(
        names.contains("hello-1.2.3/vendor/modules.txt"),
        "{listing}"
    );
    assert!(
        names.contains("hello-1.2.3/vendor/example.com/greet/greet.go"),
        "{listing}"
    );
    assert!(
        !names.contains("hello-1.2.3/main.go"),
        "only what vendoring wrote: {listing}"
    );

    // The source alone does not build offline: the dependency is nowhere.
    let alone = unpack(&[&source]);
    let o = go_build_offline(&alone.path().join("hello-1.2.3"));
    assert!(!o.status.success(), "{}", output_text(&o));
    // With the vendor archive it does, and the program runs.
    let both = unpack(&[&source, &vendor]);
    let src = both.path().join("hello-1.2.3");
    let o = go_build_offline(&src);
    assert!(o.status.success(), "{}", output_text(&o));
    assert_eq!(
        sh(&mut Command::new(src.join("hello-bin"))),
        "hello from greet\n"
    );

    let arts: Value =
        serde_json::from_slice(&std::fs::read(dir.join("dist/artifacts.json")).unwrap()).unwrap();
    let v = arts
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "hello-1.2.3-vendor.tar.gz")
        .expect("the vendor archive is registered");
    assert_eq!(v["type"], "Source");
    assert_eq!(v["extra"]["vendored"], serde_json::json!(["go"]));
}

#[test]
fn rust_crates_vendored_beside_the_source_build_offline() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().join("tiny");
    std::fs::create_dir_all(&dir).unwrap();
    write(
        &dir,
        "Cargo.toml",
        "[package]\nname = \"tiny\"\nversion = \"0.3.1\"\nedition = \"2021\"\n\n[dependencies]\nitoa = \"=1.0.18\"\n",
    );
    write(
        &dir,
        "src/main.rs",
        "fn main() {\n    let mut b = itoa::Buffer::new();\n    println!(\"tiny {}\", b.format(42u8));\n}\n",
    );
    write(&dir, ".gitignore", "dist/\ntarget/\n");
    write(
        &dir,
        ".release.yaml",
        "project_name: tiny\nbuilds:\n  - builder: cargo\n    main: tiny\n    targets: [x86_64-unknown-linux-gnu]\nsource:\n  enabled: true\n  vendor: true\n  format: tar.zst\n  prefix_template: \"{{ project_name }}-{{ version }}\"\n",
    );
    // itoa comes from the machine's cargo cache; nothing below reaches the network.
    sh(Command::new("cargo")
        .args(["generate-lockfile", "--offline"])
        .current_dir(&dir));
    init_repo(&dir);
    git(&dir, &["tag", "v0.3.1"]);
    let (code, _, err) = release(
        &dir,
        "build,archive,publish",
        &[("CARGO_NET_OFFLINE", "true".into())],
    );
    assert_eq!(code, 0, "{err}");
    let source = dir.join("dist/tiny-0.3.1.tar.zst");
    let vendor = dir.join("dist/tiny-0.3.1-vendor.tar.zst");
    assert!(!dir.join("vendor").exists() && !dir.join(".cargo").exists());
    let listing = sh(Command::new("tar").arg("--zstd").arg("-tf").arg(&vendor));
    assert!(
        listing.contains("tiny-0.3.1/vendor/itoa/Cargo.toml\n"),
        "{listing}"
    );
    assert!(
        listing.contains("tiny-0.3.1/.cargo/config.toml\n"),
        "{listing}"
    );

    // A cargo home of its own: no registry cache, no network.
    let build = |src: &Path| {
        let home = tempfile::tempdir().unwrap();
        Command::new("cargo")
            .args(["build", "--offline", "--frozen", "--quiet"])
            .current_dir(src)
            .env("CARGO_HOME", home.path())
            .env("CARGO_TARGET_DIR", src.join("target"))
            .env(
                "RUSTUP_HOME",
                std::env::var("RUSTUP_HOME")
                    .unwrap_or_else(|_| format!("{}/.rustup", std::env::var("HOME").unwrap())),
            )
            .output()
            .unwrap()
    };
    let unpack_zst = |archives: &[&Path]| {
        let out = tempfile::tempdir().unwrap();
        for a in archives {
            sh(Command::new("tar")
                .arg("--zstd")
                .arg("-xf")
                .arg(a)
                .arg("-C")
                .arg(out.path()));
        }
        out
    };
    let alone = unpack_zst(&[&source]);
    let o = build(&alone.path().join("tiny-0.3.1"));
    assert!(!o.status.success(), "{}", output_text(&o));
    let both = unpack_zst(&[&source, &vendor]);
    let src = both.path().join("tiny-0.3.1");
    let config = std::fs::read_to_string(src.join(".cargo/config.toml")).unwrap();
    assert!(
        config.contains("[source.crates-io]\nreplace-with = \"vendored-sources\""),
        "{config}"
    );
    let o = build(&src);
    assert!(o.status.success(), "{}", output_text(&o));
    assert_eq!(
        sh(&mut Command::new(src.join("target/debug/tiny"))),
        "tiny 42\n"
    );
}

#[test]
fn the_same_commit_gives_the_same_bytes_in_two_checkouts() {
    let d = tempfile::tempdir().unwrap();
    let (a, proxy, gopath) = (
        d.path().join("a"),
        d.path().join("proxy"),
        d.path().join("gopath"),
    );
    std::fs::create_dir_all(&a).unwrap();
    let env = go_vendor_fixture(&a, &proxy, &gopath);
    let b = d.path().join("elsewhere/b");
    sh(Command::new("git").args(["clone", "-q"]).arg(&a).arg(&b));
    // Different file times and a different umask in the second checkout.
    sh(Command::new("touch")
        .args(["-d", "2001-02-03"])
        .arg(b.join("main.go")));
    let shell = format!(
        "umask 077 && exec {} release --skip build,archive,publish",
        env!("CARGO_BIN_EXE_rel")
    );
    let mut second = Command::new("sh");
    second.args(["-c", &shell]).current_dir(&b);
    for (k, v) in go_env() {
        second.env(k, v);
    }
    second
        .env("NO_COLOR", "1")
        .env_remove("SOURCE_DATE_EPOCH")
        .env(
            "PATH",
            format!(
                "{}:{}",
                require_go().parent().unwrap().display(),
                std::env::var("PATH").unwrap()
            ),
        );
    for (k, v) in &env {
        second.env(k, v);
    }
    let (code, _, err) = release(&a, "build,archive,publish", &env);
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = run(second);
    assert_eq!(code, 0, "{out}{err}");
    for name in ["hello-1.2.3.tar.gz", "hello-1.2.3-vendor.tar.gz"] {
        assert_eq!(
            sha256(&a.join("dist").join(name)),
            sha256(&b.join("dist").join(name)),
            "{name}"
        );
    }
    // And the listing does not depend on the umask: the modes are rel's.
    let entries = py(PY_TAR, &b.join("dist/hello-1.2.3.tar.gz"));
    assert!(
        entries
            .iter()
            .all(|e| [0o644, 0o755].contains(&e["mode"].as_u64().unwrap()))
    );
}

#[test]
fn config_errors_are_exit_2_with_their_location() {
    let cases: &[(&str, &[&str])] = &[
        (
            "source:\n  enabled: true\n  format: rar\n",
            &["rar", ":4:11"],
        ),
        (
            "source:\n  enabled: true\n  files:\n    - src: ../secret\n",
            &["../secret", "outside the project", ":5:12"],
        ),
        (
            "source:\n  vendor: true\n",
            &["source.vendor", "enabled: true", ":3:11"],
        ),
        (
            "source:\n  enabled: true\n  name_template: \"{{ nope }}\"\n",
            &["source.name_template", "nope", ":4:18"],
        ),
        (
            "source:\n  enabled: true\n  files:\n    - src: x\n      info: {mtime: yesterday}\n",
            &["source.files[0].info.mtime", "RFC 3339", ":6:21"],
        ),
    ];
    for (yaml, want) in cases {
        let d = tempfile::tempdir().unwrap();
        let dir = d.path();
        write(
            dir,
            ".release.yaml",
            &format!("project_name: hello\n{yaml}"),
        );
        write(dir, "go.mod", "module example.com/hello\n\ngo 1.21\n");
        init_repo(dir);
        let (code, out, err) = rel_run(dir, &["check"]);
        assert_eq!(code, 2, "{yaml}: {out}{err}");
        for w in *want {
            assert!(err.contains(w), "{yaml}: want `{w}` in:\n{err}");
        }
    }
    // Vendoring a project that is neither a Go module nor a Rust package: exit 2 before work.
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    write(
        dir,
        ".release.yaml",
        "project_name: docs\nsource:\n  enabled: true\n  vendor: true\n",
    );
    write(dir, "README.md", "# docs\n");
    init_repo(dir);
    let (code, _, err) = rel_run(dir, &["release", "--snapshot"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("neither go.mod nor Cargo.toml"), "{err}");
    assert!(!dir.join("dist").exists(), "nothing written");
}
