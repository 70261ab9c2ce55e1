//! End to end: a release pushes an image to a real OCI registry (Debian's `docker-registry`)
//! and moves the references of a config repository to its digest: a bare git repository over
//! `file://` (commit mode, with a branch that moves during the push, and a run killed right
//! after its push), and the fake GitHub (one commit through the git data API, and a pull
//! request with labels), every request checked against GitHub's OpenAPI description.

mod common;
#[path = "support/mod.rs"]
mod support;
use common::*;
use serde_json::Value;
use std::path::Path;
use support::fake_github::{Fake, Options};
use support::registry::Registry;

const KUSTOMIZATION: &str = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n# the app, pinned by the release\nresources:\n  - deployment.yaml\nimages:\n  - name: other/sidecar\n    newTag: \"2.1\"\n  - name: acme/app  # moved by rel\n    newName: old.example/acme/app\n    newTag: '0.9.0'\n    digest: sha256:0000000000000000000000000000000000000000000000000000000000000000\n";
const VALUES: &str = "replicaCount: 2\nimage:\n  repository: old.example/acme/app   # where from\n  tag: \"0.9.0\"\n  digest: \"\"\n  pullPolicy: IfNotPresent\nservice:\n  port: 80\n";
const DEPLOY: &str = "apiVersion: apps/v1\nkind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n        - name: app\n          image: \"old.example/acme/app:0.9.0\" # {\"$rel\": \"app\"}\n          ports: [{containerPort: 80}]\n";
const TERRAFORM: &str = "resource \"kubernetes_deployment\" \"app\" {\n  image = \"old.example/acme/app:0.9.0\"\n  replicas = 2\n}\n";

/// The files of a config repository after the release: the inputs with the reference moved.
fn expected(repo: &str, digest: &str) -> Vec<(&'static str, String)> {
    let full = format!("{repo}:1.0.0@{digest}");
    vec![
        (
            "apps/app/kustomization.yaml",
            KUSTOMIZATION
                .replace("old.example/acme/app", repo)
                .replace("'0.9.0'", "'1.0.0'")
                .replace(
                    "sha256:0000000000000000000000000000000000000000000000000000000000000000",
                    digest,
                ),
        ),
        (
            "apps/app/values.yaml",
            VALUES
                .replace("old.example/acme/app", repo)
                .replace("\"0.9.0\"", "\"1.0.0\"")
                .replace("digest: \"\"", &format!("digest: \"{digest}\"")),
        ),
        (
            "apps/app/deployment.yaml",
            DEPLOY.replace("old.example/acme/app:0.9.0", &full),
        ),
        (
            "infra/app.tf",
            TERRAFORM.replace("old.example/acme/app:0.9.0", &full),
        ),
    ]
}

const UPDATES: &str = "    updates:\n      - {file: apps/app/kustomization.yaml, image: app, format: kustomize, name: acme/app}\n      - {file: apps/app/values.yaml, image: app, format: helm}\n      - {file: ./apps/app/deployment.yaml, image: app, format: yaml}\n      - {file: infra/app.tf, image: app, format: regex, pattern: 'image\\s*=\\s*\"([^\"]+)\"'}\n";

fn config(registry: &str, gitops: &str) -> String {
    format!(
        r#"version: 1
project_name: app
builds:
  - builder: command
    targets: [linux_amd64_v1, linux_arm64]
    command: [sh, -c, "printf '#!/bin/sh\necho {{{{ target }}}}\n' > {{{{ output }}}} && chmod +x {{{{ output }}}}"]
images:
  - id: app
    repository: "{registry}/acme/app"
    tags: ["{{{{ version }}}}", latest]
gitops:
{gitops}"#
    )
}

/// A tagged project in `dir` with `cfg`.
fn project(dir: &Path, cfg: &str) {
    write(dir, ".release.yaml", cfg);
    write(dir, ".gitignore", "dist/\n");
    init_repo(dir);
    git(dir, &["tag", "v1.0.0"]);
}

