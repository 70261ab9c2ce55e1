//! What a run says at the end: a table of what was made (artifact, size, path), the release
//! URL, and the time of each stage; or, with `--json`, the same as one JSON document on
//! stdout for scripts.

use crate::artifact::{Artifact, Kind};
use crate::context::Context;
use serde_json::{Value, json};
use std::time::Duration;

/// `1 commit`, `2 commits`.
pub fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// `1.2 MiB`, `340 KiB`, `12 B`.
pub fn human_size(n: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut v = n as f64 / 1024.0;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    format!("{v:.1} {}", UNITS[u])
}

/// `850ms`, `3.2s`, `2m05s`.
pub fn human_time(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s < 1.0 {
        format!("{}ms", d.as_millis())
    } else if s < 60.0 {
        format!("{s:.1}s")
    } else {
        format!("{}m{:02}s", d.as_secs() / 60, d.as_secs() % 60)
    }
}

/// The artifacts worth listing: what a user takes away (not intermediate binaries, unless
/// binaries are all there is).
fn shown(ctx: &Context) -> Vec<Artifact> {
    let all = ctx.artifacts.all();
    let made: Vec<Artifact> = all
        .iter()
        .filter(|a| {
            !matches!(
                a.kind,
                Kind::Binary | Kind::Metadata | Kind::Image | Kind::ChecksumSidecar
            )
        })
        .cloned()
        .collect();
    if made.is_empty() {
        all.into_iter().filter(|a| a.kind == Kind::Binary).collect()
    } else {
        made
    }
}

fn size_of(ctx: &Context, a: &Artifact) -> Option<u64> {
    a.size.or_else(|| {
        (!a.path.is_empty())
            .then(|| std::fs::metadata(ctx.root.join(&a.path)).ok())
            .flatten()
            .filter(|m| m.is_file())
            .map(|m| m.len())
    })
}

/// What `report_sizes` reports (GoReleaser's list: binaries, archives, packages), by kind
/// then path.
fn sized(ctx: &Context) -> Vec<Artifact> {
    let mut v: Vec<Artifact> = ctx
        .artifacts
        .all()
        .into_iter()
        .filter(|a| {
            matches!(
                a.kind,
                Kind::Binary | Kind::UploadableBinary | Kind::Archive | Kind::LinuxPackage
            )
        })
        .collect();
    v.sort_by(|a, b| (a.kind, &a.path).cmp(&(b.kind, &b.path)));
    v
}

/// The `report_sizes` table: kind, size (binary units, then bytes) and path of every
/// binary, archive and package, so growth shows from one release to the next.
fn size_report(ctx: &Context) -> String {
    let rows: Vec<(String, String, String)> = sized(ctx)
        .iter()
        .map(|a| {
            let kind = serde_json::to_value(a.kind)
                .ok()
                .and_then(|v| v.as_str().map(String::from))
                .unwrap_or_default();
            let size = size_of(ctx, a)
                .map(|n| match human_size(n) {
                    h if n < 1024 => h,
                    h => format!("{h} ({n} B)"),
                })
                .unwrap_or_default();
            (kind, size, a.path.clone())
        })
        .collect();
    let w0 = rows.iter().map(|r| r.0.len()).max().unwrap_or(0).max(4);
    let w1 = rows.iter().map(|r| r.1.len()).max().unwrap_or(0).max(4);
    let mut out = format!("sizes:\n  {:<w0$}  {:>w1$}  path\n", "kind", "size");
    for (k, s, p) in &rows {
        out.push_str(&format!("  {k:<w0$}  {s:>w1$}  {p}\n"));
    }
    out
}

/// The table printed at the end of a run.
pub fn table(ctx: &Context, total: Duration) -> String {
    let rows: Vec<(String, String, String)> = shown(ctx)
        .iter()
        .map(|a| {
            (
                a.name.clone(),
                size_of(ctx, a).map(human_size).unwrap_or_default(),
                if a.kind == Kind::ImageIndex {
                    "(pushed)".to_string()
                } else {
                    a.path.clone()
                },
            )
        })
        .collect();
    let w0 = rows.iter().map(|r| r.0.len()).max().unwrap_or(0).max(8);
    let w1 = rows.iter().map(|r| r.1.len()).max().unwrap_or(0).max(4);
    let mut out = format!("{:<w0$}  {:>w1$}  path\n", "artifact", "size");
    for (n, s, p) in &rows {
        out.push_str(&format!("{n:<w0$}  {s:>w1$}  {p}\n"));
    }
    if ctx.config.report_sizes {
        out.push_str(&size_report(ctx));
    }
    if let Some(url) = release_url(ctx) {
        out.push_str(&format!("release: {url}\n"));
    }
    let stages: Vec<String> = ctx
        .timings
        .iter()
        .map(|(n, d)| format!("{n} {}", human_time(*d)))
        .collect();
    out.push_str(&format!(
        "time: {} (total {})\n",
        stages.join(", "),
        human_time(total)
    ));
    out
}

