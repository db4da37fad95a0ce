//! Maps, as libbpf makes them: BTF-defined maps of `.maps` (`parse_btf_map_def`,
//! inner maps and the slots `.values = { ... }` initialises), one global-data map per
//! `.data*`, `.rodata*` and `.bss*` section, and the `.kconfig` map of Kconfig
//! externs. Sizes the loader sets at load time are left as the object gives them;
//! `validate` applies the attribute's `max_entries(...)` and the loader's rules.

use super::btf::{Btf, Kind};
use super::elf::{Elf, Place, Role};
use super::externs::Kconfig;
use super::{MapModel, ReadError, Slot, SlotTarget, StructOpsMember, StructOpsModel};

use bpf_preload_uapi::{
    BPF_F_LINK, BPF_F_MMAPABLE, BPF_F_RDONLY_PROG, BPF_MAP_TYPE_ARENA, BPF_MAP_TYPE_ARRAY,
    BPF_MAP_TYPE_ARRAY_OF_MAPS, BPF_MAP_TYPE_HASH_OF_MAPS, BPF_MAP_TYPE_PROG_ARRAY,
    BPF_MAP_TYPE_STRUCT_OPS,
};

/// A BTF-defined map's fields, before they become a [`MapModel`].
#[derive(Default)]
struct Def {
    map_type: u32,
    key_size: Option<u32>,
    value_size: Option<u32>,
    max_entries: u32,
    map_flags: u32,
    map_extra: u64,
    numa_node: u32,
    key_type_id: u32,
    value_type_id: u32,
    inner: Option<Box<MapModel>>,
    /// Byte offset of `values` in the definition, for its slots.
    values_at: Option<u32>,
    /// `__uint(pinning, LIBBPF_PIN_BY_NAME)`.
    shared: bool,
}

/// libbpf's `LIBBPF_PIN_NONE` and `LIBBPF_PIN_BY_NAME` (`enum libbpf_pin_type`).
const LIBBPF_PIN_NONE: u32 = 0;
const LIBBPF_PIN_BY_NAME: u32 = 1;

/// `__uint(name, N)`: a pointer to an array of N elements.
fn int_field(btf: &Btf<'_>, map: &str, field: &str, ty: u32) -> Result<u32, ReadError> {
    let bad = || {
        format!(
            "map `{map}`: field `{field}` is not written `__uint({field}, N)` (a pointer to an \
             array of N)"
        )
    };
    let Some((_, Kind::Ptr { target })) = btf.resolved(ty) else {
        return Err(bad());
    };
    match btf.get(*target).map(|t| &t.kind) {
        Some(Kind::Array { nelems, .. }) => Ok(*nelems),
        _ => Err(bad()),
    }
}

/// `__ulong(name, N)`: an enum whose one enumerator is N (an `ENUM64` past 32 bits),
/// or `__uint(name, N)`, as libbpf's `get_map_field_long` reads it. Unlike libbpf, which
/// sign-extends every 32-bit enumerator, an enum's value is read as its BTF says
/// (signed only with `kind_flag`), so that an address at or above 2 GiB stays itself.
fn long_field(btf: &Btf<'_>, map: &str, field: &str, ty: u32) -> Result<u64, ReadError> {
    let id = match btf.resolved(ty) {
        Some((_, Kind::Ptr { .. })) => return int_field(btf, map, field, ty).map(u64::from),
        Some((id, Kind::Enum { .. } | Kind::Enum64 { .. })) => id,
        _ => {
            return Err(format!(
                "map `{map}`: field `{field}` is written neither `__ulong({field}, N)` (an enum \
                 of one enumerator N) nor `__uint({field}, N)`"
            ))
        }
    };
    let values = btf
        .enumerators(id)
        .map(|(_, values)| values)
        .unwrap_or_default();
    match values.as_slice() {
        &[(_, value)] => Ok(value as u64),
        _ => Err(format!(
            "map `{map}`: field `{field}` is an enum of {} enumerators, not \
             `__ulong({field}, N)` (an enum of one, N)",
            values.len()
        )),
    }
}

