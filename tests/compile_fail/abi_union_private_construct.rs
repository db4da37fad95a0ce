//! Not even a whole, initialised set of words builds a union from outside the crate:
//! what can be built is `Default`/`zeroed()` and the setters.
use bpf_preload::abi::LinkCreateUnion;

fn main() {
    let u = LinkCreateUnion { raw: [0; 4] };
    let _ = u;
}
