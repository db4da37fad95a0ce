//! What the loader needs from the place it runs in. The loader is generic over this
//! trait, so the code that runs in the kernel is the code tested from user space.

use core::fmt;

use crate::errno::Errno;
use crate::kconfig::KernelConfig;
use crate::sys::{self, Bpf, Fd, MapFd, ObjectKind};

/// A map's definition as the kernel holds it: what libbpf compares before it reuses a
/// map pinned by name (`map_is_reuse_compat`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MapDef {
    /// `BPF_MAP_TYPE_*`.
    pub map_type: u32,
    /// Key size in bytes.
    pub key_size: u32,
    /// Value size in bytes.
    pub value_size: u32,
    /// Entries.
    pub max_entries: u32,
    /// `BPF_F_*` map flags.
    pub map_flags: u32,
    /// `map_extra`.
    pub map_extra: u64,
}

/// The environment the loader runs in: the kernel (through the C shim) or a process.
/// Its bpf(2) door is the supertrait [`Bpf`], which the typed layer ([`sys`]) is built
/// on; the rest is what the loader needs besides bpf(2).
pub trait Backend: Bpf {
    /// How a pin is remembered so it can be removed again.
    type Pin;

    /// Closes an fd this backend returned.
    fn close(&mut self, fd: Fd);

    /// Attaches `prog` to a tracepoint and returns a link fd.
    fn attach_tracepoint(&mut self, prog: Fd, category: &str, name: &str) -> Result<Fd, Errno> {
        let _ = (prog, category, name);
        Err(Errno::EOPNOTSUPP)
    }

    /// Whether `load` pins what the table pins. A module pins later instead, into
    /// each bpffs instance the kernel creates, from what it holds.
    fn pins_at_load(&self) -> bool {
        true
    }

    /// Pins `fd` as `name` in the object's bpffs directory.
    fn pin(&mut self, fd: Fd, name: &'static str) -> Result<Self::Pin, Errno>;

    /// Removes a pin made by [`Backend::pin`].
    fn unpin(&mut self, pin: Self::Pin);

    /// The map an object loaded before shared under `name` (libbpf's
    /// `LIBBPF_PIN_BY_NAME`): a new fd for it and its definition as the kernel holds
    /// it; `None` if no map is shared under that name.
    fn shared_map(&mut self, name: &str) -> Result<Option<(Fd, MapDef)>, Errno> {
        let _ = name;
        Err(Errno::EOPNOTSUPP)
    }

    /// Shares the map `fd` under `name` with the objects loaded after this one. It
    /// stays shared when this object is freed, as libbpf's pin outlives its process:
    /// from a process until its pin is removed, from a module until the runtime is.
    fn share_map(&mut self, fd: Fd, name: &str) -> Result<(), Errno> {
        let _ = (fd, name);
        Err(Errno::EOPNOTSUPP)
    }

    /// Undoes [`Backend::share_map`] of `name` for a load that failed, as libbpf
    /// unpins what a failed load pinned.
    fn unshare_map(&mut self, name: &str) {
        let _ = name;
    }

    /// Unregisters a struct_ops map registered without a link, as
    /// `BPF_MAP_DELETE_ELEM` of key 0 does. A module does it without that syscall: on
    /// a failed load the guard of `protect` is still attached (a module's closed fds
    /// are released only when insmod returns) and would refuse it.
    fn unregister_struct_ops(&mut self, map: &MapFd) -> Result<(), Errno> {
        sys::map_delete(self, map, &0u32.to_ne_bytes())
    }

    /// Maps the arena `fd` of `pages` pages, as libbpf maps every arena it creates:
    /// at `map_extra` if that is set, anywhere otherwise, where the first mapping fixes
    /// the arena's address for its programs; then writes `data` (its `__arena`
    /// globals) at its start, which gives the arena those pages, and unmaps it. A
    /// module runs in no process whose memory the arena could be mapped into: it takes
    /// an arena without globals, which it leaves to be mapped by whoever reads it, and
    /// refuses one with them.
    fn map_arena(
        &mut self,
        fd: Fd,
        map_extra: u64,
        pages: u32,
        data: Option<&[u8]>,
    ) -> Result<(), Errno> {
        let _ = (fd, map_extra, pages);
        match data {
            None => Ok(()),
            Some(_) => Err(Errno::EOPNOTSUPP),
        }
    }

    /// The function `function` of the BPF program pinned at `pin`, the attach target
    /// of a program that replaces or traces it (freplace, fentry, fexit), as libbpf's
    /// `libbpf_find_prog_btf_id` finds it: a new fd of that program, which the
    /// program is loaded with (`attach_prog_fd`), and the function's id in its BTF. A
    /// module opens no pin: bpffs is a view of user space's.
    fn program_function(&mut self, pin: &str, function: &str) -> Result<(Fd, u32), Errno> {
        let _ = (pin, function);
        Err(Errno::EOPNOTSUPP)
    }

    /// The number of possible CPUs, for perf event arrays sized by them.
    fn possible_cpus(&mut self) -> Result<u32, Errno> {
        Err(Errno::EOPNOTSUPP)
    }

    /// The configuration of the kernel the object runs on, for `.kconfig` externs.
    fn kernel_config(&mut self) -> Result<KernelConfig<'_>, Errno> {
        Err(Errno::EOPNOTSUPP)
    }

