//! Structural checks of the ELF object before aya-obj reads it.
//!
//! aya-obj 0.3 assumes a well-formed object produced by clang: it slices section data
//! with symbol values and sizes, indexes instructions next to a relocation, adds
//! immediates and addresses with overflow checks on (a panic in a debug build), calls
//! `todo!()` for a relocation against a symbol kind it does not expect, unwraps the
//! section of a call target (`None` for an extern, such as a `__ksym` kfunc), sizes a
//! `.bss` buffer from the section header alone, and relinks subprograms recursively.
//! Each of those assumptions is checked here, with an error that names the section,
//! symbol or relocation at fault; `super::read` then runs aya-obj, still behind
//! `catch_unwind` in case something was missed.
//!
//! The same checks bound the work: the file size bounds every count, and the few
//! places where aya-obj does work quadratic in counts are capped.

use std::collections::{BTreeMap, HashMap, HashSet};

use object::{
    Object as _, ObjectSection as _, ObjectSymbol as _, ObjectSymbolTable as _, RelocationFlags,
    RelocationTarget, SectionIndex, SectionKind, SymbolKind, SymbolSection,
};

use super::btf::{Btf, BtfExt};

const EM_BPF: u16 = 247;
const ET_REL: u16 = 1;
const R_BPF_64_64: u32 = 1;
const R_BPF_64_32: u32 = 10;
const INSN: u64 = 8;
const BPF_LD_IMM64: u8 = 0x18;
const BPF_CALL: u8 = 0x85;
const BPF_PSEUDO_CALL: u8 = 1;
/// `KMALLOC_MAX_SIZE` with 4 KiB pages: the largest value of an array map.
pub const MAX_MAP_VALUE: u64 = 4 << 20;
/// `BPF_MAX_SUBPROGS`: functions in one program, its main function included.
const MAX_SUBPROGS: usize = 256;
/// Sections bpf-preload reads in one object (clang emits a few per program).
const MAX_SECTIONS: usize = 4096;
/// Instructions emitted for all programs together, after linking (16 MiB of table).
pub const MAX_LINKED_INSNS: u64 = 2 << 20;
/// aya-obj visits, for every function, every relocation and every func_info and
/// line_info record of its section: that product, over all sections, is capped.
const MAX_SECTION_WORK: u64 = 100_000_000;

pub type Error = String;

/// How aya-obj 0.3 files a section, by name and then by kind (`EbpfSectionKind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    License,
    Version,
    LegacyMaps,
    BtfMaps,
    Text,
    Bss,
    Data,
    Rodata,
    Btf,
    BtfExt,
    Program,
    Other,
}

impl Role {
    fn of(name: &str, kind: SectionKind, size: u64) -> Role {
        if name.starts_with("license") {
            Role::License
        } else if name.starts_with("version") {
            Role::Version
        } else if name.starts_with("maps") {
            Role::LegacyMaps
        } else if name.starts_with(".maps") {
            Role::BtfMaps
        } else if name.starts_with(".text") {
            Role::Text
        } else if name.starts_with(".bss") {
            Role::Bss
        } else if name.starts_with(".data") {
            Role::Data
        } else if name.starts_with(".rodata") {
            Role::Rodata
        } else if name == ".BTF" {
            Role::Btf
        } else if name == ".BTF.ext" {
            Role::BtfExt
        } else if kind == SectionKind::Text && size > 0 {
            Role::Program
        } else {
            Role::Other
        }
    }

    fn is_code(self) -> bool {
        matches!(self, Role::Text | Role::Program)
    }
}

/// What the checks learnt, for the reader.
pub struct Checked<'a> {
    pub btf: Btf<'a>,
    pub btf_ext: BtfExt,
    /// Section names by index.
    pub section_names: HashMap<usize, String>,
    /// The `.text*` sections, as aya-obj's relocation calls want them.
    pub text_sections: HashSet<usize>,
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

fn kind_name(kind: SymbolKind) -> &'static str {
    match kind {
        SymbolKind::Text => "function",
        SymbolKind::Data => "data",
        SymbolKind::Section => "section",
        SymbolKind::File => "file",
        SymbolKind::Label => "label",
        SymbolKind::Tls => "thread-local",
        _ => "untyped",
    }
}

/// A function in a code section, as aya-obj keys it: (section index, address).
type FnKey = (usize, u64);

struct Function {
    name: String,
    end: u64,
    callees: Vec<FnKey>,
}

