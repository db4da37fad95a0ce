//! A small, defensive reader of `.BTF` and `.BTF.ext`: every offset, size and type id
//! is checked, so that a corrupt section ends in an error naming it, not in a panic.
//! The raw type records are kept, for the fix-ups of `btf_fix` to patch in place.

use std::collections::HashMap;

use bpf_preload_uapi::{
    btf_info_kind, btf_info_vlen, btf_int_encoding, btf_type_extra_len, BtfKind,
    BPF_CORE_RELO_KIND_MAX, BPF_CORE_RELO_SIZE, BPF_FUNC_INFO_SIZE, BPF_LINE_INFO_SIZE,
    BTF_EXT_HEADER_CORE_LEN, BTF_EXT_HEADER_LEN, BTF_HEADER_LEN as HEADER_LEN, BTF_KIND_ARRAY,
    BTF_KIND_CONST, BTF_KIND_DATASEC, BTF_KIND_DECL_TAG, BTF_KIND_ENUM, BTF_KIND_ENUM64,
    BTF_KIND_FLOAT, BTF_KIND_FUNC, BTF_KIND_FUNC_PROTO, BTF_KIND_FWD, BTF_KIND_INT, BTF_KIND_PTR,
    BTF_KIND_RESTRICT, BTF_KIND_STRUCT, BTF_KIND_TYPEDEF, BTF_KIND_TYPE_TAG, BTF_KIND_UNION,
    BTF_KIND_UNKN, BTF_KIND_VAR, BTF_KIND_VOLATILE, BTF_MAGIC as MAGIC, BTF_TYPE_LEN,
    BTF_VAR_GLOBAL_EXTERN, BTF_VERSION,
};
/// Largest number of links followed when resolving a type (libbpf's own limit).
pub const MAX_RESOLVE_DEPTH: usize = 32;

pub type Error = String;

fn u16_at(data: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(
        data.get(at..at.checked_add(2)?)?.try_into().ok()?,
    ))
}

pub fn u32_at(data: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(
        data.get(at..at.checked_add(4)?)?.try_into().ok()?,
    ))
}

/// The part of a section between `off` and `off + len`, both relative to `base`.
fn sub(data: &[u8], base: usize, off: u32, len: u32) -> Option<&[u8]> {
    let start = base.checked_add(off as usize)?;
    data.get(start..start.checked_add(len as usize)?)
}

/// One BTF type, with only what bpf-preload looks at.
#[derive(Debug, Clone)]
pub struct Type {
    pub name_off: u32,
    pub kind: Kind,
}

#[derive(Debug, Clone)]
pub enum Kind {
    Void,
    Int {
        size: u32,
        /// `BTF_INT_SIGNED` (1), `BTF_INT_CHAR` (2), `BTF_INT_BOOL` (4).
        encoding: u32,
    },
    Ptr {
        target: u32,
    },
    Array {
        elem: u32,
        nelems: u32,
    },
    Struct {
        size: u32,
        members: Vec<Member>,
    },
    Union {
        size: u32,
        members: Vec<Member>,
    },
    Enum {
        size: u32,
    },
    Fwd,
    /// Typedef, volatile, const, restrict and type tags: another name for `target`.
    Alias {
        target: u32,
    },
    Func {
        proto: u32,
    },
    FuncProto,
    Var {
        target: u32,
        /// `BTF_VAR_STATIC`, `_GLOBAL_ALLOCATED` or `_GLOBAL_EXTERN`.
        linkage: u32,
    },
    DataSec {
        size: u32,
        entries: Vec<SecInfo>,
    },
    Float {
        size: u32,
    },
    DeclTag,
    Enum64 {
        size: u32,
    },
}

#[derive(Debug, Clone, Copy)]
pub struct Member {
    pub name_off: u32,
    pub target: u32,
    /// Bit offset (and, in a struct with `kind_flag`, the bitfield size above bit 24).
    pub offset: u32,
}

