//! The raw BTF reader on well-formed, malformed and mutated input, and on the running
//! kernel's BTF.

use crate::abi::{BTF_KIND_INT, BTF_KIND_TYPEDEF};
use alloc::vec::Vec;

use super::*;

/// Raw BTF from types (each `(name_off, info, size_or_type, extra words)`) and a
/// string section.
pub(crate) struct Builder {
    types: Vec<u8>,
    strings: Vec<u8>,
    count: u32,
}

pub(crate) fn info(kind: u32, vlen: u32) -> u32 {
    (kind << 24) | vlen
}

impl Builder {
    pub(crate) fn new() -> Self {
        Builder {
            types: Vec::new(),
            strings: b"\0".to_vec(),
            count: 0,
        }
    }

    /// Adds a name, returns its offset.
    pub(crate) fn name(&mut self, name: &str) -> u32 {
        let off = self.strings.len() as u32;
        self.strings.extend_from_slice(name.as_bytes());
        self.strings.push(0);
        off
    }

    /// Adds a type, returns its id.
    pub(crate) fn ty(&mut self, name_off: u32, info: u32, size_or_type: u32, extra: &[u32]) -> u32 {
        for w in [name_off, info, size_or_type].iter().chain(extra) {
            self.types.extend_from_slice(&w.to_le_bytes());
        }
        self.count += 1;
        self.count
    }

    pub(crate) fn build(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let words = [
            u32::from(BTF_MAGIC) | (1 << 16),
            HEADER_LEN as u32,
            0,
            self.types.len() as u32,
            self.types.len() as u32,
            self.strings.len() as u32,
        ];
        for w in words {
            out.extend_from_slice(&w.to_le_bytes());
        }
        out.extend_from_slice(&self.types);
        out.extend_from_slice(&self.strings);
        out
    }
}

/// Calls everything `RawBtf` offers on every id: none of it may panic or hang.
fn exercise(data: &[u8]) {
    let Ok(btf) = RawBtf::parse(data) else {
        return;
    };
    let _ = btf.find("x", BTF_KIND_STRUCT);
    let _ = btf.find_prefixed("bpf_struct_ops_", "x", BTF_KIND_STRUCT);
    for id in 0..=btf.len().saturating_add(2) {
        let _ = btf.size_of(id);
        let _ = btf.skip_mods(id);
        if let Some(ty) = btf.get(id) {
            let _ = btf.named(&ty, "x");
            let _ = btf.pointee(&ty);
            let _ = btf.struct_size(&ty);
            for m in btf.members(&ty) {
                let _ = btf.member_named(&m, "x");
                let _ = btf.size_of(m.type_id);
            }
        }
        let _ = btf.holds_special_fields(id);
    }
}

#[test]
fn reads_a_well_formed_struct() {
    let mut b = Builder::new();
    let int_name = b.name("int");
    let int = b.ty(int_name, info(BTF_KIND_INT, 0), 4, &[32]);
    let ptr = b.ty(0, info(BTF_KIND_PTR, 0), int, &[]);
    let arr = b.ty(0, info(BTF_KIND_ARRAY, 0), 0, &[int, int, 3]);
    let konst = b.ty(0, info(10, 0), arr, &[]);
    let (s, a, p) = (b.name("ops"), b.name("a"), b.name("p"));
    let ops = b.ty(s, info(BTF_KIND_STRUCT, 2), 24, &[a, konst, 0, p, ptr, 128]);
    let value = b.name("bpf_struct_ops_ops");
    let vops = b.ty(value, info(BTF_KIND_STRUCT, 1), 32, &[a, ops, 64]);
    let data = b.build();
    let btf = RawBtf::parse(&data).unwrap();
    assert_eq!(btf.len(), 6);
    assert_eq!(btf.find("ops", BTF_KIND_STRUCT), Some(ops));
    assert_eq!(
        btf.find_prefixed("bpf_struct_ops_", "ops", BTF_KIND_STRUCT),
        Some(vops)
    );
    assert_eq!(btf.find("bpf_struct_ops_", BTF_KIND_STRUCT), None);
    assert_eq!(btf.size_of(konst), Some(12));
    assert_eq!(btf.size_of(ptr), Some(8));
    let ty = btf.get(ops).unwrap();
    let members: Vec<_> = btf.members(&ty).collect();
    assert_eq!(members.len(), 2);
    assert!(btf.member_named(&members[1], "p"));
    assert_eq!(members[1].bit_offset, 128);
    assert_eq!(btf.skip_mods(konst).unwrap().0, arr);
    assert!(btf.get(0).is_none() && btf.get(7).is_none());
    exercise(&data);
}

