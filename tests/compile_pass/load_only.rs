//! Programs bpf-preload cannot attach, marked load-only and pinned for user space to attach.
#![allow(dead_code)]
use bpf_preload::{abi, bpf_preload, Object, Preload};

#[bpf_preload(
    obj = "../fixtures/manual_attach.bpf.o",
    no_attach(on_unlink, pass_all, allow_egress),
    pin_programs
)]
pub struct ManualAttach;

fn main() {
    let object = <ManualAttach as Preload>::OBJECT;
    assert!(object.links.is_empty());
    let programs: Vec<_> = object
        .programs
        .iter()
        .map(|p| (p.name.as_str(), p.prog_type, p.expected_attach_type, p.pin.map(|p| p.as_str())))
        .collect();
    assert_eq!(
        programs,
        [
            (
                "allow_egress",
                abi::BPF_PROG_TYPE_CGROUP_SKB,
                abi::BPF_CGROUP_INET_EGRESS,
                Some("allow_egress_prog"),
            ),
            (
                "on_unlink",
                abi::BPF_PROG_TYPE_KPROBE,
                0,
                Some("on_unlink_prog")
            ),
            (
                "pass_all",
                abi::BPF_PROG_TYPE_XDP,
                abi::BPF_XDP,
                Some("pass_all_prog")
            ),
        ]
    );
}

fn link_pins(object: &Object) -> Vec<(&str, Option<&str>)> {
    object
        .links
        .iter()
        .map(|l| (object.programs[l.program].name.as_str(), l.pin.map(|p| p.as_str())))
        .collect()
}

fn map_pins(object: &Object) -> Vec<(&str, Option<&str>)> {
    object.maps.iter().map(|m| (m.name.as_str(), m.pin.map(|p| p.as_str()))).collect()
}
