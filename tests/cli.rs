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
    write(dir, "src/main.rs", "fn main() {}\n");
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
    // `--skip` completes to the stage names.
    assert!(
        out.contains("provenance") && out.contains("referrers"),
        "stage names in the completions"
    );
    let (code, out, _) = rel_run(d.path(), &["--version"]);
    assert_eq!(code, 0);
    // `rel 0.1.0 (1a2b3c4 2026-12-04)`: the version, the commit it was built from and its date.
    let out = out.trim();
    let rest = out
        .strip_prefix(&format!("rel {} (", env!("CARGO_PKG_VERSION")))
        .unwrap_or_else(|| panic!("{out}"));
    let (commit, date) = rest.trim_end_matches(')').split_once(' ').unwrap();
    assert!(
        commit.len() >= 7 && commit.chars().all(|c| c.is_ascii_hexdigit()),
        "{out}"
    );
    assert!(date.len() == 10 && date.as_bytes()[4] == b'-', "{out}");
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

/// `rel init` leaves a repository that releases: `dist/` ignored (so a snapshot does not make
/// the tagged release's tree dirty), what was detected said, the next command named.
#[test]
fn init_then_snapshot_then_tagged_release_needs_nothing_by_hand() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    write(dir, "go.mod", "module example.com/tool\n\ngo 1.21\n");
    write(dir, "cmd/tool/main.go", "package main\n\nfunc main() {}\n");
    write(
        dir,
        "cmd/toolctl/main.go",
        "package main\n\nfunc main() {}\n",
    );
    let (code, _, err) = rel_run(dir, &["init"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("detected a Go module with 2 main packages (tool, toolctl)"),
        "{err}"
    );
    assert!(
        err.contains("added dist/ to .gitignore") && err.contains("next: `rel check`"),
        "{err}"
    );
    let text = std::fs::read_to_string(dir.join(".release.yaml")).unwrap();
    assert!(
        text.contains("main: ./cmd/toolctl") && text.contains("# rel's release config"),
        "{text}"
    );
    assert!(text.contains(&format!(
        "rel-dev/rel/v{}/schemas",
        env!("CARGO_PKG_VERSION")
    )));
    init_repo(dir);
    // Only linux/amd64 keeps the test quick.
    let (code, _, err) = rel_run(
        dir,
        &[
            "release",
            "--snapshot",
            "--clean",
            "--single-target",
            "--skip",
            "before",
        ],
    );
    assert_eq!(code, 0, "{err}");
    git(dir, &["tag", "v0.1.0"]);
    let (code, out, err) = rel_run(dir, &["release", "--dry-run", "--skip", "publish,before"]);
    assert_eq!(
        code, 0,
        "the snapshot's dist/ does not make the tree dirty: {out}{err}"
    );
}

/// A cargo workspace: builds are named after the `[[bin]]` targets (not the packages), the
/// first build works, and a tag that disagrees with the crate version is called out.
#[test]
fn init_reads_a_cargo_workspace_and_the_binary_names() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    write(
        dir,
        "Cargo.toml",
        "[workspace]\nmembers = [\"crates/*\"]\nresolver = \"2\"\n",
    );
    write(
        dir,
        "crates/tool-cli/Cargo.toml",
        "[package]\nname = \"tool-cli\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[[bin]]\nname = \"tool\"\npath = \"src/main.rs\"\n",
    );
    write(
        dir,
        "crates/tool-cli/src/main.rs",
        "fn main() { println!(\"tool\"); }\n",
    );
    write(
        dir,
        "crates/util/Cargo.toml",
        "[package]\nname = \"util\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
    );
    write(dir, "crates/util/src/lib.rs", "");
    let (code, _, err) = rel_run(dir, &["init"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("a cargo project with 1 binary: tool (package tool-cli 0.1.0)"),
        "{err}"
    );
    assert!(
        err.contains("added dist/ and target/ to .gitignore"),
        "{err}"
    );
    let text = std::fs::read_to_string(dir.join(".release.yaml")).unwrap();
    assert!(
        text.contains("main: tool") && !text.contains("main: tool-cli"),
        "{text}"
    );
    init_repo(dir);
    let elsewhere = tempfile::tempdir().unwrap();
    let out_bin = elsewhere.path().join("bin/tool");
    let (code, out, err) = rel_run(
        dir,
        &[
            "build",
            "--single-target",
            "--snapshot",
            "-o",
            out_bin.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.trim(), out_bin.display().to_string());
    let o = std::process::Command::new(&out_bin).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&o.stdout), "tool\n");
    git(dir, &["add", "Cargo.lock"]);
    git(dir, &["commit", "-qm", "chore: lock file"]);
    git(dir, &["tag", "v0.2.0"]);
    let (code, _, err) = rel_run(dir, &["release", "--dry-run", "--skip", "publish"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("the tag says 0.2.0 but package `tool-cli` is version 0.1.0"),
        "{err}"
    );
}

