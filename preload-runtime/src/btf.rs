//! Finding named types in the running kernel's own BTF through the kernel itself
//! ([`TargetFinder`]), which is how the loader resolves the attach targets of tracing,
//! lsm and iterator programs, and kfuncs and kernel variables.

use alloc::vec::Vec;

use crate::abi;
use crate::backend::{Backend, Fd};
use crate::errno::Errno;
use crate::loader;

/// `BTF_KIND_FUNC`: attach targets of tracing, lsm and iterator programs; kfuncs.
pub const BTF_KIND_FUNC: u32 = 12;
/// `BTF_KIND_TYPEDEF`: `btf_trace_<tracepoint>`, the target of a `tp_btf` program.
pub const BTF_KIND_TYPEDEF: u32 = 8;
/// `BTF_KIND_VAR`: a typed kernel variable (`__ksym`).
pub const BTF_KIND_VAR: u32 = 14;
/// Not a BTF kind: asks the finder program for a kallsyms address instead.
const KALLSYMS: u32 = 0;

const BTF_MAGIC: u16 = 0xeb9f;
const HEADER_LEN: usize = 24;
const TYPE_LEN: usize = 12;

fn u32_at(data: &[u8], at: usize) -> Option<u32> {
    let bytes = data.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes(bytes.try_into().ok()?))
}

/// Bytes that follow the 12-byte `struct btf_type` for a type of this kind. `vlen` is
/// 16 bits, so none of these overflow; checked all the same, as every size read.
fn extra_len(kind: u32, vlen: usize) -> Option<usize> {
    match kind {
        // INT, VAR, DECL_TAG
        1 | 14 | 17 => Some(4),
        // ARRAY
        3 => Some(12),
        // STRUCT, UNION, DATASEC, ENUM64
        4 | 5 | 15 | 19 => vlen.checked_mul(12),
        // ENUM, FUNC_PROTO
        6 | 13 => vlen.checked_mul(8),
        // PTR, FWD, TYPEDEF, VOLATILE, CONST, RESTRICT, FUNC, FLOAT, TYPE_TAG
        2 | 7 | 8 | 9 | 10 | 11 | 12 | 16 | 18 => Some(0),
        _ => None,
    }
}

/// The type and string sections of little-endian raw BTF, `EINVAL` if malformed.
fn sections(data: &[u8]) -> Result<(&[u8], &[u8]), Errno> {
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
    let section = |off: usize, len: usize| {
        let start = hdr_len.checked_add(off).ok_or(bad)?;
        data.get(start..start.checked_add(len).ok_or(bad)?)
            .ok_or(bad)
    };
    Ok((section(type_off, type_len)?, section(str_off, str_len)?))
}

/// Whether the NUL-terminated string at `off` is `prefix` followed by `name`.
fn name_is(strings: &[u8], off: usize, prefix: &str, name: &str) -> bool {
    strings
        .get(off..)
        .and_then(|s| s.strip_prefix(prefix.as_bytes()))
        .and_then(|s| s.strip_prefix(name.as_bytes()))
        .is_some_and(|rest| rest.first() == Some(&0))
}

/// `BTF_KIND_INT`.
pub const BTF_KIND_INT: u32 = 1;
/// `BTF_KIND_PTR`.
pub const BTF_KIND_PTR: u32 = 2;
/// `BTF_KIND_ARRAY`.
pub const BTF_KIND_ARRAY: u32 = 3;
/// `BTF_KIND_STRUCT`.
pub const BTF_KIND_STRUCT: u32 = 4;
/// `BTF_KIND_FUNC_PROTO`.
pub const BTF_KIND_FUNC_PROTO: u32 = 13;

/// Every this many types, [`RawBtf`] notes where a type starts. The kernel's BTF has
/// some 100,000 types: a full index would be one allocation of half a megabyte, which
/// kmalloc may well refuse (it needs physically contiguous pages); this one is 64
/// times smaller, and finding a type walks at most 63 others.
const INDEX_STRIDE: usize = 64;

/// Raw BTF with the place of every 64th type indexed: enough of
/// libbpf's `btf__*` to lay out a kernel struct (struct_ops values) from the kernel's
/// own BTF. Every size and offset in it was checked by [`RawBtf::parse`], and every
/// chain of types it follows is bounded, so malformed BTF gives errors (`None`),
/// never a panic or an endless loop.
pub struct RawBtf<'a> {
    types: &'a [u8],
    strings: &'a [u8],
    /// Byte offset in `types` of type `1 + k * INDEX_STRIDE` at `k`.
    index: Vec<u32>,
    /// How many types there are: ids are `1..=count`.
    count: u32,
}

