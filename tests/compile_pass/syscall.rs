//! A `syscall` program is loaded (to be run with BPF_PROG_TEST_RUN), never attached.
use bpf_preload::{abi, bpf_preload, Preload};

#[bpf_preload(obj = "../fixtures/syscall.bpf.o")]
pub struct Syscall;

fn main() {
    let object = <Syscall as Preload>::OBJECT;
    assert!(object.links.is_empty());
    let program = &object.programs[0];
    assert_eq!(program.prog_type, abi::BPF_PROG_TYPE_SYSCALL);
    assert_eq!(program.prog_flags, abi::BPF_F_SLEEPABLE);
}
