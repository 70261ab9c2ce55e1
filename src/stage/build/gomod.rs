//! `gomod.proxy`: Go binaries built from the published module at the tag, not from the
//! working tree.
//!
//! A binary built this way records its module and version (`go version -m` shows
//! `mod example.com/tool v1.2.3 h1:…` instead of `(devel)`), and anyone can rebuild it from
//! the module proxy alone. As GoReleaser does, each build gets `dist/proxy/<id>/` holding a
//! `go.mod` that requires the module at the tag and a `main.go` that imports the main package
//! (behind a build tag, so it is never compiled itself); `go mod tidy` there resolves the
//! module through GOPROXY and writes `go.sum`, and the targets then build the main package
//! by its import path from that folder. Snapshots build from the working tree: their
//! version is not published.

use super::build_env;
use crate::config::{Build, Builder};
use crate::context::Context;
use crate::error::{Error, IoContext, Result};
use crate::exec::{self, Invocation};
use crate::plan::PlannedBuild;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

/// The folder in `dist/` that holds the proxy builds.
pub const FOLDER: &str = "proxy";

/// Whether build `b` is built from the module proxy in this run.
pub fn applies(ctx: &Context, b: &Build) -> bool {
    ctx.config.gomod.proxy && !ctx.options.snapshot && b.builder == Builder::Go
}

/// Where the project's `go.mod` is: `gomod.dir`, else the build's `dir`, else the root.
fn module_dir(ctx: &Context, b: &Build) -> PathBuf {
    match (&ctx.config.gomod.dir, &b.dir) {
        (Some(d), _) | (None, Some(d)) => ctx.root.join(d),
        (None, None) => ctx.root.clone(),
    }
}

/// The module path declared by the `go.mod` in `dir`.
pub fn module_path(dir: &Path) -> Result<String> {
    let path = dir.join("go.mod");
    let text = std::fs::read_to_string(&path).ctx("gomod.proxy: cannot read", &path)?;
    text.lines()
        .filter_map(|l| l.trim().strip_prefix("module"))
        .filter(|rest| rest.starts_with(char::is_whitespace))
        .map(|rest| {
            let rest = rest.split("//").next().unwrap_or_default();
            rest.trim().trim_matches('"').to_string()
        })
        .find(|m| !m.is_empty())
        .ok_or_else(|| {
            Error::Config(format!(
                "gomod.proxy: {} declares no module",
                path.display()
            ))
        })
}

/// The module version of the tag: a monorepo's `tools/x/v1.2.0` is version `v1.2.0` of the
/// module in `tools/x`, as the go command reads such tags.
fn version_of(tag: &str) -> &str {
    tag.rsplit('/').next().unwrap_or(tag)
}

/// The build's main package as an import path inside `module`.
fn main_import(module: &str, main: Option<&str>) -> Result<String> {
    let main = main
        .unwrap_or(".")
        .trim_start_matches("./")
        .trim_end_matches('/');
    if main.ends_with(".go") {
        return Err(Error::Config(format!(
            "gomod.proxy builds a package, not the file `{main}`: set `main` to its folder"
        )));
    }
    Ok(match main {
        "" | "." => module.to_string(),
        sub => format!("{module}/{sub}"),
    })
}

/// Where a proxied build runs and what it builds: (folder, main package import path).
pub fn location(ctx: &Context, b: &Build, id: &str) -> Result<(PathBuf, String)> {
    let module = module_path(&module_dir(ctx, b))?;
    let main = main_import(&module, b.main.as_deref())?;
    Ok((ctx.dist.join(FOLDER).join(id), main))
}

/// Environment of the module resolution and of the proxied builds: `gomod.env` rendered, and
/// `GOFLAGS=-mod=…` for `gomod.mod`.
pub fn env(ctx: &Context, pb: &PlannedBuild) -> Result<Vec<(String, String)>> {
    let mut out = vec![];
    for (i, e) in ctx.config.gomod.env.iter().enumerate() {
        let r = ctx
            .templates
            .render(&format!("gomod.env[{i}]"), e, &pb.vars)?;
        if let Some((k, v)) = r.split_once('=') {
            out.push((k.to_string(), v.to_string()));
        }
    }
    if let Some(m) = &ctx.config.gomod.r#mod {
        out.push(("GOFLAGS".into(), format!("-mod={m}")));
    }
    Ok(out)
}

/// Write the proxy folder of `pb`'s build and resolve the module at the tag (once per build,
/// before its targets build).
pub fn prepare(ctx: &Context, pb: &PlannedBuild, cancel: &AtomicBool) -> Result<()> {
    let b = &ctx.config.builds[pb.index];
    let (dir, main) = location(ctx, b, &pb.id)?;
    let module = module_path(&module_dir(ctx, b))?;
    let version = version_of(&ctx.tag);
    std::fs::create_dir_all(&dir).ctx("cannot create", &dir)?;
    // The folder's own module name must not be a word the go command reserves (`tool`,
    // `std`, `all`): a path under the reserved `.invalid` domain never is.
    let go_mod = format!(
        "module proxy.invalid/{}\n\nrequire {module} {version}\n",
        pb.id
    );
    crate::dist::write_atomic(&dir.join("go.mod"), go_mod.as_bytes())?;
    let main_go = format!("//go:build main\n\npackage main\n\nimport _ \"{main}\"\n");
    crate::dist::write_atomic(&dir.join("main.go"), main_go.as_bytes())?;
    let mut env = build_env(ctx, b, pb)?;
    env.extend(env_of_resolution(ctx, pb)?);
    let inv = Invocation {
        stdin: None,
        argv: vec![
            ctx.config
                .gomod
                .gobinary
                .clone()
                .or_else(|| b.gobinary.clone())
                .unwrap_or_else(|| "go".into()),
            "mod".into(),
            "tidy".into(),
        ],
        env,
        dir,
    };
    tracing::debug!("gomod.proxy for build `{}`: {}", pb.id, inv.shell_line());
    exec::run(
        &format!(
            "gomod.proxy: resolving {module}@{version} for build `{}`",
            pb.id
        ),
        &inv,
        cancel,
        ctx.options.deadline,
    )
    .map(drop)
}

/// `gomod.env` without `GOFLAGS`: `go mod tidy` refuses `-mod`.
fn env_of_resolution(ctx: &Context, pb: &PlannedBuild) -> Result<Vec<(String, String)>> {
    let mut e = env(ctx, pb)?;
    if ctx.config.gomod.r#mod.is_some() {
        e.pop();
    }
    Ok(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn main_packages_become_import_paths() {
        assert_eq!(main_import("example.com/t", None).unwrap(), "example.com/t");
        assert_eq!(
            main_import("example.com/t", Some("./cmd/t/")).unwrap(),
            "example.com/t/cmd/t"
        );
        assert!(main_import("example.com/t", Some("main.go")).is_err());
        assert_eq!(version_of("tools/x/v1.2.0"), "v1.2.0");
        assert_eq!(version_of("v1.2.0"), "v1.2.0");
    }

    #[test]
    fn the_module_line_is_read_from_go_mod() {
        let t = tempfile::tempdir().unwrap();
        std::fs::write(
            t.path().join("go.mod"),
            "// a comment\nmodule \"example.com/quoted\" // x\n\ngo 1.22\n",
        )
        .unwrap();
        assert_eq!(module_path(t.path()).unwrap(), "example.com/quoted");
        std::fs::write(t.path().join("go.mod"), "go 1.22\nmodulex y\n").unwrap();
        assert!(module_path(t.path()).is_err_and(|e| e.to_string().contains("no module")));
    }
}
