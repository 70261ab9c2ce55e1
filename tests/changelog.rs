//! End-to-end tests of `rel changelog`, `rel next-version` and the changelog stage, on
//! fixture repositories built here with fixed dates, compared as whole strings.

mod common;

use common::{git, git_at, rel, rel_run, run, write};
use std::path::Path;

/// A commit with a fixed date; `file` (if any) is written first so `--path` has something to see.
fn commit(dir: &Path, msg: &str, day: u32, file: Option<&str>) -> String {
    let f = file
        .map(String::from)
        .unwrap_or_else(|| format!("f{day}.txt"));
    write(dir, &f, &format!("{msg}\n"));
    git(dir, &["add", "-A"]);
    git_at(
        dir,
        &["commit", "-q", "-m", msg],
        &format!("2024-01-{day:02}T10:00:00Z"),
    );
    git(dir, &["rev-parse", "--short", "HEAD"])
}

fn tag(dir: &Path, name: &str) {
    git(dir, &["tag", name]);
}

fn repo() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    git(d.path(), &["init", "-q", "-b", "main"]);
    d
}

fn ok(dir: &Path, args: &[&str]) -> String {
    let mut c = rel(dir);
    c.args(args);
    let (code, out, err) = run(c);
    assert_eq!(code, 0, "rel {args:?} failed: {err}");
    out
}

#[test]
fn release_notes_with_scopes_breaking_changes_and_other_commits() {
    let d = repo();
    let p = d.path();
    commit(p, "feat: first", 1, None);
    tag(p, "v1.0.0");
    let json = commit(p, "feat(cli): add --json", 2, None);
    let crash = commit(p, "fix: crash on empty input", 3, None);
    let drop = commit(p, "feat(api)!: drop the v1 endpoints", 4, None);
    let keys = commit(
        p,
        "refactor(config): rename keys\n\nThe old names were confusing.\n\nBREAKING CHANGE: `out` is now `dist`",
        5,
        None,
    );
    let readme = commit(p, "Update README", 6, None);
    tag(p, "v1.1.0");
    let want = format!(
        "## Changelog\n\n\
         ### Breaking changes\n\n\
         * {keys} **config:** `out` is now `dist`\n\
         * {drop} **api:** drop the v1 endpoints\n\n\
         ### Features\n\n\
         * {drop} feat(api)!: drop the v1 endpoints\n\
         * {json} feat(cli): add --json\n\n\
         ### Bug fixes\n\n\
         * {crash} fix: crash on empty input\n\n\
         ### Others\n\n\
         * {readme} Update README\n\
         * {keys} refactor(config): rename keys\n"
    );
    // No config file: the defaults apply.
    assert!(!p.join(".release.yaml").exists());
    assert_eq!(ok(p, &["changelog"]), want);
    assert_eq!(
        ok(p, &["changelog", "--from", "v1.0.0", "--to", "v1.1.0"]),
        want
    );
}

#[test]
fn compare_link_for_github_remotes_and_unreleased_commits() {
    let d = repo();
    let p = d.path();
    commit(p, "feat: first", 1, None);
    tag(p, "v0.1.0");
    let fix = commit(p, "fix: off by one", 2, None);
    git(
        p,
        &["remote", "add", "origin", "git@github.com:acme/hello.git"],
    );
    let want = format!(
        "## Changelog\n\n### Bug fixes\n\n* {fix} fix: off by one\n\n**Full Changelog**: https://github.com/acme/hello/compare/v0.1.0...HEAD\n"
    );
    assert_eq!(ok(p, &["changelog"]), want);
    assert_eq!(ok(p, &["changelog", "--unreleased"]), want);
}

