//! runtime.c's functions for the Rust loader (`kernel/shim.h`), declared for Rust. A
//! test (`tests/shim_ffi.rs`) checks each declaration against the header.

use core::ffi::{c_char, c_int, c_void};

/// What `bpf_preload_pin` and `bpf_preload_hold_file` take as `kind` (the kernel's
/// `enum bpf_type`, as `BPF_PRELOAD_PIN_*` in shim.h).
pub(crate) const PIN_PROG: u32 = 1;
/// See [`PIN_PROG`].
pub(crate) const PIN_MAP: u32 = 2;
/// See [`PIN_PROG`].
pub(crate) const PIN_LINK: u32 = 3;

#[cfg_attr(
    not(target_os = "none"),
    allow(
        dead_code,
        reason = "the allocator and the panic handler are the module build's"
    )
)]
unsafe extern "C" {
    pub(crate) fn bpf_preload_sys_bpf(cmd: c_int, attr: *mut c_void, size: u32) -> c_int;
    pub(crate) fn bpf_preload_close_fd(fd: u32);
    pub(crate) fn bpf_preload_kernel_version() -> u32;
    pub(crate) fn bpf_preload_possible_cpus() -> u32;
    pub(crate) fn bpf_preload_alloc(size: usize) -> *mut c_void;
    pub(crate) fn bpf_preload_realloc(ptr: *mut c_void, size: usize) -> *mut c_void;
    pub(crate) fn bpf_preload_free(ptr: *mut c_void);
    pub(crate) fn bpf_preload_log(
        level: c_int,
        who: *const c_char,
        who_len: usize,
        msg: *const c_char,
        len: usize,
    );
    pub(crate) fn bpf_preload_hold_file(
        kind: u32,
        fd: u32,
        prog_type: u32,
        file: *mut *mut c_void,
        object: *mut *mut c_void,
    ) -> c_int;
    pub(crate) fn bpf_preload_release_file(file: *mut c_void);
    pub(crate) fn bpf_preload_keep_file(file: *mut c_void);
    pub(crate) fn bpf_preload_object_id(kind: u32, fd: u32, prog_type: u32, id: *mut u32) -> c_int;
    pub(crate) fn bpf_preload_struct_ops_unregister(fd: u32) -> c_int;
    pub(crate) fn bpf_preload_struct_ops_unregister_release(file: *mut c_void);
    pub(crate) fn bpf_preload_hold_ftrace() -> c_int;
    pub(crate) fn bpf_preload_read_vmlinux_btf(buf: *mut *mut c_void, size: *mut usize) -> c_int;
    pub(crate) fn bpf_preload_vfree(buf: *mut c_void);
    pub(crate) fn bpf_preload_pins_per_object() -> bool;
    pub(crate) fn bpf_preload_pin(
        dir: *mut c_void,
        name: *const c_char,
        object: *mut c_void,
        kind: u32,
    ) -> c_int;
    pub(crate) fn bpf_preload_expose(
        runtime: bool,
        name0: *const c_char,
        link0: *mut c_void,
        name1: *const c_char,
        link1: *mut c_void,
    ) -> c_int;
    pub(crate) fn bpf_preload_unexpose(runtime: bool);
    pub(crate) fn bpf_preload_install_fd(file: *mut c_void) -> c_int;
    pub(crate) fn bpf_preload_shared_map(
        name: *const c_char,
        len: usize,
        def: *mut u32,
        map_extra: *mut u64,
    ) -> c_int;
    pub(crate) fn bpf_preload_share_map(fd: u32, name: *const c_char, len: usize) -> c_int;
    pub(crate) fn bpf_preload_unshare_map(name: *const c_char, len: usize);
    pub(crate) fn bpf_preload_panic(msg: *const c_char, len: usize) -> !;
}