/// A bare config repository at `bare`, its `main` holding the four files.
fn config_repo(root: &Path) -> std::path::PathBuf {
    let bare = root.join("config.git");
    let work = root.join("config-work");
    std::fs::create_dir_all(&work).unwrap();
    git(
        root,
        &["init", "-q", "--bare", "-b", "main", bare.to_str().unwrap()],
    );
    write(&work, "apps/app/kustomization.yaml", KUSTOMIZATION);
    write(&work, "apps/app/values.yaml", VALUES);
    write(&work, "apps/app/deployment.yaml", DEPLOY);
    write(&work, "infra/app.tf", TERRAFORM);
    init_repo(&work);
    git(&work, &["commit", "-q", "--amend", "-m", "config"]);
    git(
        &work,
        &["push", "-q", bare.to_str().unwrap(), "HEAD:refs/heads/main"],
    );
    bare
}

fn release(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let mut c = rel(dir);
    c.args(["release", "--skip", "publish"]).args(args);
    c.env("DOCKER_CONFIG", dir.join(".no-docker-config"));
    for (k, v) in env {
        c.env(k, v);
    }
    run(c)
}

fn commits(bare: &Path) -> Vec<String> {
    git(bare, &["log", "--format=%s", "main"])
        .lines()
        .map(String::from)
        .collect()
}

/// The file at `path` on `main`, byte for byte.
fn show(bare: &Path, path: &str) -> String {
    let out = std::process::Command::new("git")
        .args(["show", &format!("main:{path}")])
        .current_dir(bare)
        .output()
        .unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()
}

/// The digest the registry holds for `reference`, read by skopeo.
fn digest(reg: &Registry, reference: &str) -> String {
    let out = reg.skopeo(&[
        "inspect",
        "--raw",
        "--tls-verify=false",
        &format!("docker://{reference}"),
    ]);
    use sha2::Digest;
    format!("sha256:{:x}", sha2::Sha256::digest(out.as_bytes()))
}

fn artifacts(dir: &Path) -> Vec<Value> {
    serde_json::from_slice(&std::fs::read(dir.join("dist/artifacts.json")).unwrap()).unwrap()
}

#[test]
fn a_git_config_repository_gets_one_commit_by_digest_and_a_rerun_adds_none() {
    let t = tempfile::tempdir().unwrap();
    let reg = Registry::start();
    let bare = config_repo(t.path());
    let dir = t.path().join("p");
    let repo = format!("{}/acme/app", reg.host());
    project(
        &dir,
        &config(
            &reg.host(),
            &format!(
                "  - repository:\n      git: {{url: \"file://{}\"}}\n    commit_author: {{name: Deployer, email: deploy@example.com}}\n{UPDATES}",
                bare.display()
            ),
        ),
    );
    let (code, out, err) = release(&dir, &[], &[]);
    assert_eq!(code, 0, "{out}{err}");
    let d = digest(&reg, &format!("{repo}:1.0.0"));
    assert_eq!(commits(&bare), ["chore(deploy): app v1.0.0", "config"]);
    assert_eq!(
        git(&bare, &["log", "-1", "--format=%an <%ae>", "main"]).trim(),
        "Deployer <deploy@example.com>"
    );
    for (path, want) in expected(&repo, &d) {
        assert_eq!(show(&bare, path), want, "{path}");
    }
    // Recorded for `rel verify`: each file with the reference it holds.
    let arts = artifacts(&dir);
    let recorded: Vec<&Value> = arts.iter().filter(|a| a["kind"] == "gitops").collect();
    assert_eq!(recorded.len(), 4);
    for a in &recorded {
        assert_eq!(a["extra"]["digest"], d.as_str());
        assert_eq!(a["extra"]["branch"], "main");
        assert_eq!(
            a["extra"]["commit"].as_str().unwrap(),
            git(&bare, &["rev-parse", "main"]).trim()
        );
    }

    // The same release again: every file holds its reference already; no second commit.
    let (code, out, err) = release(&dir, &["--clean"], &[]);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(commits(&bare).len(), 2, "{:?}", commits(&bare));
    assert!(err.contains("already holds every reference"), "{err}");
}

