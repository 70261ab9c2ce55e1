//! Signatures (`signs`) and provenance (`provenance`): OpenPGP signatures checked by `gpgv`
//! and `sqv`, minisign signatures by `minisign -V`, Sigstore bundles (blob and DSSE) by
//! `@sigstore/verify` offline with the public key; a command signer (`gpg`) as GoReleaser
//! runs it; every signature reproducible; bad keys, passphrases, commands and names stopped
//! before anything is built.

mod common;
use common::*;
use std::path::{Path, PathBuf};
use std::process::Command;

const PASS: &str = "sign me please";

fn sigstore_modules() -> PathBuf {
    let p = std::env::var("REL_TEST_SIGSTORE")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join(".tools/sigstore/node_modules")
        });
    assert!(
        p.join("@sigstore/verify").is_dir(),
        "@sigstore/verify is missing: run scripts/test.sh"
    );
    p
}

/// `node sigstore-verify.js …`: (verified, output).
fn sigstore_verify(bundle: &Path, artifact: Option<&Path>, key: &Path) -> (bool, String) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/sigstore-verify.js");
    let o = Command::new("node")
        .arg(script)
        .arg(sigstore_modules())
        .arg(bundle)
        .arg(
            artifact
                .map(|a| a.to_path_buf())
                .unwrap_or_else(|| "-".into()),
        )
        .arg(key)
        .output()
        .unwrap();
    (o.status.success(), output_text(&o))
}

struct Keys {
    dir: tempfile::TempDir,
    pgp: GpgKey,
}

impl Keys {
    fn new() -> Keys {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let pgp = gpg_key("Rel Sign <sign@rel.example>", "ed25519", PASS);
        std::fs::write(d.join("pgp.asc"), &pgp.secret).unwrap();
        std::fs::copy(&pgp.public, d.join("pgp.pub")).unwrap();
        sh(Command::new("minisign")
            .args(["-G", "-W", "-p"])
            .arg(d.join("mini.pub"))
            .arg("-s")
            .arg(d.join("mini.key")));
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
            .arg(d.join("ec.pem")));
        sh(Command::new("openssl")
            .args(["pkey", "-passin"])
            .arg(format!("pass:{PASS}"))
            .arg("-in")
            .arg(d.join("ec.pem"))
            .arg("-pubout")
            .arg("-out")
            .arg(d.join("ec.pub")));
        sh(Command::new("openssl")
            .args(["genpkey", "-algorithm", "ED25519", "-out"])
            .arg(d.join("ed.pem")));
        sh(Command::new("openssl")
            .args(["pkey", "-pubout", "-in"])
            .arg(d.join("ed.pem"))
            .arg("-out")
            .arg(d.join("ed.pub")));
        Keys { dir, pgp }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn gnupg(&self) -> PathBuf {
        self.pgp.home.path().to_path_buf()
    }

    /// Copy the secret keys into the project's `keys/` folder.
    fn install(&self, project: &Path) {
        for f in ["pgp.asc", "mini.key", "ec.pem", "ed.pem"] {
            let to = project.join("keys").join(f);
            std::fs::create_dir_all(to.parent().unwrap()).unwrap();
            std::fs::copy(self.path(f), to).unwrap();
        }
    }
}

const CONFIG: &str = r#"project_name: tool
builds:
  - builder: command
    targets: [linux_amd64_v1, linux_arm64]
    command: [sh, -c, "printf '#!/bin/sh\\necho tool\\n' > {{ output }}"]
archives:
  - formats: [tar.gz]
signs:
  - id: pgp
    signer: openpgp
    key_file: keys/pgp.asc
  - id: armored
    signer: openpgp
    key_file: keys/pgp.asc
    armor: true
    artifacts: archive
  - id: mini
    signer: minisign
    key_file: keys/mini.key
    artifacts: archive
  - id: sigstore
    signer: sigstore
    key_file: keys/ec.pem
    artifacts: all
provenance:
  key_file: keys/ed.pem
"#;

fn release(dir: &Path, args: &[&str], pass: &str) -> (i32, String, String) {
    let mut c = rel(dir);
    c.args(args).env("REL_SIGN_PASSPHRASE", pass);
    run(c)
}

fn project(dir: &Path, k: &Keys, cfg: &str) {
    write(dir, ".release.yaml", cfg);
    write(dir, ".gitignore", "dist/\n");
    k.install(dir);
    init_repo(dir);
}

fn find(dist: &Path, suffix: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dist)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(suffix))
        .collect();
    v.sort();
    v
}

