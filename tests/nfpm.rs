//! Linux packages (`nfpms`): `.deb` files written by rel, read back by Debian's own tools —
//! `dpkg-deb`, `dpkg --root` installs, `lintian` — reproducible from the commit.

mod common;
use common::*;
use std::path::Path;
use std::process::Command;

const CONFIG: &str = r#"project_name: tool
builds:
  - builder: command
    targets: [linux_amd64_v1, linux_arm64, darwin_arm64]
    command: [sh, -c, "printf '#!/bin/sh\\necho tool\\n' > {{ output }}"]
nfpms:
  - formats: [deb, rpm, archlinux]
    maintainer: "Acme Maintainers <pkg@acme.example>"
    description: |-
      A tool that does things.
      It does them well, and reproducibly.

      A second paragraph.
    homepage: https://acme.example/tool
    license: MIT
    vendor: Acme
    dependencies: [libc6]
    contents:
      - src: tool.conf
        dst: /etc/tool/tool.conf
        type: config|noreplace
        file_info: {mode: 0640}
      - src: docs/*.md
        dst: /usr/share/doc/tool/
      - dst: /var/lib/tool
        type: dir
      - src: /usr/bin/tool
        dst: /usr/bin/tool-alias
        type: symlink
    scripts:
      postinstall: scripts/postinstall.sh
"#;

fn project(dir: &Path, cfg: &str) {
    write(dir, ".release.yaml", cfg);
    write(dir, "tool.conf", "key = value\n");
    write(dir, "docs/usage.md", "# usage\n");
    write(
        dir,
        "scripts/postinstall.sh",
        "#!/bin/sh\nset -e\necho installed\n",
    );
    write(dir, ".gitignore", "dist/\n");
    init_repo(dir);
}

fn packages(dir: &Path, ext: &str) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir.join("dist"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(ext))
        .collect();
    v.sort();
    v
}

fn debs(dir: &Path) -> Vec<String> {
    packages(dir, ".deb")
}

#[test]
fn debs_read_install_and_pass_lintian() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    project(dir, CONFIG);
    let (code, out, err) = rel_run(dir, &["release", "--snapshot", "--dry-run"]);
    assert_eq!(code, 0, "{err}");
    let short = git(dir, &["rev-parse", "--short", "HEAD"]);
    let amd64 = format!("tool_0.0.0~SNAPSHOT.{short}_amd64.deb");
    assert!(
        out.contains(&format!("dist/{amd64} (tool 0.0.0~SNAPSHOT.{short} amd64")),
        "{out}"
    );
    let (code, _, err) = rel_run(dir, &["release", "--snapshot", "--clean"]);
    assert_eq!(code, 0, "{err}");
    // Linux targets only, one package each.
    assert_eq!(
        debs(dir),
        [
            amd64.clone(),
            format!("tool_0.0.0~SNAPSHOT.{short}_arm64.deb")
        ]
    );
    let deb = dir.join("dist").join(&amd64);
    let info = sh(Command::new("dpkg-deb").arg("-I").arg(&deb));
    for want in [
        "Package: tool",
        &format!("Version: 0.0.0~SNAPSHOT.{short}"),
        "Architecture: amd64",
        "Maintainer: Acme Maintainers <pkg@acme.example>",
        "Depends: libc6",
        "Description: A tool that does things.",
        " It does them well, and reproducibly.",
        " .",
        "Homepage: https://acme.example/tool",
        "postinst",
        "conffiles",
    ] {
        assert!(info.contains(want), "{want}:\n{info}");
    }
    let listing = sh(Command::new("dpkg-deb").arg("-c").arg(&deb));
    for want in [
        "-rwxr-xr-x root/root",
        "./usr/bin/tool\n",
        "-rw-r----- root/root",
        "./etc/tool/tool.conf",
        "./usr/share/doc/tool/usage.md",
        "./usr/share/doc/tool/copyright",
        "./usr/share/doc/tool/changelog.gz",
        "./var/lib/tool/",
        "./usr/bin/tool-alias -> /usr/bin/tool",
    ] {
        assert!(listing.contains(want), "{want}:\n{listing}");
    }
    // dpkg installs it into an empty root, runs the script, and lists it installed.
    let root = tempfile::tempdir().unwrap();
    let admin = root.path().join("var/lib/dpkg");
    std::fs::create_dir_all(admin.join("updates")).unwrap();
    std::fs::create_dir_all(admin.join("info")).unwrap();
    std::fs::write(admin.join("status"), "").unwrap();
    let installed = sh(Command::new("dpkg")
        .arg(format!("--root={}", root.path().display()))
        .args([
            "--force-script-chrootless",
            "--force-depends",
            "--log=/dev/null",
            "-i",
        ])
        .arg(&deb));
    assert!(
        installed.contains("installed"),
        "the postinst ran: {installed}"
    );
    let status = sh(Command::new("dpkg")
        .arg(format!("--root={}", root.path().display()))
        .args(["-s", "tool"]));
    assert!(status.contains("Status: install ok installed"), "{status}");
    assert_eq!(
        std::fs::read_to_string(root.path().join("etc/tool/tool.conf")).unwrap(),
        "key = value\n"
    );
    // lintian: no errors.
    let lint = Command::new("lintian")
        .args(["--tag-display-limit", "0", "--allow-root"])
        .arg(&deb)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&lint.stdout);
    let errors: Vec<&str> = text.lines().filter(|l| l.starts_with("E:")).collect();
    assert!(errors.is_empty(), "lintian errors:\n{text}");
    // The rpm: rpm itself reads, verifies and installs it.
    let rpm_name = format!("tool-0.0.0~SNAPSHOT.{short}-1.x86_64.rpm");
    assert_eq!(
        packages(dir, ".rpm"),
        [
            format!("tool-0.0.0~SNAPSHOT.{short}-1.aarch64.rpm"),
            rpm_name.clone()
        ]
    );
    let rpm = dir.join("dist").join(&rpm_name);
    let info = sh(Command::new("rpm").arg("-qpi").arg(&rpm));
    for want in [
        "Name        : tool",
        &format!("Version     : 0.0.0~SNAPSHOT.{short}"),
        "Release     : 1",
        "Architecture: x86_64",
        "License     : MIT",
        "Build Host  : (none)",
        "Packager    : Acme Maintainers <pkg@acme.example>",
        "URL         : https://acme.example/tool",
        "Summary     : A tool that does things.",
    ] {
        assert!(info.contains(want), "{want}:\n{info}");
    }
    let files = sh(Command::new("rpm").arg("-qplv").arg(&rpm));
    for want in [
        "-rwxr-xr-x    1 root     root",
        "/usr/bin/tool\n",
        "-rw-r-----    1 root     root",
        "/etc/tool/tool.conf",
        "/usr/share/doc/tool/usage.md",
        "/var/lib/tool",
        "/usr/bin/tool-alias -> /usr/bin/tool",
    ] {
        assert!(files.contains(want), "{want}:\n{files}");
    }
    let config = sh(Command::new("rpm").arg("-qpc").arg(&rpm));
    assert_eq!(config.trim(), "/etc/tool/tool.conf");
    let requires = sh(Command::new("rpm").arg("-qpR").arg(&rpm));
    assert!(requires.contains("libc6"), "{requires}");
    let scripts = sh(Command::new("rpm").arg("-qp").arg("--scripts").arg(&rpm));
    assert!(scripts.contains("echo installed"), "{scripts}");
    let digests = sh(Command::new("rpm").arg("-K").arg(&rpm));
    assert!(digests.contains("digests OK"), "{digests}");
    let rroot = tempfile::tempdir().unwrap();
    let db = rroot.path().join("db");
    sh(Command::new("rpm")
        .arg("--root")
        .arg(rroot.path())
        .arg("--dbpath")
        .arg(&db)
        .arg("--initdb"));
    sh(Command::new("rpm")
        .arg("--root")
        .arg(rroot.path())
        .arg("--dbpath")
        .arg(&db)
        .args(["-i", "--nodeps", "--noscripts"])
        .arg(&rpm));
    let q = sh(Command::new("rpm")
        .arg("--root")
        .arg(rroot.path())
        .arg("--dbpath")
        .arg(&db)
        .args(["-q", "tool"]));
    assert_eq!(q.trim(), format!("tool-0.0.0~SNAPSHOT.{short}-1.x86_64"));
    assert!(rroot.path().join("usr/bin/tool").is_file());
    // The Arch Linux package: pacman reads it, installs it into an empty root, and finds
    // every file as the package's .MTREE says.
    let pkg_name = format!("tool-0.0.0.SNAPSHOT.{short}-1-x86_64.pkg.tar.zst");
    assert_eq!(
        packages(dir, ".pkg.tar.zst"),
        [
            format!("tool-0.0.0.SNAPSHOT.{short}-1-aarch64.pkg.tar.zst"),
            pkg_name.clone()
        ]
    );
    let pkg = dir.join("dist").join(&pkg_name);
    let info = sh(Command::new("pacman").arg("-Qip").arg(&pkg));
    for want in [
        "Name            : tool",
        &format!("Version         : 0.0.0.SNAPSHOT.{short}-1"),
        "Architecture    : x86_64",
        "Depends On      : libc6",
        "Packager        : Acme Maintainers <pkg@acme.example>",
        "Install Script  : Yes",
    ] {
        assert!(info.contains(want), "{want}:\n{info}");
    }
    let pkginfo = sh(Command::new("bsdtar").arg("-xOf").arg(&pkg).arg(".PKGINFO"));
    assert!(pkginfo.contains("backup = etc/tool/tool.conf"), "{pkginfo}");
    let listing = sh(Command::new("bsdtar").arg("-tvf").arg(&pkg));
    let first: Vec<&str> = listing
        .lines()
        .take(3)
        .filter_map(|l| l.split_whitespace().last())
        .collect();
    assert_eq!(first, [".MTREE", ".PKGINFO", ".INSTALL"], "{listing}");
    let proot = tempfile::tempdir().unwrap();
    let pdb = proot.path().join("var/lib/pacman");
    std::fs::create_dir_all(&pdb).unwrap();
    sh(Command::new("pacman")
        .arg("-U")
        .arg("--root")
        .arg(proot.path())
        .arg("--dbpath")
        .arg(&pdb)
        .args(["--noconfirm", "-dd", "--noscriptlet"])
        .arg(&pkg));
    let check = sh(Command::new("pacman")
        .arg("-Qkk")
        .arg("--root")
        .arg(proot.path())
        .arg("--dbpath")
        .arg(&pdb)
        .arg("tool"));
    assert!(check.contains("0 altered files"), "{check}");
    assert!(proot.path().join("usr/bin/tool").is_file());
    // The package is an artifact: in the checksum file and artifacts.json.
    let arts = std::fs::read_to_string(dir.join("dist/artifacts.json")).unwrap();
    assert!(
        arts.contains("\"linux_package\"") && arts.contains(&amd64),
        "{arts}"
    );
    let sums = std::fs::read_dir(dir.join("dist"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().ends_with("checksums.txt"))
        .unwrap();
    let check = sh(Command::new("sha256sum")
        .arg("-c")
        .arg(&sums)
        .current_dir(dir.join("dist")));
    assert!(check.contains(&format!("{amd64}: OK")), "{check}");
}

#[test]
fn packages_are_byte_reproducible_from_two_folders() {
    let a = tempfile::tempdir().unwrap();
    project(a.path(), CONFIG);
    let b = tempfile::tempdir().unwrap();
    let status = Command::new("git")
        .args(["clone", "-q"])
        .arg(a.path())
        .arg(b.path().join("p"))
        .status()
        .unwrap();
    assert!(status.success());
    let bp = b.path().join("p");
    for dir in [a.path(), bp.as_path()] {
        let (code, _, err) = rel_run(dir, &["release", "--snapshot", "--clean"]);
        assert_eq!(code, 0, "{err}");
    }
    let names = packages(a.path(), "");
    let names: Vec<String> = names
        .into_iter()
        .filter(|n| n.ends_with(".deb") || n.ends_with(".rpm") || n.ends_with(".pkg.tar.zst"))
        .collect();
    assert_eq!(names.len(), 6, "{names:?}");
    assert_eq!(packages(a.path(), ".zst"), packages(&bp, ".zst"));
    assert_eq!(packages(a.path(), ".rpm"), packages(&bp, ".rpm"));
    assert_eq!(debs(a.path()), debs(&bp));
    for n in names {
        assert_eq!(
            std::fs::read(a.path().join("dist").join(&n)).unwrap(),
            std::fs::read(bp.join("dist").join(&n)).unwrap(),
            "{n} differs"
        );
    }
}

#[test]
fn bad_package_configs_stop_before_anything_is_written() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "formats: [ipk]",
            "formats: [ipk]\n",
            "does not write `ipk` packages yet",
        ),
        ("formats: [dep]", "formats: [dep]\n", "did you mean `deb`?"),
        (
            "relative dst",
            "contents:\n      - {src: tool.conf, dst: etc/tool.conf}\n",
            "must be an absolute path",
        ),
        (
            "escaping dst",
            "contents:\n      - {src: tool.conf, dst: /etc/../../x}\n",
            "without `..`",
        ),
        (
            "two at one dst",
            "contents:\n      - {src: tool.conf, dst: /etc/x}\n      - {src: tool.conf, dst: /etc/x}\n",
            "two contents would be installed at /etc/x",
        ),
        (
            "unknown type",
            "contents:\n      - {src: tool.conf, dst: /etc/x, type: config-ish}\n",
            "unknown content type `config-ish`",
        ),
        (
            "missing script",
            "scripts:\n      preinstall: scripts/nope.sh\n",
            "scripts/nope.sh is not a file",
        ),
        ("unknown build", "ids: [nope]\n", "unknown build id `nope`"),
        (
            "colliding names",
            "file_name_template: same\n",
            "two outputs would be written to dist/same.deb",
        ),
    ];
    for (name, extra, want) in cases {
        let d = tempfile::tempdir().unwrap();
        let dir = d.path();
        let cfg = format!(
            "project_name: tool\nbuilds:\n  - builder: command\n    targets: [linux_amd64_v1, linux_arm64]\n    command: [sh, -c, \"touch built; echo x > {{{{ output }}}}\"]\nnfpms:\n  - maintainer: a <a@b.c>\n    {extra}"
        );
        project(dir, &cfg);
        for args in [&["check"][..], &["release", "--snapshot", "--clean"][..]] {
            let (code, _, err) = rel_run(dir, args);
            assert_eq!(code, 2, "{name}: {args:?}: {err}");
            assert!(err.contains(want), "{name}: {want}:\n{err}");
        }
        assert!(!dir.join("built").exists(), "{name}: nothing was built");
        assert!(!dir.join("dist").exists(), "{name}: nothing was written");
    }
    // A content glob that matches nothing is found when packaging (files may come from
    // hooks): exit 1, no package presented as made.
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    project(
        dir,
        "project_name: tool\nbuilds:\n  - builder: command\n    targets: [linux_amd64_v1]\n    command: [sh, -c, \"echo x > {{ output }}\"]\nnfpms:\n  - contents:\n      - {src: \"nothing/*.txt\", dst: /usr/share/tool/}\n",
    );
    let (code, _, err) = rel_run(dir, &["release", "--snapshot", "--clean"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("matches no file"), "{err}");
    assert!(debs(dir).is_empty());
}
