//! The module's life: init loads, holds and registers the object (or, on a stock
//! kernel, offers its iterator links to bpffs), populate pins it into each bpffs
//! instance of a kernel with the preload series, exit releases it.

use core::cell::UnsafeCell;
use core::ffi::{c_int, c_void};

use super::backend::{log, KernelBackend, Level};
use super::ffi;
use super::hold::{Held, HoldError};
use crate::errno::Errno;
use crate::load::load;
use crate::table::Object;

/// Module init and exit never run concurrently; populate calls run only while the
/// object is registered, which is after init stored the slot and before exit takes it.
struct Slot(UnsafeCell<Option<Held>>);

// SAFETY: init writes the slot before registering with the kernel and exit takes it
// after unregistering (which waits for a running populate call); in between only
// populate reads it, never concurrently with itself (the kernel's preload lock).
unsafe impl Sync for Slot {}

static HELD: Slot = Slot(UnsafeCell::new(None));

/// Module init: loads, attaches and holds `object`, and shows it in bpffs. Returns 0
/// or a negative errno, having printed why; on failure nothing is left behind.
/// `kconfig` holds the lines of the kernel's configuration that the object reads.
pub fn init(object: &'static Object, kconfig: &'static str) -> c_int {
    let mut backend = KernelBackend { kconfig };
    let loaded = match load(object, &mut backend) {
        Ok(loaded) => loaded,
        Err(e) => {
            log(Level::Err, format_args!("{e}"));
            return -e.errno.0;
        }
    };
    let held = match Held::take_all(&loaded) {
        Ok(held) => held,
        Err(HoldError { name, errno }) => {
            log(
                Level::Err,
                format_args!(
                    "bpf object `{}`: holding `{name}` failed: {errno}{}; nothing is loaded",
                    object.name,
                    if errno == Errno::EBUSY {
                        " (ftrace is switched off: its BPF trampolines would not run)"
                    } else {
                        ""
                    }
                ),
            );
            loaded.free(&mut backend);
            return -errno.0;
        }
    };
    // The held files keep everything as the fds did; the fds belong to insmod and must go.
    loaded.close_fds(&mut backend);
    let pins = held.pins.len();
    // SAFETY: module init, before registering (see `Slot`).
    unsafe { *HELD.0.get() = Some(held) };

    // SAFETY: the slot is filled, so populate calls may start as soon as this succeeds.
    let ret = unsafe { ffi::bpf_preload_register() };
    if ret == 0 {
        log(
            Level::Info,
            format_args!(
                "registered with the kernel: every bpffs instance gets `{}/` with {pins} pin(s)",
                object.name
            ),
        );
    } else if Errno(-ret) == Errno::EOPNOTSUPP {
        // A stock kernel: no pins, perhaps the two iterator links.
        expose_iterators();
    } else {
        let errno = Errno(-ret);
        if errno == Errno::EPERM {
            log(
                Level::Err,
                format_args!(
                    "the kernel refuses to preload `{}`: it is not on the preload list \
                     (bpf_preload_list= or CONFIG_BPF_PRELOAD_LIST); nothing is loaded",
                    object.name
                ),
            );
        } else {
            log(
                Level::Err,
                format_args!(
                    "registering `{}` with the kernel failed: {errno}; nothing is loaded",
                    object.name
                ),
            );
        }
        // SAFETY: module init; registration failed, so nothing else reads the slot.
        if let Some(held) = unsafe { (*HELD.0.get()).take() } {
            held.release_all();
        }
        return ret;
    }
    log(
        Level::Info,
        format_args!(
            "loaded `{}`: {} programs, {} maps, {} links{}",
            object.name,
            object.programs.len(),
            object.maps.len(),
            object.links.len(),
            if object.protect {
                "; protected by the guard (BPF LSM: no fd of them for user space)"
            } else {
                ""
            }
        ),
    );
    0
}

