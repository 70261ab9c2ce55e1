//! The milestone stage: closes the GitHub milestone named for the release (GoReleaser's
//! `milestones`), after the release is published — the milestone is done when its release is
//! out, not before.
//!
//! Safe to re-run: a milestone that is already closed is left as it is. A milestone that is
//! not there, or that cannot be closed, is a warning (the release is out and stays out) unless
//! the entry sets `fail_on_error`.

use super::Stage;
use crate::config::validate::Checker;
use crate::context::Context;
use crate::error::{Error, Result};
use crate::github::{Client, Token, Urls};
use crate::retry::{Failure, Policy};
use http::Method;
use serde_json::{Value, json};

/// The milestone stage.
pub struct MilestoneStage;

/// One milestone to close: the entry's key, its repository and its rendered title.
struct Target {
    key: String,
    repo: String,
    title: String,
    fail_on_error: bool,
}

/// The milestones this release closes, their templates rendered.
fn targets(ctx: &Context) -> Result<Vec<Target>> {
    let mut out = vec![];
    for (i, m) in ctx.config.milestones.iter().enumerate() {
        if !m.close {
            continue;
        }
        let key = format!("milestones[{i}]");
        // Each half left out (or rendering empty) is the release repository's, as in
        // GoReleaser: `repo: {name: other}` is a repository of the same owner.
        let repo = match &m.repo {
            Some(r) if !r.owner.is_empty() || !r.name.is_empty() => {
                let owner = ctx.render(&format!("{key}.repo.owner"), &r.owner)?;
                let name = ctx.render(&format!("{key}.repo.name"), &r.name)?;
                let release = ctx.release_repo()?;
                let (r_owner, r_name) = release.split_once('/').unwrap_or((&release, ""));
                let pick = |v: &str, d: &str| {
                    if v.trim().is_empty() {
                        d.to_string()
                    } else {
                        v.trim().to_string()
                    }
                };
                format!("{}/{}", pick(&owner, r_owner), pick(&name, r_name))
            }
            _ => ctx.release_repo()?,
        };
        let title = ctx.render(
            &format!("{key}.name_template"),
            m.name_template.as_deref().unwrap_or("{{ tag }}"),
        )?;
        if title.trim().is_empty() {
            return Err(Error::Config(format!(
                "`{key}.name_template` renders to an empty title"
            )));
        }
        out.push(Target {
            key,
            repo,
            title,
            fail_on_error: m.fail_on_error,
        });
    }
    Ok(out)
}

/// A call under the GitHub retry policy, its failure as rel's error.
async fn call(
    c: &Client,
    t: &Target,
    method: Method,
    url: &str,
    body: Option<&Value>,
) -> Result<Value> {
    crate::retry::run(Policy::default(), None, &t.key, || async {
        c.json(method.clone(), url, body).await?.json()
    })
    .await
    .map_err(|f: Failure| Error::Failed(format!("{}: {}: {}", t.key, t.repo, f.message())))
}

/// The milestone titled `t.title`, open or closed: (number, state).
async fn find(c: &Client, t: &Target) -> Result<Option<(u64, String)>> {
    for page in 1.. {
        let url = c.api(&format!(
            "/repos/{}/milestones?state=all&per_page=100&page={page}",
            t.repo
        ));
        let list = call(c, t, Method::GET, &url, None).await?;
        let items = list.as_array().cloned().unwrap_or_default();
        if let Some(m) = items.iter().find(|m| m["title"] == t.title.as_str()) {
            return Ok(Some((
                m["number"].as_u64().unwrap_or_default(),
                m["state"].as_str().unwrap_or_default().to_string(),
            )));
        }
        if items.len() < 100 {
            break;
        }
    }
    Ok(None)
}

/// Close one milestone: what happened, for the log.
async fn close(c: &Client, t: &Target) -> Result<String> {
    let Some((number, state)) = find(c, t).await? else {
        return Err(Error::Failed(format!(
            "{}: {} has no milestone titled `{}`",
            t.key, t.repo, t.title
        )));
    };
    if state == "closed" {
        return Ok(format!(
            "milestone `{}` of {} was already closed",
            t.title, t.repo
        ));
    }
    let url = c.api(&format!("/repos/{}/milestones/{number}", t.repo));
    call(c, t, Method::PATCH, &url, Some(&json!({"state": "closed"}))).await?;
    Ok(format!("closed milestone `{}` of {}", t.title, t.repo))
}

impl Stage for MilestoneStage {
    fn name(&self) -> &'static str {
        "milestone"
    }

    fn skip(&self, ctx: &Context) -> Option<String> {
        if !ctx.config.milestones.iter().any(|m| m.close) {
            return Some("no milestones to close".into());
        }
        if let Some(r) = ctx.publish_skip_reason() {
            return Some(format!("not publishing: {r}"));
        }
        super::skipped_by_flag(ctx, "milestone")
    }

    fn check(&self, c: &mut Checker) {
        let globals = crate::config::validate::globals();
        for (i, m) in c.config.milestones.iter().enumerate() {
            let at = |k: &str| -> Vec<crate::config::locate::Seg> {
                vec!["milestones".into(), i.into(), k.into()]
            };
            if let Some(t) = &m.name_template {
                c.template(at("name_template"), t, &globals);
            }
            if let Some(r) = &m.repo {
                for (k, v) in [("owner", &r.owner), ("name", &r.name)] {
                    let mut path = at("repo");
                    path.push(k.into());
                    c.template(path, v, &globals);
                }
            }
        }
    }

    fn preflight(&self, ctx: &Context) -> Result<()> {
        targets(ctx).map(drop)
    }

    fn run(&self, ctx: &Context) -> Result<()> {
        let list = targets(ctx)?;
        let token = Token::from_env(|k| ctx.env.get(k).cloned()).ok_or_else(|| {
            Error::Failed("closing milestones needs GITHUB_TOKEN (or GH_TOKEN)".into())
        })?;
        let client = Client::new(token, Urls::of(ctx.config.release.github_urls.as_ref()))
            .map_err(Error::Failed)?;
        let rt = super::runtime(ctx)?;
        for t in &list {
            match super::block_on(ctx, &rt, "milestone", close(&client, t)) {
                Ok(done) => tracing::info!("milestone: {done}"),
                Err(e) if !t.fail_on_error => {
                    tracing::warn!(
                        "milestone: {e} (the release is out; `fail_on_error: true` makes this stop the run)"
                    )
                }
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}
