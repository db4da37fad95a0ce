//! Programs whose sections name no attach target (`SEC("iter")`, `SEC("tp_btf")`) and
//! that `attach_target(...)` does not complete: the kernel cannot load them. (The `?lsm`
//! and `?fentry` programs are not loaded unless asked for, so they need none.)
use bpf_preload::bpf_preload;

#[bpf_preload(obj = "../fixtures/attach_target.bpf.o")]
pub struct Missing;

#[bpf_preload(obj = "../fixtures/attach_target.bpf.o", attach_target(dump = "bpf_map"), autoload(deny_mkdir))]
pub struct LsmAskedFor;

fn main() {}
