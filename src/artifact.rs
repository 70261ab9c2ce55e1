//! The artifact registry: the single list of everything a release produces.
//!
//! Stages add to it and read from it (archives read binaries, checksums read archives, …);
//! `dist/artifacts.json` is its serialisation, and split/merge and resumed publishing read
//! that file back. It is thread-safe so parallel workers can add as they finish.

use crate::error::{IoContext, Result};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::{Condvar, Mutex};
use std::time::Duration;

/// What an artifact is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A built binary.
    Binary,
    /// An archive of binaries and files.
    Archive,
    /// A binary renamed for upload (`formats: [binary]`).
    UploadableBinary,
    /// The checksum file.
    Checksum,
    /// A per-file checksum sidecar.
    ChecksumSidecar,
    /// A signature.
    Signature,
    /// The release notes.
    ReleaseNotes,
    /// A file from `release.extra_files`.
    ExtraFile,
    /// A per-platform OCI image.
    Image,
    /// A multi-platform OCI image index.
    ImageIndex,
    /// Metadata written by rel.
    Metadata,
    /// A Linux package (`.deb`, `.rpm`, `.apk`, `.pkg.tar.zst`).
    LinuxPackage,
    /// A static APT/YUM repository folder in `dist/` (not uploaded).
    PackageRepository,
    /// A software bill of materials.
    Sbom,
    /// The signed provenance statement.
    Provenance,
    /// A signature or SBOM attached to a pushed image as an OCI referrer (not uploaded).
    Referrer,
    /// A Homebrew, Scoop, winget or AUR manifest written under `dist/` (not uploaded).
    PackageManifest,
    /// An image reference moved in a GitOps config repository (not uploaded): the file, its
    /// repository and branch, and the reference written.
    Gitops,
    /// An archive of the released commit's source, or of its vendored dependencies.
    SourceArchive,
}

impl Kind {
    /// GoReleaser's name for an artifact of this kind (its `artifacts.json` `type`).
    pub fn goreleaser_type(self, a: &Artifact) -> &'static str {
        match self {
            Kind::Binary => "Binary",
            Kind::Archive => "Archive",
            Kind::UploadableBinary => "Uploadable Binary",
            Kind::Checksum | Kind::ChecksumSidecar => "Checksum",
            Kind::Signature | Kind::Referrer => "Signature",
            Kind::ReleaseNotes => "Release Notes",
            Kind::ExtraFile => "Uploadable File",
            Kind::Image => {
                if a.extra.get("pushed").and_then(|v| v.as_bool()) == Some(true) {
                    "Published Docker Image"
                } else {
                    "Docker Image"
                }
            }
            Kind::ImageIndex => "Docker Manifest",
            Kind::Metadata => "Metadata",
            Kind::LinuxPackage => "Linux Package",
            Kind::PackageRepository => "Package Repository",
            Kind::Sbom => "SBOM",
            Kind::Provenance => "Provenance",
            Kind::PackageManifest => "Package Manifest",
            Kind::Gitops => "GitOps",
            Kind::SourceArchive => "Source",
        }
    }

    /// Whether artifacts of this kind are uploaded to the release and checksummed.
    pub fn uploadable(self) -> bool {
        matches!(
            self,
            Kind::Archive
                | Kind::LinuxPackage
                | Kind::UploadableBinary
                | Kind::Checksum
                | Kind::ChecksumSidecar
                | Kind::Signature
                | Kind::ExtraFile
                | Kind::Sbom
                | Kind::Provenance
                | Kind::SourceArchive
        )
    }
}

/// One output of the release.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Artifact {
    /// File name (or image reference).
    pub name: String,
    /// Path relative to the project root (empty for remote-only artifacts).
    pub path: String,
    /// What it is.
    pub kind: Kind,
    /// The build it came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build_id: Option<String>,
    /// The target name (`linux_amd64_v1`, a Rust triple).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// Operating system.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os: Option<String>,
    /// Architecture.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arch: Option<String>,
    /// ARM version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arm: Option<String>,
    /// amd64 level.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amd64: Option<String>,
    /// mips float ABI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mips: Option<String>,
    /// Size in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// SHA-256 of the file, hex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// Kind-specific data (archive format, image digest, …).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub extra: BTreeMap<String, serde_json::Value>,
}