/// One `struct btf_type`.
#[derive(Debug, Clone, Copy)]
pub struct BtfType<'a> {
    name_off: u32,
    /// `BTF_KIND_*`.
    pub kind: u32,
    vlen: usize,
    kind_flag: bool,
    /// `size` or `type`, by kind.
    size_or_type: u32,
    extra: &'a [u8],
}

/// One member of a struct or union.
#[derive(Debug, Clone, Copy)]
pub struct BtfMember {
    /// Offset of the name in the string section.
    pub name_off: u32,
    /// The member's type.
    pub type_id: u32,
    /// Offset in bits.
    pub bit_offset: u32,
    /// Bits of a bitfield, 0 otherwise.
    pub bitfield_size: u32,
}

/// The type at byte `at` of `types` and where the next one starts, if it lies wholly
/// inside `types` and is of a kind this reader knows.
fn type_at(types: &[u8], at: usize) -> Option<(BtfType<'_>, usize)> {
    let info = u32_at(types, at.checked_add(4)?)?;
    let (kind, vlen) = ((info >> 24) & 0x1f, (info & 0xffff) as usize);
    let start = at.checked_add(TYPE_LEN)?;
    let end = start.checked_add(extra_len(kind, vlen)?)?;
    let ty = BtfType {
        name_off: u32_at(types, at)?,
        kind,
        vlen,
        kind_flag: info >> 31 == 1,
        size_or_type: u32_at(types, at.checked_add(8)?)?,
        extra: types.get(start..end)?,
    };
    Some((ty, end))
}

impl<'a> RawBtf<'a> {
    /// Indexes `data`; `EINVAL` if it is not well-formed little-endian BTF, `ENOMEM`
    /// if the index cannot be allocated.
    pub fn parse(data: &'a [u8]) -> Result<Self, Errno> {
        let bad = Errno::EINVAL;
        let (types, strings) = sections(data)?;
        // Every type takes at least TYPE_LEN bytes: this many index entries suffice,
        // allocated once, fallibly, before anything is pushed.
        let most = (types.len() / TYPE_LEN).div_ceil(INDEX_STRIDE);
        let mut index = Vec::new();
        index.try_reserve_exact(most).map_err(|_| Errno::ENOMEM)?;
        let (mut at, mut count) = (0usize, 0u32);
        while at < types.len() {
            let (_, next) = type_at(types, at).ok_or(bad)?;
            if (count as usize).is_multiple_of(INDEX_STRIDE) {
                // Within the capacity reserved above (each type is at least TYPE_LEN
                // bytes); checked rather than let `push` reallocate.
                if index.len() == index.capacity() {
                    return Err(bad);
                }
                index.push(u32::try_from(at).map_err(|_| bad)?);
            }
            count = count.checked_add(1).ok_or(bad)?;
            at = next;
        }
        Ok(RawBtf {
            types,
            strings,
            index,
            count,
        })
    }

    /// How many types there are (ids `1..=len()`; 0 is `void`).
    pub fn len(&self) -> u32 {
        self.count
    }