#[derive(Debug, Clone, Copy)]
pub struct SecInfo {
    pub target: u32,
    pub offset: u32,
}

/// A kind's name without the `BTF_KIND_` prefix, as error messages give it.
fn short_kind_name(kind: BtfKind) -> &'static str {
    let name = kind.name();
    name.strip_prefix("BTF_KIND_").unwrap_or(name)
}

/// A checked `.BTF` section: every type's record lies inside the type section, every
/// name offset inside the string section (which ends in a NUL), every type id it
/// refers to exists, and every `VAR` linkage is one the kernel knows.
#[derive(Debug)]
pub struct Btf<'a> {
    strings: &'a [u8],
    /// The type section, and where each type's record starts in it (by id; id 0,
    /// `void`, has none).
    pub type_data: &'a [u8],
    pub offsets: Vec<usize>,
    /// Indexed by type id; id 0 is `void`.
    pub types: Vec<Type>,
}

impl<'a> Btf<'a> {
    pub fn parse(data: &'a [u8]) -> Result<Self, Error> {
        let bad = |what: String| format!("`.BTF` is corrupt: {what}");
        if data.len() < HEADER_LEN {
            return Err(bad(format!(
                "{} bytes is shorter than its {HEADER_LEN}-byte header",
                data.len()
            )));
        }
        match u16_at(data, 0).unwrap_or_default() {
            MAGIC => {}
            0x9feb => {
                return Err(bad(
                    "its magic number is byte-swapped (a big-endian BTF section)".into(),
                ))
            }
            m => return Err(bad(format!("bad magic number {m:#06x} (expected 0xeb9f)"))),
        }
        if data[2] != BTF_VERSION {
            return Err(bad(format!("version {} (only version 1 exists)", data[2])));
        }
        let field = |at| u32_at(data, at).ok_or_else(|| bad("truncated header".into()));
        let hdr_len = field(4)? as usize;
        let (type_off, type_len) = (field(8)?, field(12)?);
        let (str_off, str_len) = (field(16)?, field(20)?);
        // `btf_fix` writes the section back with a 24-byte header, the types right
        // after it and the strings right after them, as clang writes it.
        if hdr_len != HEADER_LEN || type_off != 0 || str_off != type_len {
            return Err(bad(format!(
                "unexpected layout (header {hdr_len} bytes, types at {type_off}, strings at \
                 {str_off}): BTF as clang writes it has a {HEADER_LEN}-byte header, then the \
                 types, then the strings"
            )));
        }
        let type_data = sub(data, hdr_len, type_off, type_len).ok_or_else(|| {
            bad(format!(
                "the type section (bytes {type_off}+{type_len} after the header) ends past the \
                 section's {} bytes",
                data.len()
            ))
        })?;
        let strings = sub(data, hdr_len, str_off, str_len).ok_or_else(|| {
            bad(format!(
                "the string section (bytes {str_off}+{str_len} after the header) ends past the \
                 section's {} bytes",
                data.len()
            ))
        })?;
        if (hdr_len as u64 + u64::from(str_off) + u64::from(str_len)) > u64::from(u32::MAX) {
            return Err(bad("the string section ends past 4 GiB".into()));
        }
        if strings.first() != Some(&0) || strings.last() != Some(&0) {
            return Err(bad(
                "the string section must start and end with a NUL byte".into()
            ));
        }

        let mut types = vec![Type {
            name_off: 0,
            kind: Kind::Void,
        }];
        let mut offsets = vec![0];
        let mut at = 0usize;
        while at < type_data.len() {
            let id = types.len();
            let rec = &type_data[at..];
            let word = |i: usize| u32_at(rec, i * 4);
            let (Some(name_off), Some(info), Some(size_or_type)) = (word(0), word(1), word(2))
            else {
                return Err(bad(format!(
                    "type [{id}] at byte {at} of the type section is cut off"
                )));
            };
            let kind_id = btf_info_kind(info);
            let vlen = usize::from(btf_info_vlen(info));
            let kind_name = BtfKind::from_u32(kind_id).map_or("?", short_kind_name);
            // Bytes after the 12-byte common part.
            let Some(extra) = btf_type_extra_len(kind_id, btf_info_vlen(info)) else {
                return Err(bad(format!(
                    "type [{id}] at byte {at} of the type section has unknown kind {kind_id}"
                )));
            };
            let total = BTF_TYPE_LEN + extra;
            let Some(rec) = rec.get(..total) else {
                return Err(bad(format!(
                    "type [{id}] ({kind_name}, {total} bytes) at byte {at} runs past the end of \
                     the type section"
                )));
            };
            let word = |i: usize| u32_at(rec, i * 4).unwrap_or_default();
            let mut names = vec![name_off];
            let kind = match kind_id {
                BTF_KIND_INT => Kind::Int {
                    size: size_or_type,
                    encoding: btf_int_encoding(word(3)),
                },
                BTF_KIND_PTR => Kind::Ptr {
                    target: size_or_type,
                },
                BTF_KIND_ARRAY => Kind::Array {
                    elem: word(3),
                    nelems: word(5),
                },
                BTF_KIND_STRUCT | BTF_KIND_UNION => {
                    let members: Vec<Member> = (0..vlen)
                        .map(|i| Member {
                            name_off: word(3 + 3 * i),
                            target: word(4 + 3 * i),
                            offset: word(5 + 3 * i),
                        })
                        .collect();
                    names.extend(members.iter().map(|m| m.name_off));
                    if kind_id == BTF_KIND_STRUCT {
                        Kind::Struct {
                            size: size_or_type,
                            members,
                        }
                    } else {
                        Kind::Union {
                            size: size_or_type,
                            members,
                        }
                    }
                }
                BTF_KIND_ENUM => {
                    names.extend((0..vlen).map(|i| word(3 + 2 * i)));
                    Kind::Enum { size: size_or_type }
                }
                BTF_KIND_FWD => Kind::Fwd,
                BTF_KIND_TYPEDEF | BTF_KIND_VOLATILE | BTF_KIND_CONST | BTF_KIND_RESTRICT
                | BTF_KIND_TYPE_TAG => Kind::Alias {
                    target: size_or_type,
                },
                BTF_KIND_FUNC => Kind::Func {
                    proto: size_or_type,
                },
                BTF_KIND_FUNC_PROTO => {
                    names.extend((0..vlen).map(|i| word(3 + 2 * i)));
                    Kind::FuncProto
                }
                BTF_KIND_VAR => {
                    let linkage = word(3);
                    if linkage > BTF_VAR_GLOBAL_EXTERN {
                        return Err(bad(format!(
                            "VAR [{id}] has linkage {linkage} (0 static, 1 global or 2 extern)"
                        )));
                    }
                    Kind::Var {
                        target: size_or_type,
                        linkage,
                    }
                }
                BTF_KIND_DATASEC => Kind::DataSec {
                    size: size_or_type,
                    entries: (0..vlen)
                        .map(|i| SecInfo {
                            target: word(3 + 3 * i),
                            offset: word(4 + 3 * i),
                        })
                        .collect(),
                },
                BTF_KIND_FLOAT => Kind::Float { size: size_or_type },
                BTF_KIND_DECL_TAG => Kind::DeclTag,
                BTF_KIND_ENUM64 => {
                    names.extend((0..vlen).map(|i| word(3 + 3 * i)));
                    Kind::Enum64 { size: size_or_type }
                }
                _ => Kind::Void,
            };
            if let Some(off) = names.iter().find(|&&off| off as usize >= strings.len()) {
                return Err(bad(format!(
                    "{kind_name} [{id}] names string offset {off}, past the {}-byte string \
                     section",
                    strings.len()
                )));
            }
            types.push(Type { name_off, kind });
            offsets.push(at);
            at += total;
        }

        let btf = Btf {
            strings,
            type_data,
            offsets,
            types,
        };
        for (id, ty) in btf.types.iter().enumerate() {
            for target in btf.references(ty) {
                if target as usize >= btf.types.len() {
                    return Err(bad(format!(
                        "{} [{id}] refers to type [{target}], but there are only {} types",
                        btf.kind_name(id as u32),
                        btf.types.len()
                    )));
                }
            }
        }
        Ok(btf)
    }

