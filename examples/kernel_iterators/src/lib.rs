//! The object Linux 6.12 preloads itself (`kernel/bpf/preload/iterators`), preloaded
//! by bpf-preload instead: `maps.debug` and `progs.debug` in every bpffs mount, with
//! each map's element count from the kfunc `bpf_map_sum_elem_count()`.
#![no_std]

use bpf_preload::bpf_preload;

#[bpf_preload(
    obj = "bpf/iterators.bpf.o",
    name = "kernel_iterators",
    pin_as(dump_bpf_map = "maps.debug", dump_bpf_prog = "progs.debug")
)]
pub struct KernelIterators;
