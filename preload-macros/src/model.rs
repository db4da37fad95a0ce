//! Reads a compiled BPF object into the model the table is made from: maps in index
//! order, programs with final instructions (subprograms linked, map references as
//! `BPF_PSEUDO_MAP_IDX`/`_IDX_VALUE`), fixed-up BTF, and per-program func_info,
//! line_info and CO-RE records in the kernel's layouts.

use std::collections::{HashMap, HashSet};

use aya_obj::btf::{BtfFeatures, BtfKind};
use aya_obj::{Map, Object};
use object::{Object as _, ObjectSection as _};

const INSN_SIZE: usize = 8;
const BPF_LD_IMM64: u8 = 0x18;
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

/// What a section name says about a program: its types and how it attaches.
#[derive(Debug, Clone)]
pub struct ProgramKind {
    /// `BPF_PROG_TYPE_*` constant name.
    pub prog_type: &'static str,
    /// `BPF_*` attach type constant name, if any.
    pub expected_attach_type: Option<&'static str>,
    /// Name and kind (`BTF_KIND_FUNC`/`BTF_KIND_TYPEDEF`) in the kernel's BTF.
    pub attach_btf: Option<(String, &'static str)>,
    pub attach: Option<AttachModel>,
}

#[derive(Debug, Clone)]
pub enum AttachModel {
    LinkCreate,
    RawTracepoint(Option<String>),
    Tracepoint { category: String, name: String },
}

/// Section prefixes the loader supports, for error messages.
pub const SUPPORTED_SECTIONS: &str = "iter/, iter.s/, tp_btf/, fentry/, fentry.s/, fexit/, \
     fexit.s/, lsm/, lsm.s/, raw_tp/, raw_tracepoint/, tracepoint/, tp/, socket";

/// Classifies a program by its ELF section name, as libbpf does.
pub fn classify(section: &str) -> Result<(ProgramKind, bool), String> {
    let (prefix, target) = section.split_once('/').unwrap_or((section, ""));
    let sleepable = prefix.ends_with(".s");
    let base = prefix.trim_end_matches(".s");
    let need_target = |what: &str| -> Result<String, String> {
        if target.is_empty() {
            Err(format!(
                "section `{section}` names no {what}: write `{base}/<{what}>`"
            ))
        } else {
            Ok(target.to_string())
        }
    };
    let tracing = |attach: &'static str, btf: String, kind: &'static str, how| ProgramKind {
        prog_type: "BPF_PROG_TYPE_TRACING",
        expected_attach_type: Some(attach),
        attach_btf: Some((btf, kind)),
        attach: Some(how),
    };
    let kind = match (base, sleepable) {
        ("iter", _) => tracing(
            "BPF_TRACE_ITER",
            format!("bpf_iter_{}", need_target("iterator target")?),
            "BTF_KIND_FUNC",
            AttachModel::LinkCreate,
        ),
        ("tp_btf", false) => tracing(
            "BPF_TRACE_RAW_TP",
            format!("btf_trace_{}", need_target("tracepoint")?),
            "BTF_KIND_TYPEDEF",
            AttachModel::RawTracepoint(None),
        ),
        ("fentry", _) => tracing(
            "BPF_TRACE_FENTRY",
            need_target("kernel function")?,
            "BTF_KIND_FUNC",
            AttachModel::LinkCreate,
        ),
        ("fexit", _) => tracing(
            "BPF_TRACE_FEXIT",
            need_target("kernel function")?,
            "BTF_KIND_FUNC",
            AttachModel::LinkCreate,
        ),
        ("lsm", _) => ProgramKind {
            prog_type: "BPF_PROG_TYPE_LSM",
            expected_attach_type: Some("BPF_LSM_MAC"),
            attach_btf: Some((
                format!("bpf_lsm_{}", need_target("LSM hook")?),
                "BTF_KIND_FUNC",
            )),
            attach: Some(AttachModel::LinkCreate),
        },
        ("raw_tp" | "raw_tracepoint", false) => ProgramKind {
            prog_type: "BPF_PROG_TYPE_RAW_TRACEPOINT",
            expected_attach_type: None,
            attach_btf: None,
            attach: Some(AttachModel::RawTracepoint(Some(need_target("tracepoint")?))),
        },
        ("tracepoint" | "tp", false) => {
            let target = need_target("category/name")?;
            let Some((category, name)) = target.split_once('/') else {
                return Err(format!(
                    "section `{section}`: a tracepoint section is `{base}/<category>/<name>`"
                ));
            };
            ProgramKind {
                prog_type: "BPF_PROG_TYPE_TRACEPOINT",
                expected_attach_type: None,
                attach_btf: None,
                attach: Some(AttachModel::Tracepoint {
                    category: category.to_string(),
                    name: name.to_string(),
                }),
            }
        }
        ("socket", false) => ProgramKind {
            prog_type: "BPF_PROG_TYPE_SOCKET_FILTER",
            expected_attach_type: None,
            attach_btf: None,
            attach: None,
        },
        _ => {
            return Err(format!(
                "program section `{section}` is not supported; supported: {SUPPORTED_SECTIONS}"
            ))
        }
    };
    Ok((kind, sleepable))
}

/// `BPF_MAP_TYPE_*` names by value (Linux 6.1's `enum bpf_map_type`).
pub const MAP_TYPES: [&str; 32] = [
    "UNSPEC",
    "HASH",
    "ARRAY",
    "PROG_ARRAY",
    "PERF_EVENT_ARRAY",
    "PERCPU_HASH",
    "PERCPU_ARRAY",
    "STACK_TRACE",
    "CGROUP_ARRAY",
    "LRU_HASH",
    "LRU_PERCPU_HASH",
    "LPM_TRIE",
    "ARRAY_OF_MAPS",
    "HASH_OF_MAPS",
    "DEVMAP",
    "SOCKMAP",
    "CPUMAP",
    "XSKMAP",
    "SOCKHASH",
    "CGROUP_STORAGE",
    "REUSEPORT_SOCKARRAY",
    "PERCPU_CGROUP_STORAGE",
    "QUEUE",
    "STACK",
    "SK_STORAGE",
    "DEVMAP_HASH",
    "STRUCT_OPS",
    "RINGBUF",
    "INODE_STORAGE",
    "TASK_STORAGE",
    "BLOOM_FILTER",
    "USER_RINGBUF",
];

/// Map types whose creation needs more than the table carries.
fn check_map_type(name: &str, map_type: u32) -> Result<(), ReadError> {
    let kind = MAP_TYPES.get(map_type as usize);
    match kind {
        None => Err(format!("map `{name}` has unknown map type {map_type}")),
        Some(&("ARRAY_OF_MAPS" | "HASH_OF_MAPS")) => Err(format!(
            "map `{name}`: maps of maps (BPF_MAP_TYPE_{}) are not supported yet",
            kind.unwrap()
        )),
        Some(&"STRUCT_OPS") => Err(format!(
            "map `{name}`: struct_ops maps are not supported yet"
        )),
        Some(_) => Ok(()),
    }
}

fn u32_at(data: &[u8], at: usize) -> Result<u32, ReadError> {
    data.get(at..at + 4)
        .map(|b| u32::from_le_bytes(b.try_into().unwrap()))
        .ok_or_else(|| format!("truncated data at offset {at}"))
}

/// A string from raw BTF's string section.
fn btf_string(btf: &[u8], off: u32) -> Result<String, ReadError> {
    let hdr_len = u32_at(btf, 4)? as usize;
    let str_off = u32_at(btf, 16)? as usize;
    let start = hdr_len + str_off + off as usize;
    let bytes = btf.get(start..).ok_or(".BTF: string offset out of range")?;
    let end = bytes
        .iter()
        .position(|&b| b == 0)
        .ok_or(".BTF: unterminated string")?;
    Ok(String::from_utf8_lossy(&bytes[..end]).into_owned())
}

/// One `bpf_core_relo` from `.BTF.ext`, with its section-relative byte offset.
#[derive(Debug, Clone, Copy)]
struct CoreRelo {
    insn_off: u32,
    type_id: u32,
    access_str_off: u32,
    kind: u32,
}

/// The CO-RE relocation records of `.BTF.ext`, by section name. aya-obj applies them in
/// user space and keeps them private; we hand them to the kernel instead.
fn core_relos(btf: &[u8], ext: &[u8]) -> Result<HashMap<String, Vec<CoreRelo>>, ReadError> {
    let mut out: HashMap<String, Vec<CoreRelo>> = HashMap::new();
    let hdr_len = u32_at(ext, 4)? as usize;
    if hdr_len < 32 {
        return Ok(out); // a .BTF.ext from before CO-RE: no records
    }
    let (off, len) = (u32_at(ext, 24)? as usize, u32_at(ext, 28)? as usize);
    if len == 0 {
        return Ok(out);
    }
    let data = ext
        .get(hdr_len + off..hdr_len + off + len)
        .ok_or(".BTF.ext: core_relo section out of range")?;
    let rec_size = u32_at(data, 0)? as usize;
    if rec_size < 16 {
        return Err(format!(
            ".BTF.ext: core_relo record size {rec_size} is below 16"
        ));
    }
    let mut at = 4;
    while at < data.len() {
        let section = btf_string(btf, u32_at(data, at)?)?;
        let count = u32_at(data, at + 4)? as usize;
        at += 8;
        let records = out.entry(section).or_default();
        for _ in 0..count {
            records.push(CoreRelo {
                insn_off: u32_at(data, at)?,
                type_id: u32_at(data, at + 4)?,
                access_str_off: u32_at(data, at + 8)?,
                kind: u32_at(data, at + 12)?,
            });
            at += rec_size;
        }
    }
    Ok(out)
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

/// Reads `data`, the bytes of a BPF ELF object, into a [`Model`].
pub fn read(data: &[u8]) -> Result<Model, ReadError> {
    let elf = object::File::parse(data).map_err(|e| format!("not an ELF object: {e}"))?;
    if elf.architecture() != object::Architecture::Bpf {
        return Err(format!(
            "not a BPF object: its machine is {:?}; compile with `clang -target bpf`",
            elf.architecture()
        ));
    }
    if !elf.is_little_endian() {
        return Err(
            "big-endian BPF object; compile with `-target bpfel` (or `-target bpf` on x86)".into(),
        );
    }
    let section_data = |name: &str| -> Result<Vec<u8>, ReadError> {
        let s = elf
            .section_by_name(name)
            .ok_or_else(|| format!("no `{name}` section: compile with `-g` (and strip with `llvm-strip -g`, which keeps BTF)"))?;
        s.data()
            .map(<[u8]>::to_vec)
            .map_err(|e| format!("`{name}`: {e}"))
    };
    let raw_btf = section_data(".BTF")?;
    let raw_ext = section_data(".BTF.ext")?;
    let text_sections: HashSet<usize> = elf
        .sections()
        .filter(|s| s.name().is_ok_and(|n| n.starts_with(".text")))
        .map(|s| s.index().0)
        .collect();
    let section_names: HashMap<usize, String> = elf
        .sections()
        .filter_map(|s| Some((s.index().0, s.name().ok()?.to_string())))
        .collect();

    let mut obj = Object::parse(data).map_err(|e| format!("cannot read the BPF object: {e}"))?;
    let relos = core_relos(&raw_btf, &raw_ext)?;
    let btf_ids = obj.btf.clone().ok_or("the object has no BTF")?;

    // Maps in name order: their index is what instructions refer to.
    let mut map_names: Vec<String> = obj.maps.keys().cloned().collect();
    map_names.sort();
    let maps: Vec<Map> = map_names.iter().map(|n| obj.maps[n].clone()).collect();
    obj.relocate_maps(
        map_names
            .iter()
            .zip(&maps)
            .enumerate()
            .map(|(i, (n, m))| (n.as_str(), i as i32, m)),
        &text_sections,
    )
    .map_err(|e| format!("relocating map references: {e}"))?;

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
    obj.relocate_calls(&text_sections)
        .map_err(|e| format!("linking subprograms: {e}"))?;
    let features = BtfFeatures::new(true, true, true, false, true, true, true, true);
    let btf = obj
        .fixup_and_sanitize_btf(&features)
        .map_err(|e| format!("fixing up BTF: {e}"))?
        .ok_or("the object's BTF is empty")?
        .to_bytes();

    let mut map_models = Vec::new();
    for (name, map) in map_names.iter().zip(&maps) {
        check_map_type(name, map.map_type())?;
        let internal = matches!(
            map.section_kind(),
            aya_obj::EbpfSectionKind::Data
                | aya_obj::EbpfSectionKind::Rodata
                | aya_obj::EbpfSectionKind::Bss
        );
        let (btf_key_type_id, btf_value_type_id) = match map {
            Map::Btf(m) => (m.def.btf_key_type_id, m.def.btf_value_type_id),
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
        map_models.push(MapModel {
            name: name.clone(),
            internal,
            map_type: map.map_type(),
            key_size: map.key_size(),
            value_size: map.value_size(),
            max_entries: map.max_entries(),
            map_flags: map.map_flags(),
            map_extra: map.map_extra(),
            btf_key_type_id,
            btf_value_type_id,
            initial_value: (data_section && map.data().iter().any(|&b| b != 0))
                .then(|| map.data().to_vec()),
            freeze: rodata,
        });
    }

    let mut prog_names: Vec<&String> = obj.programs.keys().collect();
    prog_names.sort();
    let mut programs = Vec::new();
    for name in prog_names {
        let program = &obj.programs[name];
        let section = section_names
            .get(&program.section_index)
            .cloned()
            .unwrap_or_default();
        let (kind, sleepable) = classify(&section).map_err(|e| format!("program `{name}`: {e}"))?;
        let func = &obj.functions[&program.function_key()];

        let mut core = Vec::new();
        for placed in &func.func_info.func_info {
            let Some(span) = spans.get(&placed.type_id) else {
                continue;
            };
            let Some(records) = relos.get(&span.section) else {
                continue;
            };
            let range = span.offset..span.offset + span.len * INSN_SIZE;
            for r in records
                .iter()
                .filter(|r| range.contains(&(r.insn_off as usize)))
            {
                let insn_off =
                    placed.insn_off as usize * INSN_SIZE + (r.insn_off as usize - span.offset);
                for v in [insn_off as u32, r.type_id, r.access_str_off, r.kind] {
                    core.extend_from_slice(&v.to_le_bytes());
                }
            }
        }

        programs.push(ProgramModel {
            name: name.clone(),
            section,
            kind,
            sleepable,
            license: program.license.to_string_lossy().into_owned(),
            insns: insn_bytes(&func.instructions),
            func_info: func.func_info.func_info_bytes(),
            line_info: func.line_info.line_info_bytes(),
            core_relos: core,
        });
    }
    if programs.is_empty() {
        return Err("the object has no programs".into());
    }
    Ok(Model {
        btf,
        maps: map_models,
        programs,
    })
}
