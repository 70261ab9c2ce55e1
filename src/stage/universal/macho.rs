//! Mach-O universal ("fat") files, written the way `lipo -create` writes them.
//!
//! A universal file is a big-endian `fat_header` (`FAT_MAGIC`, the slice count), one
//! `fat_arch` per slice (cputype, cpusubtype, offset, size, alignment as a power of two), then
//! each thin Mach-O file unchanged at its offset, the gaps filled with zeros. The layout
//! follows LLVM's `llvm-lipo` (itself following cctools' lipo) so that the same inputs give
//! the same bytes as `llvm-lipo -create`: slices are aligned to the page size of their CPU
//! (4 KiB for Intel, 16 KiB for ARM, which macOS needs to map each slice), arm64 slices come
//! last, and nothing follows the last slice. Slices are copied from file to file, never held
//! in memory.

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

/// The universal file's magic, written big-endian whatever the slices' byte order.
pub const FAT_MAGIC: u32 = 0xcafe_babe;
/// `FAT_MAGIC` as a little-endian reader sees it; also Java class files start with it.
const FAT_CIGAM: u32 = 0xbeba_feca;
/// 32-bit and 64-bit thin Mach-O magics.
const MH_MAGIC: u32 = 0xfeed_face;
const MH_MAGIC_64: u32 = 0xfeed_facf;

/// CPU types (`mach/machine.h`); `0x0100_0000` marks the 64-bit ABI.
pub const CPU_TYPE_X86: u32 = 7;
pub const CPU_TYPE_X86_64: u32 = 0x0100_0007;
pub const CPU_TYPE_ARM: u32 = 12;
pub const CPU_TYPE_ARM64: u32 = 0x0100_000c;
pub const CPU_TYPE_ARM64_32: u32 = 0x0200_000c;
pub const CPU_TYPE_POWERPC: u32 = 18;
pub const CPU_TYPE_POWERPC64: u32 = 0x0100_0012;

/// The capability bits of a cpusubtype (`CPU_SUBTYPE_MASK`); two slices differ only when the
/// rest differs.
const CPU_SUBTYPE_MASK: u32 = 0xff00_0000;

/// Size of `fat_header` and of one `fat_arch` (32-bit form).
const FAT_HEADER_SIZE: u64 = 8;
const FAT_ARCH_SIZE: u64 = 20;

/// What the thin Mach-O header of one input says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// `cputype`, as the file stores it (in its own byte order).
    pub cputype: u32,
    /// `cpusubtype`, capability bits included: `fat_arch` repeats it unchanged, as lipo does.
    pub cpusubtype: u32,
}

impl Header {
    /// The architecture's name as lipo prints it (`x86_64`, `arm64`), for messages.
    pub fn arch_name(&self) -> String {
        let sub = self.cpusubtype & !CPU_SUBTYPE_MASK;
        match (self.cputype, sub) {
            (CPU_TYPE_X86_64, 8) => "x86_64h".into(),
            (CPU_TYPE_X86_64, _) => "x86_64".into(),
            (CPU_TYPE_X86, _) => "i386".into(),
            (CPU_TYPE_ARM64, 2) => "arm64e".into(),
            (CPU_TYPE_ARM64, _) => "arm64".into(),
            (CPU_TYPE_ARM64_32, _) => "arm64_32".into(),
            (CPU_TYPE_ARM, _) => "arm".into(),
            (CPU_TYPE_POWERPC, _) => "ppc".into(),
            (CPU_TYPE_POWERPC64, _) => "ppc64".into(),
            (t, s) => format!("unknown({t},{s})"),
        }
    }

