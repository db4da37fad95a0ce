//! Reads a compiled BPF object into the model the table is made from, as libbpf reads
//! it: maps in index order (BTF-defined, global data, Kconfig), programs with final
//! instructions (subprograms linked, map references as `BPF_PSEUDO_MAP_IDX`/
//! `_IDX_VALUE`), the externs the loader resolves, fixed-up BTF, and per-program
//! func_info, line_info and CO-RE records in the kernel's layouts.
//!
//! A crate of its own, free of `proc_macro` and `syn`, as aya-obj is: the macro, the
//! fuzzer and the module builder use it, and [`names`] holds the rules for the names
//! an object gives the kernel and bpffs, once. Any bytes end in a [`Model`] or an
//! error, never in a panic: [`elf`] and [`btf`] check every offset before anything
//! reads through it.

// `kinds::entries` says only whether a map's entries are acceptable; its caller words
// the error. Left as it was in the macro, where the lint did not apply.
#![allow(clippy::result_unit_err)]

pub mod btf;
pub mod btf_fix;
pub mod elf;
pub mod externs;
pub mod globals;
pub mod kinds;
pub mod link;
pub mod maps;
pub mod names;

use std::collections::HashMap;

pub use kinds::{classify, Attach, AttachModel, ProgramKind, TargetIn};

use bpf_preload_uapi::{ProgType, BPF_JMP_CALL};

/// A reason the object cannot be preloaded.
pub type ReadError = String;

#[derive(Debug)]
pub struct Model {
    /// Empty for an object without BTF.
    pub btf: Vec<u8>,
    /// Sorted by name; instructions refer to maps by their index here.
    pub maps: Vec<MapModel>,
    /// Sorted by name.
    pub programs: Vec<ProgramModel>,
    /// Kfuncs and kernel variables (`__ksym`), in `.ksyms` order.
    pub externs: Vec<ExternModel>,
}

#[derive(Debug, Clone)]
pub struct MapModel {
    pub name: String,
    /// A `.data`/`.rodata`/`.bss`/`.kconfig` map made by the loader rather than declared.
    pub internal: bool,
    pub map_type: u32,
    pub key_size: u32,
    pub value_size: u32,
    pub max_entries: u32,
    pub map_flags: u32,
    pub map_extra: u64,
    pub btf_key_type_id: u32,
    pub btf_value_type_id: u32,
    pub initial_value: Option<Vec<u8>>,
    pub freeze: bool,
    /// The inner map of a map of maps.
    pub inner: Option<Box<MapModel>>,
    /// Slots `.values = { ... }` initialises.
    pub slots: Vec<Slot>,
    /// The `.kconfig` map's values, filled by the loader.
    pub kconfig: Vec<KconfigModel>,
    /// A struct_ops map's value (`SEC(".struct_ops")`).
    pub struct_ops: Option<StructOpsModel>,
    /// A global-data map's variables, which the attribute's `set(...)` may set.
    pub globals: Vec<globals::GlobalVar>,
    /// Pinned by name (`__uint(pinning, LIBBPF_PIN_BY_NAME)`): shared with every
    /// object that declares a map of this name, as libbpf shares it through its pin.
    pub shared: bool,
}

/// A variable of `.struct_ops`/`.struct_ops.link`: a kernel struct's value, which the
/// loader lays out as the running kernel does, member by member, by name.
#[derive(Debug, Clone)]
pub struct StructOpsModel {
    /// False in a `?` section (libbpf: not created unless asked for); `read` leaves
    /// such maps out.
    pub autocreate: bool,
    /// The kernel struct's name, without a `___flavor` suffix.
    pub type_name: String,
    /// The variable's bytes.
    pub data: Vec<u8>,
    pub members: Vec<StructOpsMember>,
}

