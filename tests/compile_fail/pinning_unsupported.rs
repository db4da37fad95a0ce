//! Pinning libbpf does not do: a value other than LIBBPF_PIN_NONE or
//! LIBBPF_PIN_BY_NAME, and an inner map pinned by name.
use bpf_preload::bpf_preload;

#[bpf_preload(obj = "../fixtures/bad_pinning.bpf.o")]
pub struct BadPinning;

#[bpf_preload(obj = "../fixtures/pinned_inner.bpf.o")]
pub struct PinnedInner;

fn main() {}
