//! The object's BTF made loadable, as libbpf makes it before `BPF_BTF_LOAD`:
//! `DATASEC` sizes and variable offsets filled in from the ELF (clang leaves them 0),
//! hidden global variables and functions made static, and the extern sections
//! rewritten, since the kernel
//! refuses extern linkage: `.ksyms` becomes a section of 4-byte placeholders (a
//! function becomes the variable `dummy_ksym`, its unnamed parameters named), and
//! `.kconfig` gets the offsets of the values the loader writes.

use std::collections::HashMap;

use super::btf::{Btf, Kind};
use super::elf::Elf;

pub type Error = String;

use bpf_preload_uapi::{
    BTF_FUNC_GLOBAL, BTF_HEADER_LEN, BTF_KIND_INT, BTF_KIND_VAR, BTF_MAGIC,
    BTF_VAR_GLOBAL_ALLOCATED, BTF_VAR_STATIC, BTF_VERSION,
};

struct Writer {
    types: Vec<u8>,
    strings: Vec<u8>,
    next_id: u32,
}

impl Writer {
    fn put(&mut self, at: usize, value: u32) {
        if let Some(slot) = self.types.get_mut(at..at + 4) {
            slot.copy_from_slice(&value.to_le_bytes());
        }
    }

    fn get(&self, at: usize) -> u32 {
        self.types
            .get(at..at + 4)
            .map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn add_string(&mut self, s: &str) -> u32 {
        let off = self.strings.len() as u32;
        self.strings.extend_from_slice(s.as_bytes());
        self.strings.push(0);
        off
    }

    fn add_type(&mut self, words: &[u32]) -> u32 {
        for w in words {
            self.types.extend_from_slice(&w.to_le_bytes());
        }
        self.next_id += 1;
        self.next_id - 1
    }

    /// Sorts the `vlen` 12-byte secinfos after the record at `rec` by offset.
    fn sort_secinfos(&mut self, rec: usize, vlen: usize) {
        let start = rec + 12;
        let Some(bytes) = self.types.get(start..start + 12 * vlen) else {
            return;
        };
        let mut infos: Vec<[u8; 12]> = bytes
            .chunks(12)
            .map(|c| c.try_into().unwrap_or([0; 12]))
            .collect();
        infos.sort_by_key(|i| u32::from_le_bytes([i[4], i[5], i[6], i[7]]));
        for (i, info) in infos.iter().enumerate() {
            self.types[start + 12 * i..start + 12 * (i + 1)].copy_from_slice(info);
        }
    }
}

/// The 4-byte signed `int` libbpf uses for placeholders (`find_int_btf_id`), added if
/// the object has none.
fn int_id(btf: &Btf<'_>, w: &mut Writer) -> u32 {
    let found = (1..btf.types.len()).find(|&id| {
        let at = btf.offsets[id];
        matches!(btf.types[id].kind, Kind::Int { size: 4, .. })
            && w.get(at + 12) & 0xff == 32
            && w.get(at + 12) >> 16 & 0xff == 0
    });
    match found {
        Some(id) => id as u32,
        None => {
            let name = w.add_string("int");
            // name, info (INT), size, encoding SIGNED | 32 bits.
            w.add_type(&[name, BTF_KIND_INT << 24, 4, (1 << 24) | 32])
        }
    }
}

/// Fixes `btf` up for the kernel. `kconfig` gives each `.kconfig` variable its
/// offset in the `.kconfig` map, and `kconfig_size` that map's value size.
pub fn fix(
    btf: &Btf<'_>,
    elf: &Elf<'_>,
    kconfig: &HashMap<String, u32>,
    kconfig_size: u32,
) -> Result<Vec<u8>, Error> {
    let mut w = Writer {
        types: btf.type_data.to_vec(),
        strings: btf.strings().to_vec(),
        next_id: btf.types.len() as u32,
    };
    for (id, ty) in btf.types.iter().enumerate() {
        // A global function of hidden visibility is static to the verifier, which then
        // checks it with its caller's context (libbpf's `mark_btf_static`).
        if let Kind::Func { .. } = ty.kind {
            let name = btf.name(id as u32);
            let hidden = elf.symbols.iter().flatten().any(|s| {
                s.name == name && s.kind == object::SymbolKind::Text && s.global && s.hidden
            });
            if hidden {
                let at = btf.offsets[id] + 4;
                let info = w.get(at);
                w.put(at, info & !0xffff);
            }
            continue;
        }
        let Kind::DataSec { size, entries } = &ty.kind else {
            continue;
        };
        let rec = btf.offsets[id];
        let name = btf.name(id as u32);
        let secinfo = |i: usize| rec + 12 + 12 * i;
        match name.as_str() {
            ".ksyms" => {
                let has_func = entries
                    .iter()
                    .any(|e| matches!(btf.get(e.target).map(|t| &t.kind), Some(Kind::Func { .. })));
                let int = int_id(btf, &mut w);
                let dummy = if has_func {
                    let dummy_name = w.add_string("dummy_ksym");
                    // name, info (VAR), type, linkage.
                    let words = [
                        dummy_name,
                        BTF_KIND_VAR << 24,
                        int,
                        BTF_VAR_GLOBAL_ALLOCATED,
                    ];
                    Some((w.add_type(&words), dummy_name))
                } else {
                    None
                };
                for (i, e) in entries.iter().enumerate() {
                    let at = btf.offsets.get(e.target as usize).copied().unwrap_or(0);
                    match btf.get(e.target).map(|t| &t.kind) {
                        Some(Kind::Func { proto, .. }) => {
                            let (dummy, dummy_name) = dummy.unwrap_or_default();
                            // Unnamed parameters: the kernel wants every one named.
                            if let Some(Kind::FuncProto) = btf.get(*proto).map(|t| &t.kind) {
                                let p = btf.offsets[*proto as usize];
                                let vlen =
                                    usize::from(bpf_preload_uapi::btf_info_vlen(w.get(p + 4)));
                                for j in 0..vlen {
                                    let (name_at, type_at) = (p + 12 + 8 * j, p + 16 + 8 * j);
                                    if w.get(type_at) != 0 && w.get(name_at) == 0 {
                                        w.put(name_at, dummy_name);
                                    }
                                }
                            }
                            let info = w.get(at + 4);
                            w.put(at + 4, (info & !0xffff) | BTF_FUNC_GLOBAL);
                            w.put(secinfo(i), dummy);
                        }
                        Some(Kind::Var { .. }) => {
                            w.put(at + 12, BTF_VAR_GLOBAL_ALLOCATED);
                            w.put(at + 8, int);
                        }
                        _ => {
                            return Err(format!(
                                "`.BTF` is corrupt: `.ksyms` lists type [{}], which is neither a \
                                 variable nor a function",
                                e.target
                            ))
                        }
                    }
                    w.put(secinfo(i) + 4, 4 * i as u32);
                    w.put(secinfo(i) + 8, 4);
                }
                w.put(rec + 8, 4 * entries.len() as u32);
            }
            ".kconfig" => {
                for (i, e) in entries.iter().enumerate() {
                    let var = btf.name(e.target);
                    let Some(&off) = kconfig.get(&var) else {
                        return Err(format!(
                            "`.kconfig` lists `{var}`, which is not a Kconfig extern"
                        ));
                    };
                    let at = btf.offsets.get(e.target as usize).copied().unwrap_or(0);
                    w.put(at + 12, BTF_VAR_GLOBAL_ALLOCATED);
                    w.put(secinfo(i) + 4, off);
                }
                w.put(rec + 8, kconfig_size);
                w.sort_secinfos(rec, entries.len());
            }
            _ => {
                if *size == 0 {
                    let section = elf.section_named(&name).filter(|s| s.size > 0);
                    let Some(section) = section else {
                        return Err(format!(
                            "the BTF section `{name}` has size 0 and the object has no such ELF \
                             section to take its size from"
                        ));
                    };
                    let Ok(size) = u32::try_from(section.size) else {
                        return Err(format!(
                            "section `{name}` is {} bytes, more than BTF can describe",
                            section.size
                        ));
                    };
                    w.put(rec + 8, size);
                }
                for (i, e) in entries.iter().enumerate() {
                    let Some(Kind::Var { linkage, .. }) = btf.get(e.target).map(|t| &t.kind) else {
                        return Err(format!(
                            "`.BTF` is corrupt: section `{name}` lists type [{}], which is not a \
                             variable",
                            e.target
                        ));
                    };
                    if *linkage != BTF_VAR_GLOBAL_ALLOCATED {
                        continue;
                    }
                    let var = btf.name(e.target);
                    let Some(sym) = elf.variable(&var) else {
                        return Err(format!(
                            "variable `{var}` of section `{name}` has no symbol in the object"
                        ));
                    };
                    if e.offset == 0 {
                        let Ok(value) = u32::try_from(sym.value) else {
                            return Err(format!("variable `{var}` lies past 4 GiB"));
                        };
                        w.put(secinfo(i) + 4, value);
                    }
                    if sym.hidden {
                        let at = btf.offsets[e.target as usize];
                        w.put(at + 12, BTF_VAR_STATIC);
                    }
                }
                w.sort_secinfos(rec, entries.len());
            }
        }
    }

    let mut out = Vec::with_capacity(BTF_HEADER_LEN + w.types.len() + w.strings.len());
    out.extend_from_slice(&BTF_MAGIC.to_le_bytes());
    out.extend_from_slice(&[BTF_VERSION, 0]);
    let header_len = BTF_HEADER_LEN as u32;
    for v in [header_len, 0, w.types.len() as u32, w.types.len() as u32] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out.extend_from_slice(&(w.strings.len() as u32).to_le_bytes());
    out.extend_from_slice(&w.types);
    out.extend_from_slice(&w.strings);
    Ok(out)
}
