//! A fake kernel behind the [`Backend`] trait, so the loader is tested without root or
//! any capability. It hands out fds, decodes each `bpf_attr` as the kernel would (the
//! command, the types and names, the instructions and the `fd_array` entries they use,
//! every fd an attr names) and records the calls. Kernel objects are reference counted
//! as in the kernel: an fd, a pin, a program's maps, a link's program, a slot of a map
//! of maps or a program array each hold one, so a test can ask what is still alive.
//!
//! Fds are read as the kernel reads them: a field is used when what goes with it is set
//! (`btf_fd` with BTF type ids, `prog_btf_fd` with func_info, line_info or CO-RE
//! records, `inner_map_fd` for a map of maps), never because it is non-zero, so that
//! fd 0 works as it does in the kernel.
//!
//! What the kernel would refuse (an fd that is not open or not of the right kind, a
//! map fd in an instruction instead of an index) is refused with the kernel's errno and
//! noted in [`Fake::violations`], which every test expects empty.

#![allow(dead_code, reason = "each test binary uses part of the fake")]

use std::collections::BTreeMap;
use std::ffi::CStr;
use std::fmt::Write as _;

use bpf_preload::abi::{self, BpfAttr};
use bpf_preload::KernelConfig;
use bpf_preload::{Backend, Bpf, Errno, Fd, MapDef};

/// A kernel object's id in the fake.
pub type ObjId = usize;

/// What a kernel object is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// The object's own BTF (`BPF_BTF_LOAD`).
    Btf,
    /// A module's BTF, handed out by the attach-target finder.
    ModuleBtf,
    /// A map.
    Map {
        /// `BPF_MAP_TYPE_*`.
        map_type: u32,
        /// Value size.
        value_size: u32,
    },
    /// A program.
    Prog {
        /// `BPF_PROG_TYPE_*`.
        prog_type: u32,
    },
    /// A link.
    Link,
    /// A perf event (never made by the fake: tracepoints attach directly).
    PerfEvent,
}

/// One kernel object.
#[derive(Debug, Clone)]
pub struct KObj {
    /// What it is.
    pub kind: Kind,
    /// Its kernel name (maps and programs), its module's name, its tracepoint, or "btf".
    pub name: String,
    /// Fds, pins and other objects holding it.
    pub refs: usize,
    /// Objects it holds (a program's maps and BTF, a link's program).
    pub holds: Vec<ObjId>,
    /// Slots of a map of maps or program array: key to the object held.
    pub slots: BTreeMap<u32, ObjId>,
    /// Values written to a plain map, by key.
    pub values: BTreeMap<u32, Vec<u8>>,
    /// Frozen (`BPF_MAP_FREEZE`).
    pub frozen: bool,
}

/// One call the loader made, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Call {
    /// `BPF_BTF_LOAD`.
    BtfLoad {
        /// Bytes handed over.
        size: usize,
    },
    /// `BPF_MAP_CREATE`.
    MapCreate {
        /// Kernel name.
        name: String,
        /// `BPF_MAP_TYPE_*`.
        map_type: u32,
        /// Key size.
        key_size: u32,
        /// Value size.
        value_size: u32,
        /// Max entries.
        max_entries: u32,
        /// Map flags.
        map_flags: u32,
        /// The inner map template's name, for a map of maps.
        inner: Option<String>,
        /// Whether the map was given the object's BTF.
        btf: bool,
        /// `btf_vmlinux_value_type_id`: a struct_ops map's value type in the kernel's
        /// BTF.
        vmlinux_value_type_id: u32,
    },
    /// `BPF_MAP_CREATE` refused for the map's BTF key and value types.
    MapRefused {
        /// Kernel name.
        name: String,
        /// What the fake answered.
        errno: Errno,
    },
    /// `BPF_MAP_UPDATE_ELEM`.
    MapUpdate {
        /// The map's name.
        map: String,
        /// The key (u32).
        key: u32,
        /// The value, or for a slot the name of the map or program it holds.
        value: Value,
    },
    /// A program pinned elsewhere opened, for the function of it a program of the
    /// object attaches to.
    TargetProgram {
        /// Its pin.
        pin: String,
        /// The function.
        function: String,
    },
    /// An arena mapped, as a process maps it, and its globals written.
    MapArena {
        /// The arena's name.
        map: String,
        /// Where it was mapped (0: anywhere).
        map_extra: u64,
        /// Its size in pages.
        pages: u32,
        /// The bytes written at its start.
        data: Vec<u8>,
    },
    /// `BPF_MAP_FREEZE`.
    MapFreeze {
        /// The map's name.
        map: String,
    },
    /// `BPF_PROG_LOAD`.
    ProgLoad {
        /// Kernel name.
        name: String,
        /// `BPF_PROG_TYPE_*`.
        prog_type: u32,
        /// `expected_attach_type`.
        expected_attach_type: u32,
        /// Instructions.
        insns: Vec<u8>,
        /// Every `fd_array` entry the instructions use: index and the object's name.
        fd_array: Vec<(u32, String)>,
        /// `attach_btf_id`.
        attach_btf_id: u32,
        /// The module whose BTF `attach_btf_obj_fd` names.
        attach_btf_obj: Option<String>,
        /// Whether the object's BTF was given (`prog_btf_fd`), with records.
        btf: bool,
        /// `func_info_cnt`.
        func_info: u32,
        /// Whether a verifier log was asked for.
        log: bool,
    },
    /// `BPF_PROG_BIND_MAP`.
    BindMap {
        /// The program's name.
        prog: String,
        /// The map's name.
        map: String,
    },
    /// `BPF_PROG_TEST_RUN` of the finder program: a lookup of `name` of `kind`.
    Lookup {
        /// The name looked up.
        name: String,
        /// The BTF kind, or 0 for kallsyms.
        kind: u32,
    },
    /// `BPF_LINK_CREATE`.
    LinkCreate {
        /// The program's name, or the map's for a struct_ops link.
        prog: String,
        /// Attach type.
        attach_type: u32,
    },
    /// `BPF_RAW_TRACEPOINT_OPEN`.
    RawTracepointOpen {
        /// The program's name.
        prog: String,
        /// The tracepoint's name, if given.
        name: Option<String>,
    },
    /// [`Backend::attach_tracepoint`].
    Tracepoint {
        /// The program's name.
        prog: String,
        /// `category/name`.
        tracepoint: String,
    },
    /// [`Backend::pin`].
    Pin {
        /// The pin's name.
        name: String,
        /// The pinned object's name.
        object: String,
    },
    /// [`Backend::unpin`].
    Unpin {
        /// The pin's name.
        name: String,
    },
    /// [`Backend::shared_map`] that found the map.
    Reuse {
        /// The name it is shared under.
        name: String,
    },
    /// [`Backend::share_map`].
    Share {
        /// The name it is shared under.
        name: String,
    },
    /// [`Backend::unshare_map`].
    Unshare {
        /// The name it was shared under.
        name: String,
    },
    /// [`Backend::close`].
    Close {
        /// The object's name.
        object: String,
    },
    /// [`Backend::possible_cpus`].
    PossibleCpus,
    /// [`Backend::kernel_config`].
    KernelConfig,
    /// A call refused by injection ([`Fake::fail_at`]).
    Injected,
}

