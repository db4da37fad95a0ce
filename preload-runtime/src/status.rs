//! What the runtime module holds, as the rows of its status map (`preload_status`,
//! in `status/status.bpf.c`, which the runtime loads at its init): one row for each
//! program and each map of every object it holds, keyed by the kernel's id of it.
//! The runtime writes an object's rows when it has loaded the object and deletes
//! them when it releases it (`kernel/status.rs`); two BPF iterators of the same
//! object show them beside the kernel's own view (`preload.progs`,
//! `preload.maps` in every bpffs mount of a stock kernel), and [`read`] gives them to
//! `cargo bpf-preload status`, checked against the kernel by id.
//!
//! The rows say what the runtime recorded; whether it is still there and attached
//! is the kernel's to say, which is why [`read`] asks it for every id. root can
//! write the map (it is not a policy), so the rows are a report, not a proof.

use crate::bpf_preload;
use crate::table::{Object, Preload};

/// The status object: two iterators over the kernel's programs and maps, which show
/// those with a row in `preload_status`. On a stock kernel the runtime offers their
/// links to every bpffs mount, as [`VIEWS`].
#[bpf_preload(
    obj = "../status/status.bpf.o",
    name = "bpf_preload_status",
    no_pin(preload_status),
    pin_as(status_progs = "preload.progs", status_maps = "preload.maps")
)]
pub struct Status;

/// The status object's table, which the runtime module loads at its init.
pub const STATUS: &Object = <Status as Preload>::OBJECT;

/// The files of the status view at the root of every bpffs mount of a stock kernel,
/// while no object module offers its own: `STATUS`'s pins.
pub const VIEWS: [&str; 2] = ["preload.maps", "preload.progs"];

/// The kernel name of the status map.
pub const STATUS_MAP: &str = "preload_status";

/// A key's kind: a program (the kernel's `BPF_TYPE_PROG`).
pub const KIND_PROGRAM: u32 = 1;
/// A key's kind: a map (`BPF_TYPE_MAP`).
pub const KIND_MAP: u32 = 2;

/// A row's flag: the object is protected by the guard (`protect`).
pub const FLAG_PROTECTED: u32 = 1;
/// A row's flag: the object's module was removed by force; the runtime holds it until
/// shutdown.
pub const FLAG_ABANDONED: u32 = 2;
/// A row's flag: a map shared by name (`LIBBPF_PIN_BY_NAME`), which the runtime's
/// registry holds until the runtime is removed, whichever objects still declare it.
/// Its row names the object that created it, under the runtime's own module.
pub const FLAG_SHARED: u32 = 4;

/// The key of a row: `struct status_key` of status.bpf.c.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct StatusKey {
    /// [`KIND_PROGRAM`] or [`KIND_MAP`].
    pub kind: u32,
    /// The kernel's id of the program or map.
    pub id: u32,
}

/// A row: `struct status_row` of status.bpf.c. Strings are NUL-padded and cut to fit.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StatusRow {
    /// The object module (at most `MODULE_NAME_LEN` - 1 bytes).
    pub module: [u8; 56],
    /// The object's name.
    pub object: [u8; 64],
    /// The program's or map's name in the object.
    pub name: [u8; 64],
    /// A program's section, which says where it attaches.
    pub attach: [u8; 64],
    /// The id of the link attaching a program, or 0.
    pub link_id: u32,
    /// `FLAG_*`.
    pub flags: u32,
}

impl Default for StatusRow {
    fn default() -> Self {
        Self {
            module: [0; 56],
            object: [0; 64],
            name: [0; 64],
            attach: [0; 64],
            link_id: 0,
            flags: 0,
        }
    }
}

// SAFETY: repr(C), two u32s, no padding: any bytes are a valid value.
unsafe impl crate::abi::Pod for StatusKey {}
// SAFETY: repr(C), byte arrays and two u32s at 4-aligned offsets (248, 252), no
// padding: any bytes are a valid value.
unsafe impl crate::abi::Pod for StatusRow {}

