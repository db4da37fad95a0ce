//! Pin options that would do nothing.
use bpf_preload::bpf_preload;

#[bpf_preload(obj = "../fixtures/odd_names.bpf.o", pin_as(filter = "filter"))]
pub struct LoadOnlyProgram;

#[bpf_preload(obj = "../../examples/counters/bpf/counters.bpf.o", no_attach(count_getppid_tp), no_pin(count_getppid_tp))]
pub struct DetachedProgram;

#[bpf_preload(obj = "../../examples/counters/bpf/counters.bpf.o", no_pin(rodata))]
pub struct UnpinnedMap;

#[bpf_preload(obj = "../../examples/iterators/bpf/iterators.bpf.o", pin_as(dump_bpf_map = "maps"), no_pin(dump_bpf_map))]
pub struct RenamedAndUnpinned;

fn main() {}
