//! `.goreleaser.yaml` (v1 and v2) → `.release.yaml`.
//!
//! Two passes. First, GoReleaser's own spellings are rewritten into rel's where the two differ
//! (v1 names, string-or-list keys, hook objects, `tags`, GoReleaser's defaults that differ from
//! rel's, written out so behaviour is kept). Then the tree is walked against rel's own JSON
//! Schema: a key rel has is kept (its templates translated from Go's `text/template`), a key
//! rel lacks is dropped with the reason. Walking the schema, not a list kept by hand, means
//! every key rel learns is imported the day it lands, and nothing is written that rel would
//! refuse. Every decision is an [`Item`] of the report, with its line in the source.

use super::gotmpl;
use super::yaml::Node;
use crate::config::locate::{self, Seg};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// What happened to one key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Written as rel's equivalent.
    Mapped,
    /// Written, with a difference (said).
    Approximated(String),
    /// Not written (why).
    Dropped(String),
}

/// One line of the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// The file the key is in (an included file, or the main one).
    pub file: PathBuf,
    /// 1-based line (0 when not located).
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// The GoReleaser key (`builds[0].tags`).
    pub key: String,
    /// What became of it.
    pub outcome: Outcome,
}

impl std::fmt::Display for Item {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (word, why) = match &self.outcome {
            Outcome::Mapped => ("mapped", String::new()),
            Outcome::Approximated(w) => ("approximated", format!(": {w}")),
            Outcome::Dropped(w) => ("dropped", format!(": {w}")),
        };
        write!(
            f,
            "{}:{}:{}: {word} `{}`{why}",
            self.file.display(),
            self.line,
            self.column,
            self.key
        )
    }
}

/// The imported config and its report.
#[derive(Debug, Clone)]
pub struct Imported {
    /// `.release.yaml` text.
    pub yaml: String,
    /// Every key approximated or dropped (and, with `all`, mapped), in source order.
    pub items: Vec<Item>,
}

impl Imported {
    /// The items dropped.
    pub fn dropped(&self) -> Vec<&Item> {
        self.items
            .iter()
            .filter(|i| matches!(i.outcome, Outcome::Dropped(_)))
            .collect()
    }
    /// The items approximated.
    pub fn approximated(&self) -> Vec<&Item> {
        self.items
            .iter()
            .filter(|i| matches!(i.outcome, Outcome::Approximated(_)))
            .collect()
    }
}

/// The names GoReleaser looks for, in its order.
pub const GORELEASER_NAMES: &[&str] = &[
    ".config/goreleaser.yml",
    ".config/goreleaser.yaml",
    ".goreleaser.yml",
    ".goreleaser.yaml",
    "goreleaser.yml",
    "goreleaser.yaml",
];

/// Whether `file` is a GoReleaser config by its name.
pub fn is_goreleaser(file: &Path) -> bool {
    file.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.contains("goreleaser"))
}

/// The GoReleaser config in `root`, if there is one.
pub fn find(root: &Path) -> Option<PathBuf> {
    GORELEASER_NAMES
        .iter()
        .map(|n| root.join(n))
        .find(|p| p.is_file())
}

/// Why rel drops a whole GoReleaser section it has no counterpart for.
fn section_reason(key: &str) -> Option<&'static str> {
    Some(match key {
        "announce" => "rel does not post announcements; post from the CI job after `rel release`",
        "blobs" | "uploads" | "artifactories" | "furies" | "cloudsmiths" | "publishers" => {
            "rel publishes to GitHub releases and OCI registries only; upload the files in dist/ from CI"
        }
        "kos" => {
            "rel builds images with `images` (no ko); map each `kos` entry to an `images` entry"
        }
        "snapcrafts" | "chocolateys" | "nix" | "krews" | "npms" | "flatpaks" => {
            "rel does not write this package format"
        }
        "upx" => "rel does not compress binaries with upx",
        "notarize" => "rel does not sign or notarize macOS binaries",
        "nightly" => {
            "rel has no nightly builds: use `rel release --snapshot` with a snapshot version"
        }
        "env_files" => "rel reads tokens from the environment only (GITHUB_TOKEN)",
        "gitlab_urls" | "gitea_urls" => "rel publishes to GitHub only",
        "force_token" => "rel publishes to GitHub only",
        "template_files" => "rel has no free-standing template files",
        "pro" | "partial" => "GoReleaser Pro keys",
        _ => return None,
    })
}

/// Variables GoReleaser gives only some templates: a build hook's `.Path` and `.Name`, a
/// changelog line's commit fields.
fn local_vars(path: &[Seg]) -> &'static [(&'static str, &'static str)] {
    let keys: Vec<&str> = path
        .iter()
        .filter_map(|s| match s {
            Seg::Key(k) => Some(k.as_str()),
            Seg::Index(_) => None,
        })
        .collect();
    match keys.as_slice() {
        ["builds", "hooks", ..] => &[("Path", "output"), ("Name", "binary")],
        ["changelog", "format"] => &[
            ("SHA", "short_sha"),
            ("Message", "subject"),
            ("AuthorUsername", "author.login"),
            ("AuthorName", "author.name"),
            ("AuthorEmail", "author.email"),
            ("Logins", "logins"),
        ],
        _ => &[],
    }
}

/// Whether a schema is rel's boolean: `boolean`, or (as rel reads YAML 1.1's words) any of
/// a boolean and a list of words.
fn takes_bool(schema: &Value) -> bool {
    let is = |s: &Value| s.get("type") == Some(&Value::String("boolean".into()));
    is(schema)
        || schema
            .get("anyOf")
            .and_then(|a| a.as_array())
            .is_some_and(|a| a.iter().any(is))
}

/// Why a nested key GoReleaser has is dropped, when there is more to say than "rel has no".
fn key_reason(key: &str) -> Option<&'static str> {
    Some(match key {
        "goarm64" | "goppc64" | "goriscv64" | "go386" => {
            "rel builds these architectures at Go's default level"
        }
        "overrides" => "rel has no per-target build overrides: split the build into two builds",
        _ => return None,
    })
}

