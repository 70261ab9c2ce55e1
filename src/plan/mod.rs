//! The plan: every target, output name, path and reference, computed once before any work.
//!
//! The context computes the builds; each stage then adds its own outputs through its `plan`
//! hook (archives, the checksum file, release notes, image references, the release). A dry
//! run prints this object and the run takes its names from it, so the two cannot disagree.
//! Every file name in `dist/` is claimed here, so two outputs with one name stop the release
//! before the first build starts.

pub mod matrix;

use crate::config::{Builder, Config, Format};
use crate::error::{Error, Result};
use crate::options::Options;
use crate::target::Target;
use crate::template::{Templates, Vars};
use minijinja::Value;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

/// One binary to build.
#[derive(Debug, Clone)]
pub struct PlannedBuild {
    /// Index into `config.builds`.
    pub index: usize,
    /// The build id.
    pub id: String,
    /// Which builder.
    pub builder: Builder,
    /// The target.
    pub target: Target,
    /// The binary's file name, with `.exe` on windows.
    pub binary: String,
    /// `dist/<id>_<target>/<binary>`.
    pub output: PathBuf,
    /// Global and per-target template variables.
    pub vars: Vars,
}

/// One archive (or bare `binary` copy) the archive stage will write.
#[derive(Debug, Clone)]
pub struct PlannedArchive {
    /// Index into `config.archives`.
    pub index: usize,
    /// The archive's id.
    pub id: String,
    /// Its format.
    pub format: Format,
    /// File name in `dist/`, with extension.
    pub name: String,
    /// `dist/<name>`.
    pub path: PathBuf,
    /// The target all its binaries share.
    pub target: Target,
    /// The builds whose binaries it holds (exactly one for `binary`), in build order.
    pub binaries: Vec<PlannedBuild>,
    /// The top folder inside the archive, if any.
    pub wrap: Option<String>,
}

/// One macOS universal binary the universal stage will write: the darwin binaries it joins
/// and the binary itself, in the form archives take binaries in.
#[derive(Debug, Clone)]
pub struct PlannedUniversal {
    /// Index into `config.universal_binaries`.
    pub index: usize,
    /// The per-architecture darwin builds it joins, in plan order.
    pub sources: Vec<PlannedBuild>,
    /// The universal binary as a planned binary: its `id` is the entry's id, its target
    /// `darwin_all` (os `darwin`, arch `all`), its output `dist/<id>_darwin_all/<name>`; `index`
    /// and `builder` are those of the first source (what an SBOM of it reads).
    pub binary: PlannedBuild,
    /// Archives take it instead of `sources`.
    pub replace: bool,
}

/// One Linux package the nfpm stage will write.
#[derive(Debug, Clone)]
pub struct PlannedPackage {
    /// Index into `config.nfpms`.
    pub index: usize,
    /// Its id.
    pub id: String,
    /// `deb`.
    pub format: String,
    /// File name in `dist/`.
    pub name: String,
    /// `dist/<name>`.
    pub path: PathBuf,
    /// The target.
    pub target: Target,
    /// The builds whose binaries it holds.
    pub binaries: Vec<PlannedBuild>,
    /// The package's name.
    pub package: String,
    /// The version in the format's own syntax (`1.2.3~rc.1-1` for deb).
    pub version: String,
    /// The architecture in the format's own spelling (`amd64`, `armhf`).
    pub arch: String,
}

/// One SBOM document the sbom stage will write.
#[derive(Debug, Clone)]
pub struct PlannedSbom {
    /// Index into `config.sboms`.
    pub index: usize,
    /// Its id.
    pub id: String,
    /// `spdx` or `cyclonedx`.
    pub format: String,
    /// File name in `dist/`.
    pub name: String,
    /// `dist/<name>`.
    pub path: PathBuf,
    /// The name of the artifact it describes.
    pub subject: String,
    /// `archive`, `binary` or `package`.
    pub kind: String,
    /// The builds whose binaries the subject holds.
    pub binaries: Vec<PlannedBuild>,
}

