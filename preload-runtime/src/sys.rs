//! The typed bpf(2) layer: one safe function per command the runtime uses, and the
//! only place that builds a `bpf_attr`. Each function takes Rust values (slices, C
//! strings, typed fds), checks what the kernel would otherwise read past, and calls
//! [`Bpf::bpf`] with the attr struct of its command; so every other module of the
//! loader is safe code.

use alloc::vec::Vec;
use core::ffi::CStr;

use crate::abi::{self, BpfAttr, Pod};
use crate::errno::Errno;

/// A file descriptor returned by bpf(2) or perf_event_open(2).
pub type Fd = u32;

/// The three kinds of BPF object with ids of their own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectKind {
    /// A map.
    Map,
    /// A program.
    Program,
    /// A link.
    Link,
}

/// The one door to bpf(2) that everything else is built on: the kernel (through the C
/// shim) or a process implements it, and [`Backend`](crate::Backend) extends it.
pub trait Bpf {
    /// Runs one bpf(2) command; returns its non-negative result (often a new fd).
    ///
    /// # Safety
    /// `attr` must be the `union bpf_attr` member for `cmd`, and every pointer in it must
    /// be valid for what `cmd` reads or writes, for the duration of the call.
    unsafe fn bpf(&mut self, cmd: u32, attr: &mut [u8]) -> Result<u32, Errno>;
}

/// Runs one command with a typed attr: the single `unsafe` door to the backend.
///
/// # Safety
/// Every pointer in `attr` must be valid for what `cmd` does with it.
pub(crate) unsafe fn call<B: Bpf + ?Sized, A: BpfAttr>(
    backend: &mut B,
    cmd: u32,
    attr: &mut A,
) -> Result<u32, Errno> {
    // SAFETY: `BpfAttr` types are repr(C) without implicit padding, so every byte is
    // initialised and may be viewed as `u8`; the size is exactly the struct's.
    let bytes =
        unsafe { core::slice::from_raw_parts_mut((attr as *mut A).cast::<u8>(), A::SIZE as usize) };
    // SAFETY: the caller vouches for the pointers inside `attr`.
    unsafe { backend.bpf(cmd, bytes) }
}

/// The address of `p`, as bpf(2) takes pointers.
fn ptr<T: ?Sized>(p: &T) -> u64 {
    p as *const T as *const u8 as u64
}

/// A kernel object name: at most 15 bytes and a NUL.
fn obj_name(name: &str) -> [u8; abi::BPF_OBJ_NAME_LEN] {
    let mut out = [0; abi::BPF_OBJ_NAME_LEN];
    let n = name.len().min(abi::BPF_OBJ_NAME_LEN - 1);
    out[..n].copy_from_slice(&name.as_bytes()[..n]);
    out
}

/// A map fd with the sizes the kernel reads through a key or value pointer, known
/// because [`map_create`] made it: what lets [`map_update`] be safe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MapFd {
    /// The fd.
    pub fd: Fd,
    key_size: u32,
    value_size: u32,
}

impl MapFd {
    /// An fd of a map whose key and value sizes are known.
    pub fn of(fd: Fd, key_size: u32, value_size: u32) -> Self {
        Self {
            fd,
            key_size,
            value_size,
        }
    }
}

/// What `BPF_MAP_CREATE` makes.
#[derive(Debug, Clone, Copy, Default)]
pub struct MapSpec<'a> {
    /// `BPF_MAP_TYPE_*`.
    pub map_type: u32,
    /// Key size in bytes.
    pub key_size: u32,
    /// Value size in bytes.
    pub value_size: u32,
    /// Number of entries.
    pub max_entries: u32,
    /// `BPF_F_*` map flags.
    pub map_flags: u32,
    /// The template of a map of maps.
    pub inner_map_fd: Option<Fd>,
    /// The name given to the kernel (cut to 15 bytes).
    pub name: &'a str,
    /// The BTF of the key and value types, and their ids in it.
    pub btf: Option<(Fd, u32, u32)>,
    /// A struct_ops value's type id in the kernel's BTF.
    pub btf_vmlinux_value_type_id: u32,
    /// `map_extra`.
    pub map_extra: u64,
}

