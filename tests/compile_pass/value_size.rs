//! A map that leaves its entries and the size of its values to its loader, sized by
//! `max_entries(...)` and `value_size(...)` as libbpf-tools' loaders size theirs.
use bpf_preload::{bpf_preload, Preload};

#[bpf_preload(
    obj = "../fixtures/loader_sized.bpf.o",
    max_entries(stacks = 1024),
    value_size(stacks = 1016)
)]
pub struct LoaderSized;

fn main() {
    let object = <LoaderSized as Preload>::OBJECT;
    let stacks = object.maps.iter().find(|m| m.name == "stacks").unwrap();
    assert_eq!(
        (stacks.key_size, stacks.value_size, stacks.max_entries),
        (4, 1016, 1024)
    );
}
