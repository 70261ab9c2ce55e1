//! End-to-end tests of publishing: the real `rel` binary against a stateful fake GitHub that
//! checks every request against GitHub's OpenAPI description, with injected faults.

mod common;
#[path = "support/mod.rs"]
mod support;

use common::{git, init_repo, rel, run, write};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};
use support::fake_github::{Action, Fake, Fault, Options};

const TOKEN: &str = "fake-token";

fn fake() -> Fake {
    Fake::start(Options::default())
}

fn config(fake: &Fake, release_extra: &str) -> String {
    format!(
        r#"version: 1
project_name: demo
changelog:
  template: notes.md.j2
release:
  github: {{owner: acme, name: demo}}
  github_urls: {{api: "{}/", uploads: "{}/"}}
  extra_files:
    - glob: "assets/*"
{release_extra}"#,
        fake.api(),
        fake.uploads()
    )
}

/// Asset files of the fixture: small ones, one big enough that a reset leaves unread data,
/// and one whose name needs URL encoding.
fn assets() -> Vec<(&'static str, Vec<u8>)> {
    let big: Vec<u8> = (0..300_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    vec![
        ("a.txt", b"alpha\n".to_vec()),
        ("big.bin", big),
        ("c d+e&f.txt", b"needs encoding\n".to_vec()),
    ]
}

/// A tagged project publishing `assets/*` (no build: `--skip build`).
fn project(fake: &Fake, release_extra: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), ".gitignore", "dist/\n");
    write(dir.path(), ".release.yaml", &config(fake, release_extra));
    // The changelog stage renders dist/release-notes.md from this (fixed) template.
    write(dir.path(), "notes.md.j2", "## Changes\n\n- first release\n");
    for (name, data) in assets() {
        std::fs::create_dir_all(dir.path().join("assets")).unwrap();
        std::fs::write(dir.path().join("assets").join(name), data).unwrap();
    }
    init_repo(dir.path());
    git(dir.path(), &["tag", "v1.0.0"]);
    dir
}

fn release_cmd(dir: &Path, token: Option<&str>, args: &[&str]) -> Command {
    let mut c = rel(dir);
    c.args(["release", "--clean", "--skip", "build"]).args(args);
    if let Some(t) = token {
        c.env("GITHUB_TOKEN", t);
    }
    c
}

fn release(dir: &Path, args: &[&str]) -> (i32, String, String) {
    run(release_cmd(dir, Some(TOKEN), args))
}

fn ok(r: (i32, String, String)) -> (String, String) {
    assert_eq!(r.0, 0, "rel failed:\nstdout:\n{}\nstderr:\n{}", r.1, r.2);
    (r.1, r.2)
}

/// The release for v1.0.0 is published, has exactly `expected` assets with the local
/// content, no request left GitHub's description, and no publish ever happened with
/// missing assets.
fn assert_complete(fake: &Fake, expected: &[(&str, Vec<u8>)]) {
    assert!(
        fake.violations().is_empty(),
        "requests outside GitHub's API: {:#?}",
        fake.violations()
    );
    let rels: Vec<_> = fake
        .releases()
        .into_iter()
        .filter(|r| r.tag_name == "v1.0.0")
        .collect();
    assert_eq!(rels.len(), 1, "exactly one release for the tag: {rels:#?}");
    let r = &rels[0];
    assert!(!r.draft, "the release is published");
    for (name, data) in expected {
        let a = r
            .assets
            .iter()
            .find(|a| a.name == *name)
            .unwrap_or_else(|| panic!("asset {name} missing: {:?}", r.assets));
        assert_eq!(a.state, "uploaded", "{name}");
        assert_eq!(&fake.download("v1.0.0", name), data, "content of {name}");
    }
    assert!(
        r.assets.iter().all(|a| a.state == "uploaded"),
        "no unfinished asset left: {:?}",
        r.assets
    );
    for p in fake.publications().iter().filter(|p| p.tag == "v1.0.0") {
        for (name, _) in expected {
            assert!(
                p.assets.iter().any(|a| a == name),
                "published without {name}: {p:?}"
            );
        }
    }
}

fn uploads_of(fake: &Fake, name: &str) -> usize {
    let enc =
        percent_encoding::utf8_percent_encode(name, percent_encoding::NON_ALPHANUMERIC).to_string();
    fake.requests()
        .iter()
        .filter(|r| {
            r.starts_with("POST ")
                && r.contains("/assets?")
                && (r.contains(&format!("name={name}")) || r.contains(&enc))
        })
        .count()
}

