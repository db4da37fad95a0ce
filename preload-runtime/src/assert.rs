//! Compile-time checks that `#[bpf_preload]` emits into the crate using it. They
//! depend on how this crate is built, as a module's runtime (feature `kernel`) or for
//! user space, which the macro, running on the build machine, cannot see.

/// Fails the build with `reason` when this crate is built for a kernel module (feature
/// `kernel`), and does nothing otherwise. `#[bpf_preload]` calls it in a `const` item
/// for every link that only the user-space backend can make (a tracepoint needs
/// perf_event_open(2)), so that a module holding such a link does not build, and says
/// why and what to do instead.
#[track_caller]
pub const fn user_space_attach_only(reason: &str) {
    if cfg!(feature = "kernel") {
        panic!("{}", reason);
    }
}
