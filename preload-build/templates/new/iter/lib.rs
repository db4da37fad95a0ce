//! `@PACKAGE@`: two BPF iterators (`bpf/@OBJ@.bpf.c`), preloaded by bpf-preload. Built
//! into a kernel module (`cargo bpf-preload build`), they appear as the files `tasks`
//! and `maps` in bpffs: every mount of a stock kernel, `/sys/fs/bpf/@OBJ@/` on the
//! patched one.
#![no_std]

use bpf_preload::bpf_preload;

#[bpf_preload(
    obj = "../bpf/@OBJ@.bpf.o",
    pin_as(dump_tasks = "tasks", dump_maps = "maps")
)]
pub struct @TYPE@;