#[test]
fn a_branch_that_moves_during_the_push_is_read_again_and_the_edit_reapplied() {
    let t = tempfile::tempdir().unwrap();
    let reg = Registry::start();
    let bare = config_repo(t.path());
    // On the first push, someone else's commit lands on main between rel's fetch and its
    // push, so the remote refuses rel's (no longer a fast-forward) update.
    let other = t.path().join("other");
    git(
        t.path(),
        &[
            "clone",
            "-q",
            bare.to_str().unwrap(),
            other.to_str().unwrap(),
        ],
    );
    write(&other, "README.md", "someone else's change\n");
    git(&other, &["add", "-A"]);
    git(&other, &["commit", "-q", "-m", "someone else"]);
    let hook = bare.join("hooks/pre-receive");
    std::fs::write(
        &hook,
        format!(
            "#!/bin/sh\nset -e\nif [ ! -e \"{m}\" ]; then\n  touch \"{m}\"\n  env -i PATH=\"$PATH\" HOME=\"$HOME\" git -C \"{o}\" push -q \"{b}\" HEAD:refs/heads/main\nfi\n",
            m = t.path().join("moved").display(),
            o = other.display(),
            b = bare.display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();
    let dir = t.path().join("p");
    let repo = format!("{}/acme/app", reg.host());
    project(
        &dir,
        &config(
            &reg.host(),
            &format!(
                "  - repository:\n      git: {{url: \"file://{}\"}}\n      branch: main\n{UPDATES}",
                bare.display()
            ),
        ),
    );
    let (code, out, err) = release(&dir, &[], &[]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(t.path().join("moved").exists(), "the hook ran");
    assert!(err.contains("moved on main"), "{err}");
    assert_eq!(
        commits(&bare),
        ["chore(deploy): app v1.0.0", "someone else", "config"]
    );
    assert_eq!(show(&bare, "README.md"), "someone else's change\n");
    let d = digest(&reg, &format!("{repo}:1.0.0"));
    for (path, want) in expected(&repo, &d) {
        assert_eq!(show(&bare, path), want, "{path}");
    }
}

#[test]
fn a_run_killed_after_its_push_is_rerun_without_a_second_commit() {
    let t = tempfile::tempdir().unwrap();
    let reg = Registry::start();
    let bare = config_repo(t.path());
    // Once the push is in, kill the rel process that made it (found up the process tree)
    // before it can record anything.
    let hook = bare.join("hooks/post-receive");
    std::fs::write(
        &hook,
        format!(
            "#!/bin/sh\nif [ -e \"{m}\" ]; then exit 0; fi\ntouch \"{m}\"\np=$$\nwhile [ \"$p\" -gt 1 ]; do\n  if [ \"$(cat /proc/$p/comm)\" = rel ]; then kill -9 $p; exit 0; fi\n  p=$(awk '{{print $4}}' /proc/$p/stat)\ndone\n",
            m = t.path().join("killed").display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();
    let dir = t.path().join("p");
    project(
        &dir,
        &config(
            &reg.host(),
            &format!(
                "  - repository:\n      git: {{url: \"file://{}\"}}\n{UPDATES}",
                bare.display()
            ),
        ),
    );
    let (code, out, err) = release(&dir, &[], &[]);
    assert_ne!(code, 0, "killed: {out}{err}");
    assert!(t.path().join("killed").exists(), "the hook ran");
    assert_eq!(commits(&bare).len(), 2, "the push landed");
    assert!(
        !dir.join("dist/artifacts.json").exists(),
        "nothing was recorded"
    );
    let (code, out, err) = release(&dir, &["--clean"], &[]);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(commits(&bare).len(), 2, "{:?}", commits(&bare));
    let arts = artifacts(&dir);
    assert_eq!(arts.iter().filter(|a| a["kind"] == "gitops").count(), 4);
}

#[test]
fn a_missing_marker_stops_the_release_before_anything_is_built() {
    let t = tempfile::tempdir().unwrap();
    let reg = Registry::start();
    let bare = config_repo(t.path());
    let dir = t.path().join("p");
    project(
        &dir,
        &config(
            &reg.host(),
            &format!(
                "  - repository:\n      git: {{url: \"file://{}\"}}\n    updates:\n      - {{file: apps/app/deployment.yaml, image: app, format: yaml, marker: web}}\n",
                bare.display()
            ),
        ),
    );
    let (code, out, err) = release(&dir, &[], &[]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        err.contains("gitops[0].updates[0]") && err.contains("apps/app/deployment.yaml"),
        "{err}"
    );
    assert!(
        !dir.join("dist/app_linux_amd64_v1").exists() && !dir.join("dist/images").exists(),
        "nothing was built"
    );
    assert_eq!(commits(&bare).len(), 1);

    // A file that is not there, likewise.
    let cfg = std::fs::read_to_string(dir.join(".release.yaml"))
        .unwrap()
        .replace(
            "{file: apps/app/deployment.yaml, image: app, format: yaml, marker: web}",
            "{file: apps/web/values.yaml, image: app, format: helm}",
        );
    write(&dir, ".release.yaml", &cfg);
    git(&dir, &["commit", "-qam", "config"]);
    git(&dir, &["tag", "-f", "v1.0.0"]);
    let (code, out, err) = release(&dir, &[], &[]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("holds no apps/web/values.yaml"), "{err}");
}

#[test]
fn an_unknown_image_or_a_bad_pattern_is_a_config_error() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path();
    project(
        dir,
        &config(
            "127.0.0.1:1",
            "  - repository: {owner: acme, name: deploy}\n    updates:\n      - {file: a.yaml, image: web, format: kustomize}\n      - {file: b.tf, image: app, format: regex, pattern: 'image = (\"(.*)\")'}\n",
        ),
    );
    let mut c = rel(dir);
    c.arg("check");
    let (code, _, err) = run(c);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("it needs exactly one"), "{err}");
    assert!(err.contains(".release.yaml:"), "{err}");
    let cfg = std::fs::read_to_string(dir.join(".release.yaml"))
        .unwrap()
        .replace("image = (\"(.*)\")", "image = \"(.*)\"");
    write(dir, ".release.yaml", &cfg);
    let (code, out, err) = release(dir, &["--dry-run", "--snapshot"], &[]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("no image `web`"), "{err}");
}

#[test]
fn a_snapshot_writes_the_diffs_and_pushes_nothing() {
    let t = tempfile::tempdir().unwrap();
    let reg = Registry::start();
    let bare = config_repo(t.path());
    let dir = t.path().join("p");
    project(
        &dir,
        &config(
            &reg.host(),
            &format!(
                "  - id: prod\n    repository:\n      git: {{url: \"file://{}\"}}\n{UPDATES}",
                bare.display()
            ),
        ),
    );
    let (code, out, err) = release(&dir, &["--snapshot"], &[]);
    assert_eq!(code, 0, "{out}{err}");
    let diff = std::fs::read_to_string(dir.join("dist/gitops/prod/changes.diff")).unwrap();
    let index = artifacts(&dir)
        .into_iter()
        .find(|a| a["kind"] == "image_index")
        .unwrap();
    let d = index["extra"]["digest"].as_str().unwrap().to_string();
    assert!(diff.contains("--- a/apps/app/kustomization.yaml"), "{diff}");
    assert!(diff.contains(&format!("+    digest: {d}")), "{diff}");
    assert!(
        diff.contains(&format!(
            "+          image: \"{}/acme/app:{}@{d}\"",
            reg.host(),
            index["extra"]["tag"].as_str().unwrap()
        )),
        "{diff}"
    );
    assert_eq!(commits(&bare).len(), 1, "a snapshot pushes nothing");

    // The dry run prints the same diff, the digest still to come, and writes nothing.
    let (code, out, err) = release(&dir, &["--dry-run", "--clean"], &[]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("would commit to file://") && out.contains("on the default branch"),
        "{out}"
    );
    assert_eq!(commits(&bare).len(), 1);
    assert!(
        out.contains(&format!(
            "+          image: \"{}/acme/app:1.0.0@sha256:<digest pushed by this release>\"",
            reg.host()
        )),
        "{out}"
    );
}

fn github_config(registry: &str, fake: &Fake, gitops: &str) -> String {
    format!(
        "{}release:\n  github: {{owner: acme, name: app}}\n  github_urls: {{api: \"{}\", uploads: \"{}\"}}\n",
        config(registry, gitops),
        fake.api(),
        fake.uploads()
    )
}

fn seed(fake: &Fake, repo: &str) {
    for (path, text) in [
        ("apps/app/kustomization.yaml", KUSTOMIZATION),
        ("apps/app/values.yaml", VALUES),
        ("apps/app/deployment.yaml", DEPLOY),
        ("infra/app.tf", TERRAFORM),
    ] {
        fake.tap_write(repo, path, text.as_bytes());
    }
}

#[test]
fn a_github_repository_gets_one_commit_or_one_pull_request() {
    let t = tempfile::tempdir().unwrap();
    let reg = Registry::start();
    let fake = Fake::start(Options::default());
    fake.add_tap("acme/deploy", "deploy-token", true);
    seed(&fake, "acme/deploy");
    fake.add_tap("acme/staging", "deploy-token", true);
    seed(&fake, "acme/staging");
    let dir = t.path().join("p");
    let repo = format!("{}/acme/app", reg.host());
    project(
        &dir,
        &github_config(
            &reg.host(),
            &fake,
            &format!(
                "  - repository: {{owner: acme, name: deploy, token: \"{{{{ env.DEPLOY_TOKEN }}}}\"}}\n{UPDATES}  - repository: {{owner: acme, name: staging, token: \"{{{{ env.DEPLOY_TOKEN }}}}\"}}\n    mode: pull_request\n    pull_request: {{title: \"Deploy {{{{ tag }}}}\", labels: [deploy, automated]}}\n{UPDATES}"
            ),
        ),
    );
    let env = [("DEPLOY_TOKEN", "deploy-token")];
    let (code, out, err) = release(&dir, &[], &env);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        !err.contains("deploy-token"),
        "the token never reaches output"
    );
    let d = digest(&reg, &format!("{repo}:1.0.0"));
    let deploy = fake.tap("acme/deploy");
    assert_eq!(
        deploy.commits.len(),
        5,
        "four seeds and one commit for all four files: {:?}",
        deploy.commits
    );
    assert_eq!(deploy.commits[4], "chore(deploy): app v1.0.0");
    for (path, want) in expected(&repo, &d) {
        assert_eq!(
            String::from_utf8(deploy.file("main", path).unwrap().clone()).unwrap(),
            want,
            "{path}"
        );
    }
    let staging = fake.tap("acme/staging");
    assert_eq!(staging.pulls.len(), 1);
    let pr = &staging.pulls[0];
    assert_eq!(pr["title"], "Deploy v1.0.0");
    assert_eq!(pr["base"]["ref"], "main");
    let branch = "rel/app-1.0.0";
    assert_eq!(pr["head"]["label"], format!("acme:{branch}"));
    assert_eq!(
        staging.labels,
        [(1, "deploy".to_string()), (1, "automated".to_string())]
    );
    for (path, want) in expected(&repo, &d) {
        assert_eq!(
            String::from_utf8(staging.file(branch, path).unwrap().clone()).unwrap(),
            want,
            "{path}"
        );
        assert_eq!(
            staging.file("main", path).unwrap().as_slice(),
            seed_text(path).as_bytes(),
            "main is untouched until the pull request is merged"
        );
    }
    assert!(fake.violations().is_empty(), "{:?}", fake.violations());

    // A re-run finds both landed: no commit, no second pull request.
    let (code, out, err) = release(&dir, &["--clean"], &env);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(fake.tap("acme/deploy").commits.len(), 5);
    assert_eq!(fake.tap("acme/staging").commits.len(), 5);
    assert_eq!(fake.tap("acme/staging").pulls.len(), 1);
    assert!(fake.violations().is_empty(), "{:?}", fake.violations());
}

fn seed_text(path: &str) -> &'static str {
    match path {
        "apps/app/kustomization.yaml" => KUSTOMIZATION,
        "apps/app/values.yaml" => VALUES,
        "apps/app/deployment.yaml" => DEPLOY,
        _ => TERRAFORM,
    }
}

#[test]
fn a_read_only_token_stops_the_release_before_anything_is_built() {
    let t = tempfile::tempdir().unwrap();
    let reg = Registry::start();
    let fake = Fake::start(Options::default());
    fake.add_tap("acme/deploy", "deploy-token", false);
    seed(&fake, "acme/deploy");
    let dir = t.path().join("p");
    project(
        &dir,
        &github_config(
            &reg.host(),
            &fake,
            &format!("  - repository: {{owner: acme, name: deploy}}\n{UPDATES}"),
        ),
    );
    let (code, out, err) = release(&dir, &[], &[("GITHUB_TOKEN", "deploy-token")]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        err.contains("cannot push to acme/deploy") && err.contains("GITHUB_TOKEN"),
        "{err}"
    );
    assert!(!dir.join("dist/images").exists(), "nothing was built");
    assert_eq!(fake.tap("acme/deploy").commits.len(), 4);
}

/// An OpenSSH server on a free loopback port that lets in `authorized` only; killed on drop.
struct Sshd(std::process::Child);

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn keygen(path: &Path) {
    let out = std::process::Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "test", "-f"])
        .arg(path)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
}

