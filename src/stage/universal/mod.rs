//! The universal stage: GoReleaser's `universal_binaries`, macOS universal (fat) binaries
//! joined from the darwin amd64 and arm64 binaries of some builds, written by rel itself
//! ([`macho`]) so a release needs no `lipo` and gives the same bytes on any machine.
//!
//! The plan names each universal binary (`dist/<id>_darwin_all/<name>`, target `darwin_all`)
//! before anything is built, so the archive stage plans archives of it (named with `all` as
//! their arch) and, with `replace`, leaves the per-architecture darwin binaries out: archives
//! learn what to pack from the plan alone. The run streams from the build: each universal
//! binary is written as soon as its inputs are registered.
//!
//! Split releases: both darwin binaries must be in one share. `--partial-by goos` (the
//! default) puts them in the darwin share, which writes the universal binary before its
//! archives; `--partial-by target` cannot, and a darwin share cut that way stops with exit 2.
//! The merge plans the universal binaries too, so it expects the darwin share to hold them.

pub mod macho;

use super::Stage;
use crate::artifact::{Artifact, Filter, Kind};
use crate::config::locate::Seg;
use crate::config::validate::{Checker, per_target};
use crate::config::{Config, UniversalBinary};
use crate::context::Context;
use crate::error::{Error, IoContext, Result};
use crate::exec::{self, Invocation};
use crate::options::{PartialBy, Phase};
use crate::plan::{Plan, PlannedBuild, PlannedUniversal, matrix, target_vars};
use crate::suggest::did_you_mean;
use crate::target::Target;
use crate::template::Vars;
use std::collections::{BTreeMap, HashSet};
use std::path::Path;

/// Default name of a universal binary: the name of the binaries it joins.
pub const DEFAULT_NAME: &str = "{{ binary }}";

/// The architectures a universal binary joins, in Go's spelling.
const ARCHES: &[&str] = &["amd64", "arm64"];

/// The target of every universal binary (GoReleaser's `darwin_all`).
pub fn target() -> Target {
    Target::go("darwin", "all", None, None)
}

/// Whether a target is one a universal binary takes a slice from.
fn joinable(t: &Target) -> bool {
    t.os == "darwin" && ARCHES.contains(&t.arch.as_str())
}

/// The darwin targets of a build's matrix that a universal binary can join (none when the
/// matrix does not expand; the build's own check reports that).
fn darwin_targets(b: &crate::config::Build) -> Vec<Target> {
    matrix::expand(b)
        .map(|ts| ts.into_iter().filter(joinable).collect())
        .unwrap_or_default()
}

fn defaults(config: &mut Config, project_name: &str) {
    let darwin: Vec<String> = config
        .builds
        .iter()
        .filter(|b| !darwin_targets(b).is_empty())
        .filter_map(|b| b.id.clone())
        .collect();
    for (i, u) in config.universal_binaries.iter_mut().enumerate() {
        if u.id.is_none() {
            // The build stage's rule, so a lone entry's binaries keep the build's id.
            u.id = Some(if i == 0 {
                project_name.to_string()
            } else {
                format!("{project_name}-{i}")
            });
        }
        if u.ids.is_empty() {
            u.ids = darwin.clone();
        }
        if u.name_template.is_none() {
            u.name_template = Some(DEFAULT_NAME.into());
        }
    }
}

