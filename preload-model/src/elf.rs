//! The ELF side of a BPF object, read as libbpf reads it (`bpf_object__elf_collect`):
//! sections by role, symbols, the functions in code sections, and each code
//! section's relocations. Every offset, size and index is checked here, so that the
//! linker and the map reader work on plain data that cannot point outside the file:
//! a corrupt object ends in an error naming the section, symbol or relocation at
//! fault, never in a panic.
//!
//! The checks also bound the work: the file size bounds every count, and the few
//! products of counts are capped.

use std::collections::BTreeMap;

use object::{
    Object as _, ObjectSection as _, ObjectSymbol as _, ObjectSymbolTable as _, RelocationFlags,
    RelocationTarget, SectionFlags, SectionIndex, SectionKind, SymbolFlags, SymbolKind,
    SymbolSection,
};

use bpf_preload_uapi::EM_BPF;
const ET_REL: u16 = 1;
const R_BPF_NONE: u32 = 0;
const R_BPF_64_64: u32 = 1;
const R_BPF_64_ABS64: u32 = 2;
const R_BPF_64_ABS32: u32 = 3;
const R_BPF_64_NODYLD32: u32 = 4;
const R_BPF_64_32: u32 = 10;
const SHF_EXECINSTR: u64 = 4;
const STB_WEAK: u8 = 2;
const STV_HIDDEN: u8 = 2;
const STV_INTERNAL: u8 = 1;
/// The size of one instruction, as the ELF sections and relocations count it.
pub const INSN: u64 = bpf_preload_uapi::BPF_INSN_SIZE as u64;
/// Sections bpf-preload reads in one object (clang emits a few per program).
const MAX_SECTIONS: usize = 4096;

pub type Error = String;

/// What a section is to the loader, by name and type, as libbpf files it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    License,
    /// A legacy `SEC("maps")` section, which libbpf 1.0 dropped.
    LegacyMaps,
    /// `SEC(".maps")`: BTF-defined maps.
    Maps,
    /// `.text`: subprograms.
    Text,
    /// Another executable section: programs.
    Program,
    /// `.data`, `.data.*`.
    Data,
    /// `.rodata`, `.rodata.*`.
    Rodata,
    /// `.bss`, `.bss.*`.
    Bss,
    /// `.struct_ops`, `.struct_ops.link`.
    StructOps,
    /// `.addr_space.1`: `__arena` globals, which live in the object's arena map.
    Arena,
    Btf,
    BtfExt,
    Other,
}

impl Role {
    fn of(name: &str, executable: bool, nobits: bool) -> Role {
        let family = |base: &str| name == base || name.starts_with(&format!("{base}."));
        if name == "license" {
            Role::License
        } else if name == "maps" || name.starts_with("maps/") {
            Role::LegacyMaps
        } else if name == ".maps" {
            Role::Maps
        } else if name == ".BTF" {
            Role::Btf
        } else if name == ".BTF.ext" {
            Role::BtfExt
        } else if executable {
            if name == ".text" {
                Role::Text
            } else {
                Role::Program
            }
        } else if nobits {
            if family(".bss") {
                Role::Bss
            } else {
                Role::Other
            }
        } else if name == ".addr_space.1" {
            Role::Arena
        } else if family(".data") {
            Role::Data
        } else if family(".rodata") {
            Role::Rodata
        } else if matches!(
            name.strip_prefix('?').unwrap_or(name),
            ".struct_ops" | ".struct_ops.link"
        ) {
            Role::StructOps
        } else {
            Role::Other
        }
    }

    /// A section whose contents become a global-data map.
    pub fn is_data(self) -> bool {
        matches!(self, Role::Data | Role::Rodata | Role::Bss)
    }
}

#[derive(Debug)]
pub struct Section<'a> {
    pub index: usize,
    pub name: String,
    pub role: Role,
    /// The bytes (empty for `.bss`, whose size is `size`).
    pub data: &'a [u8],
    pub size: u64,
    /// Relocations by byte offset in the section.
    pub relocations: BTreeMap<u64, Relocation>,
}

#[derive(Debug, Clone, Copy)]
pub struct Relocation {
    pub symbol: usize,
}

/// Where a symbol is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// In a section of the object, at `value` bytes.
    Section(usize),
    /// Nowhere: an extern, resolved by the loader.
    Undefined,
    /// Absolute, common or unknown: nothing BPF code refers to.
    Other,
}