/// A map update's value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// Bytes.
    Bytes(Vec<u8>),
    /// A slot holding the named map or program.
    Holds(String),
}

/// A pin made by the fake.
#[derive(Debug, PartialEq, Eq)]
pub struct FakePin {
    /// Its name.
    pub name: &'static str,
    /// The object pinned.
    pub obj: ObjId,
}

/// The name of the map and program of the attach-target finder (`btf.rs`).
pub const FINDER: &str = "preload_btf_id";
/// The address the fake's kallsyms gives the n-th symbol looked up.
pub const KALLSYMS_BASE: u64 = 0xffff_ffff_8100_0000;
/// The first BTF id the fake's vmlinux gives a name looked up.
pub const FIRST_BTF_ID: u32 = 100;

/// Where examples/freplace_target's program is pinned.
pub const FREPLACE_TARGET: &str = "/sys/fs/bpf/freplace_target/filter_prog";
/// The fake kernel's configuration.
pub const CONFIG: &str = "CONFIG_BPF_SYSCALL=y\nCONFIG_HZ=250\nCONFIG_BTRFS_FS=m\n\
                          CONFIG_ARCH_HAS_SYSCALL_WRAPPER=y\n\
                          CONFIG_CC_VERSION_TEXT=\"gcc (Debian 12.2.0-14) 12.2.0\"\n";
/// The fake kernel's version (6.1.0).
pub const VERSION: u32 = (6 << 16) + (1 << 8);
/// The number of possible CPUs the fake reports.
pub const CPUS: u32 = 4;

