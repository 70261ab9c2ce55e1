//! Split and merge: one release cut into shares built on several CI runners.
//!
//! `rel release --split` builds one share (by operating system or by target) into
//! `dist/<share>/` with its own `artifacts.json` and a `context.json` recording what every
//! share must agree on. `rel continue --merge` reads every share back, checks they belong to
//! one release and cover the plan exactly once, and returns one registry to finish from.

use crate::artifact::{Filter, Kind, Registry};
use crate::context::Context;
use crate::error::{Error, IoContext, Result};
use crate::options::{PartialBy, Share};
use crate::plan::Plan;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// What each share records so that the merge can check the shares agree.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShareContext {
    /// The share.
    pub share: Share,
    /// Project name.
    pub project_name: String,
    /// Tag released.
    pub tag: String,
    /// Version released.
    pub version: String,
    /// Commit built.
    pub commit: String,
    /// The reproducible date used.
    pub date: String,
    /// Whether this was a snapshot.
    pub snapshot: bool,
    /// `build_id/target` of every build in this share.
    pub targets: Vec<String>,
    /// The share's folder relative to the project root when it was written (`dist/linux`);
    /// artifact paths start with it and are re-based onto wherever the share was copied.
    pub dir: String,
}

/// The file name of the share context inside `dist/<share>/`.
pub const CONTEXT_FILE: &str = "context.json";

/// Every share of the plan: share name → `build_id/target` keys.
pub fn shares(plan: &Plan, by: PartialBy) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for pb in &plan.builds {
        let name = match by {
            PartialBy::Goos => pb.target.os.clone(),
            PartialBy::Target => pb.target.name(),
        };
        out.entry(name)
            .or_default()
            .push(key(&pb.id, &pb.target.name()));
    }
    out
}

fn key(build: &str, target: &str) -> String {
    format!("{build}/{target}")
}

/// `build_id/target` of every binary in `reg`.
fn built_keys(reg: &Registry) -> BTreeSet<String> {
    reg.select(&Filter::kind(Kind::Binary))
        .into_iter()
        .filter_map(|a| Some(key(a.build_id.as_deref()?, a.target.as_deref()?)))
        .collect()
}

/// The share a `build_id/target` key belongs to, cut `by`.
fn share_of(plan: &Plan, by: PartialBy, k: &str) -> String {
    plan.builds
        .iter()
        .find(|pb| key(&pb.id, &pb.target.name()) == k)
        .map(|pb| match by {
            PartialBy::Goos => pb.target.os.clone(),
            PartialBy::Target => pb.target.name(),
        })
        .unwrap_or_default()
}

/// Write `dist/<share>/context.json` after a split run. Its targets are what the registry
/// holds binaries for (what was built), not what was planned: a share run with
/// `--skip build`, or whose builds failed, claims nothing it lacks.
pub fn write_context(ctx: &Context, share: &Share) -> Result<()> {
    let v = |k: &str| ctx.vars.get(k).map(|x| x.to_string()).unwrap_or_default();
    let sc = ShareContext {
        share: share.clone(),
        project_name: ctx.config.project_name.clone().unwrap_or_default(),
        tag: ctx.tag.clone(),
        version: ctx.version.clone(),
        commit: v("commit"),
        date: v("date"),
        snapshot: ctx.options.snapshot,
        targets: built_keys(&ctx.artifacts).into_iter().collect(),
        dir: ctx.rel_path(&ctx.dist),
    };
    let json = serde_json::to_vec_pretty(&sc).expect("serialises");
    crate::dist::write_atomic(&ctx.dist.join(CONTEXT_FILE), &json)
}

/// Every share in `dist` (a folder holding a `context.json`), sorted by folder, with its
/// context; an error when there is none.
pub fn read_shares(dist: &Path) -> Result<Vec<(PathBuf, ShareContext)>> {
    let entries = std::fs::read_dir(dist).ctx("cannot read", dist)?;
    let mut dirs: Vec<PathBuf> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.join(CONTEXT_FILE).is_file())
        .collect();
    dirs.sort();
    if dirs.is_empty() {
        return Err(Error::State(format!(
            "no shares found in {}: copy every `rel release --split` runner's dist/<share>/ folder there first",
            dist.display()
        )));
    }
    dirs.into_iter()
        .map(|d| {
            let f = d.join(CONTEXT_FILE);
            let text = std::fs::read(&f).ctx("cannot read", &f)?;
            let sc: ShareContext = serde_json::from_slice(&text).map_err(|e| {
                Error::State(format!("{} is not a share context: {e}", f.display()))
            })?;
            Ok((d, sc))
        })
        .collect()
}

