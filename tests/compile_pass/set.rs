//! `set(...)` writes global variables into the initial values of their maps, as a
//! loader sets them through libbpf's skeleton before load: every type it takes
//! (integers of each size and sign at their limits, a bool, enums by enumerator and by
//! number, a char array from a string, bytes from a byte string, arrays, arrays of
//! strings), in `.rodata`, a custom `.rodata.*` section, `.data` and `.bss`. What is
//! not set keeps the object's value.
use bpf_preload::{bpf_preload, Freeze, Object, Preload};

#[bpf_preload(
    obj = "../fixtures/config.bpf.o",
    set(
        target_pid = -1234,
        verbose = true,
        mode = MODE_STRICT,
        direction = DOWN,
        comm = "sshd",
        ports = [22, 443],
        small = -128,
        big = 0xffff_ffff_ffff_fffe,
        key = b"\xde\xad\xbe\xef",
        names = ["a", "b"],
        limit = 99,
        step = 3,
        threshold = 1000,
    )
)]
pub struct Set;

/// Enumerators by number, the other end of each range, a string that fills its array
/// but for the NUL, and a zero that leaves `.bss` as the kernel makes it.
#[bpf_preload(
    obj = "../fixtures/config.bpf.o",
    set(
        target_pid = 2147483647,
        mode = 1,
        direction = 1,
        comm = "fifteen_chars__",
        small = 127,
        big = 0,
        ports = [65535, 0, 0, 1],
        threshold = 0
    )
)]
pub struct Limits;

#[bpf_preload(obj = "../fixtures/config.bpf.o")]
pub struct Unset;

/// `(offset, bytes)` pieces laid over `size` zeros.
fn bytes(size: usize, pieces: &[(usize, &[u8])]) -> Vec<u8> {
    let mut out = vec![0u8; size];
    for (at, b) in pieces {
        out[*at..*at + b.len()].copy_from_slice(b);
    }
    out
}

fn initial<'o>(object: &'o Object, map: &str) -> Option<&'o [u8]> {
    let m = object.maps.iter().find(|m| m.name == map).unwrap();
    m.initial_value.map(|v| v.as_slice())
}

fn freeze(object: &Object, map: &str) -> Freeze {
    object.maps.iter().find(|m| m.name == map).unwrap().freeze
}

// Where clang put the variables of `.rodata` (its symbols' values), 76 bytes in all.
const RODATA: usize = 76;
const TARGET_PID: usize = 0x00;
const VERBOSE: usize = 0x04;
const MODE: usize = 0x08;
const DIRECTION: usize = 0x0c;
const COMM: usize = 0x0d;
const PORTS: usize = 0x1e;
const SMALL: usize = 0x26;
const BIG: usize = 0x28;
const KEY: usize = 0x30;
const NAMES: usize = 0x34;

fn main() {
    let unset = <Unset as Preload>::OBJECT;
    // The object's own values: `direction = UP`, `limit = 10`, `step = 1`; `.bss` zeros.
    assert_eq!(initial(unset, ".rodata"), Some(&bytes(RODATA, &[(DIRECTION, &[1])])[..]));
    assert_eq!(initial(unset, ".rodata.limits"), Some(&[10, 0, 0, 0][..]));
    assert_eq!(initial(unset, ".data"), Some(&[1, 0, 0, 0][..]));
    assert_eq!(initial(unset, ".bss"), None);

    let set = <Set as Preload>::OBJECT;
    let rodata = bytes(
        RODATA,
        &[
            (TARGET_PID, &(-1234i32).to_le_bytes()),
            (VERBOSE, &[1]),
            (MODE, &2u32.to_le_bytes()),
            (DIRECTION, &[0xff]),
            (COMM, b"sshd"),
            (PORTS, &[22, 0, 0xbb, 0x01]),
            (SMALL, &[0x80]),
            (BIG, &0xffff_ffff_ffff_fffeu64.to_le_bytes()),
            (KEY, &[0xde, 0xad, 0xbe, 0xef]),
            (NAMES, b"a"),
            (NAMES + 8, b"b"),
        ],
    );
    assert_eq!(initial(set, ".rodata"), Some(&rodata[..]));
    assert_eq!(initial(set, ".rodata.limits"), Some(&[99, 0, 0, 0][..]));
    assert_eq!(initial(set, ".data"), Some(&[3, 0, 0, 0][..]));
    // `threshold`, then the static `runs`, which stays 0.
    assert_eq!(initial(set, ".bss"), Some(&bytes(12, &[(0, &1000u64.to_le_bytes())])[..]));
    // `.rodata` is still frozen once written; `.bss` is written like `.data`.
    assert_eq!(freeze(set, ".rodata"), Freeze::Initialised);
    assert_eq!(freeze(set, ".bss"), Freeze::Never);

    let limits = <Limits as Preload>::OBJECT;
    let rodata = bytes(
        RODATA,
        &[
            (TARGET_PID, &i32::MAX.to_le_bytes()),
            (MODE, &1u32.to_le_bytes()),
            (DIRECTION, &[1]),
            (COMM, b"fifteen_chars__"),
            (PORTS, &[0xff, 0xff, 0, 0, 0, 0, 1, 0]),
            (SMALL, &[127]),
        ],
    );
    assert_eq!(initial(limits, ".rodata"), Some(&rodata[..]));
    assert_eq!(initial(limits, ".bss"), None, "a value of zeros is left to the kernel");
}
