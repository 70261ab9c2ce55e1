//! The archive stage: the binaries of each target, with the project's files, packed as
//! `tar.gz`, `tar.xz`, `tar.zst`, `zip`, or copied bare (`binary`).
//!
//! Names come first: [`plan`] is a pure function of the config, the context and the build plan,
//! so `--dry-run` prints the same names the real run writes, and two archives that would share
//! a name stop the release before anything is built (see [`ArchiveStage::preflight`]).
//! Archives are then written in parallel on one pool of `--parallelism` workers, each through
//! a temporary file renamed into place, so `dist/` never holds a half-written archive.

use crate::fileset::{self as files, entry};
mod check;
pub mod writer;

use super::Stage;
use crate::artifact::{Artifact, Filter, Kind};
use crate::config::{Format, Wrap};
use crate::context::{Context, reproducible_time};
use crate::error::{Error, IoContext, Result};
use crate::hash::sha256_file;
use crate::plan::{Plan, PlannedArchive, PlannedBuild};
use crate::progress::Progress;
use entry::{EntryKind, EntrySet};
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

/// Default archive name template (GoReleaser's).
pub const DEFAULT_NAME: &str =
    "{{ project_name }}_{{ version }}_{{ os }}_{{ arch }}{% if arm %}v{{ arm }}{% endif %}";

fn check_name(name: &str, key: &str) -> Result<()> {
    if name.trim().is_empty()
        || name.contains(['/', '\\'])
        || name == "."
        || name == ".."
        || name.starts_with('.')
    {
        return Err(Error::Config(format!(
            "`{key}` gives `{name}`, which is not a plain file name (archives are written directly in dist/, so no `/`, no leading `.`)"
        )));
    }
    Ok(())
}

/// The formats of `archives[index]` for operating system `os` (`format_overrides` first).
pub fn formats_for(a: &crate::config::Archive, os: &str) -> Vec<Format> {
    match a.format_overrides.iter().find(|o| o.goos == os) {
        Some(o) => o.formats.clone(),
        None => a.formats.clone(),
    }
}

