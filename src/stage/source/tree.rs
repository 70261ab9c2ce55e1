//! The released commit's files, read from git's object store through its command line.
//!
//! The listing is `git ls-tree -r -z --long` of the commit, the bytes are streamed from one
//! `git cat-file --batch`: the committed bytes themselves, whatever the checkout holds and
//! whatever the machine's git config says. That is what makes the archive the same on every
//! machine, where `git archive` would apply the local `core.autocrlf`, smudge filters and
//! global attributes. `export-ignore` is honoured as `git archive` does, from the commit's
//! own `.gitattributes` (and the repository's `info/attributes`), never the user's or the
//! system's attribute files.

use super::writer::{Contents, Source, read_disk};
use crate::error::{Error, Result};
use std::collections::{BTreeSet, HashMap};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, ChildStdout, Command, Stdio};

/// What a tree entry is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum What {
    /// A blob stored as a regular file.
    File {
        /// Mode 100755.
        executable: bool,
        /// Its size in bytes.
        size: u64,
    },
    /// A blob holding a symbolic link's target.
    Symlink,
    /// A submodule (a commit of another repository): an empty folder, as `git archive`.
    Submodule,
}

/// One entry of the commit below the project root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// `/`-separated path relative to the project root.
    pub path: String,
    /// The object id.
    pub oid: String,
    /// What it is.
    pub what: What,
}

/// A git command for `dir` that reads no user or system config that could change output.
fn git_cmd(dir: &Path) -> Command {
    let mut c = Command::new("git");
    c.current_dir(dir)
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_ATTR_NOSYSTEM", "1")
        .args([
            "-c",
            "core.attributesFile=/dev/null",
            "-c",
            "core.quotePath=false",
        ]);
    c
}

fn failed(args: &str, e: impl std::fmt::Display) -> Error {
    Error::Failed(format!("`git {args}` failed: {e}"))
}

/// Every entry of `commit` below `root` (the folder rel runs in; a project in a subfolder of
/// its repository gets that subfolder, as `git archive` run there), in git's order, without
/// those `export-ignore` leaves out.
pub fn list(root: &Path, commit: &str) -> Result<Vec<Entry>> {
    let shown = format!("ls-tree -r -z --long {commit}");
    let out = git_cmd(root)
        .args(["ls-tree", "-r", "-z", "--long", commit])
        .output()
        .map_err(|e| failed(&shown, e))?;
    if !out.status.success() {
        return Err(failed(&shown, String::from_utf8_lossy(&out.stderr).trim()));
    }
    let mut entries = vec![];
    for rec in out.stdout.split(|b| *b == 0).filter(|r| !r.is_empty()) {
        let rec = std::str::from_utf8(rec).map_err(|_| {
            Error::Failed(format!(
                "the commit has a path that is not UTF-8 ({}); archives store UTF-8 names",
                String::from_utf8_lossy(rec)
            ))
        })?;
        let bad = || failed(&shown, format!("unexpected line `{rec}`"));
        let (meta, path) = rec.split_once('\t').ok_or_else(bad)?;
        let mut parts = meta.split_whitespace();
        let (mode, _kind, oid, size) = (
            parts.next().ok_or_else(bad)?,
            parts.next().ok_or_else(bad)?,
            parts.next().ok_or_else(bad)?,
            parts.next().ok_or_else(bad)?,
        );
        let what = match mode {
            "100644" | "100755" => What::File {
                executable: mode == "100755",
                size: size.parse().map_err(|_| bad())?,
            },
            "120000" => What::Symlink,
            "160000" => What::Submodule,
            _ => return Err(bad()),
        };
        entries.push(Entry {
            path: path.to_string(),
            oid: oid.to_string(),
            what,
        });
    }
    let ignored = export_ignored(root, commit, &entries)?;
    if ignored.is_empty() {
        return Ok(entries);
    }
    let dropped = |p: &str| {
        ignored.contains(p)
            || p.char_indices()
                .filter(|(_, c)| *c == '/')
                .any(|(i, _)| ignored.contains(&p[..i]))
    };
    Ok(entries.into_iter().filter(|e| !dropped(&e.path)).collect())
}

/// The paths (files and folders) with the `export-ignore` attribute set in `commit`.
fn export_ignored(root: &Path, commit: &str, entries: &[Entry]) -> Result<BTreeSet<String>> {
    // A folder's attribute counts for everything below it (`git archive` checks each tree),
    // so every folder is asked about too.
    let mut paths: BTreeSet<&str> = BTreeSet::new();
    for e in entries {
        paths.insert(&e.path);
        paths.extend(
            e.path
                .char_indices()
                .filter(|(_, c)| *c == '/')
                .map(|(i, _)| &e.path[..i]),
        );
    }
    let input: Vec<u8> = paths
        .iter()
        .flat_map(|p| p.bytes().chain(std::iter::once(0)))
        .collect();
    let source = format!("--source={commit}");
    let out = match check_attr(root, &source, &input) {
        Ok(o) => o,
        // git before 2.40 has no `--source`: the index is the commit in a release checkout.
        Err(_) => check_attr(root, "--cached", &input)?,
    };
    let fields: Vec<&[u8]> = out.split(|b| *b == 0).collect();
    Ok(fields
        .chunks(3)
        .filter(|c| c.len() == 3 && c[2] == b"set")
        .map(|c| String::from_utf8_lossy(c[0]).into_owned())
        .collect())
}

