//! Two BPF iterators in the spirit of the kernel's own `maps.debug` and `progs.debug`:
//! one lists every map (id, name, max_entries), one every program (id, name, attach
//! target). Pinned under the same names the kernel's preload uses.
#![no_std]

use bpf_preload::bpf_preload;

#[bpf_preload(
    obj = "bpf/iterators.bpf.o",
    pin_as(dump_bpf_map = "maps.debug", dump_bpf_prog = "progs.debug")
)]
pub struct Iterators;
