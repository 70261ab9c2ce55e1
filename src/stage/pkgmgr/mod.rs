//! The package-manager stage: Homebrew formulas (`brews`), Scoop manifests (`scoops`), winget
//! manifests (`winget`) and AUR `-bin` packages (`aurs`), written from the release's archives
//! into `dist/homebrew/`, `dist/scoop/`, `dist/winget/` and `dist/aur/` — each a pure function
//! of the archives (names, SHA-256s, the binaries inside) and the config, so they validate as
//! written and reproduce.
//!
//! Every manifest with a `repository` (or, for the AUR, a `git_url`) is committed by the tap
//! stage after the release is published.

mod aur;
mod brew;
mod scoop;
mod winget;

use super::Stage;
use crate::artifact::{Artifact, Filter, Kind};
use crate::config::SkipUpload;
use crate::config::validate::Checker;
use crate::context::Context;
use crate::error::{Error, Result};
use minijinja::Value;
use std::path::PathBuf;

/// The package-manager stage.
pub struct PkgmgrStage;

/// What is escaped in an asset name inside a download URL: all but RFC 3986's unreserved.
const ASSET_NAME: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// One archive a manifest points at.
#[derive(Debug, Clone)]
pub struct Download {
    /// Asset name.
    pub name: String,
    /// Download URL.
    pub url: String,
    /// SHA-256, hex.
    pub sha256: String,
    /// Go os and arch (`linux`, `amd64`), arm version, amd64 level.
    pub os: String,
    pub arch: String,
    pub arm: Option<String>,
    pub amd64: Option<String>,
    /// The binaries inside, as paths in the archive (`tool`, `tool_1.0/tool`).
    pub binaries: Vec<String>,
    /// `zip`, `tar.gz`, … or `binary`.
    pub format: String,
}