#[test]
fn merge_commits_are_not_listed_and_branch_commits_appear_once() {
    let d = repo();
    let p = d.path();
    let first = commit(p, "feat: first", 1, None);
    tag(p, "v1.0.0");
    git(p, &["checkout", "-q", "-b", "topic"]);
    let a = commit(p, "feat: from the branch", 2, None);
    git(p, &["checkout", "-q", "main"]);
    let b = commit(p, "fix: on main", 3, None);
    git_at(
        p,
        &[
            "merge",
            "-q",
            "--no-ff",
            "-m",
            "Merge branch 'topic'",
            "topic",
        ],
        "2024-01-04T10:00:00Z",
    );
    let c = commit(p, "fix: after the merge", 5, None);
    tag(p, "v1.1.0");
    let out = ok(p, &["changelog"]);
    assert_eq!(
        out,
        format!(
            "## Changelog\n\n### Features\n\n* {a} feat: from the branch\n\n### Bug fixes\n\n* {c} fix: after the merge\n* {b} fix: on main\n"
        )
    );
    // The whole-history form splits the merged history into the same ranges.
    let all = ok(p, &["changelog", "--all"]);
    assert_eq!(
        all,
        format!(
            "# Changelog\n\n## v1.1.0 - 2024-01-05\n\n### Features\n\n* {a} feat: from the branch\n\n### Bug fixes\n\n* {c} fix: after the merge\n* {b} fix: on main\n\n## v1.0.0 - 2024-01-01\n\n### Features\n\n* {first} feat: first\n"
        )
    );
}

#[test]
fn reverts_cancel_within_a_release_and_stay_across_releases() {
    let d = repo();
    let p = d.path();
    let old = commit(p, "feat: old feature", 1, None);
    tag(p, "v1.0.0");
    let full_old = git(p, &["rev-parse", "HEAD"]);
    let kept = commit(p, "feat: kept", 2, None);
    commit(p, "feat: short-lived", 3, Some("short.txt"));
    git_at(p, &["revert", "--no-edit", "HEAD"], "2024-01-04T10:00:00Z");
    git_at(
        p,
        &["revert", "--no-edit", &full_old],
        "2024-01-05T10:00:00Z",
    );
    let revert_old = git(p, &["rev-parse", "--short", "HEAD"]);
    tag(p, "v1.1.0");
    let out = ok(p, &["changelog"]);
    assert_eq!(
        out,
        format!(
            "## Changelog\n\n### Features\n\n* {kept} feat: kept\n\n### Others\n\n* {revert_old} Revert \"feat: old feature\"\n"
        )
    );
    assert!(!out.contains(&old));
}

/// GoReleaser's own changelog config (its `.goreleaser.yaml`): groups are tried in the
/// order declared, the first match wins, sections are shown by `order`, filters drop.
#[test]
fn goreleaser_groups_first_match_wins_with_its_own_regexps() {
    let d = repo();
    let p = d.path();
    write(
        p,
        ".release.yaml",
        r#"version: 1
changelog:
  sort: asc
  filters:
    exclude:
    - '^docs:'
    - '^test:'
    - '^chore'
    - Merge pull request
    - Merge remote-tracking branch
    - Merge branch
    - go mod tidy
  groups:
    - title: 'New Features'
      regexp: "^.*feat[(\\w)]*:+.*$"
      order: 0
    - title: 'Bug fixes'
      regexp: "^.*fix[(\\w)]*:+.*$"
      order: 10
    - title: Other work
      order: 999
"#,
    );
    commit(p, "feat: first", 1, None);
    tag(p, "v1.0.0");
    let both = commit(p, "fix(feat): both regexps match this one", 2, None);
    let fix = commit(p, "fix: a bug", 3, None);
    let feat = commit(p, "feat: a feature", 4, None);
    commit(p, "docs: typo", 5, None);
    commit(p, "chore: bump", 6, None);
    commit(p, "go mod tidy", 7, None);
    commit(p, "test: more", 8, None);
    let other = commit(p, "Improve the docs", 9, None);
    tag(p, "v1.1.0");
    let out = ok(p, &["changelog"]);
    assert_eq!(
        out,
        format!(
            "## Changelog\n\n### New Features\n\n* {feat} feat: a feature\n* {both} fix(feat): both regexps match this one\n\n### Bug fixes\n\n* {fix} fix: a bug\n\n### Other work\n\n* {other} Improve the docs\n"
        )
    );
}

