//! [`Loaded`]: what a load made, each fd beside the table entry it was made for, and
//! the one order in which it is freed (or, by a module, held and released).

use alloc::boxed::Box;
use alloc::vec::Vec;

use crate::backend::Backend;
use crate::errno::Errno;
use crate::sys::{self, MapFd};
use crate::sys::{Fd, ObjectKind};
use crate::table::{Link, Map, Object, Program};

/// A struct_ops map registered with the kernel: by its value alone (it then holds
/// itself until unregistered), or, for `.struct_ops.link`, through a link.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Registration {
    pub(crate) map: &'static Map,
    pub(crate) map_fd: MapFd,
    pub(crate) link: Option<Fd>,
}

/// How a load took part in sharing a map by name (`LIBBPF_PIN_BY_NAME`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sharing {
    /// It reused the map another object shared.
    Reused,
    /// It created the map and shared it.
    Shared,
}

/// One thing a load made, with the table entry it was made for.
#[derive(Debug, Clone, Copy)]
pub enum Part {
    /// A map.
    Map(&'static Map, MapFd),
    /// A program.
    Program(&'static Program, Fd),
    /// A struct_ops map registered by its value; freeing it unregisters it.
    Registered(&'static Map, MapFd),
    /// The link that registers a `.struct_ops.link` map.
    StructOpsLink(&'static Map, Fd),
    /// The link that attaches a program.
    Link(&'static Link, Fd),
}

impl Part {
    /// The fd.
    pub fn fd(&self) -> Fd {
        match *self {
            Part::Map(_, m) | Part::Registered(_, m) => m.fd,
            Part::Program(_, fd) | Part::StructOpsLink(_, fd) | Part::Link(_, fd) => fd,
        }
    }

    /// Whether it is a map, a program or a link.
    pub fn kind(&self) -> ObjectKind {
        match self {
            Part::Map(..) | Part::Registered(..) => ObjectKind::Map,
            Part::Program(..) => ObjectKind::Program,
            Part::StructOpsLink(..) | Part::Link(..) => ObjectKind::Link,
        }
    }
}

/// A loaded object: the fds of everything it holds, and its pins.
#[derive(Debug)]
#[must_use = "a Loaded holds fds and pins until `free` or `close_fds`"]
pub struct Loaded<P> {
    object: &'static Object,
    pub(crate) btf: Option<Fd>,
    /// In the table's order, as made.
    pub(crate) maps: Vec<(&'static Map, MapFd)>,
    pub(crate) programs: Vec<(&'static Program, Fd)>,
    pub(crate) registrations: Vec<Registration>,
    pub(crate) links: Vec<(&'static Link, Fd)>,
    pub(crate) pins: Vec<P>,
    /// The maps shared by name that this load reused or shared itself.
    pub(crate) sharing: Vec<(&'static Map, Sharing)>,
    /// With `protect`: the guard, loaded and armed after everything else.
    pub(crate) guard: Option<Box<Loaded<P>>>,
}

impl<P> Loaded<P> {
    /// Nothing made yet.
    pub(crate) fn new(object: &'static Object) -> Self {
        Loaded {
            object,
            btf: None,
            maps: Vec::new(),
            programs: Vec::new(),
            registrations: Vec::new(),
            links: Vec::new(),
            pins: Vec::new(),
            sharing: Vec::new(),
            guard: None,
        }
    }

    /// Whether `map` is another object's, reused by name.
    pub(crate) fn reused(&self, map: &Map) -> bool {
        (self.sharing.iter()).any(|&(m, how)| core::ptr::eq(m, map) && how == Sharing::Reused)
    }

    /// Stops sharing the maps this load shared: for a load that failed, as libbpf
    /// unpins what a failed load pinned. A loaded object's shares outlive it.
    pub(crate) fn unshare<B: Backend<Pin = P> + ?Sized>(&mut self, backend: &mut B) {
        for (map, how) in self.sharing.drain(..) {
            if how == Sharing::Shared {
                backend.unshare_map(map.name.as_str());
            }
        }
    }

    /// The table this was loaded from.
    pub fn object(&self) -> &'static Object {
        self.object
    }

    /// The object's BTF fd.
    pub fn btf_fd(&self) -> Option<Fd> {
        self.btf
    }

    /// The fd of the map named `name` in the object (`counts`, `.rodata`).
    pub fn map_fd(&self, name: &str) -> Option<Fd> {
        let (_, map) = self.maps.iter().find(|(m, _)| m.name == name)?;
        Some(map.fd)
    }

    /// The fd of the program named `name`.
    pub fn program_fd(&self, name: &str) -> Option<Fd> {
        let (_, fd) = self.programs.iter().find(|(p, _)| p.name == name)?;
        Some(*fd)
    }

    /// The fd of the link attaching the program named `program`.
    pub fn link_fd(&self, program: &str) -> Option<Fd> {
        let programs = self.object.programs;
        let (_, fd) = self
            .links
            .iter()
            .find(|(l, _)| programs[l.program].name == program)?;
        Some(*fd)
    }

    /// With `protect`, the guard loaded with the object.
    pub fn guard(&self) -> Option<&Loaded<P>> {
        self.guard.as_deref()
    }

    /// Each map of the table with its fd.
    pub fn maps(&self) -> impl Iterator<Item = (&'static Map, Fd)> + '_ {
        self.maps.iter().map(|&(m, fd)| (m, fd.fd))
    }

    /// Each program of the table with its fd.
    pub fn programs(&self) -> impl Iterator<Item = (&'static Program, Fd)> + '_ {
        self.programs.iter().copied()
    }

    /// Each link of the table with its fd.
    pub fn links(&self) -> impl Iterator<Item = (&'static Link, Fd)> + '_ {
        self.links.iter().copied()
    }

    /// Everything made, in the order made: maps, programs, struct_ops registrations,
    /// links (the BTF, which they hold, aside). Freed in the reverse order, so that
    /// what attaches goes before what it attaches; a module holds them in this order
    /// and releases them in reverse too.
    pub fn parts(&self) -> impl DoubleEndedIterator<Item = Part> + '_ {
        let registrations = self.registrations.iter().map(|r| match r.link {
            Some(link) => Part::StructOpsLink(r.map, link),
            None => Part::Registered(r.map, r.map_fd),
        });
        self.maps
            .iter()
            .map(|&(m, fd)| Part::Map(m, fd))
            .chain(self.programs.iter().map(|&(p, fd)| Part::Program(p, fd)))
            .chain(registrations)
            .chain(self.links.iter().map(|&(l, fd)| Part::Link(l, fd)))
    }

    /// What the table pins, in the one order both backends pin in (links, maps,
    /// programs), with the pin's name.
    pub fn wanted_pins(&self) -> impl Iterator<Item = (&'static str, Part)> + '_ {
        let links = self
            .links
            .iter()
            .filter_map(|&(l, fd)| Some((l.pin?.as_str(), Part::Link(l, fd))));
        let maps = self
            .maps
            .iter()
            .filter_map(|&(m, fd)| Some((m.pin?.as_str(), Part::Map(m, fd))));
        let programs = (self.programs.iter())
            .filter_map(|&(p, fd)| Some((p.pin?.as_str(), Part::Program(p, fd))));
        links.chain(maps).chain(programs)
    }

    /// Every fd held: BTF, maps, programs, links (not the guard's).
    pub fn fds(&self) -> impl Iterator<Item = Fd> + '_ {
        self.btf
            .into_iter()
            .chain(self.parts().filter_map(|p| match p {
                // The map's fd, already given as a map.
                Part::Registered(..) => None,
                part => Some(part.fd()),
            }))
    }

    /// The pins made, as the backend recorded them.
    pub fn pins(&self) -> &[P] {
        &self.pins
    }

    /// Closes every fd but keeps the pins, which hold their own references, and the
    /// struct_ops registrations: for a module that has taken references on what it
    /// needs to keep (and unregisters what it registered itself).
    pub fn close_fds<B: Backend<Pin = P> + ?Sized>(mut self, backend: &mut B) -> Vec<P> {
        let pins = core::mem::take(&mut self.pins);
        self.release(backend, false);
        pins
    }

    /// Unpins and closes everything, in the reverse order of creation.
    ///
    /// The guard goes first: once armed it refuses this holder too, and the
    /// struct_ops registrations are undone with `BPF_MAP_DELETE_ELEM`. Closing the
    /// last fd of a link detaches it before close(2) returns, but a pin's reference
    /// is dropped after an RCU grace period (bpffs frees its inodes with
    /// `free_inode`), and 6.12 defers that `bpf_link_put` to a workqueue: a pinned
    /// guard is waited for until its programs are gone.
    pub fn free<B: Backend<Pin = P> + ?Sized>(self, backend: &mut B) {
        self.release(backend, true);
    }

    fn release<B: Backend<Pin = P> + ?Sized>(mut self, backend: &mut B, unregister: bool) {
        if let Some(guard) = self.guard.take() {
            let ids: Vec<u32> = if guard.pins.is_empty() {
                Vec::new()
            } else {
                (guard.programs.iter())
                    .filter_map(|&(prog, fd)| {
                        backend
                            .object_id(ObjectKind::Program, fd, prog.prog_type)
                            .ok()
                    })
                    .collect()
            };
            guard.free(backend);
            wait_gone(backend, &ids);
        }
        while let Some(pin) = self.pins.pop() {
            backend.unpin(pin);
        }
        for part in self.parts().rev() {
            match part {
                Part::Registered(_, map) if unregister => {
                    // Nothing to do if it fails: the map stays registered, as the
                    // kernel says.
                    let _ = backend.unregister_struct_ops(&map);
                }
                // The map's own fd is closed as a map.
                Part::Registered(..) => {}
                part => backend.close(part.fd()),
            }
        }
        if let Some(fd) = self.btf.take() {
            backend.close(fd);
        }
    }
}

/// How many times [`wait_gone`] looks, [`Backend::pause`] apart (about 10 s in a
/// process).
const WAIT_GONE_TRIES: usize = 10_000;

/// Waits until no program with these ids exists any more (a program's id is
/// released only after every link of it has detached it), or gives up.
fn wait_gone<B: Backend + ?Sized>(backend: &mut B, ids: &[u32]) {
    for &id in ids {
        for _ in 0..WAIT_GONE_TRIES {
            match sys::fd_by_id(backend, ObjectKind::Program, id) {
                Err(Errno::ENOENT) => break,
                // Still attached (the guard refuses its own ids), or not yet freed.
                Ok(fd) => backend.close(fd),
                Err(_) => {}
            }
            backend.pause();
        }
    }
}
