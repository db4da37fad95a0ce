//! Externs: kfuncs, typed kernel variables and kallsyms addresses resolved in the
//! running kernel, and written into a copy of each program's instructions.

use alloc::vec::Vec;

use super::finder::{KernelBtfId, TargetFinder};
use crate::abi;
use crate::backend::Backend;
use crate::btf::{BTF_KIND_FUNC, BTF_KIND_VAR};
use crate::errno::Errno;
use crate::error::{Failed, Step};
use crate::sys::Fd;
use crate::table::{ExternKind, Object, Program, INSN_SIZE};

/// What the running kernel says of an extern.
#[derive(Debug, Clone, Copy)]
pub(super) enum Resolved {
    /// A BTF id, in vmlinux or in the module BTF `btf_obj_fd`.
    Btf(KernelBtfId),
    Address(u64),
    /// A weak extern the kernel lacks.
    Missing,
}

/// `POISON_CALL_KFUNC_BASE` of libbpf: a weak kfunc the kernel lacks becomes a call of
/// this helper number (plus the extern's index), which the verifier refuses only if
/// the call is reachable (not behind a `bpf_ksym_exists()` check).
const POISON_CALL_KFUNC_BASE: i32 = 2002000000;

pub(super) fn resolve<B: Backend>(
    object: &'static Object,
    backend: &mut B,
    finder: &mut TargetFinder<'static>,
) -> Result<Vec<Resolved>, Failed> {
    let mut out = Vec::new();
    if let Some(first) = object.externs.first() {
        (out.try_reserve_exact(object.externs.len())).map_err(|_| {
            Step::ResolveExtern {
                name: first.name.as_str(),
            }
            .failed(Errno::ENOMEM)
        })?;
    }
    for ext in object.externs {
        let found = match ext.kind {
            ExternKind::Kfunc => finder
                .find(backend, ext.name.as_str(), BTF_KIND_FUNC)
                .map(Resolved::Btf),
            ExternKind::Ksym => finder
                .find(backend, ext.name.as_str(), BTF_KIND_VAR)
                .map(Resolved::Btf),
            ExternKind::KsymAddress => finder
                .address(backend, ext.name.as_str())
                .map(Resolved::Address),
        };
        out.push(match found {
            Ok(r) => r,
            Err(Errno::ENOENT) if ext.weak => Resolved::Missing,
            Err(e) => {
                return Err(Step::ResolveExtern {
                    name: ext.name.as_str(),
                }
                .failed(e))
            }
        });
    }
    Ok(out)
}

/// A copy of `prog`'s instructions with its extern slots written, as libbpf's
/// `bpf_object__relocate_data` writes them. `slot` gives a module BTF fd's index in
/// `fd_array`.
pub(super) fn patch(
    prog: &Program,
    externs: &[Resolved],
    mut slot: impl FnMut(Fd) -> i16,
) -> Result<Vec<u8>, Errno> {
    let mut insns = Vec::new();
    insns
        .try_reserve_exact(prog.insns.len())
        .map_err(|_| Errno::ENOMEM)?;
    insns.extend_from_slice(prog.insns.as_slice());
    for u in prog.externs {
        let at = u.insn as usize * INSN_SIZE;
        let Some(insn) = insns.get_mut(at..at + 2 * INSN_SIZE) else {
            continue;
        };
        let resolved = externs
            .get(u.ext as usize)
            .copied()
            .unwrap_or(Resolved::Missing);
        let set_imm = |insn: &mut [u8], i: usize, v: i32| {
            insn[i * INSN_SIZE + 4..i * INSN_SIZE + 8].copy_from_slice(&v.to_le_bytes())
        };
        let set_src = |insn: &mut [u8], src: u8| insn[1] = (insn[1] & 0x0f) | (src << 4);
        if insn[0] == abi::BPF_JMP_CALL {
            match resolved {
                Resolved::Btf(id) => {
                    set_src(insn, abi::BPF_PSEUDO_KFUNC_CALL);
                    set_imm(insn, 0, id.id as i32);
                    let off = id.btf_obj_fd.map_or(0, &mut slot);
                    insn[2..4].copy_from_slice(&off.to_le_bytes());
                }
                _ => {
                    insn[1] = 0;
                    insn[2..4].fill(0);
                    set_imm(insn, 0, POISON_CALL_KFUNC_BASE + u.ext as i32);
                }
            }
        } else {
            match resolved {
                Resolved::Btf(id) => {
                    set_src(insn, abi::BPF_PSEUDO_BTF_ID);
                    set_imm(insn, 0, id.id as i32);
                    set_imm(insn, 1, id.btf_obj_fd.map_or(0, |fd| fd as i32));
                }
                Resolved::Address(a) => {
                    set_src(insn, 0);
                    set_imm(insn, 0, a as u32 as i32);
                    set_imm(insn, 1, (a >> 32) as u32 as i32);
                }
                Resolved::Missing => {
                    set_src(insn, 0);
                    set_imm(insn, 0, 0);
                    set_imm(insn, 1, 0);
                }
            }
        }
    }
    Ok(insns)
}