fn release_url(ctx: &Context) -> Option<String> {
    ctx.vars
        .get("release_url")
        .map(|v| v.to_string())
        .filter(|s| !s.is_empty() && !ctx.options.snapshot)
}

/// The machine-readable summary of a run.
pub fn json(ctx: &Context, command: &str, total: Duration) -> Value {
    let mut v = json!({
        "command": command,
        "project_name": ctx.config.project_name,
        "version": ctx.version,
        "tag": ctx.tag,
        "snapshot": ctx.options.snapshot,
        "dist": ctx.rel_path(&ctx.dist),
        "release_url": release_url(ctx),
        "artifacts": shown(ctx).iter().map(|a| json!({
            "name": a.name,
            "kind": a.kind,
            "path": a.path,
            "size": size_of(ctx, a),
            "target": a.target,
        })).collect::<Vec<_>>(),
        "stages": ctx.timings.iter().map(|(n, d)| json!({"name": n, "seconds": d.as_secs_f64()})).collect::<Vec<_>>(),
        "seconds": total.as_secs_f64(),
    });
    if ctx.config.report_sizes {
        v["sizes"] = sized(ctx)
            .iter()
            .map(|a| json!({"name": a.name, "kind": a.kind, "path": a.path, "target": a.target, "size": size_of(ctx, a)}))
            .collect();
    }
    v
}

/// The dry run's plan as JSON: every output by name, what will be pushed and published, and
/// the stages that will not run.
pub fn plan_json(ctx: &Context) -> Value {
    let p = &ctx.plan;
    let rel = |path: &std::path::Path| ctx.rel_path(path);
    json!({
        "command": "release --dry-run",
        "project_name": ctx.config.project_name,
        "version": ctx.version,
        "tag": ctx.tag,
        "snapshot": ctx.options.snapshot,
        "builds": p.builds.iter().map(|b| json!({"id": b.id, "target": b.target.name(), "binary": b.binary, "path": rel(&b.output)})).collect::<Vec<_>>(),
        "archives": p.archives.iter().map(|a| json!({"id": a.id, "name": a.name, "path": rel(&a.path), "target": a.target.name()})).collect::<Vec<_>>(),
        "packages": p.packages.iter().map(|a| json!({"id": a.id, "name": a.name, "path": rel(&a.path), "format": a.format})).collect::<Vec<_>>(),
        "sboms": p.sboms.iter().map(|a| json!({"id": a.id, "name": a.name, "path": rel(&a.path)})).collect::<Vec<_>>(),
        "signatures": p.signatures.iter().map(|a| json!({"id": a.id, "name": a.name, "path": rel(&a.path), "subject": a.subject})).collect::<Vec<_>>(),
        "checksum": p.checksum.as_ref().map(|c| json!({"name": c.name, "path": rel(&c.path)})),
        "release_notes": p.release_notes.as_ref().map(|c| json!({"name": c.name, "path": rel(&c.path)})),
        "images": p.images.iter().map(|i| json!({"id": i.id, "repository": i.repository, "tags": i.tags, "platforms": i.platforms.iter().map(|(p, _)| p).collect::<Vec<_>>()})).collect::<Vec<_>>(),
        "dockers": p.dockers.iter().map(|d| json!({"id": d.id, "references": d.references, "platforms": d.platforms.iter().map(|x| json!({"platform": x.platform, "dockerfile": x.dockerfile, "builder": x.builder, "why": x.why})).collect::<Vec<_>>()})).collect::<Vec<_>>(),
        "manifests": p.manifests.iter().map(|m| json!({"name": m.name, "images": m.images})).collect::<Vec<_>>(),
        "release": p.release.as_ref().map(|r| json!({"repo": r.repo, "tag": r.tag, "name": r.name})),
        "skipped": p.skipped.iter().map(|(s, why)| json!({"stage": s, "why": why})).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_units() {
        assert_eq!(human_size(12), "12 B");
        assert_eq!(human_size(1536), "1.5 KiB");
        assert_eq!(human_size(5 * 1024 * 1024), "5.0 MiB");
        assert_eq!(human_time(Duration::from_millis(850)), "850ms");
        assert_eq!(human_time(Duration::from_millis(3250)), "3.2s");
        assert_eq!(human_time(Duration::from_secs(125)), "2m05s");
    }
}
