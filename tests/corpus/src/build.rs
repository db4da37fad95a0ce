//! The corpus's objects, built from Debian packages and cached under
//! `target/corpus/objects/`, keyed by the packages' versions, the running kernel (its
//! BTF is the selftests' `vmlinux.h`) and the committed selection of selftests; and the
//! objects written for the corpus (`tests/corpus/written/`, shapes no Debian package
//! has, built with the same clang every run, with the calls of their products'
//! loaders).

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

use anyhow::{bail, Context, Result};
use bpf_preload_uapi::EM_BPF;

use preload_devtools::{ensure_packages, output, root, run as run_cmd};

/// Everything the objects are made from; a change to any of them rebuilds the corpus.
pub const PACKAGES: [&str; 6] = [
    "linux-source-6.12",
    "libbpf-tools",
    "libbpf-dev",
    "clang-19",
    "llvm-19",
    "bpftool",
];

const SOURCE_TARBALL: &str = "/usr/src/linux-source-6.12.tar.xz";
const SOURCE_DIR: &str = "linux-source-6.12";
/// The members of the tarball the corpus needs (extracting all of it takes minutes).
const SOURCE_MEMBERS: [&str; 5] = [
    "linux-source-6.12/kernel/bpf/preload/iterators/*",
    "linux-source-6.12/tools/testing/selftests/bpf/*",
    "linux-source-6.12/tools/lib/bpf/*",
    "linux-source-6.12/tools/include/*",
    "linux-source-6.12/scripts/bpf_doc.py",
];
const SELFTESTS: &str = "tools/testing/selftests/bpf";
/// The objects written for the corpus, one `*.bpf.c` each.
const WRITTEN: &str = "tests/corpus/written";

/// One object of the corpus, or why it could not be built.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Where it comes from, e.g. `selftests/bpf_iter_task.c`, `libbpf-tools/execsnoop`.
    pub source: String,
    /// The object's name: its file name up to the first `.`, as libbpf names it (so
    /// both loaders give its `.data`-like maps the same kernel names).
    pub name: String,
    /// The generated crate's name, unique in the corpus.
    pub krate: String,
    pub object: Result<PathBuf, String>,
    /// What a product's loader calls before it loads the object, from the `loader:`
    /// lines of a written object's source (`tests/corpus/libbpf-loader.c` says how
    /// they read): loaded on the libbpf side by that loader, which written objects
    /// always go through, and given to #[bpf_preload] as options (`crates`).
    pub loader: Option<Vec<String>>,
}

pub fn corpus_dir() -> PathBuf {
    root().join("target/corpus")
}

/// The committed list of selftests (`tests/corpus/selftests.txt`): one file of
/// `progs/` per line, `#` comments.
pub fn selftest_selection() -> Result<Vec<String>> {
    let path = root().join("tests/corpus/selftests.txt");
    let text = fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    Ok(text
        .lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect())
}

fn package_version(package: &str) -> Result<String> {
    let version = output(Command::new("dpkg-query").args(["-W", "-f=${Version}", package]))
        .with_context(|| format!("package {package} is not installed"))?;
    Ok(version.trim().to_string())
}

pub fn kernel_release() -> Result<String> {
    Ok(output(Command::new("uname").arg("-r"))?.trim().to_string())
}

/// The text the cache is keyed by: package versions, kernel, selection, and where it
/// is (its entries name objects by absolute path, so a moved cache is rebuilt).
fn cache_key(dir: &Path) -> Result<String> {
    let mut key = format!("dir {}\n", dir.display());
    for package in PACKAGES {
        key.push_str(&format!("{package} {}\n", package_version(package)?));
    }
    key.push_str(&format!("kernel {}\n", kernel_release()?));
    for file in selftest_selection()? {
        key.push_str(&format!("selftest {file}\n"));
    }
    Ok(key)
}

/// The sources in `tests/corpus/written/`, sorted.
fn written_sources() -> Result<Vec<PathBuf>> {
    let mut sources: Vec<PathBuf> = fs::read_dir(root().join(WRITTEN))?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    sources.retain(|p| p.to_string_lossy().ends_with(".bpf.c"));
    sources.sort();
    Ok(sources)
}

