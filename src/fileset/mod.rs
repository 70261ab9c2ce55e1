//! File globbing for every stage: `archives[].files` and image `files` resolved to files
//! inside the project and where each goes, and plain globs (`release.extra_files`).
//!
//! A release archive must only ever contain what the project holds, so every match is checked
//! against the project root: `..` and absolute globs are refused by the config check, a folder
//! reached through a symlink that leaves the root is refused here, and a symlink is stored as
//! a symlink only when its target stays inside the root. A dangling symlink is an error, since
//! an archive with a broken link is a mistake nobody wants to ship.
//!
//! Globs use `literal_separator` (`*` does not cross `/`; `**` does). Matching a folder takes
//! everything below it. Results are sorted so the file system's listing order never matters.

pub mod entry;

use crate::config::{ArchiveFile, FileSpec};
use crate::error::{Error, Result};
use entry::EntryKind;
use globset::{GlobBuilder, GlobMatcher};
use std::path::{Component, Path, PathBuf};

/// Globs taken when an archive has no `files`: missing ones are fine.
pub const DEFAULT_FILES: &[&str] = &["README*", "LICENSE*", "LICENCE*", "CHANGELOG*"];

/// A resolved file: where it goes inside the archive (before `wrap_in_directory`) and what it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// `/`-separated path in the archive.
    pub dest: String,
    /// File or symlink.
    pub kind: EntryKind,
    /// The config key it came from, for messages.
    pub origin: String,
    /// The `info` of the `files` entry that matched it.
    pub info: Option<crate::config::NfpmFileInfo>,
}

fn has_meta(s: &str) -> bool {
    s.contains(['*', '?', '[', '{'])
}

/// A static check of one `src`/`dst`, used by config validation (so it is an exit-2 error
/// with a location) and again before resolving.
pub fn check_pattern(src: &str, dst: Option<&str>) -> std::result::Result<(), String> {
    if src.trim().is_empty() {
        return Err("`src` is empty".into());
    }
    if Path::new(src).is_absolute() || src.starts_with('/') || src.starts_with('\\') {
        return Err(format!(
            "`{src}` is an absolute path; files must be inside the project (use a path relative to its root)"
        ));
    }
    if src.split(['/', '\\']).any(|c| c == "..") {
        return Err(format!(
            "`{src}` goes outside the project with `..`; files must be inside the project"
        ));
    }
    GlobBuilder::new(src)
        .literal_separator(true)
        .build()
        .map_err(|e| format!("`{src}` is not a valid glob: {e}"))?;
    if let Some(d) = dst
        && (Path::new(d).is_absolute()
            || d.starts_with('/')
            || d.split(['/', '\\']).any(|c| c == ".."))
    {
        return Err(format!(
            "`dst: {d}` must be a relative folder inside the archive, without `..`"
        ));
    }
    Ok(())
}

/// One glob to resolve.
struct Pattern<'a> {
    spec: FileSpec,
    origin: String,
    required: bool,
    case_insensitive: bool,
    root: &'a Path,
}

/// Resolve an archive's `files` (or the defaults when `None`), sorted by destination.
/// `key` is the config path of the archive (`archives[0]`); `exclude` is folders never
/// taken (the `dist/` folder). `root` must be canonical.
pub fn resolve(
    root: &Path,
    exclude: &[PathBuf],
    files: Option<&[ArchiveFile]>,
    key: &str,
) -> Result<Vec<Resolved>> {
    let patterns: Vec<Pattern> = match files {
        None => DEFAULT_FILES
            .iter()
            .map(|g| Pattern {
                spec: FileSpec {
                    src: (*g).into(),
                    dst: None,
                    strip_parent: false,
                    info: None,
                },
                origin: format!("{key}.files (default `{g}`)"),
                required: false,
                case_insensitive: true,
                root,
            })
            .collect(),
        Some(list) => list
            .iter()
            .enumerate()
            .map(|(i, f)| Pattern {
                spec: match f {
                    ArchiveFile::Glob(g) => FileSpec {
                        src: g.clone(),
                        dst: None,
                        strip_parent: false,
                        info: None,
                    },
                    ArchiveFile::Spec(s) => s.clone(),
                },
                origin: format!("{key}.files[{i}]"),
                required: true,
                case_insensitive: false,
                root,
            })
            .collect(),
    };
    let mut out = vec![];
    for p in &patterns {
        out.extend(resolve_one(p, exclude)?);
    }
    out.sort_by(|a, b| {
        a.dest
            .as_bytes()
            .cmp(b.dest.as_bytes())
            .then_with(|| a.origin.cmp(&b.origin))
    });
    Ok(out)
}

