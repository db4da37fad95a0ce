//! A map of maps, with its inner map declared.
use bpf_preload::bpf_preload;

#[bpf_preload(obj = "../fixtures/map_in_map.bpf.o")]
pub struct MapInMap;

fn main() {}
