//! `target_program(...)` misused: a freplace program without it (its target is a
//! function of a BPF program the loader must name), a pin that is no absolute path,
//! a program that attaches to the kernel, and one the object does not have.
use bpf_preload::bpf_preload;

#[bpf_preload(obj = "../fixtures/freplace.bpf.o")]
pub struct Missing;

#[bpf_preload(obj = "../fixtures/freplace.bpf.o", target_program(replacement = "x/prog"))]
pub struct Relative;

#[bpf_preload(
    obj = "../../examples/mkdir_guard/bpf/mkdir_guard.bpf.o",
    target_program(refuse_reserved_mkdir = "/sys/fs/bpf/x/prog")
)]
pub struct InTheKernel;

#[bpf_preload(
    obj = "../fixtures/freplace.bpf.o",
    target_program(replacement = "/sys/fs/bpf/x/prog", other = "/sys/fs/bpf/y")
)]
pub struct Unknown;

fn main() {}