#[test]
fn groups_declared_first_win_but_show_by_order_and_include_filters() {
    let d = repo();
    let p = d.path();
    write(
        p,
        ".release.yaml",
        r#"version: 1
changelog:
  sort: desc
  filters: {include: ['^(feat|fix)']}
  groups:
    - {title: Dependency updates, regexp: '^.*?(.+)\(deps\)!?:.+$', order: 300}
    - {title: New Features, regexp: '^.*?feat(\([[:word:]]+\))??!?:.+$', order: 100}
    - {title: Bug fixes, regexp: '^.*?bug(\([[:word:]]+\))??!?:.+$', order: 200}
"#,
    );
    commit(p, "feat: first", 1, None);
    tag(p, "v1.0.0");
    let deps = commit(p, "feat(deps): bump serde", 2, None);
    let a = commit(p, "feat(cli): a", 3, None);
    let b = commit(p, "feat: b", 4, None);
    commit(p, "fix: no group takes this one", 5, None);
    commit(p, "refactor: filtered out by include", 6, None);
    tag(p, "v1.1.0");
    assert_eq!(
        ok(p, &["changelog"]),
        format!(
            "## Changelog\n\n### New Features\n\n* {b} feat: b\n* {a} feat(cli): a\n\n### Dependency updates\n\n* {deps} feat(deps): bump serde\n"
        )
    );
}

#[test]
fn all_writes_every_tag_range_newest_first_in_semver_order() {
    let d = repo();
    let p = d.path();
    let c1 = commit(p, "feat: first", 1, None);
    tag(p, "v1.9.0");
    let c2 = commit(p, "feat: tenth", 2, None);
    tag(p, "v1.10.0-rc.1");
    let c3 = commit(p, "fix: rc fix", 3, None);
    tag(p, "v1.10.0");
    tag(p, "not-a-version");
    let c4 = commit(p, "fix: unreleased", 4, None);
    git(
        p,
        &["remote", "add", "origin", "https://github.com/acme/hello"],
    );
    let want = format!(
        "# Changelog\n\n\
         ## [v1.10.0](https://github.com/acme/hello/compare/v1.10.0-rc.1...v1.10.0) - 2024-01-03\n\n### Bug fixes\n\n* {c3} fix: rc fix\n\n\
         ## [v1.10.0-rc.1](https://github.com/acme/hello/compare/v1.9.0...v1.10.0-rc.1) - 2024-01-02\n\n### Features\n\n* {c2} feat: tenth\n\n\
         ## v1.9.0 - 2024-01-01\n\n### Features\n\n* {c1} feat: first\n"
    );
    assert_eq!(ok(p, &["changelog", "--all"]), want);
    let with_unreleased = ok(p, &["changelog", "--all", "--unreleased"]);
    assert_eq!(
        with_unreleased,
        want.replacen(
            "# Changelog\n\n",
            &format!("# Changelog\n\n## [Unreleased](https://github.com/acme/hello/compare/v1.10.0...HEAD) - 2024-01-04\n\n### Bug fixes\n\n* {c4} fix: unreleased\n\n"),
            1
        )
    );
}

#[test]
fn empty_range_says_no_changes() {
    let d = repo();
    let p = d.path();
    commit(p, "feat: first", 1, None);
    tag(p, "v1.0.0");
    assert_eq!(
        ok(p, &["changelog", "--unreleased"]),
        "## Changelog\n\nNo changes.\n"
    );
    // Only filtered-out commits: the same.
    commit(p, "docs: x", 2, None);
    write(
        p,
        ".release.yaml",
        "version: 1\nchangelog: {filters: {exclude: ['^docs:']}}\n",
    );
    assert_eq!(
        ok(p, &["changelog", "--unreleased"]),
        "## Changelog\n\nNo changes.\n"
    );
}

