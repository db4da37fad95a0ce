//! `set(...)` naming a variable the object lacks (a near name is suggested), or one no
//! loader writes: a static variable, a `__kconfig` extern, a map, a program; a variable
//! set twice; and an object without BTF, which names no variables.
use bpf_preload::bpf_preload;

#[bpf_preload(obj = "../fixtures/config.bpf.o", set(target_pd = 1, nothing_like_this = 2))]
pub struct Unknown;

#[bpf_preload(
    obj = "../fixtures/config.bpf.o",
    set(runs = 1, LINUX_KERNEL_VERSION = 2, hits = 3, check = 4, step = 5, step = 6)
)]
pub struct NotWritten;

#[bpf_preload(obj = "../fixtures/no_btf.bpf.o", set(counter = 1))]
pub struct NoBtf;

fn main() {}
