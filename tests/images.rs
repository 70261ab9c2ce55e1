//! End-to-end tests of the images stage against a real OCI registry (Debian's
//! `docker-registry`, started by each test on a free loopback port), checked with `skopeo`
//! as an independent client, with real Go binaries.

mod common;
mod support;
use support::registry::Registry;

use common::{git, go_project, init_repo, rel, require_go, run};
use serde_json::Value;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

fn config(goarch: &str, goarm: &str, image: &str) -> String {
    format!(
        "version: 1\nproject_name: hello\nbuilds:\n  - id: hello\n    goos: [linux]\n    goarch: [{goarch}]\n    goarm: [\"{goarm}\"]\n    flags: [\"-trimpath\"]\n    ldflags: [\"-s -w -X main.version={{{{ version }}}} -X main.commit={{{{ short_commit }}}}\"]\nimages:\n{image}"
    )
}

/// A tagged Go project in `dir`.
fn project(dir: &Path, cfg: &str, tag: &str) {
    go_project(dir, cfg);
    init_repo(dir);
    git(dir, &["tag", tag]);
}

fn release(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let mut c = rel(dir);
    c.args(["release", "--skip", "publish"]).args(args);
    c.env_remove("REL_REGISTRY_USERNAME")
        .env_remove("REL_REGISTRY_PASSWORD")
        .env_remove("REL_REGISTRY_TOKEN");
    // No docker login of the machine leaks into the tests.
    c.env("DOCKER_CONFIG", dir.join(".no-docker-config"));
    for (k, v) in env {
        c.env(k, v);
    }
    run(c)
}

fn artifacts(dir: &Path) -> Vec<Value> {
    serde_json::from_slice::<Vec<Value>>(&std::fs::read(dir.join("dist/artifacts.json")).unwrap())
        .unwrap()
}

fn of_kind(arts: &[Value], kind: &str) -> Vec<Value> {
    arts.iter().filter(|a| a["kind"] == kind).cloned().collect()
}

fn platforms(index: &Value) -> Vec<String> {
    index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            let p = &m["platform"];
            match p["variant"].as_str() {
                Some(v) => format!(
                    "{}/{}/{v}",
                    p["os"].as_str().unwrap(),
                    p["architecture"].as_str().unwrap()
                ),
                None => format!(
                    "{}/{}",
                    p["os"].as_str().unwrap(),
                    p["architecture"].as_str().unwrap()
                ),
            }
        })
        .collect()
}

/// Extract `file` from the gzip layers of an OCI layout image for `arch`, pulled by skopeo.
fn extract_from_layout(layout: &Path, tag: &str, arch: &str, file: &str, out: &Path) {
    let blob = |d: &str| {
        layout
            .join("blobs/sha256")
            .join(d.trim_start_matches("sha256:"))
    };
    let index: Value =
        serde_json::from_slice(&std::fs::read(layout.join("index.json")).unwrap()).unwrap();
    let top = index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["annotations"]["org.opencontainers.image.ref.name"] == tag)
        .expect("tag in layout");
    let image_index: Value =
        serde_json::from_slice(&std::fs::read(blob(top["digest"].as_str().unwrap())).unwrap())
            .unwrap();
    let entry = image_index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["platform"]["architecture"] == arch)
        .expect("platform in index");
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(blob(entry["digest"].as_str().unwrap())).unwrap())
            .unwrap();
    for l in manifest["layers"].as_array().unwrap() {
        // System tar reads the layer: an independent check of its format.
        let st = Command::new("tar")
            .arg("-xzf")
            .arg(blob(l["digest"].as_str().unwrap()))
            .arg("-C")
            .arg(out)
            .status()
            .unwrap();
        assert!(st.success());
    }
    assert!(out.join(file).is_file(), "{file} not in the layers");
}

fn image_section(host: &str, repo: &str, extra: &str) -> String {
    format!(
        "  - id: hello\n    repository: \"{host}/{repo}\"\n    tags: [\"{{{{ version }}}}\", latest]\n{extra}"
    )
}

