//! Finding a named type in raw BTF (such as `/sys/kernel/btf/vmlinux`), without
//! allocating: the attach targets of tracing, lsm and iterator programs are looked up
//! this way in the running kernel's BTF at load time.

use crate::abi;
use crate::backend::{Backend, Fd};
use crate::errno::Errno;
use crate::loader;

pub const BTF_KIND_FUNC: u32 = 12;
pub const BTF_KIND_TYPEDEF: u32 = 8;

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

/// A type found in the running kernel's BTF.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KernelBtfId {
    pub id: u32,
    /// An fd for the module BTF that holds the type, or 0 for vmlinux. The caller closes it.
    pub btf_obj_fd: Fd,
}

/// Finds `name` of `kind` in the running kernel's BTF (vmlinux, then modules) the way
/// light skeletons do: a sleepable syscall program calls `bpf_btf_find_by_name_kind`
/// and is run once with `BPF_PROG_TEST_RUN`. Needs only bpf(2) commands that the
/// kernel accepts from kernel context, so every backend can use it.
pub fn find_in_kernel<B: Backend + ?Sized>(
    backend: &mut B,
    name: &str,
    kind: u32,
) -> Result<KernelBtfId, Errno> {
    // The helper reads the name from a map value: the verifier must know its size.
    let value_size = (name.len() + 1).next_multiple_of(8) as u32;
    let mut value = alloc::vec![0u8; value_size as usize];
    value[..name.len()].copy_from_slice(name.as_bytes());

    let mut attr = abi::MapCreateAttr {
        map_type: abi::BPF_MAP_TYPE_ARRAY,
        key_size: 4,
        value_size,
        max_entries: 1,
        map_name: *b"preload_btf_id\0\0",
        ..Default::default()
    };
    // SAFETY: MAP_CREATE reads no pointers.
    let map = unsafe { loader::bpf(backend, abi::BPF_MAP_CREATE, &mut attr) }?;
    let result = run_lookup(backend, map, &value, name.len() as i32 + 1, kind as i32);
    backend.close(map);
    let found = result?;
    if found < 0 {
        return Err(Errno(-found as i32));
    }
    Ok(KernelBtfId {
        id: found as u32,
        btf_obj_fd: (found >> 32) as u32,
    })
}

fn insn(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> [u8; 8] {
    let [o0, o1] = off.to_le_bytes();
    let [i0, i1, i2, i3] = imm.to_le_bytes();
    [code, (src << 4) | dst, o0, o1, i0, i1, i2, i3]
}

fn run_lookup<B: Backend + ?Sized>(
    backend: &mut B,
    map: Fd,
    value: &[u8],
    name_size: i32,
    kind: i32,
) -> Result<i64, Errno> {
    const LD_IMM64: u8 = 0x18;
    const MOV64_IMM: u8 = 0xb7;
    const MOV64_REG: u8 = 0xbf;
    const CALL: u8 = 0x85;
    const STX_DW: u8 = 0x7b;
    const EXIT: u8 = 0x95;

    let key = 0u32;
    let mut attr = abi::MapElemAttr {
        map_fd: map,
        key: &key as *const u32 as u64,
        value: value.as_ptr() as u64,
        ..Default::default()
    };
    // SAFETY: key and value are alive and of the map's key and value sizes.
    unsafe { loader::bpf(backend, abi::BPF_MAP_UPDATE_ELEM, &mut attr) }?;

    // ctx->result = bpf_btf_find_by_name_kind(&map[0], name_size, kind, 0); return 0;
    let program = [
        insn(MOV64_REG, 6, 1, 0, 0),
        insn(LD_IMM64, 1, abi::BPF_PSEUDO_MAP_IDX_VALUE, 0, 0),
        insn(0, 0, 0, 0, 0),
        insn(MOV64_IMM, 2, 0, 0, name_size),
        insn(MOV64_IMM, 3, 0, 0, kind),
        insn(MOV64_IMM, 4, 0, 0, 0),
        insn(CALL, 0, 0, 0, abi::BPF_FUNC_btf_find_by_name_kind),
        insn(STX_DW, 6, 0, 0, 0),
        insn(MOV64_IMM, 0, 0, 0, 0),
        insn(EXIT, 0, 0, 0, 0),
    ];
    let fd_array = [map as i32];
    let mut attr = abi::ProgLoadAttr {
        prog_type: abi::BPF_PROG_TYPE_SYSCALL,
        insn_cnt: program.len() as u32,
        insns: program.as_ptr() as u64,
        license: c"GPL".as_ptr() as u64,
        prog_flags: abi::BPF_F_SLEEPABLE,
        prog_name: *b"preload_btf_id\0\0",
        fd_array: fd_array.as_ptr() as u64,
        ..Default::default()
    };
    // SAFETY: instructions, license and fd_array are alive for the call.
    let prog = unsafe { loader::bpf(backend, abi::BPF_PROG_LOAD, &mut attr) }?;

    let mut result: i64 = 0;
    let mut attr = abi::ProgTestRunAttr {
        prog_fd: prog,
        ctx_size_in: 8,
        ctx_in: &mut result as *mut i64 as u64,
        ..Default::default()
    };
    // SAFETY: the context is 8 writable bytes; the program writes its result there.
    let ran = unsafe { loader::bpf(backend, abi::BPF_PROG_TEST_RUN, &mut attr) };
    backend.close(prog);
    ran?;
    Ok(result)
}
