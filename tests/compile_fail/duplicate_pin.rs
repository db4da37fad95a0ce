//! Two links renamed to one pin.
use bpf_preload::bpf_preload;

#[bpf_preload(obj = "../../examples/iterators/bpf/iterators.bpf.o", pin_as(dump_bpf_map = "debug", dump_bpf_prog = "debug"))]
pub struct Iterators;

fn main() {}
