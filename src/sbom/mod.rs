//! Software bills of materials, generated in-process: what a subject (a binary, an archive, a
//! package) is made of, read from the Go build information in its binaries or from cargo's
//! resolved dependency graph, written as SPDX 2.3 JSON or CycloneDX 1.6 JSON.
//!
//! A document is a pure function of its subject: the time is the commit time, and the SPDX
//! namespace and the CycloneDX serial number are derived from the subject's SHA-256, so two
//! runs from one commit write the same bytes.

pub mod cargo;
pub mod gobuild;
pub mod source;

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// A dependency of a subject.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Component {
    /// `golang` or `cargo`.
    pub ecosystem: &'static str,
    /// Module path or crate name.
    pub name: String,
    /// Version as the ecosystem writes it (`v1.2.3`, `1.2.3`).
    pub version: String,
    /// The ecosystem's checksum, if recorded (`h1:…` for Go modules, SHA-256 for crates).
    pub checksum: Option<String>,
}

impl Component {
    /// The package URL: `pkg:golang/golang.org/x/sys@v0.1.0`, `pkg:cargo/serde@1.0.0`.
    pub fn purl(&self) -> String {
        let name: String = self
            .name
            .split('/')
            .map(|seg| {
                percent_encoding::utf8_percent_encode(seg, percent_encoding::NON_ALPHANUMERIC)
                    .to_string()
                    .replace("%2E", ".")
                    .replace("%2D", "-")
                    .replace("%5F", "_")
                    .replace("%7E", "~")
            })
            .collect::<Vec<_>>()
            .join("/");
        if self.version.is_empty() {
            format!("pkg:{}/{name}", self.ecosystem)
        } else {
            format!("pkg:{}/{name}@{}", self.ecosystem, self.version)
        }
    }
}

/// What one document describes.
#[derive(Debug, Clone)]
pub struct Subject {
    /// File name of the subject (`tool_1.2.3_linux_amd64.tar.gz`).
    pub name: String,
    /// Its SHA-256, hex.
    pub sha256: String,
    /// The release version.
    pub version: String,
    /// `application`, `archive`, `package` or `source`, for the documents' purpose fields.
    pub purpose: &'static str,
    /// The main modules or crates it ships (one per binary).
    pub main: Vec<Component>,
    /// Every dependency, sorted and distinct.
    pub components: Vec<Component>,
}

