//! Step: attach every program the table links, in the table's order.

use crate::backend::Backend;
use crate::errno::Errno;
use crate::error::{at, Failed, Step};
use crate::loaded::Loaded;
use crate::sys;
use crate::table::Attach;

/// Creates the link of every entry of the table's links.
pub(super) fn attach<B: Backend>(
    loaded: &mut Loaded<B::Pin>,
    backend: &mut B,
) -> Result<(), Failed> {
    let object = loaded.object();
    for link in object.links {
        let (prog, prog_fd) = loaded.programs[link.program];
        let step = Step::Attach {
            program: prog.name.as_str(),
        };
        (loaded.links.try_reserve(1)).map_err(|_| step.failed(Errno::ENOMEM))?;
        let fd = match link.attach {
            Attach::LinkCreate => sys::link_create(backend, prog_fd, 0, prog.expected_attach_type),
            Attach::RawTracepoint(name) => {
                sys::raw_tracepoint_open(backend, prog_fd, name.map(|n| n.as_c_str()))
            }
            Attach::Tracepoint(tp) => {
                backend.attach_tracepoint(prog_fd, tp.category.as_str(), tp.name.as_str())
            }
        }
        .map_err(at(step))?;
        loaded.links.push((link, fd));
    }
    Ok(())
}
