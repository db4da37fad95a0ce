//! A program whose section libbpf does not know, typed by `prog_type(...)` as its
//! loader (tc) types it: loaded as a classifier with no expected attach type, and not
//! attached.
use bpf_preload::{bpf_preload, Preload};

#[bpf_preload(
    obj = "../fixtures/untyped_section.bpf.o",
    prog_type(classify = BPF_PROG_TYPE_SCHED_CLS)
)]
pub struct Typed;

fn main() {
    let object = <Typed as Preload>::OBJECT;
    let classify = object.programs.iter().find(|p| p.name == "classify").unwrap();
    assert_eq!(classify.prog_type, bpf_preload::abi::BPF_PROG_TYPE_SCHED_CLS);
    assert_eq!(classify.expected_attach_type, 0);
    assert!(!object.links.iter().any(|l| object.programs[l.program].name == "classify"));
}
