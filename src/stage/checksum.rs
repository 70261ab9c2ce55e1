//! The checksum stage: one file listing a hash of every uploadable artifact.
//!
//! The file is `<hex>  <name>` lines sorted by name (byte order), the format `sha256sum -c`,
//! `sha512sum -c` and `b3sum -c` read, so a user verifies a download in `dist/` or next to
//! the release assets with the standard tool. Files are hashed in parallel on a pool of
//! `--parallelism` workers, each streamed through a fixed buffer. SHA-256 uses the CPU's SHA
//! extensions when it has them (the `sha2` crate detects them at run time).

use super::Stage;
use crate::artifact::{Artifact, Kind};
use crate::config::Algorithm;
use crate::context::Context;
use crate::dist::{hex, sha256_file, write_atomic};
use crate::error::{Error, IoContext, Result};
use rayon::prelude::*;
use sha2::Digest;
use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

/// Read buffer for hashing: large enough to keep SHA-NI/SIMD busy, small enough for many workers.
const BUF: usize = 1 << 20;

/// The config spelling of an algorithm, also the extension of split sidecar files.
pub fn algorithm_name(a: Algorithm) -> &'static str {
    match a {
        Algorithm::Sha256 => "sha256",
        Algorithm::Sha512 => "sha512",
        Algorithm::Blake3 => "blake3",
    }
}

/// Hash a file with `algo`, streaming; lower-case hex.
pub fn hash_file(path: &Path, algo: Algorithm) -> Result<String> {
    let mut f = std::fs::File::open(path).ctx("cannot open", path)?;
    let mut buf = vec![0u8; BUF];
    let mut feed = |update: &mut dyn FnMut(&[u8])| -> Result<()> {
        loop {
            let n = f.read(&mut buf).ctx("cannot read", path)?;
            if n == 0 {
                return Ok(());
            }
            update(&buf[..n]);
        }
    };
    Ok(match algo {
        Algorithm::Sha256 => {
            let mut h = sha2::Sha256::new();
            feed(&mut |b| h.update(b))?;
            hex(&h.finalize())
        }
        Algorithm::Sha512 => {
            let mut h = sha2::Sha512::new();
            feed(&mut |b| h.update(b))?;
            hex(&h.finalize())
        }
        Algorithm::Blake3 => {
            let mut h = blake3::Hasher::new();
            feed(&mut |b| {
                h.update(b);
            })?;
            h.finalize().to_hex().to_string()
        }
    })
}

/// The checksum file's name, from `checksum.name_template`.
pub fn file_name(ctx: &Context) -> Result<String> {
    let t = ctx
        .config
        .checksum
        .name_template
        .as_deref()
        .unwrap_or(crate::config::validate::DEFAULT_CHECKSUM_NAME);
    let name = ctx.render("checksum.name_template", t)?;
    if name.trim().is_empty() || name.contains(['/', '\\']) || name.starts_with('.') {
        return Err(Error::Config(format!(
            "`checksum.name_template` gives `{name}`, which is not a plain file name (the checksum file is written directly in dist/)"
        )));
    }
    Ok(name)
}

/// The checksum file's lines: `<hex>  <name>`, sorted by name.
pub fn render_lines(items: &BTreeMap<String, String>) -> String {
    items
        .iter()
        .map(|(name, h)| format!("{h}  {name}\n"))
        .collect()
}

/// The dry-run line for the checksum file.
pub fn describe_dry(ctx: &Context) -> Result<String> {
    Ok(match ChecksumStage.skip(ctx) {
        Some(reason) => format!("\nchecksum: skipped ({reason})\n"),
        None => format!(
            "\nchecksum: {} ({}{})\n",
            ctx.rel_path(&ctx.dist.join(file_name(ctx)?)),
            algorithm_name(ctx.config.checksum.algorithm),
            if ctx.config.checksum.split {
                ", with a sidecar per file"
            } else {
                ""
            }
        ),
    })
}

/// The checksum stage.
pub struct ChecksumStage;

