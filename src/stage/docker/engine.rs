//! Container engines for Dockerfiles rel cannot build itself: `buildah bud`, `docker buildx
//! build` and `podman build`, one build per platform.
//!
//! The engine only builds: its result is exported as an OCI layout and read back into
//! `dist/images/<id>/`, and rel pushes it and writes the index with its own registry client,
//! so credentials, retries, `--dry-run` and the index digest behave as for `images`, whatever
//! engine made the layers. `SOURCE_DATE_EPOCH` (and buildah's and podman's `--timestamp`) is
//! the commit time, so the created times do not change between runs.

use crate::error::{Error, IoContext, Result};
use crate::oci::layout::{Descriptor, Layout, media};
use crate::oci::platform::Platform;
use crate::oci::push::PlatformImage;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// A container engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Engine {
    /// `buildah` (daemonless).
    Buildah,
    /// `docker buildx` (needs a daemon).
    Docker,
    /// `podman` (daemonless).
    Podman,
}

impl Engine {
    /// The program's name.
    pub fn name(self) -> &'static str {
        match self {
            Engine::Buildah => "buildah",
            Engine::Docker => "docker",
            Engine::Podman => "podman",
        }
    }

    /// Whether it can build here: on `PATH`, and for docker a daemon that answers.
    pub fn available(self) -> bool {
        static FOUND: OnceLock<BTreeMap<Engine, bool>> = OnceLock::new();
        *FOUND
            .get_or_init(|| {
                [Engine::Buildah, Engine::Docker, Engine::Podman]
                    .into_iter()
                    .map(|e| (e, e.probe()))
                    .collect()
            })
            .get(&self)
            .unwrap_or(&false)
    }

    fn probe(self) -> bool {
        if crate::stage::on_path(self.name(), "builder").is_err() {
            return false;
        }
        if self != Engine::Docker {
            return true;
        }
        // The docker client alone builds nothing: ask the daemon, briefly.
        let inv = crate::exec::Invocation {
            argv: vec![
                "docker".into(),
                "version".into(),
                "--format".into(),
                "{{.Server.Version}}".into(),
            ],
            env: std::env::vars().collect(),
            dir: std::env::temp_dir(),
            stdin: None,
        };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        crate::exec::run(
            "docker",
            &inv,
            &std::sync::atomic::AtomicBool::new(false),
            Some(deadline),
        )
        .is_ok()
    }

    /// The engine to use when one is needed: `prefer` when it is available, else the first of
    /// buildah, docker and podman that is.
    pub fn find(prefer: Option<Engine>) -> Option<Engine> {
        prefer
            .into_iter()
            .chain([Engine::Buildah, Engine::Docker, Engine::Podman])
            .find(|e| e.available())
    }
}

/// Whether this machine can run `platform`'s programs (natively or through binfmt emulation),
/// which a `RUN` step for that platform needs.
pub fn can_run(platform: &Platform) -> bool {
    let host = super::analyze::host_arch();
    if platform.arch == host || (host == "amd64" && platform.arch == "386") {
        return true;
    }
    if host == "arm64" && platform.arch == "arm" {
        return true;
    }
    let qemu = match platform.arch.as_str() {
        "arm64" => "aarch64",
        "amd64" => "x86_64",
        "386" => "i386",
        "ppc64le" => "ppc64le",
        "s390x" => "s390x",
        "riscv64" => "riscv64",
        "arm" => "arm",
        other => other,
    };
    Path::new(&format!("/proc/sys/fs/binfmt_misc/qemu-{qemu}")).exists()
}

/// One platform's engine build.
#[derive(Debug)]
pub struct Build<'a> {
    /// The engine.
    pub engine: Engine,
    /// The platform.
    pub platform: &'a Platform,
    /// The Dockerfile.
    pub dockerfile: &'a Path,
    /// The prepared build context.
    pub context: &'a Path,
    /// `--build-arg`s.
    pub build_args: &'a BTreeMap<String, String>,
    /// `--label`s.
    pub labels: &'a BTreeMap<String, String>,
    /// `--annotation`s.
    pub annotations: &'a BTreeMap<String, String>,
    /// Extra flags, passed as they are.
    pub flags: &'a [String],
    /// Plain HTTP registries allowed.
    pub insecure: bool,
    /// The commit time.
    pub epoch: i64,
    /// A local name for the built image.
    pub name: String,
    /// Where the OCI layout of the result goes.
    pub out: PathBuf,
}

impl Build<'_> {
    /// The build command, then the export command (none for docker, which exports itself).
    pub fn commands(&self) -> Vec<Vec<String>> {
        let e = self.engine.name().to_string();
        let mut argv = match self.engine {
            Engine::Buildah => vec![e.clone(), "bud".into()],
            Engine::Podman => vec![e.clone(), "build".into()],
            Engine::Docker => vec![e.clone(), "buildx".into(), "build".into()],
        };
        argv.push(format!("--platform={}", self.platform));
        argv.push(format!("--file={}", self.dockerfile.display()));
        for (k, v) in self.build_args {
            argv.push(format!("--build-arg={k}={v}"));
        }
        for (k, v) in self.labels {
            argv.push(format!("--label={k}={v}"));
        }
        for (k, v) in self.annotations {
            argv.push(format!("--annotation={k}={v}"));
        }
        match self.engine {
            Engine::Buildah | Engine::Podman => {
                argv.push(format!("--timestamp={}", self.epoch));
                argv.push(format!("--tag={}", self.name));
                if self.insecure {
                    argv.push("--tls-verify=false".into());
                }
            }
            Engine::Docker => {
                argv.push(format!(
                    "--output=type=oci,dest={},tar=false",
                    self.out.display()
                ));
            }
        }
        argv.extend(self.flags.iter().cloned());
        argv.push(self.context.display().to_string());
        let mut out = vec![argv];
        if self.engine != Engine::Docker {
            out.push(vec![
                e.clone(),
                "push".into(),
                self.name.clone(),
                format!("oci:{}:image", self.out.display()),
            ]);
        }
        out
    }
}

