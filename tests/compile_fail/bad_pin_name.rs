//! Pin names bpffs cannot hold.
use bpf_preload::bpf_preload;

#[bpf_preload(obj = "../../examples/iterators/bpf/iterators.bpf.o", pin_as(dump_bpf_map = ""))]
pub struct Empty;

#[bpf_preload(obj = "../../examples/iterators/bpf/iterators.bpf.o", pin_as(dump_bpf_map = "maps/debug"))]
pub struct Slash;

#[bpf_preload(obj = "../../examples/iterators/bpf/iterators.bpf.o", pin_as(dump_bpf_map = ".."))]
pub struct DotDot;

#[bpf_preload(obj = "../../examples/iterators/bpf/iterators.bpf.o", pin_as(dump_bpf_map = "mmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmm"))]
pub struct TooLong;

fn main() {}