    /// Whether there are no types.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Type `id` (0, `void`, is none).
    pub fn get(&self, id: u32) -> Option<BtfType<'a>> {
        let i = (id as usize).checked_sub(1)?;
        if id > self.count {
            return None;
        }
        let mut at = *self.index.get(i / INDEX_STRIDE)? as usize;
        for _ in 0..i % INDEX_STRIDE {
            at = type_at(self.types, at)?.1;
        }
        type_at(self.types, at).map(|(ty, _)| ty)
    }

    /// Every type with its id, in order.
    fn iter(&self) -> impl Iterator<Item = (u32, BtfType<'a>)> + '_ {
        let mut at = 0;
        (1..=self.count).map_while(move |id| {
            let (ty, next) = type_at(self.types, at)?;
            at = next;
            Some((id, ty))
        })
    }

    /// Whether `ty` is named `name`.
    pub fn named(&self, ty: &BtfType<'_>, name: &str) -> bool {
        name_is(self.strings, ty.name_off as usize, "", name)
    }

    /// The id of the first type of `kind` named `name`.
    pub fn find(&self, name: &str, kind: u32) -> Option<u32> {
        self.find_prefixed("", name, kind)
    }

    /// The id of the first type of `kind` named `prefix` followed by `name`
    /// (`bpf_struct_ops_` and a struct's name), without allocating the joined name.
    pub fn find_prefixed(&self, prefix: &str, name: &str, kind: u32) -> Option<u32> {
        self.iter()
            .find(|(_, t)| {
                t.kind == kind && name_is(self.strings, t.name_off as usize, prefix, name)
            })
            .map(|(id, _)| id)
    }

    /// The members of a struct or union (none for other kinds).
    pub fn members(&self, ty: &BtfType<'a>) -> impl Iterator<Item = BtfMember> + 'a {
        let (extra, kind_flag) = (ty.extra, ty.kind_flag);
        let is_composite = matches!(ty.kind, 4 | 5);
        // `extra` is exactly vlen members long (`type_at`): `chunks_exact` reads no
        // further, whatever vlen says.
        extra
            .chunks_exact(12)
            .take(if is_composite { ty.vlen } else { 0 })
            .filter_map(move |m| {
                let offset = u32_at(m, 8)?;
                Some(BtfMember {
                    name_off: u32_at(m, 0)?,
                    type_id: u32_at(m, 4)?,
                    bit_offset: if kind_flag {
                        offset & 0xff_ffff
                    } else {
                        offset
                    },
                    bitfield_size: if kind_flag { offset >> 24 } else { 0 },
                })
            })
    }

    /// Whether the member's name is `name`.
    pub fn member_named(&self, member: &BtfMember, name: &str) -> bool {
        name_is(self.strings, member.name_off as usize, "", name)
    }

    /// `id` with typedefs and modifiers (volatile, const, restrict, type tags) skipped;
    /// `None` past 32 of them (a loop, in malformed BTF).
    pub fn skip_mods(&self, mut id: u32) -> Option<(u32, BtfType<'a>)> {
        for _ in 0..MAX_CHAIN {
            let ty = self.get(id)?;
            match ty.kind {
                8 | 9 | 10 | 11 | 18 => id = ty.size_or_type,
                _ => return Some((id, ty)),
            }
        }
        None
    }

    /// What a pointer points to.
    pub fn pointee(&self, ty: &BtfType<'_>) -> Option<u32> {
        (ty.kind == BTF_KIND_PTR).then_some(ty.size_or_type)
    }

    /// The size of type `id` in bytes, as libbpf's `btf__resolve_size`: `None` if it
    /// has none, if it overflows a `u32`, or past 32 nested arrays (each with up
    /// to 32 modifiers). A loop, without recursion.
    pub fn size_of(&self, mut id: u32) -> Option<u32> {
        let mut elements: u32 = 1;
        for _ in 0..MAX_CHAIN {
            let (_, ty) = self.skip_mods(id)?;
            match ty.kind {
                BTF_KIND_PTR => return elements.checked_mul(8),
                BTF_KIND_ARRAY => {
                    elements = elements.checked_mul(u32_at(ty.extra, 8)?)?;
                    id = u32_at(ty.extra, 0)?;
                }
                // INT, STRUCT, UNION, ENUM, DATASEC, FLOAT, ENUM64
                1 | 4 | 5 | 6 | 15 | 16 | 19 => return elements.checked_mul(ty.size_or_type),
                _ => return None,
            }
        }
        None
    }

    /// The size of a struct or union.
    pub fn struct_size(&self, ty: &BtfType<'_>) -> u32 {
        ty.size_or_type
    }
}

/// How many typedefs and modifiers [`RawBtf::skip_mods`] follows, and how many nested
/// arrays [`RawBtf::size_of`], before giving up.
const MAX_CHAIN: usize = 32;

/// A type found in the running kernel's BTF.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KernelBtfId {
    /// The type's id, in vmlinux or in the module BTF of `btf_obj_fd`.
    pub id: u32,
    /// An fd for the module BTF that holds the type, or `None` for vmlinux.
    pub btf_obj_fd: Option<Fd>,
}

/// Finds attach targets, kfuncs and kernel variables in the running kernel's BTF
/// (vmlinux, then modules), and kernel symbols' addresses, the way light skeletons do:
/// a sleepable syscall program calls `bpf_btf_find_by_name_kind` (or
/// `bpf_kallsyms_lookup_name`) and is run with `BPF_PROG_TEST_RUN`. It needs only
/// bpf(2) commands that the kernel accepts from kernel context, so every backend can
/// use it. One map and one program serve every lookup of a load, and each name is
/// looked up once.
pub struct TargetFinder<'a> {
    map: Fd,
    prog: Fd,
    /// The map's value: a NUL-padded name, the longest the finder was made for.
    value_size: u32,
    found: Vec<(&'a str, u32, KernelBtfId)>,
}

