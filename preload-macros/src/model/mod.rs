//! Reads a compiled BPF object into the model the table is made from: maps in index
//! order, programs with final instructions (subprograms linked, map references as
//! `BPF_PSEUDO_MAP_IDX`/`_IDX_VALUE`), fixed-up BTF, and per-program func_info,
//! line_info and CO-RE records in the kernel's layouts.
//!
//! Standalone on purpose (no `proc_macro`, no `syn`): the fuzzer includes this module
//! as it is. Any bytes end in a [`Model`] or an error, never in a panic: [`elf::check`]
//! validates everything aya-obj trusts before aya-obj reads it, and every aya-obj call
//! runs behind `catch_unwind` as a last resort.

pub mod btf;
pub mod elf;
pub mod kinds;

use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};

use aya_obj::btf::{BtfFeatures, BtfKind};
use aya_obj::{Map, Object};

pub use kinds::{classify, Attach, AttachModel, ProgramKind, MAP_TYPES};

const INSN_SIZE: usize = 8;
const BPF_LD_IMM64: u8 = 0x18;
const BPF_CALL: u8 = 0x85;
const BPF_PSEUDO_MAP_FD: u8 = 1;
const BPF_PSEUDO_MAP_VALUE: u8 = 2;
const BPF_PSEUDO_MAP_IDX: u8 = 5;
const BPF_PSEUDO_MAP_IDX_VALUE: u8 = 6;

/// A reason the object cannot be preloaded.
pub type ReadError = String;

#[derive(Debug)]
pub struct Model {
    pub btf: Vec<u8>,
    /// Sorted by name; instructions refer to maps by their index here.
    pub maps: Vec<MapModel>,
    /// Sorted by name.
    pub programs: Vec<ProgramModel>,
}

#[derive(Debug)]
pub struct MapModel {
    pub name: String,
    /// A `.data`/`.rodata`/`.bss` map made from a section rather than declared.
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
}

#[derive(Debug)]
pub struct ProgramModel {
    pub name: String,
    pub section: String,
    pub kind: ProgramKind,
    pub sleepable: bool,
    pub license: String,
    pub insns: Vec<u8>,
    pub func_info: Vec<u8>,
    pub line_info: Vec<u8>,
    pub core_relos: Vec<u8>,
}

/// Runs one aya-obj step; a panic in it becomes an error naming the step.
fn guarded<T>(step: &str, f: impl FnOnce() -> T) -> Result<T, ReadError> {
    catch_unwind(AssertUnwindSafe(f)).map_err(|panic| {
        let message = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        format!(
            "aya-obj panicked while {step} (\"{message}\"): the object is malformed in a way \
             bpf-preload does not check yet; please report this with the object"
        )
    })
}

/// An error and its sources, as one line: aya-obj's own messages are terse
/// ("BTF error") and the detail is in the source.
fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

/// Where a function sits in its ELF section, before linking.
struct FunctionSpan {
    section: String,
    offset: usize,
    len: usize,
}

fn insn_bytes(insns: &[aya_obj::generated::bpf_insn]) -> Vec<u8> {
    let mut out = Vec::with_capacity(insns.len() * INSN_SIZE);
    for insn in insns {
        let mut src = insn.src_reg();
        if insn.code == BPF_LD_IMM64 {
            // aya-obj wrote the map's index where an fd would go: say so to the kernel.
            src = match src {
                BPF_PSEUDO_MAP_FD => BPF_PSEUDO_MAP_IDX,
                BPF_PSEUDO_MAP_VALUE => BPF_PSEUDO_MAP_IDX_VALUE,
                other => other,
            };
        }
        out.push(insn.code);
        out.push((src << 4) | (insn.dst_reg() & 0xf));
        out.extend_from_slice(&insn.off.to_le_bytes());
        out.extend_from_slice(&insn.imm.to_le_bytes());
    }
    out
}

/// The sizes of a BTF-defined map's `key` and `value` types, from the object's BTF.
/// aya-obj 0.3 computes them wrongly for multi-dimensional arrays (`char[4][16]` as
/// 16 bytes); the kernel would then refuse the map, since its BTF says otherwise.
fn btf_map_sizes(btf: &btf::Btf<'_>, map: &str) -> (Option<u32>, Option<u32>) {
    let Some((_, entries)) = btf.datasec(".maps") else {
        return (None, None);
    };
    let Some(var) = entries.iter().find(|e| btf.name(e.target) == map) else {
        return (None, None);
    };
    let Some(btf::Kind::Var { target }) = btf.get(var.target).map(|t| &t.kind) else {
        return (None, None);
    };
    let Some(btf::Kind::Struct { members, .. }) = btf
        .resolve(*target)
        .and_then(|id| btf.get(id))
        .map(|t| &t.kind)
    else {
        return (None, None);
    };
    let size = |field: &str| {
        let member = members
            .iter()
            .find(|m| btf.string(m.name_off).as_deref() == Some(field))?;
        match btf.get(member.target)?.kind {
            btf::Kind::Ptr { target } => btf.size_of(target),
            _ => None,
        }
    };
    (size("key"), size("value"))
}

