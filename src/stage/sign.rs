//! The sign stage: signatures of release assets (GoReleaser's `signs`), made in-process by a
//! native signer — OpenPGP (rPGP), minisign, or a keyed Sigstore bundle — or by a command
//! (`gpg` by default, or e.g. `cosign`) as GoReleaser runs it.
//!
//! It runs after checksums (the default subject is the checksum file, as GoReleaser's docs
//! advise). Native keys are loaded and test-sign while planning, and signature names are
//! claimed then, so a bad key, a missing command or a colliding name stops the release before
//! any build. Signatures are `signature` artifacts: uploaded, listed, in `--dry-run`.

use super::Stage;
use crate::artifact::{Artifact, Kind};
use crate::config::Sign;
use crate::config::validate::Checker;
use crate::context::{Context, reproducible_time};
use crate::error::{Error, Result};
use crate::keys::{self, openpgp, sigstore};
use crate::plan::{Plan, PlannedSignature};
use minijinja::Value;
use std::path::Path;

/// The sign stage.
pub struct SignStage;

const WHAT: &[&str] = &[
    "checksum", "all", "archive", "binary", "package", "sbom", "source", "none",
];
const SIGNERS: &[&str] = &["openpgp", "minisign", "sigstore"];

/// A native signer, loaded.
enum Signer {
    OpenPgp(Box<openpgp::Key>, bool),
    Minisign(Box<keys::minisign::Key>),
    Sigstore(Box<sigstore::Key>),
}

/// The passphrase variables of signs entry `id`.
pub fn passphrase_vars(id: &str) -> Vec<String> {
    vec![
        format!("REL_{}_SIGN_PASSPHRASE", keys::env_part(id)),
        "REL_SIGN_PASSPHRASE".into(),
    ]
}

fn signer(ctx: &Context, i: usize) -> Result<Option<Signer>> {
    let s = &ctx.config.signs[i];
    let Some(kind) = &s.signer else {
        return Ok(None);
    };
    let at = format!("signs[{i}].key_file");
    let file = s.key_file.as_deref().ok_or_else(|| {
        Error::Config(format!("`signs[{i}]`: `signer: {kind}` needs a `key_file`"))
    })?;
    let value = ctx.render(&at, file)?;
    let (bytes, origin) = keys::read(&ctx.root, &at, &value)?;
    let pass = keys::passphrase(&passphrase_vars(s.id.as_deref().unwrap_or_default()));
    Ok(Some(match kind.as_str() {
        "minisign" => Signer::Minisign(Box::new(keys::minisign::Key::load(&bytes, &pass, origin)?)),
        "sigstore" => {
            let k = sigstore::Key::load(&bytes, &pass, origin.clone())?;
            if k.is_ed25519() {
                return Err(Error::Config(format!(
                    "{origin}: is an Ed25519 key; Sigstore blob signatures need an ECDSA P-256 key (Sigstore's verifiers check Ed25519 only in DSSE envelopes, such as `provenance`)"
                )));
            }
            k.message_bundle(b"rel")?;
            Signer::Sigstore(Box::new(k))
        }
        _ => Signer::OpenPgp(Box::new(openpgp::Key::load(&bytes, pass, origin)?), s.armor),
    }))
}

/// The default signature name of an entry: beside the artifact's name, with the target for
/// binaries (every target's binary has the same name).
fn default_signature(s: &Sign) -> String {
    let ext = match (s.signer.as_deref(), s.armor) {
        (Some("minisign"), _) => "minisig",
        (Some("sigstore"), _) => "sigstore.json",
        (_, true) => "asc",
        _ => "sig",
    };
    if s.artifacts.as_deref() == Some("binary") {
        format!("{{{{ artifact }}}}_{{{{ target }}}}.{ext}")
    } else {
        format!("{{{{ artifact }}}}.{ext}")
    }
}

/// Whether an artifact of `kind` is a subject of `what`.
fn covers(what: &str, kind: Kind) -> bool {
    match what {
        "checksum" => kind == Kind::Checksum,
        "archive" => matches!(kind, Kind::Archive | Kind::UploadableBinary),
        "binary" => kind == Kind::Binary,
        "package" => kind == Kind::LinuxPackage,
        "sbom" => kind == Kind::Sbom,
        "source" => kind == Kind::SourceArchive,
        "all" => kind.uploadable() && kind != Kind::Signature,
        _ => false,
    }
}

