//! The Rust side of the runtime module's FFI against the C side: every function that
//! `src/kernel/ffi.rs` declares, and every entry point that `src/kernel/runtime.rs`
//! defines, must have the prototype `kernel/shim.h` gives it, type for type; and the
//! table layout the runtime's ABI header names is the crate's. The two are written
//! by hand in two languages; this is what keeps them one contract.

use std::collections::BTreeMap;

const HEADER: &str = include_str!("../kernel/shim.h");
const FFI: &str = include_str!("../src/kernel/ffi.rs");
const RUNTIME: &str = include_str!("../src/kernel/runtime.rs");
const ABI: &str = include_str!("../kernel/bpf_preload_runtime.h");

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
        "const_void*" => "*const c_void",
        "bool" => "bool",
        "size_t*" => "*mut usize",
        "u32*" => "*mut u32",
        "u64*" => "*mut u64",
        "const_char*" => "*const c_char",
        other => panic!("shim.h: no Rust type for C type `{other}`"),
    }
    .to_string()
}

/// The header without its comments, one declaration per line.
fn declarations() -> Vec<String> {
    let mut text = String::new();
    let mut rest = HEADER;
    while let Some((before, after)) = rest.split_once("/*") {
        text.push_str(before);
        rest = after.split_once("*/").map_or("", |(_, after)| after);
    }
    text.push_str(rest);
    let code: String = (text.lines())
        .filter(|l| !l.starts_with('#'))
        .collect::<Vec<_>>()
        .join(" ");
    (code.split(';'))
        .map(|d| d.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect()
}

/// Every `bpf_preload_*` prototype of the header.
fn header() -> BTreeMap<String, Prototype> {
    let mut out = BTreeMap::new();
    for line in declarations()
        .iter()
        .filter(|l| l.contains("bpf_preload_") && l.contains('('))
    {
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
    let defined = rust_prototypes(RUNTIME, "extern \"C\" fn bpf_preload_");
    assert_eq!(
        defined.len(),
        5,
        "load, load_status, populate, release, abandon: {defined:?}"
    );
    for (name, prototype) in &defined {
        assert_eq!(
            Some(prototype),
            header.get(name),
            "{name}: runtime.rs against shim.h"
        );
    }
}

#[test]
fn the_abi_names_the_crates_table_layout() {
    let layout = (ABI.lines())
        .find_map(|l| l.strip_prefix("#define BPF_PRELOAD_TABLE_LAYOUT "))
        .expect("bpf_preload_runtime.h defines BPF_PRELOAD_TABLE_LAYOUT");
    assert_eq!(layout.trim(), bpf_preload::TABLE_LAYOUT.to_string());
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