/// Every regular file under `root` whose project path matches `glob` (`*` stays within a
/// folder, `**` crosses folders; `.git` is never entered), as sorted `/`-separated paths
/// relative to `root`. Unlike [`resolve`], a folder match does not take its contents and
/// `dist/` is not excluded: `release.extra_files` may name files earlier stages wrote there.
pub fn glob_files(root: &Path, glob: &str) -> std::result::Result<Vec<String>, String> {
    let glob = glob.trim().trim_start_matches("./");
    let matcher = GlobBuilder::new(glob)
        .literal_separator(true)
        .build()
        .map_err(|e| e.to_string())?
        .compile_matcher();
    let (base, _) = literal_base(glob);
    let mut found: Vec<String> = walkdir::WalkDir::new(root.join(base))
        .into_iter()
        .filter_entry(|e| e.file_name() != ".git")
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_file())
        .filter_map(|e| e.path().strip_prefix(root).ok().map(rel_string))
        .filter(|p| matcher.is_match(p))
        .collect();
    found.sort();
    Ok(found)
}

/// Files named by a list of `{glob, name_template}` entries (`release.extra_files`,
/// `checksum.extra_files`), as (asset name, path relative to the root). A glob that matches
/// nothing is an error naming `key[i]`; `name_template` sees `filename`.
pub fn extra_files(
    root: &Path,
    templates: &crate::template::Templates,
    globals: &crate::template::Vars,
    key: &str,
    list: &[crate::config::ExtraFile],
) -> Result<Vec<(String, String)>> {
    let mut out = Vec::new();
    for (i, f) in list.iter().enumerate() {
        let found = glob_files(root, &f.glob)
            .map_err(|e| Error::Config(format!("{key}[{i}].glob: {e}")))?;
        if found.is_empty() {
            return Err(Error::Failed(format!(
                "{key}[{i}]: `{}` matches no file",
                f.glob
            )));
        }
        for path in found {
            let file = Path::new(&path)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let name = match &f.name_template {
                Some(t) => {
                    let mut vars = globals.clone();
                    vars.insert("filename".into(), minijinja::Value::from(file.clone()));
                    templates.render(&format!("{key}[{i}].name_template"), t, &vars)?
                }
                None => file,
            };
            out.push((name, path));
        }
    }
    Ok(out)
}

/// The part of a glob before its first wildcard component, and whether the glob has any.
fn literal_base(src: &str) -> (PathBuf, bool) {
    let mut base = PathBuf::new();
    for c in src.split('/').filter(|c| !c.is_empty() && *c != ".") {
        if has_meta(c) {
            return (base, true);
        }
        base.push(c);
    }
    (base, false)
}

