//! `set(VARIABLE = value, ...)`: the values a loader gives global variables before
//! load, as libbpf's skeleton does (`skel->rodata->target_pid = 1234`, then
//! `bpf_object__load`), checked against each variable's type in the object's BTF and
//! written into the initial value of its map (`.rodata*`, `.data*`, `.bss*`). The
//! runtime writes that value into the map before any program loads, and freezes
//! `.rodata` afterwards, as libbpf's `bpf_object__populate_internal_map` does.

use bpf_preload_uapi::values::{put_int, IntRange, TextKind};
use syn::{Expr, Ident, Lit};

use crate::model::globals::{GlobalVar, Shape, VarType};
use crate::model::Model;
use crate::parse::{closest, Args};

/// Each map's initial value once the attribute's `set(...)` is applied (`None` for a
/// value of zeros, which the kernel gives a new array anyway), or every mistake.
pub fn initial_values(args: &Args, model: &Model) -> syn::Result<Vec<Option<Vec<u8>>>> {
    let mut values: Vec<Option<Vec<u8>>> =
        model.maps.iter().map(|m| m.initial_value.clone()).collect();
    if args.set.is_empty() {
        return Ok(values);
    }
    let mut errors: Option<syn::Error> = None;
    let mut push = |e: syn::Error| match &mut errors {
        Some(all) => all.combine(e),
        None => errors = Some(e),
    };
    let mut seen: Vec<String> = Vec::new();
    for (name, value) in &args.set {
        let key = name.to_string();
        let key = key.strip_prefix("r#").unwrap_or(&key).to_string();
        if seen.contains(&key) {
            push(syn::Error::new(
                name.span(),
                format!("`{key}` is set twice in `set(...)`"),
            ));
            continue;
        }
        seen.push(key.clone());
        let (map, var) = match find(model, &key, name, "set") {
            Ok(found) => found,
            Err(e) => {
                push(e);
                continue;
            }
        };
        let m = &model.maps[map];
        let bytes = values[map].get_or_insert_with(|| vec![0; m.value_size as usize]);
        let (start, end) = (var.offset as usize, (var.offset + var.size) as usize);
        let Some(slot) = bytes.get_mut(start..end) else {
            // `globals::read` keeps only variables inside their section.
            continue;
        };
        // The variable's whole value is replaced, as a C initializer replaces it:
        // what a string or an array leaves out is zero.
        slot.fill(0);
        if let Err(e) = write(value, &var.ty, &key, slot) {
            push(e);
        }
    }
    if let Some(e) = errors {
        return Err(e);
    }
    for value in &mut values {
        if value.as_ref().is_some_and(|v| v.iter().all(|&b| b == 0)) {
            *value = None;
        }
    }
    Ok(values)
}

/// A variable of `params(...)`: where it is and what text values it takes.
#[derive(Debug)]
pub struct ParamPlan {
    pub name: String,
    pub c_type: String,
    pub map: usize,
    pub offset: u32,
    pub size: u32,
    pub kind: TextKind,
    pub enumerators: Vec<(String, i128)>,
}

/// `params(VARIABLE, ...)`: each variable found as `set(...)` finds it, and of a type
/// whose value text gives (an integer, a `bool`, an enum, a char array), or every
/// mistake.
pub fn params(args: &Args, model: &Model) -> syn::Result<Vec<ParamPlan>> {
    let mut errors: Option<syn::Error> = None;
    let mut push = |e: syn::Error| match &mut errors {
        Some(all) => all.combine(e),
        None => errors = Some(e),
    };
    let mut out: Vec<ParamPlan> = Vec::new();
    for name in &args.params {
        let key = name.to_string();
        let key = key.strip_prefix("r#").unwrap_or(&key).to_string();
        if out.iter().any(|p| p.name == key) {
            push(syn::Error::new(
                name.span(),
                format!("`{key}` is named twice in `params(...)`"),
            ));
            continue;
        }
        let (map, var) = match find(model, &key, name, "params") {
            Ok(found) => found,
            Err(e) => {
                push(e);
                continue;
            }
        };
        let (kind, enumerators) = match &var.ty.shape {
            Shape::Int { size, signed } if IntRange::new(*size, *signed).is_some() => {
                (TextKind::Int { signed: *signed }, Vec::new())
            }
            Shape::Bool => (TextKind::Bool, Vec::new()),
            Shape::Enum {
                size,
                signed,
                values,
            } if IntRange::new(*size, *signed).is_some() => {
                (TextKind::Enum { signed: *signed }, values.clone())
            }
            _ if var.ty.is_byte_array() => (TextKind::Chars, Vec::new()),
            shape => {
                let what = match shape {
                    Shape::Other { what } => what,
                    Shape::Array { .. } => "an array of other than bytes",
                    _ => "an integer of a size no C integer has",
                };
                push(syn::Error::new(
                    name.span(),
                    format!(
                        "`{key}` is `{}`, {what}: a parameter's value is text, which gives \
                         integers, bools, enums and char arrays (`set(...)` gives it a value \
                         at compile time)",
                        var.ty.c_name
                    ),
                ));
                continue;
            }
        };
        out.push(ParamPlan {
            name: key,
            c_type: var.ty.c_name.clone(),
            map,
            offset: var.offset,
            size: var.size,
            kind,
            enumerators,
        });
    }
    errors.map_or(Ok(out), Err)
}

