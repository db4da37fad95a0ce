//! Checks the attribute against the object and decides the plan: the object's name,
//! which links exist, and what is pinned under which name.

use std::collections::HashMap;

use syn::{Ident, LitStr};

use crate::model::{AttachModel, Model};
use crate::parse::Args;

/// Longest module name (`MODULE_NAME_LEN` is 64 - sizeof(long), with the NUL).
const MODULE_NAME_MAX: usize = 55;
/// Longest file name in bpffs (`NAME_MAX`).
const PIN_NAME_MAX: usize = 255;
/// Longest kernel object name, without the NUL.
const OBJ_NAME_MAX: usize = 15;

#[derive(Debug)]
pub struct Plan {
    pub name: String,
    /// Per map: the name given to the kernel.
    pub map_kernel_names: Vec<String>,
    /// Per map: its pin, if any.
    pub map_pins: Vec<Option<String>>,
    /// Per program: its pin, if any.
    pub program_pins: Vec<Option<String>>,
    pub links: Vec<LinkPlan>,
}

#[derive(Debug)]
pub struct LinkPlan {
    pub program: usize,
    pub attach: AttachModel,
    pub pin: Option<String>,
}

/// The name of the object, from `name = "..."` or the object file's stem.
pub fn object_name(args: &Args) -> syn::Result<String> {
    let (name, span) = match &args.name {
        Some(lit) => (lit.value(), lit.span()),
        None => {
            let path = args.obj.value();
            let file = path.rsplit('/').next().unwrap_or(&path).to_string();
            let stem = file.split('.').next().unwrap_or_default().replace('-', "_");
            (stem, args.obj.span())
        }
    };
    let valid = !name.is_empty()
        && name.len() <= MODULE_NAME_MAX
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if !valid {
        return Err(syn::Error::new(
            span,
            format!(
                "object name `{name}` cannot be a kernel module name: use 1 to {MODULE_NAME_MAX} \
                 ASCII letters, digits or `_` (set it with `name = \"...\"`)"
            ),
        ));
    }
    Ok(name)
}

/// libbpf's names for `.data`-like maps: up to 8 bytes of the object's name, then the
/// section name, 15 bytes in all (`counters.rodata`).
fn internal_map_name(object: &str, section: &str) -> String {
    let prefix = &object[..object.len().min(8)];
    let mut name = format!("{prefix}{section}");
    name.truncate(OBJ_NAME_MAX);
    name
}

fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

fn unknown(ident: &Ident, what: &str, candidates: &[&str]) -> syn::Error {
    let name = ident.to_string();
    let closest = candidates
        .iter()
        .min_by_key(|c| distance(&name, c))
        .filter(|c| distance(&name, c) <= name.len().max(3) / 2 + 1);
    let hint = match closest {
        Some(c) => format!("; did you mean `{c}`?"),
        None => format!("; the object has: {}", candidates.join(", ")),
    };
    syn::Error::new(
        ident.span(),
        format!("no {what} named `{name}` in the object{hint}"),
    )
}

fn check_pin_name(name: &str, lit: &LitStr) -> syn::Result<()> {
    let problem = if name.is_empty() {
        "is empty"
    } else if name.contains('/') {
        "contains `/`"
    } else if name == "." || name == ".." {
        "is `.` or `..`"
    } else if name.len() > PIN_NAME_MAX {
        "is longer than 255 bytes"
    } else {
        return Ok(());
    };
    Err(syn::Error::new(
        lit.span(),
        format!("pin name `{name}` {problem}: bpffs cannot hold it"),
    ))
}

/// Map keys accept `rodata` for `.rodata`, since a dot cannot start an identifier.
fn map_index(model: &Model, key: &str) -> Option<usize> {
    model
        .maps
        .iter()
        .position(|m| m.name == key || m.name.strip_prefix('.') == Some(key))
}

pub fn plan(args: &Args, model: &Model) -> syn::Result<Plan> {
    let name = object_name(args)?;
    let program_index = |id: &Ident| model.programs.iter().position(|p| id == &p.name);
    let program_names: Vec<&str> = model.programs.iter().map(|p| p.name.as_str()).collect();
    let pinnable: Vec<&str> = model
        .programs
        .iter()
        .map(|p| p.name.as_str())
        .chain(model.maps.iter().map(|m| m.name.trim_start_matches('.')))
        .collect();

    for id in &args.no_attach {
        program_index(id).ok_or_else(|| unknown(id, "program", &program_names))?;
    }
    // What `pin_as` and `no_pin` name: a link (by its program) or a map.
    let mut renamed: HashMap<String, &LitStr> = HashMap::new();
    for (id, lit) in &args.pin_as {
        if program_index(id).is_none() && map_index(model, &id.to_string()).is_none() {
            return Err(unknown(id, "program or map", &pinnable));
        }
        check_pin_name(&lit.value(), lit)?;
        if renamed.insert(id.to_string(), lit).is_some() {
            return Err(syn::Error::new(
                id.span(),
                format!("`{id}` is renamed twice"),
            ));
        }
    }
    for id in &args.no_pin {
        if program_index(id).is_none() && map_index(model, &id.to_string()).is_none() {
            return Err(unknown(id, "program or map", &pinnable));
        }
    }
    let unpinned = |key: &str| args.no_pin.iter().any(|id| id == key);
    let pin_name = |key: &str, default: String| -> Option<String> {
        if unpinned(key) {
            return None;
        }
        Some(renamed.get(key).map_or(default, |lit| lit.value()))
    };

    let links: Vec<LinkPlan> = model
        .programs
        .iter()
        .enumerate()
        .filter(|(_, p)| !args.no_attach.iter().any(|id| id == &p.name))
        .filter_map(|(i, p)| {
            Some(LinkPlan {
                program: i,
                attach: p.kind.attach.clone()?,
                pin: pin_name(&p.name, p.name.clone()),
            })
        })
        .collect();
    let map_pins: Vec<Option<String>> = model
        .maps
        .iter()
        .map(|m| {
            let key = m.name.trim_start_matches('.');
            let default = key.replace('.', "_");
            let asked = renamed.contains_key(key) || (m.internal && args.pin_data);
            (!m.internal || asked)
                .then(|| pin_name(key, default))
                .flatten()
        })
        .collect();
    let program_pins: Vec<Option<String>> = model
        .programs
        .iter()
        .map(|p| args.pin_programs.then(|| format!("{}_prog", p.name)))
        .collect();

    // Two pins with one name would fail at load time: refuse now.
    let mut seen: HashMap<&str, ()> = HashMap::new();
    let all_pins = links
        .iter()
        .filter_map(|l| l.pin.as_deref())
        .chain(map_pins.iter().flatten().map(String::as_str))
        .chain(program_pins.iter().flatten().map(String::as_str));
    for pin in all_pins {
        if seen.insert(pin, ()).is_some() {
            let span = renamed
                .values()
                .find(|l| l.value() == pin)
                .map_or(args.obj.span(), |l| l.span());
            return Err(syn::Error::new(
                span,
                format!("two objects would be pinned as `{pin}`: rename one with `pin_as(...)`"),
            ));
        }
    }

    let map_kernel_names = model
        .maps
        .iter()
        .map(|m| {
            if m.internal {
                internal_map_name(&name, &m.name)
            } else {
                m.name.chars().take(OBJ_NAME_MAX).collect()
            }
        })
        .collect();
    Ok(Plan {
        name,
        map_kernel_names,
        map_pins,
        program_pins,
        links,
    })
}