/// Every archive this run writes, computed from names alone (no file is read).
///
/// An archive groups, per target, the binaries of its `builds` (all builds by default) that
/// have that target: a build that lacks a target is simply absent from that target's
/// archive. A planned universal binary joins as target `darwin_all` when the archive takes
/// one of the builds it is made from; with `replace`, those builds' darwin binaries are left
/// out. Errors (exit 2): a template that fails, a name that is not a plain file name, two
/// outputs with one name (including rel's own files and the builds' folders).
pub fn plan_archives(ctx: &Context, builds: &Plan) -> Result<Vec<PlannedArchive>> {
    let mut out = vec![];
    for (index, a) in ctx.config.archives.iter().enumerate() {
        let id = a.id.clone().unwrap_or_default();
        let mut groups: BTreeMap<String, Vec<&PlannedBuild>> = BTreeMap::new();
        let takes = |id: &String| a.builds.is_empty() || a.builds.contains(id);
        for pb in builds
            .builds
            .iter()
            .filter(|pb| takes(&pb.id) && !builds.replaced_by_universal(pb))
        {
            groups.entry(pb.target.name()).or_default().push(pb);
        }
        for u in builds
            .universals
            .iter()
            .filter(|u| u.sources.iter().any(|s| takes(&s.id)))
        {
            groups
                .entry(u.binary.target.name())
                .or_default()
                .push(&u.binary);
        }
        let key = format!("archives[{index}].name_template");
        let template = a.name_template.as_deref().unwrap_or(DEFAULT_NAME);
        for group in groups.values() {
            let first = group[0];
            for format in formats_for(a, &first.target.os) {
                // `none`: this target has no archive in this entry.
                if format == Format::None {
                    continue;
                }
                // The config check refuses most of these at their line; this also covers
                // what only the plan knows, such as a universal binary joining a gz archive.
                if format == Format::Gz && group.len() > 1 {
                    return Err(Error::Config(format!(
                        "archives[{index}]: the gz format holds one binary, but {} has {} ({}); use tar.gz, or one build per archive",
                        first.target.name(),
                        group.len(),
                        group
                            .iter()
                            .map(|b| b.id.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )));
                }
                if format == Format::Binary {
                    for pb in group {
                        let base = ctx.templates.render(&key, template, &pb.vars)?;
                        let name = format!("{base}{}", pb.target.ext());
                        check_name(&name, &key)?;
                        out.push(PlannedArchive {
                            index,
                            id: id.clone(),
                            format,
                            path: ctx.dist.join(&name),
                            name,
                            target: pb.target.clone(),
                            binaries: vec![(*pb).clone()],
                            wrap: None,
                        });
                    }
                    continue;
                }
                let base = ctx.templates.render(&key, template, &first.vars)?;
                let name = format!("{base}{}", format.ext());
                check_name(&name, &key)?;
                let wrap = match &a.wrap_in_directory {
                    Wrap::Bool(false) => None,
                    Wrap::Bool(true) => Some(base.clone()),
                    Wrap::Name(t) => Some(ctx.templates.render(
                        &format!("archives[{index}].wrap_in_directory"),
                        t,
                        &first.vars,
                    )?),
                };
                let wrap = wrap
                    .map(|w| w.trim_matches('/').to_string())
                    .filter(|w| !w.is_empty());
                if let Some(w) = &wrap
                    && w.split('/').any(|c| c.is_empty() || c == "." || c == "..")
                {
                    return Err(Error::Config(format!(
                        "`archives[{index}].wrap_in_directory` gives `{w}`, which is not a folder name inside the archive"
                    )));
                }
                out.push(PlannedArchive {
                    index,
                    id: id.clone(),
                    format,
                    path: ctx.dist.join(&name),
                    name,
                    target: first.target.clone(),
                    binaries: group.iter().map(|pb| (*pb).clone()).collect(),
                    wrap,
                });
            }
        }
    }
    Ok(out)
}

fn describe(p: &PlannedArchive) -> String {
    let ids: Vec<&str> = p.binaries.iter().map(|b| b.id.as_str()).collect();
    format!(
        "archive `{}` ({}, builds {}, {})",
        p.id,
        format_name(p.format),
        ids.join("+"),
        p.target.name()
    )
}

/// The config spelling of a format.
pub fn format_name(f: Format) -> &'static str {
    f.name()
}

/// What one worker does.
enum Job {
    /// Write an archive of these entries.
    Pack(Vec<entry::Entry>),
    /// Copy this binary (`binary` format).
    Copy(PathBuf),
}

/// Turn a planned archive into the list of what goes in it: the name comes from the plan,
/// the binaries from the registry (what was built, wherever it was built).
fn job(ctx: &Context, p: &PlannedArchive, files: &[files::Resolved]) -> Result<Job> {
    // A gz file holds the binary alone.
    let files = if p.format == Format::Gz {
        &[][..]
    } else {
        files
    };
    let built = |pb: &PlannedBuild| -> Result<(String, PathBuf)> {
        let input = Filter::kind(Kind::Binary)
            .and(Filter::build_id(&pb.id))
            .and(Filter::target(&pb.target.name()));
        let found = ctx.artifacts.select(&input);
        match found.first() {
            Some(a) if ctx.root.join(&a.path).is_file() => {
                Ok((a.name.clone(), ctx.root.join(&a.path)))
            }
            _ => Err(Error::Failed(format!(
                "{}: the binary of build `{}` for {} is missing ({}); was it built?",
                describe(p),
                pb.id,
                pb.target.name(),
                found
                    .first()
                    .map(|a| a.path.clone())
                    .unwrap_or_else(|| "not in the registry".into())
            ))),
        }
    };
    if p.format == Format::Binary {
        return Ok(Job::Copy(built(&p.binaries[0])?.1));
    }
    let prefix = |path: &str| match &p.wrap {
        Some(w) => format!("{w}/{path}"),
        None => path.to_string(),
    };
    let mut set = EntrySet::default();
    let a = &ctx.config.archives[p.index];
    let binary_info = match &a.builds_info {
        Some(i) => ctx.file_info(&format!("archives[{}].builds_info", p.index), i)?,
        None => Default::default(),
    };
    for pb in &p.binaries {
        let (name, source) = built(pb)?;
        set.add_with(
            &prefix(&name),
            EntryKind::File {
                source,
                executable: true,
            },
            &format!("the binary of build `{}`", pb.id),
            binary_info.clone(),
        )
        .map_err(|e| Error::Failed(format!("{}: {e}", describe(p))))?;
    }
    for f in files {
        let info = match &f.info {
            Some(i) => ctx.file_info(&f.origin, i)?,
            None => Default::default(),
        };
        set.add_with(&prefix(&f.dest), f.kind.clone(), &f.origin, info)
            .map_err(|e| Error::Failed(format!("{}: {e}", describe(p))))?;
    }
    Ok(Job::Pack(set.into_sorted()?))
}