impl Artifact {
    /// Set target name, os, arch, arm and amd64 from `t`.
    pub fn set_target(&mut self, t: &crate::target::Target) {
        self.target = Some(t.name());
        self.os = Some(t.os.clone());
        self.arch = Some(t.arch.clone());
        self.arm = t.arm.clone();
        self.amd64 = t.amd64.clone();
        self.mips = t.mips.clone();
    }

    /// A new artifact with only name, path and kind set.
    pub fn new(kind: Kind, name: impl Into<String>, path: impl Into<String>) -> Self {
        Artifact {
            name: name.into(),
            path: path.into(),
            kind,
            build_id: None,
            target: None,
            os: None,
            arch: None,
            arm: None,
            amd64: None,
            mips: None,
            size: None,
            sha256: None,
            extra: BTreeMap::new(),
        }
    }
}

/// A composable, typed selection of artifacts: each stage states its input as one.
///
/// `Filter::kind(Kind::Binary).and(Filter::target("linux_amd64_v1"))`. Filters are values
/// (not closures) so a stage's input can be printed and compared, and two stages never
/// select the same thing two ways.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filter {
    /// Everything.
    All,
    /// Of this kind.
    Kind(Kind),
    /// Uploaded to the release and checksummed ([`Kind::uploadable`]).
    Uploadable,
    /// From this build id.
    BuildId(String),
    /// For this target name.
    Target(String),
    /// For this operating system.
    Os(String),
    /// For this architecture.
    Arch(String),
    /// Of this archive format (`tar.gz`, `zip`, `binary`).
    Format(String),
    /// Both.
    And(Box<Filter>, Box<Filter>),
    /// Either.
    Or(Box<Filter>, Box<Filter>),
    /// Not this.
    Not(Box<Filter>),
}

impl Filter {
    /// Of kind `k`.
    pub fn kind(k: Kind) -> Filter {
        Filter::Kind(k)
    }
    /// Of any of `kinds`.
    pub fn kinds(kinds: &[Kind]) -> Filter {
        kinds
            .iter()
            .map(|k| Filter::Kind(*k))
            .reduce(Filter::or)
            .unwrap_or(Filter::Not(Box::new(Filter::All)))
    }
    /// From build `id`.
    pub fn build_id(id: &str) -> Filter {
        Filter::BuildId(id.into())
    }
    /// From any of the build `ids`; every build when `ids` is empty.
    pub fn build_ids(ids: &[String]) -> Filter {
        ids.iter()
            .map(|i| Filter::BuildId(i.clone()))
            .reduce(Filter::or)
            .unwrap_or(Filter::All)
    }
    /// For target `t`.
    pub fn target(t: &str) -> Filter {
        Filter::Target(t.into())
    }
    /// For operating system `os`.
    pub fn os(os: &str) -> Filter {
        Filter::Os(os.into())
    }
    /// For architecture `arch`.
    pub fn arch(arch: &str) -> Filter {
        Filter::Arch(arch.into())
    }
    /// Of archive format `f`.
    pub fn format(f: &str) -> Filter {
        Filter::Format(f.into())
    }
    /// Both `self` and `other`.
    pub fn and(self, other: Filter) -> Filter {
        Filter::And(Box::new(self), Box::new(other))
    }
    /// Either `self` or `other`.
    pub fn or(self, other: Filter) -> Filter {
        Filter::Or(Box::new(self), Box::new(other))
    }
    /// Not `self`.
    #[allow(clippy::should_implement_trait)]
    pub fn not(self) -> Filter {
        Filter::Not(Box::new(self))
    }

    /// Whether `a` is selected.
    pub fn matches(&self, a: &Artifact) -> bool {
        match self {
            Filter::All => true,
            Filter::Kind(k) => a.kind == *k,
            Filter::Uploadable => a.kind.uploadable(),
            Filter::BuildId(id) => a.build_id.as_deref() == Some(id),
            Filter::Target(t) => a.target.as_deref() == Some(t),
            Filter::Os(o) => a.os.as_deref() == Some(o),
            Filter::Arch(x) => a.arch.as_deref() == Some(x),
            Filter::Format(f) => a.extra.get("format").and_then(|v| v.as_str()) == Some(f),
            Filter::And(x, y) => x.matches(a) && y.matches(a),
            Filter::Or(x, y) => x.matches(a) || y.matches(a),
            Filter::Not(x) => !x.matches(a),
        }
    }
}