fn check(c: &mut Checker) {
    let config = c.config;
    let vars = per_target();
    let mut with_output = vars.clone();
    with_output.push("output");
    let known: Vec<&str> = config
        .builds
        .iter()
        .filter_map(|b| b.id.as_deref())
        .collect();
    let mut seen = HashSet::new();
    for (i, u) in config.universal_binaries.iter().enumerate() {
        let at = |rest: &[Seg]| {
            let mut v = vec![Seg::from("universal_binaries"), Seg::from(i)];
            v.extend_from_slice(rest);
            v
        };
        let id = u.id.clone().unwrap_or_default();
        if !seen.insert(id.clone()) {
            c.push(
                at(&["id".into()]),
                format!("duplicate universal binary id `{id}`"),
                Some("give each `universal_binaries` entry its own `id`".into()),
            );
        }
        if id.is_empty() || id.contains('/') || id.contains("..") {
            c.push(
                at(&["id".into()]),
                format!("universal binary id `{id}` must be a non-empty name without `/`"),
                None,
            );
        }
        if u.ids.is_empty() {
            c.push(
                at(&[]),
                "no build has a darwin/amd64 or darwin/arm64 target to join",
                Some("add `darwin` to a build's `goos`, or remove this entry".into()),
            );
        }
        // One slice per architecture: count what the named builds would give each.
        let mut per_arch: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        let mut unknown = false;
        for (j, bid) in u.ids.iter().enumerate() {
            let Some(b) = config.builds.iter().find(|b| b.id.as_deref() == Some(bid)) else {
                unknown = true;
                let hint = did_you_mean(bid, known.iter().copied())
                    .map(|s| format!("did you mean `{s}`?"));
                c.push(
                    at(&["ids".into(), j.into()]),
                    format!("universal binary refers to unknown build id `{bid}`"),
                    hint,
                );
                continue;
            };
            for t in darwin_targets(b) {
                let arch = ARCHES
                    .iter()
                    .find(|a| **a == t.arch)
                    .expect("joinable arch");
                per_arch
                    .entry(arch)
                    .or_default()
                    .push(format!("`{bid}` {}", t.name()));
            }
        }
        if !unknown && !u.ids.is_empty() && per_arch.is_empty() {
            c.push(
                at(&["ids".into()]),
                format!(
                    "builds {} have no darwin/amd64 or darwin/arm64 target to join",
                    u.ids.join(", ")
                ),
                Some("add `darwin` to their `goos`".into()),
            );
        }
        for (arch, list) in &per_arch {
            if list.len() > 1 {
                c.push(
                    at(&["ids".into()]),
                    format!(
                        "a universal binary holds one darwin/{arch} binary, but these builds have {}: {}",
                        list.len(),
                        list.join(", ")
                    ),
                    Some(
                        "list one build per architecture in `ids`, or keep one `goamd64` level"
                            .into(),
                    ),
                );
            }
        }
        if let Some(t) = &u.name_template {
            c.template(at(&["name_template".into()]), t, &vars);
        }
        if let Some(t) = &u.mod_timestamp {
            c.template(at(&["mod_timestamp".into()]), t, &vars);
        }
        for (which, list) in [("pre", &u.hooks.pre), ("post", &u.hooks.post)] {
            c.commands(at(&["hooks".into(), which.into()]), list, &with_output);
        }
    }
}

/// A universal binary's file name must be a plain name: it goes into its own folder.
fn check_name(name: &str, key: &str) -> Result<()> {
    if name.trim().is_empty() || name.contains(['/', '\\']) || name == "." || name == ".." {
        return Err(Error::Config(format!(
            "`{key}` gives `{name}`, which is not a plain file name"
        )));
    }
    Ok(())
}

