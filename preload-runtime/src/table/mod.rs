//! The static table `#[bpf_preload]` emits: pure data, everything the loader needs and
//! nothing it must parse. Instructions are final (subprograms linked, map references as
//! `BPF_PSEUDO_MAP_IDX`/`_IDX_VALUE` indexing [`Object::maps`]), except the extern slots
//! only the running kernel can fill ([`Program::externs`]); BTF is fixed up, and the
//! func_info, line_info and CO-RE records are in the kernel's `bpf_func_info`,
//! `bpf_line_info` and `bpf_core_relo` layouts.

mod layout;

pub use layout::{CStrRef, List, OptIndex, Str};

use crate::abi;
pub use bpf_preload_uapi::values::TextKind;

/// Size of one `struct bpf_func_info` record in [`Program::func_info`], as
/// `BPF_PROG_LOAD` takes it (`func_info_rec_size`).
pub const FUNC_INFO_REC_SIZE: u32 = abi::BPF_FUNC_INFO_SIZE as u32;
/// Size of one `struct bpf_line_info` record in [`Program::line_info`].
pub const LINE_INFO_REC_SIZE: u32 = abi::BPF_LINE_INFO_SIZE as u32;
/// Size of one `struct bpf_core_relo` record in [`Program::core_relos`].
pub const CORE_RELO_REC_SIZE: u32 = abi::BPF_CORE_RELO_SIZE as u32;
/// Size of one BPF instruction in [`Program::insns`].
pub const INSN_SIZE: usize = abi::BPF_INSN_SIZE;

/// Implemented by `#[bpf_preload]` for the annotated struct.
pub trait Preload {
    /// The object's table.
    const OBJECT: &'static Object;
}

/// The version of the table's layout that this crate makes and reads. An object
/// module holds a table made by the crate its build used; the runtime module that
/// loads it refuses one of another layout, naming both. Bump it with any change to
/// the layout of a type in this module (the test `the_layout_is_the_one_its_version_names`
/// records the sizes the version stands for).
pub const TABLE_LAYOUT: u32 = 5;

/// One compiled BPF object.
#[derive(Debug)]
#[repr(C)]
pub struct Object {
    /// [`TABLE_LAYOUT`] of the crate that made this table. First, so that a reader of
    /// any layout finds it.
    pub layout: u32,
    /// The object's name: its bpffs directory and its module name.
    pub name: Str,
    /// The object's BTF, fixed up (datasec sizes, variable offsets) for `BPF_BTF_LOAD`.
    pub btf: List<u8>,
    /// Maps, in the order the instructions index them.
    pub maps: List<Map>,
    /// Programs, sorted by name.
    pub programs: List<Program>,
    /// Links the loader creates, each attaching one program.
    pub links: List<Link>,
    /// Kfuncs and kernel symbols the programs use, resolved at load time.
    pub externs: List<Extern>,
    /// Load the runtime's guard with the object (`protect`): a BPF LSM program that
    /// refuses user space every fd to the object's maps, programs and links, and
    /// every write through one it already has.
    pub protect: bool,
    /// Global variables a module offers as module parameters (`params(...)`), in the
    /// attribute's order. Added by layout 2.
    pub params: List<Param>,
}

/// A global variable of `.rodata`, `.data` or `.bss` whose initial value a loader may
/// give as text (`params(...)`: an object module's parameter, `modprobe NAME
/// VARIABLE=value`), by the rules of [`bpf_preload_uapi::values`], the same as
/// `set(...)`'s.
#[derive(Debug)]
#[repr(C)]
pub struct Param {
    /// The variable's name: the parameter's.
    pub name: Str,
    /// Its C type as the program spells it (`__u32`, `enum mode`, `char[16]`), for
    /// messages.
    pub c_type: Str,
    /// Its map: index into [`Object::maps`].
    pub map: usize,
    /// Byte offset in the map's value.
    pub offset: u32,
    /// Size in bytes.
    pub size: u32,
    /// What values it takes.
    pub kind: TextKind,
    /// An enum's enumerators (empty for other kinds).
    pub enumerators: List<Enumerator>,
}

