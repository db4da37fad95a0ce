//! `set(...)` spelled wrong: a quoted variable name, a missing value.
use bpf_preload::bpf_preload;

#[bpf_preload(obj = "../fixtures/config.bpf.o", set("target_pid" = 1))]
pub struct Quoted;

#[bpf_preload(obj = "../fixtures/config.bpf.o", set(target_pid))]
pub struct NoValue;

#[bpf_preload(obj = "../fixtures/config.bpf.o", set = 1)]
pub struct NotAList;

fn main() {}
