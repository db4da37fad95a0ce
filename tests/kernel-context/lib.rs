//! Nothing: the cases are in `compile_fail/`, run by `tests/trybuild.rs`.
#![no_std]
