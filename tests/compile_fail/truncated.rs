//! The first half of a good object.
use bpf_preload::bpf_preload;

#[bpf_preload(obj = "../fixtures/truncated.bpf.o")]
pub struct Truncated;

fn main() {}