#[test]
fn native_signatures_verify_with_the_standard_verifiers() {
    let k = Keys::new();
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    project(dir, &k, CONFIG);
    let (code, out, err) = release(dir, &["release", "--snapshot", "--dry-run"], PASS);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("checksums.txt.sig (openpgp, of "), "{out}");
    assert!(
        out.contains("provenance: dist/tool_0.0.0-SNAPSHOT-"),
        "{out}"
    );
    let (code, out, err) = release(dir, &["release", "--snapshot", "--clean"], PASS);
    assert_eq!(code, 0, "{err}");
    assert!(
        !format!("{out}{err}").contains(PASS),
        "the passphrase is printed"
    );
    let dist = dir.join("dist");
    let sums = find(&dist, "checksums.txt").remove(0);
    let archives = find(&dist, ".tar.gz");
    assert_eq!(archives.len(), 2);

    // OpenPGP: gpgv and sqv against the public key; one flipped byte fails.
    let sig = find(&dist, "checksums.txt.sig").remove(0);
    let gpgv = |file: &Path| {
        Command::new("gpgv")
            .arg("--keyring")
            .arg(k.path("pgp.pub"))
            .arg(&sig)
            .arg(file)
            .output()
            .unwrap()
    };
    let o = gpgv(&sums);
    assert!(o.status.success(), "{}", output_text(&o));
    let o = Command::new("sqv")
        .arg("--keyring")
        .arg(k.path("pgp.pub"))
        .arg(&sig)
        .arg(&sums)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", output_text(&o));
    let mut bytes = std::fs::read(&sums).unwrap();
    bytes[3] ^= 1;
    let tampered = d.path().join("tampered");
    std::fs::write(&tampered, &bytes).unwrap();
    assert!(!gpgv(&tampered).status.success());
    for a in &archives {
        let asc = PathBuf::from(format!("{}.asc", a.display()));
        assert!(
            std::fs::read_to_string(&asc)
                .unwrap()
                .starts_with("-----BEGIN PGP SIGNATURE-----")
        );
        let o = Command::new("gpgv")
            .arg("--keyring")
            .arg(k.path("pgp.pub"))
            .arg(&asc)
            .arg(a)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", output_text(&o));
    }

    // minisign.
    for a in &archives {
        let o = Command::new("minisign")
            .arg("-Vm")
            .arg(a)
            .arg("-p")
            .arg(k.path("mini.pub"))
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", output_text(&o));
        assert!(output_text(&o).contains(&format!(
            "file:{}",
            a.file_name().unwrap().to_string_lossy()
        )));
    }
    let o = Command::new("minisign")
        .arg("-Vm")
        .arg(&tampered)
        .arg("-x")
        .arg(PathBuf::from(format!("{}.minisig", archives[0].display())))
        .arg("-p")
        .arg(k.path("mini.pub"))
        .output()
        .unwrap();
    assert!(!o.status.success());

    // Sigstore blob bundles of every asset, checked by Sigstore's verifier.
    let bundles = find(&dist, ".sigstore.json");
    assert_eq!(bundles.len(), 3, "{bundles:?}");
    for b in &bundles {
        let artifact = PathBuf::from(b.to_string_lossy().trim_end_matches(".sigstore.json"));
        let (ok, said) = sigstore_verify(b, Some(&artifact), &k.path("ec.pub"));
        assert!(ok, "{b:?}: {said}");
    }
    let (ok, _) = sigstore_verify(&bundles[0], Some(&tampered), &k.path("ec.pub"));
    assert!(!ok, "a tampered artifact verifies");
    let (ok, _) = sigstore_verify(&bundles[0], Some(&archives[0]), &k.path("ed.pub"));
    assert!(!ok, "another key verifies");

    // Provenance: a DSSE bundle whose in-toto statement names every asset with its digest.
    let prov = find(&dist, ".intoto.jsonl").remove(0);
    let (ok, payload) = sigstore_verify(&prov, None, &k.path("ed.pub"));
    assert!(ok, "{payload}");
    let statement: serde_json::Value = serde_json::from_str(&payload).unwrap();
    assert_eq!(statement["_type"], "https://in-toto.io/Statement/v1");
    assert_eq!(statement["predicateType"], "https://slsa.dev/provenance/v1");
    let commit = git(dir, &["rev-parse", "HEAD"]);
    assert_eq!(
        statement["predicate"]["buildDefinition"]["resolvedDependencies"][0]["digest"]["gitCommit"],
        commit.as_str()
    );
    let subjects = statement["subject"].as_array().unwrap();
    for a in archives.iter().chain([&sums, &sig]) {
        let name = a.file_name().unwrap().to_string_lossy().into_owned();
        let sha = sh(Command::new("sha256sum").arg(a));
        let sha = sha.split_whitespace().next().unwrap();
        assert!(
            subjects
                .iter()
                .any(|s| s["name"] == name.as_str() && s["digest"]["sha256"] == sha),
            "{name} is not a subject: {subjects:?}"
        );
    }
    let mut tampered_prov: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&prov).unwrap()).unwrap();
    tampered_prov["dsseEnvelope"]["payload"] =
        serde_json::Value::from(base64_of(&payload.replace("in-toto.io", "in-tot0.io")));
    let bad = d.path().join("bad.intoto.jsonl");
    std::fs::write(&bad, serde_json::to_vec(&tampered_prov).unwrap()).unwrap();
    assert!(!sigstore_verify(&bad, None, &k.path("ed.pub")).0);

    // Every signature reproduces.
    let all: Vec<PathBuf> = [
        ".sig",
        ".asc",
        ".minisig",
        ".sigstore.json",
        ".intoto.jsonl",
    ]
    .iter()
    .flat_map(|s| find(&dist, s))
    .collect();
    let before: Vec<Vec<u8>> = all.iter().map(|p| std::fs::read(p).unwrap()).collect();
    let (code, _, err) = release(dir, &["release", "--snapshot", "--clean"], PASS);
    assert_eq!(code, 0, "{err}");
    for (p, b) in all.iter().zip(before) {
        assert_eq!(std::fs::read(p).unwrap(), b, "{p:?} differs");
    }
}