#[test]
fn two_platform_image_is_pushed_pulled_run_and_reproducible() {
    require_go();
    let reg = Registry::start();
    let host = reg.host();
    let tmp = tempfile::tempdir().unwrap();
    let a = tmp.path().join("a");
    std::fs::create_dir_all(&a).unwrap();
    let cfg = config(
        "amd64, arm64",
        "7",
        &image_section(
            &host,
            "acme/hello",
            "    labels: {\"com.example.team\": \"tools\"}\n",
        ),
    );
    project(&a, &cfg, "v1.0.0");
    let commit = git(&a, &["rev-parse", "--short", "HEAD"]);

    // The dry run lists every reference it would push, and pushes nothing.
    let (code, out, err) = run({
        let mut c = rel(&a);
        c.args(["release", "--dry-run", "--skip", "publish"]);
        c
    });
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains(&format!("would push {host}/acme/hello:1.0.0 (image index)")),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "would push {host}/acme/hello:latest (image index)"
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "would push {host}/acme/hello@sha256:<linux/arm64 manifest>"
        )),
        "{out}"
    );
    assert!(out.contains("access: ok (credentials: anonymous"), "{out}");
    assert_eq!(reg.blob_uploads(), 0);

    let (code, _, err) = release(&a, &[], &[]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("4 blobs uploaded"), "{err}");

    // The registry holds an OCI index with both platforms, pointing at the recorded digests.
    let index = reg.inspect_raw("acme/hello:1.0.0");
    assert_eq!(
        index["mediaType"],
        "application/vnd.oci.image.index.v1+json"
    );
    assert_eq!(platforms(&index), vec!["linux/amd64", "linux/arm64"]);
    assert_eq!(
        index["annotations"]["org.opencontainers.image.version"],
        "1.0.0"
    );
    assert_eq!(reg.inspect_raw("acme/hello:latest"), index);
    let arts = artifacts(&a);
    let images = of_kind(&arts, "image");
    assert_eq!(images.len(), 2);
    for m in index["manifests"].as_array().unwrap() {
        assert!(
            images.iter().any(|i| i["extra"]["digest"] == m["digest"]),
            "{m} not in artifacts.json"
        );
    }
    let indexes = of_kind(&arts, "image_index");
    assert_eq!(indexes.len(), 2);
    let pushed_index_digest = reg.skopeo(&[
        "inspect",
        "--tls-verify=false",
        "--format",
        "{{.Digest}}",
        &format!("docker://{host}/acme/hello:1.0.0"),
    ]);
    assert_eq!(
        indexes[0]["extra"]["digest"].as_str().unwrap(),
        pushed_index_digest.trim()
    );

    // The config: entrypoint, non-root user, labels from git.
    let amd = index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["platform"]["architecture"] == "amd64")
        .unwrap();
    let cfg: Value = serde_json::from_str(&reg.skopeo(&[
        "inspect",
        "--config",
        "--tls-verify=false",
        &format!(
            "docker://{host}/acme/hello@{}",
            amd["digest"].as_str().unwrap()
        ),
    ]))
    .unwrap();
    assert_eq!(cfg["config"]["Entrypoint"], serde_json::json!(["/hello"]));
    assert_eq!(cfg["config"]["User"], "65532:65532");
    assert_eq!(
        cfg["config"]["Labels"]["org.opencontainers.image.revision"]
            .as_str()
            .unwrap(),
        git(&a, &["rev-parse", "HEAD"])
    );
    assert_eq!(
        cfg["config"]["Labels"]["org.opencontainers.image.created"],
        "2024-01-02T03:04:05Z"
    );
    assert_eq!(cfg["config"]["Labels"]["com.example.team"], "tools");

    // Pull everything back with skopeo and run the linux/amd64 binary from its layer.
    let pulled = tmp.path().join("pulled");
    reg.skopeo(&[
        "copy",
        "--all",
        "--src-tls-verify=false",
        &format!("docker://{host}/acme/hello:1.0.0"),
        &format!("oci:{}:1.0.0", pulled.display()),
    ]);
    let root = tmp.path().join("rootfs");
    std::fs::create_dir_all(&root).unwrap();
    extract_from_layout(&pulled, "1.0.0", "amd64", "hello", &root);
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(root.join("hello"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o755
    );
    let out = Command::new(root.join("hello")).output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("hello 1.0.0 {commit}")
    );

    // Re-pushing the same commit uploads nothing.
    let before = reg.blob_uploads();
    let (code, _, err) = release(&a, &["--clean"], &[]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("0 blobs uploaded"), "{err}");
    assert_eq!(reg.blob_uploads(), before, "a re-push uploaded blobs");

    // The same commit in another folder gives the same digests.
    let b = tmp.path().join("elsewhere/b");
    std::fs::create_dir_all(b.parent().unwrap()).unwrap();
    let st = Command::new("git")
        .args(["clone", "-q"])
        .arg(&a)
        .arg(&b)
        .status()
        .unwrap();
    assert!(st.success());
    let (code, _, err) = release(&b, &[], &[]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("0 blobs uploaded"), "{err}");
    let digests = |d: &Path| {
        let mut v: Vec<String> = artifacts(d)
            .iter()
            .filter(|x| x["kind"] == "image" || x["kind"] == "image_index")
            .map(|x| format!("{} {}", x["kind"], x["extra"]["digest"]))
            .collect();
        v.sort();
        v
    };
    assert_eq!(digests(&a), digests(&b));
    assert_eq!(reg.blob_uploads(), before);
}