fn sshd(dir: &Path, authorized: &Path) -> (Sshd, u16) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    keygen(&dir.join("host_key"));
    std::fs::copy(authorized, dir.join("authorized_keys")).unwrap();
    std::fs::create_dir_all("/run/sshd").unwrap();
    let cfg = dir.join("sshd_config");
    std::fs::write(
        &cfg,
        format!(
            "Port {port}\nListenAddress 127.0.0.1\nHostKey {d}/host_key\nPidFile {d}/sshd.pid\nAuthorizedKeysFile {d}/authorized_keys\nStrictModes no\nPermitRootLogin prohibit-password\nPasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\n",
            d = dir.display()
        ),
    )
    .unwrap();
    let child = std::process::Command::new("/usr/sbin/sshd")
        .args(["-D", "-e", "-f"])
        .arg(&cfg)
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("sshd (openssh-server) runs");
    for _ in 0..200 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(25));
    }
    (Sshd(child), port)
}

#[test]
fn a_config_repository_over_ssh_is_reached_with_its_own_key() {
    let t = tempfile::tempdir().unwrap();
    let reg = Registry::start();
    let bare = config_repo(t.path());
    let keys = t.path().join("keys");
    std::fs::create_dir_all(&keys).unwrap();
    keygen(&keys.join("deploy"));
    keygen(&keys.join("stranger"));
    let (_sshd, port) = sshd(&keys, &keys.join("deploy.pub"));
    let dir = t.path().join("p");
    let user = std::env::var("USER").unwrap_or_else(|_| "root".into());
    let gitops = |key: &str| {
        format!(
            "  - repository:\n      git: {{url: \"ssh://{user}@127.0.0.1:{port}{}\", private_key: \"{key}\"}}\n{UPDATES}",
            bare.display()
        )
    };
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(keys.join("deploy"), dir.join("deploy_key")).unwrap();
    std::fs::copy(keys.join("stranger"), dir.join("stranger_key")).unwrap();
    write(&dir, ".gitignore", "dist/\n*_key\n");
    project(&dir, &config(&reg.host(), &gitops("stranger_key")));
    // Known hosts go to the run's own HOME, not the machine's.
    let home = t.path().to_str().unwrap().to_string();
    let env = [("HOME", home.as_str())];

    // A key the server does not know: stopped before the build.
    let (code, out, err) = release(&dir, &[], &env);
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("gitops[0]") && err.contains("ssh://"), "{err}");
    assert!(!dir.join("dist/images").exists(), "nothing was built");
    assert!(!err.contains("BEGIN OPENSSH PRIVATE KEY"), "{err}");

    // The deploy key: one commit, by digest.
    write(
        &dir,
        ".release.yaml",
        &config(&reg.host(), &gitops("deploy_key")),
    );
    git(&dir, &["commit", "-qam", "fix: the deploy key"]);
    git(&dir, &["tag", "-f", "v1.0.0"]);
    let (code, out, err) = release(&dir, &[], &env);
    assert_eq!(code, 0, "{out}{err}");
    let repo = format!("{}/acme/app", reg.host());
    let d = digest(&reg, &format!("{repo}:1.0.0"));
    assert_eq!(commits(&bare), ["chore(deploy): app v1.0.0", "config"]);
    for (path, want) in expected(&repo, &d) {
        assert_eq!(show(&bare, path), want, "{path}");
    }
}

