//! macOS universal binaries (`universal_binaries`) from real Go builds, read back with LLVM's
//! own tools: `llvm-lipo-14` (info, verify, thin, and its own `-create` for a byte-for-byte
//! comparison) and `llvm-otool-14 -f` (the fat header). Archives with `replace: true` carry the
//! universal binary alone, named with `all`; with `replace: false` the thin archives stay.

mod common;
use common::*;
use std::path::{Path, PathBuf};
use std::process::Command;

const LIPO: &str = "llvm-lipo-14";
const OTOOL: &str = "llvm-otool-14";

/// The LLVM tools are part of the test: missing, the test fails (scripts/test.sh installs
/// them with the `llvm-14` package).
fn require_llvm() {
    for tool in [LIPO, OTOOL] {
        let found = Command::new(tool).arg("--version").output().is_ok();
        assert!(
            found,
            "{tool} is missing: run scripts/test.sh, which installs llvm-14"
        );
    }
}

fn config(replace: bool, goos: &str, extra: &str) -> String {
    format!(
        r#"version: 1
project_name: hello
env: ["CGO_ENABLED=0"]
builds:
  - id: hello
    main: .
    goos: [{goos}]
    goarch: [amd64, arm64]
    flags: ["-trimpath"]
    ldflags: ["-s -w -X main.version={{{{ version }}}}"]
universal_binaries:
  - replace: {replace}
{extra}archives:
  - formats: [tar.gz]
    files: []
"#
    )
}

fn project(config: &str) -> tempfile::TempDir {
    require_go();
    require_llvm();
    let d = tempfile::tempdir().unwrap();
    go_project(d.path(), config);
    init_repo(d.path());
    git(d.path(), &["tag", "v1.0.0"]);
    d
}

fn release(dir: &Path) -> String {
    let (code, _out, err) = rel_run(dir, &["release", "--snapshot", "--clean", "-p", "2"]);
    assert_eq!(code, 0, "{err}");
    err
}

fn tool(program: &str, args: &[&str]) -> String {
    sh(Command::new(program).args(args))
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

fn artifacts(dir: &Path) -> Vec<serde_json::Value> {
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("dist/artifacts.json")).unwrap()).unwrap();
    v.as_array().unwrap().clone()
}