/// Every command finds the project's config from a subfolder, up to the git root.
#[test]
fn the_config_is_found_from_a_subfolder() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    write(dir, "go.mod", "module x\n\ngo 1.21\n");
    write(
        dir,
        ".release.yaml",
        "version: 1\nproject_name: x\nbuilds: [{main: .}]\nchangelog:\n  filters: {exclude: [\"^docs:\"]}\n",
    );
    write(dir, "sub/deeper/README.md", "x\n");
    init_repo(dir);
    git(
        dir,
        &[
            "commit",
            "-q",
            "--allow-empty",
            "-m",
            "docs: hidden by the project's filter",
        ],
    );
    let sub = dir.join("sub/deeper");
    let (code, _, err) = rel_run(&sub, &["check"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains(&dir.join(".release.yaml").display().to_string()),
        "{err}"
    );
    let (code, out, err) = rel_run(&sub, &["changelog"]);
    assert_eq!(code, 0, "{err}");
    assert!(!out.contains("hidden by the project's filter"), "{out}");
    assert!(out.contains("first commit"), "{out}");
}

/// The end of a run: a table of what was made and the stage times (stderr), or one JSON
/// summary (stdout) with `--json`; `rel check --json` and `--dry-run --json` likewise; and the
/// GoReleaser-shaped files scripts read.
#[test]
fn runs_say_what_they_made_and_json_summaries_parse() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    go_project(
        dir,
        "version: 1\nproject_name: hello\nbuilds:\n  - main: .\n    goos: [linux]\n    goarch: [amd64, arm64]\n",
    );
    init_repo(dir);
    let (code, out, err) = rel_run(dir, &["release", "--snapshot", "--clean"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.is_empty(), "the table goes to stderr: {out}");
    let header = err
        .lines()
        .find(|l| l.starts_with("artifact"))
        .unwrap_or_else(|| panic!("{err}"));
    assert!(
        header.contains("size") && header.ends_with("path"),
        "{header}"
    );
    assert!(
        err.lines()
            .any(|l| l.contains("_linux_arm64.tar.gz")
                && (l.contains(" KiB ") || l.contains(" MiB "))),
        "{err}"
    );
    let time = err.lines().find(|l| l.starts_with("time: ")).unwrap();
    assert!(
        time.contains("build ") && time.contains("archive ") && time.contains("(total "),
        "{time}"
    );

    let (code, out, err) = rel_run(dir, &["release", "--snapshot", "--clean", "--json"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    assert_eq!(v["command"], "release");
    assert_eq!(v["snapshot"], true);
    let archives: Vec<&serde_json::Value> = v["artifacts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["kind"] == "archive")
        .collect();
    assert_eq!(archives.len(), 2);
    assert!(archives.iter().all(|a| a["size"].as_u64().unwrap() > 1000));
    let stages: Vec<&str> = v["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert!(
        stages.contains(&"build") && stages.contains(&"checksum"),
        "{stages:?}"
    );

    // GoReleaser's file names and keys, beside rel's own.
    let notes = std::fs::read(dir.join("dist/release-notes.md")).unwrap();
    assert_eq!(std::fs::read(dir.join("dist/CHANGELOG.md")).unwrap(), notes);
    let cfg: serde_json::Value =
        serde_saphyr::from_str(&std::fs::read_to_string(dir.join("dist/config.yaml")).unwrap())
            .unwrap();
    assert_eq!(cfg["project_name"], "hello");
    assert_eq!(
        cfg["builds"][0]["goarch"],
        serde_json::json!(["amd64", "arm64"])
    );
    let arts: Vec<serde_json::Value> =
        serde_json::from_slice(&std::fs::read(dir.join("dist/artifacts.json")).unwrap()).unwrap();
    let arc = arts.iter().find(|a| a["kind"] == "archive").unwrap();
    assert_eq!(arc["type"], "Archive");
    assert_eq!(arc["goos"], "linux");
    assert!(arc["goarch"] == "amd64" || arc["goarch"] == "arm64");
    let meta: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("dist/metadata.json")).unwrap()).unwrap();
    assert_eq!(meta["runtime"]["goos"], "linux");

    let (code, out, _) = rel_run(dir, &["release", "--dry-run", "--snapshot", "--json"]);
    assert_eq!(code, 0);
    let plan: serde_json::Value =
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    assert_eq!(plan["builds"].as_array().unwrap().len(), 2);
    assert!(
        plan["checksum"]["name"]
            .as_str()
            .unwrap()
            .ends_with("_checksums.txt")
    );

    let (code, out, err) = rel_run(dir, &["build", "--snapshot", "--clean", "--json"]);
    assert_eq!(code, 0, "{err}");
    let b: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(b["artifacts"].as_array().unwrap().len(), 2, "{b}");

    let (code, out, _) = rel_run(dir, &["check", "--json"]);
    assert_eq!(code, 0);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&out).unwrap()["valid"],
        true
    );
    write(
        dir,
        ".release.yaml",
        "version: 1\nbuilds: [{goos: [plan9x]}]\n",
    );
    let (code, out, _) = rel_run(dir, &["check", "--json"]);
    assert_eq!(code, 2);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["valid"], false);
    assert!(v["error"].as_str().unwrap().contains("plan9x"), "{v}");
}

