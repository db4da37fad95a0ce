//! The attribute on items other than a unit struct.
use bpf_preload::bpf_preload;

#[bpf_preload(obj = "../../examples/iterators/bpf/iterators.bpf.o")]
pub struct WithFields {
    pub fd: i32,
}

#[bpf_preload(obj = "../../examples/iterators/bpf/iterators.bpf.o")]
pub struct Generic<T>(core::marker::PhantomData<T>);

#[bpf_preload(obj = "../../examples/iterators/bpf/iterators.bpf.o")]
pub enum Iterators {}

#[bpf_preload(obj = "../../examples/iterators/bpf/iterators.bpf.o")]
pub fn iterators() {}

fn main() {}
