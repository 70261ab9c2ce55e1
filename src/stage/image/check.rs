//! The `images` and `manifests` sections: their checks, run by `rel check` and every run.

use crate::config::locate::Seg;
use crate::config::validate::{Checker, at, globals};

/// Every problem of `images` and `manifests`.
pub fn check(c: &mut Checker) {
    let config = c.config;
    let globals = globals();
    for (i, img) in config.images.iter().enumerate() {
        let base = |rest: &[Seg]| {
            let mut v = vec![Seg::from("images"), Seg::from(i)];
            v.extend_from_slice(rest);
            v
        };
        c.build_ids(&base(&[]), &img.builds, "image");
        for (j, pl) in img.platforms.iter().enumerate() {
            let parts: Vec<&str> = pl.split('/').collect();
            let ok = match parts.as_slice() {
                ["linux", arch] => crate::target::valid_pair("linux", arch),
                ["linux", "arm", v] => matches!(*v, "v5" | "v6" | "v7"),
                ["linux", "arm64", "v8"] => true,
                _ => false,
            };
            if !ok {
                c.push(
                    base(&["platforms".into(), j.into()]),
                    format!("unsupported image platform `{pl}`"),
                    Some("use linux/ARCH, e.g. linux/amd64, linux/arm64, linux/arm/v7".into()),
                );
            }
        }
        c.template(base(&["repository".into()]), &img.repository, &globals);
        if !img.repository.contains("{{")
            && !img.repository.contains("{%")
            && let Err(msg) = crate::oci_ref::check_repository_syntax(&img.repository)
        {
            c.push(
                base(&["repository".into()]),
                msg,
                Some(
                    "a repository is lowercase, like ghcr.io/owner/name, without a tag or digest"
                        .into(),
                ),
            );
        }
        for (j, t) in img.tags.iter().enumerate() {
            c.template(base(&["tags".into(), j.into()]), t, &globals);
        }
    }
    for (i, m) in config.manifests.iter().enumerate() {
        c.template(
            at(&["manifests".into(), i.into(), "name_template".into()]),
            &m.name_template,
            &globals,
        );
        for (j, t) in m.images.iter().enumerate() {
            c.template(
                at(&["manifests".into(), i.into(), "images".into(), j.into()]),
                t,
                &globals,
            );
        }
    }
}
