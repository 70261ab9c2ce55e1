//! The referrers stage: signatures (`docker_signs`) and SBOMs (`sboms` with
//! `artifacts: image`) attached to pushed images as OCI 1.1 referrers — an artifact manifest
//! whose `subject` is the signed image or index — with the `sha256-<hex>` tag fallback that
//! registries without the referrers API are read through (the index at that tag lists the
//! referrers, as cosign and oras read it; rel keeps it on every registry).
//!
//! Signatures are keyed Sigstore bundles (`application/vnd.dev.sigstore.bundle.v0.3+json`)
//! over the image manifest's bytes; SBOMs are SPDX or CycloneDX documents of the binaries in
//! the image. With `cmd` instead of `signer`, a command (cosign, by default) signs each image
//! as GoReleaser runs it. Nothing is attached in a snapshot: images are not pushed then.

use super::Stage;
use crate::artifact::{Artifact, Filter, Kind};
use crate::config::validate::Checker;
use crate::context::{Context, reproducible_time};
use crate::error::{Error, Result};
use crate::keys::{self, sigstore};
use crate::oci::registry::Registry;
use crate::oci::{canonical, digest_of, media};
use crate::plan::Plan;
use crate::sbom;
use oci_client::{Reference, RegistryOperation};
use serde_json::{Value, json};

/// The referrers stage.
pub struct ReferrersStage;

/// The media type of an empty config.
const EMPTY: &str = "application/vnd.oci.empty.v1+json";
const WHAT: &[&str] = &["all", "images", "manifests", "none"];

/// One pushed image or index.
#[derive(Debug, Clone)]
struct Subject {
    repository: String,
    digest: String,
    image_id: String,
    index: bool,
    build_id: Option<String>,
    target: Option<String>,
}

fn what(s: &crate::config::DockerSign) -> &str {
    s.artifacts
        .as_deref()
        .unwrap_or(if s.signer.is_some() { "all" } else { "none" })
}

fn passphrase_vars(id: &str) -> Vec<String> {
    vec![
        format!("REL_{}_DOCKER_SIGN_PASSPHRASE", keys::env_part(id)),
        "REL_DOCKER_SIGN_PASSPHRASE".into(),
    ]
}

fn key(ctx: &Context, i: usize) -> Result<Option<sigstore::Key>> {
    let s = &ctx.config.docker_signs[i];
    if s.signer.is_none() {
        return Ok(None);
    }
    let at = format!("docker_signs[{i}].key_file");
    let file = s.key_file.as_deref().ok_or_else(|| {
        Error::Config(format!("`docker_signs[{i}]`: `signer` needs a `key_file`"))
    })?;
    let value = ctx.render(&at, file)?;
    let (bytes, origin) = keys::read(&ctx.root, &at, &value)?;
    let pass = keys::passphrase(&passphrase_vars(s.id.as_deref().unwrap_or_default()));
    let k = sigstore::Key::load(&bytes, &pass, origin.clone())?;
    if k.is_ed25519() {
        return Err(Error::Config(format!(
            "{origin}: is an Ed25519 key; image signatures need an ECDSA P-256 key"
        )));
    }
    k.message_bundle(b"rel")?;
    Ok(Some(k))
}

/// Pushed images and indexes, one per digest.
fn subjects(ctx: &Context) -> Vec<Subject> {
    let mut out: Vec<Subject> = vec![];
    for a in ctx
        .artifacts
        .select(&Filter::kind(Kind::Image).or(Filter::kind(Kind::ImageIndex)))
    {
        let get = |k: &str| {
            a.extra
                .get(k)
                .and_then(|v| v.as_str())
                .unwrap_or("")
                .to_string()
        };
        let pushed = a
            .extra
            .get("pushed")
            .and_then(|p| p.as_bool())
            .unwrap_or(true);
        let digest = get("digest");
        if !pushed || digest.is_empty() || out.iter().any(|s| s.digest == digest) {
            continue;
        }
        out.push(Subject {
            repository: get("repository"),
            digest,
            image_id: get("id"),
            index: a.kind == Kind::ImageIndex,
            build_id: a.build_id.clone(),
            target: a.target.clone(),
        });
    }
    out
}