/// The universal binaries this run writes. An entry whose sources are all absent from the
/// run (another share's, or left out by `--id`) is not planned; one that has some but not
/// all of them is not planned either (`--single-target`, `--id`: said in the log), except in
/// a share cut by target, where it never could be: that is exit 2.
fn plan_universals(ctx: &Context, plan: &Plan) -> Result<Vec<PlannedUniversal>> {
    let mut out = vec![];
    for (index, u) in ctx.config.universal_binaries.iter().enumerate() {
        let id = u.id.clone().unwrap_or_default();
        let sources: Vec<PlannedBuild> = plan
            .builds
            .iter()
            .filter(|pb| u.ids.contains(&pb.id) && joinable(&pb.target))
            .cloned()
            .collect();
        let missing: Vec<String> = ctx
            .config
            .builds
            .iter()
            .filter(|b| !b.skip)
            .filter_map(|b| Some((b.id.clone()?, b)))
            .filter(|(bid, _)| u.ids.contains(bid))
            .flat_map(|(bid, b)| darwin_targets(b).into_iter().map(move |t| (bid.clone(), t)))
            .filter(|(bid, t)| !sources.iter().any(|s| &s.id == bid && &s.target == t))
            .map(|(bid, t)| format!("{bid} {}", t.name()))
            .collect();
        if sources.is_empty() {
            tracing::info!(
                "universal binary `{id}`: none of its darwin builds is in this run, so it is not made here"
            );
            continue;
        }
        if !missing.is_empty() {
            if let Some(share) = &ctx.options.share
                && share.by == PartialBy::Target
            {
                return Err(Error::Config(format!(
                    "`universal_binaries[{index}]` (`{id}`) joins {} and {}, but share `{}` builds only the first: a universal binary needs every darwin binary it joins in one share\n  split with `--partial-by goos`, which puts every darwin target in the darwin share",
                    describe_sources(&sources),
                    missing.join(", "),
                    share.name
                )));
            }
            tracing::warn!(
                "universal binary `{id}` is not made in this run: it also joins {}, which this run does not build",
                missing.join(", ")
            );
            continue;
        }
        let first = &sources[0];
        let t = target();
        let mut vars: Vars = target_vars(&ctx.vars, &t);
        if let Some(b) = first.vars.get("binary") {
            vars.insert("binary".into(), b.clone());
        }
        let key = format!("universal_binaries[{index}].name_template");
        let name = ctx.templates.render(
            &key,
            u.name_template.as_deref().unwrap_or(DEFAULT_NAME),
            &vars,
        )?;
        check_name(&name, &key)?;
        let folder = format!("{id}_{}", t.name());
        let output = ctx.dist.join(&folder).join(&name);
        let binary = PlannedBuild {
            index: first.index,
            id: id.clone(),
            builder: first.builder,
            target: t,
            binary: name,
            output,
            vars,
        };
        out.push(PlannedUniversal {
            index,
            sources,
            binary,
            replace: u.replace,
        });
    }
    Ok(out)
}

fn describe_sources(sources: &[PlannedBuild]) -> String {
    sources
        .iter()
        .map(|s| format!("{} {}", s.id, s.target.name()))
        .collect::<Vec<_>>()
        .join(", ")
}

fn label(u: &PlannedUniversal) -> String {
    format!("universal binary `{}`", u.binary.id)
}

/// The template variables of hooks: the universal binary's, with `output` its path.
fn hook_vars(u: &PlannedUniversal) -> Vars {
    let mut vars = u.binary.vars.clone();
    vars.insert(
        "output".into(),
        minijinja::Value::from(u.binary.output.to_string_lossy().into_owned()),
    );
    vars
}

/// Render every hook of `u` into argv lists (done while planning, so a template or quoting
/// error stops the release before any build, and again when the hook runs).
fn hook_commands(
    ctx: &Context,
    u: &PlannedUniversal,
    which: &str,
    list: &[String],
) -> Result<Vec<Vec<String>>> {
    let vars = hook_vars(u);
    list.iter()
        .enumerate()
        .map(|(i, h)| {
            let key = format!("universal_binaries[{}].hooks.{which}[{i}]", u.index);
            exec::split(&ctx.templates.render(&key, h, &vars)?)
        })
        .collect()
}

fn mod_time(ctx: &Context, u: &PlannedUniversal, template: &str) -> Result<u64> {
    let key = format!("universal_binaries[{}].mod_timestamp", u.index);
    let s = ctx.templates.render(&key, template, &u.binary.vars)?;
    s.trim().parse().map_err(|_| Error::Template {
        key,
        template: template.into(),
        message: format!("rendered `{s}`, which is not unix seconds"),
    })
}

fn run_hooks(ctx: &Context, u: &PlannedUniversal, which: &str, list: &[String]) -> Result<()> {
    for argv in hook_commands(ctx, u, which, list)? {
        let inv = Invocation {
            stdin: None,
            argv,
            env: ctx.env.clone().into_iter().collect(),
            dir: ctx.root.clone(),
        };
        exec::run(
            &format!("{which}-hook of {}", label(u)),
            &inv,
            &ctx.cancel,
            ctx.options.deadline,
        )?;
    }
    Ok(())
}

