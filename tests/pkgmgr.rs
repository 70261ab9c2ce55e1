//! Homebrew formulas, Scoop and winget manifests and AUR packages written under `dist/`,
//! read back by independent readers: `ruby -c` and a stub that evaluates the formula per
//! platform, the `winget-types` crate and a second YAML parser, Scoop's schema rules, and bash
//! sourcing the PKGBUILD against its `.SRCINFO`.

mod common;
#[path = "support/mod.rs"]
mod support;
use common::*;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use support::fake_github::{Action, Fake, Fault, Options};

const CONFIG: &str = r##"project_name: tool
release:
  github: {owner: acme, name: tool}
builds:
  - builder: command
    targets: [darwin_amd64_v1, darwin_arm64, linux_amd64_v1, linux_arm64, windows_amd64_v1, windows_arm64]
    command: [sh, -c, "echo {{ target }} > {{ output }}"]
archives:
  - formats: [tar.gz]
    format_overrides:
      - {goos: windows, formats: [zip]}
brews:
  - description: "A tool that does \"things\" #1"
    homepage: https://acme.example/tool
    license: MIT
    dependencies: [{name: git}]
    test: |
      system "#{bin}/tool --version"
    repository: {owner: acme, name: homebrew-tap, token: "{{ env.TAP_TOKEN | default('') }}"}
    skip_upload: true
homebrew_casks:
  - name: tool-cask
    description: A tool, as a cask.
    homepage: https://acme.example/tool
    completions: {bash: completions/tool.bash}
    hooks: {pre: {install: "puts 'installing'"}, post: {uninstall: "puts 'removed'"}}
    skip_upload: true
scoops:
  - description: A tool.
    homepage: https://acme.example/tool
    license: MIT
    skip_upload: true
winget:
  - publisher: Acme
    short_description: A tool.
    license: MIT
    homepage: https://acme.example/tool
    tags: [cli]
    license_url: https://acme.example/tool/LICENSE
    publisher_support_url: https://acme.example/support
    publisher_url: "https://acme.example/{{ project_name }}"
    description: "{{ env.REL_TEST_UNSET_DESCRIPTION | default('') }}"
    author: Acme Tools
    release_notes_url: "https://github.com/acme/tool/releases/tag/{{ tag }}"
    skip_upload: true
aurs:
  - description: A tool.
    homepage: https://acme.example/tool
    license: MIT
    maintainers: ["Acme <pkg@acme.example>"]
    skip_upload: true
"##;

fn release(dir: &Path) -> (i32, String, String) {
    let mut c = rel(dir);
    c.args(["release", "--skip", "publish", "--clean"]);
    run(c)
}

