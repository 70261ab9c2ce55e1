//! A table of bad configs and templates: each must exit 2 with an error that names the file,
//! line and column, shows the line, and says what is wrong — never a panic.

mod common;
use common::*;

struct Case {
    name: &'static str,
    yaml: &'static str,
    /// Every one of these must appear in stderr.
    want: &'static [&'static str],
}

const CASES: &[Case] = &[
    Case {
        name: "a git.tag_sort rel does not know",
        yaml: "git:\n  tag_sort: newest\n",
        want: &["invalid value `newest`", ":2:13", "-version:creatordate"],
    },
    Case {
        name: "git.ignore_tags see only env",
        yaml: "git:\n  ignore_tags: [\"{{ version }}\"]\n",
        want: &["git.ignore_tags[0]", "available: env", ":2:17"],
    },
    Case {
        name: "a release header from a URL",
        yaml: "release:\n  header:\n    from_url: {url: \"https://example.com/h.md\"}\n",
        want: &["release.header.from_url", "from_file", ":3:5"],
    },
    Case {
        name: "a release.skip_upload template naming an unknown variable",
        yaml: "release:\n  skip_upload: \"{{ nope }}\"\n",
        want: &["release.skip_upload", "undefined variable `nope`", ":2:16"],
    },
    Case {
        name: "a metadata.mod_timestamp template naming an unknown variable",
        yaml: "metadata:\n  mod_timestamp: \"{{ mtime }}\"\n",
        want: &[
            "metadata.mod_timestamp",
            "undefined variable `mtime`",
            ":2:",
        ],
    },
    Case {
        name: "a misspelt key inside an archive file object",
        yaml: "archives:\n  - files:\n      - src: README*\n        dest: docs\n",
        want: &["unknown key `dest`", ":4:9", "did you mean `dst`?"],
    },
    Case {
        name: "GoReleaser's ids",
        yaml: "archives:\n  - ids: [x]\n",
        want: &["unknown key `ids`", ":2:5", "rel calls `builds`"],
    },
    Case {
        name: "GoReleaser's upx",
        yaml: "upx:\n  - enabled: true\n",
        want: &["unknown key `upx`", "no equivalent in rel yet"],
    },
    Case {
        name: "GoReleaser's krews",
        yaml: "krews: []\n",
        want: &["unknown key `krews`", "no equivalent in rel yet"],
    },
    Case {
        name: "GoReleaser's kos",
        yaml: "kos: []\n",
        want: &["unknown key `kos`", "rel calls `images`"],
    },
    Case {
        name: "a dockers_v2 platform that is not one",
        yaml: "dockers_v2:\n  - images: [ghcr.io/acme/x]\n    platforms: [linux/amd64, windows/amd64]\n",
        want: &["unsupported image platform `windows/amd64`", ":3:"],
    },
    Case {
        name: "a dockers `use` rel does not know",
        yaml: "dockers:\n  - image_templates: [\"ghcr.io/acme/x:1\"]\n    use: kaniko\n",
        want: &["unknown `use: kaniko`", ":3:"],
    },
    Case {
        name: "a GitHub API URL that is not a URL",
        yaml: "release:\n  github_urls: {api: \"not a url\"}\n",
        want: &["`not a url` is not a URL", ":2:"],
    },
    Case {
        name: "unknown top-level key",
        yaml: "projct_name: x\n",
        want: &[
            "unknown key `projct_name`",
            ".release.yaml:1:1",
            "did you mean `project_name`?",
        ],
    },
    Case {
        name: "unknown build key",
        yaml: "builds:\n  - id: a\n    goso: [linux]\n",
        want: &[
            "unknown key `goso`",
            ":3:5",
            "did you mean `goos`?",
            " 3 |     goso: [linux]",
        ],
    },
    Case {
        name: "unknown archive key",
        yaml: "archives:\n  - name_tmplate: x\n",
        want: &[
            "unknown key `name_tmplate`",
            ":2:5",
            "did you mean `name_template`?",
        ],
    },
    Case {
        name: "unknown nested key",
        yaml: "changelog:\n  filters:\n    exclud: []\n",
        want: &["unknown key `exclud`", ":3:5", "did you mean `exclude`?"],
    },
    Case {
        name: "unknown release key",
        yaml: "release:\n  drfat: true\n",
        want: &["unknown key `drfat`", ":2:3", "did you mean `draft`?"],
    },
    Case {
        name: "wrong type: list expected",
        yaml: "builds: 5\n",
        want: &[":1:9", "a list is expected here"],
    },
    Case {
        name: "wrong type: goos scalar",
        yaml: "builds:\n  - goos: linux\n",
        want: &[":2:11", "a list is expected here"],
    },
    Case {
        name: "wrong type: bool",
        yaml: "checksum:\n  disable: maybe\n",
        want: &["invalid boolean", ":2:12", "use `true` or `false`"],
    },
    Case {
        name: "wrong type: number",
        yaml: "version: many\n",
        want: &[":1:10", "a whole number is expected here"],
    },
    Case {
        name: "unsupported version",
        yaml: "version: 3\n",
        want: &["unsupported config version 3", ":1:10", "use `version: 1`"],
    },
    Case {
        name: "unknown builder",
        yaml: "builds:\n  - builder: gox\n",
        want: &["invalid value `gox`", ":2:14", "did you mean `go`?"],
    },
    Case {
        name: "unknown format",
        yaml: "archives:\n  - formats: [tar.gzz]\n",
        want: &["invalid value `tar.gzz`", ":2:15", "did you mean `tar.gz`?"],
    },
    Case {
        name: "unknown checksum algorithm",
        yaml: "checksum:\n  algorithm: md5\n",
        want: &["invalid value `md5`", ":2:14", "sha256, sha512, blake3"],
    },
    Case {
        name: "unknown changelog sort",
        yaml: "changelog:\n  sort: up\n",
        want: &["invalid value `up`", ":2:9"],
    },
    Case {
        name: "unknown release mode",
        yaml: "release:\n  mode: merge\n",
        want: &["invalid value `merge`", ":2:9", "keep-existing"],
    },
    Case {
        name: "bad prerelease value",
        yaml: "release:\n  prerelease: maybe\n",
        want: &["expected `auto`, `true` or `false`", ":2:15"],
    },
    Case {
        name: "unknown goos",
        yaml: "builds:\n  - goos: [lnux, darwin]\n",
        want: &[
            "unknown goos `lnux`",
            ":2:12",
            "did you mean `linux`?",
            "^^^^",
        ],
    },
    Case {
        name: "unknown goarch",
        yaml: "builds:\n  - goos: [linux]\n    goarch: [amd46]\n",
        want: &["unknown goarch `amd46`", ":3:14", "did you mean `amd64`?"],
    },
    Case {
        name: "bad goarm",
        yaml: "builds:\n  - goarch: [arm]\n    goarm: [\"9\"]\n",
        want: &["invalid goarm `9`", ":3:13"],
    },
    Case {
        name: "bad goamd64",
        yaml: "builds:\n  - goamd64: [v5]\n",
        want: &["invalid goamd64 `v5`", ":2:15"],
    },
    Case {
        name: "unknown goos in ignore",
        yaml: "builds:\n  - ignore: [{goos: windoze}]\n",
        want: &["unknown goos `windoze`", ":2:21", "did you mean `windows`?"],
    },
    Case {
        name: "bad target",
        yaml: "builds:\n  - targets: [linux_amd64_v1, darwin_386]\n",
        want: &["`darwin/386` is not a platform Go can build", ":2:31"],
    },
    Case {
        name: "empty matrix",
        yaml: "builds:\n  - goos: [darwin]\n    goarch: [\"386\"]\n",
        want: &["the build matrix is empty", ":2:5"],
    },
    Case {
        name: "everything ignored",
        yaml: "builds:\n  - goos: [linux]\n    goarch: [amd64]\n    ignore: [{goos: linux}]\n",
        want: &["the build matrix is empty", ":4:5"],
    },
    Case {
        name: "duplicate build ids",
        yaml: "builds:\n  - id: a\n  - id: b\n  - id: a\n",
        want: &["duplicate build id `a`", ":4:9"],
    },
    Case {
        name: "duplicate archive ids",
        yaml: "archives:\n  - id: x\n  - id: x\n",
        want: &["duplicate archive id `x`", ":3:9"],
    },
    Case {
        name: "archive refers to unknown build",
        yaml: "builds:\n  - id: hello\narchives:\n  - builds: [helo]\n",
        want: &["unknown build id `helo`", ":4:14", "did you mean `hello`?"],
    },
    Case {
        name: "image refers to unknown build",
        yaml: "builds:\n  - id: hello\nimages:\n  - repository: r\n    builds: [hallo]\n",
        want: &["unknown build id `hallo`", ":5:14"],
    },
    Case {
        name: "image platform",
        yaml: "images:\n  - repository: r\n    platforms: [windows/amd64]\n",
        want: &["unsupported image platform `windows/amd64`", ":3:17"],
    },
    Case {
        name: "image without repository",
        yaml: "images:\n  - tags: [latest]\n",
        want: &["missing field `repository`", ":2:5"],
    },
    Case {
        name: "command builder without command",
        yaml: "builds:\n  - builder: command\n",
        want: &["builder `command` needs a `command` list", ":2:14"],
    },
    Case {
        name: "prebuilt without path",
        yaml: "builds:\n  - builder: prebuilt\n",
        want: &["builder `prebuilt` needs a `path`", ":2:14"],
    },
    Case {
        name: "env without =",
        yaml: "env: [CGO_ENABLED]\n",
        want: &["env entry `CGO_ENABLED` is not KEY=value", ":1:7"],
    },
    Case {
        name: "unclosed quote in hook",
        yaml: "before:\n  hooks: [\"echo 'hi\"]\n",
        want: &["cannot split command", ":2:11"],
    },
    Case {
        name: "bad changelog regexp",
        yaml: "changelog:\n  groups:\n    - {title: X, regexp: \"^feat(\"}\n",
        want: &["invalid regular expression `^feat(`", ":3:26"],
    },
    Case {
        name: "bad exclude regexp",
        yaml: "changelog:\n  filters: {exclude: [\"[a-\"]}\n",
        want: &["invalid regular expression", ":2:23"],
    },
    Case {
        name: "undefined template variable",
        yaml: "builds:\n  - ldflags: [\"-X main.v={{ verison }}\"]\n",
        want: &[
            "template error in `builds[0].ldflags[0]`",
            "undefined variable `verison`; did you mean `version`?",
            ":2:15",
        ],
    },
    Case {
        name: "template syntax error",
        yaml: "archives:\n  - name_template: \"{{ project_name \"\n",
        want: &[
            "template error in `archives[0].name_template`",
            "syntax error",
            ":2:20",
        ],
    },
    Case {
        name: "unknown filter",
        yaml: "checksum:\n  name_template: \"{{ version | shout }}\"\n",
        want: &[
            "template error in `checksum.name_template`",
            "shout",
            ":2:18",
        ],
    },
    Case {
        name: "per-target variable in a global template",
        yaml: "snapshot:\n  version_template: \"{{ version }}-{{ os }}\"\n",
        want: &["undefined variable `os`", ":2:21"],
    },
    Case {
        name: "output outside a command",
        yaml: "builds:\n  - binary: \"{{ output }}\"\n",
        want: &["undefined variable `output`", ":2:13"],
    },
    Case {
        name: "merge key brings an unknown field",
        yaml: "builds:\n  - &d\n    id: a\n    fooo: 1\n  - <<: *d\n    id: b\n",
        want: &["unknown key `fooo`", ":4:5"],
    },
    Case {
        name: "duplicate key",
        yaml: "dist: a\ndist: b\n",
        want: &["duplicate", ":2:1"],
    },
    Case {
        name: "yaml syntax error",
        yaml: "builds:\n  - id: [a\n",
        want: &[".release.yaml:"],
    },
    Case {
        name: "tab indentation",
        yaml: "builds:\n\t- id: a\n",
        want: &[".release.yaml:2:"],
    },
    Case {
        name: "empty dist",
        yaml: "dist: \"\"\n",
        want: &["must name a folder of its own", ":1:7"],
    },
    Case {
        name: "dist is the project",
        yaml: "dist: ./\n",
        want: &["must name a folder of its own", ":1:7"],
    },
    Case {
        name: "dist is the parent",
        yaml: "dist: ../out\n",
        want: &["must name a folder of its own", ":1:7"],
    },
    Case {
        name: "dist is absolute",
        yaml: "dist: /tmp/out\n",
        want: &["must name a folder of its own", ":1:7"],
    },
    Case {
        name: "dist inside .git",
        yaml: "dist: .git/out\n",
        want: &["must name a folder of its own", ":1:7"],
    },
    Case {
        name: "release github without owner",
        yaml: "release:\n  github: {name: x}\n",
        want: &["missing field `owner`", ":2:"],
    },
];