/// Write one planned archive; returns its artifact.
fn produce(
    ctx: &Context,
    p: &PlannedArchive,
    job: &Job,
    settings: writer::Settings,
) -> Result<Artifact> {
    let tmp = crate::dist::temp_beside(&p.path, "tmp");
    let written = match job {
        Job::Pack(entries) => writer::write(p.format, entries, &tmp, settings)
            .ctx(&format!("cannot write {} to", describe(p)), &tmp),
        Job::Copy(src) => {
            use std::os::unix::fs::PermissionsExt;
            std::fs::copy(src, &tmp)
                .and_then(|_| {
                    std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o755))
                })
                .ctx("cannot copy the binary to", &tmp)
                .and_then(|_| sha256_file(&tmp))
        }
    };
    let (sha, size) = match written.and_then(|w| {
        std::fs::rename(&tmp, &p.path)
            .ctx("cannot write", &p.path)
            .map(|()| w)
    }) {
        Ok(w) => w,
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            return Err(e);
        }
    };
    let kind = if p.format == Format::Binary {
        Kind::UploadableBinary
    } else {
        Kind::Archive
    };
    let mut a = Artifact::new(kind, p.name.clone(), ctx.rel_path(&p.path));
    let ids: Vec<String> = p.binaries.iter().map(|b| b.id.clone()).collect();
    a.build_id = (ids.len() == 1).then(|| ids[0].clone());
    a.set_target(&p.target);
    a.size = Some(size);
    a.sha256 = Some(sha);
    a.extra.insert("id".into(), p.id.clone().into());
    a.extra
        .insert("format".into(), format_name(p.format).into());
    a.extra.insert("builds".into(), ids.into());
    a.extra.insert(
        "binaries".into(),
        p.binaries
            .iter()
            .map(|b| b.binary.clone())
            .collect::<Vec<_>>()
            .into(),
    );
    if let Some(w) = &p.wrap {
        a.extra.insert("wrap_in_directory".into(), w.clone().into());
    }
    Ok(a)
}

/// The archive stage.
pub struct ArchiveStage;

