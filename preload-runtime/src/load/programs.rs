//! Step: load every program, its attach target and externs resolved in the running
//! kernel, with `fd_array` naming maps and module BTF, and kernel-side CO-RE.

use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use super::externs::{self, Resolved};
use super::finder::{KernelBtfId, TargetFinder};
use super::struct_ops::{self, Translated};
use crate::backend::Backend;
use crate::errno::Errno;
use crate::error::{at, Failed, Step};
use crate::loaded::Loaded;
use crate::sys::Fd;
use crate::sys::{self, ProgSpec, Records};
use crate::table::{CORE_RELO_REC_SIZE, FUNC_INFO_REC_SIZE, LINE_INFO_REC_SIZE};

/// Loads every program. Attach targets and externs are looked up in the running
/// kernel by one finder, which holds the module BTF fds it found until every program
/// is loaded.
pub(super) fn load<B: Backend>(
    loaded: &mut Loaded<B::Pin>,
    struct_ops: &[Option<Translated>],
    backend: &mut B,
) -> Result<(), Failed> {
    let object = loaded.object();
    // Targets in the kernel's BTF; those in another program's are found there.
    let in_kernel =
        |p: &'static crate::table::Program| p.attach_btf.filter(|t| t.program.is_none());
    let names = object
        .programs
        .iter()
        .filter_map(|p| in_kernel(p).map(|t| t.name.as_str()))
        .chain(object.externs.iter().map(|e| e.name.as_str()));
    let mut finder = match names.map(str::len).max() {
        None => None,
        Some(longest) => {
            let step = match object
                .programs
                .iter()
                .find_map(|p| Some((p.name, in_kernel(p)?)))
            {
                Some((program, target)) => Step::FindAttachTarget {
                    program: program.as_str(),
                    target: target.name.as_str(),
                },
                None => Step::ResolveExtern {
                    name: object.externs[0].name.as_str(),
                },
            };
            Some(TargetFinder::new(backend, longest).map_err(at(step))?)
        }
    };
    let targets = struct_ops::targets(object, struct_ops)?;
    let result = load_with(loaded, backend, finder.as_mut(), &targets);
    if let Some(finder) = finder {
        // Loaded programs hold their own references to module BTF.
        finder.close(backend);
    }
    result
}

fn load_with<B: Backend>(
    loaded: &mut Loaded<B::Pin>,
    backend: &mut B,
    mut finder: Option<&mut TargetFinder<'static>>,
    struct_ops_targets: &[Option<(u32, u32)>],
) -> Result<(), Failed> {
    let object = loaded.object();
    let externs = match finder.as_deref_mut() {
        Some(finder) if !object.externs.is_empty() => externs::resolve(object, backend, finder)?,
        _ => Vec::new(),
    };
    let out_of_memory = || {
        let program = object.programs.first().map_or(object.name, |p| p.name);
        Step::LoadProgram {
            program: program.as_str(),
        }
        .failed(Errno::ENOMEM)
    };
    (loaded.programs.try_reserve_exact(object.programs.len())).map_err(|_| out_of_memory())?;
    // Instructions name maps by index, and kfuncs of modules by the index of their
    // module's BTF (`insn.off`, never 0, which means vmlinux); the kernel resolves
    // both through this.
    // Every map, a placeholder and each module BTF at most: reserved at once, so the
    // pushes below never allocate.
    let maps = loaded.maps.len();
    let mut fd_array: Vec<i32> = Vec::new();
    (fd_array.try_reserve_exact(maps + 1 + externs.len())).map_err(|_| out_of_memory())?;
    fd_array.extend(loaded.maps.iter().map(|(_, m)| m.fd as i32));
    let module_btf = externs.iter().filter_map(|r| match r {
        Resolved::Btf(id) => id.btf_obj_fd.map(|fd| fd as i32),
        _ => None,
    });
    for fd in module_btf {
        if fd_array.is_empty() {
            fd_array.push(-1);
        }
        if !fd_array[maps..].contains(&fd) {
            fd_array.push(fd);
        }
    }
    let slot = |fd: Fd| {
        fd_array
            .iter()
            .rposition(|&f| f == fd as i32)
            .map_or(0, |i| i as i16)
    };
    for (prog, struct_ops) in object.programs.iter().zip(struct_ops_targets) {
        let step = Step::LoadProgram {
            program: prog.name.as_str(),
        };
        let mut expected_attach_type = prog.expected_attach_type;
        // A function of another BPF program: that program's fd goes with the load
        // (`attach_prog_fd`), which holds it until the program is attached.
        let mut target_program = None;
        let attach = match (prog.attach_btf, finder.as_deref_mut(), *struct_ops) {
            // A struct_ops program implements a member of a kernel struct.
            (_, _, Some((id, member))) => {
                expected_attach_type = member;
                KernelBtfId {
                    id,
                    btf_obj_fd: None,
                }
            }
            (Some(target), _, None) if let Some(pin) = target.program => {
                let step = Step::FindInProgram {
                    program: prog.name.as_str(),
                    target: target.name.as_str(),
                    pin: pin.as_str(),
                };
                let (fd, id) = (backend.program_function(pin.as_str(), target.name.as_str()))
                    .map_err(at(step))?;
                target_program = Some(fd);
                KernelBtfId {
                    id,
                    btf_obj_fd: None,
                }
            }
            (Some(target), Some(finder), None) => finder
                .find(backend, target.name.as_str(), target.kind)
                .map_err(at(Step::FindAttachTarget {
                    program: prog.name.as_str(),
                    target: target.name.as_str(),
                }))?,
            _ => KernelBtfId {
                id: 0,
                btf_obj_fd: None,
            },
        };
        let patched = (!prog.externs.is_empty())
            .then(|| externs::patch(prog, &externs, slot))
            .transpose();
        let btf = loaded.btf;
        let records = |bytes: &'static [u8], rec_size| {
            (btf.is_some() && !bytes.is_empty()).then_some(Records { bytes, rec_size })
        };
        let result = patched
            .map_err(|errno| step.failed(errno))
            .and_then(|patched| {
                let spec = || ProgSpec {
                    prog_type: prog.prog_type,
                    insns: patched.as_deref().unwrap_or(prog.insns.as_slice()),
                    license: Some(prog.license.as_c_str()),
                    prog_flags: prog.prog_flags,
                    name: prog.name.as_str(),
                    expected_attach_type,
                    btf_fd: btf,
                    func_info: records(prog.func_info.as_slice(), FUNC_INFO_REC_SIZE),
                    line_info: records(prog.line_info.as_slice(), LINE_INFO_REC_SIZE),
                    core_relos: records(prog.core_relos.as_slice(), CORE_RELO_REC_SIZE),
                    attach_btf_id: attach.id,
                    attach_btf_obj_fd: attach.btf_obj_fd,
                    attach_prog_fd: target_program,
                    fd_array: &fd_array,
                    log: None,
                };
                sys::prog_load(backend, spec()).map_err(|errno| {
                    let mut failed = step.failed(errno);
                    failed.verifier_log = verifier_log(backend, spec());
                    failed
                })
            });
        if let Some(fd) = target_program {
            // The loaded program holds its target until it is attached.
            backend.close(fd);
        }
        loaded.programs.push((prog, result?));
    }
    Ok(())
}

