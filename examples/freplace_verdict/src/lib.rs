//! Replaces `verdict` of examples/freplace_target's `filter`, found by its pin, as a
//! loader gives libbpf's `bpf_program__set_attach_target()` the program's fd. From a
//! process only: a module opens no pin.
#![no_std]

use bpf_preload::bpf_preload;

#[bpf_preload(
    obj = "bpf/freplace_verdict.bpf.o",
    target_program(new_verdict = "/sys/fs/bpf/freplace_target/filter_prog")
)]
pub struct FreplaceVerdict;
