//! The attribute names no object.
use bpf_preload::bpf_preload;

#[bpf_preload(name = "iterators")]
pub struct Iterators;

fn main() {}
