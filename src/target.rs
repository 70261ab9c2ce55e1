//! Build targets: the GOOS×GOARCH matrix, its variants, and Rust target triples.
//!
//! A target's name (`linux_amd64_v1`, `linux_arm_7`, `darwin_arm64`, or a Rust triple) is
//! what appears in `dist/<build>_<target>/` and in `targets:` overrides, so parsing and
//! printing it live together here.

use serde::Serialize;

/// Valid GOOS/GOARCH pairs (`go tool dist list`, Go 1.27).
pub const GO_PAIRS: &[(&str, &str)] = &[
    ("aix", "ppc64"),
    ("android", "386"),
    ("android", "amd64"),
    ("android", "arm"),
    ("android", "arm64"),
    ("darwin", "amd64"),
    ("darwin", "arm64"),
    ("dragonfly", "amd64"),
    ("freebsd", "386"),
    ("freebsd", "amd64"),
    ("freebsd", "arm"),
    ("freebsd", "arm64"),
    ("freebsd", "riscv64"),
    ("illumos", "amd64"),
    ("ios", "amd64"),
    ("ios", "arm64"),
    ("js", "wasm"),
    ("linux", "386"),
    ("linux", "amd64"),
    ("linux", "arm"),
    ("linux", "arm64"),
    ("linux", "loong64"),
    ("linux", "mips"),
    ("linux", "mips64"),
    ("linux", "mips64le"),
    ("linux", "mipsle"),
    ("linux", "ppc64"),
    ("linux", "ppc64le"),
    ("linux", "riscv64"),
    ("linux", "s390x"),
    ("netbsd", "386"),
    ("netbsd", "amd64"),
    ("netbsd", "arm"),
    ("netbsd", "arm64"),
    ("openbsd", "386"),
    ("openbsd", "amd64"),
    ("openbsd", "arm"),
    ("openbsd", "arm64"),
    ("openbsd", "ppc64"),
    ("openbsd", "riscv64"),
    ("plan9", "386"),
    ("plan9", "amd64"),
    ("plan9", "arm"),
    ("solaris", "amd64"),
    ("wasip1", "wasm"),
    ("windows", "386"),
    ("windows", "amd64"),
    ("windows", "arm64"),
];

/// Valid `goarm` versions; each may carry Go's float ABI, as in `7,hardfloat`.
pub const GOARM: &[&str] = &["5", "6", "7"];
/// Valid `gomips` values (GOMIPS for mips/mipsle, GOMIPS64 for mips64/mips64le).
pub const GOMIPS: &[&str] = &["hardfloat", "softfloat"];

/// Whether `v` is a GOARM value Go accepts: `5`–`7`, optionally `,softfloat`/`,hardfloat`
/// (Go 1.22 and later).
pub fn valid_goarm(v: &str) -> bool {
    let (version, abi) = match v.split_once(',') {
        Some((n, abi)) => (n, Some(abi)),
        None => (v, None),
    };
    GOARM.contains(&version) && abi.is_none_or(|a| GOMIPS.contains(&a))
}

/// The ARM version of a `goarm` value without its float ABI (`7,hardfloat` is version 7):
/// what package architectures (`armv7hl`, `armhf`) and image platforms go by.
pub fn arm_version(arm: Option<&str>) -> Option<&str> {
    arm.map(|a| a.split(',').next().unwrap_or(a))
}

/// Whether the architecture takes a `gomips` variant.
pub fn is_mips(arch: &str) -> bool {
    matches!(arch, "mips" | "mipsle" | "mips64" | "mips64le")
}
/// Valid `goamd64` values.
pub const GOAMD64: &[&str] = &["v1", "v2", "v3", "v4"];

/// Every GOOS known to the Go toolchain.
pub fn known_goos() -> Vec<&'static str> {
    let mut v: Vec<_> = GO_PAIRS.iter().map(|p| p.0).collect();
    v.dedup();
    v
}

/// Every GOARCH known to the Go toolchain.
pub fn known_goarch() -> Vec<&'static str> {
    let mut v: Vec<_> = GO_PAIRS.iter().map(|p| p.1).collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// Whether Go can build this pair.
