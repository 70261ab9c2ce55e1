//! `changelog.use: github` and `github-native`, `changelog.format` and `changelog.abbrev`:
//! the real `rel` binary against the fake GitHub, which serves the commits of a real git
//! repository (read here with `git log`) and checks every request, and its own answers,
//! against GitHub's OpenAPI description.

mod common;
#[path = "support/mod.rs"]
mod support;

use common::{git, git_at, rel, run, write};
use serde_json::Value;
use std::path::Path;
use support::fake_github::{Fake, Options, compare_commit};

const TOKEN: &str = "fake-token";

fn config(fake: &Fake, changelog: &str) -> String {
    format!(
        "version: 1\nproject_name: demo\nchangelog:\n{changelog}\nrelease:\n  github: {{owner: acme, name: demo}}\n  github_urls: {{api: \"{}/\", uploads: \"{}/\"}}\n",
        fake.api(),
        fake.uploads()
    )
}

/// A commit by `author` (`Name <email>`) with a fixed date; returns its full hash.
fn commit(dir: &Path, msg: &str, author: &str, day: u32) -> String {
    write(dir, &format!("f{day}.txt"), msg);
    git(dir, &["add", "-A"]);
    git_at(
        dir,
        &["commit", "-q", "--author", author, "-m", msg],
        &format!("2024-02-{day:02}T10:00:00Z"),
    );
    git(dir, &["rev-parse", "HEAD"])
}

/// What GitHub's compare API lists for `range` of the repository in `dir`: its commits from
/// `git log`, oldest first, each author's login looked up by email in `accounts` (none: no
/// GitHub account, `author: null`).
fn github_commits(dir: &Path, range: &str, accounts: &[(&str, &str)]) -> Vec<Value> {
    let log = git(
        dir,
        &[
            "log",
            "--reverse",
            "--format=%H%x1f%P%x1f%an%x1f%ae%x1f%cI%x1f%B%x1e",
            range,
        ],
    );
    log.split('\x1e')
        .map(|r| r.trim_start_matches('\n'))
        .filter(|r| !r.trim().is_empty())
        .map(|r| {
            let f: Vec<&str> = r.splitn(6, '\x1f').collect();
            let parents: Vec<&str> = f[1].split_whitespace().collect();
            let login = accounts.iter().find(|(e, _)| *e == f[3]).map(|(_, l)| *l);
            compare_commit(f[0], &parents, f[5].trim_end(), (f[2], f[3], f[4]), login)
        })
        .collect()
}

/// A repository: v0.1.0, then commits by an account holder, a no-reply address with a
/// co-author, and someone GitHub knows no account for; v0.2.0 on the last.
fn project(fake: &Fake, changelog: &str) -> (tempfile::TempDir, Vec<String>) {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    git(p, &["init", "-q", "-b", "main"]);
    write(p, ".release.yaml", &config(fake, changelog));
    write(p, ".gitignore", "dist/\n");
    commit(p, "feat: first", "Test <test@example.com>", 1);
    git(p, &["tag", "v0.1.0"]);
    let shas = vec![
        commit(
            p,
            "feat: sign in with a passkey",
            "Ann <ann@example.com>",
            2,
        ),
        commit(
            p,
            "fix: crash on empty input\n\nCo-authored-by: Cy <7+cy-gh@users.noreply.github.com>",
            "Bob <9+bob@users.noreply.github.com>",
            3,
        ),
        commit(p, "docs: readme", "Test <test@example.com>", 4),
    ];
    git(p, &["tag", "v0.2.0"]);
    fake.serve_compare(
        "v0.1.0",
        "v0.2.0",
        github_commits(
            p,
            "v0.1.0..v0.2.0",
            &[
                ("ann@example.com", "ann-gh"),
                ("9+bob@users.noreply.github.com", "bob"),
            ],
        ),
    );
    (d, shas)
}