#[test]
fn tag_prefix_and_path_for_monorepos() {
    let d = repo();
    let p = d.path();
    commit(p, "feat: svc start", 1, Some("svc/main.go"));
    tag(p, "svc/v1.2.3");
    commit(p, "feat: web start", 2, Some("web/index.html"));
    tag(p, "web/v0.1.0");
    let fix = commit(p, "fix(svc): handle nil", 3, Some("svc/main.go"));
    commit(p, "feat(web): big web feature", 4, Some("web/index.html"));
    assert_eq!(
        ok(p, &["changelog", "--tag-prefix", "svc/", "--path", "svc"]),
        format!("## Changelog\n\n### Bug fixes\n\n* {fix} fix(svc): handle nil\n")
    );
    assert_eq!(
        ok(
            p,
            &["next-version", "--tag-prefix", "svc/", "--path", "svc"]
        ),
        "svc/v1.2.4\n"
    );
    assert_eq!(
        ok(
            p,
            &["next-version", "--tag-prefix", "web/", "--path", "web"]
        ),
        "web/v0.2.0\n"
    );
    // Without the path, the web feature counts for svc too.
    assert_eq!(
        ok(p, &["next-version", "--tag-prefix", "svc/"]),
        "svc/v1.3.0\n"
    );
    tag(p, "svc/v1.2.4");
    let all = ok(
        p,
        &[
            "changelog",
            "--all",
            "--tag-prefix",
            "svc/",
            "--path",
            "svc",
        ],
    );
    assert!(all.starts_with(&format!("# Changelog\n\n## svc/v1.2.4 - 2024-01-04\n\n### Bug fixes\n\n* {fix} fix(svc): handle nil\n\n## svc/v1.2.3 - 2024-01-01\n")), "{all}");
    assert!(!all.contains("web"), "{all}");
}

#[test]
fn next_version_bumps() {
    let d = repo();
    let p = d.path();
    commit(p, "chore: init", 1, None);
    // No tag yet: the first version.
    assert_eq!(ok(p, &["next-version"]), "v0.1.0\n");
    tag(p, "v0.4.2");
    assert_eq!(
        ok(p, &["next-version"]),
        "v0.4.2\n",
        "no commits: unchanged"
    );
    commit(p, "docs: readme", 2, None);
    assert_eq!(ok(p, &["next-version"]), "v0.4.3\n");
    commit(p, "feat: x", 3, None);
    assert_eq!(ok(p, &["next-version"]), "v0.5.0\n");
    commit(p, "fix: y\n\nBREAKING CHANGE: z", 4, None);
    assert_eq!(
        ok(p, &["next-version"]),
        "v0.5.0\n",
        "breaking while 0.x is a minor bump"
    );
    tag(p, "v1.0.0");
    commit(p, "fix!: stricter parsing", 5, None);
    assert_eq!(ok(p, &["next-version"]), "v2.0.0\n");
    tag(p, "v2.0.0");
    commit(p, "feat(api): new endpoint", 6, None);
    tag(p, "v2.1.0-rc.1");
    commit(p, "fix: rc bug", 7, None);
    assert_eq!(
        ok(p, &["next-version"]),
        "v2.1.0\n",
        "a prerelease leads to its release"
    );
    commit(p, "feat!: redo", 8, None);
    assert_eq!(ok(p, &["next-version"]), "v3.0.0\n");
    // A revert of a commit in the range cancels it: only the fix counts.
    let d2 = repo();
    let q = d2.path();
    commit(q, "feat: base", 1, None);
    tag(q, "1.0.0");
    commit(q, "feat!: risky", 2, Some("risky.txt"));
    git_at(q, &["revert", "--no-edit", "HEAD"], "2024-01-03T10:00:00Z");
    commit(q, "fix: safe", 4, None);
    assert_eq!(
        ok(q, &["next-version"]),
        "1.0.1\n",
        "tags without `v` stay without"
    );
}

#[test]
fn shallow_clone_that_misses_the_previous_tag_is_an_error() {
    let d = repo();
    let p = d.path();
    commit(p, "feat: first", 1, None);
    tag(p, "v1.0.0");
    commit(p, "fix: a", 2, None);
    commit(p, "fix: b", 3, None);
    tag(p, "v1.1.0");
    commit(p, "fix: c", 4, None);
    let url = format!("file://{}", p.display());
    let work = tempfile::tempdir().unwrap();
    let fails = |dir: &Path, args: &[&str]| {
        let mut c = rel(dir);
        c.args(args);
        let (code, out, err) = run(c);
        assert_eq!(code, 1, "{args:?}: {out}{err}");
        assert!(out.is_empty(), "{out}");
        assert!(
            err.contains("shallow")
                && err.contains("git fetch --unshallow")
                && err.contains("fetch-depth: 0"),
            "{err}"
        );
    };
    // Depth 1: no tag at all is reachable, so nothing can say where the changelog starts.
    git(work.path(), &["clone", "-q", "--depth", "1", &url, "d1"]);
    let d1 = work.path().join("d1");
    fails(&d1, &["changelog"]);
    fails(&d1, &["changelog", "--all"]);
    fails(&d1, &["next-version"]);
    // Depth 2 reaches v1.1.0 (so the unreleased part is complete) but not v1.0.0.
    git(work.path(), &["clone", "-q", "--depth", "2", &url, "d2"]);
    let d2 = work.path().join("d2");
    assert_eq!(ok(&d2, &["changelog"]), ok(p, &["changelog"]));
    assert_eq!(ok(&d2, &["next-version"]), "v1.1.1\n");
    fails(&d2, &["changelog", "--to", "v1.1.0"]);
    fails(&d2, &["changelog", "--all"]);
    // After `git fetch --unshallow`, the same as the full history.
    git(&d2, &["fetch", "-q", "--unshallow", "--tags"]);
    assert_eq!(
        ok(&d2, &["changelog", "--to", "v1.1.0"]),
        ok(p, &["changelog", "--to", "v1.1.0"])
    );
    assert_eq!(
        ok(&d2, &["changelog", "--all"]),
        ok(p, &["changelog", "--all"])
    );
}

