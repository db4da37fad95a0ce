//! struct_ops maps: the object's value of a kernel struct (`tcp_congestion_ops`),
//! translated member by member, by name, into the running kernel's layout of it, as
//! libbpf's `bpf_map__init_kern_struct_ops` does. The kernel's BTF says the layout:
//! the map's value is `struct bpf_struct_ops_<T>`, whose `data` member is the `T`.

use alloc::vec::Vec;

use crate::abi;
use crate::backend::Backend;
use crate::btf::{RawBtf, BTF_KIND_FUNC_PROTO, BTF_KIND_PTR, BTF_KIND_STRUCT};
use crate::errno::Errno;
use crate::error::{at, Failed, Step};
use crate::loaded::{Loaded, Registration};
use crate::sys;
use crate::table::{Map, Object, StructOps};

/// The prefix of the kernel's value type for a struct_ops type.
const VALUE_PREFIX: &str = "bpf_struct_ops_";

/// A struct_ops map's value in the running kernel's layout.
#[derive(Debug)]
pub(crate) struct Translated {
    /// `struct bpf_struct_ops_<T>` in vmlinux: the map's `btf_vmlinux_value_type_id`.
    pub(crate) value_type_id: u32,
    /// `struct <T>` in vmlinux: its programs' `attach_btf_id`.
    pub(crate) type_id: u32,
    /// The map's value, function pointers still 0.
    pub(crate) value: Vec<u8>,
    /// Function pointers: (program, byte offset in `value` of its fd, the kernel
    /// member's index, the programs' `expected_attach_type`).
    pub(crate) programs: Vec<(usize, u32, u32)>,
}

/// The largest kernel struct_ops value accepted (the kernel's own are a few hundred
/// bytes to a few KiB): a size read from the kernel's BTF beyond this is an error, not
/// an allocation.
const MAX_VALUE_SIZE: usize = 1 << 20;

fn fail(map: &'static Map, member: Option<&'static str>, reason: &'static str) -> Step {
    Step::TranslateStructOps {
        map: map.name.as_str(),
        member,
        reason,
    }
}

/// Lays out `ops`, the value of struct_ops map `map`, as the kernel whose BTF is
/// `btf` has its struct.
fn translate_map(
    map: &'static Map,
    ops: &StructOps,
    btf: &RawBtf<'_>,
) -> Result<Translated, Failed> {
    let not_found = |reason| fail(map, None, reason).failed(Errno::ENOENT);
    let malformed = || fail(map, None, "the kernel's BTF is malformed").failed(Errno::EINVAL);
    let value_type_id = btf
        .find_prefixed(VALUE_PREFIX, ops.type_name.as_str(), BTF_KIND_STRUCT)
        .ok_or(not_found(
            "the running kernel has no struct bpf_struct_ops_<type>: it does not offer this \
         struct_ops type (or it is in a module, which bpf-preload does not search)",
        ))?;
    let type_id = btf
        .find(ops.type_name.as_str(), BTF_KIND_STRUCT)
        .ok_or(not_found(
            "the running kernel's BTF lacks the struct itself",
        ))?;
    let (vtype, ty) = match (btf.get(value_type_id), btf.get(type_id)) {
        (Some(v), Some(t)) => (v, t),
        _ => return Err(malformed()),
    };
    let data_member = btf
        .members(&vtype)
        .find(|m| m.type_id == type_id)
        .ok_or_else(|| {
            fail(
                map,
                None,
                "struct bpf_struct_ops_<type> holds no member of the type",
            )
            .failed(Errno::EINVAL)
        })?;
    let data_off = data_member.bit_offset / 8;
    // The size comes from the kernel: bounded before it is allocated, and allocated
    // fallibly (module init must fail, not panic, when memory is short).
    let size = btf.struct_size(&vtype) as usize;
    if size > MAX_VALUE_SIZE {
        return Err(fail(
            map,
            None,
            "the kernel's struct bpf_struct_ops_<type> is implausibly large",
        )
        .failed(Errno::E2BIG));
    }
    let out_of_memory = |_| fail(map, None, "out of memory").failed(Errno::ENOMEM);
    let mut value = Vec::new();
    value.try_reserve_exact(size).map_err(out_of_memory)?;
    value.resize(size, 0);
    let mut programs = Vec::new();
    programs
        .try_reserve_exact(
            ops.members
                .iter()
                .filter(|m| m.program.get().is_some())
                .count(),
        )
        .map_err(out_of_memory)?;

    for m in ops.members {
        let unsupported =
            |reason| fail(map, Some(m.name.as_str()), reason).failed(Errno::EOPNOTSUPP);
        let bytes = (m.offset as usize)
            .checked_add(m.size as usize)
            .and_then(|end| ops.data.get(m.offset as usize..end))
            .unwrap_or(&[]);
        let Some((index, kern)) = btf
            .members(&ty)
            .enumerate()
            .find(|(_, k)| btf.member_named(k, m.name.as_str()))
        else {
            // As libbpf: a member the kernel lacks may be left out if it is zero.
            if bytes.iter().all(|&b| b == 0) && m.program.get().is_none() {
                continue;
            }
            return Err(unsupported(
                "the running kernel's struct has no member of this name, and the object sets it",
            ));
        };
        if kern.bitfield_size != 0 {
            return Err(unsupported("it is a bitfield in the kernel's struct"));
        }
        let Some((_, kern_ty)) = btf.skip_mods(kern.type_id) else {
            return Err(unsupported("the kernel's BTF is malformed"));
        };
        if kern_ty.kind != m.kind {
            return Err(unsupported(
                "it is of another kind of type in the kernel's struct",
            ));
        }
        let Some(at) = data_off.checked_add(kern.bit_offset / 8) else {
            return Err(unsupported("it lies outside the kernel's struct"));
        };
        if kern_ty.kind == BTF_KIND_PTR {
            let Some(program) = m.program.get() else {
                continue;
            };
            let is_func = btf
                .pointee(&kern_ty)
                .and_then(|p| btf.skip_mods(p))
                .is_some_and(|(_, t)| t.kind == BTF_KIND_FUNC_PROTO);
            if !is_func {
                return Err(unsupported(
                    "it is not a function pointer in the kernel's struct",
                ));
            }
            // The loader writes the program's fd there as a u64.
            if at as usize + 8 > value.len() {
                return Err(unsupported("it lies outside the kernel's struct"));
            }
            // Within the capacity reserved above: one per member with a program.
            programs.push((program, at, index as u32));
            continue;
        }
        if btf.size_of(kern.type_id) != Some(m.size) {
            return Err(unsupported("its size differs in the kernel's struct"));
        }
        // Saturated: past any slice, so `get_mut` refuses it.
        let end = (at as usize).saturating_add(m.size as usize);
        let Some(dst) = value.get_mut(at as usize..end) else {
            return Err(unsupported("it lies outside the kernel's struct"));
        };
        if bytes.len() != dst.len() {
            return Err(unsupported("the object's value is shorter than the member"));
        }
        dst.copy_from_slice(bytes);
    }
    Ok(Translated {
        value_type_id,
        type_id,
        value,
        programs,
    })
}

