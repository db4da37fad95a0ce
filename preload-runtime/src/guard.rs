//! `#[bpf_preload(protect)]`: the guard, one generic BPF LSM program loaded with a
//! protected object (`guard/guard.bpf.c`). On the `bpf`, `bpf_map`, `bpf_prog`,
//! `file_receive` and `inode_permission` hooks it refuses user space every fd of the
//! object's maps, programs and links (by id, from a pin with any open flags, passed
//! by `pidfd_getfd` or `SCM_RIGHTS`) and every write through an fd it already holds
//! (map updates and deletes, `BPF_LINK_UPDATE`, `BPF_LINK_DETACH`); on
//! `ptrace_access_check`, every attach to the process holding the object (user
//! backend), whose fds are the object; on `inode_unlink` and `inode_rename`, the
//! removal of that object's link pins (the guard's own among them) by anyone but the
//! holder, so that once it is dead they go all together or not at all; on `capable`,
//! a forced module removal (`rmmod -f`), which would take the holding module's
//! ftrace_ops away and let `kernel.ftrace_enabled=0` switch every trampoline off.
//!
//! Which objects is data: the guard's `protected` map, which [`arm`] fills with the
//! ids of the object's and the guard's own maps, programs and links once everything
//! is loaded, in one update (after which the map protects itself), then freezes. Then
//! it checks that the guard refuses an fd of that map by id: if the BPF LSM is not
//! active (`bpf` missing from `lsm=`), the programs attach but never run, and the load
//! fails ([`Step::CheckGuard`]) rather than leave an object that only looks protected.
//!
//! In bpf(2) the guard does not tell the loader from anyone else: once armed, the
//! loading process cannot write the object's maps either (a module makes no such call
//! after this). Only the ptrace and pin hooks know a holding process (`holder`).

use crate::backend::{Backend, Fd, ObjectKind};
use crate::bpf_preload;
use crate::errno::Errno;
use crate::error::Step;
use crate::loader::{bpf, StepError};
use crate::{abi, Loaded};

/// The guard's own table. Nothing of it is pinned by the table: the object's holder
/// holds it, and a process pins its links beside the object's pins (see
/// `loader::pin_guard`).
#[bpf_preload(
    obj = "../guard/guard.bpf.o",
    name = "bpf_preload_guard",
    no_pin(
        protected,
        guard_bpf,
        guard_bpf_map,
        guard_bpf_prog,
        guard_file_receive,
        guard_inode_permission,
        guard_ptrace,
        guard_unlink,
        guard_rename,
        guard_capable
    )
)]
pub struct Guard;

/// How many ids of each kind the guard holds (`GUARD_MAX` in guard.bpf.c).
pub const GUARD_MAX: usize = 64;

/// The value of the guard's `protected` map (`struct protected_ids`).
#[repr(C)]
struct Protected {
    maps: u32,
    progs: u32,
    links: u32,
    /// The process holding the object (`Backend::holder`), 0 for none.
    holder: u32,
    map_ids: [u32; GUARD_MAX],
    prog_ids: [u32; GUARD_MAX],
    link_ids: [u32; GUARD_MAX],
    /// The holder's start time, which the guard writes itself (0 from the loader).
    holder_start: u64,
}

const PROTECTED: &str = "protected";

fn push(list: &mut [u32; GUARD_MAX], n: &mut u32, id: u32) -> Result<(), Errno> {
    // More objects than the guard's list holds: refuse rather than leave some out.
    *list.get_mut(*n as usize).ok_or(Errno::E2BIG)? = id;
    *n += 1;
    Ok(())
}