impl<'a> TargetFinder<'a> {
    /// Creates the map and loads the program, for names of up to `longest_name` bytes.
    pub fn new<B: Backend + ?Sized>(backend: &mut B, longest_name: usize) -> Result<Self, Errno> {
        let value_size = u32::try_from((longest_name + 1).next_multiple_of(8))
            .map_err(|_| Errno::ENAMETOOLONG)?;
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
        match load_program(backend, map, value_size) {
            Ok(prog) => Ok(Self {
                map,
                prog,
                value_size,
                found: Vec::new(),
            }),
            Err(e) => {
                backend.close(map);
                Err(e)
            }
        }
    }

    /// The type `name` of `kind`. A module BTF fd in the result stays open until
    /// [`TargetFinder::close`].
    pub fn find<B: Backend + ?Sized>(
        &mut self,
        backend: &mut B,
        name: &'a str,
        kind: u32,
    ) -> Result<KernelBtfId, Errno> {
        if let Some(&(_, _, id)) = self.found.iter().find(|f| f.0 == name && f.1 == kind) {
            return Ok(id);
        }
        let ctx = self.run(backend, name, kind)?;
        let result = ctx[0];
        if result < 0 {
            return Err(helper_errno(result));
        }
        // The helper gives a module's BTF fd in the upper half, 0 for vmlinux (an fd
        // the finder never sees as one of its own: the kernel's ABI says vmlinux so).
        let id = KernelBtfId {
            id: result as u32,
            btf_obj_fd: Some((result >> 32) as u32).filter(|&fd| fd != 0),
        };
        if self.found.try_reserve(1).is_err() {
            // Not noted, so not closed by `close`: closed here.
            if let Some(fd) = id.btf_obj_fd {
                backend.close(fd);
            }
            return Err(Errno::ENOMEM);
        }
        self.found.push((name, kind, id));
        Ok(id)
    }

    /// The address of kernel symbol `name`, from kallsyms.
    pub fn address<B: Backend + ?Sized>(
        &mut self,
        backend: &mut B,
        name: &str,
    ) -> Result<u64, Errno> {
        let ctx = self.run(backend, name, KALLSYMS)?;
        if ctx[0] < 0 {
            return Err(helper_errno(ctx[0]));
        }
        Ok(ctx[2] as u64)
    }

    /// Runs the program for `name` and `kind`; returns its context: the helper's
    /// result, the kind, and for kallsyms the address.
    fn run<B: Backend + ?Sized>(
        &mut self,
        backend: &mut B,
        name: &str,
        kind: u32,
    ) -> Result<[i64; 3], Errno> {
        if name.len() >= self.value_size as usize {
            return Err(Errno::ENAMETOOLONG);
        }
        // The helper reads the name from the map value, NUL-padded to its whole size.
        let mut value = Vec::new();
        value
            .try_reserve_exact(self.value_size as usize)
            .map_err(|_| Errno::ENOMEM)?;
        value.extend_from_slice(name.as_bytes());
        value.resize(self.value_size as usize, 0);
        let key = 0u32;
        let mut attr = abi::MapElemAttr {
            map_fd: self.map,
            key: &key as *const u32 as u64,
            value: value.as_ptr() as u64,
            ..Default::default()
        };
        // SAFETY: key and value are alive and of the map's key and value sizes.
        unsafe { loader::bpf(backend, abi::BPF_MAP_UPDATE_ELEM, &mut attr) }?;

        let mut ctx = [0i64, i64::from(kind), 0];
        let mut attr = abi::ProgTestRunAttr {
            prog_fd: self.prog,
            ctx_size_in: core::mem::size_of_val(&ctx) as u32,
            ctx_in: ctx.as_mut_ptr() as u64,
            ..Default::default()
        };
        // SAFETY: the context is 24 bytes, readable and writable, for the call.
        unsafe { loader::bpf(backend, abi::BPF_PROG_TEST_RUN, &mut attr) }?;
        Ok(ctx)
    }

