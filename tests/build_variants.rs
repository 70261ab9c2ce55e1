//! Float-ABI variants and flat output: `gomips`, `goarm: "7,hardfloat"`, `ignore.gomips` and
//! `no_unique_dist_dir`, built by the real Go toolchain and read back with `go version -m`.

mod common;
use common::*;

#[test]
fn mips_and_arm_float_abis_are_targets_of_their_own() {
    require_go();
    let t = tempfile::tempdir().unwrap();
    let dir = t.path();
    write(dir, "go.mod", "module example.com/v\n\ngo 1.21\n");
    write(dir, "main.go", "package main\n\nfunc main() {}\n");
    write(dir, ".gitignore", "dist/\n");
    write(
        dir,
        ".release.yaml",
        r#"version: 1
project_name: v
builds:
  - id: v
    binary: "v_{{ target }}{% if mips %}_abi-{{ mips }}{% endif %}"
    no_unique_dist_dir: true
    goos: [linux]
    goarch: [mipsle, arm]
    goarm: ["7,hardfloat"]
    gomips: [softfloat, hardfloat]
    ignore:
      - goarch: mipsle
        gomips: hardfloat
archives:
  - formats: [binary]
    name_template: "{{ binary }}.bin"
"#,
    );
    init_repo(dir);
    git(dir, &["tag", "v1.0.0"]);
    let (code, out, err) = rel_run(dir, &["build", "--snapshot"]);
    assert_eq!(code, 0, "{out}{err}");

    // Straight into dist/, one file per target; the ignored ABI is not built.
    let mipsle = dir.join("dist/v_linux_mipsle_softfloat_abi-softfloat");
    let arm = dir.join("dist/v_linux_arm_7,hardfloat");
    assert!(mipsle.is_file() && arm.is_file(), "{out}{err}");
    assert!(
        !dir.join("dist/v_linux_mipsle_hardfloat_abi-hardfloat")
            .exists()
    );
    let m = go_version_m(&mipsle);
    assert!(
        m.contains("GOARCH=mipsle") && m.contains("GOMIPS=softfloat"),
        "{m}"
    );
    let a = go_version_m(&arm);
    assert!(a.contains("GOARM=7,hardfloat"), "{a}");

    // artifacts.json carries GoReleaser's `gomips` and `goarm` keys.
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("dist/artifacts.json")).unwrap())
            .unwrap();
    let bins: Vec<&serde_json::Value> = json
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["type"] == "Binary")
        .collect();
    assert_eq!(bins.len(), 2, "{json:#}");
    assert!(
        bins.iter()
            .any(|b| b["gomips"] == "softfloat" && b["target"] == "linux_mipsle_softfloat")
    );
    assert!(bins.iter().any(|b| b["goarm"] == "7,hardfloat"));
}

#[test]
fn bad_float_abis_are_config_errors_before_any_build() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path();
    write(dir, "go.mod", "module example.com/v\n\ngo 1.21\n");
    write(dir, "main.go", "package main\n\nfunc main() {}\n");
    write(
        dir,
        ".release.yaml",
        "version: 1\nproject_name: v\nbuilds:\n  - goos: [linux]\n    goarch: [mips, arm]\n    goarm: [\"7,fast\"]\n    gomips: [hard]\n",
    );
    init_repo(dir);
    let (code, out, err) = rel_run(dir, &["check"]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("invalid goarm `7,fast`"), "{err}");
    assert!(err.contains("invalid gomips `hard`"), "{err}");
    assert!(err.contains(".release.yaml:"), "{err}");
}

#[test]
fn flat_binaries_with_one_name_are_refused() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path();
    write(dir, "go.mod", "module example.com/v\n\ngo 1.21\n");
    write(dir, "main.go", "package main\n\nfunc main() {}\n");
    write(
        dir,
        ".release.yaml",
        "version: 1\nproject_name: v\nbuilds:\n  - binary: v\n    no_unique_dist_dir: true\n    goos: [linux, darwin]\n    goarch: [arm64]\n",
    );
    init_repo(dir);
    let (code, out, err) = rel_run(dir, &["build", "--snapshot"]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("would both write"), "{err}");
    assert!(!dir.join("dist/v").exists());
}
