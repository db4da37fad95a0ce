//! A program of a `?` section is left out unless `autoload(...)` names it.
use bpf_preload::{bpf_preload, Preload};

#[bpf_preload(obj = "../fixtures/optional.bpf.o", name = "optional")]
pub struct Default;

#[bpf_preload(obj = "../fixtures/optional.bpf.o", name = "all", autoload(optional_filter))]
pub struct All;

fn main() {
    let names = |o: &bpf_preload::Object| o.programs.iter().map(|p| p.name.as_str()).collect::<Vec<_>>();
    assert_eq!(names(<Default as Preload>::OBJECT), ["always_filter"]);
    assert_eq!(
        names(<All as Preload>::OBJECT),
        ["always_filter", "optional_filter"]
    );
    let optional = &<All as Preload>::OBJECT.programs[1];
    assert_eq!(optional.section, "socket", "the section without its `?`");
}
