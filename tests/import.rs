//! `rel import`: GoReleaser configs in the style of real projects' (v2, v1 spellings, includes
//! and variables) become `.release.yaml` files that pass `rel check`, whose dry run names every
//! archive, package and checksum file as GoReleaser would for the same commit (derived by hand
//! below), and whose report lists exactly the keys dropped.

mod common;
use common::*;
use std::path::Path;

/// A Go project in `dir` with the fixture's files, committed and tagged v1.0.0.
fn project(dir: &Path, fixture: &str, main_dir: &str) {
    let from = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/import")
        .join(fixture);
    copy_tree(&from, dir);
    write(dir, "go.mod", "module example.com/tool\n\ngo 1.21\n");
    write(
        dir,
        &format!("{main_dir}/main.go"),
        "package main\n\nimport \"fmt\"\n\nvar version = \"dev\"\n\nfunc main() { fmt.Println(version) }\n",
    );
    write(dir, ".gitignore", "dist/\n");
    write(dir, "README.md", "# tool\n");
    write(dir, "LICENSE", "MIT\n");
    init_repo(dir);
    git(dir, &["tag", "v1.0.0"]);
}

fn copy_tree(from: &Path, to: &Path) {
    for e in walkdir::WalkDir::new(from) {
        let e = e.unwrap();
        let rel = e.path().strip_prefix(from).unwrap();
        let dst = to.join(rel);
        if e.file_type().is_dir() {
            std::fs::create_dir_all(&dst).unwrap();
        } else {
            std::fs::copy(e.path(), &dst).unwrap();
        }
    }
}

/// An empty Go module `module` in `dir`, committed with what is there and tagged v1.0.0.
fn tagged_module(dir: &Path, module: &str) {
    write(dir, "go.mod", &format!("module {module}\n\ngo 1.21\n"));
    write(dir, "main.go", "package main\n\nfunc main() {}\n");
    write(dir, ".gitignore", "dist/\n");
    init_repo(dir);
    git(dir, &["tag", "v1.0.0"]);
}

fn rel_cmd(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let mut c = rel(dir);
    c.args(args);
    run(c)
}

/// The keys the report says were dropped.
fn dropped(report: &str) -> Vec<String> {
    let mut v: Vec<String> = report
        .lines()
        .filter_map(|l| l.split_once(": dropped `"))
        .map(|(_, rest)| rest.split('`').next().unwrap().to_string())
        .collect();
    v.sort();
    v
}

/// The file names under a `<heading> (N):` section of the dry run, `dist/` stripped.
fn section(out: &str, heading: &str) -> Vec<String> {
    let mut names: Vec<String> = out
        .lines()
        .skip_while(|l| !l.starts_with(&format!("{heading} (")))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .map(|l| {
            l.trim()
                .split(' ')
                .next()
                .unwrap()
                .trim_start_matches("dist/")
                .to_string()
        })
        .collect();
    names.sort();
    names
}

fn checksum_name(out: &str) -> String {
    out.lines()
        .find_map(|l| l.strip_prefix("checksum: dist/"))
        .map(|l| l.split(' ').next().unwrap().to_string())
        .unwrap_or_default()
}

fn sorted(v: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = v.iter().map(|s| s.to_string()).collect();
    v.sort();
    v
}

/// Import, check, and dry-run a snapshot: (report, dry-run output).
fn import_and_plan(dir: &Path) -> (String, String) {
    let (code, out, report) = rel_cmd(dir, &["import"]);
    assert_eq!(code, 0, "{out}{report}");
    let written = std::fs::read_to_string(dir.join(".release.yaml")).unwrap();
    let (code, out, err) = rel_cmd(dir, &["check"]);
    assert_eq!(code, 0, "{written}\n{out}{err}");
    let (code, out, err) = rel_cmd(dir, &["release", "--snapshot", "--dry-run"]);
    assert_eq!(code, 0, "{written}\n{out}{err}");
    (report, out)
}