/// The GoReleaser variables rel has, as minijinja expressions.
fn var_of(path: &[&str], vars: &BTreeMap<String, String>) -> Option<String> {
    if let ["Var", name] = path {
        return vars
            .get(*name)
            .map(|v| serde_json::to_string(v).expect("a string"));
    }
    gotmpl::goreleaser_var(path)
}

/// How GoReleaser (Go's yaml.v3) reads scalars: only `true`/`false` are booleans, so
/// `project_name: y` or `- on` stay the strings they are. A field that takes a boolean still
/// accepts YAML 1.1's words there ([`go_bool`]).
fn go_yaml() -> serde_saphyr::Options {
    serde_saphyr::options! {
        strict_booleans: true,
    }
}

/// A boolean as yaml.v3 reads one into a Go `bool` field: YAML 1.1's `y`, `yes`, `on`
/// and their negations too.
fn go_bool(text: &str) -> Option<bool> {
    match text {
        "true" | "True" | "TRUE" | "y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" => {
            Some(true)
        }
        "false" | "False" | "FALSE" | "n" | "N" | "no" | "No" | "NO" | "off" | "Off" | "OFF"
        | "" => Some(false),
        _ => None,
    }
}

/// The URL of a `from_url` include: as given when it has a scheme, else a path on
/// `raw.githubusercontent.com` (`owner/repo/branch/file.yaml`), as GoReleaser reads it.
fn include_url(url: &str) -> String {
    if url.contains("://") {
        url.to_string()
    } else {
        format!(
            "https://raw.githubusercontent.com/{}",
            url.trim_start_matches('/')
        )
    }
}

/// `$NAME` and `${NAME}` replaced by the environment's values (Go's `os.ExpandEnv`, which
/// GoReleaser applies to include headers, e.g. a token for a private repository).
fn expand_env(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let (name, len) = if let Some(braced) = after.strip_prefix('{') {
            match braced.find('}') {
                Some(end) => (&braced[..end], end + 2),
                None => (braced, braced.len() + 1),
            }
        } else {
            let end = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            (&after[..end], end)
        };
        out.push_str(&std::env::var(name).unwrap_or_default());
        rest = &after[len..];
    }
    out.push_str(rest);
    out
}