/// A UUID (version 4 layout) derived from `seed`: stable for one subject, unique across them.
fn uuid_of(seed: &str) -> String {
    let mut b: [u8; 16] = Sha256::digest(seed.as_bytes())[..16].try_into().unwrap();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = crate::hash::hex(&b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

fn rfc3339(time: i64) -> String {
    jiff::Timestamp::from_second(time)
        .map(|t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default()
}

/// The SPDX 2.3 JSON document of `s`, created at `time` by rel `tool_version`.
pub fn spdx(s: &Subject, time: i64, tool_version: &str) -> Value {
    let subject_id = "SPDXRef-Subject";
    let mut packages = vec![json!({
        "SPDXID": subject_id,
        "name": s.name,
        "versionInfo": s.version,
        "downloadLocation": "NOASSERTION",
        "filesAnalyzed": false,
        "primaryPackagePurpose": match s.purpose { "archive" => "ARCHIVE", "package" => "INSTALL", "source" => "SOURCE", _ => "APPLICATION" },
        "checksums": [{"algorithm": "SHA256", "checksumValue": s.sha256}],
        "licenseConcluded": "NOASSERTION",
        "licenseDeclared": "NOASSERTION",
        "copyrightText": "NOASSERTION",
    })];
    let mut relationships = vec![json!({
        "spdxElementId": "SPDXRef-DOCUMENT",
        "relationshipType": "DESCRIBES",
        "relatedSpdxElement": subject_id,
    })];
    let all: Vec<(&Component, bool)> = s
        .main
        .iter()
        .map(|c| (c, true))
        .chain(s.components.iter().map(|c| (c, false)))
        .collect();
    for (i, (c, main)) in all.iter().enumerate() {
        let id = format!("SPDXRef-Package-{}", i + 1);
        let mut p = json!({
            "SPDXID": id,
            "name": c.name,
            "versionInfo": c.version,
            "downloadLocation": "NOASSERTION",
            "filesAnalyzed": false,
            "primaryPackagePurpose": if *main { "APPLICATION" } else { "LIBRARY" },
            "externalRefs": [{
                "referenceCategory": "PACKAGE-MANAGER",
                "referenceType": "purl",
                "referenceLocator": c.purl(),
            }],
            "licenseConcluded": "NOASSERTION",
            "licenseDeclared": "NOASSERTION",
            "copyrightText": "NOASSERTION",
        });
        if let Some(sum) = c
            .checksum
            .as_deref()
            .filter(|s| c.ecosystem == "cargo" && s.len() == 64)
        {
            p["checksums"] = json!([{"algorithm": "SHA256", "checksumValue": sum}]);
        }
        packages.push(p);
        relationships.push(json!({
            "spdxElementId": subject_id,
            "relationshipType": if *main { "CONTAINS" } else { "DEPENDS_ON" },
            "relatedSpdxElement": id,
        }));
    }
    json!({
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": s.name,
        "documentNamespace": format!("https://spdx.org/spdxdocs/{}-{}", s.name, uuid_of(&format!("spdx:{}:{}", s.name, s.sha256))),
        "creationInfo": {
            "created": rfc3339(time),
            "creators": [format!("Tool: rel-{tool_version}")],
        },
        "documentDescribes": [subject_id],
        "packages": packages,
        "relationships": relationships,
    })
}

/// The CycloneDX 1.6 JSON document of `s`.
pub fn cyclonedx(s: &Subject, time: i64, tool_version: &str) -> Value {
    let subject_ref = format!("subject:{}", s.name);
    let mut components = vec![];
    let mut seen = std::collections::BTreeSet::new();
    for c in s.main.iter().chain(&s.components) {
        let purl = c.purl();
        if !seen.insert(purl.clone()) {
            continue;
        }
        let mut v = json!({
            "type": if s.main.contains(c) { "application" } else { "library" },
            "bom-ref": purl,
            "name": c.name,
            "version": c.version,
            "purl": purl,
        });
        if let Some(sum) = c
            .checksum
            .as_deref()
            .filter(|s| c.ecosystem == "cargo" && s.len() == 64)
        {
            v["hashes"] = json!([{"alg": "SHA-256", "content": sum}]);
        }
        components.push(v);
    }
    let refs: Vec<String> = seen.iter().cloned().collect();
    let mut dependencies = vec![json!({"ref": subject_ref, "dependsOn": refs})];
    for r in &refs {
        dependencies.push(json!({"ref": r, "dependsOn": []}));
    }
    json!({
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "serialNumber": format!("urn:uuid:{}", uuid_of(&format!("cyclonedx:{}:{}", s.name, s.sha256))),
        "version": 1,
        "metadata": {
            "timestamp": rfc3339(time),
            "tools": {"components": [{"type": "application", "name": "rel", "version": tool_version}]},
            "component": {
                "type": if s.purpose == "application" { "application" } else { "file" },
                "bom-ref": subject_ref,
                "name": s.name,
                "version": s.version,
                "hashes": [{"alg": "SHA-256", "content": s.sha256}],
            },
        },
        "components": components,
        "dependencies": dependencies,
    })
}

/// The components of a Go binary's build information: its main module and its dependencies.
pub fn from_go(info: &gobuild::BuildInfo) -> (Vec<Component>, Vec<Component>) {
    let c = |m: &gobuild::Module| Component {
        ecosystem: "golang",
        name: m.path.clone(),
        version: m.version.clone(),
        checksum: (!m.sum.is_empty()).then(|| m.sum.clone()),
    };
    let main = info.main.iter().map(c).collect();
    let deps = info.deps.iter().map(c).collect();
    (main, deps)
}

/// `list` sorted, without repeats.
pub fn distinct(mut list: Vec<Component>) -> Vec<Component> {
    list.sort();
    list.dedup();
    list
}

/// The main modules and dependencies of one built binary: cargo's resolved graph for cargo
/// builds (`dir` the build folder, `main` the `--bin`, `triple` the target), else the Go
/// build information in the file at `binary` (none for binaries that carry none).
pub fn of_binary(
    cargo: bool,
    dir: &std::path::Path,
    main: Option<&str>,
    triple: &str,
    binary: &std::path::Path,
) -> crate::error::Result<(Vec<Component>, Vec<Component>)> {
    if cargo {
        return self::cargo::components(dir, main, triple);
    }
    let info =
        gobuild::read(binary).map_err(|e| crate::error::Error::io("cannot read", binary, e))?;
    Ok(info.as_ref().map(from_go).unwrap_or_default())
}