#[test]
fn rel_verify_reports_a_config_file_that_no_longer_holds_the_digest() {
    let t = tempfile::tempdir().unwrap();
    let reg = Registry::start();
    let fake = Fake::start(Options {
        repo: "app".into(),
        ..Options::default()
    });
    fake.add_tap("acme/deploy", "deploy-token", true);
    seed(&fake, "acme/deploy");
    let bare = config_repo(t.path());
    let dir = t.path().join("p");
    project(
        &dir,
        &github_config(
            &reg.host(),
            &fake,
            &format!(
                "  - repository: {{owner: acme, name: deploy, token: \"{{{{ env.DEPLOY_TOKEN }}}}\"}}\n{UPDATES}  - repository:\n      git: {{url: \"file://{}\"}}\n{UPDATES}",
                bare.display()
            ),
        ),
    );
    let env = |c: &mut std::process::Command| {
        c.env("GITHUB_TOKEN", "fake-token")
            .env("DEPLOY_TOKEN", "deploy-token")
            .env("DOCKER_CONFIG", dir.join(".no-docker-config"));
    };
    // `--verify` ends the release with `rel verify`.
    let mut c = rel(&dir);
    c.args(["release", "--verify"]);
    env(&mut c);
    let (code, out, err) = run(c);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("ok    gitops"), "{out}");
    let verify = || {
        let mut c = rel(&dir);
        c.args(["verify", "--json"]);
        env(&mut c);
        let (code, out, err) = run(c);
        let doc: Value = serde_json::from_str(&out).unwrap_or_else(|_| panic!("{out}{err}"));
        (code, doc)
    };
    let (code, doc) = verify();
    assert_eq!(code, 0, "{doc:#}");
    let gitops: Vec<&Value> = doc["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["name"] == "gitops")
        .collect();
    assert_eq!(gitops.len(), 8, "four files in each repository: {doc:#}");
    assert!(gitops.iter().all(|c| c["ok"] == true), "{doc:#}");

    // Someone moves one file of each repository back to the old image.
    fake.tap_write("acme/deploy", "apps/app/values.yaml", VALUES.as_bytes());
    let work = t.path().join("back");
    git(
        t.path(),
        &[
            "clone",
            "-q",
            bare.to_str().unwrap(),
            work.to_str().unwrap(),
        ],
    );
    write(&work, "infra/app.tf", TERRAFORM);
    git(&work, &["commit", "-qam", "roll back"]);
    git(&work, &["push", "-q", "origin", "HEAD:main"]);
    let (code, doc) = verify();
    assert_eq!(code, 1, "{doc:#}");
    let failed: Vec<String> = doc["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["ok"] == false)
        .map(|c| c["subject"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        failed,
        [
            "acme/deploy@main:apps/app/values.yaml".to_string(),
            format!("file://{}@main:infra/app.tf", bare.display()),
        ],
        "{doc:#}"
    );
}