/// `s` cut to fit `N - 1` bytes at a character boundary, NUL-padded.
fn field<const N: usize>(s: &str) -> [u8; N] {
    let mut out = [0; N];
    let mut end = s.len().min(N - 1);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    out[..end].copy_from_slice(&s.as_bytes()[..end]);
    out
}

/// The text of a NUL-padded field.
fn text(bytes: &[u8]) -> &str {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    core::str::from_utf8(&bytes[..end]).unwrap_or("?")
}

impl StatusRow {
    /// A row for `name` of `object` in `module`.
    pub fn new(
        module: &str,
        object: &str,
        name: &str,
        attach: &str,
        link_id: u32,
        flags: u32,
    ) -> Self {
        Self {
            module: field(module),
            object: field(object),
            name: field(name),
            attach: field(attach),
            link_id,
            flags,
        }
    }

    /// The object module.
    pub fn module(&self) -> &str {
        text(&self.module)
    }

    /// The object.
    pub fn object(&self) -> &str {
        text(&self.object)
    }

    /// The program's or map's name.
    pub fn name(&self) -> &str {
        text(&self.name)
    }

    /// A program's section.
    pub fn attach(&self) -> &str {
        text(&self.attach)
    }
}

/// The bytes of a `Pod` value, as bpf(2) reads them.
#[cfg(any(feature = "std", feature = "kernel"))]
pub(crate) fn bytes_of<T: crate::abi::Pod>(v: &T) -> &[u8] {
    // SAFETY: `Pod` types are repr(C) without padding: every byte is initialised.
    unsafe { core::slice::from_raw_parts((v as *const T).cast::<u8>(), core::mem::size_of::<T>()) }
}

/// The bytes of a `Pod` value, for bpf(2) to write.
#[cfg(feature = "std")]
fn bytes_of_mut<T: crate::abi::Pod>(v: &mut T) -> &mut [u8] {
    // SAFETY: as `bytes_of`; and any bytes written make a valid `T` (`Pod`).
    unsafe {
        core::slice::from_raw_parts_mut((v as *mut T).cast::<u8>(), core::mem::size_of::<T>())
    }
}

#[cfg(feature = "std")]
pub use reader::{read, Held, Kernel};

#[cfg(feature = "std")]
mod reader {
    use std::format;
    use std::os::fd::{FromRawFd, OwnedFd};
    use std::string::{String, ToString};
    use std::vec::Vec;

    use super::*;
    use crate::abi::{LinkInfo, MapInfo, ProgInfo};
    use crate::errno::Errno;
    use crate::sys::{self, MapFd, ObjectKind};
    use crate::user::UserBackend;

    /// What the kernel says of a program, map or link the runtime holds.
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub enum Kernel {
        /// It exists; its kernel name.
        Present(String),
        /// The kernel has no such id: it is gone.
        Gone,
        /// The kernel refuses user space an fd of it: the guard of a protected
        /// object (EPERM, EACCES).
        Refused(Errno),
    }

    /// One row and what the kernel says of it.
    #[derive(Clone, Debug)]
    pub struct Held {
        /// The key: kind and kernel id.
        pub key: StatusKey,
        /// What the runtime recorded.
        pub row: StatusRow,
        /// The kernel's view of the program or map.
        pub kernel: Kernel,
        /// A program's link: what the kernel says of it and whether it runs this
        /// program (`None` without a link).
        pub link: Option<(Kernel, bool)>,
    }