#[test]
fn publishes_a_complete_release_with_notes_url_and_metadata() {
    let fake = fake();
    let dir = project(&fake, "");
    let (_, err) = ok(release(dir.path(), &[]));
    assert_complete(&fake, &assets());
    let r = &fake.releases()[0];
    assert_eq!(
        r.body, "## Changes\n\n- first release\n",
        "dist/release-notes.md is the body"
    );
    assert_eq!(r.name, "v1.0.0");
    assert!(!r.prerelease);
    let p = fake.publications();
    assert_eq!(p.len(), 1, "published once, after the uploads: {p:?}");
    // Created as a draft, published last.
    let reqs = fake.requests();
    let create = reqs
        .iter()
        .position(|r| r.starts_with("POST /repos/acme/demo/releases"))
        .unwrap();
    let publish = reqs
        .iter()
        .rposition(|r| r.starts_with("PATCH /repos/acme/demo/releases/"))
        .unwrap();
    let last_upload = reqs
        .iter()
        .rposition(|r| r.contains("/assets?name="))
        .unwrap();
    assert!(create < last_upload && last_upload < publish, "{reqs:#?}");
    let meta: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("dist/metadata.json")).unwrap())
            .unwrap();
    assert_eq!(
        meta["release_url"], "https://github.example/acme/demo/releases/tag/v1.0.0",
        "{err}"
    );
    let arts = std::fs::read_to_string(dir.path().join("dist/artifacts.json")).unwrap();
    assert!(
        arts.contains("\"extra_file\"") && arts.contains("assets/big.bin"),
        "{arts}"
    );
    // A second run changes nothing and uploads nothing.
    let before = fake.requests().len();
    ok(release(dir.path(), &[]));
    let again: Vec<String> = fake.requests()[before..].to_vec();
    assert!(
        !again
            .iter()
            .any(|r| r.starts_with("POST") || r.starts_with("DELETE")),
        "{again:#?}"
    );
    assert_complete(&fake, &assets());
}

#[test]
fn prerelease_follows_semver_and_draft_true_stays_draft() {
    let fake = fake();
    let dir = project(
        &fake,
        "  draft: true\n  name_template: \"Demo {{ version }}\"\n",
    );
    git(dir.path(), &["tag", "v1.1.0-rc.1"]);
    ok(release(dir.path(), &[]));
    let r = fake
        .releases()
        .into_iter()
        .find(|r| r.tag_name == "v1.1.0-rc.1")
        .expect("release for the rc tag");
    assert!(r.prerelease, "auto prerelease from semver");
    assert!(r.draft, "release.draft: true leaves it a draft");
    assert_eq!(r.name, "Demo 1.1.0-rc.1");
    // The three extra files, and the checksum file that covers them.
    assert_eq!(r.assets.len(), 4);
    let sums =
        String::from_utf8(fake.download("v1.1.0-rc.1", "demo_1.1.0-rc.1_checksums.txt")).unwrap();
    assert_eq!(sums.lines().count(), 3, "{sums}");
    for (name, data) in assets() {
        let line = format!(
            "{}  {name}",
            rel::dist::hex(&<sha2::Sha256 as sha2::Digest>::digest(&data))
        );
        assert!(sums.lines().any(|l| l == line), "{line} not in {sums}");
    }
    assert!(fake.publications().is_empty());
    assert!(fake.violations().is_empty(), "{:?}", fake.violations());
}

#[test]
fn a_502_on_create_that_created_the_release_does_not_duplicate_it() {
    let fake = fake();
    // First a 502 before anything happened, then one after the release was created.
    fake.fault(Fault::once(
        "POST",
        "/repos/acme/demo/releases",
        Action::Respond {
            status: 502,
            headers: vec![],
            body: r#"{"message":"Server Error"}"#.into(),
        },
    ));
    fake.fault(Fault::once(
        "POST",
        "/repos/acme/demo/releases",
        Action::AfterHandling {
            status: 502,
            body: r#"{"message":"Server Error"}"#.into(),
        },
    ));
    let dir = project(&fake, "");
    let (_, err) = ok(release(dir.path(), &[]));
    assert!(err.contains("502"), "the retry is logged: {err}");
    assert_complete(&fake, &assets());
}

