//! Arbitrary bytes through everything `#[bpf_preload]` does with an object (see
//! `preload-codegen/src/replay.rs`): the reader, the validator and the expansion. Every
//! input must end in tokens or in an error. A panic anywhere aborts the run, even one
//! that the reader's `catch_unwind` would have turned into an error (libfuzzer-sys's
//! panic hook aborts first), and so do a hang (`-timeout`) and an allocation past the
//! RSS limit.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = bpf_preload_codegen::replay::replay(data);
});
