//! The source stage: an archive of the released commit's files (GoReleaser's `source`), plus
//! `files` of the working tree, and with `vendor: true` a second archive of the vendored
//! dependencies, so the release carries a source that builds offline.
//!
//! The archive is byte-for-byte reproducible: the files are the commit's blobs (see [`tree`]),
//! entries are sorted by path bytes with their folders, owner and group are 0 without names,
//! modes are 0644/0755 (0777 links), every time is the commit's (`SOURCE_DATE_EPOCH` wins),
//! and compression is pinned ([`writer`]); so the same commit gives the same bytes in any
//! checkout, with any umask, on any machine. Only `files[].info` changes what is stored for
//! the files it matches.
//!
//! It needs nothing but git and the `before` hooks (which may generate `files`), so it runs
//! beside the build; in a split release it is made once, by the merge.

mod check;
mod tree;
mod vendor;
pub mod writer;

use super::Stage;
use crate::artifact::{Artifact, Kind as ArtifactKind};
use crate::config::{ArchiveFile, FileSpec};
use crate::context::{Context, reproducible_time};
use crate::error::{Error, IoContext, Result};
use crate::fileset::entry::EntryKind;
use crate::plan::{Plan, PlannedSource, PlannedVendor};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use writer::{Item, Kind, Source};

/// A name written directly in `dist/`: no `/`, no leading `.`.
fn check_name(name: &str, key: &str) -> Result<()> {
    if name.trim().is_empty() || name.contains(['/', '\\']) || name.starts_with('.') {
        return Err(Error::Config(format!(
            "`{key}` gives `{name}`, which is not a plain file name (the source archive is written directly in dist/, so no `/`, no leading `.`)"
        )));
    }
    Ok(())
}

/// The names at the top of the commit's tree below the project root.
fn top_level(ctx: &Context) -> Result<Vec<String>> {
    let out = crate::git::git(
        &ctx.root,
        &["ls-tree", "--name-only", "-z", &ctx.git.commit],
    )?;
    Ok(out
        .split('\0')
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect())
}

/// `source.prefix_template`, rendered: a folder path inside the archive, or none.
fn prefix(ctx: &Context) -> Result<Option<String>> {
    let Some(t) = &ctx.config.source.prefix_template else {
        return Ok(None);
    };
    let p = ctx.render("source.prefix_template", t)?;
    let p = p.trim_matches('/');
    if p.split('/').any(|c| c.is_empty() || c == "." || c == "..") && !p.is_empty() {
        return Err(Error::Config(format!(
            "`source.prefix_template` gives `{p}`, which is not a folder path inside the archive"
        )));
    }
    Ok((!p.is_empty()).then(|| p.to_string()))
}

/// `source.files[j].info.mtime`, rendered and read as RFC 3339: unix seconds.
fn info_mtime(ctx: &Context, j: usize, t: &str) -> Result<i64> {
    let key = format!("source.files[{j}].info.mtime");
    let s = ctx.render(&key, t)?;
    s.trim()
        .parse::<jiff::Timestamp>()
        .map(|ts| ts.as_second())
        .map_err(|e| Error::Template {
            key,
            template: t.to_string(),
            message: format!("rendered `{s}`, which is not an RFC 3339 time ({e})"),
        })
}

/// What the source stage will write, from names alone: the commit's top-level names are
/// read to know what to vendor. Errors (exit 2): a template that fails, a name that is not a
/// plain file name, `vendor` for a project that is neither a Go module nor a Rust package,
/// or its tool missing from `PATH`.
pub fn plan_source(ctx: &Context) -> Result<PlannedSource> {
    let s = &ctx.config.source;
    let format = s.format.unwrap_or_default();
    let template = s.name_template.as_deref().unwrap_or(check::DEFAULT_NAME);
    let base = ctx.render("source.name_template", template)?;
    let name = format!("{base}.{}", format.name());
    check_name(&name, "source.name_template")?;
    let prefix = prefix(ctx)?;
    for (j, f) in s.files.iter().enumerate() {
        if let ArchiveFile::Spec(spec) = f
            && let Some(t) = spec.info.as_ref().and_then(|i| i.mtime.as_ref())
        {
            info_mtime(ctx, j, t)?;
        }
    }
    let vendor = if s.vendor {
        let top = top_level(ctx)?;
        let tools = vendor::tools(&top.iter().map(String::as_str).collect::<Vec<_>>());
        if tools.is_empty() {
            return Err(Error::Config(format!(
                "`source.vendor`: commit {} has neither go.mod nor Cargo.toml in {}, so there is nothing to vendor",
                crate::git::short_hash(&ctx.git.commit, 12),
                ctx.root.display()
            )));
        }
        for t in &tools {
            super::on_path(t, "source.vendor")?;
        }
        let vname = format!("{base}-vendor.{}", format.name());
        check_name(&vname, "source.name_template")?;
        Some(PlannedVendor {
            path: ctx.dist.join(&vname),
            name: vname,
            tools,
        })
    } else {
        None
    };
    Ok(PlannedSource {
        path: ctx.dist.join(&name),
        name,
        commit: ctx.git.commit.clone(),
        prefix,
        vendor,
    })
}