/// Every struct_ops map's value in the running kernel's layout (parallel to the maps).
pub(super) fn translate<B: Backend>(
    object: &'static Object,
    backend: &mut B,
) -> Result<Vec<Option<Translated>>, Failed> {
    let mut out: Vec<Option<Translated>> = Vec::new();
    out.try_reserve_exact(object.maps.len())
        .map_err(|_| Step::ReadKernelBtf.failed(Errno::ENOMEM))?;
    out.extend(object.maps.iter().map(|_| None));
    if object.maps.iter().all(|m| m.struct_ops.is_none()) {
        return Ok(out);
    }
    let mut result = Ok(());
    backend
        .with_vmlinux_btf(&mut |raw| {
            result = RawBtf::parse(raw)
                .map_err(at(Step::ReadKernelBtf))
                .and_then(|btf| {
                    for (map, slot) in object.maps.iter().zip(out.iter_mut()) {
                        if let Some(ops) = map.struct_ops {
                            *slot = Some(translate_map(map, ops, &btf)?);
                        }
                    }
                    Ok(())
                });
        })
        .map_err(at(Step::ReadKernelBtf))?;
    result?;
    Ok(out)
}

/// The attach target of every struct_ops program (parallel to the programs): the
/// kernel struct's id and the member's index, as `attach_btf_id` and
/// `expected_attach_type`. A program may serve several maps, for the same member only.
pub(super) fn targets(
    object: &'static Object,
    struct_ops: &[Option<Translated>],
) -> Result<Vec<Option<(u32, u32)>>, Failed> {
    let mut targets = Vec::new();
    targets
        .try_reserve_exact(object.programs.len())
        .map_err(|_| Step::ReadKernelBtf.failed(Errno::ENOMEM))?;
    targets.resize(object.programs.len(), None);
    for (map, ops) in object.maps.iter().zip(struct_ops) {
        for &(program, _, member) in ops.iter().flat_map(|t| &t.programs) {
            let target = (ops.as_ref().map_or(0, |t| t.type_id), member);
            match targets[program] {
                Some(other) if other != target => {
                    let step = Step::TranslateStructOps {
                        map: map.name.as_str(),
                        member: None,
                        reason: "one of its programs also serves another struct_ops type or \
                                 member, and a program is loaded for one member only",
                    };
                    return Err(step.failed(Errno::EINVAL));
                }
                _ => targets[program] = Some(target),
            }
        }
    }
    Ok(targets)
}

