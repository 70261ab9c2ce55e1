//! `rel healthcheck`: every tool the config needs, found or not, with its version, and which
//! tokens are present (never their values). Exit 1 when something needed is missing.

use crate::cli::Global;
use crate::config::{Builder, Config};
use crate::error::{Error, Result};
use std::path::Path;

/// One line of the report.
struct Row {
    tool: String,
    needed_by: String,
    found: Option<String>,
    required: bool,
}

fn version_of(argv: &[&str]) -> Option<String> {
    let out = std::process::Command::new(argv[0])
        .args(&argv[1..])
        .output()
        .ok()?;
    let text = if out.stdout.is_empty() {
        String::from_utf8_lossy(&out.stderr).into_owned()
    } else {
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let first = text.lines().next().unwrap_or("").trim().to_string();
    (out.status.success() || !first.is_empty())
        .then_some(first)
        .filter(|_| out.status.success())
}

fn tool(rows: &mut Vec<Row>, argv: &[&str], needed_by: &str, required: bool) {
    if rows.iter().any(|r| r.tool == argv[0]) {
        return;
    }
    rows.push(Row {
        tool: argv[0].to_string(),
        needed_by: needed_by.to_string(),
        found: version_of(argv),
        required,
    });
}

fn rows(config: Option<&Config>) -> Vec<Row> {
    let mut rows = vec![];
    tool(
        &mut rows,
        &["git", "--version"],
        "versions and the changelog",
        true,
    );
    let Some(c) = config else {
        return rows;
    };
    for (i, b) in c.builds.iter().enumerate() {
        match b.builder {
            Builder::Go => {
                let go = b.gobinary.clone().unwrap_or_else(|| "go".into());
                tool(&mut rows, &[&go, "version"], &format!("builds[{i}]"), true);
            }
            Builder::Cargo => {
                tool(
                    &mut rows,
                    &["cargo", "--version"],
                    &format!("builds[{i}]"),
                    true,
                );
                tool(
                    &mut rows,
                    &["rustc", "--version"],
                    &format!("builds[{i}]"),
                    true,
                );
                if !b.targets.is_empty() {
                    tool(
                        &mut rows,
                        &["rustup", "--version"],
                        &format!("builds[{i}].targets"),
                        false,
                    );
                    let installed = std::process::Command::new("rustup")
                        .args(["target", "list", "--installed"])
                        .output()
                        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
                        .unwrap_or_default();
                    let host = crate::cargo_meta::host_triple().unwrap_or_default();
                    for t in &b.targets {
                        let ok = t == &host || installed.lines().any(|l| l.trim() == t);
                        rows.push(Row {
                            tool: format!("rust target {t}"),
                            needed_by: format!("builds[{i}]"),
                            found: ok.then(|| "installed".to_string()),
                            required: true,
                        });
                    }
                }
            }
            _ => {}
        }
    }
    let engine_needed = !(c.dockers_v2.is_empty() && c.dockers.is_empty());
    if engine_needed {
        for e in ["buildah", "podman"] {
            tool(
                &mut rows,
                &[e, "--version"],
                "dockers (Dockerfiles that run commands)",
                false,
            );
        }
        tool(
            &mut rows,
            &["docker", "version", "--format", "{{.Server.Version}}"],
            "dockers (Dockerfiles that run commands; needs a daemon)",
            false,
        );
    }
    for (i, s) in c.signs.iter().enumerate() {
        if s.signer.is_none() {
            let cmd = s.cmd.clone().unwrap_or_else(|| "gpg".into());
            tool(
                &mut rows,
                &[&cmd, "--version"],
                &format!("signs[{i}]"),
                true,
            );
        }
    }
    for (i, s) in c.docker_signs.iter().enumerate() {
        if s.signer.is_none() {
            let cmd = s.cmd.clone().unwrap_or_else(|| "cosign".into());
            tool(
                &mut rows,
                &[&cmd, "version"],
                &format!("docker_signs[{i}]"),
                true,
            );
        }
    }
    for (i, s) in c.sboms.iter().enumerate() {
        if let Some(cmd) = &s.cmd {
            tool(&mut rows, &[cmd, "--version"], &format!("sboms[{i}]"), true);
        }
    }
    rows
}

fn tokens() -> Vec<(String, bool)> {
    [
        "GITHUB_TOKEN",
        "GH_TOKEN",
        "REL_REGISTRY_TOKEN",
        "REL_REGISTRY_USERNAME",
        "REL_REGISTRY_PASSWORD",
        "DOCKER_CONFIG",
    ]
    .iter()
    .map(|k| {
        (
            k.to_string(),
            std::env::var_os(k).is_some_and(|v| !v.is_empty()),
        )
    })
    .collect()
}

/// Print the report; exit 1 when a required tool is missing.
pub fn run(g: &Global, root: &Path, json: bool) -> Result<()> {
    let config = match crate::pipeline::load_config(root, g.config.as_deref()) {
        Ok((_, c, _)) => Some(c),
        Err(e) if g.config.is_some() => return Err(e),
        Err(_) => None,
    };
    let rows = rows(config.as_ref());
    let tokens = tokens();
    let missing: Vec<&Row> = rows
        .iter()
        .filter(|r| r.required && r.found.is_none())
        .collect();
    if json {
        let v = serde_json::json!({
            "tools": rows.iter().map(|r| serde_json::json!({"tool": r.tool, "needed_by": r.needed_by, "version": r.found, "required": r.required})).collect::<Vec<_>>(),
            "tokens": tokens.iter().map(|(k, set)| serde_json::json!({"name": k, "set": set})).collect::<Vec<_>>(),
            "ok": missing.is_empty(),
        });
        println!("{v}");
    } else {
        if config.is_none() {
            println!("(no config found: the tools every project needs)");
        }
        let w = rows.iter().map(|r| r.tool.len()).max().unwrap_or(4);
        for r in &rows {
            let (mark, what) = match (&r.found, r.required) {
                (Some(v), _) => ("ok     ", v.clone()),
                (None, true) => ("MISSING", "not found".to_string()),
                (None, false) => ("absent ", "not found (optional)".to_string()),
            };
            println!("{mark} {:<w$}  {what}  [{}]", r.tool, r.needed_by);
        }
        for (k, set) in &tokens {
            println!("{} {k}", if *set { "set    " } else { "unset  " });
        }
    }
    if missing.is_empty() {
        Ok(())
    } else {
        Err(Error::Failed(format!(
            "missing: {}",
            missing
                .iter()
                .map(|r| format!("{} (for {})", r.tool, r.needed_by))
                .collect::<Vec<_>>()
                .join(", ")
        )))
    }
}