/// The archives in `dist/`, by file name.
fn archives(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir.join("dist"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tar.gz"))
        .collect();
    v.sort();
    v
}

/// The names inside a tar.gz, read by bsdtar.
fn tar_names(path: &Path) -> Vec<String> {
    tool("bsdtar", &["-tf", p(path)])
        .lines()
        .map(String::from)
        .collect()
}

#[test]
fn universal_binary_is_what_llvm_lipo_makes_and_replaces_the_thin_archives() {
    let hooks = r#"    mod_timestamp: "1700000000"
    hooks:
      pre: ["sh -c 'echo pre {{ target }} >> hooks.log'"]
      post: ["sh -c 'echo post {{ output }} {{ arch }} >> hooks.log'"]
"#;
    let d = project(&config(true, "linux, darwin", hooks));
    let dir = d.path();
    let err = release(dir);
    let dist = dir.join("dist");
    let fat = dist.join("hello_darwin_all/hello");
    let amd64 = dist.join("hello_darwin_amd64_v1/hello");
    let arm64 = dist.join("hello_darwin_arm64/hello");
    let bytes = std::fs::read(&fat).unwrap_or_else(|e| panic!("{}: {e}\n{err}", fat.display()));

    // LLVM reads it as a universal file of both architectures.
    let info = tool(LIPO, &["-info", p(&fat)]);
    assert!(
        info.contains("Architectures in the fat file") && info.contains("x86_64 arm64"),
        "{info}"
    );
    let verify = Command::new(LIPO)
        .arg(&fat)
        .args(["-verify_arch", "x86_64", "arm64"])
        .status()
        .unwrap();
    assert!(verify.success(), "llvm-lipo -verify_arch x86_64 arm64");
    let not_there = Command::new(LIPO)
        .arg(&fat)
        .args(["-verify_arch", "x86_64", "i386"])
        .status()
        .unwrap();
    assert!(!not_there.success(), "there is no i386 slice");
    let otool = tool(OTOOL, &["-f", p(&fat)]);
    for want in [
        "fat_magic 0xcafebabe",
        "nfat_arch 2",
        "cputype 16777223",
        "cputype 16777228",
        "offset 4096",
        "align 2^12 (4096)",
        "align 2^14 (16384)",
    ] {
        assert!(otool.contains(want), "otool -f lacks `{want}`:\n{otool}");
    }

    // Each slice is the thin binary, unchanged.
    let tmp = tempfile::tempdir().unwrap();
    for (arch, thin) in [("arm64", &arm64), ("x86_64", &amd64)] {
        let out = tmp.path().join(arch);
        tool(LIPO, &["-thin", arch, p(&fat), "-output", p(&out)]);
        assert!(
            std::fs::read(&out).unwrap() == std::fs::read(thin).unwrap(),
            "the {arch} slice differs from rel's thin binary"
        );
    }

    // Byte for byte what llvm-lipo -create writes from the same inputs, in either order.
    for inputs in [[&arm64, &amd64], [&amd64, &arm64]] {
        let out = tmp.path().join("lipo");
        tool(
            LIPO,
            &["-create", p(inputs[0]), p(inputs[1]), "-output", p(&out)],
        );
        assert!(
            std::fs::read(&out).unwrap() == bytes,
            "rel's universal binary differs from llvm-lipo -create's"
        );
    }

    // Mode, timestamp and hooks.
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let meta = std::fs::metadata(&fat).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o755);
    assert_eq!(meta.mtime(), 1_700_000_000);
    let log = std::fs::read_to_string(dir.join("hooks.log")).unwrap();
    assert_eq!(
        log,
        format!("pre darwin_all\npost {} all\n", fat.display()),
        "pre hook, then post hook with the output path"
    );

    // The registry: a binary of target darwin_all, arch `all`.
    let arts = artifacts(dir);
    let uni: Vec<&serde_json::Value> = arts
        .iter()
        .filter(|a| a["target"] == "darwin_all")
        .collect();
    assert_eq!(uni.len(), 2, "the binary and its archive: {uni:?}");
    let bin = uni.iter().find(|a| a["kind"] == "binary").unwrap();
    assert_eq!(bin["path"], "dist/hello_darwin_all/hello");
    assert_eq!(bin["build_id"], "hello");
    assert_eq!(bin["os"], "darwin");
    assert_eq!(bin["arch"], "all");
    assert_eq!(bin["extra"]["replaces"], true);
    assert_eq!(bin["size"], bytes.len() as u64);

    // Archives: darwin only as `all`, holding the universal binary; linux unchanged.
    let names = archives(dir);
    let ends: Vec<&str> = names
        .iter()
        .map(|n| n.rsplit_once("SNAPSHOT-").map_or(n.as_str(), |(_, t)| t))
        .map(|t| t.split_once('_').map_or(t, |(_, rest)| rest))
        .collect();
    assert_eq!(
        ends,
        [
            "darwin_all.tar.gz",
            "linux_amd64.tar.gz",
            "linux_arm64.tar.gz"
        ],
        "{names:?}"
    );
    let darwin = dist.join(names.iter().find(|n| n.contains("_darwin_all")).unwrap());
    assert_eq!(tar_names(&darwin), ["hello"]);
    let x = tempfile::tempdir().unwrap();
    sh(Command::new("bsdtar")
        .args(["-xf", p(&darwin), "-C"])
        .arg(x.path()));
    assert!(
        std::fs::read(x.path().join("hello")).unwrap() == bytes,
        "the archive holds the universal binary"
    );

    // Same inputs, same bytes: a second run writes the same file.
    std::fs::remove_file(dir.join("hooks.log")).unwrap();
    release(dir);
    assert!(std::fs::read(&fat).unwrap() == bytes, "not reproducible");

    // The dry run shows it, and the darwin archive made of it.
    let (code, out, err) = rel_run(dir, &["release", "--snapshot", "--dry-run"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("universal binaries (1):"), "{out}");
    assert!(
        out.contains("hello darwin_all -> dist/hello_darwin_all/hello"),
        "{out}"
    );
    assert!(
        out.contains("joins hello darwin_amd64_v1 + hello darwin_arm64; replaces them"),
        "{out}"
    );
    assert!(out.contains("darwin_all: hello:hello"), "{out}");
    assert!(!out.contains("darwin_arm64: hello:hello"), "{out}");
    assert!(out.contains("universal hello darwin_all"), "graph: {out}");
}

#[test]
fn without_replace_the_thin_archives_stay_beside_the_universal_one() {
    let d = project(&config(
        false,
        "darwin",
        "    name_template: \"{{ binary }}-universal\"\n",
    ));
    let dir = d.path();
    release(dir);
    let names = archives(dir);
    assert_eq!(names.len(), 3, "{names:?}");
    for t in ["darwin_all", "darwin_amd64", "darwin_arm64"] {
        let n = names
            .iter()
            .find(|n| n.ends_with(&format!("_{t}.tar.gz")))
            .unwrap_or_else(|| panic!("no {t} archive: {names:?}"));
        let want = if t == "darwin_all" {
            "hello-universal"
        } else {
            "hello"
        };
        assert_eq!(tar_names(&dir.join("dist").join(n)), [want], "{n}");
    }
    let fat = dir.join("dist/hello_darwin_all/hello-universal");
    let info = tool(LIPO, &["-archs", p(&fat)]);
    assert_eq!(info.trim(), "x86_64 arm64");
    let arts = artifacts(dir);
    assert!(
        arts.iter()
            .any(|a| a["target"] == "darwin_all" && a["extra"]["replaces"] == false)
    );
}

fn clone(src: &Path, to: &Path) {
    sh(Command::new("git").arg("clone").arg("-q").arg(src).arg(to));
}

#[test]
fn a_split_by_goos_makes_it_in_the_darwin_share_and_the_merge_expects_it() {
    let d = project(&config(true, "linux, darwin", ""));
    let src = d.path();
    let tmp = tempfile::tempdir().unwrap();
    let merge = tmp.path().join("merge");
    clone(src, &merge);
    for os in ["darwin", "linux"] {
        let runner = tmp.path().join(format!("runner-{os}"));
        clone(src, &runner);
        let (code, _, err) = rel_run(
            &runner,
            &["release", "--snapshot", "--split", "--partial-target", os],
        );
        assert_eq!(code, 0, "{os}: {err}");
        let fat = runner.join(format!("dist/{os}/hello_darwin_all/hello"));
        assert_eq!(fat.is_file(), os == "darwin", "{}", fat.display());
        copy_tree(
            &runner.join(format!("dist/{os}")),
            &merge.join(format!("dist/rel-share-{os}")),
        );
    }
    // The darwin share's archive is of the universal binary.
    let darwin: Vec<String> = std::fs::read_dir(merge.join("dist/rel-share-darwin"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tar.gz"))
        .collect();
    assert_eq!(darwin.len(), 1, "{darwin:?}");
    assert!(darwin[0].ends_with("_darwin_all.tar.gz"), "{darwin:?}");

    let (code, _, err) = rel_run(&merge, &["continue", "--merge"]);
    assert_eq!(code, 0, "{err}");
    let arts = artifacts(&merge);
    assert!(
        arts.iter()
            .any(|a| a["kind"] == "binary" && a["target"] == "darwin_all"),
        "{arts:?}"
    );
    let sums = std::fs::read_dir(merge.join("dist"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().ends_with("checksums.txt"))
        .expect("a checksum file");
    let sums = std::fs::read_to_string(sums).unwrap();
    assert!(sums.contains(&darwin[0]), "{sums}");
    assert_eq!(sums.lines().count(), 3, "{sums}");

    // Without the darwin share's universal binary the merge refuses.
    let bare = tmp.path().join("bare");
    clone(src, &bare);
    copy_tree(
        &merge.join("dist/rel-share-linux"),
        &bare.join("dist/rel-share-linux"),
    );
    let (code, _, err) = rel_run(&bare, &["continue", "--merge"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("hello/darwin_all"), "{err}");
}

#[test]
fn a_share_cut_by_target_cannot_make_it_and_says_so() {
    let d = project(&config(true, "linux, darwin", ""));
    let (code, _, err) = rel_run(
        d.path(),
        &[
            "release",
            "--snapshot",
            "--split",
            "--partial-by",
            "target",
            "--partial-target",
            "darwin_arm64",
        ],
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("universal_binaries[0]"), "{err}");
    assert!(err.contains("--partial-by goos"), "{err}");
    assert!(
        !d.path().join("dist/darwin_arm64").exists(),
        "nothing is built"
    );
    // A linux share has nothing of it to make.
    let (code, _, err) = rel_run(
        d.path(),
        &[
            "release",
            "--snapshot",
            "--split",
            "--partial-by",
            "target",
            "--partial-target",
            "linux_arm64",
        ],
    );
    assert_eq!(code, 0, "{err}");
}

#[test]
fn config_errors_are_located() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    let cases: &[(&str, &[&str])] = &[
        (
            "builds:\n  - id: hello\n    goos: [darwin]\nuniversal_binaries:\n  - ids: [helo]\n",
            &[
                "universal binary refers to unknown build id `helo`",
                ".release.yaml:5:11",
                "did you mean `hello`?",
            ],
        ),
        (
            "builds:\n  - id: hello\n    goos: [darwin]\n    goamd64: [v1, v3]\nuniversal_binaries:\n  - id: u\n    ids: [hello]\n",
            &[
                "a universal binary holds one darwin/amd64 binary, but these builds have 2",
                ".release.yaml:7:5",
            ],
        ),
        (
            "builds:\n  - id: hello\n    goos: [linux]\nuniversal_binaries:\n  - name_template: \"{{ nope }}\"\n",
            &[
                "no build has a darwin/amd64 or darwin/arm64 target",
                "nope",
                ".release.yaml:5:",
            ],
        ),
        (
            "builds:\n  - goos: [darwin]\nuniversal_binaries:\n  - id: a\n  - id: a\n",
            &["duplicate universal binary id `a`", ".release.yaml:5:9"],
        ),
        (
            "universal_binaries:\n  - replace: yes please\n",
            &[".release.yaml:2:"],
        ),
    ];
    let mut failures = vec![];
    for (yaml, want) in cases {
        std::fs::write(dir.join(".release.yaml"), yaml).unwrap();
        let (code, _, err) = rel_run(dir, &["check"]);
        let missing: Vec<&&str> = want.iter().filter(|w| !err.contains(**w)).collect();
        if code != 2 || !missing.is_empty() {
            failures.push(format!("{yaml}(exit {code}) missing {missing:?}:\n{err}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n---\n"));
}

#[test]
fn a_joined_binary_that_is_not_a_thin_mach_o_file_of_its_arch_fails_the_run() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    // Each command writes the first 12 bytes of a Mach-O header: `{{ arch }}` picks the CPU type.
    let cases = [
        (
            // Text, not Mach-O.
            r#"[sh, -c, "echo {{ target }} > {{ output }}"]"#,
            "is not a Mach-O file",
        ),
        (
            // An arm64 header for both targets.
            r#"[sh, -c, "printf '\\317\\372\\355\\376\\014\\000\\000\\001\\000\\000\\000\\000' > {{ output }}"]"#,
            "darwin_amd64_v1 (dist/tool_darwin_amd64_v1/tool) is a Mach-O file for arm64, not amd64",
        ),
    ];
    for (command, want) in cases {
        write(
            dir,
            ".release.yaml",
            &format!(
                "project_name: tool\nbuilds:\n  - builder: command\n    goos: [darwin]\n    goarch: [amd64, arm64]\n    command: {command}\nuniversal_binaries:\n  - replace: true\n"
            ),
        );
        write(dir, ".gitignore", "dist/\n");
        if !dir.join(".git").exists() {
            init_repo(dir);
        } else {
            git(dir, &["commit", "-qam", "fix: next case"]);
        }
        let (code, _, err) = rel_run(dir, &["release", "--snapshot", "--clean"]);
        assert_eq!(code, 1, "{err}");
        assert!(err.contains("universal binary `tool`"), "{err}");
        assert!(err.contains(want), "{err}");
        assert!(!dir.join("dist/tool_darwin_all/tool").exists());
        assert!(
            std::fs::read_dir(dir.join("dist")).unwrap().all(|e| !e
                .unwrap()
                .file_name()
                .to_string_lossy()
                .ends_with(".tar.gz")),
            "no archive after the failure"
        );
    }
}

fn copy_tree(from: &Path, to: &Path) {
    for e in walkdir::WalkDir::new(from)
        .into_iter()
        .filter_map(|e| e.ok())
    {
        let dest: PathBuf = to.join(e.path().strip_prefix(from).unwrap());
        if e.file_type().is_dir() {
            std::fs::create_dir_all(&dest).unwrap();
        } else {
            std::fs::copy(e.path(), &dest).unwrap();
        }
    }
}