#[test]
fn a_v2_config_imports_to_the_names_goreleaser_makes() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path();
    project(dir, "v2-cli", "cmd/tool");
    let (report, out) = import_and_plan(dir);
    assert_eq!(dropped(&report), ["announce"], "{report}");
    assert!(
        report.contains(".goreleaser.yaml:") && report.contains("dropped `announce`"),
        "{report}"
    );
    // `title .Os`, the uname-style arch, zip for windows; the snapshot version is not in the
    // archive names here.
    assert_eq!(
        section(&out, "archives"),
        sorted(&[
            "tool_Darwin_arm64.tar.gz",
            "tool_Darwin_x86_64.tar.gz",
            "tool_Linux_arm64.tar.gz",
            "tool_Linux_x86_64.tar.gz",
            "tool_Windows_arm64.zip",
            "tool_Windows_x86_64.zip",
        ]),
        "{out}"
    );
    // GoReleaser's default package names with `incpatch .Version`-next.
    assert_eq!(
        section(&out, "packages"),
        sorted(&[
            "tool_1.0.1-next_linux_amd64.deb",
            "tool_1.0.1-next_linux_arm64.deb",
            "tool_1.0.1-next_linux_amd64.rpm",
            "tool_1.0.1-next_linux_arm64.rpm",
        ]),
        "{out}"
    );
    assert_eq!(checksum_name(&out), "checksums.txt", "{out}");
    // The written config says where it came from and keeps GoReleaser's defaults.
    let written = std::fs::read_to_string(dir.join(".release.yaml")).unwrap();
    assert!(
        written.starts_with("# Imported from .goreleaser.yaml"),
        "{written}"
    );
    assert!(written.contains("prerelease: false"), "{written}");
    assert!(written.contains("binary: tool"), "{written}");

    // The same config works in memory, its differences as warnings.
    std::fs::remove_file(dir.join(".release.yaml")).unwrap();
    let (code, check_out, err) = rel_cmd(dir, &["check"]);
    assert_eq!(code, 2, "{check_out}{err}");
    assert!(
        err.contains(".goreleaser.yaml is there") && err.contains("rel import"),
        "{err}"
    );
    let (code, check_out, err) = rel_cmd(dir, &["check", "--config", ".goreleaser.yaml"]);
    assert_eq!(code, 0, "{check_out}{err}");
    assert!(err.contains("dropped `announce`"), "{err}");
    let (code, out2, err) = rel_cmd(
        dir,
        &[
            "release",
            "--snapshot",
            "--dry-run",
            "--config",
            ".goreleaser.yaml",
        ],
    );
    assert_eq!(code, 0, "{out2}{err}");
    assert_eq!(section(&out2, "archives"), section(&out, "archives"));
}

#[test]
fn v1_spellings_import_and_keep_their_meaning() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path();
    project(dir, "v1-legacy", ".");
    let (report, out) = import_and_plan(dir);
    assert!(dropped(&report).is_empty(), "{report}");
    // `replacements` renamed os and arch inside the name; `format` became `formats`.
    assert_eq!(
        section(&out, "archives"),
        sorted(&[
            "legacy_1.0.0-next_Linux_x86_64.tar.gz",
            "legacy_1.0.0-next_Linux_armv7.tar.gz",
            "legacy_1.0.0-next_Windows_x86_64.zip",
        ]),
        "{out}"
    );
    assert_eq!(checksum_name(&out), "legacy_1.0.0-next_SHA256SUMS", "{out}");
    let written = std::fs::read_to_string(dir.join(".release.yaml")).unwrap();
    // `tags` became a build flag, the hook object a command line, `tap` the repository,
    // `changelog.skip` `disable`.
    assert!(written.contains("-tags=netgo,osusergo"), "{written}");
    assert!(written.contains("- \"go mod download\""), "{written}");
    assert!(
        written.contains("repository:\n      owner: acme"),
        "{written}"
    );
    assert!(written.contains("disable: true"), "{written}");
    assert!(
        written.contains("milestones:\n  - close: true"),
        "{written}"
    );
    assert!(
        report.contains("approximated `before.hooks[0].output`"),
        "{report}"
    );
}

#[test]
fn includes_and_variables_are_resolved_and_a_url_include_is_reported() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path();
    project(dir, "includes", ".");
    let (report, out) = import_and_plan(dir);
    assert_eq!(dropped(&report), ["includes[1]"], "{report}");
    assert!(
        report.contains("cannot fetch http://127.0.0.1:9/goreleaser/base.yaml"),
        "{report}"
    );
    let short = git(dir, &["rev-parse", "--short=7", "HEAD"]);
    let v = format!("1.0.0-SNAPSHOT-{short}");
    // The builds came from the included file; trim markers and `eq` with two values.
    assert_eq!(
        section(&out, "archives"),
        sorted(&[
            &format!("inc-{v}-dev-linux-amd64-64bit.zip"),
            &format!("inc-{v}-dev-linux-arm64-64bit.zip"),
        ]),
        "{out}"
    );
    assert_eq!(
        section(&out, "packages"),
        sorted(&[
            &format!("acme-inc_{v}_linux_amd64.deb"),
            &format!("acme-inc_{v}_linux_arm64.deb"),
        ]),
        "{out}"
    );
    assert_eq!(
        checksum_name(&out),
        format!("inc_{v}_checksums.txt"),
        "{out}"
    );
}

