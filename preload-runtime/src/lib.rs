//! Loads, attaches, pins and frees BPF objects described by the static tables that
//! `#[bpf_preload]` emits. One generic loader ([`load`]) runs over a small [`Backend`]
//! trait: in the kernel through the C shim, or from user space over bpf(2) (feature `std`).
//!
//! A crate names its compiled object once; the attribute reads it at compile time and
//! emits only data (a `static` table) and `impl Preload`:
//!
//! ```no_run
//! use bpf_preload::bpf_preload;
//!
//! #[bpf_preload(obj = "../examples/mkdir_guard/bpf/mkdir_guard.bpf.o")]
//! pub struct MkdirGuard;
//! # fn main() {}
//! ```
//!
//! **As a kernel module**, loaded at every boot: `cargo bpf-preload build` (the
//! `bpf-preload-build` crate) makes two modules. The object module holds only the
//! table (data) and the generic `kernel/object.c`; the runtime module,
//! `bpf_preload_runtime.ko`, one per kernel and shared by every object module, is
//! this crate with its `kernel` feature linked with `kernel/runtime.c`, and loads,
//! attaches and holds each table it is handed (`kernel/bpf_preload_runtime.h`).
//! `cargo bpf-preload install --initramfs` makes Debian's initramfs load both before
//! init. [`describe`] says what such a module will do.
//!
//! **From a process** (feature `std`), into a bpffs directory:
//!
//! ```no_run
//! # #[cfg(feature = "std")]
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # use bpf_preload::bpf_preload;
//! # #[bpf_preload(obj = "../examples/mkdir_guard/bpf/mkdir_guard.bpf.o")]
//! # pub struct MkdirGuard;
//! use bpf_preload::user::UserBackend;
//! use bpf_preload::{load, Preload};
//!
//! let mut backend = UserBackend::new("/sys/fs/bpf/mkdir_guard");
//! let loaded = load(MkdirGuard::OBJECT, &mut backend)?; // loaded, attached, pinned
//! loaded.free(&mut backend); // detached, closed, unpinned
//! # Ok(())
//! # }
//! # #[cfg(not(feature = "std"))]
//! # fn main() {}
//! ```
#![no_std]
#![deny(missing_docs)]

extern crate alloc;
// The guard's table is made by `#[bpf_preload]`, whose expansion names this crate.
extern crate self as bpf_preload;
#[cfg(feature = "std")]
extern crate std;

#[allow(
    missing_docs,
    reason = "the names of <linux/bpf.h> and <linux/btf.h>, documented there"
)]
pub mod abi;
mod assert;
mod backend;
mod btf;
pub mod describe;
mod errno;
mod error;
#[cfg(feature = "testing")]
mod fault;
mod kconfig;
#[cfg(feature = "kernel")]
pub mod kernel;
#[cfg_attr(
    not(feature = "kernel"),
    allow(
        dead_code,
        reason = "only the kernel backend prints; tested on the host"
    )
)]
mod line;
mod load;
mod loaded;
mod params;
pub mod status;
pub mod sys;
mod table;
#[cfg(feature = "std")]
pub mod user;

pub use backend::{Backend, MapDef};
pub use bpf_preload_macros::bpf_preload;
pub use errno::Errno;
pub use error::{Error, Step};
pub use kconfig::KernelConfig;
pub use load::{load, load_with};
pub use loaded::{Loaded, Part};
pub use params::{ParamError, ParamProblem, Params};
pub use sys::{Bpf, Fd, ObjectKind};
pub use table::*;

/// What tests, oracles and fuzzers check beneath the public API: fault injection, the
/// raw BTF reader and the kernel-BTF finder.
#[cfg(feature = "testing")]
pub mod testing {
    pub use crate::btf::*;
    pub use crate::fault::FailNth;
    pub use crate::load::finder::{KernelBtfId, TargetFinder};

    /// Runs any bpf(2) command with any attr, outside the typed layer: for tests that
    /// make the calls an attacker would, and check what the kernel refuses.
    ///
    /// # Safety
    /// Every pointer in `attr` must be valid for what `cmd` does with it.
    pub unsafe fn bpf<B: crate::Bpf + ?Sized, A: crate::abi::BpfAttr>(
        backend: &mut B,
        cmd: u32,
        attr: &mut A,
    ) -> Result<u32, crate::Errno> {
        // SAFETY: forwarded to the caller.
        unsafe { crate::sys::call(backend, cmd, attr) }
    }
}

/// What `#[bpf_preload]` expands to and the generated crates of `cargo bpf-preload`
/// refer to; not an API.
#[doc(hidden)]
pub mod __private {
    pub use crate::assert::user_space_attach_only;
    pub use crate::kconfig::options_read as kconfig_options_read;
    pub use crate::load::Guard;
    pub use crate::params::params_header;
}
