//! The checksum stage: one file listing a hash of every uploadable artifact.
//!
//! The file is `<hex>  <name>` lines sorted by name (byte order), the format `sha256sum -c`,
//! `sha512sum -c` and `b3sum -c` read, so a user verifies a download in `dist/` or next to
//! the release assets with the standard tool. Files are hashed in parallel on a pool of
//! `--parallelism` workers, each streamed through a fixed buffer. SHA-256 uses the CPU's SHA
//! extensions when it has them (the `sha2` crate detects them at run time).

use super::Stage;
use crate::artifact::{Artifact, Filter, Kind};
use crate::config::Algorithm;
use crate::context::Context;
use crate::dist::write_atomic;
use crate::error::{Error, Result};
use crate::hash::{self, algorithm_name, sha256_file};
use crate::plan::{Plan, PlannedFile};
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::path::Path;

/// Default checksum file name.
pub const DEFAULT_NAME: &str = "{{ project_name }}_{{ version }}_checksums.txt";

/// The checksum file's name, from `checksum.name_template`.
fn file_name(ctx: &Context) -> Result<String> {
    let t = ctx
        .config
        .checksum
        .name_template
        .as_deref()
        .unwrap_or(DEFAULT_NAME);
    let name = ctx.render("checksum.name_template", t)?;
    if name.trim().is_empty() || name.contains(['/', '\\']) || name.starts_with('.') {
        return Err(Error::Config(format!(
            "`checksum.name_template` gives `{name}`, which is not a plain file name (the checksum file is written directly in dist/)"
        )));
    }
    Ok(name)
}

/// The checksum file's lines: `<hex>  <name>`, sorted by name.
pub fn render_lines(items: &BTreeMap<String, String>) -> String {
    items
        .iter()
        .map(|(name, h)| format!("{h}  {name}\n"))
        .collect()
}

/// The id an artifact is picked by in `checksum.ids`: its entry's (archive, package, SBOM),
/// else its build's.
fn artifact_id(a: &Artifact) -> Option<&str> {
    a.extra
        .get("id")
        .and_then(|v| v.as_str())
        .or(a.build_id.as_deref())
}

/// Whether `checksum.ids` keeps `a`: every artifact without `ids`; with them, the artifacts
/// of those ids and, as in GoReleaser, `release.extra_files` (they belong to no id).
fn picked(ids: &[String], a: &Artifact) -> bool {
    // Extra files and the source archive are listed whatever `ids` says, as GoReleaser does.
    ids.is_empty()
        || a.kind == Kind::ExtraFile
        || a.kind == Kind::SourceArchive
        || artifact_id(a).is_some_and(|id| ids.iter().any(|i| i == id))
}

/// `checksum.extra_files`: (name, path relative to the root). Listed, never uploaded.
fn extra_files(ctx: &Context) -> Result<Vec<(String, String)>> {
    crate::fileset::extra_files(
        &ctx.root,
        &ctx.templates,
        &ctx.vars,
        "checksum.extra_files",
        &ctx.config.checksum.extra_files,
    )
}

/// The checksum stage.
pub struct ChecksumStage;