#[test]
fn bad_configs_exit_2_with_located_errors() {
    assert!(CASES.len() >= 30);
    let d = tempfile::tempdir().unwrap();
    let mut failures = vec![];
    for case in CASES {
        std::fs::write(d.path().join(".release.yaml"), case.yaml).unwrap();
        let (code, _, err) = rel_run(d.path(), &["check"]);
        let missing: Vec<&&str> = case.want.iter().filter(|w| !err.contains(**w)).collect();
        if code != 2 || !missing.is_empty() || err.contains("panicked") {
            failures.push(format!(
                "--- {} (exit {code}), missing {missing:?}:\n{err}",
                case.name
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        CASES.len(),
        failures.join("\n")
    );
}

#[test]
fn several_problems_are_reported_at_once() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(
        d.path().join(".release.yaml"),
        "builds:\n  - id: a\n    goos: [lnux]\n  - id: a\n",
    )
    .unwrap();
    let (code, _, err) = rel_run(d.path(), &["check"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("unknown goos `lnux`") && err.contains("duplicate build id `a`"),
        "{err}"
    );
}

#[test]
fn usage_errors_exit_2() {
    let d = tempfile::tempdir().unwrap();
    let cases: &[(&[&str], &str)] = &[
        (&["check"], "no config found"),
        (&["check", "--config", "nope.yaml"], "does not exist"),
        (&["release", "--skip", "biuld"], "did you mean `build`?"),
        (&["release", "--timeout", "soon"], "--timeout soon"),
        (&["build", "-p", "0"], "at least 1"),
        (&["frobnicate"], "unrecognized subcommand"),
    ];
    for (args, want) in cases {
        if args[0] != "check" || args.len() > 1 {
            std::fs::write(d.path().join(".release.yaml"), "project_name: x\n").unwrap();
        }
        let (code, _, err) = rel_run(d.path(), args);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(err.contains(want), "{args:?}: {err}");
        let _ = std::fs::remove_file(d.path().join(".release.yaml"));
    }
}

#[test]
fn template_errors_at_render_time_exit_2_before_building() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    write(
        dir,
        ".release.yaml",
        "builds:\n  - builder: command\n    goos: [linux]\n    goarch: [amd64]\n    command: [touch, \"{{ output }}\"]\n    mod_timestamp: \"{{ incpatch(branch) }}\"\n",
    );
    init_repo(dir);
    let (code, _, err) = rel_run(dir, &["build", "--snapshot"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("builds[0].mod_timestamp") && err.contains("not a semver version"),
        "{err}"
    );
}

#[test]
fn the_example_config_is_valid() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let (code, _, err) = rel_run(root, &["check", "--config", ".release.example.yaml"]);
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = rel_run(root, &["check"]);
    assert_eq!(code, 0, "rel's own config: {err}");
}

#[test]
fn a_config_that_is_no_text_file_says_what_it_is() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    let (code, _, err) = rel_run(dir, &["check", "--config", "/dev/null"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("not a regular file"), "{err}");
    let (code, _, err) = rel_run(dir, &["check", "--config", dir.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("is a folder"), "{err}");
    std::fs::write(
        dir.join("latin1.yaml"),
        b"project_name: x\nbuilds:\n  - id: caf\xe9\n",
    )
    .unwrap();
    let (code, _, err) = rel_run(dir, &["check", "--config", "latin1.yaml"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("latin1.yaml:3:12") && err.contains("not UTF-8"),
        "{err}"
    );
}

#[test]
fn every_unknown_key_is_reported_in_one_run() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(
        d.path().join(".release.yaml"),
        "projct_name: x\nbuilds:\n  - id: a\n    goso: [linux]\narchives:\n  - ids: [a]\n    files:\n      - {src: x, dest: y}\nkrews: []\n",
    )
    .unwrap();
    let (code, _, err) = rel_run(d.path(), &["check"]);
    assert_eq!(code, 2, "{err}");
    let places: Vec<&str> = err
        .lines()
        .filter_map(|l| l.trim().strip_prefix("--> "))
        .collect();
    assert_eq!(places.len(), 5, "{err}");
    for (want, hint) in [
        (":1:1", "did you mean `project_name`?"),
        (":4:5", "did you mean `goos`?"),
        (":6:5", "rel calls `builds`"),
        (":8:18", "did you mean `dst`?"),
        (":9:1", "no equivalent in rel yet"),
    ] {
        assert!(places.iter().any(|p| p.ends_with(want)), "{want}: {err}");
        assert!(err.contains(hint), "{hint}: {err}");
    }
}