/// Runs every check; `Ok` means aya-obj can read the object without tripping.
pub fn check(data: &[u8]) -> Result<Checked<'_>, Error> {
    header(data)?;
    let elf = object::File::parse(data).map_err(|e| format!("corrupt ELF object: {e}"))?;

    // Sections: names, extents, roles.
    let mut sections: Vec<(usize, String, Role, &[u8], u64)> = Vec::new();
    for s in elf.sections() {
        let i = s.index().0;
        if sections.len() >= MAX_SECTIONS {
            return Err(format!(
                "the object has more than {MAX_SECTIONS} sections; bpf-preload reads at most \
                 {MAX_SECTIONS}"
            ));
        }
        let name = s
            .name()
            .map_err(|e| {
                format!("corrupt section header: section [{i}] has no readable name: {e}")
            })?
            .to_string();
        let section_data = s.data().map_err(|_| {
            let (off, size) = s.file_range().unwrap_or_default();
            format!(
                "truncated or corrupt: section `{name}` ([{i}]) claims bytes {off}..{} of a \
                 {}-byte file",
                off.saturating_add(size),
                data.len()
            )
        })?;
        if s.address() != 0 {
            return Err(format!(
                "corrupt section header: section `{name}` ([{i}]) has address {:#x}, and a \
                 relocatable BPF object has no addresses",
                s.address()
            ));
        }
        let role = Role::of(&name, s.kind(), s.size());
        if matches!(role, Role::Bss | Role::Data | Role::Rodata) && s.size() > MAX_MAP_VALUE {
            return Err(format!(
                "section `{name}` is {} bytes: its globals become one value of an array map, \
                 and the kernel caps a map value at 4 MiB (KMALLOC_MAX_SIZE)",
                s.size()
            ));
        }
        if role == Role::Program {
            super::kinds::classify(&name)?;
        }
        sections.push((i, name, role, section_data, s.size()));
    }
    let by_index: HashMap<usize, (&str, Role, &[u8])> = sections
        .iter()
        .map(|(i, name, role, d, _)| (*i, (name.as_str(), *role, *d)))
        .collect();
    let section_names: HashMap<usize, String> = sections
        .iter()
        .map(|(i, name, ..)| (*i, name.clone()))
        .collect();
    let text_sections: HashSet<usize> = sections
        .iter()
        .filter(|(_, name, ..)| name.starts_with(".text"))
        .map(|(i, ..)| *i)
        .collect();

    // BTF first: the extern checks below read it.
    let find = |name: &str| sections.iter().find(|(_, n, ..)| n == name).map(|s| s.3);
    let raw_btf = find(".BTF").ok_or(
        "no `.BTF` section: compile with `-g` (BTF is generated from debug info; \
         `llvm-strip -g` afterwards keeps it)",
    )?;
    let btf = Btf::parse(raw_btf)?;
    // clang leaves `.BTF.ext` out of an object without code.
    let btf_ext = match find(".BTF.ext") {
        Some(raw_ext) => BtfExt::parse(raw_ext, &btf)?,
        None => BtfExt::default(),
    };

    // Symbols: names, sections, extents; functions by (section, address).
    let symtab = elf
        .symbol_table()
        .ok_or("no symbol table: the object was stripped of it (use `llvm-strip -g`, not `-s`)")?;
    let mut functions: BTreeMap<FnKey, Function> = BTreeMap::new();
    let mut programs: HashMap<String, &str> = HashMap::new();
    let mut program_keys: Vec<(String, FnKey)> = Vec::new();
    let mut map_section_symbols: HashMap<usize, Vec<(usize, String, SymbolKind)>> = HashMap::new();
    for sym in symtab.symbols() {
        let i = sym.index().0;
        let name = sym
            .name()
            .map_err(|e| format!("corrupt symbol table: symbol [{i}] has no readable name: {e}"))?;
        let SymbolSection::Section(SectionIndex(section)) = sym.section() else {
            continue;
        };
        let Some(&(section_name, role, section_data)) = by_index.get(&section) else {
            return Err(format!(
                "corrupt symbol table: symbol `{name}` is in section [{section}], which does \
                 not exist"
            ));
        };
        let (start, size) = (sym.address(), sym.size());
        let outside = start
            .checked_add(size)
            .is_none_or(|end| end > section_data.len() as u64);
        if matches!(role, Role::BtfMaps | Role::LegacyMaps) {
            map_section_symbols
                .entry(section)
                .or_default()
                .push((i, name.to_string(), sym.kind()));
        }
        let code_fn = role.is_code() && sym.kind() == SymbolKind::Text;
        if (code_fn || role == Role::LegacyMaps) && outside {
            return Err(format!(
                "corrupt symbol table: symbol `{name}` (bytes {start}+{size}) lies outside its \
                 section `{section_name}` ({} bytes)",
                section_data.len()
            ));
        }
        if !code_fn {
            continue;
        }
        if start % INSN != 0 || size % INSN != 0 {
            return Err(format!(
                "corrupt symbol table: function `{name}` (bytes {start}+{size} of \
                 `{section_name}`) is not made of whole 8-byte instructions"
            ));
        }
        functions.insert(
            (section, start),
            Function {
                name: name.to_string(),
                end: start + size,
                callees: Vec::new(),
            },
        );
        if role == Role::Program && !name.is_empty() {
            if let Some(other) = programs.insert(name.to_string(), section_name) {
                return Err(format!(
                    "two programs are named `{name}` (in sections `{other}` and \
                     `{section_name}`): bpf-preload keys programs by name; rename one"
                ));
            }
            program_keys.push((name.to_string(), (section, start)));
        }
    }

    let map_symbols = map_symbols(&sections, &map_section_symbols, &btf)?;

    // aya-obj walks every symbol for each `.text` section, and every BTF type for each
    // `.maps` section and each global-data map.
    let per_section = sections
        .iter()
        .filter(|(_, _, role, ..)| {
            matches!(
                role,
                Role::Text | Role::BtfMaps | Role::Bss | Role::Data | Role::Rodata
            )
        })
        .count() as u64;
    let symbols = symtab.symbols().count() as u64;
    if per_section.saturating_mul(symbols + btf.types.len() as u64) > MAX_SECTION_WORK {
        return Err(format!(
            "the object has {per_section} code, map and data sections, {symbols} symbols and \
             {} BTF types: more than bpf-preload's reader handles in reasonable time",
            btf.types.len()
        ));
    }

    // Relocations in code, and the calls they and pc-relative calls make.
    let mut relocated: HashSet<(usize, u64)> = HashSet::new();
    for s in elf.sections() {
        let section = s.index().0;
        let Some(&(section_name, role, code)) = by_index.get(&section) else {
            continue;
        };
        if !role.is_code() {
            continue;
        }
        let fns_here = functions.range((section, 0)..=(section, u64::MAX)).count() as u64;
        let mut relocations = 0u64;
        for (offset, rel) in s.relocations() {
            relocations += 1;
            let at = format!("the relocation at byte {offset} of section `{section_name}`");
            let r_type = match rel.flags() {
                RelocationFlags::Elf { r_type } => r_type,
                _ => 0,
            };
            if r_type != R_BPF_64_64 && r_type != R_BPF_64_32 {
                return Err(format!(
                    "corrupt relocations: {at} has type {r_type}; BPF code uses only \
                     R_BPF_64_64 (1) and R_BPF_64_32 (10)"
                ));
            }
            if offset % INSN != 0
                || offset
                    .checked_add(INSN)
                    .is_none_or(|end| end > code.len() as u64)
            {
                return Err(format!(
                    "corrupt relocations: {at} is not on an instruction of the section's {} bytes",
                    code.len()
                ));
            }
            let RelocationTarget::Symbol(index) = rel.target() else {
                return Err(format!("corrupt relocations: {at} names no symbol"));
            };
            let sym = symtab.symbol_by_index(index).map_err(|_| {
                format!(
                    "corrupt relocations: {at} refers to symbol [{}], which does not exist",
                    index.0
                )
            })?;
            let sym_name = sym.name().unwrap_or_default();
            let insn = &code[offset as usize..];
            let imm = i32::from_le_bytes(insn[4..8].try_into().unwrap_or_default());
            let target_section = match sym.section() {
                SymbolSection::Section(SectionIndex(i)) => i,
                _ => return Err(extern_error(&btf, sym_name, section_name)),
            };
            let to_code = sym.kind() == SymbolKind::Text || text_sections.contains(&target_section);
            let containing = functions
                .range(..=(section, offset))
                .next_back()
                .filter(|((sec, _), f)| *sec == section && offset < f.end)
                .map(|(key, f)| (*key, f.end));
            if to_code {
                // aya-obj's linker: a function symbol, or a section symbol plus the
                // immediate (in instructions after the call, or in bytes for ld_imm64).
                let target = match (sym.kind(), r_type) {
                    (SymbolKind::Text, _) => Some(sym.address()),
                    (SymbolKind::Section, R_BPF_64_32) => imm
                        .checked_add(1)
                        .and_then(|n| u64::try_from(n).ok())
                        .and_then(|n| n.checked_mul(INSN))
                        .and_then(|n| sym.address().checked_add(n)),
                    (SymbolKind::Section, _) => u64::try_from(imm)
                        .ok()
                        .and_then(|n| sym.address().checked_add(n)),
                    (kind, _) => {
                        return Err(format!(
                            "unsupported relocation: {at} refers to `{sym_name}`, a {} symbol in \
                             code, which aya-obj cannot link",
                            kind_name(kind)
                        ))
                    }
                };
                let Some(target) = target else {
                    return Err(format!(
                        "corrupt relocations: {at} points before or far past `{sym_name}` \
                         (immediate {imm})"
                    ));
                };
                relocated.insert((section, offset));
                if let Some((key, _)) = containing {
                    if let Some(f) = functions.get_mut(&key) {
                        f.callees.push((target_section, target));
                    }
                }
            } else if matches!(
                by_index.get(&target_section).map(|t| t.1),
                Some(Role::BtfMaps | Role::LegacyMaps)
            ) && !map_symbols.contains(&index.0)
            {
                // aya-obj would fall back to "any map of that section".
                return Err(format!(
                    "corrupt relocations: {at} refers to `{sym_name}` in section `{}`, which \
                     is not one of the maps the object declares",
                    by_index.get(&target_section).map_or("", |t| t.0)
                ));
            } else if let Some((_, end)) = containing {
                // A map or global-data reference: aya-obj patches this ld_imm64 and the
                // instruction after it, adding the symbol's address to the immediate.
                if insn[0] != BPF_LD_IMM64 || offset + 2 * INSN > end {
                    return Err(format!(
                        "corrupt relocations: {at} refers to `{sym_name}` but is not on a \
                         whole 16-byte ld_imm64 instruction inside its function"
                    ));
                }
                if imm.checked_add(sym.address() as i32).is_none() {
                    return Err(format!(
                        "corrupt relocations: {at}: the offset {imm} into `{sym_name}` \
                         overflows"
                    ));
                }
            }
        }
        let records = [&btf_ext.func_info, &btf_ext.line_info, &btf_ext.core_relo]
            .iter()
            .filter_map(|info| info.by_section().get(section_name).map(|r| r.len() as u64))
            .sum::<u64>();
        if fns_here.saturating_mul(relocations.saturating_add(records)) > MAX_SECTION_WORK {
            return Err(format!(
                "section `{section_name}` has {fns_here} functions, {relocations} relocations \
                 and {records} func_info, line_info and CO-RE records: more than bpf-preload's \
                 reader relinks in reasonable time; split the object"
            ));
        }
    }

    // pc-relative calls (no relocation) within a section.
    let keys: Vec<FnKey> = functions.keys().copied().collect();
    for (section, start) in keys {
        let Some(&(section_name, _, code)) = by_index.get(&section) else {
            continue;
        };
        let end = functions.get(&(section, start)).map_or(start, |f| f.end);
        let mut callees = Vec::new();
        for off in (start..end).step_by(INSN as usize) {
            let insn = &code[off as usize..off as usize + INSN as usize];
            let is_call =
                insn[0] == BPF_CALL && insn[1] == BPF_PSEUDO_CALL << 4 && insn[2..4] == [0, 0];
            if !is_call || relocated.contains(&(section, off)) {
                continue;
            }
            let imm = i32::from_le_bytes(insn[4..8].try_into().unwrap_or_default());
            let target = i64::from(imm)
                .checked_add(1)
                .and_then(|n| n.checked_mul(INSN as i64))
                .and_then(|n| n.checked_add(off as i64))
                .and_then(|n| u64::try_from(n).ok());
            let name = functions.get(&(section, start)).map(|f| f.name.clone());
            match target {
                Some(target) if imm != i32::MAX => callees.push((section, target)),
                _ => {
                    return Err(format!(
                        "corrupt code: the call at byte {off} of section `{section_name}` (in \
                         `{}`) jumps outside the section",
                        name.unwrap_or_default()
                    ))
                }
            }
        }
        if let Some(f) = functions.get_mut(&(section, start)) {
            f.callees.extend(callees);
        }
    }

    // What each program links in, as aya-obj's linker walks it: a bounded number of
    // functions (its recursion depth), no two at one address in different sections
    // (its linker keys them by address alone), and a bounded total.
    let mut linked_total = 0u64;
    program_keys.sort();
    for (program, main) in &program_keys {
        let mut seen: HashSet<FnKey> = HashSet::new();
        let mut by_address: HashMap<u64, usize> = HashMap::new();
        let mut queue = vec![*main];
        while let Some(key) = queue.pop() {
            if !seen.insert(key) {
                continue;
            }
            let Some(f) = functions.get(&key) else {
                continue; // aya-obj reports an unknown callee as an error
            };
            if key != *main {
                if let Some(other) = by_address.insert(key.1, key.0) {
                    if other != key.0 {
                        let (a, b) = (&section_names[&other], &section_names[&key.0]);
                        return Err(format!(
                            "program `{program}` calls functions at the same offset ({}) of two \
                             sections, `{a}` and `{b}`: aya-obj 0.3 links such functions as \
                             one; keep subprograms in one `.text` section",
                            key.1
                        ));
                    }
                }
            }
            if seen.len() > MAX_SUBPROGS {
                return Err(format!(
                    "program `{program}` calls more than {} functions: the kernel accepts at \
                     most {MAX_SUBPROGS} in one program (BPF_MAX_SUBPROGS)",
                    MAX_SUBPROGS - 1
                ));
            }
            linked_total += (f.end - key.1) / INSN;
            if linked_total > MAX_LINKED_INSNS {
                return Err(format!(
                    "the programs hold more than {MAX_LINKED_INSNS} instructions once their \
                     subprograms are linked in: more than bpf-preload emits into one table"
                ));
            }
            queue.extend(f.callees.iter().copied());
        }
    }

    Ok(Checked {
        btf,
        btf_ext,
        section_names,
        text_sections,
    })
}