/// Wait until every source binary of `u` is registered; the build's artifacts, in the order
/// of `u.sources`. An error naming what is missing once the build has finished without it.
fn wait_for_sources(ctx: &Context, u: &PlannedUniversal) -> Result<Vec<Artifact>> {
    let found = ctx.artifacts.wait_for("universal", |reg, board| {
        let found: Vec<Option<Artifact>> = u
            .sources
            .iter()
            .map(|s| {
                reg.select(
                    &Filter::kind(Kind::Binary)
                        .and(Filter::build_id(&s.id))
                        .and(Filter::target(&s.target.name())),
                )
                .into_iter()
                .next()
            })
            .collect();
        if found.iter().all(Option::is_some) || board.earlier_finished("universal") {
            Some(found)
        } else {
            None
        }
    })?;
    let missing: Vec<String> = u
        .sources
        .iter()
        .zip(&found)
        .filter(|(_, f)| f.is_none())
        .map(|(s, _)| format!("{} {}", s.id, s.target.name()))
        .collect();
    if !missing.is_empty() {
        return Err(Error::Failed(format!(
            "{}: the binary of build {} is missing; was it built?",
            label(u),
            missing.join(", ")
        )));
    }
    Ok(found.into_iter().flatten().collect())
}

/// Read each input's Mach-O header, checking it is a thin Mach-O file of its target's
/// architecture (a `command` or `prebuilt` build can hand over anything).
fn slices(ctx: &Context, u: &PlannedUniversal, inputs: &[Artifact]) -> Result<Vec<macho::Slice>> {
    u.sources
        .iter()
        .zip(inputs)
        .map(|(s, a)| {
            let path = ctx.root.join(&a.path);
            let slice = macho::Slice::read(&path)
                .ctx("cannot read", &path)?
                .map_err(|e| {
                    Error::Failed(format!(
                        "{}: the binary of build `{}` for {} ({}) {e}",
                        label(u),
                        s.id,
                        s.target.name(),
                        a.path
                    ))
                })?;
            if slice.header.goarch() != Some(s.target.arch.as_str()) {
                return Err(Error::Failed(format!(
                    "{}: the binary of build `{}` for {} ({}) is a Mach-O file for {}, not {}",
                    label(u),
                    s.id,
                    s.target.name(),
                    a.path,
                    slice.header.arch_name(),
                    s.target.arch
                )));
            }
            Ok(slice)
        })
        .collect()
}

/// Write the universal file through a temporary file renamed into place.
fn write_fat(u: &PlannedUniversal, slices: &mut [macho::Slice]) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let arches = macho::layout(slices).map_err(|e| Error::Failed(format!("{}: {e}", label(u))))?;
    let out = &u.binary.output;
    let dir = out.parent().expect("output has a folder");
    std::fs::create_dir_all(dir).ctx("cannot create", dir)?;
    let tmp = crate::dist::temp_beside(out, "tmp");
    let written = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        macho::write(&mut f, slices, &arches)?;
        f.set_permissions(std::fs::Permissions::from_mode(0o755))?;
        drop(f);
        std::fs::rename(&tmp, out)
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(Error::io("cannot write", out, e));
    }
    Ok(())
}

fn set_mtime(path: &Path, secs: u64) -> Result<()> {
    let time = std::time::UNIX_EPOCH
        .checked_add(std::time::Duration::from_secs(secs))
        .ok_or_else(|| Error::Failed(format!("{secs} is not a representable time")))?;
    std::fs::File::options()
        .write(true)
        .open(path)
        .and_then(|f| f.set_modified(time))
        .ctx("cannot set the modification time of", path)
}

