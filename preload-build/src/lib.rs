//! Builds a crate that uses [bpf-preload](https://docs.rs/bpf-preload) into a Linux
//! kernel module, installs it for every boot with Debian's own machinery, and makes
//! DKMS trees that rebuild it for new kernels without a Rust toolchain. This is the
//! library behind `cargo bpf-preload` (`cargo install --path preload-build`).
//!
//! A crate anywhere, with `bpf-preload` from a path, git or a registry:
//!
//! ```no_run
//! use bpf_preload_build::{module, Crate, KernelTree};
//!
//! # fn main() -> anyhow::Result<()> {
//! // cargo metadata finds the package, its library and the exact bpf-preload it
//! // resolves to; syn finds the #[bpf_preload] struct in its module tree.
//! let krate = Crate::open("my-policy".as_ref())?;
//! let kernel = KernelTree::open("/usr/src/linux-headers-6.1.0-57-amd64".as_ref())?;
//! let built = module::build(&krate, &kernel, &module::Options::default())?;
//! println!("{}", built.ko.display()); // my-policy/target/bpf-preload/6.1.0-57-amd64/my_policy.ko
//! # Ok(())
//! # }
//! ```
//!
//! Then [`install`] puts it in `/lib/modules/<release>/updates/` (or an image tree)
//! with `modules-load.d` and the initramfs, [`dkms::trees`] writes the DKMS source
//! trees of the runtime module (its Rust part prebuilt per set of code-generation
//! flags, [`Codegen`]) and of the object module, and [`deb::packages`] makes Debian
//! packages of them with `dpkg-buildpackage` and `dh-dkms`.
//!
//! The same crate loads from a process too, with `bpf-preload`'s `std` feature and
//! no build step of ours: `bpf_preload::load(MyPolicy::OBJECT, &mut UserBackend::new(dir))`.
#![deny(missing_docs)]

pub mod deb;
pub mod dkms;
pub mod install;
pub mod kernel;
pub mod module;
pub mod new;
pub mod package;
pub mod tools;

pub use kernel::{find_kdir, version_key, Codegen, KernelTree};
pub use module::Module;
pub use package::{Crate, Preloaded, Runtime};
