//! The kernel backend: the loader inside the runtime module, over its C half
//! (`kernel/runtime.c`, contract in `kernel/shim.h`), for the tables object modules
//! hand it (`kernel/bpf_preload_runtime.h`, `kernel/object.c`). Load and attach with
//! `kern_sys_bpf`, hold the file behind every fd (exactly what the fd held, user
//! references included) and close the fd before module init returns, keep ftrace on
//! while a program runs through a trampoline, then show the object in bpffs the way
//! the kernel allows:
//!
//! - with the preload series (`kernel/patches/`): the object module registers with
//!   the kernel, which then asks for the pins of every new bpffs instance, in
//!   `<mount>/<object>/`;
//! - on a stock kernel (Debian's 6.1 and 6.12): offer two iterator links to every
//!   bpffs mount through the kernel's own preload hook, when the object pins exactly
//!   two.
//!
//! By job: `ffi` declares runtime.c, `backend` is bpf(2) and printk, `hold` takes
//! and releases references, `runtime` is each object's life in the runtime (load,
//! populate, release, abandon: the Rust halves of the runtime's exports),
//! `status` the runtime's status view (its own object, and the rows of what it
//! holds), `lang_items` the allocator and the panic handler.

mod backend;
mod ffi;
mod hold;
#[cfg(target_os = "none")]
mod lang_items;
mod runtime;
mod status;

pub use backend::{log, KernelBackend, Level};