/// `BPF_MAP_CREATE`.
pub fn map_create<B: Bpf + ?Sized>(backend: &mut B, spec: &MapSpec<'_>) -> Result<MapFd, Errno> {
    let (btf_fd, btf_key_type_id, btf_value_type_id) = spec.btf.unwrap_or((0, 0, 0));
    let mut attr = abi::MapCreateAttr {
        map_type: spec.map_type,
        key_size: spec.key_size,
        value_size: spec.value_size,
        max_entries: spec.max_entries,
        map_flags: spec.map_flags,
        inner_map_fd: spec.inner_map_fd.unwrap_or(0),
        map_name: obj_name(spec.name),
        btf_fd,
        btf_key_type_id,
        btf_value_type_id,
        btf_vmlinux_value_type_id: spec.btf_vmlinux_value_type_id,
        map_extra: spec.map_extra,
        ..Default::default()
    };
    // SAFETY: MAP_CREATE reads no pointers.
    let fd = unsafe { call(backend, abi::BPF_MAP_CREATE, &mut attr) }?;
    Ok(MapFd {
        fd,
        key_size: spec.key_size,
        value_size: spec.value_size,
    })
}

/// `EINVAL` unless `bytes` covers what the kernel reads for a `size`-byte key or value.
fn covers(bytes: &[u8], size: u32) -> Result<(), Errno> {
    if bytes.len() < size as usize {
        return Err(Errno::EINVAL);
    }
    Ok(())
}

/// `BPF_MAP_UPDATE_ELEM` with `BPF_ANY`. Not for per-CPU maps, whose values the
/// kernel reads once per possible CPU.
pub fn map_update<B: Bpf + ?Sized>(
    backend: &mut B,
    map: &MapFd,
    key: &[u8],
    value: &[u8],
) -> Result<(), Errno> {
    covers(key, map.key_size)?;
    covers(value, map.value_size)?;
    let mut attr = abi::MapElemAttr {
        map_fd: map.fd,
        key: ptr(key),
        value: ptr(value),
        flags: abi::BPF_ANY,
        ..Default::default()
    };
    // SAFETY: key and value are readable for the map's key and value sizes (checked).
    unsafe { call(backend, abi::BPF_MAP_UPDATE_ELEM, &mut attr) }.map(drop)
}

/// `BPF_MAP_DELETE_ELEM`.
pub fn map_delete<B: Bpf + ?Sized>(backend: &mut B, map: &MapFd, key: &[u8]) -> Result<(), Errno> {
    covers(key, map.key_size)?;
    let mut attr = abi::MapElemAttr {
        map_fd: map.fd,
        key: ptr(key),
        ..Default::default()
    };
    // SAFETY: the key is readable for the map's key size (checked).
    unsafe { call(backend, abi::BPF_MAP_DELETE_ELEM, &mut attr) }.map(drop)
}

/// `BPF_MAP_LOOKUP_ELEM` into `value`. Not for per-CPU maps, whose values the kernel
/// writes once per possible CPU.
pub fn map_lookup<B: Bpf + ?Sized>(
    backend: &mut B,
    map: &MapFd,
    key: &[u8],
    value: &mut [u8],
) -> Result<(), Errno> {
    covers(key, map.key_size)?;
    covers(value, map.value_size)?;
    let mut attr = abi::MapElemAttr {
        map_fd: map.fd,
        key: ptr(key),
        value: value.as_mut_ptr() as u64,
        ..Default::default()
    };
    // SAFETY: the key is readable and the value writable for the map's sizes (checked).
    unsafe { call(backend, abi::BPF_MAP_LOOKUP_ELEM, &mut attr) }.map(drop)
}

/// `BPF_MAP_GET_NEXT_KEY`: the key after `key` into `next`, or the first key if `key`
/// is `None`; `ENOENT` past the last.
pub fn map_next_key<B: Bpf + ?Sized>(
    backend: &mut B,
    map: &MapFd,
    key: Option<&[u8]>,
    next: &mut [u8],
) -> Result<(), Errno> {
    if let Some(key) = key {
        covers(key, map.key_size)?;
    }
    covers(next, map.key_size)?;
    let mut attr = abi::MapElemAttr {
        map_fd: map.fd,
        key: key.map_or(0, ptr),
        value: next.as_mut_ptr() as u64,
        ..Default::default()
    };
    // SAFETY: the key (if any) is readable and `next` writable for the key size (checked).
    unsafe { call(backend, abi::BPF_MAP_GET_NEXT_KEY, &mut attr) }.map(drop)
}