/// The fake kernel.
#[derive(Debug)]
pub struct Fake {
    /// Every kernel object ever made, alive or not.
    pub objects: Vec<KObj>,
    /// Open fds.
    pub fds: BTreeMap<Fd, ObjId>,
    /// Pins in place.
    pub pins: Vec<(&'static str, ObjId)>,
    /// Every call, in order.
    pub calls: Vec<Call>,
    /// What the kernel would have refused.
    pub violations: Vec<String>,
    /// Fallible call number `n` (counting from 1) fails with `EINTR`; 0 for none.
    pub fail_at: usize,
    /// Fallible calls so far.
    pub fallible: usize,
    /// The lowest fd handed out.
    pub first_fd: Fd,
    /// Names the fake's kernel lacks (every other name is found).
    pub missing: Vec<&'static str>,
    /// Names found in a module's BTF rather than vmlinux: (name, module).
    pub in_modules: Vec<(&'static str, &'static str)>,
    /// A program the verifier refuses (`EACCES`), writing a log when asked for one.
    pub reject: Option<&'static str>,
    /// Whether `BPF_BTF_LOAD` refuses every BTF (`EINVAL`), as a kernel does that lacks
    /// a BTF kind the object uses.
    pub refuse_btf: bool,
    /// Maps (by kernel name) whose BTF key and value types `BPF_MAP_CREATE` refuses
    /// with `EOPNOTSUPP`, as a kernel does a special field (a `bpf_timer`...) in a
    /// map type that does not support it. (LPM tries with a key that is not a struct
    /// are refused with `EINVAL` whatever this says, as by the kernel.)
    pub refuse_map_btf: Vec<&'static str>,
    /// The bytes of each BTF object loaded, by object.
    pub btf_data: BTreeMap<ObjId, Vec<u8>>,
    /// What [`Backend::wants_verifier_log`] says.
    pub verifier_log: bool,
    /// What [`Backend::binds_maps`] says.
    pub binds_maps: bool,
    /// Programs pinned by someone else, by pin, each with the functions its BTF has
    /// (their ids: `FIRST_BTF_ID` + the index). By default examples/freplace_target's,
    /// where examples/freplace_verdict finds it.
    pub pinned_programs: Vec<(&'static str, Vec<&'static str>)>,
    /// Whether [`Backend::map_arena`] and [`Backend::program_function`] answer as a
    /// module does (it maps no arena and opens no pin) rather than as a process.
    pub as_module: bool,
    /// What the loader reported with [`Backend::warn`].
    pub warnings: Vec<String>,
    /// The bpf(2) command of the call refused by injection, if one was.
    pub injected_cmd: Option<u32>,
    /// Names looked up so far, in order: a name's BTF id is `FIRST_BTF_ID` + its index.
    pub looked_up: Vec<(String, u32)>,
    /// The kernel's own BTF, which lays out struct_ops values
    /// ([`Backend::with_vmlinux_btf`]); `None`: the fake kernel has none to offer.
    pub vmlinux_btf: Option<Vec<u8>>,
    /// Maps shared by name (`Backend::share_map`), each holding a reference as a pin
    /// in libbpf's pin root does.
    pub shared: Vec<(String, ObjId)>,
    /// Each map's definition as created, which `Backend::shared_map` reports.
    pub map_defs: BTreeMap<ObjId, MapDef>,
}

impl Default for Fake {
    fn default() -> Self {
        Self {
            objects: Vec::new(),
            fds: BTreeMap::new(),
            pins: Vec::new(),
            calls: Vec::new(),
            violations: Vec::new(),
            fail_at: 0,
            fallible: 0,
            first_fd: 3,
            missing: vec!["bpf_preload_no_such_kfunc"],
            in_modules: Vec::new(),
            reject: None,
            refuse_btf: false,
            refuse_map_btf: Vec::new(),
            btf_data: BTreeMap::new(),
            verifier_log: false,
            binds_maps: true,
            as_module: false,
            pinned_programs: vec![(FREPLACE_TARGET, vec!["filter", "verdict"])],
            warnings: Vec::new(),
            injected_cmd: None,
            looked_up: Vec::new(),
            vmlinux_btf: None,
            shared: Vec::new(),
            map_defs: BTreeMap::new(),
        }
    }
}

/// Decodes the attr struct `A` from the bytes the loader passed.
fn decode<A: BpfAttr>(attr: &[u8]) -> A {
    assert_eq!(
        attr.len(),
        size_of::<A>(),
        "attr size of {}",
        std::any::type_name::<A>()
    );
    // SAFETY: `BpfAttr` types are repr(C) integers without padding, valid for any bytes,
    // and `attr` holds exactly one (checked above); the read is unaligned-safe.
    unsafe { attr.as_ptr().cast::<A>().read_unaligned() }
}

/// The kind of type `id` in raw BTF, typedefs and modifiers skipped (as the kernel's
/// `btf_type_id_size` resolves a map's key type); `None` for void or a bad id. The
/// fake's own reading, independent of the runtime's reader.
fn resolved_kind(btf: &[u8], mut id: u32) -> Option<u32> {
    let word = |at: usize| Some(u32::from_le_bytes(btf.get(at..at + 4)?.try_into().ok()?));
    let hdr_len = word(4)? as usize;
    let start = hdr_len + word(8)? as usize;
    let end = start + word(12)? as usize;
    let mut offsets = Vec::new();
    let mut at = start;
    while at < end {
        offsets.push(at);
        let info = word(at + 4)?;
        let (kind, vlen) = (abi::btf_info_kind(info), abi::btf_info_vlen(info));
        at += abi::BTF_TYPE_LEN + abi::btf_type_extra_len(kind, vlen)?;
    }
    for _ in 0..32 {
        let at = *offsets.get((id as usize).checked_sub(1)?)?;
        match abi::btf_info_kind(word(at + 4)?) {
            abi::BTF_KIND_TYPEDEF
            | abi::BTF_KIND_VOLATILE
            | abi::BTF_KIND_CONST
            | abi::BTF_KIND_RESTRICT
            | abi::BTF_KIND_TYPE_TAG => id = word(at + 8)?,
            kind => return Some(kind),
        }
    }
    None
}

/// `len` bytes at user pointer `addr`.
///
/// # Safety
/// `addr` must point to `len` readable bytes, as the bpf(2) caller vouches.
unsafe fn bytes_at(addr: u64, len: usize) -> Vec<u8> {
    if len == 0 {
        return Vec::new();
    }
    // SAFETY: per this function's contract.
    unsafe { std::slice::from_raw_parts(addr as *const u8, len) }.to_vec()
}

/// The NUL-terminated string at `addr`.
///
/// # Safety
/// `addr` must point to a NUL-terminated string.
unsafe fn cstr_at(addr: u64) -> String {
    // SAFETY: per this function's contract.
    unsafe { CStr::from_ptr(addr as *const std::ffi::c_char) }
        .to_string_lossy()
        .into_owned()
}

fn name_of(raw: &[u8; abi::BPF_OBJ_NAME_LEN]) -> String {
    let len = raw.iter().position(|&b| b == 0).unwrap_or(raw.len());
    String::from_utf8_lossy(&raw[..len]).into_owned()
}

impl Fake {
    /// A fake kernel that fails fallible call `n` (0: none).
    pub fn failing_at(n: usize) -> Self {
        Self {
            fail_at: n,
            ..Self::default()
        }
    }

    /// Objects still alive: held by an fd, a pin or another live object.
    pub fn alive(&self) -> Vec<String> {
        self.objects
            .iter()
            .filter(|o| o.refs > 0)
            .map(|o| format!("{:?} {}", o.kind, o.name))
            .collect()
    }

    /// The object an fd refers to.
    pub fn object(&self, fd: Fd) -> Option<&KObj> {
        self.fds.get(&fd).map(|&id| &self.objects[id])
    }

    /// Everything left behind, as one message, or `None` if nothing is.
    pub fn leftovers(&self) -> Option<String> {
        let mut out = String::new();
        if !self.fds.is_empty() {
            let open: Vec<_> = self
                .fds
                .iter()
                .map(|(fd, &id)| (fd, &self.objects[id].name))
                .collect();
            let _ = write!(out, "fds open: {open:?}; ");
        }
        if !self.pins.is_empty() {
            let _ = write!(out, "pins: {:?}; ", self.pins);
        }
        if !self.shared.is_empty() {
            let _ = write!(out, "shared: {:?}; ", self.shared);
        }
        let alive = self.alive();
        if !alive.is_empty() {
            let _ = write!(out, "alive: {alive:?}; ");
        }
        if !self.violations.is_empty() {
            let _ = write!(out, "violations: {:?}", self.violations);
        }
        (!out.is_empty()).then_some(out)
    }

