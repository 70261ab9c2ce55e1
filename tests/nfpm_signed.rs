//! Signed Linux packages and the formats beyond deb: apk read back structurally and checked
//! with `openssl dgst -verify`, rpm header signatures checked by `rpmkeys -Kv`, debsigs
//! signatures by `debsig-verify`; per-format overrides and blocks read back by each
//! distribution's own tool.

mod common;
use common::*;
use std::path::{Path, PathBuf};
use std::process::Command;

/// What the tests sign with: an OpenPGP key protected by a passphrase and an RSA key for apk.
struct Keys {
    gnupg: tempfile::TempDir,
    /// Armored secret key.
    secret: String,
    /// Armored public key.
    public: PathBuf,
    /// 16-hex-digit key id.
    id: String,
    /// PEM RSA private key.
    rsa: String,
    /// PEM RSA public key.
    rsa_pub: PathBuf,
}

const PASS: &str = "correct horse";

fn keys() -> Keys {
    let key = gpg_key("Rel Test <test@rel.example>", "rsa2048", PASS);
    let g = key.home.path();
    let pem = g.join("apk.pem");
    sh(Command::new("openssl")
        .args([
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
            "-out",
        ])
        .arg(&pem));
    let rsa_pub = g.join("apk.rsa.pub");
    sh(Command::new("openssl")
        .args(["pkey", "-pubout", "-in"])
        .arg(&pem)
        .arg("-out")
        .arg(&rsa_pub));
    let rsa = std::fs::read_to_string(&pem).unwrap();
    Keys {
        secret: key.secret.clone(),
        public: key.public_armored.clone(),
        id: key.id.clone(),
        gnupg: key.home,
        rsa,
        rsa_pub,
    }
}

const CONFIG: &str = r#"project_name: tool
builds:
  - builder: command
    targets: [linux_amd64_v1]
    command: [sh, -c, "printf '#!/bin/sh\\necho tool\\n' > {{ output }}"]
nfpms:
  - id: tool
    formats: [deb, rpm, apk]
    maintainer: "Acme Maintainers <pkg@acme.example>"
    description: A tool that does things.
    license: MIT
    dependencies: [libc6]
    contents:
      - src: tool.conf
        dst: /etc/tool/tool.conf
        type: config|noreplace
    scripts:
      postinstall: scripts/postinstall.sh
    deb:
      signature:
        key_file: "{{ env.DEB_KEY }}"
    rpm:
      signature:
        key_file: keys/secret.asc
    apk:
      signature:
        key_file: keys/apk.pem
        key_name: packages@acme.example
"#;

fn project(dir: &Path, cfg: &str, k: &Keys) {
    write(dir, ".release.yaml", cfg);
    write(dir, "tool.conf", "key = value\n");
    write(dir, "scripts/postinstall.sh", "#!/bin/sh\necho installed\n");
    write(dir, "keys/secret.asc", &k.secret);
    write(dir, "keys/apk.pem", &k.rsa);
    write(dir, ".gitignore", "dist/\n");
    init_repo(dir);
}

fn release(dir: &Path, k: &Keys, pass: &str) -> (i32, String, String) {
    let mut c = rel(dir);
    c.args(["release", "--snapshot", "--clean"])
        .env("DEB_KEY", &k.secret)
        .env("REL_TOOL_PASSPHRASE", pass);
    run(c)
}

