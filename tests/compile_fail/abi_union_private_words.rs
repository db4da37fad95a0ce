//! The unions' words are private: neither written past their setters (which zero what
//! they do not set) nor read as another variant through a field.
use bpf_preload::abi::{Attr, LinkCreateAttr};

fn main() {
    let mut a = LinkCreateAttr::default();
    a.u.raw[0] = 1;
    let attr = Attr::default();
    let _ = attr.raw[0];
}
