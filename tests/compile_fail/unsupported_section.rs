//! A `syscall` program.
use bpf_preload::bpf_preload;

#[bpf_preload(obj = "../fixtures/syscall.bpf.o")]
pub struct Syscall;

fn main() {}