fn one(dir: &Path, ext: &str) -> PathBuf {
    let found: Vec<PathBuf> = std::fs::read_dir(dir.join("dist"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(ext))
        .collect();
    assert_eq!(found.len(), 1, "{ext}: {found:?}");
    found[0].clone()
}

/// The gzip members of an apk: each member's compressed bytes.
fn members(bytes: &[u8]) -> Vec<Vec<u8>> {
    let mut out = vec![];
    let mut rest = bytes;
    while !rest.is_empty() {
        let mut cursor = std::io::Cursor::new(rest);
        {
            let mut d = flate2::bufread::GzDecoder::new(&mut cursor);
            std::io::copy(&mut d, &mut std::io::sink()).unwrap();
        }
        let used = cursor.position() as usize;
        out.push(rest[..used].to_vec());
        rest = &rest[used..];
    }
    out
}

fn gunzip(b: &[u8]) -> Vec<u8> {
    use std::io::Read;
    let mut v = vec![];
    flate2::read::GzDecoder::new(b).read_to_end(&mut v).unwrap();
    v
}

/// The entries of an uncompressed tar (complete or cut), name → bytes.
fn tar_entries(t: &[u8]) -> Vec<(String, Vec<u8>)> {
    use std::io::Read;
    let mut full = t.to_vec();
    full.extend([0u8; 1024]);
    let mut a = tar::Archive::new(full.as_slice());
    a.entries()
        .unwrap()
        .map(|e| {
            let mut e = e.unwrap();
            let name = e.path().unwrap().to_string_lossy().into_owned();
            let mut v = vec![];
            e.read_to_end(&mut v).unwrap();
            (name, v)
        })
        .collect()
}

#[test]
fn signed_packages_verify_with_each_distributions_tools() {
    let k = keys();
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    project(dir, CONFIG, &k);
    let (code, out, err) = release(dir, &k, PASS);
    assert_eq!(code, 0, "{err}");
    assert!(
        !format!("{out}{err}").contains(PASS),
        "the passphrase is printed"
    );
    assert!(
        !format!("{out}{err}").contains("PRIVATE KEY"),
        "a key is printed"
    );

    // rpm: the header signature, checked by rpm's own keyring.
    let rpm = one(dir, ".rpm");
    let db = tempfile::tempdir().unwrap();
    sh(Command::new("rpmkeys")
        .arg("--dbpath")
        .arg(db.path())
        .arg("--import")
        .arg(&k.public));
    let checked = sh(Command::new("rpmkeys")
        .arg("--dbpath")
        .arg(db.path())
        .arg("-Kv")
        .arg(&rpm));
    let short_id = k.id[8..].to_lowercase();
    assert!(
        checked.contains(&format!(
            "Header V4 RSA/SHA256 Signature, key ID {short_id}: OK"
        )),
        "{checked}"
    );
    // One flipped byte in the header is caught.
    let mut bytes = std::fs::read(&rpm).unwrap();
    let at = bytes
        .windows(14)
        .position(|w| w == b"A tool that do")
        .unwrap();
    bytes[at] = b'B';
    let bad = dir.join("bad.rpm");
    std::fs::write(&bad, &bytes).unwrap();
    let out = Command::new("rpmkeys")
        .arg("--dbpath")
        .arg(db.path())
        .arg("-Kv")
        .arg(&bad)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        !text.contains("Signature, key ID") || text.contains("BAD"),
        "{text}"
    );
    assert!(!out.status.success(), "{text}");

    // apk: three gzip streams — signature, control, data — read back piece by piece.
    let apk = one(dir, ".apk");
    let name = apk.file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        name.starts_with("tool_0.0.0_SNAPSHOT") && name.ends_with("-r1_x86_64.apk"),
        "{name}"
    );
    let bytes = std::fs::read(&apk).unwrap();
    let m = members(&bytes);
    assert_eq!(m.len(), 3, "signature, control, data");
    let sig = tar_entries(&gunzip(&m[0]));
    assert_eq!(sig.len(), 1);
    assert_eq!(sig[0].0, ".SIGN.RSA.packages@acme.example.rsa.pub");
    let control = tar_entries(&gunzip(&m[1]));
    let pkginfo = String::from_utf8(control[0].1.clone()).unwrap();
    assert_eq!(control[0].0, ".PKGINFO");
    for want in [
        "pkgname = tool\n",
        "arch = x86_64\n",
        "maintainer = Acme Maintainers <pkg@acme.example>\n",
        "depend = libc6\n",
        "license = MIT\n",
    ] {
        assert!(pkginfo.contains(want), "{want}:\n{pkginfo}");
    }
    assert!(control.iter().any(|(n, _)| n == ".post-install"));
    // datahash is the SHA-256 of the gzipped data stream.
    let datahash = pkginfo
        .lines()
        .find_map(|l| l.strip_prefix("datahash = "))
        .unwrap();
    let sha = sh(Command::new("sha256sum").arg("-").stdin({
        let f = dir.join("data.gz");
        std::fs::write(&f, &m[2]).unwrap();
        std::fs::File::open(&f).unwrap()
    }));
    assert_eq!(sha.split_whitespace().next().unwrap(), datahash);
    // The signature verifies over the control stream with the public key users install.
    let control_gz = dir.join("control.gz");
    std::fs::write(&control_gz, &m[1]).unwrap();
    let sig_file = dir.join("sig");
    std::fs::write(&sig_file, &sig[0].1).unwrap();
    let verify = |file: &Path| {
        Command::new("openssl")
            .args(["dgst", "-sha1", "-verify"])
            .arg(&k.rsa_pub)
            .arg("-signature")
            .arg(&sig_file)
            .arg(file)
            .output()
            .unwrap()
    };
    let ok = verify(&control_gz);
    assert!(
        ok.status.success() && String::from_utf8_lossy(&ok.stdout).contains("Verified OK"),
        "{ok:?}"
    );
    let mut tampered = m[1].clone();
    let last = tampered.len() - 9;
    tampered[last] ^= 1;
    std::fs::write(&control_gz, &tampered).unwrap();
    assert!(!verify(&control_gz).status.success());
    // Every data file carries apk's SHA-1 PAX record, and the three streams read as one tar.
    let data = gunzip(&m[2]);
    let mut a = tar::Archive::new(data.as_slice());
    let mut files = 0;
    for e in a.entries().unwrap() {
        let mut e = e.unwrap();
        if e.header().entry_type() != tar::EntryType::Regular {
            continue;
        }
        files += 1;
        let sum = e
            .pax_extensions()
            .unwrap()
            .unwrap()
            .map(|x| x.unwrap())
            .find(|x| x.key().unwrap() == "APK-TOOLS.checksum.SHA1")
            .map(|x| x.value().unwrap().to_string())
            .unwrap();
        let mut body = vec![];
        std::io::Read::read_to_end(&mut e, &mut body).unwrap();
        use sha1::Digest;
        assert_eq!(sum, rel::hash::hex(&sha1::Sha1::digest(&body)));
    }
    assert_eq!(files, 2, "the binary and the config file");
    let listing = sh(Command::new("bsdtar").arg("-tf").arg(&apk));
    for want in [
        ".SIGN.RSA.",
        ".PKGINFO",
        "usr/bin/tool",
        "etc/tool/tool.conf",
    ] {
        assert!(listing.contains(want), "{want}:\n{listing}");
    }

    // deb: debsigs' origin signature, checked by debsig-verify with a policy for the key.
    let deb = one(dir, ".deb");
    let members = sh(Command::new("ar").arg("t").arg(&deb));
    assert_eq!(
        members.lines().collect::<Vec<_>>(),
        [
            "debian-binary",
            "control.tar.gz",
            "data.tar.gz",
            "_gpgorigin"
        ]
    );
    debsig_verify(&deb, &k, true);
    let mut bytes = std::fs::read(&deb).unwrap();
    let n = bytes.len();
    bytes[n / 2] ^= 0x55;
    let bad = dir.join("bad.deb");
    std::fs::write(&bad, &bytes).unwrap();
    debsig_verify(&bad, &k, false);

    // A second run gives the same bytes: signatures are made at the commit time.
    let first: Vec<Vec<u8>> = [".deb", ".rpm", ".apk"]
        .iter()
        .map(|e| std::fs::read(one(dir, e)).unwrap())
        .collect();
    let (code, _, err) = release(dir, &k, PASS);
    assert_eq!(code, 0, "{err}");
    for (i, e) in [".deb", ".rpm", ".apk"].iter().enumerate() {
        assert_eq!(std::fs::read(one(dir, e)).unwrap(), first[i], "{e} differs");
    }
}