    /// Drops every map shared by name, as the runtime's exit or removing the pins does.
    pub fn drop_shared(&mut self) {
        for (_, map) in std::mem::take(&mut self.shared) {
            self.release_user(map);
            self.put(map);
        }
    }

    fn tick(&mut self) -> Result<(), Errno> {
        self.fallible += 1;
        if self.fallible == self.fail_at {
            self.calls.push(Call::Injected);
            Err(Errno::EINTR)
        } else {
            Ok(())
        }
    }

    fn refuse(&mut self, errno: Errno, why: String) -> Errno {
        self.violations.push(why);
        errno
    }

    fn new_object(&mut self, kind: Kind, name: String, holds: Vec<ObjId>) -> Fd {
        for &h in &holds {
            self.objects[h].refs += 1;
        }
        self.objects.push(KObj {
            kind,
            name,
            refs: 0,
            holds,
            slots: BTreeMap::new(),
            values: BTreeMap::new(),
            frozen: false,
        });
        let id = self.objects.len() - 1;
        self.new_fd(id)
    }

    fn new_fd(&mut self, id: ObjId) -> Fd {
        // The lowest free fd, as the kernel's fd table gives.
        let fd = (self.first_fd..)
            .find(|fd| !self.fds.contains_key(fd))
            .expect("a free fd");
        self.fds.insert(fd, id);
        self.objects[id].refs += 1;
        fd
    }

    fn put(&mut self, id: ObjId) {
        let obj = &mut self.objects[id];
        obj.refs -= 1;
        if obj.refs == 0 {
            let held: Vec<ObjId> = obj
                .holds
                .drain(..)
                .chain(std::mem::take(&mut obj.slots).into_values())
                .collect();
            for h in held {
                self.put(h);
            }
        }
    }

    /// As the kernel's `bpf_fd_array_map_clear`: a program array that no fd or pin
    /// refers to any more is emptied, which breaks the cycles tail calls make.
    fn release_user(&mut self, id: ObjId) {
        let prog_array = self.objects[id].kind
            == Kind::Map {
                map_type: abi::BPF_MAP_TYPE_PROG_ARRAY,
                value_size: 4,
            };
        let users = self.fds.values().filter(|&&o| o == id).count()
            + self.pins.iter().filter(|p| p.1 == id).count()
            + self.shared.iter().filter(|s| s.1 == id).count();
        if prog_array && users == 0 {
            for held in std::mem::take(&mut self.objects[id].slots).into_values() {
                self.put(held);
            }
        }
    }

    /// The object behind `fd`, which must be open and satisfy `want`.
    fn fd(&mut self, fd: Fd, what: &str, want: impl Fn(&Kind) -> bool) -> Result<ObjId, Errno> {
        match self.fds.get(&fd) {
            Some(&id) if want(&self.objects[id].kind) => Ok(id),
            Some(&id) => {
                let why = format!(
                    "{what}: fd {fd} is {:?} {}",
                    self.objects[id].kind, self.objects[id].name
                );
                Err(self.refuse(Errno::EINVAL, why))
            }
            None => Err(self.refuse(Errno::EBADF, format!("{what}: fd {fd} is not open"))),
        }
    }

    fn name(&self, id: ObjId) -> String {
        self.objects[id].name.clone()
    }

    fn btf_load(&mut self, attr: &[u8]) -> Result<u32, Errno> {
        let a: abi::BtfLoadAttr = decode(attr);
        // SAFETY: BTF_LOAD's `btf` points to `btf_size` bytes (the bpf(2) contract).
        let btf = unsafe { bytes_at(a.btf, a.btf_size as usize) };
        if btf.get(..2) != Some(&[0x9f, 0xeb]) {
            return Err(self.refuse(Errno::EINVAL, "BTF_LOAD: no BTF magic".into()));
        }
        if self.refuse_btf {
            return Err(Errno::EINVAL);
        }
        self.calls.push(Call::BtfLoad { size: btf.len() });
        let fd = self.new_object(Kind::Btf, "btf".into(), Vec::new());
        self.btf_data.insert(self.fds[&fd], btf);
        Ok(fd)
    }

    fn map_create(&mut self, attr: &[u8]) -> Result<u32, Errno> {
        let a: abi::MapCreateAttr = decode(attr);
        let name = name_of(&a.map_name);
        let map_of_maps = matches!(
            a.map_type,
            abi::BPF_MAP_TYPE_ARRAY_OF_MAPS | abi::BPF_MAP_TYPE_HASH_OF_MAPS
        );
        let inner = match map_of_maps {
            false => None,
            true => Some(self.fd(
                a.inner_map_fd,
                &format!("MAP_CREATE {name}: inner_map_fd"),
                |k| matches!(k, Kind::Map { .. }),
            )?),
        };
        let typed = a.btf_key_type_id != 0 || a.btf_value_type_id != 0;
        let btf = match typed {
            false => None,
            true => Some(
                self.fd(a.btf_fd, &format!("MAP_CREATE {name}: btf_fd"), |k| {
                    *k == Kind::Btf
                })?,
            ),
        };
        if a.max_entries == 0 {
            return Err(self.refuse(Errno::EINVAL, format!("MAP_CREATE {name}: max_entries 0")));
        }
        if let Some(btf) = btf {
            // As the kernel's `trie_check_btf`: an LPM trie's key must be a struct.
            let key_kind = resolved_kind(&self.btf_data[&btf], a.btf_key_type_id);
            if a.map_type == abi::BPF_MAP_TYPE_LPM_TRIE && key_kind != Some(abi::BTF_KIND_STRUCT) {
                self.calls.push(Call::MapRefused {
                    name,
                    errno: Errno::EINVAL,
                });
                return Err(Errno::EINVAL);
            }
            if self.refuse_map_btf.contains(&name.as_str()) {
                self.calls.push(Call::MapRefused {
                    name,
                    errno: Errno::EOPNOTSUPP,
                });
                return Err(Errno::EOPNOTSUPP);
            }
        }
        self.calls.push(Call::MapCreate {
            name: name.clone(),
            map_type: a.map_type,
            key_size: a.key_size,
            value_size: a.value_size,
            max_entries: a.max_entries,
            map_flags: a.map_flags,
            inner: inner.map(|i| self.name(i)),
            btf: btf.is_some(),
            vmlinux_value_type_id: a.btf_vmlinux_value_type_id,
        });
        // A map keeps only its template's shape, not the template.
        let kind = Kind::Map {
            map_type: a.map_type,
            value_size: a.value_size,
        };
        let def = MapDef {
            map_type: a.map_type,
            key_size: a.key_size,
            value_size: a.value_size,
            max_entries: a.max_entries,
            map_flags: a.map_flags,
            map_extra: a.map_extra,
        };
        let fd = self.new_object(kind, name, btf.into_iter().collect());
        self.map_defs.insert(self.fds[&fd], def);
        Ok(fd)
    }

