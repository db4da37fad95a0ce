//! Externs, as libbpf's `bpf_object__collect_externs` finds them: the variables of
//! the `.kconfig` section (values the loader writes into the `.kconfig` map, laid
//! out here as libbpf lays them out) and the kfuncs and kernel variables of
//! `.ksyms` (resolved by the loader in the running kernel's BTF or kallsyms).

use std::collections::HashMap;

use super::btf::{Btf, Kind};
use super::elf::{Elf, Place};
use super::{ExternKind, ExternModel, KconfigKind, KconfigModel, ReadError};

use bpf_preload_uapi::{BTF_INT_BOOL, BTF_INT_SIGNED};

/// The `.kconfig` map's layout.
#[derive(Debug, Default)]
pub struct Kconfig {
    pub vars: Vec<KconfigModel>,
    pub size: u32,
}

impl Kconfig {
    pub fn offsets(&self) -> HashMap<String, u32> {
        self.vars
            .iter()
            .map(|v| (v.name.clone(), v.offset))
            .collect()
    }
}

/// Virtual externs libbpf fills in itself.
pub const VIRTUAL: [&str; 3] = [
    "LINUX_KERNEL_VERSION",
    "LINUX_HAS_BPF_COOKIE",
    "LINUX_HAS_SYSCALL_WRAPPER",
];

/// libbpf's `find_kcfg_type`: the kind, size and alignment of a Kconfig extern.
fn kcfg_type(btf: &Btf<'_>, ty: u32) -> Option<(KconfigKind, u32, u32)> {
    let (id, kind) = btf.resolved(ty)?;
    match kind {
        Kind::Int { size, encoding } => {
            if encoding & BTF_INT_BOOL != 0 {
                return (*size == 1).then_some((KconfigKind::Bool, 1, 1));
            }
            if *size == 1 {
                return Some((KconfigKind::Char, 1, 1));
            }
            (size.is_power_of_two() && *size <= 8).then_some((
                KconfigKind::Int {
                    signed: encoding & BTF_INT_SIGNED != 0,
                },
                *size,
                *size,
            ))
        }
        Kind::Enum { size: 4 } | Kind::Enum64 { .. } if btf.name(id) == "libbpf_tristate" => {
            Some((KconfigKind::Tristate, 4, 4))
        }
        Kind::Array { elem, nelems } if *nelems > 0 => match kcfg_type(btf, *elem)? {
            (KconfigKind::Char, ..) => Some((KconfigKind::CharArray, *nelems, 1)),
            _ => None,
        },
        _ => None,
    }
}

/// Whether the object's symbol table marks `name` as a weak extern.
fn is_weak(elf: &Elf<'_>, name: &str) -> bool {
    elf.symbols
        .iter()
        .flatten()
        .any(|s| s.name == name && s.place == Place::Undefined && s.weak)
}

/// The Kconfig externs, sorted and placed as libbpf places them (`cmp_externs`:
/// by alignment, largest first, then by size, then by name).
pub fn kconfig(elf: &Elf<'_>, btf: Option<&Btf<'_>>) -> Result<Kconfig, ReadError> {
    let Some((_, entries)) = btf.and_then(|b| b.datasec(".kconfig")) else {
        return Ok(Kconfig::default());
    };
    let btf = btf.expect("a DATASEC came from it");
    let mut vars = Vec::new();
    for e in entries {
        let name = btf.name(e.target);
        let Some(Kind::Var { target, .. }) = btf.get(e.target).map(|t| &t.kind) else {
            continue;
        };
        let Some((kind, size, align)) = kcfg_type(btf, *target) else {
            return Err(format!(
                "Kconfig extern `{name}` has type `{}`, which libbpf cannot fill: use bool, \
                 enum libbpf_tristate, char, an integer of 1, 2, 4 or 8 bytes, or a char array",
                btf.name(*target)
            ));
        };
        let weak = is_weak(elf, &name);
        // A `LINUX_*` name libbpf does not know is 0 if weak.
        let known = name.starts_with("CONFIG_")
            || VIRTUAL.contains(&name.as_str())
            || (name.starts_with("LINUX_") && weak);
        if !known {
            return Err(format!(
                "Kconfig extern `{name}` is neither a `CONFIG_*` option nor one of the values \
                 libbpf provides ({}); a `LINUX_*` name libbpf does not know must be \
                 `__weak`, and is then 0",
                VIRTUAL.join(", ")
            ));
        }
        vars.push((
            align,
            size,
            KconfigModel {
                name,
                offset: 0,
                size,
                kind,
                weak,
            },
        ));
    }
    vars.sort_by(|a, b| {
        b.0.cmp(&a.0)
            .then(a.1.cmp(&b.1))
            .then(a.2.name.cmp(&b.2.name))
    });
    let mut off = 0u32;
    let mut out = Vec::new();
    for (align, size, mut var) in vars {
        var.offset = off.next_multiple_of(align);
        off = var.offset + size;
        out.push(var);
    }
    Ok(Kconfig {
        vars: out,
        size: off,
    })
}

/// The `.ksyms` externs, in the order of the section.
pub fn ksyms(elf: &Elf<'_>, btf: Option<&Btf<'_>>) -> Vec<ExternModel> {
    let Some((_, entries)) = btf.and_then(|b| b.datasec(".ksyms")) else {
        return Vec::new();
    };
    let btf = btf.expect("a DATASEC came from it");
    entries
        .iter()
        .filter_map(|e| {
            let name = btf.name(e.target);
            let kind = match btf.get(e.target).map(|t| &t.kind)? {
                Kind::Func { .. } => ExternKind::Kfunc,
                Kind::Var { target, .. } => match btf.resolved(*target) {
                    Some((_, Kind::Void)) | None => ExternKind::KsymAddress,
                    Some(_) => ExternKind::Ksym,
                },
                _ => return None,
            };
            Some(ExternModel {
                weak: is_weak(elf, &name),
                name,
                kind,
            })
        })
        .collect()
}