/// Archives of `ids` (all when empty), with their URLs, from the registry.
fn downloads(
    ctx: &Context,
    ids: &[String],
    url_template: Option<&str>,
    key: &str,
) -> Result<Vec<Download>> {
    let repo = ctx.release_repo().ok();
    let mut out = vec![];
    for a in ctx
        .artifacts
        .select(&Filter::kind(Kind::Archive).or(Filter::kind(Kind::UploadableBinary)))
    {
        let id = a
            .extra
            .get("id")
            .and_then(|v| v.as_str())
            .unwrap_or("")
            .to_string();
        if !ids.is_empty() && !ids.contains(&id) {
            continue;
        }
        let planned = ctx.plan.archives.iter().find(|p| p.name == a.name);
        let wrap = a
            .extra
            .get("wrap_in_directory")
            .and_then(|v| v.as_str())
            .map(String::from);
        let binaries: Vec<String> = planned
            .map(|p| {
                p.binaries
                    .iter()
                    .map(|b| match &wrap {
                        Some(w) => format!("{w}/{}", b.binary),
                        None => b.binary.clone(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        let format = planned
            .map(|p| p.format.name().to_string())
            .unwrap_or_else(|| "binary".into());
        let mut vars = ctx.vars.clone();
        vars.insert("artifact_name".into(), Value::from(a.name.clone()));
        vars.insert("os".into(), Value::from(a.os.clone().unwrap_or_default()));
        vars.insert(
            "arch".into(),
            Value::from(a.arch.clone().unwrap_or_default()),
        );
        let url = match url_template {
            Some(t) => ctx.templates.render(key, t, &vars)?,
            None => match &repo {
                Some(r) => format!(
                    "https://github.com/{r}/releases/download/{}/{}",
                    ctx.tag,
                    percent_encoding::utf8_percent_encode(&a.name, ASSET_NAME)
                ),
                None => {
                    return Err(Error::Config(format!(
                        "`{key}`: cannot tell where the archives are downloaded from: set `release.github`, an `origin` remote, or `url_template`"
                    )));
                }
            },
        };
        out.push(Download {
            name: a.name.clone(),
            url,
            sha256: a.sha256.clone().unwrap_or_default(),
            os: a.os.clone().unwrap_or_default(),
            arch: a.arch.clone().unwrap_or_default(),
            arm: a.arm.clone(),
            amd64: a.amd64.clone(),
            binaries,
            format,
        });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// The download for `os`/`arch`: amd64 at its lowest level, arm at its highest version.
pub fn pick<'a>(all: &'a [Download], os: &str, arch: &str) -> Option<&'a Download> {
    let mut found: Vec<&Download> = all
        .iter()
        .filter(|d| d.os == os && d.arch == arch)
        .collect();
    if found.is_empty() && os == "darwin" {
        // A universal binary's archive (`universal_binaries` with `replace`) serves both Macs.
        found = all
            .iter()
            .filter(|d| d.os == "darwin" && d.arch == "all")
            .collect();
    }
    found.sort_by(|a, b| {
        (
            a.amd64.clone().unwrap_or_default(),
            std::cmp::Reverse(a.arm.clone().unwrap_or_default()),
        )
            .cmp(&(
                b.amd64.clone().unwrap_or_default(),
                std::cmp::Reverse(b.arm.clone().unwrap_or_default()),
            ))
    });
    found.first().copied()
}

/// A rendered optional text.
fn text(ctx: &Context, key: &str, v: &Option<String>) -> Result<Option<String>> {
    v.as_deref().map(|t| ctx.render(key, t)).transpose()
}

/// Write `bytes` to `dist/<rel>` and register it.
fn emit(ctx: &Context, rel: &str, bytes: &[u8], kind: &str, out: &mut Vec<Artifact>) -> Result<()> {
    let path: PathBuf = ctx.dist.join(rel);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| Error::io("cannot create", parent, e))?;
    }
    crate::dist::write_atomic(&path, bytes)?;
    let (sha, size) = crate::hash::sha256_file(&path)?;
    let name = rel.rsplit('/').next().unwrap_or(rel).to_string();
    let mut a = Artifact::new(Kind::PackageManifest, name, ctx.rel_path(&path));
    a.size = Some(size);
    a.sha256 = Some(sha);
    a.extra.insert("manager".into(), kind.into());
    tracing::info!("{kind}: {}", ctx.rel_path(&path));
    out.push(a);
    Ok(())
}

impl Stage for PkgmgrStage {
    fn name(&self) -> &'static str {
        "pkgmgr"
    }

    fn skip(&self, ctx: &Context) -> Option<String> {
        let c = &ctx.config;
        if c.brews.is_empty()
            && c.homebrew_casks.is_empty()
            && c.scoops.is_empty()
            && c.winget.is_empty()
            && c.aurs.is_empty()
        {
            return Some("no brews, scoops, winget or aurs configured".into());
        }
        super::skipped_by_flag(ctx, "pkgmgr")
    }

    fn check(&self, c: &mut Checker) {
        let config = c.config;
        let globals = crate::config::validate::globals();
        let mut url_vars = globals.clone();
        url_vars.extend(["artifact_name", "os", "arch"]);
        let mut templates: Vec<(Vec<crate::config::locate::Seg>, String, bool)> = vec![];
        let mut add = |kind: &str, i: usize, key: &str, v: &Option<String>, url: bool| {
            if let Some(t) = v {
                templates.push((vec![kind.into(), i.into(), key.into()], t.clone(), url));
            }
        };
        for (i, b) in config.brews.iter().enumerate() {
            add("brews", i, "description", &b.description, false);
            add("brews", i, "homepage", &b.homepage, false);
            add("brews", i, "url_template", &b.url_template, true);
        }
        for (i, b) in config.scoops.iter().enumerate() {
            add("scoops", i, "description", &b.description, false);
            add("scoops", i, "homepage", &b.homepage, false);
            add("scoops", i, "url_template", &b.url_template, true);
        }
        for (i, b) in config.winget.iter().enumerate() {
            add(
                "winget",
                i,
                "short_description",
                &b.short_description,
                false,
            );
            add("winget", i, "description", &b.description, false);
            add("winget", i, "release_notes", &b.release_notes, false);
            for (k, v) in [
                ("publisher_url", &b.publisher_url),
                ("publisher_support_url", &b.publisher_support_url),
                ("privacy_url", &b.privacy_url),
                ("homepage", &b.homepage),
                ("copyright", &b.copyright),
                ("author", &b.author),
                ("license_url", &b.license_url),
                ("copyright_url", &b.copyright_url),
                ("release_notes_url", &b.release_notes_url),
            ] {
                add("winget", i, k, v, false);
            }
            add("winget", i, "url_template", &b.url_template, true);
        }
        for (i, b) in config.aurs.iter().enumerate() {
            add("aurs", i, "description", &b.description, false);
            add("aurs", i, "url_template", &b.url_template, true);
        }
        for (at, t, url) in templates {
            c.template(at, &t, if url { &url_vars } else { &globals });
        }
        for (i, w) in config.winget.iter().enumerate() {
            for (k, v) in [
                ("publisher", &w.publisher),
                ("short_description", &w.short_description),
                ("license", &w.license),
            ] {
                if v.as_deref().is_none_or(|s| s.trim().is_empty()) {
                    c.push(
                        vec!["winget".into(), i.into(), k.into()],
                        format!("winget manifests need `{k}`"),
                        None,
                    );
                }
            }
        }
        for (kind, list) in [
            (
                "brews",
                config
                    .brews
                    .iter()
                    .map(|b| &b.skip_upload)
                    .collect::<Vec<_>>(),
            ),
            (
                "scoops",
                config.scoops.iter().map(|b| &b.skip_upload).collect(),
            ),
            (
                "winget",
                config.winget.iter().map(|b| &b.skip_upload).collect(),
            ),
            ("aurs", config.aurs.iter().map(|b| &b.skip_upload).collect()),
        ] {
            for (i, s) in list.into_iter().enumerate() {
                if let Some(SkipUpload::Word(w)) = s
                    && w != "auto"
                {
                    c.push(
                        vec![kind.into(), i.into(), "skip_upload".into()],
                        format!("`skip_upload: {w}` is not true, false or auto"),
                        None,
                    );
                }
            }
        }
    }

    fn run(&self, ctx: &Context) -> Result<()> {
        let mut out = vec![];
        let project = ctx.config.project_name.clone().unwrap_or_default();
        let version = ctx.version.clone();
        for (i, b) in ctx.config.brews.iter().enumerate() {
            let key = format!("brews[{i}]");
            let d = downloads(
                ctx,
                &b.ids,
                b.url_template.as_deref(),
                &format!("{key}.url_template"),
            )?;
            let name = b.name.clone().unwrap_or_else(|| project.clone());
            let f = brew::Formula {
                name: name.clone(),
                desc: text(ctx, &format!("{key}.description"), &b.description)?,
                homepage: text(ctx, &format!("{key}.homepage"), &b.homepage)?,
                version: version.clone(),
                license: b.license.clone(),
                install: b.install.clone(),
                test: b.test.clone(),
                caveats: b.caveats.clone(),
                dependencies: b.dependencies.clone(),
                conflicts: b.conflicts.clone(),
                service: b.service.clone(),
                custom_block: b.custom_block.clone(),
            };
            let dir = b.directory.clone().unwrap_or_else(|| "Formula".into());
            let text = brew::render(&f, &d).map_err(|e| Error::Failed(format!("{key}: {e}")))?;
            emit(
                ctx,
                &format!("homebrew/{dir}/{name}.rb"),
                text.as_bytes(),
                "homebrew",
                &mut out,
            )?;
        }
        for (i, c) in ctx.config.homebrew_casks.iter().enumerate() {
            let key = format!("homebrew_casks[{i}]");
            let template = c.url.as_ref().and_then(|u| u.template.clone());
            let d = downloads(
                ctx,
                &c.ids,
                template.as_deref(),
                &format!("{key}.url.template"),
            )?;
            let name = c.name.clone().unwrap_or_else(|| project.clone());
            let mut completions = vec![];
            for (shell, v) in [
                ("bash", &c.completions.bash),
                ("zsh", &c.completions.zsh),
                ("fish", &c.completions.fish),
            ] {
                if let Some(p) = v {
                    completions.push((shell, p.clone()));
                }
            }
            let cask = brew::Cask {
                token: name.clone(),
                desc: text(ctx, &format!("{key}.description"), &c.description)?,
                homepage: text(ctx, &format!("{key}.homepage"), &c.homepage)?,
                version: version.clone(),
                binaries: c.binaries.clone(),
                manpages: c.manpages.clone(),
                completions,
                caveats: c.caveats.clone(),
                dependencies: c.dependencies.clone(),
                conflicts: c.conflicts.clone(),
                verified: c.url.as_ref().and_then(|u| u.verified.clone()),
                custom_block: c.custom_block.clone(),
                quarantine_fix: c.quarantine_fix.unwrap_or(true),
                hooks: [
                    ("preflight", &c.hooks.pre.install),
                    ("postflight", &c.hooks.post.install),
                    ("uninstall_preflight", &c.hooks.pre.uninstall),
                    ("uninstall_postflight", &c.hooks.post.uninstall),
                ]
                .into_iter()
                .filter_map(|(h, b)| b.clone().map(|b| (h, b)))
                .collect(),
            };
            let dir = c.directory.clone().unwrap_or_else(|| "Casks".into());
            let body =
                brew::render_cask(&cask, &d).map_err(|e| Error::Failed(format!("{key}: {e}")))?;
            emit(
                ctx,
                &format!("homebrew/{dir}/{name}.rb"),
                body.as_bytes(),
                "homebrew",
                &mut out,
            )?;
        }
        for (i, s) in ctx.config.scoops.iter().enumerate() {
            let key = format!("scoops[{i}]");
            let d = downloads(
                ctx,
                &s.ids,
                s.url_template.as_deref(),
                &format!("{key}.url_template"),
            )?;
            let name = s.name.clone().unwrap_or_else(|| project.clone());
            let repo_url = ctx
                .release_repo()
                .ok()
                .map(|r| format!("https://github.com/{r}"));
            let doc = scoop::render(
                &scoop::Manifest {
                    version: version.clone(),
                    description: text(ctx, &format!("{key}.description"), &s.description)?,
                    homepage: text(ctx, &format!("{key}.homepage"), &s.homepage)?,
                    license: s.license.clone(),
                    persist: s.persist.clone(),
                    depends: s.depends.clone(),
                    checkver: repo_url,
                },
                &d,
            )
            .map_err(|e| Error::Failed(format!("{key}: {e}")))?;
            let dir = s
                .directory
                .as_deref()
                .map(|d| format!("{}/", d.trim_matches('/')))
                .unwrap_or_default();
            emit(
                ctx,
                &format!("scoop/{dir}{name}.json"),
                doc.as_bytes(),
                "scoop",
                &mut out,
            )?;
        }
        for (i, w) in ctx.config.winget.iter().enumerate() {
            let key = format!("winget[{i}]");
            let d = downloads(
                ctx,
                &w.ids,
                w.url_template.as_deref(),
                &format!("{key}.url_template"),
            )?;
            let name = w.name.clone().unwrap_or_else(|| project.clone());
            let publisher = w.publisher.clone().unwrap_or_default();
            let id = w.package_identifier.clone().unwrap_or_else(|| {
                format!("{}.{}", publisher.replace(' ', ""), name.replace(' ', ""))
            });
            let date = jiff::Timestamp::from_second(ctx.git.commit_timestamp)
                .map(|t| t.strftime("%Y-%m-%d").to_string())
                .unwrap_or_default();
            let m = winget::Manifest {
                id: id.clone(),
                version: version.clone(),
                name,
                publisher,
                publisher_url: text(ctx, &format!("{key}.publisher_url"), &w.publisher_url)?,
                publisher_support_url: text(
                    ctx,
                    &format!("{key}.publisher_support_url"),
                    &w.publisher_support_url,
                )?,
                privacy_url: text(ctx, &format!("{key}.privacy_url"), &w.privacy_url)?,
                author: text(ctx, &format!("{key}.author"), &w.author)?,
                license_url: text(ctx, &format!("{key}.license_url"), &w.license_url)?,
                copyright_url: text(ctx, &format!("{key}.copyright_url"), &w.copyright_url)?,
                release_notes_url: text(
                    ctx,
                    &format!("{key}.release_notes_url"),
                    &w.release_notes_url,
                )?,
                short_description: text(
                    ctx,
                    &format!("{key}.short_description"),
                    &w.short_description,
                )?
                .unwrap_or_default(),
                description: text(ctx, &format!("{key}.description"), &w.description)?,
                homepage: text(ctx, &format!("{key}.homepage"), &w.homepage)?,
                license: w.license.clone().unwrap_or_default(),
                copyright: text(ctx, &format!("{key}.copyright"), &w.copyright)?,
                release_notes: text(ctx, &format!("{key}.release_notes"), &w.release_notes)?,
                tags: w.tags.clone(),
                release_date: date,
            };
            let files = winget::render(&m, &d).map_err(|e| Error::Failed(format!("{key}: {e}")))?;
            let first = id.chars().next().unwrap_or('x').to_ascii_lowercase();
            let folder = format!(
                "winget/manifests/{first}/{}/{}",
                id.replace('.', "/"),
                version
            );
            for (file, body) in files {
                emit(
                    ctx,
                    &format!("{folder}/{file}"),
                    body.as_bytes(),
                    "winget",
                    &mut out,
                )?;
            }
        }
        for (i, a) in ctx.config.aurs.iter().enumerate() {
            let key = format!("aurs[{i}]");
            let d = downloads(
                ctx,
                &a.ids,
                a.url_template.as_deref(),
                &format!("{key}.url_template"),
            )?;
            let name = a.name.clone().unwrap_or_else(|| format!("{project}-bin"));
            let p = aur::Package {
                name: name.clone(),
                project: project.clone(),
                version: version.clone(),
                rel: a.rel.clone().unwrap_or_else(|| "1".into()),
                description: text(ctx, &format!("{key}.description"), &a.description)?
                    .unwrap_or_default(),
                homepage: a.homepage.clone(),
                license: a.license.clone(),
                maintainers: a.maintainers.clone(),
                contributors: a.contributors.clone(),
                depends: a.depends.clone(),
                optdepends: a.optdepends.clone(),
                provides: if a.provides.is_empty() {
                    vec![project.clone()]
                } else {
                    a.provides.clone()
                },
                conflicts: if a.conflicts.is_empty() {
                    vec![project.clone()]
                } else {
                    a.conflicts.clone()
                },
                package: a.package.clone(),
            };
            let (pkgbuild, srcinfo) =
                aur::render(&p, &d).map_err(|e| Error::Failed(format!("{key}: {e}")))?;
            emit(
                ctx,
                &format!("aur/{name}/PKGBUILD"),
                pkgbuild.as_bytes(),
                "aur",
                &mut out,
            )?;
            emit(
                ctx,
                &format!("aur/{name}/.SRCINFO"),
                srcinfo.as_bytes(),
                "aur",
                &mut out,
            )?;
        }
        for a in out {
            ctx.artifacts.add(a);
        }
        Ok(())
    }
}

#[cfg(test)]
mod pick_tests {
    use super::*;

    fn dl(os: &str, arch: &str) -> Download {
        Download {
            name: format!("t_{os}_{arch}.tar.gz"),
            url: String::new(),
            sha256: String::new(),
            os: os.into(),
            arch: arch.into(),
            arm: None,
            amd64: None,
            binaries: vec![],
            format: "tar.gz".into(),
        }
    }

    #[test]
    fn a_universal_archive_serves_both_macs_when_no_thin_one_is_there() {
        let all = vec![dl("linux", "amd64"), dl("darwin", "all")];
        assert_eq!(
            pick(&all, "darwin", "arm64").unwrap().name,
            "t_darwin_all.tar.gz"
        );
        assert_eq!(
            pick(&all, "darwin", "amd64").unwrap().name,
            "t_darwin_all.tar.gz"
        );
        assert!(pick(&all, "windows", "amd64").is_none());
        let thin = vec![dl("darwin", "arm64"), dl("darwin", "all")];
        assert_eq!(
            pick(&thin, "darwin", "arm64").unwrap().name,
            "t_darwin_arm64.tar.gz"
        );
    }
}