#[derive(Debug, Clone)]
pub struct Symbol {
    pub name: String,
    pub place: Place,
    pub value: u64,
    pub size: u64,
    pub kind: SymbolKind,
    pub weak: bool,
    pub global: bool,
    /// `STV_HIDDEN` or `STV_INTERNAL`: global to the linker, static to the loader.
    pub hidden: bool,
}

/// A function in a code section.
#[derive(Debug, Clone)]
pub struct Function {
    pub name: String,
    pub section: usize,
    /// Start and length, in instructions.
    pub start: usize,
    pub len: usize,
}

/// The checked ELF object.
pub struct Elf<'a> {
    pub sections: Vec<Section<'a>>,
    /// Indexed by ELF symbol index.
    pub symbols: Vec<Option<Symbol>>,
    /// Functions by (section index, start in instructions).
    pub functions: BTreeMap<(usize, usize), Function>,
}

impl<'a> Elf<'a> {
    pub fn section(&self, index: usize) -> Option<&Section<'a>> {
        self.sections.iter().find(|s| s.index == index)
    }

    pub fn section_named(&self, name: &str) -> Option<&Section<'a>> {
        self.sections.iter().find(|s| s.name == name)
    }

    pub fn symbol(&self, index: usize) -> Option<&Symbol> {
        self.symbols.get(index).and_then(Option::as_ref)
    }

    /// The defined, named symbols of section `index`.
    pub fn symbols_in(&self, index: usize) -> impl Iterator<Item = &Symbol> {
        self.symbols
            .iter()
            .flatten()
            .filter(move |s| s.place == Place::Section(index) && !s.name.is_empty())
    }

    /// The object symbol (a variable) named `name`, as libbpf's `find_elf_var_sym`.
    pub fn variable(&self, name: &str) -> Option<&Symbol> {
        self.symbols.iter().flatten().find(|s| {
            s.name == name
                && s.kind == SymbolKind::Data
                && s.global
                && matches!(s.place, Place::Section(_))
        })
    }

    /// The code of a function, one 8-byte instruction at a time.
    pub fn code(&self, f: &Function) -> &'a [u8] {
        let data = self.section(f.section).map_or(&[][..], |s| s.data);
        let start = f.start * INSN as usize;
        data.get(start..start + f.len * INSN as usize)
            .unwrap_or_default()
    }
}

fn machine_name(machine: u16) -> String {
    let name = match machine {
        0 => "no machine (EM_NONE)",
        3 => "x86 (32-bit)",
        8 => "MIPS",
        20 => "PowerPC",
        21 => "PowerPC 64",
        22 => "s390",
        40 => "ARM",
        43 => "SPARC v9",
        50 => "IA-64",
        62 => "x86-64",
        183 => "AArch64",
        243 => "RISC-V",
        258 => "LoongArch",
        _ => return format!("machine {machine}"),
    };
    format!("{name} (e_machine {machine})")
}