/// One enumerator of an enum [`Param`].
#[derive(Debug, Clone, Copy)]
#[repr(C)]
pub struct Enumerator {
    /// Its name.
    pub name: Str,
    /// Its value's 64 bits, read as unsigned for an unsigned enum.
    pub value: i64,
}

impl Param {
    /// The enumerators as `(name, value)`.
    pub fn enumerator_values(&self) -> impl Iterator<Item = (&'static str, i128)> + '_ {
        let signed = matches!(self.kind, TextKind::Enum { signed: true });
        self.enumerators.iter().map(move |e| {
            let value = if signed {
                i128::from(e.value)
            } else {
                i128::from(e.value as u64)
            };
            (e.name.as_str(), value)
        })
    }
}

/// One map to create.
#[derive(Debug)]
#[repr(C)]
pub struct Map {
    /// The name in the object (`counts`, `.rodata`, ...).
    pub name: Str,
    /// The name given to the kernel (at most 15 bytes, e.g. `counters.rodata`).
    pub kernel_name: Str,
    /// `BPF_MAP_TYPE_*`.
    pub map_type: u32,
    /// Key size in bytes.
    pub key_size: u32,
    /// Value size in bytes.
    pub value_size: u32,
    /// 0 for a `BPF_MAP_TYPE_PERF_EVENT_ARRAY`: one entry per possible CPU.
    pub max_entries: u32,
    /// `BPF_F_*` map flags.
    pub map_flags: u32,
    /// Pinned by name (`__uint(pinning, LIBBPF_PIN_BY_NAME)`): the first object to
    /// load creates it and shares it, every later one that declares a map of this
    /// name and definition reuses it (see [`crate::Backend::shared_map`]).
    pub shared: bool,
    /// `map_extra` of `BPF_MAP_CREATE` (a bloom filter's hash count, an arena's address).
    pub map_extra: u64,
    /// BTF type ids in [`Object::btf`]; both 0 when the map has no BTF types.
    pub btf_key_type_id: u32,
    /// See `btf_key_type_id`.
    pub btf_value_type_id: u32,
    /// Contents of element 0 of a global-data map (`.data*`, `.rodata*`, or `.bss*`
    /// given values by `set(...)`), written before programs load; `None` for a value
    /// of zeros, which the kernel gives a new array anyway.
    pub initial_value: Option<&'static List<u8>>,
    /// Whether and when the loader freezes the map (`BPF_MAP_FREEZE`): no syscall can
    /// change it afterwards, its programs still can.
    pub freeze: Freeze,
    /// Name of the pin in the object's bpffs directory, if pinned.
    pub pin: Option<&'static Str>,
    /// The inner map of a map of maps: created first as the template
    /// (`inner_map_fd`), closed once the outer map exists.
    pub inner: Option<&'static Map>,
    /// Slots filled once what they hold exists (`.values = { ... }`).
    pub slots: List<Slot>,
    /// Kconfig values the loader writes, for the `.kconfig` map.
    pub kconfig: List<KconfigVar>,
    /// The value of a `BPF_MAP_TYPE_STRUCT_OPS` map, translated into the running
    /// kernel's layout at load time (its `value_size` is then the kernel's).
    pub struct_ops: Option<&'static StructOps>,
}

/// A struct_ops map's value as the object gives it (`SEC(".struct_ops")`): a kernel
/// struct of function pointers and data, such as `tcp_congestion_ops`.
#[derive(Debug)]
#[repr(C)]
pub struct StructOps {
    /// The kernel struct's name (libbpf's essential name: `tcp_congestion_ops___x` is
    /// `tcp_congestion_ops`).
    pub type_name: Str,
    /// The object's bytes of the struct, laid out as the object's BTF says.
    pub data: List<u8>,
    /// The members of the object's struct, in its order.
    pub members: List<StructOpsMember>,
    /// Registered with the kernel once its programs are loaded (`BPF_MAP_UPDATE_ELEM`,
    /// then `BPF_LINK_CREATE` for a `.struct_ops.link` map); `no_attach_all` leaves it
    /// created only.
    pub register: bool,
}

/// One member of a [`StructOps`] struct in the object.
#[derive(Debug, Clone, Copy)]
#[repr(C)]
pub struct StructOpsMember {
    /// Its name, by which the kernel's member is found.
    pub name: Str,
    /// Byte offset in [`StructOps::data`].
    pub offset: u32,
    /// Size in bytes.
    pub size: u32,
    /// `BTF_KIND_*` of its type, modifiers and typedefs skipped: the kernel's member
    /// must be of the same kind.
    pub kind: u32,
    /// The program a function pointer holds: index into [`Object::programs`].
    pub program: OptIndex,
}

/// When the loader freezes a map.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum Freeze {
    /// Never: user space may write it.
    Never,
    /// Right after its initial value is written, before programs load (`.rodata`,
    /// `.kconfig`): the verifier then treats its contents as constants.
    Initialised,
    /// Once everything the loader writes into it is there, slots included, before
    /// links attach (`freeze(...)`, `freeze_all`).
    Loaded,
}