/// In a CI log (no terminal): a line when each build starts, a heartbeat naming what is
/// still running, and a failed build's command with its GOOS/GOARCH, ready to paste.
#[test]
fn ci_logs_name_what_runs_and_failures_show_the_build_environment() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    write(
        dir,
        ".release.yaml",
        "version: 1\nproject_name: slow\nbuilds:\n  - id: slow\n    builder: command\n    goos: [linux]\n    goarch: [arm64]\n    env: [GOOS=linux, GOARCH=arm64]\n    command: [sh, -c, \"sleep 1.2 && printf x > {{ output }}\"]\n",
    );
    write(dir, ".gitignore", "dist/\n");
    init_repo(dir);
    let mut c = rel(dir);
    c.args(["build", "--snapshot"])
        .env("REL_HEARTBEAT_SECS", "0.3");
    let (code, _, err) = run(c);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("building slow linux_arm64"), "{err}");
    assert!(err.contains("still running: slow linux_arm64 ("), "{err}");
    assert!(err.contains("done: 1 binary in dist"), "{err}");

    write(
        dir,
        ".release.yaml",
        "version: 1\nproject_name: slow\nbuilds:\n  - id: slow\n    builder: command\n    goos: [linux]\n    goarch: [arm64]\n    env: [GOOS=linux, GOARCH=arm64, CGO_ENABLED=0]\n    command: [sh, -c, \"exit 3\"]\n",
    );
    let mut c = rel(dir);
    c.args(["build", "--snapshot", "--clean"])
        .env_remove("GOOS")
        .env_remove("GOARCH")
        .env_remove("CGO_ENABLED");
    let (code, _, err) = run(c);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("command: CGO_ENABLED=0 GOARCH=arm64 GOOS=linux sh -c 'exit 3'"),
        "{err}"
    );
}