pub fn valid_pair(os: &str, arch: &str) -> bool {
    GO_PAIRS.iter().any(|(o, a)| *o == os && *a == arch)
}

/// One platform a build produces a binary for.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Target {
    /// Operating system in Go's spelling (`linux`, `darwin`, `windows`, …).
    pub os: String,
    /// Architecture in Go's spelling (`amd64`, `arm64`, `arm`, `386`, …).
    pub arch: String,
    /// ARM version for `arm`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arm: Option<String>,
    /// amd64 level for `amd64` (Go builds).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amd64: Option<String>,
    /// Float ABI for the mips family (`hardfloat`, `softfloat`), when the build names one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mips: Option<String>,
    /// The Rust target triple (cargo builds).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub triple: Option<String>,
}

impl Target {
    /// A Go target.
    pub fn go(os: &str, arch: &str, arm: Option<&str>, amd64: Option<&str>) -> Self {
        Target {
            os: os.into(),
            arch: arch.into(),
            arm: arm.map(Into::into),
            amd64: amd64.map(Into::into),
            mips: None,
            triple: None,
        }
    }

    /// A Go target of the mips family with its float ABI.
    pub fn go_mips(os: &str, arch: &str, mips: &str) -> Self {
        Target {
            mips: Some(mips.into()),
            ..Target::go(os, arch, None, None)
        }
    }

    /// The target's name: `linux_amd64_v1`, `linux_arm_7`, `darwin_arm64`, or the triple.
    pub fn name(&self) -> String {
        if let Some(t) = &self.triple {
            return t.clone();
        }
        let mut s = format!("{}_{}", self.os, self.arch);
        if let Some(v) = self
            .arm
            .as_ref()
            .or(self.amd64.as_ref())
            .or(self.mips.as_ref())
        {
            s.push('_');
            s.push_str(v);
        }
        s
    }