#[test]
fn a_reset_in_the_middle_of_an_upload_is_retried() {
    let fake = fake();
    fake.fault(Fault::once(
        "POST",
        "/assets?name=big.bin",
        Action::ResetMidBody { after: 1000 },
    ));
    let dir = project(&fake, "  upload_concurrency: 1\n");
    ok(release(dir.path(), &[]));
    // The reset upload left an unfinished asset, which was deleted and uploaded again.
    assert!(
        fake.requests()
            .iter()
            .any(|r| r.starts_with("DELETE /repos/acme/demo/releases/assets/")),
        "{:#?}",
        fake.requests()
    );
    assert_complete(&fake, &assets());
}

#[test]
fn a_secondary_rate_limit_403_waits_for_retry_after() {
    let fake = fake();
    fake.fault(Fault::once(
        "POST",
        "/assets",
        Action::Respond {
            status: 403,
            headers: vec![("retry-after".into(), "2".into())],
            body: r#"{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again."}"#.into(),
        },
    ));
    let dir = project(&fake, "");
    let start = Instant::now();
    let (_, err) = ok(release(dir.path(), &[]));
    assert!(
        start.elapsed() >= Duration::from_secs(2),
        "Retry-After honoured"
    );
    assert!(err.contains("secondary rate limit"), "{err}");
    assert_complete(&fake, &assets());
}

#[test]
fn a_429_waits_for_the_rate_limit_reset() {
    let fake = fake();
    let dir = project(&fake, "");
    let now = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
    };
    // The reset is taken once the project is ready, so however slow the set-up was, rel
    // still has the whole wait ahead of it.
    let reset = now() + 2;
    fake.fault(Fault::once(
        "GET",
        "/repos/acme/demo/releases",
        Action::Respond {
            status: 429,
            headers: vec![
                ("x-ratelimit-remaining".into(), "0".into()),
                ("x-ratelimit-reset".into(), reset.to_string()),
            ],
            body: r#"{"message":"API rate limit exceeded"}"#.into(),
        },
    ));
    ok(release(dir.path(), &[]));
    assert!(now() >= reset, "waited until X-RateLimit-Reset");
    assert_complete(&fake, &assets());
}

#[test]
fn a_422_already_exists_for_an_asset_that_was_uploaded_is_accepted_after_comparing() {
    // No `digest` from the server: rel downloads the asset to compare it.
    let fake = Fake::start(Options {
        omit_digest: true,
        ..Options::default()
    });
    fake.fault(Fault::once(
        "POST",
        "/assets?name=c d+e&f.txt",
        Action::AfterHandling {
            status: 422,
            body: r#"{"message":"Validation Failed","errors":[{"resource":"ReleaseAsset","code":"already_exists","field":"name"}]}"#.into(),
        },
    ));
    let dir = project(&fake, "");
    ok(release(dir.path(), &[]));
    assert!(
        fake.requests()
            .iter()
            .any(|r| r.starts_with("GET /repos/acme/demo/releases/assets/")),
        "downloaded to compare: {:#?}",
        fake.requests()
    );
    assert!(
        !fake.requests().iter().any(|r| r.starts_with("DELETE")),
        "the same asset is kept, not replaced"
    );
    assert_complete(&fake, &assets());
}

