//! An x86-64 object (compiled without `-target bpf`).
use bpf_preload::bpf_preload;

#[bpf_preload(obj = "../fixtures/x86_64.o")]
pub struct Host;

fn main() {}