#[test]
fn bad_keys_stop_the_release_before_any_build() {
    let k = keys();
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    let cfg = CONFIG.replace("command: [sh, -c, \"", "command: [sh, -c, \"touch built; ");
    project(dir, &cfg, &k);
    // A wrong passphrase: exit 1, before anything is built, the passphrase not shown.
    let (code, out, err) = release(dir, &k, "wrong horse battery");
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("wrong passphrase"), "{err}");
    assert!(
        !format!("{out}{err}").contains("wrong horse battery"),
        "{err}"
    );
    assert!(!dir.join("built").exists());
    // A missing key file is a config error; a file that is no key fails to load.
    for (file, code, want) in [
        ("keys/none.asc", 2, "cannot read the key file keys/none.asc"),
        ("tool.conf", 1, "is not an OpenPGP secret key"),
    ] {
        write(
            dir,
            ".release.yaml",
            &cfg.replace("key_file: keys/secret.asc", &format!("key_file: {file}")),
        );
        let (c, _, err) = release(dir, &k, PASS);
        assert_eq!(c, code, "{file}: {err}");
        assert!(err.contains(want), "{want}:\n{err}");
        assert!(err.contains("nfpms[0].rpm.signature.key_file"), "{err}");
        assert!(!dir.join("built").exists());
    }
    // A PEM that is no RSA key for apk.
    write(
        dir,
        ".release.yaml",
        &cfg.replace("key_file: keys/apk.pem", "key_file: keys/secret.asc"),
    );
    let (c, _, err) = release(dir, &k, PASS);
    assert_eq!(c, 1, "{err}");
    assert!(err.contains("nfpms[0].apk.signature.key_file"), "{err}");
    assert!(!dir.join("built").exists());
}

