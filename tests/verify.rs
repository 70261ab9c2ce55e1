//! `rel verify` end to end: a release built and published by `rel release` itself — to the
//! fake GitHub (every request checked against GitHub's OpenAPI description), a real OCI
//! registry (Debian's `docker-registry`), a Homebrew tap behind the contents API and an AUR
//! repository over git — is verified clean, then each fault made from the outside (an asset
//! replaced, an asset deleted, a stale formula, a re-pointed image tag) is reported by name
//! with exit 1, from `dist/` and from the tag alone.

mod common;
#[path = "support/mod.rs"]
mod support;
use common::*;
use serde_json::Value;
use std::path::Path;
use std::process::Command;
use support::fake_github::{Fake, Options, http_request};
use support::registry::Registry;

const PASS: &str = "correct horse";

fn config(fake: &Fake, registry: &str, aur: &Path) -> String {
    format!(
        r#"project_name: tool
release:
  github: {{owner: acme, name: demo}}
  github_urls: {{api: "{api}", uploads: "{uploads}"}}
builds:
  - builder: command
    targets: [darwin_arm64, linux_amd64_v1, linux_arm64]
    command: [sh, -c, "printf '#!/bin/sh\necho {{{{ target }}}}\n' > {{{{ output }}}} && chmod +x {{{{ output }}}}"]
archives:
  - formats: [tar.gz]
signs:
  - id: pgp
    signer: openpgp
    key_file: keys/pgp.asc
  - id: mini
    signer: minisign
    key_file: keys/mini.key
    artifacts: archive
  - id: sigstore
    signer: sigstore
    key_file: keys/ec.pem
images:
  - id: tool
    repository: "{registry}/acme/tool"
    tags: ["{{{{ version }}}}"]
brews:
  - description: A tool.
    repository: {{owner: acme, name: homebrew-tap, token: "{{{{ env.TAP_TOKEN }}}}"}}
aurs:
  - description: A tool.
    git_url: "file://{aur}"
"#,
        api = fake.api(),
        uploads = fake.uploads(),
        aur = aur.display()
    )
}

/// Signing keys in `dir/keys`: OpenPGP (gpg, with a passphrase), minisign (unencrypted) and
/// an encrypted ECDSA P-256 key for Sigstore bundles.
fn keys(dir: &Path) -> GpgKey {
    let k = dir.join("keys");
    std::fs::create_dir_all(&k).unwrap();
    let pgp = gpg_key("Rel Verify <verify@rel.example>", "ed25519", PASS);
    std::fs::write(k.join("pgp.asc"), &pgp.secret).unwrap();
    sh(Command::new("minisign")
        .args(["-G", "-W", "-p"])
        .arg(k.join("mini.pub"))
        .arg("-s")
        .arg(k.join("mini.key")));
    sh(Command::new("openssl")
        .args([
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-aes-256-cbc",
            "-pass",
        ])
        .arg(format!("pass:{PASS}"))
        .arg("-out")
        .arg(k.join("ec.pem")));
    pgp
}

fn env(c: &mut Command, dir: &Path) {
    c.env("GITHUB_TOKEN", "fake-token")
        .env("TAP_TOKEN", "tap-token")
        .env("REL_SIGN_PASSPHRASE", PASS)
        .env("DOCKER_CONFIG", dir.join(".no-docker-config"))
        .env_remove("REL_REGISTRY_USERNAME")
        .env_remove("REL_REGISTRY_PASSWORD")
        .env_remove("REL_REGISTRY_TOKEN");
}

fn verify(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let mut c = rel(dir);
    c.arg("verify").args(args);
    env(&mut c, dir);
    run(c)
}

/// `rel verify --json`: the exit code and the document.
fn verify_json(dir: &Path, args: &[&str]) -> (i32, Value, String) {
    let mut all = vec!["--json"];
    all.extend(args);
    let (code, out, err) = verify(dir, &all);
    let doc: Value =
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("not JSON ({e}): {out}\n{err}"));
    (code, doc, err)
}

