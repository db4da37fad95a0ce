//! Values given to an object's parameters (`params(...)`) when it is loaded: an object
//! module's module parameters (`modprobe NAME VARIABLE=value`, `/etc/modprobe.d/`,
//! `NAME.VARIABLE=value` on the kernel command line), or a user-space loader's. Each
//! is checked against its variable's type by the rules `set(...)` follows
//! ([`bpf_preload_uapi::values`]) and written into a copy of its map's initial value,
//! which the loader writes before any program loads (and then freezes, for
//! `.rodata`). Nothing is loaded until every value is accepted.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use bpf_preload_uapi::values::{write_text, TextError, TextKind};

use crate::table::{Object, Param};

/// The parameters given for one load of an object: per map, its initial value with
/// the given values written in, where one was given.
pub struct Params {
    object: &'static Object,
    values: Vec<Option<Vec<u8>>>,
}

/// A value the object refuses. It borrows what it names, so that refusing a value
/// allocates nothing (a module's refusal must not fail for want of memory).
#[derive(Debug)]
pub struct ParamError<'a> {
    /// The parameter's name, as given.
    pub name: &'a str,
    /// The value, as given.
    pub value: &'a str,
    /// Why.
    pub reason: ParamProblem,
}

/// Why a parameter's value is refused.
#[derive(Debug)]
pub enum ParamProblem {
    /// The object has no parameter of that name; it has these.
    Unknown(&'static Object),
    /// The value does not fit the variable's type.
    Value {
        /// The parameter, its variable's type and an enum's enumerators.
        param: &'static Param,
        /// What is wrong with the value.
        error: TextError,
    },
    /// No memory for the map's value.
    OutOfMemory,
}

/// `items` joined by `, `.
struct Joined<I>(I);

impl<I: Clone + Iterator<Item = &'static str>> fmt::Display for Joined<I> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, item) in self.0.clone().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            f.write_str(item)?;
        }
        Ok(())
    }
}

impl fmt::Display for ParamError<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (name, value) = (self.name, self.value);
        write!(f, "parameter {name}: ")?;
        match &self.reason {
            ParamProblem::Unknown(object) if object.params.is_empty() => {
                write!(f, "no such parameter: the object has none")
            }
            ParamProblem::Unknown(object) => write!(
                f,
                "no such parameter; the object has: {}",
                Joined(object.params.iter().map(|p| p.name.as_str()))
            ),
            ParamProblem::Value { param, error } => {
                write!(f, "`{value}` does not fit `{}`: ", param.c_type.as_str())?;
                match (param.kind, error) {
                    (TextKind::Enum { .. }, TextError::NotAnInteger) => write!(
                        f,
                        "neither one of its enumerators ({}) nor an integer",
                        Joined(param.enumerators.iter().map(|e| e.name.as_str()))
                    ),
                    _ => write!(f, "{error}"),
                }
            }
            ParamProblem::OutOfMemory => write!(f, "out of memory"),
        }
    }
}

impl Params {
    /// No value given: every variable keeps the table's.
    pub fn new(object: &'static Object) -> Self {
        Params {
            object,
            values: Vec::new(),
        }
    }

    /// The object these are for.
    pub fn object(&self) -> &'static Object {
        self.object
    }

    /// Gives the parameter `name` the value `text`, checked against its variable's
    /// type. A later value of the same parameter replaces an earlier one.
    pub fn set<'a>(&mut self, name: &'a str, text: &'a str) -> Result<(), ParamError<'a>> {
        let error = |reason| ParamError {
            name,
            value: text,
            reason,
        };
        let object = self.object;
        let Some(param) = object.params.iter().find(|p| p.name.as_str() == name) else {
            return Err(error(ParamProblem::Unknown(object)));
        };
        let slot = self.slot(param).ok_or(error(ParamProblem::OutOfMemory))?;
        write_text(text, param.kind, param.enumerator_values(), slot)
            .map_err(|e| error(ParamProblem::Value { param, error: e }))
    }

    /// The bytes of `param`'s variable in its map's value, a copy of the table's made
    /// on first use; `None` without memory for it.
    fn slot(&mut self, param: &Param) -> Option<&mut [u8]> {
        let object = self.object;
        let map = object.maps.get(param.map)?;
        if self.values.len() < object.maps.len() {
            self.values.try_reserve_exact(object.maps.len()).ok()?;
            self.values.resize_with(object.maps.len(), || None);
        }
        let value = match self.values.get_mut(param.map)? {
            Some(value) => value,
            empty => {
                let size = map.value_size as usize;
                let mut value = Vec::new();
                value.try_reserve_exact(size).ok()?;
                match map.initial_value {
                    Some(initial) if initial.len() == size => value.extend_from_slice(initial),
                    _ => value.resize(size, 0),
                }
                empty.insert(value)
            }
        };
        let start = param.offset as usize;
        value.get_mut(start..start.checked_add(param.size as usize)?)
    }

    /// The initial value of map `map` with the given values written in, if any was
    /// given for one of its variables.
    pub(crate) fn initial_value(&self, map: usize) -> Option<&[u8]> {
        self.values.get(map)?.as_deref()
    }
}

/// `params.h` for an object module's `object.c`: `BPF_PRELOAD_PARAMS(X)` calls
/// `X(name, default, description)` for each parameter of `object`, in the table's
/// order, which is the order `object.c` hands the values to the runtime in. The
/// default is the table's value as text that gives it back (what
/// `/sys/module/NAME/parameters/NAME` shows until a value is given), or `NULL` where
/// no text does (a char array without a NUL).
pub fn params_header(object: &Object) -> String {
    use bpf_preload_uapi::values::show_text;
    use core::fmt::Write;

    let mut out = String::new();
    let _ = writeln!(
        out,
        "/* Generated by `cargo bpf-preload` from the table of `{}`: its params(...). */",
        object.name
    );
    out.push_str("#define BPF_PRELOAD_PARAMS(X)");
    for p in &object.params {
        let Some(map) = object.maps.get(p.map) else {
            continue;
        };
        let start = p.offset as usize;
        let end = start + p.size as usize;
        let zeros = alloc::vec![0u8; p.size as usize];
        let bytes = match map.initial_value {
            Some(v) => v.get(start..end).unwrap_or(&zeros),
            None => &zeros,
        };
        let mut text = String::new();
        let default = match show_text(bytes, p.kind, p.enumerator_values(), &mut text) {
            Ok(true) => c_string(&text),
            _ => "NULL".into(),
        };
        let mut what = alloc::format!("{} of {}", p.c_type.as_str(), map.name.as_str());
        if matches!(p.kind, TextKind::Enum { .. }) {
            let names: Vec<&str> = p.enumerator_values().map(|(n, _)| n).collect();
            let _ = write!(what, ": {} or an integer", names.join(", "));
        }
        let _ = write!(
            out,
            " \\\n\tX({}, {default}, {})",
            p.name.as_str(),
            c_string(&what)
        );
    }
    out.push('\n');
    out
}

/// `text` as a C string literal.
fn c_string(text: &str) -> String {
    use core::fmt::Write;

    let mut out = String::from("\"");
    for b in text.bytes() {
        match b {
            b'"' | b'\\' => {
                out.push('\\');
                out.push(char::from(b));
            }
            // `?` too: no trigraphs.
            b' '..=b'~' if b != b'?' => out.push(char::from(b)),
            _ => {
                let _ = write!(out, "\\{b:03o}");
            }
        }
    }
    out.push('"');
    out
}
