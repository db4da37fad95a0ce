//! The generic loader: one code path for every object and every backend.
//!
//! Order: BTF, struct_ops values laid out as the running kernel's BTF says, maps
//! (created, initialised from the object or the kernel's configuration, `.rodata` and
//! `.kconfig` frozen), map-of-maps slots, programs (attach targets and externs
//! resolved in the running kernel, extern slots written into a copy of the
//! instructions, loaded with `fd_array` and kernel-side CO-RE), program-array slots,
//! struct_ops registrations, maps frozen by `freeze(...)`, links, pins, and with
//! `protect` the guard (see [`crate::guard`]). A failure at any step frees everything
//! made so far, in reverse.

use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use crate::abi::{self, BpfAttr};
use crate::backend::{Backend, Fd};
use crate::btf::{KernelBtfId, TargetFinder, BTF_KIND_FUNC, BTF_KIND_VAR};
use crate::errno::Errno;
use crate::error::{Error, Step};
use crate::kconfig;
use crate::struct_ops::{self, Translated};
use crate::table::{
    Attach, ExternKind, Freeze, Link, Map, Object, Program, SlotTarget, CORE_RELO_REC_SIZE,
    FUNC_INFO_REC_SIZE, INSN_SIZE, LINE_INFO_REC_SIZE,
};

/// Runs one bpf(2) command with a typed attr.
///
/// # Safety
/// Every pointer in `attr` must be valid for what `cmd` does with it.
pub unsafe fn bpf<B: Backend + ?Sized, A: BpfAttr>(
    backend: &mut B,
    cmd: u32,
    attr: &mut A,
) -> Result<u32, Errno> {
    // SAFETY: `BpfAttr` types are repr(C) without implicit padding, so every byte is
    // initialised and may be viewed as `u8`; the size is exactly the struct's.
    let bytes =
        unsafe { core::slice::from_raw_parts_mut((attr as *mut A).cast::<u8>(), A::SIZE as usize) };
    // SAFETY: the caller vouches for the pointers inside `attr`.
    unsafe { backend.bpf(cmd, bytes) }
}

/// A loaded object: the fds of everything it holds, and its pins.
#[derive(Debug)]
#[must_use = "a Loaded holds fds and pins until `free` or `close_fds`"]
pub struct Loaded<P> {
    object: &'static Object,
    btf: Option<Fd>,
    maps: Vec<Fd>,
    programs: Vec<Fd>,
    /// Parallel to [`Object::links`].
    links: Vec<Fd>,
    /// struct_ops maps registered without a link (indices into [`Object::maps`]):
    /// each holds itself until it is unregistered.
    registered: Vec<usize>,
    /// The links of `.struct_ops.link` maps: (map index, link fd).
    struct_ops_links: Vec<(usize, Fd)>,
    pins: Vec<P>,
    /// With `protect`: the guard, loaded and armed after everything else.
    guard: Option<alloc::boxed::Box<Loaded<P>>>,
}

