//! Kfunc calls are listed for the loader, which resolves them in the running kernel.
use bpf_preload::{abi, bpf_preload, ExternKind, Preload};

#[bpf_preload(obj = "../fixtures/ksym.bpf.o")]
pub struct Ksym;

fn main() {
    let object = <Ksym as Preload>::OBJECT;
    let names: Vec<_> = object.externs.iter().map(|e| (e.name.as_str(), e.kind, e.weak)).collect();
    assert_eq!(
        names,
        [
            ("bpf_rcu_read_lock", ExternKind::Kfunc, false),
            ("bpf_rcu_read_unlock", ExternKind::Kfunc, false),
        ]
    );
    let program = &object.programs[0];
    assert_eq!(program.externs.len(), 2);
    for u in program.externs {
        let insn = &program.insns[u.insn as usize * 8..][..8];
        assert_eq!(insn[0], abi::BPF_JMP_CALL, "a call");
        assert_eq!(insn[1] >> 4, abi::BPF_PSEUDO_KFUNC_CALL, "BPF_PSEUDO_KFUNC_CALL");
    }
}
