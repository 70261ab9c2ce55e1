//! Split and merge: one release cut into shares built on several CI runners.
//!
//! `rel release --split` builds one share (by operating system or by target) into
//! `dist/<share>/` with its own `artifacts.json` and a `context.json` recording what every
//! share must agree on. `rel continue --merge` reads every share back, checks they belong to
//! one release and cover the plan exactly once, and returns one registry to finish from.

use crate::artifact::{Kind, Registry};
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

/// Write `dist/<share>/context.json` after a split run.
pub fn write_context(ctx: &Context, share: &Share, plan: &Plan) -> Result<()> {
    let v = |k: &str| ctx.vars.get(k).map(|x| x.to_string()).unwrap_or_default();
    let sc = ShareContext {
        share: share.clone(),
        project_name: ctx.config.project_name.clone().unwrap_or_default(),
        tag: ctx.tag.clone(),
        version: ctx.version.clone(),
        commit: v("commit"),
        date: v("date"),
        snapshot: ctx.options.snapshot,
        targets: plan
            .builds
            .iter()
            .map(|pb| key(&pb.id, &pb.target.name()))
            .collect(),
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

/// Check that `shares` come from one commit and version and cover `expected` (every
/// `build_id/target` of the whole plan) exactly once, and return their artifacts in one
/// registry.
pub fn gather(
    shares: &[(PathBuf, ShareContext)],
    ctx: &Context,
    expected: &BTreeSet<String>,
) -> Result<Registry> {
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
        return Err(Error::State(format!(
            "shares are missing for: {}; run `rel release --split` for them and copy their dist/<share>/ here",
            missing
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    let extra: Vec<&&str> = seen.keys().filter(|t| !expected.contains(**t)).collect();
    if !extra.is_empty() {
        return Err(Error::State(format!(
            "shares contain targets this config does not plan: {extra:?}"
        )));
    }
    let merged = Registry::default();
    for (d, sc) in shares {
        let reg = Registry::read(&d.join("artifacts.json"))?;
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
