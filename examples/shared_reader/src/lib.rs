//! Copies `shared_hits`, the map `shared_writer` counts into and this object
//! reuses by name (`LIBBPF_PIN_BY_NAME`), into its own `reader_seen` on each
//! getpgid(2).
#![no_std]

use bpf_preload::bpf_preload;

#[bpf_preload(obj = "bpf/shared_reader.bpf.o")]
pub struct SharedReader;