fn check_attr(root: &Path, from: &str, input: &[u8]) -> Result<Vec<u8>> {
    let shown = format!("check-attr -z --stdin {from} export-ignore");
    let mut child = git_cmd(root)
        .args(["check-attr", "-z", "--stdin", from, "export-ignore"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| failed(&shown, e))?;
    let mut stdin = child.stdin.take().expect("piped");
    let input = input.to_vec();
    // Written from a thread: git answers as it reads, and a full pipe must not block both.
    let feeder = std::thread::spawn(move || stdin.write_all(&input));
    let out = child.wait_with_output().map_err(|e| failed(&shown, e))?;
    let fed = feeder.join().map_err(|_| failed(&shown, "writer thread"))?;
    if !out.status.success() {
        return Err(failed(&shown, String::from_utf8_lossy(&out.stderr).trim()));
    }
    fed.map_err(|e| failed(&shown, e))?;
    Ok(out.stdout)
}

/// The blobs of one `git cat-file --batch`, asked for in a fixed order and read in it.
pub struct Blobs {
    child: Child,
    out: BufReader<ChildStdout>,
    feeder: Option<std::thread::JoinHandle<io::Result<()>>>,
}

impl Blobs {
    /// Start reading `oids`, in this order.
    pub fn start(root: &Path, oids: Vec<String>) -> Result<Blobs> {
        let mut child = git_cmd(root)
            .args(["cat-file", "--batch"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| failed("cat-file --batch", e))?;
        let mut stdin = child.stdin.take().expect("piped");
        let out = BufReader::with_capacity(256 * 1024, child.stdout.take().expect("piped"));
        let feeder = std::thread::spawn(move || {
            let mut w = io::BufWriter::new(&mut stdin);
            for oid in oids {
                w.write_all(oid.as_bytes())?;
                w.write_all(b"\n")?;
            }
            w.flush()
        });
        Ok(Blobs {
            child,
            out,
            feeder: Some(feeder),
        })
    }

    /// Call `f` with the next blob, which must be `oid` of `size` bytes.
    fn next(
        &mut self,
        oid: &str,
        size: u64,
        f: &mut dyn FnMut(&mut dyn Read, u64) -> io::Result<()>,
    ) -> io::Result<()> {
        let mut line = String::new();
        self.out.read_line(&mut line)?;
        let want = format!("{oid} blob {size}\n");
        if line != want {
            return Err(io::Error::other(format!(
                "git cat-file answered `{}` for blob {oid}",
                line.trim_end()
            )));
        }
        let mut r = (&mut self.out).take(size);
        f(&mut r, size)?;
        if r.limit() != 0 {
            io::copy(&mut r, &mut io::sink())?;
        }
        let mut nl = [0u8; 1];
        self.out.read_exact(&mut nl)?;
        if nl != *b"\n" {
            return Err(io::Error::other("git cat-file's output is out of step"));
        }
        Ok(())
    }

    /// Every blob was read: the feeder and git must both have succeeded.
    pub fn finish(mut self) -> Result<()> {
        let fed = self.feeder.take().map(|h| h.join());
        let status = self
            .child
            .wait()
            .map_err(|e| failed("cat-file --batch", e))?;
        if !status.success() || !matches!(fed, Some(Ok(Ok(())))) {
            return Err(failed("cat-file --batch", format!("exit {status}")));
        }
        Ok(())
    }
}

impl Drop for Blobs {
    fn drop(&mut self) {
        // After a failure the process may still be waiting to write.
        if self.feeder.is_some() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

impl Contents for Blobs {
    fn with(
        &mut self,
        source: &Source,
        f: &mut dyn FnMut(&mut dyn Read, u64) -> io::Result<()>,
    ) -> io::Result<()> {
        match source {
            Source::Blob { oid, size } => self.next(oid, *size, f),
            Source::Disk(p) => read_disk(p, f),
        }
    }
}

/// The contents of small blobs (symlink targets), by object id.
pub fn read_small(root: &Path, oids: &[String]) -> Result<HashMap<String, Vec<u8>>> {
    let sizes: Vec<(String, u64)> = {
        // Sizes come with the listing for files only; a link's target is asked for by size
        // from `--batch-check` first.
        let mut c = git_cmd(root)
            .args(["cat-file", "--batch-check"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| failed("cat-file --batch-check", e))?;
        let mut stdin = c.stdin.take().expect("piped");
        let input: String = oids.iter().map(|o| format!("{o}\n")).collect();
        let feeder = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
        let out = c
            .wait_with_output()
            .map_err(|e| failed("cat-file --batch-check", e))?;
        let _ = feeder.join();
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| {
                let mut p = l.split(' ');
                let (oid, _, size) = (p.next()?, p.next()?, p.next()?.parse().ok()?);
                Some((oid.to_string(), size))
            })
            .collect()
    };
    if sizes.len() != oids.len() {
        return Err(failed("cat-file --batch-check", "an object is missing"));
    }
    let mut blobs = Blobs::start(root, oids.to_vec())?;
    let mut out = HashMap::new();
    for (oid, size) in sizes {
        let mut bytes = vec![];
        blobs
            .next(&oid, size, &mut |r, _| {
                r.read_to_end(&mut bytes).map(|_| ())
            })
            .map_err(|e| failed("cat-file --batch", e))?;
        out.insert(oid, bytes);
    }
    blobs.finish()?;
    Ok(out)
}

/// The object id git gives the file at `path` as it is (no filters), to compare a `files`
/// match with the committed file at the same path.
pub fn hash_object(root: &Path, path: &Path) -> Result<String> {
    let out = git_cmd(root)
        .args(["hash-object", "--no-filters", "--"])
        .arg(path)
        .output()
        .map_err(|e| failed("hash-object", e))?;
    if !out.status.success() {
        return Err(failed(
            "hash-object",
            String::from_utf8_lossy(&out.stderr).trim(),
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}