fn reference(repository: &str, digest: &str) -> Result<Reference> {
    format!("{repository}@{digest}")
        .parse::<Reference>()
        .map_err(|e| Error::Failed(format!("`{repository}@{digest}` is no reference: {e}")))
}

/// Whether the image with id `id` (or a manifest index on its registry) asked for plain
/// HTTP.
fn insecure(ctx: &Context, id: &str, repository: &str) -> bool {
    let host = repository.split('/').next().unwrap_or_default();
    ctx.config
        .images
        .iter()
        .any(|i| i.insecure && (i.id.as_deref() == Some(id) || i.repository.starts_with(host)))
        || ctx.config.manifests.iter().any(|m| m.insecure)
}

/// Attach `payload` (of `artifact_type`) to `subject` as a referrer; its digest.
async fn attach(
    reg: &Registry,
    subject: &Reference,
    subject_desc: &Value,
    artifact_type: &str,
    payload: &[u8],
    annotations: Value,
) -> Result<String> {
    let repo = Reference::with_tag(
        subject.registry().to_string(),
        subject.repository().to_string(),
        "latest".into(),
    );
    reg.put_blob(&repo, &digest_of(b"{}"), b"{}").await?;
    let payload_digest = digest_of(payload);
    reg.put_blob(&repo, &payload_digest, payload).await?;
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": media::MANIFEST,
        "artifactType": artifact_type,
        "config": {"mediaType": EMPTY, "digest": digest_of(b"{}"), "size": 2},
        "layers": [{"mediaType": artifact_type, "digest": payload_digest, "size": payload.len()}],
        "subject": subject_desc,
        "annotations": annotations,
    });
    let bytes = canonical(&manifest);
    let digest = digest_of(&bytes);
    let at = Reference::with_digest(
        subject.registry().to_string(),
        subject.repository().to_string(),
        digest.clone(),
    );
    reg.put_manifest(&at, media::MANIFEST, &bytes).await?;
    // The tag fallback, kept whether or not the registry serves the referrers API (a PUT does
    // not say, through the client, and a stale fallback would hide referrers from the
    // clients that read it): an index at `sha256-<hex>` listing every referrer of the subject.
    {
        let hex = subject
            .digest()
            .unwrap_or_default()
            .trim_start_matches("sha256:");
        let tag = Reference::with_tag(
            subject.registry().to_string(),
            subject.repository().to_string(),
            format!("sha256-{hex}"),
        );
        let mut listed: Vec<Value> = match reg.find_manifest(&tag).await? {
            Some((b, _)) => serde_json::from_slice::<Value>(&b)
                .ok()
                .and_then(|v| v["manifests"].as_array().cloned())
                .unwrap_or_default(),
            None => vec![],
        };
        listed.retain(|m| m["digest"] != digest.as_str());
        listed.push(json!({
            "mediaType": media::MANIFEST,
            "digest": digest,
            "size": bytes.len(),
            "artifactType": artifact_type,
            "annotations": manifest["annotations"],
        }));
        listed.sort_by(|a, b| a["digest"].as_str().cmp(&b["digest"].as_str()));
        let index = json!({"schemaVersion": 2, "mediaType": media::INDEX, "manifests": listed});
        reg.put_manifest(&tag, media::INDEX, &canonical(&index))
            .await?;
    }
    Ok(digest)
}

