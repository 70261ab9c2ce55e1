//! End-to-end tests of images from Dockerfiles (`dockers_v2`, `dockers`, `docker_manifests`)
//! with real Go binaries, the real `buildah` (daemonless, vfs storage, chroot isolation) and
//! a real OCI registry, checked with `skopeo` and system `tar` as independent readers. The
//! base image is busybox-static, pushed to the test's own registry (nothing is pulled from
//! the network).

mod common;
mod support;
use support::registry::Registry;

use common::{git, go_project, init_repo, rel, run, write};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// buildah as the tests run it: vfs storage, chroot isolation (no daemon, no overlay).
fn buildah() -> Command {
    let mut c = Command::new("buildah");
    c.env("STORAGE_DRIVER", "vfs")
        .env("BUILDAH_ISOLATION", "chroot");
    c
}

fn ok(c: &mut Command) -> String {
    let o = c.output().unwrap_or_else(|e| {
        panic!("{c:?}: {e} (scripts/test.sh installs buildah and busybox-static)")
    });
    assert!(
        o.status.success(),
        "{c:?}: {}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).trim().to_string()
}

/// Push a busybox base image (`/bin/busybox` and a few applet links) to `reg` as
/// `base/busybox:1`.
fn push_busybox(reg: &Registry) -> String {
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(root.path().join("bin")).unwrap();
    std::fs::copy("/bin/busybox", root.path().join("bin/busybox")).unwrap();
    for a in ["sh", "cat", "echo", "ls"] {
        std::os::unix::fs::symlink("busybox", root.path().join("bin").join(a)).unwrap();
    }
    let c = ok(buildah().args(["from", "scratch"]));
    ok(buildah().args(["copy", &c]).arg(root.path()).arg("/"));
    ok(buildah().args(["config", "--cmd", "/bin/sh", &c]));
    let name = format!("localhost/rel-test-busybox-{}", reg.port);
    ok(buildah().args(["commit", "--timestamp", "0", &c, &name]));
    let target = format!("{}/base/busybox:1", reg.host());
    ok(buildah()
        .args(["push", "--tls-verify=false", &name])
        .arg(format!("docker://{target}")));
    let _ = buildah().args(["rm", &c]).output();
    let _ = buildah().args(["rmi", &name]).output();
    target
}

fn project(dir: &Path, cfg: &str) {
    go_project(dir, cfg);
    init_repo(dir);
    git(dir, &["tag", "v1.0.0"]);
}

fn release(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let mut c = rel(dir);
    c.args(["release", "--skip", "publish"]).args(args);
    c.env("DOCKER_CONFIG", dir.join(".no-docker-config"))
        .env("STORAGE_DRIVER", "vfs")
        .env("BUILDAH_ISOLATION", "chroot");
    run(c)
}

fn builds(arches: &str) -> String {
    format!(
        "version: 1\nproject_name: hello\nbuilds:\n  - id: hello\n    goos: [linux]\n    goarch: [{arches}]\n    flags: [\"-trimpath\"]\n    ldflags: [\"-s -w -X main.version={{{{ version }}}}\"]\n"
    )
}

fn blob(layout: &Path, digest: &str) -> PathBuf {
    layout
        .join("blobs/sha256")
        .join(digest.trim_start_matches("sha256:"))
}

fn json_blob(layout: &Path, digest: &str) -> Value {
    serde_json::from_slice(&std::fs::read(blob(layout, digest)).unwrap()).unwrap()
}

/// The manifest of `arch` in the image tagged `tag` of an OCI layout (an index or a manifest).
fn manifest_of(layout: &Path, tag: &str, arch: &str) -> Value {
    let index: Value =
        serde_json::from_slice(&std::fs::read(layout.join("index.json")).unwrap()).unwrap();
    let top = index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["annotations"]["org.opencontainers.image.ref.name"] == tag)
        .unwrap_or_else(|| panic!("{tag} not in {}", layout.display()));
    let doc = json_blob(layout, top["digest"].as_str().unwrap());
    if doc.get("manifests").is_none() {
        return doc;
    }
    let entry = doc["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["platform"]["architecture"] == arch)
        .expect("platform in index");
    json_blob(layout, entry["digest"].as_str().unwrap())
}

/// Every entry of a gzip layer, with its mode and owner, read by system `tar`.
fn layer_listing(layout: &Path, digest: &str) -> Vec<String> {
    let out = ok(Command::new("tar")
        .arg("-tvzf")
        .arg(blob(layout, digest))
        .arg("--numeric-owner"));
    let mut v: Vec<String> = out
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            // mode owner/group size date time name
            let name = f[5..].join(" ");
            let name = name
                .trim_start_matches("./")
                .trim_end_matches('/')
                .to_string();
            format!("{} {} {name}", f[0], f[1])
        })
        .filter(|l| !l.ends_with(' ') && !l.ends_with(" ."))
        .collect();
    v.sort();
    v
}