    /// Closes the map, the program and every module BTF fd found.
    pub fn close<B: Backend + ?Sized>(self, backend: &mut B) {
        for (_, _, id) in self.found {
            if let Some(fd) = id.btf_obj_fd {
                backend.close(fd);
            }
        }
        backend.close(self.prog);
        backend.close(self.map);
    }
}

/// The errno of a helper's negative result, which the kernel computed: `EINVAL` for
/// a value no errno has (rather than an overflow on negating `i64::MIN`).
fn helper_errno(result: i64) -> Errno {
    result
        .checked_neg()
        .and_then(|e| i32::try_from(e).ok())
        .map_or(Errno::EINVAL, Errno)
}

fn insn(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> [u8; 8] {
    let [o0, o1] = off.to_le_bytes();
    let [i0, i1, i2, i3] = imm.to_le_bytes();
    [code, (src << 4) | dst, o0, o1, i0, i1, i2, i3]
}

/// With the name in `map[0]`:
/// `ctx->result = bpf_btf_find_by_name_kind(name, value_size, ctx->kind, 0)`, or for
/// kind [`KALLSYMS`], `ctx->result = bpf_kallsyms_lookup_name(name, value_size, 0,
/// &ctx->address)` (through the stack: the helper writes only there).
fn load_program<B: Backend + ?Sized>(
    backend: &mut B,
    map: Fd,
    value_size: u32,
) -> Result<Fd, Errno> {
    const LD_IMM64: u8 = 0x18;
    const LDX_W: u8 = 0x61;
    const LDX_DW: u8 = 0x79;
    const ST_DW: u8 = 0x7a;
    const ADD64_IMM: u8 = 0x07;
    const JEQ_IMM: u8 = 0x15;
    const MOV64_IMM: u8 = 0xb7;
    const MOV64_REG: u8 = 0xbf;
    const CALL: u8 = 0x85;
    const STX_DW: u8 = 0x7b;
    const EXIT: u8 = 0x95;

    // The whole value is the name's size: the helper wants a NUL at its end, and
    // reads the name up to its first NUL.
    let program = [
        insn(MOV64_REG, 6, 1, 0, 0),
        insn(LDX_W, 3, 6, 8, 0),
        insn(LD_IMM64, 1, abi::BPF_PSEUDO_MAP_IDX_VALUE, 0, 0),
        insn(0, 0, 0, 0, 0),
        insn(MOV64_IMM, 2, 0, 0, value_size as i32),
        insn(JEQ_IMM, 3, 0, 5, KALLSYMS as i32),
        insn(MOV64_IMM, 4, 0, 0, 0),
        insn(CALL, 0, 0, 0, abi::BPF_FUNC_btf_find_by_name_kind),
        insn(STX_DW, 6, 0, 0, 0),
        insn(MOV64_IMM, 0, 0, 0, 0),
        insn(EXIT, 0, 0, 0, 0),
        // kallsyms:
        insn(ST_DW, 10, 0, -8, 0),
        insn(MOV64_IMM, 3, 0, 0, 0),
        insn(MOV64_REG, 4, 10, 0, 0),
        insn(ADD64_IMM, 4, 0, 0, -8),
        insn(CALL, 0, 0, 0, abi::BPF_FUNC_kallsyms_lookup_name),
        insn(STX_DW, 6, 0, 0, 0),
        insn(LDX_DW, 1, 10, -8, 0),
        insn(STX_DW, 6, 1, 16, 0),
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
    unsafe { loader::bpf(backend, abi::BPF_PROG_LOAD, &mut attr) }
}

#[cfg(test)]
pub(crate) mod tests {
    use alloc::vec::Vec;

    use super::*;

    /// Raw BTF from types (each `(name_off, info, size_or_type, extra words)`) and a
    /// string section.
    pub(crate) struct Builder {
        types: Vec<u8>,
        strings: Vec<u8>,
        count: u32,
    }

    pub(crate) fn info(kind: u32, vlen: u32) -> u32 {
        (kind << 24) | vlen
    }

    impl Builder {
        pub(crate) fn new() -> Self {
            Builder {
                types: Vec::new(),
                strings: b"\0".to_vec(),
                count: 0,
            }
        }

        /// Adds a name, returns its offset.
        pub(crate) fn name(&mut self, name: &str) -> u32 {
            let off = self.strings.len() as u32;
            self.strings.extend_from_slice(name.as_bytes());
            self.strings.push(0);
            off
        }

        /// Adds a type, returns its id.
        pub(crate) fn ty(
            &mut self,
            name_off: u32,
            info: u32,
            size_or_type: u32,
            extra: &[u32],
        ) -> u32 {
            for w in [name_off, info, size_or_type].iter().chain(extra) {
                self.types.extend_from_slice(&w.to_le_bytes());
            }
            self.count += 1;
            self.count
        }

        pub(crate) fn build(&self) -> Vec<u8> {
            let mut out = Vec::new();
            let words = [
                u32::from(BTF_MAGIC) | (1 << 16),
                HEADER_LEN as u32,
                0,
                self.types.len() as u32,
                self.types.len() as u32,
                self.strings.len() as u32,
            ];
            for w in words {
                out.extend_from_slice(&w.to_le_bytes());
            }
            out.extend_from_slice(&self.types);
            out.extend_from_slice(&self.strings);
            out
        }
    }

    /// Calls everything `RawBtf` offers on every id: none of it may panic or hang.
    fn exercise(data: &[u8]) {
        let Ok(btf) = RawBtf::parse(data) else {
            return;
        };
        let _ = btf.find("x", BTF_KIND_STRUCT);
        let _ = btf.find_prefixed("bpf_struct_ops_", "x", BTF_KIND_STRUCT);
        for id in 0..=btf.len().saturating_add(2) {
            let _ = btf.size_of(id);
            let _ = btf.skip_mods(id);
            if let Some(ty) = btf.get(id) {
                let _ = btf.named(&ty, "x");
                let _ = btf.pointee(&ty);
                let _ = btf.struct_size(&ty);
                for m in btf.members(&ty) {
                    let _ = btf.member_named(&m, "x");
                    let _ = btf.size_of(m.type_id);
                }
            }
        }
    }

    #[test]
    fn reads_a_well_formed_struct() {
        let mut b = Builder::new();
        let int_name = b.name("int");
        let int = b.ty(int_name, info(BTF_KIND_INT, 0), 4, &[32]);
        let ptr = b.ty(0, info(BTF_KIND_PTR, 0), int, &[]);
        let arr = b.ty(0, info(BTF_KIND_ARRAY, 0), 0, &[int, int, 3]);
        let konst = b.ty(0, info(10, 0), arr, &[]);
        let (s, a, p) = (b.name("ops"), b.name("a"), b.name("p"));
        let ops = b.ty(s, info(BTF_KIND_STRUCT, 2), 24, &[a, konst, 0, p, ptr, 128]);
        let value = b.name("bpf_struct_ops_ops");
        let vops = b.ty(value, info(BTF_KIND_STRUCT, 1), 32, &[a, ops, 64]);
        let data = b.build();
        let btf = RawBtf::parse(&data).unwrap();
        assert_eq!(btf.len(), 6);
        assert_eq!(btf.find("ops", BTF_KIND_STRUCT), Some(ops));
        assert_eq!(
            btf.find_prefixed("bpf_struct_ops_", "ops", BTF_KIND_STRUCT),
            Some(vops)
        );
        assert_eq!(btf.find("bpf_struct_ops_", BTF_KIND_STRUCT), None);
        assert_eq!(btf.size_of(konst), Some(12));
        assert_eq!(btf.size_of(ptr), Some(8));
        let ty = btf.get(ops).unwrap();
        let members: Vec<_> = btf.members(&ty).collect();
        assert_eq!(members.len(), 2);
        assert!(btf.member_named(&members[1], "p"));
        assert_eq!(members[1].bit_offset, 128);
        assert_eq!(btf.skip_mods(konst).unwrap().0, arr);
        assert!(btf.get(0).is_none() && btf.get(7).is_none());
        exercise(&data);
    }

    #[test]
    fn finds_types_past_the_sparse_index() {
        let mut b = Builder::new();
        let n = 3 * INDEX_STRIDE as u32 + 5;
        for i in 0..n {
            // Sizes distinguish them; every other one has extra bytes.
            if i % 2 == 0 {
                b.types.extend_from_slice(&0u32.to_le_bytes());
                b.types
                    .extend_from_slice(&info(BTF_KIND_INT, 0).to_le_bytes());
                b.types.extend_from_slice(&(i + 1).to_le_bytes());
                b.types.extend_from_slice(&32u32.to_le_bytes());
            } else {
                b.types.extend_from_slice(&0u32.to_le_bytes());
                b.types.extend_from_slice(&info(16, 0).to_le_bytes());
                b.types.extend_from_slice(&(i + 1).to_le_bytes());
            }
        }
        let data = b.build();
        let btf = RawBtf::parse(&data).unwrap();
        assert_eq!(btf.len(), n);
        for id in 1..=n {
            assert_eq!(btf.get(id).unwrap().size_or_type, id, "type {id}");
        }
        assert!(btf.get(n + 1).is_none());
    }

    #[test]
    fn malformed_headers_are_errors() {
        let good = {
            let mut b = Builder::new();
            b.ty(0, info(BTF_KIND_INT, 0), 4, &[32]);
            b.build()
        };
        assert!(RawBtf::parse(&good).is_ok());
        // Every truncation.
        for len in 0..good.len() {
            assert_eq!(
                RawBtf::parse(&good[..len]).err(),
                Some(Errno::EINVAL),
                "{len}"
            );
        }
        let with = |at: usize, v: u32| {
            let mut d = good.clone();
            d[at..at + 4].copy_from_slice(&v.to_le_bytes());
            d
        };
        // Bad magic, a header shorter than its fields, a header past the end.
        assert!(RawBtf::parse(&with(0, 0x1234_0001)).is_err());
        assert!(RawBtf::parse(&with(4, 8)).is_err());
        assert!(RawBtf::parse(&with(4, u32::MAX)).is_err());
        // Section offsets and lengths that overflow or leave the data.
        for at in [8, 12, 16, 20] {
            assert!(RawBtf::parse(&with(at, u32::MAX)).is_err(), "{at}");
            assert!(RawBtf::parse(&with(at, u32::MAX - 23)).is_err(), "{at}");
        }
    }

    #[test]
    fn malformed_types_are_errors() {
        // A vlen whose members run past the type section, the largest vlen, a kind
        // the reader does not know, and a type cut short.
        for (kind, vlen) in [(BTF_KIND_STRUCT, 1), (BTF_KIND_STRUCT, 0xffff), (6, 0xffff)] {
            let mut b = Builder::new();
            b.ty(0, info(kind, vlen), 4, &[]);
            assert_eq!(RawBtf::parse(&b.build()).err(), Some(Errno::EINVAL));
        }
        let mut b = Builder::new();
        b.ty(0, info(31, 0), 4, &[]);
        assert_eq!(RawBtf::parse(&b.build()).err(), Some(Errno::EINVAL));
        let mut b = Builder::new();
        b.ty(0, info(BTF_KIND_INT, 0), 4, &[32]);
        b.types.truncate(b.types.len() - 2);
        assert_eq!(RawBtf::parse(&b.build()).err(), Some(Errno::EINVAL));
    }

    #[test]
    fn cycles_and_long_chains_end() {
        let mut b = Builder::new();
        // 1 and 2: typedefs of each other.
        b.ty(0, info(BTF_KIND_TYPEDEF, 0), 2, &[]);
        b.ty(0, info(BTF_KIND_TYPEDEF, 0), 1, &[]);
        // 3: const of itself.
        b.ty(0, info(10, 0), 3, &[]);
        // 4: an array of itself; 5: an array of a pointer to itself.
        b.ty(0, info(BTF_KIND_ARRAY, 0), 0, &[4, 4, 2]);
        b.ty(0, info(BTF_KIND_ARRAY, 0), 0, &[6, 6, 2]);
        b.ty(0, info(BTF_KIND_PTR, 0), 5, &[]);
        let data = b.build();
        let btf = RawBtf::parse(&data).unwrap();
        for id in 1..=3 {
            assert!(btf.skip_mods(id).is_none(), "{id}");
            assert!(btf.size_of(id).is_none(), "{id}");
        }
        assert!(btf.size_of(4).is_none());
        assert_eq!(btf.size_of(5), Some(16));
        exercise(&data);

        // 1000 nested arrays of 1: far past MAX_CHAIN, refused without recursing.
        let mut b = Builder::new();
        let int = b.ty(0, info(BTF_KIND_INT, 0), 4, &[32]);
        let mut elem = int;
        for _ in 0..1000 {
            elem = b.ty(0, info(BTF_KIND_ARRAY, 0), 0, &[elem, int, 1]);
        }
        let data = b.build();
        let btf = RawBtf::parse(&data).unwrap();
        assert_eq!(btf.size_of(int + 3), Some(4));
        assert!(btf.size_of(elem).is_none());
        // As long a chain of modifiers.
        let mut b = Builder::new();
        let mut id = b.ty(0, info(BTF_KIND_INT, 0), 4, &[32]);
        for _ in 0..1000 {
            id = b.ty(0, info(9, 0), id, &[]);
        }
        let btf_data = b.build();
        let btf = RawBtf::parse(&btf_data).unwrap();
        assert!(btf.skip_mods(id).is_none());
        assert_eq!(btf.skip_mods(5).map(|(id, _)| id), Some(1));
    }

    #[test]
    fn sizes_that_overflow_are_none() {
        let mut b = Builder::new();
        let int = b.ty(0, info(BTF_KIND_INT, 0), 8, &[64]);
        let big = b.ty(0, info(BTF_KIND_ARRAY, 0), 0, &[int, int, u32::MAX]);
        let bigger = b.ty(0, info(BTF_KIND_ARRAY, 0), 0, &[big, int, 2]);
        let huge = b.ty(0, info(BTF_KIND_STRUCT, 0), u32::MAX, &[]);
        let arr = b.ty(0, info(BTF_KIND_ARRAY, 0), 0, &[huge, int, 2]);
        let data = b.build();
        let btf = RawBtf::parse(&data).unwrap();
        assert!(btf.size_of(big).is_none());
        assert!(btf.size_of(bigger).is_none());
        assert_eq!(btf.size_of(huge), Some(u32::MAX));
        assert!(btf.size_of(arr).is_none());
    }

    #[test]
    fn names_outside_the_strings_are_not_found() {
        let mut b = Builder::new();
        let n = b.name("ab");
        b.ty(u32::MAX, info(BTF_KIND_STRUCT, 1), 4, &[u32::MAX - 1, 0, 0]);
        // A name that runs to the end of the section without its NUL.
        b.ty(n + 1, info(BTF_KIND_STRUCT, 0), 4, &[]);
        b.strings.pop();
        let data = b.build();
        let btf = RawBtf::parse(&data).unwrap();
        let ty = btf.get(1).unwrap();
        assert!(!btf.named(&ty, ""));
        let m = btf.members(&ty).next().unwrap();
        assert!(!btf.member_named(&m, ""));
        assert_eq!(btf.find("b", BTF_KIND_STRUCT), None);
        assert_eq!(btf.find("", BTF_KIND_STRUCT), None);
    }

    /// The running kernel's own BTF, if it has one: the sparse index agrees with a
    /// walk over every type, and well-known types are found.
    #[test]
    fn reads_the_running_kernels_btf() {
        extern crate std;
        let Ok(data) = std::fs::read("/sys/kernel/btf/vmlinux") else {
            std::eprintln!("no /sys/kernel/btf/vmlinux: skipped");
            return;
        };
        let btf = RawBtf::parse(&data).unwrap();
        assert!(btf.len() > 10_000, "{} types", btf.len());
        let mut walked = 0;
        for (id, ty) in btf.iter() {
            let got = btf.get(id).unwrap();
            assert_eq!(
                (got.kind, got.name_off),
                (ty.kind, ty.name_off),
                "type {id}"
            );
            walked += 1;
        }
        assert_eq!(walked, btf.len());
        let task = btf.find("task_struct", BTF_KIND_STRUCT).unwrap();
        assert!(btf.size_of(task).unwrap() > 1000);
        assert!(btf
            .find_prefixed("bpf_struct_ops_", "tcp_congestion_ops", BTF_KIND_STRUCT)
            .is_some());
    }

    #[test]
    fn mutated_btf_never_panics() {
        let mut b = Builder::new();
        let int = b.ty(b.strings.len() as u32, info(BTF_KIND_INT, 0), 4, &[32]);
        b.name("int");
        let ptr = b.ty(0, info(BTF_KIND_PTR, 0), 3, &[]);
        let proto = b.ty(0, info(BTF_KIND_FUNC_PROTO, 1), int, &[0, int]);
        let arr = b.ty(0, info(BTF_KIND_ARRAY, 0), 0, &[ptr, int, 4]);
        let m = b.name("m");
        b.ty(m, info(BTF_KIND_STRUCT, 2), 40, &[m, arr, 0, m, proto, 256]);
        let good = b.build();
        // A small xorshift: reproducible, no dependency.
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..20_000 {
            let mut data = good.clone();
            for _ in 0..1 + next() % 4 {
                let at = (next() % data.len() as u64) as usize;
                data[at] = match next() % 4 {
                    0 => 0,
                    1 => 0xff,
                    _ => next() as u8,
                };
            }
            exercise(&data);
        }
    }
}
