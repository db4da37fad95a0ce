//! Step: pin what the table pins, with a backend that pins while it loads (a process;
//! a module pins later, into every bpffs instance the kernel creates).

use alloc::vec::Vec;

use crate::backend::Backend;
use crate::errno::Errno;
use crate::error::{at, Failed, Step};
use crate::loaded::Loaded;
use crate::sys::Fd;

/// Pins every pin the table asks for, in [`Loaded::wanted_pins`]'s order.
pub(super) fn pin<B: Backend>(loaded: &mut Loaded<B::Pin>, backend: &mut B) -> Result<(), Failed> {
    if !backend.pins_at_load() {
        return Ok(());
    }
    let wanted: Vec<(&'static str, Fd)> = collect(loaded.wanted_pins().map(|(n, p)| (n, p.fd())))?;
    pin_all(loaded, wanted, backend)
}

/// With a backend whose pins outlive the holder, pins the guard's links beside the
/// object's pins (if it has any), so that `kill -9` of the holder leaves the guard
/// attached for as long as the object's pins keep the object: its links hold its
/// programs, which hold its map. Named after their programs (`guard_bpf`, ...).
pub(super) fn pin_guard<B: Backend>(
    guard: &mut Loaded<B::Pin>,
    backend: &mut B,
) -> Result<(), Failed> {
    let programs = guard.object().programs;
    let wanted = collect(
        guard
            .links()
            .map(|(l, fd)| (programs[l.program].name.as_str(), fd)),
    )?;
    pin_all(guard, wanted, backend)
}

/// The pins to make, `ENOMEM` if there is no room for them.
fn collect(
    wanted: impl Iterator<Item = (&'static str, Fd)>,
) -> Result<Vec<(&'static str, Fd)>, Failed> {
    let mut out = Vec::new();
    for (name, fd) in wanted {
        (out.try_reserve(1)).map_err(|_| Step::Pin { name }.failed(Errno::ENOMEM))?;
        out.push((name, fd));
    }
    Ok(out)
}

fn pin_all<B: Backend>(
    loaded: &mut Loaded<B::Pin>,
    wanted: Vec<(&'static str, Fd)>,
    backend: &mut B,
) -> Result<(), Failed> {
    for (name, fd) in wanted {
        // Room first, so that a pin made is always recorded (and undone on failure).
        (loaded.pins.try_reserve(1)).map_err(|_| Step::Pin { name }.failed(Errno::ENOMEM))?;
        let pin = backend.pin(fd, name).map_err(at(Step::Pin { name }))?;
        loaded.pins.push(pin);
    }
    Ok(())
}
