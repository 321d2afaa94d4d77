//! The dynamic dependencies of an ELF shared object (`DT_NEEDED`, `DT_SONAME`), read from its
//! bytes without loading it: the section headers, the `SHT_DYNAMIC` section and the string
//! table it links to. 32- and 64-bit, either byte order. Every offset and size is checked
//! against the buffer: a hostile file gives an error or fewer names, never a panic, and the
//! work is bounded by [`MAX_SECTIONS`] and [`MAX_ENTRIES`].

/// Section headers looked at, at most.
pub const MAX_SECTIONS: usize = 4096;
/// Dynamic entries read, at most.
pub const MAX_ENTRIES: usize = 4096;
/// Names kept, at most, and their longest length.
pub const MAX_NAMES: usize = 256;
const MAX_NAME_LEN: usize = 256;

/// What the dynamic section says.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Dynamic {
    pub soname: Option<String>,
    pub needed: Vec<String>,
}

#[derive(Clone, Copy)]
struct Reader<'a> {
    b: &'a [u8],
    wide: bool,
    big: bool,
}

impl Reader<'_> {
    fn bytes<const N: usize>(&self, at: usize) -> Option<[u8; N]> {
        self.b.get(at..at.checked_add(N)?)?.try_into().ok()
    }
    fn u16(&self, at: usize) -> Option<u64> {
        let a = self.bytes::<2>(at)?;
        Some(if self.big { u16::from_be_bytes(a) } else { u16::from_le_bytes(a) } as u64)
    }
    fn u32(&self, at: usize) -> Option<u64> {
        let a = self.bytes::<4>(at)?;
        Some(if self.big { u32::from_be_bytes(a) } else { u32::from_le_bytes(a) } as u64)
    }
    fn u64(&self, at: usize) -> Option<u64> {
        let a = self.bytes::<8>(at)?;
        Some(if self.big { u64::from_be_bytes(a) } else { u64::from_le_bytes(a) })
    }
    /// A word: 8 bytes in a 64-bit file, 4 in a 32-bit one.
    fn word(&self, at: usize) -> Option<u64> {
        if self.wide {
            self.u64(at)
        } else {
            self.u32(at)
        }
    }
}

fn usize_of(v: u64) -> Option<usize> {
    usize::try_from(v).ok()
}

/// A NUL-terminated name at `at` of the string table `table`.
fn name_at(table: &[u8], at: u64) -> Option<String> {
    let start = usize_of(at)?;
    let rest = table.get(start..)?;
    let end = rest.iter().take(MAX_NAME_LEN + 1).position(|b| *b == 0)?;
    let s = std::str::from_utf8(&rest[..end]).ok()?;
    (!s.is_empty()).then(|| s.to_string())
}