/// Registers every struct_ops map that asks for it, with its programs' fds in its
/// value: `BPF_MAP_UPDATE_ELEM`, which registers it (or, for `.struct_ops.link`,
/// readies it for the `BPF_LINK_CREATE` that does).
pub(super) fn register<B: Backend>(
    loaded: &mut Loaded<B::Pin>,
    struct_ops: Vec<Option<Translated>>,
    backend: &mut B,
) -> Result<(), Failed> {
    for (i, translated) in struct_ops.into_iter().enumerate() {
        let (map, map_fd) = loaded.maps[i];
        let (Some(mut t), Some(ops)) = (translated, map.struct_ops) else {
            continue;
        };
        if !ops.register {
            continue;
        }
        for &(program, at, _) in &t.programs {
            let fd = u64::from(loaded.programs[program].1);
            t.value[at as usize..at as usize + 8].copy_from_slice(&fd.to_ne_bytes());
        }
        let step = Step::RegisterStructOps {
            map: map.name.as_str(),
        };
        // Room first: a registration made is always recorded, and undone on failure.
        (loaded.registrations.try_reserve(1)).map_err(|_| step.failed(Errno::ENOMEM))?;
        sys::map_update(backend, &map_fd, &0u32.to_ne_bytes(), &t.value).map_err(at(step))?;
        let link = if map.map_flags & abi::BPF_F_LINK == 0 {
            None
        } else {
            // `link_create.map_fd` shares the place of `prog_fd`.
            let link = sys::link_create(backend, map_fd.fd, 0, abi::BPF_STRUCT_OPS);
            Some(link.map_err(at(step))?)
        };
        loaded
            .registrations
            .push(Registration { map, map_fd, link });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use alloc::vec::Vec;

    use super::*;
    use crate::abi::BTF_KIND_INT;
    use crate::btf::tests::{info, Builder};
    use crate::table::{Freeze, List, OptIndex, Str, StructOpsMember};

    const MEMBERS: &[StructOpsMember] = &[
        StructOpsMember {
            name: Str::new("n"),
            offset: 0,
            size: 4,
            kind: BTF_KIND_INT,
            program: OptIndex::NONE,
        },
        StructOpsMember {
            name: Str::new("f"),
            offset: 8,
            size: 8,
            kind: BTF_KIND_PTR,
            program: OptIndex::some(0),
        },
    ];
    const OPS: StructOps = StructOps {
        type_name: Str::new("ops"),
        data: List::new(&[7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
        members: List::new(MEMBERS),
        register: true,
    };
    static MAP: Map = Map {
        name: Str::new("ops_map"),
        kernel_name: Str::new("ops_map"),
        map_type: 26,
        key_size: 4,
        value_size: 16,
        max_entries: 1,
        map_flags: 0,
        shared: false,
        map_extra: 0,
        btf_key_type_id: 0,
        btf_value_type_id: 0,
        initial_value: None,
        freeze: Freeze::Never,
        pin: None,
        inner: None,
        slots: List::new(&[]),
        kconfig: List::new(&[]),
        struct_ops: None,
    };

    /// The kernel's BTF for `struct ops { int n; void (*f)(void); }` inside
    /// `struct bpf_struct_ops_ops` at `data_bits`, the value `value_size` bytes and
    /// `f` at `f_bits`.
    fn kernel_btf(value_size: u32, data_bits: u32, f_bits: u32) -> Vec<u8> {
        let mut b = Builder::new();
        let (n, f, ops, value, data) = (
            b.name("n"),
            b.name("f"),
            b.name("ops"),
            b.name("bpf_struct_ops_ops"),
            b.name("data"),
        );
        let int = b.ty(0, info(BTF_KIND_INT, 0), 4, &[32]);
        let proto = b.ty(0, info(BTF_KIND_FUNC_PROTO, 0), 0, &[]);
        let ptr = b.ty(0, info(BTF_KIND_PTR, 0), proto, &[]);
        let ops_id = b.ty(
            ops,
            info(BTF_KIND_STRUCT, 2),
            16,
            &[n, int, 0, f, ptr, f_bits],
        );
        b.ty(
            value,
            info(BTF_KIND_STRUCT, 1),
            value_size,
            &[data, ops_id, data_bits],
        );
        b.build()
    }

    fn run(data: &[u8]) -> Result<Translated, Failed> {
        translate_map(&MAP, &OPS, &RawBtf::parse(data).unwrap())
    }

    #[test]
    fn lays_out_the_kernels_struct() {
        let t = run(&kernel_btf(24, 64, 64)).unwrap();
        assert_eq!(t.value.len(), 24);
        assert_eq!(&t.value[8..12], &7u32.to_le_bytes());
        assert_eq!(t.programs, [(0, 16, 1)]);
    }

    #[test]
    fn an_implausible_value_size_is_refused_before_allocating() {
        let errno = run(&kernel_btf(u32::MAX, 64, 64)).unwrap_err().errno;
        assert_eq!(errno, Errno::E2BIG);
    }

    #[test]
    fn offsets_outside_the_value_are_errors() {
        // The struct inside the value, or the function pointer inside the struct, at
        // offsets whose sum overflows or passes the end.
        for (data_bits, f_bits) in [(u32::MAX, 64), (64, u32::MAX), (64, 8 * 20)] {
            let errno = run(&kernel_btf(24, data_bits, f_bits)).unwrap_err().errno;
            assert_eq!(errno, Errno::EOPNOTSUPP, "{data_bits} {f_bits}");
        }
        // The int member past the end.
        let errno = run(&kernel_btf(8, 64, 0)).unwrap_err().errno;
        assert_eq!(errno, Errno::EOPNOTSUPP);
    }
}