    /// The Go architecture this CPU type is built by (`amd64`, `arm64`), if Go builds it.
    pub fn goarch(&self) -> Option<&'static str> {
        match self.cputype {
            CPU_TYPE_X86_64 => Some("amd64"),
            CPU_TYPE_ARM64 => Some("arm64"),
            _ => None,
        }
    }

    /// The slice's alignment as a power of two: the page size macOS maps it with. lipo's
    /// table; other CPU types have no page size rel knows, so they are refused rather than
    /// given an alignment that differs from lipo's.
    pub fn p2align(&self) -> Option<u32> {
        match self.cputype {
            CPU_TYPE_X86 | CPU_TYPE_X86_64 | CPU_TYPE_POWERPC | CPU_TYPE_POWERPC64 => Some(12),
            CPU_TYPE_ARM | CPU_TYPE_ARM64 | CPU_TYPE_ARM64_32 => Some(14),
            _ => None,
        }
    }
}

/// Read the thin Mach-O header at the start of `bytes` (at least its first 12 bytes). The
/// error says what the file is instead when it can tell (a universal file, ELF, PE).
pub fn parse_header(bytes: &[u8]) -> Result<Header, String> {
    if bytes.len() < 12 {
        return Err(format!(
            "is {} bytes long, too short for a Mach-O header",
            bytes.len()
        ));
    }
    let word = |at: usize, big: bool| {
        let b: [u8; 4] = bytes[at..at + 4].try_into().expect("4 bytes");
        if big {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        }
    };
    let le = word(0, false);
    let be = word(0, true);
    let big = if le == MH_MAGIC || le == MH_MAGIC_64 {
        false
    } else if be == MH_MAGIC || be == MH_MAGIC_64 {
        true
    } else if be == FAT_MAGIC || le == FAT_CIGAM {
        return Err("is already a universal (fat) file, not a thin Mach-O file".into());
    } else if bytes.starts_with(b"\x7fELF") {
        return Err("is an ELF file, not a Mach-O file (was it built for darwin?)".into());
    } else if bytes.starts_with(b"MZ") {
        return Err("is a PE (Windows) file, not a Mach-O file".into());
    } else {
        return Err(format!(
            "is not a Mach-O file (it starts with {:02x} {:02x} {:02x} {:02x})",
            bytes[0], bytes[1], bytes[2], bytes[3]
        ));
    };
    Ok(Header {
        cputype: word(4, big),
        cpusubtype: word(8, big),
    })
}

/// One thin Mach-O file to put in a universal file.
#[derive(Debug, Clone)]
pub struct Slice {
    /// The file.
    pub path: PathBuf,
    /// Its length in bytes.
    pub size: u64,
    /// Its header.
    pub header: Header,
    /// Its alignment (power of two).
    pub p2align: u32,
}

impl Slice {
    /// Read the header and length of `path`.
    pub fn read(path: &Path) -> io::Result<Result<Slice, String>> {
        let mut f = File::open(path)?;
        let size = f.metadata()?.len();
        let mut head = [0u8; 12];
        let n = read_up_to(&mut f, &mut head)?;
        Ok(parse_header(&head[..n]).and_then(|header| {
            let p2align = header.p2align().ok_or_else(|| {
                format!(
                    "is a Mach-O file for CPU type {} ({}), which has no universal-file alignment rel knows",
                    header.cputype,
                    header.arch_name()
                )
            })?;
            Ok(Slice {
                path: path.to_path_buf(),
                size,
                header,
                p2align,
            })
        }))
    }
}

fn read_up_to(f: &mut File, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match f.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

/// One `fat_arch` entry: where a slice goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FatArch {
    pub cputype: u32,
    pub cpusubtype: u32,
    pub offset: u32,
    pub size: u32,
    pub align: u32,
}

