//! The release pipeline: which stages run, in which order, and what is written at the end.
//!
//! Also where a config becomes checked: every stage defaults and checks its own section here,
//! so `rel check` and every run apply exactly the same rules.

use crate::config::{self, validate};
use crate::context::{self, Checked, Context};
use crate::dist;
use crate::error::Result;
use crate::stage::{self, Defaults, Stage};
use crate::template::Templates;
use serde_json::json;
use std::path::Path;

/// Every stage, in pipeline order: the order their config sections are checked in (a whole
/// release runs them all).
pub fn all_stages() -> Vec<&'static dyn Stage> {
    release_stages()
}

/// Find, load, default and check the config (what `rel check` does): every problem of every
/// section at once, each with its file, line and column.
pub fn load_config(root: &Path, explicit: Option<&Path>) -> Result<Checked> {
    let file = config::find(root, explicit)?;
    let loaded = if crate::import::goreleaser::is_goreleaser(&file) {
        // A GoReleaser config is imported in memory; what differs is said as warnings.
        let imported = crate::import::goreleaser::import(&file, false)?;
        for item in imported
            .items
            .iter()
            .filter(|i| !matches!(i.outcome, crate::import::goreleaser::Outcome::Mapped))
        {
            tracing::warn!("{item}");
        }
        let shown = std::path::PathBuf::from(format!(
            "{} (imported; `rel import -o -` shows it)",
            file.display()
        ));
        config::load_text(&shown, imported.yaml)?
    } else {
        config::load(&file)?
    };
    let mut cfg = loaded.config.clone();
    let project = context::project_name(root, &cfg, None);
    validate::apply_defaults(&mut cfg, &project);
    let d = Defaults {
        project_name: &project,
        root,
    };
    let stages = all_stages();
    for s in &stages {
        s.defaults(&mut cfg, &d);
    }
    let templates = Templates::new();
    let mut c = validate::Checker::new(&loaded, &cfg, &templates);
    validate::check_globals(&mut c);
    for s in &stages {
        s.check(&mut c);
    }
    c.finish()?;
    Ok((loaded, cfg, templates))
}

/// The stages of `rel release`, in order.
pub fn release_stages() -> Vec<&'static dyn Stage> {
    // The changelog needs no build output: it runs first so that a shallow clone or a bad
    // range stops the release before minutes of building.
    vec![
        &stage::before::Before,
        &stage::changelog::ChangelogStage,
        &stage::build::BuildStage,
        // After the build (streaming from it), before the archives that may carry its output.
        &stage::universal::UniversalStage,
        &stage::archive::ArchiveStage,
        &stage::nfpm::NfpmStage,
        &stage::repository::RepositoryStage,
        // Needs only git and the hooks, so it starts with the build (`waits_for`); listed
        // here so that only the stages that take every upload (SBOMs and checksums on) wait
        // for it.
        &stage::source::SourceStage,
        &stage::sbom::SbomStage,
        // Extra files are registered before checksums so the checksum file covers them.
        &stage::extra::ExtraFiles,
        &stage::checksum::ChecksumStage,
        &stage::sign::SignStage,
        &stage::pkgmgr::PkgmgrStage,
        &stage::docker::DockerStage,
        &stage::image::ImageStage,
        &stage::referrers::ReferrersStage,
        // After images: the statement names every asset and every pushed image digest.
        &stage::provenance::ProvenanceStage,
        // Publishing reads every artifact the stages before it registered.
        &stage::publish::Publish,
        // After the release is published: the manifests point at its assets.
        &stage::tap::TapStage,
        // A deployment follows from what it commits, so everything else is out first.
        &stage::gitops::GitopsStage,
        // Last: closing the milestone is bookkeeping that nothing else should wait for.
        &stage::milestone::MilestoneStage,
    ]
}

/// The stages of `rel release --split`: everything that is per target. Universal binaries
/// are made in the share that builds both darwin targets (the darwin share when split by
/// goos; a share cut by target cannot, and says so).
pub fn split_stages() -> Vec<&'static dyn Stage> {
    vec![
        &stage::before::Before,
        &stage::build::BuildStage,
        &stage::universal::UniversalStage,
        &stage::archive::ArchiveStage,
        &stage::nfpm::NfpmStage,
        &stage::sbom::SbomStage,
    ]
}