#[test]
fn finds_types_past_the_sparse_index() {
    let mut b = Builder::new();
    let n = 3 * INDEX_STRIDE as u32 + 5;
    for i in 0..n {
        // Sizes distinguish them; every other one has extra bytes.
        if i % 2 == 0 {
            b.types.extend_from_slice(&0u32.to_le_bytes());
            b.types
                .extend_from_slice(&info(BTF_KIND_INT, 0).to_le_bytes());
            b.types.extend_from_slice(&(i + 1).to_le_bytes());
            b.types.extend_from_slice(&32u32.to_le_bytes());
        } else {
            b.types.extend_from_slice(&0u32.to_le_bytes());
            b.types.extend_from_slice(&info(16, 0).to_le_bytes());
            b.types.extend_from_slice(&(i + 1).to_le_bytes());
        }
    }
    let data = b.build();
    let btf = RawBtf::parse(&data).unwrap();
    assert_eq!(btf.len(), n);
    for id in 1..=n {
        assert_eq!(btf.get(id).unwrap().size_or_type, id, "type {id}");
    }
    assert!(btf.get(n + 1).is_none());
}

#[test]
fn malformed_headers_are_errors() {
    let good = {
        let mut b = Builder::new();
        b.ty(0, info(BTF_KIND_INT, 0), 4, &[32]);
        b.build()
    };
    assert!(RawBtf::parse(&good).is_ok());
    // Every truncation.
    for len in 0..good.len() {
        assert_eq!(
            RawBtf::parse(&good[..len]).err(),
            Some(Errno::EINVAL),
            "{len}"
        );
    }
    let with = |at: usize, v: u32| {
        let mut d = good.clone();
        d[at..at + 4].copy_from_slice(&v.to_le_bytes());
        d
    };
    // Bad magic, a header shorter than its fields, a header past the end.
    assert!(RawBtf::parse(&with(0, 0x1234_0001)).is_err());
    assert!(RawBtf::parse(&with(4, 8)).is_err());
    assert!(RawBtf::parse(&with(4, u32::MAX)).is_err());
    // Section offsets and lengths that overflow or leave the data.
    for at in [8, 12, 16, 20] {
        assert!(RawBtf::parse(&with(at, u32::MAX)).is_err(), "{at}");
        assert!(RawBtf::parse(&with(at, u32::MAX - 23)).is_err(), "{at}");
    }
}

#[test]
fn malformed_types_are_errors() {
    // A vlen whose members run past the type section, the largest vlen, a kind
    // the reader does not know, and a type cut short.
    for (kind, vlen) in [(BTF_KIND_STRUCT, 1), (BTF_KIND_STRUCT, 0xffff), (6, 0xffff)] {
        let mut b = Builder::new();
        b.ty(0, info(kind, vlen), 4, &[]);
        assert_eq!(RawBtf::parse(&b.build()).err(), Some(Errno::EINVAL));
    }
    let mut b = Builder::new();
    b.ty(0, info(31, 0), 4, &[]);
    assert_eq!(RawBtf::parse(&b.build()).err(), Some(Errno::EINVAL));
    let mut b = Builder::new();
    b.ty(0, info(BTF_KIND_INT, 0), 4, &[32]);
    b.types.truncate(b.types.len() - 2);
    assert_eq!(RawBtf::parse(&b.build()).err(), Some(Errno::EINVAL));
}

#[test]
fn cycles_and_long_chains_end() {
    let mut b = Builder::new();
    // 1 and 2: typedefs of each other.
    b.ty(0, info(BTF_KIND_TYPEDEF, 0), 2, &[]);
    b.ty(0, info(BTF_KIND_TYPEDEF, 0), 1, &[]);
    // 3: const of itself.
    b.ty(0, info(10, 0), 3, &[]);
    // 4: an array of itself; 5: an array of a pointer to itself.
    b.ty(0, info(BTF_KIND_ARRAY, 0), 0, &[4, 4, 2]);
    b.ty(0, info(BTF_KIND_ARRAY, 0), 0, &[6, 6, 2]);
    b.ty(0, info(BTF_KIND_PTR, 0), 5, &[]);
    let data = b.build();
    let btf = RawBtf::parse(&data).unwrap();
    for id in 1..=3 {
        assert!(btf.skip_mods(id).is_none(), "{id}");
        assert!(btf.size_of(id).is_none(), "{id}");
    }
    assert!(btf.size_of(4).is_none());
    assert_eq!(btf.size_of(5), Some(16));
    exercise(&data);

    // 1000 nested arrays of 1: far past MAX_CHAIN, refused without recursing.
    let mut b = Builder::new();
    let int = b.ty(0, info(BTF_KIND_INT, 0), 4, &[32]);
    let mut elem = int;
    for _ in 0..1000 {
        elem = b.ty(0, info(BTF_KIND_ARRAY, 0), 0, &[elem, int, 1]);
    }
    let data = b.build();
    let btf = RawBtf::parse(&data).unwrap();
    assert_eq!(btf.size_of(int + 3), Some(4));
    assert!(btf.size_of(elem).is_none());
    // As long a chain of modifiers.
    let mut b = Builder::new();
    let mut id = b.ty(0, info(BTF_KIND_INT, 0), 4, &[32]);
    for _ in 0..1000 {
        id = b.ty(0, info(9, 0), id, &[]);
    }
    let btf_data = b.build();
    let btf = RawBtf::parse(&btf_data).unwrap();
    assert!(btf.skip_mods(id).is_none());
    assert_eq!(btf.skip_mods(5).map(|(id, _)| id), Some(1));
}

