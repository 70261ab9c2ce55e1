//! Whether a Dockerfile only copies files onto a base, and if so what the image holds.
//!
//! A Dockerfile whose stages use only `FROM`, `COPY`/`ADD` of local files, `ENTRYPOINT`,
//! `CMD`, `ENV`, `USER`, `WORKDIR`, `EXPOSE`, `LABEL`, `ARG`, `VOLUME` and `STOPSIGNAL`
//! needs no engine: the result is the base image plus one layer of copied files and a config
//! change, which rel writes itself. The first instruction that needs more (`RUN`, a heredoc,
//! `ADD` of a URL or an archive, a named `--chown`, a copy out of another image) is returned
//! with its line, so the dry run and the error can name it.

use super::dockerfile::{Args, Dockerfile, Instruction, expand, pairs, words};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A file the layer will hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileEntry {
    /// Where it comes from (`None`: a folder rel creates, such as `WORKDIR`).
    pub src: Option<PathBuf>,
    /// Permission bits.
    pub mode: u32,
    /// Owner.
    pub uid: u64,
    /// Group.
    pub gid: u64,
}

/// The config changes a Dockerfile makes on top of its base.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfigChanges {
    /// `ENV` in order.
    pub env: Vec<(String, String)>,
    /// `ENTRYPOINT`, when set.
    pub entrypoint: Option<Vec<String>>,
    /// `CMD`, when set.
    pub cmd: Option<Vec<String>>,
    /// `USER`.
    pub user: Option<String>,
    /// `WORKDIR`, absolute.
    pub workdir: Option<String>,
    /// `EXPOSE`d ports (`8080/tcp`).
    pub exposed: Vec<String>,
    /// `LABEL`s.
    pub labels: BTreeMap<String, String>,
    /// `VOLUME`s.
    pub volumes: Vec<String>,
    /// `STOPSIGNAL`.
    pub stop_signal: Option<String>,
}

/// A copy-only Dockerfile, resolved for one platform.
#[derive(Debug, Clone, Default)]
pub struct CopyOnly {
    /// The final stage's base image (`None`: scratch).
    pub base: Option<String>,
    /// Image path (no leading `/`) → entry; empty when the context was not read.
    pub files: BTreeMap<String, FileEntry>,
    /// The instructions that wrote files, for the history.
    pub steps: Vec<String>,
    /// Config changes.
    pub config: ConfigChanges,
}

/// Why rel cannot build a Dockerfile itself, or what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blocker {
    /// 1-based line.
    pub line: usize,
    /// What it is.
    pub reason: String,
    /// The Dockerfile is wrong (an engine would fail too), rather than needing an engine.
    pub invalid: bool,
}

fn engine(i: &Instruction, reason: impl Into<String>) -> Blocker {
    Blocker {
        line: i.line,
        reason: reason.into(),
        invalid: false,
    }
}

fn invalid(i: &Instruction, reason: impl Into<String>) -> Blocker {
    Blocker {
        line: i.line,
        reason: reason.into(),
        invalid: true,
    }
}

#[derive(Debug, Clone, Default)]
struct StageState {
    name: Option<String>,
    base: Option<String>,
    files: BTreeMap<String, FileEntry>,
    steps: Vec<String>,
    config: ConfigChanges,
    vars: BTreeMap<String, String>,
}

/// Arguments rel sets for every build, which a stage sees only after `ARG NAME`.
pub fn platform_args(platform: &str) -> BTreeMap<String, String> {
    let parts: Vec<&str> = platform.split('/').collect();
    let host = format!("linux/{}", host_arch());
    let mut m = BTreeMap::new();
    m.insert("TARGETPLATFORM".into(), platform.to_string());
    m.insert("TARGETOS".into(), parts.first().unwrap_or(&"").to_string());
    m.insert("TARGETARCH".into(), parts.get(1).unwrap_or(&"").to_string());
    m.insert(
        "TARGETVARIANT".into(),
        parts.get(2).unwrap_or(&"").to_string(),
    );
    m.insert("BUILDPLATFORM".into(), host.clone());
    m.insert("BUILDOS".into(), "linux".into());
    m.insert("BUILDARCH".into(), host_arch().into());
    m.insert("BUILDVARIANT".into(), String::new());
    m
}