/// One slot of a map of maps or a program array, filled by the loader.
#[derive(Debug, Clone, Copy)]
#[repr(C)]
pub struct Slot {
    /// The key.
    pub index: u32,
    /// What the slot holds.
    pub target: SlotTarget,
}

/// What a slot holds.
#[derive(Debug, Clone, Copy)]
#[repr(C, u32)]
pub enum SlotTarget {
    /// Index into [`Object::maps`].
    Map(usize),
    /// Index into [`Object::programs`].
    Program(usize),
}

/// A `.kconfig` extern: where its value goes in the `.kconfig` map and how it is read
/// from the kernel's configuration (libbpf's `set_kcfg_value_*`).
#[derive(Debug, Clone, Copy)]
#[repr(C)]
pub struct KconfigVar {
    /// `CONFIG_*`, or one of the values libbpf provides (`LINUX_KERNEL_VERSION`, ...).
    pub name: Str,
    /// Where its value goes in the map's value.
    pub offset: u32,
    /// The value's size in bytes (a char array's length).
    pub size: u32,
    /// Its C type.
    pub kind: KconfigKind,
    /// A weak extern the kernel lacks is 0; a strong one fails the load.
    pub weak: bool,
}

/// The C type of a Kconfig extern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(C, u32)]
pub enum KconfigKind {
    /// `bool`: `y` is 1, `n` or absent 0.
    Bool,
    /// `enum libbpf_tristate`: 0 (n), 1 (y), 2 (m).
    Tristate,
    /// `char`: the option's value as a character (`y`, `n`, `m`).
    Char,
    /// An integer of `size` bytes.
    Int {
        /// Signed (range checks differ).
        signed: bool,
    },
    /// A string option, NUL-terminated.
    CharArray,
}

/// A kernel symbol a program uses (`extern ... __ksym`).
#[derive(Debug, Clone, Copy)]
#[repr(C)]
pub struct Extern {
    /// The symbol's name.
    pub name: Str,
    /// What it is, and so how it is resolved.
    pub kind: ExternKind,
    /// Left unresolved if the kernel lacks it (`bpf_ksym_exists()` guards it).
    pub weak: bool,
}

/// The kinds of kernel symbol a program can use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum ExternKind {
    /// A kfunc: `BTF_KIND_FUNC` in vmlinux or a module.
    Kfunc,
    /// A typed kernel variable: `BTF_KIND_VAR`, loaded as `BPF_PSEUDO_BTF_ID`.
    Ksym,
    /// A typeless kernel symbol: its address, from kallsyms.
    KsymAddress,
}