/// What makes a map need its BTF is found wherever it is in a value, and nothing else
/// is taken for it.
#[test]
fn special_fields_are_found_anywhere_in_a_value() {
    const TYPE_TAG: u32 = 18;
    const VAR: u32 = 14;
    const DATASEC: u32 = 15;
    let mut b = Builder::new();
    let int = b.ty(0, info(BTF_KIND_INT, 0), 4, &[32]);
    let (lock_name, timer_name, task_name) = (
        b.name("bpf_spin_lock"),
        b.name("bpf_timer"),
        b.name("task_struct"),
    );
    let lock = b.ty(lock_name, info(BTF_KIND_STRUCT, 0), 4, &[]);
    let timer = b.ty(timer_name, info(BTF_KIND_STRUCT, 0), 16, &[]);
    let task = b.ty(task_name, info(BTF_KIND_STRUCT, 0), 64, &[]);
    let (kptr_name, other_tag) = (b.name("kptr_untrusted"), b.name("user"));
    let kptr_tag = b.ty(kptr_name, info(TYPE_TAG, 0), task, &[]);
    let kptr = b.ty(0, info(BTF_KIND_PTR, 0), kptr_tag, &[]);
    let user_tag = b.ty(other_tag, info(TYPE_TAG, 0), task, &[]);
    let tagged = b.ty(0, info(BTF_KIND_PTR, 0), user_tag, &[]);
    let plain_ptr = b.ty(0, info(BTF_KIND_PTR, 0), task, &[]);
    let m = b.name("m");
    // A struct of one member of each type.
    let holder = |b: &mut Builder, ty| b.ty(0, info(BTF_KIND_STRUCT, 1), 64, &[m, ty, 0]);
    let with_lock = holder(&mut b, lock);
    let with_kptr = holder(&mut b, kptr);
    let with_tag = holder(&mut b, tagged);
    let with_ptr = holder(&mut b, plain_ptr);
    let plain = holder(&mut b, int);
    // The timer two structs deep, in an array of them, behind a typedef.
    let inner = holder(&mut b, timer);
    let array = b.ty(0, info(BTF_KIND_ARRAY, 0), 0, &[inner, int, 2]);
    let deep = holder(&mut b, array);
    let typedef = b.ty(m, info(BTF_KIND_TYPEDEF, 0), deep, &[]);
    // A `.data.A` section holding an int and a lock, as `private(A)` globals.
    let (var_int, var_lock) = (
        b.ty(m, info(VAR, 0), int, &[1]),
        b.ty(m, info(VAR, 0), lock, &[1]),
    );
    let datasec = b.ty(m, info(DATASEC, 2), 8, &[var_int, 0, 4, var_lock, 4, 4]);
    let plain_datasec = b.ty(m, info(DATASEC, 1), 4, &[var_int, 0, 4]);
    // A struct that holds itself through an array: the walk ends.
    let looped = b.ty(0, info(BTF_KIND_STRUCT, 1), 8, &[m, 0, 0]);
    let data = b.build();
    let btf = RawBtf::parse(&data).unwrap();
    for (id, expected, what) in [
        (lock, Some(true), "a bpf_spin_lock"),
        (with_lock, Some(true), "a struct with a bpf_spin_lock"),
        (with_kptr, Some(true), "a kptr"),
        (typedef, Some(true), "a timer nested in an array of structs"),
        (datasec, Some(true), "a lock among a section's variables"),
        (with_tag, Some(false), "a pointer tagged otherwise"),
        (with_ptr, Some(false), "a plain pointer"),
        (plain, Some(false), "an int"),
        (int, Some(false), "an int alone"),
        (plain_datasec, Some(false), "a section of ints"),
        (0, Some(false), "void"),
        (looped, Some(false), "a struct of void"),
        (999, None, "no such type"),
    ] {
        assert_eq!(btf.holds_special_fields(id), expected, "{what}");
    }
    exercise(&data);

    // A struct that holds itself: each visit pushes it again, until the visits run out.
    let mut b = Builder::new();
    let m = b.name("m");
    b.ty(0, info(BTF_KIND_STRUCT, 2), 8, &[m, 1, 0, m, 1, 0]);
    let data = b.build();
    let btf = RawBtf::parse(&data).unwrap();
    assert_eq!(btf.holds_special_fields(1), None, "a cycle ends undecided");
}