#[test]
fn killed_between_uploads_a_rerun_finishes_and_nothing_was_published_half_done() {
    let fake = fake();
    // The first upload goes through; every later one is held until the process is killed.
    fake.fault(Fault {
        method: "POST",
        path_contains: "/assets".into(),
        skip: 1,
        times: usize::MAX,
        action: Action::Block,
    });
    let dir = project(&fake, "  upload_concurrency: 2\n");
    let mut child = release_cmd(dir.path(), Some(TOKEN), &[])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    loop {
        let (_, done, blocked) = fake.upload_counts();
        if done >= 1 && blocked >= 1 {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "rel never reached the second upload: {:?}",
            fake.requests()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let rels = fake.releases();
    assert!(rels[0].draft, "killed mid-upload: still a draft");
    assert!(fake.publications().is_empty());
    // The rest of the held uploads now fail (the client is gone) and stay unfinished.
    fake.reset_faults_and_unblock();
    std::thread::sleep(Duration::from_millis(200));
    ok(release(dir.path(), &[]));
    assert_complete(&fake, &assets());
}

#[test]
fn an_existing_published_release_from_another_tool_gets_the_assets_and_keeps_its_body() {
    let fake = fake();
    fake.add_release(
        "v1.0.0",
        false,
        "Written by hand.",
        &[("other.txt", b"from elsewhere\n")],
    );
    let dir = project(&fake, "");
    ok(release(dir.path(), &[]));
    assert_complete(&fake, &assets());
    let r = &fake.releases()[0];
    assert_eq!(r.body, "Written by hand.", "mode keep-existing");
    assert!(
        r.assets.iter().any(|a| a.name == "other.txt"),
        "other assets are left alone"
    );
    assert!(
        !fake
            .requests()
            .iter()
            .any(|r| r.starts_with("POST /repos/acme/demo/releases ")
                || r == "POST /repos/acme/demo/releases")
    );
}

#[test]
fn an_existing_draft_is_reused_with_appended_notes_and_same_assets_skipped() {
    let fake = fake();
    fake.add_release("v1.0.0", true, "Draft notes.", &[("a.txt", b"alpha\n")]);
    let dir = project(&fake, "  mode: append\n");
    ok(release(dir.path(), &[]));
    assert_complete(&fake, &assets());
    assert_eq!(
        fake.releases()[0].body,
        "Draft notes.\n\n## Changes\n\n- first release\n"
    );
    assert_eq!(
        uploads_of(&fake, "a.txt"),
        0,
        "the identical asset is not uploaded again"
    );
    assert_eq!(fake.publications().len(), 1);
}

#[test]
fn an_asset_with_other_content_is_an_error_naming_it_unless_replace_is_set() {
    let fake = fake();
    fake.add_release("v1.0.0", true, "", &[("a.txt", b"something else\n")]);
    let dir = project(&fake, "");
    let (code, _, err) = release(dir.path(), &[]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("a.txt") && err.contains("replace_existing_artifacts"),
        "{err}"
    );
    assert!(
        err.contains("still a draft") && err.contains("rel release --clean"),
        "says what was done and how to finish: {err}"
    );
    assert!(
        fake.publications().is_empty(),
        "not published with a wrong asset"
    );
    write(
        dir.path(),
        ".release.yaml",
        &config(&fake, "  replace_existing_artifacts: true\n"),
    );
    git(dir.path(), &["commit", "-qam", "fix: replace assets"]);
    git(dir.path(), &["tag", "-f", "v1.0.0"]);
    ok(release(dir.path(), &[]));
    assert_complete(&fake, &assets());
}

#[test]
fn the_token_never_appears_in_output_errors_or_files() {
    let secret = "ghp_LEAKCHECK0123456789abcdefXYZ";
    let fake = Fake::start(Options {
        token: secret.into(),
        ..Options::default()
    });
    fake.fault(Fault::once(
        "POST",
        "/assets?name=big.bin",
        Action::ResetMidBody { after: 500 },
    ));
    fake.fault(Fault::once(
        "POST",
        "/repos/acme/demo/releases",
        Action::AfterHandling {
            status: 502,
            body: "{}".into(),
        },
    ));
    let dir = project(&fake, "");
    let mut outputs = Vec::new();
    // A rejected token (a different distinctive value), verbose.
    let wrong = "ghp_WRONGTOKEN9876543210zyxwvu";
    let r = run(release_cmd(dir.path(), Some(wrong), &["--verbose"]));
    assert_eq!(r.0, 1, "{}", r.2);
    assert!(
        r.2.contains("401") && r.2.contains("GITHUB_TOKEN"),
        "{}",
        r.2
    );
    outputs.push((wrong, r.1 + &r.2));
    let r = run(release_cmd(
        dir.path(),
        Some(wrong),
        &["--dry-run", "--verbose"],
    ));
    assert_ne!(r.0, 0);
    outputs.push((wrong, r.1 + &r.2));
    // The right one, through faults and retries, verbose; and a dry run.
    let r = run(release_cmd(dir.path(), Some(secret), &["--verbose"]));
    assert_eq!(r.0, 0, "{}", r.2);
    outputs.push((secret, r.1 + &r.2));
    let r = run(release_cmd(
        dir.path(),
        Some(secret),
        &["--dry-run", "--verbose"],
    ));
    assert_eq!(r.0, 0, "{}", r.2);
    outputs.push((secret, r.1 + &r.2));
    for (tok, out) in &outputs {
        assert!(!out.contains(tok), "token leaked:\n{out}");
    }
    for e in walkdir::WalkDir::new(dir.path().join("dist"))
        .into_iter()
        .flatten()
        .filter(|e| e.file_type().is_file())
    {
        let bytes = std::fs::read(e.path()).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        assert!(
            !text.contains(secret) && !text.contains(wrong),
            "token in {}",
            e.path().display()
        );
    }
    assert_complete(&fake, &assets());
}

#[test]
fn a_missing_token_stops_before_any_side_effect() {
    let fake = fake();
    let dir = project(&fake, "");
    let (code, _, err) = run(release_cmd(dir.path(), None, &[]));
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("GITHUB_TOKEN") && err.contains("--skip publish"),
        "{err}"
    );
    assert!(!dir.path().join("dist").exists(), "nothing ran");
    assert!(fake.requests().is_empty());
    // Snapshots, --skip publish and release.disable never publish and need no token.
    ok(run(release_cmd(dir.path(), None, &["--snapshot"])));
    ok(run(release_cmd(dir.path(), None, &["--skip", "publish"])));
    write(
        dir.path(),
        ".release.yaml",
        &config(&fake, "  disable: true\n"),
    );
    git(dir.path(), &["commit", "-qam", "chore: disable"]);
    git(dir.path(), &["tag", "-f", "v1.0.0"]);
    ok(run(release_cmd(dir.path(), None, &[])));
    assert!(fake.requests().is_empty(), "{:?}", fake.requests());
}

#[test]
fn dry_run_checks_access_and_lists_calls_without_changing_anything() {
    let fake = fake();
    let dir = project(&fake, "");
    let (out, _) = ok(release(dir.path(), &["--dry-run"]));
    assert!(out.contains("token accepted"), "{out}");
    assert!(out.contains("no release for v1.0.0"), "{out}");
    assert!(
        out.contains("POST /repos/acme/demo/releases (draft v1.0.0"),
        "{out}"
    );
    assert!(out.contains("assets?name=c%20d%2Be%26f.txt"), "{out}");
    assert!(
        out.contains("PATCH /repos/acme/demo/releases/{release_id} (publish"),
        "{out}"
    );
    assert!(
        fake.requests().iter().all(|r| r.starts_with("GET ")),
        "read-only: {:?}",
        fake.requests()
    );
    assert!(fake.releases().is_empty());
    assert!(fake.violations().is_empty(), "{:?}", fake.violations());
    // An existing draft is reported.
    let id = fake.add_release("v1.0.0", true, "", &[]);
    let (out, _) = ok(release(dir.path(), &["--dry-run"]));
    assert!(
        out.contains(&format!("release v1.0.0 exists (draft, id {id})")),
        "{out}"
    );
    // Missing and rejected tokens fail the dry run.
    let (code, out, err) = run(release_cmd(dir.path(), None, &["--dry-run"]));
    assert_eq!(code, 2, "{out}{err}");
    assert!(out.contains("token: missing"), "{out}");
    let (code, _, err) = run(release_cmd(dir.path(), Some("nope"), &["--dry-run"]));
    assert_eq!(code, 1);
    assert!(err.contains("401"), "{err}");
}

#[test]
fn releases_a_go_project_and_the_assets_verify_with_sha256sum() {
    common::require_go();
    let fake = fake();
    let dir = tempfile::tempdir().unwrap();
    let cfg = format!(
        r#"version: 1
project_name: hello
builds:
  - id: hello
    main: .
    targets: [linux_amd64_v1, darwin_arm64]
    ldflags: ["-s -w -X main.version={{{{ version }}}}"]
release:
  github: {{owner: acme, name: demo}}
  github_urls: {{api: "{}", uploads: "{}"}}
"#,
        fake.api(),
        fake.uploads()
    );
    common::go_project(dir.path(), &cfg);
    init_repo(dir.path());
    git(dir.path(), &["tag", "v1.0.0"]);
    let mut c = rel(dir.path());
    c.args(["release", "--clean", "-p", "1"])
        .env("GITHUB_TOKEN", TOKEN);
    ok(run(c));
    assert!(fake.violations().is_empty(), "{:?}", fake.violations());
    let r = fake
        .releases()
        .into_iter()
        .find(|r| r.tag_name == "v1.0.0")
        .unwrap();
    assert!(!r.draft);
    let mut names: Vec<String> = r.assets.iter().map(|a| a.name.clone()).collect();
    names.sort();
    assert_eq!(
        names,
        [
            "hello_1.0.0_checksums.txt",
            "hello_1.0.0_darwin_arm64.tar.gz",
            "hello_1.0.0_linux_amd64.tar.gz"
        ]
    );
    let down = tempfile::tempdir().unwrap();
    for n in &names {
        std::fs::write(down.path().join(n), fake.download("v1.0.0", n)).unwrap();
    }
    let out = Command::new("sha256sum")
        .args(["-c", "hello_1.0.0_checksums.txt"])
        .current_dir(down.path())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(text.matches(": OK").count(), 2, "{text}");
    // The downloaded linux archive holds the binary built for this tag.
    let out = Command::new("tar")
        .args(["xzf", "hello_1.0.0_linux_amd64.tar.gz", "hello"])
        .current_dir(down.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = Command::new(down.path().join("hello")).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("hello 1.0.0 "));
}

#[test]
fn an_immutable_published_release_missing_assets_is_a_clear_error() {
    let fake = fake();
    let id = fake.add_release("v1.0.0", false, "", &[("a.txt", b"alpha\n")]);
    fake.set_immutable(id);
    let dir = project(&fake, "");
    let (code, _, err) = release(dir.path(), &[]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("immutable") && err.contains("big.bin"),
        "{err}"
    );
    assert!(
        !fake.requests().iter().any(|r| r.contains("/assets?name=")),
        "no upload attempted: {:?}",
        fake.requests()
    );
    assert!(fake.violations().is_empty(), "{:?}", fake.violations());
}

#[test]
fn gh_token_works_and_make_latest_is_sent_when_set() {
    let fake = fake();
    let dir = project(&fake, "  make_latest: false\n");
    let mut c = release_cmd(dir.path(), None, &[]);
    c.env("GH_TOKEN", TOKEN);
    ok(run(c));
    assert_complete(&fake, &assets());
    let p = fake.publications();
    assert_eq!(p.len(), 1);
    assert_eq!(p[0].make_latest.as_deref(), Some("false"));
}

#[test]
fn split_checksums_of_extra_files_stay_in_dist_and_a_rerun_finishes() {
    let fake = fake();
    let dir = project(&fake, "");
    let cfg = std::fs::read_to_string(dir.path().join(".release.yaml")).unwrap()
        + "checksum: {split: true}\n";
    write(dir.path(), ".release.yaml", &cfg);
    git(dir.path(), &["commit", "-qam", "chore: split checksums"]);
    git(dir.path(), &["tag", "-f", "v1.0.0"]);
    ok(release(dir.path(), &[]));
    // No sidecar in the project's own tree: the re-run the error messages recommend must
    // not find a dirty tree.
    let stray: Vec<_> = std::fs::read_dir(dir.path().join("assets"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".sha256"))
        .collect();
    assert!(stray.is_empty(), "{stray:?}");
    assert_eq!(git(dir.path(), &["status", "--porcelain"]), "");
    for (name, data) in assets() {
        let side = dir.path().join(format!("dist/{name}.sha256"));
        let text = std::fs::read_to_string(&side).unwrap();
        assert_eq!(
            text,
            format!(
                "{}  {name}\n",
                rel::dist::hex(&<sha2::Sha256 as sha2::Digest>::digest(&data))
            )
        );
    }
    ok(release(dir.path(), &[]));
    let mut expected = assets();
    for (name, data) in assets() {
        expected.push((
            Box::leak(format!("{name}.sha256").into_boxed_str()),
            format!(
                "{}  {name}\n",
                rel::dist::hex(&<sha2::Sha256 as sha2::Digest>::digest(&data))
            )
            .into_bytes(),
        ));
    }
    assert_complete(&fake, &expected);
}

#[test]
fn two_runs_releasing_one_tag_make_one_release() {
    let fake = Fake::start(Options {
        latency: Duration::from_millis(150),
        ..Options::default()
    });
    let dir = project(&fake, "");
    let start = |run: &str| {
        let mut c = release_cmd(dir.path(), Some(TOKEN), &["--skip", "changelog"]);
        c.env("GITHUB_RUN_ID", run)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        c
    };
    // Two folders would be two CI jobs; one folder would be refused by the dist lock first,
    // so the second job works in a clone.
    let other = tempfile::tempdir().unwrap();
    let status = Command::new("git")
        .args(["clone", "-q"])
        .arg(dir.path())
        .arg(other.path().join("p"))
        .status()
        .unwrap();
    assert!(status.success());
    for (name, data) in assets() {
        std::fs::create_dir_all(other.path().join("p/assets")).unwrap();
        std::fs::write(other.path().join("p/assets").join(name), data).unwrap();
    }
    let a = start("1001").spawn().unwrap();
    let mut c = start("1002");
    c.current_dir(other.path().join("p"));
    let b = c.spawn().unwrap();
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    let codes = [a.status.code(), b.status.code()];
    let errs = [
        String::from_utf8_lossy(&a.stderr).into_owned(),
        String::from_utf8_lossy(&b.stderr).into_owned(),
    ];
    assert!(
        codes.contains(&Some(0)),
        "{codes:?}\n{}",
        errs.join("\n---\n")
    );
    let rels: Vec<_> = fake
        .releases()
        .into_iter()
        .filter(|r| r.tag_name == "v1.0.0")
        .collect();
    assert_eq!(rels.len(), 1, "one release, no stray draft: {rels:#?}");
    assert!(!rels[0].draft);
    assert!(!rels[0].body.contains("<!-- rel"), "{}", rels[0].body);
    if codes != [Some(0), Some(0)] {
        let stopped = errs
            .iter()
            .find(|e| e.contains("another rel run"))
            .unwrap_or_else(|| panic!("{codes:?}\n{}", errs.join("\n---\n")));
        assert!(stopped.contains("GitHub run 100"), "{stopped}");
    }
    assert!(fake.violations().is_empty(), "{:?}", fake.violations());

    // A draft another run is filling right now stops a second run before any upload.
    let fake = fake_with_draft();
    let dir = project(&fake, "");
    let before = fake.requests().len();
    let mut c = release_cmd(dir.path(), Some(TOKEN), &[]);
    c.env("GITHUB_RUN_ID", "2002");
    let (code, _, err) = run(c);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("another rel run (GitHub run 2001)")
            && err.contains("before uploading anything"),
        "{err}"
    );
    let after: Vec<String> = fake.requests()[before..].to_vec();
    assert!(
        !after.iter().any(|r| !r.starts_with("GET")),
        "only reads: {after:#?}"
    );
    // The run that made it finishes it, and the marker is gone from the published body.
    let mut c = release_cmd(dir.path(), Some(TOKEN), &[]);
    c.env("GITHUB_RUN_ID", "2001");
    ok(run(c));
    assert_complete(&fake, &assets());
    assert!(!fake.releases()[0].body.contains("<!-- rel"));
}