impl Stage for ArchiveStage {
    fn name(&self) -> &'static str {
        "archive"
    }

    fn skip(&self, ctx: &Context) -> Option<String> {
        super::skipped_by_flag(ctx, "archive")
    }

    fn defaults(&self, config: &mut crate::config::Config, _d: &super::Defaults) {
        check::defaults(config);
    }

    fn check(&self, c: &mut crate::config::validate::Checker) {
        check::check(c);
    }

    fn plan(&self, ctx: &Context, plan: &mut Plan) -> Result<()> {
        // `builds_info` and `files[].info` times render now, so a bad one stops the run
        // before anything is built.
        for (i, a) in ctx.config.archives.iter().enumerate() {
            if let Some(info) = &a.builds_info {
                ctx.file_info(&format!("archives[{i}].builds_info"), info)?;
            }
            for (j, f) in a.files.iter().flatten().enumerate() {
                if let crate::config::ArchiveFile::Spec(s) = f
                    && let Some(info) = &s.info
                {
                    ctx.file_info(&format!("archives[{i}].files[{j}].info"), info)?;
                }
            }
        }
        let archives = plan_archives(ctx, plan)?;
        for p in &archives {
            plan.claim(
                &p.name,
                &describe(p),
                &format!(
                    "make `archives[{}].name_template` tell them apart (e.g. add {{{{ arch }}}}, {{{{ arm }}}}, {{{{ amd64 }}}} or {{{{ binary }}}})",
                    p.index
                ),
            )?;
        }
        plan.archives = archives;
        Ok(())
    }

    /// Archives stream from the build: each starts once its own binaries are built.
    fn waits_for(&self) -> super::Waits {
        super::Waits::Only(&["before"])
    }

    fn run(&self, ctx: &Context) -> Result<()> {
        let planned = &ctx.plan.archives;
        for (i, a) in ctx.config.archives.iter().enumerate() {
            if !planned.iter().any(|p| p.index == i) {
                tracing::warn!(
                    "archive `{}` (archives[{i}]) has no binaries in this run (its builds are skipped or have no targets): nothing written",
                    a.id.as_deref().unwrap_or_default()
                );
            }
        }
        if planned.is_empty() {
            return Ok(());
        }
        // Resolve every archive's files before writing anything: a bad glob stops the stage
        // with no archive written.
        let root = ctx.root.canonicalize().ctx("cannot resolve", &ctx.root)?;
        // The whole output folder is left out of `files`, not just this share's part of it.
        let top = ctx.root.join(&ctx.config.dist);
        let dist = top.canonicalize().ctx("cannot resolve", &top)?;
        let mut resolved: HashMap<usize, Vec<files::Resolved>> = HashMap::new();
        for p in planned {
            // `binary` and `gz` hold the binary alone: `files` does not apply.
            if !matches!(p.format, Format::Binary | Format::Gz) && !resolved.contains_key(&p.index)
            {
                let a = &ctx.config.archives[p.index];
                let list = files::resolve(
                    &root,
                    std::slice::from_ref(&dist),
                    a.files.as_deref(),
                    &format!("archives[{}]", p.index),
                )?;
                resolved.insert(p.index, list);
            }
        }
        let workers = ctx.options.parallelism.max(1);
        let settings = writer::Settings {
            mtime: reproducible_time(&ctx.git)?,
            threads: (workers / planned.len().max(1)).max(1) as u32,
        };
        let progress = std::sync::Mutex::new(Progress::new(planned.len() as u64, "archiving"));
        // An archive starts the moment its binaries are built; once the builds are over,
        // the rest are taken too and fail naming the binary that is missing.
        let ready = |i: usize, reg: &crate::artifact::Registry, board: &crate::artifact::Board| {
            let have = |pb: &PlannedBuild| {
                !reg.select(
                    &Filter::kind(Kind::Binary)
                        .and(Filter::build_id(&pb.id))
                        .and(Filter::target(&pb.target.name())),
                )
                .is_empty()
            };
            board.earlier_finished("archive") || planned[i].binaries.iter().all(have)
        };
        let made = super::stream_map(ctx, "archive", planned.len(), workers, ready, |i| {
            // No binaries at all (every build skipped): nothing to archive, not an error.
            if ctx.artifacts.of_kind(Kind::Binary).is_empty() {
                return Ok(false);
            }
            let p = &planned[i];
            let files = resolved
                .get(&p.index)
                .map(Vec::as_slice)
                .unwrap_or_default();
            let start = std::time::Instant::now();
            let a = job(ctx, p, files).and_then(|j| produce(ctx, p, &j, settings))?;
            progress.lock().expect("progress").done(&format!(
                "archived {} ({} bytes, {:.1?})",
                a.name,
                a.size.unwrap_or_default(),
                start.elapsed()
            ));
            // Registered at once: its checksum and upload need nothing else.
            ctx.artifacts.add(a);
            Ok(true)
        })?;
        progress.into_inner().expect("progress").finish();
        if !made.contains(&true) {
            tracing::info!("archive: nothing to archive (no binaries were built)");
        }
        Ok(())
    }
}
