//! `target_program(...)` makes the attach target a function of the BPF program
//! pinned there: a freplace program's, named by its section, and an fentry program's,
//! named by `attach_target(...)`, each found in that program's BTF by its plain name
//! (no prefix, no module), as libbpf finds it given the program's fd.
use bpf_preload::{abi, bpf_preload, Object, Preload, Program};

#[bpf_preload(
    obj = "../../examples/freplace_verdict/bpf/freplace_verdict.bpf.o",
    target_program(new_verdict = "/sys/fs/bpf/freplace_target/filter_prog")
)]
pub struct Replaces;

#[bpf_preload(
    obj = "../fixtures/attach_target.bpf.o",
    attach_target(dump = "bpf_map", on_enter = "sys_enter", on_function = "verdict"),
    target_program(on_function = "/sys/fs/bpf/freplace_target/filter_prog"),
    autoload(on_function)
)]
pub struct Traces;

fn program<'o>(object: &'o Object, name: &str) -> &'o Program {
    object.programs.iter().find(|p| p.name == name).unwrap()
}

fn main() {
    for (object, name, prog_type) in [
        (Replaces::OBJECT, "new_verdict", abi::BPF_PROG_TYPE_EXT),
        (Traces::OBJECT, "on_function", abi::BPF_PROG_TYPE_TRACING),
    ] {
        let p = program(object, name);
        assert_eq!(p.prog_type, prog_type);
        let t = p.attach_btf.expect("an attach target");
        assert_eq!((t.name.as_str(), t.kind), ("verdict", abi::BTF_KIND_FUNC));
        let pin = t.program.map(|p| p.as_str());
        assert_eq!(pin, Some("/sys/fs/bpf/freplace_target/filter_prog"));
        let i = object.programs.iter().position(|q| q.name == name).unwrap();
        assert!(object.link_of(i).is_some(), "{name} is attached");
    }
    // Targets in the kernel stay there.
    let dump = program(Traces::OBJECT, "dump").attach_btf.unwrap();
    assert!(dump.program.is_none());
}
