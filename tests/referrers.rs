//! Image signatures (`docker_signs`) and image SBOMs attached as OCI 1.1 referrers to images
//! pushed to a real registry (Debian's `docker-registry`, which has no referrers API, so the
//! `sha256-<hex>` tag fallback is what clients read), fetched back over HTTP and verified by
//! `@sigstore/verify` and `pyspdxtools`.

mod common;
mod support;
use common::*;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use support::registry::Registry;

fn curl(url: &str, accept: &str) -> Vec<u8> {
    let o = Command::new("curl")
        .args(["-sSf", "-H"])
        .arg(format!("Accept: {accept}"))
        .arg(url)
        .output()
        .unwrap();
    assert!(o.status.success(), "GET {url}: {}", output_text(&o));
    o.stdout
}

const INDEX: &str = "application/vnd.oci.image.index.v1+json";
const MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";

fn release(dir: &Path) -> (i32, String, String) {
    let mut c = rel(dir);
    c.args(["release", "--skip", "publish", "--clean"])
        .env("DOCKER_CONFIG", dir.join(".no-docker-config"))
        .env_remove("REL_REGISTRY_USERNAME")
        .env_remove("REL_REGISTRY_PASSWORD")
        .env_remove("REL_REGISTRY_TOKEN");
    run(c)
}

fn sigstore_verify(bundle: &Path, artifact: &Path, key: &Path) -> (bool, String) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let modules = std::env::var("REL_TEST_SIGSTORE")
        .map(PathBuf::from)
        .unwrap_or_else(|_| root.join(".tools/sigstore/node_modules"));
    let o = Command::new("node")
        .arg(root.join("tests/support/sigstore-verify.js"))
        .arg(modules)
        .arg(bundle)
        .arg(artifact)
        .arg(key)
        .output()
        .unwrap();
    (o.status.success(), output_text(&o))
}

