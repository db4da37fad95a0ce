//! `prog_type(...)`: a section libbpf does not know left untyped, a type that is not
//! one, a program typed twice, a program whose section gives its type, a program the
//! object does not have.
use bpf_preload::bpf_preload;

#[bpf_preload(obj = "../fixtures/untyped_section.bpf.o")]
pub struct Untyped;

#[bpf_preload(
    obj = "../fixtures/untyped_section.bpf.o",
    prog_type(classify = BPF_PROG_TYPE_SCHED_CLASS)
)]
pub struct NotAType;

#[bpf_preload(
    obj = "../fixtures/untyped_section.bpf.o",
    prog_type(classify = BPF_PROG_TYPE_SCHED_CLS, classify = BPF_PROG_TYPE_SCHED_ACT)
)]
pub struct Twice;

#[bpf_preload(
    obj = "../fixtures/untyped_section.bpf.o",
    prog_type(classify = BPF_PROG_TYPE_SCHED_CLS, filter = BPF_PROG_TYPE_SCHED_CLS)
)]
pub struct KnownSection;

#[bpf_preload(
    obj = "../fixtures/untyped_section.bpf.o",
    prog_type(classify = BPF_PROG_TYPE_SCHED_CLS, clasify = BPF_PROG_TYPE_SCHED_CLS)
)]
pub struct Unknown;

fn main() {}