fn changelog(dir: &Path, token: Option<&str>) -> (i32, String, String) {
    let mut c = rel(dir);
    c.arg("changelog");
    if let Some(t) = token {
        c.env("GITHUB_TOKEN", t);
    }
    run(c)
}

fn ok(r: (i32, String, String)) -> (String, String) {
    assert_eq!(r.0, 0, "rel failed:\nstdout:\n{}\nstderr:\n{}", r.1, r.2);
    (r.1, r.2)
}

fn short(sha: &str, dir: &Path) -> String {
    git(dir, &["rev-parse", "--short", sha])
}

#[test]
fn use_github_credits_each_commit_to_its_github_login() {
    let fake = Fake::start(Options::default());
    let (d, shas) = project(&fake, "  use: github");
    let p = d.path();
    let (out, _) = ok(changelog(p, Some(TOKEN)));
    let (a, b, c) = (short(&shas[0], p), short(&shas[1], p), short(&shas[2], p));
    assert_eq!(
        out,
        format!(
            "## Changelog\n\n### Features\n\n* {a}: feat: sign in with a passkey (@ann-gh)\n\n### Bug fixes\n\n* {b}: fix: crash on empty input (@bob)\n\n### Others\n\n* {c}: docs: readme (Test <test@example.com>)\n\n**Full Changelog**: https://github.com/acme/demo/compare/v0.1.0...v0.2.0\n"
        )
    );
    assert_eq!(
        fake.requests(),
        ["GET /repos/acme/demo/compare/v0.1.0...v0.2.0?per_page=100"]
    );
    assert!(fake.violations().is_empty(), "{:?}", fake.violations());

    // `logins`: each commit's accounts (author, then no-reply co-authors), and the notes'.
    write(
        p,
        "notes.md.j2",
        "{% for c in commits %}{{ c.author.login or '-' }} {{ c.logins | join(',') }}\n{% endfor %}all: {{ logins | join(' ') }}\n",
    );
    write(
        p,
        ".release.yaml",
        &config(&fake, "  use: github\n  template: notes.md.j2"),
    );
    let (out, _) = ok(changelog(p, Some(TOKEN)));
    assert_eq!(
        out,
        "- \nbob @bob,@cy-gh\nann-gh @ann-gh\nall: @bob @cy-gh @ann-gh\n"
    );
}

#[test]
fn the_compare_api_is_read_page_by_page() {
    let fake = Fake::start(Options::default());
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    git(p, &["init", "-q", "-b", "main"]);
    write(p, ".release.yaml", &config(&fake, "  use: github"));
    commit(p, "feat: first", "Test <test@example.com>", 1);
    git(p, &["tag", "v1.0.0"]);
    // 205 commits: three pages of at most 100.
    let script = "for i in $(seq 1 205); do git commit -q --allow-empty --author 'Ann <ann@example.com>' -m \"fix: change $i\"; done";
    let out = std::process::Command::new("sh")
        .args(["-c", script])
        .current_dir(p)
        .env("GIT_COMMITTER_NAME", "Test")
        .env("GIT_COMMITTER_EMAIL", "test@example.com")
        .env("GIT_AUTHOR_DATE", "2024-03-01T00:00:00Z")
        .env("GIT_COMMITTER_DATE", "2024-03-01T00:00:00Z")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", p)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    git(p, &["tag", "v1.1.0"]);
    fake.serve_compare(
        "v1.0.0",
        "v1.1.0",
        github_commits(p, "v1.0.0..v1.1.0", &[("ann@example.com", "ann")]),
    );
    let (out, _) = ok(changelog(p, Some(TOKEN)));
    let lines: Vec<&str> = out.lines().filter(|l| l.starts_with("* ")).collect();
    assert_eq!(lines.len(), 205, "{out}");
    assert!(lines.iter().all(|l| l.ends_with(" (@ann)")), "{out}");
    // Newest first, as git lists them.
    assert!(lines[0].contains(": fix: change 205 ("), "{}", lines[0]);
    assert!(lines[204].contains(": fix: change 1 ("), "{}", lines[204]);
    assert_eq!(
        fake.requests(),
        [
            "GET /repos/acme/demo/compare/v1.0.0...v1.1.0?per_page=100",
            "GET /repos/acme/demo/compare/v1.0.0...v1.1.0?per_page=100&page=2",
            "GET /repos/acme/demo/compare/v1.0.0...v1.1.0?per_page=100&page=3",
        ]
    );
    assert!(fake.violations().is_empty(), "{:?}", fake.violations());
}