/// Check that `shares` come from one commit and version, that each holds the binaries and
/// files it claims, and that together they cover every `build_id/target` of the plan exactly
/// once; return their artifacts in one registry.
pub fn gather(shares: &[(PathBuf, ShareContext)], ctx: &Context) -> Result<Registry> {
    let expected: BTreeSet<String> = ctx.plan.build_keys().into_iter().collect();
    let contexts: Vec<(String, &ShareContext)> = shares
        .iter()
        .map(|(d, sc)| {
            (
                d.file_name()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .into_owned(),
                sc,
            )
        })
        .collect();
    let commit = ctx
        .vars
        .get("commit")
        .map(|v| v.to_string())
        .unwrap_or_default();
    for (dir, sc) in &contexts {
        if sc.commit != commit || sc.version != ctx.version || sc.tag != ctx.tag {
            return Err(Error::State(format!(
                "share `{dir}` was built from commit {} version {} ({}), but this merge is for commit {commit} version {} ({}): re-run that share on this commit",
                crate::git::short_hash(&sc.commit, 7),
                sc.version,
                sc.tag,
                ctx.version,
                ctx.tag
            )));
        }
    }
    // What each share really holds: a claimed target needs a binary in its artifacts.json,
    // and every file listed there must be in the copied folder.
    let mut registries = vec![];
    for ((d, sc), (dir, _)) in shares.iter().zip(&contexts) {
        let reg = Registry::read(&d.join("artifacts.json"))?;
        let built = built_keys(&reg);
        let unbacked: Vec<&String> = sc.targets.iter().filter(|t| !built.contains(*t)).collect();
        if !unbacked.is_empty() {
            return Err(Error::State(format!(
                "share `{dir}` claims {} but has no binary for {}: re-run `rel release --split` for that share",
                sc.targets.join(", "),
                unbacked
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        for a in reg.all() {
            if a.path.is_empty() || a.kind == Kind::Metadata {
                continue;
            }
            let rest = a.path.strip_prefix(&sc.dir).unwrap_or(&a.path);
            let here = d.join(rest.trim_start_matches('/'));
            if a.path.starts_with(&sc.dir) && !here.exists() {
                return Err(Error::State(format!(
                    "share `{dir}` lists {} ({}), which is not in {}: copy the whole share folder",
                    a.name,
                    a.path,
                    d.display()
                )));
            }
        }
        registries.push(reg);
    }
    let mut seen: BTreeMap<&str, &str> = BTreeMap::new();
    for (dir, sc) in &contexts {
        for t in &sc.targets {
            if let Some(prev) = seen.insert(t, dir) {
                return Err(Error::State(format!(
                    "target {t} was built twice, in shares `{prev}` and `{dir}`: keep one"
                )));
            }
        }
    }
    let missing: Vec<&String> = expected
        .iter()
        .filter(|t| !seen.contains_key(t.as_str()))
        .collect();
    if !missing.is_empty() {
        let by = contexts
            .first()
            .map(|(_, sc)| sc.share.by)
            .unwrap_or_default();
        let present: BTreeSet<&str> = contexts
            .iter()
            .map(|(_, sc)| sc.share.name.as_str())
            .collect();
        let lines: Vec<String> = missing
            .iter()
            .map(|t| {
                let share = share_of(&ctx.plan, by, t);
                if present.contains(share.as_str()) {
                    format!("{t}: share `{share}` has no binary for it (was it run with --skip build, or did its build fail?)")
                } else {
                    format!("{t}: share `{share}` is missing")
                }
            })
            .collect();
        return Err(Error::State(format!(
            "shares are missing for: {}; nothing was published:\n  {}\nrun `rel release --split` for them and copy their dist/<share>/ here",
            missing
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            lines.join("\n  ")
        )));
    }
    let extra: Vec<&&str> = seen.keys().filter(|t| !expected.contains(**t)).collect();
    if !extra.is_empty() {
        return Err(Error::State(format!(
            "shares contain targets this config does not plan: {extra:?}"
        )));
    }
    let merged = Registry::default();
    for ((d, sc), reg) in shares.iter().zip(registries) {
        let here = ctx.rel_path(d);
        for mut a in reg.all() {
            if a.kind == Kind::Metadata {
                continue;
            }
            // Every file of a share lies in its folder: anything else in a share's
            // artifacts.json is refused rather than checksummed or uploaded.
            match a.path.strip_prefix(&sc.dir) {
                Some(rest) if rest.is_empty() || rest.starts_with('/') => {
                    a.path = format!("{here}{rest}")
                }
                _ if a.path.is_empty() => {}
                _ => {
                    return Err(Error::State(format!(
                        "share `{}` lists {}, which is outside its folder {}: rebuild that share",
                        here, a.path, sc.dir
                    )));
                }
            }
            merged.add(a);
        }
    }
    Ok(merged)
}