    fn map_update(&mut self, attr: &[u8]) -> Result<u32, Errno> {
        let a: abi::MapElemAttr = decode(attr);
        let map = self.fd(a.map_fd, "MAP_UPDATE_ELEM: map_fd", |k| {
            matches!(k, Kind::Map { .. })
        })?;
        let Kind::Map {
            map_type,
            value_size,
        } = self.objects[map].kind
        else {
            unreachable!()
        };
        let map_name = self.name(map);
        if self.objects[map].frozen {
            return Err(self.refuse(Errno::EPERM, format!("MAP_UPDATE_ELEM {map_name}: frozen")));
        }
        // SAFETY: UPDATE_ELEM reads a key of the map's key size (4 for every map the
        // loader writes) and a value of its value size (the bpf(2) contract).
        let key = unsafe { bytes_at(a.key, 4) };
        let key = u32::from_ne_bytes(key.try_into().unwrap());
        let slot = match map_type {
            abi::BPF_MAP_TYPE_ARRAY_OF_MAPS | abi::BPF_MAP_TYPE_HASH_OF_MAPS => {
                Some(|k: &Kind| matches!(k, Kind::Map { .. }))
            }
            _ => None,
        };
        let prog_slot = map_type == abi::BPF_MAP_TYPE_PROG_ARRAY;
        if slot.is_some() || prog_slot {
            // SAFETY: the value of a map of maps or program array is a 4-byte fd.
            let value = unsafe { bytes_at(a.value, 4) };
            let fd = u32::from_ne_bytes(value.try_into().unwrap());
            let what = format!("MAP_UPDATE_ELEM {map_name}[{key}]");
            let held = if prog_slot {
                self.fd(fd, &what, |k| matches!(k, Kind::Prog { .. }))?
            } else {
                self.fd(fd, &what, |k| matches!(k, Kind::Map { .. }))?
            };
            self.objects[held].refs += 1;
            if let Some(old) = self.objects[map].slots.insert(key, held) {
                self.put(old);
            }
            let value = Value::Holds(self.name(held));
            self.calls.push(Call::MapUpdate {
                map: map_name,
                key,
                value,
            });
        } else {
            // SAFETY: as above.
            let value = unsafe { bytes_at(a.value, value_size as usize) };
            self.objects[map].values.insert(key, value.clone());
            let value = Value::Bytes(value);
            self.calls.push(Call::MapUpdate {
                map: map_name,
                key,
                value,
            });
        }
        Ok(0)
    }

    fn map_freeze(&mut self, attr: &[u8]) -> Result<u32, Errno> {
        let a: abi::MapFreezeAttr = decode(attr);
        let map = self.fd(a.map_fd, "MAP_FREEZE", |k| matches!(k, Kind::Map { .. }))?;
        self.objects[map].frozen = true;
        let map = self.name(map);
        self.calls.push(Call::MapFreeze { map });
        Ok(0)
    }

    /// The fd in `fd_array` entry `index`.
    ///
    /// # Safety
    /// `fd_array` must have more than `index` entries, as the instructions say.
    unsafe fn fd_array_entry(fd_array: u64, index: u32) -> Fd {
        // SAFETY: per this function's contract.
        let raw = unsafe { bytes_at(fd_array + 4 * u64::from(index), 4) };
        i32::from_ne_bytes(raw.try_into().unwrap()) as Fd
    }