/// Run debsig-verify on `deb` with a policy that trusts `k` for the origin role.
fn debsig_verify(deb: &Path, k: &Keys, ok: bool) {
    let _ = &k.gnupg;
    let root = tempfile::tempdir().unwrap();
    let policies = root.path().join("policies").join(&k.id);
    let keyrings = root.path().join("keyrings").join(&k.id);
    std::fs::create_dir_all(&policies).unwrap();
    std::fs::create_dir_all(&keyrings).unwrap();
    sh(Command::new("gpg")
        .arg("--dearmor")
        .arg("--output")
        .arg(keyrings.join("debsig.gpg"))
        .arg(&k.public));
    std::fs::write(
        policies.join("rel.pol"),
        format!(
            r#"<?xml version="1.0"?>
<!DOCTYPE Policy SYSTEM "https://www.debian.org/debsig/1.0/policy.dtd">
<Policy xmlns="https://www.debian.org/debsig/1.0/">
  <Origin Name="rel" id="{id}" Description="rel test"/>
  <Selection><Required Type="origin" File="debsig.gpg" id="{id}"/></Selection>
  <Verification MinOptional="0"><Required Type="origin" File="debsig.gpg" id="{id}"/></Verification>
</Policy>
"#,
            id = k.id
        ),
    )
    .unwrap();
    let out = Command::new("debsig-verify")
        .arg("-d")
        .arg("--policies-dir")
        .arg(root.path().join("policies"))
        .arg("--keyrings-dir")
        .arg(root.path().join("keyrings"))
        .arg(deb)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.success(), ok, "{text}");
    if ok {
        assert!(text.contains("Verified package from"), "{text}");
    }
}

const PER_FORMAT: &str = r#"project_name: tool
builds:
  - builder: command
    targets: [linux_amd64_v1]
    command: [sh, -c, "printf '#!/bin/sh\\necho tool\\n' > {{ output }}"]
nfpms:
  - id: tool
    formats: [deb, rpm, archlinux]
    maintainer: "Acme <pkg@acme.example>"
    description: A tool.
    license: MIT
    version_metadata: git1
    dependencies: [base-dep]
    contents:
      - src: share
        dst: /usr/share/tool
        type: tree
      - src: tool.conf
        dst: /etc/tool.conf
        type: config
        file_info: {owner: daemon, group: daemon, mode: 0640}
      - src: README.md
        dst: /usr/share/doc/tool/README.md
        type: doc
      - dst: /var/log/tool.log
        type: ghost
      - src: completion.bash
        dst: /usr/share/bash-completion/completions/tool
        packager: deb
    overrides:
      rpm:
        dependencies: [glibc]
      deb:
        dependencies: [libc6]
    deb:
      predepends: [dpkg]
      breaks: [old-tool]
      fields: {Bugs: "https://acme.example/bugs"}
      compression: xz
      lintian_overrides: [statically-linked-binary]
      triggers: {interest: [/usr/share/tool]}
    rpm:
      summary: The tool, for rpm.
      group: Applications/System
      compression: zstd
    archlinux:
      pkgbase: tool-base
      packager: Arch Packager <arch@acme.example>
  - id: meta
    package_name: tool-meta
    meta: true
    formats: [deb]
    dependencies: [tool]
"#;

