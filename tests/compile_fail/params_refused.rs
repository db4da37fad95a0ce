//! `params(...)` naming a variable the object lacks (a near name is suggested), one no
//! loader writes (a static variable, a `__kconfig` extern, a map, a program), one named
//! twice, one whose value text cannot give (a struct, an array of other than bytes),
//! a quoted name, and a value instead of a name.
use bpf_preload::bpf_preload;

#[bpf_preload(
    obj = "../fixtures/config.bpf.o",
    params(target_pd, nothing_like_this, runs, LINUX_KERNEL_VERSION, hits, check)
)]
pub struct Unknown;

#[bpf_preload(obj = "../fixtures/config.bpf.o", params(mode, mode, pair, ports, names))]
pub struct NotText;

#[bpf_preload(obj = "../fixtures/config.bpf.o", params("mode"))]
pub struct Quoted;

#[bpf_preload(obj = "../fixtures/config.bpf.o", params(mode = 1))]
pub struct Valued;

fn main() {}
