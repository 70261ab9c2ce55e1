//! Matrix expansion: a build's goos × goarch × variants, minus ignores, or its `targets`.

use crate::config::locate::Seg;
use crate::config::{Build, Builder};
use crate::target::{self, Target};

/// A problem in a build's matrix, with the config path it concerns (relative to the build).
#[derive(Debug, Clone, PartialEq)]
pub struct MatrixError {
    /// Path below `builds[i]`.
    pub path: Vec<Seg>,
    /// What is wrong.
    pub message: String,
    /// Candidates for a "did you mean".
    pub candidates: Vec<String>,
    /// The offending word.
    pub word: String,
}

fn err(path: Vec<Seg>, message: String, word: &str, candidates: Vec<&str>) -> MatrixError {
    MatrixError {
        path,
        message,
        candidates: candidates.into_iter().map(String::from).collect(),
        word: word.to_string(),
    }
}

fn or_default<'a>(v: &'a [String], d: &'a [&'a str]) -> Vec<&'a str> {
    if v.is_empty() {
        d.to_vec()
    } else {
        v.iter().map(String::as_str).collect()
    }
}

/// The targets of `build`, in a stable order, or every problem found.
pub fn expand(build: &Build) -> Result<Vec<Target>, Vec<MatrixError>> {
    let mut errors = vec![];
    let mut targets = vec![];
    if !build.targets.is_empty() {
        for (i, t) in build.targets.iter().enumerate() {
            let parsed = match build.builder {
                Builder::Cargo => Target::rust(t),
                _ => Target::parse_go(t),
            };
            match parsed {
                Ok(t) => targets.push(t),
                Err(m) => errors.push(err(vec!["targets".into(), i.into()], m, t, vec![])),
            }
        }
    } else if build.builder == Builder::Cargo {
        targets.push(Target::rust(&target::host_triple()).unwrap_or_else(|_| {
            let (os, arch) = Target::host_os_arch();
            Target {
                triple: Some(target::host_triple()),
                ..Target::go(os, arch, None, None)
            }
        }));
    } else {
        let goos = or_default(&build.goos, &["linux", "darwin", "windows"]);
        let goarch = or_default(&build.goarch, &["amd64", "arm64", "386"]);
        let goarm = or_default(&build.goarm, &["6"]);
        let goamd64 = or_default(&build.goamd64, &["v1"]);
        let known_os = target::known_goos();
        let known_arch = target::known_goarch();
        for (i, os) in build.goos.iter().enumerate() {
            if !known_os.contains(&os.as_str()) {
                errors.push(err(
                    vec!["goos".into(), i.into()],
                    format!("unknown goos `{os}`"),
                    os,
                    known_os.clone(),
                ));
            }
        }
        for (i, arch) in build.goarch.iter().enumerate() {
            if !known_arch.contains(&arch.as_str()) {
                errors.push(err(
                    vec!["goarch".into(), i.into()],
                    format!("unknown goarch `{arch}`"),
                    arch,
                    known_arch.clone(),
                ));
            }
        }
        for (i, v) in build.goarm.iter().enumerate() {
            if !target::valid_goarm(v) {
                errors.push(err(
                    vec!["goarm".into(), i.into()],
                    format!(
                        "invalid goarm `{v}` (expected 5, 6 or 7, optionally with `,softfloat` or `,hardfloat`)"
                    ),
                    v,
                    vec![],
                ));
            }
        }
        for (i, v) in build.gomips.iter().enumerate() {
            if !target::GOMIPS.contains(&v.as_str()) {
                errors.push(err(
                    vec!["gomips".into(), i.into()],
                    format!("invalid gomips `{v}` (expected hardfloat or softfloat)"),
                    v,
                    target::GOMIPS.to_vec(),
                ));
            }
        }
        for (i, v) in build.goamd64.iter().enumerate() {
            if !target::GOAMD64.contains(&v.as_str()) {
                errors.push(err(
                    vec!["goamd64".into(), i.into()],
                    format!("invalid goamd64 `{v}` (expected v1, v2, v3 or v4)"),
                    v,
                    target::GOAMD64.to_vec(),
                ));
            }
        }
        for (i, ig) in build.ignore.iter().enumerate() {
            if let Some(os) = &ig.goos
                && !known_os.contains(&os.as_str())
            {
                errors.push(err(
                    vec!["ignore".into(), i.into(), "goos".into()],
                    format!("unknown goos `{os}`"),
                    os,
                    known_os.clone(),
                ));
            }
            if let Some(arch) = &ig.goarch
                && !known_arch.contains(&arch.as_str())
            {
                errors.push(err(
                    vec!["ignore".into(), i.into(), "goarch".into()],
                    format!("unknown goarch `{arch}`"),
                    arch,
                    known_arch.clone(),
                ));
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        for os in &goos {
            for arch in &goarch {
                if !target::valid_pair(os, arch) {
                    continue;
                }
                let variants: Vec<Target> = match *arch {
                    "arm" => goarm
                        .iter()
                        .map(|v| Target::go(os, arch, Some(v), None))
                        .collect(),
                    "amd64" => goamd64
                        .iter()
                        .map(|v| Target::go(os, arch, None, Some(v)))
                        .collect(),
                    a if target::is_mips(a) && !build.gomips.is_empty() => build
                        .gomips
                        .iter()
                        .map(|v| Target::go_mips(os, arch, v))
                        .collect(),
                    _ => vec![Target::go(os, arch, None, None)],
                };
                targets.extend(variants.into_iter().filter(|t| !ignored(build, t)));
            }
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut seen = std::collections::HashSet::new();
    targets.retain(|t| seen.insert(t.name()));
    if targets.is_empty() {
        let path = if build.ignore.is_empty() {
            vec!["goos".into()]
        } else {
            vec!["ignore".into()]
        };
        return Err(vec![err(
            path,
            "the build matrix is empty: every goos/goarch pair is invalid or ignored".into(),
            "",
            vec![],
        )]);
    }
    Ok(targets)
}

fn ignored(build: &Build, t: &Target) -> bool {
    build.ignore.iter().any(|ig| {
        let m = |want: &Option<String>, have: Option<&str>| {
            want.as_deref().is_none_or(|w| Some(w) == have)
        };
        m(&ig.goos, Some(&t.os))
            && m(&ig.goarch, Some(&t.arch))
            && m(&ig.goarm, t.arm.as_deref())
            && m(&ig.goamd64, t.amd64.as_deref())
            && m(&ig.gomips, t.mips.as_deref())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(b: &Build) -> Vec<String> {
        expand(b).unwrap().iter().map(Target::name).collect()
    }

    #[test]
    fn mips_abis_and_arm_float_abis_are_targets() {
        let b = Build {
            goos: vec!["linux".into()],
            goarch: vec!["mips".into(), "mips64le".into(), "arm".into()],
            goarm: vec!["7,hardfloat".into(), "6".into()],
            gomips: vec!["softfloat".into(), "hardfloat".into()],
            ignore: vec![crate::config::Ignore {
                goarch: Some("mips64le".into()),
                gomips: Some("softfloat".into()),
                ..Default::default()
            }],
            ..Build::default()
        };
        assert_eq!(
            names(&b),
            [
                "linux_mips_softfloat",
                "linux_mips_hardfloat",
                "linux_mips64le_hardfloat",
                "linux_arm_7,hardfloat",
                "linux_arm_6",
            ]
        );
        let t = Target::parse_go("linux_mipsle_softfloat").unwrap();
        assert_eq!(t.mips.as_deref(), Some("softfloat"));
        assert_eq!(
            Target::parse_go("linux_arm_7,hardfloat")
                .unwrap()
                .platform(),
            "linux/arm/v7"
        );
        let bad = Build {
            goarm: vec!["7,fast".into()],
            gomips: vec!["hard".into()],
            ..Build::default()
        };
        assert_eq!(expand(&bad).unwrap_err().len(), 2);
    }

    #[test]
    fn default_matrix_drops_invalid_pairs() {
        let b = Build::default();
        assert_eq!(
            names(&b),
            [
                "linux_amd64_v1",
                "linux_arm64",
                "linux_386",
                "darwin_amd64_v1",
                "darwin_arm64",
                "windows_amd64_v1",
                "windows_arm64",
                "windows_386"
            ]
        );
    }

    #[test]
    fn variants_and_ignores() {
        let b = Build {
            goos: vec!["linux".into(), "windows".into()],
            goarch: vec!["amd64".into(), "arm".into()],
            goarm: vec!["6".into(), "7".into()],
            goamd64: vec!["v1".into(), "v3".into()],
            ignore: vec![crate::config::Ignore {
                goos: Some("linux".into()),
                goarch: Some("arm".into()),
                goarm: Some("6".into()),
                goamd64: None,
                gomips: None,
            }],
            ..Default::default()
        };
        assert_eq!(
            names(&b),
            [
                "linux_amd64_v1",
                "linux_amd64_v3",
                "linux_arm_7",
                "windows_amd64_v1",
                "windows_amd64_v3"
            ]
        );
    }

    #[test]
    fn targets_override_and_errors() {
        let b = Build {
            targets: vec!["linux_amd64_v1".into(), "darwin_arm64".into()],
            ..Default::default()
        };
        assert_eq!(names(&b), ["linux_amd64_v1", "darwin_arm64"]);
        let b = Build {
            goos: vec!["lnux".into()],
            ..Default::default()
        };
        let e = expand(&b).unwrap_err();
        assert_eq!(e[0].message, "unknown goos `lnux`");
        let b = Build {
            goos: vec!["darwin".into()],
            goarch: vec!["386".into()],
            ..Default::default()
        };
        assert!(
            expand(&b).unwrap_err()[0]
                .message
                .contains("matrix is empty")
        );
    }
}