/// `__type(key, T)`: a pointer to T; its id and size.
fn type_field(btf: &Btf<'_>, map: &str, field: &str, ty: u32) -> Result<(u32, u32), ReadError> {
    let Some((_, Kind::Ptr { target })) = btf.resolved(ty) else {
        return Err(format!(
            "map `{map}`: field `{field}` is not written `__type({field}, T)` (a pointer to T)"
        ));
    };
    let size = btf.size_of(*target).ok_or_else(|| {
        format!(
            "map `{map}`: its {field} type `{}` has no size (or one past 4 GiB)",
            btf.name(*target)
        )
    })?;
    Ok((*target, size))
}

/// libbpf's `parse_btf_map_def`.
fn parse_def(btf: &Btf<'_>, map: &str, ty: u32, inner: bool) -> Result<Def, ReadError> {
    let Some((_, Kind::Struct { members, .. })) = btf.resolved(ty) else {
        return Err(format!(
            "map `{map}` is not a struct in `.maps`: declare maps as `struct {{ __uint(type, \
             ...); ... }} {map} SEC(\".maps\");`"
        ));
    };
    let mut def = Def::default();
    for m in members {
        let field = btf.string(m.name_off).unwrap_or_default();
        let int = || int_field(btf, map, &field, m.target);
        match field.as_str() {
            "type" => def.map_type = int()?,
            "max_entries" => def.max_entries = int()?,
            "map_flags" => def.map_flags = int()?,
            "numa_node" => def.numa_node = int()?,
            "map_extra" => def.map_extra = long_field(btf, map, &field, m.target)?,
            // As libbpf: a map pinned by name is shared with every object that
            // declares it, the first to load creates it; an inner map is never pinned.
            "pinning" => match int()? {
                LIBBPF_PIN_NONE => {}
                LIBBPF_PIN_BY_NAME if inner => {
                    return Err(format!(
                        "map `{map}`: an inner map cannot be pinned (`__uint(pinning, \
                         LIBBPF_PIN_BY_NAME)`): only its outer map can be shared"
                    ))
                }
                LIBBPF_PIN_BY_NAME => def.shared = true,
                other => {
                    return Err(format!(
                        "map `{map}`: pinning {other} is neither LIBBPF_PIN_NONE (0) nor \
                         LIBBPF_PIN_BY_NAME (1), the two libbpf knows"
                    ))
                }
            },
            "key_size" | "value_size" => {
                let size = int()?;
                let slot = if field == "key_size" {
                    &mut def.key_size
                } else {
                    &mut def.value_size
                };
                if slot.is_some_and(|s| s != size) {
                    return Err(format!(
                        "map `{map}`: conflicting {field} {size} and {}",
                        slot.unwrap_or_default()
                    ));
                }
                *slot = Some(size);
            }
            "key" | "value" => {
                let (id, size) = type_field(btf, map, &field, m.target)?;
                let (slot, type_id) = if field == "key" {
                    (&mut def.key_size, &mut def.key_type_id)
                } else {
                    (&mut def.value_size, &mut def.value_type_id)
                };
                if slot.is_some_and(|s| s != size) {
                    return Err(format!(
                        "map `{map}`: conflicting {field} size {size} and {}",
                        slot.unwrap_or_default()
                    ));
                }
                *slot = Some(size);
                *type_id = id;
            }
            "values" if !inner => {
                let elem = match btf.resolved(m.target) {
                    Some((_, Kind::Array { elem, nelems: 0 })) => *elem,
                    _ => {
                        return Err(format!(
                            "map `{map}`: `values` is not written `__array(values, ...)` (a \
                             zero-sized array of pointers)"
                        ))
                    }
                };
                let Some((_, Kind::Ptr { target })) = btf.resolved(elem) else {
                    return Err(format!("map `{map}`: `values` is not an array of pointers"));
                };
                match btf.resolved(*target) {
                    Some((_, Kind::FuncProto)) => {}
                    Some((id, Kind::Struct { .. })) => {
                        let inner_name = format!("{map}.inner");
                        let d = parse_def(btf, &inner_name, id, true)?;
                        def.inner = Some(Box::new(model(inner_name, d)?));
                    }
                    _ => {
                        return Err(format!(
                            "map `{map}`: `values` must point to a map definition (a map of \
                             maps) or a function prototype (a program array)"
                        ))
                    }
                }
                if def.value_size.is_some_and(|s| s != 4) {
                    return Err(format!(
                        "map `{map}`: a map of maps or program array holds 4-byte ids, not \
                         values of {} bytes",
                        def.value_size.unwrap_or_default()
                    ));
                }
                def.value_size = Some(4);
                def.values_at = Some(m.offset / 8);
            }
            _ => {
                return Err(format!(
                    "map `{map}` has field `{field}`, which libbpf does not know: use type, \
                     key, value, key_size, value_size, max_entries, map_flags, numa_node, \
                     map_extra, pinning{}",
                    if inner { "" } else { " or values" }
                ))
            }
        }
    }
    if def.numa_node != 0 {
        return Err(format!(
            "map `{map}` asks for NUMA node {}, which the table cannot carry",
            def.numa_node
        ));
    }
    let outer = matches!(
        def.map_type,
        BPF_MAP_TYPE_ARRAY_OF_MAPS | BPF_MAP_TYPE_HASH_OF_MAPS
    );
    // A map of maps without `__array(values, ...)` is completed by its loader
    // (`bpf_map__set_inner_map_fd`): the attribute's `inner_map(...)` (codegen).
    if def.inner.is_some() && !outer {
        return Err(format!(
            "map `{map}` declares an inner map with `__array(values, struct ...)` but is not a \
             map of maps (BPF_MAP_TYPE_ARRAY_OF_MAPS or BPF_MAP_TYPE_HASH_OF_MAPS)"
        ));
    }
    if def.values_at.is_some() && def.inner.is_none() && def.map_type != BPF_MAP_TYPE_PROG_ARRAY {
        return Err(format!(
            "map `{map}` lists program slots in `values` but is not a program array \
             (BPF_MAP_TYPE_PROG_ARRAY)"
        ));
    }
    Ok(def)
}

