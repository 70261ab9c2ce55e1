//! The `builds` section: its defaults and its checks (ids, builders, the target matrix,
//! every template), run by `rel check` and before every release.

use crate::config::locate::Seg;
use crate::config::validate::{Checker, per_target};
use crate::config::{Build, Builder, Config};
use crate::stage::Defaults;
use crate::suggest::did_you_mean;
use std::collections::HashSet;

/// A build for the project's own language when there is none; ids, binaries and mains.
pub fn defaults(config: &mut Config, d: &Defaults) {
    let project_name = d.project_name;
    if config.builds.is_empty() {
        let cargo = d.root.join("Cargo.toml").is_file() && !d.root.join("go.mod").is_file();
        config.builds.push(Build {
            builder: if cargo { Builder::Cargo } else { Builder::Go },
            main: Some(if cargo {
                project_name.to_string()
            } else {
                ".".to_string()
            }),
            ..Default::default()
        });
    }
    let single = config.builds.len() == 1;
    for (i, b) in config.builds.iter_mut().enumerate() {
        if b.id.is_none() {
            b.id = Some(if single || i == 0 {
                project_name.to_string()
            } else {
                format!("{project_name}-{i}")
            });
        }
        if b.binary.is_none() {
            b.binary = Some(b.id.clone().unwrap_or_default());
        }
        if b.main.is_none() {
            b.main = Some(match b.builder {
                Builder::Cargo => b.binary.clone().unwrap_or_default(),
                _ => ".".into(),
            });
        }
    }
}

/// Every problem of `builds`.
pub fn check(c: &mut Checker) {
    let config = c.config;
    let per_target = per_target();
    let mut with_output = per_target.clone();
    with_output.push("output");
    let mut ids = HashSet::new();
    for (i, b) in config.builds.iter().enumerate() {
        let base = |rest: &[Seg]| {
            let mut v = vec![Seg::from("builds"), Seg::from(i)];
            v.extend_from_slice(rest);
            v
        };
        let id = b.id.clone().unwrap_or_default();
        if !ids.insert(id.clone()) {
            c.push(
                base(&["id".into()]),
                format!("duplicate build id `{id}`"),
                Some("give each build its own `id`".into()),
            );
        }
        if id.contains('/') || id.contains("..") || id.is_empty() {
            c.push(
                base(&["id".into()]),
                format!("build id `{id}` must be a non-empty name without `/`"),
                None,
            );
        }
        match b.builder {
            Builder::Command if b.command.is_empty() => c.push(
                base(&["builder".into()]),
                "builder `command` needs a `command` list",
                Some("add `command: [make, build, \"OUT={{ output }}\"]`".into()),
            ),
            Builder::Prebuilt if b.path.is_none() => c.push(
                base(&["builder".into()]),
                "builder `prebuilt` needs a `path`",
                Some("add `path: \"prebuilt/{{ os }}_{{ arch }}/hello\"`".into()),
            ),
            _ => {}
        }
        if let Err(errors) = crate::plan::matrix::expand(b) {
            for e in errors {
                let hint = did_you_mean(&e.word, e.candidates.iter().map(String::as_str))
                    .map(|s| format!("did you mean `{s}`?"));
                c.push(base(&e.path), e.message, hint);
            }
        }
        if let Some(t) = &b.binary {
            c.template(base(&["binary".into()]), t, &per_target);
        }
        for (key, list) in [("flags", &b.flags), ("ldflags", &b.ldflags)] {
            match list {
                crate::config::StringList::One(f) => {
                    c.template(base(&[key.into()]), f, &per_target)
                }
                crate::config::StringList::Many(v) => {
                    for (j, f) in v.iter().enumerate() {
                        c.template(base(&[key.into(), j.into()]), f, &per_target);
                    }
                }
            }
        }
        c.env_list(base(&["env".into()]), &b.env, &per_target);
        for (j, a) in b.command.iter().enumerate() {
            c.template(base(&["command".into(), j.into()]), a, &with_output);
        }
        if let Some(t) = &b.path {
            c.template(base(&["path".into()]), t, &per_target);
        }
        if let Some(t) = &b.mod_timestamp {
            c.template(base(&["mod_timestamp".into()]), t, &per_target);
        }
        c.commands(
            base(&["hooks".into(), "pre".into()]),
            &b.hooks.pre,
            &per_target,
        );
        c.commands(
            base(&["hooks".into(), "post".into()]),
            &b.hooks.post,
            &with_output,
        );
    }
}