/// `rel healthcheck` lists every tool the config needs with its version and which tokens are
/// set (never their values); a missing tool is exit 1 naming what needs it. `rel man` writes
/// the pages.
#[test]
fn healthcheck_and_man_pages() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    go_project(
        dir,
        "version: 1\nproject_name: hello\nbuilds: [{main: .}]\nsigns:\n  - cmd: no-such-signer-tool\n    artifacts: checksum\n",
    );
    init_repo(dir);
    let mut c = rel(dir);
    c.args(["healthcheck"])
        .env("GITHUB_TOKEN", "ghp_secretvalue123456");
    let (code, out, err) = run(c);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.lines()
            .any(|l| l.starts_with("ok") && l.contains(" go ") && l.contains("go version go")),
        "{out}"
    );
    assert!(
        out.lines().any(|l| l.starts_with("MISSING")
            && l.contains("no-such-signer-tool")
            && l.contains("[signs[0]]")),
        "{out}"
    );
    assert!(out.contains("set     GITHUB_TOKEN"), "{out}");
    assert!(!out.contains("ghp_secretvalue123456") && !err.contains("ghp_secretvalue123456"));
    assert!(
        err.contains("missing: no-such-signer-tool (for signs[0])"),
        "{err}"
    );
    let (code, out, _) = rel_run(dir, &["healthcheck", "--json"]);
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["ok"], false);

    let (code, _, err) = rel_run(dir, &["man", "--dir", "man"]);
    assert_eq!(code, 0, "{err}");
    for page in ["rel.1", "rel-release.1", "rel-healthcheck.1"] {
        let text = std::fs::read_to_string(dir.join("man").join(page)).unwrap();
        assert!(text.contains(".TH"), "{page}");
    }
    let help = rel_run(dir, &["release", "--help"]).1;
    let own = help.find("--snapshot").unwrap();
    let global = help.find("Global options").unwrap();
    assert!(own < global, "the command's own flags come first:\n{help}");
}

/// The committed JSON Schema, checked with the `jsonschema` validator (Draft 2020-12): rel's
/// own configs and what rel accepts pass (YAML 1.1 booleans included), and what rel refuses
/// fails (an unknown GOOS, `version: 2`).
#[test]
fn the_schema_agrees_with_rel() {
    let python = std::env::var("REL_TEST_PYTHON")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| {
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(".tools/py/bin/python")
        });
    assert!(
        python.is_file(),
        "the validators are missing: run scripts/test.sh"
    );
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let d = tempfile::tempdir().unwrap();
    let validate = |name: &str, yaml: &str| -> bool {
        let v: serde_json::Value = serde_saphyr::from_str(yaml).unwrap();
        let file = d.path().join(format!("{name}.json"));
        std::fs::write(&file, serde_json::to_vec(&v).unwrap()).unwrap();
        let o = std::process::Command::new(&python)
            .args([
                "-c",
                "import json, sys, jsonschema\nschema = json.load(open(sys.argv[1]))\njsonschema.Draft202012Validator.check_schema(schema)\nerrs = list(jsonschema.Draft202012Validator(schema).iter_errors(json.load(open(sys.argv[2]))))\nfor e in errs: print(e.message)\nsys.exit(1 if errs else 0)",
            ])
            .arg(root.join("schemas/release.schema.json"))
            .arg(&file)
            .output()
            .unwrap();
        assert!(
            o.status.code().is_some(),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
        o.status.success()
    };
    for f in [".release.yaml", ".release.example.yaml"] {
        let text = std::fs::read_to_string(root.join(f)).unwrap();
        assert!(
            validate(f.trim_start_matches('.'), &text),
            "{f} fails the schema"
        );
    }
    let ok = "version: 1\nbuilds: [{goos: [linux], goarch: [arm64]}]\nrelease: {draft: \"yes\"}\narchives: [{formats: [tgz]}]\n";
    assert!(validate("ok", ok));
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), ".release.yaml", ok);
    write(dir.path(), "go.mod", "module x\n\ngo 1.21\n");
    assert_eq!(rel_run(dir.path(), &["check"]).0, 0, "rel accepts it too");
    assert!(!validate(
        "goos",
        "version: 1\nbuilds: [{goos: [linuxx]}]\n"
    ));
    assert!(!validate("version", "version: 2\n"));
}