/// The map and variable `key` names, or why the loader cannot set it.
fn find<'m>(
    model: &'m Model,
    key: &str,
    name: &Ident,
    option: &str,
) -> syn::Result<(usize, &'m GlobalVar)> {
    let error = |message: String| Err(syn::Error::new(name.span(), message));
    let takes = match option {
        "set" => "`set(...)` sets",
        _ => "`params(...)` takes",
    };
    let globals = || {
        model
            .maps
            .iter()
            .enumerate()
            .flat_map(|(i, m)| m.globals.iter().map(move |v| (i, v)))
    };
    if let Some(found) = globals().find(|(_, v)| v.name == key && !v.is_static) {
        return Ok(found);
    }
    if let Some((i, _)) = globals().find(|(_, v)| v.name == key) {
        return error(format!(
            "`{key}` is a static variable of `{}`: libbpf's skeleton leaves static (and \
             `__hidden`) variables out, so no loader sets them; declare it without `static` \
             to set it here",
            model.maps[i].name
        ));
    }
    if model
        .maps
        .iter()
        .flat_map(|m| &m.kconfig)
        .any(|v| v.name == key)
    {
        return error(format!(
            "`{key}` is a `__kconfig` extern: the loader fills it from the running kernel's \
             configuration when it loads the object, so it cannot be set"
        ));
    }
    if model.externs.iter().any(|e| e.name == key) {
        return error(format!(
            "`{key}` is a `__ksym` extern: it is resolved in the running kernel when the object \
             loads, so it cannot be set"
        ));
    }
    if let Some(m) = model.maps.iter().find(|m| !m.internal && m.name == key) {
        return error(format!(
            "`{}` is a map, not a global variable: {takes} variables of \
             `.rodata`, `.data` and `.bss`",
            m.name
        ));
    }
    if model.programs.iter().any(|p| p.name == key) {
        return error(format!(
            "`{key}` is a program, not a global variable: {takes} variables of \
             `.rodata`, `.data` and `.bss`"
        ));
    }
    if model.btf.is_empty() {
        return error(format!(
            "the object has no BTF, which names its global variables and gives their types: \
             compile it with `-g` to set `{key}`"
        ));
    }
    let names: Vec<&str> = globals()
        .filter(|(_, v)| !v.is_static)
        .map(|(_, v)| v.name.as_str())
        .collect();
    let hint = match closest(key, names.iter().copied()) {
        Some(c) => format!("; did you mean `{c}`?"),
        None if names.is_empty() => "; the object has none a loader can set".to_string(),
        None => format!("; the object has: {}", names.join(", ")),
    };
    error(format!(
        "no global variable named `{key}` in the object's `.rodata`, `.data` or `.bss`{hint}"
    ))
}

/// What `ty` takes, for error messages.
fn expected(ty: &VarType) -> String {
    match &ty.shape {
        Shape::Int { .. } => "an integer".into(),
        Shape::Bool => "`true` or `false`".into(),
        Shape::Enum { values, .. } => {
            let names: Vec<String> = values.iter().map(|(n, _)| format!("`{n}`")).collect();
            if names.is_empty() {
                "an integer".into()
            } else {
                format!(
                    "one of its enumerators ({}) or an integer",
                    names.join(", ")
                )
            }
        }
        Shape::Array { len, .. } if ty.is_byte_array() => {
            format!(
                "a string of at most {} bytes, or `[...]` of {len} integers",
                len.saturating_sub(1)
            )
        }
        Shape::Array { len, .. } => format!("`[...]` of at most {len} values"),
        Shape::Other { what } => format!("nothing: it is {what}"),
    }
}

