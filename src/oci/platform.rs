//! OCI platforms (`linux/arm/v7`) and how they map to built targets.
//!
//! Go spells ARM levels as `GOARM=7` and OCI as `variant: v7`; `linux/arm64/v8` is the same
//! platform as `linux/arm64`. Keeping the mapping in one place means the default platform list,
//! the `platforms:` filter, base-image selection and the index entries all agree.

use crate::artifact::Artifact;
use std::fmt;

/// One OCI platform.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Platform {
    /// `linux`.
    pub os: String,
    /// OCI architecture: `amd64`, `arm64`, `arm`, `386`, …
    pub arch: String,
    /// `v7` for ARM; none otherwise (arm64's `v8` is normalised away).
    pub variant: Option<String>,
}

impl Platform {
    /// Parse `os/arch[/variant]`.
    pub fn parse(s: &str) -> Option<Platform> {
        let parts: Vec<&str> = s.split('/').collect();
        let (os, arch, variant) = match parts.as_slice() {
            [os, arch] => (*os, *arch, None),
            [os, arch, v] => (*os, *arch, Some(*v)),
            _ => return None,
        };
        if os.is_empty() || arch.is_empty() {
            return None;
        }
        Some(Platform::new(os, arch, variant))
    }

    /// A platform with the variant normalised.
    pub fn new(os: &str, arch: &str, variant: Option<&str>) -> Platform {
        let variant = match (arch, variant) {
            ("arm64", Some("v8")) => None,
            (_, Some("")) => None,
            (_, v) => v.map(String::from),
        };
        Platform {
            os: os.into(),
            arch: arch.into(),
            variant,
        }
    }

    /// The platform of a built binary (Go spelling in the artifact).
    pub fn of_binary(a: &Artifact) -> Option<Platform> {
        let os = a.os.as_deref()?;
        let arch = a.arch.as_deref()?;
        let variant = (arch == "arm").then(|| format!("v{}", a.arm.as_deref().unwrap_or("7")));
        Some(Platform::new(os, arch, variant.as_deref()))
    }

    /// The `platform` object of an index entry or the fields of an image config.
    pub fn to_json(&self) -> serde_json::Value {
        let mut m = serde_json::Map::new();
        m.insert("architecture".into(), self.arch.clone().into());
        m.insert("os".into(), self.os.clone().into());
        if let Some(v) = &self.variant {
            m.insert("variant".into(), v.clone().into());
        }
        serde_json::Value::Object(m)
    }

    /// Read a `platform` object (or an image config, which has the same fields).
    pub fn from_json(v: &serde_json::Value) -> Option<Platform> {
        let os = v.get("os")?.as_str()?;
        let arch = v.get("architecture")?.as_str()?;
        Some(Platform::new(
            os,
            arch,
            v.get("variant").and_then(|x| x.as_str()),
        ))
    }

    /// A short tag-safe name: `linux-arm-v7`.
    pub fn slug(&self) -> String {
        self.to_string().replace('/', "-")
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.variant {
            Some(v) => write!(f, "{}/{}/{v}", self.os, self.arch),
            None => write!(f, "{}/{}", self.os, self.arch),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::artifact::Kind;

    #[test]
    fn parses_and_normalises() {
        assert_eq!(
            Platform::parse("linux/arm64/v8"),
            Platform::parse("linux/arm64")
        );
        assert_eq!(
            Platform::parse("linux/arm/v7").unwrap().to_string(),
            "linux/arm/v7"
        );
        assert!(Platform::parse("linux").is_none());
        assert_eq!(
            Platform::parse("linux/arm/v7").unwrap().slug(),
            "linux-arm-v7"
        );
    }

    #[test]
    fn maps_go_binaries() {
        let mut a = Artifact::new(Kind::Binary, "hello", "dist/x/hello");
        a.os = Some("linux".into());
        a.arch = Some("arm".into());
        a.arm = Some("6".into());
        assert_eq!(Platform::of_binary(&a).unwrap().to_string(), "linux/arm/v6");
        a.arch = Some("386".into());
        assert_eq!(
            Platform::of_binary(&a).unwrap().to_json(),
            serde_json::json!({"architecture": "386", "os": "linux"})
        );
    }
}