    /// `.exe` for windows, empty otherwise.
    pub fn ext(&self) -> &'static str {
        if self.os == "windows" { ".exe" } else { "" }
    }

    /// The OCI platform string: `linux/arm/v7`, `linux/amd64`.
    pub fn platform(&self) -> String {
        match &self.arm {
            Some(v) => {
                let version = v.split(',').next().unwrap_or(v);
                format!("{}/{}/v{version}", self.os, self.arch)
            }
            None => format!("{}/{}", self.os, self.arch),
        }
    }

    /// Parse a Go target name such as `linux_amd64_v1`, `linux_arm_7` or `darwin_arm64`.
    pub fn parse_go(name: &str) -> Result<Target, String> {
        let parts: Vec<&str> = name.split('_').collect();
        let (os, arch, variant) = match parts.as_slice() {
            [os, arch] => (*os, *arch, None),
            [os, arch, v] => (*os, *arch, Some(*v)),
            _ => {
                return Err(format!(
                    "`{name}` is not a target: expected os_arch or os_arch_variant"
                ));
            }
        };
        if !valid_pair(os, arch) {
            return Err(format!("`{os}/{arch}` is not a platform Go can build"));
        }
        match (arch, variant) {
            ("arm", v) => {
                let v = v.unwrap_or("6");
                if !valid_goarm(v) {
                    return Err(format!(
                        "`{v}` is not a valid goarm (expected one of {})",
                        GOARM.join(", ")
                    ));
                }
                Ok(Target::go(os, arch, Some(v), None))
            }
            ("amd64", v) => {
                let v = v.unwrap_or("v1");
                if !GOAMD64.contains(&v) {
                    return Err(format!(
                        "`{v}` is not a valid goamd64 (expected one of {})",
                        GOAMD64.join(", ")
                    ));
                }
                Ok(Target::go(os, arch, None, Some(v)))
            }
            (a, Some(v)) if is_mips(a) => {
                if !GOMIPS.contains(&v) {
                    return Err(format!(
                        "`{v}` is not a valid gomips (expected one of {})",
                        GOMIPS.join(", ")
                    ));
                }
                Ok(Target::go_mips(os, arch, v))
            }
            (_, None) => Ok(Target::go(os, arch, None, None)),
            (_, Some(v)) => Err(format!("`{arch}` takes no variant, found `{v}`")),
        }
    }

    /// A Rust target from its triple; os and arch are mapped to Go's spelling.
    pub fn rust(triple: &str) -> Result<Target, String> {
        let mut parts = triple.split('-');
        let arch_part = parts.next().unwrap_or_default();
        let arch = match arch_part {
            "x86_64" => "amd64",
            "aarch64" | "arm64" => "arm64",
            "i686" | "i586" | "i386" => "386",
            "riscv64gc" | "riscv64" => "riscv64",
            "powerpc64le" => "ppc64le",
            "s390x" => "s390x",
            "loongarch64" => "loong64",
            "wasm32" => "wasm",
            a if a.starts_with("armv7") || a.starts_with("thumbv7") => "arm",
            a if a.starts_with("arm") => "arm",
            _ => return Err(format!("`{triple}` is not a Rust target triple rel knows")),
        };
        let os = if triple.contains("-linux") {
            "linux"
        } else if triple.contains("-apple-darwin") {
            "darwin"
        } else if triple.contains("-windows") {
            "windows"
        } else if triple.contains("-freebsd") {
            "freebsd"
        } else if triple.contains("-netbsd") {
            "netbsd"
        } else if triple.contains("-wasi") {
            "wasip1"
        } else {
            return Err(format!("`{triple}` is not a Rust target triple rel knows"));
        };
        let arm = (arch == "arm").then(|| {
            if arch_part.starts_with("armv7") || arch_part.starts_with("thumbv7") {
                "7"
            } else {
                "6"
            }
            .to_string()
        });
        Ok(Target {
            os: os.into(),
            arch: arch.into(),
            arm,
            amd64: None,
            mips: None,
            triple: Some(triple.into()),
        })
    }

    /// The host's target in Go's spelling.
    pub fn host_os_arch() -> (&'static str, &'static str) {
        let os = match std::env::consts::OS {
            "macos" => "darwin",
            o => o,
        };
        let arch = match std::env::consts::ARCH {
            "x86_64" => "amd64",
            "aarch64" => "arm64",
            "x86" => "386",
            "arm" => "arm",
            a => a,
        };
        (os, arch)
    }
}

/// The Rust triple of the machine rel runs on (what `cargo build` targets by default).
pub fn host_triple() -> String {
    if let Some(t) = option_env!("REL_HOST_TRIPLE") {
        return t.to_string();
    }
    match (std::env::consts::ARCH, std::env::consts::OS) {
        (a, "linux") => format!("{a}-unknown-linux-gnu"),
        (a, "macos") => format!("{a}-apple-darwin"),
        (a, "windows") => format!("{a}-pc-windows-msvc"),
        (a, o) => format!("{a}-unknown-{o}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for n in [
            "linux_amd64_v1",
            "linux_arm_7",
            "darwin_arm64",
            "windows_386",
            "linux_amd64_v3",
        ] {
            assert_eq!(Target::parse_go(n).unwrap().name(), n);
        }
        assert_eq!(
            Target::parse_go("linux_amd64").unwrap().name(),
            "linux_amd64_v1"
        );
        assert!(Target::parse_go("darwin_386").is_err());
        assert!(Target::parse_go("linux_arm_9").is_err());
        assert!(Target::parse_go("linux").is_err());
    }

    #[test]
    fn rust_triples_map_to_go_names() {
        let t = Target::rust("aarch64-apple-darwin").unwrap();
        assert_eq!((t.os.as_str(), t.arch.as_str()), ("darwin", "arm64"));
        let t = Target::rust("armv7-unknown-linux-gnueabihf").unwrap();
        assert_eq!(
            (t.os.as_str(), t.arch.as_str(), t.arm.as_deref()),
            ("linux", "arm", Some("7"))
        );
        assert_eq!(t.platform(), "linux/arm/v7");
        assert_eq!(
            Target::rust("x86_64-pc-windows-msvc").unwrap().ext(),
            ".exe"
        );
        assert!(Target::rust("banana").is_err());
    }
}
