//! The plan: every target and output path, computed before any work.
//!
//! A dry run prints it; the build stage executes it. Computing names up front is what lets
//! collisions and template errors surface before the first build starts.

pub mod matrix;


use crate::config::Builder;
use crate::context::Context;
use crate::error::{Error, Result};
use crate::template::Vars;
use minijinja::Value;
use std::collections::HashMap;
use std::path::PathBuf;
use crate::target::Target;

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

/// Everything the release will build.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// Builds in config order, then target order.
    pub builds: Vec<PlannedBuild>,
}

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
    v.insert("target".into(), Value::from(t.name()));
    v.insert("ext".into(), Value::from(t.ext()));
    v
}

impl Plan {
    /// Expand the config's builds for this run (ids, `--single-target` and skips applied).
    pub fn new(ctx: &Context) -> Result<Plan> {
        let mut builds = vec![];
        let (host_os, host_arch) = Target::host_os_arch();
        for id in &ctx.options.ids {
            if !ctx
                .config
                .builds
                .iter()
                .any(|b| b.id.as_deref() == Some(id))
            {
                let ids: Vec<&str> = ctx
                    .config
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
        for (index, b) in ctx.config.builds.iter().enumerate() {
            let id = b.id.clone().unwrap_or_default();
            if b.skip || (!ctx.options.ids.is_empty() && !ctx.options.ids.contains(&id)) {
                continue;
            }
            let targets = matrix::expand(b).map_err(|e| Error::Config(e[0].message.clone()))?;
            let mut targets: Vec<Target> = targets;
            if let Some(share) = &ctx.options.share {
                targets.retain(|t| share.includes(t));
            }
            if ctx.options.single_target {
                targets.retain(|t| t.os == host_os && t.arch == host_arch);
                targets.truncate(1);
            }
            for t in targets {
                let mut vars = target_vars(&ctx.vars, &t);
                let key = format!("builds[{index}].binary");
                let name = ctx
                    .templates
                    .render(&key, b.binary.as_deref().unwrap_or(&id), &vars)?;
                vars.insert("binary".into(), Value::from(name.clone()));
                let binary = format!("{name}{}", t.ext());
                let output = ctx.dist.join(format!("{id}_{}", t.name())).join(&binary);
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
        if let (true, Some(share)) = (builds.is_empty(), &ctx.options.share) {
            return Err(Error::Usage(format!(
                "--partial-target {}: no build target belongs to this share",
                share.name
            )));
        }
        if builds.is_empty() && ctx.options.single_target {
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
        Ok(Plan { builds })
    }
}
