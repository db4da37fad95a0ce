//! The names an object gives the kernel and bpffs, in one place for the macro (which
//! reports with spans) and the module builder (which names the module's files): the
//! object's own name, which is its module's and its bpffs directory's, and its pins'.

/// Longest module name (`MODULE_NAME_LEN` is 64 - sizeof(long), with the NUL).
pub const MODULE_NAME_MAX: usize = 55;
/// Longest file name in bpffs (`NAME_MAX`).
pub const PIN_NAME_MAX: usize = 255;
/// Objects every module already holds (`shim.o`, `rust.o`): a module of the same name
/// would make Kbuild build its own object from itself.
pub const RESERVED_MODULE_NAMES: [&str; 2] = ["shim", "rust"];

/// The object's name when the attribute gives none: the object file's name up to its
/// first `.`, with `-` as `_` (as Kbuild names modules, `KBUILD_MODNAME`).
pub fn default_object_name(obj: &str) -> String {
    let file = obj.rsplit('/').next().unwrap_or(obj);
    file.split('.').next().unwrap_or_default().replace('-', "_")
}

/// Why `name` cannot name an object (its module and its bpffs directory), if it cannot.
pub fn object_name_problem(name: &str) -> Option<String> {
    let valid = !name.is_empty()
        && name.len() <= MODULE_NAME_MAX
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if !valid {
        return Some(format!(
            "use 1 to {MODULE_NAME_MAX} ASCII letters, digits or `_`, e.g. `name = \"my_object\"`"
        ));
    }
    if RESERVED_MODULE_NAMES.contains(&name) {
        return Some(format!(
            "every module already holds an object named `{name}.o` (the generic C shim and \
             the Rust code), so `make` would fail; choose another, e.g. `name = \"my_{name}\"`"
        ));
    }
    None
}

/// Why bpffs cannot hold a pin of this name, if it cannot.
pub fn pin_name_problem(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        Some("is empty")
    } else if name.contains('/') {
        Some("contains `/`, and pins live directly in the object's bpffs directory")
    } else if name.contains('\0') {
        Some("contains a NUL byte")
    } else if name == "." || name == ".." {
        Some("is `.` or `..`")
    } else if name.len() > PIN_NAME_MAX {
        Some("is longer than 255 bytes (NAME_MAX)")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_stem_names_the_object_as_kbuild_names_modules() {
        assert_eq!(default_object_name("bpf/my-guard.bpf.o"), "my_guard");
        assert_eq!(default_object_name("iterators.bpf.o"), "iterators");
    }

    #[test]
    fn module_names_kbuild_cannot_build_are_refused() {
        assert_eq!(object_name_problem("iterators"), None);
        for bad in ["", "my-guard", "shim", "rust", &"x".repeat(56)] {
            assert!(object_name_problem(bad).is_some(), "{bad:?}");
        }
    }
}