impl Stage for ChecksumStage {
    fn name(&self) -> &'static str {
        "checksum"
    }

    fn skip(&self, ctx: &Context) -> Option<String> {
        if ctx.config.checksum.disable {
            return Some("checksum.disable".into());
        }
        super::skipped_by_flag(ctx, "checksum")
    }

    fn preflight(&self, ctx: &Context) -> Result<()> {
        file_name(ctx).map(|_| ())
    }

    fn run(&self, ctx: &mut Context) -> Result<()> {
        // `release.extra_files` are uploadable too: when this run publishes, they are
        // registered now so that the checksum file covers every asset of the release.
        if super::publish::skip_reason(ctx).is_none() {
            super::publish::register_extra_files(ctx)?;
        }
        let name = file_name(ctx)?;
        let algo = ctx.config.checksum.algorithm;
        let items: Vec<Artifact> = ctx.artifacts.filter(|a| {
            a.kind.uploadable() && !matches!(a.kind, Kind::Checksum | Kind::ChecksumSidecar)
        });
        if items.is_empty() {
            tracing::info!("checksum: nothing to checksum (no archives or other uploadable files)");
            return Ok(());
        }
        let mut seen = BTreeMap::new();
        for a in &items {
            if let Some(prev) = seen.insert(a.name.clone(), a.path.clone()) {
                return Err(Error::Failed(format!(
                    "two release files are named {}: {prev} and {}; a release cannot hold both",
                    a.name, a.path
                )));
            }
        }
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(ctx.options.parallelism.max(1))
            .build()
            .map_err(|e| Error::Failed(format!("cannot start worker threads: {e}")))?;
        let root = ctx.root.clone();
        // A merge re-reads every file: bytes copied between CI runners are checked, not trusted.
        let reuse = ctx.options.phase != crate::options::Phase::Merge;
        let hashes: Vec<Result<(String, String)>> = pool.install(|| {
            items
                .par_iter()
                .map(|a| {
                    // Archives were hashed with SHA-256 as they were written: reuse that.
                    let hex = match (&a.sha256, algo) {
                        (Some(h), Algorithm::Sha256) if reuse => h.clone(),
                        _ => hash_file(&root.join(&a.path), algo)?,
                    };
                    Ok((a.name.clone(), hex))
                })
                .collect()
        });
        let mut lines = BTreeMap::new();
        for h in hashes {
            let (n, hx) = h?;
            lines.insert(n, hx);
        }
        let path = ctx.dist.join(&name);
        write_atomic(&path, render_lines(&lines).as_bytes())?;
        ctx.artifacts
            .add(artifact(ctx, Kind::Checksum, &name, &path)?);
        if ctx.config.checksum.split {
            let ext = algorithm_name(algo);
            for a in &items {
                let file = root.join(&a.path);
                let side_name = format!("{}.{ext}", a.name);
                let side = file.parent().unwrap_or(&ctx.dist).join(&side_name);
                write_atomic(
                    &side,
                    format!("{}  {}\n", lines[&a.name], a.name).as_bytes(),
                )?;
                let mut s = artifact(ctx, Kind::ChecksumSidecar, &side_name, &side)?;
                s.extra.insert("checksum_of".into(), a.name.clone().into());
                ctx.artifacts.add(s);
            }
        }
        tracing::info!("checksum: {} files in {}", lines.len(), ctx.rel_path(&path));
        Ok(())
    }
}

fn artifact(ctx: &Context, kind: Kind, name: &str, path: &Path) -> Result<Artifact> {
    let (sha, size) = sha256_file(path)?;
    let mut a = Artifact::new(kind, name, ctx.rel_path(path));
    a.size = Some(size);
    a.sha256 = Some(sha);
    a.extra.insert(
        "algorithm".into(),
        algorithm_name(ctx.config.checksum.algorithm).into(),
    );
    Ok(a)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_vectors() {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("abc");
        std::fs::write(&f, "abc").unwrap();
        assert_eq!(
            hash_file(&f, Algorithm::Sha256).unwrap(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            hash_file(&f, Algorithm::Sha512).unwrap(),
            "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"
        );
        assert_eq!(
            hash_file(&f, Algorithm::Blake3).unwrap(),
            "6437b3ac38465133ffb63b75273a8db548c558465d79db03fd359c6cd5bd9d85"
        );
    }

    #[test]
    fn streams_files_larger_than_the_buffer() {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("big");
        let data: Vec<u8> = (0..(3 * BUF + 17)).map(|i| (i % 251) as u8).collect();
        std::fs::write(&f, &data).unwrap();
        assert_eq!(
            hash_file(&f, Algorithm::Sha256).unwrap(),
            hex(&sha2::Sha256::digest(&data))
        );
        assert_eq!(
            hash_file(&f, Algorithm::Blake3).unwrap(),
            blake3::hash(&data).to_hex().to_string()
        );
    }

    #[test]
    fn lines_are_sorted_by_name() {
        let mut m = BTreeMap::new();
        m.insert("b.zip".to_string(), "22".to_string());
        m.insert("A.tar.gz".to_string(), "11".to_string());
        m.insert("a.tar.gz".to_string(), "33".to_string());
        assert_eq!(render_lines(&m), "11  A.tar.gz\n33  a.tar.gz\n22  b.zip\n");
    }
}
