//! The provenance stage: an in-toto Statement v1 with a SLSA Provenance v1 predicate whose
//! subjects are every release asset (name and SHA-256) and every pushed image (repository and
//! digest), signed as a DSSE envelope inside a keyed Sigstore bundle and written as
//! `dist/<project>_<version>.intoto.jsonl` — one line, uploaded with the other assets before
//! the draft release is published.
//!
//! The build is described from the GitHub Actions environment when present (`GITHUB_*`:
//! repository, workflow ref, run id, commit) and from git otherwise; nothing else varies, so
//! outside CI two runs from one commit write the same bytes.

use super::Stage;
use crate::artifact::{Artifact, Kind};
use crate::config::validate::Checker;
use crate::context::Context;
use crate::error::{Error, Result};
use crate::keys::{self, sigstore};
use crate::plan::{Plan, PlannedFile};
use serde_json::{Value, json};

/// The provenance stage.
pub struct ProvenanceStage;

/// The in-toto payload type.
pub const PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";
/// The build type rel's predicates name.
pub const BUILD_TYPE: &str = "https://github.com/rel-release/rel/provenance/v1";

fn key(ctx: &Context) -> Result<sigstore::Key> {
    let p = ctx
        .config
        .provenance
        .as_ref()
        .ok_or_else(|| Error::Failed("no provenance".into()))?;
    let at = "provenance.key_file";
    let value = ctx.render(at, &p.key_file)?;
    let (bytes, origin) = keys::read(&ctx.root, at, &value)?;
    let pass = keys::passphrase(&["REL_PROVENANCE_PASSPHRASE".to_string()]);
    let k = sigstore::Key::load(&bytes, &pass, origin)?;
    k.dsse_bundle(PAYLOAD_TYPE, b"{}")?;
    Ok(k)
}

/// The statement's subjects: assets by file name, images by repository, each with its
/// SHA-256; sorted, distinct.
fn subjects(artifacts: &[Artifact]) -> Vec<Value> {
    let mut out = std::collections::BTreeMap::new();
    for a in artifacts {
        match a.kind {
            Kind::Image | Kind::ImageIndex => {
                let digest = a.extra.get("digest").and_then(|d| d.as_str()).unwrap_or("");
                let pushed = a
                    .extra
                    .get("pushed")
                    .and_then(|p| p.as_bool())
                    .unwrap_or(true);
                if let (Some(hex), true) = (digest.strip_prefix("sha256:"), pushed) {
                    let repo = a
                        .extra
                        .get("repository")
                        .and_then(|r| r.as_str())
                        .unwrap_or(&a.name);
                    out.insert((repo.to_string(), hex.to_string()), ());
                }
            }
            k if k.uploadable() && k != Kind::Provenance => {
                if let Some(sha) = &a.sha256 {
                    out.insert((a.name.clone(), sha.clone()), ());
                }
            }
            _ => {}
        }
    }
    out.into_keys()
        .map(|(name, sha)| json!({"name": name, "digest": {"sha256": sha}}))
        .collect()
}

/// The SLSA provenance predicate of this run.
fn predicate(ctx: &Context) -> Value {
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let commit = ctx.git.commit.clone();
    let (repo_uri, builder, invocation) = match (env("GITHUB_SERVER_URL"), env("GITHUB_REPOSITORY"))
    {
        (Some(server), Some(repo)) => {
            let workflow = env("GITHUB_WORKFLOW_REF").unwrap_or_default();
            let run = match (env("GITHUB_RUN_ID"), env("GITHUB_RUN_ATTEMPT")) {
                (Some(id), Some(attempt)) => Some(format!(
                    "{server}/{repo}/actions/runs/{id}/attempts/{attempt}"
                )),
                (Some(id), None) => Some(format!("{server}/{repo}/actions/runs/{id}")),
                _ => None,
            };
            (
                format!("git+{server}/{repo}"),
                format!("{server}/{workflow}"),
                run,
            )
        }
        _ => (
            ctx.git
                .remote_url
                .clone()
                .map(|u| format!("git+{u}"))
                .unwrap_or_else(|| "git+file://.".into()),
            format!("rel/{}", env!("CARGO_PKG_VERSION")),
            None,
        ),
    };
    let git_ref = if ctx.tag.is_empty() {
        format!("refs/heads/{}", ctx.git.branch)
    } else {
        format!("refs/tags/{}", ctx.tag)
    };
    let mut external = json!({
        "source": {"uri": format!("{repo_uri}@{git_ref}"), "digest": {"gitCommit": commit}},
        "version": ctx.version,
        "snapshot": ctx.options.snapshot,
    });
    if let Some(w) = env("GITHUB_WORKFLOW_REF") {
        external["workflow"] = json!({"ref": w, "repository": repo_uri});
    }
    let mut metadata = json!({});
    if let Some(i) = invocation {
        metadata["invocationId"] = json!(i);
    }
    json!({
        "buildDefinition": {
            "buildType": BUILD_TYPE,
            "externalParameters": external,
            "internalParameters": {"rel": env!("CARGO_PKG_VERSION")},
            "resolvedDependencies": [{
                "uri": format!("{repo_uri}@{git_ref}"),
                "digest": {"gitCommit": ctx.git.commit},
            }],
        },
        "runDetails": {
            "builder": {"id": builder},
            "metadata": metadata,
        },
    })
}

