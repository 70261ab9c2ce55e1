//! `rel verify`: which release, from which record, with which token — then the checks of
//! [`crate::verify`] and their report.
//!
//! Everything that makes the input unusable (no config, no tag, an unreadable
//! `artifacts.json`, no token) is exit 2 before any request; a mismatch found is exit 1.

use crate::cli::{Global, VerifyArgs};
use crate::context::Context;
use crate::error::{Error, Result};
use crate::github::Token;
use crate::verify::{Head, Session, Source};
use std::path::Path;

/// Run the checks and print the report; exit 1 when anything does not match.
pub fn run(g: &Global, a: &VerifyArgs, root: &Path) -> Result<()> {
    let checked = crate::pipeline::load_config(root, g.config.as_deref())?;
    // A snapshot context reads git without needing HEAD at the tag or a clean tree; it is
    // then pointed at the release's tag and version.
    let mut opts = super::options(g, true)?;
    opts.dry_run = true;
    let mut ctx = Context::new(root, checked, opts)?;
    let meta = read_json(&ctx.dist.join("metadata.json"))?;
    let meta_tag = meta
        .as_ref()
        .filter(|m| m["snapshot"] != true)
        .and_then(|m| m["tag"].as_str())
        .map(String::from);
    let tag = match (&a.tag, &meta_tag, ctx.git.tag()) {
        (Some(t), _, _) => t.clone(),
        (None, Some(t), _) => t.clone(),
        (None, None, Some(t)) => t.to_string(),
        (None, None, None) => {
            return Err(Error::Usage(
                "rel verify needs a release's tag: pass --tag TAG, or run it where dist/ holds the release (dist/metadata.json) or on the tagged commit".into(),
            ));
        }
    };
    let from_dist = meta_tag.as_deref() == Some(tag.as_str());
    let version = match meta.as_ref().filter(|_| from_dist) {
        Some(m) => m["version"].as_str().unwrap_or_default().to_string(),
        None => crate::git::tag_version(&tag, "")
            .map(|v| v.to_string())
            .unwrap_or_else(|| tag.trim_start_matches('v').to_string()),
    };
    let recorded = if from_dist {
        let path = ctx.dist.join("artifacts.json");
        let reg = crate::artifact::Registry::read(&path).map_err(|e| {
            Error::Usage(format!(
                "{} records {tag}, but its artifacts.json cannot be read: {e}",
                ctx.rel_path(&ctx.dist.join("metadata.json"))
            ))
        })?;
        Some(reg.all())
    } else {
        None
    };
    crate::verify::retarget(&mut ctx, &tag, &version);
    let repository = ctx.release_repo()?;
    let token = Token::from_env(|k| ctx.env.get(k).cloned())
        .filter(Token::is_sendable)
        .ok_or_else(|| {
            Error::Usage(
                "rel verify reads the release through GitHub's API: set GITHUB_TOKEN (or GH_TOKEN) to a token that can read the repository".into(),
            )
        })?;
    let head = Head {
        repository,
        tag: tag.clone(),
        version,
        source: if from_dist { Source::Dist } else { Source::Tag },
        release_url: None,
    };
    tracing::info!(
        "verifying {} {tag} {}",
        head.repository,
        match head.source {
            Source::Dist => "against dist/artifacts.json",
            Source::Tag => "from the tag alone",
        }
    );
    let mut session = Session::new(&ctx, head, recorded, token)?;
    let report = crate::verify::run(&mut session);
    if a.json {
        println!("{}", report.json(&session.head));
    } else {
        print!("{}", report.text(&session.head));
    }
    let failures = report.failures();
    if failures.is_empty() {
        return Ok(());
    }
    let shown: Vec<String> = failures
        .iter()
        .take(10)
        .map(|c| format!("{} {}", c.name, c.subject))
        .collect();
    Err(Error::Failed(format!(
        "{tag} of {} does not match what was released: {} mismatch{}: {}{}",
        session.head.repository,
        failures.len(),
        if failures.len() == 1 { "" } else { "es" },
        shown.join(", "),
        if failures.len() > shown.len() {
            ", …"
        } else {
            ""
        }
    )))
}

/// A JSON file of `dist/`, when there is one; one that does not parse is bad input.
fn read_json(path: &Path) -> Result<Option<serde_json::Value>> {
    match std::fs::read(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::Usage(format!("cannot read {}: {e}", path.display()))),
        Ok(b) => serde_json::from_slice(&b)
            .map(Some)
            .map_err(|e| Error::Usage(format!("{} is not valid JSON: {e}", path.display()))),
    }
}