/// name → sha256 of the archives in dist/.
fn archives(dir: &Path) -> BTreeMap<String, String> {
    let arts: Vec<Value> =
        serde_json::from_slice(&std::fs::read(dir.join("dist/artifacts.json")).unwrap()).unwrap();
    arts.iter()
        .filter(|a| a["kind"] == "archive")
        .map(|a| {
            (
                a["name"].as_str().unwrap().to_string(),
                a["sha256"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn manifests_read_back_as_each_package_manager_reads_them() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    write(dir, ".release.yaml", CONFIG);
    write(dir, ".gitignore", "dist/\n");
    init_repo(dir);
    git(dir, &["tag", "v1.10.0"]);
    let (code, _, err) = release(dir);
    assert_eq!(code, 0, "{err}");
    let sums = archives(dir);
    let url = |name: &str| format!("https://github.com/acme/tool/releases/download/v1.10.0/{name}");

    // Homebrew: valid Ruby; evaluated per platform it downloads that platform's archive.
    let formula = dir.join("dist/homebrew/Formula/tool.rb");
    let o = Command::new("ruby")
        .arg("-c")
        .arg(&formula)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", output_text(&o));
    let stub = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/formula_stub.rb");
    for (os, cpu, name) in [
        ("macos", "intel", "tool_1.10.0_darwin_amd64.tar.gz"),
        ("macos", "arm", "tool_1.10.0_darwin_arm64.tar.gz"),
        ("linux", "intel", "tool_1.10.0_linux_amd64.tar.gz"),
        ("linux", "arm", "tool_1.10.0_linux_arm64.tar.gz"),
    ] {
        let got = sh(Command::new("ruby")
            .arg(&stub)
            .arg(&formula)
            .arg(os)
            .arg(cpu));
        assert_eq!(
            got.trim(),
            format!("1.10.0 {} {} tool", url(name), sums[name]),
            "{os}/{cpu}"
        );
    }
    let text = std::fs::read_to_string(&formula).unwrap();
    assert!(text.contains("class Tool < Formula"), "{text}");
    assert!(
        text.contains(r##"desc "A tool that does \"things\" \#1""##),
        "{text}"
    );

    // The cask: valid Ruby; per platform the archive of that platform, its binary linked.
    let cask = dir.join("dist/homebrew/Casks/tool-cask.rb");
    let o = Command::new("ruby").arg("-c").arg(&cask).output().unwrap();
    assert!(o.status.success(), "{}", output_text(&o));
    let cask_stub = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/cask_stub.rb");
    for (os, cpu, name) in [
        ("macos", "intel", "tool_1.10.0_darwin_amd64.tar.gz"),
        ("macos", "arm", "tool_1.10.0_darwin_arm64.tar.gz"),
        ("linux", "intel", "tool_1.10.0_linux_amd64.tar.gz"),
        ("linux", "arm", "tool_1.10.0_linux_arm64.tar.gz"),
    ] {
        let got = sh(Command::new("ruby")
            .arg(&cask_stub)
            .arg(&cask)
            .arg(os)
            .arg(cpu));
        assert_eq!(
            got.trim(),
            format!("tool-cask 1.10.0 {} {} tool", url(name), sums[name]),
            "{os}/{cpu}"
        );
    }
    let text = std::fs::read_to_string(&cask).unwrap();
    assert!(
        text.contains("com.apple.quarantine")
            && text.contains("bash_completion \"completions/tool.bash\""),
        "{text}"
    );

    // Golden files: the formula and the cask as they are expected byte for byte
    // (`REL_UPDATE_GOLDEN=1` rewrites them after a deliberate change).
    for (made, golden) in [(&formula, "tool.rb"), (&cask, "tool-cask.rb")] {
        let golden = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/pkgmgr")
            .join(golden);
        let text = std::fs::read_to_string(made).unwrap();
        if std::env::var_os("REL_UPDATE_GOLDEN").is_some() {
            std::fs::create_dir_all(golden.parent().unwrap()).unwrap();
            std::fs::write(&golden, &text).unwrap();
        }
        assert_eq!(
            text,
            std::fs::read_to_string(&golden).unwrap(),
            "{golden:?}"
        );
    }

    // Scoop: the schema's rules for what rel writes.
    let scoop: Value =
        serde_json::from_slice(&std::fs::read(dir.join("dist/scoop/tool.json")).unwrap()).unwrap();
    assert_eq!(scoop["version"], "1.10.0");
    for (key, name) in [
        ("64bit", "tool_1.10.0_windows_amd64.zip"),
        ("arm64", "tool_1.10.0_windows_arm64.zip"),
    ] {
        let a = &scoop["architecture"][key];
        assert_eq!(a["url"], url(name).as_str());
        assert_eq!(a["hash"], sums[name].as_str());
        assert_eq!(a["bin"], serde_json::json!(["tool.exe"]));
        assert!(
            a["hash"]
                .as_str()
                .unwrap()
                .chars()
                .all(|c| c.is_ascii_hexdigit())
                && a["hash"].as_str().unwrap().len() == 64
        );
        assert!(
            scoop["autoupdate"]["architecture"][key]["url"]
                .as_str()
                .unwrap()
                .contains("$version")
        );
    }
    assert!(scoop["architecture"].get("32bit").is_none());
    assert_eq!(scoop["checkver"]["github"], "https://github.com/acme/tool");

    // winget: the three manifests parse as winget's types, and every scalar that must be a
    // string is one for a second YAML reader.
    let folder = dir.join("dist/winget/manifests/a/Acme/tool/1.10.0");
    let read = |f: &str| std::fs::read_to_string(folder.join(f)).unwrap();
    let version = read("Acme.tool.yaml");
    let installer = read("Acme.tool.installer.yaml");
    let locale = read("Acme.tool.locale.en-US.yaml");
    let v: winget_types::version::VersionManifest = serde_saphyr::from_str(&version).unwrap();
    assert_eq!(v.package_version.to_string(), "1.10.0");
    let i: winget_types::installer::InstallerManifest = serde_saphyr::from_str(&installer).unwrap();
    assert_eq!(i.installers.len(), 2);
    let l: winget_types::locale::DefaultLocaleManifest = serde_saphyr::from_str(&locale).unwrap();
    assert_eq!(l.publisher.to_string(), "Acme");
    assert_eq!(
        l.license_url.map(|u| u.to_string()).as_deref(),
        Some("https://acme.example/tool/LICENSE")
    );
    assert_eq!(
        l.publisher_support_url.map(|u| u.to_string()).as_deref(),
        Some("https://acme.example/support")
    );
    assert_eq!(
        l.author.map(|a| a.to_string()).as_deref(),
        Some("Acme Tools")
    );
    // Every field is a template; one that renders blank is left out, not written empty.
    assert_eq!(
        l.publisher_url.map(|u| u.to_string()).as_deref(),
        Some("https://acme.example/tool")
    );
    assert!(!locale.contains("Description: \"\""), "{locale}");
    assert_eq!(
        l.release_notes_url.map(|u| u.to_string()).as_deref(),
        Some("https://github.com/acme/tool/releases/tag/v1.10.0")
    );
    for text in [&version, &installer, &locale] {
        let j: Value = serde_saphyr::from_str(text).unwrap();
        assert_eq!(j["PackageVersion"], "1.10.0", "{text}");
        assert!(j["ManifestVersion"].is_string(), "{text}");
    }
    let j: Value = serde_saphyr::from_str(&installer).unwrap();
    let x64 = j["Installers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["Architecture"] == "x64")
        .unwrap();
    assert_eq!(
        x64["InstallerUrl"],
        url("tool_1.10.0_windows_amd64.zip").as_str()
    );
    assert_eq!(
        x64["InstallerSha256"],
        sums["tool_1.10.0_windows_amd64.zip"]
            .to_uppercase()
            .as_str()
    );
    assert_eq!(x64["NestedInstallerType"], "portable");
    assert_eq!(
        x64["NestedInstallerFiles"][0]["RelativeFilePath"],
        "tool.exe"
    );

    // AUR: bash reads the PKGBUILD; what it sets is what .SRCINFO says.
    let aur = dir.join("dist/aur/tool-bin");
    let o = Command::new("bash")
        .arg("-n")
        .arg(aur.join("PKGBUILD"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", output_text(&o));
    let vars = sh(Command::new("bash").arg("-c").arg(
        "source ./PKGBUILD; echo \"$pkgname|$pkgver|$pkgrel|${arch[*]}|${source_x86_64[*]}|${sha256sums_x86_64[*]}|${sha256sums_aarch64[*]}\"",
    ).current_dir(&aur));
    let srcinfo = std::fs::read_to_string(aur.join(".SRCINFO")).unwrap();
    let field = |k: &str| -> Vec<String> {
        srcinfo
            .lines()
            .filter_map(|l| l.trim().strip_prefix(&format!("{k} = ")).map(String::from))
            .collect()
    };
    let expect = format!(
        "{}|{}|{}|{}|{}|{}|{}",
        field("pkgname")[0],
        field("pkgver")[0],
        field("pkgrel")[0],
        field("arch").join(" "),
        field("source_x86_64")[0],
        field("sha256sums_x86_64")[0],
        field("sha256sums_aarch64")[0],
    );
    assert_eq!(vars.trim(), expect);
    assert_eq!(
        field("sha256sums_x86_64")[0],
        sums["tool_1.10.0_linux_amd64.tar.gz"]
    );
    assert!(field("source_x86_64")[0].ends_with(&url("tool_1.10.0_linux_amd64.tar.gz")));

    // The same bytes again from a second run.
    let before: Vec<Vec<u8>> = [
        formula.clone(),
        dir.join("dist/scoop/tool.json"),
        aur.join("PKGBUILD"),
        folder.join("Acme.tool.installer.yaml"),
    ]
    .iter()
    .map(|p| std::fs::read(p).unwrap())
    .collect();
    let (code, _, err) = release(dir);
    assert_eq!(code, 0, "{err}");
    for (p, b) in [
        formula,
        dir.join("dist/scoop/tool.json"),
        aur.join("PKGBUILD"),
        folder.join("Acme.tool.installer.yaml"),
    ]
    .iter()
    .zip(before)
    {
        assert_eq!(std::fs::read(p).unwrap(), b, "{p:?}");
    }
}

fn tap_config(fake: &Fake) -> String {
    format!(
        r#"project_name: tool
release:
  github: {{owner: acme, name: demo}}
  github_urls: {{api: "{}", uploads: "{}"}}
builds:
  - builder: command
    targets: [darwin_amd64_v1, darwin_arm64, linux_amd64_v1, windows_amd64_v1]
    command: [sh, -c, "touch built; echo {{{{ target }}}} > {{{{ output }}}}"]
archives:
  - formats: [tar.gz]
    format_overrides:
      - {{goos: windows, formats: [zip]}}
brews:
  - description: A tool.
    repository: {{owner: acme, name: homebrew-tap, token: "{{{{ env.TAP_TOKEN }}}}"}}
homebrew_casks:
  - name: tool-app
    description: A tool.
    repository: {{owner: acme, name: homebrew-tap, token: "{{{{ env.TAP_TOKEN }}}}"}}
scoops:
  - description: A tool.
    repository: {{owner: acme, name: scoop-bucket, token: "{{{{ env.TAP_TOKEN }}}}"}}
"#,
        fake.api(),
        fake.uploads()
    )
}

fn tap_release(dir: &Path) -> (i32, String, String) {
    let mut c = rel(dir);
    c.args(["release", "--clean"])
        .env("GITHUB_TOKEN", "fake-token")
        .env("TAP_TOKEN", "tap-token");
    run(c)
}

#[test]
fn formulas_and_scoop_manifests_are_committed_once_and_read_back() {
    let fake = Fake::start(Options::default());
    fake.add_tap("acme/homebrew-tap", "tap-token", true);
    fake.add_tap("acme/scoop-bucket", "tap-token", true);
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    write(dir, ".release.yaml", &tap_config(&fake));
    write(dir, ".gitignore", "dist/\nbuilt\n");
    init_repo(dir);
    git(dir, &["tag", "v1.0.0"]);
    // The dry run names each commit it would make, and makes none.
    let mut c = rel(dir);
    c.args(["release", "--dry-run"])
        .env("GITHUB_TOKEN", "fake-token")
        .env("TAP_TOKEN", "tap-token");
    let (code, out, err) = run(c);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("would commit Formula/tool.rb to acme/homebrew-tap (brews[0])")
            && out.contains("would commit tool.json to acme/scoop-bucket (scoops[0])"),
        "{out}"
    );
    assert!(fake.tap("acme/homebrew-tap").commits.is_empty());
    // The tap still has the formula of a tool that is now a cask.
    fake.tap_write(
        "acme/homebrew-tap",
        "Formula/tool-app.rb",
        b"class ToolApp < Formula\nend\n",
    );
    let (code, _, err) = tap_release(dir);
    assert_eq!(code, 0, "{err}");
    let tap = fake.tap("acme/homebrew-tap");
    let migrations: Value = serde_json::from_slice(&tap.files["tap_migrations.json"]).unwrap();
    assert_eq!(migrations, serde_json::json!({"tool-app": "tool-app"}));
    assert!(tap.files.contains_key("Casks/tool-app.rb"));
    assert_eq!(
        tap.files["Formula/tool.rb"],
        std::fs::read(dir.join("dist/homebrew/Formula/tool.rb")).unwrap()
    );
    assert_eq!(
        tap.commits,
        [
            "someone else",
            "Brew formula update for tool version v1.0.0",
            "Brew cask update for tool version v1.0.0",
            "Migrate tool-app from a formula to a cask"
        ]
    );
    let bucket = fake.tap("acme/scoop-bucket");
    assert_eq!(
        bucket.files["tool.json"],
        std::fs::read(dir.join("dist/scoop/tool.json")).unwrap()
    );
    let formula = String::from_utf8(tap.files["Formula/tool.rb"].clone()).unwrap();
    assert!(
        formula.contains(&format!(
            "{}/acme/demo/releases/download/v1.0.0/tool_1.0.0_darwin_arm64.tar.gz",
            "https://github.com"
        )),
        "{formula}"
    );

    // A re-run commits nothing new: the files already hold the release.
    let (code, _, err) = tap_release(dir);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("already up to date"), "{err}");
    assert_eq!(fake.tap("acme/homebrew-tap").commits.len(), 4);

    // A tap commit that fails after the release is published: exit 1; the re-run finishes
    // with the one missing commit.
    fake.tap_write("acme/scoop-bucket", "tool.json", b"{}\n");
    fake.fault(Fault::once(
        "PUT",
        "/repos/acme/scoop-bucket/contents/",
        Action::Respond {
            status: 403,
            headers: vec![],
            body: r#"{"message":"Resource not accessible by integration"}"#.into(),
        },
    ));
    let (code, _, err) = tap_release(dir);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("scoops[0]") && err.contains("acme/scoop-bucket"),
        "{err}"
    );
    assert!(
        err.contains("manifests already committed: acme/homebrew-tap (Formula/tool.rb)")
            && err.contains("nothing is committed twice"),
        "{err}"
    );
    let (code, _, err) = tap_release(dir);
    assert_eq!(code, 0, "{err}");
    assert_eq!(fake.tap("acme/scoop-bucket").commits.len(), 3);
    assert_eq!(fake.tap("acme/homebrew-tap").commits.len(), 4);

    // Someone else changed the formula meanwhile: it is read again and replaced.
    fake.tap_write(
        "acme/homebrew-tap",
        "Formula/tool.rb",
        b"# edited by hand\n",
    );
    let (code, _, err) = tap_release(dir);
    assert_eq!(code, 0, "{err}");
    let tap = fake.tap("acme/homebrew-tap");
    assert_eq!(tap.commits.len(), 6, "{:?}", tap.commits);
    assert_eq!(
        tap.files["Formula/tool.rb"],
        std::fs::read(dir.join("dist/homebrew/Formula/tool.rb")).unwrap()
    );
    assert!(fake.violations().is_empty(), "{:?}", fake.violations());
}

#[test]
fn a_read_only_tap_token_stops_the_release_before_any_build() {
    let fake = Fake::start(Options::default());
    fake.add_tap("acme/homebrew-tap", "tap-token", false);
    fake.add_tap("acme/scoop-bucket", "tap-token", true);
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    write(dir, ".release.yaml", &tap_config(&fake));
    write(dir, ".gitignore", "dist/\nbuilt\n");
    init_repo(dir);
    git(dir, &["tag", "v1.0.0"]);
    let (code, _, err) = tap_release(dir);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("`brews[0]`")
            && err.contains("brews[0].repository.token")
            && err.contains("acme/homebrew-tap"),
        "{err}"
    );
    assert!(!err.contains("tap-token"), "the token is printed: {err}");
    assert!(!dir.join("built").exists(), "something was built");
    assert!(fake.tap("acme/homebrew-tap").commits.is_empty());
}

#[test]
fn aur_packages_are_pushed_over_git_once() {
    let fake = Fake::start(Options::default());
    let d = tempfile::tempdir().unwrap();
    let remote = d.path().join("aur.git");
    sh(Command::new("git")
        .args(["init", "-q", "--bare", "-b", "master"])
        .arg(&remote));
    let tap = d.path().join("tap.git");
    sh(Command::new("git")
        .args(["init", "-q", "--bare", "-b", "main"])
        .arg(&tap));
    let winget = d.path().join("winget.git");
    sh(Command::new("git")
        .args(["init", "-q", "--bare", "-b", "main"])
        .arg(&winget));
    let dir = d.path().join("p");
    std::fs::create_dir_all(&dir).unwrap();
    let cfg = tap_config(&fake)
        .replace("brews:\n  - description: A tool.\n    repository: {owner: acme, name: homebrew-tap, token: \"{{ env.TAP_TOKEN }}\"}\n", "")
        .replace("scoops:\n  - description: A tool.\n    repository: {owner: acme, name: scoop-bucket, token: \"{{ env.TAP_TOKEN }}\"}\n", "")
        .replace("homebrew_casks:\n  - name: tool-app\n    description: A tool.\n    repository: {owner: acme, name: homebrew-tap, token: \"{{ env.TAP_TOKEN }}\"}\n", "")
        + &format!("aurs:\n  - description: A tool.\n    git_url: \"file://{}\"\nbrews:\n  - description: A tool.\n    repository:\n      git: {{url: \"file://{}\"}}\nwinget:\n  - publisher: Acme\n    short_description: A tool.\n    license: MIT\n    repository:\n      git: {{url: \"file://{}\"}}\n", remote.display(), tap.display(), winget.display());
    write(&dir, ".release.yaml", &cfg);
    write(&dir, ".gitignore", "dist/\nbuilt\n");
    init_repo(&dir);
    git(&dir, &["tag", "v1.0.0"]);
    let (code, _, err) = tap_release(&dir);
    assert_eq!(code, 0, "{err}");
    let show = |f: &str| {
        sh(Command::new("git")
            .arg("--git-dir")
            .arg(&remote)
            .args(["show", &format!("master:{f}")]))
    };
    assert_eq!(
        show("PKGBUILD"),
        std::fs::read_to_string(dir.join("dist/aur/tool-bin/PKGBUILD")).unwrap()
    );
    assert_eq!(
        show(".SRCINFO"),
        std::fs::read_to_string(dir.join("dist/aur/tool-bin/.SRCINFO")).unwrap()
    );
    let count = || {
        sh(Command::new("git")
            .arg("--git-dir")
            .arg(&remote)
            .args(["rev-list", "--count", "master"]))
    };
    assert_eq!(count().trim(), "1");
    // The formula went to the tap's main branch over git.
    let formula = sh(Command::new("git")
        .arg("--git-dir")
        .arg(&tap)
        .args(["show", "main:Formula/tool.rb"]));
    assert_eq!(
        formula,
        std::fs::read_to_string(dir.join("dist/homebrew/Formula/tool.rb")).unwrap()
    );
    // The winget manifests went over git too, in one commit on the package version's own
    // branch, as they do through the API.
    let folder = "manifests/a/Acme/tool/1.0.0";
    for f in [
        "Acme.tool.yaml",
        "Acme.tool.installer.yaml",
        "Acme.tool.locale.en-US.yaml",
    ] {
        let text = sh(Command::new("git")
            .arg("--git-dir")
            .arg(&winget)
            .args(["show", &format!("Acme.tool-1.0.0:{folder}/{f}")]));
        assert_eq!(
            text,
            std::fs::read_to_string(dir.join(format!("dist/winget/{folder}/{f}"))).unwrap(),
            "{f}"
        );
    }
    let winget_commits = || {
        sh(Command::new("git").arg("--git-dir").arg(&winget).args([
            "rev-list",
            "--count",
            "Acme.tool-1.0.0",
        ]))
    };
    assert_eq!(winget_commits().trim(), "1");
    // `rel verify` reads each file back from where the release put it.
    let (code, out, err) = run({
        let mut c = rel(&dir);
        c.arg("verify")
            .env("GITHUB_TOKEN", "fake-token")
            .env("TAP_TOKEN", "tap-token");
        c
    });
    assert_eq!(code, 0, "{out}\n{err}");
    for f in [
        "Formula/tool.rb in file://",
        "PKGBUILD in file://",
        &format!("{folder}/Acme.tool.installer.yaml in file://"),
    ] {
        assert!(out.contains(&format!("ok    manifest  {f}")), "{f}: {out}");
    }
    assert!(out.contains("(Acme.tool-1.0.0): winget[0]"), "{out}");
    // A re-run pushes nothing new.
    let (code, _, err) = tap_release(&dir);
    assert_eq!(code, 0, "{err}");
    assert_eq!(count().trim(), "1");
    assert_eq!(winget_commits().trim(), "1");
    // An unreachable remote stops the release before any build.
    std::fs::remove_file(dir.join("built")).ok();
    let gone = cfg.replace(
        &remote.display().to_string(),
        &d.path().join("missing.git").display().to_string(),
    );
    write(&dir, ".release.yaml", &gone);
    git(&dir, &["commit", "-qam", "chore: move the remote"]);
    git(&dir, &["tag", "v1.0.1"]);
    let (code, _, err) = tap_release(&dir);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("aurs[0].git_url") && err.contains("reachable"),
        "{err}"
    );
    assert!(!dir.join("built").exists(), "something was built");
}

#[test]
fn winget_manifests_go_to_a_fork_branch_with_one_pull_request() {
    let fake = Fake::start(Options::default());
    fake.add_tap("me/winget-pkgs", "tap-token", true);
    fake.add_tap("microsoft/winget-pkgs", "tap-token", false);
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    let cfg = tap_config(&fake)
        .replace("brews:\n  - description: A tool.\n    repository: {owner: acme, name: homebrew-tap, token: \"{{ env.TAP_TOKEN }}\"}\n", "")
        .replace("scoops:\n  - description: A tool.\n    repository: {owner: acme, name: scoop-bucket, token: \"{{ env.TAP_TOKEN }}\"}\n", "")
        .replace("homebrew_casks:\n  - name: tool-app\n    description: A tool.\n    repository: {owner: acme, name: homebrew-tap, token: \"{{ env.TAP_TOKEN }}\"}\n", "")
        + "winget:\n  - publisher: Acme\n    short_description: A tool.\n    license: MIT\n    repository:\n      owner: me\n      name: winget-pkgs\n      token: \"{{ env.TAP_TOKEN }}\"\n      pull_request: {enabled: true, check_boxes: true, body: \"cc @acme for {{ version }}\", base: {owner: microsoft, name: winget-pkgs, branch: master}}\n";
    write(dir, ".release.yaml", &cfg);
    write(dir, ".gitignore", "dist/\nbuilt\n");
    init_repo(dir);
    git(dir, &["tag", "v1.0.0"]);
    // A snapshot writes the manifests and commits nothing.
    let mut c = rel(dir);
    c.args(["release", "--snapshot", "--clean"]);
    let (code, _, err) = run(c);
    assert_eq!(code, 0, "{err}");
    assert!(fake.tap("me/winget-pkgs").commits.is_empty());

    // The base repository's pull request template, appended with its boxes ticked.
    fake.tap_write(
        "microsoft/winget-pkgs",
        "master:.github/PULL_REQUEST_TEMPLATE.md",
        b"Checklist:\n- [ ] Have you signed the CLA?\n  * [ ] Is the manifest valid?\n- [x] Done already\n",
    );
    let (code, _, err) = tap_release(dir);
    assert_eq!(code, 0, "{err}");
    let fork = fake.tap("me/winget-pkgs");
    assert_eq!(fork.branches, ["Acme.tool-1.0.0"]);
    let folder = "manifests/a/Acme/tool/1.0.0";
    for f in [
        "Acme.tool.yaml",
        "Acme.tool.installer.yaml",
        "Acme.tool.locale.en-US.yaml",
    ] {
        assert_eq!(
            fork.files[&format!("Acme.tool-1.0.0:{folder}/{f}")],
            std::fs::read(dir.join(format!("dist/winget/{folder}/{f}"))).unwrap(),
            "{f}"
        );
    }
    assert_eq!(fork.commits.len(), 3, "{:?}", fork.commits);
    let base = fake.tap("microsoft/winget-pkgs");
    assert_eq!(base.pulls.len(), 1);
    assert_eq!(base.pulls[0]["head"]["label"], "me:Acme.tool-1.0.0");
    assert_eq!(base.pulls[0]["base"]["ref"], "master");
    assert_eq!(base.pulls[0]["title"], "New version: tool 1.0.0");
    assert_eq!(
        base.pulls[0]["body"],
        "cc @acme for 1.0.0\n\nChecklist:\n- [x] Have you signed the CLA?\n  * [x] Is the manifest valid?\n- [x] Done already\n"
    );

    // A re-run finds the branch, the files and the pull request: nothing new.
    let (code, _, err) = tap_release(dir);
    assert_eq!(code, 0, "{err}");
    assert_eq!(fake.tap("me/winget-pkgs").commits.len(), 3);
    assert_eq!(fake.tap("microsoft/winget-pkgs").pulls.len(), 1);
    assert!(fake.violations().is_empty(), "{:?}", fake.violations());
}
