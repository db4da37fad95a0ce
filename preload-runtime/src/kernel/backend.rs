//! [`KernelBackend`]: bpf(2) from kernel context through the shim, and printk.

use core::ffi::c_int;
use core::fmt;

use super::ffi::{self, PIN_LINK, PIN_MAP, PIN_PROG};
use crate::backend::{Backend, MapDef};
use crate::errno::Errno;
use crate::kconfig::KernelConfig;
use crate::sys::{Bpf, Fd, MapFd, ObjectKind};

/// printk levels.
#[derive(Clone, Copy)]
pub enum Level {
    /// `KERN_ERR`.
    Err = 3,
    /// `KERN_WARNING`.
    Warning = 4,
    /// `KERN_INFO`.
    Info = 6,
}

/// Prints one line through printk about the object of module `who`, prefixed with
/// the runtime's and `who`'s names by runtime.c. The line is formatted on the
/// stack, never allocated: logging runs where an allocation failure must not
/// become a panic (populate, with the kernel's preload lock held). Past 512 bytes
/// it is cut and ends in `...`.
pub fn log(level: Level, who: &str, args: fmt::Arguments<'_>) {
    let line = crate::line::Line::<512>::format(args);
    let bytes = line.as_bytes();
    // SAFETY: both are valid for their lengths for the call; runtime.c prints them
    // with %.*s.
    unsafe {
        ffi::bpf_preload_log(
            level as c_int,
            who.as_ptr().cast(),
            who.len(),
            bytes.as_ptr().cast(),
            bytes.len(),
        )
    };
}

/// bpf(2) from kernel context. A module cannot pin while it loads (it has no bpffs
/// of its own): the object module registers with the kernel, which asks the runtime
/// to pin what it holds into each bpffs instance it creates.
#[derive(Debug, Default)]
pub struct KernelBackend {
    /// The lines of the kernel's configuration the object reads, which the object
    /// module's build took from the kernel's `include/config/auto.conf`.
    pub(super) kconfig: &'static str,
}

impl Bpf for KernelBackend {
    unsafe fn bpf(&mut self, cmd: u32, attr: &mut [u8]) -> Result<u32, Errno> {
        // SAFETY: the caller guarantees `attr` is valid for `cmd`; kern_sys_bpf reads
        // it and every pointer in it as kernel memory.
        let ret = unsafe {
            ffi::bpf_preload_sys_bpf(cmd as c_int, attr.as_mut_ptr().cast(), attr.len() as u32)
        };
        if ret < 0 {
            Err(Errno(-ret))
        } else {
            Ok(ret as u32)
        }
    }
}

impl Backend for KernelBackend {
    /// None: a module pins later, into each bpffs instance (see `runtime::bpf_preload_rust_populate`).
    type Pin = core::convert::Infallible;

    fn close(&mut self, fd: Fd) {
        // SAFETY: an fd kern_sys_bpf installed in this task's table, closed once.
        unsafe { ffi::bpf_preload_close_fd(fd) };
    }

    fn pins_at_load(&self) -> bool {
        false
    }

    fn pin(&mut self, _fd: Fd, _name: &'static str) -> Result<Self::Pin, Errno> {
        Err(Errno::EOPNOTSUPP)
    }

    fn unpin(&mut self, pin: Self::Pin) {
        match pin {}
    }

    fn shared_map(&mut self, name: &str) -> Result<Option<(Fd, MapDef)>, Errno> {
        let (mut def, mut map_extra) = ([0u32; 5], 0u64);
        // SAFETY: `name` is valid for its length; `def` has the five slots the shim
        // writes and `map_extra` is writable.
        let ret = unsafe {
            ffi::bpf_preload_shared_map(
                name.as_ptr().cast(),
                name.len(),
                def.as_mut_ptr(),
                &mut map_extra,
            )
        };
        match ret {
            ret if ret == -(Errno::ENOENT.0 as c_int) => Ok(None),
            ret if ret < 0 => Err(Errno(-ret)),
            fd => {
                let [map_type, key_size, value_size, max_entries, map_flags] = def;
                let def = MapDef {
                    map_type,
                    key_size,
                    value_size,
                    max_entries,
                    map_flags,
                    map_extra,
                };
                Ok(Some((fd as Fd, def)))
            }
        }
    }

    fn share_map(&mut self, fd: Fd, name: &str) -> Result<(), Errno> {
        // SAFETY: `fd` is one of ours and open; `name` is valid for its length.
        let ret = unsafe { ffi::bpf_preload_share_map(fd, name.as_ptr().cast(), name.len()) };
        if ret < 0 {
            Err(Errno(-ret))
        } else {
            Ok(())
        }
    }

    fn unshare_map(&mut self, name: &str) {
        // SAFETY: `name` is valid for its length.
        unsafe { ffi::bpf_preload_unshare_map(name.as_ptr().cast(), name.len()) };
    }

    fn unregister_struct_ops(&mut self, map: &MapFd) -> Result<(), Errno> {
        // SAFETY: `fd` is one of ours; the shim checks that it is a struct_ops map.
        let ret = unsafe { ffi::bpf_preload_struct_ops_unregister(map.fd) };
        if ret < 0 {
            Err(Errno(-ret))
        } else {
            Ok(())
        }
    }

    fn with_vmlinux_btf(&mut self, read: &mut dyn FnMut(&[u8])) -> Result<(), Errno> {
        let (mut buf, mut size) = (core::ptr::null_mut(), 0usize);
        // SAFETY: both out-pointers are writable.
        let ret = unsafe { ffi::bpf_preload_read_vmlinux_btf(&mut buf, &mut size) };
        if ret < 0 {
            return Err(Errno(-ret));
        }
        // SAFETY: the shim read `size` bytes into `buf`, a vmalloc buffer (6 MiB of
        // BTF is beyond kmalloc) that is ours until the vfree below.
        read(unsafe { core::slice::from_raw_parts(buf.cast::<u8>(), size) });
        // SAFETY: allocated by the shim for us, freed once.
        unsafe { ffi::bpf_preload_vfree(buf) };
        Ok(())
    }

    fn possible_cpus(&mut self) -> Result<u32, Errno> {
        // SAFETY: no arguments; reads the kernel's CPU mask.
        Ok(unsafe { ffi::bpf_preload_possible_cpus() })
    }

    fn object_id(&mut self, kind: ObjectKind, fd: Fd, prog_type: u32) -> Result<u32, Errno> {
        let kind = match kind {
            ObjectKind::Map => PIN_MAP,
            ObjectKind::Program => PIN_PROG,
            ObjectKind::Link => PIN_LINK,
        };
        let mut id = 0;
        // SAFETY: `fd` is one of ours and open; `id` is writable.
        let ret = unsafe { ffi::bpf_preload_object_id(kind, fd, prog_type, &mut id) };
        if ret < 0 {
            Err(Errno(-ret))
        } else {
            Ok(id)
        }
    }

    fn kernel_config(&mut self) -> Result<KernelConfig<'_>, Errno> {
        Ok(KernelConfig {
            text: self.kconfig,
            // SAFETY: no arguments; returns a constant.
            version: unsafe { ffi::bpf_preload_kernel_version() },
        })
    }
}