/// A fake holding a fresh draft for v1.0.0 made by run 2001 (its POST cut off by a fault
/// after the draft was created).
fn fake_with_draft() -> Fake {
    let fake = fake();
    let dir = project(&fake, "");
    fake.fault(Fault::once(
        "GET",
        "/assets?per_page",
        Action::Respond {
            status: 401,
            headers: vec![],
            body: r#"{"message":"Bad credentials"}"#.into(),
        },
    ));
    let mut c = release_cmd(dir.path(), Some(TOKEN), &[]);
    c.env("GITHUB_RUN_ID", "2001");
    let (code, _, err) = run(c);
    assert_eq!(code, 1, "{err}");
    let rels = fake.releases();
    assert_eq!(rels.len(), 1, "{rels:#?}");
    assert!(
        rels[0].draft && rels[0].body.contains("<!-- rel: run 2001"),
        "{rels:#?}"
    );
    fake
}

#[test]
fn a_signal_or_timeout_during_publishing_still_says_what_was_done() {
    let fake = Fake::start(Options {
        latency: Duration::from_millis(700),
        ..Options::default()
    });
    let dir = project(&fake, "");
    let mut c = release_cmd(dir.path(), Some(TOKEN), &[]);
    c.stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let child = c.spawn().unwrap();
    // Wait until assets are arriving: the draft exists and rel knows it.
    let start = Instant::now();
    while fake.releases().first().is_none_or(|r| r.assets.is_empty()) {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "no draft was made"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // SAFETY: sends SIGTERM to the rel process this test started.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGTERM);
    }
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(143), "{err}");
    assert!(
        err.contains("publishing v1.0.0 to acme/demo did not finish")
            && err.contains("The release is still a draft")
            && err.contains("interrupted after"),
        "{err}"
    );
    assert!(!err.contains(TOKEN), "{err}");

    // --timeout: the same summary before stopping.
    let dir = project(&fake, "");
    git(dir.path(), &["tag", "-f", "v1.0.1"]);
    let (code, _, err) = release(dir.path(), &["--timeout", "1s"]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("did not finish") && err.contains("done so far"),
        "{err}"
    );
}

