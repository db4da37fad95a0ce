//! Object names that cannot be kernel module names.
use bpf_preload::bpf_preload;

#[bpf_preload(obj = "../../examples/iterators/bpf/iterators.bpf.o", name = "my-iterators")]
pub struct Dash;

#[bpf_preload(obj = "../../examples/iterators/bpf/iterators.bpf.o", name = "")]
pub struct Empty;

#[bpf_preload(obj = "../../examples/iterators/bpf/iterators.bpf.o", name = "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx")]
pub struct TooLong;

fn main() {}
