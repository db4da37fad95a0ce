//! `obj` given twice.
use bpf_preload::bpf_preload;

#[bpf_preload(obj = "../../examples/iterators/bpf/iterators.bpf.o", obj = "../../examples/counters/bpf/counters.bpf.o")]
pub struct Iterators;

fn main() {}
