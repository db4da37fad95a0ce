//! `value_size(...)`: a map left unsized, an unknown map, a map whose value its BTF
//! type lays out, a map sized twice, a size that is not a 32-bit integer.
use bpf_preload::bpf_preload;

#[bpf_preload(obj = "../fixtures/loader_sized.bpf.o", max_entries(stacks = 1024))]
pub struct Unsized;

#[bpf_preload(
    obj = "../fixtures/loader_sized.bpf.o",
    max_entries(stacks = 1024),
    value_size(stack = 1016)
)]
pub struct UnknownMap;

#[bpf_preload(
    obj = "../fixtures/loader_sized.bpf.o",
    max_entries(stacks = 1024),
    value_size(stacks = 1016, counts = 16)
)]
pub struct TypedValue;

#[bpf_preload(
    obj = "../fixtures/loader_sized.bpf.o",
    max_entries(stacks = 1024),
    value_size(stacks = 1016, stacks = 8)
)]
pub struct Twice;

#[bpf_preload(
    obj = "../fixtures/loader_sized.bpf.o",
    max_entries(stacks = 1024),
    value_size(stacks = 0x1_0000_0000)
)]
pub struct TooBig;

fn main() {}