fn model(name: String, def: Def) -> Result<MapModel, ReadError> {
    Ok(MapModel {
        name,
        internal: false,
        map_type: def.map_type,
        key_size: def.key_size.unwrap_or(0),
        value_size: def.value_size.unwrap_or(0),
        max_entries: def.max_entries,
        map_flags: def.map_flags,
        map_extra: def.map_extra,
        btf_key_type_id: def.key_type_id,
        btf_value_type_id: def.value_type_id,
        initial_value: None,
        freeze: false,
        inner: def.inner,
        slots: Vec::new(),
        kconfig: Vec::new(),
        struct_ops: None,
        globals: Vec::new(),
        shared: def.shared,
    })
}

/// Every map of the object, sorted by name (instructions refer to them by index).
pub fn read(
    elf: &Elf<'_>,
    btf: Option<&Btf<'_>>,
    kconfig: &Kconfig,
) -> Result<Vec<MapModel>, ReadError> {
    let mut maps = Vec::new();
    for section in &elf.sections {
        match section.role {
            Role::LegacyMaps if section.size > 0 => {
                return Err(format!(
                    "section `{}` holds legacy map definitions (`struct bpf_map_def` in \
                     SEC(\"maps\")), which libbpf 1.0 dropped too: declare BTF-defined maps in \
                     SEC(\".maps\")",
                    section.name
                ))
            }
            Role::StructOps if section.size > 0 => {
                maps.extend(struct_ops(elf, btf, section.index)?);
            }
            Role::Maps => {
                let Some(btf) = btf else {
                    return Err(
                        "the object declares maps in SEC(\".maps\") but has no BTF, which \
                         describes them: compile with `-g`"
                            .into(),
                    );
                };
                let Some((_, entries)) = btf.datasec(".maps") else {
                    continue;
                };
                for e in entries {
                    let name = btf.name(e.target);
                    let Some(Kind::Var { target, .. }) = btf.get(e.target).map(|t| &t.kind) else {
                        continue;
                    };
                    let def = parse_def(btf, &name, *target, false)?;
                    let values_at = def.values_at;
                    let mut map = model(name.clone(), def)?;
                    if let Some(values_at) = values_at {
                        map.slots = slots(elf, section.index, &name, values_at, &map)?;
                    }
                    maps.push(map);
                }
            }
            role if role.is_data() && section.size > 0 => {
                let name = section.name.clone();
                let Ok(value_size) = u32::try_from(section.size) else {
                    return Err(format!("section `{name}` is larger than 4 GiB"));
                };
                let rodata = role == Role::Rodata;
                // Mmapable, as Debian's libbpf (1.1) makes every global-data map (1.5
                // leaves out sections with only static variables).
                let mut map_flags = BPF_F_MMAPABLE;
                if rodata {
                    map_flags |= BPF_F_RDONLY_PROG;
                }
                let initial_value = (role != Role::Bss && section.data.iter().any(|&b| b != 0))
                    .then(|| section.data.to_vec());
                maps.push(MapModel {
                    btf_value_type_id: btf.and_then(|b| b.datasec(&name)).map_or(0, |d| d.0),
                    name,
                    internal: true,
                    map_type: BPF_MAP_TYPE_ARRAY,
                    key_size: 4,
                    value_size,
                    max_entries: 1,
                    map_flags,
                    map_extra: 0,
                    btf_key_type_id: 0,
                    initial_value,
                    freeze: rodata,
                    inner: None,
                    slots: Vec::new(),
                    kconfig: Vec::new(),
                    struct_ops: None,
                    globals: super::globals::read(elf, btf, section),
                    shared: false,
                });
            }
            _ => {}
        }
    }
    if !kconfig.vars.is_empty() {
        maps.push(MapModel {
            name: ".kconfig".into(),
            internal: true,
            map_type: BPF_MAP_TYPE_ARRAY,
            key_size: 4,
            value_size: kconfig.size,
            max_entries: 1,
            map_flags: BPF_F_RDONLY_PROG | BPF_F_MMAPABLE,
            map_extra: 0,
            btf_key_type_id: 0,
            btf_value_type_id: btf.and_then(|b| b.datasec(".kconfig")).map_or(0, |d| d.0),
            initial_value: None,
            freeze: true,
            inner: None,
            slots: Vec::new(),
            kconfig: kconfig.vars.clone(),
            struct_ops: None,
            globals: Vec::new(),
            shared: false,
        });
    }
    arena(elf, &mut maps)?;
    maps.sort_by(|a, b| a.name.cmp(&b.name));
    for pair in maps.windows(2) {
        if pair[0].name == pair[1].name {
            return Err(format!(
                "two maps are named `{}`: map names must be unique",
                pair[0].name
            ));
        }
    }
    Ok(maps)
}