    /// Asks the kernel for an fd by id and its info.
    fn ask<T: crate::abi::Pod>(
        backend: &mut UserBackend,
        kind: ObjectKind,
        id: u32,
        name: impl Fn(&T) -> String,
    ) -> (Kernel, Option<T>) {
        match backend.fd_by_id(kind, id) {
            Ok(fd) => {
                // SAFETY: a new fd of ours, closed once, here.
                let owned = unsafe { OwnedFd::from_raw_fd(fd as i32) };
                let info = backend.info_by_fd::<T>(fd);
                drop(owned);
                match info {
                    Ok(info) => (Kernel::Present(name(&info)), Some(info)),
                    Err(e) => (Kernel::Refused(e), None),
                }
            }
            Err(Errno::ENOENT) => (Kernel::Gone, None),
            Err(e) => (Kernel::Refused(e), None),
        }
    }

    fn c_name(bytes: &[u8]) -> String {
        text(bytes).to_string()
    }

    /// The runtime's status map: the map of that name and shape. `None` if the
    /// runtime is not loaded.
    fn find(backend: &mut UserBackend) -> Result<Option<OwnedFd>, Errno> {
        for id in backend.ids(ObjectKind::Map)? {
            let Ok(fd) = backend.fd_by_id(ObjectKind::Map, id) else {
                continue;
            };
            // SAFETY: a new fd of ours, closed once (dropped) or returned.
            let owned = unsafe { OwnedFd::from_raw_fd(fd as i32) };
            let Ok(info) = backend.info_by_fd::<MapInfo>(fd) else {
                continue;
            };
            if c_name(&info.name) == STATUS_MAP
                && info.type_ == crate::abi::BPF_MAP_TYPE_HASH
                && info.key_size as usize == core::mem::size_of::<StatusKey>()
                && info.value_size as usize == core::mem::size_of::<StatusRow>()
            {
                return Ok(Some(owned));
            }
        }
        Ok(None)
    }

    /// Everything the runtime module says it holds, each checked against the
    /// kernel, ordered by module, object, kind and id; `None` if the runtime is not
    /// loaded. Needs root (`CAP_SYS_ADMIN`, for fds by id).
    pub fn read() -> Result<Option<Vec<Held>>, Errno> {
        let mut backend = UserBackend::new("/");
        let Some(map) = find(&mut backend)? else {
            return Ok(None);
        };
        let fd = std::os::fd::AsRawFd::as_raw_fd(&map) as u32;
        let map = MapFd::of(
            fd,
            core::mem::size_of::<StatusKey>() as u32,
            core::mem::size_of::<StatusRow>() as u32,
        );
        let mut rows = Vec::new();
        let mut key: Option<StatusKey> = None;
        loop {
            let mut next = StatusKey::default();
            match sys::map_next_key(
                &mut backend,
                &map,
                key.as_ref().map(bytes_of),
                bytes_of_mut(&mut next),
            ) {
                Ok(()) => {}
                Err(Errno::ENOENT) => break,
                Err(e) => return Err(e),
            }
            let mut row = StatusRow::default();
            // A row deleted meanwhile (its object released) is skipped.
            match sys::map_lookup(&mut backend, &map, bytes_of(&next), bytes_of_mut(&mut row)) {
                Ok(()) => rows.push((next, row)),
                Err(Errno::ENOENT) => {}
                Err(e) => return Err(e),
            }
            key = Some(next);
        }
        let mut held: Vec<Held> = rows
            .into_iter()
            .map(|(key, row)| {
                let (kernel, link) = if key.kind == KIND_PROGRAM {
                    let (kernel, _) =
                        ask::<ProgInfo>(&mut backend, ObjectKind::Program, key.id, |i| {
                            c_name(&i.name)
                        });
                    let link = (row.link_id != 0).then(|| {
                        let (state, info) =
                            ask::<LinkInfo>(&mut backend, ObjectKind::Link, row.link_id, |i| {
                                format!("link {}", i.id)
                            });
                        (state, info.is_some_and(|i| i.prog_id == key.id))
                    });
                    (kernel, link)
                } else {
                    let (kernel, _) =
                        ask::<MapInfo>(&mut backend, ObjectKind::Map, key.id, |i| c_name(&i.name));
                    (kernel, None)
                };
                Held {
                    key,
                    row,
                    kernel,
                    link,
                }
            })
            .collect();
        held.sort_by(|a, b| {
            (a.row.module(), a.row.object(), a.key).cmp(&(b.row.module(), b.row.object(), b.key))
        });
        Ok(Some(held))
    }
}