/// The SBOM of the binaries in an image, as a document about the image manifest.
fn image_sbom(ctx: &Context, s: &Subject, format: &str, time: i64) -> Result<Option<Vec<u8>>> {
    let Some(target) = &s.target else {
        return Ok(None);
    };
    let builds: Vec<String> = ctx
        .config
        .images
        .iter()
        .find(|i| i.id.as_deref() == Some(s.image_id.as_str()))
        .map(|i| i.builds.clone())
        .unwrap_or_default();
    let mut main = vec![];
    let mut deps = vec![];
    for a in ctx
        .artifacts
        .select(&Filter::kind(Kind::Binary).and(Filter::target(target)))
    {
        let id = a.build_id.clone().unwrap_or_default();
        if !builds.is_empty() && !builds.contains(&id)
            || builds.is_empty() && s.build_id.as_deref() != Some(id.as_str())
        {
            continue;
        }
        let Some(b) = ctx
            .config
            .builds
            .iter()
            .find(|b| b.id.as_deref() == Some(id.as_str()))
        else {
            continue;
        };
        let (m, d) = sbom::of_binary(
            b.builder == crate::config::Builder::Cargo,
            &ctx.root.join(b.dir.as_deref().unwrap_or(".")),
            b.main.as_deref(),
            target,
            &ctx.root.join(&a.path),
        )?;
        main.extend(m);
        deps.extend(d);
    }
    let subject = sbom::Subject {
        name: format!("{}@{}", s.repository, s.digest),
        sha256: s.digest.trim_start_matches("sha256:").to_string(),
        version: ctx.version.clone(),
        purpose: "application",
        main: sbom::distinct(main),
        components: sbom::distinct(deps),
    };
    let doc = if format == "cyclonedx" {
        sbom::cyclonedx(&subject, time, env!("CARGO_PKG_VERSION"))
    } else {
        sbom::spdx(&subject, time, env!("CARGO_PKG_VERSION"))
    };
    Ok(Some(
        serde_json::to_vec(&doc).map_err(|e| Error::Failed(e.to_string()))?,
    ))
}

/// GoReleaser's command mode: `cosign sign --key=cosign.key ${artifact}@${digest} --yes`.
fn sign_cmd(ctx: &Context, i: usize, s: &Subject) -> Result<()> {
    let d = &ctx.config.docker_signs[i];
    let expand = |t: &str| -> Result<String> {
        let mut vars = ctx.vars.clone();
        vars.insert(
            "artifact".into(),
            minijinja::Value::from(s.repository.clone()),
        );
        vars.insert("digest".into(), minijinja::Value::from(s.digest.clone()));
        let r = ctx
            .templates
            .render(&format!("docker_signs[{i}].args"), t, &vars)?;
        Ok(r.replace("${artifact}", &s.repository)
            .replace("${digest}", &s.digest))
    };
    let mut argv = crate::exec::split(&expand(d.cmd.as_deref().unwrap_or("cosign"))?)?;
    let args: Vec<String> = if d.args.is_empty() && d.cmd.is_none() {
        ["sign", "--key=cosign.key", "${artifact}@${digest}", "--yes"]
            .map(String::from)
            .to_vec()
    } else {
        d.args.clone()
    };
    for a in &args {
        argv.push(expand(a)?);
    }
    let mut env: Vec<(String, String)> = ctx.env.clone().into_iter().collect();
    for e in &d.env {
        if let Some((k, v)) = expand(e)?.split_once('=') {
            env.push((k.into(), v.into()));
        }
    }
    let mut keep = None;
    let stdin = match (&d.stdin, &d.stdin_file) {
        (Some(t), _) => {
            let tmp = tempfile::NamedTempFile::new().map_err(|e| Error::Failed(e.to_string()))?;
            std::fs::write(tmp.path(), expand(t)?).map_err(|e| Error::Failed(e.to_string()))?;
            let p = tmp.path().to_path_buf();
            keep = Some(tmp);
            Some(p)
        }
        (None, Some(f)) => Some(ctx.root.join(f)),
        _ => None,
    };
    let inv = crate::exec::Invocation {
        stdin,
        argv,
        env,
        dir: ctx.root.clone(),
    };
    let out = crate::exec::run(
        &format!("docker_signs[{i}]"),
        &inv,
        &std::sync::atomic::AtomicBool::new(false),
        ctx.options.deadline,
    )?;
    drop(keep);
    if ctx.truthy(&format!("docker_signs[{i}].output"), d.output.as_ref())?
        && !out.trim().is_empty()
    {
        tracing::info!(
            "docker_signs[{i}]: {}",
            crate::redact::redact(out.trim_end())
        );
    }
    Ok(())
}