/// `BPF_MAP_FREEZE`: no syscall can change the map afterwards.
pub fn map_freeze<B: Bpf + ?Sized>(backend: &mut B, fd: Fd) -> Result<(), Errno> {
    let mut attr = abi::MapFreezeAttr { map_fd: fd };
    // SAFETY: MAP_FREEZE reads no pointers.
    unsafe { call(backend, abi::BPF_MAP_FREEZE, &mut attr) }.map(drop)
}

/// `BPF_BTF_LOAD` of raw BTF, without a log.
pub fn btf_load<B: Bpf + ?Sized>(backend: &mut B, btf: &[u8]) -> Result<Fd, Errno> {
    let mut attr = abi::BtfLoadAttr {
        btf: ptr(btf),
        btf_size: u32::try_from(btf.len()).map_err(|_| Errno::E2BIG)?,
        ..Default::default()
    };
    // SAFETY: `btf` points to `btf_size` readable bytes; no log buffer.
    unsafe { call(backend, abi::BPF_BTF_LOAD, &mut attr) }
}

/// Records of `.BTF.ext` for `BPF_PROG_LOAD`: the bytes and the size of one record.
#[derive(Debug, Clone, Copy)]
pub struct Records<'a> {
    /// Whole records.
    pub bytes: &'a [u8],
    /// The size of one.
    pub rec_size: u32,
}

/// What `BPF_PROG_LOAD` loads.
#[derive(Debug, Default)]
pub struct ProgSpec<'a> {
    /// `BPF_PROG_TYPE_*`.
    pub prog_type: u32,
    /// The instructions, 8 bytes each.
    pub insns: &'a [u8],
    /// The license the verifier checks GPL-only helpers against.
    pub license: Option<&'a CStr>,
    /// `BPF_F_*` program flags.
    pub prog_flags: u32,
    /// The name given to the kernel (cut to 15 bytes).
    pub name: &'a str,
    /// `BPF_*` attach type the program is verified for.
    pub expected_attach_type: u32,
    /// The object's BTF, which `func_info`, `line_info` and `core_relos` refer to.
    pub btf_fd: Option<Fd>,
    /// `.BTF.ext` function records.
    pub func_info: Option<Records<'a>>,
    /// `.BTF.ext` line records.
    pub line_info: Option<Records<'a>>,
    /// `.BTF.ext` CO-RE relocations, which the kernel applies.
    pub core_relos: Option<Records<'a>>,
    /// The attach target's BTF id, in vmlinux or in the module BTF below.
    pub attach_btf_id: u32,
    /// The module BTF holding the attach target; `None` for vmlinux.
    pub attach_btf_obj_fd: Option<Fd>,
    /// The BPF program whose function `attach_btf_id` names (`attach_prog_fd`, in a
    /// union with `attach_btf_obj_fd`: at most one of the two).
    pub attach_prog_fd: Option<Fd>,
    /// The fds that instructions name by index (maps, module BTF of kfuncs).
    pub fd_array: &'a [i32],
    /// A buffer for the verifier's log (level 1).
    pub log: Option<&'a mut [u8]>,
}

/// Whether every index into `fd_array` that `insns` hold is inside it: the kernel
/// reads `fd_array[imm]` of a `BPF_PSEUDO_MAP_IDX*` load and `fd_array[off]` of a
/// module kfunc call, and knows no length.
fn indices_inside(insns: &[u8], fd_array: &[i32]) -> bool {
    let n = fd_array.len();
    insns.chunks_exact(8).all(|insn| {
        let src = insn[1] >> 4;
        let off = i16::from_le_bytes([insn[2], insn[3]]);
        let imm = i32::from_le_bytes([insn[4], insn[5], insn[6], insn[7]]);
        match (insn[0], src) {
            (abi::BPF_LD_IMM64, abi::BPF_PSEUDO_MAP_IDX | abi::BPF_PSEUDO_MAP_IDX_VALUE) => {
                usize::try_from(imm).is_ok_and(|i| i < n)
            }
            (abi::BPF_JMP_CALL, abi::BPF_PSEUDO_KFUNC_CALL) => {
                off == 0 || usize::try_from(off).is_ok_and(|i| i < n)
            }
            _ => true,
        }
    })
}

/// `(pointer, count)` of whole records, `EINVAL` for a partial one.
fn records(r: Option<Records<'_>>) -> Result<(u32, u64, u32), Errno> {
    let Some(r) = r else {
        return Ok((0, 0, 0));
    };
    if r.rec_size == 0 || !r.bytes.len().is_multiple_of(r.rec_size as usize) {
        return Err(Errno::EINVAL);
    }
    let count = u32::try_from(r.bytes.len() / r.rec_size as usize).map_err(|_| Errno::E2BIG)?;
    Ok((r.rec_size, ptr(r.bytes), count))
}