#[derive(Debug, Clone)]
pub struct StructOpsMember {
    pub name: String,
    /// Byte offset and size in `data`.
    pub offset: u32,
    pub size: u32,
    /// `BTF_KIND_*` of the member's type, typedefs and modifiers skipped.
    pub kind: u32,
    /// The program a function pointer is initialised with.
    pub program: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Slot {
    pub index: u32,
    pub target: SlotTarget,
}

/// What a map-of-maps or program-array slot holds, by name.
#[derive(Debug, Clone)]
pub enum SlotTarget {
    Map(String),
    Program(String),
}

#[derive(Debug, Clone)]
pub struct KconfigModel {
    pub name: String,
    pub offset: u32,
    pub size: u32,
    pub kind: KconfigKind,
    pub weak: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KconfigKind {
    Bool,
    Tristate,
    Char,
    Int { signed: bool },
    CharArray,
}

#[derive(Debug, Clone)]
pub struct ExternModel {
    pub name: String,
    pub kind: ExternKind,
    pub weak: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExternKind {
    /// A kernel function called from BPF (`BTF_KIND_FUNC` in vmlinux or a module).
    Kfunc,
    /// A typed kernel variable (`BTF_KIND_VAR`, `BPF_PSEUDO_BTF_ID`).
    Ksym,
    /// A typeless kernel symbol (`extern const void x __ksym`): its address.
    KsymAddress,
}

#[derive(Debug)]
pub struct ProgramModel {
    pub name: String,
    /// The ELF section, without libbpf's `?` (not loaded unless asked for).
    pub section: String,
    /// False for a `?` section.
    pub autoload: bool,
    pub kind: ProgramKind,
    pub license: String,
    pub insns: Vec<u8>,
    pub func_info: Vec<u8>,
    pub line_info: Vec<u8>,
    pub core_relos: Vec<u8>,
    /// (instruction index, index into [`Model::externs`]).
    pub externs: Vec<(u32, u32)>,
}

/// Reads `data`, the bytes of a BPF ELF object, into a [`Model`].
pub fn read(data: &[u8]) -> Result<Model, ReadError> {
    read_typed(data, &[])
}

/// Reads `data` as [`read`] does, with the types a loader gives the programs whose
/// section libbpf does not know (`(program, type)`, as `bpf_program__set_type()`).
/// Naming a program whose section gives its type is an error.
pub fn read_typed(data: &[u8], given: &[(String, ProgType)]) -> Result<Model, ReadError> {
    let elf = elf::read(data)?;
    let raw_btf = elf.section_named(".BTF").map(|s| s.data);
    let btf = raw_btf.map(btf::Btf::parse).transpose()?;
    let btf_ext = match (elf.section_named(".BTF.ext"), &btf) {
        (Some(ext), Some(btf)) => btf::BtfExt::parse(ext.data, btf)?,
        _ => btf::BtfExt::default(),
    };

    let kconfig = externs::kconfig(&elf, btf.as_ref())?;
    let externs = externs::ksyms(&elf, btf.as_ref());
    for sym in elf.symbols.iter().flatten() {
        let known = externs.iter().any(|e| e.name == sym.name)
            || kconfig.vars.iter().any(|v| v.name == sym.name);
        if sym.place == elf::Place::Undefined && !sym.name.is_empty() && !known && btf.is_none() {
            return Err(format!(
                "the object uses the extern `{}` but has no BTF, which says what an extern is: \
                 compile with `-g`",
                sym.name
            ));
        }
    }
    let mut maps = maps::read(&elf, btf.as_ref(), &kconfig)?;
    // As libbpf: programs that only maps left out use are not loaded either.
    let uses = |m: &MapModel| -> Vec<String> {
        m.struct_ops
            .iter()
            .flat_map(|o| o.members.iter().filter_map(|m| m.program.clone()))
            .collect()
    };
    let left_out: Vec<String> = maps
        .iter()
        .filter(|m| m.struct_ops.as_ref().is_some_and(|o| !o.autocreate))
        .flat_map(uses)
        .collect();
    maps.retain(|m| m.struct_ops.as_ref().is_none_or(|o| o.autocreate));
    let struct_ops_programs: Vec<String> = maps.iter().flat_map(uses).collect();
    let fixed_btf = match &btf {
        Some(btf) => btf_fix::fix(btf, &elf, &kconfig.offsets(), kconfig.size)?,
        None => Vec::new(),
    };

    let license = elf
        .section_named("license")
        .map(|s| {
            let end = s.data.iter().position(|&b| b == 0).unwrap_or(s.data.len());
            String::from_utf8_lossy(&s.data[..end]).into_owned()
        })
        .unwrap_or_default();

    let index: HashMap<String, u32> = maps
        .iter()
        .enumerate()
        .map(|(i, m)| (m.name.clone(), i as u32))
        .collect();
    let cx = link::Context {
        elf: &elf,
        btf_ext: &btf_ext,
        kconfig: index.get(".kconfig").map(|&i| (i, kconfig.offsets())),
        arena: (maps.iter())
            .position(|m| m.map_type == bpf_preload_uapi::BPF_MAP_TYPE_ARENA)
            .map(|i| i as u32),
        maps: index,
        externs: &externs,
    };

    let mut programs = Vec::new();
    let mut total = 0usize;
    for f in elf.functions.values() {
        let Some(section) = elf.section(f.section) else {
            continue;
        };
        if section.role != elf::Role::Program {
            continue;
        }
        let (autoload, name) = match section.name.strip_prefix('?') {
            Some(rest) => (false, rest),
            None => (true, section.name.as_str()),
        };
        let given_type = given.iter().find(|(p, _)| *p == f.name).map(|&(_, t)| t);
        let kind = match (classify(name), given_type) {
            (Ok(kind), None) => kind,
            (_, Some(t)) if !kinds::knows(name) => kinds::ProgramKind::given(t),
            (_, Some(_)) => {
                return Err(format!(
                    "program `{}`: section `{name}` gives its type already; `prog_type(...)` \
                     types programs whose section libbpf does not know",
                    f.name
                ))
            }
            (Err(e), None) => return Err(format!("program `{}`: {e}", f.name)),
        };
        let mut autoload = autoload;
        if kind.prog_type == ProgType::StructOps && !struct_ops_programs.contains(&f.name) {
            if !left_out.contains(&f.name) {
                return Err(format!(
                    "program `{}` (section `{}`) is a struct_ops program that no struct_ops map \
                     uses: the kernel loads one only for a member of a struct_ops map's struct",
                    f.name, section.name
                ));
            }
            autoload = false;
        } else if kind.prog_type == ProgType::StructOps {
            // libbpf's `bpf_object_adjust_struct_ops_autoload`: a map that is created
            // loads its programs, even from `?` sections.
            autoload = true;
        }
        let linked = link::link(&cx, f)?;
        total += linked.insns.len() / 8;
        if total > link::MAX_LINKED_INSNS {
            return Err(format!(
                "the programs hold more than {} instructions once their subprograms are \
                 linked in: more than bpf-preload emits into one table",
                link::MAX_LINKED_INSNS
            ));
        }
        check_license(&f.name, name, &license, &kind, &linked.insns)?;
        programs.push(ProgramModel {
            name: f.name.clone(),
            section: name.to_string(),
            autoload,
            kind,
            license: license.clone(),
            insns: linked.insns,
            func_info: linked.func_info,
            line_info: linked.line_info,
            core_relos: linked.core_relos,
            externs: linked.externs,
        });
    }
    programs.sort_by(|a, b| a.name.cmp(&b.name));
    for pair in programs.windows(2) {
        if pair[0].name == pair[1].name {
            return Err(format!(
                "two programs are named `{}`: bpf-preload keys programs by name; rename one",
                pair[0].name
            ));
        }
    }
    for map in &maps {
        kinds::check_map(map)?;
        for m in map.struct_ops.iter().flat_map(|o| &o.members) {
            let Some(p) = &m.program else { continue };
            if !programs
                .iter()
                .any(|q| &q.name == p && q.kind.prog_type == ProgType::StructOps)
            {
                return Err(format!(
                    "struct_ops map `{}`: member `{}` points to `{p}`, which is not a program \
                     of a `struct_ops/...` section",
                    map.name, m.name
                ));
            }
        }
        for slot in &map.slots {
            if let SlotTarget::Program(p) = &slot.target
                && !programs.iter().any(|q| &q.name == p)
            {
                return Err(format!(
                    "map `{}`: slot {} holds `{p}`, which is not a program",
                    map.name, slot.index
                ));
            }
        }
    }
    Ok(Model {
        btf: fixed_btf,
        maps,
        programs,
        externs,
    })
}

/// What the kernel refuses from a program whose license is not GPL-compatible.
fn check_license(
    name: &str,
    section: &str,
    license: &str,
    kind: &ProgramKind,
    insns: &[u8],
) -> Result<(), ReadError> {
    if kinds::license_is_gpl_compatible(license) {
        return Ok(());
    }
    let fix = "declare a GPL-compatible license, e.g. \
               `char LICENSE[] SEC(\"license\") = \"GPL\";` (or \"Dual BSD/GPL\")";
    if kind.prog_type == ProgType::Lsm {
        return Err(format!(
            "program `{name}` (section `{section}`) is an LSM program, and the kernel loads LSM \
             programs only under a GPL-compatible license, but the object's license is \
             \"{license}\": {fix}"
        ));
    }
    let helper = insns.chunks(8).find_map(|insn| {
        let imm = i32::from_le_bytes([insn[4], insn[5], insn[6], insn[7]]);
        (insn[0] == BPF_JMP_CALL && insn[1] >> 4 == 0)
            .then(|| kinds::GPL_ONLY_HELPERS.iter().find(|(id, _)| *id == imm))
            .flatten()
    });
    if let Some((id, helper)) = helper {
        return Err(format!(
            "program `{name}` (section `{section}`) calls {helper}() (helper {id}), which the \
             kernel allows only in GPL-compatible programs, but the object's license is \
             \"{license}\": {fix}"
        ));
    }
    Ok(())
}
