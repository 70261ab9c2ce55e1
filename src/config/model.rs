//! The config model: what `.release.yaml` may say.
//!
//! Every struct denies unknown fields so a misspelt key is an error with a location, never a
//! silently ignored setting. The JSON Schema (`rel schema`) is derived from these same types,
//! so documentation, validation and the editor schema cannot drift apart.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The whole `.release.yaml`.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Config format version; only `1` exists.
    #[serde(default = "one")]
    pub version: u32,
    /// The project's name. Default: the git remote's repository name, else the folder name.
    #[serde(default)]
    pub project_name: Option<String>,
    /// Output folder. Default: `dist`.
    #[serde(default = "default_dist")]
    pub dist: String,
    /// Global environment for builds and hooks, as `KEY=value` (templated).
    #[serde(default)]
    pub env: Vec<String>,
    /// Hooks run once before any build.
    #[serde(default)]
    pub before: Before,
    /// What to build.
    #[serde(default)]
    pub builds: Vec<Build>,
    /// How to package the binaries.
    #[serde(default)]
    pub archives: Vec<Archive>,
    /// The checksum file.
    #[serde(default)]
    pub checksum: Checksum,
    /// Versioning of snapshot releases.
    #[serde(default)]
    pub snapshot: Snapshot,
    /// Release notes from conventional commits.
    #[serde(default)]
    pub changelog: Changelog,
    /// The GitHub release.
    #[serde(default)]
    pub release: Release,
    /// OCI images built without a Docker daemon.
    #[serde(default)]
    pub images: Vec<Image>,
    /// Image indexes over images that already exist.
    #[serde(default)]
    pub manifests: Vec<Manifest>,
    /// Linux packages (GoReleaser's `nfpms`).
    #[serde(default)]
    pub nfpms: Vec<Nfpm>,
    /// Static APT and YUM repositories of the Linux packages, written into `dist/`.
    #[serde(default)]
    pub package_repositories: Vec<PackageRepository>,
}

/// A static APT repository (from the `.deb` packages) and YUM repository (from the `.rpm`
/// packages), signed when a key is given, written to `dist/<dir>/apt` and `dist/<dir>/yum`.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PackageRepository {
    /// Identifier. Default: `default`.
    #[serde(default)]
    pub id: Option<String>,
    /// The `nfpms` ids whose packages go in. Default: all.
    #[serde(default)]
    pub ids: Vec<String>,
    /// The folder in `dist/`. Default: `repository`.
    #[serde(default)]
    pub dir: Option<String>,
    /// The kinds to write: `apt`, `yum`. Default: each one there are packages for.
    #[serde(default)]
    pub formats: Vec<String>,
    /// The APT suite (and codename). Default: `stable`.
    #[serde(default)]
    pub suite: Option<String>,
    /// The APT component. Default: `main`.
    #[serde(default)]
    pub component: Option<String>,
    /// `Origin` of the APT `Release` file. Default: the project name.
    #[serde(default)]
    pub origin: Option<String>,
    /// `Label` of the APT `Release` file. Default: the project name.
    #[serde(default)]
    pub label: Option<String>,
    /// `Description` of the APT `Release` file (templated).
    #[serde(default)]
    pub description: Option<String>,
    /// A project folder (templated) of packages from earlier releases to list too, so that
    /// the repository accumulates across releases. Its `.deb` and `.rpm` files are read,
    /// never changed.
    #[serde(default)]
    pub include: Option<String>,
    /// The OpenPGP key that signs `InRelease`, `Release.gpg` and `repomd.xml.asc`; its
    /// public key is written as `dist/<dir>/key.asc`. The passphrase comes from
    /// `REL_<ID>_REPOSITORY_PASSPHRASE` or `REL_REPOSITORY_PASSPHRASE`.
    #[serde(default)]
    pub signature: PackageSignature,
}