/// Put `slices` in lipo's order and compute each one's place. lipo's order: arm64 slices
/// after every other, then by alignment (smallest first, to waste the least padding), slices
/// of one CPU type by subtype; ties between different CPU types (which lipo leaves in input
/// order) go by CPU type, so the result never depends on the order the inputs came in.
///
/// Errors: two slices of one architecture (a universal file holds one per architecture), or
/// an offset or size beyond the 32-bit `fat_arch` fields.
pub fn layout(slices: &mut [Slice]) -> Result<Vec<FatArch>, String> {
    slices.sort_by_key(|s| {
        (
            s.header.cputype == CPU_TYPE_ARM64,
            s.p2align,
            s.header.cputype,
            s.header.cpusubtype,
        )
    });
    for pair in slices.windows(2) {
        let (a, b) = (&pair[0].header, &pair[1].header);
        if a.cputype == b.cputype
            && a.cpusubtype & !CPU_SUBTYPE_MASK == b.cpusubtype & !CPU_SUBTYPE_MASK
        {
            return Err(format!(
                "{} and {} are both {}: a universal binary holds one slice per architecture",
                pair[0].path.display(),
                pair[1].path.display(),
                a.arch_name()
            ));
        }
    }
    let mut offset = FAT_HEADER_SIZE + FAT_ARCH_SIZE * slices.len() as u64;
    let mut out = Vec::with_capacity(slices.len());
    for s in slices.iter() {
        let align = 1u64 << s.p2align;
        offset = offset.div_ceil(align) * align;
        let (Ok(off), Ok(size)) = (u32::try_from(offset), u32::try_from(s.size)) else {
            return Err(format!(
                "{} would start at byte {offset} with {} bytes: beyond the 4 GiB a universal file's 32-bit header can address",
                s.path.display(),
                s.size
            ));
        };
        out.push(FatArch {
            cputype: s.header.cputype,
            cpusubtype: s.header.cpusubtype,
            offset: off,
            size,
            align: s.p2align,
        });
        offset += s.size;
    }
    Ok(out)
}

/// The `fat_header` and `fat_arch` entries, big-endian.
pub fn header_bytes(arches: &[FatArch]) -> Vec<u8> {
    let mut v =
        Vec::with_capacity((FAT_HEADER_SIZE + FAT_ARCH_SIZE * arches.len() as u64) as usize);
    v.extend_from_slice(&FAT_MAGIC.to_be_bytes());
    v.extend_from_slice(&(arches.len() as u32).to_be_bytes());
    for a in arches {
        for w in [a.cputype, a.cpusubtype, a.offset, a.size, a.align] {
            v.extend_from_slice(&w.to_be_bytes());
        }
    }
    v
}