/// `project` with more files committed, and the tag moved onto that commit.
fn project_with(fake: &Fake, release_extra: &str, files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = project(fake, release_extra);
    for (path, text) in files {
        write(dir.path(), path, text);
    }
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-qm", "docs: release text"]);
    git(dir.path(), &["tag", "-f", "v1.0.0"]);
    dir
}

#[test]
fn header_and_footer_frame_the_notes_and_target_and_discussion_are_sent() {
    let fake = fake();
    let dir = project_with(
        &fake,
        "  header: \"## {{ project_name }} {{ version }}\\n\"\n  footer:\n    from_file: {path: \"{{ 'footer' }}.md\"}\n  target_commitish: \"{{ branch }}\"\n  discussion_category_name: Announcements\n",
        &[("footer.md", "Thanks for using {{ tag }}!\n")],
    );
    ok(release(dir.path(), &[]));
    assert_complete(&fake, &assets());
    let r = &fake.releases()[0];
    assert_eq!(
        r.body, "## demo 1.0.0\n\n## Changes\n\n- first release\n\nThanks for using v1.0.0!\n",
        "header, notes, footer, in this order"
    );
    assert_eq!(
        r.target_commitish, "main",
        "release.target_commitish, rendered"
    );
    let p = fake.publications();
    assert_eq!(p.len(), 1, "{p:?}");
    assert_eq!(
        p[0].discussion_category_name.as_deref(),
        Some("Announcements"),
        "the discussion is opened when the release is published"
    );
    // The draft was created without it: GitHub opens discussions of published releases.
    let create = fake
        .requests()
        .into_iter()
        .find(|r| r.starts_with("POST /repos/acme/demo/releases"))
        .unwrap();
    assert!(!create.contains("discussion"), "{create}");
}