/// Builds (or finds cached) every object of the corpus.
pub fn objects() -> Result<Vec<Entry>> {
    ensure_packages(&PACKAGES, "building the corpus")?;
    // tar -J for the source, python3 for scripts/bpf_doc.py.
    ensure_packages(&["xz-utils", "python3"], "building the corpus")?;
    let dir = corpus_dir().join("objects");
    let key = cache_key(&dir)?;
    let key_file = dir.join("KEY");
    let list_file = dir.join("ENTRIES");
    // The objects written for the corpus, a few small sources, are built every run.
    let mut written = written(&corpus_dir().join("written"))?;
    let calls = packaged_loader_calls()?;
    let with_calls = |mut entries: Vec<Entry>| {
        for entry in &mut entries {
            if let Some(calls) = calls.get(&entry.source) {
                entry.loader = Some(calls.clone());
            }
        }
        entries
    };
    if fs::read_to_string(&key_file).ok().as_deref() == Some(key.as_str())
        && let Ok(text) = fs::read_to_string(&list_file)
    {
        println!("corpus objects: cached in {}", dir.display());
        let mut entries = with_calls(parse_entries(&text));
        entries.append(&mut written);
        return Ok(entries);
    }
    if dir.exists() {
        fs::remove_dir_all(&dir)?;
    }
    fs::create_dir_all(&dir)?;
    let src = extract_source()?;
    let mut entries = vec![iterators(&src, &dir)?];
    entries.extend(libbpf_tools(&dir.join("libbpf-tools"))?);
    entries.extend(selftests(&src, &dir)?);
    fs::write(&list_file, format_entries(&entries))?;
    fs::write(&key_file, key)?;
    let mut entries = with_calls(entries);
    entries.append(&mut written);
    Ok(entries)
}

/// The calls the loaders of Debian-packaged objects make before load, by source
/// (`tests/corpus/loader-calls.txt`).
fn packaged_loader_calls() -> Result<std::collections::BTreeMap<String, Vec<String>>> {
    let path = root().join("tests/corpus/loader-calls.txt");
    let text = fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    Ok(text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| {
            let mut words = l.split_whitespace();
            let source = words.next()?.to_string();
            Some((source, words.map(String::from).collect()))
        })
        .collect())
}

/// The calls of the `loader: CALL` lines of a written object's source (in its
/// comments), in order.
pub fn loader_calls(source: &str) -> Vec<String> {
    source
        .lines()
        .filter_map(|l| {
            l.trim_start_matches([' ', '*', '/'])
                .strip_prefix("loader: ")
        })
        .map(|call| call.trim().to_string())
        .collect()
}

fn format_entries(entries: &[Entry]) -> String {
    entries
        .iter()
        .map(|e| match &e.object {
            Ok(path) => format!(
                "{}\t{}\t{}\tok\t{}\n",
                e.source,
                e.name,
                e.krate,
                path.display()
            ),
            Err(why) => format!("{}\t{}\t{}\terr\t{why}\n", e.source, e.name, e.krate),
        })
        .collect()
}

fn parse_entries(text: &str) -> Vec<Entry> {
    text.lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.splitn(5, '\t').collect();
            let [source, name, krate, status, rest] = f[..] else {
                return None;
            };
            Some(Entry {
                source: source.into(),
                name: name.into(),
                krate: krate.into(),
                object: if status == "ok" {
                    Ok(rest.into())
                } else {
                    Err(rest.into())
                },
                loader: None,
            })
        })
        .collect()
}

/// The parts of linux-source-6.12 the corpus uses, extracted once per version.
fn extract_source() -> Result<PathBuf> {
    let base = corpus_dir().join(format!("source-{}", package_version("linux-source-6.12")?));
    let stamp = base.join(".extracted");
    if !stamp.exists() {
        println!("corpus: extracting what the corpus needs from {SOURCE_TARBALL}");
        if base.exists() {
            fs::remove_dir_all(&base)?;
        }
        fs::create_dir_all(&base)?;
        run_cmd(
            Command::new("tar")
                .current_dir(&base)
                .args(["-xJf", SOURCE_TARBALL, "--wildcards"])
                .args(SOURCE_MEMBERS),
        )?;
        fs::write(&stamp, "")?;
    }
    Ok(base.join(SOURCE_DIR))
}

fn clang() -> Command {
    let mut cmd = Command::new("nice");
    cmd.args(["-n", "10", "clang-19"]);
    cmd
}