#[test]
fn four_platform_image_with_basic_auth_and_wrong_credentials() {
    require_go();
    let reg = Registry::start_with(Some(("ci", "s3cret-pass")));
    let host = reg.host();
    let tmp = tempfile::tempdir().unwrap();
    let cfg = config(
        "amd64, arm64, arm, \"386\"",
        "7",
        &image_section(&host, "acme/hello", ""),
    );
    project(tmp.path(), &cfg, "v2.1.0");

    // The dry run checks access: without credentials it reports the 401.
    let (code, out, err) = run({
        let mut c = rel(tmp.path());
        c.args(["release", "--dry-run", "--skip", "publish"])
            .env("DOCKER_CONFIG", tmp.path().join(".none"));
        c
    });
    // A refused registry fails the dry run, as a refused GitHub token does.
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("access check failed"), "{err}");
    assert!(
        out.contains("access: FAILED: cannot check blob") && out.contains("401 Unauthorized"),
        "{out}"
    );

    // No credentials: a clear 401 naming what to set.
    let (code, _, err) = release(tmp.path(), &[], &[]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("401 Unauthorized") && err.contains("REL_REGISTRY_USERNAME"),
        "{err}"
    );

    // Wrong password: a clear 401, and the password is never shown.
    let (code, _, err) = release(
        tmp.path(),
        &["--clean", "-v"],
        &[
            ("REL_REGISTRY_USERNAME", "ci"),
            ("REL_REGISTRY_PASSWORD", "wrong-pass-xyz"),
        ],
    );
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("401 Unauthorized")
            && err.contains("REL_REGISTRY_USERNAME/REL_REGISTRY_PASSWORD"),
        "{err}"
    );
    assert!(
        !err.contains("wrong-pass-xyz"),
        "the password leaked: {err}"
    );

    let (code, _, err) = release(
        tmp.path(),
        &["--clean", "-v"],
        &[
            ("REL_REGISTRY_USERNAME", "ci"),
            ("REL_REGISTRY_PASSWORD", "s3cret-pass"),
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("s3cret-pass"), "the password leaked: {err}");
    assert!(
        err.contains("(4 platforms)") && err.contains("8 blobs uploaded"),
        "{err}"
    );
    let index = reg.inspect_raw("acme/hello:2.1.0");
    assert_eq!(
        index["mediaType"],
        "application/vnd.oci.image.index.v1+json"
    );
    assert_eq!(
        platforms(&index),
        vec!["linux/386", "linux/amd64", "linux/arm/v7", "linux/arm64"]
    );
    // Each child is a single-platform OCI manifest whose config agrees with the index entry.
    for m in index["manifests"].as_array().unwrap() {
        let child = reg.inspect_raw(&format!("acme/hello@{}", m["digest"].as_str().unwrap()));
        assert_eq!(
            child["mediaType"],
            "application/vnd.oci.image.manifest.v1+json"
        );
        assert_eq!(child["layers"].as_array().unwrap().len(), 1);
    }
    let arts = artifacts(tmp.path());
    assert_eq!(of_kind(&arts, "image").len(), 4);
    let arm = of_kind(&arts, "image")
        .into_iter()
        .find(|a| a["arch"] == "arm")
        .unwrap();
    assert_eq!(arm["extra"]["platform"], "linux/arm/v7");

    // Credentials from a docker config.json work too.
    let docker_home = tempfile::tempdir().unwrap();
    let docker = docker_home.path().join("docker");
    std::fs::create_dir_all(&docker).unwrap();
    let b64 = {
        let out = Command::new("base64")
            .arg("-w0")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        out.stdin
            .as_ref()
            .unwrap()
            .write_all(b"ci:s3cret-pass")
            .unwrap();
        String::from_utf8(out.wait_with_output().unwrap().stdout).unwrap()
    };
    std::fs::write(
        docker.join("config.json"),
        format!("{{\"auths\": {{\"{host}\": {{\"auth\": \"{b64}\"}}}}}}"),
    )
    .unwrap();
    let (code, _, err) = release(
        tmp.path(),
        &["--clean"],
        &[("DOCKER_CONFIG", docker.to_str().unwrap())],
    );
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("0 blobs uploaded"), "{err}");
    // The dry run names the file the credentials really came from.
    let (code, out, err) = release(
        tmp.path(),
        &["--dry-run"],
        &[("DOCKER_CONFIG", docker.to_str().unwrap())],
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains(&format!(
            "credentials: docker config ({}/config.json)",
            docker.display()
        )),
        "{out}"
    );
}

