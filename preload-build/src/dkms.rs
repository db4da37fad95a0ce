//! DKMS source trees, so that `dkms build` needs only the kernel's headers and its C
//! compiler, and no Rust, and DKMS rebuilds both modules for every kernel installed
//! later (`AUTOINSTALL`), signing them with its own MOK key where it is set up to:
//!
//! - `bpf-preload-runtime-<version>/`: the runtime module, runtime.c and a Kbuild,
//!   with the loader's Rust part prebuilt as `<flags>.o_shipped`, one per set of
//!   code-generation flags; it keeps each kernel's `Module.symvers` beside the
//!   module it built;
//! - `<name>-<version>/`: the object module, object.c and the table (data, one
//!   `table-data.o_shipped` for every kernel), built after the runtime
//!   (`BUILD_DEPENDS`) against its `Module.symvers`, with the kernel's own values of
//!   the options its `.kconfig` externs read and its module parameters (`params.h`).

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{ensure, Context, Result};

use crate::kernel::{Codegen, KernelTree};
use crate::module::{self, KernelSources};
use crate::package::Crate;
use crate::tools::{fill, write_if_changed};

const RUNTIME_CONF: &str = include_str!("../templates/dkms/runtime.conf");
const RUNTIME_KBUILD_PREFIX: &str = include_str!("../templates/dkms/runtime.Kbuild");
const KEEP_SYMVERS: &str = include_str!("../templates/dkms/keep-symvers.sh");
const OBJECT_CONF: &str = include_str!("../templates/dkms/object.conf");
const OBJECT_KBUILD_PREFIX: &str = include_str!("../templates/dkms/object.Kbuild");

/// DKMS's name of the runtime's package.
pub const RUNTIME_PACKAGE: &str = "bpf-preload-runtime";

/// One DKMS tree made by [`trees`].
#[derive(Debug, Clone)]
pub struct Tree {
    /// The directory (`<name>-<version>`, as DKMS wants it in `/usr/src`).
    pub dir: PathBuf,
    /// DKMS's module name and version.
    pub name: String,
    /// The package version.
    pub version: String,
}

/// The two trees of a crate.
#[derive(Debug, Clone)]
pub struct Trees {
    /// The runtime module's.
    pub runtime: Tree,
    /// The object module's.
    pub object: Tree,
    /// The flag sets the runtime's tree ships, with the kernels each was checked
    /// against.
    pub shipped: Vec<(Codegen, Vec<String>)>,
}

/// Removes the files of `dir` whose names end in `suffix`: what an earlier run
/// wrote and this one may not.
fn remove_stale(dir: &Path, suffix: &str) -> Result<()> {
    if dir.exists() {
        for entry in fs::read_dir(dir)?.flatten() {
            let path = entry.path();
            if path.to_string_lossy().ends_with(suffix) {
                fs::remove_file(&path)?;
            }
        }
    }
    Ok(())
}

/// Writes the DKMS trees of `krate` and of the runtime it depends on into `out`
/// (default: `<target>/bpf-preload/dkms/`), with one Rust object for each distinct
/// flag set of `kernels`.
pub fn trees(
    krate: &Crate,
    kernels: &[KernelTree],
    out: Option<&Path>,
    unloadable: bool,
    verbose: bool,
) -> Result<Trees> {
    ensure!(
        !kernels.is_empty(),
        "a DKMS tree needs at least one kernel's headers to take the code-generation flags from"
    );
    let out = match out {
        Some(out) => out.to_path_buf(),
        None => krate.work_dir().join("dkms"),
    };
    let mut sets: BTreeMap<Codegen, Vec<&KernelTree>> = BTreeMap::new();
    for kernel in kernels {
        module::check_prerequisites(kernel)?;
        sets.entry(kernel.codegen()?).or_default().push(kernel);
    }

    let runtime = Tree {
        dir: out.join(format!("{RUNTIME_PACKAGE}-{}", krate.runtime_version)),
        name: RUNTIME_PACKAGE.into(),
        version: krate.runtime_version.clone(),
    };
    remove_stale(&runtime.dir, ".o_shipped")?;
    let mut shipped = Vec::new();
    for (codegen, kernels) in &sets {
        let rust = module::build_runtime_rust(krate, *codegen, kernels, verbose)?;
        let to = runtime.dir.join(format!("{codegen}.o_shipped"));
        write_if_changed(&to, &fs::read(&rust.path)?)
            .with_context(|| format!("writing {}", to.display()))?;
        shipped.push((
            *codegen,
            kernels.iter().map(|k| k.release.clone()).collect(),
        ));
    }
    let list: Vec<String> = shipped.iter().map(|(c, _)| c.to_string()).collect();
    let list = list.join(", ");
    let version = [("VERSION", runtime.version.as_str())];
    write_if_changed(
        &runtime.dir.join("dkms.conf"),
        fill(RUNTIME_CONF, &version).as_bytes(),
    )?;
    let mut kbuild = fill(RUNTIME_KBUILD_PREFIX, &[version[0], ("SHIPPED", &list)]);
    let sources = KernelSources::of(krate)?;
    kbuild.push_str(&sources.runtime_kbuild);
    write_if_changed(&runtime.dir.join("Kbuild"), kbuild.as_bytes())?;
    for (file, contents) in [
        ("runtime.c", sources.runtime_c.as_str()),
        ("shim.h", &sources.shim_h),
        ("bpf_preload_runtime.h", &sources.runtime_h),
        ("keep-symvers.sh", KEEP_SYMVERS),
    ] {
        write_if_changed(&runtime.dir.join(file), contents.as_bytes())?;
    }
    make_executable(&runtime.dir.join("keep-symvers.sh"))?;

    let name = &krate.preloaded.name;
    let object = Tree {
        dir: out.join(format!("{name}-{}", krate.version)),
        name: name.clone(),
        version: krate.version.clone(),
    };
    let table = module::build_table(krate, verbose)?;
    write_if_changed(&object.dir.join("table-data.o_shipped"), &fs::read(&table)?)?;
    write_if_changed(
        &object.dir.join("kconfig-names"),
        module::kconfig_options(krate)?.as_bytes(),
    )?;
    write_if_changed(
        &object.dir.join("params.h"),
        module::params_header(krate)?.as_bytes(),
    )?;
    let values = [
        ("NAME", name.as_str()),
        ("PACKAGE", krate.package.as_str()),
        ("VERSION", krate.version.as_str()),
        ("RUNTIME_VERSION", runtime.version.as_str()),
        ("UNLOADABLE", if unloadable { "1" } else { "0" }),
    ];
    write_if_changed(
        &object.dir.join("dkms.conf"),
        fill(OBJECT_CONF, &values[..4]).as_bytes(),
    )?;
    let mut kbuild = fill(OBJECT_KBUILD_PREFIX, &values);
    kbuild.push_str(&sources.object_kbuild);
    write_if_changed(&object.dir.join("Kbuild"), kbuild.as_bytes())?;
    for (file, contents) in [
        ("object.c", &sources.object_c),
        ("kconfig.sh", &sources.kconfig_sh),
        ("bpf_preload_runtime.h", &sources.runtime_h),
    ] {
        write_if_changed(&object.dir.join(file), contents.as_bytes())?;
    }
    Ok(Trees {
        runtime,
        object,
        shipped,
    })
}

fn make_executable(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(0o755))
        .with_context(|| format!("making {} executable", path.display()))
}
