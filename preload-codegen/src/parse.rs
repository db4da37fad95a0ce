//! The attribute's arguments: `#[bpf_preload(obj = "x.bpf.o", name = "x", ...)]`.
//! Every mistake is an error on the offending token that says what was expected.

use proc_macro2::Span;
use syn::parse::{Parse, ParseStream};
use syn::{Ident, LitStr, Token};

/// Every option the attribute accepts, for error messages.
pub const OPTIONS: &str =
    "obj = \"...\", name = \"...\", pin_as(NAME = \"...\", ...), no_pin(NAME, ...), \
     no_attach(PROGRAM, ...), no_attach_all, pin_programs, pin_data, \
     max_entries(MAP = N, ...), value_size(MAP = N, ...), autoload(PROGRAM, ...), freeze(MAP, ...), freeze_all, protect, \
     set(VARIABLE = value, ...), params(VARIABLE, ...), \
     attach_target(PROGRAM = \"target\", ...), target_program(PROGRAM = \"/sys/fs/bpf/...\", ...), \
     prog_type(PROGRAM = BPF_PROG_TYPE_..., ...), \
     inner_map(MAP = INNER_MAP | { type = BPF_MAP_TYPE_..., key_size = N, value_size = N, \
     max_entries = N }, ...)";

const OPTION_NAMES: [&str; 20] = [
    "obj",
    "name",
    "pin_as",
    "no_pin",
    "no_attach",
    "no_attach_all",
    "pin_programs",
    "pin_data",
    "max_entries",
    "value_size",
    "autoload",
    "freeze",
    "freeze_all",
    "protect",
    "set",
    "params",
    "attach_target",
    "target_program",
    "prog_type",
    "inner_map",
];

pub struct Args {
    /// Path of the compiled BPF object, relative to the file holding the attribute.
    pub obj: LitStr,
    /// The object's name (bpffs directory, module name); defaults to the file stem.
    pub name: Option<LitStr>,
    /// Pin names replacing the default for a link (keyed by its program) or a map.
    pub pin_as: Vec<(Ident, LitStr)>,
    /// Links or maps not to pin.
    pub no_pin: Vec<Ident>,
    /// Programs to load but not attach.
    pub no_attach: Vec<Ident>,
    /// Load every program and attach none (the object's user-space side attaches).
    pub no_attach_all: Option<Ident>,
    /// Sizes for maps whose object leaves `max_entries` to its loader.
    pub max_entries: Vec<(Ident, syn::LitInt)>,
    /// Value sizes for maps whose object leaves them to its loader (libbpf's
    /// `bpf_map__set_value_size`).
    pub value_size: Vec<(Ident, syn::LitInt)>,
    /// Programs of `?` sections (libbpf: not loaded unless asked for) to load anyway.
    pub autoload: Vec<Ident>,
    /// Also pin every program.
    pub pin_programs: bool,
    /// Also pin the `.data`, `.rodata` and `.bss` maps.
    pub pin_data: bool,
    /// Maps to freeze once the loader has written them.
    pub freeze: Vec<Ident>,
    /// Freeze every map freezing applies to.
    pub freeze_all: Option<Ident>,
    /// Load the runtime's guard with the object.
    pub protect: bool,
    /// Values for global variables (`.rodata`, `.data`, `.bss`), written into the
    /// maps' initial values as a loader sets them through the skeleton before load.
    /// The values are checked against the variables' types by `validate`.
    pub set: Vec<(Ident, syn::Expr)>,
    /// Global variables whose initial values a loader may give as text when it loads
    /// the object: an object module's module parameters.
    pub params: Vec<Ident>,
    /// Attach targets for programs whose section names none (`SEC("lsm")`), as
    /// libbpf's `bpf_program__set_attach_target(prog, 0, "target")` gives them.
    pub attach_target: Vec<(Ident, LitStr)>,
    /// The pinned BPF programs whose functions programs attach to (freplace, fentry,
    /// fexit), as libbpf's `bpf_program__set_attach_target(prog, fd, "function")`
    /// gives them with the fd of a loaded program.
    pub target_program: Vec<(Ident, LitStr)>,
    /// Program types for programs whose section libbpf does not know, as their loader
    /// gives them (`bpf_program__set_type()`, iproute2, tc).
    pub prog_type: Vec<(Ident, Ident)>,
    /// Inner maps of maps of maps whose object leaves them to its loader (no
    /// `__array(values, ...)`), as libbpf's `bpf_map__set_inner_map_fd()` gives them.
    pub inner_map: Vec<(Ident, InnerMap)>,
}