#[test]
fn usage_and_template_errors() {
    let d = repo();
    let p = d.path();
    commit(p, "feat: first", 1, None);
    tag(p, "v1.0.0");
    let code = |args: &[&str]| {
        let mut c = rel(p);
        c.args(args);
        run(c)
    };
    let (c, _, err) = code(&["changelog", "--all", "--from", "v1.0.0"]);
    assert_eq!(c, 2, "{err}");
    let (c, _, err) = code(&["changelog", "--from", "nope"]);
    assert_eq!(c, 2, "{err}");
    assert!(err.contains("nope"), "{err}");
    write(
        p,
        "notes.j2",
        "{% for c in commits %}{{ c.nosuch }}{% endfor %}",
    );
    write(
        p,
        ".release.yaml",
        "version: 1\nchangelog: {template: notes.j2}\n",
    );
    let (c, _, err) = code(&["changelog"]);
    assert_eq!(c, 2, "{err}");
    assert!(
        err.contains("changelog.template") || err.contains("changelog template"),
        "{err}"
    );
    // A custom template gets the structured data.
    write(
        p,
        "notes.j2",
        "{{ tag }} after {{ previous_tag or 'nothing' }}:{% for c in commits %} {{ c.type }}/{{ c.scope or '-' }}/{{ c.breaking }}/{{ c.sha|length }}/{{ c.author.name }}{% endfor %}\n",
    );
    // Block tags own their lines: the newline after `{% endfor %}` goes with it.
    assert_eq!(
        ok(p, &["changelog"]),
        "v1.0.0 after nothing: feat/-/False/40/Test"
    );
    let empty = tempfile::tempdir().unwrap();
    let (c, _, err) = rel_run(empty.path(), &["changelog"]);
    assert_eq!(c, 1, "{err}");
    assert!(err.contains("not a git repository"), "{err}");
}

fn prebuilt_project(p: &Path, changelog: &str) {
    write(p, "prebuilt/linux_amd64/hello", "#!/bin/sh\necho hello\n");
    write(p, ".gitignore", "dist/\n");
    write(
        p,
        ".release.yaml",
        &format!(
            "version: 1\nproject_name: hello\nbuilds:\n  - builder: prebuilt\n    binary: hello\n    goos: [linux]\n    goarch: [amd64]\n    path: \"prebuilt/{{{{ os }}}}_{{{{ arch }}}}/hello\"\n{changelog}"
        ),
    );
}