/// The machine's architecture in Go's spelling.
pub fn host_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "arm" => "arm",
        "powerpc64" => "ppc64le",
        "s390x" => "s390x",
        "riscv64" => "riscv64",
        other => other,
    }
}

/// Normalise an image path: absolute against `workdir`, `.` and `..` resolved, no leading
/// `/`. Trailing `/` is kept as a marker of "a folder".
fn image_path(p: &str, workdir: &str) -> String {
    let dir = p.ends_with('/') || p.ends_with("/.") || p == ".";
    let full = if p.starts_with('/') {
        p.to_string()
    } else {
        format!("{workdir}/{p}")
    };
    let mut parts: Vec<&str> = vec![];
    for seg in full.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            s => parts.push(s),
        }
    }
    let mut out = parts.join("/");
    if dir && !out.is_empty() {
        out.push('/');
    }
    out
}

fn is_glob(s: &str) -> bool {
    s.contains(['*', '?', '['])
}

fn is_archive(s: &str) -> bool {
    let l = s.to_ascii_lowercase();
    [
        ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz", ".tar.zst",
    ]
    .iter()
    .any(|e| l.ends_with(e))
}

/// Every regular file under `dir`, as paths relative to it with `/`.
fn walk(dir: &Path) -> Vec<String> {
    let mut out = vec![];
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            match std::fs::metadata(&p) {
                Ok(m) if m.is_dir() => stack.push(p),
                Ok(m) if m.is_file() => {
                    if let Ok(rel) = p.strip_prefix(dir) {
                        out.push(rel.to_string_lossy().replace('\\', "/"));
                    }
                }
                _ => {}
            }
        }
    }
    out.sort();
    out
}

fn file_mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p)
        .map(|m| m.permissions().mode() & 0o7777)
        .unwrap_or(0o644)
}

