//! `set(...)` values the variable's type refuses: out of range (named with the type and
//! its range), of the wrong kind, an enumerator the enum lacks, a C constant, an
//! integer suffix, a struct, strings and arrays that do not fit.
use bpf_preload::bpf_preload;

#[bpf_preload(
    obj = "../fixtures/config.bpf.o",
    set(
        target_pid = 2147483648,
        small = -129,
        big = -1,
        mode = 4294967296,
        ports = [22, 65536],
        direction = -129,
    )
)]
pub struct OutOfRange;

#[bpf_preload(
    obj = "../fixtures/config.bpf.o",
    set(
        verbose = 1,
        target_pid = "1234",
        mode = MODE_STRICTT,
        small = SMALL_MAX,
        big = 1u64,
        pair = [1, 2],
        ports = 22,
        limit = 1.5,
    )
)]
pub struct WrongKind;

#[bpf_preload(
    obj = "../fixtures/config.bpf.o",
    set(
        comm = "sixteen_chars___",
        key = b"12345",
        ports = [1, 2, 3, 4, 5],
        names = ["a", "b", "c"],
        step = [1],
    )
)]
pub struct TooLong;

fn main() {}