/// Stock profile: offers the object's two pinned iterator links to every bpffs
/// mount, if it has exactly two; everything else is held without pins.
fn expose_iterators() {
    // SAFETY: module init, after the slot was filled; nothing else uses it yet.
    let Some(held) = (unsafe { (*HELD.0.get()).as_ref() }) else {
        return;
    };
    let mut iterators = held.pins.iter().filter(|p| p.iterator);
    let mut exposed = 0;
    if let (Some(a), Some(b), None) = (iterators.next(), iterators.next(), iterators.next()) {
        // SAFETY: the names are NUL-terminated (the shim copies them) and the links
        // are held until exit, which releases the hook first.
        let ret = unsafe {
            ffi::bpf_preload_expose(
                a.c_name.as_ptr().cast(),
                a.object,
                b.c_name.as_ptr().cast(),
                b.object,
            )
        };
        if ret == 0 {
            exposed = 2;
            log(
                Level::Info,
                format_args!("every bpffs mount shows `{}` and `{}`", a.name, b.name),
            );
        } else {
            log(
                Level::Warning,
                format_args!(
                    "cannot expose `{}` and `{}` in bpffs ({}): holding them",
                    a.name,
                    b.name,
                    Errno(-ret)
                ),
            );
        }
    }
    let unexposed = held.pins.len() - exposed;
    if unexposed > 0 {
        log(
            Level::Info,
            format_args!(
                "this kernel cannot pin from a module: holding {unexposed} object(s) without pins"
            ),
        );
    }
}

/// With the preload series: pins everything the object asks for into `dir`, a new directory of
/// a bpffs instance. The first error stops it; the kernel then removes the directory
/// with whatever was pinned into it.
///
/// # Safety
///
/// `dir` is the directory the kernel passed to the shim's `preload()`, for the
/// duration of that call.
pub unsafe fn populate(dir: *mut c_void) -> c_int {
    // SAFETY: called by the kernel only while registered (see `Slot`).
    let Some(held) = (unsafe { (*HELD.0.get()).as_ref() }) else {
        return -Errno::ENOENT.0;
    };
    for pin in &held.pins {
        // SAFETY: `dir` is the kernel's bpffs directory for this call; the name is
        // NUL-terminated; the object is held (the pin takes its own reference).
        let ret =
            unsafe { ffi::bpf_preload_pin(dir, pin.c_name.as_ptr().cast(), pin.object, pin.kind) };
        if ret < 0 {
            log(
                Level::Err,
                format_args!("pinning `{}` failed: {}", pin.name, Errno(-ret)),
            );
            return ret;
        }
    }
    0
}

/// Module exit (`--unloadable` modules only), after the shim unregistered and
/// released the hook: detaches and frees everything.
pub fn exit() {
    // SAFETY: module exit, after unregistering (see `Slot`).
    if let Some(held) = unsafe { (*HELD.0.get()).take() } {
        held.release_all();
    }
}

/// Module exit of a permanent module, which only `rmmod -f` reaches: everything
/// stays attached and held, by references nothing will drop; only the module's own
/// bookkeeping of them is freed.
pub fn abandon() {
    // SAFETY: module exit, after unregistering (see `Slot`).
    if let Some(held) = unsafe { (*HELD.0.get()).take() } {
        held.abandon();
    }
}

/// Defines the module's entry points for the object of type `$ty`.
#[macro_export]
macro_rules! kernel_module {
    ($ty:ty) => {
        $crate::kernel_module!($ty, kconfig = "");
    };
    // `kconfig`: the configuration of the kernel the module is built for (its
    // `include/config/auto.conf`); only the lines the object reads are kept.
    ($ty:ty, kconfig = $kconfig:expr) => {
        const _: () = {
            const OBJECT: &$crate::Object = <$ty as $crate::Preload>::OBJECT;
            // A whole kernel configuration takes a few million steps to filter.
            #[allow(long_running_const_eval)]
            const LEN: usize = $crate::__private::kconfig_filter::<0>(OBJECT, $kconfig).1;
            #[allow(long_running_const_eval)]
            static KCONFIG: ([u8; LEN], usize) =
                $crate::__private::kconfig_filter::<LEN>(OBJECT, $kconfig);

            #[unsafe(no_mangle)]
            pub extern "C" fn bpf_preload_rust_init() -> ::core::ffi::c_int {
                // Kconfig lines are ASCII, cut at line ends.
                let kconfig = ::core::str::from_utf8(&KCONFIG.0).unwrap_or("");
                $crate::kernel::init(OBJECT, kconfig)
            }
        };

        #[unsafe(no_mangle)]
        pub extern "C" fn bpf_preload_rust_exit() {
            $crate::kernel::exit()
        }

        #[unsafe(no_mangle)]
        pub extern "C" fn bpf_preload_rust_abandon() {
            $crate::kernel::abandon()
        }

        #[unsafe(no_mangle)]
        pub extern "C" fn bpf_preload_rust_populate(
            dir: *mut ::core::ffi::c_void,
        ) -> ::core::ffi::c_int {
            // SAFETY: called by the shim's preload() with the kernel's directory.
            unsafe { $crate::kernel::populate(dir) }
        }
    };
}
