//! The global variables of the global-data maps (`.data*`, `.rodata*`, `.bss*`) as a
//! loader sees them before load: what libbpf's skeleton exposes for it to set
//! (`skel->rodata->x = ...`, bpftool's `codegen_datasec_def`), each with its place in
//! the map's value and its C type, read from the section's `DATASEC` in the object's
//! BTF. The attribute's `set(...)` writes values there; this module only describes.

use bpf_preload_uapi::{BTF_INT_BOOL, BTF_INT_SIGNED, BTF_KIND_TYPEDEF, BTF_VAR_GLOBAL_ALLOCATED};

use super::btf::{Btf, Kind, MAX_RESOLVE_DEPTH};
use super::elf::{Elf, Section};

/// One variable of a global-data section.
#[derive(Debug, Clone)]
pub struct GlobalVar {
    pub name: String,
    /// Byte offset in the map's value (the section).
    pub offset: u32,
    /// Size in bytes.
    pub size: u32,
    pub ty: VarType,
    /// Static, or global with hidden visibility (`__hidden`): libbpf makes both static
    /// in the BTF it loads, and the skeleton leaves static variables out, so no loader
    /// sets them.
    pub is_static: bool,
}

/// A variable's type: how C spells it (`__u32`, `pid_t`, `enum mode`, `char[16]`) and
/// what values it takes.
#[derive(Debug, Clone)]
pub struct VarType {
    pub c_name: String,
    pub shape: Shape,
}

#[derive(Debug, Clone)]
pub enum Shape {
    /// An integer of `size` bytes (`char` included).
    Int { size: u32, signed: bool },
    /// `bool` (`_Bool`): one byte, 0 or 1.
    Bool,
    /// An enum of `size` bytes, with its enumerators.
    Enum {
        size: u32,
        signed: bool,
        values: Vec<(String, i128)>,
    },
    /// `len` elements.
    Array { elem: Box<VarType>, len: u32 },
    /// Anything else (a struct, a union, a pointer, a float): `what` it is, as an
    /// error message says it.
    Other { what: &'static str },
}

impl VarType {
    /// Whether a string literal can fill it: an array of one-byte integers (`char`,
    /// `unsigned char`, `__u8`...).
    pub fn is_byte_array(&self) -> bool {
        matches!(&self.shape, Shape::Array { elem, .. } if matches!(elem.shape, Shape::Int { size: 1, .. }))
    }
}

/// The C spelling of `id`, qualifiers left out (`const volatile __u32` is `__u32`),
/// and its shape.
fn var_type(btf: &Btf<'_>, id: u32, depth: usize) -> VarType {
    let other = |what: &'static str, c_name: String| VarType {
        c_name,
        shape: Shape::Other { what },
    };
    if depth > MAX_RESOLVE_DEPTH {
        return other("a type nested too deep", "?".into());
    }
    let Some(ty) = btf.get(id) else {
        return other("a type the BTF lacks", "?".into());
    };
    let name = btf.name(id);
    match &ty.kind {
        Kind::Alias { target } => {
            let inner = var_type(btf, *target, depth + 1);
            // A typedef's name is how the program spells the type; qualifiers and
            // type tags (`const`, `volatile`, ...) change nothing a loader writes.
            if btf.raw_kind(id) == BTF_KIND_TYPEDEF && !name.is_empty() {
                VarType {
                    c_name: name,
                    shape: inner.shape,
                }
            } else {
                inner
            }
        }
        Kind::Int { size, encoding } => {
            let shape = if encoding & BTF_INT_BOOL != 0 {
                Shape::Bool
            } else {
                Shape::Int {
                    size: *size,
                    signed: encoding & BTF_INT_SIGNED != 0,
                }
            };
            VarType {
                c_name: name,
                shape,
            }
        }
        Kind::Enum { size } | Kind::Enum64 { size } => {
            let c_name = if name.is_empty() {
                "an anonymous enum".to_string()
            } else {
                format!("enum {name}")
            };
            let (signed, values) = btf.enumerators(id).unwrap_or_default();
            VarType {
                c_name,
                shape: Shape::Enum {
                    size: *size,
                    signed,
                    values,
                },
            }
        }
        Kind::Array { elem, nelems } => {
            let elem = var_type(btf, *elem, depth + 1);
            // `char[2][8]` is two arrays of eight: the new dimension goes first.
            let c_name = match elem.c_name.find('[') {
                Some(at) => format!("{}[{nelems}]{}", &elem.c_name[..at], &elem.c_name[at..]),
                None => format!("{}[{nelems}]", elem.c_name),
            };
            VarType {
                c_name,
                shape: Shape::Array {
                    elem: Box::new(elem),
                    len: *nelems,
                },
            }
        }
        Kind::Struct { .. } => other("a struct", format!("struct {name}")),
        Kind::Union { .. } => other("a union", format!("union {name}")),
        Kind::Ptr { .. } => other("a pointer", "a pointer".into()),
        Kind::Float { .. } => other("a floating-point number", name),
        _ => other("a type without values", btf.kind_name(id).to_string()),
    }
}

/// The variables of the global-data section `section`, in the order of its `DATASEC`
/// (none without BTF). Where a variable lies is its symbol's value, as libbpf's
/// `btf_fixup_datasec` takes it (clang may leave the `DATASEC`'s offsets 0).
pub fn read(elf: &Elf<'_>, btf: Option<&Btf<'_>>, section: &Section<'_>) -> Vec<GlobalVar> {
    let Some((_, entries)) = btf.and_then(|b| b.datasec(&section.name)) else {
        return Vec::new();
    };
    let Some(btf) = btf else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for e in entries {
        let Some(Kind::Var { target, linkage }) = btf.get(e.target).map(|t| &t.kind) else {
            continue;
        };
        let name = btf.name(e.target);
        let symbol = elf.symbols_in(section.index).find(|s| s.name == name);
        let offset = symbol.map_or(u64::from(e.offset), |s| s.value);
        let Some(size) = btf.size_of(*target) else {
            continue;
        };
        // Only variables that lie inside the section: the model never writes past it.
        let inside = offset
            .checked_add(u64::from(size))
            .is_some_and(|end| end <= section.size);
        let (Ok(offset), true) = (u32::try_from(offset), inside) else {
            continue;
        };
        out.push(GlobalVar {
            name,
            offset,
            size,
            ty: var_type(btf, *target, 0),
            is_static: *linkage != BTF_VAR_GLOBAL_ALLOCATED || symbol.is_some_and(|s| s.hidden),
        });
    }
    out
}
