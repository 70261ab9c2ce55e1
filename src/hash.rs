//! The one file hasher: streaming SHA-256, SHA-512 and BLAKE3 through a fixed buffer.
//!
//! Checksums, artifact records, publishing and merges all hash through here, so a file is
//! never read two ways. SHA-256 uses the CPU's SHA extensions when it has them (the `sha2`
//! crate detects them at run time).

use crate::config::Algorithm;
use crate::error::{IoContext, Result};
use sha2::Digest;
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

/// Stream a file through `update` (any hasher, or several at once); its size.
pub fn stream(path: &Path, update: &mut dyn FnMut(&[u8])) -> Result<u64> {
    let mut f = std::fs::File::open(path).ctx("cannot open", path)?;
    let mut buf = vec![0u8; BUF];
    let mut size = 0u64;
    loop {
        let n = f.read(&mut buf).ctx("cannot read", path)?;
        if n == 0 {
            return Ok(size);
        }
        size += n as u64;
        update(&buf[..n]);
    }
}

/// Hash a file with `algo`, streaming; lower-case hex.
pub fn file(path: &Path, algo: Algorithm) -> Result<(String, u64)> {
    let mut size = 0u64;
    let mut feed = |update: &mut dyn FnMut(&[u8])| -> Result<()> {
        size = stream(path, update)?;
        Ok(())
    };
    let hex = match algo {
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
    };
    Ok((hex, size))
}

/// SHA-256 of a file, hex, and its size: what `artifacts.json` and the release record.
pub fn sha256_file(path: &Path) -> Result<(String, u64)> {
    file(path, Algorithm::Sha256)
}

/// A writer that takes the SHA-256 of everything written through it, so a file is hashed
/// while it is written instead of read back.
pub struct Sha256Writer<W> {
    inner: W,
    hasher: sha2::Sha256,
    size: u64,
}

impl<W: std::io::Write> Sha256Writer<W> {
    /// Hash what goes to `inner`.
    pub fn new(inner: W) -> Self {
        Sha256Writer {
            inner,
            hasher: sha2::Sha256::new(),
            size: 0,
        }
    }

    /// The writer, the lower-case hex SHA-256 and the byte count of what was written.
    pub fn finish(self) -> (W, String, u64) {
        (self.inner, hex(&self.hasher.finalize()), self.size)
    }
}

impl<W: std::io::Write> std::io::Write for Sha256Writer<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.size += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Lower-case hex of bytes.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
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
            file(&f, Algorithm::Sha256).unwrap().0,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            file(&f, Algorithm::Sha512).unwrap().0,
            "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"
        );
        assert_eq!(
            file(&f, Algorithm::Blake3).unwrap().0,
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
            file(&f, Algorithm::Sha256).unwrap().0,
            hex(&sha2::Sha256::digest(&data))
        );
        assert_eq!(
            file(&f, Algorithm::Blake3).unwrap().0,
            blake3::hash(&data).to_hex().to_string()
        );
    }
}
