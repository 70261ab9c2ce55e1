//! What the command line asked for: flags, stages to skip, the share of a split run.
//!
//! A leaf below the context and the plan: both read options, and neither may import the
//! other's command-line handling.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::time::Instant;

/// Stage names accepted by `--skip`.
pub const STAGES: &[&str] = &[
    "build",
    "universal",
    "archive",
    "source",
    "nfpm",
    "repository",
    "sbom",
    "checksum",
    "sign",
    "pkgmgr",
    "tap",
    "gitops",
    "milestone",
    "referrers",
    "provenance",
    "changelog",
    "images",
    "dockers",
    "publish",
    "validate",
    "before",
];

/// What the command line asked for.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Version as a snapshot; never publish.
    pub snapshot: bool,
    /// Compute and print the plan only.
    pub dry_run: bool,
    /// Remove `dist/` first.
    pub clean: bool,
    /// Worker count for builds and CPU work.
    pub parallelism: usize,
    /// Stages to skip.
    pub skip: BTreeSet<String>,
    /// `--no-pipeline`: each stage starts when the one before it has finished.
    pub sequential: bool,
    /// Only the host's os/arch.
    pub single_target: bool,
    /// Only these build ids.
    pub ids: Vec<String>,
    /// Give up after this long.
    pub deadline: Option<Instant>,
    /// Which part of a release this run does.
    pub phase: Phase,
    /// With `--split`: this runner's share.
    pub share: Option<Share>,
}

/// Which part of a release a run does.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Phase {
    /// Everything, on one machine.
    #[default]
    Whole,
    /// `rel release --split`: build and package one share.
    Split,
    /// `rel continue --merge`: finish from the gathered shares.
    Merge,
}

impl Options {
    /// Whether `stage` was skipped on the command line.
    pub fn skips(&self, stage: &str) -> bool {
        self.skip.contains(stage)
    }
}

/// Parse `--skip a,b` into stage names, rejecting unknown ones.
pub fn parse_skip(list: &[String]) -> Result<BTreeSet<String>> {
    let mut out = BTreeSet::new();
    for s in list
        .iter()
        .flat_map(|s| s.split(','))
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        if !STAGES.contains(&s) {
            let hint = crate::suggest::did_you_mean(s, STAGES.iter().copied())
                .map(|m| format!("; did you mean `{m}`?"))
                .unwrap_or_default();
            return Err(Error::Usage(format!(
                "--skip: unknown stage `{s}`{hint} (stages: {})",
                STAGES.join(", ")
            )));
        }
        out.insert(s.to_string());
    }
    Ok(out)
}

/// Default parallelism: the CPU count, capped at one build per GiB of available memory.
pub fn default_parallelism() -> usize {
    let cpus = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let mem_gib = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("MemAvailable:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map(|kb| (kb / (1024 * 1024)) as usize);
    match mem_gib {
        Some(g) => cpus.min(g.max(1)),
        None => cpus,
    }
}

/// How a release is cut into shares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum PartialBy {
    /// One share per operating system (the default).
    #[default]
    Goos,
    /// One share per target.
    Target,
}

impl PartialBy {
    /// Parse `--partial-by`.
    pub fn parse(s: &str) -> Result<PartialBy> {
        match s {
            "goos" | "os" => Ok(PartialBy::Goos),
            "target" => Ok(PartialBy::Target),
            _ => Err(Error::Usage(format!(
                "--partial-by {s}: expected `goos` or `target`"
            ))),
        }
    }
}

/// This runner's share.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Share {
    /// How shares are cut.
    pub by: PartialBy,
    /// The share's name: an OS (`linux`) or a target name (`linux_amd64_v1`).
    pub name: String,
}

impl Share {
    /// Whether a target belongs to this share.
    pub fn includes(&self, t: &crate::target::Target) -> bool {
        match self.by {
            PartialBy::Goos => t.os == self.name,
            PartialBy::Target => t.name() == self.name,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::target::Target;

    #[test]
    fn shares_include_their_targets() {
        let s = Share {
            by: PartialBy::Goos,
            name: "linux".into(),
        };
        assert!(s.includes(&Target::go("linux", "arm64", None, None)));
        assert!(!s.includes(&Target::go("darwin", "arm64", None, None)));
        let s = Share {
            by: PartialBy::Target,
            name: "linux_amd64_v1".into(),
        };
        assert!(s.includes(&Target::go("linux", "amd64", None, Some("v1"))));
        assert!(PartialBy::parse("arch").is_err());
    }
}