#[test]
fn format_and_abbrev_write_the_lines() {
    let fake = Fake::start(Options::default());
    let (d, shas) = project(
        &fake,
        "  use: github\n  abbrev: 5\n  format: \"[{{ short_sha }}] {{ subject }}{% if logins %} by {{ logins | join(' and ') }}{% endif %}\"",
    );
    let p = d.path();
    let (out, _) = ok(changelog(p, Some(TOKEN)));
    let b = &shas[1][..5];
    assert!(
        out.contains(&format!(
            "* [{b}] fix: crash on empty input by @bob and @cy-gh\n"
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!("* [{}] docs: readme\n", &shas[2][..5])),
        "{out}"
    );

    // -1: no hash, and GoReleaser's default line loses its separator with it.
    write(
        p,
        ".release.yaml",
        &config(&fake, "  use: github\n  abbrev: -1"),
    );
    let (out, _) = ok(changelog(p, Some(TOKEN)));
    assert!(
        out.contains("\n* feat: sign in with a passkey (@ann-gh)\n"),
        "{out}"
    );

    // git: the default line with a longer hash; a format over git's fields.
    write(p, ".release.yaml", &config(&fake, "  abbrev: 12"));
    let (out, _) = ok(changelog(p, None));
    assert!(
        out.contains(&format!("\n* {} docs: readme\n", &shas[2][..12])),
        "{out}"
    );
    write(
        p,
        ".release.yaml",
        &config(&fake, "  format: \"{{ subject }} ({{ author.name }})\""),
    );
    let (out, _) = ok(changelog(p, None));
    assert!(out.contains("\n* docs: readme (Test)\n"), "{out}");
    assert!(
        out.contains("\n* fix: crash on empty input (Bob)\n"),
        "{out}"
    );
    assert_eq!(fake.requests().len(), 2, "git reads no API");

    // GoReleaser's own format, imported: the release's variables beside the commit's
    // fields, a list filtered by a regular expression and joined as English lists.
    write(
        p,
        ".release.yaml",
        &config(
            &fake,
            "  use: github\n  format: \"{{ short_sha }}: {{ subject }}{% if not is_nightly and logins %} ({{ logins|reject_matching('^@bob$')|english_join }}){% endif %}\"",
        ),
    );
    let (out, _) = ok(changelog(p, Some(TOKEN)));
    assert!(
        out.contains(&format!(
            "* {}: fix: crash on empty input (@cy-gh)\n",
            &shas[1][..7]
        )),
        "{out}"
    );
    let mut c = rel(p);
    c.arg("check");
    ok(run(c));
}

#[test]
fn github_native_notes_are_the_body() {
    let fake = Fake::start(Options::default());
    let (d, _) = project(&fake, "  use: github-native");
    let p = d.path();
    let notes = "## What's Changed\n* Sign in with a passkey by @ann-gh in https://github.com/acme/demo/pull/2\n\n## New Contributors\n* @ann-gh made their first contribution in https://github.com/acme/demo/pull/2\n\n**Full Changelog**: https://github.com/acme/demo/compare/v0.1.0...v0.2.0";
    fake.serve_release_notes(notes);
    // The release: the notes file and the published body are GitHub's text.
    let mut c = rel(p);
    c.args(["release", "--clean", "--skip", "build"])
        .env("GITHUB_TOKEN", TOKEN);
    ok(run(c));
    assert_eq!(
        std::fs::read_to_string(p.join("dist/release-notes.md")).unwrap(),
        notes
    );
    let releases = fake.releases();
    assert_eq!(releases.len(), 1);
    assert_eq!(releases[0].body, notes);
    assert_eq!(
        fake.notes_requests(),
        [serde_json::json!({"tag_name": "v0.2.0", "previous_tag_name": "v0.1.0"})]
    );
    // `rel changelog` prints the same.
    let (out, _) = ok(changelog(p, Some(TOKEN)));
    assert_eq!(out, notes);
    assert!(fake.violations().is_empty(), "{:?}", fake.violations());
}

#[test]
fn without_a_token_a_snapshot_and_rel_changelog_fall_back_to_git() {
    let fake = Fake::start(Options::default());
    let (d, _) = project(&fake, "  use: github");
    let p = d.path();
    // A release (not a snapshot) needs the token before any work.
    let mut c = rel(p);
    c.args(["release", "--clean", "--skip", "build,publish"]);
    let (code, _, err) = run(c);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("changelog.use: github") && err.contains("GITHUB_TOKEN"),
        "{err}"
    );

    let next = commit(p, "feat: export to CSV", "Ann <ann@example.com>", 5);
    let mut c = rel(p);
    c.args(["release", "--snapshot", "--clean", "--skip", "build"]);
    let (_, err) = ok(run(c));
    assert!(
        err.contains("GITHUB_TOKEN") && err.contains("come from git"),
        "{err}"
    );
    let notes = std::fs::read_to_string(p.join("dist/release-notes.md")).unwrap();
    // GoReleaser's `github` line, with the name and email git knows instead of a login.
    assert!(
        notes.contains(&format!(
            "* {}: feat: export to CSV (Ann <ann@example.com>)\n",
            short(&next, p)
        )),
        "{notes}"
    );
    let (out, err) = ok(changelog(p, None));
    assert!(
        err.contains("GITHUB_TOKEN (or GH_TOKEN) is not set"),
        "{err}"
    );
    assert!(out.contains("(Ann <ann@example.com>)"), "{out}");
    assert!(fake.requests().is_empty(), "{:?}", fake.requests());
}