    fn prog_load(&mut self, attr: &[u8]) -> Result<u32, Errno> {
        let a: abi::ProgLoadAttr = decode(attr);
        let name = name_of(&a.prog_name);
        // SAFETY: PROG_LOAD reads `insn_cnt` instructions and a NUL-terminated license.
        let (insns, license) = unsafe {
            (
                bytes_at(a.insns, a.insn_cnt as usize * 8),
                cstr_at(a.license),
            )
        };
        if license.is_empty() {
            return Err(self.refuse(Errno::EINVAL, format!("PROG_LOAD {name}: no license")));
        }
        let mut holds = Vec::new();
        let mut fd_array = Vec::new();
        let records = a.func_info_cnt != 0 || a.line_info_cnt != 0 || a.core_relo_cnt != 0;
        let btf = match records {
            false => false,
            true => {
                let fd = a.prog_btf_fd;
                holds.push(self.fd(fd, &format!("PROG_LOAD {name}: prog_btf_fd"), |k| {
                    *k == Kind::Btf
                })?);
                true
            }
        };
        // A module's BTF, or (`attach_prog_fd`, its union) the program an freplace,
        // fentry or fexit program attaches to.
        let takes_program = matches!(
            a.prog_type,
            abi::BPF_PROG_TYPE_EXT | abi::BPF_PROG_TYPE_TRACING
        );
        let attach_btf_obj = match a.attach_btf_obj_fd {
            0 => None,
            fd => {
                let id = self.fd(fd, &format!("PROG_LOAD {name}: attach_btf_obj_fd"), |k| {
                    *k == Kind::ModuleBtf || (takes_program && matches!(k, Kind::Prog { .. }))
                })?;
                holds.push(id);
                Some(self.name(id))
            }
        };
        // Walk the instructions as the verifier does for what they name through
        // `fd_array`: maps by index, module BTF by a kfunc call's `off`.
        let mut i = 0;
        while i < insns.len() / 8 {
            let insn = &insns[i * 8..i * 8 + 8];
            let (code, src) = (insn[0], insn[1] >> 4);
            let off = i16::from_le_bytes([insn[2], insn[3]]);
            let imm = i32::from_le_bytes(insn[4..8].try_into().unwrap());
            let what = format!("PROG_LOAD {name}: insn {i}");
            if code == abi::BPF_LD_IMM64 {
                let imm2 = i32::from_le_bytes(insns[i * 8 + 12..i * 8 + 16].try_into().unwrap());
                match src {
                    abi::BPF_PSEUDO_MAP_IDX | abi::BPF_PSEUDO_MAP_IDX_VALUE => {
                        if a.fd_array == 0 {
                            return Err(self.refuse(
                                Errno::EINVAL,
                                format!("{what}: map index {imm} without fd_array"),
                            ));
                        }
                        // SAFETY: the loader sizes `fd_array` for every index its
                        // instructions use (what this checks is that they resolve).
                        let fd = unsafe { Self::fd_array_entry(a.fd_array, imm as u32) };
                        let map = self.fd(fd, &format!("{what}: fd_array[{imm}]"), |k| {
                            matches!(k, Kind::Map { .. })
                        })?;
                        holds.push(map);
                        fd_array.push((imm as u32, self.name(map)));
                    }
                    abi::BPF_PSEUDO_MAP_FD | abi::BPF_PSEUDO_MAP_VALUE => {
                        return Err(self
                            .refuse(Errno::EINVAL, format!("{what}: a map fd in an instruction")));
                    }
                    abi::BPF_PSEUDO_BTF_ID if imm2 != 0 => {
                        let id = self.fd(imm2 as Fd, &format!("{what}: ksym module BTF"), |k| {
                            *k == Kind::ModuleBtf
                        })?;
                        holds.push(id);
                    }
                    _ => {}
                }
                i += 2;
                continue;
            }
            if code == abi::BPF_JMP_CALL && src == abi::BPF_PSEUDO_KFUNC_CALL && off != 0 {
                // SAFETY: as for map indexes.
                let fd = unsafe { Self::fd_array_entry(a.fd_array, off as u32) };
                let id = self.fd(fd, &format!("{what}: fd_array[{off}]"), |k| {
                    *k == Kind::ModuleBtf
                })?;
                holds.push(id);
                fd_array.push((off as u32, self.name(id)));
            }
            i += 1;
        }
        fd_array.sort();
        fd_array.dedup();
        let log = a.log_level != 0 && a.log_size != 0;
        self.calls.push(Call::ProgLoad {
            name: name.clone(),
            prog_type: a.prog_type,
            expected_attach_type: a.expected_attach_type,
            insns,
            fd_array,
            attach_btf_id: a.attach_btf_id,
            attach_btf_obj,
            btf,
            func_info: a.func_info_cnt,
            log,
        });
        if self.reject.is_some_and(|r| name == r) {
            if log {
                let text = (0..30)
                    .map(|n| format!("verifier line {n}\n"))
                    .collect::<String>();
                let text = format!("{text}\0");
                assert!(text.len() <= a.log_size as usize);
                // SAFETY: `log_buf` is writable for `log_size` bytes (the bpf(2) contract).
                unsafe {
                    std::ptr::copy_nonoverlapping(text.as_ptr(), a.log_buf as *mut u8, text.len())
                };
            }
            return Err(Errno::EACCES);
        }
        let kind = Kind::Prog {
            prog_type: a.prog_type,
        };
        Ok(self.new_object(kind, name, holds))
    }

    fn prog_bind_map(&mut self, attr: &[u8]) -> Result<u32, Errno> {
        let a: abi::ProgBindMapAttr = decode(attr);
        if a.flags != 0 {
            return Err(self.refuse(Errno::EINVAL, format!("PROG_BIND_MAP: flags {}", a.flags)));
        }
        let prog = self.fd(a.prog_fd, "PROG_BIND_MAP: prog_fd", |k| {
            matches!(k, Kind::Prog { .. })
        })?;
        let map = self.fd(a.map_fd, "PROG_BIND_MAP: map_fd", |k| {
            matches!(k, Kind::Map { .. })
        })?;
        // As the kernel: a map the program already uses is not added again.
        if !self.objects[prog].holds.contains(&map) {
            self.objects[map].refs += 1;
            self.objects[prog].holds.push(map);
        }
        self.calls.push(Call::BindMap {
            prog: self.name(prog),
            map: self.name(map),
        });
        Ok(0)
    }