/// One Linux package definition, with GoReleaser's `nfpms` keys.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Nfpm {
    /// Identifier. Default: `default`.
    #[serde(default)]
    pub id: Option<String>,
    /// Build ids whose linux binaries go in (GoReleaser's `ids`). Default: all builds.
    #[serde(default, alias = "ids")]
    pub builds: Vec<String>,
    /// The package name. Default: the project name.
    #[serde(default)]
    pub package_name: Option<String>,
    /// The file name without extension (templated). Default: the distribution's convention,
    /// `name_1.2.3_amd64` for deb, `name-1.2.3-1.x86_64` for rpm, `name-1.2.3-1-x86_64` for
    /// archlinux.
    #[serde(default)]
    pub file_name_template: Option<String>,
    /// Formats: `deb`, `rpm`, `apk`, `archlinux`.
    #[serde(default)]
    pub formats: Vec<String>,
    /// Vendor.
    #[serde(default)]
    pub vendor: Option<String>,
    /// Homepage (templated).
    #[serde(default)]
    pub homepage: Option<String>,
    /// Maintainer, `Name <email>`. Default: the vendor, else the project name.
    #[serde(default)]
    pub maintainer: Option<String>,
    /// Description: a first line, then paragraphs (templated).
    #[serde(default)]
    pub description: Option<String>,
    /// License (SPDX).
    #[serde(default)]
    pub license: Option<String>,
    /// Where binaries go. Default: `/usr/bin`.
    #[serde(default)]
    pub bindir: Option<String>,
    /// Section. Default: `utils`.
    #[serde(default)]
    pub section: Option<String>,
    /// Priority. Default: `optional`.
    #[serde(default)]
    pub priority: Option<String>,
    /// Epoch of the package version.
    #[serde(default)]
    pub epoch: Option<String>,
    /// Release of the package version. Default: `1`.
    #[serde(default)]
    pub release: Option<String>,
    /// Prerelease part of the package version. Default: the semver prerelease.
    #[serde(default)]
    pub prerelease: Option<String>,
    /// Packages this one needs.
    #[serde(default)]
    pub dependencies: Vec<String>,
    /// Packages recommended beside it.
    #[serde(default)]
    pub recommends: Vec<String>,
    /// Packages suggested beside it.
    #[serde(default)]
    pub suggests: Vec<String>,
    /// Packages it cannot be installed with.
    #[serde(default)]
    pub conflicts: Vec<String>,
    /// Packages it replaces.
    #[serde(default)]
    pub replaces: Vec<String>,
    /// Virtual packages it provides.
    #[serde(default)]
    pub provides: Vec<String>,
    /// More files in the package.
    #[serde(default)]
    pub contents: Vec<NfpmContent>,
    /// Maintainer scripts.
    #[serde(default)]
    pub scripts: NfpmScripts,
    /// A metapackage: no binaries, only its relations (and `contents`, if any).
    #[serde(default)]
    pub meta: bool,
    /// Version metadata: `+meta` in deb and rpm versions, `-pmeta` in apk's (templated).
    #[serde(default)]
    pub version_metadata: Option<String>,
    /// Per-format replacements (`deb`, `rpm`, `apk`, `archlinux`) of the relations, contents
    /// and scripts.
    #[serde(default)]
    pub overrides: BTreeMap<String, NfpmOverride>,
    /// deb-only settings.
    #[serde(default)]
    pub deb: NfpmDeb,
    /// rpm-only settings.
    #[serde(default)]
    pub rpm: NfpmRpm,
    /// apk-only settings.
    #[serde(default)]
    pub apk: NfpmApk,
    /// Arch Linux-only settings.
    #[serde(default)]
    pub archlinux: NfpmArchlinux,
}

/// What one format changes of an `nfpms` entry: a set list replaces the entry's.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NfpmOverride {
    /// Packages this one needs, in this format.
    #[serde(default, alias = "depends")]
    pub dependencies: Option<Vec<String>>,
    /// Recommended packages, in this format.
    #[serde(default)]
    pub recommends: Option<Vec<String>>,
    /// Suggested packages, in this format.
    #[serde(default)]
    pub suggests: Option<Vec<String>>,
    /// Conflicting packages, in this format.
    #[serde(default)]
    pub conflicts: Option<Vec<String>>,
    /// Replaced packages, in this format.
    #[serde(default)]
    pub replaces: Option<Vec<String>>,
    /// Provided virtual packages, in this format.
    #[serde(default)]
    pub provides: Option<Vec<String>>,
    /// The contents, in this format.
    #[serde(default)]
    pub contents: Option<Vec<NfpmContent>>,
    /// The maintainer scripts, in this format.
    #[serde(default)]
    pub scripts: Option<NfpmScripts>,
}