/// GET `url` with `headers`: the body as text, or why not. `rel import` runs once, by a
/// person, usually online; offline the include is reported and left out.
fn fetch(url: &str, headers: &[(String, String)]) -> Result<String, String> {
    crate::github::install_crypto_provider();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    rt.block_on(async {
        let client = reqwest::Client::builder()
            .connect_timeout(std::time::Duration::from_secs(10))
            .timeout(std::time::Duration::from_secs(30))
            .user_agent(concat!("rel/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| e.to_string())?;
        let mut req = client.get(url);
        for (k, v) in headers {
            req = req.header(k.as_str(), v.as_str());
        }
        // The innermost cause says what went wrong ("dns error", "connection refused").
        let cause = |e: reqwest::Error| {
            let mut cur: &dyn std::error::Error = &e;
            while let Some(next) = cur.source() {
                cur = next;
            }
            cur.to_string()
        };
        let res = req.send().await.map_err(cause)?;
        if !res.status().is_success() {
            return Err(format!("HTTP {}", res.status().as_u16()));
        }
        res.text().await.map_err(|e| e.to_string())
    })
}

/// Import `file` (with its `includes`). `fetch_urls` lets `from_url` includes be downloaded:
/// `rel import` does, once, and writes the merged result; a config imported in memory on every
/// `rel check`/`rel release` does not, so a run never depends on a URL's contents of the day.
pub fn import(file: &Path, fetch_urls: bool) -> crate::Result<Imported> {
    let src = std::fs::read_to_string(file)
        .map_err(|e| crate::Error::Usage(format!("cannot read {}: {e}", file.display())))?;
    import_text(file, &src, fetch_urls)
}

/// Import the GoReleaser config `src` read from `file` (see [`import`] for `fetch_urls`).
pub fn import_text(file: &Path, src: &str, fetch_urls: bool) -> crate::Result<Imported> {
    let mut root: Node = if src.trim().is_empty() {
        Node::Map(vec![])
    } else {
        serde_saphyr::from_str_with_options(src, go_yaml()).map_err(|e| {
            crate::Error::Config(format!(
                "error: {}: not YAML rel can read: {e}",
                file.display()
            ))
        })?
    };
    if !root.is_map() {
        return Err(crate::Error::Config(format!(
            "error: {}: a GoReleaser config is a mapping at its top",
            file.display()
        )));
    }
    let mut imp = Importer {
        file: file.to_path_buf(),
        src: src.to_string(),
        items: vec![],
        vars: BTreeMap::new(),
        project: String::new(),
        schema: crate::schema::value(),
        fetch_urls,
    };
    imp.includes(&mut root)?;
    let out = imp.run(root);
    Ok(Imported {
        yaml: format!(
            "# Imported from {} by `rel import`; the report lists what differs.\n{}",
            file.file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("the GoReleaser config"),
            super::yaml::emit(&out)
        ),
        items: imp.items,
    })
}

struct Importer {
    file: PathBuf,
    src: String,
    items: Vec<Item>,
    vars: BTreeMap<String, String>,
    project: String,
    schema: Value,
    /// Download `from_url` includes (only `rel import` does).
    fetch_urls: bool,
}

fn segs(path: &[Seg]) -> String {
    locate::display(path)
}

fn key(path: &[Seg], k: &str) -> Vec<Seg> {
    let mut p = path.to_vec();
    p.push(Seg::Key(k.to_string()));
    p
}

impl Importer {
    fn note(&mut self, path: &[Seg], outcome: Outcome) {
        let pos = locate::locate(&self.src, path);
        self.items.push(Item {
            file: self.file.clone(),
            line: pos.as_ref().map_or(0, |p| p.line),
            column: pos.as_ref().map_or(0, |p| p.column),
            key: segs(path),
            outcome,
        });
    }

    fn approx(&mut self, path: &[Seg], why: impl Into<String>) {
        self.note(path, Outcome::Approximated(why.into()));
    }

    fn drop_key(&mut self, path: &[Seg], why: impl Into<String>) {
        self.note(path, Outcome::Dropped(why.into()));
    }

    /// `includes` are merged under the main file (its keys win); a URL that is not fetched is
    /// reported with what to do.
    fn includes(&mut self, root: &mut Node) -> crate::Result<()> {
        let Some(Node::List(list)) = root.take("includes") else {
            return Ok(());
        };
        let base = self.file.parent().unwrap_or(Path::new(".")).to_path_buf();
        for (i, inc) in list.iter().enumerate() {
            let at = vec![Seg::Key("includes".into()), Seg::Index(i)];
            let path = inc
                .get("from_file")
                .and_then(|f| f.get("path"))
                .and_then(|p| p.scalar());
            let (text, shown) = if let Some(url) = inc
                .get("from_url")
                .and_then(|f| f.get("url"))
                .and_then(|p| p.scalar())
            {
                let headers: Vec<(String, String)> =
                    match inc.get("from_url").and_then(|f| f.get("headers")) {
                        Some(Node::Map(h)) => h
                            .iter()
                            .map(|(k, v)| (k.clone(), expand_env(&v.scalar().unwrap_or_default())))
                            .collect(),
                        _ => vec![],
                    };
                let full = include_url(&url);
                if !self.fetch_urls {
                    self.drop_key(
                        &at,
                        format!("{full} is not fetched on every run: `rel import` downloads it once and writes the merged config"),
                    );
                    continue;
                }
                match fetch(&full, &headers) {
                    Ok(text) => (text, full),
                    Err(e) => {
                        self.drop_key(
                            &at,
                            format!("cannot fetch {full} ({e}): download it next to the config and include it with `from_file`"),
                        );
                        continue;
                    }
                }
            } else {
                let Some(path) = path else {
                    self.drop_key(&at, "an include needs `from_file.path`");
                    continue;
                };
                let full = base.join(&path);
                let text = std::fs::read_to_string(&full).map_err(|e| {
                    crate::Error::Config(format!(
                        "error: {}: includes[{i}]: cannot read {}: {e}",
                        self.file.display(),
                        full.display()
                    ))
                })?;
                (text, full.display().to_string())
            };
            let inc: Node = serde_saphyr::from_str_with_options(&text, go_yaml())
                .map_err(|e| crate::Error::Config(format!("error: {shown}: not YAML: {e}")))?;
            if let (Node::Map(into), Node::Map(from)) = (&mut *root, inc) {
                for (k, v) in from {
                    if !into.iter().any(|(have, _)| *have == k) {
                        into.push((k, v));
                    }
                }
            }
            self.note(&at, Outcome::Mapped);
        }
        Ok(())
    }

    fn run(&mut self, mut root: Node) -> Node {
        if let Some(Node::Map(vars)) = root.take("variables") {
            for (k, v) in vars {
                self.vars.insert(k, v.scalar().unwrap_or_default());
            }
            self.note(&[Seg::Key("variables".into())], Outcome::Mapped);
        }
        self.project = root
            .get("project_name")
            .and_then(|n| n.scalar())
            .unwrap_or_default();
        self.rewrite(&mut root);
        let schema = self.schema.clone();
        let mut out = self.walk(&[], root, &schema).unwrap_or(Node::Map(vec![]));
        // GoReleaser's flat notes when no groups are given (written in rel's syntax, after
        // the walk, so it is not read as a Go template).
        let mut changelog = out.take("changelog").unwrap_or(Node::Map(vec![]));
        if changelog.get("groups").is_none() && changelog.get("template").is_none() {
            changelog.set("template", Node::Str(FLAT_CHANGELOG.into()));
        }
        out.set("changelog", changelog);
        // rel's config version is 1 whatever GoReleaser's was.
        if let Node::Map(m) = &mut out {
            m.retain(|(k, _)| k != "version");
            m.insert(0, ("version".into(), Node::Int(1)));
        }
        self.items
            .sort_by_key(|i| (i.file.clone(), i.line, i.column));
        out
    }

    /// GoReleaser Pro's project-wide `metadata` (`description`, `full_description`,
    /// `homepage`, `license`, `maintainers`, `commit_author`) is the default of each package
    /// manager and Linux package entry that leaves the field out: written into those entries,
    /// where rel reads them.
    fn metadata_defaults(&mut self, root: &mut Node) {
        let Some(mut meta) = root.take("metadata") else {
            return;
        };
        let at = |k: &str| vec![Seg::Key("metadata".into()), Seg::Key(k.into())];
        let mut fields: Vec<(&str, Node)> = vec![];
        for k in ["description", "homepage", "license"] {
            if let Some(v) = meta.take(k) {
                fields.push((k, v));
                self.note(&at(k), Outcome::Mapped);
            }
        }
        match meta.take("full_description") {
            Some(Node::Str(v)) => {
                fields.push(("full_description", Node::Str(v)));
                self.note(&at("full_description"), Outcome::Mapped);
            }
            Some(_) => self.drop_key(
                &at("full_description"),
                "rel reads a description as text: write the text into `winget[].description`",
            ),
            None => {}
        }
        if let Some(first) = meta
            .take("maintainers")
            .and_then(|m| m.strings().first().cloned())
        {
            fields.push(("maintainers", Node::Str(first)));
            self.note(&at("maintainers"), Outcome::Mapped);
        }
        if let Some(mut a) = meta.take("commit_author") {
            let mut author = Node::Map(vec![]);
            for k in ["name", "email"] {
                if let Some(v) = a.take(k) {
                    author.set(k, v);
                }
            }
            if let Node::Map(rest) = &a {
                for (k, _) in rest {
                    self.drop_key(
                        &key(&at("commit_author"), k),
                        "rel commits package manifests with the author's name and email only",
                    );
                }
            }
            fields.push(("commit_author", author));
            self.note(&at("commit_author"), Outcome::Mapped);
        }
        // (metadata field, section, the section's key for it)
        const TARGETS: &[(&str, &str, &str)] = &[
            ("description", "brews", "description"),
            ("description", "homebrew_casks", "description"),
            ("description", "scoops", "description"),
            ("description", "winget", "short_description"),
            ("description", "aurs", "description"),
            ("description", "nfpms", "description"),
            ("full_description", "winget", "description"),
            ("homepage", "brews", "homepage"),
            ("homepage", "homebrew_casks", "homepage"),
            ("homepage", "scoops", "homepage"),
            ("homepage", "winget", "homepage"),
            ("homepage", "aurs", "homepage"),
            ("homepage", "nfpms", "homepage"),
            ("license", "brews", "license"),
            ("license", "scoops", "license"),
            ("license", "winget", "license"),
            ("license", "aurs", "license"),
            ("license", "nfpms", "license"),
            ("maintainers", "aurs", "maintainers"),
            ("maintainers", "nfpms", "maintainer"),
            ("commit_author", "brews", "commit_author"),
            ("commit_author", "homebrew_casks", "commit_author"),
            ("commit_author", "scoops", "commit_author"),
            ("commit_author", "winget", "commit_author"),
            ("commit_author", "aurs", "commit_author"),
        ];
        for (field, value) in &fields {
            for (_, section, k) in TARGETS.iter().filter(|(f, _, _)| f == field) {
                if let Some(Node::List(list)) = root.get(section).cloned() {
                    let list = list
                        .into_iter()
                        .map(|mut entry| {
                            if entry.is_map() && entry.get(k).is_none() {
                                let v = match (*k, value) {
                                    ("maintainers", Node::Str(s)) => {
                                        Node::List(vec![Node::Str(s.clone())])
                                    }
                                    _ => value.clone(),
                                };
                                entry.set(k, v);
                            }
                            entry
                        })
                        .collect();
                    root.set(section, Node::List(list));
                }
            }
        }
        if matches!(&meta, Node::Map(m) if !m.is_empty()) {
            root.set("metadata", meta);
        }
    }

    /// GoReleaser's spellings and defaults, rewritten in place into rel's.
    fn rewrite(&mut self, root: &mut Node) {
        self.metadata_defaults(root);
        if root.get("version").is_some() {
            root.set("version", Node::Int(1));
        }
        let project = if self.project.is_empty() {
            "{{ .ProjectName }}".to_string()
        } else {
            self.project.clone()
        };
        // builds
        if let Some(Node::List(builds)) = root.get("builds").cloned() {
            let mut out = vec![];
            for (i, mut b) in builds.into_iter().enumerate() {
                let at = vec![Seg::Key("builds".into()), Seg::Index(i)];
                self.build(&at, &mut b, &project);
                out.push(b);
            }
            root.set("builds", Node::List(out));
        } else if root.get("builds").is_none() {
            // GoReleaser builds the project's main package for linux, darwin and windows by
            // default; rel needs the build written (its default targets match).
            let mut b = Node::Map(vec![]);
            self.build(&[Seg::Key("builds".into())], &mut b, &project);
            root.set("builds", Node::List(vec![b]));
        }
        // archives
        match root.get("archives").cloned() {
            Some(Node::List(list)) => {
                let mut out = vec![];
                for (i, mut a) in list.into_iter().enumerate() {
                    let at = vec![Seg::Key("archives".into()), Seg::Index(i)];
                    self.archive(&at, &mut a);
                    out.push(a);
                }
                root.set("archives", Node::List(out));
            }
            None => {
                let mut a = Node::Map(vec![]);
                self.archive(&[Seg::Key("archives".into())], &mut a);
                root.set("archives", Node::List(vec![a]));
            }
            _ => {}
        }
        // nfpms: GoReleaser's default file name (rel's default is each distribution's own).
        if let Some(Node::List(list)) = root.get("nfpms").cloned() {
            let list = list
                .into_iter()
                .map(|mut n| {
                    if let Some(ids) = n.take("ids") {
                        n.set("builds", ids);
                    }
                    // nFPM installs `./usr/share/x` at `/usr/share/x`; rel wants the absolute path.
                    if let Some(Node::List(contents)) = n.take("contents") {
                        let fixed = contents
                            .into_iter()
                            .map(|mut c| {
                                if let Some(d) = c.get("dst").and_then(|d| d.scalar())
                                    && let Some(rest) = d.strip_prefix("./")
                                {
                                    c.set("dst", Node::Str(format!("/{rest}")));
                                }
                                c
                            })
                            .collect();
                        n.set("contents", Node::List(fixed));
                    }
                    if n.get("file_name_template").is_none() {
                        let name = n
                            .get("package_name")
                            .and_then(|p| p.scalar())
                            .unwrap_or_else(|| project.clone());
                        n.set(
                            "file_name_template",
                            Node::Str(format!(
                                "{name}_{{{{ .Version }}}}_{{{{ .Os }}}}_{{{{ .Arch }}}}{{{{ with .Arm }}}}v{{{{ . }}}}{{{{ end }}}}{{{{ with .Mips }}}}_{{{{ . }}}}{{{{ end }}}}{{{{ if not (eq .Amd64 \"v1\") }}}}{{{{ .Amd64 }}}}{{{{ end }}}}"
                            )),
                        );
                    }
                    n
                })
                .collect();
            root.set("nfpms", Node::List(list));
        }
        // snapshot
        let mut snap = root.take("snapshot").unwrap_or(Node::Map(vec![]));
        if let Some(t) = snap.take("name_template") {
            snap.set("version_template", t);
        }
        if snap.get("version_template").is_none() {
            snap.set(
                "version_template",
                Node::Str("{{ .Version }}-SNAPSHOT-{{ .ShortCommit }}".into()),
            );
        }
        root.set("snapshot", snap);
        // changelog
        if let Some(mut c) = root.take("changelog") {
            if let Some(skip) = c.take("skip") {
                c.set("disable", skip);
            }
            if let Some(u) = c.get("use").and_then(|u| u.scalar())
                && u == "git"
            {
                c.take("use");
                self.note(
                    &key(&[Seg::Key("changelog".into())], "use"),
                    Outcome::Mapped,
                );
            }
            root.set("changelog", c);
        }
        // Casks conflict with casks only (`- cask: x` → `x`); Homebrew ignores formulas there.
        if let Some(Node::List(casks)) = root.get("homebrew_casks").cloned() {
            let mut out = vec![];
            for (i, mut c) in casks.into_iter().enumerate() {
                if let Some(Node::List(list)) = c.take("conflicts") {
                    let mut names = vec![];
                    for (j, x) in list.into_iter().enumerate() {
                        match (x.get("cask").and_then(|n| n.scalar()), x.scalar()) {
                            (Some(n), _) | (None, Some(n)) => names.push(Node::Str(n)),
                            (None, None) => self.drop_key(
                                &[
                                    Seg::Key("homebrew_casks".into()),
                                    Seg::Index(i),
                                    Seg::Key("conflicts".into()),
                                    Seg::Index(j),
                                ],
                                "a cask's conflict with a formula: Homebrew does not honour it",
                            ),
                        }
                    }
                    c.set("conflicts", Node::List(names));
                }
                out.push(c);
            }
            root.set("homebrew_casks", Node::List(out));
        }
        // release
        let mut rel = root.take("release").unwrap_or(Node::Map(vec![]));
        match rel.get("prerelease").and_then(|p| p.scalar()) {
            // GoReleaser's default; rel's is `auto`.
            None => rel.set("prerelease", Node::Bool(false)),
            Some(p) if !matches!(p.as_str(), "auto" | "true" | "false") && !p.contains("{{") => {
                // GoReleaser reads any other word as `false`.
                self.approx(
                    &[Seg::Key("release".into()), Seg::Key("prerelease".into())],
                    format!("`{p}` is read as false, as GoReleaser reads it"),
                );
                rel.set("prerelease", Node::Bool(false));
            }
            Some(_) => {}
        }
        // rel's own behaviour on a re-run: the tag's release (or draft) is found and reused,
        // its files replaced by content; there is nothing to choose.
        for k in [
            "replace_existing_draft",
            "use_existing_draft",
            "replace_existing_artifacts",
        ] {
            if rel.take(k).is_some() {
                self.approx(
                    &[Seg::Key("release".into()), Seg::Key(k.into())],
                    "rel always reuses the tag's release or draft and replaces files whose content changed",
                );
            }
        }
        root.set("release", rel);
        // Keys of list entries that choose what rel always does.
        for (section, k, why) in [
            (
                "dockers",
                "use_buildx",
                "rel builds every image with buildah, without a Docker daemon: there is no builder to choose",
            ),
            (
                "archives",
                "allow_different_binary_count",
                "rel archives each target's own binaries, however many each target has",
            ),
            (
                "homebrew_casks",
                "license",
                "rel writes no license into a cask: Homebrew casks have no such stanza, and GoReleaser ignores it too",
            ),
            (
                "nfpms",
                "mtime",
                "rel dates every file of a package at the commit time (GoReleaser's `{{ .CommitDate }}`)",
            ),
            (
                "dockers",
                "binaries",
                "rel puts every binary of the entry's `ids` in the build context (GoReleaser's own `binaries` is gone; it takes `ids` too)",
            ),
        ] {
            if let Some(Node::List(list)) = root.get(section).cloned() {
                let mut out = vec![];
                for (i, mut entry) in list.into_iter().enumerate() {
                    if entry.take(k).is_some() {
                        let at = vec![Seg::Key(section.into()), Seg::Index(i), Seg::Key(k.into())];
                        self.approx(&at, why);
                    }
                    out.push(entry);
                }
                root.set(section, Node::List(out));
            }
        }
        // GoReleaser sorts tags by git's version order of their names; rel's default is
        // semver precedence (which releases v1.0.0, not v1.0.0-rc.1, from a commit with both).
        let mut git = root.take("git").unwrap_or(Node::Map(vec![]));
        if git.get("tag_sort").is_none() {
            git.set("tag_sort", Node::Str("-version:refname".into()));
        }
        root.set("git", git);
        // Hook objects of `before`.
        if let Some(mut before) = root.take("before") {
            if let Some(h) = before.take("hooks") {
                let at = vec![Seg::Key("before".into()), Seg::Key("hooks".into())];
                before.set("hooks", self.hooks(&at, &h));
            }
            root.set("before", before);
        }
        // Hook objects of universal binaries.
        if let Some(Node::List(list)) = root.get("universal_binaries").cloned() {
            let mut out = vec![];
            for (i, mut u) in list.into_iter().enumerate() {
                if let Some(h) = u.take("hooks") {
                    let at = vec![
                        Seg::Key("universal_binaries".into()),
                        Seg::Index(i),
                        Seg::Key("hooks".into()),
                    ];
                    let mut hooks = Node::Map(vec![]);
                    for which in ["pre", "post"] {
                        if let Some(x) = h.get(which) {
                            hooks.set(which, self.hooks(&key(&at, which), x));
                        }
                    }
                    u.set("hooks", hooks);
                }
                out.push(u);
            }
            root.set("universal_binaries", Node::List(out));
        }
        // v1 names of the package managers' repositories.
        for (section, old) in [
            ("brews", "tap"),
            ("scoops", "bucket"),
            ("krews", "index"),
            ("nix", "repository"),
        ] {
            if let Some(Node::List(list)) = root.get(section).cloned() {
                let list = list
                    .into_iter()
                    .map(|mut e| {
                        if old != "repository"
                            && let Some(r) = e.take(old)
                        {
                            e.set("repository", r);
                        }
                        if let Some(f) = e.take("folder") {
                            e.set("directory", f);
                        }
                        e
                    })
                    .collect();
                root.set(section, Node::List(list));
            }
        }
    }

    fn hooks(&mut self, at: &[Seg], h: &Node) -> Node {
        let list = match h {
            Node::List(l) => l.clone(),
            Node::Null => vec![],
            other => vec![other.clone()],
        };
        let mut out = vec![];
        for (i, item) in list.iter().enumerate() {
            let mut p = at.to_vec();
            p.push(Seg::Index(i));
            match item {
                Node::Map(_) => {
                    let cmd = item.get("cmd").and_then(|c| c.scalar()).unwrap_or_default();
                    let env = item.get("env").map(|e| e.strings()).unwrap_or_default();
                    let dir = item.get("dir").and_then(|d| d.scalar());
                    let mut text = String::new();
                    if let Some(d) = &dir {
                        text.push_str(&format!("sh -c 'cd {d} && exec \"$0\" \"$@\"' "));
                    }
                    if !env.is_empty() {
                        text.push_str("env ");
                        text.push_str(&env.join(" "));
                        text.push(' ');
                    }
                    text.push_str(&cmd);
                    if dir.is_some() || !env.is_empty() {
                        self.approx(&p, "the hook object is written as one command line");
                    }
                    if item.get("output").is_some() {
                        self.approx(
                            &key(&p, "output"),
                            "rel shows a hook's output when it fails (and with -v)",
                        );
                    }
                    out.push(Node::Str(text));
                }
                other => out.push(Node::Str(other.scalar().unwrap_or_default())),
            }
        }
        Node::List(out)
    }

    fn build(&mut self, at: &[Seg], b: &mut Node, project: &str) {
        let builder = b
            .get("builder")
            .and_then(|x| x.scalar())
            .unwrap_or_else(|| "go".into());
        match builder.as_str() {
            "go" => {}
            "rust" => {
                b.set("builder", Node::Str("cargo".into()));
                self.note(&key(at, "builder"), Outcome::Mapped);
            }
            "prebuilt" => {
                if let Some(p) = b.take("prebuilt").and_then(|p| p.get("path").cloned()) {
                    b.set("path", p);
                }
            }
            _ => {}
        }
        if b.get("binary").is_none() {
            // GoReleaser names the binary after the project; rel after the build id.
            b.set("binary", Node::Str(project.to_string()));
        }
        if builder == "go" {
            if b.get("ldflags").is_none() {
                b.set(
                    "ldflags",
                    Node::List(vec![Node::Str(
                        "-s -w -X main.version={{.Version}} -X main.commit={{.Commit}} -X main.date={{.Date}} -X main.builtBy=goreleaser".into(),
                    )]),
                );
            }
            let mut flags = b.take("flags").map(|f| f.strings()).unwrap_or_default();
            let mut added = false;
            if let Some(tags) = b.take("tags") {
                let t = tags.strings();
                if !t.is_empty() {
                    flags.push(format!("-tags={}", t.join(",")));
                    added = true;
                }
            }
            for (k, flag) in [("gcflags", "-gcflags"), ("asmflags", "-asmflags")] {
                if let Some(v) = b.take(k) {
                    for f in v.strings() {
                        flags.push(format!("{flag}={f}"));
                        added = true;
                    }
                }
            }
            if let Some(m) = b.take("buildmode").and_then(|m| m.scalar()) {
                flags.push(format!("-buildmode={m}"));
                added = true;
            }
            let _ = added;
            if !flags.is_empty() {
                b.set(
                    "flags",
                    Node::List(flags.into_iter().map(Node::Str).collect()),
                );
            }
            if let Some(c) = b.take("command") {
                let c = c.scalar().unwrap_or_default();
                if c != "build" {
                    self.drop_key(
                        &key(at, "command"),
                        format!("rel runs `go build`, not `go {c}`"),
                    );
                }
            }
        }
        if let Some(h) = b.take("hooks") {
            let mut hooks = Node::Map(vec![]);
            for which in ["pre", "post"] {
                if let Some(x) = h.get(which) {
                    let p = key(&key(at, "hooks"), which);
                    hooks.set(which, self.hooks(&p, x));
                }
            }
            b.set("hooks", hooks);
        }
        // goarm values: numbers become strings (`7,hardfloat` is kept: rel passes it to Go).
        if let Some(arm) = b.take("goarm") {
            let vals = arm.strings().into_iter().map(Node::Str).collect();
            b.set("goarm", Node::List(vals));
        }
        // GoReleaser builds the mips family as `hardfloat` unless told otherwise, and names
        // the targets so (`linux_mips_hardfloat`); rel's default is Go's, with plain names.
        let mips = b
            .get("goarch")
            .map(|a| a.strings())
            .unwrap_or_default()
            .iter()
            .any(|a| matches!(a.as_str(), "mips" | "mipsle" | "mips64" | "mips64le"));
        if mips && b.get("gomips").is_none() {
            b.set("gomips", Node::List(vec![Node::Str("hardfloat".into())]));
        }
        if let Some(t) = b.get("targets").cloned() {
            let list = t.strings();
            if list.iter().any(|x| x.starts_with("go_")) {
                b.take("targets");
                self.approx(
                    &key(at, "targets"),
                    format!(
                        "`{}` is replaced by rel's goos × goarch matrix",
                        list.join(", ")
                    ),
                );
            }
        }
    }

    fn archive(&mut self, at: &[Seg], a: &mut Node) {
        if let Some(f) = a.take("format") {
            a.set("formats", Node::List(vec![f]));
        } else if let Some(f) = a.take("formats") {
            a.set(
                "formats",
                Node::List(f.strings().into_iter().map(Node::Str).collect()),
            );
        }
        if let Some(ids) = a.take("ids") {
            a.set("builds", ids);
        }
        if let Some(Node::List(overrides)) = a.take("format_overrides") {
            let list = overrides
                .into_iter()
                .map(|mut o| {
                    if let Some(f) = o.take("format") {
                        o.set("formats", Node::List(vec![f]));
                    } else if let Some(f) = o.take("formats") {
                        o.set(
                            "formats",
                            Node::List(f.strings().into_iter().map(Node::Str).collect()),
                        );
                    }
                    o
                })
                .collect();
            a.set("format_overrides", Node::List(list));
        }
        if a.take("rlcp").is_some() {
            self.note(&key(at, "rlcp"), Outcome::Mapped);
        }
        if a.get("name_template").is_none() {
            // GoReleaser's default name, with the amd64 level and the mips float mode.
            a.set(
                "name_template",
                Node::Str(
                    "{{ .ProjectName }}_{{ .Version }}_{{ .Os }}_{{ .Arch }}{{ with .Arm }}v{{ . }}{{ end }}{{ if not (eq .Amd64 \"v1\") }}{{ .Amd64 }}{{ end }}".into(),
                ),
            );
        }
        if let Some(Node::Map(repl)) = a.take("replacements") {
            // v1 `replacements` rename os/arch values inside the name.
            let mut name = a
                .get("name_template")
                .and_then(|n| n.scalar())
                .unwrap_or_default();
            for (field, _) in [("Os", ()), ("Arch", ()), ("Arm", ())] {
                let relevant: Vec<(String, String)> = repl
                    .iter()
                    .map(|(k, v)| (k.clone(), v.scalar().unwrap_or_default()))
                    .filter(|(k, _)| match field {
                        "Os" => crate::target::known_goos().contains(&k.as_str()),
                        "Arch" => {
                            !crate::target::known_goos().contains(&k.as_str())
                                && k.parse::<u32>().is_err()
                        }
                        _ => k.parse::<u32>().is_ok(),
                    })
                    .collect();
                if relevant.is_empty() {
                    continue;
                }
                let mut expr = String::new();
                for (i, (from, to)) in relevant.iter().enumerate() {
                    expr.push_str(&format!(
                        "{{{{ {}if eq .{field} {:?} }}}}{}",
                        if i == 0 { "" } else { "else " },
                        from,
                        to
                    ));
                }
                expr.push_str(&format!("{{{{ else }}}}{{{{ .{field} }}}}{{{{ end }}}}"));
                name = name.replace(&format!("{{{{ .{field} }}}}"), &expr);
                name = name.replace(&format!("{{{{.{field}}}}}"), &expr);
            }
            a.set("name_template", Node::Str(name));
            self.note(&key(at, "replacements"), Outcome::Mapped);
        }
        // GoReleaser lets a `files` glob match nothing (`none*` is the idiom for "no extra
        // files"); rel stops on one, so a glob that matches nothing in the project is left out.
        if let Some(Node::List(files)) = a.take("files") {
            let root = self
                .file
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_default();
            let mut kept = vec![];
            for (i, f) in files.into_iter().enumerate() {
                let glob = f
                    .scalar()
                    .or_else(|| f.get("src").and_then(|s| s.scalar()))
                    .unwrap_or_default();
                let matches = glob.contains("{{")
                    || root.join(glob.trim_start_matches("./")).exists()
                    || crate::fileset::glob_files(&root, &glob).is_ok_and(|m| !m.is_empty());
                if matches {
                    kept.push(f);
                } else {
                    self.approx(
                        &[at, &[Seg::Key("files".into()), Seg::Index(i)]].concat(),
                        format!("`{glob}` matches nothing in the project, so it is left out (GoReleaser allows such a glob; rel stops on one)"),
                    );
                }
            }
            a.set("files", Node::List(kept));
        }
    }

    /// Walk `node` at `path` against rel's schema node: keep what rel has, drop the rest.
    fn walk(&mut self, path: &[Seg], node: Node, schema: &Value) -> Option<Node> {
        let boolean = takes_bool(&self.resolve_ref(schema));
        let schema = self.resolve(schema, &node);
        match node {
            Node::Map(m) => {
                let props = schema.get("properties").cloned();
                let extra = schema.get("additionalProperties").cloned();
                let mut out = vec![];
                for (k, v) in m {
                    let p = key(path, &k);
                    let sub = props
                        .as_ref()
                        .and_then(|ps| ps.get(&k))
                        .cloned()
                        .or_else(|| extra.clone().filter(|e| e.is_object()));
                    match sub {
                        Some(s) => {
                            if let Some(v) = self.walk(&p, v, &s) {
                                out.push((k, v));
                            }
                        }
                        None => {
                            let why = if path.is_empty() {
                                section_reason(&k)
                                    .map(String::from)
                                    .unwrap_or_else(|| format!("rel has no `{k}`"))
                            } else {
                                key_reason(&k)
                                    .map(String::from)
                                    .unwrap_or_else(|| format!("rel has no `{k}` here"))
                            };
                            self.drop_key(&p, why);
                        }
                    }
                }
                Some(Node::Map(out))
            }
            Node::List(l) => {
                let items = schema.get("items").cloned().unwrap_or(Value::Null);
                if schema.get("type") == Some(&Value::String("string".into())) {
                    // rel reads one string where GoReleaser had a list: joined with spaces.
                    let joined = Node::Str(
                        l.iter()
                            .filter_map(|n| n.scalar())
                            .collect::<Vec<_>>()
                            .join(" "),
                    );
                    return self.walk(path, joined, &schema);
                }
                let mut out = vec![];
                for (i, v) in l.into_iter().enumerate() {
                    let mut p = path.to_vec();
                    p.push(Seg::Index(i));
                    if let Some(v) = self.walk(&p, v, &items) {
                        out.push(v);
                    }
                }
                Some(Node::List(out))
            }
            Node::Str(s) => {
                let wants_list = schema.get("type") == Some(&Value::String("array".into()));
                let text = self.template(path, &s);
                if wants_list {
                    Some(Node::List(vec![Node::Str(text)]))
                } else if boolean || takes_bool(&schema) {
                    match go_bool(&text) {
                        Some(b) => Some(Node::Bool(b)),
                        None => {
                            self.drop_key(
                                path,
                                format!("rel takes a boolean here, not the template `{s}`"),
                            );
                            None
                        }
                    }
                } else {
                    Some(Node::Str(text))
                }
            }
            Node::Int(i) if schema.get("type") == Some(&Value::String("string".into())) => {
                Some(Node::Str(i.to_string()))
            }
            Node::Float(f) if schema.get("type") == Some(&Value::String("string".into())) => {
                Some(Node::Str(f.to_string()))
            }
            Node::Bool(b) if schema.get("type") == Some(&Value::String("string".into())) => {
                Some(Node::Str(b.to_string()))
            }
            other => Some(other),
        }
    }

    /// Follow `$ref`s and pick the `anyOf`/`oneOf` branch that fits `node`.
    /// `schema` with its `$ref`s followed, its alternatives kept.
    fn resolve_ref(&self, schema: &Value) -> Value {
        let mut s = schema.clone();
        for _ in 0..16 {
            let Some(r) = s.get("$ref").and_then(|r| r.as_str()) else {
                break;
            };
            let name = r.rsplit('/').next().unwrap_or_default();
            let defs = self
                .schema
                .get("$defs")
                .or_else(|| self.schema.get("definitions"));
            match defs.and_then(|d| d.get(name)) {
                Some(d) => s = d.clone(),
                None => return Value::Null,
            }
        }
        s
    }

    fn resolve(&self, schema: &Value, node: &Node) -> Value {
        let mut s = schema.clone();
        for _ in 0..16 {
            if let Some(r) = s.get("$ref").and_then(|r| r.as_str()) {
                let name = r.rsplit('/').next().unwrap_or_default();
                let defs = self
                    .schema
                    .get("$defs")
                    .or_else(|| self.schema.get("definitions"));
                match defs.and_then(|d| d.get(name)) {
                    Some(d) => {
                        s = d.clone();
                        continue;
                    }
                    None => return Value::Null,
                }
            }
            let alts = s
                .get("anyOf")
                .or_else(|| s.get("oneOf"))
                .and_then(|a| a.as_array())
                .cloned();
            if let Some(alts) = alts {
                let want = match node {
                    Node::Map(_) => "object",
                    Node::List(_) => "array",
                    Node::Str(_) => "string",
                    Node::Bool(_) => "boolean",
                    Node::Int(_) | Node::Float(_) => "number",
                    Node::Null => "null",
                };
                let fits = |v: &Value| -> bool {
                    let v = self.deref(v);
                    match v.get("type") {
                        Some(Value::String(t)) => t == want || (want == "number" && t == "integer"),
                        Some(Value::Array(ts)) => ts
                            .iter()
                            .any(|t| t == want || (want == "number" && t == "integer")),
                        None => want == "object" && v.get("properties").is_some(),
                        _ => false,
                    }
                };
                let pick = alts
                    .iter()
                    .find(|a| fits(a))
                    .or_else(|| {
                        alts.iter().find(|a| {
                            self.deref(a).get("type") != Some(&Value::String("null".into()))
                        })
                    })
                    .cloned()
                    .unwrap_or(Value::Null);
                s = pick;
                continue;
            }
            break;
        }
        if let Some(Value::Array(ts)) = s.get("type") {
            // `["string", "null"]`: the non-null one.
            if let Some(t) = ts.iter().find(|t| *t != "null") {
                let mut c = s.clone();
                c["type"] = t.clone();
                return c;
            }
        }
        s
    }

    fn deref(&self, v: &Value) -> Value {
        match v.get("$ref").and_then(|r| r.as_str()) {
            Some(r) => {
                let name = r.rsplit('/').next().unwrap_or_default();
                self.schema
                    .get("$defs")
                    .or_else(|| self.schema.get("definitions"))
                    .and_then(|d| d.get(name))
                    .cloned()
                    .unwrap_or(Value::Null)
            }
            None => v.clone(),
        }
    }

    /// A string value: Go's `text/template` translated to rel's templates.
    fn template(&mut self, path: &[Seg], s: &str) -> String {
        if !s.contains("{{") {
            return s.to_string();
        }
        let vars = self.vars.clone();
        let local = local_vars(path);
        let t = gotmpl::translate(s, &|p: &[&str]| match p {
            [one] => local
                .iter()
                .find(|(go, _)| go == one)
                .map(|(_, rel)| rel.to_string())
                .or_else(|| var_of(p, &vars)),
            _ => var_of(p, &vars),
        });
        for p in &t.problems {
            self.approx(
                path,
                format!("template {}:{}: {}", p.line, p.column, p.message),
            );
        }
        t.text
    }
}

/// GoReleaser's release notes when no `groups` are given: one flat list under `## Changelog`,
/// each line the short hash and the subject.
const FLAT_CHANGELOG: &str = "## Changelog\n{% for c in commits %}\n* {{ c.line }}\n{% endfor %}\n";

#[cfg(test)]
mod tests {
    #[test]
    fn include_urls_are_read_as_goreleaser_reads_them() {
        assert_eq!(
            super::include_url("charmbracelet/meta/main/goreleaser-simple.yaml"),
            "https://raw.githubusercontent.com/charmbracelet/meta/main/goreleaser-simple.yaml"
        );
        assert_eq!(
            super::include_url("https://example.com/x.yaml"),
            "https://example.com/x.yaml"
        );
    }

    #[test]
    fn header_values_expand_the_environment() {
        let home = std::env::var("HOME").unwrap_or_default();
        assert_eq!(
            super::expand_env("Bearer ${HOME}/$HOME-x $NO_SUCH_VAR_REL."),
            format!("Bearer {home}/{home}-x .")
        );
    }
}
