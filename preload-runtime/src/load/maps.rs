//! Steps on maps: create each (its inner map first, as the template of a map of
//! maps), write its initial value, fill the slots of maps of maps and program arrays,
//! and freeze what the table says to freeze, when it says.

use alloc::vec::Vec;

use super::struct_ops::Translated;
use crate::abi;
use crate::backend::{Backend, MapDef};
use crate::errno::Errno;
use crate::error::{at, Failed, Step};
use crate::kconfig;
use crate::loaded::{Loaded, Sharing};
use crate::params::Params;
use crate::sys::Fd;
use crate::sys::{self, MapFd, MapSpec};
use crate::table::{Freeze, Map, SlotTarget};

/// Creates every map (parallel to `struct_ops`, each struct_ops map's value laid out
/// for the running kernel), writes its initial value and freezes it if it is frozen
/// once initialised. `params` holds the initial values parameters changed.
pub(super) fn create<B: Backend>(
    loaded: &mut Loaded<B::Pin>,
    struct_ops: &[Option<Translated>],
    params: &Params,
    backend: &mut B,
) -> Result<(), Failed> {
    let object = loaded.object();
    if let Some(first) = object.maps.first() {
        (loaded.maps.try_reserve_exact(object.maps.len())).map_err(|_| {
            Step::CreateMap {
                map: first.name.as_str(),
            }
            .failed(Errno::ENOMEM)
        })?;
    }
    let btf = loaded.btf.map(|fd| (fd, object.btf.as_slice()));
    for (i, (map, ops)) in object.maps.iter().zip(struct_ops).enumerate() {
        if map.shared {
            // Room first, so that a map reused or shared is always recorded.
            (loaded.sharing.try_reserve(1)).map_err(|_| {
                Step::FindShared {
                    map: map.name.as_str(),
                }
                .failed(Errno::ENOMEM)
            })?;
            if let Some(fd) = reuse(map, backend)? {
                // As libbpf: neither initialised nor frozen, its slots not filled
                // again; the object that created it did that.
                loaded.maps.push((map, fd));
                loaded.sharing.push((map, Sharing::Reused));
                continue;
            }
        }
        let fd = create_one(map, ops.as_ref(), btf, backend)?;
        loaded.maps.push((map, fd));
        initialise(map, params.initial_value(i), &fd, backend)?;
        freeze_if_due(map, fd.fd, Freeze::Initialised, backend)?;
        if map.shared {
            let step = Step::Share {
                map: map.name.as_str(),
            };
            backend
                .share_map(fd.fd, map.name.as_str())
                .map_err(at(step))?;
            loaded.sharing.push((map, Sharing::Shared));
        }
    }
    Ok(())
}

/// The map another object shared under `map`'s name, if there is one and its
/// definition is `map`'s (libbpf's `bpf_object__reuse_map`); a differing one fails
/// the load, naming the first field that differs.
fn reuse<B: Backend>(map: &'static Map, backend: &mut B) -> Result<Option<MapFd>, Failed> {
    let name = map.name.as_str();
    let Some((fd, shared)) = backend
        .shared_map(name)
        .map_err(at(Step::FindShared { map: name }))?
    else {
        return Ok(None);
    };
    let ours = MapDef {
        map_type: map.map_type,
        key_size: map.key_size,
        value_size: map.value_size,
        max_entries: match max_entries(map, backend) {
            Ok(n) => n,
            Err(failed) => {
                backend.close(fd);
                return Err(failed);
            }
        },
        map_flags: map.map_flags,
        map_extra: map.map_extra,
    };
    let fields = [
        ("type", shared.map_type.into(), ours.map_type.into()),
        ("key size", shared.key_size.into(), ours.key_size.into()),
        (
            "value size",
            shared.value_size.into(),
            ours.value_size.into(),
        ),
        (
            "max_entries",
            shared.max_entries.into(),
            ours.max_entries.into(),
        ),
        ("map_flags", shared.map_flags.into(), ours.map_flags.into()),
        ("map_extra", shared.map_extra, ours.map_extra),
    ];
    if let Some(&(field, shared, ours)) = fields.iter().find(|(_, s, o)| s != o) {
        backend.close(fd);
        let step = Step::ReuseShared {
            map: name,
            field,
            shared,
            ours,
        };
        return Err(step.failed(Errno::EINVAL));
    }
    Ok(Some(MapFd::of(fd, ours.key_size, ours.value_size)))
}