/// A package signature's key. The passphrase comes from the environment:
/// `REL_<ID>_<FORMAT>_PASSPHRASE`, `REL_<ID>_PASSPHRASE`, `REL_NFPM_PASSPHRASE`, or
/// GoReleaser's `NFPM_<ID>_<FORMAT>_PASSPHRASE`, `NFPM_<ID>_PASSPHRASE`, `NFPM_PASSPHRASE`.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PackageSignature {
    /// The secret key: a file in the project, or the key's own text (templated, so
    /// `{{ env.SIGNING_KEY }}` works). OpenPGP for deb and rpm, PEM RSA for apk.
    #[serde(default)]
    pub key_file: Option<String>,
    /// deb and rpm: the id of the (sub)key to sign with, when the file holds several.
    #[serde(default)]
    pub key_id: Option<String>,
    /// deb: the debsigs role, `origin` (default), `maint` or `archive`.
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    /// deb: GoReleaser's signing method; only `debsign` (debsigs' `_gpg<role>` member).
    #[serde(default)]
    pub method: Option<String>,
    /// apk: the name of the public key users install in `/etc/apk/keys`. Default: the
    /// maintainer's email address; `.rsa.pub` is appended when missing.
    #[serde(default)]
    pub key_name: Option<String>,
}

/// deb's dpkg triggers (`triggers` control file).
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NfpmDebTriggers {
    /// `interest` triggers.
    #[serde(default)]
    pub interest: Vec<String>,
    /// `interest-await` triggers.
    #[serde(default)]
    pub interest_await: Vec<String>,
    /// `interest-noawait` triggers.
    #[serde(default)]
    pub interest_noawait: Vec<String>,
    /// `activate` triggers.
    #[serde(default)]
    pub activate: Vec<String>,
    /// `activate-await` triggers.
    #[serde(default)]
    pub activate_await: Vec<String>,
    /// `activate-noawait` triggers.
    #[serde(default)]
    pub activate_noawait: Vec<String>,
}

/// deb-only settings.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NfpmDeb {
    /// Lines of `/usr/share/lintian/overrides/<package>`.
    #[serde(default)]
    pub lintian_overrides: Vec<String>,
    /// More control fields, by name.
    #[serde(default)]
    pub fields: BTreeMap<String, String>,
    /// `Pre-Depends`.
    #[serde(default)]
    pub predepends: Vec<String>,
    /// `Breaks`.
    #[serde(default)]
    pub breaks: Vec<String>,
    /// dpkg triggers.
    #[serde(default)]
    pub triggers: NfpmDebTriggers,
    /// `data.tar` compression: `gzip` (default), `xz`, `zstd` or `none`.
    #[serde(default)]
    pub compression: Option<String>,
    /// debsigs signature.
    #[serde(default)]
    pub signature: PackageSignature,
}

/// rpm-only settings.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NfpmRpm {
    /// `Summary`. Default: the description's first line.
    #[serde(default)]
    pub summary: Option<String>,
    /// `Group`.
    #[serde(default)]
    pub group: Option<String>,
    /// `Packager`. Default: the maintainer.
    #[serde(default)]
    pub packager: Option<String>,
    /// Payload compression: `gzip` (default), `xz` or `zstd`.
    #[serde(default)]
    pub compression: Option<String>,
    /// Install prefixes of a relocatable package.
    #[serde(default)]
    pub prefixes: Vec<String>,
    /// `Buildhost`. Default: none (rel never reads the host name).
    #[serde(default)]
    pub buildhost: Option<String>,
    /// OpenPGP header signature.
    #[serde(default)]
    pub signature: PackageSignature,
}

/// apk-only settings.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NfpmApk {
    /// RSA signature.
    #[serde(default)]
    pub signature: PackageSignature,
}

/// Arch Linux-only settings.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NfpmArchlinux {
    /// `pkgbase`. Default: the package name.
    #[serde(default)]
    pub pkgbase: Option<String>,
    /// `packager`. Default: the maintainer.
    #[serde(default)]
    pub packager: Option<String>,
}

/// A file, folder or symlink in a package.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NfpmContent {
    /// A file in the project (for `symlink`, the link's target). Empty for `dir`.
    #[serde(default)]
    pub src: String,
    /// The absolute path in the package.
    pub dst: String,
    /// `file` (default), `config`, `config|noreplace`, `dir`, `tree` (a project folder,
    /// recursively), `symlink`, `doc` (rpm `%doc`) or `ghost` (rpm only: owned, not shipped).
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    /// Only in packages of this format (`deb`, `rpm`, `apk`, `archlinux`).
    #[serde(default)]
    pub packager: Option<String>,
    /// Mode and owner.
    #[serde(default)]
    pub file_info: Option<NfpmFileInfo>,
}