/// Runs a compiler; on failure, its first `error:` line (else its last line).
fn compile(cmd: &mut Command, out: &Path) -> Result<(), String> {
    let output = cmd
        .output()
        .map_err(|e| format!("cannot run clang-19: {e}"))?;
    if !output.status.success() {
        let text = String::from_utf8_lossy(&output.stderr);
        let line = text
            .lines()
            .find(|l| l.contains("error:"))
            .or_else(|| text.lines().last())
            .unwrap_or("clang-19 failed");
        // Paths of this checkout would make the results depend on where it is.
        let line = line.rsplit_once("/progs/").map_or(line, |(_, l)| l);
        return Err(line.replace('\t', " "));
    }
    let strip = Command::new("llvm-strip-19")
        .arg("-g")
        .arg(out)
        .status()
        .map_err(|e| format!("cannot run llvm-strip-19: {e}"))?;
    if !strip.success() {
        return Err("llvm-strip-19 -g failed".into());
    }
    Ok(())
}

/// `kernel/bpf/preload/iterators/iterators.bpf.o`, as its Makefile builds it, with the
/// libbpf headers of libbpf-dev.
fn iterators(src: &Path, dir: &Path) -> Result<Entry> {
    let iter_dir = src.join("kernel/bpf/preload/iterators");
    let include = dir.join("include-libbpf-dev");
    fs::create_dir_all(&include)?;
    std::os::unix::fs::symlink("/usr/include/bpf", include.join("bpf"))?;
    let out = dir.join("iterators/iterators.bpf.o");
    fs::create_dir_all(out.parent().unwrap())?;
    let object = compile(
        clang()
            .current_dir(&iter_dir)
            .args(["-g", "-O2", "--target=bpf", "-mlittle-endian"])
            .arg("-I")
            .arg(&include)
            .arg("-I")
            .arg(src.join("tools/include/uapi"))
            .args(["-c", "iterators.bpf.c", "-o"])
            .arg(&out),
        &out,
    )
    .map(|()| out);
    println!("corpus: built kernel/bpf/preload/iterators");
    Ok(Entry {
        source: "kernel/bpf/preload/iterators".into(),
        name: "iterators".into(),
        krate: "k_iterators".into(),
        object,
        loader: None,
    })
}

/// The objects written for the corpus, built as the examples are (libbpf-dev's
/// headers and the UAPI headers of the build machine; no `vmlinux.h`).
fn written(dir: &Path) -> Result<Vec<Entry>> {
    fs::create_dir_all(dir)?;
    let mut entries = Vec::new();
    for source in written_sources()? {
        let file = source.file_name().unwrap().to_string_lossy().into_owned();
        let stem = file.trim_end_matches(".bpf.c").replace('-', "_");
        let out = dir.join(format!("{stem}.bpf.o"));
        let text =
            fs::read_to_string(&source).with_context(|| format!("reading {}", source.display()))?;
        let object = compile(
            clang()
                .current_dir(root().join(WRITTEN))
                .args(["-g", "-O2", "--target=bpf", "-D__TARGET_ARCH_x86"])
                .args(["-I/usr/include/x86_64-linux-gnu", "-c"])
                .arg(&file)
                .arg("-o")
                .arg(&out),
            &out,
        )
        .map(|()| out);
        entries.push(Entry {
            source: format!("written/{file}"),
            krate: format!("wr_{stem}"),
            name: stem,
            object,
            loader: Some(loader_calls(&text)),
        });
    }
    println!("corpus: built {} objects written for it", entries.len());
    Ok(entries)
}

/// The executables of the libbpf-tools package.
fn libbpf_tools_binaries() -> Result<Vec<PathBuf>> {
    let mut bins: Vec<PathBuf> = output(Command::new("dpkg").args(["-L", "libbpf-tools"]))?
        .lines()
        .filter(|l| l.contains("/sbin/") || l.contains("/bin/"))
        .map(PathBuf::from)
        .filter(|p| p.is_file() && !p.is_symlink())
        .collect();
    bins.sort();
    Ok(bins)
}

/// The size of the ELF object starting at `data`: the end of its section header table
/// or of its last section, whichever is further.
fn elf_size(data: &[u8]) -> Option<usize> {
    let u16_at = |o: usize| Some(u16::from_le_bytes(data.get(o..o + 2)?.try_into().ok()?));
    let u64_at = |o: usize| Some(u64::from_le_bytes(data.get(o..o + 8)?.try_into().ok()?));
    // 64-bit, little-endian, version 1, relocatable, EM_BPF.
    if data.get(4..7)? != [2, 1, 1] || u16_at(16)? != 1 || u16_at(18)? != EM_BPF {
        return None;
    }
    let shoff = usize::try_from(u64_at(0x28)?).ok()?;
    let shentsize = usize::from(u16_at(0x3a)?);
    let shnum = usize::from(u16_at(0x3c)?);
    if shentsize != 64 || shnum == 0 {
        return None;
    }
    let mut end = shoff.checked_add(shentsize.checked_mul(shnum)?)?;
    for i in 0..shnum {
        let sh = shoff + i * shentsize;
        const SHT_NOBITS: u32 = 8;
        let sh_type = u32::from_le_bytes(data.get(sh + 4..sh + 8)?.try_into().ok()?);
        if sh_type == SHT_NOBITS {
            continue;
        }
        let offset = usize::try_from(u64_at(sh + 0x18)?).ok()?;
        let size = usize::try_from(u64_at(sh + 0x20)?).ok()?;
        end = end.max(offset.checked_add(size)?);
    }
    (end <= data.len()).then_some(end)
}