#[test]
fn sizes_that_overflow_are_none() {
    let mut b = Builder::new();
    let int = b.ty(0, info(BTF_KIND_INT, 0), 8, &[64]);
    let big = b.ty(0, info(BTF_KIND_ARRAY, 0), 0, &[int, int, u32::MAX]);
    let bigger = b.ty(0, info(BTF_KIND_ARRAY, 0), 0, &[big, int, 2]);
    let huge = b.ty(0, info(BTF_KIND_STRUCT, 0), u32::MAX, &[]);
    let arr = b.ty(0, info(BTF_KIND_ARRAY, 0), 0, &[huge, int, 2]);
    let data = b.build();
    let btf = RawBtf::parse(&data).unwrap();
    assert!(btf.size_of(big).is_none());
    assert!(btf.size_of(bigger).is_none());
    assert_eq!(btf.size_of(huge), Some(u32::MAX));
    assert!(btf.size_of(arr).is_none());
}

#[test]
fn names_outside_the_strings_are_not_found() {
    let mut b = Builder::new();
    let n = b.name("ab");
    b.ty(u32::MAX, info(BTF_KIND_STRUCT, 1), 4, &[u32::MAX - 1, 0, 0]);
    // A name that runs to the end of the section without its NUL.
    b.ty(n + 1, info(BTF_KIND_STRUCT, 0), 4, &[]);
    b.strings.pop();
    let data = b.build();
    let btf = RawBtf::parse(&data).unwrap();
    let ty = btf.get(1).unwrap();
    assert!(!btf.named(&ty, ""));
    let m = btf.members(&ty).next().unwrap();
    assert!(!btf.member_named(&m, ""));
    assert_eq!(btf.find("b", BTF_KIND_STRUCT), None);
    assert_eq!(btf.find("", BTF_KIND_STRUCT), None);
}

/// The running kernel's own BTF, if it has one: the sparse index agrees with a
/// walk over every type, and well-known types are found.
#[test]
fn reads_the_running_kernels_btf() {
    extern crate std;
    let Ok(data) = std::fs::read("/sys/kernel/btf/vmlinux") else {
        std::eprintln!("no /sys/kernel/btf/vmlinux: skipped");
        return;
    };
    let btf = RawBtf::parse(&data).unwrap();
    assert!(btf.len() > 10_000, "{} types", btf.len());
    let mut walked = 0;
    for (id, ty) in btf.iter() {
        let got = btf.get(id).unwrap();
        assert_eq!(
            (got.kind, got.name_off),
            (ty.kind, ty.name_off),
            "type {id}"
        );
        walked += 1;
    }
    assert_eq!(walked, btf.len());
    let task = btf.find("task_struct", BTF_KIND_STRUCT).unwrap();
    assert!(btf.size_of(task).unwrap() > 1000);
    assert!(btf
        .find_prefixed("bpf_struct_ops_", "tcp_congestion_ops", BTF_KIND_STRUCT)
        .is_some());
}

#[test]
fn mutated_btf_never_panics() {
    let mut b = Builder::new();
    let int = b.ty(b.strings.len() as u32, info(BTF_KIND_INT, 0), 4, &[32]);
    b.name("int");
    let ptr = b.ty(0, info(BTF_KIND_PTR, 0), 3, &[]);
    let proto = b.ty(0, info(BTF_KIND_FUNC_PROTO, 1), int, &[0, int]);
    let arr = b.ty(0, info(BTF_KIND_ARRAY, 0), 0, &[ptr, int, 4]);
    let m = b.name("m");
    b.ty(m, info(BTF_KIND_STRUCT, 2), 40, &[m, arr, 0, m, proto, 256]);
    let good = b.build();
    // A small xorshift: reproducible, no dependency.
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for _ in 0..20_000 {
        let mut data = good.clone();
        for _ in 0..1 + next() % 4 {
            let at = (next() % data.len() as u64) as usize;
            data[at] = match next() % 4 {
                0 => 0,
                1 => 0xff,
                _ => next() as u8,
            };
        }
        exercise(&data);
    }
}
