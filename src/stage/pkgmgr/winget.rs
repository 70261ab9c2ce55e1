//! winget manifests, schema 1.12.0: the version, installer and default-locale files. Every
//! string scalar is double-quoted, so a version such as `1.10` stays the string "1.10" for
//! every YAML reader (winget's own reads an unquoted `1.10` as the number 1.1).

use super::{Download, pick};

/// What the manifests say besides the downloads.
pub struct Manifest {
    pub id: String,
    pub version: String,
    pub name: String,
    pub publisher: String,
    pub publisher_url: Option<String>,
    pub publisher_support_url: Option<String>,
    pub privacy_url: Option<String>,
    pub author: Option<String>,
    pub license_url: Option<String>,
    pub copyright_url: Option<String>,
    pub release_notes_url: Option<String>,
    pub short_description: String,
    pub description: Option<String>,
    pub homepage: Option<String>,
    pub license: String,
    pub copyright: Option<String>,
    pub release_notes: Option<String>,
    pub tags: Vec<String>,
    pub release_date: String,
}

const SCHEMA_VERSION: &str = "1.12.0";

/// A YAML double-quoted scalar (JSON string escapes are valid YAML).
fn q(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

fn header(kind: &str, m: &Manifest) -> String {
    format!(
        "# yaml-language-server: $schema=https://aka.ms/winget-manifest.{kind}.{SCHEMA_VERSION}.schema.json\n\nPackageIdentifier: {}\nPackageVersion: {}\n",
        q(&m.id),
        q(&m.version)
    )
}

/// `key: "value"` on `out` when `v` is given and not blank.
fn opt(out: &mut String, key: &str, v: &Option<String>) {
    if let Some(v) = v.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
        out.push_str(&format!("{key}: {}\n", q(v)));
    }
}

/// The three files: (file name, text).
pub fn render(m: &Manifest, all: &[Download]) -> Result<Vec<(String, String)>, String> {
    let mut installers = String::new();
    let mut any = false;
    for (arch, goarch) in [("x64", "amd64"), ("x86", "386"), ("arm64", "arm64")] {
        let Some(d) = pick(all, "windows", goarch) else {
            continue;
        };
        any = true;
        let exe = d.binaries.first().cloned().unwrap_or_default();
        let command = exe
            .rsplit('/')
            .next()
            .unwrap_or(&exe)
            .trim_end_matches(".exe")
            .to_string();
        installers.push_str(&format!("  - Architecture: {arch}\n"));
        if d.format == "binary" {
            installers.push_str("    InstallerType: portable\n");
            installers.push_str(&format!("    Commands:\n      - {}\n", q(&command)));
        } else if d.format == "zip" {
            installers.push_str("    InstallerType: zip\n    NestedInstallerType: portable\n    NestedInstallerFiles:\n");
            for b in &d.binaries {
                let alias = b.rsplit('/').next().unwrap_or(b).trim_end_matches(".exe");
                installers.push_str(&format!(
                    "      - RelativeFilePath: {}\n        PortableCommandAlias: {}\n",
                    q(&b.replace('/', "\\")),
                    q(alias)
                ));
            }
        } else {
            return Err(format!(
                "{}: winget installs zip archives or bare binaries, not {}",
                d.name, d.format
            ));
        }
        installers.push_str(&format!(
            "    InstallerUrl: {}\n    InstallerSha256: {}\n    UpgradeBehavior: uninstallPrevious\n",
            q(&d.url),
            q(&d.sha256.to_uppercase())
        ));
    }
    if !any {
        return Err("no windows archive for amd64, 386 or arm64".into());
    }
    let version = format!(
        "{}DefaultLocale: \"en-US\"\nManifestType: \"version\"\nManifestVersion: {}\n",
        header("version", m),
        q(SCHEMA_VERSION)
    );
    let installer = format!(
        "{}InstallerLocale: \"en-US\"\nReleaseDate: {}\nInstallers:\n{installers}ManifestType: \"installer\"\nManifestVersion: {}\n",
        header("installer", m),
        q(&m.release_date),
        q(SCHEMA_VERSION)
    );
    let mut locale = format!(
        "{}PackageLocale: \"en-US\"\nPublisher: {}\n",
        header("defaultLocale", m),
        q(&m.publisher)
    );
    // The keys in the schema's order; optional ones only when given.
    opt(&mut locale, "PublisherUrl", &m.publisher_url);
    opt(&mut locale, "PublisherSupportUrl", &m.publisher_support_url);
    opt(&mut locale, "PrivacyUrl", &m.privacy_url);
    opt(&mut locale, "Author", &m.author);
    locale.push_str(&format!("PackageName: {}\n", q(&m.name)));
    opt(&mut locale, "PackageUrl", &m.homepage);
    locale.push_str(&format!("License: {}\n", q(&m.license)));
    opt(&mut locale, "LicenseUrl", &m.license_url);
    opt(&mut locale, "Copyright", &m.copyright);
    opt(&mut locale, "CopyrightUrl", &m.copyright_url);
    locale.push_str(&format!(
        "ShortDescription: {}\n",
        q(m.short_description.trim())
    ));
    opt(&mut locale, "Description", &m.description);
    if !m.tags.is_empty() {
        locale.push_str("Tags:\n");
        for t in &m.tags {
            locale.push_str(&format!("  - {}\n", q(t)));
        }
    }
    opt(&mut locale, "ReleaseNotes", &m.release_notes);
    opt(&mut locale, "ReleaseNotesUrl", &m.release_notes_url);
    locale.push_str(&format!(
        "ManifestType: \"defaultLocale\"\nManifestVersion: {}\n",
        q(SCHEMA_VERSION)
    ));
    Ok(vec![
        (format!("{}.yaml", m.id), version),
        (format!("{}.installer.yaml", m.id), installer),
        (format!("{}.locale.en-US.yaml", m.id), locale),
    ])
}
