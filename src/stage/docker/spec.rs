//! What each `dockers_v2` and `dockers` entry means for this run: the repositories and tags,
//! the platforms with their Dockerfile and the artifacts of their build context, and which
//! builder takes each platform (rel itself for a copy-only Dockerfile, else an engine).
//!
//! Both spellings become the same [`Job`]: a `dockers` entry is a one-platform job whose tags
//! point at the image manifest itself (as GoReleaser pushes them), a `dockers_v2` entry a
//! multi-platform job whose tags point at an index rel writes.

use super::analyze::{self, Blocker};
use super::dockerfile;
use super::engine::Engine;
use crate::artifact::{Artifact, Kind};
use crate::config::{BoolOrTemplate, DockerBuilder, SkipUpload};
use crate::context::Context;
use crate::error::{Error, Result};
use crate::oci::platform::Platform;
use minijinja::Value;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Who builds one platform's image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// rel's own image writer.
    Rel,
    /// An engine, with the reason the Dockerfile needs one (`None` when chosen by `builder`).
    Engine(Engine, Option<String>),
}

/// One platform of a job.
#[derive(Debug, Clone)]
pub struct PlatformJob {
    /// The platform.
    pub platform: Platform,
    /// The Dockerfile, as configured (relative to the project).
    pub dockerfile: String,
    /// Its path.
    pub dockerfile_path: PathBuf,
    /// The parsed Dockerfile.
    pub parsed: dockerfile::Dockerfile,
    /// Binaries and packages that go into the context.
    pub artifacts: Vec<Artifact>,
    /// Who builds it.
    pub route: Route,
}

/// One image to build from a Dockerfile.
#[derive(Debug, Clone)]
pub struct Job {
    /// `dockers_v2[0]` or `dockers[1]`.
    pub key: String,
    /// The layout folder name under `dist/images/`.
    pub id: String,
    /// GoReleaser's v1 `dockers`: one platform, binaries at the context root, tags on the
    /// manifest itself.
    pub v1: bool,
    /// Platforms.
    pub platforms: Vec<PlatformJob>,
    /// Repository → tags.
    pub refs: Vec<(String, Vec<String>)>,
    /// Config labels.
    pub labels: BTreeMap<String, String>,
    /// Manifest and index annotations.
    pub annotations: BTreeMap<String, String>,
    /// `--build-arg`s.
    pub build_args: BTreeMap<String, String>,
    /// Flags for the engine.
    pub flags: Vec<String>,
    /// Extra context files and folders (relative to the project).
    pub extra_files: Vec<String>,
    /// Plain HTTP allowed.
    pub insecure: bool,
    /// Pushed in a release (not `skip`ped).
    pub push: bool,
}

impl Job {
    /// Every `repository:tag`.
    pub fn references(&self) -> Vec<String> {
        self.refs
            .iter()
            .flat_map(|(r, tags)| tags.iter().map(move |t| format!("{r}:{t}")))
            .collect()
    }
}

fn truthy(ctx: &Context, key: &str, v: &Option<BoolOrTemplate>) -> Result<bool> {
    Ok(match v {
        None => false,
        Some(BoolOrTemplate::Bool(b)) => *b,
        Some(BoolOrTemplate::Template(t)) => {
            let r = ctx.render(key, t)?;
            match r.trim().to_ascii_lowercase().as_str() {
                "true" | "yes" | "1" => true,
                "false" | "no" | "0" | "" => false,
                other => {
                    return Err(Error::Usage(format!(
                        "{key}: `{t}` rendered to `{other}`; it must give true or false"
                    )));
                }
            }
        }
    })
}

fn pushes(ctx: &Context, skip: &Option<SkipUpload>) -> bool {
    match skip {
        None | Some(SkipUpload::Bool(false)) => true,
        Some(SkipUpload::Bool(true)) => false,
        Some(SkipUpload::Word(w)) => !(w == "auto" && ctx.version.contains('-')),
    }
}

fn platform_vars(ctx: &Context, p: &Platform) -> BTreeMap<String, Value> {
    let mut v = ctx.vars.clone();
    v.insert("os".into(), Value::from(p.os.clone()));
    v.insert("arch".into(), Value::from(p.arch.clone()));
    v.insert(
        "arm".into(),
        Value::from(
            p.variant
                .as_deref()
                .filter(|_| p.arch == "arm")
                .map(|x| x.trim_start_matches('v').to_string())
                .unwrap_or_default(),
        ),
    );
    v.insert("platform".into(), Value::from(p.to_string()));
    v
}