impl<P> Loaded<P> {
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
        let i = self.object.maps.iter().position(|m| m.name == name)?;
        self.maps.get(i).copied()
    }

    /// The fd of the program named `name`.
    pub fn program_fd(&self, name: &str) -> Option<Fd> {
        let i = self.object.programs.iter().position(|p| p.name == name)?;
        self.programs.get(i).copied()
    }

    /// The fd of the link attaching the program named `program`.
    pub fn link_fd(&self, program: &str) -> Option<Fd> {
        let i = self
            .object
            .links
            .iter()
            .position(|l| self.object.programs[l.program].name == program)?;
        self.links.get(i).copied()
    }

    /// With `protect`, the guard loaded with the object.
    pub fn guard(&self) -> Option<&Loaded<P>> {
        self.guard.as_deref()
    }

    /// The struct_ops maps registered without a link: (map, fd).
    pub fn registered_struct_ops(&self) -> impl Iterator<Item = (&'static Map, Fd)> + '_ {
        self.registered
            .iter()
            .map(|&i| (&self.object.maps[i], self.maps[i]))
    }

    /// The links that register `.struct_ops.link` maps: (map, link fd).
    pub fn struct_ops_links(&self) -> impl Iterator<Item = (&'static Map, Fd)> + '_ {
        self.struct_ops_links
            .iter()
            .map(|&(i, fd)| (&self.object.maps[i], fd))
    }

    /// Each map of the table with its fd.
    pub fn maps(&self) -> impl Iterator<Item = (&'static Map, Fd)> + '_ {
        self.object.maps.iter().zip(self.maps.iter().copied())
    }

    /// Each program of the table with its fd.
    pub fn programs(&self) -> impl Iterator<Item = (&'static Program, Fd)> + '_ {
        self.object
            .programs
            .iter()
            .zip(self.programs.iter().copied())
    }

    /// Each link of the table with its fd.
    pub fn links(&self) -> impl Iterator<Item = (&'static Link, Fd)> + '_ {
        self.object.links.iter().zip(self.links.iter().copied())
    }

    /// Every fd held: BTF, maps, programs, links (not the guard's).
    pub fn fds(&self) -> impl Iterator<Item = Fd> + '_ {
        self.btf
            .iter()
            .chain(&self.maps)
            .chain(&self.programs)
            .chain(&self.links)
            .chain(self.struct_ops_links.iter().map(|(_, fd)| fd))
            .copied()
    }

    /// The pins made, as the backend recorded them.
    pub fn pins(&self) -> &[P] {
        &self.pins
    }

    /// Closes every fd but keeps the pins, which hold their own references, and the
    /// struct_ops registrations: for a module that has taken kernel references on
    /// what it needs to keep (and unregisters what it registered itself).
    pub fn close_fds<B: Backend<Pin = P> + ?Sized>(mut self, backend: &mut B) -> Vec<P> {
        let pins = core::mem::take(&mut self.pins);
        self.registered.clear();
        self.free(backend);
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
    pub fn free<B: Backend<Pin = P> + ?Sized>(mut self, backend: &mut B) {
        if let Some(guard) = self.guard.take() {
            let pinned = !guard.pins.is_empty();
            let mut ids: Vec<u32> = Vec::new();
            if pinned {
                for (prog, fd) in guard.programs() {
                    let kind = crate::backend::ObjectKind::Program;
                    if let Ok(id) = backend.object_id(kind, fd, prog.prog_type) {
                        ids.push(id);
                    }
                }
            }
            guard.free(backend);
            wait_gone(backend, &ids);
        }
        while let Some(pin) = self.pins.pop() {
            backend.unpin(pin);
        }
        for fd in self.links.drain(..).rev() {
            backend.close(fd);
        }
        for (_, fd) in self.struct_ops_links.drain(..).rev() {
            backend.close(fd);
        }
        for i in self.registered.drain(..).rev() {
            // Nothing to do if it fails: the map stays registered, as the kernel says.
            let _ = backend.unregister_struct_ops(self.maps[i]);
        }
        for fd in self.programs.drain(..).rev() {
            backend.close(fd);
        }
        for fd in self.maps.drain(..).rev() {
            backend.close(fd);
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
            let mut attr = abi::GetFdByIdAttr {
                id,
                ..Default::default()
            };
            // SAFETY: no pointers.
            match unsafe { bpf(backend, abi::BPF_PROG_GET_FD_BY_ID, &mut attr) } {
                Err(Errno::ENOENT) => break,
                // Still attached (the guard refuses its own ids), or not yet freed.
                Ok(fd) => backend.close(fd),
                Err(_) => {}
            }
            backend.pause();
        }
    }
}

/// With a backend whose pins outlive the holder, pins the guard's links beside the
/// object's pins (if it has any), so that `kill -9` of the holder leaves the guard
/// attached for as long as the object's pins keep the object: its links hold its
/// programs, which hold its map. Named after their programs (`guard_bpf`, ...).
fn pin_guard<B: Backend>(guard: &mut Loaded<B::Pin>, backend: &mut B) -> Result<(), StepError> {
    let object = guard.object;
    for (link, &fd) in object.links.iter().zip(&guard.links) {
        let name = object.programs[link.program].name;
        // Room first, so that a pin made is always recorded (and undone on failure).
        reserve(&mut guard.pins).map_err(at(Step::Pin { name }))?;
        let pin = backend.pin(fd, name).map_err(at(Step::Pin { name }))?;
        guard.pins.push(pin);
    }
    Ok(())
}

/// Loads, attaches and pins `object`. On failure nothing is left behind.
pub fn load<B: Backend>(object: &'static Object, backend: &mut B) -> Result<Loaded<B::Pin>, Error> {
    let mut loaded = Loaded::empty(object);
    let result = load_into(&mut loaded, backend).and_then(|()| {
        if !object.protect {
            return Ok(());
        }
        // Last, so that the guard sees every id; the ids of its own objects too.
        let guard = loaded.guard.insert(alloc::boxed::Box::new(Loaded::empty(
            <crate::guard::Guard as crate::Preload>::OBJECT,
        )));
        load_into(guard, backend)?;
        let guard = loaded.guard.as_deref().expect("just loaded");
        crate::guard::arm(&loaded, guard, backend)?;
        if backend.pins_outlive_holder() && !loaded.pins.is_empty() {
            let guard = loaded.guard.as_deref_mut().expect("just loaded");
            pin_guard(guard, backend)?;
        }
        Ok(())
    });
    match result {
        Ok(()) => Ok(loaded),
        Err((step, errno, verifier_log)) => {
            loaded.free(backend);
            Err(Error {
                object: object.name,
                step,
                errno,
                verifier_log,
            })
        }
    }
}

impl<P> Loaded<P> {
    fn empty(object: &'static Object) -> Self {
        Loaded {
            object,
            btf: None,
            maps: Vec::with_capacity(object.maps.len()),
            programs: Vec::with_capacity(object.programs.len()),
            links: Vec::with_capacity(object.links.len()),
            registered: Vec::new(),
            struct_ops_links: Vec::new(),
            pins: Vec::new(),
            guard: None,
        }
    }
}

/// A failed step: what, the errno, and the end of the verifier's log if it refused.
pub(crate) type StepError = (Step, Errno, Option<String>);

fn at(step: Step) -> impl FnOnce(Errno) -> StepError {
    move |errno| (step, errno, None)
}

/// Room for one more element of `v`, or `ENOMEM`: taken before the step whose result
/// the element records, so that a failed allocation is an error before anything is
/// made rather than an abort (a panic, in a module) after.
fn reserve<T>(v: &mut Vec<T>) -> Result<(), Errno> {
    v.try_reserve(1).map_err(|_| Errno::ENOMEM)
}

/// A kernel object name: at most 15 bytes and a NUL.
fn obj_name(name: &str) -> [u8; abi::BPF_OBJ_NAME_LEN] {
    let mut out = [0; abi::BPF_OBJ_NAME_LEN];
    let n = name.len().min(abi::BPF_OBJ_NAME_LEN - 1);
    out[..n].copy_from_slice(&name.as_bytes()[..n]);
    out
}

fn ptr<T: ?Sized>(p: &T) -> u64 {
    p as *const T as *const u8 as u64
}

fn load_into<B: Backend>(loaded: &mut Loaded<B::Pin>, backend: &mut B) -> Result<(), StepError> {
    let object = loaded.object;

    if !object.btf.is_empty() {
        let mut attr = abi::BtfLoadAttr {
            btf: ptr(object.btf),
            btf_size: object.btf.len() as u32,
            ..Default::default()
        };
        // SAFETY: `btf` points to `btf_size` readable bytes; no log buffer.
        match unsafe { bpf(backend, abi::BPF_BTF_LOAD, &mut attr) } {
            Ok(btf) => loaded.btf = Some(btf),
            // A kernel that refuses the BTF itself: as libbpf does, go on without it
            // (maps without BTF types, programs without func_info and line_info),
            // unless CO-RE needs it, which the kernel applies against it.
            Err(Errno::EINVAL) if !needs_btf(object) => {}
            Err(e) => return Err((Step::LoadBtf, e, None)),
        }
    }

    let struct_ops = translate_struct_ops(object, backend)?;
    for (map, ops) in object.maps.iter().zip(&struct_ops) {
        let fd = create_map(map, ops.as_ref(), loaded.btf, backend)?;
        loaded.maps.push(fd);
        init_map(map, fd, backend)?;
    }
    // Maps of maps hold maps that now all exist.
    fill_slots(loaded, backend, |t| match t {
        SlotTarget::Map(i) => Some(i),
        SlotTarget::Program(_) => None,
    })?;

    // Attach targets and externs are looked up in the running kernel by one finder,
    // which holds the module BTF fds it found until every program is loaded.
    let names = object
        .programs
        .iter()
        .filter_map(|p| p.attach_btf.map(|t| t.name))
        .chain(object.externs.iter().map(|e| e.name));
    let finder = match names.clone().map(str::len).max() {
        None => None,
        Some(longest) => {
            let step = match object
                .programs
                .iter()
                .find_map(|p| Some((p.name, p.attach_btf?)))
            {
                Some((program, target)) => Step::FindAttachTarget {
                    program,
                    target: target.name,
                },
                None => Step::ResolveExtern {
                    name: object.externs[0].name,
                },
            };
            Some(TargetFinder::new(backend, longest).map_err(at(step))?)
        }
    };
    let struct_ops_targets = struct_ops_targets(object, &struct_ops)?;
    load_programs(loaded, backend, finder, &struct_ops_targets)?;
    // Program arrays hold programs that now all exist.
    fill_slots(loaded, backend, |t| match t {
        SlotTarget::Program(i) => Some(i),
        SlotTarget::Map(_) => None,
    })?;
    register_struct_ops(loaded, backend, struct_ops)?;
    // Everything the loader writes is written: `freeze(...)` maps are final for
    // syscalls from here on.
    for (map, &fd) in object.maps.iter().zip(&loaded.maps) {
        if map.freeze == Freeze::Loaded {
            freeze(backend, map, fd)?;
        }
    }

    for link in object.links {
        let prog = &object.programs[link.program];
        let prog_fd = loaded.programs[link.program];
        let step = Step::Attach { program: prog.name };
        let fd = match link.attach {
            Attach::LinkCreate => {
                let mut attr = abi::LinkCreateAttr {
                    prog_fd,
                    attach_type: prog.expected_attach_type,
                    ..Default::default()
                };
                // SAFETY: no pointers (no iterator parameters).
                unsafe { bpf(backend, abi::BPF_LINK_CREATE, &mut attr) }
            }
            Attach::RawTracepoint(name) => {
                let mut attr = abi::RawTracepointOpenAttr {
                    name: name.map_or(0, |n| n.as_ptr() as u64),
                    prog_fd,
                    ..Default::default()
                };
                // SAFETY: `name` is a static NUL-terminated string or 0.
                unsafe { bpf(backend, abi::BPF_RAW_TRACEPOINT_OPEN, &mut attr) }
            }
            Attach::Tracepoint { category, name } => {
                backend.attach_tracepoint(prog_fd, category, name)
            }
        }
        .map_err(at(step))?;
        loaded.links.push(fd);
    }

    let pins = object
        .links
        .iter()
        .zip(&loaded.links)
        .filter_map(|(l, &fd)| Some((l.pin?, fd)))
        .chain(
            object
                .maps
                .iter()
                .zip(&loaded.maps)
                .filter_map(|(m, &fd)| Some((m.pin?, fd))),
        )
        .chain(
            object
                .programs
                .iter()
                .zip(&loaded.programs)
                .filter_map(|(p, &fd)| Some((p.pin?, fd))),
        );
    for (name, fd) in pins {
        // Room first, so that a pin made is always recorded (and undone on failure).
        reserve(&mut loaded.pins).map_err(at(Step::Pin { name }))?;
        let pin = backend.pin(fd, name).map_err(at(Step::Pin { name }))?;
        loaded.pins.push(pin);
    }
    Ok(())
}

/// Whether the kernel must hold the object's BTF: for CO-RE, which it applies, and
/// for struct_ops maps, which it creates only with the object's BTF.
fn needs_btf(object: &Object) -> bool {
    object.programs.iter().any(|p| !p.core_relos.is_empty())
        || object.maps.iter().any(|m| m.struct_ops.is_some())
}

/// Every struct_ops map's value in the running kernel's layout (parallel to the maps).
fn translate_struct_ops<B: Backend>(
    object: &'static Object,
    backend: &mut B,
) -> Result<Vec<Option<Translated>>, StepError> {
    let mut out: Vec<Option<Translated>> = object.maps.iter().map(|_| None).collect();
    if object.maps.iter().all(|m| m.struct_ops.is_none()) {
        return Ok(out);
    }
    let mut result = Ok(());
    backend
        .with_vmlinux_btf(&mut |raw| {
            result = crate::btf::RawBtf::parse(raw)
                .map_err(|e| (Step::ReadKernelBtf, e))
                .and_then(|btf| {
                    for (map, slot) in object.maps.iter().zip(out.iter_mut()) {
                        if let Some(ops) = map.struct_ops {
                            *slot = Some(struct_ops::translate(map, ops, &btf)?);
                        }
                    }
                    Ok(())
                });
        })
        .map_err(at(Step::ReadKernelBtf))?;
    result.map_err(|(step, e)| (step, e, None))?;
    Ok(out)
}

/// The attach target of every struct_ops program (parallel to the programs): the
/// kernel struct's id and the member's index, as `attach_btf_id` and
/// `expected_attach_type`. A program may serve several maps, for the same member only.
fn struct_ops_targets(
    object: &'static Object,
    struct_ops: &[Option<Translated>],
) -> Result<Vec<Option<(u32, u32)>>, StepError> {
    let mut targets = vec![None; object.programs.len()];
    for (map, ops) in object.maps.iter().zip(struct_ops) {
        for &(program, _, member) in ops.iter().flat_map(|t| &t.programs) {
            let target = (ops.as_ref().map_or(0, |t| t.type_id), member);
            match targets[program] {
                Some(other) if other != target => {
                    let step = Step::TranslateStructOps {
                        map: map.name,
                        member: None,
                        reason: "one of its programs also serves another struct_ops type or \
                                 member, and a program is loaded for one member only",
                    };
                    return Err((step, Errno::EINVAL, None));
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
fn register_struct_ops<B: Backend>(
    loaded: &mut Loaded<B::Pin>,
    backend: &mut B,
    struct_ops: Vec<Option<Translated>>,
) -> Result<(), StepError> {
    let object = loaded.object;
    for (i, translated) in struct_ops.into_iter().enumerate() {
        let map = &object.maps[i];
        let (Some(mut t), Some(ops)) = (translated, map.struct_ops) else {
            continue;
        };
        if !ops.register {
            continue;
        }
        for &(program, at, _) in &t.programs {
            let fd = u64::from(loaded.programs[program]);
            t.value[at as usize..at as usize + 8].copy_from_slice(&fd.to_ne_bytes());
        }
        let step = Step::RegisterStructOps { map: map.name };
        let fd = loaded.maps[i];
        // Room first: a registration made is always recorded, and undone on failure.
        reserve(&mut loaded.registered).map_err(at(step))?;
        reserve(&mut loaded.struct_ops_links).map_err(at(step))?;
        update(backend, fd, 0, &t.value).map_err(at(step))?;
        if map.map_flags & abi::BPF_F_LINK == 0 {
            loaded.registered.push(i);
            continue;
        }
        let mut attr = abi::LinkCreateAttr {
            // `link_create.map_fd` shares the place of `prog_fd`.
            prog_fd: fd,
            attach_type: abi::BPF_STRUCT_OPS,
            ..Default::default()
        };
        // SAFETY: no pointers.
        let link = unsafe { bpf(backend, abi::BPF_LINK_CREATE, &mut attr) }.map_err(at(step))?;
        loaded.struct_ops_links.push((i, link));
    }
    Ok(())
}

/// `BPF_MAP_CREATE` of `map`, with its inner map as the template of a map of maps
/// (created first, closed once the outer map exists).
/// A struct_ops map takes its value's size and type from the kernel (`struct_ops`).
fn create_map<B: Backend>(
    map: &Map,
    struct_ops: Option<&Translated>,
    btf: Option<Fd>,
    backend: &mut B,
) -> Result<Fd, StepError> {
    let step = Step::CreateMap { map: map.name };
    let has_btf = map.btf_key_type_id != 0 || map.btf_value_type_id != 0 || struct_ops.is_some();
    let mut max_entries = map.max_entries;
    if max_entries == 0 && map.map_type == abi::BPF_MAP_TYPE_PERF_EVENT_ARRAY {
        max_entries = backend
            .possible_cpus()
            .map_err(at(Step::CountCpus { map: map.name }))?;
    }
    let inner = match map.inner {
        Some(inner) => Some(create_map(inner, None, btf, backend)?),
        None => None,
    };
    let mut attr = abi::MapCreateAttr {
        map_type: map.map_type,
        key_size: map.key_size,
        value_size: map.value_size,
        max_entries,
        map_flags: map.map_flags,
        inner_map_fd: inner.unwrap_or(0),
        map_name: obj_name(map.kernel_name),
        btf_fd: btf.filter(|_| has_btf).unwrap_or(0),
        btf_key_type_id: map.btf_key_type_id,
        btf_value_type_id: map.btf_value_type_id,
        map_extra: map.map_extra,
        ..Default::default()
    };
    if let Some(t) = struct_ops {
        attr.value_size = t.value.len() as u32;
        attr.btf_vmlinux_value_type_id = t.value_type_id;
    }
    // SAFETY: MAP_CREATE reads no pointers.
    let result = unsafe { bpf(backend, abi::BPF_MAP_CREATE, &mut attr) }.map_err(at(step));
    if let Some(inner) = inner {
        // The outer map keeps what it needs of its template.
        backend.close(inner);
    }
    result
}

/// Writes a map's initial value (its section's bytes, or the Kconfig values of the
/// running kernel) and freezes it if it is to be frozen now.
fn init_map<B: Backend>(map: &Map, fd: Fd, backend: &mut B) -> Result<(), StepError> {
    let kconfig_value;
    let value = if !map.kconfig.is_empty() {
        let config = backend.kernel_config().map_err(at(Step::ReadKconfig))?;
        let mut value = vec![0u8; map.value_size as usize];
        kconfig::fill(map.kconfig, &config, &mut value)
            .map_err(|(name, errno)| (Step::SetKconfig { name }, errno, None))?;
        kconfig_value = value;
        Some(&kconfig_value[..])
    } else {
        map.initial_value
    };
    if let Some(value) = value {
        update(backend, fd, 0, value).map_err(at(Step::InitMap { map: map.name }))?;
    }
    if map.freeze == Freeze::Initialised {
        freeze(backend, map, fd)?;
    }
    Ok(())
}

fn freeze<B: Backend>(backend: &mut B, map: &Map, fd: Fd) -> Result<(), StepError> {
    let mut attr = abi::MapFreezeAttr { map_fd: fd };
    // SAFETY: MAP_FREEZE reads no pointers.
    unsafe { bpf(backend, abi::BPF_MAP_FREEZE, &mut attr) }
        .map(drop)
        .map_err(at(Step::FreezeMap { map: map.name }))
}

/// `BPF_MAP_UPDATE_ELEM` of `key` (a u32) to `value`.
fn update<B: Backend>(backend: &mut B, fd: Fd, key: u32, value: &[u8]) -> Result<(), Errno> {
    let mut attr = abi::MapElemAttr {
        map_fd: fd,
        key: ptr(&key),
        value: ptr(value),
        flags: abi::BPF_ANY,
        ..Default::default()
    };
    // SAFETY: key and value point to key_size and value_size readable bytes (the table
    // gives 4-byte keys to every map with a value to write).
    unsafe { bpf(backend, abi::BPF_MAP_UPDATE_ELEM, &mut attr) }.map(drop)
}

/// Fills the slots whose target `pick` selects with that map's or program's fd.
fn fill_slots<B: Backend>(
    loaded: &Loaded<B::Pin>,
    backend: &mut B,
    pick: impl Fn(SlotTarget) -> Option<usize> + Copy,
) -> Result<(), StepError> {
    for (map, &fd) in loaded.object.maps.iter().zip(&loaded.maps) {
        for slot in map.slots {
            let Some(i) = pick(slot.target) else {
                continue;
            };
            let held = match slot.target {
                SlotTarget::Map(_) => loaded.maps[i],
                SlotTarget::Program(_) => loaded.programs[i],
            };
            let step = Step::FillSlot {
                map: map.name,
                index: slot.index,
            };
            update(backend, fd, slot.index, &held.to_ne_bytes()).map_err(at(step))?;
        }
    }
    Ok(())
}

/// What the running kernel says of an extern.
#[derive(Debug, Clone, Copy)]
enum Resolved {
    /// A BTF id, in vmlinux or in the module BTF `btf_obj_fd`.
    Btf(KernelBtfId),
    Address(u64),
    /// A weak extern the kernel lacks.
    Missing,
}

/// `POISON_CALL_KFUNC_BASE` of libbpf: a weak kfunc the kernel lacks becomes a call of
/// this helper number (plus the extern's index), which the verifier refuses only if
/// the call is reachable (not behind a `bpf_ksym_exists()` check).
const POISON_CALL_KFUNC_BASE: i32 = 2002000000;

fn resolve_externs<B: Backend>(
    object: &'static Object,
    backend: &mut B,
    finder: &mut TargetFinder<'static>,
) -> Result<Vec<Resolved>, StepError> {
    let mut out = Vec::with_capacity(object.externs.len());
    for ext in object.externs {
        let found = match ext.kind {
            ExternKind::Kfunc => finder
                .find(backend, ext.name, BTF_KIND_FUNC)
                .map(Resolved::Btf),
            ExternKind::Ksym => finder
                .find(backend, ext.name, BTF_KIND_VAR)
                .map(Resolved::Btf),
            ExternKind::KsymAddress => finder.address(backend, ext.name).map(Resolved::Address),
        };
        out.push(match found {
            Ok(r) => r,
            Err(Errno::ENOENT) if ext.weak => Resolved::Missing,
            Err(e) => return Err((Step::ResolveExtern { name: ext.name }, e, None)),
        });
    }
    Ok(out)
}

/// A copy of `prog`'s instructions with its extern slots written, as libbpf's
/// `bpf_object__relocate_data` writes them. `slot` gives a module BTF fd's index in
/// `fd_array`.
fn with_externs(
    prog: &Program,
    externs: &[Resolved],
    mut slot: impl FnMut(Fd) -> i16,
) -> Result<Vec<u8>, Errno> {
    let mut insns = Vec::new();
    insns
        .try_reserve_exact(prog.insns.len())
        .map_err(|_| Errno::ENOMEM)?;
    insns.extend_from_slice(prog.insns);
    for u in prog.externs {
        let at = u.insn as usize * INSN_SIZE;
        let Some(insn) = insns.get_mut(at..at + 2 * INSN_SIZE) else {
            continue;
        };
        let resolved = externs
            .get(u.ext as usize)
            .copied()
            .unwrap_or(Resolved::Missing);
        let set_imm = |insn: &mut [u8], i: usize, v: i32| {
            insn[i * INSN_SIZE + 4..i * INSN_SIZE + 8].copy_from_slice(&v.to_le_bytes())
        };
        let set_src = |insn: &mut [u8], src: u8| insn[1] = (insn[1] & 0x0f) | (src << 4);
        if insn[0] == abi::BPF_JMP_CALL {
            match resolved {
                Resolved::Btf(id) => {
                    set_src(insn, abi::BPF_PSEUDO_KFUNC_CALL);
                    set_imm(insn, 0, id.id as i32);
                    let off = id.btf_obj_fd.map_or(0, &mut slot);
                    insn[2..4].copy_from_slice(&off.to_le_bytes());
                }
                _ => {
                    insn[1] = 0;
                    insn[2..4].fill(0);
                    set_imm(insn, 0, POISON_CALL_KFUNC_BASE + u.ext as i32);
                }
            }
        } else {
            match resolved {
                Resolved::Btf(id) => {
                    set_src(insn, abi::BPF_PSEUDO_BTF_ID);
                    set_imm(insn, 0, id.id as i32);
                    set_imm(insn, 1, id.btf_obj_fd.map_or(0, |fd| fd as i32));
                }
                Resolved::Address(a) => {
                    set_src(insn, 0);
                    set_imm(insn, 0, a as u32 as i32);
                    set_imm(insn, 1, (a >> 32) as u32 as i32);
                }
                Resolved::Missing => {
                    set_src(insn, 0);
                    set_imm(insn, 0, 0);
                    set_imm(insn, 1, 0);
                }
            }
        }
    }
    Ok(insns)
}

/// Loads every program, resolving attach targets and externs with `finder`, which it
/// closes.
fn load_programs<B: Backend>(
    loaded: &mut Loaded<B::Pin>,
    backend: &mut B,
    mut finder: Option<TargetFinder<'static>>,
    struct_ops_targets: &[Option<(u32, u32)>],
) -> Result<(), StepError> {
    let result = load_programs_with(loaded, backend, finder.as_mut(), struct_ops_targets);
    if let Some(finder) = finder {
        // Loaded programs hold their own references to module BTF.
        finder.close(backend);
    }
    result
}

fn load_programs_with<B: Backend>(
    loaded: &mut Loaded<B::Pin>,
    backend: &mut B,
    mut finder: Option<&mut TargetFinder<'static>>,
    struct_ops_targets: &[Option<(u32, u32)>],
) -> Result<(), StepError> {
    let object = loaded.object;
    let externs = match finder.as_deref_mut() {
        Some(finder) if !object.externs.is_empty() => resolve_externs(object, backend, finder)?,
        _ => Vec::new(),
    };
    // Instructions name maps by index, and kfuncs of modules by the index of their
    // module's BTF (`insn.off`, never 0, which means vmlinux); the kernel resolves
    // both through this.
    // Every map, a placeholder and each module BTF at most: reserved at once, so the
    // pushes below never allocate.
    let mut fd_array: Vec<i32> = Vec::new();
    fd_array
        .try_reserve_exact(loaded.maps.len() + 1 + externs.len())
        .map_err(|_| {
            let program = object.programs.first().map_or(object.name, |p| p.name);
            (Step::LoadProgram { program }, Errno::ENOMEM, None)
        })?;
    fd_array.extend(loaded.maps.iter().map(|&fd| fd as i32));
    let module_btf = externs.iter().filter_map(|r| match r {
        Resolved::Btf(id) => id.btf_obj_fd.map(|fd| fd as i32),
        _ => None,
    });
    for fd in module_btf {
        if fd_array.is_empty() {
            fd_array.push(-1);
        }
        if !fd_array[loaded.maps.len()..].contains(&fd) {
            fd_array.push(fd);
        }
    }
    let slot = |fd: Fd| {
        fd_array
            .iter()
            .rposition(|&f| f == fd as i32)
            .map_or(0, |i| i as i16)
    };
    for (prog, struct_ops) in object.programs.iter().zip(struct_ops_targets) {
        let mut expected_attach_type = prog.expected_attach_type;
        let attach = match (prog.attach_btf, finder.as_deref_mut(), *struct_ops) {
            // A struct_ops program implements a member of a kernel struct.
            (_, _, Some((id, member))) => {
                expected_attach_type = member;
                KernelBtfId {
                    id,
                    btf_obj_fd: None,
                }
            }
            (Some(target), Some(finder), None) => finder
                .find(backend, target.name, target.kind)
                .map_err(at(Step::FindAttachTarget {
                    program: prog.name,
                    target: target.name,
                }))?,
            _ => KernelBtfId {
                id: 0,
                btf_obj_fd: None,
            },
        };
        let patched = (!prog.externs.is_empty())
            .then(|| with_externs(prog, &externs, slot))
            .transpose()
            .map_err(at(Step::LoadProgram { program: prog.name }))?;
        let insns = patched.as_deref().unwrap_or(prog.insns);
        let mut attr = abi::ProgLoadAttr {
            prog_type: prog.prog_type,
            insn_cnt: (insns.len() / INSN_SIZE) as u32,
            insns: ptr(insns),
            license: prog.license.as_ptr() as u64,
            prog_flags: prog.prog_flags,
            prog_name: obj_name(prog.name),
            expected_attach_type,
            prog_btf_fd: loaded.btf.unwrap_or(0),
            attach_btf_id: attach.id,
            // 0 is vmlinux, in the kernel's ABI.
            attach_btf_obj_fd: attach.btf_obj_fd.unwrap_or(0),
            fd_array: if fd_array.is_empty() {
                0
            } else {
                ptr(&fd_array[..])
            },
            ..Default::default()
        };
        let btf = loaded.btf.is_some();
        if btf && !prog.func_info.is_empty() {
            attr.func_info_rec_size = FUNC_INFO_REC_SIZE;
            attr.func_info = ptr(prog.func_info);
            attr.func_info_cnt = prog.func_info.len() as u32 / FUNC_INFO_REC_SIZE;
        }
        if btf && !prog.line_info.is_empty() {
            attr.line_info_rec_size = LINE_INFO_REC_SIZE;
            attr.line_info = ptr(prog.line_info);
            attr.line_info_cnt = prog.line_info.len() as u32 / LINE_INFO_REC_SIZE;
        }
        if btf && !prog.core_relos.is_empty() {
            attr.core_relo_rec_size = CORE_RELO_REC_SIZE;
            attr.core_relos = ptr(prog.core_relos);
            attr.core_relo_cnt = prog.core_relos.len() as u32 / CORE_RELO_REC_SIZE;
        }
        let step = Step::LoadProgram { program: prog.name };
        // SAFETY: every pointer in `attr` refers to static table data, to the patched
        // copy of the instructions or to `fd_array`, all alive and of the sizes given
        // beside them.
        let result = match unsafe { bpf(backend, abi::BPF_PROG_LOAD, &mut attr) } {
            Ok(fd) => Ok(fd),
            Err(errno) => Err((step, errno, verifier_log(backend, attr))),
        };
        loaded.programs.push(result?);
    }
    Ok(())
}

/// Repeats a rejected `BPF_PROG_LOAD` with a log buffer, when the backend wants it,
/// and returns the end of the verifier's log.
fn verifier_log<B: Backend + ?Sized>(
    backend: &mut B,
    mut attr: abi::ProgLoadAttr,
) -> Option<String> {
    const LOG_SIZE: usize = 1 << 20;
    const TAIL_LINES: usize = 24;
    if !backend.wants_verifier_log() {
        return None;
    }
    let mut log = vec![0u8; LOG_SIZE];
    attr.log_level = 1;
    attr.log_size = LOG_SIZE as u32;
    attr.log_buf = log.as_mut_ptr() as u64;
    // SAFETY: as for the first attempt, plus `log_buf` valid for `log_size` bytes.
    if let Ok(fd) = unsafe { bpf(backend, abi::BPF_PROG_LOAD, &mut attr) } {
        // Accepted the second time (a transient failure): not ours to keep.
        backend.close(fd);
        return None;
    }
    let len = log.iter().position(|&b| b == 0).unwrap_or(log.len());
    let text = String::from_utf8_lossy(&log[..len]);
    let text = text.trim_end();
    let start = text
        .rmatch_indices('\n')
        .nth(TAIL_LINES - 1)
        .map_or(0, |(i, _)| i + 1);
    (!text.is_empty()).then(|| String::from(&text[start..]))
}
