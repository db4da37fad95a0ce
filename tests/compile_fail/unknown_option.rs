//! A misspelt option.
use bpf_preload::bpf_preload;

#[bpf_preload(obj = "../../examples/iterators/bpf/iterators.bpf.o", pin_prgrams)]
pub struct Iterators;

fn main() {}