    /// Type ids `ty` refers to, except array index types, which nothing here follows.
    fn references(&self, ty: &Type) -> Vec<u32> {
        match &ty.kind {
            Kind::Ptr { target } | Kind::Alias { target } | Kind::Var { target, .. } => {
                vec![*target]
            }
            Kind::Func { proto, .. } => vec![*proto],
            Kind::Array { elem, .. } => vec![*elem],
            Kind::Struct { members, .. } | Kind::Union { members, .. } => {
                members.iter().map(|m| m.target).collect()
            }
            Kind::DataSec { entries, .. } => entries.iter().map(|e| e.target).collect(),
            _ => Vec::new(),
        }
    }

    /// Whether a struct or union's `kind_flag` is set: its member offsets then hold a
    /// bitfield size above bit 24.
    pub fn struct_has_kind_flag(&self, id: u32) -> bool {
        self.offsets
            .get(id as usize)
            .filter(|_| id != 0)
            .and_then(|&at| u32_at(self.type_data, at + 4))
            .is_some_and(bpf_preload_uapi::btf_info_kflag)
    }

    /// The `BTF_KIND_*` number of a type that is not an alias (0 for `void`).
    pub fn kind_number(&self, id: u32) -> u32 {
        match self.types.get(id as usize).map(|t| &t.kind) {
            Some(Kind::Int { .. }) => BTF_KIND_INT,
            Some(Kind::Ptr { .. }) => BTF_KIND_PTR,
            Some(Kind::Array { .. }) => BTF_KIND_ARRAY,
            Some(Kind::Struct { .. }) => BTF_KIND_STRUCT,
            Some(Kind::Union { .. }) => BTF_KIND_UNION,
            Some(Kind::Enum { .. }) => BTF_KIND_ENUM,
            Some(Kind::Fwd) => BTF_KIND_FWD,
            Some(Kind::Alias { .. }) => BTF_KIND_TYPEDEF,
            Some(Kind::Func { .. }) => BTF_KIND_FUNC,
            Some(Kind::FuncProto) => BTF_KIND_FUNC_PROTO,
            Some(Kind::Var { .. }) => BTF_KIND_VAR,
            Some(Kind::DataSec { .. }) => BTF_KIND_DATASEC,
            Some(Kind::Float { .. }) => BTF_KIND_FLOAT,
            Some(Kind::DeclTag) => BTF_KIND_DECL_TAG,
            Some(Kind::Enum64 { .. }) => BTF_KIND_ENUM64,
            Some(Kind::Void) | None => BTF_KIND_UNKN,
        }
    }

