//! Programs, linked as libbpf links them (`bpf_object__reloc_code`,
//! `bpf_object__relocate_data`): each program's function first, then every `.text`
//! subprogram it reaches, appended once in the order the calls are met (depth
//! first), with calls and subprogram addresses pointing at their copies; map
//! references become `BPF_PSEUDO_MAP_IDX`/`_IDX_VALUE` with the map's index; Kconfig
//! reads point into the `.kconfig` map; kfunc calls and kernel-symbol loads are
//! recorded for the loader to resolve. func_info, line_info and CO-RE records follow
//! their functions into the linked program.

use std::collections::HashMap;

use object::SymbolKind;

use super::btf::{self, BtfExt};
use super::elf::{Elf, Function, Place, Role, Symbol, INSN};
use super::{ExternModel, ReadError};

use bpf_preload_uapi::{
    BPF_JMP_CALL, BPF_LD_IMM64, BPF_PSEUDO_CALL, BPF_PSEUDO_FUNC, BPF_PSEUDO_KFUNC_CALL,
    BPF_PSEUDO_MAP_IDX, BPF_PSEUDO_MAP_IDX_VALUE,
};
/// `BPF_MAX_SUBPROGS`: functions in one program, its main function included.
const MAX_SUBPROGS: usize = 256;
/// Instructions emitted for all programs together, after linking (16 MiB of table).
pub const MAX_LINKED_INSNS: usize = 2 << 20;

/// What the linker refers to.
pub struct Context<'e, 'a> {
    pub elf: &'e Elf<'a>,
    pub btf_ext: &'e BtfExt,
    /// Map indices by map name (`.maps` symbols and data sections).
    pub maps: HashMap<String, u32>,
    /// The `.kconfig` map's index, and each Kconfig extern's offset in it.
    pub kconfig: Option<(u32, HashMap<String, u32>)>,
    /// The arena map's index, which `__arena` globals (`.addr_space.1`) live in.
    pub arena: Option<u32>,
    pub externs: &'e [ExternModel],
}

/// One linked program.
#[derive(Default)]
pub struct Linked {
    pub insns: Vec<u8>,
    pub func_info: Vec<u8>,
    pub line_info: Vec<u8>,
    pub core_relos: Vec<u8>,
    /// (instruction index, extern index) for the loader to resolve.
    pub externs: Vec<(u32, u32)>,
}

struct Linker<'c, 'e, 'a> {
    cx: &'c Context<'e, 'a>,
    program: &'c str,
    out: Linked,
    /// Where each appended function starts, by (section, start).
    placed: HashMap<(usize, usize), usize>,
}

fn imm(insn: &[u8]) -> i32 {
    i32::from_le_bytes([insn[4], insn[5], insn[6], insn[7]])
}

fn set_imm(insns: &mut [u8], at: usize, value: i32) {
    insns[at * 8 + 4..at * 8 + 8].copy_from_slice(&value.to_le_bytes());
}

fn set_src(insns: &mut [u8], at: usize, src: u8) {
    insns[at * 8 + 1] = (insns[at * 8 + 1] & 0x0f) | (src << 4);
}