    /// The kernel's id of the map, program or link behind `fd` (`prog_type` is the
    /// program's type, for a program), for the guard. By default
    /// `BPF_OBJ_GET_INFO_BY_FD`, whose three info structs start with the type and the
    /// id; a module cannot make that call and asks the object itself.
    fn object_id(&mut self, kind: ObjectKind, fd: Fd, prog_type: u32) -> Result<u32, Errno> {
        let _ = (kind, prog_type);
        sys::obj_id(self, fd)
    }

    /// Calls `read` with the running kernel's BTF (`/sys/kernel/btf/vmlinux`), which
    /// lays out struct_ops values.
    fn with_vmlinux_btf(&mut self, read: &mut dyn FnMut(&[u8])) -> Result<(), Errno> {
        let _ = read;
        Err(Errno::EOPNOTSUPP)
    }

    /// Whether this backend can bind a map to a program (`BPF_PROG_BIND_MAP`), as the
    /// loader binds `.rodata` to every program after loading it, as libbpf does. A
    /// process can (kernel 5.10 and later); a module cannot: `kern_sys_bpf` passes
    /// only the commands light skeletons use, and refuses this one (`EINVAL`). It
    /// loses nothing it needs: the module holds every map of the object itself, so
    /// only `bpftool prog show` misses `.rodata` (and its `bpf_metadata_*`) in the
    /// program's maps.
    fn binds_maps(&self) -> bool {
        false
    }

    /// Reports what the load did otherwise than asked without failing for it (a map
    /// the kernel would not bind to a program, which libbpf too only warns about).
    /// Nothing by default.
    fn warn(&mut self, what: fmt::Arguments<'_>) {
        let _ = what;
    }

    /// Whether a failed program load is worth repeating with a verifier log.
    fn wants_verifier_log(&self) -> bool {
        false
    }

    /// Whether this backend's pins can outlive the holder of the object (a process,
    /// which `kill -9` ends while its pins keep the object alive). If so, the guard of
    /// `protect` is pinned beside the object's pins, so that it lives as long as they
    /// do. A module holds what it pins until it is removed, and pins nothing of its own.
    fn pins_outlive_holder(&self) -> bool {
        false
    }

    /// The id of the process that holds the object (its fds) for as long as it runs,
    /// which the guard of `protect` keeps other processes from attaching to
    /// (ptrace, `pidfd_getfd`, `/proc/PID/mem`); 0 for none (a module: insmod exits).
    fn holder(&self) -> u32 {
        0
    }

    /// Waits a little, between two looks at something the kernel frees
    /// asynchronously (a pin's reference, dropped after an RCU grace period).
    fn pause(&mut self) {}
}
