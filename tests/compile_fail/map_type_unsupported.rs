//! A map type newer than the loader.
use bpf_preload::bpf_preload;

#[bpf_preload(obj = "../fixtures/new_map_type.bpf.o")]
pub struct NewMapType;

fn main() {}
