//! Loads, attaches, pins and frees BPF objects described by the static tables that
//! `#[bpf_preload]` emits. One generic loader ([`load`]) runs over a small [`Backend`]
//! trait: in the kernel through the C shim, or from user space over bpf(2) (feature `std`).
#![no_std]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod abi;
mod assert;
pub mod backend;
pub mod btf;
pub mod describe;
pub mod errno;
pub mod error;
pub mod fault;
#[cfg(feature = "kernel")]
pub mod kernel;
pub mod loader;
pub mod table;
#[cfg(feature = "std")]
pub mod user;

pub use backend::{Backend, Fd};
pub use bpf_preload_macros::bpf_preload;
pub use errno::Errno;
pub use error::{Error, Step};
pub use loader::{load, Loaded};
pub use table::*;

/// What `#[bpf_preload]` expands to refers to; not an API.
#[doc(hidden)]
pub mod __private {
    pub use crate::assert::user_space_attach_only;
}
