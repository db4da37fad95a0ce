//! What the runtime holds of one object between its module's init and exit: the file
//! behind every fd of a load (so exactly what the fd held, user references included)
//! and the pins made of them; and ftrace kept on from the first program that runs
//! through a trampoline.

use alloc::vec::Vec;
use core::ffi::c_void;

use super::ffi::{self, PIN_LINK, PIN_MAP, PIN_PROG};
use crate::errno::Errno;
use crate::loaded::{Loaded, Part};
use crate::sys::Fd;

/// A held file (what an fd holds), the object behind it, and how to release it.
struct HeldFile {
    fd: Fd,
    file: *mut c_void,
    /// The map, program or link, valid while the file is held.
    object: *mut c_void,
    release: unsafe extern "C" fn(*mut c_void),
}

/// One pin the object asks for: a held object and its name.
pub(super) struct Pin {
    pub(super) name: &'static str,
    /// `name` and a NUL, for C.
    pub(super) c_name: Vec<u8>,
    /// The map, program or link, valid while its file is held.
    pub(super) object: *mut c_void,
    pub(super) kind: u32,
    /// An iterator link: what a stock kernel can show.
    pub(super) iterator: bool,
}

/// Everything a module holds.
#[derive(Default)]
pub(super) struct Held {
    files: Vec<HeldFile>,
    pub(super) pins: Vec<Pin>,
}

/// A failure to hold something: what it was and the errno.
pub(super) struct HoldError {
    pub(super) name: &'static str,
    pub(super) errno: Errno,
}

impl Held {
    /// The files of everything `loaded` and its guard made, taken while their fds are
    /// open, in [`Loaded::parts`]' order (and released in reverse, as `free` would
    /// close them), the pins the table asks for, and ftrace kept on if a program runs
    /// through a trampoline.
    pub(super) fn take_all(loaded: &Loaded<core::convert::Infallible>) -> Result<Held, HoldError> {
        let mut held = Held::default();
        // The guard last, so that it is released first, as `Loaded::free` frees it.
        let guarded = || core::iter::once(loaded).chain(loaded.guard());
        let result = guarded()
            .try_for_each(|l| held.take_loaded(l))
            .and_then(|()| {
                if !guarded().any(|l| l.object().attaches_trampolines()) {
                    return Ok(());
                }
                // SAFETY: no arguments. The runtime keeps the hold until its exit,
                // past this object's release (see runtime.c).
                let ret = unsafe { ffi::bpf_preload_hold_ftrace() };
                if ret < 0 {
                    return Err(HoldError {
                        name: "ftrace (kernel.ftrace_enabled)",
                        errno: Errno(-ret),
                    });
                }
                Ok(())
            });
        match result {
            Ok(()) => Ok(held),
            Err(e) => {
                held.release_all();
                Err(e)
            }
        }
    }

    fn take_loaded(&mut self, loaded: &Loaded<core::convert::Infallible>) -> Result<(), HoldError> {
        let object = loaded.object();
        for part in loaded.parts() {
            let release: unsafe extern "C" fn(*mut c_void) = ffi::bpf_preload_release_file;
            let (kind, prog_type, release, name) = match part {
                Part::Map(map, _) => (PIN_MAP, 0, release, map.name),
                Part::Program(prog, _) => (PIN_PROG, prog.prog_type, release, prog.name),
                // Released by undoing the registration, then dropping the file.
                Part::Registered(map, _) => {
                    let unregister: unsafe extern "C" fn(*mut c_void) =
                        ffi::bpf_preload_struct_ops_unregister_release;
                    (PIN_MAP, 0, unregister, map.name)
                }
                Part::StructOpsLink(map, _) => (PIN_LINK, 0, release, map.name),
                Part::Link(link, _) => (PIN_LINK, 0, release, object.programs[link.program].name),
            };
            self.take(kind, part.fd(), prog_type, release)
                .map_err(|errno| HoldError {
                    name: name.as_str(),
                    errno,
                })?;
        }
        for (name, part) in loaded.wanted_pins() {
            let iterator = match part {
                // The rule `cargo bpf-preload build` describes, too.
                Part::Link(link, _) => crate::describe::stock_shows(object, link),
                _ => false,
            };
            self.note_pin(name, part, iterator)
                .map_err(|errno| HoldError { name, errno })?;
        }
        Ok(())
    }

    /// Holds the file behind `fd`, a `kind` object.
    fn take(
        &mut self,
        kind: u32,
        fd: Fd,
        prog_type: u32,
        release: unsafe extern "C" fn(*mut c_void),
    ) -> Result<(), Errno> {
        // Room first, so that a held file is never lost to a failed allocation.
        self.files.try_reserve(1).map_err(|_| Errno::ENOMEM)?;
        let (mut file, mut object) = (core::ptr::null_mut(), core::ptr::null_mut());
        // SAFETY: `fd` is one of ours and open; both out-pointers are writable.
        let ret =
            unsafe { ffi::bpf_preload_hold_file(kind, fd, prog_type, &mut file, &mut object) };
        if ret < 0 {
            return Err(Errno(-ret));
        }
        self.files.push(HeldFile {
            fd,
            file,
            object,
            release,
        });
        Ok(())
    }

    /// Notes the pin `name` of `part`, whose file is held.
    fn note_pin(&mut self, name: &'static str, part: Part, iterator: bool) -> Result<(), Errno> {
        let kind = match part.kind() {
            crate::ObjectKind::Map => PIN_MAP,
            crate::ObjectKind::Program => PIN_PROG,
            crate::ObjectKind::Link => PIN_LINK,
        };
        let held = self.files.iter().rev().find(|f| f.fd == part.fd());
        let object = held.ok_or(Errno::ENOENT)?.object;
        self.pins.try_reserve(1).map_err(|_| Errno::ENOMEM)?;
        let mut c_name = Vec::new();
        (c_name.try_reserve_exact(name.len() + 1)).map_err(|_| Errno::ENOMEM)?;
        c_name.extend_from_slice(name.as_bytes());
        c_name.push(0);
        self.pins.push(Pin {
            name,
            c_name,
            object,
            kind,
            iterator,
        });
        Ok(())
    }

    /// The held file behind `fd` of the load.
    pub(super) fn file_of(&self, fd: Fd) -> Option<*mut c_void> {
        self.files.iter().rev().find(|f| f.fd == fd).map(|f| f.file)
    }

    /// Keeps every file held for good (a permanent object module removed by force:
    /// its programs stay attached), telling kmemleak so, and frees the bookkeeping.
    /// ftrace stays held, as it does until the runtime's exit (and the runtime then
    /// stays loaded).
    pub(super) fn abandon(self) {
        for f in &self.files {
            // SAFETY: a file we hold, never released from now on.
            unsafe { ffi::bpf_preload_keep_file(f.file) };
        }
    }

    /// Releases every file, in reverse. The hold on ftrace stays with the runtime.
    pub(super) fn release_all(self) {
        for f in self.files.into_iter().rev() {
            // SAFETY: a file we hold and release once.
            unsafe { (f.release)(f.file) };
        }
    }
}