fn rel_string(p: &Path) -> String {
    p.components()
        .filter_map(|c| match c {
            Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("/")
}

fn resolve_one(p: &Pattern, exclude: &[PathBuf]) -> Result<Vec<Resolved>> {
    let src = p.spec.src.trim();
    check_pattern(src, p.spec.dst.as_deref())
        .map_err(|m| Error::Config(format!("{}: {m}", p.origin)))?;
    let matcher: GlobMatcher = GlobBuilder::new(src.trim_start_matches("./"))
        .literal_separator(true)
        .case_insensitive(p.case_insensitive)
        .build()
        .map_err(|e| Error::Config(format!("{}: `{src}` is not a valid glob: {e}", p.origin)))?
        .compile_matcher();
    let (mut base, is_glob) = literal_base(src);
    let start = p.root.join(&base);
    // For a literal path to a file, destinations are relative to its folder.
    if !is_glob && !start.is_dir() {
        base.pop();
    }
    let mut found = vec![];
    if std::fs::symlink_metadata(&start).is_ok() {
        if start.is_dir() {
            inside_root(p.root, &start, &p.origin)?;
        }
        // Without `**`, a folder deeper than the glob can only matter when the glob matched
        // it (or a folder above it): prune the rest instead of walking the whole tree.
        let depth = if src.contains("**") {
            usize::MAX
        } else {
            src.split('/')
                .filter(|c| !c.is_empty() && *c != ".")
                .count()
        };
        let walk = walkdir::WalkDir::new(&start)
            .follow_links(false)
            .follow_root_links(false)
            .sort_by_file_name();
        let walk = walk.into_iter().filter_entry(|e| {
            let rel = e.path().strip_prefix(p.root).unwrap_or(e.path());
            if rel
                .components()
                .next()
                .is_some_and(|c| c.as_os_str() == ".git")
                || exclude.iter().any(|x| e.path().starts_with(x))
            {
                return false;
            }
            !e.file_type().is_dir()
                || rel.components().count() < depth
                || rel
                    .ancestors()
                    .any(|a| !a.as_os_str().is_empty() && matcher.is_match(a))
        });
        for entry in walk {
            let entry = entry.map_err(|e| {
                Error::Failed(format!(
                    "{}: cannot read {}: {e}",
                    p.origin,
                    start.display()
                ))
            })?;
            let path = entry.path();
            let rel = path.strip_prefix(p.root).unwrap_or(path);
            let ft = entry.file_type();
            if ft.is_dir() {
                continue;
            }
            // A file matches when the glob matches it or one of the folders holding it.
            if !rel
                .ancestors()
                .filter(|a| !a.as_os_str().is_empty())
                .any(|a| matcher.is_match(a))
            {
                continue;
            }
            let kind = if ft.is_symlink() {
                symlink_kind(p.root, path, &p.origin)?
            } else if ft.is_file() {
                use std::os::unix::fs::PermissionsExt;
                let meta = entry.metadata().map_err(|e| {
                    Error::Failed(format!("{}: cannot read {}: {e}", p.origin, path.display()))
                })?;
                EntryKind::File {
                    source: path.to_path_buf(),
                    executable: meta.permissions().mode() & 0o111 != 0,
                }
            } else {
                return Err(Error::Failed(format!(
                    "{}: {} is not a regular file, folder or symlink",
                    p.origin,
                    rel.display()
                )));
            };
            found.push(Resolved {
                dest: destination(&p.spec, rel, &base),
                kind,
                origin: format!("{} ({})", p.origin, rel_string(rel)),
                info: p.spec.info.clone(),
            });
        }
    }
    if found.is_empty() && p.required {
        return Err(Error::Failed(format!(
            "{}: `{src}` matches no file in {} (remove it from `files`, or create the file before the archive stage)",
            p.origin,
            p.root.display()
        )));
    }
    Ok(found)
}

/// Where a match goes: its project path, or below `dst` relative to the glob's fixed folder;
/// `strip_parent` keeps only the file name.
fn destination(spec: &FileSpec, rel: &Path, base: &Path) -> String {
    let name = rel
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let below = if spec.strip_parent {
        name
    } else if spec.dst.is_some() {
        let r = rel_string(rel.strip_prefix(base).unwrap_or(rel));
        if r.is_empty() { name } else { r }
    } else {
        rel_string(rel)
    };
    match spec
        .dst
        .as_deref()
        .map(|d| d.trim_matches('/'))
        .filter(|d| !d.is_empty() && *d != ".")
    {
        Some(d) => format!("{}/{below}", d.trim_start_matches("./")),
        None => below,
    }
}

fn inside_root(root: &Path, path: &Path, origin: &str) -> Result<()> {
    let real = path
        .canonicalize()
        .map_err(|e| Error::Failed(format!("{origin}: cannot resolve {}: {e}", path.display())))?;
    if !real.starts_with(root) {
        return Err(Error::Failed(format!(
            "{origin}: {} resolves to {}, outside the project; archives only take files inside {}",
            path.display(),
            real.display(),
            root.display()
        )));
    }
    Ok(())
}

fn symlink_kind(root: &Path, path: &Path, origin: &str) -> Result<EntryKind> {
    let target = std::fs::read_link(path).map_err(|e| {
        Error::Failed(format!(
            "{origin}: cannot read the link {}: {e}",
            path.display()
        ))
    })?;
    let shown = path
        .strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string();
    if target.is_absolute() {
        return Err(Error::Failed(format!(
            "{origin}: symlink {shown} points to the absolute path {}, which would not exist where the archive is unpacked; make it relative",
            target.display()
        )));
    }
    let real = match path.canonicalize() {
        Ok(r) => r,
        Err(_) => {
            return Err(Error::Failed(format!(
                "{origin}: symlink {shown} -> {} is dangling (its target does not exist); fix or remove it",
                target.display()
            )));
        }
    };
    if !real.starts_with(root) {
        return Err(Error::Failed(format!(
            "{origin}: symlink {shown} -> {} points outside the project ({}); archives only take files inside {}",
            target.display(),
            real.display(),
            root.display()
        )));
    }
    Ok(EntryKind::Symlink {
        target: target.to_string_lossy().replace('\\', "/"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_files_walks_only_the_literal_folder_and_matches_files() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path();
        for f in [
            "a.txt",
            "docs/b.txt",
            "docs/deep/c.txt",
            "dist/x.sbom.json",
            ".git/d.txt",
        ] {
            std::fs::create_dir_all(root.join(f).parent().unwrap()).unwrap();
            std::fs::write(root.join(f), "x").unwrap();
        }
        assert_eq!(glob_files(root, "*.txt").unwrap(), ["a.txt"]);
        assert_eq!(glob_files(root, "docs/*.txt").unwrap(), ["docs/b.txt"]);
        assert_eq!(
            glob_files(root, "./docs/**/*.txt").unwrap(),
            ["docs/b.txt", "docs/deep/c.txt"]
        );
        assert_eq!(
            glob_files(root, "dist/*.sbom.json").unwrap(),
            ["dist/x.sbom.json"]
        );
        assert!(
            glob_files(root, "**/d.txt").unwrap().is_empty(),
            ".git is never entered"
        );
        assert!(glob_files(root, "a[").is_err());
    }

    fn setup() -> (tempfile::TempDir, PathBuf) {
        let d = tempfile::tempdir().unwrap();
        let root = d.path().canonicalize().unwrap();
        for f in [
            "README.md",
            "LICENSE",
            "docs/a.md",
            "docs/sub/b.md",
            "docs/c.txt",
            "dist/README.x",
            "readme.txt",
        ] {
            let p = root.join(f);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, f).unwrap();
        }
        (d, root)
    }

    fn dests(r: &[Resolved]) -> Vec<&str> {
        r.iter().map(|x| x.dest.as_str()).collect()
    }

    fn spec(src: &str, dst: Option<&str>, strip: bool) -> ArchiveFile {
        ArchiveFile::Spec(FileSpec {
            src: src.into(),
            dst: dst.map(Into::into),
            strip_parent: strip,
            info: None,
        })
    }

    #[test]
    fn defaults_are_case_insensitive_and_top_level_only() {
        let (_d, root) = setup();
        let r = resolve(&root, &[root.join("dist")], None, "archives[0]").unwrap();
        assert_eq!(dests(&r), ["LICENSE", "README.md", "readme.txt"]);
    }

    #[test]
    fn literal_separator_and_double_star() {
        let (_d, root) = setup();
        let one = [ArchiveFile::Glob("docs/*.md".into())];
        assert_eq!(
            dests(&resolve(&root, &[], Some(&one), "a").unwrap()),
            ["docs/a.md"]
        );
        let all = [ArchiveFile::Glob("docs/**/*.md".into())];
        assert_eq!(
            dests(&resolve(&root, &[], Some(&all), "a").unwrap()),
            ["docs/a.md", "docs/sub/b.md"]
        );
    }

    #[test]
    fn dst_and_strip_parent() {
        let (_d, root) = setup();
        let f = [spec("docs/**/*.md", Some("manual"), false)];
        assert_eq!(
            dests(&resolve(&root, &[], Some(&f), "a").unwrap()),
            ["manual/a.md", "manual/sub/b.md"]
        );
        let f = [spec("docs/**/*.md", Some("manual"), true)];
        assert_eq!(
            dests(&resolve(&root, &[], Some(&f), "a").unwrap()),
            ["manual/a.md", "manual/b.md"]
        );
        let f = [spec("docs/sub/b.md", Some("x"), false)];
        assert_eq!(
            dests(&resolve(&root, &[], Some(&f), "a").unwrap()),
            ["x/b.md"]
        );
    }

    #[test]
    fn a_folder_takes_its_contents_but_not_dist() {
        let (_d, root) = setup();
        let f = [ArchiveFile::Glob("docs".into())];
        assert_eq!(
            dests(&resolve(&root, &[], Some(&f), "a").unwrap()),
            ["docs/a.md", "docs/c.txt", "docs/sub/b.md"]
        );
        let f = [ArchiveFile::Glob("*/README.x".into())];
        let e = resolve(&root, &[root.join("dist")], Some(&f), "archives[0]")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("archives[0].files[0]") && e.contains("matches no file"),
            "{e}"
        );
    }

    #[test]
    fn refuses_traversal_and_outside_symlinks() {
        let (_d, root) = setup();
        assert!(check_pattern("../x", None).is_err());
        assert!(check_pattern("/etc/passwd", None).is_err());
        assert!(check_pattern("a/../../x", None).is_err());
        assert!(check_pattern("x", Some("/abs")).is_err());
        assert!(check_pattern("x[", None).is_err());
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret"), "s").unwrap();
        std::os::unix::fs::symlink(outside.path().join("secret"), root.join("abs-link")).unwrap();
        let e = resolve(
            &root,
            &[],
            Some(&[ArchiveFile::Glob("abs-link".into())]),
            "a",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("absolute path"), "{e}");
        let rel_out = pathdiff(outside.path(), &root).join("secret");
        std::os::unix::fs::symlink(&rel_out, root.join("out-link")).unwrap();
        let e = resolve(
            &root,
            &[],
            Some(&[ArchiveFile::Glob("out-link".into())]),
            "a",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("outside the project"), "{e}");
        std::os::unix::fs::symlink(outside.path(), root.join("outdir")).unwrap();
        let e = resolve(
            &root,
            &[],
            Some(&[ArchiveFile::Glob("outdir/*".into())]),
            "a",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("outside the project"), "{e}");
    }

    fn pathdiff(to: &Path, from: &Path) -> PathBuf {
        let mut p = PathBuf::new();
        for _ in from.components().skip(1) {
            p.push("..");
        }
        p.join(to.strip_prefix("/").unwrap())
    }

    #[test]
    fn inside_symlinks_are_kept_dangling_ones_refused() {
        let (_d, root) = setup();
        std::os::unix::fs::symlink("a.md", root.join("docs/link.md")).unwrap();
        let r = resolve(
            &root,
            &[],
            Some(&[ArchiveFile::Glob("docs/*.md".into())]),
            "a",
        )
        .unwrap();
        assert_eq!(
            r[1].kind,
            EntryKind::Symlink {
                target: "a.md".into()
            }
        );
        std::os::unix::fs::symlink("nope.md", root.join("docs/broken.md")).unwrap();
        let e = resolve(
            &root,
            &[],
            Some(&[ArchiveFile::Glob("docs/*.md".into())]),
            "a",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("dangling") && e.contains("broken.md"), "{e}");
    }

    #[test]
    fn executable_bit_is_kept() {
        use std::os::unix::fs::PermissionsExt;
        let (_d, root) = setup();
        std::fs::write(root.join("run.sh"), "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(root.join("run.sh"), std::fs::Permissions::from_mode(0o700))
            .unwrap();
        let r = resolve(&root, &[], Some(&[ArchiveFile::Glob("*.sh".into())]), "a").unwrap();
        assert!(matches!(
            r[0].kind,
            EntryKind::File {
                executable: true,
                ..
            }
        ));
    }
}