/// The object's arena, as libbpf 1.4 and later take it: at most one
/// `BPF_MAP_TYPE_ARENA` map, which holds the `__arena` globals of `.addr_space.1` as
/// its initial value, written at its start once it is created (the whole section,
/// zeroes too: writing a page is what gives the arena that page, and an arena page a
/// program reaches before it exists reads as zero and drops what is stored to it).
fn arena(elf: &Elf<'_>, maps: &mut [MapModel]) -> Result<(), ReadError> {
    let mut arenas = maps.iter_mut().filter(|m| m.map_type == BPF_MAP_TYPE_ARENA);
    let arena = arenas.next();
    if let (Some(first), Some(second)) = (arena.as_ref(), arenas.next()) {
        return Err(format!(
            "maps `{}` and `{}` are both arenas (BPF_MAP_TYPE_ARENA): an object has at most \
             one, as libbpf supports",
            first.name, second.name
        ));
    }
    let Some(section) = elf.sections.iter().find(|s| s.role == Role::Arena) else {
        return Ok(());
    };
    let Some(arena) = arena else {
        return Err(format!(
            "section `{}` holds `__arena` globals but the object declares no arena map \
             (BPF_MAP_TYPE_ARENA) in SEC(\".maps\") for them to live in",
            section.name
        ));
    };
    // The arena's size is in pages; no Linux page is smaller than 4 KiB.
    if section.size > u64::from(arena.max_entries) * MIN_PAGE_SIZE {
        return Err(format!(
            "map `{}`: max_entries {} (pages of 4 KiB) cannot hold the {} bytes of \
             `__arena` globals in `{}`",
            arena.name, arena.max_entries, section.size, section.name
        ));
    }
    arena.initial_value = Some(section.data.to_vec());
    Ok(())
}