/// `BPF_PROG_LOAD`. `EINVAL` before the call for instructions that are not whole, or
/// that index past `fd_array`.
pub fn prog_load<B: Bpf + ?Sized>(backend: &mut B, spec: ProgSpec<'_>) -> Result<Fd, Errno> {
    if !spec.insns.len().is_multiple_of(8) || !indices_inside(spec.insns, spec.fd_array) {
        return Err(Errno::EINVAL);
    }
    let (func_info_rec_size, func_info, func_info_cnt) = records(spec.func_info)?;
    let (line_info_rec_size, line_info, line_info_cnt) = records(spec.line_info)?;
    let (core_relo_rec_size, core_relos, core_relo_cnt) = records(spec.core_relos)?;
    let (log_level, log_size, log_buf) = match spec.log {
        Some(log) => (
            1,
            u32::try_from(log.len()).map_err(|_| Errno::E2BIG)?,
            log.as_mut_ptr() as u64,
        ),
        None => (0, 0, 0),
    };
    let mut attr = abi::ProgLoadAttr {
        prog_type: spec.prog_type,
        insn_cnt: (spec.insns.len() / 8) as u32,
        insns: ptr(spec.insns),
        license: spec.license.map_or(0, |l| l.as_ptr() as u64),
        log_level,
        log_size,
        log_buf,
        prog_flags: spec.prog_flags,
        prog_name: obj_name(spec.name),
        expected_attach_type: spec.expected_attach_type,
        prog_btf_fd: spec.btf_fd.unwrap_or(0),
        func_info_rec_size,
        func_info,
        func_info_cnt,
        line_info_rec_size,
        line_info,
        line_info_cnt,
        attach_btf_id: spec.attach_btf_id,
        // 0 is vmlinux, in the kernel's ABI.
        attach_btf_obj_fd: spec.attach_btf_obj_fd.or(spec.attach_prog_fd).unwrap_or(0),
        core_relo_cnt,
        fd_array: if spec.fd_array.is_empty() {
            0
        } else {
            ptr(spec.fd_array)
        },
        core_relos,
        core_relo_rec_size,
        ..Default::default()
    };
    // SAFETY: every pointer in `attr` comes from a slice or C string of `spec`, alive
    // for the call, with the count beside it; the log buffer is writable for its
    // size; the instructions index only inside `fd_array` (checked).
    unsafe { call(backend, abi::BPF_PROG_LOAD, &mut attr) }
}

/// `BPF_PROG_BIND_MAP`: `prog` holds `map` as if its instructions used it, and lists
/// it in its info (`map_ids`), as libbpf binds `.rodata` to every program.
pub fn prog_bind_map<B: Bpf + ?Sized>(backend: &mut B, prog: Fd, map: Fd) -> Result<(), Errno> {
    let mut attr = abi::ProgBindMapAttr {
        prog_fd: prog,
        map_fd: map,
        flags: 0,
    };
    // SAFETY: no pointers.
    unsafe { call(backend, abi::BPF_PROG_BIND_MAP, &mut attr) }.map(drop)
}

/// `BPF_LINK_CREATE` without attach-type specific options: `prog_fd` is the program
/// (or, for `BPF_STRUCT_OPS`, the struct_ops map), `target_fd` the target if any.
pub fn link_create<B: Bpf + ?Sized>(
    backend: &mut B,
    prog_fd: Fd,
    target_fd: Fd,
    attach_type: u32,
) -> Result<Fd, Errno> {
    let mut attr = abi::LinkCreateAttr {
        prog_fd,
        target_fd,
        attach_type,
        ..Default::default()
    };
    // SAFETY: no pointers (the union stays zero).
    unsafe { call(backend, abi::BPF_LINK_CREATE, &mut attr) }
}

/// `BPF_RAW_TRACEPOINT_OPEN`: `name` is the tracepoint, or `None` for a program
/// that names its target by BTF (tp_btf, fentry, lsm, ...).
pub fn raw_tracepoint_open<B: Bpf + ?Sized>(
    backend: &mut B,
    prog_fd: Fd,
    name: Option<&CStr>,
) -> Result<Fd, Errno> {
    let mut attr = abi::RawTracepointOpenAttr {
        name: name.map_or(0, |n| n.as_ptr() as u64),
        prog_fd,
        ..Default::default()
    };
    // SAFETY: `name` is a NUL-terminated string alive for the call, or 0.
    unsafe { call(backend, abi::BPF_RAW_TRACEPOINT_OPEN, &mut attr) }
}

