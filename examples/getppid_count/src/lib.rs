//! A tp_btf program counting getppid(2) calls per process into the `getppid_calls`
//! map, which user space finds by name among the kernel's maps.
#![no_std]

use bpf_preload::bpf_preload;

#[bpf_preload(obj = "bpf/getppid_count.bpf.o")]
pub struct GetppidCount;
