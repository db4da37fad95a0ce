//! `attach_target(...)` on a program the object lacks, on one whose section names its
//! target already, on one that attaches to no BTF target, twice on one program, with
//! the prefix libbpf adds itself, or with a name no kernel has.
use bpf_preload::bpf_preload;

#[bpf_preload(
    obj = "../fixtures/attach_target.bpf.o",
    attach_target(
        dmp = "bpf_map",
        dump_declared = "bpf_map",
        filter = "sys_enter",
        dump = "bpf_iter_bpf_map",
        on_enter = "sys enter",
        on_enter = "sys_enter",
        deny_mkdir = "bpf_lsm_path_mkdir",
    ),
    autoload(deny_mkdir)
)]
pub struct Misused;

#[bpf_preload(obj = "../fixtures/attach_target.bpf.o", attach_target(dump = bpf_map))]
pub struct NotAString;

fn main() {}
