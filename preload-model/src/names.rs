//! The names an object gives the kernel and bpffs, in one place for the macro (which
//! reports with spans) and the module builder (which names the module's files): the
//! object's own name, which is its module's and its bpffs directory's, its pins', and
//! the names its maps are given in the kernel.

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

/// Longest kernel object name (maps, programs), without the NUL.
pub const OBJ_NAME_MAX: usize = bpf_preload_uapi::BPF_OBJ_NAME_LEN - 1;

/// libbpf's `internal_map_name`: as much of the object's name as fits before the
/// section name (which gets at least 7 bytes), 15 bytes in all (`counters.rodata`,
/// `my_obje.kconfig`); a custom `.data.x`/`.rodata.x` section keeps its own name
/// only. Every byte the kernel refuses in a name becomes `_`.
pub fn internal_map_name(object: &str, section: &str) -> String {
    let suffix_len = section.len().clamp(7, OBJ_NAME_MAX);
    let prefix_len = if section.get(1..).is_some_and(|s| s.contains('.')) {
        0
    } else {
        (OBJ_NAME_MAX - suffix_len).min(object.len())
    };
    let suffix = &section[..section.len().min(suffix_len)];
    kernel_name(&format!("{}{suffix}", &object[..prefix_len]))
}

/// A name the kernel accepts: letters, digits, `_` and `.`, at most 15 bytes.
pub fn kernel_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .take(OBJ_NAME_MAX)
        .collect()
}

/// The name of a map's inner map (a map of maps' template) given to the kernel.
pub fn inner_map_kernel_name(outer_kernel_name: &str) -> String {
    format!("{outer_kernel_name}.inner")
}

/// A map's pin when the attribute renames it not: its name without the leading `.`
/// of a global-data section (the caller strips it), with every other `.` as `_`.
pub fn default_map_pin_name(key: &str) -> String {
    key.replace('.', "_")
}

/// A program's pin under `pin_programs`.
pub fn program_pin_name(program: &str) -> String {
    format!("{program}_prog")
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