/// One signature the sign stage will write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedSignature {
    /// Index into `config.signs`.
    pub index: usize,
    /// Its id.
    pub id: String,
    /// The name of the artifact it signs.
    pub subject: String,
    /// File name in `dist/`.
    pub name: String,
    /// `dist/<name>`.
    pub path: PathBuf,
}

/// A package repository rel writes in `dist/<dir>/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedRepository {
    /// Index into `config.package_repositories`.
    pub index: usize,
    /// Its id.
    pub id: String,
    /// `dist/<dir>`.
    pub path: PathBuf,
    /// `apt`, `yum`.
    pub formats: Vec<String>,
    /// The file names of this release's packages it lists.
    pub packages: Vec<String>,
}

/// A single file rel writes in `dist/` (the checksum file, the release notes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedFile {
    /// File name.
    pub name: String,
    /// Full path.
    pub path: PathBuf,
    /// What it holds, for the dry run (`sha256, with a sidecar per file`).
    pub detail: String,
}

/// One image the images stage will assemble (and push, unless a snapshot).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedImage {
    /// The image id (its layout is `dist/images/<id>/`).
    pub id: String,
    /// The rendered repository.
    pub repository: String,
    /// Rendered tags.
    pub tags: Vec<String>,
    /// The base image, or `scratch`.
    pub base: String,
    /// Each platform with the binaries that go into it.
    pub platforms: Vec<(String, Vec<String>)>,
}

/// One platform of an image built from a Dockerfile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedDockerPlatform {
    /// `linux/amd64`.
    pub platform: String,
    /// The Dockerfile.
    pub dockerfile: String,
    /// `rel` or the engine.
    pub builder: String,
    /// Why an engine is needed, when one is.
    pub why: Option<String>,
}

/// One image built from a Dockerfile (`dockers_v2`, `dockers`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedDocker {
    /// The entry (`dockers_v2[0]`).
    pub key: String,
    /// The layout folder under `dist/images/`.
    pub id: String,
    /// Every `repository:tag`.
    pub references: Vec<String>,
    /// Platforms and who builds them.
    pub platforms: Vec<PlannedDockerPlatform>,
    /// Tags name the manifest itself (`dockers`), not an index.
    pub single: bool,
    /// Pushed in a release.
    pub push: bool,
}

/// One multi-image index pushed after the images (`manifests`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedManifest {
    /// The index reference.
    pub name: String,
    /// The images it lists.
    pub images: Vec<String>,
}

/// One GitOps change: the references a config repository will be moved to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedGitops {
    /// The entry (`gitops[0]`).
    pub key: String,
    /// `owner/name` or the git remote.
    pub repository: String,
    /// The branch written to (`None`: the default branch).
    pub branch: Option<String>,
    /// Through a pull request.
    pub pull_request: bool,
    /// Each file and the image (`repository:tag`) whose digest it will hold.
    pub files: Vec<(String, String)>,
}

/// The source archive of the released commit the source stage will write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedSource {
    /// File name in `dist/`.
    pub name: String,
    /// `dist/<name>`.
    pub path: PathBuf,
    /// The commit archived (full hash).
    pub commit: String,
    /// The folder every entry is in, if any.
    pub prefix: Option<String>,
    /// The vendored dependencies' archive, when `source.vendor` is set.
    pub vendor: Option<PlannedVendor>,
}

/// The archive of a source's vendored dependencies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedVendor {
    /// File name in `dist/`.
    pub name: String,
    /// `dist/<name>`.
    pub path: PathBuf,
    /// The tools that vendor, in order: `go` (a `go.mod` at the project root), `cargo` (a
    /// `Cargo.toml`).
    pub tools: Vec<String>,
}

/// The GitHub release publishing will create or update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedRelease {
    /// `owner/name`.
    pub repo: String,
    /// The tag.
    pub tag: String,
    /// The rendered release name.
    pub name: String,
}