#[test]
fn import_refuses_to_overwrite_and_writes_to_stdout() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path();
    project(dir, "v2-cli", "cmd/tool");
    write(dir, ".release.yaml", "project_name: mine\n");
    let (code, _, err) = rel_cmd(dir, &["import"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--force"), "{err}");
    assert_eq!(
        std::fs::read_to_string(dir.join(".release.yaml")).unwrap(),
        "project_name: mine\n"
    );
    let (code, out, err) = rel_cmd(dir, &["import", "-o", "-"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("project_name: tool"), "{out}");
    assert!(err.contains("1 dropped"), "{err}");
}

#[test]
fn a_full_v2_config_keeps_every_section_rel_has() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path();
    project(dir, "v2-full", "cmd/fleet");
    let (report, out) = import_and_plan(dir);
    assert_eq!(dropped(&report), ["announce"], "{report}");
    // Hook `output`, a glob that matches nothing, and the draft rules differ.
    for key in [
        "builds[0].hooks.post[0].output",
        "archives[2].files[0]",
        "release.replace_existing_draft",
    ] {
        assert!(
            report.contains(&format!("approximated `{key}`")),
            "{key}: {report}"
        );
    }
    let v = "1.0.0-devel";
    assert_eq!(
        section(&out, "archives"),
        sorted(&[
            &format!("fleet_{v}_macOS_universal.tar.gz"),
            &format!("fleet_{v}_linux_amd64.tar.gz"),
            &format!("fleet_{v}_linux_arm64.tar.gz"),
            &format!("fleet_{v}_linux_armv7,hardfloat.tar.gz"),
            &format!("fleet_{v}_linux_mipsle_hardfloat.tar.gz"),
            "fleetctl-linux-amd64",
            &format!("fleet_{v}_linux_amd64.gz"),
        ]),
        "{out}"
    );
    // GoReleaser's default package names, `_hardfloat` for mips; only the `fleet` build.
    let mut want = vec![];
    for t in ["amd64", "arm64", "armv7,hardfloat", "mipsle_hardfloat"] {
        for ext in ["deb", "rpm", "pkg.tar.zst"] {
            want.push(format!("fleet_{v}_linux_{t}.{ext}"));
        }
    }
    let want: Vec<&str> = want.iter().map(String::as_str).collect();
    assert_eq!(section(&out, "packages"), sorted(&want), "{out}");
    assert_eq!(
        section(&out, "source archives"),
        [format!("fleet-{v}-source.tar.gz")],
        "{out}"
    );
    assert_eq!(
        checksum_name(&out),
        format!("fleet_{v}_checksums.txt"),
        "{out}"
    );
    assert_eq!(
        section(&out, "signatures"),
        [format!("fleet_{v}_checksums.txt.sig")],
        "{out}"
    );
    assert!(
        out.contains("fleet linux_mipsle_hardfloat -> dist/fleet_linux_mipsle_hardfloat/fleet"),
        "{out}"
    );
    assert!(
        out.contains("fleetctl linux_amd64_v1 -> dist/fleetctl_linux_amd64\n"),
        "{out}"
    );
    let written = std::fs::read_to_string(dir.join(".release.yaml")).unwrap();
    for want in [
        "gomod:\n  proxy: true",
        "gomips:\n      - hardfloat",
        "\"7,hardfloat\"",
        "\"echo built {{ output }}\"",
        "format: \"{{ short_sha }}: {{ subject }} ({% if author.login %}@{{ author.login }}{% else %}{{ author.name }}{% endif %})\"",
        "## Fleet {{ tag }} ({{ date }})",
        "\"-tags=osusergo,netgo\"",
        "no_unique_dist_dir: true",
        "use: github",
        "builds_info:",
        "mtime: \"{{ commit_date }}\"",
    ] {
        assert!(written.contains(want), "{want}:\n{written}");
    }
}

#[test]
fn yaml_words_keep_the_type_goreleaser_reads_them_as() {
    // Go's yaml.v3 reads `y`, `on` and `no` as strings, and as booleans only where a field
    // takes one: a project named `y` is not a project named `true`.
    let t = tempfile::tempdir().unwrap();
    let dir = t.path();
    write(
        dir,
        ".goreleaser.yaml",
        "version: 2\nproject_name: y\nbuilds:\n  - id: on\n    binary: n\n    goos: [linux]\n    goarch: [amd64]\narchives:\n  - ids: [on]\n    files: [LICENSE]\nrelease:\n  draft: yes\n",
    );
    write(dir, "LICENSE", "MIT\n");
    tagged_module(dir, "example.com/y");
    let (report, out) = import_and_plan(dir);
    let written = std::fs::read_to_string(dir.join(".release.yaml")).unwrap();
    for line in [
        "project_name: \"y\"",
        "  - id: \"on\"",
        "    binary: \"n\"",
        "  draft: true",
    ] {
        assert!(
            written.contains(line),
            "no `{line}` in:\n{written}\n{report}"
        );
    }
    let archives = section(&out, "archives");
    assert!(
        archives.len() == 1
            && archives[0].starts_with("y_")
            && archives[0].ends_with("_linux_amd64.tar.gz"),
        "{out}"
    );
}

#[test]
fn keys_for_what_rel_always_does_are_approximated_not_dropped() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path();
    write(
        dir,
        ".goreleaser.yaml",
        "version: 2\nproject_name: tool\nbuilds:\n  - goos: [linux]\n    goarch: [amd64]\narchives:\n  - allow_different_binary_count: true\nsigns:\n  - artifacts: checksum\n    output: \"{{ not (isEnvSet \\\"CI\\\") }}\"\ndockers:\n  - image_templates: [\"acme/tool:{{ .Tag }}\"]\n    use_buildx: true\n    binaries: [tool]\nnfpms:\n  - mtime: \"{{ .CommitDate }}\"\nhomebrew_casks:\n  - license: MIT\n",
    );
    let (code, out, report) = rel_cmd(dir, &["import", "-o", "-"]);
    assert_eq!(code, 0, "{report}");
    assert!(dropped(&report).is_empty(), "{report}");
    for (at, key) in [
        (":7:35:", "archives[0].allow_different_binary_count"),
        (":13:17:", "dockers[0].use_buildx"),
        (":14:5:", "dockers[0].binaries"),
        (":16:12:", "nfpms[0].mtime"),
        (":18:14:", "homebrew_casks[0].license"),
    ] {
        assert!(
            report.contains(&format!("{at} approximated `{key}`: rel ")),
            "{key}: {report}"
        );
        let last = key.rsplit('.').next().unwrap();
        assert!(!out.contains(last), "{last} in {out}");
    }
    // rel has `output` for signing commands, templated as in GoReleaser: it is mapped.
    assert!(!report.contains("`signs[0].output`"), "{report}");
    assert!(
        out.contains("output: \"{{ \\\"true\\\" if not env_or("),
        "{out}"
    );
}