/// The ELF header, checked by hand so that the common mistakes get precise messages.
fn header(data: &[u8]) -> Result<(), Error> {
    if data.is_empty() {
        return Err("the file is empty".into());
    }
    if !data.starts_with(b"\x7fELF") {
        let hint = if data.starts_with(b"!<arch>") {
            "it is a static library (an `ar` archive); point `obj` at the `.bpf.o` inside"
        } else if data
            .iter()
            .take(512)
            .all(|&b| b.is_ascii_graphic() || b.is_ascii_whitespace())
        {
            "it looks like text, perhaps the C source: point `obj` at the object that \
             `clang -target bpf -c` produced"
        } else {
            "point `obj` at the object that `clang -target bpf -c` produced"
        };
        return Err(format!(
            "not an ELF object (it does not start with the ELF magic `\\x7fELF`): {hint}"
        ));
    }
    if data.len() < 64 {
        return Err(format!(
            "truncated: {} bytes is shorter than an ELF header (64 bytes)",
            data.len()
        ));
    }
    let big_endian = match data[5] {
        1 => false,
        2 => true,
        other => return Err(format!("corrupt ELF header: unknown byte order {other}")),
    };
    let u16_at = |at: usize| {
        let b = [data[at], data[at + 1]];
        if big_endian {
            u16::from_be_bytes(b)
        } else {
            u16::from_le_bytes(b)
        }
    };
    let machine = u16_at(18);
    if machine != EM_BPF {
        return Err(format!(
            "not a BPF object: it is an ELF object for {}; compile the program with \
             `clang -target bpf`",
            machine_name(machine)
        ));
    }
    if data[4] != 2 {
        return Err(
            "corrupt BPF object: it is a 32-bit ELF file, and BPF objects are 64-bit".into(),
        );
    }
    if big_endian {
        return Err(
            "big-endian BPF object (`-target bpfeb`), but the targets bpf-preload loads into \
             are little-endian: compile with `-target bpfel` (or `-target bpf` on a \
             little-endian machine)"
                .into(),
        );
    }
    let e_type = u16_at(16);
    if e_type != ET_REL {
        let what = match e_type {
            2 => "an executable",
            3 => "a shared object",
            4 => "a core dump",
            _ => "not a relocatable object",
        };
        return Err(format!(
            "the ELF file is {what} (e_type {e_type}), not a relocatable object: compile with \
             `clang -target bpf -c`"
        ));
    }
    let u64_at = |at: usize| u64::from_le_bytes(data[at..at + 8].try_into().unwrap_or_default());
    let (shoff, shentsize, shnum) = (u64_at(40), u16_at(58), u16_at(60));
    if shnum > 0 {
        if shentsize != 64 {
            return Err(format!(
                "corrupt ELF header: section header size {shentsize} (expected 64)"
            ));
        }
        let end = shoff.checked_add(u64::from(shnum) * 64);
        if end.is_none_or(|end| end > data.len() as u64) {
            return Err(format!(
                "truncated or corrupt: the section header table ({shnum} headers at byte \
                 {shoff}) ends past the end of the {}-byte file",
                data.len()
            ));
        }
    }
    Ok(())
}