/// Checks what aya-obj's map parser will compute, so that it cannot overflow: the
/// `key` and `value` sizes of every map, and of the inner map of a map of maps
/// (`values`).
fn check_btf_map_types(btf: &btf::Btf<'_>) -> Result<(), ReadError> {
    // aya-obj reads the DATASEC of every section whose name starts with `.maps`, so
    // every DATASEC is checked.
    let entries = btf.types.iter().flat_map(|t| match &t.kind {
        btf::Kind::DataSec { entries, .. } => entries.as_slice(),
        _ => &[],
    });
    for entry in entries {
        let map = btf.name(entry.target);
        let Some(btf::Kind::Var { target }) = btf.get(entry.target).map(|t| &t.kind) else {
            continue;
        };
        let mut structs = vec![(*target, false)];
        while let Some((id, inner)) = structs.pop() {
            let Some(btf::Kind::Struct { members, .. }) =
                btf.resolve(id).and_then(|id| btf.get(id)).map(|t| &t.kind)
            else {
                continue;
            };
            for m in members {
                let field = btf.string(m.name_off).unwrap_or_default();
                let Some(ty) = btf.get(m.target) else {
                    continue;
                };
                match (field.as_str(), &ty.kind) {
                    ("key" | "value", btf::Kind::Ptr { target }) => {
                        let aya = btf.aya_type_size(*target);
                        let real = btf.size_of(*target);
                        if aya.is_err() || (real.is_none() && matches!(aya, Ok(Some(_)))) {
                            return Err(format!(
                                "map `{map}`: its {field} type `{}` is larger than 4 GiB",
                                btf.name(*target)
                            ));
                        }
                    }
                    ("values", btf::Kind::Array { elem, .. }) if !inner => {
                        if let Some(btf::Kind::Ptr { target }) = btf
                            .resolve(*elem)
                            .and_then(|id| btf.get(id))
                            .map(|t| &t.kind)
                        {
                            structs.push((*target, true));
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    Ok(())
}

/// Reads `data`, the bytes of a BPF ELF object, into a [`Model`].
pub fn read(data: &[u8]) -> Result<Model, ReadError> {
    let checked = elf::check(data)?;
    check_btf_map_types(&checked.btf)?;
    let section_names = &checked.section_names;
    let text_sections = &checked.text_sections;

    let mut obj = guarded("reading the object", || Object::parse(data))?
        .map_err(|e| format!("cannot read the BPF object: {}", chain(&e)))?;
    let btf_ids = obj.btf.clone().ok_or("the object has no BTF")?;

    // Maps in name order: their index is what instructions refer to.
    let mut map_names: Vec<String> = obj.maps.keys().cloned().collect();
    map_names.sort();
    let maps: Vec<Map> = map_names
        .iter()
        .filter_map(|n| obj.maps.get(n).cloned())
        .collect();
    guarded("relocating map references", || {
        obj.relocate_maps(
            map_names
                .iter()
                .zip(&maps)
                .enumerate()
                .map(|(i, (n, m))| (n.as_str(), i as i32, m)),
            text_sections,
        )
    })?
    .map_err(|e| format!("relocating map references: {}", chain(&e)))?;

    // Each function's place and FUNC type before linking; the linked program's
    // func_info then says where each function went.
    let mut spans: HashMap<u32, FunctionSpan> = HashMap::new();
    for f in obj.functions.values() {
        if let Some(info) = f.func_info.func_info.first() {
            spans.insert(
                info.type_id,
                FunctionSpan {
                    section: section_names
                        .get(&f.section_index.0)
                        .cloned()
                        .unwrap_or_default(),
                    offset: f.section_offset,
                    len: f.instructions.len(),
                },
            );
        }
    }
    guarded("linking subprograms", || obj.relocate_calls(text_sections))?
        .map_err(|e| format!("linking subprograms: {}", chain(&e)))?;
    let features = BtfFeatures::new(true, true, true, false, true, true, true, true);
    let btf = guarded("fixing up BTF", || {
        obj.fixup_and_sanitize_btf(&features)
            .map(|btf| btf.map(|b| b.to_bytes()))
    })?
    .map_err(|e| format!("fixing up BTF: {}", chain(&e)))?
    .ok_or("the object's BTF is empty")?;

    let mut map_models = Vec::new();
    for (name, map) in map_names.iter().zip(&maps) {
        let internal = matches!(
            map.section_kind(),
            aya_obj::EbpfSectionKind::Data
                | aya_obj::EbpfSectionKind::Rodata
                | aya_obj::EbpfSectionKind::Bss
        );
        let (mut key_size, mut value_size) = (map.key_size(), map.value_size());
        let (btf_key_type_id, btf_value_type_id) = match map {
            Map::Btf(m) => {
                let (key, value) = btf_map_sizes(&checked.btf, name);
                if m.def.btf_key_type_id != 0 {
                    key_size = key.unwrap_or(key_size);
                }
                if m.def.btf_value_type_id != 0 {
                    value_size = value.unwrap_or(value_size);
                }
                (m.def.btf_key_type_id, m.def.btf_value_type_id)
            }
            // Data maps: no key type, the section's DATASEC as value type (as libbpf).
            Map::Legacy(_) if internal => (
                0,
                btf_ids
                    .id_by_type_name_kind(name, BtfKind::DataSec)
                    .unwrap_or(0),
            ),
            Map::Legacy(_) => (0, 0),
        };
        let rodata = map.section_kind() == aya_obj::EbpfSectionKind::Rodata;
        let data_section = matches!(
            map.section_kind(),
            aya_obj::EbpfSectionKind::Data | aya_obj::EbpfSectionKind::Rodata
        );
        let initial_value =
            (data_section && map.data().iter().any(|&b| b != 0)).then(|| map.data().to_vec());
        kinds::check_map(
            name,
            map.map_type(),
            map.map_flags(),
            map.max_entries(),
            initial_value.is_some(),
            map.inner().is_some(),
        )?;
        map_models.push(MapModel {
            name: name.clone(),
            internal,
            map_type: map.map_type(),
            key_size,
            value_size,
            max_entries: map.max_entries(),
            map_flags: map.map_flags(),
            map_extra: map.map_extra(),
            btf_key_type_id,
            btf_value_type_id,
            initial_value,
            freeze: rodata,
        });
    }

    // CO-RE records by section, each with its section-relative byte offset.
    let core: HashMap<&str, &Vec<Vec<u8>>> = checked.btf_ext.core_relo.by_section();

    let mut prog_names: Vec<&String> = obj.programs.keys().collect();
    prog_names.sort();
    let mut programs = Vec::new();
    for name in prog_names {
        let Some(program) = obj.programs.get(name) else {
            continue;
        };
        let section = section_names
            .get(&program.section_index)
            .cloned()
            .unwrap_or_default();
        let (kind, sleepable) = classify(&section).map_err(|e| format!("program `{name}`: {e}"))?;
        let func = obj
            .functions
            .get(&program.function_key())
            .ok_or_else(|| format!("program `{name}`: its function was not linked"))?;
        if func.instructions.is_empty() {
            return Err(format!(
                "program `{name}` in section `{section}` has no instructions (its symbol has \
                 size 0)"
            ));
        }

        let mut core_relos = Vec::new();
        for placed in &func.func_info.func_info {
            let Some(span) = spans.get(&placed.type_id) else {
                continue;
            };
            let Some(records) = core.get(span.section.as_str()) else {
                continue;
            };
            let range = span.offset..span.offset + span.len * INSN_SIZE;
            let mut count = 0;
            for r in records.iter() {
                let field = |i: usize| btf::u32_at(r, i * 4).unwrap_or_default();
                let insn_off = field(0) as usize;
                if !range.contains(&insn_off) {
                    continue;
                }
                count += 1;
                if count > span.len {
                    return Err(format!(
                        "`.BTF.ext` is corrupt: section `{}` has more CO-RE relocations for one \
                         function than it has instructions",
                        span.section
                    ));
                }
                let placed_off = placed.insn_off as usize * INSN_SIZE + (insn_off - span.offset);
                for v in [placed_off as u32, field(1), field(2), field(3)] {
                    core_relos.extend_from_slice(&v.to_le_bytes());
                }
            }
        }

        let license = program.license.to_string_lossy().into_owned();
        check_license(name, &section, &license, &kind, &func.instructions)?;
        programs.push(ProgramModel {
            name: name.clone(),
            section,
            kind,
            sleepable,
            license,
            insns: insn_bytes(&func.instructions),
            func_info: func.func_info.func_info_bytes(),
            line_info: func.line_info.line_info_bytes(),
            core_relos,
        });
    }
    if programs.is_empty() {
        return Err(
            "the object has no programs: put each program in its own section, e.g. \
             `SEC(\"iter/bpf_map\")` before the function"
                .into(),
        );
    }
    Ok(Model {
        btf,
        maps: map_models,
        programs,
    })
}

/// What the kernel refuses from a program whose license is not GPL-compatible.
fn check_license(
    name: &str,
    section: &str,
    license: &str,
    kind: &ProgramKind,
    insns: &[aya_obj::generated::bpf_insn],
) -> Result<(), ReadError> {
    if kinds::license_is_gpl_compatible(license) {
        return Ok(());
    }
    let fix = "declare a GPL-compatible license, e.g. \
               `char LICENSE[] SEC(\"license\") = \"GPL\";` (or \"Dual BSD/GPL\")";
    if kind.prog_type == "BPF_PROG_TYPE_LSM" {
        return Err(format!(
            "program `{name}` (section `{section}`) is an LSM program, and the kernel loads LSM \
             programs only under a GPL-compatible license, but the object's license is \
             \"{license}\": {fix}"
        ));
    }
    let helper = insns.iter().find_map(|insn| {
        (insn.code == BPF_CALL && insn.src_reg() == 0)
            .then(|| {
                kinds::GPL_ONLY_HELPERS
                    .iter()
                    .find(|(id, _)| *id == insn.imm)
            })
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