/// Reads the dynamic section of an ELF file's bytes.
pub fn dynamic(b: &[u8]) -> Result<Dynamic, String> {
    if b.get(..4) != Some(b"\x7fELF".as_slice()) {
        return Err("not an ELF file".into());
    }
    let wide = match b.get(4) {
        Some(1) => false,
        Some(2) => true,
        _ => return Err("unknown ELF class".into()),
    };
    let big = match b.get(5) {
        Some(1) => false,
        Some(2) => true,
        _ => return Err("unknown ELF byte order".into()),
    };
    let r = Reader { b, wide, big };
    let bad = || "truncated or inconsistent ELF header".to_string();
    let (shoff, shentsize, shnum) = if wide {
        (r.u64(0x28).ok_or_else(bad)?, r.u16(0x3A).ok_or_else(bad)?, r.u16(0x3C).ok_or_else(bad)?)
    } else {
        (r.u32(0x20).ok_or_else(bad)?, r.u16(0x2E).ok_or_else(bad)?, r.u16(0x30).ok_or_else(bad)?)
    };
    let min_entsize = if wide { 64 } else { 40 };
    if shoff == 0 || shnum == 0 {
        return Err("no section headers".into());
    }
    if shentsize < min_entsize {
        return Err(bad());
    }
    // (type, offset, size, link, entsize) of section `i`.
    let section = |i: u64| -> Option<(u64, u64, u64, u64, u64)> {
        let at = usize_of(shoff.checked_add(i.checked_mul(shentsize)?)?)?;
        // Every field read below lies within the header's first 64 bytes.
        at.checked_add(64)?;
        if wide {
            Some((r.u32(at + 4)?, r.u64(at + 0x18)?, r.u64(at + 0x20)?, r.u32(at + 0x28)?, r.u64(at + 0x38)?))
        } else {
            Some((r.u32(at + 4)?, r.u32(at + 0x10)?, r.u32(at + 0x14)?, r.u32(at + 0x18)?, r.u32(at + 0x24)?))
        }
    };
    let slice = |off: u64, size: u64| -> Option<&[u8]> { b.get(usize_of(off)?..usize_of(off.checked_add(size)?)?) };
    let count = (shnum as usize).min(MAX_SECTIONS) as u64;
    let dynsec = (0..count).filter_map(section).find(|s| s.0 == 6);
    let Some((_, off, size, link, entsize)) = dynsec else { return Err("no dynamic section".into()) };
    let entry = if wide { 16 } else { 8 };
    if entsize != 0 && entsize != entry {
        return Err("dynamic entries of an unexpected size".into());
    }
    let dyn_bytes = slice(off, size).ok_or("dynamic section outside the file")?;
    if link >= shnum {
        return Err("dynamic section without a string table".into());
    }
    let (_, str_off, str_size, _, _) = section(link).ok_or_else(bad)?;
    let strtab = slice(str_off, str_size).ok_or("string table outside the file")?;
    let d = Reader { b: dyn_bytes, wide, big };
    let mut out = Dynamic::default();
    for i in 0..(dyn_bytes.len() / entry as usize).min(MAX_ENTRIES) {
        let at = i * entry as usize;
        let (Some(tag), Some(val)) = (d.word(at), d.word(at + entry as usize / 2)) else { break };
        match tag {
            0 => break,
            1 if out.needed.len() < MAX_NAMES => out.needed.extend(name_at(strtab, val)),
            14 => out.soname = name_at(strtab, val),
            _ => {}
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal 64-bit little-endian ELF: a dynamic section (NEEDED, SONAME) and its strings.
    fn tiny() -> Vec<u8> {
        let strtab = b"\0libcurl.so.4\0libssl.so.3\0curl.so\0".to_vec();
        let mut dynamic = Vec::new();
        for (tag, val) in [(1u64, 1u64), (1, 14), (14, 26), (0, 0)] {
            dynamic.extend(tag.to_le_bytes());
            dynamic.extend(val.to_le_bytes());
        }
        let mut b = vec![0u8; 64];
        b[..6].copy_from_slice(b"\x7fELF\x02\x01");
        let str_off = b.len() as u64;
        b.extend(&strtab);
        let dyn_off = b.len() as u64;
        b.extend(&dynamic);
        let shoff = b.len() as u64;
        let sh = |kind: u32, off: u64, size: u64, link: u32, entsize: u64| {
            let mut h = vec![0u8; 64];
            h[4..8].copy_from_slice(&kind.to_le_bytes());
            h[0x18..0x20].copy_from_slice(&off.to_le_bytes());
            h[0x20..0x28].copy_from_slice(&size.to_le_bytes());
            h[0x28..0x2C].copy_from_slice(&link.to_le_bytes());
            h[0x38..0x40].copy_from_slice(&entsize.to_le_bytes());
            h
        };
        let sections = [sh(0, 0, 0, 0, 0), sh(3, str_off, strtab.len() as u64, 0, 0), sh(6, dyn_off, 64, 1, 16)];
        for s in sections {
            b.extend(s);
        }
        b[0x28..0x30].copy_from_slice(&shoff.to_le_bytes());
        b[0x3A..0x3C].copy_from_slice(&64u16.to_le_bytes());
        b[0x3C..0x3E].copy_from_slice(&3u16.to_le_bytes());
        b
    }

    #[test]
    fn reads_needed_and_soname() {
        let d = dynamic(&tiny()).unwrap();
        assert_eq!(d.needed, ["libcurl.so.4", "libssl.so.3"]);
        assert_eq!(d.soname.as_deref(), Some("curl.so"));
    }

    #[test]
    fn this_test_binary_is_read() {
        let exe = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        let d = dynamic(&exe).unwrap();
        assert!(d.needed.iter().any(|n| n.starts_with("libc.so")), "{d:?}");
    }

    #[test]
    fn hostile_bytes_never_panic() {
        assert!(dynamic(b"").is_err());
        assert!(dynamic(b"\x7fELF").is_err());
        let good = tiny();
        for cut in 0..good.len() {
            let _ = dynamic(&good[..cut]);
        }
        crate::mutation::mutants(&[good.as_slice()], 5000, |v| {
            let _ = dynamic(v);
        });
        // Section headers said to lie at the very end of the address space.
        let mut far = good.clone();
        far[0x28..0x30].copy_from_slice(&u64::MAX.to_le_bytes());
        assert!(dynamic(&far).is_err());
        far[0x28..0x30].copy_from_slice(&(u64::MAX - 8).to_le_bytes());
        assert!(dynamic(&far).is_err());
        let mut ff = b"\x7fELF\x02\x01\x01".to_vec();
        ff.extend(std::iter::repeat_n(0xffu8, 4096));
        assert!(dynamic(&ff).is_err());
    }
}