/// Run the build and the export; returns the engine's output.
pub fn build(b: &Build, deadline: Option<std::time::Instant>) -> Result<String> {
    let _ = std::fs::remove_dir_all(&b.out);
    let mut env: Vec<(String, String)> = std::env::vars()
        .filter(|(k, _)| k != "SOURCE_DATE_EPOCH")
        .collect();
    env.push(("SOURCE_DATE_EPOCH".into(), b.epoch.to_string()));
    let mut log = String::new();
    for (n, argv) in b.commands().into_iter().enumerate() {
        let mut env = env.clone();
        if n > 0 {
            // The export writes a local folder: no registry, so no credentials file to check
            // (buildah refuses a DOCKER_CONFIG folder without a config.json).
            env.retain(|(k, _)| k != "DOCKER_CONFIG" && k != "REGISTRY_AUTH_FILE");
        }
        let inv = crate::exec::Invocation {
            argv,
            env,
            dir: b.context.to_path_buf(),
            stdin: None,
        };
        log.push_str(&crate::exec::run(
            &format!("{} build for {}", b.engine.name(), b.platform),
            &inv,
            &std::sync::atomic::AtomicBool::new(false),
            deadline,
        )?);
    }
    if b.engine != Engine::Docker {
        // The image stays in the engine's storage only as long as the export needs it.
        let inv = crate::exec::Invocation {
            argv: vec![b.engine.name().into(), "rmi".into(), b.name.clone()],
            env,
            dir: b.context.to_path_buf(),
            stdin: None,
        };
        let _ = crate::exec::run(
            "cleanup",
            &inv,
            &std::sync::atomic::AtomicBool::new(false),
            deadline,
        );
    }
    Ok(log)
}

fn read_json(path: &Path) -> Result<Value> {
    let bytes = std::fs::read(path).ctx("cannot read", path)?;
    serde_json::from_slice(&bytes)
        .map_err(|e| Error::Failed(format!("{}: not JSON: {e}", path.display())))
}

fn descriptor(v: &Value) -> Option<Descriptor> {
    Some(Descriptor {
        media_type: v.get("mediaType")?.as_str()?.to_string(),
        digest: v.get("digest")?.as_str()?.to_string(),
        size: v.get("size")?.as_u64()?,
    })
}

/// Read the engine's OCI layout at `out` and copy the image of `platform` into `layout`.
pub fn import(out: &Path, layout: &Layout, platform: &Platform) -> Result<PlatformImage> {
    let src = Layout {
        root: out.to_path_buf(),
    };
    let index = read_json(&out.join("index.json"))?;
    let mut entry = index
        .get("manifests")
        .and_then(Value::as_array)
        .and_then(|a| a.first())
        .and_then(descriptor)
        .ok_or_else(|| Error::Failed(format!("{}: the engine wrote no image", out.display())))?;
    // docker's exporter may wrap the image (and its attestations) in an index.
    if entry.media_type == media::INDEX {
        let inner = read_json(&src.blob_path(&entry.digest))?;
        entry = inner
            .get("manifests")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .find(|m| {
                m.get("platform")
                    .and_then(Platform::from_json)
                    .is_some_and(|p| &p == platform)
            })
            .and_then(descriptor)
            .ok_or_else(|| {
                Error::Failed(format!(
                    "{}: the engine wrote no {platform} image",
                    out.display()
                ))
            })?;
    }
    if entry.media_type != media::MANIFEST {
        return Err(Error::Failed(format!(
            "the engine wrote a `{}` manifest; rel pushes OCI images (drop `--format docker` from the flags)",
            entry.media_type
        )));
    }
    let manifest_bytes = std::fs::read(src.blob_path(&entry.digest))
        .ctx("cannot read", src.blob_path(&entry.digest))?;
    let manifest: Value = serde_json::from_slice(&manifest_bytes)
        .map_err(|e| Error::Failed(format!("the engine's manifest is not JSON: {e}")))?;
    let mut blobs = vec![];
    if let Some(c) = manifest.get("config").and_then(descriptor) {
        blobs.push(c);
    }
    blobs.extend(
        manifest
            .get("layers")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(descriptor),
    );
    for b in blobs.iter().chain(std::iter::once(&entry)) {
        if layout.has(&b.digest) {
            continue;
        }
        let from = src.blob_path(&b.digest);
        let tmp = layout.temp()?;
        std::fs::copy(&from, tmp.path()).ctx("cannot copy", &from)?;
        layout.commit(tmp, &b.digest)?;
    }
    Ok(PlatformImage {
        platform: platform.clone(),
        manifest: entry,
        manifest_bytes,
        blobs,
        base_layers: vec![],
    })
}