/// A package entry's mode.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NfpmFileInfo {
    /// Octal mode, e.g. `0644` (GoReleaser's configs write it so), `"0644"` or `0o644`.
    #[serde(default, deserialize_with = "octal_mode")]
    #[schemars(with = "Option<ModeSchema>")]
    pub mode: Option<u32>,
    /// Owner. Default: `root`.
    #[serde(default)]
    pub owner: Option<String>,
    /// Group. Default: `root`.
    #[serde(default)]
    pub group: Option<String>,
    /// Modification time (RFC 3339). Default: the commit time.
    #[serde(default)]
    pub mtime: Option<String>,
}

/// The shapes a mode takes in the schema.
#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum ModeSchema {
    /// Digits read as octal.
    Number(u32),
    /// `"0644"`.
    Text(String),
}

/// A file mode written the way people write them: its digits are octal whether YAML reads
/// them as a number (`644`, `0644`) or a string (`"0644"`, `0o644`).
fn octal_mode<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    struct V;
    impl serde::de::Visitor<'_> for V {
        type Value = Option<u32>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("an octal file mode such as 0644")
        }
        fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Self::Value, E> {
            self.visit_str(&v.to_string())
        }
        fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Self::Value, E> {
            self.visit_str(&v.to_string())
        }
        // `0644` unquoted reaches here as a number with a leading zero, read as 644.0.
        fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Self::Value, E> {
            if v.fract() == 0.0 && (0.0..10_000.0).contains(&v) {
                self.visit_str(&(v as u32).to_string())
            } else {
                Err(E::custom(format!(
                    "`{v}` is not an octal file mode such as 0644"
                )))
            }
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
            let digits = v.trim().trim_start_matches("0o");
            u32::from_str_radix(digits, 8)
                .ok()
                .filter(|m| *m <= 0o7777)
                .map(Some)
                .ok_or_else(|| E::custom(format!("`{v}` is not an octal file mode such as 0644")))
        }
        fn visit_none<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
    }
    d.deserialize_any(V)
}

/// Maintainer scripts, files in the project.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NfpmScripts {
    /// Run before installing.
    #[serde(default)]
    pub preinstall: Option<String>,
    /// Run after installing.
    #[serde(default)]
    pub postinstall: Option<String>,
    /// Run before removing.
    #[serde(default)]
    pub preremove: Option<String>,
    /// Run after removing.
    #[serde(default)]
    pub postremove: Option<String>,
}

fn one() -> u32 {
    1
}
fn default_dist() -> String {
    "dist".into()
}

/// Global hooks.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Before {
    /// Commands run before the builds, split like a shell and run without one.
    #[serde(default)]
    pub hooks: Vec<String>,
}

/// Which tool builds the binaries.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Builder {
    /// `go build` over a GOOS×GOARCH matrix.
    #[default]
    Go,
    /// `cargo build --release --target <triple>`.
    Cargo,
    /// Any command, given `{{ output }}`.
    Command,
    /// Binaries that already exist.
    Prebuilt,
}

/// A string or a list of strings (`ldflags: -s -w` or `ldflags: [-s, -w]`).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum StringList {
    /// A single string.
    One(String),
    /// A list of strings.
    Many(Vec<String>),
}

impl Default for StringList {
    fn default() -> Self {
        StringList::Many(vec![])
    }
}

impl StringList {
    /// The strings, in order.
    pub fn items(&self) -> Vec<String> {
        match self {
            StringList::One(s) => vec![s.clone()],
            StringList::Many(v) => v.clone(),
        }
    }
}

/// A target excluded from the matrix.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Ignore {
    /// Operating system to ignore.
    #[serde(default)]
    pub goos: Option<String>,
    /// Architecture to ignore.
    #[serde(default)]
    pub goarch: Option<String>,
    /// ARM version to ignore.
    #[serde(default)]
    pub goarm: Option<String>,
    /// amd64 level to ignore.
    #[serde(default)]
    pub goamd64: Option<String>,
}