/// Make one universal binary and register it.
fn make(ctx: &Context, u: &PlannedUniversal) -> Result<Artifact> {
    let cfg: &UniversalBinary = &ctx.config.universal_binaries[u.index];
    let inputs = wait_for_sources(ctx, u)?;
    run_hooks(ctx, u, "pre", &cfg.hooks.pre)?;
    {
        let _slot = ctx.slots.acquire(crate::slots::Priority::Package);
        let start = std::time::Instant::now();
        let mut slices = slices(ctx, u, &inputs)?;
        write_fat(u, &mut slices)?;
        tracing::info!(
            "joined {} into {} ({:.1?})",
            describe_sources(&u.sources),
            ctx.rel_path(&u.binary.output),
            start.elapsed()
        );
    }
    if let Some(ts) = &cfg.mod_timestamp {
        set_mtime(&u.binary.output, mod_time(ctx, u, ts)?)?;
    }
    run_hooks(ctx, u, "post", &cfg.hooks.post)?;
    let (sha, size) = crate::hash::sha256_file(&u.binary.output)?;
    let mut a = Artifact::new(
        Kind::Binary,
        u.binary.binary.clone(),
        ctx.rel_path(&u.binary.output),
    );
    a.build_id = Some(u.binary.id.clone());
    a.set_target(&u.binary.target);
    a.size = Some(size);
    a.sha256 = Some(sha);
    a.extra.insert(
        "binary".into(),
        u.binary
            .vars
            .get("binary")
            .map(|v| v.to_string())
            .unwrap_or_default()
            .into(),
    );
    a.extra.insert("universal".into(), true.into());
    // GoReleaser's `Replaces`: whether archives carry this instead of the thin binaries.
    a.extra.insert("replaces".into(), u.replace.into());
    a.extra.insert(
        "builds".into(),
        u.sources
            .iter()
            .map(|s| s.id.clone())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect::<Vec<_>>()
            .into(),
    );
    Ok(a)
}

/// The universal stage.
pub struct UniversalStage;

impl Stage for UniversalStage {
    fn name(&self) -> &'static str {
        "universal"
    }

    fn skip(&self, ctx: &Context) -> Option<String> {
        if ctx.config.universal_binaries.is_empty() {
            return Some("no universal_binaries".into());
        }
        if ctx.options.phase != Phase::Merge && ctx.options.skips("build") {
            return Some("--skip build: no binaries to join".into());
        }
        super::skipped_by_flag(ctx, "universal")
    }

    fn defaults(&self, config: &mut Config, d: &super::Defaults) {
        defaults(config, d.project_name);
    }

    fn check(&self, c: &mut Checker) {
        check(c);
    }

    /// Every universal binary's name and folder, claimed; its hooks and timestamp rendered.
    fn plan(&self, ctx: &Context, plan: &mut Plan) -> Result<()> {
        let universals = plan_universals(ctx, plan)?;
        for u in &universals {
            let folder = u
                .binary
                .output
                .parent()
                .and_then(|p| p.file_name())
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            plan.claim(
                &folder,
                &format!("the folder of {}", label(u)),
                "give the `universal_binaries` entry another `id`",
            )?;
            let cfg = &ctx.config.universal_binaries[u.index];
            hook_commands(ctx, u, "pre", &cfg.hooks.pre)?;
            hook_commands(ctx, u, "post", &cfg.hooks.post)?;
            if let Some(ts) = &cfg.mod_timestamp {
                mod_time(ctx, u, ts)?;
            }
        }
        plan.universals = universals;
        Ok(())
    }

    /// Streams from the build: each universal binary is written once its inputs are built.
    fn waits_for(&self) -> super::Waits {
        super::Waits::Only(&["before"])
    }

    fn run(&self, ctx: &Context) -> Result<()> {
        if ctx.options.phase == Phase::Merge {
            // Written by the darwin share; gathering the shares checked that it is there.
            return Ok(());
        }
        let planned = &ctx.plan.universals;
        if planned.is_empty() {
            return Ok(());
        }
        if ctx.artifacts.wait_for("universal", |reg, board| {
            if !reg.select(&Filter::kind(Kind::Binary)).is_empty() {
                Some(false)
            } else {
                board.earlier_finished("universal").then_some(true)
            }
        })? {
            tracing::info!("universal: nothing to join (no binaries were built)");
            return Ok(());
        }
        for u in planned {
            let a = make(ctx, u)?;
            // Registered at once: its archives need nothing else.
            ctx.artifacts.add(a);
        }
        Ok(())
    }
}
