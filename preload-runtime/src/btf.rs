//! Finding named types in BTF: in raw BTF such as `/sys/kernel/btf/vmlinux`
//! ([`find_type_id`], without allocating), and in the running kernel's own BTF through
//! the kernel itself ([`TargetFinder`]), which is how the loader resolves the attach
//! targets of tracing, lsm and iterator programs.

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

/// Whether the NUL-terminated string at `off` is `name`.
fn name_is(strings: &[u8], off: usize, name: &str) -> bool {
    strings
        .get(off..)
        .and_then(|s| s.strip_prefix(name.as_bytes()))
        .is_some_and(|rest| rest.first() == Some(&0))
}

/// The id of the first type of `kind` named `name` in little-endian BTF `data`.
/// `ENOENT` if there is none, `EINVAL` if the BTF is malformed.
pub fn find_type_id(data: &[u8], name: &str, kind: u32) -> Result<u32, Errno> {
    let bad = Errno::EINVAL;
    let (types, strings) = sections(data)?;
    let (mut at, mut id) = (0usize, 1u32);
    while at < types.len() {
        let name_off = u32_at(types, at).ok_or(bad)? as usize;
        let info = u32_at(types, at + 4).ok_or(bad)?;
        let (this_kind, vlen) = ((info >> 24) & 0x1f, (info & 0xffff) as usize);
        if this_kind == kind && name_is(strings, name_off, name) {
            return Ok(id);
        }
        at += TYPE_LEN + extra_len(this_kind, vlen).ok_or(bad)?;
        id += 1;
    }
    Err(Errno::ENOENT)
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

/// Raw BTF with every type's place indexed by id: enough of libbpf's `btf__*` to lay
/// out a kernel struct (struct_ops values) from the kernel's own BTF.
pub struct RawBtf<'a> {
    types: &'a [u8],
    strings: &'a [u8],
    /// Byte offset in `types` of type `id` at `id - 1`.
    offsets: Vec<u32>,
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

impl<'a> RawBtf<'a> {
    /// Indexes `data`; `EINVAL` if it is not well-formed little-endian BTF.
    pub fn parse(data: &'a [u8]) -> Result<Self, Errno> {
        let bad = Errno::EINVAL;
        let (types, strings) = sections(data)?;
        let mut offsets = Vec::new();
        let mut at = 0usize;
        while at < types.len() {
            let info = u32_at(types, at + 4).ok_or(bad)?;
            let (kind, vlen) = ((info >> 24) & 0x1f, (info & 0xffff) as usize);
            offsets.push(u32::try_from(at).map_err(|_| bad)?);
            at += TYPE_LEN + extra_len(kind, vlen).ok_or(bad)?;
        }
        if at != types.len() {
            return Err(bad);
        }
        Ok(RawBtf {
            types,
            strings,
            offsets,
        })
    }

    /// Type `id` (0, `void`, is none).
    pub fn get(&self, id: u32) -> Option<BtfType<'a>> {
        let at = *self.offsets.get((id as usize).checked_sub(1)?)? as usize;
        let info = u32_at(self.types, at + 4)?;
        let (kind, vlen) = ((info >> 24) & 0x1f, (info & 0xffff) as usize);
        let extra = self
            .types
            .get(at + TYPE_LEN..at + TYPE_LEN + extra_len(kind, vlen)?)?;
        Some(BtfType {
            name_off: u32_at(self.types, at)?,
            kind,
            vlen,
            kind_flag: info >> 31 == 1,
            size_or_type: u32_at(self.types, at + 8)?,
            extra,
        })
    }

    /// Whether `ty` is named `name`.
    pub fn named(&self, ty: &BtfType<'_>, name: &str) -> bool {
        name_is(self.strings, ty.name_off as usize, name)
    }

    /// The id of the first type of `kind` named `name`.
    pub fn find(&self, name: &str, kind: u32) -> Option<u32> {
        (1..=self.offsets.len() as u32).find(|&id| {
            self.get(id)
                .is_some_and(|t| t.kind == kind && self.named(&t, name))
        })
    }

    /// The members of a struct or union (none for other kinds).
    pub fn members(&self, ty: &BtfType<'a>) -> impl Iterator<Item = BtfMember> + 'a {
        let (extra, kind_flag) = (ty.extra, ty.kind_flag);
        let is_composite = matches!(ty.kind, 4 | 5);
        (0..if is_composite { ty.vlen } else { 0 }).filter_map(move |i| {
            let offset = u32_at(extra, i * 12 + 8)?;
            Some(BtfMember {
                name_off: u32_at(extra, i * 12)?,
                type_id: u32_at(extra, i * 12 + 4)?,
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
        name_is(self.strings, member.name_off as usize, name)
    }

    /// `id` with typedefs and modifiers (volatile, const, restrict, type tags) skipped.
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

    /// The size of type `id` in bytes, as libbpf's `btf__resolve_size`.
    pub fn size_of(&self, id: u32) -> Option<u32> {
        let (_, ty) = self.skip_mods(id)?;
        match ty.kind {
            BTF_KIND_PTR => Some(8),
            BTF_KIND_ARRAY => {
                let elem = u32_at(ty.extra, 0)?;
                let nelems = u32_at(ty.extra, 8)?;
                self.size_of(elem)?.checked_mul(nelems)
            }
            // INT, STRUCT, UNION, ENUM, DATASEC, FLOAT, ENUM64
            1 | 4 | 5 | 6 | 15 | 16 | 19 => Some(ty.size_or_type),
            _ => None,
        }
    }

    /// The size of a struct or union.
    pub fn struct_size(&self, ty: &BtfType<'_>) -> u32 {
        ty.size_or_type
    }
}

/// How many typedefs and modifiers [`RawBtf::skip_mods`] follows before giving up.
const MAX_CHAIN: usize = 32;

/// A type found in the running kernel's BTF.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KernelBtfId {
    /// The type's id, in vmlinux or in the module BTF of `btf_obj_fd`.
    pub id: u32,
    /// An fd for the module BTF that holds the type, or 0 for vmlinux. The caller closes it.
    pub btf_obj_fd: Fd,
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
            return Err(Errno(-result as i32));
        }
        let id = KernelBtfId {
            id: result as u32,
            btf_obj_fd: (result >> 32) as u32,
        };
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
            return Err(Errno(-ctx[0] as i32));
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
        let mut value = alloc::vec![0u8; self.value_size as usize];
        value[..name.len()].copy_from_slice(name.as_bytes());
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
            if id.btf_obj_fd != 0 {
                backend.close(id.btf_obj_fd);
            }
        }
        backend.close(self.prog);
        backend.close(self.map);
    }
}

/// Finds one type, as [`TargetFinder`] does; a module BTF fd in the result is the
/// caller's to close.
pub fn find_in_kernel<B: Backend + ?Sized>(
    backend: &mut B,
    name: &str,
    kind: u32,
) -> Result<KernelBtfId, Errno> {
    let mut finder = TargetFinder::new(backend, name.len())?;
    let result = finder.find(backend, name, kind);
    // The fd, if any, is handed to the caller.
    finder.found.clear();
    finder.close(backend);
    result
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