/// The inner map `inner_map(OUTER = ...)` gives a map of maps.
pub enum InnerMap {
    /// Another map of the object, whose definition is the template (`OUTER = MAP`).
    Map(Ident),
    /// A definition: `OUTER = { type = BPF_MAP_TYPE_HASH, key_size = 4, value_size =
    /// 8, max_entries = 64, map_flags = 0 }`; each field with its value.
    Definition {
        brace: Span,
        fields: Vec<(Ident, DefinitionValue)>,
    },
}

/// A field's value in an [`InnerMap::Definition`]: a map type's name or a number.
pub enum DefinitionValue {
    Name(Ident),
    Number(syn::LitInt),
}

impl Args {
    /// The object's name: `name = "..."`, else the object file's name by the rule in
    /// the model's [`names`](bpf_preload_model::names) (checked by
    /// [`validate::object_name`](crate::validate::object_name)).
    pub fn object_name(&self) -> String {
        match &self.name {
            Some(lit) => lit.value(),
            None => bpf_preload_model::names::default_object_name(&self.obj.value()),
        }
    }
}

/// Levenshtein distance, for "did you mean" hints.
pub fn distance(a: &str, b: &str) -> usize {
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

/// The candidate closest to `name`, if it is close enough to be a likely typo or a
/// shortened name (`counts` for `counts_by_pid`).
pub fn closest<'c>(name: &str, candidates: impl IntoIterator<Item = &'c str>) -> Option<&'c str> {
    let candidates: Vec<&str> = candidates.into_iter().collect();
    let containing = candidates
        .iter()
        .filter(|c| name.len() >= 3 && c.contains(name))
        .min_by_key(|c| c.len());
    if let Some(c) = containing {
        return Some(c);
    }
    candidates
        .into_iter()
        .map(|c| (distance(name, c), c))
        .min()
        .filter(|(d, _)| *d <= name.len().max(3) / 2 + 1)
        .map(|(_, c)| c)
}

fn set_once<T>(slot: &mut Option<T>, value: T, key: &Ident) -> syn::Result<()> {
    if slot.is_some() {
        return Err(syn::Error::new(
            key.span(),
            format!(
                "duplicate option `{key}`: it is already given earlier in this attribute; give \
                 each option once"
            ),
        ));
    }
    *slot = Some(value);
    Ok(())
}

/// `= "string"` after `key`.
fn string_value(input: ParseStream, key: &Ident, example: &str) -> syn::Result<LitStr> {
    let usage = format!("`{key}` takes a string: `{key} = \"{example}\"`");
    if !input.peek(Token![=]) {
        return Err(syn::Error::new(key.span(), usage));
    }
    input.parse::<Token![=]>()?;
    if input.peek(LitStr) {
        return input.parse();
    }
    match input.parse::<syn::Expr>() {
        Ok(expr) => Err(syn::Error::new_spanned(
            expr,
            format!(
                "{usage}; the value must be a string literal (the attribute is read before \
                 constants, `concat!` or `env!` exist)"
            ),
        )),
        Err(_) => Err(syn::Error::new(key.span(), usage)),
    }
}

/// The parenthesized list after `key`.
fn list<'a>(
    input: ParseStream<'a>,
    key: &Ident,
    usage: &str,
) -> syn::Result<syn::parse::ParseBuffer<'a>> {
    if !input.peek(syn::token::Paren) {
        return Err(syn::Error::new(
            key.span(),
            format!("`{key}` takes a list in parentheses: `{usage}`"),
        ));
    }
    let content;
    syn::parenthesized!(content in input);
    Ok(content)
}

/// A program or map name inside a list.
fn name_in(input: ParseStream, key: &Ident, usage: &str) -> syn::Result<Ident> {
    if let Ok(lit) = input.fork().parse::<LitStr>() {
        return Err(syn::Error::new(
            lit.span(),
            format!(
                "names in `{key}(...)` are identifiers, without quotes: `{usage}` (write \
                 `rodata` for the `.rodata` map)"
            ),
        ));
    }
    input.parse::<Ident>().map_err(|e| {
        syn::Error::new(
            e.span(),
            format!("expected a program or map name in `{key}(...)`: `{usage}`"),
        )
    })
}

/// `NAME = "string"` inside `pin_as(...)` or `attach_target(...)`; `example` is the
/// string errors show (`"pin"`) and `what` what they call it (`the pin name`).
fn named_string(
    input: ParseStream,
    key: &Ident,
    usage: &str,
    example: &str,
    what: &str,
) -> syn::Result<(Ident, LitStr)> {
    let name = name_in(input, key, usage)?;
    if !input.peek(Token![=]) {
        return Err(syn::Error::new(
            name.span(),
            format!("expected `= \"{example}\"` after `{name}`: `{usage}`"),
        ));
    }
    input.parse::<Token![=]>()?;
    if !input.peek(LitStr) {
        return Err(syn::Error::new(
            input.span(),
            format!("{what} of `{name}` must be a string: `{name} = \"{example}\"`"),
        ));
    }
    Ok((name, input.parse()?))
}