/// The stages of `rel continue --merge`: everything that needs all targets.
pub fn merge_stages() -> Vec<&'static dyn Stage> {
    // Images are assembled here, from every share's linux binaries: the bytes are the same
    // as on one machine, so the digests are too.
    vec![
        // Only plans: the merge then expects the darwin share's universal binaries.
        &stage::universal::UniversalStage,
        &stage::repository::RepositoryStage,
        // One source archive per release: made here, not by each share, and its SBOM.
        &stage::source::SourceStage,
        &stage::sbom::SbomStage,
        &stage::extra::ExtraFiles,
        &stage::checksum::ChecksumStage,
        &stage::sign::SignStage,
        &stage::pkgmgr::PkgmgrStage,
        &stage::changelog::ChangelogStage,
        &stage::docker::DockerStage,
        &stage::image::ImageStage,
        &stage::referrers::ReferrersStage,
        &stage::provenance::ProvenanceStage,
        &stage::publish::Publish,
        &stage::tap::TapStage,
        &stage::gitops::GitopsStage,
        &stage::milestone::MilestoneStage,
    ]
}

/// The stages of `rel build`.
pub fn build_stages() -> Vec<&'static dyn Stage> {
    vec![
        &stage::before::Before,
        &stage::build::BuildStage,
        // GoReleaser's `build` makes universal binaries too.
        &stage::universal::UniversalStage,
    ]
}

/// One task of the run's graph and what it waits for (`--dry-run` prints them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Task {
    /// What the task does (`build default linux_amd64`, `archive x.tar.gz`, `checksum`).
    pub name: String,
    /// The tasks it waits for.
    pub waits: Vec<String>,
}

/// The graph a pipelined run follows: builds and archives per target, each archive's upload
/// after its archive, every other stage after the stages it waits for, and the release
/// published after everything. Stages that will not run are left out.
pub fn graph(ctx: &Context, stages: &[&dyn Stage]) -> Vec<Task> {
    let plan = &ctx.plan;
    let runs: Vec<&dyn Stage> = stages
        .iter()
        .copied()
        .filter(|s| !plan.skipped.iter().any(|(n, _)| n == s.name()))
        .collect();
    let names: Vec<&str> = runs.iter().map(|s| s.name()).collect();
    let build_task = |id: &str, target: &str| format!("build {id} {target}");
    // A universal binary is made by its own task, not built.
    let binary_task = |pb: &crate::plan::PlannedBuild| {
        if plan
            .universals
            .iter()
            .any(|u| u.binary.id == pb.id && u.binary.target == pb.target)
        {
            format!("universal {} {}", pb.id, pb.target.name())
        } else {
            build_task(&pb.id, &pb.target.name())
        }
    };
    // How a stage is named as an input: per-target stages by their parts.
    let as_input = |name: &str| -> String {
        match name {
            "build" => "every build".into(),
            "archive" => "every archive".into(),
            other => other.to_string(),
        }
    };
    let mut tasks = vec![];
    for (i, s) in runs.iter().enumerate() {
        let waits: Vec<String> = s
            .waits_for()
            .among(&names[..i])
            .into_iter()
            .map(as_input)
            .collect();
        match s.name() {
            "build" => tasks.extend(plan.builds.iter().map(|pb| Task {
                name: build_task(&pb.id, &pb.target.name()),
                waits: waits.clone(),
            })),
            "universal" => tasks.extend(plan.universals.iter().map(|u| {
                Task {
                    name: binary_task(&u.binary),
                    waits: waits
                        .iter()
                        .cloned()
                        .chain(u.sources.iter().map(binary_task))
                        .collect(),
                }
            })),
            "archive" => tasks.extend(plan.archives.iter().map(|a| {
                Task {
                    name: format!("archive {}", a.name),
                    waits: waits
                        .iter()
                        .cloned()
                        .chain(a.binaries.iter().map(binary_task))
                        .collect(),
                }
            })),
            "publish" => {
                let release = plan
                    .release
                    .as_ref()
                    .map(|r| r.tag.clone())
                    .unwrap_or_default();
                tasks.push(Task {
                    name: format!("draft release {release}"),
                    waits,
                });
                let mut uploads = vec![];
                for a in &plan.archives {
                    let name = format!("upload {}", a.name);
                    tasks.push(Task {
                        name: name.clone(),
                        waits: vec![
                            format!("draft release {release}"),
                            format!("archive {}", a.name),
                        ],
                    });
                    uploads.push(name);
                }
                tasks.push(Task {
                    name: "upload every other file, as it is made".into(),
                    waits: vec![format!("draft release {release}")],
                });
                tasks.push(Task {
                    name: format!("publish release {release}"),
                    waits: std::iter::once("every upload".to_string())
                        .chain(names[..i].iter().map(|n| as_input(n)))
                        .collect(),
                });
            }
            other => tasks.push(Task {
                name: other.to_string(),
                waits,
            }),
        }
    }
    tasks
}