#[test]
fn release_writes_release_notes_and_registers_them() {
    let d = repo();
    let p = d.path();
    prebuilt_project(p, "changelog:\n  filters: {exclude: ['^docs:']}\n");
    commit(p, "feat: first", 1, None);
    tag(p, "v1.0.0");
    let fix = commit(p, "fix: second", 2, None);
    commit(p, "docs: third", 3, None);
    tag(p, "v1.1.0");
    let mut c = rel(p);
    c.args(["release", "--skip", "archive,checksum,publish,images"]);
    let (code, _, err) = run(c);
    assert_eq!(code, 0, "{err}");
    let notes = std::fs::read_to_string(p.join("dist/release-notes.md")).unwrap();
    assert_eq!(
        notes,
        format!("## Changelog\n\n### Bug fixes\n\n* {fix} fix: second\n")
    );
    let arts = std::fs::read_to_string(p.join("dist/artifacts.json")).unwrap();
    assert!(
        arts.contains("\"release_notes\"") && arts.contains("dist/release-notes.md"),
        "{arts}"
    );

    // A snapshot covers the commits since the last tag.
    let snap = commit(p, "feat: next thing", 4, None);
    let mut c = rel(p);
    c.args([
        "release",
        "--snapshot",
        "--clean",
        "--skip",
        "archive,checksum,publish,images",
    ]);
    let (code, _, err) = run(c);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        std::fs::read_to_string(p.join("dist/release-notes.md")).unwrap(),
        format!("## Changelog\n\n### Features\n\n* {snap} feat: next thing\n")
    );

    // --skip changelog and changelog.disable: no notes.
    let mut c = rel(p);
    c.args([
        "release",
        "--snapshot",
        "--clean",
        "--skip",
        "changelog,archive,checksum,publish,images",
    ]);
    assert_eq!(run(c).0, 0);
    assert!(!p.join("dist/release-notes.md").exists());
    prebuilt_project(p, "changelog: {disable: true}\n");
    let mut c = rel(p);
    c.args(["release", "--snapshot", "--clean"]);
    let (code, _, err) = run(c);
    assert_eq!(code, 0, "{err}");
    assert!(!p.join("dist/release-notes.md").exists());
}

#[test]
fn a_broken_template_stops_the_release_before_building() {
    let d = repo();
    let p = d.path();
    prebuilt_project(p, "changelog: {template: notes.j2}\n");
    write(
        p,
        "notes.j2",
        "{% for g in groups %}{{ g.title | nosuchfilter }}{% endfor %}",
    );
    commit(p, "feat: first", 1, None);
    tag(p, "v1.0.0");
    let mut c = rel(p);
    c.args(["release"]);
    let (code, _, err) = run(c);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("changelog template notes.j2") && err.contains("nosuchfilter"),
        "{err}"
    );
    assert!(!p.join("dist").exists());
}

#[test]
fn a_release_tagged_on_its_release_candidate_covers_the_whole_cycle() {
    let d = repo();
    let p = d.path();
    commit(p, "feat: first", 1, None);
    tag(p, "v1.0.0");
    let a = commit(p, "feat: a", 2, None);
    tag(p, "v1.1.0-rc.1");
    let b = commit(p, "fix: b", 3, None);
    tag(p, "v1.1.0-rc.2");
    tag(p, "v1.1.0");
    assert_eq!(
        ok(p, &["changelog"]),
        format!("## Changelog\n\n### Features\n\n* {a} feat: a\n\n### Bug fixes\n\n* {b} fix: b\n")
    );
    assert_eq!(
        ok(p, &["changelog", "--to", "v1.1.0-rc.2"]),
        format!("## Changelog\n\n### Bug fixes\n\n* {b} fix: b\n")
    );
}

/// What real repositories showed (ddev, vcluster): a squash merge quoting a revert is no
/// revert, and a multi-paragraph `BREAKING CHANGE:` footer ends at its blank line.
#[test]
fn squash_merges_neither_revert_nor_spill_their_bullets() {
    let d = repo();
    let p = d.path();
    commit(p, "feat: settings page", 1, None);
    let target = git(p, &["rev-parse", "HEAD"]);
    tag(p, "v1.0.0");
    commit(p, "feat: themes", 2, None);
    let squash = commit(
        p,
        &format!(
            "fix(ui): settings page fixes (#3030)\n\n* fix: a\n\n* Revert \"feat: x\"\n\nThis reverts commit {target}.\n"
        ),
        3,
        None,
    );
    let breaking = commit(
        p,
        "feat(api)!: new config (#57)\n\nBREAKING CHANGE: the config moved to rel.yaml\n\n* feat: loader\n\n* fix: defaults\n",
        4,
        None,
    );
    tag(p, "v2.0.0");
    let out = ok(p, &["changelog"]);
    assert!(
        out.contains(&format!("* {squash} fix(ui): settings page fixes (#3030)")),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "* {breaking} **api:** the config moved to rel.yaml"
        )),
        "{out}"
    );
    assert!(
        !out.contains("* feat: loader") && !out.contains("* fix: defaults"),
        "{out}"
    );
    // The earlier release is untouched by the quoted revert.
    let all = ok(p, &["changelog", "--all"]);
    assert!(all.contains("feat: settings page"), "{all}");
}