/// `VARIABLE = value` inside `set(...)`. The variable may be named like a Rust
/// keyword (`type`), as C allows; the value is any expression here, checked against
/// the variable's type once the object is read.
fn assignment(input: ParseStream, key: &Ident) -> syn::Result<(Ident, syn::Expr)> {
    const USAGE: &str = "set(VARIABLE = value, ...)";
    if let Ok(lit) = input.fork().parse::<LitStr>() {
        return Err(syn::Error::new(
            lit.span(),
            format!(
                "variables in `{key}(...)` are named without quotes: `{USAGE}` (the variable's \
                 C name, e.g. `target_pid = 1234`)"
            ),
        ));
    }
    let name: Ident = input.call(syn::ext::IdentExt::parse_any).map_err(|e| {
        syn::Error::new(
            e.span(),
            format!("expected a global variable's name in `{key}(...)`: `{USAGE}`"),
        )
    })?;
    if !input.peek(Token![=]) {
        return Err(syn::Error::new(
            name.span(),
            format!("expected `= value` after `{name}`: `{USAGE}`"),
        ));
    }
    input.parse::<Token![=]>()?;
    let value: syn::Expr = input.parse().map_err(|e| {
        syn::Error::new(
            e.span(),
            format!(
                "expected the value of `{name}`: an integer, `true` or `false`, an enumerator's \
                 name, a string, or `[...]` of these"
            ),
        )
    })?;
    Ok((name, value))
}

/// `OUTER = INNER` or `OUTER = { field = value, ... }` inside `inner_map(...)`.
fn inner_map(input: ParseStream, key: &Ident) -> syn::Result<(Ident, InnerMap)> {
    const USAGE: &str = "inner_map(MAP = INNER_MAP, ...) or inner_map(MAP = { type = \
                         BPF_MAP_TYPE_HASH, key_size = 4, value_size = 8, max_entries = 64 })";
    let outer = name_in(input, key, USAGE)?;
    if !input.peek(Token![=]) {
        return Err(syn::Error::new(
            outer.span(),
            format!("expected `= INNER_MAP` or `= {{ ... }}` after `{outer}`: `{USAGE}`"),
        ));
    }
    input.parse::<Token![=]>()?;
    if !input.peek(syn::token::Brace) {
        return Ok((outer, InnerMap::Map(name_in(input, key, USAGE)?)));
    }
    let content;
    let brace = syn::braced!(content in input);
    let fields = comma_separated(&content, |c| {
        let field: Ident = c.call(syn::ext::IdentExt::parse_any)?;
        if !c.peek(Token![=]) {
            return Err(syn::Error::new(
                field.span(),
                format!("expected `= value` after `{field}`: `{USAGE}`"),
            ));
        }
        c.parse::<Token![=]>()?;
        let value = if c.peek(syn::LitInt) {
            DefinitionValue::Number(c.parse()?)
        } else {
            DefinitionValue::Name(c.parse().map_err(|e| {
                syn::Error::new(
                    e.span(),
                    format!("the value of `{field}` is a number, or a map type's name for `type`"),
                )
            })?)
        };
        Ok((field, value))
    })?;
    Ok((
        outer,
        InnerMap::Definition {
            brace: brace.span.join(),
            fields,
        },
    ))
}

/// `a, b, c` until the end of `input`, each parsed by `item`.
fn comma_separated<T>(
    input: ParseStream,
    mut item: impl FnMut(ParseStream) -> syn::Result<T>,
) -> syn::Result<Vec<T>> {
    let mut out = Vec::new();
    while !input.is_empty() {
        out.push(item(input)?);
        if input.is_empty() {
            break;
        }
        if !input.peek(Token![,]) {
            return Err(syn::Error::new(
                input.span(),
                "expected `,` between the entries of the list",
            ));
        }
        input.parse::<Token![,]>()?;
    }
    Ok(out)
}

impl Parse for Args {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let mut obj = None;
        let mut name = None;
        let mut pin_as = None;
        let mut no_pin = None;
        let mut no_attach = None;
        let mut pin_programs = None;
        let mut pin_data = None;
        let mut no_attach_all = None;
        let mut max_entries = None;
        let mut value_size = None;
        let mut prog_type = None;
        let mut autoload = None;
        let mut freeze = None;
        let mut freeze_all = None;
        let mut protect = None;
        let mut set = None;
        let mut params = None;
        let mut attach_target = None;
        let mut target_program = None;
        let mut inner_maps = None;