#[test]
fn a_header_from_a_url_or_a_missing_file_stops_before_anything_is_built() {
    let fake = fake();
    let dir = project(
        &fake,
        "  header:\n    from_url: {url: \"https://example.com/header.md\"}\n",
    );
    let (code, _, err) = release(dir.path(), &[]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("release.header.from_url")
            && err.contains("from_file")
            && err.contains(":11:5"),
        "{err}"
    );
    let dir = project(&fake, "  footer: {from_file: {path: missing.md}}\n");
    let (code, _, err) = release(dir.path(), &[]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("missing.md"), "{err}");
    assert!(!dir.path().join("dist").exists(), "nothing ran");
    assert!(fake.requests().is_empty(), "{:?}", fake.requests());
}

#[test]
fn skip_upload_publishes_the_notes_without_any_asset() {
    let fake = fake();
    let dir = project(
        &fake,
        "  skip_upload: \"{% if not is_snapshot %}true{% endif %}\"\n",
    );
    ok(release(dir.path(), &[]));
    let rels = fake.releases();
    assert_eq!(rels.len(), 1, "{rels:#?}");
    let r = &rels[0];
    assert!(!r.draft, "published");
    assert!(r.assets.is_empty(), "{:?}", r.assets);
    assert_eq!(r.body, "## Changes\n\n- first release\n");
    assert_eq!(
        r.target_commitish,
        git(dir.path(), &["rev-parse", "HEAD"]),
        "by default, the commit being released"
    );
    assert!(
        !fake.requests().iter().any(|r| r.contains("/assets?name=")),
        "{:#?}",
        fake.requests()
    );
    assert!(fake.violations().is_empty(), "{:?}", fake.violations());
    // The files are still made.
    assert!(dir.path().join("dist/demo_1.0.0_checksums.txt").is_file());
}

#[test]
fn release_disable_takes_a_template() {
    let fake = fake();
    let dir = project(
        &fake,
        "  disable: \"{{ env.REL_TEST_NO_RELEASE | default('false') }}\"\n",
    );
    let mut c = release_cmd(dir.path(), None, &[]);
    c.env("REL_TEST_NO_RELEASE", "true");
    ok(run(c));
    assert!(fake.requests().is_empty(), "{:?}", fake.requests());
    let mut c = release_cmd(dir.path(), None, &[]);
    c.env("REL_TEST_NO_RELEASE", "perhaps");
    let (code, _, err) = run(c);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("release.disable") && err.contains("perhaps"),
        "{err}"
    );
    // Rendering false publishes.
    ok(release(dir.path(), &[]));
    assert_complete(&fake, &assets());
}