/// Everything the release will do, by name.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// Builds in config order, then target order.
    pub builds: Vec<PlannedBuild>,
    /// Universal binaries, in config order (none when the universal stage does not run).
    pub universals: Vec<PlannedUniversal>,
    /// Archives in config order, then target order.
    pub archives: Vec<PlannedArchive>,
    /// Linux packages in config order, then target order, then format.
    pub packages: Vec<PlannedPackage>,
    /// Package repositories, in config order.
    pub repositories: Vec<PlannedRepository>,
    /// SBOM documents, in config order, then subject order.
    pub sboms: Vec<PlannedSbom>,
    /// Signatures known before the run (of planned artifacts), in config order.
    pub signatures: Vec<PlannedSignature>,
    /// The provenance statement, when configured.
    pub provenance: Option<PlannedFile>,
    /// The checksum file, when checksums run.
    pub checksum: Option<PlannedFile>,
    /// The release notes, when the changelog runs.
    pub release_notes: Option<PlannedFile>,
    /// Images, when the images stage runs.
    pub images: Vec<PlannedImage>,
    /// Images from Dockerfiles, when the dockers stage runs.
    pub dockers: Vec<PlannedDocker>,
    /// Manifest indexes pushed after the images (none in a snapshot).
    pub manifests: Vec<PlannedManifest>,
    /// The release, when publishing runs.
    pub release: Option<PlannedRelease>,
    /// GitOps changes, when the gitops stage runs.
    pub gitops: Vec<PlannedGitops>,
    /// The source archive (and its vendored dependencies), when the source stage runs.
    pub source: Option<PlannedSource>,
    /// Stages that will not run, with why (in pipeline order).
    pub skipped: Vec<(String, String)>,
    /// Every name taken in `dist/`, with what takes it.
    taken: BTreeMap<String, String>,
}

/// Names in `dist/` that rel writes itself and no output may take.
pub const RESERVED: &[&str] = &[
    "artifacts.json",
    "metadata.json",
    "release-notes.md",
    "config.yaml",
    "CHANGELOG.md",
];

/// Template variables for one target (`os`, `arch`, `arm`, `amd64`, `target`, `ext`).
pub fn target_vars(globals: &Vars, t: &Target) -> Vars {
    let mut v = globals.clone();
    v.insert("os".into(), Value::from(t.os.clone()));
    v.insert("arch".into(), Value::from(t.arch.clone()));
    v.insert("arm".into(), Value::from(t.arm.clone().unwrap_or_default()));
    v.insert(
        "amd64".into(),
        Value::from(t.amd64.clone().unwrap_or_default()),
    );
    v.insert(
        "mips".into(),
        Value::from(t.mips.clone().unwrap_or_default()),
    );
    v.insert("target".into(), Value::from(t.name()));
    v.insert("ext".into(), Value::from(t.ext()));
    v
}