/// vcluster's shape: stable tags on release branches merged back into main.
fn release_branch_repo() -> tempfile::TempDir {
    let d = repo();
    let p = d.path();
    commit(p, "feat: base", 1, None);
    tag(p, "v0.35.0");
    commit(p, "feat: next", 2, None);
    tag(p, "v0.36.0-rc.1");
    git(p, &["checkout", "-q", "-b", "release-0.36"]);
    commit(p, "fix: on the branch", 3, None);
    tag(p, "v0.36.0");
    commit(p, "fix: another on the branch", 4, None);
    tag(p, "v0.36.1");
    git(p, &["checkout", "-q", "main"]);
    commit(p, "fix: on main", 5, None);
    d
}

#[test]
fn next_version_never_proposes_a_tag_that_exists() {
    let d = release_branch_repo();
    let p = d.path();
    let mut c = rel(p);
    c.args(["next-version"]);
    let (code, out, err) = run(c);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.trim(), "v0.36.2", "{err}");
    assert!(err.contains("v0.36.0 already exists"), "{err}");
}

#[test]
fn all_puts_each_commit_under_the_first_tag_that_contains_it() {
    let d = release_branch_repo();
    let p = d.path();
    // Main gets a prerelease of the next minor, then the release branch is merged back and
    // main is tagged again: semver order then no longer follows ancestry.
    tag(p, "v0.37.0-rc.1");
    git_at(
        p,
        &[
            "merge",
            "-q",
            "--no-ff",
            "-m",
            "chore: merge release-0.36",
            "release-0.36",
        ],
        "2024-01-06T10:00:00Z",
    );
    commit(p, "feat: after the merge", 7, None);
    tag(p, "v0.37.0");
    let out = ok(p, &["changelog", "--all"]);
    for subject in [
        "fix: on the branch",
        "fix: another on the branch",
        "feat: next",
        "feat: base",
    ] {
        assert_eq!(out.matches(subject).count(), 1, "{subject} once:\n{out}");
    }
    let section = |t: &str| {
        out.find(&format!("## {t} ")).map(|s| {
            let rest = &out[s + 3..];
            rest[..rest.find("\n## ").unwrap_or(rest.len())].to_string()
        })
    };
    let v0370 = section("v0.37.0").unwrap_or_else(|| panic!("no v0.37.0 section:\n{out}"));
    assert!(v0370.contains("feat: after the merge"), "{v0370}");
    assert!(!v0370.contains("fix: on the branch"), "{v0370}");
    let rc = section("v0.37.0-rc.1").unwrap_or_else(|| panic!("no rc section:\n{out}"));
    assert!(rc.contains("fix: on main"), "{rc}");
}

#[test]
fn previous_tag_is_the_same_for_a_snapshot_and_a_release_of_one_commit() {
    let d = repo();
    let p = d.path();
    commit(p, "feat: one", 1, None);
    tag(p, "v0.36.0");
    commit(p, "fix: two", 2, None);
    tag(p, "v0.36.1-rc.4");
    commit(p, "fix: three", 3, None);
    tag(p, "v0.36.1");
    prebuilt_project(p, "");
    git(p, &["add", "-A"]);
    git_at(
        p,
        &["commit", "-q", "-m", "chore: release config"],
        "2024-01-04T10:00:00Z",
    );
    git(p, &["tag", "-f", "v0.36.1"]);
    let meta = |args: &[&str]| {
        let (code, _, err) = rel_run(p, args);
        assert_eq!(code, 0, "{args:?}: {err}");
        let m: serde_json::Value =
            serde_json::from_slice(&std::fs::read(p.join("dist/metadata.json")).unwrap()).unwrap();
        m["previous_tag"].as_str().unwrap_or_default().to_string()
    };
    let release = meta(&["release", "--clean", "--skip", "publish"]);
    let snapshot = meta(&["release", "--snapshot", "--clean"]);
    assert_eq!(release, "v0.36.0");
    assert_eq!(snapshot, release);
}
