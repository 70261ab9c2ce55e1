//! The `dockers_v2`, `dockers` and `docker_manifests` sections: their checks, run by
//! `rel check` and every run, each naming the key's line.

use crate::config::locate::Seg;
use crate::config::validate::Checker;

fn platform_ok(pl: &str) -> bool {
    let parts: Vec<&str> = pl.split('/').collect();
    match parts.as_slice() {
        ["linux", arch] => crate::target::valid_pair("linux", arch),
        ["linux", "arm", v] => matches!(*v, "v5" | "v6" | "v7"),
        ["linux", "arm64", "v8"] => true,
        _ => false,
    }
}

/// Every problem of the Dockerfile image sections.
pub fn check(c: &mut Checker) {
    let config = c.config;
    for (i, d) in config.dockers_v2.iter().enumerate() {
        let at = |rest: &[Seg]| {
            let mut v = vec![Seg::from("dockers_v2"), Seg::from(i)];
            v.extend_from_slice(rest);
            v
        };
        for (j, pl) in d.platforms.iter().enumerate() {
            if !platform_ok(pl) {
                c.push(
                    at(&["platforms".into(), j.into()]),
                    format!("unsupported image platform `{pl}`"),
                    Some("use linux/ARCH, e.g. linux/amd64, linux/arm64, linux/arm/v7".into()),
                );
            }
        }
        if d.images.is_empty() {
            c.push(
                at(&[]),
                "no `images`: name at least one repository, e.g. ghcr.io/owner/name",
                None,
            );
        }
    }
    for (i, d) in config.dockers.iter().enumerate() {
        let at = |rest: &[Seg]| {
            let mut v = vec![Seg::from("dockers"), Seg::from(i)];
            v.extend_from_slice(rest);
            v
        };
        if let Some(u) = &d.use_
            && !matches!(u.as_str(), "docker" | "buildx" | "podman")
        {
            c.push(
                at(&["use".into()]),
                format!("unknown `use: {u}`"),
                Some("use `docker`, `buildx` or `podman` (or rel's `builder`)".into()),
            );
        }
        if let Some(os) = &d.goos
            && os != "linux"
        {
            c.push(
                at(&["goos".into()]),
                format!("images are built for linux, not `{os}`"),
                None,
            );
        }
        if d.image_templates.is_empty() {
            c.push(
                at(&[]),
                "no `image_templates`: name at least one `repository:tag`",
                None,
            );
        }
    }
    for (i, m) in config.docker_manifests.iter().enumerate() {
        if m.image_templates.is_empty() {
            c.push(
                vec![
                    Seg::from("docker_manifests"),
                    Seg::from(i),
                    "image_templates".into(),
                ],
                "list at least one image",
                None,
            );
        }
    }
}