/// `BPF_OBJ_PIN` of `fd` at `path` in a bpffs.
pub fn obj_pin<B: Bpf + ?Sized>(backend: &mut B, fd: Fd, path: &CStr) -> Result<(), Errno> {
    let mut attr = abi::ObjPinAttr {
        pathname: path.as_ptr() as u64,
        bpf_fd: fd,
        ..Default::default()
    };
    // SAFETY: `pathname` is a NUL-terminated string alive for the call.
    unsafe { call(backend, abi::BPF_OBJ_PIN, &mut attr) }.map(drop)
}

/// `BPF_OBJ_GET`: an fd for the object pinned at `path`.
pub fn obj_get<B: Bpf + ?Sized>(backend: &mut B, path: &CStr) -> Result<Fd, Errno> {
    let mut attr = abi::ObjPinAttr {
        pathname: path.as_ptr() as u64,
        ..Default::default()
    };
    // SAFETY: `pathname` is a NUL-terminated string alive for the call.
    unsafe { call(backend, abi::BPF_OBJ_GET, &mut attr) }
}

/// `BPF_OBJ_GET_INFO_BY_FD` into `T` (`ProgInfo`, `MapInfo`, `LinkInfo`, or a prefix
/// of one).
pub fn obj_info<B: Bpf + ?Sized, T: Pod>(backend: &mut B, fd: Fd) -> Result<T, Errno> {
    let mut info = T::default();
    let mut attr = abi::InfoByFdAttr {
        bpf_fd: fd,
        info_len: core::mem::size_of::<T>() as u32,
        info: &mut info as *mut T as u64,
    };
    // SAFETY: `info` is writable for `info_len` bytes; `T: Pod`, so any bytes the
    // kernel writes are a valid `T`.
    unsafe { call(backend, abi::BPF_OBJ_GET_INFO_BY_FD, &mut attr) }?;
    Ok(info)
}

/// The bytes of the BTF object `btf`: `BPF_OBJ_GET_INFO_BY_FD` for its size, then
/// again into a buffer of that size.
pub fn btf_data<B: Bpf + ?Sized>(backend: &mut B, btf: Fd) -> Result<Vec<u8>, Errno> {
    let size = obj_info::<B, abi::BtfInfo>(backend, btf)?.btf_size;
    let mut bytes = Vec::new();
    (bytes.try_reserve_exact(size as usize)).map_err(|_| Errno::ENOMEM)?;
    bytes.resize(size as usize, 0);
    let mut info = abi::BtfInfo {
        btf: bytes.as_mut_ptr() as u64,
        btf_size: size,
        ..Default::default()
    };
    let mut attr = abi::InfoByFdAttr {
        bpf_fd: btf,
        info_len: core::mem::size_of::<abi::BtfInfo>() as u32,
        info: &mut info as *mut abi::BtfInfo as u64,
    };
    // SAFETY: `info` is writable for `info_len` bytes and points the kernel at
    // `bytes`, writable for `btf_size` bytes.
    unsafe { call(backend, abi::BPF_OBJ_GET_INFO_BY_FD, &mut attr) }?;
    bytes.truncate(info.btf_size.min(size) as usize);
    Ok(bytes)
}

/// The kernel's id of the map, program or link behind `fd`: the second word of each
/// of their info structs.
pub fn obj_id<B: Bpf + ?Sized>(backend: &mut B, fd: Fd) -> Result<u32, Errno> {
    obj_info::<B, InfoPrefix>(backend, fd).map(|info| info.id)
}

/// The words that `struct bpf_map_info`, `bpf_prog_info` and `bpf_link_info` start
/// with: the type and the id.
#[repr(C)]
#[derive(Clone, Copy, Default)]
struct InfoPrefix {
    kind: u32,
    id: u32,
}

// SAFETY: repr(C), two u32s, no padding: any bytes are a valid value.
unsafe impl Pod for InfoPrefix {}

