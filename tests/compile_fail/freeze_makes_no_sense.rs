//! `freeze(...)` naming a map the object lacks, or one freezing makes no sense for.
use bpf_preload::bpf_preload;

#[bpf_preload(obj = "../../examples/counters/bpf/counters.bpf.o", freeze(counts, events, rodata))]
pub struct Counters;

#[bpf_preload(obj = "../../examples/map_kinds/bpf/map_kinds.bpf.o", freeze(events))]
pub struct PerfEvents;

#[bpf_preload(obj = "../../examples/counters/bpf/counters.bpf.o", freeze(bss), freeze_all)]
pub struct Both;

fn main() {}
