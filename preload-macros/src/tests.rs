//! Expansion snapshots: what the macro emits for every example, so that a change in
//! the table is visible in review.

use std::path::{Path, PathBuf};

use syn::ItemStruct;

use bpf_preload_codegen::parse::Args;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// Expands the `#[bpf_preload]` struct in `examples/<name>/src/lib.rs` as the compiler
/// would, and pretty-prints the result with the checkout's path made neutral.
fn expand_example(name: &str) -> String {
    let crate_dir = workspace().join("examples").join(name);
    let src = crate_dir.join("src");
    let text = std::fs::read_to_string(src.join("lib.rs")).unwrap();
    let file = syn::parse_file(&text).unwrap();
    let mut item: ItemStruct = file
        .items
        .into_iter()
        .find_map(|i| match i {
            syn::Item::Struct(s) if s.attrs.iter().any(|a| a.path().is_ident("bpf_preload")) => {
                Some(s)
            }
            _ => None,
        })
        .expect("an example has a #[bpf_preload] struct");
    let attr = item
        .attrs
        .iter()
        .position(|a| a.path().is_ident("bpf_preload"))
        .unwrap();
    let args: Args = item.attrs.remove(attr).parse_args().unwrap();
    let bases = [(src, String::new()), (crate_dir, String::new())];
    let tokens = bpf_preload_codegen::run(&args, &item, &bases).unwrap_or_else(|e| panic!("{e}"));
    let pretty = prettyplease::unparse(&syn::parse2(tokens).unwrap());
    pretty.replace(&workspace().display().to_string(), "$WORKSPACE")
}

#[test]
fn iterators_expansion() {
    insta::assert_snapshot!(expand_example("iterators"));
}

#[test]
fn counters_expansion() {
    insta::assert_snapshot!(expand_example("counters"));
}

#[test]
fn mkdir_guard_expansion() {
    insta::assert_snapshot!(expand_example("mkdir_guard"));
}

#[test]
fn getppid_count_expansion() {
    insta::assert_snapshot!(expand_example("getppid_count"));
}

#[test]
fn expansion_is_deterministic() {
    assert_eq!(expand_example("counters"), expand_example("counters"));
}

/// Every file in a directory of the repository, sorted.
fn files(dir: &str) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(workspace().join(dir))
        .unwrap_or_else(|e| panic!("{dir}: {e}"))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file() && !p.ends_with("README.md"))
        .collect();
    out.sort();
    out
}

/// Each input that once crashed the fuzzer (see `fuzz/regressions/README.md`) now
/// ends in the error it names there, through the same path as the fuzzer.
#[test]
fn fuzz_regressions() {
    let readme = std::fs::read_to_string(workspace().join("fuzz/regressions/README.md")).unwrap();
    for path in files("fuzz/regressions") {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let data = std::fs::read(&path).unwrap();
        let err = bpf_preload_codegen::replay::replay(&data).expect_err(&name);
        let expected = readme
            .lines()
            .skip_while(|l| !l.contains(&name))
            .find_map(|l| l.trim().strip_prefix("error: "))
            .unwrap_or_else(|| panic!("fuzz/regressions/README.md lists {name} and its error"));
        assert!(
            err.contains(expected),
            "{name}: expected an error containing {expected:?}, got {err:?}"
        );
    }
}

/// The committed corpus (`fuzz/replay/`, a minimised copy of what the fuzzer found
/// interesting) through the same path as the fuzzer: no input panics.
#[test]
fn fuzz_corpus_replay() {
    let inputs = files("fuzz/replay");
    assert!(!inputs.is_empty());
    let mut read = 0;
    for path in &inputs {
        let data = std::fs::read(path).unwrap();
        read += usize::from(bpf_preload_codegen::replay::replay(&data).is_ok());
    }
    eprintln!("{} inputs replayed, {read} read into a table", inputs.len());
}

/// Every committed fixture ends in the error its compile-fail test expects, or in a
/// table (the examples and the pass fixtures), through the fuzzer's path too.
#[test]
fn fixtures_and_examples_replay() {
    for path in files("tests/fixtures")
        .into_iter()
        .chain(files("fuzz/seeds"))
        .filter(|p| p.extension().is_some_and(|e| e == "o"))
    {
        let data = std::fs::read(&path).unwrap();
        let _ = bpf_preload_codegen::replay::replay(&data);
    }
}

