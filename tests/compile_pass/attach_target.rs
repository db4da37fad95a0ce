//! `attach_target(...)` completes programs whose sections name no target exactly as
//! their twins whose sections name it: the same target in the kernel's BTF (libbpf's
//! prefix for each attach type added), program and attach types, and link. A
//! `module:` qualifier is dropped, as libbpf's `find_kernel_btf_id` drops it.
use bpf_preload::{abi, bpf_preload, Attach, Object, Preload, Program};

#[bpf_preload(
    obj = "../fixtures/attach_target.bpf.o",
    attach_target(
        dump = "bpf_map",
        on_enter = "sys_enter",
        deny_mkdir = "path_mkdir",
        on_function = "vmlinux:do_unlinkat",
    ),
    autoload(deny_mkdir, on_function)
)]
pub struct Given;

fn program<'o>(object: &'o Object, name: &str) -> (usize, &'o Program) {
    let i = object.programs.iter().position(|p| p.name == name).unwrap();
    (i, &object.programs[i])
}

fn target(p: &Program) -> (&str, u32) {
    let t = p.attach_btf.expect("an attach target");
    (t.name.as_str(), t.kind)
}

fn attach(object: &Object, program: usize) -> String {
    format!("{:?}", object.link_of(program).map(|l| l.attach))
}

fn main() {
    let object = <Given as Preload>::OBJECT;
    for (given, declared, expected) in [
        ("dump", "dump_declared", ("bpf_iter_bpf_map", abi::BTF_KIND_FUNC)),
        ("on_enter", "on_enter_declared", ("btf_trace_sys_enter", abi::BTF_KIND_TYPEDEF)),
    ] {
        let (gi, g) = program(object, given);
        let (di, d) = program(object, declared);
        assert_eq!(target(g), expected, "{given}");
        assert_eq!(target(d), expected, "{declared}");
        assert_eq!(
            (g.prog_type, g.expected_attach_type, g.prog_flags),
            (d.prog_type, d.expected_attach_type, d.prog_flags),
            "{given} and {declared}"
        );
        assert_eq!(attach(object, gi), attach(object, di), "{given} and {declared}");
        assert!(object.link_of(gi).is_some(), "{given} is attached");
    }
    assert!(matches!(
        object.link_of(program(object, "on_enter").0).unwrap().attach,
        Attach::RawTracepoint(None)
    ));
    let (li, lsm) = program(object, "deny_mkdir");
    assert_eq!(target(lsm), ("bpf_lsm_path_mkdir", abi::BTF_KIND_FUNC));
    assert_eq!(lsm.section, "lsm");
    assert!(matches!(object.link_of(li).unwrap().attach, Attach::LinkCreate));
    let (_, fentry) = program(object, "on_function");
    assert_eq!(target(fentry), ("do_unlinkat", abi::BTF_KIND_FUNC));
    assert_eq!(fentry.expected_attach_type, abi::BPF_TRACE_FENTRY);
    assert_eq!(program(object, "filter").1.attach_btf.map(|t| t.name.as_str()), None);
}
