//! The tools every task runs, from `preload-devtools` (shared with the corpus tier
//! and the benchmarks).

pub use preload_devtools::{cargo, clang, combined_output, output, run, BPF_FLAGS};