/// The planned artifacts `what` covers: (name, id, target vars).
fn planned_subjects(
    ctx: &Context,
    plan: &Plan,
    s: &Sign,
) -> Vec<(String, String, crate::template::Vars)> {
    let what = s.artifacts.as_deref().unwrap_or("checksum");
    let wanted = |id: &str| s.ids.is_empty() || s.ids.iter().any(|x| x == id);
    let mut out = vec![];
    if matches!(what, "checksum" | "all")
        && let Some(c) = &plan.checksum
    {
        out.push((c.name.clone(), String::new(), ctx.vars.clone()));
    }
    if matches!(what, "archive" | "all") {
        for a in plan.archives.iter().filter(|a| wanted(&a.id)) {
            out.push((
                a.name.clone(),
                a.id.clone(),
                crate::plan::target_vars(&ctx.vars, &a.target),
            ));
        }
    }
    if matches!(what, "package" | "all") {
        for p in plan.packages.iter().filter(|p| wanted(&p.id)) {
            out.push((
                p.name.clone(),
                p.id.clone(),
                crate::plan::target_vars(&ctx.vars, &p.target),
            ));
        }
    }
    if matches!(what, "sbom" | "all") {
        for p in plan.sboms.iter().filter(|p| wanted(&p.id)) {
            out.push((p.name.clone(), p.id.clone(), ctx.vars.clone()));
        }
    }
    if what == "binary" {
        for b in plan.builds.iter().filter(|b| wanted(&b.id)) {
            out.push((b.binary.clone(), b.id.clone(), b.vars.clone()));
        }
    }
    out
}

fn signature_name(
    ctx: &Context,
    i: usize,
    subject: &str,
    id: &str,
    mut vars: crate::template::Vars,
) -> Result<String> {
    let s = &ctx.config.signs[i];
    let template = s
        .signature
        .clone()
        .unwrap_or_else(|| default_signature(s).to_string());
    vars.insert("artifact".into(), Value::from(subject.to_string()));
    vars.insert("artifact_id".into(), Value::from(id.to_string()));
    let name = ctx
        .templates
        .render(&format!("signs[{i}].signature"), &template, &vars)?;
    let name = name.replace("${artifact}", subject);
    let name = name.rsplit('/').next().unwrap_or(&name).to_string();
    if name.is_empty() || name.starts_with('.') || name == subject {
        return Err(Error::Config(format!(
            "`signs[{i}].signature` gives `{name}` for {subject}, which is no new file name"
        )));
    }
    Ok(name)
}