/// Serve `body` at `path` on loopback to requests that carry `header`; (port, requests
/// seen).
fn serve_once(
    path: &'static str,
    header: &'static str,
    body: &'static str,
) -> (u16, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(vec![]));
    let log = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut head = String::new();
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                head.push_str(&line);
            }
            log.lock().unwrap().push(head.clone());
            let ok = head.starts_with(&format!("GET {path} "))
                && head
                    .to_ascii_lowercase()
                    .contains(&header.to_ascii_lowercase());
            let (status, text) = if ok {
                ("200 OK", body)
            } else {
                ("404 Not Found", "")
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{text}",
                text.len()
            );
        }
    });
    (port, seen)
}

#[test]
fn a_url_include_is_fetched_with_its_headers_and_merged() {
    let (port, seen) = serve_once(
        "/meta/base.yaml",
        "x-token: s3cret-value",
        "milestones:\n  - close: true\n    name_template: \"{{ .ProjectName }} {{ .Version }}\"\nproject_name: from-include\n",
    );
    let t = tempfile::tempdir().unwrap();
    let dir = t.path();
    project(dir, "v2-cli", "cmd/tool");
    let cfg = std::fs::read_to_string(dir.join(".goreleaser.yaml")).unwrap();
    let cfg = cfg.replacen(
        "version: 2\n",
        &format!(
            "version: 2\nincludes:\n  - from_url:\n      url: http://127.0.0.1:{port}/meta/base.yaml\n      headers:\n        x-token: \"${{REL_TEST_INCLUDE_TOKEN}}\"\n"
        ),
        1,
    );
    assert!(cfg.contains("from_url"), "{cfg}");
    write(dir, ".goreleaser.yaml", &cfg);
    git(dir, &["commit", "-qam", "chore: include"]);
    // Imported in memory, the URL is not fetched: the run says how to get it.
    let (code, out, err) = rel_cmd(dir, &["check", "--config", ".goreleaser.yaml"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        err.contains("is not fetched on every run: `rel import` downloads it once"),
        "{err}"
    );
    assert!(seen.lock().unwrap().is_empty());
    let mut c = rel(dir);
    c.args(["import"])
        .env("REL_TEST_INCLUDE_TOKEN", "s3cret-value");
    let (code, out, report) = run(c);
    assert_eq!(code, 0, "{out}{report}");
    assert_eq!(dropped(&report), ["announce"], "{report}");
    assert!(!report.contains("s3cret-value"), "{report}");
    let written = std::fs::read_to_string(dir.join(".release.yaml")).unwrap();
    // The include's keys are merged under the file's own: its milestones are taken, its
    // project name is not (the file has one).
    assert!(
        written.contains("name_template: \"{{ project_name }} {{ version }}\""),
        "{written}"
    );
    assert!(written.contains("project_name: tool"), "{written}");
    assert_eq!(seen.lock().unwrap().len(), 1);
    let (code, out, err) = rel_cmd(dir, &["check"]);
    assert_eq!(code, 0, "{out}{err}");
}

#[test]
fn project_metadata_is_the_default_of_every_package_entry_that_leaves_it_out() {
    // GoReleaser Pro's `metadata` fills the description, homepage, license, maintainer and
    // commit author of package managers and Linux packages that do not set their own.
    let t = tempfile::tempdir().unwrap();
    let dir = t.path();
    write(
        dir,
        ".goreleaser.yaml",
        "version: 2\nproject_name: tool\nmetadata:\n  mod_timestamp: \"{{ .CommitTimestamp }}\"\n  description: A tool for {{ .ProjectName }}.\n  homepage: https://tool.example\n  license: MIT\n  maintainers: [\"Ann <ann@example.com>\", \"Bob <bob@example.com>\"]\n  commit_author:\n    name: bot\n    email: bot@example.com\n    signing: {enabled: true}\nbuilds:\n  - goos: [linux, windows]\n    goarch: [amd64]\nnfpms:\n  - formats: [deb]\nwinget:\n  - publisher: Acme\n    license: Apache-2.0\n    skip_upload: true\naurs:\n  - skip_upload: true\n",
    );
    tagged_module(dir, "example.com/tool");
    let (code, out, report) = rel_cmd(dir, &["import", "-o", "-"]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(
        dropped(&report),
        ["metadata.commit_author.signing"],
        "{report}"
    );
    let cfg: serde_json::Value = serde_saphyr::from_str(&out).unwrap();
    let desc = "A tool for {{ project_name }}.";
    assert_eq!(cfg["nfpms"][0]["description"], desc, "{out}");
    assert_eq!(cfg["nfpms"][0]["maintainer"], "Ann <ann@example.com>");
    assert_eq!(cfg["nfpms"][0]["license"], "MIT");
    assert_eq!(cfg["winget"][0]["short_description"], desc);
    assert_eq!(cfg["winget"][0]["homepage"], "https://tool.example");
    // An entry's own value wins.
    assert_eq!(cfg["winget"][0]["license"], "Apache-2.0");
    assert_eq!(
        cfg["winget"][0]["commit_author"]["email"],
        "bot@example.com"
    );
    assert_eq!(
        cfg["aurs"][0]["maintainers"],
        serde_json::json!(["Ann <ann@example.com>"])
    );
    assert_eq!(
        cfg["metadata"],
        serde_json::json!({"mod_timestamp": "{{ commit_timestamp }}"})
    );
    write(dir, ".release.yaml", &out);
    let (code, out, err) = rel_cmd(dir, &["check"]);
    assert_eq!(code, 0, "{out}{err}");
}