/// The commit's files and the `files` matches, by path relative to the project root (no
/// prefix, no folders but submodules'). Errors (exit 1): a `files` glob that matches nothing,
/// a match at a path the commit has with other bytes, two different matches at one path.
fn contents(ctx: &Context, commit: &str, mtime: i64) -> Result<BTreeMap<String, Item>> {
    let listed = tree::list(&ctx.root, commit)?;
    let links: Vec<String> = listed
        .iter()
        .filter(|e| e.what == tree::What::Symlink)
        .map(|e| e.oid.clone())
        .collect();
    let targets = if links.is_empty() {
        Default::default()
    } else {
        tree::read_small(&ctx.root, &links)?
    };
    let mut items: BTreeMap<String, Item> = BTreeMap::new();
    let mut committed: BTreeMap<String, String> = BTreeMap::new();
    for e in listed {
        let (kind, executable) = match e.what {
            tree::What::File { executable, size } => (
                Kind::File(Source::Blob {
                    oid: e.oid.clone(),
                    size,
                }),
                executable,
            ),
            tree::What::Symlink => {
                let target = targets.get(&e.oid).cloned().unwrap_or_default();
                let target = String::from_utf8(target).map_err(|_| {
                    Error::Failed(format!("the target of the link {} is not UTF-8", e.path))
                })?;
                (Kind::Symlink(target), false)
            }
            tree::What::Submodule => (Kind::Dir, false),
        };
        committed.insert(e.path.clone(), e.oid);
        items.insert(e.path.clone(), Item::new(e.path, kind, executable, mtime));
    }
    let root = ctx.root.canonicalize().ctx("cannot resolve", &ctx.root)?;
    let top = ctx.root.join(&ctx.config.dist);
    let dist = top.canonicalize().unwrap_or(top);
    let mut added: BTreeMap<String, String> = BTreeMap::new();
    for (j, f) in ctx.config.source.files.iter().enumerate() {
        // The stored metadata is applied here, not by the file set.
        let (spec, info) = match f {
            ArchiveFile::Glob(g) => (
                FileSpec {
                    src: g.clone(),
                    dst: None,
                    strip_parent: false,
                    info: None,
                },
                None,
            ),
            ArchiveFile::Spec(s) => (
                FileSpec {
                    info: None,
                    ..s.clone()
                },
                s.info.as_ref(),
            ),
        };
        let origin = format!("source.files[{j}]");
        let found = crate::fileset::resolve(
            &root,
            std::slice::from_ref(&dist),
            Some(&[ArchiveFile::Spec(spec)]),
            "source",
        )
        .map_err(|e| match e {
            Error::Failed(m) => Error::Failed(m.replacen("source.files[0]", &origin, 1)),
            Error::Config(m) => Error::Config(m.replacen("source.files[0]", &origin, 1)),
            other => other,
        })?;
        let time = match info.and_then(|i| i.mtime.as_ref()) {
            Some(t) => info_mtime(ctx, j, t)?,
            None => mtime,
        };
        for r in found {
            let shown = r.origin.replacen("source.files[0]", &origin, 1);
            let (kind, executable, disk) = match r.kind {
                EntryKind::File { source, executable } => (
                    Kind::File(Source::Disk(source.clone())),
                    executable,
                    Some(source),
                ),
                EntryKind::Symlink { target } => (Kind::Symlink(target), false, None),
                EntryKind::Dir => (Kind::Dir, false, None),
            };
            let mut item = Item::new(r.dest.clone(), kind, executable, time);
            if let Some(i) = info {
                if let Some(m) = i.mode {
                    item.mode = m & 0o7777;
                }
                item.owner = i.owner.clone().unwrap_or_default();
                item.group = i.group.clone().unwrap_or_default();
            }
            if let Some(first) = added.get(&r.dest) {
                if items.get(&r.dest) != Some(&item) {
                    return Err(Error::Failed(format!(
                        "two different files would be stored at `{}` in the source archive: {first} and {shown}",
                        r.dest
                    )));
                }
                continue;
            }
            if let Some(oid) = committed.get(&r.dest) {
                // The committed file itself (a glob matching tracked files) is harmless; a
                // different one would make the archive say something the commit does not.
                let same = match &disk {
                    Some(p) => tree::hash_object(&ctx.root, p)? == *oid,
                    None => false,
                };
                if !same {
                    return Err(Error::Failed(format!(
                        "{shown} would store `{}` in the source archive, but commit {} has other content there; the source archive holds the commit's files (commit the change, or give the file another `dst`)",
                        r.dest,
                        crate::git::short_hash(&ctx.git.commit, 12)
                    )));
                }
            }
            added.insert(r.dest.clone(), shown);
            items.insert(r.dest, item);
        }
    }
    Ok(items)
}

