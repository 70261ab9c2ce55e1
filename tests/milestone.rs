//! `milestones`: the release's GitHub milestone is closed once the release is published, on
//! the fake GitHub (every request checked against GitHub's OpenAPI description); a re-run
//! changes nothing, a missing milestone is a warning unless `fail_on_error`, and a snapshot
//! touches nothing.

mod common;
#[path = "support/mod.rs"]
mod support;

use common::{git, init_repo, rel, run, write};
use std::path::Path;
use support::fake_github::{Fake, Options};

fn project(fake: &Fake, milestones: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), ".gitignore", "dist/\n");
    write(
        dir.path(),
        ".release.yaml",
        &format!(
            "project_name: demo\nbuilds:\n  - builder: command\n    targets: [linux_amd64_v1]\n    command: [sh, -c, \"echo hi > {{{{ output }}}}\"]\nrelease:\n  github: {{owner: acme, name: demo}}\n  github_urls: {{api: \"{}/\", uploads: \"{}/\"}}\nmilestones:\n{milestones}",
            fake.api(),
            fake.uploads()
        ),
    );
    init_repo(dir.path());
    git(dir.path(), &["tag", "v1.0.0"]);
    dir
}

fn release(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let mut c = rel(dir);
    c.args(["release", "--clean"])
        .args(args)
        .env("GITHUB_TOKEN", "fake-token");
    run(c)
}

#[test]
fn the_releases_milestone_is_closed_once_after_publishing() {
    let fake = Fake::start(Options::default());
    fake.add_milestone("v0.9.0", "closed");
    fake.add_milestone("v1.0.0", "open");
    fake.add_milestone("Backlog", "open");
    let dir = project(&fake, "  - close: true\n");

    // A snapshot publishes nothing and closes nothing.
    let (code, _, err) = release(dir.path(), &["--snapshot"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("milestone: skipped (not publishing"), "{err}");
    assert_eq!(fake.milestones()[1].1, "open");

    let (code, _, err) = release(dir.path(), &[]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("closed milestone `v1.0.0` of acme/demo"),
        "{err}"
    );
    assert_eq!(
        fake.milestones(),
        [
            ("v0.9.0".to_string(), "closed".to_string()),
            ("v1.0.0".to_string(), "closed".to_string()),
            ("Backlog".to_string(), "open".to_string()),
        ]
    );
    // The milestone is closed after the release is published, never before.
    let reqs = fake.requests();
    let patch = reqs
        .iter()
        .position(|r| r.starts_with("PATCH /repos/acme/demo/milestones/2"))
        .expect("a PATCH of milestone 2");
    let publish = reqs
        .iter()
        .rposition(|r| r.starts_with("PATCH /repos/acme/demo/releases/"))
        .expect("the publish");
    assert!(publish < patch, "{reqs:#?}");

    // A re-run finds it closed and sends no PATCH.
    let before = fake
        .requests()
        .iter()
        .filter(|r| r.contains("/milestones/"))
        .count();
    let (code, _, err) = release(dir.path(), &[]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("was already closed"), "{err}");
    let after = fake
        .requests()
        .iter()
        .filter(|r| r.contains("/milestones/"))
        .count();
    assert_eq!(before, after);
    assert!(fake.violations().is_empty(), "{:?}", fake.violations());
}

#[test]
fn a_missing_milestone_warns_or_stops_with_fail_on_error() {
    let fake = Fake::start(Options::default());
    fake.add_milestone("v0.9.0", "open");
    let dir = project(
        &fake,
        "  - close: true\n    name_template: \"Release {{ version }}\"\n",
    );
    let (code, _, err) = release(dir.path(), &[]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("acme/demo has no milestone titled `Release 1.0.0`") && err.contains("WARN"),
        "{err}"
    );
    assert!(!fake.releases()[0].draft, "the release is out");

    let fake = Fake::start(Options::default());
    let dir = project(
        &fake,
        "  - close: true\n    fail_on_error: true\n    repo: {name: planning}\n",
    );
    let (code, _, err) = release(dir.path(), &[]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("milestones[0]: acme/planning"), "{err}");
    assert!(!err.contains("fake-token"), "{err}");

    // A template error is exit 2 at its place, before anything is built or sent.
    let fake = Fake::start(Options::default());
    let dir = project(&fake, "  - close: true\n    name_template: \"{{ nope }\"\n");
    let (code, _, err) = release(dir.path(), &[]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains(".release.yaml:11:20"), "{err}");
    assert!(fake.requests().is_empty(), "{:?}", fake.requests());
}
