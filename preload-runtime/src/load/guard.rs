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

use alloc::boxed::Box;

use crate::backend::Backend;
use crate::bpf_preload;
use crate::errno::Errno;
use crate::error::{at, Failed, Step};
use crate::loaded::{Loaded, Part};
use crate::sys;
use crate::sys::ObjectKind;
use crate::table::Preload;

/// The guard's own table. Nothing of it is pinned by the table: the object's holder
/// holds it, and a process pins its links beside the object's pins (see
/// `pins::pin_guard`).
#[bpf_preload(
    obj = "../../guard/guard.bpf.o",
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

/// The size of `struct protected_ids`: four counts, three lists, the start time.
const PROTECTED_SIZE: usize = 16 + 3 * 4 * GUARD_MAX + 8;

impl Protected {
    /// The value as the guard's map holds it, field by field in C's layout (no
    /// padding: every field is at a multiple of its size).
    fn to_bytes(&self) -> [u8; PROTECTED_SIZE] {
        let words = [self.maps, self.progs, self.links, self.holder];
        let lists = [&self.map_ids, &self.prog_ids, &self.link_ids];
        let u32s = words.iter().chain(lists.into_iter().flatten());
        let mut out = [0; PROTECTED_SIZE];
        for (at, v) in out.chunks_exact_mut(4).zip(u32s) {
            at.copy_from_slice(&v.to_ne_bytes());
        }
        out[PROTECTED_SIZE - 8..].copy_from_slice(&self.holder_start.to_ne_bytes());
        out
    }
}

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
) -> Result<(), Failed> {
    for part in loaded.parts() {
        let (name, prog_type) = match part {
            Part::Map(map, _) => (map.name, 0),
            Part::Program(prog, _) => (prog.name, prog.prog_type),
            Part::Link(link, _) => (loaded.object().programs[link.program].name, 0),
            Part::StructOpsLink(map, _) => (map.name, 0),
            // The map's id, given as a map.
            Part::Registered(..) => continue,
        };
        let step = Step::ReadId {
            name: name.as_str(),
        };
        let id = (backend.object_id(part.kind(), part.fd(), prog_type)).map_err(at(step))?;
        let (list, n) = match part.kind() {
            ObjectKind::Map => (&mut value.map_ids, &mut value.maps),
            ObjectKind::Program => (&mut value.prog_ids, &mut value.progs),
            ObjectKind::Link => (&mut value.link_ids, &mut value.links),
        };
        push(list, n, id).map_err(at(step))?;
    }
    Ok(())
}

/// Loads, arms and (with a backend whose pins outlive the holder) pins the guard of
/// a `protect` object, last, so that it sees every id of the object; the ids of its
/// own objects too.
pub(super) fn load<B: Backend>(loaded: &mut Loaded<B::Pin>, backend: &mut B) -> Result<(), Failed> {
    let guard = loaded
        .guard
        .insert(Box::new(Loaded::new(<Guard as Preload>::OBJECT)));
    let object = <Guard as Preload>::OBJECT;
    super::run(guard, &crate::params::Params::new(object), backend)?;
    let guard = loaded.guard.as_deref().expect("just loaded");
    arm(loaded, guard, backend)?;
    if backend.pins_outlive_holder() && !loaded.pins.is_empty() {
        let guard = loaded.guard.as_deref_mut().expect("just loaded");
        super::pins::pin_guard(guard, backend)?;
    }
    Ok(())
}

/// Arms `guard` (loaded and attached) for `loaded` and itself; see the module's docs.
fn arm<B: Backend>(
    loaded: &Loaded<B::Pin>,
    guard: &Loaded<B::Pin>,
    backend: &mut B,
) -> Result<(), Failed> {
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
    let (_, map) = *(guard.maps.iter())
        .find(|(m, _)| m.name == PROTECTED)
        .expect("the guard has its map");
    let bytes = value.to_bytes();
    sys::map_update(backend, &map, &0u32.to_ne_bytes(), &bytes)
        .map_err(at(Step::InitMap { map: PROTECTED }))?;
    // Frozen here, not by the table: it is written only now, after everything loaded.
    sys::map_freeze(backend, map.fd).map_err(at(Step::FreezeMap { map: PROTECTED }))?;

    // The guard's own map by id: refused if and only if the guard runs.
    match sys::fd_by_id(backend, ObjectKind::Map, value.map_ids[own]) {
        Err(Errno::EPERM) => Ok(()),
        Ok(fd) => {
            backend.close(fd);
            Err(Step::CheckGuard.failed(Errno::EOPNOTSUPP))
        }
        Err(e) => Err(Step::CheckGuard.failed(e)),
    }
}