/// The entries `map` is created with: a perf event array declared without any has
/// one per possible CPU, as libbpf gives it.
fn max_entries<B: Backend>(map: &Map, backend: &mut B) -> Result<u32, Failed> {
    if map.max_entries == 0 && map.map_type == abi::BPF_MAP_TYPE_PERF_EVENT_ARRAY {
        return backend.possible_cpus().map_err(at(Step::CountCpus {
            map: map.name.as_str(),
        }));
    }
    Ok(map.max_entries)
}

/// `BPF_MAP_CREATE` of `map`, with its inner map as the template of a map of maps
/// (created first, closed once the outer map exists). A struct_ops map takes its
/// value's size and type from the kernel (`struct_ops`). `btf` is the object's BTF:
/// its fd and its bytes.
fn create_one<B: Backend>(
    map: &Map,
    struct_ops: Option<&Translated>,
    btf: Option<(Fd, &[u8])>,
    backend: &mut B,
) -> Result<MapFd, Failed> {
    let step = Step::CreateMap {
        map: map.name.as_str(),
    };
    let has_btf = map.btf_key_type_id != 0 || map.btf_value_type_id != 0 || struct_ops.is_some();
    let max_entries = max_entries(map, backend)?;
    let inner = match map.inner {
        Some(inner) => Some(create_one(inner, None, btf, backend)?),
        None => None,
    };
    let mut spec = MapSpec {
        map_type: map.map_type,
        key_size: map.key_size,
        value_size: map.value_size,
        max_entries,
        map_flags: map.map_flags,
        inner_map_fd: inner.map(|m| m.fd),
        name: map.kernel_name.as_str(),
        btf: btf
            .filter(|_| has_btf)
            .map(|(fd, _)| (fd, map.btf_key_type_id, map.btf_value_type_id)),
        btf_vmlinux_value_type_id: 0,
        map_extra: map.map_extra,
    };
    if let Some(t) = struct_ops {
        spec.value_size = t.value.len() as u32;
        spec.btf_vmlinux_value_type_id = t.value_type_id;
    }
    let result = match sys::map_create(backend, &spec) {
        Err(with_btf) if retries_without_btf(map, &spec, with_btf, btf) => {
            spec.btf = None;
            let step = Step::CreateMapWithoutBtf {
                map: map.name.as_str(),
                with_btf,
            };
            sys::map_create(backend, &spec).map_err(at(step))
        }
        result => result.map_err(at(step)),
    };
    if let Some(inner) = inner {
        // The outer map keeps what it needs of its template.
        backend.close(inner.fd);
    }
    result
}

/// Whether a map the kernel refused with its BTF key and value types is created again
/// without them, as libbpf's `bpf_object__create_map` retries ("Retrying without
/// BTF"): an LPM trie whose key is an array (`__type(key, __u8[8])`), which the kernel
/// accepts only as a struct, loads that way.
///
/// As libbpf: only a map given key or value type ids (struct_ops maps, which take
/// their value type from the kernel, never are). Unlike libbpf, which retries
/// whatever the error: only on what the kernel answers to types it refuses (`EINVAL`,
/// `EOPNOTSUPP`, and `ENOTSUPP` from a map type that takes no BTF), so that a
/// transient failure or a missing privilege (`EINTR`, `ENOMEM`, `EPERM`) is reported
/// as it is rather than hidden by a map that silently lost its types; and never for a
/// map that needs its BTF, whose value holds what the kernel knows only from it
/// (`bpf_spin_lock`, `bpf_timer`, kptrs...): without it the map would be created but
/// useless to its programs, so the first error stands.
fn retries_without_btf(
    map: &Map,
    spec: &MapSpec<'_>,
    errno: Errno,
    btf: Option<(Fd, &[u8])>,
) -> bool {
    let typed = spec
        .btf
        .is_some_and(|(_, key, value)| key != 0 || value != 0);
    let refused_types = matches!(errno, Errno::EINVAL | Errno::EOPNOTSUPP | Errno::ENOTSUPP);
    typed && refused_types && map.struct_ops.is_none() && !needs_btf(map, btf)
}

