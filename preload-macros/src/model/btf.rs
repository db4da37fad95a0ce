//! A small, defensive reader of `.BTF` and `.BTF.ext`: every offset, size and type id
//! is checked, so that a corrupt section ends in an error naming it, not in a panic.
//! The raw type records are kept, for the fix-ups of `btf_fix` to patch in place.

use std::collections::HashMap;

/// `BTF_MAGIC`, as read in the object's (little-endian) byte order.
const MAGIC: u16 = 0xeb9f;
const HEADER_LEN: usize = 24;
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

const KIND_NAMES: [&str; 20] = [
    "UNKNOWN",
    "INT",
    "PTR",
    "ARRAY",
    "STRUCT",
    "UNION",
    "ENUM",
    "FWD",
    "TYPEDEF",
    "VOLATILE",
    "CONST",
    "RESTRICT",
    "FUNC",
    "FUNC_PROTO",
    "VAR",
    "DATASEC",
    "FLOAT",
    "DECL_TAG",
    "TYPE_TAG",
    "ENUM64",
];

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
        if data[2] != 1 {
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
            let vlen = (info & 0xffff) as usize;
            let kind_id = ((info >> 24) & 0x1f) as usize;
            let kind_name = KIND_NAMES.get(kind_id).copied().unwrap_or("?");
            // Bytes after the 12-byte common part.
            let extra = match kind_id {
                1 | 14 | 17 => 4,
                3 => 12,
                4 | 5 | 15 | 19 => vlen * 12,
                6 | 13 => vlen * 8,
                2 | 7..=12 | 16 | 18 => 0,
                _ => {
                    return Err(bad(format!(
                        "type [{id}] at byte {at} of the type section has unknown kind {kind_id}"
                    )))
                }
            };
            let total = 12 + extra;
            let Some(rec) = rec.get(..total) else {
                return Err(bad(format!(
                    "type [{id}] ({kind_name}, {total} bytes) at byte {at} runs past the end of \
                     the type section"
                )));
            };
            let word = |i: usize| u32_at(rec, i * 4).unwrap_or_default();
            let mut names = vec![name_off];
            let kind = match kind_id {
                1 => Kind::Int {
                    size: size_or_type,
                    encoding: (word(3) >> 24) & 0xf,
                },
                2 => Kind::Ptr {
                    target: size_or_type,
                },
                3 => Kind::Array {
                    elem: word(3),
                    nelems: word(5),
                },
                4 | 5 => {
                    let members: Vec<Member> = (0..vlen)
                        .map(|i| Member {
                            name_off: word(3 + 3 * i),
                            target: word(4 + 3 * i),
                            offset: word(5 + 3 * i),
                        })
                        .collect();
                    names.extend(members.iter().map(|m| m.name_off));
                    if kind_id == 4 {
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
                6 => {
                    names.extend((0..vlen).map(|i| word(3 + 2 * i)));
                    Kind::Enum { size: size_or_type }
                }
                7 => Kind::Fwd,
                8..=11 | 18 => Kind::Alias {
                    target: size_or_type,
                },
                12 => Kind::Func {
                    proto: size_or_type,
                },
                13 => {
                    names.extend((0..vlen).map(|i| word(3 + 2 * i)));
                    Kind::FuncProto
                }
                14 => {
                    let linkage = word(3);
                    if linkage > 2 {
                        return Err(bad(format!(
                            "VAR [{id}] has linkage {linkage} (0 static, 1 global or 2 extern)"
                        )));
                    }
                    Kind::Var {
                        target: size_or_type,
                        linkage,
                    }
                }
                15 => Kind::DataSec {
                    size: size_or_type,
                    entries: (0..vlen)
                        .map(|i| SecInfo {
                            target: word(3 + 3 * i),
                            offset: word(4 + 3 * i),
                        })
                        .collect(),
                },
                16 => Kind::Float { size: size_or_type },
                17 => Kind::DeclTag,
                19 => {
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
            .is_some_and(|info| info >> 31 == 1)
    }

    /// The `BTF_KIND_*` number of a type that is not an alias (0 for `void`).
    pub fn kind_number(&self, id: u32) -> u32 {
        let name = self.kind_name(id);
        KIND_NAMES.iter().position(|&n| n == name).unwrap_or(0) as u32
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

/// Minimum record sizes: `bpf_func_info`, `bpf_line_info`, `bpf_core_relo`.
const FUNC_INFO_MIN: usize = 8;
const LINE_INFO_MIN: usize = 16;
const CORE_RELO_MIN: usize = 16;
/// Largest CO-RE relocation kind (`BPF_CORE_TYPE_MATCHES`).
const CORE_RELO_KIND_MAX: u32 = 12;

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
        if data[2] != 1 {
            return Err(bad(format!("version {} (only version 1 exists)", data[2])));
        }
        let hdr_len = u32_at(data, 4).unwrap_or_default() as usize;
        if !(24..=data.len()).contains(&hdr_len) {
            return Err(bad(format!(
                "header length {hdr_len} is outside 24..={}",
                data.len()
            )));
        }
        let field = |at: usize| u32_at(data, at).unwrap_or_default();
        let mut ext = BtfExt {
            func_info: Self::info(data, btf, hdr_len, field(8), field(12), "func_info")?,
            line_info: Self::info(data, btf, hdr_len, field(16), field(20), "line_info")?,
            core_relo: ExtInfo::default(),
        };
        if hdr_len >= 32 {
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
                } else if kind > CORE_RELO_KIND_MAX {
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
            "func_info" => FUNC_INFO_MIN,
            "line_info" => LINE_INFO_MIN,
            _ => CORE_RELO_MIN,
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