/// What the expression is, for error messages.
fn found(value: &Expr) -> &'static str {
    match value {
        Expr::Lit(lit) => match &lit.lit {
            Lit::Str(_) => "a string",
            Lit::ByteStr(_) | Lit::CStr(_) => "a byte string",
            Lit::Int(_) => "an integer",
            Lit::Float(_) => "a floating-point number",
            Lit::Bool(_) => "a bool",
            Lit::Char(_) | Lit::Byte(_) => "a character",
            _ => "a literal",
        },
        Expr::Unary(_) => "an integer",
        Expr::Path(_) => "a name",
        Expr::Array(_) => "a list `[...]`",
        _ => "an expression",
    }
}

fn mismatch(value: &Expr, ty: &VarType, path: &str) -> syn::Error {
    syn::Error::new_spanned(
        value,
        format!(
            "`{path}` is `{}`: expected {}, not {}",
            ty.c_name,
            expected(ty),
            found(value)
        ),
    )
}

/// An integer literal, possibly negated: its sign and magnitude, or `None` if `value`
/// is no integer.
fn integer(value: &Expr) -> Option<syn::Result<(bool, u128)>> {
    let (negative, lit) = match value {
        Expr::Lit(syn::ExprLit {
            lit: Lit::Int(lit), ..
        }) => (false, lit),
        Expr::Unary(syn::ExprUnary {
            op: syn::UnOp::Neg(_),
            expr,
            ..
        }) => match &**expr {
            Expr::Lit(syn::ExprLit {
                lit: Lit::Int(lit), ..
            }) => (true, lit),
            _ => return None,
        },
        Expr::Lit(syn::ExprLit {
            lit: Lit::Char(c), ..
        }) if c.value().is_ascii() => return Some(Ok((false, u128::from(c.value() as u8)))),
        Expr::Lit(syn::ExprLit {
            lit: Lit::Byte(b), ..
        }) => return Some(Ok((false, u128::from(b.value())))),
        _ => return None,
    };
    if !lit.suffix().is_empty() {
        return Some(Err(syn::Error::new(
            lit.span(),
            format!(
                "drop the suffix `{}`: the variable's type in the object decides the integer's \
                 size",
                lit.suffix()
            ),
        )));
    }
    Some(
        lit.base10_parse::<u128>()
            .map(|m| (negative, m))
            .map_err(|_| {
                syn::Error::new(lit.span(), "this integer is larger than any C integer type")
            }),
    )
}