/// Decide and, when `context` is given, resolve every copied file. `build_args` are the
/// `--build-arg` values plus [`platform_args`].
pub fn analyze(
    df: &Dockerfile,
    build_args: &BTreeMap<String, String>,
    context: Option<&Path>,
) -> Result<CopyOnly, Blocker> {
    let esc = df.escape;
    let mut global: BTreeMap<String, String> = BTreeMap::new();
    let mut stages: Vec<StageState> = vec![];
    for i in &df.instructions {
        let kw = i.keyword.as_str();
        if i.heredoc {
            return Err(engine(i, format!("`{kw}` with a heredoc")));
        }
        if stages.is_empty() && kw != "FROM" {
            if kw == "ARG" {
                let Args::Shell(a) = &i.args else {
                    return Err(invalid(i, "ARG takes NAME[=default]"));
                };
                for (k, v) in pairs(a) {
                    let v = build_args
                        .get(&k)
                        .cloned()
                        .unwrap_or_else(|| expand(&v, &global, esc));
                    global.insert(k, v);
                }
                continue;
            }
            return Err(invalid(i, format!("`{kw}` before the first FROM")));
        }
        match kw {
            "FROM" => {
                let text = match &i.args {
                    Args::Shell(s) => s.clone(),
                    Args::Json(_) => return Err(invalid(i, "FROM takes an image reference")),
                };
                let mut scope = global.clone();
                for (k, v) in platform_args(
                    build_args
                        .get("TARGETPLATFORM")
                        .map(String::as_str)
                        .unwrap_or("linux/amd64"),
                ) {
                    scope.entry(k).or_insert(v);
                }
                if let Some(p) = i.flag("platform") {
                    let p = expand(p, &scope, esc);
                    if Some(&p) != build_args.get("TARGETPLATFORM") {
                        return Err(engine(
                            i,
                            format!("FROM --platform={p} (a stage for another platform)"),
                        ));
                    }
                }
                let w = words(&expand(&text, &scope, esc));
                let (image, name) = match w.as_slice() {
                    [img] => (img.clone(), None),
                    [img, as_, name] if as_.eq_ignore_ascii_case("as") => {
                        (img.clone(), Some(name.clone()))
                    }
                    _ => return Err(invalid(i, format!("cannot read `FROM {text}`"))),
                };
                let mut st = match stages
                    .iter()
                    .find(|s| s.name.as_deref() == Some(image.as_str()))
                {
                    Some(prev) => prev.clone(),
                    None => StageState {
                        base: (image != "scratch").then_some(image),
                        ..Default::default()
                    },
                };
                st.name = name;
                st.vars = BTreeMap::new();
                stages.push(st);
            }
            "ARG" => {
                let st = stages.last_mut().expect("a stage");
                let Args::Shell(a) = &i.args else {
                    return Err(invalid(i, "ARG takes NAME[=default]"));
                };
                for (k, v) in pairs(a) {
                    let has_default = a.contains(&format!("{k}="));
                    let value = build_args
                        .get(&k)
                        .cloned()
                        .or_else(|| global.get(&k).filter(|_| !has_default).cloned())
                        .unwrap_or_else(|| expand(&v, &st.vars, esc));
                    st.vars.insert(k, value);
                }
            }
            "ENV" => {
                let st = stages.last_mut().expect("a stage");
                let Args::Shell(a) = &i.args else {
                    return Err(invalid(i, "ENV takes KEY=value pairs"));
                };
                for (k, v) in pairs(a) {
                    let v = expand(&v, &st.vars, esc);
                    st.vars.insert(k.clone(), v.clone());
                    st.config.env.retain(|(x, _)| x != &k);
                    st.config.env.push((k, v));
                }
            }
            "LABEL" => {
                let st = stages.last_mut().expect("a stage");
                let Args::Shell(a) = &i.args else {
                    return Err(invalid(i, "LABEL takes key=value pairs"));
                };
                for (k, v) in pairs(a) {
                    st.config
                        .labels
                        .insert(expand(&k, &st.vars, esc), expand(&v, &st.vars, esc));
                }
            }
            "ENTRYPOINT" | "CMD" => {
                let st = stages.last_mut().expect("a stage");
                let list = match &i.args {
                    Args::Json(v) => v.clone(),
                    Args::Shell(s) if s.is_empty() => vec![],
                    Args::Shell(s) => vec!["/bin/sh".into(), "-c".into(), s.clone()],
                };
                if kw == "ENTRYPOINT" {
                    st.config.entrypoint = Some(list);
                    // An ENTRYPOINT resets the base's CMD (unless a CMD follows).
                    st.config.cmd = Some(st.config.cmd.take().unwrap_or_default());
                } else {
                    st.config.cmd = Some(list);
                }
            }
            "USER" => {
                let st = stages.last_mut().expect("a stage");
                let Args::Shell(a) = &i.args else {
                    return Err(invalid(i, "USER takes a user"));
                };
                st.config.user = Some(expand(a.trim(), &st.vars, esc));
            }
            "WORKDIR" => {
                let st = stages.last_mut().expect("a stage");
                let Args::Shell(a) = &i.args else {
                    return Err(invalid(i, "WORKDIR takes a path"));
                };
                let cur = st.config.workdir.clone().unwrap_or_else(|| "/".into());
                let p = image_path(&expand(a.trim(), &st.vars, esc), &cur);
                let p = p.trim_end_matches('/').to_string();
                if !p.is_empty() && !st.files.contains_key(&p) {
                    st.files.insert(
                        p.clone(),
                        FileEntry {
                            src: None,
                            mode: 0o755,
                            uid: 0,
                            gid: 0,
                        },
                    );
                }
                st.config.workdir = Some(format!("/{p}"));
            }
            "EXPOSE" => {
                let st = stages.last_mut().expect("a stage");
                let Args::Shell(a) = &i.args else {
                    return Err(invalid(i, "EXPOSE takes ports"));
                };
                for p in words(&expand(a, &st.vars, esc)) {
                    let p = if p.contains('/') {
                        p
                    } else {
                        format!("{p}/tcp")
                    };
                    if !st.config.exposed.contains(&p) {
                        st.config.exposed.push(p);
                    }
                }
            }
            "VOLUME" => {
                let st = stages.last_mut().expect("a stage");
                let v = match &i.args {
                    Args::Json(v) => v.clone(),
                    Args::Shell(s) => words(s),
                };
                for x in v {
                    let x = expand(&x, &st.vars, esc);
                    if !st.config.volumes.contains(&x) {
                        st.config.volumes.push(x);
                    }
                }
            }
            "STOPSIGNAL" => {
                let st = stages.last_mut().expect("a stage");
                if let Args::Shell(a) = &i.args {
                    st.config.stop_signal = Some(expand(a.trim(), &st.vars, esc));
                }
            }
            "MAINTAINER" => {}
            "COPY" | "ADD" => {
                let n = stages.len() - 1;
                let (done, rest) = stages.split_at_mut(n);
                copy(i, &mut rest[0], done, context, esc)?;
            }
            "RUN" => return Err(engine(i, "`RUN` runs a command")),
            "SHELL" | "HEALTHCHECK" | "ONBUILD" => {
                return Err(engine(i, format!("`{kw}` is kept only by an engine")));
            }
            other => return Err(invalid(i, format!("unknown instruction `{other}`"))),
        }
    }
    let last = stages.pop().unwrap_or_default();
    Ok(CopyOnly {
        base: last.base,
        files: last.files,
        steps: last.steps,
        config: last.config,
    })
}