/// Every BPF object embedded in `binary` (skeletons embed them whole).
fn carve(binary: &[u8]) -> Vec<&[u8]> {
    let mut found = Vec::new();
    let mut at = 0;
    while let Some(pos) = binary[at..].windows(4).position(|w| w == b"\x7fELF") {
        let start = at + pos;
        match elf_size(&binary[start..]) {
            Some(size)
                if object::read::elf::ElfFile64::<object::Endianness>::parse(
                    &binary[start..start + size],
                )
                .is_ok() =>
            {
                found.push(&binary[start..start + size]);
                at = start + size;
            }
            _ => at = start + 1,
        }
    }
    found
}

fn libbpf_tools(dir: &Path) -> Result<Vec<Entry>> {
    fs::create_dir_all(dir)?;
    let mut seen = BTreeSet::new();
    let mut entries = Vec::new();
    for bin in libbpf_tools_binaries()? {
        let data = fs::read(&bin).with_context(|| format!("reading {}", bin.display()))?;
        let tool = bin.file_name().unwrap().to_string_lossy().replace('-', "_");
        let objects = carve(&data);
        for (i, object) in objects.iter().enumerate() {
            // Several tools embed the same skeleton; load each object once.
            if !seen.insert(object.to_vec()) {
                continue;
            }
            let name = if objects.len() == 1 {
                tool.clone()
            } else {
                format!("{tool}_{i}")
            };
            let path = dir.join(format!("{name}.bpf.o"));
            fs::write(&path, object)?;
            entries.push(Entry {
                source: format!("libbpf-tools/{name}"),
                krate: format!("lt_{name}"),
                name,
                object: Ok(path),
                loader: None,
            });
        }
    }
    println!(
        "corpus: carved {} objects out of libbpf-tools",
        entries.len()
    );
    Ok(entries)
}

/// The selftests' include directory: the running kernel's `vmlinux.h` and the 6.12
/// tree's libbpf headers with `bpf_helper_defs.h` generated, as their Makefile does.
fn selftest_includes(src: &Path, dir: &Path) -> Result<PathBuf> {
    let include = dir.join("include-selftests");
    fs::create_dir_all(include.join("bpf"))?;
    let vmlinux = output(Command::new("bpftool").args([
        "btf",
        "dump",
        "file",
        "/sys/kernel/btf/vmlinux",
        "format",
        "c",
    ]))?;
    fs::write(include.join("vmlinux.h"), vmlinux)?;
    for header in fs::read_dir(src.join("tools/lib/bpf"))? {
        let path = header?.path();
        if path.extension().is_some_and(|e| e == "h") {
            fs::copy(&path, include.join("bpf").join(path.file_name().unwrap()))?;
        }
    }
    let defs = output(
        Command::new("python3")
            .arg(src.join("scripts/bpf_doc.py"))
            .args(["--header", "--file"])
            .arg(src.join("tools/include/uapi/linux/bpf.h")),
    )
    .context("scripts/bpf_doc.py (python3)")?;
    fs::write(include.join("bpf/bpf_helper_defs.h"), defs)?;
    Ok(include)
}

