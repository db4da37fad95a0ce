//! An empty file (an interrupted build).
use bpf_preload::bpf_preload;

#[bpf_preload(obj = "../fixtures/empty.bpf.o")]
pub struct Empty;

fn main() {}