/// Fills `value` with the ids of everything `loaded` holds.
fn collect<B: Backend>(
    loaded: &Loaded<B::Pin>,
    backend: &mut B,
    value: &mut Protected,
) -> Result<(), StepError> {
    let object = loaded.object();
    let id = |backend: &mut B, kind, fd, prog_type, name| {
        backend
            .object_id(kind, fd, prog_type)
            .map_err(|e| (Step::ReadId { name }, e, None))
    };
    for map in object.maps {
        let fd = loaded.map_fd(map.name).expect("every map is loaded");
        let map_id = id(backend, ObjectKind::Map, fd, 0, map.name)?;
        push(&mut value.map_ids, &mut value.maps, map_id)
            .map_err(|e| (Step::ReadId { name: map.name }, e, None))?;
    }
    for prog in object.programs {
        let fd = loaded
            .program_fd(prog.name)
            .expect("every program is loaded");
        let prog_id = id(backend, ObjectKind::Program, fd, prog.prog_type, prog.name)?;
        push(&mut value.prog_ids, &mut value.progs, prog_id)
            .map_err(|e| (Step::ReadId { name: prog.name }, e, None))?;
    }
    for link in object.links {
        let name = object.programs[link.program].name;
        let fd = loaded.link_fd(name).expect("every link is loaded");
        let link_id = id(backend, ObjectKind::Link, fd, 0, name)?;
        push(&mut value.link_ids, &mut value.links, link_id)
            .map_err(|e| (Step::ReadId { name }, e, None))?;
    }
    for (map, fd) in loaded.struct_ops_links() {
        let link_id = id(backend, ObjectKind::Link, fd, 0, map.name)?;
        push(&mut value.link_ids, &mut value.links, link_id)
            .map_err(|e| (Step::ReadId { name: map.name }, e, None))?;
    }
    Ok(())
}

/// Arms `guard` (loaded and attached) for `loaded` and itself; see the module's docs.
pub(crate) fn arm<B: Backend>(
    loaded: &Loaded<B::Pin>,
    guard: &Loaded<B::Pin>,
    backend: &mut B,
) -> Result<(), StepError> {
    let mut value = Protected {
        maps: 0,
        progs: 0,
        links: 0,
        holder: backend.holder(),
        map_ids: [0; GUARD_MAX],
        prog_ids: [0; GUARD_MAX],
        link_ids: [0; GUARD_MAX],
        holder_start: 0,
    };
    collect(loaded, backend, &mut value)?;
    let own = value.maps as usize
        + guard
            .object()
            .maps
            .iter()
            .position(|m| m.name == PROTECTED)
            .expect("the guard has its map");
    collect(guard, backend, &mut value)?;
    let fd: Fd = guard.map_fd(PROTECTED).expect("the guard has its map");
    let key = 0u32;
    let mut attr = abi::MapElemAttr {
        map_fd: fd,
        key: &key as *const u32 as u64,
        value: &value as *const Protected as u64,
        flags: abi::BPF_ANY,
        ..Default::default()
    };
    // SAFETY: key and value are live and of the map's key and value sizes.
    unsafe { bpf(backend, abi::BPF_MAP_UPDATE_ELEM, &mut attr) }
        .map_err(|e| (Step::InitMap { map: PROTECTED }, e, None))?;
    let mut attr = abi::MapFreezeAttr { map_fd: fd };
    // SAFETY: MAP_FREEZE reads no pointers.
    unsafe { bpf(backend, abi::BPF_MAP_FREEZE, &mut attr) }
        .map_err(|e| (Step::FreezeMap { map: PROTECTED }, e, None))?;

    // The guard's own map by id: refused if and only if the guard runs.
    let mut attr = abi::GetFdByIdAttr {
        id: value.map_ids[own],
        ..Default::default()
    };
    // SAFETY: no pointers.
    match unsafe { bpf(backend, abi::BPF_MAP_GET_FD_BY_ID, &mut attr) } {
        Err(Errno::EPERM) => Ok(()),
        Ok(fd) => {
            backend.close(fd);
            Err((Step::CheckGuard, Errno::EOPNOTSUPP, None))
        }
        Err(e) => Err((Step::CheckGuard, e, None)),
    }
}