/// Write the universal file of `slices` (already laid out by [`layout`]) to `out`. Each
/// slice is copied file to file (the kernel's copy where it can); a slice whose length
/// changed since it was read is an error rather than a corrupt header.
pub fn write(out: &mut File, slices: &[Slice], arches: &[FatArch]) -> io::Result<()> {
    let head = header_bytes(arches);
    out.write_all(&head)?;
    let mut at = head.len() as u64;
    let zeros = [0u8; 1 << 14];
    for (s, a) in slices.iter().zip(arches) {
        let mut gap = u64::from(a.offset) - at;
        while gap > 0 {
            let n = gap.min(zeros.len() as u64) as usize;
            out.write_all(&zeros[..n])?;
            gap -= n as u64;
        }
        let mut src = File::open(&s.path)?;
        let copied = io::copy(&mut (&mut src).take(s.size + 1), out)?;
        if copied != s.size {
            return Err(io::Error::other(format!(
                "{} changed while it was being read ({} bytes, then {copied})",
                s.path.display(),
                s.size
            )));
        }
        at = u64::from(a.offset) + s.size;
    }
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn thin(dir: &Path, name: &str, cputype: u32, sub: u32, len: usize) -> Slice {
        let mut bytes = vec![0xabu8; len];
        bytes[..4].copy_from_slice(&MH_MAGIC_64.to_le_bytes());
        bytes[4..8].copy_from_slice(&cputype.to_le_bytes());
        bytes[8..12].copy_from_slice(&sub.to_le_bytes());
        let p = dir.join(name);
        std::fs::write(&p, &bytes).unwrap();
        Slice::read(&p).unwrap().unwrap()
    }

    #[test]
    fn lays_out_like_lipo_whatever_the_input_order() {
        let d = tempfile::tempdir().unwrap();
        let arm = thin(d.path(), "arm", CPU_TYPE_ARM64, 0, 5000);
        let x86 = thin(d.path(), "x86", CPU_TYPE_X86_64, 3, 4097);
        for mut slices in [
            vec![arm.clone(), x86.clone()],
            vec![x86.clone(), arm.clone()],
        ] {
            let arches = layout(&mut slices).unwrap();
            assert_eq!(
                arches,
                vec![
                    FatArch {
                        cputype: CPU_TYPE_X86_64,
                        cpusubtype: 3,
                        offset: 4096,
                        size: 4097,
                        align: 12
                    },
                    // 4096 + 4097 rounded up to 16 KiB
                    FatArch {
                        cputype: CPU_TYPE_ARM64,
                        cpusubtype: 0,
                        offset: 16384,
                        size: 5000,
                        align: 14
                    },
                ]
            );
            let out = d.path().join("fat");
            let mut f = File::create(&out).unwrap();
            write(&mut f, &slices, &arches).unwrap();
            let bytes = std::fs::read(&out).unwrap();
            assert_eq!(bytes.len(), 16384 + 5000);
            assert_eq!(&bytes[..8], &[0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 2]);
            assert_eq!(
                &bytes[4096..4096 + 4097],
                &std::fs::read(&x86.path).unwrap()[..]
            );
            assert!(bytes[48..4096].iter().all(|&b| b == 0));
            assert!(bytes[4096 + 4097..16384].iter().all(|&b| b == 0));
            assert_eq!(&bytes[16384..], &std::fs::read(&arm.path).unwrap()[..]);
        }
    }

    #[test]
    fn refuses_two_slices_of_one_architecture() {
        let d = tempfile::tempdir().unwrap();
        let a = thin(d.path(), "a", CPU_TYPE_X86_64, 3, 100);
        // Same subtype once the capability bits are masked off.
        let b = thin(d.path(), "b", CPU_TYPE_X86_64, 0x8000_0003, 100);
        let e = layout(&mut [a.clone(), b]).unwrap_err();
        assert!(e.contains("both x86_64"), "{e}");
        let h = thin(d.path(), "h", CPU_TYPE_X86_64, 8, 100);
        assert_eq!(layout(&mut [a, h]).unwrap().len(), 2);
    }

    #[test]
    fn tells_what_a_file_is_when_it_is_not_thin_mach_o() {
        assert!(
            parse_header(b"\x7fELF\x02\x01\x01\0\0\0\0\0")
                .unwrap_err()
                .contains("ELF")
        );
        assert!(
            parse_header(&[0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 2, 0, 0, 0, 0])
                .unwrap_err()
                .contains("universal")
        );
        assert!(
            parse_header(b"MZ\x90\0\x03\0\0\0\x04\0\0\0")
                .unwrap_err()
                .contains("PE")
        );
        assert!(parse_header(b"short").unwrap_err().contains("too short"));
        let mut be = vec![];
        be.extend_from_slice(&MH_MAGIC.to_be_bytes());
        be.extend_from_slice(&CPU_TYPE_POWERPC.to_be_bytes());
        be.extend_from_slice(&0u32.to_be_bytes());
        let h = parse_header(&be).unwrap();
        assert_eq!(
            (h.cputype, h.arch_name().as_str(), h.p2align()),
            (CPU_TYPE_POWERPC, "ppc", Some(12))
        );
    }

    #[test]
    fn refuses_an_offset_beyond_32_bits() {
        let d = tempfile::tempdir().unwrap();
        let mut a = thin(d.path(), "a", CPU_TYPE_X86_64, 3, 100);
        a.size = u64::from(u32::MAX) + 1;
        let b = thin(d.path(), "b", CPU_TYPE_ARM64, 0, 100);
        let e = layout(&mut [a, b]).unwrap_err();
        assert!(e.contains("4 GiB"), "{e}");
    }
}