/// Checks `value` against `ty` and writes it into `out` (the variable's bytes, or an
/// element's, zeroed). `path` names what is written (`ports[1]`).
fn write(value: &Expr, ty: &VarType, path: &str, out: &mut [u8]) -> syn::Result<()> {
    match &ty.shape {
        Shape::Other { what } => Err(syn::Error::new_spanned(
            value,
            format!(
                "`{path}` is `{}`, {what}: `set(...)` gives integers, bools, enums, char arrays \
                 and arrays of these, as literals",
                ty.c_name
            ),
        )),
        Shape::Bool => match value {
            Expr::Lit(syn::ExprLit {
                lit: Lit::Bool(b), ..
            }) => {
                out[0] = u8::from(b.value);
                Ok(())
            }
            _ => Err(mismatch(value, ty, path)),
        },
        Shape::Int { size, signed } => {
            let (negative, magnitude) = match integer(value) {
                Some(parsed) => parsed?,
                None if matches!(value, Expr::Path(_)) => {
                    return Err(syn::Error::new_spanned(
                        value,
                        format!(
                            "`{path}` is `{}`, an integer: write a number (the attribute is \
                             read before C's macros and constants, and only an enum variable \
                             takes an enumerator's name)",
                            ty.c_name
                        ),
                    ))
                }
                None => return Err(mismatch(value, ty, path)),
            };
            int_in(
                value,
                ty,
                path,
                (*size, *signed),
                (negative, magnitude),
                out,
            )
        }
        Shape::Enum {
            size,
            signed,
            values,
        } => {
            if let Expr::Path(p) = value
                && let Some(id) = p.path.get_ident()
            {
                let name = id.to_string();
                let Some((_, v)) = values.iter().find(|(n, _)| *n == name) else {
                    let names = values.iter().map(|(n, _)| n.as_str());
                    let hint = match closest(&name, names) {
                        Some(c) => format!("did you mean `{c}`? "),
                        None => String::new(),
                    };
                    return Err(syn::Error::new(
                        id.span(),
                        format!(
                            "`{name}` is not an enumerator of `{}` (the type of `{path}`); \
                             {hint}expected {}",
                            ty.c_name,
                            expected(ty)
                        ),
                    ));
                };
                let enumerator = (*v < 0, v.unsigned_abs());
                return int_in(value, ty, path, (*size, *signed), enumerator, out);
            }
            // An integer, as C lets an enum variable hold any value of its type.
            match integer(value) {
                Some(parsed) => {
                    let (negative, magnitude) = parsed?;
                    int_in(
                        value,
                        ty,
                        path,
                        (*size, *signed),
                        (negative, magnitude),
                        out,
                    )
                }
                None => Err(mismatch(value, ty, path)),
            }
        }
        Shape::Array { elem, len } => {
            let len = *len as usize;
            let elem_size = out.len().checked_div(len).unwrap_or(0);
            if ty.is_byte_array()
                && let Expr::Lit(syn::ExprLit { lit, .. }) = value
            {
                let (bytes, room) = match lit {
                    // A C string: its terminating NUL must fit, as `char comm[16] =
                    // "..."` is read with string functions.
                    Lit::Str(s) => (s.value().into_bytes(), len.saturating_sub(1)),
                    // Bytes as written, no NUL.
                    Lit::ByteStr(s) => (s.value(), len),
                    _ => return Err(mismatch(value, ty, path)),
                };
                if bytes.len() > room {
                    let nul = if matches!(lit, Lit::Str(_)) {
                        format!(
                            " and its terminating NUL do not fit: at most {room} bytes (a byte \
                             string `b\"...\"` of up to {len} bytes is written without a NUL)"
                        )
                    } else {
                        format!(" do not fit: at most {len} bytes")
                    };
                    return Err(syn::Error::new(
                        lit.span(),
                        format!(
                            "`{path}` is `{}`: the string's {} bytes{nul}",
                            ty.c_name,
                            bytes.len()
                        ),
                    ));
                }
                out[..bytes.len()].copy_from_slice(&bytes);
                return Ok(());
            }
            let Expr::Array(array) = value else {
                return Err(mismatch(value, ty, path));
            };
            if array.elems.len() > len {
                return Err(syn::Error::new_spanned(
                    array,
                    format!(
                        "`{path}` is `{}`: {} values do not fit, it holds {len} (fewer leave the \
                         rest 0, as a C initializer does)",
                        ty.c_name,
                        array.elems.len()
                    ),
                ));
            }
            let mut errors: Option<syn::Error> = None;
            for (i, v) in array.elems.iter().enumerate() {
                let at = i * elem_size;
                let result = write(
                    v,
                    elem,
                    &format!("{path}[{i}]"),
                    &mut out[at..at + elem_size],
                );
                if let Err(e) = result {
                    match &mut errors {
                        Some(all) => all.combine(e),
                        None => errors = Some(e),
                    }
                }
            }
            errors.map_or(Ok(()), Err)
        }
    }
}

/// Writes the integer `(negative, magnitude)` into `out` if an integer of `size`
/// bytes and sign `signed` holds it.
fn int_in(
    value: &Expr,
    ty: &VarType,
    path: &str,
    (size, signed): (u32, bool),
    (negative, magnitude): (bool, u128),
    out: &mut [u8],
) -> syn::Result<()> {
    let Some(range) = IntRange::new(size, signed) else {
        return Err(syn::Error::new_spanned(
            value,
            format!(
                "`{path}` is `{}`, an integer of {size} bytes, which `set(...)` does not write",
                ty.c_name
            ),
        ));
    };
    if !range.contains(negative, magnitude) {
        let shown = if negative {
            format!("-{magnitude}")
        } else {
            magnitude.to_string()
        };
        return Err(syn::Error::new_spanned(
            value,
            format!(
                "{shown} is out of range for `{path}`, of type `{}` ({} {}-bit): it holds \
                 {range}",
                ty.c_name,
                if signed { "signed" } else { "unsigned" },
                size * 8
            ),
        ));
    }
    put_int(out, negative, magnitude);
    Ok(())
}