use bpf_preload_uapi::{
    btf_info_kind, btf_info_vlen, btf_type_extra_len, BTF_KIND_DATASEC, BTF_TYPE_LEN,
};
use preload_fixtures as corrupt;

/// Where the last DATASEC of the `.BTF` section at `btf` starts in the file.
fn last_datasec(data: &[u8], btf: usize) -> usize {
    let types = btf + corrupt::u32_at(data, btf + 4) + corrupt::u32_at(data, btf + 8);
    let end = types + corrupt::u32_at(data, btf + 12);
    let (mut at, mut last) = (types, None);
    while at < end {
        let info = corrupt::u32_at(data, at + 4) as u32;
        let (kind, vlen) = (btf_info_kind(info), btf_info_vlen(info));
        if kind == BTF_KIND_DATASEC {
            last = Some(at);
        }
        at += BTF_TYPE_LEN + btf_type_extra_len(kind, vlen).unwrap_or(0);
    }
    last.expect("a DATASEC")
}

/// Edits of a good object that once reached a panic in aya-obj 0.3, which the reader
/// used before it linked objects itself (the fuzzer found others:
/// `fuzz/regressions/`). Each must end in an error that names the fault.
#[test]
fn corrupt_edits_end_in_errors() {
    let counters = std::fs::read(workspace().join("examples/counters/bpf/counters.bpf.o")).unwrap();
    type Edit = fn(&mut Vec<u8>);
    let cases: [(&str, Edit, &str); 5] = [
        (
            // btf.rs `string_at`: checks the offset against str_off + hdr_len +
            // str_len, then indexes a table of str_len bytes; the map parser looks up
            // every DATASEC's name.
            "a DATASEC name offset past the string table",
            |d| {
                let btf = corrupt::section(&corrupt::sections(d), ".BTF").offset;
                let str_len = corrupt::u32_at(d, btf + 20) as u32;
                let datasec = last_datasec(d, btf);
                corrupt::put_u32(d, datasec, str_len + 1);
            },
            "past the",
        ),
        (
            // btf.rs `BtfExt::parse`: `string_at(..).ok().map(String::from).unwrap()`.
            "a func_info section name outside the BTF strings",
            |d| {
                let ext = corrupt::section(&corrupt::sections(d), ".BTF.ext").offset;
                let (hdr_len, off) = (corrupt::u32_at(d, ext + 4), corrupt::u32_at(d, ext + 8));
                corrupt::put_u32(d, ext + hdr_len + off + 4, 0x00ff_ffff);
            },
            "past the end of `.BTF`'s strings",
        ),
        (
            // obj.rs `parse_data_map_section`: `vec![0; section.size as usize]`, an
            // allocation as large as the section header says (an abort once it fails).
            "a 1 TiB `.bss`",
            |d| {
                let bss = corrupt::section(&corrupt::sections(d), ".bss").header;
                corrupt::put_u64(d, bss + 32, 1 << 40);
            },
            "larger than 4 GiB",
        ),
        (
            // relocation.rs `FunctionLinker::relocate`: `todo!()` for a relocation
            // whose size is neither 32 nor 64 (here R_BPF_64_ABS64, size 0).
            "a call relocated with R_BPF_64_ABS64",
            |d| {
                let all = corrupt::sections(d);
                let rel = corrupt::section(&all, ".reltracepoint/syscalls/sys_enter_getppid");
                // The second relocation is the call to `record_hit` in `.text`.
                let info = rel.offset + 16 + 8;
                corrupt::put_u32(d, info, 2);
            },
            "has type 2",
        ),
        (
            // relocation.rs `FunctionLinker::relocate`: `(ins.imm + 1) as u64 *
            // INS_SIZE` overflows for a call to a section symbol with imm i32::MAX.
            "a relocated call with immediate i32::MAX",
            |d| {
                let code = corrupt::section(
                    &corrupt::sections(d),
                    "tracepoint/syscalls/sys_enter_getppid",
                )
                .offset;
                corrupt::put_u32(d, code + 0x30 + 4, i32::MAX as u32);
            },
            "where no function starts",
        ),
    ];
    for (what, edit, expected) in cases {
        let mut data = counters.clone();
        edit(&mut data);
        let err = bpf_preload_codegen::replay::replay(&data).expect_err(what);
        assert!(err.contains(expected), "{what}: {err}");
    }
}