/// Binds every `.rodata` map of the object (`.rodata`, `.rodata.*`: libbpf's
/// `LIBBPF_MAP_RODATA`) to every program, as libbpf's `bpf_object_load_prog` does
/// after each load when the object has one and the kernel supports
/// `BPF_PROG_BIND_MAP`: the program then holds it and lists it in its info, and
/// `bpftool prog show` prints the `bpf_metadata_*` variables in it. Where the backend
/// cannot bind (a module) nothing is tried; a bind the kernel refuses is reported with
/// [`Backend::warn`] and the load goes on (libbpf: "Don't fail hard if can't bind
/// rodata").
pub(super) fn bind_rodata<B: Backend>(loaded: &Loaded<B::Pin>, backend: &mut B) {
    if !backend.binds_maps() {
        return;
    }
    let rodata = || {
        (loaded.maps.iter()).filter(|(m, _)| m.name == ".rodata" || m.name.starts_with(".rodata."))
    };
    for &(prog, prog_fd) in &loaded.programs {
        for (map, map_fd) in rodata() {
            if let Err(errno) = sys::prog_bind_map(backend, prog_fd, map_fd.fd) {
                backend.warn(format_args!(
                    "program `{}`: binding map `{}` (BPF_PROG_BIND_MAP) failed: {errno}; \
                     loaded without it, as libbpf does",
                    prog.name, map.name
                ));
            }
        }
    }
}

/// Repeats a rejected `BPF_PROG_LOAD` with a log buffer, when the backend wants it,
/// and returns the end of the verifier's log.
fn verifier_log<B: Backend + ?Sized>(backend: &mut B, spec: ProgSpec<'_>) -> Option<String> {
    const LOG_SIZE: usize = 1 << 20;
    const TAIL_LINES: usize = 24;
    if !backend.wants_verifier_log() {
        return None;
    }
    let mut log = vec![0u8; LOG_SIZE];
    let spec = ProgSpec {
        log: Some(&mut log),
        ..spec
    };
    if let Ok(fd) = sys::prog_load(backend, spec) {
        // Accepted the second time (a transient failure): not ours to keep.
        backend.close(fd);
        return None;
    }
    let len = log.iter().position(|&b| b == 0).unwrap_or(log.len());
    let text = String::from_utf8_lossy(&log[..len]);
    let text = text.trim_end();
    let start = text
        .rmatch_indices('\n')
        .nth(TAIL_LINES - 1)
        .map_or(0, |(i, _)| i + 1);
    (!text.is_empty()).then(|| String::from(&text[start..]))
}
