//! The build information the Go linker embeds in every binary (Go 1.18 and later), read from
//! the binary's bytes — so the binaries of every target can be catalogued on any machine,
//! with no Go toolchain, the way `go version -m` reads them.
//!
//! The blob starts with the 14-byte magic `\xff Go buildinf:` on a 16-byte boundary, then a
//! pointer-size byte and a flags byte; with flag 2 the Go version and the module information
//! follow the 32-byte header as varint-length-prefixed strings. The module information is
//! framed by 16-byte sentinels and holds `path`, `mod`, `dep`, `=>` (replacement of the line
//! before) and `build` lines, tab-separated.

use std::io::Read;
use std::path::Path;

const MAGIC: &[u8] = b"\xff Go buildinf:";

/// A module: path, version and `h1:` sum (empty for the main module of a local build).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Module {
    /// Module path.
    pub path: String,
    /// Version, e.g. `v1.2.3` or `(devel)`.
    pub version: String,
    /// `h1:` sum, if recorded.
    pub sum: String,
}

/// What a Go binary says about how it was built.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BuildInfo {
    /// `go1.22.3`.
    pub go_version: String,
    /// The main package's import path.
    pub path: String,
    /// The main module.
    pub main: Option<Module>,
    /// Dependencies, replacements applied, in the binary's order.
    pub deps: Vec<Module>,
    /// `build` settings (`GOOS`, `GOARCH`, `-ldflags`, `vcs.revision`, …).
    pub settings: Vec<(String, String)>,
}

fn varint(b: &[u8]) -> Option<(u64, usize)> {
    let mut v = 0u64;
    for (i, byte) in b.iter().enumerate().take(10) {
        v |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Some((v, i + 1));
        }
    }
    None
}

fn string_at(b: &[u8]) -> Option<(String, usize)> {
    let (len, n) = varint(b)?;
    let end = n.checked_add(usize::try_from(len).ok()?)?;
    let s = b.get(n..end)?;
    Some((String::from_utf8_lossy(s).into_owned(), end))
}

/// Parse the module information text.
fn parse_modinfo(text: &str, info: &mut BuildInfo) {
    let module = |f: &[&str]| Module {
        path: f.first().copied().unwrap_or_default().to_string(),
        version: f.get(1).copied().unwrap_or_default().to_string(),
        sum: f.get(2).copied().unwrap_or_default().to_string(),
    };
    for line in text.lines() {
        let f: Vec<&str> = line.split('\t').collect();
        match f.first().copied() {
            Some("path") => info.path = f.get(1).copied().unwrap_or_default().to_string(),
            Some("mod") => info.main = Some(module(&f[1..])),
            Some("dep") => info.deps.push(module(&f[1..])),
            Some("=>") => {
                if let Some(last) = info.deps.last_mut() {
                    *last = module(&f[1..]);
                }
            }
            Some("build") => {
                if let Some((k, v)) = f[1..].join("\t").split_once('=') {
                    info.settings
                        .push((k.to_string(), v.trim_matches('"').to_string()));
                }
            }
            _ => {}
        }
    }
}

/// The build information in `bytes`, or `None` when they hold none (not a Go binary, or one
/// built before Go 1.18).
pub fn parse(bytes: &[u8]) -> Option<BuildInfo> {
    let finder = memchr::memmem::Finder::new(MAGIC);
    let start = finder.find_iter(bytes).find(|i| i % 16 == 0)?;
    let header = bytes.get(start..start + 32)?;
    let flags = header[15];
    if flags & 2 == 0 {
        return None;
    }
    let rest = &bytes[start + 32..];
    let (go_version, n) = string_at(rest)?;
    let (mut modinfo, _) = string_at(&rest[n..])?;
    if modinfo.len() >= 33 && modinfo.as_bytes()[modinfo.len() - 17] == b'\n' {
        modinfo = modinfo[16..modinfo.len() - 16].to_string();
    }
    let mut info = BuildInfo {
        go_version,
        ..Default::default()
    };
    parse_modinfo(&modinfo, &mut info);
    Some(info)
}

/// The build information of the binary at `path`.
pub fn read(path: &Path) -> std::io::Result<Option<BuildInfo>> {
    let mut bytes = vec![];
    std::fs::File::open(path)?.read_to_end(&mut bytes)?;
    Ok(parse(&bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blob(version: &str, modinfo: &str) -> Vec<u8> {
        let mut b = vec![0u8; 48];
        b.extend(MAGIC);
        b.extend([8u8, 2]);
        b.extend([0u8; 16]);
        for s in [version.to_string(), modinfo.to_string()] {
            let mut len = s.len();
            loop {
                let byte = (len & 0x7f) as u8;
                len >>= 7;
                if len == 0 {
                    b.push(byte);
                    break;
                }
                b.push(byte | 0x80);
            }
            b.extend(s.as_bytes());
        }
        b
    }

    #[test]
    fn reads_modules_replacements_and_settings() {
        let sentinel = "0123456789abcdef";
        let text = format!(
            "{sentinel}path\texample.com/tool\nmod\texample.com/tool\t(devel)\t\ndep\tgolang.org/x/sys\tv0.1.0\th1:abc=\ndep\texample.com/old\tv1.0.0\th1:x=\n=>\texample.com/new\tv1.1.0\th1:y=\nbuild\tGOOS=linux\nbuild\t-ldflags=\"-s -w\"\n{sentinel}"
        );
        // Long enough that the varint takes two bytes.
        let info = parse(&blob("go1.27.0", &format!("{text}{}", ""))).unwrap();
        assert_eq!(info.go_version, "go1.27.0");
        assert_eq!(info.path, "example.com/tool");
        assert_eq!(info.main.as_ref().unwrap().version, "(devel)");
        assert_eq!(info.deps.len(), 2);
        assert_eq!(info.deps[1].path, "example.com/new");
        assert_eq!(info.deps[1].sum, "h1:y=");
        assert!(info.settings.contains(&("-ldflags".into(), "-s -w".into())));
        assert!(parse(b"not a go binary at all").is_none());
    }
}