#[test]
fn signatures_and_sboms_are_attached_to_pushed_images() {
    require_go();
    let reg = Registry::start();
    let host = reg.host();
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().join("p");
    std::fs::create_dir_all(dir.join("keys")).unwrap();
    let key = dir.join("keys/ec.pem");
    sh(Command::new("openssl")
        .args([
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-out",
        ])
        .arg(&key));
    let public = d.path().join("ec.pub");
    sh(Command::new("openssl")
        .args(["pkey", "-pubout", "-in"])
        .arg(&key)
        .arg("-out")
        .arg(&public));
    let cfg = format!(
        "version: 1\nproject_name: hello\nbuilds:\n  - id: hello\n    goos: [linux]\n    goarch: [amd64]\n    flags: [\"-trimpath\"]\nimages:\n  - id: hello\n    repository: \"{host}/acme/hello\"\n    tags: [\"{{{{ version }}}}\"]\ndocker_signs:\n  - signer: sigstore\n    key_file: keys/ec.pem\n  - id: command\n    artifacts: images\n    cmd: sh\n    args: [\"-c\", \"echo ${{artifact}}@${{digest}} >> signed-by-command.txt\"]\nsboms:\n  - artifacts: image\n"
    );
    go_project(&dir, &cfg);
    init_repo(&dir);
    git(&dir, &["tag", "v1.0.0"]);
    let (code, _, err) = release(&dir);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("referrers: signed"), "{err}");

    let base = format!("http://{host}/v2/acme/hello");
    let index_bytes = curl(&format!("{base}/manifests/1.0.0"), INDEX);
    let index_digest = format!(
        "sha256:{}",
        rel::hash::hex(&<sha2::Sha256 as sha2::Digest>::digest(&index_bytes))
    );
    let index: Value = serde_json::from_slice(&index_bytes).unwrap();
    let image_digest = index["manifests"][0]["digest"]
        .as_str()
        .unwrap()
        .to_string();
    let image_bytes = curl(&format!("{base}/manifests/{image_digest}"), MANIFEST);

    // The registry has no referrers API: the fallback tag lists the index's signature, and
    // the image's signature and SBOM.
    let listed = |digest: &str| -> Vec<Value> {
        let tag = format!("sha256-{}", digest.trim_start_matches("sha256:"));
        let v: Value =
            serde_json::from_slice(&curl(&format!("{base}/manifests/{tag}"), INDEX)).unwrap();
        v["manifests"].as_array().unwrap().clone()
    };
    let of_index = listed(&index_digest);
    assert_eq!(of_index.len(), 1, "{of_index:?}");
    assert_eq!(
        of_index[0]["artifactType"],
        "application/vnd.dev.sigstore.bundle.v0.3+json"
    );
    let of_image = listed(&image_digest);
    let types: Vec<&str> = of_image
        .iter()
        .map(|m| m["artifactType"].as_str().unwrap())
        .collect();
    assert_eq!(types.len(), 2, "{of_image:?}");
    assert!(types.contains(&"application/spdx+json"), "{types:?}");

    // Each signature is a bundle over its subject's manifest bytes, verified by Sigstore's
    // verifier with the public key; swapping subjects fails.
    for (subject_digest, subject_bytes, referrers) in [
        (&index_digest, &index_bytes, &of_index),
        (&image_digest, &image_bytes, &of_image),
    ] {
        let sig = referrers
            .iter()
            .find(|m| m["artifactType"] == "application/vnd.dev.sigstore.bundle.v0.3+json")
            .unwrap();
        let manifest: Value = serde_json::from_slice(&curl(
            &format!("{base}/manifests/{}", sig["digest"].as_str().unwrap()),
            MANIFEST,
        ))
        .unwrap();
        assert_eq!(manifest["subject"]["digest"], subject_digest.as_str());
        let bundle = curl(
            &format!(
                "{base}/blobs/{}",
                manifest["layers"][0]["digest"].as_str().unwrap()
            ),
            "*/*",
        );
        let bundle_path = d.path().join("bundle.json");
        std::fs::write(&bundle_path, &bundle).unwrap();
        let subject_path = d.path().join("subject.json");
        std::fs::write(&subject_path, subject_bytes).unwrap();
        let (ok, said) = sigstore_verify(&bundle_path, &subject_path, &public);
        assert!(ok, "{said}");
        let other = if subject_digest == &index_digest {
            &image_bytes
        } else {
            &index_bytes
        };
        std::fs::write(&subject_path, other).unwrap();
        assert!(!sigstore_verify(&bundle_path, &subject_path, &public).0);
    }

    // The command signer ran once per image (not for the index), with GoReleaser's variables.
    let signed = std::fs::read_to_string(dir.join("signed-by-command.txt")).unwrap();
    assert_eq!(signed, format!("{host}/acme/hello@{image_digest}\n"));

    // The image's SBOM: valid SPDX naming the main module of the binary in the image.
    let sbom_ref = of_image
        .iter()
        .find(|m| m["artifactType"] == "application/spdx+json")
        .unwrap();
    let manifest: Value = serde_json::from_slice(&curl(
        &format!("{base}/manifests/{}", sbom_ref["digest"].as_str().unwrap()),
        MANIFEST,
    ))
    .unwrap();
    let doc = curl(
        &format!(
            "{base}/blobs/{}",
            manifest["layers"][0]["digest"].as_str().unwrap()
        ),
        "*/*",
    );
    let doc_path = d.path().join("image.spdx.json");
    std::fs::write(&doc_path, &doc).unwrap();
    let python = std::env::var("REL_TEST_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|_| Path::new(env!("CARGO_MANIFEST_DIR")).join(".tools/py/bin/python"));
    let o = Command::new(python.with_file_name("pyspdxtools"))
        .arg("-i")
        .arg(&doc_path)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", output_text(&o));
    let spdx: Value = serde_json::from_slice(&doc).unwrap();
    assert!(
        spdx["packages"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == "example.com/hello"),
        "{spdx}"
    );

    // A re-run attaches the same referrers again: the same digests, nothing listed twice.
    std::fs::remove_file(dir.join("signed-by-command.txt")).unwrap();
    let (code, _, err) = release(&dir);
    assert_eq!(code, 0, "{err}");
    assert_eq!(listed(&image_digest), of_image);
    assert_eq!(listed(&index_digest), of_index);

    // A snapshot pushes nothing and attaches nothing.
    let mut c = rel(&dir);
    c.args(["release", "--snapshot", "--clean"]);
    let (code, _, err) = run(c);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("referrers: skipped (snapshot: images are not pushed)"),
        "{err}"
    );
}
