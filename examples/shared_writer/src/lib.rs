//! Counts getppid(2) calls into `shared_hits`, a map pinned by name
//! (`LIBBPF_PIN_BY_NAME`) that `shared_reader` declares too: loaded from one
//! process or as two object modules, the two objects hold one map.
#![no_std]

use bpf_preload::bpf_preload;

#[bpf_preload(obj = "bpf/shared_writer.bpf.o")]
pub struct SharedWriter;