impl Linker<'_, '_, '_> {
    fn error(&self, what: String) -> ReadError {
        format!("program `{}`: {what}", self.program)
    }

    /// The `.text` function that starts at instruction `start`.
    fn subprogram(&self, start: i64) -> Result<&Function, ReadError> {
        let text = self
            .cx
            .elf
            .section_named(".text")
            .filter(|s| s.role == Role::Text)
            .map(|s| s.index);
        let found = text.and_then(|t| {
            usize::try_from(start)
                .ok()
                .and_then(|start| self.cx.elf.functions.get(&(t, start)))
        });
        found.ok_or_else(|| {
            self.error(format!(
                "it calls instruction {start} of `.text`, where no function starts"
            ))
        })
    }

    /// Appends `f` unless it is there already, and returns where it starts.
    fn place(&mut self, f: &Function) -> Result<usize, ReadError> {
        if let Some(&at) = self.placed.get(&(f.section, f.start)) {
            return Ok(at);
        }
        if self.placed.len() >= MAX_SUBPROGS {
            return Err(self.error(format!(
                "it calls more than {} functions: the kernel accepts at most {MAX_SUBPROGS} in \
                 one program (BPF_MAX_SUBPROGS)",
                MAX_SUBPROGS - 1
            )));
        }
        let at = self.out.insns.len() / 8;
        if at + f.len > MAX_LINKED_INSNS {
            return Err(self.error(format!(
                "it holds more than {MAX_LINKED_INSNS} instructions once its subprograms are \
                 linked in"
            )));
        }
        self.placed.insert((f.section, f.start), at);
        self.out.insns.extend_from_slice(self.cx.elf.code(f));
        self.ext_info(f, at);
        self.relocate(f, at)?;
        Ok(at)
    }

    /// Copies `f`'s func_info, line_info and CO-RE records, placed at `at`.
    fn ext_info(&mut self, f: &Function, at: usize) {
        let Some(section) = self.cx.elf.section(f.section) else {
            return;
        };
        let range = f.start * 8..(f.start + f.len) * 8;
        let placed = |rec: &[u8]| -> Option<u32> {
            let off = btf::u32_at(rec, 0)? as usize;
            range
                .contains(&off)
                .then(|| (at + off / 8 - f.start) as u32)
        };
        let ext = self.cx.btf_ext;
        let name = section.name.as_str();
        // Record sizes as the table carries them (the kernel's own records).
        for (info, out, len, in_bytes) in [
            (&ext.func_info, &mut self.out.func_info, 8, false),
            (&ext.line_info, &mut self.out.line_info, 16, false),
            (&ext.core_relo, &mut self.out.core_relos, 16, true),
        ] {
            let Some(records) = info.by_section().get(name).copied() else {
                continue;
            };
            for rec in records {
                let Some(insn) = placed(rec) else {
                    continue;
                };
                // The kernel's records: insn_off in instructions, except CO-RE's in bytes.
                let insn_off = if in_bytes { insn * 8 } else { insn };
                out.extend_from_slice(&insn_off.to_le_bytes());
                out.extend_from_slice(rec.get(4..len).unwrap_or_default());
            }
        }
    }

    fn symbol(&self, index: usize) -> Result<&Symbol, ReadError> {
        self.cx
            .elf
            .symbol(index)
            .ok_or_else(|| self.error(format!("a relocation names symbol [{index}]")))
    }

    /// Resolves every relocation and call in `f`, copied at `at`.
    fn relocate(&mut self, f: &Function, at: usize) -> Result<(), ReadError> {
        let elf = self.cx.elf;
        let Some(section) = elf.section(f.section) else {
            return Ok(());
        };
        let mut i = 0;
        while i < f.len {
            let g = at + i;
            let insn: [u8; 8] = self.out.insns[g * 8..g * 8 + 8]
                .try_into()
                .unwrap_or_default();
            let code = insn[0];
            let src = insn[1] >> 4;
            let rel = section.relocations.get(&((f.start + i) as u64 * INSN));
            let wide = code == BPF_LD_IMM64;
            if wide && i + 1 >= f.len {
                return Err(self.error(format!(
                    "the 16-byte ld_imm64 at instruction {} of `{}` is cut off by the end of \
                     `{}`",
                    f.start + i,
                    section.name,
                    f.name
                )));
            }
            match rel {
                Some(rel) => {
                    let sym = self.symbol(rel.symbol)?.clone();
                    self.relocation(f, g, &insn, &sym)?;
                }
                None if code == BPF_JMP_CALL && src == BPF_PSEUDO_CALL => {
                    // A call without relocation: within `.text`, relative to itself.
                    if section.role != Role::Text {
                        return Err(self.error(format!(
                            "the call at instruction {} of `{}` has no relocation: libbpf \
                             links subprograms from `.text` only",
                            f.start + i,
                            section.name
                        )));
                    }
                    let target = (f.start + i) as i64 + i64::from(imm(&insn)) + 1;
                    let callee = self.subprogram(target)?.clone();
                    let callee_at = self.place(&callee)?;
                    set_imm(
                        &mut self.out.insns,
                        g,
                        (callee_at as i64 - g as i64 - 1) as i32,
                    );
                }
                None if wide && src == BPF_PSEUDO_FUNC => {
                    return Err(self.error(format!(
                        "the function address loaded at instruction {} of `{}` has no \
                         relocation",
                        f.start + i,
                        section.name
                    )));
                }
                None => {}
            }
            i += if wide { 2 } else { 1 };
        }
        Ok(())
    }

    fn relocation(
        &mut self,
        f: &Function,
        g: usize,
        insn: &[u8; 8],
        sym: &Symbol,
    ) -> Result<(), ReadError> {
        let elf = self.cx.elf;
        let code = insn[0];
        let at = || format!("instruction {} of `{}`", g, f.name);
        if sym.place == Place::Undefined {
            return self.extern_use(g, code, sym);
        }
        let Place::Section(target) = sym.place else {
            return Err(self.error(format!(
                "{} refers to `{}`, which is in no section (an uninitialised global?)",
                at(),
                sym.name
            )));
        };
        let Some(target_section) = elf.section(target) else {
            return Err(self.error(format!("{} refers to a missing section", at())));
        };
        if code == BPF_JMP_CALL {
            if target_section.role != Role::Text || insn[1] >> 4 != BPF_PSEUDO_CALL {
                return Err(self.error(format!(
                    "{} calls `{}` in section `{}`: libbpf links subprograms from `.text` only",
                    at(),
                    sym.name,
                    target_section.name
                )));
            }
            let start = (sym.value / INSN) as i64 + i64::from(imm(insn)) + 1;
            let callee = self.subprogram(start)?.clone();
            let callee_at = self.place(&callee)?;
            set_imm(
                &mut self.out.insns,
                g,
                (callee_at as i64 - g as i64 - 1) as i32,
            );
            return Ok(());
        }
        if code != BPF_LD_IMM64 {
            return Err(self.error(format!(
                "{} has a relocation against `{}` but is neither a call nor an ld_imm64",
                at(),
                sym.name
            )));
        }
        let is_subprog = target_section.role == Role::Text
            && matches!(sym.kind, SymbolKind::Text | SymbolKind::Section);
        if is_subprog {
            let byte = sym.value as i64 + i64::from(imm(insn));
            if byte % 8 != 0 {
                return Err(self.error(format!(
                    "{} takes the address of a function at byte {byte}, not at an instruction",
                    at()
                )));
            }
            let callee = self.subprogram(byte / 8)?.clone();
            let callee_at = self.place(&callee)?;
            set_src(&mut self.out.insns, g, BPF_PSEUDO_FUNC);
            set_imm(
                &mut self.out.insns,
                g,
                (callee_at as i64 - g as i64 - 1) as i32,
            );
            return Ok(());
        }
        match target_section.role {
            Role::Maps => {
                let Some(&index) = self.cx.maps.get(&sym.name) else {
                    return Err(self.error(format!(
                        "{} refers to `{}` in `.maps`, which is not one of the maps the object \
                         declares",
                        at(),
                        sym.name
                    )));
                };
                set_src(&mut self.out.insns, g, BPF_PSEUDO_MAP_IDX);
                set_imm(&mut self.out.insns, g, index as i32);
                Ok(())
            }
            role if role.is_data() || role == Role::Arena => {
                // As libbpf: an `__arena` global is at its offset into the arena, whose
                // address the kernel gives (`map_direct_value_addr`).
                let index = match role {
                    Role::Arena => self.cx.arena,
                    _ => self.cx.maps.get(&target_section.name).copied(),
                };
                let Some(index) = index else {
                    return Err(self.error(format!(
                        "{} refers to `{}` in the empty section `{}`",
                        at(),
                        sym.name,
                        target_section.name
                    )));
                };
                let offset = i64::from(imm(insn)) + sym.value as i64;
                let Ok(offset) = i32::try_from(offset) else {
                    return Err(self.error(format!(
                        "{}: the offset {offset} into `{}` overflows",
                        at(),
                        sym.name
                    )));
                };
                set_src(&mut self.out.insns, g, BPF_PSEUDO_MAP_IDX_VALUE);
                set_imm(&mut self.out.insns, g, index as i32);
                set_imm(&mut self.out.insns, g + 1, offset);
                Ok(())
            }
            _ => Err(self.error(format!(
                "{} refers to `{}` in section `{}`, which is neither a map, global data nor \
                 code",
                at(),
                sym.name,
                target_section.name
            ))),
        }
    }

    /// A relocation against an undefined symbol: a Kconfig value or a kernel symbol.
    fn extern_use(&mut self, g: usize, code: u8, sym: &Symbol) -> Result<(), ReadError> {
        if code == BPF_LD_IMM64
            && let Some((map, offsets)) = &self.cx.kconfig
            && let Some(&off) = offsets.get(&sym.name)
        {
            set_src(&mut self.out.insns, g, BPF_PSEUDO_MAP_IDX_VALUE);
            set_imm(&mut self.out.insns, g, *map as i32);
            set_imm(&mut self.out.insns, g + 1, off as i32);
            return Ok(());
        }
        let Some(index) = self.cx.externs.iter().position(|e| e.name == sym.name) else {
            return Err(self.error(format!(
                "it refers to `{}`, which the object does not define and does not declare \
                 `__ksym` or `__kconfig`: an extern nothing resolves (link several objects \
                 into one with `bpftool gen object` first)",
                sym.name
            )));
        };
        match code {
            BPF_JMP_CALL => {
                set_src(&mut self.out.insns, g, BPF_PSEUDO_KFUNC_CALL);
                set_imm(&mut self.out.insns, g, 0);
            }
            BPF_LD_IMM64 => {
                set_src(&mut self.out.insns, g, 0);
                set_imm(&mut self.out.insns, g, 0);
                set_imm(&mut self.out.insns, g + 1, 0);
            }
            _ => {
                return Err(self.error(format!(
                    "instruction {g} refers to the kernel symbol `{}` but is neither a call nor \
                     an ld_imm64",
                    sym.name
                )))
            }
        }
        self.out.externs.push((g as u32, index as u32));
        Ok(())
    }
}

/// Links the program whose function is `main`.
pub fn link(cx: &Context<'_, '_>, main: &Function) -> Result<Linked, ReadError> {
    let mut linker = Linker {
        cx,
        program: &main.name,
        out: Linked::default(),
        placed: HashMap::new(),
    };
    linker.place(main)?;
    let mut out = linker.out;
    // The loader patches these in order; keep them sorted by instruction.
    out.externs.sort_unstable();
    Ok(out)
}