/// One COPY or ADD: sources resolved in the context (or in an earlier stage), destination
/// against WORKDIR, modes from the files or `--chmod`, owners from `--chown`.
fn copy(
    i: &Instruction,
    st: &mut StageState,
    earlier: &[StageState],
    context: Option<&Path>,
    esc: char,
) -> Result<(), Blocker> {
    let kw = i.keyword.as_str();
    for (f, _) in &i.flags {
        if !matches!(f.as_str(), "from" | "chown" | "chmod" | "link") {
            return Err(engine(i, format!("`{kw} --{f}`")));
        }
    }
    let mut list = match &i.args {
        Args::Json(v) => v.clone(),
        Args::Shell(s) => words(s),
    };
    let list: Vec<String> = list.drain(..).map(|w| expand(&w, &st.vars, esc)).collect();
    if list.len() < 2 {
        return Err(invalid(i, format!("{kw} needs a source and a destination")));
    }
    let (dest, sources) = list.split_last().expect("two or more");
    let uid_gid = match i.flag("chown") {
        None => (0, 0),
        Some(c) => {
            let c = expand(c, &st.vars, esc);
            let (u, g) = c.split_once(':').unwrap_or((&c, &c));
            let num = |s: &str| match s {
                "root" => Some(0),
                s => s.parse::<u64>().ok(),
            };
            match (num(u), num(g)) {
                (Some(u), Some(g)) => (u, g),
                _ => {
                    return Err(engine(
                        i,
                        format!(
                            "`--chown={c}` names a user or group (only the image's /etc/passwd knows it)"
                        ),
                    ));
                }
            }
        }
    };
    let chmod = match i.flag("chmod") {
        None => None,
        Some(m) => Some(
            u32::from_str_radix(m, 8)
                .map_err(|_| engine(i, format!("`--chmod={m}` is not an octal mode")))?,
        ),
    };
    let workdir = st.config.workdir.clone().unwrap_or_else(|| "/".into());
    let dest_path = image_path(dest, &workdir);
    let dest_is_dir = dest_path.ends_with('/') || dest_path.is_empty();
    let from_stage = match i.flag("from") {
        None => None,
        Some(f) => {
            let f = expand(f, &st.vars, esc);
            let found = earlier
                .iter()
                .position(|s| s.name.as_deref() == Some(f.as_str()))
                .or_else(|| f.parse::<usize>().ok().filter(|n| *n < earlier.len()));
            match found {
                Some(n) => Some(&earlier[n]),
                None => {
                    return Err(engine(
                        i,
                        format!("`{kw} --from={f}` copies out of another image"),
                    ));
                }
            }
        }
    };
    if kw == "ADD" {
        for s in sources {
            if s.contains("://") || s.starts_with("git@") {
                return Err(engine(i, format!("`ADD {s}` downloads")));
            }
            if is_archive(s) {
                return Err(engine(i, format!("`ADD {s}` unpacks an archive")));
            }
        }
    }
    st.steps.push(i.text());
    let Some(ctx_dir) = context else {
        // Whether the files come from the stage's own copies is known only with the context;
        // before that, a stage on a base image may hand over the base's files.
        if let Some(from) = from_stage
            && from.base.is_some()
        {
            return Err(engine(
                i,
                format!(
                    "`{kw} --from={}` may copy files of the image {}",
                    from.name.clone().unwrap_or_default(),
                    from.base.clone().unwrap_or_default()
                ),
            ));
        }
        return Ok(());
    };
    // (image path or context path relative, source file, mode)
    let mut matched: Vec<(String, FileEntry, bool)> = vec![];
    for src in sources {
        match from_stage {
            Some(from) => {
                let s = image_path(src, "/");
                let s = s.trim_end_matches('/');
                let mut hits = vec![];
                for (p, e) in &from.files {
                    let Some(src_file) = &e.src else { continue };
                    let mut entry = e.clone();
                    entry.src = Some(src_file.clone());
                    if p == s {
                        let name = p.rsplit('/').next().unwrap_or(p).to_string();
                        hits.push((name, entry, false));
                    } else if s.is_empty() || p.starts_with(&format!("{s}/")) {
                        let rel = if s.is_empty() {
                            p.as_str()
                        } else {
                            &p[s.len() + 1..]
                        };
                        hits.push((rel.to_string(), entry, true));
                    } else if is_glob(s)
                        && globset::Glob::new(s)
                            .map(|g| g.compile_matcher().is_match(p))
                            .unwrap_or(false)
                    {
                        let name = p.rsplit('/').next().unwrap_or(p).to_string();
                        hits.push((name, entry, false));
                    }
                }
                if hits.is_empty() {
                    return Err(match &from.base {
                        Some(b) => engine(
                            i,
                            format!(
                                "`{kw} --from` copies /{s}, which is not among the stage's own copies (it may be in the image {b})"
                            ),
                        ),
                        None => invalid(i, format!("/{s} is not in the stage it copies from")),
                    });
                }
                matched.extend(hits);
            }
            None => {
                let rel = image_path(src, "/");
                let rel = rel.trim_end_matches('/');
                if rel.split('/').any(|s| s == "..") || src.contains("..") && rel.is_empty() {
                    return Err(invalid(i, format!("`{src}` is outside the build context")));
                }
                let full = ctx_dir.join(rel);
                if is_glob(rel) {
                    let m = globset::GlobBuilder::new(rel)
                        .literal_separator(true)
                        .build()
                        .map_err(|e| invalid(i, format!("bad pattern `{src}`: {e}")))?
                        .compile_matcher();
                    let hits: Vec<String> = walk(ctx_dir)
                        .into_iter()
                        .filter(|p| m.is_match(p))
                        .collect();
                    if hits.is_empty() {
                        return Err(invalid(
                            i,
                            format!("no file in the build context matches `{src}`"),
                        ));
                    }
                    for h in hits {
                        let p = ctx_dir.join(&h);
                        let name = h.rsplit('/').next().unwrap_or(&h).to_string();
                        matched.push((name, entry_of(&p, uid_gid), false));
                    }
                } else if full.is_dir() {
                    for h in walk(&full) {
                        let p = full.join(&h);
                        matched.push((h, entry_of(&p, uid_gid), true));
                    }
                } else if full.is_file() {
                    let name = rel.rsplit('/').next().unwrap_or(rel).to_string();
                    matched.push((name, entry_of(&full, uid_gid), false));
                } else {
                    return Err(invalid(
                        i,
                        format!(
                            "`{src}` is not in the build context (it holds: {})",
                            context_listing(ctx_dir)
                        ),
                    ));
                }
            }
        }
    }
    let many = sources.len() > 1 || matched.len() > 1 || matched.iter().any(|m| m.2);
    if many && !dest_is_dir && sources.len() > 1 {
        return Err(invalid(
            i,
            format!(
                "`{kw}` of several sources needs a destination folder ending in `/` (not `{dest}`)"
            ),
        ));
    }
    for (name, mut entry, in_dir) in matched {
        let path = if in_dir || dest_is_dir || many {
            format!("{}/{name}", dest_path.trim_end_matches('/'))
        } else {
            dest_path.clone()
        };
        let path = path.trim_start_matches('/').to_string();
        if let Some(m) = chmod {
            entry.mode = m;
        }
        entry.uid = uid_gid.0;
        entry.gid = uid_gid.1;
        st.files.insert(path, entry);
    }
    Ok(())
}