    fn test_run(&mut self, attr: &[u8]) -> Result<u32, Errno> {
        let a: abi::ProgTestRunAttr = decode(attr);
        let prog = self.fd(a.prog_fd, "PROG_TEST_RUN", |k| {
            *k == Kind::Prog {
                prog_type: abi::BPF_PROG_TYPE_SYSCALL,
            }
        })?;
        if a.ctx_size_in != 24 {
            return Err(self.refuse(
                Errno::EINVAL,
                format!("PROG_TEST_RUN: ctx of {} bytes", a.ctx_size_in),
            ));
        }
        // The finder program reads the name from its map's value 0.
        let map = *self.objects[prog]
            .holds
            .iter()
            .find(|&&h| matches!(self.objects[h].kind, Kind::Map { .. }))
            .expect("finder's map");
        let value = self.objects[map]
            .values
            .get(&0)
            .cloned()
            .unwrap_or_default();
        let len = value.iter().position(|&b| b == 0).unwrap_or(value.len());
        let name = String::from_utf8_lossy(&value[..len]).into_owned();
        // SAFETY: `ctx_in` is 24 readable and writable bytes (the bpf(2) contract).
        let ctx = unsafe { std::slice::from_raw_parts_mut(a.ctx_in as *mut i64, 3) };
        let kind = ctx[1] as u32;
        self.calls.push(Call::Lookup {
            name: name.clone(),
            kind,
        });
        let index = match self
            .looked_up
            .iter()
            .position(|l| l.0 == name && l.1 == kind)
        {
            Some(i) => i,
            None => {
                self.looked_up.push((name.clone(), kind));
                self.looked_up.len() - 1
            }
        };
        if self.missing.contains(&name.as_str()) {
            ctx[0] = -i64::from(Errno::ENOENT.0);
        } else if kind == 0 {
            ctx[0] = 0;
            ctx[2] = (KALLSYMS_BASE + index as u64 * 0x10) as i64;
        } else if let Some(&(_, module)) = self.in_modules.iter().find(|m| m.0 == name) {
            // As `bpf_btf_find_by_name_kind`: a new fd for the module's BTF, in the
            // upper half.
            let fd = self.new_object(Kind::ModuleBtf, module.into(), Vec::new());
            ctx[0] = (i64::from(fd) << 32) | i64::from(FIRST_BTF_ID + index as u32);
        } else {
            ctx[0] = i64::from(FIRST_BTF_ID + index as u32);
        }
        Ok(0)
    }

    fn link_create(&mut self, attr: &[u8]) -> Result<u32, Errno> {
        let a: abi::LinkCreateAttr = decode(attr);
        if a.attach_type == abi::BPF_STRUCT_OPS {
            return self.struct_ops_link(&a);
        }
        let prog = self.fd(a.prog_fd, "LINK_CREATE: prog_fd", |k| {
            matches!(k, Kind::Prog { .. })
        })?;
        if a.target_fd != 0 {
            return Err(self.refuse(
                Errno::EINVAL,
                format!("LINK_CREATE: target_fd {}", a.target_fd),
            ));
        }
        let name = self.name(prog);
        self.calls.push(Call::LinkCreate {
            prog: name.clone(),
            attach_type: a.attach_type,
        });
        Ok(self.new_object(Kind::Link, name, vec![prog]))
    }

    /// A struct_ops link: `link_create.map_fd` (in `prog_fd`'s place) names a
    /// `BPF_F_LINK` struct_ops map whose value has been written; the link holds the map.
    fn struct_ops_link(&mut self, a: &abi::LinkCreateAttr) -> Result<u32, Errno> {
        let map = self.fd(a.prog_fd, "LINK_CREATE (struct_ops): map_fd", |k| {
            matches!(k, Kind::Map { map_type, .. } if *map_type == abi::BPF_MAP_TYPE_STRUCT_OPS)
        })?;
        let name = self.name(map);
        if !self.objects[map].values.contains_key(&0) {
            return Err(self.refuse(
                Errno::EINVAL,
                format!("LINK_CREATE (struct_ops) {name}: the map's value is not written"),
            ));
        }
        self.calls.push(Call::LinkCreate {
            prog: name.clone(),
            attach_type: a.attach_type,
        });
        Ok(self.new_object(Kind::Link, name, vec![map]))
    }

    fn raw_tracepoint_open(&mut self, attr: &[u8]) -> Result<u32, Errno> {
        let a: abi::RawTracepointOpenAttr = decode(attr);
        let prog = self.fd(a.prog_fd, "RAW_TRACEPOINT_OPEN: prog_fd", |k| {
            matches!(k, Kind::Prog { .. })
        })?;
        // SAFETY: `name` is 0 or a NUL-terminated string (the bpf(2) contract).
        let tp = (a.name != 0).then(|| unsafe { cstr_at(a.name) });
        let name = self.name(prog);
        self.calls.push(Call::RawTracepointOpen {
            prog: name.clone(),
            name: tp,
        });
        Ok(self.new_object(Kind::Link, name, vec![prog]))
    }
}

impl Bpf for Fake {
    unsafe fn bpf(&mut self, cmd: u32, attr: &mut [u8]) -> Result<u32, Errno> {
        self.tick().inspect_err(|_| self.injected_cmd = Some(cmd))?;
        match cmd {
            abi::BPF_BTF_LOAD => self.btf_load(attr),
            abi::BPF_MAP_CREATE => self.map_create(attr),
            abi::BPF_MAP_UPDATE_ELEM => self.map_update(attr),
            abi::BPF_MAP_FREEZE => self.map_freeze(attr),
            abi::BPF_PROG_LOAD => self.prog_load(attr),
            abi::BPF_PROG_TEST_RUN => self.test_run(attr),
            abi::BPF_PROG_BIND_MAP => self.prog_bind_map(attr),
            abi::BPF_LINK_CREATE => self.link_create(attr),
            abi::BPF_RAW_TRACEPOINT_OPEN => self.raw_tracepoint_open(attr),
            cmd => Err(self.refuse(
                Errno::EINVAL,
                format!("bpf command {cmd}: not one the loader uses"),
            )),
        }
    }
}

impl Backend for Fake {
    type Pin = FakePin;