/// Run `stages`, then write `artifacts.json` and `metadata.json`.
pub fn run(ctx: &mut Context, stages: &[&dyn Stage]) -> Result<()> {
    // Everything that can be checked without side effects is checked before dist/ is touched.
    stage::plan_all(ctx, stages)?;
    stage::preflight_all(ctx, stages)?;
    metadata_mtime(ctx)?;
    // One run per dist/ folder, held until the run ends (an interrupt removes it too).
    let _lock = dist::lock(&ctx.dist)?;
    dist::prepare(&ctx.dist, ctx.options.clean)?;
    let result = run_stages(ctx, stages);
    // artifacts.json is written even after a failure: it records what was made before it.
    ctx.artifacts.write(&ctx.dist.join("artifacts.json"))?;
    result?;
    write_metadata(ctx)
}

/// Run the stages and keep what they report for the summary and `metadata.json`.
fn run_stages(ctx: &mut Context, stages: &[&dyn Stage]) -> Result<()> {
    let (result, timings) = stage::run_all(ctx, stages);
    ctx.timings.extend(timings);
    if let Some(url) = ctx.release_url.get().cloned() {
        ctx.vars
            .insert("release_url".into(), minijinja::Value::from(url));
    }
    result
}

/// Finish a split release: the plan is made and checked, and the registry already holds
/// every share's artifacts.
pub fn run_merge(ctx: &mut Context, stages: &[&dyn Stage]) -> Result<()> {
    metadata_mtime(ctx)?;
    let _lock = dist::lock(&ctx.dist)?;
    let result = run_stages(ctx, stages);
    ctx.artifacts.write(&ctx.dist.join("artifacts.json"))?;
    result?;
    write_metadata(ctx)
}

/// `metadata.mod_timestamp`, rendered and read as unix seconds.
fn metadata_mtime(ctx: &Context) -> Result<Option<std::time::SystemTime>> {
    let Some(t) = &ctx.config.metadata.mod_timestamp else {
        return Ok(None);
    };
    let key = "metadata.mod_timestamp";
    let s = ctx.render(key, t)?;
    let bad = |message: String| crate::error::Error::Template {
        key: key.into(),
        template: t.clone(),
        message,
    };
    let secs: u64 = s
        .trim()
        .parse()
        .map_err(|_| bad(format!("rendered `{s}`, which is not unix seconds")))?;
    std::time::UNIX_EPOCH
        .checked_add(std::time::Duration::from_secs(secs))
        .map(Some)
        .ok_or_else(|| bad(format!("{secs} is not a representable time")))
}

/// Give `metadata.json` and `artifacts.json` the time of `metadata.mod_timestamp`.
fn set_metadata_mtimes(ctx: &Context) -> Result<()> {
    use crate::error::IoContext;
    let Some(time) = metadata_mtime(ctx)? else {
        return Ok(());
    };
    for name in ["metadata.json", "artifacts.json"] {
        let path = ctx.dist.join(name);
        std::fs::File::options()
            .write(true)
            .open(&path)
            .and_then(|f| f.set_modified(time))
            .ctx("cannot set the modification time of", &path)?;
    }
    Ok(())
}

/// `dist/metadata.json`.
pub fn write_metadata(ctx: &Context) -> Result<()> {
    let v = |k: &str| ctx.vars.get(k).map(|x| x.to_string()).unwrap_or_default();
    let meta = json!({
        "project_name": ctx.config.project_name,
        "tag": ctx.tag,
        "previous_tag": ctx.previous_tag,
        "version": ctx.version,
        "commit": v("commit"),
        "short_commit": v("short_commit"),
        "branch": v("branch"),
        "date": v("date"),
        "commit_date": v("commit_date"),
        "snapshot": ctx.options.snapshot,
        "release_url": ctx.vars.get("release_url").map(|x| x.to_string()).filter(|s| !s.is_empty()),
        // GoReleaser's key: the machine rel ran on.
        "runtime": {
            "goos": crate::target::Target::host_os_arch().0,
            "goarch": crate::target::Target::host_os_arch().1,
        },
    });
    // GoReleaser-shaped outputs that scripts read: the effective config (every default
    // applied) and the release notes under GoReleaser's name.
    if let Ok(yaml) = serde_saphyr::to_string(&ctx.config) {
        let yaml = crate::redact::redact(&yaml);
        dist::write_atomic(&ctx.dist.join("config.yaml"), yaml.as_bytes())?;
    }
    let notes = ctx.dist.join("release-notes.md");
    if let Ok(text) = std::fs::read(&notes) {
        dist::write_atomic(&ctx.dist.join("CHANGELOG.md"), &text)?;
    }
    dist::write_atomic(
        &ctx.dist.join("metadata.json"),
        serde_json::to_string_pretty(&meta)
            .expect("json")
            .as_bytes(),
    )?;
    set_metadata_mtimes(ctx)
}
