//! A map flag the table cannot carry (BPF_F_NUMA_NODE).
use bpf_preload::bpf_preload;

#[bpf_preload(obj = "../fixtures/numa_map.bpf.o")]
pub struct NumaMap;

fn main() {}