/// Whether `map`'s value holds a field the kernel knows only from its BTF. Read from
/// the object's BTF only when a creation with it failed; BTF this reader cannot
/// follow counts as not needing it (libbpf retries every map).
fn needs_btf(map: &Map, btf: Option<(Fd, &[u8])>) -> bool {
    let Some((_, bytes)) = btf else {
        return false;
    };
    crate::btf::RawBtf::parse(bytes)
        .ok()
        .and_then(|btf| btf.holds_special_fields(map.btf_value_type_id))
        .unwrap_or(false)
}

/// Writes a map's initial value: its section's bytes (`given`, when parameters
/// changed them), or the Kconfig values of the running kernel.
fn initialise<B: Backend>(
    map: &Map,
    given: Option<&[u8]>,
    fd: &MapFd,
    backend: &mut B,
) -> Result<(), Failed> {
    let kconfig_value;
    let value = if !map.kconfig.is_empty() {
        let config = backend.kernel_config().map_err(at(Step::ReadKconfig))?;
        // Fallible: in a module this runs in the kernel, where memory can run out.
        let mut value = Vec::new();
        (value.try_reserve_exact(map.value_size as usize))
            .map_err(|_| Step::ReadKconfig.failed(Errno::ENOMEM))?;
        value.resize(map.value_size as usize, 0);
        kconfig::fill(map.kconfig.as_slice(), &config, &mut value)?;
        kconfig_value = value;
        Some(&kconfig_value[..])
    } else {
        given.or(map.initial_value.map(|v| v.as_slice()))
    };
    if map.map_type == abi::BPF_MAP_TYPE_ARENA {
        // An arena has no elements: its globals are written through a mapping.
        let step = Step::MapArena {
            map: map.name.as_str(),
        };
        return (backend.map_arena(fd.fd, map.map_extra, map.max_entries, value)).map_err(at(step));
    }
    if let Some(value) = value {
        sys::map_update(backend, fd, &0u32.to_ne_bytes(), value).map_err(at(Step::InitMap {
            map: map.name.as_str(),
        }))?;
    }
    Ok(())
}

/// Freezes `map` if `now` is when the table says it is frozen: the one place that
/// decides (the guard freezes its own map once armed).
fn freeze_if_due<B: Backend>(
    map: &Map,
    fd: Fd,
    now: Freeze,
    backend: &mut B,
) -> Result<(), Failed> {
    if map.freeze != now || now == Freeze::Never {
        return Ok(());
    }
    sys::map_freeze(backend, fd).map_err(at(Step::FreezeMap {
        map: map.name.as_str(),
    }))
}

/// Freezes every map that is frozen at `now`.
pub(super) fn freeze<B: Backend>(
    loaded: &Loaded<B::Pin>,
    now: Freeze,
    backend: &mut B,
) -> Result<(), Failed> {
    for &(map, fd) in &loaded.maps {
        if !loaded.reused(map) {
            freeze_if_due(map, fd.fd, now, backend)?;
        }
    }
    Ok(())
}

/// Which slots [`fill_slots`] fills.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Holding {
    /// Those of maps of maps.
    Maps,
    /// Those of program arrays.
    Programs,
}

/// Fills the slots that hold maps, or programs, with their fds.
pub(super) fn fill_slots<B: Backend>(
    loaded: &Loaded<B::Pin>,
    holding: Holding,
    backend: &mut B,
) -> Result<(), Failed> {
    for (map, fd) in &loaded.maps {
        // The slots of a reused map of maps are its creator's (libbpf fills them
        // only in a map it created); a program array's are filled in every object.
        if holding == Holding::Maps && loaded.reused(map) {
            continue;
        }
        for slot in map.slots {
            let held = match (slot.target, holding) {
                (SlotTarget::Map(i), Holding::Maps) => loaded.maps[i].1.fd,
                (SlotTarget::Program(i), Holding::Programs) => loaded.programs[i].1,
                _ => continue,
            };
            let step = Step::FillSlot {
                map: map.name.as_str(),
                index: slot.index,
            };
            sys::map_update(backend, fd, &slot.index.to_ne_bytes(), &held.to_ne_bytes())
                .map_err(at(step))?;
        }
    }
    Ok(())
}
