//! The one error a load can end in: which object, which step on which map, program or
//! link, and the errno the kernel gave.

use alloc::string::String;
use core::fmt;

use crate::errno::Errno;

/// What the loader was doing when it failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// `BPF_BTF_LOAD` of the object's BTF.
    LoadBtf,
    /// `BPF_MAP_CREATE`.
    CreateMap {
        /// The map's name in the object.
        map: &'static str,
    },
    /// `BPF_MAP_CREATE` again without the map's BTF key and value types, after the
    /// kernel refused the map with them (libbpf's "Retrying without BTF").
    CreateMapWithoutBtf {
        /// The map's name in the object.
        map: &'static str,
        /// What the kernel said to the map with its BTF types.
        with_btf: Errno,
    },
    /// Looking for the map of this name another object shared
    /// (`LIBBPF_PIN_BY_NAME`).
    FindShared {
        /// The map's name in the object.
        map: &'static str,
    },
    /// Reusing the map another object shared under this name, whose definition
    /// differs from this object's (`EINVAL`, as libbpf's "parameter mismatch").
    ReuseShared {
        /// The map's name in the object.
        map: &'static str,
        /// The first field that differs (`max_entries`, ...).
        field: &'static str,
        /// Its value in the shared map.
        shared: u64,
        /// Its value in this object.
        ours: u64,
    },
    /// Sharing a map this load created under its name (`LIBBPF_PIN_BY_NAME`).
    Share {
        /// The map's name in the object.
        map: &'static str,
    },
    /// `BPF_MAP_UPDATE_ELEM` of a `.data`/`.rodata` map's initial value.
    InitMap {
        /// The map's name in the object.
        map: &'static str,
    },
    /// Finding a program's attach target in another BPF program, by its pin.
    FindInProgram {
        /// The program's name in the object.
        program: &'static str,
        /// The function it attaches to.
        target: &'static str,
        /// Where the program that holds it is pinned.
        pin: &'static str,
    },
    /// Mapping an arena to write its `__arena` globals.
    MapArena {
        /// The arena's name in the object.
        map: &'static str,
    },
    /// `BPF_MAP_FREEZE`.
    FreezeMap {
        /// The map's name in the object.
        map: &'static str,
    },
    /// Reading the kernel's configuration for the `.kconfig` externs.
    ReadKconfig,
    /// Setting a `.kconfig` extern from the kernel's configuration.
    SetKconfig {
        /// The extern's name (`CONFIG_*`, `LINUX_*`).
        name: &'static str,
    },
    /// Counting the possible CPUs, for a perf event array sized by them.
    CountCpus {
        /// The perf event array's name in the object.
        map: &'static str,
    },
    /// `BPF_MAP_UPDATE_ELEM` of a map-of-maps or program-array slot.
    FillSlot {
        /// The map of maps or program array.
        map: &'static str,
        /// The slot's key.
        index: u32,
    },
    /// Looking up a kfunc or kernel symbol in the running kernel.
    ResolveExtern {
        /// The kfunc's or kernel symbol's name.
        name: &'static str,
    },
    /// Looking up a program's attach target in the running kernel's BTF.
    FindAttachTarget {
        /// The program's name.
        program: &'static str,
        /// The type looked up (`bpf_lsm_path_mkdir`, `btf_trace_sys_enter`).
        target: &'static str,
    },
    /// `BPF_PROG_LOAD`.
    LoadProgram {
        /// The program's name.
        program: &'static str,
    },
    /// Creating the link that attaches a program.
    Attach {
        /// The program's name.
        program: &'static str,
    },
    /// Reading the running kernel's BTF, which lays out struct_ops values.
    ReadKernelBtf,
    /// Translating a struct_ops map's value into the running kernel's layout.
    TranslateStructOps {
        /// The struct_ops map's name in the object.
        map: &'static str,
        /// The member that cannot be translated, if one.
        member: Option<&'static str>,
        /// Why.
        reason: &'static str,
    },
    /// Registering a struct_ops map with the kernel (`BPF_MAP_UPDATE_ELEM`, then
    /// `BPF_LINK_CREATE` for a `.struct_ops.link` map).
    RegisterStructOps {
        /// The struct_ops map's name in the object.
        map: &'static str,
    },
    /// Pinning a link, map or program.
    Pin {
        /// The pin's name in the object's directory.
        name: &'static str,
    },
    /// Asking the kernel for the id of a map, program or link, for the guard.
    ReadId {
        /// The map's or program's name (a link's program).
        name: &'static str,
    },
    /// Asking the guard to refuse an fd of its own map by id, as it must once armed.
    CheckGuard,
}

/// A failed load. Everything created before the failure has been freed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    /// The object's name.
    pub object: &'static str,
    /// What the loader was doing.
    pub step: Step,
    /// What the kernel (or the backend) said.
    pub errno: Errno,
    /// The end of the verifier's log, when the backend could fetch one.
    pub verifier_log: Option<String>,
}

/// A step that failed, before [`Error`] names its object: what every step of the
/// load returns.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Failed {
    pub(crate) step: Step,
    pub(crate) errno: Errno,
    pub(crate) verifier_log: Option<String>,
}