#[test]
fn per_format_settings_reach_each_package() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    write(dir, ".release.yaml", PER_FORMAT);
    write(dir, "share/a.txt", "a\n");
    write(dir, "share/sub/b.txt", "b\n");
    write(dir, "tool.conf", "k = v\n");
    write(dir, "README.md", "# tool\n");
    write(dir, "completion.bash", "complete -F _tool tool\n");
    write(dir, ".gitignore", "dist/\n");
    init_repo(dir);
    let (code, _, err) = rel_run(dir, &["release", "--snapshot", "--clean"]);
    assert_eq!(code, 0, "{err}");
    let dist = dir.join("dist");
    let find = |pred: &dyn Fn(&str) -> bool| -> PathBuf {
        std::fs::read_dir(&dist)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| pred(&p.file_name().unwrap().to_string_lossy()))
            .unwrap()
    };

    // deb: the deb block and the deb override.
    let deb = find(&|n| n.starts_with("tool_") && n.ends_with(".deb"));
    assert!(deb.to_string_lossy().contains("+git1"), "{deb:?}");
    let info = sh(Command::new("dpkg-deb").arg("-I").arg(&deb));
    for want in [
        "Pre-Depends: dpkg",
        "Depends: libc6",
        "Breaks: old-tool",
        "Bugs: https://acme.example/bugs",
        " triggers",
    ] {
        assert!(info.contains(want), "{want}:\n{info}");
    }
    assert!(!info.contains("base-dep"), "{info}");
    let triggers = sh(Command::new("dpkg-deb").arg("-I").arg(&deb).arg("triggers"));
    assert_eq!(triggers, "interest /usr/share/tool\n");
    let members = sh(Command::new("ar").arg("t").arg(&deb));
    assert!(members.contains("data.tar.xz"), "{members}");
    let listing = sh(Command::new("dpkg-deb").arg("-c").arg(&deb));
    for want in [
        "daemon/daemon",
        "./usr/share/tool/a.txt",
        "./usr/share/tool/sub/b.txt",
        "./usr/share/lintian/overrides/tool",
        "./usr/share/bash-completion/completions/tool",
    ] {
        assert!(listing.contains(want), "{want}:\n{listing}");
    }
    assert!(
        !listing.contains("tool.log"),
        "a ghost is rpm-only:\n{listing}"
    );

    // rpm: the rpm block, the rpm override, doc and ghost flags, no deb-only content.
    let rpm = find(&|n| n.ends_with(".rpm"));
    let q = |fmt: &str| sh(Command::new("rpm").args(["-qp", "--qf", fmt]).arg(&rpm));
    assert_eq!(
        q("%{SUMMARY}|%{GROUP}|%{PAYLOADCOMPRESSOR}"),
        "The tool, for rpm.|Applications/System|zstd"
    );
    assert!(q("%{VERSION}").ends_with("+git1"), "{}", q("%{VERSION}"));
    let requires = sh(Command::new("rpm").args(["-qp", "--requires"]).arg(&rpm));
    assert!(
        requires.contains("glibc") && !requires.contains("libc6"),
        "{requires}"
    );
    let docs = sh(Command::new("rpm").args(["-qp", "--docfiles"]).arg(&rpm));
    assert!(docs.contains("/usr/share/doc/tool/README.md"), "{docs}");
    let flags = q("[%{FILEFLAGS:fflags} %{FILEUSERNAME} %{FILENAMES}\n]");
    assert!(flags.contains("g root /var/log/tool.log"), "{flags}");
    assert!(flags.contains("c daemon /etc/tool.conf"), "{flags}");
    assert!(!flags.contains("bash-completion"), "{flags}");
    let files = sh(Command::new("rpm").args(["-qpl"]).arg(&rpm));
    assert!(files.contains("/usr/share/tool/sub/b.txt"), "{files}");

    // archlinux: pkgbase and packager.
    let pkg = find(&|n| n.ends_with(".pkg.tar.zst"));
    let pkginfo = sh(Command::new("bsdtar").arg("-xOf").arg(&pkg).arg(".PKGINFO"));
    assert!(pkginfo.contains("pkgbase = tool-base\n"), "{pkginfo}");
    assert!(
        pkginfo.contains("packager = Arch Packager <arch@acme.example>\n"),
        "{pkginfo}"
    );

    // The metapackage: its relations, no files but its docs.
    let meta = find(&|n| n.starts_with("tool-meta_"));
    let info = sh(Command::new("dpkg-deb").arg("-I").arg(&meta));
    assert!(info.contains("Depends: tool"), "{info}");
    let listing = sh(Command::new("dpkg-deb").arg("-c").arg(&meta));
    assert!(!listing.contains("usr/bin"), "{listing}");
}