/// The thread-safe list of artifacts.
///
/// It is also the board a pipelined run coordinates on: a stage that streams (archives as
/// their binaries land, uploads as their files land) waits here until what it needs has been
/// added or the stages that would add it have finished ([`Registry::wait_for`]).
#[derive(Debug, Default)]
pub struct Registry {
    items: Mutex<Vec<Artifact>>,
    board: Mutex<Board>,
    changed: Condvar,
}

/// Which stages have finished adding, and whether the run was stopped.
#[derive(Debug, Default)]
pub struct Board {
    order: Vec<String>,
    finished: BTreeSet<String>,
    aborted: bool,
}

impl Board {
    /// Whether stage `name` has finished (or was skipped).
    pub fn finished(&self, name: &str) -> bool {
        self.finished.contains(name)
    }

    /// Whether every stage before `name` in the run's order has finished: nothing more
    /// will be added for `name` to pick up.
    pub fn earlier_finished(&self, name: &str) -> bool {
        self.order
            .iter()
            .take_while(|n| *n != name)
            .all(|n| self.finished.contains(n))
    }
}

/// How often a waiting stage looks again without being woken (a safety net only).
const WAKE: Duration = Duration::from_millis(200);

impl Registry {
    /// Add one artifact, waking every stage that waits for one.
    pub fn add(&self, a: Artifact) {
        self.items.lock().expect("registry lock").push(a);
        let _board = self.board.lock().expect("registry board");
        self.changed.notify_all();
    }

    /// Stage `name` has added everything it will add (or will not run).
    pub fn finish(&self, name: &str) {
        let mut board = self.board.lock().expect("registry board");
        board.finished.insert(name.to_string());
        self.changed.notify_all();
    }

    /// A new run over this registry begins, of these stages in this order.
    pub fn begin(&self, order: &[&str]) {
        let mut board = self.board.lock().expect("registry board");
        board.order = order.iter().map(|s| s.to_string()).collect();
        board.finished.clear();
        board.aborted = false;
    }

    /// The run failed: every waiting stage gives up.
    pub fn abort(&self) {
        let mut board = self.board.lock().expect("registry board");
        board.aborted = true;
        self.changed.notify_all();
    }

    /// Wait until `ready` returns a value, looking again each time an artifact is added or a
    /// stage finishes. `Err` when the run was stopped meanwhile (another task failed).
    pub fn wait_for<T>(
        &self,
        what: &str,
        mut ready: impl FnMut(&Registry, &Board) -> Option<T>,
    ) -> Result<T> {
        let mut board = self.board.lock().expect("registry board");
        loop {
            if board.aborted {
                return Err(crate::error::Error::Cancelled(format!(
                    "{what}: cancelled because another task failed"
                )));
            }
            if let Some(v) = ready(self, &board) {
                return Ok(v);
            }
            board = self
                .changed
                .wait_timeout(board, WAKE)
                .expect("registry board")
                .0;
        }
    }

    /// Every artifact matching `pred`, in a stable order (kind, then path, then name).
    pub fn filter(&self, pred: impl Fn(&Artifact) -> bool) -> Vec<Artifact> {
        let mut v: Vec<Artifact> = self
            .items
            .lock()
            .expect("registry lock")
            .iter()
            .filter(|a| pred(a))
            .cloned()
            .collect();
        v.sort_by(|a, b| (a.kind, &a.path, &a.name).cmp(&(b.kind, &b.path, &b.name)));
        v
    }

    /// Every artifact `f` selects, in the registry's stable order.
    pub fn select(&self, f: &Filter) -> Vec<Artifact> {
        self.filter(|a| f.matches(a))
    }

    /// What `f` selects, grouped by target name (artifacts without a target are left out).
    pub fn group_by_target(&self, f: &Filter) -> BTreeMap<String, Vec<Artifact>> {
        let mut out: BTreeMap<String, Vec<Artifact>> = BTreeMap::new();
        for a in self.select(f) {
            if let Some(t) = a.target.clone() {
                out.entry(t).or_default().push(a);
            }
        }
        out
    }