/// `items` below `prefix`, with every folder they need, sorted by path bytes (a parent
/// always before its children). A path that would be both a file and a folder is an error.
fn with_folders(
    prefix: Option<&str>,
    items: impl IntoIterator<Item = Item>,
    mtime: i64,
) -> Result<Vec<Item>> {
    let mut all: BTreeMap<String, Item> = BTreeMap::new();
    for mut it in items {
        if let Some(p) = prefix {
            it.path = format!("{p}/{}", it.path);
        }
        all.insert(it.path.clone(), it);
    }
    let mut folders = vec![];
    for path in all.keys() {
        let mut at = 0;
        while let Some(i) = path[at..].find('/') {
            folders.push(path[..at + i].to_string());
            at += i + 1;
        }
    }
    for f in folders {
        match all.get(&f) {
            Some(it) if it.kind != Kind::Dir => {
                return Err(Error::Failed(format!(
                    "`{f}` would be both a file and a folder in the source archive"
                )));
            }
            Some(_) => {}
            None => {
                all.insert(f.clone(), Item::new(f, Kind::Dir, false, mtime));
            }
        }
    }
    // BTreeMap<String> iterates in byte order of the path.
    Ok(all.into_values().collect())
}

/// The object ids of the blob items, in their order: what `git cat-file --batch` is asked.
fn blob_order(items: &[Item]) -> Vec<String> {
    items
        .iter()
        .filter_map(|it| match &it.kind {
            Kind::File(Source::Blob { oid, .. }) => Some(oid.clone()),
            _ => None,
        })
        .collect()
}

/// Write `items` to `path` through a temporary file; its artifact.
fn produce(
    ctx: &Context,
    name: &str,
    path: &Path,
    items: &[Item],
    contents: &mut dyn writer::Contents,
) -> Result<Artifact> {
    let format = ctx.config.source.format.unwrap_or_default();
    let tmp = crate::dist::temp_beside(path, "tmp");
    let threads = ctx.options.parallelism.max(1) as u32;
    let written = {
        let _slot = ctx.slots.acquire(crate::slots::Priority::Package);
        writer::write(format, items, contents, &tmp, threads)
            .ctx(&format!("cannot write the source archive {name} to"), &tmp)
            .and_then(|w| {
                std::fs::rename(&tmp, path)
                    .ctx("cannot write", path)
                    .map(|()| w)
            })
    };
    let (sha, size) = match written {
        Ok(w) => w,
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            return Err(e);
        }
    };
    let mut a = Artifact::new(ArtifactKind::SourceArchive, name, ctx.rel_path(path));
    a.size = Some(size);
    a.sha256 = Some(sha);
    a.extra.insert("format".into(), format.name().into());
    Ok(a)
}

/// Write the commit's files into `dir` (a temporary copy of the source to vendor in).
fn materialise(root: &Path, dir: &Path, items: &[Item]) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mut blobs = tree::Blobs::start(root, blob_order(items))?;
    for it in items {
        let dest = dir.join(&it.path);
        match &it.kind {
            Kind::Dir => std::fs::create_dir_all(&dest).ctx("cannot create", &dest)?,
            Kind::Symlink(target) => {
                std::os::unix::fs::symlink(target, &dest).ctx("cannot create the link", &dest)?
            }
            Kind::File(source) => {
                let mut f = std::fs::File::create(&dest).ctx("cannot create", &dest)?;
                writer::Contents::with(&mut blobs, source, &mut |r, _| {
                    std::io::copy(r, &mut f).map(|_| ())
                })
                .ctx("cannot write", &dest)?;
                let mode = if it.mode & 0o111 != 0 { 0o755 } else { 0o644 };
                std::fs::set_permissions(&dest, std::fs::Permissions::from_mode(mode))
                    .ctx("cannot set the mode of", &dest)?;
            }
        }
    }
    blobs.finish()
}