#[test]
fn a_rejected_token_is_a_clear_error_that_never_prints_it() {
    let fake = Fake::start(Options::default());
    let (d, _) = project(&fake, "  use: github");
    let p = d.path();
    let secret = "ghp_notTheRightTokenAtAll123";
    let mut c = rel(p);
    c.args(["release", "--clean", "--skip", "build"])
        .env("GITHUB_TOKEN", secret);
    let (code, out, err) = run(c);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("401") && err.contains("GITHUB_TOKEN"), "{err}");
    assert!(!err.contains(secret) && !out.contains(secret), "{err}");
    assert!(fake.releases().is_empty(), "nothing was published");
    let (code, out, err) = changelog(p, Some(secret));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("GITHUB_TOKEN"), "{err}");
    assert!(!err.contains(secret) && !out.contains(secret), "{err}");
}

#[test]
fn bad_changelog_settings_are_config_errors() {
    let fake = Fake::start(Options::default());
    for (changelog, want) in [
        (
            "  use: gitlab",
            &["invalid value `gitlab`", ":4:8", "github-native"][..],
        ),
        (
            "  abbrev: -2",
            &["changelog.abbrev", ":4:11", "-1 leaves the hash out"],
        ),
        (
            "  format: \"{{ short_sha }} {{ nope }}\"",
            &["changelog.format", "undefined", ":4:11"],
        ),
    ] {
        let d = tempfile::tempdir().unwrap();
        git(d.path(), &["init", "-q", "-b", "main"]);
        write(d.path(), ".release.yaml", &config(&fake, changelog));
        let mut c = rel(d.path());
        c.arg("check");
        let (code, _, err) = run(c);
        assert_eq!(code, 2, "{changelog}: {err}");
        for w in want {
            assert!(err.contains(w), "{changelog}: want {w:?} in:\n{err}");
        }
    }
}