#[cfg(feature = "std")]
mod report {
    use std::fmt::Write;
    use std::format;
    use std::string::String;
    use std::vec::Vec;

    use super::reader::{Held, Kernel};
    use super::*;

    impl core::fmt::Display for Kernel {
        fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
            // Padded as a column: the report aligns it.
            match self {
                Kernel::Present(name) => f.pad(name),
                Kernel::Gone => f.pad("gone from the kernel"),
                Kernel::Refused(e) => f.pad(&format!("no fd for user space ({e})")),
            }
        }
    }

    /// What a program's link says of it.
    fn attached(held: &Held) -> String {
        match &held.link {
            None => "not attached".into(),
            Some((Kernel::Present(_), true)) => format!("attached (link {})", held.row.link_id),
            Some((Kernel::Present(_), false)) => {
                format!("link {} runs another program", held.row.link_id)
            }
            Some((Kernel::Gone, _)) => format!("DETACHED: link {} is gone", held.row.link_id),
            Some((state @ Kernel::Refused(_), _)) => {
                format!("link {}: {state}", held.row.link_id)
            }
        }
    }

    /// The rows of [`super::read`] as `cargo bpf-preload status` prints them: each
    /// object under its module, with its programs (kernel id, kernel name, attach
    /// point, link) and maps (kernel id, kernel name).
    pub fn report(held: &[Held]) -> String {
        let mut out = String::new();
        let mut objects: Vec<(&str, &str, u32)> = Vec::new();
        for h in held {
            let this = (h.row.module(), h.row.object(), h.row.flags);
            if objects
                .last()
                .is_none_or(|o| (o.0, o.1) != (this.0, this.1))
            {
                objects.push(this);
            }
        }
        // The maps shared by name are grouped by the object that created them, under
        // the runtime, which holds them: not an object of a module.
        let own = || objects.iter().filter(|o| o.2 & FLAG_SHARED == 0);
        let modules = {
            let mut m: Vec<&str> = own().map(|o| o.0).collect();
            m.dedup();
            m.len()
        };
        let shared = held
            .iter()
            .filter(|h| h.row.flags & FLAG_SHARED != 0)
            .count();
        let _ = write!(
            out,
            "bpf_preload_runtime holds {} object(s) of {} module(s)",
            own().count(),
            modules
        );
        let _ = match shared {
            0 => writeln!(out),
            n => writeln!(out, " and {n} map(s) shared by name"),
        };
        for (module, object, flags) in objects {
            let mut state = Vec::new();
            if flags & FLAG_PROTECTED != 0 {
                state.push("protected");
            }
            if flags & FLAG_ABANDONED != 0 {
                state.push("abandoned: its module was removed by force");
            }
            if flags & FLAG_SHARED != 0 {
                state.push("its maps shared by name, held by the runtime until it is removed");
            }
            let state = if state.is_empty() {
                String::new()
            } else {
                format!(" ({})", state.join(", "))
            };
            let _ = writeln!(out, "\n{module}: object {object}{state}");
            for h in held
                .iter()
                .filter(|h| (h.row.module(), h.row.object()) == (module, object))
            {
                if h.key.kind == KIND_PROGRAM {
                    let _ = writeln!(
                        out,
                        "  program {:<24} id {:<6} {:<16} {:<24} {}",
                        h.row.name(),
                        h.key.id,
                        h.kernel,
                        h.row.attach(),
                        attached(h)
                    );
                } else {
                    let _ = writeln!(
                        out,
                        "  map     {:<24} id {:<6} {}",
                        h.row.name(),
                        h.key.id,
                        h.kernel
                    );
                }
            }
        }
        out
    }
}

