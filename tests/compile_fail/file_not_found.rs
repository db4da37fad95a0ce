//! The object does not exist.
use bpf_preload::bpf_preload;

#[bpf_preload(obj = "bpf/missing.bpf.o")]
pub struct Missing;

fn main() {}
