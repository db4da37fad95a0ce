//! Step: the object's BTF.

use crate::backend::Backend;
use crate::errno::Errno;
use crate::error::{Failed, Step};
use crate::loaded::Loaded;
use crate::sys;
use crate::table::Object;

/// `BPF_BTF_LOAD` of the object's BTF, if it has any.
pub(super) fn load<B: Backend>(loaded: &mut Loaded<B::Pin>, backend: &mut B) -> Result<(), Failed> {
    let object = loaded.object();
    if object.btf.is_empty() {
        return Ok(());
    }
    match sys::btf_load(backend, object.btf.as_slice()) {
        Ok(btf) => loaded.btf = Some(btf),
        // A kernel that refuses the BTF itself: as libbpf does, go on without it
        // (maps without BTF types, programs without func_info and line_info),
        // unless CO-RE needs it, which the kernel applies against it.
        Err(Errno::EINVAL) if !needs_btf(object) => {}
        Err(e) => return Err(Step::LoadBtf.failed(e)),
    }
    Ok(())
}

/// Whether the kernel must hold the object's BTF: for CO-RE, which it applies, and
/// for struct_ops maps, which it creates only with the object's BTF.
fn needs_btf(object: &Object) -> bool {
    object.programs.iter().any(|p| !p.core_relos.is_empty())
        || object.maps.iter().any(|m| m.struct_ops.is_some())
}