    pub fn kind_name(&self, id: u32) -> &'static str {
        match self.types.get(id as usize).map(|t| &t.kind) {
            Some(Kind::Void) => "void",
            Some(Kind::Int { .. }) => "INT",
            Some(Kind::Ptr { .. }) => "PTR",
            Some(Kind::Array { .. }) => "ARRAY",
            Some(Kind::Struct { .. }) => "STRUCT",
            Some(Kind::Union { .. }) => "UNION",
            Some(Kind::Enum { .. }) => "ENUM",
            Some(Kind::Fwd) => "FWD",
            Some(Kind::Alias { .. }) => "TYPEDEF",
            Some(Kind::Func { .. }) => "FUNC",
            Some(Kind::FuncProto) => "FUNC_PROTO",
            Some(Kind::Var { .. }) => "VAR",
            Some(Kind::DataSec { .. }) => "DATASEC",
            Some(Kind::Float { .. }) => "FLOAT",
            Some(Kind::DeclTag) => "DECL_TAG",
            Some(Kind::Enum64 { .. }) => "ENUM64",
            None => "?",
        }
    }

    pub fn strings_len(&self) -> usize {
        self.strings.len()
    }

    /// The string at `off`; checked offsets and a final NUL make this total.
    pub fn string(&self, off: u32) -> Option<String> {
        let bytes = self.strings.get(off as usize..)?;
        let end = bytes.iter().position(|&b| b == 0)?;
        Some(String::from_utf8_lossy(&bytes[..end]).into_owned())
    }

    pub fn name(&self, id: u32) -> String {
        self.types
            .get(id as usize)
            .and_then(|t| self.string(t.name_off))
            .unwrap_or_default()
    }

    pub fn get(&self, id: u32) -> Option<&Type> {
        self.types.get(id as usize)
    }

    /// The type behind typedefs, qualifiers and type tags.
    pub fn resolve(&self, mut id: u32) -> Option<u32> {
        for _ in 0..MAX_RESOLVE_DEPTH {
            match self.get(id)?.kind {
                Kind::Alias { target } => id = target,
                _ => return Some(id),
            }
        }
        None
    }

    /// The size in bytes of `id`, or `None` if it has none or it does not fit in u32.
    pub fn size_of(&self, id: u32) -> Option<u32> {
        self.size_at_depth(id, 0)
    }

    fn size_at_depth(&self, id: u32, depth: usize) -> Option<u32> {
        if depth > MAX_RESOLVE_DEPTH {
            return None;
        }
        match &self.get(id)?.kind {
            Kind::Int { size, .. }
            | Kind::Struct { size, .. }
            | Kind::Union { size, .. }
            | Kind::Enum { size }
            | Kind::Enum64 { size }
            | Kind::Float { size }
            | Kind::DataSec { size, .. } => Some(*size),
            Kind::Ptr { .. } => Some(8),
            Kind::Alias { target } | Kind::Var { target, .. } => {
                self.size_at_depth(*target, depth + 1)
            }
            Kind::Array { elem, nelems } => {
                nelems.checked_mul(self.size_at_depth(*elem, depth + 1)?)
            }
            _ => None,
        }
    }

    /// The raw `info` word of type `id` (0 for `void` or an id past the end).
    fn info(&self, id: u32) -> u32 {
        self.offsets
            .get(id as usize)
            .filter(|_| id != 0)
            .and_then(|&at| u32_at(self.type_data, at + 4))
            .unwrap_or(0)
    }

    /// The `BTF_KIND_*` number of `id` as recorded, aliases told apart (typedef,
    /// `const`, `volatile`, ...), which [`Btf::kind_number`] does not do.
    pub fn raw_kind(&self, id: u32) -> u32 {
        btf_info_kind(self.info(id))
    }

    /// The enumerators of the `ENUM` or `ENUM64` `id`, by name and value, and whether
    /// the enum is signed (its `kind_flag`, as clang 15 and later record it; an enum
    /// without it is unsigned, as the kernel reads it). `None` for any other kind.
    pub fn enumerators(&self, id: u32) -> Option<(bool, Vec<(String, i128)>)> {
        let info = self.info(id);
        let (kind, vlen) = (btf_info_kind(info), usize::from(btf_info_vlen(info)));
        let signed = bpf_preload_uapi::btf_info_kflag(info);
        let rec = *self.offsets.get(id as usize)? + BTF_TYPE_LEN;
        let word = |i: usize| u32_at(self.type_data, rec + 4 * i);
        let mut out = Vec::with_capacity(vlen);
        for i in 0..vlen {
            let (name, value) = match kind {
                BTF_KIND_ENUM => {
                    let raw = word(2 * i + 1)?;
                    let value = if signed {
                        i128::from(raw as i32)
                    } else {
                        i128::from(raw)
                    };
                    (word(2 * i)?, value)
                }
                BTF_KIND_ENUM64 => {
                    let raw = u64::from(word(3 * i + 1)?) | u64::from(word(3 * i + 2)?) << 32;
                    let value = if signed {
                        i128::from(raw as i64)
                    } else {
                        i128::from(raw)
                    };
                    (word(3 * i)?, value)
                }
                _ => return None,
            };
            out.push((self.string(name).unwrap_or_default(), value));
        }
        Some((signed, out))
    }

    /// The string table.
    pub fn strings(&self) -> &'a [u8] {
        self.strings
    }

    /// The type behind typedefs and qualifiers, and its kind.
    pub fn resolved(&self, id: u32) -> Option<(u32, &Kind)> {
        let id = self.resolve(id)?;
        Some((id, &self.get(id)?.kind))
    }

    /// The id of the `DATASEC` named `name`, if any.
    pub fn datasec(&self, name: &str) -> Option<(u32, &[SecInfo])> {
        self.types
            .iter()
            .enumerate()
            .find_map(|(id, t)| match &t.kind {
                Kind::DataSec { entries, .. }
                    if self.string(t.name_off).as_deref() == Some(name) =>
                {
                    Some((id as u32, entries.as_slice()))
                }
                _ => None,
            })
    }
}