impl Stage for SignStage {
    fn name(&self) -> &'static str {
        "sign"
    }

    fn skip(&self, ctx: &Context) -> Option<String> {
        if ctx
            .config
            .signs
            .iter()
            .all(|s| s.artifacts.as_deref() == Some("none"))
        {
            return Some("no signs configured".into());
        }
        super::skipped_by_flag(ctx, "sign")
    }

    fn defaults(&self, config: &mut crate::config::Config, _d: &super::Defaults) {
        super::fill_ids(&mut config.signs, |s| &mut s.id);
    }

    fn check(&self, c: &mut Checker) {
        let config = c.config;
        for (i, s) in config.signs.iter().enumerate() {
            let at = |k: &str| vec!["signs".into(), i.into(), k.into()];
            if let Some(crate::config::BoolOrTemplate::Template(t)) = &s.output {
                c.template(at("output"), t, &crate::config::validate::globals());
            }
            if let Some(w) = &s.artifacts
                && !WHAT.contains(&w.as_str())
            {
                let hint = format!("use one of: {}", WHAT.join(", "));
                c.push(
                    at("artifacts"),
                    format!("`artifacts: {w}` is not one rel signs"),
                    Some(hint),
                );
            }
            match &s.signer {
                Some(k) if !SIGNERS.contains(&k.as_str()) => c.push(
                    at("signer"),
                    format!("unknown signer `{k}`"),
                    Some(format!("use one of: {} (or `cmd`)", SIGNERS.join(", "))),
                ),
                Some(_) => {
                    if s.cmd.is_some() {
                        c.push(
                            at("cmd"),
                            "`cmd` and `signer` exclude each other".to_string(),
                            Some("remove one".into()),
                        );
                    }
                    if s.key_file.is_none() {
                        c.push(
                            at("key_file"),
                            format!(
                                "`signer: {}` needs a `key_file`",
                                s.signer.as_deref().unwrap_or_default()
                            ),
                            None,
                        );
                    }
                }
                None => {
                    if s.key_file.is_some() {
                        c.push(
                            at("key_file"),
                            "`key_file` is for native signers".to_string(),
                            Some("add `signer: openpgp`, `minisign` or `sigstore`".into()),
                        );
                    }
                }
            }
            let mut known = crate::config::validate::per_target();
            known.extend(["artifact", "artifact_id", "signature", "certificate"]);
            if let Some(t) = &s.signature {
                c.template(at("signature"), t, &known);
            }
            if let Some(t) = &s.key_file {
                c.template(at("key_file"), t, &crate::config::validate::globals());
            }
        }
    }

    fn plan(&self, ctx: &Context, plan: &mut Plan) -> Result<()> {
        let mut out = vec![];
        for (i, s) in ctx.config.signs.iter().enumerate() {
            if s.artifacts.as_deref() == Some("none") {
                continue;
            }
            signer(ctx, i)?;
            if s.signer.is_none() {
                let cmd = ctx.render(
                    &format!("signs[{i}].cmd"),
                    s.cmd.as_deref().unwrap_or("gpg"),
                )?;
                super::on_path(&crate::exec::split(&cmd)?[0], &format!("signs[{i}].cmd"))?;
            }
            for (subject, id, vars) in planned_subjects(ctx, plan, s) {
                let name = signature_name(ctx, i, &subject, &id, vars)?;
                plan.claim(
                    &name,
                    &format!("the signature of {subject}"),
                    &format!(
                        "make `signs[{i}].signature` tell them apart (e.g. with {{{{ artifact }}}})"
                    ),
                )?;
                out.push(PlannedSignature {
                    index: i,
                    id: s.id.clone().unwrap_or_default(),
                    subject,
                    path: ctx.dist.join(&name),
                    name,
                });
            }
        }
        plan.signatures = out;
        Ok(())
    }

    fn run(&self, ctx: &Context) -> Result<()> {
        let time = reproducible_time(&ctx.git)?;
        let mut made = vec![];
        for (i, s) in ctx.config.signs.iter().enumerate() {
            let what = s.artifacts.as_deref().unwrap_or("checksum");
            if what == "none" {
                continue;
            }
            let native = signer(ctx, i)?;
            let wanted = |a: &Artifact| {
                s.ids.is_empty()
                    || a.build_id.as_ref().is_some_and(|b| s.ids.contains(b))
                    || a.extra
                        .get("id")
                        .and_then(|v| v.as_str())
                        .is_some_and(|x| s.ids.iter().any(|y| y == x))
            };
            let subjects: Vec<Artifact> = ctx
                .artifacts
                .all()
                .into_iter()
                .filter(|a| covers(what, a.kind) && (a.kind == Kind::Checksum || wanted(a)))
                .collect();
            for a in subjects {
                let name = match ctx
                    .plan
                    .signatures
                    .iter()
                    .find(|p| p.index == i && p.subject == a.name)
                {
                    Some(p) => p.name.clone(),
                    None => {
                        let vars = ctx.vars.clone();
                        let n = signature_name(
                            ctx,
                            i,
                            &a.name,
                            a.build_id.as_deref().unwrap_or(""),
                            vars,
                        )?;
                        if ctx.artifacts.all().iter().any(|x| x.name == n) {
                            return Err(Error::Failed(format!(
                                "signs[{i}]: the signature of {} would overwrite {n}",
                                a.name
                            )));
                        }
                        n
                    }
                };
                let path = ctx.dist.join(&name);
                let file = ctx.root.join(&a.path);
                match &native {
                    Some(n) => sign_native(n, &file, &a.name, &path, time)?,
                    None => sign_cmd(ctx, i, &a, &file, &path)?,
                }
                let (sha, size) = crate::hash::sha256_file(&path)?;
                let mut sig = Artifact::new(Kind::Signature, name, ctx.rel_path(&path));
                sig.size = Some(size);
                sig.sha256 = Some(sha);
                sig.build_id = a.build_id.clone();
                sig.target = a.target.clone();
                sig.extra
                    .insert("id".into(), s.id.clone().unwrap_or_default().into());
                sig.extra.insert("signs".into(), a.name.clone().into());
                sig.extra.insert(
                    "signer".into(),
                    s.signer.clone().unwrap_or_else(|| "cmd".into()).into(),
                );
                tracing::info!("sign: {} ({})", sig.name, a.name);
                made.push(sig);
            }
        }
        for a in made {
            ctx.artifacts.add(a);
        }
        Ok(())
    }
}

fn sign_native(n: &Signer, file: &Path, name: &str, out: &Path, time: i64) -> Result<()> {
    let bytes: Vec<u8> = match n {
        Signer::OpenPgp(k, armor) => {
            let f = std::fs::File::open(file).map_err(|e| Error::io("cannot read", file, e))?;
            let r = std::io::BufReader::new(f);
            if *armor {
                k.armored(r, time)?.into_bytes()
            } else {
                k.detached(r, time)?
            }
        }
        Signer::Minisign(k) => {
            let f = std::fs::File::open(file).map_err(|e| Error::io("cannot read", file, e))?;
            k.sign(std::io::BufReader::new(f), name, time)?.into_bytes()
        }
        Signer::Sigstore(k) => {
            let data = std::fs::read(file).map_err(|e| Error::io("cannot read", file, e))?;
            let mut v = serde_json::to_vec(&k.message_bundle(&data)?)
                .map_err(|e| Error::Failed(format!("cannot write a bundle: {e}")))?;
            v.push(b'\n');
            v
        }
    };
    crate::dist::write_atomic(out, &bytes)
}

