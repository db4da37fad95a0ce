//! [`RawBtf`]: a bounded reader of raw BTF, enough to lay out a kernel struct from
//! the running kernel's BTF (struct_ops values), safe on malformed input.

use alloc::vec::Vec;

use crate::abi::{
    btf_info_kflag, btf_info_kind, btf_info_vlen, btf_type_extra_len, BTF_HEADER_LEN as HEADER_LEN,
    BTF_KIND_CONST, BTF_KIND_DATASEC, BTF_KIND_ENUM, BTF_KIND_ENUM64, BTF_KIND_FLOAT, BTF_KIND_INT,
    BTF_KIND_RESTRICT, BTF_KIND_TYPEDEF, BTF_KIND_TYPE_TAG, BTF_KIND_UNION, BTF_KIND_VOLATILE,
    BTF_MAGIC, BTF_TYPE_LEN as TYPE_LEN,
};
pub use crate::abi::{
    BTF_KIND_ARRAY, BTF_KIND_FUNC, BTF_KIND_FUNC_PROTO, BTF_KIND_PTR, BTF_KIND_STRUCT, BTF_KIND_VAR,
};
use crate::errno::Errno;

fn u32_at(data: &[u8], at: usize) -> Option<u32> {
    let bytes = data.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes(bytes.try_into().ok()?))
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
    let (kind, vlen) = (btf_info_kind(info), btf_info_vlen(info));
    let start = at.checked_add(TYPE_LEN)?;
    let end = start.checked_add(btf_type_extra_len(kind, vlen)?)?;
    let ty = BtfType {
        name_off: u32_at(types, at)?,
        kind,
        vlen: usize::from(vlen),
        kind_flag: btf_info_kflag(info),
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
    #[cfg_attr(not(feature = "testing"), allow(dead_code, reason = "for the fuzzer"))]
    pub fn len(&self) -> u32 {
        self.count
    }

    /// Whether there are no types.
    #[cfg_attr(not(feature = "testing"), allow(dead_code, reason = "for the fuzzer"))]
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
    #[cfg_attr(not(feature = "testing"), allow(dead_code, reason = "for the fuzzer"))]
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
        let is_composite = matches!(ty.kind, BTF_KIND_STRUCT | BTF_KIND_UNION);
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
                BTF_KIND_TYPEDEF | BTF_KIND_VOLATILE | BTF_KIND_CONST | BTF_KIND_RESTRICT
                | BTF_KIND_TYPE_TAG => id = ty.size_or_type,
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
                BTF_KIND_INT | BTF_KIND_STRUCT | BTF_KIND_UNION | BTF_KIND_ENUM
                | BTF_KIND_DATASEC | BTF_KIND_FLOAT | BTF_KIND_ENUM64 => {
                    return elements.checked_mul(ty.size_or_type);
                }
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

/// The structs the kernel finds in a map's value through its BTF and gives a meaning
/// of their own (`btf_parse_fields`, as of 6.12, and the ones later kernels added): a
/// map whose value holds one needs its BTF.
const SPECIAL_STRUCTS: [&str; 10] = [
    "bpf_spin_lock",
    "bpf_res_spin_lock",
    "bpf_timer",
    "bpf_wq",
    "bpf_task_work",
    "bpf_list_head",
    "bpf_list_node",
    "bpf_rb_root",
    "bpf_rb_node",
    "bpf_refcount",
];

/// The type tags that make a pointer in a map's value a kptr (or a uptr) for the kernel.
const KPTR_TAGS: [&str; 5] = ["kptr", "kptr_untrusted", "kptr_ref", "percpu_kptr", "uptr"];

/// How many types [`RawBtf::holds_special_fields`] looks at, and how many it keeps
/// waiting, before giving up.
const MAX_VISITS: usize = 4096;
const MAX_PENDING: usize = 64;

impl RawBtf<'_> {
    /// Whether a value of type `id` holds something the kernel knows only from the
    /// map's BTF: a `bpf_spin_lock`, `bpf_timer`, `bpf_wq`, `bpf_list_head`,
    /// `bpf_rb_root`, `bpf_refcount` (or a newer such struct), or a kptr, anywhere
    /// in it (nested structs and unions, arrays, the variables of a DATASEC). Created
    /// without its BTF, such a map would lose what the kernel makes of them.
    /// `None` if it cannot tell: a type it cannot read, or more than 4096 of them.
    /// A loop over a bounded stack, without recursion or allocation.
    pub fn holds_special_fields(&self, id: u32) -> Option<bool> {
        fn push(pending: &mut [u32; MAX_PENDING], len: &mut usize, id: u32) -> Option<()> {
            *pending.get_mut(*len)? = id;
            *len += 1;
            Some(())
        }
        let mut pending = [0u32; MAX_PENDING];
        let mut len = 0;
        push(&mut pending, &mut len, id)?;
        for _ in 0..MAX_VISITS {
            if len == 0 {
                return Some(false);
            }
            len -= 1;
            let id = pending[len];
            if id == 0 {
                continue;
            }
            let (_, ty) = self.skip_mods(id)?;
            match ty.kind {
                BTF_KIND_STRUCT | BTF_KIND_UNION => {
                    let name = ty.name_off as usize;
                    if SPECIAL_STRUCTS
                        .iter()
                        .any(|s| name_is(self.strings, name, "", s))
                    {
                        return Some(true);
                    }
                    for member in self.members(&ty) {
                        push(&mut pending, &mut len, member.type_id)?;
                    }
                }
                BTF_KIND_ARRAY => push(&mut pending, &mut len, u32_at(ty.extra, 0)?)?,
                BTF_KIND_VAR => push(&mut pending, &mut len, ty.size_or_type)?,
                BTF_KIND_DATASEC => {
                    // `vlen` entries of (type, offset, size).
                    for var in ty.extra.chunks_exact(12).take(ty.vlen) {
                        push(&mut pending, &mut len, u32_at(var, 0)?)?;
                    }
                }
                BTF_KIND_PTR if self.tagged_kptr(ty.size_or_type)? => return Some(true),
                _ => {}
            }
        }
        None
    }

    /// Whether the type tags right after a pointer (`PTR -> TYPE_TAG -> ...`, modifiers
    /// skipped) name it a kptr.
    fn tagged_kptr(&self, mut id: u32) -> Option<bool> {
        for _ in 0..MAX_CHAIN {
            let Some(ty) = self.get(id) else {
                // void, or a type past the end: no tag.
                return Some(false);
            };
            match ty.kind {
                BTF_KIND_TYPE_TAG => {
                    let name = ty.name_off as usize;
                    if KPTR_TAGS.iter().any(|t| name_is(self.strings, name, "", t)) {
                        return Some(true);
                    }
                }
                BTF_KIND_TYPEDEF | BTF_KIND_VOLATILE | BTF_KIND_CONST | BTF_KIND_RESTRICT => {}
                _ => return Some(false),
            }
            id = ty.size_or_type;
        }
        None
    }
}

#[cfg(test)]
pub(crate) mod tests;
