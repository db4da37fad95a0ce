//! A socket filter whose global function `verdict` examples/freplace_verdict
//! replaces; its program is pinned (`filter_prog`) for the replacer to find.
#![no_std]

use bpf_preload::bpf_preload;

#[bpf_preload(obj = "bpf/freplace_target.bpf.o", pin_programs)]
pub struct FreplaceTarget;
