//! `rel init`, `rel schema`, `rel completions`, `--version`.

mod common;
use common::*;

#[test]
fn init_writes_a_config_that_checks_for_go_and_cargo() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    write(dir, "go.mod", "module x\n\ngo 1.21\n");
    let (code, _, err) = rel_run(dir, &["init"]);
    assert_eq!(code, 0, "{err}");
    let text = std::fs::read_to_string(dir.join(".release.yaml")).unwrap();
    assert!(text.contains("goos: [linux, darwin, windows]"), "{text}");
    let (code, _, err) = rel_run(dir, &["check"]);
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = rel_run(dir, &["init"]);
    assert_eq!(code, 2, "refuses to overwrite: {err}");
    assert!(err.contains("--force"));

    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    write(
        dir,
        "Cargo.toml",
        "[package]\nname = \"mytool\"\nversion = \"0.1.0\"\n",
    );
    let (code, _, err) = rel_run(dir, &["init"]);
    assert_eq!(code, 0, "{err}");
    let text = std::fs::read_to_string(dir.join(".release.yaml")).unwrap();
    assert!(
        text.contains("builder: cargo") && text.contains("main: mytool"),
        "{text}"
    );
    let (code, _, err) = rel_run(dir, &["check"]);
    assert_eq!(code, 0, "{err}");

    let d = tempfile::tempdir().unwrap();
    let (code, _, err) = rel_run(d.path(), &["init"]);
    assert_eq!(code, 2);
    assert!(err.contains("neither go.mod nor Cargo.toml"), "{err}");
}

#[test]
fn schema_is_printed_and_matches_the_committed_file() {
    let d = tempfile::tempdir().unwrap();
    let (code, out, _) = rel_run(d.path(), &["schema"]);
    assert_eq!(code, 0);
    let committed = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/schemas/release.schema.json"
    ))
    .unwrap();
    assert_eq!(out, committed);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(v["properties"]["builds"].is_object());
    assert!(v["$defs"]["Build"]["properties"]["goos"].is_object());
}

#[test]
fn completions_and_version() {
    let d = tempfile::tempdir().unwrap();
    let (code, out, _) = rel_run(d.path(), &["completions", "bash"]);
    assert_eq!(code, 0);
    assert!(
        out.contains("_rel()") && out.contains("next-version"),
        "{}",
        &out[..200.min(out.len())]
    );
    let (code, out, _) = rel_run(d.path(), &["--version"]);
    assert_eq!(code, 0);
    assert_eq!(out.trim(), format!("rel {}", env!("CARGO_PKG_VERSION")));
}

#[test]
fn flags_and_keys_that_do_nothing_are_refused() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    write(dir, "go.mod", "module x\n\ngo 1.21\n");
    write(dir, ".release.yaml", "version: 1\nproject_name: x\n");
    // No stage announces: `--skip announce` would promise something.
    let (code, _, err) = rel_run(dir, &["release", "--snapshot", "--skip", "announce"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("unknown stage `announce`"), "{err}");
    assert!(!dir.join("dist").exists());
    // Keys nothing reads are unknown keys, with their place.
    for key in ["download: https://x", "skip_tls_verify: true"] {
        write(
            dir,
            ".release.yaml",
            &format!("version: 1\nproject_name: x\nrelease:\n  github_urls:\n    {key}\n"),
        );
        let (code, _, err) = rel_run(dir, &["check"]);
        assert_eq!(code, 2, "{key}: {err}");
        assert!(err.contains(".release.yaml:5:5"), "{key}: {err}");
    }
}

#[test]
fn check_reports_every_sections_problems_at_once() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    write(dir, "go.mod", "module x\n\ngo 1.21\n");
    write(
        dir,
        ".release.yaml",
        "version: 1\nproject_name: x\nbuilds:\n  - goos: [linux]\n    binary: \"{{ nope }}\"\narchives:\n  - builds: [y]\nchecksum:\n  name_template: \"{{ bad\"\nchangelog:\n  filters: {exclude: [\"(\"]}\nrelease:\n  upload_concurrency: 0\nimages:\n  - repository: Bad/Name\n",
    );
    let (code, _, err) = rel_run(dir, &["check"]);
    assert_eq!(code, 2, "{err}");
    for want in [
        "builds[0].binary",
        "unknown build id `y`",
        "checksum.name_template",
        "invalid regular expression",
        "upload_concurrency must be at least 1",
        "must be lowercase",
    ] {
        assert!(err.contains(want), "{want} missing:\n{err}");
    }
}