/// Reads and checks the object's sections, symbols, functions and relocations.
pub fn read(data: &[u8]) -> Result<Elf<'_>, Error> {
    header(data)?;
    let file = object::File::parse(data).map_err(|e| format!("corrupt ELF object: {e}"))?;

    let mut sections = Vec::new();
    for s in file.sections() {
        let index = s.index().0;
        if sections.len() >= MAX_SECTIONS {
            return Err(format!(
                "the object has more than {MAX_SECTIONS} sections; bpf-preload reads at most \
                 {MAX_SECTIONS}"
            ));
        }
        let name = s
            .name()
            .map_err(|e| {
                format!("corrupt section header: section [{index}] has no readable name: {e}")
            })?
            .to_string();
        let nobits = s.kind() == SectionKind::UninitializedData;
        let section_data = if nobits {
            &[][..]
        } else {
            s.data().map_err(|_| {
                let (off, size) = s.file_range().unwrap_or_default();
                format!(
                    "truncated or corrupt: section `{name}` ([{index}]) claims bytes {off}..{} \
                     of a {}-byte file",
                    off.saturating_add(size),
                    data.len()
                )
            })?
        };
        let executable =
            matches!(s.flags(), SectionFlags::Elf { sh_flags } if sh_flags & SHF_EXECINSTR != 0);
        let role = Role::of(&name, executable, nobits);
        if matches!(role, Role::Text | Role::Program)
            && !(section_data.len() as u64).is_multiple_of(INSN)
        {
            return Err(format!(
                "corrupt code: section `{name}` is {} bytes, not whole 8-byte instructions",
                section_data.len()
            ));
        }
        sections.push(Section {
            index,
            name,
            role,
            data: section_data,
            size: s.size(),
            relocations: BTreeMap::new(),
        });
    }

    let symtab = file
        .symbol_table()
        .ok_or("no symbol table: the object was stripped of it (use `llvm-strip -g`, not `-s`)")?;
    let mut symbols: Vec<Option<Symbol>> = Vec::new();
    for sym in symtab.symbols() {
        let i = sym.index().0;
        let name = sym
            .name()
            .map_err(|e| format!("corrupt symbol table: symbol [{i}] has no readable name: {e}"))?
            .to_string();
        let place = match sym.section() {
            SymbolSection::Section(SectionIndex(s)) => {
                if !sections.iter().any(|sec| sec.index == s) {
                    return Err(format!(
                        "corrupt symbol table: symbol `{name}` is in section [{s}], which does \
                         not exist"
                    ));
                }
                Place::Section(s)
            }
            SymbolSection::Undefined => Place::Undefined,
            _ => Place::Other,
        };
        let (bind, other) = match sym.flags() {
            SymbolFlags::Elf { st_info, st_other } => (st_info >> 4, st_other & 3),
            _ => (0, 0),
        };
        if symbols.len() <= i {
            symbols.resize(i + 1, None);
        }
        symbols[i] = Some(Symbol {
            name,
            place,
            value: sym.address(),
            size: sym.size(),
            kind: sym.kind(),
            weak: bind == STB_WEAK,
            global: sym.is_global() || bind == STB_WEAK,
            hidden: other == STV_HIDDEN || other == STV_INTERNAL,
        });
    }

    // Functions: every function symbol in a code section.
    let mut functions = BTreeMap::new();
    for sym in symbols.iter().flatten() {
        let Place::Section(index) = sym.place else {
            continue;
        };
        let Some(section) = sections.iter().find(|s| s.index == index) else {
            continue;
        };
        if !matches!(section.role, Role::Text | Role::Program) || sym.kind != SymbolKind::Text {
            continue;
        }
        let end = sym.value.checked_add(sym.size);
        if end.is_none_or(|end| end > section.data.len() as u64) {
            return Err(format!(
                "corrupt symbol table: function `{}` (bytes {}+{}) lies outside its section \
                 `{}` ({} bytes)",
                sym.name,
                sym.value,
                sym.size,
                section.name,
                section.data.len()
            ));
        }
        if !sym.value.is_multiple_of(INSN) || !sym.size.is_multiple_of(INSN) {
            return Err(format!(
                "corrupt symbol table: function `{}` (bytes {}+{} of `{}`) is not made of \
                 whole 8-byte instructions",
                sym.name, sym.value, sym.size, section.name
            ));
        }
        if sym.size == 0 {
            continue;
        }
        let start = (sym.value / INSN) as usize;
        let f = Function {
            name: sym.name.clone(),
            section: index,
            start,
            len: (sym.size / INSN) as usize,
        };
        if let Some(other) = functions.insert((index, start), f) {
            return Err(format!(
                "corrupt symbol table: functions `{}` and `{}` start at the same instruction \
                 of `{}`",
                other.name, sym.name, section.name
            ));
        }
    }

    // Relocations of code and of `.maps` (map-in-map and program-array slots).
    for s in file.sections() {
        let index = s.index().0;
        let Some(section) = sections.iter_mut().find(|sec| sec.index == index) else {
            continue;
        };
        if !matches!(
            section.role,
            Role::Text | Role::Program | Role::Maps | Role::StructOps
        ) {
            continue;
        }
        let code = matches!(section.role, Role::Text | Role::Program);
        for (offset, rel) in s.relocations() {
            let at = format!(
                "the relocation at byte {offset} of section `{}`",
                section.name
            );
            let r_type = match rel.flags() {
                RelocationFlags::Elf { r_type } => r_type,
                _ => R_BPF_NONE,
            };
            // Code: ld_imm64 (R_BPF_64_64) and calls (R_BPF_64_32); data: pointers.
            let known: &[u32] = if code {
                &[R_BPF_64_64, R_BPF_64_32]
            } else {
                &[R_BPF_64_ABS64, R_BPF_64_ABS32, R_BPF_64_NODYLD32]
            };
            if !known.contains(&r_type) {
                return Err(format!(
                    "corrupt relocations: {at} has type {r_type}; BPF {} uses only {}",
                    if code { "code" } else { "data" },
                    if code {
                        "R_BPF_64_64 (1) and R_BPF_64_32 (10)"
                    } else {
                        "R_BPF_64_ABS64 (2), R_BPF_64_ABS32 (3) and R_BPF_64_NODYLD32 (4)"
                    }
                ));
            }
            let width = if code { INSN } else { 8 };
            if (code && !offset.is_multiple_of(INSN))
                || offset
                    .checked_add(width)
                    .is_none_or(|end| end > section.data.len() as u64)
            {
                return Err(format!(
                    "corrupt relocations: {at} is not on an instruction of the section's {} bytes",
                    section.data.len()
                ));
            }
            let RelocationTarget::Symbol(symbol) = rel.target() else {
                return Err(format!("corrupt relocations: {at} names no symbol"));
            };
            if symbols.get(symbol.0).and_then(Option::as_ref).is_none() {
                return Err(format!(
                    "corrupt relocations: {at} refers to symbol [{}], which does not exist",
                    symbol.0
                ));
            }
            section
                .relocations
                .insert(offset, Relocation { symbol: symbol.0 });
        }
    }

    Ok(Elf {
        sections,
        symbols,
        functions,
    })
}
