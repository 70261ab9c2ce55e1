//! `gomod.proxy`: a tagged build resolves the module at the tag through GOPROXY (a local
//! `file://` proxy folder here, in the layout the go command reads) and builds the main
//! package from it, so the binary records the module version; snapshots build the working
//! tree.

mod common;
use common::*;
use std::path::Path;
use std::process::Command;

const MODULE: &str = "example.com/tool";

fn main_go(says: &str) -> String {
    format!(
        "package main\n\nimport \"fmt\"\n\nvar version = \"dev\"\n\nfunc main() {{ fmt.Println(\"{says}\", version) }}\n"
    )
}

/// A file:// module proxy holding `example.com/tool@v1.0.0`, whose main package prints `says`.
fn proxy(root: &Path, says: &str) -> std::path::PathBuf {
    let proxy = root.join("proxy");
    let at = proxy.join(MODULE).join("@v");
    std::fs::create_dir_all(&at).unwrap();
    let go_mod = format!("module {MODULE}\n\ngo 1.21\n");
    std::fs::write(at.join("list"), "v1.0.0\n").unwrap();
    std::fs::write(
        at.join("v1.0.0.info"),
        r#"{"Version":"v1.0.0","Time":"2024-01-02T03:04:05Z"}"#,
    )
    .unwrap();
    std::fs::write(at.join("v1.0.0.mod"), &go_mod).unwrap();
    // The module zip: every file under `<module>@<version>/`, no directory entries.
    let src = root.join("zipsrc");
    let top = src.join(format!("{MODULE}@v1.0.0"));
    write(&top, "go.mod", &go_mod);
    write(&top, "cmd/tool/main.go", &main_go(says));
    let out = Command::new("zip")
        .args(["-q", "-r", "-D", "-X"])
        .arg(at.join("v1.0.0.zip"))
        .arg(format!("{MODULE}@v1.0.0"))
        .current_dir(&src)
        .output()
        .expect("zip is installed by scripts/test.sh");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    proxy
}

fn project(dir: &Path, proxy: &Path) {
    write(dir, "go.mod", &format!("module {MODULE}\n\ngo 1.21\n"));
    write(dir, "cmd/tool/main.go", &main_go("from-tree"));
    write(dir, ".gitignore", "dist/\nmodcache/\n");
    write(
        dir,
        ".release.yaml",
        &format!(
            "version: 1\nproject_name: tool\ngomod:\n  proxy: true\n  env:\n    - GOPROXY=file://{}\n    - GOSUMDB=off\n    - GOMODCACHE={}\n  mod: mod\nbuilds:\n  - id: tool\n    main: ./cmd/tool\n    ldflags: [\"-X main.version={{{{ version }}}}\"]\n    goos: [linux]\n    goarch: [amd64]\narchives:\n  - formats: [binary]\nrelease:\n  github: {{ owner: acme, name: tool }}\n",
            proxy.display(),
            dir.join("modcache").display()
        ),
    );
    init_repo(dir);
    git(dir, &["tag", "v1.0.0"]);
}

/// The module cache's files are read-only: make them removable when the test ends.
struct Writable<'a>(&'a Path);

impl Drop for Writable<'_> {
    fn drop(&mut self) {
        let _ = Command::new("chmod")
            .arg("-R")
            .arg("u+w")
            .arg(self.0)
            .status();
    }
}

#[test]
fn a_tagged_build_comes_from_the_module_proxy_and_a_snapshot_from_the_tree() {
    require_go();
    let t = tempfile::tempdir().unwrap();
    let proxy = proxy(t.path(), "from-proxy");
    let dir = t.path().join("p");
    std::fs::create_dir_all(&dir).unwrap();
    project(&dir, &proxy);
    let _w = Writable(t.path());

    // The dry run names the package by import path, built in dist/proxy/<id>.
    let (code, out, err) = rel_run(&dir, &["release", "--dry-run", "--skip", "publish"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains(&format!(" {MODULE}/cmd/tool")), "{out}");
    assert!(!dir.join("dist/proxy").exists());

    let (code, out, err) = rel_run(&dir, &["build"]);
    assert_eq!(code, 0, "{out}{err}");
    let proxy_dir = dir.join("dist/proxy/tool");
    let go_mod = std::fs::read_to_string(proxy_dir.join("go.mod")).unwrap();
    assert!(
        go_mod.starts_with("module proxy.invalid/tool\n")
            && go_mod.contains(&format!("require {MODULE} v1.0.0\n")),
        "{go_mod}"
    );
    assert!(
        std::fs::read_to_string(proxy_dir.join("go.sum"))
            .unwrap()
            .contains(&format!("{MODULE} v1.0.0 h1:")),
        "go mod tidy wrote the module's hash"
    );
    let bin = dir.join("dist/tool_linux_amd64_v1/tool");
    // The binary is the published code (the proxy's main.go), with the injected version.
    let run = Command::new(&bin).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&run.stdout), "from-proxy 1.0.0\n");
    let m = go_version_m(&bin);
    assert!(m.contains(&format!("mod\t{MODULE}\tv1.0.0\th1:")), "{m}");

    // A snapshot has no published version: it builds the working tree.
    let (code, out, err) = rel_run(&dir, &["build", "--snapshot", "--clean"]);
    assert_eq!(code, 0, "{out}{err}");
    let run = Command::new(&bin).output().unwrap();
    assert!(
        String::from_utf8_lossy(&run.stdout).starts_with("from-tree "),
        "{}",
        String::from_utf8_lossy(&run.stdout)
    );
    let m = go_version_m(&bin);
    assert!(!m.contains("\tv1.0.0\th1:"), "{m}");
    assert!(!dir.join("dist/proxy").exists());
}

#[test]
fn a_module_the_proxy_does_not_have_fails_the_build_clearly() {
    require_go();
    let t = tempfile::tempdir().unwrap();
    // An empty proxy folder: the tag was never published.
    let proxy = t.path().join("empty-proxy");
    std::fs::create_dir_all(&proxy).unwrap();
    let dir = t.path().join("p");
    std::fs::create_dir_all(&dir).unwrap();
    project(&dir, &proxy);
    let _w = Writable(t.path());
    let (code, out, err) = rel_run(&dir, &["build"]);
    assert_ne!(code, 0, "{out}{err}");
    assert!(
        err.contains("gomod.proxy: resolving example.com/tool@v1.0.0"),
        "{err}"
    );
    assert!(!dir.join("dist/tool_linux_amd64_v1/tool").exists());
}

#[test]
fn a_main_file_instead_of_a_package_is_a_config_error() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path();
    project(dir, &dir.join("proxy"));
    let cfg = std::fs::read_to_string(dir.join(".release.yaml"))
        .unwrap()
        .replace("main: ./cmd/tool", "main: ./cmd/tool/main.go");
    std::fs::write(dir.join(".release.yaml"), cfg).unwrap();
    git(dir, &["commit", "-qam", "fix: main file"]);
    git(dir, &["tag", "v1.0.1"]);
    let (code, out, err) = rel_run(dir, &["build"]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("gomod.proxy builds a package"), "{err}");
    assert!(
        !dir.join("dist").exists(),
        "nothing written before the error"
    );
}
