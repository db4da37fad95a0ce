//! Every problem of a group of checks is reported at once, not one per build: here a
//! module name every module already holds (`shim`) and a program the object lacks.
use bpf_preload::bpf_preload;

#[bpf_preload(
    obj = "../../examples/iterators/bpf/iterators.bpf.o",
    name = "shim",
    no_attach(dump_bpf_mapp)
)]
pub struct TwoMistakes;

fn main() {}
