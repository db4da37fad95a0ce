//! Loading one object on each side and reading back, through bpftool and by id, what
//! the kernel holds: programs (type, translated instructions, the maps they hold) and
//! map definitions.
//! Both sides are inspected the same way, so they compare.

use std::collections::BTreeMap;
use std::fs;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use anyhow::{bail, Context, Result};
use bpf_preload_uapi::{BPF_LD_IMM64, BPF_PSEUDO_FUNC, BPF_PSEUDO_MAP_FD, BPF_PSEUDO_MAP_VALUE};
use serde_json::Value;

/// What the kernel holds for one loaded object, keyed by program and map names.
#[derive(Debug, Default)]
pub struct Loaded {
    pub programs: BTreeMap<String, Program>,
    pub maps: BTreeMap<String, MapDef>,
    /// The kernel's ids of all of it (`prog`/`map`), to check they are gone after.
    pub ids: Vec<(&'static str, u64)>,
}

#[derive(Debug)]
pub struct Program {
    pub prog_type: String,
    /// Translated instructions, map ids replaced by map names.
    pub insns: Vec<Insn>,
    /// The names of the maps it holds (`map_ids`: those its instructions use, and
    /// those bound to it, as libbpf binds `.rodata`), sorted.
    pub maps: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Insn {
    Raw(u64),
    /// `ld_imm64` of a map (or a map value at `offset`), with its destination register.
    Map {
        regs: u8,
        map: String,
        value: bool,
        offset: i32,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MapDef {
    pub map_type: String,
    pub key_size: u64,
    pub value_size: u64,
    pub max_entries: u64,
    pub flags: u64,
}

/// How one side's load ended.
pub enum Outcome {
    Loaded(Loaded),
    /// The side's own one-line account of the failure.
    Failed(String),
}

/// A side's process, holding its object until its stdin closes.
struct Holder {
    child: Child,
}

impl Holder {
    fn spawn(cmd: &mut Command, log: &Path) -> Result<Self> {
        let log = fs::File::create(log)?;
        let child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .with_context(|| format!("cannot run {cmd:?}"))?;
        Ok(Self { child })
    }

    /// Lines up to `ready`, or every line if the side exits first.
    fn report(&mut self) -> Result<(Vec<String>, bool)> {
        let stdout = self.child.stdout.as_mut().context("piped stdout")?;
        let mut lines = Vec::new();
        for line in BufReader::new(stdout).lines() {
            let line = line?;
            if line == "ready" {
                return Ok((lines, true));
            }
            lines.push(line);
        }
        Ok((lines, false))
    }

    /// Lets the side free everything and exit.
    fn release(mut self) -> Result<()> {
        drop(self.child.stdin.take());
        let status = self.child.wait()?;
        if !status.success() {
            bail!("exited with {status} after freeing");
        }
        Ok(())
    }
}

impl Drop for Holder {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}

/// The libbpf side: `tests/corpus/libbpf-load.sh` in a private mount namespace; with
/// `calls`, through the tier's libbpf loader making them (`build::libbpf_loader`).
pub fn libbpf(
    script: &Path,
    object: &Path,
    calls: Option<&[String]>,
    log: &Path,
    scratch: &Path,
) -> Result<Outcome> {
    let mut cmd = Command::new("unshare");
    cmd.args(["-m", "--propagation", "private", "sh"])
        .arg(script)
        .arg(object);
    if let Some(calls) = calls {
        cmd.arg(crate::build::libbpf_loader_path()).args(calls);
    }
    let mut holder = Holder::spawn(&mut cmd, log)?;
    let (lines, ready) = holder.report()?;
    if !ready {
        drop(holder);
        return Ok(Outcome::Failed(libbpf_cause(&fs::read_to_string(log)?)));
    }
    let mut ids = Ids::default();
    let mut kind = None;
    for line in lines {
        if let Some(name) = line.strip_prefix("prog\t") {
            kind = Some((true, name.to_string()));
        } else if let Some(name) = line.strip_prefix("map\t") {
            kind = Some((false, name.to_string()));
        } else if line.starts_with('{') {
            let json: Value = serde_json::from_str(&line)?;
            let id = json["id"].as_u64().context("bpftool gave no id")?;
            match kind.take() {
                Some((true, name)) => ids.programs.push((name, id)),
                Some((false, _)) => ids.maps.push(id),
                None => bail!("bpftool output out of order: {line}"),
            }
        }
    }
    let loaded = inspect(&ids, scratch)?;
    holder.release().context("libbpf side")?;
    Ok(Outcome::Loaded(loaded))
}

/// Our side: the object's generated binary, which enters a private mount namespace
/// itself.
pub fn ours(binary: &Path, log: &Path, scratch: &Path) -> Result<Outcome> {
    let mut holder = Holder::spawn(&mut Command::new(binary), log)?;
    let (lines, ready) = holder.report()?;
    if !ready {
        drop(holder);
        let cause = lines
            .iter()
            .find_map(|l| l.strip_prefix("error\t"))
            .map(|e| format!("load error: {}", e.replace('\t', ": ")))
            .unwrap_or_else(|| {
                let log = fs::read_to_string(log).unwrap_or_default();
                format!("failed: {}", log.lines().last().unwrap_or("no output"))
            });
        return Ok(Outcome::Failed(cause));
    }
    let mut ids = Ids::default();
    for line in lines {
        let f: Vec<&str> = line.split('\t').collect();
        match f[..] {
            ["prog", name, id] => ids.programs.push((name.into(), id.parse()?)),
            ["map", _, id] => ids.maps.push(id.parse()?),
            _ => bail!("unexpected line from {}: {line}", binary.display()),
        }
    }
    let loaded = inspect(&ids, scratch)?;
    holder.release().context("our side")?;
    Ok(Outcome::Loaded(loaded))
}

const TEMP_BPFFS: &str = "/tmp/corpus-libbpf-";

/// libbpf's own account of a failed load: its last message naming a failure, with
/// the harness's temporary paths taken out so that the results are reproducible.
fn libbpf_cause(log: &str) -> String {
    let mut in_log = false;
    let mut cause = None;
    for line in log.lines() {
        if line.contains("-- BEGIN PROG LOAD LOG --") {
            in_log = true;
        } else if line.contains("-- END PROG LOAD LOG --") {
            in_log = false;
        } else if !in_log && line.starts_with("libbpf: ") && cause.is_none() {
            let l = line.to_lowercase();
            // A retry is not the failure, nor is the closing "failed to load object".
            let noise = l.contains("retrying") || l.contains("failed to load object");
            let failure = [
                "fail",
                "error",
                "unsupported",
                "not found",
                "can't",
                "bad ",
                "invalid",
            ]
            .iter()
            .any(|w| l.contains(w));
            if !noise && failure {
                cause = Some(line.trim_start_matches("libbpf: ").to_string());
            }
        }
    }
    let cause = cause
        .or_else(|| {
            log.lines()
                .find(|l| l.starts_with("Error: "))
                .map(str::to_string)
        })
        .unwrap_or_else(|| "failed without a message".into());
    // The script's bpffs is `mktemp -d /tmp/corpus-libbpf-XXXXXX`.
    let mut cause = cause;
    while let Some(start) = cause.find(TEMP_BPFFS) {
        let end = (start + TEMP_BPFFS.len() + 6).min(cause.len());
        cause.replace_range(start..end, "<bpffs>");
    }
    cause.replace('\t', " ")
}

#[derive(Default)]
struct Ids {
    /// Program name (as the side names it) and id.
    programs: Vec<(String, u64)>,
    maps: Vec<u64>,
}

fn bpftool_json(args: &[&str]) -> Result<Value> {
    let out = Command::new("bpftool")
        .arg("-j")
        .args(args)
        .output()
        .context("running bpftool")?;
    if !out.status.success() {
        bail!(
            "bpftool {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(serde_json::from_slice(&out.stdout)?)
}

fn field<'a>(json: &'a Value, name: &str) -> Result<&'a Value> {
    json.get(name)
        .with_context(|| format!("bpftool output without `{name}`: {json}"))
}

fn inspect(ids: &Ids, scratch: &Path) -> Result<Loaded> {
    let mut loaded = Loaded::default();
    loaded.ids.extend(ids.maps.iter().map(|&id| ("map", id)));
    loaded
        .ids
        .extend(ids.programs.iter().map(|&(_, id)| ("prog", id)));
    let mut map_names = BTreeMap::new();
    for &id in &ids.maps {
        let json = bpftool_json(&["map", "show", "id", &id.to_string()])?;
        let mut name = field(&json, "name")?.as_str().unwrap_or("").to_string();
        while loaded.maps.contains_key(&name) {
            name.push('\'');
        }
        let number = |n: &str| field(&json, n).map(|v| v.as_u64().unwrap_or(0));
        let def = MapDef {
            map_type: field(&json, "type")?
                .as_str()
                .map_or_else(|| json["type"].to_string(), str::to_string),
            key_size: number("bytes_key")?,
            value_size: number("bytes_value")?,
            max_entries: number("max_entries")?,
            flags: number("flags")?,
        };
        map_names.insert(id, name.clone());
        loaded.maps.insert(name, def);
    }
    for (name, id) in &ids.programs {
        let id = id.to_string();
        let json = bpftool_json(&["prog", "show", "id", &id])?;
        let prog_type = field(&json, "type")?
            .as_str()
            .map_or_else(|| json["type"].to_string(), str::to_string);
        let file = scratch.join("xlated");
        let out = Command::new("bpftool")
            .args(["prog", "dump", "xlated", "id", &id, "file"])
            .arg(&file)
            .output()?;
        if !out.status.success() {
            bail!(
                "bpftool prog dump xlated id {id}: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        let insns = normalise(&fs::read(&file)?, &map_names);
        let mut maps: Vec<String> = (json["map_ids"].as_array().into_iter().flatten())
            .map(|id| {
                let id = id.as_u64().unwrap_or(0);
                map_names
                    .get(&id)
                    .cloned()
                    .unwrap_or_else(|| format!("<map id not loaded by this side: {id}>"))
            })
            .collect();
        maps.sort();
        loaded.programs.insert(
            name.clone(),
            Program {
                prog_type,
                insns,
                maps,
            },
        );
    }
    Ok(loaded)
}

/// Raw instructions, one entry per instruction slot (so that indices are bpftool's),
/// with what differs between any two loads of the same object taken out: map ids
/// become the maps' names, and the addresses of callbacks (where the JIT put them) and
/// of kernel objects the verifier points the program at (a kptr's record, say) zero.
fn normalise(raw: &[u8], maps: &BTreeMap<u64, String>) -> Vec<Insn> {
    /// The start of the kernel's half of the address space on x86-64.
    const KERNEL_ADDRESSES: u64 = 0xffff_8000_0000_0000;
    const LOW_HALF: u64 = 0xffff_ffff;
    let words: Vec<u64> = raw
        .chunks_exact(8)
        .map(|c| u64::from_le_bytes(c.try_into().unwrap()))
        .collect();
    let mut out = Vec::with_capacity(words.len());
    let mut i = 0;
    while i < words.len() {
        let w = words[i];
        let (code, regs) = (w as u8, (w >> 8) as u8);
        let src = regs >> 4;
        if code == BPF_LD_IMM64 && i + 1 < words.len() {
            let next = words[i + 1];
            let imm = (w >> 32) as u32;
            let value = u64::from(imm) | (next & !LOW_HALF);
            let first = match src {
                BPF_PSEUDO_MAP_FD | BPF_PSEUDO_MAP_VALUE => Some(Insn::Map {
                    regs,
                    map: maps
                        .get(&u64::from(imm))
                        .cloned()
                        .unwrap_or_else(|| format!("<map id not loaded by this side: {imm}>")),
                    value: src == BPF_PSEUDO_MAP_VALUE,
                    offset: (next >> 32) as i32,
                }),
                BPF_PSEUDO_FUNC => Some(Insn::Raw(w & LOW_HALF)),
                0 if value >= KERNEL_ADDRESSES => Some(Insn::Raw(w & LOW_HALF)),
                _ => None,
            };
            if let Some(first) = first {
                out.push(first);
                out.push(Insn::Raw(next & LOW_HALF));
                i += 2;
                continue;
            }
        }
        out.push(Insn::Raw(w));
        i += 1;
    }
    out
}

/// The keys of `a` that `b` lacks.
fn only<A, B>(a: &BTreeMap<String, A>, b: &BTreeMap<String, B>) -> Vec<String> {
    a.keys().filter(|k| !b.contains_key(*k)).cloned().collect()
}

/// What differs between libbpf's load and ours, one finding per entry.
pub fn differences(libbpf: &Loaded, ours: &Loaded) -> Vec<String> {
    let mut diffs = Vec::new();
    let list = |names: Vec<String>| names.join(",");
    let only_libbpf = only(&libbpf.programs, &ours.programs);
    if !only_libbpf.is_empty() {
        diffs.push(format!("programs only libbpf loads: {}", list(only_libbpf)));
    }
    let only_ours = only(&ours.programs, &libbpf.programs);
    if !only_ours.is_empty() {
        diffs.push(format!("programs only we load: {}", list(only_ours)));
    }
    for (name, l) in &libbpf.programs {
        let Some(o) = ours.programs.get(name) else {
            continue;
        };
        if l.prog_type != o.prog_type {
            diffs.push(format!(
                "program {name}: type {} (libbpf) vs {} (ours)",
                l.prog_type, o.prog_type
            ));
        } else if l.insns != o.insns {
            let first = l
                .insns
                .iter()
                .zip(&o.insns)
                .position(|(a, b)| a != b)
                .unwrap_or(l.insns.len().min(o.insns.len()));
            diffs.push(format!(
                "program {name}: translated instructions differ ({} vs {} insns, first at #{first})",
                l.insns.len(),
                o.insns.len()
            ));
        }
        if l.maps != o.maps {
            diffs.push(format!(
                "program {name}: holds maps {} (libbpf) vs {} (ours)",
                l.maps.join(","),
                o.maps.join(",")
            ));
        }
    }
    let only_libbpf = only(&libbpf.maps, &ours.maps);
    if !only_libbpf.is_empty() {
        diffs.push(format!("maps only libbpf creates: {}", list(only_libbpf)));
    }
    let only_ours = only(&ours.maps, &libbpf.maps);
    if !only_ours.is_empty() {
        diffs.push(format!("maps only we create: {}", list(only_ours)));
    }
    for (name, l) in &libbpf.maps {
        let Some(o) = ours.maps.get(name) else {
            continue;
        };
        let mut parts = Vec::new();
        if l.map_type != o.map_type {
            parts.push(format!("type {} vs {}", l.map_type, o.map_type));
        }
        if l.key_size != o.key_size {
            parts.push(format!("key {} vs {}", l.key_size, o.key_size));
        }
        if l.value_size != o.value_size {
            parts.push(format!("value {} vs {}", l.value_size, o.value_size));
        }
        if l.max_entries != o.max_entries {
            parts.push(format!("entries {} vs {}", l.max_entries, o.max_entries));
        }
        if l.flags != o.flags {
            parts.push(format!("flags {:#x} vs {:#x}", l.flags, o.flags));
        }
        if !parts.is_empty() {
            diffs.push(format!("map {name}: {} (libbpf vs ours)", parts.join(", ")));
        }
    }
    diffs
}

#[cfg(test)]
mod tests {
    use super::*;
    use bpf_preload_uapi::BPF_JMP_EXIT;

    fn insn(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> [u8; 8] {
        let mut b = [0; 8];
        b[0] = code;
        b[1] = dst | (src << 4);
        b[2..4].copy_from_slice(&off.to_le_bytes());
        b[4..].copy_from_slice(&imm.to_le_bytes());
        b
    }

    #[test]
    fn map_ids_become_names_and_callback_addresses_zero() {
        let raw: Vec<u8> = [
            insn(BPF_LD_IMM64, 1, 1, 0, 42), // r1 = map id 42
            insn(0, 0, 0, 0, 0),
            insn(BPF_LD_IMM64, 2, 2, 0, 7), // r2 = &map id 7 + 16
            insn(0, 0, 0, 0, 16),
            insn(BPF_LD_IMM64, 3, 4, 0, 0x1234), // r3 = callback at some address
            insn(0, 0, 0, 0, 0x5678),
            insn(BPF_JMP_EXIT, 0, 0, 0, 0), // exit
        ]
        .concat();
        let maps = BTreeMap::from([(42, "counts".to_string()), (7, "x.bss".to_string())]);
        let insns = normalise(&raw, &maps);
        assert_eq!(insns.len(), 7, "one entry per instruction slot");
        assert_eq!(
            [&insns[0], &insns[2]],
            [
                &Insn::Map {
                    regs: 0x11,
                    map: "counts".into(),
                    value: false,
                    offset: 0
                },
                &Insn::Map {
                    regs: 0x22,
                    map: "x.bss".into(),
                    value: true,
                    offset: 16
                },
            ]
        );
        assert_eq!(insns[4], Insn::Raw(0x4318));
        assert_eq!(insns[5], Insn::Raw(0));
        assert_eq!(insns[6], Insn::Raw(u64::from(BPF_JMP_EXIT)));
        // Another load of the same program: other ids, same instructions.
        let other = BTreeMap::from([(43, "counts".to_string()), (8, "x.bss".to_string())]);
        let again: Vec<u8> = raw
            .chunks(8)
            .enumerate()
            .flat_map(|(i, c)| match i {
                0 => insn(BPF_LD_IMM64, 1, 1, 0, 43).to_vec(),
                2 => insn(BPF_LD_IMM64, 2, 2, 0, 8).to_vec(),
                4 => insn(BPF_LD_IMM64, 3, 4, 0, 0x9999).to_vec(),
                _ => c.to_vec(),
            })
            .collect();
        assert_eq!(normalise(&again, &other), insns);
    }

    #[test]
    fn kernel_addresses_are_left_out_but_constants_stay() {
        let load = |value: u64| {
            [
                insn(BPF_LD_IMM64, 2, 0, 0, value as u32 as i32),
                insn(0, 0, 0, 0, (value >> 32) as u32 as i32),
            ]
            .concat()
        };
        let maps = BTreeMap::new();
        assert_eq!(
            normalise(&load(0xffff_8882_4cd8_32a8), &maps),
            normalise(&load(0xffff_8881_7409_8f28), &maps)
        );
        assert_ne!(normalise(&load(7), &maps), normalise(&load(8), &maps));
    }

    #[test]
    fn libbpf_cause_is_its_first_failure_outside_the_verifier_log() {
        let log = "\
libbpf: Error in bpf_create_map_xattr(start):Invalid argument(-22). Retrying without BTF.
libbpf: prog 'x': BPF program load failed: Invalid argument
libbpf: prog 'x': -- BEGIN PROG LOAD LOG --
0: R1 invalid mem access 'scalar'
libbpf: prog 'x': -- END PROG LOAD LOG --
libbpf: prog 'x': failed to load: -22
libbpf: failed to load object '/tmp/corpus-libbpf-AbC123/o.bpf.o'
Error: failed to load object file
";
        assert_eq!(
            libbpf_cause(log),
            "prog 'x': BPF program load failed: Invalid argument"
        );
        assert_eq!(
            libbpf_cause("libbpf: failed to mkdir /tmp/corpus-libbpf-AbC123/maps/m: ENOENT\n"),
            "failed to mkdir <bpffs>/maps/m: ENOENT"
        );
        assert_eq!(
            libbpf_cause("Error: failed to open object file\n"),
            "Error: failed to open object file"
        );
    }

    #[test]
    fn differences_name_what_differs() {
        let map = |flags| MapDef {
            map_type: "array".into(),
            key_size: 4,
            value_size: 8,
            max_entries: 1,
            flags,
        };
        let program = |insns: Vec<Insn>| Program {
            prog_type: "tracing".into(),
            insns,
            maps: vec!["o.rodata".into()],
        };
        let libbpf = Loaded {
            programs: BTreeMap::from([
                ("a".to_string(), program(vec![Insn::Raw(1), Insn::Raw(2)])),
                ("b".to_string(), program(vec![])),
            ]),
            maps: BTreeMap::from([("o.bss".to_string(), map(0x400))]),
            ids: Vec::new(),
        };
        let mut unbound = program(vec![Insn::Raw(1)]);
        unbound.maps.clear();
        let ours = Loaded {
            programs: BTreeMap::from([("a".to_string(), unbound)]),
            maps: BTreeMap::from([("o.bss".to_string(), map(0))]),
            ids: Vec::new(),
        };
        assert_eq!(
            differences(&libbpf, &ours),
            [
                "programs only libbpf loads: b",
                "program a: translated instructions differ (2 vs 1 insns, first at #1)",
                "program a: holds maps o.rodata (libbpf) vs  (ours)",
                "map o.bss: flags 0x400 vs 0x0 (libbpf vs ours)",
            ]
        );
        assert!(differences(&libbpf, &libbpf).is_empty());
    }
}