/// The smallest page size of any architecture Linux runs BPF on.
const MIN_PAGE_SIZE: u64 = 4096;

/// The slots `.values = { [i] = &x }` initialises: relocations in `.maps` that fall
/// in `map`'s `values` array, each naming a map (a map of maps) or a program (a
/// program array), as libbpf's `bpf_object__collect_map_relos`.
fn slots(
    elf: &Elf<'_>,
    maps_section: usize,
    map: &str,
    values_at: u32,
    model: &MapModel,
) -> Result<Vec<Slot>, ReadError> {
    let Some(section) = elf.section(maps_section) else {
        return Ok(Vec::new());
    };
    let Some(var) = elf.symbols_in(maps_section).find(|s| s.name == map) else {
        return Ok(Vec::new());
    };
    let start = var.value + u64::from(values_at);
    let end = var.value + var.size.max(u64::from(values_at));
    let mut out = Vec::new();
    for (&offset, rel) in section.relocations.range(start..end.max(start)) {
        if (offset - start) % 8 != 0 {
            return Err(format!(
                "map `{map}`: a `values` initialiser at byte {offset} of `.maps` is not on a \
                 slot"
            ));
        }
        let index = ((offset - start) / 8) as u32;
        if index >= model.max_entries {
            return Err(format!(
                "map `{map}` initialises slot {index}, past its max_entries {}",
                model.max_entries
            ));
        }
        let Some(target) = elf.symbol(rel.symbol) else {
            continue;
        };
        let Place::Section(s) = target.place else {
            return Err(format!(
                "map `{map}`: slot {index} refers to `{}`, which the object does not define",
                target.name
            ));
        };
        let role = elf.section(s).map(|s| s.role);
        let slot = match (model.inner.is_some(), role) {
            (true, Some(Role::Maps)) => SlotTarget::Map(target.name.clone()),
            (false, Some(Role::Program)) => SlotTarget::Program(target.name.clone()),
            _ => {
                return Err(format!(
                    "map `{map}`: slot {index} refers to `{}`, which is not a {}",
                    target.name,
                    if model.inner.is_some() {
                        "map of `.maps`"
                    } else {
                        "program"
                    }
                ))
            }
        };
        out.push(Slot {
            index,
            target: slot,
        });
    }
    Ok(out)
}

/// libbpf's `bpf_core_essential_name_len`: a name up to its last `X___Y` flavor.
fn essential_name(name: &str) -> &str {
    let b = name.as_bytes();
    (0..b.len().saturating_sub(4))
        .rev()
        .find(|&i| b[i] != b'_' && &b[i + 1..i + 4] == b"___" && b[i + 4] != b'_')
        .map_or(name, |i| &name[..=i])
}