impl Stage for ReferrersStage {
    fn name(&self) -> &'static str {
        "referrers"
    }

    fn skip(&self, ctx: &Context) -> Option<String> {
        let signs = ctx.config.docker_signs.iter().any(|d| what(d) != "none");
        let sboms = ctx
            .config
            .sboms
            .iter()
            .any(|s| !s.disable && s.artifacts.as_deref() == Some("image"));
        if !signs && !sboms {
            return Some("no docker_signs or image sboms configured".into());
        }
        if ctx.options.snapshot {
            return Some("snapshot: images are not pushed".into());
        }
        super::skipped_by_flag(ctx, "referrers")
            .or_else(|| super::skipped_by_flag(ctx, "images").map(|_| "--skip images".into()))
    }

    fn defaults(&self, config: &mut crate::config::Config, _d: &super::Defaults) {
        super::fill_ids(&mut config.docker_signs, |d| &mut d.id);
    }

    fn check(&self, c: &mut Checker) {
        let config = c.config;
        for (i, d) in config.docker_signs.iter().enumerate() {
            let at = |k: &str| vec!["docker_signs".into(), i.into(), k.into()];
            if let Some(crate::config::BoolOrTemplate::Template(t)) = &d.output {
                c.template(at("output"), t, &crate::config::validate::globals());
            }
            if let Some(w) = &d.artifacts
                && !WHAT.contains(&w.as_str())
            {
                c.push(
                    at("artifacts"),
                    format!("`artifacts: {w}` is not one rel signs"),
                    Some(format!("use one of: {}", WHAT.join(", "))),
                );
            }
            match d.signer.as_deref() {
                Some("sigstore") | None => {}
                Some(k) => c.push(
                    at("signer"),
                    format!("unknown image signer `{k}`"),
                    Some("use sigstore (or `cmd`)".into()),
                ),
            }
            if d.signer.is_some() && d.cmd.is_some() {
                c.push(
                    at("cmd"),
                    "`cmd` and `signer` exclude each other".to_string(),
                    Some("remove one".into()),
                );
            }
            if d.signer.is_some() && d.key_file.is_none() {
                c.push(
                    at("key_file"),
                    "`signer: sigstore` needs a `key_file`".to_string(),
                    None,
                );
            }
            if let Some(t) = &d.key_file {
                c.template(at("key_file"), t, &crate::config::validate::globals());
            }
        }
    }

    fn plan(&self, ctx: &Context, _plan: &mut Plan) -> Result<()> {
        for (i, d) in ctx.config.docker_signs.iter().enumerate() {
            if what(d) == "none" {
                continue;
            }
            key(ctx, i)?;
            if d.signer.is_none() {
                let cmd = ctx.render(
                    &format!("docker_signs[{i}].cmd"),
                    d.cmd.as_deref().unwrap_or("cosign"),
                )?;
                super::on_path(
                    &crate::exec::split(&cmd)?[0],
                    &format!("docker_signs[{i}].cmd"),
                )?;
            }
        }
        Ok(())
    }

    fn run(&self, ctx: &Context) -> Result<()> {
        let subjects = subjects(ctx);
        if subjects.is_empty() {
            tracing::info!("referrers: no pushed images");
            return Ok(());
        }
        let time = reproducible_time(&ctx.git)?;
        let keys: Vec<Option<sigstore::Key>> = (0..ctx.config.docker_signs.len())
            .map(|i| key(ctx, i))
            .collect::<Result<_>>()?;
        let ctx_ref: &Context = ctx;
        let mut made = vec![];
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::Failed(format!("cannot start the async runtime: {e}")))?;
        for s in &subjects {
            let r = reference(&s.repository, &s.digest)?;
            let reg = Registry::new(
                r.resolve_registry(),
                insecure(ctx_ref, &s.image_id, &s.repository),
            );
            let subject_desc = rt.block_on(async {
                reg.login(&r, RegistryOperation::Push).await?;
                let (bytes, _) = reg.find_manifest(&r).await?.ok_or_else(|| {
                    Error::Failed(format!("referrers: {} is not in the registry", r.whole()))
                })?;
                let doc: Value = serde_json::from_slice(&bytes).unwrap_or_default();
                let mt = doc["mediaType"]
                    .as_str()
                    .unwrap_or(if s.index {
                        media::INDEX
                    } else {
                        media::MANIFEST
                    })
                    .to_string();
                let size = bytes.len();
                Ok::<_, Error>((
                    bytes,
                    json!({"mediaType": mt, "digest": s.digest, "size": size}),
                ))
            })?;
            let (manifest_bytes, desc) = subject_desc;
            for (i, d) in ctx_ref.config.docker_signs.iter().enumerate() {
                let w = what(d);
                let wanted = match w {
                    "all" => true,
                    "images" => !s.index,
                    "manifests" => s.index,
                    _ => false,
                } && (d.ids.is_empty() || d.ids.contains(&s.image_id));
                if !wanted {
                    continue;
                }
                match &keys[i] {
                    Some(k) => {
                        let mut bundle = serde_json::to_vec(&k.message_bundle(&manifest_bytes)?)
                            .map_err(|e| Error::Failed(e.to_string()))?;
                        bundle.push(b'\n');
                        let digest = rt.block_on(attach(
                            &reg,
                            &r,
                            &desc,
                            sigstore::MEDIA_TYPE,
                            &bundle,
                            json!({
                                "dev.sigstore.bundle.content": "message-signature",
                                "dev.sigstore.bundle.predicateType": "https://sigstore.dev/cosign/sign/v1",
                            }),
                        ))?;
                        tracing::info!("referrers: signed {} ({digest})", r.whole());
                        made.push(referrer(s, &digest, "signature", d.id.as_deref()));
                    }
                    None => {
                        sign_cmd(ctx_ref, i, s)?;
                        tracing::info!("referrers: docker_signs[{i}] signed {}", r.whole());
                    }
                }
            }
            if s.index {
                continue;
            }
            for e in ctx_ref
                .config
                .sboms
                .iter()
                .filter(|e| !e.disable && e.artifacts.as_deref() == Some("image"))
            {
                if !e.ids.is_empty() && !e.ids.contains(&s.image_id) {
                    continue;
                }
                let format = e.format.clone().unwrap_or_else(|| "spdx".into());
                let Some(doc) = image_sbom(ctx_ref, s, &format, time)? else {
                    continue;
                };
                let artifact_type = if format == "cyclonedx" {
                    "application/vnd.cyclonedx+json"
                } else {
                    "application/spdx+json"
                };
                let digest =
                    rt.block_on(attach(&reg, &r, &desc, artifact_type, &doc, json!({})))?;
                tracing::info!("referrers: SBOM of {} ({digest})", r.whole());
                made.push(referrer(s, &digest, "sbom", e.id.as_deref()));
            }
        }
        for a in made {
            ctx.artifacts.add(a);
        }
        Ok(())
    }
}

fn referrer(s: &Subject, digest: &str, what: &str, id: Option<&str>) -> Artifact {
    let mut a = Artifact::new(Kind::Referrer, format!("{}@{digest}", s.repository), "");
    a.extra.insert(
        "subject".into(),
        format!("{}@{}", s.repository, s.digest).into(),
    );
    a.extra.insert("attaches".into(), what.into());
    a.extra.insert("id".into(), id.unwrap_or_default().into());
    a.extra.insert("digest".into(), digest.into());
    a
}