#[test]
fn rerun_after_the_registry_went_down_completes_the_push() {
    require_go();
    let mut reg = Registry::start();
    let host = reg.host();
    let tmp = tempfile::tempdir().unwrap();
    let cfg = config("amd64, arm64", "7", &image_section(&host, "acme/hello", ""));
    project(tmp.path(), &cfg, "v1.0.0");
    reg.stop();
    let (code, _, err) = release(tmp.path(), &[], &[]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains(&format!("cannot connect to the registry {host}")) && err.contains("Re-run"),
        "{err}"
    );
    // What exists is recorded: the layout was built, nothing is marked pushed.
    assert!(tmp.path().join("dist/images/hello/index.json").is_file());
    reg.resume();
    let (code, _, err) = release(tmp.path(), &["--clean"], &[]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        platforms(&reg.inspect_raw("acme/hello:1.0.0")),
        vec!["linux/amd64", "linux/arm64"]
    );
}

/// A TCP proxy in front of the registry that, once the registry has completed one upload
/// (`201 Created`) and `limit` more bytes have gone upstream, cuts every connection and stops
/// listening: the registry "goes down" in the middle of a push, after some blobs are in.
struct CuttingProxy {
    port: u16,
    cut: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl CuttingProxy {
    fn start(port: u16, upstream: u16, limit: u64) -> CuttingProxy {
        use std::sync::Arc;
        use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
        let listener = TcpListener::bind(("127.0.0.1", port)).unwrap();
        let port = listener.local_addr().unwrap().port();
        listener.set_nonblocking(true).unwrap();
        let cut = Arc::new(AtomicBool::new(false));
        let sent = Arc::new(AtomicU64::new(0));
        let armed = Arc::new(AtomicBool::new(false));
        let c = cut.clone();
        std::thread::spawn(move || {
            let mut open: Vec<TcpStream> = vec![];
            while !c.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((client, _)) => {
                        client.set_nonblocking(false).unwrap();
                        let server = TcpStream::connect(("127.0.0.1", upstream)).unwrap();
                        open.push(client.try_clone().unwrap());
                        open.push(server.try_clone().unwrap());
                        let (mut c_in, mut s_out) =
                            (client.try_clone().unwrap(), server.try_clone().unwrap());
                        let (mut s_in, mut c_out) = (server, client);
                        let (sent, cut, arm) = (sent.clone(), c.clone(), armed.clone());
                        let armed_by = armed.clone();
                        std::thread::spawn(move || {
                            let mut buf = [0u8; 16384];
                            while let Ok(n) = c_in.read(&mut buf) {
                                if n == 0 || s_out.write_all(&buf[..n]).is_err() {
                                    break;
                                }
                                if limit > 0
                                    && arm.load(Ordering::SeqCst)
                                    && sent.fetch_add(n as u64, Ordering::SeqCst) + n as u64 > limit
                                {
                                    cut.store(true, Ordering::SeqCst);
                                    break;
                                }
                            }
                        });
                        std::thread::spawn(move || {
                            let mut buf = [0u8; 16384];
                            while let Ok(n) = s_in.read(&mut buf) {
                                if n == 0 || c_out.write_all(&buf[..n]).is_err() {
                                    break;
                                }
                                if buf[..n].windows(11).any(|w| w == b"201 Created") {
                                    armed_by.store(true, Ordering::SeqCst);
                                }
                            }
                        });
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(2)),
                }
            }
            for s in open {
                let _ = s.shutdown(std::net::Shutdown::Both);
            }
            // The listener is dropped here: new connections are refused.
        });
        CuttingProxy { port, cut }
    }

    fn was_cut(&self) -> bool {
        self.cut.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// Deterministic incompressible bytes (xorshift), so a layer is large enough to cut.
fn noise(len: usize) -> Vec<u8> {
    let mut x: u64 = 0x9E3779B97F4A7C15;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

#[test]
fn registry_cut_mid_push_then_rerun_completes() {
    require_go();
    let reg = Registry::start();
    let proxy = CuttingProxy::start(0, reg.port, 1);
    let host = format!("127.0.0.1:{}", proxy.port);
    let tmp = tempfile::tempdir().unwrap();
    let cfg = config(
        "amd64, arm64",
        "7",
        &image_section(&host, "acme/hello", "    files: [data.bin]\n"),
    );
    go_project(tmp.path(), &cfg);
    std::fs::write(tmp.path().join("data.bin"), noise(8_000_000)).unwrap();
    init_repo(tmp.path());
    git(tmp.path(), &["tag", "v1.0.0"]);
    let (code, _, err) = release(tmp.path(), &[], &[]);
    assert!(proxy.was_cut(), "the push finished before the cut: {err}");
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("Re-run to finish"), "{err}");
    let uploaded_before = reg.blob_uploads();
    // The registry comes back on the same address; the re-run sends only what is missing.
    let back = CuttingProxy::start(proxy.port, reg.port, 0);
    let (code, _, err) = release(tmp.path(), &["--clean"], &[]);
    assert_eq!(code, 0, "{err}");
    assert!(!back.was_cut());
    assert!(err.contains("already present"), "{err}");
    let resent = reg.blob_uploads() - uploaded_before;
    assert!(
        resent < 4,
        "the re-run uploaded all {resent} blobs again (first run completed {uploaded_before})"
    );
    assert!(uploaded_before + resent >= 4);
    let index = reg.inspect_raw("acme/hello:1.0.0");
    assert_eq!(platforms(&index), vec!["linux/amd64", "linux/arm64"]);
}

#[test]
fn snapshot_writes_an_oci_layout_and_pushes_nothing() {
    require_go();
    let tmp = tempfile::tempdir().unwrap();
    let mut digests = vec![];
    for name in ["one", "two"] {
        let dir = tmp.path().join(name);
        std::fs::create_dir_all(&dir).unwrap();
        // Port 1: nothing listens; a push would fail.
        let cfg = config(
            "amd64, arm",
            "7",
            &image_section("127.0.0.1:1", "acme/hello", "    files: [README.md]\n"),
        );
        go_project(&dir, &cfg);
        init_repo(&dir);
        let (code, _, err) = run({
            let mut c = rel(&dir);
            c.args(["release", "--snapshot"]);
            c
        });
        assert_eq!(code, 0, "{err}");
        let layout = dir.join("dist/images/hello");
        assert_eq!(
            std::fs::read_to_string(layout.join("oci-layout")).unwrap(),
            r#"{"imageLayoutVersion":"1.0.0"}"#
        );
        let arts = artifacts(&dir);
        let idx = of_kind(&arts, "image_index");
        assert_eq!(idx.len(), 2);
        assert_eq!(idx[0]["extra"]["pushed"], false);
        let tag = idx
            .iter()
            .map(|a| a["extra"]["tag"].as_str().unwrap().to_string())
            .find(|t| t != "latest")
            .unwrap();
        assert!(tag.starts_with("0.0.0-SNAPSHOT-"), "{tag}");
        // skopeo reads the layout: an independent check that it is valid.
        let raw = Command::new("skopeo")
            .args(["inspect", "--raw"])
            .arg(format!("oci:{}:{tag}", layout.display()))
            .output()
            .unwrap();
        assert!(
            raw.status.success(),
            "{}",
            String::from_utf8_lossy(&raw.stderr)
        );
        let index: Value = serde_json::from_slice(&raw.stdout).unwrap();
        assert_eq!(platforms(&index), vec!["linux/amd64", "linux/arm/v7"]);
        let root = dir.join("rootfs");
        std::fs::create_dir_all(&root).unwrap();
        extract_from_layout(&layout, &tag, "amd64", "README.md", &root);
        digests.push(idx[0]["extra"]["digest"].clone());
    }
    assert_eq!(
        digests[0], digests[1],
        "same commit, different folders: same index digest"
    );

    // --skip images skips the stage.
    let dir = tmp.path().join("one");
    let (code, _, err) = run({
        let mut c = rel(&dir);
        c.args(["release", "--snapshot", "--clean", "--skip", "images"]);
        c
    });
    assert_eq!(code, 0, "{err}");
    assert!(!dir.join("dist/images").exists());
    assert!(of_kind(&artifacts(&dir), "image").is_empty());
}

#[test]
fn base_images_and_manifests() {
    require_go();
    let reg = Registry::start();
    let host = reg.host();
    let tmp = tempfile::tempdir().unwrap();

    // A base image with linux/amd64 and linux/arm64, pushed by rel itself.
    let base_dir = tmp.path().join("base");
    std::fs::create_dir_all(&base_dir).unwrap();
    project(
        &base_dir,
        &config(
            "amd64, arm64",
            "7",
            &image_section(&host, "acme/base", "    files: [README.md]\n"),
        ),
        "v1.0.0",
    );
    let (code, _, err) = release(&base_dir, &[], &[]);
    assert_eq!(code, 0, "{err}");

    // An image on that base: the base layer is mounted, not uploaded, and comes first.
    let dir = tmp.path().join("app");
    std::fs::create_dir_all(&dir).unwrap();
    let images = format!(
        "{}  - id: amd\n    repository: \"{host}/acme/app\"\n    platforms: [linux/amd64]\n    tags: [\"{{{{ version }}}}-amd64\"]\n  - id: arm\n    repository: \"{host}/acme/app\"\n    platforms: [linux/arm64]\n    tags: [\"{{{{ version }}}}-arm64\"]\nmanifests:\n  - name_template: \"{host}/acme/app:{{{{ version }}}}\"\n    images: [\"{host}/acme/app:{{{{ version }}}}-amd64\", \"{host}/acme/app:{{{{ version }}}}-arm64\"]\n  - name_template: \"{host}/acme/other:{{{{ version }}}}\"\n    images: [\"{host}/acme/app:{{{{ version }}}}-arm64\"]\n",
        image_section(
            &host,
            "acme/app-on-base",
            &format!("    base: {host}/acme/base:1.0.0\n")
        )
    );
    project(&dir, &config("amd64, arm64", "7", &images), "v3.0.0");
    let (code, _, err) = release(&dir, &[], &[]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("2 mounted"), "{err}");
    // The scratch image of the same binary has the same layer: mounted from the first image.
    let line = err
        .lines()
        .find(|l| l.contains("as 3.0.0-amd64:"))
        .expect("push line");
    assert!(
        line.ends_with("1 blobs uploaded (0.0 MB), 0 already present, 1 mounted"),
        "{line}"
    );
    let index = reg.inspect_raw("acme/app-on-base:3.0.0");
    let base_index = reg.inspect_raw("acme/base:1.0.0");
    let amd = |i: &Value| {
        i["manifests"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["platform"]["architecture"] == "amd64")
            .unwrap()["digest"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let m = reg.inspect_raw(&format!("acme/app-on-base@{}", amd(&index)));
    let bm = reg.inspect_raw(&format!("acme/base@{}", amd(&base_index)));
    assert_eq!(m["layers"].as_array().unwrap().len(), 2);
    assert_eq!(
        m["layers"][0], bm["layers"][0],
        "the base layer comes first, unchanged"
    );

    // The manifests index lists both single-platform images, pinned by digest.
    let combined = reg.inspect_raw("acme/app:3.0.0");
    assert_eq!(
        combined["mediaType"],
        "application/vnd.oci.image.index.v1+json"
    );
    assert_eq!(platforms(&combined), vec!["linux/amd64", "linux/arm64"]);
    let amd_only = reg.inspect_raw("acme/app:3.0.0-amd64");
    assert_eq!(amd(&combined), amd(&amd_only));
    // An index in another repository: the image is copied into it (blobs mounted).
    let other = reg.inspect_raw("acme/other:3.0.0");
    assert_eq!(platforms(&other), vec!["linux/arm64"]);
    let arm_only = reg.inspect_raw("acme/app:3.0.0-arm64");
    let child = other["manifests"][0]["digest"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(child, arm_only["manifests"][0]["digest"].as_str().unwrap());
    assert_eq!(
        reg.inspect_raw(&format!("acme/other@{child}"))["mediaType"],
        "application/vnd.oci.image.manifest.v1+json"
    );
    let arts = artifacts(&dir);
    assert!(of_kind(&arts, "image_index").iter().any(|a| {
        a["name"] == format!("{host}/acme/app:3.0.0")
            && a["extra"]["digest"]
                .as_str()
                .unwrap()
                .starts_with("sha256:")
    }));

    // A base without a needed platform: a clear error naming it.
    let bad = tmp.path().join("bad");
    std::fs::create_dir_all(&bad).unwrap();
    project(
        &bad,
        &config(
            "amd64, arm",
            "7",
            &image_section(
                &host,
                "acme/bad",
                &format!("    base: {host}/acme/base:1.0.0\n"),
            ),
        ),
        "v1.0.0",
    );
    let (code, _, err) = release(&bad, &[], &[]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains(&format!("the base image {host}/acme/base:1.0.0 has no linux/arm/v7 image (it has: linux/amd64, linux/arm64)")), "{err}");
}

#[test]
fn bad_image_input_is_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    let check = |images: &str| -> (i32, String) {
        let dir = tmp.path().join(format!("p{}", images.len()));
        std::fs::create_dir_all(&dir).unwrap();
        go_project(&dir, &config("amd64", "7", images));
        let (code, _, err) = run({
            let mut c = rel(&dir);
            c.arg("check");
            c
        });
        (code, err)
    };
    let (code, err) =
        check("  - repository: 127.0.0.1:5000/acme/hello\n    platforms: [linux/sparc]\n");
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("unsupported image platform `linux/sparc`"),
        "{err}"
    );
    let (code, err) = check("  - repository: \"127.0.0.1:5000/Acme/Hello\"\n");
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("Acme/Hello") && err.contains("lowercase"),
        "{err}"
    );
    let (code, err) = check("  - repository: \"ghcr.io/acme/hello:1.0\"\n");
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("without a tag or digest"), "{err}");

    // A platform that is valid but not built: named with what was built.
    require_go();
    let dir = tmp.path().join("notbuilt");
    std::fs::create_dir_all(&dir).unwrap();
    project(
        &dir,
        &config(
            "amd64",
            "7",
            "  - repository: 127.0.0.1:1/acme/hello\n    platforms: [linux/amd64, linux/arm/v7]\n",
        ),
        "v1.0.0",
    );
    let (code, _, err) = release(&dir, &["--snapshot"], &[]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("platform linux/arm/v7 was not built (built linux platforms: linux/amd64)"),
        "{err}"
    );
}