/// An instruction that uses an extern: a kfunc call or an ld_imm64.
#[derive(Debug, Clone, Copy)]
#[repr(C)]
pub struct ExternUse {
    /// Index of the instruction in [`Program::insns`].
    pub insn: u32,
    /// Index into [`Object::externs`].
    pub ext: u32,
}

/// One program to load.
#[derive(Debug)]
#[repr(C)]
pub struct Program {
    /// The function name.
    pub name: Str,
    /// The ELF section, e.g. `iter/bpf_map`.
    pub section: Str,
    /// `BPF_PROG_TYPE_*`.
    pub prog_type: u32,
    /// `BPF_*` attach type, or 0.
    pub expected_attach_type: u32,
    /// A type in the running kernel's BTF to resolve into `attach_btf_id` at load time.
    pub attach_btf: Option<&'static BtfTarget>,
    /// The object's `license` section.
    pub license: CStrRef,
    /// `prog_flags`, e.g. `BPF_F_SLEEPABLE`.
    pub prog_flags: u32,
    /// Final instructions, [`INSN_SIZE`] bytes each.
    pub insns: List<u8>,
    /// `struct bpf_func_info` records, one per function of the linked program.
    pub func_info: List<u8>,
    /// `struct bpf_line_info` records.
    pub line_info: List<u8>,
    /// CO-RE relocations, applied by the kernel against its own BTF at load time.
    pub core_relos: List<u8>,
    /// Instructions the loader completes with what the kernel says of an extern.
    pub externs: List<ExternUse>,
    /// Name of the pin in the object's bpffs directory, if pinned.
    pub pin: Option<&'static Str>,
}

/// A named type in the target kernel's BTF, or a function of another BPF program.
#[derive(Debug, Clone, Copy)]
#[repr(C)]
pub struct BtfTarget {
    /// The type's name (`bpf_lsm_path_mkdir`).
    pub name: Str,
    /// `BTF_KIND_FUNC` or `BTF_KIND_TYPEDEF`.
    pub kind: u32,
    /// The pin of the loaded BPF program whose BTF holds the target, a function of it
    /// (`target_program(...)`: freplace, fentry, fexit); `None` for the kernel's.
    /// Added by layout 5.
    pub program: Option<&'static Str>,
}

/// One link: a program attached for as long as the object lives.
#[derive(Debug)]
#[repr(C)]
pub struct Link {
    /// Index into [`Object::programs`].
    pub program: usize,
    /// How it is attached.
    pub attach: Attach,
    /// Name of the pin in the object's bpffs directory, if pinned.
    pub pin: Option<&'static Str>,
}