/// The selected `progs/*.c`, built as the selftests' Makefile builds them for
/// `test_progs` (without `-Werror`: this `vmlinux.h` is a newer kernel's), on every
/// core.
fn selftests(src: &Path, dir: &Path) -> Result<Vec<Entry>> {
    let include = selftest_includes(src, dir)?;
    let out_dir = dir.join("selftests");
    fs::create_dir_all(&out_dir)?;
    let files = selftest_selection()?;
    let bpf_dir = src.join(SELFTESTS);
    let todo = Mutex::new(files.iter().enumerate());
    let results = Mutex::new(vec![None; files.len()]);
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    println!(
        "corpus: building {} selftests on {workers} cores",
        files.len()
    );
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| loop {
                let Some((i, file)) = todo.lock().unwrap().next() else {
                    return;
                };
                let stem = file.trim_end_matches(".c");
                let out = out_dir.join(format!("{stem}.bpf.o"));
                let object = compile(
                    clang()
                        .current_dir(bpf_dir.join("progs"))
                        .args(["-g", "-Wall", "-D__TARGET_ARCH_x86", "-mlittle-endian"])
                        .arg("-I")
                        .arg(&include)
                        .arg("-I")
                        .arg(&bpf_dir)
                        .arg("-I")
                        .arg(src.join("tools/include/uapi"))
                        .args([
                            "-Wno-compare-distinct-pointer-types",
                            "-idirafter",
                            "/usr/include/x86_64-linux-gnu",
                            "-idirafter",
                            "/usr/include",
                            "-DENABLE_ATOMICS_TESTS",
                            "-O2",
                            "--target=bpf",
                            "-mcpu=v3",
                            "-c",
                        ])
                        .arg(file)
                        .arg("-o")
                        .arg(&out),
                    &out,
                )
                .map(|()| out);
                results.lock().unwrap()[i] = Some(Entry {
                    source: format!("selftests/{file}"),
                    name: stem.replace('-', "_"),
                    krate: format!("st_{}", stem.replace('-', "_")),
                    object,
                    loader: None,
                });
            });
        }
    });
    let entries: Vec<Entry> = results
        .into_inner()
        .unwrap()
        .into_iter()
        .flatten()
        .collect();
    let failed = entries.iter().filter(|e| e.object.is_err()).count();
    println!(
        "corpus: built {} selftests, {failed} did not compile",
        entries.len() - failed
    );
    Ok(entries)
}

/// Where [`libbpf_loader`] builds the tier's libbpf loader.
pub fn libbpf_loader_path() -> PathBuf {
    corpus_dir().join("libbpf-loader")
}

/// Builds `tests/corpus/libbpf-loader.c` against Debian's libbpf: the libbpf side of
/// written objects, which makes the calls of their products' loaders.
pub fn libbpf_loader() -> Result<PathBuf> {
    ensure_packages(
        &["gcc", "libbpf-dev"],
        "building the corpus's libbpf loader",
    )?;
    let out = libbpf_loader_path();
    fs::create_dir_all(corpus_dir())?;
    let status = Command::new("gcc")
        .args(["-O2", "-Wall", "-Wextra", "-Werror", "-o"])
        .arg(&out)
        .arg(root().join("tests/corpus/libbpf-loader.c"))
        .arg("-lbpf")
        .status()
        .context("running gcc")?;
    if !status.success() {
        bail!("building tests/corpus/libbpf-loader.c failed ({status})");
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn carves_each_embedded_object_whole() {
        let object = fs::read(root().join("examples/iterators/bpf/iterators.bpf.o")).unwrap();
        assert_eq!(elf_size(&object), Some(object.len()));
        // A binary with two skeletons, and an ELF magic that is not a BPF object.
        let mut binary = b"\x7fELF not an object".to_vec();
        binary.extend(&object);
        binary.extend(b"padding between the two");
        binary.extend(&object);
        binary.extend(b"\x7fELF");
        assert_eq!(carve(&binary), [&object[..], &object[..]]);
    }

    #[test]
    fn a_truncated_object_is_not_carved() {
        let object = fs::read(root().join("examples/iterators/bpf/iterators.bpf.o")).unwrap();
        assert_eq!(elf_size(&object[..object.len() - 1]), None);
        assert!(carve(&object[..object.len() - 1]).is_empty());
    }

    #[test]
    fn entries_survive_the_cache_file() {
        let entries = vec![
            Entry {
                source: "selftests/a.c".into(),
                name: "a".into(),
                krate: "st_a".into(),
                object: Ok("/x/a.bpf.o".into()),
                loader: None,
            },
            Entry {
                source: "selftests/b.c".into(),
                name: "b".into(),
                krate: "st_b".into(),
                object: Err("b.c:1:2: error: no member named 'x'".into()),
                loader: None,
            },
        ];
        let back = parse_entries(&format_entries(&entries));
        assert_eq!(format!("{back:?}"), format!("{entries:?}"));
    }

    #[test]
    fn loader_lines_of_a_written_source_are_its_calls() {
        let source = "/*\n * A map of maps.\n *\n * loader: inner=m:@t\n * loader: set=x:1 \n */\n";
        assert_eq!(super::loader_calls(source), ["inner=m:@t", "set=x:1"]);
    }
}
