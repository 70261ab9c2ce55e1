//! The command line (clap).

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// `0.1.0 (1a2b3c4 2026-12-04)`: the version, the commit rel was built from and its date.
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (",
    env!("REL_BUILD_COMMIT"),
    " ",
    env!("REL_BUILD_DATE"),
    ")"
);

/// Examples shown under `rel --help`.
const EXAMPLES: &str = "Examples:
  rel init                              write a starter .release.yaml for this Go or Rust project
  rel check                             validate the config (exit 2 with file:line:col when wrong)
  rel release --snapshot --clean        build everything into dist/, publish nothing
  rel release --dry-run                 the plan: every target, file, image and API call
  rel release                           a tagged release, from CI (GITHUB_TOKEN)
  rel build --single-target -o bin/app  just this machine's binary
  rel ci github                         a release workflow for GitHub Actions
  rel healthcheck                       the tools and tokens the config needs
  rel verify --tag v1.2.0               re-read a published release and list every mismatch";

/// A declarative release manager: one YAML file, one command, a finished release.
#[derive(Debug, Parser)]
#[command(
    name = "rel",
    version = VERSION,
    about,
    propagate_version = true,
    after_help = EXAMPLES
)]
pub struct Cli {
    /// Options shared by every command.
    #[command(flatten)]
    pub global: Global,
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// Flags accepted by every command (listed after each command's own, under their heading).
#[derive(Debug, Args, Clone)]
#[command(next_help_heading = "Global options")]
pub struct Global {
    /// Config file (default: the first of .release.yaml, .release.yml, release.yaml, release.yml).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Remove dist/ before starting.
    #[arg(long, global = true)]
    pub clean: bool,
    /// Parallel jobs (default: CPUs, capped by available memory).
    #[arg(short = 'p', long, global = true, value_name = "N")]
    pub parallelism: Option<usize>,
    /// Stages to skip: build, universal, source, archive, nfpm, repository, sbom, checksum, sign,
    /// pkgmgr, tap, gitops, referrers, provenance, changelog, images, dockers, publish, validate,
    /// before.
    #[arg(long, global = true, value_delimiter = ',', value_name = "STAGES")]
    pub skip: Vec<String>,
    /// Give up after this long (e.g. 30m, 1h).
    #[arg(long, global = true, value_name = "DURATION")]
    pub timeout: Option<String>,
    /// Run the stages one after another instead of pipelined (each target's archive and
    /// upload start as soon as its build is done); for comparison and debugging.
    #[arg(long, global = true)]
    pub no_pipeline: bool,
    /// Only warnings and errors.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// More detail.
    #[arg(short, long, global = true)]
    pub verbose: bool,
    /// Colour in logs.
    #[arg(long, global = true, value_enum, default_value_t = Color::Auto)]
    pub color: Color,
}

/// When to colour output.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum Color {
    /// When stderr is a terminal and NO_COLOR is unset.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Build, archive, checksum, write the changelog, push images and publish.
    Release(ReleaseArgs),
    /// Build only.
    Build(BuildArgs),
    /// Validate the config (exit 0 valid, 2 invalid).
    Check(CheckArgs),
    /// Print the changelog as markdown.
    Changelog(ChangelogArgs),
    /// Print the next version from conventional commits since the last tag.
    NextVersion(NextVersionArgs),
    /// Write a starter .release.yaml for the project in this folder.
    Init(InitArgs),
    /// Print the JSON Schema of the config.
    Schema,
    /// Finish a split release.
    Continue(ContinueArgs),
    /// Print the runner matrix of a split release (shares and their targets).
    Plan(PlanArgs),
    /// Write a CI workflow that runs the release as a fan-out over runners.
    Ci(CiArgs),
    /// Check that every tool the config needs is here (with versions) and which tokens are set.
    Healthcheck(HealthcheckArgs),
    /// Write .release.yaml from a GoReleaser config, with a report of what differs.
    Import(ImportArgs),
    /// Re-read what a release published (release, assets, signatures, images, package
    /// manifests) and list every mismatch (exit 1 when there is one).
    Verify(VerifyArgs),
    /// Write man pages (rel.1 and one per command).
    Man(ManArgs),
    /// Print shell completions.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

/// `rel release`.
#[derive(Debug, Args, Clone, Default)]
pub struct ReleaseArgs {
    /// Version as a snapshot; never publishes, needs no tag, clean tree or token.
    #[arg(long)]
    pub snapshot: bool,
    /// Print the plan and check access, changing nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Build only this runner's share into dist/<share>/.
    #[arg(long)]
    pub split: bool,
    /// How shares are cut: goos or target.
    #[arg(long, value_name = "goos|target")]
    pub partial_by: Option<String>,
    /// This runner's share (default: the runner's OS).
    #[arg(long, value_name = "SHARE")]
    pub partial_target: Option<String>,
    /// Only the host's os/arch (or GOOS/GOARCH); with --snapshot only.
    #[arg(long, requires = "snapshot")]
    pub single_target: bool,
    /// After publishing, re-read everything published from the outside (`rel verify`) and
    /// fail when anything differs.
    #[arg(long, conflicts_with_all = ["snapshot", "dry_run", "split", "json"])]
    pub verify: bool,
    /// Print a summary (or, with --dry-run, the plan) as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// `rel healthcheck`.
#[derive(Debug, Args, Clone, Default)]
pub struct HealthcheckArgs {
    /// Print the report as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// `rel verify`.
#[derive(Debug, Args, Clone, Default)]
pub struct VerifyArgs {
    /// The release's tag (default: the tag of dist/metadata.json, else HEAD's tag).
    #[arg(long, value_name = "TAG")]
    pub tag: Option<String>,
    /// Print the report as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// `rel man`.
#[derive(Debug, Args, Clone)]
pub struct ManArgs {
    /// Folder to write the pages to.
    #[arg(long, value_name = "DIR", default_value = "man")]
    pub dir: PathBuf,
}

/// `rel check`.
#[derive(Debug, Args, Clone, Default)]
pub struct CheckArgs {
    /// Print the result as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// `rel build`.
#[derive(Debug, Args, Clone, Default)]
pub struct BuildArgs {
    /// Version as a snapshot.
    #[arg(long)]
    pub snapshot: bool,
    /// Only the host's os/arch.
    #[arg(long)]
    pub single_target: bool,
    /// Only these build ids.
    #[arg(long = "id", value_name = "ID")]
    pub ids: Vec<String>,
    /// Copy the binary here (with --single-target and one build).
    #[arg(short = 'o', long, value_name = "PATH", requires = "single_target")]
    pub output: Option<PathBuf>,
    /// Print a summary as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// `rel changelog`.
#[derive(Debug, Args, Clone, Default)]
pub struct ChangelogArgs {
    /// Start after this ref (default: the previous tag).
    #[arg(long, value_name = "REF")]
    pub from: Option<String>,
    /// End at this ref (default: the current tag, or HEAD).
    #[arg(long, value_name = "REF")]
    pub to: Option<String>,
    /// Commits since the last tag.
    #[arg(long)]
    pub unreleased: bool,
    /// A whole CHANGELOG.md, one section per tag, newest first.
    #[arg(long)]
    pub all: bool,
    /// Tag prefix for monorepos (e.g. `svc/`).
    #[arg(long, value_name = "PREFIX", default_value = "")]
    pub tag_prefix: String,
    /// Only commits touching this path.
    #[arg(long, value_name = "PATH")]
    pub path: Option<String>,
}

/// `rel next-version`.
#[derive(Debug, Args, Clone, Default)]
pub struct NextVersionArgs {
    /// Tag prefix for monorepos (e.g. `svc/`).
    #[arg(long, value_name = "PREFIX", default_value = "")]
    pub tag_prefix: String,
    /// Only commits touching this path.
    #[arg(long, value_name = "PATH")]
    pub path: Option<String>,
}

/// `rel init`.
#[derive(Debug, Args, Clone, Default)]
pub struct InitArgs {
    /// Overwrite an existing config.
    #[arg(long)]
    pub force: bool,
}

/// `rel import`.
#[derive(Debug, Args, Clone, Default)]
pub struct ImportArgs {
    /// The GoReleaser config (default: .goreleaser.yaml, .goreleaser.yml, goreleaser.yaml, …).
    pub file: Option<PathBuf>,
    /// Where to write (default: .release.yaml next to it; `-` for standard output).
    #[arg(short = 'o', long)]
    pub output: Option<PathBuf>,
    /// Overwrite an existing output file.
    #[arg(long)]
    pub force: bool,
    /// List every key, mapped ones too.
    #[arg(long)]
    pub all: bool,
}

/// `rel continue`.
#[derive(Debug, Args, Clone, Default)]
pub struct ContinueArgs {
    /// Merge the dist/ shards of `rel release --split` runs and finish the release.
    #[arg(long)]
    pub merge: bool,
}

/// `rel plan`.
#[derive(Debug, Args, Clone, Default)]
pub struct PlanArgs {
    /// GitHub Actions `strategy.matrix` JSON on one line.
    #[arg(long)]
    pub json: bool,
    /// How shares are cut: goos or target.
    #[arg(long, value_name = "goos|target", default_value = "goos")]
    pub partial_by: String,
}

/// CI systems `rel ci` writes workflows for.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum CiProvider {
    /// GitHub Actions.
    Github,
    /// GitLab CI.
    Gitlab,
}

/// `rel ci`.
#[derive(Debug, Args, Clone)]
pub struct CiArgs {
    /// The CI system.
    pub provider: CiProvider,
    /// Where to write the workflow (`-` for stdout). Default: `.github/workflows/release.yml`
    /// or `.gitlab-ci.yml`.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<std::path::PathBuf>,
    /// How shares are cut: goos or target.
    #[arg(long, value_name = "goos|target", default_value = "goos")]
    pub partial_by: String,
    /// One job builds every target (the default when all of them cross-compile from Linux:
    /// Go without cgo).
    #[arg(long, conflicts_with = "fan_out")]
    pub single_job: bool,
    /// A job per share, then a merge job (the default otherwise).
    #[arg(long)]
    pub fan_out: bool,
    /// Overwrite an existing file.
    #[arg(long)]
    pub force: bool,
}