    fn close(&mut self, fd: Fd) {
        match self.fds.remove(&fd) {
            Some(id) => {
                self.calls.push(Call::Close {
                    object: self.name(id),
                });
                self.release_user(id);
                self.put(id);
            }
            None => self
                .violations
                .push(format!("close of fd {fd}, which is not open")),
        }
    }

    fn attach_tracepoint(&mut self, prog: Fd, category: &str, name: &str) -> Result<Fd, Errno> {
        self.tick()?;
        let prog = self.fd(prog, "attach_tracepoint", |k| {
            matches!(k, Kind::Prog { .. })
        })?;
        let prog_name = self.name(prog);
        self.calls.push(Call::Tracepoint {
            prog: prog_name.clone(),
            tracepoint: format!("{category}/{name}"),
        });
        Ok(self.new_object(Kind::Link, prog_name, vec![prog]))
    }

    fn pin(&mut self, fd: Fd, name: &'static str) -> Result<FakePin, Errno> {
        self.tick()?;
        let obj = self.fd(fd, &format!("pin {name}"), |k| {
            matches!(k, Kind::Map { .. } | Kind::Prog { .. } | Kind::Link)
        })?;
        if self.pins.iter().any(|p| p.0 == name) {
            return Err(self.refuse(Errno::EEXIST, format!("pin {name}: exists")));
        }
        self.objects[obj].refs += 1;
        self.pins.push((name, obj));
        self.calls.push(Call::Pin {
            name: name.into(),
            object: self.name(obj),
        });
        Ok(FakePin { name, obj })
    }

    fn shared_map(&mut self, name: &str) -> Result<Option<(Fd, MapDef)>, Errno> {
        self.tick()?;
        let Some(&(_, id)) = self.shared.iter().find(|(n, _)| n == name) else {
            return Ok(None);
        };
        self.calls.push(Call::Reuse { name: name.into() });
        Ok(Some((self.new_fd(id), self.map_defs[&id])))
    }

    fn share_map(&mut self, fd: Fd, name: &str) -> Result<(), Errno> {
        self.tick()?;
        let map = self.fd(fd, &format!("share {name}"), |k| {
            matches!(k, Kind::Map { .. })
        })?;
        if self.shared.iter().any(|(n, _)| n == name) {
            return Err(self.refuse(Errno::EEXIST, format!("share {name}: exists")));
        }
        self.objects[map].refs += 1;
        self.shared.push((name.into(), map));
        self.calls.push(Call::Share { name: name.into() });
        Ok(())
    }

    fn unshare_map(&mut self, name: &str) {
        match self.shared.iter().position(|(n, _)| n == name) {
            Some(i) => {
                let (_, map) = self.shared.remove(i);
                self.calls.push(Call::Unshare { name: name.into() });
                self.release_user(map);
                self.put(map);
            }
            None => self
                .violations
                .push(format!("unshare of {name}, which is not shared")),
        }
    }

    fn unpin(&mut self, pin: FakePin) {
        match self.pins.iter().position(|p| *p == (pin.name, pin.obj)) {
            Some(i) => {
                self.pins.remove(i);
                self.calls.push(Call::Unpin {
                    name: pin.name.into(),
                });
                self.release_user(pin.obj);
                self.put(pin.obj);
            }
            None => self
                .violations
                .push(format!("unpin of {}, which is not pinned", pin.name)),
        }
    }

    fn with_vmlinux_btf(&mut self, read: &mut dyn FnMut(&[u8])) -> Result<(), Errno> {
        self.tick()?;
        let btf = self.vmlinux_btf.as_deref().ok_or(Errno::ENOENT)?;
        read(btf);
        Ok(())
    }

    fn program_function(&mut self, pin: &str, function: &str) -> Result<(Fd, u32), Errno> {
        self.tick()?;
        if self.as_module {
            return Err(Errno::EOPNOTSUPP);
        }
        self.calls.push(Call::TargetProgram {
            pin: pin.into(),
            function: function.into(),
        });
        let (_, functions) = (self.pinned_programs.iter())
            .find(|(p, _)| *p == pin)
            .ok_or(Errno::ENOENT)?;
        let index = (functions.iter())
            .position(|f| *f == function)
            .ok_or(Errno::ENOENT)?;
        let id = FIRST_BTF_ID + index as u32;
        let kind = Kind::Prog {
            prog_type: abi::BPF_PROG_TYPE_SOCKET_FILTER,
        };
        Ok((self.new_object(kind, pin.into(), Vec::new()), id))
    }

    fn map_arena(
        &mut self,
        fd: Fd,
        map_extra: u64,
        pages: u32,
        data: Option<&[u8]>,
    ) -> Result<(), Errno> {
        self.tick()?;
        if self.as_module {
            return data.map_or(Ok(()), |_| Err(Errno::EOPNOTSUPP));
        }
        let &id = self.fds.get(&fd).ok_or(Errno::EBADF)?;
        let data = data.unwrap_or_default().to_vec();
        self.objects[id].values.insert(0, data.clone());
        let map = self.objects[id].name.clone();
        self.calls.push(Call::MapArena {
            map,
            map_extra,
            pages,
            data,
        });
        Ok(())
    }

    fn possible_cpus(&mut self) -> Result<u32, Errno> {
        self.tick()?;
        self.calls.push(Call::PossibleCpus);
        Ok(CPUS)
    }

    fn kernel_config(&mut self) -> Result<KernelConfig<'_>, Errno> {
        self.tick()?;
        self.calls.push(Call::KernelConfig);
        Ok(KernelConfig {
            text: CONFIG,
            version: VERSION,
        })
    }

    fn wants_verifier_log(&self) -> bool {
        self.verifier_log
    }

    fn binds_maps(&self) -> bool {
        self.binds_maps
    }

    fn warn(&mut self, what: std::fmt::Arguments<'_>) {
        self.warnings.push(what.to_string());
    }
}