impl Step {
    /// This step, failed with `errno`.
    pub(crate) fn failed(self, errno: Errno) -> Failed {
        Failed {
            step: self,
            errno,
            verifier_log: None,
        }
    }
}

/// `step` failed with the errno given: for `map_err`.
pub(crate) fn at(step: Step) -> impl FnOnce(Errno) -> Failed {
    move |errno| step.failed(errno)
}

impl Failed {
    /// The error of loading `object`.
    pub(crate) fn of(self, object: &'static str) -> Error {
        Error {
            object,
            step: self.step,
            errno: self.errno,
            verifier_log: self.verifier_log,
        }
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::LoadBtf => write!(f, "loading its BTF (BPF_BTF_LOAD)"),
            Step::CreateMap { map } => write!(f, "creating map `{map}` (BPF_MAP_CREATE)"),
            Step::CreateMapWithoutBtf { map, with_btf } => write!(
                f,
                "creating map `{map}` (BPF_MAP_CREATE) without its BTF key and value types, \
                 retried as libbpf does after the kernel refused them with {with_btf},"
            ),
            Step::FindShared { map } => write!(
                f,
                "looking for the map `{map}` an object loaded before shared by name \
                 (LIBBPF_PIN_BY_NAME)"
            ),
            Step::ReuseShared {
                map,
                field,
                shared,
                ours,
            } => write!(
                f,
                "reusing the map `{map}` an object loaded before shared by name \
                 (LIBBPF_PIN_BY_NAME): its {field} is {shared}, this object declares {ours}"
            ),
            Step::Share { map } => write!(
                f,
                "sharing map `{map}` by name (LIBBPF_PIN_BY_NAME) with the objects loaded after"
            ),
            Step::InitMap { map } => {
                write!(
                    f,
                    "writing the initial value of map `{map}` (BPF_MAP_UPDATE_ELEM)"
                )
            }
            Step::FindInProgram {
                program,
                target,
                pin,
            } => write!(
                f,
                "finding `{target}`, the attach target of program `{program}`, in the BTF of \
                 the BPF program pinned at `{pin}` (BPF_OBJ_GET: from a process only)"
            ),
            Step::MapArena { map } => write!(
                f,
                "mapping arena `{map}` to write its `__arena` globals (mmap; a module \
                 cannot: it runs in no process)"
            ),
            Step::FreezeMap { map } => write!(f, "freezing map `{map}` (BPF_MAP_FREEZE)"),
            Step::ReadKconfig => write!(f, "reading the kernel's configuration"),
            Step::SetKconfig { name } => write!(
                f,
                "setting the Kconfig extern `{name}` from the kernel's configuration (ESRCH: \
                 the kernel lacks the option, and the extern is not __weak; EINVAL or ERANGE: \
                 its value does not fit the extern's C type)"
            ),
            Step::CountCpus { map } => {
                write!(f, "counting the possible CPUs for perf event array `{map}`")
            }
            Step::FillSlot { map, index } => write!(
                f,
                "filling slot {index} of map `{map}` (BPF_MAP_UPDATE_ELEM)"
            ),
            Step::ResolveExtern { name } => write!(
                f,
                "finding the kernel symbol `{name}` (a kfunc, kernel variable or kallsyms \
                 address) in the running kernel"
            ),
            Step::FindAttachTarget { program, target } => write!(
                f,
                "finding `{target}`, the attach target of program `{program}`, in the kernel's BTF"
            ),
            Step::LoadProgram { program } => {
                write!(f, "loading program `{program}` (BPF_PROG_LOAD)")
            }
            Step::Attach { program } => write!(f, "attaching program `{program}`"),
            Step::ReadKernelBtf => write!(
                f,
                "reading the running kernel's BTF (/sys/kernel/btf/vmlinux, or \
                 btf_vmlinux_raw_data() on the patched kernel) for its struct_ops layouts"
            ),
            Step::TranslateStructOps {
                map,
                member,
                reason,
            } => {
                write!(
                    f,
                    "laying out struct_ops map `{map}` as the running kernel does ("
                )?;
                if let Some(member) = member {
                    write!(f, "member `{member}`: ")?;
                }
                write!(f, "{reason})")
            }
            Step::RegisterStructOps { map } => write!(
                f,
                "registering struct_ops map `{map}` with the kernel (BPF_MAP_UPDATE_ELEM, and \
                 BPF_LINK_CREATE for `.struct_ops.link`)"
            ),
            Step::Pin { name } => write!(f, "pinning `{name}`"),
            Step::ReadId { name } => write!(f, "reading the kernel's id of `{name}` for the guard"),
            Step::CheckGuard => write!(
                f,
                "checking that the guard of `protect` refuses user space (EOPNOTSUPP: it does \
                 not, the BPF LSM is not active: `bpf` is missing from /sys/kernel/security/lsm, \
                 boot with it in `lsm=`; nothing is loaded)"
            ),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "bpf object `{}`: {} failed: {}",
            self.object, self.step, self.errno
        )?;
        if let Some(log) = &self.verifier_log {
            write!(f, "\nverifier log (end):\n{log}")?;
        }
        Ok(())
    }
}

#[cfg(feature = "std")]
impl std::error::Error for Error {}