/// How a link attaches its program.
#[derive(Debug, Clone, Copy)]
#[repr(C, u32)]
pub enum Attach {
    /// `BPF_LINK_CREATE` with the program's expected attach type and no target:
    /// iterators, fentry/fexit, lsm.
    LinkCreate,
    /// `BPF_RAW_TRACEPOINT_OPEN` with this name (`raw_tp`) or none (`tp_btf`, whose
    /// target is the program's `attach_btf_id`).
    RawTracepoint(Option<&'static CStrRef>),
    /// A perf event on a tracepoint, then `BPF_LINK_CREATE` with `BPF_PERF_EVENT`.
    /// Needs perf_event_open(2): user space only. Behind a reference, so that every
    /// link stays 32 bytes.
    Tracepoint(&'static TracepointName),
}

/// A tracepoint's name, as `tracefs/events/<category>/<name>` spells it.
#[derive(Debug, Clone, Copy)]
#[repr(C)]
pub struct TracepointName {
    /// The tracepoint's category (`syscalls`).
    pub category: Str,
    /// Its name (`sys_enter_getppid`).
    pub name: Str,
}

impl Object {
    /// The link that attaches `program`, if any.
    pub fn link_of(&self, program: usize) -> Option<&Link> {
        self.links.iter().find(|l| l.program == program)
    }

    /// Whether a link of the object attaches a program through a BPF trampoline,
    /// which `kernel.ftrace_enabled=0` would switch off (see [`Program::uses_trampoline`]).
    pub fn attaches_trampolines(&self) -> bool {
        self.links
            .iter()
            .any(|l| self.programs[l.program].uses_trampoline())
    }
}

impl Program {
    /// Whether the program runs through a BPF trampoline once attached: LSM programs
    /// and fentry, fexit and fmod_ret. On x86 a trampoline is an ftrace direct call.
    /// (struct_ops trampolines are called through function pointers, not ftrace, and
    /// freplace patches a BPF program, not kernel text.)
    pub fn uses_trampoline(&self) -> bool {
        self.prog_type == crate::abi::BPF_PROG_TYPE_LSM
            || (self.prog_type == crate::abi::BPF_PROG_TYPE_TRACING
                && matches!(
                    self.expected_attach_type,
                    crate::abi::BPF_TRACE_FENTRY
                        | crate::abi::BPF_TRACE_FEXIT
                        | crate::abi::BPF_MODIFY_RETURN
                ))
    }
}

impl Program {
    /// Number of instructions.
    pub fn insn_count(&self) -> usize {
        self.insns.len() / INSN_SIZE
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::mem::{align_of, size_of};

    /// The sizes and alignments of the table's types on x86_64, as layout
    /// [`TABLE_LAYOUT`] has them. A change here is a change of layout: bump the version.
    #[test]
    #[cfg(target_arch = "x86_64")]
    fn the_layout_is_the_one_its_version_names() {
        let layout = [
            ("Object", size_of::<Object>(), align_of::<Object>()),
            ("Map", size_of::<Map>(), align_of::<Map>()),
            ("StructOps", size_of::<StructOps>(), align_of::<StructOps>()),
            (
                "StructOpsMember",
                size_of::<StructOpsMember>(),
                align_of::<StructOpsMember>(),
            ),
            ("Slot", size_of::<Slot>(), align_of::<Slot>()),
            (
                "KconfigVar",
                size_of::<KconfigVar>(),
                align_of::<KconfigVar>(),
            ),
            ("Extern", size_of::<Extern>(), align_of::<Extern>()),
            ("ExternUse", size_of::<ExternUse>(), align_of::<ExternUse>()),
            ("Program", size_of::<Program>(), align_of::<Program>()),
            ("BtfTarget", size_of::<BtfTarget>(), align_of::<BtfTarget>()),
            ("Link", size_of::<Link>(), align_of::<Link>()),
            (
                "TracepointName",
                size_of::<TracepointName>(),
                align_of::<TracepointName>(),
            ),
            ("Param", size_of::<Param>(), align_of::<Param>()),
            ("TextKind", size_of::<TextKind>(), align_of::<TextKind>()),
            (
                "Enumerator",
                size_of::<Enumerator>(),
                align_of::<Enumerator>(),
            ),
        ];
        assert_eq!(TABLE_LAYOUT, 5);
        assert_eq!(core::mem::offset_of!(Map, shared), 52);
        assert_eq!(core::mem::offset_of!(Object, layout), 0);
        assert_eq!(
            layout,
            [
                ("Object", 128, 8),
                ("Map", 144, 8),
                ("StructOps", 56, 8),
                ("StructOpsMember", 32, 8),
                ("Slot", 24, 8),
                ("KconfigVar", 40, 8),
                ("Extern", 24, 8),
                ("ExternUse", 8, 4),
                ("Program", 160, 8),
                ("BtfTarget", 32, 8),
                ("Link", 32, 8),
                ("TracepointName", 32, 8),
                ("Param", 72, 8),
                ("TextKind", 8, 4),
                ("Enumerator", 24, 8),
            ]
        );
    }
}