#[cfg(feature = "std")]
pub use report::report;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_have_the_layout_of_status_bpf_c() {
        // struct status_key and struct status_row, as the object declares its map.
        let map = STATUS.maps.iter().find(|m| m.name == STATUS_MAP).unwrap();
        assert_eq!(map.key_size as usize, core::mem::size_of::<StatusKey>());
        assert_eq!(map.value_size as usize, core::mem::size_of::<StatusRow>());
        assert_eq!(core::mem::offset_of!(StatusRow, link_id), 248);
    }

    #[test]
    fn the_views_are_the_pins_of_the_status_object() {
        let pins: alloc::vec::Vec<&str> = STATUS
            .links
            .iter()
            .filter_map(|l| l.pin.map(|p| p.as_str()))
            .collect();
        assert_eq!(pins, VIEWS);
        assert!(STATUS.maps.iter().all(|m| m.pin.is_none()));
    }

    #[test]
    fn fields_are_cut_at_a_character_boundary_and_padded() {
        let row = StatusRow::new("m", &"é".repeat(40), "x", "lsm/path_mkdir", 7, 0);
        assert_eq!(row.module(), "m");
        assert_eq!(row.object(), "é".repeat(31));
        assert_eq!(row.object[62..], [0, 0]);
        assert_eq!(row.attach(), "lsm/path_mkdir");
    }

    #[cfg(feature = "std")]
    #[test]
    fn the_report_says_what_the_kernel_says_of_each_link() {
        use super::reader::{Held, Kernel};
        let program = |id, link_id, link| Held {
            key: StatusKey {
                kind: KIND_PROGRAM,
                id,
            },
            row: StatusRow::new(
                "guard",
                "guard",
                "p",
                "lsm/path_mkdir",
                link_id,
                FLAG_PROTECTED,
            ),
            kernel: Kernel::Present("p".into()),
            link,
        };
        let held = [
            program(7, 3, Some((Kernel::Present("link 3".into()), true))),
            program(8, 4, Some((Kernel::Gone, false))),
            program(9, 5, Some((Kernel::Refused(crate::Errno::EPERM), false))),
            program(10, 0, None),
        ];
        let report = report(&held);
        let lines: alloc::vec::Vec<&str> = report.lines().collect();
        assert_eq!(
            lines[0],
            "bpf_preload_runtime holds 1 object(s) of 1 module(s)"
        );
        assert_eq!(lines[2], "guard: object guard (protected)");
        assert!(lines[3].ends_with("attached (link 3)"), "{}", lines[3]);
        assert!(
            lines[4].ends_with("DETACHED: link 4 is gone"),
            "{}",
            lines[4]
        );
        assert!(
            lines[5].ends_with("link 5: no fd for user space (EPERM (Operation not permitted))"),
            "{}",
            lines[5]
        );
        assert!(lines[6].ends_with("not attached"), "{}", lines[6]);
    }

    #[cfg(feature = "std")]
    #[test]
    fn maps_shared_by_name_are_the_runtimes_not_an_objects() {
        use super::reader::{Held, Kernel};
        let map = |id, module, object, flags| Held {
            key: StatusKey { kind: KIND_MAP, id },
            row: StatusRow::new(module, object, "m", "", 0, flags),
            kernel: Kernel::Present("m".into()),
            link: None,
        };
        let held = [
            map(4, "bpf_preload_runtime", "writer", FLAG_SHARED),
            map(5, "reader", "reader", 0),
        ];
        let report = report(&held);
        let lines: alloc::vec::Vec<&str> = report.lines().collect();
        assert_eq!(
            lines[0],
            "bpf_preload_runtime holds 1 object(s) of 1 module(s) and 1 map(s) shared by name"
        );
        assert_eq!(
            lines[2],
            "bpf_preload_runtime: object writer (its maps shared by name, held by the runtime \
             until it is removed)"
        );
    }
}