fn entry_of(p: &Path, (uid, gid): (u64, u64)) -> FileEntry {
    FileEntry {
        src: Some(p.to_path_buf()),
        mode: file_mode(p),
        uid,
        gid,
    }
}

fn context_listing(dir: &Path) -> String {
    let all = walk(dir);
    let n = all.len();
    let mut shown: Vec<String> = all.into_iter().take(8).collect();
    if n > 8 {
        shown.push(format!("… {} more", n - 8));
    }
    if shown.is_empty() {
        "nothing".into()
    } else {
        shown.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::super::dockerfile::parse;
    use super::*;

    fn args(p: &str) -> BTreeMap<String, String> {
        platform_args(p)
    }

    #[test]
    fn copy_only_dockerfiles_are_read_without_an_engine() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("linux/arm64")).unwrap();
        std::fs::write(dir.path().join("linux/arm64/app"), b"bin").unwrap();
        std::fs::write(dir.path().join("LICENSE"), b"MIT").unwrap();
        let df = parse(
            "FROM scratch\nARG TARGETPLATFORM\nWORKDIR /srv\nCOPY $TARGETPLATFORM/app /usr/bin/\nCOPY --chmod=600 --chown=10:20 LICENSE doc/\nENV A=1 B=\"x y\"\nENTRYPOINT [\"/usr/bin/app\"]\nEXPOSE 8080\nUSER 65532\nLABEL a=b\n",
        )
        .unwrap();
        let got = analyze(&df, &args("linux/arm64"), Some(dir.path())).unwrap();
        assert_eq!(got.base, None);
        let keys: Vec<&str> = got.files.keys().map(String::as_str).collect();
        assert_eq!(keys, vec!["srv", "srv/doc/LICENSE", "usr/bin/app"]);
        let lic = &got.files["srv/doc/LICENSE"];
        assert_eq!((lic.mode, lic.uid, lic.gid), (0o600, 10, 20));
        assert_eq!(got.config.workdir.as_deref(), Some("/srv"));
        assert_eq!(
            got.config.env,
            vec![("A".into(), "1".into()), ("B".into(), "x y".into())]
        );
        assert_eq!(
            got.config.entrypoint,
            Some(vec!["/usr/bin/app".to_string()])
        );
        assert_eq!(got.config.cmd, Some(vec![]));
        assert_eq!(got.config.exposed, vec!["8080/tcp"]);
        assert_eq!(got.config.user.as_deref(), Some("65532"));
    }

    #[test]
    fn undeclared_platform_args_are_empty_in_a_stage() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("app"), b"bin").unwrap();
        let df = parse("FROM scratch\nCOPY ${TARGETARCH}app /app\n").unwrap();
        let got = analyze(&df, &args("linux/amd64"), Some(dir.path())).unwrap();
        assert!(got.files.contains_key("app"));
    }

    #[test]
    fn names_the_line_that_needs_an_engine() {
        let df = parse("FROM alpine\nCOPY app /app\nRUN apk add ca-certificates\n").unwrap();
        let b = analyze(&df, &args("linux/amd64"), None).unwrap_err();
        assert_eq!((b.line, b.invalid), (3, false));
        assert!(b.reason.contains("RUN"), "{}", b.reason);
        for (text, line) in [
            ("FROM x\nADD https://e.org/a /a\n", 2),
            ("FROM x\nADD app.tar.gz /\n", 2),
            ("FROM x\nCOPY --chown=app:app a /a\n", 2),
            (
                "FROM golang AS b\nCOPY a /a\nFROM scratch\nCOPY --from=b /a /a\n",
                4,
            ),
            ("FROM x\nCOPY --from=alpine /etc/ssl /etc/ssl\n", 2),
            ("FROM x\nHEALTHCHECK CMD true\n", 2),
        ] {
            let b = analyze(&parse(text).unwrap(), &args("linux/amd64"), None).unwrap_err();
            assert_eq!((b.line, b.invalid), (line, false), "{text}: {}", b.reason);
        }
    }

    #[test]
    fn copies_between_scratch_stages_and_reports_missing_sources() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("app"), b"bin").unwrap();
        let df = parse("FROM scratch AS bins\nCOPY app /out/app\nFROM busybox\nCOPY --from=bins /out/ /usr/local/bin/\nCMD [\"app\"]\n").unwrap();
        let got = analyze(&df, &args("linux/amd64"), Some(dir.path())).unwrap();
        assert_eq!(got.base.as_deref(), Some("busybox"));
        assert!(
            got.files.contains_key("usr/local/bin/app"),
            "{:?}",
            got.files.keys()
        );
        let df = parse("FROM scratch\nCOPY missing /x\n").unwrap();
        let b = analyze(&df, &args("linux/amd64"), Some(dir.path())).unwrap_err();
        assert!(
            b.invalid
                && b.reason
                    .contains("not in the build context (it holds: app)"),
            "{}",
            b.reason
        );
    }
}
