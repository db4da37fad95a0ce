//! A map of maps without its inner map.
use bpf_preload::bpf_preload;

#[bpf_preload(obj = "../fixtures/map_in_map_no_inner.bpf.o")]
pub struct MapInMapWithoutInner;

fn main() {}
