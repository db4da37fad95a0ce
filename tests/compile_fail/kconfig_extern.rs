//! A `.kconfig` extern.
use bpf_preload::bpf_preload;

#[bpf_preload(obj = "../fixtures/kconfig.bpf.o")]
pub struct Kconfig;

fn main() {}
