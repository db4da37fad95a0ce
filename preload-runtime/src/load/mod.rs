//! The generic loader: one code path for every object and every backend, a flat list
//! of steps (see [`run`]), each in a module of its own, and the rollback in one place
//! ([`load`]): a failed step leaves what was made in [`Loaded`], which frees it.

mod btf;
mod externs;
pub(crate) mod finder;
mod guard;
mod links;
mod maps;
mod pins;
mod programs;
mod struct_ops;

use crate::backend::Backend;
use crate::error::{Error, Failed};
use crate::loaded::Loaded;
use crate::params::Params;
use crate::table::{Freeze, Object};

pub use guard::Guard;

/// Loads, attaches and pins `object`. On failure nothing is left behind.
pub fn load<B: Backend>(object: &'static Object, backend: &mut B) -> Result<Loaded<B::Pin>, Error> {
    load_with(&Params::new(object), backend)
}

/// Loads, attaches and pins the object of `params` with the values given to its
/// parameters. On failure nothing is left behind.
pub fn load_with<B: Backend>(params: &Params, backend: &mut B) -> Result<Loaded<B::Pin>, Error> {
    let object = params.object();
    let mut loaded = Loaded::new(object);
    // `object.protect`, read from the argument rather than from `loaded`, is a constant
    // where a module loads its static table: the compiler then drops the guard, its
    // code and its object (30 KB of a module), from every object that does not ask for it.
    let guarded = |loaded: &mut Loaded<B::Pin>, backend: &mut B| match object.protect {
        true => guard::load(loaded, backend),
        false => Ok(()),
    };
    match run(&mut loaded, params, backend).and_then(|()| guarded(&mut loaded, backend)) {
        Ok(()) => Ok(loaded),
        Err(failed) => {
            loaded.unshare(backend);
            loaded.free(backend);
            Err(failed.of(object.name.as_str()))
        }
    }
}

/// The steps, in order, as libbpf's `bpf_object__load` takes them. Each records what
/// it makes in `loaded` as soon as it is made.
fn run<B: Backend>(
    loaded: &mut Loaded<B::Pin>,
    params: &Params,
    backend: &mut B,
) -> Result<(), Failed> {
    btf::load(loaded, backend)?;
    // struct_ops values laid out as the running kernel's BTF says.
    let struct_ops = struct_ops::translate(loaded.object(), backend)?;
    // Created, then initialised from the object or the kernel's configuration, and
    // `.rodata` and `.kconfig` frozen, one map at a time; the values given to
    // parameters are in the initial values.
    maps::create(loaded, &struct_ops, params, backend)?;
    // Maps of maps hold maps that now all exist.
    maps::fill_slots(loaded, maps::Holding::Maps, backend)?;
    // Attach targets and externs resolved in the running kernel, extern slots written
    // into a copy of the instructions, loaded with `fd_array` and kernel-side CO-RE.
    programs::load(loaded, &struct_ops, backend)?;
    // Every program holds `.rodata` (BPF_PROG_BIND_MAP), whether it reads it or not,
    // as libbpf binds it after each load; a refusal is a warning, as in libbpf.
    programs::bind_rodata(loaded, backend);
    // Program arrays hold programs that now all exist.
    maps::fill_slots(loaded, maps::Holding::Programs, backend)?;
    struct_ops::register(loaded, struct_ops, backend)?;
    // Everything the loader writes is written: `freeze(...)` maps are final for
    // syscalls from here on.
    maps::freeze(loaded, Freeze::Loaded, backend)?;
    links::attach(loaded, backend)?;
    pins::pin(loaded, backend)
}
