//! `#[bpf_preload]` in a module's build: a link that only user space can make fails
//! the build, with the reason and the way out; the same object with that program
//! marked load-only builds.

#[test]
fn kernel_context() {
    trybuild::TestCases::new().compile_fail("compile_fail/*.rs");
}