/// `tests/images/token_proxy.py` in front of a registry: the bearer-token flow.
struct TokenProxy {
    child: Child,
    port: u16,
    log: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl TokenProxy {
    fn start(upstream: u16, user: &str, password: &str) -> TokenProxy {
        Self::start_flaky(upstream, user, password, 0)
    }

    fn start_flaky(upstream: u16, user: &str, password: &str, flaky: u32) -> TokenProxy {
        use std::io::BufRead;
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("proxy.log");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/images/token_proxy.py");
        let mut child = Command::new("python3")
            .arg(script)
            .args([&upstream.to_string(), user, password])
            .arg(&log)
            .env("FLAKY", flaky.to_string())
            // rel tries a registry call 4 times: 3 failures in all always leave one try.
            .env("FLAKY_MAX", "3")
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3");
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        TokenProxy {
            child,
            port: line.trim().parse().expect("proxy port"),
            log,
            _dir: dir,
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for TokenProxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn bearer_token_flow() {
    require_go();
    let reg = Registry::start();
    let proxy = TokenProxy::start(reg.port, "robot", "tok3n-pass");
    let host = format!("127.0.0.1:{}", proxy.port);
    let tmp = tempfile::tempdir().unwrap();
    project(
        tmp.path(),
        &config("amd64, arm64", "7", &image_section(&host, "acme/hello", "")),
        "v1.0.0",
    );

    // Wrong password: the token endpoint refuses; a clear 401 without the password.
    let (code, _, err) = release(
        tmp.path(),
        &[],
        &[
            ("REL_REGISTRY_USERNAME", "robot"),
            ("REL_REGISTRY_PASSWORD", "nope-pass"),
        ],
    );
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("401 Unauthorized"), "{err}");
    assert!(!err.contains("nope-pass"), "{err}");
    assert!(proxy.log().contains("token refused"), "{}", proxy.log());

    // Username and password are exchanged for a bearer token, which every request then carries.
    let (code, _, err) = release(
        tmp.path(),
        &["--clean", "-v"],
        &[
            ("REL_REGISTRY_USERNAME", "robot"),
            ("REL_REGISTRY_PASSWORD", "tok3n-pass"),
        ],
    );
    assert_eq!(code, 0, "{err}\n{}", proxy.log());
    assert!(err.contains("4 blobs uploaded"), "{err}");
    assert!(!err.contains("tok3n-pass"), "{err}");
    let log = proxy.log();
    assert!(
        log.contains("token granted /token?scope=repository%3Aacme%2Fhello%3Apull%2Cpush"),
        "{log}"
    );
    assert!(
        log.contains("forward PUT /v2/acme/hello/manifests/1.0.0"),
        "{log}"
    );
    assert_eq!(
        platforms(&reg.inspect_raw("acme/hello:1.0.0")),
        vec!["linux/amd64", "linux/arm64"]
    );

    // A ready bearer token (REL_REGISTRY_TOKEN) is sent as it is; nothing new to upload.
    let token: String = "token-".to_string()
        + &"tok3n-pass"
            .bytes()
            .rev()
            .map(|b| format!("{b:02x}"))
            .collect::<String>();
    let (code, _, err) = release(tmp.path(), &["--clean"], &[("REL_REGISTRY_TOKEN", &token)]);
    assert_eq!(code, 0, "{err}\n{}", proxy.log());
    assert!(err.contains("0 blobs uploaded"), "{err}");
}

#[test]
fn server_errors_are_retried() {
    require_go();
    let reg = Registry::start();
    // Every third request through this front door is answered 503, three times in all.
    let proxy = TokenProxy::start_flaky(reg.port, "", "", 3);
    let host = format!("127.0.0.1:{}", proxy.port);
    let tmp = tempfile::tempdir().unwrap();
    project(
        tmp.path(),
        &config("amd64, arm64", "7", &image_section(&host, "acme/hello", "")),
        "v1.0.0",
    );
    let (code, _, err) = release(tmp.path(), &[], &[]);
    assert_eq!(code, 0, "{err}\n{}", proxy.log());
    let log = proxy.log();
    assert!(log.matches("503 ").count() >= 3, "{log}");
    assert!(err.contains("4 blobs uploaded"), "{err}");
    let index = reg.inspect_raw("acme/hello:1.0.0");
    assert_eq!(platforms(&index), vec!["linux/amd64", "linux/arm64"]);
    assert_eq!(reg.inspect_raw("acme/hello:latest"), index);
}
