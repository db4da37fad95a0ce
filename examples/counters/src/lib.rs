//! Tracing programs (tracepoint, raw_tp, tp_btf) counting getppid(2) calls per process
//! into a BTF-defined hash map, with `.data`, `.rodata` and `.bss` globals and a ring
//! buffer of events. The data maps are pinned too, so their contents can be read.
#![no_std]

use bpf_preload::bpf_preload;

#[bpf_preload(obj = "bpf/counters.bpf.o", pin_data)]
pub struct Counters;
