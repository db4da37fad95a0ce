//! A big-endian BPF object (`-target bpfeb`).
use bpf_preload::bpf_preload;

#[bpf_preload(obj = "../fixtures/bigendian.bpf.o")]
pub struct BigEndian;

fn main() {}
