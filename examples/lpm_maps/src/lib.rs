//! LPM tries keyed by an array (`__type(key, __u8[8])`), on their own and as the inner
//! map of an array of maps and of a hash of maps: the kernel refuses them with their
//! BTF types (an LPM trie's key type must be a struct), so the loader creates them
//! without, as libbpf does. Its `.rodata`, which no program reads, is bound to every
//! program. Loaded from user space and run with `BPF_PROG_TEST_RUN`.
#![no_std]

use bpf_preload::bpf_preload;

#[bpf_preload(obj = "bpf/lpm_maps.bpf.o")]
pub struct LpmMaps;
