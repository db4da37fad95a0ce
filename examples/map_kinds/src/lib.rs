//! Maps the loader completes at load time: a map of maps and a program array with
//! statically filled slots (`.values = { ... }`), a perf event array sized to the
//! possible CPUs, and a `.bss` user space can mmap. Loaded from user space and run
//! with `BPF_PROG_TEST_RUN`.
#![no_std]

use bpf_preload::bpf_preload;

#[bpf_preload(obj = "bpf/map_kinds.bpf.o", pin_data)]
pub struct MapKinds;
