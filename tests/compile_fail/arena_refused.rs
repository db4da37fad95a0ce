//! Arenas libbpf would refuse too: `__arena` globals without an arena map, two arenas,
//! an arena too small for its globals; and a `map_extra` that is no `__ulong`.
use bpf_preload::bpf_preload;

#[bpf_preload(obj = "../fixtures/arena_without_map.bpf.o")]
pub struct WithoutMap;

#[bpf_preload(obj = "../fixtures/two_arenas.bpf.o")]
pub struct TwoArenas;

#[bpf_preload(obj = "../fixtures/arena_too_small.bpf.o")]
pub struct TooSmall;

#[bpf_preload(obj = "../fixtures/bad_ulong.bpf.o")]
pub struct BadUlong;

fn main() {}