/// The id of an entry: its `id`, else the project name (suffixed when several have none).
fn entry_id(ctx: &Context, kind: &str, i: usize, id: &Option<String>, unnamed: usize) -> String {
    match id {
        Some(id) if !id.is_empty() => id.clone(),
        _ => {
            let p = ctx
                .config
                .project_name
                .clone()
                .unwrap_or_else(|| "image".into());
            if unnamed > 1 || kind == "dockers" {
                format!("{p}-{kind}-{i}")
            } else {
                p
            }
        }
    }
}

fn matches_ids(a: &Artifact, ids: &[String]) -> bool {
    ids.is_empty()
        || a.build_id.as_ref().is_some_and(|b| ids.contains(b))
        || a.extra
            .get("id")
            .and_then(|v| v.as_str())
            .is_some_and(|b| ids.iter().any(|x| x == b))
}

/// The binaries and linux packages of `platform` among `artifacts`.
fn context_artifacts(artifacts: &[Artifact], ids: &[String], p: &Platform) -> Vec<Artifact> {
    let mut out: Vec<Artifact> = artifacts
        .iter()
        .filter(|a| matches!(a.kind, Kind::Binary | Kind::LinuxPackage))
        .filter(|a| Platform::of_binary(a).as_ref() == Some(p))
        .filter(|a| matches_ids(a, ids))
        .cloned()
        .collect();
    // The lowest amd64 level built serves linux/amd64.
    out.sort_by(|a, b| (a.kind, &a.name, &a.amd64).cmp(&(b.kind, &b.name, &b.amd64)));
    out.dedup_by(|a, b| a.kind == b.kind && a.name == b.name);
    out
}

fn read_dockerfile(
    ctx: &Context,
    key: &str,
    path: &str,
) -> Result<(PathBuf, dockerfile::Dockerfile)> {
    let full = ctx.root.join(path);
    let text = std::fs::read_to_string(&full)
        .map_err(|e| Error::Usage(format!("{key}.dockerfile: cannot read {path}: {e}")))?;
    let parsed = dockerfile::parse(&text)
        .map_err(|e| Error::Usage(format!("{path}:{}:1: {}", e.line, e.message)))?;
    Ok((full, parsed))
}

/// Decide who builds `parsed` for `platform`.
pub fn route(
    key: &str,
    dockerfile: &str,
    parsed: &dockerfile::Dockerfile,
    platform: &Platform,
    build_args: &BTreeMap<String, String>,
    builder: DockerBuilder,
    prefer: Option<Engine>,
) -> Result<Route> {
    let mut args = analyze::platform_args(&platform.to_string());
    args.extend(build_args.clone());
    let verdict = analyze::analyze(parsed, &args, None);
    let blocker = match verdict {
        Ok(_) => None,
        Err(Blocker {
            line,
            reason,
            invalid: true,
        }) => {
            return Err(Error::Usage(format!("{dockerfile}:{line}:1: {reason}")));
        }
        Err(b) => Some(format!("{dockerfile}:{}: {}", b.line, b.reason)),
    };
    Ok(match (builder, blocker) {
        (DockerBuilder::Rel, None) => Route::Rel,
        (DockerBuilder::Rel, Some(why)) => {
            return Err(Error::Usage(format!(
                "{key}.builder: rel builds only Dockerfiles that copy files, and {why}; use `builder: auto` or an engine"
            )));
        }
        (DockerBuilder::Auto, None) => Route::Rel,
        (DockerBuilder::Auto, Some(why)) => match Engine::find(prefer) {
            Some(e) => Route::Engine(e, Some(why)),
            None => {
                return Err(Error::Failed(format!(
                    "{key}: {why}, which needs a container engine, and none was found (buildah, docker with a running daemon, or podman) for {platform}"
                )));
            }
        },
        (DockerBuilder::Buildah, why) => Route::Engine(Engine::Buildah, why),
        (DockerBuilder::Docker, why) => Route::Engine(Engine::Docker, why),
        (DockerBuilder::Podman, why) => Route::Engine(Engine::Podman, why),
    })
}

fn render_list(ctx: &Context, key: &str, l: &[String]) -> Result<Vec<String>> {
    let mut out = vec![];
    for (j, v) in l.iter().enumerate() {
        let r = ctx.render(&format!("{key}[{j}]"), v)?;
        if !r.trim().is_empty() {
            out.push(r.trim().to_string());
        }
    }
    Ok(out)
}

fn check_ref(key: &str, repository: &str, tag: &str) -> Result<()> {
    crate::oci_ref::check_reference(key, repository, tag).map(|_| ())
}

/// GoReleaser's default platforms for `dockers_v2`.
const DEFAULT_PLATFORMS: &[&str] = &["linux/amd64", "linux/arm64"];

