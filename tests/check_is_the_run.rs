//! `rel check` is the run's own checking: over generated configs, whenever
//! `rel release --snapshot` stops with exit 2 (a config or template error), `rel check`
//! exited 2 first — and a config that `rel check` refuses never releases.

mod common;
use common::*;

/// A small deterministic generator (xorshift), so a failure names a reproducible case.
struct Rng(u64);
impl Rng {
    fn pick<'a>(&mut self, options: &[&'a str]) -> &'a str {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        options[(self.0 % options.len() as u64) as usize]
    }

    /// One of `options`, but the first (a good value) four times in five: most generated
    /// configs then have one problem or none, as real ones do.
    fn field<'a>(&mut self, options: &[&'a str]) -> &'a str {
        if self.pick(&["good", "good", "good", "good", "any"]) == "good" {
            options[0]
        } else {
            self.pick(options)
        }
    }
}

fn config(r: &mut Rng) -> String {
    let binary = r.field(&[
        "tool",
        "tool",
        "\"\"",
        "\"{{ 1 // 0 }}\"",
        "\"{{ incpatch .Version }}\"",
        "\"{{ env.REL_SURELY_UNSET_X }}\"",
        "\"{{ os }}-tool\"",
        "\"{{ nope }}\"",
    ]);
    let mod_ts = r.field(&[
        "",
        "",
        "    mod_timestamp: \"{{ timestamp }}\"\n",
        "    mod_timestamp: \"yesterday\"\n",
        "    mod_timestamp: \"{{ 1 // 0 }}\"\n",
    ]);
    let hooks = r.field(&[
        "",
        "",
        "before:\n  hooks: [\"\"]\n",
        "before:\n  hooks: [\"true\"]\n",
        "before:\n  hooks: [\"echo 'open\"]\n",
        "before:\n  hooks: [\"echo {{ env.REL_SURELY_UNSET_Y }}\"]\n",
    ]);
    let archives = r.field(&[
        "",
        "",
        "archives:\n  - name_template: same\n",
        "archives:\n  - name_template: \"{{ project_name }}_{{ os }}\"\n",
        "archives:\n  - name_template: \"a/b\"\n",
        "archives:\n  - name_template: \"{{ os }}\"\n  - name_template: \"{{ os }}\"\n",
        "archives:\n  - name_template: \"{{ os }}\"\n    id: a\n  - name_template: \"{{ arch }}\"\n    id: b\n",
        "archives:\n  - name_template: artifacts.json\n    formats: [binary]\n",
    ]);
    let checksum = r.field(&[
        "",
        "",
        "checksum:\n  name_template: artifacts.json\n",
        "checksum:\n  name_template: \"{{ os }}\"\n",
        "checksum:\n  name_template: \"sums-{{ version }}\"\n",
    ]);
    let snapshot = r.field(&[
        "",
        "",
        "snapshot:\n  version_template: \"{{ version }}-dev\"\n",
        "snapshot:\n  version_template: \"{{ 1 // 0 }}\"\n",
    ]);
    let images = r.field(&[
        "",
        "",
        "images:\n  - repository: ghcr.io/acme/a..b\n",
        "images:\n  - repository: ghcr.io/acme/tool\n",
        "images:\n  - repository: \"ghcr.io/acme/{{ 1 // 0 }}\"\n",
    ]);
    let env = r.field(&[
        "",
        "",
        "env: [\"A=1\"]\n",
        "env: [\"BAD\"]\n",
        "env: [\"A={{ nope }}\"]\n",
    ]);
    format!(
        "project_name: tool\n{env}{hooks}builds:\n  - builder: command\n    binary: {binary}\n    targets: [linux_amd64_v1, linux_arm64]\n    command: [sh, -c, \"echo x > {{{{ output }}}}\"]\n{mod_ts}{archives}{checksum}{snapshot}{images}"
    )
}

#[test]
fn whenever_the_run_exits_2_check_exited_2_first() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    write(dir, ".gitignore", "dist/\n");
    write(dir, ".release.yaml", "project_name: tool\n");
    init_repo(dir);
    let mut r = Rng(0x5eed_1234_abcd);
    let (mut refused, mut released) = (0, 0);
    let mut wrong = vec![];
    for case in 0..80 {
        let cfg = config(&mut r);
        write(dir, ".release.yaml", &cfg);
        let (check, _, check_err) = rel_run(dir, &["check"]);
        let (run_code, _, run_err) = rel_run(dir, &["release", "--snapshot", "--clean"]);
        if run_code == 2 {
            refused += 1;
        }
        if run_code == 0 {
            released += 1;
        }
        if (run_code == 2 && check != 2) || (check == 2 && run_code == 0) {
            wrong.push(format!(
                "case {case}: check {check}, release {run_code}\n{cfg}\ncheck: {check_err}\nrelease: {run_err}"
            ));
        }
        assert!(
            check == 0 || check == 2,
            "case {case}: check exit {check}: {check_err}"
        );
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n-----\n"));
    // Not vacuous: the generator makes both kinds.
    assert!(
        refused > 10 && released > 5,
        "refused {refused}, released {released}"
    );
}