/// The vendor archive: the source copied into a temporary folder, the tools run there, and
/// what they wrote archived below the same prefix.
fn produce_vendor(
    ctx: &Context,
    p: &PlannedSource,
    v: &PlannedVendor,
    files: &[Item],
    mtime: i64,
) -> Result<Artifact> {
    let tmp = tempfile::Builder::new()
        .prefix("rel-source-vendor-")
        .tempdir()
        .map_err(|e| Error::Failed(format!("cannot create a temporary folder: {e}")))?;
    let tree_dir = tmp.path().join("src");
    std::fs::create_dir_all(&tree_dir).ctx("cannot create", &tree_dir)?;
    let tree_items = with_folders(None, files.iter().cloned(), mtime)?;
    materialise(&ctx.root, &tree_dir, &tree_items)?;
    let committed = |path: &str| files.iter().any(|it| it.path == path);
    let vendored = vendor::vendor(ctx, &tree_dir, &v.tools, &committed, mtime)?;
    let count = vendored
        .iter()
        .filter(|i| matches!(i.kind, Kind::File(_)))
        .count();
    let items = with_folders(p.prefix.as_deref(), vendored, mtime)?;
    let mut a = produce(ctx, &v.name, &v.path, &items, &mut writer::DiskOnly)?;
    a.extra.insert("vendored".into(), v.tools.clone().into());
    a.extra.insert("commit".into(), p.commit.clone().into());
    tracing::info!(
        "source: {} ({} vendored files, {} bytes)",
        v.name,
        count,
        a.size.unwrap_or_default()
    );
    Ok(a)
}

/// The source stage.
pub struct SourceStage;

impl Stage for SourceStage {
    fn name(&self) -> &'static str {
        "source"
    }

    fn skip(&self, ctx: &Context) -> Option<String> {
        if !ctx.config.source.enabled {
            return Some("source.enabled is false".into());
        }
        if !ctx.git.is_repo {
            return Some("not a git repository: there is no commit to archive".into());
        }
        super::skipped_by_flag(ctx, "source")
    }

    fn defaults(&self, config: &mut crate::config::Config, _d: &super::Defaults) {
        check::defaults(config);
    }

    fn check(&self, c: &mut crate::config::validate::Checker) {
        check::check(c);
    }

    fn plan(&self, ctx: &Context, plan: &mut Plan) -> Result<()> {
        let p = plan_source(ctx)?;
        let hint = "change `source.name_template`";
        plan.claim(&p.name, "the source archive", hint)?;
        if let Some(v) = &p.vendor {
            plan.claim(&v.name, "the source archive's vendored dependencies", hint)?;
        }
        plan.source = Some(p);
        Ok(())
    }

    /// Only git and the `before` hooks (which may write `files`): it runs beside the build.
    fn waits_for(&self) -> super::Waits {
        super::Waits::Only(&["before"])
    }

    fn run(&self, ctx: &Context) -> Result<()> {
        let Some(p) = &ctx.plan.source else {
            return Ok(());
        };
        let mtime = reproducible_time(&ctx.git)?;
        let files: Vec<Item> = contents(ctx, &p.commit, mtime)?.into_values().collect();
        let items = with_folders(p.prefix.as_deref(), files.iter().cloned(), mtime)?;
        // The vendoring (mostly waiting on the tools) runs beside the source archive.
        let (source, vendored) = std::thread::scope(|s| {
            let vendored = p
                .vendor
                .as_ref()
                .map(|v| s.spawn(|| produce_vendor(ctx, p, v, &files, mtime)));
            let source = tree::Blobs::start(&ctx.root, blob_order(&items)).and_then(|mut blobs| {
                let a = produce(ctx, &p.name, &p.path, &items, &mut blobs)?;
                blobs.finish()?;
                Ok(a)
            });
            if source.is_err() {
                ctx.cancel.store(true, std::sync::atomic::Ordering::SeqCst);
            }
            let vendored = vendored.map(|h| {
                h.join().unwrap_or_else(|_| {
                    Err(Error::Failed(
                        "source.vendor: the vendoring thread panicked".into(),
                    ))
                })
            });
            (source, vendored)
        });
        let mut a = source?;
        a.extra.insert("commit".into(), p.commit.clone().into());
        if let Some(prefix) = &p.prefix {
            a.extra.insert("prefix".into(), prefix.clone().into());
        }
        tracing::info!(
            "source: {} ({} files of commit {}, {} bytes)",
            p.name,
            files.len(),
            crate::git::short_hash(&p.commit, 12),
            a.size.unwrap_or_default()
        );
        ctx.artifacts.add(a);
        if let Some(v) = vendored {
            ctx.artifacts.add(v?);
        }
        Ok(())
    }
}

/// Where a planned source archive's name comes from, for the dry run.
pub fn describe(p: &PlannedSource) -> Vec<(PathBuf, String)> {
    let mut out = vec![(
        p.path.clone(),
        format!(
            "commit {}{}",
            crate::git::short_hash(&p.commit, 12),
            p.prefix
                .as_ref()
                .map(|x| format!(", in {x}/"))
                .unwrap_or_default()
        ),
    )];
    if let Some(v) = &p.vendor {
        out.push((
            v.path.clone(),
            format!(
                "dependencies vendored by {}",
                v.tools
                    .iter()
                    .map(|t| format!("`{t} {}vendor`", if t == "go" { "mod " } else { "" }))
                    .collect::<Vec<_>>()
                    .join(" and ")
            ),
        ));
    }
    out
}
