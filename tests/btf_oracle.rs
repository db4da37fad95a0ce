//! Test oracles for BTF: a type's id read straight from raw BTF such as
//! `/sys/kernel/btf/vmlinux`, to check what the runtime's [`TargetFinder`] learns
//! from the kernel, and a one-shot lookup through that finder.
//!
//! [`TargetFinder`]: bpf_preload::btf::TargetFinder

use bpf_preload::testing::{KernelBtfId, TargetFinder};
use bpf_preload::{Backend, Errno};

const BTF_MAGIC: u16 = 0xeb9f;
const HEADER_LEN: usize = 24;
const TYPE_LEN: usize = 12;

fn u32_at(data: &[u8], at: usize) -> Option<u32> {
    let bytes = data.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes(bytes.try_into().ok()?))
}

/// Bytes that follow the 12-byte `struct btf_type` for a type of this kind.
fn extra_len(kind: u32, vlen: usize) -> Option<usize> {
    Some(match kind {
        // INT, VAR, DECL_TAG
        1 | 14 | 17 => 4,
        // ARRAY
        3 => 12,
        // STRUCT, UNION, DATASEC, ENUM64
        4 | 5 | 15 | 19 => vlen * 12,
        // ENUM, FUNC_PROTO
        6 | 13 => vlen * 8,
        // PTR, FWD, TYPEDEF, VOLATILE, CONST, RESTRICT, FUNC, FLOAT, TYPE_TAG
        2 | 7 | 8 | 9 | 10 | 11 | 12 | 16 | 18 => 0,
        _ => return None,
    })
}

/// The id of the first type of `kind` named `name` in little-endian BTF `data`.
/// `ENOENT` if there is none, `EINVAL` if the BTF is malformed.
pub fn find_type_id(data: &[u8], name: &str, kind: u32) -> Result<u32, Errno> {
    let bad = Errno::EINVAL;
    let magic = data.get(..2).ok_or(bad)?;
    if u16::from_le_bytes([magic[0], magic[1]]) != BTF_MAGIC {
        return Err(bad);
    }
    let hdr_len = u32_at(data, 4).ok_or(bad)? as usize;
    let field = |i: usize| u32_at(data, 8 + 4 * i).map(|v| v as usize).ok_or(bad);
    let (type_off, type_len, str_off, str_len) = (field(0)?, field(1)?, field(2)?, field(3)?);
    if hdr_len < HEADER_LEN {
        return Err(bad);
    }
    let types = data
        .get(hdr_len + type_off..hdr_len + type_off + type_len)
        .ok_or(bad)?;
    let strings = data
        .get(hdr_len + str_off..hdr_len + str_off + str_len)
        .ok_or(bad)?;
    let name_matches = |off: usize| {
        strings
            .get(off..)
            .and_then(|s| s.strip_prefix(name.as_bytes()))
            .is_some_and(|rest| rest.first() == Some(&0))
    };

    let (mut at, mut id) = (0usize, 1u32);
    while at < types.len() {
        let name_off = u32_at(types, at).ok_or(bad)? as usize;
        let info = u32_at(types, at + 4).ok_or(bad)?;
        let (this_kind, vlen) = ((info >> 24) & 0x1f, (info & 0xffff) as usize);
        if this_kind == kind && name_matches(name_off) {
            return Ok(id);
        }
        at += TYPE_LEN + extra_len(this_kind, vlen).ok_or(bad)?;
        id += 1;
    }
    Err(Errno::ENOENT)
}

/// Finds one type in the running kernel's vmlinux BTF with a finder of its own; a
/// module BTF fd in the result is closed with the finder, so only vmlinux types are
/// for this.
pub fn find_in_vmlinux<B: Backend + ?Sized>(
    backend: &mut B,
    name: &str,
    kind: u32,
) -> Result<KernelBtfId, Errno> {
    let mut finder = TargetFinder::new(backend, name.len())?;
    let result = finder.find(backend, name, kind);
    finder.close(backend);
    result
}
