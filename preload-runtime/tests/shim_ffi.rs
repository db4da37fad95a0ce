//! The Rust side of the module's FFI against the C side: every function that
//! `src/kernel/ffi.rs` declares, and every entry point that `kernel_module!` defines,
//! must have the prototype `kernel/shim.h` gives it, type for type. The two are
//! written by hand in two languages; this is what keeps them one contract.

use std::collections::BTreeMap;

const HEADER: &str = include_str!("../kernel/shim.h");
const FFI: &str = include_str!("../src/kernel/ffi.rs");
const MODULE: &str = include_str!("../src/kernel/module.rs");

/// A prototype: parameter types and the return type, in Rust's spelling.
type Prototype = (Vec<String>, String);

/// The Rust type of a C type of the header.
fn rust_type(c: &str) -> String {
    let c = c.trim().replace(" *", "*").replace("const ", "const_");
    match c.as_str() {
        "int" => "c_int",
        "u32" => "u32",
        "size_t" => "usize",
        "void" => "()",
        "void*" => "*mut c_void",
        "void**" => "*mut *mut c_void",
        "size_t*" => "*mut usize",
        "u32*" => "*mut u32",
        "const_char*" => "*const c_char",
        other => panic!("shim.h: no Rust type for C type `{other}`"),
    }
    .to_string()
}

/// Every `bpf_preload_*` prototype of the header.
fn header() -> BTreeMap<String, Prototype> {
    let mut out = BTreeMap::new();
    for line in HEADER
        .lines()
        .filter(|l| l.contains("bpf_preload_") && l.ends_with(';'))
    {
        if line.starts_with(' ') || line.starts_with('*') || line.starts_with("#") {
            continue;
        }
        let (head, rest) = line.split_once('(').expect("a prototype");
        let (ret, name) = head.rsplit_once([' ', '*']).unwrap();
        let ret = if head[ret.len()..].starts_with('*') {
            format!("{ret}*")
        } else {
            ret.to_string()
        };
        let params = rest.split_once(')').unwrap().0;
        let params = if params == "void" {
            Vec::new()
        } else {
            (params.split(','))
                .map(|p| {
                    let p = p.trim();
                    let name_at = p.rfind([' ', '*']).unwrap() + 1;
                    rust_type(&p[..name_at])
                })
                .collect()
        };
        let ret = if line.contains("noreturn") {
            "!".to_string()
        } else {
            rust_type(&ret)
        };
        out.insert(name.to_string(), (params, ret));
    }
    out
}

/// `fn name(a: T, b: U) -> R` in Rust source, joined onto one line.
fn rust_prototypes(source: &str, prefix: &str) -> BTreeMap<String, Prototype> {
    let flat = source.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut out = BTreeMap::new();
    for piece in flat.split(prefix).skip(1) {
        let (name, rest) = piece.split_once('(').unwrap();
        let (params, after) = rest.split_once(')').unwrap();
        let params = (params.split(','))
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(|p| {
                p.split_once(':')
                    .unwrap()
                    .1
                    .trim()
                    .replace("::core::ffi::", "")
            })
            .collect();
        let after = after.trim_start();
        let ret = match after.strip_prefix("->") {
            Some(r) => r
                .split([';', '{'])
                .next()
                .unwrap()
                .trim()
                .replace("::core::ffi::", ""),
            None => "()".to_string(),
        };
        out.insert(format!("bpf_preload_{name}"), (params, ret));
    }
    out
}

#[test]
fn every_declaration_matches_the_header() {
    let header = header();
    let declared = rust_prototypes(FFI, "fn bpf_preload_");
    assert!(declared.len() > 15, "parsed only {declared:?}");
    for (name, prototype) in &declared {
        assert_eq!(
            Some(prototype),
            header.get(name),
            "{name}: ffi.rs against shim.h"
        );
    }
}

#[test]
fn every_entry_point_matches_the_header() {
    let header = header();
    let defined = rust_prototypes(MODULE, "extern \"C\" fn bpf_preload_");
    assert_eq!(
        defined.len(),
        4,
        "init, exit, abandon, populate: {defined:?}"
    );
    for (name, prototype) in &defined {
        assert_eq!(
            Some(prototype),
            header.get(name),
            "{name}: kernel_module! against shim.h"
        );
    }
}

#[test]
fn every_constant_matches_the_header() {
    let defines: BTreeMap<&str, &str> = (HEADER.lines())
        .filter_map(|l| l.strip_prefix("#define BPF_PRELOAD_"))
        .filter_map(|l| l.split_once(' '))
        .collect();
    let consts: Vec<(&str, &str)> = (FFI.lines())
        .filter_map(|l| l.trim().strip_prefix("pub(crate) const "))
        .filter_map(|l| l.split_once(": u32 = "))
        .map(|(name, value)| (name, value.trim_end_matches(';')))
        .collect();
    assert_eq!(consts.len(), 3, "PIN_PROG, PIN_MAP, PIN_LINK: {consts:?}");
    for (name, value) in consts {
        assert_eq!(
            defines.get(name),
            Some(&value),
            "{name}: ffi.rs against shim.h"
        );
    }
}