/// Per-build hooks, run once per target.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BuildHooks {
    /// Before the target's build.
    #[serde(default)]
    pub pre: Vec<String>,
    /// After the target's build.
    #[serde(default)]
    pub post: Vec<String>,
}

/// One build: a binary over a matrix of targets.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Build {
    /// Identifier, referred to by archives and images. Default: the project name.
    #[serde(default)]
    pub id: Option<String>,
    /// `go`, `cargo`, `command` or `prebuilt`.
    #[serde(default)]
    pub builder: Builder,
    /// Working folder of the build. Default: `.`.
    #[serde(default)]
    pub dir: Option<String>,
    /// go: the main package; cargo: the `--bin` name.
    #[serde(default)]
    pub main: Option<String>,
    /// The binary's name (templated); `.exe` is added for windows. Default: the build id.
    #[serde(default)]
    pub binary: Option<String>,
    /// Operating systems. Default: linux, darwin, windows.
    #[serde(default)]
    pub goos: Vec<String>,
    /// Architectures. Default: amd64, arm64, 386.
    #[serde(default)]
    pub goarch: Vec<String>,
    /// ARM versions for `arm`. Default: 6.
    #[serde(default)]
    pub goarm: Vec<String>,
    /// amd64 microarchitecture levels. Default: v1.
    #[serde(default)]
    pub goamd64: Vec<String>,
    /// Targets removed from the matrix.
    #[serde(default)]
    pub ignore: Vec<Ignore>,
    /// An explicit target list that replaces the matrix (cargo: Rust target triples).
    #[serde(default)]
    pub targets: Vec<String>,
    /// Extra environment for this build, `KEY=value` (templated).
    #[serde(default)]
    pub env: Vec<String>,
    /// Extra flags for the build tool (templated).
    #[serde(default)]
    pub flags: StringList,
    /// go: `-ldflags` values (templated), joined with spaces.
    #[serde(default)]
    pub ldflags: StringList,
    /// command builder: argv (templated; `{{ output }}` is where the binary must go).
    #[serde(default)]
    pub command: Vec<String>,
    /// prebuilt builder: where the binary is (templated).
    #[serde(default)]
    pub path: Option<String>,
    /// Modification time given to the binary (templated unix seconds).
    #[serde(default)]
    pub mod_timestamp: Option<String>,
    /// The Go binary. Default: `go`.
    #[serde(default)]
    pub gobinary: Option<String>,
    /// Hooks around each target's build.
    #[serde(default)]
    pub hooks: BuildHooks,
    /// Skip this build.
    #[serde(default)]
    pub skip: bool,
}

/// Archive formats.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize, Serialize, JsonSchema,
)]
pub enum Format {
    /// gzip-compressed tar.
    #[serde(rename = "tar.gz", alias = "tgz")]
    TarGz,
    /// xz-compressed tar.
    #[serde(rename = "tar.xz", alias = "txz")]
    TarXz,
    /// zstd-compressed tar.
    #[serde(rename = "tar.zst", alias = "tzst")]
    TarZst,
    /// zip.
    #[serde(rename = "zip")]
    Zip,
    /// The bare binary, renamed by the name template.
    #[serde(rename = "binary")]
    Binary,
}

impl Format {
    /// The file extension, with its dot (empty for `binary`).
    pub fn ext(self) -> &'static str {
        match self {
            Format::TarGz => ".tar.gz",
            Format::TarXz => ".tar.xz",
            Format::TarZst => ".tar.zst",
            Format::Zip => ".zip",
            Format::Binary => "",
        }
    }
}

/// Formats used for one operating system.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FormatOverride {
    /// The operating system.
    pub goos: String,
    /// Its formats.
    #[serde(default)]
    pub formats: Vec<Format>,
}

// Deserialized by hand rather than `untagged`: a misspelt key in the object form then gets
// "unknown key `dest`, did you mean `dst`?" at its line instead of "did not match any variant".
/// A file added to archives: a glob, or a glob with a destination folder.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum ArchiveFile {
    /// A glob relative to the project root.
    Glob(String),
    /// A glob and where its matches go inside the archive.
    Spec(FileSpec),
}

