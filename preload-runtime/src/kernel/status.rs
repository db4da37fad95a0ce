//! The runtime's status view: its own object (`status/status.bpf.c`), loaded at the
//! runtime's init, and the rows ([`crate::status`]) of every object it holds, which
//! it writes into that object's map when it has loaded an object and deletes when it
//! releases it. A failure to write them is a warning, never a failed load: the view
//! reports on the policies, it is not one.

use alloc::vec::Vec;
use core::ffi::c_void;
use core::sync::atomic::{AtomicPtr, Ordering};

use super::backend::{log, KernelBackend, Level};
use super::ffi::{self, PIN_LINK, PIN_MAP, PIN_PROG};
use crate::errno::Errno;
use crate::loaded::Loaded;
use crate::loaded::Sharing;
use crate::status::{
    bytes_of, StatusKey, StatusRow, FLAG_ABANDONED, FLAG_PROTECTED, FLAG_SHARED, KIND_MAP,
    KIND_PROGRAM,
};
use crate::sys::{self, Fd, MapFd};
use crate::table::Object;

pub(super) use crate::status::STATUS;

/// The held file of the status map, once the runtime has loaded it (null before and
/// after, or if it could not). Set at the runtime's init, before any object module
/// can call in, and cleared at its exit, after the last one left.
static MAP: AtomicPtr<c_void> = AtomicPtr::new(core::ptr::null_mut());

/// Notes the status map, whose file the runtime holds, so that rows can be written.
pub(super) fn set_map(file: *mut c_void) {
    MAP.store(file, Ordering::Release);
}

/// Forgets the status map: from the release of the status object.
pub(super) fn clear_map() {
    MAP.store(core::ptr::null_mut(), Ordering::Release);
}

/// One row an object has in the map: its key, and what makes its row.
#[derive(Clone, Copy)]
pub(super) struct Shown {
    key: StatusKey,
    /// Index of the program or map in the object's table (of the guard's, if
    /// `guard`).
    index: usize,
    guard: bool,
    link_id: u32,
    /// A map this object shared by name: the runtime's registry holds it from now on,
    /// so its row is the runtime's and outlives the object.
    shared: bool,
}

/// The module a shared map's row names: the runtime, whose registry holds the map.
const RUNTIME_MODULE: &str = "bpf_preload_runtime";

/// The kernel id of what `fd` is, or 0 (a row is then left out).
fn id_of(kind: u32, fd: Fd, prog_type: u32) -> u32 {
    let mut id = 0;
    // SAFETY: `fd` is open (the load's fds are closed only after this), `id` writable.
    let ret = unsafe { ffi::bpf_preload_object_id(kind, fd, prog_type, &mut id) };
    if ret < 0 {
        0
    } else {
        id
    }
}

/// The rows of `loaded` and of its guard: one per program (with the link that
/// attaches it) and one per map. Computed while the load's fds are open. `None` if
/// memory ran out (the object then has no rows).
pub(super) fn rows_of(loaded: &Loaded<core::convert::Infallible>) -> Option<Vec<Shown>> {
    let mut shown = Vec::new();
    let parts = core::iter::once((loaded, false)).chain(loaded.guard().map(|g| (g, true)));
    for (l, guard) in parts {
        let object = l.object();
        let count = object.programs.len() + object.maps.len();
        shown.try_reserve(count).ok()?;
        for (index, (prog, fd)) in l.programs().enumerate() {
            let link_id = l
                .links()
                .find(|(link, _)| link.program == index)
                .map_or(0, |(_, fd)| id_of(PIN_LINK, fd, 0));
            let id = id_of(PIN_PROG, fd, prog.prog_type);
            if id != 0 {
                shown.push(Shown {
                    key: StatusKey {
                        kind: KIND_PROGRAM,
                        id,
                    },
                    index,
                    guard,
                    link_id,
                    shared: false,
                });
            }
        }
        for (index, (map, fd)) in l.maps().enumerate() {
            let sharing = (l.sharing.iter())
                .find(|(m, _)| core::ptr::eq(*m, map))
                .map(|&(_, how)| how);
            // A map reused by name has the row of the object that created it.
            if sharing == Some(Sharing::Reused) {
                continue;
            }
            let id = id_of(PIN_MAP, fd, 0);
            if id != 0 {
                shown.push(Shown {
                    key: StatusKey { kind: KIND_MAP, id },
                    index,
                    guard,
                    link_id: 0,
                    shared: sharing == Some(Sharing::Shared),
                });
            }
        }
    }
    Some(shown)
}

