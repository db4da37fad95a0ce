//! Options naming programs and maps the object lacks.
use bpf_preload::bpf_preload;

#[bpf_preload(obj = "../../examples/iterators/bpf/iterators.bpf.o", no_attach(dump_bpf_mpa))]
pub struct Typo;

#[bpf_preload(obj = "../../examples/counters/bpf/counters.bpf.o", pin_as(counts = "counts"))]
pub struct CloseToAMap;

#[bpf_preload(obj = "../../examples/iterators/bpf/iterators.bpf.o", no_pin(everything))]
pub struct NothingClose;

fn main() {}
