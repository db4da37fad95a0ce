//! The kernel backend: the loader inside a module, over the generic C shim
//! (`kernel/shim.c`, contract in `kernel/shim.h`). Load and attach with
//! `kern_sys_bpf`, hold the file behind every fd (exactly what the fd held, user
//! references included) and close the fd before module init returns, keep ftrace on
//! while a program runs through a trampoline, then show the object in bpffs the way
//! the kernel allows:
//!
//! - with the preload series (`kernel/patches/`): register with the kernel, which
//!   then asks for the pins of every new bpffs instance, in `<mount>/<object>/`;
//! - on a stock kernel (Debian's 6.1 and 6.12): offer two iterator links to every
//!   bpffs mount through the kernel's own preload hook, when the object pins exactly
//!   two.
//!
//! By job: `ffi` declares the shim, `backend` is bpf(2) and printk, `hold` takes
//! and releases references, `module` is the module's life (init, populate, exit and
//! [`kernel_module!`](crate::kernel_module)), `lang_items` the allocator and the
//! panic handler.

mod backend;
mod ffi;
mod hold;
#[cfg(target_os = "none")]
mod lang_items;
mod module;

pub use backend::{log, KernelBackend, Level};
#[doc(hidden)]
pub use module::{abandon, exit, init, populate};