/// The row of `s`, an entry of `object` (protected by the guard if `protect`).
fn row(module: &str, object: &Object, s: &Shown, flags: u32) -> StatusRow {
    let table = if s.guard {
        <crate::load::Guard as crate::table::Preload>::OBJECT
    } else {
        object
    };
    let flags = flags | if object.protect { FLAG_PROTECTED } else { 0 };
    if s.shared {
        let map = &table.maps[s.index];
        let flags = FLAG_SHARED | (flags & FLAG_PROTECTED);
        return StatusRow::new(
            RUNTIME_MODULE,
            table.name.as_str(),
            map.name.as_str(),
            "",
            0,
            flags,
        );
    }
    if s.key.kind == KIND_PROGRAM {
        let prog = &table.programs[s.index];
        let attach = match prog.attach_btf {
            // `attach_target(...)` named the target the section leaves out.
            Some(target) if !prog.section.as_str().contains('/') => {
                return StatusRow::new(
                    module,
                    table.name.as_str(),
                    prog.name.as_str(),
                    &alloc::format!("{}/{}", prog.section.as_str(), target.name.as_str()),
                    s.link_id,
                    flags,
                );
            }
            _ => prog.section.as_str(),
        };
        StatusRow::new(
            module,
            table.name.as_str(),
            prog.name.as_str(),
            attach,
            s.link_id,
            flags,
        )
    } else {
        let map = &table.maps[s.index];
        StatusRow::new(module, table.name.as_str(), map.name.as_str(), "", 0, flags)
    }
}

/// Runs `f` with an fd of the status map in this task, if the runtime has one.
fn with_map(f: impl FnOnce(&mut KernelBackend, &MapFd) -> Result<(), Errno>) -> Result<(), Errno> {
    let file = MAP.load(Ordering::Acquire);
    if file.is_null() {
        return Ok(());
    }
    // SAFETY: the runtime holds the map's file until `clear_map` (its exit).
    let fd = unsafe { ffi::bpf_preload_install_fd(file) };
    if fd < 0 {
        return Err(Errno(-fd));
    }
    let map = MapFd::of(
        fd as Fd,
        core::mem::size_of::<StatusKey>() as u32,
        core::mem::size_of::<StatusRow>() as u32,
    );
    let result = f(&mut KernelBackend::default(), &map);
    // SAFETY: the fd just installed, closed once.
    unsafe { ffi::bpf_preload_close_fd(fd as u32) };
    result
}

/// Writes the rows of an object of `module` (with `flags`), warning on failure.
pub(super) fn write(module: &str, object: &Object, shown: &[Shown], flags: u32) {
    let result = with_map(|backend, map| {
        shown.iter().try_for_each(|s| {
            let row = row(module, object, s, flags);
            sys::map_update(backend, map, bytes_of(&s.key), bytes_of(&row))
        })
    });
    if let Err(errno) = result {
        log(
            Level::Warning,
            module,
            format_args!(
                "the status view does not show `{}`: writing its rows failed: {errno}",
                object.name
            ),
        );
    }
}

/// Marks the rows of an abandoned object (its module removed by force).
pub(super) fn abandon(module: &str, object: &Object, shown: &[Shown]) {
    write(module, object, shown, FLAG_ABANDONED);
}

/// Deletes the rows of a released object, but for those of the maps it shared, which
/// the runtime still holds.
pub(super) fn delete(module: &str, shown: &[Shown]) {
    let result = with_map(|backend, map| {
        shown.iter().filter(|s| !s.shared).try_for_each(|s| {
            match sys::map_delete(backend, map, bytes_of(&s.key)) {
                // Never written (a failed write), or written by no one.
                Ok(()) | Err(Errno::ENOENT) => Ok(()),
                Err(e) => Err(e),
            }
        })
    });
    if let Err(errno) = result {
        log(
            Level::Warning,
            module,
            format_args!("the status view still shows what it released: {errno}"),
        );
    }
}