/// GoReleaser's command mode: `cmd args…` with `${artifact}`, `${signature}`,
/// `${certificate}` and `${artifact_id}` expanded, run in `dist/`.
fn sign_cmd(ctx: &Context, i: usize, a: &Artifact, file: &Path, out: &Path) -> Result<()> {
    let s = &ctx.config.signs[i];
    let cert = match &s.certificate {
        Some(t) => {
            let mut vars = ctx.vars.clone();
            vars.insert("artifact".into(), Value::from(a.name.clone()));
            Some(
                ctx.dist.join(ctx.templates.render(
                    &format!("signs[{i}].certificate"),
                    t,
                    &vars,
                )?),
            )
        }
        None => None,
    };
    let expand = |t: &str| -> Result<String> {
        let mut vars = ctx.vars.clone();
        vars.insert("artifact".into(), Value::from(file.display().to_string()));
        vars.insert("signature".into(), Value::from(out.display().to_string()));
        vars.insert(
            "artifact_id".into(),
            Value::from(a.build_id.clone().unwrap_or_default()),
        );
        vars.insert(
            "certificate".into(),
            Value::from(
                cert.as_ref()
                    .map(|c| c.display().to_string())
                    .unwrap_or_default(),
            ),
        );
        let r = ctx
            .templates
            .render(&format!("signs[{i}].args"), t, &vars)?;
        let cert_s = cert
            .as_ref()
            .map(|c| c.display().to_string())
            .unwrap_or_default();
        Ok(r.replace("${artifact}", &file.display().to_string())
            .replace("${signature}", &out.display().to_string())
            .replace("${certificate}", &cert_s)
            .replace("${artifact_id}", a.build_id.as_deref().unwrap_or("")))
    };
    let cmd = expand(s.cmd.as_deref().unwrap_or("gpg"))?;
    let mut argv = crate::exec::split(&cmd)?;
    let args: Vec<String> = if s.args.is_empty() && s.cmd.is_none() {
        vec![
            "--output".into(),
            "${signature}".into(),
            "--detach-sign".into(),
            "${artifact}".into(),
        ]
    } else {
        s.args.clone()
    };
    for x in &args {
        argv.push(expand(x)?);
    }
    let mut env: Vec<(String, String)> = ctx.env.clone().into_iter().collect();
    for e in &s.env {
        if let Some((k, v)) = expand(e)?.split_once('=') {
            env.push((k.into(), v.into()));
        }
    }
    let mut stdin_tmp = None;
    let stdin = match (&s.stdin, &s.stdin_file) {
        (Some(t), _) => {
            let text = expand(t)?;
            let tmp = tempfile::NamedTempFile::new().map_err(|e| Error::Failed(e.to_string()))?;
            std::fs::write(tmp.path(), text).map_err(|e| Error::Failed(e.to_string()))?;
            let p = tmp.path().to_path_buf();
            stdin_tmp = Some(tmp);
            Some(p)
        }
        (None, Some(f)) => Some(ctx.root.join(f)),
        _ => None,
    };
    let _ = std::fs::remove_file(out);
    let inv = crate::exec::Invocation {
        stdin,
        argv,
        env,
        dir: ctx.dist.clone(),
    };
    let output = crate::exec::run(
        &format!("signs[{i}]"),
        &inv,
        &std::sync::atomic::AtomicBool::new(false),
        ctx.options.deadline,
    )?;
    drop(stdin_tmp);
    if ctx.truthy(&format!("signs[{i}].output"), s.output.as_ref())? && !output.trim().is_empty() {
        tracing::info!("signs[{i}]: {}", crate::redact::redact(output.trim_end()));
    }
    if !out.is_file() {
        return Err(Error::Failed(format!(
            "signs[{i}]: `{}` did not write {}",
            inv.display(),
            ctx.rel_path(out)
        )));
    }
    Ok(())
}

#[cfg(test)]
mod covers_tests {
    use super::*;

    #[test]
    fn source_signs_the_source_archives_only() {
        assert!(covers("source", Kind::SourceArchive));
        assert!(!covers("source", Kind::Archive));
        assert!(covers("all", Kind::SourceArchive));
        assert!(!covers("archive", Kind::SourceArchive));
    }
}
