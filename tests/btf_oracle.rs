//! Test oracles for BTF: a type's id read straight from raw BTF such as
//! `/sys/kernel/btf/vmlinux`, to check what the runtime's [`TargetFinder`] learns
//! from the kernel, and a one-shot lookup through that finder.
//!
//! [`TargetFinder`]: bpf_preload::btf::TargetFinder

use bpf_preload::abi::{
    btf_info_kind, btf_info_vlen, btf_type_extra_len, BTF_HEADER_LEN as HEADER_LEN, BTF_MAGIC,
    BTF_TYPE_LEN as TYPE_LEN,
};
use bpf_preload::testing::{KernelBtfId, TargetFinder};
use bpf_preload::{Backend, Errno};

fn u32_at(data: &[u8], at: usize) -> Option<u32> {
    let bytes = data.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes(bytes.try_into().ok()?))
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
        let (this_kind, vlen) = (btf_info_kind(info), btf_info_vlen(info));
        if this_kind == kind && name_matches(name_off) {
            return Ok(id);
        }
        at += TYPE_LEN + btf_type_extra_len(this_kind, vlen).ok_or(bad)?;
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