/// Extract every layer of `manifest` into `out` with system tar.
fn extract(layout: &Path, manifest: &Value, out: &Path) {
    for l in manifest["layers"].as_array().unwrap() {
        ok(Command::new("tar")
            .arg("-xzf")
            .arg(blob(layout, l["digest"].as_str().unwrap()))
            .arg("-C")
            .arg(out));
    }
}

#[test]
fn a_run_dockerfile_goes_to_buildah_and_a_copy_only_one_to_rel_in_one_pushed_index() {
    let reg = Registry::start();
    let base = push_busybox(&reg);
    let dir = tempfile::tempdir().unwrap();
    let host = reg.host();
    let cfg = format!(
        "{}dockers_v2:\n  - id: app\n    dockerfile: \"Dockerfile.{{{{ arch }}}}\"\n    images: [\"{host}/acme/app\"]\n    tags: [\"{{{{ version }}}}\", latest]\n    platforms: [linux/amd64, linux/arm64]\n    labels:\n      org.opencontainers.image.title: app\n    insecure: true\n",
        builds("amd64, arm64")
    );
    project(dir.path(), &cfg);
    write(
        dir.path(),
        "Dockerfile.amd64",
        &format!(
            "FROM {base}\nARG TARGETPLATFORM\nCOPY $TARGETPLATFORM/hello /usr/bin/hello\nRUN /usr/bin/hello > /built.txt\nENTRYPOINT [\"/usr/bin/hello\"]\n"
        ),
    );
    write(
        dir.path(),
        "Dockerfile.arm64",
        "FROM scratch\nARG TARGETPLATFORM\nCOPY $TARGETPLATFORM/hello /usr/bin/hello\nENTRYPOINT [\"/usr/bin/hello\"]\n",
    );
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-qm", "feat: images"]);
    git(dir.path(), &["tag", "-f", "v1.0.0"]);

    let (code, out, err) = release(dir.path(), &["--dry-run"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("linux/amd64: Dockerfile.amd64 built by buildah (needed: Dockerfile.amd64:4: `RUN` runs a command)"),
        "{out}"
    );
    assert!(
        out.contains("linux/arm64: Dockerfile.arm64 built by rel (the Dockerfile only copies files: no engine)"),
        "{out}"
    );
    assert!(
        out.contains(&format!("would push {host}/acme/app:1.0.0 (image index)")),
        "{out}"
    );

    let (code, out, err) = release(dir.path(), &[]);
    assert_eq!(code, 0, "{out}{err}");
    let index = reg.inspect_raw("acme/app:1.0.0");
    assert_eq!(
        index["mediaType"],
        "application/vnd.oci.image.index.v1+json"
    );
    let mut plats: Vec<String> = index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            format!(
                "{}/{}",
                m["platform"]["os"].as_str().unwrap(),
                m["platform"]["architecture"].as_str().unwrap()
            )
        })
        .collect();
    plats.sort();
    assert_eq!(plats, vec!["linux/amd64", "linux/arm64"]);
    assert_eq!(reg.inspect_raw("acme/app:latest"), index);

    // Pull the amd64 image back with skopeo and run the binary from its layers: the RUN step
    // ran it during the build too.
    let pulled = tempfile::tempdir().unwrap();
    let layout = pulled.path().join("oci");
    reg.skopeo(&[
        "copy",
        "--all",
        "--src-tls-verify=false",
        &format!("docker://{host}/acme/app:1.0.0"),
        &format!("oci:{}:x", layout.display()),
    ]);
    let m = manifest_of(&layout, "x", "amd64");
    let root = pulled.path().join("root");
    std::fs::create_dir_all(&root).unwrap();
    extract(&layout, &m, &root);
    assert_eq!(
        std::fs::read_to_string(root.join("built.txt")).unwrap(),
        "hello 1.0.0 none\n"
    );
    let o = ok(&mut Command::new(root.join("usr/bin/hello")));
    assert_eq!(o, "hello 1.0.0 none");
    assert!(
        root.join("bin/busybox").is_file(),
        "base layers are in the image"
    );
    let cfg = json_blob(&layout, m["config"]["digest"].as_str().unwrap());
    assert_eq!(
        cfg["config"]["Entrypoint"],
        serde_json::json!(["/usr/bin/hello"])
    );
    assert_eq!(
        cfg["config"]["Labels"]["org.opencontainers.image.title"],
        "app"
    );

    // The arm64 image is rel's: scratch plus one layer with the arm64 binary.
    let m = manifest_of(&layout, "x", "arm64");
    assert_eq!(m["layers"].as_array().unwrap().len(), 1);
    let files = layer_listing(&layout, m["layers"][0]["digest"].as_str().unwrap());
    assert!(
        files
            .iter()
            .any(|l| l.ends_with(" 0/0 usr/bin/hello") && l.starts_with("-rwxr-xr-x")),
        "{files:?}"
    );

    let arts: Vec<Value> =
        serde_json::from_slice(&std::fs::read(dir.path().join("dist/artifacts.json")).unwrap())
            .unwrap();
    let builders: BTreeMap<String, String> = arts
        .iter()
        .filter(|a| a["kind"] == "image")
        .map(|a| {
            (
                a["extra"]["platform"].as_str().unwrap().to_string(),
                a["extra"]["builder"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(builders["linux/amd64"], "buildah");
    assert_eq!(builders["linux/arm64"], "rel");
}

/// The config fields a Dockerfile sets, from an image config.
fn config_fields(cfg: &Value) -> Value {
    let c = &cfg["config"];
    let mut labels = c["Labels"].as_object().cloned().unwrap_or_default();
    labels.remove("io.buildah.version");
    serde_json::json!({
        "Entrypoint": c["Entrypoint"],
        "Cmd": c.get("Cmd"),
        "Env": c["Env"],
        "User": c["User"],
        "WorkingDir": c["WorkingDir"],
        "ExposedPorts": c["ExposedPorts"],
        "Labels": labels,
        "architecture": cfg["architecture"],
        "os": cfg["os"],
    })
}

#[test]
fn a_copy_only_dockerfile_built_by_rel_matches_buildah_and_is_reproducible() {
    let reg = Registry::start();
    let base = push_busybox(&reg);
    let host = reg.host();
    let entry = |id: &str, builder: &str| {
        format!(
            "  - id: {id}\n    images: [\"{host}/acme/{id}\"]\n    platforms: [linux/amd64]\n    builder: {builder}\n    extra_files: [LICENSE, conf]\n    build_args: {{GREETING: \"hi there\"}}\n    insecure: true\n"
        )
    };
    let cfg = format!(
        "{}dockers_v2:\n{}{}",
        builds("amd64"),
        entry("byrel", "rel"),
        entry("bybuildah", "buildah")
    );
    let dockerfile = format!(
        "# syntax=docker/dockerfile:1\nARG BASE={base}\nFROM ${{BASE}}\nARG TARGETPLATFORM\nARG GREETING=hello\nLABEL org.opencontainers.image.description=\"demo image\" greeting=\"${{GREETING}}\"\nENV APP_HOME=/srv/app \\\n    MODE=release\nWORKDIR $APP_HOME\nCOPY ${{TARGETPLATFORM}}/hello /usr/local/bin/\nCOPY --chmod=0640 LICENSE ./\nCOPY conf/ etc/\nEXPOSE 8080 9090/udp\nUSER 65532:65532\nENTRYPOINT [\"/usr/local/bin/hello\"]\nCMD [\"serve\"]\n"
    );
    let setup = |dir: &Path| {
        project(dir, &cfg);
        write(dir, "Dockerfile", &dockerfile);
        write(dir, "conf/app.toml", "port = 8080\n");
        write(dir, "conf/nested/x.txt", "x\n");
        git(dir, &["add", "-A"]);
        git(dir, &["commit", "-qm", "feat: image"]);
        git(dir, &["tag", "-f", "v1.0.0"]);
    };
    let a = tempfile::tempdir().unwrap();
    setup(a.path());
    let (code, out, err) = release(a.path(), &["--snapshot"]);
    assert_eq!(code, 0, "{out}{err}");

    let rel_layout = a.path().join("dist/images/byrel");
    let bah_layout = a.path().join("dist/images/bybuildah");
    let tag = std::fs::read_to_string(rel_layout.join("index.json")).unwrap();
    let tag: Value = serde_json::from_str(&tag).unwrap();
    let tag = tag["manifests"][0]["annotations"]["org.opencontainers.image.ref.name"]
        .as_str()
        .unwrap()
        .to_string();
    let rm = manifest_of(&rel_layout, &tag, "amd64");
    let bm = manifest_of(&bah_layout, &tag, "amd64");
    let rc = json_blob(&rel_layout, rm["config"]["digest"].as_str().unwrap());
    let bc = json_blob(&bah_layout, bm["config"]["digest"].as_str().unwrap());
    assert_eq!(config_fields(&rc), config_fields(&bc));
    assert_eq!(rc["config"]["Labels"]["greeting"], "hi there");
    assert_eq!(rc["config"]["Cmd"], serde_json::json!(["serve"]));
    assert_eq!(rc["created"], bc["created"], "both from the commit time");
    // The same base layers, then one layer each with the same files, modes and owners.
    let rl = rm["layers"].as_array().unwrap();
    let bl = bm["layers"].as_array().unwrap();
    assert_eq!(rl.len(), bl.len());
    let rfiles = layer_listing(&rel_layout, rl.last().unwrap()["digest"].as_str().unwrap());
    let bfiles = layer_listing(&bah_layout, bl.last().unwrap()["digest"].as_str().unwrap());
    let files_only = |v: &[String]| -> Vec<String> {
        v.iter().filter(|l| l.starts_with('-')).cloned().collect()
    };
    assert_eq!(files_only(&rfiles), files_only(&bfiles));
    assert!(
        rfiles.contains(&"-rw-r----- 0/0 srv/app/LICENSE".to_string()),
        "{rfiles:?}"
    );
    assert!(
        rfiles.contains(&"-rw-r--r-- 0/0 srv/app/etc/nested/x.txt".to_string()),
        "{rfiles:?}"
    );

    // Built again from another folder: the same digest.
    let b = tempfile::tempdir().unwrap();
    setup(b.path());
    let (code, out, err) = release(b.path(), &["--snapshot"]);
    assert_eq!(code, 0, "{out}{err}");
    let again = manifest_of(&b.path().join("dist/images/byrel"), &tag, "amd64");
    assert_eq!(
        serde_json::to_vec(&again).unwrap(),
        serde_json::to_vec(&rm).unwrap()
    );
    assert_eq!(
        std::fs::read(b.path().join("dist/images/byrel/index.json")).unwrap(),
        std::fs::read(rel_layout.join("index.json")).unwrap()
    );
}

#[test]
fn a_run_dockerfile_without_an_engine_stops_before_building() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = format!(
        "{}dockers_v2:\n  - images: [\"127.0.0.1:1/acme/app\"]\n    platforms: [linux/amd64]\n",
        builds("amd64")
    );
    project(dir.path(), &cfg);
    write(
        dir.path(),
        "Dockerfile",
        "FROM alpine:3.20\nARG TARGETPLATFORM\nCOPY $TARGETPLATFORM/hello /usr/bin/hello\nRUN apk add --no-cache ca-certificates\n",
    );
    // A PATH with git and Go only: no buildah, docker or podman.
    let bin = tempfile::tempdir().unwrap();
    let git_path = ok(Command::new("sh").args(["-c", "command -v git"]));
    std::os::unix::fs::symlink(git_path, bin.path().join("git")).unwrap();
    let go = common::require_go();
    std::os::unix::fs::symlink(&go, bin.path().join("go")).unwrap();
    let mut c = rel(dir.path());
    c.args(["release", "--snapshot"]).env("PATH", bin.path());
    let (code, out, err) = run(c);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        err.contains(
            "Dockerfile:4: `RUN` runs a command, which needs a container engine, and none was found"
        ),
        "{err}"
    );
    assert!(
        !dir.path().join("dist/hello_linux_amd64_v1").exists(),
        "nothing was built"
    );
}

#[test]
fn v1_dockers_and_docker_manifests_push_what_goreleaser_pushes() {
    let reg = Registry::start();
    let host = reg.host();
    let dir = tempfile::tempdir().unwrap();
    // In the style of common public configs: one `dockers` entry per architecture, then
    // manifests over them.
    let entry = |arch: &str| {
        format!(
            "  - image_templates:\n      - \"{host}/acme/tool:{{{{ version }}}}-{arch}\"\n      - \"{host}/acme/tool:latest-{arch}\"\n    use: buildx\n    goarch: {arch}\n    dockerfile: Dockerfile\n    extra_files: [LICENSE]\n    build_flag_templates:\n      - \"--pull\"\n      - \"--platform=linux/{arch}\"\n      - \"--label=org.opencontainers.image.version={{{{ version }}}}\"\n      - \"--label=org.opencontainers.image.revision={{{{ commit }}}}\"\n"
        )
    };
    let cfg = format!(
        "{}dockers:\n{}{}docker_manifests:\n  - name_template: \"{host}/acme/tool:{{{{ version }}}}\"\n    image_templates:\n      - \"{host}/acme/tool:{{{{ version }}}}-amd64\"\n      - \"{host}/acme/tool:{{{{ version }}}}-arm64\"\n  - name_template: \"{host}/acme/tool:latest\"\n    image_templates:\n      - \"{host}/acme/tool:latest-amd64\"\n      - \"{host}/acme/tool:latest-arm64\"\n",
        builds("amd64, arm64"),
        entry("amd64"),
        entry("arm64")
    );
    project(dir.path(), &cfg);
    write(
        dir.path(),
        "Dockerfile",
        "FROM scratch\nCOPY hello /usr/bin/hello\nCOPY LICENSE /\nENTRYPOINT [\"/usr/bin/hello\"]\n",
    );
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-qm", "feat: docker"]);
    git(dir.path(), &["tag", "-f", "v1.0.0"]);
    let (code, out, err) = release(dir.path(), &[]);
    assert_eq!(code, 0, "{out}{err}");
    for arch in ["amd64", "arm64"] {
        for tag in [format!("1.0.0-{arch}"), format!("latest-{arch}")] {
            let m = reg.inspect_raw(&format!("acme/tool:{tag}"));
            assert_eq!(
                m["mediaType"], "application/vnd.oci.image.manifest.v1+json",
                "{tag}: a single-platform manifest, as GoReleaser pushes"
            );
        }
        let cfg: Value = serde_json::from_str(&reg.skopeo(&[
            "inspect",
            "--config",
            "--tls-verify=false",
            &format!("docker://{host}/acme/tool:1.0.0-{arch}"),
        ]))
        .unwrap();
        assert_eq!(cfg["architecture"], arch);
        assert_eq!(
            cfg["config"]["Labels"]["org.opencontainers.image.version"],
            "1.0.0"
        );
    }
    for tag in ["1.0.0", "latest"] {
        let idx = reg.inspect_raw(&format!("acme/tool:{tag}"));
        let archs: Vec<&str> = idx["manifests"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["platform"]["architecture"].as_str().unwrap())
            .collect();
        assert_eq!(archs, vec!["amd64", "arm64"], "{tag}");
        // Each entry pins the manifest its per-architecture tag names.
        let inspected: Value = serde_json::from_str(&reg.skopeo(&[
            "inspect",
            "--tls-verify=false",
            &format!("docker://{host}/acme/tool:{tag}-amd64"),
        ]))
        .unwrap();
        assert_eq!(idx["manifests"][0]["digest"], inspected["Digest"], "{tag}");
    }
    // The binary is at the top of the v1 context, with the extra file.
    let layout = dir.path().join("dist/images/hello-dockers-0");
    let m = manifest_of(&layout, "1.0.0-amd64", "amd64");
    let files = layer_listing(&layout, m["layers"][0]["digest"].as_str().unwrap());
    assert!(
        files.contains(&"-rw-r--r-- 0/0 LICENSE".to_string()),
        "{files:?}"
    );
    assert!(
        files.iter().any(|f| f.ends_with("usr/bin/hello")),
        "{files:?}"
    );
}

/// `builder: podman`: the same engine path with podman (daemonless), a `RUN` step on the
/// busybox base, read back and pushed by rel.
#[test]
fn podman_builds_a_run_dockerfile_that_rel_pushes() {
    let reg = Registry::start();
    let base = push_busybox(&reg);
    let dir = tempfile::tempdir().unwrap();
    let host = reg.host();
    let cfg = format!(
        "{}dockers_v2:\n  - id: pod\n    images: [\"{host}/acme/pod\"]\n    platforms: [linux/amd64]\n    builder: podman\n    insecure: true\n",
        builds("amd64")
    );
    project(dir.path(), &cfg);
    write(
        dir.path(),
        "Dockerfile",
        &format!(
            "FROM {base}\nARG TARGETPLATFORM\nCOPY $TARGETPLATFORM/hello /usr/bin/hello\nRUN /usr/bin/hello > /ran-by-podman.txt\nCMD [\"/usr/bin/hello\"]\n"
        ),
    );
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-qm", "feat: podman"]);
    git(dir.path(), &["tag", "-f", "v1.0.0"]);
    let (code, out, err) = release(dir.path(), &[]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(err.contains("built by podman"), "{err}");
    let pulled = tempfile::tempdir().unwrap();
    let layout = pulled.path().join("oci");
    reg.skopeo(&[
        "copy",
        "--all",
        "--src-tls-verify=false",
        &format!("docker://{host}/acme/pod:1.0.0"),
        &format!("oci:{}:x", layout.display()),
    ]);
    let m = manifest_of(&layout, "x", "amd64");
    let root = pulled.path().join("root");
    std::fs::create_dir_all(&root).unwrap();
    extract(&layout, &m, &root);
    assert_eq!(
        std::fs::read_to_string(root.join("ran-by-podman.txt")).unwrap(),
        "hello 1.0.0 none\n"
    );
}

/// A `RUN` step for a platform this machine cannot run (no binfmt emulation here) stops the
/// release while planning, naming the platform and the line, before any build; a disabled
/// entry is left out.
#[test]
fn a_run_step_for_a_foreign_platform_without_emulation_stops_before_building() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = format!(
        "{}dockers_v2:\n  - images: [\"127.0.0.1:1/acme/app\"]\n    platforms: [linux/arm64]\n    builder: buildah\n  - images: [\"127.0.0.1:1/acme/off\"]\n    dockerfile: Missing.Dockerfile\n    disable: \"{{{{ is_snapshot }}}}\"\n",
        builds("arm64")
    );
    project(dir.path(), &cfg);
    write(
        dir.path(),
        "Dockerfile",
        "FROM scratch\nARG TARGETPLATFORM\nCOPY $TARGETPLATFORM/hello /hello\nRUN [\"/hello\"]\n",
    );
    let (code, out, err) = release(dir.path(), &["--snapshot"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        err.contains("Dockerfile:4: `RUN` for linux/arm64 needs emulation of arm64 programs"),
        "{err}"
    );
    assert!(
        !dir.path().join("dist/hello_linux_arm64").exists(),
        "nothing was built"
    );
}
