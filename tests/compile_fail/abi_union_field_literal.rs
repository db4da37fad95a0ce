//! The bpf(2) unions cannot be built one variant at a time from safe code: a 4-byte
//! variant would leave the rest of the union uninitialised, and its `Debug`, or
//! bpf(2), would read those bytes.
use bpf_preload::abi::{Attr, LinkCreateUnion, MapFreezeAttr};

fn main() {
    let u = LinkCreateUnion { target_btf_id: 1 };
    let a = Attr { map_freeze: MapFreezeAttr { map_fd: 3 } };
    println!("{u:?} {a:?}");
}