    /// Every artifact of `kind`.
    pub fn of_kind(&self, kind: Kind) -> Vec<Artifact> {
        self.filter(|a| a.kind == kind)
    }

    /// Everything.
    pub fn all(&self) -> Vec<Artifact> {
        self.filter(|_| true)
    }

    /// Write `artifacts.json` to `path`, atomically.
    pub fn write(&self, path: &Path) -> Result<()> {
        // rel's fields, plus GoReleaser's names for scripts written against its
        // artifacts.json (`type`, `goos`, `goarch`, `goarm`, `goamd64`); reading ignores them.
        let items: Vec<serde_json::Value> = self
            .all()
            .iter()
            .map(|a| {
                let mut v = serde_json::to_value(a).expect("artifacts serialise");
                if let Some(m) = v.as_object_mut() {
                    m.insert("type".into(), a.kind.goreleaser_type(a).into());
                    for (k, x) in [
                        ("goos", &a.os),
                        ("goarch", &a.arch),
                        ("goarm", &a.arm),
                        ("goamd64", &a.amd64),
                        ("gomips", &a.mips),
                    ] {
                        if let Some(x) = x {
                            m.insert(k.into(), x.clone().into());
                        }
                    }
                }
                v
            })
            .collect();
        let json = serde_json::to_vec_pretty(&items).expect("artifacts serialise");
        crate::dist::write_atomic(path, &json)
    }

    /// Read an `artifacts.json`.
    pub fn read(path: &Path) -> Result<Registry> {
        let bytes = std::fs::read(path).ctx("cannot read", path)?;
        let items: Vec<Artifact> = serde_json::from_slice(&bytes).map_err(|e| {
            crate::error::Error::Failed(format!(
                "{} is not a valid artifacts.json: {e}",
                path.display()
            ))
        })?;
        Ok(Registry {
            items: Mutex::new(items),
            ..Registry::default()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_compose() {
        let r = Registry::default();
        for (kind, id, target) in [
            (Kind::Binary, "a", "linux_amd64_v1"),
            (Kind::Binary, "b", "linux_amd64_v1"),
            (Kind::Binary, "a", "darwin_arm64"),
            (Kind::Archive, "a", "linux_amd64_v1"),
        ] {
            let mut x = Artifact::new(
                kind,
                format!("{id}-{target}"),
                format!("dist/{id}/{target}"),
            );
            x.build_id = Some(id.into());
            x.target = Some(target.into());
            r.add(x);
        }
        let bins = Filter::kind(Kind::Binary);
        assert_eq!(r.select(&bins).len(), 3);
        assert_eq!(r.select(&bins.clone().and(Filter::build_id("a"))).len(), 2);
        assert_eq!(
            r.select(&bins.clone().and(Filter::target("linux_amd64_v1").not()))
                .len(),
            1
        );
        assert_eq!(
            r.select(&Filter::build_ids(&[])).len(),
            4,
            "no ids: every build"
        );
        assert_eq!(
            r.select(&Filter::kinds(&[Kind::Archive, Kind::Checksum]))
                .len(),
            1
        );
        assert!(r.select(&Filter::kinds(&[])).is_empty());
        let groups = r.group_by_target(&bins);
        assert_eq!(
            groups.keys().collect::<Vec<_>>(),
            ["darwin_arm64", "linux_amd64_v1"]
        );
        assert_eq!(groups["linux_amd64_v1"].len(), 2);
    }

    #[test]
    fn filters_and_round_trips() {
        let r = Registry::default();
        let mut b = Artifact::new(Kind::Binary, "hello", "dist/hello_linux_amd64_v1/hello");
        b.os = Some("linux".into());
        r.add(Artifact::new(Kind::Archive, "z.tar.gz", "dist/z.tar.gz"));
        r.add(b.clone());
        assert_eq!(r.of_kind(Kind::Binary), vec![b.clone()]);
        assert_eq!(r.all()[0].kind, Kind::Binary, "sorted by kind");
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("artifacts.json");
        r.write(&p).unwrap();
        let back = Registry::read(&p).unwrap();
        assert_eq!(back.all(), r.all());
    }
}