impl<'de> Deserialize<'de> for ArchiveFile {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = ArchiveFile;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a glob, or {src, dst, strip_parent}")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<ArchiveFile, E> {
                Ok(ArchiveFile::Glob(v.to_string()))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                m: A,
            ) -> Result<ArchiveFile, A::Error> {
                FileSpec::deserialize(serde::de::value::MapAccessDeserializer::new(m))
                    .map(ArchiveFile::Spec)
            }
        }
        d.deserialize_any(V)
    }
}

/// A file glob with its destination.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FileSpec {
    /// Glob relative to the project root.
    pub src: String,
    /// Folder inside the archive.
    #[serde(default)]
    pub dst: Option<String>,
    /// Keep only the file name (drop the folders of the matched path).
    #[serde(default)]
    pub strip_parent: bool,
}

/// `wrap_in_directory`: `true` (the archive name), `false`, or a templated name.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum Wrap {
    /// `true` wraps in a folder named like the archive.
    Bool(bool),
    /// A templated folder name.
    Name(String),
}

impl Default for Wrap {
    fn default() -> Self {
        Wrap::Bool(false)
    }
}

/// One archive definition.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Archive {
    /// Identifier. Default: `default`.
    #[serde(default)]
    pub id: Option<String>,
    /// Build ids to include. Default: all builds.
    #[serde(default)]
    pub builds: Vec<String>,
    /// Formats. Default: `tar.gz`.
    #[serde(default)]
    pub formats: Vec<Format>,
    /// Formats per operating system.
    #[serde(default)]
    pub format_overrides: Vec<FormatOverride>,
    /// The archive's name without extension (templated).
    #[serde(default)]
    pub name_template: Option<String>,
    /// Put everything in a top folder.
    #[serde(default)]
    pub wrap_in_directory: Wrap,
    /// Extra files. Default: README*, LICENSE*, CHANGELOG*.
    #[serde(default)]
    pub files: Option<Vec<ArchiveFile>>,
}

/// Checksum algorithms.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Algorithm {
    /// SHA-256.
    #[default]
    Sha256,
    /// SHA-512.
    Sha512,
    /// BLAKE3.
    Blake3,
}

/// The checksum file.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Checksum {
    /// File name (templated).
    #[serde(default)]
    pub name_template: Option<String>,
    /// Hash algorithm.
    #[serde(default)]
    pub algorithm: Algorithm,
    /// Do not write checksums.
    #[serde(default)]
    pub disable: bool,
    /// Also write a `<file>.<algorithm>` file beside each artifact.
    #[serde(default)]
    pub split: bool,
}

/// Snapshot versioning.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Snapshot {
    /// The snapshot version (templated).
    #[serde(default)]
    pub version_template: Option<String>,
}

/// Changelog sort order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Sort {
    /// Ascending by message.
    Asc,
    /// Descending by message.
    Desc,
    /// Git order.
    #[default]
    #[serde(rename = "")]
    Git,
}

/// Changelog subject filters.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Filters {
    /// Commits whose subject matches any of these are dropped.
    #[serde(default)]
    pub exclude: Vec<String>,
    /// If set, only commits whose subject matches one of these are kept.
    #[serde(default)]
    pub include: Vec<String>,
}

/// A changelog section.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Group {
    /// Section title.
    pub title: String,
    /// Subjects matching this go here (first match wins); none: everything left.
    #[serde(default)]
    pub regexp: Option<String>,
    /// Position of the section.
    #[serde(default)]
    pub order: i64,
}

/// Release notes.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Changelog {
    /// Do not write a changelog.
    #[serde(default)]
    pub disable: bool,
    /// `asc`, `desc`, or `""` for git order.
    #[serde(default)]
    pub sort: Sort,
    /// Subject filters.
    #[serde(default)]
    pub filters: Filters,
    /// Sections.
    #[serde(default)]
    pub groups: Vec<Group>,
    /// A minijinja template file for the notes. Default: the built-in one.
    #[serde(default)]
    pub template: Option<String>,
}

/// Where the release goes on GitHub.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GithubRepo {
    /// Owner (user or organisation).
    pub owner: String,
    /// Repository name.
    pub name: String,
}

/// API base URLs (GitHub Enterprise).
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GithubUrls {
    /// REST API base.
    #[serde(default)]
    pub api: Option<String>,
    /// Asset upload base.
    #[serde(default)]
    pub uploads: Option<String>,
}

/// `auto`, `true` or `false`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Auto {
    /// Decided by rel.
    #[default]
    Auto,
    /// Forced.
    Bool(bool),
}