impl Stage for ProvenanceStage {
    fn name(&self) -> &'static str {
        "provenance"
    }

    fn skip(&self, ctx: &Context) -> Option<String> {
        if ctx.config.provenance.is_none() {
            return Some("no provenance configured".into());
        }
        super::skipped_by_flag(ctx, "provenance")
    }

    fn check(&self, c: &mut Checker) {
        if let Some(p) = &c.config.provenance {
            let globals = crate::config::validate::globals();
            c.template(
                vec!["provenance".into(), "key_file".into()],
                &p.key_file,
                &globals,
            );
            if let Some(n) = &p.name {
                c.template(vec!["provenance".into(), "name".into()], n, &globals);
            }
        }
    }

    fn plan(&self, ctx: &Context, plan: &mut Plan) -> Result<()> {
        let Some(p) = &ctx.config.provenance else {
            return Ok(());
        };
        key(ctx)?;
        let name = ctx.render(
            "provenance.name",
            p.name
                .as_deref()
                .unwrap_or("{{ project_name }}_{{ version }}.intoto.jsonl"),
        )?;
        if name.contains('/') || name.is_empty() || name.starts_with('.') {
            return Err(Error::Config(format!(
                "`provenance.name` gives `{name}`, which is not a plain file name"
            )));
        }
        plan.claim(
            &name,
            "the provenance statement",
            "set `provenance.name` to another name",
        )?;
        plan.provenance = Some(PlannedFile {
            path: ctx.dist.join(&name),
            name,
            detail: "in-toto SLSA provenance v1, DSSE in a Sigstore bundle".into(),
        });
        Ok(())
    }

    fn run(&self, ctx: &Context) -> Result<()> {
        let Some(planned) = ctx.plan.provenance.clone() else {
            return Ok(());
        };
        let k = key(ctx)?;
        let statement = json!({
            "_type": "https://in-toto.io/Statement/v1",
            "subject": subjects(&ctx.artifacts.all()),
            "predicateType": "https://slsa.dev/provenance/v1",
            "predicate": predicate(ctx),
        });
        let payload = serde_json::to_vec(&statement)
            .map_err(|e| Error::Failed(format!("cannot write the statement: {e}")))?;
        let mut line = serde_json::to_vec(&k.dsse_bundle(PAYLOAD_TYPE, &payload)?)
            .map_err(|e| Error::Failed(format!("cannot write the bundle: {e}")))?;
        line.push(b'\n');
        crate::dist::write_atomic(&planned.path, &line)?;
        let (sha, size) = crate::hash::sha256_file(&planned.path)?;
        let mut a = Artifact::new(
            Kind::Provenance,
            planned.name.clone(),
            ctx.rel_path(&planned.path),
        );
        a.size = Some(size);
        a.sha256 = Some(sha);
        tracing::info!(
            "provenance: {} ({} subjects)",
            planned.name,
            statement["subject"]
                .as_array()
                .map(|v| v.len())
                .unwrap_or(0)
        );
        ctx.artifacts.add(a);
        Ok(())
    }
}