/// The commands `BPF_{MAP,PROG,LINK}_GET_FD_BY_ID` and `..._GET_NEXT_ID` of `kind`.
fn id_commands(kind: ObjectKind) -> (u32, u32) {
    match kind {
        ObjectKind::Map => (abi::BPF_MAP_GET_FD_BY_ID, abi::BPF_MAP_GET_NEXT_ID),
        ObjectKind::Program => (abi::BPF_PROG_GET_FD_BY_ID, abi::BPF_PROG_GET_NEXT_ID),
        ObjectKind::Link => (abi::BPF_LINK_GET_FD_BY_ID, abi::BPF_LINK_GET_NEXT_ID),
    }
}

/// `BPF_{MAP,PROG,LINK}_GET_FD_BY_ID`: an fd for the object with this id.
pub fn fd_by_id<B: Bpf + ?Sized>(backend: &mut B, kind: ObjectKind, id: u32) -> Result<Fd, Errno> {
    let mut attr = abi::GetFdByIdAttr {
        id,
        ..Default::default()
    };
    // SAFETY: no pointers.
    unsafe { call(backend, id_commands(kind).0, &mut attr) }
}

/// `BPF_BTF_GET_FD_BY_ID`.
pub fn btf_fd_by_id<B: Bpf + ?Sized>(backend: &mut B, id: u32) -> Result<Fd, Errno> {
    let mut attr = abi::GetFdByIdAttr {
        id,
        ..Default::default()
    };
    // SAFETY: no pointers.
    unsafe { call(backend, abi::BPF_BTF_GET_FD_BY_ID, &mut attr) }
}

/// `BPF_{MAP,PROG,LINK}_GET_NEXT_ID`: the next id after `id`, `ENOENT` past the last.
pub fn next_id<B: Bpf + ?Sized>(backend: &mut B, kind: ObjectKind, id: u32) -> Result<u32, Errno> {
    let mut attr = abi::GetFdByIdAttr {
        id,
        ..Default::default()
    };
    // SAFETY: no pointers.
    unsafe { call(backend, id_commands(kind).1, &mut attr) }?;
    Ok(attr.next_id)
}

/// `BPF_BTF_GET_NEXT_ID`: the next BTF id after `id`, `ENOENT` past the last.
pub fn btf_next_id<B: Bpf + ?Sized>(backend: &mut B, id: u32) -> Result<u32, Errno> {
    let mut attr = abi::GetFdByIdAttr {
        id,
        ..Default::default()
    };
    // SAFETY: no pointers.
    unsafe { call(backend, abi::BPF_BTF_GET_NEXT_ID, &mut attr) }?;
    Ok(attr.next_id)
}

/// `BPF_PROG_TEST_RUN` with a context only (a syscall program, whose writes to the
/// context the kernel copies back); returns the program's return value.
pub fn prog_test_run<B: Bpf + ?Sized>(
    backend: &mut B,
    prog_fd: Fd,
    ctx: &mut [u8],
) -> Result<u32, Errno> {
    let mut attr = abi::ProgTestRunAttr {
        prog_fd,
        ctx_size_in: u32::try_from(ctx.len()).map_err(|_| Errno::E2BIG)?,
        ctx_in: ctx.as_mut_ptr() as u64,
        ..Default::default()
    };
    // SAFETY: the context is readable and writable for its size, for the call.
    unsafe { call(backend, abi::BPF_PROG_TEST_RUN, &mut attr) }?;
    Ok(attr.retval)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn insn(code: u8, src: u8, off: i16, imm: i32) -> [u8; 8] {
        let [o0, o1] = off.to_le_bytes();
        let [i0, i1, i2, i3] = imm.to_le_bytes();
        [code, src << 4, o0, o1, i0, i1, i2, i3]
    }

    #[test]
    fn indices_past_fd_array_are_refused() {
        let map = |imm| insn(abi::BPF_LD_IMM64, abi::BPF_PSEUDO_MAP_IDX, 0, imm);
        let kfunc = |off| insn(abi::BPF_JMP_CALL, abi::BPF_PSEUDO_KFUNC_CALL, off, 7);
        assert!(indices_inside(&map(1), &[3, 4]));
        assert!(!indices_inside(&map(2), &[3, 4]));
        assert!(!indices_inside(&map(-1), &[3, 4]));
        assert!(indices_inside(&kfunc(0), &[]), "0 is vmlinux");
        assert!(indices_inside(&kfunc(1), &[-1, 5]));
        assert!(!indices_inside(&kfunc(2), &[-1, 5]));
        assert!(!indices_inside(&kfunc(-3), &[-1, 5]));
    }
}