/// The failed checks: (name, subject, detail).
fn failures(doc: &Value) -> Vec<(String, String, String)> {
    doc["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["ok"] == false)
        .map(|c| {
            (
                c["name"].as_str().unwrap().to_string(),
                c["subject"].as_str().unwrap().to_string(),
                c["detail"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn check<'a>(doc: &'a Value, name: &str, subject: &str) -> &'a Value {
    doc["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name && c["subject"] == subject)
        .unwrap_or_else(|| panic!("no {name} check of {subject}: {doc:#}"))
}

/// The release's id in the fake and the id of asset `name`.
fn asset_id(fake: &Fake, name: &str) -> (u64, u64) {
    let r = fake
        .releases()
        .into_iter()
        .find(|r| r.tag_name == "v1.0.0")
        .unwrap();
    let a = r.assets.iter().find(|a| a.name == name).unwrap().id;
    (r.id, a)
}

/// Delete asset `name` through the API, as a person with the token could.
fn delete_asset(fake: &Fake, name: &str) {
    let (_, id) = asset_id(fake, name);
    let (status, body) = http_request(
        "DELETE",
        &format!("{}/repos/acme/demo/releases/assets/{id}", fake.api()),
        &[("authorization", "Bearer fake-token")],
        b"",
    );
    assert_eq!(status, 204, "{}", String::from_utf8_lossy(&body));
}

/// Upload `bytes` as asset `name` through the uploads API.
fn upload_asset(fake: &Fake, name: &str, bytes: &[u8]) {
    let rel = fake
        .releases()
        .into_iter()
        .find(|r| r.tag_name == "v1.0.0")
        .unwrap();
    let (status, body) = http_request(
        "POST",
        &format!(
            "{}/repos/acme/demo/releases/{}/assets?name={name}",
            fake.uploads(),
            rel.id
        ),
        &[
            ("authorization", "Bearer fake-token"),
            ("content-type", "application/octet-stream"),
        ],
        bytes,
    );
    assert_eq!(status, 201, "{}", String::from_utf8_lossy(&body));
}

#[test]
fn a_published_release_verifies_and_every_outside_change_is_named() {
    let fake = Fake::start(Options::default());
    fake.add_tap("acme/homebrew-tap", "tap-token", true);
    let registry = Registry::start();
    let d = tempfile::tempdir().unwrap();
    let root = d.path();
    let aur = root.join("aur.git");
    git(
        root,
        &[
            "init",
            "-q",
            "--bare",
            "-b",
            "master",
            aur.to_str().unwrap(),
        ],
    );
    let dir = root.join("project");
    std::fs::create_dir_all(&dir).unwrap();
    let _pgp = keys(&dir);
    write(
        &dir,
        ".release.yaml",
        &config(&fake, &registry.host(), &aur),
    );
    write(&dir, ".gitignore", "dist/\n");
    init_repo(&dir);
    git(&dir, &["tag", "v1.0.0"]);
    let mut c = rel(&dir);
    c.args(["release", "--clean"]);
    env(&mut c, &dir);
    let (code, _, err) = run(c);
    assert_eq!(code, 0, "{err}");
    let archive = "tool_1.0.0_linux_amd64.tar.gz";
    let sums = "tool_1.0.0_checksums.txt";

    // Clean: every check passes, one line each.
    let (code, out, err) = verify(&dir, &[]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(
        out.starts_with("verify acme/demo v1.0.0 (against dist/artifacts.json)\n"),
        "{out}"
    );
    for line in [
        "ok    release    acme/demo v1.0.0: published at ",
        &format!("ok    asset      {archive}: sha256 "),
        &format!("ok    signature  {sums}.sig: openpgp of {sums} verifies with key "),
        &format!("ok    signature  {archive}.minisig: minisign of {archive} verifies with key "),
        &format!(
            "ok    signature  {sums}.sigstore.json: sigstore of {sums} verifies with key hint "
        ),
        &format!(
            "ok    image      {}/acme/tool:1.0.0: sha256:",
            registry.host()
        ),
        "ok    manifest   Formula/tool.rb in acme/homebrew-tap: brews[0]: names 1.0.0",
        "ok    manifest   PKGBUILD in file://",
        "ok    manifest   .SRCINFO in file://",
    ] {
        assert!(out.contains(line), "no `{line}` in:\n{out}");
    }
    assert!(
        out.contains(&format!("{archive}: sha256 "))
            && out.contains("matches artifacts.json and tool_1.0.0_checksums.txt"),
        "{out}"
    );
    assert!(out.contains("linux/amd64, linux/arm64"), "{out}");
    assert!(!out.contains("FAIL"), "{out}");
    assert!(!out.contains("fake-token") && !err.contains("fake-token"));

    // The JSON document: every check with name, subject, ok, checked and detail.
    let (code, doc, err) = verify_json(&dir, &[]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(doc["ok"], true);
    assert_eq!(doc["source"], "dist");
    assert_eq!(doc["tag"], "v1.0.0");
    assert_eq!(doc["repository"], "acme/demo");
    assert_eq!(doc["failed"], 0);
    let checks = doc["checks"].as_array().unwrap();
    for c in checks {
        let keys: Vec<&String> = c.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["checked", "detail", "name", "ok", "subject"], "{c}");
        assert_eq!(c["ok"], true, "{c}");
        assert_eq!(c["checked"], true, "{c}");
    }
    // Every uploadable artifact was downloaded and compared.
    let arts: Vec<Value> =
        serde_json::from_slice(&std::fs::read(dir.join("dist/artifacts.json")).unwrap()).unwrap();
    let uploadable = [
        "archive",
        "checksum",
        "signature",
        "uploadable_binary",
        "linux_package",
    ];
    let assets: Vec<&str> = arts
        .iter()
        .filter(|a| uploadable.contains(&a["kind"].as_str().unwrap()))
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert!(assets.len() >= 8, "{assets:?}");
    for a in &assets {
        assert!(check(&doc, "asset", a)["ok"] == true);
    }
    assert_eq!(doc["passed"].as_u64().unwrap() as usize, checks.len());

    // From the tag alone (no dist/): the release's checksum file is the record.
    std::fs::rename(dir.join("dist"), root.join("dist.kept")).unwrap();
    let (code, doc, err) = verify_json(&dir, &["--tag", "v1.0.0"]);
    assert_eq!(code, 0, "{doc:#}\n{err}");
    assert_eq!(doc["source"], "tag");
    assert!(
        check(&doc, "asset", archive)["detail"]
            .as_str()
            .unwrap()
            .ends_with(&format!("matches {sums}")),
        "{doc:#}"
    );
    assert!(
        check(&doc, "signature", &format!("{sums}.sig"))["detail"]
            .as_str()
            .unwrap()
            .contains("verifies"),
        "{doc:#}"
    );
    let image = check(&doc, "image", "v1.0.0");
    assert_eq!(image["checked"], false, "{image}");
    // Without --tag, HEAD's tag is the release's.
    let (code, out, err) = verify(&dir, &[]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(
        out.starts_with("verify acme/demo v1.0.0 (from the tag alone"),
        "{out}"
    );

    // An asset replaced by other bytes (deleted and uploaded again): named, from the tag too.
    let original = fake.download("v1.0.0", archive);
    delete_asset(&fake, archive);
    upload_asset(&fake, archive, b"not the archive");
    let (code, doc, _) = verify_json(&dir, &["--tag", "v1.0.0"]);
    assert_eq!(code, 1);
    let f = failures(&doc);
    let asset = f
        .iter()
        .find(|(n, s, _)| n == "asset" && s == archive)
        .unwrap_or_else(|| panic!("{f:?}"));
    assert!(asset.2.contains(&format!("{sums} lists sha256")), "{f:?}");
    assert!(
        f.iter()
            .any(|(n, s, _)| n == "signature" && *s == format!("{archive}.minisig")),
        "{f:?}"
    );
    // The formula and the AUR package carry the archive's sha256, which is no asset's now;
    // nothing else is affected.
    for (n, s, d) in &f {
        assert!(
            s.starts_with(archive) || (n == "manifest" && d.contains("sha256(s) are no asset's")),
            "{f:?}"
        );
    }
    assert_eq!(f.len(), 5, "{f:?}");
    std::fs::rename(root.join("dist.kept"), dir.join("dist")).unwrap();
    let (code, out, err) = verify(&dir, &[]);
    assert_eq!(code, 1, "{out}");
    let line = out
        .lines()
        .find(|l| l.starts_with("FAIL") && l.contains(archive))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(
        line.contains("artifacts.json records") && line.contains("15 bytes"),
        "{line}"
    );
    // The minisign signature of that archive no longer verifies either.
    assert!(
        out.contains(&format!(
            "FAIL  signature  {archive}.minisig: minisign of {archive} does not verify"
        )),
        "{out}"
    );
    assert!(
        err.contains("does not match what was released") && err.contains(archive),
        "{err}"
    );
    delete_asset(&fake, archive);
    upload_asset(&fake, archive, &original);
    let (code, out, _) = verify(&dir, &[]);
    assert_eq!(code, 0, "{out}");

    // A missing asset.
    let gone = "tool_1.0.0_darwin_arm64.tar.gz";
    let kept = fake.download("v1.0.0", gone);
    delete_asset(&fake, gone);
    let (code, doc, _) = verify_json(&dir, &[]);
    assert_eq!(code, 1);
    let f = failures(&doc);
    assert!(
        f.iter()
            .any(|(n, s, d)| n == "asset" && s == gone && d.contains("missing from the release")),
        "{f:?}"
    );
    // The formula points at it; the AUR package (linux only) does not.
    assert!(
        f.iter().any(|(n, s, d)| n == "manifest"
            && s == "Formula/tool.rb in acme/homebrew-tap"
            && d.contains(&format!("/v1.0.0/{gone} (no such asset)"))),
        "{f:?}"
    );
    assert!(
        f.iter().all(|(n, s, _)| s == gone
            || s == "acme/demo v1.0.0"
            || n == "manifest" && s.starts_with("Formula/")),
        "{f:?}"
    );
    upload_asset(&fake, gone, &kept);

    // A stale formula: the tap's file is another version's.
    let formula = fake.tap("acme/homebrew-tap").files["Formula/tool.rb"].clone();
    let old = String::from_utf8(formula.clone())
        .unwrap()
        .replace("1.0.0", "0.9.0");
    fake.tap_write("acme/homebrew-tap", "Formula/tool.rb", old.as_bytes());
    let (code, doc, _) = verify_json(&dir, &[]);
    assert_eq!(code, 1);
    let f = failures(&doc);
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(f[0].0, "manifest");
    assert_eq!(f[0].1, "Formula/tool.rb in acme/homebrew-tap");
    assert!(
        f[0].2.contains("names version 0.9.0, the release is 1.0.0")
            && f[0].2.contains("name no asset of v1.0.0"),
        "{f:?}"
    );
    fake.tap_write("acme/homebrew-tap", "Formula/tool.rb", &formula);
    let (code, _, _) = verify(&dir, &[]);
    assert_eq!(code, 0);

    // The image tag re-pointed to something else: named with both digests.
    let recorded = arts.iter().find(|a| a["kind"] == "image_index").unwrap()["extra"]["digest"]
        .as_str()
        .unwrap()
        .to_string();
    let arm = arts
        .iter()
        .find(|a| a["kind"] == "image" && a["arch"] == "arm64")
        .unwrap()["extra"]["digest"]
        .as_str()
        .unwrap()
        .to_string();
    let host = registry.host();
    registry.skopeo(&[
        "copy",
        "--src-tls-verify=false",
        "--dest-tls-verify=false",
        &format!("docker://{host}/acme/tool@{arm}"),
        &format!("docker://{host}/acme/tool:1.0.0"),
    ]);
    let (code, doc, _) = verify_json(&dir, &[]);
    assert_eq!(code, 1);
    let f = failures(&doc);
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(f[0].0, "image");
    assert_eq!(f[0].1, format!("{host}/acme/tool:1.0.0"));
    assert!(
        f[0].2.contains(&format!(
            "re-pointed: the tag resolves to {arm}, the release pushed {recorded}"
        )),
        "{f:?}"
    );
    assert!(fake.violations().is_empty(), "{:?}", fake.violations());
}

#[test]
fn bad_input_is_exit_2_before_any_request() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    // No config.
    let (code, _, err) = rel_run(dir, &["verify", "--tag", "v1.0.0"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("config") || err.contains(".release.yaml"),
        "{err}"
    );
    // A config, a release's metadata.json, and an artifacts.json that does not parse.
    write(
        dir,
        ".release.yaml",
        "project_name: tool\nrelease:\n  github: {owner: acme, name: demo}\nbuilds:\n  - builder: command\n    targets: [linux_amd64_v1]\n    command: [sh, -c, \"true\"]\n",
    );
    write(dir, ".gitignore", "dist/\n");
    init_repo(dir);
    // No tag given, none in dist/, none on HEAD.
    let mut c = rel(dir);
    c.args(["verify"]).env("GITHUB_TOKEN", "t");
    let (code, _, err) = run(c);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--tag"), "{err}");
    write(
        dir,
        "dist/metadata.json",
        r#"{"tag": "v1.0.0", "version": "1.0.0", "snapshot": false}"#,
    );
    write(dir, "dist/artifacts.json", "[{");
    let mut c = rel(dir);
    c.args(["verify"]).env("GITHUB_TOKEN", "t");
    let (code, _, err) = run(c);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("artifacts.json"), "{err}");
    // A readable record but no token.
    write(dir, "dist/artifacts.json", "[]");
    let (code, _, err) = rel_run(dir, &["verify"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("GITHUB_TOKEN"), "{err}");
}