        while !input.is_empty() {
            if let Ok(lit) = input.fork().parse::<LitStr>() {
                return Err(syn::Error::new(
                    lit.span(),
                    format!(
                        "options are named: write `obj = {}`; valid options: {OPTIONS}",
                        quote::quote!(#lit)
                    ),
                ));
            }
            let key: Ident = input.call(syn::ext::IdentExt::parse_any).map_err(|e| {
                syn::Error::new(
                    e.span(),
                    format!("expected an option; valid options: {OPTIONS}"),
                )
            })?;
            match key.to_string().as_str() {
                "obj" => {
                    let value = string_value(input, &key, "bpf/x.bpf.o")?;
                    set_once(&mut obj, value, &key)?;
                }
                "name" => {
                    let value = string_value(input, &key, "x")?;
                    set_once(&mut name, value, &key)?;
                }
                "pin_as" => {
                    const USAGE: &str = "pin_as(NAME = \"pin\", ...)";
                    let content = list(input, &key, USAGE)?;
                    let renames = comma_separated(&content, |c| {
                        named_string(c, &key, USAGE, "pin", "the pin name")
                    })?;
                    set_once(&mut pin_as, renames, &key)?;
                }
                "attach_target" => {
                    const USAGE: &str = "attach_target(PROGRAM = \"target\", ...)";
                    let content = list(input, &key, USAGE)?;
                    let targets = comma_separated(&content, |c| {
                        named_string(c, &key, USAGE, "target", "the attach target")
                    })?;
                    set_once(&mut attach_target, targets, &key)?;
                }
                "target_program" => {
                    const USAGE: &str = "target_program(PROGRAM = \"/sys/fs/bpf/...\", ...)";
                    let content = list(input, &key, USAGE)?;
                    let pins = comma_separated(&content, |c| {
                        named_string(c, &key, USAGE, "/sys/fs/bpf/...", "the target's pin")
                    })?;
                    set_once(&mut target_program, pins, &key)?;
                }
                "prog_type" => {
                    const USAGE: &str = "prog_type(PROGRAM = BPF_PROG_TYPE_..., ...)";
                    let content = list(input, &key, USAGE)?;
                    let types = comma_separated(&content, |c| {
                        let name = name_in(c, &key, USAGE)?;
                        if !c.peek(Token![=]) {
                            return Err(syn::Error::new(
                                name.span(),
                                format!("expected `= BPF_PROG_TYPE_...` after `{name}`: `{USAGE}`"),
                            ));
                        }
                        c.parse::<Token![=]>()?;
                        let ty: Ident = c.parse().map_err(|e| {
                            syn::Error::new(
                                e.span(),
                                format!(
                                    "the type of `{name}` is a program type's name: `{name} = \
                                     BPF_PROG_TYPE_SCHED_CLS`"
                                ),
                            )
                        })?;
                        Ok((name, ty))
                    })?;
                    set_once(&mut prog_type, types, &key)?;
                }
                "inner_map" => {
                    let content = list(input, &key, "inner_map(MAP = INNER_MAP, ...)")?;
                    let given = comma_separated(&content, |c| inner_map(c, &key))?;
                    set_once(&mut inner_maps, given, &key)?;
                }
                "set" => {
                    let content = list(input, &key, "set(VARIABLE = value, ...)")?;
                    let values = comma_separated(&content, |c| assignment(c, &key))?;
                    set_once(&mut set, values, &key)?;
                }
                "max_entries" => {
                    let sizes = map_sizes(input, &key)?;
                    set_once(&mut max_entries, sizes, &key)?;
                }
                "value_size" => {
                    let sizes = map_sizes(input, &key)?;
                    set_once(&mut value_size, sizes, &key)?;
                }
                "params" => {
                    const USAGE: &str = "params(VARIABLE, ...)";
                    let content = list(input, &key, USAGE)?;
                    let names = comma_separated(&content, |c| {
                        if let Ok(lit) = c.fork().parse::<LitStr>() {
                            return Err(syn::Error::new(
                                lit.span(),
                                format!(
                                    "variables in `params(...)` are named without quotes: \
                                     `{USAGE}`"
                                ),
                            ));
                        }
                        let name: Ident = c.call(syn::ext::IdentExt::parse_any).map_err(|e| {
                            syn::Error::new(
                                e.span(),
                                format!("expected a global variable's name: `{USAGE}`"),
                            )
                        })?;
                        if c.peek(Token![=]) {
                            return Err(syn::Error::new(
                                c.span(),
                                format!(
                                    "`params(...)` names variables, whose values come when the \
                                     object loads (`modprobe NAME {name}=value`); a value at \
                                     compile time is `set({name} = ...)`, which may name the \
                                     same variable"
                                ),
                            ));
                        }
                        Ok(name)
                    })?;
                    set_once(&mut params, names, &key)?;
                }
                "no_pin" | "no_attach" | "autoload" | "freeze" => {
                    let usage = format!("{key}(NAME, ...)");
                    let content = list(input, &key, &usage)?;
                    let names = comma_separated(&content, |c| name_in(c, &key, &usage))?;
                    let slot = match key.to_string().as_str() {
                        "no_pin" => &mut no_pin,
                        "no_attach" => &mut no_attach,
                        "freeze" => &mut freeze,
                        _ => &mut autoload,
                    };
                    set_once(slot, names, &key)?;
                }
                "pin_programs" | "pin_data" | "no_attach_all" | "freeze_all" | "protect" => {
                    if input.peek(Token![=]) || input.peek(syn::token::Paren) {
                        return Err(syn::Error::new(
                            key.span(),
                            format!("`{key}` is a flag and takes no value: write just `{key}`"),
                        ));
                    }
                    match key.to_string().as_str() {
                        "pin_programs" => set_once(&mut pin_programs, true, &key)?,
                        "pin_data" => set_once(&mut pin_data, true, &key)?,
                        "protect" => set_once(&mut protect, true, &key)?,
                        "freeze_all" => set_once(&mut freeze_all, key.clone(), &key)?,
                        _ => set_once(&mut no_attach_all, key.clone(), &key)?,
                    }
                }
                other => {
                    let hint = closest(other, OPTION_NAMES)
                        .map(|c| format!("did you mean `{c}`? "))
                        .unwrap_or_default();
                    return Err(syn::Error::new(
                        key.span(),
                        format!("unknown option `{other}`; {hint}valid options: {OPTIONS}"),
                    ));
                }
            }
            if !input.is_empty() {
                if !input.peek(Token![,]) {
                    return Err(syn::Error::new(
                        input.span(),
                        "expected `,` between options",
                    ));
                }
                input.parse::<Token![,]>()?;
            }
        }

        let obj = obj.ok_or_else(|| {
            syn::Error::new(
                Span::call_site(),
                "missing `obj = \"...\"`: #[bpf_preload] needs the compiled BPF object to \
                 preload, e.g. `#[bpf_preload(obj = \"bpf/x.bpf.o\")]`",
            )
        })?;
        Ok(Args {
            obj,
            name,
            pin_as: pin_as.unwrap_or_default(),
            no_pin: no_pin.unwrap_or_default(),
            no_attach: no_attach.unwrap_or_default(),
            no_attach_all,
            max_entries: max_entries.unwrap_or_default(),
            value_size: value_size.unwrap_or_default(),
            autoload: autoload.unwrap_or_default(),
            pin_programs: pin_programs.unwrap_or(false),
            pin_data: pin_data.unwrap_or(false),
            freeze: freeze.unwrap_or_default(),
            freeze_all,
            protect: protect.unwrap_or(false),
            set: set.unwrap_or_default(),
            params: params.unwrap_or_default(),
            attach_target: attach_target.unwrap_or_default(),
            target_program: target_program.unwrap_or_default(),
            prog_type: prog_type.unwrap_or_default(),
            inner_map: inner_maps.unwrap_or_default(),
        })
    }
}

/// `KEY(MAP = N, ...)` (`max_entries`, `value_size`): each map's name with its size, a
/// 32-bit integer.
fn map_sizes(input: ParseStream<'_>, key: &Ident) -> syn::Result<Vec<(Ident, syn::LitInt)>> {
    let usage = format!("{key}(MAP = N, ...)");
    let content = list(input, key, &usage)?;
    comma_separated(&content, |c| {
        let name = name_in(c, key, &usage)?;
        if !c.peek(Token![=]) {
            return Err(syn::Error::new(
                name.span(),
                format!("expected `= N` after `{name}`: `{usage}`"),
            ));
        }
        c.parse::<Token![=]>()?;
        let n: syn::LitInt = c.parse().map_err(|e| {
            syn::Error::new(
                e.span(),
                format!("the size of `{name}` must be an integer: `{name} = 1024`"),
            )
        })?;
        n.base10_parse::<u32>()
            .map_err(|_| syn::Error::new(n.span(), format!("{key} must fit in 32 bits")))?;
        Ok((name, n))
    })
}