impl Plan {
    /// The plan's builds for this run (ids, `--single-target`, the share and skips applied);
    /// the stages add the rest through their `plan` hooks.
    pub fn new(
        config: &Config,
        options: &Options,
        globals: &Vars,
        templates: &Templates,
        dist: &Path,
    ) -> Result<Plan> {
        let mut builds = vec![];
        // `--single-target` builds for GOOS/GOARCH when they are set (GoReleaser's rule), else
        // for this machine.
        let (host_os, host_arch) = Target::host_os_arch();
        let env_or = |k: &str, d: &str| {
            std::env::var(k)
                .ok()
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| d.to_string())
        };
        let (host_os, host_arch) = (env_or("GOOS", host_os), env_or("GOARCH", host_arch));
        for id in &options.ids {
            if !config.builds.iter().any(|b| b.id.as_deref() == Some(id)) {
                let ids: Vec<&str> = config
                    .builds
                    .iter()
                    .filter_map(|b| b.id.as_deref())
                    .collect();
                return Err(Error::Usage(format!(
                    "--id {id}: no build has that id (builds: {})",
                    ids.join(", ")
                )));
            }
        }
        for (index, b) in config.builds.iter().enumerate() {
            let id = b.id.clone().unwrap_or_default();
            if b.skip || (!options.ids.is_empty() && !options.ids.contains(&id)) {
                continue;
            }
            let targets = matrix::expand(b).map_err(|e| Error::Config(e[0].message.clone()))?;
            let mut targets: Vec<Target> = targets;
            if let Some(share) = &options.share {
                targets.retain(|t| share.includes(t));
            }
            if options.single_target {
                // A Rust target named by CARGO_BUILD_TARGET picks a cargo build's triple.
                let rust_target = std::env::var("CARGO_BUILD_TARGET")
                    .ok()
                    .filter(|t| !t.is_empty() && b.builder == crate::config::Builder::Cargo);
                match rust_target {
                    Some(triple) => targets.retain(|t| t.triple.as_deref() == Some(&triple)),
                    None => targets.retain(|t| t.os == host_os && t.arch == host_arch),
                }
                targets.truncate(1);
            }
            for t in targets {
                let mut vars = target_vars(globals, &t);
                let key = format!("builds[{index}].binary");
                let name = templates.render(&key, b.binary.as_deref().unwrap_or(&id), &vars)?;
                if name.trim().is_empty() {
                    return Err(Error::Config(format!(
                        "`{key}` gives `{name}` for {}: a binary needs a name",
                        t.name()
                    )));
                }
                vars.insert("binary".into(), Value::from(name.clone()));
                let binary = format!("{name}{}", t.ext());
                let output = if b.no_unique_dist_dir {
                    dist.join(&binary)
                } else {
                    dist.join(format!("{id}_{}", t.name())).join(&binary)
                };
                builds.push(PlannedBuild {
                    index,
                    id: id.clone(),
                    builder: b.builder,
                    target: t,
                    binary,
                    output,
                    vars,
                });
            }
        }
        if let (true, Some(share)) = (builds.is_empty(), &options.share) {
            return Err(Error::Usage(format!(
                "--partial-target {}: no build target belongs to this share",
                share.name
            )));
        }
        if builds.is_empty() && options.single_target {
            return Err(Error::Usage(format!(
                "--single-target: no build targets this machine ({host_os}/{host_arch})"
            )));
        }
        let mut seen: HashMap<&PathBuf, &PlannedBuild> = HashMap::new();
        for b in &builds {
            if let Some(prev) = seen.insert(&b.output, b) {
                return Err(Error::Config(format!(
                    "builds `{}` and `{}` would both write {}",
                    prev.id,
                    b.id,
                    b.output.display()
                )));
            }
        }
        let mut plan = Plan {
            builds,
            ..Default::default()
        };
        for r in RESERVED {
            plan.taken
                .insert((*r).to_string(), format!("rel's own `{r}`"));
        }
        let folders: Vec<(String, String)> = plan
            .builds
            .iter()
            .filter_map(|pb| {
                let parent = pb.output.parent()?;
                // `no_unique_dist_dir` binaries take their own name in `dist/`.
                if parent == dist {
                    return Some((
                        pb.binary.clone(),
                        format!("the binary of build `{}` for {}", pb.id, pb.target.name()),
                    ));
                }
                Some((
                    parent.file_name()?.to_string_lossy().into_owned(),
                    format!("the folder of build `{}` for {}", pb.id, pb.target.name()),
                ))
            })
            .collect();
        plan.taken.extend(folders);
        Ok(plan)
    }

    /// Take `name` in `dist/` for `what`; two outputs with one name are a config error that
    /// names both, with `hint` saying what to change.
    pub fn claim(&mut self, name: &str, what: &str, hint: &str) -> Result<()> {
        match self.taken.get(name) {
            Some(prev) => Err(Error::Config(format!(
                "two outputs would be written to dist/{name}: {prev} and {what}\n  {hint}"
            ))),
            None => {
                self.taken.insert(name.to_string(), what.to_string());
                Ok(())
            }
        }
    }

    /// `build_id/target` of every planned binary, universal ones included: what a release
    /// must have built.
    pub fn build_keys(&self) -> Vec<String> {
        self.builds
            .iter()
            .chain(self.universals.iter().map(|u| &u.binary))
            .map(|pb| format!("{}/{}", pb.id, pb.target.name()))
            .collect()
    }

    /// Whether a universal binary takes the place of `pb` (one of its sources, with
    /// `replace`): the stages that package binaries take the universal binary instead.
    pub fn replaced_by_universal(&self, pb: &PlannedBuild) -> bool {
        self.universals.iter().any(|u| {
            u.replace
                && u.sources
                    .iter()
                    .any(|s| s.id == pb.id && s.target == pb.target)
        })
    }
}