/// The symbols aya-obj makes maps of (every symbol of a legacy `maps` section, and
/// the symbols of a `.maps` section that its `DATASEC` lists), after checking that no
/// two maps share a name: aya-obj keys maps by name, and would lose one.
fn map_symbols(
    sections: &[(usize, String, Role, &[u8], u64)],
    symbols: &HashMap<usize, Vec<(usize, String, SymbolKind)>>,
    btf: &Btf<'_>,
) -> Result<HashSet<usize>, Error> {
    let mut names: HashMap<String, String> = HashMap::new();
    let mut out = HashSet::new();
    let mut add = |name: &str, origin: &str| -> Result<(), Error> {
        match names.insert(name.to_string(), origin.to_string()) {
            Some(other) => Err(format!(
                "two maps are named `{name}` (from {other} and from {origin}): map names must \
                 be unique"
            )),
            None => Ok(()),
        }
    };
    for (index, name, role, ..) in sections {
        let origin = format!("section `{name}`");
        match role {
            Role::Bss | Role::Data | Role::Rodata => add(name, &origin)?,
            Role::LegacyMaps => {
                for (i, symbol, _) in symbols.get(index).into_iter().flatten() {
                    add(symbol, &origin)?;
                    out.insert(*i);
                }
            }
            Role::BtfMaps => {
                let declared = btf.datasec_names(name);
                let mut seen = HashSet::new();
                for (i, symbol, kind) in symbols.get(index).into_iter().flatten() {
                    if *kind == SymbolKind::Section || !declared.contains(symbol) {
                        continue;
                    }
                    if !seen.insert(symbol) {
                        return Err(format!(
                            "corrupt symbol table: two symbols are named `{symbol}` in section \
                             `{name}`"
                        ));
                    }
                    add(symbol, &origin)?;
                    out.insert(*i);
                }
            }
            _ => {}
        }
    }
    Ok(out)
}

/// An undefined symbol used by code: an extern that nothing resolves at load time.
fn extern_error(btf: &Btf<'_>, name: &str, section: &str) -> Error {
    if btf.datasec_names(".kconfig").iter().any(|n| n == name) {
        format!(
            "code in section `{section}` reads the `.kconfig` extern `{name}` (`extern ... \
             __kconfig`): bpf-preload does not resolve Kconfig externs; use a `const volatile` \
             global instead, or read the value at run time"
        )
    } else if btf.datasec_names(".ksyms").iter().any(|n| n == name) {
        format!(
            "code in section `{section}` uses the kernel symbol `{name}` (`extern ... __ksym`, \
             a kfunc or kernel variable): bpf-preload does not resolve `__ksym` externs yet; \
             use a BPF helper instead"
        )
    } else {
        format!(
            "code in section `{section}` refers to `{name}`, which the object does not define: \
             an extern bpf-preload cannot resolve (link several objects into one with \
             `bpftool gen object` first)"
        )
    }
}