impl<'de> Deserialize<'de> for Auto {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            B(bool),
            S(String),
        }
        match Raw::deserialize(d)? {
            Raw::B(b) => Ok(Auto::Bool(b)),
            Raw::S(s) if s == "auto" => Ok(Auto::Auto),
            Raw::S(s) if s == "true" => Ok(Auto::Bool(true)),
            Raw::S(s) if s == "false" => Ok(Auto::Bool(false)),
            Raw::S(s) => Err(serde::de::Error::custom(format!(
                "invalid value `{s}`: expected `auto`, `true` or `false`"
            ))),
        }
    }
}

impl Serialize for Auto {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Auto::Auto => s.serialize_str("auto"),
            Auto::Bool(b) => s.serialize_bool(*b),
        }
    }
}

impl JsonSchema for Auto {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Auto".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "`auto`, `true` or `false`.",
            "oneOf": [{"type": "boolean"}, {"const": "auto"}]
        })
    }
}

/// How release notes combine with an existing release's body.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum NotesMode {
    /// Leave an existing body alone.
    #[default]
    KeepExisting,
    /// Existing body, then the notes.
    Append,
    /// The notes, then the existing body.
    Prepend,
    /// Only the notes.
    Replace,
}

/// Extra files to upload.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExtraFile {
    /// Glob relative to the project root.
    pub glob: String,
    /// Asset name (templated). Default: the file name.
    #[serde(default)]
    pub name_template: Option<String>,
}

/// The GitHub release.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Release {
    /// Repository. Default: from the git remote.
    #[serde(default)]
    pub github: Option<GithubRepo>,
    /// Release title (templated). Default: the tag.
    #[serde(default)]
    pub name_template: Option<String>,
    /// Leave the release as a draft.
    #[serde(default)]
    pub draft: bool,
    /// Mark as prerelease; `auto` follows the semver prerelease part.
    #[serde(default)]
    pub prerelease: Auto,
    /// Mark as latest; `auto` lets GitHub decide.
    #[serde(default)]
    pub make_latest: Auto,
    /// How notes combine with an existing body.
    #[serde(default)]
    pub mode: NotesMode,
    /// Replace assets that exist with other content.
    #[serde(default)]
    pub replace_existing_artifacts: bool,
    /// More files to upload.
    #[serde(default)]
    pub extra_files: Vec<ExtraFile>,
    /// API base URLs.
    #[serde(default)]
    pub github_urls: Option<GithubUrls>,
    /// Do not publish.
    #[serde(default)]
    pub disable: bool,
    /// Asset uploads in flight at once. Default: 8.
    #[serde(default)]
    pub upload_concurrency: Option<usize>,
}

/// An OCI image built from linux binaries.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Image {
    /// Identifier.
    #[serde(default)]
    pub id: Option<String>,
    /// Build ids whose linux binaries go in. Default: all builds.
    #[serde(default)]
    pub builds: Vec<String>,
    /// Platforms such as `linux/amd64`, `linux/arm/v7`. Default: every linux target built.
    #[serde(default)]
    pub platforms: Vec<String>,
    /// `scratch` or an image reference.
    #[serde(default)]
    pub base: Option<String>,
    /// The repository (templated).
    pub repository: String,
    /// Tags (templated), pushed as one multi-arch index each.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Entrypoint. Default: the binary.
    #[serde(default)]
    pub entrypoint: Vec<String>,
    /// Arguments.
    #[serde(default)]
    pub cmd: Vec<String>,
    /// Environment, `KEY=value`.
    #[serde(default)]
    pub env: Vec<String>,
    /// User. Default: `65532:65532`.
    #[serde(default)]
    pub user: Option<String>,
    /// Working directory.
    #[serde(default)]
    pub workdir: Option<String>,
    /// Extra files in the layer.
    #[serde(default)]
    pub files: Vec<ArchiveFile>,
    /// Image config labels (templated values).
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Index and manifest annotations (templated values).
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
    /// Allow plain HTTP.
    #[serde(default)]
    pub insecure: bool,
}

/// An image index over existing images.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// The index reference (templated).
    pub name_template: String,
    /// The images it lists (templated).
    pub images: Vec<String>,
    /// Allow plain HTTP.
    #[serde(default)]
    pub insecure: bool,
}