/// The maps of a `.struct_ops` or `.struct_ops.link` section, one per variable, as
/// libbpf's `init_struct_ops_maps` and `bpf_object__collect_st_ops_relos` make them:
/// the variable's bytes, its struct's members, and the programs its function
/// pointers are initialised with (relocations in the section).
fn struct_ops(
    elf: &Elf<'_>,
    btf: Option<&Btf<'_>>,
    index: usize,
) -> Result<Vec<MapModel>, ReadError> {
    let Some(section) = elf.section(index) else {
        return Ok(Vec::new());
    };
    let sec = &section.name;
    let Some(btf) = btf else {
        return Err(format!(
            "section `{sec}` declares struct_ops maps, which need BTF (the kernel lays out \
             their values by it): compile with `-g`"
        ));
    };
    let Some((_, entries)) = btf.datasec(sec) else {
        return Err(format!(
            "section `{sec}` has no DATASEC in the object's BTF"
        ));
    };
    let mut maps = Vec::new();
    for e in entries {
        let name = btf.name(e.target);
        let Some(Kind::Var { target, .. }) = btf.get(e.target).map(|t| &t.kind) else {
            continue;
        };
        let Some((type_id, Kind::Struct { size, members })) = btf.resolved(*target) else {
            return Err(format!(
                "struct_ops map `{name}` (section `{sec}`) is not a struct: a struct_ops map is \
                 a variable of the kernel struct it implements, e.g. `struct \
                 tcp_congestion_ops {name} = {{ ... }}`"
            ));
        };
        let type_name = btf.name(type_id);
        if type_name.is_empty() {
            return Err(format!(
                "struct_ops map `{name}` is of an anonymous struct: the kernel finds its \
                 layout by the struct's name"
            ));
        }
        // Where the variable is: its symbol's value (clang may leave the DATASEC's
        // offsets 0; libbpf reads them after `btf_fixup_datasec`, from the symbols).
        let start = elf
            .symbols_in(index)
            .find(|s| s.name == name)
            .map_or(u64::from(e.offset), |s| s.value);
        let data = usize::try_from(start)
            .ok()
            .and_then(|at| section.data.get(at..at.checked_add(*size as usize)?))
            .ok_or_else(|| format!("struct_ops map `{name}` lies beyond the end of `{sec}`"))?
            .to_vec();
        let mut model_members = Vec::new();
        for m in members {
            let member = btf.string(m.name_off).unwrap_or_default();
            let bitfield = btf.struct_has_kind_flag(type_id) && m.offset >> 24 != 0;
            if bitfield {
                return Err(format!(
                    "struct_ops map `{name}`: member `{member}` is a bitfield, which libbpf \
                     does not lay out either"
                ));
            }
            let offset = (if btf.struct_has_kind_flag(type_id) {
                m.offset & 0xff_ffff
            } else {
                m.offset
            }) / 8;
            let size = btf
                .size_of(m.target)
                .ok_or_else(|| format!("struct_ops map `{name}`: member `{member}` has no size"))?;
            let resolved = btf.resolve(m.target).unwrap_or(0);
            model_members.push(StructOpsMember {
                name: member,
                offset,
                size,
                kind: btf.kind_number(resolved),
                program: None,
            });
        }
        // Function pointers initialised with programs: relocations in the variable.
        for (&at, rel) in section.relocations.range(start..start + u64::from(*size)) {
            let moff = (at - start) as u32;
            let Some(member) = model_members.iter_mut().find(|m| m.offset == moff) else {
                return Err(format!(
                    "struct_ops map `{name}`: a relocation at byte {moff} is not at a member"
                ));
            };
            let is_func_ptr = matches!(
                members.iter().find(|m| btf.string(m.name_off).as_deref() == Some(&member.name))
                    .and_then(|m| btf.resolved(m.target)),
                Some((_, Kind::Ptr { target })) if matches!(btf.resolved(*target), Some((_, Kind::FuncProto)))
            );
            if !is_func_ptr {
                return Err(format!(
                    "struct_ops map `{name}`: member `{}` is initialised with an address but \
                     is not a function pointer",
                    member.name
                ));
            }
            let target = elf.symbol(rel.symbol);
            let function = target.and_then(|t| match t.place {
                Place::Section(s) if t.value % 8 == 0 => {
                    elf.functions.get(&(s, (t.value / 8) as usize))
                }
                _ => None,
            });
            let Some(function) = function else {
                return Err(format!(
                    "struct_ops map `{name}`: member `{}` points to `{}`, which is not a \
                     program of the object",
                    member.name,
                    target.map_or("?", |t| t.name.as_str())
                ));
            };
            member.program = Some(function.name.clone());
        }
        maps.push(MapModel {
            name,
            internal: false,
            map_type: BPF_MAP_TYPE_STRUCT_OPS,
            key_size: 4,
            // The kernel's size replaces it at load time.
            value_size: *size,
            max_entries: 1,
            map_flags: if sec.ends_with(".link") {
                BPF_F_LINK
            } else {
                0
            },
            map_extra: 0,
            btf_key_type_id: 0,
            btf_value_type_id: 0,
            initial_value: None,
            freeze: false,
            inner: None,
            slots: Vec::new(),
            kconfig: Vec::new(),
            struct_ops: Some(StructOpsModel {
                autocreate: !sec.starts_with('?'),
                type_name: essential_name(&type_name).to_string(),
                data,
                members: model_members,
            }),
            globals: Vec::new(),
            shared: false,
        });
    }
    Ok(maps)
}