impl Stage for ChecksumStage {
    fn name(&self) -> &'static str {
        "checksum"
    }

    fn skip(&self, ctx: &Context) -> Option<String> {
        if ctx.config.checksum.disable {
            return Some("checksum.disable".into());
        }
        super::skipped_by_flag(ctx, "checksum")
    }

    fn defaults(&self, config: &mut crate::config::Config, _d: &super::Defaults) {
        if config.checksum.name_template.is_none() {
            config.checksum.name_template = Some(DEFAULT_NAME.into());
        }
    }

    fn check(&self, c: &mut crate::config::validate::Checker) {
        let config = c.config;
        let globals = crate::config::validate::globals();
        if let Some(t) = &config.checksum.name_template {
            c.template(vec!["checksum".into(), "name_template".into()], t, &globals);
        }
        // The ids artifacts carry: builds', and archives', packages' and SBOMs' own.
        let known: Vec<String> = (config.builds.iter().map(|b| &b.id))
            .chain(config.archives.iter().map(|a| &a.id))
            .chain(config.nfpms.iter().map(|n| &n.id))
            .chain(config.sboms.iter().map(|s| &s.id))
            .map(|id| id.clone().unwrap_or_default())
            .collect();
        for (j, id) in config.checksum.ids.iter().enumerate() {
            if !known.contains(id) {
                let hint = crate::config::diag::did_you_mean(id, known.iter().map(String::as_str))
                    .map(|s| format!("did you mean `{s}`?"));
                c.push(
                    vec!["checksum".into(), "ids".into(), j.into()],
                    format!("checksum.ids names `{id}`, which no build, archive, nfpms or sboms entry has"),
                    hint,
                );
            }
        }
        for (i, f) in config.checksum.extra_files.iter().enumerate() {
            let at = |k: &str| vec!["checksum".into(), "extra_files".into(), i.into(), k.into()];
            if let Some(t) = &f.name_template {
                c.template(
                    at("name_template"),
                    t,
                    &[globals.as_slice(), &["filename"]].concat(),
                );
            }
            let glob = f.glob.trim();
            if glob.starts_with('/') || glob.split('/').any(|c| c == "..") {
                c.push(
                    at("glob"),
                    format!("`{glob}` leaves the project: use a path relative to the project root"),
                    None,
                );
            } else if let Err(e) = globset::Glob::new(glob) {
                c.push(at("glob"), format!("invalid glob: {e}"), None);
            }
        }
    }

    fn plan(&self, ctx: &Context, plan: &mut Plan) -> Result<()> {
        let name = file_name(ctx)?;
        plan.claim(
            &name,
            "the checksum file",
            "change `checksum.name_template`",
        )?;
        plan.checksum = Some(PlannedFile {
            path: ctx.dist.join(&name),
            name,
            detail: format!(
                "{}{}",
                algorithm_name(ctx.config.checksum.algorithm),
                if ctx.config.checksum.split {
                    ", with a sidecar per file"
                } else {
                    ""
                }
            ),
        });
        Ok(())
    }

    fn run(&self, ctx: &Context) -> Result<()> {
        let Some(planned) = ctx.plan.checksum.clone() else {
            return Err(Error::Failed("checksum: not planned".into()));
        };
        let name = planned.name;
        let algo = ctx.config.checksum.algorithm;
        let input =
            Filter::Uploadable.and(Filter::kinds(&[Kind::Checksum, Kind::ChecksumSidecar]).not());
        let ids = &ctx.config.checksum.ids;
        let mut items: Vec<Artifact> = ctx
            .artifacts
            .select(&input)
            .into_iter()
            .filter(|a| picked(ids, a))
            .collect();
        // Listed like the rest, but not registered: they are not uploaded.
        let listed_only = extra_files(ctx)?;
        items.extend(
            listed_only
                .iter()
                .map(|(name, path)| Artifact::new(Kind::ExtraFile, name, path)),
        );
        if items.is_empty() {
            tracing::info!("checksum: nothing to checksum (no archives or other uploadable files)");
            return Ok(());
        }
        let mut seen = BTreeMap::new();
        for a in &items {
            if let Some(prev) = seen.insert(a.name.clone(), a.path.clone()) {
                return Err(Error::Failed(format!(
                    "two release files are named {}: {prev} and {}; a release cannot hold both",
                    a.name, a.path
                )));
            }
        }
        let pool = ctx.pool()?;
        let root = ctx.root.clone();
        // A merge re-reads every file: bytes copied between CI runners are checked, not trusted.
        let reuse = ctx.options.phase != crate::options::Phase::Merge;
        let hashes: Vec<Result<(String, String)>> = pool.install(|| {
            items
                .par_iter()
                .map(|a| {
                    // Archives were hashed with SHA-256 as they were written: reuse that.
                    let hex = match (&a.sha256, algo) {
                        (Some(h), Algorithm::Sha256) if reuse => h.clone(),
                        _ => hash::file(&root.join(&a.path), algo)?.0,
                    };
                    Ok((a.name.clone(), hex))
                })
                .collect()
        });
        let mut lines = BTreeMap::new();
        for h in hashes {
            let (n, hx) = h?;
            lines.insert(n, hx);
        }
        let path = planned.path;
        write_atomic(&path, render_lines(&lines).as_bytes())?;
        ctx.artifacts
            .add(artifact(ctx, Kind::Checksum, &name, &path)?);
        if ctx.config.checksum.split {
            let ext = algorithm_name(algo);
            let top = ctx.root.join(&ctx.config.dist);
            for a in &items {
                let file = root.join(&a.path);
                let side_name = format!("{}.{ext}", a.name);
                // A sidecar lies next to its file when that is in dist/ (a share's folder in a
                // merge), else in dist/: rel never writes into the project's own tree.
                let side = match file.parent() {
                    Some(dir) if dir.starts_with(&top) => dir.join(&side_name),
                    _ => ctx.dist.join(&side_name),
                };
                write_atomic(
                    &side,
                    format!("{}  {}\n", lines[&a.name], a.name).as_bytes(),
                )?;
                let mut s = artifact(ctx, Kind::ChecksumSidecar, &side_name, &side)?;
                s.extra.insert("checksum_of".into(), a.name.clone().into());
                ctx.artifacts.add(s);
            }
        }
        tracing::info!(
            "checksum: {} in {}",
            crate::summary::plural(lines.len(), "file", "files"),
            ctx.rel_path(&path)
        );
        Ok(())
    }
}

fn artifact(ctx: &Context, kind: Kind, name: &str, path: &Path) -> Result<Artifact> {
    let (sha, size) = sha256_file(path)?;
    let mut a = Artifact::new(kind, name, ctx.rel_path(path));
    a.size = Some(size);
    a.sha256 = Some(sha);
    a.extra.insert(
        "algorithm".into(),
        algorithm_name(ctx.config.checksum.algorithm).into(),
    );
    Ok(a)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_sorted_by_name() {
        let mut m = BTreeMap::new();
        m.insert("b.zip".to_string(), "22".to_string());
        m.insert("A.tar.gz".to_string(), "11".to_string());
        m.insert("a.tar.gz".to_string(), "33".to_string());
        assert_eq!(render_lines(&m), "11  A.tar.gz\n33  a.tar.gz\n22  b.zip\n");
    }

    #[test]
    fn ids_keep_extra_files_and_source_archives() {
        let ids = vec!["cli".to_string()];
        let src = Artifact::new(Kind::SourceArchive, "t-1.0.tar.gz", "dist/t-1.0.tar.gz");
        let extra = Artifact::new(Kind::ExtraFile, "notes.txt", "notes.txt");
        let mut other = Artifact::new(Kind::Archive, "t_linux.tar.gz", "dist/t_linux.tar.gz");
        other.extra.insert("id".into(), "server".into());
        assert!(picked(&ids, &src));
        assert!(picked(&ids, &extra));
        assert!(!picked(&ids, &other));
    }
}