/// One kind of `.BTF.ext` record, grouped by the ELF section they describe.
#[derive(Debug, Default)]
pub struct ExtInfo {
    /// Section name and that section's records, each `rec_size` bytes.
    pub sections: Vec<(String, Vec<Vec<u8>>)>,
}

impl ExtInfo {
    pub fn by_section(&self) -> HashMap<&str, &Vec<Vec<u8>>> {
        self.sections
            .iter()
            .map(|(name, recs)| (name.as_str(), recs))
            .collect()
    }
}

/// A checked `.BTF.ext` section.
#[derive(Debug, Default)]
pub struct BtfExt {
    pub func_info: ExtInfo,
    pub line_info: ExtInfo,
    pub core_relo: ExtInfo,
}

impl BtfExt {
    pub fn parse(data: &[u8], btf: &Btf<'_>) -> Result<Self, Error> {
        let bad = |what: String| format!("`.BTF.ext` is corrupt: {what}");
        if data.len() < 8 {
            return Err(bad(format!(
                "{} bytes is shorter than its header",
                data.len()
            )));
        }
        match u16_at(data, 0).unwrap_or_default() {
            MAGIC => {}
            m => return Err(bad(format!("bad magic number {m:#06x} (expected 0xeb9f)"))),
        }
        if data[2] != BTF_VERSION {
            return Err(bad(format!("version {} (only version 1 exists)", data[2])));
        }
        let hdr_len = u32_at(data, 4).unwrap_or_default() as usize;
        if !(BTF_EXT_HEADER_LEN..=data.len()).contains(&hdr_len) {
            return Err(bad(format!(
                "header length {hdr_len} is outside {BTF_EXT_HEADER_LEN}..={}",
                data.len()
            )));
        }
        let field = |at: usize| u32_at(data, at).unwrap_or_default();
        let mut ext = BtfExt {
            func_info: Self::info(data, btf, hdr_len, field(8), field(12), "func_info")?,
            line_info: Self::info(data, btf, hdr_len, field(16), field(20), "line_info")?,
            core_relo: ExtInfo::default(),
        };
        if hdr_len >= BTF_EXT_HEADER_CORE_LEN {
            ext.core_relo = Self::info(data, btf, hdr_len, field(24), field(28), "core_relo")?;
        }

        for (what, info) in [("func_info", &ext.func_info), ("line_info", &ext.line_info)] {
            for (section, records) in &info.sections {
                let mut last = 0;
                for (i, rec) in records.iter().enumerate() {
                    let insn_off = u32_at(rec, 0).unwrap_or_default();
                    if !insn_off.is_multiple_of(8) {
                        return Err(bad(format!(
                            "{what} record {i} of section `{section}` is at byte {insn_off}, not \
                             at an instruction boundary"
                        )));
                    }
                    // The kernel wants them strictly increasing.
                    if i > 0 && insn_off <= last {
                        return Err(bad(format!(
                            "{what} records of section `{section}` are not in strictly \
                             increasing instruction order"
                        )));
                    }
                    last = insn_off;
                    if what == "line_info" {
                        for field in [1, 2] {
                            let off = u32_at(rec, field * 4).unwrap_or_default();
                            if off as usize >= btf.strings_len() {
                                return Err(bad(format!(
                                    "line_info record {i} of section `{section}` names string \
                                     offset {off}, past the end of `.BTF`'s strings"
                                )));
                            }
                        }
                    }
                }
            }
        }
        for (section, records) in &ext.core_relo.sections {
            for (i, rec) in records.iter().enumerate() {
                let insn_off = u32_at(rec, 0).unwrap_or_default();
                let type_id = u32_at(rec, 4).unwrap_or_default();
                let access = u32_at(rec, 8).unwrap_or_default();
                let kind = u32_at(rec, 12).unwrap_or_default();
                let problem = if !insn_off.is_multiple_of(8) {
                    format!("is at byte {insn_off}, not at an instruction boundary")
                } else if type_id as usize >= btf.types.len() {
                    format!("refers to type [{type_id}], which does not exist")
                } else if access as usize >= btf.strings_len() {
                    format!("names string offset {access}, past the end of `.BTF`'s strings")
                } else if kind > BPF_CORE_RELO_KIND_MAX {
                    format!("has unknown kind {kind}")
                } else {
                    continue;
                };
                return Err(bad(format!(
                    "CO-RE relocation {i} of section `{section}` {problem}"
                )));
            }
        }
        Ok(ext)
    }