fn base64_of(s: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(s.as_bytes())
}

#[test]
fn a_command_signer_runs_like_goreleasers() {
    let k = Keys::new();
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    let cfg = format!(
        r#"project_name: tool
builds:
  - builder: command
    targets: [linux_amd64_v1]
    command: [sh, -c, "echo tool > {{{{ output }}}}"]
signs:
  - artifacts: checksum
    args: ["--batch", "--verbose", "--pinentry-mode", "loopback", "--passphrase-fd", "0", "--output", "${{signature}}", "--detach-sign", "${{artifact}}"]
    stdin: "{{{{ env.GPG_PASS }}}}"
    env: ["GNUPGHOME={}"]
    output: "{{{{ env.SHOW_SIGN is defined }}}}"
"#,
        k.gnupg().display()
    );
    project(dir, &k, &cfg);
    // `output` is a template: shown when the environment asks for it.
    for show in [false, true] {
        let mut c = rel(dir);
        c.args(["release", "--snapshot", "--clean"])
            .env("GPG_PASS", PASS);
        if show {
            c.env("SHOW_SIGN", "1");
        }
        let (code, out, err) = run(c);
        assert_eq!(code, 0, "{err}");
        assert!(!format!("{out}{err}").contains(PASS));
        assert_eq!(err.contains("signs[0]: gpg:"), show, "{err}");
    }
    let dist = dir.join("dist");
    let sig = find(&dist, "checksums.txt.sig").remove(0);
    let sums = find(&dist, "checksums.txt").remove(0);
    let o = Command::new("gpgv")
        .arg("--keyring")
        .arg(k.path("pgp.pub"))
        .arg(&sig)
        .arg(&sums)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", output_text(&o));
    let artifacts = std::fs::read_to_string(dist.join("artifacts.json")).unwrap();
    assert!(artifacts.contains("\"kind\": \"signature\""), "{artifacts}");
}

#[test]
fn bad_signing_input_stops_before_any_build() {
    let k = Keys::new();
    let base = r#"project_name: tool
builds:
  - builder: command
    targets: [linux_amd64_v1, linux_arm64]
    command: [sh, -c, "touch built; echo x > {{ output }}"]
archives:
  - formats: [tar.gz]
"#;
    for (name, signs, pass, code, want) in [
        (
            "missing key file",
            "  - signer: minisign\n    key_file: keys/none.key\n",
            PASS,
            2,
            "cannot read the key file keys/none.key",
        ),
        (
            "wrong passphrase",
            "  - signer: openpgp\n    key_file: keys/pgp.asc\n",
            "not it",
            1,
            "wrong passphrase",
        ),
        (
            "encrypted sigstore key, wrong passphrase",
            "  - signer: sigstore\n    key_file: keys/ec.pem\n",
            "not it",
            1,
            "wrong passphrase",
        ),
        (
            "wrong key type",
            "  - signer: minisign\n    key_file: keys/pgp.asc\n",
            PASS,
            1,
            "is not a minisign secret key",
        ),
        (
            "ed25519 blob bundle",
            "  - signer: sigstore\n    key_file: keys/ed.pem\n",
            PASS,
            2,
            "need an ECDSA P-256 key",
        ),
        (
            "cmd not on PATH",
            "  - cmd: no-such-signer-tool\n",
            PASS,
            2,
            "`no-such-signer-tool` is not on PATH",
        ),
        (
            "colliding name",
            "  - signer: openpgp\n    key_file: keys/pgp.asc\n    artifacts: archive\n    signature: same.sig\n",
            PASS,
            2,
            "two outputs would be written to dist/same.sig",
        ),
        (
            "unknown signer",
            "  - signer: gpgme\n    key_file: keys/pgp.asc\n",
            PASS,
            2,
            "unknown signer `gpgme`",
        ),
    ] {
        let d = tempfile::tempdir().unwrap();
        let dir = d.path();
        project(dir, &k, &format!("{base}signs:\n{signs}"));
        let (c, out, err) = release(dir, &["release", "--snapshot", "--clean"], pass);
        assert_eq!(c, code, "{name}: {err}");
        assert!(err.contains(want), "{name}: {want}\n{err}");
        assert!(
            !format!("{out}{err}").contains("PRIVATE KEY"),
            "{name}: a key is printed"
        );
        assert!(!dir.join("built").exists(), "{name}: something was built");
        assert!(!dir.join("dist").exists(), "{name}: dist/ was written");
    }
}