/// Render every enabled `dockers_v2` and `dockers` entry against `artifacts` (the built ones,
/// or the planned binaries before the build).
pub fn jobs(ctx: &Context, artifacts: &[Artifact]) -> Result<Vec<Job>> {
    let mut out = vec![];
    let unnamed = ctx
        .config
        .dockers_v2
        .iter()
        .filter(|d| d.id.is_none())
        .count();
    for (i, d) in ctx.config.dockers_v2.iter().enumerate() {
        let key = format!("dockers_v2[{i}]");
        if truthy(ctx, &format!("{key}.disable"), &d.disable)? {
            continue;
        }
        let id = entry_id(ctx, "dockers_v2", i, &d.id, unnamed);
        let images = render_list(ctx, &format!("{key}.images"), &d.images)?;
        let tags = if d.tags.is_empty() {
            vec![ctx.version.clone()]
        } else {
            render_list(ctx, &format!("{key}.tags"), &d.tags)?
        };
        if images.is_empty() || tags.is_empty() {
            return Err(Error::Usage(format!(
                "{key}: no image names{} after rendering; set `images` and `tags`",
                if images.is_empty() { "" } else { " (no tags)" }
            )));
        }
        let mut refs = vec![];
        for r in &images {
            for t in &tags {
                check_ref(&format!("{key}.images"), r, t)?;
            }
            refs.push((r.clone(), tags.clone()));
        }
        let build_args = ctx.render_map(&format!("{key}.build_args"), &d.build_args)?;
        let explicit = !d.platforms.is_empty();
        let wanted: Vec<String> = if explicit {
            d.platforms.clone()
        } else {
            DEFAULT_PLATFORMS.iter().map(|s| s.to_string()).collect()
        };
        let mut platforms = vec![];
        for s in &wanted {
            let p = Platform::parse(s).ok_or_else(|| {
                Error::Usage(format!("{key}.platforms: unsupported platform `{s}`"))
            })?;
            let arts = context_artifacts(artifacts, &d.ids, &p);
            if arts.is_empty() {
                if explicit {
                    return Err(Error::Failed(format!(
                        "{key}: nothing was built for {p}{}; add it to a build's targets or remove it from `platforms`",
                        if d.ids.is_empty() {
                            String::new()
                        } else {
                            format!(" by [{}]", d.ids.join(", "))
                        }
                    )));
                }
                continue;
            }
            let vars = platform_vars(ctx, &p);
            let df = ctx.templates.render(
                &format!("{key}.dockerfile"),
                d.dockerfile.as_deref().unwrap_or("Dockerfile"),
                &vars,
            )?;
            let (path, parsed) = read_dockerfile(ctx, &key, &df)?;
            let route = route(&key, &df, &parsed, &p, &build_args, d.builder, None)?;
            platforms.push(PlatformJob {
                platform: p,
                dockerfile: df,
                dockerfile_path: path,
                parsed,
                artifacts: arts,
                route,
            });
        }
        if platforms.is_empty() {
            return Err(Error::Failed(format!(
                "{key}: none of {} was built; set `platforms` to the linux platforms the builds make",
                wanted.join(", ")
            )));
        }
        out.push(Job {
            key: key.clone(),
            id,
            v1: false,
            platforms,
            refs,
            labels: ctx.render_map(&format!("{key}.labels"), &d.labels)?,
            annotations: ctx.render_map(&format!("{key}.annotations"), &d.annotations)?,
            build_args,
            flags: render_list(ctx, &format!("{key}.flags"), &d.flags)?,
            extra_files: d.extra_files.clone(),
            insecure: d.insecure,
            push: pushes(ctx, &d.skip),
        });
    }
    for (i, d) in ctx.config.dockers.iter().enumerate() {
        let key = format!("dockers[{i}]");
        let id = entry_id(ctx, "dockers", i, &d.id, 0);
        let os = d.goos.clone().unwrap_or_else(|| "linux".into());
        let arch = d.goarch.clone().unwrap_or_else(|| "amd64".into());
        let variant = (arch == "arm").then(|| format!("v{}", d.goarm.as_deref().unwrap_or("6")));
        let p = Platform::new(&os, &arch, variant.as_deref());
        let mut refs: Vec<(String, Vec<String>)> = vec![];
        for r in render_list(ctx, &format!("{key}.image_templates"), &d.image_templates)? {
            let parsed = crate::oci_ref::parse(&r)
                .map_err(|e| Error::Usage(format!("{key}.image_templates: {e}")))?;
            let repo = r
                .rsplit_once(':')
                .filter(|(_, t)| !t.contains('/'))
                .map(|(a, _)| a.to_string())
                .unwrap_or_else(|| r.clone());
            let tag = parsed.tag().unwrap_or("latest").to_string();
            check_ref(&format!("{key}.image_templates"), &repo, &tag)?;
            match refs.iter_mut().find(|(x, _)| x == &repo) {
                Some((_, tags)) => tags.push(tag),
                None => refs.push((repo, vec![tag])),
            }
        }
        if refs.is_empty() {
            return Err(Error::Usage(format!(
                "{key}.image_templates: no image names after rendering"
            )));
        }
        // GoReleaser's build flags: rel reads labels, build args, annotations and the
        // platform itself; the rest go to the engine.
        let mut labels = BTreeMap::new();
        let mut annotations = BTreeMap::new();
        let mut build_args = BTreeMap::new();
        let mut flags = vec![];
        let rendered = render_list(
            ctx,
            &format!("{key}.build_flag_templates"),
            &d.build_flag_templates,
        )?;
        let mut it = rendered.into_iter().peekable();
        while let Some(f) = it.next() {
            let (name, value) = match f.split_once('=') {
                Some((n, v)) if n.starts_with("--") => (n.to_string(), Some(v.to_string())),
                _ => (f.clone(), None),
            };
            let takes = matches!(
                name.as_str(),
                "--label" | "--build-arg" | "--annotation" | "--platform"
            );
            let value = match (takes, value) {
                (true, Some(v)) => Some(v),
                (true, None) => it.next(),
                (false, v) => {
                    flags.push(match v {
                        Some(v) => format!("{name}={v}"),
                        None => name.clone(),
                    });
                    continue;
                }
            };
            let v = value.unwrap_or_default();
            let (k, val) = v
                .split_once('=')
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .unwrap_or((v.clone(), String::new()));
            match name.as_str() {
                "--label" => {
                    labels.insert(k, val);
                }
                "--annotation" => {
                    annotations.insert(k, val);
                }
                "--build-arg" => {
                    build_args.insert(k, val);
                }
                _ => {
                    if Platform::parse(&v).as_ref() != Some(&p) {
                        return Err(Error::Usage(format!(
                            "{key}.build_flag_templates: --platform={v} differs from goos/goarch ({p})"
                        )));
                    }
                }
            }
        }
        // Flags that change nothing in the image rel writes.
        let harmless = |f: &str| {
            let n = f.split('=').next().unwrap_or(f);
            matches!(
                n,
                "--pull"
                    | "--no-cache"
                    | "--rm"
                    | "--force-rm"
                    | "--quiet"
                    | "-q"
                    | "--progress"
                    | "--provenance"
                    | "--sbom"
                    | "--load"
                    | "--push"
            )
        };
        let arts = context_artifacts(artifacts, &d.ids, &p);
        if arts.is_empty() {
            return Err(Error::Failed(format!(
                "{key}: nothing was built for {p}{}",
                if d.ids.is_empty() {
                    String::new()
                } else {
                    format!(" by [{}]", d.ids.join(", "))
                }
            )));
        }
        let df = ctx.render(
            &format!("{key}.dockerfile"),
            d.dockerfile.as_deref().unwrap_or("Dockerfile"),
        )?;
        let (path, parsed) = read_dockerfile(ctx, &key, &df)?;
        let prefer = match d.use_.as_deref() {
            Some("podman") => Some(Engine::Podman),
            Some("docker") | Some("buildx") => Some(Engine::Docker),
            _ => None,
        };
        let engine_flags: Vec<&String> = flags.iter().filter(|f| !harmless(f)).collect();
        let mut route = route(&key, &df, &parsed, &p, &build_args, d.builder, prefer)?;
        if route == Route::Rel && !engine_flags.is_empty() {
            if d.builder == DockerBuilder::Rel {
                return Err(Error::Usage(format!(
                    "{key}.build_flag_templates: rel cannot apply {}; use `builder: auto` or an engine",
                    engine_flags
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(" ")
                )));
            }
            let why = format!(
                "build flags {} need an engine",
                engine_flags
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(" ")
            );
            route = match Engine::find(prefer) {
                Some(e) => Route::Engine(e, Some(why)),
                None => {
                    return Err(Error::Failed(format!(
                        "{key}: {why}, and no container engine was found (buildah, docker with a running daemon, or podman)"
                    )));
                }
            };
        }
        out.push(Job {
            key,
            id,
            v1: true,
            platforms: vec![PlatformJob {
                platform: p,
                dockerfile: df,
                dockerfile_path: path,
                parsed,
                artifacts: arts,
                route,
            }],
            refs,
            labels,
            annotations,
            build_args,
            flags: flags.into_iter().filter(|f| !harmless(f)).collect(),
            extra_files: d.extra_files.clone(),
            insecure: d.insecure,
            push: pushes(ctx, &d.skip_push),
        });
    }
    Ok(out)
}