    /// One subsection: a record size, then per ELF section its name, a count and
    /// that many records, to the subsection's exact end.
    fn info(
        data: &[u8],
        btf: &Btf<'_>,
        hdr_len: usize,
        off: u32,
        len: u32,
        what: &str,
    ) -> Result<ExtInfo, Error> {
        let bad = |problem: String| format!("`.BTF.ext` is corrupt: its {what} {problem}");
        if len == 0 {
            return Ok(ExtInfo::default());
        }
        let Some(sub) = sub(data, hdr_len, off, len) else {
            return Err(bad(format!(
                "(bytes {off}+{len} after the header) end past the section's {} bytes",
                data.len()
            )));
        };
        let min = match what {
            "func_info" => BPF_FUNC_INFO_SIZE,
            "line_info" => BPF_LINE_INFO_SIZE,
            _ => BPF_CORE_RELO_SIZE,
        };
        let rec_size = u32_at(sub, 0).ok_or_else(|| bad("lack a record size".into()))? as usize;
        if rec_size < min || !rec_size.is_multiple_of(4) || rec_size > 256 {
            return Err(bad(format!(
                "record size {rec_size} is not a multiple of 4 in {min}..=256"
            )));
        }
        let mut out = ExtInfo::default();
        let mut at = 4usize;
        while at < sub.len() {
            let (Some(name_off), Some(count)) = (u32_at(sub, at), u32_at(sub, at + 4)) else {
                return Err(bad(format!("section header at byte {at} is cut off")));
            };
            let name = btf.string(name_off).ok_or_else(|| {
                bad(format!(
                    "section header at byte {at} names string offset {name_off}, past the end \
                     of `.BTF`'s strings"
                ))
            })?;
            at += 8;
            let bytes = (count as usize).checked_mul(rec_size);
            let Some(records) = bytes.and_then(|n| sub.get(at..at.checked_add(n)?)) else {
                return Err(bad(format!(
                    "for section `{name}` claim {count} records of {rec_size} bytes, more than \
                     the {} bytes left",
                    sub.len() - at
                )));
            };
            at += records.len();
            out.sections
                .push((name, records.chunks(rec_size).map(<[u8]>::to_vec).collect()));
        }
        Ok(out)
    }
}
